/*
 * Upstream addresses, forward zones and the RFC 6303 zones.  All parsing
 * is of operator input or of names already checked by dns.c, into fixed
 * buffers; nothing here allocates or logs.
 */
#include "common/endpoint.h"
#include "roles/server/zones.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* An address, '%' and an interface name or index. */
#define HOST_MAX	(INET6_ADDRSTRLEN + 1 + IF_NAMESIZE)
/* A zone name in presentation form: 253 characters, each maybe \DDD. */
#define ZONE_TEXT_MAX	1024

static int
fail(const char **why, const char *text)
{
	if (why)
		*why = text;
	return -EINVAL;
}

/*
 * An interface name, else a decimal index, as the C library's
 * inet6_scopeid_pton tries them (a name may be all digits).
 */
static int
parse_scope(const char *scope, uint32_t *id, const char **why)
{
	unsigned long long v = 0;
	size_t n = strlen(scope);
	unsigned idx;

	if (n == 0)
		return fail(why, "empty %scope: name an interface (fe80::1%eth0)");
	if (n < IF_NAMESIZE && (idx = if_nametoindex(scope)) != 0) {
		*id = idx;
		return 0;
	}
	if (n > 10)
		return fail(why, "unknown interface in %scope");
	for (size_t i = 0; i < n; i++) {
		if (scope[i] < '0' || scope[i] > '9')
			return fail(why, "unknown interface in %scope");
		v = v * 10 + (unsigned)(scope[i] - '0');
	}
	if (v == 0 || v > UINT32_MAX)
		return fail(why, "interface index in %scope out of range");
	*id = (uint32_t)v;
	return 0;
}

static int
is_link_local(const struct in6_addr *a)
{
	return a->s6_addr[0] == 0xfe && (a->s6_addr[1] & 0xc0) == 0x80;
}

int
server_addr_parse(const char *s, uint16_t default_port,
    struct sockaddr_storage *ss, socklen_t *len, const char **why)
{
	char host[HOST_MAX];
	const char *h = s, *ports = NULL;
	char *scope;
	size_t hostlen;
	int bracket = 0, family;
	uint16_t port = default_port;
	uint32_t scope_id = 0;
	struct in_addr a4;
	struct in6_addr a6;

	memset(ss, 0, sizeof(*ss));
	*len = 0;
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close)
			return fail(why, "missing ']' after IPv6 address");
		if (close[1] == ':')
			ports = close + 2;
		else if (close[1] != '\0')
			return fail(why, "expected ':port' after ']'");
		h = s + 1;
		hostlen = (size_t)(close - h);
		bracket = 1;
	} else {
		const char *colon = strchr(s, ':');

		/* one colon is IPv4:port; IPv6 has two or more */
		if (colon && !strchr(colon + 1, ':'))
			ports = colon + 1;
		hostlen = ports ? (size_t)(colon - s) : strlen(s);
	}
	if (hostlen == 0)
		return fail(why, "missing address");
	if (hostlen >= sizeof(host))
		return fail(why, "not a numeric IPv4 or IPv6 address");
	memcpy(host, h, hostlen);
	host[hostlen] = '\0';
	scope = strchr(host, '%');
	if (scope)
		*scope++ = '\0';

	if (!bracket && inet_pton(AF_INET, host, &a4) == 1) {
		if (scope)
			return fail(why, "a %scope is only for IPv6 link-local addresses");
		family = AF_INET;
	} else if (inet_pton(AF_INET6, host, &a6) != 1) {
		return fail(why, bracket ? "not a numeric IPv6 address" :
		    "not a numeric IPv4 or IPv6 address");
	} else if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		if (scope)
			return fail(why, "a %scope is only for IPv6 link-local addresses");
		/* an AF_INET6 socket could not reach it with bindv6only=1 */
		memcpy(&a4, &a6.s6_addr[12], 4);
		family = AF_INET;
	} else {
		if (is_link_local(&a6) && !scope)
			return fail(why, "link-local address needs %IFACE (fe80::1%eth0)");
		if (!is_link_local(&a6) && scope)
			return fail(why, "a %scope is only for IPv6 link-local addresses");
		if (scope && parse_scope(scope, &scope_id, why) < 0)
			return -EINVAL;
		family = AF_INET6;
	}
	if (ports && endpoint_parse_port(ports, ports + strlen(ports), &port) < 0)
		return fail(why, "port must be a number from 1 to 65535");
	if (port == 0)
		return fail(why, "missing ':port'");

	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = a4;
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = a6;
		sin6->sin6_scope_id = scope_id;
		*len = sizeof(*sin6);
	}
	return 0;
}

char *
server_addr_format(const struct sockaddr *sa, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN], scope[1 + IF_NAMESIZE + 10];

	if (size == 0)
		return buf;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		snprintf(buf, size, "%s:%u", a, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		char ifname[IF_NAMESIZE];

		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		scope[0] = '\0';
		if (sin6->sin6_scope_id != 0) {
			if (if_indextoname(sin6->sin6_scope_id, ifname))
				snprintf(scope, sizeof(scope), "%%%s", ifname);
			else
				snprintf(scope, sizeof(scope), "%%%u", sin6->sin6_scope_id);
		}
		snprintf(buf, size, "[%s%s]:%u", a, scope, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, size, "(address family %d)", sa->sa_family);
	}
	return buf;
}

/* Presentation-form names only: a space or control byte is a typo, not a label. */
static int
zone_text_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return 0;
	return 1;
}

int
forward_zone_parse(const char *spec, struct forward_zone *z, const char **why)
{
	char text[ZONE_TEXT_MAX], item[HOST_MAX + 9];	/* "[" host "]:65535" */
	const char *eq = strchr(spec, '='), *p;
	size_t n;
	int len;

	memset(z, 0, sizeof(*z));
	if (!eq)
		return fail(why, "expected ZONE=ADDRESS[,ADDRESS...]");
	n = (size_t)(eq - spec);
	if (n == 0)
		return fail(why, "missing zone name before '='");
	if (n >= sizeof(text))
		return fail(why, "zone name too long");
	if (!zone_text_ok(spec, n))
		return fail(why, "space or control character in the zone name");
	memcpy(text, spec, n);
	text[n] = '\0';
	len = dns_name_from_text(text, z->name);
	if (len < 0)
		return fail(why, "not a valid zone name (empty label, label over 63 or name over 255 octets)");
	dns_name_fold(z->name, (size_t)len);
	z->namelen = (uint8_t)len;

	p = eq + 1;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t il = comma ? (size_t)(comma - p) : strlen(p);

		if (il == 0)
			return fail(why, z->naddr == 0 && !comma ?
			    "missing address after '='" : "empty address in the list");
		if (z->naddr == ZONE_MAX_ADDR)
			return fail(why, "more than 8 addresses");
		if (il >= sizeof(item))
			return fail(why, "not a numeric IPv4 or IPv6 address");
		memcpy(item, p, il);
		item[il] = '\0';
		if (server_addr_parse(item, 53, &z->addr[z->naddr],
		    &z->addrlen[z->naddr], why) < 0)
			return -EINVAL;
		z->naddr++;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/*
 * The labels of an uncompressed wire name of exactly len bytes: their
 * offsets into off[] (the root label not included); returns how many, or
 * -1 if the name is malformed.
 */
#define LABELS_MAX	(DNS_NAME_MAX / 2)
static int
name_labels(const uint8_t *name, size_t len, size_t off[LABELS_MAX])
{
	size_t pos = 0;
	int n = 0;

	if (len == 0 || len > DNS_NAME_MAX)
		return -1;
	while (pos < len) {
		uint8_t l = name[pos];

		if (l == 0)
			return pos + 1 == len ? n : -1;
		if (l > DNS_LABEL_MAX || (size_t)l + 1 >= len - pos || n == LABELS_MAX)
			return -1;
		off[n++] = pos;
		pos += (size_t)l + 1;
	}
	return -1;
}

int
forward_zone_find(const struct forward_zone *z, size_t n,
    const uint8_t *name, size_t namelen)
{
	size_t off[LABELS_MAX + 1];
	int nl = name_labels(name, namelen, off);

	if (nl < 0)
		return -1;
	off[nl] = namelen - 1;		/* the root, where "." matches */
	/* leftmost suffix first: the first hit is the longest zone */
	for (int i = 0; i <= nl; i++) {
		size_t rest = namelen - off[i];

		for (size_t k = 0; k < n; k++)
			if (z[k].namelen == rest &&
			    dns_name_equal(z[k].name, rest, name + off[i], rest))
				return (int)k;
	}
	return -1;
}

/* Whether the label at name + off is word (lower case), in any case. */
static int
label_is(const uint8_t *name, size_t off, const char *word)
{
	size_t n = strlen(word);

	if (name[off] != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = name[off + 1 + i];

		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c - 'A' + 'a');
		if (c != (uint8_t)word[i])
			return 0;
	}
	return 1;
}

/* A label that is a decimal octet as in-addr.arpa writes it (no leading zero); else -1. */
static int
label_octet(const uint8_t *name, size_t off)
{
	size_t n = name[off];
	unsigned v = 0;

	if (n == 0 || n > 3 || (n > 1 && name[off + 1] == '0'))
		return -1;
	for (size_t i = 1; i <= n; i++) {
		if (name[off + i] < '0' || name[off + i] > '9')
			return -1;
		v = v * 10 + (unsigned)(name[off + i] - '0');
	}
	return v > 255 ? -1 : (int)v;
}

/*
 * RFC 6303 section 4 and RFC 7793, as address prefixes: the octets in
 * address order, the last one a range lo..hi (16..31.172 is 16 zones).
 */
static const struct {
	uint8_t n;
	uint8_t oct[4];
	uint8_t hi;
} v4zones[] = {
	{ 1, { 10 }, 10 },			/* 4.1 RFC 1918 */
	{ 2, { 172, 16 }, 31 },			/* 4.1 RFC 1918 */
	{ 2, { 192, 168 }, 168 },		/* 4.1 RFC 1918 */
	{ 1, { 0 }, 0 },			/* 4.2 "this" network */
	{ 1, { 127 }, 127 },			/* 4.2 loopback */
	{ 2, { 169, 254 }, 254 },		/* 4.2 link local */
	{ 3, { 192, 0, 2 }, 2 },		/* 4.2 TEST-NET-1 */
	{ 3, { 198, 51, 100 }, 100 },		/* 4.2 TEST-NET-2 */
	{ 3, { 203, 0, 113 }, 113 },		/* 4.2 TEST-NET-3 */
	{ 4, { 255, 255, 255, 255 }, 255 },	/* 4.2 broadcast */
	{ 2, { 100, 64 }, 127 },		/* RFC 7793: RFC 6598 shared space */
};

/* The ip6.arpa zones as nibbles in address order. */
static const char *const v6zones[] = {
	"00000000000000000000000000000000",	/* 4.3 :: */
	"00000000000000000000000000000001",	/* 4.3 ::1 */
	"fd",					/* 4.4 fd00::/8 (RFC 4193) */
	"fe8", "fe9", "fea", "feb",		/* 4.5 fe80::/10 */
	"20010db8",				/* 4.6 2001:db8::/32 */
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Labels [0, nb) precede in-addr.arpa; label nb - 1 is the first octet. */
static int
v4_zone(const uint8_t *name, const size_t *off, int nb)
{
	for (size_t z = 0; z < NELEM(v4zones); z++) {
		int k = v4zones[z].n, j;

		if (nb < k)
			continue;
		for (j = 0; j < k; j++) {
			int o = label_octet(name, off[nb - 1 - j]);
			int hi = j == k - 1 ? v4zones[z].hi : v4zones[z].oct[j];

			if (o < v4zones[z].oct[j] || o > hi)
				break;
		}
		if (j == k)
			return nb - k;
	}
	return -1;
}

static int
v6_zone(const uint8_t *name, const size_t *off, int nb)
{
	for (size_t z = 0; z < NELEM(v6zones); z++) {
		int k = (int)strlen(v6zones[z]), j;

		if (nb < k)
			continue;
		for (j = 0; j < k; j++) {
			char nib[2] = { v6zones[z][j], '\0' };

			if (!label_is(name, off[nb - 1 - j], nib))
				break;
		}
		if (j == k)
			return nb - k;
	}
	return -1;
}

int
private_reverse_zone(const uint8_t *name, size_t namelen, size_t *zone_off)
{
	size_t off[LABELS_MAX];
	int nl = name_labels(name, namelen, off), first;

	if (nl < 3 || !label_is(name, off[nl - 1], "arpa"))
		return 0;
	if (label_is(name, off[nl - 2], "in-addr"))
		first = v4_zone(name, off, nl - 2);
	else if (label_is(name, off[nl - 2], "ip6"))
		first = v6_zone(name, off, nl - 2);
	else
		return 0;
	if (first < 0)
		return 0;
	if (zone_off)
		*zone_off = off[first];
	return 1;
}
