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

static void put_row(struct view *v, const struct row *w)
{
	char p50[16], p90[16], p99[16], p999[16], mx[16], clipped[64], comm[24];

	snprintf(comm, sizeof(comm), "%s", w->comm ? w->comm : "-");
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
	fprintf(v->out, "%-32s %7d %-15s %8llu %9.1f %6llu %8s %8s %8s %8s %8s %6llu\n",
		clip(w->probe->name, 32, clipped, sizeof(clipped)), (int)w->pid, comm,
		(unsigned long long)w->calls, w->rps, (unsigned long long)w->errors,
		p50, p90, p99, p999, mx, (unsigned long long)w->lost);
}

void view_show(struct view *v, const struct report *r)
{
	char when[32];
	time_t t = (time_t)r->ts;
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (v->tty && !r->final)
		fputs("\033[H\033[2J", v->out);  /* home, clear: redraw like top */
	if (v->tty || r->final) {
		fprintf(v->out, "inferlat %s  %s %.1fs  probes %zu  processes %zu\n\n", when,
			r->final ? "whole run" : "window", r->span_s, v->nprobes, v->ntargets);
		fprintf(v->out, "%-32s %7s %-15s %8s %9s %6s %8s %8s %8s %8s %8s %6s\n", "PROBE",
			"PID", "COMM", "CALLS", "RPS", "ERR", "P50", "P90", "P99", "P99.9", "MAX", "LOST");
		for (size_t i = 0; i < r->n; i++)
			put_row(v, &r->rows[i]);
	} else {
		/* not a terminal: one line per probe and process, prefixed with the time */
		if (!v->header_done) {
			fprintf(v->out, "%-8s %-32s %7s %-15s %8s %9s %6s %8s %8s %8s %8s %8s %6s\n", "TIME",
				"PROBE", "PID", "COMM", "CALLS", "RPS", "ERR", "P50", "P90", "P99", "P99.9",
				"MAX", "LOST");
			v->header_done = true;
		}
		for (size_t i = 0; i < r->n; i++) {
			fprintf(v->out, "%s ", when);
			put_row(v, &r->rows[i]);
		}
	}
	fflush(v->out);
}
