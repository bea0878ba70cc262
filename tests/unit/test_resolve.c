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
	/* globs: basename, soname, and versioned files */
	assert_true(resolve_lib_matches("libggml*.so", "/x/libggml-base.so", NULL));
	assert_true(resolve_lib_matches("libggml*.so", "/x/libggml-cpu-haswell.so", NULL));
	assert_true(resolve_lib_matches("libggml*.so", "/x/libggml-base.so.1", NULL));
	assert_true(resolve_lib_matches("libcustom*", "/x/renamed.so", "libcustom.so.2"));
	assert_true(resolve_lib_matches("/x/lib*.so", "/x/libllama.so", NULL));
	assert_false(resolve_lib_matches("libggml*.so", "/x/libllama.so", NULL));
	assert_false(resolve_lib_matches("/y/lib*.so", "/x/libllama.so", NULL));
}

/* A function as elfsym reads it, demangled by the real demangler. */
static struct elf_func func(const char *name)
{
	return (struct elf_func){
		.name = (char *)name,
		.demangled = elf_demangle(name, true),
		.base = elf_demangle(name, false),
	};
}

static void func_free(struct elf_func *f)
{
	free(f->demangled);
	free(f->base);
}

static void test_symbols(void **state)
{
	const char *mangled = "_ZN2at4_ops6linear4callERKNS_6TensorES4_RKSt8optionalIS2_E";
	struct elf_func f = func(mangled), c = func("llama_decode");

	assert_non_null(f.demangled);
	assert_true(resolve_sym_matches("at::_ops::*::call", &f));
	assert_true(resolve_sym_matches("at::_ops::linear::call", &f));
	assert_true(resolve_sym_matches("*linear*", &f));
	assert_true(resolve_sym_matches(mangled, &f));
	assert_false(resolve_sym_matches("at::_ops::relu::call", &f));
	func_free(&f);
	assert_true(resolve_sym_matches("llama_decode", &c));
	assert_true(resolve_sym_matches("*decode*", &c));
	assert_false(resolve_sym_matches("llama_decod", &c));
	assert_null(c.demangled);
	assert_null(elf_demangle("_Znot_valid", true));
}

static void test_cxx_base_name(void **state)
{
	/* parameter lists, qualifiers and template return types drop off;
	 * anonymous namespaces and operators stay */
	struct elf_func f[] = {
		func("_ZNK2ns1fEi"),                    /* ns::f(int) const */
		func("_ZN12_GLOBAL__N_11gEc"),          /* (anonymous namespace)::g(char) */
		func("_ZN1SclEi"),                      /* S::operator()(int) */
		func("_ZN1vIiE4pushEOi"),               /* v<int>::push(int&&) */
		func("_ZN5infer5clampIiEET_S1_S1_S1_"), /* int infer::clamp<int>(int, int, int) */
	};

	assert_true(resolve_sym_matches("ns::f", &f[0]));
	assert_string_equal(f[0].demangled, "ns::f(int) const");
	assert_true(resolve_sym_matches("(anonymous namespace)::g", &f[1]));
	assert_true(resolve_sym_matches("S::operator()", &f[2]));
	assert_true(resolve_sym_matches("v<int>::push", &f[3]));
	assert_true(resolve_sym_matches("infer::clamp<int>", &f[4]));
	assert_true(resolve_sym_matches("infer::clamp<*>", &f[4]));
	assert_string_equal(f[4].demangled, "infer::clamp<int>(int, int, int)");
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		func_free(&f[i]);
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
