// SPDX-License-Identifier: GPL-2.0
/* Runtime presets: which probes -r attaches by default and which only with
 * the option that opts in to a nested breakdown (--breakdown, --ops). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "runtimes.h"

struct expanded {
	struct probe_spec *v;
	size_t n;
};

static void expand(const char *name, unsigned optins, struct expanded *e)
{
	char *names[] = { (char *)name };
	struct targets t = { 0 };

	e->v = NULL;
	e->n = 0;
	assert_int_equal(runtimes_expand(names, 1, optins, &t, &e->v, &e->n), 0);
}

static void expanded_free(struct expanded *e)
{
	for (size_t i = 0; i < e->n; i++)
		probespec_free(&e->v[i]);
	free(e->v);
}

static const struct probe_spec *find(const struct expanded *e, const char *symbol)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->v[i].symbol && !strcmp(e->v[i].symbol, symbol))
			return &e->v[i];
	return NULL;
}

static void test_llama_default_probes_no_nested_call(void **state)
{
	struct expanded e;

	expand("llama.cpp", RUNTIMES_DEFAULT, &e);
	assert_int_equal(e.n, 5);
	assert_string_equal(e.v[0].symbol, "llama_decode");   /* the main probe first */
	assert_true(e.v[0].pool);
	assert_non_null(find(&e, "llama_tokenize"));
	assert_non_null(find(&e, "llama_memory_seq_rm"));
	for (size_t i = 0; i < e.n; i++) {
		assert_null(strstr(e.v[i].lib, "ggml"));
		assert_null(e.v[i].share_of);
	}
	expanded_free(&e);
	/* --ops is libtorch's: it adds nothing to llama.cpp */
	expand("llama.cpp", RUNTIMES_OPS, &e);
	assert_int_equal(e.n, 5);
	expanded_free(&e);
}

static void test_llama_breakdown_adds_graph_compute(void **state)
{
	const struct probe_spec *s, *c;
	struct expanded e;

	expand("llama.cpp", RUNTIMES_BREAKDOWN, &e);
	assert_int_equal(e.n, 7);
	assert_string_equal(e.v[0].symbol, "llama_decode");
	s = find(&e, "ggml_backend_sched_graph_compute_async");
	c = find(&e, "ggml_graph_compute");
	assert_non_null(s);
	assert_non_null(c);
	assert_string_equal(s->lib, "libggml-base.so");
	assert_string_equal(c->lib, "libggml-cpu*.so");
	assert_string_equal(s->share_of, "llama_decode");
	assert_string_equal(c->share_of, "llama_decode");
	assert_false(s->op || c->op || s->pool);
	assert_string_equal(s->runtime, "llama.cpp");
	expanded_free(&e);
}

static void test_torch_ops_only_with_ops(void **state)
{
	struct expanded e;

	expand("libtorch", RUNTIMES_DEFAULT, &e);
	assert_int_equal(e.n, 2);
	assert_null(find(&e, "at::_ops::*::call"));
	expanded_free(&e);
	expand("libtorch", RUNTIMES_BREAKDOWN, &e);
	assert_int_equal(e.n, 2);
	expanded_free(&e);
	expand("libtorch", RUNTIMES_OPS | RUNTIMES_BREAKDOWN, &e);
	assert_int_equal(e.n, 3);
	assert_true(find(&e, "at::_ops::*::call")->op);
	expanded_free(&e);
}

static void test_which_presets_offer(void **state)
{
	char buf[128];

	assert_true(runtimes_offers("llama.cpp", RUNTIMES_BREAKDOWN));
	assert_false(runtimes_offers("llama.cpp", RUNTIMES_OPS));
	assert_true(runtimes_offers("libtorch", RUNTIMES_OPS));
	assert_false(runtimes_offers("libtorch", RUNTIMES_BREAKDOWN));
	assert_false(runtimes_offers("onnxruntime", RUNTIMES_BREAKDOWN));
	assert_false(runtimes_offers("cuda", RUNTIMES_BREAKDOWN | RUNTIMES_OPS));
	assert_true(runtimes_offers("auto", RUNTIMES_BREAKDOWN));   /* it may pick llama.cpp */
	runtimes_offering(RUNTIMES_BREAKDOWN, buf, sizeof(buf));
	assert_string_equal(buf, "-r llama.cpp");
	runtimes_offering(RUNTIMES_OPS, buf, sizeof(buf));
	assert_string_equal(buf, "-r libtorch");
	runtimes_offering(RUNTIMES_OPS, buf, 4);   /* cut, still terminated */
	assert_string_equal(buf, "-r ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_llama_default_probes_no_nested_call),
		cmocka_unit_test(test_llama_breakdown_adds_graph_compute),
		cmocka_unit_test(test_torch_ops_only_with_ops),
		cmocka_unit_test(test_which_presets_offer),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("runtimes", tests, NULL, NULL);
}
