/*
 * Writer jobs, the loop's side: a child writes a text (the cache's dump,
 * or another kind's) to the client's descriptor and reports entries
 * written whole; we pass its progress on and answer with its count.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/jobmsg.h"
#include "roles/server/control.h"
#include "roles/server/job.h"
#include "roles/server/job_child.h"

/* The child's last word: what the client is told. */
static void
write_done(const struct job *j, struct ctl_conn *c, uint32_t status)
{
	unsigned long long n = (unsigned long long)j->done;

	if (status != 0) {
		ctl_reply(c, (int)status, j->done, "%s stopped after %llu entries: %s",
		    j->ops->name, n, status == EPIPE ? "the reader went away" :
		    strerror((int)status));
		return;
	}
	switch (j->kind) {	/* each writer kind its own words */
	case JOB_TEXT:
		ctl_reply(c, 0, j->done, "written");
		break;
	default:
		ctl_reply(c, 0, j->done, "dumped %llu entries", n);
		break;
	}
}

static int
write_record(struct server *s, struct job *j, struct ctl_conn *c, const struct jobmsg *m)
{
	(void)s;
	switch (m->type) {
	case JOBMSG_PROGRESS:
		j->done = m->u.progress.entries;
		return 0;
	case JOBMSG_WRITTEN:
		j->done = m->u.written.entries;
		write_done(j, c, m->u.written.status);
		return 1;
	default:
		return -EPROTO;
	}
}

/* The writer kinds; what each writes is job_write_child.c's producers[]. */
static const struct job_ops write_ops[JOB_KIND_MAX + 1] = {
	[JOB_DUMP] = { "dump", "dump-cache", 1, job_write_child, write_record },
	[JOB_TEXT] = { "text", "metrics", 1, job_write_child, write_record },
};

void
job_write_start(struct server *s, struct ctl_conn *c, int fd, enum job_kind kind)
{
	if ((unsigned)kind > JOB_KIND_MAX || !write_ops[kind].child) {
		ctl_reply(c, EINVAL, 0, "no such writer");	/* a bug of ours */
		close(fd);
		return;
	}
	job_start(s, c, fd, kind, &write_ops[kind]);
}
