/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One profiling run, in the steps main() takes: set up (targets, probes, the
 * BPF session, its calibration, event processing), go (the targets run
 * traced), one step at a time until the run ends (events in, windows out),
 * and finish (the last window, the whole run, the baseline and SLO gate).
 */
#ifndef INFERLAT_APP_H
#define INFERLAT_APP_H

#include <stdbool.h>
#include <stdio.h>
#include "agg.h"
#include "anomaly.h"
#include "baseline.h"
#include "calibrate.h"
#include "cli.h"
#include "events.h"
#include "exemplar.h"
#include "httpagg.h"
#include "httpframe.h"
#include "kstats.h"
#include "objects.h"
#include "proctab.h"
#include "prom.h"
#include "report.h"
#include "resolve.h"
#include "session.h"
#include "silence.h"
#include "slo.h"
#include "targets.h"
#include "textfile.h"
#include "view.h"
#include "watch.h"

/* --http with --calls: each request ended is also written out. */
struct request_out {
	struct http_sink agg;
	FILE *calls;
	int err;
};

struct app {
	struct options *opt;
	struct targets tg;
	struct probe_set ps;
	struct objects known;          /* every file resolution examined */
	struct resolve_opts ro;
	struct session sess;
	struct calibration calib;
	struct watch watch;
	struct kstats ks;
	struct proctab procs;
	struct aggregator agg;
	struct events ev;
	struct exemplars ex;
	struct http_framer framer;
	struct http_agg hagg;
	struct http_sink sink;
	struct request_out reqout;
	struct report rep;
	struct view view;
	struct prom_exporter prom;
	struct textfile tf;
	struct slo_set slos;
	struct anomaly_detector anomalies;
	struct silence quiet;
	struct baseline base;          /* --baseline */
	FILE *json, *calls;
	double start, next_window, deadline, attach_s;
	bool told_thread_table;
};

/* Everything up to the point where the targets may run traced. 0, or the
 * exit status (EXIT_USAGE, 1), explained. */
int app_setup(struct app *a, struct options *opt);
/* The targets run traced (COMMAND is released). 0 or 1, explained. */
int app_go(struct app *a);
/* Events in, a window out when one is due. 0: go on; 1: the run is over
 * (duration, COMMAND or every -p target gone); -1: failed, explained. */
int app_step(struct app *a);
/* Stop tracing, take in what is left, report the last window and the whole
 * run, judge the baseline and SLOs. The exit status, from status so far. */
int app_finish(struct app *a, int status);
void app_free(struct app *a);

#endif
