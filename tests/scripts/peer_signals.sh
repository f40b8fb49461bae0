#!/usr/bin/env bash
# SIGINT gives the same status in every tool (README, "STACK"): a command
# stopped before it finished exits 128 + 2 = 130, as a shell reports a
# process killed by SIGINT; ping prints its summary and exits as iputils
# does (0: it had replies); serve, whose normal end is a signal, exits 0.
# Each tool runs on a TAP device in a network namespace this script creates
# (no route out; removed on exit), waiting on something that never comes.
set -u
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
. tests/scripts/lib/peer.sh
peer_setup peer_signals timeout

ns=tern-sig-$$

peer_netns "$ns"
ip -n "$ns" tuntap add dev tsig0 mode tap
ip -n "$ns" addr add 10.71.0.1/24 dev tsig0
ip -n "$ns" link set tsig0 up
topts=(--tap tsig0 --addr 10.71.0.2/24)

# interrupt WANT AFTER NAME ARGS...: run tern ARGS, SIGINT after AFTER s
interrupt() {
    local want=$1 after=$2 name=$3; shift 3
    # `ip netns exec` execs timeout(1), which passes SIGINT on to tern
    ip netns exec "$ns" timeout -s KILL 30 "$tern" "$1" "${topts[@]}" "${@:2}" >"$tmp/out" 2>&1 &
    local p=$!
    sleep "$after"
    kill -INT $p
    wait $p
    local rc=$?
    if [ $rc -eq "$want" ]; then
        ok "$name: SIGINT -> exit $rc"
    else
        nok "$name: SIGINT -> exit $rc (want $want)"
        sed 's/^/# /' "$tmp/out" | tail -3
    fi
}

interrupt 130 1 "nc -l" nc -l 5000
interrupt 130 1 "resolve (a silent server)" resolve --dns 10.71.0.1 -W 10 www.example.test
interrupt 130 1 "traceroute (a silent host)" traceroute -w 5 10.71.0.99
interrupt 130 1 "get (a silent host)" get -q --timeout 20 http://10.71.0.99/
interrupt 130 1 "perf -s (no client)" perf -s
interrupt 0 1.5 "ping (Linux answers)" ping 10.71.0.1
grep -q "packets transmitted" "$tmp/out" && ok "ping: the summary on SIGINT" || nok "ping: no summary"
interrupt 0 1 "serve" serve --echo
