/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a probe adds to the durations it measures, measured on this machine at
 * start and subtracted in the kernel from every call.
 *
 * The BPF entry program reads the clock before the trap returns to user
 * space, and the return program after the return trampoline has trapped, so
 * every duration holds ~1-2 us (emulated or optimized site) or ~15 us
 * (single-stepped site) that the function never spent. inferlat probes empty
 * functions of its own, one per site kind, through the same programs, and
 * takes the median duration as that kind's overhead.
 *
 * The same calls, timed by their caller with and without the probes, give
 * what one hit costs the traced thread in all (entry trap, both BPF programs
 * with the ring-buffer event, return trampoline): the per-hit cost the
 * exporter multiplies by hits. Calls are spaced as a server's are; a tight
 * loop competing with the event consumer pays more.
 */
#ifndef INFERLAT_CALIBRATE_H
#define INFERLAT_CALIBRATE_H

#include <stdbool.h>
#include <stdint.h>
#include "session.h"
#include "site.h"

/* Measure the kinds probes [first, n) use that c has not measured yet
 * (session_attach_probes() applies them). 0 or -errno (explained). */
int calibrate(struct session *s, const struct probe_set *ps, size_t first, struct calibration *c);
/* Measure every kind not measured yet: when probes are expected later (a
 * library still to be loaded), so attaching them then is not delayed by a
 * measurement. 0 or -errno (explained). */
int calibrate_all(struct session *s, struct calibration *c);

#endif
