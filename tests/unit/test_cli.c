// SPDX-License-Identifier: GPL-2.0
/* Option parsing: what good command lines produce. (Bad ones exit 2: the
 * integration tests run those as processes.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "cli.h"
#include "inferlat.h"
#include "runtimes.h"

static void test_durations(void **state)
{
	double d;

	assert_int_equal(cli_parse_duration("1", &d), 0);
	assert_true(d == 1);
	assert_int_equal(cli_parse_duration("0.5", &d), 0);
	assert_true(d == 0.5);
	assert_int_equal(cli_parse_duration("250ms", &d), 0);
	assert_true(d == 0.25);
	assert_int_equal(cli_parse_duration("2m", &d), 0);
	assert_true(d == 120);
	assert_int_equal(cli_parse_duration("1h", &d), 0);
	assert_true(d == 3600);
	assert_int_equal(cli_parse_duration("0", &d), -22);
	assert_int_equal(cli_parse_duration("-1", &d), -22);
	assert_int_equal(cli_parse_duration("abc", &d), -22);
	assert_int_equal(cli_parse_duration("5x", &d), -22);
	assert_int_equal(cli_parse_duration("nan", &d), -22);
	assert_int_equal(cli_parse_duration("inf", &d), -22);
	assert_int_equal(cli_parse_duration("", &d), -22);
}

static void test_full_command_line(void **state)
{
	char *argv[] = { "inferlat", "-p", "1", "-p", "22", "-e", "libllama.so:llama_decode", "-E", "ret<0",
			 "-e", "libggml-base.so:ggml_*compute*", "-i", "500ms", "-d", "10",
			 "--json", "-", "-q", "-v", "--", "./server", "--port", "80", NULL };
	struct options o;

	cli_parse((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, &o);
	assert_int_equal(o.npids, 2);
	assert_int_equal(o.pids[1], 22);
	assert_int_equal(o.nspecs, 2);
	assert_string_equal(o.specs[0].lib, "libllama.so");
	assert_int_equal(o.specs[0].err_kind, INFERLAT_ERR_NEG);   /* -E binds to the -e before it */
	assert_int_equal(o.specs[1].err_kind, INFERLAT_ERR_NONE);
	assert_true(o.interval_s == 0.5);
	assert_true(o.duration_s == 10);
	assert_string_equal(o.json_path, "-");
	assert_true(o.quiet && o.verbose);
	assert_non_null(o.command);
	assert_string_equal(o.command[0], "./server");
	assert_string_equal(o.command[2], "80");
	assert_null(o.command[3]);
	cli_free(&o);
}

static void test_default_error_predicate(void **state)
{
	char *argv[] = { "inferlat", "-E", "ret64==0", "-x", "/bin/true", "-e", "a", "-e", "b", NULL };
	struct options o;

	cli_parse(9, argv, &o);
	assert_int_equal(o.specs[0].err_kind, INFERLAT_ERR_ZERO);
	assert_int_equal(o.specs[1].ret_bits, 64);
	assert_true(o.interval_s == 1);
	assert_int_equal(o.max_probes, 1000);
	assert_false(o.max_probes_given);
	assert_false(o.no_multi);
	assert_null(o.debug_root);
	assert_null(o.command);
	cli_free(&o);
}

static void test_textfile_options(void **state)
{
	char *argv[] = { "inferlat", "-p", "1", "-e", "f", "--textfile-dir", "/var/lib/node", "--textfile-name",
			 "m.prom", "--label", "model=llama", "--label", "service=chat", "--pid-label", NULL };
	struct options o;

	cli_parse((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, &o);
	assert_string_equal(o.textfile_dir, "/var/lib/node");
	assert_string_equal(o.textfile_name, "m.prom");
	assert_int_equal(o.nlabels, 2);
	assert_string_equal(o.labels[0].key, "model");
	assert_string_equal(o.labels[1].value, "chat");
	assert_true(o.pid_label);
	cli_free(&o);
}

static void test_attach_options(void **state)
{
	char *argv[] = { "inferlat", "--comm", "llama-server", "--comm", "python3", "-e", "a",
			 "--debug-root", "/tmp/dbg", "--no-multi", "--max-probes", "64", NULL };
	struct options o;

	cli_parse((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, &o);
	assert_int_equal(o.ncomms, 2);
	assert_string_equal(o.comms[0], "llama-server");
	assert_string_equal(o.comms[1], "python3");
	assert_int_equal(o.npids + o.nexes, 0);   /* --comm alone is a target */
	assert_string_equal(o.debug_root, "/tmp/dbg");
	assert_true(o.no_multi);
	assert_int_equal(o.max_probes, 64);
	assert_true(o.max_probes_given);
	cli_free(&o);
}

static void test_runtime_options(void **state)
{
	char *argv[] = { "inferlat", "-p", "7", "-r", "llama.cpp", "-r", "libtorch", "--ops", NULL };
	struct options o;

	cli_parse((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, &o);
	assert_int_equal(o.nspecs, 0);   /* presets alone are probes enough */
	assert_int_equal(o.nruntimes, 2);
	assert_string_equal(o.runtimes[1], "libtorch");
	assert_int_equal(o.optins, RUNTIMES_OPS);
	/* ~3000 ATen operators: room for them unless --max-probes says otherwise */
	assert_int_equal(o.max_probes, INFERLAT_MAX_PROBES);
	assert_false(o.max_probes_given);
	cli_free(&o);
}

static void test_breakdown_option(void **state)
{
	char *plain[] = { "inferlat", "-p", "7", "-r", "llama.cpp", NULL };
	char *argv[] = { "inferlat", "-p", "7", "-r", "llama.cpp", "--breakdown", NULL };
	char *autov[] = { "inferlat", "-p", "7", "--breakdown", "-r", "auto", "--ops", NULL };
	struct options o;

	cli_parse((int)(sizeof(plain) / sizeof(plain[0])) - 1, plain, &o);
	assert_int_equal(o.optins, RUNTIMES_DEFAULT);   /* nested probes are opt-in */
	assert_int_equal(o.max_probes, 1000);
	cli_free(&o);
	cli_parse((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv, &o);
	assert_int_equal(o.optins, RUNTIMES_BREAKDOWN);
	assert_int_equal(o.max_probes, 1000);           /* a few probes more: no room needed */
	cli_free(&o);
	cli_parse((int)(sizeof(autov) / sizeof(autov[0])) - 1, autov, &o);
	assert_int_equal(o.optins, RUNTIMES_BREAKDOWN | RUNTIMES_OPS);
	cli_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_full_command_line),
		cmocka_unit_test(test_textfile_options),
		cmocka_unit_test(test_default_error_predicate),
		cmocka_unit_test(test_attach_options),
		cmocka_unit_test(test_runtime_options),
		cmocka_unit_test(test_breakdown_option),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
