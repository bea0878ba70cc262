/* SPDX-License-Identifier: GPL-2.0 */
/* The BPF skeleton's life: open, configure, load, attach, detach. */
#ifndef INFERLAT_SESSION_H
#define INFERLAT_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "probes.h"

struct inferlat_bpf;
struct bpf_memory;
struct bpf_link;

struct session {
	struct inferlat_bpf *skel;
	struct bpf_link **links;
	size_t nlinks, cap;
	int events_fd;       /* ring buffer */
	int stats_fd, hists_fd;
	int ctl_fd;          /* control messages (struct ctl_event) */
	int exemplars_fd;    /* slow calls with their stacks (struct exemplar_event) */
	int seqs_fd;         /* llama.cpp's sequences (struct seq_event) */
	int socks_fd;        /* --http: socket syscalls (struct sock_event); -1 without */
	int conns_fd;        /* --http: the followed connections, (tgid, fd) -> id */
	const struct sock_counters *sock_counters;   /* --http: the kernel's, live */
	uint64_t slow_ns;    /* the slow-call threshold new probes start with (0: none) */
	bool multi;          /* uprobe_multi links (else one perf uprobe per site) */
	bool no_split;       /* --no-split: no time split, no scheduler programs */
	uint32_t slots;      /* probe ids the maps hold; calibration ids follow */
};

#define CALIB_KINDS 3   /* enum site_kind */

/* What a probe adds to the durations it measures, by site kind: measured by
 * calibrate() through a session, subtracted in the kernel by the session. */
struct calibration {
	bool measured[CALIB_KINDS];
	uint32_t overhead_ns[CALIB_KINDS];
	uint64_t calls[CALIB_KINDS];
	uint32_t hit_cost_ns[CALIB_KINDS];   /* median call time probed minus bare */
};

struct attach_opts {
	bool follow_forks;   /* COMMAND: descendants of traced processes are traced */
	unsigned ringbuf_bytes;
	uint32_t slots;      /* probe ids to make room for (>= the probes given) */
	bool no_multi;       /* one perf uprobe per site even where uprobe_multi exists */
	uint32_t max_threads;   /* thread table size; 0: INFERLAT_MAX_THREADS */
	uint64_t slow_ns;    /* --slow DURATION; 0: none at start (auto or off) */
	bool http;           /* --http: follow the targets' socket syscalls */
	bool no_split;       /* --no-split: latency only, no scheduler programs */
	const uint16_t *http_ports;   /* ... on these local ports (none: every TCP port) */
	size_t nhttp_ports;
};

/* Load the BPF programs sized for the probes, fill the target maps and attach
 * the tracepoints; the probes follow with session_attach_probes() once the
 * caller has calibrated them. Explains failures; 0 or -errno. */
int session_start(struct session *s, struct probe_set *ps, const struct targets *t,
		  const struct attach_opts *o);
/* Attach entry and return programs at n file offsets of path, for one
 * process (pid > 0) or all (-1); cookies are the probe ids. 0 or -errno. */
int session_attach_sites(struct session *s, const char *path, pid_t pid, unsigned long *offs,
			 __u64 *cookies, size_t n);
/*
 * Attach probes [first, n) of ps, added after start (their ids must be below
 * s->slots): sites grouped by file and process as at start. Sets their
 * configuration (error predicate, overhead correction from c, or none).
 * 0 or -errno (explained).
 */
int session_attach_probes(struct session *s, struct probe_set *ps, size_t first,
			  const struct calibration *c);
/* Attach the probes of one file (dev, ino) for one more process (per-process
 * links: -p targets). 0 or -errno (explained). */
int session_attach_for_pid(struct session *s, struct probe_set *ps, uint64_t dev, uint64_t ino,
			   pid_t pid);
/* Attach the probes of one file (dev, ino) for all processes that could not
 * be (marked unattached), reaching it now by path. 0 or -errno (explained). */
int session_attach_again(struct session *s, struct probe_set *ps, uint64_t dev, uint64_t ino,
			 const char *path);
/* Watch a dynamic loader: its _dl_debug_state at file offset off, for one
 * process or all (-1). 0 or -errno. */
int session_watch_loader(struct session *s, const char *path, uint64_t off, pid_t pid);

/* Trace process pid: the process filter and its leader's mark (the per-task
 * test of the programs that run for every task). 0, -ESRCH (gone) or -errno. */
int session_trace_pid(struct session *s, pid_t pid);
/* Undo session_trace_pid, and drop the leader thread's call state (inferlat's
 * own calibration). 0 or -errno. */
int session_untrace_pid(struct session *s, pid_t pid);

/* The kernel memory the session's BPF objects hold now. 0 or -errno. */
int session_bpf_memory(const struct session *s, struct bpf_memory *m);

/* Processes not traced because the traced set was full (INFERLAT_MAX_TARGETS). */
uint64_t session_targets_full(const struct session *s);

/* --http: follow a connection the process held before inferlat started
 * (fd, local port); its id has INFERLAT_CONN_ID_KNOWN set. 0 or -errno. */
int session_follow_conn(struct session *s, pid_t pid, int fd, uint64_t conn_id, uint16_t port);

/* Set probe id's slow-call threshold (0: no exemplars). 0 or -errno. */
int session_set_slow(struct session *s, uint32_t id, uint64_t slow_ns);

/* Remove every probe; the maps stay readable until session_stop(). */
void session_detach(struct session *s);
/* Detach everything and free the BPF objects (safe on a partial start). */
void session_stop(struct session *s);

#endif
