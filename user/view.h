/* SPDX-License-Identifier: GPL-2.0 */
/* The live view: a table redrawn each window on a terminal, plain lines
 * otherwise. */
#ifndef INFERLAT_VIEW_H
#define INFERLAT_VIEW_H

#include <stdbool.h>
#include <stdio.h>
#include "report.h"
#include "compare.h"

struct view {
	FILE *out;
	bool tty;
	const struct probe_set *probes;
	size_t nprobes, ntargets;
	bool header_done; /* plain lines: the column names went out */
};

void view_init(struct view *v, FILE *out, const struct probe_set *ps, size_t ntargets);
void view_show(struct view *v, const struct report *r);
/* The run against a baseline, one line per probe. */
void view_show_comparisons(struct view *v, const char *baseline_path,
			   const struct probe_comparison *c, size_t n);
/* "812ns", "12.3us", "4.56ms", "1.23s" into buf */
const char *view_fmt_secs(double s, char *buf, size_t sz);

#endif
