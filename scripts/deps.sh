#!/usr/bin/env bash
# Installs everything inferlat needs to build, test, benchmark and demo on
# Debian 12 (bookworm). Idempotent: when every package is present at a good
# version it changes nothing and prints nothing but one line. --check only
# says, by its exit status, whether everything is present (any user; make
# test runs the installer only when it is not).
set -euo pipefail

# libbpf >= 1.4 (uprobe.multi, cookies on multi links) and elfutils 0.192 come
# from bookworm-backports; the rest from bookworm itself.
BACKPORTS_PKGS=(libbpf-dev bpftool libelf-dev libdw-dev)
PKGS=(
	make gcc g++ clang llvm pkg-config zlib1g-dev libzstd-dev
	libiberty-dev                    # C++ demangling without return types (DMGL_RET_DROP)
	binutils xz-utils                # test fixtures: strip, objcopy, MiniDebugInfo
	libjson-c-dev                    # reading baselines back (--baseline)
	libcmocka-dev                    # unit tests
	scdoc                            # the man page, build/inferlat.8 from inferlat.8.scd
	libclang-rt-14-dev               # libFuzzer and the sanitizer runtimes for clang 14 (make fuzz)
	valgrind                         # memcheck run in the integration tests
	python3                          # integration test driver (Debian's /usr/bin/python3)
	python3-yaml systemd             # export tests: the DaemonSet example, systemd-analyze verify
	util-linux libcap2-bin           # unshare, setpriv, capsh in tests
	prometheus prometheus-node-exporter   # export tests: promtool, real scrape chain
	bpftrace bpfcc-tools             # benchmark: the tools we compare against
	linux-perf                       # benchmark: perf bench sched pipe, syscall basic (host cost)
	linux-headers-amd64              # bcc compiles against kernel headers; this kernel ships none
	python3-onnx python3-numpy       # ONNX model generation
	libtorch-dev python3-torch       # libtorch runtime tests
	nodejs npm                       # prebuilt llama.cpp / ONNX Runtime from npm
)
MIN_LIBBPF=1.4

log() { printf 'deps: %s\n' "$*" >&2; }

installed() { # pkg -> 0 when installed
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

libbpf_ok() {
	local v
	v=$(dpkg-query -W -f='${Version}' libbpf-dev 2>/dev/null | sed -E 's/^[0-9]+://; s/[-+~].*//') || return 1
	[ -n "$v" ] && dpkg --compare-versions "$v" ge "$MIN_LIBBPF"
}

# node and npm may come from another repository (nodesource); only install
# Debian's when neither is on PATH.
missing=()
for p in "${PKGS[@]}"; do
	case "$p" in
	nodejs) command -v node >/dev/null && continue ;;
	npm) command -v npm >/dev/null && continue ;;
	esac
	installed "$p" || missing+=("$p")
done
need_bpo=0
for p in "${BACKPORTS_PKGS[@]}"; do installed "$p" || need_bpo=1; done
libbpf_ok || need_bpo=1

# the inference runtimes of the preset tests, from npm (scripts/runtimes.sh)
runtimes() { "$(dirname "$0")/runtimes.sh" "$@"; }

if [ "${1:-}" = --check ]; then
	[ ${#missing[@]} -eq 0 ] && [ $need_bpo -eq 0 ] && runtimes --check
	exit
fi
if [ "$(id -u)" -ne 0 ]; then
	log "must run as root (it installs Debian packages): sudo make deps"
	exit 1
fi

if [ ${#missing[@]} -eq 0 ] && [ $need_bpo -eq 0 ]; then
	log "all dependencies present"
	runtimes
	exit 0
fi

# Reuse the mirror the machine already uses for bookworm; never name one here.
enable_backports() {
	if grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		return 0
	fi
	local uri
	uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '{print $2}' | grep -vE 'security|nodesource|google' | head -n1 || true)
	if [ -z "$uri" ]; then
		uri=$(grep -hsE '^deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			grep -E '[[:space:]]bookworm[[:space:]]' | awk '{print $2}' | head -n1 || true)
	fi
	if [ -z "$uri" ]; then
		log "cannot find the Debian mirror in /etc/apt/sources.list*: add a bookworm entry and retry"
		exit 1
	fi
	log "enabling bookworm-backports from $uri"
	cat >/etc/apt/sources.list.d/inferlat-backports.sources <<SRC
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
}

enable_backports
export DEBIAN_FRONTEND=noninteractive
log "apt-get update"
apt-get update -qq
if [ $need_bpo -eq 1 ]; then
	log "installing from bookworm-backports: ${BACKPORTS_PKGS[*]}"
	apt-get install -y -qq --no-install-recommends -t bookworm-backports "${BACKPORTS_PKGS[@]}" >/dev/null
fi
if [ ${#missing[@]} -gt 0 ]; then
	log "installing: ${missing[*]}"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
libbpf_ok || { log "libbpf-dev >= $MIN_LIBBPF still missing after install"; exit 1; }
runtimes
log "done"
