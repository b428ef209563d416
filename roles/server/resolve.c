/*
 * Answering one query: the hosts file, then the cache, then an upstream.
 * Upstream queries are pool-allocated, each on its own socket (a fresh
 * random source port per query, the kernel's connect() filter on the
 * upstream's address and port) with a random id, and live on one list in
 * deadline order: every attempt gets the same timeout, so appending keeps
 * the list sorted and expiry only ever looks at its head.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/log.h"
#include "roles/server/server.h"

static uint16_t
random16(struct server *s)
{
	uint16_t v;

	if (s->rnd_left < sizeof(v)) {
		/* getrandom(2) fills up to 256 bytes whole once the pool is
		 * seeded; anything less means no safe ids, so no answers */
		if (getrandom(s->rnd, sizeof(s->rnd), 0) != (ssize_t)sizeof(s->rnd))
			fatal("getrandom");
		s->rnd_left = sizeof(s->rnd);
	}
	s->rnd_left -= sizeof(v);
	memcpy(&v, s->rnd + s->rnd_left, sizeof(v));
	return v;
}

int
server_watch(struct server *s, struct watched *w, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, w->fd, &ev) == 0 ? 0 : -errno;
}

static int
rewatch(struct server *s, struct watched *w, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(s->epfd, EPOLL_CTL_MOD, w->fd, &ev) == 0 ? 0 : -errno;
}

void
server_count_reply(struct server *s, const uint8_t *msg, size_t len)
{
	if (len < DNS_HDR_SIZE)
		return;
	switch (msg[3] & 0x0f) {
	case DNS_RCODE_SERVFAIL:
		s->stats.servfail++;
		break;
	case DNS_RCODE_NXDOMAIN:
		s->stats.nxdomain++;
		break;
	case DNS_RCODE_FORMERR:
		s->stats.formerr++;
		break;
	}
	if (msg[2] & (DNS_F_TC >> 8))
		s->stats.truncated++;
}

static size_t
max_reply(const struct client *cl, const struct dns_query *q)
{
	if (cl->udp_fd < 0)
		return DNS_MSG_MAX;
	if (!q->edns)
		return DNS_UDP_MIN;
	return q->edns_size < DNS_EDNS_SIZE ? q->edns_size : DNS_EDNS_SIZE;
}

#define HOSTS_ANSWER_MAX	64	/* addresses of one name we answer with */

/* A hosts-file answer, or 0 when the hosts file does not know the name. */
static size_t
hosts_answer(struct server *s, const struct dns_query *q, uint8_t *out, size_t cap)
{
	uint8_t name[DNS_NAME_MAX], addrs[HOSTS_ANSWER_MAX * 16], target[DNS_NAME_MAX];
	int family, n;

	if (!s->hosts || q->q.qclass != DNS_CLASS_IN)
		return 0;
	memcpy(name, q->q.name, q->q.namelen);
	dns_name_fold(name, q->q.namelen);
	if (q->q.qtype == DNS_TYPE_PTR) {
		n = hosts_reverse(s->hosts, name, q->q.namelen, target);
		if (n < 0)
			return 0;
		return dns_build_answer(out, cap, q, DNS_TYPE_PTR, 0, target, (size_t)n, 1);
	}
	family = q->q.qtype == DNS_TYPE_AAAA ? 6 : 4;
	n = hosts_lookup(s->hosts, name, q->q.namelen, family, addrs, HOSTS_ANSWER_MAX);
	if (n < 0)
		return 0;
	if (q->q.qtype != DNS_TYPE_A && q->q.qtype != DNS_TYPE_AAAA)
		n = 0;		/* a name we own, a type we do not have: NODATA */
	return dns_build_answer(out, cap, q, q->q.qtype, 0, addrs,
	    family == 6 ? 16 : 4, (size_t)n);
}

/* As hosts_answer(), truncated (TC, no records) when it does not fit. */
static size_t
answer_from_hosts(struct server *s, const struct dns_query *q, size_t max,
    uint8_t *out, size_t cap)
{
	size_t n = hosts_answer(s, q, out, cap);

	if (n <= max)
		return n;
	n = dns_build_answer(out, cap, q, q->q.qtype, 0, NULL, 0, 0);
	if (n)
		out[2] |= DNS_F_TC >> 8;
	return n;
}

/* --- the pending pool ------------------------------------------------ */

static struct pending *
pend_get(struct server *s)
{
	struct pending *p = s->pend_free;

	if (!p)
		return NULL;
	s->pend_free = p->next;
	memset(p, 0, sizeof(*p));
	p->w.kind = K_UPSTREAM;
	p->w.fd = -1;
	s->pend_used++;
	return p;
}

static void
pend_unlink(struct server *s, struct pending *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else if (s->pend_head == p)
		s->pend_head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else if (s->pend_tail == p)
		s->pend_tail = p->prev;
	p->prev = p->next = NULL;
}

static void
pend_append(struct server *s, struct pending *p)
{
	p->deadline = s->now_ms + s->cfg.upstream_timeout_ms;
	p->prev = s->pend_tail;
	p->next = NULL;
	if (s->pend_tail)
		s->pend_tail->next = p;
	else
		s->pend_head = p;
	s->pend_tail = p;
}

static void
pend_close_socket(struct pending *p)
{
	if (p->w.fd >= 0)
		close(p->w.fd);	/* also leaves the epoll set */
	p->w.fd = -1;
	free(p->tcpbuf);
	p->tcpbuf = NULL;
}

static void
pend_release(struct server *s, struct pending *p)
{
	struct tcp_conn *c = p->client.conn;

	pend_unlink(s, p);
	pend_close_socket(p);
	if (c && c->gen == p->client.conn_gen)
		server_conn_answered(s, c);
	p->next = s->pend_free;
	s->pend_free = p;
	s->pend_used--;
}

/* --- asking upstreams ----------------------------------------------- */

static int
upstream_socket(struct server *s, struct pending *p, int type)
{
	const struct sockaddr_storage *ss = &s->upstream_addr[p->upstream];
	int fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	/* UDP: the kernel picks a random source port and drops datagrams
	 * from anywhere but the upstream's address and port */
	if (connect(fd, (const struct sockaddr *)ss, s->upstream_len[p->upstream]) != 0 &&
	    errno != EINPROGRESS) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static int
ask_udp(struct server *s, struct pending *p)
{
	uint8_t q[DNS_HDR_SIZE + DNS_NAME_MAX + 4 + 11];
	size_t n;
	int fd;

	p->id = random16(s);
	n = dns_build_query(q, sizeof(q), p->id, &p->query.q, 0);
	if (n == 0)
		return -EINVAL;
	if ((fd = upstream_socket(s, p, SOCK_DGRAM)) < 0)
		return fd;
	p->w.fd = fd;
	if (send(fd, q, n, MSG_DONTWAIT) != (ssize_t)n)
		return -errno;
	s->stats.upstream_queries++;
	return server_watch(s, &p->w, EPOLLIN, p);
}

static int
ask_tcp(struct server *s, struct pending *p)
{
	size_t n;
	int fd;

	p->tcp = 1;
	if (!p->tcpbuf && !(p->tcpbuf = malloc(DNS_MSG_MAX + 2)))
		return -ENOMEM;
	p->id = random16(s);
	n = dns_build_query(p->tcpbuf + 2, DNS_MSG_MAX, p->id, &p->query.q, 0);
	if (n == 0)
		return -EINVAL;
	p->tcpbuf[0] = (uint8_t)(n >> 8);
	p->tcpbuf[1] = (uint8_t)n;
	p->tcplen = n + 2;
	p->tcpdone = 0;
	p->tcp_writing = 1;
	if ((fd = upstream_socket(s, p, SOCK_STREAM)) < 0)
		return fd;
	p->w.fd = fd;
	s->stats.upstream_tcp_queries++;
	return server_watch(s, &p->w, EPOLLOUT, p);
}

static unsigned
tries(const struct server *s)
{
	return s->cfg.nupstream < 2 ? 2 : (unsigned)s->cfg.nupstream;
}

static void reply_servfail(struct server *s, struct pending *p);

/*
 * Ask the next upstream in turn (tcp: the same one again, over TCP), or
 * give up with SERVFAIL.  A socket that cannot even be set up counts as
 * that upstream's answer, so the recursion ends after tries() attempts.
 */
static void
next_upstream(struct server *s, struct pending *p, int tcp)
{
	int r;

	pend_unlink(s, p);
	if (p->w.fd >= 0)
		close(p->w.fd);
	p->w.fd = -1;
	if (!tcp && ++p->attempt >= tries(s)) {
		reply_servfail(s, p);
		return;
	}
	if (!tcp)
		p->upstream = (uint8_t)(p->attempt % s->cfg.nupstream);
	p->tcp = (uint8_t)tcp;
	r = tcp ? ask_tcp(s, p) : ask_udp(s, p);
	pend_append(s, p);
	if (r < 0)
		next_upstream(s, p, 0);
}

static uint32_t
clamp_ttl(const struct server *s, uint32_t ttl)
{
	if (ttl > s->cfg.max_ttl)
		ttl = s->cfg.max_ttl;
	if (ttl < s->cfg.min_ttl)
		ttl = s->cfg.min_ttl;
	return ttl;
}

/* No record leaves us with a TTL above --max-ttl. */
static void
clamp_record_ttls(const struct server *s, uint8_t *tmpl, const struct dns_template_info *info)
{
	for (size_t i = 0; i < info->nttl; i++) {
		uint8_t *t = tmpl + info->ttl_off[i];
		uint32_t ttl = (uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 |
		    (uint32_t)t[2] << 8 | t[3];
		if (ttl <= s->cfg.max_ttl)
			continue;
		t[0] = (uint8_t)(s->cfg.max_ttl >> 24);
		t[1] = (uint8_t)(s->cfg.max_ttl >> 16);
		t[2] = (uint8_t)(s->cfg.max_ttl >> 8);
		t[3] = (uint8_t)s->cfg.max_ttl;
	}
}

/* Reply from a template and remember it. */
static void
finish(struct server *s, struct pending *p, uint8_t *tmpl, size_t tlen,
    const struct dns_template_info *info, uint32_t ttl)
{
	static uint8_t plain[DNS_MSG_MAX];
	static struct dns_template_info pinfo;
	struct cache_answer a = { .full = { tmpl, tlen, info->ttl_off, info->nttl },
		.rcode = info->rcode, .negative = info->negative };
	struct dns_render_opts o = { .max_size = max_reply(&p->client, &p->query) };
	struct cache_key k;
	size_t n;
	int plen;

	clamp_record_ttls(s, tmpl, info);
	/* clients without DO get the answer without its DNSSEC records */
	if (info->dnssec &&
	    (plen = dns_strip_dnssec(tmpl, tlen, plain, sizeof(plain), &pinfo)) >= 0)
		a.plain = (struct dns_tmpl){ plain, (size_t)plen, pinfo.ttl_off, pinfo.nttl };
	n = dns_render(s->reply + 2, sizeof(s->reply) - 2,
	    p->query.edns_do || !a.plain.data ? &a.full : &a.plain, &p->query, &o);
	if (n)
		server_reply(s, &p->client, s->reply + 2, n);
	if (ttl) {
		cache_key_from_question(&k, &p->query.q);
		cache_insert(s->cache, &k, &a, ttl, s->now_s);
	}
	pend_release(s, p);
}

static void
reply_servfail(struct server *s, struct pending *p)
{
	struct dns_query plain = p->query;
	struct dns_template_info info;
	uint8_t msg[DNS_HDR_SIZE + DNS_NAME_MAX + 4];
	size_t n;
	int tlen;

	/* the template carries no OPT: dns_render adds one per client */
	plain.edns = 0;
	n = dns_build_error(msg, sizeof(msg), &plain, DNS_RCODE_SERVFAIL, DNS_EDE_NONE);
	if (n == 0 || (tlen = dns_make_template(msg, n, &info)) < 0) {
		pend_release(s, p);
		return;
	}
	/* remembered only if the upstreams failed us, not our own sockets */
	finish(s, p, msg, (size_t)tlen, &info, p->upstream_failed ? SERVER_SERVFAIL_TTL : 0);
}

static void
got_answer(struct server *s, struct pending *p, uint8_t *msg, size_t len)
{
	struct dns_template_info info;
	uint32_t ttl;
	int tlen;

	/* TC first: a truncated body may be cut mid-record, and is no answer */
	if (!p->tcp && (msg[2] & (DNS_F_TC >> 8))) {
		next_upstream(s, p, 1);		/* the same upstream, over TCP */
		return;
	}
	if ((tlen = dns_make_template(msg, len, &info)) < 0) {
		s->stats.upstream_bad++;
		next_upstream(s, p, 0);
		return;
	}
	if ((info.rcode == DNS_RCODE_SERVFAIL || info.rcode == DNS_RCODE_REFUSED ||
	    info.rcode == DNS_RCODE_NOTIMP) && p->attempt + 1u < tries(s)) {
		p->upstream_failed = 1;
		next_upstream(s, p, 0);
		return;
	}
	if (info.cacheable)
		ttl = clamp_ttl(s, info.ttl);
	else if (info.rcode == DNS_RCODE_SERVFAIL)
		ttl = SERVER_SERVFAIL_TTL;
	else
		ttl = 0;
	finish(s, p, msg, (size_t)tlen, &info, ttl);
}

static void
upstream_udp_readable(struct server *s, struct pending *p)
{
	for (;;) {
		ssize_t n = recv(p->w.fd, s->upbuf, sizeof(s->upbuf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			p->upstream_failed = 1;	/* e.g. ECONNREFUSED: nobody there */
			next_upstream(s, p, 0);
			return;
		}
		if (dns_answer_matches(s->upbuf, (size_t)n, p->id, &p->query.q) !=
		    DNS_ANSWER_YES) {
			s->stats.upstream_mismatched++;
			continue;
		}
		got_answer(s, p, s->upbuf, (size_t)n);
		return;
	}
}

static void
upstream_tcp_progress(struct server *s, struct pending *p)
{
	ssize_t n;

	if (p->tcp_writing) {
		n = send(p->w.fd, p->tcpbuf + p->tcpdone, p->tcplen - p->tcpdone,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			next_upstream(s, p, 0);
			return;
		}
		p->tcpdone += (size_t)n;
		if (p->tcpdone < p->tcplen)
			return;
		p->tcp_writing = 0;
		p->tcplen = p->tcpdone = 0;
		if (rewatch(s, &p->w, EPOLLIN, p) < 0)
			next_upstream(s, p, 0);
		return;
	}
	n = recv(p->w.fd, p->tcpbuf + p->tcpdone, DNS_MSG_MAX + 2 - p->tcpdone, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		next_upstream(s, p, 0);
		return;
	}
	p->tcpdone += (size_t)n;
	if (p->tcpdone < 2)
		return;
	size_t want = (size_t)p->tcpbuf[0] << 8 | p->tcpbuf[1];
	if (p->tcpdone < want + 2)
		return;
	if (dns_answer_matches(p->tcpbuf + 2, want, p->id, &p->query.q) !=
	    DNS_ANSWER_YES) {
		s->stats.upstream_mismatched++;
		next_upstream(s, p, 0);
		return;
	}
	got_answer(s, p, p->tcpbuf + 2, want);
}

void
server_dispatch_upstream(struct server *s, struct pending *p, uint32_t events)
{
	(void)events;	/* act on what the socket says, not on stale flags */
	if (p->w.fd < 0)
		return;
	if (p->tcp)
		upstream_tcp_progress(s, p);
	else
		upstream_udp_readable(s, p);
}

void
server_pending_expire(struct server *s)
{
	while (s->pend_head && s->pend_head->deadline <= s->now_ms) {
		struct pending *p = s->pend_head;
		s->stats.upstream_timeouts++;
		p->upstream_failed = 1;
		next_upstream(s, p, 0);
	}
}

static int
forward(struct server *s, const struct dns_query *q, const struct client *cl)
{
	struct pending *p = pend_get(s);

	if (!p) {
		s->stats.pending_full++;
		return -EAGAIN;
	}
	p->query = *q;
	p->client = *cl;
	if (cl->conn)
		cl->conn->inflight++;	/* idle_touch keeps it off the idle list now */
	p->attempt = 0;
	p->upstream = 0;
	if (ask_udp(s, p) < 0) {
		pend_append(s, p);
		next_upstream(s, p, 0);
		return 0;
	}
	pend_append(s, p);
	return 0;
}

size_t
server_answer(struct server *s, const uint8_t *pkt, size_t len,
    const struct client *cl, uint8_t *out, size_t cap)
{
	const struct cache_entry *e;
	struct dns_query q;
	struct cache_key k;
	size_t n;
	int r = dns_parse_query(pkt, len, &q);

	switch (r) {
	case 0:
		break;
	case -EINVAL:
		s->stats.dropped++;
		return 0;
	case -ENOTSUP:
		return dns_build_error(out, cap, &q, DNS_RCODE_NOTIMP, DNS_EDE_NONE);
	case -EPROTONOSUPPORT:
		return dns_build_error(out, cap, &q, DNS_RCODE_BADVERS, DNS_EDE_NONE);
	default:
		return dns_build_error(out, cap, &q, DNS_RCODE_FORMERR, DNS_EDE_NONE);
	}
	if ((n = answer_from_hosts(s, &q, max_reply(cl, &q), out, cap)) > 0) {
		s->stats.hosts_answers++;
		return n;
	}
	cache_key_from_question(&k, &q.q);
	if ((e = cache_lookup(s->cache, &k, s->now_s))) {
		struct dns_render_opts o = { .elapsed = (uint32_t)(s->now_s - e->stored),
			.max_size = max_reply(cl, &q) };
		struct dns_tmpl t;

		s->stats.cache_hits++;
		cache_entry_tmpl(e, q.edns_do, &t);
		return dns_render(out, cap, &t, &q, &o);
	}
	s->stats.cache_misses++;
	if (forward(s, &q, cl) < 0)
		return dns_build_error(out, cap, &q, DNS_RCODE_SERVFAIL, DNS_EDE_NONE);
	return 0;
}

int
server_resolve_init(struct server *s)
{
	for (size_t i = 0; i < s->cfg.nupstream; i++) {
		struct fdt_bind b;
		int len;
		endpoint_to_bind(&s->cfg.upstream[i], s->cfg.upstream[i].port_lo, &b);
		if ((len = bind_sockaddr(&b, &s->upstream_addr[i])) < 0)
			return len;
		s->upstream_len[i] = (socklen_t)len;
	}
	s->pend = calloc(s->cfg.max_pending, sizeof(*s->pend));
	if (!s->pend)
		return -ENOMEM;
	for (size_t i = 0; i < s->cfg.max_pending; i++) {
		s->pend[i].w.fd = -1;
		s->pend[i].next = s->pend_free;
		s->pend_free = &s->pend[i];
	}
	return 0;
}

void
server_resolve_free(struct server *s)
{
	while (s->pend_head)
		pend_release(s, s->pend_head);
	free(s->pend);
	s->pend = NULL;
}
