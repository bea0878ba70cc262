/* SPDX-License-Identifier: GPL-2.0 */
/* JSON lines: window records (--json) and per-call records (--calls). */
#ifndef INFERLAT_JSON_H
#define INFERLAT_JSON_H

#include <stdio.h>
#include "inferlat.h"
#include "probes.h"
#include "report.h"
#include "compare.h"

struct exemplar;

/* Append s as a JSON string: escapes quotes, backslashes and control
 * characters; bytes that are not valid UTF-8 become U+FFFD. */
void json_put_str(FILE *f, const char *s);

/* One line per row; returns 0 or -errno from the write. */
int json_write_report(FILE *f, const struct report *r);
/* One {"type": "baseline", ...} line per compared probe. */
int json_write_comparisons(FILE *f, const char *baseline_path, const struct probe_comparison *v,
			   size_t n);
/* One {"type": "exemplar", ...} line: a slow call and its caller's stack. */
int json_write_exemplar(FILE *f, const struct probe *p, const struct exemplar *e);
/* One line for one call. */
int json_write_call(FILE *f, const struct probe *p, const struct call_event *e);

struct http_exchange;
/* One HTTP request as the server served it (--http with --calls): method,
 * route, status and times; nothing else of the payload. */
int json_write_request(FILE *f, const struct http_exchange *x);

#endif
