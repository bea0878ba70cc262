/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Baselines: a run's whole distribution per probe, saved (--save-baseline)
 * and compared with a later run (--baseline). The file is JSON:
 *
 * {"format": "inferlat-baseline", "version": 1, "inferlat": "<version>",
 *  "created": <Unix s>, "duration_s": <s>,
 *  "probes": [{"probe": "libllama.so:llama_decode", "calls": N, "errors": N,
 *              "sum_ns": N, "cpu_ns": N, "offcpu_ns": N, "runqueue_ns": N,
 *              "unsplit_calls": N,
 *              "buckets": [[LO_NS, HI_NS, COUNT], ...]}]}
 *
 * buckets lists the non-empty buckets of the probe's histogram (all its
 * processes), each with the smallest and largest duration it holds; a file
 * made with another bucket layout is refused. cpu_ns, offcpu_ns and
 * runqueue_ns split the time of the calls whose split is known (all but
 * unsplit_calls).
 */
#ifndef INFERLAT_BASELINE_H
#define INFERLAT_BASELINE_H

#include <stddef.h>
#include <stdint.h>
#include "compare.h"
#include "hist.h"
#include "report.h"
#include "agg.h"

struct baseline_probe {
	char *name;
	uint64_t errors;
	struct res_sum res;
	uint64_t unsplit;
	struct hist h;            /* count and sum_ns are the calls' */
};

struct baseline {
	struct baseline_probe *v;
	size_t n;
	double duration_s;
};

/* The whole run so far, per probe (processes merged). 0 or -ENOMEM. */
int baseline_collect(const struct aggregator *a, double duration_s, struct baseline *out);
/* 0 or -errno (the caller explains). */
int baseline_save(const struct baseline *b, const char *path, const char *version, double created);
/* 0, or -EINVAL/-errno with a one-line reason in err. */
int baseline_load(const char *path, struct baseline *out, char *err, size_t errsz);
/* Every probe of cur that base has, compared (threshold: a share); *out is
 * malloc'ed, its names point into cur. 0 or -ENOMEM. */
int baseline_compare(const struct baseline *base, const struct baseline *cur, double threshold,
		     struct probe_comparison **out, size_t *n);
const struct baseline_probe *baseline_find(const struct baseline *b, const char *name);
void baseline_free(struct baseline *b);

#endif
