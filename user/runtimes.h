/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Runtime presets (-r): what to probe in an inference runtime, and what each
 * probe's calls and decoded arguments mean in the runtime's own terms.
 * Presets are data (user/runtimes.c); `inferlat runtimes` prints them.
 */
#ifndef INFERLAT_RUNTIMES_H
#define INFERLAT_RUNTIMES_H

#include <stdbool.h>
#include <stddef.h>
#include "probes.h"
#include "probespec.h"

/* Is NAME a preset (or "auto")? */
bool runtimes_known(const char *name);

/*
 * Append the probe specs of the presets named (after -r) for the targets:
 * "auto" picks the presets whose libraries the -p targets map; ONNX
 * Runtime's entry points are read from the library the targets map. ops:
 * --ops, libtorch's per-operator probes. 0 or -errno (explained).
 */
int runtimes_expand(char *const *names, size_t n, bool ops, const struct targets *t,
		    struct probe_spec **specs, size_t *nspecs);

/* inferlat runtimes [NAME]: argv[0] is "runtimes". Returns the exit status. */
int runtimes_main(int argc, char **argv);

#endif
