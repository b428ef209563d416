/*
 * The creator's table of bound sockets, separate from its event loop so
 * the tests can drive it directly.  One entry is one kernel socket; a
 * "both" request is two entries.  Storage is allocated once, at start.
 */
#ifndef FDTOOL_ROLES_CREATOR_H
#define FDTOOL_ROLES_CREATOR_H

#include <stddef.h>

#include "common/wire.h"

struct creator_entry {
	struct fdt_bind key;	/* proto is UDP or TCP, never both */
	int fd;			/* -1: free slot */
};

struct creator_table {
	struct creator_entry *slots;
	size_t cap;		/* --max-sockets */
	size_t used;
};

int creator_table_init(struct creator_table *t, size_t cap);
void creator_table_free(struct creator_table *t);

/*
 * The socket(s) for b, bound now or held from before: 1 descriptor, or 2
 * for FDT_PROTO_BOTH (UDP first).  The descriptors stay the table's.
 * *fresh says how many were bound by this call.  All or nothing: when one
 * of two fails, neither is kept.  -EDQUOT past the cap; -EINVAL for an
 * instance without SO_REUSEPORT; else the socket/bind/listen errno.
 */
int creator_table_get(struct creator_table *t, const struct fdt_bind *b,
    int fds[FDT_MAX_FDS], int *fresh);

/* Forget (and close our copy of) b's sockets.  0, or -ENOENT if none. */
int creator_table_release(struct creator_table *t, const struct fdt_bind *b);

#endif
