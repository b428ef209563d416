/*
 * A control client's job: a forked child (child.h) doing the slow part
 * (writing a dump, reading a load) and the SEQPACKET socket it reports
 * on in common/jobmsg.h records.  job.c holds what every job shares on
 * the loop's side (slots, the tie to the client, progress, the stall
 * timeout, the end); each kind brings its ops: job_write.c (dump-cache
 * and any other text written to a passed descriptor), job_load.c.
 * What runs after fork() is in job_*_child.c (job_child.h).
 */
#ifndef FDTOOL_SERVER_JOB_H
#define FDTOOL_SERVER_JOB_H

#include <stdint.h>

#include "roles/server/child.h"
#include "roles/server/loop.h"

struct server;
struct ctl_conn;
struct jobmsg;
struct job;

enum job_kind {
	JOB_DUMP,		/* a writer: the cache as dump text */
	JOB_LOAD,		/* a loader: dump text into the cache */
	JOB_TEXT,		/* a writer: a text the loop made before the fork */
	JOB_KIND_MAX = JOB_TEXT,
};

/* What a kind of job is: its names, and its work on both sides. */
struct job_ops {
	const char *name;		/* "dump": in replies ("the dump ended early") */
	const char *command;		/* "dump-cache": in the log */
	int writes;			/* the passed descriptor is written to, else read */
	/* after fork(), the child's whole life: does not return */
	void (*child)(const struct server *s, enum job_kind kind, int fd, int feed);
	/*
	 * One record from the child: 0 to go on; 1 when the client has its
	 * answer and the job is over; -EPROTO for a record this kind never
	 * sends (the job is ended, the client told).
	 */
	int (*record)(struct server *s, struct job *j, struct ctl_conn *c,
	    const struct jobmsg *m);
};

/*
 * A job.  Its slot is free once the child is reaped (proc.w.fd -1) and
 * its report socket closed (feed.fd -1).  It keeps its client's slot
 * generation: a client slot may serve someone else by the time the job
 * would answer.
 */
struct job {
	struct child proc;		/* K_CHILD: its pidfd */
	struct watched feed;		/* K_LOADER: what the child reports; fd -1 when over */
	enum job_kind kind;
	const struct job_ops *ops;
	struct ctl_conn *conn;		/* its client ... */
	uint32_t conn_gen;		/* ... if still the same one */
	uint64_t done;			/* entries loaded, or written whole */
	uint64_t last_progress;		/* ms: the child last moved (job timeout) */
	uint64_t last_reported;		/* ms: progress last sent to the client */
	int moved;			/* progress since then */
};

/*
 * job.c: start a job of kind on fd (the client's descriptor, closed here
 * whatever happens) and tie it to c; replies itself when it cannot.
 */
void job_start(struct server *s, struct ctl_conn *c, int fd, enum job_kind kind,
    const struct job_ops *ops);

/*
 * job_write.c: a child writing text to fd, a PIPE_BUF piece at a time
 * after poll (the descriptor stays blocking: it is the client's), with
 * progress and an answer that counts entries written whole.  kind says
 * what text (job_write_child.c's producers).
 */
void job_write_start(struct server *s, struct ctl_conn *c, int fd, enum job_kind kind);

/* job_load.c: a child parsing dump text from fd; its entries go into the cache. */
void job_load_start(struct server *s, struct ctl_conn *c, int fd);

/* The loop's side (job.c): its two kinds of wake-up, its deadlines, the end. */
void server_dispatch_child(struct server *s, struct watched *w);	/* K_CHILD */
void server_dispatch_job(struct server *s, struct watched *w);		/* K_LOADER */

#endif
