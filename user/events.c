// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "events.h"
#include "json.h"

static int on_event(void *ctx, void *data, size_t size)
{
	struct events *ev = ctx;
	const struct call_event *e = data;
	int err;

	if (size < sizeof(*e))
		return 0;
	/* calibration calls (ids past the probes) send events too: not ours to count */
	if (e->probe_id >= ev->ps->n)
		return 0;
	ev->received++;
	err = agg_add(ev->agg, e, ev->now);
	if (!err && ev->calls && e->probe_id < ev->ps->n)
		err = json_write_call(ev->calls, &ev->ps->v[e->probe_id], e);
	if (!err && ev->hagg && ev->ps->v[e->probe_id].pool)
		err = http_agg_call(ev->hagg, ev->ps->v[e->probe_id].name, (pid_t)e->pid, e->start_ns,
				    e->start_ns + e->duration_ns);
	if (err && !ev->err)
		ev->err = err;
	return 0;
}

static int on_seq(void *ctx, void *data, size_t size)
{
	struct events *ev = ctx;
	int err;

	if (size < sizeof(struct seq_event))
		return 0;
	err = agg_add_seq(ev->agg, data);
	if (err && !ev->err)
		ev->err = err;
	return 0;
}

static int on_sock(void *ctx, void *data, size_t size)
{
	struct events *ev = ctx;
	int err = http_framer_add(ev->http, data, size);

	if (!err)
		err = ev->hagg->err;
	if (err && !ev->err)
		ev->err = err;
	return 0;
}

int events_listen_socks(struct events *ev, int map_fd, struct http_framer *f, struct http_agg *hagg)
{
	ev->http = f;
	ev->hagg = hagg;
	return ring_buffer__add(ev->rb, map_fd, on_sock, ev);
}

int events_listen_seqs(struct events *ev, int map_fd)
{
	return ring_buffer__add(ev->rb, map_fd, on_seq, ev);
}

int events_open(struct events *ev, int map_fd, struct aggregator *agg,
		const struct probe_set *ps, FILE *calls)
{
	memset(ev, 0, sizeof(*ev));
	ev->agg = agg;
	ev->ps = ps;
	ev->calls = calls;
	ev->rb = ring_buffer__new(map_fd, on_event, ev, NULL);
	return ev->rb ? 0 : -errno;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int events_poll(struct events *ev, int timeout_ms)
{
	int n, m;

	ev->now = mono_now();
	n = ring_buffer__poll(ev->rb, timeout_ms);
	if (n < 0 && n != -EINTR)
		return n;
	ev->now = mono_now();
	m = ring_buffer__consume(ev->rb);
	if (m < 0 && m != -EINTR)
		return m;
	return (n > 0 ? n : 0) + (m > 0 ? m : 0);
}

void events_close(struct events *ev)
{
	ring_buffer__free(ev->rb);
	memset(ev, 0, sizeof(*ev));
}
