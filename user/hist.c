// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <string.h>
#include "hist.h"

void hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min_ns = UINT64_MAX;
}

void hist_add(struct hist *h, uint64_t ns)
{
	h->b[inferlat_hist_bucket(ns)]++;
	h->count++;
	h->sum_ns += ns;
	if (ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	for (size_t i = 0; i < INFERLAT_HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
	if (src->min_ns < dst->min_ns)
		dst->min_ns = src->min_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
}

uint64_t hist_bucket_lo(uint32_t idx)
{
	uint32_t shift;

	if (idx < 2 * INFERLAT_HIST_SUB)
		return idx;
	shift = (idx >> INFERLAT_HIST_SUB_BITS) - 1;
	return (uint64_t)(idx - (shift << INFERLAT_HIST_SUB_BITS)) << shift;
}

uint64_t hist_bucket_hi(uint32_t idx)
{
	uint32_t shift;

	if (idx >= INFERLAT_HIST_BUCKETS - 1)
		return UINT64_MAX;  /* the last bucket also holds everything larger */
	if (idx < 2 * INFERLAT_HIST_SUB)
		return idx;
	shift = (idx >> INFERLAT_HIST_SUB_BITS) - 1;
	return hist_bucket_lo(idx) + (1ull << shift) - 1;
}

void hist_from_buckets(struct hist *h, const uint64_t *buckets, uint64_t sum_ns)
{
	hist_reset(h);
	for (uint32_t i = 0; i < INFERLAT_HIST_BUCKETS; i++) {
		if (!buckets[i])
			continue;
		h->b[i] = buckets[i];
		h->count += buckets[i];
		if (h->min_ns == UINT64_MAX)
			h->min_ns = hist_bucket_lo(i);
		h->max_ns = i == INFERLAT_HIST_BUCKETS - 1 ? hist_bucket_lo(i) : hist_bucket_hi(i);
	}
	h->sum_ns = sum_ns;
}

double hist_rank_ns(const struct hist *h, uint64_t rank)
{
	uint64_t cum = 0;
	double lo, hi, mid;

	if (!h->count)
		return 0;
	if (rank < 1)
		rank = 1;
	for (uint32_t i = 0; i < INFERLAT_HIST_BUCKETS; i++) {
		cum += h->b[i];
		if (cum < rank)
			continue;
		lo = (double)hist_bucket_lo(i);
		hi = i == INFERLAT_HIST_BUCKETS - 1 ? (double)h->max_ns : (double)hist_bucket_hi(i);
		mid = (lo + hi) / 2;
		if (mid < (double)h->min_ns)
			mid = (double)h->min_ns;
		if (mid > (double)h->max_ns)
			mid = (double)h->max_ns;
		return mid;
	}
	return (double)h->max_ns;
}

double hist_quantile_ns(const struct hist *h, double q)
{
	if (!h->count)
		return 0;
	if (q <= 0)
		return (double)h->min_ns;
	if (q >= 1)
		return (double)h->max_ns;
	return hist_rank_ns(h, (uint64_t)ceil(q * (double)h->count));
}

uint64_t hist_count_le(const struct hist *h, uint64_t ns)
{
	uint64_t cum = 0;

	for (uint32_t i = 0; i < INFERLAT_HIST_BUCKETS; i++) {
		if (hist_bucket_hi(i) > ns)
			break;
		cum += h->b[i];
	}
	return cum;
}
