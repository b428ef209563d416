/*
 * The clients' side: UDP in batches (one recvmmsg, one sendmmsg per
 * wake-up), TCP with RFC 7766 framing, pipelining and out-of-order
 * replies.  No client can hold up another: sockets never block, a TCP
 * client that stops reading is dropped once its unread replies pass
 * SERVER_TCP_OUT_MAX, and idle or half-open ones time out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "roles/server/server.h"

#define UDP_IN_MAX	4096		/* a larger query is no query of ours */
#define UDP_OUT_MAX	DNS_EDNS_SIZE	/* we never send more over UDP */

struct udp_batch {
	struct mmsghdr in[SERVER_UDP_BATCH];
	struct iovec in_iov[SERVER_UDP_BATCH];
	struct sockaddr_storage addr[SERVER_UDP_BATCH];
	struct mmsghdr out[SERVER_UDP_BATCH];
	struct iovec out_iov[SERVER_UDP_BATCH];
	uint8_t inbuf[SERVER_UDP_BATCH][UDP_IN_MAX];
	uint8_t outbuf[SERVER_UDP_BATCH][UDP_OUT_MAX];
};

void
server_dispatch_udp(struct server *s, struct watched *w)
{
	struct udp_batch *b = s->batch;
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
	for (int i = 0; i < n; i++) {
		struct client cl = { .udp_fd = w->fd, .addrlen = b->in[i].msg_hdr.msg_namelen };
		size_t len;

		s->stats.queries_udp++;
		if (b->in[i].msg_hdr.msg_flags & MSG_TRUNC) {
			s->stats.dropped++;
			continue;
		}
		memcpy(&cl.addr, &b->addr[i], sizeof(cl.addr));
		len = server_answer(s, b->inbuf[i], b->in[i].msg_len, &cl,
		    b->outbuf[nout], UDP_OUT_MAX);
		if (len == 0)
			continue;
		server_count_reply(s, b->outbuf[nout], len);
		b->out_iov[nout] = (struct iovec){ b->outbuf[nout], len };
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
			s->stats.dropped += (uint64_t)(nout - sent);
			break;
		} else {
			/* this one destination is bad (a forged port 0, say):
			 * skip it, not the clients queued behind it */
			s->stats.dropped++;
			sent++;
		}
	}
}

/* --- TCP ----------------------------------------------------------- */

static void
idle_unlink(struct server *s, struct tcp_conn *c)
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
idle_touch(struct server *s, struct tcp_conn *c)
{
	idle_unlink(s, c);
	c->last = s->now_ms;
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
conn_close(struct server *s, struct tcp_conn *c)
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

/* Read while it sends; write while replies wait. */
static int
conn_events(struct server *s, struct tcp_conn *c)
{
	int reading = !c->eof && c->inflight < SERVER_TCP_INFLIGHT &&
	    c->inlen < sizeof(c->in);
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
conn_flush(struct server *s, struct tcp_conn *c)
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
conn_append(struct server *s, struct tcp_conn *c, const uint8_t *msg, size_t len)
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

void
server_reply(struct server *s, const struct client *cl, const uint8_t *msg, size_t len)
{
	server_count_reply(s, msg, len);
	if (cl->udp_fd >= 0) {
		if (sendto(cl->udp_fd, msg, len, MSG_DONTWAIT,
		    (const struct sockaddr *)&cl->addr, cl->addrlen) < 0)
			s->stats.dropped++;
		return;
	}
	if (cl->conn->w.fd < 0 || cl->conn->gen != cl->conn_gen)
		return;		/* the client left while we asked */
	if (conn_append(s, cl->conn, msg, len) == 0)
		conn_flush(s, cl->conn);
}

void
server_dispatch_tcp_listen(struct server *s, struct watched *w)
{
	struct tcp_conn *c = NULL;
	int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0 && (errno == EMFILE || errno == ENFILE) && s->spare_fd >= 0) {
		/* out of descriptors: a level-triggered listener would wake us
		 * forever; take the connection with our spare and close it */
		close(s->spare_fd);
		fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		s->spare_fd = fcntl(s->epfd, F_DUPFD_CLOEXEC, 0);
		s->stats.tcp_refused++;
		return;
	}
	if (fd < 0)
		return;
	if (s->nconns < s->cfg.max_tcp)
		for (size_t i = 0; i < s->cfg.max_tcp && !c; i++)
			if (s->conns[i].w.fd < 0)
				c = &s->conns[i];
	if (!c) {
		s->stats.tcp_refused++;
		close(fd);
		return;
	}
	/* replies are whole messages written at once: Nagle would only hold
	 * them back for the client's delayed ACK */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	c->w.fd = fd;
	c->inlen = c->outlen = c->outdone = 0;
	c->inflight = 0;
	c->on_idle = 0;
	c->eof = 0;
	c->events = EPOLLIN | EPOLLRDHUP;
	if (server_watch(s, &c->w, c->events, c) < 0) {
		close(fd);
		c->w.fd = -1;
		return;
	}
	s->nconns++;
	s->stats.tcp_connections++;
	idle_touch(s, c);
}

/* Answer every whole query in the input buffer. */
static int
conn_process(struct server *s, struct tcp_conn *c)
{
	size_t off = 0, answered = 0;

	while (c->inlen - off >= 2 && c->inflight < SERVER_TCP_INFLIGHT) {
		size_t qlen = (size_t)c->in[off] << 8 | c->in[off + 1];
		struct client cl = { .udp_fd = -1, .conn = c, .conn_gen = c->gen };
		size_t n;

		if (qlen > SERVER_TCP_QUERY_MAX || qlen == 0) {
			conn_close(s, c);
			return -1;
		}
		if (c->inlen - off < 2 + qlen)
			break;
		s->stats.queries_tcp++;
		answered++;
		n = server_answer(s, c->in + off + 2, qlen, &cl, s->reply + 2,
		    sizeof(s->reply) - 2);
		off += 2 + qlen;
		if (c->w.fd < 0 || c->gen != cl.conn_gen)
			return -1;	/* closed under us by an immediate reply */
		if (n) {
			server_count_reply(s, s->reply + 2, n);
			if (conn_append(s, c, s->reply + 2, n) < 0)
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
server_dispatch_tcp_client(struct server *s, struct tcp_conn *c, uint32_t events)
{
	ssize_t n;

	if (c->w.fd < 0)
		return;
	if ((events & EPOLLOUT) && conn_flush(s, c) < 0)
		return;
	if (c->eof) {
		if (events & (EPOLLHUP | EPOLLERR))
			conn_close(s, c);	/* gone both ways */
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

/*
 * An upstream answered one of c's queries.  Reading on (the in-flight cap
 * may have stopped it) or closing a half-closed client happens later, in
 * server_tcp_resume(), never inside the call chain that answered.
 */
void
server_conn_answered(struct server *s, struct tcp_conn *c)
{
	if (c->inflight > 0)
		c->inflight--;
	if (c->on_resume)
		return;
	c->on_resume = 1;
	c->resume_next = s->resume_head;
	s->resume_head = c;
}

void
server_tcp_resume(struct server *s)
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

void
server_tcp_expire(struct server *s)
{
	while (s->idle_head && s->idle_head->last + s->cfg.tcp_idle_ms <= s->now_ms) {
		s->stats.tcp_timeouts++;
		conn_close(s, s->idle_head);
	}
}

int
server_frontend_init(struct server *s)
{
	s->spare_fd = fcntl(s->epfd, F_DUPFD_CLOEXEC, 0);
	s->batch = calloc(1, sizeof(*s->batch));
	s->conns = calloc(s->cfg.max_tcp ? s->cfg.max_tcp : 1, sizeof(*s->conns));
	if (!s->batch || !s->conns)
		return -ENOMEM;
	for (size_t i = 0; i < s->cfg.max_tcp; i++) {
		s->conns[i].w.kind = K_TCP_CLIENT;
		s->conns[i].w.fd = -1;
	}
	return 0;
}

void
server_frontend_free(struct server *s)
{
	for (size_t i = 0; i < s->cfg.max_tcp; i++)
		if (s->conns[i].w.fd >= 0)
			conn_close(s, &s->conns[i]);
	free(s->conns);
	free(s->batch);
	if (s->spare_fd >= 0)
		close(s->spare_fd);
}
