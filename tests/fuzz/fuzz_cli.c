// SPDX-License-Identifier: GPL-2.0
/*
 * The command line: the input is split at NUL bytes into arguments after
 * "inferlat". cli_parse either returns complete, consistent options or exits
 * 0 (--help, --version) or 2 (bad usage) having freed what it parsed.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "fuzz.h"

#define MAX_ARGS 64

static int devnull, saved_err;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* --help text and the one-line errors: not the fuzzer's output */
	devnull = open("/dev/null", O_WRONLY);
	if (!freopen("/dev/null", "w", stdout))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct options o;
	char *buf = malloc(size + 1), *argv[MAX_ARGS + 2];
	int argc = 1;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "inferlat";
	for (size_t i = 0; i <= size && argc <= MAX_ARGS; ) {
		argv[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	argv[argc] = NULL;

	fflush(stderr);
	saved_err = dup(2);
	dup2(devnull, 2);
	fuzz_catching = 1;
	if (!setjmp(fuzz_exit_jmp)) {
		cli_parse(argc, argv, &o);
		fuzz_catching = 0;
		FUZZ_ASSERT(o.npids || o.nexes || o.ncomms || o.command);
		FUZZ_ASSERT(o.nspecs > 0 && o.interval_s >= 0.01 && o.duration_s >= 0);
		FUZZ_ASSERT(o.max_probes >= 1);
		FUZZ_ASSERT(!o.ringbuf_bytes || !(o.ringbuf_bytes & (o.ringbuf_bytes - 1)));
		for (size_t i = 0; i < o.npids; i++)
			FUZZ_ASSERT(o.pids[i] > 0);
		FUZZ_ASSERT(o.textfile_dir || (!o.nlabels && !o.textfile_name && !o.pid_label));
		cli_free(&o);
	} else {
		FUZZ_ASSERT(fuzz_exit_status == 0 || fuzz_exit_status == EXIT_USAGE);
		/* cli_parse freed everything before it exited */
		FUZZ_ASSERT(!o.specs && !o.labels && !o.pids && !o.exes && !o.comms);
	}
	fflush(stderr);
	dup2(saved_err, 2);
	close(saved_err);
	free(buf);
	return 0;
}
