/*
 * The counters computed when asked (counters.c): the process's uptime,
 * CPU time and resident memory as PowerDNS reports them, and what each
 * tells Prometheus (counter or gauge, help).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "roles/server/server.h"

static struct server s;

static uint64_t
get(const char *name, int *gauge)
{
	struct counter c;

	cr_assert_eq(server_counter_get(&s, name, &c), 0, "%s", name);
	cr_assert_not_null(c.help, "%s", name);
	cr_assert_null(c.upstream, "%s", name);
	if (gauge)
		*gauge = c.gauge;
	return c.value;
}

static void
fini(void)
{
	server_counters_stop(&s);
	memset(&s, 0, sizeof(s));
}

TestSuite(counters, .fini = fini, .timeout = 10);

Test(counters, process_levels_as_pdns_reports_them)
{
	volatile uint64_t spin = 0;
	unsigned long long size, resident;
	FILE *f;
	uint64_t mem;
	int gauge;

	s.clock.ms = 1000000;
	cr_assert_eq(server_counters_start(&s), 0);
	s.clock.ms += 5999;
	cr_assert_eq(get("uptime", &gauge), 5);
	cr_assert_eq(gauge, 0, "pdns exports uptime as a counter");

	f = fopen("/proc/self/statm", "r");
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%llu %llu", &size, &resident), 2);
	fclose(f);
	mem = get("real-memory-usage", &gauge);
	cr_assert_eq(gauge, 1);
	/* statm's resident pages, in bytes: within a few pages of ours */
	cr_assert(mem > 0 && mem % (uint64_t)sysconf(_SC_PAGESIZE) == 0, "%llu",
	    (unsigned long long)mem);
	cr_assert_lt(mem > resident * 4096 ? mem - resident * 4096 : resident * 4096 - mem,
	    64 * 4096ull, "%llu vs %llu pages", (unsigned long long)mem, resident);

	for (uint64_t i = 0; i < 300000000ull && get("user-msec", NULL) < 20; i += 1000)
		for (int k = 0; k < 1000; k++)
			spin += (uint64_t)k;
	cr_assert_geq(get("user-msec", &gauge), 20, "after %llu sums", (unsigned long long)spin);
	cr_assert_eq(gauge, 0);
	get("sys-msec", NULL);
}

Test(counters, without_start_the_levels_are_zero)
{
	cr_assert_eq(get("uptime", NULL), 0);
	cr_assert_eq(get("real-memory-usage", NULL), 0);
}

Test(counters, gauges_and_counts)
{
	static const char *const gauges[] = {
		"qa-latency", "concurrent-queries", "tcp-clients", "packetcache-entries",
		"real-memory-usage",
	};
	struct counter c;
	size_t ngauge = 0;

	s.stats.qa_latency_n = 1234 * SERVER_LATENCY_N + SERVER_LATENCY_N - 1;
	cr_assert_eq(get("qa-latency", NULL), 1234);
	for (size_t i = 0; server_counter_at(&s, i, &c) == 0; i++)
		ngauge += (size_t)c.gauge;
	cr_assert_eq(ngauge, sizeof(gauges) / sizeof(gauges[0]));
	for (size_t i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++) {
		int gauge;
		get(gauges[i], &gauge);
		cr_assert_eq(gauge, 1, "%s", gauges[i]);
	}
	/* names that meant the packet cache are gone: pdns's cache-* is its record cache */
	cr_assert_eq(server_counter_get(&s, "cache-hits", &c), -ENOENT);
	cr_assert_eq(server_counter_get(&s, "cache-entries", &c), -ENOENT);
	cr_assert_eq(server_counter_get(&s, "negcache-entries", &c), -ENOENT);
}
