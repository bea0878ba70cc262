# SPDX-License-Identifier: GPL-2.0
"""Faults: targets killed mid-call, exec'ing, with many threads; inferlat
itself killed, stopped by signals, asked to reopen its files; a full thread
table. Every count against the fixture's own."""
import json
import os
import re
import signal
import struct
import subprocess
import time

import promstack
from harness import (INFERLAT, LIBINFER, SERVER, Fixture, Inferlat, bpf_ids_of, bpf_links, bpf_progs, check, run)

PROBE = "libinfer.so:infer_run"


def prom_count_now(path, name="inferlat_call_duration_seconds_count", **labels):
    """The one sample of name with labels, or None while the file or the
    series is not there yet (a window's JSON record is written just before its
    textfile)."""
    try:
        with open(path) as f:
            _, samples = promstack.parse_textfile(f.read())
    except FileNotFoundError:
        return None
    got = [v for n, l, v in samples if n == name and all(l.get(k) == w for k, w in labels.items())]
    return int(got[0]) if len(got) == 1 else None


def prom_count(path, name="inferlat_call_duration_seconds_count", **labels):
    got = prom_count_now(path, name, **labels)
    check(got is not None, "no single %s%s in %s" % (name, labels, path))
    return got


def bpf_map_ids():
    out = run(["bpftool", "-j", "map", "show"]).stdout
    return {m["id"] for m in json.loads(out)} if out.strip() else set()


def perf_uprobes_of(pid):
    """Perf-event uprobes (the uprobe PMU) a process has BPF programs on."""
    out = run(["bpftool", "-j", "perf", "show"]).stdout
    evs = json.loads(out) if out.strip() else []
    return [e for e in evs if e.get("pid") == pid and e.get("fd_type") in ("uprobe", "uretprobe")]


def map_entries(map_id):
    out = run(["bpftool", "-j", "map", "dump", "id", map_id]).stdout
    return len(json.loads(out)) if out.strip() else 0


def maps_by_name(ids):
    out = {}
    for mid in ids:
        info = json.loads(run(["bpftool", "-j", "map", "show", "id", mid]).stdout)
        out[info.get("name", "")] = mid
    return out


def text_byte(pid, path_end, file_off):
    """The byte at file offset file_off of the file mapped by pid whose path
    ends in path_end, as the process sees it (/proc/PID/mem)."""
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 6 or not parts[5].endswith(path_end):
                continue
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            off = int(parts[2], 16)
            if off <= file_off < off + (hi - lo):
                with open("/proc/%d/mem" % pid, "rb") as m:
                    m.seek(lo + file_off - off)
                    return m.read(1)[0]
    raise AssertionError("offset %#x of %s not mapped by %d" % (file_off, path_end, pid))


def file_byte(path, off):
    with open(path, "rb") as f:
        f.seek(off)
        return f.read(1)[0]


def wait_for(cond, what, timeout=20):
    deadline = time.time() + timeout
    while not cond():
        check(time.time() < deadline, "timed out waiting for %s" % what)
        time.sleep(0.01)


def windows_calls(recs, pid=None):
    # typed records (exemplars) carry no window figures
    return sum(r["calls"] for r in recs
               if "type" not in r and not r["final"] and (pid is None or r.get("pid") == pid))


def test_sigint_and_sigterm_flush_final_records(wd):
    # windows of a minute: at the signal, nothing but the final flush has
    # written the figures
    for sig in (signal.SIGINT, signal.SIGTERM):
        tdir = wd.file("tf%d" % sig)
        os.makedirs(tdir)
        fx = Fixture(wd, "-n", 137, "-s", "fixed:300", "-H", 60, name="srv%d" % sig)
        il = Inferlat(wd, "-p", fx.pid, "-e", PROBE, "-i", 60, "--textfile-dir", tdir)
        try:
            il.wait_ready()
            fx.go()
            wait_for(lambda: os.path.exists(fx.log_path), "the fixture's calls")
            rc = il.stop(sig)
        finally:
            fx.kill()
            il.kill()
        check(rc == 0, "inferlat exited %d after signal %d: %s" % (rc, sig, il.stderr()))
        fin = il.final()
        check(len(fin) == 1 and fin[0]["calls"] == 137, "final after signal %d: %s" % (sig, fin))
        last = [r for r in il.records() if not r["final"]]
        check(sum(r["calls"] for r in last) == 137, "last window after signal %d: %s" % (sig, last))
        got = prom_count(os.path.join(tdir, "inferlat.prom"), comm="infer-server")
        check(got == 137, "textfile after signal %d: %d calls, the fixture made 137" % (sig, got))


def leftovers_after_sigkill(wd, extra):
    fx = Fixture(wd, "-n", 40, "-s", "fixed:300", name="srv" + "".join(extra).replace("-", ""))
    il = Inferlat(wd, "-p", fx.pid, "-e", PROBE, "-v", *extra)
    try:
        il.wait_ready()
        m = re.search(r"probe 0: \S+ at (\S+)\+(0x[0-9a-f]+):", il.stderr())
        check(m, "no probe site in -v: %s" % il.stderr())
        path, off = m.group(1), int(m.group(2), 16)
        # and the probe on the dynamic loader's _dl_debug_state (new libraries)
        sym = run([INFERLAT, "symbols", "-p", fx.pid, "ld-linux-x86-64.so.2:_dl_debug_state"]).stdout
        ld = [l.split() for l in sym.splitlines() if l.endswith(" _dl_debug_state")]
        check(len(ld) == 1, "no _dl_debug_state: %s" % sym)
        sites = [(path, off), (ld[0][0], int(ld[0][2], 16))]
        orig = [file_byte(p, o) for p, o in sites]
        armed = [text_byte(fx.pid, os.path.basename(p), o) for p, o in sites]
        check(all(a != b for a, b in zip(armed, orig)),
              "probe sites %s still %s while attached (%s)" % (sites, orig, armed))
        ids = bpf_ids_of(il.proc.pid)
        check(ids["prog"] and ids["link"] and ids["map"], "inferlat holds no BPF objects: %s" % ids)
        perf = perf_uprobes_of(il.proc.pid)
        if "--no-multi" in extra:
            check(len(perf) >= 2, "no perf uprobes with --no-multi: %s" % perf)
        il.proc.send_signal(signal.SIGKILL)
        il.proc.wait()
        # the kernel frees them once the last fd is gone (an RCU grace period)
        def gone():
            progs = {p["id"] for p in bpf_progs()}
            links = {l["id"] for l in bpf_links()}
            return not (ids["prog"] & progs or ids["link"] & links or ids["map"] & bpf_map_ids())
        wait_for(gone, "inferlat's BPF objects to go", timeout=10)
        check(not perf_uprobes_of(il.proc.pid), "perf uprobes left")
        now = [text_byte(fx.pid, os.path.basename(p), o) for p, o in sites]
        check(now == orig, "probe site bytes %s after the kill, the files have %s" % (now, orig))
        # and the server is unharmed: it runs its calls to the end
        fx.go()
        fx.wait()
        check(len(fx.records()) == 40, "fixture made %d calls" % len(fx.records()))
    finally:
        fx.kill()
        il.kill()
    return "%s: bytes %s (%s while attached) restored, %d progs, %d links, %d maps gone" % (
        " ".join(extra) or "uprobe_multi", "/".join("%#x" % b for b in orig),
        "/".join("%#x" % b for b in armed), len(ids["prog"]), len(ids["link"]), len(ids["map"]))


def test_sigkill_of_inferlat_leaves_nothing(wd):
    notes = [leftovers_after_sigkill(wd, []), leftovers_after_sigkill(wd, ["--no-multi"])]
    return "; ".join(notes)


def test_thousand_threads_counted_exactly(wd):
    # 1000 threads alive at once (they wait for each other before calling)
    fx = Fixture(wd, "-n", 5, "-t", 1000, "-s", "fixed:2000")
    il = Inferlat(wd, "-p", fx.pid, "-e", PROBE)
    try:
        il.wait_ready()
        fx.go()
        fx.wait(timeout=300)
        rc = il.wait(120)
    finally:
        fx.kill()
        il.kill()
    check(rc == 0, "inferlat exited %d: %s" % (rc, il.stderr()))
    recs = fx.records()
    check(len(recs) == 5000 and len({r["tid"] for r in recs}) == 1000,
          "fixture: %d calls in %d threads" % (len(recs), len({r["tid"] for r in recs})))
    fin = il.final()
    check(len(fin) == 1 and fin[0]["calls"] == 5000, "final: %s" % fin)
    check(fin[0]["thread_table_full"] == 0 and fin[0]["untimed"] == 0, "final: %s" % fin)
    return "5000 calls in 1000 threads, %d counted" % fin[0]["calls"]


def test_thread_table_full(wd):
    # 8 threads, room for 4: every call is still counted and timed; the calls
    # of the threads that found no room are counted as such, never split
    tdir = wd.file("tf")
    os.makedirs(tdir)
    fx = Fixture(wd, "-n", 20, "-t", 8, "-s", "fixed:1000")
    il = Inferlat(wd, "-p", fx.pid, "-e", PROBE, "--max-threads", 4, "--textfile-dir", tdir)
    try:
        il.wait_ready()
        fx.go()
        fx.wait()
        rc = il.wait(60)
    finally:
        fx.kill()
        il.kill()
    check(rc == 0, "inferlat exited %d: %s" % (rc, il.stderr()))
    fin = il.final()
    check(len(fin) == 1 and fin[0]["calls"] == 160, "final: %s" % fin)
    # the first four threads in keep their slots until they exit: the other
    # four make all their calls without one
    full = fin[0]["thread_table_full"]
    check(full == 80, "thread_table_full %d, want 80 (4 threads x 20 calls)" % full)
    check(80 <= fin[0]["unsplit_calls"] <= 80 + 8, "unsplit %d" % fin[0]["unsplit_calls"])
    prom = os.path.join(tdir, "inferlat.prom")
    check(prom_count(prom, "inferlat_thread_table_full_total") == 80, "textfile")
    check(prom_count(prom, comm="infer-server") == 160, "textfile count")
    return "160 calls counted, 80 of them without a thread slot"


def read_counts(path):
    try:
        with open(path, "rb") as f:
            data = f.read(16)
    except OSError:
        return None
    return struct.unpack("<QQ", data) if len(data) == 16 else None


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def test_targets_killed_mid_call(wd):
    # 1000 processes of the followed executable each complete 3 calls, enter
    # a 4th that never returns, and are killed there with SIGKILL: their
    # completed calls are all counted, and no BPF map keeps their entries
    kills, batch, ncalls = 1000, 50, 3
    il = Inferlat(wd, "-x", SERVER, "-e", PROBE, "-i", "0.2")
    # (pid, calls the fixture completed); a PID can come back (pid_max)
    made, done, rss, maps = [], 0, {}, {}
    try:
        il.wait_ready()
        ids = bpf_ids_of(il.proc.pid)["map"]
        maps = maps_by_name(ids)
        check("sched_accts" in maps and "traced_tgids" in maps, "maps: %s" % maps)
        while done < kills:
            procs = []
            for i in range(batch):
                cnt = wd.file("cnt%d" % (done + i))
                p = subprocess.Popen([SERVER, "-n", str(ncalls), "-s", "fixed:200", "-k", "-C", cnt],
                                     stdout=subprocess.DEVNULL)
                procs.append((p, cnt))
            for p, cnt in procs:
                # entered the call that does not return: all others completed
                wait_for(lambda: (read_counts(cnt) or (0, 0))[0] == ncalls + 1, "the hanging call")
                p.send_signal(signal.SIGKILL)
            for p, cnt in procs:
                p.wait()
                made.append((p.pid, read_counts(cnt)[1]))
                os.unlink(cnt)
            done += batch
            # windows pass, the exits are reported and the processes'
            # histograms freed: the next batch finds the same heap, so what
            # stays per process is what inferlat keeps, not how many
            # processes a loaded machine let pile up between two windows
            time.sleep(0.6)
            if done in (300, kills):
                rss[done] = rss_kib(il.proc.pid)
        time.sleep(0.6)
        left = {name: map_entries(maps[name]) for name in ("sched_accts", "traced_tgids")}
        rc = il.stop()
    finally:
        il.kill()
    check(rc == 0, "inferlat exited %d: %s" % (rc, il.stderr()))
    check(all(n == ncalls for _, n in made), "a fixture completed other than %d calls" % ncalls)
    want, got = {}, {}
    for pid, n in made:
        want.setdefault(pid, []).append(n)
    for r in il.final():
        got.setdefault(r.get("pid"), []).append(r["calls"])
    wrong = {p: (sorted(got.get(p, [])), w) for p, w in want.items() if sorted(got.get(p, [])) != w}
    check(not wrong and len(got) == len(want),
          "%d of %d processes counted wrong (inferlat, fixture): %s; their records: %s"
          % (len(wrong), len(want), list(wrong.items())[:5],
             [r for r in il.records() if r.get("pid") in wrong][:6]))
    total = sum(r["calls"] for r in il.final())
    check(total == kills * ncalls, "total %d" % total)
    # the killed processes' threads and processes left nothing behind
    check(left == {"sched_accts": 0, "traced_tgids": 0}, "entries left in BPF maps: %s" % left)
    grow = (rss[kills] - rss[300]) / (kills - 300)
    check(grow < 4, "inferlat grew %.1f KiB per killed process (RSS %s)" % (grow, rss))
    return "%d kills: %d calls counted exactly; map entries left %s; RSS %d -> %d KiB (%.2f KiB per process)" % (
        kills, total, left, rss[300], rss[kills], grow)


def test_sighup_reopens_output_files(wd):
    # logrotate's create mode: rename the files, SIGHUP, the records go on
    # in new files under the old names; every call is in exactly one of them
    tdir = wd.file("tf")
    os.makedirs(tdir)
    a = Fixture(wd, "-n", 70, "-s", "fixed:300", name="a")
    b = Fixture(wd, "-n", 45, "-s", "fixed:300", name="b")
    il = Inferlat(wd, "-p", a.pid, "-p", b.pid, "-e", PROBE, "-i", "0.2", "--textfile-dir", tdir,
                  calls_out=True)
    prom = os.path.join(tdir, "inferlat.prom")
    try:
        il.wait_ready()
        a.go()
        a.wait()
        # a's calls are in closed windows (and the textfile) before the rename
        wait_for(lambda: windows_calls([r for r in (json.loads(l) for l in open(il.json_path) if l.strip()) if "type" not in r]) == 70
                 and prom_count_now(prom, comm="infer-server") == 70, "a's calls in a window")
        for path in (il.json_path, il.calls_path, prom):
            os.rename(path, path + ".1")
        il.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: os.path.exists(il.json_path) and os.path.exists(prom), "the new files")
        b.go()
        b.wait()
        rc = il.wait(60)
    finally:
        a.kill()
        b.kill()
        il.kill()
    check(rc == 0, "inferlat exited %d: %s" % (rc, il.stderr()))

    def lines(path):
        with open(path) as f:
            return [json.loads(l) for l in f]   # every line whole
    # the windows, not the typed records ("type": "inferlat")
    old = [r for r in lines(il.json_path + ".1") if "type" not in r]
    new = [r for r in lines(il.json_path) if "type" not in r]
    check(windows_calls(old) == 70 and windows_calls(new) == 45,
          "windows: %d calls before the rename, %d after (want 70, 45)" % (windows_calls(old), windows_calls(new)))
    check(not any(r.get("final") for r in old), "final records in the old file")
    fin = {r["pid"]: r["calls"] for r in new if r.get("final")}
    check(fin == {a.pid: 70, b.pid: 45}, "final: %s" % fin)
    oldc, newc = lines(il.calls_path + ".1"), lines(il.calls_path)
    check(len(oldc) == 70 and {c["pid"] for c in oldc} == {a.pid}, "calls before: %d" % len(oldc))
    check(len(newc) == 45 and {c["pid"] for c in newc} == {b.pid}, "calls after: %d" % len(newc))
    # the textfile is replaced every window: the renamed one keeps its figures
    check(prom_count(prom + ".1", comm="infer-server") == 70, "old textfile")
    check(prom_count(prom, comm="infer-server") == 115, "new textfile")
    return "JSON windows 70 | 45 calls, --calls 70 | 45 lines, textfile 70 | 115 (cumulative)"


def test_target_execs_another_program(wd):
    # A -p target that exec()s stays the target under its PID. Probes sit on
    # files (inode and offset): a new program mapping the same library is
    # timed from its first call, its calls added to the same rows; one that
    # maps another copy of it is probed there once its loader has mapped it;
    # one that maps neither is followed to its exit.
    import shutil
    other = wd.file("other")
    os.makedirs(other)
    shutil.copy(SERVER, os.path.join(other, "infer-server"))
    shutil.copy(LIBINFER, os.path.join(other, "libinfer.so.1"))   # RUNPATH $ORIGIN
    cases = [
        ("same library", [SERVER, "-n", 15, "-s", "fixed:300", "-l", wd.file("same.log")], 15),
        ("another copy", [os.path.join(other, "infer-server"), "-n", 12, "-s", "fixed:300", "-w",
                          "-l", wd.file("copy.log")], 12),
        ("no library", ["/bin/sleep", "0.5"], 0),
    ]
    notes = []
    for what, prog, after in cases:
        # -w before the --: the fixture's Fixture() would append it to prog
        fx = Fixture(wd, "-n", 20, "-s", "fixed:300", "-w", "-x", "--", *prog, wait=False,
                     name=what.replace(" ", ""))
        line = fx.proc.stdout.readline()
        check(line.startswith("ready "), "%s: fixture did not start: %r" % (what, line))
        il = Inferlat(wd, "-p", fx.pid, "-e", PROBE, "-i", "0.2", "-v")
        try:
            il.wait_ready()
            fx.go()
            if "-w" in prog:
                line = fx.proc.stdout.readline()
                check(line.startswith("done 20"), "%s: %r" % (what, line))
                line = fx.proc.stdout.readline()
                check(line.startswith("ready "), "%s: the new program: %r" % (what, line))
                wait_for(lambda: "attached for PID %d" % fx.pid in il.stderr(), "%s: attach" % what)
                fx.go()
            fx.wait(timeout=30)
            rc = il.wait(60)
        finally:
            fx.kill()
            il.kill()
        check(rc == 0, "%s: inferlat exited %d: %s" % (what, rc, il.stderr()))
        fin = il.final()
        got = sum(r["calls"] for r in fin if r.get("pid") == fx.pid)
        check(got == 20 + after and all(r.get("pid") in (fx.pid, None) for r in fin),
              "%s: %d calls counted for PID %d, want 20 before the exec + %d after: %s"
              % (what, got, fx.pid, after, fin))
        notes.append("%s: %d" % (what, got))
    return "; ".join(notes)
