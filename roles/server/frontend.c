/*
 * The clients' side: UDP in batches (one recvmmsg, one sendmmsg per
 * wake-up), TCP with RFC 7766 framing, pipelining and out-of-order
 * replies.  No client can hold up another: sockets never block, a TCP
 * client that stops reading is dropped once its unread replies pass
 * SERVER_TCP_OUT_MAX, and idle or half-open ones time out.  Clients not
 * on loopback or --allow-from get REFUSED, counted, never logged.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/spare.h"
#include "roles/server/frontend.h"

#define UDP_IN_MAX	4096		/* a larger query is no query of ours */
#define UDP_OUT_MAX	DNS_EDNS_SIZE	/* we never send more over UDP */

/*
 * A TCP client.  It is on the idle list (oldest progress first) exactly
 * while it waits on nobody but itself: with queries upstream it is off
 * the list, so a slow upstream never times a client out.  Progress is a
 * whole query read or a whole reply written, never a byte.
 */
struct tcp_conn {
	struct watched w;		/* K_TCP_CLIENT; fd -1 when free */
	struct tcp_conn *prev, *next;	/* idle order */
	struct tcp_conn *resume_next;	/* on the resume list */
	int on_idle, on_resume;
	int refused;			/* not a client we serve */
	uint64_t last;			/* ms of last progress */
	uint32_t gen;			/* bumped on close: stale replies see it */
	unsigned inflight;		/* its queries waiting upstream */
	size_t inlen;
	uint8_t in[2 + SERVER_TCP_QUERY_MAX];
	uint8_t *out;			/* replies not yet written */
	size_t outlen, outcap, outdone;
	uint32_t events;		/* what epoll watches for now */
	int eof;			/* it shut down its sending side */
};

struct frontend {
	const struct server_config *cfg;
	const struct loop_clock *clock;
	struct server_counters *stats;
	struct resolver *resolver;
	int epfd;
	struct udp_batch *batch;	/* recvmmsg/sendmmsg buffers */
	struct tcp_conn *conns;		/* max_tcp slots */
	struct tcp_conn *idle_head, *idle_tail;	/* open, least recent first */
	struct tcp_conn *resume_head;	/* got answers back: read on, maybe close */
	size_t nconns;
	int spare_fd;			/* given up to accept-and-close at EMFILE */
	struct watched *paused[SERVER_MAX_LISTEN];	/* listeners not watched ... */
	size_t npaused;
	uint64_t paused_until;		/* ... until then (ms) */
	uint8_t reply[DNS_MSG_MAX];	/* a TCP reply being built */
};

struct udp_batch {
	struct mmsghdr in[SERVER_UDP_BATCH];
	struct iovec in_iov[SERVER_UDP_BATCH];
	struct sockaddr_storage addr[SERVER_UDP_BATCH];
	struct mmsghdr out[SERVER_UDP_BATCH];
	struct iovec out_iov[SERVER_UDP_BATCH];
	uint8_t inbuf[SERVER_UDP_BATCH][UDP_IN_MAX];
	uint8_t outbuf[SERVER_UDP_BATCH][UDP_OUT_MAX];
};

/* Loopback always; anyone else only by --allow-from. */
static int
allowed(const struct frontend *s, const struct sockaddr *sa)
{
	return acl_is_loopback(sa) || acl_match(s->cfg->allow, s->cfg->nallow, sa);
}

/* What every reply sent is counted by; answers to questions the resolver counts. */
static void
count_reply(struct server_counters *st, const uint8_t *msg, size_t len)
{
	if (len < DNS_HDR_SIZE)
		return;
	if ((msg[3] & 0x0f) == DNS_RCODE_FORMERR)
		st->formerr++;
	if (msg[2] & (DNS_F_TC >> 8))
		st->truncated++;
}

/* An answer now, or RESOLVER_PENDING; 0 for none. */
static ssize_t
answer(struct frontend *s, const uint8_t *pkt, size_t len, const struct client *cl,
    int tcp, int refused, uint8_t *out, size_t cap)
{
	if (refused) {
		s->stats->refused_clients++;
		return (ssize_t)resolver_refuse(pkt, len, out, cap);
	}
	return resolver_query(s->resolver, pkt, len, cl, tcp, out, cap);
}

void
frontend_dispatch_udp(struct frontend *s, struct watched *w)
{
	struct udp_batch *b = s->batch;
	uint64_t now;
	int n, nout = 0;

	for (int i = 0; i < SERVER_UDP_BATCH; i++) {
		b->in_iov[i] = (struct iovec){ b->inbuf[i], UDP_IN_MAX };
		b->in[i].msg_hdr = (struct msghdr){
			.msg_name = &b->addr[i], .msg_namelen = sizeof(b->addr[i]),
			.msg_iov = &b->in_iov[i], .msg_iovlen = 1,
		};
	}
	n = recvmmsg(w->fd, b->in, SERVER_UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return;
	now = loop_now_us();	/* once for the batch: they came in together */
	for (int i = 0; i < n; i++) {
		struct client cl = { .udp_fd = w->fd, .addrlen = b->in[i].msg_hdr.msg_namelen,
		    .received_us = now };
		ssize_t len;

		if (b->in[i].msg_hdr.msg_flags & MSG_TRUNC) {
			s->stats->dropped++;
			continue;
		}
		memcpy(&cl.addr, &b->addr[i], sizeof(cl.addr));
		len = answer(s, b->inbuf[i], b->in[i].msg_len, &cl, 0,
		    !allowed(s, (const struct sockaddr *)&b->addr[i]),
		    b->outbuf[nout], UDP_OUT_MAX);
		if (len <= 0)
			continue;
		count_reply(s->stats, b->outbuf[nout], (size_t)len);
		b->out_iov[nout] = (struct iovec){ b->outbuf[nout], (size_t)len };
		b->out[nout].msg_hdr = (struct msghdr){
			.msg_name = &b->addr[i], .msg_namelen = cl.addrlen,
			.msg_iov = &b->out_iov[nout], .msg_iovlen = 1,
		};
		nout++;
	}
	for (int sent = 0; sent < nout; ) {
		int r = sendmmsg(w->fd, b->out + sent, (unsigned)(nout - sent), MSG_DONTWAIT);
		if (r > 0) {
			sent += r;
		} else if (r < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
			/* a full socket buffer: UDP may drop, and we count it */
			s->stats->dropped += (uint64_t)(nout - sent);
			break;
		} else {
			/* this one destination is bad (a forged port 0, say):
			 * skip it, not the clients queued behind it */
			s->stats->dropped++;
			sent++;
		}
	}
}

/* --- TCP ----------------------------------------------------------- */

static void
idle_unlink(struct frontend *s, struct tcp_conn *c)
{
	if (!c->on_idle)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->idle_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->idle_tail = c->prev;
	c->prev = c->next = NULL;
	c->on_idle = 0;
}

/* Progress: to the back of the idle list, or off it while upstreams owe it. */
static void
idle_touch(struct frontend *s, struct tcp_conn *c)
{
	idle_unlink(s, c);
	c->last = s->clock->ms;
	if (c->inflight > 0)
		return;
	c->prev = s->idle_tail;
	c->next = NULL;
	if (s->idle_tail)
		s->idle_tail->next = c;
	else
		s->idle_head = c;
	s->idle_tail = c;
	c->on_idle = 1;
}

static void
conn_close(struct frontend *s, struct tcp_conn *c)
{
	idle_unlink(s, c);
	close(c->w.fd);
	c->w.fd = -1;
	free(c->out);
	c->out = NULL;
	c->outlen = c->outcap = c->outdone = 0;
	c->inlen = 0;
	c->inflight = 0;
	c->events = 0;
	c->eof = 0;
	c->gen++;		/* (still on the resume list: it checks fd) */		/* replies still upstream will find it gone */
	s->nconns--;
}

/*
 * Whether to read from it: not after its end of stream, not at the
 * in-flight cap (the kernel's buffers push back), not with a full buffer.
 */
static int
conn_reading(const struct tcp_conn *c)
{
	return !c->eof && c->inflight < SERVER_TCP_INFLIGHT && c->inlen < sizeof(c->in);
}

/* Read while it sends; write while replies wait. */
static int
conn_events(struct frontend *s, struct tcp_conn *c)
{
	int reading = conn_reading(c);
	struct epoll_event ev = {
		.events = (reading ? EPOLLIN | EPOLLRDHUP : 0) | (c->outlen ? EPOLLOUT : 0),
		.data.ptr = c,
	};

	if (c->events == ev.events)
		return 0;
	c->events = ev.events;
	return epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->w.fd, &ev) == 0 ? 0 : -errno;
}

/* Write what we can; returns -1 if the connection had to be closed. */
static int
conn_flush(struct frontend *s, struct tcp_conn *c)
{
	while (c->outdone < c->outlen) {
		ssize_t n = send(c->w.fd, c->out + c->outdone, c->outlen - c->outdone,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			conn_close(s, c);
			return -1;
		}
		c->outdone += (size_t)n;
	}
	if (c->outdone == c->outlen) {
		if (c->outlen)
			idle_touch(s, c);	/* every reply written */
		c->outdone = c->outlen = 0;
	}
	if ((c->eof && c->outlen == 0 && c->inflight == 0) || conn_events(s, c) < 0) {
		conn_close(s, c);	/* all it asked for is answered */
		return -1;
	}
	return 0;
}

/*
 * Append a reply.  Flushing is the caller's: conn_process() answers a
 * whole read's worth of queries, then writes once.
 */
static int
conn_append(struct frontend *s, struct tcp_conn *c, const uint8_t *msg, size_t len)
{
	size_t need = c->outlen + 2 + len;

	if (need - c->outdone > SERVER_TCP_OUT_MAX) {
		conn_close(s, c);	/* it does not read what it asks for */
		return -1;
	}
	if (need > c->outcap) {
		if (c->outdone) {
			memmove(c->out, c->out + c->outdone, c->outlen - c->outdone);
			c->outlen -= c->outdone;
			c->outdone = 0;
			need = c->outlen + 2 + len;
		}
		if (need > c->outcap) {
			size_t cap = c->outcap ? c->outcap : 1024;
			while (cap < need)
				cap *= 2;
			uint8_t *p = realloc(c->out, cap);
			if (!p) {
				conn_close(s, c);
				return -1;
			}
			c->out = p;
			c->outcap = cap;
		}
	}
	c->out[c->outlen] = (uint8_t)(len >> 8);
	c->out[c->outlen + 1] = (uint8_t)len;
	memcpy(c->out + c->outlen + 2, msg, len);
	c->outlen += 2 + len;
	return 0;
}

/*
 * A late answer from the resolver.  A TCP connection goes on the resume
 * list: reading on (the in-flight cap may have stopped it) or closing a
 * half-closed client happens in frontend_tick(), never inside the call
 * chain that answered.
 */
void
frontend_deliver(void *ctx, const struct client *cl, const uint8_t *msg, size_t len)
{
	struct frontend *s = ctx;
	struct tcp_conn *c = cl->conn;

	if (len)
		count_reply(s->stats, msg, len);
	if (cl->udp_fd >= 0) {
		if (len && sendto(cl->udp_fd, msg, len, MSG_DONTWAIT,
		    (const struct sockaddr *)&cl->addr, cl->addrlen) < 0)
			s->stats->dropped++;
		return;
	}
	if (c->w.fd < 0 || c->gen != cl->conn_gen)
		return;		/* the client left while we asked */
	if (c->inflight > 0)
		c->inflight--;
	if (len && conn_append(s, c, msg, len) == 0)
		conn_flush(s, c);
	if (c->w.fd < 0 || c->on_resume)
		return;
	c->on_resume = 1;
	c->resume_next = s->resume_head;
	s->resume_head = c;
}

/*
 * The last resort when even the spare is gone (another process took the
 * last file of the system between our close and dup): the listener is
 * left unwatched for a second rather than spun on.
 */
#define LISTEN_PAUSE_MS	1000

static void
listen_pause(struct frontend *s, struct watched *w)
{
	struct epoll_event ev = { .events = 0, .data.ptr = w };

	if (s->npaused == SERVER_MAX_LISTEN ||
	    epoll_ctl(s->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		return;
	s->paused[s->npaused++] = w;
	s->paused_until = s->clock->ms + LISTEN_PAUSE_MS;
}

static void
listen_resume(struct frontend *s)
{
	if (!s->npaused || s->clock->ms < s->paused_until)
		return;
	spare_take(&s->spare_fd, s->epfd);
	while (s->npaused) {
		struct watched *w = s->paused[--s->npaused];
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };

		epoll_ctl(s->epfd, EPOLL_CTL_MOD, w->fd, &ev);
	}
}

/*
 * Out of descriptors with a client waiting: the spare takes it off the
 * backlog and it is closed at once (it sees the end and can retry).
 */
static void
turn_away(struct frontend *s, struct watched *w)
{
	int r = spare_turn_away(&s->spare_fd, s->epfd, w->fd, 0);

	if (r == 0)
		s->stats->tcp_refused++;
	else if (r == -EBADF || r == -EMFILE || r == -ENFILE)
		listen_pause(s, w);
}

void
frontend_dispatch_tcp_listen(struct frontend *s, struct watched *w)
{
	static struct log_limit rl;	/* a full table repeats this at will */
	struct tcp_conn *c = NULL;
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	int fd = accept4(w->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
			return;
		log_warn_limited(&rl, "TCP accept");
		if (errno == EMFILE || errno == ENFILE)
			turn_away(s, w);
		else
			listen_pause(s, w);	/* ENOMEM, ENOBUFS: a second's rest */
		return;
	}
	if (s->nconns < s->cfg->max_tcp)
		for (size_t i = 0; i < s->cfg->max_tcp && !c; i++)
			if (s->conns[i].w.fd < 0)
				c = &s->conns[i];
	if (!c) {
		s->stats->tcp_refused++;
		close(fd);
		return;
	}
	/* replies are whole messages written at once: Nagle would only hold
	 * them back for the client's delayed ACK */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	c->w.fd = fd;
	c->refused = !allowed(s, (const struct sockaddr *)&peer);
	c->inlen = c->outlen = c->outdone = 0;
	c->inflight = 0;
	c->on_idle = 0;
	c->eof = 0;
	c->events = EPOLLIN | EPOLLRDHUP;
	if (loop_watch(s->epfd, &c->w, c->events, c) < 0) {
		close(fd);
		c->w.fd = -1;
		return;
	}
	s->nconns++;
	s->stats->tcp_connections++;
	idle_touch(s, c);
}

/* Answer every whole query in the input buffer. */
static int
conn_process(struct frontend *s, struct tcp_conn *c)
{
	size_t off = 0, answered = 0;
	uint64_t now = 0;

	while (c->inlen - off >= 2 && c->inflight < SERVER_TCP_INFLIGHT) {
		size_t qlen = (size_t)c->in[off] << 8 | c->in[off + 1];
		struct client cl = { .udp_fd = -1, .conn = c, .conn_gen = c->gen };
		ssize_t n;

		if (qlen > SERVER_TCP_QUERY_MAX || qlen == 0) {
			conn_close(s, c);
			return -1;
		}
		if (c->inlen - off < 2 + qlen)
			break;
		if (!now)
			now = loop_now_us();	/* once per read's worth, only with a query */
		cl.received_us = now;
		answered++;
		n = answer(s, c->in + off + 2, qlen, &cl, 1, c->refused, s->reply,
		    sizeof(s->reply));
		off += 2 + qlen;
		if (n == RESOLVER_PENDING) {
			c->inflight++;	/* idle_touch keeps it off the idle list now */
		} else if (n > 0) {
			count_reply(s->stats, s->reply, (size_t)n);
			if (conn_append(s, c, s->reply, (size_t)n) < 0)
				return -1;
		}
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
	if (answered)
		idle_touch(s, c);
	return 0;
}

void
frontend_dispatch_tcp_client(struct frontend *s, struct watched *w, uint32_t events)
{
	struct tcp_conn *c = (struct tcp_conn *)w;
	ssize_t n;

	if (c->w.fd < 0)
		return;
	if ((events & EPOLLOUT) && conn_flush(s, c) < 0)
		return;
	if (!conn_reading(c)) {
		/* a wake-up for writing, or one it cannot stop sending (HUP
		 * and ERR come whatever we ask for): gone both ways is closed */
		if (events & (EPOLLHUP | EPOLLERR))
			conn_close(s, c);
		return;
	}
	n = recv(c->w.fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == 0) {
		/* done sending: RFC 7766 still owes it the answers */
		c->eof = 1;
		conn_flush(s, c);
		return;
	}
	if (n < 0) {
		conn_close(s, c);
		return;
	}
	c->inlen += (size_t)n;
	if (conn_process(s, c) == 0)
		conn_flush(s, c);	/* reading may have to stop at the cap */
}

static void
tcp_resume(struct frontend *s)
{
	while (s->resume_head) {
		struct tcp_conn *c = s->resume_head;
		s->resume_head = c->resume_next;
		c->on_resume = 0;
		if (c->w.fd < 0)
			continue;
		if (c->inflight == 0 && !c->on_idle)
			idle_touch(s, c);
		if (conn_process(s, c) == 0)
			conn_flush(s, c);
	}
}

static void
tcp_expire(struct frontend *s)
{
	while (s->idle_head && s->idle_head->last + s->cfg->tcp_idle_ms <= s->clock->ms) {
		s->stats->tcp_timeouts++;
		conn_close(s, s->idle_head);
	}
}

void
frontend_tick(struct frontend *s)
{
	tcp_resume(s);
	tcp_expire(s);
	listen_resume(s);
}

size_t
frontend_tcp_clients(const struct frontend *s)
{
	return s->nconns;
}

uint64_t
frontend_next_deadline(const struct frontend *s)
{
	uint64_t next = s->idle_head ? s->idle_head->last + s->cfg->tcp_idle_ms : UINT64_MAX;

	return s->npaused && s->paused_until < next ? s->paused_until : next;
}

struct frontend *
frontend_new(const struct server_config *cfg, const struct loop_clock *clock,
    struct server_counters *stats, int epfd)
{
	struct frontend *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cfg = cfg;
	s->clock = clock;
	s->stats = stats;
	s->epfd = epfd;
	s->spare_fd = -1;
	spare_take(&s->spare_fd, epfd);
	s->batch = calloc(1, sizeof(*s->batch));
	s->conns = calloc(cfg->max_tcp ? cfg->max_tcp : 1, sizeof(*s->conns));
	if (!s->batch || !s->conns) {
		frontend_free(s);
		return NULL;
	}
	for (size_t i = 0; i < cfg->max_tcp; i++) {
		s->conns[i].w.kind = K_TCP_CLIENT;
		s->conns[i].w.fd = -1;
	}
	return s;
}

void
frontend_attach(struct frontend *s, struct resolver *r)
{
	s->resolver = r;
}

void
frontend_free(struct frontend *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->conns && i < s->cfg->max_tcp; i++)
		if (s->conns[i].w.fd >= 0)
			conn_close(s, &s->conns[i]);
	free(s->conns);
	free(s->batch);
	spare_close(&s->spare_fd);
	free(s);
}
