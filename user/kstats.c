// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kstats.h"

int kstats_init(struct kstats *k, int stats_fd, int hists_fd)
{
	memset(k, 0, sizeof(*k));
	k->stats_fd = stats_fd;
	k->hists_fd = hists_fd;
	return 0;
}

void kstats_free(struct kstats *k)
{
	memset(k, 0, sizeof(*k));
}

/* One copy shared by all CPUs (atomic adds in the kernel): read as is. */
int kstats_read(struct kstats *k, uint32_t id, struct probe_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(k->stats_fd, &id, out))
		return -errno;
	return 0;
}

int kstats_read_hist(struct kstats *k, uint32_t id, uint64_t *buckets)
{
	memset(buckets, 0, sizeof(uint64_t) * INFERLAT_HIST_BUCKETS);
	if (bpf_map_lookup_elem(k->hists_fd, &id, buckets))
		return -errno;
	return 0;
}
