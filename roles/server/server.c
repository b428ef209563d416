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
"                           --listen addresses); [fe80::1%IF]:PORT for scoped\n"
"  --forward-zone ZONE=ADDR[:PORT][,ADDR...]\n"
"                           forward names in ZONE there instead (repeatable;\n"
"                           the longest zone wins)\n"
"  --allow-from CIDR        answer clients from CIDR too (repeatable; loopback\n"
"                           always; everyone else gets REFUSED)\n"
"  --creator PATH           ask the creator at PATH for the sockets; without it,\n"
"                           started as root, spawn our own creator child\n"
"  --user USER              run as USER (default nobody) once the sockets are held\n"
"  --hosts FILE             answer A/AAAA/PTR from FILE (default /etc/hosts);\n"
"                           re-read on SIGHUP\n"
"  --no-hosts               no hosts file\n"
"  --resolv-conf FILE       where default upstreams come from (default\n"
"                           /etc/resolv.conf); re-read when it changes\n"
"  --cache-size N           cache at most N answers (default 10000)\n"
"  --min-ttl S, --max-ttl S clamp cached TTLs (default 0 and 86400)\n"
"  --upstream-timeout MS    after MS without an answer, also ask the next\n"
"                           upstream (default 1500); the first answer wins\n"
"  --query-timeout MS       give up on a query after MS: SERVFAIL (default 5000)\n"
"  --serve-stale S          when no upstream answers, serve answers expired\n"
"                           up to S seconds ago (TTL 30; default 0: never)\n"
"  --max-tcp N              TCP clients at once (default 128)\n"
"  --tcp-idle-timeout MS    close idle TCP clients after MS (default 10000)\n"
"  --max-pending N          upstream queries in flight (default 1024)\n"
"  --no-sandbox             run without the Landlock sandbox (not advised)\n"
"  --no-seccomp             run without the system-call filter, for debugging\n"
"                           (its spawned creator too)\n"
"  --control PATH           the control socket for `fdtool control` (default\n"
"                           /run/fdtool/control.sock), mode 0660, owned by\n"
"                           --user and --control-group\n"
"  --control-group GROUP    members may use the control socket too\n"
"  --no-control             no control socket\n"
"  --control-idle-timeout S close a control client silent for S seconds\n"
"                           (default 30; not while its dump or load moves)\n"
"  --control-job-timeout S  end a dump or load that moved nothing for S\n"
"                           seconds (default 60)\n"
"  --rec-control PATH       also speak PowerDNS rec_control's protocol at PATH\n"
"                           (rec_control --socket-dir=DIR finds\n"
"                           DIR/pdns_recursor.controlsocket)\n"
"  --metrics-listen ADDR[:PORT]\n"
"                           serve GET /metrics (Prometheus) over HTTP there\n"
"                           (port 9153 if none; off by default)\n"
"  --log-level LEVEL        error, warning, info (default) or debug\n"
"  --config FILE            read the [server] section of FILE (default\n"
"                           " FDTOOL_CONFIG_FILE " if it exists);\n"
"                           the command line overrides it\n"
"  --no-config              read no configuration file\n"
"  --check-config           check the settings, print them, exit 0 or 1\n"
"  --version                the version\n"
"  --help                   this text\n"
"\n"
"Signals: SIGTERM/SIGINT stop it (and its creator); SIGHUP re-reads --hosts\n"
"and --resolv-conf.\n";

#include <errno.h>
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
#include "roles/server/prom.h"
#include "roles/server/sandbox.h"
#include "roles/server/seccomp.h"
#include "roles/server/server.h"
#include "roles/syscall_filter.h"


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

/* The address a listening socket really has, as an endpoint for the log. */
static int
socket_endpoint(int fd, uint8_t proto, struct endpoint *ep)
{
	struct sockaddr_storage ss;
	const uint8_t *addr;
	size_t len;
	int r;

	memset(ep, 0, sizeof(*ep));
	if ((r = server_socket_address(fd, &ss)) < 0)
		return r;
	if (!(addr = server_sockaddr_addr(&ss, &len, &ep->port_lo)))
		return -EAFNOSUPPORT;
	ep->proto = proto;
	ep->family = len == 4 ? FDT_FAMILY_INET : FDT_FAMILY_INET6;
	memcpy(ep->addr, addr, len);
	ep->port_hi = ep->port_lo;
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

static void
tick(struct server *s)
{
	struct timespec ts;

	/* BOOTTIME: TTLs run on while the machine sleeps, MONOTONIC's do not */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	s->clock.ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	s->clock.s = (uint64_t)ts.tv_sec;
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
	if (s->resolver)
		resolver_set_hosts(s->resolver, h);
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
	return loop_watch(s->epfd, &s->signal, EPOLLIN, &s->signal);
}

/* Room for the sockets of every upstream query's attempts and every TCP client. */
static void
raise_fd_limit(const struct server_config *cfg)
{
	struct rlimit rl;
	rlim_t want = cfg->max_pending * FETCH_ATTEMPTS + cfg->max_tcp + 64;

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
 * Where a symlink (systemd-resolved's /etc/resolv.conf) points: the
 * directory of its target, or the nearest one that exists (resolved may
 * not have made /run/systemd/resolve yet).  NULL if path is no link.
 */
static char *
link_target_dir(const char *path, char *buf, size_t size)
{
	char link[PATH_MAX], dir[PATH_MAX];
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	char *real;
	int fits;

	if (n <= 0)
		return NULL;
	link[n] = '\0';
	if ((real = realpath(path, NULL))) {
		fits = snprintf(buf, size, "%s", real) < (int)size;
		free(real);
		return fits ? dirname(buf) : NULL;
	}
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir) ||
	    snprintf(buf, size, "%s%s%s", link[0] == '/' ? "" : dirname(dir),
	    link[0] == '/' ? "" : "/", link) >= (int)size)
		return NULL;
	do {
		char *up;
		if (snprintf(dir, sizeof(dir), "%s", buf) >= (int)sizeof(dir))
			return NULL;
		up = dirname(dir);
		memmove(buf, up, strlen(up) + 1);	/* shorter than buf was */
	} while (access(buf, F_OK) != 0 && strcmp(buf, "/") != 0);
	return buf;
}

static uint16_t
addr_port(const struct sockaddr_storage *ss)
{
	size_t len;
	uint16_t port = 0;

	server_sockaddr_addr(ss, &len, &port);
	return port;
}

/*
 * Landlock rules hold inodes, and editors and tools replace a hosts file
 * by renaming a new one over it: to re-read it on SIGHUP the sandbox must
 * allow reading its directory, not just today's file.
 */
static void
enter_sandbox(const struct server *s)
{
	const char *paths[6] = { NULL };
	char hosts_dir[PATH_MAX], resolv_dir[PATH_MAX], target_dir[PATH_MAX];
	const char *target;
	uint16_t ports[SERVER_MAX_UPSTREAM * (1 + SERVER_MAX_FORWARD_ZONES) + 1];
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
	/* resolv.conf is replaced by rename, and may be a link into /run */
	snprintf(resolv_dir, sizeof(resolv_dir), "%s", s->cfg.resolv_path);
	paths[n++] = dirname(resolv_dir);
	if ((target = link_target_dir(s->cfg.resolv_path, target_dir, sizeof(target_dir))))
		paths[n++] = target;
#ifdef FDTOOL_ASAN
	paths[n++] = "/proc/self";	/* LeakSanitizer reads it at exit */
#endif
	/* TCP (after TC) only to the upstreams' ports; resolv.conf's are 53 */
	for (size_t i = 0; i < s->cfg.nupstream; i++)
		ports[np++] = addr_port(&s->cfg.upstream[i]);
	for (size_t z = 0; z < s->cfg.nzones; z++)
		for (size_t i = 0; i < s->cfg.zones[z].naddr; i++)
			ports[np++] = addr_port(&s->cfg.zones[z].addr[i]);
	if (s->cfg.nupstream == 0)
		ports[np++] = 53;
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
	    s->nudp + s->ntcp, upstreams_get_set(resolver_upstreams(s->resolver), 0)->n);
}

static void
server_dispatch_signal(struct server *s)
{
	struct signalfd_siginfo si;

	while (read(s->signal.fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			notify_reloading();
			log_info("SIGHUP: re-reading the hosts file and resolv.conf");
			load_hosts(s);
			server_load_resolvconf(s);
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
	siginfo_t si;
	int r, pid;

	if (w->kind == K_CREATOR) {
		if (recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT) > 0 || errno == EAGAIN)
			return;
		close(w->fd);		/* it hung up; its exit follows */
		w->fd = -1;
		return;
	}
	if ((r = child_reap(&s->creator_child, &si)) == 0)
		return;
	pid = (int)s->creator_child.pid;
	if (r < 0)
		log_warnx("our creator (pid %d): waitid: %s; serving on with the sockets "
		    "we hold", pid, strerror(-r));
	else if (si.si_code != CLD_EXITED && si.si_status == SIGSYS)
		log_warnx("our creator (pid %d) was killed by SIGSYS: it made a system "
		    "call its seccomp filter does not allow; serving on with the sockets "
		    "we hold", pid);
	else
		log_warnx("our creator (pid %d) ended (%s %d); serving on with the sockets "
		    "we hold", pid, si.si_code == CLD_EXITED ? "status" : "signal",
		    si.si_status);
}

/* GET /metrics: the counters as Prometheus text (metrics_http knows no server). */
static char *
metrics_render(void *arg, size_t *len)
{
	return prom_render_alloc(arg, len);
}

static int
next_timeout(const struct server *s)
{
	uint64_t next = upstreams_next_deadline(resolver_upstreams(s->resolver));
	uint64_t t;

	if ((t = frontend_next_deadline(s->frontend)) < next)
		next = t;
	if ((t = server_resolvconf_deadline(s)) < next)
		next = t;
	if ((t = server_control_deadline(s)) < next)
		next = t;
	if (s->metrics && (t = metrics_http_next_deadline(s->metrics)) < next)
		next = t;
	if (next == UINT64_MAX)
		return -1;
	return next <= s->clock.ms ? 0 : (int)(next - s->clock.ms + 1);
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
				frontend_dispatch_udp(s->frontend, w);
				break;
			case K_TCP_LISTEN:
				frontend_dispatch_tcp_listen(s->frontend, w);
				break;
			case K_TCP_CLIENT:
				frontend_dispatch_tcp_client(s->frontend, w, evs[i].events);
				break;
			case K_UPSTREAM:
				upstreams_dispatch(resolver_upstreams(s->resolver), w, s->clock.ms);
				break;
			case K_RESOLVWATCH:
				server_dispatch_resolvwatch(s);
				break;
			case K_SIGNAL:
				server_dispatch_signal(s);
				break;
			case K_CREATOR:
			case K_CREATOR_PID:
				server_dispatch_creator(s, w);
				break;
			case K_CONTROL_LISTEN:
			case K_REC_CONTROL_LISTEN:
				server_dispatch_control_listen(s, (struct ctl_listener *)w);
				break;
			case K_CONTROL:
				server_dispatch_control(s, (struct ctl_conn *)w);
				break;
			case K_REC_CONTROL:
				server_dispatch_rec_control(s, (struct ctl_conn *)w, evs[i].events);
				break;
			case K_METRICS_LISTEN:
				metrics_http_dispatch_listen(s->metrics, w);
				break;
			case K_METRICS_CLIENT:
				metrics_http_dispatch_client(s->metrics, w, evs[i].events);
				break;
			case K_CHILD:
				server_dispatch_child(s, w);
				break;
			case K_LOADER:
				server_dispatch_job(s, w);
				break;
			}
		}
		upstreams_tick(resolver_upstreams(s->resolver), s->clock.ms);
		frontend_tick(s->frontend);
		server_resolvconf_tick(s);
		server_control_tick(s);
		if (s->metrics)
			metrics_http_tick(s->metrics);
	}
}

static void
log_config(const struct server *s)
{
	char buf[ENDPOINT_STRLEN], up[SERVER_ADDR_STRLEN];
	struct endpoint ep;

	for (size_t i = 0; i < s->nudp; i++)
		if (socket_endpoint(s->udp[i].fd, FDT_PROTO_UDP, &ep) == 0)
			log_info("listening on %s", endpoint_format(&ep, buf, sizeof(buf)));
	for (size_t i = 0; i < s->ntcp; i++)
		if (socket_endpoint(s->tcp[i].fd, FDT_PROTO_TCP, &ep) == 0)
			log_info("listening on %s", endpoint_format(&ep, buf, sizeof(buf)));
	if (s->metrics_listen.fd >= 0 &&
	    socket_endpoint(s->metrics_listen.fd, FDT_PROTO_TCP, &ep) == 0)
		log_info("serving GET /metrics on %s", endpoint_format(&ep, buf, sizeof(buf)));
	for (size_t i = 0; i < s->cfg.nupstream; i++)
		log_info("upstream %s", server_addr_format((const struct sockaddr *)
		    &s->cfg.upstream[i], up, sizeof(up)));
	for (size_t z = 0; z < s->cfg.nzones; z++) {
		char zone[1010];
		dns_name_to_text(s->cfg.zones[z].name, s->cfg.zones[z].namelen, zone,
		    sizeof(zone));
		for (size_t i = 0; i < s->cfg.zones[z].naddr; i++)
			log_info("forward zone %s to %s", zone, server_addr_format(
			    (const struct sockaddr *)&s->cfg.zones[z].addr[i], up, sizeof(up)));
	}
}

/* A listener off loopback with nobody allowed: say so, once, at start. */
static void
warn_loopback_only(const struct server *s)
{
	struct sockaddr_storage ss;

	if (s->cfg.nallow > 0)
		return;
	for (size_t i = 0; i < s->nudp + s->ntcp; i++) {
		int fd = i < s->nudp ? s->udp[i].fd : s->tcp[i - s->nudp].fd;
		if (server_socket_address(fd, &ss) == 0 &&
		    !acl_is_loopback((const struct sockaddr *)&ss)) {
			log_warnx("listening beyond loopback, but no --allow-from: only "
			    "loopback clients are answered, all others get REFUSED");
			return;
		}
	}
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
	s.creator.fd = s.creator_child.w.fd = s.resolvwatch.fd = -1;
	s.metrics_listen.fd = -1;
	log_init("fdtool server", LOG_LVL_INFO);
	if ((r = server_config_parse(&s.cfg, argc, argv)) != 0)
		return r;
	if (s.cfg.check_config) {
		default_listen(&s.cfg);
		if (server_config_metrics_clash(&s.cfg))
			return EXIT_USAGE;
		return server_config_check(&s.cfg, stdout);
	}
	log_init("fdtool server", (enum log_level)s.cfg.log_level);

	/* setup: everything that needs privilege or the filesystem */
	/* systemd's socket, connected before the drop and the sandbox */
	if ((r = notify_open()) < 0)
		log_warnx("NOTIFY_SOCKET: %s: systemd will not hear from us", strerror(-r));
	default_listen(&s.cfg);
	if (server_config_metrics_clash(&s.cfg))
		return EXIT_USAGE;
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
	server_check_upstreams(&s);
	for (size_t i = 0; i < s.nudp; i++)
		if (loop_watch(s.epfd, &s.udp[i], EPOLLIN, &s.udp[i]) < 0)
			fatal("epoll");
	for (size_t i = 0; i < s.ntcp; i++)
		if (loop_watch(s.epfd, &s.tcp[i], EPOLLIN, &s.tcp[i]) < 0)
			fatal("epoll");
	if (s.creator.fd >= 0 && (loop_watch(s.epfd, &s.creator, EPOLLIN, &s.creator) < 0 ||
	    loop_watch(s.epfd, &s.creator_child.w, EPOLLIN, &s.creator_child.w) < 0))
		fatal("epoll");
	tick(&s);
	/* uptime from here; /proc/self/statm opened now: the sandbox shuts /proc later */
	if ((r = server_counters_start(&s)) < 0)
		log_warnx("/proc/self/statm: %s: real-memory-usage will read 0", strerror(-r));
	if (!(s.cache = cache_new(s.cfg.cache_size)) ||
	    !(s.frontend = frontend_new(&s.cfg, &s.clock, &s.stats, s.epfd)) ||
	    !(s.resolver = resolver_new(&s.cfg, &s.clock, s.cache, &s.stats, s.epfd,
	    frontend_deliver, s.frontend)))
		fatalx("out of memory");
	frontend_attach(s.frontend, s.resolver);
	if (s.metrics_listen.fd >= 0 &&
	    (!(s.metrics = metrics_http_new(s.epfd, &s.clock, metrics_render, &s)) ||
	    loop_watch(s.epfd, &s.metrics_listen, EPOLLIN, &s.metrics_listen) < 0))
		fatal("--metrics-listen");
	load_hosts(&s);
	server_load_resolvconf(&s);
	server_watch_resolvconf(&s);
	if ((r = server_control_open(&s, geteuid() == 0 ? uid : geteuid(),
	    geteuid() == 0 ? gid : getegid())) < 0) {
		if (s.cfg.control_explicit || r == -ENOENT)
			fatalx("--control %s: %s", s.cfg.control_path, r == -ENOENT ?
			    "no such group or directory" : strerror(-r));
		log_warnx("no control socket at %s: %s", s.cfg.control_path, strerror(-r));
	} else if (s.control.w.fd >= 0)
		log_info("control socket %s", s.cfg.control_path);
	if (s.rec_control.w.fd >= 0)
		log_info("rec_control socket %s", s.cfg.rec_control_path);

	/* drop */
	drop_privileges(&s, uid, gid);
	enter_sandbox(&s);
	log_config(&s);
	warn_loopback_only(&s);
	role_seccomp_enter(server_syscalls, s.cfg.no_seccomp);
	tick(&s);
	notify_ready(&s);

	/* loop */
	server_loop(&s);
	notify_send("STOPPING=1");

	server_control_close(&s);
	server_stop_creator(&s);
	resolver_free(s.resolver);
	frontend_free(s.frontend);
	metrics_http_free(s.metrics);
	if (s.metrics_listen.fd >= 0)
		close(s.metrics_listen.fd);
	if (s.resolvwatch.fd >= 0)
		close(s.resolvwatch.fd);
	server_counters_stop(&s);
	cache_free(s.cache);
	hosts_free(s.hosts);
	log_info("stopped");
	return EXIT_OK;
}

int
loop_watch(int epfd, struct watched *w, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, w->fd, &ev) == 0 ? 0 : -errno;
}
