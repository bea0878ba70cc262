/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Aggregation of call events per probe and process, per window and for the
 * whole run. Events are exact per call but may be dropped under overload;
 * the kernel's per-probe counters and histogram are complete. A window in
 * which a probe lost events takes that probe's figures from the kernel when
 * only one process called it.
 */
#ifndef INFERLAT_AGG_H
#define INFERLAT_AGG_H

#include "gpumem.h"
#include "hist.h"
#include "kstats.h"
#include "proctab.h"
#include "report.h"
#include "seqtab.h"

struct series;

struct aggregator {
	const struct probe_set *ps;
	struct kstats *k;
	struct proctab *procs;      /* processes seen in events */
	struct probe_agg *probes;   /* one per probe id */
	double win_start, run_start;   /* CLOCK_MONOTONIC seconds */
	size_t nprobes;             /* probes aggregated: ps->n at init or last agg_grow */
	struct gpumem gpu;          /* live GPU allocations per process (decoded cudaMalloc/Free) */
	struct seqtab seqs;         /* llama.cpp's sequences: requests per process */
};

int agg_init(struct aggregator *a, const struct probe_set *ps, struct kstats *k,
	     struct proctab *procs, double now);
void agg_free(struct aggregator *a);
/* Take in probes added to the probe set since (libraries loaded later). */
int agg_grow(struct aggregator *a);
/* One call event from the ring buffer; now is CLOCK_MONOTONIC. */
int agg_add(struct aggregator *a, const struct call_event *e, double now);
/* A llama.cpp sequence event (the seqs ring buffer). */
int agg_add_seq(struct aggregator *a, const struct seq_event *e);
/* The run is over (before its last window): requests in progress end. */
void agg_run_over(struct aggregator *a);
/*
 * Sample the processes at now to close a window: those found gone are
 * reported as exited by the next agg_report. Call it before the last read
 * of the ring buffers: every call an exited process made is in them by then,
 * so none arrives after its process's last row.
 */
void agg_sample(struct aggregator *a, double now);
/* Close the window at now (monotonic) / wall (Unix), filling r, after
 * agg_sample and a read of the ring buffers. final: the whole run instead of
 * the last window. */
int agg_report(struct aggregator *a, double now, double wall, bool final, struct report *r);

/* The kernel's histogram of probe id since attach, all processes, as of the
 * last window in which it was called (INFERLAT_HIST_BUCKETS counts). */
const uint64_t *agg_kernel_buckets(const struct aggregator *a, uint32_t id);

/* Fill a row's latency from a histogram (exact extremes when known). */
void agg_latency(const struct hist *h, struct latency *lat);

/* Whole-run figures of one probe in one process, up to the last closed
 * window: for exporters that keep cumulative series of their own. */
struct agg_run_view {
	uint32_t probe_id;
	pid_t pid;
	const char *comm;           /* NULL when unknown */
	const struct hist *run;
	uint64_t errors;
	const struct res_sum *res;  /* where the calls' time went, whole run */
	uint64_t unsplit;           /* calls without the split, not in res */
	const struct proc_info *proc;
	const struct arg_sum *args; /* decoded arguments, whole run */
	const struct seq_sum *req;  /* llama_decode: its process's requests, whole run, or NULL */
};

/* Call fn for every (probe, process) series; returns fn's first non-zero. */
int agg_foreach_run(const struct aggregator *a,
		    int (*fn)(void *ctx, const struct agg_run_view *v), void *ctx);

/* Call fn once per probe with the merged whole-run figures of its processes
 * that exited and were compacted (pid 0, no comm, process or arguments): what
 * agg_foreach_run no longer shows. */
int agg_foreach_exited(const struct aggregator *a,
		       int (*fn)(void *ctx, const struct agg_run_view *v), void *ctx);

#endif
