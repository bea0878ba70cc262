#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [--double]: the bundle's device check (scripts/gpu-check.sh bundle).
# On the GPU machine: builds gpu-work with nvcc and runs it, then the PyTorch
# workload, each under inferlat -r cuda and once under a glob over every
# exported cuda*/cu* function (which entry points they really call), and
# checks inferlat's figures against the workloads' own logs. --double: the
# C workload's checks against the CUDA test double, on any machine. One line
# per check, then "N passed, N failed"; exits 1 on any failure.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/inferlat-gpu.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

die() { echo "run.sh: $*" >&2; exit 1; }

# traced NAME LOG CMD...: CMD under -r cuda, then under the globs
traced() {
	local name=$1 log=$2
	shift 2
	"$here/inferlat" -q -r cuda --json "$work/$name.jsonl" -- "$@" "$log" 2>"$work/$name.err" ||
		die "inferlat -r cuda on $name failed: $(tail -3 "$work/$name.err")"
	"$here/inferlat" -q -e 'libcudart.so*:cuda*' -e 'libcuda.so*:cu*' --json "$work/$name-glob.jsonl" \
		-- "$@" "$log.glob" 2>"$work/$name-glob.err" ||
		die "inferlat over the cuda*/cu* globs on $name failed: $(tail -3 "$work/$name-glob.err")"
}

# checks ARGS...: check.py's lines, its summary added to the total
checks() {
	local out p f
	out=$(python3 "$here/check.py" "$@")
	echo "$out" | sed '$d'
	read -r p _ f _ < <(echo "$out" | tail -1)
	passed=$((passed + p)) failed=$((failed + f))
}

if [ "${1:-}" = "--double" ]; then
	prog="$here/double/gpu-work"
else
	command -v nvcc >/dev/null || die "no nvcc on PATH (on a machine without a GPU: --double)"
	nvcc -O2 -o "$work/gpu-work" "$here/work/gpu-work.cu" || die "nvcc failed"
	prog="$work/gpu-work"
fi
traced work "$work/work.json" "$prog"
checks "$work/work.json" "$work/work.jsonl" "$work/work-glob.jsonl"
if [ "${1:-}" != "--double" ]; then
	traced torch "$work/torch.json" python3 "$here/work/torch-work.py"
	checks --torch "$work/torch.json" "$work/torch.jsonl" "$work/torch-glob.jsonl"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
