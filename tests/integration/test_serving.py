# SPDX-License-Identifier: GPL-2.0
"""inferlat -r llama.cpp on a real serving stack: the node-llama-cpp server of
the test bed (2 sequences batched into shared llama_decode calls) under 1, 2
and 4 closed-loop clients. The load generator's own clocks and the decode
shim's log are the truth; inferlat's requests come from the sequences the
batches carry, nothing else."""
import os
import time

import promstack
from harness import Inferlat, TestFailure, check, exact_quantile
from test_prometheus import PRESET_ONLY, exported_names
from test_servebed import LLAMA_BINS, NLC, NODE, SHIM, SRC_FIXTURES, jsonl, loadgen, make_model

SEQUENCES = 2
REQUESTS = 6    # per client
MAX_TOKENS = 16


class ServedUnderInferlat:
    """The bed's server started by inferlat (-r llama.cpp -- env ... node
    llama-server.mjs), so the model load's llama_tokenize size query is
    traced too; the decode shim goes into the server's environment only.
    The server's 'ready PID PORT' line lands in inferlat's stdout."""

    def __init__(self, wd, model, *args, name, threads=1):
        for path in (NLC, os.path.join(LLAMA_BINS, "libllama.v0.5.0.so"), SHIM):
            check(os.path.exists(path), "%s missing: run make deps and make fixtures" % path)
        self.decode_log = wd.file(name + "-decode.jsonl")
        server = ["env", "LD_PRELOAD=" + SHIM, "DECODE_LOG=" + self.decode_log, NODE,
                  os.path.join(SRC_FIXTURES, "llama-server.mjs"), "--model", model, "--port", "0",
                  "--sequences", SEQUENCES, "--threads", threads, "--max-tokens", MAX_TOKENS]
        self.il = Inferlat(wd, "-r", "llama.cpp", "-i", "1", *args, "--", *server)
        deadline = time.time() + 120
        while True:
            ready = [l.split() for l in self.il.stdout().splitlines() if l.startswith("ready ")]
            if ready:
                self.pid, self.port = int(ready[0][1]), int(ready[0][2])
                break
            if self.il.proc.poll() is not None or time.time() > deadline:
                self.il.kill()
                raise TestFailure("the server under inferlat did not start: %s" % self.il.stderr()[-2000:])
            time.sleep(0.05)

    def stop(self):
        """SIGTERM to the server; inferlat ends with its command and returns
        its exit status."""
        try:
            # the server's own CPU time so far, from the kernel
            with open("/proc/%d/stat" % self.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            self.cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            os.kill(self.pid, 15)
            return self.il.wait(60)
        finally:
            self.il.kill()

    def decodes(self):
        return [r for r in jsonl(self.decode_log) if r["fn"] == "llama_decode"]


def gaps(recs):
    return [b - a for r in recs for a, b in zip(r["token_ns"], r["token_ns"][1:])]


def check_close(name, got_s, want_ns, rel, floor_ms):
    want = want_ns / 1e9
    tol = max(rel * want, floor_ms / 1e3)
    check(abs(got_s - want) <= tol, "%s: inferlat %.3f ms, the clients measured %.3f ms (allowed %.3f ms)"
          % (name, got_s * 1e3, want * 1e3, tol * 1e3))


def served(wd, model, clients, bad=0, slo=(), threads=1, extra=()):
    args = list(extra)
    for s in slo:
        args += ["--slo", s]
    srv = ServedUnderInferlat(wd, model, *args, name="c%d" % clients, threads=threads)
    try:
        recs, _ = loadgen(wd, srv.port, clients, REQUESTS, bad, name="lg%d" % clients)
    except Exception:
        srv.stop()
        raise
    rc = srv.stop()
    return srv, recs, rc


def check_requests(srv, recs):
    """The requests object of llama_decode's final record against the
    clients' log and the decode shim's."""
    il = srv.il
    good = [r for r in recs if not r["bad"]]
    check(good and all(r["status"] == 200 for r in good), "loadgen: %s" % [r for r in good if r["status"] != 200])
    finals = il.final("llama_decode")
    check(len(finals) == 1, "final llama_decode records: %s" % finals)
    d = finals[0]
    q = d["requests"]
    # a request per good HTTP request (the bad ones never reach llama.cpp),
    # those whose first sampled token was the end of generation included
    check(q["count"] == len(good) and q["started"] == len(good),
          "requests %d (started %d), the clients made %d good ones" % (q["count"], q["started"], len(good)))
    want_prompt = sum(r["prompt_tokens"] for r in good)
    check(q["prompt_tokens"] == want_prompt, "prompt tokens %d, the server tokenized %d"
          % (q["prompt_tokens"], want_prompt))
    # inferlat counts a token per decode that outputs the sequence's logits;
    # a request that stops at the end-of-generation token had one more such
    # decode than the client received tokens (the EOG one, never sent):
    # within one per request, exact with that known
    client_gen = sum(r["generated_tokens"] for r in good)
    eog = sum(1 for r in good if r["eog"])
    check(abs(q["generated_tokens"] - client_gen) <= len(good) and q["generated_tokens"] == client_gen + eog,
          "generated %d, the clients received %d (+%d EOG)" % (q["generated_tokens"], client_gen, eog))
    # inter-token latency: decode end to decode end against chunk to chunk
    g = gaps(good)
    itl = q["inter_token_s"]
    check_close("inter-token mean", itl["mean"], sum(g) / len(g), 0.10, 0.5)
    check_close("inter-token p50", itl["p50"], exact_quantile(g, 0.5), 0.10, 0.5)
    # prefill (first prompt batch to the decode that ends the prompt) is a
    # part of every request's time to first token, so each order statistic
    # is at or below the clients' (1% for the histogram's resolution)
    ttft = [r["first_token_ns"] - r["start_ns"] for r in good if r["first_token_ns"] is not None]
    pf = q["prefill_s"]
    check(pf["count"] == len(good), "prefill count %d, %d requests" % (pf["count"], len(good)))
    for k, want in (("mean", sum(ttft) / len(ttft)), ("p50", exact_quantile(ttft, 0.5)), ("max", max(ttft))):
        check(pf[k] <= want / 1e9 * 1.01, "prefill %s %.3f ms above the clients' time to first token %.3f ms"
              % (k, pf[k] * 1e3, want / 1e6))
    # batch occupancy, against the shim's record of every batch
    decodes = srv.decodes()
    check(d["calls"] == len(decodes), "llama_decode calls %d, the shim logged %d" % (d["calls"], len(decodes)))
    spd = q["sequences_per_decode"]
    want_spd = sum(len([e for e in x["seqs"] if e["n"] > 0]) for x in decodes) / len(decodes)
    check(spd["decodes"] == len(decodes) and 1 <= spd["mean"] <= 2 and abs(spd["mean"] - want_spd) < 1e-3
          and spd["max"] <= SEQUENCES, "sequences per decode %s, the shim's batches %.4f" % (spd, want_spd))
    # a healthy server: no errors on any probe of the preset
    for r in il.final():
        check(r["errors"] == 0, "%s: %d errors on a healthy server" % (r["probe"], r["errors"]))
    # the server's CPU: cores over the whole run, not the last short window
    # (sampled once a window: from the first sample to the last one before
    # the exit, at most a window and the node start-up short of the run)
    proc = d["process"]
    seen_min = d["window_s"] - 1.0 - 0.6
    check(0 < proc["cpu_s"] <= srv.cpu_s + 0.02 and "cpu_cores" in proc
          and proc["cpu_s"] / d["window_s"] <= proc["cpu_cores"]
          <= (srv.cpu_s / seen_min if seen_min > 0.2 else os.cpu_count()),
          "final process %s over %.2f s; the kernel counted %.2f s CPU" % (proc, d["window_s"], srv.cpu_s))
    ttft_ms = sum(ttft) / len(ttft) / 1e6
    return ("%d req: prefill mean %.2f ms (client TTFT %.2f); ITL mean %.3f/%.3f p50 %.3f/%.3f ms; "
            "gen %d (client %d+%d EOG); seq/decode %.3f; server %.2f cores"
            % (len(good), pf["mean"] * 1e3, ttft_ms, itl["mean"] * 1e3, sum(g) / len(g) / 1e6,
               itl["p50"] * 1e3, exact_quantile(g, 0.5) / 1e6, q["generated_tokens"], client_gen, eog, spd["mean"],
               proc["cpu_cores"]))


def test_serving_one_client(wd):
    """... and the textfile: the request families the dashboard and the
    time-to-first-token rule use are there, promtool-clean, with the JSON's
    counts."""
    tdir = wd.file("tf")
    os.makedirs(tdir)
    srv, recs, rc = served(wd, make_model(wd), 1, extra=["--textfile-dir", tdir])
    check(rc == 0, "inferlat exited %d: %s" % (rc, srv.il.stderr()[-2000:]))
    note = check_requests(srv, recs)
    with open(os.path.join(tdir, "inferlat.prom")) as f:
        text = f.read()
    rc, msg = promstack.promtool_check_metrics(text)
    check(rc == 0 and msg == "", "promtool check metrics: rc %d: %s" % (rc, msg))
    missing = PRESET_ONLY - exported_names(text)
    check(not missing, "not in a llama.cpp server's textfile: %s" % missing)
    # the preset's default probes only: ggml's graph compute, nested inside
    # llama_decode, is --breakdown's (test_runtimes.test_llama_breakdown)
    probes = set(r["probe"] for r in srv.il.records())
    check(any(p.endswith(":llama_decode") for p in probes) and not [p for p in probes if "ggml" in p]
          and "ggml" not in text, "a ggml probe without --breakdown: %s" % probes)
    q = srv.il.final("llama_decode")[0]["requests"]
    _, samples = promstack.parse_textfile(text)
    val = {}
    for name, labels, v in samples:
        val[(name, labels.get("token_type"), labels.get("le"))] = v
    want = {("inferlat_gen_ai_server_requests_total", None, None): q["count"],
            ("inferlat_gen_ai_server_tokens_total", "input", None): q["prompt_tokens"],
            ("inferlat_gen_ai_server_tokens_total", "output", None): q["generated_tokens"],
            ("inferlat_gen_ai_server_time_to_first_token_seconds_count", None, None): q["prefill_s"]["count"],
            ("inferlat_gen_ai_server_time_per_output_token_seconds_count", None, None): q["inter_token_s"]["count"]}
    got = {k: val.get(k) for k in want}
    check(got == want, "textfile %s, JSON %s" % (got, want))
    return note


def test_serving_two_clients_slo_errors_passes(wd):
    """2 clients, malformed requests among them (400, no decode): the error
    SLO holds (llama_tokenize's size query at model load is no error)."""
    srv, recs, rc = served(wd, make_model(wd), 2, bad=3, slo=["errors<1%"])
    note = check_requests(srv, recs)
    check(rc == 0, "inferlat exited %d with --slo 'errors<1%%' on a healthy server: %s"
          % (rc, srv.il.stderr()[-2000:]))
    tok = [r for r in jsonl(srv.decode_log) if r["fn"] == "llama_tokenize"]
    check(any(r["ret"] < 0 for r in tok), "no llama_tokenize size query in the shim's log: %s" % tok[:4])
    t = srv.il.final("llama_tokenize")
    check(len(t) == 1 and t[0]["calls"] == len(tok) and t[0]["errors"] == 0,
          "llama_tokenize: %s, the shim logged %d calls" % (t, len(tok)))
    return note


def test_serving_four_clients_queue(wd):
    """4 clients on 2 sequences: requests wait for a sequence; the prefill
    stays the sequence's own, the clients' time to first token grows."""
    srv, recs, rc = served(wd, make_model(wd), 4)
    check(rc == 0, "inferlat exited %d: %s" % (rc, srv.il.stderr()[-2000:]))
    return check_requests(srv, recs)


def test_serving_two_threads_cores_in_calls(wd):
    """ggml at 2 threads: each llama_decode keeps two threads busy. inferlat's
    cores in use while llama_decode ran (all the server's threads, read in
    the kernel at each call's ends) against the decode shim's
    CLOCK_PROCESS_CPUTIME_ID around every call."""
    srv, recs, rc = served(wd, make_model(wd), 1, threads=2)
    check(rc == 0, "inferlat exited %d: %s" % (rc, srv.il.stderr()[-2000:]))
    note = check_requests(srv, recs)
    decodes = srv.decodes()
    want = sum(x["process_cpu_ns"] for x in decodes) / sum(x["end_ns"] - x["start_ns"] for x in decodes)
    d = srv.il.final("llama_decode")[0]
    got = d.get("cores_in_calls")
    check(got is not None and abs(got - want) <= 0.10 * want,
          "cores while llama_decode ran: inferlat %s, the shim %.3f" % (got, want))
    # the tiny model's decodes are short: ggml's second thread does a
    # small share; still the caller's thread alone (at most one core) is
    # below what the process used
    caller = d["cpu_s"] / (d["latency_s"]["mean"] * d["calls"])
    check(got > 1.0 and got > caller + 0.03,
          "%.2f cores during llama_decode, its caller's thread alone %.2f: the pool is not seen" % (got, caller))
    return "llama_decode: %.2f cores (shim %.2f), the caller's thread alone %.2f; %s" % (got, want, caller, note)
