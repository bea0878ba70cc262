#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# gpu-check.sh bundle DIR: inferlat made to run on a machine that has none of
# its libraries and no package manager (the project's GPU machine): the
# binary, linked to find its libraries in DIR/lib ($ORIGIN), and every shared
# library it needs beside it except the C library's own, which the device
# has. The BPF object is CO-RE and embedded in the binary: it loads against
# the device kernel's BTF. With them, the device check: DIR/run.sh (on the
# GPU machine) and DIR/run.sh --double (here, against the CUDA test double).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
MAX_BYTES=$((48 << 20))   # what may be sent to the device, with room to spare

log() { echo "gpu-check: $*" >&2; }
die() { log "$*"; exit 1; }

# glibc's own libraries: the device's must be used with its loader
is_libc() {
	case "$(basename "$1")" in
	ld-linux*|libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*) return 0 ;;
	esac
	return 1
}

bundle() {
	local dir=$1 build lib
	mkdir -p "$dir/lib"
	dir=$(cd "$dir" && pwd)
	build="$dir/.build"
	# its own build directory, so the project's build/ keeps its plain binary;
	# DT_RPATH, not RUNPATH: it also serves the libraries' own dependencies
	make -C "$here" -s OUTPUT="$build" EXTRA_LDFLAGS="-Wl,--disable-new-dtags,-rpath,'\$\$ORIGIN/lib'" "$build/inferlat" \
		|| die "building inferlat failed"
	install -m 0755 "$build/inferlat" "$dir/inferlat"
	# the device check: its workload's source (nvcc builds it there), the
	# script and its checker; and for --double the CUDA test double with
	# the workload built against it
	make -C "$here" -s OUTPUT="$build" "$build/fixtures/cuda-double/libcudart.so.12" \
		"$build/fixtures/cuda-double/libcuda.so.1" || die "building the CUDA test double failed"
	mkdir -p "$dir/work" "$dir/double"
	install -m 0644 "$here/tests/gpu/gpu-work.cu" "$here/tests/gpu/torch-work.py" "$dir/work/"
	install -m 0755 "$here/tests/gpu/run.sh" "$here/tests/gpu/check.py" "$dir/"
	install -m 0755 "$build/fixtures/cuda-double/libcudart.so.12" "$build/fixtures/cuda-double/libcuda.so.1" \
		"$dir/double/"
	${CC:-cc} -O2 -g -fno-omit-frame-pointer -DGPU_DOUBLE -I"$here/tests/fixtures" -x c "$here/tests/gpu/gpu-work.cu" -x none \
		"$dir/double/libcudart.so.12" -Wl,-rpath,'$ORIGIN' -o "$dir/double/gpu-work" ||
		die "building gpu-work against the test double failed"
	rm -rf "$build"
	# ldd resolves through the rpath, which is empty yet: the system's copies
	while read -r lib; do
		is_libc "$lib" && continue
		cp -L "$lib" "$dir/lib/"
	done < <(ldd "$dir/inferlat" | awk '$3 ~ /^\// { print $3 }')
	local size
	size=$(du -sb "$dir" | cut -f1)
	[ "$size" -le "$MAX_BYTES" ] || die "$dir is $size bytes, over the $MAX_BYTES the device accepts"
	log "wrote $dir: inferlat and $(ls "$dir/lib" | wc -l) libraries, $((size >> 20)) MiB"
}

case "${1:-}" in
bundle)
	[ $# -eq 2 ] || die "usage: gpu-check.sh bundle DIR"
	bundle "$2"
	;;
*)
	die "usage: gpu-check.sh bundle DIR"
	;;
esac
