// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "elfsym.h"
#include "log.h"
#include "needed.h"
#include "ortapi.h"
#include "resolve.h"

#define NEAREST 3

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static bool lib_glob_matches(const char *glob, const char *b, const char *soname)
{
	size_t n = strlen(glob);
	char versioned[512];

	if (!fnmatch(glob, b, 0) || (soname && !fnmatch(glob, soname, 0)))
		return true;
	/* libggml*.so matches libggml-base.so.1 */
	if (n > 3 && !strcmp(glob + n - 3, ".so") &&
	    snprintf(versioned, sizeof(versioned), "%s.*", glob) < (int)sizeof(versioned))
		return !fnmatch(versioned, b, 0);
	return false;
}

bool resolve_lib_matches(const char *name, const char *path, const char *soname)
{
	const char *b = base_name(path);
	size_t n = strlen(name);
	char stem[256];

	if (strchr(name, '/'))
		return has_glob(name) ? !fnmatch(name, path, 0) : !strcmp(name, path);
	if (has_glob(name))
		return lib_glob_matches(name, b, soname);
	if (!strcmp(b, name) || (soname && !strcmp(soname, name)))
		return true;
	/* libfoo.so matches libfoo.so.1.2 */
	if (!strncmp(b, name, n) && b[n] == '.')
		return true;
	/* libllama.so matches libllama.v0.5.0.so; libllama matches libllama.so.1 */
	if (n > 3 && !strcmp(name + n - 3, ".so"))
		n -= 3;
	if (n >= sizeof(stem))
		return false;
	memcpy(stem, name, n);
	stem[n] = '\0';
	if (!strncmp(b, stem, n) && b[n] == '.' && strstr(b + n, ".so"))
		return true;
	return false;
}

bool resolve_sym_matches(const char *glob, const struct elf_func *f)
{
	return !fnmatch(glob, f->name, 0) || (f->demangled && !fnmatch(glob, f->demangled, 0)) ||
	       (f->base && !fnmatch(glob, f->base, 0));
}

size_t resolve_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row, d;

	if (la > 256)
		la = 256;
	if (lb > 256)
		lb = 256;
	row = malloc((lb + 1) * sizeof(*row));
	if (!row)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	d = row[lb];
	free(row);
	return d;
}

int resolve_choose_site(const struct elf_obj *o, uint64_t func_off, bool at_symbol, struct site *out)
{
	uint8_t code[16] = { 0 };
	long n = elf_obj_read(o, func_off, code, sizeof(code));

	if (n <= 0)
		return n < 0 ? (int)n : -EIO;
	site_choose(code, (size_t)n, func_off, out);
	if (at_symbol && out->skip) {
		out->skip = 0;
		out->kind = out->start_kind;
		memcpy(out->insn, out->start_insn, sizeof(out->insn));
	}
	return 0;
}

/* Does the probe set already hold this function? */
static struct probe *find_probe(struct probe_set *ps, uint64_t dev, uint64_t ino, uint64_t off)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].dev == dev && ps->v[i].ino == ino && ps->v[i].func_off == off)
			return &ps->v[i];
	return NULL;
}

static int add_probe(struct probe_set *ps, const struct probe_spec *s, struct object *o,
		     const char *symbol, uint64_t func_off, const struct resolve_opts *ro)
{
	uint8_t code[16] = { 0 };
	struct probe *p;
	char name[1024];
	long n;
	int err;

	if (find_probe(ps, o->dev, o->ino, func_off))
		return 0;
	if (ps->n >= ro->max_probes)
		return -E2BIG;
	p = realloc(ps->v, (ps->n + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	ps->v = p;
	p = &ps->v[ps->n];
	memset(p, 0, sizeof(*p));
	p->id = (uint32_t)ps->n;
	snprintf(name, sizeof(name), "%s:%s", base_name(o->path), symbol);
	p->name = strdup(name);
	p->object = strdup(o->path);
	p->attach_path = strdup(o->open_path);
	p->symbol = strdup(symbol);
	if (!p->name || !p->object || !p->attach_path || !p->symbol) {
		err = -ENOMEM;
		goto fail;
	}
	p->dev = o->dev;
	p->ino = o->ino;
	p->func_off = func_off;
	p->err_kind = s->err_kind;
	p->ret_bits = s->ret_bits;
	p->runtime = s->runtime;
	p->decode = s->decode;
	p->share_of = s->share_of;
	p->silent_hint = s->silent_hint;
	p->pool = s->pool;
	p->op = s->op;
	if (s->offset && !s->at_offset) {
		/* +OFF: only across rsp-neutral padding, or the return probe
		 * would take the wrong stack slot for the return address */
		size_t neutral;

		n = elf_obj_read(&o->elf, func_off, code, sizeof(code));
		if (n <= 0) {
			err = n < 0 ? (int)n : -EIO;
			goto unreadable;
		}
		neutral = site_neutral_prefix(code, (size_t)n);
		if (s->offset > neutral) {
			log_err("probe '%s': +%#llx passes instructions that move the stack pointer; "
				"inferlat times calls and can only skip endbr64 and nops (here: +%#zx)",
				s->text, (unsigned long long)s->offset, neutral);
			err = -EINVAL;
			goto fail;
		}
		if (!site_neutral_skip_ok(code, (size_t)n, s->offset)) {
			log_err("probe '%s': +%#llx lands inside an instruction; skip endbr64 and nops "
				"whole (here: +%#zx)", s->text, (unsigned long long)s->offset, neutral);
			err = -EINVAL;
			goto fail;
		}
		site_choose(code + s->offset, (size_t)n - s->offset, func_off + s->offset, &p->site);
		p->site.skip += (uint32_t)s->offset;
	} else if ((err = resolve_choose_site(&o->elf, func_off, ro->site_at_symbol, &p->site))) {
		goto unreadable;
	}
	ps->n++;
	return 0;
unreadable:
	log_err("cannot read the code of %s in %s: %s", symbol, o->path, strerror(-err));
fail:
	probe_clear(p);
	return err;
}

/* The nearest function names to a pattern that matched nothing, in one line. */
static void report_nearest(const struct probe_spec *s, struct objects *os, const size_t *idx, size_t nidx)
{
	struct { const char *name; size_t d; } best[NEAREST];
	char want[512], line[2048];
	size_t nb = 0, len = 0, k = 0;

	/* compare against the pattern without its glob characters */
	for (const char *c = s->symbol; *c && k < sizeof(want) - 1; c++)
		if (!strchr("*?[]", *c))
			want[k++] = *c;
	want[k] = '\0';
	for (size_t i = 0; i < nidx; i++) {
		struct object *o = &os->v[idx[i]];

		if (!o->opened)
			continue;
		for (size_t j = 0; j < o->elf.nfuncs; j++) {
			const struct elf_func *f = &o->elf.funcs[j];
			const char *cand = f->base ? f->base : f->name;
			size_t d = resolve_edit_distance(want, cand);
			size_t pos = nb < NEAREST ? nb++ : NEAREST;

			if (pos == NEAREST && d >= best[NEAREST - 1].d)
				continue;
			if (pos == NEAREST)
				pos = NEAREST - 1;
			/* insertion into the sorted short list */
			while (pos > 0 && best[pos - 1].d > d) {
				best[pos] = best[pos - 1];
				pos--;
			}
			best[pos].name = f->demangled ? f->demangled : f->name;
			best[pos].d = d;
		}
	}
	for (size_t i = 0; i < nb && len < sizeof(line); i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s", i ? ", " : "", best[i].name);
	if (nb)
		log_err("probe '%s': no function matches; nearest: %s", s->text, line);
	else
		log_err("probe '%s': no function matches (the object has no symbols: give LIB:0xOFFSET)", s->text);
}

/* Why a named object cannot be probed, in one line. */
static void report_unopenable(const struct probe_spec *s, const struct object *o, int err)
{
	if (err == -ENOEXEC)
		log_err("probe '%s': %s is not an ELF file (x86-64): name a shared library or executable",
			s->text, o->path);
	else if (err == -ENOENT && o->npids && kill(o->pids[o->npids - 1], 0) && errno == ESRCH)
		log_info("probe '%s': %s went with PID %d, the process it was reached through; looked at "
			 "again when another target maps it", s->text, o->path, (int)o->pids[o->npids - 1]);
	else if (!o->open_path)
		log_err("probe '%s': PID %d maps %s, but the file was deleted or left its mount namespace "
			"and /proc/%d/map_files cannot reach it (needs CAP_SYS_ADMIN): restart the target to probe it",
			s->text, o->npids ? (int)o->pids[0] : 0, o->path, o->npids ? (int)o->pids[0] : 0);
	else
		log_err("probe '%s': %s: %s", s->text, o->path, strerror(-err));
}

static int push_index(size_t **idx, size_t *n, size_t i)
{
	size_t *nv;

	for (size_t k = 0; k < *n; k++)
		if ((*idx)[k] == i)
			return 0;
	nv = realloc(*idx, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*idx = nv;
	(*idx)[(*n)++] = i;
	return 0;
}

static bool spec_wants_object(const struct probe_spec *s, struct object *o, const struct resolve_opts *ro)
{
	if (!s->lib)
		return true;
	if (strchr(s->lib, '/'))
		return resolve_lib_matches(s->lib, o->path, NULL);
	/* the soname needs the file open; the basename first, cheaply */
	if (resolve_lib_matches(s->lib, o->path, NULL))
		return true;
	return !object_peek(o) && resolve_lib_matches(s->lib, o->path, o->elf.soname);
}

/*
 * A LIB path that no target maps yet: the file each target would load by
 * that path, in its own root (containers: never a host file that merely has
 * the same path); and the host's file for processes still to come (-x,
 * COMMAND). Probes on it fire as soon as a target maps it.
 */
static int add_unmapped_path(const struct probe_spec *s, struct objects *all, const struct targets *t,
			     size_t **idx, size_t *nidx)
{
	int last = -ENOENT;

	for (size_t i = 0; i <= t->npids; i++) {
		/* last round: the host, for processes still to come */
		bool host = i == t->npids;
		struct object *o;
		int err;

		if (host && t->npids && !t->nexes && !t->ncomms && !t->child)
			break;
		err = objects_add_file(all, s->lib, host ? 0 : t->pids[i], &o);
		if (!err)
			err = push_index(idx, nidx, (size_t)(o - all->v));
		if (err == -ENOMEM)
			return err;
		if (err)
			last = err;
	}
	if (!*nidx) {
		log_err("probe '%s': %s: %s%s", s->text, s->lib, strerror(-last),
			t->npids ? " (looked up in the targets' own root, /proc/PID/root)" : "");
		return last;
	}
	return 0;
}

/*
 * The objects a spec applies to, as indices into all. A library name that
 * no target maps yet leaves the spec waiting (*pending): it is resolved when
 * a target loads a matching library.
 */
static int spec_objects(const struct probe_spec *s, struct objects *all, const struct targets *t,
			const struct resolve_opts *ro, size_t **idx, size_t *nidx, bool *pending)
{
	int err;

	*pending = false;
	for (size_t i = 0; i < all->n; i++)
		if (spec_wants_object(s, &all->v[i], ro) && (err = push_index(idx, nidx, i)))
			return err;
	if (s->lib && strchr(s->lib, '/') && !has_glob(s->lib) && !*nidx)
		return add_unmapped_path(s, all, t, idx, nidx);
	if (!*nidx && s->lib) {
		*pending = true;
		return 0;
	}
	/* a library name must name one file */
	if (s->lib && !has_glob(s->lib) && *nidx > 1) {
		char line[2048];
		size_t len = 0;

		for (size_t i = 0; i < *nidx && len < sizeof(line); i++)
			len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s", i ? ", " : "",
						all->v[(*idx)[i]].path);
		log_err("probe '%s': library name '%s' is ambiguous: %s; give the path", s->text, s->lib, line);
		return -EINVAL;
	}
	return 0;
}

/* Probes for every function of o that s matches. -E2BIG over the cap. */
static int add_matches(const struct probe_spec *s, struct object *o, const struct resolve_opts *ro,
		       struct probe_set *ps, bool *matched)
{
	uint64_t off = s->offset;
	int err = 0;

	if (s->ort_table) {
		const struct ortapi *api;

		/* a stripped library: the function is where its API table says */
		err = ortapi_cached(o->open_path, o->dev, o->ino, &api);
		if (err)
			return err;
		off = api->off[s->ort_slot];
	}
	if (s->at_offset || s->ort_table) {
		const struct elf_func *f;
		char sym[600];

		if (!elf_obj_off_is_code(&o->elf, off)) {
			log_err("probe '%s': offset %#llx is not in an executable segment of %s",
				s->text, (unsigned long long)off, o->path);
			return -EINVAL;
		}
		*matched = true;
		f = elf_obj_func_at(&o->elf, off);
		if (s->label)
			snprintf(sym, sizeof(sym), "%s", s->label);
		else if (f && f->file_off == off)
			snprintf(sym, sizeof(sym), "%s", f->demangled ? f->demangled : f->name);
		else
			snprintf(sym, sizeof(sym), "%#llx", (unsigned long long)off);
		return add_probe(ps, s, o, sym, off, ro);
	}
	for (size_t j = 0; j < o->elf.nfuncs && !err; j++) {
		const struct elf_func *f = &o->elf.funcs[j];

		if (!resolve_sym_matches(s->symbol, f))
			continue;
		*matched = true;
		err = add_probe(ps, s, o, f->demangled ? f->demangled : f->name, f->file_off, ro);
	}
	return err;
}

static void report_cap(const struct probe_spec *s, const struct resolve_opts *ro)
{
	log_err("probe '%s': more than %zu functions match; narrow the pattern or raise --max-probes",
		s->text, ro->max_probes);
}

static int resolve_one(const struct probe_spec *s, struct objects *all, const struct targets *t,
		       const struct resolve_opts *ro, struct probe_set *ps)
{
	size_t *idx = NULL, nidx = 0;
	bool pending, matched = false;
	int err;

	err = spec_objects(s, all, t, ro, &idx, &nidx, &pending);
	if (err)
		goto out;
	if (pending) {
		ps->pending++;
		log_note("probe '%s': no target maps a library '%s' yet; it is attached when one loads it",
			 s->text, s->lib);
		goto out;
	}
	for (size_t i = 0; i < nidx; i++) {
		struct object *o = &all->v[idx[i]];

		err = object_open(o, ro->debug_root);
		if (err) {
			/* a named library must be readable; anonymous candidates may be skipped */
			if (s->lib) {
				report_unopenable(s, o, err);
				goto out;
			}
			err = 0;
			continue;
		}
		err = add_matches(s, o, ro, ps, &matched);
		if (err == -E2BIG)
			report_cap(s, ro);
		if (err)
			goto out;
	}
	if (!matched) {
		report_nearest(s, all, idx, nidx);
		err = -ENOENT;
	}
out:
	free(idx);
	return err;
}

/* -x executables and, when no process runs them yet, the libraries their
 * loader would map: what the processes to come will map. */
static int add_exe_files(const struct targets *t, struct objects *all)
{
	for (size_t i = 0; i < t->nexes; i++) {
		const struct exe_target *x = &t->exes[i];
		struct object *o;
		char **libs = NULL;
		size_t nlibs = 0;
		int err;

		err = objects_add_file(all, x->path, 0, &o);
		if (!err)
			err = object_peek(o);
		if (err == -ENOEXEC) {
			log_err("-x %s: not an ELF executable (x86-64): give the program the processes run "
				"(a script's is its interpreter; or use --comm NAME)", x->path);
			return err;
		}
		if (err) {
			log_err("-x %s: %s", x->path, strerror(-err));
			return err;
		}
		if (x->running)
			continue;
		err = needed_libraries(x->path, &libs, &nlibs);
		for (size_t j = 0; !err && j < nlibs; j++) {
			err = objects_add_file(all, libs[j], 0, &o);
			if (err == -ENOENT)
				err = 0;   /* listed, then removed: nothing to probe */
		}
		needed_free(libs, nlibs);
		if (err == -ENOEXEC)
			log_info("-x %s: static, or its loader is not inferlat's: libraries its processes "
				 "load are probed when they load them", x->path);
		if (err && err != -ENOEXEC) {
			log_err("-x %s: cannot list the libraries it loads: %s", x->path, strerror(-err));
			return err;
		}
	}
	return 0;
}

int resolve_collect_objects(const struct targets *t, struct objects *all)
{
	int err = 0;

	for (size_t i = 0; !err && i < t->npids; i++) {
		err = objects_add_mapped(all, t->pids[i]);
		if (err == -ESRCH)
			log_err("PID %d exited while inferlat was reading its libraries", (int)t->pids[i]);
		else if (err == -EACCES || err == -EPERM)
			log_err("cannot read /proc/%d/maps: %s: the kernel's ptrace access check refused "
				"it (it needs CAP_SYS_PTRACE; a security module such as Landlock, Yama, "
				"SELinux or AppArmor can refuse it even to root)", (int)t->pids[i],
				strerror(-err));
		else if (err)
			log_err("cannot read /proc/%d/maps: %s", (int)t->pids[i], strerror(-err));
	}
	return err ? err : add_exe_files(t, all);
}

int resolve_probes(const struct probe_spec *specs, size_t nspecs, const struct targets *t,
		   const struct resolve_opts *ro, struct probe_set *out, struct objects *all)
{
	bool per_pid = !t->nexes && !t->ncomms && !t->child;
	int err = 0;

	memset(out, 0, sizeof(*out));
	err = resolve_collect_objects(t, all);
	for (size_t i = 0; !err && i < nspecs; i++)
		err = resolve_one(&specs[i], all, t, ro, out);
	if (err)
		goto fail;

	/*
	 * Which processes each probe fires for. With only -p targets, a probe
	 * is attached per process that maps (or would load) its file: others
	 * mapping the same library (libc!) never trap. With -x, --comm or a
	 * COMMAND the set changes as processes start, so probes are attached
	 * for all processes and filtered in BPF by the traced set, which exec
	 * and fork events keep current.
	 */
	out->filter_tgid = !per_pid;
	for (size_t i = 0; per_pid && i < out->n; i++) {
		struct probe *p = &out->v[i];
		struct object *o = objects_find(all, p->dev, p->ino);

		for (size_t j = 0; o && j < o->npids; j++) {
			err = probe_pid_add(&p->pids, &p->npids, o->pids[j]);
			if (err)
				goto fail;
		}
	}
	/* the symbol tables are large; the watcher needs only who maps what */
	for (size_t i = 0; i < all->n; i++)
		object_close(&all->v[i]);
	return 0;
fail:
	probe_set_free(out);
	return err;
}

int resolve_object(const struct probe_spec *specs, size_t nspecs, struct object *o,
		   const struct resolve_opts *ro, struct probe_set *ps)
{
	size_t before = ps->n;
	int err = 0;

	for (size_t i = 0; i < nspecs && !err; i++) {
		const struct probe_spec *s = &specs[i];
		bool matched = false;

		if (!spec_wants_object(s, o, ro))
			continue;
		err = object_open(o, ro->debug_root);
		if (err) {
			if (!s->lib)
				return 0;   /* not an object of ours to explain */
			report_unopenable(s, o, err);
			return err;
		}
		err = add_matches(s, o, ro, ps, &matched);
		if (err == -E2BIG) {
			/* what fits is attached; the rest was explained */
			report_cap(s, ro);
			err = 0;
			break;
		}
	}
	object_close(o);
	return err ? err : (int)(ps->n - before);
}
