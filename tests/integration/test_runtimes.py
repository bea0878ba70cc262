# SPDX-License-Identifier: GPL-2.0
"""Runtime presets (-r) against real inference runtimes running small models
made here: ONNX Runtime (onnxruntime-node), llama.cpp (@node-llama-cpp's
prebuilt libraries), libtorch (Debian's python3-torch), and CUDA against a
test double. Every count is the harness's own; latencies are compared with
the harness's own clock."""
import json
import os
import signal
import subprocess
import time

from harness import (FIXTURES, INFERLAT, ROOT, Inferlat, check, run)

RUNTIMES = os.path.join(ROOT, "runtimes", "node_modules")
ORT_DIR = os.path.join(RUNTIMES, "onnxruntime-node")
ORT_LIB = os.path.join(ORT_DIR, "bin", "napi-v6", "linux", "x64", "libonnxruntime.so.1")
LLAMA_BINS = os.path.join(RUNTIMES, "@node-llama-cpp", "linux-x64", "bins", "linux-x64")
SRC_FIXTURES = os.path.join(ROOT, "tests", "fixtures")
PY = "/usr/bin/python3"   # Debian's: python3-onnx, python3-torch


def need(path, what):
    check(os.path.exists(path), "%s missing (%s): run make deps (scripts/runtimes.sh)" % (what, path))


class Harness:
    """A runtime harness started paused: it prints 'ready PID' once its
    runtime is loaded and starts its inferences at SIGUSR1."""

    def __init__(self, cmd, env=None):
        self.proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        check(line.startswith("ready "), "harness did not start: %r" % line)
        self.pid = self.proc.pid

    def go(self):
        os.kill(self.pid, signal.SIGUSR1)

    def wait(self, timeout=300):
        out, _ = self.proc.communicate(timeout=timeout)
        check(self.proc.returncode == 0, "harness exited %d" % self.proc.returncode)
        return out

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def traced(wd, harness, *args):
    """inferlat -p on the paused harness, then the inferences; inferlat stops
    when the harness exits."""
    il = Inferlat(wd, "-p", harness.pid, *args, "-v", calls_out=True)
    try:
        il.wait_ready(60)
        harness.go()
        out = harness.wait()
        rc = il.wait(60)
        check(rc == 0, "inferlat exited %d: %s" % (rc, il.stderr()))
    finally:
        harness.kill()
        il.kill()
    return il, out


def untraced(harness):
    harness.go()
    return harness.wait()


def one(il, suffix):
    recs = il.final(suffix)
    check(len(recs) == 1, "final records of %s: %s" % (suffix, recs))
    return recs[0]


def hit_cost_s(il):
    """What one probe hit costs the caller, as inferlat measured it at start."""
    for line in il.stderr().splitlines():
        if "ns per hit to the caller" in line:
            return int(line.split(";")[1].split("ns per hit")[0].strip()) / 1e9
    raise AssertionError("no per-hit cost in inferlat's log: %s" % il.stderr())


def check_mean(name, inferlat_s, harness_s, cost_s):
    tol = 0.05 * harness_s + cost_s
    check(abs(inferlat_s - harness_s) <= tol,
          "%s: mean %.1f us, the harness timed %.1f us (allowed %.1f us)"
          % (name, inferlat_s * 1e6, harness_s * 1e6, tol * 1e6))


def ns_pairs(path):
    with open(path) as f:
        return [tuple(int(x) for x in l.split()) for l in f if not l.startswith("#")]


# ONNX Runtime ---------------------------------------------------------------

ORT_RUNS = 30
ORT_BATCH = 512   # ~20 ms runs: the binding's own ~0.4 ms per run stays well under 5%


def ort_harness(wd, log):
    need(ORT_LIB, "onnxruntime-node")
    model = wd.file("mlp.onnx")
    if not os.path.exists(model):
        r = run([PY, os.path.join(SRC_FIXTURES, "make-onnx-mlp.py"), model], timeout=120)
        check(r.returncode == 0, "make-onnx-mlp.py: %s" % r.stderr)
    return Harness(["node", os.path.join(SRC_FIXTURES, "ort-harness.js"), ORT_DIR, model, ORT_RUNS,
                    ORT_BATCH, log])


def test_ort_run_offset_from_stripped_library(wd):
    # the library exports OrtGetApiBase only: nothing named Run to find
    syms = run(["nm", "-D", "--defined-only", ORT_LIB]).stdout
    check("OrtGetApiBase" in syms and "Run" not in syms, "libonnxruntime.so.1 is not the stripped one")
    check(run(["readelf", "-S", ORT_LIB]).stdout.find(".symtab") < 0, "the library has a .symtab")
    h = ort_harness(wd, wd.file("ort.log"))
    try:
        il = Inferlat(wd, "-p", h.pid, "-r", "onnxruntime", "-v", "-d", "1")
        rc = il.wait(60)
    finally:
        h.kill()
    check(rc == 0, "inferlat exited %d: %s" % (rc, il.stderr()))
    line = [l for l in il.stderr().splitlines() if "Run at" in l]
    check(line, "no Run offset in: %s" % il.stderr())
    run_off = int(line[0].split("Run at ")[1].split(",")[0], 16)
    # the helper ran as nobody: inferlat's own process never mapped ORT
    probes = [l for l in il.stderr().splitlines() if "OrtApi::Run at " in l]
    check(probes and ("+%#x:" % run_off in probes[0] or "+%#x:" % (run_off + 4) in probes[0]),
          "probe not at the table's Run: %s" % probes)
    # an endbr64 then code: a function entry, not data
    with open(ORT_LIB, "rb") as f:
        f.seek(run_off)
        code = f.read(4)
    check(code == b"\xf3\x0f\x1e\xfa", "Run at %#x does not start with endbr64: %s" % (run_off, code.hex()))
    return "OrtApi::Run at file offset %#x of the stripped libonnxruntime.so.1" % run_off


def test_ort_preset(wd):
    base = ort_harness(wd, wd.file("base.log"))
    untraced(base)
    plain = ns_pairs(wd.file("base.log"))
    h = ort_harness(wd, wd.file("ort.log"))
    il, out = traced(wd, h, "-r", "onnxruntime")
    check(out.strip() == "done %d" % ORT_RUNS, "harness: %r" % out)
    runs = ns_pairs(wd.file("ort.log"))
    check(len(runs) == ORT_RUNS, "harness logged %d runs" % len(runs))
    r = one(il, "OrtApi::Run")
    check(r["runtime"] == "onnxruntime", "runtime label: %s" % r)
    check(r["calls"] == ORT_RUNS, "Run calls %d, the harness ran %d" % (r["calls"], ORT_RUNS))
    c = one(il, "OrtApi::CreateSession")
    check(c["calls"] == 1, "CreateSession calls %d, the harness created 1 session" % c["calls"])
    harness_mean = sum(b - a for a, b in runs) / len(runs) / 1e9
    check_mean("OrtApi::Run", r["latency_s"]["mean"], harness_mean, hit_cost_s(il))
    plain_mean = sum(b - a for a, b in plain) / len(plain) / 1e9
    return ("Run x%d; inferlat mean %.2f ms, harness %.2f ms; harness without inferlat %.2f ms, "
            "with %.2f ms; CreateSession %.1f ms" % (
                r["calls"], r["latency_s"]["mean"] * 1e3, harness_mean * 1e3, plain_mean * 1e3,
                harness_mean * 1e3, c["latency_s"]["mean"] * 1e3))


def test_runtimes_command(wd):
    r = run([INFERLAT, "runtimes"])
    check(r.returncode == 0, "inferlat runtimes: %s" % r.stderr)
    for name in ("llama.cpp", "onnxruntime", "libtorch", "cuda", "auto"):
        check(name in r.stdout, "%s not listed: %s" % (name, r.stdout))
    one_ = run([INFERLAT, "runtimes", "llama.cpp"])
    check(one_.returncode == 0 and "llama_decode" in one_.stdout and "[rsp+8]/32" in one_.stdout,
          "inferlat runtimes llama.cpp: %s" % one_.stdout)
    bad = run([INFERLAT, "runtimes", "tensorflow"])
    check(bad.returncode == 2 and "no preset" in bad.stderr, "unknown preset: %s" % bad.stderr)
    bad = run([INFERLAT, "-p", "1", "-r", "tensorflow"])
    check(bad.returncode == 2 and "-r tensorflow" in bad.stderr, "unknown -r: %s" % bad.stderr)


def test_auto_picks_from_maps(wd):
    h = ort_harness(wd, wd.file("ort.log"))
    try:
        il = Inferlat(wd, "-p", h.pid, "-r", "auto", "-d", "1")
        rc = il.wait(60)
    finally:
        h.kill()
    check(rc == 0, "inferlat exited %d: %s" % (rc, il.stderr()))
    check("-r auto: onnxruntime" in il.stderr(), "auto did not pick onnxruntime: %s" % il.stderr())
    check("llama.cpp" not in il.stderr() and "libtorch" not in il.stderr(),
          "auto picked a runtime the target does not map: %s" % il.stderr())
    probes = set(r["probe"] for r in il.final())
    check(any("OrtApi::Run" in p for p in probes), "probes: %s" % probes)
