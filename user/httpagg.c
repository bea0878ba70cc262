// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "grow.h"
#include "httpagg.h"
#include "procfs.h"
#include "agg.h"

static void sum_reset(struct http_sum *s)
{
	memset(s, 0, offsetof(struct http_sum, duration));
	hist_reset(&s->duration);
	hist_reset(&s->first_byte);
	hist_reset(&s->first_chunk);
	hist_reset(&s->inter_chunk);
	s->inflight_ns = 0;
	s->inflight_max = 0;
}

int http_agg_init(struct http_agg *a, double now)
{
	memset(a, 0, sizeof(*a));
	a->win_start = a->run_start = now;
	return 0;
}

void http_agg_free(struct http_agg *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->s[i]);
	for (size_t i = 0; i < a->nports; i++) {
		for (size_t j = 0; j < a->ports[i]->nroutes; j++)
			free(a->ports[i]->routes[j]);
		free(a->ports[i]->reqs.v);
		free(a->ports[i]);
	}
	for (size_t i = 0; i < a->nprocs; i++) {
		free(a->procs[i]->open.v);
		free(a->procs[i]->calls.v);
		free(a->procs[i]);
	}
	free(a->s);
	free(a->ports);
	free(a->procs);
	memset(a, 0, sizeof(*a));
}

/* Append to a growing array of pointers. */
static int push_ptr(void ***v, size_t *n, size_t *cap, void *p)
{
	if (GROW(*v, *n, *cap, 8))
		return -ENOMEM;
	(*v)[(*n)++] = p;
	return 0;
}

static int iv_push(struct http_iv_list *l, uint64_t start, uint64_t end)
{
	if (GROW(l->v, l->n, l->cap, 32))
		return -ENOMEM;
	l->v[l->n].start_ns = start;
	l->v[l->n].end_ns = end;
	l->n++;
	return 0;
}

static struct http_port *port_get(struct http_agg *a, pid_t pid, uint16_t port)
{
	struct http_port *p;

	for (size_t i = 0; i < a->nports; i++)
		if (a->ports[i]->pid == pid && a->ports[i]->port == port)
			return a->ports[i];
	p = calloc(1, sizeof(*p));
	if (!p || push_ptr((void ***)&a->ports, &a->nports, &a->capports, p)) {
		free(p);
		return NULL;
	}
	p->pid = pid;
	p->port = port;
	if (procfs_comm(pid, p->comm, sizeof(p->comm)))
		p->comm[0] = 0;
	return p;
}

static struct http_proc *proc_get(struct http_agg *a, pid_t pid)
{
	struct http_proc *p;

	for (size_t i = 0; i < a->nprocs; i++)
		if (a->procs[i]->pid == pid)
			return a->procs[i];
	p = calloc(1, sizeof(*p));
	if (!p || push_ptr((void ***)&a->procs, &a->nprocs, &a->capprocs, p)) {
		free(p);
		return NULL;
	}
	p->pid = pid;
	return p;
}

/* The route's name in the port's bounded table. */
static const char *route_get(struct http_port *p, const char *route)
{
	for (size_t i = 0; i < p->nroutes; i++)
		if (!strcmp(p->routes[i], route))
			return p->routes[i];
	if (p->nroutes == HTTP_ROUTES_MAX)
		return HTTP_ROUTE_OTHER;
	if (!(p->routes[p->nroutes] = strdup(route)))
		return NULL;
	return p->routes[p->nroutes++];
}

static struct http_series *series_get(struct http_agg *a, const struct http_exchange *x)
{
	struct http_port *p = port_get(a, x->pid, x->port);
	const char *route = p ? route_get(p, x->route) : NULL;
	struct http_series *s;

	if (!route)
		return NULL;
	for (size_t i = 0; i < a->n; i++) {
		s = a->s[i];
		if (s->pid == x->pid && s->port == x->port && s->method == x->method && s->route == route)
			return s;
	}
	s = malloc(sizeof(*s));
	if (!s || push_ptr((void ***)&a->s, &a->n, &a->cap, s)) {
		free(s);
		return NULL;
	}
	memset(s, 0, offsetof(struct http_series, win));
	sum_reset(&s->win);
	sum_reset(&s->run);
	s->pid = x->pid;
	memcpy(s->comm, p->comm, sizeof(s->comm));
	s->port = x->port;
	s->method = x->method;
	s->route = route;
	s->inflight = 0;
	s->last_ns = 0;
	return s;
}

/* The in-flight integral up to ts. */
static void advance(struct http_series *s, uint64_t ts)
{
	if (ts > s->last_ns) {
		if (s->last_ns) {
			double d = (double)s->inflight * (double)(ts - s->last_ns);

			s->win.inflight_ns += d;
			s->run.inflight_ns += d;
		}
		s->last_ns = ts;
	}
}

static void on_start(void *ctx, const struct http_exchange *x)
{
	struct http_agg *a = ctx;
	struct http_series *s = series_get(a, x);
	struct http_proc *p = proc_get(a, x->pid);

	if (!s || !p || iv_push(&p->open, x->start_ns, x->conn_id)) {
		a->err = a->err ? a->err : -ENOMEM;
		return;
	}
	advance(s, x->start_ns);
	s->inflight++;
	if (s->inflight > s->win.inflight_max)
		s->win.inflight_max = s->inflight;
	if (s->inflight > s->run.inflight_max)
		s->run.inflight_max = s->inflight;
}

static void sum_add(struct http_sum *m, const struct http_exchange *x)
{
	m->requests++;
	if (x->aborted)
		m->aborted++;
	else if (x->status > 0 && x->status < HTTP_STATUS_CODES)
		m->status[x->status]++;
	m->chunks += x->chunks;
	m->req_bytes += x->req_bytes;
	m->resp_bytes += x->resp_bytes;
	if (!x->aborted)
		hist_add(&m->duration, x->end_ns - x->start_ns);
	if (x->first_byte_ns)
		hist_add(&m->first_byte, x->first_byte_ns - x->start_ns);
	if (x->first_chunk_ns)
		hist_add(&m->first_chunk, x->first_chunk_ns - x->start_ns);
	for (size_t i = 0; i < x->ngaps; i++)
		hist_add(&m->inter_chunk, x->gaps_ns[i]);
}

static void on_done(void *ctx, const struct http_exchange *x)
{
	struct http_agg *a = ctx;
	struct http_series *s = series_get(a, x);
	struct http_port *port = port_get(a, x->pid, x->port);
	struct http_proc *p = proc_get(a, x->pid);

	if (!s || !port || !p) {
		a->err = a->err ? a->err : -ENOMEM;
		return;
	}
	advance(s, x->end_ns);
	if (s->inflight)
		s->inflight--;
	sum_add(&s->win, x);
	sum_add(&s->run, x);
	for (size_t i = 0; i < p->open.n; i++) {
		if (p->open.v[i].start_ns == x->start_ns && p->open.v[i].end_ns == x->conn_id) {
			p->open.v[i] = p->open.v[--p->open.n];
			break;
		}
	}
	if (iv_push(&port->reqs, x->start_ns, x->end_ns))
		a->err = a->err ? a->err : -ENOMEM;
}

static void on_unparsed(void *ctx, pid_t pid, uint16_t port, const char *why)
{
	struct http_agg *a = ctx;
	struct http_port *p;

	if (!why)   /* a protocol switch: nothing wrong */
		return;
	p = port_get(a, pid, port);
	if (!p) {
		a->err = a->err ? a->err : -ENOMEM;
		return;
	}
	p->unparsed_win++;
	p->unparsed_run++;
	p->unparsed_why = why;
}

void http_agg_sink(struct http_agg *a, struct http_sink *sink)
{
	sink->ctx = a;
	sink->start = on_start;
	sink->done = on_done;
	sink->unparsed = on_unparsed;
}

int http_agg_call(struct http_agg *a, const char *name, pid_t pid, uint64_t start_ns, uint64_t end_ns)
{
	struct http_proc *p = proc_get(a, pid);

	if (!p)
		return -ENOMEM;
	p->runtime = name;
	return iv_push(&p->calls, start_ns, end_ns);
}

static int cmp_iv(const void *x, const void *y)
{
	const struct http_interval *a = x, *b = y;

	return a->start_ns < b->start_ns ? -1 : a->start_ns > b->start_ns;
}

/* Sort, clip to [lo, hi) and merge overlapping intervals in place. */
static size_t iv_union(struct http_interval *v, size_t n, uint64_t lo, uint64_t hi)
{
	size_t m = 0;

	qsort(v, n, sizeof(*v), cmp_iv);
	for (size_t i = 0; i < n; i++) {
		uint64_t s = v[i].start_ns < lo ? lo : v[i].start_ns;
		uint64_t e = v[i].end_ns > hi ? hi : v[i].end_ns;

		if (e <= s)
			continue;
		if (m && s <= v[m - 1].end_ns) {
			if (e > v[m - 1].end_ns)
				v[m - 1].end_ns = e;
		} else {
			v[m].start_ns = s;
			v[m].end_ns = e;
			m++;
		}
	}
	return m;
}

static uint64_t iv_total(const struct http_interval *v, size_t n)
{
	uint64_t t = 0;

	for (size_t i = 0; i < n; i++)
		t += v[i].end_ns - v[i].start_ns;
	return t;
}

/* Length of the intersection of two unions. */
static uint64_t iv_overlap(const struct http_interval *a, size_t na, const struct http_interval *b, size_t nb)
{
	uint64_t t = 0;
	size_t i = 0, j = 0;

	while (i < na && j < nb) {
		uint64_t s = a[i].start_ns > b[j].start_ns ? a[i].start_ns : b[j].start_ns;
		uint64_t e = a[i].end_ns < b[j].end_ns ? a[i].end_ns : b[j].end_ns;

		if (e > s)
			t += e - s;
		if (a[i].end_ns < b[j].end_ns)
			i++;
		else
			j++;
	}
	return t;
}

/* The window's busy time of a port (requests in flight) and the share of it
 * the process's runtime calls ran in. */
static int join_window(struct http_port *port, struct http_proc *proc, uint64_t lo,
		       uint64_t hi, double *busy_s, double *runtime_s)
{
	struct http_iv_list *r = &port->reqs;
	size_t nr, nc;

	*busy_s = *runtime_s = 0;
	/* requests in flight at the window's end count up to it */
	for (size_t i = 0; proc && i < proc->open.n; i++)
		if (iv_push(r, proc->open.v[i].start_ns, hi))
			return -ENOMEM;
	nr = iv_union(r->v, r->n, lo, hi);
	*busy_s = (double)iv_total(r->v, nr) / 1e9;
	if (proc && proc->calls.n) {
		nc = iv_union(proc->calls.v, proc->calls.n, lo, hi);
		*runtime_s = (double)iv_overlap(r->v, nr, proc->calls.v, nc) / 1e9;
	}
	r->n = 0;
	return 0;
}

static struct http_row *add_row(struct report *r)
{
	if (GROW(r->http, r->nhttp, r->caphttp, 16))
		return NULL;
	memset(&r->http[r->nhttp], 0, sizeof(struct http_row));
	return &r->http[r->nhttp++];
}

static struct http_port_row *add_port_row(struct report *r)
{
	if (GROW(r->hports, r->nhports, r->caphports, 8))
		return NULL;
	memset(&r->hports[r->nhports], 0, sizeof(struct http_port_row));
	return &r->hports[r->nhports++];
}

static void fill_row(struct http_row *w, const struct http_series *s, const struct http_sum *m, double span,
		     uint64_t inflight)
{
	w->pid = s->pid;
	w->port = s->port;
	w->method = s->method;
	w->route = s->route;
	w->requests = m->requests;
	w->aborted = m->aborted;
	w->errors = m->aborted;
	for (int c = 500; c < HTTP_STATUS_CODES; c++)
		w->errors += m->status[c];
	_Static_assert(sizeof(w->status) == sizeof(m->status), "status codes");
	memcpy(w->status, m->status, sizeof(w->status));
	w->rps = span > 0 ? (double)m->requests / span : 0;
	agg_latency(&m->duration, &w->duration);
	agg_latency(&m->first_byte, &w->first_byte);
	agg_latency(&m->first_chunk, &w->first_chunk);
	agg_latency(&m->inter_chunk, &w->inter_chunk);
	w->n_first_byte = m->first_byte.count;
	w->n_first_chunk = m->first_chunk.count;
	w->n_inter_chunk = m->inter_chunk.count;
	w->chunks = m->chunks;
	w->req_bytes = m->req_bytes;
	w->resp_bytes = m->resp_bytes;
	w->in_flight_mean = span > 0 ? m->inflight_ns / 1e9 / span : 0;
	w->in_flight_max = m->inflight_max > inflight ? m->inflight_max : inflight;
}

int http_agg_report(struct http_agg *a, double now, bool final, struct report *r)
{
	uint64_t now_ns = (uint64_t)(now * 1e9), lo = (uint64_t)(a->win_start * 1e9);
	double span = final ? now - a->run_start : now - a->win_start;

	r->nhttp = 0;
	r->nhports = 0;
	if (a->err)
		return a->err;
	for (size_t i = 0; i < a->n; i++) {
		struct http_series *s = a->s[i];
		const struct http_sum *m = final ? &s->run : &s->win;
		struct http_row *w;

		if (!final)
			advance(s, now_ns);
		if (!m->requests && !s->inflight)
			continue;
		if (!(w = add_row(r)))
			return -ENOMEM;
		fill_row(w, s, m, span, s->inflight);
	}
	for (size_t i = 0; i < a->nports; i++) {
		struct http_port *p = a->ports[i];
		struct http_port_row *w;
		struct http_proc *proc = NULL;
		double busy = 0, rt = 0;
		uint64_t reqs = 0;

		for (size_t j = 0; j < a->nprocs; j++)
			if (a->procs[j]->pid == p->pid)
				proc = a->procs[j];
		if (!final) {
			if (join_window(p, proc, lo, now_ns, &busy, &rt))
				return -ENOMEM;
			p->busy_s_run += busy;
			p->runtime_s_run += rt;
		} else {
			busy = p->busy_s_run;
			rt = p->runtime_s_run;
		}
		for (size_t j = 0; j < r->nhttp; j++)
			if (r->http[j].pid == p->pid && r->http[j].port == p->port)
				reqs += r->http[j].requests;
		if (!(w = add_port_row(r)))
			return -ENOMEM;
		w->pid = p->pid;
		w->port = p->port;
		w->requests = reqs;
		w->unparsed = final ? p->unparsed_run : p->unparsed_win;
		w->unparsed_why = p->unparsed_why;
		w->busy_s = busy;
		w->runtime = proc ? proc->runtime : NULL;
		w->runtime_s = rt;
	}
	if (!final) {
		for (size_t i = 0; i < a->n; i++) {
			sum_reset(&a->s[i]->win);
			a->s[i]->win.inflight_max = a->s[i]->inflight;
		}
		for (size_t i = 0; i < a->nports; i++)
			a->ports[i]->unparsed_win = 0;
		for (size_t i = 0; i < a->nprocs; i++)
			a->procs[i]->calls.n = 0;
		a->win_start = now;
	}
	return 0;
}
