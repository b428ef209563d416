/*
 * What a dump or load child runs after fork(): it keeps only the
 * descriptors it was handed and ends in _exit().  A dump writes the cache
 * it was born with (a copy-on-write snapshot) and may block on a slow
 * reader; a loader parses a dump and sends the loop each entry it reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/daemon.h"
#include "common/wire.h"
#include "roles/server/control.h"
#include "roles/server/dump.h"
#include "roles/server/seccomp.h"

/*
 * In a freshly forked child: keep only the given descriptors, moved to 3
 * and up, and take back the signals the loop handles through signalfd.
 */
static void
child_isolate(int *fds, int n)
{
	sigset_t all;

	for (int i = 0; i < n; i++) {
		int moved = fcntl(fds[i], F_DUPFD_CLOEXEC, 3 + n);
		if (moved < 0)
			_exit(111);
		fds[i] = moved;
	}
	for (int i = 0; i < n; i++) {
		if (dup3(fds[i], 3 + i, O_CLOEXEC) < 0)
			_exit(111);
		fds[i] = 3 + i;
	}
	if (syscall(SYS_close_range, 3 + n, ~0U, 0) != 0)
		_exit(111);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);	/* a dump's reader gone is EPIPE, reported */
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	server_seccomp_child();	/* on failure the server's own filter still holds */
}

/* --- dump-cache ---------------------------------------------------------- */

#define DUMP_BUF	(4 * 1024 * 1024)	/* the text of any entry fits an empty one */
#define DUMP_ENTRY_ROOM	(320 * 1024)	/* the text of the largest entry fits */
#define DUMP_MIN_ENTRY	16		/* no entry's text is shorter */
#define DUMP_REPORT_MS	(PROGRESS_EVERY_MS / 4)

/*
 * ends[] holds where each entry in buf ends, so that what we report is
 * the entries written whole to out, not those formatted: a dump cut
 * short by a full disk or a reader gone says how much the reader has.
 */
struct dump_job {
	int out, feed;
	char buf[DUMP_BUF];
	size_t len;
	uint32_t ends[DUMP_BUF / DUMP_MIN_ENTRY];
	size_t nends, written;		/* entries in buf; those of them out has */
	uint64_t entries;		/* written whole, in all */
	int moved;			/* bytes written since the last report */
	int err;			/* 0, or the errno that ended it */
	uint64_t now;
	uint64_t last_report;
};

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* 'P' entries, or 'D' status entries: to the loop, which answers the client. */
static void
job_report(struct dump_job *j, int done, uint32_t status)
{
	uint8_t rec[JOB_DUMP_DONE_LEN];
	size_t n = 1;

	rec[0] = done ? 'D' : 'P';
	if (done) {
		for (int i = 0; i < 4; i++)
			rec[1 + i] = (uint8_t)(status >> (24 - 8 * i));
		n += 4;
	}
	put64(rec + n, j->entries);
	if (send(j->feed, rec, n + 8, MSG_NOSIGNAL) < 0)
		_exit(1);	/* the loop is gone or gave up on us */
}

/*
 * Write out the buffer.  The descriptor is the client's and stays
 * blocking (O_NONBLOCK would change its stdout too), so poll first and
 * write at most PIPE_BUF at a time, which a pipe that polls writable
 * takes whole.  The loop ends us (SIGKILL) when the client leaves or
 * nothing has moved for too long; the feed hanging up means the loop is
 * gone.
 */
static int
job_flush(struct dump_job *j)
{
	size_t done = 0;

	while (done < j->len) {
		struct pollfd p[2] = {
			{ .fd = j->out, .events = POLLOUT },
			{ .fd = j->feed, .events = POLLRDHUP },
		};
		if (poll(p, 2, DUMP_REPORT_MS) < 0 && errno != EINTR)
			return -errno;
		if (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR))
			_exit(1);
		if (j->moved && daemon_now_ms() - j->last_report >= DUMP_REPORT_MS) {
			j->last_report = daemon_now_ms();
			j->moved = 0;
			job_report(j, 0, 0);
		}
		if (!(p[0].revents & (POLLOUT | POLLERR | POLLHUP)))
			continue;
		size_t n = j->len - done < PIPE_BUF ? j->len - done : PIPE_BUF;
		ssize_t w = write(j->out, j->buf + done, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		done += (size_t)w;
		j->moved = 1;
		for (; j->written < j->nends && j->ends[j->written] <= done; j->written++)
			j->entries++;
	}
	j->len = 0;
	j->nends = j->written = 0;
	return 0;
}

static int
job_entry(const struct cache_entry *e, void *arg)
{
	struct dump_job *j = arg;
	int n;

	if (sizeof(j->buf) - j->len < DUMP_ENTRY_ROOM && (j->err = job_flush(j)) < 0)
		return 1;
	n = dump_format_entry(e, j->now, j->buf + j->len, sizeof(j->buf) - j->len);
	if (n == -ENOSPC) {	/* an entry too big for what is left: flush, retry */
		if ((j->err = job_flush(j)) < 0)
			return 1;
		n = dump_format_entry(e, j->now, j->buf, sizeof(j->buf));
	}
	if (n < 0)
		return 0;	/* cannot be shown; the rest still can */
	j->len += (size_t)n;
	j->ends[j->nends++] = (uint32_t)j->len;
	return 0;
}

static int
count_entry(const struct cache_entry *e, void *arg)
{
	(void)e;
	(*(size_t *)arg)++;
	return 0;
}

/* The child's whole life: the snapshot is the memory it was born with. */
void
control_dump_child(const struct server *s, int out, int feed)
{
	static struct dump_job j;
	int fds[2] = { out, feed };
	size_t total = 0;
	int n;

	child_isolate(fds, 2);
	j.out = fds[0];
	j.feed = fds[1];
	j.now = s->clock.s;
	j.last_report = daemon_now_ms();
	cache_foreach(s->cache, j.now, count_entry, &total);
	n = dump_format_header(time(NULL), total, j.buf, sizeof(j.buf));
	j.len = n > 0 ? (size_t)n : 0;
	cache_foreach(s->cache, j.now, job_entry, &j);
	if (!j.err && j.len + 8 < sizeof(j.buf)) {
		memcpy(j.buf + j.len, "; end\n", 6);
		j.len += 6;
	}
	if (!j.err)
		j.err = job_flush(&j);
	job_report(&j, 1, (uint32_t)-j.err);
	_exit(j.err ? 1 : 0);
}

/* --- load-cache ---------------------------------------------------------- */

static void
loader_send(int feed, const struct dump_entry *e)
{
	static uint8_t rec[DNS_MSG_MAX + 6];

	rec[0] = 'E';
	rec[1] = (uint8_t)(e->ttl >> 24);
	rec[2] = (uint8_t)(e->ttl >> 16);
	rec[3] = (uint8_t)(e->ttl >> 8);
	rec[4] = (uint8_t)e->ttl;
	rec[5] = (uint8_t)e->negative;
	memcpy(rec + 6, e->tmpl, e->tlen);
	if (send(feed, rec, 6 + e->tlen, MSG_NOSIGNAL) < 0)
		_exit(1);	/* the loop is gone or gave up on us */
}

/* A loader's whole life: parse what it is given, send the loop each entry. */
void
control_loader_child(int in, int feed)
{
	static struct dump_parser p;
	static struct dump_entry e;
	static char line[DUMP_LINE_MAX + 1];
	char buf[64 * 1024];
	size_t llen = 0;
	int fds[2] = { in, feed }, overlong = 0;
	uint8_t done[25];
	ssize_t n;

	child_isolate(fds, 2);
	dump_parser_init(&p);
	while ((n = read(fds[0], buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (llen < DUMP_LINE_MAX)
					line[llen++] = buf[i];
				else
					overlong = 1;
				continue;
			}
			if (dump_parser_line(&p, line, overlong ? DUMP_LINE_MAX + 1 : llen, &e))
				loader_send(fds[1], &e);
			llen = 0;
			overlong = 0;
		}
	}
	if (llen && dump_parser_line(&p, line, overlong ? DUMP_LINE_MAX + 1 : llen, &e))
		loader_send(fds[1], &e);
	if (dump_parser_finish(&p, &e))
		loader_send(fds[1], &e);
	done[0] = 'D';
	put64(done + 1, p.entries);
	put64(done + 9, p.expired);
	put64(done + 17, p.malformed);
	send(fds[1], done, sizeof(done), MSG_NOSIGNAL);
	_exit(0);
}
