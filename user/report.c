// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "grow.h"
#include "report.h"

int report_share(const struct report *r, const struct row *w, double *ratio, const char **of)
{
	if (!w->probe->share_of || !w->calls)
		return -ENOENT;
	for (size_t i = 0; i < r->n; i++) {
		const struct row *o = &r->rows[i];
		double total = o->lat.mean * (double)o->calls;

		if (o->pid != w->pid || !o->calls || strcmp(o->probe->symbol, w->probe->share_of))
			continue;
		if (total <= 0)
			return -ENOENT;
		*ratio = w->lat.mean * (double)w->calls / total;
		*of = o->probe->name;
		return 0;
	}
	return -ENOENT;
}

void report_clear(struct report *r)
{
	r->n = 0;
	r->nslo = 0;
}

void report_free(struct report *r)
{
	free(r->rows);
	free(r->slo);
	free(r->http);
	free(r->hports);
	memset(r, 0, sizeof(*r));
}

struct row *report_add(struct report *r)
{
	if (GROW(r->rows, r->n, r->cap, 16))
		return NULL;
	memset(&r->rows[r->n], 0, sizeof(struct row));
	return &r->rows[r->n++];
}

struct slo_eval *report_add_slo(struct report *r)
{
	if (GROW(r->slo, r->nslo, r->capslo, 8))
		return NULL;
	memset(&r->slo[r->nslo], 0, sizeof(struct slo_eval));
	return &r->slo[r->nslo++];
}
