/*
 * fuzz_upstream: the input is an upstream's answer to a fixed question,
 * taken the way the upstream layer and the resolver take one (steps of
 * upstream_io.c's attempt_reply and resolve.c's resolver_fetch_done):
 * dns_answer_matches -> (TC or a refusal: no template) ->
 * dns_make_template -> TTLs cut to max-ttl -> plain twin -> cache_insert
 * -> dns_render for several waiting clients (DO or not, EDNS sizes, ids,
 * spelling) -> cache hits through resolver_query(), now and later ->
 * dump_format_entry -> dump_parser_line -> dump_load_answer -> a second
 * cache -> resolver_query() again -> dump again.
 * Input byte 0: bits 0-2 the question, bit 3 CD, bit 4 keep the answer's
 * own id (else it gets ours, so every input reaches the template); the
 * rest is the answer.
 * Invariants: every reply parses completely, every name in it included
 * (fz_check_reply); every client of a kind gets the same records; later
 * the same records with the TTLs counted down; dump and load lose
 * nothing (the reloaded entry answers with the same records, rcode and
 * AD, and dumps to the same text).
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

#define T0	500000
#define OUR_ID	0x5a5a
#define MAX_TTL	86400
#define TEXT_MAX	(1u << 20)

static const struct {
	const char *name;
	uint16_t qtype;
} questions[8] = {
	{ "www.example.test.", DNS_TYPE_A },
	{ "example.test.", DNS_TYPE_MX },
	{ "signed.example.test.", DNS_TYPE_A },
	{ "example.test.", DNS_TYPE_SOA },
	{ "alias.example.test.", DNS_TYPE_AAAA },
	{ "example.test.", DNS_TYPE_DS },
	{ "txt.example.test.", DNS_TYPE_TXT },
	{ "example.test.", DNS_TYPE_ANY },
};

/* The clients waiting for the answer; 3 and 4 (TCP) are the references. */
static const struct client_kind {
	uint16_t id;
	uint16_t flags;
	int edns;
	uint16_t size;
	int dnssec_ok;
	int tcp;
	uint32_t spelling;
} clients[] = {
	{ 0x0001, DNS_F_RD, 0, 0, 0, 0, 0 },
	{ 0x1234, DNS_F_RD, 1, 1232, 1, 0, 0x55555555 },
	{ 0xffff, DNS_F_RD, 1, 4096, 0, 0, 0xffffffff },
	{ 0x0007, DNS_F_RD | DNS_F_AD, 1, 512, 1, 1, 0 },
	{ 0x0009, 0, 0, 0, 0, 1, 0x0f0f0f0f },
	{ 0x8000, DNS_F_RD, 1, 1400, 0, 0, 0x00000001 },
};
#define NCLIENTS	(sizeof(clients) / sizeof(clients[0]))
#define REF_DO		3
#define REF_PLAIN	4

static struct server_config cfg;
static struct loop_clock clk;
static struct server_counters stats;
static struct cache *cache, *cache2;
static struct resolver *res, *res2;

static uint8_t answer[DNS_MSG_MAX], tmpl[DNS_MSG_MAX], plain[DNS_MSG_MAX];
static uint8_t reply[DNS_MSG_MAX];
static struct dns_template_info info, pinfo;
static struct fz_msg ref[2], got, got2;	/* ref[1]: DO */
static int have_ref[2];
static char text[TEXT_MAX], text2[TEXT_MAX];
static struct dump_parser parser;
static struct dump_entry entry;
static struct dump_load loaded;

static void
setup(void)
{
	int epfd;

	cfg.max_ttl = MAX_TTL;
	cfg.max_pending = 16;
	cfg.upstream_timeout_ms = 400;
	cfg.query_timeout_ms = 2000;
	clk.s = T0;
	clk.ms = (uint64_t)T0 * 1000;
	FUZZ_CHECK((epfd = epoll_create1(EPOLL_CLOEXEC)) >= 0, "epoll");
	FUZZ_CHECK((cache = cache_new(16)) && (cache2 = cache_new(16)), "cache_new");
	res = resolver_new(&cfg, &clk, cache, &stats, epfd, fz_no_delivery, NULL);
	res2 = resolver_new(&cfg, &clk, cache2, &stats, epfd, fz_no_delivery, NULL);
	FUZZ_CHECK(res && res2, "resolver_new");
}

static size_t
max_reply(const struct client_kind *k)
{
	if (k->tcp)
		return DNS_MSG_MAX;
	if (!k->edns)
		return DNS_UDP_MIN;
	return k->size < DNS_EDNS_SIZE ? k->size : DNS_EDNS_SIZE;
}

/* Client i's query for q, parsed as the frontend hands it over. */
static size_t
client_query(size_t i, const struct dns_question *q, int cd, uint8_t *pkt,
    struct dns_query *dq)
{
	const struct client_kind *k = &clients[i];
	uint8_t name[DNS_NAME_MAX];
	size_t n;

	memcpy(name, q->name, q->namelen);
	fz_respell(name, q->namelen, k->spelling);
	n = fz_query(pkt, 512, name, q->namelen, q->qtype, q->qclass, k->id,
	    (uint16_t)(k->flags | (cd ? DNS_F_CD : 0)), k->edns, k->size, k->dnssec_ok);
	FUZZ_CHECK(dns_parse_query(pkt, n, dq) == 0, "a client query does not parse");
	return n;
}

/* Same records as the reference of the client's kind, unless truncated. */
static void
compare_ref(const char *what, size_t i, const struct fz_msg *m, uint32_t elapsed)
{
	int kind = clients[i].dnssec_ok;
	const char *why;

	if (!have_ref[kind] || (m->flags & DNS_F_TC))
		return;
	why = fz_same_records(&ref[kind], m, elapsed);
	FUZZ_CHECK(why == NULL, "%s, client %zu: %s", what, i, why);
	FUZZ_CHECK((m->flags & DNS_F_RCODE) == (ref[kind].flags & DNS_F_RCODE),
	    "%s, client %zu: another rcode", what, i);
}

/* The waiters of the fetch: each gets its own rendering, as resolver_fetch_done does. */
static void
render_waiters(const struct dns_question *q, int cd, const struct cache_answer *a)
{
	uint8_t pkt[512];
	struct dns_query dq;

	have_ref[0] = have_ref[1] = 0;
	/* the references first, so every other client is compared with them */
	for (size_t pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < NCLIENTS; i++) {
			const struct client_kind *k = &clients[i];
			struct dns_render_opts o = { .max_size = max_reply(k) };
			const struct dns_tmpl *t = &a->full;
			int isref = i == REF_DO || i == REF_PLAIN;
			struct fz_msg *m = isref ? &ref[k->dnssec_ok] : &got;
			size_t n;

			if ((pass == 0) != isref)
				continue;
			client_query(i, q, cd, pkt, &dq);
			if (!dq.edns_do && info.dnssec) {
				if (!a->plain.data) {
					n = dns_build_error(reply, sizeof(reply), &dq,
					    DNS_RCODE_SERVFAIL, DNS_EDE_NONE);
					fz_check_reply("SERVFAIL for want of a plain twin", reply, n,
					    &dq, max_reply(k), &got);
					continue;
				}
				t = &a->plain;
			}
			n = dns_render(reply, sizeof(reply), t, &dq, &o);
			if (fz_check_reply("the fetch's answer", reply, n, &dq, max_reply(k), m) &&
			    isref)
				have_ref[k->dnssec_ok] = !(m->flags & DNS_F_TC);
			if (!isref)
				compare_ref("the fetch's answer", i, m, 0);
			if (isref && have_ref[k->dnssec_ok]) {
				/* ref[] points into reply: keep its own copy */
				static uint8_t keep[2][DNS_MSG_MAX];
				memcpy(keep[k->dnssec_ok], reply, n);
				FUZZ_CHECK(fz_parse(keep[k->dnssec_ok], n, m) == NULL, "reparse");
			}
		}
}

/* Every client asks the resolver now: a cache hit, rendered by resolver_query. */
static void
ask_all(struct resolver *r, const struct dns_question *q, int cd, uint32_t elapsed,
    const char *what)
{
	struct client cl = { .udp_fd = -1 };
	uint8_t pkt[512];
	struct dns_query dq;

	for (size_t i = 0; i < NCLIENTS; i++) {
		size_t qn = client_query(i, q, cd, pkt, &dq);
		ssize_t n = resolver_query(r, pkt, qn, &cl, clients[i].tcp, reply, sizeof(reply));

		FUZZ_CHECK(n > 0, "%s: client %zu got %zd", what, i, n);
		if (fz_check_reply(what, reply, (size_t)n, &dq, max_reply(&clients[i]), &got))
			compare_ref(what, i, &got, elapsed);
	}
}

static void
dump_and_load(const struct dns_question *q, int cd, const struct cache_key *k,
    const struct fz_msg *orig, uint64_t now)
{
	size_t len = fz_dump_entry(cache, k, now, text, TEXT_MAX), len2;
	uint32_t ttl;

	if (fz_parse_dump(&parser, text, len, &entry, NULL, NULL) != 1) {
		/* a template that only fit 64 KiB compressed may not fit written out */
		FUZZ_CHECK(orig->ulen > DNS_MSG_MAX - 512, "dump, load: the entry was lost "
		    "(%zu malformed lines, %zu expired)", parser.malformed, parser.expired);
		return;
	}
	FUZZ_CHECK(dump_load_answer(entry.tmpl, entry.tlen, entry.negative, MAX_TTL, &loaded) == 0,
	    "dump, load: dump_load_answer refuses the entry");
	FUZZ_CHECK(loaded.key.namelen == k->namelen &&
	    memcmp(loaded.key.name, k->name, k->namelen) == 0 && loaded.key.qtype == k->qtype &&
	    loaded.key.qclass == k->qclass && loaded.key.cd == k->cd, "dump, load: another key");
	ttl = entry.ttl > MAX_TTL ? MAX_TTL : entry.ttl;
	cache_wipe(cache2, k->name, k->namelen, 0);
	FUZZ_CHECK(cache_insert(cache2, &loaded.key, &loaded.answer, ttl, now) == 0,
	    "dump, load: cache_insert");

	/* the reloaded entry answers every client as the original does */
	clk.s = now;
	for (size_t i = 0; i < NCLIENTS; i++) {
		struct client cl = { .udp_fd = -1 };
		uint8_t pkt[512];
		struct dns_query dq;
		size_t qn = client_query(i, q, cd, pkt, &dq);
		ssize_t n = resolver_query(res, pkt, qn, &cl, 1, reply, sizeof(reply));
		static uint8_t keep[DNS_MSG_MAX];
		const char *why;

		FUZZ_CHECK(n > 0, "the original entry gives no answer");
		memcpy(keep, reply, (size_t)n);
		if (!fz_check_reply("the original entry", keep, (size_t)n, &dq, DNS_MSG_MAX, &got))
			continue;
		n = resolver_query(res2, pkt, qn, &cl, 1, reply, sizeof(reply));
		FUZZ_CHECK(n > 0, "the reloaded entry gives no answer");
		if (!fz_check_reply("the reloaded entry", reply, (size_t)n, &dq, DNS_MSG_MAX, &got2))
			continue;
		why = fz_same_records(&got, &got2, 0);
		FUZZ_CHECK(why == NULL, "dump, load, client %zu: %s", i, why);
		FUZZ_CHECK((got.flags & (DNS_F_RCODE | DNS_F_AD | DNS_F_TC)) ==
		    (got2.flags & (DNS_F_RCODE | DNS_F_AD | DNS_F_TC)),
		    "dump, load, client %zu: flags %04x became %04x", i, got.flags, got2.flags);
	}
	len2 = fz_dump_entry(cache2, k, now, text2, TEXT_MAX);
	FUZZ_CHECK(len == len2 && memcmp(text, text2, len) == 0,
	    "dump, load, dump: the text changed\n%.*s---\n%.*s", (int)len, text, (int)len2,
	    text2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_question q;
	struct cache_key k;
	struct cache_answer a;
	uint32_t ttl = 0;
	int cd, tlen, plen, n, rcode;

	if (!cache)
		setup();
	if (size < 1 + DNS_HDR_SIZE || size - 1 > sizeof(answer))
		return 0;
	memset(&q, 0, sizeof(q));
	n = dns_name_from_text(questions[data[0] & 7].name, q.name);
	FUZZ_CHECK(n > 0, "a fixed question");
	q.namelen = (uint8_t)n;
	q.qtype = questions[data[0] & 7].qtype;
	q.qclass = DNS_CLASS_IN;
	cd = (data[0] >> 3) & 1;
	memcpy(answer, data + 1, size - 1);
	size--;
	if (!(data[0] & 0x10)) {
		answer[0] = OUR_ID >> 8;
		answer[1] = OUR_ID & 0xff;
	}
	clk.s = T0;
	clk.ms = (uint64_t)T0 * 1000;
	cache_key_from_question(&k, &q);
	k.cd = (uint8_t)cd;
	cache_wipe(cache, k.name, k.namelen, 0);

	/* the upstream layer: is it ours, is it an answer, a template? */
	if (dns_answer_matches(answer, size, OUR_ID, &q) != DNS_ANSWER_YES)
		return 0;
	if (answer[2] & (DNS_F_TC >> 8))
		return 0;		/* retried over TCP */
	rcode = answer[3] & 0x0f;
	if ((tlen = dns_make_template(answer, size, tmpl, sizeof(tmpl), &info)) < 0)
		return 0;
	if (rcode == DNS_RCODE_REFUSED || rcode == DNS_RCODE_NOTIMP ||
	    rcode == DNS_RCODE_FORMERR || rcode == DNS_RCODE_SERVFAIL)
		return 0;		/* the next server is asked */

	/* the resolver: the cache, then every waiter */
	dns_clamp_ttls(tmpl, &info, MAX_TTL);	/* as resolver_fetch_done does */
	memset(&a, 0, sizeof(a));
	a.rcode = info.rcode;
	a.negative = info.negative;
	a.full = (struct dns_tmpl){ tmpl, (size_t)tlen, info.ttl_off, info.nttl };
	if (info.dnssec && (plen = dns_strip_dnssec(tmpl, (size_t)tlen, plain, sizeof(plain),
	    &pinfo)) >= 0)
		a.plain = (struct dns_tmpl){ plain, (size_t)plen, pinfo.ttl_off, pinfo.nttl };
	if (info.cacheable && (!info.dnssec || a.plain.data))
		ttl = info.ttl > MAX_TTL ? MAX_TTL : info.ttl;
	FUZZ_CHECK(cache_insert(cache, &k, &a, ttl, T0) == 0, "cache_insert");
	render_waiters(&q, cd, &a);
	if (ttl == 0)
		return 0;

	ask_all(res, &q, cd, 0, "a cache hit");
	clk.s = T0 + ttl - 1;		/* its last second */
	clk.ms = clk.s * 1000;
	ask_all(res, &q, cd, ttl - 1, "a cache hit in the entry's last second");
	if (ttl > 2) {
		clk.s = T0 + ttl / 2;
		clk.ms = clk.s * 1000;
		ask_all(res, &q, cd, ttl / 2, "a cache hit half way");
	}
	dump_and_load(&q, cd, &k, &ref[1], T0 + ttl / 2);
	return 0;
}
