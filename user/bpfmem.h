/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel memory inferlat's BPF objects hold: what the kernel charges
 * each map and program (their fdinfo memlock), and the per-thread call
 * state, which task storage allocates per thread outside the map's figure.
 */
#ifndef INFERLAT_BPFMEM_H
#define INFERLAT_BPFMEM_H

#include <stdint.h>

struct bpf_object;

struct bpf_memory {
	uint64_t maps;
	uint64_t percpu_maps;      /* of maps: the per-CPU ones, which grow with the CPUs */
	uint64_t programs;
	uint64_t threads;          /* threads holding call state */
	uint64_t thread_bytes;     /* their state: threads x bpfmem_thread_bytes() */
	uint64_t total;
};

/* Bytes one thread's call state takes: its value in an element with the
 * kernel's header, in a kmalloc size class, and the task's storage head. */
uint64_t bpfmem_thread_bytes(uint32_t value_size);

/* Read it for obj; threads: the kernel's count of threads holding state.
 * 0 or -errno. */
int bpfmem_read(const struct bpf_object *obj, int64_t threads, uint32_t thread_value_size,
		struct bpf_memory *m);

/* -v: the figures, in one line. */
void bpfmem_log(const struct bpf_memory *m);

#endif
