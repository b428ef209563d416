/*
 * Building and loading an allow-list filter with libseccomp, and the probe
 * that proves a filter kills.  Hand-written BPF has to get each
 * architecture's numbers, the audit-arch check and x32 right; libseccomp
 * does all three.
 */
#include "common/seccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Development aid: built with -DFDTOOL_SECCOMP_LOG_ONLY, a call off the
 * list is allowed and logged by the kernel (dmesg: type=1326 ... syscall=N)
 * instead of killing, so one run of the tests finds every missing call.
 * Never for use: the probe passes without proving anything.
 */
#ifdef FDTOOL_SECCOMP_LOG_ONLY
#define SECCOMP_DEFAULT_ACTION	SCMP_ACT_LOG
#else
#define SECCOMP_DEFAULT_ACTION	SCMP_ACT_KILL_PROCESS
#endif

#ifdef FDTOOL_ASAN
/*
 * What the ASan/UBSan runtime calls on its own: its allocator's mappings,
 * reports (the symbolizer reads /proc/self/maps and the binary, writes,
 * exits), and LeakSanitizer at exit, which stops the world from a thread
 * made with clone and read with ptrace.  Sanitizer builds only.
 */
static const char *const asan_syscalls[] = {
	"clone", "ptrace", "wait4", "prctl", "sched_yield", "getpid", "getppid",
	"gettid", "tgkill", "futex", "sigaltstack", "rt_sigaction",
	"rt_sigprocmask", "mmap", "munmap", "madvise", "mprotect", "open",
	"openat", "readlink", "readlinkat", "newfstatat", "fstat", "lseek",
	"pread64", "getdents", "getdents64", "read", "write", "close", "poll",
	"nanosleep", "clock_nanosleep", "sched_getaffinity", "exit", "exit_group",
	NULL,
};
#endif

static int
listed(const char *const *names, const char *name)
{
	for (size_t i = 0; names && names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

/* n counts the calls allowed, each once, whatever lists named it. */
static int
add_list(scmp_filter_ctx ctx, const char *const *names, const char *const *before,
    size_t *n)
{
	for (size_t i = 0; names[i]; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		int r;
		if (nr == __NR_SCMP_ERROR)
			return -EINVAL;
		if (nr < 0 || listed(before, names[i]))
			continue;	/* not a call of this architecture; named already */
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) < 0 && r != -EEXIST)
			return r;
		if (r == 0)
			(*n)++;
	}
	return 0;
}

int
seccomp_allow_only(const char *const *names, size_t *nallowed)
{
	scmp_filter_ctx ctx = seccomp_init(SECCOMP_DEFAULT_ACTION);
	size_t n = 0;
	int r;

	if (!ctx)
		return -EOPNOTSUPP;	/* no kernel support for the action */
	/* no_new_privs is the caller's: libseccomp would need prctl for it */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	/* the kernel logs the kill (its audit record names the call) */
	if (r == 0)
		(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
	if (r == 0)
		r = add_list(ctx, names, NULL, &n);
#ifdef FDTOOL_ASAN
	if (r == 0)
		r = add_list(ctx, asan_syscalls, names, &n);
#endif
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r == 0 && nallowed)
		*nallowed = n;
	return r;
}

int
seccomp_lock(const char *const *names, size_t *nallowed)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;
	return seccomp_allow_only(names, nallowed);
}

int
seccomp_probe(const char *const *names)
{
	char *const none[] = { NULL };
	pid_t pid;
	int st, r;

	if ((pid = fork()) < 0)
		return -errno;
	if (pid == 0) {
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		if ((r = seccomp_lock(names, NULL)) < 0)
			_exit(-r < 126 ? -r : 125);
		execve("/", none, none);	/* EACCES, were it let through */
		_exit(0);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFSIGNALED(st))
		return WTERMSIG(st) == SIGSYS ? 0 : -ECHILD;
#ifdef FDTOOL_SECCOMP_LOG_ONLY
	if (WEXITSTATUS(st) == 0)
		return 0;
#endif
	return WEXITSTATUS(st) == 0 ? -EPERM : -WEXITSTATUS(st);
}
