/*
 * The resolver: one question in, an answer out, now or later.  It asks
 * the hosts file, the RFC 6303 zones, the cache, then the upstream layer;
 * an answer that has to wait comes back through the one delivery call the
 * frontend gave it.  It never sees a connection: the client record is
 * kept by value and handed back untouched.
 */
#ifndef FDTOOL_SERVER_RESOLVE_H
#define FDTOOL_SERVER_RESOLVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "roles/server/cache.h"
#include "roles/server/hosts.h"
#include "roles/server/loop.h"
#include "roles/server/upstream.h"

#define RESOLVER_PENDING	(-1)	/* the answer comes through deliver() */

/* len 0: no answer after all (the frontend still learns the query is over). */
typedef void resolver_deliver_fn(void *ctx, const struct client *cl,
    const uint8_t *msg, size_t len);

struct resolver;

/* cfg, clock, cache and stats outlive the resolver. */
struct resolver *resolver_new(const struct server_config *cfg, const struct loop_clock *clock,
    struct cache *cache, struct server_counters *stats, int epfd,
    resolver_deliver_fn *deliver, void *ctx);
void resolver_free(struct resolver *r);
void resolver_set_hosts(struct resolver *r, const struct hosts *h);

/* The upstream layer it asks (sets, health: for reloads and reports). */
struct upstreams *resolver_upstreams(struct resolver *r);

/* Questions waiting for an upstream now (concurrent-queries). */
size_t resolver_waiting(const struct resolver *r);

/*
 * Answer the query in pkt from client cl (over TCP if tcp).  Returns the
 * length of an answer written to out, 0 if the query is dropped, or
 * RESOLVER_PENDING.
 */
ssize_t resolver_query(struct resolver *r, const uint8_t *pkt, size_t len,
    const struct client *cl, int tcp, uint8_t *out, size_t cap);

/* An answer to one of the resolver's own clients: for REFUSED by access control. */
size_t resolver_refuse(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap);

#endif
