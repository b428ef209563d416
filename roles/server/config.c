/*
 * The server's settings: their defaults, the options that change them
 * (from the configuration file's [server] section and the command line,
 * through one table), and --check-config's print-out of the result.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/priv.h"
#include "roles/options.h"
#include "roles/roles.h"
#include "roles/server/resolvconf.h"
#include "roles/server/server.h"

enum { O_LISTEN = 256, O_UPSTREAM, O_CREATOR, O_USER, O_HOSTS, O_NOHOSTS,
    O_RESOLV, O_CACHE, O_MINTTL, O_MAXTTL, O_UPTIMEOUT, O_MAXTCP, O_TCPIDLE,
    O_MAXPEND, O_NOSANDBOX, O_LOG, O_CONTROL, O_CONTROL_GROUP, O_NOCONTROL,
    O_CHECK, O_ALLOW_FROM, O_FORWARD_ZONE, O_SERVE_STALE, O_QUERY_TIMEOUT, O_NOSECCOMP,
    O_CONTROL_IDLE, O_CONTROL_JOB, O_REC_CONTROL, O_METRICS_LISTEN, O_NOMETRICS };

static const struct option server_opts[] = {
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "upstream", required_argument, NULL, O_UPSTREAM },
	{ "creator", required_argument, NULL, O_CREATOR },
	{ "user", required_argument, NULL, O_USER },
	{ "hosts", required_argument, NULL, O_HOSTS },
	{ "no-hosts", no_argument, NULL, O_NOHOSTS },
	{ "resolv-conf", required_argument, NULL, O_RESOLV },
	{ "cache-size", required_argument, NULL, O_CACHE },
	{ "min-ttl", required_argument, NULL, O_MINTTL },
	{ "max-ttl", required_argument, NULL, O_MAXTTL },
	{ "upstream-timeout", required_argument, NULL, O_UPTIMEOUT },
	{ "max-tcp", required_argument, NULL, O_MAXTCP },
	{ "tcp-idle-timeout", required_argument, NULL, O_TCPIDLE },
	{ "max-pending", required_argument, NULL, O_MAXPEND },
	{ "no-sandbox", no_argument, NULL, O_NOSANDBOX },
	{ "no-seccomp", no_argument, NULL, O_NOSECCOMP },
	{ "log-level", required_argument, NULL, O_LOG },
	{ "control", required_argument, NULL, O_CONTROL },
	{ "control-group", required_argument, NULL, O_CONTROL_GROUP },
	{ "no-control", no_argument, NULL, O_NOCONTROL },
	{ "control-idle-timeout", required_argument, NULL, O_CONTROL_IDLE },
	{ "control-job-timeout", required_argument, NULL, O_CONTROL_JOB },
	{ "rec-control", required_argument, NULL, O_REC_CONTROL },
	{ "metrics-listen", required_argument, NULL, O_METRICS_LISTEN },
	{ "no-metrics", no_argument, NULL, O_NOMETRICS },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "no-config", no_argument, NULL, OPT_NO_CONFIG },
	{ "check-config", no_argument, NULL, O_CHECK },
	{ "allow-from", required_argument, NULL, O_ALLOW_FROM },
	{ "forward-zone", required_argument, NULL, O_FORWARD_ZONE },
	{ "serve-stale", required_argument, NULL, O_SERVE_STALE },
	{ "query-timeout", required_argument, NULL, O_QUERY_TIMEOUT },
	{ NULL, 0, NULL, 0 },
};

void
server_config_defaults(struct server_config *cfg)
{
	*cfg = (struct server_config){
		.user = "nobody",
		.hosts_path = "/etc/hosts",
		.resolv_path = "/etc/resolv.conf",
		.cache_size = 10000,
		.max_ttl = 86400,
		.max_tcp = 128,
		.max_pending = 1024,
		.tcp_idle_ms = 10000,
		.upstream_timeout_ms = 1500,
		.query_timeout_ms = 5000,
		.log_level = LOG_LVL_INFO,
		.control_path = "/run/fdtool/control.sock",
		.control_idle_s = 30,
		.control_job_s = 60,
	};
}

static int
add_listen(const struct opt_ctx *o, struct endpoint *list, size_t *n, size_t max)
{
	const char *why;

	if (*n == max)
		return opt_error(o, "too many (at most %zu)", max);
	if (endpoint_parse(o->arg, LISTEN_FLAGS, 53, &list[*n], &why) < 0)
		return opt_error(o, "%s", why);
	(*n)++;
	return 0;
}

static int
add_upstream(const struct opt_ctx *o, struct server_config *cfg)
{
	const char *why;

	if (cfg->nupstream == SERVER_MAX_UPSTREAM)
		return opt_error(o, "too many (at most %d)", SERVER_MAX_UPSTREAM);
	/* the protocol is the resolver's choice: UDP, then TCP for TC */
	if (strncmp(o->arg, "udp:", 4) == 0 || strncmp(o->arg, "tcp:", 4) == 0)
		return opt_error(o, "an upstream takes no udp: or tcp: (UDP first, TCP when truncated)");
	if (server_addr_parse(o->arg, 53, &cfg->upstream[cfg->nupstream],
	    &cfg->upstream_len[cfg->nupstream], &why) < 0)
		return opt_error(o, "%s", why);
	cfg->nupstream++;
	return 0;
}

static int
add_zone(const struct opt_ctx *o, struct server_config *cfg)
{
	const char *why;

	if (cfg->nzones == SERVER_MAX_FORWARD_ZONES)
		return opt_error(o, "too many (at most %d)", SERVER_MAX_FORWARD_ZONES);
	if (forward_zone_parse(o->arg, &cfg->zones[cfg->nzones], &why) < 0)
		return opt_error(o, "%s", why);
	for (size_t i = 0; i < cfg->nzones; i++)
		if (dns_name_equal(cfg->zones[i].name, cfg->zones[i].namelen,
		    cfg->zones[cfg->nzones].name, cfg->zones[cfg->nzones].namelen))
			return opt_error(o, "that zone is forwarded already");
	cfg->nzones++;
	return 0;
}

static int
server_apply(void *arg, int id, const struct opt_ctx *o)
{
	struct server_config *cfg = arg;
	unsigned long v;
	int r;

	switch (id) {
	case O_LISTEN:
		return add_listen(o, cfg->listen, &cfg->nlisten, SERVER_MAX_LISTEN);
	case O_UPSTREAM:
		return add_upstream(o, cfg);
	case O_FORWARD_ZONE:
		return add_zone(o, cfg);
	case O_ALLOW_FROM: {
		const char *why;
		if (cfg->nallow == SERVER_MAX_ALLOW)
			return opt_error(o, "too many (at most %d)", SERVER_MAX_ALLOW);
		if (acl_parse(o->arg, &cfg->allow[cfg->nallow], &why) < 0)
			return opt_error(o, "%s", why);
		cfg->nallow++;
		return 0;
	}
	case O_SERVE_STALE:
		if ((r = opt_number(o, 0, 7 * 86400, &v)) == 0)
			cfg->serve_stale = (uint32_t)v;
		return r;
	case O_QUERY_TIMEOUT:
		if ((r = opt_number(o, 100, 120000, &v)) == 0)
			cfg->query_timeout_ms = (unsigned)v;
		return r;
	case O_CREATOR:
		cfg->creator_path = o->arg;
		return 0;
	case O_USER:
		cfg->user = o->arg;
		return 0;
	case O_HOSTS:
		cfg->hosts_path = o->arg;
		return 0;
	case O_NOHOSTS:
		cfg->hosts_path = NULL;
		return 0;
	case O_RESOLV:
		cfg->resolv_path = o->arg;
		return 0;
	case O_CACHE:
		if ((r = opt_number(o, 0, 10000000, &v)) == 0)
			cfg->cache_size = v;
		return r;
	case O_MINTTL:
		if ((r = opt_number(o, 0, 604800, &v)) == 0)
			cfg->min_ttl = (uint32_t)v;
		return r;
	case O_MAXTTL:
		if ((r = opt_number(o, 0, 604800, &v)) == 0)
			cfg->max_ttl = (uint32_t)v;
		return r;
	case O_UPTIMEOUT:
		if ((r = opt_number(o, 10, 60000, &v)) == 0)
			cfg->upstream_timeout_ms = (unsigned)v;
		return r;
	case O_MAXTCP:
		if ((r = opt_number(o, 0, 65536, &v)) == 0)
			cfg->max_tcp = v;
		return r;
	case O_TCPIDLE:
		if ((r = opt_number(o, 10, 3600000, &v)) == 0)
			cfg->tcp_idle_ms = (unsigned)v;
		return r;
	case O_MAXPEND:
		if ((r = opt_number(o, 1, 65536, &v)) == 0)
			cfg->max_pending = v;
		return r;
	case O_NOSANDBOX:
		cfg->no_sandbox = 1;
		return 0;
	case O_NOSECCOMP:
		cfg->no_seccomp = 1;
		return 0;
	case O_CONTROL:
		cfg->control_path = o->arg;
		cfg->control_explicit = 1;
		return 0;
	case O_CONTROL_GROUP:
		cfg->control_group = o->arg;
		return 0;
	case O_NOCONTROL:
		cfg->control_path = NULL;
		return 0;
	case O_CONTROL_IDLE:
		if ((r = opt_number(o, 1, 86400, &v)) == 0)
			cfg->control_idle_s = (unsigned)v;
		return r;
	case O_CONTROL_JOB:
		if ((r = opt_number(o, 1, 86400, &v)) == 0)
			cfg->control_job_s = (unsigned)v;
		return r;
	case O_REC_CONTROL:
		cfg->rec_control_path = o->arg;
		return 0;
	case O_METRICS_LISTEN: {
		const char *why;
		/* ADDR[:PORT], TCP only; the port defaults to 9153 (CoreDNS's) */
		if (strncmp(o->arg, "udp:", 4) == 0 || strncmp(o->arg, "both:", 5) == 0)
			return opt_error(o, "takes ADDR:PORT (it is HTTP over TCP)");
		if (endpoint_parse(o->arg, ENDPOINT_PROTO_OPTIONAL | ENDPOINT_PORT_OPTIONAL |
		    ENDPOINT_NO_RANGE, 9153, &cfg->metrics_listen, &why) < 0)
			return opt_error(o, "%s", why);
		cfg->metrics_listen.proto = FDT_PROTO_TCP;	/* "tcp:" is allowed, not needed */
		cfg->metrics = 1;
		return 0;
	}
	case O_NOMETRICS:
		cfg->metrics = 0;
		return 0;
	case O_LOG:
		return opt_log_level(o, &cfg->log_level);
	case O_CHECK:
		cfg->check_config = 1;
		return 0;
	}
	return opt_error(o, "not handled");
}

static void
server_reset(void *arg, int id)
{
	struct server_config *cfg = arg;

	if (id == O_LISTEN)
		cfg->nlisten = 0;
	else if (id == O_UPSTREAM)
		cfg->nupstream = 0;
	else if (id == O_ALLOW_FROM)
		cfg->nallow = 0;
	else if (id == O_FORWARD_ZONE)
		cfg->nzones = 0;
}

int
server_config_parse(struct server_config *cfg, int argc, char **argv)
{
	static const char *const repeatable[] = { "listen", "upstream", "allow-from",
	    "forward-zone", NULL };
	static const char *const cmdline_only[] = { "check-config", NULL };
	const struct role_options ro = {
		.role = "server",
		.longopts = server_opts,
		.repeatable = repeatable,
		.cmdline_only = cmdline_only,
		.default_file = FDTOOL_CONFIG_FILE,
		.apply = server_apply,
		.reset = server_reset,
	};
	int r;

	if ((r = role_options_parse(&ro, cfg, argc, argv, &cfg->config_file)) != 0)
		return r;
	if (cfg->min_ttl > cfg->max_ttl) {
		fprintf(stderr, "fdtool server: min-ttl (%u) is above max-ttl (%u)\n",
		    cfg->min_ttl, cfg->max_ttl);
		return cfg->config_file ? EXIT_RUNTIME : EXIT_USAGE;
	}
	return 0;
}

/* As an operator writes it: "both:" is what no protocol means. */
static const char *
endpoint_short(const struct endpoint *ep, char *buf, size_t size)
{
	endpoint_format(ep, buf, size);
	return strncmp(buf, "both:", 5) == 0 ? buf + 5 : buf;
}

static void
print_endpoints(FILE *f, const char *name, const struct endpoint *eps, size_t n)
{
	char buf[ENDPOINT_STRLEN];

	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s = %s\n", name, endpoint_short(&eps[i], buf, sizeof(buf)));
}

static void
print_path(FILE *f, const char *name, const char *path, const char *none)
{
	if (path)
		fprintf(f, "%s = %s\n", name, path);
	else
		fprintf(f, "%s = yes\n", none);
}

/*
 * --check-config: what the server would run with, as a [server] section
 * that is itself a valid configuration.  Names that must exist at start
 * (users, groups, files) are looked up too: a typo fails here, not later.
 */
int
server_config_check(const struct server_config *cfg, FILE *f)
{
	uid_t uid;
	gid_t gid;
	int bad = 0;

	if (priv_lookup_user(cfg->user, &uid, &gid) < 0) {
		fprintf(stderr, "fdtool server: user %s: no such user\n", cfg->user);
		bad = 1;
	}
	if (cfg->control_group && priv_lookup_group(cfg->control_group, &gid) < 0) {
		fprintf(stderr, "fdtool server: control-group %s: no such group\n",
		    cfg->control_group);
		bad = 1;
	}
	if (cfg->hosts_path && access(cfg->hosts_path, R_OK) != 0) {
		fprintf(stderr, "fdtool server: hosts %s: %s\n", cfg->hosts_path, strerror(errno));
		bad = 1;
	}
	if (bad)
		return EXIT_RUNTIME;

	fprintf(f, "# fdtool server: effective settings (from %s and the command line)\n",
	    cfg->config_file ? cfg->config_file : "no configuration file");
	fprintf(f, "[server]\n");
	server_config_print(cfg, f, 1);
	return EXIT_OK;
}

/*
 * The settings as "name = value" lines, each a valid configuration line;
 * with comments, what the defaults come to (resolv.conf's nameservers
 * are read for that).  --check-config prints them, and rec_control's
 * get-parameter reads them back, so the two never disagree.
 */
void
server_config_print(const struct server_config *cfg, FILE *f, int comments)
{
	struct sockaddr_storage found[SERVER_MAX_UPSTREAM];
	socklen_t flen[SERVER_MAX_UPSTREAM];
	char buf[SERVER_ADDR_STRLEN];
	size_t skipped;
	int n;

	print_endpoints(f, "listen", cfg->listen, cfg->nlisten);
	if (comments && cfg->nupstream == 0) {
		/* not fatal: the server waits for a usable one (and says so) */
		n = resolvconf_upstreams(cfg->resolv_path, found, flen, SERVER_MAX_UPSTREAM,
		    &skipped);
		fprintf(f, "# no upstream given: the nameservers of %s, less our own "
		    "addresses, re-read when it changes; now:", cfg->resolv_path);
		if (n < 0)
			fprintf(f, " none (%s)", strerror(-n));
		fprintf(f, "\n");
		for (int i = 0; i < n; i++)
			fprintf(f, "#   %s\n", server_addr_format((const struct sockaddr *)&found[i],
			    buf, sizeof(buf)));
		if (n >= 0 && skipped)
			fprintf(f, "#   (%zu nameserver line(s) skipped: not usable)\n", skipped);
	}
	for (size_t i = 0; i < cfg->nupstream; i++)
		fprintf(f, "upstream = %s\n", server_addr_format(
		    (const struct sockaddr *)&cfg->upstream[i], buf, sizeof(buf)));
	for (size_t i = 0; i < cfg->nzones; i++) {
		char zone[1010];
		const struct forward_zone *z = &cfg->zones[i];
		dns_name_to_text(z->name, z->namelen, zone, sizeof(zone));
		fprintf(f, "forward-zone = %s=", zone);
		for (size_t k = 0; k < z->naddr; k++)
			fprintf(f, "%s%s", k ? "," : "", server_addr_format(
			    (const struct sockaddr *)&z->addr[k], buf, sizeof(buf)));
		fprintf(f, "\n");
	}
	for (size_t i = 0; i < cfg->nallow; i++)
		fprintf(f, "allow-from = %s\n", acl_format(&cfg->allow[i], buf, sizeof(buf)));
	if (comments && cfg->nallow == 0)
		fprintf(f, "# no allow-from: only loopback clients are answered\n");
	if (cfg->creator_path)
		fprintf(f, "creator = %s\n", cfg->creator_path);
	fprintf(f, "user = %s\n", cfg->user);
	print_path(f, "hosts", cfg->hosts_path, "no-hosts");
	fprintf(f, "resolv-conf = %s\n", cfg->resolv_path);
	fprintf(f, "cache-size = %zu\n", cfg->cache_size);
	fprintf(f, "min-ttl = %u\nmax-ttl = %u\n", cfg->min_ttl, cfg->max_ttl);
	fprintf(f, "upstream-timeout = %u\n", cfg->upstream_timeout_ms);
	fprintf(f, "query-timeout = %u\n", cfg->query_timeout_ms);
	fprintf(f, "serve-stale = %u\n", cfg->serve_stale);
	fprintf(f, "max-tcp = %zu\n", cfg->max_tcp);
	fprintf(f, "tcp-idle-timeout = %u\n", cfg->tcp_idle_ms);
	fprintf(f, "max-pending = %zu\n", cfg->max_pending);
	fprintf(f, "no-sandbox = %s\n", cfg->no_sandbox ? "yes" : "no");
	fprintf(f, "no-seccomp = %s\n", cfg->no_seccomp ? "yes" : "no");
	/* the default as a comment: given, a control socket it cannot make is fatal */
	if (comments && cfg->control_path && !cfg->control_explicit)
		fprintf(f, "#control = %s\n", cfg->control_path);
	else
		print_path(f, "control", cfg->control_path, "no-control");
	if (cfg->control_group)
		fprintf(f, "control-group = %s\n", cfg->control_group);
	fprintf(f, "control-idle-timeout = %u\n", cfg->control_idle_s);
	fprintf(f, "control-job-timeout = %u\n", cfg->control_job_s);
	if (cfg->rec_control_path)
		fprintf(f, "rec-control = %s\n", cfg->rec_control_path);
	if (cfg->metrics)
		print_endpoints(f, "metrics-listen", &cfg->metrics_listen, 1);
	fprintf(f, "log-level = %s\n", log_level_name(cfg->log_level));
}

/*
 * One setting's value as --check-config shows it, a repeated one's
 * values joined by ", " (as pdns shows a list): the length, or -ENOENT
 * for a name we do not have.  Truncated to fit out.
 */
int
server_config_value(const struct server_config *cfg, const char *name, char *out, size_t size)
{
	char text[16384], *line, *save = NULL;
	size_t nlen = strlen(name), len = 0;
	int found = 0;
	FILE *f = fmemopen(text, sizeof(text) - 1, "w");

	if (!f)
		return -errno;
	server_config_print(cfg, f, 0);
	text[ftell(f)] = '\0';
	fclose(f);
	if (size)
		out[0] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, name, nlen) != 0 || strncmp(line + nlen, " = ", 3) != 0)
			continue;
		if (len < size)
			len += (size_t)snprintf(out + len, size - len, "%s%s", found ? ", " : "",
			    line + nlen + 3);
		found = 1;
	}
	if (!found)
		return -ENOENT;
	return (int)(len < size ? len : size - 1);
}

static int
wildcard(const uint8_t addr[16])
{
	for (int i = 0; i < 16; i++)
		if (addr[i])
			return 0;
	return 1;
}

/*
 * --metrics-listen where a TCP --listen is (the same address, or either
 * one the wildcard, and the port in its range): one socket cannot serve
 * both, and the second bind would fail or be handed the first.  Checked
 * once the default listeners are known; prints why and returns 1.
 */
int
server_config_metrics_clash(const struct server_config *cfg)
{
	const struct endpoint *m = &cfg->metrics_listen;
	char mbuf[ENDPOINT_STRLEN], lbuf[ENDPOINT_STRLEN];

	if (!cfg->metrics)
		return 0;
	for (size_t i = 0; i < cfg->nlisten; i++) {
		const struct endpoint *l = &cfg->listen[i];
		if (!(l->proto & FDT_PROTO_TCP) || l->family != m->family ||
		    m->port_lo < l->port_lo || m->port_lo > l->port_hi)
			continue;
		if (memcmp(l->addr, m->addr, sizeof(m->addr)) == 0 || wildcard(l->addr) ||
		    wildcard(m->addr)) {
			fprintf(stderr, "fdtool server: metrics-listen %s is also where DNS is "
			    "served (listen %s)\n", endpoint_short(m, mbuf, sizeof(mbuf)),
			    endpoint_short(l, lbuf, sizeof(lbuf)));
			return 1;
		}
	}
	return 0;
}
