// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "textfile.h"

bool textfile_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && name[0] != '.' && !strchr(name, '/') && !strcmp(name + n - 5, ".prom");
}

int textfile_init(struct textfile *t, const char *dir, const char *name)
{
	struct stat st;

	memset(t, 0, sizeof(*t));
	if (stat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	t->dir = strdup(dir);
	t->name = strdup(name);
	if (!t->dir || !t->name || asprintf(&t->path, "%s/%s", dir, name) < 0) {
		t->path = NULL;
		textfile_free(t);
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
	char *tmp;
	int fd, err;

	/* hidden and not ending in .prom: the collector skips it */
	if (asprintf(&tmp, "%s/.%s.XXXXXX", t->dir, t->name) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(tmp);
		return err;
	}
	/* node_exporter usually runs as another user */
	err = fchmod(fd, 0644) ? -errno : 0;
	if (!err)
		err = write_all(fd, data, len);
	/* close reports what a delayed write could not do */
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, t->path))
		err = -errno;
	if (err)
		unlink(tmp);
	free(tmp);
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
				t->path, strerror(-err));
	} else {
		t->writes++;
		if (t->state)
			log_note("writing %s again", t->path);
	}
	t->state = err;
	return err;
}
