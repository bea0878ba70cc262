# SPDX-License-Identifier: GPL-2.0
"""Core: counts, per-call durations and percentiles against the fixture's own
clocks; nesting, threads, -x, COMMAND, errors, loss, no probe left behind."""
import os
import signal
import time

from harness import (INFERLAT, LIBINFER, SERVER, Fixture, Inferlat, bpf_links, bpf_objects_of,
                     bpf_progs, check, exact_quantile, match_calls, run, truth_ns)


def traced(wd, fixture_args, probe="libinfer.so:infer_run", extra=(), calls=True):
    """Run the fixture paused, attach inferlat by PID, release the fixture,
    and return both when the fixture is done (inferlat stops by itself)."""
    fx = Fixture(wd, *fixture_args)
    il = Inferlat(wd, "-p", fx.pid, "-e", probe, *extra, calls_out=calls)
    try:
        il.wait_ready()
        fx.go()
        fx.wait()
        rc = il.wait(60)
        check(rc == 0, "inferlat exited %d: %s" % (rc, il.stderr()))
    finally:
        fx.kill()
        il.kill()
    return fx, il


def per_call_errors(events, records, **kw):
    """(|inferlat - fixture|, within max(2 us, 1%)) for every call but each
    thread's first: the kernel sets up its uprobe state for a process at the
    first hit (~0.3 ms here), inside that call (README, "How it measures")."""
    out = []
    for es, rs in match_calls(events, records, **kw):
        check(len(es) == len(rs), "calls per thread/depth differ: %d events, %d fixture records"
              % (len(es), len(rs)))
        for e, r in list(zip(es, rs))[1:]:
            t = truth_ns(e, r)
            d = abs(e["duration_ns"] - t)
            out.append((d, d <= max(2000, 0.01 * t)))
    return out


def overhead_note(il):
    return "; ".join(l.split("inferlat: ")[1].split(", subtracted")[0]
                     for l in il.stderr().splitlines() if "probe overhead at" in l)


def test_counts_and_per_call_durations(wd):
    # calls of ~10 ms: 1% of a call is more than this VM's 40-60 us stalls at
    # kernel transitions (see test_short_calls_unbiased for short calls)
    fx, il = traced(wd, ["-n", 500, "-s", "lognormal:9000,0.3", "-b", "uniform:0,1000"], extra=["-v"])
    recs, events = fx.records(), il.calls()
    check(len(recs) == 500, "fixture made %d calls" % len(recs))
    check(len(events) == 500, "inferlat saw %d calls, fixture made 500" % len(events))
    fin = il.final()
    check(len(fin) == 1 and fin[0]["calls"] == 500, "final record: %s" % fin)
    check(fin[0]["lost"] == 0, "events lost: %s" % fin[0])
    errs = per_call_errors(events, recs)
    ok = sum(1 for _, good in errs if good)
    check(ok >= 0.99 * len(errs), "only %d of %d calls within max(2us, 1%%)" % (ok, len(errs)))
    worst = sorted(d for d, _ in errs)
    return "within max(2us, 1%%): %d/%d; |error| median %.2fus p99 %.1fus; %s" % (
        ok, len(errs), worst[len(worst) // 2] / 1e3, worst[int(len(worst) * 0.99)] / 1e3, overhead_note(il))


def test_short_calls_unbiased(wd):
    # 20..500 us calls: the probe's own ~1.7 us would be a 0.3-9% bias here;
    # inferlat measures and subtracts it. A few calls (~1.5% on this VM) pay a
    # 10-300 us stall at the return trampoline's kernel entry that the
    # fixture's in-body clock cannot see: counted, not hidden.
    fx, il = traced(wd, ["-n", 1500, "-s", "uniform:20,500"], extra=["-v"])
    recs, events = fx.records(), il.calls()
    check(len(events) == len(recs) == 1500, "%d events, %d records" % (len(events), len(recs)))
    signed = []
    for es, rs in match_calls(events, recs):
        signed += [e["duration_ns"] - truth_ns(e, r) for e, r in zip(es, rs)]
    signed.sort()
    median = signed[len(signed) // 2]
    # uncorrected (or corrected twice), the median is off by the ~2 us overhead;
    # the calibration itself varies by a few hundred ns with the machine's load
    check(abs(median) <= 1500, "median error %d ns: the probe overhead is not corrected" % median)
    errs = per_call_errors(events, recs)
    ok = sum(1 for _, good in errs if good)
    check(ok >= 0.97 * len(errs), "only %d of %d short calls within max(2us, 1%%)" % (ok, len(errs)))
    return "median error %+.2fus; within max(2us, 1%%): %d/%d (%.1f%%); %s" % (
        median / 1e3, ok, len(errs), 100.0 * ok / len(errs), overhead_note(il))


def test_raw_durations_keep_the_overhead(wd):
    fx, il = traced(wd, ["-n", 300, "-s", "uniform:50,300"], extra=["--raw-durations"])
    signed = []
    for es, rs in match_calls(il.calls(), fx.records()):
        signed += [e["duration_ns"] - r["dur_ns"] for e, r in zip(es, rs)]
    signed.sort()
    median = signed[len(signed) // 2]
    check(800 <= median <= 10000, "raw durations should carry the probe's ~1-3 us: median %d ns" % median)
    return "raw median excess %.2fus" % (median / 1e3)


def test_percentiles_match_exact(wd):
    # dense enough at p99.9 that one call's few-us noise cannot move the exact
    # quantile by a whole gap between neighbouring samples, and long enough
    # that this VM's 40-60 us stalls at kernel transitions stay small
    fx, il = traced(wd, ["-n", 1500, "-t", 2, "-s", "lognormal:4000,0.4"])
    durs = []
    for es, rs in match_calls(il.calls(), fx.records()):
        durs += [truth_ns(e, r) / 1e9 for e, r in zip(es, rs)]
    check(len(durs) == 3000, "%d matched calls" % len(durs))
    fin = il.final()
    check(len(fin) == 1 and fin[0]["calls"] == 3000, "final: %s" % fin)
    lat = fin[0]["latency_s"]
    notes = []
    for key, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999)):
        exact = exact_quantile(durs, q)
        rel = abs(lat[key] - exact) / exact
        notes.append("%s %.2f%%" % (key, rel * 100))
        check(rel <= 0.01, "%s: inferlat %.6fs, exact %.6fs (%.2f%%)" % (key, lat[key], exact, rel * 100))
    mean = sum(durs) / len(durs)
    check(abs(lat["mean"] - mean) / mean <= 0.01, "mean %.6f vs %.6f" % (lat["mean"], mean))
    return "error vs exact: " + ", ".join(notes)


def test_nested_and_recursive_calls(wd):
    # infer_nested(5): six probed frames per call, each timed on its own
    fx, il = traced(wd, ["-n", 40, "-N", 5, "-s", "uniform:3000,6000"], probe="libinfer.so:infer_nested")
    recs, events = fx.records(), il.calls()
    check(len(events) == len(recs) == 240, "%d events, %d fixture records" % (len(events), len(recs)))
    errs = per_call_errors(events, recs, fixture_depth=lambda d: 5 - d)
    ok = sum(1 for _, good in errs if good)
    check(ok >= 0.99 * len(errs), "only %d of %d nested calls within tolerance" % (ok, len(errs)))
    # the outermost frame holds all inner ones: its duration is the largest
    outer = [e for e in events if e["depth"] == 0]
    inner = [e for e in events if e["depth"] == 5]
    check(min(e["duration_ns"] for e in outer) > 5 * min(e["duration_ns"] for e in inner),
          "outer frames should take ~6x the innermost")


def test_nesting_deeper_than_stack_is_counted_not_mistimed(wd):
    # 21 levels: 16 timed, 5 counted as untimed, and the timed ones still right
    fx, il = traced(wd, ["-n", 10, "-N", 20, "-s", "uniform:3000,6000"], probe="libinfer.so:infer_nested")
    recs, events = fx.records(), il.calls()
    fin = il.final()[0]
    check(fin["calls"] == 10 * 16, "timed calls %d, want 160" % fin["calls"])
    check(fin["untimed"] == 10 * 5, "untimed %d, want 50" % fin["untimed"])
    timed = [r for r in recs if r["depth"] >= 5]  # fixture depth 20..5 = outermost 16 frames
    errs = per_call_errors(events, timed, fixture_depth=lambda d: 20 - d)
    ok = sum(1 for _, good in errs if good)
    check(ok >= 0.99 * len(errs), "only %d of %d within tolerance" % (ok, len(errs)))


def test_multithreaded(wd):
    fx, il = traced(wd, ["-n", 150, "-t", 4, "-s", "uniform:3000,9000"])
    recs, events = fx.records(), il.calls()
    check(len({r["tid"] for r in recs}) == 4, "fixture threads")
    check(len(events) == 600, "inferlat saw %d of 600 calls" % len(events))
    check({e["tid"] for e in events} == {r["tid"] for r in recs}, "thread ids differ")
    errs = per_call_errors(events, recs)
    ok = sum(1 for _, good in errs if good)
    check(ok >= 0.99 * len(errs), "only %d of %d within tolerance" % (ok, len(errs)))


def test_exe_follows_processes_started_before_and_after(wd):
    before = Fixture(wd, "-n", 60, "-s", "fixed:500", name="before")
    il = Inferlat(wd, "-x", SERVER, "-e", "libinfer.so:infer_run", "-d", 30)
    try:
        il.wait_ready()
        before.go()
        before.wait()
        after = Fixture(wd, "-n", 45, "-s", "fixed:500", wait=False, name="after")
        after.wait()
        # the windows show both processes; stop once the last calls are in
        time.sleep(1.5)
        il.stop()
    finally:
        before.kill()
        il.kill()
    fin = {r["pid"]: r for r in il.final()}
    check(fin.get(before.pid, {}).get("calls") == 60, "started before: %s" % fin.get(before.pid))
    check(fin.get(after.pid, {}).get("calls") == 45, "started after: %s" % fin.get(after.pid))


def test_command_is_started_and_traced(wd):
    log = wd.file("cmd.log")
    il = Inferlat(wd, "-e", LIBINFER + ":infer_run", "--", SERVER, "-n", 70, "-s", "fixed:300", "-l", log)
    rc = il.wait(60)
    check(rc == 0, "inferlat exited %d: %s" % (rc, il.stderr()))
    n = sum(1 for l in open(log) if not l.startswith("#"))
    fin = il.final()
    check(n == 70 and len(fin) == 1 and fin[0]["calls"] == 70, "fixture %d calls, inferlat %s" % (n, fin))


def test_error_predicate(wd):
    fx, il = traced(wd, ["-n", 100, "-f", 7, "-s", "fixed:200"], extra=["-E", "ret<0"], calls=True)
    fin = il.final()[0]
    want = sum(1 for r in fx.records() if r["ret"] < 0)
    check(want == 14, "fixture failed %d calls" % want)
    check(fin["errors"] == want, "inferlat counted %d errors, fixture returned %d" % (fin["errors"], want))
    flagged = sum(1 for e in il.calls() if e["error"])
    check(flagged == want, "%d calls flagged" % flagged)


def test_probe_site_choice_shown(wd):
    fx = Fixture(wd, "-n", 1)
    try:
        r = run([INFERLAT, "-p", fx.pid, "-e", "libinfer.so:infer_run", "-e", "libinfer.so:proto_nop5",
                 "-e", "libinfer.so:proto_lea", "-e", "libinfer.so:proto_push", "-v", "-d", "0.2", "-q"])
    finally:
        fx.kill()
    check(r.returncode == 0, r.stderr)
    lines = {l.split()[3]: l for l in r.stderr.splitlines() if l.startswith("inferlat: probe ")}
    check("push %rbp (emulated); skipped endbr64" in lines["libinfer.so.1:infer_run"], lines)
    check("(optimized)" in lines["libinfer.so.1:proto_nop5"], lines)
    check("(single-step)" in lines["libinfer.so.1:proto_lea"], lines)
    check("push %rbp (emulated)" in lines["libinfer.so.1:proto_push"] and "skipped" not in
          lines["libinfer.so.1:proto_push"], lines)


def test_lost_events_counted_and_totals_complete(wd):
    # a 4 KiB ring buffer cannot hold what 2 threads of short calls produce
    # (--calls: one process and no per-call output would send no events)
    fx, il = traced(wd, ["-n", 20000, "-t", 2, "-s", "fixed:0"], extra=["--ringbuf-size", 4096], calls=True)
    fin = il.final()
    check(len(fin) == 1, "final: %s" % fin)
    check(fin[0]["lost"] > 0, "expected dropped events: %s" % fin[0])
    check(fin[0]["calls"] == 40000, "calls %d, want 40000 (from the in-kernel counters)" % fin[0]["calls"])
    check(fin[0].get("source") == "kernel", "final record should say its figures come from the kernel")
    return "%d of 40000 events dropped, all calls counted" % fin[0]["lost"]


def test_no_probe_left_after_exit(wd):
    fx = Fixture(wd, "-n", 1)
    il = Inferlat(wd, "-p", fx.pid, "-e", "libinfer.so:infer_run")
    try:
        il.wait_ready()
        ours = bpf_objects_of(il.proc.pid)
        check(len([p for p in ours["progs"] if p["name"].startswith("on_")]) >= 2,
              "while tracing, bpftool should list inferlat's programs: %s" % ours["progs"])
        check(len(ours["links"]) >= 2, "while tracing, uprobe links: %s" % ours["links"])
        il.stop()
    finally:
        fx.kill()
        il.kill()
    # the kernel frees programs of closed links after an RCU grace period
    ids = {p["id"] for p in ours["progs"]}
    link_ids = {l["id"] for l in ours["links"]}
    deadline = time.time() + 5
    while time.time() < deadline:
        left = [p for p in bpf_progs() if p["id"] in ids]
        left_links = [l for l in bpf_links() if l["id"] in link_ids]
        if not left and not left_links:
            return "%d programs, %d links: all gone" % (len(ids), len(link_ids))
        time.sleep(0.1)
    raise AssertionError("left after exit: programs %s, links %s" % (left, left_links))


def test_json_record_fields(wd):
    fx, il = traced(wd, ["-n", 50, "-r", 100, "-s", "fixed:500"], calls=False)
    recs = il.records()
    check(any(not r["final"] for r in recs), "window records")
    for r in recs:
        for k in ("ts", "window_s", "final", "probe", "calls", "rps", "errors", "lost"):
            check(k in r, "%s missing in %s" % (k, r))
        if r["calls"]:
            check(r["pid"] == fx.pid and r["comm"] == "infer-server", r)
            check(set(r["latency_s"]) == {"mean", "min", "p50", "p90", "p99", "p999", "max"}, r)
            lat = r["latency_s"]
            check(lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"], lat)
        else:
            check("latency_s" not in r, "no latency without calls: %s" % r)
    check(sum(r["calls"] for r in recs if not r["final"]) == 50, "windows add up to the run")
