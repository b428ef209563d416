/*
 * Every template is written anew, record by record, with its names
 * decompressed and compressed again by us: a pointer in a template only
 * ever aims at a name we wrote.  An upstream may legally point anywhere
 * backwards -- into the header, a TTL, an A record's bytes -- and the
 * cache rewrites exactly those bytes (flags, counts, TTLs), so a name
 * read through such a pointer would change under the client.  The plain
 * twin of a DNSSEC answer (RRSIG, NSEC, NSEC3 and DS dropped) is the
 * same rewrite with a filter.
 */
#include "roles/server/dns_impl.h"

#include <errno.h>
#include <string.h>

/*
 * Name compression for the rewrite.  Each entry is one label written
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
 * The rdata with names in them, as dump_types.c lists them: 'n' name, '2' and
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
    const struct dns_rr *rr, struct wbuf *w, struct compressor *cz)
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

/* The layout of type's rdata if it carries names, else NULL. */
static const char *
name_layout(uint16_t type, int *compress)
{
	for (size_t i = 0; i < sizeof(name_rdata) / sizeof(name_rdata[0]); i++)
		if (name_rdata[i].type == type) {
			*compress = name_rdata[i].compress;
			return name_rdata[i].layout;
		}
	return NULL;
}

/*
 * One record, its owner and any names in its rdata compressed anew.  The
 * rdata of a type with names must be exactly what its type says: copied
 * as it came, a pointer in it that did not parse here could aim at a
 * name, or at a TTL, once the bytes have moved.
 */
static int
put_rr_anew(struct wbuf *w, struct compressor *cz, const uint8_t *pkt, size_t len,
    const struct dns_rr *rr)
{
	struct dns_cursor c;
	uint8_t owner[DNS_NAME_MAX];
	const char *layout;
	size_t rdlen_at, rd;
	int n, compress = 0;

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
	if ((layout = name_layout(rr->type, &compress)) != NULL) {
		if (walk_rdata(layout, 0, pkt, len, rr, NULL, NULL) < 0)
			return -EBADMSG;
		walk_rdata(layout, compress, pkt, len, rr, w, cz);
	} else {
		put_bytes(w, pkt + rr->rdata, rr->rdlen);	/* opaque: no names */
	}
	if (w->full)
		return -ENOSPC;
	if (w->len - rd > UINT16_MAX)
		return -EBADMSG;
	be_put16(w->p + rdlen_at, (uint16_t)(w->len - rd));
	return 0;
}

/*
 * The message in pkt written anew into out: header, the question (which
 * must be uncompressed: dns_render writes the client's spelling over
 * it), then each record, less the DNSSEC-only ones if strip.  Bytes after
 * the last record are left behind.  Returns the length written, or
 * -EBADMSG / -ENOSPC.
 */
static int
rewrite(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap, int strip)
{
	struct wbuf w = { out, cap, 0, 0 };
	struct compressor cz;
	struct dns_cursor c;
	uint16_t count[3], kept[3] = { 0, 0, 0 }, qtype;
	size_t namelen;
	int r;

	if (len < DNS_HDR_SIZE || len > DNS_MSG_MAX || be_get16(pkt + 4) != 1)
		return -EBADMSG;
	namelen = dns_plain_name_len(pkt + DNS_HDR_SIZE, len - DNS_HDR_SIZE);
	if (namelen == 0 || DNS_HDR_SIZE + namelen + 4 > len)
		return -EBADMSG;
	for (int s = 0; s < 3; s++)
		count[s] = be_get16(pkt + 6 + 2 * s);
	qtype = be_get16(pkt + DNS_HDR_SIZE + namelen);

	cz.n = 0;
	put_bytes(&w, pkt, DNS_HDR_SIZE);
	put_cname(&w, &cz, pkt + DNS_HDR_SIZE, namelen, 1);
	put_bytes(&w, pkt + DNS_HDR_SIZE + namelen, 4);
	dns_cursor_init(&c, pkt, len, DNS_HDR_SIZE + namelen + 4);
	for (int s = 0; s < 3; s++)
		for (unsigned i = 0; i < count[s]; i++) {
			struct dns_rr rr;

			if (dns_read_rr(&c, &rr) < 0)
				return -EBADMSG;
			if (strip && dns_dnssec_only(rr.type, qtype))
				continue;
			if ((r = put_rr_anew(&w, &cz, pkt, len, &rr)) < 0)
				return r;
			kept[s]++;
		}
	if (w.full || w.len > DNS_MSG_MAX)
		return -ENOSPC;
	for (int s = 0; s < 3; s++)
		be_put16(out + 6 + 2 * s, kept[s]);
	return (int)w.len;
}

int
dns_make_template(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
    struct dns_template_info *info)
{
	int n;

	if ((n = rewrite(pkt, len, out, cap, 0)) < 0)
		return n;
	return dns_template_finish(out, (size_t)n, info);
}

int
dns_strip_dnssec(const uint8_t *tmpl, size_t tlen, uint8_t *out, size_t cap,
    struct dns_template_info *pinfo)
{
	int r;

	if ((r = rewrite(tmpl, tlen, out, cap, 1)) < 0)
		return r;
	r = dns_template_finish(out, (size_t)r, pinfo);
	return r == -E2BIG ? -EBADMSG : r;
}
