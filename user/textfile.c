// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "textfile.h"

/* names tried before giving up: each is 64 random bits, so a second try
 * means someone planted a file under a name we chose */
#define TMP_TRIES 16

bool textfile_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && name[0] != '.' && !strchr(name, '/') && !strcmp(name + n - 5, ".prom");
}

/* The directory, opened once per write: a directory renamed or replaced
 * since is not written behind node_exporter's back. */
static int open_dir(const char *dir)
{
	struct stat st;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		int err = -errno;

		close(fd);
		return err;
	}
	/* anyone could swap the file for a symlink between our rename and
	 * node_exporter's read, or plant one; /tmp-like (sticky) is safe */
	if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

int textfile_open_temp(int dirfd, const char *tmp)
{
	/* never an existing file, never through a symlink */
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	return fd < 0 ? -errno : fd;
}

/* A new file of our own in dirfd, with a random hidden name not ending in
 * .prom (the collector skips it) into tmp. */
static int create_temp(int dirfd, const char *name, char *tmp, size_t sz)
{
	for (int i = 0; i < TMP_TRIES; i++) {
		uint64_t r;
		int fd;

		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			return -EIO;
		snprintf(tmp, sz, ".%s.%016llx", name, (unsigned long long)r);
		fd = textfile_open_temp(dirfd, tmp);
		if (fd != -EEXIST)
			return fd;
	}
	return -EEXIST;
}

int textfile_init(struct textfile *t, const char *dir, const char *name)
{
	char tmp[300];
	int dfd, fd;

	memset(t, 0, sizeof(*t));
	dfd = open_dir(dir);
	if (dfd == -EPERM) {
		log_err("--textfile-dir %s: writable by every user and not sticky, so any user could plant "
			"or swap the file; chmod o-w or +t it (node_exporter's directory is 0755)", dir);
		return dfd;
	}
	if (dfd < 0) {
		log_err("--textfile-dir %s: %s (give node_exporter's --collector.textfile.directory)",
			dir, strerror(-dfd));
		return dfd;
	}
	/* writable at start, or it is bad input; later failures are counted */
	fd = create_temp(dfd, name, tmp, sizeof(tmp));
	if (fd < 0) {
		log_err("--textfile-dir %s: cannot create a file there: %s", dir, strerror(-fd));
		close(dfd);
		return fd;
	}
	close(fd);
	unlinkat(dfd, tmp, 0);
	close(dfd);
	t->dir = strdup(dir);
	t->name = strdup(name);
	if (!t->dir || !t->name || asprintf(&t->path, "%s/%s", dir, name) < 0) {
		t->path = NULL;
		textfile_free(t);
		log_err("out of memory");
		return -ENOMEM;
	}
	return 0;
}

void textfile_free(struct textfile *t)
{
	free(t->dir);
	free(t->name);
	free(t->path);
	memset(t, 0, sizeof(*t));
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int replace(const struct textfile *t, const char *data, size_t len)
{
	char tmp[300];
	int dfd, fd, err;

	dfd = open_dir(t->dir);
	if (dfd < 0)
		return dfd;
	fd = create_temp(dfd, t->name, tmp, sizeof(tmp));
	if (fd < 0) {
		close(dfd);
		return fd;
	}
	/* node_exporter usually runs as another user */
	err = fchmod(fd, 0644) ? -errno : 0;
	if (!err)
		err = write_all(fd, data, len);
	/* close reports what a delayed write could not do */
	if (close(fd) && !err)
		err = -errno;
	/* replaces a symlink planted under the name, never what it points to */
	if (!err && renameat(dfd, tmp, dfd, t->name))
		err = -errno;
	if (err)
		unlinkat(dfd, tmp, 0);
	close(dfd);
	return err;
}

int textfile_write(struct textfile *t, const char *data, size_t len)
{
	int err = replace(t, data, len);

	if (err) {
		t->errors++;
		if (err != t->state)
			log_err("cannot write %s: %s; the previous file is kept, retrying every window "
				"(inferlat_textfile_write_errors_total counts the failures)",
				t->path, err == -EPERM ? "the directory became writable by every user "
				"without the sticky bit" : strerror(-err));
	} else {
		t->writes++;
		if (t->state)
			log_note("writing %s again", t->path);
	}
	t->state = err;
	return err;
}
