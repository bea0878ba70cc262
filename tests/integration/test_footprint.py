# SPDX-License-Identifier: GPL-2.0
"""The agent's own footprint, as far as it is a property and not a speed."""
import time

from harness import LIBINFER, Fixture, Inferlat, check


def schedstat_cpu_ns(pid):
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


def voluntary_switches(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    raise AssertionError("no voluntary_ctxt_switches in /proc/%d/status" % pid)


def test_agent_sleeps_while_waiting(wd):
    # inferlat without -d once polled its ring buffer in a busy loop: a
    # waiting agent must block (a voluntary switch per 100 ms tick) and use a
    # sliver of a core, not all of one (a 20x margin either way)
    fx = Fixture(wd, "-n", 1)
    il = Inferlat(wd, "-p", fx.pid, "-e", LIBINFER + ":infer_run")
    try:
        il.wait_ready()
        cpu0, sw0, t0 = schedstat_cpu_ns(il.proc.pid), voluntary_switches(il.proc.pid), time.monotonic()
        time.sleep(2)
        cpu1, sw1, t1 = schedstat_cpu_ns(il.proc.pid), voluntary_switches(il.proc.pid), time.monotonic()
        il.stop()
    finally:
        fx.kill()
        il.kill()
    share = (cpu1 - cpu0) / 1e9 / (t1 - t0)
    check(sw1 - sw0 >= 5, "inferlat blocked %d times in 2 s: it is not sleeping between ticks" % (sw1 - sw0))
    check(share < 0.05, "inferlat used %.1f%% of a core while nothing happened" % (100 * share))
    return "%d sleeps, %.2f%% of a core in 2 s" % (sw1 - sw0, 100 * share)
