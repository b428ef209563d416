/*
 * The upstream layer.  A fetch is one question in flight (name, type,
 * class, CD, set): every client asking it meanwhile waits on the same
 * fetch.  Each attempt is its own connected socket with a fresh random
 * id and source port; an attempt that outlives its timeout stays open
 * while the next one starts, so a slow answer still wins.  Fetch timers
 * live in a binary heap keyed on the next thing due.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include "roles/server/siphash.h"
#include "roles/server/upstream_impl.h"

uint16_t
upstream_random16(struct upstreams *u)
{
	uint16_t v;

	if (u->rnd_left < sizeof(v)) {
		/* up to 256 bytes come whole once the pool is seeded; less
		 * would mean no safe ids, and then no answers */
		if (getrandom(u->rnd, sizeof(u->rnd), 0) != (ssize_t)sizeof(u->rnd))
			abort();
		u->rnd_left = sizeof(u->rnd);
	}
	u->rnd_left -= sizeof(v);
	memcpy(&v, u->rnd + u->rnd_left, sizeof(v));
	return v;
}

/* --- the timer heap ------------------------------------------------------ */

static void
heap_swap(struct upstreams *u, size_t a, size_t b)
{
	struct fetch *t = u->heap[a];

	u->heap[a] = u->heap[b];
	u->heap[b] = t;
	u->heap[a]->heap_i = a;
	u->heap[b]->heap_i = b;
}

static void
heap_fix(struct upstreams *u, size_t i)
{
	while (i > 0 && u->heap[(i - 1) / 2]->when > u->heap[i]->when) {
		heap_swap(u, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < u->nheap && u->heap[l]->when < u->heap[m]->when)
			m = l;
		if (l + 1 < u->nheap && u->heap[l + 1]->when < u->heap[m]->when)
			m = l + 1;
		if (m == i)
			return;
		heap_swap(u, i, m);
		i = m;
	}
}

static void
heap_remove(struct upstreams *u, struct fetch *f)
{
	size_t i = f->heap_i;

	if (--u->nheap != i) {
		heap_swap(u, i, u->nheap);
		heap_fix(u, i);
	}
}

/* The fetch's next timer: the earliest open attempt's timeout, or the deadline. */
void
fetch_reschedule(struct upstreams *u, struct fetch *f)
{
	uint64_t when = f->deadline;

	if (f->early && f->waiters && f->early < when)
		when = f->early;
	for (size_t i = 0; i < FETCH_ATTEMPTS; i++)
		if (f->att[i].state == A_OPEN && f->att[i].sent + u->cfg.attempt_ms < when)
			when = f->att[i].sent + u->cfg.attempt_ms;
	f->when = when;
	heap_fix(u, f->heap_i);
}

/* --- the table of fetches in flight ---------------------------------------- */

static uint32_t
fetch_hash(const struct upstreams *u, const struct dns_question *q, int cd, size_t set)
{
	uint8_t buf[6 + DNS_NAME_MAX];

	buf[0] = (uint8_t)(q->qtype >> 8);
	buf[1] = (uint8_t)q->qtype;
	buf[2] = (uint8_t)(q->qclass >> 8);
	buf[3] = (uint8_t)q->qclass;
	buf[4] = (uint8_t)cd;
	buf[5] = (uint8_t)set;
	memcpy(buf + 6, q->name, q->namelen);
	dns_name_fold(buf + 6, q->namelen);
	return (uint32_t)siphash13(u->seed, buf, 6 + (size_t)q->namelen);
}

static struct fetch *
fetch_find(const struct upstreams *u, uint32_t h, const struct dns_question *q, int cd,
    size_t set)
{
	for (struct fetch *f = u->buckets[h & u->mask]; f; f = f->hnext)
		if (f->hash == h && f->q.qtype == q->qtype && f->q.qclass == q->qclass &&
		    f->cd == cd && f->set == set &&
		    dns_name_equal(f->q.name, f->q.namelen, q->name, q->namelen))
			return f;
	return NULL;
}

static void
fetch_unhash(struct upstreams *u, struct fetch *f)
{
	struct fetch **pp = &u->buckets[f->hash & u->mask];

	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;
}

/* --- servers: health and choice ------------------------------------------ */

int
upstream_up(const struct upstream *sv)
{
	return sv->failures == 0;
}

/* It replied, after rtt ms: alive, and this fast. */
static void
upstream_heard(struct upstream *sv, uint64_t rtt)
{
	uint32_t r8 = (uint32_t)(rtt > 60000 ? 60000 : rtt) * 8;

	/* RFC 6298's smoothing (alpha 1/8) on a ms x 8 fixed point */
	sv->srtt = sv->srtt ? sv->srtt - sv->srtt / 8 + r8 / 8 : (r8 ? r8 : 1);
	sv->failures = 0;
	sv->down_until = 0;
}

void
upstream_answered(struct upstream *sv, uint64_t rtt)
{
	upstream_heard(sv, rtt);
	sv->refusals = 0;
	sv->answers++;
}

/* A reply that helps nobody: alive, but asked after those that answer. */
void
upstream_refused(struct upstream *sv, uint64_t rtt)
{
	upstream_heard(sv, rtt);
	if (sv->refusals < UINT32_MAX)
		sv->refusals++;
}

int
upstream_has_addr(const struct upstream *sv, const struct sockaddr_storage *addr,
    socklen_t len)
{
	return sv->addrlen == len && memcmp(&sv->addr, addr, len) == 0;
}

uint64_t
upstream_backoff(uint32_t n)
{
	uint64_t backoff = UPSTREAM_BACKOFF_MIN;

	for (uint32_t i = 1; i < n && backoff < UPSTREAM_BACKOFF_MAX; i++)
		backoff *= 2;
	return backoff > UPSTREAM_BACKOFF_MAX ? UPSTREAM_BACKOFF_MAX : backoff;
}

void
upstream_timed_out(struct upstream *sv, uint64_t now)
{
	sv->timeouts++;
	if (sv->failures < 32)
		sv->failures++;
	sv->down_until = now + upstream_backoff(sv->failures);
}

/*
 * A probe that nobody waited for to the end (another server answered
 * first): no verdict, but no new probe before another back-off either,
 * or a dead server would get a copy of every miss.
 */
void
upstream_probe_unanswered(struct upstream *sv, uint64_t sent, uint64_t now,
    unsigned attempt_ms)
{
	if (now - sent >= attempt_ms) {
		upstream_timed_out(sv, now);
		return;
	}
	sv->down_until = now + upstream_backoff(sv->failures);
}

/* Which of two healthy servers to ask first: fewer refusals, then faster. */
static int
better(const struct upstream *a, const struct upstream *b)
{
	if ((a->refusals > 0) != (b->refusals > 0))
		return a->refusals == 0;
	return a->srtt < b->srtt;
}

/*
 * The next server to ask: the best healthy one not asked yet; else, of
 * those in back-off, the one that comes out first; once every server was
 * asked, the same choice over all of them again.
 */
int
upstream_pick(const struct upstream_set *set, uint32_t tried)
{
	int best = -1, any = -1;

	for (int pass = 0; pass < 2 && best < 0 && any < 0; pass++) {
		for (size_t i = 0; i < set->n; i++) {
			const struct upstream *sv = &set->srv[i];
			if (pass == 0 && (tried & (1u << i)))
				continue;
			if (upstream_up(sv)) {
				if (best < 0 || better(sv, &set->srv[best]))
					best = (int)i;
			} else if (any < 0 || sv->down_until < set->srv[any].down_until) {
				any = (int)i;
			}
		}
	}
	return best >= 0 ? best : any;
}

/* --- finishing ------------------------------------------------------------- */

/* Out of the table and the heap already: its sockets closed, its slot free. */
static void
fetch_free(struct upstreams *u, struct fetch *f)
{
	for (size_t i = 0; i < FETCH_ATTEMPTS; i++)
		attempt_retire(u, &f->att[i]);
	f->waiters = NULL;
	f->hnext = u->free;
	u->free = f;
}

void
fetch_end(struct upstreams *u, struct fetch *f, uint8_t *tmpl, size_t tlen)
{
	struct fetch_result res = {
		.q = &f->q, .cd = f->cd,
		.tmpl = tmpl, .tlen = tlen, .info = &u->info,
		.why = f->why ? f->why : DNS_EDE_TIMEOUT,
		.failed_upstream = f->failed_upstream,
	};

	/* out of the table first, so an asker the callback brings starts anew;
	 * the attempts close after it, since tmpl may live in one's buffer */
	fetch_unhash(u, f);
	heap_remove(u, f);
	u->done(u->ctx, f->waiters, &res);
	fetch_free(u, f);
}

/* The waiters' early time came first: they go, the fetch stays. */
static void
fetch_early(struct upstreams *u, struct fetch *f)
{
	struct fetch_result res = {
		.q = &f->q, .cd = f->cd, .info = &u->info,
		.why = f->why ? f->why : DNS_EDE_TIMEOUT, .early = 1,
	};
	struct fetch_waiter *w = f->waiters;

	f->early = 0;
	f->waiters = NULL;
	f->wtail = &f->waiters;
	f->nwaiters = 0;
	u->done(u->ctx, w, &res);
}

/* Start attempts until one is open or none is left; whether any is still out. */
static int
fetch_start_next(struct upstreams *u, struct fetch *f, uint64_t now)
{
	const struct upstream_set *set = &u->sets[f->set];
	int open = 0, out = 0;

	/* a probe is extra: it does not stand in for an attempt */
	for (size_t i = 0; i < FETCH_ATTEMPTS; i++)
		open |= f->att[i].state == A_OPEN && !f->att[i].probe;
	while (!open && f->started < f->max_attempts && set->n > 0) {
		int srv = upstream_pick(set, f->tried);
		if (srv < 0)
			break;
		open = attempt_start(u, f, srv, 0, now) == 0;
	}
	for (size_t i = 0; i < FETCH_ATTEMPTS; i++)
		out |= f->att[i].state != A_FREE;
	return out;
}

/* With nothing open or late either, the fetch has failed. */
void
fetch_advance(struct upstreams *u, struct fetch *f, uint64_t now)
{
	if (!fetch_start_next(u, f, now)) {
		if (!f->why)
			f->why = u->sets[f->set].n ? DNS_EDE_TIMEOUT : DNS_EDE_NO_UPSTREAM;
		fetch_end(u, f, NULL, 0);
		return;
	}
	fetch_reschedule(u, f);
}

/* --- timers ---------------------------------------------------------------- */

uint64_t
upstreams_next_deadline(const struct upstreams *u)
{
	return u->nheap ? u->heap[0]->when : UINT64_MAX;
}

void
upstreams_tick(struct upstreams *u, uint64_t now)
{
	u->now = now;
	while (u->nheap && u->heap[0]->when <= now) {
		struct fetch *f = u->heap[0];
		if (f->deadline <= now) {
			if (!f->why || f->why == DNS_EDE_NETWORK)
				f->why = DNS_EDE_TIMEOUT;
			f->failed_upstream = 1;
			fetch_end(u, f, NULL, 0);
			continue;
		}
		if (f->early && f->early <= now && f->waiters)
			fetch_early(u, f);
		for (size_t i = 0; i < FETCH_ATTEMPTS; i++) {
			struct attempt *a = &f->att[i];
			struct upstream *sv;
			if (a->state != A_OPEN || a->sent + u->cfg.attempt_ms > now)
				continue;
			/* late, not lost: it keeps listening until the deadline */
			a->state = A_LATE;
			u->stats->outgoing_timeouts++;
			if ((sv = attempt_server(u, a))) {
				upstream_timed_out(sv, now);
				if (a->probe)
					sv->probing = 0;
			}
		}
		fetch_advance(u, f, now);
	}
}

/* --- asking ---------------------------------------------------------------- */

/* A server out of back-off gets the question too: a probe that costs nobody a wait. */
static void
maybe_probe(struct upstreams *u, struct fetch *f, uint64_t now)
{
	struct upstream_set *set = &u->sets[f->set];

	/* with nobody up, the ordinary attempts go to servers in back-off anyway */
	if (upstreams_set_down(u, f->set))
		return;
	for (size_t i = 0; i < set->n; i++) {
		struct upstream *sv = &set->srv[i];
		if (!upstream_up(sv) && !sv->probing && sv->down_until <= now &&
		    !(f->tried & (1u << i))) {
			attempt_start(u, f, (int)i, 1, now);
			return;
		}
	}
}

int
upstreams_fetch(struct upstreams *u, size_t set, const struct dns_question *q, int cd,
    struct fetch_waiter *w, unsigned early_ms, uint64_t now)
{
	uint32_t h;
	struct fetch *f;

	u->now = now;
	if (set >= UPSTREAM_SETS || u->sets[set].n == 0)
		return -ENOENT;
	h = fetch_hash(u, q, cd, set);
	if ((f = fetch_find(u, h, q, cd, set))) {
		if (!w)
			return 0;	/* a refresh of what is being fetched anyway */
		if (f->nwaiters >= FETCH_WAITERS)
			return -EAGAIN;
		u->stats->coalesced++;
		goto wait;
	}
	if (!(f = u->free))
		return -EAGAIN;
	u->free = f->hnext;
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < FETCH_ATTEMPTS; i++)
		f->att[i].w.fd = -1;
	f->hash = h;
	f->set = (uint8_t)set;
	f->cd = (uint8_t)cd;
	f->q = *q;
	f->deadline = now + u->cfg.deadline_ms;
	f->when = f->deadline;
	if (early_ms && early_ms < u->cfg.deadline_ms)
		f->early = now + early_ms;
	f->max_attempts = (uint8_t)(u->sets[set].n < 2 ? 2 : u->sets[set].n);
	f->wtail = &f->waiters;
	f->hnext = u->buckets[h & u->mask];
	u->buckets[h & u->mask] = f;
	f->heap_i = u->nheap;
	u->heap[u->nheap++] = f;
	maybe_probe(u, f, now);
	if (!fetch_start_next(u, f, now)) {
		/* not even a socket: the caller answers now, nobody waits */
		fetch_unhash(u, f);
		heap_remove(u, f);
		fetch_free(u, f);
		return -ENETUNREACH;
	}
wait:
	if (w) {
		w->next = NULL;
		*f->wtail = w;
		f->wtail = &w->next;
		f->nwaiters++;
	}
	fetch_reschedule(u, f);
	return 0;
}

int
upstreams_set_down(const struct upstreams *u, size_t set)
{
	const struct upstream_set *us = &u->sets[set];

	for (size_t i = 0; i < us->n; i++)
		if (upstream_up(&us->srv[i]))
			return 0;
	return us->n > 0;
}

/* --- sets ------------------------------------------------------------------ */

int
upstreams_set(struct upstreams *u, size_t i, const struct sockaddr_storage *addr,
    const socklen_t *len, size_t n)
{
	struct upstream old[UPSTREAM_MAX];
	struct upstream_set *set;
	size_t nold;
	int same;

	if (i >= UPSTREAM_SETS || n > UPSTREAM_MAX)
		return -EINVAL;
	set = &u->sets[i];
	nold = set->n;
	memcpy(old, set->srv, sizeof(old));
	same = n == nold;
	for (size_t k = 0; k < n; k++) {
		/* a server that stays keeps what we learnt about it */
		struct upstream keep = { .addr = addr[k], .addrlen = len[k] };
		for (size_t j = 0; j < nold; j++)
			if (upstream_has_addr(&old[j], &addr[k], len[k]))
				keep = old[j];
		same &= k < nold && upstream_has_addr(&old[k], &addr[k], len[k]);
		set->srv[k] = keep;
	}
	set->n = n;
	/* attempts in flight name their server by index: only a new list moves them */
	if (!same)
		set->gen++;
	return 0;
}

const struct upstream_set *
upstreams_get_set(const struct upstreams *u, size_t set)
{
	return set < UPSTREAM_SETS ? &u->sets[set] : NULL;
}

size_t
upstreams_inflight(const struct upstreams *u)
{
	return u->nheap;
}

struct upstreams *
upstreams_new(const struct upstreams_config *cfg, int epfd, struct server_counters *stats,
    upstream_done_fn *done, void *ctx)
{
	struct upstreams *u = calloc(1, sizeof(*u));
	size_t nb = 1;

	if (!u)
		return NULL;
	while (nb < cfg->max_fetches)
		nb <<= 1;
	u->cfg = *cfg;
	u->epfd = epfd;
	u->stats = stats;
	u->done = done;
	u->ctx = ctx;
	u->mask = nb - 1;
	u->pool = calloc(cfg->max_fetches ? cfg->max_fetches : 1, sizeof(*u->pool));
	u->buckets = calloc(nb, sizeof(*u->buckets));
	u->heap = calloc(cfg->max_fetches ? cfg->max_fetches : 1, sizeof(*u->heap));
	if (!u->pool || !u->buckets || !u->heap ||
	    getrandom(u->seed, sizeof(u->seed), 0) != (ssize_t)sizeof(u->seed)) {
		upstreams_free(u);
		return NULL;
	}
	for (size_t i = cfg->max_fetches; i-- > 0; ) {
		u->pool[i].hnext = u->free;
		u->free = &u->pool[i];
	}
	return u;
}

/* In-flight fetches end without a word: nobody is left to answer. */
void
upstreams_free(struct upstreams *u)
{
	if (!u)
		return;
	while (u->nheap) {
		struct fetch *f = u->heap[0];
		for (size_t i = 0; i < FETCH_ATTEMPTS; i++)
			if (f->att[i].state != A_FREE)
				attempt_close(&f->att[i]);
		heap_remove(u, f);
	}
	free(u->heap);
	free(u->buckets);
	free(u->pool);
	free(u);
}
