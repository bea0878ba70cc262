// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <elfutils/libdwfl.h>
#include <libiberty/demangle.h>
#include "grow.h"
#include "elfsym.h"

char *elf_demangle(const char *name, bool params)
{
	/* no return types: 'int ns::clamp<int>(int)' is found as ns::clamp<int> */
	int opts = DMGL_ANSI | DMGL_RET_DROP | (params ? DMGL_PARAMS : 0);

	if (strncmp(name, "_Z", 2))
		return NULL;
	return cplus_demangle(name, opts);
}

/* end = off + len inside a file of size bytes, without overflow */
static bool in_file(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/*
 * Headers that point outside the file, or tables of entries of a foreign
 * size: a truncated or crafted file (a container controls what it maps),
 * refused before anything reads through them.
 */
static bool layout_ok(Elf *elf, const GElf_Ehdr *eh, uint64_t size)
{
	size_t n;

	if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
		return false;
	/* libelf quietly clamps a count that does not fit the file: compare
	 * with the header's own (no x86-64 object needs PN_XNUM headers) */
	if (eh->e_phnum == PN_XNUM || elf_getphdrnum(elf, &n) || n != eh->e_phnum)
		return false;
	if (n && (eh->e_phentsize != sizeof(Elf64_Phdr) ||
		  !in_file(eh->e_phoff, (uint64_t)n * sizeof(Elf64_Phdr), size)))
		return false;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph))
			return false;
		if ((ph.p_type == PT_LOAD || ph.p_type == PT_INTERP || ph.p_type == PT_NOTE ||
		     ph.p_type == PT_DYNAMIC) && !in_file(ph.p_offset, ph.p_filesz, size))
			return false;
		if (ph.p_type == PT_LOAD && ph.p_filesz > ph.p_memsz)
			return false;
	}
	if (elf_getshdrnum(elf, &n) || (eh->e_shnum && n != eh->e_shnum) ||
	    (!eh->e_shnum && eh->e_shoff && n < SHN_LORESERVE))
		return false;
	if (n && (eh->e_shentsize != sizeof(Elf64_Shdr) ||
		  !in_file(eh->e_shoff, (uint64_t)n * sizeof(Elf64_Shdr), size)))
		return false;
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			return false;
		if (sh.sh_type != SHT_NOBITS && !in_file(sh.sh_offset, sh.sh_size, size))
			return false;
	}
	return true;
}

int elf_obj_open(const char *path, struct elf_obj *o)
{
	struct stat st;
	GElf_Ehdr eh;
	int err;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	o->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (o->fd < 0)
		return -errno;
	o->elf = elf_begin(o->fd, ELF_C_READ_MMAP, NULL);
	if (!o->elf || elf_kind(o->elf) != ELF_K_ELF || !gelf_getehdr(o->elf, &eh)) {
		err = -ENOEXEC;
		goto fail;
	}
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64 ||
	    fstat(o->fd, &st) || !layout_ok(o->elf, &eh, (uint64_t)st.st_size)) {
		err = -ENOEXEC;
		goto fail;
	}
	o->e_type = eh.e_type;
	o->path = strdup(path);

	/* DT_SONAME: how the loader and users name the library */
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(o->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !sh.sh_entsize)
			break;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Dyn dyn;
			const char *s;

			if (!gelf_getdyn(d, (int)i, &dyn))
				break;
			if (dyn.d_tag != DT_SONAME)
				continue;
			s = elf_strptr(o->elf, sh.sh_link, dyn.d_un.d_val);
			if (s)
				o->soname = strdup(s);
			break;
		}
		break;
	}
	return 0;
fail:
	elf_obj_close(o);
	return err;
}

void elf_obj_close(struct elf_obj *o)
{
	for (size_t i = 0; i < o->nfuncs; i++) {
		free(o->funcs[i].name);
		free(o->funcs[i].demangled);
		free(o->funcs[i].base);
	}
	free(o->funcs);
	free(o->debug_file);
	free(o->soname);
	free(o->path);
	if (o->elf)
		elf_end(o->elf);
	if (o->fd >= 0)
		close(o->fd);
	memset(o, 0, sizeof(*o));
	o->fd = -1;
}

int elf_obj_vaddr_to_off(const struct elf_obj *o, uint64_t vaddr, uint64_t *off)
{
	size_t n;

	if (elf_getphdrnum(o->elf, &n))
		return -ENOEXEC;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(o->elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_filesz) {
			*off = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ERANGE;
}

bool elf_obj_off_is_code(const struct elf_obj *o, uint64_t off)
{
	size_t n;

	if (elf_getphdrnum(o->elf, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(o->elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (off >= ph.p_offset && off - ph.p_offset < ph.p_filesz)
			return true;
	}
	return false;
}

int elf_obj_interp(const struct elf_obj *o, char *buf, size_t sz)
{
	size_t n;

	if (elf_getphdrnum(o->elf, &n))
		return -ENOEXEC;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		long r;

		if (!gelf_getphdr(o->elf, (int)i, &ph) || ph.p_type != PT_INTERP)
			continue;
		if (!ph.p_filesz || ph.p_filesz >= sz)
			return -ENAMETOOLONG;
		r = elf_obj_read(o, ph.p_offset, buf, ph.p_filesz);
		if (r != (long)ph.p_filesz)
			return r < 0 ? (int)r : -EIO;
		buf[ph.p_filesz] = '\0';
		return 0;
	}
	return -ENOENT;
}

long elf_obj_read(const struct elf_obj *o, uint64_t off, void *buf, size_t len)
{
	ssize_t n = pread(o->fd, buf, len, (off_t)off);

	return n < 0 ? -errno : n;
}

static int cmp_func_name(const void *a, const void *b)
{
	const struct elf_func *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->vaddr > y->vaddr) - (x->vaddr < y->vaddr);
}

static int cmp_func_off(const void *a, const void *b)
{
	const struct elf_func *x = a, *y = b;

	return (x->file_off > y->file_off) - (x->file_off < y->file_off);
}

const char *elf_sym_source_name(enum elf_sym_source s)
{
	switch (s) {
	case ELF_SYMS_DYNSYM:
		return "dynsym";
	case ELF_SYMS_SYMTAB:
		return "symtab";
	case ELF_SYMS_DEBUGINFO:
		return "debuginfo";
	case ELF_SYMS_MINIDEBUGINFO:
		return "minidebuginfo";
	default:
		return "none";
	}
}

static int push_func(struct elf_obj *o, size_t *cap, const char *name, uint64_t vaddr, uint64_t size)
{
	uint64_t off;

	/* ifunc resolvers, data in code sections and the like have no place in
	 * an executable segment of this file */
	if (elf_obj_vaddr_to_off(o, vaddr, &off))
		return 0;
	if (GROW(o->funcs, o->nfuncs, *cap, 256))
		return -ENOMEM;
	o->funcs[o->nfuncs] = (struct elf_func){
		.name = strdup(name),
		.vaddr = vaddr,
		.size = size,
		.file_off = off,
	};
	if (!o->funcs[o->nfuncs].name)
		return -ENOMEM;
	o->nfuncs++;
	return 0;
}

static bool has_section(Elf *elf, Elf64_Word type, const char *name)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type)
			continue;
		n = name ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
		if (!name || (n && !strcmp(n, name)))
			return true;
	}
	return false;
}

/* libdwfl's debuginfo search path: next to the object, its .debug
 * directory, the debug root; for a file inside another mount namespace,
 * also that namespace's own debug root. */
static char *debuginfo_path(const char *path, const char *debug_root)
{
	char *s = NULL;
	int pid = 0, n = 0;

	if (sscanf(path, "/proc/%d/root/%n", &pid, &n) == 1 && n > 0 && pid > 0) {
		if (asprintf(&s, ":.debug:%s:/proc/%d/root%s", debug_root, pid, ELF_DEBUG_ROOT) < 0)
			return NULL;
		return s;
	}
	if (asprintf(&s, ":.debug:%s", debug_root) < 0)
		return NULL;
	return s;
}

/* Symbols through libdwfl: the object's .symtab, else separate debuginfo
 * (build-id, .gnu_debuglink), else .dynsym with MiniDebugInfo. */
static int read_dwfl_symbols(struct elf_obj *o, const char *debug_root, size_t *cap)
{
	char *search = debuginfo_path(o->path, debug_root ? debug_root : ELF_DEBUG_ROOT);
	Dwfl_Callbacks cb = {
		.find_elf = dwfl_build_id_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
		.debuginfo_path = &search,
	};
	const char *debug_file = NULL;
	Dwfl_Module *mod;
	GElf_Addr bias;
	Elf *main_elf;
	bool other = false;
	Dwfl *dwfl;
	int n, err = 0;

	if (!search)
		return -ENOMEM;
	dwfl = dwfl_begin(&cb);
	if (!dwfl) {
		free(search);
		return -ENOMEM;
	}
	dwfl_report_begin(dwfl);
	mod = dwfl_report_elf(dwfl, o->path, o->path, -1, 0, false);
	dwfl_report_end(dwfl, NULL, NULL);
	if (!mod) {
		err = -ENOEXEC;
		goto out;
	}
	main_elf = dwfl_module_getelf(mod, &bias);
	n = dwfl_module_getsymtab(mod);
	for (int i = 0; i < n && !err; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		Elf *from = NULL;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, &shndx, &from, NULL);

		if (!name || !*name || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    shndx == SHN_UNDEF || !sym.st_value)
			continue;
		other |= from && from != main_elf;
		/* addr is in the module's address space: back to the object's
		 * own virtual addresses, which its program headers map */
		err = push_func(o, cap, name, addr - bias, sym.st_size);
	}
	dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, &debug_file);
	if (other)
		o->source = debug_file ? ELF_SYMS_DEBUGINFO : ELF_SYMS_MINIDEBUGINFO;
	else if (has_section(o->elf, SHT_SYMTAB, NULL))
		o->source = ELF_SYMS_SYMTAB;
	else
		o->source = n > 0 ? ELF_SYMS_DYNSYM : ELF_SYMS_NONE;
	if (o->source == ELF_SYMS_DEBUGINFO && !(o->debug_file = strdup(debug_file)))
		err = -ENOMEM;
out:
	dwfl_end(dwfl);
	free(search);
	return err;
}

int elf_obj_load_funcs(struct elf_obj *o, const char *debug_root)
{
	size_t cap = 0, w = 0;
	int err;

	if (o->funcs_loaded)
		return 0;
	err = read_dwfl_symbols(o, debug_root, &cap);
	if (err)
		return err;
	/* no functions: funcs is NULL, which qsort must not be given */
	if (!o->nfuncs) {
		o->funcs_loaded = true;
		return 0;
	}
	/* aliases and a symbol in both .symtab and .dynsym: once by name */
	qsort(o->funcs, o->nfuncs, sizeof(*o->funcs), cmp_func_name);
	for (size_t i = 0; i < o->nfuncs; i++) {
		if (w && !strcmp(o->funcs[w - 1].name, o->funcs[i].name) &&
		    o->funcs[w - 1].vaddr == o->funcs[i].vaddr) {
			free(o->funcs[i].name);
			continue;
		}
		o->funcs[w++] = o->funcs[i];
	}
	o->nfuncs = w;
	for (size_t i = 0; i < o->nfuncs; i++) {
		o->funcs[i].demangled = elf_demangle(o->funcs[i].name, true);
		o->funcs[i].base = o->funcs[i].demangled ? elf_demangle(o->funcs[i].name, false) : NULL;
	}
	/* by address, for elf_obj_func_at */
	qsort(o->funcs, o->nfuncs, sizeof(*o->funcs), cmp_func_off);
	o->funcs_loaded = true;
	return 0;
}

const struct elf_func *elf_obj_func_at(const struct elf_obj *o, uint64_t file_off)
{
	size_t lo = 0, hi = o->nfuncs;
	const struct elf_func *best = NULL;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->funcs[mid].file_off <= file_off) {
			best = &o->funcs[mid];
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (best && (file_off == best->file_off || file_off - best->file_off < best->size))
		return best;
	return NULL;
}
