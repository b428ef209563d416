/*
 * The cache dump: text a person can read and grep, and that load-cache
 * reads back.  One entry is the whole answer to one question:
 *
 *   ; fdtool cache dump
 *   ; written 2026-11-22T21:40:00Z
 *   ; entries 2
 *   ;entry www.example.test. IN A NOERROR ttl=297
 *   www.example.test.	297	IN	A	192.0.2.1
 *   ;authority example.test.	297	IN	NS	ns1.example.test.
 *   ;entry nope.example.test. IN A NXDOMAIN ttl=55 negative
 *   ;authority example.test.	55	IN	SOA	ns1.example.test. hostmaster.example.test. 1 3600 600 86400 60
 *   ; end
 *
 * Answer records are plain master-file lines (name TTL class type rdata),
 * so `grep NAME` finds them; authority and additional records are the
 * same lines behind ";authority " / ";additional ".  TTLs are what is
 * left of them at the moment of the dump; "ttl=" is what is left of the
 * entry.  Every other line starting with ';' is a comment.
 *
 * Flags after ttl=: "negative"; "ad", the upstream said AD; "cd", the
 * entry answers queries with CD set (a key of its own: never served to
 * CD=0).  A loader that predates a flag drops such an entry as
 * malformed, which is safe; old dumps load unchanged.  DNSSEC records
 * are dumped like any other (RFC 3597 hex); the loader makes the plain
 * twin for clients without DO again (dump_load_answer).  A failure
 * entry's EDE is not dumped: it lives seconds, and loads without one.
 */
#ifndef FDTOOL_SERVER_DUMP_H
#define FDTOOL_SERVER_DUMP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "roles/server/cache.h"
#include "roles/server/dns.h"

#define DUMP_LINE_MAX	(256 * 1024)	/* a longer line is malformed */

/* The three header lines; returns their length or -ENOSPC. */
int dump_format_header(time_t written, size_t entries, char *out, size_t size);

/*
 * One entry as it stands at now (seconds, the cache's clock): its
 * ";entry" line and a line per record, TTLs lowered by now - stored (not
 * below 0), names in presentation form, rdata of A, AAAA, NS, CNAME,
 * PTR, MX, TXT, SOA and SRV in their usual form, any other type as
 * TYPEnnn \# len hex (RFC 3597).  Returns the length written, -ENOSPC if
 * size is too small, -EBADMSG if the stored template does not parse.
 */
int dump_format_entry(const struct cache_entry *e, uint64_t now, char *out, size_t size);

/* What the parser hands back for one entry: ready for cache_insert(). */
struct dump_entry {
	struct cache_key key;
	uint8_t tmpl[DNS_MSG_MAX];	/* a reply message: header, question, records */
	size_t tlen;
	struct dns_template_info info;	/* from dns_make_template() */
	uint32_t ttl;			/* what was left of the entry */
	int rcode;
	int negative;
};

struct dump_parser {
	struct dump_entry cur;		/* being built */
	int in_entry;			/* cur has its ";entry" line */
	int cur_bad;			/* a line of cur was malformed: drop it */
	uint16_t counts[3];		/* answer, authority, additional so far */
	size_t len;			/* bytes of cur.tmpl written */
	int section;			/* 0 answer, 1 authority, 2 additional */
	size_t entries;			/* handed back */
	size_t expired;			/* ttl=0: skipped */
	size_t malformed;		/* bad lines (their entries skipped) */
};

void dump_parser_init(struct dump_parser *p);

/*
 * Feed one line (no newline; a trailing '\r' is ignored).  Returns 1 when
 * an entry is complete and copied to *out (an ";entry" line completes
 * the one before it), 0 otherwise.  A malformed line counts in
 * p->malformed and its entry is dropped; records must come in section
 * order (answer, authority, additional) and belong to an entry; an entry
 * with ttl=0 counts in p->expired and is dropped.  Never fails otherwise.
 */
int dump_parser_line(struct dump_parser *p, const char *line, size_t len,
    struct dump_entry *out);

/* End of input: returns 1 with the last entry in *out, or 0. */
int dump_parser_finish(struct dump_parser *p, struct dump_entry *out);

/*
 * What load-cache stores for one template read back (made a template
 * again, into l->tmpl: the bytes come from another process; no record
 * TTL above max_ttl, as from an upstream): the key from its question, cd from its header's CD
 * bit (set by the parser for a "cd" entry), and the answer, with its
 * plain twin made by dns_strip_dnssec() when it carries DNSSEC records.
 * The answer points into *l.  Returns 0 or -EBADMSG.
 */
struct dump_load {
	struct cache_key key;
	struct cache_answer answer;
	struct dns_template_info info;
	struct dns_template_info pinfo;
	uint8_t tmpl[DNS_MSG_MAX];
	uint8_t plain[DNS_MSG_MAX];
};

/* A record type's mnemonic or TYPEnnn, any case: 0 or -EINVAL. */
int dump_type_from_text(const char *text, uint16_t *type);

int dump_load_answer(const uint8_t *in, size_t len, int negative, uint32_t max_ttl,
    struct dump_load *l);

#endif
