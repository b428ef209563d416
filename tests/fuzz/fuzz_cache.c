/*
 * The fuzz targets' common ground with the cache and its dump
 * (fuzz_cache.h).
 */
#include "tests/fuzz/fuzz_cache.h"

#include <string.h>

#include "tests/fuzz/fuzz.h"

void
fz_no_delivery(void *ctx, const struct client *cl, const uint8_t *m, size_t len)
{
	(void)ctx;
	(void)cl;
	(void)m;
	(void)len;
	fuzz_fail(__FILE__, __LINE__, "an answer was delivered later: nothing is upstream");
}

size_t
fz_dump_entry(struct cache *c, const struct cache_key *k, uint64_t now, char *buf, size_t cap)
{
	const struct cache_entry *e = cache_lookup(c, k, now);
	int n;

	FUZZ_CHECK(e != NULL, "an entry just stored is gone before its time");
	n = dump_format_entry(e, now, buf, cap);
	FUZZ_CHECK(n > 0, "a cached entry cannot be dumped: %d", n);
	return (size_t)n;
}

int
fz_parse_dump(struct dump_parser *p, const char *text, size_t len, struct dump_entry *out,
    void (*each)(const struct dump_entry *, void *), void *arg)
{
	const char *s = text, *end = text + len;
	int n = 0, last = 0;

	dump_parser_init(p);
	while (!last) {
		int got;

		if (s < end) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			size_t ll = nl ? (size_t)(nl - s) : (size_t)(end - s);

			got = dump_parser_line(p, s, ll, out);
			s = nl ? nl + 1 : end;
		} else {
			got = dump_parser_finish(p, out);
			last = 1;
		}
		if (got) {
			n++;
			if (each)
				each(out, arg);
		}
	}
	return n;
}
