/*
 * Access control by client address.  Entries are normalised when parsed
 * (host bits cleared, IPv4-mapped networks turned into IPv4) so that the
 * per-query match is a byte compare and a mask, nothing more.
 */
#include "roles/server/acl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static int
fail(const char **why, const char *text)
{
	if (why)
		*why = text;
	return -EINVAL;
}

/* Clear the bits after prefix; 1 if any was set. */
static int
mask_host_bits(uint8_t *a, size_t bytes, unsigned prefix)
{
	int had = 0;

	for (size_t i = 0; i < bytes; i++) {
		unsigned keep = prefix >= 8 * (i + 1) ? 8 :
		    prefix > 8 * i ? prefix - 8 * (unsigned)i : 0;
		uint8_t m = (uint8_t)(0xff00u >> keep);

		if (a[i] & (uint8_t)~m)
			had = 1;
		a[i] &= m;
	}
	return had;
}

/* A decimal prefix length 0..max, the whole of s, no sign, no leading zeros. */
static int
parse_prefix(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int
acl_parse(const char *s, struct acl_entry *e, const char **why)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t hostlen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned prefix, max;
	int had;

	memset(e, 0, sizeof(*e));
	if (hostlen == 0)
		return fail(why, "missing address");
	if (hostlen >= sizeof(host))
		return fail(why, "not a numeric IPv4 or IPv6 address");
	memcpy(host, s, hostlen);
	host[hostlen] = '\0';
	if (inet_pton(AF_INET, host, e->addr) == 1) {
		e->family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, host, e->addr) == 1) {
		e->family = 6;
		max = 128;
	} else {
		return fail(why, strchr(host, '%') ?
		    "a %scope has no place in an address block" :
		    "not a numeric IPv4 or IPv6 address");
	}
	prefix = max;
	if (slash && parse_prefix(slash + 1, max, &prefix) < 0)
		return fail(why, e->family == 4 ?
		    "prefix length must be a number from 0 to 32" :
		    "prefix length must be a number from 0 to 128");

	had = mask_host_bits(e->addr, max / 8, prefix);
	/* clients on mapped addresses are matched as IPv4: store these so */
	if (e->family == 6 && prefix >= 96 && memcmp(e->addr, v4mapped, 12) == 0) {
		memmove(e->addr, e->addr + 12, 4);
		memset(e->addr + 4, 0, 12);
		e->family = 4;
		prefix -= 96;
	}
	e->prefix = (uint8_t)prefix;
	return had;
}

/* The address to match and its family (4 or 6), mapped IPv6 as IPv4; 0 if neither. */
static int
client_addr(const struct sockaddr *sa, const uint8_t **a)
{
	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		*a = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		return 4;
	}
	if (sa->sa_family == AF_INET6) {
		const uint8_t *p = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;

		if (memcmp(p, v4mapped, 12) == 0) {
			*a = p + 12;
			return 4;
		}
		*a = p;
		return 6;
	}
	return 0;
}

static int
in_entry(const struct acl_entry *e, int family, const uint8_t *a)
{
	unsigned whole = e->prefix / 8u, rest = e->prefix % 8u;

	if (e->family != family || memcmp(e->addr, a, whole) != 0)
		return 0;
	return rest == 0 || ((a[whole] ^ e->addr[whole]) & (uint8_t)(0xff00u >> rest)) == 0;
}

int
acl_match(const struct acl_entry *list, size_t n, const struct sockaddr *sa)
{
	const uint8_t *a = NULL;
	int family = client_addr(sa, &a);

	if (family == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (in_entry(&list[i], family, a))
			return 1;
	return 0;
}

int
acl_is_loopback(const struct sockaddr *sa)
{
	static const uint8_t v6loop[16] = { [15] = 1 };
	const uint8_t *a = NULL;

	switch (client_addr(sa, &a)) {
	case 4:
		return a[0] == 127;
	case 6:
		return memcmp(a, v6loop, 16) == 0;
	default:
		return 0;
	}
}

char *
acl_format(const struct acl_entry *e, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (size == 0)
		return buf;
	if (!inet_ntop(e->family == 4 ? AF_INET : AF_INET6, e->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, size, "%s/%u", a, e->prefix);
	return buf;
}
