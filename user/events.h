/* SPDX-License-Identifier: GPL-2.0 */
/* The ring-buffer consumer: call events to the aggregator and --calls. */
#ifndef INFERLAT_EVENTS_H
#define INFERLAT_EVENTS_H

#include <stdint.h>
#include <stdio.h>
#include "httpagg.h"
#include "httpframe.h"
#include "probes.h"
#include "agg.h"

struct ring_buffer;

struct events {
	struct ring_buffer *rb;
	struct aggregator *agg;
	const struct probe_set *ps;
	FILE *calls;              /* --calls, or NULL */
	uint64_t received;
	double now;               /* CLOCK_MONOTONIC of the current batch */
	struct http_framer *http; /* --http: socket events framed, or NULL */
	struct http_agg *hagg;    /* ... aggregated, with the runtime's main calls */
	int err;                  /* first sink error, reported by the caller */
};

int events_open(struct events *ev, int map_fd, struct aggregator *agg,
		const struct probe_set *ps, FILE *calls);
/* Also consume llama.cpp's sequence events (the seqs ring buffer). */
int events_listen_seqs(struct events *ev, int map_fd);
/* --http: also consume the socket syscall events (the socks ring buffer)
 * into the framer, and give the runtime's main calls to hagg. */
int events_listen_socks(struct events *ev, int map_fd, struct http_framer *f, struct http_agg *hagg);
/* Wait up to timeout_ms for the producer's wake-up, then consume all that is
 * there: the producer only wakes us when the buffer fills, so a tick-driven
 * consume keeps the cost per event low. Returns events consumed or -errno. */
int events_poll(struct events *ev, int timeout_ms);
void events_close(struct events *ev);

#endif
