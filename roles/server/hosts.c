/*
 * The hosts file as a read-only table built once per load (start, SIGHUP):
 * names and addresses interned in flat arrays, hashed by index, so that
 * a query costs no allocation.  resolv.conf is resolvconf.c's.
 */
#include "roles/server/hosts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "roles/server/hosts_text.h"

#define LINE_MAX_LEN	4096
#define NAME_TEXT_MAX	253		/* presentation form, no trailing dot */
#define NIL		UINT32_MAX

/*
 * (name, address) pairs are capped apart from names: a few names with a
 * great many addresses each would otherwise cost memory and time out of
 * proportion to what any resolver should answer.
 */
#define HOSTS_MAX_RECORDS	(4 * HOSTS_MAX_NAMES)

/*
 * Invariants: every index below is < its array's count or NIL.  A name
 * is in names[] once (folded), with its records chained head..tail in
 * file order; an address is in addrs[] once, canon being the first name
 * the file gave it; a (name, address) pair is in recs[] once.  Each hash
 * table has a power-of-two size at least twice its array's capacity.
 */
struct hname {
	uint32_t off;		/* wire form at pool + off */
	uint32_t next;		/* name hash chain */
	uint32_t head;		/* first record, file order */
	uint32_t tail;
	uint8_t len;
};

struct haddr {
	uint8_t a[16];		/* IPv4 in the first 4 bytes, the rest zero */
	uint8_t family;		/* 4 or 6 */
	uint32_t next;		/* address hash chain */
	uint32_t canon;		/* name index */
};

struct hrec {
	uint32_t name;
	uint32_t addr;
	uint32_t next_name;	/* the name's next record */
	uint32_t next;		/* pair hash chain */
};

struct hosts {
	uint8_t *pool;
	size_t pool_len, pool_cap;
	struct hname *names;
	size_t nnames, names_cap;
	struct haddr *addrs;
	size_t naddrs, addrs_cap;
	struct hrec *recs;
	size_t nrecs, recs_cap;
	uint32_t *name_ht, *addr_ht, *rec_ht;
	size_t name_mask, addr_mask, rec_mask;
};

/* Folding by hand: tolower() would follow the locale. */
static uint8_t
fold(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

static uint32_t
fnv(uint32_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

/* Folded, so a query in any case hashes like the stored name. */
static uint32_t
name_hash(const uint8_t *name, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= fold(name[i]);
		h *= 16777619u;
	}
	return h;
}

static uint32_t
addr_hash(int family, const uint8_t a[16])
{
	uint8_t f = (uint8_t)family;

	return fnv(fnv(2166136261u, &f, 1), a, 16);
}

static uint32_t
rec_hash(uint32_t name, uint32_t addr)
{
	uint64_t k = (((uint64_t)name << 32) | addr) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(k >> 32);
}

/*
 * A numeric address token: 4 or 6 with a[16] filled, 0 for a scoped
 * address (to be ignored), -EINVAL otherwise.
 */
static int
parse_addr(const char *s, size_t n, uint8_t a[16])
{
	char buf[INET6_ADDRSTRLEN + 1];

	if (memchr(s, '%', n))
		return 0;
	if (n >= sizeof(buf) || memchr(s, '\0', n))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(a, 0, 16);
	if (inet_pton(AF_INET, buf, a) == 1)
		return 4;
	if (inet_pton(AF_INET6, buf, a) == 1)
		return 6;
	return -EINVAL;
}

/*
 * A hostname in presentation form to folded wire form.  Only letters,
 * digits, '-', '_' and '.'; labels of 1-63; at most 253 characters plus
 * an optional trailing dot.  Returns the wire length or -EINVAL.
 */
static int
name_to_wire(const char *s, size_t n, uint8_t out[DNS_NAME_MAX])
{
	size_t o = 0, lab = 0;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n > NAME_TEXT_MAX)
		return -EINVAL;
	for (size_t i = 0; i <= n; i++) {
		uint8_t c = i < n ? (uint8_t)s[i] : '.';

		if (c == '.') {
			if (i == lab || i - lab > DNS_LABEL_MAX)
				return -EINVAL;
			out[o] = (uint8_t)(i - lab);
			for (size_t j = lab; j < i; j++)
				out[o + 1 + j - lab] = fold((uint8_t)s[j]);
			o += 1 + i - lab;
			lab = i + 1;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return -EINVAL;
	}
	out[o++] = 0;
	return (int)o;
}

static size_t
table_size(size_t cap)
{
	size_t n = 16;

	while (n < cap * 2)
		n <<= 1;
	return n;
}

static uint32_t
find_name(const struct hosts *h, const uint8_t *name, size_t len)
{
	uint32_t i = h->name_ht[name_hash(name, len) & h->name_mask];

	for (; i != NIL; i = h->names[i].next) {
		const struct hname *n = &h->names[i];
		size_t k;

		if (n->len != len)
			continue;
		for (k = 0; k < len && h->pool[n->off + k] == fold(name[k]); k++)
			;
		if (k == len)
			return i;
	}
	return NIL;
}

static uint32_t
find_addr(const struct hosts *h, int family, const uint8_t a[16])
{
	uint32_t i = h->addr_ht[addr_hash(family, a) & h->addr_mask];

	for (; i != NIL; i = h->addrs[i].next)
		if (h->addrs[i].family == family && memcmp(h->addrs[i].a, a, 16) == 0)
			return i;
	return NIL;
}

/*
 * One (address, name) pair of the file.  Returns 0, or -ENOSPC when a
 * cap stops it (the caller counts that name as bad).
 */
static int
add_pair(struct hosts *h, int family, const uint8_t a[16],
    const uint8_t *name, size_t len)
{
	uint32_t ni, ai, ri, b;

	ni = find_name(h, name, len);
	ai = find_addr(h, family, a);
	if (ni != NIL && ai != NIL) {
		for (ri = h->rec_ht[rec_hash(ni, ai) & h->rec_mask]; ri != NIL;
		    ri = h->recs[ri].next)
			if (h->recs[ri].name == ni && h->recs[ri].addr == ai)
				return 0;	/* said before: once is enough */
	}
	if (h->nrecs == h->recs_cap ||
	    (ni == NIL && (h->nnames == h->names_cap ||
	    h->pool_cap - h->pool_len < len)) ||
	    (ai == NIL && h->naddrs == h->addrs_cap))
		return -ENOSPC;

	if (ni == NIL) {
		ni = (uint32_t)h->nnames++;
		memcpy(h->pool + h->pool_len, name, len);
		h->names[ni] = (struct hname){ .off = (uint32_t)h->pool_len,
		    .len = (uint8_t)len, .head = NIL, .tail = NIL };
		h->pool_len += len;
		b = name_hash(name, len) & h->name_mask;
		h->names[ni].next = h->name_ht[b];
		h->name_ht[b] = ni;
	}
	if (ai == NIL) {
		ai = (uint32_t)h->naddrs++;
		memcpy(h->addrs[ai].a, a, 16);
		h->addrs[ai].family = (uint8_t)family;
		h->addrs[ai].canon = ni;
		b = addr_hash(family, a) & h->addr_mask;
		h->addrs[ai].next = h->addr_ht[b];
		h->addr_ht[b] = ai;
	}
	ri = (uint32_t)h->nrecs++;
	h->recs[ri] = (struct hrec){ .name = ni, .addr = ai, .next_name = NIL };
	b = rec_hash(ni, ai) & h->rec_mask;
	h->recs[ri].next = h->rec_ht[b];
	h->rec_ht[b] = ri;
	if (h->names[ni].tail == NIL)
		h->names[ni].head = ri;
	else
		h->recs[h->names[ni].tail].next_name = ri;
	h->names[ni].tail = ri;
	return 0;
}

/* One line of the file; returns how many bad things it holds. */
static size_t
parse_line(struct hosts *h, const char *ls, const char *le)
{
	const char *p, *ts;
	uint8_t a[16], wire[DNS_NAME_MAX];
	size_t tn, bad = 0, names = 0;
	int family, n;

	if (le - ls > LINE_MAX_LEN)
		return 1;
	le = text_strip_comment(ls, le, "#");
	p = ls;
	if (!text_next_token(&p, le, &ts, &tn))
		return 0;
	family = parse_addr(ts, tn, a);
	if (family == 0)
		return 0;	/* a scoped address means nothing off its link */
	if (family < 0)
		return 1;
	while (text_next_token(&p, le, &ts, &tn)) {
		names++;
		n = name_to_wire(ts, tn, wire);
		if (n < 0 || add_pair(h, family, a, wire, (size_t)n) < 0)
			bad++;
	}
	return names == 0 ? 1 : bad;
}

/*
 * Upper bounds for the arrays, from the same line and token rules as
 * parse_line(): name tokens, their wire bytes, and address lines.
 */
static void
count_file(const char *buf, size_t len, size_t *ntok, size_t *nbytes, size_t *nlines)
{
	const char *p = buf, *end = buf + len, *ls, *le, *q, *ts;
	size_t tn;

	*ntok = *nbytes = *nlines = 0;
	while (text_next_line(&p, end, &ls, &le)) {
		if (le - ls > LINE_MAX_LEN)
			continue;
		le = text_strip_comment(ls, le, "#");
		q = ls;
		if (!text_next_token(&q, le, &ts, &tn))
			continue;
		(*nlines)++;
		while (text_next_token(&q, le, &ts, &tn)) {
			(*ntok)++;
			*nbytes += tn + 2;
		}
	}
}

static size_t
min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Every array at its final size, before any line is parsed. */
static int
hosts_alloc(struct hosts *h, size_t ntok, size_t nbytes, size_t nlines)
{
	h->names_cap = min_size(ntok, HOSTS_MAX_NAMES);
	h->recs_cap = min_size(ntok, HOSTS_MAX_RECORDS);
	h->addrs_cap = min_size(nlines, h->recs_cap);
	h->pool_cap = min_size(nbytes, h->names_cap * DNS_NAME_MAX);
	h->name_mask = table_size(h->names_cap) - 1;
	h->addr_mask = table_size(h->addrs_cap) - 1;
	h->rec_mask = table_size(h->recs_cap) - 1;

	/* +1: malloc(0) may return NULL, which would read as a failure */
	h->pool = malloc(h->pool_cap + 1);
	h->names = malloc((h->names_cap + 1) * sizeof(*h->names));
	h->addrs = malloc((h->addrs_cap + 1) * sizeof(*h->addrs));
	h->recs = malloc((h->recs_cap + 1) * sizeof(*h->recs));
	h->name_ht = malloc((h->name_mask + 1) * sizeof(uint32_t));
	h->addr_ht = malloc((h->addr_mask + 1) * sizeof(uint32_t));
	h->rec_ht = malloc((h->rec_mask + 1) * sizeof(uint32_t));
	if (!h->pool || !h->names || !h->addrs || !h->recs ||
	    !h->name_ht || !h->addr_ht || !h->rec_ht)
		return -ENOMEM;
	/* all-ones bytes are NIL in every slot */
	memset(h->name_ht, 0xff, (h->name_mask + 1) * sizeof(uint32_t));
	memset(h->addr_ht, 0xff, (h->addr_mask + 1) * sizeof(uint32_t));
	memset(h->rec_ht, 0xff, (h->rec_mask + 1) * sizeof(uint32_t));
	return 0;
}

struct hosts *
hosts_load(const char *path, size_t *bad, int *err)
{
	struct hosts *h;
	const char *p, *end, *ls, *le;
	size_t len, nbad = 0, ntok, nbytes, nlines;
	char *buf;
	int e;

	if (bad)
		*bad = 0;
	e = text_read_file(path, &buf, &len);
	if (e < 0)
		goto fail;
	h = calloc(1, sizeof(*h));
	if (!h) {
		free(buf);
		e = -ENOMEM;
		goto fail;
	}
	count_file(buf, len, &ntok, &nbytes, &nlines);
	e = hosts_alloc(h, ntok, nbytes, nlines);
	if (e < 0) {
		free(buf);
		hosts_free(h);
		goto fail;
	}
	p = buf;
	end = buf + len;
	while (text_next_line(&p, end, &ls, &le))
		nbad += parse_line(h, ls, le);
	free(buf);
	if (bad)
		*bad = nbad;
	if (err)
		*err = 0;
	return h;
fail:
	if (err)
		*err = e;
	return NULL;
}

void
hosts_free(struct hosts *h)
{
	if (!h)
		return;
	free(h->pool);
	free(h->names);
	free(h->addrs);
	free(h->recs);
	free(h->name_ht);
	free(h->addr_ht);
	free(h->rec_ht);
	free(h);
}

size_t
hosts_count(const struct hosts *h)
{
	return h ? h->nnames : 0;
}

int
hosts_lookup(const struct hosts *h, const uint8_t *name, size_t namelen,
    int family, uint8_t *addrs, size_t max)
{
	size_t n = 0, isz;
	uint32_t ni;

	if (family != 4 && family != 6)
		return -EINVAL;
	if (!h || !name || namelen == 0 || namelen > DNS_NAME_MAX)
		return -ENOENT;
	ni = find_name(h, name, namelen);
	if (ni == NIL)
		return -ENOENT;
	isz = family == 4 ? 4 : 16;
	for (uint32_t ri = h->names[ni].head; ri != NIL && n < max;
	    ri = h->recs[ri].next_name) {
		const struct haddr *a = &h->addrs[h->recs[ri].addr];

		if (a->family != family)
			continue;
		memcpy(addrs + n * isz, a->a, isz);
		n++;
	}
	return (int)n;
}

/* Whether the wire label at name + *off is word (ASCII case-insensitive). */
static int
label_is(const uint8_t *name, size_t len, size_t *off, const char *word)
{
	size_t wl = strlen(word), o = *off;

	if (o >= len || name[o] != wl || len - o - 1 < wl)
		return 0;
	for (size_t i = 0; i < wl; i++)
		if (fold(name[o + 1 + i]) != (uint8_t)word[i])
			return 0;
	*off = o + 1 + wl;
	return 1;
}

static int
hex_value(uint8_t c)
{
	c = fold(c);
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* d.c.b.a.in-addr.arpa: four decimal labels, 0-255, no leading zeros. */
static int
parse_reverse4(const uint8_t *name, size_t len, uint8_t a[16])
{
	size_t off = 0;

	memset(a, 0, 16);
	for (int i = 3; i >= 0; i--) {
		unsigned v = 0;
		size_t ll;

		if (off >= len)
			return -ENOENT;
		ll = name[off];
		if (ll < 1 || ll > 3 || len - off - 1 < ll)
			return -ENOENT;
		if (ll > 1 && name[off + 1] == '0')
			return -ENOENT;
		for (size_t k = 1; k <= ll; k++) {
			if (name[off + k] < '0' || name[off + k] > '9')
				return -ENOENT;
			v = v * 10 + (unsigned)(name[off + k] - '0');
		}
		if (v > 255)
			return -ENOENT;
		a[i] = (uint8_t)v;
		off += 1 + ll;
	}
	if (!label_is(name, len, &off, "in-addr") || !label_is(name, len, &off, "arpa"))
		return -ENOENT;
	return off + 1 == len && name[off] == 0 ? 0 : -ENOENT;
}

/* 32 single-nibble labels, least significant first, then ip6.arpa. */
static int
parse_reverse6(const uint8_t *name, size_t len, uint8_t a[16])
{
	size_t off = 0;

	memset(a, 0, 16);
	for (int i = 31; i >= 0; i--) {
		int v;

		if (len - off < 2 || name[off] != 1)
			return -ENOENT;
		v = hex_value(name[off + 1]);
		if (v < 0)
			return -ENOENT;
		a[i / 2] |= (uint8_t)(i % 2 ? v : v << 4);
		off += 2;
	}
	if (!label_is(name, len, &off, "ip6") || !label_is(name, len, &off, "arpa"))
		return -ENOENT;
	return off + 1 == len && name[off] == 0 ? 0 : -ENOENT;
}

int
hosts_reverse(const struct hosts *h, const uint8_t *name, size_t namelen,
    uint8_t out[DNS_NAME_MAX])
{
	const struct hname *n;
	uint8_t a[16];
	uint32_t ai;
	int family;

	if (!h || !name || namelen == 0 || namelen > DNS_NAME_MAX)
		return -ENOENT;
	if (parse_reverse4(name, namelen, a) == 0)
		family = 4;
	else if (parse_reverse6(name, namelen, a) == 0)
		family = 6;
	else
		return -ENOENT;
	ai = find_addr(h, family, a);
	if (ai == NIL)
		return -ENOENT;
	n = &h->names[h->addrs[ai].canon];
	memcpy(out, h->pool + n->off, n->len);
	return n->len;
}
