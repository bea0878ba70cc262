/* SPDX-License-Identifier: GPL-2.0 */
/* What /proc says about a process: its mappings, name, state, executable. */
#ifndef INFERLAT_PROCFS_H
#define INFERLAT_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mapping {
	uint64_t start, end, pgoff;
	uint64_t dev;     /* kernel encoding (major << 20 | minor), as BPF sees s_dev */
	uint64_t ino;
	bool exec;
	bool deleted;     /* the file was unlinked or replaced since it was mapped */
	char *path;       /* as the target sees it (inside its mount namespace),
			   * without the " (deleted)" the kernel appends */
};

struct maps {
	struct mapping *v;
	size_t n;
};

/* File-backed mappings of pid. -ESRCH when the process is gone. */
int procfs_read_maps(pid_t pid, struct maps *m);
void procfs_free_maps(struct maps *m);

/* /proc/PID/comm without the newline. -ESRCH when gone. */
int procfs_comm(pid_t pid, char *buf, size_t sz);

enum proc_state {
	PROC_ABSENT,
	PROC_RUNNING,    /* any live state */
	PROC_ZOMBIE,
	PROC_KTHREAD,
};
enum proc_state procfs_state(pid_t pid);

/* Kernel dev_t (what s_dev holds) from a user-space st_dev. */
uint64_t procfs_kdev(dev_t dev);

/* Processes (not threads) whose executable is (dev, ino) in kernel encoding;
 * *pids is malloc'ed. */
int procfs_find_by_exe(uint64_t kdev, uint64_t ino, pid_t **pids, size_t *n);
/* Live processes whose name (/proc/PID/comm: the main thread's) is comm. */
int procfs_find_by_comm(const char *comm, pid_t **pids, size_t *n);

/* An entry of /proc/PID/auxv (AT_BASE, AT_ENTRY, ...). -ESRCH when the
 * process is gone, -ENOENT when it has no such entry. */
int procfs_auxv(pid_t pid, unsigned long type, unsigned long *val);

/* /proc/PID/map_files/START-END: the mapped file itself, even when it was
 * deleted or its mount namespace no longer shows it (needs CAP_SYS_ADMIN). */
void procfs_map_file_path(pid_t pid, const struct mapping *m, char *buf, size_t sz);

/* "/proc/PID/root" + path: the file as the target sees it, across mount
 * namespaces. */
void procfs_root_path(pid_t pid, const char *path, char *buf, size_t sz);

#endif
