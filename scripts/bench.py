#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""make bench: what inferlat costs, side by side with the floor (empty BPF
programs on a bare uprobe+uretprobe pair), bpftrace and bcc's funclatency, in
one run on this machine.

  1. added cost per traced call, for three prologue kinds
  2. loss: events delivered vs calls made at the highest call rates
  3. agent footprint: inferlat's (and bpftrace's) CPU and RSS at given rates
  4. accuracy: reported percentiles vs the fixture's exact ones
  5. attach time for 1, 100 and 1000 functions
  6. overhead on real runtimes: the llama.cpp, ONNX Runtime and libtorch
     harnesses' per-inference latency with no probe, the floor and bpftrace
     at the main probe, and inferlat -r
  7. the request layer's (--http) cost per syscall
  8. the cost to the rest of the host: perf bench sched pipe and syscall
     basic, untraced and traced, without and with inferlat (and --http)

Every figure is the min and median of --runs runs, configurations taken in
turn within each run. The tables go to stdout and to bench/results.md (the
hand-written notes after the NOTES marker are kept); --json writes every raw
number. This measures and reports; it decides no test. --smoke runs each mode
once on tiny sizes (tests/integration/test_bench.py)."""
import argparse
import json
import math
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402  (the fixture and its exact quantiles, shared with the tests)

BPFTRACE = "bpftrace"
FUNCLATENCY = "/usr/sbin/funclatency-bpfcc"
NOTES = "<!-- NOTES: everything below is written by hand and kept when the driver rewrites this file -->"

# The fixture's trivial functions (tests/fixtures/prologues.S): -B kind,
# symbol, and how far inferlat moves the entry probe (past endbr64).
PROLOGUES = [("endbr", "proto_endbr", 4, "`endbr64; push %rbp`"),
             ("push", "proto_push", 0, "`push %rbp`"),
             ("nop5", "proto_nop5", 0, "5-byte `nop`")]

FULL = {"sys_ops": 300000, "sys_http_ops": 30000, "host_pipe_ops": 100000, "host_sys_ops": 1000000,
        "cost_calls": 30000, "base_calls": 20000000, "loss_calls": 600000,
        "fp_seconds": 3.0, "fp_max_calls": 400000, "acc_calls": 5000,
        "attach_bpftrace_max": 1000,
        "llama_seqs": 4, "llama_gen": 63, "ort_runs": 300, "ort_batch": 16,
        "torch_runs": 100, "torch_batch": 16}
SMOKE = {"sys_ops": 20000, "sys_http_ops": 2000, "host_pipe_ops": 5000, "host_sys_ops": 50000,
         "cost_calls": 2000, "base_calls": 200000, "loss_calls": 20000,
         "fp_seconds": 0.3, "fp_max_calls": 20000, "acc_calls": 300,
         "attach_bpftrace_max": 1,
         "llama_seqs": 1, "llama_gen": 7, "ort_runs": 10, "ort_batch": 16,
         "torch_runs": 10, "torch_batch": 16}
FP_RATES = [1000, 10000, 100000, 0]   # 0: as fast as the thread can
ACC_DIST = "bimodal:300,3000,0.03"    # busy us: 97% ~300 us, 3% ~3 ms
ATTACH_SIZES = [(1, "bench_fn_0000"), (100, "bench_fn_00*"), (1000, "bench_fn_0*")]


class BenchError(Exception):
    pass


# ---------------------------------------------------------------- histograms

SUFFIX = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
BPFTRACE_ROW = re.compile(r"^\[(\d+)([KMGT]?)(?:, (\d+)([KMGT]?))?[\])]\s+(\d+)\s*\|")
BCC_ROW = re.compile(r"^\s*(\d+) -> (\d+)\s*:\s*(\d+)\s*\|")


def parse_bpftrace_hist(text, name="@h"):
    """bpftrace's hist() printout of map `name` -> [(lo, hi), count] with hi
    exclusive: '[0]', '[1]', '[2, 4)', '[8K, 16K)' (K = 1024)."""
    buckets, inside = [], False
    for line in text.splitlines():
        if line.startswith("@"):
            inside = line.split(":")[0].strip() == name
            continue
        m = BPFTRACE_ROW.match(line) if inside else None
        if not m:
            continue
        lo = int(m.group(1)) * SUFFIX[m.group(2)]
        hi = int(m.group(3)) * SUFFIX[m.group(4)] if m.group(3) else lo + 1
        buckets.append(((lo, hi), int(m.group(5))))
    return buckets


def parse_bcc_hist(text):
    """funclatency's printout: '8192 -> 16383 : 48233 |***|' (inclusive)."""
    return [((int(m.group(1)), int(m.group(2)) + 1), int(m.group(3)))
            for m in map(BCC_ROW.match, text.splitlines()) if m]


def bucket_quantile(buckets, q):
    """Nearest-rank quantile from a histogram: the midpoint of the bucket that
    holds it, the best a reader of the histogram can say."""
    total = sum(c for _, c in buckets)
    if not total:
        raise BenchError("empty histogram")
    rank = max(1, math.ceil(q * total))   # as harness.exact_quantile ranks
    seen = 0
    for (lo, hi), c in sorted(buckets):
        seen += c
        if seen >= rank:
            return (lo + hi) / 2.0
    raise BenchError("histogram shorter than its count")


# ---------------------------------------------------------------- processes

class Paths:
    def __init__(self, build):
        self.build = os.path.abspath(build)
        self.inferlat = os.path.join(self.build, "inferlat")
        self.server = os.path.join(self.build, "fixtures", "infer-server")
        self.libinfer = os.path.realpath(os.path.join(self.build, "fixtures", "libinfer.so.1"))
        self.floor = os.path.join(self.build, "bench", "floor")
        self.libmany = os.path.join(self.build, "bench", "libmany.so")
        self.kheaders = os.path.join(self.build, "bench", "kernel-headers")
        self.llama_harness = os.path.join(self.build, "fixtures", "llama-harness")   # checked by its section
        self.syscalls = os.path.join(self.build, "bench", "syscalls")
        for f in (self.inferlat, self.server, self.floor, self.libmany, self.kheaders, self.syscalls):
            if not os.path.exists(f):
                raise BenchError("%s is missing: run make bench (it builds all the benchmark needs)" % f)


class Background:
    """A tool running in the background; its output goes to files."""

    def __init__(self, name, cmd, wd, ready, env=None):
        self.name = name
        self.ready = ready
        self.out_path = os.path.join(wd, name + ".out")
        self.err_path = os.path.join(wd, name + ".err")
        self.started = time.monotonic()
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen([str(c) for c in cmd], stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL, env=env)
        self.pid = self.proc.pid

    def output(self):
        with open(self.out_path) as o, open(self.err_path) as e:
            return o.read(), e.read()

    def wait_ready(self, timeout=60):
        """Until the tool says its probes are in place; returns the seconds it took."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out, err = self.output()
            if self.ready(out, err):
                return time.monotonic() - self.started
            if self.proc.poll() is not None:
                raise BenchError("%s exited (%d) before attaching: %s" % (
                    self.name, self.proc.returncode, (err or out).strip()[-600:]))
            time.sleep(0.01)
        raise BenchError("%s not attached after %ds" % (self.name, timeout))

    def stop(self, timeout=60):
        """SIGINT (every tool here prints its summary then), wait, the output."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise BenchError("%s did not stop within %ds of SIGINT" % (self.name, timeout))
        return self.output()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Workload:
    """infer-server -B: a tight loop of one trivial function, started held
    (-w) until go(); it reports its own calls, ns per call and seconds."""

    def __init__(self, paths, kind, calls, threads=1, rate=0):
        self.proc = subprocess.Popen([paths.server, "-B", kind, "-n", str(calls), "-t", str(threads),
                                      "-r", str(rate), "-w"], stdout=subprocess.PIPE, text=True)
        self.pid = self.proc.pid
        line = self.proc.stdout.readline()
        if not line.startswith("ready "):
            self.kill()
            raise BenchError("infer-server -B %s did not start: %r" % (kind, line))

    def go(self):
        os.kill(self.pid, signal.SIGUSR1)

    def result(self, timeout=600):
        out, _ = self.proc.communicate(timeout=timeout)
        m = re.search(r"calls (\d+) ns_per_call ([\d.]+) seconds ([\d.]+)", out)
        if self.proc.returncode or not m:
            raise BenchError("infer-server -B failed (%d): %r" % (self.proc.returncode, out))
        return {"calls": int(m.group(1)), "ns_per_call": float(m.group(2)), "seconds": float(m.group(3))}

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def agent_sample(pid):
    """(monotonic time, CPU ns of all of pid's threads so far, VmRSS KiB,
    VmHWM KiB); None once the process is gone."""
    try:
        cpu = 0
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    cpu += int(f.read().split()[0])   # the scheduler's ns, not ticks
            except (OSError, ValueError):
                pass   # a thread that just exited
        mem = {}
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    mem[k] = int(v.split()[0])
        return (time.monotonic(), cpu, mem["VmRSS"], mem["VmHWM"])
    except (OSError, KeyError):
        return None   # gone, or a zombie without memory


# ---------------------------------------------------------------- tools

class Floor:
    """Empty programs on a bare probe pair (tests/bench/floor.c)."""

    def __init__(self, perf=False, at_site=False):
        self.perf, self.at_site = perf, at_site
        self.name = "floor" + (" (perf uprobe)" if perf else "")

    def start(self, paths, wd, pid, lib, sym, skip):
        spec = sym + ("+%d" % skip if self.at_site and skip else "")
        cmd = [paths.floor] + (["--perf"] if self.perf else []) + [pid, lib, spec]
        return Background("floor", cmd, wd, lambda out, err: "attached" in out)

    def summary(self, bg, out, err):
        return {}


class Inferlat:
    def __init__(self, *extra, name="inferlat"):
        self.extra = list(extra)
        self.name = name

    def start(self, paths, wd, pid, lib, sym, skip):
        self.json = os.path.join(wd, "inferlat.jsonl")
        cmd = [paths.inferlat, "-p", pid, "-e", "%s:%s" % (lib, sym), "-q", "--json", self.json] + self.extra
        return Background("inferlat", cmd, wd, lambda out, err: "inferlat: tracing " in err)

    def summary(self, bg, out, err):
        if bg.proc.returncode:
            raise BenchError("inferlat exited %d: %s" % (bg.proc.returncode, err.strip()[-600:]))
        with open(self.json) as f:
            final = [r for r in (json.loads(l) for l in f if l.strip()) if r.get("final") and "type" not in r]
        if len(final) != 1:
            raise BenchError("inferlat: %d final records" % len(final))
        r = final[0]
        s = {"calls": r["calls"], "lost": r["lost"], "kernel": r.get("source") == "kernel"}
        if "latency_s" in r:
            s.update({k: r["latency_s"][k] * 1e9 for k in ("p50", "p99", "p999")})
        return s


def hist_summary(buckets):
    s = {"calls": sum(c for _, c in buckets)}
    if s["calls"]:
        s.update({"p50": bucket_quantile(buckets, 0.5), "p99": bucket_quantile(buckets, 0.99),
                  "p999": bucket_quantile(buckets, 0.999)})
    return s


class Bpftrace:
    """uprobe/uretprobe with hist(), as its one-liners time a function."""
    name = "bpftrace"
    SCRIPT = ("BEGIN { printf(\"ready\\n\"); } "
              "uprobe:%(lib)s:%(sym)s %(filter)s{ @start[tid] = nsecs; } "
              "uretprobe:%(lib)s:%(sym)s /@start[tid]/ { @h = hist(nsecs - @start[tid]); delete(@start[tid]); } "
              "END { clear(@start); }")

    def __init__(self, *extra, only_pid=False):
        """only_pid: a pid == PID predicate on the entry probe. bpftrace 0.17
        attaches a library's uprobes for every process, -p or not: needed
        where others may run the same library (section 6's libtorch is
        Debian's, which other tests on the host load too)."""
        self.extra = list(extra)
        self.only_pid = only_pid

    def start(self, paths, wd, pid, lib, sym, skip):
        # BEGIN fires once every probe is attached
        env = dict(os.environ, BPFTRACE_MAX_PROBES="4096")
        only = "/pid == %d/ " % pid if self.only_pid else ""
        script = self.SCRIPT % {"lib": lib, "sym": sym, "filter": only}
        return Background("bpftrace", [BPFTRACE, *self.extra, "-p", pid, "-e", script],
                          wd, lambda out, err: "ready\n" in out, env=env)

    def summary(self, bg, out, err):
        return hist_summary(parse_bpftrace_hist(out))


class Bcc:
    name = "bcc funclatency"

    def start(self, paths, wd, pid, lib, sym, skip):
        env = dict(os.environ, BCC_KERNEL_SOURCE=paths.kheaders)
        return Background("funclatency", [FUNCLATENCY, "-p", pid, "%s:%s" % (lib, sym)], wd,
                          lambda out, err: "Tracing " in out, env=env)

    def summary(self, bg, out, err):
        return hist_summary(parse_bcc_hist(out))


def traced_run(paths, tool, workload, target, timeout=600):
    """Attach tool to a held workload, release it, stop the tool: the
    workload's result and the tool's summary."""
    bg = None
    with tempfile.TemporaryDirectory(prefix="inferlat-bench-") as wd:
        try:
            if tool:
                bg = tool.start(paths, wd, workload.pid, *target)
                bg.wait_ready()
            workload.go()
            res = workload.result(timeout)
            if bg:
                out, err = bg.stop()
                res["tool"] = tool.summary(bg, out, err)
            return res
        finally:
            workload.kill()
            if bg:
                bg.kill()


def counted_all(tool, res, made):
    got = res.get("tool", {}).get("calls")
    if got is not None and got != made:
        raise BenchError("%s counted %d calls, the workload made %d" % (tool.name, got, made))


# ---------------------------------------------------------------- measurements

def med(v):
    return statistics.median(v)


def bench_cost(paths, sizes, runs, log):
    out = []
    for kind, sym, skip, desc in PROLOGUES:
        site = "symbol+%d" % skip if skip else "symbol"
        configs = [("no probe", None, "-"),
                   ("floor", Floor(), "symbol"),
                   ("floor (perf uprobe)", Floor(perf=True), "symbol")]
        if skip:
            configs += [("floor", Floor(at_site=True), site),
                        ("floor (perf uprobe)", Floor(perf=True, at_site=True), site)]
        configs += [("inferlat", Inferlat(), site)]
        if skip:
            configs += [("inferlat --site symbol", Inferlat("--site", "symbol"), "symbol")]
        configs += [("bpftrace", Bpftrace(), "symbol"), ("bcc funclatency", Bcc(), "symbol")]
        samples = [[] for _ in configs]
        for run in range(runs):
            for i, (name, tool, where) in enumerate(configs):
                n = sizes["base_calls"] if tool is None else sizes["cost_calls"]
                res = traced_run(paths, tool, Workload(paths, kind, n), (paths.libinfer, sym, skip))
                if tool:
                    counted_all(tool, res, n)
                samples[i].append(res["ns_per_call"])
                log("cost %s run %d %-24s %-10s %10.1f ns/call" % (kind, run + 1, name, where, res["ns_per_call"]))
        base = med(samples[0])
        rows = [{"tool": name, "site": where, "ns": s, "min": min(s), "median": med(s),
                 "added": med(s) - base if tool else None} for (name, tool, where), s in zip(configs, samples)]
        floor_at = {r["site"]: r["added"] for r in rows if r["tool"] == "floor"}
        bpftrace = next(r["added"] for r in rows if r["tool"] == "bpftrace")
        for r in rows:
            if r["added"] is not None:
                r["x_floor"] = r["added"] / floor_at[r["site"]]
                r["x_bpftrace"] = r["added"] / bpftrace
        out.append({"kind": kind, "symbol": sym, "prologue": desc, "skip": skip, "rows": rows})
    return out


def bench_loss(paths, sizes, runs, log):
    n = sizes["loss_calls"]
    # per-call events flow only when something reads them: --calls here
    # (decoded arguments and several traced processes need them too)
    calls = ("--calls", "/dev/null")
    configs = [("1 thread", "nop5", 1, calls),
               ("2 threads (both cores)", "nop5", 2, calls),
               ("2 threads, 4 KiB ring buffer", "nop5", 2, calls + ("--ringbuf-size", "4096"))]
    out = []
    for label, kind, threads, extra in configs:
        out.append({"config": label, "kind": kind, "threads": threads, "runs": []})
    for run in range(runs):
        for row, (label, kind, threads, extra) in zip(out, configs):
            res = traced_run(paths, Inferlat(*extra), Workload(paths, kind, n, threads),
                             (paths.libinfer, "proto_" + kind, 0))
            t = res["tool"]
            r = {"made": res["calls"], "rate": res["calls"] / res["seconds"], "counted": t["calls"],
                 "lost": t["lost"], "delivered": t["calls"] - t["lost"], "kernel": t["kernel"]}
            row["runs"].append(r)
            log("loss %-30s run %d: %d calls at %.0f/s, counted %d, lost %d" % (
                label, run + 1, r["made"], r["rate"], r["counted"], r["lost"]))
    return out


def bench_footprint(paths, sizes, runs, log):
    tools = [Inferlat(), Bpftrace()]
    out = [{"tool": t.name, "rate": rate, "runs": []} for t in tools for rate in FP_RATES]
    for run in range(runs):
        for row in out:
            tool = tools[0] if row["tool"] == "inferlat" else tools[1]
            rate = row["rate"]
            n = int(rate * sizes["fp_seconds"]) if rate else sizes["fp_max_calls"]
            w = Workload(paths, "push", n, 1, rate)
            with tempfile.TemporaryDirectory(prefix="inferlat-bench-") as wd:
                bg = tool.start(paths, wd, w.pid, paths.libinfer, "proto_push", 0)
                try:
                    bg.wait_ready()
                    first = agent_sample(bg.pid)
                    w.go()
                    # sampled while it runs: bpftrace -p exits with its target
                    samples = [first]
                    grace = None
                    while True:
                        s = agent_sample(bg.pid)
                        if s is None:
                            break
                        samples.append(s)
                        if grace is None and w.proc.poll() is not None:
                            # inferlat reads events on a 100 ms tick: let it take in the last ones
                            grace = time.monotonic() + 0.15
                        if grace is not None and time.monotonic() >= grace:
                            break
                        time.sleep(0.02)
                    res = w.result()
                    o, e = bg.stop()
                    counted_all(tool, {"tool": tool.summary(bg, o, e)}, res["calls"])
                finally:
                    w.kill()
                    bg.kill()
            last = samples[-1]
            r = {"calls": res["calls"], "rate": res["calls"] / res["seconds"],
                 "cpu_share": (last[1] - first[1]) / 1e9 / (last[0] - first[0]),
                 "rss_kib": last[2], "hwm_kib": max(x[3] for x in samples)}
            row["runs"].append(r)
            log("footprint %-9s %7s/s run %d: %.0f calls/s, %.2f%% of a core, RSS %d KiB" % (
                row["tool"], rate or "max", run + 1, r["rate"], 100 * r["cpu_share"], r["rss_kib"]))
    return out


def bench_accuracy(paths, sizes, runs, log):
    tools = [Inferlat(), Bpftrace(), Bcc()]
    out = [{"tool": t.name, "runs": []} for t in tools]
    for run in range(runs):
        for row, tool in zip(out, tools):
            wd = harness.Workdir()
            try:
                fx = harness.Fixture(wd, "-n", sizes["acc_calls"], "-b", ACC_DIST, "-s", "fixed:0",
                                     "-S", run + 1, exe=paths.server)
                bg = None
                try:
                    bg = tool.start(paths, wd.path, fx.pid, paths.libinfer, "infer_run", 0)
                    bg.wait_ready()
                    fx.go()
                    fx.wait()
                    o, e = bg.stop()
                    s = tool.summary(bg, o, e)
                finally:
                    fx.kill()
                    if bg:
                        bg.kill()
                durs = [r["dur_ns"] for r in fx.records()]
            finally:
                wd.cleanup()
            if s["calls"] != len(durs):
                raise BenchError("%s counted %d calls, the fixture made %d" % (tool.name, s["calls"], len(durs)))
            r = {"calls": len(durs)}
            for key, q in (("p50", 0.5), ("p99", 0.99), ("p999", 0.999)):
                exact = harness.exact_quantile(durs, q)
                r[key] = {"exact_ns": exact, "reported_ns": s[key], "rel_err": abs(s[key] - exact) / exact}
            row["runs"].append(r)
            log("accuracy %-16s run %d: " % (tool.name, run + 1) + ", ".join(
                "%s %.2f%%" % (k, 100 * r[k]["rel_err"]) for k in ("p50", "p99", "p999")))
    return out


HOST = "import ctypes, signal, sys; ctypes.CDLL(sys.argv[1]); print('ready', flush=True); signal.pause()"


def timed_stop(bg, timeout):
    t0 = time.monotonic()
    out, err = bg.stop(timeout)
    return time.monotonic() - t0, out, err


def bench_attach(paths, runs, bpftrace_max, log):
    """inferlat every run; bpftrace once per size (its detach takes minutes
    for a thousand probes here), and only up to bpftrace_max functions."""
    out = [{"symbols": n, "glob": g, "inferlat_attach": [], "inferlat_ready": [], "inferlat_stop": []}
           for n, g in ATTACH_SIZES]
    host = subprocess.Popen(["/usr/bin/python3", "-c", HOST, paths.libmany], stdout=subprocess.PIPE, text=True)
    try:
        if host.stdout.readline().strip() != "ready":
            raise BenchError("the attach-time host process did not load %s" % paths.libmany)
        for run in range(runs):
            for row in out:
                n, glob = row["symbols"], row["glob"]
                with tempfile.TemporaryDirectory(prefix="inferlat-bench-") as wd:
                    bg = Inferlat("--max-probes", str(n)).start(paths, wd, host.pid, paths.libmany, glob, 0)
                    try:
                        ready = bg.wait_ready()
                        stop, _, err = timed_stop(bg, 120)
                    finally:
                        bg.kill()
                m = re.search(r"tracing (\d+) functions? .*attached in ([\d.]+)s", err)
                if not m or int(m.group(1)) != n:
                    raise BenchError("inferlat did not attach %d functions: %s" % (n, err.strip()))
                row["inferlat_attach"].append(float(m.group(2)))
                row["inferlat_ready"].append(ready)
                row["inferlat_stop"].append(stop)
                log("attach %4d functions run %d: inferlat attach %.4fs, start to tracing %.3fs, "
                    "exit %.3fs" % (n, run + 1, row["inferlat_attach"][-1], ready, stop))
        for row in out:
            n, glob = row["symbols"], row["glob"]
            if n > bpftrace_max:
                continue
            with tempfile.TemporaryDirectory(prefix="inferlat-bench-") as wd:
                bt = Bpftrace().start(paths, wd, host.pid, paths.libmany, glob, 0)
                try:
                    ready = bt.wait_ready(timeout=300)
                    stop, out_bt, err = timed_stop(bt, 900)
                finally:
                    bt.kill()
            m = re.search(r"Attaching (\d+) probes", out_bt + err)
            # an entry and a return probe per function, BEGIN and END
            if not m or int(m.group(1)) != 2 * n + 2:
                raise BenchError("bpftrace did not attach %d probes: %s" % (2 * n + 2, err.strip()[-300:]))
            row["bpftrace_ready"], row["bpftrace_stop"] = ready, stop
            log("attach %4d functions: bpftrace start to ready %.3fs, exit %.3fs" % (n, ready, stop))
    finally:
        host.kill()
        host.wait()
    return out


# ---------------------------------------------------------------- real runtimes

RUNTIMES_DIR = os.path.join(ROOT, "runtimes", "node_modules")   # scripts/runtimes.sh
ORT_DIR = os.path.join(RUNTIMES_DIR, "onnxruntime-node")
LLAMA_BINS = os.path.join(RUNTIMES_DIR, "@node-llama-cpp", "linux-x64", "bins", "linux-x64")
FIXTURE_SRC = os.path.join(ROOT, "tests", "fixtures")
PY = "/usr/bin/python3"   # Debian's: python3-onnx, python3-torch

# -r NAME, its main probe (one call per inference), what one inference is
RUNTIMES = [("llama.cpp", "llama_decode", "one `llama_decode` (a prompt batch or one generated token)"),
            ("onnxruntime", "OrtApi::Run", "one `session.run` (onnxruntime-node)"),
            ("libtorch", "torch::jit::GraphExecutor::run", "one TorchScript forward (`GraphExecutor::run`)")]


def runtime_models(wd):
    """The harnesses' models, made as the preset tests make them."""
    models = {"gguf": os.path.join(wd, "tiny.gguf"), "onnx": os.path.join(wd, "mlp.onnx")}
    for script, out in (("make-gguf-llama.py", models["gguf"]), ("make-onnx-mlp.py", models["onnx"])):
        r = subprocess.run([PY, os.path.join(FIXTURE_SRC, script), out], capture_output=True, text=True,
                           timeout=300)
        if r.returncode:
            raise BenchError("%s failed: %s" % (script, r.stderr.strip()[-600:]))
    return models


def runtime_harness_cmd(paths, name, models, sizes, log):
    """The harness command and the inferences it makes."""
    if name == "llama.cpp":
        n = sizes["llama_seqs"] * (sizes["llama_gen"] + 1)
        return [paths.llama_harness, LLAMA_BINS, models["gguf"], sizes["llama_seqs"], sizes["llama_gen"], log], n
    if name == "onnxruntime":
        return ["node", os.path.join(FIXTURE_SRC, "ort-harness.js"), ORT_DIR, models["onnx"], sizes["ort_runs"],
                sizes["ort_batch"], log], sizes["ort_runs"]
    return [PY, os.path.join(FIXTURE_SRC, "torch-harness.py"), sizes["torch_runs"], sizes["torch_batch"],
            log], sizes["torch_runs"]


class RuntimeHarness:
    """A runtime harness (tests/fixtures): loads its runtime and model, says
    'ready PID', runs its inferences at SIGUSR1 timing each one itself, and
    logs '[N_TOKENS] START END' per inference (CLOCK_MONOTONIC ns; '#' lines
    are not inferences)."""

    def __init__(self, cmd, log):
        self.log = log
        self.proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, text=True,
                                     stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid
        line = self.proc.stdout.readline()
        if not line.startswith("ready "):
            self.kill()
            raise BenchError("%s did not start: %r" % (" ".join(str(c) for c in cmd[:2]), line))

    def go(self):
        os.kill(self.pid, signal.SIGUSR1)

    def result(self, timeout=900):
        """Every inference's duration in ns, by the harness's own clock."""
        out, _ = self.proc.communicate(timeout=timeout)
        if self.proc.returncode:
            raise BenchError("harness %d exited %d: %r" % (self.pid, self.proc.returncode, out))
        with open(self.log) as f:
            return [int(l.split()[-1]) - int(l.split()[-2]) for l in f if l.strip() and not l.startswith("#")]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def is_probe(record, symbol):
    """record's probe is LIB:symbol, with or without a parameter list."""
    fn = record["probe"].split(":", 1)[1] if ":" in record["probe"] else record["probe"]
    return fn == symbol or fn.startswith(symbol + "(")


# section 6's configurations, in this order in run 1 and rotated by one each run
RT_TOOLS = ["none", "floor", "bpftrace", "inferlat"]
SITE_LINE = r"probe \d+: [^\s:]+:%s(?:\(.*\))? at (/\S+)\+0x([0-9a-f]+): (.*)$"


def runtime_site(paths, name, main, cmd, log, wd):
    """Where inferlat -r name puts the main probe's entry probe, from its -v
    report in a harness held before its first inference: the library, that
    file offset, the function's own entry (the endbr64 inferlat steps over,
    or the same offset) and how the kernel handles the probed instruction.
    ONNX Runtime's Run has no symbol (inferlat finds it through the OrtApi
    table): an offset is what the floor and bpftrace can be given for all three."""
    h = RuntimeHarness(cmd, log)
    bg = None
    try:
        bg = Background("inferlat-v", [paths.inferlat, "-v", "-p", h.pid, "-r", name, "-q"], wd,
                        lambda out, err: "inferlat: tracing " in err)
        bg.wait_ready(timeout=180)
        _, err = bg.stop()
    finally:
        h.kill()
        if bg:
            bg.kill()
    m = re.search(SITE_LINE % re.escape(main), err, re.M)
    if not m:
        raise BenchError("inferlat -v -r %s did not say where it probes %s: %s" % (name, main, err.strip()[-600:]))
    site, how = int(m.group(2), 16), m.group(3)
    skipped = "skipped endbr64" in how
    return {"lib": m.group(1), "site": site, "entry": site - 4 if skipped else site,
            "how": how.split(";")[0].strip(), "skipped_endbr": skipped}


def runtime_run(paths, name, main, cmd, log, made, tool, site, wd):
    """One fresh harness, with tool attached while it is held (or none): its
    mean inference time and what the tool counted. The floor: empty programs
    at inferlat's entry site; bpftrace: at the function's entry (the only
    place its uretprobe may go), --unsafe for an address no symbol names;
    inferlat: -r name, every probe of the preset."""
    h = RuntimeHarness(cmd, log)
    bg = js = None
    try:
        if tool == "floor":
            bg = Background("floor", [paths.floor, h.pid, site["lib"], "0x%x" % site["site"]], wd,
                            lambda out, err: "attached" in out)
        elif tool == "bpftrace":
            # quoted: bpftrace's parser stops at the '@' of @node-llama-cpp
            bt = Bpftrace("--unsafe", only_pid=True)
            bg = bt.start(paths, wd, h.pid, '"%s"' % site["lib"], "0x%x" % site["entry"], 0)
        elif tool == "inferlat":
            js = os.path.join(wd, "inferlat.jsonl")
            bg = Background("inferlat", [paths.inferlat, "-p", h.pid, "-r", name, "-q", "--json", js], wd,
                            lambda out, err: "inferlat: tracing " in err)
        if bg:
            bg.wait_ready(timeout=180)
        h.go()
        durs = h.result()
        if len(durs) != made:
            raise BenchError("%s harness logged %d inferences, it was asked for %d" % (name, len(durs), made))
        r = {"made": made, "mean_us": sum(durs) / len(durs) / 1e3}
        if tool in ("floor", "bpftrace"):
            out, err = bg.stop()   # bpftrace -p has stopped with its target: its histogram is out
            if bg.proc.returncode and tool == "floor":
                raise BenchError("floor exited %d: %s" % (bg.proc.returncode, err.strip()[-600:]))
            if tool == "bpftrace":
                r["counted"] = hist_summary(parse_bpftrace_hist(out))["calls"]
                if r["counted"] != made:
                    raise BenchError("bpftrace counted %d of %d %s calls: %s" % (
                        r["counted"], made, main, (err or out).strip()[-600:]))
        elif tool == "inferlat":
            # inferlat -p stops by itself when its last target exits
            try:
                bg.proc.wait(60)
            except subprocess.TimeoutExpired:
                raise BenchError("inferlat -r %s still running 60 s after its target exited" % name)
            _, err = bg.output()
            if bg.proc.returncode:
                raise BenchError("inferlat -r %s exited %d: %s" % (name, bg.proc.returncode, err.strip()[-600:]))
            with open(js) as f:
                final = [x for x in (json.loads(l) for l in f if l.strip()) if x.get("final") and "type" not in x]
            mains = [x for x in final if is_probe(x, main)]
            if len(mains) != 1:
                raise BenchError("inferlat -r %s: %d final records of %s: %s" % (
                    name, len(mains), main, [x["probe"] for x in final]))
            r.update({"counted": mains[0]["calls"], "lost": sum(x["lost"] for x in final),
                      "hits": sum(x["calls"] for x in final), "probes": len(final)})
        return r
    finally:
        h.kill()
        if bg:
            bg.kill()


def bench_runtimes(paths, sizes, runs, log):
    """Each run: every runtime's harness without a probe, with the floor,
    with bpftrace and with inferlat -r NAME (the preset's default probes: the nested ones
    of --breakdown and --ops are opt-in), each a fresh harness, the order
    rotated every run so that none always comes first."""
    for f, what in ((paths.llama_harness, "the llama.cpp harness"),
                    (os.path.join(LLAMA_BINS, "libllama.v0.5.0.so"), "llama.cpp (runtimes/)"),
                    (os.path.join(ORT_DIR, "package.json"), "onnxruntime-node (runtimes/)")):
        if not os.path.exists(f):
            raise BenchError("%s is missing (%s): run make bench (make deps installs the runtimes)" % (what, f))
    out = [{"runtime": name, "probe": main, "inference": desc, "without_us": [], "floor_us": [], "bpftrace_us": [],
            "with": []} for name, main, desc in RUNTIMES]
    with tempfile.TemporaryDirectory(prefix="inferlat-bench-") as mwd:
        models = runtime_models(mwd)
        for row in out:
            with tempfile.TemporaryDirectory(prefix="inferlat-bench-") as wd:
                hlog = os.path.join(wd, "harness.log")
                cmd, row["made"] = runtime_harness_cmd(paths, row["runtime"], models, sizes, hlog)
                row["site"] = runtime_site(paths, row["runtime"], row["probe"], cmd, hlog, wd)
            log("runtimes %-11s %s at %s+%#x (%s), function entry %#x" % (
                row["runtime"], row["probe"], row["site"]["lib"], row["site"]["site"], row["site"]["how"],
                row["site"]["entry"]))
        for run in range(runs):
            order = RT_TOOLS[run % len(RT_TOOLS):] + RT_TOOLS[:run % len(RT_TOOLS)]
            for row in out:
                name, main = row["runtime"], row["probe"]
                for tool in order:
                    with tempfile.TemporaryDirectory(prefix="inferlat-bench-") as wd:
                        hlog = os.path.join(wd, "harness.log")
                        cmd, made = runtime_harness_cmd(paths, name, models, sizes, hlog)
                        r = runtime_run(paths, name, main, cmd, hlog, made, tool, row["site"], wd)
                    if tool == "inferlat":
                        row["with"].append(r)
                        log("runtimes %-11s run %d inferlat: %9.1f us per inference; "
                            "%s counted %d of %d, %d probe hits" % (
                                name, run + 1, r["mean_us"], main, r["counted"], made, r["hits"]))
                    else:
                        row["without_us" if tool == "none" else tool + "_us"].append(r["mean_us"])
                        log("runtimes %-11s run %d %-8s: %9.1f us per inference" % (
                            name, run + 1, tool, r["mean_us"]))
    for row in out:
        base = med(row["without_us"])
        row["with_us"] = [r["mean_us"] for r in row["with"]]
        for key, samples in (("added", row["with_us"]), ("floor_added", row["floor_us"]),
                             ("bpftrace_added", row["bpftrace_us"])):
            row[key + "_us"] = med(samples) - base
            row[key + "_ratio"] = (med(samples) - base) / base
        row["over_floor_us"] = row["added_us"] - row["floor_added_us"]
        row["counted_all"] = all(r["counted"] == r["made"] for r in row["with"])
    return out


# ---------------------------------------------------------------- report

# section 7: (label, loop mode, who inferlat traces, its request-layer option)
SYS_LOOPS = [("write(2) to /dev/null, untraced process", "devnull", "other"),
             ("getppid(2), untraced process", "getppid", "other"),
             ("HTTP exchange on loopback TCP (4 syscalls), traced server", "http", "self")]
SYS_TOOLS = ["none", "inferlat", "inferlat --http"]


def sys_loop(paths, mode, n, tool, wd):
    """One fresh loop process, inferlat attached as tool says (to the loop
    itself, or to a sleeping process when the loop is to be untraced)."""
    loop = subprocess.Popen([paths.syscalls, mode, str(n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    other = None
    bg = None
    try:
        line = loop.stdout.readline()
        if not line.startswith("ready "):
            raise BenchError("syscalls %s did not start: %r" % (mode, line))
        if tool != "none":
            target = loop.pid
            if mode != "http":
                other = subprocess.Popen(["sleep", "600"])
                target = other.pid
            # without --http, one probe on a function the loop never calls:
            # the scheduler programs and nothing else run for it
            args = ["--http"] if tool == "inferlat --http" else ["-e", "libc.so.6:getpwnam"]
            if tool == "inferlat --http" and mode == "http":
                args += ["--json", os.path.join(wd, "http.jsonl")]
            bg = Background(tool.replace(" ", ""), [paths.inferlat, "-p", target, "-q", *args], wd,
                            lambda o, e: "inferlat: tracing " in e)
            bg.wait_ready()
        loop.stdin.write("go\n")
        loop.stdin.flush()
        out, _ = loop.communicate(timeout=600)
        m = re.search(r"ns_per_op ([\d.]+)", out)
        if loop.returncode or not m:
            raise BenchError("syscalls %s failed (%d): %r" % (mode, loop.returncode, out))
        if bg:
            bg.stop()
        if tool == "inferlat --http" and mode == "http":
            # the connection predates inferlat: followed from /proc, every exchange counted
            with open(os.path.join(wd, "http.jsonl")) as f:
                recs = [json.loads(l) for l in f if l.strip()]
            got = sum(r["requests"] for r in recs if r.get("type") == "http" and r["final"])
            if got != n:
                raise BenchError("inferlat --http counted %d of the loop's %d exchanges" % (got, n))
        return float(m.group(1))
    finally:
        if loop.poll() is None:
            loop.kill()
            loop.wait()
        if bg:
            bg.kill()
        if other:
            other.kill()
            other.wait()


def bench_syscalls(paths, sizes, runs, log):
    out = []
    for label, mode, _ in SYS_LOOPS:
        row = {"loop": label, "mode": mode, "ns": {t: [] for t in SYS_TOOLS}}
        n = sizes["sys_http_ops"] if mode == "http" else sizes["sys_ops"]
        for run in range(runs):
            # the configurations take turns, in a different order each run
            order = SYS_TOOLS[run % 3:] + SYS_TOOLS[:run % 3]
            for tool in order:
                with tempfile.TemporaryDirectory(prefix="inferlat-bench-") as wd:
                    v = sys_loop(paths, mode, n, tool, wd)
                row["ns"][tool].append(v)
                log("syscalls %-8s %-16s run %d: %.1f ns/op" % (mode, tool, run + 1, v))
        base = med(row["ns"]["none"])
        row["added"] = {t: med(row["ns"][t]) - base for t in SYS_TOOLS}
        row["ratio"] = {t: med(row["ns"][t]) / base for t in SYS_TOOLS}
        out.append(row)
    return out


# section 8: (key, perf's arguments before the loop count, size key, what one op is)
PERF = "/usr/bin/perf"   # Debian's linux-perf
HOST_BENCHES = [("pipe", ["bench", "sched", "pipe", "-l"], "host_pipe_ops"),
                ("syscall", ["bench", "syscall", "basic", "-l"], "host_sys_ops")]
# (label, whom inferlat traces, its options): "other" a held fixture, "perf" perf itself
HOST_CONFIGS = [("none", None, []),
                ("inferlat", "other", []),
                ("inferlat --http", "other", ["--http"]),
                ("inferlat", "perf", []),
                ("inferlat --http", "perf", ["--http"])]
# perf calls it a few times, before and after its timed loop, never in it
PERF_PROBE = "libc.so.6:__printf_chk"


def perf_usecs(out):
    m = re.search(r"([\d.]+) usecs/op", out)
    if not m:
        raise BenchError("no usecs/op in perf's output: %r" % out[-600:])
    return float(m.group(1))


def host_run(paths, args, whom, extra, wd):
    """One perf bench run, pinned to one CPU, in ns per op: without
    inferlat, with inferlat tracing a held fixture (whom "other": perf's
    processes are not its targets), or as inferlat's COMMAND (whom "perf":
    perf and the child it forks are targets; the probe never fires in the
    timed loop)."""
    cmd = ["taskset", "-c", str(os.cpu_count() - 1), PERF] + [str(a) for a in args]
    if whom == "perf":
        js = os.path.join(wd, "inferlat.jsonl")
        r = subprocess.run([paths.inferlat, "-q", "--json", js, "-e", PERF_PROBE, *extra, "--", *cmd],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
        if r.returncode:
            raise BenchError("inferlat -- perf %s exited %d: %s" % (" ".join(args[:3]), r.returncode,
                                                                   r.stderr.strip()[-600:]))
        with open(js) as f:
            # its targets are the COMMAND (taskset, then perf: the same process) and perf's child
            hits = sum(x["calls"] for x in (json.loads(l) for l in f if l.strip())
                       if x.get("final") and x.get("probe") == PERF_PROBE)
        if not hits:
            raise BenchError("inferlat -- perf: no %s call of perf counted: was perf traced?" % PERF_PROBE)
        return perf_usecs(r.stdout) * 1e3
    w = bg = None
    try:
        if whom == "other":
            w = Workload(paths, "push", 1)   # held until go(): idle
            bg = Background("inferlat", [paths.inferlat, "-p", w.pid, "-e", "%s:proto_push" % paths.libinfer,
                                         "-q", *extra], wd, lambda out, err: "inferlat: tracing " in err)
            bg.wait_ready()
        r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
        if r.returncode:
            raise BenchError("perf %s exited %d: %s" % (" ".join(args[:3]), r.returncode, r.stderr.strip()[-600:]))
        if bg:
            _, err = bg.stop()
            if bg.proc.returncode:
                raise BenchError("inferlat exited %d: %s" % (bg.proc.returncode, err.strip()[-600:]))
        return perf_usecs(r.stdout) * 1e3
    finally:
        if bg:
            bg.kill()
        if w:
            w.kill()


def bench_host(paths, sizes, runs, log):
    """Each run: both perf benchmarks under every configuration, the
    configurations' order rotated every run."""
    if not os.path.exists(PERF):
        raise BenchError("%s is missing: run make deps (it installs linux-perf)" % PERF)
    rows = [{"tool": t, "whom": whom, "ns": {b: [] for b, _, _ in HOST_BENCHES}} for t, whom, _ in HOST_CONFIGS]
    for run in range(runs):
        order = list(range(len(HOST_CONFIGS)))
        order = order[run % len(order):] + order[:run % len(order)]
        for b, args, size in HOST_BENCHES:
            for i in order:
                tool, whom, extra = HOST_CONFIGS[i]
                with tempfile.TemporaryDirectory(prefix="inferlat-bench-") as wd:
                    v = host_run(paths, args + [sizes[size]], whom, extra, wd)
                rows[i]["ns"][b].append(v)
                log("host %-7s %-16s %-14s run %d: %.1f ns/op" % (
                    b, tool, {None: "", "other": "(other process)", "perf": "(perf traced)"}[whom], run + 1, v))
    for row in rows:
        row["ratio"] = {b: med(row["ns"][b]) / med(rows[0]["ns"][b]) for b, _, _ in HOST_BENCHES}
    return rows


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break

    def version(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "unknown"
    return {"kernel": platform.release(), "cpu": cpu, "cores": os.cpu_count(),
            "bpftrace": version([BPFTRACE, "--version"]),
            "bcc": version(["dpkg-query", "-W", "-f=${Version}", "bpfcc-tools"])}


def fmt_ns(v):
    return "%.0f" % v if v >= 100 else "%.1f" % v


def mm(values, f=fmt_ns):
    return "%s / %s" % (f(min(values)), f(med(values)))


def pct(v):
    return "%.2f%%" % (100 * v)


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def targets(res):
    """DESIGN.md's budgets against what was measured: (what, measured, target, met)."""
    t = []
    for p in res.get("cost", []):
        il = next(r for r in p["rows"] if r["tool"] == "inferlat")
        t.append(("added cost vs the floor at the same site, `%s`" % p["symbol"],
                  "%.2fx" % il["x_floor"], "<= 1.1x", il["x_floor"] <= 1.1))
        if p["kind"] == "endbr":
            bcc = next(r for r in p["rows"] if r["tool"] == "bcc funclatency")
            x_bcc = il["added"] / bcc["added"]
            t.append(("added cost vs bpftrace / bcc, `%s`" % p["symbol"],
                      "%.2fx / %.2fx" % (il["x_bpftrace"], x_bcc), "<= 0.5x",
                      il["x_bpftrace"] <= 0.5 and x_bcc <= 0.5))
    for row in res.get("loss", []):
        lost = max(r["lost"] for r in row["runs"])
        complete = all(r["counted"] == r["made"] for r in row["runs"])
        if row["threads"] == 1 and not row["config"].count("KiB"):
            t.append(("events lost at the single-thread maximum", str(lost), "0", lost == 0))
        t.append(("histogram complete, %s" % row["config"], "yes" if complete else "no", "every call", complete))
    for row in res.get("footprint", []):
        if row["tool"] == "inferlat" and row["rate"] == 10000:
            share = med([r["cpu_share"] for r in row["runs"]])
            t.append(("agent CPU at 10k calls/s", pct(share), "< 2%", share < 0.02))
    rss = [r["hwm_kib"] for row in res.get("footprint", []) if row["tool"] == "inferlat" for r in row["runs"]]
    if rss:
        t.append(("agent RSS (largest peak)", "%.1f MiB" % (max(rss) / 1024), "< 16 MiB", max(rss) < 16 * 1024))
    for row in res.get("attach", []):
        if row["symbols"] == 1000:
            v = med(row["inferlat_ready"])
            t.append(("1000 functions: start to tracing", "%.3f s" % v, "< 1 s", v < 1))
    for row in res.get("accuracy", []):
        if row["tool"] == "inferlat":
            for k in ("p50", "p99", "p999"):
                v = med([r[k]["rel_err"] for r in row["runs"]])
                t.append(("%s error" % k, pct(v), "<= 1%", v <= 0.01))
    for row in res.get("host", []):
        if row["whom"] == "other":
            for b, what in (("pipe", "per context switch (`perf bench sched pipe`)"),
                            ("syscall", "per syscall (`perf bench syscall basic`)")):
                v = row["ratio"][b]
                t.append(("untraced process %s, %s on another process" % (what, row["tool"]),
                          "%.3fx" % v, "<= 1.03x", v <= 1.03))
    return t


def render(res):
    m, runs = res["machine"], res["runs"]
    out = ["# inferlat benchmark", "",
           "Machine: Linux %s, %s, %d cores (a Firecracker VM shared with other work). "
           "%s; bcc %s (funclatency-bpfcc, compiled against Debian's %s: this kernel ships no headers). "
           "Written by `make bench` (`scripts/bench.py`) on %s." % (
               m["kernel"], m["cpu"], m["cores"], m["bpftrace"], m["bcc"], res["kernel_headers"], res["date"]),
           "",
           "Every figure is **min / median of %d runs**; within a run the configurations take turns, "
           "each one a fresh workload process with a freshly started tool." % runs, ""]
    if "cost" in res:
        out += ["## 1. Added cost per traced call", "",
                "`infer-server -B KIND -n N`: one thread calls a trivial function N times (%d calls traced, "
                "%d without a probe) and times the loop itself. *added* = median ns/call minus the median "
                "without a probe. *x floor*: added cost over the floor's (empty BPF programs on an "
                "uprobe_multi entry+return pair) at the same probe site; *x bpftrace*: over bpftrace's "
                "(`uprobe`/`uretprobe` with `hist()`). Every tool here counted every call." % (
                    res["sizes"]["cost_calls"], res["sizes"]["base_calls"]), ""]
        for p in res["cost"]:
            out += ["### `%s`: %s first" % (p["symbol"], p["prologue"]), ""]
            rows = [[r["tool"], r["site"], mm(r["ns"]),
                     "-" if r["added"] is None else fmt_ns(r["added"]),
                     "-" if r["added"] is None else "%.2f" % r["x_floor"],
                     "-" if r["added"] is None else "%.2f" % r["x_bpftrace"]] for r in p["rows"]]
            out += [table(["tool", "entry probe at", "ns/call (min / median)", "added ns", "x floor", "x bpftrace"],
                          rows), ""]
    if "loss" in res:
        out += ["## 2. Loss", "",
                "inferlat (`-q --calls /dev/null`: one traced process with no per-call reader sends no "
                "events at all, so a reader is given) on `proto_nop5` (the cheapest probe site, so the highest "
                "call rate) called %d times per thread as fast as possible. *counted*: calls in inferlat's "
                "final record (the in-kernel counters and histogram); *delivered*: counted minus ring-buffer "
                "drops; *lost*: the drops inferlat reports. Rows where events were lost say whether the "
                "final record came from the kernel's histogram." % res["sizes"]["loss_calls"], ""]
        rows = []
        for row in res["loss"]:
            rs = row["runs"]
            rows.append([row["config"], mm([r["rate"] / 1e3 for r in rs], lambda v: "%.0f" % v),
                         "%d" % rs[0]["made"], "%d / %d" % (min(r["lost"] for r in rs), med([r["lost"] for r in rs])),
                         "%.2f%%" % (100 * min(r["delivered"] / r["made"] for r in rs)),
                         "yes" if all(r["counted"] == r["made"] for r in rs) else "no",
                         "-" if not any(r["lost"] for r in rs) else
                         "yes" if all(r["kernel"] for r in rs if r["lost"]) else "no"])
        out += [table(["workload", "kcalls/s", "calls made", "lost (min / median)", "delivered (worst run)",
                       "counted = made, every run", "figures from the kernel when lost"], rows), ""]
    if "footprint" in res:
        out += ["## 3. Agent footprint", "",
                "`proto_push` (the same emulated probe site for both tools) called at a fixed rate for "
                "%.1f s by one thread (the rate kept by spinning on the clock), or as fast as it can "
                "(max: %d calls). CPU: the agent's own threads' scheduler time while the workload ran "
                "(and up to 150 ms more, to take in the last events), as a share of one core; RSS at "
                "the end, peak in parentheses, KiB. bpftrace aggregates in the kernel and reads nothing "
                "per call; inferlat reads every call's event. inferlat's RSS is mostly its 4 MiB ring "
                "buffer, which the kernel maps twice in a row (8 MiB counted)." % (
                    res["sizes"]["fp_seconds"], res["sizes"]["fp_max_calls"]), ""]
        rows = []
        for row in res["footprint"]:
            rs = row["runs"]
            rows.append([row["tool"], "%d" % row["rate"] if row["rate"] else "max",
                         mm([r["rate"] for r in rs], lambda v: "%.0f" % v),
                         mm([r["cpu_share"] for r in rs], pct),
                         "%d (%d)" % (med([r["rss_kib"] for r in rs]), max(r["hwm_kib"] for r in rs))])
        out += [table(["agent", "target calls/s", "achieved calls/s", "CPU, share of a core", "RSS KiB (peak)"],
                      rows), ""]
    if "accuracy" in res:
        out += ["## 4. Accuracy", "",
                "`infer-server -n %d -b %s -s fixed:0`: `infer_run` burns 300 us of CPU (97%% of calls) "
                "or 3 ms (3%%); the fixture's own clock gives every call's duration, and the exact "
                "nearest-rank percentiles. Relative error of what each tool reports (bpftrace and bcc: the "
                "midpoint of the log2 bucket holding the percentile), min / median over runs." % (
                    res["sizes"]["acc_calls"], ACC_DIST), ""]
        rows = []
        for row in res["accuracy"]:
            rows.append([row["tool"]] + [mm([r[k]["rel_err"] for r in row["runs"]], pct)
                                         for k in ("p50", "p99", "p999")])
        out += [table(["tool", "p50 error", "p99 error", "p99.9 error"], rows), ""]
    if "attach" in res:
        out += ["## 5. Attach time", "",
                "A generated library of 1024 trivial functions (`bench_fn_0000`...), loaded by an idle "
                "process; an entry and a return probe on 1, 100 or 1000 of them. inferlat: its own "
                "attach figure (creating the uprobe_multi links; it prints milliseconds), and from exec "
                "to \"tracing\" (BPF load, symbol resolution, overhead calibration, attach). bpftrace: "
                "from exec to its BEGIN probe (which fires once every probe is attached), once: detaching "
                "a thousand perf uprobes takes it minutes here. *exit*: from SIGINT until the process is "
                "gone, probes removed. Seconds.", ""]
        rows = [[row["symbols"], mm(row["inferlat_attach"], lambda v: "%.3f" % v),
                 mm(row["inferlat_ready"], lambda v: "%.3f" % v), mm(row["inferlat_stop"], lambda v: "%.3f" % v),
                 "%.3f" % row["bpftrace_ready"] if "bpftrace_ready" in row else "not run",
                 "%.1f" % row["bpftrace_stop"] if "bpftrace_stop" in row else "not run"]
                for row in res["attach"]]
        out += [table(["functions", "inferlat attach", "inferlat start to tracing", "inferlat exit",
                       "bpftrace start to ready (1 run)", "bpftrace exit (1 run)"], rows), ""]
    if "runtimes" in res:
        z = res["sizes"]
        out += ["## 6. Overhead on real runtimes", "",
                "The runtime preset tests' harnesses (`tests/fixtures/`), one runtime thread each, on models "
                "made as those tests make them. llama.cpp: `llama-harness` on @node-llama-cpp's prebuilt "
                "libllama and a tiny llama-architecture GGUF (256 wide, 4 layers), %d sequences of one prompt "
                "batch and %d generated tokens; one inference is one `llama_decode` (a prompt batch or one "
                "generated token). ONNX Runtime: `ort-harness.js` through onnxruntime-node, a "
                "512-1024-1024-10 MLP, batch %d, %d `session.run`s. libtorch: `torch-harness.py` on Debian's "
                "python3-torch, a TorchScript MLP of the same shape, batch %d, %d forwards. Each run starts "
                "a fresh harness per configuration, the tool attached before its first inference, the "
                "configurations in turn (the order rotated every run): *no probe*; *floor*: empty BPF "
                "programs on an uprobe_multi entry+return pair at the main probe's site, where inferlat "
                "puts it (`inferlat -v` says; ONNX Runtime's `Run` has no symbol in its stripped library, "
                "inferlat finds it through the OrtApi table, so the site is given as a file offset); "
                "*bpftrace*: `uprobe`/`uretprobe` with `hist()` on the main probe's function, at its entry "
                "(bpftrace 0.17 puts a uretprobe nowhere else; `--unsafe` for ONNX Runtime's address, which "
                "no symbol names; `/pid == PID/` on the entry, as bpftrace 0.17 probes the library in every "
                "process), which single-steps an `endbr64` where inferlat and the floor do not; "
                "*inferlat*: `inferlat -p PID -r NAME -q`, the preset's default probes (not the nested ones of "
                "`--breakdown` and `--ops`; *hits per inference*: "
                "the calls of all of them in inferlat's final records over the inferences). Each figure: "
                "the mean of the harness's own clock around each inference over one run, min / median "
                "over runs, and the median's added us and share over the median with no probe. "
                "*inferlat minus floor*: inferlat's added time less the floor's, what inferlat's own "
                "programs and extra probes cost; the floor is what any uprobe tool pays at that site on "
                "this kernel (without PCID every probe trap empties the TLB, and the probed call pays "
                "for it afterwards: RUNTIMES.md). *counted*: the main probe's calls in inferlat's final "
                "record against the inferences the harness logged, every run (bpftrace's histogram "
                "must count them all too). The first probed call in a process also pays the kernel's "
                "one-time uprobe set-up (~0.3 ms), spread here over one run's inferences. DESIGN.md "
                "sets no budget per inference (its per-call budgets are section 1's targets)." % (
                    z["llama_seqs"], z["llama_gen"], z["ort_batch"], z["ort_runs"], z["torch_batch"],
                    z["torch_runs"]), ""]
        rows = []
        for row in res["runtimes"]:
            counted = [r["counted"] for r in row["with"]]
            st = row["site"]
            site = "+%#x: %s" % (st["site"], st["how"])
            if st["entry"] != st["site"]:
                site += "; bpftrace at +%#x (endbr64, single-step)" % st["entry"]

            def added(samples, key):
                return "%s (%+.1f, %+.1f%%)" % (mm(samples, lambda v: "%.1f" % v), row[key + "_us"],
                                                100 * row[key + "_ratio"])
            rows.append([row["runtime"], "`%s` %s" % (os.path.basename(st["lib"]), site), row["made"],
                         mm(row["without_us"], lambda v: "%.1f" % v),
                         added(row["floor_us"], "floor_added"), added(row["bpftrace_us"], "bpftrace_added"),
                         added(row["with_us"], "added"), "%+.1f" % row["over_floor_us"],
                         "%.1f" % med([r["hits"] / r["made"] for r in row["with"]]),
                         "yes (%d of %d)" % (row["made"], row["made"]) if row["counted_all"] else
                         "**no** (%s of %d)" % (", ".join(str(c) for c in counted), row["made"])])
        out += [table(["runtime (-r)", "main probe site", "inferences per run",
                       "us per inference, no probe (min / median)", "floor (added us, %)", "bpftrace (added us, %)",
                       "inferlat (added us, %)", "inferlat minus floor, us", "hits per inference",
                       "main probe counted every inference"], rows), ""]
    if "syscalls" in res:
        out += ["## 7. Cost per syscall of the request layer (`--http`)", "",
                "`build/bench/syscalls MODE N` times its own loop of syscalls. *none*: no inferlat; "
                "*inferlat*: attached without `--http` (one probe on a function the loop never calls: "
                "the scheduler programs run); *inferlat --http*: the request layer's `tp_btf/sys_enter` and "
                "`sys_exit` programs too. For the untraced loops inferlat traces another process (a "
                "`sleep`), so the rows are what every other process on the host pays; the HTTP row's "
                "loop is the traced server itself, each exchange two followed syscalls with their events "
                "and two of an unfollowed socket. Syscalls cost about 1 us each here (page-table switch "
                "without PCID on every kernel entry). Ratios are medians over the loop without inferlat.", ""]
        rows = []
        for row in res["syscalls"]:
            rows.append([row["loop"]] + [mm(row["ns"][t], lambda v: "%.0f" % v) for t in SYS_TOOLS] +
                        ["%+.0f (%.3fx)" % (row["added"][t], row["ratio"][t]) for t in SYS_TOOLS[1:]])
        out += [table(["loop", "ns/op, none (min / median)", "inferlat", "inferlat --http",
                       "added: inferlat", "added: inferlat --http"], rows), ""]
    if "host" in res:
        z = res["sizes"]
        out += ["## 8. Cost to the rest of the host", "",
                "Debian's `perf bench sched pipe -l %d` (two processes passing a word back and forth "
                "through two pipes; both pinned to one CPU with `taskset`, so each round trip is two "
                "context switches and no idle in between) and `perf bench syscall basic -l %d` "
                "(`getppid(2)` in a loop), as perf reports them (usecs/op, here ns). *none*: no "
                "inferlat. *other process*: inferlat attached to an idle fixture (`infer-server -B push "
                "-w`, a probe on `proto_push`), so perf's processes are not its targets: what every "
                "process on the host pays for its scheduler programs (`tp_btf/sched_switch`, "
                "`sched_wakeup`), and with `--http` the request layer's `sys_enter`/`sys_exit` programs "
                "too. *perf traced*: perf started as inferlat's COMMAND (`inferlat -e %s -- taskset "
                "... perf ...`), so perf and the child it forks are targets; the probe's function is "
                "called only before and after perf's timed loop (inferlat must count those calls), so "
                "this is a traced process between probed calls, not the cost of a probe (sections 1 "
                "and 6). Ratios: median over the median with none. DESIGN.md's budget, within 3%% per "
                "context switch and per syscall, is for processes inferlat does not trace." % (
                    z["host_pipe_ops"], z["host_sys_ops"], PERF_PROBE), ""]
        rows = []
        for row in res["host"]:
            untraced = row["whom"] == "other"
            ok = all(row["ratio"][b] <= 1.03 for b, _, _ in HOST_BENCHES)
            rows.append([row["tool"], {None: "-", "other": "another process", "perf": "perf itself"}[row["whom"]],
                         mm(row["ns"]["pipe"], lambda v: "%.0f" % v), "%.3fx" % row["ratio"]["pipe"],
                         mm(row["ns"]["syscall"], lambda v: "%.0f" % v), "%.3fx" % row["ratio"]["syscall"],
                         ("yes" if ok else "**no**") if untraced else "-"])
        out += [table(["inferlat", "tracing", "sched pipe: ns per round trip (min / median)", "x none",
                       "syscall basic: ns per getppid (min / median)", "x none", "within 3% (untraced: <= 1.03x)"],
                      rows), ""]
    t = targets(res)
    if t:
        out += ["## Targets (DESIGN.md)", "",
                table(["target", "measured", "budget", "met"], [[a, b, c, "yes" if d else "**no**"] for a, b, c, d in t]),
                ""]
    return "\n".join(out)


def write_results(path, text):
    """Rewrite path with text, keeping the hand-written notes after NOTES."""
    notes = NOTES + "\n"
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
        if NOTES in old:
            notes = old[old.index(NOTES):]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text + "\n" + notes)
    os.replace(tmp, path)


SECTIONS = ["cost", "loss", "footprint", "accuracy", "attach", "runtimes", "syscalls", "host"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="build directory (default build/)")
    ap.add_argument("--runs", type=int, default=5, help="runs of every configuration (default 5)")
    ap.add_argument("--smoke", action="store_true", help="one run of each mode on tiny sizes")
    ap.add_argument("--only", action="append", choices=SECTIONS, help="run only this part (repeatable)")
    ap.add_argument("--out", help="markdown results (default bench/results.md; required with --smoke)")
    ap.add_argument("--json", help="every number as JSON")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: needs root (BPF): sudo make bench")
    if a.smoke and not a.out:
        sys.exit("bench: --smoke needs --out: a smoke run must not replace bench/results.md")
    runs = 1 if a.smoke else a.runs
    if runs < 1:
        sys.exit("bench: --runs must be at least 1")
    sizes = SMOKE if a.smoke else FULL
    out_path = a.out or os.path.join(ROOT, "bench", "results.md")
    only = a.only or SECTIONS

    def log(msg):
        print("bench: " + msg, file=sys.stderr, flush=True)

    try:
        paths = Paths(a.build)
        with open(os.path.join(paths.kheaders, ".inferlat-source")) as f:
            kheaders = f.read().strip()
        res = {"machine": machine(), "runs": runs, "sizes": sizes, "kernel_headers": kheaders,
               "date": time.strftime("%Y-%m-%d")}
        if "cost" in only:
            res["cost"] = bench_cost(paths, sizes, runs, log)
        if "loss" in only:
            res["loss"] = bench_loss(paths, sizes, runs, log)
        if "footprint" in only:
            res["footprint"] = bench_footprint(paths, sizes, runs, log)
        if "accuracy" in only:
            res["accuracy"] = bench_accuracy(paths, sizes, runs, log)
        if "attach" in only:
            res["attach"] = bench_attach(paths, runs, sizes["attach_bpftrace_max"], log)
        if "runtimes" in only:
            res["runtimes"] = bench_runtimes(paths, sizes, runs, log)
        if "syscalls" in only:
            res["syscalls"] = bench_syscalls(paths, sizes, runs, log)
        if "host" in only:
            res["host"] = bench_host(paths, sizes, runs, log)
    except (BenchError, OSError, subprocess.SubprocessError) as e:
        sys.exit("bench: %s" % e)
    text = render(res)
    print(text)
    write_results(out_path, text)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    log("wrote %s" % out_path)


if __name__ == "__main__":
    main()
