/* SPDX-License-Identifier: GPL-2.0 */
/* The processes to trace: -p PIDs, -x executables, a COMMAND to start. */
#ifndef INFERLAT_TARGETS_H
#define INFERLAT_TARGETS_H

#include "probes.h"

/*
 * Validate -p PIDs (exists, not a zombie, not a kernel thread) and -x paths
 * (an existing ELF executable), and collect processes running them, or named
 * by --comm, now. Explains any problem on stderr; returns 0 or -errno (all
 * bad input).
 */
int targets_build(const pid_t *pids, size_t npids, char *const *exes, size_t nexes,
		  char *const *comms, size_t ncomms, struct targets *t);

/*
 * Start COMMAND and hold it at its entry point: the dynamic loader has mapped
 * its libraries, none of its own code has run. Probes are resolved against
 * its real mappings and attached before targets_release() lets it go. Adds
 * the child to the targets. 0 or -errno (-ENOEXEC: it could not be run; the
 * child said why).
 */
int targets_spawn(struct targets *t, char *const *argv);
/* Let the held COMMAND run. */
int targets_release(struct targets *t);

#endif
