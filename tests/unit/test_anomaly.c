// SPDX-License-Identifier: GPL-2.0
/* Online anomalies: the median/MAD rule, and windows judged in sequence. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "anomaly.h"
#include "inferlat.h"

static void test_rule(void **state)
{
	/* median 10, MAD 1: band max(3 * 1.4826, 25% of 10) = 4.4478 */
	double h[] = { 9, 10, 11, 10, 9, 11, 10 };
	struct anomaly_flag f;

	anomaly_rule(h, 7, 14.4, 0, 0.25, &f);
	assert_false(f.on);
	assert_true(f.median == 10);
	assert_true(f.threshold > 14.4477 && f.threshold < 14.4479);
	anomaly_rule(h, 7, 14.5, 0, 0.25, &f);
	assert_true(f.on);
	/* a flat history: the floor (25% of the median) is the band */
	double flat[] = { 2, 2, 2, 2, 2 };
	anomaly_rule(flat, 5, 2.49, 0, 0.25, &f);
	assert_false(f.on);
	anomaly_rule(flat, 5, 2.51, 0, 0.25, &f);
	assert_true(f.on);
	/* too little history: nothing judged */
	anomaly_rule(flat, 4, 100, 0, 0.25, &f);
	assert_false(f.on);
	/* one wild window in the history does not widen the band */
	double wild[] = { 2, 2, 2, 100, 2, 2 };
	anomaly_rule(wild, 6, 3, 0, 0.25, &f);
	assert_true(f.on);
	/* absolute floor (error rate): 0 errors so far, 1 point needed */
	double none[] = { 0, 0, 0, 0, 0 };
	anomaly_rule(none, 5, 0.009, 0.01, 0, &f);
	assert_false(f.on);
	anomaly_rule(none, 5, 0.02, 0.01, 0, &f);
	assert_true(f.on);
}

static struct probe probe = { .id = 0, .name = "libinfer.so:infer_run", .err_kind = INFERLAT_ERR_NONZERO };

static struct row *window(struct anomaly_detector *d, struct report *r, double p99, uint64_t calls,
			  uint64_t errors)
{
	struct row *w;

	report_clear(r);
	w = report_add(r);
	*w = (struct row){ .probe = &probe, .pid = 42, .calls = calls, .errors = errors,
			   .has_latency = true, .lat = { .p99 = p99 } };
	assert_int_equal(anomaly_judge(d, r), 0);
	return &r->rows[0];
}

/* 10 steady windows, 3 slow ones, 10 steady again: only the slow ones flagged */
static void test_windows(void **state)
{
	struct anomaly_detector d;
	struct report r = { 0 };
	struct row *w;
	int flagged = 0;

	anomaly_init(&d);
	for (int i = 0; i < 23; i++) {
		bool slow = i >= 10 && i < 13;
		double p99 = (slow ? 0.010 : 0.002) * (1 + 0.02 * (i % 3));

		w = window(&d, &r, p99, 200, 0);
		assert_int_equal(w->anomaly.p99.on, slow);
		assert_false(w->anomaly.errors.on);
		flagged += w->anomaly.p99.on;
	}
	assert_int_equal(flagged, 3);
	assert_int_equal(d.p99_count[0], 3);
	/* a window with too few calls is neither judged nor remembered */
	w = window(&d, &r, 1.0, ANOMALY_MIN_CALLS - 1, 0);
	assert_false(w->anomaly.p99.on);
	/* errors: a jump from 0% to 5% with 10 errors is flagged; 2 errors are not enough */
	w = window(&d, &r, 0.002, 200, 10);
	assert_true(w->anomaly.errors.on);
	assert_true(w->anomaly.errors.value == 0.05);
	w = window(&d, &r, 0.002, 40, 2);
	assert_false(w->anomaly.errors.on);
	assert_int_equal(d.err_count[0], 1);
	/* the final report is not a window */
	r.final = true;
	assert_int_equal(anomaly_judge(&d, &r), 0);
	report_free(&r);
	anomaly_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule),
		cmocka_unit_test(test_windows),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("anomaly", tests, NULL, NULL);
}
