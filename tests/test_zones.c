/*
 * Where a name goes: upstream address syntax with ports and IPv6 scopes
 * (tables of good and bad strings, formatting back), forward zone specs,
 * the longest-zone lookup on label boundaries, and every RFC 6303 / RFC
 * 7793 zone with names just inside and just outside it.
 */
#include "roles/server/zones.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* No pointers in rows: Criterion hands them to a worker process. */
struct addr_row {
	char text[48];
	uint16_t default_port;
	int family;
	char addr[48];		/* inet_pton form */
	uint16_t port;
	char scope[16];		/* "", an interface name, or a decimal index */
	char shown[64];		/* server_addr_format */
};

ParameterizedTestParameters(server_addr, parses_good)
{
	static struct addr_row rows[] = {
		{ "192.0.2.1", 53, AF_INET, "192.0.2.1", 53, "", "192.0.2.1:53" },
		{ "192.0.2.1:5353", 53, AF_INET, "192.0.2.1", 5353, "", "192.0.2.1:5353" },
		{ "192.0.2.1:1", 0, AF_INET, "192.0.2.1", 1, "", "192.0.2.1:1" },
		{ "2001:db8::1", 53, AF_INET6, "2001:db8::1", 53, "", "[2001:db8::1]:53" },
		{ "[2001:db8::1]:5353", 53, AF_INET6, "2001:db8::1", 5353, "",
		  "[2001:db8::1]:5353" },
		{ "[2001:db8::1]", 53, AF_INET6, "2001:db8::1", 53, "", "[2001:db8::1]:53" },
		{ "::1", 53, AF_INET6, "::1", 53, "", "[::1]:53" },
		{ "[::1]:65535", 53, AF_INET6, "::1", 65535, "", "[::1]:65535" },
		{ "fe80::1%lo", 53, AF_INET6, "fe80::1", 53, "lo", "[fe80::1%lo]:53" },
		{ "[fe80::1%lo]:53", 0, AF_INET6, "fe80::1", 53, "lo", "[fe80::1%lo]:53" },
		{ "[FE80::AB%lo]:853", 53, AF_INET6, "fe80::ab", 853, "lo", "[fe80::ab%lo]:853" },
		{ "febf::1%lo", 53, AF_INET6, "febf::1", 53, "lo", "[febf::1%lo]:53" },
		{ "fe80::1%999999", 53, AF_INET6, "fe80::1", 53, "999999",
		  "[fe80::1%999999]:53" },
		/* mapped addresses become IPv4: reachable with bindv6only=1 too */
		{ "::ffff:192.0.2.1", 53, AF_INET, "192.0.2.1", 53, "", "192.0.2.1:53" },
		{ "[::ffff:192.0.2.1]:54", 53, AF_INET, "192.0.2.1", 54, "", "192.0.2.1:54" },
	};

	return cr_make_param_array(struct addr_row, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct addr_row *row, server_addr, parses_good)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char buf[SERVER_ADDR_STRLEN];
	const char *why = NULL;
	int r;

	memset(&ss, 0xa5, sizeof(ss));
	r = server_addr_parse(row->text, row->default_port, &ss, &len, &why);
	cr_assert_eq(r, 0, "%s: %d (%s)", row->text, r, why ? why : "-");
	cr_assert_eq(ss.ss_family, row->family, "%s: family %d", row->text, ss.ss_family);
	if (row->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		struct in_addr want;

		cr_assert_eq(len, sizeof(*s4));
		cr_assert_eq(inet_pton(AF_INET, row->addr, &want), 1);
		cr_expect_eq(s4->sin_addr.s_addr, want.s_addr, "%s: address", row->text);
		cr_expect_eq(ntohs(s4->sin_port), row->port, "%s: port", row->text);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		struct in6_addr want;
		unsigned scope = 0;

		cr_assert_eq(len, sizeof(*s6));
		cr_assert_eq(inet_pton(AF_INET6, row->addr, &want), 1);
		cr_expect_arr_eq(&s6->sin6_addr, &want, 16, "%s: address", row->text);
		cr_expect_eq(ntohs(s6->sin6_port), row->port, "%s: port", row->text);
		cr_expect_eq(s6->sin6_flowinfo, 0);
		if (row->scope[0] >= '0' && row->scope[0] <= '9')
			sscanf(row->scope, "%u", &scope);
		else if (row->scope[0])
			scope = if_nametoindex(row->scope);
		cr_expect_eq(s6->sin6_scope_id, scope, "%s: scope %u", row->text,
		    s6->sin6_scope_id);
	}
	cr_expect_str_eq(server_addr_format((struct sockaddr *)&ss, buf, sizeof(buf)),
	    row->shown, "%s: shown as %s", row->text, buf);
}

struct bad_addr_row {
	char text[80];
	uint16_t default_port;
	char why_has[24];	/* a word the reason must contain, or "" */
};

ParameterizedTestParameters(server_addr, refuses_bad)
{
	static struct bad_addr_row rows[] = {
		{ "", 53, "" },
		{ ":53", 53, "" },
		{ "192.0.2.1:", 53, "port" },
		{ "192.0.2.1:0", 53, "port" },
		{ "192.0.2.1:65536", 53, "port" },
		{ "192.0.2.1:53x", 53, "port" },
		{ "192.0.2.1:+53", 53, "port" },
		{ "192.0.2.1", 0, "port" },
		{ "[2001:db8::1]", 0, "port" },
		{ "192.0.2", 53, "" },
		{ "192.0.2.256", 53, "" },
		{ "192.0.2.1 ", 53, "" },
		{ " 192.0.2.1", 53, "" },
		{ "dns.example", 53, "" },
		{ "[192.0.2.1]:53", 53, "IPv6" },
		{ "[2001:db8::1", 53, "]" },
		{ "[2001:db8::1]53", 53, "]" },
		{ "[2001:db8::1]:", 53, "port" },
		{ "2001:db8::1:53:", 53, "" },
		{ "2001:db8::g", 53, "" },
		{ "[]:53", 53, "" },
		{ "fe80::1", 53, "link-local" },
		{ "[fe80::1]:53", 53, "link-local" },
		{ "febf:ffff::1", 53, "link-local" },
		{ "fe80::1%", 53, "scope" },
		{ "fe80::1%nosuchif0", 53, "interface" },
		{ "fe80::1%0", 53, "scope" },
		{ "fe80::1%4294967296", 53, "" },
		{ "fe80::1%12345678901", 53, "" },
		{ "fe80::1%lo%lo", 53, "" },
		{ "2001:db8::1%lo", 53, "link-local" },
		{ "192.0.2.1%lo", 53, "link-local" },
		{ "::ffff:192.0.2.1%lo", 53, "link-local" },
		{ "[fe80::1%averyveryverylonginterfacename]:53", 53, "" },
	};

	return cr_make_param_array(struct bad_addr_row, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct bad_addr_row *row, server_addr, refuses_bad)
{
	struct sockaddr_storage ss;
	socklen_t len = 99;
	const char *why = NULL;
	int r = server_addr_parse(row->text, row->default_port, &ss, &len, &why);

	cr_assert_eq(r, -EINVAL, "'%s' gave %d", row->text, r);
	cr_assert_not_null(why, "'%s': no reason", row->text);
	cr_expect(strstr(why, row->why_has) != NULL, "'%s': reason '%s' lacks '%s'",
	    row->text, why, row->why_has);
	cr_expect_eq(len, 0, "'%s': length left set", row->text);
}

Test(server_addr, format_other_and_short)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[8];

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	cr_expect_str_eq(server_addr_format((struct sockaddr *)&ss, buf, sizeof(buf)),
	    "(addres", "another family says so, truncated");
	cr_assert_eq(server_addr_parse("[2001:db8::1]:53", 0, &ss, &len, NULL), 0);
	cr_expect_str_eq(server_addr_format((struct sockaddr *)&ss, buf, sizeof(buf)),
	    "[2001:d");
	cr_expect_eq(server_addr_format((struct sockaddr *)&ss, buf, 0), buf);
}

/* Wire form through the code's own converter, asserted. */
static size_t
wire(const char *text, uint8_t out[DNS_NAME_MAX])
{
	int n = dns_name_from_text(text, out);

	cr_assert_gt(n, 0, "%s", text);
	return (size_t)n;
}

struct fz_row {
	char spec[96];
	char zone[40];		/* presentation form, lower case */
	size_t naddr;
	char last[48];		/* server_addr_format of the last address */
};

ParameterizedTestParameters(forward_zone, parses_good)
{
	static struct fz_row rows[] = {
		{ "corp.example=10.0.0.1", "corp.example", 1, "10.0.0.1:53" },
		{ "corp.example.=10.0.0.1", "corp.example", 1, "10.0.0.1:53" },
		{ "CoRp.Example=10.0.0.1", "corp.example", 1, "10.0.0.1:53" },
		{ "corp=10.0.0.1:5353,10.0.0.2", "corp", 2, "10.0.0.2:53" },
		{ "168.192.in-addr.arpa=[fe80::1%lo]:53", "168.192.in-addr.arpa", 1,
		  "[fe80::1%lo]:53" },
		{ "x=2001:db8::1,[2001:db8::2]:54", "x", 2, "[2001:db8::2]:54" },
		{ ".=192.0.2.1", ".", 1, "192.0.2.1:53" },
		{ "a=1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8", "a", 8,
		  "1.1.1.8:53" },
	};

	return cr_make_param_array(struct fz_row, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct fz_row *row, forward_zone, parses_good)
{
	struct forward_zone z;
	uint8_t want[DNS_NAME_MAX];
	size_t wl = wire(row->zone, want);
	char buf[SERVER_ADDR_STRLEN];
	const char *why = NULL;
	int r;

	memset(&z, 0xa5, sizeof(z));
	r = forward_zone_parse(row->spec, &z, &why);
	cr_assert_eq(r, 0, "%s: %d (%s)", row->spec, r, why ? why : "-");
	cr_assert_eq(z.namelen, wl, "%s: name length %u", row->spec, z.namelen);
	cr_expect_arr_eq(z.name, want, wl, "%s: name (folded)", row->spec);
	cr_assert_eq(z.naddr, row->naddr, "%s: %zu addresses", row->spec, z.naddr);
	for (size_t i = 0; i < z.naddr; i++)
		cr_expect(z.addrlen[i] == sizeof(struct sockaddr_in) ||
		    z.addrlen[i] == sizeof(struct sockaddr_in6));
	cr_expect_str_eq(server_addr_format((struct sockaddr *)&z.addr[z.naddr - 1],
	    buf, sizeof(buf)), row->last, "%s: last address %s", row->spec, buf);
}

struct bad_fz_row {
	char spec[200];
};

ParameterizedTestParameters(forward_zone, refuses_bad)
{
	static struct bad_fz_row rows[] = {
		{ "" }, { "corp.example" }, { "=10.0.0.1" }, { "corp=" }, { "corp=," },
		{ "corp=10.0.0.1," }, { "corp=,10.0.0.1" }, { "corp=10.0.0.1,,10.0.0.2" },
		{ "corp=x" }, { "corp=10.0.0.1;10.0.0.2" }, { "corp=10.0.0.1 " },
		{ "corp=fe80::1" }, { "corp=10.0.0.1:0" }, { "corp..example=10.0.0.1" },
		{ ".corp=10.0.0.1" }, { "..=10.0.0.1" }, { "corp =10.0.0.1" },
		{ " corp=10.0.0.1" }, { "co\trp=10.0.0.1" }, { "corp=10.0.0.1=10.0.0.2" },
		{ "a=1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x=10.0.0.1" },
	};

	return cr_make_param_array(struct bad_fz_row, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct bad_fz_row *row, forward_zone, refuses_bad)
{
	struct forward_zone z;
	const char *why = NULL;
	int r = forward_zone_parse(row->spec, &z, &why);

	cr_assert_eq(r, -EINVAL, "'%s' gave %d", row->spec, r);
	cr_assert_not_null(why, "'%s': no reason", row->spec);
}

Test(forward_zone, name_too_long)
{
	char spec[1200];
	struct forward_zone z;
	const char *why = NULL;
	size_t o = 0;

	/* 4 labels of 63 = 256 octets with the root: one too many */
	for (int i = 0; i < 4; i++) {
		memset(spec + o, 'a', 63);
		o += 63;
		spec[o++] = '.';
	}
	snprintf(spec + o, sizeof(spec) - o, "=10.0.0.1");
	cr_expect_eq(forward_zone_parse(spec, &z, &why), -EINVAL);
	cr_expect_not_null(why);
	/* 3 of 63 and one of 61: 255, the most there is */
	memset(spec + 3 * 64 + 61, '.', 1);
	snprintf(spec + 3 * 64 + 62, sizeof(spec) - 3 * 64 - 62, "=10.0.0.1");
	cr_expect_eq(forward_zone_parse(spec, &z, &why), 0, "%s", why);
	cr_expect_eq(z.namelen, 255);

	memset(spec, 'x', sizeof(spec) - 1);
	spec[sizeof(spec) - 1] = '\0';
	spec[sizeof(spec) - 20] = '=';
	cr_expect_eq(forward_zone_parse(spec, &z, &why), -EINVAL);
	cr_expect_str_eq(why, "zone name too long");
}

static struct forward_zone zones[6];
static size_t nzones;

static void
zones_setup(void)
{
	static const char *const specs[] = {
		"corp.example=10.0.0.1",		/* 0 */
		"eng.corp.example=10.0.0.2",		/* 1 */
		"example=10.0.0.3",			/* 2 */
		"168.192.in-addr.arpa=10.0.0.4",	/* 3 */
		"CORP.example=10.0.0.5",		/* 4: same as 0, later */
	};

	nzones = 0;
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		cr_assert_eq(forward_zone_parse(specs[i], &zones[nzones++], NULL), 0, "%s",
		    specs[i]);
}

static int
find(const char *text, size_t n)
{
	uint8_t name[DNS_NAME_MAX];
	size_t len = wire(text, name);

	return forward_zone_find(zones, n, name, len);
}

struct find_row {
	char name[64];
	int want;
};

ParameterizedTestParameters(forward_zone, finds_longest)
{
	static struct find_row rows[] = {
		{ "corp.example", 0 },
		{ "www.corp.example", 0 },
		{ "WWW.Corp.EXAMPLE.", 0 },
		{ "eng.corp.example", 1 },
		{ "a.b.eng.corp.example", 1 },
		{ "xeng.corp.example", 0 },
		{ "xcorp.example", 2 },
		{ "corp.example.com", -1 },
		{ "example", 2 },
		{ "other.example", 2 },
		{ "example.org", -1 },
		{ "org", -1 },
		{ ".", -1 },
		{ "1.1.168.192.in-addr.arpa", 3 },
		{ "1.1.169.192.in-addr.arpa", -1 },
		{ "168.192.in-addr.arpa", 3 },
		{ "192.in-addr.arpa", -1 },
	};

	return cr_make_param_array(struct find_row, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct find_row *row, forward_zone, finds_longest, .init = zones_setup)
{
	int r = find(row->name, nzones);

	cr_assert_eq(r, row->want, "%s: zone %d, want %d", row->name, r, row->want);
}

Test(forward_zone, root_catches_all, .init = zones_setup)
{
	cr_assert_eq(forward_zone_parse(".=192.0.2.53", &zones[nzones++], NULL), 0);
	cr_expect_eq(find("www.corp.example", nzones), 0, "longer zones still win");
	cr_expect_eq(find("example.org", nzones), 5);
	cr_expect_eq(find("org", nzones), 5);
	cr_expect_eq(find(".", nzones), 5);
	cr_expect_eq(find("example.org", 0), -1, "no zones");
}

Test(forward_zone, malformed_names, .init = zones_setup)
{
	static const uint8_t trailing[] = "\4corp\7example\0\0";		/* byte after root */
	static const uint8_t short_label[] = "\4corp\7example";		/* no root */
	static const uint8_t overrun[] = "\4corp\11example\0";		/* label past end */
	static const uint8_t pointer[] = "\3www\xc0\x0c";
	static const uint8_t good[] = "\4corp\7example";

	cr_expect_eq(forward_zone_find(zones, nzones, trailing, 15), -1);
	cr_expect_eq(forward_zone_find(zones, nzones, short_label, 13), -1);
	cr_expect_eq(forward_zone_find(zones, nzones, overrun, 14), -1);
	cr_expect_eq(forward_zone_find(zones, nzones, pointer, 6), -1);
	cr_expect_eq(forward_zone_find(zones, nzones, good, 0), -1);
	cr_expect_eq(forward_zone_find(zones, nzones, good, 14), 0, "the control");
}

struct rz_row {
	char name[80];
	char zone[80];		/* "" if not private */
};

ParameterizedTestParameters(private_reverse, zones)
{
	static struct rz_row rows[] = {
		/* 4.1 RFC 1918 */
		{ "10.in-addr.arpa", "10.in-addr.arpa" },
		{ "1.2.3.10.in-addr.arpa", "10.in-addr.arpa" },
		{ "1.2.3.11.in-addr.arpa", "" },
		{ "1.0.16.172.in-addr.arpa", "16.172.in-addr.arpa" },
		{ "1.0.31.172.in-addr.arpa", "31.172.in-addr.arpa" },
		{ "24.172.in-addr.arpa", "24.172.in-addr.arpa" },
		{ "1.0.15.172.in-addr.arpa", "" },
		{ "1.0.32.172.in-addr.arpa", "" },
		{ "172.in-addr.arpa", "" },
		{ "5.1.168.192.IN-ADDR.ARPA", "168.192.IN-ADDR.ARPA" },
		{ "5.1.169.192.in-addr.arpa", "" },
		/* 4.2 RFC 5735, 5737 */
		{ "1.0.0.0.in-addr.arpa", "0.in-addr.arpa" },
		{ "1.0.0.127.in-addr.arpa", "127.in-addr.arpa" },
		{ "1.1.254.169.in-addr.arpa", "254.169.in-addr.arpa" },
		{ "1.1.253.169.in-addr.arpa", "" },
		{ "7.2.0.192.in-addr.arpa", "2.0.192.in-addr.arpa" },
		{ "7.3.0.192.in-addr.arpa", "" },
		{ "7.100.51.198.in-addr.arpa", "100.51.198.in-addr.arpa" },
		{ "7.113.0.203.in-addr.arpa", "113.0.203.in-addr.arpa" },
		{ "255.255.255.255.in-addr.arpa", "255.255.255.255.in-addr.arpa" },
		{ "254.255.255.255.in-addr.arpa", "" },
		/* RFC 7793: 100.64.0.0/10 */
		{ "1.2.64.100.in-addr.arpa", "64.100.in-addr.arpa" },
		{ "1.2.127.100.in-addr.arpa", "127.100.in-addr.arpa" },
		{ "1.2.63.100.in-addr.arpa", "" },
		{ "1.2.128.100.in-addr.arpa", "" },
		/* labels as in-addr.arpa writes them, or not at all */
		{ "1.2.3.010.in-addr.arpa", "" },
		{ "x.10.in-addr.arpa", "10.in-addr.arpa" },
		{ "1.2.3.4.10.in-addr.arpa", "10.in-addr.arpa" },
		{ "in-addr.arpa", "" },
		{ "arpa", "" },
		{ "10.arpa", "" },
		{ "10.in-addr.arpa.example", "" },
		{ "10.in-addr", "" },
		{ "8.8.8.8.in-addr.arpa", "" },
		/* 4.3 :: and ::1 */
		{ "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
		  "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa" },
		{ "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
		  "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa" },
		{ "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa", "" },
		{ "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa", "" },
		{ "0.ip6.arpa", "" },
		/* 4.4 fd00::/8; fc00::/8 is not listed */
		{ "d.f.ip6.arpa", "d.f.ip6.arpa" },
		{ "1.2.3.D.F.IP6.ARPA", "D.F.IP6.ARPA" },
		{ "1.2.3.c.f.ip6.arpa", "" },
		/* 4.5 fe80::/10 */
		{ "1.8.e.f.ip6.arpa", "8.e.f.ip6.arpa" },
		{ "1.9.e.f.ip6.arpa", "9.e.f.ip6.arpa" },
		{ "1.a.e.f.ip6.arpa", "a.e.f.ip6.arpa" },
		{ "1.B.E.F.ip6.arpa", "B.E.F.ip6.arpa" },
		{ "1.c.e.f.ip6.arpa", "" },
		{ "1.7.e.f.ip6.arpa", "" },
		{ "e.f.ip6.arpa", "" },
		/* 4.6 2001:db8::/32 */
		{ "1.8.b.d.0.1.0.0.2.ip6.arpa", "8.b.d.0.1.0.0.2.ip6.arpa" },
		{ "8.b.d.0.1.0.0.2.ip6.arpa", "8.b.d.0.1.0.0.2.ip6.arpa" },
		{ "9.b.d.0.1.0.0.2.ip6.arpa", "" },
		{ "b.d.0.1.0.0.2.ip6.arpa", "" },
		/* nibble labels are one character */
		{ "fd.ip6.arpa", "" },
		{ "1.d0.f.ip6.arpa", "" },
		{ "www.example.com", "" },
		{ ".", "" },
	};

	return cr_make_param_array(struct rz_row, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct rz_row *row, private_reverse, zones)
{
	uint8_t name[DNS_NAME_MAX], zone[DNS_NAME_MAX];
	size_t len = wire(row->name, name), off = 9999;
	int r = private_reverse_zone(name, len, &off);

	if (row->zone[0] == '\0') {
		cr_assert_eq(r, 0, "%s: private", row->name);
		cr_expect_eq(off, 9999, "%s: offset written", row->name);
		return;
	}
	cr_assert_eq(r, 1, "%s: not private", row->name);
	size_t zl = wire(row->zone, zone);
	cr_assert_eq(len - off, zl, "%s: zone at %zu", row->name, off);
	cr_expect_arr_eq(name + off, zone, zl, "%s: zone", row->name);
	cr_expect_eq(private_reverse_zone(name, len, NULL), 1, "%s: NULL zone_off", row->name);
}

/* Every one of the 16 + 64 zones in a range, and its neighbours. */
Test(private_reverse, ranges)
{
	char text[64];
	uint8_t name[DNS_NAME_MAX];

	for (int b = 0; b < 256; b++) {
		snprintf(text, sizeof(text), "9.9.%d.172.in-addr.arpa", b);
		cr_expect_eq(private_reverse_zone(name, wire(text, name), NULL),
		    b >= 16 && b <= 31, "%s", text);
		snprintf(text, sizeof(text), "9.9.%d.100.in-addr.arpa", b);
		cr_expect_eq(private_reverse_zone(name, wire(text, name), NULL),
		    b >= 64 && b <= 127, "%s", text);
		snprintf(text, sizeof(text), "9.9.9.%d.in-addr.arpa", b);
		cr_expect_eq(private_reverse_zone(name, wire(text, name), NULL),
		    b == 10 || b == 0 || b == 127, "%s", text);
	}
}

Test(private_reverse, malformed)
{
	static const uint8_t ok[] = "\00210\7in-addr\4arpa";
	uint8_t buf[sizeof(ok) + 1] = { 0 };

	memcpy(buf, ok, sizeof(ok));
	cr_expect_eq(private_reverse_zone(buf, sizeof(ok) - 1, NULL), 0, "no root");
	cr_expect_eq(private_reverse_zone(buf, sizeof(ok) - 3, NULL), 0, "label past the end");
	cr_expect_eq(private_reverse_zone(buf, sizeof(buf), NULL), 0, "bytes after the root");
	cr_expect_eq(private_reverse_zone(buf, 0, NULL), 0);
	cr_expect_eq(private_reverse_zone(buf, sizeof(ok), NULL), 1, "the control");
}
