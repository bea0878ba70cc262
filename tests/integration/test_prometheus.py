# SPDX-License-Identifier: GPL-2.0
"""Prometheus textfile export: figures against the fixture's own logs,
promtool, atomic replacement under failing directories, escaping, and the real
chain node_exporter -> Prometheus -> histogram_quantile across two hosts."""
import json
import os
import re
import shlex
import signal
import time

import yaml

import promstack
from harness import INFERLAT, SERVER, Fixture, Inferlat, check, exact_quantile, run
from test_core import traced

PROBE = "libinfer.so:infer_run"


def bounds_ns():
    """The 104 documented bounds: (m << (e - 7)) - 1 ns."""
    return [(m << (e - 7)) - 1 for e in range(10, 36) for m in (128, 152, 181, 215)]


def le_ns(le):
    return round(float(le) * 1e9)


def prom_file(d, name="inferlat.prom"):
    with open(os.path.join(d, name)) as f:
        return f.read()


def samples_by_name(text):
    fams, samples = promstack.parse_textfile(text)
    out = {}
    for name, labels, value in samples:
        out.setdefault(name, []).append((labels, value))
    return fams, out


def one(samples, name, **labels):
    got = [v for l, v in samples.get(name, []) if all(l.get(k) == w for k, w in labels.items())]
    check(len(got) == 1, "%s%s: %d samples: %s" % (name, labels, len(got), samples.get(name)))
    return got[0]


def textfile_run(wd, fixture_args, extra=()):
    """Fixture traced by PID with --textfile-dir and --calls, to the end."""
    out = wd.file("textfile")
    os.mkdir(out)
    fx, il = traced(wd, fixture_args, extra=["--textfile-dir", out] + list(extra))
    return fx, il, out


def test_textfile_figures_match_the_fixture(wd):
    t0 = time.time()
    fx, il, out = textfile_run(wd, ["-n", 600, "-t", 2, "-f", 9, "-s", "lognormal:800,0.8"],
                               extra=["-E", "ret<0", "-i", "0.3", "--label", "model=tiny", "-v"])
    t1 = time.time()
    text = prom_file(out)
    rc, msg = promstack.promtool_check_metrics(text)
    check(rc == 0 and msg == "", "promtool check metrics: rc %d: %s" % (rc, msg))
    fams, s = samples_by_name(text)
    check(fams["inferlat_call_duration_seconds"] == "histogram", fams)
    for name, typ in fams.items():
        check(name.endswith("_total") == (typ == "counter"), "%s is a %s" % (name, typ))
    recs, events = fx.records(), il.calls()
    lab = {"probe": "libinfer.so.1:infer_run", "comm": "infer-server", "model": "tiny"}
    count = one(s, "inferlat_call_duration_seconds_count", **lab)
    check(count == len(recs) == 1200, "count %s, fixture made %d calls" % (count, len(recs)))
    failed = sum(1 for r in recs if r["ret"] < 0)
    check(one(s, "inferlat_call_errors_total", **lab) == failed == 132,
          "errors %s, fixture failed %d" % (one(s, "inferlat_call_errors_total", **lab), failed))
    hits = one(s, "inferlat_probe_hits_total", probe=lab["probe"], model="tiny")
    check(hits == 1200, "probe hits %s" % hits)
    check(one(s, "inferlat_events_lost_total", model="tiny") == 0, "lost events")

    # buckets: exactly the per-call durations inferlat measured (--calls) ...
    durs = sorted(e["duration_ns"] for e in events)
    buckets = [(le_ns(l["le"]), v) for l, v in s["inferlat_call_duration_seconds_bucket"]
               if l["le"] != "+Inf" and l["comm"] == "infer-server"]
    check([b for b, _ in buckets] == bounds_ns(), "bucket bounds differ from the documented ones")
    for b, v in buckets:
        want = sum(1 for d in durs if d <= b)
        check(v == want, "le=%dns: %d in the file, %d calls of --calls" % (b, v, want))
    inf = one(s, "inferlat_call_duration_seconds_bucket", le="+Inf", **lab)
    check(inf == count, "+Inf bucket %s != count %s" % (inf, count))
    total = sum(durs)
    got_sum = one(s, "inferlat_call_duration_seconds_sum", **lab)
    check(abs(got_sum * 1e9 - total) < 1, "sum %.9f s, calls add up to %d ns" % (got_sum, total))
    # ... and within the per-call tolerance of the fixture's own clocks
    fx_durs = [r["dur_ns"] for r in recs]
    worst = max(abs(v - sum(1 for d in fx_durs if d <= b)) for b, v in buckets)
    check(worst <= 0.02 * len(recs), "a bucket differs from the fixture's count by %d calls" % worst)

    # where the time went: exactly the per-call figures of --calls, and close
    # to the fixture's own (CPU clock, blocked around its sleeps)
    for name, field in (("inferlat_call_cpu_seconds_total", "oncpu_ns"),
                        ("inferlat_call_offcpu_seconds_total", "offcpu_ns"),
                        ("inferlat_call_runqueue_seconds_total", "runq_ns")):
        got = one(s, name, **lab)
        want = sum(e[field] for e in events)
        check(abs(got * 1e9 - want) < 1, "%s %.9f s, --calls add up to %d ns" % (name, got, want))
    cpu = one(s, "inferlat_call_cpu_seconds_total", **lab)
    fx_cpu = sum(r["cpu_ns"] for r in recs) / 1e9
    # the fixture's CPU clock starts and stops a few us inside each call, and
    # these calls spend only ~40 us on CPU
    check(abs(cpu - fx_cpu) <= 0.05 * fx_cpu + 4e-6 * len(recs),
          "CPU in calls %.4fs, fixture's clock %.4fs" % (cpu, fx_cpu))
    blocked = one(s, "inferlat_call_offcpu_seconds_total", **lab)
    fx_blocked = sum(r["blocked_ns"] for r in recs) / 1e9
    check(abs(blocked - fx_blocked) <= 0.05 * fx_blocked, "blocked %.4fs, fixture %.4fs" % (blocked, fx_blocked))
    faults = one(s, "inferlat_call_page_faults_total", **lab)
    check(faults == sum(e["minflt"] + e["majflt"] for e in events), "page faults %s" % faults)
    vol = one(s, "inferlat_call_voluntary_context_switches_total", **lab)
    check(vol == sum(e["nvcsw"] for e in events) >= sum(r["nvcsw"] for r in recs), "voluntary switches %s" % vol)
    # the process (exited by now: its last figures stay until the exit is reported)
    proc_cpu = [v for l, v in s.get("inferlat_process_cpu_seconds_total", []) if l.get("pid") == str(fx.pid)]
    check(not proc_cpu or proc_cpu[0] >= 0, "process CPU %s" % proc_cpu)

    # overhead: hits times the per-hit cost, exactly as documented
    cost = one(s, "inferlat_probe_hit_cost_seconds", probe=lab["probe"], model="tiny")
    logged = re.search(r"(\d+) ns per hit to the caller", il.stderr())
    check(logged and abs(cost * 1e9 - int(logged.group(1))) < 0.5, "cost %s vs -v: %s" % (cost, il.stderr()))
    ovh = one(s, "inferlat_probe_overhead_seconds_total", probe=lab["probe"], model="tiny")
    check(abs(ovh - hits * cost) < 1e-9, "overhead %s != %d hits x %s" % (ovh, hits, cost))
    check(one(s, "inferlat_overhead_ratio", model="tiny") >= 0, "ratio")
    ts = one(s, "inferlat_last_update_timestamp_seconds", model="tiny")
    check(t0 <= ts <= t1, "last update %s outside the run [%s, %s]" % (ts, t0, t1))
    version = run([INFERLAT, "--version"]).stdout.split()[-1]
    check(one(s, "inferlat_build_info", version=version, model="tiny") == 1, "build_info")
    q = exact_quantile([r["dur_ns"] for r in recs], 0.99) / 1e9
    return "1200 calls, 132 errors exact; 104 buckets exact vs --calls, within %d calls of the fixture; " \
           "per-hit cost %.2fus (exact p99 %.3fms)" % (worst, cost * 1e6, q * 1e3)


def test_counters_never_reset_and_reads_never_partial(wd):
    # windows of 20 ms: ~50 replacements a second while a reader polls
    out = wd.file("textfile")
    os.mkdir(out)
    path = os.path.join(out, "inferlat.prom")
    fx = Fixture(wd, "-n", 1500, "-r", 500, "-s", "fixed:200")
    il = Inferlat(wd, "-p", fx.pid, "-e", PROBE, "--textfile-dir", out, "-i", "0.02", json_out=False)
    reads, last, versions = 0, -1, set()
    try:
        il.wait_ready()
        fx.go()
        while fx.proc.poll() is None:
            try:
                with open(path) as f:
                    text = f.read()
            except FileNotFoundError:
                continue
            reads += 1
            check(text.endswith("\n") and "\ninferlat_build_info{" in text,
                  "partial file (%d bytes): %r" % (len(text), text[-200:]))
            _, s = samples_by_name(text)
            n = one(s, "inferlat_call_duration_seconds_count", comm="infer-server")
            check(n >= last, "count went back from %d to %d" % (last, n))
            last = n
            versions.add(one(s, "inferlat_last_update_timestamp_seconds"))
        fx.wait()
        check(il.wait(30) == 0, il.stderr())
    finally:
        fx.kill()
        il.kill()
    _, s = samples_by_name(prom_file(out))
    check(one(s, "inferlat_call_duration_seconds_count", comm="infer-server") == 1500, "final count")
    check(len(versions) > 20, "the file was replaced only %d times" % len(versions))
    left = [f for f in os.listdir(out) if f != "inferlat.prom"]
    check(not left, "temporary files left: %s" % left)
    return "%d complete reads of %d versions" % (reads, len(versions))


class TmpfsInferlat:
    """inferlat writing into a tmpfs of its own mount namespace, so the test
    can make that directory read-only or full without touching the host."""

    def __init__(self, wd, fx, size_kb, name="inferlat.prom"):
        self.dir = wd.file("tmpfs")
        os.mkdir(self.dir)
        setup = 'mount -t tmpfs -o size=%dk,mode=0755 tmpfs "$0" && exec "$@"' % size_kb
        self.il = Inferlat(wd, "-p", fx.pid, "-e", PROBE, "--textfile-dir", self.dir, "-i", "0.1",
                           json_out=False,
                           prefix=["unshare", "-m", "--propagation", "private", "sh", "-c", setup, self.dir])
        self.path = "/proc/%d/root%s/%s" % (self.il.proc.pid, self.dir, name)

    def ns(self, *cmd):
        r = run(["nsenter", "-t", self.il.proc.pid, "-m"] + list(cmd))
        return r

    def read(self):
        with open(self.path) as f:
            return f.read()

    def stamp(self):
        try:
            _, s = samples_by_name(self.read())
        except FileNotFoundError:
            return 0
        return one(s, "inferlat_last_update_timestamp_seconds")

    def wait_new(self, after, timeout=10):
        return promstack.wait_for("a newer file", lambda: self.stamp() > after and self.stamp(), timeout)


def failing_dir(wd, size_kb, break_it, mend_it, errno_text):
    """Make the directory fail mid-run, check the old file stays and the error
    is said once, then mend it and check writing resumes."""
    fx = Fixture(wd, "-n", 3000, "-r", 300, "-s", "fixed:100")
    t = TmpfsInferlat(wd, fx, size_kb)
    try:
        t.il.wait_ready()
        fx.go()
        first = t.wait_new(0)
        break_it(t)
        time.sleep(0.3)   # a write may have been under way
        before = t.read()
        time.sleep(1.5)   # ~15 windows that cannot write
        check(t.read() == before, "the old file changed while the directory was failing")
        errs = [l for l in t.il.stderr().splitlines() if "cannot write" in l]
        check(len(errs) == 1 and errno_text in errs[0], "want one error line: %s" % t.il.stderr())
        mend_it(t)
        after = t.wait_new(t.stamp())
        check(after > first, "not resumed")
        text = t.read()
        check(t.il.stderr().count("writing %s/inferlat.prom again" % t.dir) == 1, t.il.stderr())
        _, s = samples_by_name(text)
        nerr = one(s, "inferlat_textfile_write_errors_total")
        check(nerr >= 10, "%s failed writes counted" % nerr)
        left = [f for f in os.listdir("/proc/%d/root%s" % (t.il.proc.pid, t.dir)) if f.startswith(".")]
        check(not left, "temporary files left: %s" % left)
        fx.wait()
        check(t.il.wait(30) == 0, t.il.stderr())
    finally:
        fx.kill()
        t.il.kill()
    return "%d failed writes counted, one error line, resumed" % nerr


def test_readonly_directory_keeps_old_file(wd):
    def ro(t):
        # EBUSY while inferlat has its temporary file open for writing
        promstack.wait_for("remount read-only", lambda: t.ns("mount", "-o", "remount,ro", t.dir).returncode == 0,
                           timeout=10, step=0.01)

    def rw(t):
        r = t.ns("mount", "-o", "remount,rw", t.dir)
        check(r.returncode == 0, r.stderr)
    return failing_dir(wd, 256, ro, rw, "Read-only file system")


def test_full_directory_keeps_old_file(wd):
    def fill(t):
        # to the last page (dd then fails, as it should); twice, for the pages
        # of a temporary file inferlat was writing at that moment: once full,
        # what a failed write frees is less than the next write needs
        for name in ("filler1", "filler2"):
            t.ns("dd", "if=/dev/zero", "of=%s/%s" % (t.dir, name), "bs=4096")
            time.sleep(0.25)
        check(t.ns("test", "-s", "%s/filler1" % t.dir).returncode == 0, "no filler")

    def free(t):
        check(t.ns("rm", "-f", "%s/filler1" % t.dir, "%s/filler2" % t.dir).returncode == 0, "rm filler")
    return failing_dir(wd, 128, fill, free, "No space left on device")


def test_bad_textfile_options_exit_2(wd):
    from test_errors import one_line_exit2
    fx = Fixture(wd, "-n", 1)
    try:
        one_line_exit2(["-p", fx.pid, "-e", PROBE, "--textfile-dir", wd.file("nope")],
                       ["--textfile-dir", "No such file or directory"])
        one_line_exit2(["-p", fx.pid, "-e", PROBE, "--textfile-dir", SERVER], ["Not a directory"])
    finally:
        fx.kill()
    one_line_exit2(["-p", "1", "-e", "x", "--label", "model=x"], ["--textfile-dir"])
    one_line_exit2(["-p", "1", "-e", "x", "--textfile-dir", "/tmp", "--label", "comm=x"], ["itself"])
    one_line_exit2(["-p", "1", "-e", "x", "--textfile-dir", "/tmp", "--label", "9x=1"], ["label name"])
    one_line_exit2(["-p", "1", "-e", "x", "--textfile-dir", "/tmp", "--label", "a=1", "--label", "a=2"],
                   ["given twice"])
    one_line_exit2(["-p", "1", "-e", "x", "--textfile-dir", "/tmp", "--textfile-name", "x.txt"], [".prom"])


def hosts(wd, specs, extra=()):
    """One fixture + inferlat + node_exporter per (name, fixture args)."""
    out = []
    for name, args in specs:
        d = wd.file("host-" + name)
        os.mkdir(d)
        fx = Fixture(wd, *args, name=name)
        il = Inferlat(wd, "-p", fx.pid, "-e", PROBE, "-E", "ret<0", "--textfile-dir", d, "-i", "0.5",
                      *extra, json_out=False)
        out.append({"name": name, "dir": d, "fx": fx, "il": il})
    for h in out:
        h["il"].wait_ready()
        h["ne"] = promstack.node_exporter(wd, "ne-" + h["name"], h["dir"])
    return out


def stop_all(hs, prom=None):
    for h in hs:
        h["fx"].kill()
        h["il"].kill()
        if "ne" in h:
            h["ne"].stop()
    if prom:
        prom.stop()


def test_fleet_p99_through_node_exporter_and_prometheus(wd):
    specs = [("a", ["-n", 1200, "-r", 150, "-s", "lognormal:2000,0.5", "-f", 50]),
             ("b", ["-n", 500, "-r", 62.5, "-s", "lognormal:5000,0.3"])]
    hs, prom = hosts(wd, specs), None
    try:
        prom = promstack.prometheus(wd, {h["ne"].address: h["name"] for h in hs})
        # the series exist at zero before the first call: rate() sees every call
        promstack.wait_for("zero series from both hosts", lambda: len(
            promstack.query(prom, 'inferlat_call_duration_seconds_count == 0')) == 2)
        t_go = time.time()
        for h in hs:
            h["fx"].go()
        for h in hs:
            h["fx"].wait()
            check(h["il"].wait(60) == 0, h["il"].stderr())
        recs = [r for h in hs for r in h["fx"].records()]
        promstack.wait_for("every call scraped", lambda: promstack.query(
            prom, "sum(inferlat_call_duration_seconds_count)") == [({}, float(len(recs)))])
        time.sleep(1.5)
        t_end = time.time()
        rng = int(t_end - t_go) + 5
        (_, p99), = promstack.query(prom, "histogram_quantile(0.99, sum by (le) "
                                    "(rate(inferlat_call_duration_seconds_bucket[%ds])))" % rng, at=t_end)
        exact = exact_quantile([r["dur_ns"] for r in recs], 0.99)
        b = bounds_ns()
        k = next(i for i, x in enumerate(b) if x >= exact)
        width = b[k] - b[k - 1]
        check(abs(p99 * 1e9 - exact) <= width,
              "fleet p99 %.6fs from Prometheus, exact %.6fs: off by more than its bucket (%.6fs)"
              % (p99, exact / 1e9, width / 1e9))
        errs = promstack.query(prom, "node_textfile_scrape_error")
        check(len(errs) == 2 and all(v == 0 for _, v in errs), "scrape errors: %s" % errs)
        failed = sum(1 for r in recs if r["ret"] < 0)
        (_, got_err), = promstack.query(prom, "sum(inferlat_call_errors_total)")
        check(got_err == failed == 24, "errors %s through the chain, fixture %d" % (got_err, failed))
        ups = promstack.query(prom, "up")
        check(len(ups) == 2 and all(v == 1 for _, v in ups), "up: %s" % ups)
        # the shipped dashboard's and rules' expressions against this server
        notes = check_assets_against(prom, hs[0]["dir"])
    finally:
        stop_all(hs, prom)
    return "fleet p99 %.3fms vs exact %.3fms (%+.1f%%, bucket %.3fms wide); %s" % (
        p99 * 1e3, exact / 1e6, (p99 * 1e9 / exact - 1) * 100, width / 1e6, notes)


GRAFANA_VARS = {"$__rate_interval": "1m", "${datasource}": "", "$instance": ".*", "$probe": ".*"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
                "unless", "offset", "inf", "nan"}


def metric_names(expr):
    """Metric names a PromQL expression selects: identifiers that are not
    functions, keywords, label names or inside strings, durations."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"(?<![A-Za-z0-9_:])\d+(\.\d+)?([eE][-+]?\d+)?[smhdwy]?", "", e)
    e = re.sub(r"\{[^}]*\}", "", e)
    e = re.sub(r"\[[^\]]*\]", "", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        rest = e[m.end():].lstrip()
        word = m.group(0)
        if rest.startswith("(") or word in PROMQL_WORDS:
            continue
        names.add(word)
    return names


def exported_names(text):
    fams, _ = promstack.parse_textfile(text)
    names = set()
    for name, typ in fams.items():
        names |= {name + s for s in ("_bucket", "_sum", "_count")} if typ == "histogram" else {name}
    return names


# exported only for runtime presets' probes (-r llama.cpp: requests from the
# sequences; a runtime's main probe: its thread pool): test_serving checks
# them in a real llama.cpp server's textfile
PRESET_ONLY = {
    "inferlat_gen_ai_server_requests_total", "inferlat_gen_ai_server_tokens_total",
    "inferlat_gen_ai_server_time_to_first_token_seconds_bucket",
    "inferlat_gen_ai_server_time_per_output_token_seconds_bucket",
    "inferlat_decode_sequences_total", "inferlat_decode_calls_total",
    "inferlat_call_process_cpu_seconds_total", "inferlat_call_pool_duration_seconds_total",
}
# exported only with --http: test_http checks them in a real server's textfile
HTTP_ONLY = {
    "inferlat_http_server_request_duration_seconds_bucket", "inferlat_http_server_time_to_first_chunk_seconds_bucket",
    "inferlat_http_server_inter_chunk_seconds_bucket", "inferlat_http_server_requests_total",
    "inferlat_http_server_active_requests", "inferlat_http_unparsed_connections_total",
    "inferlat_http_events_lost_total", "inferlat_http_connections_not_followed_total",
}


def dashboard_exprs():
    with open(promstack.DASHBOARD) as f:
        dash = json.load(f)
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    exprs += [v["query"]["query"] for v in dash["templating"]["list"] if isinstance(v.get("query"), dict)]
    return dash, exprs


def check_assets_against(prom, textfile_dir):
    """Every PromQL expression of the dashboard names only metrics inferlat
    exports (as found in a real file) and is accepted by Prometheus."""
    have = exported_names(prom_file(textfile_dir))
    dash, exprs = dashboard_exprs()
    check(len(exprs) >= 10, "dashboard expressions: %d" % len(exprs))
    for expr in exprs:
        names = metric_names(re.sub(r"label_values\((.*), *\w+\)$", r"\1", expr))
        check(names and names <= have | PRESET_ONLY | HTTP_ONLY,
              "dashboard: %r names %s, not exported" % (expr, names - have))
        if expr.startswith("label_values("):
            expr = re.sub(r"label_values\((.*), *\w+\)$", r"\1", expr)
        for k, v in GRAFANA_VARS.items():
            expr = expr.replace(k, v)
        err = promstack.query_error(prom, expr)
        check(err is None, "Prometheus rejects %r: %s" % (expr, err))
    with open(promstack.RULES) as f:
        rules = yaml.safe_load(f)
    node = {"node_textfile_mtime_seconds"}   # node_exporter's own, for staleness
    for r in rules["groups"][0]["rules"]:
        names = metric_names(r["expr"])
        check(names and names <= have | node | PRESET_ONLY | HTTP_ONLY,
              "rule %s names %s" % (r["alert"], names - have - node))
        err = promstack.query_error(prom, r["expr"])
        check(err is None, "Prometheus rejects rule %s: %s" % (r["alert"], err))
    return "%d dashboard and %d rule expressions accepted" % (len(exprs), len(rules["groups"][0]["rules"]))


def test_rules_pass_promtool(wd):
    r = run([promstack.PROMTOOL, "check", "rules", promstack.RULES])
    check(r.returncode == 0 and "SUCCESS: 12 rules found" in r.stdout, r.stdout + r.stderr)
    r = run([promstack.PROMTOOL, "test", "rules", os.path.basename(promstack.RULES_TEST)],
            cwd=os.path.dirname(promstack.RULES_TEST))
    check(r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr)
    dash, exprs = dashboard_exprs()
    for want in ("histogram_quantile(0.99", "inferlat_call_errors_total", "inferlat_events_lost_total",
                 "inferlat_call_duration_seconds_sum"):
        check(any(want in e for e in exprs), "dashboard lacks %s" % want)


def hostile_exe(wd, name):
    path = os.path.join(wd.path, name)
    os.symlink(SERVER, path)
    return path


def test_hostile_comm_and_labels_round_trip(wd):
    comm = 'a"b\\c\nd} 1\n#'        # 14 bytes: within the kernel's 15
    label = 'x"} 1\ninjected_metric 1\n# \\'
    d = wd.file("host-h")
    os.mkdir(d)
    fx = Fixture(wd, "-n", 50, "-r", 100, "-s", "fixed:300", exe=hostile_exe(wd, comm), name="h")
    il = Inferlat(wd, "-p", fx.pid, "-e", PROBE, "--textfile-dir", d, "-i", "0.2", "--label", "note=" + label,
                  json_out=False)
    ne = prom = None
    try:
        il.wait_ready()
        fx.go()
        fx.wait()
        check(il.wait(30) == 0, il.stderr())
        text = prom_file(d)
        rc, msg = promstack.promtool_check_metrics(text)
        check(rc == 0 and msg == "", "promtool: %s" % msg)
        ne = promstack.node_exporter(wd, "ne-h", d)
        prom = promstack.prometheus(wd, {ne.address: "h"})
        got = promstack.wait_for("the series in Prometheus", lambda: promstack.series(
            prom, '{__name__="inferlat_call_duration_seconds_count"}'))
        check(len(got) == 1, got)
        check(got[0]["comm"] == comm, "comm came back as %r" % got[0]["comm"])
        check(got[0]["note"] == label, "label came back as %r" % got[0]["note"])
        (_, n), = promstack.query(prom, "inferlat_call_duration_seconds_count")
        check(n == 50, "count %s" % n)
        check(not promstack.series(prom, '{__name__="injected_metric"}'), "a series was injected")
        check(all(v == 0 for _, v in promstack.query(prom, "node_textfile_scrape_error")), "scrape error")
        every = promstack.series(prom, '{__name__=~"inferlat_.*"}')
        check(all(s["note"] == label for s in every), "a series lost the label")
    finally:
        fx.kill()
        il.kill()
        if ne:
            ne.stop()
        if prom:
            prom.stop()
    return "comm %r and label %r unchanged through node_exporter and Prometheus" % (comm, label)


def test_service_assets_run_inferlat(wd):
    """The systemd unit's and the DaemonSet's inferlat command lines, with the
    fixture as the server, are real options that produce the textfile."""
    with open(promstack.UNIT) as f:
        unit = f.read()
    exec_start = re.search(r"^ExecStart=((?:.*\\\n)*.*)$", unit, re.M).group(1).replace("\\\n", " ")
    env = {"INFERLAT_EXE": SERVER, "INFERLAT_PROBE": PROBE, "INFERLAT_OPTS": "--label model=m"}
    argv = shlex.split(re.sub(r"\$\{?(\w+)\}?", lambda m: env[m.group(1)], exec_start))
    check(argv[0] == "/usr/local/bin/inferlat", argv)
    with open(promstack.DAEMONSET) as f:
        ds = yaml.safe_load(f)
    pod = ds["spec"]["template"]["spec"]
    check(pod["hostPID"] is True, "hostPID")
    c = next(c for c in pod["containers"] if c["name"] == "inferlat")
    ne = next(c for c in pod["containers"] if c["name"] == "node-exporter")
    tf = next(a.split("=", 1)[1] for a in ne["args"] if a.startswith("--collector.textfile.directory="))
    check(any(m["mountPath"] == tf for m in ne["volumeMounts"]) and
          any(m["mountPath"] == tf for m in c["volumeMounts"]), "textfile directory not shared")
    check({"BPF", "PERFMON"} <= set(c["securityContext"]["capabilities"]["add"]), "capabilities")
    # the fixture stands for the model server and its library
    ds_args = [SERVER if a.startswith("/host/") else a for a in c["args"]]
    ds_args[ds_args.index("-e") + 1] = PROBE
    notes = []
    for name, args in (("systemd", argv[1:]), ("daemonset", ds_args)):
        d = wd.file(name)
        os.mkdir(d)
        args = [d if a in ("/var/lib/prometheus/node-exporter", tf) else a for a in args]
        fx = Fixture(wd, "-n", 30, "-r", 100, "-s", "fixed:200", name=name)
        il = Inferlat(wd, *(args + ["-d", "30"]), json_out=False, quiet=False)
        try:
            il.wait_ready()
            fx.go()
            fx.wait()
            promstack.wait_for("30 calls in the file", lambda: os.path.exists(os.path.join(d, "inferlat.prom"))
                               and "_count{" in prom_file(d) and samples_by_name(prom_file(d))[1]
                               ["inferlat_call_duration_seconds_count"][0][1] == 30)
            il.stop(signal.SIGINT if name == "systemd" else signal.SIGTERM)
        finally:
            fx.kill()
            il.kill()
        notes.append(name)
    # the unit loads: the installed paths swapped for this build's
    envf = wd.file("default")
    with open(envf, "w") as f:
        f.write("".join("%s=%s\n" % kv for kv in env.items()))
    local = wd.file("inferlat.service")
    with open(local, "w") as f:
        f.write(unit.replace("/usr/local/bin/inferlat", INFERLAT).replace("/etc/default/inferlat", envf))
    r = run(["systemd-analyze", "verify", "--man=no", local])
    check(r.returncode == 0, "systemd-analyze verify: %s" % (r.stdout + r.stderr))
    return "command lines of %s ran; the unit verifies" % " and ".join(notes)
