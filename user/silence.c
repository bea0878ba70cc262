// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "probes.h"
#include "proctab.h"
#include "silence.h"

static struct silent_probe *entry(struct silence *s, uint32_t id)
{
	struct silent_probe *nv;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].id == id)
			return &s->v[i];
	nv = realloc(s->v, (s->n + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	s->v = nv;
	memset(&nv[s->n], 0, sizeof(*nv));
	nv[s->n].id = id;
	return &nv[s->n++];
}

int silence_judge(struct silence *s, const struct report *r)
{
	if (r->final)
		return 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct row *w = &r->rows[i];
		struct silent_probe *e;
		double cores;

		if (!w->probe->silent_hint)
			continue;
		e = entry(s, w->probe->id);
		if (!e)
			return -ENOMEM;
		if (w->calls)
			e->heard = true;
		if (e->heard || e->told)
			continue;
		e->seen_s += r->span_s;
		/* the process is known only where it alone is traced */
		if (!w->proc || !proctab_cores(w->proc, false, &cores))
			continue;
		e->cpu_s += cores * r->span_s;
		if (e->cpu_s < SILENCE_CPU_S)
			continue;
		/* the function's name without its C++ parameter list */
		log_note("-r %s: no call of %.*s in %.0f s while PID %d used %.1f s of CPU: %s",
			 w->probe->runtime, (int)strcspn(w->probe->symbol, "("), w->probe->symbol,
			 e->seen_s, (int)w->proc->pid, e->cpu_s, w->probe->silent_hint);
		e->told = true;
	}
	return 0;
}

void silence_free(struct silence *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}
