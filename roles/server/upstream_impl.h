/*
 * The upstream layer's insides, shared by upstream.c (fetches, timers,
 * choice of server) and upstream_io.c (each attempt's socket and what
 * comes back on it).  Nothing outside the two includes it.
 */
#ifndef FDTOOL_SERVER_UPSTREAM_IMPL_H
#define FDTOOL_SERVER_UPSTREAM_IMPL_H

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
	uint64_t early;			/* hand the waiters back (0: never) */
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
	uint64_t now;			/* ms, as the last call into us said */
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
	uint8_t tmpl[DNS_MSG_MAX];	/* an answer made a template */
	struct dns_template_info info;
};

/* upstream.c */
uint16_t upstream_random16(struct upstreams *u);
void fetch_reschedule(struct upstreams *u, struct fetch *f);
void fetch_end(struct upstreams *u, struct fetch *f, uint8_t *tmpl, size_t tlen);
void fetch_advance(struct upstreams *u, struct fetch *f, uint64_t now);
int upstream_up(const struct upstream *sv);
void upstream_answered(struct upstream *sv, uint64_t rtt);
void upstream_timed_out(struct upstream *sv, uint64_t now);
void upstream_refused(struct upstream *sv, uint64_t rtt);
int upstream_has_addr(const struct upstream *sv, const struct sockaddr_storage *addr,
    socklen_t len);
void upstream_probe_unanswered(struct upstream *sv, uint64_t sent, uint64_t now,
    unsigned attempt_ms);
int upstream_pick(const struct upstream_set *set, uint32_t tried);

/* upstream_io.c */
void attempt_close(struct attempt *a);
struct upstream *attempt_server(struct upstreams *u, const struct attempt *a);
void attempt_retire(struct upstreams *u, struct attempt *a);
int attempt_start(struct upstreams *u, struct fetch *f, int srv, int probe, uint64_t now);

#endif
