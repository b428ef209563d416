/*
 * The command line every role shares: dispatch by name and by first
 * argument, --help and --version, exit codes for usage errors and unknown
 * roles.  Runs the real binary.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/helpers.h"

struct result {
	int code;
	char out[8192];
	char err[8192];
};

static void
slurp(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;

	while (n + 1 < size && (r = read(fd, buf + n, size - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
}

/* Run path with argv (argv[0] included), collecting stdout, stderr, exit code. */
static void
run(const char *path, char *const argv[], struct result *res)
{
	int out[2], err[2], status;
	pid_t pid;

	cr_assert_eq(pipe(out), 0);
	cr_assert_eq(pipe(err), 0);
	pid = fork();
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		execv(path, argv);
		_exit(126);
	}
	close(out[1]);
	close(err[1]);
	slurp(out[0], res->out, sizeof(res->out));
	slurp(err[0], res->err, sizeof(res->err));
	close(out[0]);
	close(err[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	res->code = WEXITSTATUS(status);
}

#define RUN(res, ...) run(FDTOOL_BIN, (char *const[]){ "fdtool", __VA_ARGS__, NULL }, (res))

Test(cli, no_arguments_is_a_usage_error)
{
	struct result r;

	run(FDTOOL_BIN, (char *const[]){ "fdtool", NULL }, &r);
	cr_assert_eq(r.code, 2);
	cr_assert(strstr(r.err, "usage:"));
}

Test(cli, help_and_version)
{
	struct result r;

	RUN(&r, "--help");
	cr_assert_eq(r.code, 0);
	cr_assert(strstr(r.out, "creator") && strstr(r.out, "server") && strstr(r.out, "control"));
	RUN(&r, "--version");
	cr_assert_eq(r.code, 0);
	cr_assert(strncmp(r.out, "fdtool ", 7) == 0, "got '%s'", r.out);
}

Test(cli, unknown_role_lists_the_roles_and_exits_127)
{
	struct result r;

	RUN(&r, "frobnicate");
	cr_assert_eq(r.code, 127);
	cr_assert(strstr(r.err, "unknown role"));
	cr_assert(strstr(r.err, "creator") && strstr(r.err, "server") && strstr(r.err, "control"));
}

Test(cli, role_help_is_the_same_by_name_and_by_argument)
{
	static char roles[][8] = { "creator", "server", "control" };

	for (size_t i = 0; i < 3; i++) {
		struct result a, b;
		char path[512], name[64];
		snprintf(path, sizeof(path), "%s/fdtool-%s", FDTOOL_BIN_DIR, roles[i]);
		snprintf(name, sizeof(name), "fdtool-%s", roles[i]);
		RUN(&a, roles[i], "--help");
		run(path, (char *const[]){ name, "--help", NULL }, &b);
		cr_assert_eq(a.code, 0, "%s", roles[i]);
		cr_assert_eq(b.code, 0, "%s", roles[i]);
		cr_assert(strstr(a.out, "usage: fdtool"), "%s", roles[i]);
		cr_assert_str_eq(a.out, b.out, "%s", roles[i]);
	}
}

Test(cli, unknown_name_as_argv0_exits_127)
{
	char dir[64], link[128];
	struct result r;

	cr_assert_not_null(make_tmpdir(dir, sizeof(dir)));
	snprintf(link, sizeof(link), "%s/fdtool-bogus", dir);
	cr_assert_eq(symlink(FDTOOL_BIN, link), 0);
	run(link, (char *const[]){ "fdtool-bogus", NULL }, &r);
	cr_assert_eq(r.code, 127);
	unlink(link);
	rmdir(dir);
}

Test(cli, creator_usage_errors_exit_2)
{
	struct result r;

	RUN(&r, "creator");
	cr_assert_eq(r.code, 2, "no --listen/--fd");
	RUN(&r, "creator", "--listen", "/tmp/x.sock", "--fd", "3");
	cr_assert_eq(r.code, 2, "both --listen and --fd");
	RUN(&r, "creator", "--listen", "/tmp/x.sock", "--frob");
	cr_assert_eq(r.code, 2);
	cr_assert(strstr(r.err, "--frob"), "%s", r.err);
	RUN(&r, "creator", "--listen", "/tmp/x.sock", "--allow", "udp:127.0.0.1:99999");
	cr_assert_eq(r.code, 2);
	cr_assert(strstr(r.err, "--allow udp:127.0.0.1:99999"), "%s", r.err);
	RUN(&r, "creator", "--listen", "/tmp/x.sock", "--max-sockets", "lots");
	cr_assert_eq(r.code, 2);
	RUN(&r, "creator", "--fd", "1");
	cr_assert_eq(r.code, 2);
}

Test(cli, runtime_failure_exits_1)
{
	struct result r;

	RUN(&r, "creator", "--fd", "999", "--allow", "udp:127.0.0.1:5353");
	cr_assert_eq(r.code, 1, "a bad inherited descriptor is a runtime failure");
	cr_assert(strstr(r.err, "--fd 999"), "%s", r.err);
}
