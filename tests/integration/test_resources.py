# SPDX-License-Identifier: GPL-2.0
"""Where a call's time went (on-CPU, blocked, run queue), its page faults and
context switches, and per-process CPU and memory: against the fixture's own
clocks and the kernel's own per-thread accounting."""
import time

from harness import LIBINFER, SERVER, Fixture, Inferlat, check, match_calls, second_attempt


def run_traced(wd, fixture_args, extra=(), calls=True):
    fx = Fixture(wd, *fixture_args)
    il = Inferlat(wd, "-p", fx.pid, "-e", "libinfer.so:infer_run", *extra, calls_out=calls)
    try:
        il.wait_ready()
        fx.go()
        fx.wait()
        check(il.wait(60) == 0, il.stderr())
    finally:
        fx.kill()
        il.kill()
    return fx, il


def pairs_of(fx, il, skip_first=False):
    """(inferlat's event, the fixture's record) per call. skip_first leaves out
    each thread's first call: the kernel sets up uprobe state for a process and
    thread at its first hit (~0.3 ms here), inside that call's window."""
    out = []
    for es, rs in match_calls(il.calls(), fx.records()):
        check(len(es) == len(rs), "%d events vs %d fixture calls" % (len(es), len(rs)))
        out += list(zip(es, rs))[1 if skip_first else 0:]
    return out


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


@second_attempt
def test_time_split_matrix(wd):
    """A call spins X ms and sleeps Y ms, X and Y in {0.1, 1, 10}. The fixture
    measures its CPU time (CLOCK_THREAD_CPUTIME_ID) and, from the kernel's
    schedstat, its run-queue delay; what is neither was blocked."""
    notes = []
    for x in (100, 1000, 10000):
        for y in (100, 1000, 10000):
            sub = wd.__class__()
            try:
                fx, il = run_traced(sub, ["-n", 21, "-b", "fixed:%d" % x, "-s", "fixed:%d" % y])
                pairs = [(e, r) for e, r in pairs_of(fx, il, skip_first=True)
                         if e["oncpu_ns"] + e["offcpu_ns"] + e["runq_ns"]]
            finally:
                sub.cleanup()
            check(len(pairs) >= 18, "X=%d Y=%d: only %d of 20 calls have a time split" % (x, y, len(pairs)))
            for e, _ in pairs:
                total = e["oncpu_ns"] + e["offcpu_ns"] + e["runq_ns"]
                check(abs(total - e["duration_ns"]) <= max(1000, 0.001 * e["duration_ns"]),
                      "X=%d Y=%d: on+off+runq %d != duration %d" % (x, y, total, e["duration_ns"]))
            cpu_err = [(e["oncpu_ns"] - r["cpu_ns"]) / r["cpu_ns"] for e, r in pairs]
            blk_err = [(e["offcpu_ns"] - r["blocked_ns"]) / r["blocked_ns"] for e, r in pairs]
            # 5%, but never less than 10 us. After a 10 ms spin, a 0.1 ms
            # sleep's off-CPU time comes out 7-10 us (7-10%) under the
            # fixture's "blocked" (the sleep's wall time less its CPU clock
            # and run-queue delay), on a quiet machine too, call after call;
            # after a 1 ms spin it does not. Not explained yet: time around
            # the wakeup that is in neither the thread's CPU clock nor its
            # run_delay (interrupt or steal time, or the wait of a task the
            # scheduler kept queued while it slept, EEVDF's delayed dequeue)
            # would be "blocked" to the fixture and not to inferlat. The 1
            # and 10 ms sleeps keep the plain 5%.
            tol = max(0.05, 10.0 / y)   # y in us
            # per call: a call preempted many times on a loaded machine can
            # shift a few us between blocked and run queue around its wakeup
            for what, errs, t in (("on-CPU vs CLOCK_THREAD_CPUTIME_ID", cpu_err, 0.05),
                                  ("off-CPU vs blocked", blk_err, tol)):
                within = sum(1 for e in errs if abs(e) <= t)
                check(abs(median(errs)) <= t, "X=%d Y=%d: %s: median off by %.1f%% (allowed %.0f%%)" % (
                    x, y, what, median(errs) * 100, t * 100))
                check(within >= 0.85 * len(errs), "X=%d Y=%d: %s: only %d of %d calls within %.0f%%" % (
                    x, y, what, within, len(errs), t * 100))
            cpu_tot = sum(e["oncpu_ns"] for e, _ in pairs) / sum(r["cpu_ns"] for _, r in pairs) - 1
            blk_tot = sum(e["offcpu_ns"] for e, _ in pairs) / sum(r["blocked_ns"] for _, r in pairs) - 1
            within = sum(1 for c, b in zip(cpu_err, blk_err) if abs(c) <= 0.05 and abs(b) <= 0.05)
            notes.append("%g/%g: cpu %+.1f%% (total %+.1f%%) off %+.1f%% (total %+.1f%%), %d/%d calls both within 5%%" % (
                x / 1000, y / 1000, median(cpu_err) * 100, cpu_tot * 100, median(blk_err) * 100,
                blk_tot * 100, within, len(pairs)))
    return "; ".join(notes)


@second_attempt
def test_runqueue_when_two_threads_share_a_cpu(wd):
    fx, il = run_traced(wd, ["-n", 15, "-t", 2, "-p", 0, "-b", "fixed:5000", "-s", "fixed:1000"])
    pairs = pairs_of(fx, il)
    check(len(pairs) == 30, "calls %d" % len(pairs))
    for e, _ in pairs:
        total = e["oncpu_ns"] + e["offcpu_ns"] + e["runq_ns"]
        check(abs(total - e["duration_ns"]) <= 0.02 * e["duration_ns"],
              "on+off+runq %d vs duration %d" % (total, e["duration_ns"]))
    runq = sum(e["runq_ns"] for e, _ in pairs)
    # the fixture's own account of the time it waited in the call: neither
    # running (its CPU clock) nor asleep (measured around the sleep)
    waited = sum(r["waited_ns"] for _, r in pairs)
    check(median([e["runq_ns"] for e, _ in pairs]) > 1000000,
          "two busy threads on one CPU should wait ms on the run queue")
    check(abs(runq - waited) <= 0.05 * waited,
          "run queue %.1f ms vs the fixture's waiting %.1f ms" % (runq / 1e6, waited / 1e6))
    fin = il.final()[0]
    check(abs(fin["runqueue_s"] * 1e9 - runq) <= 0.001 * runq + 1000, "final record %s" % fin)
    return "run queue %.1f ms, the fixture waited %.1f ms over 30 calls" % (runq / 1e6, waited / 1e6)


def test_page_faults(wd):
    pages = 256
    fx, il = run_traced(wd, ["-n", 30, "-s", "fixed:200", "-m", pages * 4096])
    pairs = pairs_of(fx, il)
    for e, r in pairs:
        check(e["minflt"] >= pages, "%d minor faults for %d fresh pages" % (e["minflt"], pages))
        check(e["minflt"] <= pages * 1.1 + 8, "%d minor faults for %d pages" % (e["minflt"], pages))
        # the fixture's own count (getrusage) sits inside the probe's window
        check(r["minflt"] <= e["minflt"] <= r["minflt"] + 4, "inferlat %d vs getrusage %d" % (e["minflt"], r["minflt"]))
    fin = il.final()[0]
    check(fin["page_faults"] == sum(e["minflt"] + e["majflt"] for e, _ in pairs), "final %s" % fin)
    return "minor faults per call: median %d for %d pages" % (median([e["minflt"] for e, _ in pairs]), pages)


def test_context_switches(wd):
    fx, il = run_traced(wd, ["-n", 30, "-b", "fixed:200", "-s", "fixed:500"])
    for e, r in pairs_of(fx, il):
        check(e["nvcsw"] >= r["nvcsw"] >= 1, "voluntary: inferlat %d, getrusage %d" % (e["nvcsw"], r["nvcsw"]))
        check(e["nvcsw"] <= r["nvcsw"] + 1, "voluntary: inferlat %d, getrusage %d" % (e["nvcsw"], r["nvcsw"]))
        check(r["nivcsw"] <= e["nivcsw"] <= r["nivcsw"] + 1, "involuntary: %d vs %d" % (e["nivcsw"], r["nivcsw"]))


def process_cpu_between(samples, a, b):
    """The fixture's process CPU (its own CLOCK_PROCESS_CPUTIME_ID samples,
    interpolated) between monotonic times a and b, in seconds."""
    def at(t):
        for (t0, c0), (t1, c1) in zip(samples, samples[1:]):
            if t0 <= t <= t1:
                return c0 + (c1 - c0) * (t - t0) / (t1 - t0)
        raise AssertionError("%.3f outside the fixture's samples" % t)
    return at(b) - at(a)


def test_process_cpu_cores(wd):
    """Busy threads back to back; each window's cores against the fixture's
    own process CPU clock over the same window."""
    notes = []
    for threads in (1, 2):
        sub = wd.__class__()
        try:
            cpu_log = sub.file("cpu.log")
            fx = Fixture(sub, "-n", 80, "-t", threads, "-b", "fixed:50000", "-s", "fixed:0", "-P", cpu_log)
            il = Inferlat(sub, "-p", fx.pid, "-e", "libinfer.so:infer_run", calls_out=False)
            try:
                il.wait_ready()
                fx.go()
                fx.wait()
                check(il.wait(60) == 0, il.stderr())
            finally:
                fx.kill()
                il.kill()
            # wall-clock window ends to CLOCK_MONOTONIC, the fixture's clock
            offset = time.time() - time.monotonic()
            samples = [tuple(int(v) / 1e9 for v in l.split()) for l in open(cpu_log)]
            windows = [r for r in il.records() if not r["final"] and "cpu_cores" in r.get("process", {})]
            inside = [w for w in windows
                      if samples[0][0] <= w["ts"] - offset - w["window_s"] and w["ts"] - offset <= samples[-1][0]]
            check(len(inside) >= 2, "%d threads: windows inside the run: %s" % (threads, windows))
            errs = []
            for w in inside:
                end = w["ts"] - offset
                truth = process_cpu_between(samples, end - w["window_s"], end) / w["window_s"]
                cores = w["process"]["cpu_cores"]
                errs.append(cores - truth)
                # /proc/PID/stat counts in 10 ms ticks: 0.02 cores of a 1 s window
                check(abs(cores - truth) <= 0.05 * truth + 0.02,
                      "%d threads: %.3f cores, the fixture's clock says %.3f" % (threads, cores, truth))
            notes.append("T=%d: %d windows, cores %.2f (error max %.3f)" % (
                threads, len(inside), inside[len(inside) // 2]["process"]["cpu_cores"],
                max(abs(e) for e in errs)))
        finally:
            sub.cleanup()
    return "; ".join(notes)


def test_rss_growth(wd):
    mib = 64
    fx = Fixture(wd, "-n", 40, "-r", 20, "-s", "fixed:100", "-a", mib << 20)
    il = Inferlat(wd, "-p", fx.pid, "-e", "libinfer.so:infer_run", calls_out=False)
    try:
        il.wait_ready()
        time.sleep(2.2)     # windows before the allocation
        fx.go()
        fx.wait()
        check(il.wait(60) == 0, il.stderr())
    finally:
        fx.kill()
        il.kill()
    recs = [r for r in il.records() if not r["final"] and "process" in r]
    before = [r["process"]["rss_bytes"] for r in recs if r["calls"] == 0 and not r["process"].get("exited")]
    after = [r["process"]["rss_bytes"] for r in recs if r["calls"] > 0]
    check(before and after, "windows before and after the allocation: %s" % recs)
    grew = (max(after) - before[0]) / (1 << 20)
    check(abs(grew - mib) <= 0.05 * mib, "RSS grew %.1f MiB for %d MiB touched" % (grew, mib))
    check(all("pss_bytes" in r["process"] for r in recs), "PSS from smaps_rollup")
    return "RSS grew %.2f MiB for %d MiB" % (grew, mib)


def test_exited_process_reported_once_then_dropped(wd):
    il = Inferlat(wd, "-x", SERVER, "-e", LIBINFER + ":infer_run", "-d", 30, calls_out=False)
    try:
        il.wait_ready()
        fx = Fixture(wd, "-n", 20, "-s", "fixed:1000", wait=False)
        fx.wait()
        time.sleep(3.2)
        check(il.proc.poll() is None, "inferlat stopped on a target's exit: %s" % il.stderr())
        il.stop()
    finally:
        il.kill()
    rows = [r for r in il.records() if not r["final"] and r.get("pid") == fx.pid]
    exited = [r for r in rows if r["process"].get("exited")]
    check(len(exited) == 1, "the exit is reported once: %s" % rows)
    check(rows[-1] is exited[0], "no window after the exit report: %s" % rows)
    fin = [r for r in il.final() if r.get("pid") == fx.pid]
    check(len(fin) == 1 and fin[0]["calls"] == 20, "the whole run keeps its calls: %s" % fin)
    check("inferlat: " not in il.stderr().replace("inferlat: tracing", ""), "no error: %s" % il.stderr())
