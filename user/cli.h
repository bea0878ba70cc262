/* SPDX-License-Identifier: GPL-2.0 */
/* The command line (argp). */
#ifndef INFERLAT_CLI_H
#define INFERLAT_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include "exitcode.h"
#include "probespec.h"
#include "prom.h"
#include "slo.h"


struct options {
	pid_t *pids;
	size_t npids;
	char **exes;
	size_t nexes;
	char **comms;             /* --comm */
	size_t ncomms;
	struct probe_spec *specs;
	size_t nspecs;
	int default_err_kind, default_ret_bits;  /* -E before any -e */
	double interval_s;
	double duration_s;        /* 0: until SIGINT/SIGTERM */
	char *json_path;          /* --json, "-" for stdout */
	char *calls_path;         /* --calls */
	bool quiet, verbose;
	size_t max_probes;
	unsigned ringbuf_bytes;   /* 0: default */
	bool raw_durations;       /* do not subtract the measured probe overhead */
	bool site_at_symbol;      /* --site symbol: no probe-site choice */
	char *debug_root;         /* --debug-root: separate debuginfo; NULL: /usr/lib/debug */
	bool no_multi;            /* --no-multi: one perf uprobe per function */
	bool max_probes_given;    /* --max-probes: also the room for functions found later */
	char **command;           /* after --, NULL-terminated */
	char *textfile_dir;       /* --textfile-dir: Prometheus textfile export */
	char *textfile_name;      /* --textfile-name (default inferlat.prom) */
	struct prom_label *labels;   /* --label KEY=VALUE */
	size_t nlabels;
	bool pid_label;           /* --pid-label */
	char **runtimes;          /* -r NAME: presets (user/runtimes.c), or "auto" */
	size_t nruntimes;
	unsigned optins;          /* enum runtimes_optin bits: --breakdown, --ops (nested probes) */
	unsigned max_threads;     /* --max-threads: thread table size (0: default) */
	bool no_split;            /* --no-split: latency only */
	struct slo *slos;         /* --slo */
	size_t nslos;
	char *save_baseline;      /* --save-baseline FILE */
	char *baseline;           /* --baseline FILE */
	double regression_threshold;   /* --regression-threshold, a share (default 0.05) */
	bool regression_given;
	double slow_s;            /* --slow DURATION; 0 with slow_auto or off */
	bool slow_auto;           /* --slow auto (default): the slowest 0.1% so far */
	bool http;                /* --http: the targets' HTTP/1.1 requests */
	uint16_t *http_ports;     /* --http=PORT,...: only these local ports (none: all TCP) */
	size_t nhttp_ports;
};

/*
 * Parse argv. Bad usage is reported in one line on stderr and exits with
 * EXIT_USAGE (2), --help and --version exit 0, in both cases after argp and
 * the options have freed what they held; on return the options are complete
 * and consistent.
 */
void cli_parse(int argc, char **argv, struct options *o);
void cli_free(struct options *o);

/* "1.5", "250ms", "2s", "1m", "1h" -> seconds; -EINVAL when not a positive
 * finite duration. */
int cli_parse_duration(const char *s, double *out);

#endif
