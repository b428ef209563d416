/*
 * The server's child helpers (roles/server/child.h): a child forked with
 * its pidfd, seen running, reaped once; killed only while unreaped; and
 * child_keep() leaving exactly the descriptors it was given, at 3 and up.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "roles/server/child.h"
#include "tests/helpers.h"

Test(child, forked_watched_and_reaped_once, .timeout = 10)
{
	struct child ch;
	siginfo_t si;
	int before = count_fds(0);
	pid_t pid = child_fork(&ch, K_CHILD);

	if (pid == 0)
		_exit(3);
	cr_assert_gt(pid, 0);
	cr_assert_eq(ch.pid, pid);
	cr_assert_eq(ch.w.kind, K_CHILD);
	cr_assert_geq(ch.w.fd, 0);
	cr_assert(fcntl(ch.w.fd, F_GETFD) & FD_CLOEXEC, "the pidfd is close-on-exec");
	cr_assert_eq(child_wait(&ch, 5000), 1);
	cr_assert_eq(ch.w.fd, -1);
	cr_assert_eq(count_fds(0), before, "the pidfd is closed once reaped");
	cr_assert_eq(child_reap(&ch, &si), -ECHILD, "reaped once");
	cr_assert_eq(child_wait(&ch, 0), 1);
	child_kill(&ch, SIGKILL);	/* reaped: no signal to a pid no longer ours */
	cr_assert_eq(ch.killed, 0);
}

Test(child, a_running_child_is_killed_and_says_so, .timeout = 10)
{
	struct child ch;
	siginfo_t si;
	pid_t pid = child_fork(&ch, K_CREATOR_PID);
	int r;

	if (pid == 0) {
		pause();
		_exit(0);
	}
	cr_assert_eq(child_reap(&ch, &si), 0, "still running");
	cr_assert_eq(child_wait(&ch, 50), 0, "still running after 50 ms");
	child_kill(&ch, SIGKILL);
	cr_assert_eq(ch.killed, 1);
	while ((r = child_reap(&ch, &si)) == 0)
		usleep(1000);
	cr_assert_eq(r, 1);
	cr_assert_eq(si.si_code, CLD_KILLED);
	cr_assert_eq(si.si_status, SIGKILL);
	cr_assert_eq(si.si_pid, pid);
}

Test(child, keep_leaves_exactly_the_given_descriptors, .timeout = 10)
{
	struct child ch;
	int sv[2], extra = open("/dev/null", O_RDONLY);	/* not close-on-exec: still closed */
	sigset_t set;
	siginfo_t si;
	pid_t pid;
	char c = 0;
	int r;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((pid = child_fork(&ch, K_CHILD)) == 0) {
		int fds[2] = { sv[1], extra };
		char k = 'k';

		if (child_keep(fds, 2) != 0 || fds[0] != 3 || fds[1] != 4)
			_exit(10);
		int stdio = (fcntl(0, F_GETFD) >= 0) + (fcntl(1, F_GETFD) >= 0) +
		    (fcntl(2, F_GETFD) >= 0);
		if (count_fds(0) != stdio + 2)	/* stdio, 3, 4 */
			_exit(11);
		if (!(fcntl(3, F_GETFD) & FD_CLOEXEC) || !(fcntl(4, F_GETFD) & FD_CLOEXEC))
			_exit(12);
		sigprocmask(SIG_SETMASK, NULL, &set);
		if (sigismember(&set, SIGTERM))
			_exit(13);
		if (write(3, &k, 1) != 1)
			_exit(14);
		_exit(0);
	}
	cr_assert_gt(pid, 0);
	close(sv[1]);
	close(extra);
	while ((r = child_reap(&ch, &si)) == 0)
		usleep(1000);
	cr_assert_eq(r, 1);
	cr_assert(si.si_code == CLD_EXITED && si.si_status == 0, "the child's check %d failed",
	    si.si_status);
	cr_assert_eq(read(sv[0], &c, 1), 1, "the kept socket works");
	cr_assert_eq(c, 'k');
	close(sv[0]);
}
