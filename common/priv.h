/*
 * Dropping privilege with libcap-ng, and reading back what the process
 * really holds, so a role can prove its drop instead of trusting it.
 */
#ifndef FDTOOL_PRIV_H
#define FDTOOL_PRIV_H

#include <stdint.h>
#include <sys/types.h>

#define PRIV_CAP(c)	(UINT64_C(1) << (c))

struct priv_state {
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	int ngroups;		/* supplementary groups */
	uint64_t inh, prm, eff, bnd, amb;
	int no_new_privs;
};

/* Look up a user by name or number. Returns 0 or -ENOENT / -errno. */
int priv_lookup_user(const char *name, uid_t *uid, gid_t *gid);
/* Look up a group by name or number. */
int priv_lookup_group(const char *name, gid_t *gid);

/*
 * Become uid/gid with no supplementary groups, holding exactly `keep`
 * (a PRIV_CAP mask) as effective and permitted capabilities and as the
 * bounding set, nothing inheritable or ambient, and no_new_privs set.
 * Needs CAP_SETUID, CAP_SETGID and CAP_SETPCAP.  Returns 0 only after
 * priv_read() confirms all of it; -EPERM if the kernel disagrees.
 */
int priv_drop(uid_t uid, gid_t gid, uint64_t keep);

/*
 * Without changing uid: give up every capability (effective, permitted,
 * inheritable, ambient; the bounding set too when CAP_SETPCAP allows) and
 * set no_new_privs.  For a process started unprivileged but with
 * capabilities (systemd AmbientCapabilities=, file capabilities).
 * Returns 0 once priv_read() confirms it, else -EPERM.
 */
int priv_clear(void);

/* What this process holds now. */
int priv_read(struct priv_state *st);

#endif
