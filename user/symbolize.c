// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "symbolize.h"

struct sym_proc {
	pid_t pid;
	struct maps maps;
	bool read;             /* maps read at least once */
};

void symbolizer_init(struct symbolizer *s, const char *debug_root)
{
	memset(s, 0, sizeof(*s));
	s->debug_root = debug_root;
}

void symbolizer_free(struct symbolizer *s)
{
	for (size_t i = 0; i < s->nprocs; i++)
		procfs_free_maps(&s->procs[i].maps);
	free(s->procs);
	objects_free(&s->objs);
	memset(s, 0, sizeof(*s));
}

void symbolize_frame_free(struct sym_frame *f)
{
	free(f->object);
	free(f->func);
	memset(f, 0, sizeof(*f));
}

static struct sym_proc *proc_get(struct symbolizer *s, pid_t pid)
{
	struct sym_proc *nv;

	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	nv = realloc(s->procs, (s->nprocs + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	s->procs = nv;
	memset(&nv[s->nprocs], 0, sizeof(*nv));
	nv[s->nprocs].pid = pid;
	return &nv[s->nprocs++];
}

static const struct mapping *find_mapping(const struct maps *m, uint64_t ip)
{
	for (size_t i = 0; i < m->n; i++)
		if (ip >= m->v[i].start && ip < m->v[i].end)
			return &m->v[i];
	return NULL;
}

/* Read pid's maps again; a process gone keeps the maps it had. */
static void reread(struct sym_proc *p)
{
	struct maps m;

	if (procfs_read_maps(p->pid, &m))
		return;
	procfs_free_maps(&p->maps);
	p->maps = m;
	p->read = true;
}

int symbolize(struct symbolizer *s, pid_t pid, uint64_t ip, bool ret_addr, struct sym_frame *out)
{
	struct sym_proc *p = proc_get(s, pid);
	const struct mapping *m;
	const struct elf_func *f;
	struct object *o;
	uint64_t off;

	memset(out, 0, sizeof(*out));
	out->ip = ip;
	if (!p)
		return -ENOMEM;
	m = p->read ? find_mapping(&p->maps, ip) : NULL;
	if (!m) {
		reread(p);
		m = find_mapping(&p->maps, ip);
	}
	if (!m)
		return 0;
	out->object = strdup(m->path);
	if (!out->object)
		return -ENOMEM;
	o = objects_add_mapping(&s->objs, pid, m);
	if (!o)
		return -ENOMEM;
	if (!o->open_path || object_open(o, s->debug_root))
		return 0;   /* a file inferlat cannot read: the frame keeps its object */
	off = ip - m->start + m->pgoff;
	f = elf_obj_func_at(&o->elf, ret_addr && off ? off - 1 : off);
	if (!f)
		return 0;
	out->func = strdup(f->demangled ? f->demangled : f->name);
	out->off = off - f->file_off;
	return out->func ? 0 : -ENOMEM;
}
