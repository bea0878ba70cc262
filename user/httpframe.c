// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "grow.h"
#include "httpframe.h"

enum body_mode { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_CLOSE };
enum chunk_state { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER };

#define LINE_MAX_BYTES 256

/* A message body being read past: only chunk-size lines and trailers need
 * their bytes; data and the CRLF after it are consumed by count, captured
 * or not. */
struct body {
	enum body_mode mode;
	enum chunk_state cs;
	uint64_t left;
	char line[LINE_MAX_BYTES];
	size_t linelen;
	bool ended;
	unsigned chunk_ends;   /* chunks whose data ended in the last feed */
};

struct http_req {
	struct http_exchange x;
	uint64_t seq;          /* its place on the connection */
	bool head_only;        /* HEAD: no response body */
};

enum rq_state { RQ_IDLE, RQ_HEAD, RQ_BODY, RQ_REST };
enum rs_state { RS_IDLE, RS_HEAD, RS_BODY };

struct http_conn {
	struct http_conn *next;
	uint64_t id;
	pid_t pid;
	int fd;
	uint16_t port;
	bool lost;             /* not framed any more (said once) */
	bool waiting;          /* open before inferlat: waiting for a request line */
	bool sse;              /* the response is an event stream */
	bool sse_nl;           /* its last data byte was a line end */
	/* requests */
	enum rq_state rq;
	struct http_req cur;   /* the request whose head is being read */
	struct body rqbody;
	uint64_t rq_seq;       /* of the request being read */
	char *head;            /* its head so far */
	size_t headlen;
	struct http_req q[HTTP_PIPELINE_MAX];   /* read, not yet answered: oldest first */
	size_t qfirst, qn;
	/* responses */
	enum rs_state rs;
	char *rhead;
	size_t rheadlen;
	struct body rsbody;
	uint64_t last_chunk_ns, last_write_ns;
	uint64_t *gaps;
	size_t ngaps, capgaps;
};

static size_t bucket_of(const struct http_framer *f, uint64_t id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & (f->nbuckets - 1);
}

int http_framer_init(struct http_framer *f, const struct http_sink *sink)
{
	memset(f, 0, sizeof(*f));
	f->sink = *sink;
	f->nbuckets = 1024;
	f->buckets = calloc(f->nbuckets, sizeof(*f->buckets));
	return f->buckets ? 0 : -ENOMEM;
}

static void conn_free(struct http_conn *c)
{
	free(c->head);
	free(c->rhead);
	free(c->gaps);
	free(c);
}

void http_framer_free(struct http_framer *f)
{
	for (size_t i = 0; f->buckets && i < f->nbuckets; i++) {
		struct http_conn *c = f->buckets[i], *n;

		for (; c; c = n) {
			n = c->next;
			conn_free(c);
		}
	}
	free(f->buckets);
	memset(f, 0, sizeof(*f));
}

static struct http_conn *conn_find(struct http_framer *f, uint64_t id)
{
	struct http_conn *c = f->buckets[bucket_of(f, id)];

	while (c && c->id != id)
		c = c->next;
	return c;
}

static struct http_conn *conn_new(struct http_framer *f, uint64_t id, pid_t pid, int fd, uint16_t port)
{
	struct http_conn *c = calloc(1, sizeof(*c));
	size_t b = bucket_of(f, id);

	if (!c)
		return NULL;
	c->head = malloc(HTTP_HEAD_MAX);
	c->rhead = malloc(HTTP_HEAD_MAX);
	if (!c->head || !c->rhead) {
		conn_free(c);
		return NULL;
	}
	c->id = id;
	c->pid = pid;
	c->fd = fd;
	c->port = port;
	c->next = f->buckets[b];
	f->buckets[b] = c;
	f->nconns++;
	return c;
}

static void conn_remove(struct http_framer *f, struct http_conn *c)
{
	struct http_conn **p = &f->buckets[bucket_of(f, c->id)];

	while (*p && *p != c)
		p = &(*p)->next;
	if (*p)
		*p = c->next;
	f->nconns--;
	conn_free(c);
}

static void lose(struct http_framer *f, struct http_conn *c, const char *why)
{
	if (c->lost)
		return;
	c->lost = true;
	if (f->sink.unparsed)
		f->sink.unparsed(f->sink.ctx, c->pid, c->port, why);
}

/* ---- the request line and headers ---- */

static const char *const methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
};

static bool is_tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* The method of a request line, or NULL when it is not one. */
static const char *method_of(const char *s, size_t n)
{
	if (!n || n > 32)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!is_tchar((unsigned char)s[i]))
			return NULL;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strlen(methods[i]) == n && !memcmp(methods[i], s, n))
			return methods[i];
	return "_OTHER";
}

/* The bytes begin with a whole request line: METHOD SP TARGET SP HTTP/1.x,
 * where a connection followed from the middle may be picked up. */
static bool looks_like_request(const uint8_t *p, size_t n)
{
	const uint8_t *eol = memchr(p, '\n', n), *sp1, *sp2;
	size_t len;

	if (!eol)
		return false;
	len = (size_t)(eol - p);
	if (len && p[len - 1] == '\r')
		len--;
	sp1 = memchr(p, ' ', len);
	if (!sp1 || !method_of((const char *)p, (size_t)(sp1 - p)))
		return false;
	sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - p));
	return sp2 && p + len - sp2 == 9 && !memcmp(sp2 + 1, "HTTP/1.", 7) && (sp2[8] == '0' || sp2[8] == '1');
}

/* The path of a request target, without query or fragment, bytes outside
 * printable ASCII percent-encoded: bounded and safe in any output. */
static void route_of(const char *t, size_t n, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	/* absolute form: http://host/path */
	if (n > 7 && (!strncasecmp(t, "http://", 7) || !strncasecmp(t, "https://", 8))) {
		const char *slash = memchr(t + 8, '/', n - 8);

		if (!slash) {
			strcpy(out, "/");
			return;
		}
		n -= (size_t)(slash - t);
		t = slash;
	}
	for (size_t i = 0; i < n && i < HTTP_ROUTE_MAX; i++) {
		unsigned char ch = (unsigned char)t[i];

		if (ch == '?' || ch == '#')
			break;
		if (ch > 0x20 && ch < 0x7f) {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = 0;
}

/* A header's value if line (without its line end) is that header. */
static const char *header_value(const char *line, size_t n, const char *name, size_t *vlen)
{
	size_t k = strlen(name);
	const char *v, *end = line + n;

	if (n <= k || strncasecmp(line, name, k) || line[k] != ':')
		return NULL;
	v = line + k + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*vlen = (size_t)(end - v);
	return v;
}

struct head_info {
	bool chunked, has_length, bad_length, sse;
	uint64_t length;
};

/* Walk the header lines of a head (after its first line). */
static void parse_headers(const char *h, size_t n, struct head_info *hi)
{
	const char *p = memchr(h, '\n', n), *end = h + n;

	memset(hi, 0, sizeof(*hi));
	while (p && ++p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *v;
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p), vlen;

		if (len && p[len - 1] == '\r')
			len--;
		if (!len)
			break;
		if ((v = header_value(p, len, "content-length", &vlen))) {
			uint64_t x = 0;

			hi->has_length = true;
			if (!vlen || vlen > 19)
				hi->bad_length = true;
			for (size_t i = 0; i < vlen && !hi->bad_length; i++) {
				if (v[i] < '0' || v[i] > '9')
					hi->bad_length = true;
				x = x * 10 + (uint64_t)(v[i] - '0');
			}
			hi->length = x;
		} else if ((v = header_value(p, len, "transfer-encoding", &vlen))) {
			/* chunked is the last coding when present */
			hi->chunked = vlen >= 7 && !strncasecmp(v + vlen - 7, "chunked", 7);
		} else if ((v = header_value(p, len, "content-type", &vlen))) {
			hi->sse = vlen >= 17 && !strncasecmp(v, "text/event-stream", 17);
		}
		p = nl;
	}
}

/* The end of a head (the byte after its empty line) in buf[0, n), scanning
 * from 'from', or 0 when it is not there yet. */
static size_t head_end(const char *buf, size_t n, size_t from)
{
	for (size_t i = from > 3 ? from - 3 : 0; i < n; i++) {
		if (buf[i] != '\n')
			continue;
		if (i >= 1 && buf[i - 1] == '\n')
			return i + 1;
		if (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n')
			return i + 1;
	}
	return 0;
}

/* ---- bodies ---- */

static void body_start(struct body *b, enum body_mode mode, uint64_t length)
{
	memset(b, 0, sizeof(*b));
	b->mode = mode;
	b->left = length;
	b->ended = mode == BODY_NONE || (mode == BODY_LENGTH && length == 0);
}

/* Take a line of a chunked body; true once it is complete. */
static int chunk_line(struct body *b, const uint8_t *p, size_t n, size_t *used)
{
	size_t i = 0;

	while (i < n) {
		char ch = (char)p[i++];

		if (ch == '\n') {
			*used = i;
			if (b->linelen && b->line[b->linelen - 1] == '\r')
				b->linelen--;
			b->line[b->linelen] = 0;
			return 1;
		}
		if (b->linelen >= sizeof(b->line) - 1)
			return -EPROTO;
		b->line[b->linelen++] = ch;
	}
	*used = i;
	return 0;
}

/* Consume body bytes (p: NULL past the captured prefix): how many were
 * consumed (up to the body's end), or -EPROTO where the framing cannot be
 * followed. data_bytes gets the body's data bytes consumed, and data is
 * called with the captured ones. */
static long body_feed(struct body *b, const uint8_t *p, size_t n, uint64_t *data_bytes,
		      void (*data)(void *ctx, const uint8_t *p, size_t n), void *ctx)
{
	size_t i = 0;

	b->chunk_ends = 0;
	if (b->mode == BODY_CLOSE) {
		if (data && p)
			data(ctx, p, n);
		*data_bytes += n;
		return (long)n;
	}
	while (i < n && !b->ended) {
		size_t used = 0, k;
		int r;

		switch (b->mode == BODY_LENGTH ? CH_DATA : b->cs) {
		case CH_DATA:
			k = n - i < b->left ? n - i : (size_t)b->left;
			if (data && p)
				data(ctx, p + i, k);
			*data_bytes += k;
			b->left -= k;
			i += k;
			if (b->left)
				break;
			if (b->mode == BODY_LENGTH) {
				b->ended = true;
				break;
			}
			b->chunk_ends++;
			b->cs = CH_DATA_END;
			b->left = 2;   /* the CRLF after the data */
			break;
		case CH_DATA_END:
			k = n - i < b->left ? n - i : (size_t)b->left;
			b->left -= k;
			i += k;
			if (!b->left) {
				b->cs = CH_SIZE;
				b->linelen = 0;
			}
			break;
		case CH_SIZE:
		case CH_TRAILER:
			if (!p)
				return -EPROTO;
			r = chunk_line(b, p + i, n - i, &used);
			if (r < 0)
				return r;
			i += used;
			if (!r)
				break;
			b->linelen = 0;
			if (b->cs == CH_TRAILER) {
				if (!b->line[0])
					b->ended = true;
				break;
			}
			{
				char *end;
				unsigned long long size;

				if (!isxdigit((unsigned char)b->line[0]))
					return -EPROTO;
				size = strtoull(b->line, &end, 16);
				if (*end && *end != ';' && *end != ' ' && *end != '\t')
					return -EPROTO;
				if (!size) {
					b->cs = CH_TRAILER;
				} else {
					b->cs = CH_DATA;
					b->left = size;
				}
			}
			break;
		}
	}
	return (long)i;
}

/* ---- responses ---- */

static struct http_req *oldest(struct http_conn *c)
{
	return c->qn ? &c->q[c->qfirst] : NULL;
}

static void chunk_seen(struct http_conn *c, struct http_req *r, uint64_t ts)
{
	if (!r->x.chunks) {
		r->x.first_chunk_ns = ts;
	} else {
		if (GROW(c->gaps, c->ngaps, c->capgaps, 64))
			return;   /* the gap is lost, the chunk is counted */
		c->gaps[c->ngaps++] = ts - c->last_chunk_ns;
	}
	c->last_chunk_ns = ts;
	r->x.chunks++;
}

static void pop_done(struct http_framer *f, struct http_conn *c, uint64_t end_ns, bool aborted)
{
	struct http_req *r = oldest(c);

	r->x.end_ns = end_ns;
	r->x.aborted = aborted;
	r->x.gaps_ns = c->gaps;
	r->x.ngaps = c->ngaps;
	if (f->sink.done)
		f->sink.done(f->sink.ctx, &r->x);
	c->ngaps = 0;
	c->qfirst = (c->qfirst + 1) % HTTP_PIPELINE_MAX;
	c->qn--;
	c->rs = RS_IDLE;
	c->sse = c->sse_nl = false;
}

struct sse_scan {
	struct http_conn *c;
	unsigned events;
};

/* SSE: an event ends at an empty line */
static void sse_data(void *ctx, const uint8_t *p, size_t n)
{
	struct sse_scan *s = ctx;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r')
			continue;
		if (p[i] == '\n') {
			if (s->c->sse_nl) {
				s->events++;
				s->c->sse_nl = false;
			} else {
				s->c->sse_nl = true;
			}
		} else {
			s->c->sse_nl = false;
		}
	}
}

/* A response head is complete: 1 when more heads follow for the same request
 * (1xx), 0, or -EPROTO. */
static int response_head(struct http_framer *f, struct http_conn *c, struct http_req *r, uint64_t ts)
{
	const char *h = c->rhead;
	struct head_info hi;
	int status;

	if (c->rheadlen < 12 || strncmp(h, "HTTP/1.", 7) || (h[7] != '0' && h[7] != '1') || h[8] != ' ' ||
	    h[9] < '1' || h[9] > '5' || h[10] < '0' || h[10] > '9' || h[11] < '0' || h[11] > '9')
		return -EPROTO;
	status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
	if (status >= 100 && status < 200 && status != 101)
		return 1;
	r->x.status = status;
	parse_headers(h, c->rheadlen, &hi);
	if (status == 101) {
		/* another protocol from here on: the exchange ends with its head */
		body_start(&c->rsbody, BODY_NONE, 0);
		return 0;
	}
	if (hi.bad_length)
		return -EPROTO;
	c->sse = hi.sse;
	c->sse_nl = false;
	if (r->head_only || status == 204 || status == 304)
		body_start(&c->rsbody, BODY_NONE, 0);
	else if (hi.chunked)
		body_start(&c->rsbody, BODY_CHUNKED, 0);
	else if (hi.has_length)
		body_start(&c->rsbody, BODY_LENGTH, hi.length);
	else
		body_start(&c->rsbody, BODY_CLOSE, 0);
	return 0;
}

static void feed_write(struct http_framer *f, struct http_conn *c, const uint8_t *data, size_t cap,
		       size_t total, uint64_t ts)
{
	size_t pos = 0;

	c->last_write_ns = ts;
	while (pos < total && !c->lost) {
		struct http_req *r = oldest(c);
		const uint8_t *p = pos < cap ? data + pos : NULL;
		size_t n = pos < cap ? cap - pos : total - pos;

		if (!r) {
			if (c->waiting)
				return;   /* the answer to a request from before inferlat */
			lose(f, c, "a response to no request read");
			return;
		}
		switch (c->rs) {
		case RS_IDLE:
			if (!r->x.first_byte_ns)
				r->x.first_byte_ns = ts;
			/* a request whose head was too long ends where its answer begins */
			if (c->rq == RQ_REST && c->qn == 1)
				c->rq = RQ_IDLE;
			c->rs = RS_HEAD;
			c->rheadlen = 0;
			break;
		case RS_HEAD: {
			size_t room = HTTP_HEAD_MAX - c->rheadlen, take, end;
			int r2;

			if (!p) {
				lose(f, c, "a response head past the captured prefix");
				return;
			}
			take = n < room ? n : room;
			memcpy(c->rhead + c->rheadlen, p, take);
			end = head_end(c->rhead, c->rheadlen + take, c->rheadlen);
			if (!end) {
				c->rheadlen += take;
				r->x.resp_bytes += take;
				pos += take;
				if (c->rheadlen == HTTP_HEAD_MAX)
					lose(f, c, "a response head over 16 KiB");
				break;
			}
			take = end - c->rheadlen;
			c->rheadlen = end;
			r->x.resp_bytes += take;
			pos += take;
			r2 = response_head(f, c, r, ts);
			if (r2 < 0) {
				lose(f, c, "a response that is not HTTP/1.x");
				return;
			}
			if (r2 > 0) {
				c->rheadlen = 0;   /* the next head, same request */
				break;
			}
			c->rs = RS_BODY;
			if (c->rsbody.ended) {
				bool upgraded = r->x.status == 101;

				pop_done(f, c, ts, false);
				if (upgraded)
					lose(f, c, NULL);
			}
			break;
		}
		case RS_BODY: {
			struct sse_scan s = { c, 0 };
			uint64_t body = 0;
			long used = body_feed(&c->rsbody, p, n, &body, c->sse ? sse_data : NULL, &s);

			if (used < 0) {
				lose(f, c, "a chunk header past the captured prefix");
				return;
			}
			r->x.resp_bytes += (uint64_t)used;
			pos += (size_t)used;
			if (c->sse) {
				for (unsigned i = 0; i < s.events; i++)
					chunk_seen(c, r, ts);
			} else if (c->rsbody.mode == BODY_CHUNKED) {
				for (unsigned i = 0; i < c->rsbody.chunk_ends; i++)
					chunk_seen(c, r, ts);
			} else if (body) {
				/* a body not in chunks: each write of it is one */
				chunk_seen(c, r, ts);
			}
			if (c->rsbody.ended)
				pop_done(f, c, ts, false);
			break;
		}
		}
	}
}

/* ---- requests ---- */

static struct http_req *newest(struct http_conn *c)
{
	return c->qn ? &c->q[(c->qfirst + c->qn - 1) % HTTP_PIPELINE_MAX] : NULL;
}

/* The request being read, if it is still waiting (an early answer may
 * have gone with it). */
static struct http_req *reading(struct http_conn *c)
{
	struct http_req *r = newest(c);

	return r && r->seq == c->rq_seq ? r : NULL;
}

/* A request's head is complete in c->head[0, n): into the queue. */
static int request_head(struct http_framer *f, struct http_conn *c, size_t n, bool cut)
{
	const char *h = c->head, *sp1, *sp2, *eol;
	struct http_req *r = &c->cur;
	struct head_info hi;
	size_t linelen;

	eol = memchr(h, '\n', n);
	if (!eol)
		return -EPROTO;
	linelen = (size_t)(eol - h);
	if (linelen && h[linelen - 1] == '\r')
		linelen--;
	sp1 = memchr(h, ' ', linelen);
	if (!sp1)
		return -EPROTO;
	sp2 = memchr(sp1 + 1, ' ', linelen - (size_t)(sp1 + 1 - h));
	if (!sp2 || h + linelen - sp2 != 9 || strncmp(sp2 + 1, "HTTP/1.", 7) ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return -EPROTO;
	r->x.method = method_of(h, (size_t)(sp1 - h));
	if (!r->x.method || sp2 == sp1 + 1)
		return -EPROTO;
	route_of(sp1 + 1, (size_t)(sp2 - sp1 - 1), r->x.route);
	r->head_only = r->x.method == methods[1];
	r->seq = ++c->rq_seq;
	if (c->qn == HTTP_PIPELINE_MAX)
		return -ENOSPC;
	c->q[(c->qfirst + c->qn) % HTTP_PIPELINE_MAX] = *r;
	c->qn++;
	if (f->sink.start)
		f->sink.start(f->sink.ctx, &r->x);
	if (cut) {
		c->rq = RQ_REST;
		return 0;
	}
	parse_headers(h, n, &hi);
	if (hi.bad_length) {
		/* the server will refuse it; what follows is not framed */
		c->rq = RQ_REST;
		return 0;
	}
	if (hi.chunked)
		body_start(&c->rqbody, BODY_CHUNKED, 0);
	else
		body_start(&c->rqbody, hi.has_length ? BODY_LENGTH : BODY_NONE, hi.length);
	c->rq = c->rqbody.ended ? RQ_IDLE : RQ_BODY;
	return 0;
}

static void feed_read(struct http_framer *f, struct http_conn *c, const uint8_t *data, size_t cap,
		      size_t total, uint64_t ts)
{
	size_t pos = 0;

	if (c->waiting) {
		if (!looks_like_request(data, cap))
			return;
		c->waiting = false;
	}
	while (pos < total && !c->lost) {
		const uint8_t *p = pos < cap ? data + pos : NULL;
		size_t n = pos < cap ? cap - pos : total - pos;
		struct http_req *r;

		switch (c->rq) {
		case RQ_IDLE:
			/* empty lines before a request are allowed */
			if (p && (*p == '\r' || *p == '\n')) {
				pos++;
				break;
			}
			memset(&c->cur, 0, sizeof(c->cur));
			c->cur.x.pid = c->pid;
			c->cur.x.port = c->port;
			c->cur.x.conn_id = c->id;
			c->cur.x.start_ns = ts;
			c->headlen = 0;
			c->rq = RQ_HEAD;
			break;
		case RQ_HEAD: {
			size_t room = HTTP_HEAD_MAX - c->headlen, take, end;
			int err;

			if (!p || !room) {
				/* the rest of the head is not seen: frame the request from its
				 * line if that much is here, and read past the rest */
				err = request_head(f, c, c->headlen, true);
				if (err) {
					lose(f, c, err == -ENOSPC ? "over 32 requests pipelined"
								  : "a request line past the captured prefix");
					return;
				}
				break;
			}
			take = n < room ? n : room;
			memcpy(c->head + c->headlen, p, take);
			end = head_end(c->head, c->headlen + take, c->headlen);
			if (!end) {
				c->headlen += take;
				c->cur.x.req_bytes += take;
				pos += take;
				break;
			}
			take = end - c->headlen;
			c->cur.x.req_bytes += take;
			pos += take;
			err = request_head(f, c, end, false);
			if (err) {
				lose(f, c, err == -ENOSPC ? "over 32 requests pipelined" : "a request that is not HTTP/1.x");
				return;
			}
			break;
		}
		case RQ_BODY: {
			uint64_t body = 0;
			long used = body_feed(&c->rqbody, p, n, &body, NULL, NULL);

			if (used < 0) {
				lose(f, c, "a request chunk header past the captured prefix");
				return;
			}
			pos += (size_t)used;
			if ((r = reading(c)))
				r->x.req_bytes += (uint64_t)used;
			if (c->rqbody.ended)
				c->rq = RQ_IDLE;
			break;
		}
		case RQ_REST:
			if ((r = reading(c)))
				r->x.req_bytes += n;
			pos += n;
			break;
		}
	}
}

/* ---- connections ---- */

/* The connection ended (closed by the server, or a write failed): what it
 * had not answered is aborted. */
static void conn_end(struct http_framer *f, struct http_conn *c, uint64_t ts)
{
	if (!c->lost) {
		/* a close-delimited body ends with the connection */
		if (c->qn && c->rs == RS_BODY && c->rsbody.mode == BODY_CLOSE)
			pop_done(f, c, c->last_write_ns, false);
		while (c->qn)
			pop_done(f, c, ts, true);
	}
	conn_remove(f, c);
}

int http_framer_known(struct http_framer *f, uint64_t conn_id, pid_t pid, int fd, uint16_t port)
{
	struct http_conn *c = conn_find(f, conn_id);

	if (!c && !(c = conn_new(f, conn_id, pid, fd, port)))
		return -ENOMEM;
	c->waiting = true;
	return 0;
}

int http_framer_add(struct http_framer *f, const struct sock_event *e, size_t size)
{
	size_t hdr = sizeof(*e) - INFERLAT_SOCK_CAPTURE, cap;
	struct http_conn *c;

	if (size < hdr)
		return 0;
	cap = e->captured;
	if (cap > INFERLAT_SOCK_CAPTURE || cap > size - hdr)
		cap = size - hdr < INFERLAT_SOCK_CAPTURE ? size - hdr : INFERLAT_SOCK_CAPTURE;
	f->events++;
	c = conn_find(f, e->conn_id);
	if (e->op == INFERLAT_SOCK_ACCEPT) {
		if (c)   /* ids are unique: only a replayed event */
			return 0;
		return conn_new(f, e->conn_id, (pid_t)e->pid, e->fd, e->port) ? 0 : -ENOMEM;
	}
	if (!c) {
		/* its accept was not delivered (ring buffer full): follow it from
		 * its next request line */
		f->unknown_conn++;
		if (e->op == INFERLAT_SOCK_CLOSE)
			return 0;
		if (http_framer_known(f, e->conn_id, (pid_t)e->pid, e->fd, e->port))
			return -ENOMEM;
		c = conn_find(f, e->conn_id);
	}
	switch (e->op) {
	case INFERLAT_SOCK_READ:
		if (e->ret > 0 && !c->lost)
			feed_read(f, c, e->data, cap, (size_t)e->ret, e->ts_ns);
		break;
	case INFERLAT_SOCK_WRITE:
		if (e->ret > 0 && !c->lost)
			feed_write(f, c, e->data, cap, (size_t)e->ret, e->ts_ns);
		else if (e->ret < 0 && !c->lost) {
			/* EPIPE, ECONNRESET: the client is gone */
			while (c->qn)
				pop_done(f, c, e->ts_ns, true);
			c->lost = true;
		}
		break;
	case INFERLAT_SOCK_CLOSE:
		conn_end(f, c, e->ts_ns);
		break;
	}
	return 0;
}
