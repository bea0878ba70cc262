# SPDX-License-Identifier: GPL-2.0
"""What inferlat costs the host beyond the traced calls: kernel memory that
must not grow with the CPU count, and programs that run for every task on the
host and must do no map work for tasks it does not trace. The kernel's own
figures are the truth: bpftool's map sizes, program run counts."""
import json
import os
import subprocess
import time

from harness import FIXTURES, LIBINFER, Fixture, Inferlat, bpf_ids_of, check, run

MANY = os.path.join(FIXTURES, "many-funcs")
BUDGET = 64 << 20          # DESIGN.md: 1000 probes on a 128-CPU host
HOST_CPUS = 128
PERCPU_TYPES = {"percpu_array", "percpu_hash", "lru_percpu_hash", "percpu_cgroup_storage"}


def bpftool(*args):
    r = run(["bpftool", "-j"] + list(args))
    check(r.returncode == 0, "bpftool %s: %s" % (" ".join(args), r.stderr))
    return json.loads(r.stdout)


def possible_cpus():
    with open("/sys/devices/system/cpu/possible") as f:
        n = 0
        for part in f.read().strip().split(","):
            lo, _, hi = part.partition("-")
            n += int(hi or lo) - int(lo) + 1
    return n


def maps_of(pid):
    """The maps process pid holds (another inferlat may run beside it)."""
    ids = bpf_ids_of(pid)["map"]
    return [m for m in bpftool("map", "show") if m["id"] in ids]


def test_kernel_memory_1000_probes_projected_to_128_cpus(wd):
    # 1000 probes: many_0..many_999 of a 100,000-function executable; -x, so
    # nothing needs to run them: the maps are sized at start
    tdir = wd.file("textfile")
    os.makedirs(tdir)
    il = Inferlat(wd, "-x", MANY, "-e", MANY + ":many_?", "-e", MANY + ":many_??",
                  "-e", MANY + ":many_???", "--max-probes", 1000, "-i", "0.3",
                  "--textfile-dir", tdir, "-v")
    try:
        il.wait_ready(timeout=120)
        time.sleep(1)
        maps = maps_of(il.proc.pid)
        rc = il.stop()
    finally:
        il.kill()
    check(rc == 0, "inferlat exited %d: %s" % (rc, il.stderr()[-2000:]))
    check("tracing 1000 functions" in il.stderr(), "not 1000 probes: %s" % il.stderr()[-1500:])
    names = {m["name"] for m in maps}
    check({"hists", "stats", "events", "sched_accts"} <= names, "inferlat's maps not found: %s" % sorted(names))
    ncpu = possible_cpus()
    here = sum(m["bytes_memlock"] for m in maps)
    percpu = sum(m["bytes_memlock"] for m in maps if m["type"] in PERCPU_TYPES)
    projected = here - percpu + percpu * HOST_CPUS / ncpu
    hists = [m for m in maps if m["name"] == "hists"][0]
    check(hists["type"] not in PERCPU_TYPES, "the histograms are per-CPU: %s" % hists["type"])
    check(hists["max_entries"] >= 1000, "hists holds %d probes" % hists["max_entries"])
    check(projected <= BUDGET, "1000 probes at %d CPUs: %.1f MiB projected (%.1f MiB here, %d CPUs), budget 64 MiB"
          % (HOST_CPUS, projected / 2**20, here / 2**20, ncpu))
    # what inferlat reports is the kernel's figure for the same maps
    recs = il.typed("inferlat")
    check(recs and recs[-1]["final"], "no final inferlat record")
    last = recs[-1]
    check(last["bpf_memory"]["maps"] == here,
          "inferlat reports %d bytes of maps, bpftool %d" % (last["bpf_memory"]["maps"], here))
    check(last["bpf_memory"]["percpu_maps"] == percpu, "per-CPU maps %d, bpftool %d"
          % (last["bpf_memory"]["percpu_maps"], percpu))
    check(last["bpf_memory_bytes"] == last["bpf_memory"]["maps"] + last["bpf_memory"]["programs"]
          + last["bpf_memory"]["thread_states"], "the total is not the sum of its parts: %s" % last)
    with open(os.path.join(tdir, "inferlat.prom")) as f:
        prom = [l for l in f if l.startswith("inferlat_bpf_memory_bytes")]
    check(len(prom) == 1 and int(prom[0].split()[-1]) == last["bpf_memory_bytes"],
          "textfile %s, JSON %d" % (prom, last["bpf_memory_bytes"]))
    check("BPF memory: " in il.stderr(), "-v does not print the BPF memory")
    return "1000 probes: %.1f MiB on %d CPUs (per-CPU %.0f KiB), %.1f MiB projected to %d CPUs" % (
        here / 2**20, ncpu, percpu / 1024, projected / 2**20, HOST_CPUS)


def thread_state_bytes(rec):
    return rec["bpf_memory"]["thread_states"], rec["bpf_memory"]["threads"]


def test_thread_state_counted_and_released(wd):
    # 8 threads enter probed calls: their call state is counted while they
    # live, and released with them
    fx = Fixture(wd, "-n", 800, "-t", 8, "-s", "fixed:2000", "-H", 1)
    il = Inferlat(wd, "-p", fx.pid, "-e", LIBINFER + ":infer_run", "-i", "0.1")
    try:
        il.wait_ready()
        fx.go()
        fx.wait()
        il.stop()
    finally:
        fx.kill()
        il.kill()
    recs = il.typed("inferlat")
    peak = max(r["bpf_memory"]["threads"] for r in recs)
    check(peak == 8, "threads with call state at the peak: %d, the fixture ran 8" % peak)
    check(recs[-1]["bpf_memory"]["threads"] == 0, "after the threads exited: %d" % recs[-1]["bpf_memory"]["threads"])
    per = max(r["bpf_memory"]["thread_states"] for r in recs) / peak
    return "8 threads: %d bytes of call state each, 0 after they exited" % per


def prog_stats(pid, names):
    ids = bpf_ids_of(pid)["prog"]
    out = {}
    for p in bpftool("prog", "show"):
        if p["id"] in ids and p.get("name") in names:
            out[p["name"]] = p
    return out


def lookups(map_id):
    vals = bpftool("map", "lookup", "id", str(map_id), "key", "0", "0", "0", "0")
    return sum(int.from_bytes(bytes(int(b, 16) for b in v["value"]), "little") for v in vals["values"])


def logged(fx, n):
    """The fixture has written its log of n calls (it holds on after)."""
    try:
        return len(fx.records()) == n
    except (OSError, ValueError):
        return False   # not there yet, or being written


PING = r"""
import os, sys
n = int(sys.argv[1])
a, b = os.pipe(); c, d = os.pipe()
if os.fork() == 0:
    for _ in range(n):
        os.read(a, 1); os.write(d, b"x")
    os._exit(0)
for _ in range(n):
    os.write(b, b"x"); os.read(c, 1)
os.wait()
for _ in range(int(sys.argv[2])):
    if os.fork() == 0:
        os._exit(0)
    os.wait()
"""


def test_untraced_tasks_run_no_lookup(wd):
    # The scheduler and exit programs run for every task on the host: for
    # tasks inferlat does not trace they must stop before any map lookup.
    # The kernel counts the programs' runs (bpf_stats), inferlat's
    # sched_lookups map the lookups they went on to.
    with open("/proc/sys/kernel/bpf_stats_enabled") as f:
        stats_was = f.read().strip()
    with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
        f.write("1")
    # held after its calls: inferlat (-p) stops when its target is gone
    fx = Fixture(wd, "-n", 200, "-s", "fixed:500", "-H", 5)
    il = Inferlat(wd, "-p", fx.pid, "-e", LIBINFER + ":infer_run")
    names = ("on_switch", "on_wakeup", "on_exit", "on_fork")
    try:
        il.wait_ready()
        time.sleep(0.3)
        lmap = [m for m in maps_of(il.proc.pid) if m["name"] == "sched_lookups"]
        check(len(lmap) == 1, "sched_lookups map not found")
        p0, l0 = prog_stats(il.proc.pid, names), lookups(lmap[0]["id"])
        # untraced: 20,000 pipe round trips between two processes, 200 exits
        r = subprocess.run(["/usr/bin/python3", "-c", PING, "20000", "200"], timeout=120)
        check(r.returncode == 0, "ping-pong failed")
        p1, l1 = prog_stats(il.proc.pid, names), lookups(lmap[0]["id"])
        # the traced process's calls sleep: its switches do the accounting
        fx.go()
        deadline = time.time() + 30
        while not logged(fx, 200) and time.time() < deadline:
            time.sleep(0.1)
        l2 = lookups(lmap[0]["id"])
        il.stop()
    finally:
        fx.kill()
        il.kill()
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(stats_was)
    check("on_switch" in p0 and "on_exit" in p0, "scheduler programs not found: %s" % sorted(p0))
    runs = {n: p1[n]["run_cnt"] - p0[n]["run_cnt"] for n in p0}
    check(runs["on_switch"] >= 40000, "on_switch ran %d times for 20,000 round trips" % runs["on_switch"])
    check(runs["on_exit"] >= 200, "on_exit ran %d times for 200 exits" % runs["on_exit"])
    untraced = l1 - l0
    # nothing but the untraced workload and idle processes ran: a task with
    # storage of another BPF tool would take one; allow a thousandth
    total_runs = sum(runs.values())
    check(untraced <= total_runs / 1000, "%d lookups in %d program runs of untraced tasks" % (untraced, total_runs))
    traced = l2 - l1
    check(traced >= 200, "the traced fixture's 200 sleeping calls made only %d lookups" % traced)
    rec = il.final(":infer_run")[0]
    # a call whose scheduler event went unseen is left unsplit (counted; rare
    # under load, as test_resources allows)
    check(rec["calls"] == 200 and rec["unsplit_calls"] <= 2, "traced calls %d, unsplit %d"
          % (rec["calls"], rec["unsplit_calls"]))
    return "untraced: %d lookups in %s runs; traced: %d lookups for 200 calls" % (
        untraced, ", ".join("%s %d" % kv for kv in sorted(runs.items())), traced)


def test_no_split_runs_nothing_on_switches(wd):
    # --no-split: latency only; no scheduler program at all, and the records
    # carry no split or resource fields (absent, not zero)
    fx = Fixture(wd, "-n", 300, "-s", "fixed:200")
    il = Inferlat(wd, "-p", fx.pid, "-e", LIBINFER + ":infer_run", "--no-split")
    try:
        il.wait_ready()
        progs = prog_stats(il.proc.pid, ("on_switch", "on_wakeup", "on_exit", "on_entry_multi",
                                    "on_entry"))
        fx.go()
        fx.wait()
        time.sleep(0.3)
        il.stop()
    finally:
        fx.kill()
        il.kill()
    check("on_switch" not in progs and "on_wakeup" not in progs and "on_exit" not in progs,
          "--no-split loaded %s" % sorted(progs))
    check("on_entry_multi" in progs or "on_entry" in progs, "no entry program found: %s" % sorted(progs))
    truth = sorted(r["dur_ns"] for r in fx.records())
    rec = il.final(":infer_run")[0]
    check(rec["calls"] == 300 == len(truth), "calls %d, fixture %d" % (rec["calls"], len(truth)))
    for k in ("cpu_s", "offcpu_s", "runqueue_s", "page_faults", "unsplit_calls", "per_call"):
        check(k not in rec, "--no-split record has %s" % k)
    exact = truth[len(truth) // 2] / 1e9
    p50 = rec["latency_s"]["p50"]
    check(abs(p50 - exact) <= max(2e-6, 0.01 * exact), "p50 %.6f, fixture %.6f" % (p50, exact))
    return "300 calls, p50 %.1f us (fixture %.1f), no scheduler program" % (p50 * 1e6, exact * 1e6)


def test_no_events_when_nobody_reads_them(wd):
    # one process, no --calls, nothing decoded: no event per call at all, so
    # a 4 KiB ring buffer that drops most of them with --calls drops none,
    # and the figures are the kernel's, exact
    results = {}
    for calls in (False, True):
        fx = Fixture(wd, "-n", 20000, "-t", 2, "-s", "fixed:0", name="c%d" % calls)
        il = Inferlat(wd, "-p", fx.pid, "-e", LIBINFER + ":infer_run", "--ringbuf-size", 4096,
                      calls_out=calls)
        try:
            il.wait_ready()
            fx.go()
            fx.wait()
            il.wait(60)
        finally:
            fx.kill()
            il.kill()
        fin = il.final(":infer_run")
        check(len(fin) == 1 and fin[0]["calls"] == 40000, "--calls %s: final %s" % (calls, fin))
        results[calls] = fin[0]
    quiet, loud = results[False], results[True]
    check(quiet["lost"] == 0, "no consumer, yet %d events dropped: events were sent" % quiet["lost"])
    check(quiet.get("source") == "kernel", "figures without events must say they are the kernel's")
    check(loud["lost"] > 0, "with --calls a 4 KiB ring buffer dropped nothing: the control failed")
    return "40000 calls: 0 events lost without a consumer, %d with --calls" % loud["lost"]
