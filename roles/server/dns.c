/*
 * The few message shapes the stub resolver parses and builds: a client's
 * query, error replies with their OPT and EDE, the upstream query, the
 * check that an answer is ours, and local answers (hosts, RFC 6303).
 */
#include "roles/server/dns_impl.h"

#include <errno.h>
#include <string.h>

void
dns_put_header(struct wbuf *w, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
    uint16_t ns, uint16_t ar)
{
	put16(w, id);
	put16(w, flags);
	put16(w, qd);
	put16(w, an);
	put16(w, ns);
	put16(w, ar);
}

void
dns_put_question(struct wbuf *w, const struct dns_question *q)
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
size_t
dns_ede_size(enum dns_ede ede)
{
	if (ede == DNS_EDE_NONE || (unsigned)ede >= DNS_EDE_COUNT)
		return 0;
	return 6 + strlen(ede_table[ede].text);
}

/* RFC 3225: the DO bit of the query is copied into the response. */
void
dns_put_opt(struct wbuf *w, unsigned rcode, int dnssec_ok, enum dns_ede ede)
{
	static const uint8_t root = 0;
	size_t esize = dns_ede_size(ede);

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
		struct dns_rr rr;

		if (dns_read_rr(&c, &rr) < 0)
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

	dns_put_header(&w, q->id, (uint16_t)(reply_flags(q) | (rc & DNS_F_RCODE)),
	    question ? 1 : 0, 0, 0, opt ? 1 : 0);
	if (question)
		dns_put_question(&w, &q->q);
	if (opt)
		dns_put_opt(&w, rc, q->edns_do, q->edns ? ede : DNS_EDE_NONE);
	return wbuf_done(&w);
}

size_t
dns_build_query(uint8_t *out, size_t cap, uint16_t id, const struct dns_question *q,
    int cd)
{
	struct wbuf w = { out, cap, 0, 0 };

	if (q->namelen == 0 || dns_plain_name_len(q->name, q->namelen) != q->namelen)
		return 0;
	dns_put_header(&w, id, (uint16_t)(DNS_F_RD | (cd ? DNS_F_CD : 0)), 1, 0, 0, 1);
	dns_put_question(&w, q);
	dns_put_opt(&w, 0, 1, DNS_EDE_NONE);
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
	    zonelen > q->q.namelen || dns_plain_name_len(zone, zonelen) != zonelen)
		return 0;
	at = (size_t)q->q.namelen - zonelen;
	while (pos < at && q->q.name[pos] != 0)
		pos += 1 + (size_t)q->q.name[pos];
	if (pos != at || !dns_name_equal(q->q.name + at, zonelen, zone, zonelen))
		return 0;
	zptr = (uint16_t)(0xc000 | (DNS_HDR_SIZE + at));

	dns_put_header(&w, q->id, (uint16_t)(reply_flags(q) | DNS_RCODE_NXDOMAIN), 1, 0,
	    1, q->edns ? 1 : 0);
	dns_put_question(&w, &q->q);
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
		dns_put_opt(&w, 0, q->edns_do, DNS_EDE_PRIVATE);
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
			if (rdlen == 0 || dns_plain_name_len(item, rdlen) != rdlen)
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
	dns_put_header(&w, q->id, (uint16_t)(reply_flags(q) | DNS_F_AA), 1, (uint16_t)n,
	    0, q->edns ? 1 : 0);
	dns_put_question(&w, &q->q);
	for (size_t i = 0; i < n; i++) {
		put16(&w, 0xc000 | DNS_HDR_SIZE);
		put16(&w, rrtype);
		put16(&w, DNS_CLASS_IN);
		put32(&w, ttl);
		put16(&w, (uint16_t)rdlen);
		put_bytes(&w, rdata + i * rdlen, rdlen);
	}
	if (q->edns)
		dns_put_opt(&w, 0, q->edns_do, DNS_EDE_NONE);
	return wbuf_done(&w);
}
