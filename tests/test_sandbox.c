/*
 * The server's Landlock sandbox: unsandboxed the probe must see its writes
 * succeed; sandboxed nothing can be created or opened for writing, only the
 * listed paths read, and TCP can only connect to the listed ports.
 * Criterion forks each test, so each test enters a sandbox of its own.
 */
#include "roles/server/sandbox.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/landlock.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/helpers.h"

#define CONTENT "fdtool sandbox test\n"

/*
 * LeakSanitizer reads /proc/<pid>/task and maps at exit; /proc/self
 * resolves to this process's own directory, so only that becomes readable.
 */
#define SELF "/proc/self"

static char tmpdir[64];
static char file[128];		/* the one readable file, F */
static char dump_path[128];	/* opened for writing before the sandbox */
static char new_path[128];	/* what the sandbox must not let us create */
static pid_t cleaner = -1;

static int
landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? -errno : (int)abi;
}

static int
need_landlock(int min_abi)
{
	int abi = landlock_abi();

	if (abi < 0)
		cr_skip_test("Landlock is not available here: %s", strerror(-abi));
	if (abi < min_abi)
		cr_skip_test("kernel Landlock ABI %d, this test needs >= %d",
		    abi, min_abi);
	return abi;
}

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

/*
 * A sandboxed test cannot remove its own files, so a child forked before
 * the sandbox waits for the test process to go (its pipe reaches EOF) and
 * removes them then.  It holds no other descriptor of ours.
 */
static void
start_cleaner(void)
{
	int p[2];
	char c;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0, "pipe2: %s", strerror(errno));
	cleaner = fork();
	cr_assert(cleaner >= 0, "fork: %s", strerror(errno));
	if (cleaner == 0) {
		if (dup2(p[0], 3) < 0)
			_exit(1);
		close_range(4, ~0U, 0);
		while (read(3, &c, 1) < 0 && errno == EINTR)
			;
		nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
		unlink(dump_path);
		unlink(new_path);
		_exit(0);
	}
	close(p[0]);
	/* p[1] stays open until this test process exits */
}

static void
setup(void)
{
	int fd;

	cr_assert(make_tmpdir(tmpdir, sizeof(tmpdir)), "mkdtemp");
	snprintf(file, sizeof(file), "%s/readable", tmpdir);
	snprintf(dump_path, sizeof(dump_path), "/tmp/fdtool-sandbox-dump.%ld",
	    (long)getpid());
	snprintf(new_path, sizeof(new_path), "/tmp/fdtool-sandbox-new.%ld",
	    (long)getpid());
	fd = open(file, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	cr_assert(fd >= 0, "create %s: %s", file, strerror(errno));
	cr_assert_eq(write(fd, CONTENT, strlen(CONTENT)), (ssize_t)strlen(CONTENT));
	close(fd);
	start_cleaner();
}

/* Counted by fcntl, since /proc is unreadable inside the sandbox. */
static int
open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

/* -errno of a failed open, or 0 after closing what it opened. */
static int
try_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/*
 * -errno of execv in a child, or 0 if the program ran: a child, so that
 * a sandbox that lets it run cannot replace the test process.
 */
static int
try_exec(const char *path)
{
	char *const argv[] = { (char *)(uintptr_t)path, NULL };
	int status;
	pid_t pid = fork();

	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		execv(path, argv);
		_exit(errno == 0 ? 255 : errno);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "%s: wait status %#x", path, status);
	return WEXITSTATUS(status) == 0 ? 0 : -WEXITSTATUS(status);
}

/*
 * A deliberately partial Landlock sandbox, handling only the given
 * filesystem rights with no rules, to show what the probe catches.
 */
static void
restrict_fs(uint64_t handled)
{
	struct landlock_ruleset_attr attr = { .handled_access_fs = handled };
	int rs;

	cr_assert_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	cr_assert(rs >= 0, "landlock_create_ruleset: %s", strerror(errno));
	cr_assert_eq(syscall(SYS_landlock_restrict_self, rs, 0), 0,
	    "landlock_restrict_self: %s", strerror(errno));
	close(rs);
}

static int
tcp_listener(unsigned *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0,
	    "bind: %s", strerror(errno));
	cr_assert_eq(listen(fd, 4), 0, "listen: %s", strerror(errno));
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* -errno of connect()/bind() on a fresh socket, or 0. */
static int
try_inet(int type, int do_connect, unsigned port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	int r;

	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	if (do_connect)
		r = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	else
		r = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	r = r == 0 ? 0 : -errno;
	close(fd);
	return r;
}

Test(sandbox, probe_sees_writes_unsandboxed, .timeout = 10)
{
	char leftover[256];

	setup();
	cr_assert_eq(sandbox_probe(tmpdir, file), -EPERM,
	    "the probe must report that an unsandboxed process can write");
	snprintf(leftover, sizeof(leftover), "%s/fdtool-sandbox-probe.%ld",
	    tmpdir, (long)getpid());
	cr_assert_eq(access(leftover, F_OK), -1, "the probe left %s behind", leftover);
	cr_assert_eq(sandbox_probe("/nonexistent-fdtool-dir", file), -ENOENT,
	    "a missing directory must not pass for a refusal");
}

Test(sandbox, filesystem_is_read_only, .timeout = 10)
{
	const char *paths[] = { file, SELF, NULL };
	const uint16_t ports[] = { 53 };
	char buf[64] = { 0 };
	char path[256];
	int abi, fds, dump, fd;
	ssize_t n;

	abi = need_landlock(1);
	setup();
	dump = open(dump_path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	cr_assert(dump >= 0, "open %s: %s", dump_path, strerror(errno));
	fds = open_fds();

	cr_assert_eq(sandbox_enter(paths, ports, 1), abi,
	    "sandbox_enter must return the kernel's ABI %d", abi);
	cr_assert_eq(open_fds(), fds, "sandbox_enter leaked a descriptor");
	cr_assert_eq(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1);

	cr_assert_eq(try_open(new_path, O_CREAT | O_EXCL | O_WRONLY), -EACCES,
	    "created a file in /tmp");
	snprintf(path, sizeof(path), "%s/new", tmpdir);
	cr_assert_eq(try_open(path, O_CREAT | O_EXCL | O_WRONLY), -EACCES,
	    "created a file in %s", tmpdir);
	cr_assert_eq(mkdir(path, 0700), -1);
	cr_assert_eq(errno, EACCES, "mkdir: %s", strerror(errno));
	cr_assert_eq(try_open(file, O_WRONLY), -EACCES, "opened F for writing");
	cr_assert_eq(try_open(file, O_RDWR), -EACCES, "opened F read-write");
	cr_assert_eq(truncate(file, 0), -1, "truncated F");
	cr_assert_eq(unlink(file), -1, "removed F");

	fd = open(file, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0, "F is listed but unreadable: %s", strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	cr_assert_eq(n, (ssize_t)strlen(CONTENT));
	cr_assert_str_eq(buf, CONTENT);

	cr_assert_eq(try_open("/etc/passwd", O_RDONLY), -EACCES,
	    "read a file that is not listed");
	cr_assert_eq(try_open(tmpdir, O_RDONLY | O_DIRECTORY), -EACCES,
	    "listed a directory that is not listed");
	cr_assert_eq(try_exec("/bin/true"), -EACCES, "ran /bin/true");

	cr_assert_eq(sandbox_probe(tmpdir, file), 0);
	cr_assert_eq(sandbox_probe("/tmp", file), 0);
	cr_assert_eq(sandbox_probe("/nonexistent-fdtool-dir", file), -ENOENT,
	    "a missing directory must not pass for a refusal");
	cr_assert_eq(sandbox_probe(tmpdir, tmpdir), -EISDIR,
	    "a directory as existing_file must not pass for a refusal");

	/* the server writes its dumps into descriptors it was given */
	cr_assert_eq(write(dump, "x", 1), 1, "write to a pre-opened fd: %s",
	    strerror(errno));
	cr_assert_eq(ftruncate(dump, 0), 0, "ftruncate a pre-opened fd: %s",
	    strerror(errno));
	close(dump);

	/* not scoped: the server must still signal its creator */
	cr_assert_eq(kill(cleaner, 0), 0, "signal a process from before the sandbox: %s",
	    strerror(errno));
}

Test(sandbox, tcp_connect_only_to_listed_ports, .timeout = 10)
{
	unsigned allowed, other;
	int lallowed, lother;
	uint16_t ports[2] = { 53, 0 };
	const char *paths[] = { file, SELF, NULL };

	need_landlock(4);
	setup();
	lallowed = tcp_listener(&allowed);
	lother = tcp_listener(&other);
	ports[1] = (uint16_t)allowed;
	/* both listen: only the sandbox can make the second connect fail */
	cr_assert_eq(try_inet(SOCK_STREAM, 1, other), 0);

	cr_assert_geq(sandbox_enter(paths, ports, 2), 4);
	cr_assert_eq(try_inet(SOCK_STREAM, 1, allowed), 0,
	    "connect to listed port %u refused", allowed);
	cr_assert_eq(try_inet(SOCK_STREAM, 1, other), -EACCES,
	    "connect to unlisted port %u allowed", other);
	cr_assert_eq(try_inet(SOCK_STREAM, 0, 0), -EACCES, "bound a TCP port");
	cr_assert_eq(try_inet(SOCK_STREAM, 0, allowed), -EACCES,
	    "bound a TCP port listed for connect");
	cr_assert_eq(try_inet(SOCK_DGRAM, 0, 0), 0, "UDP bind refused");
	cr_assert_eq(try_inet(SOCK_DGRAM, 1, other), 0, "UDP connect refused");
	close(lallowed);
	close(lother);
}

Test(sandbox, abstract_unix_scoped, .timeout = 10)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *paths[] = { file, SELF, NULL };
	socklen_t len;
	int l, c;

	need_landlock(6);
	setup();
	snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1,
	    "fdtool-sandbox-test.%ld", (long)getpid());
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(sun.sun_path + 1));
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(l >= 0);
	cr_assert_eq(bind(l, (struct sockaddr *)&sun, len), 0, "bind: %s", strerror(errno));
	cr_assert_eq(listen(l, 4), 0);

	cr_assert_geq(sandbox_enter(paths, NULL, 0), 6);
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(c >= 0);
	cr_assert_eq(connect(c, (struct sockaddr *)&sun, len), -1,
	    "connected to an abstract socket outside the sandbox");
	cr_assert_eq(errno, EPERM, "connect: %s", strerror(errno));
	close(c);
	close(l);
}

Test(sandbox, missing_read_path_is_skipped, .timeout = 10)
{
	const char *paths[] = { "/nonexistent-fdtool-dir/x", file, SELF, NULL };
	char buf[64] = { 0 };
	int fd;

	need_landlock(1);
	setup();
	cr_assert_geq(sandbox_enter(paths, NULL, 0), 1);
	/* the path after the missing one still got its rule */
	fd = open(file, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0, "open F: %s", strerror(errno));
	cr_assert_eq(read(fd, buf, sizeof(buf) - 1), (ssize_t)strlen(CONTENT));
	close(fd);
	cr_assert_eq(try_open("/etc/passwd", O_RDONLY), -EACCES);
	cr_assert_eq(sandbox_probe(tmpdir, file), 0);
}

Test(sandbox, bad_read_path_fails_unsandboxed, .timeout = 10)
{
	char bad[256];
	const char *paths[] = { file, bad, NULL };
	int fds;

	need_landlock(1);
	setup();
	snprintf(bad, sizeof(bad), "%s/below-a-file", file);
	fds = open_fds();
	cr_assert_eq(sandbox_enter(paths, NULL, 0), -ENOTDIR);
	cr_assert_eq(open_fds(), fds, "the failed sandbox_enter leaked a descriptor");
	/* the failure must leave the process as it was, not half-sandboxed */
	cr_assert_eq(try_open("/etc/passwd", O_RDONLY), 0);
	cr_assert_eq(sandbox_probe(tmpdir, file), -EPERM);
}

Test(sandbox, nested_sandbox_keeps_the_first, .timeout = 10)
{
	const char *paths[] = { file, SELF, NULL };
	const char *wider[] = { file, "/etc", SELF, NULL };

	need_landlock(1);
	setup();
	cr_assert_geq(sandbox_enter(paths, NULL, 0), 1);
	cr_assert_geq(sandbox_enter(wider, NULL, 0), 1);
	cr_assert_eq(try_open("/etc/passwd", O_RDONLY), -EACCES,
	    "a second sandbox widened the first");
	cr_assert_eq(sandbox_probe(tmpdir, file), 0);
}

/*
 * Listed directories can be listed and read below; executing needs a
 * right the sandbox never grants.
 */
Test(sandbox, nothing_can_be_executed, .timeout = 10)
{
	const char *paths[] = { "/bin", "/usr", "/lib", "/lib64", SELF, NULL };

	need_landlock(1);
	setup();
	cr_assert_eq(try_exec("/bin/true"), 0, "/bin/true does not run here");
	cr_assert_geq(sandbox_enter(paths, NULL, 0), 1);
	cr_assert_eq(try_open("/usr", O_RDONLY | O_DIRECTORY), 0,
	    "a listed directory cannot be listed");
	cr_assert_eq(try_open("/bin/true", O_RDONLY), 0,
	    "a file below a listed directory cannot be read");
	cr_assert_eq(try_exec("/bin/true"), -EACCES, "ran /bin/true");
}

Test(sandbox, device_ioctl_refused, .timeout = 10)
{
	const char *paths[] = { "/dev/null", SELF, NULL };
	int fd, n;

	need_landlock(5);
	setup();
	cr_assert_geq(sandbox_enter(paths, NULL, 0), 5);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0, "/dev/null is listed but unreadable: %s", strerror(errno));
	/* unsandboxed, /dev/null answers ENOTTY: it has no ioctls */
	cr_assert_eq(ioctl(fd, FIONREAD, &n), -1);
	cr_assert_eq(errno, EACCES, "ioctl FIONREAD: %s", strerror(errno));
	close(fd);
}

Test(sandbox, probe_catches_mkdir_allowed, .timeout = 10)
{
	char made[256];

	need_landlock(1);
	setup();
	restrict_fs(LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_WRITE_FILE);
	cr_assert_eq(sandbox_probe(tmpdir, file), -EPERM,
	    "a sandbox that lets mkdir through must not pass");
	snprintf(made, sizeof(made), "%s/fdtool-sandbox-probe.%ld", tmpdir,
	    (long)getpid());
	cr_assert_eq(access(made, F_OK), -1, "the probe left %s behind", made);
}

Test(sandbox, probe_catches_write_open_allowed, .timeout = 10)
{
	char buf[64] = { 0 };
	int fd;

	need_landlock(1);
	setup();
	restrict_fs(LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_DIR);
	cr_assert_eq(sandbox_probe(tmpdir, file), -EPERM,
	    "a sandbox that lets files open for writing must not pass");
	fd = open(file, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0);
	cr_assert_eq(read(fd, buf, sizeof(buf) - 1), (ssize_t)strlen(CONTENT));
	cr_assert_str_eq(buf, CONTENT, "the probe changed the existing file");
	close(fd);
}
