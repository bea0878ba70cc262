// SPDX-License-Identifier: GPL-2.0
/*
 * The request layer's cost per syscall (make bench, section 7): a loop of
 * syscalls timed by the loop itself.
 *
 * usage: syscalls MODE N
 *   devnull  N write(2)s of 64 bytes to /dev/null (any process's syscalls)
 *   getppid  N getppid(2)s (a syscall the request layer does not look at)
 *   http     N HTTP/1.1 exchanges over a loopback TCP connection the process
 *            accepted itself: the client writes a request, the server side
 *            reads it and writes a response, the client reads it (4 syscalls)
 * Prints "ready PID" and waits for a line on stdin before the loop (a tool
 * attaches in between), then "ns_per_op X".
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int tcp_pair(int *server, int *client)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		return -1;
	*client = socket(AF_INET, SOCK_STREAM, 0);
	if (*client < 0 || connect(*client, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	*server = accept(l, NULL, NULL);
	if (*server < 0)
		return -1;
	setsockopt(*server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(*client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;   /* the listener stays open, as a server's does */
}

int main(int argc, char **argv)
{
	static const char req[] = "GET /bench HTTP/1.1\r\nHost: b\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	char buf[256], line[16];
	int fd = -1, server = -1, client = -1;
	long n;
	double t0, t1;

	if (argc != 3 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: syscalls devnull|getppid|http N\n");
		return 2;
	}
	memset(buf, 'x', sizeof(buf));
	if (!strcmp(argv[1], "devnull"))
		fd = open("/dev/null", O_WRONLY);
	else if (!strcmp(argv[1], "http") && tcp_pair(&server, &client)) {
		perror("syscalls: loopback connection");
		return 1;
	} else if (strcmp(argv[1], "getppid") && strcmp(argv[1], "http")) {
		fprintf(stderr, "syscalls: unknown mode %s\n", argv[1]);
		return 2;
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		if (fd >= 0) {
			if (write(fd, buf, 64) != 64)
				return 1;
		} else if (server < 0) {
			syscall(SYS_getppid);
		} else {
			if (write(client, req, sizeof(req) - 1) != sizeof(req) - 1 ||
			    read(server, buf, sizeof(buf)) != sizeof(req) - 1 ||
			    write(server, resp, sizeof(resp) - 1) != sizeof(resp) - 1 ||
			    read(client, buf, sizeof(buf)) != sizeof(resp) - 1)
				return 1;
		}
	}
	t1 = now_ns();
	printf("ns_per_op %.1f\n", (t1 - t0) / (double)n);
	return 0;
}
