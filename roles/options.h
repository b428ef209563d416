/*
 * Options of the daemon roles, from the configuration file and the command
 * line through one table, so both spell a setting alike (`listen = X` is
 * `--listen X`) and check it with the same code.
 */
#ifndef FDTOOL_OPTIONS_H
#define FDTOOL_OPTIONS_H

#include <getopt.h>

/* Ids every role's table uses for the two options handled here. */
enum { OPT_CONFIG = 1, OPT_NO_CONFIG = 2 };

/* Where one value came from, for its error message. */
struct opt_ctx {
	const char *role;
	const char *name;	/* long option name, no dashes */
	const char *arg;	/* the value; NULL for a flag */
	const char *file;	/* NULL: the command line */
	unsigned line;
};

struct role_options {
	const char *role;		/* "server" */
	const struct option *longopts;	/* getopt_long table; val is the id */
	const char *const *repeatable;	/* names that may be given again */
	const char *const *cmdline_only;/* names the file may not set */
	const char *default_file;	/* read when it exists and no --config */
	/* take one value; on error call opt_error and return its result */
	int (*apply)(void *cfg, int id, const struct opt_ctx *o);
	/* the command line names a repeatable option: forget the file's */
	void (*reset)(void *cfg, int id);
};

/*
 * The file (--config FILE, else default_file if it exists, none with
 * --no-config), then the command line over it.  Returns 0, EXIT_USAGE for
 * a command-line error or EXIT_RUNTIME for a file error, each said on
 * stderr.  *file_read is the file read, or NULL.  Values from the file
 * are kept for the life of the process, as argv is.
 */
int role_options_parse(const struct role_options *ro, void *cfg, int argc,
    char **argv, const char **file_read);

/* "fdtool server: --listen x: why" or "fdtool server: FILE:7: listen = x: why"; returns -EINVAL. */
int opt_error(const struct opt_ctx *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* o->arg as a decimal number in [min, max], else opt_error. */
int opt_number(const struct opt_ctx *o, unsigned long min, unsigned long max,
    unsigned long *out);

/* o->arg as a log level (error, warning, info, debug), else opt_error. */
int opt_log_level(const struct opt_ctx *o, int *level);

#endif
