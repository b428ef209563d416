/*
 * Packing, validation and transport of struct fdt_msg.  Validation is
 * total: every byte of the record is either a field with a legal value or
 * zero, so two peers can never read the same record differently.
 */
#include "common/be.h"
#include "common/wire.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fdpass.h"

static int
is_request(unsigned type)
{
	return type == FDT_MSG_BIND_REQ || type == FDT_MSG_RELEASE_REQ ||
	    type == FDT_MSG_CTL_REQ;
}

static int
has_bind_body(unsigned type)
{
	return type == FDT_MSG_BIND_REQ || type == FDT_MSG_BIND_REP ||
	    type == FDT_MSG_RELEASE_REQ || type == FDT_MSG_RELEASE_REP;
}

static int
has_ctl_body(unsigned type)
{
	return type == FDT_MSG_CTL_REQ || type == FDT_MSG_CTL_REP;
}

/* Bytes of the body that the type uses; the rest must be zero. */
static size_t
body_size(unsigned type)
{
	if (has_bind_body(type))
		return sizeof(struct fdt_wire_bind);
	if (has_ctl_body(type))
		return sizeof(struct fdt_wire_ctl);
	return 0;
}

static int
bind_valid(const struct fdt_bind *b)
{
	if (b->proto != FDT_PROTO_UDP && b->proto != FDT_PROTO_TCP &&
	    b->proto != FDT_PROTO_BOTH)
		return 0;
	if (b->family != FDT_FAMILY_INET && b->family != FDT_FAMILY_INET6)
		return 0;
	if (b->family == FDT_FAMILY_INET && !bytes_zero(b->addr + 4, 12))
		return 0;
	if (b->instance != 0 && !(b->flags & FDT_BIND_F_REUSEPORT))
		return 0;
	return b->port != 0 && !(b->flags & ~FDT_BIND_F_ALL);
}

/* The string ends inside the field and nothing hides behind its NUL. */
static int
text_valid(const uint8_t *text, size_t size)
{
	const uint8_t *nul = memchr(text, 0, size);

	return nul && bytes_zero(nul, size - (size_t)(nul - text));
}

static int
ctl_valid(const struct fdt_ctl *c)
{
	return !(c->flags & ~FDT_CTL_F_ALL) &&
	    text_valid((const uint8_t *)c->text, sizeof(c->text));
}

void
fdt_msg_init(struct fdt_msg *m, enum fdt_msg_type type, uint32_t id)
{
	memset(m, 0, sizeof(*m));
	m->type = (uint8_t)type;
	m->id = id;
}

static int
msg_valid(const struct fdt_msg *m)
{
	if (m->type < 1 || m->type > FDT_MSG_TYPE_MAX)
		return 0;
	if (is_request(m->type) && m->status != 0)
		return 0;
	if (m->status > 4095)		/* errno values are small */
		return 0;
	if (m->type == FDT_MSG_ERROR && m->status == 0)
		return 0;		/* an error reply names its error */
	if (has_bind_body(m->type))
		return bind_valid(&m->body.bind);
	if (has_ctl_body(m->type))
		return ctl_valid(&m->body.ctl);
	return 1;
}

int
fdt_msg_pack(const struct fdt_msg *m, struct fdt_wire *w)
{
	if (!msg_valid(m))
		return -EINVAL;
	memset(w, 0, sizeof(*w));
	be_put32(w->magic, FDT_MAGIC);
	w->version = FDT_VERSION;
	w->type = m->type;
	be_put32(w->id, m->id);
	be_put32(w->status, m->status);
	if (has_bind_body(m->type)) {
		const struct fdt_bind *b = &m->body.bind;
		w->body.bind.proto = b->proto;
		w->body.bind.family = b->family;
		be_put16(w->body.bind.flags, b->flags);
		be_put16(w->body.bind.port, b->port);
		be_put16(w->body.bind.instance, b->instance);
		memcpy(w->body.bind.addr, b->addr, sizeof(b->addr));
	} else if (has_ctl_body(m->type)) {
		const struct fdt_ctl *c = &m->body.ctl;
		be_put16(w->body.ctl.command, c->command);
		be_put16(w->body.ctl.flags, c->flags);
		be_put64(w->body.ctl.value, c->value);
		/* strncpy zero-fills, which the validator demands */
		strncpy((char *)w->body.ctl.text, c->text, sizeof(w->body.ctl.text));
	}
	return 0;
}

int
fdt_msg_unpack(const void *buf, size_t len, struct fdt_msg *m)
{
	const struct fdt_wire *w = buf;

	memset(m, 0, sizeof(*m));
	if (len != FDT_MSG_SIZE) {
		if (len >= offsetof(struct fdt_wire, status) &&
		    be_get32(w->magic) == FDT_MAGIC)
			m->id = be_get32(w->id);
		return -EMSGSIZE;
	}
	if (be_get32(w->magic) != FDT_MAGIC)
		return -EPROTO;
	m->id = be_get32(w->id);
	if (w->version != FDT_VERSION)
		return -EPROTONOSUPPORT;
	m->type = w->type;
	m->status = be_get32(w->status);
	if (m->type < 1 || m->type > FDT_MSG_TYPE_MAX)
		return -EBADMSG;
	if (!bytes_zero(w->reserved, sizeof(w->reserved)))
		return -EBADMSG;
	size_t used = body_size(m->type);
	if (!bytes_zero(w->body.raw + used, sizeof(w->body.raw) - used))
		return -EBADMSG;

	if (has_bind_body(m->type)) {
		struct fdt_bind *b = &m->body.bind;
		b->proto = w->body.bind.proto;
		b->family = w->body.bind.family;
		b->flags = be_get16(w->body.bind.flags);
		b->port = be_get16(w->body.bind.port);
		b->instance = be_get16(w->body.bind.instance);
		memcpy(b->addr, w->body.bind.addr, sizeof(b->addr));
	} else if (has_ctl_body(m->type)) {
		struct fdt_ctl *c = &m->body.ctl;
		if (!bytes_zero(w->body.ctl.reserved, sizeof(w->body.ctl.reserved)))
			return -EBADMSG;
		c->command = be_get16(w->body.ctl.command);
		c->flags = be_get16(w->body.ctl.flags);
		c->value = be_get64(w->body.ctl.value);
		memcpy(c->text, w->body.ctl.text, sizeof(c->text));
	}
	return msg_valid(m) ? 0 : -EBADMSG;
}

size_t
fdt_msg_nfds(const struct fdt_msg *m)
{
	switch (m->type) {
	case FDT_MSG_BIND_REP:
		if (m->status != 0)
			return 0;
		return m->body.bind.proto == FDT_PROTO_BOTH ? 2 : 1;
	case FDT_MSG_CTL_REQ:
		return (m->body.ctl.flags & FDT_CTL_F_FD) ? 1 : 0;
	default:
		return 0;
	}
}

int
fdt_msg_send(int sock, const struct fdt_msg *m, const int *fds, size_t nfds)
{
	struct fdt_wire w;
	int r;

	if ((r = fdt_msg_pack(m, &w)) < 0)
		return r;
	if (nfds != fdt_msg_nfds(m))
		return -EINVAL;
	return fdpass_send(sock, &w, sizeof(w), fds, nfds);
}

/*
 * SEQPACKET reads 0 both for an empty record and at end of stream.  It is
 * the end only if the peer has hung up and no record with data waits
 * behind (a peer may shut down its side and still expect replies).  The
 * peek takes no control buffer, so it installs no descriptor.
 */
static int
at_end_of_stream(int sock)
{
	struct pollfd p = { .fd = sock, .events = POLLRDHUP };
	char c;

	if (poll(&p, 1, 0) != 1 || !(p.revents & (POLLRDHUP | POLLHUP)))
		return 0;
	return recv(sock, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
}

int
fdt_msg_recv(int sock, struct fdt_msg *m, int fds[FDT_MAX_FDS], int flags)
{
	struct fdt_wire w;
	size_t nfds;
	ssize_t n;
	int r;

	memset(m, 0, sizeof(*m));
	n = fdpass_recv(sock, &w, sizeof(w), fds, FDT_MAX_FDS, &nfds, flags);
	if (n < 0)
		return (int)n;
	if (n == 0 && nfds == 0 && at_end_of_stream(sock))
		return 1;
	if ((r = fdt_msg_unpack(&w, (size_t)n, m)) < 0) {
		fdpass_close_all(fds, nfds);
		return r;
	}
	if (nfds != fdt_msg_nfds(m)) {
		fdpass_close_all(fds, nfds);
		return -EBADMSG;
	}
	return 0;
}

void
fdt_msg_refuse(int sock, int err)
{
	struct fdt_msg m;
	char sink[FDT_MSG_SIZE];

	fdt_msg_init(&m, FDT_MSG_ERROR, 0);
	m.status = (uint32_t)err;
	fdt_msg_send(sock, &m, NULL, 0);
	shutdown(sock, SHUT_RD);
	while (recv(sock, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	close(sock);
}

const char *
fdt_msg_type_name(unsigned type)
{
	static const char *const names[] = {
		[FDT_MSG_ERROR] = "error",
		[FDT_MSG_BIND_REQ] = "bind-request",
		[FDT_MSG_BIND_REP] = "bind-reply",
		[FDT_MSG_RELEASE_REQ] = "release-request",
		[FDT_MSG_RELEASE_REP] = "release-reply",
		[FDT_MSG_CTL_REQ] = "control-request",
		[FDT_MSG_CTL_REP] = "control-reply",
	};

	if (type < 1 || type > FDT_MSG_TYPE_MAX)
		return "unknown";
	return names[type];
}

const char *
fdt_proto_name(unsigned proto)
{
	switch (proto) {
	case FDT_PROTO_UDP:
		return "udp";
	case FDT_PROTO_TCP:
		return "tcp";
	case FDT_PROTO_BOTH:
		return "both";
	default:
		return "?";
	}
}
