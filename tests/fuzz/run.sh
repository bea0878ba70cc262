#!/usr/bin/env bash
# make fuzz: each target for FUZZ_SECONDS seconds from its seed corpus; new
# inputs go to a scratch corpus, crashes to $INFERLAT_FUZZ_DIR/crashes/TARGET.
# Prints each target's executions and ends with "N passed, N failed" (a
# target fails when it found a crash).
set -u
cd "$(dirname "$0")/../.."
dir=${INFERLAT_FUZZ_DIR:-build/fuzz}
secs=${FUZZ_SECONDS:-120}
passed=0
failed=0
for t in "$@"; do
	work="$dir/corpus/$t"
	crashes="$dir/crashes/$t"
	mkdir -p "$work" "$crashes"
	log="$dir/fuzz_$t.log"
	"$dir/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=4096 \
		-artifact_prefix="$crashes/" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	if [ "$rc" -eq 0 ]; then
		echo "fuzz_$t: ${runs:-?} executions in ${secs}s, no crash"
		passed=$((passed + 1))
	else
		echo "fuzz_$t: crash after ${runs:-?} executions; input in $crashes, log $log"
		grep -m3 -E 'ERROR|runtime error|SUMMARY' "$log" | sed 's/^/  /'
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
