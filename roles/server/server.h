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
#include "roles/server/frontend.h"
#include "roles/server/hosts.h"
#include "roles/server/job.h"
#include "roles/server/loop.h"
#include "roles/server/metrics_http.h"
#include "roles/server/resolve.h"

#define SERVER_MAX_CONTROL	16	/* control clients at once */
#define SERVER_MAX_REC_CONTROL	8	/* rec_control clients at once */
#define SERVER_MAX_CHILDREN	4	/* dumps and loads at once */

/*
 * A control client.  One command at a time; a dump or load keeps it
 * busy (job set) until its child has ended and we have replied.  A slot
 * is free when fd is -1 *and* no job is attached: a job is ended before
 * its client's slot can be handed to anyone else.
 */
enum ctl_proto {
	CTL_NATIVE,			/* fdtool control: SEQPACKET, struct fdt_msg */
	CTL_REC,			/* rec_control: a stream, PowerDNS's framing */
};

struct rec_io;

struct ctl_conn {
	struct watched w;		/* K_CONTROL / K_REC_CONTROL; fd -1 when closed */
	enum ctl_proto proto;
	pid_t pid;
	uid_t uid;
	uint32_t gen;			/* bumped for each new client in this slot */
	struct job *job;		/* its running dump or load, or NULL */
	uint64_t last_active;		/* ms: a request read (the idle timeout) */
	uint32_t id;			/* of the request being worked on */
	uint16_t command;
	struct rec_io *rec;		/* CTL_REC: its request and reply (control_rec.c) */
};

/* A control socket, the native one or rec_control's, and its clients' slots. */
struct ctl_listener {
	struct watched w;		/* K_CONTROL_LISTEN / K_REC_CONTROL_LISTEN; fd -1: none */
	enum ctl_proto proto;
	const char *path;
	int spare;			/* given up to refuse a client at EMFILE */
	uint64_t paused;		/* ms: accepting again then; 0 if not paused */
	struct ctl_conn *conn;		/* its slots */
	size_t nconn;
};

struct server {
	struct server_config cfg;
	int epfd;
	struct loop_clock clock;	/* read once per loop turn */

	struct watched udp[SERVER_MAX_LISTEN];
	size_t nudp;
	struct watched tcp[SERVER_MAX_LISTEN];
	size_t ntcp;
	struct watched signal;
	struct watched creator;		/* our creator child's channel, or fd -1 */
	struct child creator_child;	/* K_CREATOR_PID: its pidfd; pid 0 if none */
	struct watched resolvwatch;	/* K_RESOLVWATCH: resolv.conf changed, or fd -1 */
	uint64_t resolv_due;		/* ms: re-read then (changes come in bursts) */
	int resolv_loaded;		/* read once: a failed re-read keeps it */

	struct ctl_listener control;	/* fdtool control's socket */
	struct ctl_listener rec_control;	/* rec_control's (--rec-control) */
	uid_t run_uid;			/* who may always use them: us */
	gid_t control_gid;		/* and this group; (gid_t)-1 if none */
	struct ctl_conn ctl[SERVER_MAX_CONTROL];
	struct ctl_conn rec[SERVER_MAX_REC_CONTROL];
	struct job jobs[SERVER_MAX_CHILDREN];
	const char *job_text;		/* a JOB_TEXT's text, for the child forked now */
	size_t job_text_len;
	int quit_nicely;
	uint64_t quit_deadline;		/* ms: quit-nicely gives up waiting here */

	struct cache *cache;
	struct hosts *hosts;
	struct server_counters stats;
	struct frontend *frontend;
	struct resolver *resolver;
	struct watched metrics_listen;	/* K_METRICS_LISTEN (--metrics-listen), or fd -1 */
	struct metrics_http *metrics;	/* GET /metrics on it, or NULL */

	int quit;
};

/* control.c: the control socket, its commands and the counters */
int server_control_open(struct server *s, uid_t uid, gid_t gid);
void server_dispatch_control_listen(struct server *s, struct ctl_listener *l);
void server_dispatch_control(struct server *s, struct ctl_conn *c);
void server_dispatch_rec_control(struct server *s, struct ctl_conn *c, uint32_t events);
void server_control_tick(struct server *s);
uint64_t server_control_deadline(const struct server *s);
void server_control_close(struct server *s);

/*
 * counters.c: every counter, with what Prometheus needs to export it.  The
 * strings stay valid until the next call.
 */
struct counter {
	const char *name;	/* get/get-all name: pdns's where the meaning is the same */
	uint64_t value;
	int gauge;		/* 1: a level (entries, concurrent-queries...); 0: a count since start */
	const char *help;	/* one line for # HELP */
	/* per-upstream ones (name "upstream[ZONE@ADDR].FIELD"); else NULL */
	const char *upstream;	/* "ADDR" text */
	const char *zone;	/* forward zone text, NULL for the default set */
	const char *field;	/* "queries", "srtt-ms", ... */
};
/* Before the sandbox: uptime starts, /proc/self/statm is opened. */
int server_counters_start(struct server *s);
void server_counters_stop(struct server *s);
int server_counter_at(const struct server *s, size_t i, struct counter *c);
int server_counter_get(const struct server *s, const char *name, struct counter *c);


/* upstream_conf.c: upstreams from the options or from resolv.conf */
int server_socket_address(int fd, struct sockaddr_storage *ss);
const uint8_t *server_sockaddr_addr(const struct sockaddr_storage *ss, size_t *len,
    uint16_t *port);
void server_check_upstreams(const struct server *s);
void server_load_resolvconf(struct server *s);
void server_watch_resolvconf(struct server *s);
void server_dispatch_resolvwatch(struct server *s);
uint64_t server_resolvconf_deadline(const struct server *s);
void server_resolvconf_tick(struct server *s);

/* sockets.c: getting the listening sockets */
int server_acquire_sockets(struct server *s, const char *user);
void server_stop_creator(struct server *s);

/* config.c: settings from the configuration file and the command line */
void server_config_defaults(struct server_config *cfg);
int server_config_parse(struct server_config *cfg, int argc, char **argv);
int server_config_check(const struct server_config *cfg, FILE *f);
void server_config_print(const struct server_config *cfg, FILE *f, int comments);
int server_config_metrics_clash(const struct server_config *cfg);
int server_config_value(const struct server_config *cfg, const char *name, char *out,
    size_t size);

#endif
