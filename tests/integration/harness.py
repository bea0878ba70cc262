# SPDX-License-Identifier: GPL-2.0
"""Helpers for integration tests: run the fixture workload and inferlat side by
side, and read what each one measured."""
import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("INFERLAT_BUILD", os.path.join(ROOT, "build"))
INFERLAT = os.path.join(BUILD, "inferlat")
SERVER = os.path.join(BUILD, "fixtures", "infer-server")
LIBINFER = os.path.join(BUILD, "fixtures", "libinfer.so.1")
FIXTURES = os.path.join(BUILD, "fixtures")
DL_DRIVER = os.path.join(FIXTURES, "dl-driver")
DL_DRIVER_NOPIE = os.path.join(FIXTURES, "dl-driver-nopie")
LIBCXX = os.path.join(FIXTURES, "libcxxfix.so")
LIBBULK = os.path.join(FIXTURES, "libbulk.so")


class TestFailure(AssertionError):
    pass


def second_attempt(fn):
    """Marks a test whose figures come from the scheduler of this shared VM
    (run-queue and CPU-time splits): a stall of the host can move one run's
    figures past the tolerance. run.py runs it once more after a failure and
    says so in its note; two failures in a row fail it."""
    fn.second_attempt = True
    return fn


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


class Workdir:
    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="inferlat-test-")

    def file(self, name):
        return os.path.join(self.path, name)

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


class Fixture:
    """infer-server: started paused (-w), released with go()."""

    def __init__(self, wd, *args, wait=True, exe=SERVER, name="srv", prefix=(), env=None):
        self.log_path = wd.file(name + ".log")
        cmd = list(prefix) + [exe, "-l", self.log_path] + [str(a) for a in args]
        if wait:
            cmd.append("-w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
        self.pid = self.proc.pid
        if wait:
            line = self.proc.stdout.readline()
            check(line.startswith("ready "), "fixture did not start: %r" % line)

    def go(self):
        os.kill(self.pid, signal.SIGUSR1)

    def wait(self, timeout=120):
        out, _ = self.proc.communicate(timeout=timeout)
        check(self.proc.returncode == 0, "fixture exited with %d" % self.proc.returncode)
        return out

    def records(self):
        """The fixture's own measurement of every call."""
        recs = []
        with open(self.log_path) as f:
            for line in f:
                if line.startswith("#"):
                    continue
                tid, depth, start, end, cpu, ret, sleep, minflt, majflt, nvcsw, nivcsw, blocked = \
                    map(int, line.split())
                recs.append({"tid": tid, "depth": depth, "start_ns": start, "end_ns": end,
                             "dur_ns": end - start, "cpu_ns": cpu, "ret": ret, "sleep_ns": sleep,
                             "minflt": minflt, "majflt": majflt, "nvcsw": nvcsw, "nivcsw": nivcsw,
                             "blocked_ns": blocked,
                             # neither running (its CPU clock) nor asleep: waiting for a CPU
                             "waited_ns": max(0, end - start - cpu - blocked)})
        return recs

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class DlDriver:
    """dl-driver: loads LIB (at start, or MS ms after go() with delay_ms) and
    calls FUNC(i) n times, logging each call's start and end."""

    def __init__(self, wd, lib, func, n=100, interval_us=0, delay_ms=None, exe=DL_DRIVER,
                 name="dl", prefix=(), env=None):
        self.log_path = wd.file(name + ".log")
        cmd = list(prefix) + [exe, "-w", "-n", str(n), "-i", str(interval_us), "-l", self.log_path]
        if delay_ms is not None:
            cmd += ["-D", str(delay_ms)]
        cmd += [lib, func]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
        self.pid = self.proc.pid
        self.loaded = None
        line = self.proc.stdout.readline()
        if line.startswith("loaded "):
            self.loaded = int(line.split()[1], 16)
            line = self.proc.stdout.readline()
        check(line.startswith("ready "), "dl-driver did not start: %r" % line)

    def go(self):
        os.kill(self.pid, signal.SIGUSR1)

    def wait(self, timeout=120):
        out, _ = self.proc.communicate(timeout=timeout)
        check(self.proc.returncode == 0, "dl-driver exited with %d" % self.proc.returncode)
        for line in out.splitlines():
            if line.startswith("loaded "):
                self.loaded = int(line.split()[1], 16)
        return out

    def calls(self):
        """(start_ns, end_ns) of every call, as the driver measured it."""
        with open(self.log_path) as f:
            return [tuple(int(x) for x in l.split()) for l in f if not l.startswith("#")]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def fixture_in_mount_namespace(wd, *args):
    """infer-server (paused) in its own mount namespace, using a copy of
    libinfer.so.1 on a tmpfs that only the namespace sees: NS/lib/ exists
    there, and is an empty directory on the host. Returns (NS, fixture)."""
    ns = wd.file("ns")
    os.makedirs(ns)
    script = ('mount -t tmpfs none {ns} && mkdir {ns}/lib && cp {lib} {ns}/lib/ && '
              'exec env LD_LIBRARY_PATH={ns}/lib "$0" "$@"').format(ns=ns, lib=LIBINFER)
    prefix = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]
    return ns, Fixture(wd, *args, prefix=prefix)


def file_offset(pid, addr):
    """Where addr of pid lies in its file, from the kernel's own maps."""
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            rng, _, off = line.split()[:3]
            lo, hi = (int(x, 16) for x in rng.split("-"))
            if lo <= addr < hi:
                return addr - lo + int(off, 16)
    raise TestFailure("address %#x not mapped by %d" % (addr, pid))


def build_id(path):
    out = run(["readelf", "-n", path]).stdout
    for line in out.splitlines():
        if "Build ID:" in line:
            return line.split("Build ID:")[1].strip()
    raise TestFailure("%s has no build-id" % path)


class Inferlat:
    """inferlat in the background; its stderr is kept for assertions."""

    def __init__(self, wd, *args, json_out=True, calls_out=False, quiet=True, env=None, prefix=(), exe=None):
        self.json_path = wd.file("out.jsonl") if json_out else None
        self.calls_path = wd.file("calls.jsonl") if calls_out else None
        self.err_path = wd.file("inferlat.err")
        self.out_path = wd.file("inferlat.out")
        args = [str(a) for a in args]
        command = []
        if "--" in args:  # our options go before the COMMAND
            command = args[args.index("--"):]
            args = args[:args.index("--")]
        cmd = list(prefix) + [exe or INFERLAT] + args
        if quiet:
            cmd.append("-q")
        if self.json_path:
            cmd += ["--json", self.json_path]
        if self.calls_path:
            cmd += ["--calls", self.calls_path]
        cmd += command
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdout=open(self.out_path, "w"),
                                     stderr=open(self.err_path, "w"), env=env)

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def stdout(self):
        with open(self.out_path) as f:
            return f.read()

    def wait_ready(self, timeout=30):
        """Until inferlat says it is tracing (probes attached)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if "inferlat: tracing " in self.stderr():
                return
            if self.proc.poll() is not None:
                raise TestFailure("inferlat exited early (%d): %s" % (self.proc.returncode, self.stderr()))
            time.sleep(0.02)
        raise TestFailure("inferlat not ready after %ds: %s" % (timeout, self.stderr()))

    def stop(self, sig=signal.SIGINT, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait(timeout)

    def wait(self, timeout=60):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise TestFailure("inferlat did not stop within %ds" % timeout)

    def records(self):
        """The window and final records (not the typed ones: exemplars,
        baseline comparisons)."""
        return [r for r in self.all_records() if "type" not in r]

    def typed(self, kind):
        """The {"type": kind, ...} records."""
        return [r for r in self.all_records() if r.get("type") == kind]

    def all_records(self):
        with open(self.json_path) as f:
            return [json.loads(l) for l in f if l.strip()]

    def final(self, probe_suffix=None):
        recs = [r for r in self.records() if r["final"]]
        if probe_suffix:
            recs = [r for r in recs if r["probe"].endswith(probe_suffix)]
        return recs

    def calls(self):
        with open(self.calls_path) as f:
            return [json.loads(l) for l in f if l.strip()]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run(cmd, timeout=60, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)


def exact_quantile(values, q):
    """Nearest-rank quantile, as inferlat reports."""
    v = sorted(values)
    return v[max(0, math.ceil(q * len(v)) - 1)]


def match_calls(events, records, fixture_depth=lambda d: d):
    """Pair inferlat's call events with the fixture's records: the k-th call of
    a thread at a nesting depth with the k-th record of that thread and depth.
    fixture_depth maps an event's depth (probed frames below it) to the
    fixture's depth numbering."""
    by_key = {}
    for r in records:
        by_key.setdefault((r["tid"], r["depth"]), []).append(r)
    ev_key = {}
    for e in events:
        ev_key.setdefault(e["tid"], []).append(e)
    pairs = []
    for tid, evs in ev_key.items():
        evs.sort(key=lambda e: e["start_ns"])
        depths = {}
        for e in evs:
            depths.setdefault(e["depth"], []).append(e)
        for depth, es in depths.items():
            rs = sorted(by_key.get((tid, fixture_depth(depth)), []), key=lambda r: r["start_ns"])
            pairs.append((es, rs))
    return pairs


def truth_ns(event, record):
    """The fixture's duration of a call, plus any wait for a CPU at the probe's
    own kernel transitions (entry trap, return trampoline): part of the call as
    a caller sees it, invisible to the fixture's in-body clock. inferlat's
    run-queue time (the kernel's run delay over its window) less the waiting the
    fixture saw inside its own bracket is that wait."""
    return record["dur_ns"] + max(0, event.get("runq_ns", 0) - record["waited_ns"])


def bpf_progs():
    out = run(["bpftool", "-j", "prog", "show"]).stdout
    return json.loads(out) if out.strip() else []


def bpf_links():
    out = run(["bpftool", "-j", "link", "show"]).stdout
    return json.loads(out) if out.strip() else []


def bpf_ids_of(pid):
    """Ids of the BPF programs, links and maps a process holds, from its fds'
    fdinfo: {"prog": {...}, "link": {...}, "map": {...}}."""
    ids = {"prog": set(), "link": set(), "map": set()}
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
            info = open("/proc/%d/fdinfo/%s" % (pid, fd)).read()
        except OSError:
            continue
        fields = dict(l.split(":", 1) for l in info.splitlines() if ":" in l)
        for kind, anon in (("prog", "anon_inode:bpf-prog"), ("link", "anon_inode:bpf_link"),
                           ("map", "anon_inode:bpf-map")):
            key = kind + "_id"
            if target == anon and key in fields:
                ids[kind].add(int(fields[key]))
    return ids


def bpf_objects_of(pid):
    """Programs and links a process holds open, as bpftool shows them."""
    ids = bpf_ids_of(pid)
    prog_ids, link_ids = ids["prog"], ids["link"]
    return {"progs": [p for p in bpf_progs() if p["id"] in prog_ids],
            "links": [l for l in bpf_links() if l["id"] in link_ids]}
