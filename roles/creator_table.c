/*
 * Binding and remembering sockets.  A repeat request gets the very same
 * kernel socket again, so a restarted server keeps its port and the
 * datagrams queued on it, and never meets EADDRINUSE from itself.
 */
#include "roles/creator.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/sockbind.h"

int
creator_table_init(struct creator_table *t, size_t cap)
{
	t->slots = calloc(cap ? cap : 1, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->cap = cap;
	t->used = 0;
	for (size_t i = 0; i < cap; i++)
		t->slots[i].fd = -1;
	return 0;
}

void
creator_table_free(struct creator_table *t)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].fd >= 0)
			close(t->slots[i].fd);
	free(t->slots);
	t->slots = NULL;
	t->cap = t->used = 0;
}

static struct creator_entry *
find(struct creator_table *t, const struct fdt_bind *key)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].fd >= 0 &&
		    memcmp(&t->slots[i].key, key, sizeof(*key)) == 0)
			return &t->slots[i];
	return NULL;
}

static struct creator_entry *
free_slot(struct creator_table *t)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].fd < 0)
			return &t->slots[i];
	return NULL;
}

/* The one-protocol keys that b stands for. */
static size_t
split(const struct fdt_bind *b, struct fdt_bind keys[FDT_MAX_FDS])
{
	size_t n = 0;

	for (uint8_t p = FDT_PROTO_UDP; p <= FDT_PROTO_TCP; p <<= 1) {
		if (!(b->proto & p))
			continue;
		keys[n] = *b;
		keys[n++].proto = p;
	}
	return n;
}

int
creator_table_get(struct creator_table *t, const struct fdt_bind *b,
    int fds[FDT_MAX_FDS], int *fresh)
{
	struct fdt_bind keys[FDT_MAX_FDS];
	struct creator_entry *held[FDT_MAX_FDS];
	size_t n = split(b, keys), missing = 0;

	*fresh = 0;
	if (b->instance != 0 && !(b->flags & FDT_BIND_F_REUSEPORT))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!(held[i] = find(t, &keys[i])))
			missing++;
	if (t->used + missing > t->cap)
		return -EDQUOT;

	for (size_t i = 0; i < n; i++) {
		if (held[i]) {
			fds[i] = held[i]->fd;
			continue;
		}
		int fd = sockbind(&keys[i]);
		/* (the quota check above keeps a slot free; be sure anyway) */
		struct creator_entry *e = fd >= 0 ? free_slot(t) : NULL;
		if (!e) {
			if (fd >= 0) {
				close(fd);
				fd = -EDQUOT;
			}
			/* undo what this call bound, keep what was held */
			for (size_t j = 0; j < i; j++)
				if (!held[j])
					creator_table_release(t, &keys[j]);
			*fresh = 0;
			return fd;
		}
		e->key = keys[i];
		e->fd = fd;
		t->used++;
		fds[i] = fd;
		(*fresh)++;
	}
	return (int)n;
}

int
creator_table_release(struct creator_table *t, const struct fdt_bind *b)
{
	struct fdt_bind keys[FDT_MAX_FDS];
	size_t n = split(b, keys);
	int found = 0;

	for (size_t i = 0; i < n; i++) {
		struct creator_entry *e = find(t, &keys[i]);
		if (!e)
			continue;
		close(e->fd);
		e->fd = -1;
		t->used--;
		found = 1;
	}
	return found ? 0 : -ENOENT;
}
