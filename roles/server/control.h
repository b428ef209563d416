/*
 * What the control socket's files share: control.c (peers, commands)
 * calls control_jobs.c (dumps and loads), which calls control_child.c
 * (what a job's child runs); both answer through control_conn.c.
 */
#ifndef FDTOOL_SERVER_CONTROL_H
#define FDTOOL_SERVER_CONTROL_H

#include <stdint.h>
#include <stdnoreturn.h>

#include "roles/server/server.h"

#define PROGRESS_EVERY_MS	1000

/* control_conn.c: a client's connection */
void ctl_close(struct ctl_conn *c);
void ctl_drop(struct ctl_conn *c, int err);
void ctl_reply(struct ctl_conn *c, int status, uint64_t value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ctl_progress(struct ctl_conn *c, uint64_t value);

/*
 * control_jobs.c: dumps and loads, the loop's side.  ctl_dump and
 * ctl_load take the client's descriptor (closed, whatever happens).  A
 * job ends when its child does, when its client leaves (checked in
 * control_jobs_tick, before a slot can be reused) and when it has moved
 * nothing for --control-job-timeout.
 */
void control_jobs_init(struct server *s);
void ctl_dump(struct server *s, struct ctl_conn *c, int fd);
void ctl_load(struct server *s, struct ctl_conn *c, int fd);
void control_jobs_tick(struct server *s);
uint64_t control_jobs_deadline(const struct server *s);
void control_jobs_close(struct server *s);

/*
 * control_child.c: a forked child's whole life; neither returns.  Both
 * report to the loop on feed.  A dump writes to out and sends 'P'
 * entries(8) when bytes moved, then 'D' status(4) entries(8), entries
 * counting those written whole to out.  A loader reads in and sends
 * 'E' ttl(4) negative(1) template..., then 'D' entries(8) expired(8)
 * malformed(8).
 */
#define JOB_DUMP_PROGRESS_LEN	9
#define JOB_DUMP_DONE_LEN	13
#define JOB_LOAD_DONE_LEN	25
noreturn void control_dump_child(const struct server *s, int out, int feed);
noreturn void control_loader_child(int in, int feed);

#endif
