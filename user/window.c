// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "window.h"

struct series {               /* one probe in one process */
	pid_t pid;
	struct proc_info *proc;
	struct hist win, run;
	uint64_t win_errors, run_errors;
	struct res_sum win_res, run_res;
	uint64_t win_unsplit, run_unsplit;
};

struct probe_agg {
	struct series **s;
	size_t n, cap;
	struct probe_stats kprev;      /* kernel counters at the last window */
	uint64_t *khist_prev;          /* kernel histogram at the last window */
	uint64_t run_lost;
	struct hist kwin;              /* scratch: a kernel window delta */
};

void report_clear(struct report *r)
{
	r->n = 0;
	r->nslo = 0;
}

void report_free(struct report *r)
{
	free(r->rows);
	free(r->slo);
	memset(r, 0, sizeof(*r));
}

struct row *report_add(struct report *r)
{
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 16;
		struct row *nv = realloc(r->rows, nc * sizeof(*nv));

		if (!nv)
			return NULL;
		r->rows = nv;
		r->cap = nc;
	}
	memset(&r->rows[r->n], 0, sizeof(struct row));
	return &r->rows[r->n++];
}

struct slo_eval *report_add_slo(struct report *r)
{
	if (r->nslo == r->capslo) {
		size_t nc = r->capslo ? r->capslo * 2 : 8;
		struct slo_eval *nv = realloc(r->slo, nc * sizeof(*nv));

		if (!nv)
			return NULL;
		r->slo = nv;
		r->capslo = nc;
	}
	memset(&r->slo[r->nslo], 0, sizeof(struct slo_eval));
	return &r->slo[r->nslo++];
}

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
	return agg_grow(a);
}

void agg_free(struct aggregator *a)
{
	for (size_t i = 0; a->probes && i < a->nprobes; i++) {
		for (size_t j = 0; j < a->probes[i].n; j++)
			free(a->probes[i].s[j]);
		free(a->probes[i].s);
		free(a->probes[i].khist_prev);
	}
	free(a->probes);
	memset(a, 0, sizeof(*a));
}

static struct series *series_get(struct aggregator *a, struct probe_agg *pa, pid_t pid, double now)
{
	struct series *s;

	for (size_t i = 0; i < pa->n; i++)
		if (pa->s[i]->pid == pid)
			return pa->s[i];
	if (pa->n == pa->cap) {
		size_t nc = pa->cap ? pa->cap * 2 : 4;
		struct series **nv = realloc(pa->s, nc * sizeof(*nv));

		if (!nv)
			return NULL;
		pa->s = nv;
		pa->cap = nc;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->pid = pid;
	hist_reset(&s->win);
	hist_reset(&s->run);
	s->proc = proctab_get(a->procs, pid, now);
	if (!s->proc) {
		free(s);
		return NULL;
	}
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
}

int agg_add(struct aggregator *a, const struct call_event *e, double now)
{
	struct res_sum r = {
		.oncpu_ns = e->res.oncpu_ns, .offcpu_ns = e->res.offcpu_ns, .runq_ns = e->res.runq_ns,
		.minflt = e->res.minflt, .majflt = e->res.majflt,
		.nvcsw = e->res.nvcsw, .nivcsw = e->res.nivcsw,
	};
	struct series *s;

	if (e->probe_id >= a->nprobes)
		return -EINVAL;
	s = series_get(a, &a->probes[e->probe_id], (pid_t)e->pid, now);
	if (!s)
		return -ENOMEM;
	hist_add(&s->win, e->duration_ns);
	if (e->flags & INFERLAT_CALL_ERROR)
		s->win_errors++;
	res_add(&s->win_res, &r);
	if (e->flags & INFERLAT_CALL_NO_SPLIT)
		s->win_unsplit++;
	return 0;
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

static void fill_row(struct row *r, const struct probe *p, const struct series *s,
		     const struct hist *h, uint64_t errors, const struct res_sum *res, double span)
{
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
	d->unsplit = cur.unsplit - pa->kprev.unsplit;
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

static int window_rows(struct aggregator *a, uint32_t id, double span, struct report *r)
{
	const struct probe *p = &a->ps->v[id];
	struct probe_agg *pa = &a->probes[id];
	struct probe_stats d = { 0 };
	size_t active = 0;
	struct series *only = NULL;
	bool hist_ok, kernel_rows;
	int err;

	err = kernel_window(a, id, &d, &hist_ok);
	if (err)
		return err;
	pa->run_lost += d.rb_drops;
	for (size_t i = 0; i < pa->n; i++)
		if (pa->s[i]->win.count) {
			active++;
			only = pa->s[i];
		}
	/*
	 * Once events were dropped, every later window of a single series comes
	 * from the kernel too: an event read a window late would otherwise be
	 * counted again on top of the kernel's window that already held its call.
	 */
	kernel_rows = pa->run_lost && hist_ok && active <= 1 && (only || pa->n == 1);
	if (kernel_rows) {
		struct series *s = only ? only : pa->s[0];

		s->win = pa->kwin;
		s->win_errors = d.errors;
		s->win_res = (struct res_sum){
			.oncpu_ns = d.oncpu_ns, .offcpu_ns = d.offcpu_ns, .runq_ns = d.runq_ns,
			.minflt = d.minflt, .majflt = d.majflt, .nvcsw = d.nvcsw, .nivcsw = d.nivcsw,
		};
		s->win_unsplit = d.unsplit;
	}
	if (!pa->n) {
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
		row->exemplars = d.exemplars;
		row->exemplar_drops = d.exemplar_drops;
	}
	for (size_t i = 0; i < pa->n; i++) {
		struct series *s = pa->s[i];
		struct row *row;

		/* a process whose exit was reported has no more windows */
		if (!s->proc->dropped) {
			row = report_add(r);
			if (!row)
				return -ENOMEM;
			fill_row(row, p, s, &s->win, s->win_errors, &s->win_res, span);
			row->unsplit = s->win_unsplit;
			row->lost = d.rb_drops;
			row->untimed = d.depth_drops + d.state_drops;
			row->from_kernel = kernel_rows;
			row->exemplars = d.exemplars;
			row->exemplar_drops = d.exemplar_drops;
		}
		hist_merge(&s->run, &s->win);
		s->run_errors += s->win_errors;
		res_add(&s->run_res, &s->win_res);
		s->run_unsplit += s->win_unsplit;
		s->win_unsplit = 0;
		hist_reset(&s->win);
		s->win_errors = 0;
		memset(&s->win_res, 0, sizeof(s->win_res));
	}
	return 0;
}

static int final_rows(struct aggregator *a, uint32_t id, double span, struct report *r)
{
	const struct probe *p = &a->ps->v[id];
	struct probe_agg *pa = &a->probes[id];

	if (!pa->n) {
		struct row *row = report_add(r);

		if (!row)
			return -ENOMEM;
		fill_row(row, p, NULL, NULL, 0, NULL, span);
		row->lost = pa->run_lost;
		row->untimed = pa->kprev.depth_drops + pa->kprev.state_drops;
		row->exemplars = pa->kprev.exemplars;
		row->exemplar_drops = pa->kprev.exemplar_drops;
		return 0;
	}
	if (pa->run_lost && pa->n == 1) {
		/* the kernel's own totals since attach: exact whatever was dropped
		 * or read a window late */
		struct series *s = pa->s[0];

		hist_from_buckets(&s->run, pa->khist_prev, pa->kprev.sum_ns);
		s->run_errors = pa->kprev.errors;
		s->run_res = (struct res_sum){
			.oncpu_ns = pa->kprev.oncpu_ns, .offcpu_ns = pa->kprev.offcpu_ns,
			.runq_ns = pa->kprev.runq_ns, .minflt = pa->kprev.minflt,
			.majflt = pa->kprev.majflt, .nvcsw = pa->kprev.nvcsw, .nivcsw = pa->kprev.nivcsw,
		};
		s->run_unsplit = pa->kprev.unsplit;
	}
	for (size_t i = 0; i < pa->n; i++) {
		struct series *s = pa->s[i];
		struct row *row = report_add(r);

		if (!row)
			return -ENOMEM;
		fill_row(row, p, s, &s->run, s->run_errors, &s->run_res, span);
		row->unsplit = s->run_unsplit;
		row->lost = pa->run_lost;
		row->untimed = pa->kprev.depth_drops + pa->kprev.state_drops;
		row->from_kernel = pa->run_lost > 0;
		row->exemplars = pa->kprev.exemplars;
		row->exemplar_drops = pa->kprev.exemplar_drops;
	}
	return 0;
}

int agg_report(struct aggregator *a, double now, double wall, bool final, struct report *r)
{
	int err = 0;

	report_clear(r);
	r->ts = wall;
	r->final = final;
	if (!final) {
		r->span_s = now - a->win_start;
		proctab_window(a->procs, now);
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
			struct agg_run_view v = {
				.probe_id = id, .pid = s->pid,
				.comm = s->proc->has_comm ? s->proc->comm : NULL,
				.run = &s->run, .errors = s->run_errors, .res = &s->run_res, .proc = s->proc,
				.unsplit = s->run_unsplit,
			};
			int err = fn(ctx, &v);

			if (err)
				return err;
		}
	}
	return 0;
}
