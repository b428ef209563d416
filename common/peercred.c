/*
 * Peer credentials from the kernel, never from the peer's own word.
 */
#include "common/peercred.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

int
peercred_get(int fd, struct peercred *pc)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	socklen_t glen = sizeof(pc->groups);

	memset(pc, 0, sizeof(*pc));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return -errno;
	pc->pid = cred.pid;
	pc->uid = cred.uid;
	pc->gid = cred.gid;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, pc->groups, &glen) != 0) {
		if (errno != ERANGE)
			return -errno;
		glen = 0;	/* too many to read: judge by the primary gid alone */
	}
	pc->ngroups = glen / sizeof(gid_t);
	return 0;
}

int
peercred_allowed(const struct peercred *pc, const uid_t *uids, size_t nuids,
    const gid_t *gids, size_t ngids)
{
	if (pc->uid == 0)
		return 1;
	for (size_t i = 0; i < nuids; i++)
		if (uids[i] == pc->uid)
			return 1;
	for (size_t i = 0; i < ngids; i++) {
		if (gids[i] == pc->gid)
			return 1;
		for (size_t j = 0; j < pc->ngroups; j++)
			if (gids[i] == pc->groups[j])
				return 1;
	}
	return 0;
}
