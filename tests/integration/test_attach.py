# SPDX-License-Identifier: GPL-2.0
"""Attaching to real-world shapes of servers: C++ names, stripped libraries
(separate debuginfo, MiniDebugInfo), unusual layouts, many symbols, libraries
loaded later, processes started later, other mount namespaces. Every count is
checked against what the fixture itself did."""
import os
import re
import shutil
import subprocess
import time

from harness import (DL_DRIVER, DL_DRIVER_NOPIE, FIXTURES, INFERLAT, LIBBULK, LIBCXX, LIBINFER,
                     ROOT, SERVER, DlDriver, Fixture, Inferlat, bpf_objects_of, build_id, check,
                     file_offset, fixture_in_mount_namespace, run)

N = 40   # calls of the driver's function in most tests


def drive(dl, il, on_ready=None):
    """Once inferlat has attached, run on_ready(il), let the driver make its
    calls and wait for inferlat to stop with it. Returns on_ready's result."""
    try:
        il.wait_ready()
        out = on_ready(il) if on_ready else None
        dl.go()
        dl.wait()
        rc = il.wait(60)
        check(rc == 0, "inferlat exited %d: %s" % (rc, il.stderr()))
    finally:
        dl.kill()
        il.kill()
    return out


def traced_driver(wd, lib, func, specs, extra=(), n=N, **kw):
    """dl-driver (library loaded) traced by PID with the specs."""
    dl = DlDriver(wd, lib, func, n=n, **kw)
    args = ["-p", dl.pid]
    for s in specs:
        args += ["-e", s]
    il = Inferlat(wd, *(args + list(extra)))
    drive(dl, il)
    return dl, il


def final_calls(il, pid=None):
    """{probe name: calls} of the whole-run records (of one process)."""
    return {r["probe"]: r["calls"] for r in il.final() if pid is None or r.get("pid") in (pid, None)}


CXX_SPECS = ["libcxxfix.so:infer::ops::*::call", "libcxxfix.so:infer::scale",
             "libcxxfix.so:infer::Box<*>::get", "libcxxfix.so:infer::clamp<*>",
             "libcxxfix.so:(anonymous namespace)::*", "libcxxfix.so:_ZN5infer7SessionclEi"]
CXX_EXPECTED = {"infer::ops::add::call(int, int)", "infer::ops::mul::call(int, int)",
                "infer::ops::relu::call(int, int)", "infer::scale(int)", "infer::scale(double)",
                "infer::scale(float const*, int)", "infer::Box<int>::get() const",
                "infer::Box<double>::get() const", "infer::clamp<int>(int, int, int)",
                "infer::clamp<long>(long, long, long)", "(anonymous namespace)::hidden_helper(int)",
                "infer::Session::operator()(int)"}


def check_cxx_set(il, libname, n=N):
    got = final_calls(il)
    want = {"%s:%s" % (libname, f) for f in CXX_EXPECTED}
    check(set(got) == want, "probes attached: %s\nwant exactly: %s\nmissing %s, extra %s" % (
        sorted(got), sorted(want), sorted(want - set(got)), sorted(set(got) - want)))
    wrong = {p: c for p, c in got.items() if c != n}
    check(not wrong, "each function was called %d times; inferlat counted %s" % (n, wrong))


def test_cxx_globs_attach_exactly_the_expected_set(wd):
    # overloads, templates (return types dropped), a namespace glob that must
    # not reach infer::other:: nor call_async, an anonymous namespace, a raw
    # mangled name
    dl, il = traced_driver(wd, LIBCXX, "cxxfix_drive", CXX_SPECS)
    check_cxx_set(il, "libcxxfix.so")
    return "%d functions, %d calls each" % (len(CXX_EXPECTED), N)


def test_stripped_library_through_build_id_debuginfo(wd):
    stripped = os.path.join(FIXTURES, "libcxxfix-stripped.so")
    # without its debuginfo the C++ names are nowhere (only C exports remain)
    dl = DlDriver(wd, stripped, "cxxfix_drive", n=1)
    try:
        r = run([INFERLAT, "-p", dl.pid, "-e", "libcxxfix.so:infer::scale", "-q", "-d", "0.2",
                 "--debug-root", wd.file("empty")])
    finally:
        dl.kill()
    check(r.returncode == 2 and "no function matches" in r.stderr, "stripped, no debuginfo: %s" % r.stderr)
    # debuginfo installed under a temporary debug root, by build-id
    bid = build_id(stripped)
    dbg = wd.file("debug/.build-id/%s/%s.debug" % (bid[:2], bid[2:]))
    os.makedirs(os.path.dirname(dbg))
    shutil.copy(os.path.join(FIXTURES, "libcxxfix.debug"), dbg)
    dl, il = traced_driver(wd, stripped, "cxxfix_drive", CXX_SPECS,
                           extra=["--debug-root", wd.file("debug"), "-v"], name="dl2")
    check("symbols from debuginfo %s" % dbg in il.stderr(), "debuginfo not used: %s" % il.stderr())
    check_cxx_set(il, "libcxxfix-stripped.so")


def test_stripped_library_through_debuglink(wd):
    # .gnu_debuglink names libcxxfix.debug; it sits in .debug/ next to the library
    lib = wd.file("lib/libcxxfix-debuglink.so")
    os.makedirs(wd.file("lib/.debug"))
    shutil.copy(os.path.join(FIXTURES, "libcxxfix-debuglink.so"), lib)
    shutil.copy(os.path.join(FIXTURES, "libcxxfix.debug"), wd.file("lib/.debug/libcxxfix.debug"))
    dl, il = traced_driver(wd, lib, "cxxfix_drive", CXX_SPECS,
                           extra=["--debug-root", wd.file("empty"), "-v"])
    # found next to the library as the target sees it (through /proc/PID/root)
    check(re.search(r"symbols from debuginfo \S*%s\n" % re.escape(wd.file("lib/.debug/libcxxfix.debug")),
                    il.stderr()), "debuglink not followed: %s" % il.stderr())
    check_cxx_set(il, "libcxxfix-debuglink.so")


def test_minidebuginfo(wd):
    mini = os.path.join(FIXTURES, "libcxxfix-mini.so")
    dl, il = traced_driver(wd, mini, "cxxfix_drive", CXX_SPECS,
                           extra=["--debug-root", wd.file("empty"), "-v"])
    check("libcxxfix-mini.so: symbols from minidebuginfo" in il.stderr(), il.stderr())
    check_cxx_set(il, "libcxxfix-mini.so")


def test_non_pie_executable_and_unusual_layouts(wd):
    # a non-PIE executable's own function; libraries whose code sits far from
    # its file offset (.text at 0x40000, file offset 0x2000) and at a non-zero
    # base (0x20000000), loaded by a PIE driver and a non-PIE one
    gap = os.path.join(FIXTURES, "libcxxfix-gap.so")
    based = os.path.join(FIXTURES, "libcxxfix-based.so")
    a = DlDriver(wd, gap, "cxxfix_drive", n=N, exe=DL_DRIVER_NOPIE, name="a")
    b = DlDriver(wd, based, "cxxfix_drive", n=N + 5, exe=DL_DRIVER, name="b")
    il = Inferlat(wd, "-p", a.pid, "-p", b.pid, "-e", "dl-driver*:driver_call",
                  "-e", "libcxxfix-*.so:infer::scale")
    try:
        il.wait_ready()
        a.go()
        b.go()
        a.wait()
        b.wait()
        rc = il.wait(60)
        check(rc == 0, il.stderr())
    finally:
        a.kill()
        b.kill()
        il.kill()
    got = {(r["probe"], r.get("pid")): r["calls"] for r in il.final()}
    want = {("dl-driver-nopie:driver_call", a.pid): N, ("dl-driver:driver_call", b.pid): N + 5}
    for lib, pid, n in (("libcxxfix-gap.so", a.pid, N), ("libcxxfix-based.so", b.pid, N + 5)):
        for f in ("infer::scale(int)", "infer::scale(double)", "infer::scale(float const*, int)"):
            want[("%s:%s" % (lib, f), pid)] = n
    check(got == want, "got %s\nwant %s" % (sorted(got.items()), sorted(want.items())))


def links_of(il):
    return bpf_objects_of(il.proc.pid)["links"]


def bulk_run(wd, pattern, count, extra):
    """count functions of libbulk attached; returns the links inferlat held
    and the attach time it printed."""
    dl = DlDriver(wd, LIBBULK, "bulk_drive", n=N)
    il = Inferlat(wd, "-p", dl.pid, "-e", "libbulk.so:" + pattern, *extra)
    links = drive(dl, il, links_of)
    got = final_calls(il)
    check(len(got) == count, "%d probes, want %d" % (len(got), count))
    wrong = {p: c for p, c in got.items() if c != N}
    check(not wrong, "each bulk function was called %d times: %s" % (N, sorted(wrong.items())[:5]))
    secs = float(re.search(r"attached in ([0-9.]+)s", il.stderr()).group(1))
    return links, secs


def test_many_symbols_through_one_multi_link(wd):
    links, secs = bulk_run(wd, "bulk_??", 256, [])
    multi = [l for l in links if l["type"] == "uprobe_multi"]
    # the probes' entry link, and the dynamic loader's watch (one site)
    entry = sorted((l for l in multi if not l["retprobe"]), key=lambda l: l["func_cnt"])
    check(len(entry) == 2 and entry[1]["func_cnt"] == 256 and entry[0]["func_cnt"] == 1,
          "want one uprobe_multi entry link with 256 sites and the loader's: %s" %
          [(l["type"], l.get("func_cnt")) for l in links])
    check(len([l for l in multi if l["retprobe"]]) == 1, "one return link")
    return "256 functions attached in %.4fs through 2 uprobe_multi links" % secs


def test_perf_uprobe_fallback(wd):
    # what kernels before 6.6 get: one perf uprobe pair per function (32
    # functions: on this kernel each perf uprobe takes ~80 ms to remove)
    links, secs = bulk_run(wd, "bulk_[01]?", 32, ["--no-multi"])
    check(not [l for l in links if l["type"] == "uprobe_multi"], "no uprobe_multi link with --no-multi")
    perf = [l for l in links if l["type"] == "perf_event" and "libbulk.so" in l.get("file", "")]
    check(len(perf) == 2 * 32, "%d perf uprobe links on libbulk.so, want 64" % len(perf))
    return "32 functions attached in %.4fs through 64 perf uprobes" % secs


def symbol_rows(out):
    rows = []
    for line in out.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        obj, addr, off, size, site, name = line.split(None, 5)
        rows.append({"object": obj, "addr": int(addr, 16), "off": int(off, 16), "size": int(size),
                     "site": site, "name": name})
    return rows


def test_symbols_lists_what_can_be_probed(wd):
    gap = os.path.join(FIXTURES, "libcxxfix-gap.so")
    dl = DlDriver(wd, gap, "cxxfix_tick", n=1)
    try:
        r = run([INFERLAT, "symbols", "-p", dl.pid, "libcxxfix*:infer::scale"])
        t = run([INFERLAT, "symbols", "-p", dl.pid, "libcxxfix.so:cxxfix_tick"])
        x = run([INFERLAT, "symbols", "-x", SERVER, "libinfer.so:infer_*"])
        # ground truth: where the kernel mapped the address dlsym returned
        tick_off = file_offset(dl.pid, dl.loaded)
    finally:
        dl.kill()
    check(r.returncode == 0, r.stderr)
    rows = symbol_rows(r.stdout)
    check({x["name"] for x in rows} == {"infer::scale(int)", "infer::scale(double)",
                                        "infer::scale(float const*, int)"}, r.stdout)
    check(all(x["object"] == gap and x["addr"] - x["off"] == 0x3e000 for x in rows),
          "code at 0x40000 sits at file offset 0x2000: %s" % r.stdout)
    check(all(re.match(r"^\+\d+\((optimized|emulated|single-step)\)$", x["site"]) for x in rows), r.stdout)
    # addresses and sizes as binutils reads the symbol table
    nm = {}
    for line in run(["nm", "-C", "-S", "--defined-only", gap]).stdout.splitlines():
        f = line.split(None, 3)
        if len(f) == 4:   # symbols without a size have 3 fields
            nm[f[3]] = (int(f[0], 16), int(f[1], 16))
    check(all(nm.get(x["name"]) == (x["addr"], x["size"]) for x in rows),
          "address and size differ from nm's: %s vs %s" % (r.stdout, nm))
    tick = symbol_rows(t.stdout)
    check(len(tick) == 1 and tick[0]["off"] == tick_off,
          "cxxfix_tick at file offset %#x by the kernel's maps: %s" % (tick_off, t.stdout))
    # -x with no process running it: the executable and the libraries it loads
    check(x.returncode == 0, x.stderr)
    names = {(os.path.basename(x["object"]), x["name"]) for x in symbol_rows(x.stdout)}
    check({("libinfer.so.1", "infer_run"), ("libinfer.so.1", "infer_nested")} <= names, x.stdout)


def test_symbols_usage_errors(wd):
    for args, want in ((["symbols"], "give one target"),
                       (["symbols", "-p", "1", "-x", SERVER], "give one target"),
                       (["symbols", "-p", "1", "--bogus"], "bad option '--bogus'"),
                       (["symbols", "-x", SERVER, "libinfer.so:nothing_*"], "no function matches")):
        r = run([INFERLAT] + args)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        check(r.returncode == 2 and len(lines) == 1 and want in lines[0], "%s: %d %r" % (args, r.returncode, lines))


def late_loader(wd, lib, spec, n=300, interval_us=1000, extra=()):
    """A driver that dlopens lib 1 s after inferlat attached and then calls
    cxxfix_tick n times, 1 ms apart."""
    dl = DlDriver(wd, lib, "cxxfix_tick", n=n, interval_us=interval_us, delay_ms=1000)
    il = Inferlat(wd, "-p", dl.pid, "-e", spec, "-v", *extra, calls_out=True)
    drive(dl, il, lambda il: check(dl.loaded is None, "the library must not be loaded before inferlat attached"))
    return dl, il


def test_dlopen_by_path_counts_every_call(wd):
    # a LIB path is probed before it is mapped: the kernel arms the probes at mmap
    dl, il = late_loader(wd, LIBCXX, LIBCXX + ":cxxfix_tick")
    fin = final_calls(il)
    check(fin == {"libcxxfix.so:cxxfix_tick": 300}, "driver made 300 calls after dlopen; inferlat: %s" % fin)


def test_dlopen_by_name_attached_when_loaded(wd):
    # a library name no target maps yet waits; the loader's _dl_debug_state
    # reports the dlopen and inferlat attaches within milliseconds. Calls
    # made before that are missed (counted here, not hidden); every later one
    # is counted.
    dl, il = late_loader(wd, LIBCXX, "libcxxfix.so:cxxfix_tick")
    check("no target maps a library 'libcxxfix.so' yet" in il.stderr(), il.stderr())
    calls, events = dl.calls(), sorted(e["start_ns"] for e in il.calls())
    check(len(events) > 0, "no call counted after the library was loaded: %s" % il.stderr())
    # each event lies inside one driver call; the counted ones are all calls
    # from the first counted on
    first = next(i for i, (s, e) in enumerate(calls) if s <= events[0] <= e)
    check(len(events) == len(calls) - first, "%d events, but %d calls from the first counted one"
          % (len(events), len(calls) - first))
    for (s, e), t in zip(calls[first:], events):
        check(s <= t <= e, "event at %d not inside the call [%d, %d]" % (t, s, e))
    fin = final_calls(il)
    check(fin == {"libcxxfix.so:cxxfix_tick": len(events)}, fin)
    ms = re.search(r"attached for PID \d+ ([0-9.]+) ms after its loader", il.stderr()).group(1)
    return "counted %d of 300 calls; missed the first %d; attached %s ms after the dlopen" % (
        len(events), first, ms)


def test_libtorch_imported_after_attach(wd):
    # the real thing: Python imports torch after inferlat attached, which
    # dlopens libtorch_cpu (120 MB, ~34k exported C++ symbols) among hundreds
    # of libraries; the operators are found by demangled name when it loads
    n = 200
    py = subprocess.Popen(["/usr/bin/python3", os.path.join(ROOT, "tests", "fixtures", "torch-driver.py"),
                           str(n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    il = None
    try:
        check(py.stdout.readline().startswith("ready"), "torch-driver did not start")
        il = Inferlat(wd, "-p", py.pid, "-e", "libtorch_cpu.so:at::_ops::linear::call",
                      "-e", "libtorch_cpu.so:at::_ops::addmm::call", "-v")
        il.wait_ready()
        py.stdin.write("go\n")
        py.stdin.flush()
        check(py.stdout.readline().strip() == "done %d" % n, "torch-driver failed")
        py.stdin.close()
        check(py.wait(60) == 0, "torch-driver exited %s" % py.returncode)
        check(il.wait(60) == 0, il.stderr())
    finally:
        py.kill()
        if il:
            il.kill()
    got = {p.split(":at::_ops::")[1].split("(")[0]: c for p, c in final_calls(il).items()}
    check(got == {"linear::call": n, "addmm::call": n}, "%d forward passes: %s" % (n, got))
    ms = re.search(r"attached for PID \d+ ([0-9.]+) ms after", il.stderr()).group(1)
    return "%d of %d linear and addmm calls counted; attached %s ms after the loader reported it" % (
        got["linear::call"], n, ms)


def test_exe_started_later_and_restarted(wd):
    # no process runs the executable at start: its libraries are found through
    # its loader (DT_NEEDED, RUNPATH $ORIGIN); both processes counted exactly
    il = Inferlat(wd, "-x", SERVER, "-e", "libinfer.so:infer_run", "-d", 30)
    try:
        il.wait_ready()
        first = Fixture(wd, "-n", 40, "-s", "fixed:300", wait=False, name="first")
        first.wait()
        again = Fixture(wd, "-n", 25, "-s", "fixed:300", wait=False, name="again")
        again.wait()
        time.sleep(1.5)
        il.stop()
    finally:
        il.kill()
    fin = {r.get("pid"): r["calls"] for r in il.final()}
    check(fin == {first.pid: 40, again.pid: 25}, "first %d (40 calls), restarted %d (25 calls): %s"
          % (first.pid, again.pid, fin))


def test_comm_follows_processes_by_name(wd):
    # one process with the name runs at start, one starts later; the same
    # executable under another name (a symlink: the comm is the link's name)
    # maps the same library and is not traced. The name is unique to this
    # run: other test runs on the machine start infer-servers too.
    name = "ifl%d" % (os.getpid() % 1000000)
    exe = wd.file(name)
    shutil.copy(SERVER, exe)
    shutil.copy(LIBINFER, wd.file("libinfer.so.1"))   # found through RUNPATH $ORIGIN
    os.symlink(exe, wd.file("o" + name))
    before = Fixture(wd, "-n", 30, "-s", "fixed:300", exe=exe, name="before")
    il = Inferlat(wd, "--comm", name, "-e", "libinfer.so:infer_run", "-d", 30)
    try:
        il.wait_ready()
        before.go()
        before.wait()
        later = Fixture(wd, "-n", 20, "-s", "fixed:300", wait=False, exe=exe, name="later")
        later.wait()
        stranger = Fixture(wd, "-n", 15, "-s", "fixed:300", wait=False, exe=wd.file("o" + name),
                           name="stranger")
        stranger.wait()
        time.sleep(1.5)
        il.stop()
    finally:
        before.kill()
        il.kill()
    fin = {r.get("pid"): r["calls"] for r in il.final()}
    check(fin == {before.pid: 30, later.pid: 20}, "want %d: 30, %d: 20 and not %d: %s"
          % (before.pid, later.pid, stranger.pid, fin))


def test_comm_without_process_at_start(wd):
    # no process has the name yet and the library is named, not a path: it
    # is found when the first such process's loader has mapped it (before
    # its main); the process is released once inferlat says so
    name = "ifm%d" % (os.getpid() % 1000000)
    exe = wd.file(name)
    shutil.copy(SERVER, exe)
    shutil.copy(LIBINFER, wd.file("libinfer.so.1"))
    il = Inferlat(wd, "--comm", name, "-e", "libinfer.so:infer_run", "-d", 30, "-v")
    fx = None
    try:
        il.wait_ready()
        check("no target maps a library 'libinfer.so' yet" in il.stderr(), il.stderr())
        fx = Fixture(wd, "-n", 25, "-s", "fixed:300", exe=exe)
        deadline = time.time() + 20
        while "attached for PID %d" % fx.pid not in il.stderr():
            check(time.time() < deadline, "not attached: %s" % il.stderr())
            time.sleep(0.02)
        fx.go()
        fx.wait()
        time.sleep(1.5)
        il.stop()
    finally:
        if fx:
            fx.kill()
        il.kill()
    fin = {r.get("pid"): r["calls"] for r in il.final()}
    check(fin == {fx.pid: 25}, "want %d: 25: %s" % (fx.pid, fin))


def test_library_in_another_mount_namespace(wd):
    ns, fx = fixture_in_mount_namespace(wd, "-n", 50, "-s", "fixed:300")
    lib = os.path.join(ns, "lib", "libinfer.so.1")
    try:
        check(not os.path.exists(lib), "the library must not exist on the host")
        # a host file at the same path, as a decoy: never to be probed
        os.makedirs(os.path.dirname(lib))
        shutil.copy(LIBINFER, lib)
    except BaseException:
        fx.kill()
        raise
    il = Inferlat(wd, "-p", fx.pid, "-e", "libinfer.so:infer_run", "-e", lib + ":infer_nested")
    drive(fx, il)
    fin = final_calls(il)
    check(fin.get("libinfer.so.1:infer_run") == 50, "the namespace's library: %s" % fin)
    check(set(fin) == {"libinfer.so.1:infer_run", "libinfer.so.1:infer_nested"}, fin)


def test_deleted_library_probed_through_its_mapping(wd):
    # the library is deleted inside the namespace after the target mapped it:
    # its path leads nowhere, /proc/PID/map_files still reaches the file
    ns, fx = fixture_in_mount_namespace(wd, "-n", 35, "-s", "fixed:300")
    try:
        os.unlink("/proc/%d/root%s/lib/libinfer.so.1" % (fx.pid, ns))
    except BaseException:
        fx.kill()
        raise
    il = Inferlat(wd, "-p", fx.pid, "-e", "libinfer.so:infer_run")
    drive(fx, il)
    check(final_calls(il) == {"libinfer.so.1:infer_run": 35}, "%s %s" % (final_calls(il), il.stderr()))
