// SPDX-License-Identifier: GPL-2.0
/*
 * inferlat BPF side: time every call of the probed functions.
 *
 * on_entry (uprobe) pushes a frame on the calling thread's stack; on_return
 * (uretprobe) pops it, adds the duration to the probe's counters and
 * histogram (complete, per-CPU) and sends one call_event through the ring
 * buffer (best effort, drops counted). The probe id is the attach cookie.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "inferlat.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load (rodata): the verifier prunes what is off. */
const volatile bool filter_tgid = false;  /* consult traced_tgids on entry */
const volatile bool follow_exec = false;  /* add exec'ing followed exes to traced_tgids */
const volatile bool follow_forks = false; /* children of traced processes are traced */
const volatile __u32 wakeup_bytes = INFERLAT_WAKEUP_BYTES;

struct frame {
	__u64 ts;
	__u64 sp;     /* stack pointer at entry: the slot of the return address */
	__u32 probe_id;
	__u32 pad;
};

struct thread_state {
	__u32 depth;      /* frames recorded in f[] */
	__u32 overflow;   /* untimed frames above f[] (deeper than STACK_DEPTH) */
	struct frame f[INFERLAT_STACK_DEPTH];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_state);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, INFERLAT_RINGBUF_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);  /* resized by the loader */
	__type(key, __u32);
	__type(value, struct probe_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);  /* resized by the loader */
	__type(key, __u32);
	__type(value, struct probe_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);  /* resized by the loader */
	__type(key, __u32);
	__type(value, struct probe_cfg);
} cfgs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INFERLAT_MAX_TARGETS);
	__type(key, __u32);   /* tgid */
	__type(value, __u8);
} traced_tgids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INFERLAT_MAX_EXES);
	__type(key, struct exe_key);
	__type(value, __u8);
} followed_exes SEC(".maps");

static __always_inline bool is_error(const struct probe_cfg *cfg, long ret)
{
	long v = cfg->ret_bits == 32 ? (long)(int)ret : ret;

	switch (cfg->err_kind) {
	case INFERLAT_ERR_NONZERO:
		return v != 0;
	case INFERLAT_ERR_NEG:
		return v < 0;
	case INFERLAT_ERR_ZERO:
		return v == 0;
	default:
		return false;
	}
}

static __always_inline int handle_entry(struct pt_regs *ctx)
{
	__u32 id = (__u32)bpf_get_attach_cookie(ctx);
	struct thread_state *st;
	struct probe_stats *ps;
	__u32 d;

	if (filter_tgid) {
		__u32 tgid = bpf_get_current_pid_tgid() >> 32;

		if (!bpf_map_lookup_elem(&traced_tgids, &tgid))
			return 0;
	}
	ps = bpf_map_lookup_elem(&stats, &id);
	if (!ps)
		return 0;
	ps->entries++;

	st = bpf_task_storage_get(&threads, bpf_get_current_task_btf(), NULL,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st) {
		ps->state_drops++;
		return 0;
	}
	d = st->depth;
	if (d >= INFERLAT_STACK_DEPTH || st->overflow) {
		st->overflow++;
		ps->depth_drops++;
		return 0;
	}
	st->f[d].probe_id = id;
	st->f[d].sp = PT_REGS_SP(ctx);
	st->f[d].ts = bpf_ktime_get_ns();
	st->depth = d + 1;
	return 0;
}

_Static_assert((INFERLAT_STACK_DEPTH & (INFERLAT_STACK_DEPTH - 1)) == 0,
	       "frame indices are masked: the depth must be a power of two");

/* The frame below depth d (1 <= d <= STACK_DEPTH); masked for the verifier. */
static __always_inline struct frame *top_frame(struct thread_state *st, __u32 d)
{
	return &st->f[(d - 1) & (INFERLAT_STACK_DEPTH - 1)];
}

static __always_inline int handle_return(struct pt_regs *ctx)
{
	__u64 now = bpf_ktime_get_ns();
	/* ret popped the return address: the entry's sp is one slot below */
	__u64 sp = PT_REGS_SP(ctx) - sizeof(__u64);
	__u32 id = (__u32)bpf_get_attach_cookie(ctx);
	struct thread_state *st;
	struct probe_stats *ps;
	struct probe_hist *h;
	struct probe_cfg *cfg;
	struct call_event *e;
	struct frame *f;
	__u64 dur, avail, pid_tgid;
	long ret;
	__u32 d;
	bool err;

	st = bpf_task_storage_get(&threads, bpf_get_current_task_btf(), NULL, 0);
	if (!st)
		return 0;
	ps = bpf_map_lookup_elem(&stats, &id);
	if (!ps)
		return 0;

	d = st->depth;
	if (d > INFERLAT_STACK_DEPTH)
		d = INFERLAT_STACK_DEPTH;
	/* a deeper, untimed frame returning: its drop was counted at entry */
	if (st->overflow) {
		if (d == 0 || top_frame(st, d)->sp > sp) {
			st->overflow--;
			return 0;
		}
		/* the untimed frames were unwound past */
		st->overflow = 0;
	}
	/* frames below this one's sp were left without a return (unwinding) */
	for (int i = 0; i < INFERLAT_STACK_DEPTH; i++) {
		if (d == 0 || top_frame(st, d)->sp >= sp)
			break;
		d--;
		ps->unwound++;
	}
	if (d == 0) {
		st->depth = 0;
		ps->orphans++;
		return 0;
	}
	f = top_frame(st, d);
	if (f->sp != sp || f->probe_id != id) {
		st->depth = d;
		ps->orphans++;
		return 0;
	}
	st->depth = d - 1;

	dur = now - f->ts;
	ret = PT_REGS_RC(ctx);
	cfg = bpf_map_lookup_elem(&cfgs, &id);
	err = cfg && is_error(cfg, ret);
	if (cfg)
		dur = dur > cfg->adjust_ns ? dur - cfg->adjust_ns : 0;

	ps->calls++;
	ps->sum_ns += dur;
	if (err)
		ps->errors++;
	h = bpf_map_lookup_elem(&hists, &id);
	if (h) {
		__u32 b = inferlat_hist_bucket(dur);

		/* clang proves the bound and drops the check; the verifier needs it */
		barrier_var(b);
		if (b < INFERLAT_HIST_BUCKETS)
			h->buckets[b]++;
	}

	if (cfg && (cfg->flags & INFERLAT_CFG_NO_EVENT))
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		ps->rb_drops++;
		return 0;
	}
	pid_tgid = bpf_get_current_pid_tgid();
	e->start_ns = f->ts;
	e->duration_ns = dur;
	e->retval = ret;
	e->probe_id = id;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->depth = d - 1;
	e->flags = err ? INFERLAT_CALL_ERROR : 0;
	avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	bpf_ringbuf_submit(e, avail >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(on_entry)
{
	return handle_entry(ctx);
}

SEC("uretprobe")
int BPF_URETPROBE(on_return)
{
	return handle_return(ctx);
}

SEC("uprobe.multi")
int BPF_UPROBE(on_entry_multi)
{
	return handle_entry(ctx);
}

SEC("uretprobe.multi")
int BPF_URETPROBE(on_return_multi)
{
	return handle_return(ctx);
}

/* -x: a process exec'ing a followed executable becomes a target. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct exe_key key;
	struct inode *inode;
	__u32 tgid;
	__u8 one = 1;

	if (!follow_exec)
		return 0;
	inode = BPF_CORE_READ(bprm, file, f_inode);
	key.ino = BPF_CORE_READ(inode, i_ino);
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	if (!bpf_map_lookup_elem(&followed_exes, &key))
		return 0;
	tgid = BPF_CORE_READ(p, tgid);
	bpf_map_update_elem(&traced_tgids, &tgid, &one, BPF_ANY);
	return 0;
}

/* COMMAND and -x: a traced process's children are traced (pre-fork servers,
 * load generators that start the server). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid, ctgid;
	__u8 one = 1;

	if (!follow_forks)
		return 0;
	ptgid = BPF_CORE_READ(parent, tgid);
	ctgid = BPF_CORE_READ(child, tgid);
	if (ptgid == ctgid || !bpf_map_lookup_elem(&traced_tgids, &ptgid))
		return 0;
	bpf_map_update_elem(&traced_tgids, &ctgid, &one, BPF_ANY);
	return 0;
}

/* Forget a traced process when its last thread goes. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u32 tgid;

	if (!filter_tgid)
		return 0;
	/* the group leader can exit before its threads; wait for the last one */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	tgid = BPF_CORE_READ(p, tgid);
	bpf_map_delete_elem(&traced_tgids, &tgid);
	return 0;
}
