/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Probe specs (-e) and error predicates (-E), as text:
 *   [LIB:]SYMBOL[+OFF]   SYMBOL a glob over raw and demangled names
 *   [LIB:]0xOFFSET       a file offset in LIB (stripped code)
 *   ret!=0 | ret<0 | ret==0 | ret64...   (see errexpr_parse)
 */
#ifndef INFERLAT_PROBESPEC_H
#define INFERLAT_PROBESPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct probe_spec {
	char *text;        /* as given */
	char *lib;         /* path or mapped library name; NULL: any object */
	char *symbol;      /* glob; NULL when at_offset */
	bool at_offset;    /* LIB:0xOFFSET */
	uint64_t offset;   /* file offset (at_offset) or +OFF into the symbol */
	int err_kind;      /* enum inferlat_err_kind, from -E */
	int ret_bits;      /* 32 or 64 */
	const char *runtime;  /* preset that made this spec, or NULL */
};

/* 0, or -EINVAL with a reason in err. */
int probespec_parse(const char *text, struct probe_spec *out, char *err, size_t errsz);
void probespec_free(struct probe_spec *s);

/*
 * 'ret!=0', 'ret<0', 'ret==0' (spaces allowed): ret is the return value as a
 * C int (status codes; the upper half of rax is undefined for int returns);
 * 'ret64...' compares the whole register (pointers, long). 0 or -EINVAL.
 */
int errexpr_parse(const char *text, int *kind, int *bits, char *err, size_t errsz);
const char *errexpr_str(int kind, int bits, char *buf, size_t sz);

#endif
