/*
 * The server's system-call allow-list: after set-up, drop and sandbox,
 * only the calls its loop (and its dump and load children) make are
 * allowed; any other kills it with SIGSYS.  The lists and why each call
 * is on them: docs/seccomp.md.
 */
#ifndef FDTOOL_SERVER_SECCOMP_H
#define FDTOOL_SERVER_SECCOMP_H

/* The calls of the server's loop, NULL-terminated (for tests and docs). */
extern const char *const server_syscalls[];
/* What a dump or load child still makes once it is on its own. */
extern const char *const server_child_syscalls[];

/* Load the server's filter here, without probe or log: 0 or -errno. */
int server_seccomp_load(void);

/*
 * In a freshly forked dump or load child: stack the narrower list on the
 * inherited one.  0 or -errno; the child goes on without it on failure
 * (the server's filter still holds).
 */
int server_seccomp_child(void);

#endif
