/*
 * What the control files share: control.c (the sockets, peers, native
 * records) and control_rec.c (rec_control's protocol) dispatch through
 * control_cmds.c (the command table), whose dumps and loads are jobs
 * (job.h); everything answers through control_conn.c.
 */
#ifndef FDTOOL_SERVER_CONTROL_H
#define FDTOOL_SERVER_CONTROL_H

#include <stdarg.h>
#include <stdint.h>
#include <stdnoreturn.h>

#include "roles/server/server.h"

#define PROGRESS_EVERY_MS	1000

/* control_conn.c: a client's connection, either protocol */
void ctl_close(struct ctl_conn *c);
void ctl_drop(struct ctl_conn *c, int err);
void ctl_reply(struct ctl_conn *c, int status, uint64_t value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ctl_append(struct ctl_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ctl_progress(struct ctl_conn *c, uint64_t value);

/*
 * control_cmds.c: the one command table both protocols dispatch through.
 * A handler owns args->fd (closes it or hands it to a job) and answers
 * with ctl_reply(), now or, for a job, when the job ends.
 */
#define CTL_MAX_ARGS	64

struct ctl_args {
	int argc;
	char *argv[CTL_MAX_ARGS];	/* the words after the command */
	uint64_t value;			/* native: the record's value field */
	int fd;				/* the descriptor passed, or -1 */
};

#define CTL_CMD_FD	0x1	/* needs a descriptor */
#define CTL_CMD_REC	0x2	/* served on rec_control's socket too */

struct ctl_cmd {
	const char *name;		/* as typed, after rec_control or fdtool control */
	uint16_t native;		/* FDT_CTL_*; 0: rec_control's only */
	unsigned flags;			/* CTL_CMD_* */
	const char *usage;		/* rec_control's help: arguments ... */
	const char *help;		/* ... and what it does */
	void (*run)(struct server *s, struct ctl_conn *c, struct ctl_args *a);
};

const struct ctl_cmd *ctl_cmd_native(uint16_t command);
const struct ctl_cmd *ctl_cmd_named(const char *name, enum ctl_proto proto);
void ctl_cmd_run(struct server *s, struct ctl_conn *c, const struct ctl_cmd *cmd,
    struct ctl_args *a);

/* control_rec.c: rec_control's protocol on one connection */
int rec_io_new(struct ctl_conn *c, int epfd, const struct loop_clock *clock, uint64_t idle_ms);
void rec_refuse(int fd, const char *why);
void rec_io_free(struct ctl_conn *c);
void rec_reply(struct ctl_conn *c, int status, uint64_t value, const char *text);
void rec_vappend(struct ctl_conn *c, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
uint64_t rec_deadline(const struct ctl_conn *c);

/*
 * job.c, job_write.c, job_load.c (job.h): dumps and loads, started by
 * job_write_start() and job_load_start(), which take the client's
 * descriptor (closed, whatever happens).  A job ends when its child does, when its client leaves (checked in
 * control_jobs_tick, before a slot can be reused) and when it has moved
 * nothing for --control-job-timeout.
 */
void control_jobs_init(struct server *s);
void control_jobs_tick(struct server *s);
uint64_t control_jobs_deadline(const struct server *s);
void control_jobs_close(struct server *s);

#endif
