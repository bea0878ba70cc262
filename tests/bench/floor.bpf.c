// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of the benchmark: what a uprobe+uretprobe pair costs with BPF
 * programs that do nothing. Whatever a tool adds per call above this is its
 * own; below it nothing can go at the same probe site.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

/* attached like inferlat's: one uprobe_multi link per direction */
SEC("uprobe.multi")
int floor_entry_multi(struct pt_regs *ctx)
{
	return 0;
}

SEC("uretprobe.multi")
int floor_return_multi(struct pt_regs *ctx)
{
	return 0;
}

/* the perf-event uprobe variant (one perf event per probe) */
SEC("uprobe")
int floor_entry(struct pt_regs *ctx)
{
	return 0;
}

SEC("uretprobe")
int floor_return(struct pt_regs *ctx)
{
	return 0;
}
