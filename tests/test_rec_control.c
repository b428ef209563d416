/*
 * rec_control's socket, below the integration test that drives it with
 * the real rec_control: PowerDNS's framing byte by byte from a client of
 * our own, and the hostile clients pdns itself would block on (a length
 * of 2^40, a dump command whose descriptor never comes, a descriptor out
 * of place, a second command, a full house), each dropped while others
 * are answered at once and no descriptor is left behind.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/unixsock.h"
#include "common/wire.h"
#include "tests/helpers.h"

#define TIMEOUT_MS 5000

static char dir[64], recsock[100], ctlsock[100], logpath[128];
static pid_t server;

static void
start_server(void)
{
	char port[16];

	cr_assert_not_null(make_tmpdir(dir, sizeof(dir)));
	snprintf(recsock, sizeof(recsock), "%s/pdns_recursor.controlsocket", dir);
	snprintf(ctlsock, sizeof(ctlsock), "%s/control.sock", dir);
	snprintf(logpath, sizeof(logpath), "%s/server.log", dir);
	snprintf(port, sizeof(port), "127.0.0.1:%u", free_port());
	const char *argv[] = { "fdtool", "server", "--no-config", "--listen", port,
		"--upstream", "127.0.0.1:9", "--no-hosts", "--control", ctlsock,
		"--rec-control", recsock, "--control-idle-timeout", "1",
		"--log-level", "debug", NULL };
	server = spawn_fdtool(argv, logpath, -1);
	cr_assert_gt(server, 0);
	/* the native socket is made after rec_control's: both are there */
	cr_assert_eq(wait_for_socket(ctlsock, TIMEOUT_MS), 0, "no server; see %s", logpath);
}

static void
stop_server(void)
{
	if (server > 0)
		stop_child(server, TIMEOUT_MS);
	server = 0;
	reap_spawned();
}

TestSuite(rec_control, .init = start_server, .fini = stop_server, .timeout = 30);

static int
rec_connect(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", recsock);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0, "connect: %s",
	    strerror(errno));
	return fd;
}

/* pdns's request: int 0, size_t length, the text. */
static void
rec_send_len(int fd, const char *text, size_t len)
{
	int status = 0;
	size_t n = strlen(text);

	cr_assert_eq(send(fd, &status, sizeof(status), MSG_NOSIGNAL), (ssize_t)sizeof(status));
	cr_assert_eq(send(fd, &len, sizeof(len), MSG_NOSIGNAL), (ssize_t)sizeof(len));
	if (n)
		cr_assert_eq(send(fd, text, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void
rec_send(int fd, const char *text)
{
	rec_send_len(fd, text, strlen(text));
}

/* Read exactly n bytes within the timeout: n, 0 at end of stream, -errno. */
static ssize_t
read_full(int fd, void *buf, size_t n, int timeout_ms)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;
		if (poll(&p, 1, timeout_ms) <= 0)
			return -ETIMEDOUT;
		r = read(fd, (char *)buf + got, n - got);
		if (r < 0)
			return -errno;
		if (r == 0)
			return got ? -EPROTO : 0;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* The answer's status and text (NUL-terminated); -errno, or 0 at end of stream. */
static ssize_t
rec_read(int fd, int *status, char *text, size_t size)
{
	size_t len;
	ssize_t r;

	if ((r = read_full(fd, status, sizeof(*status), TIMEOUT_MS)) <= 0)
		return r;
	if ((r = read_full(fd, &len, sizeof(len), TIMEOUT_MS)) <= 0)
		return r < 0 ? r : -EPROTO;
	cr_assert_lt(len, size, "an answer of %zu bytes", len);
	if (len && (r = read_full(fd, text, len, TIMEOUT_MS)) <= 0)
		return r < 0 ? r : -EPROTO;
	text[len] = '\0';
	return 1;
}

static void
ask(const char *cmd, int *status, char *text, size_t size)
{
	int fd = rec_connect();

	rec_send(fd, cmd);
	cr_assert_eq(rec_read(fd, status, text, size), 1, "no answer to %s", cmd);
	/* one command per connection: then it is closed */
	cr_assert_eq(read_full(fd, text + size - 1, 1, TIMEOUT_MS), 0, "still open after %s", cmd);
	text[size - 1] = '\0';
	close(fd);
}

/* The connection is closed by the server, unanswered, within ms. */
static void
assert_dropped(int fd, int ms, const char *why)
{
	char buf[64];

	cr_assert_eq(read_full(fd, buf, sizeof(buf), ms), 0, "%s: not dropped", why);
	close(fd);
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void
assert_pings_at_once(void)
{
	char text[256];
	long t0 = now_ms();
	int st;

	ask("ping", &st, text, sizeof(text));
	cr_assert_eq(st, 0);
	cr_assert_str_eq(text, "pong\n");
	cr_assert_lt(now_ms() - t0, 500, "ping took %ld ms", now_ms() - t0);
}

Test(rec_control, the_commands_answer_in_pdns_words)
{
	static char text[1 << 20];
	int st;

	ask("ping", &st, text, sizeof(text));
	cr_assert_eq(st, 0);
	cr_assert_str_eq(text, "pong\n");
	ask("PiNg", &st, text, sizeof(text));
	cr_assert_str_eq(text, "pong\n", "commands are lower-cased as pdns does");
	ask("version", &st, text, sizeof(text));
	cr_assert_eq(st, 0);
	cr_assert_str_eq(text, FDTOOL_VERSION "\n");
	ask("bogus x", &st, text, sizeof(text));
	cr_assert_eq(st, 1);
	cr_assert_str_eq(text, "Unknown command 'bogus', try 'help'\n");
	ask("load-cache", &st, text, sizeof(text));
	cr_assert_eq(st, 1, "a native-only command is unknown here");
	ask("", &st, text, sizeof(text));
	cr_assert_eq(st, 1);
	ask("help", &st, text, sizeof(text));
	cr_assert_eq(st, 0);
	cr_assert(strstr(text, "\nget-all ") && strstr(text, "\nwipe-cache-typed type "), "%s", text);
	ask("get-parameter max-ttl nosuch listen", &st, text, sizeof(text));
	cr_assert_eq(st, 0);
	cr_assert(strncmp(text, "max-ttl=\"86400\"\nnosuch not known\nlisten=\"",
	    strlen("max-ttl=\"86400\"\nnosuch not known\nlisten=\"")) == 0 &&
	    strstr(text, "127.0.0.1:"), "%s", text);
	ask("wipe-cache example.com$ example.net", &st, text, sizeof(text));
	cr_assert_eq(st, 0);
	cr_assert_str_eq(text, "wiped 0 records, 0 negative records, 0 packets\n");
	ask("wipe-cache-typed AAAA example.com", &st, text, sizeof(text));
	cr_assert_str_eq(text, "wiped 0 records, 0 negative records, 0 packets\n");
	ask("wipe-cache-typed NOTATYPE example.com", &st, text, sizeof(text));
	cr_assert_eq(st, 1);
	/* pdns's words and status for a bad name: nothing wiped, exit 0 */
	ask("wipe-cache example.com bad..name", &st, text, sizeof(text));
	cr_assert_eq(st, 0);
	cr_assert_str_eq(text, "Error: not a domain name: bad..name, nothing wiped\n");
}

/* A line longer than any buffer stays one line; the next one is its own. */
Test(rec_control, long_lines_stay_whole)
{
	static char cmd[4096], text[8192];
	int st;

	memcpy(cmd, "get-parameter ", 14);
	memset(cmd + 14, 'a', 3000);
	memcpy(cmd + 3014, " max-ttl", 9);
	ask(cmd, &st, text, sizeof(text));
	cr_assert_eq(st, 0);
	cr_assert_eq(strlen(text), 3000 + strlen(" not known\n") + strlen("max-ttl=\"86400\"\n"));
	cr_assert_str_eq(text + 3000, " not known\nmax-ttl=\"86400\"\n");
}

/* The native socket beside it: a wipe without a name is an error, as it was. */
Test(rec_control, native_wipe_without_a_name_is_refused)
{
	struct fdt_msg m, rep;
	int fds[FDT_MAX_FDS], sock = unixsock_connect(ctlsock);

	cr_assert_geq(sock, 0);
	fdt_msg_init(&m, FDT_MSG_CTL_REQ, 5);
	m.body.ctl.command = FDT_CTL_WIPE_CACHE;
	cr_assert_eq(fdt_msg_send(sock, &m, NULL, 0), 0);
	cr_assert_eq(fdt_msg_recv(sock, &rep, fds, 0), 0);
	cr_assert_eq(rep.id, 5);
	cr_assert_eq(rep.status, EINVAL, "status %u: %s", rep.status, rep.body.ctl.text);
	close(sock);
}

Test(rec_control, get_and_get_all_agree)
{
	static char all[1 << 20], one[4096];
	char *line, *save = NULL, name[256], cmd[300];
	unsigned long long v;
	int st, n = 0;

	ask("get-all", &st, all, sizeof(all));
	cr_assert_eq(st, 0);
	for (line = strtok_r(all, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		char *tab = strchr(line, '\t'), *end;
		cr_assert_not_null(tab, "not name<TAB>value: %s", line);
		*tab = '\0';
		v = strtoull(tab + 1, &end, 10);
		cr_assert(end != tab + 1 && *end == '\0', "not an integer: %s", tab + 1);
		if (n < 5) {	/* a few, each asked alone: the same counter (they stand still) */
			snprintf(name, sizeof(name), "%s", line);
			snprintf(cmd, sizeof(cmd), "get %s nosuch-counter", name);
			ask(cmd, &st, one, sizeof(one));
			cr_assert_eq(st, 0);
			cr_assert(strtoull(one, NULL, 10) <= v + 1000, "%s: %s vs %llu", name, one, v);
			cr_assert_not_null(strstr(one, "\nUNKNOWN\n"), "%s", one);
		}
	}
	cr_assert_gt(n, 10, "only %d counters", n);
}

Test(rec_control, dump_cache_writes_to_the_passed_descriptor)
{
	char text[256], dump[4096];
	int fd = rec_connect(), pipefd[2], st;

	cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);
	rec_send(fd, "dump-cache");
	cr_assert_eq(fdpass_send(fd, "X", 1, &pipefd[1], 1), 0);
	close(pipefd[1]);
	cr_assert_eq(rec_read(fd, &st, text, sizeof(text)), 1);
	cr_assert_eq(st, 0, "%s", text);
	cr_assert_str_eq(text, "dumped 0 records\n");
	ssize_t got = read_full(pipefd[0], dump, 20, TIMEOUT_MS);
	cr_assert_gt(got, 0, "read %zd", got);
	cr_assert(strncmp(dump, "; fdtool cache dump", 19) == 0);
	close(pipefd[0]);
	close(fd);

	/* a client that shuts its sending side once it has asked (as socat
	 * does) still gets its dump and its answer */
	fd = rec_connect();
	cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);
	rec_send(fd, "dump-cache");
	cr_assert_eq(fdpass_send(fd, "X", 1, &pipefd[1], 1), 0);
	close(pipefd[1]);
	cr_assert_eq(shutdown(fd, SHUT_WR), 0);
	cr_assert_eq(rec_read(fd, &st, text, sizeof(text)), 1, "no answer after a half-close");
	cr_assert_str_eq(text, "dumped 0 records\n");
	close(pipefd[0]);
	close(fd);

	/* a file name, as rec_control before 4.5 sent: we open nothing */
	fd = rec_connect();
	rec_send(fd, "dump-cache /tmp/x");
	cr_assert_eq(rec_read(fd, &st, text, sizeof(text)), 1);
	cr_assert_eq(st, 1);
	cr_assert_not_null(strstr(text, "opens no files"), "%s", text);
	close(fd);
}

Test(rec_control, hostile_clients_are_dropped_and_others_answered)
{
	int before, fd, devnull = open("/dev/null", O_RDONLY | O_CLOEXEC), slow[3];
	size_t huge = (size_t)1 << 40;
	char text[256];
	long t0;

	assert_pings_at_once();
	before = count_fds(server);
	cr_assert_gt(before, 0);

	/* a length of 2^40: dropped at once, nothing allocated for it */
	fd = rec_connect();
	rec_send_len(fd, "", huge);
	assert_dropped(fd, 1000, "a length of 2^40");

	/* a descriptor with the head */
	fd = rec_connect();
	cr_assert_eq(fdpass_send(fd, "\0\0\0\0", 4, &devnull, 1), 0);
	assert_dropped(fd, 1000, "a descriptor out of place");

	/* a dump command whose descriptor never comes, a client that
	 * sends half a head, and one that sends nothing: pdns would block
	 * on the first; here they wait in their slots while others are
	 * answered, and go at --control-idle-timeout (1 s) */
	slow[0] = rec_connect();
	rec_send(slow[0], "dump-cache");
	slow[1] = rec_connect();
	cr_assert_eq(send(slow[1], "\0\0", 2, MSG_NOSIGNAL), 2);
	slow[2] = rec_connect();
	t0 = now_ms();
	assert_pings_at_once();
	for (int i = 0; i < 3; i++)
		assert_dropped(slow[i], 4000, "a stalled client");
	cr_assert_geq(now_ms() - t0, 800, "dropped before the idle timeout");

	/* the descriptor's byte without a descriptor */
	fd = rec_connect();
	rec_send(fd, "dump-cache");
	cr_assert_eq(send(fd, "X", 1, MSG_NOSIGNAL), 1);
	assert_dropped(fd, 1000, "no descriptor");

	/* nothing left behind */
	for (int i = 0; i < 100 && count_fds(server) != before; i++)
		usleep(20000);
	cr_assert_eq(count_fds(server), before, "the server holds %d descriptors, had %d",
	    count_fds(server), before);
	assert_pings_at_once();
	close(devnull);
	(void)text;
}

Test(rec_control, a_full_house_is_told_so)
{
	int fds[8], fd, st;
	char text[256];

	/* 8 slots; the last is ours anyway (we are the server's uid) */
	for (int i = 0; i < 8; i++)
		fds[i] = rec_connect();
	usleep(200000);
	fd = rec_connect();
	cr_assert_eq(rec_read(fd, &st, text, sizeof(text)), 1, "no refusal to read");
	cr_assert_eq(st, 1);
	cr_assert_not_null(strstr(text, "too many"), "%s", text);
	close(fd);
	for (int i = 0; i < 8; i++)
		close(fds[i]);
	usleep(200000);
	assert_pings_at_once();
}

Test(rec_control, a_uid_outside_the_policy_is_refused)
{
	if (!is_root()) {
		stop_server();	/* a skipped test may not run its .fini */
		cr_skip_test("needs root: connects as uid 1");
	}
	int status;
	pid_t child;

	/* past the file's mode, so that only SO_PEERCRED can say no */
	cr_assert_eq(chmod(recsock, 0666), 0);
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		/* no cr_assert here: a forked child must not report to the
		 * runner; it says how it went by its exit status alone */
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		char text[256];
		size_t len = 4, got;
		int fd, st = -1, zero = 0;

		if (setgroups(0, NULL) != 0 || setgid(1) != 0 || setuid(1) != 0)
			_exit(10);
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", recsock);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
			_exit(11);
		/* the refusal may already be there, the connection closed:
		 * a failed send is no failure, the answer is what counts */
		send(fd, &zero, sizeof(zero), MSG_NOSIGNAL);
		send(fd, &len, sizeof(len), MSG_NOSIGNAL);
		send(fd, "ping", 4, MSG_NOSIGNAL);
		if (read_full(fd, &st, sizeof(st), TIMEOUT_MS) != (ssize_t)sizeof(st) ||
		    read_full(fd, &len, sizeof(len), TIMEOUT_MS) != (ssize_t)sizeof(len) ||
		    len >= sizeof(text) ||
		    (got = (size_t)read_full(fd, text, len, TIMEOUT_MS)) != len)
			_exit(12);
		text[len] = '\0';
		_exit(st == 1 && strstr(text, "refused") ? 0 : 13);
	}
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
}
