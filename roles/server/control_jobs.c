/*
 * Dumps and loads, the loop's side: a job is a forked child (what it runs
 * is control_child.c), watched through its pidfd and reaped when it ends.
 * A dump's child answers its client itself; a load's feeds us parsed
 * entries over a socketpair, a batch per wake-up, and we answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

/* --- dump-cache ---------------------------------------------------------- */

void
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
		control_dump_child(s, fd, c->w.fd, c->id);
	close(fd);
	child_start(s, ch, pid);
	log_info("dump-cache for pid %d uid %u: written by pid %d", (int)c->pid,
	    (unsigned)c->uid, (int)pid);
	ctl_close(c);		/* the child answers it now */
}

/* --- load-cache ---------------------------------------------------------- */

void
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
		control_loader_child(fd, sv[1]);
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

/* The big-endian counts of a loader's 'D' record. */
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

/* Once per loop turn: a loader's progress, or its end if its client left. */
void
control_jobs_tick(struct server *s)
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
}

/* At exit: no child outlives us. */
void
control_jobs_close(struct server *s)
{
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
}
