/*
 * One way into a role's seccomp filter for the creator and the server:
 * proved before it is trusted, as the Landlock sandbox is, and said so.
 */
#include "roles/syscall_filter.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "common/log.h"
#include "common/seccomp.h"

void
role_seccomp_enter(const char *const *names, int disabled)
{
	size_t n = 0;
	int r;

	if (disabled) {
		log_warnx("--no-seccomp: running without the system-call filter");
		return;
	}
	/* -EOPNOTSUPP: no filter could be made, e.g. a unit's own
	 * SystemCallFilter= without seccomp */
	if ((r = seccomp_probe(names)) != 0)
		fatalx("the system-call filter does not hold (a probe's %s: %s%s); "
		    "refusing to run (--no-seccomp runs without it)", SECCOMP_PROBE_CALL,
		    r == -EPERM ? "allowed" : r == -ECHILD ? "not killed by SIGSYS" :
		    strerror(-r), r == -EOPNOTSUPP ?
		    ", is seccomp(2) itself filtered, by a service manager?" : "");
	if ((r = seccomp_lock(names, &n)) < 0)
		fatalx("cannot load the system-call filter: %s", strerror(-r));
	log_info("seccomp: %zu system calls allowed; a probe's %s was killed by SIGSYS",
	    n, SECCOMP_PROBE_CALL);
}
