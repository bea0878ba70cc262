// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "bpfmem.h"
#include "log.h"

/* struct bpf_local_storage_elem up to its data (kernel/bpf/bpf_local_storage.c:
 * two list nodes, the owner's storage, an RCU head, the data cacheline-aligned
 * after its map pointer), and struct bpf_local_storage (16 cached maps, list,
 * owner, lock, RCU head) in its kmalloc class */
#define SELEM_HEADER 72
#define STORAGE_HEAD 256

static uint64_t kmalloc_class(uint64_t n)
{
	uint64_t c = 8;

	if (n > 64 && n <= 96)
		return 96;
	if (n > 128 && n <= 192)
		return 192;
	while (c < n)
		c <<= 1;
	return c;
}

uint64_t bpfmem_thread_bytes(uint32_t value_size)
{
	return kmalloc_class(SELEM_HEADER + (uint64_t)value_size) + STORAGE_HEAD;
}

/* The memlock line of a BPF map's or program's fdinfo; 0 where the kernel
 * gives none. */
static int fd_memlock(int fd, uint64_t *out)
{
	char path[64], line[256];
	unsigned long long v;
	FILE *f;

	*out = 0;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1) {
			*out = v;
			break;
		}
	fclose(f);
	return 0;
}

int bpfmem_read(const struct bpf_object *obj, int64_t threads, uint32_t thread_value_size,
		struct bpf_memory *m)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	uint64_t v;
	int err;

	memset(m, 0, sizeof(*m));
	bpf_object__for_each_map(map, obj) {
		int fd = bpf_map__fd(map);

		if (fd < 0)
			continue;   /* not created */
		if ((err = fd_memlock(fd, &v)))
			return err;
		m->maps += v;
		switch (bpf_map__type(map)) {
		case BPF_MAP_TYPE_PERCPU_ARRAY:
		case BPF_MAP_TYPE_PERCPU_HASH:
		case BPF_MAP_TYPE_LRU_PERCPU_HASH:
		case BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE:
			m->percpu_maps += v;
			break;
		default:
			break;
		}
	}
	bpf_object__for_each_program(prog, obj) {
		int fd = bpf_program__fd(prog);

		if (fd < 0)
			continue;   /* not loaded */
		if ((err = fd_memlock(fd, &v)))
			return err;
		m->programs += v;
	}
	m->threads = threads > 0 ? (uint64_t)threads : 0;
	m->thread_bytes = m->threads * bpfmem_thread_bytes(thread_value_size);
	m->total = m->maps + m->programs + m->thread_bytes;
	return 0;
}

static double mib(uint64_t b)
{
	return (double)b / (1024.0 * 1024.0);
}

void bpfmem_log(const struct bpf_memory *m)
{
	int ncpus = libbpf_num_possible_cpus();

	log_info("BPF memory: %.2f MiB (maps %.2f MiB, %.2f MiB of it per-CPU on %d CPUs; programs "
		 "%.2f MiB; call state of %llu threads %.2f MiB)", mib(m->total), mib(m->maps),
		 mib(m->percpu_maps), ncpus, mib(m->programs), (unsigned long long)m->threads,
		 mib(m->thread_bytes));
}
