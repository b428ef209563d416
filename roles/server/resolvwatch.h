/*
 * Noticing that resolv.conf changed, however it changed: edited in
 * place, replaced by rename, deleted and made again, or a symlink (as
 * systemd-resolved's) whose target is replaced.  inotify on directories.
 */
#ifndef FDTOOL_SERVER_RESOLVWATCH_H
#define FDTOOL_SERVER_RESOLVWATCH_H

/*
 * An inotify descriptor (non-blocking, close-on-exec) watching path's
 * directory and, if path is a symlink, the directory of each link on the
 * way to the file (up to RESOLVWATCH_HOPS).  Directories, not the file:
 * a watch on the file's inode would be lost when a rename replaces it.
 * A link target whose directory does not exist yet (/run/systemd/resolve
 * before resolved starts) is not an error: its nearest existing ancestor
 * is watched for the missing component instead.  Returns the fd, or
 * -errno if path's own directory cannot be watched.
 */
#define RESOLVWATCH_HOPS	8
int resolvwatch_open(const char *path);

/*
 * Drain the events waiting on fd: 1 if any concerns path (its base name
 * or, through symlinks, a target's), the queue overflowed or a watched
 * directory went away; 0 if none did; -errno on a read error other than
 * EAGAIN.  On 1 the watches are renewed for the link targets as they are
 * now, so a re-pointed symlink is followed on the same fd.  Reads at most
 * RESOLVWATCH_READS buffers per call so that a busy directory cannot hold
 * the loop; with level-triggered epoll the rest comes at the next wake-up.
 */
#define RESOLVWATCH_READS	64
int resolvwatch_changed(int fd, const char *path);

#endif
