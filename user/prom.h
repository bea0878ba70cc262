/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prometheus exposition (text format 0.0.4) for node_exporter's textfile
 * collector: cumulative series over the whole run, never reset per window.
 *
 * Call series are labelled by probe, runtime, comm (and pid with
 * --pid-label) plus the user's static labels. Their figures are taken from
 * the aggregator's whole-run histograms of each (probe, process) as deltas,
 * so a label set keeps counting across processes that come and go, and its
 * counters only grow. Self-metrics (probe hits, lost events) come from the
 * kernel's per-probe counters, which are complete.
 *
 * Latency buckets: 104 fixed bounds from 1.023 us to 57.7 s, four per power
 * of two: (m << (e - 7)) - 1 ns for e = 10..35 and m = 128, 152, 181, 215.
 * Each is the last nanosecond of a bucket of the internal histogram, so the
 * count at every bound is exact; neighbouring bounds are at most 1.191x
 * apart, so histogram_quantile's interpolation stays inside a bucket ~10%
 * either way of its middle.
 */
#ifndef INFERLAT_PROM_H
#define INFERLAT_PROM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "kstats.h"
#include "probes.h"
#include "agg.h"

#define PROM_NBOUNDS 104

/* --label KEY=VALUE */
struct prom_label {
	char *key, *value;
};

struct prom_opts {
	const struct prom_label *labels;
	size_t nlabels;
	bool pid_label;          /* --pid-label: one series per process */
	const char *version;     /* inferlat_build_info{version=} */
	const struct slo_set *slos;   /* --slo checks; NULL: none */
	const struct anomaly_detector *anomalies;   /* NULL: not exported */
};

struct slo_set;
struct anomaly_detector;
struct http_agg;
struct prom_series;
struct prom_seen;
struct prom_proc;

struct prom_probe {          /* kernel counters of one probe, cumulative */
	uint64_t hits;           /* entry probe hits of traced threads */
	uint64_t lost;           /* events the ring buffer dropped */
	uint64_t thread_full;    /* calls of threads the thread table had no room for */
};

struct prom_exporter {
	const struct probe_set *ps;
	struct prom_opts o;
	struct prom_series **series;   /* exported label sets, in creation order */
	size_t nseries, capseries;
	struct prom_seen *seen;        /* aggregator series taken in so far */
	size_t nseen, capseen;
	struct prom_probe *probes;     /* one per probe id */
	size_t nprobes;
	double overhead_ratio;         /* last window: probe seconds per second */
	bool has_bpf_memory;
	uint64_t bpf_memory_bytes;     /* the kernel memory inferlat holds */
	bool no_split;                 /* --no-split: no time split or resource families */
	bool has_ratio;
	struct prom_proc *procs;       /* live target processes, last update */
	size_t nprocs, capprocs;
	const struct http_agg *http;   /* --http: its whole-run series, or NULL */
	const struct sock_counters *http_kernel;   /* --http: the kernel's counters */
};

/*
 * Set up for the probes in ps. Label sets for the target processes known now
 * (pids; a probe's own pids when it has them) start at zero, so rate() and
 * increase() see their first calls. 0 or -ENOMEM.
 */
int prom_init(struct prom_exporter *px, const struct probe_set *ps, const struct prom_opts *o,
	      const pid_t *pids, size_t npids);
void prom_free(struct prom_exporter *px);

/* Take in a closed window (after agg_report) and the kernel's counters;
 * span_s is the window's length. 0 or -errno. */
int prom_update(struct prom_exporter *px, const struct aggregator *a, struct kstats *k,
		double span_s);

/* Write every metric; wall is the Unix time of the update, write_errors the
 * failed textfile writes so far. 0 or -errno. */
int prom_write(const struct prom_exporter *px, FILE *f, double wall, uint64_t write_errors);

/* Bucket bound i (0..PROM_NBOUNDS-1) in nanoseconds, inclusive. */
uint64_t prom_bound_ns(size_t i);
/* Cumulative counts of h at every bound: out[i] = values <= prom_bound_ns(i). */
void prom_cumulative(const struct hist *h, uint64_t out[PROM_NBOUNDS]);

/* A label value, quoted and escaped per the exposition format (backslash,
 * double quote, line feed); bytes that are not UTF-8 become U+FFFD. */
void prom_put_label_value(FILE *f, const char *s);

/*
 * Parse "KEY=VALUE" for --label: KEY a Prometheus label name not reserved
 * (__*) nor one inferlat sets; VALUE non-empty UTF-8. 0, or -EINVAL with a
 * one-line reason in err.
 */
int prom_label_parse(const char *arg, struct prom_label *out, char *err, size_t errsz);
void prom_label_free(struct prom_label *l);

#endif
