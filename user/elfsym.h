/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Function symbols of an ELF object, and where they sit in the file.
 *
 * Symbols come through elfutils' libdwfl, which finds them where a stripped
 * object left them: its own .symtab, else separate debuginfo found by
 * build-id (DEBUG_ROOT/.build-id/xx/yyyy.debug) or .gnu_debuglink, else its
 * .dynsym plus MiniDebugInfo (.gnu_debugdata).
 */
#ifndef INFERLAT_ELFSYM_H
#define INFERLAT_ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gelf.h>

struct elf_func {
	char *name;        /* as in the symbol table */
	char *demangled;   /* C++ name with its parameters, or NULL for C symbols */
	char *base;        /* C++ name without parameters (ns::Class::method) */
	uint64_t vaddr;
	uint64_t size;
	uint64_t file_off; /* where the code is in the file: what uprobes take */
};

/* Where an object's function symbols came from. */
enum elf_sym_source {
	ELF_SYMS_NONE,           /* no symbol table at all: LIB:0xOFFSET only */
	ELF_SYMS_DYNSYM,         /* exported functions only (.dynsym) */
	ELF_SYMS_SYMTAB,         /* the object's own .symtab */
	ELF_SYMS_DEBUGINFO,      /* separate debuginfo (debug_file) */
	ELF_SYMS_MINIDEBUGINFO,  /* .dynsym + .gnu_debugdata */
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
	enum elf_sym_source source;
	char *debug_file;  /* ELF_SYMS_DEBUGINFO: the file read */
};

/* The default debug root, where distributions install debuginfo. */
#define ELF_DEBUG_ROOT "/usr/lib/debug"

/* Open path as an ELF object. -ENOENT/-EACCES from open, -ENOEXEC when not
 * an ELF file; errors are for the caller to explain. */
int elf_obj_open(const char *path, struct elf_obj *o);
void elf_obj_close(struct elf_obj *o);

/*
 * Read the defined function symbols, demangling C++ names. Separate debuginfo
 * is looked for next to the object, in its .debug directory and under
 * debug_root (NULL: ELF_DEBUG_ROOT), by build-id and by .gnu_debuglink name;
 * an object opened through /proc/PID/root also under that root's
 * /usr/lib/debug. 0 (an object without symbols has none), or -errno.
 */
int elf_obj_load_funcs(struct elf_obj *o, const char *debug_root);

/* "symtab", "debuginfo", "minidebuginfo", "dynsym", "none" */
const char *elf_sym_source_name(enum elf_sym_source s);

/* Virtual address to file offset through the PT_LOAD program headers;
 * -ERANGE when no executable segment holds it. */
int elf_obj_vaddr_to_off(const struct elf_obj *o, uint64_t vaddr, uint64_t *off);
/* true when a file offset lies inside an executable segment */
bool elf_obj_off_is_code(const struct elf_obj *o, uint64_t off);

/* The program interpreter (PT_INTERP) into buf. -ENOENT when there is
 * none (a static executable, a library). */
int elf_obj_interp(const struct elf_obj *o, char *buf, size_t sz);

/* Read len bytes at a file offset; returns bytes read (fewer at EOF) or -errno. */
long elf_obj_read(const struct elf_obj *o, uint64_t off, void *buf, size_t len);

/* The function containing a file offset, or NULL. */
const struct elf_func *elf_obj_func_at(const struct elf_obj *o, uint64_t file_off);

/* Demangle a C++ name (libiberty, the demangler of the GNU toolchain), with
 * or without its parameter list, never with a return type; NULL when not
 * one. The caller frees. */
char *elf_demangle(const char *name, bool params);

#endif
