/*
 * Creator requests.  Replies are matched by id, so a reply that arrives
 * after its request timed out is discarded by the next call instead of
 * being taken for its answer.  Sockets are checked before the caller sees
 * them: a confused or hostile creator cannot slip in the wrong kind.
 */
#include "common/daemon.h"
#include "common/creator_client.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "common/endpoint.h"
#include "common/fdpass.h"

static uint32_t creator_next_id = 1;

static int
getint(int fd, int level, int opt, int *v)
{
	socklen_t len = sizeof(*v);

	return getsockopt(fd, level, opt, v, &len) == 0 ? 0 : -errno;
}

/*
 * The socket is of the asked-for kind, bound where asked.  getsockname()
 * gives the family too, so SO_DOMAIN would only repeat it.
 */
static int
check_socket(int fd, const struct fdt_bind *b, int proto)
{
	struct sockaddr_storage want, got;
	socklen_t len = sizeof(got);
	int type, listening = 0;
	int wantlen = bind_sockaddr(b, &want);

	if (getint(fd, SOL_SOCKET, SO_TYPE, &type) < 0 ||
	    getsockname(fd, (struct sockaddr *)&got, &len) != 0)
		return -EPROTO;
	if (type != (proto == FDT_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM) ||
	    (int)len != wantlen || memcmp(&got, &want, len) != 0)
		return -EPROTO;
	if (proto == FDT_PROTO_TCP &&
	    (getint(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening) < 0 || !listening))
		return -EPROTO;
	return 0;
}

/*
 * A creator that refuses a peer says why in an error record with id 0,
 * then hangs up; that record may be all there is to read.
 */
static int
refusal(int sock, int err)
{
	struct fdt_msg rep;
	int fds[FDT_MAX_FDS];

	if (fdt_msg_recv(sock, &rep, fds, MSG_DONTWAIT) == 0 &&
	    rep.type == FDT_MSG_ERROR && rep.id == 0)
		return -(int)rep.status;
	return err;
}

/* Send a request and wait for the reply with its id. */
static int
transact(int sock, struct fdt_msg *m, int fds[FDT_MAX_FDS], int timeout_ms)
{
	uint8_t want = (uint8_t)(m->type + 1);	/* every *_REP follows its *_REQ */
	long long deadline = (long long)daemon_now_ms() + timeout_ms;
	int r;

	m->id = creator_next_id++;
	if (m->id == 0)		/* 0 is the creator's "not about a request" */
		m->id = creator_next_id++;
	if ((r = fdt_msg_send(sock, m, NULL, 0)) < 0)
		return refusal(sock, r);
	for (;;) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		long long left = deadline - (long long)daemon_now_ms();
		struct fdt_msg rep;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		r = fdt_msg_recv(sock, &rep, fds, MSG_DONTWAIT);
		if (r == 1)
			return -ECONNRESET;
		if (r == -EAGAIN)
			continue;
		if (r == -EMSGSIZE || r == -EBADMSG || r == -EPROTO ||
		    r == -EPROTONOSUPPORT)
			return -EPROTO;	/* the creator is not speaking our protocol */
		if (r < 0)
			return r;
		if (rep.type == FDT_MSG_ERROR && (rep.id == 0 || rep.id == m->id))
			return -(int)rep.status;
		if (rep.id != m->id) {
			fdpass_close_all(fds, fdt_msg_nfds(&rep));
			continue;
		}
		if (rep.type != want ||
		    memcmp(&rep.body.bind, &m->body.bind, sizeof(rep.body.bind)) != 0) {
			fdpass_close_all(fds, fdt_msg_nfds(&rep));
			return -EPROTO;
		}
		if (rep.status)
			return -(int)rep.status;
		return (int)fdt_msg_nfds(&rep);
	}
}

int
creator_bind(int sock, const struct fdt_bind *b, int fds[FDT_MAX_FDS],
    int timeout_ms)
{
	struct fdt_msg m;
	int n;

	fdt_msg_init(&m, FDT_MSG_BIND_REQ, 0);
	m.body.bind = *b;
	if ((n = transact(sock, &m, fds, timeout_ms)) <= 0)
		return n;
	/* fdt_msg_recv made n match the protocol; check what they are. */
	for (int i = 0; i < n; i++) {
		int proto = (b->proto == FDT_PROTO_BOTH) ?
		    (i == 0 ? FDT_PROTO_UDP : FDT_PROTO_TCP) : b->proto;
		if (check_socket(fds[i], b, proto) < 0) {
			fdpass_close_all(fds, (size_t)n);
			return -EPROTO;
		}
	}
	return n;
}

int
creator_release(int sock, const struct fdt_bind *b, int timeout_ms)
{
	struct fdt_msg m;
	int fds[FDT_MAX_FDS];

	fdt_msg_init(&m, FDT_MSG_RELEASE_REQ, 0);
	m.body.bind = *b;
	return transact(sock, &m, fds, timeout_ms);
}
