#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Writes the seed corpora in tests/fuzz/corpus/ (committed; rerun after a
fixture changes): python3 tests/fuzz/seeds.py build/fixtures"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def elf_seed(obj, debug=b"", by_build_id=False):
    return struct.pack("<I", len(obj) | (0x80000000 if by_build_id else 0)) + obj + debug


def no_functions(b):
    """Every function symbol made an object: an ELF without functions (qsort
    was once given their NULL array)."""
    b = bytearray(b)
    shoff, = struct.unpack_from("<Q", b, 0x28)
    shnum, = struct.unpack_from("<H", b, 0x3c)
    for i in range(shnum):
        sh = shoff + i * 64
        typ, = struct.unpack_from("<I", b, sh + 4)
        if typ not in (2, 11):   # SHT_SYMTAB, SHT_DYNSYM
            continue
        off, size = struct.unpack_from("<QQ", b, sh + 24)
        for s in range(off, off + size, 24):
            if b[s + 4] & 0xf == 2:   # STT_FUNC
                b[s + 4] = (b[s + 4] & 0xf0) | 1   # STT_OBJECT
    return bytes(b)


def sys_rec(op, data, captured=None):
    """One syscall of the httpframe target: op 0 read, 1 write, 2 failed
    write, 3 close (| 0x80: a new connection first)."""
    cap = len(data) if captured is None else captured
    return struct.pack("<BHH", op, len(data), cap) + data


def http_seeds():
    get = b"GET /v1/models?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"
    post = b"POST /completion HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n\r\n"
    seeds = {
        "keepalive": sys_rec(0, get) + sys_rec(1, ok) + sys_rec(0, post) + sys_rec(1, ok) + sys_rec(3, b""),
        "pipelined": sys_rec(0, get + post + get) + sys_rec(1, ok + ok) + sys_rec(1, ok),
        "stream": sys_rec(0, post) + sys_rec(1, chunked) +
        b"".join(sys_rec(1, b"c\r\ndata: tok%02d\n\n\r\n" % i) for i in range(5)) + sys_rec(1, b"0\r\n\r\n"),
        "aborted": sys_rec(0, post) + sys_rec(1, chunked + b"5\r\nhello\r\n") + sys_rec(0, b"") + sys_rec(2, b"x"),
        "split": b"".join(sys_rec(0, get[i:i + 1]) for i in range(len(get))) + sys_rec(1, ok[:7]) + sys_rec(1, ok[7:]),
        "uncaptured": sys_rec(0, get) + sys_rec(1, b"HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n" + b"a" * 3000, 600),
        "continue": sys_rec(0, b"PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n") +
        sys_rec(1, b"HTTP/1.1 100 Continue\r\n\r\n") + sys_rec(0, b"3\r\nabc\r\n0\r\n\r\n") + sys_rec(1, ok),
        "head": sys_rec(0, b"HEAD / HTTP/1.1\r\n\r\n") + sys_rec(1, b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"),
        "close-delimited": sys_rec(0, get) + sys_rec(1, b"HTTP/1.0 200 OK\r\n\r\nbody") + sys_rec(3, b""),
        "tls": sys_rec(0, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
        "http2": sys_rec(0, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        "two-conns": sys_rec(0, get) + sys_rec(0x81, ok) + sys_rec(0, get) + sys_rec(1, ok),
    }
    for name, data in seeds.items():
        write("httpframe", name, data)


def main():
    fx = sys.argv[1]
    http_seeds()

    def rd(n):
        with open(os.path.join(fx, n), "rb") as f:
            return f.read()

    debug = rd("libcxxfix.debug")
    write("elfsym", "cxx", elf_seed(rd("libcxxfix.so")))
    write("elfsym", "cxx-debuglink", elf_seed(rd("libcxxfix-debuglink.so"), debug))
    write("elfsym", "cxx-build-id", elf_seed(rd("libcxxfix-stripped.so"), debug, by_build_id=True))
    write("elfsym", "cxx-minidebuginfo", elf_seed(rd("libcxxfix-mini.so")))
    write("elfsym", "cxx-based", elf_seed(rd("libcxxfix-based.so")))
    write("elfsym", "c-library", elf_seed(rd("libinfer.so.1")))
    write("elfsym", "executable-interp", elf_seed(rd("dl-driver")))
    write("elfsym", "regress-no-functions", elf_seed(no_functions(rd("libcxxfix.so"))))
    write("elfsym", "truncated", elf_seed(rd("libinfer.so.1")[:200]))

    for i, s in enumerate([
            "libllama.so:llama_decode", "libfoo.so:0x1a2b30", "infer_run+4", "ns::Class::f(double)",
            "libggml*.so:*graph_compute*", "operator+=", "a::b:c", "libx.so:sym+0x10", ":", "x+",
            "ret!=0", "ret64<0", " ret == 0 ", "250ms", "1.5", "2m", "1e400", "model=llama-3-8b",
            "__name__=x", "k=\xe9", "inferlat.prom", "lib.so:0xffffffffffffffffff"]):
        write("probespec", "seed-%02d" % i, s.encode())

    for i, argv in enumerate([
            ["-p", "4242", "-e", "libllama.so:llama_decode"],
            ["-x", "/usr/bin/server", "-e", "libggml*.so:*graph_compute*", "-d", "60", "--json", "out.jsonl"],
            ["-p", "1", "-e", "libfoo.so:handle", "-E", "ret<0", "-q", "--json", "-"],
            ["-e", "libfoo.so:0x1a2b30", "--", "./server", "--port", "8080"],
            ["--comm", "python3", "-e", "x", "--textfile-dir", "/tmp", "--label", "model=m", "--pid-label"],
            ["-p", "1", "-e", "x", "--ringbuf-size", "0x400000", "--max-probes", "16", "-i", "250ms"],
            ["-p", "1", "-e", "x", "--label", "a=1"],
            ["-p", "1", "-e", "x", "--textfile-dir", "/t", "--label", "a=1", "--label", "a=2"],
            ["--help"], ["--version"], ["--usage"], ["--bogus"], ["-p"],
            ["-p", "1", "-e", "x", "--site", "symbol", "--no-multi", "--raw-durations", "-v"]]):
        write("cli", "seed-%02d" % i, b"\0".join(a.encode() for a in argv))


if __name__ == "__main__":
    main()
