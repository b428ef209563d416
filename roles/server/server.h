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
#include "roles/server/loop.h"
#include "roles/server/resolve.h"

#define SERVER_MAX_CONTROL	16	/* control clients at once */
#define SERVER_MAX_CHILDREN	4	/* dumps and loads at once */

/*
 * A control client.  One command at a time; a dump or load keeps it
 * busy (job set) until its child has ended and we have replied.  A slot
 * is free when fd is -1 *and* no job is attached: a job is ended before
 * its client's slot can be handed to anyone else.
 */
struct ctl_conn {
	struct watched w;		/* K_CONTROL; fd -1 when closed */
	pid_t pid;
	uid_t uid;
	uint32_t gen;			/* bumped for each new client in this slot */
	struct child *job;		/* its running dump or load, or NULL */
	uint64_t last_active;		/* ms: a request read (the idle timeout) */
	uint32_t id;			/* of the request being worked on */
	uint16_t command;
};

/*
 * A forked helper, a dump writer or a loader, and the socket it reports
 * on: a loader sends parsed entries, a dump how far it got.
 */
struct child {
	struct watched w;		/* K_CHILD: its pidfd; -1 when reaped */
	struct watched feed;		/* K_LOADER: what the child sends; fd -1 when over */
	pid_t pid;
	int killed;			/* by us: its end is no news */
	uint16_t command;		/* FDT_CTL_DUMP_CACHE or FDT_CTL_LOAD_CACHE */
	struct ctl_conn *conn;		/* its client ... */
	uint32_t conn_gen;		/* ... if still the same one */
	uint64_t done;			/* entries loaded, or written by a dump */
	uint64_t last_progress;		/* ms: the child last moved (job timeout) */
	uint64_t last_reported;		/* ms: progress last sent to the client */
	int moved;			/* progress since then */
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
	struct watched creator_pid;	/* its pidfd */
	pid_t creator_child;
	struct watched resolvwatch;	/* K_RESOLVWATCH: resolv.conf changed, or fd -1 */
	uint64_t resolv_due;		/* ms: re-read then (changes come in bursts) */
	int resolv_loaded;		/* read once: a failed re-read keeps it */

	struct watched control;		/* K_CONTROL_LISTEN, or fd -1 */
	uid_t run_uid;			/* who may always use it: us */
	gid_t control_gid;		/* and this group; (gid_t)-1 if none */
	struct ctl_conn ctl[SERVER_MAX_CONTROL];
	int control_spare;		/* given up to refuse a client at EMFILE */
	uint64_t control_paused;	/* ms: accepting again then; 0 if not paused */
	struct child children[SERVER_MAX_CHILDREN];
	int quit_nicely;
	uint64_t quit_deadline;		/* ms: quit-nicely gives up waiting here */

	struct cache *cache;
	struct hosts *hosts;
	struct server_counters stats;
	struct frontend *frontend;
	struct resolver *resolver;

	int quit;
};

/* control.c: the control socket, its commands and the counters */
int server_control_open(struct server *s, uid_t uid, gid_t gid);
void server_dispatch_control_listen(struct server *s);
void server_dispatch_control(struct server *s, struct ctl_conn *c);
void server_control_tick(struct server *s);
uint64_t server_control_deadline(const struct server *s);
void server_control_close(struct server *s);
int server_counter_get(const struct server *s, const char *name, uint64_t *v);
int server_counter_at(const struct server *s, size_t i, const char **name, uint64_t *v);

/* control_jobs.c: dump and load children, the loop's side */
void server_dispatch_child(struct server *s, struct child *ch);
void server_dispatch_loader(struct server *s, struct child *ch);

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

#endif
