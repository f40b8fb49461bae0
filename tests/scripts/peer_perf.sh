#!/usr/bin/env bash
# slow: runs against the sanitizer build only (tests/run.sh)
# `tern perf` against Debian's iperf3 over a TAP device inside a network
# namespace this script creates (no route out; removed on exit), both ways:
#   - `tern perf -c` measures Linux's `iperf3 -s -1`: TCP, TCP -R -P 2,
#     UDP -b, UDP -R;
#   - Linux's `iperf3 -c` measures `tern perf -s -1`: TCP, TCP -R, UDP -P 2,
#     UDP -R.
# Each run: both ends exit 0, and the summary lines both ends print for the
# same measurement agree: the receiver's (or with -R the sender's) transfer,
# and for UDP the lost/total datagrams - the one end prints its own count,
# the other the count it got in iperf3's JSON results, so a wrong result
# exchange or number format shows as a difference. A busy server answers a
# second client with iperf3's ACCESS_DENIED ("the server is busy").
# KEEP=1 copies the temporary directory to /tmp/peer_perf_keep.
set -u
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
. tests/scripts/lib/peer.sh
peer_setup peer_perf iperf3 timeout awk

ns=tern-perf-$$

peer_netns "$ns"
ip -n "$ns" tuntap add dev tperf0 mode tap
ip -n "$ns" addr add 10.77.0.1/24 dev tperf0
ip -n "$ns" link set tperf0 up
T=10.77.0.2 L=10.77.0.1
topts=(--tap tperf0 --addr $T/24 --mac 02:7e:72:6e:00:77)

# The summary line of FILE that ends with WHO (sender/receiver) for stream
# [SUM] when there are several, else the only one: "TRANSFER UNIT" or, for
# UDP, "TRANSFER UNIT LOST/TOTAL".
summary() { # file who udp
    awk -v who="$2" -v udp="$3" '
        /^\[ ID\] Interval/ { final = seen_sep; next }
        /^- - - -/ { seen_sep = 1; next }
        final && $NF == who {
            sub(/^\[ *[A-Z0-9]+\] */, "")
            line = $0
            if ($0 ~ /^SUM/ || 1) { last = line }
        }
        END {
            n = split(last, f, " +")
            # f: interval sec transfer unit rate unit [jitter ms lost/total (pct)] who
            out = f[3] " " f[4]
            if (udp) for (i = 1; i <= n; i++) if (f[i] ~ /^[0-9]+\/[0-9]+$/) out = out " " f[i]
            print out
        }' "$1"
}

# run NAME SIDE(tern-client|tern-server) WHO(receiver|sender) UDP ARGS...
run() {
    local name=$1 side=$2 who=$3 udp=$4; shift 4
    local srv_out=$tmp/srv.$n cli_out=$tmp/cli.$n srv_rc cli_rc
    if [ "$side" = tern-client ]; then
        inns timeout 30 iperf3 -s -1 -B $L >"$srv_out" 2>&1 &
        local sp=$!
        sleep 0.5
        inns timeout 30 "$tern" perf -c $L "${topts[@]}" "$@" >"$cli_out" 2>&1
        cli_rc=$?
    else
        inns timeout 30 "$tern" perf -s -1 "${topts[@]}" >"$srv_out" 2>&1 &
        local sp=$!
        sleep 0.5
        inns timeout 30 iperf3 -c $T "$@" >"$cli_out" 2>&1
        cli_rc=$?
    fi
    wait $sp
    srv_rc=$?
    local a b
    a=$(summary "$srv_out" "$who" "$udp")
    b=$(summary "$cli_out" "$who" "$udp")
    if [ $cli_rc -eq 0 ] && [ $srv_rc -eq 0 ]; then
        ok "$name: client and server exit 0"
    else
        nok "$name: client exit $cli_rc, server exit $srv_rc"
        sed 's/^/# cli: /' "$cli_out" | tail -5; sed 's/^/# srv: /' "$srv_out" | tail -5
    fi
    if [ -n "$a" ] && [ "$a" != " " ] && [ "$a" = "$b" ] && ! grep -q "^\[.*0.00 Bytes" <<<"$a"; then
        ok "$name: both ends report the $who's measurement alike ($a)"
    else
        nok "$name: the $who's line differs: server '$a', client '$b'"
    fi
    n=$((n + 1))
}
n=0

run "tern perf -c -> iperf3 -s, TCP" tern-client receiver 0 -t 2
run "tern perf -c -> iperf3 -s, TCP -R -P 2" tern-client sender 0 -t 2 -R -P 2 -b 100M
run "tern perf -c -> iperf3 -s, UDP -b 5M" tern-client receiver 1 -t 2 -u -b 5M
run "tern perf -c -> iperf3 -s, UDP -R" tern-client sender 1 -t 2 -u -b 2M -R
run "iperf3 -c -> tern perf -s, TCP" tern-server receiver 0 -t 2 -b 200M
run "iperf3 -c -> tern perf -s, TCP -R" tern-server sender 0 -t 2 -R -b 100M
run "iperf3 -c -> tern perf -s, UDP -P 2" tern-server receiver 1 -t 2 -u -b 3M -P 2
run "iperf3 -c -> tern perf -s, UDP -R" tern-server sender 1 -t 2 -u -b 2M -R

# a second client while a test runs: iperf3's "the server is busy"
inns timeout 30 "$tern" perf -s -1 "${topts[@]}" >"$tmp/busy.srv" 2>&1 &
sp=$!
sleep 0.5
inns timeout 30 iperf3 -c $T -t 3 -b 10M >"$tmp/busy.first" 2>&1 &
fp=$!
sleep 1
inns timeout 10 iperf3 -c $T -t 1 >"$tmp/busy.second" 2>&1
rc=$?
wait $fp
frc=$?
wait $sp
if [ $rc -ne 0 ] && grep -q "server is busy" "$tmp/busy.second" && [ $frc -eq 0 ]; then
    ok "a second iperf3 client is told the server is busy; the first test completes"
else
    nok "busy server: second client exit $rc, first exit $frc"
    sed 's/^/# /' "$tmp/busy.second"
fi

# a closed port: "unable to connect to server", exit 1
inns timeout 10 "$tern" perf -c $L -p 5299 -t 1 "${topts[@]}" >"$tmp/refused" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "unable to connect to server: connection refused" "$tmp/refused"; then
    ok "tern perf -c to a closed port: connection refused, exit 1"
else
    nok "tern perf -c to a closed port: exit $rc"
    sed 's/^/# /' "$tmp/refused"
fi
