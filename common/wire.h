/*
 * The one message every fdtool channel carries: creator requests and
 * replies, control commands and their replies.  It has a fixed size, so
 * over SOCK_SEQPACKET a short, long or garbled record is one bad record
 * and the next one starts clean.  On the wire every integer is big-endian
 * and every unused byte is zero; roles only see struct fdt_msg, in host
 * order, after fdt_msg_unpack() has checked all of it.
 */
#ifndef FDTOOL_WIRE_H
#define FDTOOL_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FDT_MAGIC	0x66647431u	/* "fdt1" */
#define FDT_VERSION	1
#define FDT_MSG_SIZE	1024
#define FDT_TEXT_MAX	992		/* ctl.text, NUL included */
#define FDT_MAX_FDS	2		/* no message carries more */

enum fdt_msg_type {
	FDT_MSG_ERROR = 1,	/* reply to a record that was rejected */
	FDT_MSG_BIND_REQ,	/* body.bind; no descriptor */
	FDT_MSG_BIND_REP,	/* body.bind; 1 or 2 sockets (UDP first) when status is 0 */
	FDT_MSG_RELEASE_REQ,	/* body.bind */
	FDT_MSG_RELEASE_REP,	/* body.bind */
	FDT_MSG_CTL_REQ,	/* body.ctl; 1 descriptor iff FDT_CTL_F_FD */
	FDT_MSG_CTL_REP,	/* body.ctl; no descriptor */
	FDT_MSG_TYPE_MAX = FDT_MSG_CTL_REP,
};

enum fdt_proto {
	FDT_PROTO_UDP = 1,
	FDT_PROTO_TCP = 2,
	FDT_PROTO_BOTH = FDT_PROTO_UDP | FDT_PROTO_TCP,
};

/* Wire family codes: not AF_*, whose values are the host's business. */
enum fdt_family {
	FDT_FAMILY_INET = 4,
	FDT_FAMILY_INET6 = 6,
};

#define FDT_BIND_F_REUSEPORT	0x0001u
#define FDT_BIND_F_ALL		FDT_BIND_F_REUSEPORT

#define FDT_CTL_F_FD		0x0001u	/* a descriptor travels with the command */
#define FDT_CTL_F_PROGRESS	0x0002u	/* reply: still working, value = done so far */
#define FDT_CTL_F_ALL		(FDT_CTL_F_FD | FDT_CTL_F_PROGRESS)

/*
 * Control commands (ctl.command).  A request carries its argument in
 * ctl.text; a reply its result in ctl.value and a line for the operator
 * in ctl.text; status is 0 or the errno that says why not.
 */
enum fdt_ctl_command {
	FDT_CTL_PING = 1,
	FDT_CTL_VERSION,
	FDT_CTL_DUMP_CACHE,	/* + a descriptor open for writing */
	FDT_CTL_LOAD_CACHE,	/* + a descriptor open for reading */
	FDT_CTL_WIPE_CACHE,	/* text: a name; "name$" for its subtree */
	FDT_CTL_GET,		/* text: a counter name */
	FDT_CTL_GET_ALL,	/* value: index; reply text "name\tvalue", ENOENT past the end */
	FDT_CTL_QUIT,
	FDT_CTL_QUIT_NICELY,
	FDT_CTL_METRICS,	/* + a descriptor open for writing: Prometheus text */
	FDT_CTL_COMMAND_MAX = FDT_CTL_METRICS,
};

/* Host form of the bodies. */
struct fdt_bind {
	uint8_t proto;		/* enum fdt_proto */
	uint8_t family;		/* enum fdt_family */
	uint16_t flags;		/* FDT_BIND_F_* */
	uint16_t port;		/* never 0 */
	uint16_t instance;	/* tells SO_REUSEPORT siblings apart; 0 without it */
	uint8_t addr[16];	/* IPv4 in the first 4 bytes, the rest zero */
};

struct fdt_ctl {
	uint16_t command;	/* defined by the control role */
	uint16_t flags;		/* FDT_CTL_F_* */
	uint64_t value;
	char text[FDT_TEXT_MAX];	/* NUL-terminated, zero after the NUL */
};

struct fdt_msg {
	uint8_t type;		/* enum fdt_msg_type */
	uint32_t id;		/* chosen by the requester, echoed in the reply */
	uint32_t status;	/* 0, or a positive errno value (replies only) */
	union {
		struct fdt_bind bind;
		struct fdt_ctl ctl;
	} body;
};

/* The wire form: byte arrays only, so no padding and no alignment. */
struct fdt_wire_bind {
	uint8_t proto;
	uint8_t family;
	uint8_t flags[2];
	uint8_t port[2];
	uint8_t instance[2];
	uint8_t addr[16];
};

struct fdt_wire_ctl {
	uint8_t command[2];
	uint8_t flags[2];
	uint8_t reserved[4];
	uint8_t value[8];
	uint8_t text[FDT_TEXT_MAX];
};

struct fdt_wire {
	uint8_t magic[4];
	uint8_t version;
	uint8_t type;
	uint8_t reserved[2];
	uint8_t id[4];
	uint8_t status[4];
	union {
		struct fdt_wire_bind bind;
		struct fdt_wire_ctl ctl;
		uint8_t raw[FDT_MSG_SIZE - 16];
	} body;
};

_Static_assert(sizeof(struct fdt_wire_bind) == 24, "bind body is 24 bytes");
_Static_assert(sizeof(struct fdt_wire_ctl) == FDT_MSG_SIZE - 16, "ctl body fills the message");
_Static_assert(sizeof(struct fdt_wire) == FDT_MSG_SIZE, "the message has one size");
_Static_assert(offsetof(struct fdt_wire, id) == 8, "id at 8");
_Static_assert(offsetof(struct fdt_wire, status) == 12, "status at 12");
_Static_assert(offsetof(struct fdt_wire, body) == 16, "body at 16");
_Static_assert(offsetof(struct fdt_wire_ctl, text) == 16, "ctl text at 16");

/* Fill a message of the given type; the body is zeroed. */
void fdt_msg_init(struct fdt_msg *m, enum fdt_msg_type type, uint32_t id);

/* Host form to wire form.  Returns 0, or -EINVAL if m would not validate. */
int fdt_msg_pack(const struct fdt_msg *m, struct fdt_wire *w);

/*
 * Validate len bytes of wire form and convert them.  Returns 0, or:
 * -EMSGSIZE wrong length, -EPROTO bad magic, -EPROTONOSUPPORT bad version,
 * -EBADMSG unknown type, reserved or unused bytes set, bad field values or
 * an unterminated string.  On error m->id holds the sender's id when the
 * header was readable (for the error reply), else 0.
 */
int fdt_msg_unpack(const void *buf, size_t len, struct fdt_msg *m);

/* How many descriptors a valid message carries with it. */
size_t fdt_msg_nfds(const struct fdt_msg *m);

/*
 * One message and its descriptors in one sendmsg / recvmsg.  fdt_msg_recv
 * returns 0 with exactly fdt_msg_nfds() descriptors in fds (O_CLOEXEC),
 * 1 on an orderly end of stream (a zero-length read), or -errno with no
 * descriptor left open: the fdpass errors, the unpack errors, or -EBADMSG
 * when the descriptor count does not match the type.
 */
int fdt_msg_send(int sock, const struct fdt_msg *m, const int *fds, size_t nfds);
int fdt_msg_recv(int sock, struct fdt_msg *m, int fds[FDT_MAX_FDS], int flags);

/*
 * Turn a connected peer away with a reason it can read: an ERROR record
 * with id 0 and status err, then close.  Closing a UNIX socket with
 * unread records would make the peer's next read fail with ECONNRESET
 * before it sees the error, so its sends are stopped and drained first.
 */
void fdt_msg_refuse(int sock, int err);

const char *fdt_msg_type_name(unsigned type);
const char *fdt_proto_name(unsigned proto);

#endif
