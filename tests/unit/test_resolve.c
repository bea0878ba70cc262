// SPDX-License-Identifier: GPL-2.0
/* Library-name and symbol matching used when resolving probes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "elfsym.h"
#include "resolve.h"

static void test_lib_names(void **state)
{
	assert_true(resolve_lib_matches("libllama.so", "/x/libllama.so", NULL));
	assert_true(resolve_lib_matches("libllama.so", "/x/libllama.v0.5.0.so", NULL));
	assert_true(resolve_lib_matches("libllama", "/x/libllama.so.1", NULL));
	assert_true(resolve_lib_matches("libinfer.so", "/x/libinfer.so.1", NULL));
	assert_true(resolve_lib_matches("libinfer.so.1", "/x/libinfer.so.1", NULL));
	assert_true(resolve_lib_matches("libonnxruntime.so", "/x/libonnxruntime.so.1.30.0", NULL));
	assert_true(resolve_lib_matches("libcustom.so", "/x/renamed.so", "libcustom.so"));
	assert_true(resolve_lib_matches("/x/libllama.so", "/x/libllama.so", NULL));
	assert_false(resolve_lib_matches("libllama.so", "/x/libllama-common.so", NULL));
	assert_false(resolve_lib_matches("libggml.so", "/x/libggml-base.so", NULL));
	assert_false(resolve_lib_matches("libc.so", "/x/libcrypto.so.3", NULL));
	assert_false(resolve_lib_matches("/y/libllama.so", "/x/libllama.so", NULL));
}

static void test_symbols(void **state)
{
	const char *mangled = "_ZN2at4_ops6linear4callERKNS_6TensorES4_RKSt8optionalIS2_E";
	char *d = elf_demangle(mangled);

	assert_non_null(d);
	assert_true(resolve_sym_matches("at::_ops::*::call", mangled, d));
	assert_true(resolve_sym_matches("at::_ops::linear::call", mangled, d));
	assert_true(resolve_sym_matches("*linear*", mangled, d));
	assert_true(resolve_sym_matches(mangled, mangled, d));
	assert_false(resolve_sym_matches("at::_ops::relu::call", mangled, d));
	free(d);
	assert_true(resolve_sym_matches("llama_decode", "llama_decode", NULL));
	assert_true(resolve_sym_matches("*decode*", "llama_decode", NULL));
	assert_false(resolve_sym_matches("llama_decod", "llama_decode", NULL));
	assert_null(elf_demangle("llama_decode"));
	assert_null(elf_demangle("_Znot_valid"));
}

static void test_cxx_base_name(void **state)
{
	/* parameter lists and qualifiers drop off; anonymous namespaces stay */
	assert_true(resolve_sym_matches("ns::f", "x", "ns::f(int) const"));
	assert_true(resolve_sym_matches("(anonymous namespace)::g", "x", "(anonymous namespace)::g(char)"));
	assert_true(resolve_sym_matches("S::operator()", "x", "S::operator()(int)"));
	assert_true(resolve_sym_matches("v<int>::push", "x", "v<int>::push(int&&)"));
}

static void test_edit_distance(void **state)
{
	assert_int_equal(resolve_edit_distance("", ""), 0);
	assert_int_equal(resolve_edit_distance("abc", ""), 3);
	assert_int_equal(resolve_edit_distance("llama_decod", "llama_decode"), 1);
	assert_int_equal(resolve_edit_distance("kitten", "sitting"), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lib_names),
		cmocka_unit_test(test_symbols),
		cmocka_unit_test(test_cxx_base_name),
		cmocka_unit_test(test_edit_distance),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("resolve", tests, NULL, NULL);
}
