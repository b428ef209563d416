/*
 * fdt_call(), the native clients' request/reply loop, against replies
 * queued on a socketpair before the call: late replies skipped, progress
 * extending the wait, refusals, wrong replies, a peer gone, silence.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/call.h"
#include "common/fdpass.h"
#include "tests/helpers.h"

TestSuite(call, .init = pair_open, .fini = pair_close, .timeout = 10);

static struct fdt_msg
ctl(uint8_t type, uint32_t id, uint16_t flags, uint64_t value)
{
	struct fdt_msg m;

	fdt_msg_init(&m, type, id);
	m.body.ctl.command = FDT_CTL_PING;
	m.body.ctl.flags = flags;
	m.body.ctl.value = value;
	return m;
}

static void
queue(struct fdt_msg m)
{
	cr_assert_eq(fdt_msg_send(pair[1], &m, NULL, 0), 0);
}

static void
progress_count(const struct fdt_msg *rep, void *arg)
{
	cr_assert_eq(rep->body.ctl.flags, FDT_CTL_F_PROGRESS);
	*(uint64_t *)arg += rep->body.ctl.value;
}

Test(call, late_replies_are_skipped_and_progress_is_told)
{
	struct fdt_msg req = ctl(FDT_MSG_CTL_REQ, 7, 0, 0), rep;
	uint64_t seen = 0;

	queue(ctl(FDT_MSG_CTL_REP, 6, 0, 111));		/* an earlier call's */
	queue(ctl(FDT_MSG_CTL_REP, 7, FDT_CTL_F_PROGRESS, 10));
	queue(ctl(FDT_MSG_CTL_REP, 7, FDT_CTL_F_PROGRESS, 20));
	queue(ctl(FDT_MSG_CTL_REP, 7, 0, 42));
	cr_assert_eq(fdt_call_progress(pair[0], &req, -1, &rep, NULL, 1000,
	    progress_count, &seen), 0);
	cr_assert_eq(rep.body.ctl.value, 42);
	cr_assert_eq(seen, 30);
	pair_assert_no_leak();
}

Test(call, a_reply_status_is_the_callers_business)
{
	struct fdt_msg req = ctl(FDT_MSG_CTL_REQ, 3, 0, 0), rep, back;
	struct fdt_msg no = ctl(FDT_MSG_CTL_REP, 3, 0, 0);
	int fds[FDT_MAX_FDS];

	no.status = ENOENT;
	queue(no);
	cr_assert_eq(fdt_call(pair[0], &req, -1, &rep, NULL, 1000), 0);
	cr_assert_eq(rep.status, ENOENT);
	cr_assert_eq(fdt_msg_recv(pair[1], &back, fds, 0), 0, "the request went out");
	cr_assert_eq(back.id, 3);
	pair_assert_no_leak();
}

Test(call, a_descriptor_travels_with_the_request)
{
	struct fdt_msg req = ctl(FDT_MSG_CTL_REQ, 9, FDT_CTL_F_FD, 0), rep, back;
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC), fds[FDT_MAX_FDS];

	queue(ctl(FDT_MSG_CTL_REP, 9, 0, 0));
	cr_assert_eq(fdt_call(pair[0], &req, devnull, &rep, NULL, 1000), 0);
	close(devnull);
	cr_assert_eq(fdt_msg_recv(pair[1], &back, fds, 0), 0);
	cr_assert_eq(fdt_msg_nfds(&back), 1);
	close(fds[0]);
	pair_assert_no_leak();
}

Test(call, refusals_and_wrong_replies)
{
	struct fdt_msg req = ctl(FDT_MSG_CTL_REQ, 5, 0, 0), rep, err;
	char junk[FDT_MSG_SIZE] = "not ours";

	fdt_msg_init(&err, FDT_MSG_ERROR, 0);
	err.status = EUSERS;
	queue(err);
	cr_assert_eq(fdt_call(pair[0], &req, -1, &rep, NULL, 1000), -EUSERS, "id 0: about us");
	err.id = 4;
	queue(err);				/* an earlier call's error: skipped */
	err.id = 5;
	err.status = EBADMSG;
	queue(err);
	cr_assert_eq(fdt_call(pair[0], &req, -1, &rep, NULL, 1000), -EBADMSG);
	queue(ctl(FDT_MSG_CTL_REQ, 5, 0, 0));	/* a request is no reply */
	cr_assert_eq(fdt_call(pair[0], &req, -1, &rep, NULL, 1000), -EPROTO);
	cr_assert_eq(send(pair[1], junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	cr_assert_eq(fdt_call(pair[0], &req, -1, &rep, NULL, 1000), -EPROTO);
	req.id = 0;
	cr_assert_eq(fdt_call(pair[0], &req, -1, &rep, NULL, 1000), -EINVAL);
	pair_assert_no_leak();
}

Test(call, a_peer_gone_says_why_if_it_did)
{
	struct fdt_msg req = ctl(FDT_MSG_CTL_REQ, 5, 0, 0), rep, err;

	fdt_msg_init(&err, FDT_MSG_ERROR, 0);
	err.status = EACCES;
	queue(err);
	close(pair[1]);
	pair[1] = -1;
	cr_assert_eq(fdt_call(pair[0], &req, -1, &rep, NULL, 1000), -EACCES,
	    "the send fails, the refusal is still read");
	cr_assert_eq(fdt_call(pair[0], &req, -1, &rep, NULL, 1000), -ECONNRESET);
	pair_assert_no_leak();
}

Test(call, silence_times_out)
{
	struct fdt_msg req = ctl(FDT_MSG_CTL_REQ, 5, 0, 0), rep;

	queue(ctl(FDT_MSG_CTL_REP, 5, FDT_CTL_F_PROGRESS, 1));
	cr_assert_eq(fdt_call(pair[0], &req, -1, &rep, NULL, 100), -ETIMEDOUT);
	pair_assert_no_leak();
}
