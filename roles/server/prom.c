/*
 * The counters as Prometheus text (exposition format 0.0.4): fdtool_NAME,
 * "-" made "_", counters ending in _total; each upstream's counters one
 * family per field (fdtool_upstream_server_FIELD: fdtool_upstream_queries_total
 * is the sum over all), labelled upstream= and zone=; the answer-latency
 * counters (pdns's buckets) one histogram.  Names a unit abbreviates
 * ("-ms", "-msec") are given in seconds, as promtool's lint wants.
 */
#include "roles/server/prom.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roles/server/dns_buf.h"
#include "roles/server/server.h"

#define PREFIX		"fdtool_"
#define NAME_MAX_LEN	128	/* longer names are cut: they are ours, none is */
#define MAX_FIELDS	32	/* per-upstream fields; more are not rendered */
#define TEXT_FIRST	(16 * 1024)	/* the first buffer; doubled until it fits */

/*
 * pdns's latency buckets: non-cumulative counts of answers in 0-1 ms,
 * 1-10, 10-100, 100-1000 and slower, and the time summed (µs) and
 * counted; one cumulative histogram in seconds for Prometheus.
 */
#define NBUCKETS 5
static const char *const bucket_name[NBUCKETS] = {
	"answers0-1", "answers1-10", "answers10-100", "answers100-1000", "answers-slow",
};
static const char *const bucket_le[NBUCKETS] = { "0.001", "0.01", "0.1", "1", "+Inf" };
#define LATENCY_SUM	"answer-latency-usec-sum"
#define LATENCY_COUNT	"answer-latency-count"
#define LATENCY_FAMILY	PREFIX "answer_latency_seconds"

struct latency {
	uint64_t bucket[NBUCKETS];
	uint64_t sum_usec, count;
	int have_count;
	int seen;		/* any part present: the histogram is rendered */
};

/* A part of the histogram (rendered there, not on its own)?  Which: 0..6. */
static int
latency_part(const char *name)
{
	for (int b = 0; b < NBUCKETS; b++)
		if (strcmp(name, bucket_name[b]) == 0)
			return b;
	if (strcmp(name, LATENCY_SUM) == 0)
		return NBUCKETS;
	if (strcmp(name, LATENCY_COUNT) == 0)
		return NBUCKETS + 1;
	return -1;
}

static void
put_str(struct wbuf *w, const char *s)
{
	put_bytes(w, s, strlen(s));
}

/* A value in units of 1/scale (1, 1000 or 1000000) as a decimal. */
static void
put_value(struct wbuf *w, uint64_t v, uint64_t scale)
{
	char num[32];

	if (scale == 1000)
		snprintf(num, sizeof(num), "%" PRIu64 ".%03" PRIu64, v / scale, v % scale);
	else if (scale == 1000000)
		snprintf(num, sizeof(num), "%" PRIu64 ".%06" PRIu64, v / scale, v % scale);
	else
		snprintf(num, sizeof(num), "%" PRIu64, v);
	put_str(w, num);
}

/* HELP text escapes \ and newline; a label value " too. */
static void
put_escaped(struct wbuf *w, const char *s, int label)
{
	for (; *s; s++) {
		if (*s == '\\')
			put_str(w, "\\\\");
		else if (*s == '\n')
			put_str(w, "\\n");
		else if (*s == '"' && label)
			put_str(w, "\\\"");
		else
			put_bytes(w, s, 1);
	}
}

/*
 * fdtool_PART: a name made of [a-zA-Z0-9_] ("-" and anything else become
 * "_"), a "-ms", "-msec" or "-usec" ending given in seconds (*scale says by what
 * to divide), "_total" after a counter's.
 */
static void
metric_name(char *out, const char *prefix, const char *part, int gauge, uint64_t *scale)
{
	size_t n = strlen(part), o;

	*scale = 1;
	if (n > 3 && strcmp(part + n - 3, "-ms") == 0)
		*scale = 1000, n -= 3;
	else if (n > 5 && strcmp(part + n - 5, "-msec") == 0)
		*scale = 1000, n -= 5;
	else if (n > 5 && strcmp(part + n - 5, "-usec") == 0)
		*scale = 1000000, n -= 5;
	o = (size_t)snprintf(out, NAME_MAX_LEN, "%s", prefix);
	for (size_t i = 0; i < n && o < NAME_MAX_LEN - 16; i++) {
		char ch = part[i];
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_';
		out[o++] = ok ? ch : '_';
	}
	out[o] = '\0';
	if (*scale != 1)
		strcat(out, "_seconds");
	if (!gauge)
		strcat(out, "_total");
}

/* scale: the help text names the unit the counter has, not the one given here */
static void
put_family(struct wbuf *w, const char *name, const char *help, const char *type,
    uint64_t scale)
{
	put_str(w, "# HELP ");
	put_str(w, name);
	put_str(w, " ");
	put_escaped(w, help, 0);
	if (scale != 1)
		put_str(w, " (given here in seconds)");
	put_str(w, "\n# TYPE ");
	put_str(w, name);
	put_str(w, " ");
	put_str(w, type);
	put_str(w, "\n");
}

static void
put_histogram(struct wbuf *w, const struct latency *l)
{
	uint64_t cum = 0;

	put_family(w, LATENCY_FAMILY, "Time from a question's arrival to its answer, "
	    "for questions not answered from the cache (pdns's answers* buckets).",
	    "histogram", 1);
	for (int b = 0; b < NBUCKETS; b++) {
		cum += l->bucket[b];
		put_str(w, LATENCY_FAMILY "_bucket{le=\"");
		put_str(w, bucket_le[b]);
		put_str(w, "\"} ");
		put_value(w, cum, 1);
		put_str(w, "\n");
	}
	put_str(w, LATENCY_FAMILY "_sum ");
	put_value(w, l->sum_usec, 1000000);
	/* _count is the +Inf bucket by definition; a separate count agrees */
	put_str(w, "\n" LATENCY_FAMILY "_count ");
	put_value(w, l->have_count ? l->count : cum, 1);
	put_str(w, "\n");
}

static void
collect_latency(const struct server *s, struct latency *l)
{
	struct counter c;
	int part;

	memset(l, 0, sizeof(*l));
	for (size_t i = 0; server_counter_at(s, i, &c) == 0; i++) {
		if (c.upstream || (part = latency_part(c.name)) < 0)
			continue;
		l->seen = 1;
		if (part < NBUCKETS)
			l->bucket[part] = c.value;
		else if (part == NBUCKETS)
			l->sum_usec = c.value;
		else
			l->count = c.value, l->have_count = 1;
	}
}

/*
 * One field of every upstream, from index first on (where the field is
 * met first): a family must be one group of lines, and the counters come
 * upstream by upstream.
 */
static void
put_upstream_family(const struct server *s, struct wbuf *w, size_t first,
    const struct counter *c0)
{
	char name[NAME_MAX_LEN], field[NAME_MAX_LEN];
	struct counter c;
	uint64_t scale;

	/* c0's strings may live in a buffer the next call reuses */
	snprintf(field, sizeof(field), "%s", c0->field);
	metric_name(name, PREFIX "upstream_server_", field, c0->gauge, &scale);
	put_family(w, name, c0->help ? c0->help : field, c0->gauge ? "gauge" : "counter",
	    scale);
	for (size_t i = first; server_counter_at(s, i, &c) == 0; i++) {
		if (!c.upstream || !c.field || strcmp(c.field, field) != 0)
			continue;
		put_str(w, name);
		put_str(w, "{upstream=\"");
		put_escaped(w, c.upstream, 1);
		put_str(w, "\",zone=\"");
		put_escaped(w, c.zone ? c.zone : "", 1);
		put_str(w, "\"} ");
		put_value(w, c.value, scale);
		put_str(w, "\n");
	}
}

/* The text into buf[0..cap): its length, or 0 if it did not fit. */
static size_t
prom_render(const struct server *s, char *buf, size_t cap)
{
	struct wbuf w = { .p = (uint8_t *)buf, .cap = cap };
	char fields[MAX_FIELDS][NAME_MAX_LEN], name[NAME_MAX_LEN];
	size_t nfields = 0;
	struct latency lat;
	struct counter c;
	uint64_t scale;

	collect_latency(s, &lat);
	for (size_t i = 0; server_counter_at(s, i, &c) == 0 && !w.full; i++) {
		if (c.upstream && c.field) {
			size_t f = 0;
			while (f < nfields && strcmp(fields[f], c.field) != 0)
				f++;
			if (f < nfields || nfields == MAX_FIELDS)
				continue;
			snprintf(fields[nfields++], NAME_MAX_LEN, "%s", c.field);
			put_upstream_family(s, &w, i, &c);
			continue;
		}
		if (latency_part(c.name) >= 0) {
			if (lat.seen)
				put_histogram(&w, &lat);
			lat.seen = 0;	/* once, where its first part is */
			continue;
		}
		metric_name(name, PREFIX, c.name, c.gauge, &scale);
		put_family(&w, name, c.help ? c.help : c.name, c.gauge ? "gauge" : "counter",
		    scale);
		put_str(&w, name);
		put_str(&w, " ");
		put_value(&w, c.value, scale);
		put_str(&w, "\n");
	}
	return wbuf_done(&w);
}

char *
prom_render_alloc(const struct server *s, size_t *len)
{
	char *text = NULL, *p;

	for (size_t cap = TEXT_FIRST; cap <= PROM_TEXT_MAX; cap *= 2) {
		if (!(p = realloc(text, cap))) {
			free(text);
			errno = ENOMEM;
			return NULL;
		}
		text = p;
		if ((*len = prom_render(s, text, cap)) > 0)
			return text;
	}
	free(text);
	errno = EFBIG;
	return NULL;
}
