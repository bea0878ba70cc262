/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SLO checks (--slo EXPR): [PROBE:]METRIC OP VALUE
 *   METRIC  p50 | p90 | p99 | p99.9 (p999) | mean | max   VALUE a duration: 50ms, 200us, 1.5s, 800ns
 *           errors                                        VALUE a share of calls: 1%, 0.5%
 *           rps                                           VALUE calls per second: 10, 2.5
 *   OP      < <= > >=
 *   PROBE   a glob over the probe's name (libllama.so:llama_decode) or its
 *           symbol (llama_decode); none: every probe
 * http:METRIC judges the HTTP requests (--http) per process, port, method
 * and route: p50 ... max of their duration, ttft_p50 ... ttft_max of their
 * time to the first body chunk (a token stream's first token), errors as a
 * share of requests (5xx and aborted), rps.
 * Judged per probe and process, in every window with calls and over the whole
 * run. A whole-run check fails when a matching probe breaks it, or when no
 * matching probe made a single call (latency and errors: nothing to show the
 * SLO was met).
 */
#ifndef INFERLAT_SLO_H
#define INFERLAT_SLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "probes.h"
#include "report.h"

enum slo_metric {
	SLO_P50, SLO_P90, SLO_P99, SLO_P999, SLO_MEAN, SLO_MAX, SLO_ERRORS, SLO_RPS,
};

struct slo {
	char *text;              /* as given */
	char *probe;             /* glob; NULL: every probe */
	bool http;               /* http:METRIC: the requests' rows */
	bool ttft;               /* http:ttft_*: time to the first chunk, not the duration */
	enum slo_metric metric;
	bool below;              /* < or <=: the value must stay below the limit */
	bool inclusive;          /* <= or >= */
	double limit;            /* seconds, a fraction of calls, or calls/s */
};

/* 0, or -EINVAL with a one-line reason in err. */
int slo_parse(const char *text, struct slo *out, char *err, size_t errsz);
void slo_free(struct slo *s);

bool slo_matches(const struct slo *s, const struct probe *p);
/* The metric's value in a row; false when the row has no calls to judge
 * (rps is judged on any row). */
bool slo_value(const struct slo *s, const struct row *r, double *v);
bool slo_http_value(const struct slo *s, const struct http_row *r, double *v);
bool slo_met(const struct slo *s, double v);
/* "p99", "errors", ... */
const char *slo_metric_name(enum slo_metric m);

/* The checks of a run and what they found so far. */
struct slo_set {
	struct slo *v;
	size_t n;
	uint64_t *violations;    /* windows in which each one was broken */
	bool *run_failed;        /* each one's whole-run verdict (after the final report) */
};

int slo_set_init(struct slo_set *ss, struct slo *v, size_t n);
void slo_set_free(struct slo_set *ss);
/* Judge every check on every matching row of r into r->slo; count the
 * windows that broke each one, or (final report) set run_failed. 0 or -ENOMEM. */
int slo_judge(struct slo_set *ss, struct report *r);
/* Whether any whole-run check failed. */
bool slo_any_failed(const struct slo_set *ss);

#endif
