/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Silence is not health: a preset's main probe that sees no call while its
 * process keeps the CPU busy is said once, with what to use instead (eager
 * PyTorch runs no TorchScript graph executor, so -r libtorch's main probe
 * stays at 0 while the model runs).
 */
#ifndef INFERLAT_SILENCE_H
#define INFERLAT_SILENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "report.h"

/* CPU seconds a process spends with its preset's main probe never called
 * before inferlat says so. */
#define SILENCE_CPU_S 1.0

struct silent_probe {
	uint32_t id;
	bool heard;          /* called at least once: never silent again */
	bool told;
	double cpu_s;        /* process CPU time while it was never called */
	double seen_s;
};

struct silence {
	struct silent_probe *v;
	size_t n;
};

/* A closed window: 0 or -ENOMEM. Prints the notice (once per probe). */
int silence_judge(struct silence *s, const struct report *r);
void silence_free(struct silence *s);

#endif
