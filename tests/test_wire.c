/*
 * The fixed-size wire message: its layout, a round trip for every type,
 * one table row per byte that fdt_msg_unpack must refuse, and transport
 * over SOCK_SEQPACKET.  Every channel trusts this code to reject what a
 * compromised or confused peer sends, so each rule gets its own row.
 */
#include "common/wire.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "tests/helpers.h"

_Static_assert(sizeof(struct fdt_wire) == FDT_MSG_SIZE, "wire message is FDT_MSG_SIZE");
_Static_assert(FDT_MSG_SIZE == 1024, "FDT_MSG_SIZE is 1024");

#define TEST_ID		0xdeadbeefu

static const uint8_t v4_loopback[16] = { 127, 0, 0, 1 };
static const uint8_t v6_doc[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };

static void
make_bind(struct fdt_msg *m, enum fdt_msg_type type, uint32_t id, uint8_t proto,
    uint8_t family, uint16_t port)
{
	fdt_msg_init(m, type, id);
	m->body.bind.proto = proto;
	m->body.bind.family = family;
	m->body.bind.port = port;
	memcpy(m->body.bind.addr, family == FDT_FAMILY_INET ? v4_loopback : v6_doc,
	    sizeof(m->body.bind.addr));
}

static void
make_ctl(struct fdt_msg *m, enum fdt_msg_type type, uint32_t id, uint16_t flags,
    const char *text)
{
	fdt_msg_init(m, type, id);
	m->body.ctl.command = 0x1234;
	m->body.ctl.flags = flags;
	m->body.ctl.value = 0x0102030405060708ull;
	snprintf(m->body.ctl.text, sizeof(m->body.ctl.text), "%s", text);
}

/* One message of every type, with fields that a byte swap would change. */
static size_t
make_samples(struct fdt_msg *out, size_t max)
{
	static char longtext[FDT_TEXT_MAX];
	size_t n = 0;

	cr_assert_geq(max, 10);
	memset(longtext, 'z', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';

	fdt_msg_init(&out[n], FDT_MSG_ERROR, 0x01020304);
	out[n++].status = EPROTO;

	make_bind(&out[n], FDT_MSG_BIND_REQ, 0x11223344, FDT_PROTO_UDP,
	    FDT_FAMILY_INET, 8053);
	out[n].body.bind.flags = FDT_BIND_F_REUSEPORT;
	out[n++].body.bind.instance = 0x0a0b;

	make_bind(&out[n], FDT_MSG_BIND_REQ, 0xfffffffe, FDT_PROTO_TCP,
	    FDT_FAMILY_INET6, 65535);
	n++;

	make_bind(&out[n], FDT_MSG_BIND_REP, 0x55667788, FDT_PROTO_BOTH,
	    FDT_FAMILY_INET6, 0x0102);
	out[n].body.bind.flags = FDT_BIND_F_REUSEPORT;
	out[n++].body.bind.instance = 0x0304;

	make_bind(&out[n], FDT_MSG_BIND_REP, 7, FDT_PROTO_UDP, FDT_FAMILY_INET, 53);
	out[n++].status = 4095;

	make_bind(&out[n], FDT_MSG_RELEASE_REQ, 0x80000001, FDT_PROTO_BOTH,
	    FDT_FAMILY_INET, 1);
	n++;

	make_bind(&out[n], FDT_MSG_RELEASE_REP, 0x00ff00ff, FDT_PROTO_TCP,
	    FDT_FAMILY_INET6, 0xfe01);
	out[n++].status = ENOENT;

	make_ctl(&out[n++], FDT_MSG_CTL_REQ, 42, FDT_CTL_F_FD, "reload now");
	make_ctl(&out[n++], FDT_MSG_CTL_REQ, 43, 0, "");
	make_ctl(&out[n], FDT_MSG_CTL_REP, 44, 0, longtext);
	out[n++].status = EACCES;
	return n;
}

static void
assert_same_msg(const struct fdt_msg *a, const struct fdt_msg *b, size_t i)
{
	cr_assert_eq(a->type, b->type, "sample %zu: type", i);
	cr_assert_eq(a->id, b->id, "sample %zu: id", i);
	cr_assert_eq(a->status, b->status, "sample %zu: status", i);
	switch (a->type) {
	case FDT_MSG_BIND_REQ:
	case FDT_MSG_BIND_REP:
	case FDT_MSG_RELEASE_REQ:
	case FDT_MSG_RELEASE_REP:
		cr_assert_eq(a->body.bind.proto, b->body.bind.proto, "sample %zu: proto", i);
		cr_assert_eq(a->body.bind.family, b->body.bind.family, "sample %zu: family", i);
		cr_assert_eq(a->body.bind.flags, b->body.bind.flags, "sample %zu: flags", i);
		cr_assert_eq(a->body.bind.port, b->body.bind.port, "sample %zu: port", i);
		cr_assert_eq(a->body.bind.instance, b->body.bind.instance,
		    "sample %zu: instance", i);
		cr_assert_arr_eq(a->body.bind.addr, b->body.bind.addr,
		    sizeof(a->body.bind.addr), "sample %zu: addr", i);
		break;
	case FDT_MSG_CTL_REQ:
	case FDT_MSG_CTL_REP:
		cr_assert_eq(a->body.ctl.command, b->body.ctl.command, "sample %zu: command", i);
		cr_assert_eq(a->body.ctl.flags, b->body.ctl.flags, "sample %zu: flags", i);
		cr_assert_eq(a->body.ctl.value, b->body.ctl.value, "sample %zu: value", i);
		cr_assert_arr_eq(a->body.ctl.text, b->body.ctl.text,
		    sizeof(a->body.ctl.text), "sample %zu: text", i);
		break;
	default:
		break;
	}
}

Test(wire, sizes)
{
	cr_assert_eq(sizeof(struct fdt_wire), FDT_MSG_SIZE);
	cr_assert_eq(FDT_MSG_SIZE, 1024);
	cr_assert_eq(offsetof(struct fdt_wire, body) + offsetof(struct fdt_wire_ctl, text) +
	    FDT_TEXT_MAX, FDT_MSG_SIZE);
}

Test(wire, round_trip_every_type)
{
	struct fdt_msg samples[16], back;
	struct fdt_wire w;
	unsigned seen = 0;
	size_t n = make_samples(samples, 16);

	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(fdt_msg_pack(&samples[i], &w), 0, "sample %zu: pack", i);
		memset(&back, 0xa5, sizeof(back));
		cr_assert_eq(fdt_msg_unpack(&w, sizeof(w), &back), 0, "sample %zu: unpack", i);
		assert_same_msg(&samples[i], &back, i);
		seen |= 1u << samples[i].type;
	}
	for (unsigned t = FDT_MSG_ERROR; t <= FDT_MSG_TYPE_MAX; t++)
		cr_assert(seen & (1u << t), "no sample of type %u", t);
}

Test(wire, header_is_big_endian)
{
	static const uint8_t head[16] = {
		'f', 'd', 't', '1', FDT_VERSION, FDT_MSG_BIND_REP, 0, 0,
		0x55, 0x66, 0x77, 0x88, 0, 0, 0x0f, 0xff,
	};
	struct fdt_msg m;
	struct fdt_wire w;

	make_bind(&m, FDT_MSG_BIND_REP, 0x55667788, FDT_PROTO_TCP, FDT_FAMILY_INET, 0x1f75);
	m.status = 4095;
	cr_assert_eq(fdt_msg_pack(&m, &w), 0);
	cr_assert_arr_eq(&w, head, sizeof(head));
}

Test(wire, bind_body_is_big_endian)
{
	static const uint8_t body[24] = {
		FDT_PROTO_BOTH, FDT_FAMILY_INET6, 0x00, 0x01, 0x1f, 0x75, 0xab, 0xcd,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	};
	struct fdt_msg m;
	struct fdt_wire w;
	const uint8_t *p = (const uint8_t *)&w;

	make_bind(&m, FDT_MSG_BIND_REQ, 1, FDT_PROTO_BOTH, FDT_FAMILY_INET6, 8053);
	m.body.bind.flags = FDT_BIND_F_REUSEPORT;
	m.body.bind.instance = 0xabcd;
	cr_assert_eq(fdt_msg_pack(&m, &w), 0);
	cr_assert_arr_eq(p + 16, body, sizeof(body));
	cr_assert_eq(p[16 + 4], 0x1f, "port high byte at 16+4");
	for (size_t i = 16 + sizeof(body); i < FDT_MSG_SIZE; i++)
		cr_assert_eq(p[i], 0, "byte %zu after the bind body", i);
}

Test(wire, ctl_body_is_big_endian)
{
	static const uint8_t body[16] = {
		0x12, 0x34, 0x00, 0x01, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8,
	};
	struct fdt_msg m;
	struct fdt_wire w;
	const uint8_t *p = (const uint8_t *)&w;

	make_ctl(&m, FDT_MSG_CTL_REQ, 1, FDT_CTL_F_FD, "hi");
	cr_assert_eq(fdt_msg_pack(&m, &w), 0);
	cr_assert_arr_eq(p + 16, body, sizeof(body));
	cr_assert_arr_eq(p + 32, "hi", 3);
	for (size_t i = 32 + 3; i < FDT_MSG_SIZE; i++)
		cr_assert_eq(p[i], 0, "byte %zu after the text", i);
}

/* The valid messages the rejection table starts from. */
enum base {
	B_BIND_REQ4,	/* udp 127.0.0.1:53 */
	B_BIND_REP6,	/* both [2001:db8::1]:8053, status 0 */
	B_RELEASE_REQ,
	B_ERROR,	/* status EINVAL */
	B_CTL_REQ,	/* text "status" */
	B_CTL_REP,	/* empty text */
};

static void
make_base(enum base base, struct fdt_wire *w)
{
	struct fdt_msg m;

	switch (base) {
	case B_BIND_REQ4:
		make_bind(&m, FDT_MSG_BIND_REQ, TEST_ID, FDT_PROTO_UDP, FDT_FAMILY_INET, 53);
		break;
	case B_BIND_REP6:
		make_bind(&m, FDT_MSG_BIND_REP, TEST_ID, FDT_PROTO_BOTH, FDT_FAMILY_INET6, 8053);
		break;
	case B_RELEASE_REQ:
		make_bind(&m, FDT_MSG_RELEASE_REQ, TEST_ID, FDT_PROTO_TCP, FDT_FAMILY_INET, 53);
		break;
	case B_ERROR:
		fdt_msg_init(&m, FDT_MSG_ERROR, TEST_ID);
		m.status = EINVAL;
		break;
	case B_CTL_REQ:
		make_ctl(&m, FDT_MSG_CTL_REQ, TEST_ID, 0, "status");
		break;
	case B_CTL_REP:
		make_ctl(&m, FDT_MSG_CTL_REP, TEST_ID, 0, "");
		break;
	}
	cr_assert_eq(fdt_msg_pack(&m, w), 0, "base %d does not pack", (int)base);
}

/* No pointers: Criterion hands the rows to a worker process that may not share our address space. */
struct bad_row {
	char name[48];
	enum base base;
	size_t len;		/* bytes handed to fdt_msg_unpack */
	size_t off;		/* first byte overwritten */
	size_t n;		/* bytes overwritten (0: none) */
	uint8_t val;
	int err;
	int keeps_id;		/* m->id is the sender's afterwards */
};

#define LEN(name, len, keeps)	{ name, B_BIND_REQ4, len, 0, 0, 0, -EMSGSIZE, keeps }
#define SET(name, base, off, val, err) \
	{ name, base, FDT_MSG_SIZE, off, 1, val, err, 1 }
#define BAD(name, base, off, val)	SET(name, base, off, val, -EBADMSG)

ParameterizedTestParameters(wire, unpack_rejects)
{
	static struct bad_row rows[] = {
		LEN("length 0", 0, 0),
		LEN("length 1", 1, 0),
		LEN("length 1023", FDT_MSG_SIZE - 1, 1),
		LEN("length 1025", FDT_MSG_SIZE + 1, 1),
		{ "bad magic byte 0", B_BIND_REQ4, FDT_MSG_SIZE, 0, 1, 'F', -EPROTO, 0 },
		{ "bad magic byte 3", B_CTL_REQ, FDT_MSG_SIZE, 3, 1, '2', -EPROTO, 0 },
		SET("version 0", B_BIND_REQ4, 4, 0, -EPROTONOSUPPORT),
		SET("version 2", B_CTL_REP, 4, 2, -EPROTONOSUPPORT),
		BAD("type 0", B_BIND_REQ4, 5, 0),
		BAD("type TYPE_MAX+1", B_BIND_REQ4, 5, FDT_MSG_TYPE_MAX + 1),
		BAD("type 255", B_ERROR, 5, 255),
		BAD("header reserved[0]", B_BIND_REQ4, 6, 1),
		BAD("header reserved[1]", B_CTL_REQ, 7, 0x80),
		BAD("bind tail first byte", B_BIND_REQ4, 16 + 24, 1),
		BAD("bind tail last byte", B_BIND_REP6, FDT_MSG_SIZE - 1, 0x40),
		BAD("release tail", B_RELEASE_REQ, 16 + 100, 1),
		BAD("error body first byte", B_ERROR, 16, 1),
		BAD("error body last byte", B_ERROR, FDT_MSG_SIZE - 1, 1),
		BAD("bind proto 0", B_BIND_REQ4, 16, 0),
		BAD("bind proto 4", B_BIND_REP6, 16, 4),
		BAD("bind family 0", B_BIND_REQ4, 17, 0),
		BAD("bind family 5", B_BIND_REP6, 17, 5),
		BAD("bind port 0", B_BIND_REQ4, 21, 0),
		BAD("bind flag 0x0002", B_BIND_REQ4, 19, 0x02),
		BAD("bind flag 0x8000", B_BIND_REP6, 18, 0x80),
		BAD("ipv4 addr byte 4", B_BIND_REQ4, 16 + 8 + 4, 1),
		BAD("ipv4 addr byte 15", B_RELEASE_REQ, 16 + 8 + 15, 0xff),
		BAD("ctl reserved[0]", B_CTL_REQ, 20, 1),
		BAD("ctl reserved[3]", B_CTL_REP, 23, 1),
		BAD("ctl flag 0x0004", B_CTL_REQ, 19, 0x04),
		BAD("ctl flag 0x8000", B_CTL_REP, 18, 0x80),
		{ "ctl text unterminated", B_CTL_REQ, FDT_MSG_SIZE, 32, FDT_TEXT_MAX, 'a',
		  -EBADMSG, 1 },
		BAD("ctl byte after the NUL", B_CTL_REQ, 32 + 7, 'x'),
		BAD("ctl byte after empty text", B_CTL_REP, 33, 'x'),
		BAD("ctl last text byte", B_CTL_REQ, FDT_MSG_SIZE - 1, 'x'),
		BAD("status on bind request", B_BIND_REQ4, 15, 1),
		BAD("status on release request", B_RELEASE_REQ, 15, EINVAL),
		BAD("status on ctl request", B_CTL_REQ, 15, 1),
		BAD("bind reply status 4096", B_BIND_REP6, 14, 0x10),
		BAD("error status 2^31", B_ERROR, 12, 0x80),
		BAD("ctl reply status 4096", B_CTL_REP, 14, 0x10),
	};

	return cr_make_param_array(struct bad_row, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct bad_row *row, wire, unpack_rejects)
{
	union {
		struct fdt_wire w;
		uint8_t b[2 * FDT_MSG_SIZE];
	} u, orig;
	struct fdt_msg m;

	memset(&u, 0, sizeof(u));
	make_base(row->base, &u.w);
	cr_assert_eq(fdt_msg_unpack(&u.w, FDT_MSG_SIZE, &m), 0, "%s: base is invalid", row->name);
	orig = u;
	if (row->n > 0) {
		memset(u.b + row->off, row->val, row->n);
		cr_assert(memcmp(&u, &orig, sizeof(u)) != 0, "%s: nothing changed", row->name);
	}
	memset(&m, 0xa5, sizeof(m));
	cr_assert_eq(fdt_msg_unpack(u.b, row->len, &m), row->err, "%s: got %d, want %d",
	    row->name, fdt_msg_unpack(u.b, row->len, &m), row->err);
	cr_assert_eq(m.id, row->keeps_id ? TEST_ID : 0, "%s: id %#x", row->name, m.id);
}

Test(wire, pack_refuses_invalid)
{
	struct {
		const char *name;
		struct fdt_msg m;
	} rows[12];
	struct fdt_wire w;
	size_t n = 0;

	make_bind(&rows[n].m, FDT_MSG_BIND_REQ, 1, FDT_PROTO_UDP, FDT_FAMILY_INET, 53);
	rows[n].m.type = 0;
	rows[n++].name = "type 0";
	make_bind(&rows[n].m, FDT_MSG_BIND_REQ, 1, FDT_PROTO_UDP, FDT_FAMILY_INET, 53);
	rows[n].m.type = FDT_MSG_TYPE_MAX + 1;
	rows[n++].name = "type TYPE_MAX+1";
	make_bind(&rows[n].m, FDT_MSG_BIND_REQ, 1, FDT_PROTO_UDP, FDT_FAMILY_INET, 0);
	rows[n++].name = "port 0";
	make_bind(&rows[n].m, FDT_MSG_BIND_REQ, 1, 0, FDT_FAMILY_INET, 53);
	rows[n++].name = "proto 0";
	make_bind(&rows[n].m, FDT_MSG_BIND_REQ, 1, FDT_PROTO_UDP, 0, 53);
	rows[n++].name = "family 0";
	make_bind(&rows[n].m, FDT_MSG_BIND_REQ, 1, FDT_PROTO_UDP, FDT_FAMILY_INET, 53);
	rows[n].m.body.bind.addr[4] = 1;
	rows[n++].name = "ipv4 with a fifth address byte";
	make_bind(&rows[n].m, FDT_MSG_BIND_REQ, 1, FDT_PROTO_UDP, FDT_FAMILY_INET, 53);
	rows[n].m.body.bind.flags = 0x8000;
	rows[n++].name = "unknown bind flag";
	make_bind(&rows[n].m, FDT_MSG_BIND_REQ, 1, FDT_PROTO_UDP, FDT_FAMILY_INET, 53);
	rows[n].m.status = 1;
	rows[n++].name = "status on a request";
	fdt_msg_init(&rows[n].m, FDT_MSG_ERROR, 1);
	rows[n].m.status = 4096;
	rows[n++].name = "status 4096";
	make_ctl(&rows[n].m, FDT_MSG_CTL_REQ, 1, 0x0004, "x");
	rows[n++].name = "unknown ctl flag";
	make_ctl(&rows[n].m, FDT_MSG_CTL_REQ, 1, 0, "x");
	memset(rows[n].m.body.ctl.text, 'a', sizeof(rows[n].m.body.ctl.text));
	rows[n++].name = "unterminated text";
	make_ctl(&rows[n].m, FDT_MSG_CTL_REP, 1, 0, "x");
	rows[n].m.body.ctl.text[5] = 'y';
	rows[n++].name = "text with bytes after the NUL";

	for (size_t i = 0; i < n; i++)
		cr_assert_eq(fdt_msg_pack(&rows[i].m, &w), -EINVAL, "%s", rows[i].name);
}

Test(wire, nfds)
{
	struct fdt_msg m;

	make_bind(&m, FDT_MSG_BIND_REP, 1, FDT_PROTO_UDP, FDT_FAMILY_INET, 53);
	cr_assert_eq(fdt_msg_nfds(&m), 1, "udp reply");
	m.body.bind.proto = FDT_PROTO_TCP;
	cr_assert_eq(fdt_msg_nfds(&m), 1, "tcp reply");
	m.body.bind.proto = FDT_PROTO_BOTH;
	cr_assert_eq(fdt_msg_nfds(&m), 2, "both reply");
	m.status = EADDRINUSE;
	cr_assert_eq(fdt_msg_nfds(&m), 0, "error reply");

	make_ctl(&m, FDT_MSG_CTL_REQ, 1, FDT_CTL_F_FD, "x");
	cr_assert_eq(fdt_msg_nfds(&m), 1, "ctl request with a descriptor");
	m.body.ctl.flags = 0;
	cr_assert_eq(fdt_msg_nfds(&m), 0, "ctl request without");
	make_ctl(&m, FDT_MSG_CTL_REP, 1, FDT_CTL_F_FD, "x");
	cr_assert_eq(fdt_msg_nfds(&m), 0, "ctl reply");

	make_bind(&m, FDT_MSG_BIND_REQ, 1, FDT_PROTO_BOTH, FDT_FAMILY_INET, 53);
	cr_assert_eq(fdt_msg_nfds(&m), 0, "bind request");
	m.type = FDT_MSG_RELEASE_REQ;
	cr_assert_eq(fdt_msg_nfds(&m), 0, "release request");
	m.type = FDT_MSG_RELEASE_REP;
	cr_assert_eq(fdt_msg_nfds(&m), 0, "release reply");
	fdt_msg_init(&m, FDT_MSG_ERROR, 1);
	cr_assert_eq(fdt_msg_nfds(&m), 0, "error");
}

static void
assert_same_file(int a, int b)
{
	struct stat sa, sb;

	cr_assert_eq(fstat(a, &sa), 0);
	cr_assert_eq(fstat(b, &sb), 0);
	cr_assert(sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino,
	    "fd %d and fd %d are different files", a, b);
}

static void
send_wire(int sock, const struct fdt_msg *m, const int *fds, size_t nfds)
{
	struct fdt_wire w;

	cr_assert_eq(fdt_msg_pack(m, &w), 0);
	cr_assert_eq(fdpass_send(sock, &w, sizeof(w), fds, nfds), 0);
}

TestSuite(wire_io, .init = pair_open, .fini = pair_close, .timeout = 10);

Test(wire_io, bind_reply_with_two_sockets)
{
	struct fdt_msg m, got;
	int socks[2], fds[FDT_MAX_FDS] = { -1, -1 };
	int type, on = 1;
	socklen_t len;

	socks[0] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socks[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(socks[0] >= 0 && socks[1] >= 0);
	make_bind(&m, FDT_MSG_BIND_REP, 99, FDT_PROTO_BOTH, FDT_FAMILY_INET, 53);
	cr_assert_eq(fdt_msg_send(pair[0], &m, socks, 2), 0);
	cr_assert_eq(fdt_msg_recv(pair[1], &got, fds, 0), 0);
	assert_same_msg(&m, &got, 0);

	for (int i = 0; i < 2; i++) {
		cr_assert(fds[i] >= 0 && fds[i] != socks[0] && fds[i] != socks[1],
		    "fds[%d] = %d is not a new descriptor", i, fds[i]);
		assert_same_file(fds[i], socks[i]);
		cr_assert(fcntl(fds[i], F_GETFD) & FD_CLOEXEC, "fds[%d] lacks FD_CLOEXEC", i);
		len = sizeof(type);
		cr_assert_eq(getsockopt(fds[i], SOL_SOCKET, SO_TYPE, &type, &len), 0);
		cr_assert_eq(type, i == 0 ? SOCK_DGRAM : SOCK_STREAM, "fds[%d]: UDP comes first", i);
	}
	/* An option set through the received socket shows on the original. */
	cr_assert_eq(setsockopt(fds[1], SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)), 0);
	on = 0;
	len = sizeof(on);
	cr_assert_eq(getsockopt(socks[1], SOL_SOCKET, SO_REUSEADDR, &on, &len), 0);
	cr_assert_eq(on, 1);

	fdpass_close_all(fds, 2);
	fdpass_close_all(socks, 2);
	pair_assert_no_leak();
}

Test(wire_io, ctl_request_with_a_pipe)
{
	struct fdt_msg m, got;
	int p[2], fds[FDT_MAX_FDS] = { -1, -1 };
	char c = 0;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	make_ctl(&m, FDT_MSG_CTL_REQ, 5, FDT_CTL_F_FD, "log");
	cr_assert_eq(fdt_msg_send(pair[0], &m, &p[1], 1), 0);
	cr_assert_eq(fdt_msg_recv(pair[1], &got, fds, 0), 0);
	assert_same_msg(&m, &got, 0);
	cr_assert_eq(write(fds[0], "k", 1), 1);
	cr_assert_eq(read(p[0], &c, 1), 1);
	cr_assert_eq(c, 'k');

	fdpass_close_all(fds, 1);
	fdpass_close_all(p, 2);
	pair_assert_no_leak();
}

Test(wire_io, send_refuses_wrong_descriptor_count)
{
	struct fdt_msg m;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC), two[2];

	cr_assert(fd >= 0);
	two[0] = two[1] = fd;
	make_bind(&m, FDT_MSG_BIND_REQ, 1, FDT_PROTO_UDP, FDT_FAMILY_INET, 53);
	cr_assert_eq(fdt_msg_send(pair[0], &m, &fd, 1), -EINVAL, "bind request with a descriptor");
	m.type = FDT_MSG_BIND_REP;
	cr_assert_eq(fdt_msg_send(pair[0], &m, NULL, 0), -EINVAL, "bind reply without its socket");
	m.body.bind.proto = FDT_PROTO_BOTH;
	cr_assert_eq(fdt_msg_send(pair[0], &m, &fd, 1), -EINVAL, "both reply with one socket");
	cr_assert_eq(fdt_msg_send(pair[0], &m, two, 2), 0, "both reply with two sockets");
	m.body.bind.port = 0;
	cr_assert_eq(fdt_msg_send(pair[0], &m, two, 2), -EINVAL, "invalid message");
	close(fd);
	pair_assert_no_leak();
}

Test(wire_io, unexpected_descriptor_is_closed)
{
	struct fdt_msg m, got;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int fds[FDT_MAX_FDS] = { -1, -1 };

	cr_assert(fd >= 0);
	make_bind(&m, FDT_MSG_BIND_REQ, 77, FDT_PROTO_UDP, FDT_FAMILY_INET, 53);
	send_wire(pair[0], &m, &fd, 1);
	close(fd);
	cr_assert_eq(fdt_msg_recv(pair[1], &got, fds, 0), -EBADMSG);
	pair_assert_no_leak();
}

Test(wire_io, missing_descriptor_is_refused)
{
	struct fdt_msg m, got;
	int fds[FDT_MAX_FDS] = { -1, -1 };

	make_ctl(&m, FDT_MSG_CTL_REQ, 1, FDT_CTL_F_FD, "log");
	send_wire(pair[0], &m, NULL, 0);
	cr_assert_eq(fdt_msg_recv(pair[1], &got, fds, 0), -EBADMSG, "flag F_FD without one");

	make_bind(&m, FDT_MSG_BIND_REP, 1, FDT_PROTO_BOTH, FDT_FAMILY_INET6, 53);
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0);
	send_wire(pair[0], &m, &fd, 1);
	close(fd);
	cr_assert_eq(fdt_msg_recv(pair[1], &got, fds, 0), -EBADMSG, "both reply with one socket");
	pair_assert_no_leak();
}

Test(wire_io, invalid_record_with_descriptors_closes_them)
{
	struct fdt_msg m, got;
	struct fdt_wire w;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC), two[2];
	int fds[FDT_MAX_FDS] = { -1, -1 };

	cr_assert(fd >= 0);
	two[0] = two[1] = fd;
	make_bind(&m, FDT_MSG_BIND_REP, 1, FDT_PROTO_BOTH, FDT_FAMILY_INET, 53);
	cr_assert_eq(fdt_msg_pack(&m, &w), 0);
	w.reserved[0] = 1;
	cr_assert_eq(fdpass_send(pair[0], &w, sizeof(w), two, 2), 0);
	cr_assert_eq(fdpass_send(pair[0], &w, 10, two, 2), 0);
	close(fd);
	cr_assert_eq(fdt_msg_recv(pair[1], &got, fds, 0), -EBADMSG, "reserved byte set");
	cr_assert_eq(fdt_msg_recv(pair[1], &got, fds, 0), -EMSGSIZE, "short record");
	pair_assert_no_leak();
}

Test(wire_io, empty_record_then_hang_up)
{
	struct fdt_msg m;
	int fds[FDT_MAX_FDS] = { -1, -1 };

	cr_assert_eq(send(pair[0], "", 0, 0), 0);
	cr_assert_eq(fdt_msg_recv(pair[1], &m, fds, 0), -EMSGSIZE, "empty record, peer still there");
	close(pair[0]);
	pair[0] = -1;
	cr_assert_eq(fdt_msg_recv(pair[1], &m, fds, 0), 1, "end of stream");
	pair_assert_no_leak();
}

Test(wire_io, garbage_then_valid)
{
	struct fdt_msg m, got;
	uint8_t junk[FDT_MSG_SIZE + 100];
	int fds[FDT_MAX_FDS] = { -1, -1 };

	memset(junk, 0xff, sizeof(junk));
	cr_assert_eq(send(pair[0], junk, 37, 0), 37);
	cr_assert_eq(send(pair[0], junk, FDT_MSG_SIZE, 0), FDT_MSG_SIZE);
	cr_assert_eq(send(pair[0], junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	make_ctl(&m, FDT_MSG_CTL_REP, 0x12345678, 0, "fine");
	cr_assert_eq(fdt_msg_send(pair[0], &m, NULL, 0), 0);

	cr_assert_eq(fdt_msg_recv(pair[1], &got, fds, 0), -EMSGSIZE, "short garbage");
	cr_assert_eq(fdt_msg_recv(pair[1], &got, fds, 0), -EPROTO, "full-size garbage");
	cr_assert_eq(fdt_msg_recv(pair[1], &got, fds, 0), -EMSGSIZE, "long garbage");
	cr_assert_eq(fdt_msg_recv(pair[1], &got, fds, 0), 0, "the valid record after them");
	assert_same_msg(&m, &got, 0);
	cr_assert_eq(fdt_msg_recv(pair[1], &got, fds, MSG_DONTWAIT), -EAGAIN, "nothing more");
	pair_assert_no_leak();
}
