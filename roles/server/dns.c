/*
 * DNS wire format: a bounds-checked cursor for reading, a bounded writer
 * with the same sticky-error habit, and the few message shapes the stub
 * resolver parses and builds.  Every length that comes off the wire is
 * checked against the buffer before a byte behind it is touched.
 */
#include "roles/server/dns.h"

#include <errno.h>
#include <string.h>

#define DNS_OPT_SIZE	11	/* root owner, type, class, TTL, rdlength 0 */
#define DNS_DO		0x8000	/* in the low 16 bits of the OPT TTL */

void
dns_cursor_init(struct dns_cursor *c, const uint8_t *pkt, size_t len, size_t pos)
{
	c->pkt = pkt;
	c->len = len;
	c->pos = pos;
	c->err = pos > len ? -EBADMSG : 0;
}

/* Whether n more bytes can be read; marks the cursor bad if not. */
static int
cursor_has(struct dns_cursor *c, size_t n)
{
	if (c->err)
		return 0;
	if (c->pos > c->len || n > c->len - c->pos) {
		c->err = -EBADMSG;
		return 0;
	}
	return 1;
}

uint8_t
dns_get8(struct dns_cursor *c)
{
	if (!cursor_has(c, 1))
		return 0;
	return c->pkt[c->pos++];
}

uint16_t
dns_get16(struct dns_cursor *c)
{
	const uint8_t *p;

	if (!cursor_has(c, 2))
		return 0;
	p = c->pkt + c->pos;
	c->pos += 2;
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t
dns_get32(struct dns_cursor *c)
{
	uint32_t hi;

	if (!cursor_has(c, 4))
		return 0;
	hi = dns_get16(c);
	return hi << 16 | dns_get16(c);
}

void
dns_skip(struct dns_cursor *c, size_t n)
{
	if (cursor_has(c, n))
		c->pos += n;
}

/*
 * A pointer must aim strictly before itself: chains of pointers then
 * always move backwards.  Labels move forwards, so a loop through labels
 * is still conceivable; the jump cap and the 255-byte cap end it.
 */
int
dns_read_name(struct dns_cursor *c, uint8_t out[DNS_NAME_MAX])
{
	size_t pos = c->pos, end = 0, outlen = 0;
	unsigned jumps = 0;
	uint8_t b;

	if (c->err)
		return c->err;
	for (;;) {
		if (pos >= c->len)
			goto bad;
		b = c->pkt[pos];
		if ((b & 0xc0) == 0xc0) {
			size_t ptr;

			if (pos + 1 >= c->len)
				goto bad;
			ptr = (size_t)(b & 0x3f) << 8 | c->pkt[pos + 1];
			if (ptr >= pos || ++jumps > DNS_PTR_MAX)
				goto bad;
			if (end == 0)
				end = pos + 2;
			pos = ptr;
			continue;
		}
		if (b & 0xc0)		/* 0x40 extended, 0x80 reserved */
			goto bad;
		if (outlen + 1 + b > DNS_NAME_MAX || (size_t)b + 1 > c->len - pos)
			goto bad;
		memcpy(out + outlen, c->pkt + pos, (size_t)b + 1);
		outlen += (size_t)b + 1;
		pos += (size_t)b + 1;
		if (b == 0)
			break;
	}
	c->pos = end ? end : pos;
	return (int)outlen;
bad:
	c->err = -EBADMSG;
	return -EBADMSG;
}

static uint8_t
fold(uint8_t b)
{
	return b >= 'A' && b <= 'Z' ? (uint8_t)(b + ('a' - 'A')) : b;
}

/* Length bytes are at most 63, below 'A', so folding them is harmless. */
void
dns_name_fold(uint8_t *name, size_t len)
{
	for (size_t i = 0; i < len; i++)
		name[i] = fold(name[i]);
}

int
dns_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return 0;
	for (size_t i = 0; i < alen; i++)
		if (fold(a[i]) != fold(b[i]))
			return 0;
	return 1;
}

/*
 * Length of the uncompressed wire name at p (at most max bytes), or 0 if
 * it is not one: a pointer, a reserved label type, or no root in reach.
 */
static size_t
plain_name_len(const uint8_t *p, size_t max)
{
	size_t n = 0;

	if (max > DNS_NAME_MAX)
		max = DNS_NAME_MAX;
	while (n < max) {
		uint8_t b = p[n];

		if (b & 0xc0 || (size_t)b + 1 > max - n)
			return 0;
		n += (size_t)b + 1;
		if (b == 0)
			return n;
	}
	return 0;
}

static int
plain_char(uint8_t b)
{
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') ||
	    (b >= 'A' && b <= 'Z') || b == '-' || b == '_';
}

/*
 * Everything but letters, digits, '-' and '_' is escaped, so the text is
 * safe to log and to feed back to dns_name_from_text.  A malformed wire
 * name is -EINVAL: callers pass names this file produced or checked.
 */
int
dns_name_to_text(const uint8_t *name, size_t len, char *out, size_t size)
{
	size_t i = 0, o = 0;

	if (len == 0 || plain_name_len(name, len) != len)
		return -EINVAL;
	if (len == 1) {
		if (size < 2)
			return -ENOSPC;
		memcpy(out, ".", 2);
		return 1;
	}
	while (name[i] != 0) {
		size_t l = name[i++];

		for (size_t k = 0; k < l; k++, i++) {
			uint8_t b = name[i];

			if (plain_char(b)) {
				if (size - o < 2)
					return -ENOSPC;
				out[o++] = (char)b;
			} else if (b == '.' || b == '\\') {
				if (size - o < 3)
					return -ENOSPC;
				out[o++] = '\\';
				out[o++] = (char)b;
			} else {
				if (size - o < 5)
					return -ENOSPC;
				out[o++] = '\\';
				out[o++] = (char)('0' + b / 100);
				out[o++] = (char)('0' + b / 10 % 10);
				out[o++] = (char)('0' + b % 10);
			}
		}
		if (size - o < 2)
			return -ENOSPC;
		out[o++] = '.';
	}
	out[o] = '\0';
	return (int)o;
}

static int
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

int
dns_name_from_text(const char *text, uint8_t out[DNS_NAME_MAX])
{
	size_t o = 0, lenpos = 0;
	const char *s = text;

	if (strcmp(text, ".") == 0) {
		out[0] = 0;
		return 1;
	}
	out[0] = 0;
	while (*s) {
		unsigned v;

		if (*s == '.') {
			if (o == lenpos)	/* empty label */
				return -EINVAL;
			out[lenpos] = (uint8_t)(o - lenpos - 1);
			lenpos = o;
			s++;
			continue;
		}
		if (o == lenpos) {
			if (o + 1 >= DNS_NAME_MAX)
				return -EINVAL;
			o++;		/* room for this label's length */
		}
		if (*s != '\\') {
			v = (unsigned char)*s++;
		} else if (is_digit(s[1])) {
			if (!is_digit(s[2]) || !is_digit(s[3]))
				return -EINVAL;
			v = (unsigned)(s[1] - '0') * 100 + (unsigned)(s[2] - '0') * 10 +
			    (unsigned)(s[3] - '0');
			if (v > 255)
				return -EINVAL;
			s += 4;
		} else if (s[1] != '\0') {
			v = (unsigned char)s[1];
			s += 2;
		} else {
			return -EINVAL;
		}
		/* this byte, and the root label still to come */
		if (o - lenpos - 1 >= DNS_LABEL_MAX || o + 1 >= DNS_NAME_MAX)
			return -EINVAL;
		out[o++] = (uint8_t)v;
	}
	if (o == 0)			/* "" */
		return -EINVAL;
	if (o != lenpos) {		/* no trailing dot: close the last label */
		out[lenpos] = (uint8_t)(o - lenpos - 1);
		lenpos = o;
	}
	out[lenpos] = 0;
	return (int)lenpos + 1;
}

/*
 * The writing side: a bounded buffer that, like the cursor, remembers
 * that it ran out, so a builder checks once at the end.
 */
struct wbuf {
	uint8_t *p;
	size_t cap;
	size_t len;
	int full;
};

static void
put_bytes(struct wbuf *w, const void *src, size_t n)
{
	if (w->full || n > w->cap - w->len) {
		w->full = 1;
		return;
	}
	if (n > 0)
		memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void
put16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put_bytes(w, b, sizeof(b));
}

static void
put32(struct wbuf *w, uint32_t v)
{
	put16(w, (uint16_t)(v >> 16));
	put16(w, (uint16_t)v);
}

static void
set16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
peek16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
peek32(const uint8_t *p)
{
	return (uint32_t)peek16(p) << 16 | peek16(p + 2);
}

static void
put_header(struct wbuf *w, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
    uint16_t ns, uint16_t ar)
{
	put16(w, id);
	put16(w, flags);
	put16(w, qd);
	put16(w, an);
	put16(w, ns);
	put16(w, ar);
}

static void
put_question(struct wbuf *w, const struct dns_question *q)
{
	put_bytes(w, q->name, q->namelen);
	put16(w, q->qtype);
	put16(w, q->qclass);
}

/*
 * RFC 8914: what each of our reasons says as an Extended DNS Error.  The
 * text is for people reading a dig output; an empty one is left out.
 */
static const struct {
	uint16_t code;
	const char *text;
} ede_table[DNS_EDE_COUNT] = {
	[DNS_EDE_TIMEOUT] = { 22, "upstream timeout" },
	[DNS_EDE_REFUSED] = { 22, "upstreams refused" },
	[DNS_EDE_NO_UPSTREAM] = { 22, "no usable upstream" },
	[DNS_EDE_NETWORK] = { 23, "upstream unreachable" },
	[DNS_EDE_STALE] = { 3, "" },
	[DNS_EDE_PROHIBITED] = { 18, "" },
	[DNS_EDE_NOT_SUPPORTED] = { 21, "" },
	[DNS_EDE_PRIVATE] = { 0, "private reverse zone (RFC 6303)" },
};

#define DNS_OPT_EDE	15	/* EDNS option code of an Extended DNS Error */

/* Bytes of the EDE option for ede (code, length, INFO-CODE, text); 0 for none. */
static size_t
ede_size(enum dns_ede ede)
{
	if (ede == DNS_EDE_NONE || (unsigned)ede >= DNS_EDE_COUNT)
		return 0;
	return 6 + strlen(ede_table[ede].text);
}

/* RFC 3225: the DO bit of the query is copied into the response. */
static void
put_opt(struct wbuf *w, unsigned rcode, int dnssec_ok, enum dns_ede ede)
{
	static const uint8_t root = 0;
	size_t esize = ede_size(ede);

	put_bytes(w, &root, 1);
	put16(w, DNS_TYPE_OPT);
	put16(w, DNS_EDNS_SIZE);
	put32(w, (uint32_t)(rcode >> 4 & 0xff) << 24 | (dnssec_ok ? DNS_DO : 0));
	put16(w, (uint16_t)esize);
	if (esize == 0)
		return;
	put16(w, DNS_OPT_EDE);
	put16(w, (uint16_t)(esize - 4));
	put16(w, ede_table[ede].code);
	put_bytes(w, ede_table[ede].text, esize - 6);
}

static size_t
wbuf_done(const struct wbuf *w)
{
	return w->full ? 0 : w->len;
}

/*
 * The bits of a query's flags a reply carries over, plus QR and RA; CD
 * is copied (RFC 4035 3.2.2), AA and AD are never ours to set.
 */
static uint16_t
reply_flags(const struct dns_query *q)
{
	return (uint16_t)(DNS_F_QR | DNS_F_RA |
	    (q->flags & (DNS_F_OPCODE | DNS_F_RD | DNS_F_CD)));
}

/* OPT rdata is a run of (code, length, value) options that must fill it exactly. */
static int
opt_options_ok(const uint8_t *p, size_t n)
{
	struct dns_cursor c;

	dns_cursor_init(&c, p, n, 0);
	while (c.pos < c.len && !c.err) {
		dns_get16(&c);
		dns_skip(&c, dns_get16(&c));
	}
	return c.err == 0;
}

/*
 * One resource record at the cursor, checked for bounds; the fields a
 * caller may want come back in rr.
 */
struct rr {
	size_t start;		/* owner's first byte */
	size_t ttl_off;
	size_t rdata;		/* rdata's first byte */
	uint8_t ownerlen;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t rdlen;
};

static int
read_rr(struct dns_cursor *c, struct rr *rr)
{
	uint8_t owner[DNS_NAME_MAX];
	int n;

	rr->start = c->pos;
	if ((n = dns_read_name(c, owner)) < 0)
		return n;
	rr->ownerlen = (uint8_t)n;
	rr->type = dns_get16(c);
	rr->rclass = dns_get16(c);
	rr->ttl_off = c->pos;
	rr->ttl = dns_get32(c);
	rr->rdlen = dns_get16(c);
	rr->rdata = c->pos;
	dns_skip(c, rr->rdlen);
	if (c->err)
		return c->err;
	if (rr->type == DNS_TYPE_OPT &&
	    (rr->ownerlen != 1 || !opt_options_ok(c->pkt + rr->rdata, rr->rdlen)))
		return -EBADMSG;
	return 0;
}

/* Past a name at the cursor without following its pointer: one pass over the bytes. */
static void
skip_name(struct dns_cursor *c)
{
	for (;;) {
		uint8_t b = dns_get8(c);

		if (c->err || b == 0)
			return;
		if ((b & 0xc0) == 0xc0) {
			dns_get8(c);
			return;
		}
		if (b & 0xc0) {
			c->err = -EBADMSG;
			return;
		}
		dns_skip(c, b);
	}
}

static void
take_opt(struct dns_query *q, uint16_t rclass, uint32_t ttl)
{
	q->edns = 1;
	q->edns_size = rclass < DNS_UDP_MIN ? DNS_UDP_MIN : rclass;
	q->edns_version = (uint8_t)(ttl >> 16);
	q->edns_do = (ttl & DNS_DO) != 0;
}

/*
 * After a query was found bad: did the client send an OPT?  RFC 6891 7
 * wants the FORMERR to carry one if so.  Best effort and bounded: the
 * sections are walked by their lengths alone (names skipped, never
 * followed), and the first OPT-shaped record of the additional section
 * counts; the walk ends at the first thing that does not fit.
 */
static void
scan_opt(const uint8_t *pkt, size_t len, const uint16_t count[4], struct dns_query *q)
{
	struct dns_cursor c;
	uint32_t i, before_ar = (uint32_t)count[1] + count[2];
	uint32_t total = before_ar + count[3];

	dns_cursor_init(&c, pkt, len, DNS_HDR_SIZE);
	for (i = 0; i < count[0] && !c.err; i++) {
		skip_name(&c);
		dns_skip(&c, 4);
	}
	for (i = 0; i < total && !c.err; i++) {
		size_t start = c.pos;
		uint16_t type, rclass;
		uint32_t ttl;

		skip_name(&c);
		type = dns_get16(&c);
		rclass = dns_get16(&c);
		ttl = dns_get32(&c);
		dns_skip(&c, dns_get16(&c));
		if (!c.err && type == DNS_TYPE_OPT && i >= before_ar && pkt[start] == 0) {
			take_opt(q, rclass, ttl);
			return;
		}
	}
}

/*
 * Trailing bytes after the last record are accepted and ignored: the
 * query is never forwarded as sent (upstream gets one built from the
 * parsed question), so they cannot smuggle anything, and refusing them
 * would only break clients that pad.  On FORMERR and NOTIMP the OPT, if
 * one can still be found, is noted for the reply (scan_opt).
 */
int
dns_parse_query(const uint8_t *pkt, size_t len, struct dns_query *q)
{
	struct dns_cursor c;
	uint16_t count[4];
	uint32_t total;
	int n;

	memset(q, 0, sizeof(*q));
	if (len < DNS_HDR_SIZE)
		return -EINVAL;
	dns_cursor_init(&c, pkt, len, 0);
	q->id = dns_get16(&c);
	q->flags = dns_get16(&c);
	for (int s = 0; s < 4; s++)
		count[s] = dns_get16(&c);
	if (q->flags & DNS_F_QR)
		return -EINVAL;
	if (q->flags & DNS_F_OPCODE) {
		scan_opt(pkt, len, count, q);
		return -ENOTSUP;
	}
	if (count[0] != 1)
		goto bad;

	n = dns_read_name(&c, q->q.name);
	q->q.qtype = dns_get16(&c);
	q->q.qclass = dns_get16(&c);
	if (n < 0 || c.err) {
		memset(&q->q, 0, sizeof(q->q));
		goto bad;
	}
	q->q.namelen = (uint8_t)n;
	q->qend = c.pos;

	total = (uint32_t)count[1] + count[2] + count[3];
	for (uint32_t i = 0; i < total; i++) {
		struct rr rr;

		if (read_rr(&c, &rr) < 0)
			goto bad;
		if (rr.type != DNS_TYPE_OPT)
			continue;
		if (i < (uint32_t)count[1] + count[2] || q->edns)
			goto bad;
		take_opt(q, rr.rclass, rr.ttl);
	}
	/* a bad version answers BADVERS only if the rest was well formed */
	if (q->edns && q->edns_version > 0)
		return -EPROTONOSUPPORT;
	return 0;
bad:
	if (!q->edns)
		scan_opt(pkt, len, count, q);
	return -EBADMSG;
}

/*
 * An extended rcode (above 15) cannot be said without an OPT, so one is
 * added for it even if the client sent none; the EDE only goes to a
 * client that sent one.
 */
size_t
dns_build_error(uint8_t *out, size_t cap, const struct dns_query *q, int rcode,
    enum dns_ede ede)
{
	struct wbuf w = { out, cap, 0, 0 };
	unsigned rc = (unsigned)rcode & 0xfff;
	int opt = q->edns || rc > 15;
	int question = q->qend != 0 && q->q.namelen > 0;

	put_header(&w, q->id, (uint16_t)(reply_flags(q) | (rc & DNS_F_RCODE)),
	    question ? 1 : 0, 0, 0, opt ? 1 : 0);
	if (question)
		put_question(&w, &q->q);
	if (opt)
		put_opt(&w, rc, q->edns_do, q->edns ? ede : DNS_EDE_NONE);
	return wbuf_done(&w);
}

size_t
dns_build_query(uint8_t *out, size_t cap, uint16_t id, const struct dns_question *q,
    int cd)
{
	struct wbuf w = { out, cap, 0, 0 };

	if (q->namelen == 0 || plain_name_len(q->name, q->namelen) != q->namelen)
		return 0;
	put_header(&w, id, (uint16_t)(DNS_F_RD | (cd ? DNS_F_CD : 0)), 1, 0, 0, 1);
	put_question(&w, q);
	put_opt(&w, 0, 1, DNS_EDE_NONE);
	return wbuf_done(&w);
}

/* The rcodes a server uses to say it will not or cannot answer at all. */
static int
refusal_rcode(unsigned rcode)
{
	return rcode == DNS_RCODE_FORMERR || rcode == DNS_RCODE_SERVFAIL ||
	    rcode == DNS_RCODE_NOTIMP || rcode == DNS_RCODE_REFUSED;
}

int
dns_answer_matches(const uint8_t *pkt, size_t len, uint16_t id,
    const struct dns_question *q)
{
	struct dns_cursor c;
	uint8_t name[DNS_NAME_MAX];
	uint16_t rid, flags, qd, qtype, qclass;
	int n;

	dns_cursor_init(&c, pkt, len, 0);
	rid = dns_get16(&c);
	flags = dns_get16(&c);
	qd = dns_get16(&c);
	dns_skip(&c, 6);
	if (c.err || rid != id || !(flags & DNS_F_QR) || (flags & DNS_F_OPCODE))
		return DNS_ANSWER_NO;
	if (qd == 0)
		return refusal_rcode(flags & DNS_F_RCODE) ? DNS_ANSWER_ERROR : DNS_ANSWER_NO;
	if (qd != 1 || (n = dns_read_name(&c, name)) < 0)
		return DNS_ANSWER_NO;
	qtype = dns_get16(&c);
	qclass = dns_get16(&c);
	return !c.err && qtype == q->qtype && qclass == q->qclass &&
	    dns_name_equal(name, (size_t)n, q->name, q->namelen) ?
	    DNS_ANSWER_YES : DNS_ANSWER_NO;
}

/* A name in rdata must fill exactly what is left of it. */
static int
rdata_name(struct dns_cursor *c, size_t rdend)
{
	uint8_t name[DNS_NAME_MAX];

	return dns_read_name(c, name) >= 0 && c->pos <= rdend;
}

/*
 * The rdata of the types whose layout we know is checked, since a reply
 * we cache is served many times; other types only have to fit.  SOA's
 * TTL and MINIMUM come back in soa_min for the negative TTL.
 */
static int
rdata_ok(const uint8_t *pkt, size_t len, const struct rr *rr, uint32_t *soa_min)
{
	struct dns_cursor c;
	size_t rdend = rr->rdata + rr->rdlen;

	dns_cursor_init(&c, pkt, len, rr->rdata);
	switch (rr->type) {
	case DNS_TYPE_A:
		return rr->rdlen == 4;
	case DNS_TYPE_AAAA:
		return rr->rdlen == 16;
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
		if (!rdata_name(&c, rdend))
			return 0;
		break;
	case DNS_TYPE_MX:
		dns_skip(&c, 2);
		if (!rdata_name(&c, rdend))
			return 0;
		break;
	case DNS_TYPE_SOA:
		if (!rdata_name(&c, rdend) || !rdata_name(&c, rdend))
			return 0;
		dns_skip(&c, 16);	/* serial, refresh, retry, expire */
		*soa_min = dns_get32(&c);
		break;
	default:
		return 1;
	}
	return !c.err && c.pos == rdend;
}

/* RFC 2181 8: a TTL with the top bit set is read as zero. */
static uint32_t
ttl_value(uint32_t ttl)
{
	return ttl & 0x80000000u ? 0 : ttl;
}

/*
 * The DNSSEC records a client without DO does not get (RFC 4035 3.2.1,
 * RFC 5155 for NSEC3), unless its question asks for exactly that type.
 * qtype ANY is no such request: DNSSEC records are meta data that a
 * client says it understands with DO, not with the type it asks for, so
 * an ANY answer loses them too.  DNSKEY is data like any other.
 */
static int
dnssec_only(uint16_t type, uint16_t qtype)
{
	return type != qtype && (type == DNS_TYPE_RRSIG || type == DNS_TYPE_NSEC ||
	    type == DNS_TYPE_NSEC3 || type == DNS_TYPE_DS);
}

/*
 * An extended rcode from upstream would be lost with its OPT and read as
 * a plain one (BADVERS as NOERROR), so the template says SERVFAIL.  AA is
 * cleared: whoever asks us gets it from a cache, not from the authority.
 */
int
dns_make_template(uint8_t *pkt, size_t len, struct dns_template_info *info)
{
	struct dns_cursor c;
	uint8_t name[DNS_NAME_MAX];
	uint16_t flags, qd, an, ns, ar, qtype;
	uint32_t total, i, minttl = UINT32_MAX, anttl = UINT32_MAX, negttl = 0;
	size_t ar_start = 0, opt_start = 0, end;
	uint16_t ar_nttl = 0;
	int n, have_soa = 0, have_opt = 0, opt_last = 0, dnssec = 0, dnssec_ar = 0;
	unsigned ext_rcode = 0;

	memset(info, 0, sizeof(*info));
	if (len < DNS_HDR_SIZE || len > DNS_MSG_MAX)
		return -EBADMSG;
	dns_cursor_init(&c, pkt, len, 2);
	flags = dns_get16(&c);
	qd = dns_get16(&c);
	an = dns_get16(&c);
	ns = dns_get16(&c);
	ar = dns_get16(&c);
	/* dns_render rewrites the question in place: it must be there, uncompressed */
	if (!(flags & DNS_F_QR) || qd != 1)
		return -EBADMSG;
	if ((n = dns_read_name(&c, name)) < 0 || c.pos != DNS_HDR_SIZE + (size_t)n)
		return -EBADMSG;
	qtype = dns_get16(&c);
	dns_skip(&c, 2);
	if (c.err)
		return -EBADMSG;

	total = (uint32_t)an + ns + ar;
	for (i = 0; i < total; i++) {
		struct rr rr;
		uint32_t soa_min = 0;

		if (i == (uint32_t)an + ns) {
			ar_start = c.pos;
			ar_nttl = info->nttl;
		}
		if (read_rr(&c, &rr) < 0 || !rdata_ok(pkt, len, &rr, &soa_min))
			return -EBADMSG;
		if (rr.type == DNS_TYPE_OPT) {
			if (i < (uint32_t)an + ns || have_opt)
				return -EBADMSG;
			have_opt = 1;
			opt_last = i == total - 1;
			opt_start = rr.start;
			ext_rcode = rr.ttl >> 24;
			continue;
		}
		if (info->nttl == DNS_TTLS_MAX)
			return -E2BIG;
		info->ttl_off[info->nttl++] = (uint16_t)rr.ttl_off;
		if (i >= (uint32_t)an + ns) {
			dnssec_ar |= dnssec_only(rr.type, qtype);
			continue;
		}
		dnssec |= dnssec_only(rr.type, qtype);
		if (ttl_value(rr.ttl) < minttl)
			minttl = ttl_value(rr.ttl);
		if (i < an && ttl_value(rr.ttl) < anttl)
			anttl = ttl_value(rr.ttl);
		if (i >= an && rr.type == DNS_TYPE_SOA && !have_soa) {
			have_soa = 1;
			negttl = ttl_value(rr.ttl);
			if (ttl_value(soa_min) < negttl)
				negttl = ttl_value(soa_min);
		}
	}
	end = c.pos;			/* trailing bytes are not part of the template */
	if (have_opt && opt_last) {
		end = opt_start;
		set16(pkt + 10, (uint16_t)(ar - 1));
	} else if (have_opt) {
		end = ar_start;
		info->nttl = ar_nttl;
		dnssec_ar = 0;
		set16(pkt + 10, 0);
	}

	flags &= (uint16_t)~DNS_F_AA;
	set16(pkt + 2, flags);
	info->ad = (flags & DNS_F_AD) != 0;
	info->dnssec = dnssec || dnssec_ar;
	info->rcode = flags & DNS_F_RCODE;
	if (ext_rcode) {
		info->rcode = DNS_RCODE_SERVFAIL;
		set16(pkt + 2, (uint16_t)((flags & ~DNS_F_RCODE) | DNS_RCODE_SERVFAIL));
	}
	info->truncated = (flags & DNS_F_TC) != 0;
	info->negative = info->rcode == DNS_RCODE_NXDOMAIN ||
	    (info->rcode == DNS_RCODE_NOERROR && an == 0);
	if (info->truncated || (info->rcode != DNS_RCODE_NOERROR &&
	    info->rcode != DNS_RCODE_NXDOMAIN)) {
		info->cacheable = 0;
	} else if (info->negative) {
		/* RFC 2308 5; records of a CNAME chain must not outlive their TTL either */
		info->cacheable = have_soa;
		info->ttl = have_soa ? (negttl < anttl ? negttl : anttl) : 0;
	} else {
		info->cacheable = 1;
		info->ttl = minttl;
	}
	return (int)end;
}

/* Every TTL offset must name four bytes inside the template, behind the question. */
static int
ttl_offsets_ok(const uint16_t *ttl_off, size_t nttl, size_t qend, size_t tlen)
{
	for (size_t i = 0; i < nttl; i++)
		if (ttl_off[i] < qend || (size_t)ttl_off[i] + 4 > tlen)
			return 0;
	return 1;
}

/*
 * AA is never ours; AD only for a client that says it understands it
 * (AD or DO in its query, RFC 6840 5.7); CD and RD are the client's.
 */
static uint16_t
render_flags(uint16_t tflags, const struct dns_query *q)
{
	uint16_t flags = (uint16_t)((tflags & ~(DNS_F_RD | DNS_F_AA | DNS_F_AD | DNS_F_CD)) |
	    DNS_F_RA | (q->flags & (DNS_F_RD | DNS_F_CD)));

	if ((tflags & DNS_F_AD) && ((q->flags & DNS_F_AD) || q->edns_do))
		flags |= DNS_F_AD;
	return flags;
}

size_t
dns_render(uint8_t *out, size_t cap, const struct dns_tmpl *t,
    const struct dns_query *q, const struct dns_render_opts *o)
{
	struct wbuf w = { out, cap, 0, 0 };
	const uint8_t *tmpl = t->data;
	size_t tlen = t->len, namelen, qend, full;
	enum dns_ede ede = q->edns ? o->ede : DNS_EDE_NONE;
	uint16_t flags, ar;

	if (tmpl == NULL || tlen < DNS_HDR_SIZE || peek16(tmpl + 4) != 1 ||
	    (t->nttl > 0 && t->ttl_off == NULL))
		return 0;
	namelen = plain_name_len(tmpl + DNS_HDR_SIZE, tlen - DNS_HDR_SIZE);
	qend = DNS_HDR_SIZE + namelen + 4;
	/* the template is for this name: only the spelling may differ */
	if (namelen == 0 || qend > tlen ||
	    !dns_name_equal(tmpl + DNS_HDR_SIZE, namelen, q->q.name, q->q.namelen) ||
	    !ttl_offsets_ok(t->ttl_off, t->nttl, qend, tlen))
		return 0;
	flags = render_flags(peek16(tmpl + 2), q);
	ar = peek16(tmpl + 10);
	full = tlen + (q->edns ? DNS_OPT_SIZE + ede_size(ede) : 0);

	if (full > o->max_size || (q->edns && ar == UINT16_MAX)) {
		put_header(&w, q->id, flags | DNS_F_TC, 1, 0, 0, q->edns ? 1 : 0);
		put_bytes(&w, q->q.name, q->q.namelen);
		put_bytes(&w, tmpl + DNS_HDR_SIZE + namelen, 4);
		if (q->edns)
			put_opt(&w, 0, q->edns_do, ede);
		return wbuf_done(&w);
	}

	put_bytes(&w, tmpl, tlen);
	if (q->edns)
		put_opt(&w, 0, q->edns_do, ede);
	if (w.full)
		return 0;
	set16(out, q->id);
	set16(out + 2, flags);
	if (q->edns)
		set16(out + 10, (uint16_t)(ar + 1));
	memcpy(out + DNS_HDR_SIZE, q->q.name, namelen);
	for (size_t i = 0; i < t->nttl; i++) {
		uint8_t *p = out + t->ttl_off[i];
		uint32_t ttl = ttl_value(peek32(p));

		if (o->stale_ttl)
			ttl = o->stale_ttl;
		else
			ttl = ttl > o->elapsed ? ttl - o->elapsed : 0;
		set16(p, (uint16_t)(ttl >> 16));
		set16(p + 2, (uint16_t)ttl);
	}
	return w.len;
}

/*
 * Name compression for dns_strip_dnssec.  Each entry is one label written
 * to the output at off, followed by the name of entry parent (-1: the
 * root), so a name is matched from its last label towards its first.
 * Labels compare byte for byte, case included, so every name reads back
 * exactly as it was spelled.  The table is small and bounded; a name
 * that finds no room in it is still written, only not pointed at later.
 */
#define CZ_MAX	128

struct compressor {
	struct {
		uint16_t off;
		int16_t parent;
	} e[CZ_MAX];
	int n;
};

/*
 * name (uncompressed wire form, len bytes) at the writer's end: its longest
 * suffix already written becomes a pointer; with compress 0 (a type RFC
 * 3597 4 does not let us compress) it is written whole and not remembered.
 */
static void
put_cname(struct wbuf *w, struct compressor *cz, const uint8_t *name, size_t len,
    int compress)
{
	size_t lab[DNS_NAME_MAX / 2 + 1], nl = 0, pos = 0, start = w->len, literal;
	int cur = -1, keep, parent;

	while (pos < len && name[pos] != 0) {
		lab[nl++] = pos;
		pos += 1 + (size_t)name[pos];
	}
	keep = (int)nl;
	while (compress && keep > 0) {
		const uint8_t *l = name + lab[keep - 1];
		int i;

		for (i = 0; i < cz->n; i++)
			if (cz->e[i].parent == cur && w->p[cz->e[i].off] == l[0] &&
			    memcmp(w->p + cz->e[i].off + 1, l + 1, l[0]) == 0)
				break;
		if (i == cz->n)
			break;
		cur = i;
		keep--;
	}
	literal = (size_t)keep < nl ? lab[keep] : len;
	put_bytes(w, name, literal);
	if (cur >= 0)
		put16(w, (uint16_t)(0xc000 | cz->e[cur].off));
	if (!compress || w->full)
		return;
	parent = cur;
	for (int j = keep - 1; j >= 0; j--) {
		size_t off = start + lab[j];

		if (off > 0x3fff || cz->n == CZ_MAX)
			break;
		cz->e[cz->n].off = (uint16_t)off;
		cz->e[cz->n].parent = (int16_t)parent;
		parent = cz->n++;
	}
}

/*
 * The rdata with names in them, as dump.c lists them: 'n' name, '2' and
 * '4' 16- and 32-bit numbers, 's' a character-string.  compress: the RFC
 * 1035 types, whose names may be compressed; the others (RFC 3597 4)
 * are read whatever the upstream did and written uncompressed.  Every
 * other type is copied as it is: its names, if any, were never
 * compressed (RFC 3597, RFC 4034 for RRSIG and NSEC).
 */
static const struct {
	uint16_t type;
	uint8_t compress;
	const char *layout;
} name_rdata[] = {
	{ DNS_TYPE_NS, 1, "n" }, { 3, 1, "n" }, { 4, 1, "n" },		/* MD, MF */
	{ DNS_TYPE_CNAME, 1, "n" }, { DNS_TYPE_SOA, 1, "nn44444" },
	{ 7, 1, "n" }, { 8, 1, "n" }, { 9, 1, "n" },			/* MB, MG, MR */
	{ DNS_TYPE_PTR, 1, "n" }, { 14, 1, "nn" },			/* MINFO */
	{ DNS_TYPE_MX, 1, "2n" },
	{ 17, 0, "nn" }, { 18, 0, "2n" }, { 21, 0, "2n" },		/* RP, AFSDB, RT */
	{ 26, 0, "2nn" }, { 33, 0, "222n" }, { 35, 0, "22sssn" },	/* PX, SRV, NAPTR */
};

/*
 * Walk rdata by layout: check only (w NULL), or write it.  Returns 0 if
 * the fields fill the rdata exactly, else -EBADMSG.
 */
static int
walk_rdata(const char *layout, int compress, const uint8_t *pkt, size_t len,
    const struct rr *rr, struct wbuf *w, struct compressor *cz)
{
	struct dns_cursor c;
	size_t rdend = rr->rdata + rr->rdlen;

	dns_cursor_init(&c, pkt, len, rr->rdata);
	for (const char *f = layout; *f != '\0'; f++) {
		uint8_t name[DNS_NAME_MAX];
		size_t start = c.pos;
		int n;

		switch (*f) {
		case 'n':
			if ((n = dns_read_name(&c, name)) < 0 || c.pos > rdend)
				return -EBADMSG;
			if (w != NULL)
				put_cname(w, cz, name, (size_t)n, compress);
			continue;
		case '2':
			dns_skip(&c, 2);
			break;
		case '4':
			dns_skip(&c, 4);
			break;
		default:
			dns_skip(&c, dns_get8(&c));
			break;
		}
		if (c.err || c.pos > rdend)
			return -EBADMSG;
		if (w != NULL)
			put_bytes(w, pkt + start, c.pos - start);
	}
	return c.pos == rdend ? 0 : -EBADMSG;
}

/* One record, its owner and any names in its rdata compressed anew. */
static int
put_stripped_rr(struct wbuf *w, struct compressor *cz, const uint8_t *pkt, size_t len,
    const struct rr *rr)
{
	struct dns_cursor c;
	uint8_t owner[DNS_NAME_MAX];
	size_t rdlen_at, rd;
	int n;

	dns_cursor_init(&c, pkt, len, rr->start);
	if ((n = dns_read_name(&c, owner)) < 0)
		return -EBADMSG;
	put_cname(w, cz, owner, (size_t)n, 1);
	put16(w, rr->type);
	put16(w, rr->rclass);
	put32(w, rr->ttl);
	rdlen_at = w->len;
	put16(w, 0);
	rd = w->len;
	for (size_t i = 0; i < sizeof(name_rdata) / sizeof(name_rdata[0]); i++) {
		if (name_rdata[i].type != rr->type)
			continue;
		if (walk_rdata(name_rdata[i].layout, 0, pkt, len, rr, NULL, NULL) == 0) {
			walk_rdata(name_rdata[i].layout, name_rdata[i].compress, pkt, len, rr,
			    w, cz);
			goto done;
		}
		break;
	}
	/* opaque, or not what its type says: as it came */
	put_bytes(w, pkt + rr->rdata, rr->rdlen);
done:
	if (w->full)
		return -ENOSPC;
	if (w->len - rd > UINT16_MAX)
		return -EBADMSG;
	set16(w->p + rdlen_at, (uint16_t)(w->len - rd));
	return 0;
}

/*
 * Written record by record into out, then made a template of its own by
 * dns_make_template, which checks the result and finds its TTLs.
 */
int
dns_strip_dnssec(const uint8_t *tmpl, size_t tlen, uint8_t *out, size_t cap,
    struct dns_template_info *pinfo)
{
	struct wbuf w = { out, cap, 0, 0 };
	struct compressor cz;
	struct dns_cursor c;
	uint16_t count[3], kept[3] = { 0, 0, 0 }, qtype;
	size_t namelen;
	int r;

	if (tlen < DNS_HDR_SIZE || tlen > DNS_MSG_MAX || peek16(tmpl + 4) != 1)
		return -EBADMSG;
	namelen = plain_name_len(tmpl + DNS_HDR_SIZE, tlen - DNS_HDR_SIZE);
	if (namelen == 0 || DNS_HDR_SIZE + namelen + 4 > tlen)
		return -EBADMSG;
	for (int s = 0; s < 3; s++)
		count[s] = peek16(tmpl + 6 + 2 * s);
	qtype = peek16(tmpl + DNS_HDR_SIZE + namelen);

	cz.n = 0;
	put_bytes(&w, tmpl, DNS_HDR_SIZE);
	put_cname(&w, &cz, tmpl + DNS_HDR_SIZE, namelen, 1);
	put_bytes(&w, tmpl + DNS_HDR_SIZE + namelen, 4);
	dns_cursor_init(&c, tmpl, tlen, DNS_HDR_SIZE + namelen + 4);
	for (int s = 0; s < 3; s++)
		for (unsigned i = 0; i < count[s]; i++) {
			struct rr rr;

			if (read_rr(&c, &rr) < 0)
				return -EBADMSG;
			if (dnssec_only(rr.type, qtype))
				continue;
			if ((r = put_stripped_rr(&w, &cz, tmpl, tlen, &rr)) < 0)
				return r;
			kept[s]++;
		}
	if (w.full)
		return -ENOSPC;
	for (int s = 0; s < 3; s++)
		set16(out + 6 + 2 * s, kept[s]);
	if (w.len > DNS_MSG_MAX)
		return -ENOSPC;
	r = dns_make_template(out, w.len, pinfo);
	return r == -E2BIG ? -EBADMSG : r;
}

/*
 * RFC 6303 4: the zone's SOA with our own names in it.  Owner and MNAME
 * point at the zone inside the question, which q's name ends with.
 */
size_t
dns_build_local_nxdomain(uint8_t *out, size_t cap, const struct dns_query *q,
    const uint8_t *zone, size_t zonelen)
{
	static const uint8_t rname[] = { 6, 'n', 'o', 'b', 'o', 'd', 'y',
		7, 'i', 'n', 'v', 'a', 'l', 'i', 'd', 0 };
	struct wbuf w = { out, cap, 0, 0 };
	size_t at, pos = 0;
	uint16_t zptr;

	if (q->qend == 0 || q->q.namelen == 0 || zone == NULL || zonelen == 0 ||
	    zonelen > q->q.namelen || plain_name_len(zone, zonelen) != zonelen)
		return 0;
	at = (size_t)q->q.namelen - zonelen;
	while (pos < at && q->q.name[pos] != 0)
		pos += 1 + (size_t)q->q.name[pos];
	if (pos != at || !dns_name_equal(q->q.name + at, zonelen, zone, zonelen))
		return 0;
	zptr = (uint16_t)(0xc000 | (DNS_HDR_SIZE + at));

	put_header(&w, q->id, (uint16_t)(reply_flags(q) | DNS_RCODE_NXDOMAIN), 1, 0, 1,
	    q->edns ? 1 : 0);
	put_question(&w, &q->q);
	put16(&w, zptr);
	put16(&w, DNS_TYPE_SOA);
	put16(&w, DNS_CLASS_IN);
	put32(&w, 10800);
	put16(&w, (uint16_t)(2 + sizeof(rname) + 20));
	put16(&w, zptr);
	put_bytes(&w, rname, sizeof(rname));
	put32(&w, 1);		/* serial */
	put32(&w, 3600);	/* refresh */
	put32(&w, 1200);	/* retry */
	put32(&w, 604800);	/* expire */
	put32(&w, 10800);	/* minimum: the negative TTL */
	if (q->edns)
		put_opt(&w, 0, q->edns_do, DNS_EDE_PRIVATE);
	return wbuf_done(&w);
}

/*
 * n items of rdlen bytes, each checked for its type where we know the
 * layout, so a bad hosts entry cannot produce a malformed reply.
 */
static int
answer_rdata_ok(uint16_t rrtype, const uint8_t *rdata, size_t rdlen, size_t n)
{
	if (n > 0 && rdata == NULL)
		return 0;
	if (rdlen > UINT16_MAX || n > UINT16_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *item = rdata + i * rdlen;

		switch (rrtype) {
		case DNS_TYPE_A:
			if (rdlen != 4)
				return 0;
			break;
		case DNS_TYPE_AAAA:
			if (rdlen != 16)
				return 0;
			break;
		case DNS_TYPE_PTR:
		case DNS_TYPE_CNAME:
		case DNS_TYPE_NS:
			if (rdlen == 0 || plain_name_len(item, rdlen) != rdlen)
				return 0;
			break;
		default:
			break;
		}
	}
	return 1;
}

/* The owner of every record is a pointer to the question's name at offset 12. */
size_t
dns_build_answer(uint8_t *out, size_t cap, const struct dns_query *q,
    uint16_t rrtype, uint32_t ttl, const uint8_t *rdata, size_t rdlen, size_t n)
{
	struct wbuf w = { out, cap, 0, 0 };

	if (q->qend == 0 || q->q.namelen == 0 || !answer_rdata_ok(rrtype, rdata, rdlen, n))
		return 0;
	put_header(&w, q->id, (uint16_t)(reply_flags(q) | DNS_F_AA), 1, (uint16_t)n, 0,
	    q->edns ? 1 : 0);
	put_question(&w, &q->q);
	for (size_t i = 0; i < n; i++) {
		put16(&w, 0xc000 | DNS_HDR_SIZE);
		put16(&w, rrtype);
		put16(&w, DNS_CLASS_IN);
		put32(&w, ttl);
		put16(&w, (uint16_t)rdlen);
		put_bytes(&w, rdata + i * rdlen, rdlen);
	}
	if (q->edns)
		put_opt(&w, 0, q->edns_do, DNS_EDE_NONE);
	return wbuf_done(&w);
}
