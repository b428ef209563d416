/*
 * Logging for the roles: one line per event on stderr, prefixed with the
 * role and the level (and, under journald, a <N> syslog priority; on a
 * terminal, a timestamp).  Library code in common/ never logs; it returns
 * -errno and the role reports it once, at the boundary.
 */
#ifndef FDTOOL_LOG_H
#define FDTOOL_LOG_H

#include <stdnoreturn.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Sets the prefix and level, and looks once at where stderr goes. */
void log_init(const char *ident, enum log_level level);
int log_level_parse(const char *name);     /* level, or -EINVAL */
const char *log_level_name(int level);     /* "error" ... "debug" */

/* The *warn variants append ": strerror(errno)", like warn(3). */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Rate-limited warnings, for events a peer or the system can repeat at will
 * (a full descriptor table, a hostile client): one struct log_limit per
 * call site, zero-initialised (static).  At most LOG_LIMIT_BURST lines per
 * LOG_LIMIT_WINDOW_S seconds; the first line after a window that dropped
 * some ends with " (N more in the last 10 s)".
 */
#define LOG_LIMIT_BURST		5
#define LOG_LIMIT_WINDOW_S	10
struct log_limit {
	long long window_start_ms;	/* CLOCK_MONOTONIC; 0: never used */
	unsigned shown;			/* lines in this window */
	unsigned dropped;		/* lines not shown since the last one shown */
};
void log_warn_limited(struct log_limit *rl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_warnx_limited(struct log_limit *rl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
