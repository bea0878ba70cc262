// SPDX-License-Identifier: GPL-2.0
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "inferlat.h"
#include "log.h"
#include "procfs.h"
#include "watch.h"

#define LOADER_SYMBOL "_dl_debug_state"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* With only -p targets every link is per process; otherwise one link
 * serves all processes and BPF filters by the traced set. */
static pid_t link_pid(const struct watch *w, pid_t pid)
{
	return w->ps->filter_tgid ? -1 : pid;
}

/* Attach the loader watch to one object (a dynamic loader) for pid. */
static int watch_object(struct watch *w, struct object *o, pid_t pid)
{
	struct loader_watch *nv;
	pid_t lp = link_pid(w, pid);
	const struct elf_func *f = NULL;
	int err;

	for (size_t i = 0; i < w->nloaders; i++)
		if (w->loaders[i].dev == o->dev && w->loaders[i].ino == o->ino && w->loaders[i].pid == lp)
			return 0;
	err = object_open(o, w->ro->debug_root);
	if (err) {
		log_info("cannot read the dynamic loader %s: %s; libraries it loads later are not probed",
			 o->path, strerror(-err));
		return 0;
	}
	for (size_t i = 0; i < o->elf.nfuncs && !f; i++)
		if (!strcmp(o->elf.funcs[i].name, LOADER_SYMBOL))
			f = &o->elf.funcs[i];
	if (!f) {
		log_info("the dynamic loader %s has no %s; libraries it loads later are not probed",
			 o->path, LOADER_SYMBOL);
		return 0;
	}
	err = session_watch_loader(w->s, o->open_path, f->file_off, lp);
	if (err == -ESRCH)
		return 0;   /* gone already */
	if (err) {
		log_err("cannot watch the dynamic loader %s for new libraries: %s", o->path, strerror(-err));
		return err;
	}
	nv = realloc(w->loaders, (w->nloaders + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	w->loaders = nv;
	w->loaders[w->nloaders++] = (struct loader_watch){ .dev = o->dev, .ino = o->ino, .pid = lp };
	log_info("watching %s (%s) for libraries loaded by %s", o->path, LOADER_SYMBOL,
		 lp < 0 ? "traced processes" : "the target");
	return 0;
}

/* The loader a running process was started with: the file at AT_BASE. */
static int watch_pid_loader(struct watch *w, pid_t pid)
{
	struct objects tmp = { 0 };
	struct object *o;
	unsigned long base = 0;
	int err;

	err = procfs_auxv(pid, AT_BASE, &base);
	if (err == -ESRCH || (!err && !base))
		return 0;   /* gone, or static: no loader */
	if (!err)
		err = objects_add_at(&tmp, pid, base, &o);
	if (!err)
		err = watch_object(w, o, pid);
	else if (err == -EACCES || err == -EPERM)
		log_err("PID %d: cannot read its auxv or maps to find its dynamic loader: %s (it needs "
			"CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH)", (int)pid, strerror(-err));
	else if (err != -ESRCH)
		log_info("PID %d: cannot find its dynamic loader: %s", (int)pid, strerror(-err));
	objects_free(&tmp);
	return err == -ESRCH || err == -ENOENT ? 0 : err;
}

/* The loader an executable names (PT_INTERP), for its processes to come. */
static int watch_exe_loader(struct watch *w, const char *exe)
{
	struct objects tmp = { 0 };
	struct elf_obj e;
	char interp[4096];
	struct object *o;
	int err;

	err = elf_obj_open(exe, &e);
	if (err)
		return 0;   /* explained when the targets were built */
	err = elf_obj_interp(&e, interp, sizeof(interp));
	elf_obj_close(&e);
	if (err)
		return 0;   /* static */
	err = objects_add_file(&tmp, interp, 0, &o);
	if (!err)
		err = watch_object(w, o, -1);
	else
		log_info("-x %s: its loader %s: %s", exe, interp, strerror(-err));
	objects_free(&tmp);
	return err == -ENOENT ? 0 : err;
}

int watch_start(struct watch *w, struct session *s, struct probe_set *ps,
		const struct probe_spec *specs, size_t nspecs, const struct resolve_opts *ro,
		struct calibration *calib, struct objects *known, const struct targets *t)
{
	int err = 0;

	memset(w, 0, sizeof(*w));
	w->s = s;
	w->ps = ps;
	w->specs = specs;
	w->nspecs = nspecs;
	w->ro = ro;
	w->calib = calib;
	w->known = known;
	for (size_t i = 0; i < t->npids && !err; i++)
		err = watch_pid_loader(w, t->pids[i]);
	for (size_t i = 0; i < t->nexes && !err; i++)
		err = watch_exe_loader(w, t->exes[i].path);
	/* --comm: any program may take the name; most use this host's loader,
	 * the one inferlat runs with (others are watched from their exec on) */
	if (!err && t->ncomms)
		err = watch_exe_loader(w, "/proc/self/exe");
	return err;
}

static int queue_pid(struct watch *w, pid_t pid, uint32_t kind, uint64_t ts)
{
	struct pending_pid *nv;

	for (size_t i = 0; i < w->nqueue; i++)
		if (w->queue[i].pid == pid) {
			w->queue[i].kinds |= 1u << kind;
			return 0;
		}
	nv = realloc(w->queue, (w->nqueue + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	w->queue = nv;
	w->queue[w->nqueue++] = (struct pending_pid){ .pid = pid, .kinds = 1u << kind, .ts = ts };
	return 0;
}

static int on_ctl(void *ctx, void *data, size_t size)
{
	struct watch *w = ctx;
	const struct ctl_event *c = data;
	int err;

	if (size < sizeof(*c))
		return 0;
	/* the work (maps, ELF, attach) waits for watch_run: not inside the
	 * ring buffer's callback, between call events */
	err = queue_pid(w, (pid_t)c->pid, c->kind, c->ts);
	if (err && !w->err)
		w->err = err;
	return 0;
}

int watch_listen(struct watch *w, struct ring_buffer *rb)
{
	return ring_buffer__add(rb, w->s->ctl_fd, on_ctl, w);
}

/* Files pid maps that were never examined: resolve the specs there. */
static int rescan(struct watch *w, const struct pending_pid *q)
{
	struct objects now = { 0 };
	size_t first = w->ps->n;
	int err, added = 0;

	err = objects_add_mapped(&now, q->pid);
	if (err) {
		objects_free(&now);
		return err == -ESRCH ? 0 : err;   /* gone: nothing left to probe */
	}
	for (size_t i = 0; i < now.n && !err; i++) {
		struct object *n = &now.v[i], *k = objects_find(w->known, n->dev, n->ino);
		size_t before = w->ps->n;
		int r;

		/* seen before, unless it could not be opened through the path of
		 * a process that is gone: then it is looked at again */
		if (k && !(k->open_err == -ENOENT && n->open_path)) {
			/* a -p target that maps it only now needs its own link */
			if (!w->ps->filter_tgid)
				err = session_attach_for_pid(w->s, w->ps, n->dev, n->ino, q->pid);
			else if (n->open_path)
				err = session_attach_again(w->s, w->ps, n->dev, n->ino, n->open_path);
			continue;
		}
		k = objects_add(w->known, n->path, n->open_path, n->dev, n->ino, q->pid);
		if (!k) {
			err = -ENOMEM;
			break;
		}
		r = resolve_object(w->specs, w->nspecs, k, w->ro, w->ps);
		if (r < 0) {
			/* explained: this library stays unprobed, the run goes on */
			if (r == -ENOMEM)
				err = r;
			continue;
		}
		for (size_t j = before; !w->ps->filter_tgid && j < w->ps->n && !err; j++)
			err = probe_pid_add(&w->ps->v[j].pids, &w->ps->v[j].npids, q->pid);
		added += r;
	}
	objects_free(&now);
	if (err || !added)
		return err;
	if (w->calib && (err = calibrate(w->s, w->ps, first, w->calib)))
		return err;
	err = session_attach_probes(w->s, w->ps, first, w->calib);
	if (err == -E2BIG) {
		/* none attached: forget them, so no row claims to measure them */
		while (w->ps->n > first)
			probe_clear(&w->ps->v[--w->ps->n]);
		return 0;
	}
	if (err)
		/* explained; what did attach is measured, the run goes on */
		return err == -ENOMEM ? err : added;
	for (size_t j = first; j < w->ps->n; j++)
		if (!w->ps->v[j].unattached)
			log_info("probe %u: %s at %s+%#llx: %s (%s), attached for PID %d %.1f ms after its "
				 "loader reported new objects", w->ps->v[j].id, w->ps->v[j].name,
				 w->ps->v[j].object, (unsigned long long)(w->ps->v[j].func_off + w->ps->v[j].site.skip),
				 w->ps->v[j].site.insn, site_kind_name(w->ps->v[j].site.kind), (int)q->pid,
				 (double)(mono_ns() - q->ts) / 1e6);
	return added;
}

int watch_run(struct watch *w)
{
	size_t first = w->ps->n;
	int err = w->err;

	w->err = 0;
	for (size_t i = 0; i < w->nqueue && !err; i++) {
		const struct pending_pid *q = &w->queue[i];
		int r;

		/* a process that started: its loader, if not one already watched */
		if (q->kinds & (1u << INFERLAT_CTL_EXEC))
			err = watch_pid_loader(w, q->pid);
		if (err)
			break;
		r = rescan(w, q);
		if (r < 0)
			err = r;
	}
	w->nqueue = 0;
	if (err) {
		log_err("following new libraries: %s", strerror(-err));
		return err;
	}
	return (int)(w->ps->n - first);
}

void watch_free(struct watch *w)
{
	free(w->loaders);
	free(w->queue);
	memset(w, 0, sizeof(*w));
}
