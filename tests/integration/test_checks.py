# SPDX-License-Identifier: GPL-2.0
"""Thresholds and anomalies: --slo checks (exit 3 as a CI gate), online
anomalies, baselines, slow-call exemplars; every figure against the fixture's
own clocks and counts."""
import json
import os
import time

import promstack
from harness import Fixture, Inferlat, check, exact_quantile, run, second_attempt, INFERLAT
from test_errors import one_line_exit2

PROBE = "libinfer.so:infer_run"


def traced_rc(wd, fixture_args, extra=(), name="srv", calls=False, quiet=True):
    """Fixture traced by PID to its end; returns (fixture, inferlat, exit status).
    quiet=False: the live view (plain lines: not a terminal) in il.stdout()."""
    fx = Fixture(wd, *fixture_args, name=name)
    il = Inferlat(wd, "-p", fx.pid, "-e", PROBE, *extra, calls_out=calls, quiet=quiet)
    try:
        il.wait_ready()
        fx.go()
        fx.wait()
        rc = il.wait(60)
    finally:
        fx.kill()
        il.kill()
    return fx, il, rc


def textfile_samples(d):
    with open(os.path.join(d, "inferlat.prom")) as f:
        _, samples = promstack.parse_textfile(f.read())
    return samples


def test_slo_bad_forms_exit_2(wd):
    for expr, words in (("p99<50", ["--slo 'p99<50'", "unit"]),
                        ("p95<50ms", ["unknown metric 'p95'"]),
                        ("errors<1", ["share of calls"]),
                        ("rps=10", ["expected"])):
        one_line_exit2(["-p", "1", "-e", PROBE, "--slo", expr], words)
    # a check on a probe inferlat does not trace
    fx = Fixture(wd, "-n", 1)
    try:
        one_line_exit2(["-p", fx.pid, "-e", PROBE, "--slo", "llama_decode:p99<50ms"],
                       ["no probe matches 'llama_decode'"])
    finally:
        fx.kill()


def slo_entries(rec):
    return {e["slo"]: e for e in rec.get("slo", [])}


@second_attempt
def test_slo_broken_exits_3_met_exits_0(wd):
    """A p99 judged from uprobe to uretprobe against the fixture's own clock
    inside the call: a preemption between the probe and the clock on this
    shared VM moves a tail call (second attempt)."""
    # 3 ms calls, every 10th failing: p99 ~3.1 ms, errors 10%
    out = wd.file("textfile")
    os.mkdir(out)
    fargs = ["-n", 600, "-s", "fixed:3000", "-f", 10]
    slos = ["infer_run:p99<2ms", "p99<50ms", "errors<5%", "rps>1"]
    extra = ["-E", "ret!=0", "-i", "0.5", "--textfile-dir", out]
    for s in slos:
        extra += ["--slo", s]
    fx, il, rc = traced_rc(wd, fargs, extra, quiet=False)
    check(rc == 3, "exit %d, want 3 (SLO broken): %s" % (rc, il.stderr()))
    recs = fx.records()
    durs = [r["dur_ns"] / 1e9 for r in recs]
    fails = sum(1 for r in recs if r["ret"] != 0)
    fin = il.final()
    check(len(fin) == 1, "final records: %s" % fin)
    got = slo_entries(fin[0])
    check(set(got) == set(slos), "final slo entries: %s" % got)
    # the judged figure is the record's own p99, and that is the fixture's:
    # p99 of its clocks, to the histogram's 1% and 0.1 ms for the calls in
    # the tail (the 6th slowest of 600: one call that a probe hit made slower
    # on this kernel, tens of us without PCID, moves it) and its error share
    exact = exact_quantile(durs, 0.99)
    p99 = got["infer_run:p99<2ms"]["value"]
    check(p99 == fin[0]["latency_s"]["p99"], "p99 judged %.6f, the record's %.6f" % (p99, fin[0]["latency_s"]["p99"]))
    check(abs(p99 - exact) <= 0.01 * exact + 0.0001, "p99 judged %.6f, fixture's %.6f" % (p99, exact))
    check(not got["infer_run:p99<2ms"]["ok"] and got["p99<50ms"]["ok"], "verdicts: %s" % got)
    check(got["errors<5%"]["value"] == fails / len(recs) and fails == 60 and not got["errors<5%"]["ok"],
          "errors judged %s, fixture failed %d of %d" % (got["errors<5%"], fails, len(recs)))
    check(got["rps>1"]["ok"], "rps: %s" % got["rps>1"])
    check("SLO infer_run:p99<2ms failed over the whole run" in il.stderr(), il.stderr())
    # windows: every window with calls broke p99<2ms; the textfile counts them
    wins = [r for r in il.records() if not r["final"]]
    broken = sum(1 for r in wins if "infer_run:p99<2ms" in slo_entries(r)
                 and not slo_entries(r)["infer_run:p99<2ms"]["ok"])
    with_calls = sum(1 for r in wins if r["calls"] > 0)
    check(broken == with_calls >= 3, "%d windows broke p99<2ms, %d had calls" % (broken, with_calls))
    # the live view: each window's broken checks, then every check's verdict
    view = il.stdout()
    shown = [l for l in view.splitlines() if " SLO infer_run:p99<2ms broken: libinfer.so.1:infer_run pid " in l
             and l[:2].isdigit()]
    check(len(shown) == broken, "view shows %d broken windows, JSON %d:\n%s" % (len(shown), broken, view))
    for verdict in ("SLO infer_run:p99<2ms over the whole run: FAILED", "SLO p99<50ms over the whole run: met",
                    "SLO errors<5% over the whole run: FAILED", "SLO rps>1 over the whole run: met"):
        check(verdict in view, "view lacks %r:\n%s" % (verdict, view))
    samples = textfile_samples(out)
    counted = {l["slo"]: v for n, l, v in samples if n == "inferlat_slo_violations_total"}
    check(counted.get("infer_run:p99<2ms") == broken and counted.get("p99<50ms") == 0,
          "inferlat_slo_violations_total: %s, JSON windows broken: %d" % (counted, broken))

    # the same workload against SLOs it meets
    fx, il, rc = traced_rc(wd, fargs, ["-E", "ret!=0", "--slo", "p99<50ms", "--slo", "errors<20%",
                                       "--slo", "infer_run:p50>=2ms"], name="srv2")
    check(rc == 0, "exit %d, want 0 (SLOs met): %s" % (rc, il.stderr()))
    got = slo_entries(il.final()[0])
    check(all(e["ok"] for e in got.values()) and len(got) == 3, "final: %s" % got)
    return "broken: exit 3, p99 judged %.3fms vs fixture %.3fms, errors %d/%d, %d windows counted; met: exit 0" % (
        p99 * 1e3, exact * 1e3, fails, len(recs), broken)


def test_anomaly_flags_the_slow_windows_only(wd):
    # two threads of 20 ms calls, 40/s each, for 13 s; from 7 s to 10 s after
    # go they take 5x. This VM's vCPUs stall for tens of ms at times (steal):
    # a window where the fixture's own clocks saw such a stall has a real,
    # smaller departure of its own and may be flagged or not; a quiet window
    # (every call the fixture made in it within 1.4x its median) must not be,
    # and every window inside the slow phase must be.
    out = wd.file("textfile")
    os.mkdir(out)
    offset = time.time() - time.monotonic()   # CLOCK_REALTIME - CLOCK_MONOTONIC
    fx, il, rc = traced_rc(wd, ["-t", 2, "-n", 520, "-r", 40, "-s", "fixed:20000", "-X", "5,7,3"],
                           ["-i", "1", "--textfile-dir", out], quiet=False)
    check(rc == 0, "exit %d: %s" % (rc, il.stderr()))
    recs = fx.records()
    fast = sorted(r["dur_ns"] for r in recs)[len(recs) // 2] / 1e9
    slow = [r for r in recs if r["dur_ns"] / 1e9 > 4 * fast]
    check(40 <= len(slow) <= 64, "%d slow calls in the fixture's log" % len(slow))
    lo = min(r["start_ns"] for r in slow) / 1e9 + offset
    hi = max(r["end_ns"] for r in slow) / 1e9 + offset
    ends = [(r["end_ns"] / 1e9 + offset, r["dur_ns"] / 1e9) for r in recs]
    inside = clean = quiet_flagged = noisy = noisy_flagged = inside_flagged = flagged = 0
    for rec in il.records():
        if rec["final"] or rec["calls"] == 0:
            continue
        start, end = rec["ts"] - rec["window_s"], rec["ts"]
        a = rec.get("anomaly", {}).get("p99")
        flagged += a is not None
        if a is not None:
            check(a["value"] == rec["latency_s"]["p99"] and a["value"] > a["threshold"] > a["median"],
                  "anomaly figures: %s" % rec)
            # the history it departs from is the fixture's ordinary calls
            check(fast * 0.98 <= a["median"] <= 2 * fast,
                  "median p99 %.6f, fixture's median call %.6f" % (a["median"], fast))
        if start >= lo and end <= hi:
            inside += 1
            inside_flagged += a is not None
        elif end + 0.3 < lo or start - 0.3 > hi:
            # events are read up to ~0.1 s after the call ended
            longest = max([d for t, d in ends if start - 0.3 <= t <= end] or [0])
            if longest <= 1.4 * fast:
                clean += 1
                quiet_flagged += a is not None
            else:
                noisy += 1
                noisy_flagged += a is not None
    check(inside >= 2, "only %d windows inside the slow phase" % inside)
    check(inside_flagged == inside, "%d of %d slow windows flagged" % (inside_flagged, inside))
    check(clean >= 1 and quiet_flagged == 0, "%d of %d quiet windows flagged" % (quiet_flagged, clean))
    shown = [l for l in il.stdout().splitlines() if " ANOMALY libinfer.so.1:infer_run pid " in l]
    check(len(shown) == flagged, "view shows %d anomalies, JSON %d" % (len(shown), flagged))
    samples = textfile_samples(out)
    counted = [v for n, l, v in samples if n == "inferlat_anomalies_total" and l.get("metric") == "p99"]
    check(counted == [flagged], "inferlat_anomalies_total %s, JSON windows flagged %d" % (counted, flagged))
    return ("slow-phase windows flagged %d/%d; quiet windows flagged %d/%d; windows with a stall "
            "the fixture saw (>1.4x median) flagged %d/%d") % (
        inside_flagged, inside, quiet_flagged, clean, noisy_flagged, noisy)


def baseline_run(wd, i, fargs, extra):
    fx, il, rc = traced_rc(wd, ["-n", 200, "-s", "fixed:5000"] + fargs, extra, name="b%d" % i)
    durs = sorted(r["dur_ns"] / 1e9 for r in fx.records())
    check(len(durs) == 200, "fixture made %d calls" % len(durs))
    cmp_ = il.typed("baseline")
    return durs, cmp_, rc, il


def test_baseline_same_not_flagged_slower_flagged(wd):
    # 21 runs of the same fixture, each saving its baseline and compared with
    # the one before (20 same-vs-same pairs); and 20 runs of the fixture made
    # 10% slower (it spins on its own clock for a tenth of each call's time),
    # each against the baseline of a normal run
    same, slow = [], []
    prev = None
    for i in range(21):
        path = wd.file("base%d.json" % i)
        extra = ["--save-baseline", path] + (["--baseline", prev[0]] if prev else [])
        durs, cmp_, rc, il = baseline_run(wd, i, [], extra)
        with open(path) as f:
            saved = json.load(f)
        p = saved["probes"][0]
        check(saved["format"] == "inferlat-baseline" and p["calls"] == 200 and
              sum(b[2] for b in p["buckets"]) == 200, "saved baseline: %s" % p)
        if prev:
            check(len(cmp_) == 1, "comparison records: %s" % cmp_)
            c = cmp_[0]
            same.append((c, rc, prev[1], durs))
        if i < 20:
            sdurs, scmp, src, sil = baseline_run(wd, 100 + i, ["-K", 10], ["--baseline", path])
            check(len(scmp) == 1, "comparison records: %s" % scmp)
            slow.append((scmp[0], src, durs, sdurs))
        prev = (path, durs)
    false_pos = [c for c, rc, _, _ in same if c["verdict"] != "unchanged"]
    for c, rc, _, _ in same:
        check(rc == (3 if c["verdict"] == "regressed" else 0), "exit %d with verdict %s" % (rc, c["verdict"]))
    missed = [c for c, rc, _, _ in slow if c["verdict"] != "regressed"]
    for c, rc, _, _ in slow:
        check(rc == (3 if c["verdict"] == "regressed" else 0), "exit %d with verdict %s" % (rc, c["verdict"]))
    # the figures are the fixture's: medians within their bucket (0.8%), the
    # change within 1.5 points of the change the fixture's own clocks saw
    worst = 0
    for c, _, bd, cd in same + slow:
        eb, ec = exact_quantile(bd, 0.5), exact_quantile(cd, 0.5)
        check(abs(c["p50"]["baseline"] - eb) / eb <= 0.008 and abs(c["p50"]["current"] - ec) / ec <= 0.008,
              "p50 %s vs fixture %.6f -> %.6f" % (c["p50"], eb, ec))
        worst = max(worst, abs(c["p50"]["change"] - (ec / eb - 1)))
        check(c["calls"] == 200 and c["baseline_calls"] == 200, "calls: %s" % c)
    check(worst <= 0.015, "p50 change off the fixture's by %.2f points" % (worst * 100))
    fixture_slow = sorted(exact_quantile(cd, 0.5) / exact_quantile(bd, 0.5) - 1 for _, _, bd, cd in slow)
    check(len(false_pos) <= 1, "same-vs-same flagged %d of 20: %s" % (len(false_pos), false_pos))
    check(not missed, "10%% slower not flagged %d of 20: %s" % (len(missed), missed))
    changes = sorted(c["p50"]["change"] for c, _, _, _ in same)
    return ("same vs same: flagged %d/20 (false-positive rate %.0f%%), p50 change %+.1f%%..%+.1f%%; "
            "10%% slower (fixture's own p50 %+.1f%%..%+.1f%%): regressed %d/20, exit 3 each; "
            "p50 change within %.2f points of the fixture's") % (
        len(false_pos), 100 * len(false_pos) / 20, 100 * changes[0], 100 * changes[-1],
        100 * fixture_slow[0], 100 * fixture_slow[-1], 20 - len(missed), 100 * worst)


def test_bad_baseline_exits_2(wd):
    bad = wd.file("bad.json")
    with open(bad, "w") as f:
        f.write('{"format": "inferlat-baseline", "version": 1, "probes": [{"probe": "p"}]}')
    one_line_exit2(["-p", "1", "-e", PROBE, "--baseline", bad], ["--baseline " + bad, "are required"])
    one_line_exit2(["-p", "1", "-e", PROBE, "--baseline", wd.file("none.json")],
                   ["none.json", "--save-baseline"])
    one_line_exit2(["-p", "1", "-e", PROBE, "--regression-threshold", "5"], ["applies to --baseline"])
    one_line_exit2(["-p", "1", "-e", PROBE, "--baseline", bad, "--regression-threshold", "x"],
                   ["--regression-threshold x"])


def exemplar_pairs(fx, il):
    """Each exemplar with the fixture's record of its call (same thread, the
    fixture's own start inside the probed span), and whether the fixture made
    that call from serve_slow: every K-th call of a thread (-Y K,...)."""
    exs = il.typed("exemplar")
    by_tid = {}
    for r in fx.records():
        by_tid.setdefault(r["tid"], []).append(r)
    out = []
    for e in exs:
        recs = sorted(by_tid.get(e["tid"], []), key=lambda r: r["start_ns"])
        idx = [i for i, r in enumerate(recs)
               if e["start_ns"] <= r["start_ns"] <= e["start_ns"] + e["duration_s"] * 1e9]
        check(len(idx) == 1, "exemplar %s matches %d fixture calls" % (e, len(idx)))
        out.append((e, recs[idx[0]], idx[0]))
    return out


def names(e):
    return [f.get("function") for f in e["stack"]]


def test_exemplars_name_the_slow_caller(wd):
    # two threads; every 10th call, made from serve_slow(), spins 15 ms and
    # sleeps 60 ms; the others, from serve(), 0.5 ms and 2 ms
    fx, il, rc = traced_rc(wd, ["-t", 2, "-n", 300, "-b", "fixed:500", "-s", "fixed:2000", "-Y", "10,30"],
                           ["--slow", "20ms", "-i", "0.5"], quiet=False)
    check(rc == 0, "exit %d: %s" % (rc, il.stderr()))
    recs = fx.records()
    check(len(recs) == 600, "fixture made %d calls" % len(recs))
    pairs = exemplar_pairs(fx, il)
    slow_made = close = unsplit = 0
    for e, r, i in pairs:
        from_slow = (i + 1) % 10 == 0
        slow_made += from_slow
        want = "serve_slow" if from_slow else "serve"
        # innermost first: the caller, then the worker loop, then libc's thread start
        check(names(e)[:2] == [want, "worker_main"], "call %d of its thread: stack %s, want %s"
              % (i, names(e), want))
        check(e["stack"][0]["object"].endswith("/infer-server"), "object %s" % e["stack"][0])
        truth = r["dur_ns"] + max(0, e.get("runqueue_s", 0) * 1e9 - r["waited_ns"])
        # as the core tests: per call within max(2 us, 1%), bar a few calls a
        # stall of this VM moved; none by more than 5%
        close += abs(e["duration_s"] * 1e9 - truth) <= max(2000, 0.01 * truth)
        check(abs(e["duration_s"] * 1e9 - truth) <= 0.05 * truth,
              "exemplar %.6fs, fixture %.6fs" % (e["duration_s"], truth / 1e9))
        check(e["threshold_s"] == 0.02 and e["duration_s"] >= 0.02, "threshold: %s" % e)
        # where its time went: the three parts add up to the duration; the
        # blocked part is the sleep (at least the 60 ms asked for, at most the
        # sleep's wall time on the fixture's clock); on CPU at least the
        # fixture's CPU clock (time the VM's vCPU was taken away, steal, is on
        # CPU to the guest's scheduler but not in the thread's CPU clock)
        # a call whose scheduler events were not all seen has no split
        # (INFERLAT_CALL_NO_SPLIT, "unsplit" in the windows): counted below
        if "cpu_s" not in e:
            unsplit += 1
            continue
        parts = (e["cpu_s"] + e["offcpu_s"] + e["runqueue_s"]) * 1e9
        check(abs(parts - e["duration_s"] * 1e9) <= 2000, "split %s != duration" % e)
        # the sleep asked for: 60 ms from serve_slow, 2 ms from serve (a
        # fast call only here when a stall made it slow)
        asked = 0.060e9 if from_slow else 0.002e9
        check(asked - 200e3 <= e["offcpu_s"] * 1e9 <= r["sleep_ns"] + 500e3 and
              e["cpu_s"] * 1e9 >= r["cpu_ns"] - max(500e3, 0.05 * r["cpu_ns"]),
              "split cpu %.6f offcpu %.6f, fixture cpu %.6f, sleep %.6f" % (
                  e["cpu_s"], e["offcpu_s"], r["cpu_ns"] / 1e9, r["sleep_ns"] / 1e9))
    # fast calls carry no stack: exactly the calls at or over the threshold
    # sent one (calls within 1% of it could go either way)
    over = sum(1 for r in recs if r["dur_ns"] >= 0.0202e9)
    near = sum(1 for r in recs if 0.0198e9 <= r["dur_ns"] < 0.0202e9)
    check(over <= len(pairs) <= over + near, "%d exemplars, %d calls over 20ms (%d near it)"
          % (len(pairs), over, near))
    check(slow_made == 60, "%d of the 60 serve_slow calls sent an exemplar" % slow_made)
    check(unsplit <= 0.05 * len(pairs), "%d of %d exemplars without a time split" % (unsplit, len(pairs)))
    check(close >= 0.95 * len(pairs), "only %d of %d exemplars within max(2us, 1%%) of the fixture"
          % (close, len(pairs)))
    # the view: each window's slowest calls (up to 5), then the run's 5
    view = il.stdout().splitlines()
    slow_lines = [l for l in view if " SLOW " in l and l[:2].isdigit()]
    from_serve = sum(1 for l in slow_lines if ": serve+0x" in l)
    check(slow_lines and all((": serve_slow+0x" in l or ": serve+0x" in l) and " <- worker_main+0x" in l
                             for l in slow_lines) and from_serve <= len(pairs) - slow_made,
          "view: %s" % slow_lines)
    check(len(slow_lines) <= len(pairs), "%d SLOW lines for %d exemplars" % (len(slow_lines), len(pairs)))
    run_idx = view.index("slowest calls of the run:")
    check(len([l for l in view[run_idx + 1:] if l.startswith("SLOW ")]) == min(5, len(pairs)),
          "run's slowest: %s" % view[run_idx:])
    fin = il.final()
    check(len(fin) == 1 and fin[0]["exemplars"] == len(pairs) and fin[0]["exemplars_dropped"] == 0,
          "final record: exemplars %s dropped %s, %d received" % (
              fin[0].get("exemplars"), fin[0].get("exemplars_dropped"), len(pairs)))
    return ("%d exemplars: %d from serve_slow (all 60 of its calls), %d from serve (calls a stall made "
            "slower than 20ms); the other %d fast calls: none; %d/%d durations within max(2us, 1%%); "
            "%d without a time split") % (
        len(pairs), slow_made, len(pairs) - slow_made, 540 - (len(pairs) - slow_made), close, len(pairs),
        unsplit)


def test_exemplars_auto_slowest(wd):
    # --slow auto (the default): from the second window on, each probe's
    # threshold is the p99.9 of its calls so far. 1% of the calls (serve_slow)
    # take 20x: 20-40 ms against 1-2 ms
    fx, il, rc = traced_rc(wd, ["-n", 3000, "-s", "uniform:1000,2000", "-Y", "100,20"], ["-i", "0.5"])
    check(rc == 0, "exit %d: %s" % (rc, il.stderr()))
    recs = fx.records()
    pairs = exemplar_pairs(fx, il)
    check(pairs, "no exemplar at all")
    for e, r, i in pairs:
        check(names(e)[:2] == ["serve_slow", "worker_main"], "stack %s" % names(e))
        check(e["duration_s"] >= e["threshold_s"] > 0.015, "threshold: %s" % e)
    # no call under the lowest threshold in force sent one: at most the calls
    # over it did (fewer: the first window has no threshold yet)
    ths = [e["threshold_s"] * 1e9 for e, _, _ in pairs]
    most = sum(1 for r in recs if r["dur_ns"] >= 0.99 * min(ths))
    check(len(pairs) <= most, "%d exemplars; %d calls over the lowest threshold" % (len(pairs), most))
    return "%d exemplars of %d calls (%.2f%%), thresholds %.1f..%.1f ms, all from serve_slow" % (
        len(pairs), len(recs), 100.0 * len(pairs) / len(recs), min(ths) / 1e6, max(ths) / 1e6)


def test_anomaly_flags_an_error_burst(wd):
    # 2 ms calls at 100/s for 13 s, every 50th failing (2%); from 7 s to 10 s
    # after go every 2nd fails (50%). A window of ordinary calls holds at most
    # 3 failures per 101 calls (2.97%): under the 1-point floor over a 2%
    # median, and fewer than 100 calls hold fewer than the 3 errors needed.
    offset = time.time() - time.monotonic()
    fx, il, rc = traced_rc(wd, ["-n", 1300, "-r", 100, "-s", "fixed:2000", "-f", 50, "-F", "2,7,3"],
                           ["-E", "ret!=0", "-i", "1"])
    check(rc == 0, "exit %d: %s" % (rc, il.stderr()))
    recs = sorted(fx.records(), key=lambda r: r["start_ns"])
    # the burst, by the fixture's own clock: failures closer than 50 calls apart
    burst = [r for i, r in enumerate(recs) if r["ret"] and any(
        recs[j]["ret"] for j in range(max(0, i - 3), i))]
    check(len(burst) >= 100, "%d failures in the burst" % len(burst))
    lo = min(r["start_ns"] for r in burst) / 1e9 + offset - 0.05
    hi = max(r["end_ns"] for r in burst) / 1e9 + offset + 0.05
    inside = inside_flagged = other = other_flagged = 0
    for rec in il.records():
        if rec["final"] or rec["calls"] == 0:
            continue
        start, end = rec["ts"] - rec["window_s"], rec["ts"]
        a = rec.get("anomaly", {}).get("error_rate")
        if a is not None:
            check(abs(a["value"] - rec["errors"] / rec["calls"]) < 1e-8 and
                  a["value"] > a["threshold"] >= a["median"] + 0.01,
                  "anomaly figures: %s" % rec)
            check(abs(a["median"] - 0.02) <= 0.005, "median error rate %s, the fixture's 2%%" % a["median"])
        if start >= lo and end <= hi:
            inside += 1
            inside_flagged += a is not None
        elif end + 0.3 < lo or start - 0.3 > hi:
            other += 1
            other_flagged += a is not None
    check(inside >= 2 and inside_flagged == inside, "%d of %d burst windows flagged" % (inside_flagged, inside))
    check(other >= 5 and other_flagged == 0, "%d of %d ordinary windows flagged" % (other_flagged, other))
    return "error burst windows flagged %d/%d, ordinary windows %d/%d" % (inside_flagged, inside, other_flagged, other)
