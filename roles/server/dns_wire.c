/*
 * The reading side of the DNS wire format: a bounds-checked cursor,
 * names (read, folded, compared, to and from presentation form) and
 * resource records.  Every length that comes off the wire is checked
 * against the buffer before a byte behind it is touched.
 */
#include "roles/server/dns_impl.h"

#include <errno.h>
#include <string.h>

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
size_t
dns_plain_name_len(const uint8_t *p, size_t max)
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

	if (len == 0 || dns_plain_name_len(name, len) != len)
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

/* One resource record at the cursor, checked for bounds; an OPT for its shape too. */
int
dns_read_rr(struct dns_cursor *c, struct dns_rr *rr)
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
