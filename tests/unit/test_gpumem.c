// SPDX-License-Identifier: GPL-2.0
/* Live GPU memory per process from decoded allocations and frees. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "gpumem.h"

static void test_alloc_free_live(void **state)
{
	struct gpumem g = { 0 };
	uint64_t size;

	assert_int_equal(gpumem_alloc(&g, 10, 0x1000, 100), 0);
	assert_int_equal(gpumem_alloc(&g, 10, 0x2000, 50), 0);
	assert_int_equal(gpumem_alloc(&g, 11, 0x1000, 7), 0);   /* same address, other process */
	assert_int_equal(gpumem_get(&g, 10)->live, 150);
	assert_int_equal(gpumem_get(&g, 11)->live, 7);
	assert_int_equal(gpumem_free(&g, 10, 0x1000, &size), 0);
	assert_int_equal(size, 100);
	assert_int_equal(gpumem_get(&g, 10)->live, 50);
	assert_int_equal(gpumem_get(&g, 10)->peak, 150);
	/* freed twice, or never seen allocated */
	assert_int_equal(gpumem_free(&g, 10, 0x1000, &size), -ENOENT);
	assert_int_equal(gpumem_free(&g, 12, 0x1000, &size), -ENOENT);
	assert_null(gpumem_get(&g, 12));
	assert_int_equal(gpumem_get(&g, 11)->live, 7);
	gpumem_free_all(&g);
}

static void test_many_with_reuse(void **state)
{
	struct gpumem g = { 0 };
	uint64_t size, want = 0;

	/* growth, deleted slots and addresses handed out again */
	for (int round = 0; round < 3; round++) {
		for (uint64_t i = 0; i < 5000; i++)
			assert_int_equal(gpumem_alloc(&g, 1, 0x10000 + i * 256, i + 1), 0);
		for (uint64_t i = 0; i < 5000; i += 2) {
			assert_int_equal(gpumem_free(&g, 1, 0x10000 + i * 256, &size), 0);
			assert_int_equal(size, i + 1);
		}
		for (uint64_t i = 1; i < 5000; i += 2) {
			assert_int_equal(gpumem_free(&g, 1, 0x10000 + i * 256, &size), 0);
			assert_int_equal(size, i + 1);
		}
		assert_int_equal(gpumem_get(&g, 1)->live, 0);
		assert_int_equal(gpumem_get(&g, 1)->nlive, 0);
	}
	for (uint64_t i = 0; i < 100; i++) {
		assert_int_equal(gpumem_alloc(&g, 1, 0x500000 + i * 64, 3), 0);
		want += 3;
	}
	assert_int_equal(gpumem_get(&g, 1)->live, want);
	assert_int_equal(gpumem_get(&g, 1)->peak, 5000 * 5001 / 2);
	/* pointers 0 and 1 are the table's markers, and no allocation's */
	assert_int_equal(gpumem_alloc(&g, 1, 0, 3), -EINVAL);
	gpumem_free_all(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_free_live),
		cmocka_unit_test(test_many_with_reuse),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("gpumem", tests, NULL, NULL);
}
