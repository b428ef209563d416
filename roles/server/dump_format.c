/*
 * The writing side of the cache dump (dump.h): a cached template shown
 * as master-file lines, its TTLs counted down to the moment of the dump.
 * Output goes into the caller's buffer.
 */
#include "roles/server/dump.h"
#include "roles/server/dump_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const section_prefix[3] = { "", ";authority ", ";additional " };

static void
put_char(struct wbuf *o, char ch)
{
	put_bytes(o, &ch, 1);
}

static void
put_str(struct wbuf *o, const char *s)
{
	put_bytes(o, s, strlen(s));
}

static void
put_uint(struct wbuf *o, uint64_t v)
{
	char buf[20];
	size_t i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put_bytes(o, buf + i, sizeof(buf) - i);
}

static void
put_hex(struct wbuf *o, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		put_char(o, digits[p[i] >> 4]);
		put_char(o, digits[p[i] & 0xf]);
	}
}

static void
put_mnemonic(struct wbuf *o, const struct mnemonic *m, size_t n, const char *prefix,
    unsigned value)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].value == value) {
			put_str(o, m[i].name);
			return;
		}
	put_str(o, prefix);
	put_uint(o, value);
}

static void
put_type(struct wbuf *o, uint16_t type)
{
	const struct rrtype *t = dump_rrtype_find(type);

	if (t != NULL && t->mnemonic != NULL) {
		put_str(o, t->mnemonic);
		return;
	}
	put_str(o, "TYPE");
	put_uint(o, type);
}

static int
put_name(struct wbuf *o, const uint8_t *name, size_t len)
{
	char text[NAME_TEXT_MAX];
	int n;

	if ((n = dns_name_to_text(name, len, text, sizeof(text))) < 0)
		return -EBADMSG;
	put_bytes(o, text, (size_t)n);
	return 0;
}

/*
 * ';' is escaped too, though a quoted master-file string may hold it:
 * an answer line then never contains one, so cutting at ';' or grepping
 * for it never splits a record.
 */
static void
put_charstr(struct wbuf *o, const uint8_t *p, size_t n)
{
	put_char(o, '"');
	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];

		if (b == '"' || b == '\\') {
			put_char(o, '\\');
			put_char(o, (char)b);
		} else if (b < 0x20 || b > 0x7e || b == ';') {
			put_char(o, '\\');
			put_char(o, (char)('0' + b / 100));
			put_char(o, (char)('0' + b / 10 % 10));
			put_char(o, (char)('0' + b % 10));
		} else {
			put_char(o, (char)b);
		}
	}
	put_char(o, '"');
}

enum { WALK_CHECK, WALK_TEXT, WALK_HEX };

/* One rdata being walked: names resolve against the whole message. */
struct walk {
	struct dns_cursor c;
	size_t rd, rdend;
	size_t ulen;		/* uncompressed length so far */
	int mode;
	struct wbuf *o;
};

/* A field that is not a name: its bytes as they stand, in its usual form. */
static void
put_field(struct wbuf *o, char kind, const uint8_t *p, size_t n)
{
	char addr[INET6_ADDRSTRLEN];

	switch (kind) {
	case 'a':
		for (size_t i = 0; i < 4; i++) {
			if (i > 0)
				put_char(o, '.');
			put_uint(o, p[i]);
		}
		break;
	case '6':
		if (inet_ntop(AF_INET6, p, addr, sizeof(addr)) != NULL)
			put_str(o, addr);
		else
			o->full = 1;	/* cannot happen with a 46-byte buffer */
		break;
	case '2':
		put_uint(o, be_get16(p));
		break;
	case '4':
		put_uint(o, be_get32(p));
		break;
	default:
		put_charstr(o, p + 1, n - 1);
		break;
	}
}

static int
walk_field(struct walk *w, char kind)
{
	uint8_t name[DNS_NAME_MAX];
	size_t start = w->c.pos;
	int n;

	if (w->mode == WALK_TEXT && start > w->rd)
		put_char(w->o, ' ');
	switch (kind) {
	case 'n':
		n = dns_read_name(&w->c, name);
		if (n < 0 || w->c.pos > w->rdend)
			return -EBADMSG;
		w->ulen += (size_t)n;
		if (w->mode == WALK_TEXT)
			return put_name(w->o, name, (size_t)n);
		if (w->mode == WALK_HEX)
			put_hex(w->o, name, (size_t)n);
		return 0;
	case 'a':
	case '4':
		dns_skip(&w->c, 4);
		break;
	case '6':
		dns_skip(&w->c, 16);
		break;
	case '2':
		dns_skip(&w->c, 2);
		break;
	default:
		dns_skip(&w->c, dns_get8(&w->c));
		break;
	}
	if (w->c.err || w->c.pos > w->rdend)
		return -EBADMSG;
	w->ulen += w->c.pos - start;
	if (w->mode == WALK_TEXT)
		put_field(w->o, kind, w->c.pkt + start, w->c.pos - start);
	else if (w->mode == WALK_HEX)
		put_hex(w->o, w->c.pkt + start, w->c.pos - start);
	return 0;
}

/*
 * Walk the rdlen bytes of rdata at rd as layout says.  Returns the length
 * of their uncompressed form, or -EBADMSG unless the fields fill the
 * rdata exactly.  Every field takes at least one byte, which is how
 * walk_field knows whether a separator is due.
 */
static int
rdata_walk(const char *layout, const uint8_t *pkt, size_t len, size_t rd, size_t rdlen,
    int mode, struct wbuf *o)
{
	struct walk w;

	if (rd > len || rdlen > len - rd)
		return -EBADMSG;
	dns_cursor_init(&w.c, pkt, len, rd);
	w.rd = rd;
	w.rdend = rd + rdlen;
	w.ulen = 0;
	w.mode = mode;
	w.o = o;
	for (const char *f = layout; *f != '\0'; f++) {
		do {
			if (walk_field(&w, *f == 't' ? 's' : *f) < 0)
				return -EBADMSG;
		} while (*f == 't' && w.c.pos < w.rdend);
	}
	if (w.c.pos != w.rdend || w.ulen > UINT16_MAX)
		return -EBADMSG;
	return (int)w.ulen;
}

/*
 * The usual form when the rdata is exactly what its type says, else RFC
 * 3597 hex, so whatever the template holds comes back byte for byte.
 */
static int
put_rdata(struct wbuf *o, const uint8_t *pkt, size_t len, uint16_t type, size_t rd,
    size_t rdlen)
{
	const struct rrtype *t = dump_rrtype_find(type);
	int ulen;

	if (t != NULL && t->layout != NULL &&
	    (ulen = rdata_walk(t->layout, pkt, len, rd, rdlen, WALK_CHECK, NULL)) >= 0) {
		if (t->mnemonic != NULL)
			return rdata_walk(t->layout, pkt, len, rd, rdlen, WALK_TEXT, o);
		put_str(o, "\\# ");
		put_uint(o, (uint64_t)ulen);
		put_char(o, ' ');
		return rdata_walk(t->layout, pkt, len, rd, rdlen, WALK_HEX, o);
	}
	put_str(o, "\\# ");
	put_uint(o, rdlen);
	if (rdlen > 0) {
		put_char(o, ' ');
		put_hex(o, pkt + rd, rdlen);
	}
	return 0;
}

/*
 * One record: its fixed part must fit the template, its rdata is shown
 * as well as it parses.  No field can hold a tab, a newline or a ';', so
 * a line is one record and splits at tabs.  A line never reaches
 * DUMP_LINE_MAX: no byte of the template turns into more than four
 * characters (\DDD), the owner's bytes and the rdata's are distinct
 * bytes of at most 65535, and the rest of the line is under 50.
 */
static int
put_rr(struct wbuf *o, struct dns_cursor *c, int section, uint64_t elapsed)
{
	uint8_t owner[DNS_NAME_MAX];
	uint16_t type, rclass, rdlen;
	uint32_t ttl;
	size_t rd;
	int n;

	n = dns_read_name(c, owner);
	type = dns_get16(c);
	rclass = dns_get16(c);
	ttl = ttl_value(dns_get32(c));
	rdlen = dns_get16(c);
	rd = c->pos;
	dns_skip(c, rdlen);
	if (n < 0 || c->err)
		return -EBADMSG;

	put_str(o, section_prefix[section]);
	if (put_name(o, owner, (size_t)n) < 0)
		return -EBADMSG;
	put_char(o, '\t');
	put_uint(o, ttl > elapsed ? ttl - elapsed : 0);
	put_char(o, '\t');
	put_mnemonic(o, dump_classes, dump_nclasses, "CLASS", rclass);
	put_char(o, '\t');
	put_type(o, type);
	put_char(o, '\t');
	if (put_rdata(o, c->pkt, c->len, type, rd, rdlen) < 0)
		return -EBADMSG;
	put_char(o, '\n');
	return 0;
}

int
dump_format_header(time_t written, size_t entries, char *out, size_t size)
{
	struct tm tm;
	int n;

	if (gmtime_r(&written, &tm) == NULL)
		return -EOVERFLOW;
	n = snprintf(out, size, "; fdtool cache dump\n"
	    "; written %04d-%02d-%02dT%02d:%02d:%02dZ\n"
	    "; entries %zu\n", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, entries);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= size)
		return -ENOSPC;
	return n;
}

/*
 * The ";entry" line comes from the template's question, so the loader
 * rebuilds it with the spelling upstream used; the key it makes from it
 * is the entry's own, which is checked here so a template that does not
 * belong to its key cannot be carried into another cache.  A template
 * that turns out bad part way is still walked to its end, so -EBADMSG
 * wins over -ENOSPC and the caller does not retry a hopeless entry.
 */
int
dump_format_entry(const struct cache_entry *e, uint64_t now, char *out, size_t size)
{
	const uint8_t *t = cache_entry_template(e);
	struct wbuf o = { (uint8_t *)out, size, 0, 0 };
	struct dns_cursor c;
	uint8_t qname[DNS_NAME_MAX];
	uint16_t counts[3], qtype, qclass, flags;
	uint64_t elapsed, left;
	int n;

	if (t == NULL && e->tlen > 0)
		return -EBADMSG;
	dns_cursor_init(&c, t, e->tlen, 2);
	flags = dns_get16(&c);
	if (dns_get16(&c) != 1)
		return -EBADMSG;
	for (int s = 0; s < 3; s++)
		counts[s] = dns_get16(&c);
	n = dns_read_name(&c, qname);
	qtype = dns_get16(&c);
	qclass = dns_get16(&c);
	if (n < 0 || c.err || qtype != e->qtype || qclass != e->qclass ||
	    !dns_name_equal(qname, (size_t)n, cache_entry_name(e), e->namelen))
		return -EBADMSG;

	elapsed = now > e->stored ? now - e->stored : 0;
	left = e->expires > now ? e->expires - now : 0;
	if (left > UINT32_MAX)
		left = UINT32_MAX;
	put_str(&o, ";entry ");
	if (put_name(&o, qname, (size_t)n) < 0)
		return -EBADMSG;
	put_char(&o, ' ');
	put_mnemonic(&o, dump_classes, dump_nclasses, "CLASS", qclass);
	put_char(&o, ' ');
	put_type(&o, qtype);
	put_char(&o, ' ');
	put_mnemonic(&o, dump_rcodes, dump_nrcodes, "RCODE", e->rcode);
	put_str(&o, " ttl=");
	put_uint(&o, left);
	if (e->flags & CACHE_F_NEGATIVE)
		put_str(&o, " negative");
	if (flags & DNS_F_AD)
		put_str(&o, " ad");
	if (e->flags & CACHE_F_CD)
		put_str(&o, " cd");
	put_char(&o, '\n');

	for (int s = 0; s < 3; s++)
		for (unsigned i = 0; i < counts[s]; i++)
			if (put_rr(&o, &c, s, elapsed) < 0)
				return -EBADMSG;
	/* room for the NUL too */
	if (o.full || o.len >= size)
		return -ENOSPC;
	out[o.len] = '\0';
	return (int)o.len;
}
