/* SPDX-License-Identifier: GPL-2.0 */
/* Probe specs + targets -> probes at file offsets, one per function. */
#ifndef INFERLAT_RESOLVE_H
#define INFERLAT_RESOLVE_H

#include "objects.h"
#include "probes.h"

struct resolve_opts {
	size_t max_probes;     /* cap on functions a run attaches to */
	bool site_at_symbol;   /* no probe-site choice: probe the symbol itself */
	const char *debug_root;   /* separate debuginfo; NULL: the default */
};

/*
 * Resolve every spec against the targets' mapped objects, -x executables
 * and the libraries they load, and LIB paths in the targets' roots. A spec
 * whose library no target maps yet waits (a note says so) for
 * resolve_object(). Explains failures on stderr (symbol not found with the
 * nearest names, ambiguous library, not an ELF file, a file gone from its
 * mount namespace, ...); returns 0, or -ENOENT/-EINVAL/-E2BIG/-ENOEXEC for
 * bad input, -errno otherwise. all receives every object examined (their
 * symbol tables closed), for the watcher to know what is new.
 */
int resolve_probes(const struct probe_spec *specs, size_t nspecs, const struct targets *t,
		   const struct resolve_opts *o, struct probe_set *out, struct objects *all);

/* The objects of the targets: what the processes map, the -x executables
 * and the libraries they load. 0 or -errno (explained). */
int resolve_collect_objects(const struct targets *t, struct objects *all);

/*
 * Add the probes the specs give in an object a target mapped after start
 * (dlopen, a new process). Returns how many were added (probes beyond
 * --max-probes are refused and explained), or -errno.
 */
int resolve_object(const struct probe_spec *specs, size_t nspecs, struct object *o,
		   const struct resolve_opts *ro, struct probe_set *ps);

/* Where the entry probe of the function at func_off goes (see site.h);
 * at_symbol: on the symbol itself. 0 or -errno. */
int resolve_choose_site(const struct elf_obj *o, uint64_t func_off, bool at_symbol, struct site *out);

/* Does a mapped file's basename or soname answer to the library name? */
bool resolve_lib_matches(const char *name, const char *path, const char *soname);

/* Match a symbol glob against a function's raw name and its demangled name
 * with or without the parameter list. */
bool resolve_sym_matches(const char *glob, const struct elf_func *f);

/* Levenshtein distance, for "did you mean". */
size_t resolve_edit_distance(const char *a, const char *b);

#endif
