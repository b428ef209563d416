/*
 * The creator's allow-list, found by reading its loop and by running the
 * tests with the filter logging instead of killing (docs/seccomp.md).
 */
#include "roles/creator_seccomp.h"

#include <stddef.h>

#include "common/seccomp.h"

const char *const creator_syscalls[] = {
	/* the loop, its signals, the log */
	"epoll_wait", "epoll_pwait", "epoll_ctl", "read", "write", "writev",
	"clock_gettime", "gettimeofday", "restart_syscall", "rt_sigreturn",
	/* peers: accept, check, records with descriptors, refusals */
	"accept4", "getsockopt", "recvmsg", "sendmsg", "recvfrom", "shutdown",
	"poll", "ppoll", "close", "fcntl",
	/* binding what the policy allows */
	"socket", "setsockopt", "bind", "listen",
	/* sd_notify STOPPING=1, the socket removed at exit */
	"sendto", "unlink", "unlinkat",
	/* malloc (stdio), exit */
	"brk", "mmap", "munmap", "mremap", "madvise", "exit_group", "exit",
	/* 32-bit architectures: glibc's 64-bit time and offset calls */
	"clock_gettime64", "fcntl64", "mmap2", "ppoll_time64",
	NULL,
};

int
creator_seccomp_load(void)
{
	return seccomp_lock(creator_syscalls, NULL);
}
