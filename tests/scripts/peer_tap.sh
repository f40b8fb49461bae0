#!/usr/bin/env bash
# Real peers: the Linux kernel talks to tern over TAP and TUN devices inside
# a network namespace this script creates (no route out; removed on exit).
#   - Linux `ping -c 5` to tern gets 5 replies;
#   - Linux `ping -s 8000` (fragmented both ways) gets its replies;
#   - Linux's neighbour table learns tern's MAC;
#   - `tern ping` to the Linux side shows replies and a correct summary;
#   - tern over TUN answers Linux ping;
#   - tshark reads every pcap tern wrote with no malformed packet and no
#     checksum error.
set -u
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
. tests/scripts/lib/pcap_check.sh
. tests/scripts/lib/peer.sh
peer_setup peer_tap ping tshark

ns=tern-peer-$$
# (background jobs call ip netns exec directly, so $! is the tern process itself)

peer_netns "$ns"
# TAP: Linux 10.77.0.1 <-> tern 10.77.0.2
ip -n "$ns" tuntap add dev ttap0 mode tap
ip -n "$ns" addr add 10.77.0.1/24 dev ttap0
ip -n "$ns" link set ttap0 up
# TUN: Linux 10.78.0.1 <-> tern 10.78.0.2
ip -n "$ns" tuntap add dev ttun0 mode tun
ip -n "$ns" addr add 10.78.0.1/24 dev ttun0
ip -n "$ns" link set ttun0 up
# A second TUN for tern's own ping, so that sub-test never reuses a device
# another tern process has just detached from.
ip -n "$ns" tuntap add dev ttun1 mode tun
ip -n "$ns" addr add 10.79.0.1/24 dev ttun1
ip -n "$ns" link set ttun1 up

mac=02:7e:72:6e:00:02
ip netns exec "$ns" "$tern" serve --tap ttap0 --addr 10.77.0.2/24 --mac $mac --pcap "$tmp/serve_tap.pcap" \
    --for 60 2>"$tmp/serve_tap.err" &
pids+=($!)
ip netns exec "$ns" "$tern" serve --tun ttun0 --addr 10.78.0.2/24 --pcap "$tmp/serve_tun.pcap" \
    --for 60 2>"$tmp/serve_tun.err" &
pids+=($!)
sleep 0.5

inns ping -c 5 -i 0.2 -W 2 10.77.0.2 >"$tmp/ping5" 2>&1
check "linux ping -c 5 to tern over TAP: 5 replies" grep -q '5 packets transmitted, 5 received' "$tmp/ping5"
inns ping -c 3 -i 0.2 -W 2 -s 8000 10.77.0.2 >"$tmp/ping8000" 2>&1
check "linux ping -s 8000 to tern (fragmented both ways)" grep -q '3 packets transmitted, 3 received' "$tmp/ping8000"
check "replies to ping -s 8000 carry 8008 bytes" grep -q '^8008 bytes from 10.77.0.2' "$tmp/ping8000"
inns ip neigh show 10.77.0.2 dev ttap0 >"$tmp/neigh"
check "linux neighbour table learned tern's MAC" grep -qi "lladdr $mac" "$tmp/neigh"
inns ping -c 3 -i 0.2 -W 2 10.78.0.2 >"$tmp/pingtun" 2>&1
check "linux ping to tern over TUN: 3 replies" grep -q '3 packets transmitted, 3 received' "$tmp/pingtun"

# SIGTERM: background jobs of a non-interactive shell ignore SIGINT
stop_bg

# tern ping to the Linux side (TAP, then TUN)
inns "$tern" ping -c 3 -i 0.2 --tap ttap0 --addr 10.77.0.2/24 --pcap "$tmp/ping_tap.pcap" \
    10.77.0.1 >"$tmp/ternping" 2>&1
rc=$?
check "tern ping over TAP exits 0" [ $rc -eq 0 ]
check "tern ping over TAP: header" grep -q '^PING 10.77.0.1 (10.77.0.1) 56(84) bytes of data.$' "$tmp/ternping"
check "tern ping over TAP: 3 reply lines" \
    [ "$(grep -cE '^64 bytes from 10.77.0.1: icmp_seq=[123] ttl=64 time=[0-9.]+ ms$' "$tmp/ternping")" -eq 3 ]
check "tern ping over TAP: summary" grep -qE '^3 packets transmitted, 3 received, 0% packet loss, time [0-9]+ms$' "$tmp/ternping"
check "tern ping over TAP: rtt line" grep -qE '^rtt min/avg/max/mdev = [0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+ ms$' "$tmp/ternping"
inns "$tern" ping -c 2 -i 0.2 -s 3000 --tun ttun1 --addr 10.79.0.2/24 --pcap "$tmp/ping_tun.pcap" \
    10.79.0.1 >"$tmp/ternping_tun" 2>&1
check "tern ping -s 3000 over TUN (fragmented): 2 replies" grep -q '2 packets transmitted, 2 received' "$tmp/ternping_tun"
inns "$tern" ping -c 2 -i 0.2 -W 1 --tap ttap0 --addr 10.77.0.2/24 10.77.0.99 >"$tmp/ternping_none" 2>&1
rc=$?
check "tern ping to a silent address exits 1" [ $rc -eq 1 ]
check "tern ping to a silent address: 100% loss" grep -q '100% packet loss' "$tmp/ternping_none"

pcap_check "$tmp"/*.pcap
# show diagnostics for any failure
if grep -q . "$tmp"/serve_tap.err 2>/dev/null; then sed 's/^/# /' "$tmp"/serve_tap.err; fi
exit 0
