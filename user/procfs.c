// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "grow.h"
#include "procfs.h"

uint64_t procfs_kdev(dev_t dev)
{
	return ((uint64_t)major(dev) << 20) | minor(dev);
}

void procfs_root_path(pid_t pid, const char *path, char *buf, size_t sz)
{
	snprintf(buf, sz, "/proc/%d/root%s", (int)pid, path);
}

#define DELETED " (deleted)"
#define DELETED_LEN (sizeof(DELETED) - 1)

void procfs_map_file_path(pid_t pid, const struct mapping *m, char *buf, size_t sz)
{
	snprintf(buf, sz, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, m->start, m->end);
}

int procfs_auxv(pid_t pid, unsigned long type, unsigned long *val)
{
	unsigned long kv[2];
	char fn[64];
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/auxv", (int)pid);
	f = fopen(fn, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fread(kv, sizeof(kv), 1, f) == 1) {
		if (kv[0] == type) {
			*val = kv[1];
			fclose(f);
			return 0;
		}
		if (kv[0] == AT_NULL)
			break;
	}
	fclose(f);
	return -ENOENT;
}

int procfs_read_maps(pid_t pid, struct maps *m)
{
	char fn[64], *line = NULL;
	size_t cap = 0, lcap = 0;
	FILE *f;
	int err = 0;

	memset(m, 0, sizeof(*m));
	snprintf(fn, sizeof(fn), "/proc/%d/maps", (int)pid);
	f = fopen(fn, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (getline(&line, &lcap, f) > 0) {
		unsigned long long start, end, pgoff, ino;
		unsigned int maj, min;
		char perms[8];
		int pos = 0;
		char *path, *nl;
		bool deleted;

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &pgoff,
			   &maj, &min, &ino, &pos) < 7 || !pos)
			continue;
		path = line + pos;
		if (*path != '/' || !ino)
			continue;
		nl = strchr(path, '\n');
		if (nl)
			*nl = '\0';
		deleted = strlen(path) > DELETED_LEN && !strcmp(path + strlen(path) - DELETED_LEN, DELETED);
		if (deleted)
			path[strlen(path) - DELETED_LEN] = '\0';
		if (GROW(m->v, m->n, cap, 64)) {
			err = -ENOMEM;
			break;
		}
		m->v[m->n++] = (struct mapping){
			.start = start, .end = end, .pgoff = pgoff,
			.dev = ((uint64_t)maj << 20) | min, .ino = ino,
			.exec = perms[2] == 'x',
			.deleted = deleted,
			.path = strdup(path),
		};
	}
	free(line);
	fclose(f);
	if (err)
		procfs_free_maps(m);
	return err;
}

void procfs_free_maps(struct maps *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

int procfs_comm(pid_t pid, char *buf, size_t sz)
{
	char fn[64];
	ssize_t n;
	int fd;

	snprintf(fn, sizeof(fn), "/proc/%d/comm", (int)pid);
	fd = open(fn, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sz - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

enum proc_state procfs_state(pid_t pid)
{
	char fn[64], buf[512], *p;
	unsigned long flags = 0;
	ssize_t n;
	int fd;

	if (pid <= 0)
		return PROC_ABSENT;
	snprintf(fn, sizeof(fn), "/proc/%d/stat", (int)pid);
	fd = open(fn, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return PROC_ABSENT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return PROC_ABSENT;
	buf[n] = '\0';
	/* comm may hold spaces and ')': the state follows the last ')' */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return PROC_ABSENT;
	if (p[2] == 'Z' || p[2] == 'X')
		return PROC_ZOMBIE;
	/* field 9 (flags): PF_KTHREAD = 0x00200000 */
	if (sscanf(p + 4, "%*d %*d %*d %*d %*d %lu", &flags) == 1 && (flags & 0x00200000))
		return PROC_KTHREAD;
	return PROC_RUNNING;
}

/* Processes (not threads) for which match(pid, arg) holds; *pids is malloc'ed. */
static int find_processes(bool (*match)(long pid, const void *arg), const void *arg, pid_t **pids, size_t *n)
{
	size_t cap = 0;
	struct dirent *de;
	DIR *d = opendir("/proc");

	*pids = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || !match(pid, arg))
			continue;
		if (GROW(*pids, *n, cap, 16)) {
			closedir(d);
			return -ENOMEM;
		}
		(*pids)[(*n)++] = (pid_t)pid;
	}
	closedir(d);
	return 0;
}

struct exe_id {
	uint64_t kdev, ino;
};

static bool runs_exe(long pid, const void *arg)
{
	const struct exe_id *id = arg;
	char fn[64];
	struct stat st;

	snprintf(fn, sizeof(fn), "/proc/%ld/exe", pid);
	return !stat(fn, &st) && st.st_ino == id->ino && procfs_kdev(st.st_dev) == id->kdev;
}

int procfs_find_by_exe(uint64_t kdev, uint64_t ino, pid_t **pids, size_t *n)
{
	struct exe_id id = { kdev, ino };

	return find_processes(runs_exe, &id, pids, n);
}

static bool has_comm(long pid, const void *arg)
{
	char comm[64];

	return !procfs_comm((pid_t)pid, comm, sizeof(comm)) && !strcmp(comm, arg) &&
	       procfs_state((pid_t)pid) == PROC_RUNNING;
}

int procfs_find_by_comm(const char *comm, pid_t **pids, size_t *n)
{
	return find_processes(has_comm, comm, pids, n);
}
