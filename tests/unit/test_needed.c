// SPDX-License-Identifier: GPL-2.0
/* The libraries an executable loads, as its loader lists them. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "needed.h"

static void parse(const char *text, const char *want)
{
	char line[512];
	char *got;

	strcpy(line, text);
	got = needed_parse_line(line);
	if (want)
		assert_string_equal(got, want);
	else
		assert_null(got);
}

static void test_lines(void **state)
{
	parse("\tlinux-vdso.so.1 (0x00007ffd1c9e5000)\n", NULL);
	parse("\tlibinfer.so.1 => /opt/x/libinfer.so.1 (0x00007f1d5a2f1000)\n", "/opt/x/libinfer.so.1");
	parse("\t/lib64/ld-linux-x86-64.so.2 (0x00007f1d5a31c000)\n", "/lib64/ld-linux-x86-64.so.2");
	parse("\tlibmissing.so.2 => not found\n", NULL);
	/* paths with spaces and '@' (npm packages) stay whole */
	parse("\tlibllama.so => /srv/my models/@node/libllama.so (0x00007f0000000000)\n",
	      "/srv/my models/@node/libllama.so");
}

static void test_own_executable(void **state)
{
	char **libs, *self = realpath("/proc/self/exe", NULL);
	size_t n;
	bool libc = false, cmocka = false;

	/* this test binary is dynamic and uses the loader inferlat runs with */
	assert_non_null(self);
	assert_int_equal(needed_libraries(self, &libs, &n), 0);
	free(self);
	for (size_t i = 0; i < n; i++) {
		assert_true(libs[i][0] == '/');
		libc |= strstr(libs[i], "/libc.so.6") != NULL;
		cmocka |= strstr(libs[i], "/libcmocka.so") != NULL;
	}
	assert_true(libc && cmocka);
	needed_free(libs, n);
	/* not a dynamic executable */
	assert_int_equal(needed_libraries("/etc/passwd", &libs, &n), -ENOEXEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_own_executable),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("needed", tests, NULL, NULL);
}
