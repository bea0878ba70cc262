/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One probe's whole-run distribution against a baseline's, from the two
 * histograms (bucket precision 0.78%).
 *
 * - p50, p90, p99: each side's distribution-free 95% interval from order
 *   statistics (ranks n*q -/+ 1.96*sqrt(n*q*(1-q))); the change's interval
 *   spans the extremes of the two (it holds whenever both do: at least 90%).
 * - mean: exact means (sums of durations); the change's 95% interval is
 *   Welch's, with variances from the bucket midpoints.
 * - Mann-Whitney U of current against baseline, every bucket a group of ties
 *   (tie-corrected variance, normal approximation with continuity
 *   correction), two-sided p; effect size A = U / (n1*n2), the probability
 *   that a current call is slower than a baseline call (ties half), and the
 *   rank-biserial correlation 2A - 1.
 * - verdict: regressed when p < COMPARE_ALPHA, A > 0.5 and the median grew by
 *   more than the threshold; improved likewise the other way; else unchanged.
 *   The median and not the mean: one stalled call moves a mean, not a median.
 */
#ifndef INFERLAT_COMPARE_H
#define INFERLAT_COMPARE_H

#include "hist.h"

#define COMPARE_ALPHA 0.01

enum compare_verdict { VERDICT_UNCHANGED, VERDICT_REGRESSED, VERDICT_IMPROVED };

struct change {               /* seconds; change as a share of the baseline */
	double base, cur;
	double base_lo, base_hi, cur_lo, cur_hi;   /* 95% intervals (quantiles) */
	double change, change_lo, change_hi;
};

struct comparison {
	uint64_t n_base, n_cur;
	struct change p50, p90, p99, mean;
	double u, z, p;           /* Mann-Whitney */
	double a12, rank_biserial;
	enum compare_verdict verdict;
};

struct probe_comparison {     /* one probe of the run against the baseline */
	const char *probe;
	struct comparison c;
};

/* Both histograms must hold calls. threshold: a share (0.05 for 5%). */
void compare_hists(const struct hist *base, const struct hist *cur, double threshold,
		   struct comparison *c);
const char *compare_verdict_name(enum compare_verdict v);

#endif
