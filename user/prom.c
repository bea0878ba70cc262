// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "grow.h"
#include "procfs.h"
#include "anomaly.h"
#include "httpagg.h"
#include "prom.h"
#include "slo.h"
#include "utf8.h"

/*
 * Request histograms from llama.cpp's sequences, with OpenTelemetry's GenAI
 * server bucket boundaries (gen_ai.server.time_to_first_token,
 * .time_per_output_token, .request.duration), so dashboards written for them
 * line up. A bound's count is exact to the internal bucket holding it (0.8%).
 */
#define GENAI_MAX_BOUNDS 16

struct genai_family {
	const char *name, *help;
	size_t off;               /* the struct hist in struct seq_sum */
	size_t n;
	double bounds[GENAI_MAX_BOUNDS];
};

static const struct genai_family genai_families[] = {
	{ "inferlat_gen_ai_server_time_to_first_token_seconds",
	  "llama.cpp requests from the sequences: from the start of the first llama_decode carrying "
	  "the request's prompt to the end of the decode that outputs its first token's logits "
	  "(the server's queueing and the HTTP exchange are outside).",
	  offsetof(struct seq_sum, prefill), 16,
	  { 0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0 } },
	{ "inferlat_gen_ai_server_time_per_output_token_seconds",
	  "llama.cpp requests: time between the ends of consecutive decodes that output a token of "
	  "the same sequence (inter-token latency; sampling and the server's loop included).",
	  offsetof(struct seq_sum, itl), 13,
	  { 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5 } },
	{ "inferlat_gen_ai_server_request_duration_seconds",
	  "llama.cpp requests: from the first prompt decode's start to the last decode's end.",
	  offsetof(struct seq_sum, duration), 14,
	  { 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92 } },
};

#define GENAI_FAMILIES (sizeof(genai_families) / sizeof(genai_families[0]))

struct genai_cum {            /* cumulative request figures of a label set */
	uint64_t le[GENAI_FAMILIES][GENAI_MAX_BOUNDS];
	uint64_t count[GENAI_FAMILIES], sum_ns[GENAI_FAMILIES];
	uint64_t requests, prompt_tokens, generated_tokens, busy_seqs, decodes;
};

static void genai_take(struct genai_cum *c, const struct seq_sum *q)
{
	for (size_t k = 0; k < GENAI_FAMILIES; k++) {
		const struct genai_family *g = &genai_families[k];
		const struct hist *h = (const struct hist *)((const char *)q + g->off);

		for (size_t b = 0; b < g->n; b++)
			c->le[k][b] = hist_count_le(h, (uint64_t)(g->bounds[b] * 1e9 + 0.5));
		c->count[k] = h->count;
		c->sum_ns[k] = h->sum_ns;
	}
	c->requests = q->finished;
	c->prompt_tokens = q->prompt_tokens;
	c->generated_tokens = q->generated_tokens;
	c->busy_seqs = q->busy_seqs;
	c->decodes = q->decodes;
}

/* to += now - was, field by field (every field a uint64_t) */
static void genai_add_delta(struct genai_cum *to, const struct genai_cum *now, const struct genai_cum *was)
{
	uint64_t *t = (uint64_t *)to;
	const uint64_t *n = (const uint64_t *)now, *w = (const uint64_t *)was;

	for (size_t i = 0; i < sizeof(*to) / sizeof(uint64_t); i++)
		t[i] += n[i] - w[i];
}

struct prom_series {          /* one exported label set of the call metrics */
	uint32_t probe_id;
	char *comm;               /* NULL: unknown */
	pid_t pid;                /* 0 unless --pid-label */
	uint64_t count, errors, sum_ns;
	uint64_t cum[PROM_NBOUNDS];
	struct res_sum res;
	struct arg_sum args;
	bool has_req;             /* llama_decode with sequence events */
	struct genai_cum req;
};

struct prom_seen {            /* one aggregator series: what was taken in */
	uint32_t probe_id;
	pid_t pid;
	struct prom_series *to;
	uint64_t count, errors, sum_ns;
	uint64_t cum[PROM_NBOUNDS];
	struct res_sum res;
	struct arg_sum args;
	struct genai_cum req;
	bool live;
};

struct prom_proc {            /* a live target process, as of the last update */
	pid_t pid;
	char comm[64];
	bool has_comm;
	double cpu_total_s;
	uint64_t rss_bytes;
	bool has_gpu;          /* decoded cudaMalloc/cudaFree calls of this process */
	uint64_t gpu_live;
};

/* Labels inferlat sets itself; --label may not take them. */
static const char *const own_labels[] = { "probe", "runtime", "comm", "pid", "le", "version", "slo", "phase", "token_type",
					  "metric", "server_port", "http_request_method", "http_route",
					  "http_response_status_class" };

uint64_t prom_bound_ns(size_t i)
{
	static const uint64_t m[4] = { 128, 152, 181, 215 };  /* 128 * 2^(k/4), rounded */

	return (m[i % 4] << (10 + i / 4 - INFERLAT_HIST_SUB_BITS)) - 1;
}

void prom_cumulative(const struct hist *h, uint64_t out[PROM_NBOUNDS])
{
	uint64_t cum = 0;
	size_t k = 0;

	for (uint32_t i = 0; i < INFERLAT_HIST_BUCKETS && k < PROM_NBOUNDS; i++) {
		/* every bound is some bucket's last value: no bucket straddles one */
		while (k < PROM_NBOUNDS && hist_bucket_hi(i) > prom_bound_ns(k))
			out[k++] = cum;
		cum += h->b[i];
	}
	while (k < PROM_NBOUNDS)
		out[k++] = cum;
}

static const char *label_esc(unsigned char c, char buf[8])
{
	switch (c) {
	case '\\':
		return "\\\\";
	case '"':
		return "\\\"";
	case '\n':
		return "\\n";
	}
	return NULL;
}

void prom_put_label_value(FILE *f, const char *s)
{
	fputc('"', f);
	utf8_put_escaped(f, s, label_esc, "\xef\xbf\xbd");   /* U+FFFD */
	fputc('"', f);
}

static bool label_name_ok(const char *s, size_t n)
{
	if (!n || !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

int prom_label_parse(const char *arg, struct prom_label *out, char *err, size_t errsz)
{
	const char *eq = strchr(arg, '=');
	size_t klen = eq ? (size_t)(eq - arg) : 0;

	/* a 4 KiB argument must not push the explanation out of the line */
	int shown = (int)strnlen(arg, 64);
	const char *more = arg[shown] ? "..." : "";

	memset(out, 0, sizeof(*out));
	if (!eq || !label_name_ok(arg, klen)) {
		snprintf(err, errsz, "--label %.*s%s: expected KEY=VALUE with KEY a label name "
			 "([a-zA-Z_][a-zA-Z0-9_]*), e.g. model=llama-3-8b", shown, arg, more);
		return -EINVAL;
	}
	if (klen >= 2 && arg[0] == '_' && arg[1] == '_') {
		snprintf(err, errsz, "--label %.*s%s: names starting with __ are reserved by Prometheus", shown, arg, more);
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(own_labels) / sizeof(own_labels[0]); i++) {
		if (strlen(own_labels[i]) == klen && !strncmp(arg, own_labels[i], klen)) {
			snprintf(err, errsz, "--label %.*s%s: inferlat sets '%s' itself; choose another name",
				 shown, arg, more, own_labels[i]);
			return -EINVAL;
		}
	}
	if (!eq[1] || !utf8_valid(eq + 1)) {
		snprintf(err, errsz, "--label %.*s%s: the value must be non-empty UTF-8", shown, arg, more);
		return -EINVAL;
	}
	out->key = strndup(arg, klen);
	out->value = strdup(eq + 1);
	if (!out->key || !out->value) {
		prom_label_free(out);
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

void prom_label_free(struct prom_label *l)
{
	free(l->key);
	free(l->value);
	memset(l, 0, sizeof(*l));
}

static bool same_comm(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static struct prom_series *series_get(struct prom_exporter *px, uint32_t id, const char *comm,
				      pid_t pid)
{
	struct prom_series *s;

	if (!px->o.pid_label)
		pid = 0;
	for (size_t i = 0; i < px->nseries; i++) {
		s = px->series[i];
		if (s->probe_id == id && s->pid == pid && same_comm(s->comm, comm))
			return s;
	}
	if (GROW(px->series, px->nseries, px->capseries, 8))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->probe_id = id;
	s->pid = pid;
	if (comm && !(s->comm = strdup(comm))) {
		free(s);
		return NULL;
	}
	px->series[px->nseries++] = s;
	return s;
}

int prom_init(struct prom_exporter *px, const struct probe_set *ps, const struct prom_opts *o,
	      const pid_t *pids, size_t npids)
{
	memset(px, 0, sizeof(*px));
	px->ps = ps;
	px->o = *o;
	px->probes = calloc(ps->n ? ps->n : 1, sizeof(*px->probes));
	if (!px->probes)
		return -ENOMEM;
	px->nprobes = ps->n;
	for (size_t i = 0; i < ps->n; i++) {
		const struct probe *p = &ps->v[i];
		const pid_t *v = p->npids ? p->pids : pids;
		size_t n = p->npids ? p->npids : npids;

		if (p->op)
			continue;   /* thousands of operators: series only for those called */

		for (size_t j = 0; j < n; j++) {
			char comm[64];

			/* a process already gone has nothing to start at zero */
			if (procfs_comm(v[j], comm, sizeof(comm)))
				continue;
			if (!series_get(px, p->id, comm, v[j]))
				return -ENOMEM;
		}
	}
	return 0;
}

void prom_free(struct prom_exporter *px)
{
	for (size_t i = 0; i < px->nseries; i++) {
		free(px->series[i]->comm);
		free(px->series[i]);
	}
	free(px->series);
	free(px->seen);
	free(px->probes);
	free(px->procs);
	memset(px, 0, sizeof(*px));
}

static struct prom_seen *seen_get(struct prom_exporter *px, uint32_t id, pid_t pid)
{
	struct prom_seen *s;

	for (size_t i = 0; i < px->nseen; i++)
		if (px->seen[i].probe_id == id && px->seen[i].pid == pid)
			return &px->seen[i];
	if (GROW(px->seen, px->nseen, px->capseen, 8))
		return NULL;
	s = &px->seen[px->nseen++];
	memset(s, 0, sizeof(*s));
	s->probe_id = id;
	s->pid = pid;
	return s;
}

/* One aggregator series: add what it gained since the last update to its
 * label set. */
static int take_in(void *ctx, const struct agg_run_view *v)
{
	struct prom_exporter *px = ctx;
	struct prom_seen *s = seen_get(px, v->probe_id, v->pid);
	uint64_t cum[PROM_NBOUNDS];

	if (!s)
		return -ENOMEM;
	if (!s->to && !(s->to = series_get(px, v->probe_id, v->comm, v->pid)))
		return -ENOMEM;
	if (v->run->count < s->count) {
		/* a new series under a reused PID: it starts from zero */
		memset(s->cum, 0, sizeof(s->cum));
		memset(&s->res, 0, sizeof(s->res));
		memset(&s->args, 0, sizeof(s->args));
		memset(&s->req, 0, sizeof(s->req));
		s->count = s->errors = s->sum_ns = 0;
	}
	prom_cumulative(v->run, cum);
	for (size_t i = 0; i < PROM_NBOUNDS; i++) {
		s->to->cum[i] += cum[i] - s->cum[i];
		s->cum[i] = cum[i];
	}
	s->to->count += v->run->count - s->count;
	s->to->sum_ns += v->run->sum_ns - s->sum_ns;
	s->to->errors += v->errors - s->errors;
	s->to->res.oncpu_ns += v->res->oncpu_ns - s->res.oncpu_ns;
	s->to->res.offcpu_ns += v->res->offcpu_ns - s->res.offcpu_ns;
	s->to->res.runq_ns += v->res->runq_ns - s->res.runq_ns;
	s->to->res.minflt += v->res->minflt - s->res.minflt;
	s->to->res.majflt += v->res->majflt - s->res.majflt;
	s->to->res.nvcsw += v->res->nvcsw - s->res.nvcsw;
	s->to->res.nivcsw += v->res->nivcsw - s->res.nivcsw;
	s->to->res.pool_calls += v->res->pool_calls - s->res.pool_calls;
	s->to->res.pool_ns += v->res->pool_ns - s->res.pool_ns;
	s->to->res.pool_cpu_ns += v->res->pool_cpu_ns - s->res.pool_cpu_ns;
	s->res = *v->res;
	if (v->args) {
		s->to->args.prompt_batches += v->args->prompt_batches - s->args.prompt_batches;
		s->to->args.prompt_tokens += v->args->prompt_tokens - s->args.prompt_tokens;
		s->to->args.prompt_ns += v->args->prompt_ns - s->args.prompt_ns;
		s->to->args.gen_batches += v->args->gen_batches - s->args.gen_batches;
		s->to->args.gen_ns += v->args->gen_ns - s->args.gen_ns;
		s->to->args.bytes += v->args->bytes - s->args.bytes;
		s->to->args.ops += v->args->ops - s->args.ops;
		s->args = *v->args;
	}
	if (v->req) {
		struct genai_cum now;

		genai_take(&now, v->req);
		genai_add_delta(&s->to->req, &now, &s->req);
		s->req = now;
		s->to->has_req = true;
	}
	s->count = v->run->count;
	s->sum_ns = v->run->sum_ns;
	s->errors = v->errors;
	s->live = true;
	return 0;
}

int prom_update(struct prom_exporter *px, const struct aggregator *a, struct kstats *k,
		double span_s)
{
	double probe_s = 0;
	size_t n = 0;
	int err;

	for (size_t i = 0; i < px->nseen; i++)
		px->seen[i].live = false;
	err = agg_foreach_run(a, take_in, px);
	if (err)
		return err;
	/* series the aggregator dropped: their figures stay in their label set */
	for (size_t i = 0; i < px->nseen; i++)
		if (px->seen[i].live)
			px->seen[n++] = px->seen[i];
	px->nseen = n;

	/* probes found after start (a library loaded later) */
	if (px->ps->n > px->nprobes) {
		struct prom_probe *nv = realloc(px->probes, px->ps->n * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		memset(nv + px->nprobes, 0, (px->ps->n - px->nprobes) * sizeof(*nv));
		px->probes = nv;
		px->nprobes = px->ps->n;
	}
	for (uint32_t id = 0; id < px->ps->n; id++) {
		struct prom_probe *pp = &px->probes[id];
		struct probe_stats st;

		err = kstats_read(k, id, &st);
		if (err)
			return err;
		probe_s += (double)(st.entries - pp->hits) * px->ps->v[id].hit_cost_ns / 1e9;
		if (px->ps->v[id].hit_cost_ns)
			px->has_ratio = true;
		pp->hits = st.entries;
		pp->lost = st.rb_drops;
		pp->thread_full = st.thread_full;
	}
	px->overhead_ratio = span_s > 0 ? probe_s / span_s : 0;

	/* the processes: gone ones (exit reported) are no longer exported */
	px->nprocs = 0;
	for (size_t i = 0; i < a->procs->n; i++) {
		const struct proc_info *pi = a->procs->v[i];
		struct prom_proc *pp;

		if (pi->dropped || !pi->sampled)
			continue;
		if (GROW(px->procs, px->nprocs, px->capprocs, 8))
			return -ENOMEM;
		pp = &px->procs[px->nprocs++];
		pp->pid = pi->pid;
		snprintf(pp->comm, sizeof(pp->comm), "%s", pi->comm);
		pp->has_comm = pi->has_comm;
		pp->cpu_total_s = pi->cpu_total_s;
		pp->rss_bytes = pi->rss_bytes;
		{
			const struct gpuproc *g = gpumem_get(&a->gpu, pi->pid);

			pp->has_gpu = g != NULL;
			pp->gpu_live = g ? g->live : 0;
		}
	}
	return 0;
}

/* Nanoseconds as exact decimal seconds: "0.000001023", "57.713360895". */
static void fmt_ns(char *buf, size_t sz, uint64_t ns)
{
	char frac[16];
	int len;

	len = snprintf(frac, sizeof(frac), "%09" PRIu64, ns % 1000000000u);
	while (len > 0 && frac[len - 1] == '0')
		frac[--len] = '\0';
	snprintf(buf, sz, "%" PRIu64 "%s%s", ns / 1000000000u, len ? "." : "", frac);
}

static void put_ns(FILE *f, uint64_t ns)
{
	char buf[32];

	fmt_ns(buf, sizeof(buf), ns);
	fputs(buf, f);
}

static void put_double(FILE *f, double v)
{
	fprintf(f, "%.17g", isfinite(v) ? v : 0);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label list being written: '{' before the first, '}' only if one was. */
struct lbl {
	FILE *f;
	bool open;
};

static void lbl_add(struct lbl *l, const char *key, const char *value)
{
	fputc(l->open ? ',' : '{', l->f);
	l->open = true;
	fputs(key, l->f);
	fputc('=', l->f);
	prom_put_label_value(l->f, value);
}

static void lbl_end(struct lbl *l)
{
	if (l->open)
		fputc('}', l->f);
}

/* probe, runtime, comm, pid, then the user's labels */
static void put_labels(struct lbl *l, const struct prom_exporter *px, const struct probe *p,
		       const struct prom_series *s)
{
	if (p) {
		lbl_add(l, "probe", p->name);
		if (p->runtime)
			lbl_add(l, "runtime", p->runtime);
	}
	if (s && s->comm)
		lbl_add(l, "comm", s->comm);
	if (s && s->pid) {
		char pid[16];

		snprintf(pid, sizeof(pid), "%d", (int)s->pid);
		lbl_add(l, "pid", pid);
	}
	for (size_t i = 0; i < px->o.nlabels; i++)
		lbl_add(l, px->o.labels[i].key, px->o.labels[i].value);
}

static void put_sample(FILE *f, const struct prom_exporter *px, const char *name,
		       const struct probe *p, const struct prom_series *s)
{
	struct lbl l = { f, false };

	fputs(name, f);
	put_labels(&l, px, p, s);
	lbl_end(&l);
	fputc(' ', f);
}

static void put_histograms(FILE *f, const struct prom_exporter *px)
{
	family(f, "inferlat_call_duration_seconds", "histogram",
	       "Duration of calls of the probed function, entry to return, less the probe overhead "
	       "measured at start.");
	for (size_t i = 0; i < px->nseries; i++) {
		const struct prom_series *s = px->series[i];
		const struct probe *p = &px->ps->v[s->probe_id];

		for (size_t b = 0; b <= PROM_NBOUNDS; b++) {
			struct lbl l = { f, false };
			char le[32];

			if (b < PROM_NBOUNDS)
				fmt_ns(le, sizeof(le), prom_bound_ns(b));
			else
				snprintf(le, sizeof(le), "+Inf");
			fputs("inferlat_call_duration_seconds_bucket", f);
			put_labels(&l, px, p, s);
			lbl_add(&l, "le", le);
			lbl_end(&l);
			fprintf(f, " %" PRIu64 "\n", b < PROM_NBOUNDS ? s->cum[b] : s->count);
		}
		put_sample(f, px, "inferlat_call_duration_seconds_sum", p, s);
		put_ns(f, s->sum_ns);
		fputc('\n', f);
		put_sample(f, px, "inferlat_call_duration_seconds_count", p, s);
		fprintf(f, "%" PRIu64 "\n", s->count);
	}
}

/* One counter per call label set, from a field of its sums. */
/* pool: only the probes that measure their process's CPU (probe.pool) */
static void put_call_counter(FILE *f, const struct prom_exporter *px, const char *name,
			     const char *help, size_t off, bool ns, bool pool)
{
	family(f, name, "counter", help);
	for (size_t i = 0; i < px->nseries; i++) {
		const struct prom_series *s = px->series[i];
		uint64_t v = *(const uint64_t *)((const char *)&s->res + off);

		if (pool && !px->ps->v[s->probe_id].pool)
			continue;
		put_sample(f, px, name, &px->ps->v[s->probe_id], s);
		if (ns)
			put_ns(f, v);
		else
			fprintf(f, "%" PRIu64, v);
		fputc('\n', f);
	}
}

static void put_resources(FILE *f, const struct prom_exporter *px)
{
	if (px->no_split)
		return;   /* not measured: absent, not zero */
	put_call_counter(f, px, "inferlat_call_cpu_seconds_total",
			 "Time the calling thread ran inside calls (less the probe overhead).",
			 offsetof(struct res_sum, oncpu_ns), true, false);
	put_call_counter(f, px, "inferlat_call_offcpu_seconds_total",
			 "Time the calling thread was blocked inside calls (sleep, I/O, locks, devices).",
			 offsetof(struct res_sum, offcpu_ns), true, false);
	put_call_counter(f, px, "inferlat_call_runqueue_seconds_total",
			 "Time the calling thread was runnable but waiting for a CPU inside calls.",
			 offsetof(struct res_sum, runq_ns), true, false);
	family(f, "inferlat_call_page_faults_total", "counter",
	       "Page faults (minor and major) of the calling thread inside calls.");
	for (size_t i = 0; i < px->nseries; i++) {
		const struct prom_series *s = px->series[i];

		put_sample(f, px, "inferlat_call_page_faults_total", &px->ps->v[s->probe_id], s);
		fprintf(f, "%" PRIu64 "\n", s->res.minflt + s->res.majflt);
	}
	put_call_counter(f, px, "inferlat_call_major_page_faults_total",
			 "Major page faults (that read from disk) of the calling thread inside calls.",
			 offsetof(struct res_sum, majflt), false, false);
	put_call_counter(f, px, "inferlat_call_voluntary_context_switches_total",
			 "Times the calling thread gave up its CPU (blocked) inside calls.",
			 offsetof(struct res_sum, nvcsw), false, false);
	put_call_counter(f, px, "inferlat_call_involuntary_context_switches_total",
			 "Times the calling thread was preempted inside calls.",
			 offsetof(struct res_sum, nivcsw), false, false);
	/* a runtime's main probe: over the calls' own time (pool_ns), the cores
	 * its thread pool kept busy */
	put_call_counter(f, px, "inferlat_call_process_cpu_seconds_total",
			 "CPU time of all the process's threads during the calls of a runtime's main "
			 "probe (its thread pool): divided by inferlat_call_pool_duration_seconds_total, "
			 "the cores in use while they ran.",
			 offsetof(struct res_sum, pool_cpu_ns), true, true);
	put_call_counter(f, px, "inferlat_call_pool_duration_seconds_total",
			 "Duration of the calls whose process CPU time is measured (a runtime's main probe).",
			 offsetof(struct res_sum, pool_ns), true, true);
}

/* A per-process sample: pid and comm, then the user's labels. */
static void put_proc_sample(FILE *f, const struct prom_exporter *px, const char *name,
			    const struct prom_proc *pp)
{
	struct lbl l = { f, false };
	char pid[16];

	fputs(name, f);
	snprintf(pid, sizeof(pid), "%d", (int)pp->pid);
	lbl_add(&l, "pid", pid);
	if (pp->has_comm)
		lbl_add(&l, "comm", pp->comm);
	for (size_t i = 0; i < px->o.nlabels; i++)
		lbl_add(&l, px->o.labels[i].key, px->o.labels[i].value);
	lbl_end(&l);
	fputc(' ', f);
}

/* The families are announced even with no live process: they are part of the
 * schema dashboards and rules are written against. */
static void put_processes(FILE *f, const struct prom_exporter *px)
{
	family(f, "inferlat_process_cpu_seconds_total", "counter",
	       "CPU time of the traced process, all threads, since it started (/proc/PID/stat).");
	for (size_t i = 0; i < px->nprocs; i++) {
		put_proc_sample(f, px, "inferlat_process_cpu_seconds_total", &px->procs[i]);
		put_double(f, px->procs[i].cpu_total_s);
		fputc('\n', f);
	}
	family(f, "inferlat_process_resident_memory_bytes", "gauge",
	       "Resident memory (RSS) of the traced process.");
	for (size_t i = 0; i < px->nprocs; i++) {
		put_proc_sample(f, px, "inferlat_process_resident_memory_bytes", &px->procs[i]);
		fprintf(f, "%" PRIu64 "\n", px->procs[i].rss_bytes);
	}
}

static bool any_measure(const struct prom_exporter *px, int m)
{
	for (size_t i = 0; i < px->ps->n; i++)
		if (px->ps->v[i].decode.measure == m)
			return true;
	return false;
}

/* A counter of decoded arguments for the series of probes measuring m, with
 * an extra label. */
static void put_arg_counter(FILE *f, const struct prom_exporter *px, const char *name, int m,
			    const char *key, const char *value, size_t off, bool ns)
{
	for (size_t i = 0; i < px->nseries; i++) {
		const struct prom_series *s = px->series[i];
		const struct probe *p = &px->ps->v[s->probe_id];
		uint64_t v = *(const uint64_t *)((const char *)&s->args + off);
		struct lbl l = { f, false };

		if (p->decode.measure != m)
			continue;
		fputs(name, f);
		put_labels(&l, px, p, s);
		if (key)
			lbl_add(&l, key, value);
		lbl_end(&l);
		fputc(' ', f);
		if (ns)
			put_ns(f, v);
		else
			fprintf(f, "%" PRIu64, v);
		fputc('\n', f);
	}
}

/* Runtime figures from decoded arguments (presets): announced only when a
 * probe decodes them. */
static void put_runtime(FILE *f, const struct prom_exporter *px)
{
	if (any_measure(px, MEASURE_TOKENS)) {
		family(f, "inferlat_tokens_total", "counter",
		       "Tokens decoded: phase=prompt, batches of more than one token (prompt processing); "
		       "phase=generation, single-token batches (one generated token each).");
		put_arg_counter(f, px, "inferlat_tokens_total", MEASURE_TOKENS, "phase", "prompt",
				offsetof(struct arg_sum, prompt_tokens), false);
		put_arg_counter(f, px, "inferlat_tokens_total", MEASURE_TOKENS, "phase", "generation",
				offsetof(struct arg_sum, gen_batches), false);
		family(f, "inferlat_decode_batches_total", "counter",
		       "Decode calls by phase (call level: a batch of several tokens can mix one "
		       "request's prompt with other requests' generated tokens; request figures are the "
		       "inferlat_gen_ai_server_* families).");
		put_arg_counter(f, px, "inferlat_decode_batches_total", MEASURE_TOKENS, "phase", "prompt",
				offsetof(struct arg_sum, prompt_batches), false);
		put_arg_counter(f, px, "inferlat_decode_batches_total", MEASURE_TOKENS, "phase", "generation",
				offsetof(struct arg_sum, gen_batches), false);
		family(f, "inferlat_decode_seconds_total", "counter", "Time in decode calls by phase.");
		put_arg_counter(f, px, "inferlat_decode_seconds_total", MEASURE_TOKENS, "phase", "prompt",
				offsetof(struct arg_sum, prompt_ns), true);
		put_arg_counter(f, px, "inferlat_decode_seconds_total", MEASURE_TOKENS, "phase", "generation",
				offsetof(struct arg_sum, gen_ns), true);
	}
	if (any_measure(px, MEASURE_BYTES)) {
		family(f, "inferlat_copied_bytes_total", "counter",
		       "Bytes copied by the probed memory-copy calls (decoded count argument).");
		put_arg_counter(f, px, "inferlat_copied_bytes_total", MEASURE_BYTES, NULL, NULL,
				offsetof(struct arg_sum, bytes), false);
	}
	if (any_measure(px, MEASURE_ALLOC)) {
		family(f, "inferlat_gpu_allocated_bytes_total", "counter",
		       "Bytes allocated by successful device allocation calls.");
		put_arg_counter(f, px, "inferlat_gpu_allocated_bytes_total", MEASURE_ALLOC, NULL, NULL,
				offsetof(struct arg_sum, bytes), false);
		family(f, "inferlat_gpu_live_bytes", "gauge",
		       "Device memory allocated and not freed since inferlat attached, per process.");
		for (size_t i = 0; i < px->nprocs; i++) {
			if (!px->procs[i].has_gpu)
				continue;
			put_proc_sample(f, px, "inferlat_gpu_live_bytes", &px->procs[i]);
			fprintf(f, "%" PRIu64 "\n", px->procs[i].gpu_live);
		}
	}
}

static void put_genai_counter(FILE *f, const struct prom_exporter *px, const char *name,
			      const char *key, const char *value, size_t off)
{
	for (size_t i = 0; i < px->nseries; i++) {
		const struct prom_series *s = px->series[i];
		struct lbl l = { f, false };

		if (!s->has_req)
			continue;
		fputs(name, f);
		put_labels(&l, px, &px->ps->v[s->probe_id], s);
		if (key)
			lbl_add(&l, key, value);
		lbl_end(&l);
		fprintf(f, " %" PRIu64 "\n", *(const uint64_t *)((const char *)&s->req + off));
	}
}

/* Requests from llama.cpp's sequences: announced with the llama.cpp preset. */
static void put_requests(FILE *f, const struct prom_exporter *px)
{
	if (!any_measure(px, MEASURE_TOKENS))
		return;
	for (size_t k = 0; k < GENAI_FAMILIES; k++) {
		const struct genai_family *g = &genai_families[k];
		char name[128];

		family(f, g->name, "histogram", g->help);
		for (size_t i = 0; i < px->nseries; i++) {
			const struct prom_series *s = px->series[i];
			const struct probe *p = &px->ps->v[s->probe_id];

			if (!s->has_req)
				continue;
			for (size_t b = 0; b <= g->n; b++) {
				struct lbl l = { f, false };
				char le[32];

				if (b < g->n)
					snprintf(le, sizeof(le), "%g", g->bounds[b]);
				else
					snprintf(le, sizeof(le), "+Inf");
				fprintf(f, "%s_bucket", g->name);
				put_labels(&l, px, p, s);
				lbl_add(&l, "le", le);
				lbl_end(&l);
				fprintf(f, " %" PRIu64 "\n", b < g->n ? s->req.le[k][b] : s->req.count[k]);
			}
			snprintf(name, sizeof(name), "%s_sum", g->name);
			put_sample(f, px, name, p, s);
			put_ns(f, s->req.sum_ns[k]);
			fputc('\n', f);
			snprintf(name, sizeof(name), "%s_count", g->name);
			put_sample(f, px, name, p, s);
			fprintf(f, "%" PRIu64 "\n", s->req.count[k]);
		}
	}
	family(f, "inferlat_gen_ai_server_requests_total", "counter",
	       "llama.cpp requests from the sequences, ended (restarted, cleared or idle 1 s).");
	put_genai_counter(f, px, "inferlat_gen_ai_server_requests_total", NULL, NULL,
			  offsetof(struct genai_cum, requests));
	family(f, "inferlat_gen_ai_server_tokens_total", "counter",
	       "llama.cpp requests' tokens: token_type=input, prompt tokens decoded; token_type=output, tokens "
	       "generated (decodes that output a sequence's logits).");
	put_genai_counter(f, px, "inferlat_gen_ai_server_tokens_total", "token_type", "input",
			  offsetof(struct genai_cum, prompt_tokens));
	put_genai_counter(f, px, "inferlat_gen_ai_server_tokens_total", "token_type", "output",
			  offsetof(struct genai_cum, generated_tokens));
	family(f, "inferlat_decode_sequences_total", "counter",
	       "Sequences carried by successful llama_decode calls, summed: over "
	       "inferlat_decode_calls_total, the batch occupancy (sequences per decode).");
	put_genai_counter(f, px, "inferlat_decode_sequences_total", NULL, NULL,
			  offsetof(struct genai_cum, busy_seqs));
	family(f, "inferlat_decode_calls_total", "counter", "Successful llama_decode calls.");
	put_genai_counter(f, px, "inferlat_decode_calls_total", NULL, NULL,
			  offsetof(struct genai_cum, decodes));
}

/* Per-hit cost, or hits times it (total), for probes whose cost was measured. */
static void put_cost(FILE *f, const struct prom_exporter *px, const char *name, const char *type,
		     const char *help, bool total)
{
	family(f, name, type, help);
	for (size_t i = 0; i < px->ps->n; i++) {
		uint64_t cost = px->ps->v[i].hit_cost_ns;

		if (!cost || (px->ps->v[i].op && !px->probes[i].hits))
			continue;
		put_sample(f, px, name, &px->ps->v[i], NULL);
		put_ns(f, total ? px->probes[i].hits * cost : cost);
		fputc('\n', f);
	}
}

static void put_probe_metrics(FILE *f, const struct prom_exporter *px)
{
	bool any_err = false, any_cost = false;

	for (size_t i = 0; i < px->ps->n; i++) {
		any_err |= px->ps->v[i].err_kind != INFERLAT_ERR_NONE;
		any_cost |= px->ps->v[i].hit_cost_ns != 0;
	}
	/* without -E a probe has no notion of error: no series, not zeros */
	if (any_err) {
		family(f, "inferlat_call_errors_total", "counter",
		       "Calls whose return value matched the probe's error predicate (-E).");
		for (size_t i = 0; i < px->nseries; i++) {
			const struct prom_series *s = px->series[i];
			const struct probe *p = &px->ps->v[s->probe_id];

			if (p->err_kind == INFERLAT_ERR_NONE)
				continue;
			put_sample(f, px, "inferlat_call_errors_total", p, s);
			fprintf(f, "%" PRIu64 "\n", s->errors);
		}
	}
	family(f, "inferlat_probe_hits_total", "counter",
	       "Times the probe's entry fired in traced threads, counted in the kernel.");
	for (size_t i = 0; i < px->ps->n; i++) {
		if (px->ps->v[i].op && !px->probes[i].hits)
			continue;
		put_sample(f, px, "inferlat_probe_hits_total", &px->ps->v[i], NULL);
		fprintf(f, "%" PRIu64 "\n", px->probes[i].hits);
	}
	family(f, "inferlat_thread_table_full_total", "counter",
	       "Calls made by threads the thread table (--max-threads) had no room for: timed, "
	       "without the on-CPU/blocked/run-queue split.");
	for (size_t i = 0; i < px->ps->n; i++) {
		put_sample(f, px, "inferlat_thread_table_full_total", &px->ps->v[i], NULL);
		fprintf(f, "%" PRIu64 "\n", px->probes[i].thread_full);
	}
	if (!any_cost)
		return;
	put_cost(f, px, "inferlat_probe_hit_cost_seconds", "gauge",
		 "Time one entry+return probe pair costs the traced thread, measured at start.", false);
	put_cost(f, px, "inferlat_probe_overhead_seconds_total", "counter",
		 "Estimated time traced threads spent in inferlat's probes: hits times the per-hit cost.", true);
}

/* Windows flagged per probe: p99 for every probe, the error rate for those
 * with -E. */
static void put_anomalies(FILE *f, const struct prom_exporter *px, const struct anomaly_detector *d)
{
	family(f, "inferlat_anomalies_total", "counter",
	       "Windows whose p99 or error rate departed from the probe's recent history "
	       "(median + max(3 x 1.4826 x MAD, floor) over the last 20 windows).");
	for (size_t i = 0; i < px->ps->n; i++) {
		const struct probe *p = &px->ps->v[i];

		for (int m = 0; m < 2; m++) {
			struct lbl l = { f, false };
			uint64_t v;

			if (m == 1 && p->err_kind == INFERLAT_ERR_NONE)
				continue;
			v = i < d->nprobes ? (m ? d->err_count[i] : d->p99_count[i]) : 0;
			fputs("inferlat_anomalies_total", f);
			put_labels(&l, px, p, NULL);
			lbl_add(&l, "metric", m ? "error_rate" : "p99");
			lbl_end(&l);
			fprintf(f, " %" PRIu64 "\n", v);
		}
	}
}

/*
 * HTTP requests (--http), with OpenTelemetry's HTTP server conventions:
 * http.server.request.duration with its recommended bounds, the GenAI
 * server's time-to-first-token and time-per-output-token bounds for the
 * first chunk and the time between chunks. Label sets merge the processes
 * of one name (as the call series do) unless --pid-label.
 */
static const struct {
	const char *name, *help;
	size_t off;               /* the struct hist in struct http_sum */
	size_t n;
	double bounds[GENAI_MAX_BOUNDS];
} http_families[] = {
	{ "inferlat_http_server_request_duration_seconds",
	  "HTTP requests the server answered, from its socket syscalls: from the read of the request's "
	  "first byte to the write of the response's last one.",
	  offsetof(struct http_sum, duration), 14,
	  { 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10 } },
	{ "inferlat_http_server_time_to_first_chunk_seconds",
	  "HTTP requests: from the read of the request's first byte to the write that completes the "
	  "response's first body chunk (HTTP chunk, SSE event, or body write): a token stream's first token.",
	  offsetof(struct http_sum, first_chunk), 16,
	  { 0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0 } },
	{ "inferlat_http_server_inter_chunk_seconds",
	  "HTTP responses: time between the writes of consecutive body chunks (a token stream's "
	  "time per output token).",
	  offsetof(struct http_sum, inter_chunk), 13,
	  { 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5 } },
};

static bool same_http_set(const struct prom_exporter *px, const struct http_series *a,
			  const struct http_series *b)
{
	return a->port == b->port && a->method == b->method && !strcmp(a->route, b->route) &&
	       !strcmp(a->comm, b->comm) && (!px->o.pid_label || a->pid == b->pid);
}

/* The first series of each label set stands for it. */
static bool http_set_first(const struct prom_exporter *px, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (same_http_set(px, px->http->s[j], px->http->s[i]))
			return false;
	return true;
}

static void http_labels(struct lbl *l, const struct prom_exporter *px, const struct http_series *s)
{
	char port[8], pid[16];

	if (s->comm[0])
		lbl_add(l, "comm", s->comm);
	if (px->o.pid_label) {
		snprintf(pid, sizeof(pid), "%d", (int)s->pid);
		lbl_add(l, "pid", pid);
	}
	snprintf(port, sizeof(port), "%u", s->port);
	lbl_add(l, "server_port", port);
	lbl_add(l, "http_request_method", s->method);
	lbl_add(l, "http_route", s->route);
	for (size_t i = 0; i < px->o.nlabels; i++)
		lbl_add(l, px->o.labels[i].key, px->o.labels[i].value);
}

static void put_http_histograms(FILE *f, const struct prom_exporter *px)
{
	const struct http_agg *a = px->http;

	for (size_t k = 0; k < sizeof(http_families) / sizeof(http_families[0]); k++) {
		family(f, http_families[k].name, "histogram", http_families[k].help);
		for (size_t i = 0; i < a->n; i++) {
			uint64_t le[GENAI_MAX_BOUNDS] = { 0 }, count = 0, sum = 0;
			struct lbl l;

			if (!http_set_first(px, i))
				continue;
			for (size_t j = i; j < a->n; j++) {
				const struct hist *h;

				if (!same_http_set(px, a->s[i], a->s[j]))
					continue;
				h = (const struct hist *)((const char *)&a->s[j]->run + http_families[k].off);
				for (size_t b = 0; b < http_families[k].n; b++)
					le[b] += hist_count_le(h, (uint64_t)(http_families[k].bounds[b] * 1e9 + 0.5));
				count += h->count;
				sum += h->sum_ns;
			}
			for (size_t b = 0; b <= http_families[k].n; b++) {
				char bound[32];

				if (b < http_families[k].n)
					snprintf(bound, sizeof(bound), "%g", http_families[k].bounds[b]);
				else
					snprintf(bound, sizeof(bound), "+Inf");
				l = (struct lbl){ f, false };
				fprintf(f, "%s_bucket", http_families[k].name);
				http_labels(&l, px, a->s[i]);
				lbl_add(&l, "le", bound);
				lbl_end(&l);
				fprintf(f, " %" PRIu64 "\n", b < http_families[k].n ? le[b] : count);
			}
			l = (struct lbl){ f, false };
			fprintf(f, "%s_sum", http_families[k].name);
			http_labels(&l, px, a->s[i]);
			lbl_end(&l);
			fputc(' ', f);
			put_ns(f, sum);
			fputc('\n', f);
			l = (struct lbl){ f, false };
			fprintf(f, "%s_count", http_families[k].name);
			http_labels(&l, px, a->s[i]);
			lbl_end(&l);
			fprintf(f, " %" PRIu64 "\n", count);
		}
	}
}

static void put_http(FILE *f, const struct prom_exporter *px)
{
	static const char *const classes[] = { "1xx", "2xx", "3xx", "4xx", "5xx", "aborted" };
	const struct http_agg *a = px->http;

	put_http_histograms(f, px);
	family(f, "inferlat_http_server_requests_total", "counter",
	       "HTTP requests ended, by the class of their final status; aborted: the connection ended "
	       "before the response did.");
	for (size_t i = 0; i < a->n; i++) {
		uint64_t n[6] = { 0 };

		if (!http_set_first(px, i))
			continue;
		for (size_t j = i; j < a->n; j++) {
			if (!same_http_set(px, a->s[i], a->s[j]))
				continue;
			for (int c = 100; c < HTTP_STATUS_CODES; c++)
				n[c / 100 - 1] += a->s[j]->run.status[c];
			n[5] += a->s[j]->run.aborted;
		}
		for (size_t c = 0; c < 6; c++) {
			struct lbl l = { f, false };

			fputs("inferlat_http_server_requests_total", f);
			http_labels(&l, px, a->s[i]);
			lbl_add(&l, "http_response_status_class", classes[c]);
			lbl_end(&l);
			fprintf(f, " %" PRIu64 "\n", n[c]);
		}
	}
	family(f, "inferlat_http_server_active_requests", "gauge",
	       "HTTP requests read and not yet answered, as of the last window.");
	for (size_t i = 0; i < a->n; i++) {
		struct lbl l = { f, false };
		uint64_t n = 0;

		if (!http_set_first(px, i))
			continue;
		for (size_t j = i; j < a->n; j++)
			if (same_http_set(px, a->s[i], a->s[j]))
				n += a->s[j]->inflight;
		fputs("inferlat_http_server_active_requests", f);
		http_labels(&l, px, a->s[i]);
		lbl_end(&l);
		fprintf(f, " %" PRIu64 "\n", n);
	}
	if (px->http_kernel) {
		family(f, "inferlat_http_events_lost_total", "counter",
		       "Socket syscall events the ring buffer dropped (all connections): requests may be "
		       "missing or misframed.");
		put_sample(f, px, "inferlat_http_events_lost_total", NULL, NULL);
		fprintf(f, "%llu\n", (unsigned long long)__atomic_load_n(&px->http_kernel->rb_drops, __ATOMIC_RELAXED));
		family(f, "inferlat_http_connections_not_followed_total", "counter",
		       "Connections accepted on traced ports that the connection table had no room for.");
		put_sample(f, px, "inferlat_http_connections_not_followed_total", NULL, NULL);
		fprintf(f, "%llu\n", (unsigned long long)__atomic_load_n(&px->http_kernel->conn_full, __ATOMIC_RELAXED));
	}
	family(f, "inferlat_http_unparsed_connections_total", "counter",
	       "Connections on a traced port that stopped being framed: not HTTP/1.x (TLS, HTTP/2) or a "
	       "framing boundary outside the captured prefix of a syscall.");
	for (size_t i = 0; i < a->nports; i++) {
		const struct http_port *p = a->ports[i];
		struct lbl l = { f, false };
		uint64_t n = 0;
		bool first = true;
		char port[8], pid[16];

		for (size_t j = 0; j < i && first; j++)
			first = !(a->ports[j]->port == p->port && !strcmp(a->ports[j]->comm, p->comm) &&
				  (!px->o.pid_label || a->ports[j]->pid == p->pid));
		if (!first)
			continue;
		for (size_t j = i; j < a->nports; j++)
			if (a->ports[j]->port == p->port && !strcmp(a->ports[j]->comm, p->comm) &&
			    (!px->o.pid_label || a->ports[j]->pid == p->pid))
				n += a->ports[j]->unparsed_run;
		fputs("inferlat_http_unparsed_connections_total", f);
		if (p->comm[0])
			lbl_add(&l, "comm", p->comm);
		if (px->o.pid_label) {
			snprintf(pid, sizeof(pid), "%d", (int)p->pid);
			lbl_add(&l, "pid", pid);
		}
		snprintf(port, sizeof(port), "%u", p->port);
		lbl_add(&l, "server_port", port);
		for (size_t j = 0; j < px->o.nlabels; j++)
			lbl_add(&l, px->o.labels[j].key, px->o.labels[j].value);
		lbl_end(&l);
		fprintf(f, " %" PRIu64 "\n", n);
	}
}

int prom_write(const struct prom_exporter *px, FILE *f, double wall, uint64_t write_errors)
{
	struct lbl l = { f, false };
	uint64_t lost = 0;

	put_histograms(f, px);
	put_resources(f, px);
	put_processes(f, px);
	put_runtime(f, px);
	put_requests(f, px);
	if (px->http)
		put_http(f, px);
	put_probe_metrics(f, px);
	if (px->has_ratio) {
		family(f, "inferlat_overhead_ratio", "gauge",
		       "Estimated probe time per second of wall-clock time over the last window "
		       "(hits/s times the per-hit cost, all probes): 0.01 is 1% of one thread.");
		put_sample(f, px, "inferlat_overhead_ratio", NULL, NULL);
		put_double(f, px->overhead_ratio);
		fputc('\n', f);
	}
	for (size_t i = 0; i < px->ps->n; i++)
		lost += px->probes[i].lost;
	family(f, "inferlat_events_lost_total", "counter",
	       "Call events the ring buffer dropped; counts and histograms of single-process probes stay complete.");
	put_sample(f, px, "inferlat_events_lost_total", NULL, NULL);
	fprintf(f, "%" PRIu64 "\n", lost);
	if (px->has_bpf_memory) {
		family(f, "inferlat_bpf_memory_bytes", "gauge",
		       "Kernel memory inferlat's BPF maps, programs and per-thread call state hold.");
		put_sample(f, px, "inferlat_bpf_memory_bytes", NULL, NULL);
		fprintf(f, "%" PRIu64 "\n", px->bpf_memory_bytes);
	}
	if (px->o.anomalies)
		put_anomalies(f, px, px->o.anomalies);
	/* announced without --slo too: rules are written against the schema */
	if (px->o.slos) {
		family(f, "inferlat_slo_violations_total", "counter",
		       "Windows in which a probe broke the --slo check.");
		for (size_t i = 0; i < px->o.slos->n; i++) {
			struct lbl sl = { f, false };

			fputs("inferlat_slo_violations_total", f);
			lbl_add(&sl, "slo", px->o.slos->v[i].text);
			for (size_t j = 0; j < px->o.nlabels; j++)
				lbl_add(&sl, px->o.labels[j].key, px->o.labels[j].value);
			lbl_end(&sl);
			fprintf(f, " %" PRIu64 "\n", px->o.slos->violations[i]);
		}
	}
	family(f, "inferlat_textfile_write_errors_total", "counter",
	       "Writes of this file that failed (the previous file was kept).");
	put_sample(f, px, "inferlat_textfile_write_errors_total", NULL, NULL);
	fprintf(f, "%" PRIu64 "\n", write_errors);
	family(f, "inferlat_last_update_timestamp_seconds", "gauge",
	       "Unix time at which inferlat wrote these figures.");
	put_sample(f, px, "inferlat_last_update_timestamp_seconds", NULL, NULL);
	fprintf(f, "%.3f\n", wall);
	family(f, "inferlat_build_info", "gauge", "inferlat's version; always 1.");
	fputs("inferlat_build_info", f);
	put_labels(&l, px, NULL, NULL);
	lbl_add(&l, "version", px->o.version ? px->o.version : "unknown");
	lbl_end(&l);
	fputs(" 1\n", f);
	if (fflush(f) || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}
