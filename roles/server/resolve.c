/*
 * Answering one query: CH class and RFC 6303 zones locally, then the
 * hosts file, the cache, and the upstream layer.  A query that must wait
 * becomes a waiter on a fetch; when the fetch ends every waiter gets its
 * own rendering (its id, spelling, EDNS size, DO) of the one answer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "roles/server/resolve.h"
#include "roles/server/zones.h"

struct waiter {
	struct fetch_waiter link;	/* first: the upstream layer's handle */
	struct waiter *free_next;
	struct client cl;
	struct dns_query q;
	int tcp;
};

struct resolver {
	const struct server_config *cfg;
	const struct loop_clock *clock;
	struct cache *cache;
	const struct hosts *hosts;
	struct server_counters *stats;
	resolver_deliver_fn *deliver;
	void *ctx;
	struct upstreams *up;
	struct waiter *waiters, *free;
	size_t waiting;			/* waiters in use: concurrent-queries */
	struct dns_template_info pinfo;	/* the plain twin's */
	uint8_t plain[DNS_MSG_MAX];
	uint8_t reply[DNS_MSG_MAX];
};

static size_t
max_reply(int tcp, const struct dns_query *q)
{
	if (tcp)
		return DNS_MSG_MAX;
	if (!q->edns)
		return DNS_UDP_MIN;
	return q->edns_size < DNS_EDNS_SIZE ? q->edns_size : DNS_EDNS_SIZE;
}

#define HOSTS_ANSWER_MAX	64	/* addresses of one name we answer with */

/* A hosts-file answer, or 0 when the hosts file does not know the name. */
static size_t
hosts_answer(const struct resolver *r, const struct dns_query *q, uint8_t *out, size_t cap)
{
	uint8_t name[DNS_NAME_MAX], addrs[HOSTS_ANSWER_MAX * 16], target[DNS_NAME_MAX];
	int family, n;

	if (!r->hosts || q->q.qclass != DNS_CLASS_IN)
		return 0;
	memcpy(name, q->q.name, q->q.namelen);
	dns_name_fold(name, q->q.namelen);
	if (q->q.qtype == DNS_TYPE_PTR) {
		n = hosts_reverse(r->hosts, name, q->q.namelen, target);
		if (n < 0)
			return 0;
		return dns_build_answer(out, cap, q, DNS_TYPE_PTR, 0, target, (size_t)n, 1);
	}
	family = q->q.qtype == DNS_TYPE_AAAA ? 6 : 4;
	n = hosts_lookup(r->hosts, name, q->q.namelen, family, addrs, HOSTS_ANSWER_MAX);
	if (n < 0)
		return 0;
	if (q->q.qtype != DNS_TYPE_A && q->q.qtype != DNS_TYPE_AAAA)
		n = 0;		/* a name we own, a type we do not have: NODATA */
	return dns_build_answer(out, cap, q, q->q.qtype, 0, addrs,
	    family == 6 ? 16 : 4, (size_t)n);
}

/*
 * As hosts_answer(), built whole first (in our own buffer: a name of ours
 * must never fall through to an upstream because the answer was big),
 * then truncated (TC, no records) when it does not fit the client.
 */
static size_t
answer_from_hosts(struct resolver *r, const struct dns_query *q, size_t max,
    uint8_t *out, size_t cap)
{
	size_t n = hosts_answer(r, q, r->reply, sizeof(r->reply));

	if (n == 0)
		return 0;
	if (n > max || n > cap) {
		n = dns_build_answer(out, cap, q, q->q.qtype, 0, NULL, 0, 0);
		if (n)
			out[2] |= DNS_F_TC >> 8;
	} else {
		memcpy(out, r->reply, n);
	}
	if (n)
		out[2] &= (uint8_t)~(DNS_F_AA >> 8);	/* we are nobody's authority */
	return n;
}

static uint32_t
clamp_ttl(const struct server_config *cfg, uint32_t ttl)
{
	if (ttl > cfg->max_ttl)
		ttl = cfg->max_ttl;
	if (ttl < cfg->min_ttl)
		ttl = cfg->min_ttl;
	return ttl;
}

static void
key_of(struct cache_key *k, const struct dns_question *q, int cd)
{
	cache_key_from_question(k, q);
	k->cd = (uint8_t)cd;
}

static int
query_cd(const struct dns_query *q)
{
	return (q->flags & DNS_F_CD) != 0;
}

static size_t
render_entry(struct resolver *r, const struct cache_entry *e, const struct dns_query *q,
    int tcp, int stale, uint8_t *out, size_t cap)
{
	struct dns_render_opts o = {
		.max_size = max_reply(tcp, q),
		.ede = stale ? DNS_EDE_STALE : (enum dns_ede)e->ede,
	};
	struct dns_tmpl t;

	if (stale)
		o.stale_ttl = SERVER_STALE_TTL;
	else
		o.elapsed = (uint32_t)(r->clock->s - e->stored);
	cache_entry_tmpl(e, q->edns_do, &t);
	return dns_render(out, cap, &t, q, &o);
}

/* --- counting answers, as PowerDNS Recursor does ------------------------- */

static void
count_rcode(struct server_counters *st, const uint8_t *msg, size_t len)
{
	if (len < DNS_HDR_SIZE)
		return;
	switch (msg[3] & 0x0f) {
	case DNS_RCODE_NOERROR:
		st->noerror++;
		break;
	case DNS_RCODE_NXDOMAIN:
		st->nxdomain++;
		break;
	case DNS_RCODE_SERVFAIL:
		st->servfail++;
		break;
	}
}

/*
 * qa-latency: avg = (1 - 1/N) avg + usec/N, kept as N x avg in integers
 * (the floor of avg/N costs under 1/N us a step).
 */
static void
qa_latency_add(struct server_counters *st, uint64_t usec)
{
	st->qa_latency_n = st->qa_latency_n - st->qa_latency_n / SERVER_LATENCY_N + usec;
}

/* pdns: a packet-cache hit is in qa-latency as 0 us, in no answers* bucket. */
static void
count_hit(struct resolver *r, const uint8_t *msg, size_t len)
{
	r->stats->packetcache_hits++;
	count_rcode(r->stats, msg, len);
	qa_latency_add(r->stats, 0);
}

/* Any other question's answer, now_us after its client's query came in. */
static void
count_answer(struct resolver *r, const struct client *cl, uint64_t now_us,
    const uint8_t *msg, size_t len)
{
	struct server_counters *st = r->stats;
	uint64_t us = now_us > cl->received_us ? now_us - cl->received_us : 0;
	/* pdns caps the average's input at its network-timeout, our --upstream-timeout */
	uint64_t cap = (uint64_t)r->cfg->upstream_timeout_ms * 1000;

	count_rcode(st, msg, len);
	/* pdns's buckets include their upper bound */
	if (us <= 1000)
		st->answers0_1++;
	else if (us <= 10000)
		st->answers1_10++;
	else if (us <= 100000)
		st->answers10_100++;
	else if (us <= 1000000)
		st->answers100_1000++;
	else
		st->answers_slow++;
	st->answer_usec_sum += us;
	st->answer_count++;
	qa_latency_add(st, us < cap ? us : cap);
}

/* RFC 8767: an expired answer, TTL 30, EDE 3, counted. */
static size_t
render_stale(struct resolver *r, const struct cache_entry *e, const struct dns_query *q,
    int tcp, uint8_t *out, size_t cap)
{
	r->stats->stale_answers++;
	return render_entry(r, e, q, tcp, 1, out, cap);
}

/* --- a fetch ends ---------------------------------------------------------- */

static void
waiter_done(struct resolver *r, struct waiter *w, uint64_t now_us, const uint8_t *msg,
    size_t len)
{
	count_answer(r, &w->cl, now_us, msg, len);
	r->deliver(r->ctx, &w->cl, msg, len);
	w->free_next = r->free;
	r->free = w;
	r->waiting--;
}

/* An expired answer we may still give (RFC 8767), never an expired failure. */
static const struct cache_entry *
stale_entry(struct resolver *r, const struct cache_key *k)
{
	const struct cache_entry *e;

	if (!r->cfg->serve_stale)
		return NULL;
	e = cache_lookup_stale(r->cache, k, r->clock->s);
	return e && e->rcode != DNS_RCODE_SERVFAIL ? e : NULL;
}

/*
 * The failure answer: stale data if allowed, else SERVFAIL saying why.
 * A refresh nobody waited for leaves the stale data be; waiters handed
 * back early (the fetch runs on) get no failure cached either.
 */
static void
fetch_failed(struct resolver *r, struct waiter *list, const struct fetch_result *res)
{
	const struct cache_entry *e;
	struct cache_key k;
	struct dns_query plain;
	struct dns_template_info info;
	struct cache_answer a = { .rcode = DNS_RCODE_SERVFAIL, .ede = res->why };
	uint8_t msg[DNS_HDR_SIZE + DNS_NAME_MAX + 4], tmpl[sizeof(msg)];
	uint64_t now;
	size_t n;
	int tlen;

	if (!list)
		return;
	now = loop_now_us();
	key_of(&k, res->q, res->cd);
	if ((e = stale_entry(r, &k))) {
		for (struct waiter *w = list, *next; w; w = next) {
			next = (struct waiter *)(void *)w->link.next;
			n = render_stale(r, e, &w->q, w->tcp, r->reply, sizeof(r->reply));
			waiter_done(r, w, now, r->reply, n);
		}
		return;
	}
	/* remembered (RFC 9520) only if the upstreams failed us, not our sockets */
	plain = list->q;
	plain.edns = 0;		/* the template carries no OPT: each client gets its own */
	plain.flags &= (uint16_t)~DNS_F_CD;
	n = dns_build_error(msg, sizeof(msg), &plain, DNS_RCODE_SERVFAIL, DNS_EDE_NONE);
	if (n && (tlen = dns_make_template(msg, n, tmpl, sizeof(tmpl), &info)) >= 0) {
		a.full = (struct dns_tmpl){ tmpl, (size_t)tlen, info.ttl_off, info.nttl };
		if (res->failed_upstream && !res->early)
			cache_insert(r->cache, &k, &a, SERVER_SERVFAIL_TTL, r->clock->s);
	}
	for (struct waiter *w = list, *next; w; w = next) {
		struct dns_render_opts o = { .max_size = max_reply(w->tcp, &w->q), .ede = res->why };
		next = (struct waiter *)(void *)w->link.next;
		n = a.full.data ? dns_render(r->reply, sizeof(r->reply), &a.full, &w->q, &o) : 0;
		waiter_done(r, w, now, r->reply, n);
	}
}

static void
resolver_fetch_done(void *ctx, struct fetch_waiter *first, const struct fetch_result *res)
{
	struct resolver *r = ctx;
	struct waiter *list = (struct waiter *)(void *)first;
	const struct dns_template_info *info = res->info;
	struct cache_answer a = { .rcode = info->rcode, .negative = info->negative };
	struct cache_key k;
	uint32_t ttl = 0;
	uint64_t now;
	int plen;

	if (!res->tmpl) {
		fetch_failed(r, list, res);
		return;
	}
	dns_clamp_ttls(res->tmpl, info, r->cfg->max_ttl);
	a.full = (struct dns_tmpl){ res->tmpl, res->tlen, info->ttl_off, info->nttl };
	if (info->dnssec && (plen = dns_strip_dnssec(res->tmpl, res->tlen, r->plain,
	    sizeof(r->plain), &r->pinfo)) >= 0)
		a.plain = (struct dns_tmpl){ r->plain, (size_t)plen, r->pinfo.ttl_off,
		    r->pinfo.nttl };
	if (info->cacheable && (!info->dnssec || a.plain.data))
		ttl = clamp_ttl(r->cfg, info->ttl);
	key_of(&k, res->q, res->cd);
	cache_insert(r->cache, &k, &a, ttl, r->clock->s);

	now = list ? loop_now_us() : 0;	/* a refresh nobody waits for needs no clock */
	for (struct waiter *w = list, *next; w; w = next) {
		struct dns_render_opts o = { .max_size = max_reply(w->tcp, &w->q) };
		const struct dns_tmpl *t = &a.full;
		size_t n;

		next = (struct waiter *)(void *)w->link.next;
		if (!w->q.edns_do && info->dnssec) {
			/* no plain twin: a DO-less client gets SERVFAIL, never RRSIGs */
			if (!a.plain.data) {
				n = dns_build_error(r->reply, sizeof(r->reply), &w->q,
				    DNS_RCODE_SERVFAIL, DNS_EDE_NONE);
				waiter_done(r, w, now, r->reply, n);
				continue;
			}
			t = &a.plain;
		}
		n = dns_render(r->reply, sizeof(r->reply), t, &w->q, &o);
		waiter_done(r, w, now, r->reply, n);
	}
}

/* --- a query arrives ----------------------------------------------------- */

/* Which upstream set serves a name: the longest forward zone, else the default. */
static size_t
upstream_set_for(const struct resolver *r, const struct dns_question *q, int *zoned)
{
	int z = forward_zone_find(r->cfg->zones, r->cfg->nzones, q->name, q->namelen);

	*zoned = z >= 0;
	return z >= 0 ? (size_t)z + 1 : 0;
}

/*
 * A miss.  With stale data in hand (--serve-stale) the client waits at
 * most RFC 8767's client response timer, and not at all while every
 * upstream of the set is down: it gets the stale answer, and a refresh
 * runs on without it.
 */
static ssize_t
ask_upstream(struct resolver *r, const struct dns_query *q, size_t set,
    const struct client *cl, int tcp, uint8_t *out, size_t cap)
{
	struct waiter *w = r->free;
	const struct cache_entry *e;
	struct cache_key k;
	int err;

	key_of(&k, &q->q, query_cd(q));
	e = stale_entry(r, &k);
	if (e && upstreams_set_down(r->up, set)) {
		upstreams_fetch(r->up, set, &q->q, query_cd(q), NULL, 0, r->clock->ms);
		return (ssize_t)render_stale(r, e, q, tcp, out, cap);
	}
	if (!w) {
		r->stats->pending_full++;
		err = -EAGAIN;
		goto failed;
	}
	r->free = w->free_next;
	w->cl = *cl;
	w->q = *q;
	w->tcp = tcp;
	if ((err = upstreams_fetch(r->up, set, &q->q, query_cd(q), &w->link,
	    e ? SERVER_STALE_WAIT_MS : 0, r->clock->ms)) == 0) {
		r->waiting++;
		return RESOLVER_PENDING;
	}
	w->free_next = r->free;
	r->free = w;
	if (err == -EAGAIN)
		r->stats->pending_full++;
failed:
	if (e) {
		return (ssize_t)render_stale(r, e, q, tcp, out, cap);
	}
	return (ssize_t)dns_build_error(out, cap, q, DNS_RCODE_SERVFAIL,
	    err == -ENOENT ? DNS_EDE_NO_UPSTREAM :
	    err == -ENETUNREACH ? DNS_EDE_NETWORK : DNS_EDE_NONE);
}

/* A question's answer: now (*hit if from the cache), or RESOLVER_PENDING. */
static ssize_t
answer_question(struct resolver *r, const struct dns_query *q, const struct client *cl,
    int tcp, uint8_t *out, size_t cap, int *hit)
{
	const struct cache_entry *e;
	struct cache_key k;
	size_t n, set, zone_off;
	int zoned;

	/* version.bind, id.server and the like would tell about the upstream */
	if (q->q.qclass == DNS_CLASS_CH) {
		r->stats->local_answers++;
		return (ssize_t)dns_build_error(out, cap, q, DNS_RCODE_REFUSED,
		    DNS_EDE_NOT_SUPPORTED);
	}
	if ((n = answer_from_hosts(r, q, max_reply(tcp, q), out, cap)) > 0) {
		r->stats->hosts_answers++;
		return (ssize_t)n;
	}
	set = upstream_set_for(r, &q->q, &zoned);
	if (!zoned && q->q.qclass == DNS_CLASS_IN &&
	    private_reverse_zone(q->q.name, q->q.namelen, &zone_off)) {
		r->stats->local_answers++;
		return (ssize_t)dns_build_local_nxdomain(out, cap, q, q->q.name + zone_off,
		    q->q.namelen - zone_off);
	}
	key_of(&k, &q->q, query_cd(q));
	if ((e = cache_lookup(r->cache, &k, r->clock->s))) {
		*hit = 1;
		return (ssize_t)render_entry(r, e, q, tcp, 0, out, cap);
	}
	return ask_upstream(r, q, set, cl, tcp, out, cap);
}

/*
 * Whether a query that did not parse is still one of pdns's questions
 * (pdns 4.8: pdns_recursor.cc handleNewUDPQuestion() and
 * doProcessUDPQuestion(), rec-tcp.cc handleRunningTCPQuestion()).  Over
 * UDP pdns counts one as soon as its header says a query (QR clear,
 * opcode QUERY, QDCOUNT not 0), before it reads the question: a
 * malformed one is a question and a packet-cache miss, then a parse
 * error.  Over TCP it counts only a message that parsed whole, as
 * BADVERS's does (its version is read later).  Cold: malformed queries.
 */
static int
malformed_is_question(const uint8_t *pkt, size_t len, int tcp, int err)
{
	if (err == -EPROTONOSUPPORT)
		return 1;
	if (tcp || err != -EBADMSG || len < DNS_HDR_SIZE)
		return 0;
	return (pkt[4] | pkt[5]) != 0;	/* -EBADMSG: QR clear, opcode QUERY already */
}

ssize_t
resolver_query(struct resolver *r, const uint8_t *pkt, size_t len,
    const struct client *cl, int tcp, uint8_t *out, size_t cap)
{
	struct dns_query q;
	ssize_t n;
	int hit = 0, err = dns_parse_query(pkt, len, &q);

	if (err != 0) {
		if (malformed_is_question(pkt, len, tcp, err)) {
			r->stats->questions++;	/* only over UDP, or BADVERS */
			if (tcp)
				r->stats->tcp_questions++;
			r->stats->packetcache_misses++;
		}
		switch (err) {
		case -EINVAL:
			r->stats->dropped++;
			return 0;
		case -ENOTSUP:
			return (ssize_t)dns_build_error(out, cap, &q, DNS_RCODE_NOTIMP,
			    DNS_EDE_NONE);
		case -EPROTONOSUPPORT:
			/* pdns answers it as it answers any question: in answers*,
			 * and as NOERROR (BADVERS's low bits in the header are 0) */
			n = (ssize_t)dns_build_error(out, cap, &q, DNS_RCODE_BADVERS,
			    DNS_EDE_NONE);
			count_answer(r, cl, loop_now_us(), out, (size_t)n);
			return n;
		default:
			return (ssize_t)dns_build_error(out, cap, &q, DNS_RCODE_FORMERR,
			    DNS_EDE_NONE);
		}
	}
	r->stats->questions++;
	if (tcp)
		r->stats->tcp_questions++;
	n = answer_question(r, &q, cl, tcp, out, cap, &hit);
	/* pdns looks in its packet cache before anything else: what it does
	 * not find there is a miss, whatever answers it then */
	if (hit) {
		count_hit(r, out, (size_t)n);
		return n;
	}
	r->stats->packetcache_misses++;
	if (n != RESOLVER_PENDING)
		count_answer(r, cl, loop_now_us(), out, (size_t)n);
	return n;
}

size_t
resolver_refuse(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap)
{
	struct dns_query q;
	int r = dns_parse_query(pkt, len, &q);

	if (r == -EINVAL)
		return 0;
	return dns_build_error(out, cap, &q, DNS_RCODE_REFUSED, DNS_EDE_PROHIBITED);
}

/* --- set-up ---------------------------------------------------------------- */

static int
load_upstream_sets(struct resolver *r)
{
	const struct server_config *cfg = r->cfg;
	int err;

	if ((err = upstreams_set(r->up, 0, cfg->upstream, cfg->upstream_len,
	    cfg->nupstream)) < 0)
		return err;
	for (size_t i = 0; i < cfg->nzones; i++)
		if ((err = upstreams_set(r->up, i + 1, cfg->zones[i].addr,
		    cfg->zones[i].addrlen, cfg->zones[i].naddr)) < 0)
			return err;
	return 0;
}

struct resolver *
resolver_new(const struct server_config *cfg, const struct loop_clock *clock,
    struct cache *cache, struct server_counters *stats, int epfd,
    resolver_deliver_fn *deliver, void *ctx)
{
	struct upstreams_config ucfg = {
		.attempt_ms = cfg->upstream_timeout_ms,
		.deadline_ms = cfg->query_timeout_ms,
		.max_fetches = cfg->max_pending,
	};
	struct resolver *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->cfg = cfg;
	r->clock = clock;
	r->cache = cache;
	r->stats = stats;
	r->deliver = deliver;
	r->ctx = ctx;
	r->waiters = calloc(cfg->max_pending ? cfg->max_pending : 1, sizeof(*r->waiters));
	r->up = upstreams_new(&ucfg, epfd, stats, resolver_fetch_done, r);
	if (!r->waiters || !r->up || load_upstream_sets(r) < 0) {
		resolver_free(r);
		return NULL;
	}
	for (size_t i = cfg->max_pending; i-- > 0; ) {
		r->waiters[i].free_next = r->free;
		r->free = &r->waiters[i];
	}
	cache_set_stale(cache, cfg->serve_stale);
	return r;
}

void
resolver_free(struct resolver *r)
{
	if (!r)
		return;
	upstreams_free(r->up);
	free(r->waiters);
	free(r);
}

void
resolver_set_hosts(struct resolver *r, const struct hosts *h)
{
	r->hosts = h;
}

struct upstreams *
resolver_upstreams(struct resolver *r)
{
	return r->up;
}

size_t
resolver_waiting(const struct resolver *r)
{
	return r->waiting;
}
