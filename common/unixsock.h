/*
 * SOCK_SEQPACKET UNIX sockets at a path: the creator's --listen socket
 * and the server's control socket.
 */
#ifndef FDTOOL_UNIXSOCK_H
#define FDTOOL_UNIXSOCK_H

#include <sys/types.h>

/*
 * Listen at path with the given mode, owned by uid:gid ((uid_t)-1 and
 * (gid_t)-1 leave them).  A missing parent directory is made, mode 0755,
 * owned by whoever calls (root, before a daemon drops): a daemon that
 * has dropped may be unable to remove its socket at exit, and the next
 * start replaces it.  A stale socket nobody answers on is replaced; a
 * live one gives -EADDRINUSE; a non-socket -EEXIST.  PATH appears only
 * once it listens.
 * Returns a non-blocking, close-on-exec descriptor or -errno.
 */
int unixsock_listen(const char *path, mode_t mode, uid_t uid, gid_t gid);
int unixsock_listen_stream(const char *path, mode_t mode, uid_t uid, gid_t gid);

/* Connect to path; returns a close-on-exec descriptor or -errno. */
int unixsock_connect(const char *path);

#endif
