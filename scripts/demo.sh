#!/usr/bin/env bash
# make demo: run the bundled fixture "inference server" and profile it live.
# The server answers ~150 requests/s on 2 threads with log-normal latencies
# (busy CPU plus waiting) and fails one request in 50.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${OUTPUT:-build}
secs=${DEMO_SECONDS:-8}

"$build/fixtures/infer-server" -n 1000000 -t 2 -r 75 -s lognormal:2000,0.5 -b uniform:100,600 -f 50 >/dev/null &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT

echo "profiling infer-server (PID $server) for ${secs}s: inferlat -p $server -e libinfer.so:infer_run -E 'ret<0' -d $secs"
sleep 0.2
"$build/inferlat" -p "$server" -e libinfer.so:infer_run -E 'ret<0' -d "$secs"
