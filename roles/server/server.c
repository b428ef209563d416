/*
 * fdtool server: a caching DNS stub resolver.  It gets its listening
 * sockets (from a creator, systemd, or itself when unprivileged), then
 * gives up everything: it runs as an unprivileged user with no
 * capabilities, no_new_privs, and a Landlock sandbox in which no file can
 * be opened for writing, and serves DNS from one epoll loop.
 */
const char server_usage[] =
"usage: fdtool server [options]\n"
"\n"
"A caching DNS stub resolver that runs with no privilege.\n"
"\n"
"  --listen ADDR[:PORT]     serve UDP and TCP here (repeatable; default\n"
"                           127.0.0.1:53, plus [::1]:53 where ::1 exists);\n"
"                           udp:ADDR or tcp:ADDR for one protocol only\n"
"  --upstream ADDR[:PORT]   forward misses here (repeatable; default: the\n"
"                           nameservers in --resolv-conf, minus our own\n"
"                           --listen addresses)\n"
"  --creator PATH           ask the creator at PATH for the sockets; without it,\n"
"                           started as root, spawn our own creator child\n"
"  --user USER              run as USER (default nobody) once the sockets are held\n"
"  --hosts FILE             answer A/AAAA/PTR from FILE (default /etc/hosts);\n"
"                           re-read on SIGHUP\n"
"  --no-hosts               no hosts file\n"
"  --resolv-conf FILE       where default upstreams come from (default\n"
"                           /etc/resolv.conf)\n"
"  --cache-size N           cache at most N answers (default 10000)\n"
"  --min-ttl S, --max-ttl S clamp cached TTLs (default 0 and 86400)\n"
"  --upstream-timeout MS    wait this long per upstream attempt (default 1500)\n"
"  --max-tcp N              TCP clients at once (default 128)\n"
"  --tcp-idle-timeout MS    close idle TCP clients after MS (default 10000)\n"
"  --max-pending N          upstream queries in flight (default 1024)\n"
"  --no-sandbox             run without the Landlock sandbox (not advised)\n"
"  --control PATH           the control socket for `fdtool control` (default\n"
"                           /run/fdtool/control.sock), mode 0660, owned by\n"
"                           --user and --control-group\n"
"  --control-group GROUP    members may use the control socket too\n"
"  --no-control             no control socket\n"
"  --log-level LEVEL        error, warning, info (default) or debug\n"
"  --config FILE            read the [server] section of FILE (default\n"
"                           " FDTOOL_CONFIG_FILE " if it exists);\n"
"                           the command line overrides it\n"
"  --no-config              read no configuration file\n"
"  --check-config           check the settings, print them, exit 0 or 1\n"
"  --version                the version\n"
"  --help                   this text\n"
"\n"
"Signals: SIGTERM/SIGINT stop it (and its creator); SIGHUP re-reads --hosts.\n";

#include <errno.h>
#include <ifaddrs.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/daemon.h"
#include "common/log.h"
#include "common/notify.h"
#include "common/priv.h"
#include "roles/roles.h"
#include "roles/server/sandbox.h"
#include "roles/server/server.h"


/* Whether ::1 is configured, so the default can listen there too. */
static int
have_ipv6_loopback(void)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* The address a listening socket really has (--listen, systemd or creator alike). */
static int
socket_endpoint(int fd, uint8_t proto, struct endpoint *ep)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(ep, 0, sizeof(*ep));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -errno;
	ep->proto = proto;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
		ep->family = FDT_FAMILY_INET;
		memcpy(ep->addr, &sin->sin_addr, 4);
		ep->port_lo = ep->port_hi = ntohs(sin->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
		ep->family = FDT_FAMILY_INET6;
		memcpy(ep->addr, &sin6->sin6_addr, 16);
		ep->port_lo = ep->port_hi = ntohs(sin6->sin6_port);
	} else
		return -EAFNOSUPPORT;
	return 0;
}

static int
is_wildcard(const struct endpoint *ep)
{
	static const uint8_t zero[16];

	return memcmp(ep->addr, zero, ep->family == FDT_FAMILY_INET ? 4 : 16) == 0;
}

/* An address of this host: loopback, or on one of its interfaces. */
static int
is_local_address(const struct endpoint *up)
{
	struct ifaddrs *ifs, *i;
	int found = 0;

	if (up->family == FDT_FAMILY_INET ? up->addr[0] == 127 :
	    memcmp(up->addr, &in6addr_loopback, 16) == 0)
		return 1;
	if (getifaddrs(&ifs) != 0)
		return 0;
	for (i = ifs; i && !found; i = i->ifa_next) {
		const struct sockaddr *sa = i->ifa_addr;
		if (!sa)
			continue;
		if (sa->sa_family == AF_INET && up->family == FDT_FAMILY_INET)
			found = memcmp(&((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			    up->addr, 4) == 0;
		else if (sa->sa_family == AF_INET6 && up->family == FDT_FAMILY_INET6)
			found = memcmp(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			    up->addr, 16) == 0;
	}
	freeifaddrs(ifs);
	return found;
}

/*
 * Whether up is one of the addresses we answer on: never forward to
 * ourselves.  A wildcard listener answers on every local address.
 */
static int
is_own_address(const struct server *s, const struct endpoint *up)
{
	struct endpoint ep;

	for (size_t i = 0; i < s->nudp; i++) {
		if (socket_endpoint(s->udp[i].fd, FDT_PROTO_UDP, &ep) < 0 ||
		    ep.family != up->family || ep.port_lo != up->port_lo)
			continue;
		if (memcmp(ep.addr, up->addr, sizeof(ep.addr)) == 0 ||
		    (is_wildcard(&ep) && is_local_address(up)))
			return 1;
	}
	return 0;
}

/* systemd hands us sockets: then --listen names nothing we bind. */
static int
socket_activated(void)
{
	const char *pid = getenv("LISTEN_PID");

	return pid && atol(pid) == (long)getpid() && getenv("LISTEN_FDS");
}

static void
default_listen(struct server_config *cfg)
{
	const char *why;

	if (cfg->nlisten > 0 || socket_activated())
		return;
	endpoint_parse("127.0.0.1", LISTEN_FLAGS, 53, &cfg->listen[cfg->nlisten++], &why);
	if (have_ipv6_loopback())
		endpoint_parse("[::1]", LISTEN_FLAGS, 53, &cfg->listen[cfg->nlisten++], &why);
}

/* After the sockets are held: we know our own addresses for certain. */
static void
default_upstreams(struct server *s)
{
	struct server_config *cfg = &s->cfg;
	struct endpoint found[SERVER_MAX_UPSTREAM];
	int n;

	if (cfg->nupstream > 0) {
		char buf[ENDPOINT_STRLEN];
		for (size_t i = 0; i < cfg->nupstream; i++)
			if (is_own_address(s, &cfg->upstream[i]))
				fatalx("--upstream %s is this server itself",
				    endpoint_format(&cfg->upstream[i], buf, sizeof(buf)));
		return;
	}
	n = resolvconf_nameservers(cfg->resolv_path, found, SERVER_MAX_UPSTREAM);
	if (n < 0)
		fatalx("no --upstream, and %s: %s", cfg->resolv_path, strerror(-n));
	for (int i = 0; i < n; i++)
		if (!is_own_address(s, &found[i]))
			cfg->upstream[cfg->nupstream++] = found[i];
	if (cfg->nupstream == 0)
		fatalx("no --upstream, and %s names none but our own addresses",
		    cfg->resolv_path);
}

static void
tick(struct server *s)
{
	struct timespec ts;

	/* BOOTTIME: TTLs run on while the machine sleeps, MONOTONIC's do not */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	s->now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	s->now_s = (uint64_t)ts.tv_sec;
}

static void
load_hosts(struct server *s)
{
	struct hosts *h;
	size_t bad = 0;
	int err = 0;

	if (!s->cfg.hosts_path)
		return;
	if (!(h = hosts_load(s->cfg.hosts_path, &bad, &err))) {
		log_warnx("--hosts %s: %s%s", s->cfg.hosts_path, strerror(-err),
		    s->hosts ? " (keeping the previous one)" : "");
		return;
	}
	if (bad)
		log_warnx("--hosts %s: %zu malformed line(s) skipped", s->cfg.hosts_path, bad);
	hosts_free(s->hosts);
	s->hosts = h;
	log_info("--hosts %s: %zu name(s)", s->cfg.hosts_path, hosts_count(h));
}

static int
setup_signals(struct server *s)
{
	s->signal.kind = K_SIGNAL;
	if ((s->signal.fd = daemon_signalfd(1)) < 0)
		return s->signal.fd;
	return server_watch(s, &s->signal, EPOLLIN, &s->signal);
}

/* Room for a socket per upstream query and per TCP client. */
static void
raise_fd_limit(const struct server_config *cfg)
{
	struct rlimit rl;
	rlim_t want = cfg->max_pending + cfg->max_tcp + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		log_warnx("only %llu descriptors: lower --max-pending or --max-tcp",
		    (unsigned long long)rl.rlim_cur);
}

static void
drop_privileges(const struct server *s, uid_t uid, gid_t gid)
{
	int r;

	if (geteuid() != 0) {
		if ((r = priv_clear()) < 0)
			fatalx("cannot give up the capabilities we were started with: %s",
			    strerror(-r));
		log_info("not started as root: running as uid %u, no capabilities",
		    (unsigned)geteuid());
		return;
	}
	if ((r = priv_drop(uid, gid, 0)) < 0)
		fatalx("cannot become %s with no capabilities: %s", s->cfg.user, strerror(-r));
	log_info("running as %s (uid %u), no capabilities", s->cfg.user, (unsigned)uid);
}

/*
 * Landlock rules hold inodes, and editors and tools replace a hosts file
 * by renaming a new one over it: to re-read it on SIGHUP the sandbox must
 * allow reading its directory, not just today's file.
 */
static void
enter_sandbox(const struct server *s)
{
	const char *paths[5] = { NULL };
	char hosts_dir[PATH_MAX];
	uint16_t ports[SERVER_MAX_UPSTREAM];
	size_t np = 0, n = 0;
	int abi, r;

	if (s->cfg.no_sandbox) {
		log_warnx("--no-sandbox: running without the filesystem sandbox");
		return;
	}
	if (s->cfg.hosts_path) {
		snprintf(hosts_dir, sizeof(hosts_dir), "%s", s->cfg.hosts_path);
		paths[n++] = dirname(hosts_dir);
	}
	paths[n++] = s->cfg.resolv_path;
#ifdef FDTOOL_ASAN
	paths[n++] = "/proc/self";	/* LeakSanitizer reads it at exit */
#endif
	for (size_t i = 0; i < s->cfg.nupstream; i++)
		ports[np++] = s->cfg.upstream[i].port_lo;
	abi = sandbox_enter(paths, ports, np);
	if (abi == -ENOSYS || abi == -EOPNOTSUPP)
		fatalx("this kernel has no Landlock: the sandbox cannot be set up "
		    "(--no-sandbox runs without it)");
	if (abi < 0)
		fatalx("cannot enter the sandbox: %s", strerror(-abi));
	/* /dev/null: always there and writable by anyone, so only the
	 * sandbox can refuse it; /tmp likewise for creating files */
	if ((r = sandbox_probe("/tmp", "/dev/null")) != 0)
		fatalx("the sandbox does not hold (writing in /tmp or to /dev/null: %s); "
		    "refusing to run", r == -EPERM ? "allowed" : strerror(-r));
	log_info("sandboxed (Landlock ABI %d): no file can be created or opened for writing", abi);
}

/* sd_notify: READY=1 once we answer (again, after a reload), and what we do. */
static void
notify_ready(const struct server *s)
{
	notify_send("READY=1\nSTATUS=answering on %zu sockets, %zu upstreams",
	    s->nudp + s->ntcp, s->cfg.nupstream);
}

static void
server_dispatch_signal(struct server *s)
{
	struct signalfd_siginfo si;

	while (read(s->signal.fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			notify_reloading();
			log_info("SIGHUP: re-reading the hosts file");
			load_hosts(s);
			notify_ready(s);
		} else {
			log_info("signal %u: stopping", si.ssi_signo);
			s->quit = 1;
		}
	}
}

/*
 * Our creator child's channel or pidfd woke us.  Nothing is asked of it
 * after start-up, so chatter is ignored; its end is logged and reaped.
 * It cannot be restarted: we hold no privilege to give a new one.
 */
static void
server_dispatch_creator(struct server *s, struct watched *w)
{
	char buf[FDT_MSG_SIZE];
	siginfo_t si = { 0 };

	if (w->kind == K_CREATOR) {
		if (recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT) > 0 || errno == EAGAIN)
			return;
		close(w->fd);		/* it hung up; its exit follows */
		w->fd = -1;
		return;
	}
	if (waitid(P_PIDFD, (id_t)w->fd, &si, WEXITED | WNOHANG) != 0 || si.si_pid == 0)
		return;
	log_warnx("our creator (pid %d) ended (%s %d); serving on with the sockets we hold",
	    (int)s->creator_child, si.si_code == CLD_EXITED ? "status" : "signal",
	    si.si_status);
	close(w->fd);
	w->fd = -1;
	s->creator_child = 0;
}

static int
next_timeout(const struct server *s)
{
	uint64_t next = UINT64_MAX;

	if (s->pend_head)
		next = s->pend_head->deadline;
	if (s->idle_head && s->idle_head->last + s->cfg.tcp_idle_ms < next)
		next = s->idle_head->last + s->cfg.tcp_idle_ms;
	if (next == UINT64_MAX)
		return -1;
	return next <= s->now_ms ? 0 : (int)(next - s->now_ms + 1);
}

static void
server_loop(struct server *s)
{
	struct epoll_event evs[64];

	while (!s->quit) {
		int n = epoll_wait(s->epfd, evs, 64, next_timeout(s));
		if (n < 0 && errno != EINTR)
			fatal("epoll_wait");
		tick(s);
		for (int i = 0; i < n && !s->quit; i++) {
			struct watched *w = evs[i].data.ptr;
			switch (w->kind) {
			case K_UDP_LISTEN:
				server_dispatch_udp(s, w);
				break;
			case K_TCP_LISTEN:
				server_dispatch_tcp_listen(s, w);
				break;
			case K_TCP_CLIENT:
				server_dispatch_tcp_client(s, (struct tcp_conn *)w, evs[i].events);
				break;
			case K_UPSTREAM:
				server_dispatch_upstream(s, (struct pending *)w, evs[i].events);
				break;
			case K_SIGNAL:
				server_dispatch_signal(s);
				break;
			case K_CREATOR:
			case K_CREATOR_PID:
				server_dispatch_creator(s, w);
				break;
			case K_CONTROL_LISTEN:
				server_dispatch_control_listen(s);
				break;
			case K_CONTROL:
				server_dispatch_control(s, (struct ctl_conn *)w);
				break;
			case K_CHILD:
				server_dispatch_child(s, (struct child *)w);
				break;
			case K_LOADER:
				server_dispatch_loader(s, (struct child *)(void *)
				    ((char *)w - offsetof(struct child, feed)));
				break;
			}
		}
		server_pending_expire(s);
		server_tcp_resume(s);
		server_tcp_expire(s);
		server_control_tick(s);
	}
}

static void
log_config(const struct server *s)
{
	char buf[ENDPOINT_STRLEN];
	struct endpoint ep;

	for (size_t i = 0; i < s->nudp; i++)
		if (socket_endpoint(s->udp[i].fd, FDT_PROTO_UDP, &ep) == 0)
			log_info("listening on %s", endpoint_format(&ep, buf, sizeof(buf)));
	for (size_t i = 0; i < s->ntcp; i++)
		if (socket_endpoint(s->tcp[i].fd, FDT_PROTO_TCP, &ep) == 0)
			log_info("listening on %s", endpoint_format(&ep, buf, sizeof(buf)));
	for (size_t i = 0; i < s->cfg.nupstream; i++)
		log_info("upstream %s", endpoint_format(&s->cfg.upstream[i], buf, sizeof(buf)));
}

/*
 * A start that fails after the creator child was spawned exits through
 * fatal(): stop and reap the child on the way out, so no defunct process
 * is left to whoever inherits it.
 */
static struct server *stop_at_exit;
static pid_t stop_at_exit_pid;

static void
stop_creator_at_exit(void)
{
	/* only ours: a forked child that exit()s is not the creator's parent */
	if (stop_at_exit && getpid() == stop_at_exit_pid)
		server_stop_creator(stop_at_exit);
}

int
server_main(int argc, char **argv)
{
	static struct server s;	/* large buffers: not on the stack */
	uid_t uid = 0;
	gid_t gid = 0;
	int r;

	server_config_defaults(&s.cfg);
	s.creator.fd = s.creator_pid.fd = -1;
	log_init("fdtool server", LOG_LVL_INFO);
	if ((r = server_config_parse(&s.cfg, argc, argv)) != 0)
		return r;
	if (s.cfg.check_config) {
		default_listen(&s.cfg);
		return server_config_check(&s.cfg, stdout);
	}
	log_init("fdtool server", (enum log_level)s.cfg.log_level);

	/* setup: everything that needs privilege or the filesystem */
	/* systemd's socket, connected before the drop and the sandbox */
	if ((r = notify_open()) < 0)
		log_warnx("NOTIFY_SOCKET: %s: systemd will not hear from us", strerror(-r));
	default_listen(&s.cfg);
	if (geteuid() == 0 && (r = priv_lookup_user(s.cfg.user, &uid, &gid)) < 0)
		fatalx("--user %s: %s", s.cfg.user, r == -ENOENT ? "no such user" : strerror(-r));
	raise_fd_limit(&s.cfg);
	if ((s.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		fatal("epoll_create1");
	if ((r = setup_signals(&s)) < 0)
		fatalx("signals: %s", strerror(-r));
	stop_at_exit = &s;
	stop_at_exit_pid = getpid();
	atexit(stop_creator_at_exit);
	if ((r = server_acquire_sockets(&s, s.cfg.user)) < 0)
		fatalx("cannot get the listening sockets: %s", strerror(-r));
	default_upstreams(&s);
	for (size_t i = 0; i < s.nudp; i++)
		if (server_watch(&s, &s.udp[i], EPOLLIN, &s.udp[i]) < 0)
			fatal("epoll");
	for (size_t i = 0; i < s.ntcp; i++)
		if (server_watch(&s, &s.tcp[i], EPOLLIN, &s.tcp[i]) < 0)
			fatal("epoll");
	if (s.creator.fd >= 0 && (server_watch(&s, &s.creator, EPOLLIN, &s.creator) < 0 ||
	    server_watch(&s, &s.creator_pid, EPOLLIN, &s.creator_pid) < 0))
		fatal("epoll");
	load_hosts(&s);
	if (!(s.cache = cache_new(s.cfg.cache_size)) || server_frontend_init(&s) < 0 ||
	    (r = server_resolve_init(&s)) < 0)
		fatalx("out of memory");
	if ((r = server_control_open(&s, geteuid() == 0 ? uid : geteuid(),
	    geteuid() == 0 ? gid : getegid())) < 0) {
		if (s.cfg.control_explicit || r == -ENOENT)
			fatalx("--control %s: %s", s.cfg.control_path, r == -ENOENT ?
			    "no such group or directory" : strerror(-r));
		log_warnx("no control socket at %s: %s", s.cfg.control_path, strerror(-r));
	} else if (s.control.fd >= 0)
		log_info("control socket %s", s.cfg.control_path);

	/* drop */
	drop_privileges(&s, uid, gid);
	enter_sandbox(&s);
	log_config(&s);
	tick(&s);
	notify_ready(&s);

	/* loop */
	server_loop(&s);
	notify_send("STOPPING=1");

	server_control_close(&s);
	server_stop_creator(&s);
	server_resolve_free(&s);
	server_frontend_free(&s);
	cache_free(s.cache);
	hosts_free(s.hosts);
	log_info("stopped");
	return EXIT_OK;
}
