/*
 * What every fdtool daemon loop needs from the system: its signals as a
 * descriptor, and a millisecond clock for timeouts.
 */
#ifndef FDTOOL_DAEMON_H
#define FDTOOL_DAEMON_H

#include <stdint.h>

/*
 * Block SIGTERM, SIGINT and, if with_hup, SIGHUP, and return a
 * non-blocking, close-on-exec signalfd for them; SIGPIPE is ignored (a
 * vanished peer is an error return, not a death).  Returns fd or -errno.
 */
int daemon_signalfd(int with_hup);

/* Milliseconds on the monotonic clock: for timeouts, not for TTLs. */
uint64_t daemon_now_ms(void);

#endif
