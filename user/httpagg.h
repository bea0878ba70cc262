/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Aggregation of the framed HTTP requests (httpframe.h) per process, port,
 * method and route, per window and for the whole run, and per process and
 * port: connections, what could not be framed, and the share of the time
 * with requests in flight that the runtime's main probe was running (its
 * calls overlapping them).
 */
#ifndef INFERLAT_HTTPAGG_H
#define INFERLAT_HTTPAGG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "hist.h"
#include "httpframe.h"
#include "report.h"

/* Routes kept per process and port; the others are counted under "other". */
#define HTTP_ROUTES_MAX 64
#define HTTP_ROUTE_OTHER "other"
#define HTTP_STATUS_CODES 600

struct http_sum {
	uint64_t requests;          /* ended: answered or aborted */
	uint64_t aborted;           /* the connection ended before the response did */
	uint64_t status[HTTP_STATUS_CODES];   /* answered, by final status (not aborted) */
	uint64_t chunks, req_bytes, resp_bytes;
	struct hist duration, first_byte, first_chunk, inter_chunk;
	double inflight_ns;         /* in-flight requests integrated over time */
	uint64_t inflight_max;
};

struct http_series {               /* one process, port, method and route */
	pid_t pid;
	char comm[16];              /* the process's name when first seen ("" when unknown) */
	uint16_t port;
	const char *method;
	const char *route;          /* owned by its port's route table */
	struct http_sum win, run;
	uint64_t inflight;          /* now */
	uint64_t last_ns;           /* the in-flight integral is taken up to here */
};

struct http_interval {
	uint64_t start_ns, end_ns;
};

struct http_iv_list {
	struct http_interval *v;
	size_t n, cap;
};

struct http_port {                 /* one process and port */
	pid_t pid;
	uint16_t port;
	char *routes[HTTP_ROUTES_MAX];
	size_t nroutes;
	char comm[16];
	uint64_t unparsed_win, unparsed_run;
	const char *unparsed_why;   /* the last reason */
	/* the runtime join, per window */
	struct http_iv_list reqs;   /* requests that ended in the window, as intervals */
	double busy_s_run, runtime_s_run;
};

struct http_proc {                 /* a process's requests in flight and its runtime calls */
	pid_t pid;
	struct http_iv_list open;   /* requests in flight: start_ns, end_ns = conn id */
	struct http_iv_list calls;  /* the main probe's calls ended in the window */
	const char *runtime;        /* the main probe's name, once one was called */
};

struct http_agg {
	struct http_series **s;
	size_t n, cap;
	struct http_port **ports;
	size_t nports, capports;
	struct http_proc **procs;
	size_t nprocs, capprocs;
	double win_start, run_start;   /* CLOCK_MONOTONIC seconds */
	int err;                    /* the first allocation failure of a callback */
};

int http_agg_init(struct http_agg *a, double now);
void http_agg_free(struct http_agg *a);
/* The framer's sink, into a. */
void http_agg_sink(struct http_agg *a, struct http_sink *sink);
/* A call of a runtime's main probe (name) ended: it may overlap requests. */
int http_agg_call(struct http_agg *a, const char *name, pid_t pid, uint64_t start_ns, uint64_t end_ns);
/* Close the window at now (final: the whole run) into r's http rows. */
int http_agg_report(struct http_agg *a, double now, bool final, struct report *r);

#endif
