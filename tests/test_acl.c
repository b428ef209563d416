/*
 * --allow-from entries: tables of good CIDR strings (with what they
 * normalise to) and bad ones, matching IPv4, IPv6 and IPv4-mapped
 * clients at prefix edges, and the loopback test.
 */
#include "roles/server/acl.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

/* No pointers in rows: Criterion hands them to a worker process. */
struct good_row {
	char text[48];
	int ret;		/* 0, or 1 when host bits were cleared */
	uint8_t family;
	uint8_t prefix;
	char shown[48];		/* acl_format of the result */
};

ParameterizedTestParameters(acl, parses_good)
{
	static struct good_row rows[] = {
		{ "10.0.0.0/8", 0, 4, 8, "10.0.0.0/8" },
		{ "192.168.1.5", 0, 4, 32, "192.168.1.5/32" },
		{ "192.168.1.5/32", 0, 4, 32, "192.168.1.5/32" },
		{ "0.0.0.0/0", 0, 4, 0, "0.0.0.0/0" },
		{ "10.1.2.3/8", 1, 4, 8, "10.0.0.0/8" },
		{ "172.16.255.255/12", 1, 4, 12, "172.16.0.0/12" },
		{ "192.168.1.129/25", 1, 4, 25, "192.168.1.128/25" },
		{ "fe80::/10", 0, 6, 10, "fe80::/10" },
		{ "::1", 0, 6, 128, "::1/128" },
		{ "::/0", 0, 6, 0, "::/0" },
		{ "2001:db8::/32", 0, 6, 32, "2001:db8::/32" },
		{ "2001:DB8::1/32", 1, 6, 32, "2001:db8::/32" },
		{ "fe80::1/10", 1, 6, 10, "fe80::/10" },
		{ "2001:db8::ff/121", 1, 6, 121, "2001:db8::80/121" },
		/* mapped networks become the IPv4 network they name */
		{ "::ffff:10.0.0.0/104", 0, 4, 8, "10.0.0.0/8" },
		{ "::ffff:192.0.2.1", 0, 4, 32, "192.0.2.1/32" },
		{ "::ffff:0:0/96", 0, 4, 0, "0.0.0.0/0" },
		{ "::ffff:0:0/95", 1, 6, 95, "::fffe:0:0/95" },
	};

	return cr_make_param_array(struct good_row, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct good_row *row, acl, parses_good)
{
	struct acl_entry e;
	char buf[ACL_STRLEN];
	const char *why = NULL;
	int r;

	memset(&e, 0xa5, sizeof(e));
	r = acl_parse(row->text, &e, &why);
	cr_assert_eq(r, row->ret, "%s: %d (%s)", row->text, r, why ? why : "-");
	cr_expect_eq(e.family, row->family, "%s: family %u", row->text, e.family);
	cr_expect_eq(e.prefix, row->prefix, "%s: prefix %u", row->text, e.prefix);
	cr_expect_str_eq(acl_format(&e, buf, sizeof(buf)), row->shown,
	    "%s: shown as %s", row->text, buf);
	if (e.family == 4)
		for (int i = 4; i < 16; i++)
			cr_expect_eq(e.addr[i], 0, "%s: byte %d after IPv4", row->text, i);
}

struct bad_row {
	char text[64];
};

ParameterizedTestParameters(acl, refuses_bad)
{
	static struct bad_row rows[] = {
		{ "" }, { "/8" }, { "10.0.0.0/" }, { "10.0.0.0/33" }, { "10.0.0.0/-1" },
		{ "10.0.0.0/+8" }, { "10.0.0.0/08" }, { "10.0.0.0/8x" }, { "10.0.0.0/8/8" },
		{ "10.0.0.0/ 8" }, { " 10.0.0.0/8" }, { "10.0.0.0 /8" }, { "10.0.0" },
		{ "10.0.0.256" }, { "10.0.0.0.0" }, { "010.0.0.0" }, { "example.com" },
		{ "::/129" }, { "::1/1280" }, { "fe80::1%eth0" }, { "fe80::/10%lo" },
		{ "[::1]" }, { "[::1]/128" }, { "1:2:3:4:5:6:7:8:9" }, { "10.0.0.0/99999999999" },
		{ "2001:db8:0000:0000:0000:0000:0000:0000:0000/32" }, { "any" },
	};

	return cr_make_param_array(struct bad_row, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct bad_row *row, acl, refuses_bad)
{
	struct acl_entry e;
	const char *why = NULL;
	int r = acl_parse(row->text, &e, &why);

	cr_assert_eq(r, -EINVAL, "'%s' gave %d", row->text, r);
	cr_assert_not_null(why, "'%s': no reason", row->text);
	cr_assert_gt(strlen(why), 5, "'%s': reason '%s'", row->text, why);
}

/* A client address as the frontend has it from recvmsg/accept. */
static struct sockaddr_storage
client(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		cr_assert_eq(inet_pton(AF_INET6, text, &s6->sin6_addr), 1, "%s", text);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		cr_assert_eq(inet_pton(AF_INET, text, &s4->sin_addr), 1, "%s", text);
	}
	return ss;
}

static int
match(const char *const *cidrs, size_t n, const char *addr)
{
	struct acl_entry list[8];
	struct sockaddr_storage ss = client(addr);

	cr_assert_leq(n, 8);
	for (size_t i = 0; i < n; i++)
		cr_assert_geq(acl_parse(cidrs[i], &list[i], NULL), 0, "%s", cidrs[i]);
	return acl_match(list, n, (struct sockaddr *)&ss);
}

struct match_row {
	char cidr[48];
	char addr[48];
	int want;
};

ParameterizedTestParameters(acl, matches)
{
	static struct match_row rows[] = {
		{ "10.0.0.0/8", "10.0.0.0", 1 },
		{ "10.0.0.0/8", "10.255.255.255", 1 },
		{ "10.0.0.0/8", "11.0.0.0", 0 },
		{ "10.0.0.0/8", "9.255.255.255", 0 },
		{ "192.168.1.128/25", "192.168.1.128", 1 },
		{ "192.168.1.128/25", "192.168.1.255", 1 },
		{ "192.168.1.128/25", "192.168.1.127", 0 },
		{ "172.16.0.0/12", "172.31.255.255", 1 },
		{ "172.16.0.0/12", "172.32.0.0", 0 },
		{ "192.0.2.7", "192.0.2.7", 1 },
		{ "192.0.2.7", "192.0.2.6", 0 },
		{ "0.0.0.0/0", "203.0.113.9", 1 },
		{ "0.0.0.0/0", "2001:db8::1", 0 },
		{ "::/0", "2001:db8::1", 1 },
		{ "::/0", "192.0.2.1", 0 },
		{ "fe80::/10", "fe80::1", 1 },
		{ "fe80::/10", "febf:ffff::1", 1 },
		{ "fe80::/10", "fec0::1", 0 },
		{ "2001:db8::/32", "2001:db8:ffff::1", 1 },
		{ "2001:db8::/32", "2001:db9::1", 0 },
		{ "2001:db8::80/121", "2001:db8::ff", 1 },
		{ "2001:db8::80/121", "2001:db8::7f", 0 },
		{ "::1", "::1", 1 },
		{ "::1", "::2", 0 },
		/* mapped clients match IPv4 entries, and only those */
		{ "10.0.0.0/8", "::ffff:10.1.2.3", 1 },
		{ "10.0.0.0/8", "::ffff:11.1.2.3", 0 },
		{ "::ffff:10.0.0.0/104", "10.9.9.9", 1 },
		{ "::ffff:10.0.0.0/104", "::ffff:10.9.9.9", 1 },
		{ "::/0", "::ffff:10.9.9.9", 0 },
		/* not mapped: ::10.1.2.3 (compatible) and 64:ff9b::/96 (NAT64) */
		{ "10.0.0.0/8", "::10.1.2.3", 0 },
		{ "10.0.0.0/8", "64:ff9b::10.1.2.3", 0 },
	};

	return cr_make_param_array(struct match_row, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct match_row *row, acl, matches)
{
	const char *list[] = { row->cidr };

	cr_assert_eq(match(list, 1, row->addr), row->want, "%s in %s: want %d",
	    row->addr, row->cidr, row->want);
}

Test(acl, list_any_entry)
{
	static const char *const list[] = { "10.0.0.0/8", "2001:db8::/32", "192.0.2.1" };

	cr_expect_eq(match(list, 3, "10.1.1.1"), 1);
	cr_expect_eq(match(list, 3, "2001:db8::53"), 1);
	cr_expect_eq(match(list, 3, "192.0.2.1"), 1);
	cr_expect_eq(match(list, 3, "192.0.2.2"), 0);
	cr_expect_eq(match(list, 0, "10.1.1.1"), 0, "an empty list admits nobody");
}

Test(acl, other_families_never_match)
{
	struct acl_entry all[2];
	struct sockaddr_storage ss;

	cr_assert_eq(acl_parse("0.0.0.0/0", &all[0], NULL), 0);
	cr_assert_eq(acl_parse("::/0", &all[1], NULL), 0);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	cr_expect_eq(acl_match(all, 2, (struct sockaddr *)&ss), 0);
	cr_expect_eq(acl_match(all, 2, NULL), 0);
	cr_expect_eq(acl_is_loopback((struct sockaddr *)&ss), 0);
	cr_expect_eq(acl_is_loopback(NULL), 0);
}

struct loop_row {
	char addr[48];
	int want;
};

ParameterizedTestParameters(acl, loopback)
{
	static struct loop_row rows[] = {
		{ "127.0.0.1", 1 }, { "127.255.255.254", 1 }, { "127.0.0.0", 1 },
		{ "126.255.255.255", 0 }, { "128.0.0.1", 0 }, { "10.0.0.1", 0 },
		{ "::1", 1 }, { "::", 0 }, { "::2", 0 }, { "fe80::1", 0 },
		{ "::ffff:127.0.0.1", 1 }, { "::ffff:127.1.2.3", 1 },
		{ "::ffff:128.0.0.1", 0 }, { "::127.0.0.1", 0 }, { "1::1", 0 },
	};

	return cr_make_param_array(struct loop_row, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct loop_row *row, acl, loopback)
{
	struct sockaddr_storage ss = client(row->addr);

	cr_assert_eq(acl_is_loopback((struct sockaddr *)&ss), row->want, "%s", row->addr);
}

Test(acl, format_short_buffer)
{
	struct acl_entry e;
	char buf[6];

	cr_assert_eq(acl_parse("10.0.0.0/8", &e, NULL), 0);
	memset(buf, 'x', sizeof(buf));
	cr_expect_str_eq(acl_format(&e, buf, sizeof(buf)), "10.0.", "truncated, terminated");
	cr_expect_eq(acl_format(&e, buf, 0), buf);
}
