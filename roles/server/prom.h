/*
 * Every counter in the Prometheus text exposition format (version 0.0.4),
 * for GET /metrics and `fdtool control metrics`.
 */
#ifndef FDTOOL_SERVER_PROM_H
#define FDTOOL_SERVER_PROM_H

#include <stddef.h>

struct server;

/*
 * The text into buf[0..cap): its length, or 0 if it did not fit (buf
 * then holds a part of it: ask again with more room).  It only reads the
 * counters and writes buf -- no allocation, no log, no descriptor -- so a
 * forked child may call it as well as the loop.
 */
size_t prom_render(const struct server *s, char *buf, size_t cap);

#endif
