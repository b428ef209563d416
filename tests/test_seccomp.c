/*
 * The system-call filters: each role's list loaded in a forked child lets
 * the calls its loop makes through and kills the process with SIGSYS on
 * any other; a dump or load child's narrower list stacks on the server's;
 * the probe tells a filter that kills from one that does not.  Every
 * filter is loaded in a child of the test, never in the test itself
 * (Criterion's own reporting would need calls no list has).
 */
#include "common/seccomp.h"
#include "roles/creator_seccomp.h"
#include "roles/server/seccomp.h"

#include <criterion/criterion.h>
#include <seccomp.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { LOAD_FAILED = 100, CALL_FAILED = 101 };

/* What a filtered child does once its filter is in place. */
typedef int (*after_fn)(void);

/* Fork, load with load(), run after(); the child's wait status. */
static int
in_filtered_child(int (*load)(void), after_fn after)
{
	int st;
	pid_t pid = fork();

	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (load() < 0)
			_exit(LOAD_FAILED);
		_exit(after() == 0 ? 0 : CALL_FAILED);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return st;
}

static void
assert_killed_by_sigsys(int st)
{
	cr_assert(!WIFEXITED(st) || WEXITSTATUS(st) != LOAD_FAILED,
	    "the filter could not be loaded");
	cr_assert(WIFSIGNALED(st), "the child was not killed (exit status %d)",
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	cr_assert_eq(WTERMSIG(st), SIGSYS, "killed by signal %d, not SIGSYS", WTERMSIG(st));
}

static void
assert_exited_ok(int st)
{
	cr_assert(WIFEXITED(st), "killed by signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
	cr_assert_eq(WEXITSTATUS(st), 0, "exit status %d (%s)", WEXITSTATUS(st),
	    WEXITSTATUS(st) == LOAD_FAILED ? "the filter could not be loaded" :
	    "an allowed call failed");
}

/* Allowed calls: getrandom (upstream ids), a socket (upstream queries). */
static int
allowed_server_calls(void)
{
	char buf[8];
	int fd;

	if (getrandom(buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
		return -1;
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	return close(fd);
}

static int
allowed_creator_calls(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	return close(fd);
}

/* Forbidden everywhere: running a program, changing the filesystem. */
static int
call_execve(void)
{
	char *const none[] = { NULL };

	execve("/", none, none);
	return 0;
}

static int
call_mkdir(void)
{
	mkdir("/nonexistent-fdtool-seccomp-test", 0700);
	return 0;
}

static int
call_socket(void)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	if (fd >= 0)
		close(fd);
	return 0;
}

/* Server filter, then a dump child's narrower one on top. */
static int
load_server_then_child(void)
{
	int r = server_seccomp_load();

	return r < 0 ? r : server_seccomp_child();
}

Test(seccomp, server_allows_its_calls, .timeout = 10)
{
	assert_exited_ok(in_filtered_child(server_seccomp_load, allowed_server_calls));
}

Test(seccomp, server_kills_execve_with_sigsys, .timeout = 10)
{
	assert_killed_by_sigsys(in_filtered_child(server_seccomp_load, call_execve));
}

Test(seccomp, server_kills_mkdir_with_sigsys, .timeout = 10)
{
	assert_killed_by_sigsys(in_filtered_child(server_seccomp_load, call_mkdir));
}

Test(seccomp, creator_allows_its_calls, .timeout = 10)
{
	assert_exited_ok(in_filtered_child(creator_seccomp_load, allowed_creator_calls));
}

Test(seccomp, creator_kills_execve_with_sigsys, .timeout = 10)
{
	assert_killed_by_sigsys(in_filtered_child(creator_seccomp_load, call_execve));
}

Test(seccomp, dump_child_narrows_further, .timeout = 10)
{
	/* socket is the server's, not a dump child's */
	assert_exited_ok(in_filtered_child(server_seccomp_load, call_socket));
	assert_killed_by_sigsys(in_filtered_child(load_server_then_child, call_socket));
}

Test(seccomp, probe_proves_each_list, .timeout = 10)
{
	cr_assert_eq(seccomp_probe(server_syscalls), 0);
	cr_assert_eq(seccomp_probe(server_child_syscalls), 0);
	cr_assert_eq(seccomp_probe(creator_syscalls), 0);
}

Test(seccomp, probe_catches_a_list_that_allows_its_call, .timeout = 10)
{
	static const char *const lax[] = { SECCOMP_PROBE_CALL, "exit_group", "exit", NULL };

	cr_assert_eq(seccomp_probe(lax), -EPERM);
}

Test(seccomp, no_list_names_the_probe_call)
{
	const char *const *lists[] = { server_syscalls, server_child_syscalls,
		creator_syscalls };

	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
		for (size_t i = 0; lists[l][i]; i++)
			cr_assert_str_neq(lists[l][i], SECCOMP_PROBE_CALL);
}

Test(seccomp, unknown_name_is_refused, .timeout = 10)
{
	static const char *const bad[] = { "read", "no_such_call", NULL };
	int st;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0)	/* nothing is loaded when a name is wrong */
		_exit(seccomp_allow_only(bad, NULL) == -EINVAL ? 0 : 1);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/*
 * The lists are x86-64's names; elsewhere glibc makes other calls for
 * the same work.  On each architecture Debian builds for, a name the
 * architecture lacks needs its replacement listed (arm64 has no readlink
 * or unlink), and on the 32-bit ones glibc 2.36's 64-bit time and offset
 * calls must be there too: a list that misses them kills the role there
 * at its first such call.
 */
struct arch_need {
	const char *name;	/* when the list has this ... */
	const char *need;	/* ... it needs this too ... */
	int only_32;		/* ... on 32-bit architectures only, else where name is missing */
};

static const struct arch_need needs[] = {
	{ "readlink", "readlinkat", 0 }, { "unlink", "unlinkat", 0 },
	{ "open", "openat", 0 }, { "epoll_wait", "epoll_pwait", 0 },
	{ "poll", "ppoll", 0 }, { "access", "faccessat", 0 },
	{ "time", "clock_gettime", 0 }, { "getdents", "getdents64", 0 },
	{ "clock_gettime", "clock_gettime64", 1 }, { "fcntl", "fcntl64", 1 },
	{ "mmap", "mmap2", 1 }, { "ppoll", "ppoll_time64", 1 },
	{ "recvmmsg", "recvmmsg_time64", 1 }, { "newfstatat", "fstatat64", 1 },
};

static int
has(const char *const *list, const char *name)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], name) == 0)
			return 1;
	return 0;
}

Test(seccomp, every_architecture_has_what_glibc_calls)
{
	static const struct { uint32_t arch; const char *name; int is32; } arches[] = {
		{ SCMP_ARCH_X86_64, "x86-64", 0 }, { SCMP_ARCH_AARCH64, "arm64", 0 },
		{ SCMP_ARCH_X86, "i386", 1 }, { SCMP_ARCH_ARM, "armhf", 1 },
	};
	const char *const *lists[] = { server_syscalls, server_child_syscalls,
		creator_syscalls };

	for (size_t a = 0; a < sizeof(arches) / sizeof(arches[0]); a++)
		for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
			for (size_t n = 0; n < sizeof(needs) / sizeof(needs[0]); n++) {
				const struct arch_need *d = &needs[n];
				int missing = seccomp_syscall_resolve_name_arch(arches[a].arch,
				    d->name) < 0;

				if (!has(lists[l], d->name) ||
				    (d->only_32 ? !arches[a].is32 : !missing))
					continue;
				cr_assert(has(lists[l], d->need) &&
				    seccomp_syscall_resolve_name_arch(arches[a].arch,
				    d->need) >= 0, "list %zu has %s: on %s it needs %s", l,
				    d->name, arches[a].name, d->need);
			}
}
