#!/usr/bin/env bash
# tests/scripts/tcpdump_compare.sh BUILD - `tern dump` must print exactly what
# `tcpdump -n -r` (4.99.3) prints, line for line including timestamps (both
# run with TZ=UTC), on the captures tests/scripts/gen_mix.py writes
# (Ethernet, raw IPv4, nanosecond magic, random mutations) and
# tests/scripts/gen_apps.py writes (DNS, mDNS, BOOTP/DHCP, NTP, HTTP, IPv6,
# as pcap and pcapng, and random mutations), with no flag, -S and -e; then
# with tcpdump filter expressions (tern dump -r FILE EXPRESSION).
# Prints "ok - NAME" / "not ok - NAME" (+ a diff) per capture and flag set.
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
for gen in gen_mix.py gen_apps.py; do
    if ! /usr/bin/python3 tests/scripts/$gen "$dir" >"$dir/gen.log" 2>&1; then
        echo "not ok - tcpdump_compare: $gen failed"; sed 's/^/    /' "$dir/gen.log"; exit 1
    fi
done
export TZ=UTC
fail=0
for pcap in "$dir"/*.pcap "$dir"/*.pcapng; do
    name=$(basename "$pcap")
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
# Filter expressions, compiled by libpcap in both (tern dump -r FILE EXPR;
# a multi-word expression as separate arguments, as tcpdump joins them).
filters=("udp port 53" "port 67 or port 68" "tcp port 80 and tcp[tcpflags] & tcp-push != 0"
         "ip6" "udp and not port 53" "host 10.0.0.2 and (tcp or icmp)" "icmp6")
for pcap in "$dir/apps.pcap" "$dir/apps.pcapng" "$dir/mix_eth.pcap"; do
    for f in "${filters[@]}"; do
        label="tcpdump_compare filter '$f' $(basename "$pcap")"
        tcpdump -n -r "$pcap" "$f" >"$dir/want" 2>/dev/null
        set -f # split the expression into words, without globbing
        # shellcheck disable=SC2086
        "$tern" dump -r "$pcap" $f >"$dir/got" 2>"$dir/err"
        rc=$?
        set +f
        if [ $rc -eq 0 ] && cmp -s "$dir/want" "$dir/got" && [ -s "$dir/want" ] ||
            { [ $rc -eq 0 ] && [ ! -s "$dir/want" ] && [ ! -s "$dir/got" ]; }; then
            echo "ok - $label ($(wc -l <"$dir/want") lines)"
        else
            echo "not ok - $label (exit $rc)"
            diff "$dir/want" "$dir/got" | head -n 20 | sed 's/^/    /'
            sed 's/^/    stderr: /' "$dir/err" | head -n 3
            fail=1
        fi
    done
done
# -c counts printed (matching) frames, as tcpdump's does
tcpdump -n -c 3 -r "$dir/apps.pcap" 'udp port 53' >"$dir/want" 2>/dev/null
if "$tern" dump -c 3 -r "$dir/apps.pcap" 'udp port 53' >"$dir/got" 2>/dev/null &&
    cmp -s "$dir/want" "$dir/got" && [ "$(wc -l <"$dir/got")" -eq 3 ]; then
    echo "ok - tcpdump_compare -c 3 with a filter"
else
    echo "not ok - tcpdump_compare -c 3 with a filter"; diff "$dir/want" "$dir/got" | head | sed 's/^/    /'; fail=1
fi
# a bad expression is an error (exit 2), not an empty listing
if "$tern" dump -r "$dir/apps.pcap" 'udp port' >/dev/null 2>"$dir/err"; then
    echo "not ok - tcpdump_compare bad filter accepted"; fail=1
elif grep -q "bad filter expression" "$dir/err"; then
    echo "ok - tcpdump_compare bad filter refused"
else
    echo "not ok - tcpdump_compare bad filter message"; sed 's/^/    /' "$dir/err"; fail=1
fi
exit $fail
