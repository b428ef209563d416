/*
 * GET /metrics over HTTP/1.1, from the event loop, and nothing else.  The
 * module owns its connections and their deadlines; the body comes from a
 * callback given at creation, so it knows nothing of the server.  The
 * listener is the caller's (like the frontend's DNS listeners): it is
 * watched by the caller and handed to metrics_http_dispatch_listen().
 */
#ifndef FDTOOL_SERVER_METRICS_HTTP_H
#define FDTOOL_SERVER_METRICS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "roles/server/loop.h"

#define METRICS_HTTP_MAX_CONNS	16		/* the next one gets a 503 and is closed */
#define METRICS_HTTP_HEAD_MAX	8192		/* a longer request head: 431, closed */
#define METRICS_HTTP_IDLE_MS	10000		/* per request: read, answered, written */
#define METRICS_HTTP_LINGER_MS	2000		/* reading what follows a last answer */
#define METRICS_HTTP_DRAIN_MAX	(64 * 1024)	/* bytes thrown away per wake-up */

/*
 * The body of a 200, malloc'd (metrics_http frees it), its length in
 * *len; NULL makes the answer a 500.
 */
typedef char *(*metrics_render_fn)(void *arg, size_t *len);

struct metrics_http_stats {
	uint64_t requests;	/* answered, whatever the status */
	uint64_t errors;	/* of those, answered 4xx or 5xx */
	uint64_t refused;	/* connections over the cap */
	uint64_t timeouts;	/* connections closed at the idle bound */
};

struct metrics_http;

/* NULL (errno set) if out of memory. */
struct metrics_http *metrics_http_new(int epfd, const struct loop_clock *clock,
    metrics_render_fn render, void *arg);
/* Closes its connections; the listener stays the caller's. */
void metrics_http_free(struct metrics_http *m);

/* w: the listener (K_METRICS_LISTEN), watched by the caller for EPOLLIN. */
void metrics_http_dispatch_listen(struct metrics_http *m, struct watched *w);
/* w: one of ours (K_METRICS_CLIENT). */
void metrics_http_dispatch_client(struct metrics_http *m, struct watched *w, uint32_t events);

/* After each batch of events: idle connections closed, a paused listener resumed. */
void metrics_http_tick(struct metrics_http *m);
uint64_t metrics_http_next_deadline(const struct metrics_http *m);

const struct metrics_http_stats *metrics_http_stats(const struct metrics_http *m);
size_t metrics_http_nconns(const struct metrics_http *m);

#endif
