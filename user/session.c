// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "grow.h"
#include "session.h"
#include "bpfmem.h"
#include "inferlat.h"
#include "inferlat.skel.h"
#include "log.h"
#include "privs.h"
#include "procfs.h"

static int add_link(struct session *s, struct bpf_link *l)
{
	if (GROW(s->links, s->nlinks, s->cap, 64))
		return -ENOMEM;
	s->links[s->nlinks++] = l;
	return 0;
}

/* Keep a link just made (NULL: the attach failed, errno says why). */
static int keep(struct session *s, struct bpf_link *l)
{
	int err;

	if (!l)
		return -errno;
	err = add_link(s, l);
	if (err)
		bpf_link__destroy(l);
	return err;
}

static int attach_tp(struct session *s, struct bpf_program *prog, const char *tp)
{
	int err = keep(s, bpf_program__attach(prog));

	if (err)
		log_err("cannot attach to the %s tracepoint: %s", tp, strerror(-err));
	return err;
}

/* One perf-event uprobe pair per site: kernels without uprobe_multi links. */
static int attach_single(struct session *s, const char *path, pid_t pid, uint64_t off, uint32_t id)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = id);
	int err;

	err = keep(s, bpf_program__attach_uprobe_opts(s->skel->progs.on_entry, pid, path, off, &uo));
	if (err)
		return err;
	uo.retprobe = true;
	return keep(s, bpf_program__attach_uprobe_opts(s->skel->progs.on_return, pid, path, off, &uo));
}

/* All sites of one file for one process (or all: pid -1) in two links. */
static int attach_multi(struct session *s, const char *path, pid_t pid, unsigned long *offs,
			__u64 *cookies, size_t n)
{
	LIBBPF_OPTS(bpf_uprobe_multi_opts, mo, .offsets = offs, .cookies = cookies, .cnt = n);
	int err;

	err = keep(s, bpf_program__attach_uprobe_multi(s->skel->progs.on_entry_multi, pid, path, NULL, &mo));
	if (err)
		return err;
	mo.retprobe = true;
	return keep(s, bpf_program__attach_uprobe_multi(s->skel->progs.on_return_multi, pid, path, NULL, &mo));
}

int session_attach_sites(struct session *s, const char *path, pid_t pid, unsigned long *offs,
			 __u64 *cookies, size_t n)
{
	int err = 0;

	if (s->multi)
		return attach_multi(s, path, pid, offs, cookies, n);
	for (size_t i = 0; i < n && !err; i++)
		err = attach_single(s, path, pid, offs[i], (uint32_t)cookies[i]);
	return err;
}

static bool probe_has_pid(const struct probe *p, pid_t pid)
{
	if (pid < 0)
		return !p->npids;
	for (size_t i = 0; i < p->npids; i++)
		if (p->pids[i] == pid)
			return true;
	return false;
}

static bool same_file(const struct probe *a, const struct probe *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

/*
 * The probe's file through pid's own root when that leads to it: the path
 * the probe was resolved by can be gone with the process it went through.
 */
static const char *reach(const struct probe *f, pid_t pid, char *path, size_t size)
{
	struct stat st;

	if (pid <= 0)
		return f->attach_path;
	procfs_root_path(pid, f->object, path, size);
	if (stat(path, &st) || procfs_kdev(st.st_dev) != f->dev || st.st_ino != f->ino)
		return f->attach_path;
	return path;
}

static int attach_group(struct session *s, struct probe_set *ps, size_t first, size_t lead,
			pid_t pid, unsigned long *offs, __u64 *cookies)
{
	const struct probe *f = &ps->v[lead];
	char path[4096];
	size_t n = 0;
	int err;

	for (size_t j = first; j < ps->n; j++) {
		const struct probe *p = &ps->v[j];

		if (!same_file(p, f) || !probe_has_pid(p, pid))
			continue;
		offs[n] = p->func_off + p->site.skip;
		cookies[n] = p->id;
		n++;
	}
	err = session_attach_sites(s, reach(f, pid, path, sizeof(path)), pid, offs, cookies, n);
	if (pid <= 0) {
		/* a target that mapped the file and exited at once (a loader
		 * test run in a child): the next one that maps it brings a path */
		for (size_t j = first; j < ps->n; j++)
			if (same_file(&ps->v[j], f))
				ps->v[j].unattached = err == -ENOENT;
		if (err == -ENOENT) {
			log_info("%s: %s went with the process it was reached through; attached when "
				 "another target maps it", f->name, f->attach_path);
			return 0;
		}
	}
	if (err == -ESRCH && pid > 0)
		log_err("PID %d exited while inferlat was attaching", (int)pid);
	else if (err)
		log_err("cannot attach to %s (%s, %zu site%s): %s", f->name, f->object, n,
			n == 1 ? "" : "s", strerror(-err));
	return err;
}

/*
 * Attach probes [first, n): sites are grouped by file and process, one link
 * pair per group (uprobe_multi), so attaching a thousand functions of one
 * library costs two system calls, not two thousand.
 */
static int attach_probes(struct session *s, struct probe_set *ps, size_t first)
{
	size_t cap = ps->n - first ? ps->n - first : 1;
	unsigned long *offs = calloc(cap, sizeof(*offs));
	__u64 *cookies = calloc(cap, sizeof(*cookies));
	pid_t *pids = calloc(cap * 2, sizeof(*pids));   /* generous: a few per probe */
	size_t pcap = cap * 2;
	int err = 0;

	if (!offs || !cookies || !pids) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = first; i < ps->n && !err; i++) {
		const struct probe *lead = &ps->v[i];
		size_t npids = 0;
		bool seen = false;

		for (size_t j = first; j < i && !seen; j++)
			seen = same_file(&ps->v[j], lead);
		if (seen)
			continue;   /* this file was attached with an earlier probe */

		/* the processes any probe of this file fires for (-1: all) */
		for (size_t j = i; j < ps->n; j++) {
			const struct probe *p = &ps->v[j];
			size_t np = p->npids ? p->npids : 1;

			if (!same_file(p, lead))
				continue;
			for (size_t k = 0; k < np; k++) {
				pid_t pid = p->npids ? p->pids[k] : -1;
				bool have = false;

				for (size_t m = 0; m < npids && !have; m++)
					have = pids[m] == pid;
				if (have)
					continue;
				if (npids == pcap) {
					pid_t *nv = realloc(pids, pcap * 2 * sizeof(*nv));

					if (!nv) {
						err = -ENOMEM;
						goto out;
					}
					pids = nv;
					pcap *= 2;
				}
				pids[npids++] = pid;
			}
		}
		for (size_t k = 0; k < npids && !err; k++)
			err = attach_group(s, ps, first, i, pids[k], offs, cookies);
	}
out:
	free(offs);
	free(cookies);
	free(pids);
	return err;
}

/* Each probe's configuration: its error predicate and the overhead its
 * site kind adds to every duration (when measured). */
static int configure(struct session *s, struct probe_set *ps, size_t first, const struct calibration *c)
{
	for (size_t i = first; i < ps->n; i++) {
		struct probe *p = &ps->v[i];
		struct probe_cfg cfg = {
			.err_kind = (uint8_t)p->err_kind,
			.ret_bits = (uint8_t)p->ret_bits,
			.adjust_ns = c && c->measured[p->site.kind] ? c->overhead_ns[p->site.kind] : 0,
			.slow_ns = s->slow_ns,
		};
		uint32_t id = p->id;
		int err;

		/* entry sites only skip rsp-neutral instructions: stack offsets hold */
		cfg.nargs = p->decode.nargs;
		if (p->decode.measure == MEASURE_TOKENS)
			cfg.flags |= INFERLAT_CFG_SEQ_DECODE;
		else if (p->decode.measure == MEASURE_SEQ_RM)
			cfg.flags |= INFERLAT_CFG_SEQ_RM;
		else if (p->decode.measure == MEASURE_SEQ_CLEAR)
			cfg.flags |= INFERLAT_CFG_SEQ_CLEAR;
		if (p->pool) {
			cfg.flags |= INFERLAT_CFG_POOL;
			s->skel->bss->pool_clock = true;
		}
		if (probe_kernel_only(ps, p))
			cfg.flags |= INFERLAT_CFG_NO_EVENT;   /* nobody reads its events */
		memcpy(cfg.args, p->decode.args, sizeof(cfg.args));
		err = bpf_map__update_elem(s->skel->maps.cfgs, &id, sizeof(id), &cfg, sizeof(cfg), BPF_ANY);
		if (err) {
			log_err("cannot configure probe %s: %s", p->name, strerror(-err));
			return err;
		}
		p->overhead_ns = cfg.adjust_ns;
		p->hit_cost_ns = c && c->measured[p->site.kind] ? c->hit_cost_ns[p->site.kind] : 0;
	}
	return 0;
}

int session_set_slow(struct session *s, uint32_t id, uint64_t slow_ns)
{
	struct probe_cfg cfg;
	int err;

	err = bpf_map__lookup_elem(s->skel->maps.cfgs, &id, sizeof(id), &cfg, sizeof(cfg), 0);
	if (err)
		return err;
	if (cfg.slow_ns == slow_ns)
		return 0;
	cfg.slow_ns = slow_ns;
	return bpf_map__update_elem(s->skel->maps.cfgs, &id, sizeof(id), &cfg, sizeof(cfg), BPF_ANY);
}

int session_attach_probes(struct session *s, struct probe_set *ps, size_t first,
			  const struct calibration *c)
{
	int err;

	if (ps->n > s->slots) {
		log_err("no room for %zu more probes (%u in all): give --max-probes to keep room for "
			"functions found after start", ps->n - first, s->slots);
		return -E2BIG;
	}
	err = configure(s, ps, first, c);
	return err ? err : attach_probes(s, ps, first);
}

int session_attach_for_pid(struct session *s, struct probe_set *ps, uint64_t dev, uint64_t ino,
			   pid_t pid)
{
	unsigned long *offs = calloc(ps->n ? ps->n : 1, sizeof(*offs));
	__u64 *cookies = calloc(ps->n ? ps->n : 1, sizeof(*cookies));
	size_t lead = ps->n;
	int err = 0;

	if (!offs || !cookies) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ps->n && !err; i++) {
		struct probe *p = &ps->v[i];

		if (p->dev != dev || p->ino != ino || probe_has_pid(p, pid))
			continue;
		if (lead == ps->n)
			lead = i;
		err = probe_pid_add(&p->pids, &p->npids, pid);
	}
	if (!err && lead < ps->n)
		err = attach_group(s, ps, 0, lead, pid, offs, cookies);
out:
	free(offs);
	free(cookies);
	return err;
}

int session_attach_again(struct session *s, struct probe_set *ps, uint64_t dev, uint64_t ino,
			 const char *path)
{
	unsigned long *offs;
	__u64 *cookies;
	size_t lead = ps->n;
	int err = 0;

	for (size_t i = 0; i < ps->n; i++) {
		struct probe *p = &ps->v[i];
		char *np;

		if (p->dev != dev || p->ino != ino || !p->unattached)
			continue;
		np = strdup(path);
		if (!np)
			return -ENOMEM;
		free(p->attach_path);
		p->attach_path = np;
		if (lead == ps->n)
			lead = i;
	}
	if (lead == ps->n)
		return 0;
	offs = calloc(ps->n, sizeof(*offs));
	cookies = calloc(ps->n, sizeof(*cookies));
	if (!offs || !cookies)
		err = -ENOMEM;
	else
		err = attach_group(s, ps, 0, lead, -1, offs, cookies);
	free(offs);
	free(cookies);
	return err;
}

int session_watch_loader(struct session *s, const char *path, uint64_t off, pid_t pid)
{
	LIBBPF_OPTS(bpf_uprobe_multi_opts, mo);
	unsigned long offs[1] = { off };

	if (!s->multi)
		return keep(s, bpf_program__attach_uprobe(s->skel->progs.on_loader, false, pid, path, off));
	mo.offsets = offs;
	mo.cnt = 1;
	return keep(s, bpf_program__attach_uprobe_multi(s->skel->progs.on_loader_multi, pid, path, NULL, &mo));
}

/*
 * Whether the kernel has uprobe_multi links: a link_create of that type for
 * no program fails with EBADF when it does, and EINVAL when it does not know
 * the attach type (the probe libbpf itself uses for the feature).
 */
static bool multi_supported(void)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	int fd;

	fd = bpf_link_create(-1, -1, BPF_TRACE_UPROBE_MULTI, &lo);
	if (fd >= 0) {
		close(fd);
		return true;
	}
	return errno == EBADF;
}

/* key -> 1 in a set map */
static int map_mark(struct bpf_map *m, const void *key, size_t key_sz)
{
	uint8_t one = 1;

	return bpf_map__update_elem(m, key, key_sz, &one, sizeof(one), BPF_ANY);
}

/* Who is traced: the processes, executables and names to follow, and the
 * ports whose requests count. 0 or -errno. */
static int fill_target_maps(struct session *s, const struct probe_set *ps, const struct targets *t,
			    const struct attach_opts *o)
{
	int err;

	/* the socket syscalls are filtered by the traced set in every mode */
	if (ps->filter_tgid || o->http) {
		for (size_t i = 0; i < t->npids; i++) {
			err = session_trace_pid(s, t->pids[i]);
			if (err == -ESRCH)
				continue;   /* gone already: the targets' watch reports it */
			if (err)
				return err;
		}
	}
	for (size_t i = 0; i < t->nexes; i++) {
		struct exe_key k = { .dev = t->exes[i].dev, .ino = t->exes[i].ino };

		if ((err = map_mark(s->skel->maps.followed_exes, &k, sizeof(k))))
			return err;
	}
	for (size_t i = 0; i < o->nhttp_ports; i++)
		if ((err = map_mark(s->skel->maps.http_ports, &o->http_ports[i], sizeof(o->http_ports[i]))))
			return err;
	for (size_t i = 0; i < t->ncomms; i++) {
		struct comm_key k = { 0 };

		strncpy(k.comm, t->comms[i], sizeof(k.comm) - 1);
		if ((err = map_mark(s->skel->maps.followed_comms, &k, sizeof(k))))
			return err;
	}
	return 0;
}

int session_start(struct session *s, struct probe_set *ps, const struct targets *t,
		  const struct attach_opts *o)
{
	struct inferlat_bpf *skel;
	/* the calibration probes follow the real ones and the room kept */
	uint32_t slots = o->slots > ps->n ? o->slots : (uint32_t)ps->n;
	uint32_t nprobes = slots + INFERLAT_CALIB_PROBES;
	int err;

	memset(s, 0, sizeof(*s));
	skel = inferlat_bpf__open();
	if (!skel) {
		err = -errno;
		log_err("cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	s->skel = skel;
	s->slots = slots;
	s->slow_ns = o->slow_ns;
	s->no_split = o->no_split;
	skel->rodata->filter_tgid = ps->filter_tgid;
	skel->rodata->follow_exec = t->nexes > 0;
	skel->rodata->follow_comm = t->ncomms > 0;
	skel->rodata->follow_forks = o->follow_forks;
	skel->rodata->split_on = !o->no_split;
	if (o->ringbuf_bytes) {
		bpf_map__set_max_entries(skel->maps.events, o->ringbuf_bytes);
		skel->rodata->wakeup_bytes = o->ringbuf_bytes / 4;
	}
	bpf_map__set_max_entries(skel->maps.stats, nprobes);
	bpf_map__set_max_entries(skel->maps.hists, nprobes);
	bpf_map__set_max_entries(skel->maps.cfgs, nprobes);
	if (o->max_threads)
		bpf_map__set_max_entries(skel->maps.sched_accts, o->max_threads);
	/* uprobe_multi links (kernel >= 6.6) when the kernel has them: cheaper
	 * per call and per attach; single perf uprobes otherwise */
	s->multi = !o->no_multi && multi_supported();
	if (!s->multi && !o->no_multi && !privs_sys_admin()) {
		log_err("this kernel has no uprobe_multi links (Linux < 6.6): its perf uprobes need "
			"CAP_SYS_ADMIN; run inferlat as root or add that capability");
		err = -EPERM;
		goto fail;
	}
	bpf_program__set_autoload(skel->progs.on_entry_multi, s->multi);
	bpf_program__set_autoload(skel->progs.on_return_multi, s->multi);
	bpf_program__set_autoload(skel->progs.on_entry, !s->multi);
	bpf_program__set_autoload(skel->progs.on_return, !s->multi);
	bpf_program__set_autoload(skel->progs.on_loader_multi, s->multi);
	bpf_program__set_autoload(skel->progs.on_loader, !s->multi);
	/* exec: followed executables and names, and the mark of a traced
	 * process whose exec made another thread its leader */
	if (!t->nexes && !t->ncomms && !ps->filter_tgid && !o->http)
		bpf_program__set_autoload(skel->progs.on_exec, false);
	/* --no-split: nothing runs on the host's context switches */
	bpf_program__set_autoload(skel->progs.on_switch, !o->no_split);
	bpf_program__set_autoload(skel->progs.on_wakeup, !o->no_split);
	/* exit: the thread's accounting (split), the traced set (filtered, --http) */
	bpf_program__set_autoload(skel->progs.on_exit, !o->no_split || ps->filter_tgid || o->http);
	if (!ps->filter_tgid && !o->http)
		bpf_program__set_autoload(skel->progs.on_fork, false);
	/* the socket syscalls: only with --http, so that nothing runs on every
	 * syscall of the host otherwise */
	bpf_program__set_autoload(skel->progs.on_sys_enter, o->http);
	bpf_program__set_autoload(skel->progs.on_sys_exit, o->http);
	if (!o->http) {
		/* their smallest sizes: kernel memory is only held for what is used */
		bpf_map__set_max_entries(skel->maps.socks, (uint32_t)sysconf(_SC_PAGESIZE));
		bpf_map__set_max_entries(skel->maps.conns, 1);
		bpf_map__set_max_entries(skel->maps.http_ports, 1);
	}
	skel->rodata->http_on = o->http;
	skel->rodata->http_any_port = o->nhttp_ports == 0;

	err = inferlat_bpf__load(skel);
	if (err) {
		log_err("cannot load the BPF programs: %s (kernel >= 5.15 with BTF needed; -v shows the verifier log)",
			strerror(-err));
		goto fail;
	}
	s->events_fd = bpf_map__fd(skel->maps.events);
	s->stats_fd = bpf_map__fd(skel->maps.stats);
	s->hists_fd = bpf_map__fd(skel->maps.hists);
	s->ctl_fd = bpf_map__fd(skel->maps.ctl);
	s->exemplars_fd = bpf_map__fd(skel->maps.exemplars);
	s->seqs_fd = bpf_map__fd(skel->maps.seqs);
	s->socks_fd = o->http ? bpf_map__fd(skel->maps.socks) : -1;
	s->conns_fd = o->http ? bpf_map__fd(skel->maps.conns) : -1;
	s->sock_counters = o->http ? &skel->bss->sock_counters : NULL;

	err = fill_target_maps(s, ps, t, o);
	if (err)
		goto map_fail;
	/* where the time of calls goes: scheduler events of threads inside calls */
	if (!o->no_split &&
	    ((err = attach_tp(s, skel->progs.on_switch, "sched_switch")) ||
	     (err = attach_tp(s, skel->progs.on_wakeup, "sched_wakeup"))))
		goto fail;
	/* exec and exit tracking first, so no process slips between scan and attach */
	if ((t->nexes || t->ncomms || ps->filter_tgid || o->http) &&
	    (err = attach_tp(s, skel->progs.on_exec, "sched_process_exec")))
		goto fail;
	if ((!o->no_split || ps->filter_tgid || o->http) &&
	    (err = attach_tp(s, skel->progs.on_exit, "sched_process_exit")))
		goto fail;
	if ((ps->filter_tgid || o->http) &&
	    (err = attach_tp(s, skel->progs.on_fork, "sched_process_fork")))
		goto fail;

	if (o->http &&
	    ((err = attach_tp(s, skel->progs.on_sys_enter, "sys_enter")) ||
	     (err = attach_tp(s, skel->progs.on_sys_exit, "sys_exit"))))
		goto fail;

	return 0;
map_fail:
	log_err("cannot fill the BPF maps: %s", strerror(-err));
fail:
	session_stop(s);
	return err;
}

int session_trace_pid(struct session *s, pid_t pid)
{
	uint32_t tgid = (uint32_t)pid;
	uint8_t one = 1;
	int pfd, err;

	err = bpf_map__update_elem(s->skel->maps.traced_tgids, &tgid, sizeof(tgid), &one, sizeof(one),
				   BPF_ANY);
	if (err)
		return err;
	/* the per-task test of the programs that run for every task (a
	 * pidfd names the process: its group leader) */
	pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return -errno;
	err = bpf_map__update_elem(s->skel->maps.traced_procs, &pfd, sizeof(pfd), &one, sizeof(one),
				   BPF_ANY);
	close(pfd);
	return err;
}

int session_untrace_pid(struct session *s, pid_t pid)
{
	uint32_t tgid = (uint32_t)pid;
	int pfd;

	bpf_map__delete_elem(s->skel->maps.traced_tgids, &tgid, sizeof(tgid), 0);
	pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return -errno;
	/* the leader's storage goes once it holds none: untraced again; its
	 * call state leaves the kernel's count with it */
	bpf_map__delete_elem(s->skel->maps.traced_procs, &pfd, sizeof(pfd), 0);
	if (!bpf_map__delete_elem(s->skel->maps.threads, &pfd, sizeof(pfd), 0))
		__atomic_fetch_sub(&s->skel->bss->thread_states, 1, __ATOMIC_RELAXED);
	close(pfd);
	return 0;
}

int session_bpf_memory(const struct session *s, struct bpf_memory *m)
{
	int64_t threads = __atomic_load_n(&s->skel->bss->thread_states, __ATOMIC_RELAXED);

	return bpfmem_read(s->skel->obj, threads, bpf_map__value_size(s->skel->maps.threads), m);
}

uint64_t session_targets_full(const struct session *s)
{
	return __atomic_load_n(&s->skel->bss->targets_full, __ATOMIC_RELAXED);
}

int session_follow_conn(struct session *s, pid_t pid, int fd, uint64_t conn_id, uint16_t port)
{
	struct { uint32_t tgid; int32_t fd; } k = { (uint32_t)pid, fd };
	struct { uint64_t conn_id; uint16_t port, pad[3]; } v = { conn_id, port, { 0 } };

	_Static_assert(sizeof(k) == 8 && sizeof(v) == 16, "the conns map's key and value (bpf/sock.bpf.h)");
	return bpf_map__update_elem(s->skel->maps.conns, &k, sizeof(k), &v, sizeof(v), BPF_NOEXIST);
}

void session_detach(struct session *s)
{
	for (size_t i = s->nlinks; i > 0; i--)
		bpf_link__destroy(s->links[i - 1]);
	s->nlinks = 0;
}

void session_stop(struct session *s)
{
	/* links first, so no program runs on a half-freed object */
	session_detach(s);
	free(s->links);
	if (s->skel)
		inferlat_bpf__destroy(s->skel);
	memset(s, 0, sizeof(*s));
}
