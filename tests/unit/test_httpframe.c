// SPDX-License-Identifier: GPL-2.0
/* HTTP/1.1 framing of a server's connection from its syscalls: keep-alive,
 * pipelining, chunked and SSE streams, aborts, interim responses, HEAD,
 * heads split over reads, prefixes shorter than the syscall, what is not
 * HTTP/1.x, connections older than the tracer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "httpagg.h"
#include "httpframe.h"

#define MS 1000000ull
#define MAXX 16

struct seen {
	struct http_exchange x[MAXX];
	uint64_t gaps[MAXX][8];
	size_t n, starts, unparsed;
	const char *why;
};

static void on_start(void *ctx, const struct http_exchange *x)
{
	((struct seen *)ctx)->starts++;
}

static void on_done(void *ctx, const struct http_exchange *x)
{
	struct seen *s = ctx;

	assert_true(s->n < MAXX);
	s->x[s->n] = *x;
	for (size_t i = 0; i < x->ngaps && i < 8; i++)
		s->gaps[s->n][i] = x->gaps_ns[i];
	s->n++;
}

static void on_unparsed(void *ctx, pid_t pid, uint16_t port, const char *why)
{
	struct seen *s = ctx;

	s->unparsed++;
	s->why = why;
}

struct bed {
	struct http_framer f;
	struct seen s;
	struct sock_event e;
};

static struct bed *bed_new(void)
{
	struct bed *b = calloc(1, sizeof(*b));
	struct http_sink sink = { NULL, on_start, on_done, on_unparsed };

	assert_non_null(b);
	sink.ctx = &b->s;
	assert_int_equal(http_framer_init(&b->f, &sink), 0);
	return b;
}

static void bed_free(struct bed *b)
{
	http_framer_free(&b->f);
	free(b);
}

static void ev(struct bed *b, uint64_t conn, uint16_t op, uint64_t ms, const char *data, size_t len, size_t cap)
{
	struct sock_event *e = &b->e;

	memset(e, 0, sizeof(*e));
	e->ts_ns = ms * MS;
	e->conn_id = conn;
	e->pid = 42;
	e->port = 8080;
	e->op = op;
	e->ret = (int64_t)len;
	e->captured = (uint32_t)cap;
	if (cap)
		memcpy(e->data, data, cap);
	assert_int_equal(http_framer_add(&b->f, e, sizeof(*e) - INFERLAT_SOCK_CAPTURE + cap), 0);
}

static void accept_(struct bed *b, uint64_t conn, uint64_t ms)
{
	ev(b, conn, INFERLAT_SOCK_ACCEPT, ms, NULL, 0, 0);
}

static void rd(struct bed *b, uint64_t conn, uint64_t ms, const char *s)
{
	ev(b, conn, INFERLAT_SOCK_READ, ms, s, strlen(s), strlen(s));
}

static void wr(struct bed *b, uint64_t conn, uint64_t ms, const char *s)
{
	ev(b, conn, INFERLAT_SOCK_WRITE, ms, s, strlen(s), strlen(s));
}

static void cl(struct bed *b, uint64_t conn, uint64_t ms)
{
	ev(b, conn, INFERLAT_SOCK_CLOSE, ms, NULL, 0, 0);
}

#define OK2 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

static void test_keepalive_and_content_length(void **state)
{
	struct bed *b = bed_new();

	accept_(b, 1, 1);
	rd(b, 1, 10, "GET /v1/models?limit=2 HTTP/1.1\r\nHost: x\r\n\r\n");
	wr(b, 1, 15, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n");
	wr(b, 1, 17, "ab");
	wr(b, 1, 19, "cd");
	rd(b, 1, 30, "POST /completion HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
	wr(b, 1, 40, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	cl(b, 1, 50);
	assert_int_equal(b->s.n, 2);
	assert_string_equal(b->s.x[0].method, "GET");
	assert_string_equal(b->s.x[0].route, "/v1/models");
	assert_int_equal(b->s.x[0].status, 200);
	assert_false(b->s.x[0].aborted);
	assert_int_equal(b->s.x[0].start_ns, 10 * MS);
	assert_int_equal(b->s.x[0].first_byte_ns, 15 * MS);
	assert_int_equal(b->s.x[0].first_chunk_ns, 17 * MS);
	assert_int_equal(b->s.x[0].end_ns, 19 * MS);
	assert_int_equal(b->s.x[0].chunks, 2);   /* two body writes */
	assert_int_equal(b->s.x[0].ngaps, 1);
	assert_int_equal(b->s.gaps[0][0], 2 * MS);
	assert_string_equal(b->s.x[1].method, "POST");
	assert_int_equal(b->s.x[1].status, 404);
	assert_int_equal(b->s.x[1].end_ns, 40 * MS);
	assert_int_equal(b->s.x[1].req_bytes, strlen("POST /completion HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"));
	assert_int_equal(b->s.x[1].chunks, 0);
	assert_int_equal(b->s.unparsed, 0);
	bed_free(b);
}

static void test_pipelined_in_one_read(void **state)
{
	struct bed *b = bed_new();

	accept_(b, 1, 1);
	rd(b, 1, 10, "GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nxyGET /c HTTP/1.1\r\n\r\n");
	wr(b, 1, 11, OK2 OK2);
	wr(b, 1, 12, "HTTP/1.1 500 Oops\r\nContent-Length: 2\r\n\r\nno");
	assert_int_equal(b->s.starts, 3);
	assert_int_equal(b->s.n, 3);
	assert_string_equal(b->s.x[0].route, "/a");
	assert_string_equal(b->s.x[1].route, "/b");
	assert_string_equal(b->s.x[2].route, "/c");
	assert_int_equal(b->s.x[1].end_ns, 11 * MS);
	assert_int_equal(b->s.x[2].status, 500);
	assert_int_equal(b->s.x[2].start_ns, 10 * MS);
	bed_free(b);
}

static void test_sse_over_chunks(void **state)
{
	struct bed *b = bed_new();

	accept_(b, 1, 1);
	rd(b, 1, 10, "POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
	wr(b, 1, 12, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
	wr(b, 1, 20, "f\r\ndata: {\"t\":1}\n\n\r\n");
	/* an event split over two chunks counts once, where it ends */
	wr(b, 1, 25, "6\r\ndata: \r\n");
	wr(b, 1, 27, "3\r\n2\n\n\r\n");
	wr(b, 1, 30, "b\r\ndata: [3]\n\n\r\n0\r\n\r\n");
	assert_int_equal(b->s.n, 1);
	assert_int_equal(b->s.x[0].chunks, 3);
	assert_int_equal(b->s.x[0].first_chunk_ns, 20 * MS);
	assert_int_equal(b->s.x[0].ngaps, 2);
	assert_int_equal(b->s.gaps[0][0], 7 * MS);
	assert_int_equal(b->s.gaps[0][1], 3 * MS);
	assert_int_equal(b->s.x[0].end_ns, 30 * MS);
	assert_int_equal(b->s.x[0].first_byte_ns, 12 * MS);
	bed_free(b);
}

static void test_ndjson_chunks_in_one_writev(void **state)
{
	struct bed *b = bed_new();

	accept_(b, 1, 1);
	rd(b, 1, 10, "POST /completion HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}");
	/* node: the head with the first chunk, then a chunk per token */
	wr(b, 1, 20, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nt0\n\n\r\n");
	wr(b, 1, 23, "4\r\nt1\n\n\r\n");
	wr(b, 1, 26, "4\r\nt2\n\n\r\n4\r\nt3\n\n\r\n");   /* two coalesced: gap 0 */
	wr(b, 1, 30, "0\r\n\r\n");
	assert_int_equal(b->s.n, 1);
	assert_int_equal(b->s.x[0].chunks, 4);
	assert_int_equal(b->s.x[0].first_chunk_ns, 20 * MS);
	assert_int_equal(b->s.x[0].ngaps, 3);
	assert_int_equal(b->s.gaps[0][2], 0);
	assert_int_equal(b->s.x[0].end_ns, 30 * MS);
	bed_free(b);
}

static void test_client_leaves_midstream(void **state)
{
	struct bed *b = bed_new();

	accept_(b, 1, 1);
	rd(b, 1, 10, "GET /stream HTTP/1.1\r\n\r\n");
	wr(b, 1, 12, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
	ev(b, 1, INFERLAT_SOCK_READ, 15, NULL, 0, 0);    /* EOF from the client */
	ev(b, 1, INFERLAT_SOCK_WRITE, 16, NULL, (size_t)-32, 0);  /* -EPIPE */
	cl(b, 1, 17);
	/* and one that closes with nothing answered */
	accept_(b, 2, 20);
	rd(b, 2, 21, "GET /slow HTTP/1.1\r\n\r\n");
	cl(b, 2, 25);
	assert_int_equal(b->s.n, 2);
	assert_true(b->s.x[0].aborted);
	assert_int_equal(b->s.x[0].status, 200);
	assert_int_equal(b->s.x[0].end_ns, 16 * MS);
	assert_true(b->s.x[1].aborted);
	assert_int_equal(b->s.x[1].status, 0);
	assert_int_equal(b->s.unparsed, 0);
	bed_free(b);
}

static void test_head_split_interim_and_head_request(void **state)
{
	struct bed *b = bed_new();
	const char *req = "PUT /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";

	accept_(b, 1, 1);
	for (size_t i = 0; i < strlen(req); i++)
		ev(b, 1, INFERLAT_SOCK_READ, 10 + i, req + i, 1, 1);
	wr(b, 1, 200, "HTTP/1.1 100 Continue\r\n\r\n");
	rd(b, 1, 210, "data");
	wr(b, 1, 220, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	rd(b, 1, 300, "HEAD /up HTTP/1.1\r\n\r\n");
	wr(b, 1, 301, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");   /* no body to HEAD */
	rd(b, 1, 310, "GET /after HTTP/1.1\r\n\r\n");
	wr(b, 1, 311, OK2);
	assert_int_equal(b->s.n, 3);
	assert_string_equal(b->s.x[0].route, "/up");
	assert_int_equal(b->s.x[0].start_ns, 10 * MS);
	assert_int_equal(b->s.x[0].status, 201);
	assert_int_equal(b->s.x[0].first_byte_ns, 200 * MS);
	assert_int_equal(b->s.x[0].end_ns, 220 * MS);
	assert_string_equal(b->s.x[1].method, "HEAD");
	assert_int_equal(b->s.x[1].end_ns, 301 * MS);
	assert_string_equal(b->s.x[2].route, "/after");
	bed_free(b);
}

static void test_captured_prefix_shorter_than_syscall(void **state)
{
	struct bed *b = bed_new();
	static char big[4096];
	const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n";

	/* a Content-Length body past the prefix: framed by count */
	accept_(b, 1, 1);
	rd(b, 1, 10, "GET /big HTTP/1.1\r\n\r\n");
	memset(big, 'a', sizeof(big));
	memcpy(big, h, strlen(h));
	ev(b, 1, INFERLAT_SOCK_WRITE, 12, big, strlen(h) + 3000, INFERLAT_SOCK_CAPTURE);
	rd(b, 1, 20, "GET /next HTTP/1.1\r\n\r\n");
	wr(b, 1, 21, OK2);
	assert_int_equal(b->s.n, 2);
	assert_int_equal(b->s.x[0].resp_bytes, strlen(h) + 3000);
	/* a chunk header past it: unparsed, not guessed */
	accept_(b, 2, 30);
	rd(b, 2, 31, "GET /s HTTP/1.1\r\n\r\n");
	memset(big, 'b', sizeof(big));
	h = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n";
	memcpy(big, h, strlen(h));
	memcpy(big + strlen(h) + 1000, "\r\n5\r\nhello\r\n", 12);
	ev(b, 2, INFERLAT_SOCK_WRITE, 32, big, strlen(h) + 1012, INFERLAT_SOCK_CAPTURE);
	assert_int_equal(b->s.unparsed, 1);
	assert_non_null(strstr(b->s.why, "prefix"));
	cl(b, 2, 40);
	assert_int_equal(b->s.n, 2);   /* the lost one is not counted */
	bed_free(b);
}

static void test_not_http1(void **state)
{
	struct bed *b = bed_new();

	accept_(b, 1, 1);
	ev(b, 1, INFERLAT_SOCK_READ, 2, "\x16\x03\x01\x02\x00\x01", 6, 6);   /* TLS */
	wr(b, 1, 3, "\x16\x03\x03");
	accept_(b, 2, 4);
	rd(b, 2, 5, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
	accept_(b, 3, 6);
	rd(b, 3, 7, "GARBAGE\r\n\r\n");
	assert_int_equal(b->s.unparsed, 3);
	assert_int_equal(b->s.n, 0);
	assert_int_equal(b->s.starts, 0);
	bed_free(b);
}

static void test_connection_older_than_tracer(void **state)
{
	struct bed *b = bed_new();

	assert_int_equal(http_framer_known(&b->f, INFERLAT_CONN_ID_KNOWN | 1, 42, 7, 8080), 0);
	/* the end of a response in progress, then a body, then a request */
	wr(b, INFERLAT_CONN_ID_KNOWN | 1, 1, "tail of a body");
	rd(b, INFERLAT_CONN_ID_KNOWN | 1, 2, "rest of a request body");
	rd(b, INFERLAT_CONN_ID_KNOWN | 1, 3, "GET /ok HTTP/1.1\r\n\r\n");
	wr(b, INFERLAT_CONN_ID_KNOWN | 1, 4, OK2);
	assert_int_equal(b->s.n, 1);
	assert_int_equal(b->s.unparsed, 0);
	assert_string_equal(b->s.x[0].route, "/ok");
	bed_free(b);
}

static void test_route_bytes_and_methods(void **state)
{
	struct bed *b = bed_new();

	accept_(b, 1, 1);
	rd(b, 1, 2, "BREW http://pot.example/a\"b\x01\xff?q HTTP/1.1\r\n\r\n");
	wr(b, 1, 3, OK2);
	assert_int_equal(b->s.n, 1);
	assert_string_equal(b->s.x[0].method, "_OTHER");
	assert_string_equal(b->s.x[0].route, "/a\"b%01%FF");
	bed_free(b);
}

static void test_aggregation_bounded_routes(void **state)
{
	struct http_agg a;
	struct http_sink sink;
	struct report r = { 0 };
	struct http_exchange x = { .pid = 5, .port = 80, .method = "GET", .status = 200 };
	uint64_t total = 0;

	assert_int_equal(http_agg_init(&a, 0), 0);
	http_agg_sink(&a, &sink);
	for (int i = 0; i < 1000; i++) {
		snprintf(x.route, sizeof(x.route), "/p/%d", i);
		x.conn_id = (uint64_t)i;
		x.start_ns = (uint64_t)i * MS + 1;
		x.end_ns = x.start_ns + 2 * MS;
		x.status = i % 10 ? 200 : 503;
		sink.start(sink.ctx, &x);
		sink.done(sink.ctx, &x);
	}
	assert_int_equal(http_agg_report(&a, 2.0, false, &r), 0);
	assert_int_equal(r.nhttp, HTTP_ROUTES_MAX + 1);
	for (size_t i = 0; i < r.nhttp; i++) {
		total += r.http[i].requests;
		if (!strcmp(r.http[i].route, HTTP_ROUTE_OTHER)) {
			assert_int_equal(r.http[i].requests, 1000 - HTTP_ROUTES_MAX);
			assert_int_equal(r.http[i].errors, r.http[i].status[503]);
		}
		assert_true(r.http[i].duration.p50 > 0.00199 && r.http[i].duration.p50 < 0.00201);
	}
	assert_int_equal(total, 1000);
	assert_int_equal(r.nhports, 1);
	assert_int_equal(r.hports[0].requests, 1000);
	/* time with a request in flight: 1000 requests of 2 ms starting 1 ms apart */
	assert_true(r.hports[0].busy_s > 1.0009 && r.hports[0].busy_s < 1.0011);
	report_free(&r);
	http_agg_free(&a);
}

static void test_runtime_share(void **state)
{
	struct http_agg a;
	struct http_sink sink;
	struct report r = { 0 };
	struct http_exchange x = { .pid = 5, .port = 80, .method = "POST", .status = 200 };

	assert_int_equal(http_agg_init(&a, 0), 0);
	http_agg_sink(&a, &sink);
	strcpy(x.route, "/completion");
	/* requests over [100, 300] ms and [200, 400] ms: busy 300 ms */
	x.start_ns = 100 * MS;
	x.end_ns = 300 * MS;
	sink.start(sink.ctx, &x);
	x.conn_id = 2;
	x.start_ns = 200 * MS;
	x.end_ns = 400 * MS;
	sink.start(sink.ctx, &x);
	x.conn_id = 0;
	x.start_ns = 100 * MS;
	x.end_ns = 300 * MS;
	sink.done(sink.ctx, &x);
	x.conn_id = 2;
	x.start_ns = 200 * MS;
	x.end_ns = 400 * MS;
	sink.done(sink.ctx, &x);
	/* decodes: 50-150 (50 inside), 250-280 (30), 390-500 (10) */
	assert_int_equal(http_agg_call(&a, "llama_decode", 5, 50 * MS, 150 * MS), 0);
	assert_int_equal(http_agg_call(&a, "llama_decode", 5, 250 * MS, 280 * MS), 0);
	assert_int_equal(http_agg_call(&a, "llama_decode", 5, 390 * MS, 500 * MS), 0);
	assert_int_equal(http_agg_report(&a, 1.0, false, &r), 0);
	assert_int_equal(r.nhports, 1);
	assert_true(r.hports[0].busy_s > 0.2999 && r.hports[0].busy_s < 0.3001);
	assert_true(r.hports[0].runtime_s > 0.0899 && r.hports[0].runtime_s < 0.0901);
	assert_string_equal(r.hports[0].runtime, "llama_decode");
	assert_int_equal(r.nhttp, 1);
	assert_true(r.http[0].in_flight_max == 2);
	/* mean in flight: 400 ms of request time over 1 s */
	assert_true(r.http[0].in_flight_mean > 0.3999 && r.http[0].in_flight_mean < 0.4001);
	report_free(&r);
	http_agg_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keepalive_and_content_length),
		cmocka_unit_test(test_pipelined_in_one_read),
		cmocka_unit_test(test_sse_over_chunks),
		cmocka_unit_test(test_ndjson_chunks_in_one_writev),
		cmocka_unit_test(test_client_leaves_midstream),
		cmocka_unit_test(test_head_split_interim_and_head_request),
		cmocka_unit_test(test_captured_prefix_shorter_than_syscall),
		cmocka_unit_test(test_not_http1),
		cmocka_unit_test(test_connection_older_than_tracer),
		cmocka_unit_test(test_route_bytes_and_methods),
		cmocka_unit_test(test_aggregation_bounded_routes),
		cmocka_unit_test(test_runtime_share),
	};

	return cmocka_run_group_tests_name("httpframe", tests, NULL, NULL);
}
