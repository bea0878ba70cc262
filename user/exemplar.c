// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "exemplar.h"

void exemplars_init(struct exemplars *x, const struct probe_set *ps, FILE *json,
		    exemplar_write_fn *write, const char *debug_root)
{
	memset(x, 0, sizeof(*x));
	x->ps = ps;
	x->json = json;
	x->write = write;
	symbolizer_init(&x->sym, debug_root);
}

static void exemplar_free(struct exemplar *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nframes; i++)
		symbolize_frame_free(&e->frames[i]);
	free(e);
}

/* Keep e among the n slowest of v (slowest first); a full list drops its
 * last one. */
static void rank(struct exemplar **v, size_t *n, struct exemplar *e)
{
	size_t i = *n;

	if (*n == EXEMPLAR_TOP && v[EXEMPLAR_TOP - 1]->call.duration_ns >= e->call.duration_ns)
		return;
	if (*n == EXEMPLAR_TOP)
		i = EXEMPLAR_TOP - 1;
	else
		(*n)++;
	while (i > 0 && v[i - 1]->call.duration_ns < e->call.duration_ns) {
		v[i] = v[i - 1];
		i--;
	}
	v[i] = e;
}

static bool listed(struct exemplar *const *v, size_t n, const struct exemplar *e)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == e)
			return true;
	return false;
}

/* An exemplar can be in both lists; free the candidates in neither, once. */
static void drop_unlisted(struct exemplars *x, struct exemplar **cands, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (cands[i] && !listed(x->win, x->nwin, cands[i]) && !listed(x->run, x->nrun, cands[i]) &&
		    !listed(cands, i, cands[i]))
			exemplar_free(cands[i]);
}

int exemplars_add(struct exemplars *x, const struct exemplar_event *ev, double wall)
{
	struct exemplar *e, *out[3] = { 0 };
	size_t n;
	int err = 0;

	if (ev->call.probe_id >= x->ps->n)
		return 0;   /* calibration functions */
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->call = ev->call;
	e->slow_ns = ev->slow_ns;
	e->ts = wall;
	n = ev->nframes < INFERLAT_STACK_FRAMES ? ev->nframes : INFERLAT_STACK_FRAMES;
	for (size_t i = 0; i < n && !err; i++) {
		/* every frame of a stack taken at a return is a return address */
		err = symbolize(&x->sym, (pid_t)ev->call.pid, ev->ips[i], true, &e->frames[i]);
		e->nframes = i + 1;
	}
	if (!err && x->json)
		err = x->write(x->json, &x->ps->v[e->call.probe_id], e);
	x->received++;
	if (err) {
		exemplar_free(e);
		return err;
	}
	/* the ones pushed out of a full list, then e itself if it made neither */
	if (x->nwin == EXEMPLAR_TOP)
		out[0] = x->win[EXEMPLAR_TOP - 1];
	if (x->nrun == EXEMPLAR_TOP)
		out[1] = x->run[EXEMPLAR_TOP - 1];
	out[2] = e;
	rank(x->win, &x->nwin, e);
	rank(x->run, &x->nrun, e);
	drop_unlisted(x, out, 3);
	return 0;
}

void exemplars_window_done(struct exemplars *x)
{
	struct exemplar *v[EXEMPLAR_TOP];
	size_t n = x->nwin;

	memcpy(v, x->win, n * sizeof(*v));
	x->nwin = 0;
	drop_unlisted(x, v, n);
}

static int on_exemplar(void *ctx, void *data, size_t size)
{
	struct exemplars *x = ctx;
	struct timespec ts;
	int err;

	if (size < sizeof(struct exemplar_event))
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	err = exemplars_add(x, data, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
	if (err && !x->err)
		x->err = err;
	return 0;
}

int exemplars_listen(struct exemplars *x, struct ring_buffer *rb, int map_fd)
{
	return ring_buffer__add(rb, map_fd, on_exemplar, x);
}

void exemplars_free(struct exemplars *x)
{
	struct exemplar *v[2 * EXEMPLAR_TOP];
	size_t n = 0;

	for (size_t i = 0; i < x->nwin; i++)
		v[n++] = x->win[i];
	for (size_t i = 0; i < x->nrun; i++)
		if (!listed(x->win, x->nwin, x->run[i]))
			v[n++] = x->run[i];
	for (size_t i = 0; i < n; i++)
		exemplar_free(v[i]);
	symbolizer_free(&x->sym);
	memset(x, 0, sizeof(*x));
}

uint64_t exemplar_auto_threshold(const struct aggregator *a, uint32_t id)
{
	const uint64_t *b = agg_kernel_buckets(a, id);
	uint64_t count = 0, rank, cum = 0;

	if (!b)
		return 0;
	for (uint32_t i = 0; i < INFERLAT_HIST_BUCKETS; i++)
		count += b[i];
	if (!count)
		return 0;
	rank = (uint64_t)ceil(EXEMPLAR_AUTO_QUANTILE * (double)count);
	for (uint32_t i = 0; i < INFERLAT_HIST_BUCKETS - 1; i++) {
		cum += b[i];
		/* strictly slower than the bucket holding the p99.9 */
		if (cum >= rank)
			return hist_bucket_hi(i) + 1;
	}
	return hist_bucket_lo(INFERLAT_HIST_BUCKETS - 1);
}
