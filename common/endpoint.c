/*
 * Endpoint syntax.  Addresses are numeric only: a name would make the
 * policy depend on a resolver, and the creator must not trust one.
 */
#include "common/endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
fail(const char **why, const char *text)
{
	if (why)
		*why = text;
	return -EINVAL;
}

int
endpoint_parse_port(const char *s, const char *end, uint16_t *port)
{
	unsigned long v = 0;

	if (s == end || end - s > 5)
		return -EINVAL;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static int
parse_ports(const char *s, unsigned flags, struct endpoint *ep, const char **why)
{
	const char *end = s + strlen(s);
	const char *dash = strchr(s, '-');

	if (dash && (flags & ENDPOINT_NO_RANGE))
		return fail(why, "a port range is not allowed here");
	if (endpoint_parse_port(s, dash ? dash : end, &ep->port_lo) < 0 ||
	    (dash && endpoint_parse_port(dash + 1, end, &ep->port_hi) < 0))
		return fail(why, "port must be a number from 1 to 65535");
	if (!dash)
		ep->port_hi = ep->port_lo;
	if (ep->port_hi < ep->port_lo)
		return fail(why, "port range is backwards");
	return 0;
}

static int
parse_proto(const char **s, unsigned flags, struct endpoint *ep, const char **why)
{
	static const struct { const char *name; uint8_t proto; } protos[] = {
		{ "udp:", FDT_PROTO_UDP },
		{ "tcp:", FDT_PROTO_TCP },
		{ "both:", FDT_PROTO_BOTH },
	};

	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		size_t n = strlen(protos[i].name);
		if (strncmp(*s, protos[i].name, n) == 0) {
			ep->proto = protos[i].proto;
			*s += n;
			return 0;
		}
	}
	if (flags & ENDPOINT_PROTO_OPTIONAL) {
		ep->proto = FDT_PROTO_BOTH;
		return 0;
	}
	return fail(why, "must start with udp:, tcp: or both:");
}

int
endpoint_parse(const char *s, unsigned flags, uint16_t default_port,
    struct endpoint *ep, const char **why)
{
	char host[INET6_ADDRSTRLEN];
	const char *ports = NULL;
	size_t hostlen;

	memset(ep, 0, sizeof(*ep));
	if (parse_proto(&s, flags, ep, why) < 0)
		return -EINVAL;

	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (!close)
			return fail(why, "missing ']' after IPv6 address");
		if (close[1] == ':')
			ports = close + 2;
		else if (close[1] != '\0')
			return fail(why, "expected ':port' after ']'");
		s++;
		hostlen = (size_t)(close - s);
		ep->family = FDT_FAMILY_INET6;
	} else {
		const char *colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			return fail(why, "IPv6 addresses go in brackets: [::1]:53");
		if (colon)
			ports = colon + 1;
		hostlen = colon ? (size_t)(colon - s) : strlen(s);
		ep->family = FDT_FAMILY_INET;
	}
	if (hostlen == 0 || hostlen >= sizeof(host))
		return fail(why, "missing or over-long address");
	memcpy(host, s, hostlen);
	host[hostlen] = '\0';
	if (inet_pton(ep->family == FDT_FAMILY_INET ? AF_INET : AF_INET6,
	    host, ep->addr) != 1)
		return fail(why, ep->family == FDT_FAMILY_INET ?
		    "not a numeric IPv4 address" : "not a numeric IPv6 address");

	if (ports)
		return parse_ports(ports, flags, ep, why);
	if (!(flags & ENDPOINT_PORT_OPTIONAL) || default_port == 0)
		return fail(why, "missing ':port'");
	ep->port_lo = ep->port_hi = default_port;
	return 0;
}

static int
format_addr(uint8_t family, const uint8_t *addr, uint16_t port, char *buf,
    size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (family == FDT_FAMILY_INET6) {
		inet_ntop(AF_INET6, addr, a, sizeof(a));
		return snprintf(buf, size, "[%s]:%u", a, port);
	}
	inet_ntop(AF_INET, addr, a, sizeof(a));
	return snprintf(buf, size, "%s:%u", a, port);
}

char *
endpoint_format(const struct endpoint *ep, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s:", fdt_proto_name(ep->proto));

	if (n < 0 || (size_t)n >= size)
		return buf;
	n += format_addr(ep->family, ep->addr, ep->port_lo, buf + n, size - (size_t)n);
	if (ep->port_hi != ep->port_lo && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, "-%u", ep->port_hi);
	return buf;
}

int
endpoint_allows(const struct endpoint *policy, const struct fdt_bind *b)
{
	size_t alen = policy->family == FDT_FAMILY_INET ? 4 : 16;

	return (b->proto & ~policy->proto) == 0 &&
	    b->family == policy->family &&
	    memcmp(b->addr, policy->addr, alen) == 0 &&
	    b->port >= policy->port_lo && b->port <= policy->port_hi;
}

void
endpoint_to_bind(const struct endpoint *ep, uint16_t port, struct fdt_bind *b)
{
	memset(b, 0, sizeof(*b));
	b->proto = ep->proto;
	b->family = ep->family;
	b->port = port;
	memcpy(b->addr, ep->addr, sizeof(b->addr));
}

int
bind_sockaddr(const struct fdt_bind *b, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (b->family == FDT_FAMILY_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(b->port);
		memcpy(&sin->sin_addr, b->addr, 4);
		return sizeof(*sin);
	}
	if (b->family == FDT_FAMILY_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(b->port);
		memcpy(&sin6->sin6_addr, b->addr, 16);
		return sizeof(*sin6);
	}
	return -EAFNOSUPPORT;
}

char *
bind_format(const struct fdt_bind *b, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s ", fdt_proto_name(b->proto));

	if (n > 0 && (size_t)n < size)
		format_addr(b->family, b->addr, b->port, buf + n, size - (size_t)n);
	return buf;
}
