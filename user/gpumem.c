// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "gpumem.h"

#define EMPTY 0
#define DELETED 1

static struct gpuproc *proc_of(struct gpumem *g, pid_t pid, bool create)
{
	struct gpuproc *nv;

	for (size_t i = 0; i < g->n; i++)
		if (g->v[i].pid == pid)
			return &g->v[i];
	if (!create)
		return NULL;
	nv = realloc(g->v, (g->n + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	g->v = nv;
	memset(&nv[g->n], 0, sizeof(*nv));
	nv[g->n].pid = pid;
	return &nv[g->n++];
}

static size_t slot_of(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

/* Rebuild at twice the live entries (deleted slots dropped). */
static int rehash(struct gpuproc *p)
{
	size_t cap = 64;
	uint64_t *keys, *sizes;

	while (cap < 4 * (p->nlive + 1))
		cap *= 2;
	keys = calloc(cap, sizeof(*keys));
	sizes = calloc(cap, sizeof(*sizes));
	if (!keys || !sizes) {
		free(keys);
		free(sizes);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->cap; i++) {
		size_t j;

		if (p->keys[i] <= DELETED)
			continue;
		for (j = slot_of(p->keys[i], cap); keys[j] != EMPTY; j = (j + 1) & (cap - 1))
			;
		keys[j] = p->keys[i];
		sizes[j] = p->sizes[i];
	}
	free(p->keys);
	free(p->sizes);
	p->keys = keys;
	p->sizes = sizes;
	p->cap = cap;
	p->used = p->nlive;
	return 0;
}

/* The slot holding key, or SIZE_MAX. */
static size_t find(const struct gpuproc *p, uint64_t key)
{
	if (!p->cap)
		return SIZE_MAX;
	for (size_t j = slot_of(key, p->cap), n = 0; n < p->cap; j = (j + 1) & (p->cap - 1), n++) {
		if (p->keys[j] == EMPTY)
			return SIZE_MAX;
		if (p->keys[j] == key)
			return j;
	}
	return SIZE_MAX;
}

int gpumem_alloc(struct gpumem *g, pid_t pid, uint64_t ptr, uint64_t size)
{
	struct gpuproc *p = proc_of(g, pid, true);
	size_t j;
	int err;

	if (!p)
		return -ENOMEM;
	if (ptr <= DELETED)
		return -EINVAL;
	j = find(p, ptr);
	if (j != SIZE_MAX) {
		/* allocated again without a free we saw: the old one is gone */
		p->live -= p->sizes[j];
		p->sizes[j] = size;
		p->live += size;
	} else {
		if (2 * (p->used + 1) > p->cap && (err = rehash(p)))
			return err;
		for (j = slot_of(ptr, p->cap); p->keys[j] > DELETED; j = (j + 1) & (p->cap - 1))
			;
		if (p->keys[j] == EMPTY)
			p->used++;
		p->keys[j] = ptr;
		p->sizes[j] = size;
		p->nlive++;
		p->live += size;
	}
	if (p->live > p->peak)
		p->peak = p->live;
	return 0;
}

int gpumem_free(struct gpumem *g, pid_t pid, uint64_t ptr, uint64_t *size)
{
	struct gpuproc *p = proc_of(g, pid, false);
	size_t j = p ? find(p, ptr) : SIZE_MAX;

	if (j == SIZE_MAX)
		return -ENOENT;
	*size = p->sizes[j];
	p->live -= p->sizes[j];
	p->keys[j] = DELETED;
	p->nlive--;
	return 0;
}

const struct gpuproc *gpumem_get(const struct gpumem *g, pid_t pid)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->v[i].pid == pid)
			return &g->v[i];
	return NULL;
}

void gpumem_free_all(struct gpumem *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->v[i].keys);
		free(g->v[i].sizes);
	}
	free(g->v);
	memset(g, 0, sizeof(*g));
}
