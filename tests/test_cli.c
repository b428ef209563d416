/*
 * The command line every role shares: dispatch by name and by first
 * argument, --help and --version, exit codes for usage errors and unknown
 * roles.  Runs the real binary.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/unixsock.h"
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

Test(cli, help_as_a_word_and_version_per_role)
{
	static char roles[][8] = { "creator", "server", "control" };
	struct result r;

	RUN(&r, "help");
	cr_assert_eq(r.code, 0);
	cr_assert(strstr(r.out, "usage: fdtool ROLE"), "%s", r.out);
	for (size_t i = 0; i < 3; i++) {
		RUN(&r, roles[i], "--version");
		cr_assert_eq(r.code, 0, "%s", roles[i]);
		cr_assert(strncmp(r.out, "fdtool ", 7) == 0, "%s: '%s'", roles[i], r.out);
	}
}

/* A configuration file in a fresh directory; returns its path. */
static char *
conf(const char *text)
{
	static char path[128];

	cr_assert_not_null(write_tmpfile("fdtool.conf", text, strlen(text), path, sizeof(path)));
	return path;
}

static int
has_line(const char *out, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = out; (p = strstr(p, line)); p++)
		if ((p == out || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return 1;
	return 0;
}

Test(cli, check_config_prints_the_file_under_the_command_line)
{
	char *path = conf("[server]\n"
	    "user = root\n"
	    "listen = 127.0.0.1:5353\n"
	    "listen = [::1]:5353\n"
	    "upstream = 192.0.2.1\n"
	    "cache-size = 500\n"
	    "no-hosts = yes\n"
	    "[creator]\n"
	    "listen = /run/elsewhere.sock\n");
	struct result r;

	RUN(&r, "server", "--config", path, "--check-config");
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert(has_line(r.out, "[server]"), "%s", r.out);
	cr_assert(has_line(r.out, "listen = 127.0.0.1:5353"), "%s", r.out);
	cr_assert(has_line(r.out, "listen = [::1]:5353"), "%s", r.out);
	cr_assert(has_line(r.out, "upstream = 192.0.2.1:53"), "%s", r.out);
	cr_assert(has_line(r.out, "cache-size = 500"), "%s", r.out);
	cr_assert(has_line(r.out, "no-hosts = yes"), "%s", r.out);
	cr_assert(has_line(r.out, "max-ttl = 86400"), "defaults are printed too: %s", r.out);

	/* one --listen replaces both of the file's; a single value just wins */
	RUN(&r, "server", "--config", path, "--check-config", "--listen", "127.0.0.2",
	    "--cache-size", "7", "--hosts", "/etc/hosts");
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert(has_line(r.out, "listen = 127.0.0.2:53"), "%s", r.out);
	cr_assert(!strstr(r.out, "5353"), "the file's listen lines are replaced: %s", r.out);
	cr_assert(has_line(r.out, "upstream = 192.0.2.1:53"), "%s", r.out);
	cr_assert(has_line(r.out, "cache-size = 7"), "%s", r.out);
	cr_assert(has_line(r.out, "hosts = /etc/hosts"), "%s", r.out);

	/* --no-config: the file is not read at all */
	RUN(&r, "server", "--config", path, "--no-config", "--check-config");
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert(has_line(r.out, "cache-size = 10000"), "%s", r.out);
}

Test(cli, metrics_listen_is_checked_and_printed)
{
	struct result r;

	RUN(&r, "server", "--no-config", "--check-config", "--user", "root",
	    "--metrics-listen", "127.0.0.1", "--rec-control", "/run/x/pdns_recursor.controlsocket");
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert(has_line(r.out, "metrics-listen = tcp:127.0.0.1:9153"), "%s", r.out);
	cr_assert(has_line(r.out, "rec-control = /run/x/pdns_recursor.controlsocket"), "%s", r.out);
	/* where DNS is served over TCP, by default or by --listen: refused */
	RUN(&r, "server", "--no-config", "--check-config", "--user", "root",
	    "--metrics-listen", "127.0.0.1:53");
	cr_assert_eq(r.code, 2, "%s", r.out);
	cr_assert_not_null(strstr(r.err, "also where DNS is served"), "%s", r.err);
	RUN(&r, "server", "--no-config", "--check-config", "--user", "root",
	    "--listen", "0.0.0.0:8053", "--metrics-listen", "127.0.0.1:8053");
	cr_assert_eq(r.code, 2, "the wildcard covers it: %s", r.out);
	/* UDP alone does not clash; nor another port */
	RUN(&r, "server", "--no-config", "--check-config", "--user", "root",
	    "--listen", "udp:127.0.0.1:8053", "--metrics-listen", "127.0.0.1:8053");
	cr_assert_eq(r.code, 0, "%s", r.err);
	RUN(&r, "server", "--no-config", "--check-config", "--user", "root",
	    "--metrics-listen", "udp:127.0.0.1:9153");
	cr_assert_eq(r.code, 2, "HTTP is TCP: %s", r.out);
}

Test(cli, check_config_output_is_itself_a_valid_configuration)
{
	char *path = conf("[server]\nuser = root\nupstream = 192.0.2.1:5300\n"
	    "upstream = [2001:db8::1]:5301\n"
	    "max-tcp = 9\ncontrol-group = root\nlog-level = debug\n"
	    "allow-from = 10.0.0.0/8\nallow-from = fd00::/8\n"
	    "forward-zone = corp.example=192.0.2.7,192.0.2.8:5353\n"
	    "forward-zone = 168.192.in-addr.arpa=[2001:db8::53]:53\n"
	    "serve-stale = 3600\nquery-timeout = 4000\n");
	struct result a, b;
	char again[8192 + 16];

	RUN(&a, "server", "--config", path, "--check-config");
	cr_assert_eq(a.code, 0, "%s", a.err);
	snprintf(again, sizeof(again), "%s", a.out);
	path = conf(again);
	RUN(&b, "server", "--config", path, "--check-config");
	cr_assert_eq(b.code, 0, "%s", b.err);
	/* the same settings; only the comment naming the file differs */
	cr_assert_str_eq(strchr(a.out, '\n'), strchr(b.out, '\n'));
	cr_assert(has_line(a.out, "allow-from = 10.0.0.0/8"), "%s", a.out);
	cr_assert(has_line(a.out, "allow-from = fd00::/8"), "%s", a.out);
	cr_assert(has_line(a.out, "forward-zone = corp.example.=192.0.2.7:53,192.0.2.8:5353"),
	    "%s", a.out);
	cr_assert(has_line(a.out, "forward-zone = 168.192.in-addr.arpa.=[2001:db8::53]:53"),
	    "%s", a.out);
	cr_assert(has_line(a.out, "upstream = [2001:db8::1]:5301"), "%s", a.out);
	cr_assert(has_line(a.out, "serve-stale = 3600"), "%s", a.out);
	cr_assert(has_line(a.out, "query-timeout = 4000"), "%s", a.out);
}

Test(cli, config_errors_name_file_and_line_and_exit_1)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "[server]\nfrobnicate = 1\n", ":2: unknown option 'frobnicate' in [server]" },
		{ "[server]\ncache-size = 1\ncache-size = 2\n", ":3: 'cache-size' given again (first on line 2)" },
		{ "[server]\n\ncache-size = lots\n", ":3: cache-size = lots: not a number" },
		{ "[server]\nlisten = 300.1.1.1\n", ":2: listen = 300.1.1.1:" },
		{ "[server]\nno-sandbox = please\n", ":2: 'no-sandbox' takes yes or no" },
		{ "[server]\nconfig = /etc/other.conf\n", ":2: 'config' can only be given on the command line" },
		{ "cache-size = 1\n", ":1: 'cache-size' outside a section" },
		{ "[server]\n[resolver]\n", ":2: unknown section [resolver]" },
		/* the creator's section is checked for syntax by the server too */
		{ "[creator]\nallow both:127.0.0.1:53\n", ":2: not a 'name = value' line" },
		{ "[server]\nallow-from = 10.0.0.0/33\n", ":2: allow-from = 10.0.0.0/33:" },
		{ "[server]\nforward-zone = corp.example\n", ":2: forward-zone = corp.example:" },
		{ "[server]\nforward-zone = a.test=192.0.2.1\nforward-zone = A.test.=192.0.2.2\n",
		  ":3: forward-zone = A.test.=192.0.2.2: that zone is forwarded already" },
		{ "[server]\nupstream = fe80::1\n", ":2: upstream = fe80::1: link-local" },
		{ "[server]\nupstream = udp:192.0.2.1\n", ":2: upstream = udp:192.0.2.1: an upstream takes no" },
		{ "[server]\nquery-timeout = 5\n", ":2: query-timeout = 5:" },
	};
	struct result r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = conf(cases[i].text);
		RUN(&r, "server", "--config", path, "--check-config");
		cr_assert_eq(r.code, 1, "case %zu: %s", i, r.err);
		cr_assert(strstr(r.err, path) && strstr(r.err, cases[i].want),
		    "case %zu: '%s'", i, r.err);
		RUN(&r, "server", "--config", path, "--listen", "127.0.0.1:5353");
		cr_assert_eq(r.code, 1, "case %zu: a bad file stops the server too", i);
	}
	RUN(&r, "server", "--config", "/nonexistent/fdtool.conf", "--check-config");
	cr_assert_eq(r.code, 1);
	cr_assert(strstr(r.err, "/nonexistent/fdtool.conf: No such file"), "%s", r.err);
}

Test(cli, creator_reads_its_own_section)
{
	char *path = conf("[server]\nlisten = 127.0.0.1\n"
	    "[creator]\nlisten = /run/c.sock\nallow = both:127.0.0.1:53\n"
	    "allow = udp:[::1]:8053-8060\nuser = root\nmax-peers = 3\n");
	struct result r;

	RUN(&r, "creator", "--config", path, "--check-config");
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert(has_line(r.out, "listen = /run/c.sock"), "%s", r.out);
	cr_assert(has_line(r.out, "allow = both:127.0.0.1:53"), "%s", r.out);
	cr_assert(has_line(r.out, "allow = udp:[::1]:8053-8060"), "%s", r.out);
	cr_assert(has_line(r.out, "max-peers = 3"), "%s", r.out);
	RUN(&r, "creator", "--config", path, "--check-config", "--allow", "tcp:127.0.0.1:853");
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert(has_line(r.out, "allow = tcp:127.0.0.1:853") && !strstr(r.out, "8053"),
	    "--allow replaces the file's: %s", r.out);
	path = conf("[creator]\nlisten = /run/c.sock\nfd = 3\n");
	RUN(&r, "creator", "--config", path, "--check-config");
	cr_assert_eq(r.code, 1);
	cr_assert(strstr(r.err, "'fd' can only be given on the command line"), "%s", r.err);
}

/*
 * A start that fails after the creator child was spawned (here: the
 * upstream is the server itself) must reap that child before exiting.
 * As a subreaper we inherit any orphan: there must be none.
 */
Test(cli, failed_start_leaves_no_creator_behind, .timeout = 30)
{
	struct result r;
	pid_t orphan;
	int status;

	if (!is_root())
		cr_skip_test("not root: the server spawns no creator child");
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	RUN(&r, "server", "--no-config", "--no-control", "--listen", "127.0.0.1:53",
	    "--upstream", "127.0.0.1:53");
	cr_assert_eq(r.code, 1, "%s", r.err);
	cr_assert(strstr(r.err, "is this server itself"), "%s", r.err);
	cr_assert(strstr(r.err, "granted"), "the creator was spawned: %s", r.err);
	usleep(300 * 1000);
	orphan = waitpid(-1, &status, WNOHANG);
	cr_assert(orphan <= 0, "an orphaned creator (pid %d) was left to us", (int)orphan);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

/* The operator's creator refuses an address: the error names the --allow it lacks. */
Test(cli, a_refusing_creator_names_the_missing_allow, .timeout = 30)
{
	char dir[64], sock[128];
	struct result r;
	pid_t cr;

	if (!is_root())
		cr_skip_test("not root: cannot bind port 53");
	cr_assert_not_null(make_tmpdir(dir, sizeof(dir)));
	snprintf(sock, sizeof(sock), "%s/creator.sock", dir);
	cr = spawn_fdtool((const char *const[]){ "fdtool", "creator", "--no-config",
	    "--listen", sock, "--allow", "both:127.0.0.1:53", NULL }, NULL, -1);
	cr_assert_eq(wait_for_socket(sock, 5000), 0);
	RUN(&r, "server", "--no-config", "--no-control", "--creator", sock,
	    "--listen", "127.0.0.1", "--listen", "127.0.0.1:5353", "--upstream", "192.0.2.1");
	cr_assert_eq(r.code, 1, "%s", r.err);
	cr_assert(strstr(r.err, "refused both:127.0.0.1:5353") &&
	    strstr(r.err, "--allow both:127.0.0.1:5353"), "%s", r.err);
	stop_child(cr, 5000);
}

/* The resolver picks the protocol (UDP, TCP for truncated answers). */
Test(cli, an_upstream_takes_no_protocol)
{
	struct result r;

	RUN(&r, "server", "--no-config", "--check-config", "--upstream", "tcp:192.0.2.1");
	cr_assert_eq(r.code, 2, "%s", r.err);
	cr_assert(strstr(r.err, "--upstream tcp:192.0.2.1: an upstream takes no udp: or tcp:"),
	    "%s", r.err);
	RUN(&r, "server", "--no-config", "--check-config", "--user", "root",
	    "--upstream", "192.0.2.1:5300");
	cr_assert_eq(r.code, 0, "%s", r.err);
}

/* Start the binary with argv and descriptors 0, 1 and 2 closed. */
static pid_t
spawn_without_stdio(char *const argv[])
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(0);
		close(1);
		close(2);
		execv(FDTOOL_BIN, argv);
		_exit(126);
	}
	return pid;
}

/* How many of pid's descriptors 0, 1, 2 are /dev/null; what they are in why. */
static int
stdio_on_dev_null(pid_t pid, char *why, size_t size)
{
	char path[64], target[128];
	int n = 0, used = 0;

	for (int fd = 0; fd <= 2; fd++) {
		ssize_t len;
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
		len = readlink(path, target, sizeof(target) - 1);
		target[len < 0 ? 0 : len] = '\0';
		n += strcmp(target, "/dev/null") == 0;
		used += snprintf(why + used, size - (size_t)used, "%d -> %s; ", fd,
		    len < 0 ? "closed" : target);
		if ((size_t)used >= size)
			used = (int)size - 1;
	}
	return n;
}

/*
 * Issue 10, defect 9: `fdtool control dump-cache - >&-` connected its
 * socket as descriptor 1 and passed it to the server as the dump's
 * output.  Started with 0, 1 and 2 closed, the client must find
 * /dev/null there and its socket above them.  It waits on our reply
 * while we look.
 */
Test(cli, control_started_without_stdio_finds_dev_null_there, .timeout = 30)
{
	char dir[64], sock[128], why[512];
	struct pollfd p;
	int lfd, conn, n, status;
	pid_t pid;

	cr_assert_not_null(make_tmpdir(dir, sizeof(dir)));
	snprintf(sock, sizeof(sock), "%s/control.sock", dir);
	lfd = unixsock_listen(sock, 0600, (uid_t)-1, (gid_t)-1);
	cr_assert_geq(lfd, 0, "listen: %s", strerror(-lfd));
	pid = spawn_without_stdio((char *const[]){ "fdtool", "control", "--socket", sock,
	    "--timeout", "10", "ping", NULL });
	p = (struct pollfd){ .fd = lfd, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 10000), 1, "the client never connected");
	conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	cr_assert_geq(conn, 0);
	n = stdio_on_dev_null(pid, why, sizeof(why));
	close(conn);	/* no reply: it reports that, on its /dev/null, and fails */
	status = wait_child(pid, 10000);
	close(lfd);
	unlink(sock);
	rmdir(dir);
	cr_assert_eq(n, 3, "descriptors 0-2 of the control client: %s", why);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d", status);
}

/* The same for a daemon: its epoll, signals and sockets stay off 0-2. */
Test(cli, creator_started_without_stdio_finds_dev_null_there, .timeout = 30)
{
	char dir[64], sock[128], why[512];
	int n, status;
	pid_t pid;

	cr_assert_not_null(make_tmpdir(dir, sizeof(dir)));
	snprintf(sock, sizeof(sock), "%s/creator.sock", dir);
	pid = spawn_without_stdio((char *const[]){ "fdtool", "creator", "--no-config",
	    "--listen", sock, "--allow", "udp:127.0.0.1:5353", NULL });
	if (wait_for_socket(sock, 10000) != 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		cr_assert_fail("the creator did not come up");
	}
	n = stdio_on_dev_null(pid, why, sizeof(why));
	status = stop_child(pid, 10000);
	cr_assert_eq(n, 3, "descriptors 0-2 of the creator: %s", why);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
}
