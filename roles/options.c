/*
 * What every role shares about its options: one way to report a usage
 * error, and for the daemon roles the configuration file read through the
 * same option table as the command line, the command line winning.
 */
#include "roles/options.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "roles/roles.h"

int
role_usage_error(const char *role, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fdtool %s: ", role);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'fdtool %s --help')\n", role);
	return EXIT_USAGE;
}

int
opt_error(const struct opt_ctx *o, const char *fmt, ...)
{
	va_list ap;

	if (o->file)
		fprintf(stderr, "fdtool %s: %s:%u: %s = %s: ", o->role, o->file,
		    o->line, o->name, o->arg ? o->arg : "yes");
	else
		fprintf(stderr, "fdtool %s: --%s%s%s: ", o->role, o->name,
		    o->arg ? " " : "", o->arg ? o->arg : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (o->file)
		fputc('\n', stderr);
	else
		fprintf(stderr, "\n(see 'fdtool %s --help')\n", o->role);
	return -EINVAL;
}

int
opt_number(const struct opt_ctx *o, unsigned long min, unsigned long max,
    unsigned long *out)
{
	const char *s = o->arg;
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || errno || *end || *out < min || *out > max)
		return opt_error(o, "not a number from %lu to %lu", min, max);
	return 0;
}

int
opt_log_level(const struct opt_ctx *o, int *level)
{
	int r = log_level_parse(o->arg);

	if (r < 0)
		return opt_error(o, "not error, warning, info or debug");
	*level = r;
	return 0;
}

static int
listed(const char *const *names, const char *name)
{
	for (size_t i = 0; names && names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

/* Values from the file outlive its line buffer: kept here, reachable. */
struct kept {
	struct kept *next;
	char s[];
};
static struct kept *kept_values;

static const char *
keep(const char *s)
{
	size_t len = strlen(s) + 1;
	struct kept *k = malloc(sizeof(*k) + len);

	if (!k)
		return NULL;
	memcpy(k->s, s, len);
	k->next = kept_values;
	kept_values = k;
	return k->s;
}

struct file_state {
	const struct role_options *ro;
	void *cfg;
	const char *path;
	unsigned first_line[64];	/* per table entry: where it was set */
};

static int
file_option(void *arg, const char *name, const char *value, unsigned line,
    struct config_error *err)
{
	struct file_state *fs = arg;
	const struct role_options *ro = fs->ro;
	struct opt_ctx o = { .role = ro->role, .name = name, .arg = value,
	    .file = fs->path, .line = line };
	const struct option *opt = NULL;
	size_t i;

	for (i = 0; ro->longopts[i].name; i++)
		if (strcmp(ro->longopts[i].name, name) == 0) {
			opt = &ro->longopts[i];
			break;
		}
	/* the caller prints err; our own messages go out through opt_error */
	err->line = line;
	if (!opt)
		return snprintf(err->msg, sizeof(err->msg), "unknown option '%s' in [%s]",
		    name, ro->role), -EINVAL;
	if (opt->val == OPT_CONFIG || opt->val == OPT_NO_CONFIG ||
	    listed(ro->cmdline_only, name))
		return snprintf(err->msg, sizeof(err->msg),
		    "'%s' can only be given on the command line", name), -EINVAL;
	if (i < 64 && fs->first_line[i] && !listed(ro->repeatable, name))
		return snprintf(err->msg, sizeof(err->msg),
		    "'%s' given again (first on line %u)", name, fs->first_line[i]), -EINVAL;
	if (i < 64 && !fs->first_line[i])
		fs->first_line[i] = line;
	if (opt->has_arg == no_argument) {
		if (strcmp(value, "no") == 0)
			return 0;
		if (strcmp(value, "yes") != 0)
			return snprintf(err->msg, sizeof(err->msg),
			    "'%s' takes yes or no", name), -EINVAL;
		o.arg = NULL;
	} else if (!(o.arg = keep(value)))
		return snprintf(err->msg, sizeof(err->msg), "out of memory"), -ENOMEM;
	/* -ECANCELED: the message is out already */
	return ro->apply(fs->cfg, opt->val, &o) < 0 ? -ECANCELED : 0;
}

/* The first pass only looks for --config and --no-config. */
static void
find_config(const struct role_options *ro, int argc, char **argv,
    const char **path, int *explicit)
{
	int o;

	opterr = 0;
	optind = 0;	/* 0, not 1: GNU getopt starts afresh */
	while ((o = getopt_long(argc, argv, "", ro->longopts, NULL)) != -1) {
		if (o == OPT_CONFIG) {
			*path = optarg;
			*explicit = 1;
		} else if (o == OPT_NO_CONFIG) {
			*path = NULL;
			*explicit = 1;
		}
	}
}

static int
read_file(const struct role_options *ro, void *cfg, const char *path, int explicit)
{
	static const char *const sections[] = { "server", "creator", NULL };
	struct file_state fs = { .ro = ro, .cfg = cfg, .path = path };
	struct config_error err;
	int r;

	r = config_read(path, sections, ro->role, file_option, &fs, &err);
	if (r == -ENOENT && !explicit && err.line == 0)
		return 1;	/* no default file: fine */
	if (r == -ECANCELED)
		return -EINVAL;
	if (r < 0 && err.line)
		fprintf(stderr, "fdtool %s: %s:%u: %s\n", ro->role, path, err.line, err.msg);
	else if (r < 0)
		fprintf(stderr, "fdtool %s: %s%s: %s\n", ro->role, explicit ? "--config " : "",
		    path, strerror(-r));
	return r;
}

int
role_options_parse(const struct role_options *ro, void *cfg, int argc,
    char **argv, const char **file_read)
{
	uint64_t from_cmdline = 0;
	const char *path = ro->default_file;
	int explicit = 0, o, idx, r;

	*file_read = NULL;
	for (idx = 0; ro->longopts[idx].name; idx++)
		;
	if (idx > 64)	/* first_line[] and from_cmdline hold 64 */
		abort();
	find_config(ro, argc, argv, &path, &explicit);
	if (path) {
		if ((r = read_file(ro, cfg, path, explicit)) < 0)
			return EXIT_RUNTIME;
		if (r == 0)
			*file_read = path;
	}

	opterr = 0;
	optind = 0;
	while ((o = getopt_long(argc, argv, "", ro->longopts, &idx)) != -1) {
		struct opt_ctx c = { .role = ro->role };
		if (o == OPT_CONFIG || o == OPT_NO_CONFIG)
			continue;
		if ((o == '?' || o == ':') && optopt > 0 && optopt < 256)	/* "-x" */
			return role_usage_error(ro->role, "unknown option: -%c", optopt);
		if (o == '?' || o == ':')
			return role_usage_error(ro->role, "unknown option or missing argument: %s",
			    argv[optind - 1]);
		c.name = ro->longopts[idx].name;
		c.arg = optarg;
		if (listed(ro->repeatable, c.name) && idx < 64 &&
		    !(from_cmdline & (UINT64_C(1) << idx))) {
			from_cmdline |= UINT64_C(1) << idx;
			ro->reset(cfg, o);
		}
		if (ro->apply(cfg, o, &c) < 0)
			return EXIT_USAGE;
	}
	if (optind < argc)
		return role_usage_error(ro->role, "unexpected argument: %s", argv[optind]);
	return 0;
}
