// SPDX-License-Identifier: GPL-2.0
#include <argp.h>
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "inferlat.h"
#include "log.h"
#include "runtimes.h"
#include "textfile.h"
#include "version.h"

const char *argp_program_version = "inferlat " INFERLAT_VERSION;
const char *argp_program_bug_address = "<https://github.com/inferlat/inferlat/issues>";

static const char doc[] =
"inferlat -- latency, throughput and errors of the functions an inference server "
"runs, measured per call with eBPF uprobes.\n"
"\n"
"EXAMPLES:\n"
"  inferlat -p 4242 -r auto\n"
"      the presets of the runtimes PID 4242 has loaded: inferences,\n"
"      tokens, bytes, in the runtime's own terms\n"
"  inferlat -p 4242 -e libllama.so:llama_decode\n"
"      latency percentiles of every llama_decode call of PID 4242, live\n"
"  inferlat -x /usr/bin/server -e 'libggml*.so:*graph_compute*' -d 60 \\\n"
"           --json out.jsonl\n"
"      every process running /usr/bin/server, now and later, for a minute\n"
"  inferlat -p 4242 -e libfoo.so:handle -E 'ret<0' -q --json -\n"
"      calls returning a negative int count as errors; JSON on stdout\n"
"  inferlat -e libfoo.so:0x1a2b30 -- ./server --port 8080\n"
"      start a command; time the function at file offset 0x1a2b30\n"
"  inferlat -x /usr/bin/server -e libllama.so:llama_decode -q \\\n"
"           --textfile-dir /var/lib/prometheus/node-exporter --label model=llama-3-8b\n"
"      a service: Prometheus metrics for node_exporter's textfile collector\n"
"  inferlat --comm python3 -e 'libtorch_cpu.so:at::_ops::addmm::call'\n"
"      addmm in every python3 process, from when it loads libtorch\n"
"  inferlat symbols -p 4242 'libllama.so:llama_*'\n"
"      what can be probed in PID 4242, and where (inferlat symbols --help)\n"
"  inferlat runtimes [NAME]\n"
"      the presets of -r: their probes, what each measures, the arguments they decode\n"
"  inferlat -d 60 -e libllama.so:llama_decode --slo 'p99<50ms' --slo 'errors<1%' -- ./load-test\n"
"      a CI gate: exit status 3 when the run's p99 or error rate broke its SLO\n"
"  inferlat -d 60 -e libllama.so:llama_decode --save-baseline v1.json -- ./load-test\n"
"  inferlat -d 60 -e libllama.so:llama_decode --baseline v1.json -- ./load-test\n"
"      a run saved, then a later one compared with it: exit status 3 on a regression\n"
"\v"
"A probe SPEC is [LIB:]SYMBOL[+OFF] or LIB:0xOFFSET. LIB is a path or a library name as "
"the target maps it (libllama.so matches libllama.so.1 and libllama.v0.5.0.so; a glob may "
"match several). SYMBOL is a glob matched on raw and demangled C++ names, with or without "
"parameters ('ns::Class::*', 'ns::f(double)'). 0xOFFSET is a file offset. "
"+OFF may only skip whole endbr64 and nop instructions: inferlat times calls, so its entry "
"probe must sit where the return address is still on top of the stack.\n"
"\n"
"A library no target maps yet is attached when one loads it (dlopen, a new process); by "
"name, calls in the first milliseconds after the dlopen can be missed; by path, none. "
"Stripped libraries: symbols come from separate debuginfo (build-id or .gnu_debuglink, "
"under --debug-root) or MiniDebugInfo.\n"
"\n"
"Runtime presets (-r NAME, repeatable; inferlat runtimes lists them): llama.cpp, onnxruntime, "
"libtorch, cuda, or auto (those whose libraries the -p targets map). Presets name their probes "
"and decode arguments: llama_decode's batch gives tokens, tokens/s and requests from its "
"sequences (requests/s, prompt and generated tokens, prefill and inter-token latency from the "
"first prompt token's decode, batch occupancy); a runtime's main call measures the cores its "
"thread pool keeps busy; cudaMalloc/cudaFree give live GPU bytes per process, cudaMemcpy* bytes. "
"A main probe silent while its process is busy (eager PyTorch under -r libtorch) is said once. ONNX "
"Runtime's library is stripped: its Run and CreateSession are read from the API table by "
"loading the target's library in a throw-away helper process as user nobody, never as root. "
"A preset probes the runtime's main call and the calls users ask about. Calls nested inside the "
"main call are opt-in, because each probe pair adds its own cost to every main call (tens of us "
"where the CPUs lack PCID and every kernel entry empties the TLB; about 1 us with it; inferlat "
"runtimes NAME lists them with the measured figures): --breakdown adds llama.cpp's "
"ggml graph compute (its share of llama_decode's time), --ops libtorch's ATen operators "
"(at::_ops::*::call).\n"
"\n"
"-E applies to the -e before it; given before any -e it is the default for all probes. "
"'ret' is the return value as a C int, 'ret64' the whole register.\n"
"\n"
"Durations: a probe adds ~1-2 us (~15 us on a single-stepped site) to every duration it "
"measures. inferlat measures that overhead at start on functions of its own and subtracts it "
"in the kernel (-v shows it, JSON records carry it as overhead_s); --raw-durations keeps it.\n"
"\n"
"Prometheus (--textfile-dir): DIR/inferlat.prom is replaced atomically every window and once "
"more at exit, with cumulative counters (never reset per window) and no timestamps. "
"inferlat_call_duration_seconds is a histogram with 104 fixed bounds, four per power of two "
"from 1.023 us to 57.7 s (le = 128, 152, 181 or 215 times 2^k ns, less 1 ns: the last "
"nanosecond of an internal bucket, so every count is exact). Series are labelled probe, "
"runtime, comm and the --label ones; pid only with --pid-label (one series per process). "
"inferlat_call_errors_total exists for probes with -E. inferlat_probe_hit_cost_seconds is what "
"one entry+return probe pair costs the traced thread, measured at start on inferlat's own "
"functions called at a server's pace (timed by their caller with and without probes; a tight "
"loop pays more; not with --raw-durations); "
"inferlat_probe_overhead_seconds_total is hits times that cost, and inferlat_overhead_ratio "
"the same per second of wall-clock time over the last window (0.01: 1% of one thread). "
"A failed write (directory gone, read-only, full) keeps the previous file, is reported once "
"on stderr and counted in inferlat_textfile_write_errors_total; profiling goes on. DIR must "
"be writable at start and, when every user may write to it, sticky; files and symlinks "
"planted in it are never followed nor clobbered.\n"
"\n"
"Signals: SIGINT and SIGTERM stop inferlat: every probe is detached, the events still in the "
"buffer are taken in, and the last window, the final records and the textfile are written. "
"SIGHUP reopens the --json and --calls files at their paths (log rotation: rename them, then "
"send SIGHUP); the textfile is replaced at its path every window anyway.\n"
"\n"
"Privileges: root, or CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH "
"(perf uprobes, --no-multi, need CAP_SYS_ADMIN too); what is missing is named at start.\n"
"\n"
"SLO checks (--slo [PROBE:]METRIC OP VALUE): METRIC is p50, p90, p99, p99.9, mean or max "
"(VALUE a duration with its unit: 50ms, 200us), errors (a share of calls: 1%) or rps (calls "
"per second); OP is <, <=, > or >=; PROBE, a glob over the probe's name or symbol, limits the "
"check to those probes (default: all). Every check is judged per probe and process in each "
"window with calls (broken ones shown, in JSON as \"slo\" and counted in "
"inferlat_slo_violations_total) and over the whole run: a check broken over the whole run, "
"or on a probe that made no call, makes inferlat exit with status 3.\n"
"\n"
"Anomalies (always on): a window's p99, or error rate (probes with -E), is flagged when it "
"exceeds m + max(3 x 1.4826 x MAD, floor) of the same probe and process over its last 20 "
"windows (m the median, MAD the median absolute deviation; floor 50% of m for p99, 1 point "
"for the error rate); from the 6th window with 10 or more calls on. Shown in the view, in JSON "
"as \"anomaly\", counted in inferlat_anomalies_total.\n"
"\n"
"Slow-call exemplars (--slow, default auto: the slowest 0.1% so far): a call over its probe's "
"threshold carries its caller's user stack, taken in BPF at return only for such calls, and "
"its time split; the view lists each window's slowest calls, JSON gets {\"type\": "
"\"exemplar\", ...} records with the symbolized stack.\n"
"\n"
"Baselines (--baseline FILE, a file --save-baseline wrote): per probe, the p50/p90/p99 "
"changes with intervals from order statistics, the mean's with Welch's, and a Mann-Whitney U "
"test on the two histograms with the effect size A (the probability that a call of this run "
"is slower than a baseline call). Regressed: p < 0.01, A > 0.5 and the median more than "
"--regression-threshold slower.\n"
"\n"
"Exit status: 0 done, 1 runtime failure, 2 bad usage or input, 3 a --slo check failed over the "
"whole run or a probe regressed against --baseline.";

static const char args_doc[] = "[-- COMMAND [ARGS...]]";

enum {
	OPT_JSON = 0x100,
	OPT_CALLS,
	OPT_MAX_PROBES,
	OPT_RINGBUF,
	OPT_RAW,
	OPT_SITE,
	OPT_USAGE,
	OPT_TEXTFILE_DIR,
	OPT_TEXTFILE_NAME,
	OPT_LABEL,
	OPT_PID_LABEL,
	OPT_DEBUG_ROOT,
	OPT_COMM,
	OPT_NO_MULTI,
	OPT_OPS,
	OPT_BREAKDOWN,
	OPT_MAX_THREADS,
	OPT_SLO,
	OPT_SAVE_BASELINE,
	OPT_BASELINE,
	OPT_REGRESSION,
	OPT_SLOW,
	OPT_HTTP,
	OPT_NO_SPLIT,
};

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "Targets (at least one; a COMMAND is started and traced until it exits):", 1 },
	{ "pid", 'p', "PID", 0, "a running process (repeatable)", 1 },
	{ "exe", 'x', "PATH", 0, "every process running PATH, now and later (repeatable)", 1 },
	{ "comm", OPT_COMM, "NAME", 0, "every process named NAME (its comm, at most 15 characters), now "
	  "and later (repeatable)", 1 },
	{ NULL, 0, NULL, 0, "Probes:", 2 },
	{ "probe", 'e', "SPEC", 0, "[LIB:]SYMBOL[+OFF] or LIB:0xOFFSET (repeatable)", 2 },
	{ "runtime", 'r', "NAME", 0, "a runtime preset: llama.cpp, onnxruntime, libtorch, cuda or auto "
	  "(repeatable; inferlat runtimes lists their probes)", 2 },
	{ "http", OPT_HTTP, "PORT,...", OPTION_ARG_OPTIONAL, "the targets' HTTP/1.1 requests, from their socket "
	  "syscalls: duration, status, time to first chunk, inter-chunk time; on every TCP port they "
	  "accept on, or only those given (with no -e/-r: requests alone)", 2 },
	{ "breakdown", OPT_BREAKDOWN, NULL, 0, "with -r: also probe the calls nested inside the runtime's "
	  "main call (llama.cpp: ggml's graph compute); each nested probe pair adds its own cost to every "
	  "main call (tens of us without PCID: inferlat runtimes NAME)", 2 },
	{ "ops", OPT_OPS, NULL, 0, "with -r libtorch: a per-operator breakdown, every ATen operator nested "
	  "inside a forward (at::_ops::*::call), each call paying a probe pair", 2 },
	{ "error", 'E', "EXPR", 0, "what a failing call returns: 'ret!=0', 'ret<0', 'ret==0'", 2 },
	{ "max-probes", OPT_MAX_PROBES, "N", 0, "attach to at most N functions (default 1000; without it, "
	  "16 beyond those found at start are kept for libraries loaded later)", 2 },
	{ "no-multi", OPT_NO_MULTI, NULL, 0, "one perf uprobe per function instead of uprobe_multi links "
	  "(what kernels before 6.6 get; needs CAP_SYS_ADMIN)", 2 },
	{ "debug-root", OPT_DEBUG_ROOT, "DIR", 0, "where separate debuginfo of stripped objects is looked up "
	  "by build-id (DIR/.build-id/xx/yyyy.debug) and debuglink (default /usr/lib/debug)", 2 },
	{ NULL, 0, NULL, 0, "Output:", 3 },
	{ "interval", 'i', "SEC", 0, "window length (default 1; 250ms, 2s, 1m accepted)", 3 },
	{ "duration", 'd', "SEC", 0, "stop after SEC (default: at SIGINT/SIGTERM or when the targets exit)", 3 },
	{ "json", OPT_JSON, "FILE", 0, "one JSON object per probe and process per window, then final ones ('-': stdout)", 3 },
	{ "calls", OPT_CALLS, "FILE", 0, "one JSON object per call ('-': stdout)", 3 },
	{ "quiet", 'q', NULL, 0, "no live view", 3 },
	{ "verbose", 'v', NULL, 0, "resolution and attach details (chosen probe sites)", 3 },
	{ "ringbuf-size", OPT_RINGBUF, "BYTES", 0, "event ring buffer size in bytes, a power of two from 4096 to 1 GiB (default 4 MiB)", 3 },
	{ "textfile-dir", OPT_TEXTFILE_DIR, "DIR", 0, "write DIR/inferlat.prom for node_exporter's textfile "
	  "collector, atomically, every window and at exit", 3 },
	{ "textfile-name", OPT_TEXTFILE_NAME, "NAME", 0, "the file's name in DIR (default inferlat.prom; "
	  "must end in .prom)", 3 },
	{ "label", OPT_LABEL, "KEY=VALUE", 0, "static label on every exported series, e.g. model=llama-3-8b "
	  "(repeatable)", 3 },
	{ "pid-label", OPT_PID_LABEL, NULL, 0, "label exported series with the process id too "
	  "(one series per process: mind the cardinality)", 3 },
	{ NULL, 0, NULL, 0, "Checks:", 5 },
	{ "slo", OPT_SLO, "EXPR", 0, "[PROBE:]METRIC<VALUE or >VALUE, e.g. 'llama_decode:p99<50ms', "
	  "'p99.9<200ms', 'errors<1%', 'rps>10'; exit status 3 when broken over the whole run "
	  "(repeatable)", 5 },
	{ "save-baseline", OPT_SAVE_BASELINE, "FILE", 0, "at the end, store the run's distribution per probe "
	  "(JSON: histogram buckets, counts, errors, CPU split) for --baseline", 5 },
	{ "baseline", OPT_BASELINE, "FILE", 0, "at the end, compare the run with a saved one per probe: "
	  "p50/p90/p99 and mean changes with 95% intervals, Mann-Whitney U; exit status 3 on a "
	  "regression", 5 },
	{ "regression-threshold", OPT_REGRESSION, "PCT", 0, "how much slower the median must be, "
	  "significantly, to be a regression (default 5%)", 5 },
	{ "slow", OPT_SLOW, "DURATION|auto|off", 0, "calls at least this long send an exemplar with "
	  "their caller's stack (default auto: the slowest 0.1% so far)", 3 },
	{ NULL, 0, NULL, 0, "Measurement:", 4 },
	{ "raw-durations", OPT_RAW, NULL, 0, "report durations as the probes see them, without subtracting "
	  "the probe overhead measured at start", 4 },
	{ "site", OPT_SITE, "auto|symbol", 0, "where entry probes go: past endbr64 onto an instruction the "
	  "kernel emulates (auto, default), or on the symbol itself", 4 },
	{ "max-threads", OPT_MAX_THREADS, "N", 0, "threads whose calls' time is split into on-CPU, blocked "
	  "and run-queue time (default 32768); when full, the threads that have a slot keep it and "
	  "newer ones' calls are timed without the split, counted as thread_table_full", 4 },
	{ "no-split", OPT_NO_SPLIT, NULL, 0, "latency only: no on-CPU/blocked/run-queue split, page "
	  "faults or context switches per call, and no program on the host's context switches", 4 },
	{ NULL, 0, NULL, 0, "Help:", -1 },
	{ "help", '?', NULL, 0, "this help", -1 },
	{ "usage", OPT_USAGE, NULL, 0, "a short usage message", -1 },
	{ "version", 'V', NULL, 0, "the version", -1 },
	{ 0 }
};

int cli_parse_duration(const char *s, double *out)
{
	char *end;
	double v, mul = 1;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return -EINVAL;
	if (!strcmp(end, "ms"))
		mul = 1e-3;
	else if (!strcmp(end, "s") || !*end)
		mul = 1;
	else if (!strcmp(end, "m"))
		mul = 60;
	else if (!strcmp(end, "h"))
		mul = 3600;
	else
		return -EINVAL;
	v *= mul;
	if (!isfinite(v) || v <= 0 || v > 365 * 86400.0)
		return -EINVAL;
	*out = v;
	return 0;
}

/* What cli_parse exits with once argp is done (argp's own storage freed):
 * -1 to go on, 0 after --help or --version, EXIT_USAGE after bad usage. */
static int parse_exit = -1;

/* One line on stderr (argp's own messages add a second line); the caller
 * returns the error, so argp stops and cli_parse exits 2. */
__attribute__((format(printf, 1, 2))) static error_t usage_fail(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* log_err keeps it one line whatever the argument holds */
	log_err("%s", buf);
	parse_exit = EXIT_USAGE;
	return EINVAL;
}

static void *grow(void *v, size_t n, size_t elem)
{
	void *nv = realloc(v, (n + 1) * elem);

	if (!nv) {
		fprintf(stderr, "inferlat: out of memory\n");
		exit(1);
	}
	return nv;
}

/* Is optin (an enum runtimes_optin bit) not given, or given with a -r
 * preset that has such probes? */
static bool optin_offered(const struct options *o, unsigned optin)
{
	if (!(o->optins & optin))
		return true;
	for (size_t i = 0; i < o->nruntimes; i++)
		if (runtimes_offers(o->runtimes[i], optin))
			return true;
	return false;
}

/* "-r llama.cpp": the presets with probes under optin, for a usage message */
static const char *optin_presets(unsigned optin)
{
	static char buf[128];

	runtimes_offering(optin, buf, sizeof(buf));
	return buf;
}

/* All of s up to stop (',' in a list; '\0': the whole argument), a number
 * from min to max in base 10 (base 0: also 0x...); *next is past it. */
static int parse_uint_to(const char *s, int base, char stop, long long min, long long max,
			 long long *out, const char **next)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, base);
	if (errno || end == s || (*end && *end != stop) || v < min || v > max)
		return -EINVAL;
	*out = v;
	if (next)
		*next = *end ? end + 1 : end;
	return 0;
}

static int parse_uint(const char *arg, long long min, long long max, long long *out)
{
	return parse_uint_to(arg, 10, '\0', min, max, out, NULL);
}

/* --http=PORT,...: none is every TCP port */
static error_t parse_http_ports(struct options *o, const char *arg)
{
	long long port;

	o->http = true;
	for (const char *p = arg; p && *p;) {
		if (parse_uint_to(p, 10, ',', 1, 65535, &port, &p))
			return usage_fail("--http=%s: expected TCP ports 1..65535, separated by commas", arg);
		if (o->nhttp_ports == INFERLAT_MAX_HTTP_PORTS)
			return usage_fail("--http=%s: at most %d ports", arg, INFERLAT_MAX_HTTP_PORTS);
		o->http_ports = grow(o->http_ports, o->nhttp_ports, sizeof(*o->http_ports));
		o->http_ports[o->nhttp_ports++] = (uint16_t)port;
	}
	return 0;
}

/* -e SPEC, and -E PRED for the -e before it (or every -e after, when first) */
static error_t parse_probe(struct options *o, int key, const char *arg)
{
	char err[512];
	int kind, bits;

	if (key == 'e') {
		o->specs = grow(o->specs, o->nspecs, sizeof(*o->specs));
		if (probespec_parse(arg, &o->specs[o->nspecs], err, sizeof(err)))
			return usage_fail("%s", err);
		o->specs[o->nspecs].err_kind = o->default_err_kind;
		o->specs[o->nspecs].ret_bits = o->default_ret_bits;
		o->nspecs++;
		return 0;
	}
	if (probespec_parse_err(arg, &kind, &bits, err, sizeof(err)))
		return usage_fail("%s", err);
	if (o->nspecs) {
		o->specs[o->nspecs - 1].err_kind = kind;
		o->specs[o->nspecs - 1].ret_bits = bits;
	} else {
		o->default_err_kind = kind;
		o->default_ret_bits = bits;
	}
	return 0;
}

/* What is traced: targets, probes, presets, requests and the kernel side's
 * sizes. ARGP_ERR_UNKNOWN for the other keys. */
static error_t parse_traced(struct options *o, int key, char *arg)
{
	long long v;

	switch (key) {
	case 'p':
		if (parse_uint(arg, 1, INT_MAX, &v))
			return usage_fail("-p %s: not a process id (a positive number)", arg);
		o->pids = grow(o->pids, o->npids, sizeof(*o->pids));
		o->pids[o->npids++] = (pid_t)v;
		break;
	case 'x':
		o->exes = grow(o->exes, o->nexes, sizeof(*o->exes));
		o->exes[o->nexes++] = strdup(arg);
		break;
	case OPT_COMM:
		if (!*arg || strlen(arg) > INFERLAT_COMM_LEN - 1)
			return usage_fail("--comm '%s': a process name has 1 to %d characters (see /proc/PID/comm)",
				   arg, INFERLAT_COMM_LEN - 1);
		o->comms = grow(o->comms, o->ncomms, sizeof(*o->comms));
		o->comms[o->ncomms++] = strdup(arg);
		break;
	case 'r':
		if (!runtimes_known(arg))
			return usage_fail("-r %s: no such preset; expected llama.cpp, onnxruntime, libtorch, cuda or auto "
				   "(inferlat runtimes lists them)", arg);
		o->runtimes = grow(o->runtimes, o->nruntimes, sizeof(*o->runtimes));
		o->runtimes[o->nruntimes++] = arg;
		break;
	case OPT_OPS:
		o->optins |= RUNTIMES_OPS;
		break;
	case OPT_BREAKDOWN:
		o->optins |= RUNTIMES_BREAKDOWN;
		break;
	case 'e':
	case 'E':
		return parse_probe(o, key, arg);
	case OPT_HTTP:
		return parse_http_ports(o, arg);
	case OPT_MAX_PROBES:
		if (parse_uint(arg, 1, INFERLAT_MAX_PROBES, &v))
			return usage_fail("--max-probes %s: expected 1..%d", arg, INFERLAT_MAX_PROBES);
		o->max_probes = (size_t)v;
		o->max_probes_given = true;
		break;
	case OPT_MAX_THREADS:
		if (parse_uint(arg, 1, INFERLAT_MAX_THREADS_LIMIT, &v))
			return usage_fail("--max-threads %s: expected 1..%u", arg, INFERLAT_MAX_THREADS_LIMIT);
		o->max_threads = (unsigned)v;
		break;
	case OPT_RINGBUF:
		if (parse_uint_to(arg, 0, '\0', 4096, 1ll << 30, &v, NULL) || (v & (v - 1)))
			return usage_fail("--ringbuf-size %s: expected a power of two from 4096 to 1 GiB "
				   "(bytes: 4194304 or 0x400000)", arg);
		o->ringbuf_bytes = (unsigned)v;
		break;
	case OPT_NO_MULTI:
		o->no_multi = true;
		break;
	case OPT_NO_SPLIT:
		o->no_split = true;
		break;
	case OPT_RAW:
		o->raw_durations = true;
		break;
	case OPT_DEBUG_ROOT:
		o->debug_root = arg;
		break;
	case OPT_SITE:
		if (!strcmp(arg, "symbol"))
			o->site_at_symbol = true;
		else if (strcmp(arg, "auto"))
			return usage_fail("--site %s: expected auto or symbol", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* --label KEY=VALUE, each key once */
static error_t parse_label(struct options *o, const char *arg)
{
	char err[512];

	o->labels = grow(o->labels, o->nlabels, sizeof(*o->labels));
	if (prom_label_parse(arg, &o->labels[o->nlabels], err, sizeof(err)))
		return usage_fail("%s", err);
	for (size_t i = 0; i < o->nlabels; i++) {
		if (!strcmp(o->labels[i].key, o->labels[o->nlabels].key)) {
			prom_label_free(&o->labels[o->nlabels]);
			return usage_fail("--label %.64s: label '%s' given twice", arg, o->labels[i].key);
		}
	}
	o->nlabels++;
	return 0;
}

/* How it is reported and judged: windows, outputs, thresholds, baselines.
 * ARGP_ERR_UNKNOWN for the other keys. */
static error_t parse_reported(struct options *o, int key, char *arg)
{
	char err[512], *end;

	switch (key) {
	case 'i':
		if (cli_parse_duration(arg, &o->interval_s) || o->interval_s < 0.01)
			return usage_fail("-i %s: expected a duration of at least 10ms (1, 0.5, 250ms, 2s)", arg);
		break;
	case 'd':
		if (cli_parse_duration(arg, &o->duration_s))
			return usage_fail("-d %s: expected a positive duration (30, 1.5, 500ms, 2m)", arg);
		break;
	case OPT_JSON:
		o->json_path = arg;
		break;
	case OPT_CALLS:
		o->calls_path = arg;
		break;
	case OPT_TEXTFILE_DIR:
		o->textfile_dir = arg;
		break;
	case OPT_TEXTFILE_NAME:
		if (!textfile_name_ok(arg))
			return usage_fail("--textfile-name %s: expected a file name ending in .prom "
				   "(node_exporter reads only those), without '/'", arg);
		o->textfile_name = arg;
		break;
	case OPT_LABEL:
		return parse_label(o, arg);
	case OPT_PID_LABEL:
		o->pid_label = true;
		break;
	case OPT_SLOW:
		o->slow_auto = !strcmp(arg, "auto");
		o->slow_s = 0;
		if (!o->slow_auto && strcmp(arg, "off") && cli_parse_duration(arg, &o->slow_s))
			return usage_fail("--slow %s: expected a duration (50ms, 1.5s), auto or off", arg);
		break;
	case OPT_SAVE_BASELINE:
		o->save_baseline = arg;
		break;
	case OPT_BASELINE:
		o->baseline = arg;
		break;
	case OPT_REGRESSION:
		errno = 0;
		o->regression_threshold = strtod(arg, &end);
		if (errno || end == arg || (*end && strcmp(end, "%")) || !isfinite(o->regression_threshold) ||
		    o->regression_threshold < 0 || o->regression_threshold > 1000)
			return usage_fail("--regression-threshold %s: expected a percentage from 0 to 1000, e.g. 5 or 5%%",
				   arg);
		o->regression_threshold /= 100;
		o->regression_given = true;
		break;
	case OPT_SLO:
		o->slos = grow(o->slos, o->nslos, sizeof(*o->slos));
		if (slo_parse(arg, &o->slos[o->nslos], err, sizeof(err)))
			return usage_fail("%s", err);
		o->nslos++;
		break;
	case 'q':
		o->quiet = true;
		break;
	case 'v':
		o->verbose = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* The options taken together, once all are read. */
static error_t check_options(struct options *o)
{
	if (!o->npids && !o->nexes && !o->ncomms && !o->command)
		return usage_fail("no target: give -p PID, -x PATH, --comm NAME or -- COMMAND");
	if (!o->nspecs && !o->nruntimes && !o->http)
		return usage_fail("no probe: give -e [LIB:]SYMBOL, -r RUNTIME or --http");
	/* libtorch has ~3000 operators */
	if ((o->optins & RUNTIMES_OPS) && !o->max_probes_given)
		o->max_probes = INFERLAT_MAX_PROBES;
	if (!optin_offered(o, RUNTIMES_OPS))
		return usage_fail("--ops is libtorch's per-operator breakdown: give %s (or -r auto)",
				  optin_presets(RUNTIMES_OPS));
	if (!optin_offered(o, RUNTIMES_BREAKDOWN))
		return usage_fail("--breakdown probes the calls nested inside a runtime's main call: "
				  "give %s (or -r auto)", optin_presets(RUNTIMES_BREAKDOWN));
	for (size_t i = 0; i < o->nslos; i++)
		if (o->slos[i].http && !o->http)
			return usage_fail("--slo '%s' judges HTTP requests: give --http too", o->slos[i].text);
	if (o->regression_given && !o->baseline)
		return usage_fail("--regression-threshold applies to --baseline FILE");
	if (!o->textfile_dir && (o->textfile_name || o->nlabels || o->pid_label))
		return usage_fail("--textfile-name, --label and --pid-label shape the Prometheus textfile: "
			   "give --textfile-dir DIR too");
	return 0;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state);
static const struct argp argp = { options, parse_opt, args_doc, doc, NULL, NULL, NULL };

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct options *o = state->input;
	error_t err;

	switch (key) {
	case '?':
		argp_help(&argp, stdout, ARGP_HELP_STD_HELP, "inferlat");
		parse_exit = 0;
		return ECANCELED;
	case OPT_USAGE:
		argp_help(&argp, stdout, ARGP_HELP_USAGE, "inferlat");
		parse_exit = 0;
		return ECANCELED;
	case 'V':
		printf("%s\n", argp_program_version);
		parse_exit = 0;
		return ECANCELED;
	case ARGP_KEY_ARG:
		return usage_fail("unexpected argument '%s' (a COMMAND goes after --)", arg);
	case ARGP_KEY_ERROR:
		/* argp says so after any error: ours are said already; else an
		 * unknown option, or one missing its value */
		if (parse_exit >= 0)
			return 0;
		return usage_fail("bad option '%s' (inferlat --help lists the options)",
			   state->next > 0 && state->next <= state->argc ? state->argv[state->next - 1] : "?");
	case ARGP_KEY_END:
		return check_options(o);
	}
	err = parse_traced(o, key, arg);
	return err == ARGP_ERR_UNKNOWN ? parse_reported(o, key, arg) : err;
}

void cli_parse(int argc, char **argv, struct options *o)
{
	int nopts = argc;

	memset(o, 0, sizeof(*o));
	o->interval_s = 1;
	o->max_probes = 1000;
	o->default_ret_bits = 32;
	o->regression_threshold = 0.05;
	o->slow_auto = true;
	/* argp cannot tell the COMMAND after -- from stray words before it */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			nopts = i;
			if (i + 1 < argc)
				o->command = argv + i + 1;
			break;
		}
	}
	argp_err_exit_status = EXIT_USAGE;
	/* our own help and errors: argp's error messages take two lines, and
	 * ARGP_NO_ERRS would silence its --help */
	parse_exit = -1;
	if (argp_parse(&argp, nopts, argv, ARGP_NO_ERRS | ARGP_NO_HELP, NULL, o) && parse_exit < 0)
		usage_fail("bad command line (inferlat --help lists the options)");
	if (parse_exit >= 0) {
		int status = parse_exit;

		fflush(stdout);
		cli_free(o);
		exit(status);
	}
}

void cli_free(struct options *o)
{
	for (size_t i = 0; i < o->nspecs; i++)
		probespec_free(&o->specs[i]);
	free(o->specs);
	for (size_t i = 0; i < o->nexes; i++)
		free(o->exes[i]);
	free(o->exes);
	for (size_t i = 0; i < o->ncomms; i++)
		free(o->comms[i]);
	free(o->comms);
	free(o->pids);
	free(o->http_ports);
	free(o->runtimes);
	for (size_t i = 0; i < o->nlabels; i++)
		prom_label_free(&o->labels[i]);
	free(o->labels);
	for (size_t i = 0; i < o->nslos; i++)
		slo_free(&o->slos[i]);
	free(o->slos);
	memset(o, 0, sizeof(*o));
}
