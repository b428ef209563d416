/*
 * DNS wire format for the stub resolver (RFC 1035, 2308, 6891): reading
 * through a bounds-checked cursor with a sticky error, parsing client
 * queries, checking upstream answers, turning an answer into a cacheable
 * template and rendering a template as the reply to one client.
 * Nothing here allocates; every output goes into a caller's buffer.
 */
#ifndef FDTOOL_SERVER_DNS_H
#define FDTOOL_SERVER_DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_HDR_SIZE	12
#define DNS_NAME_MAX	255	/* wire form, root label included */
#define DNS_LABEL_MAX	63
#define DNS_MSG_MAX	65535
#define DNS_UDP_MIN	512	/* what a client without EDNS can take */
#define DNS_EDNS_SIZE	1232	/* what we advertise and accept (DNS flag day 2020) */
#define DNS_PTR_MAX	32	/* compression jumps followed in one name */
#define DNS_TTLS_MAX	5958	/* RRs whose TTL a template can track: a 64 KiB
				 * message of the smallest records (11 bytes) */

enum {
	DNS_RCODE_NOERROR = 0, DNS_RCODE_FORMERR = 1, DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3, DNS_RCODE_NOTIMP = 4, DNS_RCODE_REFUSED = 5,
	DNS_RCODE_BADVERS = 16,		/* extended: needs OPT */
};

enum {
	DNS_TYPE_A = 1, DNS_TYPE_NS = 2, DNS_TYPE_CNAME = 5, DNS_TYPE_SOA = 6,
	DNS_TYPE_PTR = 12, DNS_TYPE_MX = 15, DNS_TYPE_TXT = 16,
	DNS_TYPE_AAAA = 28, DNS_TYPE_OPT = 41, DNS_TYPE_DS = 43, DNS_TYPE_RRSIG = 46,
	DNS_TYPE_NSEC = 47, DNS_TYPE_DNSKEY = 48, DNS_TYPE_NSEC3 = 50, DNS_TYPE_ANY = 255,
	DNS_CLASS_IN = 1, DNS_CLASS_CH = 3,
};

/*
 * Why we failed, said to EDNS clients as an Extended DNS Error (RFC 8914).
 * Our own small enum (it fits a cache entry's byte); dns.c maps each to
 * its INFO-CODE and EXTRA-TEXT.
 */
enum dns_ede {
	DNS_EDE_NONE = 0,
	DNS_EDE_TIMEOUT,	/* 22 No Reachable Authority: "upstream timeout" */
	DNS_EDE_REFUSED,	/* 22 No Reachable Authority: "upstreams refused" */
	DNS_EDE_NO_UPSTREAM,	/* 22 No Reachable Authority: "no usable upstream" */
	DNS_EDE_NETWORK,	/* 23 Network Error: "upstream unreachable" */
	DNS_EDE_STALE,		/* 3 Stale Answer */
	DNS_EDE_PROHIBITED,	/* 18 Prohibited: access control */
	DNS_EDE_NOT_SUPPORTED,	/* 21 Not Supported: CH class */
	DNS_EDE_PRIVATE,	/* 0 Other: "private reverse zone (RFC 6303)" */
	DNS_EDE_COUNT
};

/* Header flag bits, host order (the 16 bits after the ID). */
#define DNS_F_QR	0x8000
#define DNS_F_OPCODE	0x7800
#define DNS_F_AA	0x0400
#define DNS_F_TC	0x0200
#define DNS_F_RD	0x0100
#define DNS_F_RA	0x0080
#define DNS_F_AD	0x0020
#define DNS_F_CD	0x0010
#define DNS_F_RCODE	0x000f

/*
 * Reading cursor.  Every read past the end sets err and returns 0; the
 * caller checks err once at the end of a run of reads.
 */
struct dns_cursor {
	const uint8_t *pkt;	/* the whole message: pointers resolve in it */
	size_t len;
	size_t pos;
	int err;		/* 0, or -EBADMSG once anything was out of bounds */
};

void dns_cursor_init(struct dns_cursor *c, const uint8_t *pkt, size_t len, size_t pos);
uint8_t dns_get8(struct dns_cursor *c);
uint16_t dns_get16(struct dns_cursor *c);
uint32_t dns_get32(struct dns_cursor *c);
void dns_skip(struct dns_cursor *c, size_t n);

/*
 * Read the (possibly compressed) name at the cursor into out, uncompressed
 * wire form, case as sent; the cursor ends after the name's bytes at its
 * position.  Returns the name's length (1 for the root), or -EBADMSG: a
 * label over 63, a name over 255, a pointer outside the message or not
 * strictly backwards, more than DNS_PTR_MAX jumps, reserved label types.
 */
int dns_read_name(struct dns_cursor *c, uint8_t out[DNS_NAME_MAX]);

/* ASCII-only case fold of a wire-form name, in place (locale-proof). */
void dns_name_fold(uint8_t *name, size_t len);
/* Case-insensitive equality of two wire-form names. */
int dns_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
/* Presentation form ("www.example.com.", escapes as \DDD), NUL-terminated;
 * returns its length or -ENOSPC.  size 1010 always suffices. */
int dns_name_to_text(const uint8_t *name, size_t len, char *out, size_t size);
/* Wire form from presentation form; returns length or -EINVAL. */
int dns_name_from_text(const char *text, uint8_t out[DNS_NAME_MAX]);

struct dns_question {
	uint8_t name[DNS_NAME_MAX];	/* wire form, the client's spelling */
	uint8_t namelen;
	uint16_t qtype;
	uint16_t qclass;
};

struct dns_query {
	uint16_t id;
	uint16_t flags;		/* as received */
	struct dns_question q;
	size_t qend;		/* offset just past the question */
	int edns;		/* an OPT record was present */
	uint16_t edns_size;	/* the client's UDP payload size, raised to 512 */
	uint8_t edns_version;
	int edns_do;		/* DO bit */
};

/*
 * A template with where its TTLs are: what the cache stores and
 * dns_render() turns into one client's reply.
 */
struct dns_tmpl {
	const uint8_t *data;
	size_t len;
	const uint16_t *ttl_off;
	size_t nttl;
};

/*
 * Parse a client's query.  Returns 0, or
 *   -EINVAL   drop silently: shorter than a header, or QR set (a response);
 *   -ENOTSUP  answer NOTIMP: opcode is not QUERY;
 *   -EBADMSG  answer FORMERR: qdcount != 1, a bad name, truncated
 *             sections, more than one OPT or an OPT not in additional;
 *   -EPROTONOSUPPORT  answer BADVERS: EDNS version above 0.
 * On every error but -EINVAL, q->id and q->flags are filled for the reply,
 * and q->q is filled if the question was readable (q->qend != 0); on
 * -EBADMSG and -ENOTSUP the client's OPT (q->edns, size, DO) too, if a
 * walk of the sections by their lengths still finds one in additional.
 */
int dns_parse_query(const uint8_t *pkt, size_t len, struct dns_query *q);

/*
 * A reply with no records and the given rcode (an extended rcode such as
 * BADVERS goes into the OPT), echoing the question when q->qend != 0,
 * RD and CD copied, RA set, AA and AD clear, an OPT when the client sent
 * one (also for FORMERR: RFC 6891 7), carrying ede (if not
 * DNS_EDE_NONE) as an EDE option.  Returns the length, or 0 if cap is
 * too small.
 */
size_t dns_build_error(uint8_t *out, size_t cap, const struct dns_query *q, int rcode,
    enum dns_ede ede);

/*
 * The upstream query for q: the given id, RD set, CD if cd, the question,
 * and an OPT advertising DNS_EDNS_SIZE with DO set: we always ask for the
 * DNSSEC records, so one cache entry serves DO and non-DO clients.
 * Returns the length or 0.
 */
size_t dns_build_query(uint8_t *out, size_t cap, uint16_t id,
    const struct dns_question *q, int cd);

/*
 * Whether pkt answers our query: DNS_ANSWER_YES if QR is set, the id is
 * ours, opcode QUERY, qdcount 1 and the same question (name
 * case-insensitively, type, class); DNS_ANSWER_ERROR if it is an error
 * reply to our id with no question at all (qdcount 0, rcode FORMERR,
 * SERVFAIL, NOTIMP or REFUSED: some servers say so without echoing the
 * question); else DNS_ANSWER_NO.
 */
enum { DNS_ANSWER_NO = 0, DNS_ANSWER_YES = 1, DNS_ANSWER_ERROR = 2 };
int dns_answer_matches(const uint8_t *pkt, size_t len, uint16_t id,
    const struct dns_question *q);

/*
 * What an upstream answer is worth to the cache.  dns_make_template()
 * checks every record of the answer, removes the OPT record (the
 * additional section is dropped whole if the OPT is not last), and notes
 * where each TTL sits so a later reply can count it down.
 */
struct dns_template_info {
	int rcode;
	int truncated;		/* TC: never cache, retry over TCP */
	int negative;		/* NXDOMAIN, or NOERROR with no answer */
	int cacheable;		/* 0: SERVFAIL-like, or negative without SOA */
	int ad;			/* the upstream set AD */
	int dnssec;		/* has RRSIG/NSEC/NSEC3/DS records that a client
				 * without DO must not get (RFC 4035 3.2.1):
				 * dns_strip_dnssec() makes its plain twin */
	uint32_t ttl;		/* smallest TTL, or the RFC 2308 negative TTL */
	uint16_t nttl;
	uint16_t ttl_off[DNS_TTLS_MAX];	/* offsets of the 32-bit TTL fields */
};

/*
 * pkt (len bytes) written anew into out as a template: every name
 * decompressed and compressed again by us, so no pointer aims at a byte
 * the cache rewrites (header, TTLs) or drops; the rdata of every type
 * that carries names (RFC 1035, RFC 3597 4) must be exactly what its
 * type says; AA cleared (we are not the authority).  Returns the
 * template's length, or -EBADMSG if any record is malformed, -E2BIG if
 * it has more than DNS_TTLS_MAX records, -ENOSPC if cap is too small.
 */
int dns_make_template(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap,
    struct dns_template_info *info);

/*
 * --max-ttl for a template (in place, before its plain twin is made): no
 * record TTL above max_ttl.  A TTL with the top bit set is zero (RFC
 * 2181 8), so it stays as it is.
 */
void dns_clamp_ttls(uint8_t *tmpl, const struct dns_template_info *info, uint32_t max_ttl);

/*
 * The plain twin of a template with info->dnssec set: the same message
 * without the RRSIG, NSEC, NSEC3 and DS records a client without DO must
 * not see (a type the question asks for is kept), counts fixed, names
 * compressed anew (compression pointers into a dropped record would
 * dangle).  Writes it to out and its TTL offsets to pinfo; returns its
 * length, or -ENOSPC / -EBADMSG.
 */
int dns_strip_dnssec(const uint8_t *tmpl, size_t tlen, uint8_t *out, size_t cap,
    struct dns_template_info *pinfo);

struct dns_render_opts {
	uint32_t elapsed;	/* seconds spent in the cache: TTLs lowered by it */
	uint32_t stale_ttl;	/* non-zero: every TTL is this (serve-stale) */
	size_t max_size;	/* larger: header and question only, TC set */
	enum dns_ede ede;	/* said in the OPT, if the client sent one */
};

/*
 * Render a template as the reply to q: q's id, q's spelling of the
 * question, RD and CD from q, RA set, AA clear, AD kept only if the
 * client set AD or DO (RFC 6840 5.7); every tracked TTL lowered by
 * o->elapsed (not below 0); an OPT (DNS_EDNS_SIZE, DO echoed, the EDE
 * if any) appended when the client sent one.  If the result is longer
 * than o->max_size, the reply is the header and question only with TC
 * set.  Returns the length, or 0 if cap is too small.
 */
size_t dns_render(uint8_t *out, size_t cap, const struct dns_tmpl *t,
    const struct dns_query *q, const struct dns_render_opts *o);

/*
 * A local negative answer for a name in an RFC 6303 zone (zone: wire
 * form, a suffix of q's name): NXDOMAIN with the zone's SOA in the
 * authority section ("@ 10800 IN SOA @ nobody.invalid. 1 3600 1200
 * 604800 10800"), so clients cache it.  Returns the length or 0.
 */
size_t dns_build_local_nxdomain(uint8_t *out, size_t cap, const struct dns_query *q,
    const uint8_t *zone, size_t zonelen);

/*
 * Local answers (from the hosts file): a reply to q with the given rcode
 * and n records of q's name (or, for PTR, the given target name), class
 * IN, type rrtype, TTL ttl; rdata is n items of rdlen bytes each
 * (4 for A, 16 for AAAA) or, for PTR, one wire-form name; RD and CD
 * copied, AA set.  Owner names compress to the question.  Returns the
 * length, or 0 if cap is too small.
 */
size_t dns_build_answer(uint8_t *out, size_t cap, const struct dns_query *q,
    uint16_t rrtype, uint32_t ttl, const uint8_t *rdata, size_t rdlen, size_t n);

#endif
