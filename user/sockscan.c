// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "grow.h"
#include "sockscan.h"

#define TCP_ESTABLISHED 0x01
#define TCP_LISTEN 0x0A

struct tcp_sock {
	unsigned long inode;
	uint16_t port;
	unsigned state;
};

struct tcp_table {
	struct tcp_sock *v;
	size_t n, cap;
};

/* Lines of /proc/PID/net/tcp{,6}: "sl local rem st ... inode". */
static int read_table(pid_t pid, const char *name, struct tcp_table *t)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid, name);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;   /* no IPv6: no tcp6 */
	while (fgets(line, sizeof(line), f)) {
		char local[64], rem[64];
		unsigned state, port;
		unsigned long inode;
		char *colon;

		if (sscanf(line, " %*s %63s %63s %x %*s %*s %*s %*s %*s %lu", local, rem, &state, &inode) != 4)
			continue;   /* the header */
		colon = strrchr(local, ':');
		if (!colon || sscanf(colon + 1, "%x", &port) != 1)
			continue;
		if (GROW(t->v, t->n, t->cap, 64)) {
			fclose(f);
			return -ENOMEM;
		}
		t->v[t->n++] = (struct tcp_sock){ inode, (uint16_t)port, state };
	}
	fclose(f);
	return 0;
}

static const struct tcp_sock *find(const struct tcp_table *t, unsigned long inode)
{
	if (!inode)   /* not a socket (and sockets in TIME_WAIT have none) */
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].inode == inode)
			return &t->v[i];
	return NULL;
}

/* The socket inode of /proc/PID/fd/NAME, or 0. */
static unsigned long fd_socket(pid_t pid, const char *name)
{
	char path[64], target[64];
	unsigned long inode;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%s", (int)pid, name);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return 0;
	target[n] = 0;
	return sscanf(target, "socket:[%lu]", &inode) == 1 ? inode : 0;
}

int sockscan_conns(pid_t pid, const uint16_t *ports, size_t nports,
		   int (*fn)(void *ctx, pid_t pid, int fd, uint16_t port), void *ctx)
{
	struct tcp_table t = { 0 };
	uint16_t listening[256];
	size_t nlisten = 0;
	char path[64];
	struct dirent *d;
	DIR *dir;
	int err;

	if ((err = read_table(pid, "tcp", &t)) || (err = read_table(pid, "tcp6", &t)))
		goto out;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir) {
		err = -errno;
		goto out;
	}
	/* the ports it listens on: its own listening sockets */
	while (!nports && (d = readdir(dir)) && nlisten < sizeof(listening) / sizeof(listening[0])) {
		const struct tcp_sock *s = find(&t, fd_socket(pid, d->d_name));

		if (s && s->state == TCP_LISTEN)
			listening[nlisten++] = s->port;
	}
	rewinddir(dir);
	while (!err && (d = readdir(dir))) {
		const struct tcp_sock *s = find(&t, fd_socket(pid, d->d_name));
		const uint16_t *want = nports ? ports : listening;
		size_t nwant = nports ? nports : nlisten;
		bool ours = false;

		if (!s || s->state != TCP_ESTABLISHED)
			continue;
		for (size_t i = 0; i < nwant; i++)
			ours |= want[i] == s->port;
		if (ours)
			err = fn(ctx, pid, atoi(d->d_name), s->port);
	}
	closedir(dir);
out:
	free(t.v);
	return err;
}
