/*
 * fuzz_endpoint: the address syntaxes operators write.  The first byte
 * picks the endpoint_parse flags and a default port; the rest is one
 * string fed to every parser.  Invariants: an error says why; what
 * parses prints (endpoint_format, server_addr_format, acl_format) as
 * text that parses back to the same value; an endpoint allows binding
 * its own ports; an ACL entry matches its own network address; a
 * forward zone finds its own name.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/endpoint.h"
#include "roles/server/acl.h"
#include "roles/server/zones.h"
#include "tests/fuzz/fuzz.h"

static void
check_endpoint(const char *s, unsigned flags, uint16_t defport)
{
	struct endpoint ep, ep2;
	struct fdt_bind b;
	struct sockaddr_storage ss;
	char text[ENDPOINT_STRLEN], bt[128];
	const char *why = NULL;
	int r;

	memset(&ep, 0, sizeof(ep));
	if ((r = endpoint_parse(s, flags, defport, &ep, &why)) < 0) {
		FUZZ_CHECK(why != NULL && *why != '\0', "endpoint_parse failed without a reason");
		return;
	}
	FUZZ_CHECK(ep.proto >= FDT_PROTO_UDP && ep.proto <= FDT_PROTO_BOTH, "proto %u", ep.proto);
	FUZZ_CHECK(ep.family == FDT_FAMILY_INET || ep.family == FDT_FAMILY_INET6,
	    "family %u", ep.family);
	FUZZ_CHECK(ep.port_lo >= 1 && ep.port_lo <= ep.port_hi, "ports %u-%u",
	    ep.port_lo, ep.port_hi);
	FUZZ_CHECK(!(flags & ENDPOINT_NO_RANGE) || ep.port_lo == ep.port_hi, "a range");
	endpoint_format(&ep, text, sizeof(text));
	FUZZ_CHECK(strlen(text) < ENDPOINT_STRLEN - 1 || text[0] != '\0', "empty format");
	memset(&ep2, 0, sizeof(ep2));
	r = endpoint_parse(text, 0, 0, &ep2, &why);
	FUZZ_CHECK(r == 0, "\"%s\" (from \"%s\") does not parse back: %s", text, s, why);
	FUZZ_CHECK(memcmp(&ep, &ep2, sizeof(ep)) == 0, "\"%s\" parses back differently", text);

	endpoint_to_bind(&ep, ep.port_hi, &b);
	FUZZ_CHECK(endpoint_allows(&ep, &b) == 1, "\"%s\" does not allow its own port", text);
	FUZZ_CHECK(bind_sockaddr(&b, &ss) > 0, "no sockaddr for \"%s\"", text);
	bind_format(&b, bt, sizeof(bt));
}

static void
check_server_addr(const char *s, uint16_t defport)
{
	struct sockaddr_storage ss, ss2;
	socklen_t len, len2;
	char text[SERVER_ADDR_STRLEN];
	const char *why = NULL;

	memset(&ss, 0, sizeof(ss));
	if (server_addr_parse(s, defport, &ss, &len, &why) < 0) {
		FUZZ_CHECK(why != NULL && *why != '\0', "server_addr_parse failed without a reason");
		return;
	}
	FUZZ_CHECK((ss.ss_family == AF_INET && len == sizeof(struct sockaddr_in)) ||
	    (ss.ss_family == AF_INET6 && len == sizeof(struct sockaddr_in6)),
	    "family %d, length %u", ss.ss_family, (unsigned)len);
	server_addr_format((struct sockaddr *)&ss, text, sizeof(text));
	memset(&ss2, 0, sizeof(ss2));
	FUZZ_CHECK(server_addr_parse(text, 0, &ss2, &len2, &why) == 0,
	    "\"%s\" (from \"%s\") does not parse back: %s", text, s, why);
	FUZZ_CHECK(len == len2 && memcmp(&ss, &ss2, len) == 0, "\"%s\" parses back differently",
	    text);
}

static void
check_acl(const char *s)
{
	struct acl_entry e, e2;
	struct sockaddr_storage ss;
	char text[ACL_STRLEN];
	const char *why = NULL;
	int r;

	memset(&e, 0, sizeof(e));
	if ((r = acl_parse(s, &e, &why)) < 0) {
		FUZZ_CHECK(why != NULL && *why != '\0', "acl_parse failed without a reason");
		return;
	}
	FUZZ_CHECK(r == 0 || r == 1, "acl_parse returned %d", r);
	FUZZ_CHECK((e.family == 4 && e.prefix <= 32) || (e.family == 6 && e.prefix <= 128),
	    "family %u prefix %u", e.family, e.prefix);
	acl_format(&e, text, sizeof(text));
	memset(&e2, 0, sizeof(e2));
	FUZZ_CHECK(acl_parse(text, &e2, &why) == 0, "\"%s\" (from \"%s\") does not parse back "
	    "cleanly", text, s);
	FUZZ_CHECK(memcmp(&e, &e2, sizeof(e)) == 0, "\"%s\" parses back differently", text);

	/* the network's own address is in it */
	memset(&ss, 0, sizeof(ss));
	if (e.family == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, e.addr, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, e.addr, 16);
	}
	FUZZ_CHECK(acl_match(&e, 1, (struct sockaddr *)&ss) == 1, "\"%s\" does not match its "
	    "own address", text);
	acl_is_loopback((struct sockaddr *)&ss);
}

static void
check_zone(const char *s)
{
	static struct forward_zone z;
	const char *why = NULL;

	if (forward_zone_parse(s, &z, &why) < 0) {
		FUZZ_CHECK(why != NULL && *why != '\0', "forward_zone_parse failed without a reason");
		return;
	}
	FUZZ_CHECK(z.naddr >= 1 && z.naddr <= ZONE_MAX_ADDR, "%zu addresses", z.naddr);
	FUZZ_CHECK(forward_zone_find(&z, 1, z.name, z.namelen) == 0,
	    "the zone of \"%s\" does not find its own name", s);
	private_reverse_zone(z.name, z.namelen, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t ports[] = { 0, 53, 853, 65535 };
	char s[512];
	unsigned flags;
	uint16_t defport;

	if (size < 1 || size - 1 >= sizeof(s))
		return 0;
	flags = data[0] & 7;
	defport = ports[data[0] >> 3 & 3];
	if (defport == 0 && (flags & ENDPOINT_PORT_OPTIONAL))
		defport = 53;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';

	check_endpoint(s, flags, defport);
	check_server_addr(s, defport);
	check_acl(s);
	check_zone(s);
	return 0;
}
