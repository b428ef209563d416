/*
 * The answer cache (cache.h): every entry header is allocated once in
 * cache_new, chains and the LRU list are intrusive (32-bit indices into
 * that pool), and only an insert (a miss that already waited for an
 * upstream) calls malloc.  Buckets are chosen by SipHash-1-3 under a
 * random key so clients cannot aim.
 */
#include "roles/server/cache.h"
#include "roles/server/siphash.h"
#include "roles/server/slab.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>


/*
 * A header is paid once per cached name, so it is kept to 48 bytes on
 * LP64.  What a chain walk reads (hash, type, class, name length, flags,
 * next) is its first 16 bytes, and the pool is 16-byte aligned with
 * 16-byte multiples per entry, so passing over a neighbour on a chain
 * never touches two cache lines.
 */
_Static_assert(offsetof(struct cache_entry, hnext) + sizeof(uint32_t) <= 16,
    "what a chain walk compares is in an entry's first 16 bytes");
_Static_assert(sizeof(void *) != 8 || sizeof(struct cache_entry) == 48,
    "an entry header is 48 bytes on LP64");

/*
 * More would overflow the 32-bit hash's reach (and the 32-bit links);
 * nobody caches a billion answers.
 */
#define CACHE_CAPACITY_MAX	((size_t)1 << 30)

/* Entries keep seconds in 32 bits; from this second on nothing is stored. */
#define CACHE_TIME_MAX		UINT32_MAX

/*
 * Invariants: entries are pool[1..capacity], linked by index, and index
 * 0 means none (an empty bucket, the end of a chain or of the free
 * list); pool[0] is the LRU ring's sentinel, never on a chain:
 * pool[0].lru_next is the most recent entry.  pool[fresh..capacity]
 * have never been used and are not touched (so an empty cache costs
 * address space, not memory); each of pool[1..fresh) is either free (on
 * the free list through hnext, data NULL) or in use (on the chain of
 * buckets[hash & mask] and on the LRU ring, data allocated);
 * stats.entries is the number in use; no two entries in use share a
 * key; nbuckets = mask + 1 is a power of two >= capacity.
 */
struct cache {
	uint32_t *buckets;
	size_t mask;
	size_t capacity;
	struct cache_entry *pool;	/* capacity + 1 */
	size_t fresh;			/* the next never-used header */
	uint32_t free;
	uint64_t seed[2];
	uint32_t max_stale;		/* serve-stale window, seconds; 0 none */
	struct cache_stats stats;
	struct slab slab;		/* every entry's data */
};

static uint32_t
key_hash(const struct cache *c, const struct cache_key *k)
{
	uint8_t buf[5 + DNS_NAME_MAX];

	buf[0] = (uint8_t)(k->qtype >> 8);
	buf[1] = (uint8_t)k->qtype;
	buf[2] = (uint8_t)(k->qclass >> 8);
	buf[3] = (uint8_t)k->qclass;
	buf[4] = k->cd != 0;
	memcpy(buf + 5, k->name, k->namelen);
	return (uint32_t)siphash13(c->seed, buf, 5 + (size_t)k->namelen);
}

/*
 * Byte by byte, never tolower(): a locale must not change which answers
 * match.  Length octets are <= 63, below 'A', so they pass unchanged.
 */
static uint8_t
fold(uint8_t b)
{
	return b >= 'A' && b <= 'Z' ? (uint8_t)(b + ('a' - 'A')) : b;
}

/* uint16_t TTL offsets start on the even byte at or after pos. */
static size_t
even(size_t pos)
{
	return (pos + 1) & ~(size_t)1;
}

#define ENTRY(c, i)	(&(c)->pool[i])

static uint32_t
index_of(const struct cache *c, const struct cache_entry *e)
{
	return (uint32_t)(e - c->pool);
}

/* Where the full template starts in data: after the name unless it holds it. */
static size_t
tmpl_pos(const struct cache_entry *e)
{
	return e->flags & CACHE_F_QNAME ? 0 : e->namelen;
}

const uint8_t *
cache_entry_name(const struct cache_entry *e)
{
	return e->flags & CACHE_F_QNAME ? e->data + DNS_HDR_SIZE : e->data;
}

const uint8_t *
cache_entry_template(const struct cache_entry *e)
{
	return e->data + tmpl_pos(e);
}

const uint16_t *
cache_entry_ttl_offsets(const struct cache_entry *e)
{
	return (const uint16_t *)(const void *)(e->data + even(tmpl_pos(e) + e->tlen));
}

/* The plain twin sits behind the full template's offsets: ptlen, pnttl, bytes, offsets. */
void
cache_entry_tmpl(const struct cache_entry *e, int dnssec_ok, struct dns_tmpl *t)
{
	const uint16_t *off = cache_entry_ttl_offsets(e);
	const uint8_t *p;

	if (dnssec_ok || !(e->flags & CACHE_F_PLAIN)) {
		t->data = cache_entry_template(e);
		t->len = e->tlen;
		t->ttl_off = off;
		t->nttl = e->nttl;
		return;
	}
	off += e->nttl;
	t->len = off[0];
	t->nttl = off[1];
	t->data = p = (const uint8_t *)(off + 2);
	p = e->data + even((size_t)(p - e->data) + t->len);
	t->ttl_off = (const uint16_t *)(const void *)p;
}

/* The bytes cache_insert allocated for e's data: its size computation, read back. */
static size_t
data_size(const struct cache_entry *e)
{
	const uint16_t *off = cache_entry_ttl_offsets(e) + e->nttl;
	size_t size = (size_t)((const uint8_t *)off - e->data);

	if (e->flags & CACHE_F_PLAIN)
		size += 2 * sizeof(uint16_t) + even(off[0]) + off[1] * sizeof(uint16_t);
	return size;
}

static void
data_free(struct cache *c, struct cache_entry *e)
{
	slab_release(&c->slab, e->data, data_size(e));
	e->data = NULL;
}

struct cache *
cache_new(size_t capacity)
{
	struct cache *c;
	size_t nbuckets = 1;
	ssize_t n;
	int err;

	if (capacity > CACHE_CAPACITY_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	while (nbuckets < capacity)
		nbuckets <<= 1;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->capacity = capacity;
	c->mask = nbuckets - 1;
	c->fresh = 1;
	c->buckets = calloc(nbuckets, sizeof(*c->buckets));
	/* pool[0], the sentinel, links to itself (0): the LRU ring is empty */
	c->pool = calloc(capacity + 1, sizeof(*c->pool));
	if (c->buckets == NULL || c->pool == NULL)
		goto fail;
	do
		n = getrandom(c->seed, sizeof(c->seed), 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(c->seed)) {
		if (n >= 0)
			errno = EIO;
		goto fail;
	}
	return c;
fail:
	err = errno;
	free(c->pool);
	free(c->buckets);
	free(c);
	errno = err;
	return NULL;
}

void
cache_free(struct cache *c)
{
	uint32_t i;

	if (c == NULL)
		return;
	for (i = ENTRY(c, 0)->lru_next; i != 0; i = ENTRY(c, i)->lru_next)
		data_free(c, ENTRY(c, i));
	slab_destroy(&c->slab);
	free(c->pool);
	free(c->buckets);
	free(c);
}

void
cache_key_from_question(struct cache_key *k, const struct dns_question *q)
{
	size_t i;

	for (i = 0; i < q->namelen; i++)
		k->name[i] = fold(q->name[i]);
	k->namelen = q->namelen;
	k->qtype = q->qtype;
	k->qclass = q->qclass;
	k->cd = 0;
}

void
cache_set_stale(struct cache *c, uint32_t max_stale)
{
	c->max_stale = max_stale;
}

static void
lru_unlink(struct cache *c, struct cache_entry *e)
{
	ENTRY(c, e->lru_prev)->lru_next = e->lru_next;
	ENTRY(c, e->lru_next)->lru_prev = e->lru_prev;
}

static void
lru_push(struct cache *c, struct cache_entry *e)
{
	struct cache_entry *head = ENTRY(c, 0);
	uint32_t i = index_of(c, e);

	e->lru_prev = 0;
	e->lru_next = head->lru_next;
	ENTRY(c, head->lru_next)->lru_prev = i;
	head->lru_next = i;
}

/* Chains are about one entry long (load factor <= 1), so finding the link is cheap. */
static void
chain_unlink(struct cache *c, struct cache_entry *e)
{
	uint32_t *pp = &c->buckets[e->hash & c->mask], i = index_of(c, e);

	while (*pp != i)
		pp = &ENTRY(c, *pp)->hnext;
	*pp = e->hnext;
}

static void
entry_drop(struct cache *c, struct cache_entry *e)
{
	chain_unlink(c, e);
	lru_unlink(c, e);
	data_free(c, e);
	e->hnext = c->free;
	c->free = index_of(c, e);
	c->stats.entries--;
}

/* The stored name may be in the first asker's spelling: compared folded. */
static struct cache_entry *
find(const struct cache *c, const struct cache_key *k, uint32_t hash)
{
	struct cache_entry *e;
	uint32_t i;

	for (i = c->buckets[hash & c->mask]; i != 0; i = e->hnext) {
		e = ENTRY(c, i);
		if (e->hash == hash && e->qtype == k->qtype &&
		    e->qclass == k->qclass && e->namelen == k->namelen &&
		    (e->flags & CACHE_F_CD) == (k->cd ? CACHE_F_CD : 0) &&
		    dns_name_equal(cache_entry_name(e), e->namelen, k->name, k->namelen))
			return e;
	}
	return NULL;
}

/*
 * The stale window of an expired entry is [expires, expires + max_stale):
 * inside it the entry is kept for cache_lookup_stale().
 */
static int
stale_ok(const struct cache *c, const struct cache_entry *e, uint64_t now)
{
	return c->max_stale > 0 && now - e->expires < c->max_stale;
}

const struct cache_entry *
cache_lookup(struct cache *c, const struct cache_key *k, uint64_t now)
{
	struct cache_entry *e;

	if (c->stats.entries == 0 ||
	    (e = find(c, k, key_hash(c, k))) == NULL) {
		c->stats.misses++;
		return NULL;
	}
	if (now >= e->expires) {
		if (!stale_ok(c, e, now)) {
			entry_drop(c, e);
			c->stats.expired++;
		}
		c->stats.misses++;
		return NULL;
	}
	lru_unlink(c, e);
	lru_push(c, e);
	c->stats.hits++;
	return e;
}

const struct cache_entry *
cache_lookup_stale(struct cache *c, const struct cache_key *k, uint64_t now)
{
	struct cache_entry *e;

	if (c->stats.entries == 0 || (e = find(c, k, key_hash(c, k))) == NULL)
		return NULL;
	if (now < e->expires) {
		lru_unlink(c, e);
		lru_push(c, e);
		c->stats.hits++;
		return e;
	}
	if (stale_ok(c, e, now))
		return e;
	entry_drop(c, e);
	c->stats.expired++;
	return NULL;
}

/* Every offset must leave room for the 32-bit TTL a reply will rewrite there. */
static int
tmpl_valid(const struct dns_tmpl *t)
{
	if (t->len > UINT16_MAX || t->nttl > UINT16_MAX || (t->len > 0 && t->data == NULL) ||
	    (t->nttl > 0 && t->ttl_off == NULL))
		return 0;
	for (size_t i = 0; i < t->nttl; i++)
		if (t->len < 4 || t->ttl_off[i] > t->len - 4)
			return 0;
	return 1;
}

/* Bytes behind a cursor at pos in data: t's bytes, then its offsets, even-aligned. */
static size_t
put_tmpl(uint8_t *data, size_t pos, const struct dns_tmpl *t)
{
	if (t->len > 0)
		memcpy(data + pos, t->data, t->len);
	pos += t->len;
	if (pos & 1)
		data[pos++] = 0;
	if (t->nttl > 0)
		memcpy(data + pos, t->ttl_off, t->nttl * sizeof(uint16_t));
	return pos + t->nttl * sizeof(uint16_t);
}

/*
 * The record is allocated before anything is unlinked, so -ENOMEM leaves
 * the cache as it was.  A full cache gives up its least recently used
 * entry; one whose TTL already ran out counts as expired, not evicted,
 * so evictions measure live answers lost to a too-small cache.
 */
int
cache_insert(struct cache *c, const struct cache_key *k, const struct cache_answer *a,
    uint32_t ttl, uint64_t now)
{
	struct cache_entry *e;
	uint8_t *data;
	uint32_t hash;
	int plain, qname;
	size_t size, pos;

	if (ttl == 0 || c->capacity == 0 || now >= CACHE_TIME_MAX)
		return 0;
	if (a == NULL || k->namelen == 0 || a->rcode < 0 || a->rcode > UINT8_MAX ||
	    (unsigned)a->ede >= DNS_EDE_COUNT || !tmpl_valid(&a->full))
		return -EINVAL;
	plain = a->plain.data != NULL;
	if (plain && !tmpl_valid(&a->plain))
		return -EINVAL;
	/* An upstream's answer repeats the name in its question: not stored twice. */
	qname = a->full.len >= DNS_HDR_SIZE + (size_t)k->namelen &&
	    dns_name_equal(a->full.data + DNS_HDR_SIZE, k->namelen, k->name, k->namelen);
	pos = qname ? 0 : k->namelen;
	size = even(pos + a->full.len) + a->full.nttl * sizeof(uint16_t);
	if (plain)
		size += 2 * sizeof(uint16_t) + even(a->plain.len) +
		    a->plain.nttl * sizeof(uint16_t);
	if ((data = slab_alloc(&c->slab, size)) == NULL)
		return -ENOMEM;
	if (!qname)
		memcpy(data, k->name, k->namelen);
	pos = put_tmpl(data, pos, &a->full);
	if (plain) {
		uint16_t lens[2] = { (uint16_t)a->plain.len, (uint16_t)a->plain.nttl };

		memcpy(data + pos, lens, sizeof(lens));
		put_tmpl(data, pos + sizeof(lens), &a->plain);
	}

	hash = key_hash(c, k);
	if ((e = find(c, k, hash)) != NULL) {
		data_free(c, e);
		lru_unlink(c, e);
	} else {
		if (c->free == 0 && c->fresh > c->capacity) {
			e = ENTRY(c, ENTRY(c, 0)->lru_prev);
			if (now >= e->expires)
				c->stats.expired++;
			else
				c->stats.evictions++;
			entry_drop(c, e);
		}
		if (c->free != 0) {
			e = ENTRY(c, c->free);
			c->free = e->hnext;
		} else
			e = ENTRY(c, c->fresh++);
		e->hash = hash;
		e->qtype = k->qtype;
		e->qclass = k->qclass;
		e->namelen = k->namelen;
		e->hnext = c->buckets[hash & c->mask];
		c->buckets[hash & c->mask] = index_of(c, e);
		c->stats.entries++;
	}
	e->rcode = (uint8_t)a->rcode;
	e->flags = (uint8_t)((a->negative ? CACHE_F_NEGATIVE : 0) | (k->cd ? CACHE_F_CD : 0) |
	    (plain ? CACHE_F_PLAIN : 0) | (qname ? CACHE_F_QNAME : 0));
	e->ede = (uint8_t)a->ede;
	e->nttl = (uint16_t)a->full.nttl;
	e->tlen = (uint16_t)a->full.len;
	e->stored = (uint32_t)now;
	e->expires = now + ttl >= CACHE_TIME_MAX ? CACHE_TIME_MAX : (uint32_t)(now + ttl);
	e->data = data;
	lru_push(c, e);
	c->stats.insertions++;
	return 0;
}

/*
 * Whether name (wire form) is sub, or below it: the tail must match and
 * start where one of name's labels starts, so "notexample.com" is not
 * under "example.com".
 */
static int
name_under(const uint8_t *name, size_t len, const uint8_t *sub, size_t sublen)
{
	size_t at, pos = 0;

	if (sublen > len)
		return 0;
	at = len - sublen;
	if (!dns_name_equal(name + at, sublen, sub, sublen))
		return 0;
	while (pos < at && name[pos] != 0)
		pos += 1 + (size_t)name[pos];
	return pos == at;
}

/*
 * Any type and class, so no hash can find them: walk every entry.  A
 * wipe is a rare operator command; a query never waits for one.
 */
size_t
cache_wipe(struct cache *c, const uint8_t *name, size_t namelen, int subtree)
{
	return cache_wipe_typed(c, name, namelen, subtree, 0);
}

size_t
cache_wipe_typed(struct cache *c, const uint8_t *name, size_t namelen, int subtree,
    uint16_t qtype)
{
	struct cache_entry *e;
	uint32_t at, next;
	size_t n = 0;

	/* Compared folded: a caller that forgot to fold must not silently wipe nothing. */
	if (namelen == 0 || namelen > DNS_NAME_MAX)
		return 0;
	for (at = ENTRY(c, 0)->lru_next; at != 0; at = next) {
		e = ENTRY(c, at);
		next = e->lru_next;
		if (qtype && e->qtype != qtype)
			continue;
		if (subtree ? name_under(cache_entry_name(e), e->namelen, name, namelen) :
		    dns_name_equal(cache_entry_name(e), e->namelen, name, namelen)) {
			entry_drop(c, e);
			n++;
		}
	}
	return n;
}

void
cache_foreach(const struct cache *c, uint64_t now,
    int (*fn)(const struct cache_entry *e, void *arg), void *arg)
{
	const struct cache_entry *e;
	uint32_t i;

	for (i = ENTRY(c, 0)->lru_next; i != 0; i = e->lru_next) {
		e = ENTRY(c, i);
		if (now < e->expires && fn(e, arg) != 0)
			return;
	}
}

const struct cache_stats *
cache_stats(const struct cache *c)
{
	return &c->stats;
}
