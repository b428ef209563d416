/*
 * What every part of the server shares: the settings, the counters, and
 * the tag every object the epoll loop watches starts with, so one
 * dispatch in server.c serves them all.
 */
#ifndef FDTOOL_SERVER_LOOP_H
#define FDTOOL_SERVER_LOOP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/endpoint.h"
#include "roles/server/acl.h"
#include "roles/server/zones.h"

/* --listen: "[udp:|tcp:]ADDR[:PORT]", port 53 by default */
#define LISTEN_FLAGS (ENDPOINT_PROTO_OPTIONAL | ENDPOINT_PORT_OPTIONAL | ENDPOINT_NO_RANGE)

#define SERVER_MAX_LISTEN	16
#define SERVER_MAX_UPSTREAM	8
#define SERVER_MAX_ALLOW	64	/* --allow-from entries */
#define SERVER_MAX_FORWARD_ZONES 32
#define SERVER_SERVFAIL_TTL	5	/* seconds: RFC 9520 wants 1 s to 5 min */
#define SERVER_STALE_TTL	30	/* RFC 8767 4 */
#define SERVER_STALE_WAIT_MS	1800	/* RFC 8767 5: the client response timer */

enum server_kind {
	K_UDP_LISTEN, K_TCP_LISTEN, K_TCP_CLIENT, K_UPSTREAM, K_SIGNAL,
	K_CREATOR, K_CREATOR_PID, K_CONTROL_LISTEN, K_CONTROL, K_CHILD, K_LOADER,
	K_RESOLVWATCH, K_REC_CONTROL_LISTEN, K_REC_CONTROL, K_METRICS_LISTEN, K_METRICS_CLIENT,
};

struct watched {
	enum server_kind kind;
	int fd;
};

/* Read once per loop turn (CLOCK_BOOTTIME: TTLs run on while the machine sleeps). */
struct loop_clock {
	uint64_t ms;
	uint64_t s;
};

int loop_watch(int epfd, struct watched *w, uint32_t events, void *ptr);

/* Counters: every one is reported by `fdtool control get`. */
#define SERVER_COUNTERS(X)						\
	X(queries_udp, "queries-udp")					\
	X(queries_tcp, "queries-tcp")					\
	X(cache_hits, "cache-hits")					\
	X(cache_misses, "cache-misses")					\
	X(upstream_queries, "upstream-queries")				\
	X(upstream_tcp_queries, "upstream-tcp-queries")			\
	X(upstream_timeouts, "upstream-timeouts")			\
	X(upstream_mismatched, "upstream-mismatched")			\
	X(upstream_bad, "upstream-malformed")				\
	X(upstream_refused, "upstream-refused")				\
	X(coalesced, "coalesced-queries")				\
	X(servfail, "servfail-answers")					\
	X(formerr, "formerr-answers")					\
	X(nxdomain, "nxdomain-answers")					\
	X(truncated, "truncated-answers")				\
	X(hosts_answers, "hosts-answers")				\
	X(local_answers, "local-answers")				\
	X(stale_answers, "stale-answers")				\
	X(refused_clients, "refused-clients")				\
	X(dropped, "dropped-queries")					\
	X(pending_full, "pending-full")					\
	X(tcp_connections, "tcp-connections")				\
	X(tcp_refused, "tcp-refused")					\
	X(tcp_timeouts, "tcp-timeouts")

struct server_counters {
#define X(field, name) uint64_t field;
	SERVER_COUNTERS(X)
#undef X
};

/*
 * Who asked: the frontend's business.  The resolver keeps it by value
 * while the answer is upstream and hands it back, never looking inside.
 */
struct tcp_conn;
struct client {
	int udp_fd;			/* >= 0: a UDP client on this socket */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct tcp_conn *conn;		/* else: a TCP client ... */
	uint32_t conn_gen;		/* ... if it is still the same connection */
};

struct server_config {
	struct endpoint listen[SERVER_MAX_LISTEN];
	size_t nlisten;
	struct sockaddr_storage upstream[SERVER_MAX_UPSTREAM];
	socklen_t upstream_len[SERVER_MAX_UPSTREAM];
	size_t nupstream;
	struct acl_entry allow[SERVER_MAX_ALLOW];
	size_t nallow;
	struct forward_zone zones[SERVER_MAX_FORWARD_ZONES];
	size_t nzones;
	const char *creator_path;
	const char *user;
	const char *hosts_path;		/* NULL: --no-hosts */
	const char *resolv_path;
	size_t cache_size;
	uint32_t min_ttl, max_ttl;
	uint32_t serve_stale;		/* seconds; 0: off */
	size_t max_tcp;
	size_t max_pending;
	unsigned tcp_idle_ms;
	unsigned upstream_timeout_ms;	/* per attempt: then the next one starts */
	unsigned query_timeout_ms;	/* per query: then SERVFAIL */
	int no_sandbox;
	int no_seccomp;		/* --no-seccomp: no system-call filter */
	int log_level;
	const char *control_path;	/* NULL: --no-control */
	int control_explicit;		/* given, so failing to make it is fatal */
	const char *control_group;
	unsigned control_idle_s;	/* a control client silent this long is closed */
	unsigned control_job_s;		/* a dump or load still this long is ended */
	const char *rec_control_path;	/* rec_control's protocol here; NULL: none */
	struct endpoint metrics_listen;	/* GET /metrics (HTTP), if metrics */
	int metrics;
	int check_config;		/* --check-config: print, do not run */
	const char *config_file;	/* the file read, or NULL */
};

#endif
