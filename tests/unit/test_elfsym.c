// SPDX-License-Identifier: GPL-2.0
/*
 * The ELF/symbol reader on hostile files: every truncation of a real
 * library, program and section headers pointing outside the file, field
 * mutations of every header byte and random corruption. Each must be refused
 * with -ENOEXEC or read without touching memory outside the file (the
 * ASan+UBSan build of this test checks that), never crash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <elf.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>
#include "elfsym.h"

#ifndef FIXTURE_DIR
#error "FIXTURE_DIR: the directory of the test fixtures (tests/tests.mk sets it)"
#endif

static char tmp_path[64];

struct image {
	unsigned char *b;
	size_t len;
};

static struct image load(const char *path)
{
	struct image im = { 0 };
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	im.len = (size_t)ftell(f);
	rewind(f);
	im.b = malloc(im.len);
	assert_non_null(im.b);
	assert_int_equal(fread(im.b, 1, im.len, f), im.len);
	fclose(f);
	return im;
}

static struct image copy(const struct image *im)
{
	struct image c = { malloc(im->len), im->len };

	assert_non_null(c.b);
	memcpy(c.b, im->b, im->len);
	return c;
}

static void put(const unsigned char *b, size_t len)
{
	int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, len), (ssize_t)len);
	close(fd);
}

/*
 * Everything inferlat does with an object: open it, read its functions
 * (demangled), map addresses, read its interpreter. Returns elf_obj_open's
 * result; *nfuncs the functions read.
 */
static int exercise(const unsigned char *b, size_t len, size_t *nfuncs)
{
	struct elf_obj o;
	char interp[256];
	uint64_t off;
	int err;

	put(b, len);
	*nfuncs = 0;
	err = elf_obj_open(tmp_path, &o);
	if (err) {
		assert_int_equal(err, -ENOEXEC);
		return err;
	}
	err = elf_obj_load_funcs(&o, "/nonexistent");
	assert_true(err <= 0);
	if (!err) {
		*nfuncs = o.nfuncs;
		for (size_t i = 0; i < o.nfuncs; i++) {
			const struct elf_func *f = &o.funcs[i];

			assert_non_null(f->name);
			assert_true(strlen(f->name) < len);
			if (f->demangled)
				assert_non_null(f->base);
			assert_true(elf_obj_off_is_code(&o, f->file_off));
			assert_non_null(elf_obj_func_at(&o, f->file_off));
		}
	}
	elf_obj_interp(&o, interp, sizeof(interp));
	elf_obj_vaddr_to_off(&o, 0x1040, &off);
	elf_obj_off_is_code(&o, 0x1040);
	elf_obj_close(&o);
	return 0;
}

static Elf64_Ehdr *ehdr(struct image *im)
{
	return (Elf64_Ehdr *)im->b;
}

static Elf64_Phdr *phdr_of(struct image *im, uint32_t type)
{
	Elf64_Ehdr *e = ehdr(im);

	for (int i = 0; i < e->e_phnum; i++) {
		Elf64_Phdr *p = (Elf64_Phdr *)(im->b + e->e_phoff + (size_t)i * sizeof(*p));

		/* the first PT_LOAD with code, for PT_LOAD */
		if (p->p_type == type && (type != PT_LOAD || (p->p_flags & PF_X)))
			return p;
	}
	fail_msg("no program header of type %u", type);
	return NULL;
}

static Elf64_Shdr *shdr_of(struct image *im, uint32_t type)
{
	Elf64_Ehdr *e = ehdr(im);

	for (int i = 0; i < e->e_shnum; i++) {
		Elf64_Shdr *s = (Elf64_Shdr *)(im->b + e->e_shoff + (size_t)i * sizeof(*s));

		if (s->sh_type == type)
			return s;
	}
	fail_msg("no section of type %u", type);
	return NULL;
}

static struct image lib, mini;

static int setup(void **state)
{
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/inferlat-elfsym-XXXXXX");
	fd = mkstemp(tmp_path);
	if (fd < 0)
		return -1;
	close(fd);
	/* C++ names to demangle, a .symtab and .dynsym, a build-id note */
	lib = load(FIXTURE_DIR "/libcxxfix.so");
	/* stripped, with its symbols in xz-compressed .gnu_debugdata */
	mini = load(FIXTURE_DIR "/libcxxfix-mini.so");
	return 0;
}

static int teardown(void **state)
{
	unlink(tmp_path);
	free(lib.b);
	free(mini.b);
	return 0;
}

static void test_the_real_file_reads(void **state)
{
	size_t n;

	assert_int_equal(exercise(lib.b, lib.len, &n), 0);
	assert_true(n >= 10);
	assert_int_equal(exercise(mini.b, mini.len, &n), 0);
	assert_true(n >= 10);
}

/* The section headers are at the end: every shorter file is refused. */
static void test_every_truncation(void **state)
{
	size_t n;

	for (size_t len = 0; len < lib.len; len++)
		assert_int_equal(exercise(lib.b, len, &n), -ENOEXEC);
	for (size_t len = 0; len < mini.len; len++)
		assert_int_equal(exercise(mini.b, len, &n), -ENOEXEC);
}

/* A header that points outside the file, or at entries of another size. */
static void test_hostile_headers_refused(void **state)
{
	const uint64_t huge = 0xffffffffffffff00ull;
	size_t n;

	for (int k = 0;; k++) {
		struct image c = copy(&lib);
		Elf64_Ehdr *e = ehdr(&c);

		switch (k) {
		case 0: e->e_phoff = huge; break;
		case 1: e->e_phoff = c.len - 10; break;
		case 2: e->e_phnum = PN_XNUM; break;
		case 3: e->e_phnum = 1000; break;
		case 4: e->e_phentsize = 32; break;
		case 5: e->e_shoff = huge; break;
		case 6: e->e_shoff = c.len - 1; break;
		case 7: e->e_shnum = 1000; break;
		case 8: e->e_shentsize = 40; break;
		case 9: e->e_type = ET_CORE; break;
		case 10: e->e_type = ET_REL; break;
		case 11: e->e_ident[EI_CLASS] = ELFCLASS32; break;
		case 12: e->e_machine = EM_AARCH64; break;
		case 13: e->e_ident[EI_MAG1] = 'X'; break;
		case 14: phdr_of(&c, PT_LOAD)->p_offset = huge; break;
		case 15: phdr_of(&c, PT_LOAD)->p_filesz = huge; phdr_of(&c, PT_LOAD)->p_memsz = huge; break;
		case 16: phdr_of(&c, PT_LOAD)->p_offset = ~0ull - 10; break;
		case 17: phdr_of(&c, PT_LOAD)->p_filesz = phdr_of(&c, PT_LOAD)->p_memsz + 1; break;
		case 18: phdr_of(&c, PT_NOTE)->p_filesz = huge; break;
		case 19: phdr_of(&c, PT_DYNAMIC)->p_offset = c.len; phdr_of(&c, PT_DYNAMIC)->p_filesz = 16; break;
		case 20: shdr_of(&c, SHT_SYMTAB)->sh_offset = huge; break;
		case 21: shdr_of(&c, SHT_SYMTAB)->sh_size = huge; break;
		case 22: shdr_of(&c, SHT_DYNSYM)->sh_size = c.len; break;
		case 23: shdr_of(&c, SHT_STRTAB)->sh_offset = c.len; break;
		case 24: shdr_of(&c, SHT_NOTE)->sh_offset = ~0ull - 4; break;
		case 25: shdr_of(&c, SHT_DYNAMIC)->sh_size = huge; break;
		default:
			free(c.b);
			return;
		}
		if (exercise(c.b, c.len, &n) != -ENOEXEC)
			fail_msg("hostile header %d was accepted", k);
		free(c.b);
	}
}

/* Values that stay inside the file but lie: read without crashing (some
 * are refused, some read fewer symbols). */
static void test_lying_values_survive(void **state)
{
	size_t n;

	for (int k = 0;; k++) {
		struct image c = copy(&lib);
		Elf64_Ehdr *e = ehdr(&c);
		Elf64_Shdr *sym = shdr_of(&c, SHT_SYMTAB);
		Elf64_Sym *s = (Elf64_Sym *)(c.b + sym->sh_offset);
		size_t nsym = sym->sh_size / sizeof(*s);

		switch (k) {
		case 0: e->e_shstrndx = 1000; break;
		case 1: sym->sh_link = 1000; break;
		case 2: sym->sh_entsize = 0; break;
		case 3: sym->sh_size -= 7; break;
		case 4: sym->sh_name = 0xfffffff0u; break;
		case 5: shdr_of(&c, SHT_DYNAMIC)->sh_entsize = 0; break;
		case 6: shdr_of(&c, SHT_DYNAMIC)->sh_link = 0xffff; break;
		case 7: for (size_t i = 0; i < nsym; i++) s[i].st_name = 0xfffffff0u; break;
		case 8: for (size_t i = 0; i < nsym; i++) s[i].st_value = ~0ull - i; break;
		case 9: for (size_t i = 0; i < nsym; i++) s[i].st_shndx = 0xfff0; break;
		case 10: for (size_t i = 0; i < nsym; i++) s[i].st_size = ~0ull; break;
		case 11: /* the build-id note's sizes */
			memset(c.b + shdr_of(&c, SHT_NOTE)->sh_offset, 0xff, 8); break;
		case 12: /* a symbol name without its terminating NUL: the string table's end */
			memset(c.b + shdr_of(&c, SHT_SYMTAB)[1].sh_offset, 'A',
			       shdr_of(&c, SHT_SYMTAB)[1].sh_size); break;
		default:
			free(c.b);
			return;
		}
		exercise(c.b, c.len, &n);
		free(c.b);
	}
}

/* Each byte of the ELF header, the program headers and the section
 * headers set to 0, 0xff, 0x80 and flipped in its low bit. */
static void test_every_header_byte(void **state)
{
	static const int vals[] = { 0x00, 0xff, 0x80, -1 };
	Elf64_Ehdr *e = ehdr(&lib);
	size_t ranges[3][2] = {
		{ 0, sizeof(Elf64_Ehdr) },
		{ e->e_phoff, e->e_phoff + (size_t)e->e_phnum * sizeof(Elf64_Phdr) },
		{ e->e_shoff, e->e_shoff + (size_t)e->e_shnum * sizeof(Elf64_Shdr) },
	};
	size_t n, tried = 0, opened = 0;

	for (int r = 0; r < 3; r++) {
		for (size_t at = ranges[r][0]; at < ranges[r][1]; at++) {
			for (size_t v = 0; v < sizeof(vals) / sizeof(vals[0]); v++) {
				unsigned char was = lib.b[at];

				lib.b[at] = vals[v] < 0 ? was ^ 1 : (unsigned char)vals[v];
				if (lib.b[at] != was) {
					tried++;
					opened += exercise(lib.b, lib.len, &n) == 0;
				}
				lib.b[at] = was;
			}
		}
	}
	print_message("# %zu header mutations, %zu opened\n", tried, opened);
	assert_true(tried > 5000);
}

/* Random bytes anywhere, 1 to 16 at a time, in both files (a fixed seed:
 * a failure repeats). */
static void test_random_corruption(void **state)
{
	struct image *ims[] = { &lib, &mini };
	unsigned seed = 20261130;
	size_t n, opened = 0;

	for (int i = 0; i < 3000; i++) {
		struct image c = copy(ims[i & 1]);
		int flips = 1 + rand_r(&seed) % 16;

		for (int f = 0; f < flips; f++)
			c.b[(size_t)rand_r(&seed) % c.len] = (unsigned char)rand_r(&seed);
		opened += exercise(c.b, c.len, &n) == 0;
		free(c.b);
	}
	print_message("# 3000 random corruptions, %zu opened\n", opened);
}

/* An object whose symbols are all data: no functions, no error (qsort was
 * once given their NULL array). */
static void test_no_functions(void **state)
{
	uint32_t types[] = { SHT_SYMTAB, SHT_DYNSYM };
	struct image c = copy(&lib);
	size_t n;

	for (int t = 0; t < 2; t++) {
		Elf64_Shdr *sh = shdr_of(&c, types[t]);
		Elf64_Sym *s = (Elf64_Sym *)(c.b + sh->sh_offset);

		for (size_t i = 0; i < sh->sh_size / sizeof(*s); i++)
			if (ELF64_ST_TYPE(s[i].st_info) == STT_FUNC)
				s[i].st_info = ELF64_ST_INFO(ELF64_ST_BIND(s[i].st_info), STT_OBJECT);
	}
	assert_int_equal(exercise(c.b, c.len, &n), 0);
	assert_int_equal(n, 0);
	free(c.b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_real_file_reads),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_hostile_headers_refused),
		cmocka_unit_test(test_lying_values_survive),
		cmocka_unit_test(test_every_header_byte),
		cmocka_unit_test(test_random_corruption),
		cmocka_unit_test(test_no_functions),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("elfsym", tests, setup, teardown);
}
