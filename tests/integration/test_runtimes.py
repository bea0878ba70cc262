# SPDX-License-Identifier: GPL-2.0
"""Runtime presets (-r) against real inference runtimes running small models
made here: ONNX Runtime (onnxruntime-node), llama.cpp (@node-llama-cpp's
prebuilt libraries), libtorch (Debian's python3-torch), and CUDA against a
test double. Every count is the harness's own; latencies are compared with
the harness's own clock."""
import os
import re
import shutil
import signal
import subprocess
import time

import promstack
import tempfile

from harness import (FIXTURES, INFERLAT, ROOT, DlDriver, Inferlat, check, run)

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


def attached_probes(il):
    """The probes -v says were attached ('inferlat: probe N: NAME at ...')."""
    return [l for l in il.stderr().splitlines() if re.match(r"inferlat: probe \d+: ", l)]


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


def ort_harness(wd, log, threads=1):
    need(ORT_LIB, "onnxruntime-node")
    model = wd.file("mlp.onnx")
    if not os.path.exists(model):
        r = run([PY, os.path.join(SRC_FIXTURES, "make-onnx-mlp.py"), model], timeout=120)
        check(r.returncode == 0, "make-onnx-mlp.py: %s" % r.stderr)
    return Harness(["node", os.path.join(SRC_FIXTURES, "ort-harness.js"), ORT_DIR, model, ORT_RUNS,
                    ORT_BATCH, log, threads])


def test_ort_run_offset_from_stripped_library(wd):
    # the library exports OrtGetApiBase only: nothing named Run to find
    syms = run(["nm", "-D", "--defined-only", ORT_LIB]).stdout
    check("OrtGetApiBase" in syms and "Run" not in syms, "libonnxruntime.so.1 is not the stripped one")
    check(run(["readelf", "-S", ORT_LIB]).stdout.find(".symtab") < 0, "the library has a .symtab")
    h = ort_harness(wd, wd.file("ort.log"))
    try:
        il = Inferlat(wd, "-p", h.pid, "-r", "onnxruntime", "-v", "-d", "2")
        il.wait_ready(60)
        # the table was read by a helper process: inferlat never loaded ONNX Runtime
        with open("/proc/%d/maps" % il.proc.pid) as f:
            check("onnxruntime" not in f.read(), "inferlat itself mapped libonnxruntime")
        rc = il.wait(60)
    finally:
        h.kill()
    check(rc == 0, "inferlat exited %d: %s" % (rc, il.stderr()))
    line = [l for l in il.stderr().splitlines() if "Run at" in l]
    check(line, "no Run offset in: %s" % il.stderr())
    run_off = int(line[0].split("Run at ")[1].split(",")[0], 16)
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


def test_ort_loaded_after_start(wd):
    """-r onnxruntime before the runtime is loaded: node is started by
    inferlat (COMMAND) and maps libonnxruntime.so.1 when it requires the
    binding; the table is read then, and Run probed from there on."""
    need(ORT_LIB, "onnxruntime-node")
    model = wd.file("mlp.onnx")
    r = run([PY, os.path.join(SRC_FIXTURES, "make-onnx-mlp.py"), model], timeout=120)
    check(r.returncode == 0, "make-onnx-mlp.py: %s" % r.stderr)
    log = wd.file("ort.log")
    il = Inferlat(wd, "-r", "onnxruntime", "-v", "--", "node", os.path.join(SRC_FIXTURES, "ort-harness.js"),
                  ORT_DIR, model, 10, 64, log)
    try:
        deadline = time.time() + 60
        pid = None
        while time.time() < deadline and not (pid and "OrtApi::Run at " in il.stderr()):
            check(il.proc.poll() is None, "inferlat exited: %s" % il.stderr())
            for line in il.stdout().splitlines():
                if line.startswith("ready "):
                    pid = int(line.split()[1])
            time.sleep(0.05)
        check(pid and "OrtApi::Run at " in il.stderr(), "Run not attached after the load: %s" % il.stderr())
        check("no target maps a library 'libonnxruntime.so' yet" in il.stderr(), "not pending at start")
        os.kill(pid, signal.SIGUSR1)
        rc = il.wait(120)
    finally:
        il.kill()
    check(rc == 0, "inferlat exited %d: %s" % (rc, il.stderr()))
    runs = ns_pairs(log)
    r = one(il, "OrtApi::Run")
    check(r["calls"] == len(runs) == 10, "Run calls %d, the harness ran %d" % (r["calls"], len(runs)))
    check(one(il, "OrtApi::CreateSession")["calls"] == 1, "CreateSession")


def vaddr_to_offset(path, vaddr):
    """File offset of a virtual address, from the program headers (readelf)."""
    for line in run(["readelf", "-lW", path]).stdout.splitlines():
        f = line.split()
        if f and f[0] == "LOAD":
            off, va, memsz = int(f[1], 16), int(f[2], 16), int(f[5], 16)
            if va <= vaddr < va + memsz:
                return vaddr - va + off
    raise AssertionError("%#x not in a LOAD segment of %s" % (vaddr, path))


def test_ort_table_read_without_root(wd):
    """A stand-in library with ONNX Runtime's entry point records who runs its
    code: inferlat's helper must be nobody, with no new privileges; the slots
    it reads must be the functions nm names; their calls are counted."""
    lib = os.path.join(FIXTURES, "fake-ort", "libonnxruntime.so.1")
    syms = {l.split()[2]: int(l.split()[0], 16)
            for l in run(["nm", "-D", "--defined-only", lib]).stdout.splitlines()}
    report_dir = tempfile.mkdtemp(prefix="inferlat-fakeort-")
    try:
        os.chmod(report_dir, 0o777)   # the helper writes here as nobody
        report = os.path.join(report_dir, "who")
        drv = DlDriver(wd, lib, "fake_run", n=200)
        env = dict(os.environ, FAKE_ORT_REPORT=report)
        il = Inferlat(wd, "-p", drv.pid, "-r", "onnxruntime", "-v", env=env)
        try:
            il.wait_ready(60)
            drv.go()
            drv.wait()
            rc = il.wait(60)
        finally:
            drv.kill()
            il.kill()
        check(rc == 0, "inferlat exited %d: %s" % (rc, il.stderr()))
        with open(report) as f:
            loaders = [tuple(int(x) for x in l.split()) for l in f]
    finally:
        shutil.rmtree(report_dir, ignore_errors=True)
    helpers = [l for l in loaders if l[0] not in (drv.pid, il.proc.pid)]
    check(not [l for l in loaders if l[0] == il.proc.pid], "inferlat itself ran the library's code")
    check(helpers, "no helper loaded the library: %s" % loaders)
    for pid, uid, euid, nnp in helpers:
        check(uid == euid == 65534 and nnp == 1,
              "the helper ran the library's code as uid %d euid %d, no_new_privs %d" % (uid, euid, nnp))
    line = [l for l in il.stderr().splitlines() if "Run at" in l][0]
    run_off = int(line.split("Run at ")[1].split(",")[0], 16)
    create_off = int(line.split("CreateSession at ")[1].split()[0], 16)
    check(run_off == vaddr_to_offset(lib, syms["fake_run"]), "Run at %#x, nm says fake_run" % run_off)
    check(create_off == vaddr_to_offset(lib, syms["fake_create_session"]), "CreateSession at %#x" % create_off)
    r = one(il, "OrtApi::Run")
    check(r["calls"] == 200, "Run calls %d, the driver made 200" % r["calls"])
    return "helper uid/euid 65534, no_new_privs 1; Run at %#x = nm's fake_run; 200/200 calls" % run_off


def test_runtimes_command(wd):
    r = run([INFERLAT, "runtimes"])
    check(r.returncode == 0, "inferlat runtimes: %s" % r.stderr)
    for name in ("llama.cpp", "onnxruntime", "libtorch", "cuda", "auto"):
        check(name in r.stdout, "%s not listed: %s" % (name, r.stdout))
    one_ = run([INFERLAT, "runtimes", "llama.cpp"])
    check(one_.returncode == 0 and "llama_decode" in one_.stdout and "[rsp+8]/32" in one_.stdout,
          "inferlat runtimes llama.cpp: %s" % one_.stdout)
    # the nested probes (ggml's graph compute) are listed under --breakdown,
    # after every default probe, with what their pairs cost
    lines = one_.stdout.splitlines()
    head = [i for i, l in enumerate(lines) if l.startswith("  with --breakdown")]
    check(len(head) == 1 and "nested inside llama_decode" in lines[head[0]]
          and "not probed by default" in lines[head[0]], "no --breakdown heading: %s" % one_.stdout)
    above, below = "\n".join(lines[:head[0]]), "\n".join(lines[head[0]:])
    check("graph_compute" not in above and "  libllama.so:llama_decode\n" in above,
          "a ggml probe listed among the default ones: %s" % above)
    for sym in ("libggml-base.so:ggml_backend_sched_graph_compute_async", "libggml-cpu*.so:ggml_graph_compute"):
        check("    %s\n" % sym in below + "\n", "%s not under --breakdown: %s" % (sym, below))
    cost = lines[head[0] + 1]
    with open("/proc/cpuinfo") as f:
        pcid = "have PCID" if re.search(r"^flags\s*:.*\spcid(\s|$)", f.read(), re.M) else "lack PCID"
    check(cost.startswith("    cost: ") and "PCID" in cost and "25-45 us" in cost and "about 1 us" in cost
          and "This host's CPUs %s." % pcid in cost, "cost line: %s" % cost)
    torch = run([INFERLAT, "runtimes", "libtorch"]).stdout
    check("  with --ops (not probed by default)" in torch and "    libtorch_cpu.so:at::_ops::*::call" in torch
          and "--breakdown" not in torch, "inferlat runtimes libtorch: %s" % torch)
    check("  with --breakdown" in r.stdout and "  with --ops" in r.stdout and r.stdout.count("    cost: ") == 2,
          "inferlat runtimes lists no opt-in probes: %s" % r.stdout)
    bad = run([INFERLAT, "runtimes", "tensorflow"])
    check(bad.returncode == 2 and "no preset" in bad.stderr, "unknown preset: %s" % bad.stderr)
    bad = run([INFERLAT, "-p", "1", "-r", "tensorflow"])
    check(bad.returncode == 2 and "-r tensorflow" in bad.stderr, "unknown -r: %s" % bad.stderr)
    bad = run([INFERLAT, "-p", "1", "-r", "llama.cpp", "--ops"])
    check(bad.returncode == 2 and "--ops" in bad.stderr and "libtorch" in bad.stderr, "--ops alone: %s" % bad.stderr)
    # --breakdown needs a preset with nested probes: one line saying which
    for args in (["-e", "libllama.so:llama_decode"], ["-r", "onnxruntime"], ["-r", "libtorch", "--ops"]):
        bad = run([INFERLAT, "-p", "1", *args, "--breakdown"])
        msg = bad.stderr.strip()
        check(bad.returncode == 2 and "\n" not in msg and "--breakdown" in msg and "-r llama.cpp" in msg
              and "-r auto" in msg, "--breakdown with %s: rc %d: %s" % (" ".join(args), bad.returncode, msg))
    bad = run([INFERLAT, "-x", "/bin/true", "-r", "auto"])
    check(bad.returncode == 2 and "-r auto" in bad.stderr and "-p PID" in bad.stderr, "auto with -x: %s" % bad.stderr)
    idle = subprocess.Popen(["sleep", "30"])
    try:
        bad = run([INFERLAT, "-p", idle.pid, "-r", "auto"])
    finally:
        idle.kill()
        idle.wait()
    check(bad.returncode == 2 and "no target maps a runtime's library" in bad.stderr,
          "auto on a process without a runtime: %s" % bad.stderr)


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


def prom_samples(path):
    """{(name, frozenset(labels)): value} of a textfile."""
    out = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            head, value = line.rsplit(" ", 1)
            name, labels = head, ""
            if "{" in head:
                name, labels = head[:-1].split("{", 1)
            kv = frozenset(tuple(p.split("=", 1)) for p in labels.split(",") if p) if labels else frozenset()
            out[(name, frozenset((k, v.strip('"')) for k, v in kv))] = float(value)
    return out


def prom_value(samples, name, **want):
    vals = [v for (n, labels), v in samples.items()
            if n == name and all((k, str(x)) in labels for k, x in want.items())]
    check(len(vals) == 1, "%s%s: %d samples in the textfile" % (name, want, len(vals)))
    return vals[0]


# llama.cpp -------------------------------------------------------------------

LLAMA_SEQS, LLAMA_GEN = 4, 30


def llama_harness(wd, log):
    need(os.path.join(LLAMA_BINS, "libllama.v0.5.0.so"), "@node-llama-cpp/linux-x64")
    model = wd.file("tiny.gguf")
    if not os.path.exists(model):
        r = run([PY, os.path.join(SRC_FIXTURES, "make-gguf-llama.py"), model], timeout=120)
        check(r.returncode == 0, "make-gguf-llama.py: %s" % r.stderr)
    return Harness([os.path.join(FIXTURES, "llama-harness"), LLAMA_BINS, model, LLAMA_SEQS, LLAMA_GEN, log])


def harness_totals(out):
    words = out.split()
    return {words[i]: int(words[i + 1]) for i in range(0, len(words) - 1, 2) if words[i + 1].isdigit()}


def test_llama_preset_tokens(wd):
    base = llama_harness(wd, wd.file("base.log"))
    untraced(base)
    with open(wd.file("base.log")) as f:
        plain = [tuple(int(x) for x in l.split()) for l in f]
    h = llama_harness(wd, wd.file("llama.log"))
    tf = wd.file("prom")
    os.makedirs(tf)
    il, out = traced(wd, h, "-r", "llama.cpp", "--textfile-dir", tf)
    tot = harness_totals(out)
    check(tot["decodes"] == LLAMA_SEQS * (LLAMA_GEN + 1), "harness: %s" % out)
    with open(wd.file("llama.log")) as f:
        decodes = [tuple(int(x) for x in l.split()) for l in f]
    d = one(il, "llama_decode")
    check(d["runtime"] == "llama.cpp", "runtime: %s" % d)
    check(d["calls"] == tot["decodes"], "llama_decode calls %d, the harness decoded %d batches"
          % (d["calls"], tot["decodes"]))
    t = d["tokens"]
    check(t["prompt_tokens"] == tot["prompt_tokens"], "prompt tokens %d, harness %d"
          % (t["prompt_tokens"], tot["prompt_tokens"]))
    check(t["generated"] == tot["generated"], "generated %d, harness %d" % (t["generated"], tot["generated"]))
    check(t["prompt_batches"] == LLAMA_SEQS, "prompt batches %d, harness %d" % (t["prompt_batches"], LLAMA_SEQS))
    check(t["total"] == tot["prompt_tokens"] + tot["generated"] and t["unreadable"] == 0, "tokens: %s" % t)
    check(one(il, "llama_tokenize")["calls"] == tot["tokenize"], "llama_tokenize calls")
    cost = hit_cost_s(il)
    mean = sum(e - s for _, s, e in decodes) / len(decodes) / 1e9
    check_mean("llama_decode", d["latency_s"]["mean"], mean, cost)
    prompt = [e - s for n, s, e in decodes if n > 1]
    gen = [e - s for n, s, e in decodes if n == 1]
    check_mean("prompt batch", t["prompt_batch_s"], sum(prompt) / len(prompt) / 1e9, cost)
    check_mean("single-token batch", t["token_batch_s"], sum(gen) / len(gen) / 1e9, cost)
    # requests from the sequence: llama_batch_get_one batches (implicit
    # positions), a request per llama_memory_clear
    q = d["requests"]
    check(q["count"] == LLAMA_SEQS and q["started"] == LLAMA_SEQS, "requests: %s" % q)
    check(q["prompt_tokens"] == tot["prompt_tokens"], "request prompt tokens %d, harness %d"
          % (q["prompt_tokens"], tot["prompt_tokens"]))
    # every decode outputs logits; the harness samples no token from its
    # last one per sequence, so one more per request than it generated
    check(q["generated_tokens"] == tot["generated"] + LLAMA_SEQS, "generated %d, harness %d + %d"
          % (q["generated_tokens"], tot["generated"], LLAMA_SEQS))
    per_seq = LLAMA_GEN + 1
    gaps, prefills = [], []
    for k in range(LLAMA_SEQS):
        seq = decodes[k * per_seq:(k + 1) * per_seq]
        prefills.append(seq[0][2] - seq[0][1])
        gaps += [seq[i][2] - seq[i - 1][2] for i in range(1, len(seq))]
    check(q["inter_token_s"]["count"] == len(gaps), "inter-token gaps %d, harness %d"
          % (q["inter_token_s"]["count"], len(gaps)))
    check_mean("inter-token latency", q["inter_token_s"]["mean"], sum(gaps) / len(gaps) / 1e9, cost)
    check_mean("prefill", q["prefill_s"]["mean"], sum(prefills) / len(prefills) / 1e9, cost)
    check(q["sequences_per_decode"]["mean"] == 1 and q["sequences_per_decode"]["decodes"] == d["calls"],
          "sequences per decode: %s" % q["sequences_per_decode"])
    # nothing nested inside llama_decode without --breakdown: no ggml probe
    # attached (-v names every probe), none in the records
    attached = attached_probes(il)
    check(len(attached) == 5 and not [l for l in attached if "ggml" in l], "probes attached: %s" % attached)
    check("inferlat: tracing 5 functions" in il.stderr(), "not 5 functions: %s" % il.stderr())
    probes = set(r["probe"] for r in il.records())
    check(not [p for p in probes if "ggml" in p] and not [r for r in il.records() if "share_of" in r],
          "ggml records without --breakdown: %s" % probes)
    # the same figures in the textfile, which promtool accepts
    with open(os.path.join(tf, "inferlat.prom")) as f:
        rc, msg = promstack.promtool_check_metrics(f.read())
    check(rc == 0 and msg == "", "promtool check metrics: rc %d: %s" % (rc, msg))
    s = prom_samples(os.path.join(tf, "inferlat.prom"))
    check(prom_value(s, "inferlat_tokens_total", phase="prompt") == tot["prompt_tokens"], "textfile prompt tokens")
    check(prom_value(s, "inferlat_tokens_total", phase="generation") == tot["generated"], "textfile generated")
    check(prom_value(s, "inferlat_decode_batches_total", phase="prompt") == LLAMA_SEQS, "textfile prompt batches")
    check(prom_value(s, "inferlat_gen_ai_server_requests_total") == LLAMA_SEQS, "textfile requests")
    check(prom_value(s, "inferlat_gen_ai_server_tokens_total", token_type="input") == tot["prompt_tokens"],
          "textfile input tokens")
    check(prom_value(s, "inferlat_gen_ai_server_time_per_output_token_seconds_count") == len(gaps)
          and prom_value(s, "inferlat_gen_ai_server_time_per_output_token_seconds_bucket", le="+Inf") == len(gaps),
          "textfile inter-token histogram count")
    ttft_le = prom_value(s, "inferlat_gen_ai_server_time_to_first_token_seconds_bucket", le="0.1")
    check(ttft_le == sum(1 for p in prefills if p <= 0.1e9), "textfile TTFT bucket le=0.1: %s" % ttft_le)
    gen_s = prom_value(s, "inferlat_decode_seconds_total", phase="generation")
    check_mean("textfile generation seconds per token", gen_s / len(gen), sum(gen) / len(gen) / 1e9, cost)
    plain_mean = sum(e - s for _, s, e in plain) / len(plain) / 1e9
    return ("llama_decode x%d = harness; %d requests, tokens %d prompt + %d generated = harness; prefill %.0f us "
            "(harness %.0f), inter-token %.0f us (harness %.0f); no ggml probe; harness decode mean "
            "without inferlat %.0f us, with %.0f us" % (
                d["calls"], q["count"], q["prompt_tokens"], t["generated"], q["prefill_s"]["mean"] * 1e6,
                sum(prefills) / len(prefills) / 1e3, q["inter_token_s"]["mean"] * 1e6, sum(gaps) / len(gaps) / 1e3,
                plain_mean * 1e6, mean * 1e6))


def test_llama_breakdown(wd):
    """--breakdown: ggml's graph compute, nested inside llama_decode, probed
    too; one of each per decode of the harness, their time a share of
    llama_decode's, in JSON and in the view."""
    h = llama_harness(wd, wd.file("llama.log"))
    il = Inferlat(wd, "-p", h.pid, "-r", "llama.cpp", "--breakdown", "-v", quiet=False)
    try:
        il.wait_ready(60)
        h.go()
        out = h.wait()
        check(il.wait(60) == 0, "inferlat: %s" % il.stderr())
    finally:
        h.kill()
        il.kill()
    tot = harness_totals(out)
    attached = attached_probes(il)
    check(len(attached) == 7 and "inferlat: tracing 7 functions" in il.stderr(), "probes attached: %s" % attached)
    d = one(il, "llama_decode")
    check(d["calls"] == tot["decodes"], "llama_decode calls %d, the harness decoded %d" % (d["calls"], tot["decodes"]))
    shares = []
    for sym in ("ggml_backend_sched_graph_compute_async", "ggml_graph_compute"):
        g = one(il, sym)
        check(any(sym in l for l in attached), "%s not attached: %s" % (sym, attached))
        check(g["calls"] == d["calls"], "%s: %d calls, one per decode: %d" % (sym, g["calls"], d["calls"]))
        share = g["share_of"]["ratio"]
        check(0.5 < share <= 1.0 and "llama_decode" in g["share_of"]["probe"], "%s share: %s" % (sym, g["share_of"]))
        shares.append(share)
    view = il.stdout()
    check("of libllama.v0.5.0.so:llama_decode time" in view, "view lacks the ggml share:\n%s" % view[-2000:])
    return "2 graph-compute probes x%d = decodes; %.0f%% and %.0f%% of decode time" % (
        d["calls"], shares[0] * 100, shares[1] * 100)


def test_llama_view_shows_tokens(wd):
    h = llama_harness(wd, wd.file("llama.log"))
    il = Inferlat(wd, "-p", h.pid, "-r", "llama.cpp", quiet=False, json_out=False)
    try:
        il.wait_ready(60)
        h.go()
        out = h.wait()
        check(il.wait(60) == 0, "inferlat: %s" % il.stderr())
    finally:
        h.kill()
        il.kill()
    tot = harness_totals(out)
    view = il.stdout()
    want = "tokens %d" % (tot["prompt_tokens"] + tot["generated"])
    check(want in view and "requests 4" in view and "inter-token p50" in view,
          "view lacks '%s' / requests 4 / inter-token:\n%s" % (want, view[-2000:]))
    # ggml's graph compute only with --breakdown (test_llama_breakdown)
    check("graph_compute" not in view and "% of libllama" not in view,
          "a ggml row without --breakdown:\n%s" % view[-2000:])


# CUDA (test double) ----------------------------------------------------------

def test_cuda_preset_decodes_bytes_on_test_double(wd):
    drv = os.path.join(FIXTURES, "cuda-driver")
    h = Harness([drv])
    tf = wd.file("prom")
    os.makedirs(tf)
    il = Inferlat(wd, "-p", h.pid, "-r", "cuda", "-i", "250ms", "--textfile-dir", tf, calls_out=True)
    try:
        il.wait_ready(60)
        h.go()
        out = h.proc.stdout.readline()
        want = harness_totals(out)
        # the driver holds its memory now: a window later, the textfile says how much
        time.sleep(1)
        s = prom_samples(os.path.join(tf, "inferlat.prom"))
        with open(os.path.join(tf, "inferlat.prom")) as f:
            rc, msg = promstack.promtool_check_metrics(f.read())
        check(rc == 0 and msg == "", "promtool check metrics: rc %d: %s" % (rc, msg))
        h.go()
        h.wait()
        check(il.wait(60) == 0, "inferlat: %s" % il.stderr())
    finally:
        h.kill()
        il.kill()
    recs = {r["probe"].split(":", 1)[1]: r for r in il.final()}
    check(all(r["runtime"] == "cuda" for r in recs.values()), "runtime labels")
    m, f = recs["cudaMalloc"], recs["cudaFree"]
    check(m["calls"] == want["rt_allocs"] + want["rt_failed"] and m["errors"] == want["rt_failed"],
          "cudaMalloc calls %d errors %d: %s" % (m["calls"], m["errors"], want))
    check(m["gpu"]["allocs"] == want["rt_allocs"] and m["gpu"]["alloc_bytes"] == want["rt_alloc_bytes"],
          "cudaMalloc decoded %s, the driver asked %s" % (m["gpu"], want))
    check(f["gpu"]["frees"] == want["rt_frees"] and f["gpu"]["freed_bytes"] == want["rt_freed_bytes"]
          and f["gpu"]["unknown_frees"] == 0, "cudaFree decoded %s, the driver freed %s" % (f["gpu"], want))
    live = want["rt_alloc_bytes"] - want["rt_freed_bytes"] + want["drv_alloc_bytes"] - want["drv_freed_bytes"]
    check(m["gpu"]["live_bytes"] == live and f["gpu"]["live_bytes"] == live,
          "live bytes %d, the driver holds %d" % (m["gpu"]["live_bytes"], live))
    copied = recs["cudaMemcpy"]["bytes"]["total"] + recs["cudaMemcpyAsync"]["bytes"]["total"]
    check(copied == want["rt_copy_bytes"], "cudaMemcpy* bytes %d, driver %d" % (copied, want["rt_copy_bytes"]))
    da, df = recs["cuMemAlloc_v2"], recs["cuMemFree_v2"]
    check(da["gpu"]["alloc_bytes"] == want["drv_alloc_bytes"] and df["gpu"]["freed_bytes"] == want["drv_freed_bytes"],
          "driver API: %s %s vs %s" % (da["gpu"], df["gpu"], want))
    dcopy = recs["cuMemcpyHtoD_v2"]["bytes"]["total"] + recs["cuMemcpyDtoH_v2"]["bytes"]["total"]
    check(dcopy == want["drv_copy_bytes"], "cuMemcpy* bytes %d, driver %d" % (dcopy, want["drv_copy_bytes"]))
    launches = recs["cudaLaunchKernel"]["calls"] + recs["cuLaunchKernel"]["calls"]
    check(launches == want["launches"], "launches %d, driver %d" % (launches, want["launches"]))
    # per call (--calls): the raw decoded values, size and returned pointer
    mallocs = [c for c in il.calls() if c["probe"].endswith(":cudaMalloc") and not c["error"]]
    check(sorted(c["args"][0] for c in mallocs) == [4096 * (i + 1) + 17 * i for i in range(24)],
          "cudaMalloc sizes per call: %s" % [c["args"] for c in mallocs])
    check(len(set(c["args"][1] for c in mallocs)) == 24 and all(c["args"][1] for c in mallocs),
          "cudaMalloc pointers per call: %s" % [c["args"] for c in mallocs])
    # live bytes per process in the textfile
    check(prom_value(s, "inferlat_gpu_live_bytes", pid=h.pid) == live, "textfile live bytes")
    return ("test double: %d+%d allocations, %d bytes live, %d bytes copied: all as the driver asked"
            % (want["rt_allocs"], want["drv_allocs"], live, copied + dcopy))


# libtorch ---------------------------------------------------------------------

TORCH_RUNS, TORCH_BATCH = 20, 16


def torch_harness(wd, log, runs=TORCH_RUNS, eager=False):
    return Harness([PY, os.path.join(SRC_FIXTURES, "torch-harness.py"), runs, TORCH_BATCH, log]
                   + (["eager"] if eager else []))


def test_libtorch_preset(wd):
    base = torch_harness(wd, wd.file("base.log"))
    untraced(base)
    plain = ns_pairs(wd.file("base.log"))
    h = torch_harness(wd, wd.file("torch.log"))
    il, out = traced(wd, h, "-r", "libtorch")
    check(out.strip() == "forwards %d" % TORCH_RUNS, "harness: %r" % out)
    runs = ns_pairs(wd.file("torch.log"))
    g = [r for r in il.final() if "GraphExecutor::run(" in r["probe"]]
    check(len(g) == 1, "GraphExecutor::run records: %s" % g)
    g = g[0]
    check(g["runtime"] == "libtorch", "runtime: %s" % g)
    check(g["calls"] == TORCH_RUNS, "GraphExecutor::run calls %d, the harness ran %d forwards"
          % (g["calls"], TORCH_RUNS))
    check("no call of" not in il.stderr(), "a silence notice on TorchScript: %s" % il.stderr()[-1000:])
    mean = sum(b - a for a, b in runs) / len(runs) / 1e9
    check_mean("GraphExecutor::run", g["latency_s"]["mean"], mean, hit_cost_s(il))
    plain_mean = sum(b - a for a, b in plain) / len(plain) / 1e9
    return ("GraphExecutor::run x%d; inferlat mean %.2f ms, harness %.2f ms; harness without inferlat "
            "%.2f ms, with %.2f ms" % (g["calls"], g["latency_s"]["mean"] * 1e3, mean * 1e3,
                                       plain_mean * 1e3, mean * 1e3))


def test_libtorch_ops(wd):
    h = torch_harness(wd, wd.file("torch.log"))
    il = Inferlat(wd, "-p", h.pid, "-r", "libtorch", "--ops", quiet=False)
    try:
        il.wait_ready(120)
        h.go()
        h.wait()
        check(il.wait(60) == 0, "inferlat: %s" % il.stderr())
    finally:
        h.kill()
        il.kill()
    ops = [r for r in il.final() if "at::_ops::" in r["probe"]]
    by = {r["probe"].split(":", 1)[1].split("(")[0]: r for r in ops}
    # three nn.Linear per forward; TorchScript sends them to addmm
    check(by.get("at::_ops::addmm::call", {}).get("calls") == 3 * TORCH_RUNS,
          "addmm calls: %s (want %d)" % ({k: v["calls"] for k, v in by.items()}, 3 * TORCH_RUNS))
    check(all(r["calls"] > 0 for r in ops), "operators never called are reported")
    top = max(ops, key=lambda r: r["latency_s"]["mean"] * r["calls"])
    check("addmm" in top["probe"], "top operator by total time: %s" % top["probe"])
    view = il.stdout()
    check("TOP OPERATORS" in view and "at::_ops::addmm::call " in view, "view:\n%s" % view[-1500:])
    attached = [l for l in il.stderr().splitlines() if "tracing " in l]
    return "%s; %d operators called; addmm x%d, %.0f%% of operator time" % (
        attached[0].split("inferlat: ")[1].split(";")[0] if attached else "?", len(ops), by["at::_ops::addmm::call"]["calls"],
        100 * top["latency_s"]["mean"] * top["calls"] / sum(r["latency_s"]["mean"] * r["calls"] for r in ops))


EAGER_RUNS = 300
SILENT = "no call of torch::jit::GraphExecutor::run"


def eager_run(wd, *args):
    """The harness's module as eager PyTorch under -r libtorch: idle for a
    second and a half (no notice: silence while idle is no news), then its
    forwards."""
    h = torch_harness(wd, wd.file("eager.log"), EAGER_RUNS, eager=True)
    il = Inferlat(wd, "-p", h.pid, "-r", "libtorch", "-i", "0.5", *args)
    try:
        il.wait_ready(120)
        time.sleep(1.5)
        idle = il.stderr()
        h.go()
        out = h.wait()
        check(il.wait(60) == 0, "inferlat: %s" % il.stderr())
    finally:
        h.kill()
        il.kill()
    check(out.strip() == "forwards %d" % EAGER_RUNS, "harness: %r" % out)
    check(SILENT not in idle, "a notice while the process was idle: %s" % idle)
    notices = [l for l in il.stderr().splitlines() if SILENT in l]
    check(len(notices) == 1 and "eager PyTorch" in notices[0] and "--ops" in notices[0],
          "want one notice naming eager PyTorch and --ops: %s" % il.stderr()[-2000:])
    g = [r for r in il.final() if "GraphExecutor::run(" in r["probe"]]
    check(len(g) == 1 and g[0]["calls"] == 0, "GraphExecutor::run in eager mode: %s" % g)
    return il, notices[0]


def test_libtorch_eager_says_so_once(wd):
    """Eager PyTorch calls neither of the preset's main probes: inferlat says
    so once, with what to use, instead of showing 0 calls as health."""
    _, notice = eager_run(wd)
    return notice.split("inferlat: ", 1)[1]


def test_libtorch_eager_ops_counted(wd):
    """... and with --ops its operators are counted: three nn.Linear per
    forward reach addmm (2-D input with a bias), two relu, as in TorchScript."""
    il, _ = eager_run(wd, "--ops")
    ops = {r["probe"].split(":", 1)[1].split("(")[0]: r["calls"] for r in il.final() if "at::_ops::" in r["probe"]}
    check(ops.get("at::_ops::addmm::call") == 3 * EAGER_RUNS and ops.get("at::_ops::relu::call") == 2 * EAGER_RUNS,
          "addmm x%s, relu x%s, want %d and %d: %s" % (ops.get("at::_ops::addmm::call"), ops.get("at::_ops::relu::call"),
                                                      3 * EAGER_RUNS, 2 * EAGER_RUNS, sorted(ops.items())[:12]))
    return "%d operators called; addmm x%d, relu x%d" % (len(ops), ops["at::_ops::addmm::call"],
                                                         ops["at::_ops::relu::call"])


def test_ort_thread_pool_cores(wd):
    """intraOpNumThreads 2: a Run keeps two threads busy. inferlat's cores in
    use while Run ran (all the process's threads, read in the kernel at each
    call's ends) against the harness's process.cpuUsage over its runs."""
    h = ort_harness(wd, wd.file("ort.log"), threads=2)
    tdir = wd.file("tf")
    os.makedirs(tdir)
    il, out = traced(wd, h, "-r", "onnxruntime", "--textfile-dir", tdir)
    check(out.strip() == "done %d" % ORT_RUNS, "harness: %r" % out)
    runs = ns_pairs(wd.file("ort.log"))
    with open(wd.file("ort.log")) as f:
        cpu = [int(l.split()[2]) for l in f if l.startswith("# cpu ")]
    check(len(cpu) == len(runs) == ORT_RUNS, "harness log: %d runs, %d cpu lines" % (len(runs), len(cpu)))
    want = sum(cpu) / sum(b - a for a, b in runs)
    r = one(il, "OrtApi::Run")
    check(r["calls"] == ORT_RUNS and "cores_in_calls" in r, "Run: %s" % r)
    got = r["cores_in_calls"]
    check(abs(got - want) <= 0.10 * want, "cores while Run ran: inferlat %.3f, the harness %.3f" % (got, want))
    check(got > 1.2, "two intra-op threads kept %.2f cores busy: the pool is not seen" % got)
    # the textfile's two counters give the same figure; only the pool probe has them
    prom = {}
    with open(os.path.join(tdir, "inferlat.prom")) as f:
        for l in f:
            if l.startswith("inferlat_call_process_cpu_seconds_total{") or \
               l.startswith("inferlat_call_pool_duration_seconds_total{"):
                prom.setdefault(l.split("{")[0], []).append((l, float(l.split()[-1])))
    cpu, dur = prom.get("inferlat_call_process_cpu_seconds_total", []), prom.get("inferlat_call_pool_duration_seconds_total", [])
    check(len(cpu) == 1 and len(dur) == 1 and "OrtApi::Run" in cpu[0][0]
          and abs(cpu[0][1] / dur[0][1] - got) <= 0.01 * got, "textfile: %s" % prom)
    return "Run x%d: %.2f cores (harness %.2f); the caller's thread alone %.2f" % (
        r["calls"], got, want, r["cpu_s"] / (r["latency_s"]["mean"] * r["calls"]))
