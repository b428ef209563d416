/*
 * A job child's records (common/jobmsg.h): every type round-trips, every
 * malformed or truncated record is refused with its reason, and over a
 * socketpair a descriptor or an overlong record never gets through.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/jobmsg.h"
#include "tests/helpers.h"

static uint8_t tmpl[JOBMSG_TEMPLATE_MAX];
static uint8_t buf[JOBMSG_MAX + 16];

static struct jobmsg
entry(size_t tlen)
{
	for (size_t i = 0; i < tlen; i++)
		tmpl[i] = (uint8_t)(i * 7 + 1);
	return (struct jobmsg){ .type = JOBMSG_ENTRY, .u.entry = { .ttl = 0x01020304,
		.negative = 1, .tmpl = tmpl, .tlen = tlen } };
}

static const struct jobmsg fixed[] = {
	{ .type = JOBMSG_LOADED, .u.loaded = { 1, 0x0102030405060708ull, UINT64_MAX } },
	{ .type = JOBMSG_PROGRESS, .u.progress = { 1234567890123ull } },
	{ .type = JOBMSG_WRITTEN, .u.written = { 0, 77 } },
	{ .type = JOBMSG_WRITTEN, .u.written = { EPIPE, 5 } },
	{ .type = JOBMSG_WRITTEN, .u.written = { JOBMSG_STATUS_MAX, 0 } },
};

static int
same(const struct jobmsg *a, const struct jobmsg *b)
{
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case JOBMSG_LOADED:
		return a->u.loaded.entries == b->u.loaded.entries &&
		    a->u.loaded.expired == b->u.loaded.expired &&
		    a->u.loaded.malformed == b->u.loaded.malformed;
	case JOBMSG_PROGRESS:
		return a->u.progress.entries == b->u.progress.entries;
	case JOBMSG_WRITTEN:
		return a->u.written.status == b->u.written.status &&
		    a->u.written.entries == b->u.written.entries;
	default:
		return 0;
	}
}

Test(jobmsg, fixed_types_round_trip)
{
	static const size_t sizes[] = { 32, 16, 24, 24, 24 };

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		struct jobmsg back;
		ssize_t n = jobmsg_pack(&fixed[i], buf, sizeof(buf));

		cr_assert_eq(n, (ssize_t)sizes[i], "record %zu: %zd bytes", i, n);
		cr_assert_eq(buf[0], JOBMSG_MAGIC);
		cr_assert_eq(jobmsg_unpack(buf, (size_t)n, &back), 0, "record %zu", i);
		cr_assert(same(&back, &fixed[i]), "record %zu", i);
	}
}

Test(jobmsg, entries_round_trip_at_every_template_size_edge)
{
	static const size_t tlens[] = { JOBMSG_TEMPLATE_MIN, 13, 512, JOBMSG_TEMPLATE_MAX };

	for (size_t i = 0; i < sizeof(tlens) / sizeof(tlens[0]); i++) {
		struct jobmsg m = entry(tlens[i]), back;
		ssize_t n = jobmsg_pack(&m, buf, sizeof(buf));

		cr_assert_eq(n, (ssize_t)(16 + tlens[i]));
		cr_assert_eq(jobmsg_unpack(buf, (size_t)n, &back), 0);
		cr_assert_eq(back.u.entry.ttl, 0x01020304u);
		cr_assert_eq(back.u.entry.negative, 1);
		cr_assert_eq(back.u.entry.tlen, tlens[i]);
		cr_assert_eq(back.u.entry.tmpl, buf + 16, "the template is read in place");
		cr_assert_eq(memcmp(back.u.entry.tmpl, tmpl, tlens[i]), 0);
	}
}

Test(jobmsg, the_packer_refuses_what_would_not_unpack)
{
	struct jobmsg m = entry(JOBMSG_TEMPLATE_MIN - 1);

	cr_assert_eq(jobmsg_pack(&m, buf, sizeof(buf)), -EINVAL, "template too short");
	m = entry(JOBMSG_TEMPLATE_MAX);
	m.u.entry.tlen++;
	cr_assert_eq(jobmsg_pack(&m, buf, sizeof(buf)), -EINVAL, "template too long");
	m = entry(100);
	m.u.entry.negative = 2;
	cr_assert_eq(jobmsg_pack(&m, buf, sizeof(buf)), -EINVAL, "negative is 0 or 1");
	m = entry(100);
	cr_assert_eq(jobmsg_pack(&m, buf, 115), -ENOSPC, "one byte short");
	cr_assert_eq(jobmsg_pack(&m, buf, 116), 116);
	m = (struct jobmsg){ .type = JOBMSG_WRITTEN, .u.written = { JOBMSG_STATUS_MAX + 1, 0 } };
	cr_assert_eq(jobmsg_pack(&m, buf, sizeof(buf)), -EINVAL, "status is an errno");
	for (unsigned t = 0; t < 256; t += (t == 0 ? JOBMSG_TYPE_MAX + 1 : 1)) {
		m = (struct jobmsg){ .type = (uint8_t)t };
		cr_assert_eq(jobmsg_pack(&m, buf, sizeof(buf)), -EINVAL, "type %u", t);
	}
}

/* One byte of a good record changed, and what unpack must say. */
struct corruption {
	size_t which;		/* index into fixed[], or 99: an entry of 100 bytes */
	size_t at;
	uint8_t value;
	int err;
};

ParameterizedTestParameters(jobmsg, every_corrupted_byte_is_refused)
{
	static struct corruption c[] = {
		{ 0, 0, 0x6b, -EPROTO },		/* magic */
		{ 0, 1, 0, -EBADMSG },			/* type 0 */
		{ 0, 1, JOBMSG_TYPE_MAX + 1, -EBADMSG },	/* unknown type */
		{ 0, 2, 1, -EBADMSG },			/* header reserved */
		{ 0, 3, 0x80, -EBADMSG },
		{ 0, 7, 33, -EMSGSIZE },		/* length says more */
		{ 0, 7, 31, -EMSGSIZE },		/* length says less */
		{ 0, 4, 1, -EMSGSIZE },			/* length's high byte */
		{ 0, 1, JOBMSG_PROGRESS, -EMSGSIZE },	/* a loaded record typed progress */
		{ 1, 1, JOBMSG_WRITTEN, -EMSGSIZE },	/* progress typed written */
		{ 2, 10, 0x10, -EBADMSG },		/* written: status > max */
		{ 2, 8, 1, -EBADMSG },
		{ 2, 12, 1, -EBADMSG },			/* written reserved */
		{ 2, 15, 1, -EBADMSG },
		{ 99, 12, 2, -EBADMSG },		/* entry: negative 2 */
		{ 99, 13, 1, -EBADMSG },		/* entry reserved */
		{ 99, 15, 1, -EBADMSG },
		{ 99, 1, JOBMSG_LOADED, -EMSGSIZE },	/* an entry typed loaded */
	};
	return cr_make_param_array(struct corruption, c, sizeof(c) / sizeof(c[0]));
}

ParameterizedTest(struct corruption *c, jobmsg, every_corrupted_byte_is_refused)
{
	struct jobmsg m = c->which == 99 ? entry(100 - 16) : fixed[c->which], back;
	ssize_t n = jobmsg_pack(&m, buf, sizeof(buf));

	cr_assert_gt(n, 0);
	cr_assert_eq(jobmsg_unpack(buf, (size_t)n, &back), 0, "intact, it is good");
	buf[c->at] = c->value;
	cr_assert_eq(jobmsg_unpack(buf, (size_t)n, &back), c->err,
	    "record %zu byte %zu = %#x: %d", c->which, c->at, c->value,
	    jobmsg_unpack(buf, (size_t)n, &back));
}

Test(jobmsg, truncated_and_padded_records_are_refused)
{
	struct jobmsg back, m = entry(64);
	ssize_t n;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		n = jobmsg_pack(&fixed[i], buf, sizeof(buf));
		for (size_t len = 0; len < (size_t)n; len++)
			cr_assert_eq(jobmsg_unpack(buf, len, &back), -EMSGSIZE,
			    "record %zu cut to %zu", i, len);
		cr_assert_eq(jobmsg_unpack(buf, (size_t)n + 1, &back), -EMSGSIZE);
	}
	n = jobmsg_pack(&m, buf, sizeof(buf));
	for (size_t len = 0; len < (size_t)n; len++)
		cr_assert_lt(jobmsg_unpack(buf, len, &back), 0, "entry cut to %zu", len);
	cr_assert_eq(jobmsg_unpack(buf, (size_t)n - 1, &back), -EMSGSIZE);
}

Test(jobmsg, entry_lengths_that_lie_about_the_template)
{
	struct jobmsg back, m = entry(JOBMSG_TEMPLATE_MIN);
	ssize_t n = jobmsg_pack(&m, buf, sizeof(buf));

	/* a header that agrees with a too-short record: template of 11 */
	buf[7] = (uint8_t)(n - 1);
	cr_assert_eq(jobmsg_unpack(buf, (size_t)n - 1, &back), -EMSGSIZE);
	/* a record of the right length and a template over the maximum */
	m = entry(JOBMSG_TEMPLATE_MAX);
	n = jobmsg_pack(&m, buf, sizeof(buf));
	buf[n] = 0;
	buf[7] = (uint8_t)(n + 1);
	buf[6] = (uint8_t)((n + 1) >> 8);
	buf[5] = (uint8_t)((n + 1) >> 16);
	cr_assert_eq(jobmsg_unpack(buf, (size_t)n + 1, &back), -EMSGSIZE);
}

Test(jobmsg, over_a_socketpair, .init = pair_open, .fini = pair_close, .timeout = 10)
{
	struct jobmsg m = entry(300), back;
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

	cr_assert_eq(jobmsg_send(pair[0], &m, buf, sizeof(buf)), 0);
	cr_assert_eq(jobmsg_send(pair[0], &fixed[0], buf, sizeof(buf)), 0);
	cr_assert_eq(jobmsg_recv(pair[1], buf, sizeof(buf), &back, 0), 0);
	cr_assert_eq(back.type, JOBMSG_ENTRY);
	cr_assert_eq(back.u.entry.tlen, 300);
	cr_assert_eq(jobmsg_recv(pair[1], buf, sizeof(buf), &back, 0), 0);
	cr_assert_eq(back.u.loaded.malformed, UINT64_MAX);
	cr_assert_eq(jobmsg_recv(pair[1], buf, sizeof(buf), &back, MSG_DONTWAIT), -EAGAIN);

	/* a record longer than the buffer: refused, not cut */
	cr_assert_eq(jobmsg_send(pair[0], &m, buf, sizeof(buf)), 0);
	cr_assert_eq(jobmsg_recv(pair[1], buf, 100, &back, 0), -EMSGSIZE);
	/* a descriptor with it: closed, refused */
	cr_assert_eq(jobmsg_pack(&fixed[1], buf, sizeof(buf)), 16);
	cr_assert_eq(fdpass_send(pair[0], buf, 16, &devnull, 1), 0);
	close(devnull);
	cr_assert_eq(jobmsg_recv(pair[1], buf, sizeof(buf), &back, 0), -EBADMSG);
	/* raw garbage */
	cr_assert_eq(send(pair[0], "E\0\0\0\0\0\0\x08", 8, 0), 8);
	cr_assert_eq(jobmsg_recv(pair[1], buf, sizeof(buf), &back, 0), -EPROTO);
	/* the end */
	shutdown(pair[0], SHUT_WR);
	cr_assert_eq(jobmsg_recv(pair[1], buf, sizeof(buf), &back, 0), 1);
	pair_assert_no_leak();
}
