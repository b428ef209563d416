/*
 * The dump's text, in a writer child (job_write_child.c): the header,
 * every live entry of the cache as the child was born with it, the end
 * line.  Each entry is counted once it is out whole.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "roles/server/dump.h"
#include "roles/server/job_child.h"
#include "roles/server/server.h"

#define DUMP_ENTRY_ROOM	(320 * 1024)	/* the text of the largest entry fits */

struct dump_run {
	struct job_writer *w;
	uint64_t now;
};

static int
dump_entry(const struct cache_entry *e, void *arg)
{
	struct dump_run *d = arg;
	size_t cap;
	char *p;
	int n;

	if (!(p = job_writer_room(d->w, DUMP_ENTRY_ROOM, &cap)))
		return 1;
	n = dump_format_entry(e, d->now, p, cap);
	if (n == -ENOSPC) {	/* an entry too big for what is left: flush, retry */
		if (!(p = job_writer_room(d->w, JOB_WRITER_BUF, &cap)))
			return 1;
		n = dump_format_entry(e, d->now, p, cap);
	}
	if (n < 0)
		return 0;	/* cannot be shown; the rest still can */
	job_writer_commit(d->w, (size_t)n, 1);
	return 0;
}

static int
count_entry(const struct cache_entry *e, void *arg)
{
	(void)e;
	(*(size_t *)arg)++;
	return 0;
}

int
job_dump_produce(const struct server *s, struct job_writer *w)
{
	struct dump_run d = { .w = w, .now = s->clock.s };
	size_t total = 0, cap;
	char *p;
	int n;

	cache_foreach(s->cache, d.now, count_entry, &total);
	if (!(p = job_writer_room(w, JOB_WRITER_BUF, &cap)))
		return 1;
	if ((n = dump_format_header(time(NULL), total, p, cap)) > 0)
		job_writer_commit(w, (size_t)n, 0);
	cache_foreach(s->cache, d.now, dump_entry, &d);
	if (!(p = job_writer_room(w, 6, &cap)))	/* NULL: the writing failed */
		return 1;
	memcpy(p, "; end\n", 6);
	job_writer_commit(w, 6, 0);
	return 0;
}
