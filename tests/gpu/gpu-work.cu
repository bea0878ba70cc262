// SPDX-License-Identifier: GPL-2.0
/*
 * gpu-work LOG: the device workload of scripts/gpu-check.sh. Exactly known
 * CUDA runtime calls: K kernel launches, M allocations of known sizes and
 * M' frees, copies of known byte counts (synchronous and asynchronous),
 * stream and device synchronizations timed by its own clock. It writes what
 * it did to LOG as one JSON object: the ground truth of run.sh's checks.
 *
 * Built by nvcc on the GPU machine; built here as C (GPU_DOUBLE) against the
 * CUDA test double, where the launch is the runtime call <<<>>> lowers to.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef GPU_DOUBLE
#include "cuda-api.h"   /* tests/fixtures: the double's entry points */
#define H2D 1
#define D2H 2
static void spin(float *p, int n)
{
	dim3 one = { 1, 1, 1 };
	void *args[] = { &p, &n };

	cudaLaunchKernel((const void *)spin, one, one, args, 0, NULL);
}
#else
#include <cuda_runtime.h>
#define H2D cudaMemcpyHostToDevice
#define D2H cudaMemcpyDeviceToHost
__global__ void spin_kernel(float *p, int n)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;

	if (i < n)
		p[i] = p[i] * 1.0001f + 1.0f;
}
static void spin(float *p, int n)
{
	spin_kernel<<<(n + 255) / 256, 256>>>(p, n);
}
#endif

enum { ALLOCS = 32, LAUNCHES = 200, COPIES = 16 };

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static char host[8 << 20];
	void *dev[ALLOCS];
	size_t size[ALLOCS];
	uint64_t alloc_bytes = 0, freed_bytes = 0, copy_bytes = 0, async_bytes = 0, sync_ns = 0, t;
	unsigned frees = 0, stream_syncs = 0, device_syncs = 0, launches = 0;
	FILE *log;

	if (argc != 2) {
		fprintf(stderr, "usage: gpu-work LOG\n");
		return 2;
	}
	for (int i = 0; i < ALLOCS; i++) {
		size[i] = (1u << 20) + 4096u * (unsigned)i + 256u;
		if (cudaMalloc(&dev[i], size[i])) {
			fprintf(stderr, "gpu-work: cudaMalloc of %zu bytes failed\n", size[i]);
			return 1;
		}
		alloc_bytes += size[i];
	}
	for (int i = 0; i < COPIES; i++) {
		size_t n = (256u << 10) + 1000u * (unsigned)i;

		cudaMemcpy(dev[i], host, n, H2D);
		copy_bytes += n;
		cudaMemcpyAsync(host, dev[i], n / 2, D2H, NULL);
		async_bytes += n / 2;
	}
	for (int i = 0; i < LAUNCHES; i++) {
		spin((float *)dev[i % ALLOCS], (int)(size[i % ALLOCS] / sizeof(float)));
		launches++;
		if (i % 50 == 49) {
			t = now_ns();
			cudaStreamSynchronize(NULL);
			sync_ns += now_ns() - t;
			stream_syncs++;
		}
	}
	t = now_ns();
	cudaDeviceSynchronize();
	sync_ns += now_ns() - t;
	device_syncs++;
	/* three quarters freed; the rest is live at exit */
	for (int i = 0; i < ALLOCS; i++) {
		if (i % 4 == 3)
			continue;
		cudaFree(dev[i]);
		frees++;
		freed_bytes += size[i];
	}
	log = fopen(argv[1], "w");
	if (!log) {
		perror(argv[1]);
		return 1;
	}
	fprintf(log, "{\"allocs\": %d, \"alloc_bytes\": %llu, \"frees\": %u, \"freed_bytes\": %llu, "
		"\"copy_bytes\": %llu, \"async_bytes\": %llu, \"launches\": %u, \"stream_syncs\": %u, "
		"\"device_syncs\": %u, \"sync_ns\": %llu}\n", ALLOCS, (unsigned long long)alloc_bytes, frees,
		(unsigned long long)freed_bytes, (unsigned long long)copy_bytes,
		(unsigned long long)async_bytes, launches, stream_syncs, device_syncs,
		(unsigned long long)sync_ns);
	return fclose(log) ? 1 : 0;
}
