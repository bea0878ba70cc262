/* SPDX-License-Identifier: GPL-2.0 */
/* What inferlat traces: target processes and resolved probes. */
#ifndef INFERLAT_PROBES_H
#define INFERLAT_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "probespec.h"
#include "site.h"

struct exe_target {          /* -x PATH */
	char *path;
	uint64_t dev, ino;       /* kernel encoding */
	bool running;            /* processes ran it when inferlat started */
};

struct targets {
	pid_t *pids;             /* processes traced from the start (-p, -x, COMMAND) */
	size_t npids;
	struct exe_target *exes; /* followed across exec (-x) */
	size_t nexes;
	char **comms;            /* followed by name at exec (--comm) */
	size_t ncomms;
	pid_t child;             /* COMMAND we started, or 0 */
	bool released;           /* ... and let run */
};

/* One probed function: what a probe id (the BPF cookie) names. */
struct probe {
	uint32_t id;
	char *name;              /* "libfixture.so:infer_run", shown and exported */
	char *object;            /* the file as the target maps it */
	char *attach_path;       /* the file as inferlat opens it (/proc/PID/root/...) */
	char *symbol;            /* symbol (demangled for C++) or 0xOFFSET */
	uint64_t dev, ino;
	uint64_t func_off;       /* file offset of the function */
	struct site site;        /* entry probe at func_off + site.skip */
	int err_kind, ret_bits;
	const char *runtime;     /* preset, or NULL */
	struct probe_decode decode;   /* arguments read and what they mean */
	const char *share_of;    /* symbol of the enclosing probe (time shown as its share), or NULL */
	bool op;                 /* an operator of --ops: no rows or series until called */
	const char *silent_hint; /* a preset's main probe: said when it stays silent (silence.h) */
	bool pool;               /* the process's CPU (all threads) during each call is measured */
	uint32_t overhead_ns;    /* probe overhead subtracted from each duration */
	bool unattached;         /* for all processes, but the path it was reached by went with
				    its process: attached when another target maps the file */
	pid_t *pids;             /* attach only for these processes; none: for all */
	size_t npids;
	uint32_t hit_cost_ns;    /* what one entry+return pair costs the caller; 0: not measured */
};

struct probe_set {
	struct probe *v;
	size_t n;
	bool filter_tgid;        /* entry programs must check traced_tgids */
	size_t pending;          /* specs waiting for their library to be loaded */
	/* the one process that can call the probes, when nothing needs an event
	 * per call (no --calls, no other process); 0: events are read */
	pid_t kernel_pid;
	bool pool_events;        /* --http: main-probe calls are joined with requests */
};

/* A probe whose calls send no event: its figures come from the kernel's
 * counters and histogram alone (nothing is decoded from its calls). */
static inline bool probe_kernel_only(const struct probe_set *ps, const struct probe *p)
{
	return ps->kernel_pid > 0 && p->decode.measure == MEASURE_NONE && !p->decode.nargs &&
	       !(p->pool && ps->pool_events);
}

void targets_free(struct targets *t);
void probe_set_free(struct probe_set *ps);
/* Free what one probe owns. */
void probe_clear(struct probe *p);
/* Append pid to a malloc'ed list unless it is there. 0 or -ENOMEM. */
int probe_pid_add(pid_t **v, size_t *n, pid_t pid);

#endif
