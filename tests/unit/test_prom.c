// SPDX-License-Identifier: GPL-2.0
/* Prometheus exposition: bucket bounds, escaping, labels, cumulative series
 * across windows and processes, with the kernel side faked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>
#include <cmocka.h>
#include "fake_kstats.h"
#include "procfs.h"
#include "prom.h"
#include "anomaly.h"
#include "slo.h"

static struct probe probes[2] = {
	{ .id = 0, .name = "lib.so:a", .err_kind = INFERLAT_ERR_NEG, .hit_cost_ns = 5000 },
	{ .id = 1, .name = "lib.so:b" },
};
static struct probe_set ps = { .v = probes, .n = 2 };

static void reset(void)
{
	memset(fake_stats, 0, sizeof(fake_stats));
	memset(fake_hists, 0, sizeof(fake_hists));
}

static void call(struct aggregator *a, uint32_t id, pid_t pid, uint64_t ns, int err)
{
	struct call_event e = { .probe_id = id, .pid = (uint32_t)pid, .tid = (uint32_t)pid,
				.duration_ns = ns, .flags = err ? INFERLAT_CALL_ERROR : 0,
				.res = { .oncpu_ns = ns / 4, .offcpu_ns = ns - ns / 4, .minflt = 2, .nvcsw = 1 } };

	fake_kernel_call(id, ns, err);
	fake_stats[id].entries++;
	fake_stats[id].oncpu_ns += e.res.oncpu_ns;
	fake_stats[id].offcpu_ns += e.res.offcpu_ns;
	fake_stats[id].minflt += e.res.minflt;
	fake_stats[id].nvcsw += e.res.nvcsw;
	assert_int_equal(agg_add(a, &e, 0), 0);
}

static char *render(const struct prom_exporter *px, uint64_t write_errors)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(prom_write(px, f, 1795000000.5, write_errors), 0);
	fclose(f);
	return buf;
}

/* The value of the sample line that starts with prefix (name and labels). */
static const char *value_of(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, prefix, n) && l[n] == ' ')
			return l + n + 1;
	return NULL;
}

static unsigned long long count_of(const char *text, const char *prefix)
{
	const char *v = value_of(text, prefix);

	assert_non_null(v);
	return strtoull(v, NULL, 10);
}

static int occurrences(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_bounds(void **state)
{
	assert_int_equal(prom_bound_ns(0), 1023);
	assert_true(prom_bound_ns(PROM_NBOUNDS - 1) > 50000000000ull);
	assert_true(prom_bound_ns(PROM_NBOUNDS - 1) <= 60000000000ull);
	for (size_t i = 0; i < PROM_NBOUNDS; i++) {
		uint64_t b = prom_bound_ns(i);

		/* the last nanosecond of an internal bucket: counts at it are exact */
		assert_int_not_equal(inferlat_hist_bucket(b), inferlat_hist_bucket(b + 1));
		assert_int_equal(hist_bucket_hi(inferlat_hist_bucket(b)), b);
		if (i)
			assert_true((double)(b + 1) / (double)(prom_bound_ns(i - 1) + 1) <= 1.2);
	}
}

static void test_cumulative_matches_count_le(void **state)
{
	static struct hist h;
	uint64_t cum[PROM_NBOUNDS], seed = 7;

	hist_reset(&h);
	for (int i = 0; i < 20000; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		/* 100 ns .. ~100 s, log-uniform */
		hist_add(&h, (uint64_t)(100.0 * pow(10, (double)(seed >> 11) / 9007199254740992.0 * 9)));
	}
	hist_add(&h, 1023);
	hist_add(&h, 1024);
	prom_cumulative(&h, cum);
	for (size_t i = 0; i < PROM_NBOUNDS; i++)
		assert_int_equal(cum[i], hist_count_le(&h, prom_bound_ns(i)));
	assert_true(cum[PROM_NBOUNDS - 1] < h.count);   /* values above 57.7 s exist */
}

static char *put_value(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	prom_put_label_value(f, s);
	fclose(f);
	return buf;
}

static void expect_label(const char *in, const char *out)
{
	char *got = put_value(in);

	assert_string_equal(got, out);
	free(got);
}

static void test_escaping(void **state)
{
	expect_label("plain", "\"plain\"");
	expect_label("a\"b\nc\\d", "\"a\\\"b\\nc\\\\d\"");
	expect_label("\"} 1\nevil_metric 1", "\"\\\"} 1\\nevil_metric 1\"");
	expect_label("tab\there", "\"tab\there\"");
	expect_label("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	expect_label("bad\xff", "\"bad\xef\xbf\xbd\"");
}

static void test_label_parse(void **state)
{
	struct prom_label l;
	char err[256];

	assert_int_equal(prom_label_parse("model=llama-3 8b", &l, err, sizeof(err)), 0);
	assert_string_equal(l.key, "model");
	assert_string_equal(l.value, "llama-3 8b");
	prom_label_free(&l);
	assert_int_equal(prom_label_parse("svc_2=a=b", &l, err, sizeof(err)), 0);
	assert_string_equal(l.value, "a=b");
	prom_label_free(&l);
	assert_int_equal(prom_label_parse("model", &l, err, sizeof(err)), -22);
	assert_int_equal(prom_label_parse("=x", &l, err, sizeof(err)), -22);
	assert_int_equal(prom_label_parse("2x=y", &l, err, sizeof(err)), -22);
	assert_int_equal(prom_label_parse("a-b=y", &l, err, sizeof(err)), -22);
	assert_int_equal(prom_label_parse("__name__=y", &l, err, sizeof(err)), -22);
	assert_non_null(strstr(err, "reserved"));
	assert_int_equal(prom_label_parse("comm=y", &l, err, sizeof(err)), -22);
	assert_non_null(strstr(err, "itself"));
	assert_int_equal(prom_label_parse("le=1", &l, err, sizeof(err)), -22);
	assert_int_equal(prom_label_parse("model=", &l, err, sizeof(err)), -22);
	assert_int_equal(prom_label_parse("model=\xff", &l, err, sizeof(err)), -22);
}

/* Two processes with one name: one label set; counters add up across
 * windows and survive the aggregator forgetting a process. */
static void test_cumulative_series(void **state)
{
	static const struct prom_label user[] = { { "model", "m\"1" } };
	struct prom_opts o = { .labels = user, .nlabels = 1, .version = "v1" };
	struct prom_exporter px;
	struct aggregator a;
	struct proctab procs;
	struct report r = { 0 };
	struct kstats k = { 0 };
	pid_t me = getpid(), parent = getppid();
	char comm[64], prefix[256], *text;

	reset();
	assert_int_equal(procfs_comm(me, comm, sizeof(comm)), 0);
	assert_int_equal(proctab_init(&procs), 0);
	assert_int_equal(agg_init(&a, &ps, &k, &procs, 0), 0);
	assert_int_equal(prom_init(&px, &ps, &o, &me, 1), 0);

	/* before any call: zero series for the known process, per probe */
	text = render(&px, 0);
	snprintf(prefix, sizeof(prefix),
		 "inferlat_call_duration_seconds_count{probe=\"lib.so:a\",comm=\"%s\",model=\"m\\\"1\"}", comm);
	assert_int_equal(count_of(text, prefix), 0);
	free(text);

	for (int i = 0; i < 10; i++)
		call(&a, 0, me, 2000, i < 3);           /* 2 us */
	fake_stats[0].rb_drops = 4;
	assert_int_equal(agg_report(&a, 2, 0, false, &r), 0);
	assert_int_equal(prom_update(&px, &a, &k, 2.0), 0);
	for (int i = 0; i < 5; i++)
		call(&a, 0, me, 3000000, 0);            /* 3 ms */
	assert_int_equal(agg_report(&a, 3, 0, false, &r), 0);
	assert_int_equal(prom_update(&px, &a, &k, 1.0), 0);

	text = render(&px, 3);
	assert_int_equal(count_of(text, prefix), 15);
	snprintf(prefix, sizeof(prefix),
		 "inferlat_call_duration_seconds_sum{probe=\"lib.so:a\",comm=\"%s\",model=\"m\\\"1\"}", comm);
	assert_int_equal(strncmp(value_of(text, prefix), "0.01502\n", 8), 0);   /* 10 x 2 us + 5 x 3 ms */
	snprintf(prefix, sizeof(prefix),
		 "inferlat_call_duration_seconds_bucket{probe=\"lib.so:a\",comm=\"%s\",model=\"m\\\"1\",le=\"0.000002047\"}",
		 comm);
	assert_int_equal(count_of(text, prefix), 10);
	snprintf(prefix, sizeof(prefix),
		 "inferlat_call_duration_seconds_bucket{probe=\"lib.so:a\",comm=\"%s\",model=\"m\\\"1\",le=\"+Inf\"}", comm);
	assert_int_equal(count_of(text, prefix), 15);
	snprintf(prefix, sizeof(prefix), "inferlat_call_errors_total{probe=\"lib.so:a\",comm=\"%s\",model=\"m\\\"1\"}", comm);
	assert_int_equal(count_of(text, prefix), 3);
	/* the time split: a quarter of each call on CPU, the rest blocked; 2 faults
	 * and one voluntary switch per call */
	snprintf(prefix, sizeof(prefix), "inferlat_call_cpu_seconds_total{probe=\"lib.so:a\",comm=\"%s\",model=\"m\\\"1\"}", comm);
	assert_int_equal(strncmp(value_of(text, prefix), "0.003755\n", 9), 0);   /* (10 x 2 us + 5 x 3 ms) / 4 */
	snprintf(prefix, sizeof(prefix), "inferlat_call_offcpu_seconds_total{probe=\"lib.so:a\",comm=\"%s\",model=\"m\\\"1\"}", comm);
	assert_int_equal(strncmp(value_of(text, prefix), "0.011265\n", 9), 0);
	snprintf(prefix, sizeof(prefix), "inferlat_call_page_faults_total{probe=\"lib.so:a\",comm=\"%s\",model=\"m\\\"1\"}", comm);
	assert_int_equal(count_of(text, prefix), 30);
	snprintf(prefix, sizeof(prefix), "inferlat_call_voluntary_context_switches_total{probe=\"lib.so:a\",comm=\"%s\",model=\"m\\\"1\"}", comm);
	assert_int_equal(count_of(text, prefix), 15);
	/* the process itself: pid and comm labels, RSS > 0 */
	snprintf(prefix, sizeof(prefix), "inferlat_process_resident_memory_bytes{pid=\"%d\",comm=\"%s\",model=\"m\\\"1\"}", (int)me, comm);
	assert_true(count_of(text, prefix) > 0);
	/* probe b has no error predicate: no errors series at all */
	assert_null(strstr(text, "inferlat_call_errors_total{probe=\"lib.so:b\""));
	assert_int_equal(count_of(text, "inferlat_probe_hits_total{probe=\"lib.so:a\",model=\"m\\\"1\"}"), 15);
	assert_int_equal(count_of(text, "inferlat_events_lost_total{model=\"m\\\"1\"}"), 4);
	assert_int_equal(count_of(text, "inferlat_textfile_write_errors_total{model=\"m\\\"1\"}"), 3);
	/* 15 hits x 5 us; only a has a measured cost */
	assert_int_equal(strncmp(value_of(text, "inferlat_probe_overhead_seconds_total{probe=\"lib.so:a\","
					      "model=\"m\\\"1\"}"), "0.000075\n", 9), 0);
	assert_null(strstr(text, "inferlat_probe_overhead_seconds_total{probe=\"lib.so:b\""));
	/* last window: 5 hits x 5 us over 1 s */
	assert_int_equal(strncmp(value_of(text, "inferlat_overhead_ratio{model=\"m\\\"1\"}"), "2.5000000000000001e-05\n", 22), 0);
	assert_int_equal(strncmp(value_of(text, "inferlat_last_update_timestamp_seconds{model=\"m\\\"1\"}"),
				 "1795000000.500\n", 15), 0);
	assert_non_null(strstr(text, "inferlat_build_info{model=\"m\\\"1\",version=\"v1\"} 1\n"));
	/* each family announced once */
	assert_int_equal(occurrences(text, "# TYPE inferlat_call_duration_seconds histogram\n"), 1);
	assert_int_equal(occurrences(text, "# HELP inferlat_call_duration_seconds "), 1);
	free(text);

	/* the aggregator forgets the process (it exited); a new one with the
	 * same name takes over: the label set keeps counting from 15 */
	agg_free(&a);
	proctab_free(&procs);
	/* a fresh aggregator would take the earlier drops for this window's */
	fake_stats[0].rb_drops = 0;
	assert_int_equal(proctab_init(&procs), 0);
	assert_int_equal(agg_init(&a, &ps, &k, &procs, 3), 0);
	for (int i = 0; i < 4; i++)
		call(&a, 0, parent, 2000, 0);
	assert_int_equal(agg_report(&a, 4, 0, false, &r), 0);
	assert_int_equal(prom_update(&px, &a, &k, 1.0), 0);
	text = render(&px, 0);
	assert_int_equal(procfs_comm(parent, comm, sizeof(comm)), 0);
	snprintf(prefix, sizeof(prefix),
		 "inferlat_call_duration_seconds_count{probe=\"lib.so:a\",comm=\"%s\",model=\"m\\\"1\"}", comm);
	{
		char mine[64];

		assert_int_equal(procfs_comm(me, mine, sizeof(mine)), 0);
		/* same name: one series of 19; another name: its own series of 4 */
		assert_int_equal(count_of(text, prefix), strcmp(mine, comm) ? 4 : 19);
	}
	free(text);
	agg_free(&a);
	proctab_free(&procs);
	report_free(&r);
	prom_free(&px);
}

/* --pid-label: one series per process; no timestamps on any sample. */
static void test_pid_label_and_no_timestamps(void **state)
{
	struct prom_opts o = { .pid_label = true };
	struct prom_exporter px;
	struct aggregator a;
	struct proctab procs;
	struct report r = { 0 };
	struct kstats k = { 0 };
	pid_t me = getpid(), parent = getppid();
	char prefix[256], comm[64], *text, *line;

	reset();
	probes[0].hit_cost_ns = 0;    /* as with --raw-durations: nothing measured */
	assert_int_equal(proctab_init(&procs), 0);
	assert_int_equal(agg_init(&a, &ps, &k, &procs, 0), 0);
	assert_int_equal(prom_init(&px, &ps, &o, NULL, 0), 0);
	call(&a, 1, me, 1000, 0);
	call(&a, 1, parent, 1000, 0);
	call(&a, 1, parent, 1000, 0);
	assert_int_equal(agg_report(&a, 1, 0, false, &r), 0);
	assert_int_equal(prom_update(&px, &a, &k, 1.0), 0);
	text = render(&px, 0);
	assert_int_equal(procfs_comm(parent, comm, sizeof(comm)), 0);
	snprintf(prefix, sizeof(prefix),
		 "inferlat_call_duration_seconds_count{probe=\"lib.so:b\",comm=\"%s\",pid=\"%d\"}", comm, (int)parent);
	assert_int_equal(count_of(text, prefix), 2);
	/* no measured cost: no overhead families */
	assert_null(strstr(text, "inferlat_overhead_ratio"));
	assert_null(strstr(text, "inferlat_probe_hit_cost_seconds"));
	probes[0].hit_cost_ns = 5000;
	/* "name{labels} value": one space outside the label values, no third field */
	for (line = text; *line; line = strchr(line, '\n') + 1) {
		const char *close = strrchr(line, '}');
		const char *end = strchr(line, '\n');

		if (*line == '#')
			continue;
		if (!close || close > end)
			close = line;
		assert_null(memchr(strchr(close, ' ') + 1, ' ', (size_t)(end - strchr(close, ' ') - 1)));
	}
	free(text);
	agg_free(&a);
	proctab_free(&procs);
	report_free(&r);
	prom_free(&px);
}

/* The checks' counters: windows that broke each --slo, windows flagged as
 * anomalous per probe and metric. */
static void test_check_counters(void **state)
{
	struct slo v[2];
	struct slo_set ss;
	struct anomaly_detector d;
	struct prom_opts o = { 0 };
	struct prom_exporter px;
	char err[256], *text;

	assert_int_equal(slo_parse("p99<50ms", &v[0], err, sizeof(err)), 0);
	assert_int_equal(slo_parse("b:errors<1%", &v[1], err, sizeof(err)), 0);
	assert_int_equal(slo_set_init(&ss, v, 2), 0);
	ss.violations[0] = 3;
	anomaly_init(&d);
	d.p99_count = calloc(2, sizeof(uint64_t));
	d.err_count = calloc(2, sizeof(uint64_t));
	d.nprobes = 2;
	d.p99_count[1] = 4;
	d.err_count[1] = 2;
	o.slos = &ss;
	o.anomalies = &d;
	reset();
	assert_int_equal(prom_init(&px, &ps, &o, NULL, 0), 0);
	text = render(&px, 0);
	assert_int_equal(count_of(text, "inferlat_slo_violations_total{slo=\"p99<50ms\"}"), 3);
	assert_int_equal(count_of(text, "inferlat_slo_violations_total{slo=\"b:errors<1%\"}"), 0);
	assert_int_equal(count_of(text, "inferlat_anomalies_total{probe=\"lib.so:b\",metric=\"p99\"}"), 4);
	assert_int_equal(count_of(text, "inferlat_anomalies_total{probe=\"lib.so:a\",metric=\"p99\"}"), 0);
	/* an error rate only for probes with -E */
	assert_int_equal(count_of(text, "inferlat_anomalies_total{probe=\"lib.so:a\",metric=\"error_rate\"}"), 0);
	assert_null(value_of(text, "inferlat_anomalies_total{probe=\"lib.so:b\",metric=\"error_rate\"}"));
	assert_non_null(strstr(text, "# TYPE inferlat_slo_violations_total counter\n"));
	assert_non_null(strstr(text, "# TYPE inferlat_anomalies_total counter\n"));
	free(text);
	prom_free(&px);
	anomaly_free(&d);
	slo_set_free(&ss);
	slo_free(&v[0]);
	slo_free(&v[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_cumulative_matches_count_le),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_label_parse),
		cmocka_unit_test(test_cumulative_series),
		cmocka_unit_test(test_pid_label_and_no_timestamps),
		cmocka_unit_test(test_check_counters),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("prom", tests, NULL, NULL);
}
