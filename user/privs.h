/* SPDX-License-Identifier: GPL-2.0 */
/* Whether this process may load BPF programs and attach uprobes. */
#ifndef INFERLAT_PRIVS_H
#define INFERLAT_PRIVS_H

/* 0 when CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) are effective; else
 * -EPERM, explained on stderr. */
int privs_check(void);

#endif
