/* SPDX-License-Identifier: GPL-2.0 */
/* Function symbols of an ELF object, and where they sit in the file. */
#ifndef INFERLAT_ELFSYM_H
#define INFERLAT_ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gelf.h>

struct elf_func {
	char *name;        /* as in the symbol table */
	char *demangled;   /* C++ name, or NULL for C symbols */
	uint64_t vaddr;
	uint64_t size;
	uint64_t file_off; /* where the code is in the file: what uprobes take */
};

struct elf_obj {
	char *path;
	int fd;
	Elf *elf;
	uint16_t e_type;   /* ET_EXEC, ET_DYN */
	char *soname;      /* DT_SONAME or NULL */
	struct elf_func *funcs;
	size_t nfuncs;
	bool funcs_loaded;
};

/* Open path as an ELF object. -ENOENT/-EACCES from open, -ENOEXEC when not
 * an ELF file; errors are for the caller to explain. */
int elf_obj_open(const char *path, struct elf_obj *o);
void elf_obj_close(struct elf_obj *o);

/* Read the defined function symbols (.symtab and .dynsym, deduplicated by
 * name), demangling C++ names. 0, or -errno. */
int elf_obj_load_funcs(struct elf_obj *o);

/* Virtual address to file offset through the PT_LOAD program headers;
 * -ERANGE when no executable segment holds it. */
int elf_obj_vaddr_to_off(const struct elf_obj *o, uint64_t vaddr, uint64_t *off);
/* true when a file offset lies inside an executable segment */
bool elf_obj_off_is_code(const struct elf_obj *o, uint64_t off);

/* Read len bytes at a file offset; returns bytes read (fewer at EOF) or -errno. */
long elf_obj_read(const struct elf_obj *o, uint64_t off, void *buf, size_t len);

/* The function containing a file offset, or NULL. */
const struct elf_func *elf_obj_func_at(const struct elf_obj *o, uint64_t file_off);

/* Demangle a C++ name with the C++ runtime's demangler; NULL when not one.
 * The caller frees. */
char *elf_demangle(const char *name);

#endif
