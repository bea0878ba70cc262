/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The textfile that node_exporter reads, replaced atomically: the new
 * contents go to a temporary file in the same directory (a name not ending in
 * .prom, so the collector never reads it), which is renamed over the old one
 * once completely written. A reader sees the old file or the new one, never
 * a part. A failed write (directory gone, read-only, full) leaves the old
 * file as it was; it is reported once per change of state and counted.
 *
 * The temporary file is created through the directory's fd with
 * O_EXCL|O_NOFOLLOW under a random name, so a file or symlink planted in the
 * directory is never written through nor truncated; the rename replaces a
 * symlink at the final name, never its target.
 */
#ifndef INFERLAT_TEXTFILE_H
#define INFERLAT_TEXTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct textfile {
	char *dir, *name, *path;   /* path = dir/name */
	int state;                 /* 0 after a good write, else the last -errno */
	uint64_t errors;           /* failed writes */
	uint64_t writes;           /* good writes */
};

/* Check that dir is a directory inferlat can create files in and that not
 * every user can write to without the sticky bit (-EPERM), and remember
 * dir/name. 0 or -errno, explained on stderr in one line (bad input). */
int textfile_init(struct textfile *t, const char *dir, const char *name);
void textfile_free(struct textfile *t);

/* Replace the file with data. 0 or -errno; a change between failing and
 * succeeding (or to another error) is reported on stderr, once. */
int textfile_write(struct textfile *t, const char *data, size_t len);

/* Whether name is fit for the textfile collector: a file name ending in
 * ".prom", without '/', not hidden. */
bool textfile_name_ok(const char *name);

/* Create tmp in dirfd for writing: a fd, or -EEXIST when anything (a file,
 * a symlink) already has that name. */
int textfile_open_temp(int dirfd, const char *tmp);

#endif
