/*
 * Every counter in the Prometheus text exposition format (version 0.0.4),
 * for GET /metrics and `fdtool control metrics`.
 */
#ifndef FDTOOL_SERVER_PROM_H
#define FDTOOL_SERVER_PROM_H

#include <stddef.h>

#define PROM_TEXT_MAX	(4 * 1024 * 1024)	/* far beyond any set of upstreams */

struct server;

/*
 * The text, malloc'd (the caller frees it), its length in *len; NULL with
 * errno ENOMEM, or EFBIG past PROM_TEXT_MAX.  It must run in the loop: the
 * CPU time (getrusage) and memory (the server's /proc/self/statm
 * descriptor) it reads are the process's own, which in a forked child are
 * the child's or gone.  So `fdtool control metrics` renders here, before
 * its fork, and the writer job only writes the text.
 */
char *prom_render_alloc(const struct server *s, size_t *len);

#endif
