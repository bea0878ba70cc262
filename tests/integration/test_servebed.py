# SPDX-License-Identifier: GPL-2.0
"""The serving test bed: a real token-streaming HTTP server on node-llama-cpp
(tests/fixtures/llama-server.mjs) under decode-log.so (every llama_decode
batch and llama_tokenize call, logged by the shim), driven by a closed-loop
load generator keeping its own clocks (tests/fixtures/llama-loadgen.mjs).
This test holds the bed's three records to each other, so that request-level
tests can take them as ground truth: what the clients saw, what the server
says it served, and what llama.cpp was handed. No inferlat here."""
import json
import os
import signal
import subprocess

from harness import FIXTURES, ROOT, check, run

RUNTIMES = os.path.join(ROOT, "runtimes", "node_modules")
NLC = os.path.join(RUNTIMES, "node-llama-cpp", "package.json")
LLAMA_BINS = os.path.join(RUNTIMES, "@node-llama-cpp", "linux-x64", "bins", "linux-x64")
SRC_FIXTURES = os.path.join(ROOT, "tests", "fixtures")
SHIM = os.path.join(FIXTURES, "decode-log.so")
NODE = "node"
PY = "/usr/bin/python3"


def make_model(wd):
    model = wd.file("tiny.gguf")
    r = run([PY, os.path.join(SRC_FIXTURES, "make-gguf-llama.py"), model], timeout=120)
    check(r.returncode == 0, "make-gguf-llama.py: %s" % r.stderr)
    return model


class BedServer:
    """llama-server.mjs under the decode shim, on a free port; it prints
    'ready PID PORT' once the model is loaded and the port listens."""

    def __init__(self, wd, model, sequences=2, threads=1, max_tokens=16, name="bed"):
        for path, what in ((NLC, "node-llama-cpp"), (os.path.join(LLAMA_BINS, "libllama.v0.5.0.so"),
                                                      "@node-llama-cpp/linux-x64")):
            check(os.path.exists(path), "%s missing (%s): run make deps (scripts/runtimes.sh)" % (what, path))
        check(os.path.exists(SHIM), "%s missing: make fixtures" % SHIM)
        self.decode_log = wd.file(name + "-decode.jsonl")
        self.server_log = wd.file(name + "-server.jsonl")
        self.err_path = wd.file(name + "-server.err")
        env = dict(os.environ, LD_PRELOAD=SHIM, DECODE_LOG=self.decode_log)
        cmd = [NODE, os.path.join(SRC_FIXTURES, "llama-server.mjs"), "--model", model, "--port", "0",
               "--sequences", str(sequences), "--threads", str(threads), "--max-tokens", str(max_tokens),
               "--log", self.server_log]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(self.err_path, "w"),
                                     text=True, env=env)
        line = self.proc.stdout.readline().split()
        check(len(line) == 3 and line[0] == "ready", "llama-server did not start: %r; %s" % (line, self.stderr()))
        self.pid, self.port = int(line[1]), int(line[2])

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()[-2000:]

    def stop(self, timeout=30):
        """SIGTERM: the server exits 0."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("llama-server did not stop at SIGTERM within %ds" % timeout)
        check(rc == 0, "llama-server exited %d at SIGTERM: %s" % (rc, self.stderr()))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def decodes(self):
        return [r for r in jsonl(self.decode_log) if r["fn"] == "llama_decode"]

    def shim_records(self, fn):
        return [r for r in jsonl(self.decode_log) if r["fn"] == fn]

    def served(self):
        return jsonl(self.server_log)


def jsonl(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def loadgen(wd, port, clients, requests, bad=0, max_tokens=None, name="lg", timeout=300, prefix=()):
    """Runs the load generator to its end; returns its per-request records
    and its summary line."""
    log = wd.file(name + ".jsonl")
    cmd = list(prefix) + [NODE, os.path.join(SRC_FIXTURES, "llama-loadgen.mjs"), "--port", port, "--clients", clients,
           "--requests", requests, "--bad", bad, "--log", log]
    if max_tokens is not None:
        cmd += ["--max-tokens", max_tokens]
    r = run(cmd, timeout=timeout)
    check(r.returncode == 0, "loadgen exited %d: %s" % (r.returncode, r.stderr.strip()))
    return jsonl(log), r.stdout.strip()


def segments(decodes):
    """Cuts each sequence's decodes into requests: a request's sequence starts
    again at position 0. Returns {seq: [segment]}, a segment being
    {"decodes": [(decode, entry)], "prompt_tokens", "logits_decodes",
    "tokens", "start_ns", "end_ns", "contiguous"}: the prompt is what was
    decoded up to and including the first batch with a logits flag for the
    sequence (the prompt's last token); "contiguous": every batch goes on
    where the one before stopped."""
    by_seq = {}
    for d in decodes:
        for e in d["seqs"]:
            if e["n"] == 0:
                continue
            segs = by_seq.setdefault(e["seq"], [])
            if e.get("pos_min") == 0 or not segs:
                segs.append({"decodes": []})
            segs[-1]["decodes"].append((d, e))
    for segs in by_seq.values():
        for s in segs:
            ds = s["decodes"]
            prompt, logits_seen = 0, False
            for _, e in ds:
                if not logits_seen:
                    prompt += e["n"]
                logits_seen = logits_seen or (e["logits"] or 0) > 0
            s["prompt_tokens"] = prompt
            s["logits_decodes"] = sum(1 for _, e in ds if (e["logits"] or 0) > 0)
            s["tokens"] = sum(e["n"] for _, e in ds)
            s["start_ns"] = ds[0][0]["start_ns"]
            s["end_ns"] = ds[-1][0]["end_ns"]
            s["contiguous"] = ds[0][1]["pos_min"] == 0 and all(
                b["pos_min"] == a["pos_max"] + 1 and b["pos_max"] - b["pos_min"] + 1 == b["n"]
                for (_, a), (_, b) in zip(ds, ds[1:]))
    return by_seq


def match(recs, by_seq):
    """Pairs the clients' good requests with the decode log's segments: the
    k-th request (by start) the server ran on sequence s with the k-th
    segment of s (a sequence serves one request at a time)."""
    pairs = []
    for seq, segs in by_seq.items():
        rs = sorted((r for r in recs if not r["bad"] and r["seq"] == seq), key=lambda r: r["start_ns"])
        check(len(rs) == len(segs), "sequence %s: %d requests, %d segments in the decode log"
              % (seq, len(rs), len(segs)))
        pairs += list(zip(rs, segs))
    return pairs


CLIENTS, REQUESTS, BAD = 2, 8, 2


def test_serving_bed_ground_truth(wd):
    model = make_model(wd)
    srv = BedServer(wd, model, sequences=2, threads=1, max_tokens=16)
    try:
        recs, summary = loadgen(wd, srv.port, CLIENTS, REQUESTS, BAD)
    finally:
        try:
            srv.stop()
        finally:
            srv.kill()
    good = [r for r in recs if not r["bad"]]
    bad = [r for r in recs if r["bad"]]
    check(len(good) == CLIENTS * REQUESTS and len(bad) == BAD, "loadgen records: %d good, %d bad"
          % (len(good), len(bad)))
    first_eog = [r for r in good if r["eog"] and r["generated_tokens"] == 0]
    for r in good:
        # >= 1 token, but for a prompt whose first sampled token ends the
        # generation (the tiny model does that for one of these prompts):
        # 200 and a final line with no token before it, eog true
        check(r["status"] == 200 and (r["tokens"] >= 1 or r in first_eog), "good request: %s" % r)
        check(len(r["token_ns"]) == r["tokens"] == r["generated_tokens"], "token count: %s" % r)
        check(r["token_ns"] == sorted(r["token_ns"]) and
              all(r["start_ns"] <= t <= r["end_ns"] for t in r["token_ns"]) and
              r["first_token_ns"] == (r["token_ns"][0] if r["token_ns"] else None), "client clock order: %s" % r)
    check(len(first_eog) <= 2, "%d requests ended at once with EOG" % len(first_eog))
    for r in bad:
        check(r["status"] == 400 and r["tokens"] == 0, "bad request: %s" % r)

    # the server's own record: one line per request, bad ones too
    served = srv.served()
    check(sorted(s["status"] for s in served) == sorted(r["status"] for r in recs),
          "server log statuses %s" % [s["status"] for s in served])

    # the shim sat between node-llama-cpp's addon and libllama
    real = {r["symbol"]: r["from"] for r in srv.shim_records("resolve")}
    check(os.path.basename(real.get("llama_decode", "")) == "libllama.v0.5.0.so",
          "decode-log.so found the real llama_decode in %s" % real)
    decodes = srv.decodes()
    check(decodes and all(d["ret"] == 0 for d in decodes), "decode log: %d decodes, failed: %s"
          % (len(decodes), [d for d in decodes if d["ret"] != 0][:3]))
    check(all(e["seq"] >= 0 and e["pos_min"] is not None for d in decodes for e in d["seqs"]),
          "node-llama-cpp hands llama_decode batches with seq_id and pos arrays")
    shared = [d for d in decodes if len(d["seqs"]) >= 2]
    check(shared, "no llama_decode carried 2 sequences in %d decodes" % len(decodes))
    by_seq = segments(decodes)
    check(set(by_seq) <= {0, 1}, "sequence ids %s (2 sequences)" % sorted(by_seq))
    eog = 0
    for r, s in match(recs, by_seq):
        check(s["contiguous"], "request %s: its sequence's positions are not contiguous from 0" % r)
        check(r["prompt_tokens"] == s["prompt_tokens"], "client %d request %d: prompt_tokens %d, the decode log "
              "shows %d" % (r["client"], r["i"], r["prompt_tokens"], s["prompt_tokens"]))
        # a logits-decode per sampled token: the generated ones, plus the EOG one
        want = r["generated_tokens"] + (1 if r["eog"] else 0)
        check(s["logits_decodes"] == want, "client %d request %d: %d decodes with logits, generated %d, eog %s"
              % (r["client"], r["i"], s["logits_decodes"], r["generated_tokens"], r["eog"]))
        check(r["start_ns"] <= s["start_ns"] and s["end_ns"] <= r["end_ns"],
              "client %d request %d: decodes outside the request's own span" % (r["client"], r["i"]))
        eog += bool(r["eog"])
    tok = srv.shim_records("llama_tokenize")
    wall = (max(r["end_ns"] for r in recs) - min(r["start_ns"] for r in recs)) / 1e9
    return ("%d requests + %d bad in %.2f s; %d llama_decode, %d with 2 sequences; prompts %d..%d tokens; "
            "%d stopped at EOG (%d before any token); %d llama_tokenize"
            % (len(good), len(bad), wall, len(decodes), len(shared), min(r["prompt_tokens"] for r in good),
               max(r["prompt_tokens"] for r in good), eog, len(first_eog), len(tok)))
