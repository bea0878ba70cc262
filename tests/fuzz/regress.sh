#!/usr/bin/env bash
# Runs each fuzz target once over every seed of its corpus (regression mode:
# no fuzzing) and prints TAP: a seed that crashes, leaks or trips a
# sanitizer fails its target.
set -u
cd "$(dirname "$0")/../.."
dir=${INFERLAT_FUZZ_DIR:-build/fuzz}
targets=(elfsym probespec cli httpframe)
echo "1..${#targets[@]}"
i=0
rc=0
for t in "${targets[@]}"; do
	i=$((i + 1))
	seeds=(tests/fuzz/corpus/"$t"/*)
	if [ ! -x "$dir/fuzz_$t" ]; then
		echo "not ok $i - fuzz_$t: $dir/fuzz_$t missing (make fuzz-build)"
		rc=1
		continue
	fi
	if out=$("$dir/fuzz_$t" "${seeds[@]}" 2>&1); then
		echo "ok $i - fuzz_$t: ${#seeds[@]} seeds, no crash"
	else
		echo "not ok $i - fuzz_$t: a seed failed"
		printf '%s\n' "$out" | tail -n 30 | sed 's/^/# /'
		rc=1
	fi
done
exit $rc
