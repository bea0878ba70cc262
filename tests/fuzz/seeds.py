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


def main():
    fx = sys.argv[1]

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
