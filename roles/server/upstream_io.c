/*
 * One attempt of a fetch: its own connected socket (a random source port,
 * the kernel's filter on the server's address and port) and random id;
 * UDP first, the same server over TCP after TC.  What comes back is
 * matched, judged (an answer, a refusal, garbage) and handed to the fetch.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "roles/server/upstream_impl.h"

/* --- attempts -------------------------------------------------------------- */

void
attempt_close(struct attempt *a)
{
	if (a->w.fd >= 0)
		close(a->w.fd);		/* also leaves the epoll set */
	a->w.fd = -1;
	free(a->tcpbuf);
	a->tcpbuf = NULL;
	a->state = A_FREE;
}

struct upstream *
attempt_server(struct upstreams *u, const struct attempt *a)
{
	struct upstream_set *set = &u->sets[a->f->set];
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);

	if (a->set_gen == set->gen)
		return a->srv < set->n ? &set->srv[a->srv] : NULL;
	/* the list changed under it: the same server may still be there */
	if (a->w.fd < 0 || getpeername(a->w.fd, (struct sockaddr *)&peer, &len) != 0)
		return NULL;
	for (size_t i = 0; i < set->n; i++)
		if (upstream_has_addr(&set->srv[i], &peer, len))
			return &set->srv[i];
	return NULL;
}

/* Close an attempt for good; a probe's server may be probed again, later. */
void
attempt_retire(struct upstreams *u, struct attempt *a)
{
	struct upstream *sv;

	if (a->state == A_FREE)
		return;
	if (a->probe && (sv = attempt_server(u, a))) {
		sv->probing = 0;
		if (a->state == A_OPEN)
			upstream_probe_unanswered(sv, a->sent, u->now, u->cfg.attempt_ms);
	}
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
	a->id = upstream_random16(u);
	n = dns_build_query(a->tcpbuf + 2, DNS_MSG_MAX, a->id, &a->f->q, a->f->cd);
	if (n == 0)
		return -EINVAL;
	a->tcpbuf[0] = (uint8_t)(n >> 8);
	a->tcpbuf[1] = (uint8_t)n;
	a->tcplen = n + 2;
	a->tcpdone = 0;
	a->tcp_writing = 1;
	/* pdns counts the TCP retry in all-outqueries too, before its
	 * connect (SyncRes::doResolveAtThisIP), so one that fails counts */
	u->stats->all_outqueries++;
	u->stats->tcp_outqueries++;
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
int
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
	a->id = upstream_random16(u);
	a->sent = now;
	a->state = A_OPEN;
	f->tried |= 1u << srv;
	sv->queries++;
	/* as pdns 4.8 (SyncRes::doResolveAtThisIP): counted before the
	 * socket is made, so one that fails (EMFILE, no route) counts too */
	u->stats->all_outqueries++;
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
		/* nobody there (ICMP unreachable, a reset): as bad as silence,
		 * once (a late attempt was charged when it went late) */
		if (why == DNS_EDE_NETWORK && a->state == A_OPEN)
			upstream_timed_out(sv, now);
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
	int refused = matched == DNS_ANSWER_ERROR || rcode == DNS_RCODE_REFUSED ||
	    rcode == DNS_RCODE_NOTIMP || rcode == DNS_RCODE_FORMERR ||
	    rcode == DNS_RCODE_SERVFAIL;

	if (sv) {
		if (a->probe)
			sv->probing = 0;
		if (refused)
			upstream_refused(sv, now - a->sent);
		else
			upstream_answered(sv, now - a->sent);
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
		fetch_reschedule(u, a->f);
		return;
	}
	if ((tlen = dns_make_template(msg, len, u->tmpl, sizeof(u->tmpl), &u->info)) < 0) {
		u->stats->server_parse_errors++;
		attempt_failed(u, a, DNS_EDE_NETWORK, now);
		return;
	}
	if (refused) {
		u->stats->upstream_refused++;
		attempt_failed(u, a, DNS_EDE_REFUSED, now);
		return;
	}
	fetch_end(u, a->f, u->tmpl, (size_t)tlen);
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

	u->now = now_ms;
	/* act on what the socket says, not on a stale event for a reused slot */
	if (a->w.fd < 0 || a->state == A_FREE)
		return;
	if (a->tcp)
		attempt_tcp_progress(u, a, now_ms);
	else
		attempt_udp_readable(u, a, now_ms);
}

