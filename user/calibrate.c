// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "calibrate.h"
#include "hist.h"
#include "inferlat.skel.h"
#include "kstats.h"
#include "log.h"

/* user/calib.S */
int inferlat_calib_emulated(void);
int inferlat_calib_optimized(void);
int inferlat_calib_singlestep(void);

#define CALIB_WARMUP 200
#define CALIB_CALLS 1000
#define CALIB_BARE_CALLS 200

static int (*const calib_fn[CALIB_KINDS])(void) = {
	[SITE_OPTIMIZED] = inferlat_calib_optimized,
	[SITE_EMULATED] = inferlat_calib_emulated,
	[SITE_SINGLESTEP] = inferlat_calib_singlestep,
};

/* The file and offset of one of our own functions, through /proc/self/maps. */
static int own_file_offset(const void *fn, char *path, size_t sz, uint64_t *off)
{
	unsigned long long start, end, pgoff, ino;
	uintptr_t addr = (uintptr_t)fn;
	char line[4096], perms[8];
	int pos;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx %7s %llx %*x:%*x %llu %n", &start, &end, perms, &pgoff, &ino, &pos) < 5)
			continue;
		if (addr < start || addr >= end || !ino)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(path, sz, "%s", line + pos);
		*off = addr - start + pgoff;
		fclose(f);
		return 0;
	}
	fclose(f);
	return -ENOENT;
}

static void pause_ns(long ns)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ns };

	nanosleep(&ts, NULL);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * n calls of fn spaced by a short sleep, as a served request's calls are (a
 * tight loop keeps the trap path in cache and measures less than a real call
 * pays), each timed by its caller; returns the median.
 */
static uint64_t timed_calls(int (*fn)(void), uint64_t *t, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t t0;

		pause_ns(20000);
		t0 = mono_ns();
		fn();
		t[i] = mono_ns() - t0;
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_u64);
	return t[n / 2];
}

static int measure(struct session *s, enum site_kind kind, uint32_t id, uint32_t *overhead,
		   uint64_t *calls, uint32_t *hit_cost)
{
	/* with the ring-buffer event a real call sends: it is part of the per-hit cost */
	struct probe_cfg cfg = { 0 };
	size_t links_before = s->nlinks;
	unsigned long offs[1];
	__u64 cookies[1] = { id };
	struct kstats ks = { 0 };
	struct hist *h = NULL;
	uint64_t *buckets = NULL, *t = NULL, off = 0, bare, probed;
	uint32_t tgid = (uint32_t)getpid(), self = (uint32_t)gettid();
	char path[4096];
	int err;

	err = own_file_offset((const void *)calib_fn[kind], path, sizeof(path), &off);
	if (err)
		return err;
	err = bpf_map__update_elem(s->skel->maps.cfgs, &id, sizeof(id), &cfg, sizeof(cfg), BPF_ANY);
	if (err)
		return err;
	/* the entry program may filter by process: let ours through */
	err = session_trace_pid(s, (pid_t)tgid);
	if (err)
		return err;
	buckets = malloc(2 * INFERLAT_HIST_BUCKETS * sizeof(*buckets));
	h = malloc(sizeof(*h));
	t = malloc(CALIB_CALLS * sizeof(*t));
	if (!buckets || !h || !t) {
		err = -ENOMEM;
		goto out;
	}
	bare = timed_calls(calib_fn[kind], t, CALIB_BARE_CALLS);
	offs[0] = off;
	err = session_attach_sites(s, path, (pid_t)tgid, offs, cookies, 1);
	if (err)
		goto out;
	err = kstats_init(&ks, s->stats_fd, s->hists_fd);
	if (err)
		goto out;
	/* the first calls (first hit, cold caches, the optimized site being
	 * rewritten) are left out */
	timed_calls(calib_fn[kind], t, CALIB_WARMUP);
	err = kstats_read_hist(&ks, id, buckets + INFERLAT_HIST_BUCKETS);
	if (err)
		goto out;
	probed = timed_calls(calib_fn[kind], t, CALIB_CALLS);
	err = kstats_read_hist(&ks, id, buckets);
	if (err)
		goto out;
	for (size_t i = 0; i < INFERLAT_HIST_BUCKETS; i++)
		buckets[i] -= buckets[INFERLAT_HIST_BUCKETS + i];
	hist_from_buckets(h, buckets, 0);
	if (h->count < CALIB_CALLS / 2) {
		err = -EIO;   /* the probes did not fire */
		goto out;
	}
	if (probed <= bare) {
		err = -EIO;   /* the probes cost nothing: they did not fire */
		goto out;
	}
	*overhead = (uint32_t)hist_quantile_ns(h, 0.5);
	*calls = h->count;
	*hit_cost = (uint32_t)(probed - bare);
out:
	/* the calibration links are the last ones added */
	while (s->nlinks > links_before)
		bpf_link__destroy(s->links[--s->nlinks]);
	/* and inferlat's own thread has no storage left: its context switches
	 * take the untraced path */
	session_untrace_pid(s, (pid_t)tgid);
	/* this thread lives on: its slot in the thread table would be held
	 * (and one less for the targets' threads) until inferlat exits */
	bpf_map__delete_elem(s->skel->maps.sched_accts, &self, sizeof(self), 0);
	kstats_free(&ks);
	free(buckets);
	free(h);
	free(t);
	return err;
}

static int measure_kind(struct session *s, enum site_kind k, struct calibration *c)
{
	int err;

	if (c->measured[k])
		return 0;
	err = measure(s, k, s->slots + (uint32_t)k, &c->overhead_ns[k], &c->calls[k],
		      &c->hit_cost_ns[k]);
	if (err) {
		log_err("cannot measure the probe overhead (%s site): %s; --raw-durations skips it",
			site_kind_name(k), strerror(-err));
		return err;
	}
	c->measured[k] = true;
	log_info("probe overhead at %s sites: %u ns per call (median of %llu calls), "
		 "subtracted from every duration; %u ns per hit to the caller", site_kind_name(k),
		 c->overhead_ns[k], (unsigned long long)c->calls[k], c->hit_cost_ns[k]);
	return 0;
}

int calibrate(struct session *s, const struct probe_set *ps, size_t first, struct calibration *c)
{
	int err = 0;

	for (size_t i = first; i < ps->n && !err; i++)
		err = measure_kind(s, ps->v[i].site.kind, c);
	return err;
}

int calibrate_all(struct session *s, struct calibration *c)
{
	int err = 0;

	for (int k = 0; k < CALIB_KINDS && !err; k++)
		err = measure_kind(s, (enum site_kind)k, c);
	return err;
}
