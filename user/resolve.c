// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fnmatch.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "elfsym.h"
#include "log.h"
#include "procfs.h"
#include "resolve.h"

#define NEAREST 3

/* One ELF object a target has mapped (or a followed executable). */
struct object {
	char *path;         /* as the target names it */
	char *open_path;    /* as inferlat opens it */
	uint64_t dev, ino;
	pid_t pid;          /* the target it was found in; 0 for -x / COMMAND files */
	struct elf_obj elf;
	bool opened, bad;
};

struct objects {
	struct object *v;
	size_t n;
};

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

bool resolve_lib_matches(const char *name, const char *path, const char *soname)
{
	const char *b = base_name(path);
	size_t n = strlen(name);
	char stem[256];

	if (strchr(name, '/'))
		return !strcmp(name, path);
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

/* "ns::f<int>(int) const" -> "ns::f<int>" (skips "(anonymous namespace)"
 * and "operator()"). Returns a pointer into buf. */
static const char *demangled_base(const char *d, char *buf, size_t sz)
{
	int depth = 0;
	size_t i;

	for (i = 0; d[i]; i++) {
		if (d[i] == '<')
			depth++;
		else if (d[i] == '>' && depth > 0)
			depth--;
		else if (d[i] == '(' && depth == 0) {
			if (!strncmp(d + i, "(anonymous namespace)", 21)) {
				i += 20;
				continue;
			}
			if (i >= 8 && !strncmp(d + i - 8, "operator()", 10)) {
				i += 1;
				continue;
			}
			break;
		}
	}
	if (i >= sz)
		i = sz - 1;
	memcpy(buf, d, i);
	buf[i] = '\0';
	return buf;
}

bool resolve_sym_matches(const char *glob, const char *name, const char *demangled)
{
	char base[1024];

	if (!fnmatch(glob, name, 0))
		return true;
	if (!demangled)
		return false;
	if (!fnmatch(glob, demangled, 0))
		return true;
	return !fnmatch(glob, demangled_base(demangled, base, sizeof(base)), 0);
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

static struct object *objects_add(struct objects *os, const char *path, const char *open_path,
				  uint64_t dev, uint64_t ino, pid_t pid)
{
	struct object *nv;

	for (size_t i = 0; i < os->n; i++)
		if (os->v[i].dev == dev && os->v[i].ino == ino)
			return &os->v[i];
	nv = realloc(os->v, (os->n + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	os->v = nv;
	memset(&os->v[os->n], 0, sizeof(*nv));
	os->v[os->n] = (struct object){
		.path = strdup(path), .open_path = strdup(open_path),
		.dev = dev, .ino = ino, .pid = pid,
	};
	return &os->v[os->n++];
}

static void objects_free(struct objects *os)
{
	for (size_t i = 0; i < os->n; i++) {
		if (os->v[i].opened)
			elf_obj_close(&os->v[i].elf);
		free(os->v[i].path);
		free(os->v[i].open_path);
	}
	free(os->v);
	memset(os, 0, sizeof(*os));
}

/* Executable file mappings of every target pid, deduplicated by inode. */
static int collect_mapped(const struct targets *t, struct objects *os)
{
	for (size_t i = 0; i < t->npids; i++) {
		struct maps m;
		int err;

		err = procfs_read_maps(t->pids[i], &m);
		if (err == -ESRCH) {
			log_err("PID %d exited while inferlat was attaching", (int)t->pids[i]);
			return err;
		}
		if (err) {
			log_err("cannot read /proc/%d/maps: %s", (int)t->pids[i], strerror(-err));
			return err;
		}
		for (size_t j = 0; j < m.n; j++) {
			char open_path[4096];

			if (!m.v[j].exec || strstr(m.v[j].path, " (deleted)"))
				continue;
			procfs_root_path(t->pids[i], m.v[j].path, open_path, sizeof(open_path));
			if (!objects_add(os, m.v[j].path, open_path, m.v[j].dev, m.v[j].ino, t->pids[i])) {
				procfs_free_maps(&m);
				return -ENOMEM;
			}
		}
		procfs_free_maps(&m);
	}
	return 0;
}

static int add_file(struct objects *os, const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	return objects_add(os, path, path, procfs_kdev(st.st_dev), st.st_ino, 0) ? 0 : -ENOMEM;
}

static int object_open(struct object *o)
{
	int err;

	if (o->opened)
		return 0;
	if (o->bad)
		return -ENOEXEC;
	err = elf_obj_open(o->open_path, &o->elf);
	if (!err)
		err = elf_obj_load_funcs(&o->elf);
	if (err) {
		if (o->elf.elf)
			elf_obj_close(&o->elf);
		o->bad = true;
		return err;
	}
	o->opened = true;
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

static int probe_add_pid(struct probe *p, pid_t pid)
{
	pid_t *nv;

	for (size_t i = 0; i < p->npids; i++)
		if (p->pids[i] == pid)
			return 0;
	nv = realloc(p->pids, (p->npids + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	p->pids = nv;
	p->pids[p->npids++] = pid;
	return 0;
}

static int add_probe(struct probe_set *ps, const struct probe_spec *s, struct object *o,
		     const char *symbol, uint64_t func_off, size_t max_probes, bool site_at_symbol)
{
	uint8_t code[16] = { 0 };
	struct probe *p;
	long n;
	char name[1024];

	if (find_probe(ps, o->dev, o->ino, func_off))
		return 0;
	if (ps->n >= max_probes)
		return -E2BIG;
	n = elf_obj_read(&o->elf, func_off, code, sizeof(code));
	if (n <= 0) {
		log_err("cannot read code of %s in %s", symbol, o->path);
		return n < 0 ? (int)n : -EIO;
	}
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
	p->dev = o->dev;
	p->ino = o->ino;
	p->func_off = func_off;
	p->err_kind = s->err_kind;
	p->ret_bits = s->ret_bits;
	p->runtime = s->runtime;
	if (s->offset && !s->at_offset) {
		/* +OFF: only across rsp-neutral padding, or the return probe
		 * would take the wrong stack slot for the return address */
		size_t neutral = site_neutral_prefix(code, (size_t)n);

		if (s->offset > neutral) {
			log_err("probe '%s': +%#llx passes instructions that move the stack pointer; "
				"inferlat times calls and can only skip endbr64 and nops (here: +%#zx)",
				s->text, (unsigned long long)s->offset, neutral);
			free(p->name);
			free(p->object);
			free(p->attach_path);
			free(p->symbol);
			return -EINVAL;
		}
		site_choose(code + s->offset, (size_t)n - s->offset, func_off + s->offset, &p->site);
		p->site.skip += (uint32_t)s->offset;
	} else {
		site_choose(code, (size_t)n, func_off, &p->site);
		if (site_at_symbol && p->site.skip) {
			p->site.skip = 0;
			p->site.kind = p->site.start_kind;
			memcpy(p->site.insn, p->site.start_insn, sizeof(p->site.insn));
		}
	}
	ps->n++;
	return 0;
}

static void report_nearest(const struct probe_spec *s, struct objects *os, size_t first, size_t last)
{
	struct { const char *name; size_t d; } best[NEAREST];
	char want[512], base[1024], line[2048];
	size_t nb = 0, len = 0, k = 0;

	/* compare against the pattern without its glob characters */
	for (const char *c = s->symbol; *c && k < sizeof(want) - 1; c++)
		if (!strchr("*?[]", *c))
			want[k++] = *c;
	want[k] = '\0';
	for (size_t i = first; i < last; i++) {
		struct object *o = &os->v[i];

		if (!o->opened)
			continue;
		for (size_t j = 0; j < o->elf.nfuncs; j++) {
			const struct elf_func *f = &o->elf.funcs[j];
			const char *cand = f->demangled ? demangled_base(f->demangled, base, sizeof(base)) : f->name;
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

/* Candidate objects for a spec: [first, last) in os after filtering by lib. */
static int spec_objects(const struct probe_spec *s, struct objects *all, const struct targets *t,
			struct objects *out)
{
	if (s->lib && strchr(s->lib, '/')) {
		/* a path: as the targets see it if they map it, else on this host */
		for (size_t i = 0; i < all->n; i++)
			if (!strcmp(all->v[i].path, s->lib) &&
			    !objects_add(out, all->v[i].path, all->v[i].open_path, all->v[i].dev,
					 all->v[i].ino, all->v[i].pid))
				return -ENOMEM;
		if (!out->n) {
			int err = add_file(out, s->lib);

			if (err) {
				log_err("probe '%s': %s: %s", s->text, s->lib, strerror(-err));
				return err;
			}
		}
		return 0;
	}
	for (size_t i = 0; i < all->n; i++) {
		struct object *o = &all->v[i];

		if (s->lib) {
			/* soname needs the file open; basename first, cheaply */
			bool m = resolve_lib_matches(s->lib, o->path, NULL);

			if (!m && !object_open(o))
				m = resolve_lib_matches(s->lib, o->path, o->elf.soname);
			if (!m)
				continue;
		}
		if (!objects_add(out, o->path, o->open_path, o->dev, o->ino, o->pid))
			return -ENOMEM;
	}
	if (!out->n && s->lib) {
		if (t->npids || t->nexes)
			log_err("probe '%s': library '%s' is not mapped by the target%s "
				"(give its path, or check /proc/PID/maps)", s->text, s->lib,
				t->npids > 1 ? "s" : "");
		else
			log_err("probe '%s': library '%s' not found: give its path", s->text, s->lib);
		return -ENOENT;
	}
	/* a library name must name one file */
	if (s->lib && out->n > 1) {
		char line[2048];
		size_t len = 0;

		for (size_t i = 0; i < out->n && len < sizeof(line); i++)
			len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s", i ? ", " : "", out->v[i].path);
		log_err("probe '%s': library name '%s' is ambiguous: %s; give the path", s->text, s->lib, line);
		return -EINVAL;
	}
	return 0;
}

static int resolve_one(const struct probe_spec *s, struct objects *all, const struct targets *t,
		       const struct resolve_opts *ro, struct probe_set *ps)
{
	struct objects cand = { 0 };
	size_t before = ps->n;
	int err;

	err = spec_objects(s, all, t, &cand);
	if (err)
		goto out;
	for (size_t i = 0; i < cand.n; i++) {
		struct object *o = &cand.v[i];

		err = object_open(o);
		if (err) {
			/* a named library must be readable; anonymous candidates may be skipped */
			if (s->lib) {
				log_err("probe '%s': %s: %s", s->text, o->path,
					err == -ENOEXEC ? "not an x86-64 ELF object" : strerror(-err));
				goto out;
			}
			err = 0;
			continue;
		}
		if (s->at_offset) {
			const struct elf_func *f;
			char sym[600];

			if (!elf_obj_off_is_code(&o->elf, s->offset)) {
				log_err("probe '%s': offset %#llx is not in an executable segment of %s",
					s->text, (unsigned long long)s->offset, o->path);
				err = -EINVAL;
				goto out;
			}
			f = elf_obj_func_at(&o->elf, s->offset);
			if (f && f->file_off == s->offset)
				snprintf(sym, sizeof(sym), "%s", f->demangled ? f->demangled : f->name);
			else
				snprintf(sym, sizeof(sym), "%#llx", (unsigned long long)s->offset);
			err = add_probe(ps, s, o, sym, s->offset, ro->max_probes, ro->site_at_symbol);
		} else {
			for (size_t j = 0; j < o->elf.nfuncs && !err; j++) {
				const struct elf_func *f = &o->elf.funcs[j];

				if (!resolve_sym_matches(s->symbol, f->name, f->demangled))
					continue;
				err = add_probe(ps, s, o, f->demangled ? f->demangled : f->name,
						f->file_off, ro->max_probes, ro->site_at_symbol);
			}
		}
		if (err == -E2BIG) {
			log_err("probe '%s': more than %zu functions match; narrow the pattern or raise --max-probes",
				s->text, ro->max_probes);
			goto out;
		}
		if (err)
			goto out;
	}
	if (ps->n == before && !s->at_offset) {
		/* nothing new: either already probed by an earlier spec, or no match */
		bool matched_before = false;

		for (size_t i = 0; i < cand.n && !matched_before; i++) {
			struct object *o = &cand.v[i];

			for (size_t j = 0; o->opened && j < o->elf.nfuncs; j++)
				if (resolve_sym_matches(s->symbol, o->elf.funcs[j].name,
							o->elf.funcs[j].demangled)) {
					matched_before = true;
					break;
				}
		}
		if (!matched_before) {
			report_nearest(s, &cand, 0, cand.n);
			err = -ENOENT;
		}
	}
out:
	objects_free(&cand);
	return err;
}

int resolve_probes(const struct probe_spec *specs, size_t nspecs, const struct targets *t,
		   const struct resolve_opts *ro, struct probe_set *out)
{
	struct objects all = { 0 };
	int err;

	memset(out, 0, sizeof(*out));
	err = collect_mapped(t, &all);
	for (size_t i = 0; !err && i < t->nexes; i++)
		err = add_file(&all, t->exes[i].path);
	for (size_t i = 0; !err && i < nspecs; i++)
		err = resolve_one(&specs[i], &all, t, ro, out);
	if (err)
		goto fail;

	/*
	 * Which processes each probe fires for. Objects found in -p targets'
	 * maps are attached per process (others mapping the same library are
	 * not trapped). -x and COMMAND files are attached for all processes and
	 * filtered in BPF by the traced set, which exec events keep current.
	 */
	for (size_t i = 0; i < out->n; i++) {
		struct probe *p = &out->v[i];
		bool per_pid = !t->nexes && !t->child;

		if (!per_pid) {
			out->filter_tgid = true;
			continue;
		}
		for (size_t j = 0; j < t->npids; j++) {
			struct maps m;

			if (procfs_read_maps(t->pids[j], &m))
				continue;
			for (size_t k = 0; k < m.n; k++) {
				if (m.v[k].dev == p->dev && m.v[k].ino == p->ino) {
					err = probe_add_pid(p, t->pids[j]);
					break;
				}
			}
			procfs_free_maps(&m);
			if (err)
				goto fail;
		}
		if (!p->npids) {
			/* a library given by path that no target maps (yet) */
			out->filter_tgid = true;
		}
	}
	objects_free(&all);
	return 0;
fail:
	objects_free(&all);
	probe_set_free(out);
	return err;
}
