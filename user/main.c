// SPDX-License-Identifier: GPL-2.0
/*
 * inferlat: wiring only. options -> targets -> probes -> BPF session ->
 * events -> windows -> live view / JSON / Prometheus textfile.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "anomaly.h"
#include "session.h"
#include "baseline.h"
#include "bpfmem.h"
#include "calibrate.h"
#include "cli.h"
#include "events.h"
#include "exemplar.h"
#include "httpagg.h"
#include "httpframe.h"
#include "json.h"
#include "kstats.h"
#include "log.h"
#include "privs.h"
#include "procfs.h"
#include "proctab.h"
#include "prom.h"
#include "resolve.h"
#include "runtimes.h"
#include "silence.h"
#include "rotate.h"
#include "slo.h"
#include "sockscan.h"
#include "symcmd.h"
#include "targets.h"
#include "textfile.h"
#include "version.h"
#include "view.h"
#include "watch.h"
#include "agg.h"

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	exiting = 1;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static FILE *open_out(const char *path, const char *what)
{
	FILE *f;

	if (!strcmp(path, "-"))
		return stdout;
	f = fopen(path, "we");
	if (!f)
		log_err("%s %s: %s", what, path, strerror(errno));
	return f;
}

/* SIGHUP: the files inferlat appends to are reopened at their paths. A file
 * that cannot be reopened is said once and written on where it was. */
static void reopen_outputs(FILE *json, const char *json_path, FILE *calls, const char *calls_path)
{
	const struct { FILE *f; const char *path, *what; } outs[] = {
		{ json, json_path, "--json" }, { calls, calls_path, "--calls" },
	};

	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
		int err;

		if (!outs[i].f || outs[i].f == stdout)
			continue;
		err = rotate_reopen(outs[i].f, outs[i].path);
		if (err)
			log_err("cannot reopen %s %s at SIGHUP: %s; writing on to the old file",
				outs[i].what, outs[i].path, strerror(-err));
	}
}

/* -p targets only: stop when none is left. */
static bool targets_gone(const struct targets *t)
{
	if (t->nexes || t->child)
		return false;
	for (size_t i = 0; i < t->npids; i++)
		if (procfs_state(t->pids[i]) == PROC_RUNNING)
			return false;
	return true;
}

static void log_probes(const struct probe_set *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		const struct probe *p = &ps->v[i];

		log_info("probe %u: %s at %s+%#llx: %s (%s)%s%s%s", p->id, p->name, p->object,
			 (unsigned long long)(p->func_off + p->site.skip), p->site.insn,
			 site_kind_name(p->site.kind), p->site.skip ? "; skipped " : "",
			 p->site.skip ? p->site.start_insn : "",
			 p->site.skip ? " at the symbol (single-step)" : "");
	}
}

/* The window just closed, into the textfile. A failed write is reported and
 * counted by textfile_write and does not stop profiling. */
static int export_textfile(struct prom_exporter *px, struct textfile *tf,
			   const struct aggregator *agg, struct kstats *ks, const struct report *rep)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	err = prom_update(px, agg, ks, rep->span_s);
	if (err)
		return err;
	px->has_bpf_memory = rep->has_bpf_memory;
	px->bpf_memory_bytes = rep->bpf_memory.total;
	px->no_split = rep->no_split;
	f = open_memstream(&buf, &len);
	if (!f)
		return -errno;
	err = prom_write(px, f, rep->ts, tf->errors);
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (!err)
		textfile_write(tf, buf, len);
	free(buf);
	return err;
}

/* A check naming a probe must name one inferlat traces (or may still, once
 * a library it waits for is loaded). */
static int check_slos(const struct options *o, const struct probe_set *ps)
{
	for (size_t i = 0; i < o->nslos; i++) {
		bool any = ps->pending > 0;

		if (o->slos[i].http)
			continue;   /* requests, not probes (cli.c saw --http) */

		for (size_t j = 0; j < ps->n && !any; j++)
			any = slo_matches(&o->slos[i], &ps->v[j]);
		if (!any) {
			log_err("--slo '%s': no probe matches '%s' (the probes are given with -e)",
				o->slos[i].text, o->slos[i].probe);
			return -EINVAL;
		}
	}
	return 0;
}

static int judge(struct slo_set *slos, struct anomaly_detector *ad, struct silence *quiet,
		 struct report *rep);

struct known_conns {
	struct session *sess;
	struct http_framer *framer;
	uint64_t next_id;
};

static int follow_known(void *ctx, pid_t pid, int fd, uint16_t port)
{
	struct known_conns *k = ctx;
	uint64_t id = INFERLAT_CONN_ID_KNOWN | ++k->next_id;
	int err = session_follow_conn(k->sess, pid, fd, id, port);

	/* -EEXIST: accepted since the session started, followed already */
	if (err == -EEXIST)
		return 0;
	return err ? err : http_framer_known(k->framer, id, pid, fd, port);
}

/* --http: the connections the targets held before the probes were there. */
static int follow_open_conns(const struct options *o, const struct targets *t, struct session *sess,
			     struct http_framer *framer)
{
	struct known_conns k = { sess, framer, 0 };

	for (size_t i = 0; i < t->npids; i++) {
		int err = sockscan_conns(t->pids[i], o->http_ports, o->nhttp_ports, follow_known, &k);

		if (err && err != -ENOENT && err != -ESRCH) {
			log_err("--http: cannot read the connections of process %d: %s", (int)t->pids[i],
				strerror(-err));
			return err;
		}
	}
	return 0;
}

/* --http with --calls: each request ended is also written out. */
struct request_out {
	struct http_sink agg;
	FILE *calls;
	int err;
};

static void request_start(void *ctx, const struct http_exchange *x)
{
	struct request_out *o = ctx;

	o->agg.start(o->agg.ctx, x);
}

static void request_done(void *ctx, const struct http_exchange *x)
{
	struct request_out *o = ctx;
	int err;

	o->agg.done(o->agg.ctx, x);
	if (o->calls && (err = json_write_request(o->calls, x)) && !o->err)
		o->err = err;
}

static void request_unparsed(void *ctx, pid_t pid, uint16_t port, const char *why)
{
	struct request_out *o = ctx;

	o->agg.unparsed(o->agg.ctx, pid, port, why);
}

/* A window (or the whole run) of the aggregators and its judgements. */
static int close_window(struct aggregator *agg, struct http_agg *hagg, const struct session *sess,
			double now, bool final, struct slo_set *slos, struct anomaly_detector *ad,
			struct silence *quiet, struct report *rep)
{
	const struct sock_counters *kc = sess->sock_counters;
	int err = agg_report(agg, now, wall_now(), final, rep);

	rep->no_split = sess->no_split;
	/* a kernel that gives no fdinfo figure leaves the record out, not zero */
	rep->has_bpf_memory = !err && !session_bpf_memory(sess, &rep->bpf_memory);
	rep->targets_full = session_targets_full(sess);
	if (!err && kc) {
		err = http_agg_report(hagg, now, final, rep);
		rep->http_events_lost = __atomic_load_n(&kc->rb_drops, __ATOMIC_RELAXED);
		rep->http_conns_not_followed = __atomic_load_n(&kc->conn_full, __ATOMIC_RELAXED);
	}
	return err ? err : judge(slos, ad, quiet, rep);
}

/*
 * A full thread table is said once, on stderr: the live view has no column
 * for it (JSON thread_table_full and the textfile count it per window).
 */
static void note_full_tables(const struct report *rep, unsigned max_threads, bool *told)
{
	static bool told_targets;

	if (rep->targets_full && !told_targets) {
		log_note("%llu processes forked or exec'd by targets were not traced: the traced set holds "
			 "%u processes (processes_not_followed)", (unsigned long long)rep->targets_full,
			 INFERLAT_MAX_TARGETS);
		told_targets = true;
	}
	for (size_t i = 0; i < rep->n && !*told; i++) {
		if (!rep->rows[i].thread_full)
			continue;
		log_note("the thread table is full (%u threads, --max-threads): calls of newer threads are "
			 "counted and timed without their on-CPU/blocked/run-queue split (thread_table_full)",
			 max_threads ? max_threads : INFERLAT_MAX_THREADS);
		*told = true;
	}
}

/* The whole run into --save-baseline, and against --baseline: 0, 1 (a
 * failure, explained) or EXIT_CHECK (a regression). */
static int end_baseline(const struct options *o, const struct aggregator *agg, double span_s,
			const struct baseline *base, struct view *view, FILE *json)
{
	struct probe_comparison *pc = NULL;
	struct baseline cur;
	size_t n = 0;
	int err, ret = 0;

	if (!o->save_baseline && !o->baseline)
		return 0;
	if ((err = baseline_collect(agg, span_s, &cur))) {
		log_err("collecting the baseline: %s", strerror(-err));
		return 1;
	}
	if (o->save_baseline &&
	    (err = baseline_save(&cur, o->save_baseline, INFERLAT_VERSION, wall_now()))) {
		log_err("--save-baseline %s: %s", o->save_baseline, strerror(-err));
		ret = 1;
	}
	if (o->baseline) {
		if ((err = baseline_compare(base, &cur, o->regression_threshold, &pc, &n))) {
			log_err("comparing with the baseline: %s", strerror(-err));
			ret = 1;
			goto out;
		}
		for (size_t i = 0; i < base->n; i++)
			if (!baseline_find(&cur, base->v[i].name))
				log_note("baseline probe %s is not traced in this run", base->v[i].name);
		if (!o->quiet)
			view_show_comparisons(view, o->baseline, pc, n);
		if (json && (err = json_write_comparisons(json, o->baseline, pc, n))) {
			log_err("writing %s: %s", o->json_path, strerror(-err));
			ret = 1;
		}
		for (size_t i = 0; i < n; i++) {
			const struct comparison *c = &pc[i].c;

			if (c->n_base && c->n_cur && c->verdict == VERDICT_REGRESSED) {
				log_note("%s regressed against %s: p50 %+.1f%% [%+.1f, %+.1f], mean %+.1f%%, "
					 "Mann-Whitney p %.2g, A %.3f", pc[i].probe, o->baseline,
					 100 * c->p50.change, 100 * c->p50.change_lo, 100 * c->p50.change_hi,
					 100 * c->mean.change, c->p, c->a12);
				if (!ret)
					ret = EXIT_CHECK;
			}
		}
	}
out:
	free(pc);
	baseline_free(&cur);
	return ret;
}

/* --slow auto: each probe's threshold from its calls so far. */
static int tune_slow(struct session *sess, const struct aggregator *agg, const struct probe_set *ps)
{
	for (uint32_t id = 0; id < ps->n && id < agg->nprobes; id++) {
		int err = session_set_slow(sess, id, exemplar_auto_threshold(agg, id));

		if (err)
			return err;
	}
	return 0;
}

/* Judgements on a closed window or the whole run, before it is shown. */
static int judge(struct slo_set *slos, struct anomaly_detector *ad, struct silence *quiet,
		 struct report *rep)
{
	int err = slo_judge(slos, rep);

	if (!err)
		err = anomaly_judge(ad, rep);
	return err ? err : silence_judge(quiet, rep);
}

int main(int argc, char **argv)
{
	struct options opt;
	struct targets tg = { 0 };
	struct probe_set ps = { 0 };
	struct session sess = { 0 };
	struct kstats ks = { 0 };
	struct aggregator agg = { 0 };
	struct proctab procs = { 0 };
	struct events ev = { 0 };
	struct report rep = { 0 };
	struct view view;
	struct resolve_opts ro = { 0 };
	struct objects known = { 0 };
	struct watch watch = { 0 };
	struct attach_opts ao = { 0 };
	struct calibration calib = { 0 };
	struct prom_exporter prom = { 0 };
	struct prom_opts po = { 0 };
	struct textfile tf = { 0 };
	struct slo_set slos = { 0 };
	struct anomaly_detector anomalies;
	struct silence quiet = { 0 };
	struct baseline base = { 0 };
	struct exemplars ex = { 0 };
	struct http_framer framer = { 0 };
	struct http_agg hagg = { 0 };
	struct http_sink sink;
	struct request_out reqout = { 0 };
	FILE *json = NULL, *calls = NULL;
	double start, next_window, deadline;
	bool told_thread_table = false;
	int err, status = 0;

	/* unset: debug files are read locally only; attaching must never wait
	 * on a download by libdwfl's debuginfod client */
	unsetenv("DEBUGINFOD_URLS");
	if (argc > 1 && !strcmp(argv[1], "symbols"))
		return symcmd_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "runtimes"))
		return runtimes_main(argc - 1, argv + 1);
	anomaly_init(&anomalies);
	cli_parse(argc, argv, &opt);
	log_verbose = opt.verbose;
	log_install_libbpf();

	if (opt.baseline) {
		char why[512];

		/* a bad baseline is known before anything is traced */
		if (baseline_load(opt.baseline, &base, why, sizeof(why))) {
			log_err("%s", why);
			status = EXIT_USAGE;
			goto out;
		}
	}
	if (privs_check(opt.no_multi)) {
		status = EXIT_USAGE;
		goto out;
	}
	if (targets_build(opt.pids, opt.npids, opt.exes, opt.nexes, opt.comms, opt.ncomms, &tg)) {
		status = EXIT_USAGE;
		goto out;
	}
	if (opt.command) {
		err = targets_spawn(&tg, opt.command);
		if (err) {
			if (err != -ENOEXEC)
				log_err("cannot start %s: %s", opt.command[0], strerror(-err));
			status = EXIT_USAGE;
			goto out;
		}
	}
	if (opt.nruntimes &&
	    runtimes_expand(opt.runtimes, opt.nruntimes, opt.optins, &tg, &opt.specs, &opt.nspecs)) {
		status = EXIT_USAGE;
		goto out;
	}
	ro.max_probes = opt.max_probes;
	ro.site_at_symbol = opt.site_at_symbol;
	ro.debug_root = opt.debug_root;
	if (resolve_probes(opt.specs, opt.nspecs, &tg, &ro, &ps, &known)) {
		status = EXIT_USAGE;
		goto out;
	}
	log_probes(&ps);
	/* one process, no per-call output: windows come from the kernel alone */
	if (tg.npids == 1 && !tg.nexes && !tg.ncomms && !tg.child && !opt.calls_path)
		ps.kernel_pid = tg.pids[0];
	ps.pool_events = opt.http;
	if (check_slos(&opt, &ps)) {
		status = EXIT_USAGE;
		goto out;
	}
	if (slo_set_init(&slos, opt.slos, opt.nslos)) {
		log_err("out of memory");
		status = 1;
		goto out;
	}

	if (opt.json_path && !(json = open_out(opt.json_path, "--json"))) {
		status = EXIT_USAGE;
		goto out;
	}
	if (opt.calls_path && !(calls = open_out(opt.calls_path, "--calls"))) {
		status = EXIT_USAGE;
		goto out;
	}
	exemplars_init(&ex, &ps, json, opt.debug_root);
	if (opt.textfile_dir &&
	    textfile_init(&tf, opt.textfile_dir, opt.textfile_name ? opt.textfile_name : "inferlat.prom")) {
		status = EXIT_USAGE;
		goto out;
	}
	po.labels = opt.labels;
	po.nlabels = opt.nlabels;
	po.pid_label = opt.pid_label;
	po.version = INFERLAT_VERSION;
	po.slos = &slos;
	po.anomalies = &anomalies;

	ao.follow_forks = opt.command || opt.nexes || opt.ncomms;
	ao.ringbuf_bytes = opt.ringbuf_bytes;
	ao.calib = opt.raw_durations ? NULL : &calib;
	ao.no_multi = opt.no_multi;
	ao.max_threads = opt.max_threads;
	ao.no_split = opt.no_split;
	/* exemplars go to the view and to --json: with neither, none are taken */
	if (opt.quiet && !json) {
		opt.slow_auto = false;
		opt.slow_s = 0;
	}
	ao.slow_ns = (uint64_t)(opt.slow_s * 1e9);
	ao.http = opt.http;
	ao.http_ports = opt.http_ports;
	ao.nhttp_ports = opt.nhttp_ports;
	/* room for functions found later (dlopen, new processes) */
	ao.slots = (uint32_t)(ps.n + INFERLAT_SPARE_PROBES);
	if (opt.max_probes_given || ao.slots > opt.max_probes)
		ao.slots = (uint32_t)opt.max_probes;
	if (session_start(&sess, &ps, &tg, &ao)) {
		status = 1;
		goto out;
	}
	if (opt.verbose) {
		struct bpf_memory mem;

		if (!session_bpf_memory(&sess, &mem))
			bpfmem_log(&mem);
	}
	/* functions found later must fit the maps sized now */
	ro.max_probes = sess.slots;
	if (watch_start(&watch, &sess, &ps, opt.specs, opt.nspecs, &ro, ao.calib, &known, &tg)) {
		status = 1;
		goto out;
	}
	start = mono_now();
	if ((err = kstats_init(&ks, sess.stats_fd, sess.hists_fd)) ||
	    (err = proctab_init(&procs)) ||
	    (err = agg_init(&agg, &ps, &ks, &procs, start)) ||
	    (err = events_open(&ev, sess.events_fd, &agg, &ps, calls)) ||
	    (err = events_listen_seqs(&ev, sess.seqs_fd)) ||
	    (tf.path && (err = prom_init(&prom, &ps, &po, tg.pids, tg.npids))) ||
	    (err = watch_listen(&watch, ev.rb)) ||
	    ((opt.slow_auto || opt.slow_s > 0) && (err = exemplars_listen(&ex, ev.rb, sess.exemplars_fd))) ||
	    (opt.http && ((err = http_agg_init(&hagg, start)) ||
			  (http_agg_sink(&hagg, &reqout.agg), reqout.calls = calls,
			   sink = (struct http_sink){ &reqout, request_start, request_done, request_unparsed },
			   (err = http_framer_init(&framer, &sink))) ||
			  (err = events_listen_socks(&ev, sess.socks_fd, &framer, &hagg))))) {
		log_err("cannot set up event processing: %s", strerror(-err));
		status = 1;
		goto out;
	}
	if (opt.http && follow_open_conns(&opt, &tg, &sess, &framer)) {
		status = 1;
		goto out;
	}
	if (opt.http) {
		prom.http = &hagg;
		prom.http_kernel = sess.sock_counters;
	}
	view_init(&view, stdout, &ps, tg.npids);
	/* the targets known now are followed from the start, called or not */
	for (size_t i = 0; i < tg.npids; i++)
		proctab_get(&procs, tg.pids[i], start);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if ((err = rotate_init())) {
		log_err("cannot catch SIGHUP: %s", strerror(-err));
		status = 1;
		goto out;
	}
	log_note("tracing %zu function%s%s in %zu process%s%s (attached in %.3fs); Ctrl-C to stop",
		 ps.n, ps.n == 1 ? "" : "s", opt.http ? " and HTTP requests" : "", tg.npids,
		 tg.npids == 1 ? "" : "es", tg.nexes ? " and new ones" : "", sess.attach_s);
	if (tg.child && targets_release(&tg)) {
		log_err("cannot start %s", opt.command[0]);
		status = 1;
		goto out;
	}

	next_window = start + opt.interval_s;
	deadline = opt.duration_s > 0 ? start + opt.duration_s : 0;
	while (!exiting) {
		double now = mono_now();
		/* wake for the next window or the deadline, whichever is first */
		double until = deadline && deadline < next_window ? deadline : next_window;
		int timeout_ms = (int)((until - now) * 1000);

		if (timeout_ms > 100)
			timeout_ms = 100;
		if (timeout_ms < 0)
			timeout_ms = 0;
		err = events_poll(&ev, timeout_ms);
		if (err < 0) {
			log_err("reading events: %s", strerror(-err));
			status = 1;
			break;
		}
		if (ev.err || reqout.err) {
			log_err("writing call records: %s", strerror(-(ev.err ? ev.err : reqout.err)));
			status = 1;
			break;
		}
		if (ex.err) {
			log_err("slow-call exemplars: %s", strerror(-ex.err));
			status = 1;
			break;
		}
		err = watch_run(&watch);
		if (err < 0) {
			status = 1;
			break;
		}
		if (err > 0 && (err = agg_grow(&agg))) {
			log_err("aggregating new probes: %s", strerror(-err));
			status = 1;
			break;
		}
		view.nprobes = ps.n;
		if (rotate_requested())
			reopen_outputs(json, opt.json_path, calls, opt.calls_path);
		now = mono_now();
		if (deadline && now >= deadline)
			break;
		if (tg.child && waitpid(tg.child, NULL, WNOHANG) == tg.child) {
			tg.child = 0;
			break;
		}
		if (now >= next_window) {
			agg_sample(&agg, now);
			err = events_poll(&ev, 0);
			if (err < 0) {
				log_err("reading events: %s", strerror(-err));
				status = 1;
				break;
			}
			/* the window ends after the last event it took in */
			now = mono_now();
			if ((err = close_window(&agg, &hagg, &sess, now, false, &slos, &anomalies, &quiet, &rep))) {
				log_err("aggregating window: %s", strerror(-err));
				status = 1;
				break;
			}
			note_full_tables(&rep, opt.max_threads, &told_thread_table);
			rep.slowest = ex.win;
			rep.nslowest = ex.nwin;
			if (!opt.quiet)
				view_show(&view, &rep);
			exemplars_window_done(&ex);
			if (json && (err = json_write_report(json, &rep))) {
				log_err("writing %s: %s", opt.json_path, strerror(-err));
				status = 1;
				break;
			}
			if (opt.slow_auto && (err = tune_slow(&sess, &agg, &ps))) {
				log_err("setting the slow-call threshold: %s", strerror(-err));
				status = 1;
				break;
			}
			if (tf.path && (err = export_textfile(&prom, &tf, &agg, &ks, &rep))) {
				log_err("exporting window: %s", strerror(-err));
				status = 1;
				break;
			}
			next_window += opt.interval_s;
			if (next_window < now)
				next_window = now + opt.interval_s;
			if (targets_gone(&tg))
				break;
		}
	}

	/* stop new events, then take in every one still in the buffer */
	session_detach(&sess);
	if (ev.rb) {
		while (events_poll(&ev, 0) > 0)
			;
		double now = mono_now();

		agg_sample(&agg, now);
		agg_run_over(&agg);
		if (!close_window(&agg, &hagg, &sess, now, false, &slos, &anomalies, &quiet, &rep)) {
			note_full_tables(&rep, opt.max_threads, &told_thread_table);
			if (json)
				json_write_report(json, &rep);
			if (tf.path && (err = export_textfile(&prom, &tf, &agg, &ks, &rep))) {
				log_err("exporting the last window: %s", strerror(-err));
				status = 1;
			}
		}
		if (!close_window(&agg, &hagg, &sess, now, true, &slos, &anomalies, &quiet, &rep)) {
			rep.slowest = ex.run;
			rep.nslowest = ex.nrun;
			if (!opt.quiet)
				view_show(&view, &rep);
			if (json && (err = json_write_report(json, &rep))) {
				log_err("writing %s: %s", opt.json_path, strerror(-err));
				status = 1;
			}
			err = end_baseline(&opt, &agg, rep.span_s, &base, &view, json);
			if (err && (!status || err == 1))
				status = err;
			/* the CI gate: only a run that completed can pass or fail it */
			if ((!status || status == EXIT_CHECK) && slo_any_failed(&slos)) {
				for (size_t i = 0; i < slos.n; i++)
					if (slos.run_failed[i])
						log_note("SLO %s failed over the whole run", slos.v[i].text);
				status = EXIT_CHECK;
			}
		}
	}
out:
	events_close(&ev);
	http_framer_free(&framer);
	http_agg_free(&hagg);
	exemplars_free(&ex);
	prom_free(&prom);
	textfile_free(&tf);
	watch_free(&watch);
	agg_free(&agg);
	proctab_free(&procs);
	kstats_free(&ks);
	report_free(&rep);
	slo_set_free(&slos);
	anomaly_free(&anomalies);
	silence_free(&quiet);
	baseline_free(&base);
	session_stop(&sess);
	if (tg.child) {
		/* inferlat gave up before or while the command ran */
		kill(tg.child, tg.released ? SIGTERM : SIGKILL);
		waitpid(tg.child, NULL, 0);
	}
	if (json && json != stdout)
		fclose(json);
	if (calls && calls != stdout)
		fclose(calls);
	probe_set_free(&ps);
	objects_free(&known);
	targets_free(&tg);
	cli_free(&opt);
	return status;
}
