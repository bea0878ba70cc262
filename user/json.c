// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
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

static void put_latency(FILE *f, const struct latency *l)
{
	fputs("{\"mean\": ", f);
	put_secs(f, l->mean);
	fputs(", \"min\": ", f);
	put_secs(f, l->min);
	fputs(", \"p50\": ", f);
	put_secs(f, l->p50);
	fputs(", \"p90\": ", f);
	put_secs(f, l->p90);
	fputs(", \"p99\": ", f);
	put_secs(f, l->p99);
	fputs(", \"p999\": ", f);
	put_secs(f, l->p999);
	fputs(", \"max\": ", f);
	put_secs(f, l->max);
	fputc('}', f);
}

static void put_resources(FILE *f, const struct row *w)
{
	const struct res_sum *r = &w->res;

	fputs(", \"cpu_s\": ", f);
	put_secs(f, r->oncpu_ns / 1e9);
	fputs(", \"offcpu_s\": ", f);
	put_secs(f, r->offcpu_ns / 1e9);
	fputs(", \"runqueue_s\": ", f);
	put_secs(f, r->runq_ns / 1e9);
	fprintf(f, ", \"page_faults\": %llu, \"major_page_faults\": %llu"
		", \"voluntary_switches\": %llu, \"involuntary_switches\": %llu, \"unsplit_calls\": %llu",
		(unsigned long long)(r->minflt + r->majflt), (unsigned long long)r->majflt,
		(unsigned long long)r->nvcsw, (unsigned long long)r->nivcsw,
		(unsigned long long)w->unsplit);
	if (!w->calls)
		return;
	fputs(", \"per_call\": {", f);
	/* the time split is known for the calls that have one */
	if (w->calls > w->unsplit) {
		double n = (double)(w->calls - w->unsplit);

		fputs("\"cpu_s\": ", f);
		put_secs(f, r->oncpu_ns / 1e9 / n);
		fputs(", \"offcpu_s\": ", f);
		put_secs(f, r->offcpu_ns / 1e9 / n);
		fputs(", \"runqueue_s\": ", f);
		put_secs(f, r->runq_ns / 1e9 / n);
		fputs(", ", f);
	}
	fputs("\"page_faults\": ", f);
	put_secs(f, (double)(r->minflt + r->majflt) / (double)w->calls);
	fputc('}', f);
}

static void put_process(FILE *f, const struct proc_info *p)
{
	fputs(", \"process\": {", f);
	if (p->has_cpu) {
		fputs("\"cpu_cores\": ", f);
		put_secs(f, p->cpu_cores);
		fputs(", ", f);
	}
	fputs("\"cpu_s\": ", f);
	put_secs(f, p->cpu_s);
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
		if (a->prompt_batches) {
			fputs(", \"ttft_s\": ", f);
			put_secs(f, (double)a->prompt_ns / 1e9 / (double)a->prompt_batches);
			fputs(", \"prompt_tokens_per_s\": ", f);
			put_secs(f, a->prompt_ns ? (double)a->prompt_tokens / ((double)a->prompt_ns / 1e9) : 0);
		}
		if (a->gen_batches) {
			fputs(", \"tpot_s\": ", f);
			put_secs(f, (double)a->gen_ns / 1e9 / (double)a->gen_batches);
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
	fprintf(f, ", \"errors\": %llu, \"lost\": %llu, \"untimed\": %llu, \"thread_table_full\": %llu",
		(unsigned long long)w->errors, (unsigned long long)w->lost,
		(unsigned long long)w->untimed, (unsigned long long)w->thread_full);
	if (w->has_latency) {
		fputs(", \"latency_s\": ", f);
		put_latency(f, &w->lat);
	}
	put_resources(f, w);
	put_args(f, r, w);
	{
		const char *of;
		double ratio;

		if (!report_share(r, w, &ratio, &of)) {
			fputs(", \"share_of\": {\"probe\": ", f);
			json_put_str(f, of);
			fputs(", \"ratio\": ", f);
			put_secs(f, ratio);
			fputc('}', f);
		}
	}
	if (w->proc)
		put_process(f, w->proc);
	if (w->probe->overhead_ns) {
		fputs(", \"overhead_s\": ", f);
		put_secs(f, w->probe->overhead_ns / 1e9);
	}
	if (w->from_kernel)
		fputs(", \"source\": \"kernel\"", f);
	fputs("}\n", f);
}

int json_write_report(FILE *f, const struct report *r)
{
	for (size_t i = 0; i < r->n; i++)
		put_row(f, r, &r->rows[i]);
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
	if (p->decode.nargs) {
		fprintf(f, ", \"args\": [%llu, %llu]", (unsigned long long)e->args[0],
			(unsigned long long)e->args[1]);
		if (e->flags & INFERLAT_CALL_ARG_FAULT)
			fputs(", \"args_unreadable\": true", f);
	}
	fputs("}\n", f);
	return ferror(f) ? -EIO : 0;
}
