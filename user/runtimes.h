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

/*
 * Which of a preset's probes -r attaches. By default its main call and the
 * calls users ask about; probes of calls nested inside the main call stack
 * their pairs on it (each pair adds its own cost to every main call), so
 * they are opt-in, each kind under its option. A bit set of these.
 */
enum runtimes_optin {
	RUNTIMES_DEFAULT = 0,
	RUNTIMES_BREAKDOWN = 1 << 0,   /* --breakdown: llama.cpp's ggml graph compute */
	RUNTIMES_OPS = 1 << 1,         /* --ops: libtorch's ATen operators */
};

/* Is NAME a preset (or "auto")? */
bool runtimes_known(const char *name);

/* Does preset NAME have probes opt-in under optin? "auto" may pick any. */
bool runtimes_offers(const char *name, unsigned optin);

/* The presets with probes opt-in under optin, as "-r A" or "-r A, -r B",
 * into buf (for a usage message). */
void runtimes_offering(unsigned optin, char *buf, size_t sz);

/*
 * Append the probe specs of the presets named (after -r) for the targets:
 * "auto" picks the presets whose libraries the -p targets map; ONNX
 * Runtime's entry points are read from the library the targets map. optins:
 * the enum runtimes_optin bits given (--breakdown, --ops). 0 or -errno
 * (explained).
 */
int runtimes_expand(char *const *names, size_t n, unsigned optins, const struct targets *t,
		    struct probe_spec **specs, size_t *nspecs);

/* inferlat runtimes [NAME]: argv[0] is "runtimes". Returns the exit status. */
int runtimes_main(int argc, char **argv);

#endif
