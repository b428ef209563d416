/*
 * One request, its reply: the call every native client makes (the
 * server asking its creator, fdtool control asking the server).
 */
#ifndef FDTOOL_CALL_H
#define FDTOOL_CALL_H

#include "common/wire.h"

/* Told of each interim reply (FDT_CTL_F_PROGRESS) as it comes. */
typedef void fdt_progress_fn(const struct fdt_msg *rep, void *arg);

/*
 * Send req (its id chosen by the caller, never 0) with fd attached when
 * fd >= 0, and wait for the reply of the matching type with its id.
 * Replies with another id are late answers to an earlier call and are
 * skipped (their descriptors closed).  Interim replies start timeout_ms
 * again, so it bounds silence, not the whole call.  Returns the number
 * of descriptors the reply brought, in fds (closed when fds is NULL),
 * with the reply in rep, whatever its status; or -errno: -ETIMEDOUT no
 * reply in time, -ECONNRESET the peer went away, -EPROTO a record or a
 * reply that is not what was asked for, -status of an ERROR record (a
 * peer refusing us says why with id 0 before it hangs up), -EINVAL for
 * an id of 0, or the send error.
 */
int fdt_call(int sock, const struct fdt_msg *req, int fd, struct fdt_msg *rep,
    int fds[FDT_MAX_FDS], int timeout_ms);
int fdt_call_progress(int sock, const struct fdt_msg *req, int fd, struct fdt_msg *rep,
    int fds[FDT_MAX_FDS], int timeout_ms, fdt_progress_fn *progress, void *arg);

#endif
