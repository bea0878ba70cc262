#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""check.py WORK_LOG INFERLAT_JSON [GLOB_JSON]: inferlat's figures for gpu-work
against the workload's own log, one line per check, then "N passed, N failed"
(exit 1 on any failure). GLOB_JSON, a run over every exported cuda*/cu*
function: which entry points the workload really called.
check.py --torch TORCH_LOG INFERLAT_JSON [GLOB_JSON]: the same for
torch-work.py, against PyTorch's allocator statistics and its profiler."""
import json
import sys


def final_records(path):
    with open(path) as f:
        recs = [json.loads(l) for l in f if l.strip()]
    return {r["probe"].split(":", 1)[1]: r for r in recs if r.get("final") and "type" not in r}


def torch_checks(want, got, check):
    m, fr = got.get("cudaMalloc", {}), got.get("cudaFree", {})
    mg, fg = m.get("gpu", {}), fr.get("gpu", {})
    check("torch cudaMalloc", mg.get("allocs") == want["segments_allocated"] and
          mg.get("alloc_bytes") == want["reserved_bytes_allocated"],
          "inferlat %s allocations, %s bytes; the caching allocator's segments %d, %d bytes" % (
              mg.get("allocs"), mg.get("alloc_bytes"), want["segments_allocated"],
              want["reserved_bytes_allocated"]))
    check("torch cudaFree", fg.get("frees") == want["segments_freed"] and
          fg.get("freed_bytes") == want["reserved_bytes_freed"],
          "inferlat %s frees, %s bytes; segments freed %d, %d bytes" % (
              fg.get("frees"), fg.get("freed_bytes"), want["segments_freed"], want["reserved_bytes_freed"]))
    check("torch live GPU bytes", mg.get("live_bytes") == want["reserved_bytes"],
          "inferlat %s, reserved %d" % (mg.get("live_bytes"), want["reserved_bytes"]))
    prof = want["runtime_calls"]
    for fn in ("cudaLaunchKernel", "cudaMemcpyAsync", "cudaStreamSynchronize", "cudaDeviceSynchronize"):
        n = got.get(fn, {}).get("calls", 0)
        check("torch %s" % fn, n == prof.get(fn, 0), "inferlat %d calls, the profiler %d" % (n, prof.get(fn, 0)))
    print("# the profiler's runtime calls: %s" % ", ".join("%s x%d" % kv for kv in sorted(prof.items())))


def main():
    torch_mode = sys.argv[1] == "--torch"
    args = sys.argv[2:] if torch_mode else sys.argv[1:]
    with open(args[0]) as f:
        want = json.load(f)
    got = final_records(args[1])
    results = []

    def check(name, ok, detail):
        results.append(ok)
        print("%s - %s: %s" % ("ok" if ok else "not ok", name, detail))

    def calls(fn):
        return got.get(fn, {}).get("calls", 0)

    if torch_mode:
        torch_checks(want, got, check)
        return summary(results, args)

    m, fr = got.get("cudaMalloc", {}), got.get("cudaFree", {})
    mg, fg = m.get("gpu", {}), fr.get("gpu", {})
    check("cudaMalloc", mg.get("allocs") == want["allocs"] and mg.get("alloc_bytes") == want["alloc_bytes"],
          "inferlat %s allocations, %s bytes; the workload %d, %d" % (
              mg.get("allocs"), mg.get("alloc_bytes"), want["allocs"], want["alloc_bytes"]))
    check("cudaFree", fg.get("frees") == want["frees"] and fg.get("freed_bytes") == want["freed_bytes"],
          "inferlat %s frees, %s bytes; the workload %d, %d" % (
              fg.get("frees"), fg.get("freed_bytes"), want["frees"], want["freed_bytes"]))
    live = want["alloc_bytes"] - want["freed_bytes"]
    check("live GPU bytes", mg.get("live_bytes") == live, "inferlat %s, the workload %d" % (mg.get("live_bytes"), live))
    sync_b = got.get("cudaMemcpy", {}).get("bytes", {}).get("total")
    check("cudaMemcpy bytes", sync_b == want["copy_bytes"], "inferlat %s, the workload %d" % (sync_b, want["copy_bytes"]))
    async_b = got.get("cudaMemcpyAsync", {}).get("bytes", {}).get("total")
    check("cudaMemcpyAsync bytes", async_b == want["async_bytes"],
          "inferlat %s, the workload %d" % (async_b, want["async_bytes"]))
    check("launches", calls("cudaLaunchKernel") == want["launches"],
          "cudaLaunchKernel %d calls, the workload launched %d" % (calls("cudaLaunchKernel"), want["launches"]))
    check("stream synchronizations", calls("cudaStreamSynchronize") == want["stream_syncs"],
          "inferlat %d, the workload %d" % (calls("cudaStreamSynchronize"), want["stream_syncs"]))
    check("device synchronizations", calls("cudaDeviceSynchronize") == want["device_syncs"],
          "inferlat %d, the workload %d" % (calls("cudaDeviceSynchronize"), want["device_syncs"]))
    sync_s = sum(got[fn]["latency_s"]["mean"] * got[fn]["calls"]
                 for fn in ("cudaStreamSynchronize", "cudaDeviceSynchronize")
                 if got.get(fn, {}).get("calls"))
    own = want["sync_ns"] / 1e9
    check("synchronization time", abs(sync_s - own) <= max(0.1 * own, 50e-6),
          "inferlat %.6f s, the workload's clock %.6f s" % (sync_s, own))
    return summary(results, args)


def summary(results, args):
    if len(args) > 2:
        seen = sorted("%s x%d" % (fn, r["calls"]) for fn, r in final_records(args[2]).items() if r["calls"])
        print("# entry points called: %s" % ", ".join(seen))
    failed = results.count(False)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
