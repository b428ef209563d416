/*
 * Where the listening sockets come from, in order of preference: systemd
 * socket activation (LISTEN_FDS), a running creator (--creator PATH), a
 * creator we spawn as our child when started as root, or binding them
 * ourselves when unprivileged.  The spawned creator is this same binary
 * re-executed, allowed exactly what --listen and --metrics-listen name.
 * The metrics listener comes the same way; under socket activation it is
 * the socket named "metrics" (FileDescriptorName=), or else bound by us.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/creator_client.h"
#include "common/fdpass.h"
#include "common/log.h"
#include "common/sockbind.h"
#include "common/unixsock.h"
#include "roles/server/child.h"
#include "roles/server/creator_child.h"
#include "roles/server/server.h"

#define CREATOR_TIMEOUT_MS	5000

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
		return -errno;
	return 0;
}

static int
add_listener(struct server *s, int fd, int tcp)
{
	struct watched *w;

	if (tcp ? s->ntcp == SERVER_MAX_LISTEN : s->nudp == SERVER_MAX_LISTEN)
		return -ENOSPC;
	if (set_nonblock(fd) < 0)
		return -errno;
	w = tcp ? &s->tcp[s->ntcp++] : &s->udp[s->nudp++];
	w->kind = tcp ? K_TCP_LISTEN : K_UDP_LISTEN;
	w->fd = fd;
	return 0;
}

static int
set_metrics(struct server *s, int fd)
{
	int r;

	if ((r = set_nonblock(fd)) < 0) {
		close(fd);
		return r;
	}
	s->metrics_listen = (struct watched){ .kind = K_METRICS_LISTEN, .fd = fd };
	return 0;
}

/* LISTEN_FDNAMES' name for descriptor i is "metrics" (sd_listen_fds_with_names). */
static int
named_metrics(const char *names, int i)
{
	for (; names && i > 0; i--)
		if ((names = strchr(names, ':')))
			names++;
	return names && strncmp(names, "metrics", 7) == 0 &&
	    (names[7] == ':' || names[7] == '\0');
}

/* sd_listen_fds(3), without libsystemd: descriptors 3.. if meant for us. */
static int
from_systemd(struct server *s)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	int n, r;

	if (!pid || !fds || atol(pid) != (long)getpid())
		return 0;
	n = atoi(fds);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	for (int fd = 3; fd < 3 + n; fd++) {
		int type;
		socklen_t len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
		    (type != SOCK_DGRAM && type != SOCK_STREAM))
			return -ENOTSOCK;
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		if (type == SOCK_STREAM && named_metrics(names, fd - 3)) {
			r = 0;
			if (s->cfg.metrics && s->metrics_listen.fd < 0)
				r = set_metrics(s, fd);
			else
				close(fd);	/* not asked for: never served as DNS */
		} else {
			r = add_listener(s, fd, type == SOCK_STREAM);
		}
		if (r < 0)
			return r;
	}
	unsetenv("LISTEN_FDNAMES");
	log_info("using %d socket(s) from systemd socket activation", n);
	return n;
}

static int
take(struct server *s, const struct fdt_bind *b, int *fds, int n)
{
	int r = 0;

	for (int i = 0; i < n; i++) {
		int tcp = b->proto == FDT_PROTO_TCP || (b->proto == FDT_PROTO_BOTH && i == 1);
		if (r == 0)
			r = add_listener(s, fds[i], tcp);
		else
			close(fds[i]);
	}
	return r;
}

/* Ask the creator on sock for one endpoint: the count of fds, or -errno (said). */
static int
ask_creator(struct server *s, int sock, const struct endpoint *ep, struct fdt_bind *b,
    int *fds, const char *option)
{
	char what[ENDPOINT_STRLEN];
	int n;

	endpoint_to_bind(ep, ep->port_lo, b);
	n = creator_bind(sock, b, fds, CREATOR_TIMEOUT_MS);
	if (n == -EACCES && s->cfg.creator_path) {
		/* the operator's creator: say what its policy lacks */
		endpoint_format(ep, what, sizeof(what));
		log_warnx("the creator at %s refused %s: its policy does not allow it; "
		    "start it with --allow %s (allow = %s in its [creator] section), "
		    "or give this server a %s without it",
		    s->cfg.creator_path, what, what, what, option);
	} else if (n < 0) {
		log_warnx("creator refused %s: %s", endpoint_format(ep, what,
		    sizeof(what)), strerror(-n));
	}
	return n;
}

/* Ask the creator on sock for every --listen endpoint, and --metrics-listen. */
static int
from_creator(struct server *s, int sock)
{
	struct fdt_bind b;
	int fds[FDT_MAX_FDS], n, r;

	for (size_t i = 0; i < s->cfg.nlisten; i++) {
		if ((n = ask_creator(s, sock, &s->cfg.listen[i], &b, fds, "--listen")) < 0)
			return n;
		if ((r = take(s, &b, fds, n)) < 0)
			return r;
	}
	if (!s->cfg.metrics)
		return 0;
	if ((n = ask_creator(s, sock, &s->cfg.metrics_listen, &b, fds,
	    "--metrics-listen")) < 0)
		return n;
	for (int i = 1; i < n; i++)	/* TCP asked: one comes */
		close(fds[i]);
	return n < 1 ? -EPROTO : set_metrics(s, fds[0]);
}

/* The metrics listener bound by ourselves (unprivileged, or systemd has none). */
static int
bind_metrics(struct server *s)
{
	char what[ENDPOINT_STRLEN];
	struct fdt_bind b;
	int fd;

	endpoint_to_bind(&s->cfg.metrics_listen, s->cfg.metrics_listen.port_lo, &b);
	if ((fd = sockbind(&b)) < 0) {
		log_warnx("cannot bind --metrics-listen %s: %s", endpoint_format(
		    &s->cfg.metrics_listen, what, sizeof(what)), strerror(-fd));
		return fd;
	}
	return set_metrics(s, fd);
}

/* Unprivileged: bind what we may ourselves. */
static int
bind_directly(struct server *s)
{
	for (size_t i = 0; i < s->cfg.nlisten; i++) {
		const struct endpoint *ep = &s->cfg.listen[i];
		struct fdt_bind b;
		char what[ENDPOINT_STRLEN];

		endpoint_to_bind(ep, ep->port_lo, &b);
		for (uint8_t p = FDT_PROTO_UDP; p <= FDT_PROTO_TCP; p <<= 1) {
			if (!(ep->proto & p))
				continue;
			b.proto = p;
			int fd = sockbind(&b);
			if (fd < 0) {
				log_warnx("cannot bind %s: %s", endpoint_format(ep, what,
				    sizeof(what)), strerror(-fd));
				return fd;
			}
			if (add_listener(s, fd, p == FDT_PROTO_TCP) < 0) {
				close(fd);
				return -ENOSPC;
			}
		}
	}
	return s->cfg.metrics ? bind_metrics(s) : 0;
}

/*
 * fork + exec ourselves as `fdtool-creator --no-config --fd 3 --user USER --allow
 * SPEC...`.  The child keeps only the socketpair end (at 3) and stdio.
 */
static int
spawn_creator(struct server *s, const char *user)
{
	char *argv[11 + 2 * SERVER_MAX_LISTEN];
	char specs[SERVER_MAX_LISTEN + 1][ENDPOINT_STRLEN];
	int sv[2], argc = 0;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -errno;
	/* named by argv[0], so ps shows the role (and main sets comm to it) */
	argv[argc++] = (char *)(uintptr_t)"fdtool-creator";
	argv[argc++] = (char *)(uintptr_t)"--no-config";	/* exactly what we ask */
	argv[argc++] = (char *)(uintptr_t)"--fd";
	argv[argc++] = (char *)(uintptr_t)"3";
	argv[argc++] = (char *)(uintptr_t)"--user";
	argv[argc++] = (char *)(uintptr_t)user;
	if (s->cfg.no_seccomp)
		argv[argc++] = (char *)(uintptr_t)"--no-seccomp";
	for (size_t i = 0; i < s->cfg.nlisten; i++) {
		argv[argc++] = (char *)(uintptr_t)"--allow";
		argv[argc++] = endpoint_format(&s->cfg.listen[i], specs[i], sizeof(specs[i]));
	}
	if (s->cfg.metrics) {	/* tcp:ADDR:PORT: only the TCP socket */
		argv[argc++] = (char *)(uintptr_t)"--allow";
		argv[argc++] = endpoint_format(&s->cfg.metrics_listen, specs[SERVER_MAX_LISTEN],
		    sizeof(specs[SERVER_MAX_LISTEN]));
	}
	argv[argc] = NULL;

	if ((pid = child_fork(&s->creator_child, K_CREATOR_PID)) < 0) {
		close(sv[0]);
		close(sv[1]);
		return pid;
	}
	if (pid == 0)
		creator_exec_child(sv[1], argv);
	close(sv[1]);
	s->creator = (struct watched){ .kind = K_CREATOR, .fd = sv[0] };
	log_info("spawned creator, pid %d", (int)pid);
	return 0;
}

int
server_acquire_sockets(struct server *s, const char *user)
{
	int r, sock;

	if ((r = from_systemd(s)) != 0) {
		if (r > 0 && s->cfg.metrics && s->metrics_listen.fd < 0) {
			log_info("no socket named \"metrics\" from systemd: binding "
			    "--metrics-listen ourselves");
			return bind_metrics(s);
		}
		return r < 0 ? r : 0;
	}
	if (s->cfg.creator_path) {
		if ((sock = unixsock_connect(s->cfg.creator_path)) < 0) {
			log_warnx("cannot connect to creator %s: %s", s->cfg.creator_path,
			    strerror(-sock));
			return sock;
		}
		r = from_creator(s, sock);
		close(sock);
		return r;
	}
	if (geteuid() == 0) {
		if ((r = spawn_creator(s, user)) < 0)
			return r;
		return from_creator(s, s->creator.fd);
	}
	return bind_directly(s);
}

/*
 * Our creator child ends when its channel closes; give it a moment, then
 * insist.  Reaped through its pidfd, so we never wait on a stranger.
 */
void
server_stop_creator(struct server *s)
{
	struct child *ch = &s->creator_child;

	if (s->creator.fd >= 0)
		close(s->creator.fd);
	s->creator.fd = -1;
	if (child_wait(ch, 2000))	/* also when there is none, or it is reaped */
		return;
	child_kill(ch, SIGTERM);
	if (child_wait(ch, 2000))
		return;
	child_kill(ch, SIGKILL);
	child_wait(ch, -1);
}
