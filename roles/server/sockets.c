/*
 * Where the listening sockets come from, in order of preference: systemd
 * socket activation (LISTEN_FDS), a running creator (--creator PATH), a
 * creator we spawn as our child when started as root, or binding them
 * ourselves when unprivileged.  The spawned creator is this same binary
 * re-executed, allowed exactly what --listen names.
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

/* sd_listen_fds(3), without libsystemd: descriptors 3.. if meant for us. */
static int
from_systemd(struct server *s)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int n, r;

	if (!pid || !fds || atol(pid) != (long)getpid())
		return 0;
	n = atoi(fds);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	for (int fd = 3; fd < 3 + n; fd++) {
		int type;
		socklen_t len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
		    (type != SOCK_DGRAM && type != SOCK_STREAM))
			return -ENOTSOCK;
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		if ((r = add_listener(s, fd, type == SOCK_STREAM)) < 0)
			return r;
	}
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

/* Ask the creator on sock for every --listen endpoint. */
static int
from_creator(struct server *s, int sock)
{
	for (size_t i = 0; i < s->cfg.nlisten; i++) {
		const struct endpoint *ep = &s->cfg.listen[i];
		char what[ENDPOINT_STRLEN];
		struct fdt_bind b;
		int fds[FDT_MAX_FDS], n, r;

		endpoint_to_bind(ep, ep->port_lo, &b);
		n = creator_bind(sock, &b, fds, CREATOR_TIMEOUT_MS);
		if (n == -EACCES && s->cfg.creator_path) {
			/* the operator's creator: say what its policy lacks */
			endpoint_format(ep, what, sizeof(what));
			log_warnx("the creator at %s refused %s: its policy does not allow it; "
			    "start it with --allow %s (allow = %s in its [creator] section), "
			    "or give this server a --listen without it",
			    s->cfg.creator_path, what, what, what);
			return n;
		}
		if (n < 0) {
			log_warnx("creator refused %s: %s", endpoint_format(ep, what,
			    sizeof(what)), strerror(-n));
			return n;
		}
		if ((r = take(s, &b, fds, n)) < 0)
			return r;
	}
	return 0;
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
	return 0;
}

/*
 * fork + exec ourselves as `fdtool-creator --no-config --fd 3 --user USER --allow
 * SPEC...`.  The child keeps only the socketpair end (at 3) and stdio.
 */
static int
spawn_creator(struct server *s, const char *user)
{
	char *argv[9 + 2 * SERVER_MAX_LISTEN];
	char specs[SERVER_MAX_LISTEN][ENDPOINT_STRLEN];
	int sv[2], argc = 0, pidfd;
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
	argv[argc] = NULL;

	pid = fork();
	if (pid < 0) {
		int r = -errno;
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	if (pid == 0) {
		/* dup2 onto 3 clears close-on-exec; if it is 3 already, clear it */
		if (sv[1] == 3)
			fcntl(3, F_SETFD, 0);
		else if (dup2(sv[1], 3) != 3)
			_exit(127);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(sv[1]);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		int r = -errno;
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		close(sv[0]);
		return r;
	}
	fcntl(pidfd, F_SETFD, FD_CLOEXEC);
	s->creator = (struct watched){ .kind = K_CREATOR, .fd = sv[0] };
	s->creator_pid = (struct watched){ .kind = K_CREATOR_PID, .fd = pidfd };
	s->creator_child = pid;
	log_info("spawned creator, pid %d", (int)pid);
	return 0;
}

int
server_acquire_sockets(struct server *s, const char *user)
{
	int r, sock;

	if ((r = from_systemd(s)) != 0)
		return r < 0 ? r : 0;
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
	struct pollfd p = { .fd = s->creator_pid.fd, .events = POLLIN };

	if (s->creator.fd >= 0)
		close(s->creator.fd);
	s->creator.fd = -1;
	if (s->creator_child <= 0)
		return;
	if (poll(&p, 1, 2000) != 1) {
		kill(s->creator_child, SIGTERM);
		if (poll(&p, 1, 2000) != 1)
			kill(s->creator_child, SIGKILL);
	}
	waitpid(s->creator_child, NULL, 0);
	close(s->creator_pid.fd);
	s->creator_pid.fd = -1;
	s->creator_child = 0;
}
