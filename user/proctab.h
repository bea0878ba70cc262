/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-process figures for each window: CPU cores used (all threads, from the
 * kernel's own accounting in /proc/PID/stat), resident memory (RSS; PSS where
 * smaps_rollup is readable) and thread count. A process that exits is marked
 * so, reported once more, then dropped.
 */
#ifndef INFERLAT_PROCTAB_H
#define INFERLAT_PROCTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_info {
	pid_t pid;
	char comm[64];
	bool has_comm;
	/* the last window */
	bool has_cpu;            /* a window with two samples */
	double cpu_cores;        /* CPU time / wall time over the window */
	uint64_t rss_bytes;
	uint64_t pss_bytes;
	bool has_pss;
	unsigned threads;
	/* since first seen */
	double cpu_s;
	double cpu_total_s;      /* since the process started: what /proc/PID/stat says */
	/* life */
	bool exited;             /* gone: the next report shows it a last time */
	bool dropped;            /* its exit was reported: no more rows (set by the reporter) */
	/* samples */
	uint64_t ticks_first, ticks_prev;
	double t_first, t_prev;
	bool sampled;
};

struct proctab {
	struct proc_info **v;
	size_t n, cap;
	long clk_tck, page_size;
};

int proctab_init(struct proctab *t);
void proctab_free(struct proctab *t);
/* The process's entry, created (and sampled once) on first sight; NULL on
 * allocation failure. */
struct proc_info *proctab_get(struct proctab *t, pid_t pid, double now);
/*
 * Close a window at now (CLOCK_MONOTONIC): sample every live process and
 * mark the ones that are gone as exited.
 */
void proctab_window(struct proctab *t, double now);
/* Cores used over the last window, or since first seen (whole_run): false
 * until two samples are apart in time. */
bool proctab_cores(const struct proc_info *p, bool whole_run, double *cores);

/* Parse the fields inferlat uses from a /proc/PID/stat line (exposed for
 * tests): 0, or -EINVAL. */
int proctab_parse_stat(const char *line, char *state, uint64_t *ticks, unsigned *threads,
			uint64_t *rss_pages);

#endif
