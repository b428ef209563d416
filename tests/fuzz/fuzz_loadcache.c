/*
 * fuzz_loadcache: the input is what `fdtool control load-cache` reads,
 * split into lines as the loader child splits them, through the dump
 * parser (dump_parser_line / dump_parser_finish) and dump_load_answer
 * into a cache; each entry is then rendered for a few clients (DO or
 * not, UDP or TCP), dumped, parsed and loaded again into a second cache.
 * Invariants: no crash; an entry the parser hands back loads; every
 * rendering parses completely (fz_check_reply); the entry's own dump
 * parses back to exactly one entry, which renders the same records and
 * flags and dumps to the same text.
 */
#include <errno.h>
#include <string.h>

#include "roles/server/dump.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_cache.h"
#include "tests/fuzz/fuzz_dns.h"

#define T0		700000
#define MAX_TTL		86400
#define TEXT_MAX	(1u << 20)
#define MAX_INPUT	(64 * 1024)

static const struct {
	uint16_t id;
	int edns;
	uint16_t size;
	int dnssec_ok;
	size_t max;
} clients[] = {
	{ 0x0102, 1, 4096, 1, DNS_MSG_MAX },
	{ 0x0304, 0, 0, 0, DNS_MSG_MAX },
	{ 0xfffe, 0, 0, 0, DNS_UDP_MIN },
	{ 0x0000, 1, 1232, 1, DNS_EDNS_SIZE },
};
#define NCLIENTS	(sizeof(clients) / sizeof(clients[0]))

static struct cache *cache, *cache2;
static struct dump_parser parser, parser2;
static struct dump_entry entry, entry2;
static struct dump_load loaded, loaded2;
static struct fz_msg m1, m2;
static uint8_t out1[DNS_MSG_MAX], out2[DNS_MSG_MAX];
static char text[TEXT_MAX], text2[TEXT_MAX];

/* Client i's rendering of the entry for k, as the resolver renders a hit. */
static size_t
render(struct cache *c, const struct cache_key *k, size_t i, uint64_t now, uint8_t *out,
    struct dns_query *dq)
{
	const struct cache_entry *e = cache_lookup(c, k, now);
	struct dns_render_opts o = { .max_size = clients[i].max };
	struct dns_tmpl t;
	uint8_t name[DNS_NAME_MAX], pkt[512];
	size_t qn;

	FUZZ_CHECK(e != NULL, "an entry just stored is not found");
	memcpy(name, k->name, k->namelen);
	fz_respell(name, k->namelen, 0x2d2d2d2du * (uint32_t)(i + 1));
	qn = fz_query(pkt, sizeof(pkt), name, k->namelen, k->qtype, k->qclass, clients[i].id,
	    (uint16_t)(DNS_F_RD | (k->cd ? DNS_F_CD : 0)), clients[i].edns, clients[i].size,
	    clients[i].dnssec_ok);
	if (dns_parse_query(pkt, qn, dq) != 0) {
		dq->qend = 0;
		return 0;	/* no client can ask this question */
	}
	o.elapsed = (uint32_t)(now - e->stored);
	cache_entry_tmpl(e, dq->edns_do, &t);
	return dns_render(out, DNS_MSG_MAX, &t, dq, &o);
}

static void
one_entry(const struct dump_entry *pe, void *arg)
{
	const struct cache_key *k = &loaded.key;
	uint32_t ttl = pe->ttl > MAX_TTL ? MAX_TTL : pe->ttl;
	uint64_t now = T0 + ttl / 2;
	size_t len, len2;

	(void)arg;
	FUZZ_CHECK(pe->ttl > 0, "an expired entry was handed back");
	FUZZ_CHECK(dump_load_answer(pe->tmpl, pe->tlen, pe->negative, UINT32_MAX, &loaded) == 0,
	    "an entry the parser handed back does not load");
	cache_wipe(cache, k->name, k->namelen, 0);
	cache_wipe(cache2, k->name, k->namelen, 0);
	FUZZ_CHECK(cache_insert(cache, k, &loaded.answer, ttl, T0) == 0, "cache_insert");

	len = fz_dump_entry(cache, k, now, text, TEXT_MAX);
	if (fz_parse_dump(&parser2, text, len, &entry2, NULL, NULL) != 1) {
		FUZZ_CHECK(parser2.malformed > 0 && fz_parse(loaded.tmpl, loaded.answer.full.len,
		    &m1) == NULL && m1.ulen > DNS_MSG_MAX - 512,
		    "an entry's own dump does not load back (%zu malformed, %zu expired)\n%.*s",
		    parser2.malformed, parser2.expired, (int)len, text);
		return;
	}
	FUZZ_CHECK(dump_load_answer(entry2.tmpl, entry2.tlen, entry2.negative, UINT32_MAX,
	    &loaded2) == 0,
	    "a dumped entry does not load again");
	FUZZ_CHECK(cache_insert(cache2, &loaded2.key, &loaded2.answer,
	    entry2.ttl > MAX_TTL ? MAX_TTL : entry2.ttl, now) == 0, "cache_insert again");

	for (size_t i = 0; i < NCLIENTS; i++) {
		struct dns_query dq;
		size_t n1 = render(cache, k, i, now, out1, &dq), n2;
		const char *why;
		int full;

		if (n1 == 0 && dq.qend == 0)
			continue;
		full = fz_check_reply("the loaded entry", out1, n1, &dq, clients[i].max, &m1);
		n2 = render(cache2, k, i, now, out2, &dq);
		if (!fz_check_reply("the entry loaded again", out2, n2, &dq, clients[i].max, &m2) ||
		    !full || (m1.flags & DNS_F_TC) || (m2.flags & DNS_F_TC))
			continue;
		why = fz_same_records(&m1, &m2, 0);
		FUZZ_CHECK(why == NULL, "dump, load, client %zu: %s", i, why);
		FUZZ_CHECK((m1.flags & (DNS_F_RCODE | DNS_F_AD)) ==
		    (m2.flags & (DNS_F_RCODE | DNS_F_AD)), "dump, load: flags %04x became %04x",
		    m1.flags, m2.flags);
	}
	len2 = fz_dump_entry(cache2, k, now, text2, TEXT_MAX);
	FUZZ_CHECK(len == len2 && memcmp(text, text2, len) == 0,
	    "dump, load, dump: the text changed\n%.*s---\n%.*s", (int)len, text, (int)len2,
	    text2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!cache) {
		FUZZ_CHECK((cache = cache_new(8)) && (cache2 = cache_new(8)), "cache_new");
	}
	if (size > MAX_INPUT)
		return 0;
	fz_parse_dump(&parser, (const char *)data, size, &entry, one_entry, NULL);
	return 0;
}
