/*
 * fdtool control: the operator's client, after PowerDNS's rec_control.
 * Output goes through descriptors the client opens itself, with its own
 * credentials, in its own working directory (or its own stdout/stdin for
 * "-"), and passes to the server: the server never opens a path.
 */
const char control_usage[] =
"usage: fdtool control [--socket PATH] [--timeout SEC] [--force] COMMAND [ARGS]\n"
"\n"
"Operates a running fdtool server through its control socket.\n"
"\n"
"commands:\n"
"  ping                 is the server there?\n"
"  version              the server's version\n"
"  help                 this list\n"
"  dump-cache FILE|-    write the cache to FILE (created, mode 0640; an existing\n"
"                       FILE is refused unless --force) or to stdout; the\n"
"                       summary goes to stderr\n"
"  load-cache FILE|-    read a dump back into the cache (from FILE or stdin)\n"
"  wipe-cache NAME...   drop NAME from the cache; NAME$ drops its whole subtree\n"
"  get NAME...          counters, one value per line\n"
"  get-all              every counter, as name<TAB>value\n"
"  metrics [FILE|-]     the counters in Prometheus's text format, to stdout or\n"
"                       FILE (as dump-cache makes it), for node_exporter's\n"
"                       textfile collector\n"
"  quit                 stop the server now\n"
"  quit-nicely          stop once the queries in flight are answered\n"
"\n"
"  --socket PATH        the server's control socket (default /run/fdtool/control.sock)\n"
"  --timeout SEC        give up connecting or waiting for a reply after SEC seconds\n"
"                       (default 10); a dump or load that makes progress goes on\n"
"  --force              dump-cache and metrics may overwrite FILE\n"
"  --version            the version\n"
"  --help               this text\n"
"\n"
"Exit status: 0 on success, 1 on failure (with one line on stderr), 2 for usage.\n";

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/call.h"
#include "common/daemon.h"
#include "common/unixsock.h"
#include "common/wire.h"
#include "roles/roles.h"

struct control {
	const char *socket;
	int timeout_ms;
	int force;
	int sock;
	uint32_t next_id;
};

static int
fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fdtool control: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_RUNTIME;
}

/*
 * Send one command (with fd attached if >= 0) and wait for its answer.
 * Progress replies push the deadline out: --timeout bounds silence, not
 * the length of a dump.  Returns 0 with the final reply in *rep, or -errno.
 */
static int
transact(struct control *c, uint16_t command, const char *text, uint64_t value,
    int fd, struct fdt_msg *rep)
{
	struct fdt_msg m;
	int r;

	if (++c->next_id == 0)	/* 0 is the server's "not about a request" */
		c->next_id++;
	fdt_msg_init(&m, FDT_MSG_CTL_REQ, c->next_id);
	m.body.ctl.command = command;
	m.body.ctl.value = value;
	if (fd >= 0)
		m.body.ctl.flags = FDT_CTL_F_FD;
	if (text && snprintf(m.body.ctl.text, sizeof(m.body.ctl.text), "%s", text) >=
	    (int)sizeof(m.body.ctl.text))
		return -ENAMETOOLONG;
	r = fdt_call(c->sock, &m, fd, rep, NULL, c->timeout_ms);
	return r < 0 ? r : 0;
}

static int
connect_with_timeout(struct control *c)
{
	long long deadline = (long long)daemon_now_ms() + c->timeout_ms;

	/* a listen backlog that is full says EAGAIN: a busy server, try on */
	for (;;) {
		c->sock = unixsock_connect(c->socket);
		if (c->sock >= 0 || c->sock != -EAGAIN || (long long)daemon_now_ms() >= deadline)
			return c->sock;
		poll(NULL, 0, 50);
	}
}

static const char *
why(int r)
{
	switch (r) {
	case -ETIMEDOUT:
		return "no reply in time (see --timeout)";
	case -ECONNRESET:
		return "the server closed the connection";
	case -EPROTO:
		return "the server's reply makes no sense";
	case -EACCES:
		return "the server refused us: Permission denied";
	case -EUSERS:
		return "the server refused us: too many control clients at once; try again later";
	case -EMFILE:
	case -ENFILE:
		return "the server refused us: it is out of descriptors; try again later";
	default:
		return strerror(-r);
	}
}

/* A reply that says no: the server's own words when it gave any. */
static int
refused(const char *cmd, const struct fdt_msg *rep)
{
	if (rep->body.ctl.text[0])
		return fail("%s: %s", cmd, rep->body.ctl.text);
	return fail("%s: %s", cmd, strerror((int)rep->status));
}

static int
simple(struct control *c, const char *cmd, uint16_t command, const char *arg)
{
	struct fdt_msg rep;
	int r = transact(c, command, arg, 0, -1, &rep);

	if (r < 0)
		return fail("%s: %s", cmd, why(r));
	if (rep.status)
		return refused(cmd, &rep);
	puts(rep.body.ctl.text);
	return EXIT_OK;
}

/*
 * A command whose output the server writes into a descriptor we pass:
 * FILE, made here with our credentials, or our stdout for "-".  With
 * summary, the server's last word goes to stderr (stdout may be the
 * output itself).
 */
static int
write_to(struct control *c, const char *cmd, uint16_t command, const char *path, int summary)
{
	struct fdt_msg rep;
	int fd, r;

	if (strcmp(path, "-") == 0) {
		fd = STDOUT_FILENO;	/* never our socket: main.c fills 0-2 first */
	} else {
		int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
		    (c->force ? O_TRUNC : O_EXCL);
		if ((fd = open(path, flags, 0640)) < 0) {
			if (errno == EEXIST)
				return fail("%s: %s exists (--force overwrites it)", cmd, path);
			return fail("%s: cannot create %s: %s", cmd, path, strerror(errno));
		}
	}
	fflush(stdout);
	r = transact(c, command, NULL, 0, fd, &rep);
	if (fd != STDOUT_FILENO)
		close(fd);
	if (r < 0)
		return fail("%s: %s", cmd, why(r));
	if (rep.status)
		return refused(cmd, &rep);
	if (summary)
		fprintf(stderr, "%s\n", rep.body.ctl.text);
	return EXIT_OK;
}

static int
load_cache(struct control *c, const char *path)
{
	struct fdt_msg rep;
	int fd, r;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;	/* never our socket: main.c fills 0-2 first */
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return fail("load-cache: cannot open %s: %s", path, strerror(errno));
	r = transact(c, FDT_CTL_LOAD_CACHE, NULL, 0, fd, &rep);
	if (fd != STDIN_FILENO)
		close(fd);
	if (r < 0)
		return fail("load-cache: %s", why(r));
	if (rep.status)
		return refused("load-cache", &rep);
	puts(rep.body.ctl.text);
	return EXIT_OK;
}

static int
wipe_cache(struct control *c, int argc, char **argv)
{
	unsigned long long total = 0;

	if (argc == 0)
		return role_usage_error("control", "wipe-cache needs at least one NAME");
	for (int i = 0; i < argc; i++) {
		struct fdt_msg rep;
		int r = transact(c, FDT_CTL_WIPE_CACHE, argv[i], 0, -1, &rep);
		if (r < 0)
			return fail("wipe-cache %s: %s", argv[i], why(r));
		if (rep.status)
			return refused("wipe-cache", &rep);
		total += rep.body.ctl.value;
	}
	printf("wiped %llu entries\n", total);
	return EXIT_OK;
}

static int
get(struct control *c, int argc, char **argv)
{
	if (argc == 0)
		return role_usage_error("control", "get needs at least one counter NAME");
	for (int i = 0; i < argc; i++) {
		struct fdt_msg rep;
		int r = transact(c, FDT_CTL_GET, argv[i], 0, -1, &rep);
		if (r < 0)
			return fail("get %s: %s", argv[i], why(r));
		if (rep.status)
			return refused("get", &rep);
		printf("%llu\n", (unsigned long long)rep.body.ctl.value);
	}
	return EXIT_OK;
}

static int
get_all(struct control *c)
{
	for (uint64_t i = 0;; i++) {
		struct fdt_msg rep;
		int r = transact(c, FDT_CTL_GET_ALL, NULL, i, -1, &rep);
		if (r < 0)
			return fail("get-all: %s", why(r));
		if (rep.status == ENOENT)
			return EXIT_OK;
		if (rep.status)
			return refused("get-all", &rep);
		puts(rep.body.ctl.text);
	}
}

static const char *const commands[] = {
	"ping", "version", "help", "dump-cache", "load-cache", "wipe-cache",
	"get", "get-all", "metrics", "quit", "quit-nicely",
};

static int
known(const char *cmd)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i], cmd) == 0)
			return 1;
	return 0;
}

static int
nargs_ok(const char *cmd, int argc)
{
	if (!strcmp(cmd, "dump-cache") || !strcmp(cmd, "load-cache"))
		return argc == 1;
	if (!strcmp(cmd, "wipe-cache") || !strcmp(cmd, "get"))
		return argc >= 1;
	if (!strcmp(cmd, "metrics"))
		return argc <= 1;
	return argc == 0;
}

static int
run(struct control *c, const char *cmd, int argc, char **argv)
{
	if (!strcmp(cmd, "ping"))
		return simple(c, cmd, FDT_CTL_PING, NULL);
	if (!strcmp(cmd, "version"))
		return simple(c, cmd, FDT_CTL_VERSION, NULL);
	if (!strcmp(cmd, "dump-cache"))
		return write_to(c, cmd, FDT_CTL_DUMP_CACHE, argv[0], 1);
	if (!strcmp(cmd, "metrics"))	/* quiet: its output goes to a collector */
		return write_to(c, cmd, FDT_CTL_METRICS, argc ? argv[0] : "-", 0);
	if (!strcmp(cmd, "load-cache"))
		return load_cache(c, argv[0]);
	if (!strcmp(cmd, "wipe-cache"))
		return wipe_cache(c, argc, argv);
	if (!strcmp(cmd, "get"))
		return get(c, argc, argv);
	if (!strcmp(cmd, "get-all"))
		return get_all(c);
	if (!strcmp(cmd, "quit"))
		return simple(c, cmd, FDT_CTL_QUIT, NULL);
	return simple(c, cmd, FDT_CTL_QUIT_NICELY, NULL);
}

int
control_main(int argc, char **argv)
{
	enum { O_SOCKET = 256, O_TIMEOUT, O_FORCE };
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "force", no_argument, NULL, O_FORCE },
		{ NULL, 0, NULL, 0 },
	};
	struct control c = { .socket = "/run/fdtool/control.sock", .timeout_ms = 10000 };
	const char *cmd;
	char *end;
	double secs;
	int o, r;

	opterr = 0;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case O_SOCKET:
			c.socket = optarg;
			break;
		case O_TIMEOUT:
			secs = strtod(optarg, &end);
			if (*end || !(secs > 0 && secs <= 86400))
				return role_usage_error("control", "--timeout %s: seconds, above 0", optarg);
			c.timeout_ms = (int)(secs * 1000);
			break;
		case O_FORCE:
			c.force = 1;
			break;
		default:
			return role_usage_error("control", "unknown option or missing argument: %s",
			    argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return role_usage_error("control", "no command (try 'help')");
	cmd = argv[optind++];
	if (!known(cmd))
		return role_usage_error("control", "unknown command '%s' (try 'help')", cmd);
	if (!strcmp(cmd, "help")) {
		fputs(control_usage, stdout);
		return EXIT_OK;
	}
	if (!nargs_ok(cmd, argc - optind))
		return role_usage_error("control", "%s: wrong number of arguments", cmd);

	signal(SIGPIPE, SIG_IGN);	/* a vanished server is an error, not a death */
	if ((c.sock = connect_with_timeout(&c)) < 0)
		return fail("cannot connect to %s: %s", c.socket, strerror(-c.sock));
	r = run(&c, cmd, argc - optind, argv + optind);
	close(c.sock);
	return r;
}
