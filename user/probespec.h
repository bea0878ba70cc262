/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Probe specs (-e) and error predicates (-E), as text:
 *   [LIB:]SYMBOL[+OFF]   SYMBOL a glob over raw and demangled names
 *   [LIB:]0xOFFSET       a file offset in LIB (stripped code)
 *   ret!=0 | ret<0 | ret==0 | ret64...   (see probespec_parse_err)
 */
#ifndef INFERLAT_PROBESPEC_H
#define INFERLAT_PROBESPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "inferlat.h"

/* What a probe's decoded arguments mean (runtime presets). */
enum probe_measure {
	MEASURE_NONE = 0,
	MEASURE_TOKENS,   /* args[0]: tokens in the batch (llama_decode's batch.n_tokens) */
	MEASURE_BYTES,    /* args[0]: bytes moved (cudaMemcpy's count) */
	MEASURE_ALLOC,    /* args[0]: bytes, args[1]: the pointer returned (cudaMalloc) */
	MEASURE_FREE,     /* args[0]: the pointer freed (cudaFree) */
	MEASURE_SEQ_RM,   /* args: seq, p0, p1 (llama_memory_seq_rm): a sequence's memory cut */
	MEASURE_SEQ_CLEAR,   /* llama_memory_clear: every sequence's memory cleared */
};

struct probe_decode {
	int measure;                            /* enum probe_measure */
	uint8_t nargs;
	struct inferlat_arg args[INFERLAT_MAX_ARGS];
};

struct probe_spec {
	char *text;        /* as given */
	char *lib;         /* path or mapped library name; NULL: any object */
	char *symbol;      /* glob; NULL when at_offset */
	bool at_offset;    /* LIB:0xOFFSET */
	uint64_t offset;   /* file offset (at_offset) or +OFF into the symbol */
	int err_kind;      /* enum inferlat_err_kind, from -E */
	int ret_bits;      /* 32 or 64 */
	const char *runtime;  /* preset that made this spec, or NULL */
	const char *label;    /* name shown instead of the symbol (a preset's offset), or NULL */
	struct probe_decode decode;   /* arguments to read (presets), or none */
	const char *share_of;   /* symbol of the probe whose time this one's is a part of, or NULL */
	bool op;                /* one of many operators (--ops): reported only once called */
	const char *silent_hint;  /* a preset's main probe: what to use when it sees no calls */
	bool pool;              /* a runtime's main entry point: its thread pool's CPU is measured */
	/* ONNX Runtime: the function is slot ort_slot of the library's API table
	 * (user/ortapi.h), read from each matching library, not a symbol */
	bool ort_table;
	int ort_slot;
};

/* 0, or -EINVAL with a reason in err. */
int probespec_parse(const char *text, struct probe_spec *out, char *err, size_t errsz);
void probespec_free(struct probe_spec *s);

/*
 * 'ret!=0', 'ret<0', 'ret==0' (spaces allowed): ret is the return value as a
 * C int (status codes; the upper half of rax is undefined for int returns);
 * 'ret64...' compares the whole register (pointers, long). 0 or -EINVAL.
 */
int probespec_parse_err(const char *text, int *kind, int *bits, char *err, size_t errsz);
const char *probespec_err_str(int kind, int bits, char *buf, size_t sz);

#endif
