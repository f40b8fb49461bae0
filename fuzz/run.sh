#!/usr/bin/env bash
# fuzz/run.sh FUZZ_BUILD NAME SECONDS [libFuzzer flags...] - runs one
# libFuzzer target on its working corpus (FUZZ_BUILD/corpus/NAME, new inputs)
# and the committed one (fuzz/corpus/NAME, read), then prints one line of
# figures: wall time, executions (per second), edges covered (cov), features
# (ft), corpus size, and whether it crashed. The full log is
# FUZZ_BUILD/NAME.log; crash inputs are FUZZ_BUILD/crash-NAME-*.
set -u
b=$1 name=$2 secs=$3
shift 3
mkdir -p "$b/corpus/$name" "fuzz/corpus/$name"
log=$b/$name.log
echo "== fuzz $name ($secs s)"
start=$SECONDS
"$b/$name" -max_total_time="$secs" -print_final_stats=1 -timeout=25 \
    -artifact_prefix="$b/crash-$name-" "$@" "$b/corpus/$name" "fuzz/corpus/$name" >"$log" 2>&1
rc=$?
last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p')
crashes=$(ls "$b"/crash-"$name"-* 2>/dev/null | wc -l)
printf '%s: %d s, %s execs (%s/s), cov %s, ft %s, corpus %s, exit %d, crash files %d\n' \
    "$name" $((SECONDS - start)) "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" \
    "${corp:-?}" "$rc" "$crashes"
if [ "$rc" -ne 0 ]; then
    grep -E 'ERROR|TERN_ASSERT|oracle|SUMMARY' "$log" | head -5
fi
exit "$rc"
