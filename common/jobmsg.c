/*
 * Packing and checking of a job child's records.  Every byte is a field
 * with a legal value or zero, and every type has exactly one length (an
 * entry's: its body plus its template), so a short or padded record is
 * never read as something else.
 */
#include "common/jobmsg.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "common/be.h"
#include "common/fdpass.h"

/* A type's fixed size; 0 for a type we do not know. */
static size_t
fixed_size(unsigned type)
{
	switch (type) {
	case JOBMSG_ENTRY:
		return sizeof(struct jobmsg_wire_entry);
	case JOBMSG_LOADED:
		return sizeof(struct jobmsg_wire_loaded);
	case JOBMSG_PROGRESS:
		return sizeof(struct jobmsg_wire_progress);
	case JOBMSG_WRITTEN:
		return sizeof(struct jobmsg_wire_written);
	default:
		return 0;
	}
}

ssize_t
jobmsg_pack(const struct jobmsg *m, void *buf, size_t cap)
{
	size_t len = fixed_size(m->type);
	uint8_t *p = buf;
	struct jobmsg_wire_head *h = buf;

	if (len == 0)
		return -EINVAL;
	if (m->type == JOBMSG_ENTRY) {
		if (m->u.entry.negative > 1 || !m->u.entry.tmpl ||
		    m->u.entry.tlen < JOBMSG_TEMPLATE_MIN || m->u.entry.tlen > JOBMSG_TEMPLATE_MAX)
			return -EINVAL;
		len += m->u.entry.tlen;
	}
	if (m->type == JOBMSG_WRITTEN && m->u.written.status > JOBMSG_STATUS_MAX)
		return -EINVAL;
	if (cap < len)
		return -ENOSPC;
	memset(buf, 0, fixed_size(m->type));
	h->magic = JOBMSG_MAGIC;
	h->type = m->type;
	be_put32(h->length, (uint32_t)len);
	switch (m->type) {
	case JOBMSG_ENTRY: {
		struct jobmsg_wire_entry *w = buf;
		be_put32(w->ttl, m->u.entry.ttl);
		w->negative = m->u.entry.negative;
		memcpy(p + sizeof(*w), m->u.entry.tmpl, m->u.entry.tlen);
		break;
	}
	case JOBMSG_LOADED: {
		struct jobmsg_wire_loaded *w = buf;
		be_put64(w->entries, m->u.loaded.entries);
		be_put64(w->expired, m->u.loaded.expired);
		be_put64(w->malformed, m->u.loaded.malformed);
		break;
	}
	case JOBMSG_PROGRESS: {
		struct jobmsg_wire_progress *w = buf;
		be_put64(w->entries, m->u.progress.entries);
		break;
	}
	case JOBMSG_WRITTEN: {
		struct jobmsg_wire_written *w = buf;
		be_put32(w->status, m->u.written.status);
		be_put64(w->entries, m->u.written.entries);
		break;
	}
	}
	return (ssize_t)len;
}

int
jobmsg_unpack(const void *buf, size_t len, struct jobmsg *m)
{
	const struct jobmsg_wire_head *h = buf;
	const uint8_t *p = buf;
	size_t fixed;

	memset(m, 0, sizeof(*m));
	if (len < sizeof(*h))
		return -EMSGSIZE;
	if (h->magic != JOBMSG_MAGIC)
		return -EPROTO;
	if (!(fixed = fixed_size(h->type)) || !bytes_zero(h->reserved, sizeof(h->reserved)))
		return -EBADMSG;
	if (be_get32(h->length) != len || len < fixed ||
	    (h->type != JOBMSG_ENTRY && len != fixed))
		return -EMSGSIZE;
	m->type = h->type;
	switch (h->type) {
	case JOBMSG_ENTRY: {
		const struct jobmsg_wire_entry *w = buf;
		if (len - fixed < JOBMSG_TEMPLATE_MIN || len - fixed > JOBMSG_TEMPLATE_MAX)
			return -EMSGSIZE;
		if (w->negative > 1 || !bytes_zero(w->reserved, sizeof(w->reserved)))
			return -EBADMSG;
		m->u.entry.ttl = be_get32(w->ttl);
		m->u.entry.negative = w->negative;
		m->u.entry.tmpl = p + fixed;
		m->u.entry.tlen = len - fixed;
		break;
	}
	case JOBMSG_LOADED: {
		const struct jobmsg_wire_loaded *w = buf;
		m->u.loaded.entries = be_get64(w->entries);
		m->u.loaded.expired = be_get64(w->expired);
		m->u.loaded.malformed = be_get64(w->malformed);
		break;
	}
	case JOBMSG_PROGRESS: {
		const struct jobmsg_wire_progress *w = buf;
		m->u.progress.entries = be_get64(w->entries);
		break;
	}
	case JOBMSG_WRITTEN: {
		const struct jobmsg_wire_written *w = buf;
		if (!bytes_zero(w->reserved, sizeof(w->reserved)) ||
		    be_get32(w->status) > JOBMSG_STATUS_MAX)
			return -EBADMSG;
		m->u.written.status = be_get32(w->status);
		m->u.written.entries = be_get64(w->entries);
		break;
	}
	}
	return 0;
}

int
jobmsg_send(int sock, const struct jobmsg *m, void *buf, size_t cap)
{
	ssize_t n = jobmsg_pack(m, buf, cap);

	return n < 0 ? (int)n : fdpass_send(sock, buf, (size_t)n, NULL, 0);
}

int
jobmsg_recv(int sock, void *buf, size_t cap, struct jobmsg *m, int flags)
{
	size_t nfds = 0;
	ssize_t n = fdpass_recv(sock, buf, cap, NULL, 0, &nfds, flags);

	if (n < 0)
		return (int)n;
	if (n == 0)
		return 1;
	return jobmsg_unpack(buf, (size_t)n, m);
}
