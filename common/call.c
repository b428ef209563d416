/*
 * The request/reply loop of the native clients.  A peer that refuses us
 * sends an ERROR record with id 0 and hangs up, so a send that fails
 * because the peer is gone still reads what is waiting: the refusal, or
 * the end of the stream.
 */
#include "common/call.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>

#include "common/daemon.h"
#include "common/fdpass.h"

/* One reply, or -EAGAIN: nothing (yet) for us. */
static int
take_reply(int sock, const struct fdt_msg *req, struct fdt_msg *rep, int fds[FDT_MAX_FDS])
{
	int r = fdt_msg_recv(sock, rep, fds, MSG_DONTWAIT);

	if (r == 1)
		return -ECONNRESET;
	if (r == -EMSGSIZE || r == -EBADMSG || r == -EPROTO || r == -EPROTONOSUPPORT)
		return -EPROTO;		/* not speaking our protocol */
	if (r < 0)
		return r;
	if (rep->type == FDT_MSG_ERROR && (rep->id == 0 || rep->id == req->id))
		return -(int)rep->status;
	if (rep->id != req->id) {
		fdpass_close_all(fds, fdt_msg_nfds(rep));
		return -EAGAIN;
	}
	if (rep->type != req->type + 1) {	/* every *_REP follows its *_REQ */
		fdpass_close_all(fds, fdt_msg_nfds(rep));
		return -EPROTO;
	}
	return (int)fdt_msg_nfds(rep);
}

int
fdt_call_progress(int sock, const struct fdt_msg *req, int fd, struct fdt_msg *rep,
    int fds[FDT_MAX_FDS], int timeout_ms, fdt_progress_fn *progress, void *arg)
{
	int own[FDT_MAX_FDS], *got = fds ? fds : own;
	long long deadline;
	int r;

	if (req->id == 0)	/* a peer's "not about a request" */
		return -EINVAL;
	r = fdt_msg_send(sock, req, &fd, fd >= 0 ? 1 : 0);
	if (r < 0 && r != -EPIPE && r != -ECONNRESET)
		return r;
	deadline = (long long)daemon_now_ms() + timeout_ms;
	for (;;) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		long long left = deadline - (long long)daemon_now_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		if ((r = take_reply(sock, req, rep, got)) == -EAGAIN)
			continue;
		if (r < 0)
			return r;
		if (rep->type == FDT_MSG_CTL_REP && (rep->body.ctl.flags & FDT_CTL_F_PROGRESS)) {
			if (progress)
				progress(rep, arg);
			deadline = (long long)daemon_now_ms() + timeout_ms;
			continue;
		}
		if (!fds)
			fdpass_close_all(own, (size_t)r);
		return r;
	}
}

int
fdt_call(int sock, const struct fdt_msg *req, int fd, struct fdt_msg *rep,
    int fds[FDT_MAX_FDS], int timeout_ms)
{
	return fdt_call_progress(sock, req, fd, rep, fds, timeout_ms, NULL, NULL);
}
