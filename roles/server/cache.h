/*
 * The answer cache: fixed capacity, chosen once; a power-of-two hash
 * table of intrusive chains plus an LRU list; an entry's record lives in
 * one allocation made when the answer is stored (a miss, which waits for
 * an upstream anyway), so a hit allocates nothing and compares the hash
 * and type before it touches the name.  Time is passed in by the caller
 * (seconds on a monotonic clock), which is also how tests fake it; it is
 * kept in 32 bits, so from second 2^32 - 1 on (136 years of a
 * boot-time clock) nothing more is stored.
 */
#ifndef FDTOOL_SERVER_CACHE_H
#define FDTOOL_SERVER_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "roles/server/dns.h"

struct cache_key {
	uint8_t name[DNS_NAME_MAX];	/* wire form, case-folded */
	uint8_t namelen;
	uint16_t qtype;
	uint16_t qclass;
	uint8_t cd;			/* asked with CD: never served to CD=0 */
};

/* cache_entry.flags */
#define CACHE_F_NEGATIVE	0x01	/* NXDOMAIN or NODATA */
#define CACHE_F_CD		0x02	/* the key's cd */
#define CACHE_F_PLAIN		0x04	/* data holds a plain twin */
#define CACHE_F_QNAME		0x08	/* the name is the template's question's */

/*
 * Invariants: an entry is on exactly one hash chain (bucket hash & mask)
 * and on the LRU list, most recently used first; expires > stored;
 * data holds, with CACHE_F_QNAME, the full template (tlen bytes), whose
 * question name (at DNS_HDR_SIZE) is the key's name up to ASCII case,
 * else the key's name (namelen bytes) and then the full template; then
 * its nttl uint16_t TTL offsets (at an even offset), and with
 * CACHE_F_PLAIN the plain twin: its length and TTL count (two uint16_t),
 * its bytes, its TTL offsets (at an even offset).  The twin's lengths
 * live in data, not here, so the header stays small: it is one per
 * cached name.  Links are indices into the cache's pool (0: none), and
 * what a chain walk compares comes first.
 */
struct cache_entry {
	uint32_t hash;
	uint16_t qtype, qclass;
	uint8_t namelen;
	uint8_t flags;		/* CACHE_F_* */
	uint8_t rcode;
	uint8_t ede;		/* enum dns_ede */
	uint32_t hnext;		/* hash chain */
	uint8_t *data;
	uint32_t stored;	/* when it was stored (seconds) */
	uint32_t expires;	/* first second it is no longer served */
	uint32_t lru_prev, lru_next;
	uint16_t nttl;
	uint16_t tlen;
};

/*
 * entries counts the entries held (memory in use): expiry is lazy, so
 * it includes expired ones not yet reclaimed and, with a stale window,
 * those kept for cache_lookup_stale().  cache_foreach(), and so a dump's
 * count, shows only live ones.
 */
struct cache_stats {
	uint64_t entries;
	uint64_t hits;
	uint64_t misses;
	uint64_t insertions;
	uint64_t evictions;	/* pushed out by LRU to make room */
	uint64_t expired;	/* dropped because their TTL ran out */
};

struct cache;

/* capacity entries at most; the table is sized for it now. NULL: ENOMEM. */
struct cache *cache_new(size_t capacity);
void cache_free(struct cache *c);

/* Fill a key from a question: fold the name; cd 0 (the caller sets it). */
void cache_key_from_question(struct cache_key *k, const struct dns_question *q);

/*
 * What is stored for a question: the template as the upstream gave it,
 * and, if it carries DNSSEC records, its plain twin (dns_strip_dnssec)
 * for clients without DO; both in the entry's one allocation.
 */
struct cache_answer {
	struct dns_tmpl full;
	struct dns_tmpl plain;		/* .data NULL: the same as full */
	int rcode;
	int negative;
	enum dns_ede ede;		/* a failure entry: why (RFC 8914) */
};

/*
 * The live entry for k at time now, made most recently used; NULL if
 * absent or expired (an expired entry is dropped on the way, unless it
 * is still inside the stale window).
 */
const struct cache_entry *cache_lookup(struct cache *c, const struct cache_key *k,
    uint64_t now);

/*
 * Accessors for an entry's stored parts.  The name is the key's up to
 * ASCII case (the first asker's spelling when the template's question
 * holds it): compare it with dns_name_equal().
 */
const uint8_t *cache_entry_template(const struct cache_entry *e);
const uint16_t *cache_entry_ttl_offsets(const struct cache_entry *e);
const uint8_t *cache_entry_name(const struct cache_entry *e);

/*
 * Serve-stale (RFC 8767): keep expired entries up to max_stale seconds
 * past their expiry for cache_lookup_stale() (LRU may still push them
 * out; cache_lookup never returns them).  0, the default: drop at expiry.
 */
void cache_set_stale(struct cache *c, uint32_t max_stale);

/*
 * An entry expired at most max_stale seconds ago (or live), or NULL.  A
 * live one is a hit as in cache_lookup; a stale one is neither hit nor
 * miss (the caller's cache_lookup already counted the miss) and keeps
 * its place in the LRU list, so serving it stale does not keep it.
 */
const struct cache_entry *cache_lookup_stale(struct cache *c, const struct cache_key *k,
    uint64_t now);

/* The template to render for a client with (dnssec_ok) or without DO. */
void cache_entry_tmpl(const struct cache_entry *e, int dnssec_ok, struct dns_tmpl *t);

/*
 * Store an answer for k, live for ttl seconds from now (ttl 0, or now
 * at or past 2^32 - 1: not stored, returns 0; a live time is cut at
 * second 2^32 - 1).  Replaces an entry with the same key; evicts the
 * least recently used entry when full.  Returns 0, -EINVAL or -ENOMEM.
 */
int cache_insert(struct cache *c, const struct cache_key *k, const struct cache_answer *a,
    uint32_t ttl, uint64_t now);

/*
 * Drop every entry for the name (any type), or with subtree set for the
 * name and every name below it.  name is wire form, in any case.
 * Returns how many went.
 */
size_t cache_wipe(struct cache *c, const uint8_t *name, size_t namelen, int subtree);
/* The same for the entries of one question type only (0: any). */
size_t cache_wipe_typed(struct cache *c, const uint8_t *name, size_t namelen, int subtree,
    uint16_t qtype);

/* Call fn for each live entry, most recently used first; stop if fn returns non-zero. */
void cache_foreach(const struct cache *c, uint64_t now,
    int (*fn)(const struct cache_entry *e, void *arg), void *arg);

const struct cache_stats *cache_stats(const struct cache *c);

#endif
