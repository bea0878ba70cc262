// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "app.h"
#include "bpfmem.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "privs.h"
#include "procfs.h"
#include "rotate.h"
#include "runtimes.h"
#include "sockscan.h"
#include "version.h"

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


/* The whole run's window closed, or one window: written where it goes. */
static int window_close(struct app *a, double now, bool final)
{
	return close_window(&a->agg, &a->hagg, &a->sess, now, final, &a->slos, &a->anomalies,
			    &a->quiet, &a->rep);
}

/* Targets, their probes and the checks on them. */
static int setup_probes(struct app *a)
{
	struct options *o = a->opt;
	int err;

	if (o->baseline) {
		char why[512];

		/* a bad baseline is known before anything is traced */
		if (baseline_load(o->baseline, &a->base, why, sizeof(why))) {
			log_err("%s", why);
			return EXIT_USAGE;
		}
	}
	if (privs_check(o->no_multi) ||
	    targets_build(o->pids, o->npids, o->exes, o->nexes, o->comms, o->ncomms, &a->tg))
		return EXIT_USAGE;
	if (o->command && (err = targets_spawn(&a->tg, o->command))) {
		if (err != -ENOEXEC)
			log_err("cannot start %s: %s", o->command[0], strerror(-err));
		return EXIT_USAGE;
	}
	if (o->nruntimes &&
	    runtimes_expand(o->runtimes, o->nruntimes, o->optins, &a->tg, &o->specs, &o->nspecs))
		return EXIT_USAGE;
	a->ro.max_probes = o->max_probes;
	a->ro.site_at_symbol = o->site_at_symbol;
	a->ro.debug_root = o->debug_root;
	if (resolve_probes(o->specs, o->nspecs, &a->tg, &a->ro, &a->ps, &a->known))
		return EXIT_USAGE;
	log_probes(&a->ps);
	/* one process, no per-call output: windows come from the kernel alone */
	if (a->tg.npids == 1 && !a->tg.nexes && !a->tg.ncomms && !a->tg.child && !o->calls_path)
		a->ps.kernel_pid = a->tg.pids[0];
	a->ps.pool_events = o->http;
	if (check_slos(o, &a->ps))
		return EXIT_USAGE;
	if (slo_set_init(&a->slos, o->slos, o->nslos)) {
		log_err("out of memory");
		return 1;
	}
	return 0;
}

/* --json, --calls, --textfile-dir: opened before anything is traced. */
static int setup_outputs(struct app *a)
{
	struct options *o = a->opt;

	if (o->json_path && !(a->json = open_out(o->json_path, "--json")))
		return EXIT_USAGE;
	if (o->calls_path && !(a->calls = open_out(o->calls_path, "--calls")))
		return EXIT_USAGE;
	exemplars_init(&a->ex, &a->ps, a->json, json_write_exemplar, o->debug_root);
	if (o->textfile_dir &&
	    textfile_init(&a->tf, o->textfile_dir, o->textfile_name ? o->textfile_name : "inferlat.prom"))
		return EXIT_USAGE;
	/* exemplars go to the view and to --json: with neither, none are taken */
	if (o->quiet && !a->json) {
		o->slow_auto = false;
		o->slow_s = 0;
	}
	return 0;
}

/*
 * The BPF session, then the calibration of the probe sites it will use (a
 * library still to come: every kind, so attaching then waits on none), then
 * the probes themselves, then the watch for what appears later.
 */
static int setup_session(struct app *a)
{
	const struct options *o = a->opt;
	struct calibration *calib = o->raw_durations ? NULL : &a->calib;
	struct attach_opts ao = {
		.follow_forks = o->command || o->nexes || o->ncomms,
		.ringbuf_bytes = o->ringbuf_bytes,
		.no_multi = o->no_multi,
		.max_threads = o->max_threads,
		.no_split = o->no_split,
		.slow_ns = (uint64_t)(o->slow_s * 1e9),
		.http = o->http,
		.http_ports = o->http_ports,
		.nhttp_ports = o->nhttp_ports,
		/* room for functions found later (dlopen, new processes) */
		.slots = (uint32_t)(a->ps.n + INFERLAT_SPARE_PROBES),
	};
	double t0;
	int err;

	if (o->max_probes_given || ao.slots > o->max_probes)
		ao.slots = (uint32_t)o->max_probes;
	if (session_start(&a->sess, &a->ps, &a->tg, &ao))
		return 1;
	if (calib) {
		err = a->ps.pending ? calibrate_all(&a->sess, calib) : calibrate(&a->sess, &a->ps, 0, calib);
		if (err)
			return 1;
	}
	t0 = mono_now();
	if (session_attach_probes(&a->sess, &a->ps, 0, calib))
		return 1;
	a->attach_s = mono_now() - t0;
	if (o->verbose) {
		struct bpf_memory mem;

		if (!session_bpf_memory(&a->sess, &mem))
			bpfmem_log(&mem);
	}
	/* functions found later must fit the maps sized now */
	a->ro.max_probes = a->sess.slots;
	if (watch_start(&a->watch, &a->sess, &a->ps, o->specs, o->nspecs, &a->ro, calib, &a->known, &a->tg))
		return 1;
	return 0;
}

/* --http: requests framed from the socket events, ended ones to --calls too. */
static int setup_http(struct app *a)
{
	int err;

	http_agg_sink(&a->hagg, &a->reqout.agg);
	a->reqout.calls = a->calls;
	a->sink = (struct http_sink){ &a->reqout, request_start, request_done, request_unparsed };
	if ((err = http_framer_init(&a->framer, &a->sink)) ||
	    (err = events_listen_socks(&a->ev, a->sess.socks_fd, &a->framer, &a->hagg)))
		return err;
	a->prom.http = &a->hagg;
	a->prom.http_kernel = a->sess.sock_counters;
	return 0;
}

/* The consumers of what the session sends, and the aggregation behind them. */
static int setup_events(struct app *a)
{
	const struct options *o = a->opt;
	struct prom_opts po = {
		.labels = o->labels,
		.nlabels = o->nlabels,
		.pid_label = o->pid_label,
		.version = INFERLAT_VERSION,
		.slos = &a->slos,
		.anomalies = &a->anomalies,
	};
	int err;

	a->start = mono_now();
	if ((err = kstats_init(&a->ks, a->sess.stats_fd, a->sess.hists_fd)) ||
	    (err = proctab_init(&a->procs)) ||
	    (err = agg_init(&a->agg, &a->ps, &a->ks, &a->procs, a->start)) ||
	    (err = events_open(&a->ev, a->sess.events_fd, &a->agg, &a->ps, a->calls)) ||
	    (err = events_listen_seqs(&a->ev, a->sess.seqs_fd)) ||
	    (a->tf.path && (err = prom_init(&a->prom, &a->ps, &po, a->tg.pids, a->tg.npids))) ||
	    (err = watch_listen(&a->watch, a->ev.rb)) ||
	    ((o->slow_auto || o->slow_s > 0) &&
	     (err = exemplars_listen(&a->ex, a->ev.rb, a->sess.exemplars_fd))) ||
	    (o->http && ((err = http_agg_init(&a->hagg, a->start)) || (err = setup_http(a))))) {
		log_err("cannot set up event processing: %s", strerror(-err));
		return 1;
	}
	if (o->http && follow_open_conns(o, &a->tg, &a->sess, &a->framer))
		return 1;
	view_init(&a->view, stdout, &a->ps, a->tg.npids);
	/* the targets known now are followed from the start, called or not */
	for (size_t i = 0; i < a->tg.npids; i++)
		proctab_get(&a->procs, a->tg.pids[i], a->start);
	return 0;
}

int app_setup(struct app *a, struct options *opt)
{
	int status;

	memset(a, 0, sizeof(*a));
	a->opt = opt;
	anomaly_init(&a->anomalies);
	if ((status = setup_probes(a)) || (status = setup_outputs(a)) || (status = setup_session(a)) ||
	    (status = setup_events(a)))
		return status;
	return 0;
}

int app_go(struct app *a)
{
	const struct options *o = a->opt;
	int err;

	if ((err = rotate_init())) {
		log_err("cannot catch SIGHUP: %s", strerror(-err));
		return 1;
	}
	log_note("tracing %zu function%s%s in %zu process%s%s (attached in %.3fs); Ctrl-C to stop",
		 a->ps.n, a->ps.n == 1 ? "" : "s", o->http ? " and HTTP requests" : "", a->tg.npids,
		 a->tg.npids == 1 ? "" : "es", a->tg.nexes ? " and new ones" : "", a->attach_s);
	if (a->tg.child && targets_release(&a->tg)) {
		log_err("cannot start %s", o->command[0]);
		return 1;
	}
	a->next_window = a->start + o->interval_s;
	a->deadline = o->duration_s > 0 ? a->start + o->duration_s : 0;
	return 0;
}

/* A window is due: closed after the last event it took in, and written out. */
static int window_due(struct app *a, double now)
{
	const struct options *o = a->opt;
	int err;

	agg_sample(&a->agg, now);
	err = events_poll(&a->ev, 0);
	if (err < 0) {
		log_err("reading events: %s", strerror(-err));
		return -1;
	}
	now = mono_now();
	if ((err = window_close(a, now, false))) {
		log_err("aggregating window: %s", strerror(-err));
		return -1;
	}
	note_full_tables(&a->rep, o->max_threads, &a->told_thread_table);
	a->rep.slowest = a->ex.win;
	a->rep.nslowest = a->ex.nwin;
	if (!o->quiet)
		view_show(&a->view, &a->rep);
	exemplars_window_done(&a->ex);
	if (a->json && (err = json_write_report(a->json, &a->rep))) {
		log_err("writing %s: %s", o->json_path, strerror(-err));
		return -1;
	}
	if (o->slow_auto && (err = tune_slow(&a->sess, &a->agg, &a->ps))) {
		log_err("setting the slow-call threshold: %s", strerror(-err));
		return -1;
	}
	if (a->tf.path && (err = export_textfile(&a->prom, &a->tf, &a->agg, &a->ks, &a->rep))) {
		log_err("exporting window: %s", strerror(-err));
		return -1;
	}
	a->next_window += o->interval_s;
	if (a->next_window < now)
		a->next_window = now + o->interval_s;
	return targets_gone(&a->tg) ? 1 : 0;
}

int app_step(struct app *a)
{
	const struct options *o = a->opt;
	double now = mono_now();
	/* wake for the next window or the deadline, whichever is first */
	double until = a->deadline && a->deadline < a->next_window ? a->deadline : a->next_window;
	int timeout_ms = (int)((until - now) * 1000);
	int err;

	if (timeout_ms > 100)
		timeout_ms = 100;
	if (timeout_ms < 0)
		timeout_ms = 0;
	err = events_poll(&a->ev, timeout_ms);
	if (err < 0) {
		log_err("reading events: %s", strerror(-err));
		return -1;
	}
	if (a->ev.err || a->reqout.err) {
		log_err("writing call records: %s", strerror(-(a->ev.err ? a->ev.err : a->reqout.err)));
		return -1;
	}
	if (a->ex.err) {
		log_err("slow-call exemplars: %s", strerror(-a->ex.err));
		return -1;
	}
	err = watch_run(&a->watch);
	if (err < 0)
		return -1;
	if (err > 0 && (err = agg_grow(&a->agg))) {
		log_err("aggregating new probes: %s", strerror(-err));
		return -1;
	}
	a->view.nprobes = a->ps.n;
	if (rotate_requested())
		reopen_outputs(a->json, o->json_path, a->calls, o->calls_path);
	now = mono_now();
	if (a->deadline && now >= a->deadline)
		return 1;
	if (a->tg.child && waitpid(a->tg.child, NULL, WNOHANG) == a->tg.child) {
		a->tg.child = 0;
		return 1;
	}
	return now >= a->next_window ? window_due(a, now) : 0;
}

/* The whole run: shown, written, against the baseline, through the SLO gate. */
static int run_close(struct app *a, double now, int status)
{
	const struct options *o = a->opt;
	int err;

	if (window_close(a, now, true))
		return status;
	a->rep.slowest = a->ex.run;
	a->rep.nslowest = a->ex.nrun;
	if (!o->quiet)
		view_show(&a->view, &a->rep);
	if (a->json && (err = json_write_report(a->json, &a->rep))) {
		log_err("writing %s: %s", o->json_path, strerror(-err));
		status = 1;
	}
	err = end_baseline(o, &a->agg, a->rep.span_s, &a->base, &a->view, a->json);
	if (err && (!status || err == 1))
		status = err;
	/* the CI gate: only a run that completed can pass or fail it */
	if ((!status || status == EXIT_CHECK) && slo_any_failed(&a->slos)) {
		for (size_t i = 0; i < a->slos.n; i++)
			if (a->slos.run_failed[i])
				log_note("SLO %s failed over the whole run", a->slos.v[i].text);
		status = EXIT_CHECK;
	}
	return status;
}

int app_finish(struct app *a, int status)
{
	double now;
	int err;

	/* stop new events, then take in every one still in the buffer */
	session_detach(&a->sess);
	if (!a->ev.rb)
		return status;
	while (events_poll(&a->ev, 0) > 0)
		;
	now = mono_now();
	agg_sample(&a->agg, now);
	agg_run_over(&a->agg);
	if (!window_close(a, now, false)) {
		note_full_tables(&a->rep, a->opt->max_threads, &a->told_thread_table);
		if (a->json)
			json_write_report(a->json, &a->rep);
		if (a->tf.path && (err = export_textfile(&a->prom, &a->tf, &a->agg, &a->ks, &a->rep))) {
			log_err("exporting the last window: %s", strerror(-err));
			status = 1;
		}
	}
	return run_close(a, now, status);
}

void app_free(struct app *a)
{
	events_close(&a->ev);
	http_framer_free(&a->framer);
	http_agg_free(&a->hagg);
	exemplars_free(&a->ex);
	prom_free(&a->prom);
	textfile_free(&a->tf);
	watch_free(&a->watch);
	agg_free(&a->agg);
	proctab_free(&a->procs);
	kstats_free(&a->ks);
	report_free(&a->rep);
	slo_set_free(&a->slos);
	anomaly_free(&a->anomalies);
	silence_free(&a->quiet);
	baseline_free(&a->base);
	session_stop(&a->sess);
	if (a->tg.child) {
		/* inferlat gave up before or while the command ran */
		kill(a->tg.child, a->tg.released ? SIGTERM : SIGKILL);
		waitpid(a->tg.child, NULL, 0);
	}
	if (a->json && a->json != stdout)
		fclose(a->json);
	if (a->calls && a->calls != stdout)
		fclose(a->calls);
	probe_set_free(&a->ps);
	objects_free(&a->known);
	targets_free(&a->tg);
}
