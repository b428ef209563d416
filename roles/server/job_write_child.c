/*
 * A writer job's child, after fork(): its producer formats text into a
 * buffer, which goes out to the client's descriptor in PIPE_BUF pieces
 * after poll, with a report to the loop whenever bytes moved.  It ends
 * with a WRITTEN record and _exit(); the loop ends it (SIGKILL) when the
 * client leaves or nothing moves for too long.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "common/daemon.h"
#include "common/jobmsg.h"
#include "roles/server/control.h"
#include "roles/server/job_child.h"
#include "roles/server/seccomp.h"

#define WRITER_MIN_ENTRY	16	/* no entry's text is shorter */
#define WRITER_REPORT_MS	(PROGRESS_EVERY_MS / 4)

/*
 * A text the loop made just before the fork (the Prometheus counters:
 * made there, as CPU time and memory are the server's, not a child's),
 * written out as one piece.
 */
static int
text_produce(const struct server *s, struct job_writer *w)
{
	size_t done = 0, cap;
	char *p;

	while (done < s->job_text_len) {
		size_t n = s->job_text_len - done;
		if (!(p = job_writer_room(w, JOB_WRITER_BUF, &cap)))
			return 1;
		if (n > cap)
			n = cap;
		memcpy(p, s->job_text + done, n);
		done += n;
		job_writer_commit(w, n, done == s->job_text_len);
	}
	return 0;
}

/* What each writer kind writes. */
static job_produce_fn *const producers[JOB_KIND_MAX + 1] = {
	[JOB_DUMP] = job_dump_produce,
	[JOB_TEXT] = text_produce,
};

/*
 * ends[] holds where each entry in buf ends, so that what we report is
 * the entries written whole to out, not those formatted: a dump cut
 * short by a full disk or a reader gone says how much the reader has.
 */
struct job_writer {
	int out, feed;
	char buf[JOB_WRITER_BUF];
	size_t len;
	uint32_t ends[JOB_WRITER_BUF / WRITER_MIN_ENTRY];
	size_t nends, written;		/* entries in buf; those of them out has */
	uint64_t entries;		/* written whole, in all */
	int moved;			/* bytes written since the last report */
	int err;			/* 0, or the -errno that ended it */
	uint64_t last_report;
};

static void
report(struct job_writer *w, const struct jobmsg *m)
{
	uint8_t rec[sizeof(struct jobmsg_wire_written)];

	if (jobmsg_send(w->feed, m, rec, sizeof(rec)) < 0)
		_exit(1);	/* the loop is gone or gave up on us */
}

/*
 * Write out the buffer.  The descriptor is the client's and stays
 * blocking (O_NONBLOCK would change its stdout too), so poll first and
 * write at most PIPE_BUF at a time, which a pipe that polls writable
 * takes whole.  The feed hanging up means the loop is gone.
 */
static int
flush(struct job_writer *w)
{
	size_t done = 0;

	while (done < w->len) {
		struct pollfd p[2] = {
			{ .fd = w->out, .events = POLLOUT },
			{ .fd = w->feed, .events = POLLRDHUP },
		};
		if (poll(p, 2, WRITER_REPORT_MS) < 0 && errno != EINTR)
			return -errno;
		if (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR))
			_exit(1);
		if (w->moved && daemon_now_ms() - w->last_report >= WRITER_REPORT_MS) {
			w->last_report = daemon_now_ms();
			w->moved = 0;
			report(w, &(struct jobmsg){ .type = JOBMSG_PROGRESS,
			    .u.progress.entries = w->entries });
		}
		if (!(p[0].revents & (POLLOUT | POLLERR | POLLHUP)))
			continue;
		size_t n = w->len - done < PIPE_BUF ? w->len - done : PIPE_BUF;
		ssize_t r = write(w->out, w->buf + done, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		done += (size_t)r;
		w->moved = 1;
		for (; w->written < w->nends && w->ends[w->written] <= done; w->written++)
			w->entries++;
	}
	w->len = 0;
	w->nends = w->written = 0;
	return 0;
}

char *
job_writer_room(struct job_writer *w, size_t need, size_t *cap)
{
	if (!w->err && sizeof(w->buf) - w->len < need && w->len > 0)
		w->err = flush(w);
	if (w->err)
		return NULL;
	*cap = sizeof(w->buf) - w->len;
	return w->buf + w->len;
}

void
job_writer_commit(struct job_writer *w, size_t n, int whole)
{
	if (n > sizeof(w->buf) - w->len)	/* a producer's bug: keep what fits */
		n = sizeof(w->buf) - w->len;
	w->len += n;
	if (whole)
		w->ends[w->nends++] = (uint32_t)w->len;
	if (w->nends == sizeof(w->ends) / sizeof(w->ends[0]) && !w->err)
		w->err = flush(w);
}

/* The child's whole life: the memory it was born with is its snapshot. */
void
job_write_child(const struct server *s, enum job_kind kind, int out, int feed)
{
	static struct job_writer w;
	int fds[2] = { out, feed };

	if (child_keep(fds, 2) < 0)
		_exit(111);
	signal(SIGPIPE, SIG_IGN);	/* a reader gone is EPIPE, reported */
	server_seccomp_child();		/* on failure the server's own filter still holds */
	w.out = fds[0];
	w.feed = fds[1];
	w.last_report = daemon_now_ms();
	if ((unsigned)kind > JOB_KIND_MAX || !producers[kind])
		_exit(1);
	producers[kind](s, &w);
	if (!w.err)
		w.err = flush(&w);
	report(&w, &(struct jobmsg){ .type = JOBMSG_WRITTEN,
	    .u.written = { .status = (uint32_t)-w.err, .entries = w.entries } });
	_exit(w.err ? 1 : 0);
}
