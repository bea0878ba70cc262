/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ELF objects probes can go into: the files target processes map, seen
 * through the target's own root (/proc/PID/root: containers), or through the
 * mapping itself (/proc/PID/map_files) when the file was deleted or its path
 * no longer leads to it; and files named on the command line. One object per
 * file (device and inode), however many targets map it.
 */
#ifndef INFERLAT_OBJECTS_H
#define INFERLAT_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "elfsym.h"
#include "procfs.h"

struct object {
	char *path;         /* as the target names it */
	char *open_path;    /* as inferlat opens it; NULL when nothing reaches it */
	uint64_t dev, ino;  /* kernel encoding, as /proc/PID/maps shows */
	pid_t *pids;        /* targets that map it, or whose root holds it */
	size_t npids;
	bool opened;        /* the ELF file is open (elf.soname known) */
	int open_err;       /* why it could not be opened, once tried */
	struct elf_obj elf;
};

struct objects {
	struct object *v;
	size_t n;
};

/* Add (or find, by device and inode) an object; pid > 0 joins its pids. */
struct object *objects_add(struct objects *os, const char *path, const char *open_path,
			   uint64_t dev, uint64_t ino, pid_t pid);
struct object *objects_find(struct objects *os, uint64_t dev, uint64_t ino);

/* The file of one mapping of pid, reached through its root or the mapping
 * itself. NULL: out of memory. */
struct object *objects_add_mapping(struct objects *os, pid_t pid, const struct mapping *m);
/* The executable file mappings of pid. -ESRCH when it is gone. */
int objects_add_mapped(struct objects *os, pid_t pid);

/* A file by path: inside pid's root (pid > 0), else on this host. -errno
 * from stat (-ENOENT: not there). */
int objects_add_file(struct objects *os, const char *path, pid_t pid, struct object **out);

/* The object holding address addr of pid (e.g. its dynamic loader at
 * AT_BASE); -ENOENT when no file mapping holds it. */
int objects_add_at(struct objects *os, pid_t pid, uint64_t addr, struct object **out);

/* Open the ELF file (its header, soname, program headers). The result is
 * kept: 0, or the same -errno on every call. */
int object_peek(struct object *o);
/* ... and read its functions (see elf_obj_load_funcs). */
int object_open(struct object *o, const char *debug_root);
/* Drop the ELF data (symbol tables are large); the object stays known. */
void object_close(struct object *o);

void objects_free(struct objects *os);

#endif
