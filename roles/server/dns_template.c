/*
 * An upstream answer made into a cacheable template (every record
 * checked, OPT removed, TTL offsets noted) and a template rendered as one
 * client's reply: its id, its spelling, its flags, TTLs counted down.
 */
#include "roles/server/dns_impl.h"

#include <errno.h>
#include <string.h>

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
rdata_ok(const uint8_t *pkt, size_t len, const struct dns_rr *rr, uint32_t *soa_min)
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

/*
 * The DNSSEC records a client without DO does not get (RFC 4035 3.2.1,
 * RFC 5155 for NSEC3), unless its question asks for exactly that type.
 * qtype ANY is no such request: DNSSEC records are meta data that a
 * client says it understands with DO, not with the type it asks for, so
 * an ANY answer loses them too.  DNSKEY is data like any other.
 */
int
dns_dnssec_only(uint16_t type, uint16_t qtype)
{
	return type != qtype && (type == DNS_TYPE_RRSIG || type == DNS_TYPE_NSEC ||
	    type == DNS_TYPE_NSEC3 || type == DNS_TYPE_DS);
}

/*
 * The second half of dns_make_template, on a message dns_rewrite.c wrote
 * (so every pointer in it aims at a name): in place, OPT removed, TTLs
 * found.  An extended rcode from upstream would be lost with its OPT and
 * read as a plain one (BADVERS as NOERROR), so the template says
 * SERVFAIL.  AA is cleared: whoever asks us gets it from a cache, not
 * from the authority.
 */
int
dns_template_finish(uint8_t *pkt, size_t len, struct dns_template_info *info)
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
		struct dns_rr rr;
		uint32_t soa_min = 0;

		if (i == (uint32_t)an + ns) {
			ar_start = c.pos;
			ar_nttl = info->nttl;
		}
		if (dns_read_rr(&c, &rr) < 0 || !rdata_ok(pkt, len, &rr, &soa_min))
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
			dnssec_ar |= dns_dnssec_only(rr.type, qtype);
			continue;
		}
		dnssec |= dns_dnssec_only(rr.type, qtype);
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
		be_put16(pkt + 10, (uint16_t)(ar - 1));
	} else if (have_opt) {
		end = ar_start;
		info->nttl = ar_nttl;
		dnssec_ar = 0;
		be_put16(pkt + 10, 0);
	}

	flags &= (uint16_t)~DNS_F_AA;
	be_put16(pkt + 2, flags);
	info->ad = (flags & DNS_F_AD) != 0;
	info->dnssec = dnssec || dnssec_ar;
	info->rcode = flags & DNS_F_RCODE;
	if (ext_rcode) {
		info->rcode = DNS_RCODE_SERVFAIL;
		be_put16(pkt + 2, (uint16_t)((flags & ~DNS_F_RCODE) | DNS_RCODE_SERVFAIL));
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

void
dns_clamp_ttls(uint8_t *tmpl, const struct dns_template_info *info, uint32_t max_ttl)
{
	for (size_t i = 0; i < info->nttl; i++) {
		uint8_t *p = tmpl + info->ttl_off[i];

		if (ttl_value(be_get32(p)) > max_ttl) {
			be_put16(p, (uint16_t)(max_ttl >> 16));
			be_put16(p + 2, (uint16_t)max_ttl);
		}
	}
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

	if (tmpl == NULL || tlen < DNS_HDR_SIZE || be_get16(tmpl + 4) != 1 ||
	    (t->nttl > 0 && t->ttl_off == NULL))
		return 0;
	namelen = dns_plain_name_len(tmpl + DNS_HDR_SIZE, tlen - DNS_HDR_SIZE);
	qend = DNS_HDR_SIZE + namelen + 4;
	/* the template is for this name: only the spelling may differ */
	if (namelen == 0 || qend > tlen ||
	    !dns_name_equal(tmpl + DNS_HDR_SIZE, namelen, q->q.name, q->q.namelen) ||
	    !ttl_offsets_ok(t->ttl_off, t->nttl, qend, tlen))
		return 0;
	flags = render_flags(be_get16(tmpl + 2), q);
	ar = be_get16(tmpl + 10);
	full = tlen + (q->edns ? DNS_OPT_SIZE + dns_ede_size(ede) : 0);

	if (full > o->max_size || (q->edns && ar == UINT16_MAX)) {
		dns_put_header(&w, q->id, flags | DNS_F_TC, 1, 0, 0, q->edns ? 1 : 0);
		put_bytes(&w, q->q.name, q->q.namelen);
		put_bytes(&w, tmpl + DNS_HDR_SIZE + namelen, 4);
		if (q->edns)
			dns_put_opt(&w, 0, q->edns_do, ede);
		return wbuf_done(&w);
	}

	put_bytes(&w, tmpl, tlen);
	if (q->edns)
		dns_put_opt(&w, 0, q->edns_do, ede);
	if (w.full)
		return 0;
	be_put16(out, q->id);
	be_put16(out + 2, flags);
	if (q->edns)
		be_put16(out + 10, (uint16_t)(ar + 1));
	memcpy(out + DNS_HDR_SIZE, q->q.name, namelen);
	for (size_t i = 0; i < t->nttl; i++) {
		uint8_t *p = out + t->ttl_off[i];
		uint32_t ttl = ttl_value(be_get32(p));

		if (o->stale_ttl)
			ttl = o->stale_ttl;
		else
			ttl = ttl > o->elapsed ? ttl - o->elapsed : 0;
		be_put16(p, (uint16_t)(ttl >> 16));
		be_put16(p + 2, (uint16_t)ttl);
	}
	return w.len;
}
