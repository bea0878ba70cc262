/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Log rotation: on SIGHUP the output files are reopened at their paths, so a
 * file renamed away (logrotate's default create mode) is left complete and
 * the records go on in a new file under the old name.
 */
#ifndef INFERLAT_ROTATE_H
#define INFERLAT_ROTATE_H

#include <stdbool.h>
#include <stdio.h>

/* Catch SIGHUP from now on. 0 or -errno. */
int rotate_init(void);
/* Whether a SIGHUP came since the last call. */
bool rotate_requested(void);
/*
 * Reopen f at path (created if missing, appended to if there): what f
 * buffered goes to the old file first, and f keeps its descriptor number, so
 * every holder of f writes to the new file. 0 or -errno; on failure f still
 * writes to the old file.
 */
int rotate_reopen(FILE *f, const char *path);

#endif
