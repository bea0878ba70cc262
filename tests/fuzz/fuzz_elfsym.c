// SPDX-License-Identifier: GPL-2.0
/*
 * The ELF/symbol reader on files a container controls: ELF and program
 * headers, the dynamic section, the build-id note, .gnu_debuglink, separate
 * debuginfo, MiniDebugInfo and the demangler.
 *
 * Input: a little-endian u32 N, then N bytes of object, then (optionally) its
 * separate debuginfo. The top bit of N chooses where the debuginfo is put:
 * clear, under the name the object's .gnu_debuglink gives, next to it; set,
 * under DEBUG_ROOT/.build-id/xx/yyyy.debug for the object's build-id.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <elfutils/libdwelf.h>
#include "elfsym.h"
#include "fuzz.h"

static char dir[64], obj[128], linked[512], byid[512];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* the scratch directory goes when the fuzzer exits */
static void remove_dir(void)
{
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(dir, sizeof(dir), "/tmp/inferlat-fuzz-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	atexit(remove_dir);
	snprintf(obj, sizeof(obj), "%s/obj.so", dir);
	elf_version(EV_CURRENT);
	return 0;
}

static void put(const char *path, const uint8_t *b, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return;
	if (write(fd, b, len) != (ssize_t)len)
		abort();
	close(fd);
}

static void drop_debuginfo(void)
{
	if (linked[0])
		unlink(linked);
	if (byid[0])
		unlink(byid);
	linked[0] = byid[0] = '\0';
}

/* The debuginfo where libdwfl will look for it, named from the object's own
 * (fuzzed) debuglink or build-id. */
static void place_debuginfo(Elf *elf, bool by_build_id, const uint8_t *b, size_t len)
{
	if (by_build_id) {
		const unsigned char *id;
		ssize_t n = dwelf_elf_gnu_build_id(elf, (const void **)&id);
		char hex[2 * 64 + 1];
		int at;

		if (n < 2 || n > 64)
			return;
		for (ssize_t i = 0; i < n; i++)
			sprintf(hex + 2 * i, "%02x", id[i]);
		at = snprintf(byid, sizeof(byid), "%s/.build-id/%.2s", dir, hex);
		mkdir(strndupa(byid, strlen(dir) + 10), 0700);
		mkdir(byid, 0700);
		snprintf(byid + at, sizeof(byid) - (size_t)at, "/%s.debug", hex + 2);
		put(byid, b, len);
	} else {
		GElf_Word crc;
		const char *name = dwelf_elf_gnu_debuglink(elf, &crc);

		if (!name || !*name || strchr(name, '/') || !strcmp(name, "obj.so") || strlen(name) > 200)
			return;
		snprintf(linked, sizeof(linked), "%s/%s", dir, name);
		put(linked, b, len);
	}
}

/* The demangler on the input's last bytes as a mangled name: what a
 * crafted symbol table hands it. */
static void demangle_tail(const uint8_t *b, size_t len)
{
	size_t k = len < 256 ? len : 256;
	char name[2 + 256 + 1] = "_Z";

	memcpy(name + 2, b + len - k, k);
	name[2 + k] = '\0';
	free(elf_demangle(name, true));
	free(elf_demangle(name, false));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_obj o;
	uint32_t n;
	bool by_id;
	char interp[256];
	uint64_t off;

	if (size < 4)
		return 0;
	demangle_tail(data, size);
	memcpy(&n, data, 4);
	by_id = n >> 31;
	n &= 0x7fffffff;
	data += 4;
	size -= 4;
	if (n > size)
		n = size;
	drop_debuginfo();
	put(obj, data, n);
	if (elf_obj_open(obj, &o))
		return 0;
	if (size > n)
		place_debuginfo(o.elf, by_id, data + n, size - n);
	if (!elf_obj_load_funcs(&o, dir)) {
		for (size_t i = 0; i < o.nfuncs; i++) {
			const struct elf_func *f = &o.funcs[i];

			FUZZ_ASSERT(f->name && (!f->demangled || f->base));
			FUZZ_ASSERT(elf_obj_off_is_code(&o, f->file_off));
			FUZZ_ASSERT(elf_obj_func_at(&o, f->file_off));
		}
		FUZZ_ASSERT(o.source != ELF_SYMS_DEBUGINFO || o.debug_file);
		/* to see what the seeds reach */
		if (getenv("FUZZ_VERBOSE"))
			fprintf(stderr, "%zu functions from %s\n", o.nfuncs, elf_sym_source_name(o.source));
	}
	elf_obj_interp(&o, interp, sizeof(interp));
	if (!elf_obj_vaddr_to_off(&o, 0x1000, &off))
		FUZZ_ASSERT(elf_obj_off_is_code(&o, off));
	elf_obj_close(&o);
	return 0;
}
