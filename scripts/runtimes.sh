#!/usr/bin/env bash
# Installs the inference runtimes the runtime-preset tests run against, from
# npm, into runtimes/ (git-ignored): prebuilt llama.cpp (@node-llama-cpp/
# linux-x64), its JavaScript API (node-llama-cpp: the serving test bed's HTTP
# server runs on it) and ONNX Runtime (onnxruntime-node). --ignore-scripts:
# nothing of theirs runs at install, and nothing is downloaded at test time.
# --omit=optional: node-llama-cpp lists every platform's prebuilt binaries
# (CUDA, Vulkan, arm: ~700 MB) as optional dependencies; the one named here
# explicitly (@node-llama-cpp/linux-x64) still installs.
# Exact versions: the tests link the library file names these carry.
# Idempotent: prints one line when all three are present; --check prints nothing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR="$ROOT/runtimes"
LLAMA_PKG="@node-llama-cpp/linux-x64@3.22.1"
LLAMA_JS_PKG="node-llama-cpp@3.22.1"
ORT_PKG="onnxruntime-node@1.30.0"

log() { printf 'runtimes: %s\n' "$*" >&2; }

have() {
	[ -e "$DIR/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libllama.v0.5.0.so" ] &&
		[ -e "$DIR/node_modules/node-llama-cpp/package.json" ] &&
		[ -e "$DIR/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1" ] &&
		[ -e "$DIR/node_modules/onnxruntime-common/package.json" ]
}

# --check: present or not, by the exit status alone
if [ "${1:-}" = --check ]; then
	have
	exit
fi
if have; then
	log "llama.cpp, node-llama-cpp and ONNX Runtime present in runtimes/"
	exit 0
fi
command -v npm >/dev/null || { log "npm is missing: run scripts/deps.sh first"; exit 1; }
mkdir -p "$DIR"
[ -e "$DIR/package.json" ] || echo '{"name": "inferlat-test-runtimes", "private": true}' >"$DIR/package.json"
log "npm install --ignore-scripts --omit=optional $LLAMA_PKG $LLAMA_JS_PKG $ORT_PKG (about 380 MB)"
(cd "$DIR" && npm install --ignore-scripts --omit=optional --no-audit --no-fund --loglevel=error \
	"$LLAMA_PKG" "$LLAMA_JS_PKG" "$ORT_PKG" >/dev/null)
have || { log "the packages installed, but the libraries are not where expected: check runtimes/node_modules"; exit 1; }
log "done"
