// SPDX-License-Identifier: GPL-2.0
/* Slow-call exemplars: the slowest of the window and of the run, and
 * symbolized stacks (this test's own functions). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "exemplar.h"
#include "json.h"

static struct probe probe = { .id = 0, .name = "libinfer.so.1:infer_run" };
static struct probe_set ps = { .v = &probe, .n = 1 };

static struct exemplar_event event(uint64_t dur_ns)
{
	struct exemplar_event e = { 0 };

	e.call.duration_ns = dur_ns;
	e.call.pid = (uint32_t)getpid();
	e.call.tid = e.call.pid;
	e.slow_ns = 1000;
	return e;
}

static void test_slowest_lists(void **state)
{
	struct exemplars x;
	struct exemplar_event e;
	uint64_t durs[] = { 5, 9, 1, 7, 3, 8, 2, 6 };

	exemplars_init(&x, &ps, NULL, NULL, NULL);
	for (size_t i = 0; i < 8; i++) {
		e = event(durs[i] * 1000000);
		assert_int_equal(exemplars_add(&x, &e, 1.0), 0);
	}
	assert_int_equal(x.received, 8);
	assert_int_equal(x.nwin, EXEMPLAR_TOP);
	assert_int_equal(x.nrun, EXEMPLAR_TOP);
	for (size_t i = 0; i < EXEMPLAR_TOP; i++)
		assert_int_equal(x.win[i]->call.duration_ns, (9 - i) * 1000000);
	/* a new window: its own slowest; the run keeps the slowest overall */
	exemplars_window_done(&x);
	assert_int_equal(x.nwin, 0);
	e = event(4 * 1000000);
	assert_int_equal(exemplars_add(&x, &e, 2.0), 0);
	e = event(10 * 1000000);
	assert_int_equal(exemplars_add(&x, &e, 2.0), 0);
	assert_int_equal(x.nwin, 2);
	assert_int_equal(x.win[0]->call.duration_ns, 10000000);
	assert_int_equal(x.win[1]->call.duration_ns, 4000000);
	assert_int_equal(x.run[0]->call.duration_ns, 10000000);
	assert_int_equal(x.run[4]->call.duration_ns, 6000000);
	/* calibration calls (ids past the probes) are not ours */
	e = event(99 * 1000000);
	e.call.probe_id = 7;
	assert_int_equal(exemplars_add(&x, &e, 2.0), 0);
	assert_int_equal(x.received, 10);
	exemplars_free(&x);   /* the sanitizer build checks nothing leaks */
}

__attribute__((noinline)) int slow_caller_marker(int v)
{
	return v * 3 + 1;
}

static void test_symbolized_stack(void **state)
{
	struct exemplars x;
	struct exemplar_event e = event(50000000);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	exemplars_init(&x, &ps, f, json_write_exemplar, NULL);
	/* return addresses: just past a call in the function */
	e.ips[0] = (uint64_t)(uintptr_t)slow_caller_marker + 4;
	e.ips[1] = 0x10;   /* nothing maps it */
	e.nframes = 2;
	e.call.res.oncpu_ns = 1000;
	e.call.res.offcpu_ns = 49999000;
	assert_int_equal(exemplars_add(&x, &e, 1796000000.5), 0);
	assert_string_equal(x.win[0]->frames[0].func, "slow_caller_marker");
	assert_int_equal(x.win[0]->frames[0].off, 4);
	assert_non_null(strstr(x.win[0]->frames[0].object, "test_exemplar"));
	assert_null(x.win[0]->frames[1].func);
	assert_null(x.win[0]->frames[1].object);
	fclose(f);
	assert_non_null(strstr(buf, "{\"type\": \"exemplar\", \"ts\": 1796000000.500, "
				    "\"probe\": \"libinfer.so.1:infer_run\""));
	assert_non_null(strstr(buf, "\"duration_s\": 0.05, \"threshold_s\": 1e-06"));
	assert_non_null(strstr(buf, "\"cpu_s\": 1e-06, \"offcpu_s\": 0.049999, \"runqueue_s\": 0"));
	assert_non_null(strstr(buf, "\"function\": \"slow_caller_marker\", \"offset\": 4"));
	assert_non_null(strstr(buf, "{\"ip\": \"0x10\"}]}\n"));
	free(buf);
	exemplars_free(&x);
	assert_int_equal(slow_caller_marker(1), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slowest_lists),
		cmocka_unit_test(test_symbolized_stack),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("exemplar", tests, NULL, NULL);
}
