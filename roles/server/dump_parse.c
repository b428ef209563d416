/*
 * The reading side of the cache dump (dump.h): ";entry" lines and
 * records built into templates again, entry by entry, inside the
 * parser's own struct; and what load-cache stores for each of them.
 */
#include "roles/server/dump.h"
#include "roles/server/dump_impl.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define TTL_MAX		0x7fffffffu	/* RFC 2181 8 */

/*
 * owner TTL class type rdata, appended to the template uncompressed but
 * for one thing: an owner spelled exactly as the question becomes a
 * pointer to it, as upstream sent it, or an answer that filled 64 KiB
 * would no longer fit.  The rdata is written first, behind the room for
 * the owner and fixed part, so nothing needs a second buffer; a bad line
 * leaves p->len as it was.
 */
static int
parse_record(struct dump_parser *p, struct dump_line *l)
{
	static const uint8_t to_question[2] = { 0xc0, DNS_HDR_SIZE };
	uint8_t owner[DNS_NAME_MAX], *rr;
	const uint8_t *wire;
	uint16_t type, rclass;
	uint64_t ttl;
	size_t rd, wlen;
	struct wbuf o;
	int n;

	if ((n = dump_next_name(l, owner)) < 0 || dump_next_number(l, TTL_MAX, &ttl) < 0 ||
	    dump_next_class(l, &rclass) < 0 || dump_next_type(l, &type) < 0)
		return -EINVAL;
	wire = owner;
	wlen = (size_t)n;
	if (wlen > sizeof(to_question) && wlen == p->cur.key.namelen &&
	    memcmp(owner, p->cur.tmpl + DNS_HDR_SIZE, wlen) == 0) {
		wire = to_question;
		wlen = sizeof(to_question);
	}
	rd = p->len + wlen + 10;
	if (rd > sizeof(p->cur.tmpl))
		return -EINVAL;
	o = (struct wbuf){ p->cur.tmpl, sizeof(p->cur.tmpl), rd, 0 };
	if (dump_parse_rdata(l, type, &o) < 0 || o.full)
		return -EINVAL;

	rr = p->cur.tmpl + p->len;
	memcpy(rr, wire, wlen);
	rr += wlen;
	be_put16(rr, type);
	be_put16(rr + 2, rclass);
	be_put16(rr + 4, (uint16_t)(ttl >> 16));
	be_put16(rr + 6, (uint16_t)ttl);
	be_put16(rr + 8, (uint16_t)(o.len - rd));
	p->len = o.len;
	return 0;
}

/*
 * name class type rcode ttl=N [negative]: the header and question of a
 * reply.  The rcode has to fit the header's four bits, since the
 * template is all that carries it to a client.
 */
static int
parse_entry_line(struct dump_parser *p, struct dump_line *l)
{
	struct dns_question q;
	struct wbuf o = { p->cur.tmpl, sizeof(p->cur.tmpl), 0, 0 };
	const char *tok;
	size_t n;
	uint64_t ttl;
	uint16_t rcode, flags = DNS_F_QR | DNS_F_RD | DNS_F_RA;
	int namelen, have_ttl = 0, negative = 0;

	memset(&q, 0, sizeof(q));
	if ((namelen = dump_next_name(l, q.name)) < 0 || dump_next_class(l, &q.qclass) < 0 ||
	    dump_next_type(l, &q.qtype) < 0 || !dump_next_token(l, &tok, &n) ||
	    dump_parse_mnemonic(tok, n, dump_rcodes, dump_nrcodes, "RCODE", 15, &rcode) < 0)
		return -EINVAL;
	q.namelen = (uint8_t)namelen;
	while (dump_next_token(l, &tok, &n)) {
		if (n > 4 && !have_ttl && dump_token_is(tok, 4, "ttl=") &&
		    dump_parse_number(tok + 4, n - 4, UINT32_MAX, &ttl) == 0)
			have_ttl = 1;
		else if (!negative && dump_token_is(tok, n, "negative"))
			negative = 1;
		else if (!(flags & DNS_F_AD) && dump_token_is(tok, n, "ad"))
			flags |= DNS_F_AD;
		else if (!(flags & DNS_F_CD) && dump_token_is(tok, n, "cd"))
			flags |= DNS_F_CD;
		else
			return -EINVAL;
	}
	if (!have_ttl)
		return -EINVAL;

	put16(&o, 0);
	put16(&o, (uint16_t)(flags | rcode));
	put16(&o, 1);
	put16(&o, 0);
	put16(&o, 0);
	put16(&o, 0);
	put_bytes(&o, q.name, q.namelen);
	put16(&o, q.qtype);
	put16(&o, q.qclass);
	p->len = o.len;
	cache_key_from_question(&p->cur.key, &q);
	p->cur.key.cd = (flags & DNS_F_CD) != 0;
	p->cur.ttl = (uint32_t)ttl;
	p->cur.rcode = rcode;
	p->cur.negative = negative;
	return 0;
}

void
dump_parser_init(struct dump_parser *p)
{
	memset(p, 0, sizeof(*p));
}

/* Close the current entry: 1 if it is good and live, and then it is in *out. */
static int
complete(struct dump_parser *p, struct dump_entry *out)
{
	int n, ok = p->in_entry && !p->cur_bad;

	p->in_entry = 0;
	p->cur_bad = 0;
	if (!ok)
		return 0;
	be_put16(p->cur.tmpl + 6, p->counts[0]);
	be_put16(p->cur.tmpl + 8, p->counts[1]);
	be_put16(p->cur.tmpl + 10, p->counts[2]);
	if ((n = dns_make_template(p->cur.tmpl, p->len, out->tmpl, sizeof(out->tmpl),
	    &out->info)) < 0) {
		p->malformed++;
		return 0;
	}
	if (p->cur.ttl == 0) {
		p->expired++;
		return 0;
	}
	out->key = p->cur.key;
	out->tlen = (size_t)n;
	out->ttl = p->cur.ttl;
	out->rcode = p->cur.rcode;
	out->negative = p->cur.negative;
	p->entries++;
	return 1;
}

/*
 * A bad line drops the entry it is in, or, outside one, opens a dropped
 * one: the lines after it up to the next ";entry" are not looked at, so
 * one damaged entry (or a run of stray records) counts once.
 */
static void
bad_line(struct dump_parser *p)
{
	if (p->in_entry && p->cur_bad)
		return;
	p->malformed++;
	p->in_entry = 1;
	p->cur_bad = 1;
}

/* Whether the line starts with word followed by a blank or its end; l moves past it. */
static int
keyword(struct dump_line *l, const char *word)
{
	size_t n = strlen(word);

	if (l->len < n || memcmp(l->s, word, n) != 0 ||
	    (l->len > n && !dump_is_blank(l->s[n])))
		return 0;
	l->pos = n;
	return 1;
}

int
dump_parser_line(struct dump_parser *p, const char *line, size_t len,
    struct dump_entry *out)
{
	struct dump_line l = { line, len, 0 };
	int section, done;

	if (len > DUMP_LINE_MAX) {
		bad_line(p);
		return 0;
	}
	if (len > 0 && line[len - 1] == '\r')
		l.len = --len;
	if (dump_at_end(&l))
		return 0;
	/* a NUL would cut the copies handed to the name and address parsers */
	if (memchr(line, '\0', len) != NULL) {
		bad_line(p);
		return 0;
	}
	l.pos = 0;
	if (keyword(&l, ";entry")) {
		done = complete(p, out);
		p->in_entry = 1;
		p->cur_bad = 0;
		p->section = 0;
		memset(p->counts, 0, sizeof(p->counts));
		p->len = 0;
		if (parse_entry_line(p, &l) < 0) {
			p->cur_bad = 1;
			p->malformed++;
		}
		return done;
	}
	if (keyword(&l, ";authority"))
		section = 1;
	else if (keyword(&l, ";additional"))
		section = 2;
	else if (line[0] == ';')
		return 0;		/* a comment */
	else if (dump_is_blank(line[0]))	/* master files mean "owner as before": not ours */
		section = -1;
	else
		section = 0;

	if (!p->in_entry || section < 0) {
		bad_line(p);
		return 0;
	}
	if (p->cur_bad)
		return 0;
	/* no count can overflow: a record takes at least 11 of the template's 65535 bytes */
	if (section < p->section || parse_record(p, &l) < 0) {
		bad_line(p);
		return 0;
	}
	p->section = section;
	p->counts[section]++;
	return 0;
}

int
dump_parser_finish(struct dump_parser *p, struct dump_entry *out)
{
	return complete(p, out);
}

/*
 * The key comes from the template itself, so a record cannot name one
 * question and carry the answer to another.
 */
int
dump_load_answer(const uint8_t *in, size_t len, int negative, uint32_t max_ttl,
    struct dump_load *l)
{
	const uint8_t *tmpl;
	struct dns_cursor c;
	uint8_t name[DNS_NAME_MAX];
	int tlen, plen, nl;

	memset(&l->key, 0, sizeof(l->key));
	memset(&l->answer, 0, sizeof(l->answer));
	if ((tlen = dns_make_template(in, len, l->tmpl, sizeof(l->tmpl), &l->info)) < 0)
		return -EBADMSG;
	dns_clamp_ttls(l->tmpl, &l->info, max_ttl);
	tmpl = l->tmpl;
	dns_cursor_init(&c, tmpl, (size_t)tlen, DNS_HDR_SIZE);
	if ((nl = dns_read_name(&c, name)) < 0)
		return -EBADMSG;
	l->key.qtype = dns_get16(&c);
	l->key.qclass = dns_get16(&c);
	if (c.err)
		return -EBADMSG;
	dns_name_fold(name, (size_t)nl);
	memcpy(l->key.name, name, (size_t)nl);
	l->key.namelen = (uint8_t)nl;
	l->key.cd = (be_get16(tmpl + 2) & DNS_F_CD) != 0;
	l->answer.full = (struct dns_tmpl){ tmpl, (size_t)tlen, l->info.ttl_off, l->info.nttl };
	l->answer.rcode = l->info.rcode;
	l->answer.negative = negative != 0;
	l->answer.ede = DNS_EDE_NONE;
	if (l->info.dnssec) {
		plen = dns_strip_dnssec(tmpl, (size_t)tlen, l->plain, sizeof(l->plain),
		    &l->pinfo);
		if (plen < 0)
			return -EBADMSG;
		l->answer.plain = (struct dns_tmpl){ l->plain, (size_t)plen, l->pinfo.ttl_off,
			l->pinfo.nttl };
	}
	return 0;
}
