/*
 * The creator's system-call allow-list: after set-up and drop, only the
 * calls its loop makes (binding sockets and passing them on) are allowed;
 * any other kills it with SIGSYS.  Why each call: docs/seccomp.md.
 */
#ifndef FDTOOL_CREATOR_SECCOMP_H
#define FDTOOL_CREATOR_SECCOMP_H

/* The calls of the creator's loop, NULL-terminated. */
extern const char *const creator_syscalls[];

/* Load the creator's filter here, without probe or log: 0 or -errno. */
int creator_seccomp_load(void);

#endif
