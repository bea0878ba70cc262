// SPDX-License-Identifier: GPL-2.0
/* The atomic textfile: contents, mode, no temporary left behind, failures
 * that keep the old file and are reported once per change of state. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "textfile.h"

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* stderr into a file, so the test can count the lines written to it */
static int capture_stderr(const char *path)
{
	int saved = dup(2), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	dup2(fd, 2);
	close(fd);
	return saved;
}

static int lines_with(const char *path, const char *needle)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

static void test_names(void **state)
{
	assert_true(textfile_name_ok("inferlat.prom"));
	assert_true(textfile_name_ok("model-a.prom"));
	assert_false(textfile_name_ok("inferlat.txt"));
	assert_false(textfile_name_ok(".prom"));
	assert_false(textfile_name_ok(".hidden.prom"));
	assert_false(textfile_name_ok("a/b.prom"));
}

static void test_write_and_fail(void **state)
{
	char dir[] = "/tmp/inferlat-unit-XXXXXX", moved[64], path[128], err_path[128];
	struct textfile t;
	struct stat st;
	int saved;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(textfile_init(&t, path, "x.prom"), 0);
	assert_int_equal(textfile_write(&t, "a 1\n", 4), 0);
	snprintf(path, sizeof(path), "%s/sub/x.prom", dir);
	assert_string_equal(slurp(path), "a 1\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);   /* node_exporter runs as another user */
	assert_int_equal(textfile_write(&t, "a 2\n", 4), 0);
	assert_string_equal(slurp(path), "a 2\n");
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(entries(path), 1);          /* no temporary left */

	/* the directory's path becomes a file: writes fail, reported once */
	snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
	snprintf(moved, sizeof(moved), "%s/moved", dir);
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(close(open(path, O_WRONLY | O_CREAT, 0644)), 0);
	saved = capture_stderr(err_path);
	assert_int_equal(textfile_write(&t, "a 3\n", 4), -ENOTDIR);
	assert_int_equal(textfile_write(&t, "a 4\n", 4), -ENOTDIR);
	assert_int_equal(textfile_write(&t, "a 5\n", 4), -ENOTDIR);
	/* another failure: said once more */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(textfile_write(&t, "a 6\n", 4), -ENOENT);
	/* back: said once, and written */
	assert_int_equal(rename(moved, path), 0);
	assert_int_equal(textfile_write(&t, "a 7\n", 4), 0);
	assert_int_equal(textfile_write(&t, "a 8\n", 4), 0);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_int_equal(t.errors, 4);
	assert_int_equal(t.writes, 4);
	assert_int_equal(lines_with(err_path, "cannot write"), 2);
	assert_int_equal(lines_with(err_path, "Not a directory"), 1);
	assert_int_equal(lines_with(err_path, "writing "), 1);
	snprintf(path, sizeof(path), "%s/sub/x.prom", dir);
	assert_string_equal(slurp(path), "a 8\n");

	textfile_free(&t);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

static void test_init_needs_a_directory(void **state)
{
	struct textfile t;

	assert_int_equal(textfile_init(&t, "/nonexistent/inferlat", "x.prom"), -ENOENT);
	assert_int_equal(textfile_init(&t, "/etc/hostname", "x.prom"), -ENOTDIR);
}

/* A directory every user may write to: refused unless sticky (/tmp-like),
 * where only a file's owner may rename or remove it. */
static void test_world_writable_needs_sticky(void **state)
{
	char dir[] = "/tmp/inferlat-unit-XXXXXX", path[128];
	struct textfile t;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(textfile_init(&t, dir, "x.prom"), -EPERM);
	assert_int_equal(chmod(dir, 01777), 0);
	assert_int_equal(textfile_init(&t, dir, "x.prom"), 0);
	assert_int_equal(entries(dir), 0);           /* the write test left nothing */
	assert_int_equal(textfile_write(&t, "a 1\n", 4), 0);
	/* it became world-writable since: counted as a failed write */
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(textfile_write(&t, "a 2\n", 4), -EPERM);
	snprintf(path, sizeof(path), "%s/x.prom", dir);
	assert_string_equal(slurp(path), "a 1\n");
	textfile_free(&t);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

/* Files and symlinks planted in the directory: the temporary file is never
 * one of them, what they point to is never written, and a symlink under
 * the final name is replaced, not followed. */
static void test_planted_files_not_followed(void **state)
{
	char dir[] = "/tmp/inferlat-unit-XXXXXX", path[128], victim[128], ghost[128];
	struct textfile t;
	struct stat st;
	int dfd;

	assert_non_null(mkdtemp(dir));
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(ghost, sizeof(ghost), "%s/ghost", dir);
	assert_int_equal(mkdir(strcat(strcpy(path, dir), "/d"), 0755), 0);
	{
		FILE *f = fopen(victim, "w");

		assert_non_null(f);
		fputs("precious\n", f);
		fclose(f);
	}
	dfd = open(path, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	assert_int_equal(symlinkat(victim, dfd, ".link"), 0);
	assert_int_equal(symlinkat(ghost, dfd, ".dangling"), 0);
	assert_int_equal(close(openat(dfd, ".file", O_WRONLY | O_CREAT, 0644)), 0);
	assert_int_equal(textfile_open_temp(dfd, ".link"), -EEXIST);
	assert_int_equal(textfile_open_temp(dfd, ".dangling"), -EEXIST);
	assert_int_equal(textfile_open_temp(dfd, ".file"), -EEXIST);
	assert_int_equal(access(ghost, F_OK), -1);   /* not created through the link */
	assert_string_equal(slurp(victim), "precious\n");

	/* the final name is a symlink to the victim */
	assert_int_equal(symlinkat(victim, dfd, "x.prom"), 0);
	assert_int_equal(textfile_init(&t, path, "x.prom"), 0);
	assert_int_equal(textfile_write(&t, "a 1\n", 4), 0);
	assert_string_equal(slurp(victim), "precious\n");
	assert_int_equal(fstatat(dfd, "x.prom", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	snprintf(path, sizeof(path), "%s/d/x.prom", dir);
	assert_string_equal(slurp(path), "a 1\n");
	snprintf(path, sizeof(path), "%s/d", dir);
	assert_int_equal(entries(path), 4);           /* the three planted, x.prom */
	close(dfd);
	textfile_free(&t);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_write_and_fail),
		cmocka_unit_test(test_init_needs_a_directory),
		cmocka_unit_test(test_world_writable_needs_sticky),
		cmocka_unit_test(test_planted_files_not_followed),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("textfile", tests, NULL, NULL);
}
