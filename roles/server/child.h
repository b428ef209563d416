/*
 * The server's forked processes (the creator it spawns, the dump and
 * load children): forked with a pidfd, watched through it, reaped
 * through it, signalled only while unreaped, so a pid is never a
 * stranger's.  child_keep() is for the child, right after fork().
 */
#ifndef FDTOOL_SERVER_CHILD_H
#define FDTOOL_SERVER_CHILD_H

#include <signal.h>
#include <sys/types.h>

#include "roles/server/loop.h"

struct child {
	struct watched w;	/* its pidfd, of the owner's kind; fd -1 once reaped */
	pid_t pid;		/* kept after the reaping, for the log */
	int killed;		/* by us: its end is no news */
};

/*
 * fork() and, in the parent, open the child's pidfd (close-on-exec) into
 * ch, of kind.  Returns the pid in the parent, 0 in the child, or -errno
 * with no child left behind (one whose pidfd cannot be opened is killed
 * and waited for).
 */
pid_t child_fork(struct child *ch, enum server_kind kind);

/*
 * Has it ended?  1: reaped, *si says how, the pidfd is closed.  0: still
 * running.  -errno: waitid failed (ECHILD: someone else reaped it); the
 * pidfd is closed all the same, as it would stay readable.
 */
int child_reap(struct child *ch, siginfo_t *si);

/* Send sig unless it is reaped already; SIGKILL marks it killed. */
void child_kill(struct child *ch, int sig);

/* Wait up to timeout_ms (-1: for ever) for it to end and reap it: 1 if it did. */
int child_wait(struct child *ch, int timeout_ms);

/*
 * In the child: keep only the n descriptors of fds, moved to 3, 4, ...
 * (close-on-exec; fds is updated), close the rest above 2, set the
 * signals the loop takes through signalfd back to their default and
 * unblock everything.  0 or -errno; the caller _exit()s on failure.
 */
int child_keep(int *fds, int n);

#endif
