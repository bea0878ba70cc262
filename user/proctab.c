// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "grow.h"
#include "procfs.h"
#include "proctab.h"

int proctab_init(struct proctab *t)
{
	memset(t, 0, sizeof(*t));
	t->clk_tck = sysconf(_SC_CLK_TCK);
	t->page_size = sysconf(_SC_PAGESIZE);
	return t->clk_tck > 0 && t->page_size > 0 ? 0 : -EINVAL;
}

void proctab_free(struct proctab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

int proctab_parse_stat(const char *line, char *state, uint64_t *ticks, unsigned *threads,
			uint64_t *rss_pages)
{
	unsigned long long utime, stime, rss;
	unsigned nthreads;
	const char *p;

	/* comm may hold spaces and ')': the fields follow the last ')' */
	p = strrchr(line, ')');
	if (!p)
		return -EINVAL;
	/* fields 3 (state) .. 24 (rss) */
	if (sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %u %*d %*u %*u %llu",
		   state, &utime, &stime, &nthreads, &rss) != 5)
		return -EINVAL;
	*ticks = utime + stime;
	*threads = nthreads;
	*rss_pages = rss;
	return 0;
}

static int read_small(const char *path, char *buf, size_t sz)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sz - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* -ESRCH when the process is gone (or a zombie). */
static int sample(struct proctab *t, struct proc_info *p, double now)
{
	char path[64], buf[1024], state;
	uint64_t ticks, rss_pages;
	unsigned threads;
	char *pss;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)p->pid);
	if (read_small(path, buf, sizeof(buf)))
		return -ESRCH;
	if (proctab_parse_stat(buf, &state, &ticks, &threads, &rss_pages))
		return -EINVAL;
	if (state == 'Z' || state == 'X')
		return -ESRCH;
	if (p->sampled && now > p->t_prev) {
		p->cpu_cores = (double)(ticks - p->ticks_prev) / (double)t->clk_tck / (now - p->t_prev);
		p->has_cpu = true;
	}
	if (!p->sampled) {
		p->ticks_first = ticks;
		p->t_first = now;
	}
	p->cpu_s = (double)(ticks - p->ticks_first) / (double)t->clk_tck;
	p->cpu_total_s = (double)ticks / (double)t->clk_tck;
	p->ticks_prev = ticks;
	p->t_prev = now;
	p->sampled = true;
	p->threads = threads;
	p->rss_bytes = rss_pages * (uint64_t)t->page_size;
	/* PSS: resident memory with shared pages divided among their users */
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)p->pid);
	p->has_pss = false;
	if (!read_small(path, buf, sizeof(buf)) && (pss = strstr(buf, "\nPss:"))) {
		unsigned long long kb;

		if (sscanf(pss + 5, "%llu", &kb) == 1) {
			p->pss_bytes = kb * 1024;
			p->has_pss = true;
		}
	}
	return 0;
}

struct proc_info *proctab_get(struct proctab *t, pid_t pid, double now)
{
	struct proc_info *p;

	/* a process whose exit was reported is gone: its PID seen again is a
	 * new process (PIDs are reused) */
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i]->pid == pid && !t->v[i]->dropped)
			return t->v[i];
	if (GROW(t->v, t->n, t->cap, 16))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->has_comm = !procfs_comm(pid, p->comm, sizeof(p->comm));
	if (sample(t, p, now))
		p->exited = true;   /* already gone: its calls are reported once */
	t->v[t->n++] = p;
	return p;
}

bool proctab_cores(const struct proc_info *p, bool whole_run, double *cores)
{
	if (!whole_run) {
		*cores = p->cpu_cores;
		return p->has_cpu;
	}
	/* the window's figure is that of the last sample gap, which can be one
	 * scheduler tick at exit: the run's is CPU time over the time seen */
	if (!p->sampled || p->t_prev <= p->t_first)
		return false;
	*cores = p->cpu_s / (p->t_prev - p->t_first);
	return true;
}

void proctab_window(struct proctab *t, double now)
{
	for (size_t i = 0; i < t->n; i++) {
		struct proc_info *p = t->v[i];

		if (p->exited)
			continue;
		if (sample(t, p, now)) {
			/* the figures stay those of the last sample before the exit */
			p->exited = true;
			p->has_cpu = false;
		}
	}
}
