/*
 * The fuzz targets' own reading of a DNS message, to check what fdtool
 * sends a client: every name read with the project's cursor
 * (dns_read_name: labels, length, pointers), every count matched by the
 * records present, nothing left over, at most one OPT and only last in
 * additional.  Each record is also kept in a canonical form -- names
 * expanded and case-folded -- so two answers can be compared record by
 * record whatever their compression and spelling.
 */
#ifndef FDTOOL_FUZZ_DNS_H
#define FDTOOL_FUZZ_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "roles/server/dns.h"

#define FZ_MAX_RR	8192
#define FZ_POOL		(4u << 20)

struct fz_rr {
	uint8_t section;	/* 0 answer, 1 authority, 2 additional */
	uint16_t type, rclass;
	uint32_t ttl;
	size_t rd, rdlen;	/* the rdata as it stands in the message */
	size_t canon, canonlen;	/* in the pool: folded owner, type, class, rdata */
	int expanded;		/* the rdata's names are expanded in canon */
};

struct fz_msg {
	const uint8_t *pkt;
	size_t len;
	uint16_t id, flags, qd, an, ns, ar;
	uint8_t qname[DNS_NAME_MAX];
	size_t qnamelen;
	uint16_t qtype, qclass;
	int have_opt;
	uint16_t opt_size;
	uint32_t opt_ttl;
	size_t nrr;		/* records but the OPT */
	size_t ulen;		/* the message's size with every name written out */
	struct fz_rr rr[FZ_MAX_RR];
	uint8_t pool[FZ_POOL];
	size_t poollen;
};

/* What fz_parse says of a message too big to canonicalise here: not a fault. */
extern const char fz_too_big[];

/* NULL if pkt parses completely, else what is wrong with it. */
const char *fz_parse(const uint8_t *pkt, size_t len, struct fz_msg *m);

/*
 * NULL if b holds the same records as a, in the same order, with every
 * TTL of b that of a lowered by elapsed (not below 0); else what differs.
 * Names compare case-insensitively; the OPT is not a record here.
 */
const char *fz_same_records(const struct fz_msg *a, const struct fz_msg *b, uint32_t elapsed);

/*
 * A client query: id, flags (RD, CD, AD as given), one question, an OPT
 * with the given UDP size and DO bit if edns.  Returns its length.
 */
size_t fz_query(uint8_t *out, size_t cap, const uint8_t *name, size_t namelen,
    uint16_t qtype, uint16_t qclass, uint16_t id, uint16_t flags, int edns,
    uint16_t udp_size, int dnssec_ok);

/*
 * A reply to the client query q checked through and through (aborts on
 * a fault): it parses completely into m, fits max, is a response with
 * q's id, RD and CD, q's question as spelt, an OPT (DO echoed) exactly
 * when q had one, and no records if TC.  Returns 1, or 0 when m is too
 * big to hold here (the reply was still checked as far as it went).
 */
int fz_check_reply(const char *what, const uint8_t *ans, size_t n, const struct dns_query *q,
    size_t max, struct fz_msg *m);

/* The name with its letters' case flipped where mask's bits (cycled) say. */
void fz_respell(uint8_t *name, size_t len, uint32_t mask);

#endif
