/*
 * Creator requests.  Replies are matched by id, so a reply that arrives
 * after its request timed out is discarded by the next call instead of
 * being taken for its answer.  Sockets are checked before the caller sees
 * them: a confused or hostile creator cannot slip in the wrong kind.
 */
#include "common/creator_client.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "common/call.h"
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
 * Send a request and wait for the reply with its id: the descriptors it
 * brought, or -errno (the creator's refusal as -status).
 */
static int
transact(int sock, struct fdt_msg *m, int fds[FDT_MAX_FDS], int timeout_ms)
{
	struct fdt_msg rep;
	int n;

	m->id = creator_next_id++;
	if (m->id == 0)		/* 0 is the creator's "not about a request" */
		m->id = creator_next_id++;
	if ((n = fdt_call(sock, m, -1, &rep, fds, timeout_ms)) < 0)
		return n;
	if (memcmp(&rep.body.bind, &m->body.bind, sizeof(rep.body.bind)) != 0) {
		fdpass_close_all(fds, (size_t)n);
		return -EPROTO;
	}
	if (rep.status) {
		fdpass_close_all(fds, (size_t)n);
		return -(int)rep.status;
	}
	return n;
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
