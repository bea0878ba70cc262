# SPDX-License-Identifier: GPL-2.0
"""Bad input and missing privileges: exit 2 with one clear line."""
import os

from harness import (FIXTURES, INFERLAT, LIBCXX, DlDriver, Fixture, check, fixture_in_mount_namespace,
                     run)


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


def test_library_not_mapped_waits(wd):
    # a library the target may still load (dlopen): a note, not an error;
    # inferlat runs and stops with its target
    fx = Fixture(wd, "-n", 1)
    try:
        r = run([INFERLAT, "-p", fx.pid, "-e", "libllama.so:llama_decode", "-d", "0.3", "-q"])
    finally:
        fx.kill()
    check(r.returncode == 0, "exit %d: %s" % (r.returncode, r.stderr))
    check("probe 'libllama.so:llama_decode': no target maps a library 'libllama.so' yet; "
          "it is attached when one loads it" in r.stderr, r.stderr)


def test_not_an_elf_file(wd):
    fx = Fixture(wd, "-n", 1)
    try:
        one_line_exit2(["-p", fx.pid, "-e", "/etc/passwd:main"], ["/etc/passwd is not an ELF file"])
    finally:
        fx.kill()


def test_ambiguous_library_name(wd):
    # two processes map two different files that both answer to libcxxfix.so
    based = os.path.join(FIXTURES, "libcxxfix-based.so")
    a = DlDriver(wd, LIBCXX, "cxxfix_tick", n=1, name="a")
    b = DlDriver(wd, based, "cxxfix_tick", n=1, name="b")
    try:
        one_line_exit2(["-p", a.pid, "-p", b.pid, "-e", "libcxxfix.so:cxxfix_tick"],
                       ["library name 'libcxxfix.so' is ambiguous", LIBCXX, based, "give the path"])
    finally:
        a.kill()
        b.kill()


def test_library_gone_from_mount_namespace(wd):
    # the target's library was deleted inside its mount namespace; without
    # CAP_SYS_ADMIN (and CAP_CHECKPOINT_RESTORE) /proc/PID/map_files cannot
    # reach the mapped file either
    ns, fx = fixture_in_mount_namespace(wd, "-n", 1)
    try:
        os.unlink("/proc/%d/root%s/lib/libinfer.so.1" % (fx.pid, ns))
        line = one_line_exit2(["-p", fx.pid, "-e", "libinfer.so:infer_run"],
                              ["maps %s/lib/libinfer.so.1" % ns, "deleted", "map_files", "restart the target"],
                              prefix=["setpriv", "--bounding-set=-sys_admin,-checkpoint_restore"])
    finally:
        fx.kill()
    return line


def test_usage_errors(wd):
    one_line_exit2(["-e", "x"], ["no target"])
    one_line_exit2(["--comm", "a-name-longer-than-15", "-e", "x"], ["--comm", "1 to 15 characters"])
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
