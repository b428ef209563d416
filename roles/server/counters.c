/*
 * The counters every protocol reports (the native control socket,
 * rec_control's, Prometheus): ours, the levels computed when asked (the
 * cache's, the process's), and each upstream's.  server_counter_at() walks
 * them all by index, so get-all never has to hold more than one.  Names
 * and meanings: docs/metrics.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "roles/server/server.h"

static const struct {
	const char *name;
	const char *help;
	size_t off;
} counters[] = {
#define X(field, name, help) { name, help, offsetof(struct server_counters, field) },
	SERVER_COUNTERS(X)
#undef X
};

#define NCOUNTERS (sizeof(counters) / sizeof(counters[0]))

int
server_counters_start(struct server *s)
{
	s->stats.started_ms = s->clock.ms;
	s->stats.started = 1;
	/* the sandbox will not let us open it later */
	s->stats.statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	return s->stats.statm_fd < 0 ? -errno : 0;
}

void
server_counters_stop(struct server *s)
{
	if (s->stats.started && s->stats.statm_fd >= 0)
		close(s->stats.statm_fd);
	s->stats.statm_fd = -1;
}

/* Resident set, bytes, as pdns reports it on Linux (statm's second field). */
static uint64_t
real_memory(const struct server *s)
{
	char buf[256];
	unsigned long long size, resident;
	ssize_t n;

	if (!s->stats.started || s->stats.statm_fd < 0)
		return 0;
	n = pread(s->stats.statm_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
		return 0;
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t
cpu_msec(int sys)
{
	struct rusage ru;
	const struct timeval *tv = sys ? &ru.ru_stime : &ru.ru_utime;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (uint64_t)tv->tv_sec * 1000 + (uint64_t)tv->tv_usec / 1000;
}

/*
 * The levels and the counts kept elsewhere, read when asked: the
 * system calls here (getrusage, pread) never run on the query path.
 */
enum derived {
	D_QA_LATENCY, D_CONCURRENT, D_TCP_CLIENTS, D_PC_ENTRIES, D_CACHE_INSERTIONS,
	D_CACHE_EVICTIONS, D_CACHE_EXPIRED, D_UPTIME, D_USER_MSEC, D_SYS_MSEC, D_MEMORY,
	NDERIVED
};

static const struct {
	const char *name;
	int gauge;
	const char *help;
} derived[NDERIVED] = {
	[D_QA_LATENCY] = { "qa-latency", 1, "Answer latency, microseconds, "
	    "exponentially weighted over the last 10000 questions (packet-cache hits as 0)" },
	[D_CONCURRENT] = { "concurrent-queries", 1, "Questions waiting for an upstream now" },
	[D_TCP_CLIENTS] = { "tcp-clients", 1, "TCP clients connected now" },
	[D_PC_ENTRIES] = { "packetcache-entries", 1, "Entries in the answer (packet) cache" },
	[D_CACHE_INSERTIONS] = { "cache-insertions", 0, "Answers stored in the packet cache" },
	[D_CACHE_EVICTIONS] = { "cache-evictions", 0,
	    "Packet-cache entries evicted to make room, unexpired" },
	[D_CACHE_EXPIRED] = { "cache-expired", 0, "Packet-cache entries dropped as expired" },
	[D_UPTIME] = { "uptime", 0, "Seconds since the server started" },
	[D_USER_MSEC] = { "user-msec", 0, "CPU milliseconds spent in user mode" },
	[D_SYS_MSEC] = { "sys-msec", 0, "CPU milliseconds spent in system mode" },
	[D_MEMORY] = { "real-memory-usage", 1, "Resident memory, bytes" },
};

static uint64_t
derived_value(const struct server *s, enum derived d)
{
	const struct cache_stats *cs = s->cache ? cache_stats(s->cache) : NULL;

	switch (d) {
	case D_QA_LATENCY:
		return s->stats.qa_latency_n / SERVER_LATENCY_N;
	case D_CONCURRENT:
		return s->resolver ? resolver_waiting(s->resolver) : 0;
	case D_TCP_CLIENTS:
		return s->frontend ? frontend_tcp_clients(s->frontend) : 0;
	case D_PC_ENTRIES:
		return cs ? cs->entries : 0;
	case D_CACHE_INSERTIONS:
		return cs ? cs->insertions : 0;
	case D_CACHE_EVICTIONS:
		return cs ? cs->evictions : 0;
	case D_CACHE_EXPIRED:
		return cs ? cs->expired : 0;
	case D_UPTIME:
		return s->stats.started ? (s->clock.ms - s->stats.started_ms) / 1000 : 0;
	case D_USER_MSEC:
		return cpu_msec(0);
	case D_SYS_MSEC:
		return cpu_msec(1);
	default:
		return real_memory(s);
	}
}

/*
 * What we know of each upstream, as upstream[ADDR].FIELD (default set)
 * or upstream[ZONE@ADDR].FIELD (a forward zone's): the health the
 * resolver picks by, and why it stopped asking one.
 */
#define NUPSTREAM_FIELDS 7

static const struct {
	const char *field;
	int gauge;
	const char *help;
} upstream_fields[NUPSTREAM_FIELDS] = {
	{ "srtt-ms", 1, "Smoothed round-trip time of the upstream, ms" },
	{ "down", 1, "1 while the upstream is in back-off after timeouts" },
	{ "failures", 1, "Timeouts of the upstream in a row" },
	{ "queries", 0, "Queries sent to the upstream" },
	{ "answers", 0, "Usable answers from the upstream" },
	{ "timeouts", 0, "Queries to the upstream that timed out" },
	{ "errors", 0, "Queries to the upstream that failed: refusals, errors, bad replies" },
};

static uint64_t
upstream_value(const struct upstream *sv, size_t f)
{
	switch (f) {
	case 0: return sv->srtt / 8;
	case 1: return sv->failures > 0;
	case 2: return sv->failures;
	case 3: return sv->queries;
	case 4: return sv->answers;
	case 5: return sv->timeouts;
	default: return sv->errors;
	}
}

static int
upstream_counter(const struct server *s, size_t i, struct counter *c)
{
	static char name[1100 + SERVER_ADDR_STRLEN], zone[1010], addr[SERVER_ADDR_STRLEN];
	const struct upstreams *u;
	size_t f = i % NUPSTREAM_FIELDS, k = i / NUPSTREAM_FIELDS;

	if (!s->resolver)
		return -ENOENT;
	u = resolver_upstreams(s->resolver);
	for (size_t set = 0; set < 1 + s->cfg.nzones; set++) {
		const struct upstream_set *us = upstreams_get_set(u, set);
		const struct upstream *sv;
		if (k >= us->n) {
			k -= us->n;
			continue;
		}
		sv = &us->srv[k];
		server_addr_format((const struct sockaddr *)&sv->addr, addr, sizeof(addr));
		if (set > 0)
			dns_name_to_text(s->cfg.zones[set - 1].name,
			    s->cfg.zones[set - 1].namelen, zone, sizeof(zone));
		snprintf(name, sizeof(name), "upstream[%s%s%s].%s", set ? zone : "",
		    set ? "@" : "", addr, upstream_fields[f].field);
		*c = (struct counter){
			.name = name, .value = upstream_value(sv, f),
			.gauge = upstream_fields[f].gauge, .help = upstream_fields[f].help,
			.upstream = addr, .zone = set ? zone : NULL,
			.field = upstream_fields[f].field,
		};
		return 0;
	}
	return -ENOENT;
}

int
server_counter_at(const struct server *s, size_t i, struct counter *c)
{
	if (i < NCOUNTERS) {
		*c = (struct counter){ .name = counters[i].name, .help = counters[i].help };
		memcpy(&c->value, (const char *)&s->stats + counters[i].off, sizeof(c->value));
		return 0;
	}
	i -= NCOUNTERS;
	if (i < NDERIVED) {
		*c = (struct counter){ .name = derived[i].name, .gauge = derived[i].gauge,
		    .help = derived[i].help, .value = derived_value(s, (enum derived)i) };
		return 0;
	}
	return upstream_counter(s, i - NDERIVED, c);
}

/* By name: a value is computed only for the one asked (some cost a system call). */
int
server_counter_get(const struct server *s, const char *name, struct counter *c)
{
	for (size_t i = 0; i < NCOUNTERS + NDERIVED; i++)
		if (strcmp(i < NCOUNTERS ? counters[i].name : derived[i - NCOUNTERS].name,
		    name) == 0)
			return server_counter_at(s, i, c);
	for (size_t i = 0; upstream_counter(s, i, c) == 0; i++)
		if (strcmp(c->name, name) == 0)
			return 0;
	return -ENOENT;
}
