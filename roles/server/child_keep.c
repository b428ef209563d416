/*
 * What a freshly forked child runs first: it keeps only the descriptors
 * it was handed (else it would hold TCP clients, upstream sockets and
 * the control socket open after the loop closes them) and takes back
 * the signals the loop handles through signalfd.
 */
#include <fcntl.h>
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "roles/server/child.h"

int
child_keep(int *fds, int n)
{
	sigset_t all;

	/* out of the way first, so moving one onto 3 + i clobbers no other */
	for (int i = 0; i < n; i++) {
		int moved = fcntl(fds[i], F_DUPFD_CLOEXEC, 3 + n);
		if (moved < 0)
			return -errno;
		fds[i] = moved;
	}
	for (int i = 0; i < n; i++) {
		if (dup3(fds[i], 3 + i, O_CLOEXEC) < 0)
			return -errno;
		fds[i] = 3 + i;
	}
	if (syscall(SYS_close_range, 3 + n, ~0U, 0) != 0)
		return -errno;
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigemptyset(&all);
	return sigprocmask(SIG_SETMASK, &all, NULL) == 0 ? 0 : -errno;
}
