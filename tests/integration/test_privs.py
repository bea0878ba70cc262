# SPDX-License-Identifier: GPL-2.0
"""Privileges: without the capabilities inferlat needs it says which in one
line and exits 2; with exactly CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE and
CAP_DAC_READ_SEARCH (as nobody, and as root with nothing else in the bounding
set) it counts every call of a root-owned target."""
import json
import os
import subprocess

from harness import INFERLAT, Fixture, check, run

PROBE = "libinfer.so:infer_run"
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
MINIMAL = "+bpf,+perfmon,+sys_ptrace,+dac_read_search"


def as_nobody(caps):
    """setpriv prefix: uid/gid 65534 with exactly caps (ambient, so they
    survive the exec as a non-root user)."""
    sets = "-all" + ("," + caps if caps else "")
    return NOBODY + ["--inh-caps=" + sets, "--ambient-caps=" + sets]


def as_root_bounded(caps):
    """setpriv prefix: root, with a bounding set of exactly caps."""
    return ["setpriv", "--bounding-set=-all," + caps, "--inh-caps=-all"]


def out_dir(wd):
    """A directory uid 65534 can write to, inside the test's own."""
    os.chmod(wd.path, 0o755)
    d = wd.file("out")
    os.makedirs(d, exist_ok=True)
    os.chown(d, 65534, 65534)
    return d


def refused(wd, prefix, extra, names):
    fx = Fixture(wd, "-n", 5, "-s", "fixed:300", name="r")
    try:
        r = run(prefix + [INFERLAT, "-p", fx.pid, "-e", PROBE, "-q", "-d", 5] + extra, timeout=30)
    finally:
        fx.kill()
    lines = r.stderr.splitlines()
    check(r.returncode == 2, "exit %d, want 2: %s" % (r.returncode, r.stderr))
    check(len(lines) == 1, "want one line on stderr: %r" % r.stderr)
    for n in names:
        check(n in lines[0], "%s not named: %s" % (n, lines[0]))
    return lines[0]


def counted(wd, prefix, extra=(), root=False):
    # root without CAP_DAC_OVERRIDE writes where root may write, nobody in
    # a directory of its own
    d = wd.path if root else out_dir(wd)
    json_path = os.path.join(d, "out%d.jsonl" % len([f for f in os.listdir(d) if f.startswith("out")]))
    fx = Fixture(wd, "-n", 40, "-s", "fixed:300", name="c")
    # started and released by the test: the process is root's, not nobody's
    proc = None
    try:
        proc = subprocess.Popen(prefix + [INFERLAT, "-p", str(fx.pid), "-e", PROBE, "-q",
                                          "--json", json_path] + list(extra),
                                stderr=subprocess.PIPE, text=True)
        line = proc.stderr.readline()
        check("tracing 1 function" in line, "not tracing: %r" % line)
        fx.go()
        fx.wait()
        _, err = proc.communicate(timeout=60)
        check(proc.returncode == 0, "exit %d: %s" % (proc.returncode, err))
    finally:
        fx.kill()
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
    fin = [r for r in (json.loads(l) for l in open(json_path) if '"final": true' in l) if "type" not in r]
    check(len(fin) == 1 and fin[0]["calls"] == 40 and fin[0]["pid"] == fx.pid,
          "final: %s, the fixture made 40 calls" % fin)
    return fin[0]["calls"]


def test_without_capabilities_one_line_exit_2(wd):
    line = refused(wd, as_nobody(""), [],
                   ["CAP_BPF", "CAP_PERFMON", "CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH"])
    # with only the BPF ones, the /proc ones are named
    refused(wd, as_nobody("+bpf,+perfmon"), [], ["missing CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH"])
    refused(wd, as_nobody("+bpf,+sys_ptrace,+dac_read_search"), [], ["missing CAP_PERFMON"])
    return line


def test_minimal_capabilities_count_exactly(wd):
    a = counted(wd, as_nobody(MINIMAL))
    b = counted(wd, as_root_bounded(MINIMAL), root=True)
    return "uid 65534 with %s: %d calls; root bounded to them: %d calls" % (MINIMAL, a, b)


def test_perf_uprobes_need_sys_admin(wd):
    line = refused(wd, as_nobody(MINIMAL), ["--no-multi"], ["CAP_SYS_ADMIN", "--no-multi"])
    n = counted(wd, as_nobody(MINIMAL + ",+sys_admin"), ["--no-multi"])
    return "%s | with CAP_SYS_ADMIN: %d calls" % (line, n)
