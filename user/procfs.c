// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "procfs.h"

uint64_t procfs_kdev(dev_t dev)
{
	return ((uint64_t)major(dev) << 20) | minor(dev);
}

void procfs_root_path(pid_t pid, const char *path, char *buf, size_t sz)
{
	snprintf(buf, sz, "/proc/%d/root%s", (int)pid, path);
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

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &pgoff,
			   &maj, &min, &ino, &pos) < 7 || !pos)
			continue;
		path = line + pos;
		if (*path != '/' || !ino)
			continue;
		nl = strchr(path, '\n');
		if (nl)
			*nl = '\0';
		if (m->n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct mapping *nv = realloc(m->v, nc * sizeof(*nv));

			if (!nv) {
				err = -ENOMEM;
				break;
			}
			m->v = nv;
			cap = nc;
		}
		m->v[m->n++] = (struct mapping){
			.start = start, .end = end, .pgoff = pgoff,
			.dev = ((uint64_t)maj << 20) | min, .ino = ino,
			.exec = perms[2] == 'x',
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

int procfs_find_by_exe(uint64_t kdev, uint64_t ino, pid_t **pids, size_t *n)
{
	size_t cap = 0;
	struct dirent *de;
	DIR *d = opendir("/proc");

	*pids = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char fn[64];
		struct stat st;
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		snprintf(fn, sizeof(fn), "/proc/%ld/exe", pid);
		if (stat(fn, &st) || st.st_ino != ino || procfs_kdev(st.st_dev) != kdev)
			continue;
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			pid_t *nv = realloc(*pids, nc * sizeof(*nv));

			if (!nv) {
				closedir(d);
				return -ENOMEM;
			}
			*pids = nv;
			cap = nc;
		}
		(*pids)[(*n)++] = (pid_t)pid;
	}
	closedir(d);
	return 0;
}
