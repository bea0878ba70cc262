// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "elfsym.h"

/* libstdc++'s demangler (declared extern "C" in <cxxabi.h>) */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

char *elf_demangle(const char *name)
{
	int status = 0;

	if (strncmp(name, "_Z", 2))
		return NULL;
	char *d = __cxa_demangle(name, NULL, NULL, &status);
	if (status) {
		free(d);
		return NULL;
	}
	return d;
}

int elf_obj_open(const char *path, struct elf_obj *o)
{
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
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
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
	}
	free(o->funcs);
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

static int add_symtab(struct elf_obj *o, Elf_Scn *scn, const GElf_Shdr *sh, size_t *cap)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n;

	if (!d || !sh->sh_entsize)
		return 0;
	n = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;
		uint64_t off;

		if (!gelf_getsym(d, (int)i, &sym))
			break;
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		name = elf_strptr(o->elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		if (elf_obj_vaddr_to_off(o, sym.st_value, &off))
			continue;
		if (o->nfuncs == *cap) {
			size_t nc = *cap ? *cap * 2 : 256;
			struct elf_func *nv = realloc(o->funcs, nc * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			o->funcs = nv;
			*cap = nc;
		}
		o->funcs[o->nfuncs++] = (struct elf_func){
			.name = strdup(name),
			.vaddr = sym.st_value,
			.size = sym.st_size,
			.file_off = off,
		};
	}
	return 0;
}

int elf_obj_load_funcs(struct elf_obj *o)
{
	Elf_Scn *scn = NULL;
	size_t cap = 0, w = 0;
	int err;

	if (o->funcs_loaded)
		return 0;
	while ((scn = elf_nextscn(o->elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		err = add_symtab(o, scn, &sh, &cap);
		if (err)
			return err;
	}
	/* .dynsym repeats .symtab's exported names */
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
	for (size_t i = 0; i < o->nfuncs; i++)
		o->funcs[i].demangled = elf_demangle(o->funcs[i].name);
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
