// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include <time.h>
#include <unistd.h>
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

void view_init(struct view *v, FILE *out, size_t nprobes, size_t ntargets)
{
	memset(v, 0, sizeof(*v));
	v->out = out;
	v->tty = isatty(fileno(out));
	v->nprobes = nprobes;
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
		if (w->probe->decode.measure == MEASURE_NONE || !w->calls)
			continue;
		if (!header && !prefix)
			fputc('\n', v->out);
		header = true;
		fprintf(v->out, "%s%-32s %7d ", prefix ? prefix : "", clip(w->probe->name, 32, clipped,
			sizeof(clipped)), (int)w->pid);
		switch (w->probe->decode.measure) {
		case MEASURE_TOKENS:
			tokens = a->prompt_tokens + a->gen_batches;
			fprintf(v->out, "tokens %llu (%.1f/s); prompt %llu in %llu batches, TTFT %s; "
				"generated %llu, TPOT %s\n", (unsigned long long)tokens,
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

/* The processes of the rows, once each. */
static void put_processes(struct view *v, const struct report *r)
{
	bool header = false;

	for (size_t i = 0; i < r->n; i++) {
		const struct proc_info *p = r->rows[i].proc;
		char cores[16], rss[16], pss[16];
		bool seen = false;

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
		if (p->has_cpu)
			snprintf(cores, sizeof(cores), "%.2f", p->cpu_cores);
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
		put_header(v, NULL);
		for (size_t i = 0; i < r->n; i++)
			if (!r->rows[i].probe->op)
				put_row(v, &r->rows[i]);
		put_args(v, r, NULL);
		put_top_ops(v, r, NULL);
		if (!r->final)
			put_processes(v, r);
	} else {
		/* not a terminal: one line per probe and process, prefixed with the time */
		if (!v->header_done) {
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
		put_args(v, r, prefix);
		put_top_ops(v, r, prefix);
	}
	fflush(v->out);
}
