/* SPDX-License-Identifier: GPL-2.0 */
/*
 * HTTP/1.1 framing of the server side of connections, from the socket
 * syscalls' events (struct sock_event): what the server read and wrote, with
 * a bounded prefix of each. Per connection, requests are framed from the
 * reads (request line, headers, a Content-Length or chunked body; pipelined
 * requests queue) and answered in order by responses framed from the writes
 * (status line, headers, a Content-Length, chunked or close-delimited body;
 * 1xx interim responses skipped). What cannot be framed (TLS, HTTP/2, a
 * request line or chunk header outside the captured prefix) is counted as
 * unparsed and the connection is not followed further: never guessed.
 */
#ifndef INFERLAT_HTTPFRAME_H
#define INFERLAT_HTTPFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "inferlat.h"

/* Routes are paths without the query string, at most this long (longer ones
 * are cut), bytes outside printable ASCII written as %XX. */
#define HTTP_ROUTE_MAX 96
/* Request and response heads (request line or status line and headers) are
 * framed up to this size; a longer request head is read past (its body
 * length unknown, so no request pipelined after it is framed); a longer
 * response head makes the connection unparsed. */
#define HTTP_HEAD_MAX 16384
/* Requests read and not yet answered on one connection. */
#define HTTP_PIPELINE_MAX 32

/* One request and its response, as the server read and wrote them. */
struct http_exchange {
	pid_t pid;
	uint16_t port;
	uint64_t conn_id;
	const char *method;         /* GET, POST, ... or _OTHER (static) */
	char route[HTTP_ROUTE_MAX * 3 + 1];
	int status;                 /* the final response's; 0: none written */
	bool aborted;               /* the connection ended before the response did */
	uint64_t start_ns;          /* the read holding the request's first byte */
	uint64_t first_byte_ns;     /* the write holding the response's first byte; 0: none */
	uint64_t first_chunk_ns;    /* the first body chunk's end; 0: none */
	uint64_t end_ns;            /* the response's last byte, or the end of the connection */
	uint64_t chunks;            /* body chunks: HTTP chunks, SSE events, or body writes */
	const uint64_t *gaps_ns;    /* the times between consecutive chunks (chunks - 1 of them) */
	size_t ngaps;
	uint64_t req_bytes, resp_bytes;
};

struct http_sink {
	void *ctx;
	/* a request's line was read: it is in flight from x->start_ns */
	void (*start)(void *ctx, const struct http_exchange *x);
	/* it ended: answered (x->status) or aborted; x and its gaps live for the call */
	void (*done)(void *ctx, const struct http_exchange *x);
	/* a connection (pid, port) stopped being framed: bytes that are not HTTP/1.x
	 * or a framing boundary outside the captured prefix */
	void (*unparsed)(void *ctx, pid_t pid, uint16_t port, const char *why);
};

struct http_conn;

struct http_framer {
	struct http_sink sink;
	struct http_conn **buckets;
	size_t nbuckets, nconns;
	uint64_t events, unknown_conn;   /* events taken; events of connections never seen opened */
};

int http_framer_init(struct http_framer *f, const struct http_sink *sink);
void http_framer_free(struct http_framer *f);
/* One socket syscall event (size: the record's, header and captured data).
 * 0 or -ENOMEM. */
int http_framer_add(struct http_framer *f, const struct sock_event *e, size_t size);
/* A connection the process held before inferlat started: followed from the
 * next request line it reads (what was in progress is not framed). */
int http_framer_known(struct http_framer *f, uint64_t conn_id, pid_t pid, int fd, uint16_t port);

#endif
