/* SPDX-License-Identifier: GPL-2.0 */
#ifndef FAKE_KSTATS_H
#define FAKE_KSTATS_H

#include "kstats.h"

#define FAKE_PROBES 4
extern struct probe_stats fake_stats[FAKE_PROBES];
extern uint64_t fake_hists[FAKE_PROBES][INFERLAT_HIST_BUCKETS];
void fake_kernel_call(uint32_t id, uint64_t ns, int error);

#endif
