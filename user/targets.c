// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include "log.h"
#include "procfs.h"
#include "targets.h"

/* Processes found running a target now: traced from the start. */
static int add_found(struct targets *t, pid_t *found, size_t nfound)
{
	int err = 0;

	for (size_t j = 0; j < nfound && !err; j++)
		err = probe_pid_add(&t->pids, &t->npids, found[j]);
	free(found);
	return err;
}

int targets_build(const pid_t *pids, size_t npids, char *const *exes, size_t nexes,
		  char *const *comms, size_t ncomms, struct targets *t)
{
	int err;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < npids; i++) {
		switch (procfs_state(pids[i])) {
		case PROC_ABSENT:
			log_err("no process with PID %d: check the PID (ps -p %d)", (int)pids[i], (int)pids[i]);
			return -ESRCH;
		case PROC_ZOMBIE:
			log_err("PID %d has exited (zombie): there is nothing left to trace", (int)pids[i]);
			return -ESRCH;
		case PROC_KTHREAD:
			log_err("PID %d is a kernel thread: inferlat traces user-space processes", (int)pids[i]);
			return -EINVAL;
		case PROC_RUNNING:
			break;
		}
		err = probe_pid_add(&t->pids, &t->npids, pids[i]);
		if (err)
			return err;
	}
	for (size_t i = 0; i < nexes; i++) {
		struct exe_target *nv, *x;
		struct stat st;
		pid_t *found;
		size_t nfound;

		if (stat(exes[i], &st)) {
			log_err("-x %s: %s", exes[i], strerror(errno));
			return -errno;
		}
		if (!S_ISREG(st.st_mode)) {
			log_err("-x %s: not a regular file", exes[i]);
			return -EINVAL;
		}
		nv = realloc(t->exes, (t->nexes + 1) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		t->exes = nv;
		x = &t->exes[t->nexes++];
		x->path = realpath(exes[i], NULL);
		x->dev = procfs_kdev(st.st_dev);
		x->ino = st.st_ino;
		if (!x->path)
			return -errno;
		err = procfs_find_by_exe(x->dev, x->ino, &found, &nfound);
		if (!err)
			err = add_found(t, found, nfound);
		if (err)
			return err;
		x->running = nfound > 0;
		log_info("-x %s: %zu process(es) running it now", x->path, nfound);
	}
	for (size_t i = 0; i < ncomms; i++) {
		char **nv = realloc(t->comms, (t->ncomms + 1) * sizeof(*nv));
		pid_t *found;
		size_t nfound;

		if (!nv)
			return -ENOMEM;
		t->comms = nv;
		if (!(t->comms[t->ncomms] = strdup(comms[i])))
			return -ENOMEM;
		t->ncomms++;
		err = procfs_find_by_comm(comms[i], &found, &nfound);
		if (!err)
			err = add_found(t, found, nfound);
		if (err)
			return err;
		log_info("--comm %s: %zu process(es) named so now", comms[i], nfound);
	}
	return 0;
}

/* Continue a traced child until it stops with SIGTRAP, passing other
 * signals on. */
static int cont_until_trap(pid_t pid)
{
	int st, sig = 0;

	for (;;) {
		if (ptrace(PTRACE_CONT, pid, NULL, (void *)(long)sig))
			return -errno;
		if (waitpid(pid, &st, 0) != pid)
			return -errno;
		if (!WIFSTOPPED(st))
			return -ECHILD;
		if (WSTOPSIG(st) == SIGTRAP)
			return 0;
		sig = WSTOPSIG(st);
	}
}

int targets_spawn(struct targets *t, char *const *argv)
{
	struct user_regs_struct regs;
	unsigned long entry = 0;
	long word;
	pid_t pid;
	int st, err;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* stop at exec, so inferlat sees the program before it runs */
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "inferlat: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	t->child = pid;
	if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st)) {
		t->child = 0;
		return -ENOEXEC;   /* exec failed; the child said why */
	}
	/*
	 * Run the dynamic loader up to the program's entry point: then every
	 * library the program links is mapped where /proc/PID/maps shows it,
	 * and nothing of the program itself has run. A breakpoint at AT_ENTRY,
	 * removed when hit.
	 */
	err = procfs_auxv(pid, AT_ENTRY, &entry);
	if (err)
		goto fail;
	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, pid, (void *)entry, NULL);
	if (errno) {
		err = -errno;
		goto fail;
	}
	if (ptrace(PTRACE_POKETEXT, pid, (void *)entry, (void *)((word & ~0xffL) | 0xcc))) {
		err = -errno;
		goto fail;
	}
	err = cont_until_trap(pid);
	if (err)
		goto fail;
	if (ptrace(PTRACE_POKETEXT, pid, (void *)entry, (void *)word) ||
	    ptrace(PTRACE_GETREGS, pid, NULL, &regs)) {
		err = -errno;
		goto fail;
	}
	regs.rip = entry;
	if (ptrace(PTRACE_SETREGS, pid, NULL, &regs)) {
		err = -errno;
		goto fail;
	}
	return probe_pid_add(&t->pids, &t->npids, pid);
fail:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	t->child = 0;
	return err;
}

int targets_release(struct targets *t)
{
	if (!t->child || t->released)
		return 0;
	t->released = true;
	return ptrace(PTRACE_DETACH, t->child, NULL, NULL) ? -errno : 0;
}

void targets_free(struct targets *t)
{
	for (size_t i = 0; i < t->nexes; i++)
		free(t->exes[i].path);
	free(t->exes);
	for (size_t i = 0; i < t->ncomms; i++)
		free(t->comms[i]);
	free(t->comms);
	free(t->pids);
	memset(t, 0, sizeof(*t));
}
