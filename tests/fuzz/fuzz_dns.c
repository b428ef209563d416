/*
 * The fuzz targets' checker of DNS messages (fuzz_dns.h), and the helpers
 * they share: failing an invariant, a memfd as a file, client queries.
 */
#include "tests/fuzz/fuzz_dns.h"
#include "tests/fuzz/fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

const char fz_too_big[] = "too big to check";

void
fuzz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\nfuzz: invariant broken at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

int
fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t pathsize)
{
	static int fd = -1;
	size_t done = 0;

	if (fd < 0 && (fd = memfd_create("fuzz", MFD_CLOEXEC)) < 0)
		return -1;
	if (ftruncate(fd, 0) != 0)
		return -1;
	while (done < size) {
		ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	snprintf(path, pathsize, "/proc/self/fd/%d", fd);
	return fd;
}

/* --- the checker ---------------------------------------------------------- */

/*
 * Field layouts of the types whose rdata holds names (RFC 1035 and the
 * others RFC 3597 4 lets a server compress, plus SRV and NAPTR): 'n' a
 * name, '2'/'4' numbers, 's' a character-string.  strict: types every
 * template checks (dns_make_template), whose rdata must always parse.
 */
static const struct {
	uint16_t type;
	const char *layout;
	int strict;
} layouts[] = {
	{ 2, "n", 1 }, { 3, "n", 0 }, { 4, "n", 0 }, { 5, "n", 1 },
	{ 6, "nn44444", 1 }, { 7, "n", 0 }, { 8, "n", 0 }, { 9, "n", 0 },
	{ 12, "n", 1 }, { 14, "nn", 0 }, { 15, "2n", 1 }, { 17, "nn", 0 },
	{ 18, "2n", 0 }, { 21, "2n", 0 }, { 26, "2nn", 0 }, { 33, "222n", 0 },
	{ 35, "22sssn", 0 },
};

static uint8_t
fold(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

static int
pool_put(struct fz_msg *m, const uint8_t *p, size_t n, int fold_it)
{
	if (n > FZ_POOL - m->poollen)
		return -1;
	for (size_t i = 0; i < n; i++)
		m->pool[m->poollen + i] = fold_it ? fold(p[i]) : p[i];
	m->poollen += n;
	return 0;
}

/*
 * The rdata at [rd, rd + rdlen) walked as layout into the pool, names
 * expanded and folded.  1 done, 0 it does not fit the layout, -1 the
 * pool is full.
 */
static int
walk_layout(struct fz_msg *m, const char *layout, size_t rd, size_t rdlen, size_t *ulen)
{
	struct dns_cursor c;
	uint8_t name[DNS_NAME_MAX];
	size_t end = rd + rdlen, start;
	int n;

	dns_cursor_init(&c, m->pkt, m->len, rd);
	for (const char *f = layout; *f; f++) {
		start = c.pos;
		switch (*f) {
		case 'n':
			n = dns_read_name(&c, name);
			if (n < 0 || c.pos > end)
				return 0;
			if (pool_put(m, name, (size_t)n, 1) < 0)
				return -1;
			*ulen += (size_t)n;
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
		if (c.err || c.pos > end)
			return 0;
		if (pool_put(m, m->pkt + start, c.pos - start, 0) < 0)
			return -1;
		*ulen += c.pos - start;
	}
	return c.pos == end && !c.err;
}

/* One record's canonical form into the pool; NULL or what is wrong. */
static const char *
canon_rr(struct fz_msg *m, struct fz_rr *rr, const uint8_t *owner, size_t ownerlen)
{
	uint8_t fixed[4] = { (uint8_t)(rr->type >> 8), (uint8_t)rr->type,
		(uint8_t)(rr->rclass >> 8), (uint8_t)rr->rclass };
	size_t mark, ulen = 0;
	int r;

	rr->canon = m->poollen;
	if (pool_put(m, owner, ownerlen, 1) < 0 || pool_put(m, fixed, 4, 0) < 0)
		return fz_too_big;
	mark = m->poollen;
	rr->expanded = 0;
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		if (layouts[i].type != rr->type)
			continue;
		if ((r = walk_layout(m, layouts[i].layout, rr->rd, rr->rdlen, &ulen)) < 0)
			return fz_too_big;
		if (r == 0 && layouts[i].strict)
			return "rdata of a checked type does not parse (a name, or its length)";
		rr->expanded = r;
		break;
	}
	if (!rr->expanded) {
		m->poollen = mark;
		ulen = rr->rdlen;
		if (pool_put(m, m->pkt + rr->rd, rr->rdlen, 0) < 0)
			return fz_too_big;
	}
	rr->canonlen = m->poollen - rr->canon;
	m->ulen += ownerlen + 10 + ulen;
	return NULL;
}

const char *
fz_parse(const uint8_t *pkt, size_t len, struct fz_msg *m)
{
	struct dns_cursor c;
	uint8_t owner[DNS_NAME_MAX];
	uint32_t total;
	const char *why;
	int n;

	m->pkt = pkt;
	m->len = len;
	m->nrr = 0;
	m->poollen = 0;
	m->have_opt = 0;
	m->qnamelen = 0;
	if (len < DNS_HDR_SIZE)
		return "shorter than a header";
	if (len > DNS_MSG_MAX)
		return "longer than 65535";
	dns_cursor_init(&c, pkt, len, 0);
	m->id = dns_get16(&c);
	m->flags = dns_get16(&c);
	m->qd = dns_get16(&c);
	m->an = dns_get16(&c);
	m->ns = dns_get16(&c);
	m->ar = dns_get16(&c);
	m->ulen = DNS_HDR_SIZE;
	if (m->qd > 1)
		return "more than one question";
	if (m->qd == 1) {
		if ((n = dns_read_name(&c, m->qname)) < 0)
			return "the question's name does not parse";
		if (c.pos != DNS_HDR_SIZE + (size_t)n)
			return "the question's name is compressed";
		m->qnamelen = (size_t)n;
		m->qtype = dns_get16(&c);
		m->qclass = dns_get16(&c);
		if (c.err)
			return "the question is cut short";
		m->ulen += (size_t)n + 4;
	}
	total = (uint32_t)m->an + m->ns + m->ar;
	for (uint32_t i = 0; i < total; i++) {
		struct fz_rr rr;
		uint16_t rdlen;

		if ((n = dns_read_name(&c, owner)) < 0)
			return "a record's owner does not parse";
		rr.section = (uint8_t)(i < m->an ? 0 : i < (uint32_t)m->an + m->ns ? 1 : 2);
		rr.type = dns_get16(&c);
		rr.rclass = dns_get16(&c);
		rr.ttl = dns_get32(&c);
		rdlen = dns_get16(&c);
		rr.rd = c.pos;
		rr.rdlen = rdlen;
		dns_skip(&c, rdlen);
		if (c.err)
			return "a record runs past the end (a count is too high)";
		if (rr.type == DNS_TYPE_OPT) {
			if (rr.section != 2 || m->have_opt)
				return "an OPT outside additional, or a second one";
			if (i != total - 1)
				return "the OPT is not the last record";
			if (n != 1)
				return "the OPT's owner is not the root";
			m->have_opt = 1;
			m->opt_size = rr.rclass;
			m->opt_ttl = rr.ttl;
			m->ulen += 11 + rdlen;
			continue;
		}
		if (m->nrr == FZ_MAX_RR)
			return fz_too_big;
		if ((why = canon_rr(m, &rr, owner, (size_t)n)) != NULL)
			return why;
		m->rr[m->nrr++] = rr;
	}
	if (c.pos != len)
		return "bytes left over after the last record (a count is too low)";
	return NULL;
}

const char *
fz_same_records(const struct fz_msg *a, const struct fz_msg *b, uint32_t elapsed)
{
	if (a->nrr != b->nrr)
		return "not as many records";
	for (size_t i = 0; i < a->nrr; i++) {
		const struct fz_rr *x = &a->rr[i], *y = &b->rr[i];
		uint32_t want = x->ttl > elapsed ? x->ttl - elapsed : 0;

		if (x->section != y->section)
			return "a record in another section";
		if (y->ttl != want)
			return "a TTL is not what is left of it";
		if (x->expanded && y->expanded) {
			if (x->canonlen != y->canonlen ||
			    memcmp(a->pool + x->canon, b->pool + y->canon, x->canonlen) != 0)
				return "a record differs";
			continue;
		}
		/* the owner and type, then the rdata's bytes as they stand */
		if (x->rdlen != y->rdlen ||
		    memcmp(a->pkt + x->rd, b->pkt + y->rd, x->rdlen) != 0)
			return "a record's opaque rdata differs";
		if (x->canonlen - x->rdlen != y->canonlen - y->rdlen ||
		    memcmp(a->pool + x->canon, b->pool + y->canon, x->canonlen - x->rdlen) != 0)
			return "a record's owner, type or class differs";
	}
	return NULL;
}

size_t
fz_query(uint8_t *out, size_t cap, const uint8_t *name, size_t namelen,
    uint16_t qtype, uint16_t qclass, uint16_t id, uint16_t flags, int edns,
    uint16_t udp_size, int dnssec_ok)
{
	size_t len = 0;

	if (cap < DNS_HDR_SIZE + namelen + 4 + 11)
		return 0;
	out[len++] = (uint8_t)(id >> 8);
	out[len++] = (uint8_t)id;
	out[len++] = (uint8_t)(flags >> 8);
	out[len++] = (uint8_t)flags;
	memcpy(out + len, "\0\1\0\0\0\0\0\0", 8);
	out[len + 7] = (uint8_t)(edns ? 1 : 0);
	len += 8;
	memcpy(out + len, name, namelen);
	len += namelen;
	out[len++] = (uint8_t)(qtype >> 8);
	out[len++] = (uint8_t)qtype;
	out[len++] = (uint8_t)(qclass >> 8);
	out[len++] = (uint8_t)qclass;
	if (edns) {
		/* root, OPT, size, extended rcode 0, version 0, DO, no options */
		memcpy(out + len, "\0\0\x29\0\0\0\0\0\0\0\0", 11);
		out[len + 3] = (uint8_t)(udp_size >> 8);
		out[len + 4] = (uint8_t)udp_size;
		if (dnssec_ok)
			out[len + 7] = 0x80;
		len += 11;
	}
	return len;
}

void
fz_respell(uint8_t *name, size_t len, uint32_t mask)
{
	size_t bit = 0;

	for (size_t i = 0; i < len && name[i] != 0; i += (size_t)name[i] + 1)
		for (size_t j = i + 1; j <= i + name[i] && j < len; j++) {
			uint8_t ch = name[j];
			if (((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) &&
			    (mask >> (bit++ % 32) & 1))
				name[j] = (uint8_t)(ch ^ 0x20);
		}
}

int
fz_check_reply(const char *what, const uint8_t *ans, size_t n, const struct dns_query *q,
    size_t max, struct fz_msg *m)
{
	const char *why;

	FUZZ_CHECK(n > 0, "%s: no answer", what);
	FUZZ_CHECK(n <= max, "%s: %zu bytes for a client that takes %zu", what, n, max);
	why = fz_parse(ans, n, m);
	if (why == fz_too_big)
		return 0;
	FUZZ_CHECK(why == NULL, "%s: the answer does not parse: %s", what, why);
	FUZZ_CHECK(m->flags & DNS_F_QR, "%s: QR clear", what);
	FUZZ_CHECK(m->flags & DNS_F_RA, "%s: RA clear", what);
	FUZZ_CHECK(m->id == q->id, "%s: id %04x for %04x", what, m->id, q->id);
	FUZZ_CHECK((m->flags & (DNS_F_RD | DNS_F_CD)) == (q->flags & (DNS_F_RD | DNS_F_CD)),
	    "%s: RD or CD not the client's", what);
	FUZZ_CHECK(m->have_opt == (q->edns != 0), "%s: OPT %d, the client's %d", what,
	    m->have_opt, q->edns);
	if (m->have_opt && q->edns_do)
		FUZZ_CHECK(m->opt_ttl & 0x8000, "%s: DO not echoed", what);
	if (q->qend != 0) {
		FUZZ_CHECK(m->qd == 1, "%s: the question is missing", what);
		FUZZ_CHECK(m->qnamelen == q->q.namelen &&
		    memcmp(m->qname, q->q.name, m->qnamelen) == 0 &&
		    m->qtype == q->q.qtype && m->qclass == q->q.qclass,
		    "%s: not the client's question as the client spelt it", what);
	}
	if (m->flags & DNS_F_TC)
		FUZZ_CHECK(m->an == 0 && m->ns == 0, "%s: TC with records", what);
	return 1;
}
