// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "elfsym.h"
#include "needed.h"

/* The realpath of exe's PT_INTERP. -ENOEXEC when it has none (static). */
static int interp_of(const char *exe, char *out)
{
	struct elf_obj o;
	char interp[PATH_MAX];
	int err;

	err = elf_obj_open(exe, &o);
	if (err)
		return err;
	err = elf_obj_interp(&o, interp, sizeof(interp));
	elf_obj_close(&o);
	if (err)
		return err == -ENOENT ? -ENOEXEC : err;
	return realpath(interp, out) ? 0 : -errno;
}

char *needed_parse_line(char *line)
{
	char *p = line, *arrow, *end;

	while (*p == '\t' || *p == ' ')
		p++;
	arrow = strstr(p, " => ");
	if (arrow)
		p = arrow + 4;
	if (*p != '/')
		return NULL;   /* linux-vdso.so.1, "not found" */
	end = strstr(p, " (0x");
	if (end)
		*end = '\0';
	else
		p[strcspn(p, "\n")] = '\0';
	return p;
}

static int push(char ***libs, size_t *n, const char *path)
{
	char **nv = realloc(*libs, (*n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	*libs = nv;
	if (!(nv[*n] = strdup(path)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

int needed_libraries(const char *exe, char ***libs, size_t *n)
{
	char interp[PATH_MAX], ours[PATH_MAX], *line = NULL;
	size_t lcap = 0;
	int fds[2], st, err;
	FILE *f;
	pid_t pid;

	*libs = NULL;
	*n = 0;
	err = interp_of(exe, interp);
	if (err)
		return err;
	err = interp_of("/proc/self/exe", ours);
	if (err)
		return err;
	if (strcmp(interp, ours))
		return -ENOEXEC;
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (pid == 0) {
		char *argv[] = { interp, "--list", (char *)exe, NULL };
		char *envp[] = { NULL };
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		if (dup2(fds[1], 1) < 0 || null < 0 || dup2(null, 2) < 0)
			_exit(127);
		execve(interp, argv, envp);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	if (!f) {
		err = -errno;
		close(fds[0]);
	}
	while (f && getline(&line, &lcap, f) > 0) {
		char *path = needed_parse_line(line);

		if (path && !err)
			err = push(libs, n, path);
	}
	free(line);
	if (f)
		fclose(f);
	if (waitpid(pid, &st, 0) != pid)
		err = err ? err : -errno;
	else if (!err && (!WIFEXITED(st) || WEXITSTATUS(st)))
		err = -ENOEXEC;   /* the loader refused it: not a dynamic executable */
	if (err) {
		needed_free(*libs, *n);
		*libs = NULL;
		*n = 0;
	}
	return err;
}

void needed_free(char **libs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(libs[i]);
	free(libs);
}
