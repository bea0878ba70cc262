/* SPDX-License-Identifier: GPL-2.0 */
/*
 * inferlat symbols -p PID|-x PATH [PATTERN]: what can be probed in a running
 * process (or in an executable and the libraries it loads), like bpftrace -l
 * for one process: per function its object, address, file offset, size, the
 * entry probe site inferlat would choose, and its (demangled) name.
 */
#ifndef INFERLAT_SYMCMD_H
#define INFERLAT_SYMCMD_H

/* argv[0] is "symbols". Returns the exit status. */
int symcmd_main(int argc, char **argv);

#endif
