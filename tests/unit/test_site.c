// SPDX-License-Identifier: GPL-2.0
/* Probe-site choice from instruction bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "site.h"

#define CHOOSE(bytes, off, s) site_choose((const uint8_t *)(bytes), sizeof(bytes) - 1, (off), (s))

static void test_endbr_then_push_moves(void **state)
{
	struct site s;

	CHOOSE("\xf3\x0f\x1e\xfa\x55\x48\x89\xe5", 0x13d0, &s);
	assert_int_equal(s.skip, 4);
	assert_int_equal(s.kind, SITE_EMULATED);
	assert_string_equal(s.insn, "push %rbp");
	assert_int_equal(s.start_kind, SITE_SINGLESTEP);
	assert_string_equal(s.start_insn, "endbr64");
}

static void test_endbr_then_r15_push(void **state)
{
	struct site s;

	CHOOSE("\xf3\x0f\x1e\xfa\x41\x57\x41\x56", 0, &s);
	assert_int_equal(s.skip, 4);
	assert_string_equal(s.insn, "push %r15");
}

static void test_endbr_then_nop5_optimized(void **state)
{
	struct site s;

	CHOOSE("\xf3\x0f\x1e\xfa\x0f\x1f\x44\x00\x00\x55", 0x100, &s);
	assert_int_equal(s.skip, 4);
	assert_int_equal(s.kind, SITE_OPTIMIZED);
}

/* a nop5 crossing a page cannot be rewritten atomically: single-stepped */
static void test_nop5_across_page(void **state)
{
	struct site s;

	CHOOSE("\x0f\x1f\x44\x00\x00\xc3", 0xffd, &s);
	assert_int_equal(s.kind, SITE_SINGLESTEP);
	CHOOSE("\x0f\x1f\x44\x00\x00\xc3", 0xffb, &s);
	assert_int_equal(s.kind, SITE_OPTIMIZED);
}

static void test_first_insn_kinds(void **state)
{
	struct site s;

	CHOOSE("\x55\x48\x89\xe5", 0, &s);
	assert_int_equal(s.skip, 0);
	assert_int_equal(s.kind, SITE_EMULATED);
	CHOOSE("\x90\x55", 0, &s);
	assert_int_equal(s.kind, SITE_EMULATED);
	CHOOSE("\xe9\x00\x00\x00\x00", 0, &s);
	assert_int_equal(s.kind, SITE_EMULATED);
	/* 0x66-prefixed nops are refused by the kernel's emulation */
	CHOOSE("\x66\x90\x55", 0, &s);
	assert_int_equal(s.kind, SITE_SINGLESTEP);
	assert_int_equal(s.skip, 0);
}

/* nothing better after endbr64: stay on the symbol */
static void test_endbr_then_stepped_stays(void **state)
{
	struct site s;

	CHOOSE("\xf3\x0f\x1e\xfa\x48\x83\xec\x08", 0, &s);  /* sub $8,%rsp */
	assert_int_equal(s.skip, 0);
	assert_int_equal(s.kind, SITE_SINGLESTEP);
	CHOOSE("\x48\x8d\x05\x00\x00\x00\x00", 0, &s);       /* lea */
	assert_int_equal(s.skip, 0);
	assert_int_equal(s.kind, SITE_SINGLESTEP);
}

static void test_short_and_empty(void **state)
{
	struct site s;

	site_choose((const uint8_t *)"", 0, 0, &s);
	assert_int_equal(s.skip, 0);
	assert_int_equal(s.kind, SITE_SINGLESTEP);
	CHOOSE("\xf3\x0f\x1e", 0, &s);  /* truncated endbr64 */
	assert_int_equal(s.skip, 0);
}

static void test_neutral_prefix(void **state)
{
	static const uint8_t code[] = "\xf3\x0f\x1e\xfa\x0f\x1f\x40\x00\x90\x55";

	assert_int_equal(site_neutral_prefix(code, sizeof(code) - 1), 9);
	assert_int_equal(site_neutral_prefix((const uint8_t *)"\x55", 1), 0);
}

/* +OFF: only at the boundaries of the padding's instructions */
static void test_neutral_skip_boundaries(void **state)
{
	/* endbr64 (4), nopl 0x0(%rax) (4), nop (1), push %rbp */
	static const uint8_t code[] = "\xf3\x0f\x1e\xfa\x0f\x1f\x40\x00\x90\x55";
	const size_t len = sizeof(code) - 1;

	for (size_t skip = 0; skip <= len; skip++)
		assert_int_equal(site_neutral_skip_ok(code, len, skip),
				 skip == 0 || skip == 4 || skip == 8 || skip == 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endbr_then_push_moves),
		cmocka_unit_test(test_endbr_then_r15_push),
		cmocka_unit_test(test_endbr_then_nop5_optimized),
		cmocka_unit_test(test_nop5_across_page),
		cmocka_unit_test(test_first_insn_kinds),
		cmocka_unit_test(test_endbr_then_stepped_stays),
		cmocka_unit_test(test_short_and_empty),
		cmocka_unit_test(test_neutral_prefix),
		cmocka_unit_test(test_neutral_skip_boundaries),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("site", tests, NULL, NULL);
}
