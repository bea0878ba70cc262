/* SPDX-License-Identifier: GPL-2.0 */
/*
 * inferlat: the one contract between the BPF programs (bpf/) and the loader
 * (user/). Everything that crosses the kernel/user line is defined here, once.
 */
#ifndef INFERLAT_H
#define INFERLAT_H

#ifdef __bpf__
/* vmlinux.h already defines the __u* types */
#else
#include <linux/types.h>
#endif

/* Nested calls of probed functions kept per thread; deeper ones are counted
 * in probe_stats.depth_drops and not timed. */
#define INFERLAT_STACK_DEPTH 16

/* Probe ids index the per-probe maps; the loader sizes the maps to the number
 * of probes it resolves, up to this many. */
#define INFERLAT_MAX_PROBES 4096

/* Traced processes when the target set is filtered in BPF (-x, several -p). */
#define INFERLAT_MAX_TARGETS 16384

/* Executables (-x) followed across exec; matched by device and inode. */
#define INFERLAT_MAX_EXES 64

/* Threads whose scheduler time is accounted (those that have been inside a
 * probed call; an entry lives until the thread exits), unless --max-threads
 * sizes the table. When it is full, the threads that hold an entry keep it
 * (the oldest are kept); a newer thread's calls are still timed, without the
 * time split, and counted in probe_stats.thread_full. */
#define INFERLAT_MAX_THREADS 32768
/* --max-threads bounds */
#define INFERLAT_MAX_THREADS_LIMIT (1u << 22)

/* Ring buffer default size and the fill level at which the producer wakes the
 * consumer; below it, the consumer polls on its own tick. Waking per event
 * costs more CPU than the event itself. */
#define INFERLAT_RINGBUF_BYTES (4u << 20)
#define INFERLAT_WAKEUP_BYTES (INFERLAT_RINGBUF_BYTES / 4)

/*
 * Log-linear latency histogram (nanoseconds).
 *
 * Values below 2^(SUB_BITS+1) get one bucket each. Above, every octave
 * [2^e, 2^(e+1)) is split into 2^SUB_BITS equal buckets, so a bucket is at
 * most 1/128 = 0.78% wide relative to its lower bound: the midpoint is within
 * 0.39% of any value in it. Octaves run up to e = HIST_MAX_EXP; larger values
 * (>= 2^36 ns, 68.7 s) are counted in the last bucket.
 */
#define INFERLAT_HIST_SUB_BITS 7
#define INFERLAT_HIST_SUB (1u << INFERLAT_HIST_SUB_BITS)
#define INFERLAT_HIST_MAX_EXP 35
#define INFERLAT_HIST_BUCKETS \
	((INFERLAT_HIST_MAX_EXP - INFERLAT_HIST_SUB_BITS + 2) * INFERLAT_HIST_SUB)

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* floor(log2(v)) for v > 0, branch-free: BPF has no count-leading-zeros. */
static __always_inline __u32 inferlat_log2(__u64 v)
{
	__u32 r, s;

	r = (v > 0xFFFFFFFFull) << 5;
	v >>= r;
	s = (v > 0xFFFF) << 4;
	v >>= s;
	r |= s;
	s = (v > 0xFF) << 3;
	v >>= s;
	r |= s;
	s = (v > 0xF) << 2;
	v >>= s;
	r |= s;
	s = (v > 0x3) << 1;
	v >>= s;
	r |= s;
	r |= (__u32)(v >> 1);
	return r;
}

static __always_inline __u32 inferlat_hist_bucket(__u64 ns)
{
	__u32 e, shift, idx;

	if (ns < 2 * INFERLAT_HIST_SUB)
		return (__u32)ns;
	e = inferlat_log2(ns);
	if (e > INFERLAT_HIST_MAX_EXP)
		return INFERLAT_HIST_BUCKETS - 1;
	shift = e - INFERLAT_HIST_SUB_BITS;
	idx = (shift << INFERLAT_HIST_SUB_BITS) + (__u32)(ns >> shift);
	return idx;
}

/* Error predicates on the return value (-E/--error). */
enum inferlat_err_kind {
	INFERLAT_ERR_NONE = 0,
	INFERLAT_ERR_NONZERO,  /* ret != 0 */
	INFERLAT_ERR_NEG,      /* ret < 0 */
	INFERLAT_ERR_ZERO,     /* ret == 0 (NULL pointer) */
};

/* Probe ids after the last real probe: inferlat's own calibration functions,
 * one per kind of probe site (user/calibrate.c). */
#define INFERLAT_CALIB_PROBES 3

#define INFERLAT_CFG_NO_EVENT (1u << 0)   /* count and histogram only */
/* llama.cpp's sequences (struct seq_event below): */
#define INFERLAT_CFG_SEQ_DECODE (1u << 1) /* llama_decode: summarize the batch */
#define INFERLAT_CFG_SEQ_RM (1u << 2)     /* llama_memory_seq_rm: args seq, p0, p1 */
#define INFERLAT_CFG_SEQ_CLEAR (1u << 3)  /* llama_memory_clear */
/* a runtime's main entry point: the CPU time of all the process's threads
 * during each call (its thread pool's work), not only the caller's */
#define INFERLAT_CFG_POOL (1u << 4)

/*
 * Arguments a probe decodes (runtime presets): where each value is, read by
 * the entry program (or, for a pointer the callee fills, by the return
 * program) and carried in the call's event. x86-64 SysV: the first six
 * integer arguments are in registers; a struct larger than 16 bytes passed by
 * value is copied onto the stack, at [rsp + 8] at entry (above the return
 * address).
 */
#define INFERLAT_MAX_ARGS 3

enum inferlat_arg_kind {
	INFERLAT_ARG_NONE = 0,
	INFERLAT_ARG_REG,        /* integer argument register 'reg' (0: rdi .. 5: r9) */
	INFERLAT_ARG_STACK,      /* memory at rsp + 'off' at entry (by-value structs) */
	INFERLAT_ARG_REG_OUT,    /* at return: the 64-bit value the pointer in register
	                            'reg' points to (an out parameter: cudaMalloc's *devPtr) */
};

struct inferlat_arg {
	__u8 kind;       /* enum inferlat_arg_kind */
	__u8 reg;        /* INFERLAT_ARG_REG, _REG_OUT */
	__u8 size;       /* bytes: 4 (zero-extended) or 8 */
	__u8 pad;
	__u32 off;       /* INFERLAT_ARG_STACK: offset from rsp at entry */
};

/* Per-probe configuration, indexed by probe id (array map). */
struct probe_cfg {
	__u8 err_kind;   /* enum inferlat_err_kind */
	__u8 ret_bits;   /* width of the return type: 32 or 64 */
	__u8 flags;      /* INFERLAT_CFG_* */
	__u8 nargs;      /* args[] in use */
	/* Probe overhead inside each measured duration, measured at start and
	 * subtracted from every call's duration (0: report raw durations). */
	__u32 adjust_ns;
	struct inferlat_arg args[INFERLAT_MAX_ARGS];
	/* Calls lasting at least this long (after the adjustment) also send an
	 * exemplar with the caller's user stack (0: none). The loader rewrites it
	 * as the run goes (--slow auto: the slowest 0.1% so far). */
	__u64 slow_ns;
};

/* event flags */
#define INFERLAT_CALL_ERROR (1u << 0)
#define INFERLAT_CALL_NO_SPLIT (1u << 1)  /* no scheduler accounting: res.*_ns unknown */
#define INFERLAT_CALL_ARG_FAULT (1u << 2) /* an argument could not be read (unmapped memory) */
#define INFERLAT_CALL_POOL (1u << 3)      /* res.proc_cpu_ns measured */

/*
 * Where a call's time went, and what it cost the thread: accounted between
 * entry and return from the scheduler's switch and wakeup events of the
 * calling thread. oncpu + offcpu + runq = the call's duration.
 */
struct call_resources {
	__u64 oncpu_ns;     /* running */
	__u64 offcpu_ns;    /* blocked: sleeping, waiting for I/O, a lock, the GPU */
	__u64 runq_ns;      /* runnable, waiting for a CPU */
	__u32 minflt, majflt;   /* page faults */
	__u32 nvcsw, nivcsw;    /* voluntary and involuntary context switches */
	__u64 proc_cpu_ns;  /* CFG_POOL: CPU time of all the process's threads during the call */
};

/* One completed call of a probed function. */
struct call_event {
	__u64 start_ns;     /* CLOCK_MONOTONIC at entry */
	__u64 duration_ns;
	__s64 retval;
	__u32 probe_id;
	__u32 pid;          /* process (tgid) */
	__u32 tid;
	__u16 depth;        /* probed frames below this one on the thread */
	__u16 flags;        /* INFERLAT_CALL_* */
	struct call_resources res;
	__u64 args[INFERLAT_MAX_ARGS];   /* decoded arguments (probe_cfg.args), else 0 */
};

/*
 * Per-probe counters: one copy shared by all CPUs (atomic adds), so their
 * memory does not grow with the CPU count. Complete even when the ring
 * buffer drops events, like the histogram.
 */
struct probe_stats {
	__u64 entries;        /* entry probe hits of traced threads */
	__u64 calls;          /* completed and timed calls */
	__u64 sum_ns;         /* total duration of timed calls */
	__u64 errors;         /* calls whose return matched the error predicate */
	__u64 rb_drops;       /* events not delivered: ring buffer full */
	__u64 depth_drops;    /* calls deeper than INFERLAT_STACK_DEPTH, not timed */
	__u64 state_drops;    /* no per-thread state could be allocated, not timed */
	__u64 unwound;        /* entries whose return never came (longjmp, unwinding) */
	__u64 orphans;        /* returns with no recorded entry */
	/* sums over timed calls */
	__u64 oncpu_ns, offcpu_ns, runq_ns;
	__u64 minflt, majflt, nvcsw, nivcsw;
	__u64 unsplit;        /* timed calls without the on/off-CPU split: thread table
	                         full, or a scheduler event of the call went unseen */
	__u64 thread_full;    /* outermost entries of threads the thread table (sched_accts,
	                         --max-threads) had no room for: timed, not split */
	__u64 exemplars;      /* slow calls sent with their stack */
	__u64 exemplar_drops; /* slow calls whose exemplar did not fit its ring buffer */
	/* CFG_POOL calls: how many, their total duration, and the process's
	 * CPU time (all threads) during them */
	__u64 pool_calls, pool_ns, pool_cpu_ns;
};

struct probe_hist {
	__u64 buckets[INFERLAT_HIST_BUCKETS];
};

/* Key of the followed-executables map (-x). */
struct exe_key {
	__u64 dev;
	__u64 ino;
};

/* Probe ids kept free at load for functions found later (libraries loaded
 * with dlopen, new processes), unless --max-probes sets the room: every id
 * costs a histogram and its counters. */
#define INFERLAT_SPARE_PROBES 16

/* Process names followed across exec (--comm); a comm is at most 15
 * characters (TASK_COMM_LEN). */
#define INFERLAT_MAX_COMMS 64
#define INFERLAT_COMM_LEN 16

struct comm_key {
	char comm[INFERLAT_COMM_LEN];   /* zero-padded */
};

/*
 * Control messages, BPF -> loader, on their own small ring buffer (never
 * behind call events): a traced process's dynamic loader changed its link
 * map (dlopen, dlclose, or the libraries of a new process mapped), or a
 * process became traced at exec. The loader rescans that process's maps.
 */
#define INFERLAT_CTL_RINGBUF_BYTES (64u << 10)

enum inferlat_ctl_kind {
	INFERLAT_CTL_LOADED = 1,   /* the process's _dl_debug_state() ran */
	INFERLAT_CTL_EXEC = 2,     /* the process exec'd a followed exe or comm */
};

struct ctl_event {
	__u64 ts;      /* CLOCK_MONOTONIC when it happened */
	__u32 kind;    /* enum inferlat_ctl_kind */
	__u32 pid;     /* tgid */
};

/*
 * Slow-call exemplars, BPF -> loader, on their own ring buffer: a call at
 * least probe_cfg.slow_ns long, with the user stack of its caller taken at
 * return (frame pointers: the kernel's user-stack walk). Only slow calls pay
 * for the stack walk.
 */
#define INFERLAT_STACK_FRAMES 32
#define INFERLAT_EXEMPLAR_RINGBUF_BYTES (256u << 10)

struct exemplar_event {
	struct call_event call;
	__u64 slow_ns;        /* the threshold in force */
	__u32 nframes;        /* return addresses in ips[], innermost first */
	__u32 pad;
	__u64 ips[INFERLAT_STACK_FRAMES];
};

/*
 * The request layer (--http): the socket syscalls of traced processes on
 * connections of traced TCP listening ports, one event per syscall, on their
 * own ring buffer. Only a bounded prefix of the data leaves the kernel:
 * enough for a request line, a status line and chunk headers. A record is
 * the header below followed by 'captured' bytes of data (records are of
 * variable length: sizeof(struct sock_event) - INFERLAT_SOCK_CAPTURE +
 * captured).
 */
#define INFERLAT_SOCK_CAPTURE 1024
#define INFERLAT_SOCK_RINGBUF_BYTES (8u << 20)
/* Connections followed at once (all traced processes); more are counted in
 * sock_counters.conn_full and not followed. */
#define INFERLAT_MAX_CONNS 65536
/* --http=PORT,... */
#define INFERLAT_MAX_HTTP_PORTS 64
/* iovecs read per readv/writev/recvmsg/sendmsg for the captured prefix */
#define INFERLAT_SOCK_IOVS 8
/* Connection ids the loader gives connections open before it started
 * (INFERLAT_SOCK_KNOWN) have this bit set; the kernel's count up from 1. */
#define INFERLAT_CONN_ID_KNOWN (1ull << 63)

enum inferlat_sock_op {
	INFERLAT_SOCK_ACCEPT = 1,  /* a connection accepted on a traced port; fd: the new socket */
	INFERLAT_SOCK_READ = 2,    /* the server read ret bytes (0: the peer closed; < 0: -errno) */
	INFERLAT_SOCK_WRITE = 3,   /* the server wrote ret bytes (< 0: -errno, e.g. -EPIPE) */
	INFERLAT_SOCK_CLOSE = 4,   /* the server closed fd */
	INFERLAT_SOCK_KNOWN = 5,   /* made by the loader: a connection open before it started */
};

struct sock_event {
	__u64 ts_ns;        /* CLOCK_MONOTONIC at the syscall's exit */
	__u64 conn_id;      /* unique per connection in the run (fd numbers are reused) */
	__s64 ret;          /* READ, WRITE: bytes or -errno; ACCEPT, CLOSE, KNOWN: 0 */
	__u32 pid, tid;
	__s32 fd;
	__u16 op;           /* enum inferlat_sock_op */
	__u16 port;         /* the connection's local (listening) port */
	__u32 captured;     /* bytes in data[]: at most min(ret, INFERLAT_SOCK_CAPTURE); fewer
	                       when ret > 0 bytes went by without a buffer to read (sendfile) */
	__u32 pad;
	__u8 data[INFERLAT_SOCK_CAPTURE];   /* the first 'captured' bytes of the data */
};

/* Whole-run counters of the request layer (the BPF object's .bss, read by
 * the loader): what could not be followed is counted, never lost silently. */
struct sock_counters {
	__u64 conns;        /* connections accepted on traced ports */
	__u64 conn_full;    /* accepted, not followed: the connection table was full */
	__u64 rb_drops;     /* syscall events not delivered: the socks ring buffer was full */
};

/*
 * llama.cpp's sequences: what each llama_decode batch carries, per sequence,
 * and the calls that clear a sequence's memory, on their own ring buffer in
 * the order they happened, so the loader can follow every sequence (a
 * request) through the shared batches. The batch is summarized in the kernel
 * (bounded reads of its pos, n_seq_id, seq_id and logits arrays at return),
 * never copied. struct llama_batch (llama.h), passed by value on the stack:
 * { int32 n_tokens; token*; embd*; pos*; n_seq_id*; seq_id**; logits* }.
 */
#define INFERLAT_SEQ_SLOTS 16           /* sequences summarized per batch */
#define INFERLAT_SEQ_CHUNK 16           /* tokens read per loop step */
#define INFERLAT_SEQ_MAX_TOKENS 8192    /* tokens summarized per batch */
#define INFERLAT_SEQ_RINGBUF_BYTES (1u << 20)

enum inferlat_seq_kind {
	INFERLAT_SEQ_DECODE = 1,   /* a llama_decode call and its batch */
	INFERLAT_SEQ_RM = 2,       /* llama_memory_seq_rm(mem, seq, p0, p1): slots[0] */
	INFERLAT_SEQ_CLEAR = 3,    /* llama_memory_clear(mem, data): every sequence */
};

/* seq_event flags */
#define INFERLAT_SEQ_IMPLICIT_POS (1u << 0)   /* pos NULL: positions continue the memory's */
#define INFERLAT_SEQ_IMPLICIT_SEQ (1u << 1)   /* seq_id NULL: every token is sequence 0 */
#define INFERLAT_SEQ_MORE_SEQS (1u << 2)      /* more sequences than slots: tokens uncounted */
#define INFERLAT_SEQ_MORE_TOKENS (1u << 3)    /* n_tokens > SEQ_MAX_TOKENS: the rest unread */
#define INFERLAT_SEQ_SHARED (1u << 4)         /* tokens in several sequences: the first counted */
#define INFERLAT_SEQ_FAULT (1u << 5)          /* an array could not be read */

struct seq_slot {
	__s32 seq_id;
	__u32 n_tokens;   /* its tokens in the batch */
	__s32 pos_min, pos_max;   /* -1 with INFERLAT_SEQ_IMPLICIT_POS */
	__u32 n_logits;   /* its tokens whose logits are output (one per sampled token) */
	__u32 pad;
};

struct seq_event {
	__u64 start_ns;     /* CLOCK_MONOTONIC at entry */
	__u64 end_ns;       /* at return */
	__u64 ctx;          /* DECODE: the llama_context; RM, CLEAR: the llama_memory */
	__s64 retval;
	__u32 pid, tid;
	__u16 kind;         /* enum inferlat_seq_kind */
	__u16 nslots;       /* slots[] in use */
	__s32 n_tokens;     /* DECODE: batch.n_tokens */
	__u32 flags;        /* INFERLAT_SEQ_* */
	__u32 pad;
	struct seq_slot slots[INFERLAT_SEQ_SLOTS];
};

#endif /* INFERLAT_H */
