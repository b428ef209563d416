/*
 * Load jobs, the loop's side: a child parses the dump text (it came from
 * an operator's file, so it is parsed away from the loop) and sends each
 * entry; each is checked again here before it goes into the cache.
 */
#include <errno.h>

#include "common/jobmsg.h"
#include "roles/server/control.h"
#include "roles/server/dump.h"
#include "roles/server/job.h"
#include "roles/server/job_child.h"

/* Take one parsed entry: checked again, as anything read from a file is. */
static void
load_insert(struct server *s, struct job *j, const struct jobmsg *m)
{
	static struct dump_load l;
	uint32_t ttl = m->u.entry.ttl;

	/* --max-ttl: the file says what it likes, no record leaves us above it */
	if (dump_load_answer(m->u.entry.tmpl, m->u.entry.tlen, m->u.entry.negative,
	    s->cfg.max_ttl, &l) < 0)
		return;
	if (ttl > s->cfg.max_ttl)
		ttl = s->cfg.max_ttl;
	if (cache_insert(s->cache, &l.key, &l.answer, ttl, s->clock.s) == 0 && ttl > 0)
		j->done++;
}

static int
load_record(struct server *s, struct job *j, struct ctl_conn *c, const struct jobmsg *m)
{
	switch (m->type) {
	case JOBMSG_ENTRY:
		load_insert(s, j, m);
		return 0;
	case JOBMSG_LOADED:
		ctl_reply(c, 0, j->done,
		    "loaded %llu entries (%llu expired, %llu malformed lines skipped)",
		    (unsigned long long)j->done, (unsigned long long)m->u.loaded.expired,
		    (unsigned long long)m->u.loaded.malformed);
		return 1;
	default:
		return -EPROTO;
	}
}

static const struct job_ops load_ops = {
	"load", "load-cache", 0, job_load_child, load_record,
};

void
job_load_start(struct server *s, struct ctl_conn *c, int fd)
{
	job_start(s, c, fd, JOB_LOAD, &load_ops);
}
