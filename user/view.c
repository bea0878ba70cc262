// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "exemplar.h"
#include "hist.h"
#include "seqtab.h"
#include "slo.h"
#include "view.h"

const char *view_fmt_secs(double s, char *buf, size_t sz)
{
	if (s < 1e-6)
		snprintf(buf, sz, "%.0fns", s * 1e9);
	else if (s < 1e-3)
		snprintf(buf, sz, "%.3gus", s * 1e6);
	else if (s < 1)
		snprintf(buf, sz, "%.3gms", s * 1e3);
	else
		snprintf(buf, sz, "%.3gs", s);
	return buf;
}

static const char *fmt_bytes(uint64_t b, char *buf, size_t sz)
{
	if (b >= 1ull << 30)
		snprintf(buf, sz, "%.2fG", (double)b / (1 << 30));
	else if (b >= 1ull << 20)
		snprintf(buf, sz, "%.1fM", (double)b / (1 << 20));
	else
		snprintf(buf, sz, "%.0fK", (double)b / 1024);
	return buf;
}

void view_init(struct view *v, FILE *out, const struct probe_set *ps, size_t ntargets)
{
	memset(v, 0, sizeof(*v));
	v->probes = ps;
	v->out = out;
	v->tty = isatty(fileno(out));
	v->nprobes = ps->n;
	v->ntargets = ntargets;
}

/* Keep the tail of long (C++) names: the function is at the end. */
static const char *clip(const char *s, size_t w, char *buf, size_t sz)
{
	size_t n = strlen(s);

	if (n <= w)
		return s;
	snprintf(buf, sz, "..%s", s + n - (w - 2));
	return buf;
}

static const char PROBE_HEADER[] =
	"%-32s %7s %8s %9s %6s %8s %8s %8s %8s %8s %5s %5s %5s %6s\n";

static void put_header(struct view *v, const char *first)
{
	if (first)
		fprintf(v->out, "%-8s ", first);
	fprintf(v->out, PROBE_HEADER, "PROBE", "PID", "CALLS", "RPS", "ERR", "P50", "P90", "P99",
		"P99.9", "MAX", "CPU%", "BLK%", "RUNQ%", "LOST");
}

/* A share of the calls' total time, or "-" without calls. */
static const char *pct(uint64_t part, uint64_t total_ns, char *buf, size_t sz)
{
	if (!total_ns)
		return "-";
	snprintf(buf, sz, "%.0f", 100.0 * (double)part / (double)total_ns);
	return buf;
}

static void put_row(struct view *v, const struct row *w)
{
	char p50[16], p90[16], p99[16], p999[16], mx[16], clipped[64], cpu[8], blk[8], rq[8];
	uint64_t total = w->res.oncpu_ns + w->res.offcpu_ns + w->res.runq_ns;

	if (w->has_latency) {
		view_fmt_secs(w->lat.p50, p50, sizeof(p50));
		view_fmt_secs(w->lat.p90, p90, sizeof(p90));
		view_fmt_secs(w->lat.p99, p99, sizeof(p99));
		view_fmt_secs(w->lat.p999, p999, sizeof(p999));
		view_fmt_secs(w->lat.max, mx, sizeof(mx));
	} else {
		strcpy(p50, "-");
		strcpy(p90, "-");
		strcpy(p99, "-");
		strcpy(p999, "-");
		strcpy(mx, "-");
	}
	fprintf(v->out, "%-32s %7d %8llu %9.1f %6llu %8s %8s %8s %8s %8s %5s %5s %5s %6llu\n",
		clip(w->probe->name, 32, clipped, sizeof(clipped)), (int)w->pid,
		(unsigned long long)w->calls, w->rps, (unsigned long long)w->errors,
		p50, p90, p99, p999, mx,
		pct(w->res.oncpu_ns, total, cpu, sizeof(cpu)),
		pct(w->res.offcpu_ns, total, blk, sizeof(blk)),
		pct(w->res.runq_ns, total, rq, sizeof(rq)), (unsigned long long)w->lost);
}

/* Decoded arguments, one line per row that has them, in the runtime's terms. */
static void put_args(struct view *v, const struct report *r, const char *prefix)
{
	bool header = false;

	for (size_t i = 0; i < r->n; i++) {
		const struct row *w = &r->rows[i];
		const struct arg_sum *a = &w->args;
		char b1[16], b2[16], clipped[64];
		uint64_t tokens;

		const char *of;
		double ratio;

		if (!report_share(r, w, &ratio, &of)) {
			if (!header && !prefix)
				fputc('\n', v->out);
			header = true;
			fprintf(v->out, "%s%-32s %7d %.0f%% of %s time\n", prefix ? prefix : "",
				clip(w->probe->name, 32, clipped, sizeof(clipped)), (int)w->pid, 100 * ratio, of);
			continue;
		}
		/* sequence boundaries show in the requests line, not here */
		if (w->probe->decode.measure == MEASURE_NONE || w->probe->decode.measure == MEASURE_SEQ_RM ||
		    w->probe->decode.measure == MEASURE_SEQ_CLEAR || !w->calls)
			continue;
		if (!header && !prefix)
			fputc('\n', v->out);
		header = true;
		fprintf(v->out, "%s%-32s %7d ", prefix ? prefix : "", clip(w->probe->name, 32, clipped,
			sizeof(clipped)), (int)w->pid);
		switch (w->probe->decode.measure) {
		case MEASURE_TOKENS:
			tokens = a->prompt_tokens + a->gen_batches;
			fprintf(v->out, "tokens %llu (%.1f/s); prompt %llu in %llu batches (mean %s); "
				"single-token batches %llu (mean %s)\n", (unsigned long long)tokens,
				r->span_s > 0 ? (double)tokens / r->span_s : 0,
				(unsigned long long)a->prompt_tokens, (unsigned long long)a->prompt_batches,
				a->prompt_batches ? view_fmt_secs((double)a->prompt_ns / 1e9 /
					(double)a->prompt_batches, b1, sizeof(b1)) : "-",
				(unsigned long long)a->gen_batches,
				a->gen_batches ? view_fmt_secs((double)a->gen_ns / 1e9 / (double)a->gen_batches,
							       b2, sizeof(b2)) : "-");
			break;
		case MEASURE_BYTES:
			fprintf(v->out, "bytes %s (%s/s)\n", fmt_bytes(a->bytes, b1, sizeof(b1)),
				fmt_bytes(r->span_s > 0 ? (uint64_t)((double)a->bytes / r->span_s) : 0, b2,
					  sizeof(b2)));
			break;
		case MEASURE_ALLOC:
			fprintf(v->out, "allocated %llu, %s; live %s\n", (unsigned long long)a->ops,
				fmt_bytes(a->bytes, b1, sizeof(b1)), fmt_bytes(w->gpu_live, b2, sizeof(b2)));
			break;
		case MEASURE_FREE:
			fprintf(v->out, "freed %llu, %s (%llu unknown); live %s\n", (unsigned long long)a->ops,
				fmt_bytes(a->bytes, b1, sizeof(b1)), (unsigned long long)a->unknown_frees,
				fmt_bytes(w->gpu_live, b2, sizeof(b2)));
			break;
		}
	}
}

/* Cores the process kept busy while a runtime's main calls ran (its pool). */
static void put_pool(struct view *v, const struct report *r, const char *prefix)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct row *w = &r->rows[i];
		char clipped[64];

		if (!w->res.pool_calls || !w->res.pool_ns)
			continue;
		fprintf(v->out, "%s%-32s %7d %.2f cores in use while its calls ran (all threads)\n",
			prefix ? prefix : "", clip(w->probe->name, 32, clipped, sizeof(clipped)), (int)w->pid,
			(double)w->res.pool_cpu_ns / (double)w->res.pool_ns);
	}
}

static const char *q_fmt(const struct hist *h, double q, char *buf, size_t sz)
{
	return h->count ? view_fmt_secs(hist_quantile_ns(h, q) / 1e9, buf, sz) : "-";
}

/* Requests from llama.cpp's sequences: one line per llama_decode row. */
static void put_requests(struct view *v, const struct report *r, const char *prefix)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct row *w = &r->rows[i];
		const struct seq_sum *q = w->req;
		char b[6][16], clipped[64];
		double span = r->span_s > 0 ? r->span_s : 1;

		if (!q || (!q->decodes && !q->finished && !q->started))
			continue;
		fprintf(v->out, "%s%-32s %7d requests %llu (%.1f/s, %llu started); prompt %llu, generated %llu "
			"tokens (%.1f/s); prefill p50 %s p99 %s; inter-token p50 %s p99 %s; duration p50 %s; "
			"sequences/decode %.2f (max %u)\n", prefix ? prefix : "",
			clip(w->probe->name, 32, clipped, sizeof(clipped)), (int)w->pid,
			(unsigned long long)q->finished, (double)q->finished / span,
			(unsigned long long)q->started, (unsigned long long)q->prompt_tokens,
			(unsigned long long)q->generated_tokens, (double)q->generated_tokens / span,
			q_fmt(&q->prefill, 0.5, b[0], 16), q_fmt(&q->prefill, 0.99, b[1], 16),
			q_fmt(&q->itl, 0.5, b[2], 16), q_fmt(&q->itl, 0.99, b[3], 16),
			q_fmt(&q->duration, 0.5, b[4], 16),
			q->decodes ? (double)q->busy_seqs / (double)q->decodes : 0, q->max_seqs);
	}
}

/* --http: the requests of each route, above the probes, and per port what
 * could not be framed and the runtime's share of the request time. */
static void put_http(struct view *v, const struct report *r, const char *prefix)
{
	const char *pre = prefix ? prefix : "";

	if (!r->nhttp && !r->nhports)
		return;
	fprintf(v->out, "%s%-32s %7s %5s %6s %7s %5s %5s %5s %5s %9s %9s %9s %9s %9s %6s\n", pre, "REQUESTS", "PID",
		"PORT", "REQ", "RPS", "2xx", "4xx", "5xx", "ABRT", "P50", "P99", "TTFC P50", "TTFC P99", "ICT P50",
		"INFLT");
	for (size_t i = 0; i < r->nhttp; i++) {
		const struct http_row *h = &r->http[i];
		uint64_t cls[6] = { 0 };
		char name[96], clipped[64], b[5][16];
		bool lat = h->requests > h->aborted;

		for (int c = 100; c < 600; c++)
			cls[c / 100] += h->status[c];
		snprintf(name, sizeof(name), "%s %s", h->method, h->route);
		fprintf(v->out, "%s%-32s %7d %5u %6llu %7.1f %5llu %5llu %5llu %5llu %9s %9s %9s %9s %9s %6.1f\n", pre,
			clip(name, 32, clipped, sizeof(clipped)), (int)h->pid, h->port,
			(unsigned long long)h->requests, h->rps, (unsigned long long)cls[2],
			(unsigned long long)cls[4], (unsigned long long)cls[5], (unsigned long long)h->aborted,
			lat ? view_fmt_secs(h->duration.p50, b[0], 16) : "-",
			lat ? view_fmt_secs(h->duration.p99, b[1], 16) : "-",
			h->n_first_chunk ? view_fmt_secs(h->first_chunk.p50, b[2], 16) : "-",
			h->n_first_chunk ? view_fmt_secs(h->first_chunk.p99, b[3], 16) : "-",
			h->n_inter_chunk ? view_fmt_secs(h->inter_chunk.p50, b[4], 16) : "-", h->in_flight_mean);
	}
	for (size_t i = 0; i < r->nhports; i++) {
		const struct http_port_row *p = &r->hports[i];

		fprintf(v->out, "%s  port %u pid %d: busy %.2fs", pre, p->port, (int)p->pid, p->busy_s);
		if (p->runtime && p->busy_s > 0)
			fprintf(v->out, ", %s running %.0f%% of it", p->runtime, 100 * p->runtime_s / p->busy_s);
		if (p->unparsed)
			fprintf(v->out, "; %llu connection%s not HTTP/1.x or not framed (%s)",
				(unsigned long long)p->unparsed, p->unparsed == 1 ? "" : "s",
				p->unparsed_why ? p->unparsed_why : "?");
		fputc('\n', v->out);
	}
	if (r->http_events_lost || r->http_conns_not_followed)
		fprintf(v->out, "%s  socket events lost %llu (requests may be missing or misframed), connections "
			"not followed %llu (table full)\n", pre, (unsigned long long)r->http_events_lost,
			(unsigned long long)r->http_conns_not_followed);
	if (!prefix)
		fputc('\n', v->out);
}

/* The processes of the rows, once each. */
static void put_processes(struct view *v, const struct report *r)
{
	bool header = false;

	for (size_t i = 0; i < r->n; i++) {
		const struct proc_info *p = r->rows[i].proc;
		char cores[16], rss[16], pss[16];
		bool seen = false;
		double ncores;

		if (!p)
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = r->rows[j].proc == p;
		if (seen)
			continue;
		if (!header) {
			fprintf(v->out, "\n%7s %-16s %6s %9s %9s %7s\n", "PID", "COMM", "CORES", "RSS", "PSS",
				"THREADS");
			header = true;
		}
		if (proctab_cores(p, r->final, &ncores))
			snprintf(cores, sizeof(cores), "%.2f", ncores);
		else
			strcpy(cores, "-");
		fmt_bytes(p->rss_bytes, rss, sizeof(rss));
		if (p->has_pss)
			fmt_bytes(p->pss_bytes, pss, sizeof(pss));
		else
			strcpy(pss, "-");
		fprintf(v->out, "%7d %-16s %6s %9s %9s %7u%s\n", (int)p->pid, p->has_comm ? p->comm : "?",
			cores, rss, pss, p->threads, p->exited ? "  (exited)" : "");
	}
}

#define TOP_OPS 10

static double total_s(const struct row *w)
{
	return w->has_latency ? w->lat.mean * (double)w->calls : 0;
}

/* --ops: the operators that took the most time, instead of a row each. */
static void put_top_ops(struct view *v, const struct report *r, const char *prefix)
{
	const struct row *top[TOP_OPS];
	size_t n = 0, nops = 0;
	char mean[16], clipped[64];

	for (size_t i = 0; i < r->n; i++) {
		const struct row *w = &r->rows[i];
		size_t k;

		if (!w->probe->op || !w->calls)
			continue;
		nops++;
		for (k = n < TOP_OPS ? n++ : TOP_OPS; k > 0 && total_s(top[k - 1]) < total_s(w); k--)
			if (k < TOP_OPS)
				top[k] = top[k - 1];
		if (k < TOP_OPS)
			top[k] = w;
	}
	if (!n)
		return;
	fprintf(v->out, "%s%s%-48s %7s %8s %10s %9s\n", prefix ? "" : "\n", prefix ? prefix : "",
		"TOP OPERATORS (by total time)", "PID", "CALLS", "TOTAL", "MEAN");
	for (size_t i = 0; i < n; i++) {
		const struct row *w = top[i];
		char tot[16], name[256];
		const char *paren;

		/* at::_ops::addmm::call: the parameters say nothing more */
		snprintf(name, sizeof(name), "%s", w->probe->symbol);
		paren = strchr(name, '(');
		if (paren)
			name[paren - name] = '\0';
		fprintf(v->out, "%s%-48s %7d %8llu %10s %9s\n", prefix ? prefix : "",
			clip(name, 48, clipped, sizeof(clipped)), (int)w->pid,
			(unsigned long long)w->calls, view_fmt_secs(total_s(w), tot, sizeof(tot)),
			view_fmt_secs(w->lat.mean, mean, sizeof(mean)));
	}
	if (nops > n)
		fprintf(v->out, "%s(%zu more operators called)\n", prefix ? prefix : "", nops - n);
}

static void fmt_slo_value(const struct slo *s, double v, char *buf, size_t sz)
{
	if (s->metric == SLO_ERRORS)
		snprintf(buf, sz, "%.3g%%", v * 100);
	else if (s->metric == SLO_RPS)
		snprintf(buf, sz, "%.1f/s", v);
	else
		view_fmt_secs(v, buf, sz);
}

/* Broken SLO checks of the rows; over the whole run, every check's verdict. */
static void put_slo(struct view *v, const struct report *r, const char *prefix)
{
	const struct slo_set *ss = r->slos;

	if (!ss)
		return;
	for (size_t k = 0; k < r->nslo; k++) {
		const struct slo_eval *e = &r->slo[k];
		const struct slo *s = &ss->v[e->slo];
		const struct row *w = e->http ? NULL : &r->rows[e->row];
		char val[32], lim[32];

		if (e->ok)
			continue;
		fmt_slo_value(s, s->limit, lim, sizeof(lim));
		if (e->http) {
			const struct http_row *h = &r->http[e->row];

			fmt_slo_value(s, e->value, val, sizeof(val));
			fprintf(v->out, "%sSLO %s broken: pid %d port %u %s %s: %s%s %s (limit %s)\n", prefix,
				s->text, (int)h->pid, h->port, h->method, h->route, s->ttft ? "ttft_" : "",
				slo_metric_name(s->metric), val, lim);
		} else if (e->has_value) {
			fmt_slo_value(s, e->value, val, sizeof(val));
			fprintf(v->out, "%sSLO %s broken: %s pid %d: %s %s (limit %s)\n", prefix, s->text,
				w->probe->name, (int)w->pid, slo_metric_name(s->metric), val, lim);
		} else {
			fprintf(v->out, "%sSLO %s not shown: %s made no call\n", prefix, s->text,
				w->probe->name);
		}
	}
	if (!r->final)
		return;
	for (size_t i = 0; i < ss->n; i++)
		fprintf(v->out, "SLO %s over the whole run: %s\n", ss->v[i].text,
			ss->run_failed[i] ? "FAILED" : "met");
}

/* Windows whose p99 or error rate departs from their recent history. */
static void put_anomalies(struct view *v, const struct report *r, const char *prefix)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct row *w = &r->rows[i];
		char val[16], med[16], thr[16];

		if (w->anomaly.p99.on)
			fprintf(v->out, "%sANOMALY %s pid %d: p99 %s, recent median %s (threshold %s)\n",
				prefix, w->probe->name, (int)w->pid,
				view_fmt_secs(w->anomaly.p99.value, val, sizeof(val)),
				view_fmt_secs(w->anomaly.p99.median, med, sizeof(med)),
				view_fmt_secs(w->anomaly.p99.threshold, thr, sizeof(thr)));
		if (w->anomaly.errors.on)
			fprintf(v->out, "%sANOMALY %s pid %d: errors %.3g%%, recent median %.3g%% "
				"(threshold %.3g%%)\n", prefix, w->probe->name, (int)w->pid,
				100 * w->anomaly.errors.value, 100 * w->anomaly.errors.median,
				100 * w->anomaly.errors.threshold);
	}
}

/* The window's (or run's) slowest calls: where the time went, and the
 * caller's stack, innermost first. */
static void put_slowest(struct view *v, const struct report *r, const char *prefix)
{
	for (size_t i = 0; i < r->nslowest; i++) {
		const struct exemplar *e = r->slowest[i];
		const struct call_event *c = &e->call;
		char dur[16], split[64] = "";

		if (!(c->flags & INFERLAT_CALL_NO_SPLIT) && c->duration_ns)
			snprintf(split, sizeof(split), " cpu %.0f%% blk %.0f%% runq %.0f%%",
				 100.0 * (double)c->res.oncpu_ns / (double)c->duration_ns,
				 100.0 * (double)c->res.offcpu_ns / (double)c->duration_ns,
				 100.0 * (double)c->res.runq_ns / (double)c->duration_ns);
		fprintf(v->out, "%sSLOW %s %s pid %u tid %u%s:", prefix,
			view_fmt_secs(c->duration_ns / 1e9, dur, sizeof(dur)),
			c->probe_id < v->probes->n ? v->probes->v[c->probe_id].name : "?", c->pid, c->tid, split);
		for (size_t k = 0; k < e->nframes && k < 6; k++) {
			const struct sym_frame *f = &e->frames[k];

			if (f->func)
				fprintf(v->out, "%s%s+%#llx", k ? " <- " : " ", f->func, (unsigned long long)f->off);
			else
				fprintf(v->out, "%s%#llx", k ? " <- " : " ", (unsigned long long)f->ip);
		}
		fputc('\n', v->out);
	}
}

void view_show(struct view *v, const struct report *r)
{
	char when[32], prefix[40];
	time_t t = (time_t)r->ts;
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (v->tty && !r->final)
		fputs("\033[H\033[2J", v->out);  /* home, clear: redraw like top */
	if (v->tty || r->final) {
		fprintf(v->out, "inferlat %s  %s %.1fs  probes %zu\n\n", when,
			r->final ? "whole run" : "window", r->span_s, v->nprobes);
		put_http(v, r, NULL);
		if (v->nprobes || !r->nhports)
			put_header(v, NULL);
		for (size_t i = 0; i < r->n; i++)
			if (!r->rows[i].probe->op)
				put_row(v, &r->rows[i]);
		put_args(v, r, NULL);
		put_pool(v, r, NULL);
		put_requests(v, r, NULL);
		put_top_ops(v, r, NULL);
		if (r->nslo || (r->final && r->slos && r->slos->n))
			fputc('\n', v->out);
		put_slo(v, r, "");
		put_anomalies(v, r, "");
		if (r->nslowest)
			fprintf(v->out, "\n%s\n", r->final ? "slowest calls of the run:" : "slowest calls:");
		put_slowest(v, r, "");
		if (!r->final)
			put_processes(v, r);
	} else {
		/* not a terminal: one line per probe and process, prefixed with the time */
		if (!v->header_done && (v->nprobes || !r->nhports)) {
			put_header(v, "TIME");
			v->header_done = true;
		}
		for (size_t i = 0; i < r->n; i++) {
			if (r->rows[i].probe->op)
				continue;
			fprintf(v->out, "%-8s ", when);
			put_row(v, &r->rows[i]);
		}
		snprintf(prefix, sizeof(prefix), "%-8s ", when);
		put_http(v, r, prefix);
		put_args(v, r, prefix);
		put_pool(v, r, prefix);
		put_requests(v, r, prefix);
		put_top_ops(v, r, prefix);
		put_slo(v, r, prefix);
		put_anomalies(v, r, prefix);
		put_slowest(v, r, prefix);
	}
	fflush(v->out);
}

void view_show_comparisons(struct view *v, const char *baseline_path,
			   const struct probe_comparison *pc, size_t n)
{
	char clipped[64];

	fprintf(v->out, "\nagainst baseline %s\n%-32s %-10s %8s %8s %24s %24s %24s %9s %6s\n",
		baseline_path, "PROBE", "VERDICT", "CALLS", "BASE", "P50 CHANGE [95% CI]",
		"P99 CHANGE [95% CI]", "MEAN CHANGE [95% CI]", "P", "A");
	for (size_t i = 0; i < n; i++) {
		const struct comparison *c = &pc[i].c;
		char p50[32], p99[32], mean[32];

		if (!c->n_base || !c->n_cur) {
			fprintf(v->out, "%-32s %-10s %8llu %8llu\n", clip(pc[i].probe, 32, clipped, sizeof(clipped)),
				"no calls", (unsigned long long)c->n_cur, (unsigned long long)c->n_base);
			continue;
		}
		snprintf(p50, sizeof(p50), "%+.1f%% [%+.1f, %+.1f]", 100 * c->p50.change,
			 100 * c->p50.change_lo, 100 * c->p50.change_hi);
		snprintf(p99, sizeof(p99), "%+.1f%% [%+.1f, %+.1f]", 100 * c->p99.change,
			 100 * c->p99.change_lo, 100 * c->p99.change_hi);
		snprintf(mean, sizeof(mean), "%+.1f%% [%+.1f, %+.1f]", 100 * c->mean.change,
			 100 * c->mean.change_lo, 100 * c->mean.change_hi);
		fprintf(v->out, "%-32s %-10s %8llu %8llu %24s %24s %24s %9.2g %6.3f\n",
			clip(pc[i].probe, 32, clipped, sizeof(clipped)), compare_verdict_name(c->verdict),
			(unsigned long long)c->n_cur, (unsigned long long)c->n_base, p50, p99, mean, c->p,
			c->a12);
	}
	fflush(v->out);
}
