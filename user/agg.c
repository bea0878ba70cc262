// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "grow.h"
#include "agg.h"

struct series {               /* one probe in one process */
	pid_t pid;
	struct proc_info *proc;
	/* two full histograms (~30 KiB each): a process whose exit was reported
	 * keeps only its run's figures (summary), so a server that forks and
	 * reaps workers all day does not grow the aggregator by 60 KiB each */
	struct hist *win, *run;
	uint64_t win_errors, run_errors;
	struct res_sum win_res, run_res;
	uint64_t win_unsplit, run_unsplit;
	struct arg_sum win_args, run_args;
	bool compact;                 /* exited: win and run freed, summary kept */
	uint64_t run_count;           /* the summary: calls and their latency */
	struct latency run_lat;
};

struct probe_agg {
	struct series **s;
	size_t n, cap;
	struct probe_stats kprev;      /* kernel counters at the last window */
	uint64_t *khist_prev;          /* kernel histogram at the last window */
	uint64_t run_lost;
	struct hist kwin;              /* scratch: a kernel window delta */
	/* whole-run figures of the processes compacted after their exit, merged:
	 * a baseline keeps their calls once their own histograms are gone */
	struct hist *gone;
	uint64_t gone_errors, gone_unsplit;
	struct res_sum gone_res;
};

int agg_grow(struct aggregator *a)
{
	struct probe_agg *nv;

	if (a->ps->n <= a->nprobes)
		return 0;
	nv = realloc(a->probes, a->ps->n * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	a->probes = nv;
	memset(&a->probes[a->nprobes], 0, (a->ps->n - a->nprobes) * sizeof(*nv));
	for (; a->nprobes < a->ps->n; a->nprobes++) {
		a->probes[a->nprobes].khist_prev = calloc(INFERLAT_HIST_BUCKETS, sizeof(uint64_t));
		if (!a->probes[a->nprobes].khist_prev)
			return -ENOMEM;
	}
	return 0;
}

int agg_init(struct aggregator *a, const struct probe_set *ps, struct kstats *k,
	     struct proctab *procs, double now)
{
	memset(a, 0, sizeof(*a));
	a->ps = ps;
	a->k = k;
	a->procs = procs;
	a->win_start = a->run_start = now;
	seqtab_init(&a->seqs);
	return agg_grow(a);
}

static void series_free(struct series *s)
{
	free(s->win);
	free(s->run);
	free(s);
}

void agg_free(struct aggregator *a)
{
	for (size_t i = 0; a->probes && i < a->nprobes; i++) {
		for (size_t j = 0; j < a->probes[i].n; j++)
			series_free(a->probes[i].s[j]);
		free(a->probes[i].s);
		free(a->probes[i].khist_prev);
		free(a->probes[i].gone);
	}
	free(a->probes);
	gpumem_free_all(&a->gpu);
	seqtab_free(&a->seqs);
	memset(a, 0, sizeof(*a));
}

static struct series *series_get(struct aggregator *a, struct probe_agg *pa, pid_t pid, double now)
{
	struct series *s;

	/* a compact series is a process that exited: a reused PID is a new one */
	for (size_t i = 0; i < pa->n; i++)
		if (pa->s[i]->pid == pid && !pa->s[i]->compact)
			return pa->s[i];
	if (GROW(pa->s, pa->n, pa->cap, 4))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->pid = pid;
	s->win = malloc(sizeof(*s->win));
	s->run = malloc(sizeof(*s->run));
	s->proc = s->win && s->run ? proctab_get(a->procs, pid, now) : NULL;
	if (!s->proc) {
		series_free(s);
		return NULL;
	}
	hist_reset(s->win);
	hist_reset(s->run);
	pa->s[pa->n++] = s;
	return s;
}

static void res_add(struct res_sum *d, const struct res_sum *s)
{
	d->oncpu_ns += s->oncpu_ns;
	d->offcpu_ns += s->offcpu_ns;
	d->runq_ns += s->runq_ns;
	d->minflt += s->minflt;
	d->majflt += s->majflt;
	d->nvcsw += s->nvcsw;
	d->nivcsw += s->nivcsw;
	d->pool_calls += s->pool_calls;
	d->pool_ns += s->pool_ns;
	d->pool_cpu_ns += s->pool_cpu_ns;
}

static void arg_add(struct arg_sum *d, const struct arg_sum *s)
{
	d->prompt_batches += s->prompt_batches;
	d->prompt_tokens += s->prompt_tokens;
	d->prompt_ns += s->prompt_ns;
	d->gen_batches += s->gen_batches;
	d->gen_ns += s->gen_ns;
	d->bytes += s->bytes;
	d->ops += s->ops;
	d->unknown_frees += s->unknown_frees;
	d->faults += s->faults;
}

/* What the call's decoded arguments add up to. A failed call (its error
 * predicate) processed nothing and allocated nothing. */
static int decode_args(struct aggregator *a, const struct probe *p, const struct call_event *e,
		       struct arg_sum *d)
{
	uint64_t size;
	int32_t n;

	if (p->decode.measure == MEASURE_NONE)
		return 0;
	if (e->flags & INFERLAT_CALL_ERROR)
		return 0;   /* its out parameters mean nothing (and may not be readable) */
	if (e->flags & INFERLAT_CALL_ARG_FAULT) {
		d->faults++;
		return 0;
	}
	switch (p->decode.measure) {
	case MEASURE_TOKENS:
		n = (int32_t)e->args[0];
		if (n > 1) {
			d->prompt_batches++;
			d->prompt_tokens += (uint64_t)n;
			d->prompt_ns += e->duration_ns;
		} else if (n == 1) {
			d->gen_batches++;
			d->gen_ns += e->duration_ns;
		}
		break;
	case MEASURE_BYTES:
		d->bytes += e->args[0];
		break;
	case MEASURE_ALLOC:
		d->ops++;
		d->bytes += e->args[0];
		return gpumem_alloc(&a->gpu, (pid_t)e->pid, e->args[1], e->args[0]);
	case MEASURE_FREE:
		if (!e->args[0])
			break;   /* free(NULL) */
		if (gpumem_free(&a->gpu, (pid_t)e->pid, e->args[0], &size)) {
			d->unknown_frees++;
			break;
		}
		d->ops++;
		d->bytes += size;
		break;
	}
	return 0;
}

int agg_add(struct aggregator *a, const struct call_event *e, double now)
{
	struct res_sum r = {
		.oncpu_ns = e->res.oncpu_ns, .offcpu_ns = e->res.offcpu_ns, .runq_ns = e->res.runq_ns,
		.minflt = e->res.minflt, .majflt = e->res.majflt,
		.nvcsw = e->res.nvcsw, .nivcsw = e->res.nivcsw,
	};
	struct series *s;

	if (e->flags & INFERLAT_CALL_POOL) {
		r.pool_calls = 1;
		r.pool_ns = e->duration_ns;
		r.pool_cpu_ns = e->res.proc_cpu_ns;
	}

	if (e->probe_id >= a->nprobes)
		return -EINVAL;
	s = series_get(a, &a->probes[e->probe_id], (pid_t)e->pid, now);
	if (!s)
		return -ENOMEM;
	hist_add(s->win, e->duration_ns);
	if (e->flags & INFERLAT_CALL_ERROR)
		s->win_errors++;
	res_add(&s->win_res, &r);
	if (e->flags & INFERLAT_CALL_NO_SPLIT)
		s->win_unsplit++;
	return decode_args(a, &a->ps->v[e->probe_id], e, &s->win_args);
}

void agg_latency(const struct hist *h, struct latency *lat)
{
	lat->mean = h->count ? (double)h->sum_ns / (double)h->count / 1e9 : 0;
	lat->min = h->count ? (double)h->min_ns / 1e9 : 0;
	lat->max = (double)h->max_ns / 1e9;
	lat->p50 = hist_quantile_ns(h, 0.50) / 1e9;
	lat->p90 = hist_quantile_ns(h, 0.90) / 1e9;
	lat->p99 = hist_quantile_ns(h, 0.99) / 1e9;
	lat->p999 = hist_quantile_ns(h, 0.999) / 1e9;
}

static void fill_gpu(struct row *r, const struct aggregator *a)
{
	const struct gpuproc *g;

	if (r->probe->decode.measure != MEASURE_ALLOC && r->probe->decode.measure != MEASURE_FREE)
		return;
	g = gpumem_get(&a->gpu, r->pid);
	r->has_gpu = true;
	r->gpu_live = g ? g->live : 0;
	r->gpu_peak = g ? g->peak : 0;
}

static void fill_row(struct row *r, const struct probe *p, const struct series *s,
		     const struct hist *h, uint64_t errors, const struct res_sum *res, double span)
{
	if (s && s->compact) {
		/* whole-run figures of an exited process, kept as a summary */
		fill_row(r, p, NULL, NULL, errors, res, span);
		r->pid = s->pid;
		r->proc = s->proc;
		r->comm = s->proc->has_comm ? s->proc->comm : NULL;
		r->calls = s->run_count;
		r->rps = span > 0 ? (double)r->calls / span : 0;
		r->has_latency = r->calls > 0;
		r->lat = s->run_lat;
		return;
	}
	r->probe = p;
	if (s) {
		r->pid = s->pid;
		r->proc = s->proc;
		r->comm = s->proc->has_comm ? s->proc->comm : NULL;
	}
	if (res)
		r->res = *res;
	r->calls = h ? h->count : 0;
	r->errors = errors;
	r->rps = span > 0 ? (double)r->calls / span : 0;
	r->has_latency = r->calls > 0;
	if (r->has_latency)
		agg_latency(h, &r->lat);
}

/* Read the probe's kernel state; window delta into pa->kwin and *d. */
static int kernel_window(struct aggregator *a, uint32_t id, struct probe_stats *d, bool *hist_ok)
{
	struct probe_agg *pa = &a->probes[id];
	struct probe_stats cur;
	uint64_t *buckets;
	int err;

	*hist_ok = false;
	err = kstats_read(a->k, id, &cur);
	if (err)
		return err;
	d->calls = cur.calls - pa->kprev.calls;
	d->sum_ns = cur.sum_ns - pa->kprev.sum_ns;
	d->errors = cur.errors - pa->kprev.errors;
	d->rb_drops = cur.rb_drops - pa->kprev.rb_drops;
	d->depth_drops = cur.depth_drops - pa->kprev.depth_drops;
	d->state_drops = cur.state_drops - pa->kprev.state_drops;
	d->oncpu_ns = cur.oncpu_ns - pa->kprev.oncpu_ns;
	d->offcpu_ns = cur.offcpu_ns - pa->kprev.offcpu_ns;
	d->runq_ns = cur.runq_ns - pa->kprev.runq_ns;
	d->minflt = cur.minflt - pa->kprev.minflt;
	d->majflt = cur.majflt - pa->kprev.majflt;
	d->nvcsw = cur.nvcsw - pa->kprev.nvcsw;
	d->nivcsw = cur.nivcsw - pa->kprev.nivcsw;
	d->pool_calls = cur.pool_calls - pa->kprev.pool_calls;
	d->pool_ns = cur.pool_ns - pa->kprev.pool_ns;
	d->pool_cpu_ns = cur.pool_cpu_ns - pa->kprev.pool_cpu_ns;
	d->unsplit = cur.unsplit - pa->kprev.unsplit;
	d->thread_full = cur.thread_full - pa->kprev.thread_full;
	d->exemplars = cur.exemplars - pa->kprev.exemplars;
	d->exemplar_drops = cur.exemplar_drops - pa->kprev.exemplar_drops;
	pa->kprev = cur;
	if (!d->calls) {
		hist_reset(&pa->kwin);
		*hist_ok = true;
		return 0;
	}
	/* the histogram is read every active window so that a window that
	 * loses events has a baseline to subtract */
	buckets = malloc(INFERLAT_HIST_BUCKETS * sizeof(*buckets));
	if (!buckets)
		return -ENOMEM;
	err = kstats_read_hist(a->k, id, buckets);
	if (!err) {
		uint64_t *delta = malloc(INFERLAT_HIST_BUCKETS * sizeof(*delta));

		if (!delta) {
			free(buckets);
			return -ENOMEM;
		}
		for (size_t i = 0; i < INFERLAT_HIST_BUCKETS; i++)
			delta[i] = buckets[i] - pa->khist_prev[i];
		hist_from_buckets(&pa->kwin, delta, d->sum_ns);
		memcpy(pa->khist_prev, buckets, INFERLAT_HIST_BUCKETS * sizeof(*buckets));
		free(delta);
		*hist_ok = true;
	}
	free(buckets);
	return err;
}

/* Keep only the run's figures of a process whose exit was reported. */
static int compact(struct probe_agg *pa, struct series *s)
{
	if (!pa->gone) {
		pa->gone = malloc(sizeof(*pa->gone));
		if (!pa->gone)
			return -ENOMEM;
		hist_reset(pa->gone);
	}
	/* a call read after the process's last row still counts for the run */
	hist_merge(s->run, s->win);
	s->run_errors += s->win_errors;
	res_add(&s->run_res, &s->win_res);
	s->run_unsplit += s->win_unsplit;
	hist_merge(pa->gone, s->run);
	pa->gone_errors += s->run_errors;
	pa->gone_unsplit += s->run_unsplit;
	res_add(&pa->gone_res, &s->run_res);
	s->run_count = s->run->count;
	if (s->run_count)
		agg_latency(s->run, &s->run_lat);
	free(s->run);
	free(s->win);
	s->run = s->win = NULL;
	s->compact = true;
	return 0;
}

static int window_rows(struct aggregator *a, uint32_t id, double span, struct report *r)
{
	const struct probe *p = &a->ps->v[id];
	struct probe_agg *pa = &a->probes[id];
	struct probe_stats d = { 0 };
	size_t active = 0;
	struct series *only = NULL;
	bool hist_ok, kernel_rows, kernel_only = probe_kernel_only(a->ps, p);
	int err;

	err = kernel_window(a, id, &d, &hist_ok);
	if (err)
		return err;
	pa->run_lost += d.rb_drops;
	/* no events: the one process's series starts with its first calls */
	if (kernel_only && d.calls && !pa->n &&
	    !series_get(a, pa, a->ps->kernel_pid, a->win_start))
		return -ENOMEM;
	/* exits reported in the last window: every exporter has their figures */
	for (size_t i = 0; i < pa->n; i++)
		if (pa->s[i]->proc->dropped && !pa->s[i]->compact && (err = compact(pa, pa->s[i])))
			return err;
	for (size_t i = 0; i < pa->n; i++)
		if (!pa->s[i]->compact && pa->s[i]->win->count) {
			active++;
			only = pa->s[i];
		}
	/*
	 * Once events were dropped, every later window of a single series comes
	 * from the kernel too: an event read a window late would otherwise be
	 * counted again on top of the kernel's window that already held its call.
	 */
	kernel_rows = (pa->run_lost || kernel_only) && hist_ok && active <= 1 &&
		      (only || (pa->n == 1 && !pa->s[0]->compact));
	if (kernel_rows) {
		struct series *s = only ? only : pa->s[0];

		*s->win = pa->kwin;
		s->win_errors = d.errors;
		s->win_res = (struct res_sum){
			.oncpu_ns = d.oncpu_ns, .offcpu_ns = d.offcpu_ns, .runq_ns = d.runq_ns,
			.minflt = d.minflt, .majflt = d.majflt, .nvcsw = d.nvcsw, .nivcsw = d.nivcsw,
			.pool_calls = d.pool_calls, .pool_ns = d.pool_ns, .pool_cpu_ns = d.pool_cpu_ns,
		};
		s->win_unsplit = d.unsplit;
	}
	if (!pa->n && !p->op) {
		struct row *row = report_add(r);

		if (!row)
			return -ENOMEM;
		fill_row(row, p, NULL, NULL, 0, NULL, span);
		/* not called yet: with a single target, still say whose it is */
		if (a->procs->n == 1 && !a->procs->v[0]->dropped) {
			row->proc = a->procs->v[0];
			row->pid = row->proc->pid;
			row->comm = row->proc->has_comm ? row->proc->comm : NULL;
		}
		row->lost = d.rb_drops;
		row->untimed = d.depth_drops + d.state_drops;
		row->thread_full = d.thread_full;
		row->exemplars = d.exemplars;
		row->exemplar_drops = d.exemplar_drops;
	}
	for (size_t i = 0; i < pa->n; i++) {
		struct series *s = pa->s[i];
		struct row *row;

		if (s->compact)
			continue;
		/* a process whose exit was reported has no more windows; an
		 * operator (--ops) only where it was called */
		if (!s->proc->dropped && !(p->op && !s->win->count)) {
			row = report_add(r);
			if (!row)
				return -ENOMEM;
			fill_row(row, p, s, s->win, s->win_errors, &s->win_res, span);
			row->args = s->win_args;
			fill_gpu(row, a);
			row->unsplit = s->win_unsplit;
			row->lost = d.rb_drops;
			row->untimed = d.depth_drops + d.state_drops;
			row->thread_full = d.thread_full;
			row->from_kernel = kernel_rows;
			row->exemplars = d.exemplars;
			row->exemplar_drops = d.exemplar_drops;
		}
		hist_merge(s->run, s->win);
		s->run_errors += s->win_errors;
		res_add(&s->run_res, &s->win_res);
		s->run_unsplit += s->win_unsplit;
		s->win_unsplit = 0;
		arg_add(&s->run_args, &s->win_args);
		memset(&s->win_args, 0, sizeof(s->win_args));
		hist_reset(s->win);
		s->win_errors = 0;
		memset(&s->win_res, 0, sizeof(s->win_res));
	}
	return 0;
}

static int final_rows(struct aggregator *a, uint32_t id, double span, struct report *r)
{
	const struct probe *p = &a->ps->v[id];
	struct probe_agg *pa = &a->probes[id];

	if (!pa->n && p->op)
		return 0;
	if (!pa->n) {
		struct row *row = report_add(r);

		if (!row)
			return -ENOMEM;
		fill_row(row, p, NULL, NULL, 0, NULL, span);
		row->lost = pa->run_lost;
		row->untimed = pa->kprev.depth_drops + pa->kprev.state_drops;
		row->thread_full = pa->kprev.thread_full;
		row->exemplars = pa->kprev.exemplars;
		row->exemplar_drops = pa->kprev.exemplar_drops;
		return 0;
	}
	if ((pa->run_lost || probe_kernel_only(a->ps, p)) && pa->n == 1) {
		/* the kernel's own totals since attach: exact whatever was dropped
		 * or read a window late */
		struct series *s = pa->s[0];

		if (s->compact) {
			s->run = malloc(sizeof(*s->run));
			if (!s->run)
				return -ENOMEM;
			s->compact = false;
			/* what its exit merged into the exited processes' figures is
			 * the kernel's totals now: counted once */
			if (pa->gone)
				hist_reset(pa->gone);
			pa->gone_errors = pa->gone_unsplit = 0;
			memset(&pa->gone_res, 0, sizeof(pa->gone_res));
		}
		hist_from_buckets(s->run, pa->khist_prev, pa->kprev.sum_ns);
		s->run_errors = pa->kprev.errors;
		s->run_res = (struct res_sum){
			.oncpu_ns = pa->kprev.oncpu_ns, .offcpu_ns = pa->kprev.offcpu_ns,
			.runq_ns = pa->kprev.runq_ns, .minflt = pa->kprev.minflt,
			.majflt = pa->kprev.majflt, .nvcsw = pa->kprev.nvcsw, .nivcsw = pa->kprev.nivcsw,
			.pool_calls = pa->kprev.pool_calls, .pool_ns = pa->kprev.pool_ns,
			.pool_cpu_ns = pa->kprev.pool_cpu_ns,
		};
		s->run_unsplit = pa->kprev.unsplit;
	}
	for (size_t i = 0; i < pa->n; i++) {
		struct series *s = pa->s[i];
		struct row *row = report_add(r);

		if (!row)
			return -ENOMEM;
		fill_row(row, p, s, s->run, s->run_errors, &s->run_res, span);
		row->args = s->run_args;
		fill_gpu(row, a);
		row->unsplit = s->run_unsplit;
		row->lost = pa->run_lost;
		row->untimed = pa->kprev.depth_drops + pa->kprev.state_drops;
		row->thread_full = pa->kprev.thread_full;
		/* the kernel's totals are per probe: only a single series' run is theirs */
		row->from_kernel = (pa->run_lost > 0 || probe_kernel_only(a->ps, p)) && pa->n == 1;
		row->exemplars = pa->kprev.exemplars;
		row->exemplar_drops = pa->kprev.exemplar_drops;
	}
	return 0;
}

void agg_run_over(struct aggregator *a)
{
	seqtab_end(&a->seqs, 0);
}

int agg_add_seq(struct aggregator *a, const struct seq_event *e)
{
	return seqtab_event(&a->seqs, e);
}

/* Requests of the process whose llama_decode a row is. */
static void fill_requests(const struct aggregator *a, struct report *r, bool final)
{
	for (size_t i = 0; i < r->n; i++) {
		struct row *w = &r->rows[i];

		if (w->probe && w->probe->decode.measure == MEASURE_TOKENS && w->pid)
			w->req = seqtab_sum(&a->seqs, w->pid, final);
	}
}

void agg_sample(struct aggregator *a, double now)
{
	proctab_window(a->procs, now);
}

int agg_report(struct aggregator *a, double now, double wall, bool final, struct report *r)
{
	int err = 0;

	report_clear(r);
	if (final)
		seqtab_window(&a->seqs, (uint64_t)(now * 1e9), true);
	r->ts = wall;
	r->final = final;
	if (!final) {
		r->span_s = now - a->win_start;
		for (size_t i = 0; i < a->procs->n; i++)
			if (a->procs->v[i]->exited && !a->procs->v[i]->dropped)
				seqtab_end(&a->seqs, a->procs->v[i]->pid);
		seqtab_window(&a->seqs, (uint64_t)(now * 1e9), false);
		for (uint32_t id = 0; id < a->nprobes && !err; id++)
			err = window_rows(a, id, r->span_s, r);
		/* an exit is reported in one window, then the process is dropped */
		for (size_t i = 0; i < a->procs->n; i++)
			if (a->procs->v[i]->exited)
				a->procs->v[i]->dropped = true;
		a->win_start = now;
	} else {
		r->span_s = now - a->run_start;
		for (uint32_t id = 0; id < a->nprobes && !err; id++)
			err = final_rows(a, id, r->span_s, r);
	}
	fill_requests(a, r, final);
	return err;
}

const uint64_t *agg_kernel_buckets(const struct aggregator *a, uint32_t id)
{
	return id < a->nprobes ? a->probes[id].khist_prev : NULL;
}

int agg_foreach_run(const struct aggregator *a,
		    int (*fn)(void *ctx, const struct agg_run_view *v), void *ctx)
{
	for (uint32_t id = 0; id < a->ps->n; id++) {
		const struct probe_agg *pa = &a->probes[id];

		for (size_t i = 0; i < pa->n; i++) {
			const struct series *s = pa->s[i];
			struct agg_run_view v;
			int err;

			if (s->compact)
				continue;   /* its figures were taken in before its exit was reported */
			v = (struct agg_run_view){
				.probe_id = id, .pid = s->pid,
				.comm = s->proc->has_comm ? s->proc->comm : NULL,
				.run = s->run, .errors = s->run_errors, .res = &s->run_res, .proc = s->proc,
				.args = &s->run_args, .unsplit = s->run_unsplit,
			};
			if (a->ps->v[id].decode.measure == MEASURE_TOKENS)
				v.req = seqtab_sum(&a->seqs, s->pid, true);
			err = fn(ctx, &v);
			if (err)
				return err;
		}
	}
	return 0;
}

int agg_foreach_exited(const struct aggregator *a,
		       int (*fn)(void *ctx, const struct agg_run_view *v), void *ctx)
{
	for (uint32_t id = 0; id < a->ps->n; id++) {
		const struct probe_agg *pa = &a->probes[id];
		struct agg_run_view v = {
			.probe_id = id, .run = pa->gone, .errors = pa->gone_errors,
			.res = &pa->gone_res, .unsplit = pa->gone_unsplit,
		};
		int err;

		if (!pa->gone)
			continue;
		err = fn(ctx, &v);
		if (err)
			return err;
	}
	return 0;
}
