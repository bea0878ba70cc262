// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "rotate.h"

static volatile sig_atomic_t hup;

static void on_hup(int sig)
{
	hup = 1;
}

int rotate_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_hup;
	/* the poll loop wakes on its own tick: no call needs to be cut short */
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGHUP, &sa, NULL) ? -errno : 0;
}

bool rotate_requested(void)
{
	if (!hup)
		return false;
	hup = 0;
	return true;
}

int rotate_reopen(FILE *f, const char *path)
{
	int fd, err = 0;

	/* whole records to the old file: nothing is split across the two */
	if (fflush(f))
		return -errno;
	/* append: a file that was not moved away is not cut */
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (fd < 0)
		return -errno;
	if (dup3(fd, fileno(f), O_CLOEXEC) < 0)
		err = -errno;
	close(fd);
	return err;
}
