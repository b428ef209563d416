/*
 * What a server job's child (a dump writer, a loader) tells the loop, one
 * record per SEQPACKET datagram: a header naming the type and the exact
 * length, then a fixed body per type (an entry's cache template follows
 * its body).  The child parses what an operator handed it, so the loop
 * trusts none of it: jobmsg_unpack() checks every byte first.
 */
#ifndef FDTOOL_JOBMSG_H
#define FDTOOL_JOBMSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define JOBMSG_MAGIC		0x6a	/* 'j' */
#define JOBMSG_TEMPLATE_MIN	12	/* a DNS header */
#define JOBMSG_TEMPLATE_MAX	65535	/* a DNS message */
#define JOBMSG_STATUS_MAX	4095	/* errno values are small */

enum jobmsg_type {
	JOBMSG_ENTRY = 1,	/* loader: one parsed entry and its template */
	JOBMSG_LOADED,		/* loader: the end, with its counts */
	JOBMSG_PROGRESS,	/* writer: entries written whole so far */
	JOBMSG_WRITTEN,		/* writer: the end, 0 or an errno, entries written whole */
	JOBMSG_TYPE_MAX = JOBMSG_WRITTEN,
};

/* Host form.  An entry's tmpl points into the buffer it was unpacked from. */
struct jobmsg {
	uint8_t type;		/* enum jobmsg_type */
	union {
		struct {
			uint32_t ttl;
			uint8_t negative;	/* 0 or 1 */
			const uint8_t *tmpl;
			size_t tlen;		/* JOBMSG_TEMPLATE_MIN..MAX */
		} entry;
		struct {
			uint64_t entries, expired, malformed;
		} loaded;
		struct {
			uint64_t entries;
		} progress;
		struct {
			uint32_t status;	/* 0 .. JOBMSG_STATUS_MAX */
			uint64_t entries;
		} written;
	} u;
};

/* Wire form: byte arrays only, big-endian, reserved bytes zero. */
struct jobmsg_wire_head {
	uint8_t magic;
	uint8_t type;
	uint8_t reserved[2];
	uint8_t length[4];	/* of the whole record, this header included */
};

struct jobmsg_wire_entry {
	struct jobmsg_wire_head h;
	uint8_t ttl[4];
	uint8_t negative;
	uint8_t reserved[3];
	/* the template follows */
};

struct jobmsg_wire_loaded {
	struct jobmsg_wire_head h;
	uint8_t entries[8];
	uint8_t expired[8];
	uint8_t malformed[8];
};

struct jobmsg_wire_progress {
	struct jobmsg_wire_head h;
	uint8_t entries[8];
};

struct jobmsg_wire_written {
	struct jobmsg_wire_head h;
	uint8_t status[4];
	uint8_t reserved[4];
	uint8_t entries[8];
};

_Static_assert(sizeof(struct jobmsg_wire_head) == 8, "header is 8 bytes");
_Static_assert(offsetof(struct jobmsg_wire_head, length) == 4, "length at 4");
_Static_assert(sizeof(struct jobmsg_wire_entry) == 16, "entry body ends at 16");
_Static_assert(offsetof(struct jobmsg_wire_entry, negative) == 12, "negative at 12");
_Static_assert(sizeof(struct jobmsg_wire_loaded) == 32, "loaded is 32 bytes");
_Static_assert(offsetof(struct jobmsg_wire_loaded, malformed) == 24, "malformed at 24");
_Static_assert(sizeof(struct jobmsg_wire_progress) == 16, "progress is 16 bytes");
_Static_assert(sizeof(struct jobmsg_wire_written) == 24, "written is 24 bytes");
_Static_assert(offsetof(struct jobmsg_wire_written, entries) == 16, "entries at 16");

/* The longest record: an entry with the largest template. */
#define JOBMSG_MAX	(sizeof(struct jobmsg_wire_entry) + JOBMSG_TEMPLATE_MAX)

/*
 * Host form to wire form in buf (cap bytes).  Returns the record's
 * length, -EINVAL if m would not unpack, -ENOSPC if cap is too small.
 */
ssize_t jobmsg_pack(const struct jobmsg *m, void *buf, size_t cap);

/*
 * Check len bytes and convert them.  Returns 0, or -EMSGSIZE when len is
 * not the size the type demands or the header says (a truncated record),
 * -EPROTO bad magic, -EBADMSG unknown type, reserved bytes set, or a field
 * out of range.
 */
int jobmsg_unpack(const void *buf, size_t len, struct jobmsg *m);

/*
 * One record per datagram.  jobmsg_send packs into buf (cap bytes; at
 * most JOBMSG_MAX needed) and sends without SIGPIPE: 0 or -errno.
 * jobmsg_recv reads one into buf (JOBMSG_MAX bytes suffice) with flags
 * (MSG_DONTWAIT) and unpacks it: 0, 1 at the end of the stream, or
 * -errno (-EAGAIN; the unpack errors; -EMSGSIZE for a record longer than
 * cap; -EBADMSG for a descriptor, which is closed).
 */
int jobmsg_send(int sock, const struct jobmsg *m, void *buf, size_t cap);
int jobmsg_recv(int sock, void *buf, size_t cap, struct jobmsg *m, int flags);

#endif
