/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Probes for what appears after start: libraries a target loads with
 * dlopen, and the libraries of processes that start later (-x, --comm,
 * COMMAND's children) when they are not those already probed.
 *
 * Each target's dynamic loader is watched at _dl_debug_state(), which it
 * calls whenever its list of loaded objects changed; the BPF side reports
 * the process on a control ring buffer, and the watcher rescans its maps,
 * resolves the specs against every file it has not seen yet, and attaches
 * what they match. This runs after the loader returned to the program: calls
 * made in the first milliseconds after a dlopen can be missed (-v shows how
 * long attaching took). A LIB given by path has no such gap: its file is
 * probed from the start and the kernel arms the probes when it is mapped.
 */
#ifndef INFERLAT_WATCH_H
#define INFERLAT_WATCH_H

#include <stdint.h>
#include "session.h"
#include "calibrate.h"
#include "objects.h"
#include "resolve.h"

struct ring_buffer;

struct loader_watch {
	uint64_t dev, ino;
	pid_t pid;              /* the process it is attached for; -1: all */
};

struct pending_pid {
	pid_t pid;
	uint32_t kinds;         /* 1 << enum inferlat_ctl_kind */
	uint64_t ts;            /* the first report's time (CLOCK_MONOTONIC ns) */
};

struct watch {
	struct session *s;
	struct probe_set *ps;
	const struct probe_spec *specs;
	size_t nspecs;
	const struct resolve_opts *ro;
	struct calibration *calib;      /* NULL: raw durations */
	struct objects *known;          /* every file examined so far */
	struct loader_watch *loaders;
	size_t nloaders;
	struct pending_pid *queue;
	size_t nqueue;
	int err;                        /* first error of the ring-buffer callback */
};

/*
 * Watch the loaders of the targets running now and of the -x executables
 * (for the processes to come). known holds what resolve_probes() examined.
 * 0 or -errno (explained).
 */
int watch_start(struct watch *w, struct session *s, struct probe_set *ps,
		const struct probe_spec *specs, size_t nspecs, const struct resolve_opts *ro,
		struct calibration *calib, struct objects *known, const struct targets *t);
/* Take control messages from the session's ring buffer through rb (the
 * call-event consumer's), so one poll waits for both. */
int watch_listen(struct watch *w, struct ring_buffer *rb);
/* Handle the processes reported since the last call. Returns the number of
 * probes added, or -errno on a failure that must stop the run (explained). */
int watch_run(struct watch *w);
void watch_free(struct watch *w);

#endif
