/*
 * The upstream layer: the resolvers we forward to, what we have learnt
 * about each (smoothed RTT, failures, back-off), and the questions in
 * flight to them.  Identical questions share one fetch (coalescing); a
 * fetch may have several attempts open at once, and the first valid
 * answer from any of them wins.  Nothing here knows about clients: each
 * waiter is an intrusive node the resolver embeds in its own record.
 */
#ifndef FDTOOL_SERVER_UPSTREAM_H
#define FDTOOL_SERVER_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "roles/server/dns.h"
#include "roles/server/loop.h"

#define UPSTREAM_MAX		8	/* servers in one set */
#define UPSTREAM_SETS		(1 + SERVER_MAX_FORWARD_ZONES)
#define FETCH_ATTEMPTS		4	/* sockets one fetch may hold at once */
#define FETCH_WAITERS		256	/* clients sharing one fetch */
#define UPSTREAM_BACKOFF_MIN	1000	/* ms a timed-out server is left alone */
#define UPSTREAM_BACKOFF_MAX	60000	/* ... doubling up to this */

/* What we know about one upstream server. */
struct upstream {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint32_t srtt;		/* smoothed RTT, ms x 8; 0: never measured */
	uint32_t failures;	/* timeouts in a row */
	uint32_t refusals;	/* REFUSED, SERVFAIL and the like in a row */
	uint64_t down_until;	/* ms: in back-off until then (0: up) */
	int probing;		/* a probe attempt is out */
	uint64_t queries, answers, timeouts, errors;
};

/* The back-off after n timeouts in a row: 1 s, doubling, at most 60 s. */
uint64_t upstream_backoff(uint32_t n);

/* The default set (index 0), or a forward zone's. */
struct upstream_set {
	struct upstream srv[UPSTREAM_MAX];
	size_t n;
	uint32_t gen;		/* bumped when the list changes */
};

/* A waiter's link; the resolver embeds it and finds its record from it. */
struct fetch_waiter {
	struct fetch_waiter *next;
};

/*
 * How a fetch ended.  tmpl/info: the answer, already a template
 * (dns_make_template); NULL: every attempt failed or time ran out, and
 * why says which, failed_upstream whether the upstreams (not our own
 * sockets) failed us, so the failure may be cached.
 */
struct fetch_result {
	const struct dns_question *q;	/* what was asked, and with CD? */
	int cd;
	uint8_t *tmpl;
	size_t tlen;
	struct dns_template_info *info;
	enum dns_ede why;
	int failed_upstream;
	int early;		/* no answer by the waiters' early time: the
				 * fetch runs on without them */
};

typedef void upstream_done_fn(void *ctx, struct fetch_waiter *waiters,
    const struct fetch_result *res);

struct fetch;
struct upstreams;

struct upstreams_config {
	unsigned attempt_ms;	/* --upstream-timeout: when the next attempt starts */
	unsigned deadline_ms;	/* --query-timeout: when the fetch gives up */
	size_t max_fetches;	/* --max-pending */
};

/* NULL with errno set.  done is called once per finished fetch. */
struct upstreams *upstreams_new(const struct upstreams_config *cfg, int epfd,
    struct server_counters *stats, upstream_done_fn *done, void *ctx);
void upstreams_free(struct upstreams *u);

/* Replace set i's servers (a reload); in-flight attempts run on. */
int upstreams_set(struct upstreams *u, size_t set, const struct sockaddr_storage *addr,
    const socklen_t *len, size_t n);
const struct upstream_set *upstreams_get_set(const struct upstreams *u, size_t set);

/*
 * Ask set for q (CD if cd), or join the fetch already asking it.  w NULL:
 * nobody waits (a refresh: done() sees the answer with no waiters).
 * early_ms (0: none): if nothing has come by then, the waiters are handed
 * back (res->early) and the fetch runs on to its deadline without them --
 * RFC 8767's client response timer, for a caller holding stale data.
 * Returns 0 (w will be passed to done, never from inside this call),
 * -ENOENT (the set has no servers), -EAGAIN (too many fetches, or
 * waiters on this one), -ENETUNREACH (no attempt could even be sent).
 */
int upstreams_fetch(struct upstreams *u, size_t set, const struct dns_question *q,
    int cd, struct fetch_waiter *w, unsigned early_ms, uint64_t now_ms);

/* Whether every server of the set has failed and not answered since. */
int upstreams_set_down(const struct upstreams *u, size_t set);

/* An attempt's socket woke the loop. */
void upstreams_dispatch(struct upstreams *u, struct watched *w, uint64_t now_ms);

/* Timers: the next one (ms, UINT64_MAX if none), and running those due. */
uint64_t upstreams_next_deadline(const struct upstreams *u);
void upstreams_tick(struct upstreams *u, uint64_t now_ms);

size_t upstreams_inflight(const struct upstreams *u);

#endif
