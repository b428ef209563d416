/*
 * The answer cache against its contract in cache.h, on a fake clock (the
 * now every call takes): what is stored comes back, TTLs, keys, LRU,
 * wipes and the walk, hash collisions, and a 100,000-insert run.
 */
#include "roles/server/cache.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef FDTOOL_ASAN
/* libasan has it; GCC ships no header for it (clang's allocator_interface.h). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

/* Wire form of dotted text ("" or "." is the root); no escapes needed here. */
static size_t
wire(const char *text, uint8_t out[DNS_NAME_MAX])
{
	size_t len = 0, lab;
	const char *dot;

	while (*text != '\0' && strcmp(text, ".") != 0) {
		dot = strchr(text, '.');
		lab = dot != NULL ? (size_t)(dot - text) : strlen(text);
		cr_assert(lab > 0 && lab <= DNS_LABEL_MAX, "bad label in %s", text);
		cr_assert(len + 1 + lab + 1 <= DNS_NAME_MAX, "name too long");
		out[len++] = (uint8_t)lab;
		memcpy(out + len, text, lab);
		len += lab;
		text += lab;
		if (*text == '.')
			text++;
	}
	out[len++] = 0;
	return len;
}

static struct cache_key
keyc(const char *text, uint16_t qtype, uint16_t qclass)
{
	struct dns_question q;
	struct cache_key k;

	memset(&q, 0, sizeof(q));
	q.namelen = (uint8_t)wire(text, q.name);
	q.qtype = qtype;
	q.qclass = qclass;
	cache_key_from_question(&k, &q);
	return k;
}

static struct cache_key
key(const char *text, uint16_t qtype)
{
	return keyc(text, qtype, DNS_CLASS_IN);
}

/* The old flat form of an insert: one template, no plain twin, no EDE. */
static int
ins(struct cache *c, const struct cache_key *k, const uint8_t *tmpl, size_t tlen,
    const uint16_t *ttl_off, size_t nttl, int rcode, int neg, uint32_t ttl, uint64_t now)
{
	struct cache_answer a = { .full = { tmpl, tlen, ttl_off, nttl }, .rcode = rcode,
		.negative = neg };

	return cache_insert(c, k, &a, ttl, now);
}

static int
negative(const struct cache_entry *e)
{
	return (e->flags & CACHE_F_NEGATIVE) != 0;
}

/* A 4-byte template that says which insert it came from. */
static int
put_tag(struct cache *c, const struct cache_key *k, uint32_t tag, uint32_t ttl,
    uint64_t now)
{
	uint8_t t[4] = { (uint8_t)(tag >> 24), (uint8_t)(tag >> 16),
	    (uint8_t)(tag >> 8), (uint8_t)tag };

	return ins(c, k, t, sizeof(t), NULL, 0, DNS_RCODE_NOERROR, 0, ttl, now);
}

static int
put(struct cache *c, const char *text, uint16_t qtype, uint32_t ttl, uint64_t now)
{
	struct cache_key k = key(text, qtype);

	return put_tag(c, &k, 0, ttl, now);
}

static const struct cache_entry *
get(struct cache *c, const char *text, uint16_t qtype, uint64_t now)
{
	struct cache_key k = key(text, qtype);

	return cache_lookup(c, &k, now);
}

/*
 * Heap bytes in use, for leak checks: LeakSanitizer reports only at exit,
 * which Criterion's workers never reach.  Without ASan there is nothing
 * exact to read (glibc counts chunks parked in its tcache as in use), so
 * the check is 0 == 0 there: run the FDTOOL_SANITIZE build for it.
 */
static size_t
heap_in_use(void)
{
#ifdef FDTOOL_ASAN
	return __sanitizer_get_current_allocated_bytes();
#else
	return 0;
#endif
}

static uint32_t
tag_of(const struct cache_entry *e)
{
	const uint8_t *t = cache_entry_template(e);

	cr_assert_eq(e->tlen, 4);
	return (uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 | (uint32_t)t[2] << 8 | t[3];
}

Test(cache, insert_then_lookup_returns_everything)
{
	/* Odd length on purpose: the offsets after it must still be readable as uint16_t. */
	uint8_t tmpl[33];
	const uint16_t off[2] = { 18, 29 };
	struct cache_key k = key("www.example.com", DNS_TYPE_A);
	uint8_t name[DNS_NAME_MAX];
	size_t namelen = wire("www.example.com", name), i;
	const struct cache_entry *e;
	struct cache *c = cache_new(16);

	cr_assert_not_null(c);
	for (i = 0; i < sizeof(tmpl); i++)
		tmpl[i] = (uint8_t)(0xa0 + i);
	cr_assert_eq(ins(c, &k, tmpl, sizeof(tmpl), off, 2,
	    DNS_RCODE_NOERROR, 0, 300, 1000), 0);
	e = cache_lookup(c, &k, 1000);
	cr_assert_not_null(e);
	cr_assert_eq(e->tlen, sizeof(tmpl));
	cr_assert_arr_eq(cache_entry_template(e), tmpl, sizeof(tmpl));
	cr_assert_eq(e->nttl, 2);
	cr_assert_eq(cache_entry_ttl_offsets(e)[0], 18);
	cr_assert_eq(cache_entry_ttl_offsets(e)[1], 29);
	cr_assert_eq(e->rcode, DNS_RCODE_NOERROR);
	cr_assert_eq(negative(e), 0);
	cr_assert_eq(e->stored, 1000);
	cr_assert_eq(e->expires, 1300);
	cr_assert_eq(e->qtype, DNS_TYPE_A);
	cr_assert_eq(e->qclass, DNS_CLASS_IN);
	cr_assert_eq(e->namelen, namelen);
	cr_assert_arr_eq(cache_entry_name(e), name, namelen);
	cr_assert_eq(cache_stats(c)->entries, 1);
	cr_assert_eq(cache_stats(c)->insertions, 1);
	cr_assert_eq(cache_stats(c)->hits, 1);
	cr_assert_eq(cache_stats(c)->misses, 0);
	cache_free(c);
}

Test(cache, ttl_expiry_is_exact_to_the_second)
{
	struct cache *c = cache_new(8);

	cr_assert_eq(put(c, "example.com", DNS_TYPE_A, 60, 100), 0);
	cr_assert_not_null(get(c, "example.com", DNS_TYPE_A, 100));
	cr_assert_not_null(get(c, "example.com", DNS_TYPE_A, 159));
	cr_assert_null(get(c, "example.com", DNS_TYPE_A, 160));
	cr_assert_eq(cache_stats(c)->expired, 1);
	cr_assert_eq(cache_stats(c)->entries, 0);
	cr_assert_eq(cache_stats(c)->hits, 2);
	cr_assert_eq(cache_stats(c)->misses, 1);
	/* Dropped, not just hidden: a second look is a plain miss. */
	cr_assert_null(get(c, "example.com", DNS_TYPE_A, 160));
	cr_assert_eq(cache_stats(c)->expired, 1);
	cr_assert_eq(cache_stats(c)->misses, 2);
	/* and a clock going back does not bring it back */
	cr_assert_null(get(c, "example.com", DNS_TYPE_A, 150));
	cache_free(c);
}

Test(cache, ttl_zero_stores_nothing)
{
	struct cache *c = cache_new(8);

	cr_assert_eq(put(c, "example.com", DNS_TYPE_A, 0, 100), 0);
	cr_assert_null(get(c, "example.com", DNS_TYPE_A, 100));
	cr_assert_eq(cache_stats(c)->entries, 0);
	cr_assert_eq(cache_stats(c)->insertions, 0);
	cache_free(c);
}

Test(cache, negative_entries_come_back_negative)
{
	const uint8_t tmpl[12] = { 0x12, 0x34, 0x81, 0x83 };
	struct cache_key k = key("nosuch.example", DNS_TYPE_AAAA);
	const struct cache_entry *e;
	struct cache *c = cache_new(8);

	cr_assert_eq(ins(c, &k, tmpl, sizeof(tmpl), NULL, 0,
	    DNS_RCODE_NXDOMAIN, 1, 900, 5), 0);
	e = cache_lookup(c, &k, 6);
	cr_assert_not_null(e);
	cr_assert_eq(negative(e), 1);
	cr_assert_eq(e->rcode, DNS_RCODE_NXDOMAIN);
	cr_assert_eq(e->nttl, 0);
	cr_assert_arr_eq(cache_entry_template(e), tmpl, sizeof(tmpl));
	cr_assert_eq(e->expires, 905);
	cache_free(c);
}

Test(cache, keys_ignore_ascii_case)
{
	struct dns_question q;
	struct cache_key upper, lower = key("www.example.com", DNS_TYPE_A);
	uint8_t name[DNS_NAME_MAX];
	size_t namelen = wire("www.example.com", name);
	const struct cache_entry *e;
	struct cache *c = cache_new(8);

	memset(&q, 0, sizeof(q));
	q.namelen = (uint8_t)wire("WWW.Example.COM", q.name);
	q.qtype = DNS_TYPE_A;
	q.qclass = DNS_CLASS_IN;
	cache_key_from_question(&upper, &q);
	cr_assert_eq(upper.namelen, namelen);
	cr_assert_arr_eq(upper.name, name, namelen);
	cr_assert_eq(put_tag(c, &upper, 7, 60, 0), 0);
	e = cache_lookup(c, &lower, 1);
	cr_assert_not_null(e);
	cr_assert_eq(tag_of(e), 7);
	cr_assert_arr_eq(cache_entry_name(e), name, namelen);
	cache_free(c);
}

/* Every byte value: A-Z fold to a-z, nothing else moves (not 0xC1, not '@' or '['). */
Test(cache, fold_is_ascii_only)
{
	struct dns_question q;
	struct cache_key k;
	unsigned b;

	memset(&q, 0, sizeof(q));
	for (b = 0; b < 256; b++) {
		q.name[0] = 1;
		q.name[1] = (uint8_t)b;
		q.name[2] = 0;
		q.namelen = 3;
		cache_key_from_question(&k, &q);
		cr_assert_eq(k.namelen, 3);
		cr_assert_eq(k.name[0], 1);
		cr_assert_eq(k.name[1], b >= 'A' && b <= 'Z' ? b + 32 : b, "byte 0x%02x", b);
		cr_assert_eq(k.name[2], 0);
	}
}

Test(cache, non_ascii_bytes_are_distinct_keys)
{
	struct cache_key hi = key("\xc1.example", DNS_TYPE_A);
	struct cache_key lo = key("\xe1.example", DNS_TYPE_A);
	struct cache *c = cache_new(8);

	cr_assert_eq(hi.name[1], 0xc1);
	cr_assert_eq(put_tag(c, &hi, 1, 60, 0), 0);
	cr_assert_null(cache_lookup(c, &lo, 0));
	cr_assert_eq(put_tag(c, &lo, 2, 60, 0), 0);
	cr_assert_eq(cache_stats(c)->entries, 2);
	cr_assert_eq(tag_of(cache_lookup(c, &hi, 0)), 1);
	cr_assert_eq(tag_of(cache_lookup(c, &lo, 0)), 2);
	cache_free(c);
}

Test(cache, type_and_class_are_part_of_the_key)
{
	struct cache_key ch = keyc("example.com", DNS_TYPE_A, 3);
	struct cache *c = cache_new(8);

	cr_assert_eq(put(c, "example.com", DNS_TYPE_A, 60, 0), 0);
	cr_assert_null(get(c, "example.com", DNS_TYPE_AAAA, 0));
	cr_assert_null(cache_lookup(c, &ch, 0));
	cr_assert_null(get(c, "example.org", DNS_TYPE_A, 0));
	cr_assert_not_null(get(c, "example.com", DNS_TYPE_A, 0));
	cr_assert_eq(cache_stats(c)->misses, 3);
	cr_assert_eq(cache_stats(c)->hits, 1);
	cache_free(c);
}

Test(cache, lru_evicts_the_least_recently_used)
{
	struct cache *c = cache_new(3);

	cr_assert_eq(put(c, "a.test", DNS_TYPE_A, 60, 0), 0);
	cr_assert_eq(put(c, "b.test", DNS_TYPE_A, 60, 0), 0);
	cr_assert_eq(put(c, "c.test", DNS_TYPE_A, 60, 0), 0);
	cr_assert_not_null(get(c, "a.test", DNS_TYPE_A, 1));
	cr_assert_eq(put(c, "d.test", DNS_TYPE_A, 60, 1), 0);
	cr_assert_eq(cache_stats(c)->evictions, 1);
	cr_assert_eq(cache_stats(c)->entries, 3);
	cr_assert_eq(cache_stats(c)->expired, 0);
	cr_assert_null(get(c, "b.test", DNS_TYPE_A, 1));
	cr_assert_not_null(get(c, "a.test", DNS_TYPE_A, 1));
	cr_assert_not_null(get(c, "c.test", DNS_TYPE_A, 1));
	cr_assert_not_null(get(c, "d.test", DNS_TYPE_A, 1));
	cache_free(c);
}

/* A tail whose TTL already ran out is expired, not an eviction. */
Test(cache, full_cache_counts_a_dead_tail_as_expired)
{
	struct cache *c = cache_new(2);

	cr_assert_eq(put(c, "a.test", DNS_TYPE_A, 5, 0), 0);
	cr_assert_eq(put(c, "b.test", DNS_TYPE_A, 60, 0), 0);
	cr_assert_eq(put(c, "c.test", DNS_TYPE_A, 60, 10), 0);
	cr_assert_eq(cache_stats(c)->evictions, 0);
	cr_assert_eq(cache_stats(c)->expired, 1);
	cr_assert_eq(cache_stats(c)->entries, 2);
	cr_assert_not_null(get(c, "b.test", DNS_TYPE_A, 10));
	cr_assert_not_null(get(c, "c.test", DNS_TYPE_A, 10));
	cache_free(c);
}

Test(cache, insert_replaces_the_same_key)
{
	const uint8_t big[20] = { 9, 9, 9 };
	const uint16_t off[1] = { 16 };
	struct cache_key k = key("example.com", DNS_TYPE_A);
	const struct cache_entry *e;
	size_t before = heap_in_use();
	struct cache *c = cache_new(2);

	cr_assert_eq(put_tag(c, &k, 1, 100, 0), 0);
	cr_assert_eq(put(c, "other.test", DNS_TYPE_A, 100, 0), 0);
	/* full now: a replacement must not push anything out */
	cr_assert_eq(ins(c, &k, big, sizeof(big), off, 1,
	    DNS_RCODE_NXDOMAIN, 1, 30, 50), 0);
	cr_assert_eq(cache_stats(c)->entries, 2);
	cr_assert_eq(cache_stats(c)->evictions, 0);
	cr_assert_eq(cache_stats(c)->insertions, 3);
	e = cache_lookup(c, &k, 51);
	cr_assert_not_null(e);
	cr_assert_eq(e->tlen, sizeof(big));
	cr_assert_arr_eq(cache_entry_template(e), big, sizeof(big));
	cr_assert_eq(e->nttl, 1);
	cr_assert_eq(cache_entry_ttl_offsets(e)[0], 16);
	cr_assert_eq(e->rcode, DNS_RCODE_NXDOMAIN);
	cr_assert_eq(negative(e), 1);
	cr_assert_eq(e->stored, 50);
	cr_assert_eq(e->expires, 80);
	cr_assert_not_null(get(c, "other.test", DNS_TYPE_A, 51));
	/* the old, longer TTL is gone with the old data */
	cr_assert_null(cache_lookup(c, &k, 80));
	cache_free(c);
	cr_assert_eq(heap_in_use(), before, "the replaced record leaked");
}

Test(cache, absurd_capacity_is_enomem)
{
	errno = 0;
	cr_assert_null(cache_new(SIZE_MAX));
	cr_assert_eq(errno, ENOMEM);
}

Test(cache, bad_inserts_are_refused_and_store_nothing)
{
	const uint8_t tmpl[16] = { 0 };
	const uint16_t past_end[1] = { 13 };	/* a 4-byte TTL at 13 runs past 16 */
	const uint16_t last_fit[1] = { 12 };
	struct cache_key k = key("example.com", DNS_TYPE_A), empty = k;
	struct cache *c = cache_new(4);

	empty.namelen = 0;
	cr_assert_eq(ins(c, &k, tmpl, sizeof(tmpl), past_end, 1, 0, 0, 60, 0), -EINVAL);
	cr_assert_eq(ins(c, &empty, tmpl, sizeof(tmpl), NULL, 0, 0, 0, 60, 0), -EINVAL);
	cr_assert_eq(ins(c, &k, tmpl, sizeof(tmpl), NULL, 0, 256, 0, 60, 0), -EINVAL);
	cr_assert_eq(ins(c, &k, tmpl, (size_t)UINT16_MAX + 1, NULL, 0, 0, 0, 60, 0),
	    -EINVAL);
	cr_assert_eq(cache_stats(c)->entries, 0);
	cr_assert_eq(cache_stats(c)->insertions, 0);
	cr_assert_eq(ins(c, &k, tmpl, sizeof(tmpl), last_fit, 1, 0, 0, 60, 0), 0);
	cr_assert_eq(cache_stats(c)->entries, 1);
	cache_free(c);
}

static void
fill_wipe_set(struct cache *c)
{
	cr_assert_eq(put(c, "example.com", DNS_TYPE_A, 60, 0), 0);
	cr_assert_eq(put(c, "example.com", DNS_TYPE_AAAA, 60, 0), 0);
	cr_assert_eq(put(c, "www.example.com", DNS_TYPE_A, 60, 0), 0);
	cr_assert_eq(put(c, "a.b.example.com", DNS_TYPE_A, 60, 0), 0);
	cr_assert_eq(put(c, "notexample.com", DNS_TYPE_A, 60, 0), 0);
	cr_assert_eq(put(c, "com", DNS_TYPE_A, 60, 0), 0);
	/* as long as example.com: an exact wipe must compare the bytes */
	cr_assert_eq(put(c, "example.org", DNS_TYPE_A, 60, 0), 0);
	cr_assert_eq(cache_stats(c)->entries, 7);
}

Test(cache, wipe_exact_name_any_type)
{
	uint8_t name[DNS_NAME_MAX];
	size_t namelen = wire("example.com", name);
	struct cache *c = cache_new(16);

	fill_wipe_set(c);
	cr_assert_eq(cache_wipe(c, name, namelen, 0), 2);
	cr_assert_eq(cache_stats(c)->entries, 5);
	cr_assert_null(get(c, "example.com", DNS_TYPE_A, 0));
	cr_assert_null(get(c, "example.com", DNS_TYPE_AAAA, 0));
	cr_assert_not_null(get(c, "www.example.com", DNS_TYPE_A, 0));
	cr_assert_not_null(get(c, "a.b.example.com", DNS_TYPE_A, 0));
	cr_assert_not_null(get(c, "notexample.com", DNS_TYPE_A, 0));
	cr_assert_not_null(get(c, "com", DNS_TYPE_A, 0));
	cr_assert_not_null(get(c, "example.org", DNS_TYPE_A, 0));
	cr_assert_eq(cache_wipe(c, name, namelen, 0), 0);
	cache_free(c);
}

Test(cache, wipe_subtree_stops_at_label_boundaries)
{
	uint8_t name[DNS_NAME_MAX];
	size_t namelen = wire("example.com", name);
	struct cache *c = cache_new(16);

	fill_wipe_set(c);
	cr_assert_eq(cache_wipe(c, name, namelen, 1), 4);
	cr_assert_eq(cache_stats(c)->entries, 3);
	cr_assert_null(get(c, "example.com", DNS_TYPE_A, 0));
	cr_assert_null(get(c, "example.com", DNS_TYPE_AAAA, 0));
	cr_assert_null(get(c, "www.example.com", DNS_TYPE_A, 0));
	cr_assert_null(get(c, "a.b.example.com", DNS_TYPE_A, 0));
	cr_assert_not_null(get(c, "notexample.com", DNS_TYPE_A, 0));
	cr_assert_not_null(get(c, "com", DNS_TYPE_A, 0));
	cr_assert_not_null(get(c, "example.org", DNS_TYPE_A, 0));
	cache_free(c);
}

/*
 * "notexample.com" differs from "example.com" in the byte before the
 * suffix, so it does not test the label walk; a label that contains the
 * bytes "\3com" does: its tail matches "com." byte for byte, mid-label.
 */
Test(cache, wipe_subtree_ignores_a_suffix_inside_a_label)
{
	struct dns_question q;
	struct cache_key inside;
	uint8_t com[DNS_NAME_MAX];
	size_t comlen = wire("com", com);
	struct cache *c = cache_new(16);

	memset(&q, 0, sizeof(q));
	memcpy(q.name, "\006ab\003com\000", 8);
	q.namelen = 8;
	q.qtype = DNS_TYPE_A;
	q.qclass = DNS_CLASS_IN;
	cache_key_from_question(&inside, &q);
	cr_assert_eq(put_tag(c, &inside, 1, 60, 0), 0);
	cr_assert_eq(put(c, "x.com", DNS_TYPE_A, 60, 0), 0);
	cr_assert_eq(cache_wipe(c, com, comlen, 1), 1);
	cr_assert_not_null(cache_lookup(c, &inside, 0));
	cr_assert_null(get(c, "x.com", DNS_TYPE_A, 0));
	cache_free(c);
}

Test(cache, wipe_root_subtree_empties_the_cache)
{
	uint8_t root[DNS_NAME_MAX];
	size_t rootlen = wire(".", root);
	struct cache *c = cache_new(16);

	fill_wipe_set(c);
	cr_assert_eq(cache_wipe(c, root, rootlen, 1), 7);
	cr_assert_eq(cache_stats(c)->entries, 0);
	/* and every header went back: the cache fills to capacity again */
	fill_wipe_set(c);
	cr_assert_eq(cache_wipe(c, root, rootlen, 0), 0);
	cache_free(c);
}

struct walk {
	const struct cache_entry *seen[8];
	size_t n;
	size_t stop_after;	/* 0: never stop */
};

static int
record(const struct cache_entry *e, void *arg)
{
	struct walk *w = arg;

	cr_assert_lt(w->n, 8);
	w->seen[w->n++] = e;
	return w->stop_after != 0 && w->n >= w->stop_after;
}

Test(cache, foreach_walks_live_entries_most_recent_first)
{
	struct cache_key a = key("a.test", DNS_TYPE_A), b = key("b.test", DNS_TYPE_A);
	struct cache_key d = key("d.test", DNS_TYPE_A);
	struct cache_stats before;
	struct walk w = { .n = 0 };
	struct cache *c = cache_new(8);

	cr_assert_eq(put_tag(c, &a, 1, 1000, 100), 0);
	cr_assert_eq(put_tag(c, &b, 2, 10, 100), 0);
	cr_assert_eq(put(c, "c.test", DNS_TYPE_A, 1000, 100), 0);
	cr_assert_eq(put_tag(c, &d, 4, 1000, 100), 0);
	cr_assert_not_null(cache_lookup(c, &a, 100));
	/* most recent first: a (looked up), d, c, b */
	cache_foreach(c, 105, record, &w);
	cr_assert_eq(w.n, 4);
	cr_assert_eq(tag_of(w.seen[0]), 1);
	cr_assert_eq(tag_of(w.seen[1]), 4);
	cr_assert_eq(w.seen[2]->namelen, 8);
	cr_assert_eq(cache_entry_name(w.seen[2])[1], 'c');
	cr_assert_eq(tag_of(w.seen[3]), 2);

	/* b has expired: skipped, but the walk leaves it and every counter alone */
	before = *cache_stats(c);
	w.n = 0;
	cache_foreach(c, 110, record, &w);
	cr_assert_eq(w.n, 3);
	cr_assert_eq(tag_of(w.seen[0]), 1);
	cr_assert_eq(tag_of(w.seen[1]), 4);
	cr_assert_eq(tag_of(w.seen[2]), 0);
	cr_assert_eq(memcmp(&before, cache_stats(c), sizeof(before)), 0);
	cr_assert_eq(cache_stats(c)->entries, 4);

	/* nor does it reorder: the same walk again gives the same order */
	w.n = 0;
	cache_foreach(c, 105, record, &w);
	cr_assert_eq(w.n, 4);
	cr_assert_eq(tag_of(w.seen[0]), 1);
	cr_assert_eq(tag_of(w.seen[1]), 4);
	cache_free(c);
}

Test(cache, capacity_zero_stores_nothing)
{
	struct walk w = { .n = 0 };
	uint8_t root[DNS_NAME_MAX];
	size_t rootlen = wire(".", root);
	struct cache *c = cache_new(0);

	cr_assert_not_null(c);
	cr_assert_eq(put(c, "example.com", DNS_TYPE_A, 60, 0), 0);
	cr_assert_null(get(c, "example.com", DNS_TYPE_A, 0));
	cr_assert_eq(cache_stats(c)->entries, 0);
	cr_assert_eq(cache_stats(c)->insertions, 0);
	cr_assert_eq(cache_stats(c)->misses, 1);
	cr_assert_eq(cache_wipe(c, root, rootlen, 1), 0);
	cache_foreach(c, 0, record, &w);
	cr_assert_eq(w.n, 0);
	cache_free(c);
}

Test(cache, foreach_stops_when_told)
{
	struct walk w = { .n = 0, .stop_after = 2 };
	struct cache *c = cache_new(8);

	cr_assert_eq(put(c, "a.test", DNS_TYPE_A, 60, 0), 0);
	cr_assert_eq(put(c, "b.test", DNS_TYPE_A, 60, 0), 0);
	cr_assert_eq(put(c, "c.test", DNS_TYPE_A, 60, 0), 0);
	cache_foreach(c, 0, record, &w);
	cr_assert_eq(w.n, 2);
	cr_assert_eq(cache_entry_name(w.seen[0])[1], 'c');
	cr_assert_eq(cache_entry_name(w.seen[1])[1], 'b');
	cache_free(c);
}

/* splitmix64: a name for each index, the same every time it is asked for. */
static uint64_t
mix(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

/*
 * A random first label in random case (so folding is exercised at
 * scale) and the index as a second label, so no two names collide.
 */
static struct cache_key
stress_key(uint32_t i, int upper)
{
	char text[64];
	uint64_t r = mix(i);
	size_t len = 1 + r % 20, j;

	for (j = 0; j < len; j++) {
		r = mix(r);
		text[j] = (char)((upper && (r & 32) ? 'A' : 'a') + (r >> 8) % 26);
	}
	snprintf(text + len, sizeof(text) - len, ".%u.stress", (unsigned)i);
	return key(text, (uint16_t)(1 + i % 3));
}

/*
 * No .timeout here or below, unlike the socket tests: nothing in the
 * cache can block, and Criterion 2.4.1 leaks the bookkeeping of its
 * timeouts (timeout-posix.c) when they overlap, which fails an ASan run.
 */
Test(cache, stress_bounded_by_capacity)
{
	enum { N = 100000, CAP = 1000 };
	const struct cache_entry *e;
	struct cache_key k;
	size_t before = heap_in_use();
	struct cache *c = cache_new(CAP);
	uint64_t hits = 0;
	uint32_t i, j;

	cr_assert_not_null(c);
	for (i = 0; i < N; i++) {
		k = stress_key(i, 1);
		cr_assert_eq(put_tag(c, &k, i, 3600, i / 100), 0);
		cr_assert_leq(cache_stats(c)->entries, CAP);
		/*
		 * No lookups among the last CAP inserts: a hit there would
		 * keep an older name alive at the cost of a newer one.
		 */
		if (i >= N - CAP)
			continue;
		j = i - (uint32_t)(mix(i ^ 0x5a5a) % (i < 2 * CAP ? i + 1 : 2 * CAP));
		k = stress_key(j, 0);
		if ((e = cache_lookup(c, &k, i / 100)) != NULL) {
			cr_assert_eq(tag_of(e), j, "name %u returned entry %u", j, tag_of(e));
			hits++;
		}
		if (j == i)
			cr_assert_not_null(e, "the name just inserted (%u) missed", i);
	}
	cr_assert_gt(hits, 0);
	cr_assert_eq(cache_stats(c)->entries, CAP);
	cr_assert_eq(cache_stats(c)->insertions, N);
	cr_assert_eq(cache_stats(c)->evictions, N - CAP);
	cr_assert_eq(cache_stats(c)->expired, 0);
	for (i = N - 2 * CAP; i < N - CAP; i++) {
		k = stress_key(i, 0);
		cr_assert_null(cache_lookup(c, &k, N / 100), "name %u outlived %u newer", i, CAP);
	}
	for (i = N - CAP; i < N; i++) {
		k = stress_key(i, 0);
		e = cache_lookup(c, &k, N / 100);
		cr_assert_not_null(e, "name %u of the last %u missed", i, CAP);
		cr_assert_eq(tag_of(e), i);
	}
	cr_assert_eq(cache_stats(c)->entries, CAP);
	cache_free(c);
	cr_assert_eq(heap_in_use(), before, "%zu bytes left behind", heap_in_use() - before);
}

/* No assertion between the two measurements: a failing one would allocate. */
Test(cache, free_of_a_full_cache_leaks_nothing)
{
	const uint8_t tmpl[100] = { 1 };
	struct cache_key k;
	struct cache *c;
	size_t before;
	char text[32];
	unsigned i, failed = 0, entries;

	before = heap_in_use();
	c = cache_new(64);
	for (i = 0; c != NULL && i < 200; i++) {
		snprintf(text, sizeof(text), "n%u.leak.test", i);
		k = key(text, DNS_TYPE_A);
		failed += ins(c, &k, tmpl, sizeof(tmpl), NULL, 0, 0, 0, 60, 0) != 0;
	}
	entries = c != NULL ? (unsigned)cache_stats(c)->entries : 0;
	cache_free(c);
	cache_free(NULL);
	cr_assert_not_null(c);
	cr_assert_eq(failed, 0);
	cr_assert_eq(entries, 64);
	cr_assert_eq(heap_in_use(), before, "%zu bytes left behind", heap_in_use() - before);
}

/*
 * One template made from a seed: its length (1..700, across the data
 * slab's largest class and past it), bytes and TTL offsets all follow.
 */
struct churn_tmpl {
	uint8_t data[700];
	uint16_t off[4];
	struct dns_tmpl t;
};

static void
churn_tmpl(struct churn_tmpl *ct, uint64_t seed)
{
	size_t len = 1 + seed % 700, n = len >= 4 ? (seed >> 12) % 5 : 0, i;

	for (i = 0; i < len; i++)
		ct->data[i] = (uint8_t)mix(seed + i);
	for (i = 0; i < n; i++)
		ct->off[i] = (uint16_t)(mix(seed ^ i) % (len - 3));
	ct->t = (struct dns_tmpl){ ct->data, len, n > 0 ? ct->off : NULL, n };
}

static void
churn_check(const struct dns_tmpl *got, const struct churn_tmpl *want, uint32_t key)
{
	cr_assert_eq(got->len, want->t.len, "key %u", key);
	cr_assert_arr_eq(got->data, want->t.data, got->len, "key %u", key);
	cr_assert_eq(got->nttl, want->t.nttl, "key %u", key);
	if (got->nttl > 0)
		cr_assert_arr_eq(got->ttl_off, want->t.ttl_off,
		    got->nttl * sizeof(uint16_t), "key %u", key);
}

/*
 * Many inserts of varied sizes (with and without a plain twin, replacing
 * and evicting) through a small cache, so freed data slots are reused
 * across sizes: every hit must read exactly what its key last stored.
 */
Test(cache, churn_of_varied_sizes_keeps_contents)
{
	enum { N = 30000, KEYS = 300, CAP = 64 };
	static uint32_t gen[KEYS];
	struct churn_tmpl full, plain, want;
	const struct cache_entry *e;
	struct cache_answer a;
	struct cache_key k;
	struct dns_tmpl got;
	size_t before = heap_in_use();
	struct cache *c = cache_new(CAP);
	char text[32];
	uint32_t i, j, hits = 0;
	uint64_t seed;

	cr_assert_not_null(c);
	memset(gen, 0, sizeof(gen));
	for (i = 0; i < N; i++) {
		j = (uint32_t)(mix(i) % KEYS);
		snprintf(text, sizeof(text), "k%u.churn.test", (unsigned)j);
		k = key(text, DNS_TYPE_A);
		seed = mix((uint64_t)j << 32 | gen[j]);
		if (gen[j] > 0 && (e = cache_lookup(c, &k, 0)) != NULL) {
			churn_tmpl(&want, seed);
			cache_entry_tmpl(e, 1, &got);
			churn_check(&got, &want, j);
			cr_assert_eq((e->flags & CACHE_F_PLAIN) != 0, (seed & 1) != 0);
			if (seed & 1) {
				churn_tmpl(&want, mix(seed));
				cache_entry_tmpl(e, 0, &got);
				churn_check(&got, &want, j);
			}
			hits++;
		}
		seed = mix((uint64_t)j << 32 | ++gen[j]);
		churn_tmpl(&full, seed);
		a = (struct cache_answer){ .full = full.t, .rcode = DNS_RCODE_NOERROR };
		if (seed & 1) {
			churn_tmpl(&plain, mix(seed));
			a.plain = plain.t;
		}
		cr_assert_eq(cache_insert(c, &k, &a, 3600, 0), 0);
		cr_assert_leq(cache_stats(c)->entries, CAP);
	}
	cr_assert_gt(hits, 0);
	cr_assert_gt(cache_stats(c)->evictions, 0);
	cache_free(c);
	cr_assert_eq(heap_in_use(), before, "%zu bytes left behind", heap_in_use() - before);
}

/*
 * The hash is only a filter: keys that collide in it must still be told
 * apart by type and class.  A seeded 32-bit hash cannot be aimed, so
 * make collisions likely instead: 65,536 keys differing only in class
 * hold about 0.5 colliding pairs, and 8 such groups (then 8 differing
 * only in type) miss a broken comparison with chance e^-4 each.
 */
Test(cache, colliding_hashes_still_separate_keys)
{
	enum { GROUP = 65536, GROUPS = 16 };
	const struct cache_entry *e;
	struct cache_key k;
	struct cache *c = cache_new(GROUP);
	char text[32];
	uint32_t g, i;

	cr_assert_not_null(c);
	for (g = 0; g < GROUPS; g++) {
		snprintf(text, sizeof(text), "g%u.collide.test", (unsigned)g);
		k = key(text, DNS_TYPE_A);
		for (i = 0; i < GROUP; i++) {
			if (g % 2 == 0)
				k.qclass = (uint16_t)i;
			else
				k.qtype = (uint16_t)i;
			cr_assert_eq(put_tag(c, &k, i, 60, 0), 0);
		}
		for (i = 0; i < GROUP; i++) {
			if (g % 2 == 0)
				k.qclass = (uint16_t)i;
			else
				k.qtype = (uint16_t)i;
			e = cache_lookup(c, &k, 0);
			cr_assert_not_null(e);
			cr_assert_eq(tag_of(e), i, "group %u: key %u found entry %u", g, i, tag_of(e));
		}
	}
	cr_assert_eq(cache_stats(c)->entries, GROUP);
	cache_free(c);
}

/* ---------------------------------------------------------------- DNSSEC, CD, serve-stale */

Test(cache, cd_is_part_of_the_key)
{
	struct cache_key plain = key("example.com", DNS_TYPE_A), cd = plain;
	const struct cache_entry *e;
	struct cache *c = cache_new(8);

	cd.cd = 1;
	cr_assert_eq(put_tag(c, &cd, 2, 60, 0), 0);
	cr_assert_null(cache_lookup(c, &plain, 0), "a CD=1 answer is never served to CD=0");
	cr_assert_eq(put_tag(c, &plain, 1, 60, 0), 0);
	cr_assert_eq(cache_stats(c)->entries, 2);
	e = cache_lookup(c, &plain, 0);
	cr_assert_not_null(e);
	cr_assert_eq(tag_of(e), 1);
	cr_assert_eq(e->flags & CACHE_F_CD, 0);
	e = cache_lookup(c, &cd, 0);
	cr_assert_not_null(e);
	cr_assert_eq(tag_of(e), 2);
	cr_assert_eq(e->flags & CACHE_F_CD, CACHE_F_CD);
	/* a fresh key from a question has cd 0, whatever the memory held */
	memset(&cd, 0xff, sizeof(cd));
	{
		struct dns_question q = { .namelen = 0 };

		q.namelen = (uint8_t)wire("example.com", q.name);
		q.qtype = DNS_TYPE_A;
		q.qclass = DNS_CLASS_IN;
		cache_key_from_question(&cd, &q);
	}
	cr_assert_eq(cd.cd, 0);
	cr_assert_eq(tag_of(cache_lookup(c, &cd, 0)), 1);
	cache_free(c);
}

/* Odd lengths on purpose: both sets of offsets must still be readable as uint16_t. */
Test(cache, plain_twin_for_clients_without_do)
{
	uint8_t full[41], plain[23];
	const uint16_t foff[3] = { 20, 30, 37 }, poff[1] = { 19 };
	struct cache_key k = key("example.com", DNS_TYPE_A);
	struct cache_answer a = { .full = { full, sizeof(full), foff, 3 },
		.plain = { plain, sizeof(plain), poff, 1 }, .rcode = DNS_RCODE_NXDOMAIN,
		.negative = 1, .ede = DNS_EDE_NONE };
	const struct cache_entry *e;
	struct dns_tmpl t;
	struct cache *c = cache_new(8);

	for (size_t i = 0; i < sizeof(full); i++)
		full[i] = (uint8_t)(0x10 + i);
	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(0x80 + i);
	cr_assert_eq(cache_insert(c, &k, &a, 60, 0), 0);
	e = cache_lookup(c, &k, 0);
	cr_assert_not_null(e);
	cr_assert_eq(e->flags, CACHE_F_NEGATIVE | CACHE_F_PLAIN);
	cr_assert_eq(e->rcode, DNS_RCODE_NXDOMAIN);

	cache_entry_tmpl(e, 1, &t);
	cr_assert_eq(t.len, sizeof(full));
	cr_assert_arr_eq(t.data, full, sizeof(full));
	cr_assert_eq(t.nttl, 3);
	cr_assert_eq((uintptr_t)t.ttl_off % sizeof(uint16_t), 0);
	cr_assert_arr_eq(t.ttl_off, foff, sizeof(foff));

	cache_entry_tmpl(e, 0, &t);
	cr_assert_eq(t.len, sizeof(plain));
	cr_assert_arr_eq(t.data, plain, sizeof(plain));
	cr_assert_eq(t.nttl, 1);
	cr_assert_eq((uintptr_t)t.ttl_off % sizeof(uint16_t), 0);
	cr_assert_eq(t.ttl_off[0], 19);
	/* the old accessors still see the full template, and the name */
	cr_assert_arr_eq(cache_entry_template(e), full, sizeof(full));
	cr_assert_eq(cache_entry_ttl_offsets(e)[2], 37);
	cr_assert_eq(e->namelen, k.namelen);
	cr_assert_arr_eq(cache_entry_name(e), k.name, k.namelen);

	/* without a twin, both kinds of client get the full one */
	a.plain.data = NULL;
	cr_assert_eq(cache_insert(c, &k, &a, 60, 0), 0);
	e = cache_lookup(c, &k, 0);
	cr_assert_eq(e->flags & CACHE_F_PLAIN, 0);
	cache_entry_tmpl(e, 0, &t);
	cr_assert_eq(t.data, cache_entry_template(e));
	cr_assert_eq(t.len, sizeof(full));
	cr_assert_eq(t.nttl, 3);
	cache_free(c);
}

/*
 * An upstream's answer holds the name in its question: the entry keeps it
 * there only (in the asker's spelling), yet matches, wipes and walks as
 * the folded key.  Odd length on purpose, as above.
 */
Test(cache, name_kept_in_the_templates_question)
{
	const uint8_t msg[49] = {
		0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
		3, 'W', 'w', 'W', 7, 'E', 'x', 'A', 'm', 'p', 'l', 'e', 3, 'c', 'O', 'm', 0,
		0, 1, 0, 1,
		0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 1,
	};
	const uint16_t off[1] = { 39 };
	struct cache_key k = key("www.example.com", DNS_TYPE_A);
	struct cache_key sub = key("mail.www.example.com", DNS_TYPE_A);
	struct cache_answer a = { .full = { msg, sizeof(msg), off, 1 },
		.plain = { msg, 33, NULL, 0 }, .rcode = DNS_RCODE_NOERROR };
	const uint8_t upper[] = { 3, 'W', 'W', 'W', 7, 'E', 'X', 'A', 'M', 'P', 'L', 'E',
		3, 'C', 'O', 'M', 0 };
	const struct cache_entry *e;
	struct dns_tmpl t;
	struct cache *c = cache_new(8);

	cr_assert_not_null(c);
	cr_assert_eq(cache_insert(c, &k, &a, 60, 0), 0);
	e = cache_lookup(c, &k, 0);
	cr_assert_not_null(e);
	cr_assert(e->flags & CACHE_F_QNAME);
	cr_assert_eq(e->namelen, k.namelen);
	cr_assert_eq(cache_entry_name(e), cache_entry_template(e) + DNS_HDR_SIZE);
	cr_assert_arr_eq(cache_entry_name(e), msg + DNS_HDR_SIZE, k.namelen);
	cr_assert_arr_eq(cache_entry_template(e), msg, sizeof(msg));
	cr_assert_eq((uintptr_t)cache_entry_ttl_offsets(e) % sizeof(uint16_t), 0);
	cr_assert_eq(cache_entry_ttl_offsets(e)[0], 39);
	cache_entry_tmpl(e, 0, &t);
	cr_assert_eq(t.len, 33);
	cr_assert_arr_eq(t.data, msg, 33);
	cr_assert_eq(t.nttl, 0);

	/* a name below it, with the question's name as its tail, is another key */
	cr_assert_eq(put(c, "mail.www.example.com", DNS_TYPE_A, 60, 0), 0);
	cr_assert_eq(cache_stats(c)->entries, 2);
	/* stored again: still one entry, still matched */
	cr_assert_eq(cache_insert(c, &k, &a, 60, 0), 0);
	cr_assert_eq(cache_stats(c)->entries, 2);
	cr_assert_not_null(cache_lookup(c, &k, 0));
	/* a wipe by any spelling finds both */
	cr_assert_eq(cache_wipe(c, upper, sizeof(upper), 0), 1);
	cr_assert_null(cache_lookup(c, &k, 0));
	cr_assert_eq(cache_insert(c, &k, &a, 60, 0), 0);
	cr_assert_eq(cache_wipe(c, upper, sizeof(upper), 1), 2);
	cr_assert_null(cache_lookup(c, &sub, 0));
	cr_assert_eq(cache_stats(c)->entries, 0);
	cache_free(c);
}

/* Entries keep seconds in 32 bits: live times stop at 2^32 - 1, and from there nothing is stored. */
Test(cache, time_in_32_bits)
{
	const uint64_t last = UINT32_MAX;
	struct cache *c = cache_new(8);
	const struct cache_entry *e;

	cr_assert_not_null(c);
	cr_assert_eq(put(c, "example.com", DNS_TYPE_A, 100, last - 10), 0);
	e = get(c, "example.com", DNS_TYPE_A, last - 10);
	cr_assert_not_null(e);
	cr_assert_eq(e->stored, last - 10);
	cr_assert_eq(e->expires, last);
	cr_assert_not_null(get(c, "example.com", DNS_TYPE_A, last - 1));
	cr_assert_null(get(c, "example.com", DNS_TYPE_A, last));
	cr_assert_eq(put(c, "example.org", DNS_TYPE_A, 100, last), 0);
	cr_assert_eq(put(c, "example.net", DNS_TYPE_A, 100, last + 5), 0);
	cr_assert_eq(cache_stats(c)->entries, 0);
	cr_assert_eq(cache_stats(c)->insertions, 1);
	cache_free(c);
}

Test(cache, ede_is_stored_and_checked)
{
	const uint8_t tmpl[12] = { 0 };
	const uint16_t bad = 20;
	struct cache_key k = key("example.com", DNS_TYPE_A);
	struct cache_answer a = { .full = { tmpl, sizeof(tmpl), NULL, 0 },
		.rcode = DNS_RCODE_SERVFAIL, .ede = DNS_EDE_TIMEOUT };
	struct cache *c = cache_new(8);

	cr_assert_eq(cache_insert(c, &k, &a, 5, 0), 0);
	cr_assert_eq(cache_lookup(c, &k, 0)->ede, DNS_EDE_TIMEOUT);
	a.ede = DNS_EDE_COUNT;
	cr_assert_eq(cache_insert(c, &k, &a, 5, 0), -EINVAL);
	a.ede = DNS_EDE_NONE;
	a.plain = (struct dns_tmpl){ tmpl, sizeof(tmpl), &bad, 1 };
	cr_assert_eq(cache_insert(c, &k, &a, 5, 0), -EINVAL, "a twin's offset past its end");
	a.plain = (struct dns_tmpl){ tmpl, (size_t)UINT16_MAX + 1, NULL, 0 };
	cr_assert_eq(cache_insert(c, &k, &a, 5, 0), -EINVAL);
	cr_assert_eq(cache_insert(c, &k, NULL, 5, 0), -EINVAL);
	cr_assert_eq(cache_lookup(c, &k, 0)->ede, DNS_EDE_TIMEOUT, "the old entry stays");
	cache_free(c);
}

Test(cache, stale_window)
{
	struct cache_key k = key("example.com", DNS_TYPE_A);
	struct walk w = { .n = 0 };
	const struct cache_entry *e;
	struct cache *c = cache_new(8);

	cache_set_stale(c, 100);
	cr_assert_eq(put_tag(c, &k, 7, 60, 1000), 0);
	e = cache_lookup_stale(c, &k, 1059);
	cr_assert_not_null(e, "live");
	cr_assert_eq(cache_stats(c)->hits, 1);
	cr_assert_null(cache_lookup(c, &k, 1060), "expired is never a plain hit");
	cr_assert_eq(cache_stats(c)->misses, 1);
	cr_assert_eq(cache_stats(c)->expired, 0, "but kept");
	cr_assert_eq(cache_stats(c)->entries, 1);
	cache_foreach(c, 1060, record, &w);
	cr_assert_eq(w.n, 0, "a stale entry is not shown (dumps, counts)");

	e = cache_lookup_stale(c, &k, 1060);
	cr_assert_not_null(e);
	cr_assert_eq(tag_of(e), 7);
	cr_assert_null(cache_lookup(c, &k, 1159));
	cr_assert_not_null(cache_lookup_stale(c, &k, 1159), "the window's last second");
	cr_assert_eq(cache_stats(c)->hits, 1, "stale is no hit");
	cr_assert_eq(cache_stats(c)->misses, 2);
	cr_assert_null(cache_lookup_stale(c, &k, 1160), "past the window");
	cr_assert_eq(cache_stats(c)->expired, 1);
	cr_assert_eq(cache_stats(c)->entries, 0, "dropped");

	/* past the window a plain lookup drops it too */
	cr_assert_eq(put_tag(c, &k, 8, 60, 2000), 0);
	cr_assert_null(cache_lookup(c, &k, 2160));
	cr_assert_eq(cache_stats(c)->entries, 0);
	cr_assert_null(cache_lookup_stale(c, &k, 2100));
	cache_free(c);
}

Test(cache, no_stale_window_drops_at_expiry)
{
	struct cache_key k = key("example.com", DNS_TYPE_A);
	struct cache *c = cache_new(8);

	cr_assert_eq(put_tag(c, &k, 7, 60, 1000), 0);
	cr_assert_not_null(cache_lookup_stale(c, &k, 1059));
	cr_assert_null(cache_lookup_stale(c, &k, 1060));
	cr_assert_eq(cache_stats(c)->entries, 0);
	cr_assert_eq(cache_stats(c)->expired, 1);
	cache_free(c);
}

Test(cache, stale_entries_are_still_evicted)
{
	struct cache_key a = key("a.test", DNS_TYPE_A), b = key("b.test", DNS_TYPE_A);
	struct cache_key d = key("d.test", DNS_TYPE_A);
	struct cache *c = cache_new(2);

	cache_set_stale(c, 1000);
	cr_assert_eq(put_tag(c, &a, 1, 10, 0), 0);
	cr_assert_eq(put_tag(c, &b, 2, 100, 0), 0);
	cr_assert_not_null(cache_lookup_stale(c, &a, 50), "a is stale");
	/* serving it stale did not make it recent: it is the LRU tail still */
	cr_assert_eq(put_tag(c, &d, 3, 100, 50), 0);
	cr_assert_null(cache_lookup_stale(c, &a, 50));
	cr_assert_not_null(cache_lookup(c, &b, 50));
	cr_assert_eq(cache_stats(c)->expired, 1, "a dead tail counts as expired");
	cache_free(c);
}
