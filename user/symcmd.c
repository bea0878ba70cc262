// SPDX-License-Identifier: GPL-2.0
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "exitcode.h"
#include "log.h"
#include "objects.h"
#include "probespec.h"
#include "resolve.h"
#include "symcmd.h"
#include "targets.h"

struct sym_options {
	pid_t pid;
	char *exe;
	char *debug_root;
	char *pattern;
	bool verbose;
};

static const char doc[] =
"inferlat symbols -- the functions inferlat can probe in a running process (-p) or in an "
"executable and the libraries it loads (-x), like bpftrace -l for one process.\n"
"\n"
"PATTERN is [LIB:]GLOB as in -e: LIB a path or library name as the target maps it, GLOB "
"matched on raw and demangled C++ names. Without PATTERN every function is listed.\n"
"\n"
"EXAMPLES:\n"
"  inferlat symbols -p 4242 'libllama.so:llama_*'\n"
"  inferlat symbols -p 4242 'libtorch_cpu.so:at::_ops::*::call'\n"
"  inferlat symbols -x /usr/bin/server\n"
"\v"
"Columns: OBJECT (as the target maps it), ADDRESS (the symbol's ELF virtual address), OFFSET "
"(its file offset: LIB:0xOFFSET probes it), SIZE, SITE (where the entry probe would go: bytes "
"past the symbol and how the kernel handles that instruction), FUNCTION (demangled). A '#' "
"line before each object's functions says where its symbols came from (symtab, separate "
"debuginfo, minidebuginfo, dynsym).\n"
"\n"
"Exit status: 0 listed, 2 bad usage or no function matches.";

enum { OPT_DEBUG_ROOT = 0x100 };

static const struct argp_option options[] = {
	{ "pid", 'p', "PID", 0, "a running process", 0 },
	{ "exe", 'x', "PATH", 0, "an executable: its processes, or the libraries it would load", 0 },
	{ "debug-root", OPT_DEBUG_ROOT, "DIR", 0, "where separate debuginfo is looked up (default /usr/lib/debug)", 0 },
	{ "verbose", 'v', NULL, 0, "how objects were found", 0 },
	{ "help", '?', NULL, 0, "this help", -1 },
	{ 0 }
};

static error_t parse_opt(int key, char *arg, struct argp_state *state);
static const struct argp argp = { options, parse_opt, "[PATTERN]", doc, NULL, NULL, NULL };

static void fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "inferlat symbols: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct sym_options *o = state->input;
	long long ll;
	char *end;

	switch (key) {
	case 'p':
		errno = 0;
		ll = strtoll(arg, &end, 10);
		if (errno || *end || end == arg || ll <= 0 || ll > INT_MAX)
			fail("-p %s: not a process id (a positive number)", arg);
		o->pid = (pid_t)ll;
		break;
	case 'x':
		o->exe = arg;
		break;
	case OPT_DEBUG_ROOT:
		o->debug_root = arg;
		break;
	case 'v':
		o->verbose = true;
		break;
	case '?':
		argp_help(&argp, stdout, ARGP_HELP_STD_HELP, "inferlat symbols");
		exit(0);
	case ARGP_KEY_ERROR:
		/* an unknown option, or one missing its value: one line, as everywhere */
		fail("bad option '%s' (inferlat symbols --help lists the options)",
		     state->next > 0 && state->next <= state->argc ? state->argv[state->next - 1] : "?");
		break;
	case ARGP_KEY_ARG:
		if (o->pattern)
			fail("unexpected argument '%s' (one PATTERN at most)", arg);
		o->pattern = arg;
		break;
	case ARGP_KEY_END:
		if (!!o->pid == !!o->exe)
			fail("%s", "give one target: -p PID or -x PATH");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void print_object(struct object *o, const struct probe_spec *pat, size_t *shown)
{
	bool header = false;

	for (size_t j = 0; j < o->elf.nfuncs; j++) {
		const struct elf_func *f = &o->elf.funcs[j];
		struct site site;
		char where[48];

		if (pat && !resolve_sym_matches(pat->symbol, f))
			continue;
		if (!header) {
			printf("# %s (symbols: %s%s%s)\n", o->path, elf_sym_source_name(o->elf.source),
			       o->elf.debug_file ? " " : "", o->elf.debug_file ? o->elf.debug_file : "");
			header = true;
		}
		if (resolve_choose_site(&o->elf, f->file_off, false, &site))
			snprintf(where, sizeof(where), "?");
		else
			snprintf(where, sizeof(where), "+%u(%s)", site.skip, site_kind_name(site.kind));
		printf("%-40s %#12llx %#10llx %6llu %-18s %s\n", o->path, (unsigned long long)f->vaddr,
		       (unsigned long long)f->file_off, (unsigned long long)f->size, where,
		       f->demangled ? f->demangled : f->name);
		(*shown)++;
	}
}

int symcmd_main(int argc, char **argv)
{
	struct sym_options o = { 0 };
	struct probe_spec pat = { 0 };
	struct targets t = { 0 };
	struct objects all = { 0 };
	size_t shown = 0, matched_objects = 0;
	char err[512];
	int status = EXIT_USAGE;

	argp_err_exit_status = EXIT_USAGE;
	if (argp_parse(&argp, argc, argv, ARGP_NO_ERRS | ARGP_NO_HELP, NULL, &o))
		fail("%s", "bad command line (inferlat symbols --help lists the options)");
	log_verbose = o.verbose;
	if (o.pattern) {
		if (probespec_parse(o.pattern, &pat, err, sizeof(err))) {
			fprintf(stderr, "inferlat symbols: %s\n", err);
			return EXIT_USAGE;
		}
		if (pat.at_offset || pat.offset) {
			fprintf(stderr, "inferlat symbols: PATTERN is [LIB:]GLOB, without an offset\n");
			goto out;
		}
	}
	if (targets_build(o.pid ? &o.pid : NULL, o.pid ? 1 : 0, o.exe ? &o.exe : NULL, o.exe ? 1 : 0,
			  NULL, 0, &t))
		goto out;
	if (resolve_collect_objects(&t, &all))
		goto out;
	for (size_t i = 0; i < all.n; i++) {
		struct object *obj = &all.v[i];
		int e;

		if (o.pattern && pat.lib && !resolve_lib_matches(pat.lib, obj->path, NULL)) {
			/* the soname needs the file open */
			if (object_peek(obj) ||
			    !resolve_lib_matches(pat.lib, obj->path, obj->elf.soname))
				continue;
		}
		e = object_open(obj, o.debug_root);
		if (e) {
			log_info("%s: %s", obj->path, e == -ENOEXEC ? "not an ELF file" : strerror(-e));
			continue;
		}
		matched_objects++;
		print_object(obj, o.pattern ? &pat : NULL, &shown);
	}
	if (!shown) {
		if (pat.lib && !matched_objects)
			fprintf(stderr, "inferlat symbols: no object of the target matches '%s'\n", pat.lib);
		else
			fprintf(stderr, "inferlat symbols: no function matches '%s'\n", o.pattern ? o.pattern : "*");
		goto out;
	}
	status = 0;
out:
	objects_free(&all);
	targets_free(&t);
	probespec_free(&pat);
	return status;
}
