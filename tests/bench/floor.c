// SPDX-License-Identifier: GPL-2.0
/*
 * floor: attach empty BPF programs as an entry+return probe pair to one
 * function of one process, say "attached", and hold them until SIGINT or
 * SIGTERM. The benchmark's baseline for what any uprobe tool costs.
 *
 *   floor [--perf] PID LIB SYMBOL[+SKIP]|0xOFFSET
 *
 * --perf uses one perf-event uprobe per direction instead of uprobe_multi
 * links (what inferlat uses). +SKIP moves the entry probe SKIP bytes past the
 * symbol, to where inferlat puts it (past endbr64). 0xOFFSET is a file offset
 * in LIB, for a site no symbol names (ONNX Runtime's Run in its stripped
 * library: inferlat -v says where it probes).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "elfsym.h"
#include "floor.skel.h"

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	exiting = 1;
}

/* File offset of SYMBOL in lib, with our own ELF reader (user/elfsym.c). */
static int symbol_offset(const char *lib, const char *sym, unsigned long *off)
{
	struct elf_obj o;
	int err;

	err = elf_obj_open(lib, &o);
	if (err)
		return err;
	err = elf_obj_load_funcs(&o, NULL);
	if (!err) {
		err = -ENOENT;
		for (size_t i = 0; i < o.nfuncs; i++)
			if (!strcmp(o.funcs[i].name, sym)) {
				*off = o.funcs[i].file_off;
				err = 0;
				break;
			}
	}
	elf_obj_close(&o);
	return err;
}

/* SYMBOL[+SKIP] or 0xOFFSET -> file offset in lib; says why not on stderr. */
static int site_offset(const char *lib, char *site, unsigned long *off)
{
	unsigned long skip = 0;
	char *plus, *end;
	int err;

	if (!strncmp(site, "0x", 2)) {
		*off = strtoul(site, &end, 16);
		if (*end || end == site + 2) {
			fprintf(stderr, "floor: %s: not a file offset\n", site);
			return -EINVAL;
		}
		return 0;
	}
	plus = strchr(site, '+');
	if (plus) {
		*plus = '\0';
		skip = strtoul(plus + 1, &end, 0);
		if (*end) {
			fprintf(stderr, "floor: +%s: not a byte count\n", plus + 1);
			return -EINVAL;
		}
	}
	err = symbol_offset(lib, site, off);
	if (err) {
		fprintf(stderr, "floor: %s in %s: %s\n", site, lib, strerror(-err));
		return err;
	}
	*off += skip;
	return 0;
}

static int attach(struct floor_bpf *skel, bool perf, pid_t pid, const char *lib, unsigned long off,
		  struct bpf_link **links)
{
	if (perf) {
		LIBBPF_OPTS(bpf_uprobe_opts, uo);

		links[0] = bpf_program__attach_uprobe_opts(skel->progs.floor_entry, pid, lib, off, &uo);
		if (!links[0])
			return -errno;
		uo.retprobe = true;
		links[1] = bpf_program__attach_uprobe_opts(skel->progs.floor_return, pid, lib, off, &uo);
	} else {
		LIBBPF_OPTS(bpf_uprobe_multi_opts, mo, .offsets = &off, .cnt = 1);

		links[0] = bpf_program__attach_uprobe_multi(skel->progs.floor_entry_multi, pid, lib, NULL, &mo);
		if (!links[0])
			return -errno;
		mo.retprobe = true;
		links[1] = bpf_program__attach_uprobe_multi(skel->progs.floor_return_multi, pid, lib, NULL, &mo);
	}
	return links[1] ? 0 : -errno;
}

int main(int argc, char **argv)
{
	struct bpf_link *links[2] = { NULL, NULL };
	struct floor_bpf *skel = NULL;
	sigset_t stop, old;
	unsigned long off;
	bool perf = argc > 1 && !strcmp(argv[1], "--perf");
	char *end;
	pid_t pid;
	int err, status = 1;

	if (argc - perf != 4) {
		fprintf(stderr, "usage: floor [--perf] PID LIB SYMBOL[+SKIP]|0xOFFSET\n");
		return 2;
	}
	pid = (pid_t)strtol(argv[1 + perf], &end, 10);
	if (*end || pid <= 0) {
		fprintf(stderr, "floor: %s: not a process id\n", argv[1 + perf]);
		return 2;
	}
	err = site_offset(argv[2 + perf], argv[3 + perf], &off);
	if (err)
		return 2;
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "floor: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	bpf_program__set_autoload(skel->progs.floor_entry_multi, !perf);
	bpf_program__set_autoload(skel->progs.floor_return_multi, !perf);
	bpf_program__set_autoload(skel->progs.floor_entry, perf);
	bpf_program__set_autoload(skel->progs.floor_return, perf);
	err = floor_bpf__load(skel);
	if (err) {
		fprintf(stderr, "floor: cannot load the BPF programs: %s\n", strerror(-err));
		goto out;
	}
	/* blocked until sigsuspend, so a signal cannot slip in before it waits */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, &old);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	err = attach(skel, perf, pid, argv[2 + perf], off, links);
	if (err) {
		fprintf(stderr, "floor: cannot attach to %s at %#lx in %d: %s\n", argv[2 + perf], off,
			(int)pid, strerror(-err));
		goto out;
	}
	printf("attached %s+%#lx\n", argv[2 + perf], off);
	fflush(stdout);
	while (!exiting)
		sigsuspend(&old);
	status = 0;
out:
	bpf_link__destroy(links[1]);
	bpf_link__destroy(links[0]);
	floor_bpf__destroy(skel);
	return status;
}
