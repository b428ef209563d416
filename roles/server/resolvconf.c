/*
 * The "nameserver" lines of resolv.conf(5), where the default upstreams
 * come from.  Read as the C library reads them, no more: the file is
 * shared with every other program on the host.
 */
#include "roles/server/resolvconf.h"

#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "roles/server/hosts_text.h"
#include "roles/server/zones.h"

/* "nameserver" then whitespace: the keyword, not a prefix of another. */
static int
is_nameserver(const char *s, size_t n)
{
	static const char kw[] = "nameserver";

	return n == sizeof(kw) - 1 && memcmp(s, kw, n) == 0;
}

/*
 * A nameserver token the C library would also read: brackets and an
 * IPv4 ":port" are server_addr_parse's syntax, not resolv.conf's, and a
 * file other programs read must not mean more to us than to them.
 */
static int
libc_syntax(const char *s)
{
	const char *colon = strchr(s, ':');

	return s[0] != '[' && (colon == NULL || strchr(colon + 1, ':') != NULL);
}

int
resolvconf_upstreams(const char *path, struct sockaddr_storage *out,
    socklen_t *outlen, size_t max, size_t *skipped)
{
	const char *p, *end, *ls, *le, *q, *ts;
	char tok[INET6_ADDRSTRLEN + 1 + IF_NAMESIZE];
	struct sockaddr_storage ss;
	size_t len, tn, n = 0, bad = 0;
	socklen_t sl;
	char *buf;
	int e;

	e = text_read_file(path, &buf, &len);
	if (e < 0)
		return e;
	p = buf;
	end = buf + len;
	while (text_next_line(&p, end, &ls, &le)) {
		le = text_strip_comment(ls, le, "#;");
		q = ls;
		if (!text_next_token(&q, le, &ts, &tn) || !is_nameserver(ts, tn))
			continue;
		/* like the C library, skip what cannot be used and go on */
		if (!text_next_token(&q, le, &ts, &tn) || tn >= sizeof(tok) ||
		    memchr(ts, '\0', tn)) {
			bad++;
			continue;
		}
		memcpy(tok, ts, tn);
		tok[tn] = '\0';
		if (!libc_syntax(tok) || server_addr_parse(tok, 53, &ss, &sl, NULL) < 0 ||
		    n == max) {
			bad++;
			continue;
		}
		memcpy(&out[n], &ss, sizeof(ss));
		outlen[n] = sl;
		n++;
	}
	free(buf);
	if (skipped)
		*skipped = bad;
	return (int)n;
}
