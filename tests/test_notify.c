/*
 * sd_notify: a SOCK_DGRAM socket in a temporary directory (or an abstract
 * one) stands in for systemd's; each test checks the datagrams it gets,
 * who they come from, and that NOTIFY_SOCKET is gone for children.
 */
#include "common/notify.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "roles/server/sandbox.h"
#include "tests/helpers.h"

static char dir[64];
static char path[128];
static int rx = -1;
static int fds_before;

/* The receiving end, as systemd makes it: SO_PASSCRED, so each datagram says who sent it. */
static int
receiver(const struct sockaddr_un *sun, socklen_t len)
{
	int one = 1;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	cr_assert_eq(bind(fd, (const struct sockaddr *)sun, len), 0, "bind: %s", strerror(errno));
	return fd;
}

static void
setup_path(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	unsetenv("NOTIFY_SOCKET");
	fds_before = count_fds(0);
	cr_assert_not_null(make_tmpdir(dir, sizeof(dir)));
	snprintf(path, sizeof(path), "%s/notify", dir);
	cr_assert_lt(strlen(path), sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	rx = receiver(&sun, sizeof(sun));
	setenv("NOTIFY_SOCKET", path, 1);
}

static void
teardown(void)
{
	notify_close();
	if (rx >= 0)
		close(rx);
	rx = -1;
	if (path[0])
		unlink(path);
	if (dir[0])
		rmdir(dir);
	path[0] = dir[0] = '\0';
	unsetenv("NOTIFY_SOCKET");
}

/*
 * Remove the temporary directory now, before a test sandboxes itself (it
 * could not afterwards); LeakSanitizer still needs /proc/self at exit.
 */
static int
sandbox_self(void)
{
	static const char *const readable[] = { "/proc/self", NULL };

	unlink(path);
	rmdir(dir);
	path[0] = dir[0] = '\0';
	return sandbox_enter(readable, NULL, 0);
}

/* The next datagram (text, NUL-terminated) and the pid it came from. */
static void
next_datagram(char *buf, size_t size, pid_t *pid)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = size - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(rx, &mh, MSG_DONTWAIT);

	cr_assert_geq(n, 0, "no datagram: %s", strerror(errno));
	cr_assert_eq(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC), 0);
	buf[n] = '\0';
	*pid = -1;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred uc;
			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			*pid = uc.pid;
		}
}

static void
expect_datagram(const char *want)
{
	char buf[8192];
	pid_t pid;

	next_datagram(buf, sizeof(buf), &pid);
	cr_assert_str_eq(buf, want);
	cr_assert_eq(pid, getpid(), "systemd attributes a message by its sender's pid");
}

static void
expect_nothing(void)
{
	char buf[16];

	cr_assert_lt(recv(rx, buf, sizeof(buf), MSG_DONTWAIT), 0);
	cr_assert_eq(errno, EAGAIN);
}

TestSuite(notify, .init = setup_path, .fini = teardown, .timeout = 10);

Test(notify, ready_status_stopping_and_the_variable_is_gone)
{
	cr_assert_eq(notify_open(), 1);
	cr_assert_null(getenv("NOTIFY_SOCKET"), "a spawned child would inherit it");
	cr_assert_eq(notify_send("READY=1\nSTATUS=answering on %d sockets, %d upstreams", 4, 2), 1);
	expect_datagram("READY=1\nSTATUS=answering on 4 sockets, 2 upstreams");
	cr_assert_eq(notify_send("STOPPING=1"), 1);
	expect_datagram("STOPPING=1");
	expect_nothing();
	notify_close();
	cr_assert_eq(count_fds(0), fds_before + 1, "only the receiver is left open");
}

Test(notify, reloading_carries_the_monotonic_clock_in_microseconds)
{
	struct timespec a, b;
	unsigned long long usec, lo, hi;
	char buf[256];
	pid_t pid;

	cr_assert_eq(notify_open(), 1);
	clock_gettime(CLOCK_MONOTONIC, &a);
	cr_assert_eq(notify_reloading(), 1);
	clock_gettime(CLOCK_MONOTONIC, &b);
	next_datagram(buf, sizeof(buf), &pid);
	cr_assert_eq(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%llu", &usec), 1, "got %s", buf);
	cr_assert_eq(strchr(strchr(buf, '\n') + 1, '\n'), NULL, "two lines, no more");
	lo = (unsigned long long)a.tv_sec * 1000000 + (unsigned long long)a.tv_nsec / 1000;
	hi = (unsigned long long)b.tv_sec * 1000000 + (unsigned long long)b.tv_nsec / 1000;
	cr_assert(usec >= lo && usec <= hi, "%llu not in [%llu, %llu]", usec, lo, hi);
}

Test(notify, sends_go_on_after_the_path_is_gone)
{
	/* connected early: a later send looks nothing up in the filesystem */
	cr_assert_eq(notify_open(), 1);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(notify_send("READY=1"), 1);
	expect_datagram("READY=1");
}

Test(notify, sends_go_on_inside_the_landlock_sandbox)
{
	int abi;

	cr_assert_eq(notify_open(), 1);
	abi = sandbox_self();
	if (abi < 0)
		cr_skip_test("no Landlock here: %s", strerror(-abi));
	cr_assert_eq(notify_send("READY=1"), 1);
	expect_datagram("READY=1");
}

Test(notify, open_again_does_not_leak)
{
	cr_assert_eq(notify_open(), 1);
	setenv("NOTIFY_SOCKET", path, 1);
	cr_assert_eq(notify_open(), 1);
	cr_assert_eq(count_fds(0), fds_before + 2, "the receiver and one notify socket");
}

Test(notify, too_long_for_a_datagram_buffer)
{
	static char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	cr_assert_eq(notify_open(), 1);
	cr_assert_eq(notify_send("STATUS=%s", big), -EMSGSIZE);
	expect_nothing();
}

Test(notify, without_notify_socket_everything_is_a_no_op)
{
	unsetenv("NOTIFY_SOCKET");
	cr_assert_eq(notify_open(), 0);
	cr_assert_eq(notify_send("READY=1"), 0);
	cr_assert_eq(notify_reloading(), 0);
	expect_nothing();
	cr_assert_eq(count_fds(0), fds_before + 1);
}

Test(notify, a_listener_that_is_gone_is_an_error)
{
	close(rx);
	rx = -1;
	cr_assert_eq(notify_open(), -ECONNREFUSED);
	cr_assert_null(getenv("NOTIFY_SOCKET"));
	cr_assert_eq(notify_send("READY=1"), 0);
	unlink(path);
	setenv("NOTIFY_SOCKET", path, 1);
	cr_assert_eq(notify_open(), -ENOENT);
	cr_assert_eq(count_fds(0), fds_before, "nothing left open");
}

/* By value: Criterion hands parameters to a fresh process, where pointers into our data need not hold. */
struct bad_name {
	char name[32];		/* "": too long, made in the test */
	int err;
};

static struct bad_name bad_names[] = {
	{ "-", -EINVAL },	/* "-" stands for the empty string */
	{ "@", -EINVAL },
	{ "relative/notify", -EAFNOSUPPORT },
	{ "vsock:2:1234", -EAFNOSUPPORT },
	{ "", -ENAMETOOLONG },
};

ParameterizedTestParameters(notify, bad_addresses)
{
	return cr_make_param_array(struct bad_name, bad_names,
	    sizeof(bad_names) / sizeof(bad_names[0]));
}

ParameterizedTest(struct bad_name *b, notify, bad_addresses)
{
	char name[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];

	if (strcmp(b->name, "-") == 0)
		setenv("NOTIFY_SOCKET", "", 1);
	else if (b->name[0])
		setenv("NOTIFY_SOCKET", b->name, 1);
	else {
		/* 108 bytes: no room left for the terminating NUL */
		memset(name, 'a', sizeof(name));
		name[0] = '/';
		name[sizeof(((struct sockaddr_un *)0)->sun_path)] = '\0';
		setenv("NOTIFY_SOCKET", name, 1);
	}
	cr_assert_eq(notify_open(), b->err, "%s", b->name[0] ? b->name : "a long path");
	cr_assert_null(getenv("NOTIFY_SOCKET"), "unset even when unusable");
	cr_assert_eq(notify_send("READY=1"), 0);
	cr_assert_eq(count_fds(0), fds_before + 1);
}

Test(notify, abstract_too_long)
{
	char name[sizeof(((struct sockaddr_un *)0)->sun_path) + 2];

	/* '@' plus 108 bytes: one more than sun_path holds after its leading NUL */
	memset(name, 'a', sizeof(name));
	name[0] = '@';
	name[sizeof(name) - 1] = '\0';
	setenv("NOTIFY_SOCKET", name, 1);
	cr_assert_eq(notify_open(), -ENAMETOOLONG);
}

Test(notify, abstract_address)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char name[64];
	int n;

	close(rx);
	/* an abstract name is exactly its bytes: no NUL counted in the length */
	n = snprintf(name, sizeof(name), "fdtool-test-notify-%d", (int)getpid());
	memcpy(sun.sun_path + 1, name, (size_t)n);
	rx = receiver(&sun, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "@%s", name);
	setenv("NOTIFY_SOCKET", sun.sun_path, 1);
	cr_assert_eq(notify_open(), 1);
	cr_assert_eq(notify_send("READY=1"), 1);
	expect_datagram("READY=1");
}

Test(notify, abstract_address_inside_the_landlock_sandbox)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char name[64];
	int n, abi;

	/* Landlock ABI 6 scopes abstract sockets: only an earlier connect lets us send */
	close(rx);
	n = snprintf(name, sizeof(name), "fdtool-test-notify-ll-%d", (int)getpid());
	memcpy(sun.sun_path + 1, name, (size_t)n);
	rx = receiver(&sun, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "@%s", name);
	setenv("NOTIFY_SOCKET", sun.sun_path, 1);
	cr_assert_eq(notify_open(), 1);
	abi = sandbox_self();
	if (abi < 0)
		cr_skip_test("no Landlock here: %s", strerror(-abi));
	cr_assert_eq(notify_send("READY=1"), 1, "Landlock ABI %d", abi);
	expect_datagram("READY=1");
}
