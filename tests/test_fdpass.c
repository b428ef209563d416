/*
 * SCM_RIGHTS transport over a SOCK_SEQPACKET socketpair: descriptors
 * arrive as new CLOEXEC numbers for the same files, and whatever goes
 * wrong (too many, truncated, foreign control data, oversized record) no
 * received descriptor is left open.  Every test ends with a leak count.
 */
#include "common/fdpass.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/helpers.h"

static int
open_null(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	cr_assert(fd >= 0, "open /dev/null: %s", strerror(errno));
	return fd;
}

static void
open_nulls(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fds[i] = open_null();
}

static void
assert_same_file(int got, int sent)
{
	struct stat a, b;

	cr_assert_neq(got, sent, "received fd %d is the sender's number", got);
	cr_assert_eq(fstat(got, &a), 0, "fstat received fd %d", got);
	cr_assert_eq(fstat(sent, &b), 0);
	cr_assert(a.st_dev == b.st_dev && a.st_ino == b.st_ino,
	    "received fd %d is not the file sent as fd %d", got, sent);
	cr_assert(fcntl(got, F_GETFD) & FD_CLOEXEC, "received fd %d lacks FD_CLOEXEC", got);
	cr_assert_eq(fcntl(got, F_GETFL) & O_ACCMODE, fcntl(sent, F_GETFL) & O_ACCMODE,
	    "received fd %d has another access mode", got);
}

/* sendmsg with any number of descriptors, past what fdpass_send allows. */
static void
raw_send_fds(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int) * 64)];
	} cm;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = len };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cm.buf,
		.msg_controllen = CMSG_SPACE(sizeof(int) * nfds),
	};
	struct cmsghdr *c;

	cr_assert(nfds > 0 && nfds <= 64);
	memset(&cm, 0, sizeof(cm));
	c = &cm.hdr;	/* CMSG_FIRSTHDR, which the optimiser thinks may be NULL */
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	cr_assert_eq(sendmsg(sock, &mh, MSG_NOSIGNAL), (ssize_t)len, "raw sendmsg: %s",
	    strerror(errno));
}

/* The receiver took nothing: no count, and the call failed with err. */
static void
assert_refused(size_t sent, size_t maxfds, ssize_t err)
{
	int fds[FDPASS_MAX + 8], orig[64];
	char buf[64];
	size_t n = 99;

	cr_assert_leq(sent, 64);
	cr_assert_leq(maxfds, FDPASS_MAX + 8);
	open_nulls(orig, sent);
	if (sent <= FDPASS_MAX)
		cr_assert_eq(fdpass_send(pair[0], "data", 4, orig, sent), 0);
	else
		raw_send_fds(pair[0], "data", 4, orig, sent);
	fdpass_close_all(orig, sent);
	cr_assert_eq(fdpass_recv(pair[1], buf, sizeof(buf), fds, maxfds, &n, 0), err,
	    "%zu descriptors sent, %zu allowed", sent, maxfds);
	cr_assert_eq(n, 0, "*nfds is %zu after a refusal", n);
}

TestSuite(fdpass, .init = pair_open, .fini = pair_close, .timeout = 10);

Test(fdpass, no_descriptors, .timeout = 10)
{
	static const char msg[] = "plain\0record";
	char buf[64];
	int fds[2] = { -1, -1 };
	size_t n = 99;

	cr_assert_eq(fdpass_send(pair[0], msg, sizeof(msg), NULL, 0), 0);
	cr_assert_eq(fdpass_recv(pair[1], buf, sizeof(buf), fds, 2, &n, 0), (ssize_t)sizeof(msg));
	cr_assert_eq(n, 0);
	cr_assert_arr_eq(buf, msg, sizeof(msg));
	cr_assert_eq(fds[0], -1, "fds touched with nothing received");
	pair_assert_no_leak();
}

Test(fdpass, one_descriptor, .timeout = 10)
{
	char buf[64];
	int sent = open_null(), fds[2] = { -1, -1 };
	size_t n = 0;

	cr_assert_eq(fdpass_send(pair[0], "one", 3, &sent, 1), 0);
	cr_assert_eq(fdpass_recv(pair[1], buf, sizeof(buf), fds, 2, &n, 0), 3);
	cr_assert_eq(n, 1);
	cr_assert_arr_eq(buf, "one", 3);
	assert_same_file(fds[0], sent);
	close(fds[0]);
	close(sent);
	pair_assert_no_leak();
}

Test(fdpass, two_descriptors_in_order, .timeout = 10)
{
	static const uint8_t msg[] = { 0, 1, 2, 0xff, 0x80, 0 };
	uint8_t buf[64];
	int p[2], fds[2] = { -1, -1 };
	size_t n = 0;
	char c = 0;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	cr_assert_eq(fdpass_send(pair[0], msg, sizeof(msg), p, 2), 0);
	cr_assert_eq(fdpass_recv(pair[1], buf, sizeof(buf), fds, 2, &n, 0), (ssize_t)sizeof(msg));
	cr_assert_eq(n, 2);
	cr_assert_arr_eq(buf, msg, sizeof(msg));
	assert_same_file(fds[0], p[0]);
	assert_same_file(fds[1], p[1]);
	cr_assert_eq(fcntl(fds[0], F_GETFL) & O_ACCMODE, O_RDONLY, "read end first");
	cr_assert_eq(write(fds[1], "w", 1), 1);
	cr_assert_eq(read(p[0], &c, 1), 1);
	cr_assert_eq(c, 'w');
	cr_assert_eq(write(p[1], "r", 1), 1);
	cr_assert_eq(read(fds[0], &c, 1), 1);
	cr_assert_eq(c, 'r');
	fdpass_close_all(fds, 2);
	fdpass_close_all(p, 2);
	pair_assert_no_leak();
}

Test(fdpass, max_descriptors, .timeout = 10)
{
	int sent[FDPASS_MAX], fds[FDPASS_MAX];
	char buf[8];
	size_t n = 0;

	open_nulls(sent, FDPASS_MAX);
	cr_assert_eq(fdpass_send(pair[0], "m", 1, sent, FDPASS_MAX), 0);
	cr_assert_eq(fdpass_recv(pair[1], buf, sizeof(buf), fds, FDPASS_MAX, &n, 0), 1);
	cr_assert_eq(n, FDPASS_MAX);
	for (size_t i = 0; i < n; i++)
		assert_same_file(fds[i], sent[i]);
	fdpass_close_all(fds, n);
	fdpass_close_all(sent, FDPASS_MAX);
	pair_assert_no_leak();
}

Test(fdpass, three_sent_two_allowed, .timeout = 10)
{
	assert_refused(3, 2, -EBADMSG);
	pair_assert_no_leak();
}

Test(fdpass, max_sent_one_allowed, .timeout = 10)
{
	assert_refused(FDPASS_MAX, 1, -EBADMSG);
	pair_assert_no_leak();
}

Test(fdpass, max_sent_max_minus_one_allowed, .timeout = 10)
{
	assert_refused(FDPASS_MAX, FDPASS_MAX - 1, -EBADMSG);
	pair_assert_no_leak();
}

Test(fdpass, one_sent_none_allowed, .timeout = 10)
{
	assert_refused(1, 0, -EBADMSG);
	pair_assert_no_leak();
}

/* More than the control buffer holds: the kernel truncates (MSG_CTRUNC). */
Test(fdpass, control_truncated_by_kernel, .timeout = 10)
{
	assert_refused(FDPASS_MAX + 4, FDPASS_MAX, -EBADMSG);
	assert_refused(40, FDPASS_MAX + 8, -EBADMSG);
	pair_assert_no_leak();
}

Test(fdpass, oversized_record_then_next, .timeout = 10)
{
	char big[200], buf[16];
	int sent[2], fds[2] = { -1, -1 };
	size_t n = 99;

	memset(big, 'b', sizeof(big));
	open_nulls(sent, 2);
	cr_assert_eq(fdpass_send(pair[0], big, sizeof(big), sent, 2), 0);
	cr_assert_eq(fdpass_send(pair[0], big, sizeof(buf) + 1, NULL, 0), 0);
	cr_assert_eq(fdpass_send(pair[0], "next", 4, &sent[1], 1), 0);
	fdpass_close_all(sent, 2);

	cr_assert_eq(fdpass_recv(pair[1], buf, sizeof(buf), fds, 2, &n, 0), -EMSGSIZE,
	    "200 bytes into 16");
	cr_assert_eq(n, 0);
	cr_assert_eq(count_fds(0), pair_fds_before + 2, "descriptors of the long record kept");
	cr_assert_eq(fdpass_recv(pair[1], buf, sizeof(buf), fds, 2, &n, 0), -EMSGSIZE,
	    "one byte too many");
	cr_assert_eq(fdpass_recv(pair[1], buf, sizeof(buf), fds, 2, &n, 0), 4, "record after");
	cr_assert_eq(n, 1);
	cr_assert_arr_eq(buf, "next", 4);
	close(fds[0]);
	pair_assert_no_leak();
}

Test(fdpass, exact_size_record, .timeout = 10)
{
	char buf[16];
	int fds[1];
	size_t n = 99;

	cr_assert_eq(fdpass_send(pair[0], "0123456789abcdef", sizeof(buf), NULL, 0), 0);
	cr_assert_eq(fdpass_recv(pair[1], buf, sizeof(buf), fds, 1, &n, 0), (ssize_t)sizeof(buf));
	cr_assert_arr_eq(buf, "0123456789abcdef", sizeof(buf));
	pair_assert_no_leak();
}

/* SO_PASSCRED makes the kernel attach SCM_CREDENTIALS to every record. */
Test(fdpass, credentials_are_foreign_control_data, .timeout = 10)
{
	int on = 1, sent[2], fds[FDPASS_MAX];
	char buf[16];
	size_t n = 99;

	cr_assert_eq(setsockopt(pair[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)), 0);
	open_nulls(sent, 2);
	cr_assert_eq(fdpass_send(pair[0], "c0", 2, NULL, 0), 0);
	cr_assert_eq(fdpass_send(pair[0], "c2", 2, sent, 2), 0);
	cr_assert_eq(fdpass_send(pair[0], "c1", 2, sent, 1), 0);
	fdpass_close_all(sent, 2);

	cr_assert_eq(fdpass_recv(pair[1], buf, sizeof(buf), fds, FDPASS_MAX, &n, 0), -EBADMSG,
	    "credentials alone");
	cr_assert_eq(n, 0);
	cr_assert_eq(fdpass_recv(pair[1], buf, sizeof(buf), fds, FDPASS_MAX, &n, 0), -EBADMSG,
	    "credentials and two descriptors");
	cr_assert_eq(n, 0);
	cr_assert_eq(count_fds(0), pair_fds_before + 2, "descriptors sent with credentials kept");
	cr_assert_eq(fdpass_recv(pair[1], buf, sizeof(buf), fds, FDPASS_MAX, &n, 0), -EBADMSG,
	    "credentials and one descriptor");
	cr_assert_eq(n, 0);
	pair_assert_no_leak();
}

Test(fdpass, send_too_many, .timeout = 10)
{
	int sent[FDPASS_MAX + 1], fds[2];
	char buf[8];
	size_t n = 99;

	open_nulls(sent, FDPASS_MAX + 1);
	cr_assert_eq(fdpass_send(pair[0], "x", 1, sent, FDPASS_MAX + 1), -EINVAL);
	cr_assert_eq(fdpass_recv(pair[1], buf, sizeof(buf), fds, 2, &n, MSG_DONTWAIT), -EAGAIN,
	    "a refused send sent something");
	cr_assert_eq(n, 0);
	fdpass_close_all(sent, FDPASS_MAX + 1);
	pair_assert_no_leak();
}

Test(fdpass, send_to_closed_peer, .timeout = 10)
{
	int fd = open_null();

	close(pair[1]);
	pair[1] = -1;
	cr_assert_eq(fdpass_send(pair[0], "x", 1, NULL, 0), -EPIPE);
	cr_assert_eq(fdpass_send(pair[0], "x", 1, &fd, 1), -EPIPE);
	close(fd);
	pair_assert_no_leak();
}

/* A stream socket is where the kernel would raise SIGPIPE without MSG_NOSIGNAL. */
Test(fdpass, no_sigpipe_on_stream, .timeout = 10)
{
	int st[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, st), 0);
	close(st[1]);
	cr_assert_eq(fdpass_send(st[0], "x", 1, NULL, 0), -EPIPE);
	close(st[0]);
	pair_assert_no_leak();
}

Test(fdpass, recv_error_is_negative_errno, .timeout = 10)
{
	char buf[8];
	int fds[2];
	size_t n = 99;

	cr_assert_eq(fdpass_recv(pair[1], buf, sizeof(buf), fds, 2, &n, MSG_DONTWAIT), -EAGAIN);
	cr_assert_eq(n, 0);
	cr_assert_eq(fdpass_recv(-1, buf, sizeof(buf), fds, 2, &n, 0), -EBADF);
	pair_assert_no_leak();
}

Test(fdpass, close_all_marks_and_keeps_errno, .timeout = 10)
{
	int fds[4] = { open_null(), -1, 4000, open_null() };
	int before = count_fds(0);

	cr_assert_eq(fcntl(4000, F_GETFD), -1, "fd 4000 is open; pick another");
	errno = ENOSPC;	/* close(4000) fails with EBADF: that must not show */
	fdpass_close_all(fds, 4);
	cr_assert_eq(errno, ENOSPC);
	cr_assert(fds[0] == -1 && fds[1] == -1 && fds[2] == -1 && fds[3] == -1);
	cr_assert_eq(count_fds(0), before - 2);
	pair_assert_no_leak();
}
