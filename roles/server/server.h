/*
 * The server's shared state.  One process, one epoll loop; every object
 * the loop watches starts with an enum server_kind so one dispatch serves
 * them all.  Everything sized by an option is allocated once, at start.
 */
#ifndef FDTOOL_SERVER_SERVER_H
#define FDTOOL_SERVER_SERVER_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "common/endpoint.h"
#include "roles/server/cache.h"
#include "roles/server/dns.h"
#include "roles/server/hosts.h"

/* --listen and --upstream: "[udp:|tcp:]ADDR[:PORT]", port 53 by default */
#define LISTEN_FLAGS (ENDPOINT_PROTO_OPTIONAL | ENDPOINT_PORT_OPTIONAL | ENDPOINT_NO_RANGE)

#define SERVER_MAX_LISTEN	16
#define SERVER_MAX_UPSTREAM	8
#define SERVER_UDP_BATCH	32
#define SERVER_TCP_QUERY_MAX	4096		/* longest query we read over TCP */
#define SERVER_TCP_OUT_MAX	(256 * 1024)	/* unread replies before we give up */
#define SERVER_SERVFAIL_TTL	5		/* seconds: "not beyond a few" */
#define SERVER_TCP_INFLIGHT	16		/* one client's queries upstream at once */

enum server_kind {
	K_UDP_LISTEN, K_TCP_LISTEN, K_TCP_CLIENT, K_UPSTREAM, K_SIGNAL,
	K_CREATOR, K_CREATOR_PID, K_CONTROL_LISTEN, K_CONTROL, K_CHILD, K_LOADER,
};

#define SERVER_MAX_CONTROL	16	/* control clients at once */
#define SERVER_MAX_CHILDREN	4	/* dumps and loads at once */

struct watched {
	enum server_kind kind;
	int fd;
};

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
	X(servfail, "servfail-answers")					\
	X(formerr, "formerr-answers")					\
	X(nxdomain, "nxdomain-answers")					\
	X(truncated, "truncated-answers")				\
	X(hosts_answers, "hosts-answers")				\
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

struct tcp_conn;
struct udp_batch;

/* Where a reply goes back to. */
struct client {
	int udp_fd;			/* >= 0: a UDP client on this socket */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct tcp_conn *conn;		/* else: a TCP client ... */
	uint32_t conn_gen;		/* ... if it is still the same connection */
};

/* An upstream query in flight: pool-allocated, on the timeout list. */
struct pending {
	struct watched w;		/* the upstream socket, K_UPSTREAM */
	struct pending *prev, *next;	/* deadline order (all timeouts equal) */
	uint64_t deadline;		/* ms */
	struct client client;
	struct dns_query query;		/* the client's, for the reply */
	uint16_t id;			/* ours, upstream */
	uint8_t attempt;		/* how many upstreams were asked */
	uint8_t upstream;		/* index of the one asked now */
	uint8_t tcp;			/* asking over TCP (after TC) */
	uint8_t upstream_failed;	/* an upstream timed out, refused or failed */
	uint8_t *tcpbuf;		/* TCP only: the exchange buffer */
	size_t tcplen, tcpdone;		/* bytes in it, bytes done */
	int tcp_writing;
};

/*
 * A TCP client.  It is on the idle list (oldest progress first) exactly
 * while it waits on nobody but itself: with queries upstream it is off
 * the list, so a slow upstream never times a client out.  Progress is a
 * whole query read or a whole reply written, never a byte.
 */
struct tcp_conn {
	struct watched w;		/* K_TCP_CLIENT; fd -1 when free */
	struct tcp_conn *prev, *next;	/* idle order */
	struct tcp_conn *resume_next;	/* on the resume list */
	int on_idle, on_resume;
	uint64_t last;			/* ms of last progress */
	uint32_t gen;			/* bumped on close: stale replies see it */
	unsigned inflight;		/* its queries waiting upstream */
	size_t inlen;
	uint8_t in[2 + SERVER_TCP_QUERY_MAX];
	uint8_t *out;			/* replies not yet written */
	size_t outlen, outcap, outdone;
	uint32_t events;		/* what epoll watches for now */
	int eof;			/* it shut down its sending side */
};

/*
 * A control client.  One command at a time; a load-cache keeps it busy
 * until its loader child has fed the cache and we have replied.
 */
struct ctl_conn {
	struct watched w;		/* K_CONTROL; fd -1 when free */
	pid_t pid;
	uid_t uid;
	int busy;			/* waiting on a loader */
	uint32_t id;			/* of the request being worked on */
	uint16_t command;
};

/* A forked helper: a dump writer, or a loader feeding us through a socket. */
struct child {
	struct watched w;		/* K_CHILD: its pidfd; -1 when free */
	struct watched feed;		/* K_LOADER: what a loader sends; fd -1 if none */
	pid_t pid;
	struct ctl_conn *conn;		/* a loader's client */
	uint64_t loaded, last_progress;
};

struct server_config {
	struct endpoint listen[SERVER_MAX_LISTEN];
	size_t nlisten;
	struct endpoint upstream[SERVER_MAX_UPSTREAM];
	size_t nupstream;
	const char *creator_path;
	const char *user;
	const char *hosts_path;		/* NULL: --no-hosts */
	const char *resolv_path;
	size_t cache_size;
	uint32_t min_ttl, max_ttl;
	size_t max_tcp;
	size_t max_pending;
	unsigned tcp_idle_ms;
	unsigned upstream_timeout_ms;
	int no_sandbox;
	int log_level;
	const char *control_path;	/* NULL: --no-control */
	int control_explicit;		/* given, so failing to make it is fatal */
	const char *control_group;
	int check_config;		/* --check-config: print, do not run */
	const char *config_file;	/* the file read, or NULL */
};

struct server {
	struct server_config cfg;
	int epfd;
	uint64_t now_ms;		/* read once per loop turn */
	uint64_t now_s;

	struct watched udp[SERVER_MAX_LISTEN];
	size_t nudp;
	struct watched tcp[SERVER_MAX_LISTEN];
	size_t ntcp;
	struct watched signal;
	struct watched creator;		/* our creator child's channel, or fd -1 */
	struct watched creator_pid;	/* its pidfd */
	pid_t creator_child;

	struct sockaddr_storage upstream_addr[SERVER_MAX_UPSTREAM];
	socklen_t upstream_len[SERVER_MAX_UPSTREAM];

	struct watched control;		/* K_CONTROL_LISTEN, or fd -1 */
	uid_t run_uid;			/* who may always use it: us */
	gid_t control_gid;		/* and this group; (gid_t)-1 if none */
	struct ctl_conn ctl[SERVER_MAX_CONTROL];
	struct child children[SERVER_MAX_CHILDREN];
	int quit_nicely;
	uint64_t quit_deadline;		/* ms: quit-nicely gives up waiting here */

	struct cache *cache;
	struct hosts *hosts;
	struct server_counters stats;

	struct pending *pend;		/* max_pending slots */
	struct pending *pend_free;	/* singly linked through next */
	struct pending *pend_head, *pend_tail;	/* in flight, oldest first */
	size_t pend_used;

	struct udp_batch *batch;	/* recvmmsg/sendmmsg buffers */

	struct tcp_conn *conns;		/* max_tcp slots */
	struct tcp_conn *idle_head, *idle_tail;	/* open, least recent first */
	struct tcp_conn *resume_head;	/* got answers back: read on, maybe close */
	size_t nconns;
	int spare_fd;			/* given up to accept-and-close at EMFILE */

	uint8_t rnd[256];		/* getrandom() refill for query ids */
	size_t rnd_left;

	int quit;
	uint8_t reply[DNS_MSG_MAX + 2];	/* a reply being built (+2: TCP length) */
	uint8_t upbuf[DNS_MSG_MAX];	/* an upstream's UDP answer */
};

/* frontend.c: clients */
void server_dispatch_udp(struct server *s, struct watched *w);
void server_dispatch_tcp_listen(struct server *s, struct watched *w);
void server_dispatch_tcp_client(struct server *s, struct tcp_conn *c, uint32_t events);
void server_reply(struct server *s, const struct client *cl, const uint8_t *msg, size_t len);
void server_tcp_expire(struct server *s);
void server_conn_answered(struct server *s, struct tcp_conn *c);
void server_tcp_resume(struct server *s);
int server_frontend_init(struct server *s);
void server_frontend_free(struct server *s);

/* resolve.c: answering one query, upstreams */
size_t server_answer(struct server *s, const uint8_t *pkt, size_t len,
    const struct client *cl, uint8_t *out, size_t cap);
void server_count_reply(struct server *s, const uint8_t *msg, size_t len);
void server_dispatch_upstream(struct server *s, struct pending *p, uint32_t events);
void server_pending_expire(struct server *s);
int server_resolve_init(struct server *s);
void server_resolve_free(struct server *s);
int server_watch(struct server *s, struct watched *w, uint32_t events, void *ptr);

/* control.c: the control socket and its commands */
int server_control_open(struct server *s, uid_t uid, gid_t gid);
void server_dispatch_control_listen(struct server *s);
void server_dispatch_control(struct server *s, struct ctl_conn *c);
void server_dispatch_child(struct server *s, struct child *ch);
void server_dispatch_loader(struct server *s, struct child *ch);
void server_control_tick(struct server *s);
void server_control_close(struct server *s);
int server_counter_get(const struct server *s, const char *name, uint64_t *v);
int server_counter_at(const struct server *s, size_t i, const char **name, uint64_t *v);

/* sockets.c: getting the listening sockets */
int server_acquire_sockets(struct server *s, const char *user);
void server_stop_creator(struct server *s);

/* config.c: settings from the configuration file and the command line */
void server_config_defaults(struct server_config *cfg);
int server_config_parse(struct server_config *cfg, int argc, char **argv);
int server_config_check(const struct server_config *cfg, FILE *f);

#endif
