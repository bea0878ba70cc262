/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The shared libraries an executable will load, as its dynamic loader finds
 * them (DT_NEEDED through RUNPATH/$ORIGIN, ld.so.cache and the default
 * directories): asked of the loader itself (ld.so --list), which maps the
 * libraries without running any of their code or the program's. Only the
 * loader inferlat itself runs with is used: an executable's PT_INTERP can
 * name any program, and inferlat runs as root.
 */
#ifndef INFERLAT_NEEDED_H
#define INFERLAT_NEEDED_H

#include <stddef.h>

/*
 * Absolute paths of the libraries exe loads at start, into a malloc'ed
 * array. Listed with an empty environment: the processes to come may set
 * LD_LIBRARY_PATH differently, and what they map then is found when they
 * load it. -ENOEXEC when exe is static or uses another loader than
 * inferlat's; -errno otherwise.
 */
int needed_libraries(const char *exe, char ***libs, size_t *n);
void needed_free(char **libs, size_t n);

/* Parse one line of ld.so --list output: the library's path, or NULL
 * (vdso, "not found"). Returns a pointer into line, which is modified. */
char *needed_parse_line(char *line);

#endif
