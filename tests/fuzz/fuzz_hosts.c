/*
 * fuzz_hosts: the input as a hosts(5) file and as a resolv.conf(5),
 * read through the real file path (text_read_file) from a memfd, so no
 * core change was needed.  Each is checked against a small model of the
 * file written here from the man pages' rules:
 *   hosts: every valid (address, name) pair of the file looks up (forward,
 *   any case) to a list holding that address; each address looks up in
 *   reverse (in-addr.arpa / ip6.arpa, any case) to the first name the file
 *   gave it; hosts_count() is the number of distinct names; the bad count
 *   is the model's.
 *   resolv.conf: every "nameserver" line is either used or counted as
 *   skipped; every address used prints and parses back to itself.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roles/server/hosts.h"
#include "roles/server/resolvconf.h"
#include "roles/server/zones.h"
#include "tests/fuzz/fuzz.h"

#define MAX_INPUT	(16 * 1024)
#define MAX_PAIRS	4096
#define LINE_MAX_LEN	4096	/* hosts.c ignores (and counts) longer lines */

struct pair {
	uint8_t family;
	uint8_t addr[16];
	uint8_t name[DNS_NAME_MAX];
	uint8_t namelen;
};

static struct pair pairs[MAX_PAIRS];
static size_t npairs;

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The next token of [*p, end). */
static int
token(const char **p, const char *end, const char **ts, size_t *tn)
{
	const char *s = *p;

	while (s < end && is_blank(*s))
		s++;
	if (s == end)
		return 0;
	*ts = s;
	while (s < end && !is_blank(*s))
		s++;
	*tn = (size_t)(s - *ts);
	*p = s;
	return 1;
}

/* hosts(5) hostname rules: letters, digits, '-', '_'; labels 1-63; 253 chars. */
static int
model_name(const char *s, size_t n, uint8_t out[DNS_NAME_MAX])
{
	size_t o = 0, lab = 0;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return -1;
	for (size_t i = 0; i <= n; i++) {
		char c = i < n ? s[i] : '.';
		if (c == '.') {
			if (i == lab || i - lab > 63)
				return -1;
			out[o++] = (uint8_t)(i - lab);
			for (size_t j = lab; j < i; j++) {
				char d = s[j];
				out[o++] = (uint8_t)(d >= 'A' && d <= 'Z' ? d + 32 : d);
			}
			lab = i + 1;
		} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_')) {
			return -1;
		}
	}
	out[o++] = 0;
	return (int)o;
}

/* 4 or 6, 0 for a scoped address (the line is ignored), -1 if not an address. */
static int
model_addr(const char *s, size_t n, uint8_t a[16])
{
	char buf[64];

	if (memchr(s, '%', n))
		return 0;
	if (n >= sizeof(buf) || memchr(s, '\0', n))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(a, 0, 16);
	if (inet_pton(AF_INET, buf, a) == 1)
		return 4;
	if (inet_pton(AF_INET6, buf, a) == 1)
		return 6;
	return -1;
}

/* The model's reading of the file: the pairs, and how many bad things it has. */
static size_t
model_hosts(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	size_t bad = 0;

	npairs = 0;
	while (p < end) {
		const char *ls = p, *le = memchr(p, '\n', (size_t)(end - p)), *ts, *q;
		size_t tn, names = 0, nbad = 0;
		uint8_t a[16];
		int family;

		le = le ? le : end;
		p = le < end ? le + 1 : end;
		if (le - ls > LINE_MAX_LEN) {
			bad++;
			continue;
		}
		for (q = ls; q < le; q++)
			if (*q == '#')
				break;
		le = q;
		q = ls;
		if (!token(&q, le, &ts, &tn))
			continue;
		if ((family = model_addr(ts, tn, a)) == 0)
			continue;
		if (family < 0) {
			bad++;
			continue;
		}
		while (token(&q, le, &ts, &tn)) {
			struct pair *pr = &pairs[npairs];
			int n;

			names++;
			if ((n = model_name(ts, tn, pr->name)) < 0) {
				nbad++;
				continue;
			}
			if (npairs == MAX_PAIRS)
				continue;
			pr->family = (uint8_t)family;
			memcpy(pr->addr, a, 16);
			pr->namelen = (uint8_t)n;
			npairs++;
		}
		bad += names == 0 ? 1 : nbad;
	}
	return bad;
}

/* The reverse name of an address, with its letters in the case mask says. */
static int
reverse_name(const struct pair *pr, unsigned mask, uint8_t out[DNS_NAME_MAX])
{
	static const char hex[] = "0123456789abcdef";
	char text[128];
	size_t n = 0;
	int len;

	if (pr->family == 4) {
		n = (size_t)snprintf(text, sizeof(text), "%u.%u.%u.%u.in-addr.arpa", pr->addr[3],
		    pr->addr[2], pr->addr[1], pr->addr[0]);
	} else {
		for (int i = 15; i >= 0; i--) {
			text[n++] = hex[pr->addr[i] & 15];
			text[n++] = '.';
			text[n++] = hex[pr->addr[i] >> 4];
			text[n++] = '.';
		}
		memcpy(text + n, "ip6.arpa", 9);
		n += 8;
	}
	for (size_t i = 0; i < n; i++)
		if (text[i] >= 'a' && text[i] <= 'z' && (mask >> (i % 8) & 1))
			text[i] = (char)(text[i] - 32);
	text[n] = '\0';
	len = dns_name_from_text(text, out);
	return len;
}

static int
has_addr(const uint8_t *addrs, int n, int family, const uint8_t *a)
{
	size_t isz = family == 4 ? 4 : 16;

	for (int i = 0; i < n; i++)
		if (memcmp(addrs + (size_t)i * isz, a, isz) == 0)
			return 1;
	return 0;
}

static void
check_hosts(const uint8_t *data, size_t size, const char *path)
{
	static uint8_t addrs[MAX_PAIRS * 16];
	struct hosts *h;
	size_t bad = 0, want_bad, distinct = 0;
	int err = 0;

	want_bad = model_hosts((const char *)data, size);
	h = hosts_load(path, &bad, &err);
	FUZZ_CHECK(h != NULL, "hosts_load failed: %d", err);
	FUZZ_CHECK(bad == want_bad, "hosts_load counts %zu bad, the model %zu", bad, want_bad);

	for (size_t i = 0; i < npairs; i++) {
		const struct pair *pr = &pairs[i];
		uint8_t name[DNS_NAME_MAX], rev[DNS_NAME_MAX], out[DNS_NAME_MAX];
		size_t first = i;
		int n, rl;

		size_t j;

		for (j = 0; j < i; j++)
			if (pairs[j].namelen == pr->namelen &&
			    memcmp(pairs[j].name, pr->name, pr->namelen) == 0)
				break;
		distinct += j == i;
		/* forward, in another spelling */
		memcpy(name, pr->name, pr->namelen);
		for (size_t k = 0; k < pr->namelen; k++)
			if (name[k] >= 'a' && name[k] <= 'z' && (i + k) % 3 == 0)
				name[k] = (uint8_t)(name[k] - 32);
		n = hosts_lookup(h, name, pr->namelen, pr->family, addrs, MAX_PAIRS);
		FUZZ_CHECK(n > 0 && has_addr(addrs, n, pr->family, pr->addr),
		    "pair %zu: its name does not look up to its address (%d)", i, n);

		/* reverse: the first name the file gave this address */
		for (j = 0; j < i; j++)
			if (pairs[j].family == pr->family &&
			    memcmp(pairs[j].addr, pr->addr, 16) == 0) {
				first = j;
				break;
			}
		rl = reverse_name(pr, (unsigned)i * 37u, rev);
		FUZZ_CHECK(rl > 0, "no reverse name");
		n = hosts_reverse(h, rev, (size_t)rl, out);
		FUZZ_CHECK(n == pairs[first].namelen &&
		    memcmp(out, pairs[first].name, (size_t)n) == 0,
		    "pair %zu: the reverse lookup is not the address's first name (%d)", i, n);
	}
	if (npairs < MAX_PAIRS)
		FUZZ_CHECK(hosts_count(h) == distinct, "hosts_count %zu, the model %zu",
		    hosts_count(h), distinct);
	hosts_free(h);
}

static void
check_resolvconf(const uint8_t *data, size_t size, const char *path)
{
	struct sockaddr_storage out[4], back;
	socklen_t outlen[4], blen;
	const char *p = (const char *)data, *end = p + size;
	char text[SERVER_ADDR_STRLEN];
	size_t lines = 0, skipped = 0;
	int n;

	while (p < end) {
		const char *ls = p, *le = memchr(p, '\n', (size_t)(end - p)), *q, *ts;
		size_t tn;

		le = le ? le : end;
		p = le < end ? le + 1 : end;
		for (q = ls; q < le && *q != '#' && *q != ';'; q++)
			;
		le = q;
		q = ls;
		if (token(&q, le, &ts, &tn) && tn == 10 && memcmp(ts, "nameserver", 10) == 0)
			lines++;
	}
	n = resolvconf_upstreams(path, out, outlen, 4, &skipped);
	FUZZ_CHECK(n >= 0 && n <= 4, "resolvconf_upstreams returned %d", n);
	FUZZ_CHECK((size_t)n + skipped == lines, "%d used + %zu skipped, but %zu nameserver "
	    "lines", n, skipped, lines);
	for (int i = 0; i < n; i++) {
		server_addr_format((struct sockaddr *)&out[i], text, sizeof(text));
		memset(&back, 0, sizeof(back));
		FUZZ_CHECK(server_addr_parse(text, 53, &back, &blen, NULL) == 0,
		    "nameserver %d prints as \"%s\", which does not parse", i, text);
		FUZZ_CHECK(blen == outlen[i] && memcmp(&back, &out[i], blen) == 0,
		    "nameserver %d prints as \"%s\", which parses differently", i, text);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];

	if (size > MAX_INPUT || fuzz_memfile(data, size, path, sizeof(path)) < 0)
		return 0;
	check_hosts(data, size, path);
	check_resolvconf(data, size, path);
	return 0;
}
