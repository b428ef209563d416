/*
 * A size-class allocator for the cache's answers (see slab.c for why).
 * Not thread-safe, never returns memory before slab_destroy().
 */
#ifndef FDTOOL_SERVER_SLAB_H
#define FDTOOL_SERVER_SLAB_H

#include <stddef.h>
#include <stdint.h>

#define SLAB_STEP	8
#define SLAB_MAX	512
#define SLAB_CLASSES	(SLAB_MAX / SLAB_STEP)
#define SLAB_CHUNK	((size_t)64 << 10)
#define SLAB_HDR	16	/* a chunk's link, keeping slots 16-aligned */

struct slab {
	void *free[SLAB_CLASSES];	/* freed slots, linked through their first word */
	uint8_t *next[SLAB_CLASSES];	/* never-used slots: [next, end) */
	uint8_t *end[SLAB_CLASSES];
	void *chunks;			/* every chunk, linked through its first word */
};

/* size bytes (0 < size); NULL if out of memory.  Larger than SLAB_MAX: malloc. */
void *slab_alloc(struct slab *s, size_t size);
/* p from slab_alloc(s, size), with the same size. */
void slab_release(struct slab *s, void *p, size_t size);
/* Every chunk back to malloc; what is larger than SLAB_MAX the caller frees. */
void slab_destroy(struct slab *s);

#endif
