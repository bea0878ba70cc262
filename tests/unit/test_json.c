// SPDX-License-Identifier: GPL-2.0
/* JSON output: escaping of hostile strings, and the window record's shape. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "json.h"
#include "slo.h"

static char *render(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	json_put_str(f, s);
	fclose(f);
	return buf;
}

static void expect(const char *in, const char *out)
{
	char *got = render(in);

	assert_string_equal(got, out);
	free(got);
}

static void test_escapes(void **state)
{
	expect("plain", "\"plain\"");
	expect("a\"b\\c", "\"a\\\"b\\\\c\"");
	expect("a\nb\rc\td", "\"a\\nb\\rc\\td\"");
	expect("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	expect("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

static void test_invalid_utf8(void **state)
{
	expect("\xff", "\"\\ufffd\"");
	expect("a\xc3", "\"a\\ufffd\"");            /* truncated sequence */
	expect("\xc0\xaf", "\"\\ufffd\\ufffd\"");   /* overlong '/' */
	expect("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
	expect("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
}

static void test_record_shape(void **state)
{
	struct probe p = { .name = "libx.so:f\"n", .runtime = "llama.cpp" };
	struct proc_info proc = { .pid = 42, .has_cpu = true, .cpu_cores = 1.5, .cpu_s = 3,
				  .rss_bytes = 1048576, .threads = 4 };
	struct row row = {
		.probe = &p, .pid = 42, .comm = "srv", .calls = 3, .errors = 1, .rps = 3,
		.has_latency = true, .lat = { .mean = 0.002, .min = 0.001, .p50 = 0.002, .p90 = 0.003,
					      .p99 = 0.003, .p999 = 0.003, .max = 0.003 },
		.res = { .oncpu_ns = 1500000, .offcpu_ns = 4500000, .minflt = 5, .majflt = 1, .nvcsw = 3 },
		.unsplit = 1, .proc = &proc,
	};
	struct row empty = { .probe = &p };
	struct report r = { .ts = 1795000000.25, .span_s = 1, .rows = &row, .n = 1 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(json_write_report(f, &r), 0);
	r.rows = &empty;
	r.final = true;
	assert_int_equal(json_write_report(f, &r), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\"ts\": 1795000000.250, \"window_s\": 1, \"final\": false, \"pid\": 42, "
				    "\"comm\": \"srv\", \"runtime\": \"llama.cpp\", \"probe\": \"libx.so:f\\\"n\", "
				    "\"calls\": 3, \"rps\": 3, \"errors\": 1"));
	assert_non_null(strstr(buf, "\"latency_s\": {\"mean\": 0.002, \"min\": 0.001, \"p50\": 0.002, "
				    "\"p90\": 0.003, \"p99\": 0.003, \"p999\": 0.003, \"max\": 0.003}, "
				    "\"cpu_s\": 0.0015, \"offcpu_s\": 0.0045, \"runqueue_s\": 0, \"page_faults\": 6, "
				    "\"major_page_faults\": 1, \"voluntary_switches\": 3, \"involuntary_switches\": 0, "
				    "\"unsplit_calls\": 1, "
				    /* means over the 2 calls with a split; faults over all 3 */
				    "\"per_call\": {\"cpu_s\": 0.00075, \"offcpu_s\": 0.00225, \"runqueue_s\": 0, "
				    "\"page_faults\": 2}, "
				    "\"process\": {\"cpu_cores\": 1.5, \"cpu_s\": 3, \"rss_bytes\": 1048576, "
				    "\"threads\": 4}}\n"));
	/* the second line: no pid, comm or latency that nobody knows */
	char *second = strchr(buf, '\n') + 1;

	assert_non_null(strstr(second, "\"final\": true"));
	assert_null(strstr(second, "\"pid\""));
	assert_null(strstr(second, "\"comm\""));
	assert_null(strstr(second, "latency_s"));
	free(buf);
}

/* The checks a window record carries: SLO verdicts and anomalies. */
static void test_checks_shape(void **state)
{
	struct probe p = { .name = "libx.so:f", .symbol = "f" };
	struct slo v[2];
	struct slo_set ss;
	struct row row = { .probe = &p, .pid = 7, .calls = 100, .errors = 3, .rps = 100,
			   .has_latency = true, .lat = { .p99 = 0.061 } };
	struct report r = { .ts = 1795000000.25, .span_s = 1 };
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(slo_parse("f:p99<50ms", &v[0], err, sizeof(err)), 0);
	assert_int_equal(slo_parse("errors<5%", &v[1], err, sizeof(err)), 0);
	assert_int_equal(slo_set_init(&ss, v, 2), 0);
	row.anomaly.p99 = (struct anomaly_flag){ .on = true, .value = 0.061, .median = 0.01,
						 .threshold = 0.015 };
	*report_add(&r) = row;
	assert_int_equal(slo_judge(&ss, &r), 0);
	assert_int_equal(json_write_report(f, &r), 0);
	fclose(f);
	assert_non_null(strstr(buf, ", \"slo\": [{\"slo\": \"f:p99<50ms\", \"metric\": \"p99\", "
				    "\"value\": 0.061, \"limit\": 0.05, \"ok\": false}, {\"slo\": \"errors<5%\", "
				    "\"metric\": \"errors\", \"value\": 0.03, \"limit\": 0.05, \"ok\": true}], "
				    "\"anomaly\": {\"p99\": {\"value\": 0.061, \"median\": 0.01, "
				    "\"threshold\": 0.015}}}\n"));
	free(buf);
	report_free(&r);
	slo_set_free(&ss);
	slo_free(&v[0]);
	slo_free(&v[1]);
}

static void test_comparison_shape(void **state)
{
	struct probe_comparison pc[2] = {
		{ .probe = "libx.so:f", .c = { .n_base = 200, .n_cur = 210, .verdict = VERDICT_REGRESSED,
			.p50 = { .base = 0.005, .cur = 0.0055, .base_lo = 0.0049, .base_hi = 0.0051,
				 .cur_lo = 0.0054, .cur_hi = 0.0056, .change = 0.1, .change_lo = 0.06,
				 .change_hi = 0.14 },
			.u = 40000.5, .z = 12.25, .p = 1e-30, .a12 = 0.95, .rank_biserial = 0.9 } },
		{ .probe = "libx.so:g", .c = { .n_base = 0, .n_cur = 10 } },
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(json_write_comparisons(f, "base.json", pc, 2), 0);
	fclose(f);
	assert_non_null(strstr(buf, "{\"type\": \"baseline\", \"baseline\": \"base.json\", \"probe\": "
				    "\"libx.so:f\", \"verdict\": \"regressed\", \"calls\": 210, "
				    "\"baseline_calls\": 200, \"p50\": {\"baseline\": 0.005, \"current\": 0.0055, "
				    "\"baseline_ci\": [0.0049, 0.0051], \"current_ci\": [0.0054, 0.0056], "
				    "\"change\": 0.1, \"change_ci\": [0.06, 0.14]}"));
	assert_non_null(strstr(buf, "\"mann_whitney\": {\"u\": 40000.5, \"z\": 12.2500, \"p\": 1e-30}, "
				    "\"effect\": {\"a12\": 0.9500, \"rank_biserial\": 0.9000}}\n"));
	/* a probe without calls on one side: the counts, no figures */
	assert_non_null(strstr(buf, "\"probe\": \"libx.so:g\", \"verdict\": \"no_calls\", "
				    "\"calls\": 10, \"baseline_calls\": 0}\n"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_record_shape),
		cmocka_unit_test(test_checks_shape),
		cmocka_unit_test(test_comparison_shape),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
