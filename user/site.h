/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where to place a function's entry probe (x86-64).
 *
 * A uprobe on an instruction the kernel must single-step costs ~3x one it
 * emulates, and the single-step lands inside the measured duration. The
 * return probe is armed by the entry probe and works anywhere the return
 * address is still at the stack pointer, so the entry may move past
 * instructions that leave rsp alone (endbr64, nops) onto one the kernel
 * emulates (push, nop, jmp) or optimizes (a 5-byte nop becomes a call into
 * a trampoline, no trap at all).
 */
#ifndef INFERLAT_SITE_H
#define INFERLAT_SITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum site_kind {
	SITE_OPTIMIZED,   /* 5-byte nop: the kernel replaces the trap by a call */
	SITE_EMULATED,    /* push reg, nop, jmp/call: emulated in the trap */
	SITE_SINGLESTEP,  /* anything else: executed out of line, single-stepped */
};

struct site {
	uint32_t skip;          /* bytes from the function start to the probe */
	enum site_kind kind;
	char insn[24];          /* the probed instruction, for -v ("push %rbp") */
	enum site_kind start_kind;  /* what a probe on the first byte would be */
	char start_insn[24];
};

/*
 * Choose the probe site for a function whose first bytes, at file offset
 * file_off, are code[0..len). Never moves past an instruction that changes
 * the stack pointer or the argument registers.
 */
void site_choose(const uint8_t *code, size_t len, uint64_t file_off, struct site *out);

/* Length of the rsp-neutral padding at code (endbr64, nops) that an explicit
 * +OFF may skip; 0 when the first instruction is anything else. */
size_t site_neutral_prefix(const uint8_t *code, size_t len);
/* true when skip bytes are whole endbr64 and nop instructions from code:
 * a probe in the middle of an instruction would corrupt it. */
bool site_neutral_skip_ok(const uint8_t *code, size_t len, size_t skip);

const char *site_kind_name(enum site_kind k);

#endif
