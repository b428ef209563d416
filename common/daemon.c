/*
 * Signals through signalfd, so no work happens in a signal handler, and
 * the one clock the timeouts use.
 */
#include "common/daemon.h"

#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <time.h>

int
daemon_signalfd(int with_hup)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (with_hup)
		sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	/* an ignored SIGCHLD survives exec and would have the kernel reap our
	 * children itself: their pidfds would then never be waited on */
	signal(SIGCHLD, SIG_DFL);
	if ((fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		return -errno;
	return fd;
}

uint64_t
daemon_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
