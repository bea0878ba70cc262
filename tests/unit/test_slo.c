// SPDX-License-Identifier: GPL-2.0
/* SLO expressions (--slo): a table of good and bad forms, and judging rows. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "slo.h"

static const struct {
	const char *text;
	const char *probe;       /* NULL: every probe */
	enum slo_metric metric;
	bool below, inclusive;
	double limit;
} good[] = {
	{ "llama_decode:p99<50ms", "llama_decode", SLO_P99, true, false, 0.05 },
	{ "p99.9<200ms", NULL, SLO_P999, true, false, 0.2 },
	{ "p999<200ms", NULL, SLO_P999, true, false, 0.2 },
	{ "errors<1%", NULL, SLO_ERRORS, true, false, 0.01 },
	{ "errors<=0.5%", NULL, SLO_ERRORS, true, true, 0.005 },
	{ "rps>10", NULL, SLO_RPS, false, false, 10 },
	{ "rps >= 2.5", NULL, SLO_RPS, false, true, 2.5 },
	{ "p50<800ns", NULL, SLO_P50, true, false, 800e-9 },
	{ "p90<250us", NULL, SLO_P90, true, false, 250e-6 },
	{ "mean<1.5s", NULL, SLO_MEAN, true, false, 1.5 },
	{ "max<2s", NULL, SLO_MAX, true, false, 2 },
	{ "libinfer.so:infer_run:p99<5ms", "libinfer.so:infer_run", SLO_P99, true, false, 0.005 },
	{ "libllama*.so:*decode*:p99<50ms", "libllama*.so:*decode*", SLO_P99, true, false, 0.05 },
	{ "at::_ops::addmm::call:p99<5ms", "at::_ops::addmm::call", SLO_P99, true, false, 0.005 },
	{ " llama_decode : p99 < 50ms ", "llama_decode", SLO_P99, true, false, 0.05 },
};

static const char *const bad[] = {
	"", "p99", "p99=50ms", "p99<", "<50ms", "p99<50", "p99<50xs", "p99<-1ms", "p99<nan",
	"p95<50ms", "latency<50ms", "errors<1", "errors<101%", "errors<-1%", "rps>10/s", "rps>",
	"rps>abc", ":p99<50ms", "p99<<50ms", "p99<50ms>1ms", "p99<inf", "errors<1%%",
};

static void test_good_forms(void **state)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct slo s;
		char err[256] = "";

		assert_int_equal(slo_parse(good[i].text, &s, err, sizeof(err)), 0);
		assert_string_equal(s.text, good[i].text);
		if (good[i].probe)
			assert_string_equal(s.probe, good[i].probe);
		else
			assert_null(s.probe);
		assert_int_equal(s.metric, good[i].metric);
		assert_int_equal(s.below, good[i].below);
		assert_int_equal(s.inclusive, good[i].inclusive);
		assert_true(s.limit > good[i].limit * (1 - 1e-12) && s.limit < good[i].limit * (1 + 1e-12));
		slo_free(&s);
	}
}

static void test_bad_forms(void **state)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct slo s;
		char err[512] = "";

		if (slo_parse(bad[i], &s, err, sizeof(err)) != -22)
			fail_msg("'%s' was accepted", bad[i]);
		/* one line that names the option and the expression */
		assert_non_null(strstr(err, "--slo"));
		assert_null(strchr(err, '\n'));
	}
}

static struct probe probes[] = {
	{ .id = 0, .name = "libllama.so:llama_decode", .symbol = "llama_decode" },
	{ .id = 1, .name = "libllama.so:llama_encode", .symbol = "llama_encode" },
	{ .id = 2, .name = "libtorch_cpu.so:at::_ops::addmm::call(at::Tensor const&)",
	  .symbol = "at::_ops::addmm::call(at::Tensor const&)" },
};

static void test_matching(void **state)
{
	struct slo s;
	char err[256];

	assert_int_equal(slo_parse("llama_decode:p99<50ms", &s, err, sizeof(err)), 0);
	assert_true(slo_matches(&s, &probes[0]));
	assert_false(slo_matches(&s, &probes[1]));
	slo_free(&s);
	assert_int_equal(slo_parse("libllama.so:*:p99<50ms", &s, err, sizeof(err)), 0);
	assert_true(slo_matches(&s, &probes[0]) && slo_matches(&s, &probes[1]));
	slo_free(&s);
	assert_int_equal(slo_parse("p99<50ms", &s, err, sizeof(err)), 0);
	assert_true(slo_matches(&s, &probes[0]) && slo_matches(&s, &probes[1]));
	slo_free(&s);
	/* C++: with or without the parameters, as -e matches */
	assert_int_equal(slo_parse("at::_ops::addmm::call:p99<5ms", &s, err, sizeof(err)), 0);
	assert_true(slo_matches(&s, &probes[2]));
	assert_false(slo_matches(&s, &probes[0]));
	slo_free(&s);
	assert_int_equal(slo_parse("at::_ops::*::call(*):p99<5ms", &s, err, sizeof(err)), 0);
	assert_true(slo_matches(&s, &probes[2]));
	slo_free(&s);
}

static void test_limits_are_strict_or_inclusive(void **state)
{
	struct slo s;
	char err[256];

	assert_int_equal(slo_parse("p99<50ms", &s, err, sizeof(err)), 0);
	assert_true(slo_met(&s, 0.0499));
	assert_false(slo_met(&s, 0.05));
	slo_free(&s);
	assert_int_equal(slo_parse("p99<=50ms", &s, err, sizeof(err)), 0);
	assert_true(slo_met(&s, 0.05));
	slo_free(&s);
	assert_int_equal(slo_parse("rps>10", &s, err, sizeof(err)), 0);
	assert_false(slo_met(&s, 10));
	assert_true(slo_met(&s, 10.5));
	slo_free(&s);
}

/* Two windows and a final report of two probes: the counts and verdicts. */
static void test_judging(void **state)
{
	struct slo v[3];
	struct slo_set ss;
	struct report r = { 0 };
	struct row *a, *b;
	char err[256];

	assert_int_equal(slo_parse("llama_decode:p99<50ms", &v[0], err, sizeof(err)), 0);
	assert_int_equal(slo_parse("errors<1%", &v[1], err, sizeof(err)), 0);
	assert_int_equal(slo_parse("rps>10", &v[2], err, sizeof(err)), 0);
	assert_int_equal(slo_set_init(&ss, v, 3), 0);

	/* window 1: decode p99 61 ms (broken), 2 errors in 100 (broken), 100/s */
	a = report_add(&r);
	*a = (struct row){ .probe = &probes[0], .pid = 7, .calls = 100, .errors = 2, .rps = 100,
			   .has_latency = true, .lat = { .p99 = 0.061 } };
	b = report_add(&r);
	*b = (struct row){ .probe = &probes[1], .pid = 7 };   /* idle */
	assert_int_equal(slo_judge(&ss, &r), 0);
	/* decode: p99, errors, rps; encode: rps only (idle: latency and errors not judged) */
	assert_int_equal(r.nslo, 4);
	assert_false(r.slo[0].ok);
	assert_true(r.slo[0].value == 0.061);
	assert_int_equal(ss.violations[0], 1);
	assert_int_equal(ss.violations[1], 1);
	assert_int_equal(ss.violations[2], 1);   /* encode: 0 calls/s */

	/* window 2: all good on decode, encode still idle */
	report_clear(&r);
	a = report_add(&r);
	*a = (struct row){ .probe = &probes[0], .pid = 7, .calls = 200, .errors = 1, .rps = 200,
			   .has_latency = true, .lat = { .p99 = 0.030 } };
	assert_int_equal(slo_judge(&ss, &r), 0);
	assert_int_equal(ss.violations[0], 1);
	assert_int_equal(ss.violations[1], 1);
	assert_int_equal(ss.violations[2], 1);

	/* whole run: decode p99 49 ms; 3 errors in 300 is 1%, not below it */
	report_clear(&r);
	r.final = true;
	a = report_add(&r);
	*a = (struct row){ .probe = &probes[0], .pid = 7, .calls = 300, .errors = 3, .rps = 150,
			   .has_latency = true, .lat = { .p99 = 0.049 } };
	assert_int_equal(slo_judge(&ss, &r), 0);
	assert_false(ss.run_failed[0]);
	assert_true(ss.run_failed[1]);
	assert_false(ss.run_failed[2]);
	assert_true(slo_any_failed(&ss));

	/* whole run, encode never called: judged on decode alone */
	report_clear(&r);
	r.final = true;
	a = report_add(&r);
	*a = (struct row){ .probe = &probes[0], .pid = 7, .calls = 300, .errors = 0, .rps = 150,
			   .has_latency = true, .lat = { .p99 = 0.049 } };
	b = report_add(&r);
	*b = (struct row){ .probe = &probes[1], .pid = 7 };
	assert_int_equal(slo_judge(&ss, &r), 0);
	assert_false(ss.run_failed[1]);
	for (size_t k = 0; k < r.nslo; k++)
		assert_true(r.slo[k].row == 0 || r.slo[k].slo == 2);   /* encode: rps only */

	/* a whole run without a call shows no latency SLO met */
	report_clear(&r);
	a = report_add(&r);
	*a = (struct row){ .probe = &probes[0], .pid = 7 };
	assert_int_equal(slo_judge(&ss, &r), 0);
	assert_true(ss.run_failed[0]);
	assert_false(r.slo[0].has_value);

	report_free(&r);
	slo_set_free(&ss);
	for (int i = 0; i < 3; i++)
		slo_free(&v[i]);
}

static void test_http_checks(void **state)
{
	struct slo v[3], bad;
	struct slo_set ss;
	struct report r = { 0 };
	struct row *a;
	char err[256];

	assert_int_equal(slo_parse("http:p99<2s", &v[0], err, sizeof(err)), 0);
	assert_true(v[0].http && !v[0].ttft && !v[0].probe && v[0].metric == SLO_P99 && v[0].limit == 2);
	assert_int_equal(slo_parse("http:ttft_p99<500ms", &v[1], err, sizeof(err)), 0);
	assert_true(v[1].http && v[1].ttft && v[1].metric == SLO_P99 && v[1].limit == 0.5);
	assert_int_equal(slo_parse("http:errors<1%", &v[2], err, sizeof(err)), 0);
	assert_true(v[2].http && v[2].metric == SLO_ERRORS);
	assert_int_equal(slo_parse("http:ttft_errors<1%", &bad, err, sizeof(err)), -22);
	assert_non_null(strstr(err, "ttft_"));
	assert_int_equal(slo_parse("http:ttft_p95<1s", &bad, err, sizeof(err)), -22);
	assert_false(slo_matches(&v[0], &probes[0]));
	assert_int_equal(slo_set_init(&ss, v, 3), 0);

	/* a probe row is not judged by them; the request row is */
	a = report_add(&r);
	*a = (struct row){ .probe = &probes[0], .pid = 7, .calls = 100, .rps = 100, .has_latency = true,
			   .lat = { .p99 = 9 } };
	r.http = calloc(1, sizeof(*r.http));
	assert_non_null(r.http);
	r.nhttp = r.caphttp = 1;
	r.http[0] = (struct http_row){ .pid = 7, .port = 80, .method = "POST", .route = "/c", .requests = 100,
				       .aborted = 1, .errors = 3, .duration = { .p99 = 1.5 },
				       .first_chunk = { .p99 = 0.6 }, .n_first_chunk = 99 };
	assert_int_equal(slo_judge(&ss, &r), 0);
	assert_int_equal(r.nslo, 3);
	for (size_t k = 0; k < r.nslo; k++)
		assert_true(r.slo[k].http && r.slo[k].row == 0);
	assert_true(r.slo[0].ok && r.slo[0].value == 1.5);
	assert_true(!r.slo[1].ok && r.slo[1].value == 0.6);
	assert_true(!r.slo[2].ok && r.slo[2].value == 0.03);
	assert_int_equal(ss.violations[0], 0);
	assert_int_equal(ss.violations[1], 1);
	/* a run without requests shows no request SLO met */
	report_clear(&r);
	r.nhttp = 0;
	r.final = true;
	assert_int_equal(slo_judge(&ss, &r), 0);
	assert_true(ss.run_failed[0] && ss.run_failed[1] && ss.run_failed[2]);
	report_free(&r);
	slo_set_free(&ss);
	for (int i = 0; i < 3; i++)
		slo_free(&v[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_forms),
		cmocka_unit_test(test_bad_forms),
		cmocka_unit_test(test_matching),
		cmocka_unit_test(test_limits_are_strict_or_inclusive),
		cmocka_unit_test(test_judging),
		cmocka_unit_test(test_http_checks),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("slo", tests, NULL, NULL);
}
