// SPDX-License-Identifier: GPL-2.0
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "log.h"
#include "ortapi.h"

#define NOBODY 65534
#define HELPER_TIMEOUT_S 20

struct ort_api_base {     /* OrtApiBase */
	const void *(*get_api)(uint32_t version);
	const char *(*get_version_string)(void);
};

struct reply {
	int err;              /* 0 or a positive errno */
	char msg[200];
	struct ortapi api;
};

struct find_ctx {
	const char *name;
	uintptr_t addr;
	uint64_t off;
	int found;
};

/* The file offset of an address in the object loaded as name. */
static int find_segment(struct dl_phdr_info *info, size_t size, void *data)
{
	struct find_ctx *c = data;

	if (!info->dlpi_name || strcmp(info->dlpi_name, c->name))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		if (c->addr >= lo && c->addr < lo + ph->p_memsz) {
			c->off = c->addr - lo + ph->p_offset;
			c->found = 1;
			return 1;
		}
	}
	return 1;
}

static void fail(struct reply *r, int err, const char *fmt, const char *arg)
{
	r->err = err;
	snprintf(r->msg, sizeof(r->msg), fmt, arg ? arg : "");
}

/* In the child, without privileges: load, read the table, convert. */
static void helper(int fd, struct reply *r)
{
	const struct ort_api_base *(*get_base)(void);
	const struct ort_api_base *base;
	const void *const *table;
	char name[64];
	void *h;
	int null;

	/* the library may print; the reply goes through the pipe */
	null = open("/dev/null", O_WRONLY);
	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY) ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		fail(r, errno, "cannot drop privileges for the helper%s", NULL);
		return;
	}
	/* through the descriptor opened as root: directories nobody cannot
	 * search do not stand in the way */
	snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
	h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fail(r, ENOEXEC, "dlopen: %s", dlerror());
		return;
	}
	get_base = (const struct ort_api_base *(*)(void))dlsym(h, "OrtGetApiBase");
	if (!get_base) {
		fail(r, ENOENT, "no OrtGetApiBase: not ONNX Runtime%s", NULL);
		return;
	}
	base = get_base();
	/* version 1 is served by every release, with the same table */
	table = base ? base->get_api(1) : NULL;
	if (!table) {
		fail(r, ENOENT, "OrtGetApiBase()->GetApi(1) returned nothing%s", NULL);
		return;
	}
	if (base->get_version_string)
		snprintf(r->api.version, sizeof(r->api.version), "%s", base->get_version_string());
	for (int i = 0; i < ORTAPI_NSLOTS; i++) {
		struct find_ctx c = { .name = name, .addr = (uintptr_t)table[i] };

		dl_iterate_phdr(find_segment, &c);
		if (!c.found) {
			fail(r, ENOENT, "an OrtApi function is outside the library's code%s", NULL);
			return;
		}
		r->api.off[i] = c.off;
	}
}

struct cached {
	uint64_t dev, ino;
	int err;
	struct ortapi api;
};

static struct cached *cache;
static size_t ncache;

int ortapi_cached(const char *path, uint64_t dev, uint64_t ino, const struct ortapi **out)
{
	struct cached *nv, *c;
	char err[512];

	for (size_t i = 0; i < ncache; i++)
		if (cache[i].dev == dev && cache[i].ino == ino) {
			*out = &cache[i].api;
			return cache[i].err;
		}
	nv = realloc(cache, (ncache + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	cache = nv;
	c = &cache[ncache++];
	memset(c, 0, sizeof(*c));
	c->dev = dev;
	c->ino = ino;
	c->err = ortapi_resolve(path, &c->api, err, sizeof(err));
	if (c->err)
		log_err("cannot read ONNX Runtime's API table: %s", err);
	else
		log_info("ONNX Runtime %s at %s: Run at %#llx, CreateSession at %#llx", c->api.version, path,
			 (unsigned long long)c->api.off[ORTAPI_RUN],
			 (unsigned long long)c->api.off[ORTAPI_CREATE_SESSION]);
	*out = &c->api;
	return c->err;
}

int ortapi_resolve(const char *path, struct ortapi *out, char *err, size_t errsz)
{
	struct reply r = { 0 };
	int fd, pfd[2], status;
	ssize_t n;
	pid_t pid;

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (pipe2(pfd, O_CLOEXEC)) {
		snprintf(err, errsz, "pipe: %s", strerror(errno));
		close(fd);
		return -EIO;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errsz, "fork: %s", strerror(errno));
		close(fd);
		close(pfd[0]);
		close(pfd[1]);
		return -EAGAIN;
	}
	if (pid == 0) {
		close(pfd[0]);
		alarm(HELPER_TIMEOUT_S);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		helper(fd, &r);
		n = write(pfd[1], &r, sizeof(r));
		_exit(n == (ssize_t)sizeof(r) ? 0 : 1);
	}
	close(fd);
	close(pfd[1]);
	n = read(pfd[0], &r, sizeof(r));
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(r)) {
		snprintf(err, errsz, "the helper that loads %s died (%s)", path,
			 WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "no reply");
		return -EIO;
	}
	if (r.err) {
		snprintf(err, errsz, "%s: %s", path, r.msg);
		return -r.err;
	}
	*out = r.api;
	return 0;
}
