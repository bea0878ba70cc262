// SPDX-License-Identifier: GPL-2.0
/* Test double for kstats.c: the in-kernel counters as plain arrays. */
#include <errno.h>
#include <string.h>
#include "fake_kstats.h"

struct probe_stats fake_stats[FAKE_PROBES];
uint64_t fake_hists[FAKE_PROBES][INFERLAT_HIST_BUCKETS];

int kstats_read(struct kstats *k, uint32_t id, struct probe_stats *out)
{
	if (id >= FAKE_PROBES)
		return -ENOENT;
	*out = fake_stats[id];
	return 0;
}

int kstats_read_hist(struct kstats *k, uint32_t id, uint64_t *buckets)
{
	if (id >= FAKE_PROBES)
		return -ENOENT;
	memcpy(buckets, fake_hists[id], sizeof(fake_hists[id]));
	return 0;
}

/* What the BPF return program does for one call. */
void fake_kernel_call(uint32_t id, uint64_t ns, int error)
{
	fake_stats[id].calls++;
	fake_stats[id].sum_ns += ns;
	fake_stats[id].errors += error ? 1 : 0;
	fake_hists[id][inferlat_hist_bucket(ns)]++;
}
