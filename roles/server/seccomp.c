/*
 * The server's allow-list, found by reading the loop's code and by
 * running every integration test with the filter logging instead of
 * killing (docs/seccomp.md says how, and why each call is here).
 */
#include "roles/server/seccomp.h"

#include <stddef.h>

#include "common/seccomp.h"

const char *const server_syscalls[] = {
	/* the loop */
	"epoll_wait", "epoll_pwait", "epoll_ctl", "clock_gettime",
	"gettimeofday", "time", "restart_syscall", "rt_sigreturn",
	/* signals through signalfd, the log, the resolv.conf watch */
	"read", "write", "writev", "inotify_add_watch", "inotify_rm_watch",
	/* clients, upstreams (UDP, TCP after TC), control, sd_notify */
	"socket", "connect", "accept4", "recvfrom", "recvmsg", "recvmmsg",
	"sendto", "sendmsg", "sendmmsg", "setsockopt", "getsockopt",
	"getsockname", "getpeername", "shutdown", "socketpair", "close",
	"fcntl", "poll", "ppoll", "getrandom",
	/* our own addresses on a resolv.conf re-read: getifaddrs (netlink),
	 * if_nametoindex (ioctl SIOCGIFINDEX) */
	"bind", "ioctl",
	/* SIGHUP / inotify re-reads of the hosts file and resolv.conf */
	"openat", "newfstatat", "fstat", "readlink", "readlinkat", "access",
	"faccessat",
	/* malloc */
	"brk", "mmap", "munmap", "mremap", "madvise",
	/* dump and load children: fork, pidfd watch, reaping */
	"clone", "set_robust_list", "pidfd_open", "waitid", "wait4", "kill",
	"getpid", "dup3", "close_range", "rt_sigaction", "rt_sigprocmask",
	"seccomp",
	/* counters read when asked: user-msec, sys-msec, real-memory-usage */
	"getrusage", "pread64",
	/* quit: the control socket removed, the creator stopped */
	"unlink", "unlinkat", "exit_group", "exit",
	/* 32-bit architectures: glibc's 64-bit time and offset calls */
	"clock_gettime64", "fcntl64", "mmap2", "ppoll_time64", "recvmmsg_time64",
	"fstatat64", "statx",
	NULL,
};

const char *const server_child_syscalls[] = {
	"poll", "ppoll", "read", "write", "writev", "sendto", "sendmsg",
	"recvfrom", "clock_gettime", "gettimeofday", "time", "restart_syscall",
	"rt_sigreturn", "brk", "mmap", "munmap", "mremap", "madvise",
	"close", "exit_group", "exit",
	"clock_gettime64", "mmap2", "ppoll_time64",	/* 32-bit architectures */
	NULL,
};

int
server_seccomp_load(void)
{
	return seccomp_lock(server_syscalls, NULL);
}

int
server_seccomp_child(void)
{
	return seccomp_allow_only(server_child_syscalls, NULL);
}
