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
	k->ncpus = libbpf_num_possible_cpus();
	if (k->ncpus <= 0)
		return k->ncpus ? k->ncpus : -EINVAL;
	k->stats_fd = stats_fd;
	k->hists_fd = hists_fd;
	/* per-CPU values are laid out at 8-byte strides; both structs are multiples */
	k->buf = calloc((size_t)k->ncpus, sizeof(struct probe_hist));
	return k->buf ? 0 : -ENOMEM;
}

void kstats_free(struct kstats *k)
{
	free(k->buf);
	memset(k, 0, sizeof(*k));
}

int kstats_read(struct kstats *k, uint32_t id, struct probe_stats *out)
{
	const struct probe_stats *v = k->buf;

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(k->stats_fd, &id, k->buf))
		return -errno;
	for (int c = 0; c < k->ncpus; c++) {
		out->entries += v[c].entries;
		out->calls += v[c].calls;
		out->sum_ns += v[c].sum_ns;
		out->errors += v[c].errors;
		out->rb_drops += v[c].rb_drops;
		out->depth_drops += v[c].depth_drops;
		out->state_drops += v[c].state_drops;
		out->unwound += v[c].unwound;
		out->orphans += v[c].orphans;
		out->oncpu_ns += v[c].oncpu_ns;
		out->offcpu_ns += v[c].offcpu_ns;
		out->runq_ns += v[c].runq_ns;
		out->minflt += v[c].minflt;
		out->majflt += v[c].majflt;
		out->nvcsw += v[c].nvcsw;
		out->nivcsw += v[c].nivcsw;
		out->pool_calls += v[c].pool_calls;
		out->pool_ns += v[c].pool_ns;
		out->pool_cpu_ns += v[c].pool_cpu_ns;
		out->unsplit += v[c].unsplit;
		out->thread_full += v[c].thread_full;
		out->exemplars += v[c].exemplars;
		out->exemplar_drops += v[c].exemplar_drops;
	}
	return 0;
}

int kstats_read_hist(struct kstats *k, uint32_t id, uint64_t *buckets)
{
	const struct probe_hist *v = k->buf;

	memset(buckets, 0, sizeof(uint64_t) * INFERLAT_HIST_BUCKETS);
	if (bpf_map_lookup_elem(k->hists_fd, &id, k->buf))
		return -errno;
	for (int c = 0; c < k->ncpus; c++)
		for (size_t i = 0; i < INFERLAT_HIST_BUCKETS; i++)
			buckets[i] += v[c].buckets[i];
	return 0;
}
