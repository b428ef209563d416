/*
 * Forking, watching and reaping the server's children, the parent's side.
 * The pid stays ours until we reap it (an unreaped child is a zombie at
 * worst), so kill() is safe exactly while the pidfd is open.
 */
#include "roles/server/child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t
child_fork(struct child *ch, enum server_kind kind)
{
	pid_t pid;
	int pidfd, r;

	*ch = (struct child){ .w = { kind, -1 } };
	if ((pid = fork()) <= 0)
		return pid < 0 ? -errno : 0;
	if ((pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0) {
		r = -errno;
		kill(pid, SIGKILL);	/* unreaped: still ours */
		waitpid(pid, NULL, 0);
		return r;
	}
	fcntl(pidfd, F_SETFD, FD_CLOEXEC);
	ch->w.fd = pidfd;
	ch->pid = pid;
	return pid;
}

int
child_reap(struct child *ch, siginfo_t *si)
{
	int r = 0;

	*si = (siginfo_t){ 0 };
	if (ch->w.fd < 0)
		return -ECHILD;
	if (waitid(P_PIDFD, (id_t)ch->w.fd, si, WEXITED | WNOHANG) != 0)
		r = -errno;
	else if (si->si_pid == 0)
		return 0;
	close(ch->w.fd);
	ch->w.fd = -1;
	return r < 0 ? r : 1;
}

void
child_kill(struct child *ch, int sig)
{
	if (ch->w.fd < 0 || ch->pid <= 0 || (ch->killed && sig == SIGKILL))
		return;
	kill(ch->pid, sig);
	if (sig == SIGKILL)
		ch->killed = 1;
}

int
child_wait(struct child *ch, int timeout_ms)
{
	struct pollfd p = { .fd = ch->w.fd, .events = POLLIN };
	siginfo_t si;
	int r;

	if (ch->w.fd < 0)
		return 1;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR && timeout_ms < 0);
	if (r != 1)
		return 0;
	return child_reap(ch, &si) != 0;
}
