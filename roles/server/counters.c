/*
 * The counters every protocol reports (the native control socket,
 * rec_control's, Prometheus): ours, the cache's, and each upstream's.
 * server_counter_at() walks them all by index, so get-all never has to
 * hold more than one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "roles/server/server.h"

static const struct {
	const char *name;
	size_t off;
} counters[] = {
#define X(field, name) { name, offsetof(struct server_counters, field) },
	SERVER_COUNTERS(X)
#undef X
};

#define NCOUNTERS (sizeof(counters) / sizeof(counters[0]))
#define NCACHE_COUNTERS 4

/* Counters kept by the cache, reported beside ours. */
static void
cache_counter(const struct server *s, size_t i, const char **name, uint64_t *v)
{
	const struct cache_stats *cs = cache_stats(s->cache);

	switch (i) {
	case 0: *name = "cache-entries"; *v = cs->entries; break;
	case 1: *name = "cache-insertions"; *v = cs->insertions; break;
	case 2: *name = "cache-evictions"; *v = cs->evictions; break;
	default: *name = "cache-expired"; *v = cs->expired; break;
	}
}

/*
 * What we know of each upstream, as upstream[ADDR].FIELD (default set)
 * or upstream[ZONE@ADDR].FIELD (a forward zone's): the health the
 * resolver picks by, and why it stopped asking one.
 */
#define NUPSTREAM_FIELDS 7

static int
upstream_counter(const struct server *s, size_t i, const char **name, uint64_t *v)
{
	static char buf[1100 + SERVER_ADDR_STRLEN];
	static const char *const field[NUPSTREAM_FIELDS] = {
		"srtt-ms", "down", "failures", "queries", "answers", "timeouts", "errors",
	};
	const struct upstreams *u;
	size_t f = i % NUPSTREAM_FIELDS, k = i / NUPSTREAM_FIELDS;

	if (!s->resolver)
		return -ENOENT;
	u = resolver_upstreams(s->resolver);
	for (size_t set = 0; set < 1 + s->cfg.nzones; set++) {
		const struct upstream_set *us = upstreams_get_set(u, set);
		const struct upstream *sv;
		char zone[1010], addr[SERVER_ADDR_STRLEN];
		if (k >= us->n) {
			k -= us->n;
			continue;
		}
		sv = &us->srv[k];
		server_addr_format((const struct sockaddr *)&sv->addr, addr, sizeof(addr));
		if (set > 0)
			dns_name_to_text(s->cfg.zones[set - 1].name,
			    s->cfg.zones[set - 1].namelen, zone, sizeof(zone));
		snprintf(buf, sizeof(buf), "upstream[%s%s%s].%s", set ? zone : "",
		    set ? "@" : "", addr, field[f]);
		*name = buf;
		switch (f) {
		case 0: *v = sv->srtt / 8; break;
		case 1: *v = sv->failures > 0; break;
		case 2: *v = sv->failures; break;
		case 3: *v = sv->queries; break;
		case 4: *v = sv->answers; break;
		case 5: *v = sv->timeouts; break;
		default: *v = sv->errors; break;
		}
		return 0;
	}
	return -ENOENT;
}

int
server_counter_at(const struct server *s, size_t i, const char **name, uint64_t *v)
{
	if (i < NCOUNTERS) {
		*name = counters[i].name;
		memcpy(v, (const char *)&s->stats + counters[i].off, sizeof(*v));
		return 0;
	}
	if (i < NCOUNTERS + NCACHE_COUNTERS) {
		cache_counter(s, i - NCOUNTERS, name, v);
		return 0;
	}
	return upstream_counter(s, i - NCOUNTERS - NCACHE_COUNTERS, name, v);
}

int
server_counter_get(const struct server *s, const char *name, uint64_t *v)
{
	const char *n;

	for (size_t i = 0; server_counter_at(s, i, &n, v) == 0; i++)
		if (strcmp(n, name) == 0)
			return 0;
	return -ENOENT;
}
