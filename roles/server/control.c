/*
 * The server's control socket.  Commands that only read or change a
 * little state are answered in the loop.  A dump is written by a forked
 * child from its copy-on-write snapshot of the cache, into the
 * descriptor the operator's client passed us: the child may block on a
 * slow reader, the loop never does.  A load is read and parsed by a child
 * too, which feeds the parsed entries back to the loop over a socketpair.
 * We never open a path for writing; the sandbox would not let us.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/daemon.h"
#include "common/fdpass.h"
#include "common/log.h"
#include "common/peercred.h"
#include "common/priv.h"
#include "common/unixsock.h"
#include "common/wire.h"
#include "roles/server/dump.h"
#include "roles/server/server.h"

#define PROGRESS_EVERY_MS	1000
#define LOADER_BATCH		256	/* entries taken per wake-up: fair to DNS */

/* --- counters ---------------------------------------------------------- */

static const struct {
	const char *name;
	size_t off;
} counters[] = {
#define X(field, name) { name, offsetof(struct server_counters, field) },
	SERVER_COUNTERS(X)
#undef X
};

#define NCOUNTERS (sizeof(counters) / sizeof(counters[0]))
#define NCACHE_COUNTERS 4

/* Counters kept by the cache, reported beside ours. */
static void
cache_counter(const struct server *s, size_t i, const char **name, uint64_t *v)
{
	const struct cache_stats *cs = cache_stats(s->cache);

	switch (i) {
	case 0: *name = "cache-entries"; *v = cs->entries; break;
	case 1: *name = "cache-insertions"; *v = cs->insertions; break;
	case 2: *name = "cache-evictions"; *v = cs->evictions; break;
	default: *name = "cache-expired"; *v = cs->expired; break;
	}
}

/*
 * What we know of each upstream, as upstream[ADDR].FIELD (default set)
 * or upstream[ZONE@ADDR].FIELD (a forward zone's): the health the
 * resolver picks by, and why it stopped asking one.
 */
#define NUPSTREAM_FIELDS 7

static int
upstream_counter(const struct server *s, size_t i, const char **name, uint64_t *v)
{
	static char buf[1100 + SERVER_ADDR_STRLEN];
	static const char *const field[NUPSTREAM_FIELDS] = {
		"srtt-ms", "down", "failures", "queries", "answers", "timeouts", "errors",
	};
	const struct upstreams *u;
	size_t f = i % NUPSTREAM_FIELDS, k = i / NUPSTREAM_FIELDS;

	if (!s->resolver)
		return -ENOENT;
	u = resolver_upstreams(s->resolver);
	for (size_t set = 0; set < 1 + s->cfg.nzones; set++) {
		const struct upstream_set *us = upstreams_get_set(u, set);
		const struct upstream *sv;
		char zone[1010], addr[SERVER_ADDR_STRLEN];
		if (k >= us->n) {
			k -= us->n;
			continue;
		}
		sv = &us->srv[k];
		server_addr_format((const struct sockaddr *)&sv->addr, addr, sizeof(addr));
		if (set > 0)
			dns_name_to_text(s->cfg.zones[set - 1].name,
			    s->cfg.zones[set - 1].namelen, zone, sizeof(zone));
		snprintf(buf, sizeof(buf), "upstream[%s%s%s].%s", set ? zone : "",
		    set ? "@" : "", addr, field[f]);
		*name = buf;
		switch (f) {
		case 0: *v = sv->srtt / 8; break;
		case 1: *v = sv->failures > 0; break;
		case 2: *v = sv->failures; break;
		case 3: *v = sv->queries; break;
		case 4: *v = sv->answers; break;
		case 5: *v = sv->timeouts; break;
		default: *v = sv->errors; break;
		}
		return 0;
	}
	return -ENOENT;
}

int
server_counter_at(const struct server *s, size_t i, const char **name, uint64_t *v)
{
	if (i < NCOUNTERS) {
		*name = counters[i].name;
		memcpy(v, (const char *)&s->stats + counters[i].off, sizeof(*v));
		return 0;
	}
	if (i < NCOUNTERS + NCACHE_COUNTERS) {
		cache_counter(s, i - NCOUNTERS, name, v);
		return 0;
	}
	return upstream_counter(s, i - NCOUNTERS - NCACHE_COUNTERS, name, v);
}

int
server_counter_get(const struct server *s, const char *name, uint64_t *v)
{
	const char *n;

	for (size_t i = 0; server_counter_at(s, i, &n, v) == 0; i++)
		if (strcmp(n, name) == 0)
			return 0;
	return -ENOENT;
}

/* --- connections ------------------------------------------------------- */

int
server_control_open(struct server *s, uid_t uid, gid_t gid)
{
	gid_t group = gid;
	int fd;

	s->control.kind = K_CONTROL_LISTEN;
	s->control.fd = -1;
	s->run_uid = uid;
	s->control_gid = (gid_t)-1;
	for (size_t i = 0; i < SERVER_MAX_CONTROL; i++)
		s->ctl[i] = (struct ctl_conn){ .w = { K_CONTROL, -1 } };
	for (size_t i = 0; i < SERVER_MAX_CHILDREN; i++)
		s->children[i] = (struct child){ .w = { K_CHILD, -1 }, .feed = { K_LOADER, -1 } };
	if (!s->cfg.control_path)
		return 0;
	if (s->cfg.control_group) {
		int r = priv_lookup_group(s->cfg.control_group, &group);
		if (r < 0)
			return r;
		s->control_gid = group;
	}
	fd = unixsock_listen(s->cfg.control_path, 0660,
	    geteuid() == 0 ? uid : (uid_t)-1, geteuid() == 0 ? group : (gid_t)-1);
	if (fd < 0)
		return fd;
	s->control.fd = fd;
	return loop_watch(s->epfd, &s->control, EPOLLIN, &s->control);
}

static void
ctl_close(struct ctl_conn *c)
{
	if (c->w.fd >= 0)
		close(c->w.fd);
	c->w.fd = -1;
	c->busy = 0;
}

/* A reply the client cannot take now means it is not reading: drop it. */
static void
ctl_reply(struct ctl_conn *c, int status, uint64_t value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
ctl_reply(struct ctl_conn *c, int status, uint64_t value, const char *fmt, ...)
{
	struct fdt_msg m;
	va_list ap;

	fdt_msg_init(&m, FDT_MSG_CTL_REP, c->id);
	m.status = (uint32_t)status;
	m.body.ctl.command = c->command;
	m.body.ctl.value = value;
	va_start(ap, fmt);
	vsnprintf(m.body.ctl.text, sizeof(m.body.ctl.text), fmt, ap);
	va_end(ap);
	if (fdt_msg_send(c->w.fd, &m, NULL, 0) < 0)
		ctl_close(c);
}

void
server_dispatch_control_listen(struct server *s)
{
	struct peercred pc;
	struct ctl_conn *c = NULL;
	int fd = accept4(s->control.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (peercred_get(fd, &pc) < 0) {
		close(fd);
		return;
	}
	if (!peercred_allowed(&pc, &s->run_uid, 1, &s->control_gid,
	    s->control_gid == (gid_t)-1 ? 0 : 1)) {
		log_warnx("refused control connection from pid %d uid %u: not root, "
		    "not us, not in the control group", (int)pc.pid, (unsigned)pc.uid);
		fdt_msg_refuse(fd, EACCES);
		return;
	}
	for (size_t i = 0; i < SERVER_MAX_CONTROL && !c; i++)
		if (s->ctl[i].w.fd < 0)
			c = &s->ctl[i];
	if (!c) {
		log_warnx("control connection from pid %d: too many at once", (int)pc.pid);
		close(fd);
		return;
	}
	*c = (struct ctl_conn){ .w = { K_CONTROL, fd }, .pid = pc.pid, .uid = pc.uid };
	if (loop_watch(s->epfd, &c->w, EPOLLIN, c) < 0)
		ctl_close(c);
}

static struct child *
child_slot(struct server *s)
{
	for (size_t i = 0; i < SERVER_MAX_CHILDREN; i++)
		if (s->children[i].w.fd < 0 && s->children[i].feed.fd < 0)
			return &s->children[i];
	return NULL;
}

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

static int
child_start(struct server *s, struct child *ch, pid_t pid)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	ch->pid = pid;
	if (pidfd < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -errno;
	}
	fcntl(pidfd, F_SETFD, FD_CLOEXEC);
	ch->w.fd = pidfd;
	return loop_watch(s->epfd, &ch->w, EPOLLIN, ch);
}

void
server_dispatch_child(struct server *s, struct child *ch)
{
	siginfo_t si = { 0 };

	(void)s;
	if (waitid(P_PIDFD, (id_t)ch->w.fd, &si, WEXITED | WNOHANG) != 0 || si.si_pid == 0)
		return;
	if (si.si_code != CLD_EXITED || si.si_status != 0)
		log_warnx("control helper pid %d ended with %s %d", (int)ch->pid,
		    si.si_code == CLD_EXITED ? "status" : "signal", si.si_status);
	close(ch->w.fd);
	ch->w.fd = -1;
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
static void
dump_child(struct server *s, int out, int conn, uint32_t id)
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

static int
fd_mode_ok(int fd, int want_write)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fstat(fd, &st) != 0 || S_ISDIR(st.st_mode))
		return 0;
	fl &= O_ACCMODE;
	return want_write ? fl == O_WRONLY || fl == O_RDWR : fl == O_RDONLY || fl == O_RDWR;
}

static void
ctl_dump(struct server *s, struct ctl_conn *c, int fd)
{
	struct child *ch = child_slot(s);
	pid_t pid;

	if (!fd_mode_ok(fd, 1)) {
		ctl_reply(c, EBADF, 0, "the descriptor passed is not open for writing");
		close(fd);
		return;
	}
	if (!ch) {
		ctl_reply(c, EBUSY, 0, "too many dumps and loads at once; try again");
		close(fd);
		return;
	}
	if ((pid = fork()) < 0) {
		ctl_reply(c, errno, 0, "cannot start the dump: %s", strerror(errno));
		close(fd);
		return;
	}
	if (pid == 0)
		dump_child(s, fd, c->w.fd, c->id);
	close(fd);
	child_start(s, ch, pid);
	log_info("dump-cache for pid %d uid %u: written by pid %d", (int)c->pid,
	    (unsigned)c->uid, (int)pid);
	ctl_close(c);		/* the child answers it now */
}

/* --- load-cache ---------------------------------------------------------- */

/*
 * Loader records, child to loop: 'E' ttl(4) negative(1) template..., or
 * 'D' entries(8) expired(8) malformed(8) at the end.
 */
static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
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

static void
loader_child(int in, int feed)
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

static void
ctl_load(struct server *s, struct ctl_conn *c, int fd)
{
	struct child *ch = child_slot(s);
	int sv[2];
	pid_t pid;

	if (!fd_mode_ok(fd, 0)) {
		ctl_reply(c, EBADF, 0, "the descriptor passed is not open for reading");
		close(fd);
		return;
	}
	if (!ch || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		ctl_reply(c, EBUSY, 0, "too many dumps and loads at once; try again");
		close(fd);
		return;
	}
	if ((pid = fork()) < 0) {
		ctl_reply(c, errno, 0, "cannot start the load: %s", strerror(errno));
		close(fd);
		close(sv[0]);
		close(sv[1]);
		return;
	}
	if (pid == 0)
		loader_child(fd, sv[1]);
	close(fd);
	close(sv[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	ch->feed.fd = sv[0];
	ch->conn = c;
	ch->loaded = 0;
	ch->last_progress = s->clock.ms;
	c->busy = 1;
	if (child_start(s, ch, pid) < 0 || loop_watch(s->epfd, &ch->feed, EPOLLIN, &ch->feed) < 0) {
		ctl_reply(c, EIO, 0, "cannot start the load");
		close(ch->feed.fd);
		ch->feed.fd = -1;
		c->busy = 0;
	}
	log_info("load-cache for pid %d uid %u: read by pid %d", (int)c->pid,
	    (unsigned)c->uid, (int)pid);
}

static void
loader_end(struct child *ch)
{
	close(ch->feed.fd);
	ch->feed.fd = -1;
	if (ch->conn)
		ch->conn->busy = 0;
	ch->conn = NULL;
}

/* Take one parsed entry: checked again, as anything read from a file is. */
static void
loader_insert(struct server *s, struct child *ch, uint8_t *rec, size_t len)
{
	static struct dump_load l;
	uint32_t ttl;

	if (len < 6 + DNS_HDR_SIZE)
		return;
	ttl = (uint32_t)rec[1] << 24 | (uint32_t)rec[2] << 16 | (uint32_t)rec[3] << 8 | rec[4];
	if (dump_load_answer(rec + 6, len - 6, rec[5], &l) < 0)
		return;
	if (ttl > s->cfg.max_ttl)
		ttl = s->cfg.max_ttl;
	if (cache_insert(s->cache, &l.key, &l.answer, ttl, s->clock.s) == 0 && ttl > 0)
		ch->loaded++;
}

void
server_dispatch_loader(struct server *s, struct child *ch)
{
	static uint8_t rec[DNS_MSG_MAX + 6];

	for (int i = 0; i < LOADER_BATCH && ch->feed.fd >= 0; i++) {
		ssize_t n = recv(ch->feed.fd, rec, sizeof(rec), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			if (ch->conn)
				ctl_reply(ch->conn, EIO, ch->loaded,
				    "the loader ended early after %llu entries",
				    (unsigned long long)ch->loaded);
			loader_end(ch);
			return;
		}
		if (rec[0] == 'E') {
			loader_insert(s, ch, rec, (size_t)n);
		} else if (rec[0] == 'D' && n == 25) {
			if (ch->conn)
				ctl_reply(ch->conn, 0, ch->loaded,
				    "loaded %llu entries (%llu expired, %llu malformed lines skipped)",
				    (unsigned long long)ch->loaded,
				    (unsigned long long)get64(rec + 9),
				    (unsigned long long)get64(rec + 17));
			loader_end(ch);
		}
	}
}

/* --- the rest of the commands ---------------------------------------------- */

static void
ctl_wipe(struct server *s, struct ctl_conn *c, const char *text)
{
	char name[FDT_TEXT_MAX];
	uint8_t wire[DNS_NAME_MAX];
	size_t len = strlen(text);
	int subtree = len > 0 && text[len - 1] == '$', n;

	snprintf(name, sizeof(name), "%.*s", (int)(len - (subtree ? 1 : 0)), text);
	if ((n = dns_name_from_text(name, wire)) < 0) {
		ctl_reply(c, EINVAL, 0, "not a domain name: %s", name);
		return;
	}
	dns_name_fold(wire, (size_t)n);
	size_t gone = cache_wipe(s->cache, wire, (size_t)n, subtree);
	ctl_reply(c, 0, gone, "wiped %zu entries", gone);
}

static void
ctl_command(struct server *s, struct ctl_conn *c, const struct fdt_msg *m, int fd)
{
	const char *name;
	uint64_t v;

	c->id = m->id;
	c->command = m->body.ctl.command;
	switch (m->body.ctl.command) {
	case FDT_CTL_PING:
		ctl_reply(c, 0, 0, "pong");
		break;
	case FDT_CTL_VERSION:
		ctl_reply(c, 0, 0, "fdtool %s", FDTOOL_VERSION);
		break;
	case FDT_CTL_DUMP_CACHE:
		if (fd < 0)
			ctl_reply(c, EINVAL, 0, "dump-cache needs a descriptor");
		else
			ctl_dump(s, c, fd);
		return;
	case FDT_CTL_LOAD_CACHE:
		if (fd < 0)
			ctl_reply(c, EINVAL, 0, "load-cache needs a descriptor");
		else
			ctl_load(s, c, fd);
		return;
	case FDT_CTL_WIPE_CACHE:
		ctl_wipe(s, c, m->body.ctl.text);
		break;
	case FDT_CTL_GET:
		if (server_counter_get(s, m->body.ctl.text, &v) < 0)
			ctl_reply(c, ENOENT, 0, "no such counter: %s", m->body.ctl.text);
		else
			ctl_reply(c, 0, v, "%llu", (unsigned long long)v);
		break;
	case FDT_CTL_GET_ALL:
		if (server_counter_at(s, (size_t)m->body.ctl.value, &name, &v) < 0)
			ctl_reply(c, ENOENT, 0, "no more counters");
		else
			ctl_reply(c, 0, v, "%s\t%llu", name, (unsigned long long)v);
		break;
	case FDT_CTL_QUIT:
		log_info("quit, asked by pid %d uid %u", (int)c->pid, (unsigned)c->uid);
		ctl_reply(c, 0, 0, "bye");
		s->quit = 1;
		break;
	case FDT_CTL_QUIT_NICELY:
		log_info("quit-nicely, asked by pid %d uid %u", (int)c->pid, (unsigned)c->uid);
		ctl_reply(c, 0, 0, "stopping once the queries in flight are answered");
		if (!s->quit_nicely) {
			s->quit_nicely = 1;
			s->quit_deadline = s->clock.ms + s->cfg.query_timeout_ms + 1000;
		}
		break;
	default:
		ctl_reply(c, EOPNOTSUPP, 0, "unknown command %u", m->body.ctl.command);
	}
	if (fd >= 0)
		close(fd);
}

void
server_dispatch_control(struct server *s, struct ctl_conn *c)
{
	struct fdt_msg m;
	int fds[FDT_MAX_FDS];
	int r;

	if (c->w.fd < 0)
		return;
	r = fdt_msg_recv(c->w.fd, &m, fds, MSG_DONTWAIT);
	if (r == -EAGAIN)
		return;
	if (r == 1) {
		ctl_close(c);
		return;
	}
	if (r < 0 || m.type != FDT_MSG_CTL_REQ) {
		/* an operator's client that speaks garbage is dropped; its
		 * descriptors were closed by fdt_msg_recv */
		if (r == 0)
			fdpass_close_all(fds, fdt_msg_nfds(&m));
		log_warnx("control client pid %d uid %u: %s; dropped", (int)c->pid,
		    (unsigned)c->uid, r < 0 ? strerror(-r) : "not a control request");
		ctl_close(c);
		return;
	}
	if (c->busy) {
		fdpass_close_all(fds, fdt_msg_nfds(&m));
		c->id = m.id;
		c->command = m.body.ctl.command;
		ctl_reply(c, EBUSY, 0, "a load is still running on this connection");
		return;
	}
	ctl_command(s, c, &m, fdt_msg_nfds(&m) ? fds[0] : -1);
}

/* Once per loop turn: loaders' progress, quit-nicely. */
void
server_control_tick(struct server *s)
{
	for (size_t i = 0; i < SERVER_MAX_CHILDREN; i++) {
		struct child *ch = &s->children[i];
		if (ch->feed.fd >= 0 && ch->conn && ch->conn->w.fd < 0) {
			/* its client left: stop feeding the cache for nobody */
			kill(ch->pid, SIGTERM);
			loader_end(ch);
		} else if (ch->feed.fd >= 0 && ch->conn &&
		    s->clock.ms - ch->last_progress >= PROGRESS_EVERY_MS) {
			struct fdt_msg m;
			ch->last_progress = s->clock.ms;
			fdt_msg_init(&m, FDT_MSG_CTL_REP, ch->conn->id);
			m.body.ctl.command = FDT_CTL_LOAD_CACHE;
			m.body.ctl.flags = FDT_CTL_F_PROGRESS;
			m.body.ctl.value = ch->loaded;
			if (fdt_msg_send(ch->conn->w.fd, &m, NULL, 0) < 0)
				ctl_close(ch->conn);
		}
	}
	if (s->quit_nicely) {
		for (size_t i = 0; i < s->nudp; i++)
			if (s->udp[i].fd >= 0) {
				close(s->udp[i].fd);
				s->udp[i].fd = -1;
			}
		for (size_t i = 0; i < s->ntcp; i++)
			if (s->tcp[i].fd >= 0) {
				close(s->tcp[i].fd);
				s->tcp[i].fd = -1;
			}
		if (upstreams_inflight(resolver_upstreams(s->resolver)) == 0 ||
		    s->clock.ms >= s->quit_deadline)
			s->quit = 1;
	}
}

void
server_control_close(struct server *s)
{
	for (size_t i = 0; i < SERVER_MAX_CONTROL; i++)
		ctl_close(&s->ctl[i]);
	for (size_t i = 0; i < SERVER_MAX_CHILDREN; i++) {
		struct child *ch = &s->children[i];
		if (ch->feed.fd >= 0)
			loader_end(ch);
		if (ch->w.fd >= 0) {
			kill(ch->pid, SIGTERM);
			waitpid(ch->pid, NULL, 0);
			close(ch->w.fd);
			ch->w.fd = -1;
		}
	}
	if (s->control.fd >= 0) {
		close(s->control.fd);
		/* the sandbox forbids removing files: a next start replaces
		 * the stale socket, which nobody answers on meanwhile */
		if (unlink(s->cfg.control_path) != 0)
			log_debug("%s left behind: %s", s->cfg.control_path, strerror(errno));
	}
	s->control.fd = -1;
}
