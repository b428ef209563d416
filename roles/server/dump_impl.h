/*
 * What the dump*.c files share: the table of types, classes and rcodes
 * the text format knows (dump_types.c), and one line of text as the
 * parser reads it, word by word (dump_line.c).  The public API is dump.h.
 */
#ifndef FDTOOL_SERVER_DUMP_IMPL_H
#define FDTOOL_SERVER_DUMP_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "roles/server/dns.h"
#include "roles/server/dns_buf.h"

#define NAME_TEXT_MAX	1024		/* a wire name as text is at most 1009 bytes */

/*
 * What we know of a type.  The layout lists the rdata's fields: 'a' IPv4
 * address, '6' IPv6 address, 'n' domain name, '2' and '4' 16- and 32-bit
 * numbers, 's' a character-string, 't' one or more of them to the end.
 * A type with both a mnemonic and a layout is shown field by field.  One
 * with a layout only is shown as RFC 3597 hex of its uncompressed form:
 * RFC 1035 types may arrive compressed (RFC 3597 4 lists the others a
 * server may compress), and the raw bytes of a pointer would aim at the
 * wrong place in the message the loader builds.
 */
struct rrtype {
	uint16_t type;
	const char *mnemonic;	/* NULL: TYPEnnn */
	const char *layout;	/* NULL: opaque bytes */
};

struct mnemonic {
	uint16_t value;
	const char *name;
};

extern const struct rrtype dump_rrtypes[];
extern const size_t dump_nrrtypes;
extern const struct mnemonic dump_classes[];
extern const size_t dump_nclasses;
extern const struct mnemonic dump_rcodes[];
extern const size_t dump_nrcodes;

/* The entry of dump_rrtypes for type, or NULL. */
const struct rrtype *dump_rrtype_find(uint16_t type);

/*
 * The parsing side.  A line is (pointer, length), not a C string; the
 * few library calls that want one (names, addresses) get a bounded copy
 * of a single token.
 */
struct dump_line {
	const char *s;
	size_t len;
	size_t pos;
};

static inline int
dump_is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/*
 * dump_line.c.  The next_* read the next word and move l past it; they
 * and the parse_* return 0 (dump_next_name: the length) or -EINVAL;
 * dump_next_token returns 1, or 0 when there is no word left.
 */
int dump_at_end(struct dump_line *l);
int dump_next_token(struct dump_line *l, const char **tok, size_t *toklen);
int dump_token_is(const char *tok, size_t n, const char *word);
int dump_parse_number(const char *tok, size_t n, uint64_t max, uint64_t *v);
int dump_next_number(struct dump_line *l, uint64_t max, uint64_t *v);
int dump_parse_mnemonic(const char *tok, size_t n, const struct mnemonic *m, size_t nm,
    const char *prefix, uint64_t max, uint16_t *v);
int dump_next_type(struct dump_line *l, uint16_t *type);
int dump_next_class(struct dump_line *l, uint16_t *rclass);
int dump_next_name(struct dump_line *l, uint8_t name[DNS_NAME_MAX]);
int dump_parse_rdata(struct dump_line *l, uint16_t type, struct wbuf *o);

#endif
