/*
 * Where the upstreams come from: --upstream and --forward-zone, checked
 * once never to be ourselves; or resolv.conf, read at start and again
 * whenever it changes (inotify, SIGHUP), minus the addresses we answer
 * on.  A resolv.conf that names only us is the usual state right after
 * installing a local resolver: we start anyway, and answer SERVFAIL
 * until it names someone else.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/log.h"
#include "roles/server/resolvconf.h"
#include "roles/server/resolvwatch.h"
#include "roles/server/server.h"

#define RESOLV_SETTLE_MS	100	/* a rewrite comes as several events */

/* The address a listening socket really has (--listen, systemd or creator alike). */
int
server_socket_address(int fd, struct sockaddr_storage *ss)
{
	socklen_t len = sizeof(*ss);

	return getsockname(fd, (struct sockaddr *)ss, &len) == 0 ? 0 : -errno;
}

/* The address bytes (4 or 16) and port of an IPv4 or IPv6 socket address, or NULL. */
const uint8_t *
server_sockaddr_addr(const struct sockaddr_storage *ss, size_t *len, uint16_t *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)ss;
		*len = 4;
		*port = ntohs(sin->sin_port);
		return (const uint8_t *)&sin->sin_addr;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)ss;
		*len = 16;
		*port = ntohs(sin6->sin6_port);
		return (const uint8_t *)&sin6->sin6_addr;
	}
	return NULL;
}

/* An address of this host: loopback, or on one of its interfaces. */
static int
is_local_address(const struct sockaddr_storage *up)
{
	struct ifaddrs *ifs, *i;
	const uint8_t *a;
	size_t alen;
	uint16_t port;
	int found = 0;

	if (acl_is_loopback((const struct sockaddr *)up))
		return 1;
	if (!(a = server_sockaddr_addr(up, &alen, &port)) || getifaddrs(&ifs) != 0)
		return 0;
	for (i = ifs; i && !found; i = i->ifa_next) {
		struct sockaddr_storage ss;
		const uint8_t *b;
		size_t blen;
		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET &&
		    i->ifa_addr->sa_family != AF_INET6))
			continue;
		memcpy(&ss, i->ifa_addr, i->ifa_addr->sa_family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
		b = server_sockaddr_addr(&ss, &blen, &port);
		found = b && blen == alen && memcmp(a, b, alen) == 0;
	}
	freeifaddrs(ifs);
	return found;
}

/*
 * Whether up is one of the addresses we answer on: never forward to
 * ourselves.  A wildcard listener answers on every local address.
 */
static int
is_own_address(const struct server *s, const struct sockaddr_storage *up)
{
	static const uint8_t zero[16];
	const uint8_t *ua = NULL, *la;
	size_t ulen = 0, llen;
	uint16_t uport = 0, lport;

	ua = server_sockaddr_addr(up, &ulen, &uport);
	for (size_t i = 0; ua && i < s->nudp + s->ntcp; i++) {
		struct sockaddr_storage ls;
		int fd = i < s->nudp ? s->udp[i].fd : s->tcp[i - s->nudp].fd;
		if (fd < 0 || server_socket_address(fd, &ls) < 0 ||
		    !(la = server_sockaddr_addr(&ls, &llen, &lport)) || llen != ulen || lport != uport)
			continue;
		if (memcmp(la, ua, ulen) == 0 ||
		    (memcmp(la, zero, llen) == 0 && is_local_address(up)))
			return 1;
	}
	return 0;
}

/* --upstream and --forward-zone are the operator's word: one that is us is an error. */
void
server_check_upstreams(const struct server *s)
{
	char buf[SERVER_ADDR_STRLEN];

	for (size_t i = 0; i < s->cfg.nupstream; i++)
		if (is_own_address(s, &s->cfg.upstream[i]))
			fatalx("--upstream %s is this server itself", server_addr_format(
			    (const struct sockaddr *)&s->cfg.upstream[i], buf, sizeof(buf)));
	for (size_t z = 0; z < s->cfg.nzones; z++)
		for (size_t i = 0; i < s->cfg.zones[z].naddr; i++)
			if (is_own_address(s, &s->cfg.zones[z].addr[i]))
				fatalx("--forward-zone: %s is this server itself",
				    server_addr_format((const struct sockaddr *)
				    &s->cfg.zones[z].addr[i], buf, sizeof(buf)));
}

/*
 * Name the nameserver lines we cannot use (a scoped address on an
 * interface that does not exist, say): skipped, never silently dropped.
 */
static void
log_skipped(const char *path, size_t skipped)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const char *why;
	char line[1024];
	FILE *f = fopen(path, "re");
	size_t named = 0;

	while (f && named < skipped && fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t"), *addr;
		if (strncmp(p, "nameserver", 10) != 0 || !strchr(" \t", p[10]))
			continue;
		addr = p + 10 + strspn(p + 10, " \t");
		addr[strcspn(addr, " \t\r\n#;")] = '\0';
		if (*addr && server_addr_parse(addr, 53, &ss, &len, &why) == 0)
			continue;
		log_warnx("--resolv-conf %s: nameserver %s skipped: %s", path,
		    *addr ? addr : "(none)", *addr ? why : "no address");
		named++;
	}
	if (f)
		fclose(f);
	if (named < skipped)
		log_warnx("--resolv-conf %s: %zu more nameserver line(s) skipped (more than %d)",
		    path, skipped - named, SERVER_MAX_UPSTREAM);
}

/* Read resolv.conf into the default upstream set (no --upstream given). */
void
server_load_resolvconf(struct server *s)
{
	struct sockaddr_storage found[SERVER_MAX_UPSTREAM], use[SERVER_MAX_UPSTREAM];
	socklen_t flen[SERVER_MAX_UPSTREAM], ulen[SERVER_MAX_UPSTREAM];
	char buf[SERVER_ADDR_STRLEN];
	size_t skipped = 0, n = 0, ours = 0;
	int r;

	if (s->cfg.nupstream > 0)
		return;
	r = resolvconf_upstreams(s->cfg.resolv_path, found, flen, SERVER_MAX_UPSTREAM, &skipped);
	if (r < 0 && s->resolv_loaded) {
		/* mid-rewrite, or gone for a moment: what we had is better than nothing */
		log_warnx("--resolv-conf %s: %s: keeping the upstreams we have",
		    s->cfg.resolv_path, strerror(-r));
		return;
	}
	if (r < 0) {
		log_warnx("--resolv-conf %s: %s: no upstream until it can be read",
		    s->cfg.resolv_path, strerror(-r));
		r = 0;
	}
	s->resolv_loaded = r >= 0;
	for (int i = 0; i < r; i++) {
		if (is_own_address(s, &found[i])) {
			ours++;
			continue;
		}
		use[n] = found[i];
		ulen[n++] = flen[i];
	}
	if (skipped)
		log_skipped(s->cfg.resolv_path, skipped);
	upstreams_set(resolver_upstreams(s->resolver), 0, use, ulen, n);
	for (size_t i = 0; i < n; i++)
		log_info("upstream %s (from %s)", server_addr_format(
		    (const struct sockaddr *)&use[i], buf, sizeof(buf)), s->cfg.resolv_path);
	if (n == 0)
		log_warnx("--resolv-conf %s names %s: answering SERVFAIL until it names "
		    "another server", s->cfg.resolv_path,
		    ours ? "no server but this one" : "no usable server");
}

/* Watch resolv.conf for changes; before the sandbox, which forbids nothing here. */
void
server_watch_resolvconf(struct server *s)
{
	int fd;

	s->resolvwatch = (struct watched){ .kind = K_RESOLVWATCH, .fd = -1 };
	if (s->cfg.nupstream > 0)
		return;
	if ((fd = resolvwatch_open(s->cfg.resolv_path)) < 0) {
		log_warnx("--resolv-conf %s: cannot watch it (%s): re-read on SIGHUP only",
		    s->cfg.resolv_path, strerror(-fd));
		return;
	}
	s->resolvwatch.fd = fd;
	if (loop_watch(s->epfd, &s->resolvwatch, EPOLLIN, &s->resolvwatch) < 0)
		fatal("epoll");
}

void
server_dispatch_resolvwatch(struct server *s)
{
	int r = resolvwatch_changed(s->resolvwatch.fd, s->cfg.resolv_path);

	if (r > 0 && !s->resolv_due)
		s->resolv_due = s->clock.ms + RESOLV_SETTLE_MS;
	else if (r < 0)
		log_warnx("--resolv-conf %s: watching it: %s", s->cfg.resolv_path, strerror(-r));
}

uint64_t
server_resolvconf_deadline(const struct server *s)
{
	return s->resolv_due ? s->resolv_due : UINT64_MAX;
}

void
server_resolvconf_tick(struct server *s)
{
	if (!s->resolv_due || s->clock.ms < s->resolv_due)
		return;
	s->resolv_due = 0;
	log_info("--resolv-conf %s changed: re-reading it", s->cfg.resolv_path);
	server_load_resolvconf(s);
}
