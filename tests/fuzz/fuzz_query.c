/*
 * fuzz_query: a client's query through the real answer path,
 * resolver_query(), with a hosts file and a warm cache (loaded the way
 * load-cache loads it) but no upstream at all, so nothing is sent
 * anywhere: a miss is answered SERVFAIL, or stale data when it is in
 * the serve-stale window.  The first input byte says TCP or UDP and how
 * much time has passed since the cache was filled; the rest is the query.
 * Invariants, for resolver_query() and resolver_refuse() alike: nothing
 * pending; no answer only for what dns_parse_query drops; every answer
 * parses completely (fuzz_dns.c), is a response with the query's id and
 * its question as the client spelt it, carries an OPT exactly when the
 * client sent one, fits the client's UDP size, and has no records if TC.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "roles/server/dump.h"
#include "roles/server/resolve.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_cache.h"
#include "tests/fuzz/fuzz_dns.h"

#define T0	100000		/* when the cache was filled (s) */

static const char hosts_text[] =
	"127.0.0.1 localhost\n"
	"::1 localhost ip6-localhost\n"
	"192.0.2.10 host.example.test host\n"
	"2001:db8::10 host.example.test\n"
	"192.0.2.11 Mixed.Case.test # a comment\n"
	"fe80::1%eth0 scoped.test\n";

/* What load-cache reads: real dump lines (tests/test_dump.c's sample). */
static const char dump_text[] =
	"; fdtool cache dump\n"
	";entry www.Example.test. IN A NOERROR ttl=290\n"
	"www.Example.test.\t290\tIN\tA\t192.0.2.1\n"
	"www.Example.test.\t290\tIN\tA\t192.0.2.2\n"
	";authority Example.test.\t3590\tIN\tNS\tns1.Example.test.\n"
	";additional ns1.Example.test.\t3590\tIN\tA\t192.0.2.53\n"
	";additional ns1.Example.test.\t3590\tIN\tAAAA\t2001:db8::53\n"
	";entry alias.example.test. IN A NOERROR ttl=290\n"
	"alias.example.test.\t590\tIN\tCNAME\tmid.example.test.\n"
	"mid.example.test.\t590\tIN\tCNAME\twww.example.test.\n"
	"www.example.test.\t290\tIN\tA\t192.0.2.1\n"
	";entry example.test. IN MX NOERROR ttl=3590\n"
	"example.test.\t3590\tIN\tMX\t10 mail.example.test.\n"
	"example.test.\t3590\tIN\tMX\t20 mx2.other.test.\n"
	";entry nope.example.test. IN A NXDOMAIN ttl=50 negative\n"
	";authority example.test.\t890\tIN\tSOA\tns1.example.test. hostmaster.example.test. "
	"1 3600 600 86400 60\n"
	";entry signed.example.test. IN A NOERROR ttl=290 ad\n"
	"signed.example.test.\t290\tIN\tA\t192.0.2.7\n"
	"signed.example.test.\t290\tIN\tRRSIG\t\\# 28 0001080300000e10000000000000000004d2"
	"076578616d706c650000\n"
	";entry cd.example.test. IN A NOERROR ttl=290 cd\n"
	"cd.example.test.\t290\tIN\tA\t192.0.2.8\n"
	";entry big.example.test. IN TXT NOERROR ttl=290\n"
	"big.example.test.\t290\tIN\tTXT\t\"" "0123456789012345678901234567890123456789"
	"0123456789012345678901234567890123456789012345678901234567890123456789\" \"x\"\n"
	"big.example.test.\t290\tIN\tTXT\t\"" "0123456789012345678901234567890123456789"
	"0123456789012345678901234567890123456789012345678901234567890123456789\" \"y\"\n"
	"big.example.test.\t290\tIN\tTXT\t\"" "0123456789012345678901234567890123456789"
	"0123456789012345678901234567890123456789012345678901234567890123456789\" \"z\"\n"
	"big.example.test.\t290\tIN\tTXT\t\"" "0123456789012345678901234567890123456789"
	"0123456789012345678901234567890123456789012345678901234567890123456789\" \"w\"\n"
	";entry srv.example.test. IN SRV NOERROR ttl=290\n"
	"srv.example.test.\t290\tIN\tSRV\t0 5 5060 sip.example.test.\n"
	";entry bin.example.test. IN TYPE65000 NOERROR ttl=290\n"
	"bin.example.test.\t290\tIN\tTYPE65000\t\\# 6 00ff3b0ac00c\n";

static struct server_config cfg;
static struct loop_clock clk;
static struct server_counters stats;
static struct cache *cache;
static struct hosts *hosts;
static struct resolver *res;
static struct fz_msg msg;
static uint8_t out[DNS_MSG_MAX];

static void
load_one(const struct dump_entry *e, void *arg)
{
	static struct dump_load l;

	(void)arg;
	FUZZ_CHECK(dump_load_answer(e->tmpl, e->tlen, e->negative, UINT32_MAX, &l) == 0,
	    "a seed entry");
	FUZZ_CHECK(cache_insert(cache, &l.key, &l.answer, e->ttl, T0) == 0, "insert");
}

static void
load_cache(void)
{
	static struct dump_parser p;
	static struct dump_entry e;

	fz_parse_dump(&p, dump_text, sizeof(dump_text) - 1, &e, load_one, NULL);
	FUZZ_CHECK(p.malformed == 0 && p.entries == 9, "the seed dump: %zu entries, %zu bad",
	    p.entries, p.malformed);
}

static void
setup(void)
{
	char path[64];
	int err, epfd;

	cfg.max_ttl = 86400;
	cfg.max_pending = 16;
	cfg.serve_stale = 86400;
	cfg.upstream_timeout_ms = 400;
	cfg.query_timeout_ms = 2000;
	clk.s = T0;
	clk.ms = (uint64_t)T0 * 1000;
	FUZZ_CHECK((epfd = epoll_create1(EPOLL_CLOEXEC)) >= 0, "epoll");
	FUZZ_CHECK((cache = cache_new(64)) != NULL, "cache_new");
	FUZZ_CHECK((res = resolver_new(&cfg, &clk, cache, &stats, epfd, fz_no_delivery, NULL)),
	    "resolver_new");
	FUZZ_CHECK(fuzz_memfile((const uint8_t *)hosts_text, sizeof(hosts_text) - 1, path,
	    sizeof(path)) >= 0, "memfd");
	FUZZ_CHECK((hosts = hosts_load(path, NULL, &err)) != NULL, "hosts_load %d", err);
	resolver_set_hosts(res, hosts);
	load_cache();
}

static size_t
udp_max(const struct dns_query *q)
{
	if (!q->edns)
		return DNS_UDP_MIN;
	return q->edns_size < DNS_EDNS_SIZE ? q->edns_size : DNS_EDNS_SIZE;
}

static void
check_answer(const char *what, const uint8_t *pkt, size_t len, ssize_t n, int tcp)
{
	struct dns_query q;
	int pr = dns_parse_query(pkt, len, &q);

	FUZZ_CHECK(n != RESOLVER_PENDING, "%s: pending with no upstream", what);
	FUZZ_CHECK(n >= 0 && (size_t)n <= sizeof(out), "%s: length %zd", what, n);
	if (pr == -EINVAL) {
		FUZZ_CHECK(n == 0, "%s: an answer to what dns_parse_query drops", what);
		return;
	}
	fz_check_reply(what, out, (size_t)n, &q, tcp ? sizeof(out) : udp_max(&q), &msg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t advance[8] = { 0, 1, 45, 289, 290, 300, 3000, 100000 };
	struct client cl = { .udp_fd = -1 };
	ssize_t n;
	int tcp;

	if (!res)
		setup();
	if (size < 1)
		return 0;
	tcp = data[0] & 1;
	clk.s = T0 + advance[data[0] >> 1 & 7];
	clk.ms = clk.s * 1000;
	data++;
	size--;

	n = resolver_query(res, data, size, &cl, tcp, out, sizeof(out));
	check_answer("resolver_query", data, size, n, tcp);
	n = (ssize_t)resolver_refuse(data, size, out, sizeof(out));
	check_answer("resolver_refuse", data, size, n, 1);
	return 0;
}
