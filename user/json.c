// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "httpagg.h"
#include "exemplar.h"
#include "json.h"
#include "seqtab.h"
#include "agg.h"
#include "slo.h"
#include "utf8.h"

static const char *json_esc(unsigned char c, char buf[8])
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	}
	if (c < 0x20 || c == 0x7f) {
		snprintf(buf, 8, "\\u%04x", c);
		return buf;
	}
	return NULL;
}

void json_put_str(FILE *f, const char *str)
{
	fputc('"', f);
	utf8_put_escaped(f, str, json_esc, "\\ufffd");
	fputc('"', f);
}

/* Seconds with ns resolution, no exponent for ordinary values. */
static void put_secs(FILE *f, double v)
{
	if (!isfinite(v))
		v = 0;
	fprintf(f, "%.9g", v);
}

/* key (with what precedes it) and its value in seconds */
static void put_secs_after(FILE *f, const char *key, double v)
{
	fputs(key, f);
	put_secs(f, v);
}

static void put_latency(FILE *f, const struct latency *l)
{
	put_secs_after(f, "{\"mean\": ", l->mean);
	put_secs_after(f, ", \"min\": ", l->min);
	put_secs_after(f, ", \"p50\": ", l->p50);
	put_secs_after(f, ", \"p90\": ", l->p90);
	put_secs_after(f, ", \"p99\": ", l->p99);
	put_secs_after(f, ", \"p999\": ", l->p999);
	put_secs_after(f, ", \"max\": ", l->max);
	fputc('}', f);
}

static void put_resources(FILE *f, const struct row *w)
{
	const struct res_sum *r = &w->res;

	put_secs_after(f, ", \"cpu_s\": ", r->oncpu_ns / 1e9);
	put_secs_after(f, ", \"offcpu_s\": ", r->offcpu_ns / 1e9);
	put_secs_after(f, ", \"runqueue_s\": ", r->runq_ns / 1e9);
	fprintf(f, ", \"page_faults\": %llu, \"major_page_faults\": %llu"
		", \"voluntary_switches\": %llu, \"involuntary_switches\": %llu, \"unsplit_calls\": %llu",
		(unsigned long long)(r->minflt + r->majflt), (unsigned long long)r->majflt,
		(unsigned long long)r->nvcsw, (unsigned long long)r->nivcsw,
		(unsigned long long)w->unsplit);
	if (r->pool_calls && r->pool_ns) {
		/* all the process's threads, not only the caller's */
		put_secs_after(f, ", \"cores_in_calls\": ", (double)r->pool_cpu_ns / (double)r->pool_ns);
		put_secs_after(f, ", \"process_cpu_in_calls_s\": ", r->pool_cpu_ns / 1e9);
	}
	if (!w->calls)
		return;
	fputs(", \"per_call\": {", f);
	/* the time split is known for the calls that have one */
	if (w->calls > w->unsplit) {
		double n = (double)(w->calls - w->unsplit);

		put_secs_after(f, "\"cpu_s\": ", r->oncpu_ns / 1e9 / n);
		put_secs_after(f, ", \"offcpu_s\": ", r->offcpu_ns / 1e9 / n);
		put_secs_after(f, ", \"runqueue_s\": ", r->runq_ns / 1e9 / n);
		fputs(", ", f);
	}
	put_secs_after(f, "\"page_faults\": ", (double)(r->minflt + r->majflt) / (double)w->calls);
	fputc('}', f);
}

static void put_process(FILE *f, const struct proc_info *p, bool final)
{
	double cores;

	fputs(", \"process\": {", f);
	if (proctab_cores(p, final, &cores)) {
		put_secs_after(f, "\"cpu_cores\": ", cores);
		fputs(", ", f);
	}
	put_secs_after(f, "\"cpu_s\": ", p->cpu_s);
	fprintf(f, ", \"rss_bytes\": %llu", (unsigned long long)p->rss_bytes);
	if (p->has_pss)
		fprintf(f, ", \"pss_bytes\": %llu", (unsigned long long)p->pss_bytes);
	fprintf(f, ", \"threads\": %u", p->threads);
	if (p->exited)
		fputs(", \"exited\": true", f);
	fputc('}', f);
}

/* Decoded arguments, in the runtime's terms. */
static void put_args(FILE *f, const struct report *r, const struct row *w)
{
	const struct arg_sum *a = &w->args;
	uint64_t tokens;

	switch (w->probe->decode.measure) {
	case MEASURE_TOKENS:
		tokens = a->prompt_tokens + a->gen_batches;
		fprintf(f, ", \"tokens\": {\"total\": %llu, \"per_s\": ", (unsigned long long)tokens);
		put_secs(f, r->span_s > 0 ? (double)tokens / r->span_s : 0);
		fprintf(f, ", \"prompt_batches\": %llu, \"prompt_tokens\": %llu, \"generated\": %llu",
			(unsigned long long)a->prompt_batches, (unsigned long long)a->prompt_tokens,
			(unsigned long long)a->gen_batches);
		/* call-level: a batch of several tokens may mix one sequence's
		 * prompt with others' generated tokens; request-level figures are
		 * in "requests" */
		if (a->prompt_batches) {
			put_secs_after(f, ", \"prompt_batch_s\": ", (double)a->prompt_ns / 1e9 / (double)a->prompt_batches);
			put_secs_after(f, ", \"prompt_tokens_per_s\": ", a->prompt_ns ? (double)a->prompt_tokens / ((double)a->prompt_ns / 1e9) : 0);
		}
		if (a->gen_batches) {
			put_secs_after(f, ", \"token_batch_s\": ", (double)a->gen_ns / 1e9 / (double)a->gen_batches);
		}
		break;
	case MEASURE_BYTES:
		fprintf(f, ", \"bytes\": {\"total\": %llu, \"per_s\": ", (unsigned long long)a->bytes);
		put_secs(f, r->span_s > 0 ? (double)a->bytes / r->span_s : 0);
		break;
	case MEASURE_ALLOC:
		fprintf(f, ", \"gpu\": {\"allocs\": %llu, \"alloc_bytes\": %llu",
			(unsigned long long)a->ops, (unsigned long long)a->bytes);
		break;
	case MEASURE_FREE:
		fprintf(f, ", \"gpu\": {\"frees\": %llu, \"freed_bytes\": %llu, \"unknown_frees\": %llu",
			(unsigned long long)a->ops, (unsigned long long)a->bytes,
			(unsigned long long)a->unknown_frees);
		break;
	default:
		return;
	}
	if (w->has_gpu)
		fprintf(f, ", \"live_bytes\": %llu, \"peak_live_bytes\": %llu",
			(unsigned long long)w->gpu_live, (unsigned long long)w->gpu_peak);
	fprintf(f, ", \"unreadable\": %llu}", (unsigned long long)a->faults);
}

static void put_quantiles(FILE *f, const char *name, const struct hist *h)
{
	struct latency l;

	if (!h->count)
		return;
	agg_latency(h, &l);
	fprintf(f, ", \"%s\": {\"count\": %llu, \"mean\": ", name, (unsigned long long)h->count);
	put_secs(f, l.mean);
	put_secs_after(f, ", \"p50\": ", l.p50);
	put_secs_after(f, ", \"p90\": ", l.p90);
	put_secs_after(f, ", \"p99\": ", l.p99);
	put_secs_after(f, ", \"max\": ", l.max);
	fputc('}', f);
}

/* Requests from llama.cpp's sequences (seqtab.h): what each figure covers is
 * said there and in README. */
static void put_requests(FILE *f, const struct report *r, const struct row *w)
{
	const struct seq_sum *q = w->req;
	double span = r->span_s > 0 ? r->span_s : 0;

	if (!q)
		return;
	fprintf(f, ", \"requests\": {\"count\": %llu, \"started\": %llu, \"per_s\": ",
		(unsigned long long)q->finished, (unsigned long long)q->started);
	put_secs(f, span ? (double)q->finished / span : 0);
	fprintf(f, ", \"prompt_tokens\": %llu, \"generated_tokens\": %llu, \"prompt_tokens_per_s\": ",
		(unsigned long long)q->prompt_tokens, (unsigned long long)q->generated_tokens);
	put_secs(f, span ? (double)q->prompt_tokens / span : 0);
	put_secs_after(f, ", \"generated_tokens_per_s\": ", span ? (double)q->generated_tokens / span : 0);
	put_quantiles(f, "prefill_s", &q->prefill);
	put_quantiles(f, "inter_token_s", &q->itl);
	put_quantiles(f, "duration_s", &q->duration);
	if (q->decodes) {
		put_secs_after(f, ", \"sequences_per_decode\": {\"mean\": ", (double)q->busy_seqs / (double)q->decodes);
		fprintf(f, ", \"max\": %u, \"decodes\": %llu}", q->max_seqs,
			(unsigned long long)q->decodes);
	}
	fprintf(f, ", \"partial_batches\": %llu}", (unsigned long long)q->partial);
}

/* The SLO checks judged on row i: what was measured against what limit. */
static void put_slo_of(FILE *f, const struct report *r, size_t i, bool http)
{
	bool any = false;

	for (size_t k = 0; k < r->nslo; k++) {
		const struct slo_eval *e = &r->slo[k];
		const struct slo *s;

		if (e->row != i || e->http != http || !r->slos)
			continue;
		s = &r->slos->v[e->slo];
		fputs(any ? ", " : ", \"slo\": [", f);
		any = true;
		fputs("{\"slo\": ", f);
		json_put_str(f, s->text);
		fprintf(f, ", \"metric\": \"%s\", \"value\": ", slo_metric_name(s->metric));
		if (e->has_value)
			put_secs(f, e->value);
		else
			fputs("null", f);
		put_secs_after(f, ", \"limit\": ", s->limit);
		fprintf(f, ", \"ok\": %s}", e->ok ? "true" : "false");
	}
	if (any)
		fputc(']', f);
}

static void put_slo(FILE *f, const struct report *r, size_t i)
{
	put_slo_of(f, r, i, false);
}

static void put_slo_http(FILE *f, const struct report *r, size_t i)
{
	put_slo_of(f, r, i, true);
}

static void put_flag(FILE *f, const char *name, const struct anomaly_flag *a, bool *any)
{
	if (!a->on)
		return;
	fprintf(f, "%s\"%s\": {\"value\": ", *any ? ", " : ", \"anomaly\": {", name);
	*any = true;
	put_secs(f, a->value);
	put_secs_after(f, ", \"median\": ", a->median);
	put_secs_after(f, ", \"threshold\": ", a->threshold);
	fputc('}', f);
}

/* A window whose p99 or error rate departs from the series' recent history. */
static void put_anomaly(FILE *f, const struct row *w)
{
	bool any = false;

	put_flag(f, "p99", &w->anomaly.p99, &any);
	put_flag(f, "error_rate", &w->anomaly.errors, &any);
	if (any)
		fputc('}', f);
}

static void put_row(FILE *f, const struct report *r, const struct row *w)
{
	fprintf(f, "{\"ts\": %.3f, \"window_s\": ", r->ts);
	put_secs(f, r->span_s);
	fprintf(f, ", \"final\": %s", r->final ? "true" : "false");
	if (w->pid)
		fprintf(f, ", \"pid\": %d", (int)w->pid);
	if (w->comm) {
		fputs(", \"comm\": ", f);
		json_put_str(f, w->comm);
	}
	if (w->probe->runtime) {
		fputs(", \"runtime\": ", f);
		json_put_str(f, w->probe->runtime);
	}
	fputs(", \"probe\": ", f);
	json_put_str(f, w->probe->name);
	fprintf(f, ", \"calls\": %llu, \"rps\": ", (unsigned long long)w->calls);
	put_secs(f, w->rps);
	fprintf(f, ", \"errors\": %llu, \"lost\": %llu, \"untimed\": %llu, \"thread_table_full\": %llu, "
		"\"exemplars\": %llu, \"exemplars_dropped\": %llu",
		(unsigned long long)w->errors, (unsigned long long)w->lost,
		(unsigned long long)w->untimed, (unsigned long long)w->thread_full,
		(unsigned long long)w->exemplars, (unsigned long long)w->exemplar_drops);
	if (w->has_latency) {
		fputs(", \"latency_s\": ", f);
		put_latency(f, &w->lat);
	}
	if (!r->no_split)
		put_resources(f, w);   /* --no-split: not measured, so absent */
	put_args(f, r, w);
	put_requests(f, r, w);
	{
		const char *of;
		double ratio;

		if (!report_share(r, w, &ratio, &of)) {
			fputs(", \"share_of\": {\"probe\": ", f);
			json_put_str(f, of);
			put_secs_after(f, ", \"ratio\": ", ratio);
			fputc('}', f);
		}
	}
	if (w->proc)
		put_process(f, w->proc, r->final);
	if (w->probe->overhead_ns) {
		put_secs_after(f, ", \"overhead_s\": ", w->probe->overhead_ns / 1e9);
	}
	if (w->from_kernel)
		fputs(", \"source\": \"kernel\"", f);
	put_slo(f, r, (size_t)(w - r->rows));
	put_anomaly(f, w);
	fputs("}\n", f);
}

static void put_head(FILE *f, const struct report *r, const char *type)
{
	fprintf(f, "{\"ts\": %.3f, \"window_s\": ", r->ts);
	put_secs(f, r->span_s);
	fprintf(f, ", \"final\": %s, \"type\": \"%s\"", r->final ? "true" : "false", type);
}

static void put_http_row(FILE *f, const struct report *r, const struct http_row *w)
{
	const struct { const char *name; const struct latency *lat; uint64_t n; } figs[] = {
		{ "duration_s", &w->duration, w->requests - w->aborted },
		{ "first_byte_s", &w->first_byte, w->n_first_byte },
		{ "first_chunk_s", &w->first_chunk, w->n_first_chunk },
		{ "inter_chunk_s", &w->inter_chunk, w->n_inter_chunk },
	};
	bool any = false;

	put_head(f, r, "http");
	fprintf(f, ", \"pid\": %d, \"port\": %u, \"method\": ", (int)w->pid, w->port);
	json_put_str(f, w->method);
	fputs(", \"route\": ", f);
	json_put_str(f, w->route);
	fprintf(f, ", \"requests\": %llu, \"rps\": ", (unsigned long long)w->requests);
	put_secs(f, w->rps);
	fputs(", \"status\": {", f);
	for (int c = 0; c < HTTP_STATUS_CODES; c++) {
		if (!w->status[c])
			continue;
		fprintf(f, "%s\"%d\": %llu", any ? ", " : "", c, (unsigned long long)w->status[c]);
		any = true;
	}
	fprintf(f, "}, \"aborted\": %llu, \"errors\": %llu", (unsigned long long)w->aborted,
		(unsigned long long)w->errors);
	for (size_t i = 0; i < sizeof(figs) / sizeof(figs[0]); i++) {
		if (!figs[i].n)
			continue;
		fprintf(f, ", \"%s\": ", figs[i].name);
		put_latency(f, figs[i].lat);
	}
	fprintf(f, ", \"chunks\": %llu, \"in_flight\": {\"mean\": ", (unsigned long long)w->chunks);
	put_secs(f, w->in_flight_mean);
	fprintf(f, ", \"max\": %llu}, \"request_bytes\": %llu, \"response_bytes\": %llu",
		(unsigned long long)w->in_flight_max, (unsigned long long)w->req_bytes,
		(unsigned long long)w->resp_bytes);
	put_slo_http(f, r, (size_t)(w - r->http));
	fputs("}\n", f);
}

static void put_http_port(FILE *f, const struct report *r, const struct http_port_row *w)
{
	put_head(f, r, "http_port");
	fprintf(f, ", \"pid\": %d, \"port\": %u, \"requests\": %llu, \"unparsed\": %llu", (int)w->pid,
		w->port, (unsigned long long)w->requests, (unsigned long long)w->unparsed);
	if (w->unparsed_why) {
		fputs(", \"unparsed_why\": ", f);
		json_put_str(f, w->unparsed_why);
	}
	fprintf(f, ", \"events_lost\": %llu, \"connections_not_followed\": %llu, \"busy_s\": ",
		(unsigned long long)r->http_events_lost, (unsigned long long)r->http_conns_not_followed);
	put_secs(f, w->busy_s);
	if (w->runtime) {
		fputs(", \"runtime\": {\"probe\": ", f);
		json_put_str(f, w->runtime);
		put_secs_after(f, ", \"busy_s\": ", w->runtime_s);
		put_secs_after(f, ", \"share\": ", w->busy_s > 0 ? w->runtime_s / w->busy_s : 0);
		fputc('}', f);
	}
	fputs("}\n", f);
}

/* inferlat's own footprint in the kernel, once per window */
static void put_self(FILE *f, const struct report *r)
{
	const struct bpf_memory *m = &r->bpf_memory;

	fprintf(f, "{\"ts\": %.3f, \"window_s\": ", r->ts);
	put_secs(f, r->span_s);
	fprintf(f, ", \"final\": %s, \"type\": \"inferlat\", \"bpf_memory_bytes\": %llu, "
		"\"bpf_memory\": {\"maps\": %llu, \"percpu_maps\": %llu, \"programs\": %llu, "
		"\"thread_states\": %llu, \"threads\": %llu}, \"processes_not_followed\": %llu}\n",
		r->final ? "true" : "false", (unsigned long long)m->total, (unsigned long long)m->maps,
		(unsigned long long)m->percpu_maps, (unsigned long long)m->programs,
		(unsigned long long)m->thread_bytes, (unsigned long long)m->threads,
		(unsigned long long)r->targets_full);
}

int json_write_report(FILE *f, const struct report *r)
{
	for (size_t i = 0; i < r->n; i++)
		put_row(f, r, &r->rows[i]);
	for (size_t i = 0; i < r->nhttp; i++)
		put_http_row(f, r, &r->http[i]);
	for (size_t i = 0; i < r->nhports; i++)
		put_http_port(f, r, &r->hports[i]);
	if (r->has_bpf_memory)
		put_self(f, r);
	if (fflush(f) || ferror(f))
		return -errno ? -errno : -EIO;
	return 0;
}

int json_write_call(FILE *f, const struct probe *p, const struct call_event *e)
{
	fputs("{\"type\": \"call\", \"probe\": ", f);
	json_put_str(f, p->name);
	fprintf(f, ", \"pid\": %u, \"tid\": %u, \"start_ns\": %llu, \"duration_ns\": %llu, "
		"\"ret\": %lld, \"error\": %s, \"depth\": %u, \"oncpu_ns\": %llu, \"offcpu_ns\": %llu, "
		"\"runq_ns\": %llu, \"minflt\": %u, \"majflt\": %u, \"nvcsw\": %u, \"nivcsw\": %u",
		e->pid, e->tid, (unsigned long long)e->start_ns, (unsigned long long)e->duration_ns,
		(long long)e->retval, (e->flags & INFERLAT_CALL_ERROR) ? "true" : "false", e->depth,
		(unsigned long long)e->res.oncpu_ns, (unsigned long long)e->res.offcpu_ns,
		(unsigned long long)e->res.runq_ns, e->res.minflt, e->res.majflt, e->res.nvcsw, e->res.nivcsw);
	if (e->flags & INFERLAT_CALL_POOL)
		fprintf(f, ", \"process_cpu_ns\": %llu", (unsigned long long)e->res.proc_cpu_ns);
	if (p->decode.nargs) {
		fprintf(f, ", \"args\": [%llu, %llu, %llu]", (unsigned long long)e->args[0],
			(unsigned long long)e->args[1], (unsigned long long)e->args[2]);
		if (e->flags & INFERLAT_CALL_ARG_FAULT)
			fputs(", \"args_unreadable\": true", f);
	}
	fputs("}\n", f);
	return ferror(f) ? -EIO : 0;
}

int json_write_request(FILE *f, const struct http_exchange *x)
{
	fprintf(f, "{\"type\": \"request\", \"pid\": %d, \"port\": %u, \"conn\": %llu, \"method\": ",
		(int)x->pid, x->port, (unsigned long long)x->conn_id);
	json_put_str(f, x->method);
	fputs(", \"route\": ", f);
	json_put_str(f, x->route);
	fprintf(f, ", \"status\": %d, \"aborted\": %s, \"start_ns\": %llu, \"first_byte_ns\": %llu, "
		"\"first_chunk_ns\": %llu, \"end_ns\": %llu, \"chunks\": %llu, \"request_bytes\": %llu, "
		"\"response_bytes\": %llu}\n", x->status, x->aborted ? "true" : "false",
		(unsigned long long)x->start_ns, (unsigned long long)x->first_byte_ns,
		(unsigned long long)x->first_chunk_ns, (unsigned long long)x->end_ns,
		(unsigned long long)x->chunks, (unsigned long long)x->req_bytes, (unsigned long long)x->resp_bytes);
	return ferror(f) ? -EIO : 0;
}

static void put_change(FILE *f, const char *name, const struct change *c, bool quantile)
{
	fprintf(f, ", \"%s\": {\"baseline\": ", name);
	put_secs(f, c->base);
	put_secs_after(f, ", \"current\": ", c->cur);
	if (quantile) {
		put_secs_after(f, ", \"baseline_ci\": [", c->base_lo);
		put_secs_after(f, ", ", c->base_hi);
		put_secs_after(f, "], \"current_ci\": [", c->cur_lo);
		put_secs_after(f, ", ", c->cur_hi);
		fputc(']', f);
	}
	put_secs_after(f, ", \"change\": ", c->change);
	put_secs_after(f, ", \"change_ci\": [", c->change_lo);
	put_secs_after(f, ", ", c->change_hi);
	fputs("]}", f);
}

int json_write_comparisons(FILE *f, const char *baseline_path, const struct probe_comparison *v,
			   size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct comparison *c = &v[i].c;

		fputs("{\"type\": \"baseline\", \"baseline\": ", f);
		json_put_str(f, baseline_path);
		fputs(", \"probe\": ", f);
		json_put_str(f, v[i].probe);
		fprintf(f, ", \"verdict\": \"%s\", \"calls\": %llu, \"baseline_calls\": %llu",
			c->n_base && c->n_cur ? compare_verdict_name(c->verdict) : "no_calls",
			(unsigned long long)c->n_cur, (unsigned long long)c->n_base);
		if (c->n_base && c->n_cur) {
			put_change(f, "p50", &c->p50, true);
			put_change(f, "p90", &c->p90, true);
			put_change(f, "p99", &c->p99, true);
			put_change(f, "mean", &c->mean, false);
			fprintf(f, ", \"mann_whitney\": {\"u\": %.1f, \"z\": %.4f, \"p\": %.4g}",
				c->u, c->z, c->p);
			fprintf(f, ", \"effect\": {\"a12\": %.4f, \"rank_biserial\": %.4f}", c->a12,
				c->rank_biserial);
		}
		fputs("}\n", f);
	}
	if (fflush(f) || ferror(f))
		return -errno ? -errno : -EIO;
	return 0;
}

int json_write_exemplar(FILE *f, const struct probe *p, const struct exemplar *e)
{
	const struct call_event *c = &e->call;

	fprintf(f, "{\"type\": \"exemplar\", \"ts\": %.3f, \"probe\": ", e->ts);
	json_put_str(f, p->name);
	fprintf(f, ", \"pid\": %u, \"tid\": %u, \"start_ns\": %llu, \"duration_s\": ", c->pid, c->tid,
		(unsigned long long)c->start_ns);
	put_secs(f, c->duration_ns / 1e9);
	put_secs_after(f, ", \"threshold_s\": ", e->slow_ns / 1e9);
	fprintf(f, ", \"error\": %s, \"depth\": %u", (c->flags & INFERLAT_CALL_ERROR) ? "true" : "false",
		c->depth);
	/* where the time went, when the split of this call is known */
	if (!(c->flags & INFERLAT_CALL_NO_SPLIT)) {
		put_secs_after(f, ", \"cpu_s\": ", c->res.oncpu_ns / 1e9);
		put_secs_after(f, ", \"offcpu_s\": ", c->res.offcpu_ns / 1e9);
		put_secs_after(f, ", \"runqueue_s\": ", c->res.runq_ns / 1e9);
	}
	fprintf(f, ", \"page_faults\": %u, \"stack\": [", c->res.minflt + c->res.majflt);
	for (size_t i = 0; i < e->nframes; i++) {
		const struct sym_frame *fr = &e->frames[i];

		fprintf(f, "%s{\"ip\": \"%#llx\"", i ? ", " : "", (unsigned long long)fr->ip);
		if (fr->func) {
			fputs(", \"function\": ", f);
			json_put_str(f, fr->func);
			fprintf(f, ", \"offset\": %llu", (unsigned long long)fr->off);
		}
		if (fr->object) {
			fputs(", \"object\": ", f);
			json_put_str(f, fr->object);
		}
		fputc('}', f);
	}
	fputs("]}\n", f);
	if (fflush(f) || ferror(f))
		return -errno ? -errno : -EIO;
	return 0;
}
