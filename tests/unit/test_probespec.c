// SPDX-License-Identifier: GPL-2.0
/* Probe specs (-e) and error predicates (-E). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "inferlat.h"
#include "probespec.h"

static void parse_ok(const char *text, const char *lib, const char *sym, uint64_t off, int at_offset)
{
	struct probe_spec s;
	char err[256] = "";

	assert_int_equal(probespec_parse(text, &s, err, sizeof(err)), 0);
	if (lib)
		assert_string_equal(s.lib, lib);
	else
		assert_null(s.lib);
	if (sym)
		assert_string_equal(s.symbol, sym);
	else
		assert_null(s.symbol);
	assert_int_equal(s.offset, off);
	assert_int_equal(s.at_offset, at_offset);
	probespec_free(&s);
}

static void parse_bad(const char *text)
{
	struct probe_spec s;
	char err[256] = "";

	assert_int_equal(probespec_parse(text, &s, err, sizeof(err)), -22);
	assert_true(strlen(err) > 0);
	assert_null(strchr(err, '\n'));
}

static void test_forms(void **state)
{
	parse_ok("llama_decode", NULL, "llama_decode", 0, 0);
	parse_ok("libllama.so:llama_decode", "libllama.so", "llama_decode", 0, 0);
	parse_ok("/opt/x@1.2/lib/libllama.so:llama_*", "/opt/x@1.2/lib/libllama.so", "llama_*", 0, 0);
	parse_ok("libfoo.so:bar+4", "libfoo.so", "bar", 4, 0);
	parse_ok("libfoo.so:bar+0x4", "libfoo.so", "bar", 4, 0);
	parse_ok("libonnxruntime.so.1:0x1a2b30", "libonnxruntime.so.1", NULL, 0x1a2b30, 1);
}

static void test_cxx_names(void **state)
{
	/* '::' is part of the name, the first lone ':' separates the library */
	parse_ok("at::_ops::*::call", NULL, "at::_ops::*::call", 0, 0);
	parse_ok("libtorch_cpu.so:at::_ops::*::call", "libtorch_cpu.so", "at::_ops::*::call", 0, 0);
	parse_ok("libx.so:ns::Foo::operator+", "libx.so", "ns::Foo::operator+", 0, 0);
	parse_ok("libx.so:ns::Foo::operator++", "libx.so", "ns::Foo::operator++", 0, 0);
	parse_ok("libx.so:f(int, char const*)", "libx.so", "f(int, char const*)", 0, 0);
}

static void test_bad(void **state)
{
	parse_bad("");
	parse_bad(":foo");
	parse_bad("libfoo.so:");
	parse_bad("0x1234");            /* an offset needs its library */
	parse_bad("libfoo.so:bar+99999999999999999999999");
}

static void test_errexpr(void **state)
{
	char err[256];
	int kind, bits;

	assert_int_equal(probespec_parse_err("ret!=0", &kind, &bits, err, sizeof(err)), 0);
	assert_int_equal(kind, INFERLAT_ERR_NONZERO);
	assert_int_equal(bits, 32);
	assert_int_equal(probespec_parse_err(" ret < 0 ", &kind, &bits, err, sizeof(err)), 0);
	assert_int_equal(kind, INFERLAT_ERR_NEG);
	assert_int_equal(probespec_parse_err("ret64==0", &kind, &bits, err, sizeof(err)), 0);
	assert_int_equal(kind, INFERLAT_ERR_ZERO);
	assert_int_equal(bits, 64);
	assert_int_equal(probespec_parse_err("ret>0", &kind, &bits, err, sizeof(err)), -22);
	assert_int_equal(probespec_parse_err("rc!=0", &kind, &bits, err, sizeof(err)), -22);
	assert_int_equal(probespec_parse_err("", &kind, &bits, err, sizeof(err)), -22);
	assert_int_equal(probespec_parse_err("ret<0 ; rm -rf /", &kind, &bits, err, sizeof(err)), -22);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_cxx_names),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_errexpr),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("probespec", tests, NULL, NULL);
}
