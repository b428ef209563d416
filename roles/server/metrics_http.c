/*
 * A tiny HTTP/1.1 server for Prometheus: GET and HEAD /metrics with
 * keep-alive, nothing else.  One request at a time per connection:
 * pipelined ones wait in its input buffer until the answer before them is
 * written.  Every request-and-answer must be over within
 * METRICS_HTTP_IDLE_MS of the previous answer (or the accept), so neither
 * a sender trickling a head nor a client that never reads keeps a slot.
 */
#include "roles/server/metrics_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/spare.h"

#define LISTEN_PAUSE_MS		1000
#define ANSWERS_PER_WAKEUP	4	/* then the others get their turn */
#define HEAD_OUT_MAX		256	/* an answer's head */

struct mconn {
	struct watched w;	/* K_METRICS_CLIENT; fd -1 when free */
	uint64_t since;		/* ms: the last answer written, or the accept */
	uint32_t events;	/* what epoll waits for now */
	int closing;		/* the answer being written is the last */
	int linger;		/* it was: reading what follows, until EOF */
	int eof;		/* the client sent all it will */
	char *out;		/* the answer being written: head, then body */
	size_t outoff, outlen;
	size_t inlen;
	size_t scanned;		/* bytes of in[] known to hold no end of head */
	char in[METRICS_HTTP_HEAD_MAX];
};

struct metrics_http {
	int epfd;
	const struct loop_clock *clock;
	metrics_render_fn render;
	void *arg;
	int spare_fd;		/* given up to turn a client away at EMFILE */
	struct watched *paused;	/* the listener, unwatched ... */
	uint64_t paused_until;	/* ... until then (ms) */
	size_t nconns;
	struct metrics_http_stats stats;
	struct mconn conns[METRICS_HTTP_MAX_CONNS];
};

struct request {
	int status;		/* what to answer: 200, or an error */
	int head_only;		/* HEAD */
	int close;		/* the last one on this connection */
	int http10;		/* so keeping it open must be said */
};

/* What the head says, as it is read. */
struct head {
	int http11;
	int hosts;		/* Host fields seen */
	int conn_close;		/* Connection: close */
	int keep_alive;		/* Connection: keep-alive (HTTP/1.0) */
	int body;		/* one follows, and we never read one */
};

static void
conn_close(struct metrics_http *m, struct mconn *c)
{
	/* a forked dump child may hold a copy for a moment: DEL, not just close */
	epoll_ctl(m->epfd, EPOLL_CTL_DEL, c->w.fd, NULL);
	close(c->w.fd);
	c->w.fd = -1;
	free(c->out);
	c->out = NULL;
	c->outoff = c->outlen = c->inlen = c->scanned = 0;
	c->closing = c->linger = c->eof = 0;
	c->events = 0;
	m->nconns--;
}

static int
conn_want(struct metrics_http *m, struct mconn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = &c->w };

	if (c->events == events)
		return 0;
	if (epoll_ctl(m->epfd, EPOLL_CTL_MOD, c->w.fd, &ev) != 0)
		return -errno;
	c->events = events;
	return 0;
}

static int
tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Field values: visible ASCII, obs-text, SP and HTAB; no other control byte. */
static int
value_ok(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return 0;
	}
	return 1;
}

/* Whether the comma-separated list p[0..n) holds token tok (case-insensitive). */
static int
list_has(const char *p, size_t n, const char *tok)
{
	size_t tl = strlen(tok), i = 0;

	while (i < n) {
		size_t s, e;
		while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
			i++;
		s = i;
		while (i < n && p[i] != ',')
			i++;
		e = i;
		while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(p + s, tok, tl) == 0)
			return 1;
	}
	return 0;
}

/* The path of a request target: origin-form, or absolute-form (RFC 9112 3.2.2). */
static int
is_metrics(const char *t, size_t n)
{
	if (n > 7 && strncasecmp(t, "http://", 7) == 0) {
		const char *slash = memchr(t + 7, '/', n - 7);
		if (!slash)
			return 0;
		n -= (size_t)(slash - t);
		t = slash;
	}
	return (n == 8 || (n > 8 && t[8] == '?')) && memcmp(t, "/metrics", 8) == 0;
}

/* The request line: "METHOD SP TARGET SP HTTP/1.x", exactly. */
static void
parse_request_line(const char *p, size_t n, struct request *rq, struct head *hd)
{
	const char *sp1 = memchr(p, ' ', n), *sp2, *t, *v;
	size_t ml, tl, vl;

	rq->status = 400;
	if (!sp1 || !(sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - p))))
		return;
	ml = (size_t)(sp1 - p);
	t = sp1 + 1;
	tl = (size_t)(sp2 - t);
	v = sp2 + 1;
	vl = n - (size_t)(v - p);
	if (ml == 0 || tl == 0)
		return;
	for (size_t i = 0; i < ml; i++)
		if (!tchar((unsigned char)p[i]))
			return;
	for (size_t i = 0; i < tl; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
			return;
	if (vl != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' ||
	    v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
		return;
	if (v[5] != '1') {
		rq->status = 505;
		return;
	}
	hd->http11 = v[7] != '0';
	/* a HEAD's answer has no body, whatever its status (RFC 9110 9.3.2):
	 * a keep-alive client would read one as the next answer */
	rq->head_only = ml == 4 && memcmp(p, "HEAD", 4) == 0;
	if (!is_metrics(t, tl))
		rq->status = 404;
	else if ((ml == 3 && memcmp(p, "GET", 3) == 0) || rq->head_only)
		rq->status = 200;
	else
		rq->status = 405;
}

/* One header field: 0, or -1 for a malformed one. */
static int
parse_field(const char *p, size_t n, struct head *hd)
{
	const char *colon = memchr(p, ':', n), *v;
	size_t nl, vl;

	if (!colon || colon == p)
		return -1;
	nl = (size_t)(colon - p);
	for (size_t i = 0; i < nl; i++)		/* no space before the colon either */
		if (!tchar((unsigned char)p[i]))
			return -1;
	v = colon + 1;
	vl = n - nl - 1;
	while (vl && (*v == ' ' || *v == '\t'))
		v++, vl--;
	while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	if (!value_ok(v, vl))
		return -1;
	if (nl == 4 && strncasecmp(p, "Host", 4) == 0) {
		hd->hosts++;
	} else if (nl == 10 && strncasecmp(p, "Connection", 10) == 0) {
		hd->conn_close |= list_has(v, vl, "close");
		hd->keep_alive |= list_has(v, vl, "keep-alive");
	} else if (nl == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
		if (vl == 0)
			return -1;
		for (size_t i = 0; i < vl; i++)
			if (v[i] < '0' || v[i] > '9')
				return -1;
			else if (v[i] != '0')
				hd->body = 1;
	} else if (nl == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
		hd->body = 1;
	}
	return 0;
}

/*
 * A whole request head, p[0..len) ending in its empty line: what to
 * answer.  Lines end in LF, a CR before it dropped (RFC 9112 2.2); a CR
 * anywhere else, a folded line or a control byte is a 400.
 */
static void
parse_request(const char *p, size_t len, struct request *rq)
{
	struct head hd = { 0 };
	int first = 1;
	size_t i = 0;

	memset(rq, 0, sizeof(*rq));
	rq->status = 400;
	while (i < len) {
		const char *line = p + i, *lf = memchr(line, '\n', len - i);
		size_t n = (size_t)(lf - line);	/* the head ends in LF: lf is found */

		i += n + 1;
		if (n && line[n - 1] == '\r')
			n--;
		if (n == 0)
			break;
		if (memchr(line, '\r', n) || !value_ok(line, n) ||
		    (!first && (line[0] == ' ' || line[0] == '\t'))) {
			rq->status = 400;
			break;
		}
		if (first) {
			parse_request_line(line, n, rq, &hd);
			if (rq->status == 400 || rq->status == 505)
				break;
			first = 0;
		} else if (parse_field(line, n, &hd) < 0) {
			rq->status = 400;
			break;
		}
	}
	/* RFC 9112 3.2: exactly one Host in 1.1, at most one in 1.0 */
	if (rq->status != 400 && rq->status != 505 &&
	    ((hd.http11 && hd.hosts != 1) || hd.hosts > 1))
		rq->status = 400;
	/* after a 400 the framing is unsure, after a body (unread) it is lost */
	rq->close = rq->status == 400 || rq->status == 505 || hd.body || hd.conn_close ||
	    (!hd.http11 && !hd.keep_alive);
	rq->http10 = !hd.http11;
}

/* The end of the head in c->in (just past its empty line), or 0. */
static size_t
head_end(struct mconn *c)
{
	size_t i = c->scanned;

	for (; i < c->inlen; i++) {
		if (c->in[i] != '\n')
			continue;
		if (i + 1 < c->inlen && c->in[i + 1] == '\n')
			return i + 2;
		if (i + 2 < c->inlen && c->in[i + 1] == '\r' && c->in[i + 2] == '\n')
			return i + 3;
	}
	/* the last two bytes may begin an end not yet whole */
	c->scanned = c->inlen > 2 ? c->inlen - 2 : 0;
	return 0;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Internal Server Error";
	}
}

/*
 * The answer, head and body, into c->out.  Connection: close when it is
 * the last; keep-alive when an HTTP/1.0 one stays open (RFC 9112 9.3:
 * else a 1.0 client reads until we close).  -ENOMEM if there is no
 * buffer at all.
 */
static int
answer(struct metrics_http *m, struct mconn *c, struct request *rq)
{
	char head[HEAD_OUT_MAX], date[64], err[64];
	char *body = NULL;
	size_t blen = 0, len;
	struct tm tm;
	time_t now = time(NULL);
	int h;

	if (rq->status == 200 && !(body = m->render(m->arg, &blen)))
		rq->status = 500;
	if (rq->status != 200)
		blen = (size_t)snprintf(err, sizeof(err), "%d %s\n", rq->status,
		    reason(rq->status));
	/* RFC 9110 6.6.1: an origin server with a clock sends Date (the C locale's names) */
	date[0] = '\0';
	if (gmtime_r(&now, &tm))
		strftime(date, sizeof(date), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
	h = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n%s"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n",
	    rq->status, reason(rq->status), date, rq->status == 200 ?
	    "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8",
	    blen, rq->status == 405 ? "Allow: GET, HEAD\r\n" : "",
	    rq->close ? "Connection: close\r\n" :
	    rq->http10 ? "Connection: keep-alive\r\n" : "");
	if (h < 0 || (size_t)h >= sizeof(head)) {
		free(body);
		return -EOVERFLOW;	/* cannot happen: the head is ours */
	}
	len = (size_t)h + (rq->head_only ? 0 : blen);
	free(c->out);
	if (!(c->out = malloc(len))) {
		free(body);
		return -ENOMEM;
	}
	memcpy(c->out, head, (size_t)h);
	if (!rq->head_only)
		memcpy(c->out + h, body ? body : err, blen);
	free(body);
	c->outoff = 0;
	c->outlen = len;
	c->closing = rq->close;
	m->stats.requests++;
	if (rq->status >= 400)
		m->stats.errors++;
	return 0;
}

/* The next whole request in the input, answered: 1; none yet: 0; -errno. */
static int
answer_next(struct metrics_http *m, struct mconn *c)
{
	struct request rq;
	size_t end, skip = 0;
	int r;

	/* RFC 9112 2.2: empty lines before a request line are ignored */
	while (skip < c->inlen && (c->in[skip] == '\n' ||
	    (c->in[skip] == '\r' && skip + 1 < c->inlen && c->in[skip + 1] == '\n')))
		skip += c->in[skip] == '\n' ? 1 : 2;
	if (skip) {
		memmove(c->in, c->in + skip, c->inlen - skip);
		c->inlen -= skip;
		c->scanned = 0;
	}
	if ((end = head_end(c)) == 0) {
		if (c->inlen < sizeof(c->in))
			return 0;
		memset(&rq, 0, sizeof(rq));
		rq.status = 431;
		rq.close = 1;
	} else {
		parse_request(c->in, end, &rq);
	}
	if ((r = answer(m, c, &rq)) < 0)
		return r;
	if (end) {
		memmove(c->in, c->in + end, c->inlen - end);
		c->inlen -= end;
	}
	c->scanned = 0;
	return 1;
}

/* Write what is pending.  0 (written or would block), or -errno. */
static int
conn_flush(struct metrics_http *m, struct mconn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->w.fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		c->outoff += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->outoff = c->outlen = 0;
	c->since = m->clock->ms;	/* a whole answer: the next request's time starts */
	return 0;
}

/*
 * Read and drop what is waiting, up to METRICS_HTTP_DRAIN_MAX: shutting
 * our side does not stop a TCP peer sending, so a fast one must not keep
 * the loop here.  The last recv's result (> 0 when the cap stopped it).
 */
static ssize_t
drain(int fd)
{
	char sink[4096];
	size_t total = 0;
	ssize_t n;

	do
		n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
	while (n > 0 && (total += (size_t)n) < METRICS_HTTP_DRAIN_MAX);
	return n;
}

/*
 * After the last answer: our side shut, what the client still sends read
 * and dropped until it closes (or METRICS_HTTP_LINGER_MS), since closing
 * with unread bytes would send a reset that can destroy the answer before
 * the client reads it.
 */
static void
conn_linger(struct metrics_http *m, struct mconn *c)
{
	ssize_t n;

	if (!c->linger) {
		c->linger = 1;
		c->since = m->clock->ms;
		if (shutdown(c->w.fd, SHUT_WR) != 0) {
			conn_close(m, c);
			return;
		}
	}
	n = drain(c->w.fd);
	/* more to read (level-triggered: we are back after the others), or none yet */
	if ((n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR))) && !c->eof &&
	    conn_want(m, c, EPOLLIN) == 0)
		return;
	conn_close(m, c);
}

/* Everything a connection can do now: write, answer what is whole, read. */
static void
conn_work(struct metrics_http *m, struct mconn *c)
{
	int answers = 0, r;

	for (;;) {
		ssize_t n;

		if (c->outoff < c->outlen) {
			if (conn_flush(m, c) < 0)
				break;
			if (c->outoff < c->outlen) {
				if (conn_want(m, c, EPOLLOUT) < 0)
					break;
				return;
			}
		}
		if (c->closing) {
			conn_linger(m, c);
			return;
		}
		if (answers == ANSWERS_PER_WAKEUP) {
			/* writable at once: we are back after the others */
			if (conn_want(m, c, EPOLLOUT) < 0)
				break;
			return;
		}
		if ((r = answer_next(m, c)) < 0)
			break;
		if (r > 0) {
			answers++;
			continue;
		}
		if (c->eof)
			break;		/* only a part of a request: nothing to answer */
		n = recv(c->w.fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);
		if (n > 0) {
			c->inlen += (size_t)n;
			continue;
		}
		if (n == 0) {
			c->eof = 1;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || conn_want(m, c, EPOLLIN) < 0)
			break;
		return;
	}
	conn_close(m, c);
}

void
metrics_http_dispatch_client(struct metrics_http *m, struct watched *w, uint32_t events)
{
	struct mconn *c = (struct mconn *)w;

	(void)events;	/* what recv and send say counts, not a stale flag */
	if (c->w.fd < 0)
		return;
	if (c->linger)
		conn_linger(m, c);
	else
		conn_work(m, c);
}

/* The last resort when even the spare is gone: a second without the listener. */
static void
listen_pause(struct metrics_http *m, struct watched *w)
{
	struct epoll_event ev = { .events = 0, .data.ptr = w };

	if (epoll_ctl(m->epfd, EPOLL_CTL_MOD, w->fd, &ev) != 0)
		return;
	m->paused = w;
	m->paused_until = m->clock->ms + LISTEN_PAUSE_MS;
}

/*
 * Over the cap: accepted (so it does not wait in the backlog) and told
 * why, best effort, then closed.  What it sent already is read first
 * (up to METRICS_HTTP_DRAIN_MAX): closing with unread bytes would reset
 * the connection over the 503.
 */
static void
refuse(struct metrics_http *m, int fd)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 24\r\n"
	    "Connection: close\r\n\r\n503 Service Unavailable\n";
	drain(fd);	/* past its cap, the close resets: the 503 may be lost */
	send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
	m->stats.refused++;
}

void
metrics_http_dispatch_listen(struct metrics_http *m, struct watched *w)
{
	static struct log_limit rl;	/* a full table repeats this at will */
	struct mconn *c = NULL;
	int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), r;

	if (fd < 0) {
		if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
			return;
		log_warn_limited(&rl, "metrics: accept");
		if (errno != EMFILE && errno != ENFILE) {
			listen_pause(m, w);	/* ENOMEM, ENOBUFS: a second's rest */
			return;
		}
		/* out of descriptors: the spare takes it off the backlog */
		r = spare_turn_away(&m->spare_fd, m->epfd, w->fd, 0);
		if (r == 0)
			m->stats.refused++;
		else if (r == -EBADF || r == -EMFILE || r == -ENFILE)
			listen_pause(m, w);
		return;
	}
	for (size_t i = 0; i < METRICS_HTTP_MAX_CONNS && !c; i++)
		if (m->conns[i].w.fd < 0)
			c = &m->conns[i];
	if (!c) {
		refuse(m, fd);
		return;
	}
	c->w.fd = fd;
	if (loop_watch(m->epfd, &c->w, EPOLLIN, &c->w) < 0) {
		close(fd);
		c->w.fd = -1;
		return;
	}
	c->events = EPOLLIN;
	c->since = m->clock->ms;
	m->nconns++;
}

static uint64_t
conn_deadline(const struct mconn *c)
{
	return c->since + (c->linger ? METRICS_HTTP_LINGER_MS : METRICS_HTTP_IDLE_MS);
}

void
metrics_http_tick(struct metrics_http *m)
{
	for (size_t i = 0; i < METRICS_HTTP_MAX_CONNS; i++) {
		struct mconn *c = &m->conns[i];
		if (c->w.fd < 0 || conn_deadline(c) > m->clock->ms)
			continue;
		if (!c->linger)
			m->stats.timeouts++;
		conn_close(m, c);
	}
	if (m->paused && m->clock->ms >= m->paused_until) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = m->paused };

		spare_take(&m->spare_fd, m->epfd);
		epoll_ctl(m->epfd, EPOLL_CTL_MOD, m->paused->fd, &ev);
		m->paused = NULL;
	}
}

uint64_t
metrics_http_next_deadline(const struct metrics_http *m)
{
	uint64_t next = m->paused ? m->paused_until : UINT64_MAX;

	for (size_t i = 0; i < METRICS_HTTP_MAX_CONNS; i++)
		if (m->conns[i].w.fd >= 0 && conn_deadline(&m->conns[i]) < next)
			next = conn_deadline(&m->conns[i]);
	return next;
}

struct metrics_http *
metrics_http_new(int epfd, const struct loop_clock *clock, metrics_render_fn render,
    void *arg)
{
	struct metrics_http *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->epfd = epfd;
	m->clock = clock;
	m->render = render;
	m->arg = arg;
	m->spare_fd = -1;
	spare_take(&m->spare_fd, epfd);
	for (size_t i = 0; i < METRICS_HTTP_MAX_CONNS; i++) {
		m->conns[i].w.kind = K_METRICS_CLIENT;
		m->conns[i].w.fd = -1;
	}
	return m;
}

void
metrics_http_free(struct metrics_http *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < METRICS_HTTP_MAX_CONNS; i++)
		if (m->conns[i].w.fd >= 0)
			conn_close(m, &m->conns[i]);
	spare_close(&m->spare_fd);
	free(m);
}

const struct metrics_http_stats *
metrics_http_stats(const struct metrics_http *m)
{
	return &m->stats;
}

size_t
metrics_http_nconns(const struct metrics_http *m)
{
	return m->nconns;
}
