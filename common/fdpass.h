/*
 * SCM_RIGHTS: one record and its descriptors in one sendmsg/recvmsg.
 * The receive side is paranoid: whatever goes wrong, no received
 * descriptor stays open behind the caller's back.
 */
#ifndef FDTOOL_FDPASS_H
#define FDTOOL_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

#define FDPASS_MAX 16	/* most descriptors one call can carry */

/* Returns 0 once the whole record is sent, or -errno.  Never raises SIGPIPE. */
int fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds);

/*
 * Receives one record into buf and up to maxfds descriptors (O_CLOEXEC)
 * into fds, their number in *nfds.  flags are passed to recvmsg (e.g.
 * MSG_DONTWAIT).  Returns the record's length, or -errno with every
 * received descriptor closed and *nfds 0:
 *   -EMSGSIZE  the record was longer than len;
 *   -EBADMSG   more descriptors than maxfds, or control data that is not
 *              SCM_RIGHTS (the kernel truncated or the peer sent junk).
 */
ssize_t fdpass_recv(int sock, void *buf, size_t len, int *fds, size_t maxfds,
    size_t *nfds, int flags);

/* Close n descriptors, keeping errno. */
void fdpass_close_all(int *fds, size_t n);

#endif
