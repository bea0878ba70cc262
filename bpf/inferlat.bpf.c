// SPDX-License-Identifier: GPL-2.0
/*
 * inferlat BPF side: time every call of the probed functions.
 *
 * on_entry (uprobe) pushes a frame on the calling thread's stack; on_return
 * (uretprobe) pops it, adds the duration to the probe's counters and
 * histogram (complete, whatever becomes of the event) and sends one
 * call_event through the ring buffer (best effort, drops counted). The probe
 * id is the attach cookie.
 *
 * Per-probe counters and histograms are one copy shared by all CPUs, updated
 * with atomic adds: the kernel memory they take does not grow with the CPU
 * count (a per-CPU histogram is 30 KiB per probe per CPU: 3.8 GiB for 1000
 * probes on a 128-CPU host).
 *
 * Programs that run for every task on the host (context switches, wakeups,
 * exits, forks and the socket syscalls) first look at the task's own
 * bpf_storage pointer: a task no BPF program gave local storage to is none
 * of ours, and costs a load and a compare, no map lookup. inferlat gives
 * storage to every thread that enters a probed call (threads) and to the
 * group leader of every traced process (traced_procs). Exec is the
 * exception (on_exec): rare, and what it looks for has no storage yet (a
 * followed executable's new process, a traced process's new leader).
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
const volatile bool follow_comm = false;  /* add exec'ing processes with a followed comm */
const volatile bool http_on = false;      /* --http: traced_tgids kept for the socket syscalls */
const volatile bool split_on = true;      /* off (--no-split): latency only, no scheduler programs */
const volatile __u32 wakeup_bytes = INFERLAT_WAKEUP_BYTES;
/* set by the loader once a probe measures its thread pool (CFG_POOL):
 * probes come with libraries loaded later, so not a constant */
volatile bool pool_clock;

/* The thread's counters at entry; the call's share is taken at return. */
struct frame {
	__u64 ts;
	__u64 sp;     /* stack pointer at entry: the slot of the return address */
	__u32 probe_id;
	__u32 pad;
	__u64 offcpu, run_delay;
	__u64 minflt, majflt, nvcsw, nivcsw;
	__u64 args[INFERLAT_MAX_ARGS];   /* decoded at entry (REG_OUT: the pointer) */
	__u32 arg_fault;
	__u32 pool;   /* proc_cpu was read (INFERLAT_CFG_POOL) */
	__u64 proc_cpu;
};

struct thread_state {
	__u32 depth;      /* frames recorded in f[] */
	__u32 overflow;   /* untimed frames above f[] (deeper than STACK_DEPTH) */
	bool accounted;   /* the outermost frame has a sched_acct entry */
	bool counted;     /* in thread_states (new storage is zeroed) */
	struct frame f[INFERLAT_STACK_DEPTH];
};

/*
 * Where a call's time goes. The run-queue wait is the kernel's own per-task
 * figure (sched_info.run_delay, CONFIG_SCHED_INFO); inferlat measures the
 * blocked time from the scheduler's switch and wakeup events; the rest of the
 * call was on CPU. So the three add up to the duration, and the CPU figure
 * agrees with the kernel's (CLOCK_THREAD_CPUTIME_ID), which charges the
 * wake-up of a thread to the thread in cases its run-queue clock skips.
 *
 * The state lives in a hash map, not task storage: task-storage lookups from
 * tracing programs fail while another task-storage operation on the CPU is in
 * progress, which is precisely when a thread is preempted in a probe program.
 */
struct sched_acct {
	__u64 blocked_since;   /* switch-out into a sleep; 0: not blocked */
	__u64 offcpu;          /* blocked time so far */
	__u16 active;          /* inside a timed call */
	/* a scheduler event of this call was not seen (rare, under load): the
	 * split of this call cannot be trusted and is reported as unknown */
	__u16 lost;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INFERLAT_MAX_THREADS);   /* --max-threads */
	__type(key, __u32);   /* tid */
	__type(value, struct sched_acct);
} sched_accts SEC(".maps");

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

/* Threads holding a thread_state now: task storage is allocated per thread
 * and is not in the map's memlock figure, so the loader counts it from here. */
__s64 thread_states;
/* Processes that should have become targets (fork, exec) while the traced
 * set (traced_tgids) was full: not traced, counted. */
__u64 targets_full;

/* Marks the group leader of each traced process (the value is unused): the
 * per-task test above, for programs that ask "is this process traced?". */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u8);
} traced_procs SEC(".maps");

/* Scheduler and exit programs that passed the per-task test and went on to
 * a map lookup (per CPU, read by the tests: an untraced task makes none). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sched_lookups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);  /* resized by the loader */
	__type(key, __u32);
	__type(value, struct probe_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);  /* resized by the loader */
	__type(key, __u32);
	__type(value, struct probe_hist);
} hists SEC(".maps");

#define ADD(field, v) __sync_fetch_and_add(&(field), (v))

static __always_inline bool has_storage(struct task_struct *t)
{
	return t->bpf_storage != NULL;
}

/* A traced process's leader has traced_procs storage (among any other's). */
static __always_inline bool maybe_traced(struct task_struct *t)
{
	return has_storage(t->group_leader);
}

static __always_inline void count_lookup(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&sched_lookups, &zero);

	if (n)
		(*n)++;
}

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

/*
 * Per CPU: CLOCK_MONOTONIC minus the scheduler's task clock (rq clock_task,
 * which task runtimes are counted in), sampled at each context switch. With
 * it, a thread running on another CPU has its time since its runtime was
 * last brought up to date counted too, as the kernel's own
 * task_sched_runtime() does.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s64);
} clock_offsets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INFERLAT_MAX_EXES);
	__type(key, struct exe_key);
	__type(value, __u8);
} followed_exes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INFERLAT_MAX_COMMS);
	__type(key, struct comm_key);
	__type(value, __u8);
} followed_comms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, INFERLAT_CTL_RINGBUF_BYTES);
} ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, INFERLAT_EXEMPLAR_RINGBUF_BYTES);
} exemplars SEC(".maps");

/* Rare and urgent (a library to probe before its first call): wake the
 * loader at once. A full buffer drops the message; the next one (each
 * dlopen sends two) brings the rescan. */
static __always_inline void send_ctl(__u32 kind, __u32 tgid)
{
	struct ctl_event *c = bpf_ringbuf_reserve(&ctl, sizeof(*c), 0);

	if (!c)
		return;
	c->ts = bpf_ktime_get_ns();
	c->kind = kind;
	c->pid = tgid;
	bpf_ringbuf_submit(c, BPF_RB_FORCE_WAKEUP);
}

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

/* The kernel's run-queue delay of a task so far; 0 without CONFIG_SCHED_INFO. */
static __always_inline __u64 run_delay_of(struct task_struct *t)
{
	if (!bpf_core_field_exists(t->sched_info))
		return 0;
	return t->sched_info.run_delay;
}

static __always_inline __u64 arg_reg(struct pt_regs *ctx, __u8 reg)
{
	/* context fields must be read at constant offsets; the choice is made
	 * on the copies */
	__u64 r[8] = {
		PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx), PT_REGS_PARM3(ctx),
		PT_REGS_PARM4(ctx), PT_REGS_PARM5(ctx), PT_REGS_PARM6(ctx),
	};

	return r[reg & 7];
}

static __always_inline __u64 arg_width(__u64 v, __u8 size)
{
	return size == 4 ? (__u64)(__u32)v : v;
}

/* The arguments the probe's configuration names, as they are at entry. An
 * unreadable one (a bad pointer of the caller's) is 0 and flagged. */
static __always_inline void read_entry_args(struct pt_regs *ctx, const struct probe_cfg *cfg,
					    struct frame *f)
{
	f->arg_fault = 0;
	for (int i = 0; i < INFERLAT_MAX_ARGS; i++) {
		const struct inferlat_arg *a = &cfg->args[i];
		__u64 v = 0;

		if (i >= cfg->nargs || a->kind == INFERLAT_ARG_NONE) {
			f->args[i] = 0;
			continue;
		}
		if (a->kind == INFERLAT_ARG_REG || a->kind == INFERLAT_ARG_REG_OUT) {
			v = arg_reg(ctx, a->reg);
		} else if (a->kind == INFERLAT_ARG_STACK) {
			if (bpf_probe_read_user(&v, a->size == 4 ? 4 : 8,
						(void *)(PT_REGS_SP(ctx) + a->off))) {
				f->arg_fault = 1;
				v = 0;
			}
		}
		f->args[i] = a->kind == INFERLAT_ARG_REG_OUT ? v : arg_width(v, a->size);
	}
}

/*
 * llama.cpp's sequences. The batch's pointers are taken at entry (the struct
 * is the callee's stack argument) and its arrays read at return, after the
 * call's clock stopped, so the summary's reads are not in the duration.
 */
struct llama_batch_args {
	__s32 n_tokens;
	__u32 pad;
	__u64 token, embd, pos, n_seq_id, seq_id, logits;
};

struct pending_batch {
	struct llama_batch_args b;
	__u64 ctx;      /* the llama_context (rdi) */
	__u64 sp;       /* entry stack pointer: pairs the return with its entry */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);   /* tid: llama_decode does not nest */
	__type(value, struct pending_batch);
} pending_batches SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, INFERLAT_SEQ_RINGBUF_BYTES);
} seqs SEC(".maps");

/* The summary is built here (a map value, not the 512-byte stack), with
 * staging room for one chunk of each array, then copied to the ring. */
struct seq_scratch {
	struct seq_event ev;
	struct llama_batch_args b;
	__u32 last;     /* slot of the previous token: a sequence's tokens are adjacent */
	__u32 pad;
	__s32 pos[INFERLAT_SEQ_CHUNK];
	__s32 n_seq_id[INFERLAT_SEQ_CHUNK];
	__u64 seq_id[INFERLAT_SEQ_CHUNK];
	__s8 logits[INFERLAT_SEQ_CHUNK];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct seq_scratch);
} seq_scratch SEC(".maps");

static __always_inline void note_batch(struct pt_regs *ctx, __u32 tid)
{
	struct pending_batch p = {};

	if (bpf_probe_read_user(&p.b, sizeof(p.b), (void *)(PT_REGS_SP(ctx) + 8)))
		p.b.n_tokens = -1;   /* unreadable: reported as a fault */
	p.ctx = PT_REGS_PARM1(ctx);
	p.sp = PT_REGS_SP(ctx);
	bpf_map_update_elem(&pending_batches, &tid, &p, BPF_ANY);
}

/* The slot of sequence 'seq', added if new; INFERLAT_SEQ_SLOTS when full. */
static __always_inline __u32 seq_slot_of(struct seq_scratch *sc, __s32 seq)
{
	struct seq_event *ev = &sc->ev;
	__u32 n = ev->nslots, i;

	i = sc->last;
	if (i < INFERLAT_SEQ_SLOTS && i < n && ev->slots[i].seq_id == seq)
		return i;
	for (i = 0; i < INFERLAT_SEQ_SLOTS; i++) {
		if (i >= n)
			break;
		if (ev->slots[i].seq_id == seq) {
			sc->last = i;
			return i;
		}
	}
	if (n >= INFERLAT_SEQ_SLOTS)
		return INFERLAT_SEQ_SLOTS;
	ev->slots[n].seq_id = seq;
	ev->slots[n].n_tokens = 0;
	ev->slots[n].pos_min = 0x7fffffff;
	ev->slots[n].pos_max = -1;
	ev->slots[n].n_logits = 0;
	ev->slots[n].pad = 0;
	ev->nslots = n + 1;
	sc->last = n;
	return n;
}

/* Read the chunk of the batch's arrays that token i0 starts. */
static __always_inline int read_chunk(struct seq_scratch *sc, __u32 i0)
{
	__u32 n = (__u32)sc->b.n_tokens - i0;

	if (n > INFERLAT_SEQ_CHUNK)
		n = INFERLAT_SEQ_CHUNK;
	/* the verifier must see each read's size bounded where it is used */
	barrier_var(n);
	n &= 2 * INFERLAT_SEQ_CHUNK - 1;
	if (n > INFERLAT_SEQ_CHUNK)
		return -1;
	if (sc->b.pos &&
	    bpf_probe_read_user(sc->pos, n * sizeof(__s32), (void *)(sc->b.pos + i0 * sizeof(__s32))))
		return -1;
	if (sc->b.seq_id && sc->b.n_seq_id &&
	    (bpf_probe_read_user(sc->n_seq_id, n * sizeof(__s32),
				 (void *)(sc->b.n_seq_id + i0 * sizeof(__s32))) ||
	     bpf_probe_read_user(sc->seq_id, n * sizeof(__u64),
				 (void *)(sc->b.seq_id + i0 * sizeof(__u64)))))
		return -1;
	if (sc->b.logits && bpf_probe_read_user(sc->logits, n, (void *)(sc->b.logits + i0)))
		return -1;
	return 0;
}

/* One token of the batch (bpf_loop callback); the arrays are read a chunk
 * at a time. */
static long seq_token(__u64 idx, void *unused)
{
	__u32 zero = 0, i = (__u32)idx, k = i % INFERLAT_SEQ_CHUNK, s;
	struct seq_scratch *sc = bpf_map_lookup_elem(&seq_scratch, &zero);
	struct seq_event *ev;
	__s32 seq = 0, pos;
	bool out;

	if (!sc)
		return 1;
	ev = &sc->ev;
	if (k == 0 && read_chunk(sc, i))
		goto fault;
	if (sc->b.seq_id && sc->b.n_seq_id) {
		if (sc->n_seq_id[k] < 1)
			return 0;   /* in no sequence */
		if (sc->n_seq_id[k] > 1)
			ev->flags |= INFERLAT_SEQ_SHARED;
		if (bpf_probe_read_user(&seq, sizeof(seq), (void *)sc->seq_id[k]))
			goto fault;
	}
	s = seq_slot_of(sc, seq);
	if (s >= INFERLAT_SEQ_SLOTS) {
		ev->flags |= INFERLAT_SEQ_MORE_SEQS;
		return 0;
	}
	/* logits NULL: only the batch's last token is output (llama.h) */
	out = sc->b.logits ? sc->logits[k] != 0 : i + 1 == (__u32)sc->b.n_tokens;
	ev->slots[s].n_tokens++;
	ev->slots[s].n_logits += out;
	if (sc->b.pos) {
		pos = sc->pos[k];
		if (pos < ev->slots[s].pos_min)
			ev->slots[s].pos_min = pos;
		if (pos > ev->slots[s].pos_max)
			ev->slots[s].pos_max = pos;
	}
	return 0;
fault:
	ev->flags |= INFERLAT_SEQ_FAULT;
	return 1;
}

/* At return of a probe with a INFERLAT_CFG_SEQ_* flag: its seq_event. */
static __always_inline int send_seq(__u32 cfg_flags, const struct frame *f, __u64 end, __s64 ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 zero = 0, tid = (__u32)pid_tgid, i;
	struct pending_batch *p = NULL;
	struct seq_scratch *sc;
	struct seq_event *ev;

	sc = bpf_map_lookup_elem(&seq_scratch, &zero);
	if (!sc)
		return 0;
	ev = &sc->ev;
	ev->start_ns = f->ts;
	ev->end_ns = end;
	ev->ctx = 0;
	ev->retval = ret;
	ev->pid = pid_tgid >> 32;
	ev->tid = tid;
	ev->nslots = 0;
	ev->n_tokens = 0;
	ev->flags = 0;
	ev->pad = 0;
	sc->last = 0;
	if (cfg_flags & INFERLAT_CFG_SEQ_DECODE) {
		ev->kind = INFERLAT_SEQ_DECODE;
		p = bpf_map_lookup_elem(&pending_batches, &tid);
		if (!p || p->sp != f->sp)
			return 0;   /* its entry went unseen */
		sc->b = p->b;
		ev->ctx = p->ctx;
		bpf_map_delete_elem(&pending_batches, &tid);
		ev->n_tokens = sc->b.n_tokens;
		if (sc->b.n_tokens < 0) {
			ev->flags |= INFERLAT_SEQ_FAULT;
		} else {
			if (!sc->b.pos)
				ev->flags |= INFERLAT_SEQ_IMPLICIT_POS;
			if (!sc->b.seq_id || !sc->b.n_seq_id)
				ev->flags |= INFERLAT_SEQ_IMPLICIT_SEQ;
			if (sc->b.n_tokens > INFERLAT_SEQ_MAX_TOKENS) {
				ev->flags |= INFERLAT_SEQ_MORE_TOKENS;
				sc->b.n_tokens = INFERLAT_SEQ_MAX_TOKENS;
			}
			bpf_loop((__u32)sc->b.n_tokens, seq_token, NULL, 0);
			for (i = 0; i < INFERLAT_SEQ_SLOTS; i++) {
				if (i >= ev->nslots)
					break;
				if (ev->slots[i].pos_max < 0)
					ev->slots[i].pos_min = -1;
			}
		}
	} else if (cfg_flags & INFERLAT_CFG_SEQ_RM) {
		ev->kind = INFERLAT_SEQ_RM;
		ev->nslots = 1;
		ev->slots[0].seq_id = (__s32)f->args[0];
		ev->slots[0].pos_min = (__s32)f->args[1];
		ev->slots[0].pos_max = (__s32)f->args[2];
		ev->slots[0].n_tokens = 0;
		ev->slots[0].n_logits = 0;
		ev->slots[0].pad = 0;
	} else {
		ev->kind = INFERLAT_SEQ_CLEAR;
	}
	/* only the slots in use cross over */
	bpf_ringbuf_output(&seqs, ev, sizeof(*ev), BPF_RB_NO_WAKEUP);
	return 0;
}

extern int bpf_iter_task_new(struct bpf_iter_task *it, struct task_struct *task,
			     unsigned int flags) __weak __ksym;
extern struct task_struct *bpf_iter_task_next(struct bpf_iter_task *it) __weak __ksym;
extern void bpf_iter_task_destroy(struct bpf_iter_task *it) __weak __ksym;

/*
 * CPU time of all of task's process's threads: those gone (kept in its
 * signal struct) and each live one's. A thread running on another CPU has
 * its time brought up to date at its next tick or switch, so each end of a
 * call reads up to a tick short per running thread: the error has no sign
 * and averages out over calls.
 */
static __always_inline __u64 process_cpu_ns(struct task_struct *task)
{
	struct bpf_iter_task it;
	struct task_struct *t;
	__u64 sum = task->signal->sum_sched_runtime;
	__u64 now = bpf_ktime_get_ns();
	__u32 zero = 0;

	/* an open-coded iterator: the verifier knows it ends */
	bpf_iter_task_new(&it, task, BPF_TASK_ITER_TGID);
	while ((t = bpf_iter_task_next(&it))) {
		__s64 *off, run;

		sum += t->se.sum_exec_runtime;
		if (!t->on_cpu)
			continue;
		/* running: its time since the runtime was last updated */
		off = bpf_map_lookup_percpu_elem(&clock_offsets, &zero, t->thread_info.cpu);
		if (!off || !*off)
			continue;
		run = (__s64)now - *off - (__s64)t->se.exec_start;
		if (run > 0 && run < 1000000000)
			sum += (__u64)run;
	}
	bpf_iter_task_destroy(&it);
	return sum;
}

static __always_inline int handle_entry(struct pt_regs *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 id = (__u32)bpf_get_attach_cookie(ctx);
	struct sched_acct *acct = NULL;
	struct thread_state *st;
	struct probe_stats *ps;
	struct probe_cfg *cfg;
	struct frame *f;
	__u64 now;
	__u32 d, tid;

	if (filter_tgid) {
		__u32 tgid = bpf_get_current_pid_tgid() >> 32;

		if (!maybe_traced(task) || !bpf_map_lookup_elem(&traced_tgids, &tgid))
			return 0;
	}
	ps = bpf_map_lookup_elem(&stats, &id);
	if (!ps)
		return 0;
	ADD(ps->entries, 1);

	st = bpf_task_storage_get(&threads, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st) {
		ADD(ps->state_drops, 1);
		return 0;
	}
	if (!st->counted) {
		st->counted = true;
		ADD(thread_states, 1);
	}
	d = st->depth;
	if (d >= INFERLAT_STACK_DEPTH || st->overflow) {
		st->overflow++;
		ADD(ps->depth_drops, 1);
		return 0;
	}
	tid = (__u32)bpf_get_current_pid_tgid();
	now = bpf_ktime_get_ns();
	if (!split_on) {
		st->accounted = false;
	} else if (d == 0) {
		/* accounting starts with the outermost call, on CPU */
		acct = bpf_map_lookup_elem(&sched_accts, &tid);
		if (!acct) {
			struct sched_acct zero = {};

			bpf_map_update_elem(&sched_accts, &tid, &zero, BPF_NOEXIST);
			acct = bpf_map_lookup_elem(&sched_accts, &tid);
		}
		st->accounted = acct != NULL;
		if (!acct)
			ADD(ps->thread_full, 1);   /* table full: newer threads go unsplit */
		if (acct) {
			acct->blocked_since = 0;
			acct->lost = 0;
			acct->active = 1;
		}
	} else if (st->accounted) {
		acct = bpf_map_lookup_elem(&sched_accts, &tid);
	}
	f = &st->f[d & (INFERLAT_STACK_DEPTH - 1)];
	cfg = bpf_map_lookup_elem(&cfgs, &id);
	if (cfg && (cfg->flags & INFERLAT_CFG_SEQ_DECODE))
		note_batch(ctx, tid);
	if (cfg && cfg->nargs) {
		read_entry_args(ctx, cfg, f);
	} else {
		f->args[0] = f->args[1] = f->args[2] = 0;
		f->arg_fault = 0;
	}
	f->pool = split_on && cfg && (cfg->flags & INFERLAT_CFG_POOL);
	if (f->pool)
		f->proc_cpu = process_cpu_ns(task);
	f->probe_id = id;
	f->sp = PT_REGS_SP(ctx);
	if (split_on) {
		/* direct loads through the trusted task pointer: no helper calls */
		if (acct)
			f->offcpu = acct->offcpu;
		f->run_delay = run_delay_of(task);
		f->minflt = task->min_flt;
		f->majflt = task->maj_flt;
		f->nvcsw = task->nvcsw;
		f->nivcsw = task->nivcsw;
	}
	f->ts = now;
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

/*
 * Pop the frame of the call returning at sp, dropping on the way the frames
 * that unwinding left without a return. NULL when this is no return of a
 * timed call; *depth is the number of probed frames below the popped one.
 */
static __always_inline struct frame *pop_frame(struct thread_state *st, struct probe_stats *ps,
					       __u64 sp, __u32 id, __u32 *depth)
{
	struct frame *f;
	__u32 d = st->depth;

	if (d > INFERLAT_STACK_DEPTH)
		d = INFERLAT_STACK_DEPTH;
	/* a deeper, untimed frame returning: its drop was counted at entry */
	if (st->overflow) {
		if (d == 0 || top_frame(st, d)->sp > sp) {
			st->overflow--;
			return NULL;
		}
		/* the untimed frames were unwound past */
		st->overflow = 0;
	}
	/* frames below this one's sp were left without a return (unwinding) */
	for (int i = 0; i < INFERLAT_STACK_DEPTH; i++) {
		if (d == 0 || top_frame(st, d)->sp >= sp)
			break;
		d--;
		ADD(ps->unwound, 1);
	}
	if (d == 0) {
		st->depth = 0;
		ADD(ps->orphans, 1);
		return NULL;
	}
	f = top_frame(st, d);
	if (f->sp != sp || f->probe_id != id) {
		st->depth = d;
		ADD(ps->orphans, 1);
		return NULL;
	}
	st->depth = d - 1;
	*depth = d - 1;
	return f;
}

/*
 * The call's share of the thread's counters, from their values at entry
 * (struct frame). True when its time can be split: the thread has a
 * sched_accts entry and none of the call's scheduler events went unseen.
 */
static __always_inline bool read_resources(const struct thread_state *st, const struct frame *f,
					   __u32 depth, __u32 tid, struct task_struct *task,
					   struct call_resources *res)
{
	struct sched_acct *acct = st->accounted ? bpf_map_lookup_elem(&sched_accts, &tid) : NULL;

	/* returning, so running: a thread still marked blocked missed events */
	if (acct && (acct->lost || acct->blocked_since)) {
		if (depth == 0)
			acct->active = 0;
		acct = NULL;
	}
	__builtin_memset(res, 0, sizeof(*res));
	if (acct) {
		res->offcpu_ns = acct->offcpu - f->offcpu;
		res->runq_ns = run_delay_of(task) - f->run_delay;
		if (depth == 0)
			acct->active = 0;   /* out of the outermost call */
	}
	if (split_on) {
		res->minflt = (__u32)(task->min_flt - f->minflt);
		res->majflt = (__u32)(task->maj_flt - f->majflt);
		res->nvcsw = (__u32)(task->nvcsw - f->nvcsw);
		res->nivcsw = (__u32)(task->nivcsw - f->nivcsw);
	}
	if (f->pool) {
		__u64 cpu = process_cpu_ns(task);

		res->proc_cpu_ns = cpu > f->proc_cpu ? cpu - f->proc_cpu : 0;
	}
	return acct != NULL;
}

/* The probe's own overhead (on CPU, measured per site kind) would otherwise
 * be in every duration. */
static __always_inline __u64 call_duration(const struct probe_cfg *cfg, const struct frame *f, __u64 now)
{
	__u64 dur = now - f->ts, adjust = cfg ? cfg->adjust_ns : 0;

	return dur > adjust ? dur - adjust : 0;
}

/* What the call was neither blocked nor waiting for a CPU, it ran. More of
 * those two than the whole duration cannot be trusted: no split then. */
static __always_inline bool split_time(struct call_resources *res, __u64 dur)
{
	if (res->offcpu_ns + res->runq_ns > dur) {
		res->offcpu_ns = res->runq_ns = 0;
		return false;
	}
	res->oncpu_ns = dur - res->offcpu_ns - res->runq_ns;
	return true;
}

/* The probe's counters and histogram, complete whatever becomes of the
 * call's event. */
static __always_inline void account(struct probe_stats *ps, __u32 id, const struct call_event *c)
{
	const struct call_resources *res = &c->res;
	__u64 dur = c->duration_ns;
	struct probe_hist *h;

	ADD(ps->calls, 1);
	ADD(ps->sum_ns, dur);
	if (c->flags & INFERLAT_CALL_ERROR)
		ADD(ps->errors, 1);
	if (c->flags & INFERLAT_CALL_NO_SPLIT) {
		ADD(ps->unsplit, 1);
	} else {
		ADD(ps->oncpu_ns, res->oncpu_ns);
		ADD(ps->offcpu_ns, res->offcpu_ns);
		ADD(ps->runq_ns, res->runq_ns);
	}
	if (split_on) {
		if (res->minflt)
			ADD(ps->minflt, res->minflt);
		if (res->majflt)
			ADD(ps->majflt, res->majflt);
		if (res->nvcsw)
			ADD(ps->nvcsw, res->nvcsw);
		if (res->nivcsw)
			ADD(ps->nivcsw, res->nivcsw);
	}
	if (c->flags & INFERLAT_CALL_POOL) {
		ADD(ps->pool_calls, 1);
		ADD(ps->pool_ns, dur);
		ADD(ps->pool_cpu_ns, res->proc_cpu_ns);
	}
	h = bpf_map_lookup_elem(&hists, &id);
	if (h) {
		__u32 b = inferlat_hist_bucket(dur);

		/* clang proves the bound and drops the check; the verifier needs it */
		barrier_var(b);
		if (b < INFERLAT_HIST_BUCKETS)
			ADD(h->buckets[b], 1);
	}
}

/* The call's arguments: those taken at entry, and out parameters, which the
 * call filled, read now (only probes that decode arguments pay for the
 * look). Returns INFERLAT_CALL_ARG_FAULT if one could not be read. */
static __always_inline __u16 read_args(const struct probe_cfg *cfg, const struct frame *f, __u64 *args)
{
	__u16 flags = 0;

	args[0] = f->args[0];
	args[1] = f->args[1];
	args[2] = f->args[2];
	if (!cfg || !cfg->nargs)
		return 0;
	for (int i = 0; i < INFERLAT_MAX_ARGS; i++) {
		const struct inferlat_arg *a = &cfg->args[i];
		__u64 v = 0;

		if (i >= cfg->nargs || a->kind != INFERLAT_ARG_REG_OUT)
			continue;
		if (bpf_probe_read_user(&v, a->size == 4 ? 4 : 8, (void *)f->args[i]))
			flags |= INFERLAT_CALL_ARG_FAULT;
		args[i] = arg_width(v, a->size);
	}
	if (f->arg_fault)
		flags |= INFERLAT_CALL_ARG_FAULT;
	return flags;
}

/* A slow call with its caller's stack, walked here so that fast calls never
 * pay for it. */
static __always_inline void send_exemplar(struct pt_regs *ctx, struct probe_stats *ps,
					  const struct call_event *c, __u64 slow_ns)
{
	struct exemplar_event *x = bpf_ringbuf_reserve(&exemplars, sizeof(*x), 0);
	long n;

	if (!x) {
		ADD(ps->exemplar_drops, 1);
		return;
	}
	x->call = *c;
	x->slow_ns = slow_ns;
	x->pad = 0;
	n = bpf_get_stack(ctx, x->ips, sizeof(x->ips), BPF_F_USER_STACK);
	x->nframes = n > 0 ? (__u32)(n / sizeof(__u64)) : 0;
	bpf_ringbuf_submit(x, 0);
	ADD(ps->exemplars, 1);
}

/* Best effort: a full ring drops the event, counted; the counters and
 * histogram have the call already. */
static __always_inline void send_call(struct probe_stats *ps, const struct call_event *c)
{
	struct call_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u64 avail;

	if (!e) {
		ADD(ps->rb_drops, 1);
		return;
	}
	*e = *c;
	avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	bpf_ringbuf_submit(e, avail >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

static __always_inline int handle_return(struct pt_regs *ctx)
{
	__u64 now = bpf_ktime_get_ns();
	/* ret popped the return address: the entry's sp is one slot below */
	__u64 sp = PT_REGS_SP(ctx) - sizeof(__u64);
	__u32 id = (__u32)bpf_get_attach_cookie(ctx);
	struct task_struct *task = bpf_get_current_task_btf();
	struct thread_state *st;
	struct probe_stats *ps;
	struct probe_cfg *cfg;
	struct call_event c;
	struct frame *f;
	__u64 pid_tgid;
	__u32 depth = 0;
	bool split;

	st = bpf_task_storage_get(&threads, task, NULL, 0);
	if (!st)
		return 0;
	ps = bpf_map_lookup_elem(&stats, &id);
	if (!ps)
		return 0;
	f = pop_frame(st, ps, sp, id, &depth);
	if (!f)
		return 0;

	pid_tgid = bpf_get_current_pid_tgid();
	split = read_resources(st, f, depth, (__u32)pid_tgid, task, &c.res);
	c.retval = PT_REGS_RC(ctx);
	cfg = bpf_map_lookup_elem(&cfgs, &id);
	c.duration_ns = call_duration(cfg, f, now);
	split = split && split_time(&c.res, c.duration_ns);
	c.start_ns = f->ts;
	c.probe_id = id;
	c.pid = pid_tgid >> 32;
	c.tid = (__u32)pid_tgid;
	c.depth = (__u16)depth;
	c.flags = (cfg && is_error(cfg, c.retval) ? INFERLAT_CALL_ERROR : 0) |
		  (split ? 0 : INFERLAT_CALL_NO_SPLIT) | (f->pool ? INFERLAT_CALL_POOL : 0);
	account(ps, id, &c);

	c.flags |= read_args(cfg, f, c.args);
	if (cfg && cfg->slow_ns && c.duration_ns >= cfg->slow_ns)
		send_exemplar(ctx, ps, &c, cfg->slow_ns);
	if (cfg && (cfg->flags & (INFERLAT_CFG_SEQ_DECODE | INFERLAT_CFG_SEQ_RM | INFERLAT_CFG_SEQ_CLEAR)))
		send_seq(cfg->flags, f, now, c.retval);
	/* set when nobody reads the probe's call events; exemplars and sequences
	 * have readers of their own, so they went out above */
	if (cfg && (cfg->flags & INFERLAT_CFG_NO_EVENT))
		return 0;
	send_call(ps, &c);
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

/* The same for uprobe_multi links: a program is loaded for one kind of link
 * (its expected attach type), so each kind has its own pair; the loader
 * loads one of the two. */
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

/*
 * Scheduler accounting of threads inside timed calls: a switch between two
 * tasks without local storage costs two loads and compares. With a
 * thread-pool probe (pool_clock) every switch also samples its CPU's clock
 * offset, before the per-task test: process_cpu_ns() reads the offset of
 * whichever CPU a traced thread is running on.
 */
SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	struct sched_acct *a;
	__u64 now;
	__u32 tid;

	if (pool_clock && prev->pid) {
		/* prev's runtime was brought up to the task clock just now */
		__u32 zero = 0;
		__s64 *off = bpf_map_lookup_elem(&clock_offsets, &zero);

		if (off)
			*off = (__s64)bpf_ktime_get_ns() - (__s64)prev->se.exec_start;
	}
	if (has_storage(prev)) {
		count_lookup();
		tid = prev->pid;
		a = bpf_map_lookup_elem(&sched_accts, &tid);
		/*
		 * Going to sleep. A preempted thread can have a sleeping state
		 * already (preempted on its way into the sleep); it still waits on
		 * the run queue, and that is the kernel's run delay.
		 */
		if (a && a->active && !preempt && prev_state != 0) {
			now = bpf_ktime_get_ns();
			if (a->blocked_since)
				a->lost = 1;   /* its wakeup and switch-in went unseen */
			a->blocked_since = now;
		}
	}
	if (has_storage(next)) {
		count_lookup();
		tid = next->pid;
		a = bpf_map_lookup_elem(&sched_accts, &tid);
		if (a && a->active && a->blocked_since) {
			/* its wakeup went unseen: blocked until now */
			now = bpf_ktime_get_ns();
			a->offcpu += now - a->blocked_since;
			a->blocked_since = 0;
		}
	}
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(on_wakeup, struct task_struct *p)
{
	struct sched_acct *a;
	__u32 tid;

	if (!has_storage(p))
		return 0;
	count_lookup();
	tid = p->pid;
	a = bpf_map_lookup_elem(&sched_accts, &tid);
	if (!a || !a->active || !a->blocked_since)
		return 0;
	a->offcpu += bpf_ktime_get_ns() - a->blocked_since;
	a->blocked_since = 0;
	return 0;
}

/* -x and --comm: a process exec'ing a followed executable, or taking a
 * followed name, becomes a target. A traced process whose exec made a new
 * leader of another of its threads has the mark moved to it. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct comm_key comm = {};
	struct exe_key key;
	struct inode *inode;
	bool follow = false;
	__u32 tgid = task->tgid;
	__u8 one = 1;

	if (!has_storage(task) && bpf_map_lookup_elem(&traced_tgids, &tgid)) {
		bpf_task_storage_get(&traced_procs, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
		return 0;
	}
	if (follow_exec) {
		inode = BPF_CORE_READ(bprm, file, f_inode);
		key.ino = BPF_CORE_READ(inode, i_ino);
		key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
		follow = bpf_map_lookup_elem(&followed_exes, &key) != NULL;
	}
	if (!follow && follow_comm) {
		/* exec has set the new name (the file's basename) by now */
		bpf_probe_read_kernel_str(comm.comm, sizeof(comm.comm), task->comm);
		follow = bpf_map_lookup_elem(&followed_comms, &comm) != NULL;
	}
	if (!follow)
		return 0;
	if (bpf_map_update_elem(&traced_tgids, &tgid, &one, BPF_ANY)) {
		ADD(targets_full, 1);
		return 0;
	}
	bpf_task_storage_get(&traced_procs, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	send_ctl(INFERLAT_CTL_EXEC, tgid);
	return 0;
}

/*
 * The dynamic loader calls _dl_debug_state() (the r_debug breakpoint
 * debuggers use) after it changed the list of loaded objects: dlopen,
 * dlclose, and a new process's libraries mapped before its main(). The
 * loader rescans the process's maps and probes what the specs match.
 */
static __always_inline int handle_loader(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (filter_tgid && (!maybe_traced(bpf_get_current_task_btf()) ||
			    !bpf_map_lookup_elem(&traced_tgids, &tgid)))
		return 0;
	send_ctl(INFERLAT_CTL_LOADED, tgid);
	return 0;
}

SEC("uprobe")
int BPF_UPROBE(on_loader)
{
	return handle_loader();
}

/* The same through a uprobe_multi link: unlike a perf uprobe, it needs no
 * CAP_SYS_ADMIN (CAP_BPF and CAP_PERFMON are enough). */
SEC("uprobe.multi")
int BPF_UPROBE(on_loader_multi)
{
	return handle_loader();
}

/* COMMAND and -x: a traced process's children are traced (pre-fork servers,
 * load generators that start the server). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid, ctgid;
	__u8 one = 1;

	if (!follow_forks || !maybe_traced(parent))
		return 0;
	ptgid = parent->tgid;
	ctgid = child->tgid;
	if (ptgid == ctgid)
		return 0;
	count_lookup();
	if (!bpf_map_lookup_elem(&traced_tgids, &ptgid))
		return 0;
	if (bpf_map_update_elem(&traced_tgids, &ctgid, &one, BPF_ANY)) {
		ADD(targets_full, 1);
		return 0;
	}
	/* a new process: the child is its group leader */
	bpf_task_storage_get(&traced_procs, child, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	return 0;
}

/* A thread's accounting goes with it. */
static __always_inline void forget_thread(struct task_struct *task)
{
	struct thread_state *st;
	__u32 tid;

	if (!has_storage(task))
		return;
	count_lookup();
	tid = task->pid;
	bpf_map_delete_elem(&sched_accts, &tid);
	st = bpf_task_storage_get(&threads, task, NULL, 0);
	if (st && st->counted) {
		st->counted = false;
		ADD(thread_states, -1);
	}
}

/* A traced process leaves the traced set with its last thread. */
static __always_inline void forget_process(struct task_struct *task)
{
	__u32 tgid;

	if (!maybe_traced(task))
		return;
	/* the group leader can exit before its threads; wait for the last one */
	if (task->signal->live.counter != 0)
		return;
	count_lookup();
	tgid = task->tgid;
	bpf_map_delete_elem(&traced_tgids, &tgid);
}

/* Runs for every task exit on the host (the exiting task is current): each
 * job is behind its rodata switch and the per-task test, so that an untraced
 * task's exit makes no lookup. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (split_on)
		forget_thread(task);
	if (filter_tgid || http_on)
		forget_process(task);
	return 0;
}

#include "sock.bpf.h"
