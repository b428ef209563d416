/*
 * What the fuzz targets that go through the cache and its dump share: a
 * resolver callback for when nothing may be delivered late, one entry
 * dumped, and dump text read back the way the loader child reads it.
 */
#ifndef FDTOOL_FUZZ_CACHE_H
#define FDTOOL_FUZZ_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "roles/server/cache.h"
#include "roles/server/dump.h"
#include "roles/server/loop.h"

/* resolver_new's delivery callback where nothing is upstream: a fault. */
void fz_no_delivery(void *ctx, const struct client *cl, const uint8_t *m, size_t len);

/* The dump of the entry for k at now, into buf (cap bytes); its length.  Aborts if none. */
size_t fz_dump_entry(struct cache *c, const struct cache_key *k, uint64_t now, char *buf,
    size_t cap);

/*
 * Dump text through p, split into lines as the loader child splits them:
 * each entry handed back goes to each(entry, arg) if each is set, and
 * the last one stays in *out.  Returns how many entries were handed back.
 */
int fz_parse_dump(struct dump_parser *p, const char *text, size_t len, struct dump_entry *out,
    void (*each)(const struct dump_entry *, void *), void *arg);

#endif
