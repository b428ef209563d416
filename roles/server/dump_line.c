/*
 * Reading one line of a cache dump word by word: tokens, numbers, type,
 * class and rcode mnemonics, names, and rdata in its usual form or as
 * RFC 3597 hex, written in wire form through a bounded writer.
 */
#include "roles/server/dump.h"
#include "roles/server/dump_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

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
skip_blanks(struct dump_line *l)
{
	while (l->pos < l->len && dump_is_blank(l->s[l->pos]))
		l->pos++;
}

int
dump_at_end(struct dump_line *l)
{
	skip_blanks(l);
	return l->pos == l->len;
}

/* The next blank-separated token; a backslash keeps the byte after it in the token. */
int
dump_next_token(struct dump_line *l, const char **tok, size_t *toklen)
{
	size_t start;

	if (dump_at_end(l))
		return 0;
	start = l->pos;
	while (l->pos < l->len && !dump_is_blank(l->s[l->pos])) {
		if (l->s[l->pos] == '\\' && l->pos + 1 < l->len)
			l->pos++;
		l->pos++;
	}
	*tok = l->s + start;
	*toklen = l->pos - start;
	return 1;
}

/* Master-file words are case-insensitive; folded by hand, whatever the locale. */
int
dump_token_is(const char *tok, size_t n, const char *word)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (word[i] == '\0' || upper(tok[i]) != upper(word[i]))
			return 0;
	return word[i] == '\0';
}

/* Decimal digits only (no sign, no spaces), at most max. */
int
dump_parse_number(const char *tok, size_t n, uint64_t max, uint64_t *v)
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

int
dump_next_number(struct dump_line *l, uint64_t max, uint64_t *v)
{
	const char *tok;
	size_t n;

	if (!dump_next_token(l, &tok, &n))
		return -EINVAL;
	return dump_parse_number(tok, n, max, v);
}

/* prefix and a number up to max: TYPE65000, CLASS3, RCODE9. */
static int
parse_prefixed(const char *tok, size_t n, const char *prefix, uint64_t max, uint16_t *v)
{
	size_t plen = strlen(prefix);
	uint64_t num;

	if (n <= plen || !dump_token_is(tok, plen, prefix) ||
	    dump_parse_number(tok + plen, n - plen, max, &num) < 0)
		return -EINVAL;
	*v = (uint16_t)num;
	return 0;
}

/* A word of the table, or its prefixed number. */
int
dump_parse_mnemonic(const char *tok, size_t n, const struct mnemonic *m, size_t nm,
    const char *prefix, uint64_t max, uint16_t *v)
{
	for (size_t i = 0; i < nm; i++)
		if (dump_token_is(tok, n, m[i].name)) {
			*v = m[i].value;
			return 0;
		}
	return parse_prefixed(tok, n, prefix, max, v);
}

int
dump_next_type(struct dump_line *l, uint16_t *type)
{
	const char *tok;
	size_t n;

	if (!dump_next_token(l, &tok, &n))
		return -EINVAL;
	for (size_t i = 0; i < dump_nrrtypes; i++)
		if (dump_rrtypes[i].mnemonic != NULL &&
		    dump_token_is(tok, n, dump_rrtypes[i].mnemonic)) {
			*type = dump_rrtypes[i].type;
			return 0;
		}
	return parse_prefixed(tok, n, "TYPE", UINT16_MAX, type);
}

/* A type as the operator writes it (A, aaaa, TYPE65): one word, nothing after. */
int
dump_type_from_text(const char *text, uint16_t *type)
{
	struct dump_line l = { .s = text, .len = strlen(text) };

	if (dump_next_type(&l, type) < 0 || !dump_at_end(&l))
		return -EINVAL;
	return 0;
}

int
dump_next_class(struct dump_line *l, uint16_t *rclass)
{
	const char *tok;
	size_t n;

	if (!dump_next_token(l, &tok, &n))
		return -EINVAL;
	return dump_parse_mnemonic(tok, n, dump_classes, dump_nclasses, "CLASS", UINT16_MAX,
	    rclass);
}

/* The next token as a C string in buf; too long for buf is an error. */
static int
next_cstring(struct dump_line *l, char *buf, size_t size)
{
	const char *tok;
	size_t n;

	if (!dump_next_token(l, &tok, &n) || n >= size)
		return -EINVAL;
	memcpy(buf, tok, n);
	buf[n] = '\0';
	return 0;
}

int
dump_next_name(struct dump_line *l, uint8_t name[DNS_NAME_MAX])
{
	char text[NAME_TEXT_MAX];

	if (next_cstring(l, text, sizeof(text)) < 0)
		return -EINVAL;
	return dns_name_from_text(text, name);
}

/* "\DDD" (at most 255) or "\X"; *pos is at the backslash and moves past the escape. */
static int
parse_escape(const struct dump_line *l, size_t *pos, uint8_t *b)
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
parse_charstr(struct dump_line *l, struct wbuf *o)
{
	size_t lenpos, n = 0;
	int quoted;
	uint8_t zero = 0;

	if (dump_at_end(l))
		return -EINVAL;
	quoted = l->s[l->pos] == '"';
	if (quoted)
		l->pos++;
	lenpos = o->len;
	put_bytes(o, &zero, 1);
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
			if (l->pos < l->len && !dump_is_blank(l->s[l->pos]))
				return -EINVAL;
			break;
		}
		if (!quoted && dump_is_blank((char)b))
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
		put_bytes(o, &b, 1);
	}
	if (!o->full)
		o->p[lenpos] = (uint8_t)n;
	return 0;
}

static int
parse_field(struct dump_line *l, char kind, struct wbuf *o)
{
	char addr[INET6_ADDRSTRLEN];
	uint8_t bin[16], name[DNS_NAME_MAX];
	uint64_t v;
	int n;

	switch (kind) {
	case 'a':
		if (next_cstring(l, addr, sizeof(addr)) < 0 || inet_pton(AF_INET, addr, bin) != 1)
			return -EINVAL;
		put_bytes(o, bin, 4);
		return 0;
	case '6':
		if (next_cstring(l, addr, sizeof(addr)) < 0 || inet_pton(AF_INET6, addr, bin) != 1)
			return -EINVAL;
		put_bytes(o, bin, 16);
		return 0;
	case 'n':
		if ((n = dump_next_name(l, name)) < 0)
			return -EINVAL;
		put_bytes(o, name, (size_t)n);
		return 0;
	case '2':
		if (dump_next_number(l, UINT16_MAX, &v) < 0)
			return -EINVAL;
		put16(o, (uint16_t)v);
		return 0;
	case '4':
		if (dump_next_number(l, UINT32_MAX, &v) < 0)
			return -EINVAL;
		put32(o, (uint32_t)v);
		return 0;
	case 's':
		return parse_charstr(l, o);
	default:		/* 't' */
		do {
			if (parse_charstr(l, o) < 0)
				return -EINVAL;
		} while (!dump_at_end(l));
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
parse_generic(struct dump_line *l, struct wbuf *o)
{
	const char *tok;
	size_t n, digits = 0;
	uint64_t want;
	unsigned hi = 0;

	if (dump_next_number(l, UINT16_MAX, &want) < 0)
		return -EINVAL;
	while (dump_next_token(l, &tok, &n)) {
		for (size_t i = 0; i < n; i++) {
			int h = hex_value(tok[i]);

			if (h < 0 || digits == 2 * want)
				return -EINVAL;
			if (digits++ % 2 == 0) {
				hi = (unsigned)h;
			} else {
				uint8_t b = (uint8_t)(hi << 4 | (unsigned)h);

				put_bytes(o, &b, 1);
			}
		}
	}
	return digits == 2 * want ? 0 : -EINVAL;
}

int
dump_parse_rdata(struct dump_line *l, uint16_t type, struct wbuf *o)
{
	const struct rrtype *t = dump_rrtype_find(type);
	size_t mark = l->pos;
	const char *tok;
	size_t n;

	if (dump_next_token(l, &tok, &n) && n == 2 && tok[0] == '\\' && tok[1] == '#')
		return parse_generic(l, o);
	l->pos = mark;
	if (t == NULL || t->mnemonic == NULL || t->layout == NULL)
		return -EINVAL;
	for (const char *f = t->layout; *f != '\0'; f++)
		if (parse_field(l, *f, o) < 0)
			return -EINVAL;
	return dump_at_end(l) ? 0 : -EINVAL;
}
