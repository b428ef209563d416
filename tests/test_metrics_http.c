/*
 * metrics_http: the GET /metrics endpoint driven in-process over loopback
 * with a stub body and a clock the test moves: status codes, keep-alive
 * and pipelining, malformed and oversized heads, idle and slow clients,
 * the connection cap, and no descriptor left behind.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "roles/server/metrics_http.h"
#include "tests/helpers.h"

static int epfd = -1;
static struct watched lw = { .kind = K_METRICS_LISTEN, .fd = -1 };
static struct loop_clock clk = { .ms = 1000000 };
static struct metrics_http *m;
static struct sockaddr_in addr;
static int fds_before;
static size_t body_size = 100;	/* what the stub renders */
static unsigned renders;

/* "x" * body_size, ending in a newline; none (a 500) when body_size is 0. */
static char *
render(void *arg, size_t *len)
{
	char *p;

	(void)arg;
	renders++;
	if (body_size == 0 || !(p = malloc(body_size)))
		return NULL;
	memset(p, 'x', body_size);
	p[body_size - 1] = '\n';
	*len = body_size;
	return p;
}

static void
setup(void)
{
	socklen_t len = sizeof(addr);

	fds_before = count_fds(0);
	body_size = 100;
	renders = 0;
	cr_assert_geq(epfd = epoll_create1(EPOLL_CLOEXEC), 0);
	cr_assert_geq(lw.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), 0);
	addr = (struct sockaddr_in){ .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(bind(lw.fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	cr_assert_eq(listen(lw.fd, 64), 0);
	cr_assert_eq(getsockname(lw.fd, (struct sockaddr *)&addr, &len), 0);
	cr_assert_eq(loop_watch(epfd, &lw, EPOLLIN, &lw), 0);
	cr_assert_not_null(m = metrics_http_new(epfd, &clk, render, NULL));
}

/* Everything closed: the descriptor count is where it was. */
static void
teardown(void)
{
	metrics_http_free(m);
	m = NULL;
	close(lw.fd);
	close(epfd);
	cr_assert_eq(count_fds(0), fds_before, "descriptors leaked: %d before, %d after",
	    fds_before, count_fds(0));
}

TestSuite(metrics_http, .init = setup, .timeout = 20);

/* The loop: every ready event dispatched, then the tick, until quiet. */
static void
pump(void)
{
	for (int round = 0; round < 50; round++) {
		struct epoll_event ev[16];
		int n = epoll_wait(epfd, ev, 16, round == 0 ? 5 : 0);
		for (int i = 0; i < n; i++) {
			struct watched *w = ev[i].data.ptr;
			if (w->kind == K_METRICS_LISTEN)
				metrics_http_dispatch_listen(m, w);
			else
				metrics_http_dispatch_client(m, w, ev[i].events);
		}
		metrics_http_tick(m);
		if (n == 0)
			return;
	}
}

static int
client(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	pump();
	return fd;
}

static void
say(int fd, const char *s)
{
	cr_assert_eq(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* What a client has read and not yet taken as responses. */
struct inbox {
	char buf[1 << 20];
	size_t len;
	int eof;
};
static struct inbox in;

static void
inbox_reset(void)
{
	in.len = 0;
	in.eof = 0;
}

static void
inbox_fill(int fd)
{
	ssize_t n;

	while (in.len < sizeof(in.buf) &&
	    (n = recv(fd, in.buf + in.len, sizeof(in.buf) - in.len, MSG_DONTWAIT)) != 0) {
		if (n < 0) {
			if (errno == ECONNRESET)
				in.eof = 1;
			return;
		}
		in.len += (size_t)n;
	}
	if (in.len < sizeof(in.buf))
		in.eof = 1;
}

struct response {
	int status;
	char head[1024];
	size_t body;
};

/*
 * The next response on fd (pumping the server meanwhile): its status,
 * head and body length; -1 if the connection ended first.
 */
static int
response(int fd, int head_only, struct response *r)
{
	for (int tries = 0; tries < 200; tries++) {
		char *end;
		const char *cl;
		size_t hl, bl;

		inbox_fill(fd);
		if ((end = memmem(in.buf, in.len, "\r\n\r\n", 4))) {
			hl = (size_t)(end - in.buf) + 4;
			cr_assert_lt(hl, sizeof(r->head));
			memcpy(r->head, in.buf, hl);
			r->head[hl] = '\0';
			cl = strcasestr(r->head, "\r\nContent-Length: ");
			cr_assert_not_null(cl, "no Content-Length in %s", r->head);
			bl = head_only ? 0 : strtoul(cl + 18, NULL, 10);
			r->body = strtoul(cl + 18, NULL, 10);
			if (in.len >= hl + bl) {
				cr_assert_eq(sscanf(r->head, "HTTP/1.1 %d ", &r->status), 1, "%s",
				    r->head);
				memmove(in.buf, in.buf + hl + bl, in.len - hl - bl);
				in.len -= hl + bl;
				return r->status;
			}
		}
		if (in.eof)
			return -1;
		pump();
	}
	cr_assert_fail("no response");
	return -1;
}

/* Whether the server has closed fd (after what it sent). */
static int
closed(int fd)
{
	for (int tries = 0; tries < 100 && !in.eof; tries++) {
		pump();
		inbox_fill(fd);
	}
	return in.eof;
}

#define GET "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"

Test(metrics_http, get_head_keepalive)
{
	struct response r;
	int fd = client();

	inbox_reset();
	say(fd, GET);
	cr_assert_eq(response(fd, 0, &r), 200);
	cr_assert_not_null(strstr(r.head,
	    "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), "%s", r.head);
	cr_assert_eq(r.body, 100);
	cr_assert_null(strcasestr(r.head, "Connection: close"));
	cr_assert_not_null(strstr(r.head, "\r\nDate: "), "%s", r.head);
	say(fd, "HEAD /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
	cr_assert_eq(response(fd, 1, &r), 200);
	cr_assert_eq(r.body, 100, "HEAD: the length GET would have");
	say(fd, "GET /metrics?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
	cr_assert_eq(response(fd, 0, &r), 200);
	cr_assert_eq(in.len, 0, "nothing after the body");
	cr_assert_eq(metrics_http_nconns(m), 1);
	cr_assert_eq(metrics_http_stats(m)->requests, 3);
	close(fd);
	pump();
	cr_assert_eq(metrics_http_nconns(m), 0);
	teardown();
}

Test(metrics_http, not_found_and_method)
{
	struct response r;
	int fd = client();

	inbox_reset();
	say(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert_eq(response(fd, 0, &r), 404);
	say(fd, "GET /metricsx HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert_eq(response(fd, 0, &r), 404);
	say(fd, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(response(fd, 0, &r), 405);
	cr_assert_not_null(strstr(r.head, "\r\nAllow: GET, HEAD\r\n"), "%s", r.head);
	say(fd, "DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	cr_assert_eq(response(fd, 0, &r), 405);
	/* the connection survives them all */
	say(fd, GET);
	cr_assert_eq(response(fd, 0, &r), 200);
	cr_assert_eq(metrics_http_stats(m)->errors, 4);
	close(fd);
	teardown();
}

/* Each gets its error and the connection closed. */
static const struct {
	const char *req;
	int status;
} bad[] = {
	{ "GARBAGE\r\n\r\n", 400 },
	{ "GET /metrics\r\n\r\n", 400 },
	{ "GET /metrics HTTP/1.1\r\n\r\n", 400 },				/* no Host */
	{ "GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
	{ "GET /metrics HTTP/1.1 \r\nHost: x\r\n\r\n", 400 },
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400 },
	{ "GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n", 400 },
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400 },
	{ "GET /metrics HTTP/1.1\r\nHost: a\001b\r\n\r\n", 400 },
	{ "GET /metrics HTTP/1.1\r\nHost: x\rY: z\r\n\r\n", 400 },
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n", 400 },
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", 400 },
	{ "GET /met\177rics HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
	{ "G(T /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
	{ "GET /metrics HTTP/1.x\r\nHost: x\r\n\r\n", 400 },
	{ "GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n", 505 },
	{ "\x16\x03\x01\x02\x01\x01\x01\x01\xfc\x03\x03\n\n", 400 },	/* TLS-ish, then LFs */
};

Test(metrics_http, malformed)
{
	struct response r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = client();
		inbox_reset();
		say(fd, bad[i].req);
		cr_assert_eq(response(fd, 0, &r), bad[i].status, "request %zu: %s", i, r.head);
		cr_assert_not_null(strstr(r.head, "\r\nConnection: close\r\n"), "request %zu", i);
		cr_assert(closed(fd), "request %zu: not closed", i);
		close(fd);
		pump();
	}
	cr_assert_eq(metrics_http_nconns(m), 0);
	teardown();
}

Test(metrics_http, oversized_head)
{
	char big[METRICS_HTTP_HEAD_MAX + 512];
	struct response r;
	int fd = client();

	inbox_reset();
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	memset(big + 26, 'a', sizeof(big) - 27);
	big[sizeof(big) - 1] = '\0';
	say(fd, big);
	cr_assert_eq(response(fd, 0, &r), 431);
	cr_assert(closed(fd));
	close(fd);
	pump();
	cr_assert_eq(metrics_http_nconns(m), 0);
	teardown();
}

Test(metrics_http, pipelined)
{
	struct response r;
	int fd = client();

	inbox_reset();
	/* leading empty lines are ignored; LF alone ends lines too */
	say(fd, "\r\n" GET "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
	    "GET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\nHost: x\n\n"
	    GET GET GET GET);
	cr_assert_eq(response(fd, 0, &r), 200);
	cr_assert_eq(response(fd, 1, &r), 200);
	cr_assert_eq(response(fd, 0, &r), 404);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(response(fd, 0, &r), 200, "pipelined GET %d", i);
	cr_assert_eq(metrics_http_stats(m)->requests, 8);
	close(fd);
	teardown();
}

Test(metrics_http, connection_close)
{
	struct response r;
	int fd = client();

	inbox_reset();
	say(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Close\r\n\r\n" GET);
	cr_assert_eq(response(fd, 0, &r), 200);
	cr_assert_not_null(strstr(r.head, "\r\nConnection: close\r\n"));
	cr_assert(closed(fd));
	cr_assert_eq(in.len, 0, "nothing answered after the last one");
	close(fd);

	/* HTTP/1.0: closed unless it asks to keep it */
	fd = client();
	inbox_reset();
	say(fd, "GET /metrics HTTP/1.0\r\n\r\n");
	cr_assert_eq(response(fd, 0, &r), 200);
	cr_assert(closed(fd));
	close(fd);
	fd = client();
	inbox_reset();
	say(fd, "GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	cr_assert_eq(response(fd, 0, &r), 200);
	say(fd, GET);
	cr_assert_eq(response(fd, 0, &r), 200);
	close(fd);

	/* a body we do not read: answered, then closed */
	fd = client();
	inbox_reset();
	say(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" GET);
	cr_assert_eq(response(fd, 0, &r), 200);
	cr_assert(closed(fd));
	close(fd);
	pump();
	cr_assert_eq(metrics_http_nconns(m), 0);
	teardown();
}

/*
 * HTTP/1.0 keeps a connection only when both say so: an answer on one we
 * keep says keep-alive, else the client would read until the close.
 */
Test(metrics_http, http10_keepalive_said)
{
	struct response r;
	int fd = client();

	inbox_reset();
	for (int i = 0; i < 2; i++) {
		say(fd, "GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
		cr_assert_eq(response(fd, 0, &r), 200);
		cr_assert_not_null(strstr(r.head, "\r\nConnection: keep-alive\r\n"), "%s",
		    r.head);
		cr_assert_null(strcasestr(r.head, "close"), "%s", r.head);
	}
	say(fd, "HEAD /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	cr_assert_eq(response(fd, 1, &r), 200);
	cr_assert_not_null(strstr(r.head, "\r\nConnection: keep-alive\r\n"), "%s", r.head);
	say(fd, "GET /nope HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	cr_assert_eq(response(fd, 0, &r), 404);
	cr_assert_not_null(strstr(r.head, "\r\nConnection: keep-alive\r\n"), "%s", r.head);
	cr_assert_eq(metrics_http_nconns(m), 1);
	/* the last, unasked to stay: said closed, and closed */
	say(fd, "GET /metrics HTTP/1.0\r\n\r\n");
	cr_assert_eq(response(fd, 0, &r), 200);
	cr_assert_not_null(strstr(r.head, "\r\nConnection: close\r\n"), "%s", r.head);
	cr_assert(closed(fd));
	close(fd);

	/* HTTP/1.1 kept: nothing said; closed: said */
	fd = client();
	inbox_reset();
	say(fd, GET);
	cr_assert_eq(response(fd, 0, &r), 200);
	cr_assert_null(strcasestr(r.head, "Connection:"), "%s", r.head);
	say(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	cr_assert_eq(response(fd, 0, &r), 200);
	cr_assert_not_null(strstr(r.head, "\r\nConnection: close\r\n"), "%s", r.head);
	cr_assert(closed(fd));
	close(fd);
	pump();
	cr_assert_eq(metrics_http_nconns(m), 0);
	teardown();
}

/* A half-closed client still gets its answer. */
Test(metrics_http, half_close)
{
	struct response r;
	int fd = client();

	inbox_reset();
	say(fd, GET);
	shutdown(fd, SHUT_WR);
	cr_assert_eq(response(fd, 0, &r), 200);
	cr_assert(closed(fd));
	close(fd);
	teardown();
}

Test(metrics_http, idle_and_slow)
{
	struct response r;
	int idle = client(), slow = client(), busy = client();

	inbox_reset();
	say(slow, "GET /metr");		/* and never more */
	pump();
	clk.ms += METRICS_HTTP_IDLE_MS / 2;
	say(busy, GET);
	cr_assert_eq(response(busy, 0, &r), 200);
	cr_assert_eq(metrics_http_nconns(m), 3);
	clk.ms += METRICS_HTTP_IDLE_MS / 2;
	cr_assert_leq(metrics_http_next_deadline(m), clk.ms);
	pump();
	/* the idle one and the slow one are gone; the answered one's time began anew */
	cr_assert_eq(metrics_http_nconns(m), 1);
	cr_assert_eq(metrics_http_stats(m)->timeouts, 2);
	inbox_reset();
	cr_assert(closed(slow));
	inbox_reset();
	cr_assert(closed(idle));
	inbox_reset();
	say(busy, GET);
	cr_assert_eq(response(busy, 0, &r), 200);
	clk.ms += METRICS_HTTP_IDLE_MS;
	pump();
	cr_assert_eq(metrics_http_nconns(m), 0);
	close(idle);
	close(slow);
	close(busy);
	teardown();
}

/* A client that asks and never reads is closed at the idle bound. */
Test(metrics_http, not_reading)
{
	int fd = client(), small = 4096;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	body_size = 2 << 20;
	for (int i = 0; i < 4; i++)
		say(fd, GET);
	pump();
	cr_assert_eq(metrics_http_nconns(m), 1);
	clk.ms += METRICS_HTTP_IDLE_MS;
	pump();
	cr_assert_eq(metrics_http_nconns(m), 0);
	cr_assert_eq(metrics_http_stats(m)->timeouts, 1);
	close(fd);
	teardown();
}

Test(metrics_http, big_body_and_no_body)
{
	struct response r;
	int fd = client();

	inbox_reset();
	body_size = 300000;
	say(fd, GET);
	cr_assert_eq(response(fd, 0, &r), 200);
	cr_assert_eq(r.body, 300000);
	body_size = 0;		/* the renderer fails */
	say(fd, GET);
	cr_assert_eq(response(fd, 0, &r), 500);
	body_size = 100;
	say(fd, GET);
	cr_assert_eq(response(fd, 0, &r), 200, "a 500 keeps the connection");
	close(fd);
	teardown();
}

Test(metrics_http, connection_cap)
{
	int fd[METRICS_HTTP_MAX_CONNS], extra;
	struct response r;

	for (int i = 0; i < METRICS_HTTP_MAX_CONNS; i++)
		fd[i] = client();
	cr_assert_eq(metrics_http_nconns(m), METRICS_HTTP_MAX_CONNS);
	extra = client();
	inbox_reset();
	cr_assert(closed(extra), "the one over the cap is closed at once");
	cr_assert(in.len == 0 || strncmp(in.buf, "HTTP/1.1 503 ", 13) == 0);
	close(extra);
	cr_assert_eq(metrics_http_stats(m)->refused, 1);
	/* the others are served */
	inbox_reset();
	say(fd[3], GET);
	cr_assert_eq(response(fd[3], 0, &r), 200);
	/* and a place freed is taken again */
	close(fd[0]);
	pump();
	fd[0] = client();
	inbox_reset();
	say(fd[0], GET);
	cr_assert_eq(response(fd[0], 0, &r), 200);
	for (int i = 0; i < METRICS_HTTP_MAX_CONNS; i++)
		close(fd[i]);
	pump();
	cr_assert_eq(metrics_http_nconns(m), 0);
	teardown();
}

/*
 * Room for what a client sends to wait, unread, at our end: set on the
 * listener, the accepted sockets inherit it.  Past net.core.rmem_max it
 * takes CAP_NET_ADMIN: without it the test is skipped.
 */
static void
big_rcvbuf(void)
{
	int size = 4 << 20;

	if (setsockopt(lw.fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0) {
		teardown();
		cr_skip_test("SO_RCVBUFFORCE: %s", strerror(errno));
	}
}

/*
 * Send s, then junk up to total bytes (fewer if the window is full), and
 * wait until all of it is at the server's end (acknowledged): how many
 * bytes went in all.
 */
static size_t
flood(int fd, const char *s, size_t total)
{
	static char junk[64 * 1024];
	size_t sent = strlen(s);
	int size = 8 << 20, outq = 1;

	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
	say(fd, s);
	memset(junk, 'j', sizeof(junk));
	while (sent < total) {
		size_t n = total - sent < sizeof(junk) ? total - sent : sizeof(junk);
		ssize_t r = send(fd, junk, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r <= 0)
			break;
		sent += (size_t)r;
	}
	for (int tries = 0; tries < 200 && outq > 0; tries++) {
		cr_assert_eq(ioctl(fd, TIOCOUTQ, &outq), 0);
		if (outq > 0)
			usleep(10000);
	}
	cr_assert_eq(outq, 0, "not all of it arrived");
	return sent;
}

/* Each ready connection dispatched once: one wake-up of the loop. */
static void
one_wakeup(void)
{
	struct epoll_event ev[16];
	int n = epoll_wait(epfd, ev, 16, 100);

	for (int i = 0; i < n; i++) {
		struct watched *w = ev[i].data.ptr;
		if (w->kind == K_METRICS_LISTEN)
			metrics_http_dispatch_listen(m, w);
		else
			metrics_http_dispatch_client(m, w, ev[i].events);
	}
	metrics_http_tick(m);
}

/*
 * A client that sends on after its last answer is drained at most
 * METRICS_HTTP_DRAIN_MAX a wake-up, so it cannot hold the loop; the
 * others are served meanwhile, and it is closed once it stops.
 */
Test(metrics_http, linger_drain_bounded)
{
	struct response r;
	size_t sent;
	int fd, other;

	big_rcvbuf();
	fd = client();
	other = client();
	sent = flood(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	    8 * METRICS_HTTP_DRAIN_MAX);
	cr_assert_gt(sent, 3 * METRICS_HTTP_DRAIN_MAX, "only %zu bytes sent", sent);
	shutdown(fd, SHUT_WR);
	say(other, GET);
	one_wakeup();
	cr_assert_eq(metrics_http_nconns(m), 2, "drained %zu bytes in one wake-up", sent);
	inbox_reset();
	cr_assert_eq(response(other, 0, &r), 200, "the other is served meanwhile");
	inbox_reset();
	cr_assert_eq(response(fd, 0, &r), 200);
	cr_assert_not_null(strstr(r.head, "\r\nConnection: close\r\n"), "%s", r.head);
	cr_assert(closed(fd));
	/* our side was shut at the answer: the close comes once all is drained */
	for (int i = 0; i < 100 && metrics_http_nconns(m) > 1; i++)
		pump();
	cr_assert_eq(metrics_http_nconns(m), 1, "closed once it stops");
	close(fd);
	close(other);
	pump();
	teardown();
}

/* A sender that goes on and on is closed at the linger deadline. */
Test(metrics_http, linger_deadline)
{
	struct response r;
	int fd;

	big_rcvbuf();
	fd = client();
	flood(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	    8 * METRICS_HTTP_DRAIN_MAX);
	one_wakeup();
	inbox_reset();
	cr_assert_eq(response(fd, 0, &r), 200);
	cr_assert_eq(metrics_http_nconns(m), 1, "it has not closed");
	clk.ms += METRICS_HTTP_LINGER_MS;
	pump();
	cr_assert_eq(metrics_http_nconns(m), 0);
	close(fd);
	teardown();
}

/*
 * One over the cap that has sent a lot is drained at most
 * METRICS_HTTP_DRAIN_MAX and closed with the rest unread (so reset);
 * the loop goes on serving the others.
 */
Test(metrics_http, refuse_drain_bounded)
{
	int fd[METRICS_HTTP_MAX_CONNS], extra;
	struct response r;
	char buf[4096];
	ssize_t n;

	big_rcvbuf();
	for (int i = 0; i < METRICS_HTTP_MAX_CONNS; i++)
		fd[i] = client();
	cr_assert_geq(extra = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), 0);
	cr_assert_eq(connect(extra, (struct sockaddr *)&addr, sizeof(addr)), 0);
	cr_assert_gt(flood(extra, GET, 8 * METRICS_HTTP_DRAIN_MAX), 3 * METRICS_HTTP_DRAIN_MAX);
	shutdown(extra, SHUT_WR);
	one_wakeup();
	cr_assert_eq(metrics_http_stats(m)->refused, 1);
	while ((n = recv(extra, buf, sizeof(buf), 0)) > 0)
		;
	cr_assert(n < 0 && errno == ECONNRESET, "not reset: all of it was read");
	close(extra);
	inbox_reset();
	say(fd[5], GET);
	cr_assert_eq(response(fd[5], 0, &r), 200);
	for (int i = 0; i < METRICS_HTTP_MAX_CONNS; i++)
		close(fd[i]);
	pump();
	cr_assert_eq(metrics_http_nconns(m), 0);
	teardown();
}

/* Freed with connections open and output pending: all closed. */
Test(metrics_http, free_with_clients)
{
	int a = client(), b = client();

	body_size = 2 << 20;
	say(a, GET);
	say(b, "GET /met");
	pump();
	close(a);
	close(b);
	teardown();
}
