/*
 * The clients' side: UDP in batches, TCP with RFC 7766 framing,
 * pipelining and out-of-order replies, access control.  The frontend
 * alone owns clients and connections; it hands each query to the resolver
 * and gets late answers back through frontend_deliver().
 */
#ifndef FDTOOL_SERVER_FRONTEND_H
#define FDTOOL_SERVER_FRONTEND_H

#include <stddef.h>
#include <stdint.h>

#include "roles/server/loop.h"
#include "roles/server/resolve.h"

#define SERVER_UDP_BATCH	32
#define SERVER_TCP_QUERY_MAX	4096		/* longest query we read over TCP */
#define SERVER_TCP_OUT_MAX	(256 * 1024)	/* unread replies before we give up */
#define SERVER_TCP_INFLIGHT	16		/* one client's queries upstream at once */

struct frontend;
struct tcp_conn;

struct frontend *frontend_new(const struct server_config *cfg, const struct loop_clock *clock,
    struct server_counters *stats, int epfd);
void frontend_free(struct frontend *f);
/* Whom it asks; set once, before the first query. */
void frontend_attach(struct frontend *f, struct resolver *r);

/* The resolver's delivery call (a resolver_deliver_fn; ctx is the frontend). */
void frontend_deliver(void *ctx, const struct client *cl, const uint8_t *msg, size_t len);

void frontend_dispatch_udp(struct frontend *f, struct watched *w);
void frontend_dispatch_tcp_listen(struct frontend *f, struct watched *w);
void frontend_dispatch_tcp_client(struct frontend *f, struct watched *w, uint32_t events);

/* After each batch of events: resume connections, time out idle ones. */
void frontend_tick(struct frontend *f);
uint64_t frontend_next_deadline(const struct frontend *f);

/* TCP clients connected now (tcp-clients). */
size_t frontend_tcp_clients(const struct frontend *f);

#endif
