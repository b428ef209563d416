/*
 * The creator the server spawns, on the child's side of the fork()
 * (sockets.c does the parent's).
 */
#ifndef FDTOOL_SERVER_CREATOR_CHILD_H
#define FDTOOL_SERVER_CREATOR_CHILD_H

#include <stdnoreturn.h>

/*
 * Right after child_fork(): keep only fd (the channel's end) at 3, open
 * across the exec, and stdio, then exec this binary with argv; _exit(127)
 * if any of it fails.
 */
noreturn void creator_exec_child(int fd, char *const argv[]);

#endif
