/*
 * fuzz_http: the GET /metrics endpoint (roles/server/metrics_http.c)
 * through its public interface only: a metrics_http over a real epoll
 * descriptor, a listening UNIX stream socket (abstract, autobound) as its
 * listener, clients that connect to it, a stub body and a clock the input
 * moves, so the idle and linger bounds are crossed without sleeping.
 *
 * Input: byte 0 picks the body (bits 0-1: 100 bytes, empty, 250000 (more
 * than a socket holds: partial writes), or a renderer that fails: 500),
 * whether clients read only when told (bit 2) and whether the clock runs
 * past every bound before the end (bit 3).  The rest is what the clients send, cut into pieces by the two
 * bytes 00 00 and an op byte; between pieces the server runs until it is
 * quiet.  The op's low 3 bits: 0 just a cut; 1 the clock moves (op>>3) x
 * 250 ms; 2 it moves METRICS_HTTP_IDLE_MS - 1 + (op>>3) ms; 3 the client
 * shuts its writing side; 4 it reads; 5 the bytes go to client (op>>3) %
 * 20 from now on (connected when first used); 6 the client closes (the
 * next bytes go on a new connection); 7 (op>>3) + 1 more clients connect
 * and stay silent (past 16: turned away).
 *
 * Invariants: no crash, no leak (ASan); every response is "HTTP/1.1 "
 * and a 3-digit status of the module's set, with Content-Length and a
 * body that says the status (or the rendering, for a GET that got 200);
 * a response answers the next whole request head its client sent (or the
 * 8 KiB of one that did not end: 431), in order; 200 (and 500, when the
 * renderer fails) only for "GET" or "HEAD" of /metrics (origin or absolute
 * form, a query allowed) in HTTP/1.x, with exactly one Host in 1.1, at
 * most one in 1.0; 404 only for another target, 405 only for another
 * method; no body for HEAD unless the connection ends after it (and then
 * only the one Content-Length gives); 400, 431 and 505, a request with a
 * body or "Connection: close", or HTTP/1.0 without keep-alive, answered
 * with "Connection: close", and nothing after such an answer; 503 only
 * as a turned-away client's one answer.  After each tick no deadline is
 * due; at most 16 connections; the counters are at least what the
 * clients saw; after metrics_http_free every client reads the end of its
 * stream and the process holds the descriptors it held before.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "roles/server/metrics_http.h"
#include "tests/fuzz/fuzz.h"

#define NCLIENTS	20
#define HEAD_MAX	METRICS_HTTP_HEAD_MAX

static const size_t body_sizes[4] = { 100, 0, 250000, 0 };

static int epfd = -1;
static struct watched lw = { .kind = K_METRICS_LISTEN, .fd = -1 };
static struct sockaddr_un laddr;
static socklen_t laddrlen;
static struct loop_clock clk;
static struct metrics_http *m;
static size_t body_size;
static int render_fails;	/* the renderer gives NULL: 500 */
static int lazy;
static size_t refused_seen, answers_seen, errors_seen;

struct hclient {
	int fd;			/* -1: not connected */
	int shut;		/* our writing side is shut */
	int eof;		/* the server's side ended */
	int last;		/* an answer said it was the last */
	int refused;		/* the one answer was a 503 */
	unsigned char *sent;	/* what reached the socket, in order */
	size_t sentlen, sentcap;
	size_t cursor;		/* where the next request head starts in sent[] */
	unsigned char *in;	/* read and not yet taken as responses */
	size_t inlen, incap;
	size_t nresp;
	/* an answer to HEAD that ends the connection: what may follow is its body */
	int tail_body;
	char tail_expect[64];
	size_t tail_len, tail_got;
};
static struct hclient cl[NCLIENTS];

/* The body: a pattern a GET's response must carry exactly. */
static void
fill_body(char *buf, size_t n)
{
	static const char pat[] = "fdtool_fuzz_metric{a=\"b\"} 1\n";

	for (size_t i = 0; i < n; i++)
		buf[i] = pat[i % (sizeof(pat) - 1)];
}

static char *
render(void *arg, size_t *len)
{
	char *body;

	(void)arg;
	if (render_fails)
		return NULL;
	FUZZ_CHECK((body = malloc(body_size ? body_size : 1)) != NULL, "out of memory");
	fill_body(body, body_size);
	*len = body_size;
	return body;
}

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	FUZZ_CHECK(d != NULL, "no /proc/self/fd");
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
init_once(void)
{
	if (epfd >= 0)
		return;
	FUZZ_CHECK((epfd = epoll_create1(EPOLL_CLOEXEC)) >= 0, "epoll_create1");
	lw.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	FUZZ_CHECK(lw.fd >= 0, "socket");
	/* an abstract name the kernel picks: nothing in the file system */
	laddr.sun_family = AF_UNIX;
	FUZZ_CHECK(bind(lw.fd, (struct sockaddr *)&laddr, sizeof(sa_family_t)) == 0, "bind");
	laddrlen = sizeof(laddr);
	FUZZ_CHECK(getsockname(lw.fd, (struct sockaddr *)&laddr, &laddrlen) == 0,
	    "getsockname");
	FUZZ_CHECK(listen(lw.fd, 128) == 0, "listen");
	FUZZ_CHECK(loop_watch(epfd, &lw, EPOLLIN, &lw) == 0, "loop_watch");
	for (size_t i = 0; i < NCLIENTS; i++)
		cl[i].fd = -1;
}

static void
grow(unsigned char **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	while (*cap < need)
		*cap = *cap ? *cap * 2 : 4096;
	FUZZ_CHECK((*p = realloc(*p, *cap)) != NULL, "out of memory");
}

/* ---- the model: what the next response must answer --------------------- */

static int
ci_prefix(const unsigned char *p, size_t n, const char *s)
{
	size_t l = strlen(s);

	return n >= l && strncasecmp((const char *)p, s, l) == 0;
}

/* Whether the comma-separated value v[0..n) lists tok. */
static int
has_token(const unsigned char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok), i = 0;

	while (i < n) {
		size_t s, e;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		for (s = i; i < n && v[i] != ','; i++)
			;
		for (e = i; e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'); e--)
			;
		if (e - s == tl && strncasecmp((const char *)v + s, tok, tl) == 0)
			return 1;
	}
	return 0;
}

/* /metrics, or /metrics?..., or http://AUTHORITY/metrics[?...]. */
static int
metrics_target(const unsigned char *t, size_t n)
{
	if (ci_prefix(t, n, "http://") && n > 7) {
		const unsigned char *slash = memchr(t + 7, '/', n - 7);

		if (!slash)
			return 0;
		n -= (size_t)(slash - t);
		t = slash;
	}
	return n >= 8 && memcmp(t, "/metrics", 8) == 0 && (n == 8 || t[8] == '?');
}

struct req {
	int too_long;		/* 8 KiB without an end: 431 */
	int line_ok;		/* "TOKEN SP TARGET SP HTTP/d.d" */
	int head;		/* the method is HEAD (as a client reads its line) */
	int get_or_head;	/* exactly GET or HEAD */
	int metrics;		/* the target is /metrics */
	int http1, http10;
	int hosts;		/* Host fields */
	int must_close;		/* a body, Connection: close, 1.0 without keep-alive */
};

/* The next request head in c->sent from c->cursor: 1 and *rq, or 0 if none is whole. */
static int
next_request(struct hclient *c, struct req *rq)
{
	const unsigned char *s = c->sent;
	size_t i = c->cursor, n = c->sentlen, start, end = 0;
	int keep_alive = 0;

	memset(rq, 0, sizeof(*rq));
	/* empty lines before a request line are skipped */
	while (i < n && (s[i] == '\n' || (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')))
		i += s[i] == '\n' ? 1 : 2;
	start = i;
	for (; i < n && i - start < HEAD_MAX; i++) {
		if (s[i] != '\n')
			continue;
		if (i + 1 < n && s[i + 1] == '\n') {
			end = i + 2;
			break;
		}
		if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
			end = i + 3;
			break;
		}
	}
	if (end == 0 || end - start > HEAD_MAX) {
		if (n - start < HEAD_MAX)
			return 0;
		rq->too_long = 1;
		c->cursor = n;
		return 1;
	}
	c->cursor = end;
	/* the request line */
	{
		const unsigned char *line = s + start, *lf = memchr(line, '\n', end - start);
		size_t ll = (size_t)(lf - line);
		const unsigned char *sp1, *sp2;

		if (ll && line[ll - 1] == '\r')
			ll--;
		sp1 = memchr(line, ' ', ll);
		rq->head = sp1 && sp1 - line == 4 && memcmp(line, "HEAD", 4) == 0;
		if (sp1 && (sp2 = memchr(sp1 + 1, ' ', ll - (size_t)(sp1 + 1 - line)))) {
			const unsigned char *v = sp2 + 1;
			size_t vl = ll - (size_t)(v - line);

			rq->line_ok = vl == 8 && memcmp(v, "HTTP/", 5) == 0 && v[6] == '.' &&
			    v[5] >= '0' && v[5] <= '9' && v[7] >= '0' && v[7] <= '9';
			rq->http1 = rq->line_ok && v[5] == '1';
			rq->http10 = rq->http1 && v[7] == '0';
			rq->get_or_head = (sp1 - line == 3 && memcmp(line, "GET", 3) == 0) ||
			    rq->head;
			rq->metrics = metrics_target(sp1 + 1, (size_t)(sp2 - sp1 - 1));
		}
		i = start + (size_t)(lf - line) + 1;
	}
	/* the fields, as far as the model needs them */
	while (i < end) {
		const unsigned char *line = s + i, *lf = memchr(line, '\n', end - i), *v;
		size_t ll = (size_t)(lf - line), vl;

		i += ll + 1;
		if (ll && line[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			break;
		if (!(v = memchr(line, ':', ll)))
			continue;
		v++;
		vl = ll - (size_t)(v - line);
		if (ci_prefix(line, ll, "host:")) {
			rq->hosts++;
		} else if (ci_prefix(line, ll, "connection:")) {
			rq->must_close |= has_token(v, vl, "close");
			keep_alive |= has_token(v, vl, "keep-alive");
		} else if (ci_prefix(line, ll, "transfer-encoding:")) {
			rq->must_close = 1;
		} else if (ci_prefix(line, ll, "content-length:")) {
			for (size_t k = 0; k < vl; k++)
				if (v[k] != '0' && v[k] != ' ' && v[k] != '\t')
					rq->must_close = 1;
		}
	}
	if (rq->http10 && !keep_alive)
		rq->must_close = 1;
	return 1;
}

/* ---- the client side: responses as they arrive ------------------------- */

static const char *
reason_of(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return NULL;
	}
}

static void
consume(struct hclient *c, size_t n)
{
	memmove(c->in, c->in + n, c->inlen - n);
	c->inlen -= n;
}

static void
counted(struct hclient *c, int status)
{
	c->nresp++;
	if (status == 503) {
		refused_seen++;
		return;
	}
	answers_seen++;
	if (status >= 400)
		errors_seen++;
}

/* Take every whole response in c->in; check each against the request it answers. */
static void
take_responses(struct hclient *c)
{
	static const char proto[] = "HTTP/1.1 ";

	for (;;) {
		const unsigned char *end, *p;
		const char *reason, *cl_at;
		char head[1024];
		size_t hl, clen, blen, bodylen, cursor = c->cursor;
		int status, close_it;
		struct req rq;

		if (c->tail_body) {
			/* the rest is the body of an answer to HEAD, or nothing */
			FUZZ_CHECK(c->tail_got + c->inlen <= c->tail_len &&
			    memcmp(c->in, c->tail_expect + c->tail_got, c->inlen) == 0,
			    "bytes after the last answer (to HEAD) that are not its body");
			c->tail_got += c->inlen;
			c->inlen = 0;
			return;
		}
		if (c->inlen == 0)
			return;
		FUZZ_CHECK(!c->last && !c->refused, "%zu bytes after the last answer: %.*s",
		    c->inlen, (int)(c->inlen < 40 ? c->inlen : 40), (const char *)c->in);
		FUZZ_CHECK(memcmp(c->in, proto, c->inlen < 9 ? c->inlen : 9) == 0,
		    "a response starts \"%.*s\"", (int)(c->inlen < 16 ? c->inlen : 16),
		    (const char *)c->in);
		if (!(end = memmem(c->in, c->inlen, "\r\n\r\n", 4)))
			return;
		hl = (size_t)(end - c->in) + 4;
		FUZZ_CHECK(hl < sizeof(head), "a response head of %zu bytes", hl);
		memcpy(head, c->in, hl);
		head[hl] = '\0';
		p = (const unsigned char *)head + 9;
		FUZZ_CHECK(p[0] >= '1' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' &&
		    p[2] >= '0' && p[2] <= '9' && p[3] == ' ', "no 3-digit status: %s", head);
		status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		FUZZ_CHECK((reason = reason_of(status)) != NULL, "status %d", status);
		FUZZ_CHECK(strncmp((const char *)p + 4, reason, strlen(reason)) == 0 &&
		    strncmp((const char *)p + 4 + strlen(reason), "\r\n", 2) == 0,
		    "status line: %s", head);
		FUZZ_CHECK((cl_at = strstr(head, "\r\nContent-Length: ")) != NULL,
		    "no Content-Length: %s", head);
		clen = strtoul(cl_at + 18, NULL, 10);
		close_it = strstr(head, "\r\nConnection: close\r\n") != NULL;

		if (status == 503) {
			FUZZ_CHECK(c->nresp == 0 && close_it, "a 503 not as the only answer");
			FUZZ_CHECK(metrics_http_stats(m)->refused > refused_seen,
			    "a 503 the counters do not know");
			blen = clen;
			rq = (struct req){ 0 };
		} else {
			FUZZ_CHECK(next_request(c, &rq), "a %d answers no whole request", status);
			if (rq.too_long)
				FUZZ_CHECK(status == 431, "%d, not 431, for 8 KiB of head", status);
			else
				FUZZ_CHECK(status != 431, "431 for a head that ended in 8 KiB");
			if (status == 200 || status == 500) {
				FUZZ_CHECK(rq.line_ok && rq.http1 && rq.get_or_head && rq.metrics,
				    "%d for something other than GET or HEAD /metrics", status);
				FUZZ_CHECK(rq.http10 ? rq.hosts <= 1 : rq.hosts == 1,
				    "%d for a request with %d Host fields", status, rq.hosts);
				FUZZ_CHECK((status == 500) == render_fails,
				    "%d with a renderer that %s", status,
				    render_fails ? "fails" : "works");
			}
			if (status == 404)
				FUZZ_CHECK(rq.line_ok && rq.http1 && !rq.metrics,
				    "404 for /metrics");
			if (status == 405)
				FUZZ_CHECK(rq.line_ok && rq.http1 && rq.metrics && !rq.get_or_head,
				    "405 for GET or HEAD, or another target");
			if (status == 505)
				FUZZ_CHECK(rq.line_ok && !rq.http1, "505 for HTTP/1.x");
			if (status == 400 || status == 431 || status == 505 || rq.must_close)
				FUZZ_CHECK(close_it, "%d without Connection: close", status);
			blen = rq.head ? 0 : clen;
		}
		/* the body: the rendering, or the status said again */
		if (status == 200) {
			FUZZ_CHECK(clen == body_size, "Content-Length %zu for a %zu-byte body",
			    clen, body_size);
		} else {
			char want[64];

			bodylen = (size_t)snprintf(want, sizeof(want), "%d %s\n", status, reason);
			FUZZ_CHECK(clen == bodylen, "Content-Length %zu for \"%s\"", clen, want);
			if (rq.head && close_it) {
				/* the connection ends: a body there is harmless, if it is the one */
				consume(c, hl);
				counted(c, status);
				c->last = 1;
				c->tail_body = 1;
				memcpy(c->tail_expect, want, bodylen);
				c->tail_len = bodylen;
				c->tail_got = 0;
				continue;
			}
		}
		if (c->inlen < hl + blen) {
			c->cursor = cursor;	/* taken again when it is whole */
			return;
		}
		if (blen) {
			const unsigned char *b = c->in + hl;

			if (status == 200) {
				static char *want;
				static size_t wantcap;

				if (wantcap < blen) {
					FUZZ_CHECK((want = realloc(want, blen)) != NULL, "memory");
					wantcap = blen;
				}
				fill_body(want, blen);
				FUZZ_CHECK(memcmp(b, want, blen) == 0, "a 200 whose body is not ours");
			} else {
				char want[64];

				snprintf(want, sizeof(want), "%d %s\n", status, reason);
				FUZZ_CHECK(memcmp(b, want, blen) == 0, "the body of a %d is \"%.*s\"",
				    status, (int)blen, (const char *)b);
			}
		}
		consume(c, hl + blen);
		counted(c, status);
		if (close_it)
			c->last = 1;
		if (status == 503)
			c->refused = 1;
	}
}

/* Read what the server sent: the number of bytes. */
static size_t
client_read(struct hclient *c)
{
	size_t got = 0;

	if (c->fd < 0 || c->eof)
		return 0;
	for (;;) {
		ssize_t n;

		grow(&c->in, &c->incap, c->inlen + 65536);
		n = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, MSG_DONTWAIT);
		if (n > 0) {
			c->inlen += (size_t)n;
			got += (size_t)n;
			take_responses(c);
			continue;
		}
		if (n == 0 || errno == ECONNRESET)
			c->eof = 1;
		else
			FUZZ_CHECK(errno == EAGAIN || errno == EINTR, "recv: %s", strerror(errno));
		return got;
	}
}

/* ---- the loop ------------------------------------------------------------ */

static void
tick(void)
{
	uint64_t next;

	metrics_http_tick(m);
	next = metrics_http_next_deadline(m);
	FUZZ_CHECK(next > clk.ms, "a deadline %llu ms ago survived the tick",
	    (unsigned long long)(clk.ms - next));
	FUZZ_CHECK(metrics_http_nconns(m) <= METRICS_HTTP_MAX_CONNS, "%zu connections",
	    metrics_http_nconns(m));
}

/* Every ready event dispatched, then the tick, until nothing is ready. */
static void
pump(void)
{
	for (int round = 0;; round++) {
		struct epoll_event ev[32];
		int n = epoll_wait(epfd, ev, 32, 0);

		FUZZ_CHECK(round < 5000, "the server never goes quiet");
		FUZZ_CHECK(n >= 0 || errno == EINTR, "epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			struct watched *w = ev[i].data.ptr;

			if (w->kind == K_METRICS_LISTEN)
				metrics_http_dispatch_listen(m, w);
			else
				metrics_http_dispatch_client(m, w, ev[i].events);
		}
		tick();
		if (n == 0)
			return;
	}
}

/* The server runs until quiet; eager clients read, and it runs again. */
static void
settle(int read_all)
{
	for (int round = 0; round < 1000; round++) {
		size_t got = 0;

		pump();
		if (lazy && !read_all)
			return;
		for (size_t i = 0; i < NCLIENTS; i++)
			got += client_read(&cl[i]);
		if (got == 0)
			return;
	}
	FUZZ_CHECK(0, "clients never stop reading");
}

static void
advance(uint64_t ms)
{
	clk.ms += ms;
	clk.s = clk.ms / 1000;
	tick();
	settle(0);
}

static void
client_open(struct hclient *c)
{
	if (c->fd >= 0)
		return;
	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	FUZZ_CHECK(c->fd >= 0, "socket: %s", strerror(errno));
	FUZZ_CHECK(connect(c->fd, (struct sockaddr *)&laddr, laddrlen) == 0, "connect: %s",
	    strerror(errno));
}

static void
client_close(struct hclient *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->sent);
	free(c->in);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* What the client sends: all of it, unless the server stops taking it. */
static void
client_send(struct hclient *c, const uint8_t *p, size_t n)
{
	int stuck = 0;

	client_open(c);
	settle(0);
	while (n > 0 && !c->shut) {
		ssize_t k = send(c->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (k > 0) {
			grow(&c->sent, &c->sentcap, c->sentlen + (size_t)k);
			memcpy(c->sent + c->sentlen, p, (size_t)k);
			c->sentlen += (size_t)k;
			p += k;
			n -= (size_t)k;
			stuck = 0;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN && stuck++ < 3) {
			settle(0);
			client_read(c);
			continue;
		}
		FUZZ_CHECK(k < 0 && (errno == EAGAIN || errno == EPIPE || errno == ECONNRESET),
		    "send: %zd, %s", k, strerror(errno));
		break;
	}
	settle(0);
}

static void
op(struct hclient **cur, uint8_t o)
{
	unsigned arg = o >> 3;

	switch (o & 7) {
	case 0:
		break;
	case 1:
		advance((uint64_t)arg * 250);
		break;
	case 2:
		advance(METRICS_HTTP_IDLE_MS - 1 + arg);
		break;
	case 3:
		if ((*cur)->fd >= 0 && !(*cur)->shut) {
			shutdown((*cur)->fd, SHUT_WR);
			(*cur)->shut = 1;
		}
		settle(0);
		break;
	case 4:
		client_read(*cur);
		settle(0);
		break;
	case 5:
		*cur = &cl[arg % NCLIENTS];
		break;
	case 6:
		client_close(*cur);
		settle(0);
		break;
	case 7:
		for (size_t i = 0, k = 0; i < NCLIENTS && k <= arg; i++)
			if (cl[i].fd < 0) {
				client_open(&cl[i]);
				k++;
			}
		settle(0);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &lw };
	struct hclient *cur = &cl[0];
	const struct metrics_http_stats *st;
	size_t i, start;
	int fds;

	if (size == 0)
		return 0;
	init_once();
	/* a listener the last run paused is watched again */
	FUZZ_CHECK(epoll_ctl(epfd, EPOLL_CTL_MOD, lw.fd, &ev) == 0, "epoll_ctl");
	fds = count_fds();
	clk.ms = 1000000;
	clk.s = clk.ms / 1000;
	body_size = body_sizes[data[0] & 3];
	render_fails = (data[0] & 3) == 3;
	lazy = (data[0] >> 2) & 1;
	refused_seen = answers_seen = errors_seen = 0;
	FUZZ_CHECK((m = metrics_http_new(epfd, &clk, render, NULL)) != NULL, "metrics_http_new");

	for (i = start = 1; i <= size; i++) {
		int cut = i + 2 < size && data[i] == 0 && data[i + 1] == 0;

		if (!cut && i < size)
			continue;
		if (i > start)
			client_send(cur, data + start, i - start);
		if (!cut)
			break;
		op(&cur, data[i + 2]);
		i += 2;
		start = i + 1;
	}

	/* the end: everything read, the clock past every bound if asked */
	settle(1);
	if (data[0] & 8) {
		advance(METRICS_HTTP_IDLE_MS);
		settle(1);
		advance(METRICS_HTTP_IDLE_MS);
		settle(1);
		FUZZ_CHECK(metrics_http_nconns(m) == 0, "%zu connections outlived every bound",
		    metrics_http_nconns(m));
	}
	st = metrics_http_stats(m);
	FUZZ_CHECK(st->requests >= answers_seen && st->errors >= errors_seen &&
	    st->errors <= st->requests && st->refused >= refused_seen,
	    "counters: requests %llu errors %llu refused %llu, clients saw %zu, %zu, %zu",
	    (unsigned long long)st->requests, (unsigned long long)st->errors,
	    (unsigned long long)st->refused, answers_seen, errors_seen, refused_seen);
	metrics_http_free(m);
	m = NULL;
	/* anything still in the backlog: accepted and closed here */
	for (int fd; (fd = accept4(lw.fd, NULL, NULL, SOCK_CLOEXEC)) >= 0;)
		close(fd);
	for (i = 0; i < NCLIENTS; i++) {
		struct hclient *c = &cl[i];

		if (c->fd >= 0) {
			client_read(c);
			FUZZ_CHECK(c->eof, "client %zu: its connection is still open after free", i);
		}
		client_close(c);
	}
	FUZZ_CHECK(count_fds() == fds, "%d descriptors before, %d after", fds, count_fds());
	return 0;
}
