// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "log.h"

bool log_verbose;

/* Control characters from arguments, process names or file names (a
 * newline in a label, an escape sequence in a path) are written escaped, so
 * that every message stays one line and cannot drive the terminal. */
static void escape_controls(const char *in, char *out, size_t sz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p && o + 5 < sz; p++) {
		if (*p >= 0x20 && *p != 0x7f) {
			out[o++] = (char)*p;
		} else if (*p == '\n' || *p == '\t') {
			out[o++] = '\\';
			out[o++] = *p == '\n' ? 'n' : 't';
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
}

static void vlog(const char *fmt, va_list ap)
{
	char buf[1024], line[2048];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	escape_controls(buf, line, sizeof(line));
	/* one write per line, so lines of concurrent writers do not interleave */
	fprintf(stderr, "inferlat: %s\n", line);
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void log_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || (level == LIBBPF_INFO && !log_verbose))
		return 0;
	fputs("libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void log_install_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
