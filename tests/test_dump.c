/*
 * The cache dump against dump.h: real replies cached, dumped, read back
 * and dumped again; the exact text of each record type; bad lines the
 * parser must drop and recover from; expiry; grep-friendly answer lines;
 * the longest line a template can make; 10,000 random entries.
 */
#include "roles/server/dump.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/be.h"
#include "tests/helpers.h"

#define SEC_AN		0
#define SEC_NS		1
#define SEC_AR		2
#define IN		DNS_CLASS_IN
#define TYPE_SRV	33
#define TYPE_MINFO	14
#define TYPE_PRIVATE	65000
#define STORED		1000	/* when the sample entries are cached */
#define WRITTEN		1795383600	/* 2026-11-22T21:40:00Z */
#define REPLY		(DNS_F_QR | DNS_F_AA | DNS_F_RD | DNS_F_RA)

TestSuite(format, .timeout = 30);
TestSuite(roundtrip, .timeout = 120);
TestSuite(parse, .timeout = 30);

/* A reply under construction; the writers check room so a test bug fails loudly. */
struct msg {
	uint8_t b[DNS_MSG_MAX];
	size_t len;
	size_t rdlen_at;	/* where the open record's rdlength goes */
	int section;
	uint16_t count[3];
};

static void
m8(struct msg *m, uint8_t v)
{
	cr_assert_lt(m->len, sizeof(m->b), "test message full");
	m->b[m->len++] = v;
}

static void
m16(struct msg *m, uint16_t v)
{
	m8(m, (uint8_t)(v >> 8));
	m8(m, (uint8_t)v);
}

static void
m32(struct msg *m, uint32_t v)
{
	m16(m, (uint16_t)(v >> 16));
	m16(m, (uint16_t)v);
}

static void
mbytes(struct msg *m, const void *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		m8(m, ((const uint8_t *)src)[i]);
}

/* text's labels ("" or "." for none), then a pointer to ptr, or the root if ptr is 0. */
static void
mname(struct msg *m, const char *text, size_t ptr)
{
	uint8_t w[DNS_NAME_MAX] = { 0 };
	int n = 1;

	if (text[0] != '\0' && strcmp(text, ".") != 0) {
		n = dns_name_from_text(text, w);
		cr_assert_gt(n, 0, "bad test name %s", text);
	}
	if (ptr == 0) {
		mbytes(m, w, (size_t)n);
		return;
	}
	mbytes(m, w, (size_t)n - 1);
	m16(m, (uint16_t)(0xc000 | ptr));
}

static void
mbegin_wire(struct msg *m, uint16_t flags, const uint8_t *qname, size_t qlen,
    uint16_t qtype, uint16_t qclass)
{
	memset(m, 0, sizeof(*m));
	m16(m, 0x1234);
	m16(m, flags);
	m16(m, 1);
	m16(m, 0);
	m16(m, 0);
	m16(m, 0);
	mbytes(m, qname, qlen);
	m16(m, qtype);
	m16(m, qclass);
}

static void
mbegin(struct msg *m, uint16_t flags, const char *qname, uint16_t qtype, uint16_t qclass)
{
	uint8_t w[DNS_NAME_MAX];
	int n = dns_name_from_text(qname, w);

	cr_assert_gt(n, 0, "bad test name %s", qname);
	mbegin_wire(m, flags, w, (size_t)n, qtype, qclass);
}

/* A record whose owner was just written: type, class, TTL; the rdata comes next. */
static void
mrr(struct msg *m, int section, uint16_t type, uint16_t rclass, uint32_t ttl)
{
	cr_assert_geq(section, m->section, "test records out of section order");
	m->section = section;
	m->count[section]++;
	m16(m, type);
	m16(m, rclass);
	m32(m, ttl);
	m->rdlen_at = m->len;
	m16(m, 0);
}

static void
mend(struct msg *m)
{
	be_put16(m->b + m->rdlen_at, (uint16_t)(m->len - m->rdlen_at - 2));
}

static void
maddr(struct msg *m, int family, const char *text)
{
	uint8_t a[16];

	cr_assert_eq(inet_pton(family, text, a), 1, "bad test address %s", text);
	mbytes(m, a, family == AF_INET ? 4 : 16);
}

static void
mstr(struct msg *m, const void *s, size_t n)
{
	m8(m, (uint8_t)n);
	mbytes(m, s, n);
}

/* The old flat form of an insert: one template, no plain twin, no EDE. */
static int
ins(struct cache *c, const struct cache_key *k, const uint8_t *tmpl, size_t tlen,
    const uint16_t *ttl_off, size_t nttl, int rcode, int neg, uint32_t ttl, uint64_t now)
{
	struct cache_answer a = { .full = { tmpl, tlen, ttl_off, nttl }, .rcode = rcode,
		.negative = neg };

	return cache_insert(c, k, &a, ttl, now);
}

/* The message's template goes into c under its question, live for ttl (0: the template's own). */
static void
cache_msg(struct cache *c, struct msg *m, uint32_t ttl, uint64_t now)
{
	static struct dns_template_info info;
	struct dns_cursor cur;
	struct dns_question q;
	struct cache_key k;
	int n, tlen;

	be_put16(m->b + 6, m->count[SEC_AN]);
	be_put16(m->b + 8, m->count[SEC_NS]);
	be_put16(m->b + 10, m->count[SEC_AR]);
	tlen = tmpl_in_place(m->b, m->len, sizeof(m->b), &info);
	cr_assert_gt(tlen, 0, "test message is no template: %d", tlen);
	memset(&q, 0, sizeof(q));
	dns_cursor_init(&cur, m->b, (size_t)tlen, DNS_HDR_SIZE);
	n = dns_read_name(&cur, q.name);
	q.qtype = dns_get16(&cur);
	q.qclass = dns_get16(&cur);
	cr_assert(n > 0 && !cur.err);
	q.namelen = (uint8_t)n;
	cache_key_from_question(&k, &q);
	cr_assert_eq(ins(c, &k, m->b, (size_t)tlen, info.ttl_off, info.nttl,
	    info.rcode, info.negative, ttl ? ttl : info.ttl, now), 0);
}

/*
 * The sample: one entry for each thing the dump has to get right.
 * Offsets in comments are where the compression pointers aim.
 */
static void
build_sample(struct cache *c)
{
	static struct msg m;
	static const uint8_t bin[] = { 0x00, 0xff, ';', '\n', 0xc0, 0x0c };
	static const uint8_t ctl[] = { 0x00, 0x01, '\t', '\n', 0x7f, 0xff };
	static const uint8_t weird[] = { 3, 'a', ' ', 'b', 3, 'c', '.', 'd', 3, 'e', '\\', 'f',
	    3, 'g', ';', 'h', 3, '"', 'q', '"', 2, 0x00, 0xff, 4, 'T', 'e', 's', 't', 0 };
	char xs[255];
	size_t ns1, mid, www;

	/* www.Example.test.: "Example" at 16; answers, NS, glue, and an OPT to be stripped */
	mbegin(&m, REPLY, "www.Example.test.", DNS_TYPE_A, IN);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_A, IN, 300);
	maddr(&m, AF_INET, "192.0.2.1");
	mend(&m);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_A, IN, 300);
	maddr(&m, AF_INET, "192.0.2.2");
	mend(&m);
	mname(&m, "", 16);
	mrr(&m, SEC_NS, DNS_TYPE_NS, IN, 3600);
	ns1 = m.len;
	mname(&m, "ns1", 16);
	mend(&m);
	mname(&m, "", ns1);
	mrr(&m, SEC_AR, DNS_TYPE_A, IN, 3600);
	maddr(&m, AF_INET, "192.0.2.53");
	mend(&m);
	mname(&m, "", ns1);
	mrr(&m, SEC_AR, DNS_TYPE_AAAA, IN, 3600);
	maddr(&m, AF_INET6, "2001:db8::53");
	mend(&m);
	mname(&m, ".", 0);
	mrr(&m, SEC_AR, DNS_TYPE_OPT, 1232, 0);
	mend(&m);
	cache_msg(c, &m, 0, STORED);

	mbegin(&m, REPLY, "v6.example.test.", DNS_TYPE_AAAA, IN);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_AAAA, IN, 120);
	maddr(&m, AF_INET6, "2001:db8::1");
	mend(&m);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_AAAA, IN, 120);
	maddr(&m, AF_INET6, "::ffff:192.0.2.1");
	mend(&m);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_AAAA, IN, 120);
	maddr(&m, AF_INET6, "::");
	mend(&m);
	cache_msg(c, &m, 0, STORED);

	/* a CNAME chain, every name compressed: "example" at 18 */
	mbegin(&m, REPLY, "alias.example.test.", DNS_TYPE_A, IN);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_CNAME, IN, 600);
	mid = m.len;
	mname(&m, "mid", 18);
	mend(&m);
	mname(&m, "", mid);
	mrr(&m, SEC_AN, DNS_TYPE_CNAME, IN, 600);
	www = m.len;
	mname(&m, "www", 18);
	mend(&m);
	mname(&m, "", www);
	mrr(&m, SEC_AN, DNS_TYPE_A, IN, 300);
	maddr(&m, AF_INET, "192.0.2.1");
	mend(&m);
	cache_msg(c, &m, 0, STORED);

	mbegin(&m, REPLY, "example.test.", DNS_TYPE_MX, IN);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_MX, IN, 3600);
	m16(&m, 10);
	mname(&m, "mail", 12);
	mend(&m);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_MX, IN, 3600);
	m16(&m, 20);
	mname(&m, "mx2.other.test.", 0);
	mend(&m);
	cache_msg(c, &m, 0, STORED);

	memset(xs, 'x', sizeof(xs));
	mbegin(&m, REPLY, "txt.example.test.", DNS_TYPE_TXT, IN);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_TXT, IN, 300);
	mstr(&m, "say \"hi\"", 8);
	mstr(&m, "back\\slash", 10);
	mstr(&m, ctl, sizeof(ctl));
	mstr(&m, "semi;colon", 10);
	mstr(&m, "", 0);
	mstr(&m, "with space", 10);
	mstr(&m, xs, sizeof(xs));
	mend(&m);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_TXT, IN, 300);
	mstr(&m, "v=spf1 -all", 11);
	mend(&m);
	cache_msg(c, &m, 0, STORED);

	/* NXDOMAIN, SOA compressed: "example" at 17; negative TTL min(900, 60) */
	mbegin(&m, REPLY | DNS_RCODE_NXDOMAIN, "nope.example.test.", DNS_TYPE_A, IN);
	mname(&m, "", 17);
	mrr(&m, SEC_NS, DNS_TYPE_SOA, IN, 900);
	mname(&m, "ns1", 17);
	mname(&m, "hostmaster", 17);
	m32(&m, 2024010101);
	m32(&m, 3600);
	m32(&m, 600);
	m32(&m, 86400);
	m32(&m, 60);
	mend(&m);
	cache_msg(c, &m, 0, STORED);

	/* NOERROR without an answer (NODATA), SOA uncompressed */
	mbegin(&m, REPLY, "empty.example.test.", DNS_TYPE_AAAA, IN);
	mname(&m, "example.test.", 0);
	mrr(&m, SEC_NS, DNS_TYPE_SOA, IN, 900);
	mname(&m, "ns1.example.test.", 0);
	mname(&m, "hostmaster.example.test.", 0);
	m32(&m, 7);
	m32(&m, 3600);
	m32(&m, 600);
	m32(&m, 86400);
	m32(&m, 300);
	mend(&m);
	cache_msg(c, &m, 0, STORED);

	/* SRV, once plain and once (against RFC 2782, but seen) compressed: "example" at 22 */
	mbegin(&m, REPLY, "_sip._tcp.example.test.", TYPE_SRV, IN);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, TYPE_SRV, IN, 300);
	m16(&m, 10);
	m16(&m, 60);
	m16(&m, 5060);
	mname(&m, "sip.example.test.", 0);
	mend(&m);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, TYPE_SRV, IN, 300);
	m16(&m, 20);
	m16(&m, 0);
	m16(&m, 5061);
	mname(&m, "sip2", 22);
	mend(&m);
	cache_msg(c, &m, 0, STORED);

	/* a type nobody knows: bytes that look like a pointer must stay bytes */
	mbegin(&m, REPLY, "bin.example.test.", TYPE_PRIVATE, IN);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, TYPE_PRIVATE, IN, 300);
	mbytes(&m, bin, sizeof(bin));
	mend(&m);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, TYPE_PRIVATE, IN, 300);
	mend(&m);
	cache_msg(c, &m, 0, STORED);

	mbegin(&m, REPLY, "1.2.0.192.in-addr.arpa.", DNS_TYPE_PTR, IN);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_PTR, IN, 300);
	mname(&m, "www.example.test.", 0);
	mend(&m);
	cache_msg(c, &m, 0, STORED);

	/* SERVFAIL: no records, kept for a short while */
	mbegin(&m, DNS_F_QR | DNS_F_RD | DNS_F_RA | DNS_RCODE_SERVFAIL, "fail.example.test.",
	    DNS_TYPE_A, IN);
	cache_msg(c, &m, 30, STORED);

	mbegin(&m, REPLY, "version.bind.", DNS_TYPE_TXT, 3);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_TXT, 3, 300);
	mstr(&m, "fdtool", 6);
	mend(&m);
	cache_msg(c, &m, 0, STORED);

	/* MINFO, an RFC 1035 type that may be compressed: "example" at 18 */
	mbegin(&m, REPLY, "minfo.example.test.", TYPE_MINFO, IN);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, TYPE_MINFO, IN, 300);
	mname(&m, "admin", 18);
	mname(&m, "errors", 18);
	mend(&m);
	cache_msg(c, &m, 0, STORED);

	/*
	 * rdata that does not parse as its type: a TXT overrunning (a type
	 * with names that does not parse is refused whole: dns_make_template)
	 */
	mbegin(&m, REPLY, "badtxt.example.test.", DNS_TYPE_TXT, IN);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_TXT, IN, 300);
	mbytes(&m, "\x05" "ab", 3);
	mend(&m);
	cache_msg(c, &m, 0, STORED);

	/* every byte a name may hold that the text form has to escape */
	mbegin_wire(&m, REPLY, weird, sizeof(weird), DNS_TYPE_A, IN);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_A, IN, 300);
	maddr(&m, AF_INET, "192.0.2.9");
	mend(&m);
	cache_msg(c, &m, 0, STORED);

	mbegin(&m, REPLY, ".", DNS_TYPE_NS, IN);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_NS, IN, 518400);
	mname(&m, "a.root-servers.net.", 0);
	mend(&m);
	cache_msg(c, &m, 0, STORED);
}

#define SAMPLE_ENTRIES	16

/* A whole dump, grown until it fits, so -ENOSPC is exercised on the way. */
struct dump {
	char *text;
	size_t cap;
	size_t len;
	uint64_t now;
	size_t entries;
};

static int
count_one(const struct cache_entry *e, void *arg)
{
	(void)e;
	((struct dump *)arg)->entries++;
	return 0;
}

static int
dump_one(const struct cache_entry *e, void *arg)
{
	struct dump *d = arg;
	int n;

	while ((n = dump_format_entry(e, d->now, d->text + d->len, d->cap - d->len)) == -ENOSPC) {
		d->cap *= 2;
		d->text = realloc(d->text, d->cap);
		cr_assert_not_null(d->text);
	}
	cr_assert_geq(n, 0, "dump_format_entry: %d", n);
	cr_assert_eq(strlen(d->text + d->len), (size_t)n, "length is not the text's");
	d->len += (size_t)n;
	return 0;
}

static char *
dump_cache(const struct cache *c, uint64_t now, size_t *len)
{
	struct dump d = { malloc(4096), 4096, 0, now, 0 };
	int n;

	cr_assert_not_null(d.text);
	cache_foreach(c, now, count_one, &d);
	n = dump_format_header(WRITTEN, d.entries, d.text, d.cap);
	cr_assert_gt(n, 0);
	d.len = (size_t)n;
	cache_foreach(c, now, dump_one, &d);
	*len = d.len;
	return d.text;
}

typedef void (*entry_fn)(const struct dump_entry *pe, void *arg);

static struct dump_entry parsed;	/* 77 KB: not on the stack */

/* Every line of text (up to len) into p; fn sees each entry handed back. */
static size_t
feed(struct dump_parser *p, const char *text, size_t len, entry_fn fn, void *arg)
{
	size_t n = 0, pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;

		if (dump_parser_line(p, text + pos, end - pos, &parsed)) {
			if (fn != NULL)
				fn(&parsed, arg);
			n++;
		}
		pos = end + 1;
	}
	return n;
}

static size_t
feed_all(struct dump_parser *p, const char *text, size_t len, entry_fn fn, void *arg)
{
	size_t n = feed(p, text, len, fn, arg);

	if (dump_parser_finish(p, &parsed)) {
		if (fn != NULL)
			fn(&parsed, arg);
		n++;
	}
	cr_assert_eq(dump_parser_finish(p, &parsed), 0, "finish twice gave an entry");
	return n;
}

static struct dump_parser parser;	/* holds an entry: not on the stack either */

/*
 * A template taken apart independently of dump.c: names decompressed,
 * and the rdata of the types that carry names decompressed too.
 */
#define MAXREC	32

struct rec {
	uint8_t owner[DNS_NAME_MAX];
	size_t ownerlen;
	uint16_t type, rclass;
	uint32_t ttl;
	uint8_t rdata[DNS_MSG_MAX];
	size_t rdlen;
};

struct view {
	uint16_t flags;
	uint8_t qname[DNS_NAME_MAX];
	size_t qlen;
	uint16_t qtype, qclass;
	uint16_t count[3];
	size_t nrec;
	struct rec rec[MAXREC];
};

/* Fixed bytes before the names, how many names, fixed bytes after: the types with names. */
static int
name_layout(uint16_t type, size_t *pre, size_t *names, size_t *post)
{
	*pre = *post = 0;
	*names = 1;
	switch (type) {
	case 2: case 3: case 4: case 5: case 7: case 8: case 9: case 12:
		return 1;
	case 14: case 17:
		*names = 2;
		return 1;
	case 15: case 18: case 21:
		*pre = 2;
		return 1;
	case 6:
		*names = 2;
		*post = 20;
		return 1;
	case 33:
		*pre = 6;
		return 1;
	default:
		return 0;
	}
}

static void
decode_rdata(const uint8_t *t, size_t tlen, size_t rd, size_t rdlen, uint16_t type,
    struct rec *r)
{
	struct dns_cursor c;
	size_t pre, names, post, o = 0;

	if (name_layout(type, &pre, &names, &post) && pre <= rdlen) {
		dns_cursor_init(&c, t, tlen, rd);
		memcpy(r->rdata, t + rd, pre);
		o = pre;
		dns_skip(&c, pre);
		for (size_t i = 0; i < names; i++) {
			int n = dns_read_name(&c, r->rdata + o);

			if (n < 0)
				goto raw;
			o += (size_t)n;
		}
		if (c.err || c.pos + post != rd + rdlen)
			goto raw;
		memcpy(r->rdata + o, t + c.pos, post);
		r->rdlen = o + post;
		return;
	}
raw:
	cr_assert_leq(rdlen, sizeof(r->rdata));
	memcpy(r->rdata, t + rd, rdlen);
	r->rdlen = rdlen;
}

static void
decode(const uint8_t *t, size_t tlen, struct view *v)
{
	struct dns_cursor c;
	int n;

	memset(v, 0, offsetof(struct view, rec));
	dns_cursor_init(&c, t, tlen, 2);
	v->flags = dns_get16(&c);
	cr_assert_eq(dns_get16(&c), 1, "qdcount");
	for (int s = 0; s < 3; s++)
		v->count[s] = dns_get16(&c);
	n = dns_read_name(&c, v->qname);
	cr_assert_gt(n, 0);
	v->qlen = (size_t)n;
	v->qtype = dns_get16(&c);
	v->qclass = dns_get16(&c);
	v->nrec = (size_t)v->count[0] + v->count[1] + v->count[2];
	cr_assert_leq(v->nrec, MAXREC);
	for (size_t i = 0; i < v->nrec; i++) {
		struct rec *r = &v->rec[i];
		uint16_t rdlen;
		size_t rd;

		n = dns_read_name(&c, r->owner);
		cr_assert_gt(n, 0);
		r->ownerlen = (size_t)n;
		r->type = dns_get16(&c);
		r->rclass = dns_get16(&c);
		r->ttl = dns_get32(&c);
		rdlen = dns_get16(&c);
		rd = c.pos;
		dns_skip(&c, rdlen);
		cr_assert_eq(c.err, 0, "template record %zu out of bounds", i);
		decode_rdata(t, tlen, rd, rdlen, r->type, r);
	}
	cr_assert_eq(c.err, 0);
}

static uint32_t
left_after(uint32_t ttl, uint64_t elapsed)
{
	if (ttl & 0x80000000u)
		return 0;
	return ttl > elapsed ? (uint32_t)(ttl - elapsed) : 0;
}

static struct view va, vb;

/* A parsed entry against the cache entry it was dumped from, at now. */
static void
assert_same(const struct cache_entry *e, const struct dump_entry *pe, uint64_t now)
{
	uint64_t elapsed = now - e->stored;

	cr_assert_eq(pe->key.namelen, e->namelen, "key name length");
	/* the entry's name may be in the asker's spelling, the key's is folded */
	cr_assert(dns_name_equal(pe->key.name, pe->key.namelen, cache_entry_name(e), e->namelen),
	    "key name");
	cr_assert_eq(pe->key.qtype, e->qtype);
	cr_assert_eq(pe->key.qclass, e->qclass);
	cr_assert_eq(pe->rcode, e->rcode);
	cr_assert_eq(pe->negative, (e->flags & CACHE_F_NEGATIVE) != 0);
	cr_assert_eq(pe->ttl, e->expires - now, "ttl %u, want %llu", pe->ttl,
	    (unsigned long long)(e->expires - now));

	decode(cache_entry_template(e), e->tlen, &va);
	decode(pe->tmpl, pe->tlen, &vb);
	cr_assert_eq(vb.flags & DNS_F_RCODE, e->rcode, "header rcode");
	cr_assert(vb.flags & DNS_F_QR, "QR");
	cr_assert_eq(va.qlen, vb.qlen);
	cr_assert(memcmp(va.qname, vb.qname, va.qlen) == 0, "question spelling");
	cr_assert_eq(va.qtype, vb.qtype);
	cr_assert_eq(va.qclass, vb.qclass);
	for (int s = 0; s < 3; s++)
		cr_assert_eq(va.count[s], vb.count[s], "section %d: %u records, want %u",
		    s, vb.count[s], va.count[s]);
	cr_assert_eq(pe->info.nttl, vb.nrec, "TTL offsets");
	for (size_t i = 0; i < va.nrec; i++) {
		const struct rec *a = &va.rec[i], *b = &vb.rec[i];

		cr_assert_eq(a->ownerlen, b->ownerlen, "record %zu owner", i);
		cr_assert(memcmp(a->owner, b->owner, a->ownerlen) == 0, "record %zu owner", i);
		cr_assert_eq(a->type, b->type, "record %zu type", i);
		cr_assert_eq(a->rclass, b->rclass, "record %zu class", i);
		cr_assert_eq(b->ttl, left_after(a->ttl, elapsed), "record %zu TTL %u from %u",
		    i, b->ttl, a->ttl);
		cr_assert_eq(a->rdlen, b->rdlen, "record %zu (type %u) rdlength %zu, want %zu",
		    i, a->type, b->rdlen, a->rdlen);
		cr_assert(memcmp(a->rdata, b->rdata, a->rdlen) == 0, "record %zu rdata", i);
	}
}

struct check {
	struct cache *orig;
	uint64_t now;
	size_t seen;
};

static void
check_entry(const struct dump_entry *pe, void *arg)
{
	struct check *ck = arg;
	const struct cache_entry *e = cache_lookup(ck->orig, &pe->key, ck->now);

	cr_assert_not_null(e, "parsed an entry the cache does not have");
	assert_same(e, pe, ck->now);
	ck->seen++;
}

static void
insert_entry(const struct dump_entry *pe, void *arg)
{
	struct check *ck = arg;

	cr_assert_eq(ins(ck->orig, &pe->key, pe->tmpl, pe->tlen, pe->info.ttl_off,
	    pe->info.nttl, pe->rcode, pe->negative, pe->ttl, ck->now), 0);
	ck->seen++;
}

/*
 * Load text into c as load-cache would, last entry first: the cache
 * keeps the most recent insert first, so the dump of c comes out in the
 * text's order.
 */
static size_t
reload(struct cache *c, const char *text, size_t len, uint64_t now)
{
	struct check ck = { c, now, 0 };
	size_t *start = malloc(sizeof(size_t) * (len / 8 + 2)), n = 0, end = len;

	cr_assert_not_null(start);
	for (size_t pos = 0; pos < len; pos++)
		if ((pos == 0 || text[pos - 1] == '\n') && strncmp(text + pos, ";entry ", 7) == 0)
			start[n++] = pos;
	dump_parser_init(&parser);
	for (size_t i = n; i > 0; i--) {
		feed(&parser, text + start[i - 1], end - start[i - 1], insert_entry, &ck);
		end = start[i - 1];
	}
	if (dump_parser_finish(&parser, &parsed))
		insert_entry(&parsed, &ck);
	cr_assert_eq(parser.malformed, 0);
	free(start);
	return ck.seen;
}

/* Whether line (without its newline) is a whole line of text. */
static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

#define assert_line(text, line)	\
	cr_assert(has_line(text, line), "no line\n%s\nin\n%s", line, text)

Test(format, header)
{
	static const char want[] = "; fdtool cache dump\n; written 2026-11-22T21:40:00Z\n"
	    "; entries 2\n";
	char buf[128];
	int n;

	n = dump_format_header(WRITTEN, 2, buf, sizeof(buf));
	cr_assert_eq(n, (int)strlen(want));
	cr_assert_str_eq(buf, want);
	n = dump_format_header(0, 0, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_str_eq(buf, "; fdtool cache dump\n; written 1970-01-01T00:00:00Z\n"
	    "; entries 0\n");
	cr_assert_eq(dump_format_header(WRITTEN, 2, buf, strlen(want)), -ENOSPC,
	    "no room for the NUL");
	cr_assert_eq(dump_format_header(WRITTEN, 2, buf, 10), -ENOSPC);
	cr_assert_eq(dump_format_header(WRITTEN, 2, buf, strlen(want) + 1), (int)strlen(want));
}

/* The text of every kind of record, at ten seconds after they were stored. */
Test(format, records)
{
	struct cache *c = cache_new(64);
	char line[1024], xs[256];
	size_t len;
	char *text;

	cr_assert_not_null(c);
	build_sample(c);
	text = dump_cache(c, STORED + 10, &len);
	cr_assert(strncmp(text, "; fdtool cache dump\n; written 2026-11-22T21:40:00Z\n"
	    "; entries 16\n", 64) == 0, "header: %s", text);

	assert_line(text, ";entry www.Example.test. IN A NOERROR ttl=290");
	assert_line(text, "www.Example.test.\t290\tIN\tA\t192.0.2.1");
	assert_line(text, "www.Example.test.\t290\tIN\tA\t192.0.2.2");
	assert_line(text, ";authority Example.test.\t3590\tIN\tNS\tns1.Example.test.");
	assert_line(text, ";additional ns1.Example.test.\t3590\tIN\tA\t192.0.2.53");
	assert_line(text, ";additional ns1.Example.test.\t3590\tIN\tAAAA\t2001:db8::53");
	cr_assert_null(strstr(text, "OPT"), "the OPT was not stripped");

	assert_line(text, "v6.example.test.\t110\tIN\tAAAA\t2001:db8::1");
	assert_line(text, "v6.example.test.\t110\tIN\tAAAA\t::ffff:192.0.2.1");
	assert_line(text, "v6.example.test.\t110\tIN\tAAAA\t::");

	assert_line(text, ";entry alias.example.test. IN A NOERROR ttl=290");
	assert_line(text, "alias.example.test.\t590\tIN\tCNAME\tmid.example.test.");
	assert_line(text, "mid.example.test.\t590\tIN\tCNAME\twww.example.test.");
	assert_line(text, "www.example.test.\t290\tIN\tA\t192.0.2.1");

	assert_line(text, "example.test.\t3590\tIN\tMX\t10 mail.example.test.");
	assert_line(text, "example.test.\t3590\tIN\tMX\t20 mx2.other.test.");

	memset(xs, 'x', 255);
	xs[255] = '\0';
	snprintf(line, sizeof(line), "txt.example.test.\t290\tIN\tTXT\t\"say \\\"hi\\\"\" "
	    "\"back\\\\slash\" \"\\000\\001\\009\\010\\127\\255\" \"semi\\059colon\" \"\" "
	    "\"with space\" \"%s\"", xs);
	assert_line(text, line);
	assert_line(text, "txt.example.test.\t290\tIN\tTXT\t\"v=spf1 -all\"");

	assert_line(text, ";entry nope.example.test. IN A NXDOMAIN ttl=50 negative");
	assert_line(text, ";authority example.test.\t890\tIN\tSOA\tns1.example.test. "
	    "hostmaster.example.test. 2024010101 3600 600 86400 60");
	assert_line(text, ";entry empty.example.test. IN AAAA NOERROR ttl=290 negative");

	assert_line(text, "_sip._tcp.example.test.\t290\tIN\tSRV\t10 60 5060 sip.example.test.");
	assert_line(text, "_sip._tcp.example.test.\t290\tIN\tSRV\t20 0 5061 sip2.example.test.");

	assert_line(text, ";entry bin.example.test. IN TYPE65000 NOERROR ttl=290");
	assert_line(text, "bin.example.test.\t290\tIN\tTYPE65000\t\\# 6 00ff3b0ac00c");
	assert_line(text, "bin.example.test.\t290\tIN\tTYPE65000\t\\# 0");

	assert_line(text, "1.2.0.192.in-addr.arpa.\t290\tIN\tPTR\twww.example.test.");
	assert_line(text, ";entry fail.example.test. IN A SERVFAIL ttl=20");
	assert_line(text, ";entry version.bind. CLASS3 TXT NOERROR ttl=290");
	assert_line(text, "version.bind.\t290\tCLASS3\tTXT\t\"fdtool\"");

	/* decompressed, as RFC 3597 5 wants: admin.example.test. errors.example.test. */
	assert_line(text, "minfo.example.test.\t290\tIN\tTYPE14\t\\# 41 "
	    "0561646d696e076578616d706c650474657374000665"
	    "72726f7273076578616d706c65047465737400");

	assert_line(text, "badtxt.example.test.\t290\tIN\tTXT\t\\# 3 056162");

	assert_line(text, ";entry a\\032b.c\\.d.e\\\\f.g\\059h.\\034q\\034.\\000\\255.Test. "
	    "IN A NOERROR ttl=290");
	assert_line(text, ";entry . IN NS NOERROR ttl=518390");
	assert_line(text, ".\t518390\tIN\tNS\ta.root-servers.net.");
	free(text);
	cache_free(c);
}

struct find {
	const char *name;
	const struct cache_entry *e;
};

static int
find_entry(const struct cache_entry *e, void *arg)
{
	struct find *f = arg;
	uint8_t w[DNS_NAME_MAX];
	int n = dns_name_from_text(f->name, w);

	if (n > 0 && dns_name_equal(cache_entry_name(e), e->namelen, w, (size_t)n)) {
		f->e = e;
		return 1;
	}
	return 0;
}

static const struct cache_entry *
entry_named(const struct cache *c, const char *name, uint64_t now)
{
	struct find f = { name, NULL };

	cache_foreach(c, now, find_entry, &f);
	cr_assert_not_null(f.e, "no entry %s", name);
	return f.e;
}

Test(format, no_space_at_any_size)
{
	struct cache *c = cache_new(64);
	const struct cache_entry *e;
	static char full[65536];
	int n;

	cr_assert_not_null(c);
	build_sample(c);
	e = entry_named(c, "www.example.test.", STORED + 10);
	n = dump_format_entry(e, STORED + 10, full, sizeof(full));
	cr_assert_gt(n, 100);
	/* an exact-size heap buffer each time, so a byte written past it is an ASan error */
	for (size_t size = 0; size <= (size_t)n; size++) {
		char *buf = malloc(size ? size : 1);

		cr_assert_eq(dump_format_entry(e, STORED + 10, buf, size), -ENOSPC,
		    "size %zu of %d", size, n);
		free(buf);
	}
	{
		char *buf = malloc((size_t)n + 1);

		cr_assert_eq(dump_format_entry(e, STORED + 10, buf, (size_t)n + 1), n);
		cr_assert_str_eq(buf, full);
		free(buf);
	}
	cache_free(c);
}

Test(format, bad_templates)
{
	static struct msg m;
	static struct dns_template_info info;
	struct cache *c = cache_new(8);
	struct dns_question q = { .namelen = 0 };
	struct cache_key k, other;
	char buf[4096];
	int tlen;

	cr_assert_not_null(c);
	mbegin(&m, REPLY, "cut.test.", DNS_TYPE_A, IN);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_A, IN, 300);
	maddr(&m, AF_INET, "192.0.2.1");
	mend(&m);
	be_put16(m.b + 6, 1);
	tlen = tmpl_in_place(m.b, m.len, sizeof(m.b), &info);
	cr_assert_gt(tlen, 0);
	q.namelen = (uint8_t)dns_name_from_text("cut.test.", q.name);
	q.qtype = DNS_TYPE_A;
	q.qclass = IN;
	cache_key_from_question(&k, &q);

	/* the record cut short */
	cr_assert_eq(ins(c, &k, m.b, (size_t)tlen - 2, NULL, 0, 0, 0, 60, STORED), 0);
	cr_assert_eq(dump_format_entry(entry_named(c, "cut.test.", STORED), STORED, buf,
	    sizeof(buf)), -EBADMSG);
	/* even when the buffer is too small as well */
	cr_assert_eq(dump_format_entry(entry_named(c, "cut.test.", STORED), STORED, buf, 8),
	    -EBADMSG);
	/* whole, but filed under another name */
	q.namelen = (uint8_t)dns_name_from_text("other.test.", q.name);
	cache_key_from_question(&other, &q);
	cr_assert_eq(ins(c, &other, m.b, (size_t)tlen, info.ttl_off, info.nttl, 0,
	    0, 60, STORED), 0);
	cr_assert_eq(dump_format_entry(entry_named(c, "other.test.", STORED), STORED, buf,
	    sizeof(buf)), -EBADMSG);
	/* a few bytes that are no message */
	cr_assert_eq(ins(c, &k, (const uint8_t *)"\x12\x34\x81", 3, NULL, 0, 0, 0,
	    60, STORED), 0);
	cr_assert_eq(dump_format_entry(entry_named(c, "cut.test.", STORED), STORED, buf,
	    sizeof(buf)), -EBADMSG);
	/* and the good one dumps */
	cr_assert_eq(ins(c, &k, m.b, (size_t)tlen, info.ttl_off, info.nttl, 0, 0, 60,
	    STORED), 0);
	cr_assert_gt(dump_format_entry(entry_named(c, "cut.test.", STORED), STORED, buf,
	    sizeof(buf)), 0);
	cache_free(c);
}

/* A 300 record shows 200 after 100 seconds, a 50 one 0, a top-bit one 0; ttl= goes down. */
Test(format, remaining_ttls)
{
	static struct msg m;
	struct cache *c = cache_new(8);
	struct check ck;
	char *text;
	size_t len;

	cr_assert_not_null(c);
	mbegin(&m, REPLY, "rem.example.test.", DNS_TYPE_A, IN);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_A, IN, 300);
	maddr(&m, AF_INET, "192.0.2.1");
	mend(&m);
	mname(&m, "", 12);
	mrr(&m, SEC_AR, DNS_TYPE_A, IN, 50);
	maddr(&m, AF_INET, "192.0.2.2");
	mend(&m);
	mname(&m, "", 12);
	mrr(&m, SEC_AR, DNS_TYPE_A, IN, 0x80000005u);
	maddr(&m, AF_INET, "192.0.2.3");
	mend(&m);
	cache_msg(c, &m, 300, STORED);

	text = dump_cache(c, STORED + 10, &len);
	assert_line(text, ";entry rem.example.test. IN A NOERROR ttl=290");
	assert_line(text, "rem.example.test.\t290\tIN\tA\t192.0.2.1");
	assert_line(text, ";additional rem.example.test.\t40\tIN\tA\t192.0.2.2");
	assert_line(text, ";additional rem.example.test.\t0\tIN\tA\t192.0.2.3");
	free(text);

	text = dump_cache(c, STORED + 100, &len);
	assert_line(text, ";entry rem.example.test. IN A NOERROR ttl=200");
	assert_line(text, "rem.example.test.\t200\tIN\tA\t192.0.2.1");
	assert_line(text, ";additional rem.example.test.\t0\tIN\tA\t192.0.2.2");
	assert_line(text, ";additional rem.example.test.\t0\tIN\tA\t192.0.2.3");

	ck = (struct check){ c, STORED + 100, 0 };
	dump_parser_init(&parser);
	cr_assert_eq(feed_all(&parser, text, len, check_entry, &ck), 1);
	cr_assert_eq(parsed.ttl, 200);
	free(text);
	cache_free(c);
}

/* Dump, parse, compare; load into a fresh cache, dump again: the same text. */
Test(roundtrip, sample)
{
	struct cache *c = cache_new(64), *fresh = cache_new(64);
	struct check ck = { c, STORED + 10, 0 };
	char *text, *again;
	size_t len, len2;

	cr_assert(c != NULL && fresh != NULL);
	build_sample(c);
	text = dump_cache(c, STORED + 10, &len);
	dump_parser_init(&parser);
	cr_assert_eq(feed_all(&parser, text, len, check_entry, &ck), SAMPLE_ENTRIES);
	cr_assert_eq(ck.seen, SAMPLE_ENTRIES);
	cr_assert_eq(parser.entries, SAMPLE_ENTRIES);
	cr_assert_eq(parser.malformed, 0);
	cr_assert_eq(parser.expired, 0);

	cr_assert_eq(reload(fresh, text, len, STORED + 10), SAMPLE_ENTRIES);
	again = dump_cache(fresh, STORED + 10, &len2);
	cr_assert_eq(len2, len);
	cr_assert_str_eq(again, text);
	free(again);
	free(text);
	cache_free(fresh);
	cache_free(c);
}

/*
 * The longest line there can be: a 64 KiB template that is one TXT record
 * of bytes that each take four characters.  It stays under
 * DUMP_LINE_MAX and comes back whole.
 */
Test(roundtrip, longest_line)
{
	static struct msg m;
	struct cache *c = cache_new(4), *fresh = cache_new(4);
	struct check ck = { c, STORED + 1, 0 };
	size_t len, len2, longest = 0, pos = 0;
	char *text, *again;

	cr_assert(c != NULL && fresh != NULL);
	mbegin(&m, REPLY, "t.", DNS_TYPE_TXT, IN);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_TXT, IN, 2147483647);
	while (m.len < DNS_MSG_MAX) {
		size_t l = DNS_MSG_MAX - m.len - 1;	/* what is left after the length byte */

		if (l > 255)
			l = 255;
		m8(&m, (uint8_t)l);
		for (size_t i = 0; i < l; i++)
			m8(&m, i % 2 ? ';' : 0x01);
	}
	mend(&m);
	cr_assert_eq(m.len, DNS_MSG_MAX);
	cache_msg(c, &m, 0, STORED);

	text = dump_cache(c, STORED + 1, &len);
	while (pos < len) {
		size_t n = (size_t)((char *)memchr(text + pos, '\n', len - pos) - (text + pos));

		if (n > longest)
			longest = n;
		pos += n + 1;
	}
	cr_assert_gt(longest, 250000, "longest line %zu", longest);
	cr_assert_leq(longest, DUMP_LINE_MAX, "longest line %zu", longest);
	dump_parser_init(&parser);
	cr_assert_eq(feed_all(&parser, text, len, check_entry, &ck), 1);
	cr_assert_eq(parser.malformed, 0);
	cr_assert_eq(reload(fresh, text, len, STORED + 1), 1);
	again = dump_cache(fresh, STORED + 1, &len2);
	cr_assert_eq(len2, len);
	cr_assert(memcmp(again, text, len) == 0, "the second dump differs");
	free(again);
	free(text);
	cache_free(fresh);
	cache_free(c);
}

/* The owners of the answer records, in dump order, as text. */
struct owners {
	char (*names)[1024];
	size_t n, cap;
};

static int
collect_owners(const struct cache_entry *e, void *arg)
{
	struct owners *o = arg;

	decode(cache_entry_template(e), e->tlen, &va);
	for (size_t i = 0; i < va.count[SEC_AN]; i++) {
		cr_assert_lt(o->n, o->cap);
		cr_assert_gt(dns_name_to_text(va.rec[i].owner, va.rec[i].ownerlen,
		    o->names[o->n], sizeof(o->names[0])), 0);
		o->n++;
	}
	return 0;
}

/*
 * grep NAME finds the answers: each answer line starts with its owner
 * and a tab, holds no ';' (so nothing reads part of it as a comment)
 * and has exactly five tab-separated fields; every other line is one of
 * the ';' kinds.
 */
Test(format, grep_friendly)
{
	struct cache *c = cache_new(64);
	struct owners o = { calloc(256, 1024), 0, 256 };
	size_t len, pos = 0, answers = 0;
	char *text;

	cr_assert(c != NULL && o.names != NULL);
	build_sample(c);
	text = dump_cache(c, STORED + 10, &len);
	cache_foreach(c, STORED + 10, collect_owners, &o);
	cr_assert_gt(o.n, 20);
	while (pos < len) {
		char *nl = memchr(text + pos, '\n', len - pos), *line = text + pos;
		size_t n, tabs = 0;

		cr_assert_not_null(nl, "last line without a newline");
		n = (size_t)(nl - line);
		pos += n + 1;
		if (line[0] == ';') {
			cr_assert(strncmp(line, "; ", 2) == 0 || strncmp(line, ";entry ", 7) == 0 ||
			    strncmp(line, ";authority ", 11) == 0 ||
			    strncmp(line, ";additional ", 12) == 0, "odd line %.*s", (int)n, line);
			continue;
		}
		cr_assert_null(memchr(line, ';', n), "';' in %.*s", (int)n, line);
		for (size_t i = 0; i < n; i++)
			tabs += line[i] == '\t';
		cr_assert_eq(tabs, 4, "%zu tabs in %.*s", tabs, (int)n, line);
		cr_assert_lt(answers, o.n, "more answer lines than answers");
		cr_assert(strncmp(line, o.names[answers], strlen(o.names[answers])) == 0 &&
		    line[strlen(o.names[answers])] == '\t', "%.*s does not start with %s",
		    (int)n, line, o.names[answers]);
		answers++;
	}
	cr_assert_eq(answers, o.n, "%zu answer lines for %zu answers", answers, o.n);
	free(o.names);
	free(text);
	cache_free(c);
}

#define GOOD	";entry good.test. IN A NOERROR ttl=60\ngood.test.\t60\tIN\tA\t192.0.2.7\n"
#define ENTRY	";entry a.test. IN A NOERROR ttl=100\n"
#define X16	"xxxxxxxxxxxxxxxx"
#define X64	X16 X16 X16 X16
#define X256	X64 X64 X64 X64

static void
check_good(const struct dump_entry *pe, void *arg)
{
	uint8_t w[DNS_NAME_MAX];
	int n = dns_name_from_text("good.test.", w);

	(void)arg;
	cr_assert_eq(pe->key.namelen, n);
	cr_assert(memcmp(pe->key.name, w, (size_t)n) == 0, "not the good entry");
	cr_assert_eq(pe->key.qtype, DNS_TYPE_A);
	cr_assert_eq(pe->ttl, 60);
	decode(pe->tmpl, pe->tlen, &vb);
	cr_assert_eq(vb.count[SEC_AN], 1);
	cr_assert(memcmp(vb.rec[0].rdata, "\xc0\x00\x02\x07", 4) == 0);
}

/* Rows are plain arrays: Criterion runs each in its own process. */
struct bad_row {
	char name[48];
	char text[512];
	int long_line;		/* a line of DUMP_LINE_MAX + 1 bytes inside an entry instead */
};

ParameterizedTestParameters(parse, bad_lines)
{
	static struct bad_row rows[] = {
		{ "record before any entry", "a.test.\t300\tIN\tA\t192.0.2.1\n", 0 },
		{ "TTL abc", ENTRY "a.test.\tabc\tIN\tA\t192.0.2.1\n", 0 },
		{ "negative TTL", ENTRY "a.test.\t-5\tIN\tA\t192.0.2.1\n", 0 },
		{ "TTL over 2^31-1", ENTRY "a.test.\t2147483648\tIN\tA\t192.0.2.1\n", 0 },
		{ "unknown type", ENTRY "a.test.\t300\tIN\tBOGUS\t1\n", 0 },
		{ "TYPE without number", ENTRY "a.test.\t300\tIN\tTYPE\t\\# 0\n", 0 },
		{ "unknown class", ENTRY "a.test.\t300\tXX\tA\t192.0.2.1\n", 0 },
		{ "A 300.1.1.1", ENTRY "a.test.\t300\tIN\tA\t300.1.1.1\n", 0 },
		{ "A with three parts", ENTRY "a.test.\t300\tIN\tA\t192.0.2\n", 0 },
		{ "AAAA garbage", ENTRY "a.test.\t300\tIN\tAAAA\t2001:db8::zz\n", 0 },
		{ "owner label of 64", ENTRY X64 ".test.\t300\tIN\tA\t192.0.2.1\n", 0 },
		{ "rdata name label of 64", ENTRY "a.test.\t300\tIN\tNS\t" X64 ".test.\n", 0 },
		{ "empty label", ENTRY "a..test.\t300\tIN\tA\t192.0.2.1\n", 0 },
		{ "generic length mismatch", ENTRY "a.test.\t300\tIN\tTYPE65000\t\\# 3 abcd\n", 0 },
		{ "generic length x", ENTRY "a.test.\t300\tIN\tTYPE65000\t\\# x 00\n", 0 },
		{ "generic hex too long", ENTRY "a.test.\t300\tIN\tTYPE65000\t\\# 1 0000\n", 0 },
		{ "generic not hex", ENTRY "a.test.\t300\tIN\tTYPE65000\t\\# 2 00zz\n", 0 },
		{ "unknown type in text form", ENTRY "a.test.\t300\tIN\tTYPE65000\tabc\n", 0 },
		{ "TXT unterminated", ENTRY "a.test.\t300\tIN\tTXT\t\"abc\n", 0 },
		{ "TXT string of 256", ENTRY "a.test.\t300\tIN\tTXT\t\"" X256 "\"\n", 0 },
		{ "TXT \\DDD over 255", ENTRY "a.test.\t300\tIN\tTXT\t\"\\256\"\n", 0 },
		{ "TXT empty", ENTRY "a.test.\t300\tIN\tTXT\n", 0 },
		{ "TXT text after the closing quote", ENTRY "a.test.\t300\tIN\tTXT\t\"ab\"cd\n", 0 },
		{ "TXT quote inside a word", ENTRY "a.test.\t300\tIN\tTXT\tab\"cd\"\n", 0 },
		{ "MX without preference", ENTRY "a.test.\t300\tIN\tMX\tmail.test.\n", 0 },
		{ "SOA with 6 fields", ENTRY "a.test.\t300\tIN\tSOA\tns.test. h.test. 1 2 3 4\n", 0 },
		{ "SRV port 65536", ENTRY "a.test.\t300\tIN\tSRV\t1 2 65536 s.test.\n", 0 },
		{ "field left over", ENTRY "a.test.\t300\tIN\tA\t192.0.2.1 192.0.2.2\n", 0 },
		{ "entry without ttl=", ";entry a.test. IN A NOERROR\n"
		  "a.test.\t300\tIN\tA\t192.0.2.1\n", 0 },
		{ "entry with bad rcode", ";entry a.test. IN A NOSUCH ttl=100\n"
		  "a.test.\t300\tIN\tA\t192.0.2.1\n", 0 },
		{ "entry with RCODE16", ";entry a.test. IN A RCODE16 ttl=100\n", 0 },
		{ "entry with unknown keyword", ";entry a.test. IN A NOERROR ttl=100 stale\n"
		  "a.test.\t300\tIN\tA\t192.0.2.1\n", 0 },
		{ "entry ttl= over 32 bits", ";entry a.test. IN A NOERROR ttl=4294967296\n", 0 },
		{ "entry alone", ";entry\n", 0 },
		{ "answer after authority", ENTRY ";authority a.test.\t300\tIN\tNS\tns.test.\n"
		  "a.test.\t300\tIN\tA\t192.0.2.1\n", 0 },
		{ "authority after additional", ENTRY ";additional a.test.\t300\tIN\tA\t192.0.2.1\n"
		  ";authority a.test.\t300\tIN\tNS\tns.test.\n", 0 },
		{ "owner left out", ENTRY "\t300\tIN\tA\t192.0.2.1\n", 0 },
		{ "NUL in a line", ENTRY "a.test.\t300\tIN\tA\t192.0.2.1\0junk\n", 0 },
		{ "A rdata the template refuses", ENTRY "a.test.\t300\tIN\tA\t\\# 3 010203\n", 0 },
		{ "OPT in the answer", ENTRY ".\t0\tCLASS1232\tOPT\t\\# 0\n", 0 },
		{ "over-long line", "", 1 },
	};

	return cr_make_param_array(struct bad_row, rows, sizeof(rows) / sizeof(rows[0]));
}

/*
 * The row's bytes are fed whole: a NUL inside is part of its line.  The
 * good entry behind it must come out, and the bad piece count once.
 */
ParameterizedTest(struct bad_row *row, parse, bad_lines)
{
	size_t len = 0, n;
	char *text;

	if (row->long_line) {
		text = malloc(DUMP_LINE_MAX + 1024);
		cr_assert_not_null(text);
		/* a good record but for the blanks that take it one byte over */
		size_t start = len = (size_t)sprintf(text, "%s", ENTRY);

		len += (size_t)sprintf(text + len, "a.test.\t300\tIN\tA\t192.0.2.1");
		memset(text + len, ' ', DUMP_LINE_MAX + 1 - (len - start));
		len = start + DUMP_LINE_MAX + 1;
		text[len++] = '\n';
	} else {
		text = malloc(sizeof(row->text) + sizeof(GOOD));
		cr_assert_not_null(text);
		/* up to the last newline, so an embedded NUL stays in */
		len = sizeof(row->text);
		while (len > 0 && row->text[len - 1] != '\n')
			len--;
		memcpy(text, row->text, len);
	}
	memcpy(text + len, GOOD, sizeof(GOOD) - 1);
	len += sizeof(GOOD) - 1;

	dump_parser_init(&parser);
	n = feed_all(&parser, text, len, check_good, NULL);
	cr_assert_eq(parser.malformed, 1, "%s: malformed %zu", row->name, parser.malformed);
	cr_assert_eq(n, 1, "%s: %zu entries", row->name, n);
	cr_assert_eq(parser.entries, 1, "%s", row->name);
	cr_assert_eq(parser.expired, 0, "%s", row->name);
	free(text);
}

/* Exactly DUMP_LINE_MAX bytes (blanks at the end) is still a line. */
Test(parse, longest_line)
{
	char *text = malloc(DUMP_LINE_MAX + 128);
	size_t len;

	cr_assert_not_null(text);
	len = (size_t)sprintf(text, ";entry good.test. IN A NOERROR ttl=60\n");
	{
		size_t start = len;

		len += (size_t)sprintf(text + len, "good.test.\t60\tIN\tA\t192.0.2.7");
		memset(text + len, ' ', DUMP_LINE_MAX - (len - start));
		len = start + DUMP_LINE_MAX;
		text[len++] = '\n';
	}
	dump_parser_init(&parser);
	cr_assert_eq(feed_all(&parser, text, len, check_good, NULL), 1);
	cr_assert_eq(parser.malformed, 0);
	free(text);
}

Test(parse, expired)
{
	static const char text[] =
	    ";entry old.test. IN A NOERROR ttl=0\nold.test.\t0\tIN\tA\t192.0.2.1\n" GOOD;
	static struct msg m;
	const struct cache_entry *e;
	struct cache *c = cache_new(8);
	char buf[1024];
	int n;

	dump_parser_init(&parser);
	cr_assert_eq(feed_all(&parser, text, sizeof(text) - 1, check_good, NULL), 1);
	cr_assert_eq(parser.expired, 1);
	cr_assert_eq(parser.malformed, 0);
	cr_assert_eq(parser.entries, 1);

	/* an entry dumped at the second it runs out says ttl=0 and does not come back */
	cr_assert_not_null(c);
	mbegin(&m, REPLY, "soon.test.", DNS_TYPE_A, IN);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_A, IN, 30);
	maddr(&m, AF_INET, "192.0.2.1");
	mend(&m);
	cache_msg(c, &m, 0, STORED);
	e = entry_named(c, "soon.test.", STORED);
	n = dump_format_entry(e, STORED + 30, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert(has_line(buf, ";entry soon.test. IN A NOERROR ttl=0"), "%s", buf);
	cr_assert(has_line(buf, "soon.test.\t0\tIN\tA\t192.0.2.1"), "%s", buf);
	dump_parser_init(&parser);
	cr_assert_eq(feed_all(&parser, buf, (size_t)n, NULL, NULL), 0);
	cr_assert_eq(parser.expired, 1);
	cr_assert_eq(parser.malformed, 0);
	cache_free(c);
}

/*
 * What a person may write by hand: CRLF, comments, blank lines, spaces
 * for tabs, lower case, RFC 3597 for a known type, hex in words, bare TXT
 * words, a name with no trailing dot.
 */
Test(parse, hand_written)
{
	static const char text[] =
	    "; fdtool cache dump\r\n"
	    "\r\n"
	    ";entry Hand.test. in a noerror ttl=77\r\n"
	    "; a comment inside an entry\n"
	    "   \t \n"
	    ";entryx is a comment too\n"
	    "Hand.test   77 in a \\# 4 c0 00 02 01\n"
	    "hand.test.  70 CLASS1 TYPE1 192.0.2.2\n"
	    ";authority hand.test. 60 IN TXT bare words \"and quoted\" \\065\\\"\n"
	    ";additional hand.test. 60 IN MX 5 mx.hand.test.\n"
	    ";entry gone.test. IN AAAA NXDOMAIN ttl=9 negative\n"
	    ";authority test. 9 IN SOA ns.test. h.test. 1 2 3 4 5\n"
	    ";entry x.test. IN A RCODE9 ttl=1\n";
	uint8_t w[DNS_NAME_MAX];
	size_t n = 0, pos = 0, len = sizeof(text) - 1;
	int r;

	dump_parser_init(&parser);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = (size_t)(nl - text);

		r = dump_parser_line(&parser, text + pos, end - pos, &parsed);
		pos = end + 1;
		if (!r)
			continue;
		n++;
		decode(parsed.tmpl, parsed.tlen, &vb);
		if (n == 1) {
			cr_assert_eq(parsed.ttl, 77);
			cr_assert_eq(parsed.rcode, 0);
			cr_assert_eq(parsed.negative, 0);
			cr_assert_eq(dns_name_from_text("hand.test.", w), parsed.key.namelen);
			cr_assert(memcmp(parsed.key.name, w, parsed.key.namelen) == 0, "key folded");
			cr_assert(memcmp(vb.qname, "\x04Hand", 5) == 0, "question spelling");
			cr_assert_eq(vb.count[0], 2);
			cr_assert_eq(vb.count[1], 1);
			cr_assert_eq(vb.count[2], 1);
			cr_assert_eq(vb.rec[0].ttl, 77);
			cr_assert(memcmp(vb.rec[0].rdata, "\xc0\x00\x02\x01", 4) == 0);
			cr_assert(memcmp(vb.rec[0].owner, "\x04Hand", 5) == 0, "owner spelling");
			/*
			 * the owner spelled as the question points at it; the
			 * other keeps its own spelling of the first label
			 */
			cr_assert(memcmp(parsed.tmpl + 27, "\xc0\x0c\x00\x01\x00\x01", 6) == 0,
			    "first owner not a pointer to the question");
			cr_assert(memcmp(parsed.tmpl + 27 + 16, "\x04hand\xc0\x11", 7) == 0,
			    "second owner not its own spelling of hand, then test.");
			cr_assert(memcmp(vb.rec[1].rdata, "\xc0\x00\x02\x02", 4) == 0);
			cr_assert_eq(vb.rec[2].type, DNS_TYPE_TXT);
			cr_assert_eq(vb.rec[2].rdlen, 1 + 4 + 1 + 5 + 1 + 10 + 1 + 2);
			cr_assert(memcmp(vb.rec[2].rdata, "\x04" "bare" "\x05" "words"
			    "\x0a" "and quoted" "\x02" "A\"", 25) == 0, "TXT rdata");
			cr_assert_eq(vb.rec[3].type, DNS_TYPE_MX);
			cr_assert(memcmp(vb.rec[3].rdata, "\x00\x05\x02mx\x04hand\x04test", 15) == 0);
		} else {
			cr_assert_eq(n, 2);
			cr_assert_eq(parsed.rcode, DNS_RCODE_NXDOMAIN);
			cr_assert_eq(parsed.negative, 1);
			cr_assert_eq(parsed.key.qtype, DNS_TYPE_AAAA);
			cr_assert_eq(vb.flags & DNS_F_RCODE, DNS_RCODE_NXDOMAIN);
			cr_assert_eq(vb.count[1], 1);
			cr_assert_eq(vb.rec[0].rdlen, 9 + 8 + 20);
		}
	}
	cr_assert_eq(n, 2);
	cr_assert_eq(dump_parser_finish(&parser, &parsed), 1, "the last entry at the end");
	cr_assert_eq(parsed.rcode, 9);
	decode(parsed.tmpl, parsed.tlen, &vb);
	cr_assert_eq(vb.flags & DNS_F_RCODE, 9);
	cr_assert_eq(parser.entries, 3);
	cr_assert_eq(parser.malformed, 0);
	cr_assert_eq(parser.expired, 0);
}

/* The root as owner is its one byte, not a two-byte pointer to the question. */
Test(parse, root_owner)
{
	static const char text[] = ";entry . IN NS NOERROR ttl=5\n.\t5\tIN\tNS\ta.root.\n";

	dump_parser_init(&parser);
	cr_assert_eq(feed_all(&parser, text, sizeof(text) - 1, NULL, NULL), 1);
	/* header, root question, then the record's root owner and type */
	cr_assert_eq(parsed.tlen, 12 + 5 + 1 + 10 + 8);
	cr_assert(memcmp(parsed.tmpl + 17, "\x00\x00\x02\x00\x01", 5) == 0);
}

/* A run of stray records counts once; so does a damaged entry, however many lines it has. */
Test(parse, counts_once)
{
	static const char text[] =
	    "a.test.\t1\tIN\tA\t192.0.2.1\n"
	    "a.test.\t1\tIN\tA\t192.0.2.1\n"
	    ENTRY "a.test.\tx\tIN\tA\t192.0.2.1\na.test.\ty\tIN\tA\t192.0.2.1\n"
	    "\tleading.blank.\t1\tIN\tA\t192.0.2.1\n"
	    GOOD
	    "a.test.\tz\tIN\tA\t192.0.2.1\n";

	dump_parser_init(&parser);
	cr_assert_eq(feed_all(&parser, text, sizeof(text) - 1, check_good, NULL), 0,
	    "the good entry took a bad line");
	cr_assert_eq(parser.malformed, 3);
}

/* A small deterministic generator: the same 10,000 entries every run. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t
rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dU) >> 32) % n;
}

/* Random labels of any bytes, then the given labels (dotted text). */
static size_t
rand_name(uint8_t *w, const char *tail)
{
	size_t len = 0;
	unsigned labels = rnd(3);
	int n;

	for (unsigned i = 0; i < labels; i++) {
		uint8_t l = (uint8_t)(1 + rnd(12));

		w[len++] = l;
		for (unsigned j = 0; j < l; j++)
			w[len++] = (uint8_t)rnd(256);
	}
	n = dns_name_from_text(tail, w + len);
	cr_assert_gt(n, 0);
	return len + (size_t)n;
}

/* A name in rdata: random and whole, or a label and a pointer to the question. */
static void
rand_rdata_name(struct msg *m)
{
	uint8_t w[DNS_NAME_MAX];

	if (rnd(2)) {
		m8(m, 1);
		m8(m, (uint8_t)('a' + rnd(26)));
		m16(m, 0xc000 | 12);
		return;
	}
	mbytes(m, w, rand_name(w, "r.test."));
}

static const uint16_t rand_types[] = {
	DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_NS, DNS_TYPE_CNAME, DNS_TYPE_PTR, DNS_TYPE_MX,
	DNS_TYPE_TXT, TYPE_SRV, DNS_TYPE_SOA, TYPE_PRIVATE, TYPE_MINFO, 13,
};

static void
rand_record(struct msg *m, int section)
{
	uint16_t type = rand_types[rnd(sizeof(rand_types) / sizeof(rand_types[0]))];
	uint16_t rclass = rnd(10) ? IN : (uint16_t)(2 + rnd(65534));
	uint32_t ttl = rnd(20) ? rnd(0x80000000u) : 0x80000000u | rnd(1000);
	uint8_t w[DNS_NAME_MAX];

	if (rnd(2))
		mname(m, "", 12);
	else
		mbytes(m, w, rand_name(w, "o.test."));
	mrr(m, section, type, rclass, ttl);
	switch (type) {
	case DNS_TYPE_A:
		m32(m, rnd(UINT32_MAX));
		break;
	case DNS_TYPE_AAAA:
		for (int i = 0; i < 4; i++)
			m32(m, rnd(4) ? 0 : rnd(UINT32_MAX));
		break;
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
		rand_rdata_name(m);
		break;
	case DNS_TYPE_MX:
		m16(m, (uint16_t)rnd(65536));
		rand_rdata_name(m);
		break;
	case TYPE_SRV:
		for (int i = 0; i < 3; i++)
			m16(m, (uint16_t)rnd(65536));
		rand_rdata_name(m);
		break;
	case DNS_TYPE_SOA:
		rand_rdata_name(m);
		rand_rdata_name(m);
		for (int i = 0; i < 5; i++)
			m32(m, rnd(UINT32_MAX));
		break;
	case DNS_TYPE_TXT:
		for (unsigned i = 0, n = 1 + rnd(3); i < n; i++) {
			uint8_t l = (uint8_t)rnd(41);

			m8(m, l);
			for (unsigned j = 0; j < l; j++)
				m8(m, (uint8_t)rnd(256));
		}
		break;
	case TYPE_MINFO:
		rand_rdata_name(m);
		rand_rdata_name(m);
		break;
	default:
		for (unsigned i = 0, n = rnd(31); i < n; i++)
			m8(m, (uint8_t)rnd(256));
		break;
	}
	mend(m);
}

#define STRESS	10000

Test(roundtrip, ten_thousand_random)
{
	static struct msg m;
	struct cache *c = cache_new(STRESS), *fresh = cache_new(STRESS);
	const uint64_t now = STORED + 200;
	struct check ck = { c, now, 0 };
	uint8_t q[DNS_NAME_MAX];
	char tail[32], *text, *again;
	size_t len, len2;

	cr_assert(c != NULL && fresh != NULL);
	for (unsigned i = 0; i < STRESS; i++) {
		uint16_t rcode = rnd(10) < 8 ? DNS_RCODE_NOERROR :
		    rnd(2) ? DNS_RCODE_NXDOMAIN : DNS_RCODE_SERVFAIL;
		unsigned an = rcode == DNS_RCODE_NOERROR ? rnd(4) : 0;
		unsigned ns = rnd(3), ar = rnd(3);

		snprintf(tail, sizeof(tail), "E%u.test.", i);
		mbegin_wire(&m, (uint16_t)(DNS_F_QR | DNS_F_RD | DNS_F_RA | rcode), q,
		    rand_name(q, tail), rand_types[rnd(sizeof(rand_types) / sizeof(rand_types[0]))],
		    rnd(10) ? IN : 3);
		for (unsigned j = 0; j < an; j++)
			rand_record(&m, SEC_AN);
		for (unsigned j = 0; j < ns; j++)
			rand_record(&m, SEC_NS);
		for (unsigned j = 0; j < ar; j++)
			rand_record(&m, SEC_AR);
		cache_msg(c, &m, 201 + rnd(1000000), STORED + rnd(101));
	}
	cr_assert_eq(cache_stats(c)->entries, STRESS);

	text = dump_cache(c, now, &len);
	dump_parser_init(&parser);
	cr_assert_eq(feed_all(&parser, text, len, check_entry, &ck), STRESS);
	cr_assert_eq(ck.seen, STRESS);
	cr_assert_eq(parser.malformed, 0);
	cr_assert_eq(parser.expired, 0);

	cr_assert_eq(reload(fresh, text, len, now), STRESS);
	again = dump_cache(fresh, now, &len2);
	cr_assert_eq(len2, len);
	cr_assert(memcmp(again, text, len) == 0, "the second dump differs");
	free(again);
	free(text);
	cache_free(fresh);
	cache_free(c);
}

/* ---------------------------------------------------------------- DNSSEC and CD entries */

/* An RRSIG's rdata (owner and mrr already written); returns where its signer name starts. */
static size_t
mrrsig(struct msg *m, uint16_t covered)
{
	static const uint8_t sig[6] = { 0xc0, 0x0c, 0x01, 0x02, 0x03, 0x04 };
	size_t signer;

	m16(m, covered);
	m8(m, 8);
	m8(m, 3);
	m32(m, 300);
	m32(m, 1800000000);
	m32(m, 1700000000);
	m16(m, 4242);
	signer = m->len;
	mname(m, "example.test.", 0);
	mbytes(m, sig, sizeof(sig));
	mend(m);
	return signer;
}

/*
 * www.example.test. A, signed, AD set; NS named through a pointer into
 * the RRSIG's signer name, with its own RRSIG; glue.  Cached with its
 * plain twin, as the resolver does.
 */
static void
cache_signed(struct cache *c, const struct cache_key *k, uint64_t now)
{
	static struct msg m;
	static struct dns_template_info info, pi;
	static uint8_t plain[DNS_MSG_MAX];
	struct cache_answer a;
	size_t signer, ns1;
	int tlen, plen;

	mbegin(&m, REPLY | DNS_F_AD, "www.example.test.", DNS_TYPE_A, IN);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_A, IN, 300);
	maddr(&m, AF_INET, "192.0.2.1");
	mend(&m);
	mname(&m, "", 12);
	mrr(&m, SEC_AN, DNS_TYPE_RRSIG, IN, 300);
	signer = mrrsig(&m, DNS_TYPE_A);
	mname(&m, "", signer);
	mrr(&m, SEC_NS, DNS_TYPE_NS, IN, 3600);
	ns1 = m.len;
	mname(&m, "ns1", signer);
	mend(&m);
	mname(&m, "", signer);
	mrr(&m, SEC_NS, DNS_TYPE_RRSIG, IN, 3600);
	mrrsig(&m, DNS_TYPE_NS);
	mname(&m, "", ns1);
	mrr(&m, SEC_AR, DNS_TYPE_A, IN, 3600);
	maddr(&m, AF_INET, "192.0.2.53");
	mend(&m);
	be_put16(m.b + 6, m.count[SEC_AN]);
	be_put16(m.b + 8, m.count[SEC_NS]);
	be_put16(m.b + 10, m.count[SEC_AR]);
	tlen = tmpl_in_place(m.b, m.len, sizeof(m.b), &info);
	cr_assert_gt(tlen, 0);
	cr_assert_eq(info.dnssec, 1);
	plen = dns_strip_dnssec(m.b, (size_t)tlen, plain, sizeof(plain), &pi);
	cr_assert_gt(plen, 0);
	a = (struct cache_answer){ .full = { m.b, (size_t)tlen, info.ttl_off, info.nttl },
		.plain = { plain, (size_t)plen, pi.ttl_off, pi.nttl }, .rcode = info.rcode };
	cr_assert_eq(cache_insert(c, k, &a, 300, now), 0);
}

/* A client query, parsed; with edns an OPT, DO as asked. */
static void
client_query(struct dns_query *q, const char *name, uint16_t flags, int edns, int dnssec_ok)
{
	static struct msg m;

	mbegin(&m, flags, name, DNS_TYPE_A, IN);
	if (edns) {
		mname(&m, "", 0);
		mrr(&m, SEC_AR, DNS_TYPE_OPT, 1232, dnssec_ok ? 0x8000 : 0);
		mend(&m);
		be_put16(m.b + 10, 1);
	}
	cr_assert_eq(dns_parse_query(m.b, m.len, q), 0);
}

static size_t
render_entry(const struct cache_entry *e, const struct dns_query *q, uint64_t now,
    uint8_t *out, size_t cap)
{
	struct dns_render_opts o = { .elapsed = (uint32_t)(now - e->stored), .max_size = cap };
	struct dns_tmpl t;
	size_t n;

	cache_entry_tmpl(e, q->edns_do, &t);
	n = dns_render(out, cap, &t, q, &o);
	cr_assert_gt(n, 0);
	return n;
}

static struct dump_load loaded;

static void
load_entry(const struct dump_entry *pe, void *arg)
{
	struct check *ck = arg;

	cr_assert_eq(dump_load_answer(parsed.tmpl, pe->tlen, pe->negative, UINT32_MAX, &loaded), 0);
	cr_assert_eq(cache_insert(ck->orig, &loaded.key, &loaded.answer, pe->ttl, ck->now), 0);
	ck->seen++;
}

/* The same records (names spelled out) and the same flags. */
static void
assert_same_reply(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	decode(a, alen, &va);
	decode(b, blen, &vb);
	cr_assert_eq(va.flags, vb.flags, "flags %#x, %#x", va.flags, vb.flags);
	for (int s = 0; s < 3; s++)
		cr_assert_eq(va.count[s], vb.count[s], "section %d", s);
	for (size_t i = 0; i < va.nrec; i++) {
		cr_assert_eq(va.rec[i].ownerlen, vb.rec[i].ownerlen, "record %zu", i);
		cr_assert(memcmp(va.rec[i].owner, vb.rec[i].owner, va.rec[i].ownerlen) == 0);
		cr_assert_eq(va.rec[i].type, vb.rec[i].type);
		cr_assert_eq(va.rec[i].ttl, vb.rec[i].ttl);
		cr_assert_eq(va.rec[i].rdlen, vb.rec[i].rdlen, "record %zu rdata", i);
		cr_assert(memcmp(va.rec[i].rdata, vb.rec[i].rdata, va.rec[i].rdlen) == 0);
	}
}

/* Dumped and loaded, a signed entry answers DO and non-DO clients as before. */
Test(roundtrip, signed_entry_same_answers)
{
	static uint8_t before[4096], after[4096];
	struct cache *c = cache_new(8), *fresh = cache_new(8);
	struct check ck = { fresh, STORED + 10, 0 };
	struct cache_key k;
	struct dns_query q;
	const struct cache_entry *e, *f;
	size_t len, n1, n2;
	char *text;

	cr_assert(c != NULL && fresh != NULL);
	client_query(&q, "www.example.test.", DNS_F_RD, 0, 0);
	cache_key_from_question(&k, &q.q);
	cache_signed(c, &k, STORED);
	text = dump_cache(c, STORED + 10, &len);
	assert_line(text, ";entry www.example.test. IN A NOERROR ttl=290 ad");
	cr_assert_not_null(strstr(text, "\tRRSIG\t\\# "), "%s", text);
	dump_parser_init(&parser);
	cr_assert_eq(feed_all(&parser, text, len, load_entry, &ck), 1);
	cr_assert_eq(parser.malformed, 0);
	cr_assert(loaded.info.dnssec && loaded.answer.plain.data != NULL, "a twin again");

	for (int i = 0; i < 4; i++) {
		client_query(&q, "www.example.test.", i & 1 ? DNS_F_AD : DNS_F_RD, i >= 2, i >= 2);
		e = cache_lookup(c, &k, STORED + 10);
		f = cache_lookup(fresh, &k, STORED + 10);
		cr_assert(e != NULL && f != NULL);
		n1 = render_entry(e, &q, STORED + 10, before, sizeof(before));
		n2 = render_entry(f, &q, STORED + 10, after, sizeof(after));
		assert_same_reply(before, n1, after, n2);
		cr_assert_eq(vb.count[SEC_AN], i >= 2 ? 2 : 1, "client %d: RRSIG iff DO", i);
		cr_assert_eq((vb.flags & DNS_F_AD) != 0, i != 0, "client %d: AD", i);
	}
	free(text);
	cache_free(fresh);
	cache_free(c);
}

/* A CD=1 entry is dumped with its marker and comes back under a CD key only. */
Test(roundtrip, cd_entry_keeps_its_key)
{
	struct cache *c = cache_new(8), *fresh = cache_new(8);
	struct check ck = { fresh, STORED + 10, 0 };
	struct cache_key k, plain;
	struct dns_query q;
	size_t len;
	char *text;

	cr_assert(c != NULL && fresh != NULL);
	client_query(&q, "www.example.test.", DNS_F_RD | DNS_F_CD, 1, 1);
	cache_key_from_question(&k, &q.q);
	plain = k;
	k.cd = 1;
	cache_signed(c, &k, STORED);
	text = dump_cache(c, STORED + 10, &len);
	assert_line(text, ";entry www.example.test. IN A NOERROR ttl=290 ad cd");
	dump_parser_init(&parser);
	cr_assert_eq(feed_all(&parser, text, len, load_entry, &ck), 1);
	cr_assert_eq(loaded.key.cd, 1);
	cr_assert_null(cache_lookup(fresh, &plain, STORED + 10), "never served to CD=0");
	cr_assert_not_null(cache_lookup(fresh, &k, STORED + 10));
	free(text);
	cache_free(fresh);
	cache_free(c);
}

/* The flags each at most once, in any order; an unknown one drops the entry. */
Test(parse, entry_flags)
{
	static const char good[] = ";entry a.test. IN A NOERROR ttl=5 cd negative ad";
	static const char twice[] = ";entry a.test. IN A NOERROR ttl=5 ad ad";
	static const char unknown[] = ";entry a.test. IN A NOERROR ttl=5 do";

	dump_parser_init(&parser);
	cr_assert_eq(dump_parser_line(&parser, good, strlen(good), &parsed), 0);
	cr_assert_eq(dump_parser_finish(&parser, &parsed), 1);
	cr_assert_eq(parsed.key.cd, 1);
	cr_assert_eq(parsed.negative, 1);
	cr_assert_eq((parsed.tmpl[2] << 8 | parsed.tmpl[3]) & (DNS_F_AD | DNS_F_CD),
	    DNS_F_AD | DNS_F_CD);
	dump_parser_init(&parser);
	dump_parser_line(&parser, twice, strlen(twice), &parsed);
	cr_assert_eq(dump_parser_finish(&parser, &parsed), 0);
	cr_assert_eq(parser.malformed, 1);
	dump_parser_init(&parser);
	dump_parser_line(&parser, unknown, strlen(unknown), &parsed);
	cr_assert_eq(dump_parser_finish(&parser, &parsed), 0);
	cr_assert_eq(parser.malformed, 1);
}
