// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include "site.h"

static const uint8_t ENDBR64[] = { 0xf3, 0x0f, 0x1e, 0xfa };

static const char *const REG64[] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi" };
static const char *const REG64X[] = { "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };

/*
 * Length of a nop (0x90, 66 90, or 0f 1f /0 with any ModRM/SIB/disp) at code,
 * 0 when it is not one.
 */
static size_t nop_len(const uint8_t *code, size_t len)
{
	size_t i = 0, n;
	uint8_t modrm, mod, rm;

	while (i < len && code[i] == 0x66)
		i++;
	if (i < len && code[i] == 0x90)
		return i + 1;
	if (i + 2 >= len || code[i] != 0x0f || code[i + 1] != 0x1f)
		return 0;
	modrm = code[i + 2];
	if (((modrm >> 3) & 7) != 0)
		return 0;
	mod = modrm >> 6;
	rm = modrm & 7;
	n = i + 3;
	if (mod != 3 && rm == 4)
		n++;                  /* SIB */
	if (mod == 1)
		n += 1;
	else if (mod == 2 || (mod == 0 && rm == 5))
		n += 4;
	return n <= len ? n : 0;
}

/* The instruction length at code when it is endbr64 or a nop, else 0. */
static size_t neutral_len(const uint8_t *code, size_t len)
{
	if (len >= sizeof(ENDBR64) && !memcmp(code, ENDBR64, sizeof(ENDBR64)))
		return sizeof(ENDBR64);
	return nop_len(code, len);
}

size_t site_neutral_prefix(const uint8_t *code, size_t len)
{
	size_t off = 0, n;

	while ((n = neutral_len(code + off, len - off)))
		off += n;
	return off;
}

bool site_neutral_skip_ok(const uint8_t *code, size_t len, size_t skip)
{
	size_t off = 0, n;

	while (off < skip && (n = neutral_len(code + off, len - off)))
		off += n;
	return off == skip;
}

/* How the kernel (arch/x86/kernel/uprobes.c) handles the instruction at code. */
static enum site_kind classify(const uint8_t *code, size_t len, uint64_t file_off,
			       char *insn, size_t insn_sz)
{
	size_t n = nop_len(code, len);

	/* the kernel rewrites the nop atomically, so it must not cross a page;
	 * file offsets and addresses agree modulo the page size */
	if (n == 5 && code[0] == 0x0f && (file_off & 0xfff) <= 0x1000 - 5) {
		snprintf(insn, insn_sz, "nopl (5 bytes)");
		return SITE_OPTIMIZED;
	}
	/* only a bare 0x90: the kernel refuses 0x66-prefixed branches and nops */
	if (len >= 1 && code[0] == 0x90) {
		snprintf(insn, insn_sz, "nop");
		return SITE_EMULATED;
	}
	if (len >= 1 && code[0] >= 0x50 && code[0] <= 0x57) {
		snprintf(insn, insn_sz, "push %%%s", REG64[code[0] - 0x50]);
		return SITE_EMULATED;
	}
	if (len >= 2 && code[0] == 0x41 && code[1] >= 0x50 && code[1] <= 0x57) {
		snprintf(insn, insn_sz, "push %%%s", REG64X[code[1] - 0x50]);
		return SITE_EMULATED;
	}
	if (len >= 1 && (code[0] == 0xe9 || code[0] == 0xeb)) {
		snprintf(insn, insn_sz, "jmp");
		return SITE_EMULATED;
	}
	if (len >= 1 && code[0] == 0xe8) {
		snprintf(insn, insn_sz, "call");
		return SITE_EMULATED;
	}
	if (len >= 4 && !memcmp(code, ENDBR64, sizeof(ENDBR64)))
		snprintf(insn, insn_sz, "endbr64");
	else if (n)
		snprintf(insn, insn_sz, "nop (%zu bytes)", n);
	else if (len >= 1)
		snprintf(insn, insn_sz, "%02x%s%s", code[0], len >= 2 ? " " : "", "...");
	else
		snprintf(insn, insn_sz, "?");
	return SITE_SINGLESTEP;
}

void site_choose(const uint8_t *code, size_t len, uint64_t file_off, struct site *out)
{
	struct site at_start, skipped;
	size_t skip;

	memset(out, 0, sizeof(*out));
	at_start.skip = 0;
	at_start.kind = classify(code, len, file_off, at_start.insn, sizeof(at_start.insn));
	at_start.start_kind = at_start.kind;
	memcpy(at_start.start_insn, at_start.insn, sizeof(at_start.insn));
	if (at_start.kind != SITE_SINGLESTEP) {
		*out = at_start;
		return;
	}
	/* only endbr64 is stepped over: it neither moves rsp nor touches arguments */
	skip = 0;
	while (len - skip >= sizeof(ENDBR64) && !memcmp(code + skip, ENDBR64, sizeof(ENDBR64)))
		skip += sizeof(ENDBR64);
	if (skip) {
		skipped.skip = (uint32_t)skip;
		skipped.kind = classify(code + skip, len - skip, file_off + skip, skipped.insn, sizeof(skipped.insn));
		if (skipped.kind != SITE_SINGLESTEP) {
			*out = skipped;
			out->start_kind = at_start.kind;
			memcpy(out->start_insn, at_start.insn, sizeof(out->start_insn));
			return;
		}
	}
	*out = at_start;
}

const char *site_kind_name(enum site_kind k)
{
	switch (k) {
	case SITE_OPTIMIZED:
		return "optimized";
	case SITE_EMULATED:
		return "emulated";
	default:
		return "single-step";
	}
}
