# SPDX-License-Identifier: GPL-2.0
"""Runs every test_* function of tests/integration/test_*.py and prints TAP.
A test passes when it returns, fails on any exception. Nothing is skipped:
a test that cannot run here fails and says why."""
import importlib.util
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402


def main():
    only = sys.argv[1:]
    tests = []
    for fn in sorted(os.listdir(HERE)):
        if not (fn.startswith("test_") and fn.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(fn[:-3], os.path.join(HERE, fn))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for name in dir(mod):
            if name.startswith("test_") and callable(getattr(mod, name)):
                full = "%s.%s" % (fn[:-3], name)
                if not only or any(o in full for o in only):
                    tests.append((full, getattr(mod, name), getattr(mod, name).__code__.co_firstlineno))
    tests.sort(key=lambda t: (t[0].split(".")[0], t[2]))
    print("1..%d" % len(tests), flush=True)
    failed = 0
    for i, (name, fn, _) in enumerate(tests, 1):
        wd = harness.Workdir()
        t0 = time.time()
        try:
            try:
                note = fn(wd)
            except harness.TestFailure as first:
                # scheduler-accuracy tests (harness.second_attempt): one
                # more run, and the first failure stays in the note
                if not getattr(fn, "second_attempt", False):
                    raise
                print("# %s: first attempt failed: %s; running it again" % (name, first), flush=True)
                wd.cleanup()
                wd = harness.Workdir()
                note = fn(wd)
                note = "passed on a second attempt (first: %s)%s" % (first, "; " + note if note else "")
            print("ok %d - %s (%.1fs)%s" % (i, name, time.time() - t0, "  # " + note if note else ""), flush=True)
        except Exception as e:  # noqa: BLE001 -- every failure is reported
            failed += 1
            print("not ok %d - %s (%.1fs)" % (i, name, time.time() - t0), flush=True)
            for line in traceback.format_exception(type(e), e, e.__traceback__)[-6:]:
                for l in line.rstrip().splitlines():
                    print("#   " + l, flush=True)
        finally:
            wd.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
