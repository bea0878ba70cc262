#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [--double]: the bundle's device check (scripts/gpu-check.sh bundle).
# On the GPU machine: builds gpu-work with nvcc, runs it under inferlat -r cuda
# and once under a glob over every exported cuda*/cu* function, and checks
# inferlat's figures against the workload's own log. --double: the same
# against the CUDA test double, on any machine. Prints one line per check and
# "N passed, N failed"; exits 1 on any failure.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/inferlat-gpu.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ "${1:-}" = "--double" ]; then
	prog="$here/double/gpu-work"
else
	command -v nvcc >/dev/null || { echo "run.sh: no nvcc on PATH (on a machine without a GPU: --double)" >&2; exit 1; }
	nvcc -O2 -o "$work/gpu-work" "$here/work/gpu-work.cu" || { echo "run.sh: nvcc failed" >&2; exit 1; }
	prog="$work/gpu-work"
fi

"$here/inferlat" -q -r cuda --json "$work/preset.jsonl" -- "$prog" "$work/work.json" 2>"$work/preset.err" ||
	{ echo "run.sh: inferlat -r cuda failed: $(tail -3 "$work/preset.err")" >&2; exit 1; }
"$here/inferlat" -q -e 'libcudart.so*:cuda*' -e 'libcuda.so*:cu*' --json "$work/glob.jsonl" \
	-- "$prog" "$work/work-glob.json" 2>"$work/glob.err" ||
	{ echo "run.sh: inferlat over the cuda*/cu* globs failed: $(tail -3 "$work/glob.err")" >&2; exit 1; }
python3 "$here/check.py" "$work/work.json" "$work/preset.jsonl" "$work/glob.jsonl"
