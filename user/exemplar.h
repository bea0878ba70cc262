/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Slow-call exemplars: calls at least their probe's slow threshold long,
 * sent by the BPF side with the caller's user stack (struct exemplar_event).
 * Each is symbolized at once (the process may exit soon after), written to
 * --json as a {"type": "exemplar", ...} record, and kept among the slowest
 * of the window and of the run for the live view.
 *
 * --slow auto (the default) sets each probe's threshold at every window to
 * the p99.9 of its calls so far: about the slowest 0.1% are sent once the
 * run has history (none in the first window).
 */
#ifndef INFERLAT_EXEMPLAR_H
#define INFERLAT_EXEMPLAR_H

#include <stdint.h>
#include <stdio.h>
#include "inferlat.h"
#include "probes.h"
#include "symbolize.h"
#include "agg.h"

#define EXEMPLAR_TOP 5            /* slowest calls kept per window and per run */
#define EXEMPLAR_AUTO_QUANTILE 0.999

struct exemplar {
	struct call_event call;
	uint64_t slow_ns;             /* the threshold it passed */
	double ts;                    /* Unix time it was received */
	size_t nframes;
	struct sym_frame frames[INFERLAT_STACK_FRAMES];
};

struct ring_buffer;
struct probe;

/* Writes one exemplar as it arrives (json_write_exemplar for --json). */
typedef int exemplar_write_fn(FILE *f, const struct probe *p, const struct exemplar *e);

struct exemplars {
	const struct probe_set *ps;
	struct symbolizer sym;
	FILE *json;                   /* --json, or NULL */
	exemplar_write_fn *write;     /* into json */
	struct exemplar *win[EXEMPLAR_TOP], *run[EXEMPLAR_TOP];  /* slowest first */
	size_t nwin, nrun;
	uint64_t received;
	int err;                      /* first error of the ring-buffer callback */
};

void exemplars_init(struct exemplars *x, const struct probe_set *ps, FILE *json,
		    exemplar_write_fn *write, const char *debug_root);
/* Take exemplars from map_fd through rb (the call-event consumer's). */
int exemplars_listen(struct exemplars *x, struct ring_buffer *rb, int map_fd);
/* One exemplar from the BPF side: symbolized, written, ranked. 0 or -errno. */
int exemplars_add(struct exemplars *x, const struct exemplar_event *e, double wall);
/* The window was shown: its list starts again. */
void exemplars_window_done(struct exemplars *x);
void exemplars_free(struct exemplars *x);

/* --slow auto: the threshold for probe id from its calls so far (the
 * kernel's complete histogram, all processes): just above the bucket holding
 * their p99.9; 0 while it has none. */
uint64_t exemplar_auto_threshold(const struct aggregator *a, uint32_t id);

#endif
