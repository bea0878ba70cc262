# SPDX-License-Identifier: GPL-2.0
"""The tree a newcomer reads: short functions, no include cycles between the
modules of user/, no run artefacts committed, a build that names a missing
library at once and knows each object's headers."""
import glob
import os
import re
import subprocess

from harness import BUILD, ROOT, check, run

MAX_FUNCTION_LINES = 150


def functions(path):
    """(name, first line, length) of each function defined in path, in the
    tree's style: the body opens with '{' alone in column 0 and closes with
    '}' alone in column 0; the signature is the lines just above the '{'."""
    lines = open(path).read().split("\n")
    found = []
    for i, line in enumerate(lines):
        if line != "{":
            continue
        first = i
        while first > 0:
            above = lines[first - 1]
            if not above or above[0] in " \t}#/*" or above.endswith(";") or above.endswith("*/"):
                break
            first -= 1
        last = i + 1
        while last < len(lines) and lines[last] != "}":
            last += 1
        m = re.search(r"([A-Za-z_0-9]+)\s*\(", " ".join(lines[first:i]))
        found.append((m.group(1) if m else "?", first + 1, last - first + 1))
    return found


def test_functions_at_most_150_lines(wd):
    files = sorted(glob.glob(os.path.join(ROOT, "user", "*.c")) + glob.glob(os.path.join(ROOT, "bpf", "*.c")) +
                   glob.glob(os.path.join(ROOT, "bpf", "*.h")))
    seen, long_ones = 0, []
    for f in files:
        for name, line, length in functions(f):
            seen += 1
            if length > MAX_FUNCTION_LINES:
                long_ones.append("%s:%d %s (%d lines)" % (os.path.relpath(f, ROOT), line, name, length))
    # the scanner must see the tree's functions, or it proves nothing
    check(seen > 500, "only %d functions found in %d files: the scanner misreads the style" % (seen, len(files)))
    check(not long_ones, "functions over %d lines: %s" % (MAX_FUNCTION_LINES, "; ".join(long_ones)))
    return "%d functions, none over %d lines" % (seen, MAX_FUNCTION_LINES)


def include_graph():
    graph = {}
    for f in glob.glob(os.path.join(ROOT, "user", "*.[ch]")):
        mod = os.path.basename(f).rsplit(".", 1)[0]
        for h in re.findall(r'^#include "([a-z0-9_]+)\.h"', open(f).read(), re.M):
            if h != mod and os.path.exists(os.path.join(ROOT, "user", h + ".h")):
                graph.setdefault(mod, set()).add(h)
    return graph


def test_no_include_cycles_in_user(wd):
    graph = include_graph()
    check(sum(len(v) for v in graph.values()) > 100, "include graph too small: %r" % graph)
    state, cycles = {}, []

    def visit(mod, path):
        state[mod] = "open"
        for dep in sorted(graph.get(mod, ())):
            if state.get(dep) == "open":
                cycles.append(" -> ".join(path[path.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep, path + [dep])
        state[mod] = "done"

    for mod in sorted(graph):
        if mod not in state:
            visit(mod, [mod])
    check(not cycles, "modules that include each other: %s" % "; ".join(cycles))
    # the calibration is a step of the run, beside the session, not in it
    check("calibrate" not in graph.get("session", ()), "session includes calibrate.h")
    check("cli" not in graph.get("runtimes", ()) and "cli" not in graph.get("symcmd", ()),
          "the subcommands include the option parser")


def test_no_run_artefacts_tracked(wd):
    r = run(["git", "-C", ROOT, "ls-files"])
    check(r.returncode == 0, "git ls-files: %s (the tests run from a git checkout)" % r.stderr)
    files = r.stdout.split()
    check(len(files) > 100, "git ls-files lists %d files" % len(files))
    bad = [f for f in files if re.search(r"(^|/)(vg\.(out|err)|[^/]*\.jsonl|[^/]*\.prom|__pycache__/.*)$", f)
           and not f.startswith("tests/fuzz/corpus/")]
    check(not bad, "run artefacts committed: %s" % bad)
    ignored = subprocess.run(["git", "-C", ROOT, "check-ignore", "calls.jsonl", "out.jsonl", "inferlat.prom",
                              "vg.out", "vg.err"], capture_output=True, text=True).stdout.split()
    check(len(ignored) == 5, ".gitignore misses run artefacts: ignored only %s" % ignored)


def test_missing_library_named_at_once(wd):
    # pkg-config that finds nothing: make stops before compiling, naming the
    # Debian packages; make deps (which installs them) still runs its script
    env = dict(os.environ, PKG_CONFIG_LIBDIR=os.path.join(wd.path, "none"), PKG_CONFIG_PATH="")
    r = run(["make", "-C", ROOT, "-n", "OUTPUT=" + os.path.join(wd.path, "b"), "all"], env=env)
    check(r.returncode != 0, "make all went on without libbpf: %s" % r.stdout[-500:])
    for pkg in ("libbpf-dev", "libelf-dev", "libdw-dev", "libjson-c-dev"):
        check(pkg in r.stderr, "%s not named: %s" % (pkg, r.stderr))
    check("make deps" in r.stderr, r.stderr)
    r = run(["make", "-C", ROOT, "-n", "deps"], env=env)
    check(r.returncode == 0 and "scripts/deps.sh" in r.stdout, "make -n deps: %s %s" % (r.stdout, r.stderr))


def test_objects_know_their_headers(wd):
    # -MMD: each object's own headers, not every header of the tree
    dep = os.path.join(BUILD, "user", "agg.d")
    check(os.path.exists(dep), "%s missing: objects are built without -MMD" % dep)
    text = open(dep).read()
    check("user/agg.h" in text and "include/inferlat.h" in text, text[:300])
    check("user/httpframe.h" not in text, "agg.o depends on headers it does not include: " + text[:300])
