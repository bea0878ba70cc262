// SPDX-License-Identifier: GPL-2.0
/*
 * inferlat: wiring only. The subcommands, or one profiling run: options ->
 * set-up (targets, probes, BPF session, calibration, consumers) -> steps
 * until Ctrl-C or the run's end -> the whole run (app.h).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "app.h"
#include "cli.h"
#include "log.h"
#include "runtimes.h"
#include "symcmd.h"

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	exiting = 1;
}

int main(int argc, char **argv)
{
	struct options opt;
	struct app app;
	int status, step = 0;

	/* unset: debug files are read locally only; attaching must never wait
	 * on a download by libdwfl's debuginfod client */
	unsetenv("DEBUGINFOD_URLS");
	if (argc > 1 && !strcmp(argv[1], "symbols"))
		return symcmd_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "runtimes"))
		return runtimes_main(argc - 1, argv + 1);
	cli_parse(argc, argv, &opt);
	log_verbose = opt.verbose;
	log_install_libbpf();

	status = app_setup(&app, &opt);
	if (!status) {
		/* from here on Ctrl-C ends the run with its report */
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		status = app_go(&app);
	}
	if (!status) {
		while (!exiting && !(step = app_step(&app)))
			;
		status = app_finish(&app, step < 0 ? 1 : 0);
	}
	app_free(&app);
	cli_free(&opt);
	return status;
}
