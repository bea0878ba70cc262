// SPDX-License-Identifier: GPL-2.0
/* Baseline statistics: Mann-Whitney U from buckets, intervals, verdicts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>
#include "compare.h"

static void fill(struct hist *h, const uint64_t *v, size_t n)
{
	hist_reset(h);
	for (size_t i = 0; i < n; i++)
		hist_add(h, v[i]);
}

/* The textbook case: two samples apart. Normal approximation with continuity
 * correction: U 25, z 2.5067, p 0.01219 (as scipy's asymptotic method). */
static void test_separated_samples(void **state)
{
	uint64_t base[] = { 1, 2, 3, 4, 5 }, cur[] = { 6, 7, 8, 9, 10 };
	struct hist b, c;
	struct comparison r;

	fill(&b, base, 5);
	fill(&c, cur, 5);
	compare_hists(&b, &c, 0.05, &r);
	assert_true(r.u == 25);
	assert_true(fabs(r.z - 2.5067) < 1e-4);
	assert_true(fabs(r.p - 0.01219) < 1e-4);
	assert_true(r.a12 == 1 && r.rank_biserial == 1);
	/* p 0.012 is above alpha 0.01: not enough evidence with 5 calls each */
	assert_int_equal(r.verdict, VERDICT_UNCHANGED);
}

/* U and the tie-corrected variance from buckets against counting pairs,
 * on small values (one bucket each, so every tie is a real tie). */
static void test_ties_against_pairs(void **state)
{
	uint64_t base[] = { 3, 5, 5, 7, 7, 7, 9, 12, 12, 15 }, cur[] = { 5, 7, 9, 9, 12, 15, 15, 20 };
	size_t n1 = 10, n2 = 8;
	double u = 0, ties = 0, N = (double)(n1 + n2), var, z;
	struct hist b, c;
	struct comparison r;

	for (size_t i = 0; i < n2; i++)
		for (size_t j = 0; j < n1; j++)
			u += cur[i] > base[j] ? 1 : cur[i] == base[j] ? 0.5 : 0;
	for (uint64_t v = 0; v <= 20; v++) {
		double t = 0;

		for (size_t j = 0; j < n1; j++)
			t += base[j] == v;
		for (size_t i = 0; i < n2; i++)
			t += cur[i] == v;
		ties += t * t * t - t;
	}
	var = (double)(n1 * n2) / 12 * ((N + 1) - ties / (N * (N - 1)));
	z = (u - n1 * n2 / 2.0 - 0.5) / sqrt(var);
	fill(&b, base, n1);
	fill(&c, cur, n2);
	compare_hists(&b, &c, 0.05, &r);
	assert_true(fabs(r.u - u) < 1e-9);
	assert_true(fabs(r.z - z) < 1e-9);
	assert_true(fabs(r.a12 - u / (n1 * n2)) < 1e-12);
}

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

/* n calls around 5 ms, +-10% uniform, scaled by factor */
static void sample(struct hist *h, size_t n, double factor, uint64_t seed)
{
	hist_reset(h);
	for (size_t i = 0; i < n; i++) {
		double u = (double)(lcg(&seed) % 100000) / 100000.0;

		hist_add(h, (uint64_t)(5e6 * (0.9 + 0.2 * u) * factor));
	}
}

static void test_verdicts(void **state)
{
	struct hist b, c;
	struct comparison r;

	sample(&b, 500, 1, 1);
	sample(&c, 500, 1, 2);
	compare_hists(&b, &c, 0.05, &r);
	assert_int_equal(r.verdict, VERDICT_UNCHANGED);
	assert_true(fabs(r.p50.change) < 0.03);
	/* the intervals hold the true change (0) */
	assert_true(r.p50.change_lo <= 0 && r.p50.change_hi >= 0);
	assert_true(r.mean.change_lo <= 0 && r.mean.change_hi >= 0);

	sample(&c, 500, 1.10, 3);
	compare_hists(&b, &c, 0.05, &r);
	assert_int_equal(r.verdict, VERDICT_REGRESSED);
	assert_true(r.p < 1e-6 && r.a12 > 0.7);
	assert_true(r.p50.change > 0.08 && r.p50.change < 0.12);
	assert_true(r.p50.change_lo <= 0.10 && r.p50.change_hi >= 0.10);
	assert_true(r.mean.change_lo <= 0.10 && r.mean.change_hi >= 0.10);

	/* significant, but 3% is under the 5% threshold */
	sample(&b, 20000, 1, 4);
	sample(&c, 20000, 1.03, 5);
	compare_hists(&b, &c, 0.05, &r);
	assert_true(r.p < COMPARE_ALPHA);
	assert_int_equal(r.verdict, VERDICT_UNCHANGED);
	compare_hists(&b, &c, 0.02, &r);
	assert_int_equal(r.verdict, VERDICT_REGRESSED);

	sample(&c, 500, 0.85, 6);
	compare_hists(&b, &c, 0.05, &r);
	assert_int_equal(r.verdict, VERDICT_IMPROVED);
	assert_true(r.a12 < 0.2);

	/* everything in one bucket on both sides: no evidence */
	hist_reset(&b);
	hist_reset(&c);
	hist_add(&b, 5000000);
	hist_add(&b, 5000000);
	hist_add(&c, 5000001);
	compare_hists(&b, &c, 0.05, &r);
	assert_true(r.p == 1);
	assert_int_equal(r.verdict, VERDICT_UNCHANGED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_separated_samples),
		cmocka_unit_test(test_ties_against_pairs),
		cmocka_unit_test(test_verdicts),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("compare", tests, NULL, NULL);
}
