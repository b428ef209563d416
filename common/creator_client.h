/*
 * The client side of the creator protocol, for the server and the tests:
 * a bind request in, one or two checked socket descriptors out.
 */
#ifndef FDTOOL_CREATOR_CLIENT_H
#define FDTOOL_CREATOR_CLIENT_H

#include "common/wire.h"

/*
 * Ask the creator on sock to bind b.  Returns the number of descriptors
 * stored in fds (1, or 2 for FDT_PROTO_BOTH: UDP first), or -errno: the
 * creator's refusal as it sent it (-EACCES outside its policy, -EDQUOT
 * over its quota, the bind(2) error), -ETIMEDOUT when no reply came in
 * timeout_ms, -ECONNRESET when the creator went away, -EPROTO when the
 * reply or its sockets are not what was asked for.
 */
int creator_bind(int sock, const struct fdt_bind *b, int fds[FDT_MAX_FDS],
    int timeout_ms);

/* Ask the creator to forget b.  Returns 0, or -errno as above. */
int creator_release(int sock, const struct fdt_bind *b, int timeout_ms);

#endif
