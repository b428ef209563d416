/*
 * Byte-level helpers shared by the dns*.c files and the cache dump, so
 * there is one bounded writer and one big-endian get/put: the writer
 * remembers that it ran out, like the cursor, so a builder checks once
 * at the end.  Private to roles/server; the public API is dns.h.
 */
#ifndef FDTOOL_SERVER_DNS_BUF_H
#define FDTOOL_SERVER_DNS_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/be.h"

struct wbuf {
	uint8_t *p;
	size_t cap;
	size_t len;
	int full;
};

static inline void
put_bytes(struct wbuf *w, const void *src, size_t n)
{
	if (w->full || n > w->cap - w->len) {
		w->full = 1;
		return;
	}
	if (n > 0)
		memcpy(w->p + w->len, src, n);
	w->len += n;
}

static inline void
put16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	put_bytes(w, b, sizeof(b));
}

static inline void
put32(struct wbuf *w, uint32_t v)
{
	put16(w, (uint16_t)(v >> 16));
	put16(w, (uint16_t)v);
}

/* The length written, or 0 if anything did not fit. */
static inline size_t
wbuf_done(const struct wbuf *w)
{
	return w->full ? 0 : w->len;
}

/* RFC 2181 8: a TTL with the top bit set is read as zero. */
static inline uint32_t
ttl_value(uint32_t ttl)
{
	return ttl & 0x80000000u ? 0 : ttl;
}

#endif
