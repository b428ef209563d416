/*
 * Endpoint syntax as operators write it in --allow and --listen: a table
 * of good strings that must parse and format back unchanged, a table of
 * bad ones that must be refused with a reason, the parse flags, the
 * policy check the creator relies on, and the sockaddr built for bind().
 */
#include "common/endpoint.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

/* No pointers in rows: Criterion hands them to a worker process with another address space. */
struct good_row {
	char text[32];
	uint8_t proto;
	uint8_t family;
	uint8_t addr[16];
	uint16_t port_lo;
	uint16_t port_hi;
};

ParameterizedTestParameters(endpoint, parses_good)
{
	static struct good_row rows[] = {
		{ "udp:127.0.0.1:53", FDT_PROTO_UDP, FDT_FAMILY_INET,
		  { 127, 0, 0, 1 }, 53, 53 },
		{ "tcp:[::1]:53", FDT_PROTO_TCP, FDT_FAMILY_INET6,
		  { [15] = 1 }, 53, 53 },
		{ "both:0.0.0.0:53", FDT_PROTO_BOTH, FDT_FAMILY_INET,
		  { 0 }, 53, 53 },
		{ "both:127.0.0.1:8053-8060", FDT_PROTO_BOTH, FDT_FAMILY_INET,
		  { 127, 0, 0, 1 }, 8053, 8060 },
		{ "udp:[2001:db8::1]:65535", FDT_PROTO_UDP, FDT_FAMILY_INET6,
		  { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, 65535, 65535 },
		{ "tcp:10.20.30.40:1", FDT_PROTO_TCP, FDT_FAMILY_INET,
		  { 10, 20, 30, 40 }, 1, 1 },
	};

	return cr_make_param_array(struct good_row, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct good_row *row, endpoint, parses_good)
{
	struct endpoint ep;
	char buf[ENDPOINT_STRLEN];
	const char *why = NULL;
	int r;

	memset(&ep, 0xa5, sizeof(ep));
	r = endpoint_parse(row->text, 0, 0, &ep, &why);
	cr_assert_eq(r, 0, "%s: %d (%s)", row->text, r, why ? why : "no reason");
	cr_assert_eq(ep.proto, row->proto, "%s: proto %u", row->text, ep.proto);
	cr_assert_eq(ep.family, row->family, "%s: family %u", row->text, ep.family);
	cr_assert_arr_eq(ep.addr, row->addr, sizeof(ep.addr), "%s: address", row->text);
	cr_assert_eq(ep.port_lo, row->port_lo, "%s: port_lo %u", row->text, ep.port_lo);
	cr_assert_eq(ep.port_hi, row->port_hi, "%s: port_hi %u", row->text, ep.port_hi);
	cr_assert_str_eq(endpoint_format(&ep, buf, sizeof(buf)), row->text,
	    "%s: formats as %s", row->text, buf);
}

struct bad_row {
	char text[32];
};

ParameterizedTestParameters(endpoint, refuses_bad)
{
	static struct bad_row rows[] = {
		{ "" },
		{ "127.0.0.1:53" },
		{ "sctp:127.0.0.1:53" },
		{ "udp:" },
		{ "udp:127.0.0.1" },
		{ "udp:127.0.0.1:" },
		{ "udp:127.0.0.1:0" },
		{ "udp:127.0.0.1:65536" },
		{ "udp:127.0.0.1:99999999999" },
		{ "udp:127.0.0.1:53x" },
		{ "udp:127.0.0.1:-5" },
		{ "udp:127.0.0.1:+5" },
		{ "udp:localhost:53" },
		{ "udp:1.2.3:53" },
		{ "udp:1.2.3.4.5:53" },
		{ "udp:256.0.0.1:53" },
		{ "udp:::1:53" },
		{ "udp:[::1:53" },
		{ "udp:[::1]53" },
		{ "udp:[::1]:" },
		{ "udp:[]:53" },
		{ "udp:[127.0.0.1]:53" },
		{ "udp:[::1]:53]" },
		{ "both:127.0.0.1:8060-8053" },
		{ "both:127.0.0.1:1-2-3" },
		{ "both:127.0.0.1:1-" },
		{ "both:127.0.0.1:-2" },
		{ "udp: 127.0.0.1:53" },
		{ "udp:127.0.0.1:53 " },
		{ "udp:127.0.0.1: 53" },
	};

	return cr_make_param_array(struct bad_row, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct bad_row *row, endpoint, refuses_bad)
{
	const char *text = row->text;
	struct endpoint ep;
	const char *why = NULL;

	cr_assert_eq(endpoint_parse(text, 0, 0, &ep, &why), -EINVAL, "\"%s\" accepted", text);
	cr_assert_not_null(why, "\"%s\": no reason given", text);
	cr_assert_neq(why[0], '\0', "\"%s\": empty reason", text);
	/* why is optional */
	cr_assert_eq(endpoint_parse(text, 0, 0, &ep, NULL), -EINVAL, "\"%s\" without why", text);
}

static void
parse_ok(const char *text, unsigned flags, uint16_t def, struct endpoint *ep)
{
	const char *why = NULL;
	int r = endpoint_parse(text, flags, def, ep, &why);

	cr_assert_eq(r, 0, "\"%s\" (flags %#x): %d (%s)", text, flags, r, why ? why : "-");
}

static void
parse_bad(const char *text, unsigned flags, uint16_t def)
{
	struct endpoint ep;
	const char *why = NULL;

	cr_assert_eq(endpoint_parse(text, flags, def, &ep, &why), -EINVAL,
	    "\"%s\" (flags %#x) accepted", text, flags);
	cr_assert(why && *why, "\"%s\": no reason", text);
}

Test(endpoint, proto_optional)
{
	static const uint8_t lo[16] = { 127, 0, 0, 1 };
	struct endpoint ep;

	parse_ok("127.0.0.1:53", ENDPOINT_PROTO_OPTIONAL, 0, &ep);
	cr_assert_eq(ep.proto, FDT_PROTO_BOTH);
	cr_assert_eq(ep.family, FDT_FAMILY_INET);
	cr_assert_arr_eq(ep.addr, lo, sizeof(lo));
	cr_assert(ep.port_lo == 53 && ep.port_hi == 53);

	parse_ok("[::1]:53", ENDPOINT_PROTO_OPTIONAL, 0, &ep);
	cr_assert_eq(ep.proto, FDT_PROTO_BOTH);
	cr_assert_eq(ep.family, FDT_FAMILY_INET6);

	parse_ok("udp:127.0.0.1:53", ENDPOINT_PROTO_OPTIONAL, 0, &ep);
	cr_assert_eq(ep.proto, FDT_PROTO_UDP, "an explicit protocol still counts");
	parse_bad("sctp:127.0.0.1:53", ENDPOINT_PROTO_OPTIONAL, 0);
	parse_bad("127.0.0.1", ENDPOINT_PROTO_OPTIONAL, 53);
}

Test(endpoint, port_optional)
{
	static const uint8_t lo6[16] = { [15] = 1 };
	struct endpoint ep;

	parse_ok("udp:[::1]", ENDPOINT_PORT_OPTIONAL, 53, &ep);
	cr_assert_eq(ep.proto, FDT_PROTO_UDP);
	cr_assert_eq(ep.family, FDT_FAMILY_INET6);
	cr_assert_arr_eq(ep.addr, lo6, sizeof(lo6));
	cr_assert(ep.port_lo == 53 && ep.port_hi == 53, "ports %u-%u", ep.port_lo, ep.port_hi);

	parse_ok("127.0.0.1", ENDPOINT_PROTO_OPTIONAL | ENDPOINT_PORT_OPTIONAL, 53, &ep);
	cr_assert_eq(ep.proto, FDT_PROTO_BOTH);
	cr_assert_eq(ep.family, FDT_FAMILY_INET);
	cr_assert(ep.port_lo == 53 && ep.port_hi == 53, "ports %u-%u", ep.port_lo, ep.port_hi);

	parse_ok("tcp:127.0.0.1:8053", ENDPOINT_PORT_OPTIONAL, 53, &ep);
	cr_assert_eq(ep.port_lo, 8053, "an explicit port wins over the default");
	parse_bad("udp:[::1]", 0, 53);
	parse_bad("udp:127.0.0.1:", ENDPOINT_PORT_OPTIONAL, 53);
	parse_bad("udp:[::1]53", ENDPOINT_PORT_OPTIONAL, 53);
	parse_bad("udp:[::1]:", ENDPOINT_PORT_OPTIONAL, 53);
}

Test(endpoint, no_range)
{
	struct endpoint ep;

	parse_bad("udp:127.0.0.1:1-2", ENDPOINT_NO_RANGE, 0);
	parse_bad("udp:127.0.0.1:2-2", ENDPOINT_NO_RANGE, 0);
	parse_ok("udp:127.0.0.1:53", ENDPOINT_NO_RANGE, 0, &ep);
	cr_assert(ep.port_lo == 53 && ep.port_hi == 53);
	parse_ok("udp:127.0.0.1:1-2", 0, 0, &ep);
	cr_assert(ep.port_lo == 1 && ep.port_hi == 2);
}

static struct fdt_bind
make_bind(uint8_t proto, const char *where)
{
	struct endpoint ep;
	struct fdt_bind b;

	parse_ok(where, ENDPOINT_PROTO_OPTIONAL | ENDPOINT_NO_RANGE, 0, &ep);
	memset(&b, 0, sizeof(b));
	b.proto = proto;
	b.family = ep.family;
	b.port = ep.port_lo;
	memcpy(b.addr, ep.addr, sizeof(b.addr));
	return b;
}

static void
check_allows(const char *policy, uint8_t proto, const char *where, int want)
{
	struct endpoint ep;
	struct fdt_bind b = make_bind(proto, where);

	parse_ok(policy, 0, 0, &ep);
	cr_assert_eq(!!endpoint_allows(&ep, &b), want, "policy %s, %s %s: want %s", policy,
	    fdt_proto_name(proto), where, want ? "allowed" : "refused");
}

Test(endpoint, allows)
{
	const char *p = "both:127.0.0.1:53";

	check_allows(p, FDT_PROTO_UDP, "127.0.0.1:53", 1);
	check_allows(p, FDT_PROTO_TCP, "127.0.0.1:53", 1);
	check_allows(p, FDT_PROTO_BOTH, "127.0.0.1:53", 1);
	check_allows(p, FDT_PROTO_UDP, "127.0.0.1:22", 0);
	check_allows(p, FDT_PROTO_UDP, "127.0.0.2:53", 0);
	check_allows(p, FDT_PROTO_UDP, "0.0.0.0:53", 0);
	check_allows(p, FDT_PROTO_BOTH, "[::1]:53", 0);
	check_allows(p, FDT_PROTO_UDP, "[::ffff:127.0.0.1]:53", 0);

	/* the all-zero addresses match byte for byte: only the family tells them apart */
	p = "both:0.0.0.0:53";
	check_allows(p, FDT_PROTO_UDP, "0.0.0.0:53", 1);
	check_allows(p, FDT_PROTO_UDP, "[::]:53", 0);
	check_allows(p, FDT_PROTO_UDP, "[::1]:53", 0);
	p = "both:[::]:53";
	check_allows(p, FDT_PROTO_UDP, "[::]:53", 1);
	check_allows(p, FDT_PROTO_UDP, "0.0.0.0:53", 0);

	p = "udp:127.0.0.1:53";
	check_allows(p, FDT_PROTO_UDP, "127.0.0.1:53", 1);
	check_allows(p, FDT_PROTO_TCP, "127.0.0.1:53", 0);
	check_allows(p, FDT_PROTO_BOTH, "127.0.0.1:53", 0);

	p = "tcp:[::1]:53";
	check_allows(p, FDT_PROTO_TCP, "[::1]:53", 1);
	check_allows(p, FDT_PROTO_TCP, "[::2]:53", 0);
	check_allows(p, FDT_PROTO_TCP, "[2001:db8::1]:53", 0);
	check_allows(p, FDT_PROTO_UDP, "[::1]:53", 0);

	p = "both:127.0.0.1:8053-8060";
	check_allows(p, FDT_PROTO_UDP, "127.0.0.1:8053", 1);
	check_allows(p, FDT_PROTO_BOTH, "127.0.0.1:8056", 1);
	check_allows(p, FDT_PROTO_TCP, "127.0.0.1:8060", 1);
	check_allows(p, FDT_PROTO_UDP, "127.0.0.1:8052", 0);
	check_allows(p, FDT_PROTO_UDP, "127.0.0.1:8061", 0);
}

Test(endpoint, to_bind)
{
	struct endpoint ep;
	struct fdt_bind b;

	parse_ok("both:[2001:db8::1]:8053-8060", 0, 0, &ep);
	memset(&b, 0xa5, sizeof(b));
	endpoint_to_bind(&ep, 8055, &b);
	cr_assert_eq(b.proto, FDT_PROTO_BOTH);
	cr_assert_eq(b.family, FDT_FAMILY_INET6);
	cr_assert_eq(b.port, 8055);
	cr_assert_eq(b.flags, 0);
	cr_assert_eq(b.instance, 0);
	cr_assert_arr_eq(b.addr, ep.addr, sizeof(b.addr));
	cr_assert(endpoint_allows(&ep, &b));
}

Test(endpoint, sockaddr_ipv4)
{
	struct sockaddr_storage ss;
	struct fdt_bind b = make_bind(FDT_PROTO_UDP, "192.0.2.7:8053");
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
	const uint8_t *port = (const uint8_t *)&sin->sin_port;
	static const uint8_t addr[4] = { 192, 0, 2, 7 };

	memset(&ss, 0xa5, sizeof(ss));
	cr_assert_eq(bind_sockaddr(&b, &ss), (int)sizeof(struct sockaddr_in));
	cr_assert_eq(sin->sin_family, AF_INET);
	cr_assert(port[0] == 0x1f && port[1] == 0x75, "port not in network order");
	cr_assert_arr_eq(&sin->sin_addr, addr, sizeof(addr));
	cr_assert_arr_eq(sin->sin_zero, (uint8_t[8]){ 0 }, sizeof(sin->sin_zero));
}

Test(endpoint, sockaddr_ipv6)
{
	struct sockaddr_storage ss;
	struct fdt_bind b = make_bind(FDT_PROTO_TCP, "[2001:db8::1]:53");
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
	const uint8_t *port = (const uint8_t *)&sin6->sin6_port;
	static const uint8_t addr[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	memset(&ss, 0xa5, sizeof(ss));
	cr_assert_eq(bind_sockaddr(&b, &ss), (int)sizeof(struct sockaddr_in6));
	cr_assert_eq(sin6->sin6_family, AF_INET6);
	cr_assert(port[0] == 0 && port[1] == 53, "port not in network order");
	cr_assert_arr_eq(&sin6->sin6_addr, addr, sizeof(addr));
	cr_assert_eq(sin6->sin6_flowinfo, 0);
	cr_assert_eq(sin6->sin6_scope_id, 0);
}

Test(endpoint, sockaddr_bad_family)
{
	struct sockaddr_storage ss;
	struct fdt_bind b = make_bind(FDT_PROTO_TCP, "127.0.0.1:53");

	b.family = 5;
	cr_assert_eq(bind_sockaddr(&b, &ss), -EAFNOSUPPORT);
}

Test(endpoint, bind_format)
{
	struct fdt_bind b = make_bind(FDT_PROTO_UDP, "127.0.0.1:53");
	char buf[ENDPOINT_STRLEN];

	cr_assert_str_eq(bind_format(&b, buf, sizeof(buf)), "udp 127.0.0.1:53");
	b = make_bind(FDT_PROTO_BOTH, "[::1]:8053");
	cr_assert_str_eq(bind_format(&b, buf, sizeof(buf)), "both [::1]:8053");
}

Test(endpoint, format_longest_ipv6_range)
{
	struct endpoint ep;
	char buf[ENDPOINT_STRLEN];
	const char *longest = "both:[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65534-65535";

	parse_ok(longest, 0, 0, &ep);
	cr_assert_lt(strlen(longest), sizeof(buf));
	endpoint_format(&ep, buf, sizeof(buf));
	cr_assert_str_eq(buf, "both:[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65534-65535");
}
