/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the fuzz targets. They are linked with -Wl,--wrap=exit: inside
 * FUZZ_CATCH_EXIT, an exit() of the code under test (bad usage exits 2)
 * comes back to the target instead of ending the fuzzer; anywhere else
 * (libFuzzer's own exit) it is the real one.
 */
#ifndef INFERLAT_FUZZ_H
#define INFERLAT_FUZZ_H

#include <setjmp.h>
#include <stdlib.h>

static jmp_buf fuzz_exit_jmp;
static volatile int fuzz_catching, fuzz_exit_status;

void __real_exit(int status) __attribute__((noreturn));
void __wrap_exit(int status) __attribute__((noreturn));

void __wrap_exit(int status)
{
	if (fuzz_catching) {
		fuzz_catching = 0;
		fuzz_exit_status = status;
		longjmp(fuzz_exit_jmp, 1);
	}
	__real_exit(status);
}

/* a broken invariant: a crash libFuzzer reports with the input */
#define FUZZ_ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

#endif
