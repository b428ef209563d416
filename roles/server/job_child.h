/*
 * What a job's child runs after fork() (job.h says what a job is).  A
 * writer child's text comes from a producer, one per writer kind, which
 * formats into the writer's buffer; the writer sends it on.
 */
#ifndef FDTOOL_SERVER_JOB_CHILD_H
#define FDTOOL_SERVER_JOB_CHILD_H

#include <stddef.h>

#include "roles/server/job.h"

#define JOB_WRITER_BUF	(4 * 1024 * 1024)	/* the text of any entry fits an empty one */

/* job_write_child.c, job_load_child.c: the children's whole lives. */
void job_write_child(const struct server *s, enum job_kind kind, int out, int feed);
void job_load_child(const struct server *s, enum job_kind kind, int in, int feed);

struct job_writer;

/*
 * At least need bytes free at the end of the buffer (flushing what is
 * there if less is left; need JOB_WRITER_BUF empties it): where to write,
 * with the room there in *cap.  NULL when writing failed: the producer
 * stops, the writer reports why.
 */
char *job_writer_room(struct job_writer *w, size_t need, size_t *cap);

/*
 * n bytes were written at the room.  whole: an entry ends there (it is
 * counted once it is out whole; header or trailer text is not).
 */
void job_writer_commit(struct job_writer *w, size_t n, int whole);

/* A writer kind's text: 0, or nonzero when it stopped early. */
typedef int job_produce_fn(const struct server *s, struct job_writer *w);

/* job_dump_child.c: the cache's snapshot as dump text. */
job_produce_fn job_dump_produce;

#endif
