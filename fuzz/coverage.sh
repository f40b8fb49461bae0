#!/usr/bin/env bash
# fuzz/coverage.sh NAME [CORPUS_DIR...] - line coverage of the TCP engine
# reached by a fuzz target's corpus (default fuzz/corpus/NAME): builds the
# target's replayer with clang source-based coverage (-fprofile-instr-generate
# -fcoverage-mapping) into build/cov, replays every input once, and prints
# llvm-cov's report for the six TCP engine files of docs/testing.md plus a
# total. Needs clang, llvm-profdata and llvm-cov (Debian: clang, llvm).
set -eu
cd "$(dirname "$0")/.."
name=$1
shift
dirs=("$@")
[ ${#dirs[@]} -eq 0 ] && dirs=(fuzz/corpus/"$name")
out=build/cov
mkdir -p "$out"
files=(src/core/tcp_in.c src/core/tcp_out.c src/core/tcp_timer.c src/core/tcp_recover.c
       src/core/tcp_sack.c src/core/tcp_rack.c)
bin=$out/${name}_replay
if [ ! -x "$bin" ] || [ -n "$(find src fuzz include -newer "$bin" -name '*.[ch]' | head -1)" ]; then
    clang -Iinclude -Isrc -D_GNU_SOURCE -DTERN_ASSERTS -std=c11 -O1 -g \
        -fprofile-instr-generate -fcoverage-mapping -o "$bin" \
        fuzz/"$name"_fuzz.c fuzz/replay.c src/*/*.c -lm
fi
rm -f "$out"/"$name"-*.profraw
n=0
# One process per batch of inputs (the replayer takes many files).
find "${dirs[@]}" -type f -print0 | xargs -0 -n 200 sh -c \
    'LLVM_PROFILE_FILE="'"$out/$name"'-%p.profraw" "$0" "$@" || true' "$bin"
n=$(find "${dirs[@]}" -type f | wc -l)
llvm-profdata merge -sparse "$out"/"$name"-*.profraw -o "$out/$name.profdata"
echo "$name: $n inputs from ${dirs[*]}"
# Filename, lines, missed lines, line coverage (llvm-cov's columns 1, 8-10).
llvm-cov report "$bin" -instr-profile="$out/$name.profdata" "${files[@]}" |
    awk '$1 ~ /\.c$|^TOTAL$/ {printf "%-16s %6s lines %5s missed %8s\n", $1, $8, $9, $10}'
