/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Addresses of a traced process to functions, with the symbol code that
 * attaching uses (objects.c, elfsym.c: libdwfl symbol tables, separate
 * debuginfo, demangled C++ names). Each process's mappings are read once and
 * again only when an address falls outside them (a library loaded since), so
 * the frames of a process that has just exited still resolve. Its objects are
 * its own: the files it opens are not taken as examined for probing.
 */
#ifndef INFERLAT_SYMBOLIZE_H
#define INFERLAT_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "objects.h"

struct sym_frame {
	uint64_t ip;
	char *object;          /* the file as the target names it; NULL: not in a file */
	char *func;            /* demangled when C++; NULL: no symbol covers it */
	uint64_t off;          /* ip's distance from the function's start */
};

struct sym_proc;

struct symbolizer {
	struct objects objs;
	const char *debug_root;
	struct sym_proc *procs;
	size_t nprocs;
};

void symbolizer_init(struct symbolizer *s, const char *debug_root);
void symbolizer_free(struct symbolizer *s);
/*
 * ip of pid into out (strings malloc'ed: symbolize_frame_free). ret_addr: ip is a
 * return address, looked up one byte back (a call may be a function's last
 * instruction). 0, or -ENOMEM; an address nothing names is not an error.
 */
int symbolize(struct symbolizer *s, pid_t pid, uint64_t ip, bool ret_addr, struct sym_frame *out);
void symbolize_frame_free(struct sym_frame *f);

#endif
