/*
 * The sd_notify(3) protocol, written out (no libsystemd): one datagram of
 * "KEY=value" lines to the socket systemd names in NOTIFY_SOCKET.  The
 * socket is opened and connected early, before the privilege drop and the
 * sandbox, so later sends touch no file and need no right.
 */
#ifndef FDTOOL_NOTIFY_H
#define FDTOOL_NOTIFY_H

/*
 * Connect to $NOTIFY_SOCKET (a path, or "@name" for an abstract socket)
 * and unset it, so children do not inherit it.  Returns 1 when connected,
 * 0 when not run by systemd (every notify_send is then a no-op), -errno
 * (-EINVAL, -ENAMETOOLONG, -EAFNOSUPPORT for other address kinds, or the
 * socket's error).
 */
int notify_open(void);

/*
 * Send one datagram, e.g. notify_send("READY=1\nSTATUS=%s", what).
 * Returns 1 when sent, 0 without a notify socket, -errno (-EMSGSIZE over
 * 4 KiB).  A full systemd queue blocks for at most a second.
 */
int notify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "RELOADING=1" with the MONOTONIC_USEC that Type=notify-reload wants. */
int notify_reloading(void);

/* Close the socket (tests; and a daemon never needs it after exit). */
void notify_close(void);

#endif
