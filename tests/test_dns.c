/*
 * DNS wire format: the cursor's sticky error, names (compression, every
 * way a hostile name can be bad, folding, text form), a table of bad
 * client queries, error replies, upstream query/answer matching, cache
 * templates and their rendering, and local answers read back byte by byte.
 */
#include "roles/server/dns.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/be.h"
#include "tests/helpers.h"

#define ID	0xbeef

TestSuite(cursor, .timeout = 10);
TestSuite(name, .timeout = 10);
TestSuite(query, .timeout = 10);
TestSuite(error, .timeout = 10);
TestSuite(upstream, .timeout = 10);
TestSuite(template, .timeout = 10);
TestSuite(render, .timeout = 10);
TestSuite(answer, .timeout = 10);

/* A packet under construction; the writers check room so a test bug fails loudly. */
struct pkt {
	uint8_t b[DNS_MSG_MAX];
	size_t len;
};

static void
p8(struct pkt *p, uint8_t v)
{
	cr_assert_lt(p->len, sizeof(p->b), "test packet full");
	p->b[p->len++] = v;
}

static void
p16(struct pkt *p, uint16_t v)
{
	p8(p, (uint8_t)(v >> 8));
	p8(p, (uint8_t)v);
}

static void
p32(struct pkt *p, uint32_t v)
{
	p16(p, (uint16_t)(v >> 16));
	p16(p, (uint16_t)v);
}

static void
pbytes(struct pkt *p, const void *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p8(p, ((const uint8_t *)src)[i]);
}

/* "www.example.com" (no escapes) in wire form; "" is the root. */
static void
pname(struct pkt *p, const char *dotted)
{
	while (*dotted) {
		size_t l = strcspn(dotted, ".");

		p8(p, (uint8_t)l);
		pbytes(p, dotted, l);
		dotted += l;
		if (*dotted == '.')
			dotted++;
	}
	p8(p, 0);
}

static void
phdr(struct pkt *p, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns,
    uint16_t ar)
{
	p->len = 0;
	p16(p, id);
	p16(p, flags);
	p16(p, qd);
	p16(p, an);
	p16(p, ns);
	p16(p, ar);
}

static void
pquestion(struct pkt *p, const char *name, uint16_t qtype)
{
	pname(p, name);
	p16(p, qtype);
	p16(p, DNS_CLASS_IN);
}

/* Owner NULL: a pointer to the question name at offset 12. */
static void
prr(struct pkt *p, const char *owner, uint16_t type, uint32_t ttl, const void *rdata,
    uint16_t rdlen)
{
	if (owner)
		pname(p, owner);
	else
		p16(p, 0xc00c);
	p16(p, type);
	p16(p, DNS_CLASS_IN);
	p32(p, ttl);
	p16(p, rdlen);
	pbytes(p, rdata, rdlen);
}

static void
pa(struct pkt *p, const char *owner, uint32_t ttl, uint8_t last)
{
	const uint8_t addr[4] = { 192, 0, 2, last };

	prr(p, owner, DNS_TYPE_A, ttl, addr, sizeof(addr));
}

/* A record whose rdata is one uncompressed name (CNAME, NS, PTR). */
static void
pnamerr(struct pkt *p, const char *owner, uint16_t type, uint32_t ttl, const char *target)
{
	struct pkt rd = { .len = 0 };

	pname(&rd, target);
	prr(p, owner, type, ttl, rd.b, (uint16_t)rd.len);
}

static void
psoa(struct pkt *p, const char *owner, uint32_t ttl, uint32_t minimum)
{
	struct pkt rd = { .len = 0 };

	pname(&rd, "ns.example.com");
	pname(&rd, "hostmaster.example.com");
	p32(&rd, 2024010101);	/* serial */
	p32(&rd, 7200);
	p32(&rd, 900);
	p32(&rd, 1209600);
	p32(&rd, minimum);
	prr(p, owner, DNS_TYPE_SOA, ttl, rd.b, (uint16_t)rd.len);
}

static void
popt(struct pkt *p, uint16_t size, uint32_t ttl)
{
	p8(p, 0);
	p16(p, DNS_TYPE_OPT);
	p16(p, size);
	p32(p, ttl);
	p16(p, 0);
}

static uint16_t
g16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t
g32(const uint8_t *b)
{
	return (uint32_t)g16(b) << 16 | g16(b + 2);
}

/* A record read back from a message we built. */
struct trr {
	uint8_t owner[DNS_NAME_MAX];
	int ownerlen;
	uint16_t type, rclass, rdlen;
	uint32_t ttl;
	size_t rdata;
};

static void
read_trr(struct dns_cursor *c, struct trr *r)
{
	r->ownerlen = dns_read_name(c, r->owner);
	r->type = dns_get16(c);
	r->rclass = dns_get16(c);
	r->ttl = dns_get32(c);
	r->rdlen = dns_get16(c);
	r->rdata = c->pos;
	dns_skip(c, r->rdlen);
	cr_assert_eq(c->err, 0, "record at %zu does not read back", r->rdata);
	cr_assert_gt(r->ownerlen, 0);
}

/* A client query for name/qtype, parsed. */
static void
make_query(struct dns_query *q, uint16_t id, uint16_t flags, const char *name,
    uint16_t qtype, int edns, uint32_t optttl)
{
	struct pkt p;

	phdr(&p, id, flags, 1, 0, 0, edns ? 1 : 0);
	pquestion(&p, name, qtype);
	if (edns)
		popt(&p, 1232, optttl);
	cr_assert_eq(dns_parse_query(p.b, p.len, q), 0, "test query for %s does not parse", name);
}

static const uint8_t example_com[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0 };

/* ---------------------------------------------------------------- cursor */

Test(cursor, reads_big_endian)
{
	static const uint8_t b[] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde };
	struct dns_cursor c;

	dns_cursor_init(&c, b, sizeof(b), 0);
	cr_assert_eq(dns_get8(&c), 0x12);
	cr_assert_eq(dns_get16(&c), 0x3456);
	cr_assert_eq(dns_get32(&c), 0x789abcde);
	cr_assert_eq(c.err, 0);
	cr_assert_eq(c.pos, sizeof(b));
}

Test(cursor, past_the_end_is_sticky)
{
	static const uint8_t b[] = { 1, 2, 3 };
	struct dns_cursor c;

	dns_cursor_init(&c, b, sizeof(b), 0);
	cr_assert_eq(dns_get16(&c), 0x0102);
	cr_assert_eq(dns_get16(&c), 0, "a half-available read returns 0");
	cr_assert_eq(c.err, -EBADMSG);
	cr_assert_eq(dns_get8(&c), 0, "the byte that is there is not read after an error");
	cr_assert_eq(c.err, -EBADMSG);
	cr_assert_eq(c.pos, 2);
}

Test(cursor, get32_with_three_bytes)
{
	static const uint8_t b[] = { 0xff, 0xff, 0xff };
	struct dns_cursor c;

	dns_cursor_init(&c, b, sizeof(b), 0);
	cr_assert_eq(dns_get32(&c), 0, "no partial value");
	cr_assert_eq(c.err, -EBADMSG);
}

Test(cursor, skip_and_init_bounds)
{
	static const uint8_t b[4] = { 0 };
	struct dns_cursor c;

	dns_cursor_init(&c, b, sizeof(b), 0);
	dns_skip(&c, 4);
	cr_assert_eq(c.err, 0);
	cr_assert_eq(dns_get8(&c), 0);
	cr_assert_eq(c.err, -EBADMSG);

	dns_cursor_init(&c, b, sizeof(b), 1);
	dns_skip(&c, SIZE_MAX);
	cr_assert_eq(c.err, -EBADMSG, "a huge skip does not wrap");

	dns_cursor_init(&c, b, sizeof(b), 5);
	cr_assert_eq(c.err, -EBADMSG, "starting past the end");
}

/* ---------------------------------------------------------------- names */

static void
expect_bad_name(const struct pkt *p, size_t pos, const char *why)
{
	struct dns_cursor c;
	uint8_t out[DNS_NAME_MAX];

	dns_cursor_init(&c, p->b, p->len, pos);
	cr_assert_eq(dns_read_name(&c, out), -EBADMSG, "%s: accepted", why);
	cr_assert_eq(c.err, -EBADMSG, "%s: cursor not marked", why);
}

static void
expect_name(const struct pkt *p, size_t pos, const uint8_t *want, size_t wantlen,
    size_t endpos)
{
	struct dns_cursor c;
	uint8_t out[DNS_NAME_MAX];

	dns_cursor_init(&c, p->b, p->len, pos);
	cr_assert_eq(dns_read_name(&c, out), (int)wantlen, "name at %zu", pos);
	cr_assert_arr_eq(out, want, wantlen);
	cr_assert_eq(c.pos, endpos, "cursor at %zu, want %zu", c.pos, endpos);
	cr_assert_eq(c.err, 0);
}

Test(name, plain_and_root)
{
	struct pkt p;
	static const uint8_t root[] = { 0 };

	phdr(&p, ID, 0, 0, 0, 0, 0);
	pname(&p, "example.com");
	pname(&p, "");
	expect_name(&p, 12, example_com, sizeof(example_com), 25);
	expect_name(&p, 25, root, 1, 26);
}

Test(name, follows_pointers)
{
	struct pkt p;
	static const uint8_t www[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
		3, 'c', 'o', 'm', 0 };

	phdr(&p, ID, 0, 0, 0, 0, 0);
	pname(&p, "example.com");		/* 12..24 */
	pbytes(&p, "\3www\xc0\x0c", 6);		/* 25: www + pointer to 12 */
	p16(&p, 0xc000 | 25);			/* 31: pointer to a name ending in a pointer */
	pbytes(&p, "\3www\xc0\x1f", 6);		/* 33: www + pointer to 31 */
	expect_name(&p, 25, www, sizeof(www), 31);
	expect_name(&p, 31, www, sizeof(www), 33);
	/* ends after the first pointer, not after the name it led to */
	{
		static const uint8_t www2[] = { 3, 'w', 'w', 'w', 3, 'w', 'w', 'w', 7, 'e', 'x',
			'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0 };

		expect_name(&p, 33, www2, sizeof(www2), 39);
	}
}

Test(name, jump_cap)
{
	struct pkt p;
	static const uint8_t root[] = { 0 };

	/* root at 12, then a ladder of pointers each to the one before */
	phdr(&p, ID, 0, 0, 0, 0, 0);
	p8(&p, 0);
	p8(&p, 0);
	for (int i = 0; i < DNS_PTR_MAX + 1; i++)
		p16(&p, (uint16_t)(0xc000 | (12 + 2 * i)));
	/* the rung at 14 + 2*(k-1) takes k jumps */
	expect_name(&p, 14 + 2 * (DNS_PTR_MAX - 1), root, 1, 14 + 2 * DNS_PTR_MAX);
	expect_bad_name(&p, 14 + 2 * DNS_PTR_MAX, "DNS_PTR_MAX + 1 jumps");
}

Test(name, self_pointer)
{
	struct pkt p;

	phdr(&p, ID, 0, 0, 0, 0, 0);
	p16(&p, 0xc00c);
	expect_bad_name(&p, 12, "pointer to itself");
}

Test(name, forward_pointer)
{
	struct pkt p;

	phdr(&p, ID, 0, 0, 0, 0, 0);
	p16(&p, 0xc00e);
	pname(&p, "example.com");
	expect_bad_name(&p, 12, "pointer forward to a good name");
}

Test(name, pointers_at_each_other)
{
	struct pkt p;

	phdr(&p, ID, 0, 0, 0, 0, 0);
	p16(&p, 0xc00e);	/* 12 -> 14 */
	p16(&p, 0xc00c);	/* 14 -> 12 */
	expect_bad_name(&p, 12, "A->B->A from A");
	expect_bad_name(&p, 14, "A->B->A from B");
}

Test(name, pointer_past_the_end)
{
	struct pkt p;

	phdr(&p, ID, 0, 0, 0, 0, 0);
	pname(&p, "example.com");
	p16(&p, 0xffff);
	expect_bad_name(&p, 25, "pointer to 0x3fff");
	p.len = 25;
	p8(&p, 0xc0);
	expect_bad_name(&p, 25, "pointer cut in half");
}

Test(name, label_of_64)
{
	struct pkt p;
	uint8_t label[64];

	memset(label, 'a', sizeof(label));
	phdr(&p, ID, 0, 0, 0, 0, 0);
	p8(&p, 63);
	pbytes(&p, label, 63);
	p8(&p, 0);
	{
		struct dns_cursor c;
		uint8_t out[DNS_NAME_MAX];

		dns_cursor_init(&c, p.b, p.len, 12);
		cr_assert_eq(dns_read_name(&c, out), 65, "a label of 63 is fine");
	}
	phdr(&p, ID, 0, 0, 0, 0, 0);
	p8(&p, 64);
	pbytes(&p, label, 64);
	p8(&p, 0);
	expect_bad_name(&p, 12, "label of 64");
}

/* Labels of 63, 63, 63 and last, then the root. */
static void
long_name(struct pkt *p, uint8_t last)
{
	uint8_t label[63];

	memset(label, 'x', sizeof(label));
	phdr(p, ID, 0, 0, 0, 0, 0);
	for (int i = 0; i < 3; i++) {
		p8(p, 63);
		pbytes(p, label, 63);
	}
	p8(p, last);
	pbytes(p, label, last);
	p8(p, 0);
}

Test(name, name_of_255_and_256)
{
	struct pkt p;
	struct dns_cursor c;
	uint8_t out[DNS_NAME_MAX];

	long_name(&p, 61);
	dns_cursor_init(&c, p.b, p.len, 12);
	cr_assert_eq(dns_read_name(&c, out), 255);
	long_name(&p, 62);
	expect_bad_name(&p, 12, "name of 256");
}

Test(name, name_of_256_through_a_pointer)
{
	struct pkt p;
	uint8_t label[63];

	/* 250 bytes at 12, then "yyyyy" + pointer: 6 + 250 = 256 */
	long_name(&p, 56);
	memset(label, 'y', sizeof(label));
	p8(&p, 5);
	pbytes(&p, label, 5);
	p16(&p, 0xc00c);
	expect_bad_name(&p, 12 + 250, "name of 256 made of a prefix and a pointer");
}

Test(name, reserved_label_types)
{
	struct pkt p;

	phdr(&p, ID, 0, 0, 0, 0, 0);
	pbytes(&p, "\x41" "a\0", 3);
	expect_bad_name(&p, 12, "label type 0x40");
	phdr(&p, ID, 0, 0, 0, 0, 0);
	pbytes(&p, "\x81" "a\0", 3);
	expect_bad_name(&p, 12, "label type 0x80");
}

Test(name, truncated)
{
	struct pkt p;

	phdr(&p, ID, 0, 0, 0, 0, 0);
	pbytes(&p, "\7exa", 4);
	expect_bad_name(&p, 12, "label past the end");
	phdr(&p, ID, 0, 0, 0, 0, 0);
	pbytes(&p, "\7example", 8);
	expect_bad_name(&p, 12, "no root label");
	expect_bad_name(&p, 20, "at the end");
}

Test(name, error_is_sticky)
{
	struct pkt p;
	struct dns_cursor c;
	uint8_t out[DNS_NAME_MAX];

	phdr(&p, ID, 0, 0, 0, 0, 0);
	pname(&p, "example.com");
	dns_cursor_init(&c, p.b, p.len, p.len);
	dns_get8(&c);
	c.pos = 12;
	cr_assert_eq(dns_read_name(&c, out), -EBADMSG, "a cursor in error reads no name");
}

Test(name, fold_is_ascii_only)
{
	uint8_t n[] = { 5, 'W', 'w', 'Z', '@', '[', 3, 0xc1, 'A', 0xe1, 0 };
	const uint8_t want[] = { 5, 'w', 'w', 'z', '@', '[', 3, 0xc1, 'a', 0xe1, 0 };

	dns_name_fold(n, sizeof(n));
	cr_assert_arr_eq(n, want, sizeof(want));
}

Test(name, equal)
{
	const uint8_t a[] = { 3, 'W', 'w', 'W', 7, 'E', 'x', 'A', 'm', 'P', 'l', 'E', 0 };
	const uint8_t b[] = { 3, 'w', 'W', 'w', 7, 'e', 'X', 'a', 'M', 'p', 'L', 'e', 0 };
	const uint8_t c[] = { 3, 'w', 'w', 'v', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
	const uint8_t hi1[] = { 1, 0xc1, 0 }, hi2[] = { 1, 0xe1, 0 };
	const uint8_t at[] = { 1, '@', 0 }, bq[] = { 1, '`', 0 };

	cr_assert(dns_name_equal(a, sizeof(a), b, sizeof(b)));
	cr_assert_not(dns_name_equal(a, sizeof(a), c, sizeof(c)));
	cr_assert_not(dns_name_equal(a, sizeof(a), b, sizeof(b) - 1), "lengths differ");
	cr_assert_not(dns_name_equal(hi1, 3, hi2, 3), "0xC1 and 0xE1 are not a case pair");
	cr_assert_not(dns_name_equal(at, 3, bq, 3), "'@' and '`' are not a case pair");
}

static void
expect_text(const uint8_t *wire, size_t len, const char *want)
{
	char buf[1010];

	cr_assert_eq(dns_name_to_text(wire, len, buf, sizeof(buf)), (int)strlen(want));
	cr_assert_str_eq(buf, want);
}

Test(name, to_text)
{
	const uint8_t root[] = { 0 };
	const uint8_t odd[] = { 9, 'a', '.', 'b', '\\', 'c', ' ', 0, 0xff, '_', 2, '-', 'Z', 0 };

	expect_text(example_com, sizeof(example_com), "example.com.");
	expect_text(root, 1, ".");
	expect_text(odd, sizeof(odd), "a\\.b\\\\c\\032\\000\\255_.-Z.");
}

Test(name, to_text_space)
{
	char buf[16];

	/* "example.com." is 12 characters and a NUL */
	cr_assert_eq(dns_name_to_text(example_com, sizeof(example_com), buf, 13), 12);
	cr_assert_eq(dns_name_to_text(example_com, sizeof(example_com), buf, 12), -ENOSPC);
	cr_assert_eq(dns_name_to_text((const uint8_t *)"", 1, buf, 1), -ENOSPC);
	cr_assert_eq(dns_name_to_text(example_com, sizeof(example_com) - 1, buf, sizeof(buf)),
	    -EINVAL, "not a whole name");
}

Test(name, to_text_worst_case_fits_1010)
{
	uint8_t wire[DNS_NAME_MAX];
	char buf[1010];
	size_t o = 0;
	const uint8_t lens[] = { 63, 63, 63, 61 };

	for (size_t i = 0; i < sizeof(lens); i++) {
		wire[o++] = lens[i];
		memset(wire + o, 0x01, lens[i]);
		o += lens[i];
	}
	wire[o++] = 0;
	cr_assert_eq(o, DNS_NAME_MAX);
	cr_assert_eq(dns_name_to_text(wire, o, buf, sizeof(buf)), 250 * 4 + 4);
}

static void
expect_wire(const char *text, const uint8_t *want, size_t wantlen)
{
	uint8_t out[DNS_NAME_MAX];

	cr_assert_eq(dns_name_from_text(text, out), (int)wantlen, "%s", text);
	cr_assert_arr_eq(out, want, wantlen, "%s", text);
}

Test(name, from_text)
{
	const uint8_t root[] = { 0 };
	const uint8_t odd[] = { 9, 'a', '.', 'b', '\\', 'c', ' ', 0, 0xff, '_', 2, '-', 'Z', 0 };

	expect_wire("example.com", example_com, sizeof(example_com));
	expect_wire("example.com.", example_com, sizeof(example_com));
	expect_wire(".", root, 1);
	expect_wire("a\\.b\\\\c\\032\\000\\255_.-Z.", odd, sizeof(odd));
	expect_wire("a\\.b\\\\c\\ \\000\\255\\_.\\-Z", odd, sizeof(odd));
}

Test(name, from_text_rejects)
{
	static const char *const bad[] = {
		"", "..", ".a", "a..b", "a.b..", "\\256", "\\12", "\\1a2", "a\\",
	};
	uint8_t out[DNS_NAME_MAX];
	char text[400];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(dns_name_from_text(bad[i], out), -EINVAL, "\"%s\" accepted", bad[i]);

	memset(text, 'a', 64);
	text[64] = '\0';
	cr_assert_eq(dns_name_from_text(text, out), -EINVAL, "label of 64");
	text[63] = '\0';
	cr_assert_eq(dns_name_from_text(text, out), 65, "label of 63");
	strcpy(text, "\\097\\097\\097");
	for (int i = 0; i < 60; i++)
		strcat(text, "a");
	cr_assert_eq(dns_name_from_text(text, out), 65, "63 with escapes");
	strcat(text, "\\097");
	cr_assert_eq(dns_name_from_text(text, out), -EINVAL, "64 with escapes");

	/* 63.63.63.61 is 255 on the wire, 63.63.63.62 is 256 */
	memset(text, 'b', sizeof(text));
	text[63] = text[127] = text[191] = '.';
	text[253] = '\0';
	cr_assert_eq(dns_name_from_text(text, out), 255);
	text[253] = '.';
	text[254] = '\0';
	cr_assert_eq(dns_name_from_text(text, out), 255, "trailing dot");
	text[253] = 'b';
	cr_assert_eq(dns_name_from_text(text, out), -EINVAL, "256 on the wire");
}

Test(name, every_byte_round_trips)
{
	uint8_t wire[8], back[DNS_NAME_MAX];
	char text[64];

	for (unsigned v = 0; v < 256; v++) {
		wire[0] = 3;
		wire[1] = 'a';
		wire[2] = (uint8_t)v;
		wire[3] = 'z';
		wire[4] = 0;
		cr_assert_gt(dns_name_to_text(wire, 5, text, sizeof(text)), 0, "byte %u", v);
		cr_assert_eq(dns_name_from_text(text, back), 5, "byte %u: %s", v, text);
		cr_assert_arr_eq(back, wire, 5, "byte %u: %s", v, text);
		cr_assert_eq(strchr(text, ' '), NULL, "byte %u: %s", v, text);
	}
}

/* ---------------------------------------------------------------- queries */

/* No pointers in rows: Criterion hands them to a worker process with another address space. */
struct bad_query {
	char name[48];
	uint8_t pkt[160];
	size_t len;
	int err;
	int qread;		/* the question was readable: q->qend != 0 */
};

#define B16(v)	(uint8_t)((v) >> 8 & 0xff), (uint8_t)((v) & 0xff)
#define B32(v)	B16((v) >> 16), B16(v)
#define HDR(fl, qd, an, ns, ar)	B16(ID), B16(fl), B16(qd), B16(an), B16(ns), B16(ar)
#define EXAMPLE	7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0
#define QUESTION	EXAMPLE, B16(DNS_TYPE_A), B16(DNS_CLASS_IN)
#define OPT_RR(size, ttl)	0, B16(DNS_TYPE_OPT), B16(size), B32(ttl), B16(0)
#define A_RR	0xc0, 12, B16(DNS_TYPE_A), B16(DNS_CLASS_IN), B32(300), B16(4), 192, 0, 2, 1
#define L16	'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'
#define L64	L16, L16, L16, L16
#define OP(n)	((n) << 11)
#define ROW(nm, err, qread, ...) \
	{ nm, { __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }), err, qread }

ParameterizedTestParameters(query, rejects)
{
	static struct bad_query rows[] = {
		{ "empty", { 0 }, 0, -EINVAL, 0 },
		ROW("11 bytes", -EINVAL, 0, B16(ID), B16(0), B16(1), B16(0), B16(0), 0),
		ROW("QR set", -EINVAL, 0, HDR(DNS_F_QR | DNS_F_RD, 1, 0, 0, 0), QUESTION),
		ROW("QR set and opcode 4", -EINVAL, 0, HDR(DNS_F_QR | OP(4), 1, 0, 0, 0), QUESTION),
		ROW("opcode NOTIFY", -ENOTSUP, 0, HDR(OP(4), 1, 0, 0, 0), QUESTION),
		ROW("opcode UPDATE", -ENOTSUP, 0, HDR(OP(5) | DNS_F_RD, 1, 0, 0, 0), QUESTION),
		ROW("opcode IQUERY", -ENOTSUP, 0, HDR(OP(1), 1, 0, 0, 0), QUESTION),
		ROW("opcode 15", -ENOTSUP, 0, HDR(OP(15), 1, 0, 0, 0), QUESTION),
		ROW("qdcount 0", -EBADMSG, 0, HDR(DNS_F_RD, 0, 0, 0, 0)),
		ROW("qdcount 0 with a question", -EBADMSG, 0, HDR(DNS_F_RD, 0, 0, 0, 0), QUESTION),
		ROW("qdcount 2", -EBADMSG, 0, HDR(DNS_F_RD, 2, 0, 0, 0), QUESTION, QUESTION),
		ROW("header only", -EBADMSG, 0, HDR(DNS_F_RD, 1, 0, 0, 0)),
		ROW("truncated name", -EBADMSG, 0, HDR(DNS_F_RD, 1, 0, 0, 0), 7, 'e', 'x', 'a'),
		ROW("name without root", -EBADMSG, 0, HDR(DNS_F_RD, 1, 0, 0, 0),
		    7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm'),
		ROW("truncated qtype", -EBADMSG, 0, HDR(DNS_F_RD, 1, 0, 0, 0), EXAMPLE, 0),
		ROW("no qclass", -EBADMSG, 0, HDR(DNS_F_RD, 1, 0, 0, 0), EXAMPLE, B16(1)),
		ROW("label of 64", -EBADMSG, 0, HDR(DNS_F_RD, 1, 0, 0, 0), 64, L64, 0, B16(1), B16(1)),
		ROW("label type 0x40", -EBADMSG, 0, HDR(DNS_F_RD, 1, 0, 0, 0),
		    0x41, 'a', 0, B16(1), B16(1)),
		ROW("label type 0x80", -EBADMSG, 0, HDR(DNS_F_RD, 1, 0, 0, 0),
		    0x81, 'a', 0, B16(1), B16(1)),
		ROW("question is a pointer to itself", -EBADMSG, 0, HDR(DNS_F_RD, 1, 0, 0, 0),
		    0xc0, 12, B16(1), B16(1)),
		ROW("question pointer forward", -EBADMSG, 0, HDR(DNS_F_RD, 1, 0, 0, 0),
		    0xc0, 14, QUESTION),
		ROW("question pointer outside", -EBADMSG, 0, HDR(DNS_F_RD, 1, 0, 0, 0),
		    0xff, 0xff, B16(1), B16(1)),
		ROW("OPT in answer", -EBADMSG, 1, HDR(DNS_F_RD, 1, 1, 0, 0), QUESTION,
		    OPT_RR(1232, 0)),
		ROW("OPT in authority", -EBADMSG, 1, HDR(DNS_F_RD, 1, 0, 1, 0), QUESTION,
		    OPT_RR(1232, 0)),
		ROW("two OPTs", -EBADMSG, 1, HDR(DNS_F_RD, 1, 0, 0, 2), QUESTION,
		    OPT_RR(1232, 0), OPT_RR(1232, 0)),
		ROW("OPT with a non-root owner", -EBADMSG, 1, HDR(DNS_F_RD, 1, 0, 0, 1), QUESTION,
		    0xc0, 12, B16(DNS_TYPE_OPT), B16(1232), B32(0), B16(0)),
		ROW("OPT option overruns rdata", -EBADMSG, 1, HDR(DNS_F_RD, 1, 0, 0, 1), QUESTION,
		    0, B16(DNS_TYPE_OPT), B16(1232), B32(0), B16(6), B16(10), B16(8), 1, 2),
		ROW("OPT version 1", -EPROTONOSUPPORT, 1, HDR(DNS_F_RD, 1, 0, 0, 1), QUESTION,
		    OPT_RR(1232, 0x00010000)),
		ROW("OPT version 255 with DO", -EPROTONOSUPPORT, 1, HDR(0, 1, 0, 0, 1), QUESTION,
		    OPT_RR(4096, 0x00ff8000)),
		ROW("OPT version 1 then a bad record", -EBADMSG, 1, HDR(DNS_F_RD, 1, 0, 0, 2),
		    QUESTION, OPT_RR(1232, 0x00010000), 0x41),
		ROW("arcount with no record", -EBADMSG, 1, HDR(DNS_F_RD, 1, 0, 0, 1), QUESTION),
		ROW("ancount with no record", -EBADMSG, 1, HDR(DNS_F_RD, 1, 1, 0, 0), QUESTION),
		ROW("rdlength past the end", -EBADMSG, 1, HDR(DNS_F_RD, 1, 0, 0, 1), QUESTION,
		    0, B16(DNS_TYPE_A), B16(1), B32(0), B16(5), 1, 2, 3, 4),
		ROW("record cut in its TTL", -EBADMSG, 1, HDR(DNS_F_RD, 1, 0, 0, 1), QUESTION,
		    0, B16(DNS_TYPE_A), B16(1), 0, 0),
		ROW("record with a bad owner", -EBADMSG, 1, HDR(DNS_F_RD, 1, 1, 0, 0), QUESTION,
		    0x41, 'a', 0, B16(DNS_TYPE_A), B16(1), B32(0), B16(0)),
		ROW("record owner pointing forward", -EBADMSG, 1, HDR(DNS_F_RD, 1, 1, 0, 0),
		    QUESTION, 0xc0, 31, 0, B16(DNS_TYPE_A), B16(1), B32(0), B16(0)),
		ROW("counts far beyond the packet", -EBADMSG, 1,
		    HDR(DNS_F_RD, 1, 0xffff, 0xffff, 0xffff), QUESTION, A_RR),
	};

	return cr_make_param_array(struct bad_query, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct bad_query *row, query, rejects)
{
	struct dns_query q;
	int r;

	memset(&q, 0xa5, sizeof(q));
	r = dns_parse_query(row->pkt, row->len, &q);
	cr_assert_eq(r, row->err, "%s: got %d, want %d", row->name, r, row->err);
	if (row->err == -EINVAL)
		return;
	cr_assert_eq(q.id, ID, "%s: id %#x", row->name, q.id);
	cr_assert_eq(q.flags, g16(row->pkt + 2), "%s: flags %#x", row->name, q.flags);
	if (row->qread) {
		cr_assert_eq(q.qend, 29, "%s: qend %zu", row->name, q.qend);
		cr_assert_eq(q.q.namelen, sizeof(example_com), "%s", row->name);
		cr_assert_arr_eq(q.q.name, example_com, sizeof(example_com), "%s", row->name);
		cr_assert_eq(q.q.qtype, DNS_TYPE_A, "%s", row->name);
		cr_assert_eq(q.q.qclass, DNS_CLASS_IN, "%s", row->name);
	} else {
		cr_assert_eq(q.qend, 0, "%s: qend %zu", row->name, q.qend);
	}
}

Test(query, plain_a)
{
	struct pkt p;
	struct dns_query q;

	phdr(&p, 0x1234, DNS_F_RD | DNS_F_CD, 1, 0, 0, 0);
	pquestion(&p, "example.com", DNS_TYPE_A);
	memset(&q, 0xa5, sizeof(q));
	cr_assert_eq(dns_parse_query(p.b, p.len, &q), 0);
	cr_assert_eq(q.id, 0x1234);
	cr_assert_eq(q.flags, DNS_F_RD | DNS_F_CD);
	cr_assert_eq(q.q.namelen, sizeof(example_com));
	cr_assert_arr_eq(q.q.name, example_com, sizeof(example_com));
	cr_assert_eq(q.q.qtype, DNS_TYPE_A);
	cr_assert_eq(q.q.qclass, DNS_CLASS_IN);
	cr_assert_eq(q.qend, p.len);
	cr_assert_eq(q.edns, 0);
	cr_assert_eq(q.edns_do, 0);
}

static void
parse_with_opt(uint16_t size, uint32_t ttl, struct dns_query *q)
{
	struct pkt p;

	phdr(&p, ID, DNS_F_RD, 1, 0, 0, 1);
	pquestion(&p, "example.com", DNS_TYPE_AAAA);
	popt(&p, size, ttl);
	memset(q, 0xa5, sizeof(*q));
	cr_assert_eq(dns_parse_query(p.b, p.len, q), 0);
	cr_assert_eq(q->edns, 1);
	cr_assert_eq(q->edns_version, 0);
	cr_assert_eq(q->qend, 29);
}

Test(query, opt_sizes_and_do)
{
	struct dns_query q;

	parse_with_opt(4096, 0, &q);
	cr_assert_eq(q.edns_size, 4096);
	cr_assert_eq(q.edns_do, 0);
	parse_with_opt(100, 0, &q);
	cr_assert_eq(q.edns_size, 512, "sizes below 512 are raised");
	parse_with_opt(512, 0x8000, &q);
	cr_assert_eq(q.edns_size, 512);
	cr_assert_eq(q.edns_do, 1);
	parse_with_opt(1232, 0x7fff, &q);
	cr_assert_eq(q.edns_do, 0, "only bit 15 is DO");
}

Test(query, opt_after_other_additional)
{
	struct pkt p;
	struct dns_query q;

	phdr(&p, ID, DNS_F_RD, 1, 0, 0, 2);
	pquestion(&p, "example.com", DNS_TYPE_A);
	pa(&p, NULL, 60, 1);
	popt(&p, 2048, 0x8000);
	cr_assert_eq(dns_parse_query(p.b, p.len, &q), 0);
	cr_assert_eq(q.edns_size, 2048);
	cr_assert_eq(q.edns_do, 1);
}

Test(query, mixed_case_kept)
{
	struct pkt p;
	struct dns_query q;
	const uint8_t want[] = { 3, 'W', 'w', 'W', 7, 'E', 'x', 'A', 'm', 'P', 'l', 'E', 0 };

	phdr(&p, ID, DNS_F_RD, 1, 0, 0, 0);
	pquestion(&p, "WwW.ExAmPlE", DNS_TYPE_MX);
	cr_assert_eq(dns_parse_query(p.b, p.len, &q), 0);
	cr_assert_eq(q.q.namelen, sizeof(want));
	cr_assert_arr_eq(q.q.name, want, sizeof(want));
	cr_assert_eq(q.q.qtype, DNS_TYPE_MX);
}

Test(query, trailing_bytes_accepted)
{
	struct pkt p;
	struct dns_query q;

	phdr(&p, ID, DNS_F_RD, 1, 0, 0, 0);
	pquestion(&p, "example.com", DNS_TYPE_A);
	p32(&p, 0xdeadbeef);
	cr_assert_eq(dns_parse_query(p.b, p.len, &q), 0);
	cr_assert_eq(q.qend, 29);
}

/* ---------------------------------------------------------------- errors */

static void
expect_header(const uint8_t *b, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
    uint16_t ns, uint16_t ar)
{
	cr_assert_eq(g16(b), id, "id %#x", g16(b));
	cr_assert_eq(g16(b + 2), flags, "flags %#x, want %#x", g16(b + 2), flags);
	cr_assert_eq(g16(b + 4), qd, "qdcount %u", g16(b + 4));
	cr_assert_eq(g16(b + 6), an, "ancount %u", g16(b + 6));
	cr_assert_eq(g16(b + 8), ns, "nscount %u", g16(b + 8));
	cr_assert_eq(g16(b + 10), ar, "arcount %u", g16(b + 10));
}

static void
expect_question(const uint8_t *b, const uint8_t *name, size_t namelen, uint16_t qtype)
{
	cr_assert_arr_eq(b + 12, name, namelen);
	cr_assert_eq(g16(b + 12 + namelen), qtype);
	cr_assert_eq(g16(b + 14 + namelen), DNS_CLASS_IN);
}

/* An OPT at b: root owner, our size, the given TTL, no options. */
static void
expect_opt(const uint8_t *b, uint32_t ttl)
{
	cr_assert_eq(b[0], 0, "OPT owner is the root");
	cr_assert_eq(g16(b + 1), DNS_TYPE_OPT);
	cr_assert_eq(g16(b + 3), DNS_EDNS_SIZE);
	cr_assert_eq(g32(b + 5), ttl, "OPT TTL %#x, want %#x", g32(b + 5), ttl);
	cr_assert_eq(g16(b + 9), 0);
}

Test(error, formerr_echoes_question)
{
	struct pkt p;
	struct dns_query q;
	uint8_t out[512];

	phdr(&p, ID, DNS_F_RD, 1, 0, 0, 1);
	pquestion(&p, "example.com", DNS_TYPE_A);
	cr_assert_eq(dns_parse_query(p.b, p.len, &q), -EBADMSG);
	cr_assert_eq(dns_build_error(out, sizeof(out), &q, DNS_RCODE_FORMERR, DNS_EDE_NONE), 29);
	expect_header(out, ID, DNS_F_QR | DNS_F_RD | DNS_F_RA | DNS_RCODE_FORMERR, 1, 0, 0, 0);
	expect_question(out, example_com, sizeof(example_com), DNS_TYPE_A);
}

Test(error, formerr_without_question)
{
	struct pkt p;
	struct dns_query q;
	uint8_t out[512];

	phdr(&p, ID, DNS_F_CD, 2, 0, 0, 0);
	pquestion(&p, "example.com", DNS_TYPE_A);
	cr_assert_eq(dns_parse_query(p.b, p.len, &q), -EBADMSG);
	cr_assert_eq(dns_build_error(out, sizeof(out), &q, DNS_RCODE_FORMERR, DNS_EDE_NONE), 12);
	expect_header(out, ID, DNS_F_QR | DNS_F_RA | DNS_F_CD | DNS_RCODE_FORMERR, 0, 0, 0, 0);
}

Test(error, servfail_with_opt)
{
	struct dns_query q;
	uint8_t out[512];

	make_query(&q, 0x4242, DNS_F_RD, "example.com", DNS_TYPE_AAAA, 1, 0x8000);
	cr_assert_eq(dns_build_error(out, sizeof(out), &q, DNS_RCODE_SERVFAIL, DNS_EDE_NONE),
	    29 + 11);
	expect_header(out, 0x4242, DNS_F_QR | DNS_F_RD | DNS_F_RA | DNS_RCODE_SERVFAIL,
	    1, 0, 0, 1);
	expect_question(out, example_com, sizeof(example_com), DNS_TYPE_AAAA);
	expect_opt(out + 29, 0x8000);
}

Test(error, notimp_keeps_opcode)
{
	struct pkt p;
	struct dns_query q;
	uint8_t out[512];

	phdr(&p, ID, OP(4), 1, 0, 0, 0);
	pquestion(&p, "example.com", DNS_TYPE_SOA);
	cr_assert_eq(dns_parse_query(p.b, p.len, &q), -ENOTSUP);
	cr_assert_eq(dns_build_error(out, sizeof(out), &q, DNS_RCODE_NOTIMP, DNS_EDE_NONE), 12);
	expect_header(out, ID, DNS_F_QR | OP(4) | DNS_F_RA | DNS_RCODE_NOTIMP, 0, 0, 0, 0);
}

Test(error, badvers)
{
	struct pkt p;
	struct dns_query q;
	uint8_t out[512];

	phdr(&p, ID, DNS_F_RD, 1, 0, 0, 1);
	pquestion(&p, "example.com", DNS_TYPE_A);
	popt(&p, 4096, 0x00018000);	/* version 1, DO */
	cr_assert_eq(dns_parse_query(p.b, p.len, &q), -EPROTONOSUPPORT);
	cr_assert_eq(dns_build_error(out, sizeof(out), &q, DNS_RCODE_BADVERS, DNS_EDE_NONE), 40);
	/* 16 = 1 << 4: low bits 0 in the header, 1 in the OPT's top byte, version 0 */
	expect_header(out, ID, DNS_F_QR | DNS_F_RD | DNS_F_RA, 1, 0, 0, 1);
	expect_question(out, example_com, sizeof(example_com), DNS_TYPE_A);
	expect_opt(out + 29, 0x01008000);
}

Test(error, badvers_without_client_opt_still_has_one)
{
	struct dns_query q;
	uint8_t out[512];

	make_query(&q, ID, 0, "example.com", DNS_TYPE_A, 0, 0);
	cr_assert_eq(dns_build_error(out, sizeof(out), &q, DNS_RCODE_BADVERS, DNS_EDE_NONE), 40);
	expect_header(out, ID, DNS_F_QR | DNS_F_RA, 1, 0, 0, 1);
	expect_opt(out + 29, 0x01000000);
}

Test(error, cap_too_small)
{
	struct dns_query q;
	uint8_t out[64];

	make_query(&q, ID, DNS_F_RD, "example.com", DNS_TYPE_A, 1, 0);
	cr_assert_eq(dns_build_error(out, 39, &q, DNS_RCODE_REFUSED, DNS_EDE_NONE), 0);
	cr_assert_eq(dns_build_error(out, 40, &q, DNS_RCODE_REFUSED, DNS_EDE_NONE), 40);
	cr_assert_eq(dns_build_error(out, 11, &q, DNS_RCODE_REFUSED, DNS_EDE_NONE), 0);
}

/* ---------------------------------------------------------------- upstream */

static void
question(struct dns_question *q, const char *name, uint16_t qtype)
{
	memset(q, 0, sizeof(*q));
	q->namelen = (uint8_t)dns_name_from_text(name, q->name);
	cr_assert_gt(q->namelen, 0);
	q->qtype = qtype;
	q->qclass = DNS_CLASS_IN;
}

Test(upstream, build_query)
{
	struct dns_question qq;
	uint8_t out[512];

	question(&qq, "example.com", DNS_TYPE_AAAA);
	cr_assert_eq(dns_build_query(out, sizeof(out), 0x7777, &qq, 0), 40);
	expect_header(out, 0x7777, DNS_F_RD, 1, 0, 0, 1);
	expect_question(out, example_com, sizeof(example_com), DNS_TYPE_AAAA);
	expect_opt(out + 29, 0x8000);	/* DO always: one entry serves everyone */

	cr_assert_eq(dns_build_query(out, sizeof(out), 0x7778, &qq, 1), 40);
	expect_header(out, 0x7778, DNS_F_RD | DNS_F_CD, 1, 0, 0, 1);
	expect_opt(out + 29, 0x8000);

	cr_assert_eq(dns_build_query(out, 39, 0x7778, &qq, 1), 0, "cap too small");
	cr_assert_eq(dns_build_query(out, 40, 0x7778, &qq, 1), 40);
}

/* The answer to our own query: the query with QR set, its OPT cut off. */
static size_t
answer_for(uint8_t *out, uint16_t id, const char *name, uint16_t qtype)
{
	struct dns_question qq;
	size_t n;

	question(&qq, name, qtype);
	n = dns_build_query(out, 512, id, &qq, 0);
	cr_assert_gt(n, 11);
	be_put16(out + 2, DNS_F_QR | DNS_F_RD | DNS_F_RA);
	be_put16(out + 10, 0);
	return n - 11;
}

Test(upstream, answer_matches)
{
	struct dns_question qq;
	uint8_t a[512];
	size_t n;

	question(&qq, "example.com", DNS_TYPE_A);
	n = answer_for(a, 99, "example.com", DNS_TYPE_A);
	cr_assert(dns_answer_matches(a, n, 99, &qq), "the answer");
	cr_assert_not(dns_answer_matches(a, n, 98, &qq), "wrong id");
	cr_assert_not(dns_answer_matches(a, n - 1, 99, &qq), "truncated question");
	cr_assert_not(dns_answer_matches(a, 11, 99, &qq), "short header");

	n = answer_for(a, 99, "eXaMpLe.COM", DNS_TYPE_A);
	cr_assert(dns_answer_matches(a, n, 99, &qq), "case differs only");

	n = answer_for(a, 99, "example.org", DNS_TYPE_A);
	cr_assert_not(dns_answer_matches(a, n, 99, &qq), "different name");
	n = answer_for(a, 99, "example.com", DNS_TYPE_AAAA);
	cr_assert_not(dns_answer_matches(a, n, 99, &qq), "different type");

	n = answer_for(a, 99, "example.com", DNS_TYPE_A);
	be_put16(a + 2, DNS_F_RD | DNS_F_RA);
	cr_assert_not(dns_answer_matches(a, n, 99, &qq), "QR clear");
	be_put16(a + 2, DNS_F_QR | OP(4));
	cr_assert_not(dns_answer_matches(a, n, 99, &qq), "opcode NOTIFY");
	be_put16(a + 2, DNS_F_QR);
	be_put16(a + 4, 0);
	cr_assert_not(dns_answer_matches(a, n, 99, &qq), "qdcount 0");
	be_put16(a + 4, 1);
	be_put16(a + 27, 3);		/* qclass CH */
	cr_assert_not(dns_answer_matches(a, n, 99, &qq), "different class");
}

/* ---------------------------------------------------------------- templates */

/*
 * p made a template in place; want is its length, an error, or TMPL_ANY:
 * a template of any length (the test's message spells names out that the
 * rewrite compresses, or compresses where the rewrite must not).
 */
#define TMPL_ANY	INT_MAX

static void
make_tmpl(struct pkt *p, struct dns_template_info *info, int want)
{
	int r;

	memset(info, 0xa5, sizeof(*info));
	r = tmpl_in_place(p->b, p->len, sizeof(p->b), info);
	if (want == TMPL_ANY)
		cr_assert_gt(r, 0, "dns_make_template: %d", r);
	else
		cr_assert_eq(r, want, "dns_make_template: %d, want %d", r, want);
	if (r > 0)
		p->len = (size_t)r;
}

/* A reply header for example.com/qtype, rcode and counts given. */
static void
reply(struct pkt *p, uint16_t flags, uint16_t an, uint16_t ns, uint16_t ar, uint16_t qtype)
{
	phdr(p, ID, DNS_F_QR | DNS_F_RD | DNS_F_RA | flags, 1, an, ns, ar);
	pquestion(p, "example.com", qtype);
}

Test(template, positive)
{
	struct pkt p;
	struct dns_template_info info;
	uint8_t orig[sizeof(p.b)];

	reply(&p, 0, 2, 0, 0, DNS_TYPE_A);
	pa(&p, NULL, 300, 1);
	pa(&p, NULL, 100, 2);
	memcpy(orig, p.b, p.len);
	make_tmpl(&p, &info, (int)p.len);
	cr_assert_arr_eq(p.b, orig, p.len, "a template without OPT is the answer unchanged");
	cr_assert_eq(info.rcode, 0);
	cr_assert_eq(info.truncated, 0);
	cr_assert_eq(info.negative, 0);
	cr_assert_eq(info.cacheable, 1);
	cr_assert_eq(info.ttl, 100);
	cr_assert_eq(info.nttl, 2);
	cr_assert_eq(info.ttl_off[0], 29 + 6);
	cr_assert_eq(info.ttl_off[1], 29 + 16 + 6);
	cr_assert_eq(g32(p.b + info.ttl_off[0]), 300);
	cr_assert_eq(g32(p.b + info.ttl_off[1]), 100);
}

Test(template, cname_chain)
{
	struct pkt p;
	struct dns_template_info info;

	phdr(&p, ID, DNS_F_QR | DNS_F_RD | DNS_F_RA, 1, 3, 1, 1);
	pquestion(&p, "www.example.com", DNS_TYPE_A);
	pnamerr(&p, NULL, DNS_TYPE_CNAME, 600, "web.example.com");
	pnamerr(&p, "web.example.com", DNS_TYPE_CNAME, 500, "cdn.example.net");
	pa(&p, "cdn.example.net", 50, 7);
	pnamerr(&p, "example.net", DNS_TYPE_NS, 3000, "ns.example.net");
	pa(&p, "ns.example.net", 10, 53);	/* glue: not part of the minimum */
	make_tmpl(&p, &info, TMPL_ANY);
	cr_assert_eq(info.negative, 0);
	cr_assert_eq(info.cacheable, 1);
	cr_assert_eq(info.ttl, 50);
	cr_assert_eq(info.nttl, 5);
	for (int i = 0; i < 5; i++) {
		static const uint32_t want[] = { 600, 500, 50, 3000, 10 };

		cr_assert_eq(g32(p.b + info.ttl_off[i]), want[i], "TTL %d", i);
	}
}

static void
negative(uint16_t rcode, uint32_t soa_ttl, uint32_t soa_min, uint32_t want)
{
	struct pkt p;
	struct dns_template_info info;

	reply(&p, rcode, 0, 1, 0, DNS_TYPE_A);
	psoa(&p, "example.com", soa_ttl, soa_min);
	make_tmpl(&p, &info, TMPL_ANY);
	cr_assert_eq(info.rcode, rcode);
	cr_assert_eq(info.negative, 1);
	cr_assert_eq(info.cacheable, 1);
	cr_assert_eq(info.ttl, want, "ttl %u, want %u", info.ttl, want);
	cr_assert_eq(info.nttl, 1);
	cr_assert_eq(g32(p.b + info.ttl_off[0]), soa_ttl);
}

Test(template, nxdomain_with_soa)
{
	negative(DNS_RCODE_NXDOMAIN, 3600, 60, 60);
	negative(DNS_RCODE_NXDOMAIN, 30, 600, 30);
}

Test(template, nodata_with_soa)
{
	negative(DNS_RCODE_NOERROR, 300, 900, 300);
	negative(DNS_RCODE_NOERROR, 900, 300, 300);
}

Test(template, nxdomain_after_cname)
{
	struct pkt p;
	struct dns_template_info info;

	reply(&p, DNS_RCODE_NXDOMAIN, 1, 1, 0, DNS_TYPE_A);
	pnamerr(&p, NULL, DNS_TYPE_CNAME, 20, "gone.example.com");
	psoa(&p, "example.com", 3600, 600);
	make_tmpl(&p, &info, TMPL_ANY);
	cr_assert_eq(info.negative, 1);
	cr_assert_eq(info.cacheable, 1);
	cr_assert_eq(info.ttl, 20, "the CNAME must not outlive its TTL");
}

Test(template, nxdomain_without_soa)
{
	struct pkt p;
	struct dns_template_info info;

	reply(&p, DNS_RCODE_NXDOMAIN, 0, 1, 0, DNS_TYPE_A);
	pnamerr(&p, "example.com", DNS_TYPE_NS, 3600, "ns.example.com");
	make_tmpl(&p, &info, TMPL_ANY);
	cr_assert_eq(info.rcode, DNS_RCODE_NXDOMAIN);
	cr_assert_eq(info.negative, 1);
	cr_assert_eq(info.cacheable, 0);

	reply(&p, 0, 0, 0, 0, DNS_TYPE_A);
	make_tmpl(&p, &info, (int)p.len);
	cr_assert_eq(info.negative, 1, "NODATA");
	cr_assert_eq(info.cacheable, 0);
	cr_assert_eq(info.nttl, 0);
}

Test(template, soa_in_answer_is_not_negative_ttl)
{
	struct pkt p;
	struct dns_template_info info;

	reply(&p, 0, 1, 0, 0, DNS_TYPE_SOA);
	psoa(&p, NULL, 3600, 60);
	make_tmpl(&p, &info, TMPL_ANY);
	cr_assert_eq(info.negative, 0);
	cr_assert_eq(info.ttl, 3600, "a positive SOA answer lives by its TTL");
}

Test(template, errors_not_cacheable)
{
	static const uint16_t rcodes[] = { DNS_RCODE_SERVFAIL, DNS_RCODE_REFUSED,
		DNS_RCODE_NOTIMP, DNS_RCODE_FORMERR };
	struct pkt p;
	struct dns_template_info info;

	for (size_t i = 0; i < sizeof(rcodes) / sizeof(rcodes[0]); i++) {
		reply(&p, rcodes[i], 0, 1, 0, DNS_TYPE_A);
		psoa(&p, "example.com", 3600, 60);
		make_tmpl(&p, &info, TMPL_ANY);
		cr_assert_eq(info.rcode, rcodes[i]);
		cr_assert_eq(info.cacheable, 0, "rcode %u", rcodes[i]);
	}
}

Test(template, truncated)
{
	struct pkt p;
	struct dns_template_info info;

	reply(&p, DNS_F_TC, 1, 0, 0, DNS_TYPE_A);
	pa(&p, NULL, 300, 1);
	make_tmpl(&p, &info, (int)p.len);
	cr_assert_eq(info.truncated, 1);
	cr_assert_eq(info.cacheable, 0);
}

Test(template, opt_last_removed)
{
	struct pkt p;
	struct dns_template_info info;
	size_t full;

	reply(&p, 0, 1, 0, 2, DNS_TYPE_A);
	pa(&p, NULL, 300, 1);
	pa(&p, "ns.example.com", 100, 2);
	full = p.len;
	popt(&p, 4096, 0x8000);
	make_tmpl(&p, &info, TMPL_ANY);
	cr_assert_lt(p.len, full, "the OPT is gone (and ns.example.com compressed)");
	cr_assert_eq(g16(p.b + 10), 1, "arcount");
	cr_assert_eq(info.nttl, 2);
	cr_assert_eq(info.ttl, 300);
}

Test(template, opt_not_last_drops_additional)
{
	struct pkt p;
	struct dns_template_info info;
	size_t ar_start;

	reply(&p, 0, 1, 1, 2, DNS_TYPE_A);
	pa(&p, NULL, 300, 1);
	pnamerr(&p, "example.com", DNS_TYPE_NS, 200, "ns.example.com");
	ar_start = p.len;
	popt(&p, 4096, 0);
	pa(&p, "ns.example.com", 100, 2);
	make_tmpl(&p, &info, TMPL_ANY);
	cr_assert_lt(p.len, ar_start, "the additional section is gone");
	cr_assert_eq(g16(p.b + 10), 0, "arcount");
	cr_assert_eq(g16(p.b + 6), 1, "ancount untouched");
	cr_assert_eq(g16(p.b + 8), 1, "nscount untouched");
	cr_assert_eq(info.nttl, 2, "the glue's TTL offset went with it");
	cr_assert_lt(info.ttl_off[1], ar_start);
	cr_assert_eq(info.ttl, 200);
}

Test(template, trailing_bytes_cut)
{
	struct pkt p;
	struct dns_template_info info;
	size_t end;

	reply(&p, 0, 1, 0, 0, DNS_TYPE_A);
	pa(&p, NULL, 300, 1);
	end = p.len;
	p32(&p, 0);
	make_tmpl(&p, &info, (int)end);
}

Test(template, extended_rcode_becomes_servfail)
{
	struct pkt p;
	struct dns_template_info info;

	reply(&p, 0, 0, 0, 1, DNS_TYPE_A);
	popt(&p, 1232, 0x01000000);	/* BADVERS */
	make_tmpl(&p, &info, 29);
	cr_assert_eq(info.rcode, DNS_RCODE_SERVFAIL);
	cr_assert_eq(g16(p.b + 2) & DNS_F_RCODE, DNS_RCODE_SERVFAIL);
	cr_assert_eq(info.cacheable, 0);
}

Test(template, ttl_with_top_bit_is_zero)
{
	struct pkt p;
	struct dns_template_info info;

	reply(&p, 0, 2, 0, 0, DNS_TYPE_A);
	pa(&p, NULL, 300, 1);
	pa(&p, NULL, 0x80000000u, 2);
	make_tmpl(&p, &info, (int)p.len);
	cr_assert_eq(info.ttl, 0);
}

/* The largest message there can be, of the smallest records: every TTL tracked. */
Test(template, a_full_message_of_tiny_records)
{
	static struct pkt p;	/* 64 KiB: not on the stack */
	struct dns_template_info info;
	uint16_t n = (uint16_t)((DNS_MSG_MAX - 12 - 13 - 4) / 12);

	cr_assert_leq(n, DNS_TTLS_MAX);
	reply(&p, 0, n, 0, 0, DNS_TYPE_ANY);
	for (uint16_t i = 0; i < n; i++)
		prr(&p, NULL, 10 /* NULL */, 60 + i, NULL, 0);
	cr_assert_gt(p.len, DNS_MSG_MAX - 12, "the message is not full: %zu", p.len);
	make_tmpl(&p, &info, (int)p.len);
	cr_assert_eq(info.nttl, n);
	cr_assert_eq(info.ttl, 60);
}

Test(template, malformed)
{
	struct pkt p;
	struct dns_template_info info;
	size_t at;

	reply(&p, 0, 1, 0, 0, DNS_TYPE_A);
	pa(&p, NULL, 300, 1);
	p.len--;
	make_tmpl(&p, &info, -EBADMSG);		/* rdata cut short */

	reply(&p, 0, 2, 0, 0, DNS_TYPE_A);
	pa(&p, NULL, 300, 1);
	make_tmpl(&p, &info, -EBADMSG);		/* a record missing */

	reply(&p, 0, 1, 0, 0, DNS_TYPE_A);
	prr(&p, NULL, DNS_TYPE_A, 300, "\1\2\3\4\5", 5);
	make_tmpl(&p, &info, -EBADMSG);		/* A with 5 bytes */

	reply(&p, 0, 1, 0, 0, DNS_TYPE_A);
	prr(&p, NULL, DNS_TYPE_CNAME, 300, "\3www\0\0", 6);
	make_tmpl(&p, &info, -EBADMSG);		/* CNAME with a byte after the name */

	reply(&p, 0, 0, 1, 0, DNS_TYPE_A);
	at = p.len;
	psoa(&p, "example.com", 300, 60);
	p.b[at + 13 + 10] = 0x41;		/* first byte of the SOA's MNAME */
	make_tmpl(&p, &info, -EBADMSG);

	reply(&p, 0, 1, 0, 0, DNS_TYPE_A);
	popt(&p, 1232, 0);
	make_tmpl(&p, &info, -EBADMSG);		/* OPT in the answer */

	reply(&p, 0, 0, 0, 2, DNS_TYPE_A);
	popt(&p, 1232, 0);
	popt(&p, 1232, 0);
	make_tmpl(&p, &info, -EBADMSG);		/* two OPTs */

	reply(&p, 0, 1, 0, 0, DNS_TYPE_A);
	pa(&p, NULL, 300, 1);
	be_put16(p.b + 2, DNS_F_RD);
	make_tmpl(&p, &info, -EBADMSG);		/* not a response */

	reply(&p, 0, 1, 0, 0, DNS_TYPE_A);
	pa(&p, NULL, 300, 1);
	be_put16(p.b + 4, 0);
	make_tmpl(&p, &info, -EBADMSG);		/* no question */

	phdr(&p, 0, DNS_F_QR, 1, 0, 0, 0);
	p16(&p, 0xc001);			/* question: the root, compressed into the id */
	p32(&p, 0x00010001);
	make_tmpl(&p, &info, -EBADMSG);

	p.len = 11;
	make_tmpl(&p, &info, -EBADMSG);
}

/* ---------------------------------------------------------------- render */

/* The template of an answer with two A records, TTL 300 and 100. */
static void
two_a_template(struct pkt *p, struct dns_template_info *info)
{
	int n;

	reply(p, 0, 2, 0, 0, DNS_TYPE_A);
	pa(p, NULL, 300, 1);
	pa(p, NULL, 100, 2);
	n = tmpl_in_place(p->b, p->len, sizeof(p->b), info);
	cr_assert_eq(n, (int)p->len);
	cr_assert_eq(info->nttl, 2);
}

static size_t
render_raw(uint8_t *out, size_t cap, const uint8_t *tmpl, size_t tlen, const uint16_t *ttl_off,
    size_t nttl, uint32_t elapsed, const struct dns_query *q, size_t max_size)
{
	struct dns_tmpl t = { tmpl, tlen, ttl_off, nttl };
	struct dns_render_opts o = { .elapsed = elapsed, .max_size = max_size };

	return dns_render(out, cap, &t, q, &o);
}

static size_t
do_render(uint8_t *out, size_t cap, const struct pkt *t, const struct dns_template_info *info,
    uint32_t elapsed, const struct dns_query *q, size_t max_size)
{
	return render_raw(out, cap, t->b, t->len, info->ttl_off, info->nttl, elapsed, q,
	    max_size);
}

Test(render, replaces_id_spelling_and_rd)
{
	struct pkt t;
	struct dns_template_info info;
	struct dns_query q;
	uint8_t out[1024];
	const uint8_t spelled[] = { 7, 'E', 'x', 'A', 'm', 'P', 'l', 'E', 3, 'C', 'o', 'M', 0 };

	two_a_template(&t, &info);
	make_query(&q, 0x1234, 0, "ExAmPlE.CoM", DNS_TYPE_A, 0, 0);
	cr_assert_eq(do_render(out, sizeof(out), &t, &info, 30, &q, 512), t.len);
	expect_header(out, 0x1234, DNS_F_QR | DNS_F_RA, 1, 2, 0, 0);
	expect_question(out, spelled, sizeof(spelled), DNS_TYPE_A);
	cr_assert_eq(g32(out + info.ttl_off[0]), 270);
	cr_assert_eq(g32(out + info.ttl_off[1]), 70);
	/* everything else as in the template */
	cr_assert_arr_eq(out + 29, t.b + 29, info.ttl_off[0] - 29);
	cr_assert_arr_eq(out + t.len - 4, t.b + t.len - 4, 4, "rdata");
}

Test(render, keeps_upstream_flags_but_aa)
{
	struct pkt t;
	struct dns_template_info info;
	struct dns_query q;
	uint8_t out[1024];

	reply(&t, DNS_F_AA | DNS_F_AD, 1, 0, 0, DNS_TYPE_A);
	be_put16(t.b + 2, DNS_F_QR | DNS_F_AA | DNS_F_AD);	/* upstream said RD 0, RA 0 */
	pa(&t, NULL, 300, 1);
	make_tmpl(&t, &info, (int)t.len);
	cr_assert_eq(g16(t.b + 2), DNS_F_QR | DNS_F_AD, "AA cleared in the template");
	cr_assert_eq(info.ad, 1);
	make_query(&q, 1, DNS_F_RD | DNS_F_AD, "example.com", DNS_TYPE_A, 0, 0);
	cr_assert_eq(do_render(out, sizeof(out), &t, &info, 0, &q, 512), t.len);
	cr_assert_eq(g16(out + 2), DNS_F_QR | DNS_F_AD | DNS_F_RD | DNS_F_RA);

	/* a template that somehow still says AA: the renderer clears it too */
	be_put16(t.b + 2, DNS_F_QR | DNS_F_AA);
	cr_assert_eq(do_render(out, sizeof(out), &t, &info, 0, &q, 512), t.len);
	cr_assert_eq(g16(out + 2), DNS_F_QR | DNS_F_RD | DNS_F_RA);
}

Test(render, ttls_floor_at_zero)
{
	struct pkt t;
	struct dns_template_info info;
	struct dns_query q;
	uint8_t out[1024];

	two_a_template(&t, &info);
	make_query(&q, 1, DNS_F_RD, "example.com", DNS_TYPE_A, 0, 0);
	cr_assert_eq(do_render(out, sizeof(out), &t, &info, 200, &q, 512), t.len);
	cr_assert_eq(g32(out + info.ttl_off[0]), 100);
	cr_assert_eq(g32(out + info.ttl_off[1]), 0);
	cr_assert_eq(do_render(out, sizeof(out), &t, &info, UINT32_MAX, &q, 512), t.len);
	cr_assert_eq(g32(out + info.ttl_off[0]), 0);
	cr_assert_eq(g32(out + info.ttl_off[1]), 0);
	cr_assert_eq(g32(t.b + info.ttl_off[0]), 300, "the template is not changed");
}

Test(render, ttl_top_bit_is_zero)
{
	struct pkt t;
	struct dns_template_info info;
	struct dns_query q;
	uint8_t out[1024];

	reply(&t, 0, 1, 0, 0, DNS_TYPE_A);
	pa(&t, NULL, 0xfffffff0u, 1);
	make_tmpl(&t, &info, (int)t.len);
	make_query(&q, 1, DNS_F_RD, "example.com", DNS_TYPE_A, 0, 0);
	cr_assert_eq(do_render(out, sizeof(out), &t, &info, 0, &q, 512), t.len);
	cr_assert_eq(g32(out + info.ttl_off[0]), 0);
}

Test(render, opt_only_for_edns_clients)
{
	struct pkt t;
	struct dns_template_info info;
	struct dns_query q;
	uint8_t out[1024];

	two_a_template(&t, &info);
	make_query(&q, 7, DNS_F_RD, "example.com", DNS_TYPE_A, 1, 0x8000);
	cr_assert_eq(do_render(out, sizeof(out), &t, &info, 0, &q, 1232), t.len + 11);
	expect_header(out, 7, DNS_F_QR | DNS_F_RD | DNS_F_RA, 1, 2, 0, 1);
	expect_opt(out + t.len, 0x8000);

	make_query(&q, 7, DNS_F_RD, "example.com", DNS_TYPE_A, 0, 0);
	cr_assert_eq(do_render(out, sizeof(out), &t, &info, 0, &q, 1232), t.len);
	expect_header(out, 7, DNS_F_QR | DNS_F_RD | DNS_F_RA, 1, 2, 0, 0);
}

Test(render, oversize_truncates)
{
	struct pkt t;
	struct dns_template_info info;
	struct dns_query q;
	uint8_t out[1024];

	two_a_template(&t, &info);
	make_query(&q, 9, DNS_F_RD, "EXAMPLE.com", DNS_TYPE_A, 0, 0);
	cr_assert_eq(do_render(out, sizeof(out), &t, &info, 0, &q, t.len), t.len, "fits exactly");
	cr_assert_eq(do_render(out, sizeof(out), &t, &info, 0, &q, t.len - 1), 29);
	expect_header(out, 9, DNS_F_QR | DNS_F_TC | DNS_F_RD | DNS_F_RA, 1, 0, 0, 0);
	expect_question(out, q.q.name, q.q.namelen, DNS_TYPE_A);

	make_query(&q, 9, DNS_F_RD, "EXAMPLE.com", DNS_TYPE_A, 1, 0);
	cr_assert_eq(do_render(out, sizeof(out), &t, &info, 0, &q, t.len + 10), 40,
	    "the OPT counts towards the size");
	expect_header(out, 9, DNS_F_QR | DNS_F_TC | DNS_F_RD | DNS_F_RA, 1, 0, 0, 1);
	expect_opt(out + 29, 0);
}

Test(render, cap_too_small)
{
	struct pkt t;
	struct dns_template_info info;
	struct dns_query q;
	uint8_t out[1024];

	two_a_template(&t, &info);
	make_query(&q, 9, DNS_F_RD, "example.com", DNS_TYPE_A, 0, 0);
	cr_assert_eq(do_render(out, t.len - 1, &t, &info, 0, &q, 4096), 0);
	cr_assert_eq(do_render(out, 28, &t, &info, 0, &q, 40), 0, "no room even for TC");
	cr_assert_eq(do_render(out, 29, &t, &info, 0, &q, 40), 29);
}

Test(render, refuses_mismatches)
{
	struct pkt t;
	struct dns_template_info info;
	struct dns_query q;
	uint8_t out[1024];
	uint16_t bad;

	two_a_template(&t, &info);
	make_query(&q, 9, DNS_F_RD, "example.org", DNS_TYPE_A, 0, 0);
	cr_assert_eq(do_render(out, sizeof(out), &t, &info, 0, &q, 4096), 0, "other name");
	make_query(&q, 9, DNS_F_RD, "example.com", DNS_TYPE_A, 0, 0);
	bad = (uint16_t)(t.len - 3);
	cr_assert_eq(render_raw(out, sizeof(out), t.b, t.len, &bad, 1, 0, &q, 4096), 0,
	    "TTL offset past the end");
	bad = 14;
	cr_assert_eq(render_raw(out, sizeof(out), t.b, t.len, &bad, 1, 0, &q, 4096), 0,
	    "TTL offset in the question");
	cr_assert_eq(render_raw(out, sizeof(out), t.b, 11, NULL, 0, 0, &q, 4096), 0);
	cr_assert_eq(render_raw(out, sizeof(out), NULL, 0, NULL, 0, 0, &q, 4096), 0);
}

/* ---------------------------------------------------------------- answers */

Test(answer, two_a)
{
	struct dns_query q;
	struct dns_cursor c;
	struct trr r;
	uint8_t out[512];
	const uint8_t addrs[8] = { 192, 0, 2, 1, 198, 51, 100, 2 };
	size_t n;

	make_query(&q, 0x5151, DNS_F_RD, "Example.COM", DNS_TYPE_A, 0, 0);
	n = dns_build_answer(out, sizeof(out), &q, DNS_TYPE_A, 3600, addrs, 4, 2);
	cr_assert_eq(n, 29 + 2 * 16);
	expect_header(out, 0x5151, DNS_F_QR | DNS_F_AA | DNS_F_RD | DNS_F_RA, 1, 2, 0, 0);
	expect_question(out, q.q.name, q.q.namelen, DNS_TYPE_A);
	dns_cursor_init(&c, out, n, 29);
	for (int i = 0; i < 2; i++) {
		read_trr(&c, &r);
		cr_assert_eq(g16(out + r.rdata - 12), 0xc00c, "owner compressed to the question");
		cr_assert(dns_name_equal(r.owner, (size_t)r.ownerlen, q.q.name, q.q.namelen));
		cr_assert_eq(r.type, DNS_TYPE_A);
		cr_assert_eq(r.rclass, DNS_CLASS_IN);
		cr_assert_eq(r.ttl, 3600);
		cr_assert_eq(r.rdlen, 4);
		cr_assert_arr_eq(out + r.rdata, addrs + 4 * i, 4);
	}
	cr_assert_eq(c.pos, n);
}

Test(answer, aaaa_with_opt)
{
	struct dns_query q;
	struct dns_cursor c;
	struct trr r;
	uint8_t out[512];
	const uint8_t addr[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	size_t n;

	make_query(&q, 3, 0, "example.com", DNS_TYPE_AAAA, 1, 0x8000);
	n = dns_build_answer(out, sizeof(out), &q, DNS_TYPE_AAAA, 60, addr, 16, 1);
	cr_assert_eq(n, 29 + 12 + 16 + 11);
	expect_header(out, 3, DNS_F_QR | DNS_F_AA | DNS_F_RA, 1, 1, 0, 1);
	dns_cursor_init(&c, out, n, 29);
	read_trr(&c, &r);
	cr_assert_eq(r.type, DNS_TYPE_AAAA);
	cr_assert_eq(r.ttl, 60);
	cr_assert_eq(r.rdlen, 16);
	cr_assert_arr_eq(out + r.rdata, addr, 16);
	expect_opt(out + c.pos, 0x8000);
}

Test(answer, ptr)
{
	struct dns_query q;
	struct dns_cursor c;
	struct trr r;
	uint8_t out[512], target[DNS_NAME_MAX], back[DNS_NAME_MAX];
	int tlen;
	size_t n;

	make_query(&q, 4, DNS_F_RD, "1.2.0.192.in-addr.arpa", DNS_TYPE_PTR, 0, 0);
	tlen = dns_name_from_text("host.example.com.", target);
	cr_assert_gt(tlen, 0);
	n = dns_build_answer(out, sizeof(out), &q, DNS_TYPE_PTR, 86400, target, (size_t)tlen, 1);
	cr_assert_eq(n, q.qend + 12 + (size_t)tlen);
	expect_header(out, 4, DNS_F_QR | DNS_F_AA | DNS_F_RD | DNS_F_RA, 1, 1, 0, 0);
	dns_cursor_init(&c, out, n, q.qend);
	read_trr(&c, &r);
	cr_assert(dns_name_equal(r.owner, (size_t)r.ownerlen, q.q.name, q.q.namelen));
	cr_assert_eq(r.type, DNS_TYPE_PTR);
	cr_assert_eq(r.ttl, 86400);
	cr_assert_eq(r.rdlen, tlen);
	dns_cursor_init(&c, out, n, r.rdata);
	cr_assert_eq(dns_read_name(&c, back), tlen);
	cr_assert_arr_eq(back, target, (size_t)tlen);

	cr_assert_eq(dns_build_answer(out, sizeof(out), &q, DNS_TYPE_PTR, 1, target,
	    (size_t)tlen - 1, 1), 0, "PTR rdata that is not a whole name");
}

Test(answer, nodata)
{
	struct dns_query q;
	uint8_t out[512];

	make_query(&q, 5, DNS_F_RD, "example.com", DNS_TYPE_AAAA, 0, 0);
	cr_assert_eq(dns_build_answer(out, sizeof(out), &q, DNS_TYPE_AAAA, 60, NULL, 16, 0), 29);
	expect_header(out, 5, DNS_F_QR | DNS_F_AA | DNS_F_RD | DNS_F_RA, 1, 0, 0, 0);
	expect_question(out, example_com, sizeof(example_com), DNS_TYPE_AAAA);
}

Test(answer, refuses)
{
	struct dns_query q;
	uint8_t out[512];
	const uint8_t addrs[8] = { 0 };

	make_query(&q, 5, DNS_F_RD, "example.com", DNS_TYPE_A, 0, 0);
	cr_assert_eq(dns_build_answer(out, 29 + 31, &q, DNS_TYPE_A, 60, addrs, 4, 2), 0,
	    "one byte short");
	cr_assert_eq(dns_build_answer(out, 29 + 32, &q, DNS_TYPE_A, 60, addrs, 4, 2), 61);
	cr_assert_eq(dns_build_answer(out, sizeof(out), &q, DNS_TYPE_A, 60, addrs, 8, 1), 0,
	    "A with 8 bytes");
	cr_assert_eq(dns_build_answer(out, sizeof(out), &q, DNS_TYPE_AAAA, 60, addrs, 4, 1), 0,
	    "AAAA with 4 bytes");
	q.qend = 0;
	cr_assert_eq(dns_build_answer(out, sizeof(out), &q, DNS_TYPE_A, 60, addrs, 4, 1), 0,
	    "no question to answer");
}

/* ---------------------------------------------------------------- DNSSEC pass-through */

TestSuite(strip, .timeout = 10);
TestSuite(local, .timeout = 10);

/* dotted's labels without the root: a pointer is to follow. */
static void
plabels(struct pkt *p, const char *dotted)
{
	size_t start = p->len;

	pname(p, dotted);
	cr_assert_eq(p->b[p->len - 1], 0);
	p->len--;
	cr_assert_gt(p->len, start);
}

static void
pptr(struct pkt *p, size_t off)
{
	p16(p, (uint16_t)(0xc000 | off));
}

/* After the owner: type, class IN, TTL and room for rdlength; returns where that is. */
static size_t
prr_open(struct pkt *p, uint16_t type, uint32_t ttl)
{
	size_t at;

	p16(p, type);
	p16(p, DNS_CLASS_IN);
	p32(p, ttl);
	at = p->len;
	p16(p, 0);
	return at;
}

static void
prr_close(struct pkt *p, size_t at)
{
	be_put16(p->b + at, (uint16_t)(p->len - at - 2));
}

/*
 * An RRSIG's rdata (owner already written) covering type, signed by
 * "example.com." written uncompressed as RFC 4034 3.1.7 wants; returns
 * where the signer name starts, for later records to point into.
 */
static size_t
prrsig(struct pkt *p, uint16_t covered, uint32_t ttl)
{
	static const uint8_t sig[8] = { 0xc0, 0x0c, 0xde, 0xad, 0xbe, 0xef, 0x00, 0xff };
	size_t at = prr_open(p, DNS_TYPE_RRSIG, ttl), signer;

	p16(p, covered);
	p8(p, 8);		/* algorithm */
	p8(p, 3);		/* labels */
	p32(p, ttl);
	p32(p, 1800000000);
	p32(p, 1700000000);
	p16(p, 12345);
	signer = p->len;
	pname(p, "example.com");
	pbytes(p, sig, sizeof(sig));	/* looks like a pointer: must be copied, not followed */
	prr_close(p, at);
	return signer;
}

/* A record read back with its names spelled out: owner, and those inside the rdata we know. */
struct crr {
	uint8_t owner[DNS_NAME_MAX];
	int ownerlen;
	uint16_t type;
	uint32_t ttl;
	uint8_t rdata[1024];
	size_t rdlen;
};

static void
canon_rdata(const uint8_t *m, size_t len, const struct trr *r, struct crr *c)
{
	struct dns_cursor cur;
	size_t pre = 0, names = 0, post = 0, o = 0;

	switch (r->type) {
	case DNS_TYPE_NS: case DNS_TYPE_CNAME: case DNS_TYPE_PTR:
		names = 1;
		break;
	case DNS_TYPE_MX:
		pre = 2;
		names = 1;
		break;
	case DNS_TYPE_SOA:
		names = 2;
		post = 20;
		break;
	case 33:		/* SRV */
		pre = 6;
		names = 1;
		break;
	default:
		cr_assert_leq(r->rdlen, sizeof(c->rdata));
		memcpy(c->rdata, m + r->rdata, r->rdlen);
		c->rdlen = r->rdlen;
		return;
	}
	dns_cursor_init(&cur, m, len, r->rdata);
	memcpy(c->rdata, m + r->rdata, pre);
	o = pre;
	dns_skip(&cur, pre);
	for (size_t i = 0; i < names; i++) {
		int n = dns_read_name(&cur, c->rdata + o);

		cr_assert_gt(n, 0, "a name in type %u rdata does not read", r->type);
		o += (size_t)n;
	}
	cr_assert_eq(cur.pos + post, r->rdata + r->rdlen, "type %u rdata length", r->type);
	memcpy(c->rdata + o, m + cur.pos, post);
	c->rdlen = o + post;
}

/* Every record of message m, in order; returns how many; counts gets the section counts. */
static size_t
canon(const uint8_t *m, size_t len, struct crr *out, size_t max, uint16_t counts[3])
{
	struct dns_cursor c;
	uint8_t qname[DNS_NAME_MAX];
	size_t n = 0;

	dns_cursor_init(&c, m, len, 4);
	cr_assert_eq(dns_get16(&c), 1);
	for (int s = 0; s < 3; s++) {
		counts[s] = dns_get16(&c);
		n += counts[s];
	}
	cr_assert_leq(n, max);
	cr_assert_gt(dns_read_name(&c, qname), 0);
	dns_skip(&c, 4);
	for (size_t i = 0; i < n; i++) {
		struct trr r;

		read_trr(&c, &r);
		memcpy(out[i].owner, r.owner, (size_t)r.ownerlen);
		out[i].ownerlen = r.ownerlen;
		out[i].type = r.type;
		out[i].ttl = r.ttl;
		canon_rdata(m, len, &r, &out[i]);
	}
	cr_assert_eq(c.pos, len, "bytes after the last record");
	return n;
}

static int
is_dnssec(uint16_t type)
{
	return type == DNS_TYPE_RRSIG || type == DNS_TYPE_NSEC || type == DNS_TYPE_NSEC3 ||
	    type == DNS_TYPE_DS;
}

static struct crr full_rr[32], plain_rr[32];
static uint8_t plain_buf[DNS_MSG_MAX];
static struct dns_template_info pinfo, pinfo2;

/*
 * Strip t, then check the twin against the original: a template of its
 * own, the original's records minus those of the dropped types (keep_type
 * excepted), names and rdata names the same bytes, TTL offsets onto the
 * same TTLs.  Returns the twin's length.
 */
static size_t
check_strip(const struct pkt *t, uint16_t keep_type, const uint16_t want[3])
{
	static uint8_t again[DNS_MSG_MAX];
	uint16_t fc[3], pc[3];
	size_t nf, np, j = 0;
	int n;

	n = dns_strip_dnssec(t->b, t->len, plain_buf, sizeof(plain_buf), &pinfo);
	cr_assert_gt(n, 0, "dns_strip_dnssec: %d", n);
	memcpy(again, plain_buf, (size_t)n);
	cr_assert_eq(tmpl_in_place(again, (size_t)n, sizeof(again), &pinfo2), n, "the twin is a template");
	cr_assert_eq(pinfo2.dnssec, 0);
	cr_assert_arr_eq(again, plain_buf, (size_t)n, "and unchanged by it");
	cr_assert_eq(pinfo.nttl, pinfo2.nttl);

	nf = canon(t->b, t->len, full_rr, 32, fc);
	np = canon(plain_buf, (size_t)n, plain_rr, 32, pc);
	for (int s = 0; s < 3; s++)
		cr_assert_eq(pc[s], want[s], "section %d: %u records, want %u", s, pc[s], want[s]);
	cr_assert_eq(pinfo.nttl, np);
	for (size_t i = 0; i < nf; i++) {
		if (is_dnssec(full_rr[i].type) && full_rr[i].type != keep_type)
			continue;
		cr_assert_lt(j, np, "record %zu missing", i);
		cr_assert_eq(plain_rr[j].type, full_rr[i].type, "record %zu type", i);
		cr_assert_eq(plain_rr[j].ownerlen, full_rr[i].ownerlen, "record %zu owner", i);
		cr_assert_arr_eq(plain_rr[j].owner, full_rr[i].owner,
		    (size_t)full_rr[i].ownerlen, "record %zu owner", i);
		cr_assert_eq(plain_rr[j].ttl, full_rr[i].ttl);
		cr_assert_eq(g32(plain_buf + pinfo.ttl_off[j]), full_rr[i].ttl, "TTL offset %zu", j);
		cr_assert_eq(plain_rr[j].rdlen, full_rr[i].rdlen, "record %zu rdata", i);
		cr_assert_arr_eq(plain_rr[j].rdata, full_rr[i].rdata, full_rr[i].rdlen,
		    "record %zu rdata", i);
		j++;
	}
	cr_assert_eq(j, np, "records the original does not have");
	for (size_t i = 0; i < np; i++)
		cr_assert(!is_dnssec(plain_rr[i].type) || plain_rr[i].type == keep_type,
		    "type %u left in", plain_rr[i].type);
	return (size_t)n;
}

/*
 * example.com A: CNAME to Host.example.com, A, each signed; NS with
 * its RRSIG; glue.  Later names point into the RRSIGs' signer names and
 * into the CNAME's rdata, so dropping the RRSIGs breaks every pointer
 * that is not rewritten.
 */
static void
signed_answer(struct pkt *p, struct dns_template_info *info)
{
	size_t at, host, signer, ns1;
	const uint8_t addr[4] = { 192, 0, 2, 7 };

	reply(p, DNS_F_AD, 2 + 2, 2, 2, DNS_TYPE_A);
	pptr(p, 12);
	at = prr_open(p, DNS_TYPE_CNAME, 300);
	host = p->len;
	plabels(p, "Host");
	pptr(p, 12);
	prr_close(p, at);
	pptr(p, 12);
	signer = prrsig(p, DNS_TYPE_CNAME, 300);
	pptr(p, host);
	at = prr_open(p, DNS_TYPE_A, 200);
	pbytes(p, addr, 4);
	prr_close(p, at);
	pptr(p, host);
	prrsig(p, DNS_TYPE_A, 200);

	pptr(p, signer);			/* example.com, inside an RRSIG */
	at = prr_open(p, DNS_TYPE_NS, 3600);
	ns1 = p->len;
	plabels(p, "ns1");
	pptr(p, signer);
	prr_close(p, at);
	pptr(p, 12);
	prrsig(p, DNS_TYPE_NS, 3600);

	pptr(p, ns1);
	at = prr_open(p, DNS_TYPE_A, 3600);
	pbytes(p, addr, 4);
	prr_close(p, at);
	pptr(p, ns1);
	prrsig(p, DNS_TYPE_A, 3600);
	make_tmpl(p, info, (int)p->len);
}

Test(strip, signed_answer_with_pointers_into_rrsigs)
{
	struct pkt t;
	struct dns_template_info info;
	const uint16_t want[3] = { 2, 1, 1 };
	size_t n;

	signed_answer(&t, &info);
	cr_assert_eq(info.dnssec, 1);
	cr_assert_eq(info.ad, 1);
	cr_assert_eq(info.nttl, 8);
	n = check_strip(&t, 0, want);
	cr_assert_lt(n, t.len);
	cr_assert_eq(pinfo.rcode, DNS_RCODE_NOERROR);
	cr_assert_eq(pinfo.negative, 0);
	cr_assert_eq(pinfo.cacheable, 1);
	cr_assert_eq(pinfo.ttl, 200);
	cr_assert_eq(pinfo.ad, 1, "the header is kept: AD too");
	cr_assert_eq(g16(plain_buf + 29), 0xc00c, "the first owner points at the question");
}

/*
 * nope.example.com NXDOMAIN: NSEC and its RRSIG, SOA (names pointing
 * into the NSEC's owner and an RRSIG's signer) and its RRSIG, NSEC3 and
 * its RRSIG.
 */
Test(strip, nxdomain_with_nsec_and_nsec3)
{
	struct pkt t;
	struct dns_template_info info;
	const uint16_t want[3] = { 0, 1, 0 };
	const uint8_t bitmap[] = { 0, 6, 0x40, 0, 0, 0, 0, 3 };
	size_t at, nsec_owner, nsec3_owner, signer, n;

	phdr(&t, ID, DNS_F_QR | DNS_F_RD | DNS_F_RA | DNS_RCODE_NXDOMAIN, 1, 0, 6, 0);
	pquestion(&t, "nope.example.com", DNS_TYPE_A);
	nsec_owner = t.len;
	plabels(&t, "a");
	pptr(&t, 17);
	at = prr_open(&t, DNS_TYPE_NSEC, 3600);
	pname(&t, "c.example.com");
	pbytes(&t, bitmap, sizeof(bitmap));
	prr_close(&t, at);
	pptr(&t, nsec_owner);
	signer = prrsig(&t, DNS_TYPE_NSEC, 3600);
	pptr(&t, 17);
	at = prr_open(&t, DNS_TYPE_SOA, 3600);
	plabels(&t, "ns");
	pptr(&t, nsec_owner);
	plabels(&t, "hostmaster");
	pptr(&t, signer);
	p32(&t, 1);
	p32(&t, 7200);
	p32(&t, 900);
	p32(&t, 1209600);
	p32(&t, 300);
	prr_close(&t, at);
	pptr(&t, 17);
	prrsig(&t, DNS_TYPE_SOA, 3600);
	nsec3_owner = t.len;
	plabels(&t, "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom");
	pptr(&t, signer);
	at = prr_open(&t, DNS_TYPE_NSEC3, 3600);
	pbytes(&t, bitmap, sizeof(bitmap));
	prr_close(&t, at);
	pptr(&t, nsec3_owner);
	prrsig(&t, DNS_TYPE_NSEC3, 3600);
	make_tmpl(&t, &info, (int)t.len);
	cr_assert_eq(info.dnssec, 1);
	cr_assert_eq(info.negative, 1);

	n = check_strip(&t, 0, want);
	cr_assert_lt(n, t.len);
	cr_assert_eq(pinfo.rcode, DNS_RCODE_NXDOMAIN);
	cr_assert_eq(pinfo.negative, 1);
	cr_assert_eq(pinfo.cacheable, 1);
	cr_assert_eq(pinfo.ttl, 300);
}

/* A question for the type itself keeps it: DS keeps DS, RRSIG keeps RRSIG. */
Test(strip, asked_for_types_kept)
{
	struct pkt t;
	struct dns_template_info info;
	const uint8_t ds[] = { 0x30, 0x39, 8, 2, 1, 2, 3, 4 };
	const uint16_t want_ds[3] = { 1, 0, 0 }, want_sig[3] = { 2, 0, 0 };
	size_t at;

	reply(&t, 0, 2, 0, 0, DNS_TYPE_DS);
	pptr(&t, 12);
	at = prr_open(&t, DNS_TYPE_DS, 600);
	pbytes(&t, ds, sizeof(ds));
	prr_close(&t, at);
	pptr(&t, 12);
	prrsig(&t, DNS_TYPE_DS, 600);
	make_tmpl(&t, &info, (int)t.len);
	cr_assert_eq(info.dnssec, 1, "the RRSIG over the DS still goes");
	check_strip(&t, DNS_TYPE_DS, want_ds);

	reply(&t, 0, 1, 0, 0, DNS_TYPE_DS);
	pptr(&t, 12);
	at = prr_open(&t, DNS_TYPE_DS, 600);
	pbytes(&t, ds, sizeof(ds));
	prr_close(&t, at);
	make_tmpl(&t, &info, (int)t.len);
	cr_assert_eq(info.dnssec, 0, "a DS answer to a DS question has nothing to strip");

	reply(&t, 0, 2, 0, 0, DNS_TYPE_RRSIG);
	pptr(&t, 12);
	prrsig(&t, DNS_TYPE_A, 600);
	pptr(&t, 12);
	prrsig(&t, DNS_TYPE_AAAA, 600);
	make_tmpl(&t, &info, (int)t.len);
	cr_assert_eq(info.dnssec, 0);
	check_strip(&t, DNS_TYPE_RRSIG, want_sig);
}

/* ANY is no request for DNSSEC records: only DO is (see dns.c). DNSKEY is plain data. */
Test(strip, any_loses_rrsigs_dnskey_stays)
{
	struct pkt t;
	struct dns_template_info info;
	const uint8_t key[] = { 1, 0, 3, 8, 0xaa, 0xbb };
	const uint16_t want[3] = { 2, 0, 0 };
	size_t at;

	reply(&t, 0, 3, 0, 0, DNS_TYPE_ANY);
	pa(&t, NULL, 300, 1);
	pptr(&t, 12);
	at = prr_open(&t, DNS_TYPE_DNSKEY, 300);
	pbytes(&t, key, sizeof(key));
	prr_close(&t, at);
	pptr(&t, 12);
	prrsig(&t, DNS_TYPE_A, 300);
	make_tmpl(&t, &info, (int)t.len);
	cr_assert_eq(info.dnssec, 1);
	check_strip(&t, 0, want);

	reply(&t, 0, 2, 0, 0, DNS_TYPE_A);
	pa(&t, NULL, 300, 1);
	pptr(&t, 12);
	at = prr_open(&t, DNS_TYPE_DNSKEY, 300);
	pbytes(&t, key, sizeof(key));
	prr_close(&t, at);
	make_tmpl(&t, &info, (int)t.len);
	cr_assert_eq(info.dnssec, 0, "DNSKEY alone is nothing to strip");
}

/* RFC 3597 4: a compressed SRV target is written out whole, never compressed again. */
Test(strip, srv_target_written_uncompressed)
{
	struct pkt t;
	struct dns_template_info info;
	const uint16_t want[3] = { 1, 0, 0 };
	uint8_t target[DNS_NAME_MAX];
	int tl = dns_name_from_text("example.com", target);
	size_t at, n, rd;

	reply(&t, 0, 2, 0, 0, 33);
	pptr(&t, 12);
	at = prr_open(&t, 33, 300);
	p16(&t, 10);
	p16(&t, 20);
	p16(&t, 5060);
	pptr(&t, 12);				/* a sloppy upstream compressed it */
	prr_close(&t, at);
	pptr(&t, 12);
	prrsig(&t, 33, 300);
	make_tmpl(&t, &info, TMPL_ANY);
	n = check_strip(&t, 0, want);
	rd = 29 + 2 + 10;
	cr_assert_eq(g16(plain_buf + rd - 2), 6 + tl, "rdlength of the whole name");
	cr_assert_arr_eq(plain_buf + rd + 6, target, (size_t)tl);
	cr_assert_eq(n, rd + 6 + (size_t)tl);
}

Test(strip, errors)
{
	struct pkt t;
	struct dns_template_info info;

	signed_answer(&t, &info);
	cr_assert_eq(dns_strip_dnssec(t.b, t.len, plain_buf, 40, &pinfo), -ENOSPC);
	cr_assert_eq(dns_strip_dnssec(t.b, 11, plain_buf, sizeof(plain_buf), &pinfo), -EBADMSG);
	cr_assert_eq(dns_strip_dnssec(t.b, t.len - 3, plain_buf, sizeof(plain_buf), &pinfo),
	    -EBADMSG, "the last record cut short");
	be_put16(t.b + 4, 2);
	cr_assert_eq(dns_strip_dnssec(t.b, t.len, plain_buf, sizeof(plain_buf), &pinfo),
	    -EBADMSG, "qdcount 2");
}

/* ---------------------------------------------------------------- templates: DNSSEC */

Test(template, aa_cleared_ad_and_dnssec_noted)
{
	struct pkt t;
	struct dns_template_info info;

	reply(&t, DNS_F_AA, 1, 0, 0, DNS_TYPE_A);
	pa(&t, NULL, 300, 1);
	make_tmpl(&t, &info, (int)t.len);
	cr_assert_eq(g16(t.b + 2), DNS_F_QR | DNS_F_RD | DNS_F_RA, "AA cleared");
	cr_assert_eq(info.ad, 0);
	cr_assert_eq(info.dnssec, 0);

	/* an NSEC only in an additional section that is dropped (OPT not last) */
	reply(&t, DNS_F_AD, 1, 0, 2, DNS_TYPE_A);
	pa(&t, NULL, 300, 1);
	popt(&t, 1232, 0x8000);
	pptr(&t, 12);
	prrsig(&t, DNS_TYPE_A, 300);
	make_tmpl(&t, &info, 12 + 17 + 16);
	cr_assert_eq(info.ad, 1);
	cr_assert_eq(info.dnssec, 0, "what was dropped does not count");

	reply(&t, 0, 1, 0, 1, DNS_TYPE_A);
	pa(&t, NULL, 300, 1);
	pptr(&t, 12);
	prrsig(&t, DNS_TYPE_A, 300);
	make_tmpl(&t, &info, (int)t.len);
	cr_assert_eq(info.dnssec, 1, "in the additional section too");
}

/* ---------------------------------------------------------------- render: DNSSEC */

/* The template of one A record with AD set, and an answer with or without AD/DO. */
Test(render, ad_only_for_clients_that_ask)
{
	static const struct {
		uint16_t qflags;
		int edns;
		uint32_t optttl;
		int ad;
	} rows[] = {
		{ 0, 0, 0, 0 },
		{ DNS_F_AD, 0, 0, 1 },
		{ 0, 1, 0x8000, 1 },
		{ DNS_F_AD, 1, 0x8000, 1 },
		{ 0, 1, 0, 0 },
	};
	struct pkt t;
	struct dns_template_info info;
	struct dns_query q;
	uint8_t out[1024];

	reply(&t, DNS_F_AD, 1, 0, 0, DNS_TYPE_A);
	pa(&t, NULL, 300, 1);
	make_tmpl(&t, &info, (int)t.len);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		make_query(&q, 1, rows[i].qflags, "example.com", DNS_TYPE_A, rows[i].edns,
		    rows[i].optttl);
		cr_assert_gt(do_render(out, sizeof(out), &t, &info, 0, &q, 1232), 0);
		cr_assert_eq((g16(out + 2) & DNS_F_AD) != 0, rows[i].ad, "row %zu", i);
	}
	/* and never when upstream did not say it */
	reply(&t, 0, 1, 0, 0, DNS_TYPE_A);
	pa(&t, NULL, 300, 1);
	make_tmpl(&t, &info, (int)t.len);
	make_query(&q, 1, DNS_F_AD, "example.com", DNS_TYPE_A, 1, 0x8000);
	cr_assert_gt(do_render(out, sizeof(out), &t, &info, 0, &q, 1232), 0);
	cr_assert_eq(g16(out + 2) & DNS_F_AD, 0);
}

Test(render, cd_is_the_clients)
{
	struct pkt t;
	struct dns_template_info info;
	struct dns_query q;
	uint8_t out[1024];

	reply(&t, DNS_F_CD, 1, 0, 0, DNS_TYPE_A);
	pa(&t, NULL, 300, 1);
	make_tmpl(&t, &info, (int)t.len);
	make_query(&q, 1, DNS_F_RD, "example.com", DNS_TYPE_A, 0, 0);
	cr_assert_eq(do_render(out, sizeof(out), &t, &info, 0, &q, 512), t.len);
	cr_assert_eq(g16(out + 2), DNS_F_QR | DNS_F_RD | DNS_F_RA);
	make_query(&q, 1, DNS_F_CD, "example.com", DNS_TYPE_A, 0, 0);
	cr_assert_eq(do_render(out, sizeof(out), &t, &info, 0, &q, 512), t.len);
	cr_assert_eq(g16(out + 2), DNS_F_QR | DNS_F_CD | DNS_F_RA);
}

Test(render, stale_ttl_overrides_every_ttl)
{
	struct pkt t;
	struct dns_template_info info;
	struct dns_query q;
	struct dns_tmpl tt;
	struct dns_render_opts o = { .elapsed = 250, .stale_ttl = 30, .max_size = 512 };
	uint8_t out[1024];

	two_a_template(&t, &info);
	tt = (struct dns_tmpl){ t.b, t.len, info.ttl_off, info.nttl };
	make_query(&q, 1, DNS_F_RD, "example.com", DNS_TYPE_A, 0, 0);
	cr_assert_eq(dns_render(out, sizeof(out), &tt, &q, &o), t.len);
	cr_assert_eq(g32(out + info.ttl_off[0]), 30);
	cr_assert_eq(g32(out + info.ttl_off[1]), 30, "also one that ran out long ago");
	o.stale_ttl = 0;
	cr_assert_eq(dns_render(out, sizeof(out), &tt, &q, &o), t.len);
	cr_assert_eq(g32(out + info.ttl_off[0]), 50);
	cr_assert_eq(g32(out + info.ttl_off[1]), 0);
}

/* EDE "Stale Answer": code 15, length 2, INFO-CODE 3, no text. */
Test(render, ede_in_the_opt_and_counted_for_tc)
{
	static const uint8_t ede[] = { 0, 15, 0, 2, 0, 3 };
	struct pkt t;
	struct dns_template_info info;
	struct dns_query q;
	struct dns_tmpl tt;
	struct dns_render_opts o = { .max_size = 1232, .ede = DNS_EDE_STALE };
	uint8_t out[1024];

	two_a_template(&t, &info);
	tt = (struct dns_tmpl){ t.b, t.len, info.ttl_off, info.nttl };
	make_query(&q, 1, DNS_F_RD, "example.com", DNS_TYPE_A, 1, 0x8000);
	cr_assert_eq(dns_render(out, sizeof(out), &tt, &q, &o), t.len + 11 + 6);
	expect_header(out, 1, DNS_F_QR | DNS_F_RD | DNS_F_RA, 1, 2, 0, 1);
	cr_assert_eq(g16(out + t.len + 1), DNS_TYPE_OPT);
	cr_assert_eq(g32(out + t.len + 5), 0x8000);
	cr_assert_eq(g16(out + t.len + 9), sizeof(ede));
	cr_assert_arr_eq(out + t.len + 11, ede, sizeof(ede));

	o.max_size = t.len + 11 + 6 - 1;
	cr_assert_eq(dns_render(out, sizeof(out), &tt, &q, &o), 29 + 11 + 6, "TC");
	cr_assert(g16(out + 2) & DNS_F_TC);
	cr_assert_arr_eq(out + 29 + 11, ede, sizeof(ede));

	make_query(&q, 1, DNS_F_RD, "example.com", DNS_TYPE_A, 0, 0);
	o.max_size = 512;
	cr_assert_eq(dns_render(out, sizeof(out), &tt, &q, &o), t.len, "no OPT, no EDE");
}

/* ---------------------------------------------------------------- errors: EDE and OPT */

Test(error, ede_bytes_exact)
{
	static const struct {
		enum dns_ede ede;
		uint16_t code;
		const char *text;
	} rows[] = {
		{ DNS_EDE_TIMEOUT, 22, "upstream timeout" },
		{ DNS_EDE_REFUSED, 22, "upstreams refused" },
		{ DNS_EDE_NO_UPSTREAM, 22, "no usable upstream" },
		{ DNS_EDE_NETWORK, 23, "upstream unreachable" },
		{ DNS_EDE_STALE, 3, "" },
		{ DNS_EDE_PROHIBITED, 18, "" },
		{ DNS_EDE_NOT_SUPPORTED, 21, "" },
		{ DNS_EDE_PRIVATE, 0, "private reverse zone (RFC 6303)" },
	};
	struct dns_query q;
	uint8_t out[512];

	cr_assert_eq(sizeof(rows) / sizeof(rows[0]), DNS_EDE_COUNT - 1, "every reason tested");
	make_query(&q, ID, DNS_F_RD | DNS_F_CD, "example.com", DNS_TYPE_A, 1, 0x8000);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t tl = strlen(rows[i].text), n;

		n = dns_build_error(out, sizeof(out), &q, DNS_RCODE_SERVFAIL, rows[i].ede);
		cr_assert_eq(n, 29 + 11 + 6 + tl, "row %zu: %zu bytes", i, n);
		expect_header(out, ID, DNS_F_QR | DNS_F_RD | DNS_F_CD | DNS_F_RA |
		    DNS_RCODE_SERVFAIL, 1, 0, 0, 1);
		cr_assert_eq(g32(out + 29 + 5), 0x8000);
		cr_assert_eq(g16(out + 29 + 9), 6 + tl, "OPT rdlength");
		cr_assert_eq(g16(out + 40), 15, "option code EDE");
		cr_assert_eq(g16(out + 42), 2 + tl, "option length");
		cr_assert_eq(g16(out + 44), rows[i].code, "row %zu: INFO-CODE", i);
		cr_assert(memcmp(out + 46, rows[i].text, tl) == 0, "row %zu: EXTRA-TEXT", i);
	}
	cr_assert_eq(dns_build_error(out, sizeof(out), &q, DNS_RCODE_SERVFAIL, DNS_EDE_NONE), 40);
	cr_assert_eq(dns_build_error(out, sizeof(out), &q, DNS_RCODE_SERVFAIL, DNS_EDE_COUNT), 40,
	    "no such reason: none");
	cr_assert_eq(dns_build_error(out, 29 + 11 + 6 + 15, &q, DNS_RCODE_SERVFAIL,
	    DNS_EDE_TIMEOUT), 0, "cap too small");
}

Test(error, ede_only_to_edns_clients)
{
	struct dns_query q;
	uint8_t out[512];

	make_query(&q, ID, DNS_F_RD, "example.com", DNS_TYPE_A, 0, 0);
	cr_assert_eq(dns_build_error(out, sizeof(out), &q, DNS_RCODE_SERVFAIL, DNS_EDE_TIMEOUT), 29);
	expect_header(out, ID, DNS_F_QR | DNS_F_RD | DNS_F_RA | DNS_RCODE_SERVFAIL, 1, 0, 0, 0);
	/* BADVERS makes an OPT of its own, but the client sent none: no EDE in it */
	cr_assert_eq(dns_build_error(out, sizeof(out), &q, DNS_RCODE_BADVERS, DNS_EDE_TIMEOUT), 40);
	expect_opt(out + 29, 0x01000000);
}

Test(error, formerr_keeps_opt_for_two_questions)
{
	struct pkt p;
	struct dns_query q;
	uint8_t out[512];

	phdr(&p, ID, DNS_F_RD, 2, 0, 0, 1);
	pquestion(&p, "example.com", DNS_TYPE_A);
	pquestion(&p, "example.org", DNS_TYPE_A);
	popt(&p, 4096, 0x8000);
	cr_assert_eq(dns_parse_query(p.b, p.len, &q), -EBADMSG);
	cr_assert_eq(q.edns, 1, "the OPT was found");
	cr_assert_eq(q.edns_do, 1);
	cr_assert_eq(q.edns_size, 4096);
	cr_assert_eq(q.qend, 0);
	cr_assert_eq(dns_build_error(out, sizeof(out), &q, DNS_RCODE_FORMERR, DNS_EDE_NONE), 23);
	expect_header(out, ID, DNS_F_QR | DNS_F_RD | DNS_F_RA | DNS_RCODE_FORMERR, 0, 0, 0, 1);
	expect_opt(out + 12, 0x8000);

	/* qdcount 0 too */
	phdr(&p, ID, 0, 0, 0, 0, 1);
	popt(&p, 1232, 0);
	cr_assert_eq(dns_parse_query(p.b, p.len, &q), -EBADMSG);
	cr_assert_eq(q.edns, 1);
	cr_assert_eq(q.edns_do, 0);
}

Test(error, formerr_keeps_opt_as_far_as_it_can_be_found)
{
	struct pkt p;
	struct dns_query q;

	/* a question name with a forward pointer: unreadable, but skippable */
	phdr(&p, ID, 0, 1, 0, 0, 1);
	p16(&p, 0xc0ff);
	p16(&p, DNS_TYPE_A);
	p16(&p, DNS_CLASS_IN);
	popt(&p, 1232, 0x8000);
	cr_assert_eq(dns_parse_query(p.b, p.len, &q), -EBADMSG);
	cr_assert_eq(q.qend, 0);
	cr_assert_eq(q.edns, 1);
	cr_assert_eq(q.edns_do, 1);

	/* an OPT whose options do not fill it: the client still sent one */
	phdr(&p, ID, 0, 1, 0, 0, 1);
	pquestion(&p, "example.com", DNS_TYPE_A);
	p8(&p, 0);
	p16(&p, DNS_TYPE_OPT);
	p16(&p, 1232);
	p32(&p, 0x8000);
	p16(&p, 3);
	p8(&p, 0);
	p16(&p, 15);
	cr_assert_eq(dns_parse_query(p.b, p.len, &q), -EBADMSG);
	cr_assert_neq(q.qend, 0);
	cr_assert_eq(q.edns, 1);

	/* two OPTs: FORMERR, with the first */
	phdr(&p, ID, 0, 1, 0, 0, 2);
	pquestion(&p, "example.com", DNS_TYPE_A);
	popt(&p, 1500, 0x8000);
	popt(&p, 4096, 0);
	cr_assert_eq(dns_parse_query(p.b, p.len, &q), -EBADMSG);
	cr_assert_eq(q.edns, 1);
	cr_assert_eq(q.edns_size, 1500);
	cr_assert_eq(q.edns_do, 1);

	/* a bad label type before it: the walk stops, no OPT claimed */
	phdr(&p, ID, 0, 1, 1, 0, 1);
	pquestion(&p, "example.com", DNS_TYPE_A);
	p8(&p, 0x40);
	p16(&p, DNS_TYPE_A);
	p16(&p, DNS_CLASS_IN);
	p32(&p, 0);
	p16(&p, 0);
	popt(&p, 1232, 0x8000);
	cr_assert_eq(dns_parse_query(p.b, p.len, &q), -EBADMSG);
	cr_assert_eq(q.edns, 0);

	/* an OPT in the answer section is no client OPT */
	phdr(&p, ID, 0, 1, 1, 0, 0);
	pquestion(&p, "example.com", DNS_TYPE_A);
	popt(&p, 1232, 0x8000);
	cr_assert_eq(dns_parse_query(p.b, p.len, &q), -EBADMSG);
	cr_assert_eq(q.edns, 0);

	/* counts far beyond the bytes: the walk ends at the end */
	phdr(&p, ID, 0, 0xffff, 0xffff, 0xffff, 0xffff);
	pquestion(&p, "example.com", DNS_TYPE_A);
	cr_assert_eq(dns_parse_query(p.b, p.len, &q), -EBADMSG);
	cr_assert_eq(q.edns, 0);
}

Test(error, notimp_keeps_opt)
{
	struct pkt p;
	struct dns_query q;
	uint8_t out[512];

	phdr(&p, ID, OP(5), 1, 0, 0, 1);
	pquestion(&p, "example.com", DNS_TYPE_SOA);
	popt(&p, 1232, 0x8000);
	cr_assert_eq(dns_parse_query(p.b, p.len, &q), -ENOTSUP);
	cr_assert_eq(q.edns, 1);
	cr_assert_eq(dns_build_error(out, sizeof(out), &q, DNS_RCODE_NOTIMP, DNS_EDE_NONE), 23);
	expect_header(out, ID, DNS_F_QR | OP(5) | DNS_F_RA | DNS_RCODE_NOTIMP, 0, 0, 0, 1);
	expect_opt(out + 12, 0x8000);
}

/* ---------------------------------------------------------------- upstream: errors */

Test(upstream, error_reply_without_question)
{
	static const struct {
		uint16_t flags;
		uint16_t id;
		int want;
	} rows[] = {
		{ DNS_F_QR | DNS_RCODE_FORMERR, 99, DNS_ANSWER_ERROR },
		{ DNS_F_QR | DNS_RCODE_SERVFAIL, 99, DNS_ANSWER_ERROR },
		{ DNS_F_QR | DNS_RCODE_NOTIMP, 99, DNS_ANSWER_ERROR },
		{ DNS_F_QR | DNS_F_RA | DNS_RCODE_REFUSED, 99, DNS_ANSWER_ERROR },
		{ DNS_F_QR | DNS_RCODE_NOERROR, 99, DNS_ANSWER_NO },
		{ DNS_F_QR | DNS_RCODE_NXDOMAIN, 99, DNS_ANSWER_NO },
		{ DNS_F_QR | DNS_RCODE_REFUSED, 98, DNS_ANSWER_NO },	/* not our id */
		{ DNS_RCODE_REFUSED, 99, DNS_ANSWER_NO },		/* QR clear */
		{ DNS_F_QR | OP(4) | DNS_RCODE_REFUSED, 99, DNS_ANSWER_NO },
	};
	struct dns_question qq;
	struct pkt p;
	uint8_t a[512];
	size_t n;

	question(&qq, "example.com", DNS_TYPE_A);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		phdr(&p, rows[i].id, rows[i].flags, 0, 0, 0, 0);
		cr_assert_eq(dns_answer_matches(p.b, p.len, 99, &qq), rows[i].want, "row %zu", i);
	}
	phdr(&p, 99, DNS_F_QR | DNS_RCODE_REFUSED, 0, 0, 0, 0);
	cr_assert_eq(dns_answer_matches(p.b, 11, 99, &qq), DNS_ANSWER_NO, "short header");
	n = answer_for(a, 99, "example.com", DNS_TYPE_A);
	cr_assert_eq(dns_answer_matches(a, n, 99, &qq), DNS_ANSWER_YES);
	be_put16(a + 2, DNS_F_QR | DNS_RCODE_REFUSED);
	cr_assert_eq(dns_answer_matches(a, n, 99, &qq), DNS_ANSWER_YES,
	    "a refusal that echoes the question is an answer");
	be_put16(a + 4, 2);
	cr_assert_eq(dns_answer_matches(a, n, 99, &qq), DNS_ANSWER_NO, "qdcount 2");
}

/* ---------------------------------------------------------------- local negative answers */

static const uint8_t zone168[] = { 3, '1', '6', '8', 3, '1', '9', '2', 7, 'i', 'n', '-', 'a',
	'd', 'd', 'r', 4, 'a', 'r', 'p', 'a', 0 };

Test(local, nxdomain_with_the_zones_soa)
{
	static const uint8_t rname[] = { 6, 'n', 'o', 'b', 'o', 'd', 'y', 7, 'i', 'n', 'v',
		'a', 'l', 'i', 'd', 0 };
	struct dns_query q;
	struct dns_cursor c;
	struct dns_template_info info;
	struct trr r;
	uint8_t out[512], name[DNS_NAME_MAX];
	size_t n, qend;

	make_query(&q, ID, DNS_F_RD | DNS_F_CD, "1.0.168.192.In-Addr.Arpa", DNS_TYPE_PTR, 0, 0);
	qend = q.qend;
	n = dns_build_local_nxdomain(out, sizeof(out), &q, zone168, sizeof(zone168));
	cr_assert_gt(n, 0);
	expect_header(out, ID, DNS_F_QR | DNS_F_RD | DNS_F_CD | DNS_F_RA | DNS_RCODE_NXDOMAIN,
	    1, 0, 1, 0);
	expect_question(out, q.q.name, q.q.namelen, DNS_TYPE_PTR);
	dns_cursor_init(&c, out, n, qend);
	read_trr(&c, &r);
	cr_assert(dns_name_equal(r.owner, (size_t)r.ownerlen, zone168, sizeof(zone168)));
	cr_assert_eq(r.type, DNS_TYPE_SOA);
	cr_assert_eq(r.rclass, DNS_CLASS_IN);
	cr_assert_eq(r.ttl, 10800);
	cr_assert_eq(c.pos, n);
	dns_cursor_init(&c, out, n, r.rdata);
	cr_assert_eq(dns_read_name(&c, name), (int)sizeof(zone168));
	cr_assert(dns_name_equal(name, sizeof(zone168), zone168, sizeof(zone168)), "MNAME");
	cr_assert_eq(dns_read_name(&c, name), (int)sizeof(rname));
	cr_assert_arr_eq(name, rname, sizeof(rname));
	cr_assert_eq(dns_get32(&c), 1);
	cr_assert_eq(dns_get32(&c), 3600);
	cr_assert_eq(dns_get32(&c), 1200);
	cr_assert_eq(dns_get32(&c), 604800);
	cr_assert_eq(dns_get32(&c), 10800);
	cr_assert_eq(c.pos, n);

	/* a client caches it as any negative answer */
	cr_assert_eq(tmpl_in_place(out, n, n, &info), (int)n);
	cr_assert_eq(info.negative, 1);
	cr_assert_eq(info.cacheable, 1);
	cr_assert_eq(info.ttl, 10800);

	/* the zone's apex itself */
	make_query(&q, ID, 0, "168.192.in-addr.arpa", DNS_TYPE_SOA, 0, 0);
	cr_assert_gt(dns_build_local_nxdomain(out, sizeof(out), &q, zone168, sizeof(zone168)), 0);
}

Test(local, nxdomain_ede_for_edns_clients)
{
	static const char text[] = "private reverse zone (RFC 6303)";
	struct dns_query q;
	uint8_t out[512];
	size_t n, plain;

	make_query(&q, ID, 0, "1.0.168.192.in-addr.arpa", DNS_TYPE_PTR, 0, 0);
	plain = dns_build_local_nxdomain(out, sizeof(out), &q, zone168, sizeof(zone168));
	make_query(&q, ID, 0, "1.0.168.192.in-addr.arpa", DNS_TYPE_PTR, 1, 0x8000);
	n = dns_build_local_nxdomain(out, sizeof(out), &q, zone168, sizeof(zone168));
	cr_assert_eq(n, plain + 11 + 6 + strlen(text));
	cr_assert_eq(g16(out + 10), 1);
	cr_assert_eq(g32(out + plain + 5), 0x8000, "DO echoed");
	cr_assert_eq(g16(out + plain + 11), 15);
	cr_assert_eq(g16(out + plain + 15), 0, "INFO-CODE Other");
	cr_assert(memcmp(out + plain + 17, text, strlen(text)) == 0);
	cr_assert_eq(dns_build_local_nxdomain(out, n - 1, &q, zone168, sizeof(zone168)), 0);
}

Test(local, nxdomain_refuses_other_zones)
{
	const uint8_t odd[] = { 2, '6', '8', 3, '1', '9', '2', 7, 'i', 'n', '-', 'a', 'd', 'd',
		'r', 4, 'a', 'r', 'p', 'a', 0 };
	struct dns_query q;
	uint8_t out[512];

	make_query(&q, ID, 0, "1.0.168.192.in-addr.arpa", DNS_TYPE_PTR, 0, 0);
	cr_assert_eq(dns_build_local_nxdomain(out, sizeof(out), &q, odd, sizeof(odd)), 0,
	    "a suffix, but not at a label");
	make_query(&q, ID, 0, "1.0.10.in-addr.arpa", DNS_TYPE_PTR, 0, 0);
	cr_assert_eq(dns_build_local_nxdomain(out, sizeof(out), &q, zone168, sizeof(zone168)), 0);
	cr_assert_eq(dns_build_local_nxdomain(out, sizeof(out), &q, zone168, 3), 0, "not a name");
}

/*
 * Names sharing labels in other places, and differing only in case: the
 * compressor must match whole suffixes, byte for byte.
 */
Test(strip, similar_names_not_confused)
{
	static const char *const targets[] = {
		"a.b.example.com", "a.example.com", "b.a.example.com", "b.example.com",
		"B.A.example.com", "b.a.EXAMPLE.com", "a.b.example.com.b.example.com",
	};
	const size_t n = sizeof(targets) / sizeof(targets[0]);
	const uint16_t want[3] = { (uint16_t)n, 0, 0 };
	struct pkt t;
	struct dns_template_info info;

	reply(&t, 0, (uint16_t)(n + 1), 0, 0, DNS_TYPE_NS);
	for (size_t i = 0; i < n; i++)
		pnamerr(&t, NULL, DNS_TYPE_NS, 300, targets[i]);
	pptr(&t, 12);
	prrsig(&t, DNS_TYPE_NS, 300);
	make_tmpl(&t, &info, TMPL_ANY);
	cr_assert_lt(check_strip(&t, 0, want), t.len - 32, "and it compresses");
}

/* ------------------------------------------------- pointers the cache rewrites */

/*
 * Every record's owner, and an NS record's target, as text, read by the
 * project's own parser: "NAME" per owner, "NS>NAME" per target, joined by
 * spaces; "unparsable" if any name or record does not parse.
 */
static void
names_of(const uint8_t *m, size_t len, char *out, size_t size)
{
	struct dns_cursor c;
	uint8_t name[DNS_NAME_MAX];
	char text[1100];
	unsigned total;
	int n;

	out[0] = '\0';
	dns_cursor_init(&c, m, len, 4);
	dns_get16(&c);
	total = dns_get16(&c);
	total += dns_get16(&c);
	total += dns_get16(&c);
	if ((n = dns_read_name(&c, name)) < 0)
		goto bad;
	dns_skip(&c, 4);
	for (unsigned i = 0; i < total; i++) {
		uint16_t type, rdlen;
		size_t rd;

		if ((n = dns_read_name(&c, name)) < 0 ||
		    dns_name_to_text(name, (size_t)n, text, sizeof(text)) < 0)
			goto bad;
		type = dns_get16(&c);
		dns_skip(&c, 6);
		rdlen = dns_get16(&c);
		rd = c.pos;
		if (c.err)
			goto bad;
		snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? " " : "", text);
		if (type == DNS_TYPE_NS) {
			if ((n = dns_read_name(&c, name)) < 0 || c.pos != rd + rdlen ||
			    dns_name_to_text(name, (size_t)n, text, sizeof(text)) < 0)
				goto bad;
			snprintf(out + strlen(out), size - strlen(out), " NS>%s", text);
		}
		dns_cursor_init(&c, m, len, rd);
		dns_skip(&c, rdlen);
	}
	if (!c.err)
		return;
bad:
	snprintf(out, size, "unparsable");
}

struct ptr_case {
	char why[48];		/* an array: Criterion copies the parameters */
	uint16_t id;		/* the upstream's */
	uint8_t target;		/* 0: into the first record's TTL + 1 */
};

static struct ptr_case ptr_cases[] = {
	{ "into the id, which the client's replaces", 0x1200, 1 },
	{ "into a TTL, which counts down", 0x1234, 0 },
};

ParameterizedTestParameters(template, pointers_into_rewritten_bytes)
{
	return cr_make_param_array(struct ptr_case, ptr_cases,
	    sizeof(ptr_cases) / sizeof(ptr_cases[0]));
}

/*
 * A pointer may legally aim at any earlier byte: an upstream's names
 * must read the same from every rendering, whatever the cache writes over
 * the bytes they pointed at (issue 10, defect 1).
 */
ParameterizedTest(struct ptr_case *c, template, pointers_into_rewritten_bytes)
{
	static struct pkt p, t;
	struct dns_template_info info;
	struct dns_query q;
	static uint8_t out[4096];
	static char want[2048], got[2048];
	const uint8_t addr[4] = { 192, 0, 2, 1 };
	uint16_t target;
	size_t n;

	phdr(&p, c->id, DNS_F_QR | DNS_F_RD | DNS_F_RA, 1, 2, 1, 0);
	pquestion(&p, "example.com", DNS_TYPE_A);
	/* the TTL 0x3f016100 holds the name "a." in its last three bytes */
	target = c->target ? c->target : (uint16_t)(p.len + 2 + 4 + 1);
	prr(&p, NULL, DNS_TYPE_A, 0x3f016100, addr, 4);
	p16(&p, 0xc000 | target);
	p16(&p, DNS_TYPE_A);
	p16(&p, DNS_CLASS_IN);
	p32(&p, 300);
	p16(&p, 4);
	pbytes(&p, addr, 4);
	p16(&p, 0xc00c);
	p16(&p, DNS_TYPE_NS);
	p16(&p, DNS_CLASS_IN);
	p32(&p, 300);
	p16(&p, 2);
	p16(&p, 0xc000 | target);
	names_of(p.b, p.len, want, sizeof(want));
	cr_assert_str_neq(want, "unparsable", "the upstream's answer parses");

	t = p;
	n = (size_t)tmpl_in_place(t.b, t.len, sizeof(t.b), &info);
	cr_assert_gt(n, 0);
	t.len = n;
	make_query(&q, 0x3456, DNS_F_RD, "example.com", DNS_TYPE_A, 0, 0);
	for (uint32_t elapsed = 0; elapsed <= 1000; elapsed += 100) {
		n = do_render(out, sizeof(out), &t, &info, elapsed, &q, sizeof(out));
		cr_assert_gt(n, 0);
		names_of(out, n, got, sizeof(got));
		cr_assert_str_eq(got, want, "%s: elapsed %u: [%s], want [%s]", c->why, elapsed,
		    got, want);
	}
}

/*
 * rdata of a type with names that does not parse is refused, in any
 * class: kept as it came, its pointer (here forward, to a TTL of the
 * rewritten message) would name something else once the bytes moved.
 */
Test(template, names_in_rdata_must_parse)
{
	static struct pkt p;
	struct dns_template_info info;
	const uint8_t srv_short[] = { 0, 1, 0, 2, 0 };

	reply(&p, 0, 2, 0, 0, DNS_TYPE_ANY);
	pa(&p, NULL, 300, 1);
	p16(&p, 0xc00c);
	p16(&p, DNS_TYPE_NS);
	p16(&p, 63);			/* a class of no consequence */
	p32(&p, 300);
	p16(&p, 5);
	pbytes(&p, "\x02ns", 3);
	p16(&p, (uint16_t)(0xc000 | (p.len + 2)));	/* forward: not a name here */
	make_tmpl(&p, &info, -EBADMSG);

	reply(&p, 0, 1, 0, 0, 33);
	prr(&p, NULL, 33, 300, srv_short, sizeof(srv_short));
	make_tmpl(&p, &info, -EBADMSG);
}

/* --max-ttl: above it clamped; a TTL with the top bit set is zero, and stays so. */
Test(template, max_ttl_clamp)
{
	struct pkt p;
	struct dns_template_info info;

	reply(&p, 0, 3, 0, 0, DNS_TYPE_A);
	pa(&p, NULL, 300, 1);
	pa(&p, NULL, 50, 2);
	pa(&p, NULL, 0x80000001u, 3);
	make_tmpl(&p, &info, (int)p.len);
	dns_clamp_ttls(p.b, &info, 100);
	cr_assert_eq(g32(p.b + info.ttl_off[0]), 100);
	cr_assert_eq(g32(p.b + info.ttl_off[1]), 50);
	cr_assert_eq(g32(p.b + info.ttl_off[2]), 0x80000001u, "read as 0: not raised to 100");
}
