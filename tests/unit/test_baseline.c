// SPDX-License-Identifier: GPL-2.0
/* Baseline files: what is saved is what is loaded; bad files are refused
 * with one line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "baseline.h"

static char path[64];

static int setup(void **state)
{
	int fd;

	strcpy(path, "/tmp/inferlat-baseline-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	return 0;
}

static void test_round_trip(void **state)
{
	struct baseline b = { 0 }, l;
	struct baseline_probe p[2] = { 0 };
	const struct baseline_probe *q;
	char err[512] = "";

	p[0].name = "libllama.so:llama_decode";
	hist_reset(&p[0].h);
	for (uint64_t v = 1; v < 100000000; v = v * 3 + 7)
		hist_add(&p[0].h, v);
	hist_add(&p[0].h, 1ull << 40);   /* the last bucket: everything above 68.7 s */
	p[0].errors = 3;
	p[0].res = (struct res_sum){ .oncpu_ns = 11, .offcpu_ns = 22, .runq_ns = 33 };
	p[0].unsplit = 2;
	p[1].name = "a \"quoted\"\\name";  /* escaped and read back */
	hist_reset(&p[1].h);
	b.v = p;
	b.n = 2;
	b.duration_s = 12.5;
	assert_int_equal(baseline_save(&b, path, "test", 1796000000.0), 0);
	assert_int_equal(baseline_load(path, &l, err, sizeof(err)), 0);
	assert_int_equal(l.n, 2);
	assert_true(l.duration_s == 12.5);
	q = baseline_find(&l, "libllama.so:llama_decode");
	assert_non_null(q);
	assert_int_equal(q->h.count, p[0].h.count);
	assert_int_equal(q->h.sum_ns, p[0].h.sum_ns);
	assert_memory_equal(q->h.b, p[0].h.b, sizeof(q->h.b));
	assert_int_equal(q->errors, 3);
	assert_int_equal(q->res.oncpu_ns, 11);
	assert_int_equal(q->res.offcpu_ns, 22);
	assert_int_equal(q->res.runq_ns, 33);
	assert_int_equal(q->unsplit, 2);
	/* the quantiles come out as they went in */
	assert_true(hist_quantile_ns(&q->h, 0.5) == hist_quantile_ns(&p[0].h, 0.5));
	q = baseline_find(&l, "a \"quoted\"\\name");
	assert_non_null(q);
	assert_int_equal(q->h.count, 0);
	baseline_free(&l);
}

static void load_bad(const char *text, const char *why)
{
	struct baseline l;
	char err[512] = "";
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(baseline_load(path, &l, err, sizeof(err)), -22);
	if (!strstr(err, why) || !strstr(err, "--baseline") || strchr(err, '\n'))
		fail_msg("for %s: '%s' (want '%s')", text, err, why);
	assert_int_equal(l.n, 0);
}

static void test_bad_files(void **state)
{
	struct baseline l;
	char err[512] = "";

	load_bad("", "made by --save-baseline");
	load_bad("{\"probes\": [", "made by --save-baseline");
	load_bad("{\"format\": \"other\"}", "not an inferlat baseline");
	load_bad("{\"format\": \"inferlat-baseline\", \"version\": 2, \"probes\": []}", "version 2");
	load_bad("{\"format\": \"inferlat-baseline\", \"version\": 1}", "no \"probes\"");
	load_bad("{\"format\": \"inferlat-baseline\", \"version\": 1, \"probes\": [{\"probe\": \"p\"}]}",
		 "are required");
	load_bad("{\"format\": \"inferlat-baseline\", \"version\": 1, \"probes\": [{\"probe\": \"p\", "
		 "\"calls\": 1, \"errors\": 0, \"sum_ns\": 1000, \"cpu_ns\": 0, \"offcpu_ns\": 0, "
		 "\"runqueue_ns\": 0, \"unsplit_calls\": 0, \"buckets\": [[1000, 1000, 1]]}]}",
		 "another bucket layout");
	load_bad("{\"format\": \"inferlat-baseline\", \"version\": 1, \"probes\": [{\"probe\": \"p\", "
		 "\"calls\": 2, \"errors\": 0, \"sum_ns\": 10, \"cpu_ns\": 0, \"offcpu_ns\": 0, "
		 "\"runqueue_ns\": 0, \"unsplit_calls\": 0, \"buckets\": [[10, 10, 1]]}]}",
		 "hold 1 calls");
	load_bad("{\"format\": \"inferlat-baseline\", \"version\": 1, \"probes\": [{\"probe\": \"p\", "
		 "\"calls\": 1, \"errors\": 0, \"sum_ns\": 10, \"cpu_ns\": 0, \"offcpu_ns\": 0, "
		 "\"runqueue_ns\": 0, \"unsplit_calls\": 0, \"buckets\": [[10, -1, 1]]}]}",
		 "not [LO_NS, HI_NS, COUNT]");
	/* a missing file: the reason is the system's */
	assert_true(baseline_load("/nonexistent/b.json", &l, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "/nonexistent/b.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("baseline", tests, NULL, NULL);
}
