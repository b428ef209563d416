/*
 * Configuration file syntax.  Strict on purpose: a line that does not say
 * exactly one thing is an error with its line number, never skipped, so
 * a typo cannot silently leave a setting at its default.
 */
#include "common/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int
fail(struct config_error *err, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct config_error *err, unsigned line, const char *fmt, ...)
{
	va_list ap;

	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
	    end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/* `#` opens a comment at the start of a line or after a blank. */
static void
strip_comment(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
}

static int
is_name(const char *s)
{
	if (!islower((unsigned char)*s))	/* "--listen" is a typo, not a name */
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-'))
			return 0;
	return 1;
}

static int
known_section(const char *const *sections, const char *name)
{
	for (size_t i = 0; sections[i]; i++)
		if (strcmp(sections[i], name) == 0)
			return 1;
	return 0;
}

/* One line, comment stripped and trimmed; *state: which section we are in. */
static int
config_line(char *s, unsigned line, const char *const *sections,
    const char *section, int *state, config_fn fn, void *arg,
    struct config_error *err)
{
	enum { NONE, OURS, OTHER };
	char *eq, *name, *value;

	if (*s == '[') {
		size_t len = strlen(s);
		if (len < 3 || s[len - 1] != ']')
			return fail(err, line, "a section header is [name]");
		s[len - 1] = '\0';
		name = trim(s + 1);
		if (!known_section(sections, name))
			return fail(err, line, "unknown section [%s]", name);
		*state = strcmp(name, section) == 0 ? OURS : OTHER;
		return 0;
	}
	if (!(eq = strchr(s, '=')))
		return fail(err, line, "not a 'name = value' line");
	*eq = '\0';
	name = trim(s);
	value = trim(eq + 1);
	if (!is_name(name))
		return fail(err, line, "'%s' is not an option name", name);
	if (*state == NONE)
		return fail(err, line, "'%s' outside a section ([%s] ...)", name, sections[0]);
	return *state == OURS ? fn(arg, name, value, line, err) : 0;
}

int
config_read(const char *path, const char *const *sections,
    const char *section, config_fn fn, void *arg, struct config_error *err)
{
	char buf[CONFIG_LINE_MAX + 2];	/* the longest line, its newline, NUL */
	struct stat st;
	unsigned line = 0;
	int state = 0, r = 0;
	FILE *f;

	memset(err, 0, sizeof(*err));
	if (!(f = fopen(path, "re")))
		return -errno;
	if (fstat(fileno(f), &st) != 0 || S_ISDIR(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -errno;
		fclose(f);
		return r;
	}
	/* fgets, not getline: a file of one endless line (/dev/zero) costs a
	 * buffer, never all the memory there is */
	while (fgets(buf, sizeof(buf), f)) {
		size_t len = strlen(buf);
		line++;
		if (len == sizeof(buf) - 1 && buf[len - 1] != '\n') {
			r = fail(err, line, "line longer than %d bytes", CONFIG_LINE_MAX);
			break;
		}
		if (!feof(f) && (len == 0 || buf[len - 1] != '\n')) {
			r = fail(err, line, "NUL byte in the line");
			break;
		}
		strip_comment(buf);
		char *s = trim(buf);
		if (*s && (r = config_line(s, line, sections, section, &state, fn, arg, err)) < 0)
			break;
	}
	/* a read that stopped early is an error, never a shorter file */
	if (r == 0 && ferror(f)) {
		r = errno ? -errno : -EIO;
		err->line = 0;
	}
	fclose(f);
	return r;
}
