# SPDX-License-Identifier: GPL-2.0
"""Bad input on the command line, table-driven: every case exits 2 with exactly
one line on stderr, and none crashes; the same table runs against the
ASan+UBSan build (make sanitize-build), where a memory error or undefined
behaviour would end the run with a report instead."""
import os
import subprocess
import time

from harness import BUILD, FIXTURES, INFERLAT, LIBINFER, Fixture, check, run

SANITIZED = os.environ.get("INFERLAT_SANITIZED", os.path.join(BUILD, "sanitize", "inferlat"))
MANY = os.path.join(FIXTURES, "many-funcs")
SAN_ENV = dict(os.environ,
               ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")


def zombie():
    """A child of this process that has exited and is not reaped."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    deadline = time.time() + 10
    while time.time() < deadline:
        with open("/proc/%d/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return pid
        time.sleep(0.01)
    raise AssertionError("child %d did not become a zombie" % pid)


def ro_mount(wd):
    """A prefix that runs the command with wd/ro a read-only tmpfs (in a
    mount namespace of its own: root writes anywhere else)."""
    d = wd.file("ro")
    os.makedirs(d, exist_ok=True)
    return d, ["unshare", "--mount", "--propagation", "private", "sh", "-c",
               'mount -t tmpfs -o ro none %s && exec "$0" "$@"' % d]


def table(wd, fx_pid, zpid):
    """(name, args, text the line must hold, prefix)."""
    T = "-p %d" % fx_pid
    ok = ["-p", str(fx_pid), "-e", "libinfer.so:infer_run", "-d", "0.2", "-q"]
    notelf = wd.file("notelf")
    with open(notelf, "w") as f:
        f.write("#!/bin/sh\necho not an ELF file\n")
    os.chmod(notelf, 0o755)
    empty = wd.file("empty")
    open(empty, "w").close()
    short_elf = wd.file("short.so")
    with open(LIBINFER, "rb") as f:
        head = f.read(100)
    with open(short_elf, "wb") as f:
        f.write(head)
    afile = wd.file("afile")
    open(afile, "w").close()
    ro, ro_prefix = ro_mount(wd)
    open_dir = wd.file("open")
    os.makedirs(open_dir)
    os.chmod(open_dir, 0o777)
    big = "k" * 4096
    rows = [
        # options
        ("unknown long option", ok + ["--bogus"], "bad option '--bogus'"),
        ("unknown short option", ok + ["-Z"], "bad option"),
        ("option missing its value", ok + ["-e"], "bad option '-e'"),
        ("stray argument", ok + ["stray"], "unexpected argument 'stray'"),
        ("no target", ["-e", "x"], "no target"),
        ("no probe", ["-p", "1"], "no probe"),
        ("label without textfile", ok + ["--label", "a=b"], "--textfile-dir"),
        # PIDs
        ("pid 0", ["-p", "0", "-e", "x"], "-p 0: not a process id"),
        ("negative pid", ["-p", "-5", "-e", "x"], "not a process id"),
        ("huge pid", ["-p", "99999999999999999999", "-e", "x"], "not a process id"),
        ("pid above INT_MAX", ["-p", "2147483648", "-e", "x"], "not a process id"),
        ("pid not in use", ["-p", "2147483647", "-e", "x"], "no process with PID 2147483647"),
        ("pid with junk", ["-p", "12x", "-e", "x"], "not a process id"),
        ("empty pid", ["-p", "", "-e", "x"], "not a process id"),
        ("kernel thread", ["-p", "2", "-e", "x"], "PID 2 is a kernel thread"),
        ("zombie", ["-p", str(zpid), "-e", "x"], "PID %d has exited (zombie)" % zpid),
        # files for -x
        ("missing -x file", ["-x", wd.file("nope"), "-e", "x"], "No such file"),
        ("-x on a directory", ["-x", wd.path, "-e", "x"], "not a regular file"),
        ("-x on a script", ["-x", notelf, "-e", "main"], "not an ELF"),
        ("-x on an empty file", ["-x", empty, "-e", "main"], "not an ELF"),
        ("-x on a truncated ELF", ["-x", short_elf, "-e", "main"], "not an ELF"),
        ("probe on a non-ELF library", ["-p", str(fx_pid), "-e", "/etc/passwd:main"], "not an ELF file"),
        ("probe on a missing library path", ["-p", str(fx_pid), "-e", wd.file("nope.so") + ":f"],
         "No such file"),
        # symbol patterns
        ("pattern matching nothing", ["-x", MANY, "-e", "nomatch_*"], "no function matches"),
        ("100000 functions match", ["-x", MANY, "-e", "many_*"], "more than 1000 functions match"),
        ("100000 functions, --max-probes 4096", ["-x", MANY, "-e", "many_*", "--max-probes", "4096"],
         "more than 4096 functions match"),
        ("--max-probes above the maps' size", ["-x", MANY, "-e", "many_*", "--max-probes", "4097"],
         "--max-probes 4097: expected 1..4096"),
        ("+OFF inside an instruction", ["-p", str(fx_pid), "-e", "libinfer.so:infer_run+1", "-d", "1", "-q"], "infer_run"),
        ("+OFF past the function", ["-p", str(fx_pid), "-e", "libinfer.so:infer_run+100000", "-d", "1", "-q"], "infer_run"),
        ("offset outside code", ["-p", str(fx_pid), "-e", "libinfer.so:0x0", "-d", "1", "-q"], "not in an executable segment"),
        ("huge offset", ["-p", str(fx_pid), "-e", "libinfer.so:0xffffffffffffffff", "-d", "1", "-q"],
         "not in an executable segment"),
        ("offset overflows", ["-p", str(fx_pid), "-e", "libinfer.so:0x1ffffffffffffffff"], "bad offset"),
        ("offset without library", ["-p", "1", "-e", "0x1000"], "needs its library"),
        ("empty probe", ["-p", "1", "-e", ""], "empty probe spec"),
        ("empty library", ["-p", "1", "-e", ":f"], "empty library"),
        ("empty symbol", ["-p", "1", "-e", "lib.so:"], "empty symbol"),
        ("newline in a probe", ["-p", "1", "-e", "a\nb:"], "a\\nb"),
        # error predicates
        ("bad predicate", ["-p", "1", "-e", "x", "-E", "ret>1"], "error predicate"),
        ("newline in a predicate", ["-p", "1", "-e", "x", "-E", "ret\n!=0 x"], "error predicate"),
        ("long predicate", ["-p", "1", "-e", "x", "-E", "ret" + "!" * 4096 + "=0"], "error predicate"),
        # output
        ("missing textfile dir", ok + ["--textfile-dir", wd.file("nodir")], "No such file"),
        ("textfile dir is a file", ok + ["--textfile-dir", afile], "Not a directory"),
        ("read-only textfile dir", ok + ["--textfile-dir", ro], "Read-only file system", ro_prefix),
        ("world-writable textfile dir without sticky bit", ok + ["--textfile-dir", open_dir],
         "writable by every user"),
        ("bad textfile name", ok + ["--textfile-dir", wd.path, "--textfile-name", "x.txt"], ".prom"),
        ("textfile name with a slash", ok + ["--textfile-dir", wd.path, "--textfile-name", "a/b.prom"],
         ".prom"),
        ("json in a missing dir", ok + ["--json", wd.file("nodir/out.jsonl")], "No such file"),
        ("json in a read-only dir", ok + ["--json", os.path.join(ro, "out.jsonl")],
         "Read-only file system", ro_prefix),
        ("calls in a missing dir", ok + ["--calls", wd.file("nodir/calls.jsonl")], "No such file"),
        # labels
        ("label key starts with a digit", ok + ["--textfile-dir", wd.path, "--label", "1a=b"], "label name"),
        ("label key with a dash", ok + ["--textfile-dir", wd.path, "--label", "a-b=c"], "label name"),
        ("label without =", ok + ["--textfile-dir", wd.path, "--label", "model"], "KEY=VALUE"),
        ("label empty key", ok + ["--textfile-dir", wd.path, "--label", "=v"], "label name"),
        ("label reserved __", ok + ["--textfile-dir", wd.path, "--label", "__name__=x"], "reserved"),
        ("label inferlat's own", ok + ["--textfile-dir", wd.path, "--label", "probe=x"], "itself"),
        ("label twice", ok + ["--textfile-dir", wd.path, "--label", "a=1", "--label", "a=2"], "twice"),
        ("label empty value", ok + ["--textfile-dir", wd.path, "--label", "a="], "non-empty UTF-8"),
        ("label non-UTF-8 value", ok + ["--textfile-dir", wd.path, "--label", b"a=\xff\xfe".decode(
            "utf-8", "surrogateescape")], "non-empty UTF-8"),
        ("label key with a newline", ok + ["--textfile-dir", wd.path, "--label", "a\nb=c"], "a\\nb"),
        ("label 4 KiB key with a newline", ok + ["--textfile-dir", wd.path, "--label", big + "\n-=v"],
         "label name"),
        # durations
        ("duration 0", ok + ["-d", "0"], "-d 0"),
        ("negative duration", ok + ["-d", "-1"], "-d -1"),
        ("duration not a number", ok + ["-d", "abc"], "-d abc"),
        ("duration bad unit", ok + ["-d", "5x"], "-d 5x"),
        ("duration inf", ok + ["-d", "inf"], "-d inf"),
        ("duration nan", ok + ["-d", "nan"], "-d nan"),
        ("duration overflows", ok + ["-d", "1e400"], "-d 1e400"),
        ("duration over a year", ok + ["-d", "400d"], "-d 400d"),
        ("duration empty", ok + ["-d", ""], "-d"),
        ("interval below 10ms", ok + ["-i", "5ms"], "-i 5ms"),
        ("interval 0", ok + ["-i", "0"], "-i 0"),
        # sizes
        ("ringbuf not a power of two", ok + ["--ringbuf-size", "5000"], "--ringbuf-size 5000"),
        ("ringbuf too small", ok + ["--ringbuf-size", "1024"], "--ringbuf-size 1024"),
        ("ringbuf too large", ok + ["--ringbuf-size", str(1 << 31)], "--ringbuf-size"),
        ("ringbuf negative", ok + ["--ringbuf-size", "-4096"], "--ringbuf-size -4096"),
        ("ringbuf not a number", ok + ["--ringbuf-size", "4M"], "--ringbuf-size 4M"),
        ("ringbuf empty", ok + ["--ringbuf-size", ""], "--ringbuf-size"),
        ("max-probes 0", ok + ["--max-probes", "0"], "--max-probes 0"),
        ("max-probes huge", ok + ["--max-probes", "99999999999999999999"], "--max-probes"),
        ("max-probes empty", ok + ["--max-probes", ""], "--max-probes"),
        # the rest
        ("bad --site", ok + ["--site", "middle"], "--site middle"),
        ("empty --comm", ["--comm", "", "-e", "x"], "--comm"),
        ("long --comm", ["--comm", "c" * 16, "-e", "x"], "1 to 15 characters"),
        ("--comm with a newline", ["--comm", "a\nb" * 6, "-e", "x"], "1 to 15 characters"),
        ("command not found", ["-e", "x", "--", wd.file("no-such-command")], "no-such-command"),
    ]
    return [r if len(r) == 4 else r + ((),) for r in rows]


def run_table(wd, exe, env=None):
    fx = Fixture(wd, "-n", 1)
    zpid = zombie()
    failures = []
    try:
        rows = table(wd, fx.pid, zpid)
        for name, args, want, prefix in rows:
            cmd = list(prefix) + [exe] + list(args)
            try:
                # -d bounds a case that wrongly starts tracing
                r = subprocess.run(cmd, capture_output=True, timeout=60, env=env)
            except subprocess.TimeoutExpired:
                failures.append("%s: still running after 60s" % name)
                continue
            err = r.stderr.decode("utf-8", "replace")
            lines = err.splitlines()
            if r.returncode != 2 or len(lines) != 1 or want not in lines[0]:
                failures.append("%s: exit %d, stderr %r (want exit 2, one line holding %r)"
                                % (name, r.returncode, err[:600], want))
    finally:
        fx.kill()
        os.waitpid(zpid, 0)
    check(not failures, "%d of %d cases:\n  %s" % (len(failures), len(rows), "\n  ".join(failures)))
    return "%d cases" % len(rows)


def test_bad_input_table(wd):
    return run_table(wd, INFERLAT)


def test_bad_input_table_sanitized(wd):
    check(os.access(SANITIZED, os.X_OK), "%s missing: make sanitize-build" % SANITIZED)
    return run_table(wd, SANITIZED, env=SAN_ENV)
