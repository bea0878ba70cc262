# SPDX-License-Identifier: GPL-2.0
"""The GPU machine's bundle (scripts/gpu-check.sh bundle DIR): inferlat and
the libraries it needs beside it, for a device with none of them."""
import os

from harness import LIBINFER, ROOT, Fixture, Inferlat, check, run

NEEDED = ("libbpf.so", "libelf.so", "libdw.so", "libzstd.so", "libjson-c.so")


def test_bundle_self_contained(wd):
    out = wd.file("bundle")
    r = run(["bash", os.path.join(ROOT, "scripts", "gpu-check.sh"), "bundle", out], timeout=600)
    check(r.returncode == 0, "bundle failed: %s" % r.stderr[-1500:])
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    check(size <= 48 << 20, "the bundle is %d bytes, over 48 MiB" % size)
    ldd = run(["ldd", os.path.join(out, "inferlat")]).stdout
    libdir = os.path.join(out, "lib") + "/"
    for lib in NEEDED:
        line = [l for l in ldd.splitlines() if l.strip().startswith(lib)]
        check(line and libdir in line[0], "%s not resolved inside the bundle: %s" % (lib, line or ldd))
    # the bundled binary loads its BPF object and counts exactly
    fx = Fixture(wd, "-n", 50)
    il = Inferlat(wd, "-p", fx.pid, "-e", LIBINFER + ":infer_run", exe=os.path.join(out, "inferlat"))
    try:
        il.wait_ready()
        fx.go()
        fx.wait()
        il.wait(60)
    finally:
        fx.kill()
        il.kill()
    fin = il.final(":infer_run")
    check(len(fin) == 1 and fin[0]["calls"] == 50, "bundled inferlat: %s" % fin)
    # the device check, against the CUDA test double
    r = run([os.path.join(out, "run.sh"), "--double"], timeout=300)
    lines = r.stdout.strip().splitlines()
    check(r.returncode == 0 and lines and lines[-1] == "9 passed, 0 failed",
          "run.sh --double: rc %d: %s %s" % (r.returncode, r.stdout[-2000:], r.stderr[-1000:]))
    calls = [l for l in lines if l.startswith("# entry points called:")]
    check(calls and "cudaLaunchKernel x200" in calls[0], "the glob run: %s" % calls)
    # and its checker fails when the figures do not match
    bad = wd.file("bad.json")
    with open(bad, "w") as f:
        f.write('{"allocs": 1, "alloc_bytes": 1, "frees": 1, "freed_bytes": 1, "copy_bytes": 1, '
                '"async_bytes": 1, "launches": 1, "stream_syncs": 1, "device_syncs": 1, "sync_ns": 1000000}\n')
    empty = wd.file("empty.jsonl")
    open(empty, "w").close()
    r2 = run(["/usr/bin/python3", os.path.join(out, "check.py"), bad, empty])
    check(r2.returncode == 1 and r2.stdout.strip().endswith("0 passed, 9 failed"),
          "check.py on figures that do not match: rc %d: %s" % (r2.returncode, r2.stdout))
    tbad = wd.file("torch-bad.json")
    with open(tbad, "w") as f:
        f.write('{"segments_allocated": 3, "segments_freed": 1, "reserved_bytes": 2097152, '
                '"reserved_bytes_allocated": 6291456, "reserved_bytes_freed": 4194304, '
                '"runtime_calls": {"cudaLaunchKernel": 7}, "iterations": 1, "iteration_ns_median": 1}\n')
    r3 = run(["/usr/bin/python3", os.path.join(out, "check.py"), "--torch", tbad, empty])
    check(r3.returncode == 1 and "not ok - torch cudaLaunchKernel" in r3.stdout,
          "check.py --torch on figures that do not match: rc %d: %s" % (r3.returncode, r3.stdout))
    return "%.1f MiB, %d libraries inside; 50/50 calls; run.sh --double: %s" % (
        size / 2**20, len(os.listdir(libdir)), lines[-1])
