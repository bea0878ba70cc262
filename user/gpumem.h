/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Live GPU memory per process, from decoded cudaMalloc/cudaFree calls: every
 * allocation's pointer and size until it is freed.
 */
#ifndef INFERLAT_GPUMEM_H
#define INFERLAT_GPUMEM_H

#include <stdint.h>
#include <sys/types.h>

struct gpuproc {
	pid_t pid;
	uint64_t *keys, *sizes;   /* open addressing; key 0 empty, 1 deleted */
	size_t cap, used;         /* used counts deleted slots too */
	uint64_t live, peak;      /* bytes */
	uint64_t nlive;           /* allocations */
};

struct gpumem {
	struct gpuproc *v;
	size_t n;
};

/* An allocation of size bytes at ptr (ptr > 1). 0 or -ENOMEM. */
int gpumem_alloc(struct gpumem *g, pid_t pid, uint64_t ptr, uint64_t size);
/* ptr freed: its size in *size and 0, or -ENOENT when it was not seen
 * allocated (before inferlat attached). */
int gpumem_free(struct gpumem *g, pid_t pid, uint64_t ptr, uint64_t *size);
/* The process's table, NULL when it allocated nothing seen. */
const struct gpuproc *gpumem_get(const struct gpumem *g, pid_t pid);
void gpumem_free_all(struct gpumem *g);

#endif
