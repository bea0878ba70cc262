// SPDX-License-Identifier: GPL-2.0
/* Window and whole-run aggregation, with the kernel side faked. */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "fake_kstats.h"
#include "agg.h"

static struct probe probes[2] = {
	{ .id = 0, .name = "lib.so:a" },
	{ .id = 1, .name = "lib.so:b" },
};
static struct probe_set ps = { .v = probes, .n = 2 };

static void reset(void)
{
	memset(fake_stats, 0, sizeof(fake_stats));
	memset(fake_hists, 0, sizeof(fake_hists));
}

/* A call as both sides see it: counted in the kernel, and (unless lost) an event. */
static void call(struct aggregator *a, uint32_t id, pid_t pid, uint64_t ns, int err, int lost)
{
	/* a third on CPU, the rest blocked; one fault */
	struct call_event e = { .probe_id = id, .pid = (uint32_t)pid, .tid = (uint32_t)pid,
				.duration_ns = ns, .flags = err ? INFERLAT_CALL_ERROR : 0,
				.res = { .oncpu_ns = ns / 3, .offcpu_ns = ns - ns / 3, .minflt = 1, .nvcsw = 1 } };

	fake_kernel_call(id, ns, err);
	fake_stats[id].oncpu_ns += e.res.oncpu_ns;
	fake_stats[id].offcpu_ns += e.res.offcpu_ns;
	fake_stats[id].minflt += 1;
	fake_stats[id].nvcsw += 1;
	if (lost)
		fake_stats[id].rb_drops++;
	else
		assert_int_equal(agg_add(a, &e, 0), 0);
}

static const struct row *find(const struct report *r, uint32_t id, pid_t pid)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->rows[i].probe->id == id && r->rows[i].pid == pid)
			return &r->rows[i];
	return NULL;
}

static void test_windows_and_run(void **state)
{
	struct aggregator a;
	struct report r = { 0 };
	struct kstats k = { 0 };
	struct proctab procs;
	pid_t me = getpid();
	const struct row *w;

	reset();
	assert_int_equal(proctab_init(&procs), 0);
	assert_int_equal(agg_init(&a, &ps, &k, &procs, 100.0), 0);
	for (int i = 1; i <= 10; i++)
		call(&a, 0, me, (uint64_t)i * 1000000, i == 10, 0);
	assert_int_equal(agg_report(&a, 102.0, 1e9, false, &r), 0);
	w = find(&r, 0, me);
	assert_non_null(w);
	assert_int_equal(w->calls, 10);
	assert_int_equal(w->errors, 1);
	assert_true(w->rps == 5.0);                 /* 10 calls over a 2 s window */
	assert_true(w->lat.min == 0.001 && w->lat.max == 0.010);
	assert_true(w->lat.mean > 0.0054999 && w->lat.mean < 0.0055001);
	assert_false(w->from_kernel);
	assert_non_null(w->comm);
	/* the split adds up per window, and the process is ours */
	assert_int_equal(w->res.oncpu_ns + w->res.offcpu_ns, 55000000);
	assert_int_equal(w->res.minflt, 10);
	assert_non_null(w->proc);
	assert_int_equal(w->proc->pid, me);
	assert_true(w->proc->rss_bytes > 0);
	/* probe b never called: one row, no latency; the only process is named */
	w = find(&r, 1, me);
	assert_non_null(w);
	assert_int_equal(w->calls, 0);
	assert_false(w->has_latency);

	/* second window: 5 calls; counters are per window */
	for (int i = 0; i < 5; i++)
		call(&a, 0, me, 20000000, 0, 0);
	assert_int_equal(agg_report(&a, 103.0, 1e9, false, &r), 0);
	w = find(&r, 0, me);
	assert_int_equal(w->calls, 5);
	assert_int_equal(w->errors, 0);
	assert_true(w->lat.min == 0.020);

	/* the run adds up the windows */
	assert_int_equal(agg_report(&a, 103.0, 1e9, true, &r), 0);
	w = find(&r, 0, me);
	assert_true(r.final);
	assert_int_equal(w->calls, 15);
	assert_int_equal(w->errors, 1);
	assert_true(w->rps == 5.0);                 /* 15 calls over 3 s */
	assert_true(w->lat.max == 0.020);
	assert_int_equal(w->res.nvcsw, 15);
	agg_free(&a);
	proctab_free(&procs);
	report_free(&r);
}

/* Events dropped: a single process's window comes from the kernel, complete. */
static void test_lost_events_use_kernel(void **state)
{
	struct aggregator a;
	struct report r = { 0 };
	struct kstats k = { 0 };
	struct proctab procs;
	pid_t me = getpid();
	const struct row *w;

	reset();
	assert_int_equal(proctab_init(&procs), 0);
	assert_int_equal(agg_init(&a, &ps, &k, &procs, 0), 0);
	/* a baseline window so the kernel snapshot has history */
	call(&a, 0, me, 1000000, 0, 0);
	assert_int_equal(agg_report(&a, 1, 0, false, &r), 0);
	for (int i = 0; i < 100; i++)
		call(&a, 0, me, 2000000 + (uint64_t)i * 10000, i < 7, i % 2);  /* half the events lost */
	assert_int_equal(agg_report(&a, 2, 0, false, &r), 0);
	w = find(&r, 0, me);
	assert_int_equal(w->calls, 100);
	assert_int_equal(w->errors, 7);
	assert_int_equal(w->lost, 50);
	assert_true(w->from_kernel);
	/* extremes to bucket precision (0.78%) */
	assert_true(w->lat.min <= 0.002 && w->lat.min > 0.002 * 0.992);
	assert_true(w->lat.max >= 0.00299 && w->lat.max < 0.00299 * 1.008);
	assert_int_equal(agg_report(&a, 2, 0, true, &r), 0);
	w = find(&r, 0, me);
	assert_int_equal(w->calls, 101);
	assert_int_equal(w->lost, 50);
	/* the lost window's split came from the kernel's sums too */
	assert_int_equal(w->res.minflt, 101);
	agg_free(&a);
	proctab_free(&procs);
	report_free(&r);
}

/*
 * An event read one window after its call, once events were lost: the call is
 * in the kernel's window it happened in and must not count again when its
 * event arrives; the run's total is the kernel's own.
 */
static void test_late_event_after_loss_not_counted_twice(void **state)
{
	struct aggregator a;
	struct report r = { 0 };
	struct kstats k = { 0 };
	struct proctab procs;
	pid_t me = getpid();
	struct call_event late = { .probe_id = 0, .pid = (uint32_t)me, .tid = (uint32_t)me,
				   .duration_ns = 3000000 };
	const struct row *w;

	reset();
	assert_int_equal(proctab_init(&procs), 0);
	assert_int_equal(agg_init(&a, &ps, &k, &procs, 0), 0);
	call(&a, 0, me, 1000000, 0, 0);
	call(&a, 0, me, 1000000, 0, 1);
	fake_kernel_call(0, 3000000, 0);    /* counted; its event still in the ring */
	assert_int_equal(agg_report(&a, 1, 0, false, &r), 0);
	w = find(&r, 0, me);
	assert_int_equal(w->calls, 3);
	assert_true(w->from_kernel);
	/* next window: only the late event, no new call and no new drop */
	assert_int_equal(agg_add(&a, &late, 0), 0);
	assert_int_equal(agg_report(&a, 2, 0, false, &r), 0);
	w = find(&r, 0, me);
	assert_int_equal(w->calls, 0);
	assert_true(w->from_kernel);
	call(&a, 0, me, 1000000, 0, 0);
	assert_int_equal(agg_report(&a, 3, 0, false, &r), 0);
	assert_int_equal(find(&r, 0, me)->calls, 1);
	assert_int_equal(agg_report(&a, 3, 0, true, &r), 0);
	w = find(&r, 0, me);
	assert_int_equal(w->calls, 4);
	assert_int_equal(w->lost, 1);
	assert_true(w->lat.max >= 0.003 && w->lat.max < 0.003 * 1.008);
	agg_free(&a);
	proctab_free(&procs);
	report_free(&r);
}

/* Several processes on one probe: a row each. */
static void test_per_process_rows(void **state)
{
	struct aggregator a;
	struct report r = { 0 };
	struct kstats k = { 0 };
	struct proctab procs;

	reset();
	assert_int_equal(proctab_init(&procs), 0);
	assert_int_equal(agg_init(&a, &ps, &k, &procs, 0), 0);
	for (int i = 0; i < 3; i++)
		call(&a, 1, 1, 1000, 0, 0);   /* pid 1 is init: alive */
	for (int i = 0; i < 4; i++)
		call(&a, 1, getppid(), 1000, 0, 0);
	assert_int_equal(agg_report(&a, 1, 0, false, &r), 0);
	assert_int_equal(find(&r, 1, 1)->calls, 3);
	assert_int_equal(find(&r, 1, getppid())->calls, 4);
	/* an event for an unknown probe is refused, not counted */
	struct call_event bad = { .probe_id = 7 };

	assert_int_equal(agg_add(&a, &bad, 0), -22);
	agg_free(&a);
	proctab_free(&procs);
	report_free(&r);
}

/*
 * Events dropped while two processes call the probe: the kernel counts per
 * probe, not per process, so each row has the calls its events showed, and
 * neither row says its figures come from the kernel.
 */
static void test_lost_events_two_processes(void **state)
{
	struct aggregator a;
	struct report r = { 0 };
	struct kstats k = { 0 };
	struct proctab procs;

	reset();
	assert_int_equal(proctab_init(&procs), 0);
	assert_int_equal(agg_init(&a, &ps, &k, &procs, 0), 0);
	for (int i = 0; i < 6; i++) {
		call(&a, 0, 1, 1000, 0, i == 0);
		call(&a, 0, getppid(), 1000, 0, 0);
	}
	assert_int_equal(agg_report(&a, 1, 0, false, &r), 0);
	assert_int_equal(find(&r, 0, 1)->calls, 5);
	assert_int_equal(find(&r, 0, 1)->lost, 1);
	assert_false(find(&r, 0, 1)->from_kernel);
	assert_false(find(&r, 0, getppid())->from_kernel);
	assert_int_equal(agg_report(&a, 1, 0, true, &r), 0);
	assert_int_equal(find(&r, 0, 1)->calls, 5);
	assert_int_equal(find(&r, 0, getppid())->calls, 6);
	assert_int_equal(find(&r, 0, 1)->lost, 1);
	assert_false(find(&r, 0, 1)->from_kernel);
	assert_false(find(&r, 0, getppid())->from_kernel);
	agg_free(&a);
	proctab_free(&procs);
	report_free(&r);
}

/* Sums what an agg_foreach_* walk shows. */
struct walk_sum {
	uint64_t calls, errors, minflt;
	size_t views;
};

static int sum_view(void *ctx, const struct agg_run_view *v)
{
	struct walk_sum *w = ctx;

	w->calls += v->run->count;
	w->errors += v->errors;
	w->minflt += v->res->minflt;
	w->views++;
	return 0;
}

/* A process seen only after it exited is reported once, then dropped; the
 * whole run keeps its figures. */
static void test_exited_process_reported_once(void **state)
{
	struct aggregator a;
	struct report r = { 0 };
	struct kstats k = { 0 };
	struct proctab procs;
	pid_t gone;
	int st;

	reset();
	gone = fork();
	if (gone == 0)
		_exit(0);
	waitpid(gone, &st, 0);
	assert_int_equal(proctab_init(&procs), 0);
	assert_int_equal(agg_init(&a, &ps, &k, &procs, 0), 0);
	call(&a, 0, gone, 1000000, 0, 0);
	call(&a, 0, gone, 3000000, 1, 0);
	assert_int_equal(agg_report(&a, 1, 0, false, &r), 0);
	assert_non_null(find(&r, 0, gone));
	assert_true(find(&r, 0, gone)->proc->exited);
	assert_int_equal(agg_report(&a, 2, 0, false, &r), 0);
	assert_null(find(&r, 0, gone));
	/* its histograms are freed now (a summary stays); a reused PID is a new
	 * process, not a continuation of the old one's figures */
	assert_int_equal(agg_report(&a, 3, 0, false, &r), 0);
	/* the whole run still counts its calls, with their latency */
	assert_int_equal(agg_report(&a, 3, 0, true, &r), 0);
	assert_int_equal(find(&r, 0, gone)->calls, 2);
	assert_int_equal(find(&r, 0, gone)->errors, 1);
	assert_true(find(&r, 0, gone)->has_latency);
	assert_true(find(&r, 0, gone)->lat.min > 0.00099 && find(&r, 0, gone)->lat.min < 0.00101);
	assert_true(find(&r, 0, gone)->lat.max > 0.00299 && find(&r, 0, gone)->lat.max < 0.00301);
	assert_int_equal(find(&r, 0, gone)->res.minflt, 2);
	/* a baseline walks the live series and then the exited ones, merged per
	 * probe: the calls are in the second walk, and only there */
	struct walk_sum live = { 0 }, exited = { 0 };

	assert_int_equal(agg_foreach_run(&a, sum_view, &live), 0);
	assert_int_equal(agg_foreach_exited(&a, sum_view, &exited), 0);
	assert_int_equal(live.calls, 0);
	assert_int_equal(exited.views, 1);
	assert_int_equal(exited.calls, 2);
	assert_int_equal(exited.errors, 1);
	assert_int_equal(exited.minflt, 2);
	agg_free(&a);
	proctab_free(&procs);
	report_free(&r);
}

/* Decoded arguments: llama_decode's tokens by phase, allocations and frees. */
static void test_decoded_arguments(void **state)
{
	struct probe dp[3] = {
		{ .id = 0, .name = "libllama.so:llama_decode", .symbol = "llama_decode",
		  .decode = { .measure = MEASURE_TOKENS, .nargs = 1 } },
		{ .id = 1, .name = "libcudart.so:cudaMalloc", .symbol = "cudaMalloc",
		  .decode = { .measure = MEASURE_ALLOC, .nargs = 2 } },
		{ .id = 2, .name = "libcudart.so:cudaFree", .symbol = "cudaFree",
		  .decode = { .measure = MEASURE_FREE, .nargs = 1 } },
	};
	struct probe_set dps = { .v = dp, .n = 3 };
	struct aggregator a;
	struct report r = { 0 };
	struct kstats k = { 0 };
	struct proctab procs;
	pid_t me = getpid();
	const struct row *w;
	struct call_event e = { .pid = (uint32_t)me, .tid = (uint32_t)me };

	reset();
	assert_int_equal(proctab_init(&procs), 0);
	assert_int_equal(agg_init(&a, &dps, &k, &procs, 100.0), 0);
	/* a 12-token prompt (4 ms), 3 generated tokens (1 ms each), a failed
	 * decode and an unreadable batch: neither counts */
	e.probe_id = 0;
	e.args[0] = 12;
	e.duration_ns = 4000000;
	assert_int_equal(agg_add(&a, &e, 0), 0);
	e.args[0] = 1;
	e.duration_ns = 1000000;
	for (int i = 0; i < 3; i++)
		assert_int_equal(agg_add(&a, &e, 0), 0);
	e.flags = INFERLAT_CALL_ERROR;
	assert_int_equal(agg_add(&a, &e, 0), 0);
	e.flags = INFERLAT_CALL_ARG_FAULT;
	assert_int_equal(agg_add(&a, &e, 0), 0);
	e.flags = 0;
	/* two allocations, one freed, a free of memory from before attach, free(NULL) */
	e.probe_id = 1;
	e.args[0] = 1000;
	e.args[1] = 0xa000;
	assert_int_equal(agg_add(&a, &e, 0), 0);
	e.args[0] = 24;
	e.args[1] = 0xb000;
	assert_int_equal(agg_add(&a, &e, 0), 0);
	e.flags = INFERLAT_CALL_ERROR;   /* cudaMalloc failed: nothing allocated */
	e.args[0] = 1 << 30;
	assert_int_equal(agg_add(&a, &e, 0), 0);
	e.flags = 0;
	e.probe_id = 2;
	e.args[1] = 0;
	e.args[0] = 0xa000;
	assert_int_equal(agg_add(&a, &e, 0), 0);
	e.args[0] = 0xc000;
	assert_int_equal(agg_add(&a, &e, 0), 0);
	e.args[0] = 0;
	assert_int_equal(agg_add(&a, &e, 0), 0);

	assert_int_equal(agg_report(&a, 101.0, 1e9, false, &r), 0);
	w = find(&r, 0, me);
	assert_int_equal(w->args.prompt_batches, 1);
	assert_int_equal(w->args.prompt_tokens, 12);
	assert_int_equal(w->args.prompt_ns, 4000000);
	assert_int_equal(w->args.gen_batches, 3);
	assert_int_equal(w->args.gen_ns, 3000000);
	assert_int_equal(w->args.faults, 1);
	w = find(&r, 1, me);
	assert_int_equal(w->args.ops, 2);
	assert_int_equal(w->args.bytes, 1024);
	assert_true(w->has_gpu);
	assert_int_equal(w->gpu_live, 24);
	assert_int_equal(w->gpu_peak, 1024);
	w = find(&r, 2, me);
	assert_int_equal(w->args.ops, 1);
	assert_int_equal(w->args.bytes, 1000);
	assert_int_equal(w->args.unknown_frees, 1);
	assert_int_equal(w->gpu_live, 24);
	/* the run keeps the sums; a new window starts from zero */
	assert_int_equal(agg_report(&a, 102.0, 1e9, false, &r), 0);
	assert_int_equal(find(&r, 0, me)->args.prompt_tokens, 0);
	assert_int_equal(agg_report(&a, 102.0, 1e9, true, &r), 0);
	assert_int_equal(find(&r, 0, me)->args.prompt_tokens, 12);
	assert_int_equal(find(&r, 0, me)->args.gen_batches, 3);
	agg_free(&a);
	proctab_free(&procs);
	report_free(&r);
}

/* A call read after its process's exit row (the ring buffer read a window
 * late) is not in any window, but the run counts it. */
static void test_call_read_after_exit_row_counted_in_run(void **state)
{
	struct aggregator a;
	struct report r = { 0 };
	struct kstats k = { 0 };
	struct proctab procs;
	pid_t child;
	int st;

	reset();
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	assert_int_equal(proctab_init(&procs), 0);
	assert_int_equal(agg_init(&a, &ps, &k, &procs, 0), 0);
	call(&a, 0, child, 1000000, 0, 0);
	agg_sample(&a, 1);
	assert_int_equal(agg_report(&a, 1, 0, false, &r), 0);
	assert_false(find(&r, 0, child)->proc->exited);
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	agg_sample(&a, 2);
	assert_int_equal(agg_report(&a, 2, 0, false, &r), 0);
	assert_true(find(&r, 0, child)->proc->exited);
	assert_int_equal(find(&r, 0, child)->calls, 0);
	call(&a, 0, child, 2000000, 1, 0);
	agg_sample(&a, 3);
	assert_int_equal(agg_report(&a, 3, 0, false, &r), 0);
	assert_null(find(&r, 0, child));
	assert_int_equal(agg_report(&a, 3, 0, true, &r), 0);
	assert_int_equal(find(&r, 0, child)->calls, 2);
	assert_int_equal(find(&r, 0, child)->errors, 1);
	assert_true(find(&r, 0, child)->lat.max > 0.00199 && find(&r, 0, child)->lat.max < 0.00201);
	agg_free(&a);
	proctab_free(&procs);
	report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exited_process_reported_once),
		cmocka_unit_test(test_call_read_after_exit_row_counted_in_run),
		cmocka_unit_test(test_windows_and_run),
		cmocka_unit_test(test_lost_events_use_kernel),
		cmocka_unit_test(test_lost_events_two_processes),
		cmocka_unit_test(test_late_event_after_loss_not_counted_twice),
		cmocka_unit_test(test_per_process_rows),
		cmocka_unit_test(test_decoded_arguments),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("agg", tests, NULL, NULL);
}

