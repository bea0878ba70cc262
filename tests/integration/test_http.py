# SPDX-License-Identifier: GPL-2.0
"""The request layer (--http): HTTP/1.1 requests framed from the server's own
socket syscalls, against clients that keep their own clocks: the
node-llama-cpp streaming server of the serving bed under its load generator,
a Python http.server around PyTorch, and a raw-socket client for what real
clients do to servers (pipelining, disconnecting mid-stream, tiny reads,
connections older than inferlat, many at once, hostile input)."""
import json
import os
import socket
import subprocess
import sys
import threading
import time

import promstack
from test_prometheus import HTTP_ONLY, exported_names
from harness import INFERLAT, Inferlat, TestFailure, check, exact_quantile, second_attempt
from test_servebed import PY, SRC_FIXTURES, BedServer, loadgen, make_model

HTTP_SERVER = os.path.join(SRC_FIXTURES, "http-server.py")
CLIENT_FIRST = ("nice", "-n", "-10")


def http_records(il, final=True):
    return [r for r in il.all_records() if r.get("type") == "http" and r["final"] == final]


def port_records(il, final=True):
    return [r for r in il.all_records() if r.get("type") == "http_port" and r["final"] == final]


def within(name, got_s, want_ns, rel, floor_ms):
    want = want_ns / 1e9
    tol = max(rel * want, floor_ms / 1e3)
    check(abs(got_s - want) <= tol, "%s: inferlat %.3f ms, the clients %.3f ms (allowed %.3f ms)"
          % (name, got_s * 1e3, want * 1e3, tol * 1e3))
    return "%s %.2f/%.2f ms" % (name, got_s * 1e3, want * 1e3)


@second_attempt
def test_http_llama_server_two_clients(wd):
    """node-llama-cpp's streaming server, 2 clients, 40 requests and 5
    malformed ones: status counts exact; time to first chunk, duration and
    inter-chunk time against the clients' clocks; the runtime's share of the
    request time from llama_decode. The server is warmed first (a cold one
    leaves a request in its socket for 10 ms while compiling: time before the
    server's first read, which no syscall of the server shows), then traced
    with -p."""
    srv = BedServer(wd, make_model(wd), sequences=2, threads=1, max_tokens=16, name="http2")
    try:
        loadgen(wd, srv.port, 2, 2, 1, name="lg-warm")
        il = Inferlat(wd, "-p", srv.pid, "-r", "llama.cpp", "--http", "-i", "1")
        il.wait_ready(60)
        # the clients' clocks are the truth: on 2 CPUs shared with the
        # decode threads, they are read on time only ahead of them
        recs, _ = loadgen(wd, srv.port, 2, 20, 5, name="lg-http2", prefix=CLIENT_FIRST)
        time.sleep(0.3)
        rc = il.stop()
    finally:
        srv.stop()
        srv.kill()
    check(rc == 0, "inferlat exited %d: %s" % (rc, il.stderr()[-2000:]))
    finals = http_records(il)
    check(len(finals) == 1, "final http records: %s" % finals)
    h = finals[0]
    good = [r for r in recs if not r["bad"]]
    check(h["method"] == "POST" and h["route"] == "/completion" and h["port"] == srv.port and h["pid"] == srv.pid,
          "record %s" % {k: h[k] for k in ("pid", "port", "method", "route")})
    want_status = {}
    for r in recs:
        want_status[str(r["status"])] = want_status.get(str(r["status"]), 0) + 1
    check(h["status"] == want_status and h["requests"] == len(recs) and h["aborted"] == 0 and h["errors"] == 0,
          "status %s (%d requests, %d aborted), the clients got %s"
          % (h["status"], h["requests"], h["aborted"], want_status))
    # the windows add up to the run
    wins = http_records(il, final=False)
    wsum = {}
    for w in wins:
        for k, v in w["status"].items():
            wsum[k] = wsum.get(k, 0) + v
    check(sum(w["requests"] for w in wins) == h["requests"] and wsum == h["status"],
          "windows: %d requests %s; the run: %d %s" % (sum(w["requests"] for w in wins), wsum, h["requests"],
                                                        h["status"]))
    notes = []
    ttft = [r["first_token_ns"] - r["sent_ns"] for r in good if r["first_token_ns"] is not None]
    # the bad requests' one body write is their first chunk too
    bad_first = [r["chunk_ns"][0] - r["sent_ns"] for r in recs if r["bad"]]
    fc = h["first_chunk_s"]
    # the record holds the good and the bad requests: compare over all of them
    all_first = sorted(ttft + bad_first)
    for q, k in ((0.5, "p50"), (0.99, "p99")):
        notes.append(within("first chunk " + k, fc[k], exact_quantile(all_first, q), 0.10, 1.0))
    dur = sorted(r["end_ns"] - r["sent_ns"] for r in recs)
    notes.append(within("duration p50", h["duration_s"]["p50"], exact_quantile(dur, 0.5), 0.05, 1.0))
    gaps = [b - a for r in good for a, b in zip(r["chunk_ns"], r["chunk_ns"][1:])]
    notes.append(within("inter-chunk mean", h["inter_chunk_s"]["mean"], sum(gaps) / len(gaps), 0.10, 0.0))
    tgaps = [b - a for r in good for a, b in zip(r["token_ns"], r["token_ns"][1:])]
    notes.append(within("inter-chunk vs inter-token mean", h["inter_chunk_s"]["mean"], sum(tgaps) / len(tgaps),
                        0.10, 0.0))
    check(h["chunks"] == sum(r["tokens"] + 1 for r in good) + len(recs) - len(good),
          "chunks %d, the clients got %d tokens + %d final lines + %d error bodies"
          % (h["chunks"], sum(r["tokens"] for r in good), len(good), len(recs) - len(good)))
    check(h["in_flight"]["max"] <= 2, "in flight %s with 2 clients" % h["in_flight"])
    p = port_records(il)
    check(len(p) == 1 and p[0]["unparsed"] == 0 and p[0]["requests"] == len(recs) and p[0]["events_lost"] == 0
          and p[0]["connections_not_followed"] == 0, "http_port %s" % p)
    rt = p[0].get("runtime")
    check(rt and rt["probe"].endswith("llama_decode") and 0 < rt["share"] <= 1,
          "runtime share %s" % rt)
    # the truth of the join: the clients' request intervals (a little longer
    # than the server's) against the decode shim's own clock of every decode
    busy = union([(r["sent_ns"], r["end_ns"]) for r in recs])
    decodes = union([(d["start_ns"], d["end_ns"]) for d in srv.decodes()])
    want_busy = total(busy) / 1e9
    want_share = overlap(busy, decodes) / 1e9 / want_busy
    check(p[0]["busy_s"] <= want_busy * 1.001 and abs(p[0]["busy_s"] - want_busy) <= 0.05 * want_busy,
          "busy %.3f s, the clients had requests in flight %.3f s" % (p[0]["busy_s"], want_busy))
    check(abs(rt["share"] - want_share) <= 0.05, "llama_decode share %.3f, from the shim's decodes %.3f"
          % (rt["share"], want_share))
    notes.append("llama_decode share %.3f (shim %.3f)" % (rt["share"], want_share))
    # in flight: its mean over the run is the requests' time over the run
    want_inflight = sum(r["end_ns"] - r["sent_ns"] for r in recs) / 1e9 / h["window_s"]
    check(abs(h["in_flight"]["mean"] - want_inflight) <= 0.05 * want_inflight,
          "in flight mean %.4f, the clients' %.4f" % (h["in_flight"]["mean"], want_inflight))
    # node writes the head with the first token: first byte and first chunk are one write
    check(h["first_byte_s"]["p50"] == h["first_chunk_s"]["p50"], "first byte %s, first chunk %s"
          % (h["first_byte_s"], h["first_chunk_s"]))
    return "; ".join(notes)


def union(iv):
    out = []
    for s, e in sorted(iv):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


def total(iv):
    return sum(e - s for s, e in iv)


def overlap(a, b):
    t, i, j = 0, 0, 0
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        t += max(0, e - s)
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return t


class PyServer:
    """tests/fixtures/http-server.py on Debian's python3 with PyTorch."""

    def __init__(self, wd):
        self.err_path = wd.file("pyserver.err")
        self.proc = subprocess.Popen([PY, HTTP_SERVER], stdout=subprocess.PIPE, stderr=open(self.err_path, "w"),
                                     text=True)
        line = self.proc.stdout.readline().split()
        if len(line) != 3 or line[0] != "ready":
            with open(self.err_path) as f:
                raise TestFailure("http-server.py did not start: %r %s" % (line, f.read()[-2000:]))
        self.pid, self.port = int(line[1]), int(line[2])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def traced_py(wd, *extra):
    """The Python server and inferlat --http alone on it, attached."""
    srv = PyServer(wd)
    il = Inferlat(wd, "-p", srv.pid, "--http", "-i", "1", *extra)
    try:
        il.wait_ready()
    except Exception:
        srv.stop()
        il.kill()
        raise
    return srv, il


def finish(srv, il):
    """inferlat stops once the server is gone (its -p target exited)."""
    time.sleep(0.3)   # the last events' ring buffer read
    rc = il.stop()
    srv.stop()
    check(rc == 0, "inferlat exited %d: %s" % (rc, il.stderr()[-2000:]))


def now_ns():
    return time.monotonic_ns()   # CLOCK_MONOTONIC: bpf_ktime_get_ns's clock


def read_response(sock):
    """One HTTP/1.1 response off a raw socket: (status, body bytes, time of
    its last byte). Content-Length and chunked bodies."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        check(d, "connection closed before a response head")
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdr = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
    if "content-length" in hdr:
        n = int(hdr["content-length"])
        while len(rest) < n:
            rest += sock.recv(65536)
        return status, rest[:n], now_ns(), rest[n:]
    check(hdr.get("transfer-encoding") == "chunked", "neither length nor chunks: %s" % hdr)
    while not rest.endswith(b"0\r\n\r\n"):
        rest += sock.recv(65536)
    return status, rest, now_ns(), b""


@second_attempt
def test_http_python_torch_server(wd):
    """inferlat --http alone on a Python http.server around PyTorch: 30
    requests on one keep-alive connection and 30 on a connection each;
    counts exact, duration p50 and p99 against the client's clocks."""
    import http.client
    srv, il = traced_py(wd)
    durs = []
    os.nice(-10)   # the client's clock read on time (the server has the other CPU)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port)
        conn.connect()   # the connect is no part of a request the server sees
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(30):
            body = json.dumps({"n": 20 + i})
            t0 = now_ns()
            conn.request("POST", "/infer?x=%d" % i, body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            durs.append(now_ns() - t0)
            check(r.status == 200, "status %d" % r.status)
        conn.close()
        for i in range(30):
            c = socket.create_connection(("127.0.0.1", srv.port))
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            body = json.dumps({"n": 20 + i}).encode()
            req = b"POST /infer HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (
                len(body), body)
            t0 = now_ns()
            c.sendall(req)
            status, _, t1, _ = read_response(c)
            durs.append(t1 - t0)
            c.close()
            check(status == 200, "status %d" % status)
    finally:
        os.nice(10)
        finish(srv, il)
    h = http_records(il)
    check(len(h) == 1 and h[0]["route"] == "/infer" and h[0]["method"] == "POST", "records %s" % h)
    h = h[0]
    check(h["requests"] == 60 and h["status"] == {"200": 60} and h["errors"] == 0,
          "%d requests %s; the client made 60, all 200" % (h["requests"], h["status"]))
    # the server's time of each request lies inside its client's: every
    # order statistic at or below the client's (1% for the histogram), the
    # tail further from it by the client's own scheduling on 2 shared CPUs
    notes = []
    for q, k, rel, floor in ((0.5, "p50", 0.10, 1.0), (0.9, "p90", 0.10, 1.0), (0.99, "p99", 0.25, 2.0)):
        want = exact_quantile(sorted(durs), q)
        check(h["duration_s"][k] <= want / 1e9 * 1.01, "duration %s %.3f ms above the client's %.3f ms"
              % (k, h["duration_s"][k] * 1e3, want / 1e6))
        notes.append(within("duration " + k, h["duration_s"][k], want, rel, floor))
    # Content-Length bodies: one chunk per request (the body's one write)
    check(h["chunks"] == 60 and "inter_chunk_s" not in h, "chunks %d" % h["chunks"])
    p = port_records(il)
    check(p and p[0]["unparsed"] == 0, "http_port %s" % p)
    return "; ".join(notes)


def test_http_pipelined_split_and_open_before(wd):
    """Pipelined requests on one connection; a request written a byte at a
    time (one read each); a connection opened before inferlat started."""
    early = PyServer(wd)
    old = socket.create_connection(("127.0.0.1", early.port))
    old.sendall(b"GET /ok/before HTTP/1.1\r\nHost: x\r\n\r\n")
    check(read_response(old)[0] == 200, "before inferlat")
    il = Inferlat(wd, "-p", early.pid, "--http", "-i", "1")
    srv = early
    try:
        il.wait_ready()
        for _ in range(3):
            old.sendall(b"GET /ok/old HTTP/1.1\r\nHost: x\r\n\r\n")
            check(read_response(old)[0] == 200, "on the old connection")
        old.close()
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(b"".join(b"GET /ok/pipe%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(5)))
        rest = b""
        for i in range(5):
            s2 = _Buffered(s, rest)
            status, _, _, rest = read_response(s2)
            check(status == 200, "pipelined %d: %d" % (i, status))
        s.close()
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for ch in b"GET /ok/split?q=1 HTTP/1.1\r\nHost: x\r\nX-Pad: abcdefgh\r\n\r\n":
            s.send(bytes([ch]))
            time.sleep(0.002)
        check(read_response(s)[0] == 200, "split")
        s.close()
    finally:
        old.close()
        finish(srv, il)
    got = {r["route"]: r for r in http_records(il)}
    want = {"/ok/old": 3, "/ok/split": 1}
    want.update({"/ok/pipe%d" % i: 1 for i in range(5)})
    check({k: v["requests"] for k, v in got.items()} == want and
          all(v["status"] == {"200": v["requests"]} for v in got.values()),
          "routes %s, want %s" % ({k: (v["requests"], v["status"]) for k, v in got.items()}, want))
    split = b"GET /ok/split?q=1 HTTP/1.1\r\nHost: x\r\nX-Pad: abcdefgh\r\n\r\n"
    check(got["/ok/split"]["request_bytes"] == len(split), "request bytes %d, the client sent %d"
          % (got["/ok/split"]["request_bytes"], len(split)))
    p = port_records(il)
    check(p and p[0]["unparsed"] == 0, "http_port %s" % p)


class _Buffered:
    """A socket with bytes already read in front of it."""

    def __init__(self, sock, pending):
        self.sock, self.pending = sock, pending

    def recv(self, n):
        if self.pending:
            d, self.pending = self.pending, b""
            return d
        return self.sock.recv(n)


def test_http_disconnect_midstream_and_many_connections(wd):
    """A client that leaves an event stream after 3 events is aborted, not a
    200; a complete stream has its events as chunks, their gaps against the
    client's; 200 connections at once are all counted."""
    srv, il = traced_py(wd)
    try:
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(b"GET /stream?n=200&gap_ms=10 HTTP/1.1\r\nHost: x\r\n\r\n")
        got = b""
        while got.count(b"data:") < 3:
            got += s.recv(4096)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()   # RST: the server's next writes fail
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(b"GET /stream?n=20&gap_ms=15 HTTP/1.1\r\nHost: x\r\n\r\n")
        t0, times, buf = now_ns(), [], b""
        while not buf.endswith(b"0\r\n\r\n"):
            d = s.recv(4096)
            check(d, "stream closed early")
            buf += d
            times += [now_ns()] * d.count(b"data:")
        s.close()
        socks = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(200)]
        for c in socks:
            c.sendall(b"GET /slow?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n")
        for c in socks:
            check(read_response(c)[0] == 200, "one of 200")
            c.close()
    finally:
        finish(srv, il)
    got = {r["route"]: r for r in http_records(il)}
    st = got.get("/stream")
    check(st and st["requests"] == 2 and st["aborted"] == 1 and st["status"] == {"200": 1} and st["errors"] == 1,
          "the streams: %s" % (st and {k: st[k] for k in ("requests", "aborted", "status", "errors")}))
    gaps = [b - a for a, b in zip(times, times[1:])]
    note = within("inter-chunk mean", st["inter_chunk_s"]["mean"],
                  (sum(gaps) + (len(gaps) and 0)) / len(gaps), 0.10, 1.0)
    sl = got.get("/slow")
    check(sl and sl["requests"] == 200 and sl["status"] == {"200": 200} and sl["in_flight"]["max"] > 1,
          "200 connections: %s" % (sl and {k: sl[k] for k in ("requests", "status", "in_flight")}))
    return note + "; in flight max %d of 200" % sl["in_flight"]["max"]


def test_http_hostile_input(wd):
    """A malformed request line, a 1 MB header, a route with control
    characters, quotes and bytes that are not UTF-8, and 10^5 distinct paths:
    labels stay bounded, the JSON parses, the textfile is promtool-clean,
    nothing is lost."""
    tdir = wd.file("tf")
    os.makedirs(tdir)
    srv, il = traced_py(wd, "--textfile-dir", tdir)
    paths = 100000
    try:
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(b"GARBAGE\r\n\r\n")
        s.recv(65536)
        s.close()
        s = socket.create_connection(("127.0.0.1", srv.port))
        try:
            s.sendall(b"GET /big HTTP/1.1\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass   # the server answers 431 and closes before reading it all
        big = read_response(s)[0]
        s.close()
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(b'GET /ok/a"b\\c\x01\x7f\xff\xfe{}=, HTTP/1.1\r\nHost: x\r\n\r\n')
        odd = read_response(s)[0]
        s.close()
        # the paths: 4 connections, 25 pipelined requests at a time
        def load(k):
            c = socket.create_connection(("127.0.0.1", srv.port))
            rest = b""
            for base in range(k, paths, 4 * 25):
                batch = [base + 4 * j for j in range(25) if base + 4 * j < paths]
                c.sendall(b"".join(b"GET /ok/%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in batch))
                for _ in batch:
                    status, _, _, rest = read_response(_Buffered(c, rest))
                    if status != 200:
                        raise TestFailure("path request: %d" % status)
            c.close()
        threads = [threading.Thread(target=load, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        finish(srv, il)
    recs = http_records(il)
    routes = [r["route"] for r in recs]
    check(len(routes) <= 64 + 1 and "other" in routes, "%d routes in the records" % len(routes))
    served = sum(r["requests"] for r in recs if r["route"].startswith("/ok/") or r["route"] == "other")
    check(served == paths + 1, "%d requests under /ok/ and other, the client made %d" % (served, paths + 1))
    check(sum(r["status"].get("200", 0) for r in recs) == paths + 1, "200s: %s" % [r["status"] for r in recs][:5])
    b = [r for r in recs if r["route"] == "/big"]
    check(len(b) == 1 and b[0]["status"] == {str(big): 1}, "the 1 MB header: %s (server: %d)" % (b, big))
    odd_route = '/ok/a"b\\c%01%7F%FF%FE{}=,'
    check(odd_route in routes, "the odd route: %s" % routes[:8])
    p = port_records(il)
    check(p and p[0]["unparsed"] == 1 and "not HTTP" in p[0]["unparsed_why"], "http_port %s" % p)
    with open(os.path.join(tdir, "inferlat.prom")) as f:
        text = f.read()
    rc, msg = promstack.promtool_check_metrics(text)
    check(rc == 0 and msg == "", "promtool check metrics: rc %d: %s" % (rc, msg))
    missing = HTTP_ONLY - exported_names(text)
    check(not missing, "not in an --http textfile: %s" % missing)
    check(text.count("inferlat_http_server_request_duration_seconds_count{") == len(routes),
          "duration series %d, routes %d" % (text.count("inferlat_http_server_request_duration_seconds_count{"),
                                            len(routes)))
    return "%d routes for %d paths; 1 MB header answered %d; odd path %d" % (len(routes), paths, big, odd)


def test_http_slo_checks(wd):
    """--slo on requests: a met ttft and error check pass, a duration p99 the
    server cannot meet fails the run (exit 3) with the measured value in the
    record; an http: check without --http is bad usage."""
    srv, il = traced_py(wd, "--slo", "http:p99<1us", "--slo", "http:ttft_p99<10s", "--slo", "http:errors<1%")
    try:
        for i in range(5):
            c = socket.create_connection(("127.0.0.1", srv.port))
            c.sendall(b"GET /stream?n=3&gap_ms=2 HTTP/1.1\r\nHost: x\r\n\r\n")
            check(read_response(c)[0] == 200, "stream")
            c.close()
    finally:
        time.sleep(0.3)
        rc = il.stop()
        srv.stop()
    check(rc == 3, "inferlat exited %d with a broken http:p99<1us: %s" % (rc, il.stderr()[-1000:]))
    h = http_records(il)
    check(len(h) == 1, "records %s" % h)
    slo = {s["slo"]: s for s in h[0]["slo"]}
    check(not slo["http:p99<1us"]["ok"] and abs(slo["http:p99<1us"]["value"] - h[0]["duration_s"]["p99"]) < 1e-9
          and slo["http:ttft_p99<10s"]["ok"]
          and abs(slo["http:ttft_p99<10s"]["value"] - h[0]["first_chunk_s"]["p99"]) < 1e-9
          and slo["http:errors<1%"]["ok"] and slo["http:errors<1%"]["value"] == 0, "slo %s" % slo)
    check("SLO http:p99<1us failed over the whole run" in il.stderr(), il.stderr()[-1000:])
    r = subprocess.run([INFERLAT, "-p", str(os.getpid()), "-e", "x", "--slo", "http:p99<1s"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 2 and "give --http too" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
          "http: check without --http: %d %s" % (r.returncode, r.stderr))
