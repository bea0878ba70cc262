/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --http: the TCP connections a process holds when inferlat starts, accepted
 * on a port it listens on (or one of the ports given): from /proc/PID/fd and
 * the socket tables of /proc/PID/net/tcp and tcp6.
 */
#ifndef INFERLAT_SOCKSCAN_H
#define INFERLAT_SOCKSCAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Call fn for each such connection (fd, local port); returns fn's first
 * non-zero, 0, or -errno when the process's tables cannot be read. */
int sockscan_conns(pid_t pid, const uint16_t *ports, size_t nports,
		   int (*fn)(void *ctx, pid_t pid, int fd, uint16_t port), void *ctx);

#endif
