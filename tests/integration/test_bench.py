# SPDX-License-Identifier: GPL-2.0
"""The benchmark driver (scripts/bench.py): its readers of bpftrace's and
bcc's histograms, and one short run of every mode so it does not rot. No
figure it measures decides anything here; counts do."""
import json
import os
import re
import sys

from harness import ROOT, BUILD, check, run

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import bench  # noqa: E402

# as bpftrace 0.17 prints hist() at exit
BPFTRACE_OUT = """Attaching 4 probes...
ready


@h:
[1]                    2 |                                                    |
[2, 4)                 0 |                                                    |
[8K, 16K)          48233 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[16K, 32K)           769 |                                                    |
[32K, 64K)           931 |@                                                   |
[1M, 2M)              65 |                                                    |

@other:
[0]                    7 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
"""

# as bcc's funclatency prints it on SIGINT
BCC_OUT = """Tracing 1 functions for "/x/libinfer.so.1:proto_endbr"... Hit Ctrl-C to end.
^C
     nsecs               : count     distribution
         0 -> 1          : 0        |                                        |
         2 -> 3          : 2        |                                        |
      8192 -> 16383      : 48233    |****************************************|
     16384 -> 32767      : 769      |                                        |
     32768 -> 65535      : 996      |                                        |

avg = 12345 nsecs, total: 617250000 nsecs, count: 50000

Detaching...
"""


def test_bench_reads_bpftrace_and_bcc_histograms(wd):
    b = bench.parse_bpftrace_hist(BPFTRACE_OUT)
    check(b == [((1, 2), 2), ((2, 4), 0), ((8192, 16384), 48233), ((16384, 32768), 769),
                ((32768, 65536), 931), ((1 << 20, 2 << 20), 65)], "bpftrace buckets: %s" % b)
    check(bench.parse_bpftrace_hist(BPFTRACE_OUT, "@other") == [((0, 1), 7)], "second map")
    c = bench.parse_bcc_hist(BCC_OUT)
    check(c == [((0, 2), 0), ((2, 4), 2), ((8192, 16384), 48233), ((16384, 32768), 769),
                ((32768, 65536), 996)], "bcc buckets: %s" % c)
    check(sum(n for _, n in c) == 50000, "bcc count")
    # nearest rank: 25000 of 50000 is in [8K,16K), 48500 in [16K,32K), 49500 in [32K,64K)
    check(bench.bucket_quantile(c, 0.5) == 12288.0, "p50")
    check(bench.bucket_quantile(c, 0.97) == 24576.0, "p97")
    check(bench.bucket_quantile(c, 0.99) == 49152.0, "p99")
    check(bench.bucket_quantile(b, 0.00001) == 1.5, "the smallest bucket")


# as perf 6.12 prints them (section 8)
PERF_PIPE_OUT = """# Running 'sched/pipe' benchmark:
# Executed 20000 pipe operations between two processes

     Total time: 0.340 [sec]

      17.049500 usecs/op
          58652 ops/sec
"""
PERF_SYSCALL_OUT = """# Running 'syscall/basic' benchmark:
# Executed 200000 getppid() calls
     Total time: 0.221 [sec]

       1.107030 usecs/op
         903317 ops/sec
"""

# inferlat -v's report of a main probe's site (section 6 reads it)
SITE_OUT = ("inferlat: probe 0: libonnxruntime.so.1:OrtApi::Run at /x/libonnxruntime.so.1+0x43e564: "
            "push %rbp (emulated); skipped endbr64 at the symbol (single-step)\n"
            "inferlat: probe 0: libtorch_cpu.so.1.13.0:torch::jit::GraphExecutor::run(std::vector<c10::IValue, "
            "std::allocator<c10::IValue> >&) at /usr/lib/libtorch_cpu.so.1.13.0+0x3e8ffe0: 48 ... (single-step)\n")


def test_bench_reads_perf_and_probe_sites(wd):
    check(bench.perf_usecs(PERF_PIPE_OUT) == 17.0495, "sched pipe usecs/op")
    check(bench.perf_usecs(PERF_SYSCALL_OUT) == 1.10703, "syscall basic usecs/op")
    m = re.search(bench.SITE_LINE % re.escape("OrtApi::Run"), SITE_OUT, re.M)
    check(m and m.group(1) == "/x/libonnxruntime.so.1" and m.group(2) == "43e564" and
          m.group(3).startswith("push %rbp (emulated); skipped endbr64"), "ORT site: %s" % (m and m.groups(),))
    m = re.search(bench.SITE_LINE % re.escape("torch::jit::GraphExecutor::run"), SITE_OUT, re.M)
    check(m and m.group(1) == "/usr/lib/libtorch_cpu.so.1.13.0" and m.group(2) == "3e8ffe0",
          "libtorch site: %s" % (m and m.groups(),))


def test_bench_smoke_every_mode(wd):
    md, js = wd.file("results.md"), wd.file("results.json")
    r = run(["/usr/bin/python3", os.path.join(ROOT, "scripts", "bench.py"), "--smoke", "--build", BUILD,
             "--out", md, "--json", js], timeout=600)
    check(r.returncode == 0, "bench --smoke failed (%d): %s" % (r.returncode, r.stderr[-2000:]))
    res = json.load(open(js))
    tools = {"no probe", "floor", "floor (perf uprobe)", "inferlat", "bpftrace", "bcc funclatency"}
    check([p["kind"] for p in res["cost"]] == ["endbr", "push", "nop5"], "prologues: %s" % res["cost"])
    for p in res["cost"]:
        check(tools <= {row["tool"] for row in p["rows"]}, "%s: tools %s" % (p["kind"], p["rows"]))
        check(all(len(row["ns"]) == 1 and row["ns"][0] > 0 for row in p["rows"]), "%s: ns/call" % p["kind"])
    for row in res["loss"]:
        for x in row["runs"]:
            # the in-kernel counters and histogram count every call, lost events or not
            check(x["counted"] == x["made"] == 20000 * row["threads"], "%s: %s" % (row["config"], x))
            check(x["delivered"] + x["lost"] == x["counted"], "%s: %s" % (row["config"], x))
    lossy = res["loss"][-1]["runs"][0]
    check(lossy["lost"] > 0 and lossy["kernel"], "a 4 KiB ring buffer and two threads lose events: %s" % lossy)
    check({(r["tool"], r["rate"]) for r in res["footprint"]} ==
          {(t, rate) for t in ("inferlat", "bpftrace") for rate in bench.FP_RATES}, "footprint rows")
    for row in res["footprint"]:
        x = row["runs"][0]
        check(x["cpu_share"] >= 0 and x["rss_kib"] > 0, "footprint %s: %s" % (row["tool"], x))
    check([r["tool"] for r in res["accuracy"]] == ["inferlat", "bpftrace", "bcc funclatency"], "accuracy tools")
    for row in res["accuracy"]:
        x = row["runs"][0]
        check(x["calls"] == 300 and all(x[k]["reported_ns"] > 0 for k in ("p50", "p99", "p999")),
              "accuracy %s: %s" % (row["tool"], x))
    check([r["symbols"] for r in res["attach"]] == [1, 100, 1000], "attach sizes")
    check("bpftrace_ready" in res["attach"][0], "bpftrace attach time")
    # section 6: each harness counted its inferences; inferlat's main probe counted them all
    z = bench.SMOKE
    made = {"llama.cpp": z["llama_seqs"] * (z["llama_gen"] + 1), "onnxruntime": z["ort_runs"],
            "libtorch": z["torch_runs"]}
    check([r["runtime"] for r in res["runtimes"]] == list(made), "runtimes: %s" % res["runtimes"])
    for row in res["runtimes"]:
        check(row["made"] == made[row["runtime"]] and len(row["without_us"]) == len(row["with"]) == 1,
              "%s: %s" % (row["runtime"], row))
        w = row["with"][0]
        check(w["counted"] == row["made"] and row["counted_all"], "%s: counted %s" % (row["runtime"], w))
        check(w["lost"] == 0 and w["hits"] >= w["counted"], "%s: %s" % (row["runtime"], w))
        check(row["without_us"][0] > 0 and w["mean_us"] > 0, "%s: per-inference times %s" % (row["runtime"], row))
        # the floor and bpftrace at the main probe's site, which inferlat -v reported
        check(len(row["floor_us"]) == len(row["bpftrace_us"]) == 1 and row["floor_us"][0] > 0 and
              row["bpftrace_us"][0] > 0, "%s: floor and bpftrace times %s" % (row["runtime"], row))
        st = row["site"]
        check(st["site"] > 0 and st["entry"] in (st["site"], st["site"] - 4) and os.path.isabs(st["lib"]),
              "%s: main probe site %s" % (row["runtime"], st))
    check([r["mode"] for r in res["syscalls"]] == ["devnull", "getppid", "http"], "syscall loops")
    for row in res["syscalls"]:
        check(all(len(row["ns"][t]) == 1 and row["ns"][t][0] > 0 for t in bench.SYS_TOOLS),
              "syscalls %s: %s" % (row["mode"], row["ns"]))
    # section 8: every configuration ran both perf benchmarks and perf's figure was read
    check([(r["tool"], r["whom"]) for r in res["host"]] == [(t, w) for t, w, _ in bench.HOST_CONFIGS],
          "host rows: %s" % res["host"])
    for row in res["host"]:
        check(all(len(row["ns"][b]) == 1 and row["ns"][b][0] > 0 and row["ratio"][b] > 0
                  for b, _, _ in bench.HOST_BENCHES), "host %s %s: %s" % (row["tool"], row["whom"], row))
    text = open(md).read()
    host = text[text.index("8. Cost to the rest of the host"):]
    for tool, whom, met in (("none", "-", "-"), ("inferlat", "another process", r"yes|\*\*no\*\*"),
                            ("inferlat --http", "another process", r"yes|\*\*no\*\*"),
                            ("inferlat", "perf itself", "-"), ("inferlat --http", "perf itself", "-")):
        row = r"^\| %s \| %s \| \d+ / \d+ \| [\d.]+x \| \d+ / \d+ \| [\d.]+x \| (%s) \|$" % (
            re.escape(tool), re.escape(whom), met)
        check(re.search(row, host, re.M), "section 8 lacks the row %s, %s: %s" % (tool, whom, host[:3000]))
    check(sum("untraced process per" in l for l in text.splitlines()) == 4,
          "the host budget's four targets")
    for r in res["runtimes"]:
        check("| %s | " % r["runtime"] in text and "yes (%d of %d)" % (r["made"], r["made"]) in text,
              "section 6 lacks %s's row" % r["runtime"])
    for title in ("1. Added cost", "2. Loss", "3. Agent footprint", "4. Accuracy", "5. Attach time",
                  "6. Overhead on real runtimes", "7. Cost per syscall", "8. Cost to the rest of the host",
                  "Targets", bench.NOTES):
        check(title in text, "%r missing in the markdown" % title)
