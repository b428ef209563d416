/*
 * fuzz_jobmsg: a job child's records to the loop (common/jobmsg.[ch]),
 * which the loop must trust no byte of.  Invariants: a record
 * jobmsg_unpack() accepts has the one length its type demands (an entry:
 * its body plus a template of JOBMSG_TEMPLATE_MIN..MAX bytes, pointing
 * into the record and ending with it) and jobmsg_pack() gives back the
 * very same bytes, and refuses a buffer one byte short with -ENOSPC
 * without writing past it; a rejected record gives a documented errno
 * (bad magic: -EPROTO; shorter than a header: -EMSGSIZE); jobmsg_recv()
 * over a SOCK_SEQPACKET socketpair judges a record as jobmsg_unpack()
 * does (a record longer than the buffer is -EMSGSIZE, an empty one the
 * end of the stream).  A host-form message built from the input packs
 * exactly when its fields are legal and unpacks to the same fields.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/jobmsg.h"
#include "tests/fuzz/fuzz.h"

#define HEAD	sizeof(struct jobmsg_wire_head)

static size_t
fixed_len(unsigned type)
{
	switch (type) {
	case JOBMSG_ENTRY: return sizeof(struct jobmsg_wire_entry);
	case JOBMSG_LOADED: return sizeof(struct jobmsg_wire_loaded);
	case JOBMSG_PROGRESS: return sizeof(struct jobmsg_wire_progress);
	case JOBMSG_WRITTEN: return sizeof(struct jobmsg_wire_written);
	default: return 0;
	}
}

static int
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static int
same_msg(const struct jobmsg *a, const struct jobmsg *b)
{
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case JOBMSG_ENTRY:
		return a->u.entry.ttl == b->u.entry.ttl && a->u.entry.negative ==
		    b->u.entry.negative && a->u.entry.tlen == b->u.entry.tlen &&
		    memcmp(a->u.entry.tmpl, b->u.entry.tmpl, a->u.entry.tlen) == 0;
	case JOBMSG_LOADED:
		return a->u.loaded.entries == b->u.loaded.entries &&
		    a->u.loaded.expired == b->u.loaded.expired &&
		    a->u.loaded.malformed == b->u.loaded.malformed;
	case JOBMSG_PROGRESS:
		return a->u.progress.entries == b->u.progress.entries;
	case JOBMSG_WRITTEN:
		return a->u.written.status == b->u.written.status &&
		    a->u.written.entries == b->u.written.entries;
	}
	return 0;
}

/* The wire record: accepted exactly when every byte is legal, and packs back. */
static int
check_unpack(const uint8_t *data, size_t size)
{
	struct jobmsg m;
	size_t fixed;
	uint8_t *out;
	ssize_t n;
	int r;

	memset(&m, 0xa5, sizeof(m));
	r = jobmsg_unpack(data, size, &m);
	if (r < 0) {
		FUZZ_CHECK(r == -EMSGSIZE || r == -EPROTO || r == -EBADMSG,
		    "unpack returned %d", r);
		FUZZ_CHECK(size >= HEAD || r == -EMSGSIZE, "%zu bytes gave %d, not EMSGSIZE",
		    size, r);
		FUZZ_CHECK(size < HEAD || data[0] == JOBMSG_MAGIC || r == -EPROTO,
		    "bad magic gave %d, not EPROTO", r);
		return r;
	}
	/* what was accepted: the header is right and the length is the type's */
	FUZZ_CHECK(size >= HEAD && data[0] == JOBMSG_MAGIC && data[2] == 0 && data[3] == 0,
	    "accepted a record with a bad header");
	FUZZ_CHECK(m.type == data[1] && (fixed = fixed_len(m.type)) != 0,
	    "accepted type %u (byte %u)", m.type, data[1]);
	FUZZ_CHECK(get32(data + 4) == size, "accepted %zu bytes, header says %u", size,
	    get32(data + 4));
	if (m.type == JOBMSG_ENTRY) {
		FUZZ_CHECK(m.u.entry.tmpl == data + fixed, "the template does not follow the body");
		FUZZ_CHECK(m.u.entry.tlen >= JOBMSG_TEMPLATE_MIN &&
		    m.u.entry.tlen <= JOBMSG_TEMPLATE_MAX, "template of %zu bytes", m.u.entry.tlen);
		FUZZ_CHECK(fixed + m.u.entry.tlen == size,
		    "template of %zu bytes in a record of %zu", m.u.entry.tlen, size);
		FUZZ_CHECK(m.u.entry.negative <= 1, "negative is %u", m.u.entry.negative);
		FUZZ_CHECK(m.u.entry.ttl == get32(data + 8), "ttl read wrong");
	} else {
		FUZZ_CHECK(size == fixed, "type %u accepted at %zu bytes, not %zu", m.type, size,
		    fixed);
	}
	if (m.type == JOBMSG_WRITTEN)
		FUZZ_CHECK(m.u.written.status <= JOBMSG_STATUS_MAX, "status %u",
		    m.u.written.status);
	if (m.type == JOBMSG_LOADED)
		FUZZ_CHECK(m.u.loaded.malformed == get64(data + 24), "malformed read wrong");

	/* the round trip: into a buffer of exactly its size, so ASan sees an overrun */
	FUZZ_CHECK((out = malloc(size)) != NULL, "out of memory");
	n = jobmsg_pack(&m, out, size);
	FUZZ_CHECK(n == (ssize_t)size, "an accepted record packs to %zd bytes, not %zu", n, size);
	FUZZ_CHECK(memcmp(out, data, size) == 0, "unpack then pack changed the bytes");
	free(out);
	/* one byte short: refused, and nothing written past it */
	FUZZ_CHECK((out = malloc(size - 1)) != NULL, "out of memory");
	n = jobmsg_pack(&m, out, size - 1);
	FUZZ_CHECK(n == -ENOSPC, "packing into %zu bytes gave %zd, not ENOSPC", size - 1, n);
	free(out);
	return 0;
}

/*
 * Host form from the input: byte 0 the type, then ttl, negative, a
 * template length (any 32 bits), counters and a status.  The template's
 * bytes are the input's, repeated: pack reads tlen of them only if tlen
 * is in range.
 */
static void
check_pack(const uint8_t *data, size_t size)
{
	static uint8_t tmpl[JOBMSG_TEMPLATE_MAX], out[JOBMSG_MAX + 1];
	uint8_t f[40] = { 0 };
	struct jobmsg m, m2;
	uint32_t tlen;
	size_t want;
	ssize_t n;
	int legal;

	memcpy(f, data, size < sizeof(f) ? size : sizeof(f));
	memset(&m, 0, sizeof(m));
	tlen = get32(f + 6);
	if ((f[0] & 0x80) && tlen > JOBMSG_TEMPLATE_MAX)
		tlen = JOBMSG_TEMPLATE_MIN + tlen % (JOBMSG_TEMPLATE_MAX - JOBMSG_TEMPLATE_MIN + 1);
	m.type = f[0] & 0x7f;
	switch (m.type) {
	case JOBMSG_ENTRY:
		m.u.entry.ttl = get32(f + 1);
		m.u.entry.negative = f[5];
		m.u.entry.tlen = tlen;
		m.u.entry.tmpl = (f[10] == 0xff) ? NULL : tmpl;
		if (size > 0)
			for (size_t i = 0; i < tlen && i < sizeof(tmpl); i++)
				tmpl[i] = data[i % size];
		break;
	case JOBMSG_LOADED:
		m.u.loaded.entries = get64(f + 1);
		m.u.loaded.expired = get64(f + 9);
		m.u.loaded.malformed = get64(f + 17);
		break;
	case JOBMSG_PROGRESS:
		m.u.progress.entries = get64(f + 1);
		break;
	case JOBMSG_WRITTEN:
		m.u.written.status = get32(f + 1) >> (f[5] & 31);
		m.u.written.entries = get64(f + 6);
		break;
	}
	want = fixed_len(m.type);
	legal = want != 0;
	if (m.type == JOBMSG_ENTRY) {
		legal = m.u.entry.negative <= 1 && m.u.entry.tmpl && tlen >= JOBMSG_TEMPLATE_MIN &&
		    tlen <= JOBMSG_TEMPLATE_MAX;
		want += tlen;
	}
	if (m.type == JOBMSG_WRITTEN)
		legal = m.u.written.status <= JOBMSG_STATUS_MAX;
	n = jobmsg_pack(&m, out, sizeof(out));
	if (!legal) {
		FUZZ_CHECK(n == -EINVAL, "illegal message (type %u) packed: %zd", m.type, n);
		return;
	}
	FUZZ_CHECK(n == (ssize_t)want, "type %u packed to %zd bytes, not %zu", m.type, n, want);
	FUZZ_CHECK(jobmsg_unpack(out, (size_t)n, &m2) == 0, "a packed message does not unpack");
	FUZZ_CHECK(same_msg(&m, &m2), "pack then unpack changed type %u", m.type);
	/* the fixed part: reserved bytes zero */
	FUZZ_CHECK(all_zero(out + 2, 2), "reserved header bytes set");
}

/* The same bytes as a datagram: jobmsg_recv judges them as unpack did. */
static void
check_recv(const uint8_t *data, size_t size, int unpacked)
{
	static int sv[2] = { -1, -1 };
	static uint8_t buf[JOBMSG_MAX];
	struct jobmsg m;
	int r;

	if (sv[0] < 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return;
	if (size > JOBMSG_MAX + 64)
		return;
	/* twice: first into a buffer one byte short (EMSGSIZE), then whole */
	if (size > 0 && size <= sizeof(buf)) {
		if (send(sv[0], data, size, MSG_DONTWAIT) != (ssize_t)size)
			return;
		r = jobmsg_recv(sv[1], buf, size - 1, &m, MSG_DONTWAIT);
		FUZZ_CHECK(r == -EMSGSIZE, "a %zu-byte record into %zu bytes gave %d", size,
		    size - 1, r);
	}
	if (send(sv[0], data, size, MSG_DONTWAIT) != (ssize_t)size)
		return;
	r = jobmsg_recv(sv[1], buf, sizeof(buf), &m, MSG_DONTWAIT);
	if (size == 0)
		FUZZ_CHECK(r == 1, "an empty record gave %d, not the end", r);
	else if (size > sizeof(buf))
		FUZZ_CHECK(r == -EMSGSIZE, "a %zu-byte record gave %d", size, r);
	else
		FUZZ_CHECK(r == unpacked, "recv says %d, unpack says %d", r, unpacked);
	FUZZ_CHECK(recv(sv[1], buf, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN,
	    "a record was left in the socket");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int r = check_unpack(data, size);

	check_pack(data, size);
	check_recv(data, size, r);
	return 0;
}
