/*
 * The resolver and the upstream layer in-process, against scripted fake
 * upstreams on loopback (the test runs in a namespace of its own): what
 * goes upstream, what each client gets back, and when.  The test is the
 * event loop: it reads the fakes' sockets and dispatches the resolver's.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "roles/server/cache.h"
#include "roles/server/dns.h"
#include "roles/server/hosts.h"
#include "roles/server/resolve.h"
#include "roles/server/upstream.h"

#define MAXFAKE	4
#define MAXGOT	64

struct fake {
	int fd;
	struct sockaddr_storage addr;
	socklen_t len;
	int seen;			/* queries received */
	uint8_t last[512];		/* the last one */
	size_t lastlen;
	struct sockaddr_in from;	/* whom to answer */
};

struct got {
	uint8_t msg[DNS_MSG_MAX];
	size_t len;
	int tag;			/* the client's (its udp_fd field) */
};

static struct fake fakes[MAXFAKE];
static struct got got[MAXGOT];
static int ngot;
static struct server_config cfg;
static struct loop_clock clk;
static struct server_counters stats;
static struct cache *cache;
static struct resolver *res;
static int epfd;
static uint64_t asked_ago_us;	/* a query came in this long before ask() */

static void
deliver(void *ctx, const struct client *cl, const uint8_t *msg, size_t len)
{
	(void)ctx;
	cr_assert_lt(ngot, MAXGOT);
	memcpy(got[ngot].msg, msg, len);
	got[ngot].len = len;
	got[ngot].tag = cl->udp_fd;
	ngot++;
}

static void
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	clk.ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	clk.s = (uint64_t)ts.tv_sec;
}

static void
fake_open(int i)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);

	fakes[i].fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	cr_assert_geq(fakes[i].fd, 0);
	cr_assert_eq(bind(fakes[i].fd, (struct sockaddr *)&sin, sizeof(sin)), 0, "bind: %s",
	    strerror(errno));
	cr_assert_eq(getsockname(fakes[i].fd, (struct sockaddr *)&sin, &len), 0);
	memcpy(&fakes[i].addr, &sin, sizeof(sin));
	fakes[i].len = sizeof(sin);
	fakes[i].seen = 0;
}

static void
setup_with(int nfake, unsigned attempt_ms, unsigned deadline_ms, uint32_t stale)
{
	memset(&cfg, 0, sizeof(cfg));
	memset(&stats, 0, sizeof(stats));
	ngot = 0;
	asked_ago_us = 0;
	cfg.max_ttl = 86400;
	cfg.max_pending = 64;
	cfg.upstream_timeout_ms = attempt_ms;
	cfg.query_timeout_ms = deadline_ms;
	cfg.serve_stale = stale;
	for (int i = 0; i < nfake; i++) {
		fake_open(i);
		cfg.upstream[i] = fakes[i].addr;
		cfg.upstream_len[i] = fakes[i].len;
	}
	cfg.nupstream = (size_t)nfake;
	now();
	epfd = epoll_create1(EPOLL_CLOEXEC);
	cr_assert_geq(epfd, 0);
	cache = cache_new(100);
	cr_assert_not_null(cache);
	res = resolver_new(&cfg, &clk, cache, &stats, epfd, deliver, NULL);
	cr_assert_not_null(res);
}

static void
teardown(void)
{
	resolver_free(res);
	cache_free(cache);
	if (epfd > 0)
		close(epfd);
	res = NULL;
	cache = NULL;
	epfd = -1;
	for (int i = 0; i < MAXFAKE; i++)
		if (fakes[i].fd > 0)
			close(fakes[i].fd);
	memset(fakes, 0, sizeof(fakes));
}

/* A query for name (text) type qtype, id, with an OPT (DO if dnssec_ok) if edns. */
static size_t
query(uint8_t *out, const char *name, uint16_t qtype, uint16_t qclass, uint16_t id,
    int edns, int dnssec_ok, uint16_t flags)
{
	uint8_t wire[DNS_NAME_MAX];
	int n = dns_name_from_text(name, wire);
	size_t len = 0;

	cr_assert_gt(n, 0);
	out[len++] = (uint8_t)(id >> 8);
	out[len++] = (uint8_t)id;
	out[len++] = (uint8_t)((DNS_F_RD | flags) >> 8);
	out[len++] = (uint8_t)(DNS_F_RD | flags);
	memcpy(out + len, "\0\1\0\0\0\0\0\0", 8);
	out[len + 7] = (uint8_t)(edns ? 1 : 0);
	len += 8;
	memcpy(out + len, wire, (size_t)n);
	len += (size_t)n;
	out[len++] = (uint8_t)(qtype >> 8);
	out[len++] = (uint8_t)qtype;
	out[len++] = (uint8_t)(qclass >> 8);
	out[len++] = (uint8_t)qclass;
	if (edns) {
		memcpy(out + len, "\0\0\x29\x04\xd0\0\0\0\0\0\0", 11);
		if (dnssec_ok)
			out[len + 7] = 0x80;
		len += 11;
	}
	return len;
}

/* Ask; returns what resolver_query returned, an immediate answer in *imm. */
static ssize_t
ask(const char *name, uint16_t qtype, uint16_t qclass, uint16_t id, int tag,
    uint8_t *imm, size_t cap)
{
	uint8_t q[512];
	size_t n = query(q, name, qtype, qclass, id, 1, 0, 0);
	struct client cl = { .udp_fd = tag, .received_us = loop_now_us() - asked_ago_us };

	now();
	return resolver_query(res, q, n, &cl, 0, imm, cap);
}

/* Read every query waiting at fake i; returns how many. */
static int
fake_read(int i)
{
	int n = 0;
	socklen_t fl = sizeof(fakes[i].from);
	ssize_t r;

	while ((r = recvfrom(fakes[i].fd, fakes[i].last, sizeof(fakes[i].last), 0,
	    (struct sockaddr *)&fakes[i].from, &fl)) > 0) {
		fakes[i].lastlen = (size_t)r;
		fakes[i].seen++;
		n++;
		fl = sizeof(fakes[i].from);
	}
	return n;
}

/*
 * Answer fake i's last query: rcode, with an A record 192.0.2.1 (TTL ttl)
 * when ancount, AA set, and the question unless no_question.
 */
static void
fake_answer(int i, int rcode, int ancount, uint32_t ttl, int no_question)
{
	uint8_t a[600];
	size_t qend = DNS_HDR_SIZE, len;
	const uint8_t *q = fakes[i].last;

	while (q[qend])
		qend += 1u + q[qend];
	qend += 5;
	memcpy(a, q, qend);
	a[2] = 0x85;		/* QR, AA, RD */
	a[3] = (uint8_t)(0x80 | rcode);
	a[6] = 0;
	a[7] = (uint8_t)ancount;
	a[10] = a[11] = 0;	/* no OPT back */
	len = qend;
	if (ancount) {
		uint8_t rr[] = { 0xc0, 0x0c, 0, 1, 0, 1, (uint8_t)(ttl >> 24),
		    (uint8_t)(ttl >> 16), (uint8_t)(ttl >> 8), (uint8_t)ttl, 0, 4,
		    192, 0, 2, 1 };
		memcpy(a + len, rr, sizeof(rr));
		len += sizeof(rr);
	}
	if (no_question) {
		a[5] = 0;
		len = DNS_HDR_SIZE;
	}
	cr_assert_eq(sendto(fakes[i].fd, a, len, 0, (struct sockaddr *)&fakes[i].from,
	    sizeof(fakes[i].from)), (ssize_t)len);
}

/* Run the resolver's side for up to ms: its sockets and its timers. */
static void
run(int ms)
{
	struct upstreams *u = resolver_upstreams(res);
	struct epoll_event ev[16];
	uint64_t end;

	now();
	end = clk.ms + (uint64_t)ms;
	while (clk.ms < end) {
		uint64_t next = upstreams_next_deadline(u);
		int wait = next <= clk.ms ? 0 : next - clk.ms < end - clk.ms ?
		    (int)(next - clk.ms) : (int)(end - clk.ms);
		int n = epoll_wait(epfd, ev, 16, wait);
		now();
		for (int i = 0; i < n; i++)
			upstreams_dispatch(u, ev[i].data.ptr, clk.ms);
		upstreams_tick(u, clk.ms);
	}
}

static int
rcode(const struct got *g)
{
	return g->msg[3] & 0x0f;
}

static uint16_t
msg_id(const uint8_t *m)
{
	return (uint16_t)(m[0] << 8 | m[1]);
}

/* The EDE INFO-CODE in an answer's OPT, or -1. */
static int
ede_code(const uint8_t *m, size_t len)
{
	for (size_t i = DNS_HDR_SIZE; i + 6 <= len; i++)
		if (m[i] == 0 && m[i + 1] == 15 && i + 6 <= len)
			return m[i + 4] << 8 | m[i + 5];
	return -1;
}

static void
wait_queries(int i, int want, int ms)
{
	for (int t = 0; t < ms && fakes[i].seen < want; t += 5) {
		run(5);
		fake_read(i);
	}
	cr_assert_eq(fakes[i].seen, want, "fake %d saw %d queries, expected %d", i,
	    fakes[i].seen, want);
}

TestSuite(resolve, .fini = teardown, .timeout = 20);

Test(resolve, miss_goes_up_with_do_and_comes_back_without_aa)
{
	uint8_t imm[512];

	setup_with(1, 500, 3000, 0);
	cr_assert_eq(ask("www.example.", DNS_TYPE_A, DNS_CLASS_IN, 0x1234, 7, imm,
	    sizeof(imm)), RESOLVER_PENDING);
	wait_queries(0, 1, 500);
	/* the upstream query: RD, and an OPT with DO */
	cr_assert(fakes[0].last[2] & 0x01, "RD");
	cr_assert_eq(fakes[0].last[11], 1, "an OPT");
	cr_assert(fakes[0].last[fakes[0].lastlen - 4] & 0x80, "DO set upstream");
	fake_answer(0, 0, 1, 300, 0);
	run(50);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(got[0].tag, 7);
	cr_assert_eq(msg_id(got[0].msg), 0x1234);
	cr_assert_eq(rcode(&got[0]), 0);
	cr_assert_not(got[0].msg[2] & (DNS_F_AA >> 8), "AA cleared");
	/* and now from the cache, at once */
	cr_assert_gt(ask("WWW.example.", DNS_TYPE_A, DNS_CLASS_IN, 0x99, 8, imm, sizeof(imm)), 0);
	cr_assert_eq(fakes[0].seen, 1);
}

Test(resolve, identical_misses_share_one_upstream_query)
{
	uint8_t imm[512];

	setup_with(1, 500, 3000, 0);
	for (int i = 0; i < 20; i++)
		cr_assert_eq(ask(i % 2 ? "Same.example." : "same.EXAMPLE.", DNS_TYPE_A,
		    DNS_CLASS_IN, (uint16_t)(100 + i), i, imm, sizeof(imm)), RESOLVER_PENDING);
	/* another type is another question */
	cr_assert_eq(ask("same.example.", DNS_TYPE_AAAA, DNS_CLASS_IN, 500, 50, imm,
	    sizeof(imm)), RESOLVER_PENDING);
	wait_queries(0, 2, 500);
	run(20);
	fake_read(0);
	cr_assert_eq(fakes[0].seen, 2, "one upstream query per question");
	cr_assert_eq(stats.coalesced, 19);
}

Test(resolve, coalesced_clients_each_get_their_own_id)
{
	uint8_t imm[512];

	setup_with(1, 500, 3000, 0);
	for (int i = 0; i < 5; i++)
		ask("c.example.", DNS_TYPE_A, DNS_CLASS_IN, (uint16_t)(0x4000 + i), i, imm,
		    sizeof(imm));
	wait_queries(0, 1, 500);
	fake_answer(0, 0, 1, 60, 0);
	run(50);
	cr_assert_eq(ngot, 5);
	for (int i = 0; i < 5; i++) {
		cr_assert_eq(msg_id(got[i].msg), 0x4000 + got[i].tag);
		cr_assert_eq(got[i].msg[7], 1, "the answer record");
	}
}

Test(resolve, dead_first_upstream_costs_one_timeout)
{
	uint8_t imm[512];

	setup_with(2, 100, 3000, 0);
	ask("one.example.", DNS_TYPE_A, DNS_CLASS_IN, 1, 1, imm, sizeof(imm));
	run(20);
	fake_read(0);
	fake_read(1);
	/* fresh servers: the first is asked first; it never answers */
	cr_assert_eq(fakes[0].seen + fakes[1].seen, 1);
	int dead = fakes[0].seen ? 0 : 1, live = 1 - dead;
	for (int t = 0; t < 300 && fakes[live].seen == 0; t += 5) {
		run(5);
		fake_read(live);
	}
	cr_assert_eq(fakes[live].seen, 1, "the next server after the timeout");
	fake_answer(live, 0, 1, 60, 0);
	run(20);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(rcode(&got[0]), 0);
	/* the next misses go straight to the live one */
	for (int i = 0; i < 5; i++) {
		char name[32];
		snprintf(name, sizeof(name), "n%d.example.", i);
		ask(name, DNS_TYPE_A, DNS_CLASS_IN, (uint16_t)(10 + i), 10 + i, imm, sizeof(imm));
		run(10);
		fake_read(live);
		cr_assert_eq(fakes[live].seen, 2 + i, "miss %d went to the live server", i);
		fake_answer(live, 0, 1, 60, 0);
		run(10);
		cr_assert_eq(ngot, 2 + i, "miss %d answered within 20 ms", i);
	}
	fake_read(dead);
	cr_assert_eq(fakes[dead].seen, 1, "the dead server was asked once");
}

Test(resolve, a_slow_answer_is_not_lost)
{
	uint8_t imm[512], first[512];
	size_t firstlen;

	setup_with(1, 100, 3000, 0);
	ask("slow.example.", DNS_TYPE_A, DNS_CLASS_IN, 77, 1, imm, sizeof(imm));
	wait_queries(0, 1, 200);
	memcpy(first, fakes[0].last, fakes[0].lastlen);
	firstlen = fakes[0].lastlen;
	struct sockaddr_in first_from = fakes[0].from;
	wait_queries(0, 2, 400);	/* the second attempt, after 100 ms */
	/* now the first attempt's answer arrives, late */
	memcpy(fakes[0].last, first, firstlen);
	fakes[0].lastlen = firstlen;
	fakes[0].from = first_from;
	fake_answer(0, 0, 1, 60, 0);
	run(30);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(rcode(&got[0]), 0, "the late answer won");
	cr_assert_eq(got[0].msg[7], 1);
}

Test(resolve, refused_moves_on_at_once)
{
	uint8_t imm[512];

	for (int noq = 0; noq < 2; noq++) {
		setup_with(2, 1000, 3000, 0);
		ask("r.example.", DNS_TYPE_A, DNS_CLASS_IN, 5, 1, imm, sizeof(imm));
		run(20);
		int first = fake_read(0) ? 0 : 1;
		if (first == 1)
			fake_read(1);
		fake_answer(first, DNS_RCODE_REFUSED, 0, 0, noq);
		run(20);
		cr_assert_eq(fake_read(1 - first), 1, "the other server asked within 20 ms "
		    "(question %s)", noq ? "absent" : "echoed");
		fake_answer(1 - first, 0, 1, 60, 0);
		run(20);
		cr_assert_eq(ngot, 1);
		cr_assert_eq(rcode(&got[0]), 0);
		teardown();
	}
}

static uint64_t buckets(void);	/* the answers* sum: with the counters below */

Test(resolve, all_refusing_is_servfail_with_ede)
{
	uint8_t imm[512];

	setup_with(2, 1000, 3000, 0);
	ask("x.example.", DNS_TYPE_A, DNS_CLASS_IN, 5, 1, imm, sizeof(imm));
	for (int k = 0; k < 2; k++) {
		run(20);
		for (int i = 0; i < 2; i++)
			if (fake_read(i))
				fake_answer(i, DNS_RCODE_REFUSED, 0, 0, 0);
	}
	run(20);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(rcode(&got[0]), DNS_RCODE_SERVFAIL);
	cr_assert_eq(ede_code(got[0].msg, got[0].len), 22);
	/* counted as pdns counts it */
	cr_assert_eq(stats.servfail, 1);
	cr_assert_eq(stats.noerror, 0);
	cr_assert_eq(stats.upstream_refused, 2);
	cr_assert_eq(stats.all_outqueries, 2);
	cr_assert_eq(buckets(), 1);
}

Test(resolve, deadline_gives_servfail_with_ede)
{
	uint8_t imm[512];

	setup_with(1, 100, 300, 0);
	ask("t.example.", DNS_TYPE_A, DNS_CLASS_IN, 5, 1, imm, sizeof(imm));
	run(250);
	cr_assert_eq(ngot, 0, "not before the deadline");
	run(150);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(rcode(&got[0]), DNS_RCODE_SERVFAIL);
	cr_assert_eq(ede_code(got[0].msg, got[0].len), 22);
}

Test(resolve, chaos_and_private_reverse_are_answered_here)
{
	uint8_t imm[512];
	ssize_t n;

	setup_with(1, 100, 300, 0);
	n = ask("version.bind.", DNS_TYPE_TXT, DNS_CLASS_CH, 5, 1, imm, sizeof(imm));
	cr_assert_gt(n, 0);
	cr_assert_eq(imm[3] & 0x0f, DNS_RCODE_REFUSED);
	n = ask("4.3.2.10.in-addr.arpa.", DNS_TYPE_PTR, DNS_CLASS_IN, 6, 1, imm, sizeof(imm));
	cr_assert_gt(n, 0);
	cr_assert_eq(imm[3] & 0x0f, DNS_RCODE_NXDOMAIN);
	cr_assert_eq(imm[9], 1, "the zone's SOA in authority");
	run(20);
	cr_assert_eq(fake_read(0), 0, "nothing went upstream");
}

Test(resolve, forward_zone_takes_its_names)
{
	uint8_t imm[512];
	const char *why;

	setup_with(2, 100, 1000, 0);
	/* the default set is fake 0 only; fake 1 serves corp.test and 10.in-addr.arpa */
	resolver_free(res);
	cfg.nupstream = 1;
	char spec[128], addr[64];
	inet_ntop(AF_INET, &((struct sockaddr_in *)&fakes[1].addr)->sin_addr, addr, sizeof(addr));
	snprintf(spec, sizeof(spec), "corp.test=%s:%u", addr,
	    ntohs(((struct sockaddr_in *)&fakes[1].addr)->sin_port));
	cr_assert_eq(forward_zone_parse(spec, &cfg.zones[0], &why), 0, "%s", why);
	snprintf(spec, sizeof(spec), "10.in-addr.arpa=%s:%u", addr,
	    ntohs(((struct sockaddr_in *)&fakes[1].addr)->sin_port));
	cr_assert_eq(forward_zone_parse(spec, &cfg.zones[1], &why), 0, "%s", why);
	cfg.nzones = 2;
	res = resolver_new(&cfg, &clk, cache, &stats, epfd, deliver, NULL);
	cr_assert_not_null(res);
	ask("a.corp.test.", DNS_TYPE_A, DNS_CLASS_IN, 1, 1, imm, sizeof(imm));
	ask("a.xcorp.test.", DNS_TYPE_A, DNS_CLASS_IN, 2, 2, imm, sizeof(imm));
	cr_assert_eq(ask("4.3.2.10.in-addr.arpa.", DNS_TYPE_PTR, DNS_CLASS_IN, 3, 3, imm,
	    sizeof(imm)), RESOLVER_PENDING, "a forward zone covers the private zone");
	run(20);
	cr_assert_eq(fake_read(1), 2);
	cr_assert_eq(fake_read(0), 1);
}

Test(resolve, serve_stale_when_upstreams_fail)
{
	uint8_t imm[512];

	setup_with(1, 100, 300, 60);
	ask("st.example.", DNS_TYPE_A, DNS_CLASS_IN, 1, 1, imm, sizeof(imm));
	wait_queries(0, 1, 200);
	fake_answer(0, 0, 1, 1, 0);	/* TTL 1 */
	run(20);
	cr_assert_eq(ngot, 1);
	sleep(2);			/* expired now */
	cr_assert_eq(ask("st.example.", DNS_TYPE_A, DNS_CLASS_IN, 2, 2, imm, sizeof(imm)),
	    RESOLVER_PENDING, "expired: asked again");
	run(400);			/* nobody answers */
	cr_assert_eq(ngot, 2);
	cr_assert_eq(rcode(&got[1]), 0, "stale data, not SERVFAIL");
	cr_assert_eq(got[1].msg[7], 1);
	cr_assert_eq(ede_code(got[1].msg, got[1].len), 3);
	cr_assert_eq(stats.stale_answers, 1);
}

Test(resolve, a_dead_server_is_probed_once_per_back_off_not_per_miss)
{
	uint8_t imm[512];
	int dead, live;

	setup_with(2, 100, 3000, 0);
	ask("first.example.", DNS_TYPE_A, DNS_CLASS_IN, 1, 1, imm, sizeof(imm));
	run(20);
	dead = fake_read(0) ? 0 : 1;
	live = 1 - dead;
	if (dead == 1)
		fake_read(1);
	wait_queries(live, 1, 300);	/* after the first one timed out */
	fake_answer(live, 0, 1, 60, 0);
	run(20);
	/* past the first back-off (1 s): misses keep coming, the live one answers each */
	run(1100);
	for (int i = 0; i < 10; i++) {
		char name[32];
		snprintf(name, sizeof(name), "p%d.example.", i);
		ask(name, DNS_TYPE_A, DNS_CLASS_IN, (uint16_t)(10 + i), 10 + i, imm, sizeof(imm));
		run(5);
		fake_read(live);
		fake_answer(live, 0, 1, 60, 0);
		run(5);
	}
	fake_read(dead);
	cr_assert_eq(ngot, 11);
	cr_assert_eq(fakes[dead].seen, 2, "the dead server: the first query and one probe, "
	    "not a copy of every miss (saw %d)", fakes[dead].seen);
}

Test(resolve, a_reload_keeps_what_was_learnt_about_each_server)
{
	uint8_t imm[512];
	struct upstreams *u;
	const struct upstream_set *set;
	struct sockaddr_storage rev[2];
	socklen_t len[2];
	int dead;

	setup_with(2, 100, 3000, 0);
	ask("one.example.", DNS_TYPE_A, DNS_CLASS_IN, 1, 1, imm, sizeof(imm));
	run(20);
	dead = fake_read(0) ? 0 : 1;
	run(150);			/* it timed out: in back-off now */
	u = resolver_upstreams(res);
	set = upstreams_get_set(u, 0);
	cr_assert_gt(set->srv[dead].failures, 0);
	/* the same two, the other way round */
	rev[0] = fakes[1].addr;
	len[0] = fakes[1].len;
	rev[1] = fakes[0].addr;
	len[1] = fakes[0].len;
	cr_assert_eq(upstreams_set(u, 0, rev, len, 2), 0);
	cr_assert_gt(set->srv[1 - dead].failures, 0, "the dead one is still known as dead");
	cr_assert_eq(memcmp(&set->srv[1 - dead].addr, &fakes[dead].addr, fakes[dead].len), 0);
	cr_assert_eq(set->srv[dead].failures, 0);
}

Test(resolve, a_server_that_refuses_is_asked_after_the_others)
{
	uint8_t imm[512];
	int refuser;

	setup_with(2, 1000, 3000, 0);
	ask("r0.example.", DNS_TYPE_A, DNS_CLASS_IN, 1, 1, imm, sizeof(imm));
	run(20);
	refuser = fake_read(0) ? 0 : 1;
	if (refuser == 1)
		fake_read(1);
	fake_answer(refuser, DNS_RCODE_REFUSED, 0, 0, 0);
	run(20);
	cr_assert_eq(fake_read(1 - refuser), 1);
	fake_answer(1 - refuser, 0, 1, 60, 0);
	run(20);
	for (int i = 1; i <= 5; i++) {
		char name[32];
		snprintf(name, sizeof(name), "r%d.example.", i);
		ask(name, DNS_TYPE_A, DNS_CLASS_IN, (uint16_t)(10 + i), 10 + i, imm, sizeof(imm));
		run(10);
		cr_assert_eq(fake_read(1 - refuser), 1, "miss %d went to the server that answers", i);
		fake_answer(1 - refuser, 0, 1, 60, 0);
		run(10);
	}
	cr_assert_eq(fake_read(refuser), 0, "the refuser was not asked again");
	cr_assert_eq(ngot, 6);
}

Test(resolve, stale_data_is_served_after_the_client_response_timer, .timeout = 30)
{
	uint8_t imm[512];
	struct timespec t0, t1;
	long ms;

	setup_with(1, 500, 5000, 3600);
	ask("sw.example.", DNS_TYPE_A, DNS_CLASS_IN, 1, 1, imm, sizeof(imm));
	wait_queries(0, 1, 200);
	fake_answer(0, 0, 1, 1, 0);
	run(20);
	cr_assert_eq(ngot, 1);
	sleep(2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(ask("sw.example.", DNS_TYPE_A, DNS_CLASS_IN, 2, 2, imm, sizeof(imm)),
	    RESOLVER_PENDING);
	while (ngot < 2) {
		run(10);
		fake_read(0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		cr_assert_lt(t1.tv_sec - t0.tv_sec, 4, "no answer within 4 s");
	}
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	cr_assert_geq(ms, 1700, "stale only after the client response timer (%ld ms)", ms);
	cr_assert_leq(ms, 2300, "stale by the client response timer, not the deadline (%ld ms)", ms);
	cr_assert_eq(ede_code(got[1].msg, got[1].len), 3);
	/* the upstreams are down now: the next one is stale at once */
	cr_assert_gt(ask("sw.example.", DNS_TYPE_A, DNS_CLASS_IN, 3, 3, imm, sizeof(imm)), 0);
	cr_assert_eq(imm[7], 1, "the stale answer, at once");
}

/* --- counters, with PowerDNS Recursor's meanings (docs/metrics.md) --------- */

static uint64_t
buckets(void)
{
	return stats.answers0_1 + stats.answers1_10 + stats.answers10_100 +
	    stats.answers100_1000 + stats.answers_slow;
}

Test(resolve, a_packet_cache_hit_is_counted_apart_from_the_latency_buckets)
{
	uint8_t imm[512];
	uint64_t qa;

	setup_with(1, 500, 3000, 0);
	cr_assert_eq(ask("www.example.", DNS_TYPE_A, DNS_CLASS_IN, 1, 1, imm, sizeof(imm)),
	    RESOLVER_PENDING);
	wait_queries(0, 1, 500);
	fake_answer(0, 0, 1, 300, 0);
	run(50);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(stats.questions, 1);
	cr_assert_eq(stats.packetcache_misses, 1);
	cr_assert_eq(stats.noerror, 1);
	cr_assert_eq(buckets(), 1);
	cr_assert_eq(stats.answer_count, 1);
	cr_assert_gt(stats.answer_usec_sum, 0);
	cr_assert_gt(stats.qa_latency_n, 0);
	qa = stats.qa_latency_n;

	cr_assert_gt(ask("www.example.", DNS_TYPE_A, DNS_CLASS_IN, 2, 2, imm, sizeof(imm)), 0);
	cr_assert_eq(stats.questions, 2);
	cr_assert_eq(stats.packetcache_hits, 1);
	cr_assert_eq(stats.noerror, 2, "a hit is a NOERROR answer too");
	cr_assert_eq(buckets(), 1, "pdns 4.8 leaves packet-cache hits out of answers*");
	cr_assert_eq(stats.answer_count, 1);
	cr_assert_eq(stats.qa_latency_n, qa - qa / SERVER_LATENCY_N, "... and averages them as 0 us");
	/* pdns's identity: answers* + packetcache-hits = questions */
	cr_assert_eq(buckets() + stats.packetcache_hits, stats.questions);
}

Test(resolve, a_slow_upstream_lands_in_its_bucket)
{
	uint8_t imm[512];

	setup_with(1, 1000, 3000, 0);
	ask("slow.example.", DNS_TYPE_A, DNS_CLASS_IN, 1, 1, imm, sizeof(imm));
	wait_queries(0, 1, 500);
	run(150);
	fake_answer(0, 0, 1, 300, 0);
	run(50);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(stats.answers100_1000, 1, "0-1 %llu 1-10 %llu 10-100 %llu slow %llu",
	    (unsigned long long)stats.answers0_1, (unsigned long long)stats.answers1_10,
	    (unsigned long long)stats.answers10_100, (unsigned long long)stats.answers_slow);
	cr_assert_eq(buckets(), 1);
	cr_assert_geq(stats.answer_usec_sum, 150000);
	cr_assert_lt(stats.answer_usec_sum, 1000000);
	cr_assert_eq(stats.all_outqueries, 1);
}

Test(resolve, qa_latency_is_pdns_moving_average)
{
	uint8_t imm[512];
	double avg = 0;
	uint64_t qa;

	/* every answer 10 s late, capped at --upstream-timeout (1 ms) as pdns
	 * caps at its network-timeout: each adds exactly 1000 us */
	setup_with(1, 1, 300, 0);
	asked_ago_us = 10000000;
	for (int i = 0; i < SERVER_LATENCY_N; i++) {
		cr_assert_gt(ask("version.bind.", DNS_TYPE_TXT, DNS_CLASS_CH, 1, 1, imm,
		    sizeof(imm)), 0);
		avg = (1.0 - 1.0 / SERVER_LATENCY_N) * avg + 1000.0 / SERVER_LATENCY_N;
	}
	qa = stats.qa_latency_n / SERVER_LATENCY_N;
	cr_assert(qa >= (uint64_t)avg - 1 && qa <= (uint64_t)avg + 1,
	    "qa-latency %llu, pdns's formula %.1f", (unsigned long long)qa, avg);
	cr_assert(qa > 620 && qa < 640, "1000 (1 - 1/e) after N answers: %llu",
	    (unsigned long long)qa);
	cr_assert_eq(stats.answers_slow, SERVER_LATENCY_N);
	cr_assert_geq(stats.answer_usec_sum, (uint64_t)SERVER_LATENCY_N * 10000000);
	cr_assert_eq(stats.questions, SERVER_LATENCY_N);
}

Test(resolve, outgoing_timeouts_and_concurrent_queries)
{
	uint8_t imm[512];

	setup_with(1, 100, 300, 0);
	ask("t.example.", DNS_TYPE_A, DNS_CLASS_IN, 5, 1, imm, sizeof(imm));
	ask("t.example.", DNS_TYPE_A, DNS_CLASS_IN, 6, 2, imm, sizeof(imm));
	ask("u.example.", DNS_TYPE_A, DNS_CLASS_IN, 7, 3, imm, sizeof(imm));
	cr_assert_eq(resolver_waiting(res), 3, "each waiting question, coalesced or not");
	run(400);
	cr_assert_eq(ngot, 3);
	cr_assert_eq(resolver_waiting(res), 0);
	cr_assert_geq(stats.outgoing_timeouts, 2);
	cr_assert_eq(stats.servfail, 3);
	cr_assert_eq(stats.coalesced, 1);
	cr_assert_eq(stats.answers100_1000, 3, "answered at the 300 ms deadline");
}

Test(resolve, tcp_questions_and_what_is_no_question)
{
	uint8_t q[512], out[512];
	size_t n = query(q, "version.bind.", DNS_TYPE_TXT, DNS_CLASS_CH, 1, 1, 0, 0);
	struct client cl = { .udp_fd = -1, .received_us = loop_now_us() };

	setup_with(1, 100, 300, 0);
	cr_assert_gt(resolver_query(res, q, n, &cl, 1, out, sizeof(out)), 0);
	cr_assert_eq(stats.questions, 1);
	cr_assert_eq(stats.tcp_questions, 1);
	q[2] |= 2 << 3;	/* opcode STATUS: NOTIMP, no question (pdns ignores it) */
	cr_assert_gt(resolver_query(res, q, n, &cl, 0, out, sizeof(out)), 0);
	cr_assert_eq(out[3] & 0x0f, DNS_RCODE_NOTIMP);
	cr_assert_eq(stats.questions, 1);
	cr_assert_eq(buckets(), 1);
}

/*
 * pdns looks in its packet cache before it answers anything itself, so a
 * question answered locally (CH, the hosts file, RFC 6303) is a miss too:
 * packetcache-hits + packetcache-misses = questions.
 */
Test(resolve, every_question_not_a_cache_hit_is_a_packet_cache_miss)
{
	char path[] = "/tmp/fdtool-test-hosts-XXXXXX";
	static const char text[] = "192.0.2.7 h.example\n";
	uint8_t imm[512];
	struct hosts *h;
	size_t bad = 0;
	int fd, err = 0;

	setup_with(1, 500, 3000, 0);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	h = hosts_load(path, &bad, &err);
	unlink(path);
	cr_assert_not_null(h, "hosts_load: %d", err);
	resolver_set_hosts(res, h);

	cr_assert_gt(ask("h.example.", DNS_TYPE_A, DNS_CLASS_IN, 1, 1, imm, sizeof(imm)), 0);
	cr_assert_eq(stats.hosts_answers, 1);
	cr_assert_eq(stats.packetcache_misses, 1, "a hosts-file answer is a miss, as in pdns");
	cr_assert_gt(ask("version.bind.", DNS_TYPE_TXT, DNS_CLASS_CH, 2, 2, imm, sizeof(imm)), 0);
	cr_assert_gt(ask("1.0.0.10.in-addr.arpa.", DNS_TYPE_PTR, DNS_CLASS_IN, 3, 3, imm,
	    sizeof(imm)), 0);
	cr_assert_eq(imm[3] & 0x0f, DNS_RCODE_NXDOMAIN);
	cr_assert_eq(stats.local_answers, 2);
	cr_assert_eq(stats.packetcache_misses, 3);

	cr_assert_eq(ask("www.example.", DNS_TYPE_A, DNS_CLASS_IN, 4, 4, imm, sizeof(imm)),
	    RESOLVER_PENDING);
	wait_queries(0, 1, 500);
	fake_answer(0, 0, 1, 300, 0);
	run(50);
	cr_assert_eq(ngot, 1);
	cr_assert_gt(ask("www.example.", DNS_TYPE_A, DNS_CLASS_IN, 5, 5, imm, sizeof(imm)), 0);
	cr_assert_gt(ask("h.example.", DNS_TYPE_A, DNS_CLASS_IN, 6, 6, imm, sizeof(imm)), 0);

	cr_assert_eq(stats.questions, 6);
	cr_assert_eq(stats.packetcache_hits, 1);
	cr_assert_eq(stats.packetcache_misses, 5);
	cr_assert_eq(stats.packetcache_hits + stats.packetcache_misses, stats.questions);
	cr_assert_eq(buckets() + stats.packetcache_hits, stats.questions);
	resolver_set_hosts(res, NULL);
	hosts_free(h);
}

/* A header QUERY .. with a question count, then the rest as given. */
static size_t
raw(uint8_t *out, uint16_t qdcount, const void *rest, size_t restlen)
{
	static const uint8_t hdr[DNS_HDR_SIZE] = { 0xab, 0xcd, 0x01, 0x00 };

	memcpy(out, hdr, sizeof(hdr));
	out[4] = (uint8_t)(qdcount >> 8);
	out[5] = (uint8_t)qdcount;
	memcpy(out + DNS_HDR_SIZE, rest, restlen);
	return DNS_HDR_SIZE + restlen;
}

/*
 * pdns 4.8 counts a UDP question once the header says a query (QR clear,
 * opcode QUERY, QDCOUNT not 0: doProcessUDPQuestion's ++qcounter), before
 * it reads the name; a TCP one only once the whole message parsed
 * (rec-tcp.cc).  BADVERS is a question both ways, answered as one.
 */
Test(resolve, what_pdns_counts_as_a_question_before_parsing_it)
{
	/* a label running past the end; two questions */
	static const uint8_t badname[] = { 9, 'x', 0, 0, 1, 0, 1 };
	static const uint8_t two[] = { 0, 0, 1, 0, 1, 0, 0, 1, 0, 1 };
	uint8_t q[512], out[512];
	struct client cl = { .udp_fd = -1, .received_us = loop_now_us() };
	size_t n;

	setup_with(1, 100, 300, 0);
	n = raw(q, 1, badname, sizeof(badname));
	cr_assert_gt(resolver_query(res, q, n, &cl, 0, out, sizeof(out)), 0);
	cr_assert_eq(out[3] & 0x0f, DNS_RCODE_FORMERR);
	cr_assert_eq(stats.questions, 1, "a malformed UDP query is a question in pdns");
	cr_assert_eq(stats.packetcache_misses, 1, "... and a packet-cache miss");
	cr_assert_eq(buckets(), 0, "... but no answer (pdns: client-parse-errors)");
	n = raw(q, 2, two, sizeof(two));
	cr_assert_gt(resolver_query(res, q, n, &cl, 0, out, sizeof(out)), 0);
	cr_assert_eq(stats.questions, 2, "QDCOUNT 2 over UDP: a question");
	n = raw(q, 0, "", 0);
	cr_assert_gt(resolver_query(res, q, n, &cl, 0, out, sizeof(out)), 0);
	cr_assert_eq(stats.questions, 2, "QDCOUNT 0: no question (pdns: empty-queries)");
	q[2] |= 0x80;		/* QR: dropped, no question (pdns: ignored-packets) */
	cr_assert_eq(resolver_query(res, q, n, &cl, 0, out, sizeof(out)), 0);
	cr_assert_eq(stats.questions, 2);

	/* over TCP only what parsed whole */
	n = raw(q, 1, badname, sizeof(badname));
	cr_assert_gt(resolver_query(res, q, n, &cl, 1, out, sizeof(out)), 0);
	n = raw(q, 2, two, sizeof(two));
	cr_assert_gt(resolver_query(res, q, n, &cl, 1, out, sizeof(out)), 0);
	cr_assert_eq(stats.questions, 2);
	cr_assert_eq(stats.tcp_questions, 0);

	/* EDNS version 1: BADVERS, a question answered as any other */
	n = query(q, "www.example.", DNS_TYPE_A, DNS_CLASS_IN, 9, 1, 0, 0);
	q[n - 5] = 1;		/* the OPT's version */
	for (int tcp = 0; tcp < 2; tcp++) {
		cr_assert_gt(resolver_query(res, q, n, &cl, tcp, out, sizeof(out)), 0);
		cr_assert_eq(out[3] & 0x0f, 0, "BADVERS: 16, its low bits 0 in the header");
	}
	cr_assert_eq(stats.questions, 4);
	cr_assert_eq(stats.tcp_questions, 1);
	cr_assert_eq(stats.noerror, 2, "pdns counts BADVERS in noerror-answers");
	cr_assert_eq(buckets(), 2);
	cr_assert_eq(stats.packetcache_misses, 4);
	cr_assert_eq(stats.packetcache_hits + stats.packetcache_misses, stats.questions);
}

/*
 * pdns counts all-outqueries when SyncRes::doResolveAtThisIP starts an
 * attempt, before asyncresolve makes the socket: a query whose socket
 * cannot be made counts too.  So here: out of descriptors.
 */
Test(resolve, an_outquery_whose_socket_fails_counts_as_in_pdns)
{
	struct rlimit rl, none = { 0, 0 };
	uint8_t imm[512];
	const struct upstream_set *set;
	ssize_t n;

	setup_with(1, 100, 300, 0);
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	none.rlim_max = rl.rlim_max;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &none), 0);
	n = ask("fd.example.", DNS_TYPE_A, DNS_CLASS_IN, 1, 1, imm, sizeof(imm));
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	run(50);
	cr_assert(n > 0 || ngot == 1, "answered (%zd, %d)", n, ngot);
	cr_assert_eq(fakes[0].seen + fake_read(0), 0, "nothing reached the upstream");
	set = upstreams_get_set(resolver_upstreams(res), 0);
	/* every attempt (the fetch may try the one server again) failed at its socket */
	cr_assert_gt(set->srv[0].queries, 0);
	cr_assert_eq(set->srv[0].errors, set->srv[0].queries);
	cr_assert_eq(stats.all_outqueries, set->srv[0].queries, "all-outqueries %llu, attempts %llu",
	    (unsigned long long)stats.all_outqueries, (unsigned long long)set->srv[0].queries);
	cr_assert_eq(stats.tcp_outqueries, 0);
}
