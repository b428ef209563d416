/*
 * The configuration file's syntax (common/config.c): sections, comments,
 * names and values as the callback sees them, and every error with its
 * line number.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "tests/helpers.h"

static const char *const sections[] = { "server", "creator", NULL };

struct seen {
	char text[1024];
	int fail_on;		/* line to fail on, 0: never */
};

static int
collect(void *arg, const char *name, const char *value, unsigned line,
    struct config_error *err)
{
	struct seen *s = arg;
	size_t n = strlen(s->text);

	if (s->fail_on && (int)line == s->fail_on) {
		snprintf(err->msg, sizeof(err->msg), "callback says no");
		return -ERANGE;
	}
	snprintf(s->text + n, sizeof(s->text) - n, "%u:%s=%s;", line, name, value);
	return 0;
}

static char path[128];

static void
write_bytes(const char *text, size_t len)
{
	cr_assert_not_null(write_tmpfile("fdtool.conf", text, len, path, sizeof(path)));
}

static void
write_file(const char *text)
{
	write_bytes(text, strlen(text));
}

static int
read_section(const char *section, struct seen *s, struct config_error *err)
{
	return config_read(path, sections, section, collect, s, err);
}

Test(config, reads_only_its_own_section_in_order)
{
	struct seen s = { .text = "" };
	struct config_error err;

	write_file("# top comment\n"
	    "\n"
	    "[server]\n"
	    "listen = 127.0.0.1\n"
	    "  upstream=192.0.2.1:5300   # trailing comment\n"
	    "[creator]\n"
	    "listen = /run/x.sock\n"
	    "[ server ]\n"
	    "hosts = /etc/my#hosts\n"
	    "empty =\n"
	    "crlf = yes\r\n");
	cr_assert_eq(read_section("server", &s, &err), 0, "%s", err.msg);
	cr_assert_str_eq(s.text, "4:listen=127.0.0.1;5:upstream=192.0.2.1:5300;"
	    "9:hosts=/etc/my#hosts;10:empty=;11:crlf=yes;");
	s.text[0] = '\0';
	cr_assert_eq(read_section("creator", &s, &err), 0);
	cr_assert_str_eq(s.text, "7:listen=/run/x.sock;");
}

/* A bad line is an error whatever section it is in: the whole file is checked. */
Test(config, errors_name_their_line)
{
	static const struct {
		const char *text;
		unsigned line;
		const char *msg;
	} cases[] = {
		{ "listen = x\n", 1, "outside a section" },
		{ "[server]\n[bogus]\n", 2, "unknown section [bogus]" },
		{ "[server\n", 1, "[name]" },
		{ "[]\n", 1, "[name]" },
		{ "[server]\nlisten 127.0.0.1\n", 2, "not a 'name = value' line" },
		{ "[server]\n= 127.0.0.1\n", 2, "not an option name" },
		{ "[server]\n--listen = x\n", 2, "not an option name" },
		{ "[server]\nListen = x\n", 2, "not an option name" },
		{ "[server]\n\n\n[creator]\nmax peers = 3\n", 5, "not an option name" },
		{ "[server]\nlisten = a\0b\n", 2, "NUL byte" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct seen s = { .text = "" };
		struct config_error err;
		const char *t = cases[i].text;
		size_t len = strlen(t);

		if (strstr(cases[i].msg, "NUL"))	/* the literal holds a NUL */
			len = strlen(t) + 1 + strlen(t + strlen(t) + 1);
		write_bytes(t, len);
		cr_assert_eq(read_section("server", &s, &err), -EINVAL, "case %zu", i);
		cr_assert_eq(err.line, cases[i].line, "case %zu: line %u", i, err.line);
		cr_assert(strstr(err.msg, cases[i].msg), "case %zu: '%s'", i, err.msg);
	}
}

Test(config, long_lines_are_refused_not_cut)
{
	char text[CONFIG_LINE_MAX + 64];
	struct seen s = { .text = "" };
	struct config_error err;

	snprintf(text, sizeof(text), "[server]\nhosts = ");
	memset(text + strlen(text), 'a', CONFIG_LINE_MAX);
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	write_file(text);
	cr_assert_eq(read_section("server", &s, &err), -EINVAL);
	cr_assert_eq(err.line, 2);
	cr_assert_str_eq(s.text, "");
}

Test(config, the_callback_can_stop_the_read)
{
	struct seen s = { .text = "", .fail_on = 3 };
	struct config_error err;

	write_file("[server]\na = 1\nb = 2\nc = 3\n");
	cr_assert_eq(read_section("server", &s, &err), -ERANGE);
	cr_assert_str_eq(s.text, "2:a=1;", "nothing after the failing line is read");
	cr_assert_str_eq(err.msg, "callback says no");
}

Test(config, a_missing_file_is_enoent_with_no_line)
{
	struct seen s = { .text = "" };
	struct config_error err;

	snprintf(path, sizeof(path), "/nonexistent/fdtool.conf");
	cr_assert_eq(read_section("server", &s, &err), -ENOENT);
	cr_assert_eq(err.line, 0);
}

/* What is not a text file of lines is refused, whatever it costs to read. */
Test(config, endless_lines_directories_and_devices_are_refused, .timeout = 10)
{
	struct seen s = { .text = "" };
	struct config_error err;
	char dir[64];

	snprintf(path, sizeof(path), "/dev/zero");	/* one endless line of NULs */
	cr_assert_eq(read_section("server", &s, &err), -EINVAL);
	cr_assert_eq(err.line, 1);
	cr_assert_not_null(make_tmpdir(dir, sizeof(dir)));
	snprintf(path, sizeof(path), "%s", dir);
	cr_assert_eq(read_section("server", &s, &err), -EISDIR);
	cr_assert_eq(err.line, 0);
	cr_assert_str_eq(s.text, "");
	rmdir(dir);
}

Test(config, a_last_line_without_newline_counts)
{
	struct seen s = { .text = "" };
	struct config_error err;

	write_file("[server]\nlisten = 127.0.0.1");
	cr_assert_eq(read_section("server", &s, &err), 0, "%s", err.msg);
	cr_assert_str_eq(s.text, "2:listen=127.0.0.1;");
}
