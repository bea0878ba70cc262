/* SPDX-License-Identifier: GPL-2.0 */
/* Probe specs + targets -> probes at file offsets, one per function. */
#ifndef INFERLAT_RESOLVE_H
#define INFERLAT_RESOLVE_H

#include "probes.h"

struct resolve_opts {
	size_t max_probes;     /* cap on functions a run attaches to */
	bool site_at_symbol;   /* no probe-site choice: probe the symbol itself */
};

/*
 * Resolve every spec against the targets' mapped objects (and -x
 * executables' files). Explains failures on stderr
 * (symbol not found with the nearest names, library not mapped, ...);
 * returns 0, or -ENOENT/-EINVAL/-E2BIG for bad input, -errno otherwise.
 */
int resolve_probes(const struct probe_spec *specs, size_t nspecs, const struct targets *t,
		   const struct resolve_opts *o, struct probe_set *out);

/* Does a mapped file's basename or soname answer to the library name? */
bool resolve_lib_matches(const char *name, const char *path, const char *soname);

/* Match a symbol glob against a raw and a demangled name (with or without
 * its parameter list). */
bool resolve_sym_matches(const char *glob, const char *name, const char *demangled);

/* Levenshtein distance, for "did you mean". */
size_t resolve_edit_distance(const char *a, const char *b);

#endif
