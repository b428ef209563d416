/*
 * stderr logging.  Every entry point preserves errno so that a log call
 * between a failing syscall and its error check cannot change the outcome.
 * Where stderr goes is looked at once, in log_init: journald gets a <N>
 * priority prefix and no time (it stamps lines itself), a terminal gets a
 * local timestamp, and a pipe or file gets the plain line tests match.
 */
#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum log_dest { LOG_DEST_PLAIN, LOG_DEST_JOURNAL, LOG_DEST_TTY };

static const char *log_ident = "fdtool";
static enum log_level log_max = LOG_LVL_INFO;
static enum log_dest log_to = LOG_DEST_PLAIN;

static const char *const level_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warning",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

/* syslog(3) priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */
static const int level_prio[] = {
	[LOG_LVL_ERROR] = 3,
	[LOG_LVL_WARN] = 4,
	[LOG_LVL_INFO] = 6,
	[LOG_LVL_DEBUG] = 7,
};

/*
 * systemd sets JOURNAL_STREAM to the "dev:ino" of the stream it connected;
 * it is ours only if stderr is still that stream (not redirected since).
 */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (!js || fstat(STDERR_FILENO, &st) != 0)
		return 0;
	errno = 0;
	dev = strtoull(js, &end, 10);
	if (end == js || *end != ':')
		return 0;
	js = end + 1;
	ino = strtoull(js, &end, 10);
	if (end == js || *end || errno)
		return 0;
	return dev == (unsigned long long)st.st_dev && ino == (unsigned long long)st.st_ino;
}

void
log_init(const char *ident, enum log_level level)
{
	int saved = errno;

	log_ident = ident;
	log_max = level;
	if (stderr_is_journal())
		log_to = LOG_DEST_JOURNAL;
	else if (isatty(STDERR_FILENO))
		log_to = LOG_DEST_TTY;
	else
		log_to = LOG_DEST_PLAIN;
	tzset();	/* now, while the sandbox still lets us read /etc/localtime */
	errno = saved;
}

const char *
log_level_name(int level)
{
	if (level < 0 || (size_t)level >= sizeof(level_names) / sizeof(level_names[0]))
		return "?";
	return level_names[level];
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

/* "2026-11-22T21:40:00.123+01:00 ": ISO 8601, local time, milliseconds. */
static void
timestamp(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	long off;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (!localtime_r(&ts.tv_sec, &tm)) {
		buf[0] = '\0';
		return;
	}
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(buf + n, size - n, ".%03ld%c%02ld:%02ld ", ts.tv_nsec / 1000000,
	    off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

static void
log_vemit(enum log_level level, int err, const char *suffix, const char *fmt,
    va_list ap) __attribute__((format(printf, 4, 0)));

static void
log_vemit(enum log_level level, int err, const char *suffix, const char *fmt,
    va_list ap)
{
	char line[1024], prefix[48] = "";
	int saved = errno;

	if (level > log_max) {
		errno = saved;
		return;
	}
	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_to == LOG_DEST_JOURNAL)
		snprintf(prefix, sizeof(prefix), "<%d>", level_prio[level]);
	else if (log_to == LOG_DEST_TTY)
		timestamp(prefix, sizeof(prefix));
	if (err)
		fprintf(stderr, "%s%s: %s: %s: %s%s\n", prefix, log_ident,
		    level_names[level], line, strerror(err), suffix);
	else
		fprintf(stderr, "%s%s: %s: %s%s\n", prefix, log_ident,
		    level_names[level], line, suffix);
	errno = saved;
}

#define LOG_BODY(level, err)                                                   \
	do {                                                                   \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_vemit((level), (err), "", fmt, ap);                            \
		va_end(ap);                                                    \
	} while (0)

void log_warn(const char *fmt, ...) { LOG_BODY(LOG_LVL_WARN, errno); }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_LVL_WARN, 0); }
void log_info(const char *fmt, ...) { LOG_BODY(LOG_LVL_INFO, 0); }
void log_debug(const char *fmt, ...) { LOG_BODY(LOG_LVL_DEBUG, 0); }

static long long
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Decides whether this line is shown, and with what suffix.  The count of
 * dropped lines rides on the next line shown, so nothing needs a timer.
 */
static int
log_limit_pass(struct log_limit *rl, char *suffix, size_t size)
{
	long long now = monotonic_ms();

	suffix[0] = '\0';
	if (rl->window_start_ms == 0 ||
	    now - rl->window_start_ms >= LOG_LIMIT_WINDOW_S * 1000LL) {
		rl->window_start_ms = now ? now : 1;
		rl->shown = 0;
	}
	if (rl->shown >= LOG_LIMIT_BURST) {
		rl->dropped++;
		return 0;
	}
	rl->shown++;
	if (rl->dropped)
		snprintf(suffix, size, " (%u more in the last %d s)",
		    rl->dropped, LOG_LIMIT_WINDOW_S);
	rl->dropped = 0;
	return 1;
}

#define LOG_LIMITED_BODY(level, err)                                           \
	do {                                                                   \
		char suffix[48];                                               \
		int saved_ = (err);                                            \
		va_list ap;                                                    \
		if (!log_limit_pass(rl, suffix, sizeof(suffix)))               \
			return;                                                \
		va_start(ap, fmt);                                             \
		log_vemit((level), saved_, suffix, fmt, ap);                   \
		va_end(ap);                                                    \
	} while (0)

void
log_warn_limited(struct log_limit *rl, const char *fmt, ...)
{
	LOG_LIMITED_BODY(LOG_LVL_WARN, errno);
}

void
log_warnx_limited(struct log_limit *rl, const char *fmt, ...)
{
	LOG_LIMITED_BODY(LOG_LVL_WARN, 0);
}

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
