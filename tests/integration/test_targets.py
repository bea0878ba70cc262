# SPDX-License-Identifier: GPL-2.0
"""Many targets: -x on a pre-fork server of 64 workers and on one process of
10,000 threads, every call counted against the fixture's own count; the thread
table's limit reported when reached; inferlat's memory bounded."""
import json
import os
import subprocess
import time

import promstack
from harness import FIXTURES, Inferlat, bpf_ids_of, check, run

PREFORK = os.path.join(FIXTURES, "prefork")
# what inferlat may reach at its peak (VmHWM) with 64 processes or 10,000
# threads: generous, a bound on growth per target, not a footprint budget
HWM_LIMIT_KIB = 128 << 10


def status_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s for %d" % (field, pid))


def map_entries(map_id):
    out = run(["bpftool", "-j", "map", "dump", "id", map_id]).stdout
    return len(json.loads(out)) if out.strip() else 0


def map_ids_by_name(pid):
    return {json.loads(run(["bpftool", "-j", "map", "show", "id", mid]).stdout).get("name", ""): mid
            for mid in bpf_ids_of(pid)["map"]}


def traced_run(wd, fixture_args, extra=(), probe="libinfer.so:proto_push", timeout=120):
    """inferlat -x prefork, then the fixture started (so followed from its
    exec); returns (inferlat, the fixture's stdout lines, inferlat's VmHWM in
    KiB, entries left in the per-thread and per-process maps)."""
    il = Inferlat(wd, "-x", PREFORK, "-e", probe, "-i", 0.5, *extra)
    try:
        il.wait_ready()
        maps = map_ids_by_name(il.proc.pid)
        check("sched_accts" in maps and "traced_tgids" in maps, "maps: %s" % maps)
        fx = subprocess.run([PREFORK] + [str(a) for a in fixture_args], capture_output=True,
                            text=True, timeout=timeout)
        check(fx.returncode == 0, "prefork exited %d: %s" % (fx.returncode, fx.stderr))
        # the last calls' events and the exits land in a window
        time.sleep(1.2)
        left = {name: map_entries(maps[name]) for name in ("sched_accts", "traced_tgids")}
        hwm = status_kib(il.proc.pid, "VmHWM")
        rc = il.stop()
    finally:
        il.kill()
    check(rc == 0, "inferlat exited %d: %s" % (rc, il.stderr()))
    return il, fx.stdout.splitlines(), hwm, left


def check_clean(il, rows):
    for r in rows:
        check(r["lost"] == 0 and r["untimed"] == 0, "events lost or calls untimed: %s" % r)
    errs = [l for l in il.stderr().splitlines() if l.startswith("inferlat: ") and
            not l.startswith("inferlat: tracing ") and "thread table" not in l]
    check(not errs, "inferlat said: %s" % errs)


def test_prefork_64_workers_counted_exactly(wd):
    workers, calls = 64, 200
    il, out, hwm, left = traced_run(wd, ["-P", workers, "-n", calls, "-s", 200],
                                    probe="libinfer.so:infer_run")
    truth = {}
    for line in out:
        if line.startswith("worker "):
            _, pid, n = line.split()
            truth[int(pid)] = int(n)
    check(out[-1] == "done workers %d calls %d" % (workers, workers * calls), "prefork: %s" % out[-1:])
    check(len(truth) == workers and set(truth.values()) == {calls}, "prefork workers: %s" % truth)
    fin = [r for r in il.final() if r["calls"]]
    got = {r["pid"]: r["calls"] for r in fin}
    check(len(fin) == len(got), "one final row per process: %s" % fin)
    check(got == truth, "per process (inferlat %d processes, %d calls; prefork %d, %d): %s" % (
        len(got), sum(got.values()), len(truth), sum(truth.values()),
        {p: (got.get(p), truth.get(p)) for p in set(got) | set(truth) if got.get(p) != truth.get(p)}))
    check_clean(il, il.final())
    # the windows held every call too, each in one window
    wins = {}
    for r in il.records():
        if not r["final"]:
            wins[r.get("pid")] = wins.get(r.get("pid"), 0) + r["calls"]
    check({p: n for p, n in wins.items() if n} == truth, "windows: %s" % wins)
    check(left == {"sched_accts": 0, "traced_tgids": 0}, "entries left in BPF maps: %s" % left)
    check(hwm < HWM_LIMIT_KIB, "inferlat peaked at %d KiB" % hwm)
    return "%d calls in %d processes counted exactly; inferlat VmHWM %d KiB; map entries left %s" % (
        sum(got.values()), len(got), hwm, left)


def threads_truth(out, nthreads, calls):
    want = "done threads %d alive %d calls %d" % (nthreads, nthreads, nthreads * calls)
    check(out and out[-1] == want, "prefork: %s, want %r" % (out, want))


def test_ten_thousand_threads_counted_exactly(wd):
    n = 10000
    il, out, hwm, left = traced_run(wd, ["-T", n, "-n", 1])
    threads_truth(out, n, 1)
    fin = il.final()
    check(len(fin) == 1 and fin[0]["calls"] == n, "final: %s" % fin)
    check(fin[0]["thread_table_full"] == 0, "the table has room for %d threads: %s" % (n, fin[0]))
    check_clean(il, fin)
    check(left == {"sched_accts": 0, "traced_tgids": 0}, "entries left in BPF maps: %s" % left)
    check(hwm < HWM_LIMIT_KIB, "inferlat peaked at %d KiB" % hwm)
    return "%d calls in %d threads counted; inferlat VmHWM %d KiB; map entries left %s" % (
        fin[0]["calls"], n, hwm, left)


def test_thread_table_limit_reported(wd):
    # room for 1000 of 10,000 threads alive at once, each making one call:
    # the first 1000 in take the slots and keep them until they exit, the
    # other 9000 calls are counted and timed without the time split
    n, room = 10000, 1000
    tdir = wd.file("tf")
    os.makedirs(tdir)
    il, out, hwm, left = traced_run(wd, ["-T", n, "-n", 1],
                                    extra=["--max-threads", room, "--textfile-dir", tdir])
    threads_truth(out, n, 1)
    fin = il.final()
    check(len(fin) == 1 and fin[0]["calls"] == n, "final: %s" % fin)
    full = fin[0]["thread_table_full"]
    check(full == n - room, "thread_table_full %d, want %d" % (full, n - room))
    check(n - room <= fin[0]["unsplit_calls"] <= n, "unsplit %d" % fin[0]["unsplit_calls"])
    check(sum(r["thread_table_full"] for r in il.records() if not r["final"]) == full,
          "windows' thread_table_full")
    check_clean(il, fin)
    with open(os.path.join(tdir, "inferlat.prom")) as f:
        _, samples = promstack.parse_textfile(f.read())
    tf = [v for name, _, v in samples if name == "inferlat_thread_table_full_total"]
    check(tf == [full], "inferlat_thread_table_full_total %s" % tf)
    warn = [l for l in il.stderr().splitlines() if "thread table" in l]
    check(len(warn) == 1 and "--max-threads" in warn[0] and str(room) in warn[0],
          "one warning on stderr: %s" % il.stderr())
    check(left == {"sched_accts": 0, "traced_tgids": 0}, "entries left in BPF maps: %s" % left)
    check(hwm < HWM_LIMIT_KIB, "inferlat peaked at %d KiB" % hwm)
    return "%d calls counted, %d without a thread slot; warned: %r" % (fin[0]["calls"], full, warn[0])
