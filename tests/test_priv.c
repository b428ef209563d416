/*
 * Privilege helpers.  Criterion runs each test in a child process, so a
 * test may drop its own privileges and look at what is left.
 */
#include <cap-ng.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/priv.h"
#include "tests/helpers.h"

Test(priv, lookup)
{
	uid_t uid;
	gid_t gid;

	cr_assert_eq(priv_lookup_user("root", &uid, &gid), 0);
	cr_assert_eq(uid, 0);
	cr_assert_eq(priv_lookup_user("nobody", &uid, &gid), 0);
	cr_assert_eq(uid, 65534);
	cr_assert_eq(priv_lookup_user("4242", &uid, &gid), 0, "a bare uid need not be in passwd");
	cr_assert_eq(uid, 4242);
	cr_assert_eq(gid, 4242);
	cr_assert_eq(priv_lookup_user("no-such-user-fdtool", &uid, &gid), -ENOENT);
	cr_assert_eq(priv_lookup_group("root", &gid), 0);
	cr_assert_eq(gid, 0);
	cr_assert_eq(priv_lookup_group("no-such-group-fdtool", &gid), -ENOENT);
}

Test(priv, read_matches_what_the_kernel_reports)
{
	struct priv_state st;
	char v[64];

	cr_assert_eq(priv_read(&st), 0);
	cr_assert_eq(st.euid, geteuid());
	cr_assert_eq(proc_status_field(getpid(), "CapEff", v, sizeof(v)), 0);
	cr_assert_eq(strtoull(v, NULL, 16), st.eff);
	cr_assert_eq(proc_status_field(getpid(), "CapBnd", v, sizeof(v)), 0);
	cr_assert_eq(strtoull(v, NULL, 16), st.bnd);
}

static int
bind_low_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(1023),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int r = bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 ? 0 : -errno;

	close(fd);
	return r;
}

Test(priv, drop_keeps_exactly_the_given_capability)
{
	if (!is_root())
		cr_skip_test("needs root: changes uid and capabilities");
	struct priv_state st;

	cr_assert_eq(priv_drop(65534, 65534, PRIV_CAP(CAP_NET_BIND_SERVICE)), 0);
	cr_assert_eq(priv_read(&st), 0);
	cr_assert_eq(st.ruid, 65534);
	cr_assert_eq(st.suid, 65534);
	cr_assert_eq(st.egid, 65534);
	cr_assert_eq(st.ngroups, 0);
	cr_assert_eq(st.eff, 0x400);
	cr_assert_eq(st.prm, 0x400);
	cr_assert_eq(st.bnd, 0x400);
	cr_assert_eq(st.inh, 0);
	cr_assert_eq(st.amb, 0);
	cr_assert_eq(st.no_new_privs, 1);
	cr_assert_eq(bind_low_port(), 0, "CAP_NET_BIND_SERVICE does not work");
	cr_assert_neq(setuid(0), 0, "could become root again");
}

Test(priv, drop_to_nothing)
{
	if (!is_root())
		cr_skip_test("needs root: changes uid and capabilities");
	struct priv_state st;

	cr_assert_eq(priv_drop(65534, 65534, 0), 0);
	cr_assert_eq(priv_read(&st), 0);
	cr_assert_eq(st.eff | st.prm | st.bnd | st.inh | st.amb, 0);
	cr_assert_eq(bind_low_port(), -EACCES);
}

Test(priv, drop_without_privilege_fails)
{
	if (is_root())
		cr_assert_eq(setresuid(65534, 65534, 65534), 0);
	cr_assert_eq(priv_drop(0, 0, PRIV_CAP(CAP_NET_BIND_SERVICE)), -EPERM);
}

Test(priv, clear_drops_capabilities_kept_without_root)
{
	if (!is_root())
		cr_skip_test("needs root: sets up ambient capabilities for a non-root uid");
	struct priv_state st;

	/* what systemd's AmbientCapabilities= hands a non-root service */
	cr_assert_eq(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0), 0);
	cr_assert_eq(setresgid(65534, 65534, 65534), 0);
	cr_assert_eq(setresuid(65534, 65534, 65534), 0);
	capng_get_caps_process();
	capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_INHERITABLE, CAP_NET_BIND_SERVICE);
	cr_assert_eq(capng_apply(CAPNG_SELECT_CAPS), 0);
	cr_assert_eq(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0), 0);
	cr_assert_eq(priv_read(&st), 0);
	cr_assert_neq(st.amb, 0, "set-up: no ambient capability to clear");

	cr_assert_eq(priv_clear(), 0);
	cr_assert_eq(priv_read(&st), 0);
	cr_assert_eq(st.eff | st.prm | st.inh | st.amb, 0);
	cr_assert_eq(st.no_new_privs, 1);
	cr_assert_eq(bind_low_port(), -EACCES);
}
