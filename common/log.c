/*
 * stderr logging.  Every entry point preserves errno so that a log call
 * between a failing syscall and its error check cannot change the outcome.
 */
#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *log_ident = "fdtool";
static enum log_level log_max = LOG_LVL_INFO;

static const char *const level_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warning",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

void
log_init(const char *ident, enum log_level level)
{
	log_ident = ident;
	log_max = level;
}

int
log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return (int)i;
	if (strcasecmp(name, "warn") == 0)
		return LOG_LVL_WARN;
	return -EINVAL;
}

static void
log_vemit(enum log_level level, int err, const char *fmt, va_list ap)
{
	char line[1024];
	int saved = errno;

	if (level > log_max) {
		errno = saved;
		return;
	}
	vsnprintf(line, sizeof(line), fmt, ap);
	if (err)
		fprintf(stderr, "%s: %s: %s: %s\n", log_ident, level_names[level],
		    line, strerror(err));
	else
		fprintf(stderr, "%s: %s: %s\n", log_ident, level_names[level], line);
	errno = saved;
}

#define LOG_BODY(level, err)                                                   \
	do {                                                                   \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_vemit((level), (err), fmt, ap);                            \
		va_end(ap);                                                    \
	} while (0)

void log_warn(const char *fmt, ...) { LOG_BODY(LOG_LVL_WARN, errno); }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_LVL_WARN, 0); }
void log_info(const char *fmt, ...) { LOG_BODY(LOG_LVL_INFO, 0); }
void log_debug(const char *fmt, ...) { LOG_BODY(LOG_LVL_DEBUG, 0); }

noreturn void
fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERROR, errno);
	exit(1);
}

noreturn void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERROR, 0);
	exit(1);
}
