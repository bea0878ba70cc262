// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "probes.h"

int probe_pid_add(pid_t **v, size_t *n, pid_t pid)
{
	pid_t *nv;

	for (size_t i = 0; i < *n; i++)
		if ((*v)[i] == pid)
			return 0;
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[(*n)++] = pid;
	return 0;
}

void probe_clear(struct probe *p)
{
	free(p->name);
	free(p->object);
	free(p->attach_path);
	free(p->symbol);
	free(p->pids);
	memset(p, 0, sizeof(*p));
}

void probe_set_free(struct probe_set *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		probe_clear(&ps->v[i]);
	free(ps->v);
	memset(ps, 0, sizeof(*ps));
}
