/*
 * A load job's child, after fork(): it reads the dump text it was handed,
 * parses it, and sends the loop each entry, then the counts.  Parsing an
 * operator's file happens here, under the child's narrower filter, not
 * in the loop.
 */
#include <errno.h>
#include <unistd.h>

#include "common/jobmsg.h"
#include "roles/server/dns.h"
#include "roles/server/dump.h"
#include "roles/server/job_child.h"
#include "roles/server/seccomp.h"

_Static_assert(DNS_MSG_MAX <= JOBMSG_TEMPLATE_MAX, "every template fits a record");

static void
load_send(int feed, const struct dump_entry *e)
{
	static uint8_t rec[JOBMSG_MAX];
	struct jobmsg m = { .type = JOBMSG_ENTRY, .u.entry = { .ttl = e->ttl,
		.negative = e->negative ? 1 : 0, .tmpl = e->tmpl, .tlen = e->tlen } };
	int r = jobmsg_send(feed, &m, rec, sizeof(rec));

	if (r < 0 && r != -EINVAL)	/* -EINVAL: no template the loop would take */
		_exit(1);		/* the loop is gone or gave up on us */
}

/* A loader's whole life: parse what it is given, send the loop each entry. */
void
job_load_child(const struct server *s, enum job_kind kind, int in, int feed)
{
	static struct dump_parser p;
	static struct dump_entry e;
	static char line[DUMP_LINE_MAX + 1];
	char buf[64 * 1024], rec[sizeof(struct jobmsg_wire_loaded)];
	size_t llen = 0;
	int fds[2] = { in, feed }, overlong = 0;
	ssize_t n;

	(void)s;
	(void)kind;
	if (child_keep(fds, 2) < 0)
		_exit(111);
	server_seccomp_child();	/* on failure the server's own filter still holds */
	dump_parser_init(&p);
	while ((n = read(fds[0], buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (llen < DUMP_LINE_MAX)
					line[llen++] = buf[i];
				else
					overlong = 1;
				continue;
			}
			if (dump_parser_line(&p, line, overlong ? DUMP_LINE_MAX + 1 : llen, &e))
				load_send(fds[1], &e);
			llen = 0;
			overlong = 0;
		}
	}
	if (llen && dump_parser_line(&p, line, overlong ? DUMP_LINE_MAX + 1 : llen, &e))
		load_send(fds[1], &e);
	if (dump_parser_finish(&p, &e))
		load_send(fds[1], &e);
	jobmsg_send(fds[1], &(struct jobmsg){ .type = JOBMSG_LOADED, .u.loaded = {
	    .entries = p.entries, .expired = p.expired, .malformed = p.malformed } },
	    rec, sizeof(rec));
	_exit(0);
}
