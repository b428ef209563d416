/*
 * What the dns*.c files share and no other module needs: the OPT
 * record's shape, one resource record read off the wire, and the pieces
 * every reply is written from.  The public API stays in dns.h.
 */
#ifndef FDTOOL_SERVER_DNS_IMPL_H
#define FDTOOL_SERVER_DNS_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "roles/server/dns.h"
#include "roles/server/dns_buf.h"

#define DNS_OPT_SIZE	11	/* root owner, type, class, TTL, rdlength 0 */
#define DNS_DO		0x8000	/* in the low 16 bits of the OPT TTL */

/*
 * One resource record at the cursor, checked for bounds; the fields a
 * caller may want come back in rr.
 */
struct dns_rr {
	size_t start;		/* owner's first byte */
	size_t ttl_off;
	size_t rdata;		/* rdata's first byte */
	uint8_t ownerlen;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t rdlen;
};

/* dns_wire.c: the reading side */
size_t dns_plain_name_len(const uint8_t *p, size_t max);
int dns_read_rr(struct dns_cursor *c, struct dns_rr *rr);

/* dns.c: the writing side of a message */
void dns_put_header(struct wbuf *w, uint16_t id, uint16_t flags, uint16_t qd,
    uint16_t an, uint16_t ns, uint16_t ar);
void dns_put_question(struct wbuf *w, const struct dns_question *q);
size_t dns_ede_size(enum dns_ede ede);
void dns_put_opt(struct wbuf *w, unsigned rcode, int dnssec_ok, enum dns_ede ede);

/* dns_template.c: the records a client without DO does not get */
int dns_dnssec_only(uint16_t type, uint16_t qtype);
/* dns_template.c: a rewritten message made a template, in place */
int dns_template_finish(uint8_t *pkt, size_t len, struct dns_template_info *info);

#endif
