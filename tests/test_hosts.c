/*
 * The hosts table and resolv.conf reader against files written into a
 * private directory: a typical /etc/hosts, names on several lines, reverse
 * names good and malformed, bad lines, the caps, and a large file.
 */
#include "roles/server/hosts.h"
#include "roles/server/resolvconf.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roles/server/zones.h"
#include "tests/helpers.h"

#ifdef FDTOOL_ASAN
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN 1
#endif

static char dir[64];

static void
dir_make(void)
{
	cr_assert_not_null(make_tmpdir(dir, sizeof(dir)));
}

static void
dir_remove(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	rmdir(dir);
}

/* Writes text as dir/name; returns the path (static storage). */
static const char *
put_file(const char *name, const char *text, size_t len)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(text, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	return path;
}

static const char *
put_text(const char *name, const char *text)
{
	return put_file(name, text, strlen(text));
}

/* Presentation to wire form, no checks: the test chooses what it sends. */
static size_t
wire(const char *text, uint8_t *out)
{
	size_t o = 0;

	while (*text) {
		const char *dot = strchr(text, '.');
		size_t n = dot ? (size_t)(dot - text) : strlen(text);

		out[o++] = (uint8_t)n;
		memcpy(out + o, text, n);
		o += n;
		text += n;
		if (*text == '.')
			text++;
	}
	out[o++] = 0;
	return o;
}

static int
lookup(const struct hosts *h, const char *name, int family, uint8_t *addrs, size_t max)
{
	uint8_t w[512];
	size_t n = wire(name, w);

	return hosts_lookup(h, w, n, family, addrs, max);
}

/* The one address of name in family, as text; "" if none, "-errno" on error. */
static const char *
lookup1(const struct hosts *h, const char *name, int family)
{
	static char text[INET6_ADDRSTRLEN + 16];
	uint8_t a[16];
	int r = lookup(h, name, family, a, 1);

	if (r < 0)
		snprintf(text, sizeof(text), "%d", r);
	else if (r == 0)
		text[0] = '\0';
	else
		inet_ntop(family == 4 ? AF_INET : AF_INET6, a, text, sizeof(text));
	return text;
}

static struct hosts *
load_ok(const char *path, size_t *bad)
{
	int err = 1;
	struct hosts *h = hosts_load(path, bad, &err);

	cr_assert_not_null(h, "%s: error %d", path, err);
	cr_assert_eq(err, 0);
	return h;
}

#define TYPICAL \
	"# /etc/hosts, as a distribution ships it\n" \
	"127.0.0.1\tlocalhost\n" \
	"127.0.1.1\tmyhost.example.org myhost\n" \
	"\n" \
	"# The following lines are desirable for IPv6 capable hosts\n" \
	"::1     localhost ip6-localhost ip6-loopback\n" \
	"ff02::1 ip6-allnodes   # trailing comment\n" \
	"   ff02::2\t ip6-allrouters\t\n" \
	"\t\n" \
	"192.0.2.10 Dotted.Example.COM.\n"

/*
 * No suite-wide .timeout: nothing here can block (files only), and
 * Criterion 2.4's runner leaks under ASan when timed tests overlap in
 * parallel workers, failing the binary.  The stress test keeps one.
 */
TestSuite(hosts, .init = dir_make, .fini = dir_remove);

Test(hosts, typical_file)
{
	size_t bad = 99;
	struct hosts *h = load_ok(put_text("hosts", TYPICAL), &bad);

	cr_expect_eq(bad, 0, "bad lines: %zu", bad);
	/* localhost once though on two lines */
	cr_expect_eq(hosts_count(h), 8, "names: %zu", hosts_count(h));
	cr_expect_str_eq(lookup1(h, "localhost", 4), "127.0.0.1");
	cr_expect_str_eq(lookup1(h, "localhost", 6), "::1");
	cr_expect_str_eq(lookup1(h, "MyHost", 4), "127.0.1.1");
	cr_expect_str_eq(lookup1(h, "MYHOST.example.Org", 4), "127.0.1.1");
	cr_expect_str_eq(lookup1(h, "myhost", 6), "", "no IPv6 address: NODATA");
	cr_expect_str_eq(lookup1(h, "ip6-loopback", 4), "", "no IPv4 address: NODATA");
	cr_expect_str_eq(lookup1(h, "ip6-loopback", 6), "::1");
	cr_expect_str_eq(lookup1(h, "ip6-allnodes", 6), "ff02::1");
	cr_expect_str_eq(lookup1(h, "ip6-allrouters", 6), "ff02::2");
	cr_expect_str_eq(lookup1(h, "dotted.example.com", 4), "192.0.2.10",
	    "a trailing dot in the file is the same name");
	cr_expect_str_eq(lookup1(h, "unknown", 4), "-2");
	cr_expect_str_eq(lookup1(h, "localhost.localdomain", 4), "-2");
	cr_expect_str_eq(lookup1(h, "local", 4), "-2", "no prefix matches");
	cr_expect_str_eq(lookup1(h, "comment", 4), "-2", "comments hold no names");
	cr_expect_str_eq(lookup1(h, "trailing", 4), "-2");
	hosts_free(h);
}

Test(hosts, lookup_refuses_bad_arguments)
{
	struct hosts *h = load_ok(put_text("hosts", TYPICAL), NULL);
	uint8_t a[16], w[64];
	size_t n = wire("localhost", w);

	cr_expect_eq(hosts_lookup(h, w, n, 0, a, 1), -EINVAL);
	cr_expect_eq(hosts_lookup(h, w, n, 2, a, 1), -EINVAL);
	cr_expect_eq(hosts_lookup(h, w, n, 10, a, 1), -EINVAL);
	/* the same bytes, cut short, are another name */
	cr_expect_eq(hosts_lookup(h, w, n - 1, 4, a, 1), -ENOENT);
	cr_expect_eq(hosts_lookup(h, w, 0, 4, a, 1), -ENOENT);
	cr_expect_eq(hosts_lookup(h, w, n, 4, a, 1), 1);
	hosts_free(h);
}

Test(hosts, several_lines_in_file_order)
{
	static const char text[] =
	    "10.0.0.3 multi\n"
	    "10.0.0.1 multi\n"
	    "10.0.0.3 multi\n"		/* the same again: reported once */
	    "10.0.0.2 other MULTI\n"
	    "2001:db8::1 multi\n"
	    "10.0.0.1 multi multi\n"
	    "2001:db8::2 multi\n"
	    "10.0.0.4 multi\n";
	static const uint8_t want4[4][4] = {
		{ 10, 0, 0, 3 }, { 10, 0, 0, 1 }, { 10, 0, 0, 2 }, { 10, 0, 0, 4 },
	};
	uint8_t want6[2][16] = { { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
	    { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 } };
	uint8_t a[8][16];
	struct hosts *h = load_ok(put_text("hosts", text), NULL);
	int r;

	cr_expect_eq(hosts_count(h), 2);
	memset(a, 0xa5, sizeof(a));
	r = lookup(h, "multi", 4, &a[0][0], 8);
	cr_assert_eq(r, 4, "%d IPv4 addresses", r);
	cr_expect_arr_eq(&a[0][0], want4, sizeof(want4), "file order, no duplicates");

	memset(a, 0xa5, sizeof(a));
	r = lookup(h, "multi", 4, &a[0][0], 2);
	cr_assert_eq(r, 2, "max 2 gave %d", r);
	cr_expect_arr_eq(&a[0][0], want4, 8, "the first two");
	for (size_t i = 8; i < sizeof(a); i++)
		cr_assert_eq((&a[0][0])[i], 0xa5, "byte %zu written past max", i);

	memset(a, 0xa5, sizeof(a));
	r = lookup(h, "multi", 4, &a[0][0], 0);
	cr_expect_eq(r, 0);
	cr_expect_eq(a[0][0], 0xa5);

	memset(a, 0xa5, sizeof(a));
	r = lookup(h, "multi", 6, &a[0][0], 8);
	cr_assert_eq(r, 2, "%d IPv6 addresses", r);
	cr_expect_arr_eq(&a[0][0], want6, sizeof(want6));

	cr_expect_str_eq(lookup1(h, "other", 4), "10.0.0.2");
	cr_expect_str_eq(lookup1(h, "other", 6), "");
	hosts_free(h);
}

/* No pointers in rows: Criterion hands them to a worker process. */
struct rev_row {
	char qname[160];
	char want[40];		/* "" for -ENOENT */
};

#define V6_LOOPBACK \
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
#define V6_31 \
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
#define V6_DB8 \
	"d.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"

ParameterizedTestParameters(hosts, reverse)
{
	static struct rev_row rows[] = {
		{ "1.0.0.127.in-addr.arpa", "localhost" },
		{ "1.1.0.127.IN-ADDR.ARPA", "myhost.example.org" },
		{ "1.1.0.127.In-Addr.Arpa", "myhost.example.org" },
		{ "0.0.0.127.in-addr.arpa", "zero" },
		{ "255.2.0.192.in-addr.arpa", "last.example" },
		{ "10.2.0.192.in-addr.arpa", "dotted.example.com" },
		{ V6_LOOPBACK ".ip6.arpa", "localhost" },
		{ V6_LOOPBACK ".IP6.ARPA", "localhost" },
		{ V6_DB8 ".ip6.arpa", "v6host" },
		{ "D.C.B.A.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6.arpa",
		  "v6host" },
		/* well formed, not held */
		{ "2.0.0.127.in-addr.arpa", "" },
		{ "1.0.0.10.in-addr.arpa", "" },
		{ "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa", "" },
		/* malformed, each one near an address that is held */
		{ "0.0.127.in-addr.arpa", "" },
		{ "1.0.0.0.127.in-addr.arpa", "" },
		{ "256.0.0.127.in-addr.arpa", "" },
		{ "01.0.0.127.in-addr.arpa", "" },
		{ "001.0.0.127.in-addr.arpa", "" },
		{ "1.00.0.127.in-addr.arpa", "" },
		{ "1.0.0.0127.in-addr.arpa", "" },
		{ "1.0.0.12a.in-addr.arpa", "" },
		{ "1.0.0.-12.in-addr.arpa", "" },
		{ "1..0.0.127.in-addr.arpa", "" },
		{ "1.0.0.127.in-addr", "" },
		{ "1.0.0.127.in-addr.arpa.com", "" },
		{ "1.0.0.127.inaddr.arpa", "" },
		{ "1.0.0.127.ip6.arpa", "" },
		{ "x.1.0.0.127.in-addr.arpa", "" },
		{ "localhost", "" },
		{ V6_31 ".ip6.arpa", "" },
		{ "0." V6_LOOPBACK ".ip6.arpa", "" },
		{ "g.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa", "" },
		{ "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.g.ip6.arpa", "" },
		{ "01.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa", "" },
		{ V6_LOOPBACK ".in-addr.arpa", "" },
		{ V6_LOOPBACK ".ip6.int", "" },
		{ "", "" },
	};

	return cr_make_param_array(struct rev_row, rows, sizeof(rows) / sizeof(rows[0]));
}

#define REVERSE_HOSTS TYPICAL \
	"127.0.0.0 zero\n" \
	"192.0.2.255 last.example\n" \
	"2001:db8::abcd v6host\n" \
	"127.0.0.1 later-name\n"

ParameterizedTest(struct rev_row *row, hosts, reverse)
{
	struct hosts *h = load_ok(put_text("hosts", REVERSE_HOSTS), NULL);
	uint8_t q[512], out[DNS_NAME_MAX], want[DNS_NAME_MAX];
	size_t qlen = wire(row->qname, q);
	int r;

	memset(out, 0xa5, sizeof(out));
	r = hosts_reverse(h, q, qlen, out);
	if (row->want[0] == '\0') {
		cr_expect_eq(r, -ENOENT, "%s: %d", row->qname, r);
	} else {
		size_t wlen = wire(row->want, want);

		cr_assert_eq(r, (int)wlen, "%s: %d, want %s", row->qname, r, row->want);
		cr_expect_arr_eq(out, want, wlen, "%s: not %s", row->qname, row->want);
	}
	hosts_free(h);
}

Test(hosts, reverse_stays_inside_the_name)
{
	struct hosts *h = load_ok(put_text("hosts", REVERSE_HOSTS), NULL);
	uint8_t q[512], out[DNS_NAME_MAX];
	size_t qlen = wire("1.0.0.127.in-addr.arpa", q);
	uint8_t *exact;

	/* every cut of a good name is refused, read within its length (ASan) */
	for (size_t n = 0; n < qlen; n++) {
		exact = malloc(n ? n : 1);
		cr_assert_not_null(exact);
		memcpy(exact, q, n);
		cr_expect_eq(hosts_reverse(h, exact, n, out), -ENOENT, "cut at %zu", n);
		free(exact);
	}
	qlen = wire(V6_LOOPBACK ".ip6.arpa", q);
	for (size_t n = 0; n < qlen; n++) {
		exact = malloc(n ? n : 1);
		cr_assert_not_null(exact);
		memcpy(exact, q, n);
		cr_expect_eq(hosts_reverse(h, exact, n, out), -ENOENT, "cut at %zu", n);
		free(exact);
	}
	cr_expect_eq(hosts_reverse(h, q, qlen, out), 11);
	hosts_free(h);
}

Test(hosts, bad_lines_counted_good_ones_kept)
{
	char text[16384], pad[64], blanks[4096];
	size_t bad = 0, len;
	struct hosts *h;

	memset(pad, 'p', sizeof(pad));
	/* a line of 4096 bytes is fine; one byte more is not */
	memset(blanks, ' ', sizeof(blanks));
	len = (size_t)snprintf(text, sizeof(text),
	    "127.0.0.1 good1\n"
	    "300.1.1.1 badaddr\n"			/* bad address */
	    "10.0.0.1\n"				/* no names */
	    "10.0.0.2   # a comment is no name\n"	/* no names */
	    "localhost 10.0.0.7\n"			/* bad address */
	    "10.0.0.3 bad!name good3\n"		/* one bad name */
	    "10.0.0.4 under_score -hy-phen- 1digit x.\n"
	    "10.0.0.5 a..b .lead toolong.%.64s good5\n"	/* three bad names */
	    "fe80::1%%eth0 scoped\n"			/* skipped, not bad */
	    "fe80::2%%2\n"				/* skipped, not bad */
	    "10.0.0.6 longline %.4079s\n"		/* 4097 bytes: bad */
	    "10.0.0.8 fitline %.4079s\n"		/* 4096 bytes: fine */
	    "10.0.0.9 good9\n",
	    pad, blanks, blanks);
	cr_assert_lt(len, sizeof(text));
	h = load_ok(put_file("hosts", text, len), &bad);
	cr_expect_eq(bad, 9, "bad: %zu", bad);
	cr_expect_str_eq(lookup1(h, "good1", 4), "127.0.0.1");
	cr_expect_str_eq(lookup1(h, "good3", 4), "10.0.0.3");
	cr_expect_str_eq(lookup1(h, "good5", 4), "10.0.0.5");
	cr_expect_str_eq(lookup1(h, "good9", 4), "10.0.0.9");
	cr_expect_str_eq(lookup1(h, "under_score", 4), "10.0.0.4");
	cr_expect_str_eq(lookup1(h, "-hy-phen-", 4), "10.0.0.4");
	cr_expect_str_eq(lookup1(h, "1digit", 4), "10.0.0.4");
	cr_expect_str_eq(lookup1(h, "x", 4), "10.0.0.4");
	cr_expect_str_eq(lookup1(h, "fitline", 4), "10.0.0.8");
	cr_expect_str_eq(lookup1(h, "longline", 4), "-2", "an over-long line is dropped whole");
	cr_expect_str_eq(lookup1(h, "badaddr", 4), "-2");
	cr_expect_str_eq(lookup1(h, "scoped", 6), "-2");
	cr_expect_str_eq(lookup1(h, "bad!name", 4), "-2");
	cr_expect_str_eq(lookup1(h, "10.0.0.7", 4), "-2");
	hosts_free(h);
}

Test(hosts, name_length_limits)
{
	char text[2048], l63[64], l64[65], n253[254], n254[255];
	size_t bad = 0, len;
	struct hosts *h;

	memset(l63, 'a', 63);
	l63[63] = '\0';
	memset(l64, 'b', 64);
	l64[64] = '\0';
	/* 63+1+63+1+63+1+61 = 253 */
	snprintf(n253, sizeof(n253), "%s.%s.%s.%.61s", l63, l63, l63, l63);
	snprintf(n254, sizeof(n254), "%s.%s.%s.%.62s", l63, l63, l63, l63);
	cr_assert_eq(strlen(n253), 253);
	cr_assert_eq(strlen(n254), 254);
	len = (size_t)snprintf(text, sizeof(text),
	    "10.0.0.1 %s %s %s. %s %s.\n", l63, l64, n253, n254, n254);
	cr_assert_lt(len, sizeof(text));
	h = load_ok(put_file("hosts", text, len), &bad);
	cr_expect_eq(bad, 3, "bad: %zu", bad);
	cr_expect_eq(hosts_count(h), 2, "names: %zu", hosts_count(h));
	cr_expect_str_eq(lookup1(h, l63, 4), "10.0.0.1");
	cr_expect_str_eq(lookup1(h, n253, 4), "10.0.0.1");
	hosts_free(h);
}

Test(hosts, missing_and_empty_files)
{
	static const char odd[] = "10.0.0.1 crlf\r\n10.0.0.2 n\0ul\n10.0.0.3 last";
	char path[128];
	size_t bad = 7;
	int err = 0;
	struct hosts *h;

	snprintf(path, sizeof(path), "%s/absent", dir);
	cr_expect_null(hosts_load(path, &bad, &err));
	cr_expect_eq(err, -ENOENT, "err %d", err);
	err = 0;
	cr_expect_null(hosts_load(dir, &bad, &err), "a directory");
	cr_expect_lt(err, 0);

	h = load_ok(put_text("empty", ""), &bad);
	cr_expect_eq(bad, 0);
	cr_expect_eq(hosts_count(h), 0);
	cr_expect_str_eq(lookup1(h, "localhost", 4), "-2");
	hosts_free(h);

	h = load_ok(put_text("comments", "# nothing\n\n   \t\n#127.0.0.1 commented\n"), &bad);
	cr_expect_eq(bad, 0);
	cr_expect_eq(hosts_count(h), 0);
	cr_expect_str_eq(lookup1(h, "commented", 4), "-2");
	hosts_free(h);

	/* no newline at the end, CRLF line ends, a NUL in the middle */
	h = load_ok(put_file("odd", odd, sizeof(odd) - 1), &bad);
	cr_expect_eq(bad, 1, "bad: %zu", bad);
	cr_expect_str_eq(lookup1(h, "crlf", 4), "10.0.0.1");
	cr_expect_str_eq(lookup1(h, "last", 4), "10.0.0.3");
	cr_expect_str_eq(lookup1(h, "n", 4), "-2");
	hosts_free(h);
}

Test(hosts, file_size_capped)
{
	const char *path = put_text("big", "");
	int err = 0;
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	/* sparse: no need to write 16 MiB */
	cr_assert_eq(fseek(f, (16L << 20), SEEK_SET), 0);
	cr_assert_eq(fputc('\n', f), '\n');
	cr_assert_eq(fclose(f), 0);
	cr_expect_null(hosts_load(path, NULL, &err));
	cr_expect_eq(err, -EFBIG, "err %d", err);
	cr_expect_eq(resolvconf_upstreams(path, NULL, NULL, 0, NULL), -EFBIG);
}

/* Every usable nameserver line, scoped IPv6 included, and a count of the rest. */
Test(hosts, resolv_conf_upstreams)
{
	static const char text[] =
	    "# generated\n"
	    "; also a comment\n"
	    "search example.org\n"
	    "nameserver 192.0.2.1\n"
	    "  nameserver\t2001:db8::53\n"
	    "nameserver fe80::1%lo\n"			/* used: scoped */
	    "nameserver fe80::2\n"			/* skipped: no scope */
	    "nameserver fe80::3%nosuchif0\n"		/* skipped: no such interface */
	    "nameserver\n"				/* skipped: no address */
	    "nameserver   # nothing\n"		/* skipped */
	    "nameserver   \n"				/* skipped */
	    "nameserver not-an-address\n"		/* skipped */
	    "nameserver 192.0.2.5:5353\n"		/* skipped: not resolv.conf syntax */
	    "nameserver [2001:db8::5]\n"		/* skipped: nor this */
	    "nameserver [2001:db8::6]:53\n"		/* skipped */
	    "nameserver2 192.0.2.77\n"			/* not a nameserver line */
	    "nameservers 192.0.2.78\n"			/* nor this */
	    "#nameserver 192.0.2.99\n"
	    ";nameserver 192.0.2.98\n"
	    "options ndots:2 edns0\n"
	    "nameserver 192.0.2.2 # trailing comment\n"
	    "nameserver ::ffff:192.0.2.3;x\n"		/* used, as IPv4 */
	    "nameserver 192.0.2.4";			/* no final newline */
	static const char *const want[] = {
		"192.0.2.1:53", "[2001:db8::53]:53", "[fe80::1%lo]:53", "192.0.2.2:53",
		"192.0.2.3:53", "192.0.2.4:53",
	};
	const char *path = put_text("resolv.conf", text);
	struct sockaddr_storage ss[8];
	socklen_t len[8];
	char buf[SERVER_ADDR_STRLEN];
	size_t skipped = 999;
	int r;

	memset(ss, 0xa5, sizeof(ss));
	r = resolvconf_upstreams(path, ss, len, 8, &skipped);
	cr_assert_eq(r, 6, "%d upstreams", r);
	cr_expect_eq(skipped, 9, "%zu skipped", skipped);
	for (int i = 0; i < r; i++) {
		cr_expect_str_eq(server_addr_format((struct sockaddr *)&ss[i], buf, sizeof(buf)),
		    want[i], "%d: %s", i, buf);
		cr_expect_eq(len[i], ss[i].ss_family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6), "%d: length", i);
	}
	cr_expect_eq(((struct sockaddr_in6 *)&ss[2])->sin6_scope_id, if_nametoindex("lo"));
	cr_expect_eq(((uint8_t *)&ss[6])[0], 0xa5, "nothing written past the count");

	/* past max: not written, counted */
	memset(ss, 0xa5, sizeof(ss));
	r = resolvconf_upstreams(path, ss, len, 2, &skipped);
	cr_expect_eq(r, 2);
	cr_expect_eq(skipped, 13, "9 bad lines and 4 past max: %zu", skipped);
	cr_expect_eq(((uint8_t *)&ss[2])[0], 0xa5, "nothing written past max");
	cr_expect_eq(resolvconf_upstreams(path, NULL, NULL, 0, NULL), 0, "max 0, no counter");

	skipped = 999;
	cr_expect_eq(resolvconf_upstreams(put_text("empty", ""), ss, len, 8, &skipped), 0);
	cr_expect_eq(skipped, 0);
}

Test(hosts, resolv_conf_upstreams_errors)
{
	char path[128];
	struct sockaddr_storage ss[2];
	socklen_t len[2];
	size_t skipped = 999;

	snprintf(path, sizeof(path), "%s/absent", dir);
	cr_expect_eq(resolvconf_upstreams(path, ss, len, 2, &skipped), -ENOENT);
	cr_expect_eq(skipped, 999, "untouched on error");
	cr_expect_eq(resolvconf_upstreams(dir, ss, len, 2, &skipped), -EISDIR);
}

/* A NUL in the file ends nothing: the line is skipped like any bad one. */
Test(hosts, resolv_conf_upstreams_nul)
{
	static const char text[] = "nameserver 192.0.2.1\0x\nnameserver 192.0.2.2\n";
	const char *path = put_file("resolv.conf", text, sizeof(text) - 1);
	struct sockaddr_storage ss[4];
	socklen_t len[4];
	size_t skipped = 999;
	char buf[SERVER_ADDR_STRLEN];

	cr_assert_eq(resolvconf_upstreams(path, ss, len, 4, &skipped), 1);
	cr_expect_eq(skipped, 1);
	cr_expect_str_eq(server_addr_format((struct sockaddr *)&ss[0], buf, sizeof(buf)),
	    "192.0.2.2:53");
}

/* Line i of the generated file: IPv4 for even i, IPv6 for odd. */
static void
stress_addr(unsigned i, char *text, size_t size)
{
	if (i % 2 == 0)
		snprintf(text, size, "10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
	else
		snprintf(text, size, "fd00::%x:%x", i >> 16, i & 0xffff);
}

#define STRESS_LINES	50000

Test(hosts, stress_50000_lines, .timeout = 120)
{
	char path[128], addr[INET6_ADDRSTRLEN], name[64];
	uint8_t q[128], out[DNS_NAME_MAX], w[128];
	size_t bad = 1;
	struct hosts *h;
	FILE *f;

	snprintf(path, sizeof(path), "%s/stress", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	for (unsigned i = 0; i < STRESS_LINES; i++) {
		stress_addr(i, addr, sizeof(addr));
		fprintf(f, "%s host%u.stress.test H%u\n", addr, i, i);
	}
	cr_assert_eq(fclose(f), 0);

	h = load_ok(path, &bad);
	cr_expect_eq(bad, 0, "bad: %zu", bad);
	cr_assert_eq(hosts_count(h), 2 * STRESS_LINES, "names: %zu", hosts_count(h));
	for (unsigned i = 0; i < STRESS_LINES; i++) {
		int fam = i % 2 == 0 ? 4 : 6;
		uint8_t a[16] = { 0 };
		char rev[128];
		size_t wlen;
		int r;

		uint8_t got[2][16];

		stress_addr(i, addr, sizeof(addr));
		cr_assert_eq(inet_pton(fam == 4 ? AF_INET : AF_INET6, addr, a), 1);
		snprintf(name, sizeof(name), "host%u.stress.test", i);
		r = lookup(h, name, fam, &got[0][0], 2);
		cr_assert_eq(r, 1, "%s: %d", name, r);
		cr_assert_arr_eq(got[0], a, fam == 4 ? 4 : 16, "%s", name);
		snprintf(name, sizeof(name), "h%u", i);
		r = lookup(h, name, fam, &got[0][0], 2);
		cr_assert_eq(r, 1, "%s: %d", name, r);
		cr_assert_arr_eq(got[0], a, fam == 4 ? 4 : 16, "%s", name);
		cr_assert_eq(lookup(h, name, fam == 4 ? 6 : 4, &got[0][0], 2), 0, "%s", name);

		/* and back */
		if (fam == 4) {
			snprintf(rev, sizeof(rev), "%u.%u.%u.%u.in-addr.arpa",
			    a[3], a[2], a[1], a[0]);
		} else {
			char *p = rev;

			for (int k = 15; k >= 0; k--)
				p += sprintf(p, "%x.%x.", a[k] & 15, a[k] >> 4);
			strcpy(p, "ip6.arpa");
		}
		snprintf(name, sizeof(name), "host%u.stress.test", i);
		wlen = wire(name, w);
		r = hosts_reverse(h, q, wire(rev, q), out);
		cr_assert_eq(r, (int)wlen, "%s: %d", rev, r);
		cr_assert_arr_eq(out, w, wlen, "%s", rev);
	}
	hosts_free(h);
#ifdef HAVE_LSAN
	cr_expect_eq(__lsan_do_recoverable_leak_check(), 0, "hosts_free left a leak");
#endif
}

/* Past HOSTS_MAX_NAMES, names are refused one by one and counted as bad. */
Test(hosts, name_cap)
{
	char path[128];
	size_t bad = 0;
	struct hosts *h;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cap", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	for (unsigned i = 0; i < HOSTS_MAX_NAMES + 5; i++)
		fprintf(f, "10.%u.%u.%u n%u\n", i >> 16, (i >> 8) & 255, i & 255, i);
	/* a name already held still takes another address */
	fprintf(f, "192.0.2.1 n0 n%u\n", HOSTS_MAX_NAMES + 1);
	cr_assert_eq(fclose(f), 0);

	h = load_ok(path, &bad);
	cr_expect_eq(hosts_count(h), HOSTS_MAX_NAMES);
	cr_expect_eq(bad, 6, "bad: %zu", bad);
	cr_expect_str_eq(lookup1(h, "n0", 4), "10.0.0.0");
	cr_expect_str_eq(lookup1(h, "n99999", 4), "10.1.134.159");
	cr_expect_str_eq(lookup1(h, "n100000", 4), "-2");
	{
		uint8_t a[2][4];

		cr_expect_eq(lookup(h, "n0", 4, &a[0][0], 2), 2);
		cr_expect_eq(a[1][0], 192);
	}
	hosts_free(h);
}
