/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Online anomalies: a window whose p99 or error rate departs from the run's
 * own recent history, per probe and process.
 *
 * The rule, robust to the outliers it looks for: over the last
 * ANOMALY_HISTORY judged windows of the series, take the median m and the
 * median absolute deviation MAD of the metric; the window is anomalous when
 *   value > m + max(3 * 1.4826 * MAD, floor)
 * with floor = 50% of m for p99 (a window's p99 rests on its few slowest
 * calls, which a busy or virtualized host's stalls of a few ms move: smaller
 * departures are its ordinary noise) and 1 percentage point
 * for the error rate (which must also come from at least 3 errors). 1.4826
 * MAD estimates the standard deviation of normal data, so this is a 3-sigma
 * band that one wild window cannot widen. Judging starts once
 * ANOMALY_MIN_HISTORY windows are known; windows with fewer than
 * ANOMALY_MIN_CALLS calls are neither judged nor remembered. Flagged windows
 * enter the history too: a change that lasts becomes the new normal after
 * about half the history.
 */
#ifndef INFERLAT_ANOMALY_H
#define INFERLAT_ANOMALY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "report.h"

#define ANOMALY_HISTORY 20
#define ANOMALY_MIN_HISTORY 5
#define ANOMALY_MIN_CALLS 10
#define ANOMALY_P99_FLOOR 0.5       /* share of the median */
#define ANOMALY_ERR_FLOOR 0.01      /* error rate, absolute */
#define ANOMALY_ERR_MIN 3           /* errors in the window */

struct anomaly_series;

struct anomaly_detector {
	struct anomaly_series *v;
	size_t n, cap;
	uint64_t *p99_count, *err_count;   /* flagged windows per probe id */
	size_t nprobes;
};

void anomaly_init(struct anomaly_detector *d);
void anomaly_free(struct anomaly_detector *d);
/* Judge every row of a closed window (not the final report) into
 * row->anomaly, and remember the window. 0 or -ENOMEM. */
int anomaly_judge(struct anomaly_detector *d, struct report *r);

/* The rule on one history: sets f->on, median and threshold. Exposed for
 * the unit tests. */
void anomaly_rule(const double *hist, size_t n, double value, double floor_abs, double floor_rel,
		  struct anomaly_flag *f);

#endif
