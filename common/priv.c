/*
 * Privilege drop.  libcap-ng does the ordering that is easy to get wrong
 * (keep capabilities across setuid, then drop the keep flag); we add the
 * bounding set, no_new_privs and a check of the result.
 */
#include "common/priv.h"

#include <cap-ng.h>
#include <linux/capability.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef CAP_LAST_CAP
#define CAP_LAST_CAP 40
#endif

static int
parse_id(const char *s, unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno || *end || *v >= UINT_MAX)
		return -EINVAL;
	return 0;
}

int
priv_lookup_user(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res;
	char buf[4096];
	unsigned long v;
	int r;

	if (parse_id(name, &v) == 0) {
		r = getpwuid_r((uid_t)v, &pw, buf, sizeof(buf), &res);
		if (r == 0 && !res) {
			/* A bare number need not be in passwd; its group is itself. */
			*uid = (uid_t)v;
			*gid = (gid_t)v;
			return 0;
		}
	} else
		r = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
	if (r != 0)
		return -r;
	if (!res)
		return -ENOENT;
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

int
priv_lookup_group(const char *name, gid_t *gid)
{
	struct group gr, *res;
	char buf[4096];
	unsigned long v;
	int r;

	if (parse_id(name, &v) == 0) {
		*gid = (gid_t)v;
		return 0;
	}
	r = getgrnam_r(name, &gr, buf, sizeof(buf), &res);
	if (r != 0)
		return -r;
	if (!res)
		return -ENOENT;
	*gid = gr.gr_gid;
	return 0;
}

int
priv_drop(uid_t uid, gid_t gid, uint64_t keep)
{
	struct priv_state st;
	int r;

	capng_clear(CAPNG_SELECT_ALL);
	for (unsigned c = 0; c <= CAP_LAST_CAP; c++)
		if (keep & PRIV_CAP(c))
			capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
			    CAPNG_BOUNDING_SET, c);
	/* The bounding set first: dropping it needs CAP_SETPCAP, which the
	 * uid change takes away. */
	if (capng_apply(CAPNG_SELECT_BOUNDS) != 0)
		return -EPERM;
	r = capng_change_id((int)uid, (int)gid, CAPNG_DROP_SUPP_GRP);
	if (r != 0)
		return -EPERM;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;

	if ((r = priv_read(&st)) < 0)
		return r;
	if (st.ruid != uid || st.euid != uid || st.suid != uid ||
	    st.rgid != gid || st.egid != gid || st.sgid != gid ||
	    st.ngroups != 0 || st.eff != keep || st.prm != keep ||
	    st.bnd != keep || st.inh != 0 || st.amb != 0 || !st.no_new_privs)
		return -EPERM;
	return 0;
}

int
priv_clear(void)
{
	struct priv_state st;
	int r;

	if ((r = priv_read(&st)) < 0)
		return r;
	capng_clear(CAPNG_SELECT_ALL);
	/* only a holder of CAP_SETPCAP may shrink the bounding set */
	if ((st.eff & PRIV_CAP(CAP_SETPCAP)) && capng_apply(CAPNG_SELECT_BOUNDS) != 0)
		return -EPERM;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
		return -EPERM;
	/* nothing held, nothing to give up: no capset, which a seccomp
	 * filter such as fdtool-server.service's may deny */
	if ((st.eff | st.prm | st.inh) && capng_apply(CAPNG_SELECT_CAPS) != 0)
		return -EPERM;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;
	if ((r = priv_read(&st)) < 0)
		return r;
	if (st.eff || st.prm || st.inh || st.amb || !st.no_new_privs)
		return -EPERM;
	return 0;
}

int
priv_read(struct priv_state *st)
{
	int r;

	memset(st, 0, sizeof(*st));
	if (getresuid(&st->ruid, &st->euid, &st->suid) != 0 ||
	    getresgid(&st->rgid, &st->egid, &st->sgid) != 0)
		return -errno;
	if ((st->ngroups = getgroups(0, NULL)) < 0)
		return -errno;
	if ((r = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)) < 0)
		return -errno;
	st->no_new_privs = r;

	capng_clear(CAPNG_SELECT_ALL);
	if (capng_get_caps_process() != 0)
		return -EIO;
	for (unsigned c = 0; c <= CAP_LAST_CAP; c++) {
		uint64_t bit = PRIV_CAP(c);
		if (capng_have_capability(CAPNG_EFFECTIVE, c))
			st->eff |= bit;
		if (capng_have_capability(CAPNG_PERMITTED, c))
			st->prm |= bit;
		if (capng_have_capability(CAPNG_INHERITABLE, c))
			st->inh |= bit;
		if (capng_have_capability(CAPNG_BOUNDING_SET, c))
			st->bnd |= bit;
		if (capng_have_capability(CAPNG_AMBIENT, c))
			st->amb |= bit;
	}
	return 0;
}
