#!/usr/bin/env bash
# tests/scripts/tcpdump_compare.sh BUILD - `tern dump` must print exactly what
# `tcpdump -n -r` (4.99.3) prints, line for line including timestamps (both
# run with TZ=UTC), on the pcaps tests/scripts/gen_mix.py writes (Ethernet,
# raw IPv4, nanosecond magic, random mutations), with no flag, -S and -e.
# Prints "ok - NAME" / "not ok - NAME" (+ a diff) per pcap and flag set.
set -u
cd "$(dirname "$0")/../.."
b=${1:?usage: tcpdump_compare.sh BUILD}
tern=$b/tern
if ! command -v tcpdump >/dev/null 2>&1; then
    echo "skip - tcpdump_compare: tcpdump not installed"; exit 0
fi
if ! /usr/bin/python3 -c 'import scapy' >/dev/null 2>&1; then
    echo "skip - tcpdump_compare: python3-scapy not installed"; exit 0
fi
[ -x "$tern" ] || { echo "not ok - tcpdump_compare: $tern missing"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
if ! /usr/bin/python3 tests/scripts/gen_mix.py "$dir" >"$dir/gen.log" 2>&1; then
    echo "not ok - tcpdump_compare: gen_mix.py failed"; sed 's/^/    /' "$dir/gen.log"; exit 1
fi
export TZ=UTC
fail=0
for pcap in "$dir"/*.pcap; do
    name=$(basename "$pcap" .pcap)
    for flags in "" "-S" "-e" "-S -e"; do
        label="tcpdump_compare $name ${flags:-(no flags)}"
        # shellcheck disable=SC2086
        tcpdump -n $flags -r "$pcap" >"$dir/want" 2>/dev/null
        # shellcheck disable=SC2086
        "$tern" dump $flags "$pcap" >"$dir/got" 2>"$dir/err"
        rc=$?
        if [ $rc -eq 0 ] && cmp -s "$dir/want" "$dir/got"; then
            echo "ok - $label ($(wc -l <"$dir/want") lines)"
        else
            echo "not ok - $label (exit $rc)"
            diff "$dir/want" "$dir/got" | head -n 40 | sed 's/^/    /'
            sed 's/^/    stderr: /' "$dir/err" | head -n 3
            fail=1
        fi
    done
done
exit $fail
