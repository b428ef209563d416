/*
 * The configuration file: `[section]` headers and `name = value` lines,
 * `#` comments.  This layer knows the syntax only; what a name means is
 * the role's business, through a callback.
 */
#ifndef FDTOOL_CONFIG_H
#define FDTOOL_CONFIG_H

#include <stddef.h>

#define CONFIG_LINE_MAX	1024	/* longer lines are an error, never cut */

struct config_error {
	unsigned line;		/* 0: not about one line (open, read) */
	char msg[160];
};

/*
 * Called for each `name = value` in the wanted section, in file order.
 * name and value are trimmed and live until the callback returns.  A
 * negative return stops the read and is returned by config_read; the
 * callback fills err->msg itself then.
 */
typedef int (*config_fn)(void *arg, const char *name, const char *value,
    unsigned line, struct config_error *err);

/*
 * Read path.  Every line is checked, whatever its section: a section not
 * in sections (NULL-terminated), a name outside any section, or a line
 * that is not `name = value` fails with -EINVAL and err filled.  Returns
 * 0, -errno from open/read (err->line 0), -EINVAL, or the callback's.
 */
int config_read(const char *path, const char *const *sections,
    const char *section, config_fn fn, void *arg, struct config_error *err);

#endif
