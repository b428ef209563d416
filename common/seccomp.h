/*
 * System-call allow-lists (seccomp with libseccomp), shared by the roles:
 * each role names the calls its loop makes, and anything else kills the
 * process with SIGSYS.  libseccomp knows every architecture's numbers and
 * builds the BPF; the lists themselves live with their roles.
 */
#ifndef FDTOOL_SECCOMP_H
#define FDTOOL_SECCOMP_H

#include <stddef.h>

/* What seccomp_probe calls: no list may name it. */
#define SECCOMP_PROBE_CALL	"execve"

/*
 * Load a filter in this process that allows exactly the calls in names
 * (NULL-terminated; a name this architecture lacks is skipped) and kills
 * the whole process with SIGSYS on any other, asking the kernel to log
 * the kill.  Under FDTOOL_ASAN the sanitizer runtime's own calls are
 * added.  The caller must have set no_new_privs (priv_drop and
 * sandbox_enter do).  *nallowed (if not NULL) is the count of rules.
 * Returns 0, -EINVAL for a name libseccomp does not know, or -errno.
 */
int seccomp_allow_only(const char *const *names, size_t *nallowed);

/* no_new_privs set here, then seccomp_allow_only: what a role calls. */
int seccomp_lock(const char *const *names, size_t *nallowed);

/*
 * Prove that the filter for names kills: fork a child that loads it
 * (dumpable off, so the kill leaves no core) and calls execve(2), which
 * no list allows.  Returns 0 if the child died of SIGSYS, -EPERM if the
 * call was let through, -ECHILD if it died otherwise, or -errno (the
 * child could not load the filter, or fork failed).  Call it before
 * loading the same list in this process.
 */
int seccomp_probe(const char *const *names);

#endif
