// SPDX-License-Identifier: GPL-2.0
/* Arrays that grow by doubling: room kept, doubled from the first size, and
 * the array untouched when the size cannot be had. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "grow.h"

struct pair {
	uint64_t a, b;
};

static void test_doubles_from_first(void **state)
{
	struct pair *v = NULL;
	size_t n = 0, cap = 0;
	size_t caps[40];

	for (int i = 0; i < 40; i++) {
		assert_int_equal(GROW(v, n, cap, 4), 0);
		assert_true(n < cap);
		v[n] = (struct pair){ (uint64_t)i, (uint64_t)i * 3 };
		n++;
		caps[i] = cap;
	}
	/* 4, 8, 16, 32, 64: grown only when full */
	assert_int_equal(caps[0], 4);
	assert_int_equal(caps[3], 4);
	assert_int_equal(caps[4], 8);
	assert_int_equal(caps[8], 16);
	assert_int_equal(caps[39], 64);
	for (int i = 0; i < 40; i++)
		assert_int_equal(v[i].b, (uint64_t)i * 3);
	free(v);
}

static void test_room_left_is_kept(void **state)
{
	int *v = malloc(8 * sizeof(*v)), *before = v;
	size_t cap = 8;

	assert_int_equal(GROW(v, 7, cap, 4), 0);
	assert_ptr_equal(v, before);
	assert_int_equal(cap, 8);
	free(v);
}

static void test_too_large_leaves_array(void **state)
{
	uint64_t *v = malloc(4 * sizeof(*v)), *before = v;
	size_t cap = SIZE_MAX / 2 + 1;   /* doubling overflows */

	v[0] = 42;
	assert_int_equal(GROW(v, cap, cap, 4), -ENOMEM);
	assert_ptr_equal(v, before);
	assert_int_equal(cap, SIZE_MAX / 2 + 1);
	assert_int_equal(v[0], 42);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubles_from_first),
		cmocka_unit_test(test_room_left_is_kept),
		cmocka_unit_test(test_too_large_leaves_array),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("grow", tests, NULL, NULL);
}
