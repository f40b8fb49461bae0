#!/usr/bin/env bash
# Every docs/attacks.md line that the code claims to handle must have at least one
# test named attack_NN_... (NN two digits). The list of lines grows as
# issues land; it lives in tests/attacks_covered.txt (one number per line).
set -u
cd "$(dirname "$0")/../.."
list=tests/attacks_covered.txt
[ -f "$list" ] || { echo "not ok - $list missing"; exit 1; }
while read -r n _; do
    case "$n" in ''|\#*) continue ;; esac
    nn=$(printf '%02d' "$n")
    hits=$(grep -rhoE "TEST\(attack_${nn}_[a-z0-9_]+" tests | wc -l)
    if [ "$hits" -gt 0 ]; then
        echo "ok - ATTACKS line $n has $hits named tests"
    else
        echo "not ok - ATTACKS line $n has no test named attack_${nn}_*"
    fi
done <"$list"
