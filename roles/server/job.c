/*
 * Jobs, the loop's side, whatever their kind: the slots, forking the
 * child and tying it to its client, reading what it reports, reaping it,
 * and ending a job whose client left or that stalled.  We answer the
 * client, so a job ended here can still tell it why.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/jobmsg.h"
#include "common/log.h"
#include "roles/server/control.h"
#include "roles/server/job.h"

#define JOB_BATCH	256	/* records taken per wake-up: fair to DNS */

/* Every slot free, before the loop runs. */
void
control_jobs_init(struct server *s)
{
	for (size_t i = 0; i < SERVER_MAX_CHILDREN; i++)
		s->jobs[i] = (struct job){ .proc = { .w = { K_CHILD, -1 } },
			.feed = { K_LOADER, -1 } };
}

static struct job *
job_slot(struct server *s)
{
	for (size_t i = 0; i < SERVER_MAX_CHILDREN; i++)
		if (s->jobs[i].proc.w.fd < 0 && s->jobs[i].feed.fd < 0)
			return &s->jobs[i];
	return NULL;
}

/* The job's client, if it is still there: the slot may hold someone else now. */
static struct ctl_conn *
job_client(const struct job *j)
{
	struct ctl_conn *c = j->conn;

	if (!c || c->gen != j->conn_gen || c->w.fd < 0)
		return NULL;
	return c;
}

/*
 * The job is over for its client: what the child still sends is dropped
 * unread with the socket, and the slot of the client is free again.
 * With stop, a child still running is killed; its pidfd then reaps it.
 */
static void
job_end(struct job *j, int stop)
{
	if (stop)
		child_kill(&j->proc, SIGKILL);
	if (j->feed.fd >= 0)
		close(j->feed.fd);
	j->feed.fd = -1;
	if (j->conn && j->conn->job == j)
		j->conn->job = NULL;
	j->conn = NULL;
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

void
job_start(struct server *s, struct ctl_conn *c, int fd, enum job_kind kind,
    const struct job_ops *ops)
{
	struct job *j = job_slot(s);
	struct child proc;
	int sv[2];
	pid_t pid;

	if (!fd_mode_ok(fd, ops->writes)) {
		ctl_reply(c, EBADF, 0, "the descriptor passed is not open for %s",
		    ops->writes ? "writing" : "reading");
		close(fd);
		return;
	}
	if (fd_is_ours(fd)) {
		ctl_reply(c, EINVAL, 0, "the descriptor passed is a connection to this server");
		close(fd);
		return;
	}
	if (!j) {
		ctl_reply(c, EBUSY, 0, "too many dumps and loads at once; try again");
		close(fd);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		ctl_reply(c, errno, 0, "cannot start the %s: %s", ops->name, strerror(errno));
		close(fd);
		return;
	}
	if ((pid = child_fork(&proc, K_CHILD)) < 0) {
		ctl_reply(c, -pid, 0, "cannot start the %s: %s", ops->name, strerror(-pid));
		close(fd);
		close(sv[0]);
		close(sv[1]);
		return;
	}
	if (pid == 0) {
		ops->child(s, kind, fd, sv[1]);
		_exit(1);
	}
	close(fd);
	close(sv[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	*j = (struct job){ .proc = proc, .feed = { K_LOADER, sv[0] }, .kind = kind,
		.ops = ops, .conn = c, .conn_gen = c->gen,
		.last_progress = s->clock.ms, .last_reported = s->clock.ms };
	c->job = j;
	if (loop_watch(s->epfd, &j->proc.w, EPOLLIN, &j->proc.w) < 0 ||
	    loop_watch(s->epfd, &j->feed, EPOLLIN, &j->feed) < 0) {
		ctl_reply(c, EIO, 0, "cannot watch the %s", ops->name);
		job_end(j, 1);
		child_wait(&j->proc, -1);	/* unwatched, it would never be reaped */
		return;
	}
	log_info("%s for pid %d uid %u: %s by pid %d", ops->command, (int)c->pid,
	    (unsigned)c->uid, ops->writes ? "written" : "read", (int)pid);
}

/* The pidfd woke us: the child ended. */
void
server_dispatch_child(struct server *s, struct watched *w)
{
	struct job *j = (struct job *)(void *)((char *)w - offsetof(struct job, proc.w));
	siginfo_t si;
	int r;

	(void)s;
	if ((r = child_reap(&j->proc, &si)) == 0)
		return;
	if (r < 0)
		log_warnx("control helper pid %d: waitid: %s", (int)j->proc.pid, strerror(-r));
	else if (j->proc.killed)
		log_debug("control helper pid %d ended as we asked", (int)j->proc.pid);
	else if (si.si_code != CLD_EXITED || si.si_status != 0)
		log_warnx("control helper pid %d ended with %s %d", (int)j->proc.pid,
		    si.si_code == CLD_EXITED ? "status" : "signal", si.si_status);
}

/*
 * What the child reports.  Its last word answers the client; an end of
 * stream without it, or a record that is not this kind's, ends the job
 * early (and its client, waiting on it, was not idle meanwhile).
 */
void
server_dispatch_job(struct server *s, struct watched *w)
{
	static uint8_t buf[JOBMSG_MAX];
	struct job *j = (struct job *)(void *)((char *)w - offsetof(struct job, feed));

	for (int i = 0; i < JOB_BATCH && j->feed.fd >= 0; i++) {
		struct ctl_conn *c = job_client(j);
		struct jobmsg m;
		int r, over;

		if (!c) {		/* its client left: nobody to work for */
			job_end(j, 1);
			return;
		}
		r = jobmsg_recv(j->feed.fd, buf, sizeof(buf), &m, MSG_DONTWAIT);
		if (r == -EAGAIN)
			return;
		over = r == 0 ? j->ops->record(s, j, c, &m) : r;
		if (over == 0) {
			j->last_progress = s->clock.ms;
			j->moved = 1;
			continue;
		}
		c->last_active = s->clock.ms;
		if (r == 0 && over == 1) {
			job_end(j, 0);
			return;
		}
		if (over < 0 && over != -ECONNRESET)	/* not just gone: confused */
			log_warnx("%s for pid %d uid %u: the child's report: %s", j->ops->command,
			    (int)c->pid, (unsigned)c->uid, strerror(-over));
		ctl_reply(c, EIO, j->done, "the %s ended early after %llu entries",
		    j->ops->name, (unsigned long long)j->done);
		job_end(j, 1);
		return;
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
		struct job *j = &s->jobs[i];
		struct ctl_conn *c;

		if (j->feed.fd < 0)
			continue;
		if (!(c = job_client(j))) {
			job_end(j, 1);
		} else if (now - j->last_progress >= stall) {
			log_warnx("%s for pid %d uid %u: nothing moved for %u s; ended",
			    j->ops->command, (int)c->pid, (unsigned)c->uid, s->cfg.control_job_s);
			ctl_reply(c, ETIMEDOUT, j->done,
			    "%s ended after %llu entries: nothing moved for %u s",
			    j->ops->name, (unsigned long long)j->done, s->cfg.control_job_s);
			c->last_active = now;
			job_end(j, 1);
		} else if (j->moved && now - j->last_reported >= PROGRESS_EVERY_MS) {
			j->last_reported = now;
			j->moved = 0;
			ctl_progress(c, j->done);
			if (!job_client(j))	/* it did not take it: gone */
				job_end(j, 1);
		}
	}
}

/* When a job next needs looking at: its stall bound, or progress to report. */
uint64_t
control_jobs_deadline(const struct server *s)
{
	uint64_t next = UINT64_MAX, stall = (uint64_t)s->cfg.control_job_s * 1000;

	for (size_t i = 0; i < SERVER_MAX_CHILDREN; i++) {
		const struct job *j = &s->jobs[i];
		uint64_t t;

		if (j->feed.fd < 0)
			continue;
		if ((t = j->last_progress + stall) < next)
			next = t;
		if (j->moved && (t = j->last_reported + PROGRESS_EVERY_MS) < next)
			next = t;
	}
	return next;
}

/* At exit: no child outlives us. */
void
control_jobs_close(struct server *s)
{
	for (size_t i = 0; i < SERVER_MAX_CHILDREN; i++) {
		job_end(&s->jobs[i], 1);
		child_wait(&s->jobs[i].proc, -1);
	}
}
