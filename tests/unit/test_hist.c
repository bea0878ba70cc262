// SPDX-License-Identifier: GPL-2.0
/* Bucket math shared with the BPF side, and percentile extraction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>
#include <cmocka.h>
#include "hist.h"

static void test_log2(void **state)
{
	for (int e = 0; e < 64; e++) {
		uint64_t v = 1ull << e;

		assert_int_equal(inferlat_log2(v), e);
		if (e > 0)
			assert_int_equal(inferlat_log2(v - 1), e - 1 + (v - 1 == 0));
		assert_int_equal(inferlat_log2(v | (v >> 1)), e);
	}
}

/* Every value falls in the bucket whose bounds hold it, buckets are
 * contiguous, and no bucket is wider than 1/128 of its lower bound. */
static void test_bucket_bounds(void **state)
{
	for (uint32_t i = 0; i + 1 < INFERLAT_HIST_BUCKETS; i++) {
		uint64_t lo = hist_bucket_lo(i), hi = hist_bucket_hi(i);

		assert_true(lo <= hi);
		assert_int_equal(hist_bucket_lo(i + 1), hi + 1);
		assert_int_equal(inferlat_hist_bucket(lo), i);
		assert_int_equal(inferlat_hist_bucket(hi), i);
		if (lo >= 2 * INFERLAT_HIST_SUB)
			assert_true((double)(hi - lo + 1) / (double)lo <= 1.0 / 128 + 1e-12);
	}
	assert_int_equal(inferlat_hist_bucket(0), 0);
	assert_int_equal(inferlat_hist_bucket(255), 255);
	assert_int_equal(inferlat_hist_bucket(256), 256);
	/* beyond 2^36 ns everything lands in the last bucket */
	assert_int_equal(inferlat_hist_bucket(1ull << 36), INFERLAT_HIST_BUCKETS - 1);
	assert_int_equal(inferlat_hist_bucket(UINT64_MAX), INFERLAT_HIST_BUCKETS - 1);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Reported quantiles are within half a bucket (0.39%) of the exact
 * nearest-rank quantile, over distributions spanning ns to minutes. */
static void test_quantiles_vs_exact(void **state)
{
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999 };
	enum { N = 20000 };
	uint64_t *v = malloc(N * sizeof(*v));
	struct hist *h = malloc(sizeof(*h));
	uint64_t seed = 42;

	for (int dist = 0; dist < 3; dist++) {
		hist_reset(h);
		for (int i = 0; i < N; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			double u = ((double)(seed >> 11) + 0.5) / 9007199254740992.0;

			if (dist == 0)
				v[i] = 1000 + (uint64_t)(u * 1e6);                  /* uniform 1us..1ms */
			else if (dist == 1)
				v[i] = (uint64_t)(2e6 * exp(1.5 * (u - 0.5) * 4));  /* log-spread around 2ms */
			else
				v[i] = u < 0.95 ? 50000 + (uint64_t)(u * 1000) : 40000000000ull; /* bimodal, 40s tail */
			hist_add(h, v[i]);
		}
		qsort(v, N, sizeof(*v), cmp_u64);
		for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
			uint64_t exact = v[(size_t)ceil(qs[k] * N) - 1];
			double got = hist_quantile_ns(h, qs[k]);

			assert_true(fabs(got - (double)exact) <= (double)exact * 0.0040 + 1);
		}
		assert_int_equal(h->min_ns, v[0]);
		assert_int_equal(h->max_ns, v[N - 1]);
		assert_true(hist_quantile_ns(h, 1.0) == (double)v[N - 1]);
	}
	free(v);
	free(h);
}

static void test_empty_and_single(void **state)
{
	struct hist *h = malloc(sizeof(*h));

	hist_reset(h);
	assert_true(hist_quantile_ns(h, 0.5) == 0);
	hist_add(h, 123456789);
	/* one value: every quantile is that value (clamped to min/max) */
	assert_true(hist_quantile_ns(h, 0.5) == 123456789.0);
	assert_true(hist_quantile_ns(h, 0.999) == 123456789.0);
	free(h);
}

/* A kernel snapshot delta rebuilds the same distribution. */
static void test_from_buckets_and_merge(void **state)
{
	struct hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)), *c = malloc(sizeof(*c));

	hist_reset(a);
	hist_reset(b);
	for (uint64_t v = 1000; v < 5000000; v = v * 11 / 10) {
		hist_add(a, v);
		hist_add(b, v * 3);
	}
	hist_from_buckets(c, a->b, a->sum_ns);
	assert_int_equal(c->count, a->count);
	assert_true(c->min_ns <= a->min_ns && c->max_ns >= a->max_ns);
	assert_true(fabs(hist_quantile_ns(c, 0.5) - hist_quantile_ns(a, 0.5)) <= hist_quantile_ns(a, 0.5) * 0.008);
	hist_merge(a, b);
	assert_int_equal(a->count, 2 * c->count);
	assert_int_equal(a->max_ns, b->max_ns);
	assert_int_equal(hist_count_le(a, UINT64_MAX - 1), a->count);
	assert_int_equal(hist_count_le(a, 999), 0);
	free(a);
	free(b);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log2),
		cmocka_unit_test(test_bucket_bounds),
		cmocka_unit_test(test_quantiles_vs_exact),
		cmocka_unit_test(test_empty_and_single),
		cmocka_unit_test(test_from_buckets_and_merge),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("hist", tests, NULL, NULL);
}
