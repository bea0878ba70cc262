#!/usr/bin/env bash
# make demo: a real LLM server profiled live. The bundled node-llama-cpp
# server (tests/fixtures/llama-server.mjs: 2 parallel sequences batched into
# shared llama_decode calls, one streamed chunk per token) serves a tiny
# GGUF model made here; the bundled load generator keeps 2 clients busy;
# inferlat -r llama.cpp shows requests, tokens/s, prefill and inter-token
# latency, decode calls, the cores ggml used, CPU and memory.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${OUTPUT:-build}
secs=${DEMO_SECONDS:-8}
nlc=runtimes/node_modules/node-llama-cpp/package.json

if [ ! -e "$nlc" ]; then
	echo "demo: node-llama-cpp is not installed: run make deps" >&2
	exit 1
fi
tmp=$(mktemp -d /tmp/inferlat-demo.XXXXXX)
server= load=
cleanup() {
	[ -n "$load" ] && kill "$load" 2>/dev/null
	[ -n "$server" ] && kill "$server" 2>/dev/null
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

python3 tests/fixtures/make-gguf-llama.py "$tmp/tiny.gguf"
node tests/fixtures/llama-server.mjs --model "$tmp/tiny.gguf" --port 0 --sequences 2 --threads 1 \
	>"$tmp/server.out" 2>"$tmp/server.err" &
server=$!
for _ in $(seq 600); do
	grep -q '^ready ' "$tmp/server.out" && break
	if ! kill -0 "$server" 2>/dev/null; then
		echo "demo: the server did not start: $(tail -3 "$tmp/server.err")" >&2
		exit 1
	fi
	sleep 0.1
done
read -r _ pid port < <(grep '^ready ' "$tmp/server.out")
# more requests than the run lasts: the clients stay busy until the end
node tests/fixtures/llama-loadgen.mjs --port "$port" --clients 2 --requests 100000 --bad 0 \
	--log "$tmp/load.jsonl" >/dev/null 2>&1 &
load=$!

echo "profiling the node-llama-cpp server (PID $pid, port $port, 2 clients) for ${secs}s:"
echo "  inferlat -p $pid -r llama.cpp -d $secs"
"$build/inferlat" -p "$pid" -r llama.cpp -d "$secs"
