#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""check.py WORK_LOG INFERLAT_JSON [GLOB_JSON]: inferlat's figures for gpu-work
against the workload's own log, one line per check, then "N passed, N failed"
(exit 1 on any failure). GLOB_JSON, a run over every exported cuda*/cu*
function: which entry points the workload really called."""
import json
import sys


def final_records(path):
    with open(path) as f:
        recs = [json.loads(l) for l in f if l.strip()]
    return {r["probe"].split(":", 1)[1]: r for r in recs if r.get("final") and "type" not in r}


def main():
    with open(sys.argv[1]) as f:
        want = json.load(f)
    got = final_records(sys.argv[2])
    results = []

    def check(name, ok, detail):
        results.append(ok)
        print("%s - %s: %s" % ("ok" if ok else "not ok", name, detail))

    def calls(fn):
        return got.get(fn, {}).get("calls", 0)

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
    if len(sys.argv) > 3:
        seen = sorted("%s x%d" % (fn, r["calls"]) for fn, r in final_records(sys.argv[3]).items() if r["calls"])
        print("# entry points called: %s" % ", ".join(seen))
    failed = results.count(False)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
