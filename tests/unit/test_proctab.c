// SPDX-License-Identifier: GPL-2.0
/* Per-process figures from /proc. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>
#include <unistd.h>
#include <cmocka.h>
#include "proctab.h"

static void test_parse_stat(void **state)
{
	/* comm with spaces and a ')' must not shift the fields */
	const char *line = "4242 (a) b (c) S 1 4242 4242 0 -1 4194304 100 0 0 0 "
			   "150 50 0 0 20 0 7 0 12345 1000000 2560 18446744073709551615";
	uint64_t ticks, rss;
	unsigned threads;
	char st;

	assert_int_equal(proctab_parse_stat(line, &st, &ticks, &threads, &rss), 0);
	assert_int_equal(st, 'S');
	assert_int_equal(ticks, 200);
	assert_int_equal(threads, 7);
	assert_int_equal(rss, 2560);
	assert_int_equal(proctab_parse_stat("4242 (x S 1", &st, &ticks, &threads, &rss), -22);
	assert_int_equal(proctab_parse_stat("", &st, &ticks, &threads, &rss), -22);
}

static double clock_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Our own process: its CPU cores over a window against its own CPU clock. */
static void test_self_sample(void **state)
{
	struct proctab t;
	struct proc_info *p;
	struct timespec ts;
	double t0, cpu0, cpu1, t1, cores;
	volatile uint64_t x = 0;

	assert_int_equal(proctab_init(&t), 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	p = proctab_get(&t, getpid(), t0);
	assert_non_null(p);
	assert_false(p->exited);
	assert_true(p->rss_bytes > 0);
	assert_true(p->threads >= 1);
	assert_true(p->has_comm);
	/* burn ~100 ms of CPU, then close a window */
	do {
		for (int i = 0; i < 100000; i++)
			x += (uint64_t)i;
		clock_gettime(CLOCK_MONOTONIC, &ts);
	} while ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - t0 < 0.2);
	cpu1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	t1 = clock_s(CLOCK_MONOTONIC);
	proctab_window(&t, t1);
	assert_true(p->has_cpu);
	/* /proc counts 10 ms ticks: two of them over the window */
	assert_true(fabs(p->cpu_cores * (t1 - t0) - (cpu1 - cpu0)) <= 0.021);
	/* a last window one tick long (at exit) says nothing of the run: the
	 * run's figure is CPU time over all the time seen */
	proctab_window(&t, t1 + 0.001);
	assert_true(proctab_cores(p, true, &cores));
	assert_true(fabs(cores * (t1 + 0.001 - t0) - (cpu1 - cpu0)) <= 0.021);
	assert_true(cores > 0.5);
	assert_true(proctab_get(&t, getpid(), 0) == p);
	proctab_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_stat),
		cmocka_unit_test(test_self_sample),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("proctab", tests, NULL, NULL);
}
