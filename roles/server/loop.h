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
#include <time.h>

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

/*
 * Counters: every one is reported by `fdtool control get` (counters.c adds
 * the levels computed when asked).  Where PowerDNS Recursor 4.8 has a
 * counter that means the same, it has pdns's name and meaning
 * (docs/metrics.md); the rest keep fdtool's own names.  A "question" is a
 * query from an allowed client that pdns would count: over UDP once its
 * header says QUERY with a question, over TCP once it parsed.  It is a
 * packet-cache hit or a miss; unless malformed, it ends as exactly one of
 * a packet-cache hit or one answers* bucket, as in pdns.
 */
#define SERVER_COUNTERS(X)						\
	X(questions, "questions",					\
	    "Client questions, UDP and TCP (not refused clients)")	\
	X(tcp_questions, "tcp-questions",				\
	    "Client questions over TCP")				\
	X(packetcache_hits, "packetcache-hits",				\
	    "Questions answered from the answer (packet) cache")	\
	X(packetcache_misses, "packetcache-misses",			\
	    "Questions not answered from the answer (packet) cache")	\
	X(noerror, "noerror-answers", "Questions answered NOERROR")	\
	X(nxdomain, "nxdomain-answers", "Questions answered NXDOMAIN")	\
	X(servfail, "servfail-answers", "Questions answered SERVFAIL")	\
	X(answers0_1, "answers0-1",					\
	    "Questions not from the packet cache answered within 1 ms") \
	X(answers1_10, "answers1-10",					\
	    "Questions not from the packet cache answered in 1-10 ms")	\
	X(answers10_100, "answers10-100",				\
	    "Questions not from the packet cache answered in 10-100 ms") \
	X(answers100_1000, "answers100-1000",				\
	    "Questions not from the packet cache answered in 100-1000 ms") \
	X(answers_slow, "answers-slow",					\
	    "Questions not from the packet cache answered after 1 s")	\
	X(answer_usec_sum, "answer-latency-usec-sum",			\
	    "Sum of the answers* questions' latencies, microseconds")	\
	X(answer_count, "answer-latency-count",				\
	    "Questions counted in the answers* buckets")		\
	X(all_outqueries, "all-outqueries",				\
	    "Queries to upstreams, UDP and TCP, failed sends included")	\
	X(tcp_outqueries, "tcp-outqueries",				\
	    "Queries to upstreams over TCP (after TC)")		\
	X(outgoing_timeouts, "outgoing-timeouts",			\
	    "Upstream queries unanswered within --upstream-timeout")	\
	X(server_parse_errors, "server-parse-errors",			\
	    "Upstream replies that could not be parsed")		\
	X(upstream_mismatched, "upstream-mismatched",			\
	    "Upstream replies with the wrong id or question")		\
	X(upstream_refused, "upstream-refused",				\
	    "Upstream replies REFUSED, SERVFAIL, NOTIMP or FORMERR")	\
	X(coalesced, "coalesced-queries",				\
	    "Questions that joined a fetch already in flight")		\
	X(formerr, "formerr-answers", "Replies FORMERR to malformed queries") \
	X(truncated, "truncated-answers", "Replies sent with TC set")	\
	X(hosts_answers, "hosts-answers", "Questions answered from the hosts file") \
	X(local_answers, "local-answers",				\
	    "Questions answered here: CH class, RFC 6303 zones")	\
	X(stale_answers, "stale-answers", "Questions answered with expired data (RFC 8767)") \
	X(refused_clients, "refused-clients",				\
	    "Queries from clients not allowed, answered REFUSED")	\
	X(dropped, "dropped-queries",					\
	    "Queries dropped: unparseable, too long, or the reply not sent") \
	X(pending_full, "pending-full",					\
	    "Questions answered SERVFAIL or stale because --max-pending was reached") \
	X(tcp_connections, "tcp-connections", "TCP clients accepted")	\
	X(tcp_refused, "tcp-refused",					\
	    "TCP clients turned away: --max-tcp reached or out of descriptors") \
	X(tcp_timeouts, "tcp-timeouts", "TCP clients closed for being idle")

struct server_counters {
#define X(field, name, help) uint64_t field;
	SERVER_COUNTERS(X)
#undef X
	/* not reported as they are: */
	uint64_t qa_latency_n;		/* qa-latency x SERVER_LATENCY_N */
	uint64_t started_ms;		/* loop clock at start: uptime */
	int statm_fd;			/* /proc/self/statm, opened before the sandbox ... */
	int started;			/* ... if server_counters_start() ran */
};

/* pdns's latency-statistic-size default: qa-latency's averaging window. */
#define SERVER_LATENCY_N	10000

/*
 * The answer-latency clock (CLOCK_MONOTONIC, microseconds): read once per
 * batch of queries and once per finished fetch, not per query.
 */
static inline uint64_t
loop_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/*
 * Who asked: the frontend's business.  The resolver keeps it by value
 * while the answer is upstream and hands it back, looking only at when
 * it came in.
 */
struct tcp_conn;
struct client {
	int udp_fd;			/* >= 0: a UDP client on this socket */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct tcp_conn *conn;		/* else: a TCP client ... */
	uint32_t conn_gen;		/* ... if it is still the same connection */
	uint64_t received_us;		/* loop_now_us() when read: the one field the
					 * resolver reads, for the answer latency */
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
