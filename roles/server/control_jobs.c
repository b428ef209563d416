/*
 * Dumps and loads, the loop's side: a job is a forked child (what it runs
 * is control_child.c), watched through its pidfd and reaped when it ends,
 * and a socketpair it reports on: a loader sends parsed entries, a dump
 * how many entries it has written.  We answer the client, so a job can
 * be ended here -- its client left, or it has stalled -- and the client
 * still told why.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/wire.h"
#include "roles/server/control.h"
#include "roles/server/dns_buf.h"
#include "roles/server/dump.h"

#define LOADER_BATCH		256	/* entries taken per wake-up: fair to DNS */

/* Every slot free, before the loop runs. */
void
control_jobs_init(struct server *s)
{
	for (size_t i = 0; i < SERVER_MAX_CHILDREN; i++)
		s->children[i] = (struct child){ .w = { K_CHILD, -1 }, .feed = { K_LOADER, -1 } };
}

static struct child *
child_slot(struct server *s)
{
	for (size_t i = 0; i < SERVER_MAX_CHILDREN; i++)
		if (s->children[i].w.fd < 0 && s->children[i].feed.fd < 0)
			return &s->children[i];
	return NULL;
}

/* The job's client, if it is still there: the slot may hold someone else now. */
static struct ctl_conn *
job_client(const struct child *ch)
{
	struct ctl_conn *c = ch->conn;

	if (!c || c->gen != ch->conn_gen || c->w.fd < 0)
		return NULL;
	return c;
}

/*
 * The job is over for its client: what the child still sends is dropped
 * unread with the socket, and the slot of the client is free again.
 * With stop, a child still running is killed (its pidfd, still open,
 * keeps the pid from being reused); the pidfd then reaps it.
 */
static void
job_end(struct child *ch, int stop)
{
	if (stop && ch->w.fd >= 0 && !ch->killed) {
		kill(ch->pid, SIGKILL);
		ch->killed = 1;
	}
	if (ch->feed.fd >= 0)
		close(ch->feed.fd);
	ch->feed.fd = -1;
	if (ch->conn && ch->conn->job == ch)
		ch->conn->job = NULL;
	ch->conn = NULL;
}

void
server_dispatch_child(struct server *s, struct child *ch)
{
	siginfo_t si = { 0 };

	(void)s;
	if (ch->w.fd < 0)
		return;
	if (waitid(P_PIDFD, (id_t)ch->w.fd, &si, WEXITED | WNOHANG) != 0) {
		/* ECHILD: reaped by someone else; the pidfd would stay readable */
		log_warn("control helper pid %d: waitid", (int)ch->pid);
		close(ch->w.fd);
		ch->w.fd = -1;
		return;
	}
	if (si.si_pid == 0)
		return;
	if (ch->killed)
		log_debug("control helper pid %d ended as we asked", (int)ch->pid);
	else if (si.si_code != CLD_EXITED || si.si_status != 0)
		log_warnx("control helper pid %d ended with %s %d", (int)ch->pid,
		    si.si_code == CLD_EXITED ? "status" : "signal", si.si_status);
	close(ch->w.fd);
	ch->w.fd = -1;
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

/*
 * A socket whose other end is one of ours, such as the client's own
 * connection (`load-cache - <&-` once made stdin the client's socket):
 * the child would hold the client's end open, we would never see it
 * leave, and the job would wait on itself.
 */
static int
fd_is_ours(int fd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0 && uc.pid == getpid();
}

/*
 * Fork the child for a job on fd (closed here, whatever happens) and
 * tie it to its client.  Replies itself when it cannot.
 */
static void
job_start(struct server *s, struct ctl_conn *c, int fd, uint16_t command)
{
	const char *what = command == FDT_CTL_DUMP_CACHE ? "dump" : "load";
	struct child *ch = child_slot(s);
	int sv[2], pidfd;
	pid_t pid;

	if (!fd_mode_ok(fd, command == FDT_CTL_DUMP_CACHE)) {
		ctl_reply(c, EBADF, 0, "the descriptor passed is not open for %s",
		    command == FDT_CTL_DUMP_CACHE ? "writing" : "reading");
		close(fd);
		return;
	}
	if (fd_is_ours(fd)) {
		ctl_reply(c, EINVAL, 0, "the descriptor passed is a connection to this server");
		close(fd);
		return;
	}
	if (!ch) {
		ctl_reply(c, EBUSY, 0, "too many dumps and loads at once; try again");
		close(fd);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		ctl_reply(c, errno, 0, "cannot start the %s: %s", what, strerror(errno));
		close(fd);
		return;
	}
	if ((pid = fork()) < 0) {
		ctl_reply(c, errno, 0, "cannot start the %s: %s", what, strerror(errno));
		close(fd);
		close(sv[0]);
		close(sv[1]);
		return;
	}
	if (pid == 0) {
		if (command == FDT_CTL_DUMP_CACHE)
			control_dump_child(s, fd, sv[1]);
		control_loader_child(fd, sv[1]);
	}
	close(fd);
	close(sv[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	*ch = (struct child){ .w = { K_CHILD, -1 }, .feed = { K_LOADER, sv[0] }, .pid = pid,
		.command = command, .conn = c, .conn_gen = c->gen,
		.last_progress = s->clock.ms, .last_reported = s->clock.ms };
	c->job = ch;
	if ((pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0) {
		/* no pidfd, no safe kill later: stop it now */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		ctl_reply(c, EIO, 0, "cannot watch the %s", what);
		job_end(ch, 0);
		return;
	}
	fcntl(pidfd, F_SETFD, FD_CLOEXEC);
	ch->w.fd = pidfd;
	if (loop_watch(s->epfd, &ch->w, EPOLLIN, ch) < 0 ||
	    loop_watch(s->epfd, &ch->feed, EPOLLIN, &ch->feed) < 0) {
		siginfo_t si;

		ctl_reply(c, EIO, 0, "cannot watch the %s", what);
		job_end(ch, 1);
		/* unwatched, it would never be reaped: wait for the kill here */
		waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED);
		close(pidfd);
		ch->w.fd = -1;
		return;
	}
	log_info("%s-cache for pid %d uid %u: %s by pid %d", what, (int)c->pid,
	    (unsigned)c->uid, command == FDT_CTL_DUMP_CACHE ? "written" : "read", (int)pid);
}

void
ctl_dump(struct server *s, struct ctl_conn *c, int fd)
{
	job_start(s, c, fd, FDT_CTL_DUMP_CACHE);
}

void
ctl_load(struct server *s, struct ctl_conn *c, int fd)
{
	job_start(s, c, fd, FDT_CTL_LOAD_CACHE);
}

/* The big-endian counts of the children's records. */
static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Take one parsed entry: checked again, as anything read from a file is. */
static void
loader_insert(struct server *s, struct child *ch, const uint8_t *rec, size_t len)
{
	static struct dump_load l;
	uint32_t ttl;

	if (len < 6 + DNS_HDR_SIZE)
		return;
	ttl = peek32(rec + 1);
	/* --max-ttl: the file says what it likes, no record leaves us above it */
	if (dump_load_answer(rec + 6, len - 6, rec[5], s->cfg.max_ttl, &l) < 0)
		return;
	if (ttl > s->cfg.max_ttl)
		ttl = s->cfg.max_ttl;
	if (cache_insert(s->cache, &l.key, &l.answer, ttl, s->clock.s) == 0 && ttl > 0)
		ch->done++;
}

/* A dump's or loader's last word: the client's answer. */
static void
job_done(struct child *ch, struct ctl_conn *c, const uint8_t *rec, size_t n)
{
	uint32_t status;

	if (ch->command == FDT_CTL_LOAD_CACHE && n == JOB_LOAD_DONE_LEN) {
		ctl_reply(c, 0, ch->done,
		    "loaded %llu entries (%llu expired, %llu malformed lines skipped)",
		    (unsigned long long)ch->done, (unsigned long long)get64(rec + 9),
		    (unsigned long long)get64(rec + 17));
	} else if (ch->command == FDT_CTL_DUMP_CACHE && n == JOB_DUMP_DONE_LEN) {
		status = peek32(rec + 1);
		ch->done = get64(rec + 5);
		if (status == 0)
			ctl_reply(c, 0, ch->done, "dumped %llu entries",
			    (unsigned long long)ch->done);
		else
			ctl_reply(c, (int)status, ch->done, "dump stopped after %llu entries: %s",
			    (unsigned long long)ch->done, status == EPIPE ?
			    "the reader went away" : strerror((int)status));
	} else {
		ctl_reply(c, EIO, ch->done, "the %s ended early after %llu entries",
		    ch->command == FDT_CTL_DUMP_CACHE ? "dump" : "load",
		    (unsigned long long)ch->done);
	}
}

/* What a child reports (K_LOADER: a loader's entries, a dump's progress). */
void
server_dispatch_loader(struct server *s, struct child *ch)
{
	static uint8_t rec[DNS_MSG_MAX + 6];

	for (int i = 0; i < LOADER_BATCH && ch->feed.fd >= 0; i++) {
		struct ctl_conn *c = job_client(ch);
		ssize_t n;

		if (!c) {		/* its client left: nobody to feed the cache for */
			job_end(ch, 1);
			return;
		}
		n = recv(ch->feed.fd, rec, sizeof(rec), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n > 0 && rec[0] == 'E' && ch->command == FDT_CTL_LOAD_CACHE) {
			loader_insert(s, ch, rec, (size_t)n);
		} else if (n == JOB_DUMP_PROGRESS_LEN && rec[0] == 'P' &&
		    ch->command == FDT_CTL_DUMP_CACHE) {
			ch->done = get64(rec + 1);
		} else {
			/* 'D', or the child died without it: the job is over (and
			 * its client, waiting on it, was not idle meanwhile) */
			c->last_active = s->clock.ms;
			job_done(ch, c, rec, n > 0 && rec[0] == 'D' ? (size_t)n : 0);
			job_end(ch, n <= 0 || rec[0] != 'D');
			return;
		}
		ch->last_progress = s->clock.ms;
		ch->moved = 1;
	}
}

/*
 * Once per loop turn, after the batch: jobs whose client left are ended
 * (before anyone can be given its slot), stalled ones too, and clients
 * of the rest hear of their progress.
 */
void
control_jobs_tick(struct server *s)
{
	uint64_t now = s->clock.ms, stall = (uint64_t)s->cfg.control_job_s * 1000;

	for (size_t i = 0; i < SERVER_MAX_CHILDREN; i++) {
		struct child *ch = &s->children[i];
		struct ctl_conn *c;

		if (ch->feed.fd < 0)
			continue;
		if (!(c = job_client(ch))) {
			job_end(ch, 1);
		} else if (now - ch->last_progress >= stall) {
			log_warnx("%s-cache for pid %d uid %u: nothing moved for %u s; ended",
			    ch->command == FDT_CTL_DUMP_CACHE ? "dump" : "load", (int)c->pid,
			    (unsigned)c->uid, s->cfg.control_job_s);
			ctl_reply(c, ETIMEDOUT, ch->done,
			    "%s ended after %llu entries: nothing moved for %u s",
			    ch->command == FDT_CTL_DUMP_CACHE ? "dump" : "load",
			    (unsigned long long)ch->done, s->cfg.control_job_s);
			c->last_active = now;
			job_end(ch, 1);
		} else if (ch->moved && now - ch->last_reported >= PROGRESS_EVERY_MS) {
			ch->last_reported = now;
			ch->moved = 0;
			ctl_progress(c, ch->done);
			if (!job_client(ch))	/* it did not take it: gone */
				job_end(ch, 1);
		}
	}
}

/* When a job next needs looking at: its stall bound, or progress to report. */
uint64_t
control_jobs_deadline(const struct server *s)
{
	uint64_t next = UINT64_MAX, stall = (uint64_t)s->cfg.control_job_s * 1000;

	for (size_t i = 0; i < SERVER_MAX_CHILDREN; i++) {
		const struct child *ch = &s->children[i];
		uint64_t t;

		if (ch->feed.fd < 0)
			continue;
		if ((t = ch->last_progress + stall) < next)
			next = t;
		if (ch->moved && (t = ch->last_reported + PROGRESS_EVERY_MS) < next)
			next = t;
	}
	return next;
}

/* At exit: no child outlives us. */
void
control_jobs_close(struct server *s)
{
	for (size_t i = 0; i < SERVER_MAX_CHILDREN; i++) {
		struct child *ch = &s->children[i];
		job_end(ch, 1);
		if (ch->w.fd >= 0) {
			waitpid(ch->pid, NULL, 0);
			close(ch->w.fd);
			ch->w.fd = -1;
		}
	}
}
