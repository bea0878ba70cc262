// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "log.h"
#include "objects.h"
#include "probes.h"
#include "procfs.h"

static int add_pid(struct object *o, pid_t pid)
{
	return pid > 0 ? probe_pid_add(&o->pids, &o->npids, pid) : 0;
}

struct object *objects_find(struct objects *os, uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < os->n; i++)
		if (os->v[i].dev == dev && os->v[i].ino == ino)
			return &os->v[i];
	return NULL;
}

struct object *objects_add(struct objects *os, const char *path, const char *open_path,
			   uint64_t dev, uint64_t ino, pid_t pid)
{
	struct object *o = objects_find(os, dev, ino), *nv;

	if (o) {
		if (add_pid(o, pid))
			return NULL;
		/*
		 * The path through the newest target's root: the one first seen
		 * can be gone with its process (node-llama-cpp loads the
		 * libraries in a short-lived child first, to test them). A file
		 * that could not be reached is tried again the new way.
		 */
		if (pid > 0 && open_path && (!o->open_path || strcmp(o->open_path, open_path))) {
			char *np = strdup(open_path);

			if (!np)
				return NULL;
			free(o->open_path);
			o->open_path = np;
			if (!o->opened && (o->open_err == -ENOENT || o->open_err == -ESRCH))
				o->open_err = 0;
		}
		return o;
	}
	nv = realloc(os->v, (os->n + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	os->v = nv;
	o = &os->v[os->n];
	memset(o, 0, sizeof(*o));
	o->elf.fd = -1;
	o->path = strdup(path);
	o->open_path = open_path ? strdup(open_path) : NULL;
	o->dev = dev;
	o->ino = ino;
	if (!o->path || (open_path && !o->open_path) || add_pid(o, pid)) {
		free(o->path);
		free(o->open_path);
		free(o->pids);
		return NULL;
	}
	os->n++;
	return o;
}

/*
 * One file mapping of pid. The target's own root shows the file as the
 * target sees it (containers), never a host file that merely has the same
 * path. When that path is gone (deleted, replaced, its mount namespace
 * changed) the mapping itself still leads to the mapped file.
 */
struct object *objects_add_mapping(struct objects *os, pid_t pid, const struct mapping *m)
{
	char root_path[4096], map_path[128];
	const char *open_path = NULL;
	struct stat st;

	procfs_root_path(pid, m->path, root_path, sizeof(root_path));
	if (!m->deleted && !stat(root_path, &st)) {
		open_path = root_path;
	} else {
		procfs_map_file_path(pid, m, map_path, sizeof(map_path));
		if (!stat(map_path, &st) && st.st_ino == m->ino)
			open_path = map_path;
	}
	return objects_add(os, m->path, open_path, m->dev, m->ino, pid);
}

int objects_add_mapped(struct objects *os, pid_t pid)
{
	struct maps m;
	int err;

	err = procfs_read_maps(pid, &m);
	if (err)
		return err;
	for (size_t j = 0; j < m.n && !err; j++)
		if (m.v[j].exec && !objects_add_mapping(os, pid, &m.v[j]))
			err = -ENOMEM;
	procfs_free_maps(&m);
	return err;
}

int objects_add_at(struct objects *os, pid_t pid, uint64_t addr, struct object **out)
{
	struct maps m;
	int err;

	err = procfs_read_maps(pid, &m);
	if (err)
		return err;
	err = -ENOENT;
	for (size_t j = 0; j < m.n; j++) {
		if (addr < m.v[j].start || addr >= m.v[j].end)
			continue;
		*out = objects_add_mapping(os, pid, &m.v[j]);
		err = *out ? 0 : -ENOMEM;
		break;
	}
	procfs_free_maps(&m);
	return err;
}

int objects_add_file(struct objects *os, const char *path, pid_t pid, struct object **out)
{
	char root_path[4096];
	const char *open_path = path;
	struct stat st;

	if (pid > 0) {
		procfs_root_path(pid, path, root_path, sizeof(root_path));
		open_path = root_path;
	}
	if (stat(open_path, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOEXEC;
	*out = objects_add(os, path, open_path, procfs_kdev(st.st_dev), st.st_ino, pid);
	return *out ? 0 : -ENOMEM;
}

int object_peek(struct object *o)
{
	if (o->opened)
		return 0;
	if (o->open_err)
		return o->open_err;
	if (!o->open_path)
		o->open_err = -ENOENT;
	else
		o->open_err = elf_obj_open(o->open_path, &o->elf);
	o->opened = !o->open_err;
	return o->open_err;
}

int object_open(struct object *o, const char *debug_root)
{
	bool loaded = o->opened && o->elf.funcs_loaded;
	int err = object_peek(o);

	if (err || loaded)
		return err;
	err = elf_obj_load_funcs(&o->elf, debug_root);
	if (err) {
		object_close(o);
		o->open_err = err;
		return err;
	}
	log_info("%s: symbols from %s%s%s", o->path, elf_sym_source_name(o->elf.source),
		 o->elf.debug_file ? " " : "", o->elf.debug_file ? o->elf.debug_file : "");
	return 0;
}

void object_close(struct object *o)
{
	if (o->opened)
		elf_obj_close(&o->elf);
	o->opened = false;
}

void objects_free(struct objects *os)
{
	for (size_t i = 0; i < os->n; i++) {
		object_close(&os->v[i]);
		free(os->v[i].path);
		free(os->v[i].open_path);
		free(os->v[i].pids);
	}
	free(os->v);
	memset(os, 0, sizeof(*os));
}
