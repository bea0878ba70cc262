// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "grow.h"
#include "anomaly.h"
#include "inferlat.h"

struct anomaly_series {
	uint32_t probe_id;
	pid_t pid;
	double p99[ANOMALY_HISTORY], err[ANOMALY_HISTORY];
	size_t n, next;
};

void anomaly_init(struct anomaly_detector *d)
{
	memset(d, 0, sizeof(*d));
}

void anomaly_free(struct anomaly_detector *d)
{
	free(d->v);
	free(d->p99_count);
	free(d->err_count);
	memset(d, 0, sizeof(*d));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void anomaly_rule(const double *hist, size_t n, double value, double floor_abs, double floor_rel,
		  struct anomaly_flag *f)
{
	double tmp[ANOMALY_HISTORY], m, mad, band;

	memset(f, 0, sizeof(*f));
	if (n < ANOMALY_MIN_HISTORY || n > ANOMALY_HISTORY)
		return;
	memcpy(tmp, hist, n * sizeof(*tmp));
	m = median(tmp, n);
	for (size_t i = 0; i < n; i++)
		tmp[i] = hist[i] > m ? hist[i] - m : m - hist[i];
	mad = median(tmp, n);
	band = 3 * 1.4826 * mad;
	if (band < floor_abs)
		band = floor_abs;
	if (band < floor_rel * m)
		band = floor_rel * m;
	f->value = value;
	f->median = m;
	f->threshold = m + band;
	f->on = value > f->threshold;
}

static struct anomaly_series *series_get(struct anomaly_detector *d, uint32_t id, pid_t pid)
{
	struct anomaly_series *s;

	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].probe_id == id && d->v[i].pid == pid)
			return &d->v[i];
	if (GROW(d->v, d->n, d->cap, 8))
		return NULL;
	s = &d->v[d->n++];
	memset(s, 0, sizeof(*s));
	s->probe_id = id;
	s->pid = pid;
	return s;
}

static int grow_counts(struct anomaly_detector *d, uint32_t id)
{
	size_t n = id + 1;
	uint64_t *a, *b;

	if (n <= d->nprobes)
		return 0;
	a = realloc(d->p99_count, n * sizeof(*a));
	if (!a)
		return -ENOMEM;
	d->p99_count = a;
	b = realloc(d->err_count, n * sizeof(*b));
	if (!b)
		return -ENOMEM;
	d->err_count = b;
	memset(a + d->nprobes, 0, (n - d->nprobes) * sizeof(*a));
	memset(b + d->nprobes, 0, (n - d->nprobes) * sizeof(*b));
	d->nprobes = n;
	return 0;
}

int anomaly_judge(struct anomaly_detector *d, struct report *r)
{
	if (r->final)
		return 0;
	for (size_t i = 0; i < r->n; i++) {
		struct row *w = &r->rows[i];
		struct anomaly_series *s;
		double rate;

		memset(&w->anomaly, 0, sizeof(w->anomaly));
		if (grow_counts(d, w->probe->id))
			return -ENOMEM;
		if (w->calls < ANOMALY_MIN_CALLS || !w->pid)
			continue;
		s = series_get(d, w->probe->id, w->pid);
		if (!s)
			return -ENOMEM;
		rate = (double)w->errors / (double)w->calls;
		anomaly_rule(s->p99, s->n, w->lat.p99, 0, ANOMALY_P99_FLOOR, &w->anomaly.p99);
		if (w->probe->err_kind != INFERLAT_ERR_NONE) {
			anomaly_rule(s->err, s->n, rate, ANOMALY_ERR_FLOOR, 0, &w->anomaly.errors);
			if (w->errors < ANOMALY_ERR_MIN)
				w->anomaly.errors.on = false;
		}
		d->p99_count[w->probe->id] += w->anomaly.p99.on;
		d->err_count[w->probe->id] += w->anomaly.errors.on;
		/* the oldest window makes room */
		s->p99[s->next] = w->lat.p99;
		s->err[s->next] = rate;
		s->next = (s->next + 1) % ANOMALY_HISTORY;
		if (s->n < ANOMALY_HISTORY)
			s->n++;
	}
	return 0;
}
