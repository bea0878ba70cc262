#!/usr/bin/env bash
# Runs the unit test binaries and/or the integration suite, all speaking TAP,
# and ends with one line: "N passed, N failed". Exits non-zero on any failure
# (a test binary that dies without reporting counts as one failure).
set -u
cd "$(dirname "$0")/.."

# sanitizer builds stop at the first report and say where
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

passed=0
failed=0
failures=()

# count one TAP stream read from stdin; $1 names its source
count_tap() {
	local src=$1 line p=0 f=0
	while IFS= read -r line; do
		printf '%s\n' "$line"
		case "$line" in
		"ok "*) p=$((p + 1)) ;;
		"not ok "*) f=$((f + 1)); failures+=("$src: ${line#not ok }") ;;
		esac
	done
	passed=$((passed + p))
	failed=$((failed + f))
	echo "$p $f" >"$tmp/last"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run_one() { # name cmd...
	local name=$1 rc
	shift
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	count_tap "$name" <"$tmp/out"
	read -r p f <"$tmp/last"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		# died or failed without a TAP failure line: that is a failure too
		failed=$((failed + 1))
		failures+=("$name: exited with status $rc")
		sed 's/^/# /' "$tmp/err" | tail -n 20
	elif [ "$f" -gt 0 ]; then
		sed 's/^/# /' "$tmp/err" | tail -n 40
	fi
}

mode=
while [ $# -gt 0 ]; do
	case "$1" in
	--unit) mode=unit ;;
	--integration)
		mode=
		if [ "$(id -u)" -ne 0 ]; then
			echo "not ok - integration tests need root (BPF): run sudo make test"
			failed=$((failed + 1))
			failures+=("integration: not root")
		else
			run_one integration /usr/bin/python3 tests/integration/run.py
		fi
		;;
	*)
		[ "$mode" = unit ] && run_one "$(basename "$(dirname "$(dirname "$1")")")/$(basename "$1")" "$1"
		;;
	esac
	shift
done

if [ ${#failures[@]} -gt 0 ]; then
	echo "# failures:"
	printf '#   %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
