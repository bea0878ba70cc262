/* SPDX-License-Identifier: GPL-2.0 */
/* One place decides how messages reach the user. */
#ifndef INFERLAT_LOG_H
#define INFERLAT_LOG_H

#include <stdbool.h>

/* -v: resolution and attach details */
extern bool log_verbose;

/* "inferlat: <msg>" on stderr: one line that says what went wrong and what to do */
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* progress the user asked for with -v */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* state the user should know even without -v (attached, stopped) */
void log_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* libbpf's own messages: warnings always, debug with -v */
void log_install_libbpf(void);

#endif
