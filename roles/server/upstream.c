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
#include "roles/server/upstream.h"

enum attempt_state { A_FREE, A_OPEN, A_LATE };

struct attempt {
	struct watched w;		/* K_UPSTREAM; first: the loop's pointer */
	struct fetch *f;
	uint8_t state;			/* enum attempt_state */
	uint8_t srv;			/* which server of the fetch's set */
	uint8_t tcp, tcp_writing;
	uint8_t probe;			/* sent to a server in back-off */
	uint16_t id;
	uint32_t set_gen;		/* srv is only meaningful while it matches */
	uint64_t sent;			/* ms */
	uint8_t *tcpbuf;
	size_t tcplen, tcpdone;
};

struct fetch {
	struct fetch *hnext;		/* hash chain; the free list when unused */
	size_t heap_i;
	uint64_t when;			/* heap key: the earliest of the two below */
	uint64_t deadline;		/* give up */
	uint32_t hash;
	uint8_t set, cd;
	uint8_t started, max_attempts;
	uint32_t tried;			/* servers asked, by index */
	enum dns_ede why;
	int failed_upstream;
	struct dns_question q;		/* the first asker's spelling */
	struct fetch_waiter *waiters, **wtail;
	unsigned nwaiters;
	struct attempt att[FETCH_ATTEMPTS];
};

struct upstreams {
	struct upstreams_config cfg;
	int epfd;
	struct server_counters *stats;
	upstream_done_fn *done;
	void *ctx;
	struct upstream_set sets[UPSTREAM_SETS];
	struct fetch *pool, *free;
	struct fetch **buckets;
	size_t mask;
	struct fetch **heap;
	size_t nheap;
	uint64_t seed[2];
	uint8_t rnd[256];		/* getrandom() refill for ids */
	size_t rnd_left;
	uint8_t buf[DNS_MSG_MAX];	/* one UDP answer */
	struct dns_template_info info;
};

static uint16_t
random16(struct upstreams *u)
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
static void
reschedule(struct upstreams *u, struct fetch *f)
{
	uint64_t when = f->deadline;

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

static int
server_up(const struct upstream *sv)
{
	return sv->failures == 0;
}

static void
server_answered(struct upstream *sv, uint64_t rtt)
{
	uint32_t r8 = (uint32_t)(rtt > 60000 ? 60000 : rtt) * 8;

	/* RFC 6298's smoothing (alpha 1/8) on a ms x 8 fixed point */
	sv->srtt = sv->srtt ? sv->srtt - sv->srtt / 8 + r8 / 8 : (r8 ? r8 : 1);
	sv->failures = 0;
	sv->down_until = 0;
	sv->answers++;
}

static void
server_timed_out(struct upstream *sv, uint64_t now)
{
	uint64_t backoff = UPSTREAM_BACKOFF_MIN;

	sv->timeouts++;
	if (sv->failures < 32)
		sv->failures++;
	for (uint32_t i = 1; i < sv->failures && backoff < UPSTREAM_BACKOFF_MAX; i++)
		backoff *= 2;
	if (backoff > UPSTREAM_BACKOFF_MAX)
		backoff = UPSTREAM_BACKOFF_MAX;
	sv->down_until = now + backoff;
}

/*
 * The next server to ask: the fastest healthy one not asked yet; else,
 * of those in back-off, the one that comes out first; once every server
 * was asked, the same choice over all of them again.
 */
static int
pick(const struct upstream_set *set, uint32_t tried)
{
	int best = -1, any = -1;

	for (int pass = 0; pass < 2 && best < 0 && any < 0; pass++) {
		for (size_t i = 0; i < set->n; i++) {
			const struct upstream *sv = &set->srv[i];
			if (pass == 0 && (tried & (1u << i)))
				continue;
			if (server_up(sv)) {
				if (best < 0 || sv->srtt < set->srv[best].srtt)
					best = (int)i;
			} else if (any < 0 || sv->down_until < set->srv[any].down_until) {
				any = (int)i;
			}
		}
	}
	return best >= 0 ? best : any;
}

/* --- attempts -------------------------------------------------------------- */

static void
attempt_close(struct attempt *a)
{
	if (a->w.fd >= 0)
		close(a->w.fd);		/* also leaves the epoll set */
	a->w.fd = -1;
	free(a->tcpbuf);
	a->tcpbuf = NULL;
	a->state = A_FREE;
}

static struct upstream *
attempt_server(struct upstreams *u, const struct attempt *a)
{
	struct upstream_set *set = &u->sets[a->f->set];

	return a->set_gen == set->gen && a->srv < set->n ? &set->srv[a->srv] : NULL;
}

/* Close an attempt for good; a probe's server may be probed again. */
static void
attempt_retire(struct upstreams *u, struct attempt *a)
{
	struct upstream *sv;

	if (a->state == A_FREE)
		return;
	if (a->probe && (sv = attempt_server(u, a)))
		sv->probing = 0;
	attempt_close(a);
}

static int
attempt_socket(struct upstreams *u, struct attempt *a, const struct upstream *sv, int type)
{
	struct epoll_event ev = { .events = type == SOCK_STREAM ? EPOLLOUT : EPOLLIN,
	    .data.ptr = a };
	int fd = socket(sv->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	/* UDP: a random source port, and the kernel drops datagrams from
	 * anywhere but the server's address and port */
	if ((connect(fd, (const struct sockaddr *)&sv->addr, sv->addrlen) != 0 &&
	    errno != EINPROGRESS) || epoll_ctl(u->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	a->w.fd = fd;
	return 0;
}

static int
attempt_send_udp(struct upstreams *u, struct attempt *a, const struct upstream *sv)
{
	uint8_t q[DNS_HDR_SIZE + DNS_NAME_MAX + 4 + 11];
	size_t n = dns_build_query(q, sizeof(q), a->id, &a->f->q, a->f->cd);
	int r;

	if (n == 0)
		return -EINVAL;
	if ((r = attempt_socket(u, a, sv, SOCK_DGRAM)) < 0)
		return r;
	if (send(a->w.fd, q, n, MSG_DONTWAIT) != (ssize_t)n)
		return -errno;
	u->stats->upstream_queries++;
	return 0;
}

/* After TC: the same server, over TCP, in the same attempt. */
static int
attempt_to_tcp(struct upstreams *u, struct attempt *a, const struct upstream *sv)
{
	size_t n;

	close(a->w.fd);
	a->w.fd = -1;
	a->tcp = 1;
	if (!a->tcpbuf && !(a->tcpbuf = malloc(DNS_MSG_MAX + 2)))
		return -ENOMEM;
	a->id = random16(u);
	n = dns_build_query(a->tcpbuf + 2, DNS_MSG_MAX, a->id, &a->f->q, a->f->cd);
	if (n == 0)
		return -EINVAL;
	a->tcpbuf[0] = (uint8_t)(n >> 8);
	a->tcpbuf[1] = (uint8_t)n;
	a->tcplen = n + 2;
	a->tcpdone = 0;
	a->tcp_writing = 1;
	u->stats->upstream_tcp_queries++;
	return attempt_socket(u, a, sv, SOCK_STREAM);
}

static struct attempt *
attempt_slot(struct upstreams *u, struct fetch *f)
{
	struct attempt *late = NULL;

	for (size_t i = 0; i < FETCH_ATTEMPTS; i++) {
		if (f->att[i].state == A_FREE)
			return &f->att[i];
		if (f->att[i].state == A_LATE && (!late || f->att[i].sent < late->sent))
			late = &f->att[i];
	}
	if (late)
		attempt_retire(u, late);	/* the oldest straggler makes room */
	return late;
}

/* Ask server srv of f's set; a socket that cannot even be set up is that server's failure. */
static int
attempt_start(struct upstreams *u, struct fetch *f, int srv, int probe, uint64_t now)
{
	struct upstream_set *set = &u->sets[f->set];
	struct upstream *sv = &set->srv[srv];
	struct attempt *a = attempt_slot(u, f);
	int r;

	if (!a)
		return -EBUSY;
	memset(a, 0, sizeof(*a));
	a->w = (struct watched){ .kind = K_UPSTREAM, .fd = -1 };
	a->f = f;
	a->srv = (uint8_t)srv;
	a->set_gen = set->gen;
	a->probe = (uint8_t)probe;
	a->id = random16(u);
	a->sent = now;
	a->state = A_OPEN;
	f->tried |= 1u << srv;
	sv->queries++;
	if (probe)
		sv->probing = 1;
	else
		f->started++;
	if ((r = attempt_send_udp(u, a, sv)) < 0) {
		attempt_close(a);
		sv->errors++;
		if (probe)
			sv->probing = 0;
		f->why = DNS_EDE_NETWORK;
	}
	return r;
}

/* --- finishing ------------------------------------------------------------- */

static void
fetch_end(struct upstreams *u, struct fetch *f, uint8_t *tmpl, size_t tlen)
{
	struct fetch_result res = {
		.tmpl = tmpl, .tlen = tlen, .info = &u->info,
		.why = f->why ? f->why : DNS_EDE_TIMEOUT,
		.failed_upstream = f->failed_upstream,
	};

	/* out of the table first, so an asker the callback brings starts anew;
	 * the attempts close after it, since tmpl may live in one's buffer */
	fetch_unhash(u, f);
	heap_remove(u, f);
	u->done(u->ctx, f->waiters, &res);
	for (size_t i = 0; i < FETCH_ATTEMPTS; i++)
		attempt_retire(u, &f->att[i]);
	f->waiters = NULL;
	f->hnext = u->free;
	u->free = f;
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
		int srv = pick(set, f->tried);
		if (srv < 0)
			break;
		open = attempt_start(u, f, srv, 0, now) == 0;
	}
	for (size_t i = 0; i < FETCH_ATTEMPTS; i++)
		out |= f->att[i].state != A_FREE;
	return out;
}

/* With nothing open or late either, the fetch has failed. */
static void
fetch_advance(struct upstreams *u, struct fetch *f, uint64_t now)
{
	if (!fetch_start_next(u, f, now)) {
		if (!f->why)
			f->why = u->sets[f->set].n ? DNS_EDE_TIMEOUT : DNS_EDE_NO_UPSTREAM;
		fetch_end(u, f, NULL, 0);
		return;
	}
	reschedule(u, f);
}

/* An attempt is over without an answer: a refusal, an error, a bad reply. */
static void
attempt_failed(struct upstreams *u, struct attempt *a, enum dns_ede why, uint64_t now)
{
	struct fetch *f = a->f;
	struct upstream *sv = attempt_server(u, a);

	if (sv) {
		sv->errors++;
		if (a->probe)
			sv->probing = 0;
		/* nobody there (ICMP unreachable, a reset): as bad as silence */
		if (why == DNS_EDE_NETWORK)
			server_timed_out(sv, now);
	}
	attempt_close(a);
	f->failed_upstream = 1;
	if (why == DNS_EDE_REFUSED || !f->why)
		f->why = why;
	fetch_advance(u, f, now);
}

/*
 * A reply to attempt a (a->id and question already matched).  A refusal
 * or failure moves on to the next server; TC moves this attempt to TCP.
 */
static void
attempt_reply(struct upstreams *u, struct attempt *a, uint8_t *msg, size_t len,
    int matched, uint64_t now)
{
	struct upstream *sv = attempt_server(u, a);
	int tlen, rcode = msg[3] & 0x0f;

	if (sv) {
		server_answered(sv, now - a->sent);
		if (a->probe)
			sv->probing = 0;
	}
	if (matched == DNS_ANSWER_ERROR) {
		u->stats->upstream_refused++;
		attempt_failed(u, a, DNS_EDE_REFUSED, now);
		return;
	}
	/* TC first: a truncated body may be cut mid-record, and is no answer */
	if (!a->tcp && (msg[2] & (DNS_F_TC >> 8))) {
		if (!sv || attempt_to_tcp(u, a, sv) < 0) {
			attempt_failed(u, a, DNS_EDE_NETWORK, now);
			return;
		}
		a->state = A_OPEN;
		a->sent = now;
		reschedule(u, a->f);
		return;
	}
	if ((tlen = dns_make_template(msg, len, &u->info)) < 0) {
		u->stats->upstream_bad++;
		attempt_failed(u, a, DNS_EDE_NETWORK, now);
		return;
	}
	if (rcode == DNS_RCODE_REFUSED || rcode == DNS_RCODE_NOTIMP ||
	    rcode == DNS_RCODE_FORMERR || rcode == DNS_RCODE_SERVFAIL) {
		u->stats->upstream_refused++;
		attempt_failed(u, a, DNS_EDE_REFUSED, now);
		return;
	}
	fetch_end(u, a->f, msg, (size_t)tlen);
}

static void
attempt_udp_readable(struct upstreams *u, struct attempt *a, uint64_t now)
{
	for (;;) {
		ssize_t n = recv(a->w.fd, u->buf, sizeof(u->buf), MSG_DONTWAIT);
		int m;

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* e.g. ECONNREFUSED: nobody listens there */
			attempt_failed(u, a, DNS_EDE_NETWORK, now);
			return;
		}
		if ((m = dns_answer_matches(u->buf, (size_t)n, a->id, &a->f->q)) == DNS_ANSWER_NO) {
			u->stats->upstream_mismatched++;
			continue;
		}
		attempt_reply(u, a, u->buf, (size_t)n, m, now);
		return;
	}
}

static void
attempt_tcp_progress(struct upstreams *u, struct attempt *a, uint64_t now)
{
	ssize_t n;
	size_t want;
	int m;

	if (a->tcp_writing) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = a };
		n = send(a->w.fd, a->tcpbuf + a->tcpdone, a->tcplen - a->tcpdone,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			attempt_failed(u, a, DNS_EDE_NETWORK, now);
			return;
		}
		a->tcpdone += (size_t)n;
		if (a->tcpdone < a->tcplen)
			return;
		a->tcp_writing = 0;
		a->tcplen = a->tcpdone = 0;
		if (epoll_ctl(u->epfd, EPOLL_CTL_MOD, a->w.fd, &ev) != 0)
			attempt_failed(u, a, DNS_EDE_NETWORK, now);
		return;
	}
	n = recv(a->w.fd, a->tcpbuf + a->tcpdone, DNS_MSG_MAX + 2 - a->tcpdone, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		attempt_failed(u, a, DNS_EDE_NETWORK, now);
		return;
	}
	a->tcpdone += (size_t)n;
	if (a->tcpdone < 2)
		return;
	want = (size_t)a->tcpbuf[0] << 8 | a->tcpbuf[1];
	if (a->tcpdone < want + 2)
		return;
	if ((m = dns_answer_matches(a->tcpbuf + 2, want, a->id, &a->f->q)) == DNS_ANSWER_NO) {
		u->stats->upstream_mismatched++;
		attempt_failed(u, a, DNS_EDE_NETWORK, now);
		return;
	}
	attempt_reply(u, a, a->tcpbuf + 2, want, m, now);
}

void
upstreams_dispatch(struct upstreams *u, struct watched *w, uint64_t now_ms)
{
	struct attempt *a = (struct attempt *)w;

	/* act on what the socket says, not on a stale event for a reused slot */
	if (a->w.fd < 0 || a->state == A_FREE)
		return;
	if (a->tcp)
		attempt_tcp_progress(u, a, now_ms);
	else
		attempt_udp_readable(u, a, now_ms);
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
	while (u->nheap && u->heap[0]->when <= now) {
		struct fetch *f = u->heap[0];
		if (f->deadline <= now) {
			if (!f->why || f->why == DNS_EDE_NETWORK)
				f->why = DNS_EDE_TIMEOUT;
			f->failed_upstream = 1;
			fetch_end(u, f, NULL, 0);
			continue;
		}
		for (size_t i = 0; i < FETCH_ATTEMPTS; i++) {
			struct attempt *a = &f->att[i];
			struct upstream *sv;
			if (a->state != A_OPEN || a->sent + u->cfg.attempt_ms > now)
				continue;
			/* late, not lost: it keeps listening until the deadline */
			a->state = A_LATE;
			u->stats->upstream_timeouts++;
			if ((sv = attempt_server(u, a))) {
				server_timed_out(sv, now);
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
	int someone_up = 0;

	/* with nobody up, the ordinary attempts go to servers in back-off anyway */
	for (size_t i = 0; i < set->n; i++)
		someone_up |= server_up(&set->srv[i]);
	for (size_t i = 0; someone_up && i < set->n; i++) {
		struct upstream *sv = &set->srv[i];
		if (!server_up(sv) && !sv->probing && sv->down_until <= now &&
		    !(f->tried & (1u << i))) {
			attempt_start(u, f, (int)i, 1, now);
			return;
		}
	}
}

int
upstreams_fetch(struct upstreams *u, size_t set, const struct dns_question *q, int cd,
    struct fetch_waiter *w, uint64_t now)
{
	uint32_t h;
	struct fetch *f;

	if (set >= UPSTREAM_SETS || u->sets[set].n == 0)
		return -ENOENT;
	h = fetch_hash(u, q, cd, set);
	if ((f = fetch_find(u, h, q, cd, set))) {
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
	f->max_attempts = (uint8_t)(u->sets[set].n < 2 ? 2 : u->sets[set].n);
	f->wtail = &f->waiters;
	f->hnext = u->buckets[h & u->mask];
	u->buckets[h & u->mask] = f;
	f->heap_i = u->nheap;
	u->heap[u->nheap++] = f;
	maybe_probe(u, f, now);
	if (!fetch_start_next(u, f, now)) {
		/* not even a socket: the caller answers now, nobody waits */
		for (size_t i = 0; i < FETCH_ATTEMPTS; i++)
			attempt_retire(u, &f->att[i]);
		fetch_unhash(u, f);
		heap_remove(u, f);
		f->hnext = u->free;
		u->free = f;
		return -ENETUNREACH;
	}
	reschedule(u, f);
wait:
	w->next = NULL;
	*f->wtail = w;
	f->wtail = &w->next;
	f->nwaiters++;
	return 0;
}

/* --- sets ------------------------------------------------------------------ */

int
upstreams_set(struct upstreams *u, size_t i, const struct sockaddr_storage *addr,
    const socklen_t *len, size_t n)
{
	struct upstream_set *set;

	if (i >= UPSTREAM_SETS || n > UPSTREAM_MAX)
		return -EINVAL;
	set = &u->sets[i];
	for (size_t k = 0; k < n; k++) {
		/* a server that stays keeps what we learnt about it */
		struct upstream keep = { .addr = addr[k], .addrlen = len[k] };
		for (size_t j = 0; j < set->n; j++)
			if (set->srv[j].addrlen == len[k] &&
			    memcmp(&set->srv[j].addr, &addr[k], len[k]) == 0) {
				keep = set->srv[j];
				keep.probing = 0;
			}
		set->srv[k] = keep;
	}
	set->n = n;
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
