# SPDX-License-Identifier: GPL-2.0
"""Hostile data: process names and label values with quotes, backslashes,
newlines, control and non-UTF-8 bytes and 4 KiB lengths still give valid
exposition (promtool) and valid JSON; files and symlinks planted in the
textfile directory are neither followed nor clobbered."""
import json
import os
import stat

import promstack
from harness import INFERLAT, SERVER, Fixture, Inferlat, check, run

PROBE = "libinfer.so:infer_run"
CALLS = 50


def hostile_exe(wd, name):
    """SERVER under a file name of raw bytes: what the kernel makes its comm."""
    path = os.path.join(os.fsencode(wd.path), name)
    os.symlink(os.fsencode(SERVER), path)
    return os.fsdecode(path)


def prom_text(d, name="inferlat.prom"):
    with open(os.path.join(d, name), "rb") as f:
        return f.read().decode("utf-8")   # must be UTF-8: a decode error fails the test


def test_hostile_comm_and_labels(wd):
    # 15 bytes, the kernel's limit: quote, backslash, newline, non-UTF-8
    # bytes, an escape character, braces and a '#' that would start a comment
    comm_bytes = b'q"\\\n\xff\xfe\x1b{} 1\n#xy'
    check(len(comm_bytes) == 15, len(comm_bytes))
    # what both formats must carry: each byte that is not UTF-8 as U+FFFD
    comm = comm_bytes.decode("utf-8", "replace")
    unit = 'say "hi"\\ \n# HELP x\n} 1\n\u00e9\u4e2d\U0001f600 '
    big = (unit * (4096 // len(unit.encode()) + 1))[:4096 // 2] + "\\" * 10 + '"' * 10 + "\n" * 10
    big = big + "b" * (4096 - len(big.encode()))
    check(len(big.encode()) == 4096, len(big.encode()))
    d = wd.file("tf")
    os.mkdir(d)
    fx = Fixture(wd, "-n", CALLS, "-r", 200, "-s", "fixed:200", exe=hostile_exe(wd, comm_bytes), name="h")
    il = Inferlat(wd, "-p", fx.pid, "-e", PROBE, "--textfile-dir", d, "-i", "0.2",
                  "--label", "big=" + big, "--label", "note=x\"} 1\ninjected 1\n# \\", "--pid-label",
                  calls_out=True)
    try:
        il.wait_ready()
        fx.go()
        fx.wait()
        check(il.wait(30) == 0, il.stderr())
    finally:
        fx.kill()
        il.kill()
    check(len(fx.records()) == CALLS, "fixture made %d calls" % len(fx.records()))
    # the exposition: promtool accepts it whole, and every value comes back
    text = prom_text(d)
    rc, msg = promstack.promtool_check_metrics(text)
    check(rc == 0 and msg == "", "promtool: rc %d %s" % (rc, msg))
    _, samples = promstack.parse_textfile(text)
    calls = [s for s in samples if s[0] == "inferlat_call_duration_seconds_count"]
    check(len(calls) == 1, calls)
    labels, value = calls[0][1], calls[0][2]
    check(labels["comm"] == comm, "comm %r, want %r" % (labels["comm"], comm))
    check(labels["big"] == big, "the 4 KiB label changed")
    check(labels["note"] == "x\"} 1\ninjected 1\n# \\", labels["note"])
    check(value == CALLS, "count %s, want %d" % (value, CALLS))
    check(not any(s[0] == "injected" for s in samples), "a sample was injected")
    series = [s for s in samples if s[0].startswith("inferlat_call_")]
    check(all(s[1].get("big") == big and s[1].get("comm") == comm for s in series),
          "a call series lost a label")
    # JSON: every line parses, and carries the same name
    with open(il.json_path, "rb") as f:
        lines = f.read().splitlines()
    recs = [json.loads(l.decode("utf-8")) for l in lines if l.strip()]
    # exemplar records ({"type": "exemplar"}, --slow auto) parse too; they are no windows
    check(recs, "no JSON records")
    named = [r for r in recs if "comm" in r]
    check(named and all(r["comm"] == comm for r in named), {r.get("comm") for r in recs})
    final = [r for r in recs if r.get("final") and "type" not in r and r["probe"].endswith("infer_run")]
    check(len(final) == 1 and final[0]["calls"] == CALLS, final)
    with open(il.calls_path, "rb") as f:
        events = [json.loads(l.decode("utf-8")) for l in f.read().splitlines() if l.strip()]
    check(len(events) == CALLS, "%d call records, want %d" % (len(events), CALLS))
    return "comm %r, a 4 KiB label: promtool clean, %d calls in both formats" % (comm_bytes, CALLS)


def test_textfile_dir_planted_files(wd):
    """A sticky world-writable directory (like /tmp) is accepted; a symlink
    planted under the file's name is replaced, not followed; files planted
    under temporary-looking names are left alone."""
    d = wd.file("shared")
    os.mkdir(d)
    os.chmod(d, 0o1777)
    victim = wd.file("victim")
    with open(victim, "w") as f:
        f.write("precious\n")
    os.symlink(victim, os.path.join(d, "inferlat.prom"))
    planted = {}
    for name in (".inferlat.prom.0000000000000000", ".inferlat.prom.XXXXXX", ".inferlat.prom.tmp"):
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write("planted " + name)
        planted[name] = "planted " + name
    os.symlink(victim, os.path.join(d, ".inferlat.prom.ffffffffffffffff"))
    fx = Fixture(wd, "-n", 20, "-r", 200, "-s", "fixed:200")
    il = Inferlat(wd, "-p", fx.pid, "-e", PROBE, "--textfile-dir", d, "-i", "0.2", json_out=False)
    try:
        il.wait_ready()
        fx.go()
        fx.wait()
        check(il.wait(30) == 0, il.stderr())
    finally:
        fx.kill()
        il.kill()
    with open(victim) as f:
        check(f.read() == "precious\n", "the symlink's target was written")
    st = os.lstat(os.path.join(d, "inferlat.prom"))
    check(stat.S_ISREG(st.st_mode), "inferlat.prom is not a regular file")
    text = prom_text(d)
    rc, msg = promstack.promtool_check_metrics(text)
    check(rc == 0 and msg == "", "promtool: %s" % msg)
    check("inferlat_call_duration_seconds_count" in text and " 20\n" in text, text[:300])
    for name, content in planted.items():
        with open(os.path.join(d, name)) as f:
            check(f.read() == content, "%s was changed" % name)
    check(os.readlink(os.path.join(d, ".inferlat.prom.ffffffffffffffff")) == victim, "planted link changed")
    left = sorted(os.listdir(d))
    check(left == sorted(list(planted) + [".inferlat.prom.ffffffffffffffff", "inferlat.prom"]),
          "temporary files left: %s" % left)
    return "victim intact, 4 planted files untouched, no temporary left"


def test_textfile_dir_world_writable_refused(wd):
    d = wd.file("open")
    os.mkdir(d)
    os.chmod(d, 0o777)
    fx = Fixture(wd, "-n", 1)
    try:
        r = run([INFERLAT, "-p", fx.pid, "-e", PROBE, "--textfile-dir", d, "-d", "1", "-q"])
    finally:
        fx.kill()
    lines = r.stderr.splitlines()
    check(r.returncode == 2 and len(lines) == 1 and "not sticky" in lines[0], (r.returncode, lines))
    check(os.listdir(d) == [], "wrote into it: %s" % os.listdir(d))
    return lines[0]
