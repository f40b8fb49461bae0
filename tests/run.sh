#!/usr/bin/env bash
# tests/run.sh BUILD_DIR... - runs every test suite against each build variant
# and ends with one line "N passed, N failed" (", N skipped" when any).
#
# Suites, each printing TAP-like lines ("ok - NAME", "not ok - NAME",
# "skip - NAME: why"):
#   BUILD/unit_tests                unit and state tests (tests/*/*_test.c)
#   BUILD/fuzz/*_replay             every file of fuzz/corpus/NAME/ through its target
#   tests/scripts/*.sh BUILD        peer and tool tests (tcpdump, tshark, pkg-config, ...)
# A BUILD_DIR:PREFIX argument runs only the unit tests whose names start with
# PREFIX (the ThreadSanitizer build runs the threaded posix_* tests).
# With CI=true a skipped test counts as a failure: nothing may be skipped in CI.
#
# Slow scripts run once, not once per build: a script with a line "# slow"
# among its first five lines (long transfers through loss: peer_http,
# peer_tcp_impair, ...) runs only against the sanitizer build - the first
# BUILD_DIR named asan (make SAN=1) - or, when no such build is given, the
# last BUILD_DIR given, so every test still runs in each invocation. Other
# builds print "[BUILD] NAME (slow: runs against DIR)" instead. The project's
# rule: a slow peer case runs once, against the sanitizer build, and
# `make test` stays well under 20 minutes on 2 cores. A script is slow when it
# takes more than ~20 s (the "(Ns)" figure below).
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0 skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_suite() { # label, command...
    local label=$1; shift
    local start=$SECONDS
    # A hung suite fails (exit 124) instead of eating CI's time budget.
    timeout -k 10 "${SUITE_TIMEOUT:-600}" "$@" >"$log" 2>&1
    local rc=$?
    [ "$rc" -eq 124 ] && echo "not ok - $label timed out after ${SUITE_TIMEOUT:-600} s" >>"$log"
    local p f s
    p=$(grep -c '^ok - ' "$log")
    f=$(grep -c '^not ok - ' "$log")
    s=$(grep -c '^skip - ' "$log")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "not ok - $label exited with status $rc" >>"$log"
    fi
    if [ "${CI:-}" = "true" ] && [ "$s" -gt 0 ]; then
        f=$((f + s))
        grep '^skip - ' "$log" | sed 's/^skip - /not ok - (skipped in CI) /'
        s=0
    fi
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    printf '%-44s %4d passed, %d failed, %d skipped (%ds)\n' "$label" "$p" "$f" "$s" $((SECONDS - start))
    if [ "$f" -gt 0 ] || [ "$s" -gt 0 ]; then
        grep -E -B12 '^(not ok|skip) - ' "$log" | grep -v '^ok - ' | sed 's/^/    /' | head -n 200
    fi
}

replay_corpus() { # build dir
    local b=$1 r name files
    for r in "$b"/fuzz/*_replay; do
        [ -x "$r" ] || continue
        name=$(basename "$r" _replay)
        files=(fuzz/corpus/"$name"/*)
        if [ ! -e "${files[0]}" ]; then
            echo "not ok - fuzz corpus $name is empty"
            continue
        fi
        if "$r" "${files[@]}"; then
            echo "ok - fuzz replay $name (${#files[@]} inputs)"
        else
            echo "not ok - fuzz replay $name"
        fi
    done
}

export -f replay_corpus

is_slow() { head -n 5 "$1" | grep -qx '# slow.*'; }
slow_build=
for arg in "$@"; do
    [ "${arg%%:*}" = "$arg" ] || continue
    [ "$(basename "$arg")" = asan ] && { slow_build=$arg; break; }
done
if [ -z "$slow_build" ]; then
    for arg in "$@"; do
        [ "${arg%%:*}" = "$arg" ] && slow_build=$arg
    done
fi

for arg in "$@"; do
    b=${arg%%:*}
    if [ "$b" != "$arg" ]; then
        prefix=${arg#*:}
        [ -x "$b/unit_tests" ] || { echo "not ok - $b/unit_tests missing"; failed=$((failed + 1)); continue; }
        run_suite "[$b] unit ($prefix*)" "$b/unit_tests" "$prefix"
        continue
    fi
    [ -d "$b" ] || { echo "not ok - build dir $b missing"; failed=$((failed + 1)); continue; }
    export TERN_BUILD=$b
    run_suite "[$b] unit" "$b/unit_tests"
    run_suite "[$b] fuzz corpus replay" bash -c 'replay_corpus "$1"' _ "$b"
    for s in tests/scripts/*.sh; do
        [ -e "$s" ] || continue
        if [ "$b" != "$slow_build" ] && is_slow "$s"; then
            printf '%-44s (slow: runs against %s)\n' "[$b] $(basename "$s" .sh)" "$slow_build"
            continue
        fi
        run_suite "[$b] $(basename "$s" .sh)" bash "$s" "$b"
    done
done

if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
