/*
 * A spare descriptor for the moment the descriptor table is full.  A
 * listener with a client waiting stays readable, so a level-triggered
 * loop that cannot accept (EMFILE, ENFILE) would wake for it forever:
 * the spare is given up to take that client off the backlog, then taken
 * again.  It is a dup of a descriptor held anyway (the loop's epoll
 * one): no path to open, nothing a sandbox has to allow.
 */
#ifndef FDTOOL_SPARE_H
#define FDTOOL_SPARE_H

/* If *spare is -1, make it a dup of of.  0, or -errno (it stays -1). */
int spare_take(int *spare, int of);

/*
 * Give up the spare, accept one connection waiting on lfd and turn it
 * away -- a UNIX peer of ours with an ERROR record saying why
 * (fdt_msg_refuse), or with why 0 just closed -- then take the spare
 * again.  0, or -errno from accept4 (-EBADF: no spare to give up).
 */
int spare_turn_away(int *spare, int of, int lfd, int why);

/* Close the spare, if any. */
void spare_close(int *spare);

#endif
