/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whether this process has the capabilities inferlat needs:
 *   CAP_BPF, CAP_PERFMON      load the BPF programs, attach uprobe_multi links
 *                             (CAP_SYS_ADMIN counts for both, as in the kernel)
 *   CAP_SYS_PTRACE            read the targets' /proc/PID/maps, auxv, root
 *   CAP_DAC_READ_SEARCH       open their files through /proc/PID/root
 *   CAP_SYS_ADMIN             only for perf uprobes (--no-multi, kernels < 6.6)
 */
#ifndef INFERLAT_PRIVS_H
#define INFERLAT_PRIVS_H

#include <stdbool.h>

/* 0 when every capability a run needs is effective (perf_uprobes: it
 * attaches perf uprobes); else -EPERM, explained in one line on stderr. */
int privs_check(bool perf_uprobes);
/* Whether CAP_SYS_ADMIN is effective (perf uprobes need it). */
bool privs_sys_admin(void);

#endif
