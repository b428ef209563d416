/*
 * The cache's answers come from here, not one malloc() each: glibc spends 112 bytes on a typical 91-byte answer (an 8-byte
 * header, 16-byte steps), a slot here 96.  Sizes up to SLAB_MAX round
 * up to a multiple of SLAB_STEP (8, enough: data holds uint16_t at even
 * offsets, and a free slot holds a pointer); each class carves slots
 * from SLAB_CHUNK-byte chunks and keeps freed ones on a list threaded
 * through them.  Nothing goes back to the system before cache_free: the
 * cache is bounded and its slots are reused.  Larger data is malloc'd.
 * Reuse would hide a use-after-free from ASan, so under it free slots
 * (past their link) and a slot's unused tail are poisoned.
 */
#include "roles/server/slab.h"

#include <stdlib.h>
#include <string.h>

#ifdef FDTOOL_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)	ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n)	((void)(p), (void)(n))
#define UNPOISON(p, n)	((void)(p), (void)(n))
#endif

static size_t
slab_class(size_t size)
{
	return size == 0 ? 0 : (size - 1) / SLAB_STEP;
}

void *
slab_alloc(struct slab *s, size_t size)
{
	size_t cls = slab_class(size), slot = (cls + 1) * SLAB_STEP;
	uint8_t *p;

	if (size > SLAB_MAX)
		return malloc(size);
	if ((p = s->free[cls]) != NULL) {
		UNPOISON(p, slot);
		memcpy(&s->free[cls], p, sizeof(void *));
	} else {
		if ((size_t)(s->end[cls] - s->next[cls]) < slot) {
			uint8_t *chunk = malloc(SLAB_CHUNK);

			if (chunk == NULL)
				return NULL;
			memcpy(chunk, &s->chunks, sizeof(void *));
			s->chunks = chunk;
			s->next[cls] = chunk + SLAB_HDR;
			s->end[cls] = chunk + SLAB_CHUNK;
		}
		p = s->next[cls];
		s->next[cls] += slot;
	}
	POISON(p + size, slot - size);
	return p;
}

void
slab_release(struct slab *s, void *p, size_t size)
{
	size_t cls = slab_class(size), slot = (cls + 1) * SLAB_STEP;

	if (size > SLAB_MAX) {
		free(p);
		return;
	}
	UNPOISON(p, slot);
	memcpy(p, &s->free[cls], sizeof(void *));
	s->free[cls] = p;
	POISON((uint8_t *)p + sizeof(void *), slot - sizeof(void *));
}

/* Every chunk back to malloc; what is larger than SLAB_MAX the caller frees. */
void
slab_destroy(struct slab *s)
{
	void *chunk, *next;

	for (chunk = s->chunks; chunk != NULL; chunk = next) {
		UNPOISON(chunk, SLAB_CHUNK);
		memcpy(&next, chunk, sizeof(void *));
		free(chunk);
	}
}
