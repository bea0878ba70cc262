/* SPDX-License-Identifier: GPL-2.0 */
/* What a window (or the whole run) adds up to: the input of every output. */
#ifndef INFERLAT_REPORT_H
#define INFERLAT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "bpfmem.h"
#include "probes.h"
#include "proctab.h"

struct slo_set;
struct exemplar;
struct seq_sum;

struct latency {              /* seconds */
	double mean, min, max, p50, p90, p99, p999;
};

struct res_sum {               /* summed over the calls */
	uint64_t oncpu_ns, offcpu_ns, runq_ns;
	uint64_t minflt, majflt, nvcsw, nivcsw;
	/* calls that measured their process's CPU (all threads), their total
	 * duration and that CPU time: cores in use while the calls ran */
	uint64_t pool_calls, pool_ns, pool_cpu_ns;
};

/* Sums of decoded arguments (runtime presets), by what the probe measures. */
struct arg_sum {
	/* MEASURE_TOKENS (llama_decode): batches of more than one token process a
	 * prompt; single-token batches generate */
	uint64_t prompt_batches, prompt_tokens, prompt_ns;
	uint64_t gen_batches, gen_ns;
	uint64_t bytes;           /* BYTES: moved; ALLOC: allocated; FREE: freed (known pointers) */
	uint64_t ops;             /* ALLOC: successful allocations; FREE: frees of known pointers */
	uint64_t unknown_frees;   /* FREE: pointers allocated before inferlat attached */
	uint64_t faults;          /* calls whose arguments could not be read */
};

struct anomaly_flag {         /* one metric of a window against its recent history */
	bool on;                  /* departs: value > threshold */
	double value, median, threshold;
};

struct anomaly_mark {         /* anomaly.c */
	struct anomaly_flag p99, errors;
};

struct row {                  /* one probe in one process */
	const struct probe *probe;
	pid_t pid;                /* 0: no call seen yet, process unknown */
	const char *comm;         /* NULL when unknown */
	uint64_t calls, errors;
	uint64_t lost;            /* events the ring buffer dropped (whole probe) */
	uint64_t untimed;         /* calls not timed: nesting too deep, no thread state */
	double rps;
	bool has_latency;         /* calls > 0 */
	struct latency lat;
	bool from_kernel;         /* events were lost: figures from the in-kernel histogram */
	struct res_sum res;       /* where the calls' time went */
	uint64_t unsplit;         /* calls whose on/off-CPU split is unknown (not in res) */
	uint64_t thread_full;     /* of the probe's calls, made by threads the thread table had
	                             no room for (whole probe, from the kernel) */
	const struct proc_info *proc;  /* the process, NULL when unknown */
	struct arg_sum args;      /* decoded arguments (probe->decode.measure) */
	bool has_gpu;             /* the process's live GPU memory is known */
	uint64_t gpu_live, gpu_peak;   /* bytes allocated and not freed: now, and the most */
	struct anomaly_mark anomaly;   /* windows only */
	uint64_t exemplars;       /* slow calls sent with their stack (whole probe) */
	uint64_t exemplar_drops;  /* ... and not sent: their ring buffer was full */
	const struct seq_sum *req;  /* llama_decode: requests from the sequences (seqtab.h), or NULL */
};

struct http_row {             /* HTTP requests of one process, port, method and route */
	pid_t pid;
	uint16_t port;
	const char *method, *route;
	uint64_t requests;        /* ended: answered or aborted */
	uint64_t aborted;         /* the connection ended before the response did */
	uint64_t errors;          /* 5xx answers and aborted */
	uint64_t status[600];     /* answers by status code (HTTP_STATUS_CODES) */
	double rps;
	/* seconds, from the request's first byte read: to the response's last
	 * byte, its first byte, its first body chunk; and between chunks */
	struct latency duration, first_byte, first_chunk, inter_chunk;
	uint64_t n_first_byte, n_first_chunk, n_inter_chunk;
	uint64_t chunks, req_bytes, resp_bytes;
	double in_flight_mean;
	uint64_t in_flight_max;
};

struct http_port_row {        /* one process and port: what the routes do not show */
	pid_t pid;
	uint16_t port;
	uint64_t requests;        /* all its routes' */
	uint64_t unparsed;        /* connections that stopped being framed */
	const char *unparsed_why; /* the last reason, or NULL */
	double busy_s;            /* time with at least one request in flight */
	const char *runtime;      /* the runtime's main probe, NULL when not called */
	double runtime_s;         /* of busy_s, the time the main probe's calls were running */
};

struct slo_eval {             /* one SLO check (--slo) judged on one row */
	size_t row;               /* index in rows, or in http with 'http' */
	bool http;
	uint32_t slo;             /* index in the run's SLO list */
	bool has_value;           /* false: no calls (a whole run without any fails) */
	bool ok;
	double value;             /* the metric's value in the row */
};

struct report {
	double ts;                /* wall clock at the end (Unix seconds) */
	double span_s;            /* the window's (or run's) length */
	bool final;
	struct row *rows;
	size_t n, cap;
	struct slo_eval *slo;     /* SLO checks of the rows (slo.c) */
	size_t nslo, capslo;
	const struct slo_set *slos;   /* what slo_eval.slo indexes; NULL without --slo */
	struct http_row *http;    /* --http */
	size_t nhttp, caphttp;
	struct http_port_row *hports;
	size_t nhports, caphports;
	/* --http, the kernel's counts since start, all connections: socket
	 * events the ring buffer dropped, accepted connections the table had
	 * no room for */
	uint64_t http_events_lost, http_conns_not_followed;
	bool no_split;            /* --no-split: rows have no time split or resources */
	bool has_bpf_memory;
	struct bpf_memory bpf_memory;   /* the kernel memory inferlat holds at the window's end */
	uint64_t targets_full;    /* processes not traced: the traced set was full */
	struct exemplar *const *slowest;   /* the slowest calls with their stacks, slowest first */
	size_t nslowest;
};

/* Share of an enclosing probe's time (probe->share_of) in the same process:
 * 0 and the ratio, or -ENOENT when the enclosing probe has no time there. */
int report_share(const struct report *r, const struct row *w, double *ratio, const char **of);

void report_clear(struct report *r);
void report_free(struct report *r);
struct row *report_add(struct report *r);
struct slo_eval *report_add_slo(struct report *r);

#endif
