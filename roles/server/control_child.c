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
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

/* --- dump-cache ---------------------------------------------------------- */

#define DUMP_BUF	(4 * 1024 * 1024)	/* the text of any entry fits an empty one */
#define DUMP_ENTRY_ROOM	(320 * 1024)	/* the text of the largest entry fits */

struct dump_job {
	int out, conn;
	char buf[DUMP_BUF];
	size_t len;
	int moved;			/* bytes written since the last progress */
	uint64_t entries;
	int err;			/* 0, or the errno that ended it */
	uint64_t now;
	uint64_t last_progress;
	uint32_t id;
};

static void
job_send(struct dump_job *j, int status, uint16_t flags, const char *text)
{
	struct fdt_msg m;

	fdt_msg_init(&m, FDT_MSG_CTL_REP, j->id);
	m.status = (uint32_t)status;
	m.body.ctl.command = FDT_CTL_DUMP_CACHE;
	m.body.ctl.flags = flags;
	m.body.ctl.value = j->entries;
	snprintf(m.body.ctl.text, sizeof(m.body.ctl.text), "%s", text);
	fdt_msg_send(j->conn, &m, NULL, 0);
}

/*
 * Write out the buffer.  The descriptor is the client's and stays
 * blocking (O_NONBLOCK would change its stdout too), so poll first and
 * write at most PIPE_BUF at a time, which a pipe that polls writable
 * takes whole.  The client hanging up ends the dump; a reader that never
 * reads gets no progress reported, so the client's --timeout ends it.
 */
static int
job_flush(struct dump_job *j)
{
	size_t done = 0;

	while (done < j->len) {
		struct pollfd p[2] = {
			{ .fd = j->out, .events = POLLOUT },
			{ .fd = j->conn, .events = POLLRDHUP },
		};
		if (poll(p, 2, PROGRESS_EVERY_MS) < 0 && errno != EINTR)
			return -errno;
		if (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR))
			return -ECONNRESET;
		if (j->moved && daemon_now_ms() - j->last_progress >= PROGRESS_EVERY_MS) {
			j->last_progress = daemon_now_ms();
			j->moved = 0;
			job_send(j, 0, FDT_CTL_F_PROGRESS, "");
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
	}
	j->len = 0;
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
	j->entries++;
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
control_dump_child(const struct server *s, int out, int conn, uint32_t id)
{
	static struct dump_job j;
	int fds[2] = { out, conn };
	size_t total = 0;
	char text[128];
	int n;

	child_isolate(fds, 2);
	j = (struct dump_job){ .out = fds[0], .conn = fds[1], .now = s->clock.s, .id = id,
		.last_progress = daemon_now_ms() };
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
	if (j.err == -ECONNRESET)
		_exit(0);	/* the client left: nobody to tell */
	if (j.err) {
		snprintf(text, sizeof(text), "dump stopped after %llu entries: %s",
		    (unsigned long long)j.entries, j.err == -EPIPE ?
		    "the reader went away" : strerror(-j.err));
		job_send(&j, -j.err, 0, text);
		_exit(1);
	}
	snprintf(text, sizeof(text), "dumped %llu entries", (unsigned long long)j.entries);
	job_send(&j, 0, 0, text);
	_exit(0);
}

/* --- load-cache ---------------------------------------------------------- */

/* The big-endian counts of a loader's 'D' record. */
static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

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
