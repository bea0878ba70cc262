// SPDX-License-Identifier: GPL-2.0
/*
 * The HTTP/1.1 framer on what clients and servers control: the bytes of
 * every read and write of a connection, cut into syscalls any way, with
 * captured prefixes shorter than the syscall.
 *
 * Input: records of [op u8][len u16 LE][captured u16 LE][len bytes]: op
 * % 4 is a read, a write, a failed write (-EPIPE) or the server's close;
 * op & 0x80 starts the next connection. Each exchange the framer ends must
 * be consistent: its times in order, its chunks and gaps agreeing, its
 * route bounded and printable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "httpframe.h"
#include "fuzz.h"

struct counts {
	uint64_t starts, dones;
};

static void on_start(void *ctx, const struct http_exchange *x)
{
	struct counts *c = ctx;

	FUZZ_ASSERT(x->method && x->start_ns);
	c->starts++;
}

static void on_done(void *ctx, const struct http_exchange *x)
{
	struct counts *c = ctx;
	size_t n = strlen(x->route);

	c->dones++;
	FUZZ_ASSERT(c->dones <= c->starts);
	FUZZ_ASSERT(x->method && n <= HTTP_ROUTE_MAX * 3);
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT(x->route[i] > 0x20 && x->route[i] < 0x7f);
	FUZZ_ASSERT(x->start_ns <= x->end_ns);
	FUZZ_ASSERT(!x->first_byte_ns || (x->start_ns <= x->first_byte_ns && x->first_byte_ns <= x->end_ns));
	FUZZ_ASSERT(!x->first_chunk_ns || (x->first_byte_ns && x->first_byte_ns <= x->first_chunk_ns &&
					   x->first_chunk_ns <= x->end_ns));
	FUZZ_ASSERT(!x->chunks == !x->first_chunk_ns);
	FUZZ_ASSERT(x->ngaps <= (x->chunks ? x->chunks - 1 : 0));
	FUZZ_ASSERT(x->aborted || (x->status >= 100 && x->status <= 599));
}

static void on_unparsed(void *ctx, pid_t pid, uint16_t port, const char *why)
{
	FUZZ_ASSERT(pid == 7 && port == 80);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct counts c = { 0 };
	struct http_sink sink = { &c, on_start, on_done, on_unparsed };
	struct sock_event *e = malloc(sizeof(*e));
	struct http_framer f;
	uint64_t conn = 1, ts = 1000;
	size_t pos = 0;

	if (!e || http_framer_init(&f, &sink)) {
		free(e);
		return 0;
	}
	memset(e, 0, sizeof(*e));
	e->pid = 7;
	e->port = 80;
	e->conn_id = conn;
	e->op = INFERLAT_SOCK_ACCEPT;
	http_framer_add(&f, e, sizeof(*e) - INFERLAT_SOCK_CAPTURE);
	while (pos + 5 <= size) {
		uint8_t op = data[pos];
		size_t len = data[pos + 1] | (size_t)data[pos + 2] << 8;
		size_t cap = data[pos + 3] | (size_t)data[pos + 4] << 8;

		pos += 5;
		if (len > size - pos)
			len = size - pos;
		if (cap > len)
			cap = len;
		if (cap > INFERLAT_SOCK_CAPTURE)
			cap = INFERLAT_SOCK_CAPTURE;
		if (op & 0x80) {
			e->conn_id = ++conn;
			e->op = INFERLAT_SOCK_ACCEPT;
			e->ret = 0;
			e->captured = 0;
			http_framer_add(&f, e, sizeof(*e) - INFERLAT_SOCK_CAPTURE);
		}
		ts += 1000 + (op & 0x70) * 100;
		e->ts_ns = ts;
		e->captured = (uint32_t)cap;
		memcpy(e->data, data + pos, cap);
		switch (op & 3) {
		case 0: e->op = INFERLAT_SOCK_READ; e->ret = (int64_t)len; break;
		case 1: e->op = INFERLAT_SOCK_WRITE; e->ret = (int64_t)len; break;
		case 2: e->op = INFERLAT_SOCK_WRITE; e->ret = -32; e->captured = 0; break;
		case 3: e->op = INFERLAT_SOCK_CLOSE; e->ret = 0; e->captured = 0; break;
		}
		http_framer_add(&f, e, sizeof(*e) - INFERLAT_SOCK_CAPTURE + e->captured);
		pos += len;
	}
	http_framer_free(&f);
	free(e);
	return 0;
}
