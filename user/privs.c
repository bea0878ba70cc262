// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "log.h"
#include "privs.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static int effective(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

	memset(d, 0, 2 * sizeof(*d));
	return syscall(SYS_capget, &h, d) ? -errno : 0;
}

static bool has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return (d[cap / 32].effective >> (cap % 32)) & 1;
}

bool privs_sys_admin(void)
{
	struct __user_cap_data_struct d[2];

	return !effective(d) && has_cap(d, CAP_SYS_ADMIN);
}

int privs_check(bool perf_uprobes)
{
	struct __user_cap_data_struct d[2];
	bool admin;
	/* what the kernel checks: bpf_capable() and perfmon_capable() accept
	 * CAP_SYS_ADMIN too; reading another process's /proc files does not */
	const struct { int cap; const char *name; bool admin_ok; } need[] = {
		{ CAP_BPF, "CAP_BPF", true },
		{ CAP_PERFMON, "CAP_PERFMON", true },
		{ CAP_SYS_PTRACE, "CAP_SYS_PTRACE", false },
		{ CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH", false },
	};
	char missing[128] = "";
	int err;

	err = effective(d);
	if (err) {
		log_err("cannot read this process's capabilities: %s", strerror(-err));
		return err;
	}
	admin = has_cap(d, CAP_SYS_ADMIN);
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (has_cap(d, need[i].cap) || (need[i].admin_ok && admin))
			continue;
		snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
			 missing[0] ? ", " : "", need[i].name);
	}
	if (missing[0]) {
		log_err("missing %s: inferlat needs CAP_BPF and CAP_PERFMON to load BPF programs and "
			"attach uprobes, CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH to read the targets' "
			"/proc/PID/maps and their files through /proc/PID/root; run it as root or with "
			"these capabilities (setpriv --ambient-caps, systemd AmbientCapabilities=)",
			missing);
		return -EPERM;
	}
	if (perf_uprobes && !admin) {
		log_err("missing CAP_SYS_ADMIN: --no-multi attaches perf uprobes, which need it; "
			"without --no-multi, uprobe_multi links need only CAP_BPF and CAP_PERFMON");
		return -EPERM;
	}
	return 0;
}
