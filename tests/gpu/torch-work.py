#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""torch-work.py LOG: the PyTorch device workload of scripts/gpu-check.sh. An
eager MLP forward in a loop on the GPU, under torch.profiler (CUPTI), then the
caching allocator's cache emptied; it writes its own figures to LOG as JSON:
the allocator's segment counts and bytes (torch.cuda.memory_stats), the
runtime API calls the profiler saw by name (cudaLaunchKernel and the rest),
and its own time per iteration. Runs on the GPU machine only."""
import json
import sys
import time

import torch


def main():
    dev = torch.device("cuda")
    torch.manual_seed(0)
    iters = []
    acts = [torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]
    # everything that launches is profiled, so its counts cover the process's
    with torch.no_grad(), torch.profiler.profile(activities=acts) as prof:
        model = torch.nn.Sequential(torch.nn.Linear(512, 1024), torch.nn.ReLU(),
                                    torch.nn.Linear(1024, 1024), torch.nn.ReLU(),
                                    torch.nn.Linear(1024, 10)).to(dev)
        x = torch.randn(64, 512, device=dev)
        for _ in range(200):
            t = time.monotonic_ns()
            model(x)
            torch.cuda.synchronize()
            iters.append(time.monotonic_ns() - t)
    del model, x
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    stats = torch.cuda.memory_stats()
    runtime = {}
    for e in prof.events():
        # the runtime API calls CUPTI records on the CPU side
        if e.name.startswith("cuda") or e.name.startswith("cu"):
            runtime[e.name] = runtime.get(e.name, 0) + 1
    out = {
        "segments_allocated": stats.get("segment.all.allocated", 0),
        "segments_freed": stats.get("segment.all.freed", 0),
        "reserved_bytes": stats.get("reserved_bytes.all.current", 0),
        "reserved_bytes_allocated": stats.get("reserved_bytes.all.allocated", 0),
        "reserved_bytes_freed": stats.get("reserved_bytes.all.freed", 0),
        "runtime_calls": runtime,
        "iterations": len(iters),
        "iteration_ns_median": sorted(iters)[len(iters) // 2],
    }
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)
        f.write("\n")


if __name__ == "__main__":
    main()
