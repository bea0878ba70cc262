# SPDX-License-Identifier: GPL-2.0
"""Bad input and missing privileges: exit 2 with one clear line."""
from harness import INFERLAT, Fixture, check, run


def one_line_exit2(args, must_contain, prefix=()):
    r = run(list(prefix) + [INFERLAT] + list(args))
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    check(r.returncode == 2, "exit %d, want 2: %s" % (r.returncode, r.stderr))
    check(len(lines) == 1, "want one line, got: %r" % lines)
    for m in must_contain:
        check(m in lines[0], "%r not in %r" % (m, lines[0]))
    return lines[0]


def test_no_such_pid(wd):
    one_line_exit2(["-p", "999999", "-e", "x"], ["no process with PID 999999"])


def test_symbol_not_found_names_nearest(wd):
    fx = Fixture(wd, "-n", 1)
    try:
        one_line_exit2(["-p", fx.pid, "-e", "libinfer.so:infer_rn"], ["no function matches", "infer_run"])
    finally:
        fx.kill()


def test_library_not_mapped(wd):
    fx = Fixture(wd, "-n", 1)
    try:
        one_line_exit2(["-p", fx.pid, "-e", "libllama.so:llama_decode"], ["libllama.so", "not mapped"])
    finally:
        fx.kill()


def test_usage_errors(wd):
    one_line_exit2(["-e", "x"], ["no target"])
    one_line_exit2(["-p", "1"], ["no probe"])
    one_line_exit2(["-p", "abc", "-e", "x"], ["not a process id"])
    one_line_exit2(["-p", "1", "-e", "x", "-i", "0"], ["-i 0"])
    one_line_exit2(["-p", "1", "-e", "x", "-E", "ret>1"], ["error predicate"])
    one_line_exit2(["-p", "1", "-e", "x", "--bogus"], ["bad option '--bogus'"])
    one_line_exit2(["-p", "1", "-e", "x", "-p"], ["bad option '-p'"])
    one_line_exit2(["-p", "1", "-e", "x", "stray"], ["unexpected argument 'stray'"])


def test_not_root(wd):
    line = one_line_exit2(["-p", "1", "-e", "x"], ["CAP_BPF", "CAP_PERFMON"],
                          prefix=["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
    return line
