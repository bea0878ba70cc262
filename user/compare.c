// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <string.h>
#include "compare.h"

#define Z95 1.959963984540054

const char *compare_verdict_name(enum compare_verdict v)
{
	switch (v) {
	case VERDICT_REGRESSED: return "regressed";
	case VERDICT_IMPROVED: return "improved";
	default: return "unchanged";
	}
}

static void quantile_ci(const struct hist *h, double q, double *v, double *lo, double *hi)
{
	double n = (double)h->count, sd = sqrt(n * q * (1 - q));
	double rlo = floor(n * q - Z95 * sd), rhi = ceil(n * q + Z95 * sd) + 1;

	if (rlo < 1)
		rlo = 1;
	if (rhi > n)
		rhi = n;
	*v = hist_quantile_ns(h, q) / 1e9;
	*lo = hist_rank_ns(h, (uint64_t)rlo) / 1e9;
	*hi = hist_rank_ns(h, (uint64_t)rhi) / 1e9;
}

static void quantile_change(const struct hist *b, const struct hist *c, double q, struct change *ch)
{
	quantile_ci(b, q, &ch->base, &ch->base_lo, &ch->base_hi);
	quantile_ci(c, q, &ch->cur, &ch->cur_lo, &ch->cur_hi);
	ch->change = ch->base > 0 ? ch->cur / ch->base - 1 : 0;
	ch->change_lo = ch->base_hi > 0 ? ch->cur_lo / ch->base_hi - 1 : 0;
	ch->change_hi = ch->base_lo > 0 ? ch->cur_hi / ch->base_lo - 1 : 0;
}

static double bucket_mid(const struct hist *h, uint32_t i)
{
	double lo = (double)hist_bucket_lo(i);
	double hi = i == INFERLAT_HIST_BUCKETS - 1 ? (double)h->max_ns : (double)hist_bucket_hi(i);

	return (lo + hi) / 2;
}

/* Variance of the durations (ns^2) from the bucket midpoints. */
static double variance_ns(const struct hist *h, double mean_ns)
{
	double ss = 0;

	if (h->count < 2)
		return 0;
	for (uint32_t i = 0; i < INFERLAT_HIST_BUCKETS; i++)
		if (h->b[i]) {
			double d = bucket_mid(h, i) - mean_ns;

			ss += (double)h->b[i] * d * d;
		}
	return ss / (double)(h->count - 1);
}

static void mean_change(const struct hist *b, const struct hist *c, struct change *ch)
{
	double mb = (double)b->sum_ns / (double)b->count, mc = (double)c->sum_ns / (double)c->count;
	double se = sqrt(variance_ns(b, mb) / (double)b->count + variance_ns(c, mc) / (double)c->count);

	ch->base = mb / 1e9;
	ch->cur = mc / 1e9;
	ch->base_lo = ch->base_hi = ch->base;
	ch->cur_lo = ch->cur_hi = ch->cur;
	ch->change = mc / mb - 1;
	ch->change_lo = (mc - mb - Z95 * se) / mb;
	ch->change_hi = (mc - mb + Z95 * se) / mb;
}

/* U of the current sample: for each of its calls, the baseline calls below
 * it, ties counting half. */
static void mann_whitney(const struct hist *b, const struct hist *c, struct comparison *out)
{
	double n1 = (double)b->count, n2 = (double)c->count, N = n1 + n2;
	double below = 0, u = 0, ties = 0, var, d;

	for (uint32_t i = 0; i < INFERLAT_HIST_BUCKETS; i++) {
		double cb = (double)b->b[i], cc = (double)c->b[i], t = cb + cc;

		u += cc * (below + cb / 2);
		below += cb;
		ties += t * t * t - t;
	}
	out->u = u;
	out->a12 = u / (n1 * n2);
	out->rank_biserial = 2 * out->a12 - 1;
	var = n1 * n2 / 12 * ((N + 1) - ties / (N * (N - 1)));
	d = u - n1 * n2 / 2;
	if (var <= 0) {
		/* every call in one bucket: no evidence of a difference */
		out->z = 0;
		out->p = 1;
		return;
	}
	/* continuity correction, toward zero */
	d = d > 0.5 ? d - 0.5 : d < -0.5 ? d + 0.5 : 0;
	out->z = d / sqrt(var);
	out->p = erfc(fabs(out->z) / sqrt(2));
}

void compare_hists(const struct hist *base, const struct hist *cur, double threshold,
		   struct comparison *c)
{
	memset(c, 0, sizeof(*c));
	c->n_base = base->count;
	c->n_cur = cur->count;
	if (!base->count || !cur->count)
		return;
	quantile_change(base, cur, 0.50, &c->p50);
	quantile_change(base, cur, 0.90, &c->p90);
	quantile_change(base, cur, 0.99, &c->p99);
	mean_change(base, cur, &c->mean);
	mann_whitney(base, cur, c);
	if (c->p < COMPARE_ALPHA && c->a12 > 0.5 && c->p50.change > threshold)
		c->verdict = VERDICT_REGRESSED;
	else if (c->p < COMPARE_ALPHA && c->a12 < 0.5 && c->p50.change < -threshold)
		c->verdict = VERDICT_IMPROVED;
	else
		c->verdict = VERDICT_UNCHANGED;
}
