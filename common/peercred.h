/*
 * Who is on the other end of a UNIX socket, and whether we trust them:
 * shared by the creator's --listen socket and the server's control socket.
 */
#ifndef FDTOOL_PEERCRED_H
#define FDTOOL_PEERCRED_H

#include <stddef.h>
#include <sys/types.h>

#define PEERCRED_MAX_GROUPS	64	/* supplementary groups looked at */

struct peercred {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	gid_t groups[PEERCRED_MAX_GROUPS];	/* supplementary */
	size_t ngroups;
};

/*
 * SO_PEERCRED, and SO_PEERGROUPS for the supplementary groups (a peer
 * with more than PEERCRED_MAX_GROUPS is judged by its primary gid alone,
 * which can only deny, never grant).  Returns 0 or -errno.
 */
int peercred_get(int fd, struct peercred *pc);

/* Root, a listed uid, or a listed gid (primary or supplementary). */
int peercred_allowed(const struct peercred *pc, const uid_t *uids, size_t nuids,
    const gid_t *gids, size_t ngids);

#endif
