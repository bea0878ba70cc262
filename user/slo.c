// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "slo.h"

static const struct {
	const char *name;
	enum slo_metric m;
} metrics[] = {
	{ "p50", SLO_P50 }, { "p90", SLO_P90 }, { "p99", SLO_P99 }, { "p99.9", SLO_P999 },
	{ "p999", SLO_P999 }, { "mean", SLO_MEAN }, { "max", SLO_MAX }, { "errors", SLO_ERRORS },
	{ "rps", SLO_RPS },
};

const char *slo_metric_name(enum slo_metric m)
{
	for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++)
		if (metrics[i].m == m)
			return metrics[i].name;
	return "?";
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* "50ms" -> 0.05; a unit is required: a bare 50 is ambiguous. */
static int parse_secs(const char *s, double *out)
{
	static const struct {
		const char *unit;
		double mul;
	} units[] = { { "ns", 1e-9 }, { "us", 1e-6 }, { "ms", 1e-3 }, { "s", 1 } };
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit)) {
			*out = v * units[i].mul;
			return 0;
		}
	return -EINVAL;
}

static int parse_number(const char *s, const char *suffix, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0 || strcmp(end, suffix))
		return -EINVAL;
	*out = v;
	return 0;
}

int slo_parse(const char *text, struct slo *out, char *err, size_t errsz)
{
	char *buf = strdup(text), *op, *left, *right, *metric, *colon;
	bool found = false;
	size_t oplen;

	memset(out, 0, sizeof(*out));
	if (!buf) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	op = strpbrk(buf, "<>");
	if (!op || strpbrk(op + 1, "<>")) {
		snprintf(err, errsz, "--slo '%s': expected [PROBE:]METRIC<VALUE or >VALUE, "
			 "e.g. 'llama_decode:p99<50ms', 'errors<1%%', 'rps>10'", text);
		goto bad;
	}
	out->below = *op == '<';
	out->inclusive = op[1] == '=';
	oplen = out->inclusive ? 2 : 1;
	*op = '\0';
	left = trim(buf);
	right = trim(op + oplen);
	colon = strrchr(left, ':');
	metric = colon ? trim(colon + 1) : left;
	if (colon) {
		*colon = '\0';
		left = trim(left);
		if (!*left) {
			snprintf(err, errsz, "--slo '%s': empty probe before ':'", text);
			goto bad;
		}
	}
	if (colon && !strcmp(left, "http")) {
		out->http = true;
		colon = NULL;   /* no probe glob */
		if (!strncmp(metric, "ttft_", 5)) {
			out->ttft = true;
			metric += 5;
		}
	}
	for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++)
		if (!strcmp(metric, metrics[i].name)) {
			out->metric = metrics[i].m;
			found = true;
		}
	if (!found) {
		snprintf(err, errsz, "--slo '%s': unknown metric '%s' (p50, p90, p99, p99.9, mean, max, "
			 "errors, rps)", text, metric);
		goto bad;
	}
	if (out->ttft && (out->metric == SLO_ERRORS || out->metric == SLO_RPS)) {
		snprintf(err, errsz, "--slo '%s': ttft_ takes a latency metric (ttft_p50, ttft_p99, ttft_max, ...)",
			 text);
		goto bad;
	}
	switch (out->metric) {
	case SLO_ERRORS:
		if (parse_number(right, "%", &out->limit) || out->limit > 100) {
			snprintf(err, errsz, "--slo '%s': errors takes a share of calls from 0%% to 100%%, "
				 "e.g. errors<1%%", text);
			goto bad;
		}
		out->limit /= 100;
		break;
	case SLO_RPS:
		if (parse_number(right, "", &out->limit)) {
			snprintf(err, errsz, "--slo '%s': rps takes calls per second, e.g. rps>10", text);
			goto bad;
		}
		break;
	default:
		if (parse_secs(right, &out->limit)) {
			snprintf(err, errsz, "--slo '%s': %s takes a duration with its unit "
				 "(800ns, 200us, 50ms, 1.5s)", text, metric);
			goto bad;
		}
	}
	out->text = strdup(text);
	if (colon)
		out->probe = strdup(left);
	free(buf);
	if (!out->text || (colon && !out->probe)) {
		slo_free(out);
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	return 0;
bad:
	free(buf);
	return -EINVAL;
}

void slo_free(struct slo *s)
{
	free(s->text);
	free(s->probe);
	memset(s, 0, sizeof(*s));
}

bool slo_matches(const struct slo *s, const struct probe *p)
{
	if (s->http)
		return false;
	const char *paren;
	char base[512];

	if (!s->probe)
		return true;
	if (!fnmatch(s->probe, p->name, 0) || (p->symbol && !fnmatch(s->probe, p->symbol, 0)))
		return true;
	/* a C++ symbol also by its name without the parameters, as -e matches */
	paren = p->symbol ? strchr(p->symbol, '(') : NULL;
	if (!paren || paren == p->symbol || (size_t)(paren - p->symbol) >= sizeof(base))
		return false;
	memcpy(base, p->symbol, (size_t)(paren - p->symbol));
	base[paren - p->symbol] = '\0';
	return !fnmatch(s->probe, base, 0);
}

bool slo_value(const struct slo *s, const struct row *r, double *v)
{
	if (s->metric == SLO_RPS) {
		*v = r->rps;
		return true;
	}
	if (!r->calls)
		return false;
	switch (s->metric) {
	case SLO_P50: *v = r->lat.p50; break;
	case SLO_P90: *v = r->lat.p90; break;
	case SLO_P99: *v = r->lat.p99; break;
	case SLO_P999: *v = r->lat.p999; break;
	case SLO_MEAN: *v = r->lat.mean; break;
	case SLO_MAX: *v = r->lat.max; break;
	case SLO_ERRORS: *v = (double)r->errors / (double)r->calls; break;
	default: return false;
	}
	return true;
}

bool slo_http_value(const struct slo *s, const struct http_row *r, double *v)
{
	const struct latency *l = s->ttft ? &r->first_chunk : &r->duration;
	uint64_t n = s->ttft ? r->n_first_chunk : r->requests - r->aborted;

	if (s->metric == SLO_RPS) {
		*v = r->rps;
		return true;
	}
	if (s->metric == SLO_ERRORS) {
		*v = r->requests ? (double)r->errors / (double)r->requests : 0;
		return r->requests > 0;
	}
	if (!n)
		return false;
	switch (s->metric) {
	case SLO_P50: *v = l->p50; break;
	case SLO_P90: *v = l->p90; break;
	case SLO_P99: *v = l->p99; break;
	case SLO_P999: *v = l->p999; break;
	case SLO_MEAN: *v = l->mean; break;
	case SLO_MAX: *v = l->max; break;
	default: return false;
	}
	return true;
}

bool slo_met(const struct slo *s, double v)
{
	if (s->below)
		return s->inclusive ? v <= s->limit : v < s->limit;
	return s->inclusive ? v >= s->limit : v > s->limit;
}

int slo_set_init(struct slo_set *ss, struct slo *v, size_t n)
{
	memset(ss, 0, sizeof(*ss));
	ss->v = v;
	ss->n = n;
	ss->violations = calloc(n ? n : 1, sizeof(*ss->violations));
	ss->run_failed = calloc(n ? n : 1, sizeof(*ss->run_failed));
	if (!ss->violations || !ss->run_failed) {
		slo_set_free(ss);
		return -ENOMEM;
	}
	return 0;
}

void slo_set_free(struct slo_set *ss)
{
	free(ss->violations);
	free(ss->run_failed);
	memset(ss, 0, sizeof(*ss));
}

int slo_judge(struct slo_set *ss, struct report *r)
{
	r->slos = ss;
	for (uint32_t i = 0; i < ss->n; i++) {
		const struct slo *s = &ss->v[i];
		bool broken = false, judged = false, any_value = false;
		double v;

		/* an SLO over many probes (no probe named, or a glob) is judged
		 * on those that ran: a preset's probe that a server never calls
		 * (llama_memory_clear under node-llama-cpp) fails no run */
		if (s->http) {
			for (size_t j = 0; j < r->nhttp; j++) {
				struct slo_eval *e;
				bool has = slo_http_value(s, &r->http[j], &v);

				if (!has)
					continue;
				if (!(e = report_add_slo(r)))
					return -ENOMEM;
				e->row = j;
				e->http = true;
				e->slo = i;
				e->has_value = true;
				e->value = v;
				e->ok = slo_met(s, v);
				judged = true;
				broken |= !e->ok;
			}
			if (r->final)
				ss->run_failed[i] = broken || !judged;
			else if (broken)
				ss->violations[i]++;
			continue;
		}
		for (size_t j = 0; j < r->n && r->final && !any_value; j++)
			any_value = slo_matches(s, r->rows[j].probe) && slo_value(s, &r->rows[j], &v);
		for (size_t j = 0; j < r->n; j++) {
			const struct row *row = &r->rows[j];
			struct slo_eval *e;
			bool has;

			if (!slo_matches(s, row->probe))
				continue;
			has = slo_value(s, row, &v);
			/* an idle window breaks no latency SLO; a run in which no
			 * matching probe was called proves none */
			if (!has && (!r->final || any_value))
				continue;
			e = report_add_slo(r);
			if (!e)
				return -ENOMEM;
			e->row = j;
			e->slo = i;
			e->has_value = has;
			e->value = has ? v : 0;
			e->ok = has && slo_met(s, v);
			judged |= has;
			broken |= !e->ok;
		}
		if (r->final)
			ss->run_failed[i] = broken || !judged;
		else if (broken)
			ss->violations[i]++;
	}
	return 0;
}

bool slo_any_failed(const struct slo_set *ss)
{
	for (size_t i = 0; i < ss->n; i++)
		if (ss->run_failed[i])
			return true;
	return false;
}
