/*
 * Entering a role's system-call filter, for both daemon roles: the probe
 * first, then the filter itself, each failure fatal, and one log line
 * saying what holds.  The lists live with their roles.
 */
#ifndef FDTOOL_SYSCALL_FILTER_H
#define FDTOOL_SYSCALL_FILTER_H

/*
 * Prove the filter for names (NULL-terminated) with seccomp_probe, then
 * load it in this process; fatal if either fails.  disabled
 * (--no-seccomp): a warning, and nothing else.
 */
void role_seccomp_enter(const char *const *names, int disabled);

#endif
