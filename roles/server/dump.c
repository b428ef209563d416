/*
 * The cache dump (dump.h): a cached template rendered as master-file
 * lines with its TTLs counted down to the moment of the dump, and a line
 * parser that builds templates from those lines again.  Output goes into
 * the caller's buffer and the parser works inside its own struct.
 */
#include "roles/server/dump.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define TYPE_SRV	33
#define TTL_MAX		0x7fffffffu	/* RFC 2181 8 */
#define NAME_TEXT_MAX	1024		/* a wire name as text is at most 1009 bytes */

/*
 * What we know of a type.  The layout lists the rdata's fields: 'a' IPv4
 * address, '6' IPv6 address, 'n' domain name, '2' and '4' 16- and 32-bit
 * numbers, 's' a character-string, 't' one or more of them to the end.
 * A type with both a mnemonic and a layout is shown field by field.  One
 * with a layout only is shown as RFC 3597 hex of its uncompressed form:
 * RFC 1035 types may arrive compressed (RFC 3597 4 lists the others a
 * server may compress), and the raw bytes of a pointer would aim at the
 * wrong place in the message the loader builds.
 */
struct rrtype {
	uint16_t type;
	const char *mnemonic;	/* NULL: TYPEnnn */
	const char *layout;	/* NULL: opaque bytes */
};

static const struct rrtype rrtypes[] = {
	{ DNS_TYPE_A, "A", "a" },
	{ DNS_TYPE_NS, "NS", "n" },
	{ 3, NULL, "n" },			/* MD */
	{ 4, NULL, "n" },			/* MF */
	{ DNS_TYPE_CNAME, "CNAME", "n" },
	{ DNS_TYPE_SOA, "SOA", "nn44444" },
	{ 7, NULL, "n" },			/* MB */
	{ 8, NULL, "n" },			/* MG */
	{ 9, NULL, "n" },			/* MR */
	{ DNS_TYPE_PTR, "PTR", "n" },
	{ 14, NULL, "nn" },			/* MINFO */
	{ DNS_TYPE_MX, "MX", "2n" },
	{ DNS_TYPE_TXT, "TXT", "t" },
	{ 17, NULL, "nn" },			/* RP */
	{ 18, NULL, "2n" },			/* AFSDB */
	{ 21, NULL, "2n" },			/* RT */
	{ DNS_TYPE_AAAA, "AAAA", "6" },
	{ 26, NULL, "2nn" },			/* PX */
	{ TYPE_SRV, "SRV", "222n" },
	{ 35, NULL, "22sssn" },			/* NAPTR */
	{ DNS_TYPE_OPT, "OPT", NULL },
	{ DNS_TYPE_DS, "DS", NULL },		/* DNSSEC types: RFC 3597 hex */
	{ DNS_TYPE_RRSIG, "RRSIG", NULL },
	{ DNS_TYPE_NSEC, "NSEC", NULL },
	{ DNS_TYPE_DNSKEY, "DNSKEY", NULL },
	{ DNS_TYPE_NSEC3, "NSEC3", NULL },
	{ DNS_TYPE_ANY, "ANY", NULL },
};

struct mnemonic {
	uint16_t value;
	const char *name;
};

static const struct mnemonic classes[] = {
	{ DNS_CLASS_IN, "IN" },
};

static const struct mnemonic rcodes[] = {
	{ DNS_RCODE_NOERROR, "NOERROR" }, { DNS_RCODE_FORMERR, "FORMERR" },
	{ DNS_RCODE_SERVFAIL, "SERVFAIL" }, { DNS_RCODE_NXDOMAIN, "NXDOMAIN" },
	{ DNS_RCODE_NOTIMP, "NOTIMP" }, { DNS_RCODE_REFUSED, "REFUSED" },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const char *const section_prefix[3] = { "", ";authority ", ";additional " };

static const struct rrtype *
rrtype_find(uint16_t type)
{
	for (size_t i = 0; i < NELEM(rrtypes); i++)
		if (rrtypes[i].type == type)
			return &rrtypes[i];
	return NULL;
}

static uint16_t
get16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32_at(const uint8_t *p)
{
	return (uint32_t)get16_at(p) << 16 | get16_at(p + 2);
}

static void
set16_at(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 2181 8: a TTL with the top bit set is read as zero. */
static uint32_t
ttl_value(uint32_t ttl)
{
	return ttl & 0x80000000u ? 0 : ttl;
}

/*
 * An output buffer that remembers it ran out, so a writer checks once at
 * the end; text and wire form both go through it.
 */
struct obuf {
	uint8_t *p;
	size_t cap;
	size_t len;
	int full;
};

static void
put_mem(struct obuf *o, const void *src, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = 1;
		return;
	}
	if (n > 0)
		memcpy(o->p + o->len, src, n);
	o->len += n;
}

static void
put_char(struct obuf *o, char ch)
{
	put_mem(o, &ch, 1);
}

static void
put_str(struct obuf *o, const char *s)
{
	put_mem(o, s, strlen(s));
}

static void
put_uint(struct obuf *o, uint64_t v)
{
	char buf[20];
	size_t i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put_mem(o, buf + i, sizeof(buf) - i);
}

static void
put_hex(struct obuf *o, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		put_char(o, digits[p[i] >> 4]);
		put_char(o, digits[p[i] & 0xf]);
	}
}

static void
put_u16(struct obuf *o, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put_mem(o, b, sizeof(b));
}

static void
put_u32(struct obuf *o, uint32_t v)
{
	put_u16(o, (uint16_t)(v >> 16));
	put_u16(o, (uint16_t)v);
}

static void
put_mnemonic(struct obuf *o, const struct mnemonic *m, size_t n, const char *prefix,
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
put_type(struct obuf *o, uint16_t type)
{
	const struct rrtype *t = rrtype_find(type);

	if (t != NULL && t->mnemonic != NULL) {
		put_str(o, t->mnemonic);
		return;
	}
	put_str(o, "TYPE");
	put_uint(o, type);
}

static int
put_name(struct obuf *o, const uint8_t *name, size_t len)
{
	char text[NAME_TEXT_MAX];
	int n;

	if ((n = dns_name_to_text(name, len, text, sizeof(text))) < 0)
		return -EBADMSG;
	put_mem(o, text, (size_t)n);
	return 0;
}

/*
 * ';' is escaped too, though a quoted master-file string may hold it:
 * an answer line then never contains one, so cutting at ';' or grepping
 * for it never splits a record.
 */
static void
put_charstr(struct obuf *o, const uint8_t *p, size_t n)
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
	struct obuf *o;
};

/* A field that is not a name: its bytes as they stand, in its usual form. */
static void
put_field(struct obuf *o, char kind, const uint8_t *p, size_t n)
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
		put_uint(o, get16_at(p));
		break;
	case '4':
		put_uint(o, get32_at(p));
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
    int mode, struct obuf *o)
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
put_rdata(struct obuf *o, const uint8_t *pkt, size_t len, uint16_t type, size_t rd,
    size_t rdlen)
{
	const struct rrtype *t = rrtype_find(type);
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
put_rr(struct obuf *o, struct dns_cursor *c, int section, uint64_t elapsed)
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
	put_mnemonic(o, classes, NELEM(classes), "CLASS", rclass);
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
	struct obuf o = { (uint8_t *)out, size, 0, 0 };
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
	put_mnemonic(&o, classes, NELEM(classes), "CLASS", qclass);
	put_char(&o, ' ');
	put_type(&o, qtype);
	put_char(&o, ' ');
	put_mnemonic(&o, rcodes, NELEM(rcodes), "RCODE", e->rcode);
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

/*
 * The parsing side.  A line is (pointer, length), not a C string; the
 * few library calls that want one (names, addresses) get a bounded copy
 * of a single token.
 */
struct line {
	const char *s;
	size_t len;
	size_t pos;
};

static int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static int
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static char
upper(char ch)
{
	return ch >= 'a' && ch <= 'z' ? (char)(ch - ('a' - 'A')) : ch;
}

static void
skip_blanks(struct line *l)
{
	while (l->pos < l->len && is_blank(l->s[l->pos]))
		l->pos++;
}

static int
at_end(struct line *l)
{
	skip_blanks(l);
	return l->pos == l->len;
}

/* The next blank-separated token; a backslash keeps the byte after it in the token. */
static int
next_token(struct line *l, const char **tok, size_t *toklen)
{
	size_t start;

	if (at_end(l))
		return 0;
	start = l->pos;
	while (l->pos < l->len && !is_blank(l->s[l->pos])) {
		if (l->s[l->pos] == '\\' && l->pos + 1 < l->len)
			l->pos++;
		l->pos++;
	}
	*tok = l->s + start;
	*toklen = l->pos - start;
	return 1;
}

/* Master-file words are case-insensitive; folded by hand, whatever the locale. */
static int
token_is(const char *tok, size_t n, const char *word)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (word[i] == '\0' || upper(tok[i]) != upper(word[i]))
			return 0;
	return word[i] == '\0';
}

/* Decimal digits only (no sign, no spaces), at most max. */
static int
parse_number(const char *tok, size_t n, uint64_t max, uint64_t *v)
{
	uint64_t r = 0;

	if (n == 0 || n > 20)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(tok[i]))
			return -EINVAL;
		r = r * 10 + (uint64_t)(tok[i] - '0');
		if (r > max)
			return -EINVAL;
	}
	*v = r;
	return 0;
}

static int
next_number(struct line *l, uint64_t max, uint64_t *v)
{
	const char *tok;
	size_t n;

	if (!next_token(l, &tok, &n))
		return -EINVAL;
	return parse_number(tok, n, max, v);
}

/* prefix and a number up to max: TYPE65000, CLASS3, RCODE9. */
static int
parse_prefixed(const char *tok, size_t n, const char *prefix, uint64_t max, uint16_t *v)
{
	size_t plen = strlen(prefix);
	uint64_t num;

	if (n <= plen || !token_is(tok, plen, prefix) ||
	    parse_number(tok + plen, n - plen, max, &num) < 0)
		return -EINVAL;
	*v = (uint16_t)num;
	return 0;
}

/* A word of the table, or its prefixed number. */
static int
parse_mnemonic(const char *tok, size_t n, const struct mnemonic *m, size_t nm,
    const char *prefix, uint64_t max, uint16_t *v)
{
	for (size_t i = 0; i < nm; i++)
		if (token_is(tok, n, m[i].name)) {
			*v = m[i].value;
			return 0;
		}
	return parse_prefixed(tok, n, prefix, max, v);
}

static int
next_type(struct line *l, uint16_t *type)
{
	const char *tok;
	size_t n;

	if (!next_token(l, &tok, &n))
		return -EINVAL;
	for (size_t i = 0; i < NELEM(rrtypes); i++)
		if (rrtypes[i].mnemonic != NULL && token_is(tok, n, rrtypes[i].mnemonic)) {
			*type = rrtypes[i].type;
			return 0;
		}
	return parse_prefixed(tok, n, "TYPE", UINT16_MAX, type);
}

static int
next_class(struct line *l, uint16_t *rclass)
{
	const char *tok;
	size_t n;

	if (!next_token(l, &tok, &n))
		return -EINVAL;
	return parse_mnemonic(tok, n, classes, NELEM(classes), "CLASS", UINT16_MAX, rclass);
}

/* The next token as a C string in buf; too long for buf is an error. */
static int
next_cstring(struct line *l, char *buf, size_t size)
{
	const char *tok;
	size_t n;

	if (!next_token(l, &tok, &n) || n >= size)
		return -EINVAL;
	memcpy(buf, tok, n);
	buf[n] = '\0';
	return 0;
}

static int
next_name(struct line *l, uint8_t name[DNS_NAME_MAX])
{
	char text[NAME_TEXT_MAX];

	if (next_cstring(l, text, sizeof(text)) < 0)
		return -EINVAL;
	return dns_name_from_text(text, name);
}

/* "\DDD" (at most 255) or "\X"; *pos is at the backslash and moves past the escape. */
static int
parse_escape(const struct line *l, size_t *pos, uint8_t *b)
{
	size_t p = *pos + 1;
	unsigned v;

	if (p >= l->len)
		return -EINVAL;
	if (!is_digit(l->s[p])) {
		*b = (uint8_t)l->s[p];
		*pos = p + 1;
		return 0;
	}
	if (l->len - p < 3 || !is_digit(l->s[p + 1]) || !is_digit(l->s[p + 2]))
		return -EINVAL;
	v = (unsigned)(l->s[p] - '0') * 100 + (unsigned)(l->s[p + 1] - '0') * 10 +
	    (unsigned)(l->s[p + 2] - '0');
	if (v > 255)
		return -EINVAL;
	*b = (uint8_t)v;
	*pos = p + 3;
	return 0;
}

/*
 * One character-string: "quoted" (blanks kept) or a bare word, escapes
 * in both; at most 255 bytes.  A quote must end the token it closes.
 */
static int
parse_charstr(struct line *l, struct obuf *o)
{
	size_t lenpos, n = 0;
	int quoted;
	uint8_t zero = 0;

	if (at_end(l))
		return -EINVAL;
	quoted = l->s[l->pos] == '"';
	if (quoted)
		l->pos++;
	lenpos = o->len;
	put_mem(o, &zero, 1);
	for (;;) {
		uint8_t b;

		if (l->pos == l->len) {
			if (quoted)
				return -EINVAL;
			break;
		}
		b = (uint8_t)l->s[l->pos];
		if (quoted && b == '"') {
			l->pos++;
			if (l->pos < l->len && !is_blank(l->s[l->pos]))
				return -EINVAL;
			break;
		}
		if (!quoted && is_blank((char)b))
			break;
		if (!quoted && b == '"')
			return -EINVAL;
		if (b == '\\') {
			if (parse_escape(l, &l->pos, &b) < 0)
				return -EINVAL;
		} else {
			l->pos++;
		}
		if (++n > 255)
			return -EINVAL;
		put_mem(o, &b, 1);
	}
	if (!o->full)
		o->p[lenpos] = (uint8_t)n;
	return 0;
}

static int
parse_field(struct line *l, char kind, struct obuf *o)
{
	char addr[INET6_ADDRSTRLEN];
	uint8_t bin[16], name[DNS_NAME_MAX];
	uint64_t v;
	int n;

	switch (kind) {
	case 'a':
		if (next_cstring(l, addr, sizeof(addr)) < 0 || inet_pton(AF_INET, addr, bin) != 1)
			return -EINVAL;
		put_mem(o, bin, 4);
		return 0;
	case '6':
		if (next_cstring(l, addr, sizeof(addr)) < 0 || inet_pton(AF_INET6, addr, bin) != 1)
			return -EINVAL;
		put_mem(o, bin, 16);
		return 0;
	case 'n':
		if ((n = next_name(l, name)) < 0)
			return -EINVAL;
		put_mem(o, name, (size_t)n);
		return 0;
	case '2':
		if (next_number(l, UINT16_MAX, &v) < 0)
			return -EINVAL;
		put_u16(o, (uint16_t)v);
		return 0;
	case '4':
		if (next_number(l, UINT32_MAX, &v) < 0)
			return -EINVAL;
		put_u32(o, (uint32_t)v);
		return 0;
	case 's':
		return parse_charstr(l, o);
	default:		/* 't' */
		do {
			if (parse_charstr(l, o) < 0)
				return -EINVAL;
		} while (!at_end(l));
		return 0;
	}
}

static int
hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * RFC 3597: "\#", the length, and exactly that many bytes as hex, which
 * may be split into words anywhere (the "\#" is already read).
 */
static int
parse_generic(struct line *l, struct obuf *o)
{
	const char *tok;
	size_t n, digits = 0;
	uint64_t want;
	unsigned hi = 0;

	if (next_number(l, UINT16_MAX, &want) < 0)
		return -EINVAL;
	while (next_token(l, &tok, &n)) {
		for (size_t i = 0; i < n; i++) {
			int h = hex_value(tok[i]);

			if (h < 0 || digits == 2 * want)
				return -EINVAL;
			if (digits++ % 2 == 0) {
				hi = (unsigned)h;
			} else {
				uint8_t b = (uint8_t)(hi << 4 | (unsigned)h);

				put_mem(o, &b, 1);
			}
		}
	}
	return digits == 2 * want ? 0 : -EINVAL;
}

static int
parse_rdata(struct line *l, uint16_t type, struct obuf *o)
{
	const struct rrtype *t = rrtype_find(type);
	size_t mark = l->pos;
	const char *tok;
	size_t n;

	if (next_token(l, &tok, &n) && n == 2 && tok[0] == '\\' && tok[1] == '#')
		return parse_generic(l, o);
	l->pos = mark;
	if (t == NULL || t->mnemonic == NULL || t->layout == NULL)
		return -EINVAL;
	for (const char *f = t->layout; *f != '\0'; f++)
		if (parse_field(l, *f, o) < 0)
			return -EINVAL;
	return at_end(l) ? 0 : -EINVAL;
}

/*
 * owner TTL class type rdata, appended to the template uncompressed but
 * for one thing: an owner spelled exactly as the question becomes a
 * pointer to it, as upstream sent it, or an answer that filled 64 KiB
 * would no longer fit.  The rdata is written first, behind the room for
 * the owner and fixed part, so nothing needs a second buffer; a bad line
 * leaves p->len as it was.
 */
static int
parse_record(struct dump_parser *p, struct line *l)
{
	static const uint8_t to_question[2] = { 0xc0, DNS_HDR_SIZE };
	uint8_t owner[DNS_NAME_MAX], *rr;
	const uint8_t *wire;
	uint16_t type, rclass;
	uint64_t ttl;
	size_t rd, wlen;
	struct obuf o;
	int n;

	if ((n = next_name(l, owner)) < 0 || next_number(l, TTL_MAX, &ttl) < 0 ||
	    next_class(l, &rclass) < 0 || next_type(l, &type) < 0)
		return -EINVAL;
	wire = owner;
	wlen = (size_t)n;
	if (wlen > sizeof(to_question) && wlen == p->cur.key.namelen &&
	    memcmp(owner, p->cur.tmpl + DNS_HDR_SIZE, wlen) == 0) {
		wire = to_question;
		wlen = sizeof(to_question);
	}
	rd = p->len + wlen + 10;
	if (rd > sizeof(p->cur.tmpl))
		return -EINVAL;
	o = (struct obuf){ p->cur.tmpl, sizeof(p->cur.tmpl), rd, 0 };
	if (parse_rdata(l, type, &o) < 0 || o.full)
		return -EINVAL;

	rr = p->cur.tmpl + p->len;
	memcpy(rr, wire, wlen);
	rr += wlen;
	set16_at(rr, type);
	set16_at(rr + 2, rclass);
	set16_at(rr + 4, (uint16_t)(ttl >> 16));
	set16_at(rr + 6, (uint16_t)ttl);
	set16_at(rr + 8, (uint16_t)(o.len - rd));
	p->len = o.len;
	return 0;
}

/*
 * name class type rcode ttl=N [negative]: the header and question of a
 * reply.  The rcode has to fit the header's four bits, since the
 * template is all that carries it to a client.
 */
static int
parse_entry_line(struct dump_parser *p, struct line *l)
{
	struct dns_question q;
	struct obuf o = { p->cur.tmpl, sizeof(p->cur.tmpl), 0, 0 };
	const char *tok;
	size_t n;
	uint64_t ttl;
	uint16_t rcode, flags = DNS_F_QR | DNS_F_RD | DNS_F_RA;
	int namelen, have_ttl = 0, negative = 0;

	memset(&q, 0, sizeof(q));
	if ((namelen = next_name(l, q.name)) < 0 || next_class(l, &q.qclass) < 0 ||
	    next_type(l, &q.qtype) < 0 || !next_token(l, &tok, &n) ||
	    parse_mnemonic(tok, n, rcodes, NELEM(rcodes), "RCODE", 15, &rcode) < 0)
		return -EINVAL;
	q.namelen = (uint8_t)namelen;
	while (next_token(l, &tok, &n)) {
		if (n > 4 && !have_ttl && token_is(tok, 4, "ttl=") &&
		    parse_number(tok + 4, n - 4, UINT32_MAX, &ttl) == 0)
			have_ttl = 1;
		else if (!negative && token_is(tok, n, "negative"))
			negative = 1;
		else if (!(flags & DNS_F_AD) && token_is(tok, n, "ad"))
			flags |= DNS_F_AD;
		else if (!(flags & DNS_F_CD) && token_is(tok, n, "cd"))
			flags |= DNS_F_CD;
		else
			return -EINVAL;
	}
	if (!have_ttl)
		return -EINVAL;

	put_u16(&o, 0);
	put_u16(&o, (uint16_t)(flags | rcode));
	put_u16(&o, 1);
	put_u16(&o, 0);
	put_u16(&o, 0);
	put_u16(&o, 0);
	put_mem(&o, q.name, q.namelen);
	put_u16(&o, q.qtype);
	put_u16(&o, q.qclass);
	p->len = o.len;
	cache_key_from_question(&p->cur.key, &q);
	p->cur.key.cd = (flags & DNS_F_CD) != 0;
	p->cur.ttl = (uint32_t)ttl;
	p->cur.rcode = rcode;
	p->cur.negative = negative;
	return 0;
}

void
dump_parser_init(struct dump_parser *p)
{
	memset(p, 0, sizeof(*p));
}

/* Only the used part of the template and of the TTL offsets is copied. */
static void
copy_entry(struct dump_entry *out, const struct dump_entry *in)
{
	out->key = in->key;
	memcpy(out->tmpl, in->tmpl, in->tlen);
	out->tlen = in->tlen;
	memcpy(&out->info, &in->info, offsetof(struct dns_template_info, ttl_off));
	memcpy(out->info.ttl_off, in->info.ttl_off,
	    in->info.nttl * sizeof(in->info.ttl_off[0]));
	out->ttl = in->ttl;
	out->rcode = in->rcode;
	out->negative = in->negative;
}

/* Close the current entry: 1 if it is good and live, and then it is in *out. */
static int
complete(struct dump_parser *p, struct dump_entry *out)
{
	int n, ok = p->in_entry && !p->cur_bad;

	p->in_entry = 0;
	p->cur_bad = 0;
	if (!ok)
		return 0;
	set16_at(p->cur.tmpl + 6, p->counts[0]);
	set16_at(p->cur.tmpl + 8, p->counts[1]);
	set16_at(p->cur.tmpl + 10, p->counts[2]);
	if ((n = dns_make_template(p->cur.tmpl, p->len, &p->cur.info)) < 0) {
		p->malformed++;
		return 0;
	}
	p->cur.tlen = (size_t)n;
	if (p->cur.ttl == 0) {
		p->expired++;
		return 0;
	}
	copy_entry(out, &p->cur);
	p->entries++;
	return 1;
}

/*
 * A bad line drops the entry it is in, or, outside one, opens a dropped
 * one: the lines after it up to the next ";entry" are not looked at, so
 * one damaged entry (or a run of stray records) counts once.
 */
static void
bad_line(struct dump_parser *p)
{
	if (p->in_entry && p->cur_bad)
		return;
	p->malformed++;
	p->in_entry = 1;
	p->cur_bad = 1;
}

/* Whether the line starts with word followed by a blank or its end; l moves past it. */
static int
keyword(struct line *l, const char *word)
{
	size_t n = strlen(word);

	if (l->len < n || memcmp(l->s, word, n) != 0 ||
	    (l->len > n && !is_blank(l->s[n])))
		return 0;
	l->pos = n;
	return 1;
}

int
dump_parser_line(struct dump_parser *p, const char *line, size_t len,
    struct dump_entry *out)
{
	struct line l = { line, len, 0 };
	int section, done;

	if (len > DUMP_LINE_MAX) {
		bad_line(p);
		return 0;
	}
	if (len > 0 && line[len - 1] == '\r')
		l.len = --len;
	if (at_end(&l))
		return 0;
	/* a NUL would cut the copies handed to the name and address parsers */
	if (memchr(line, '\0', len) != NULL) {
		bad_line(p);
		return 0;
	}
	l.pos = 0;
	if (keyword(&l, ";entry")) {
		done = complete(p, out);
		p->in_entry = 1;
		p->cur_bad = 0;
		p->section = 0;
		memset(p->counts, 0, sizeof(p->counts));
		p->len = 0;
		if (parse_entry_line(p, &l) < 0) {
			p->cur_bad = 1;
			p->malformed++;
		}
		return done;
	}
	if (keyword(&l, ";authority"))
		section = 1;
	else if (keyword(&l, ";additional"))
		section = 2;
	else if (line[0] == ';')
		return 0;		/* a comment */
	else if (is_blank(line[0]))	/* master files mean "owner as before": not ours */
		section = -1;
	else
		section = 0;

	if (!p->in_entry || section < 0) {
		bad_line(p);
		return 0;
	}
	if (p->cur_bad)
		return 0;
	/* no count can overflow: a record takes at least 11 of the template's 65535 bytes */
	if (section < p->section || parse_record(p, &l) < 0) {
		bad_line(p);
		return 0;
	}
	p->section = section;
	p->counts[section]++;
	return 0;
}

int
dump_parser_finish(struct dump_parser *p, struct dump_entry *out)
{
	return complete(p, out);
}

/*
 * The key comes from the template itself, so a record cannot name one
 * question and carry the answer to another.
 */
int
dump_load_answer(uint8_t *tmpl, size_t len, int negative, struct dump_load *l)
{
	struct dns_cursor c;
	uint8_t name[DNS_NAME_MAX];
	int tlen, plen, nl;

	memset(&l->key, 0, sizeof(l->key));
	memset(&l->answer, 0, sizeof(l->answer));
	if ((tlen = dns_make_template(tmpl, len, &l->info)) < 0)
		return -EBADMSG;
	dns_cursor_init(&c, tmpl, (size_t)tlen, DNS_HDR_SIZE);
	if ((nl = dns_read_name(&c, name)) < 0)
		return -EBADMSG;
	l->key.qtype = dns_get16(&c);
	l->key.qclass = dns_get16(&c);
	if (c.err)
		return -EBADMSG;
	dns_name_fold(name, (size_t)nl);
	memcpy(l->key.name, name, (size_t)nl);
	l->key.namelen = (uint8_t)nl;
	l->key.cd = (get16_at(tmpl + 2) & DNS_F_CD) != 0;
	l->answer.full = (struct dns_tmpl){ tmpl, (size_t)tlen, l->info.ttl_off, l->info.nttl };
	l->answer.rcode = l->info.rcode;
	l->answer.negative = negative != 0;
	l->answer.ede = DNS_EDE_NONE;
	if (l->info.dnssec) {
		plen = dns_strip_dnssec(tmpl, (size_t)tlen, l->plain, sizeof(l->plain),
		    &l->pinfo);
		if (plen < 0)
			return -EBADMSG;
		l->answer.plain = (struct dns_tmpl){ l->plain, (size_t)plen, l->pinfo.ttl_off,
			l->pinfo.nttl };
	}
	return 0;
}
