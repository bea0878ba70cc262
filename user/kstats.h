/* SPDX-License-Identifier: GPL-2.0 */
/* Per-probe counters and histograms kept in the kernel (one copy for all CPUs). */
#ifndef INFERLAT_KSTATS_H
#define INFERLAT_KSTATS_H

#include <stdint.h>
#include "inferlat.h"

struct kstats {
	int stats_fd, hists_fd;
};

int kstats_init(struct kstats *k, int stats_fd, int hists_fd);
void kstats_free(struct kstats *k);
/* Cumulative counters of one probe since load. 0 or -errno. */
int kstats_read(struct kstats *k, uint32_t id, struct probe_stats *out);
/* Cumulative histogram buckets of one probe since load. 0 or -errno. */
int kstats_read_hist(struct kstats *k, uint32_t id, uint64_t *buckets);

#endif
