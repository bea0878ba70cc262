/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Latency histograms with the kernel's bucket layout (include/inferlat.h):
 * the same bucket function fills both, so user-space and in-kernel figures
 * agree to the bucket.
 */
#ifndef INFERLAT_HIST_H
#define INFERLAT_HIST_H

#include <stdint.h>
#include <stddef.h>
#include "inferlat.h"

struct hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t min_ns;   /* exact extremes of what was added (UINT64_MAX / 0 when empty) */
	uint64_t max_ns;
	uint64_t b[INFERLAT_HIST_BUCKETS];
};

void hist_reset(struct hist *h);
void hist_add(struct hist *h, uint64_t ns);
void hist_merge(struct hist *dst, const struct hist *src);
/* Fill h from raw bucket counts (a kernel snapshot delta); min/max become the
 * bounds of the outermost non-empty buckets. */
void hist_from_buckets(struct hist *h, const uint64_t *buckets, uint64_t sum_ns);

/* Smallest and largest value a bucket holds. */
uint64_t hist_bucket_lo(uint32_t idx);
uint64_t hist_bucket_hi(uint32_t idx);

/*
 * Nearest-rank quantile (q in [0,1]): the bucket holding the ceil(q*count)-th
 * smallest value, reported as the bucket midpoint clamped to [min, max].
 * Returns 0 for an empty histogram.
 */
double hist_quantile_ns(const struct hist *h, double q);
/* The rank-th smallest value (1-based, clamped to the count), as above. */
double hist_rank_ns(const struct hist *h, uint64_t rank);
/* Count of values <= ns (for cumulative export). Exact at bucket bounds. */
uint64_t hist_count_le(const struct hist *h, uint64_t ns);

#endif
