#!/usr/bin/env bash
# slow: runs against the sanitizer build only (tests/run.sh)
# Real peers for issue 6's routers and traceroute, in namespaces this script
# creates (no route out; removed on exit).
#
# Part 1, `tern router` between two Linux hosts:
#     A 10.71.1.2 --TAP rta-- [tern router 10.71.1.1 | 10.71.2.1] --TAP rtb-- B 10.71.2.2
#   Both TAPs are created in the router's namespace R, tern attaches to
#   them, then each is moved into A or B (the open file keeps the link).
#   - Linux ping A -> B through tern (TTL 63: one hop), also fragmented;
#   - Linux `traceroute -n` (UDP and -I) from A shows tern's hop 10.71.1.1,
#     then B;
#   - curl in A downloads 20 MB from python3 -m http.server in B through
#     tern, byte-exact (SHA-256);
#   - SIGTERM stops the router with exit status 0 and its counters.
# Part 2, `tern traceroute` in real mode through Linux routers:
#     tern 10.72.1.2 (TAP) + Linux A2 10.72.1.3 (veth), both on bridge br0
#     10.72.1.1 in R1; R1 --10.72.2.0/24-- R2 --10.72.3.0/24-- B2 10.72.3.2
#   - `tern traceroute -n` (UDP and -I) lists 10.72.1.1, 10.72.2.2, then
#     10.72.3.2, and its output equals Linux `traceroute -n` from A2 (the
#     same subnet) with the times blanked out;
#   - a max TTL short of B ends at the last router.
# Every pcap tern wrote is checked with tshark.
set -u
# Linux traceroute runs with -w 5: by default (-w 5,3,10) it stops waiting
# for a probe 3 times the RTT of an answer already seen from that hop (10
# times one from a later hop), so a router slowed down by a loaded machine
# or a sanitizer gets `*` for its 2nd and 3rd answers. With only MAX given
# it waits the whole 5 s for each probe.
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
. tests/scripts/lib/pcap_check.sh
. tests/scripts/lib/peer.sh
peer_setup peer_router ping traceroute curl tshark sha256sum timeout python3

p=trr$$
nsA=$p-a nsB=$p-b nsR=$p-r nsA2=$p-a2 nsR1=$p-r1 nsR2=$p-r2 nsB2=$p-b2
all_ns="$nsA $nsB $nsR $nsA2 $nsR1 $nsR2 $nsB2"
inn() { local n=$1; shift; ip netns exec "$n" "$@"; }
# Linux traceroute/tern traceroute output with the times blanked
blank_times() { sed -E 's/[0-9]+\.[0-9]{3} ms/T ms/g' "$1"; }

peer_netns $all_ns

# ---- Part 1: tern router between A and B ----
ip -n "$nsR" tuntap add dev rta mode tap
ip -n "$nsR" tuntap add dev rtb mode tap
# (ip netns exec directly, not the inn function: $! must be tern itself)
ip netns exec "$nsR" "$tern" router --tap rta 10.71.1.1/24 --tap rtb 10.71.2.1/24 \
    --pcap "$tmp/router.pcap" >"$tmp/router.out" 2>"$tmp/router.err" &
rpid=$!
pids+=($rpid)
for _ in $(seq 50); do grep -q forwarding "$tmp/router.err" 2>/dev/null && break; sleep 0.1; done
check "tern router starts on two TAPs" grep -q 'forwarding' "$tmp/router.err"
ip -n "$nsR" link set rta netns "$nsA"
ip -n "$nsR" link set rtb netns "$nsB"
ip -n "$nsA" addr add 10.71.1.2/24 dev rta
ip -n "$nsA" link set rta up
ip -n "$nsA" route add default via 10.71.1.1
ip -n "$nsB" addr add 10.71.2.2/24 dev rtb
ip -n "$nsB" link set rtb up
ip -n "$nsB" route add default via 10.71.2.1

inn "$nsA" ping -c 5 -i 0.2 -W 2 10.71.2.2 >"$tmp/ping" 2>&1
check "linux ping A -> B through tern router: 5 replies" grep -q '5 packets transmitted, 5 received' "$tmp/ping"
check "replies crossed one router (ttl=63)" \
    [ "$(grep -c 'from 10.71.2.2: icmp_seq=[0-9]* ttl=63 ' "$tmp/ping")" -eq 5 ]
inn "$nsA" ping -c 2 -i 0.2 -W 2 -s 4000 10.71.2.2 >"$tmp/ping4000" 2>&1
check "linux ping -s 4000 (fragments forwarded both ways)" \
    grep -q '2 packets transmitted, 2 received' "$tmp/ping4000"
inn "$nsA" ping -c 2 -i 0.2 -W 2 10.71.1.1 >"$tmp/pingr" 2>&1
check "linux ping to the router's own address" grep -q '2 packets transmitted, 2 received' "$tmp/pingr"

inn "$nsA" timeout 60 traceroute -w 5 -n 10.71.2.2 >"$tmp/ltr" 2>&1
sed 's/^/# /' "$tmp/ltr"
check "linux traceroute -n through tern: hop 1 is tern (10.71.1.1), 3 answers" \
    grep -qE '^ 1  10\.71\.1\.1  [0-9.]+ ms  [0-9.]+ ms  [0-9.]+ ms$' "$tmp/ltr"
check "linux traceroute -n through tern: hop 2 is B, and the last" \
    [ "$(tail -n 1 "$tmp/ltr" | grep -cE '^ 2  10\.71\.2\.2  ')" -eq 1 -a "$(wc -l <"$tmp/ltr")" -eq 3 ]
inn "$nsA" timeout 60 traceroute -w 5 -n -I 10.71.2.2 >"$tmp/ltrI" 2>&1
check "linux traceroute -n -I through tern: tern's hop then B" \
    [ "$(blank_times "$tmp/ltrI" | tail -n 2 | tr '\n' '|')" = " 1  10.71.1.1  T ms  T ms  T ms| 2  10.71.2.2  T ms  T ms  T ms|" ]

mkdir -p "$tmp/www"
head -c 20971520 /dev/urandom >"$tmp/www/big.bin"
(cd "$tmp/www" && exec ip netns exec "$nsB" python3 -m http.server 8071 --bind 10.71.2.2 \
    >"$tmp/http.log" 2>&1) &
pids+=($!)
for _ in $(seq 50); do inn "$nsB" ss -ltn 2>/dev/null | grep -q ':8071 ' && break; sleep 0.1; done
inn "$nsA" timeout 120 curl -s -o "$tmp/got.bin" http://10.71.2.2:8071/big.bin
rc=$?
check "curl through tern router exits 0" [ $rc -eq 0 ]
want=$(sha256sum <"$tmp/www/big.bin" | cut -d' ' -f1)
got=$(sha256sum <"$tmp/got.bin" 2>/dev/null | cut -d' ' -f1)
check "curl downloaded 20 MB through tern router byte-exact (sha256)" [ "$want" = "$got" ]

kill -TERM $rpid
wait $rpid
rc=$?
pids=("${pids[@]/$rpid}")
check "tern router exits 0 on SIGTERM (rc $rc)" [ $rc -eq 0 ]
sed 's/^/# /' "$tmp/router.err"
fwd=$(sed -nE 's/.* ([0-9]+) forwarded .*/\1/p' "$tmp/router.err")
check "tern router counted the forwarded datagrams (> 14000 for 20 MB)" [ "${fwd:-0}" -gt 14000 ]
check "tern router sent time exceeded (traceroute's hop)" \
    grep -qE 'dropped: [1-9][0-9]* TTL expired' "$tmp/router.err"
check "tern router wrote one pcap per TAP" [ -s "$tmp/router-rta.pcap" -a -s "$tmp/router-rtb.pcap" ]

# ---- Part 2: tern traceroute through Linux routers ----
ip -n "$nsR1" link add br0 type bridge
ip -n "$nsR1" addr add 10.72.1.1/24 dev br0
ip -n "$nsR1" link set br0 up
ip -n "$nsR1" tuntap add dev ttr0 mode tap
ip -n "$nsR1" link set ttr0 master br0
ip -n "$nsR1" link set ttr0 up
ip link add "$p-v1" netns "$nsA2" type veth peer name "$p-v2" netns "$nsR1"
ip -n "$nsR1" link set "$p-v2" master br0
ip -n "$nsR1" link set "$p-v2" up
ip -n "$nsA2" addr add 10.72.1.3/24 dev "$p-v1"
ip -n "$nsA2" link set "$p-v1" up
ip -n "$nsA2" route add default via 10.72.1.1
ip link add "$p-v3" netns "$nsR1" type veth peer name "$p-v4" netns "$nsR2"
ip -n "$nsR1" addr add 10.72.2.1/24 dev "$p-v3"
ip -n "$nsR1" link set "$p-v3" up
ip -n "$nsR2" addr add 10.72.2.2/24 dev "$p-v4"
ip -n "$nsR2" link set "$p-v4" up
ip link add "$p-v5" netns "$nsR2" type veth peer name "$p-v6" netns "$nsB2"
ip -n "$nsR2" addr add 10.72.3.1/24 dev "$p-v5"
ip -n "$nsR2" link set "$p-v5" up
ip -n "$nsB2" addr add 10.72.3.2/24 dev "$p-v6"
ip -n "$nsB2" link set "$p-v6" up
ip -n "$nsB2" route add default via 10.72.3.1
ip -n "$nsR1" route add 10.72.3.0/24 via 10.72.2.2
ip -n "$nsR2" route add 10.72.1.0/24 via 10.72.2.1
for n in $nsR1 $nsR2; do
    inn "$n" sysctl -qw net.ipv4.ip_forward=1
    inn "$n" sysctl -qw net.ipv4.icmp_ratelimit=0 # every probe gets its answer
done
inn "$nsB2" sysctl -qw net.ipv4.icmp_ratelimit=0

inn "$nsA2" timeout 60 traceroute -w 5 -n 10.72.3.2 >"$tmp/lin_udp" 2>&1
inn "$nsA2" timeout 60 traceroute -w 5 -n -I 10.72.3.2 >"$tmp/lin_icmp" 2>&1
# tern's process runs in R1 only because its TAP lives there; its stack is
# the host 10.72.1.2 on the bridge.
inn "$nsR1" timeout 60 "$tern" traceroute -n -w 2 --tap ttr0 --addr 10.72.1.2/24 --gw 10.72.1.1 \
    --pcap "$tmp/tr_udp.pcap" 10.72.3.2 >"$tmp/tern_udp" 2>"$tmp/tern_udp.err"
rc_udp=$?
inn "$nsR1" timeout 60 "$tern" traceroute -n -I -w 2 --tap ttr0 --addr 10.72.1.2/24 --gw 10.72.1.1 \
    --pcap "$tmp/tr_icmp.pcap" 10.72.3.2 >"$tmp/tern_icmp" 2>"$tmp/tern_icmp.err"
rc_icmp=$?
sed 's/^/# linux: /' "$tmp/lin_udp"
sed 's/^/# tern:  /' "$tmp/tern_udp"
check "tern traceroute (UDP) exits 0" [ $rc_udp -eq 0 ]
check "tern traceroute -I exits 0" [ $rc_icmp -eq 0 ]
expect=$'traceroute to 10.72.3.2 (10.72.3.2), 30 hops max, 60 byte packets\n 1  10.72.1.1  T ms  T ms  T ms\n 2  10.72.2.2  T ms  T ms  T ms\n 3  10.72.3.2  T ms  T ms  T ms'
check "tern traceroute -n lists R1 (10.72.1.1), R2 (10.72.2.2), then B (10.72.3.2)" \
    [ "$(blank_times "$tmp/tern_udp")" = "$expect" ]
check "tern traceroute -n output equals Linux traceroute -n (times blanked)" \
    [ "$(blank_times "$tmp/tern_udp")" = "$(blank_times "$tmp/lin_udp")" ]
check "tern traceroute -n -I output equals Linux traceroute -n -I (times blanked)" \
    [ "$(blank_times "$tmp/tern_icmp")" = "$(blank_times "$tmp/lin_icmp")" ]
inn "$nsR1" timeout 60 "$tern" traceroute -n -m 2 -q 1 --tap ttr0 --addr 10.72.1.2/24 --gw 10.72.1.1 \
    10.72.3.2 >"$tmp/tern_m2" 2>&1
check "tern traceroute -m 2 -q 1 stops at R2" \
    [ "$(blank_times "$tmp/tern_m2" | tr '\n' '|')" = "traceroute to 10.72.3.2 (10.72.3.2), 2 hops max, 60 byte packets| 1  10.72.1.1  T ms| 2  10.72.2.2  T ms|" ]
"$tern" traceroute --help >"$tmp/help" 2>&1
check "tern traceroute --help exits 0" [ $? -eq 0 ]
"$tern" traceroute -q 11 --tap x --addr 10.0.0.1/24 10.0.0.2 >/dev/null 2>&1
check "tern traceroute -q 11 is a usage error (2)" [ $? -eq 2 ]
"$tern" router --tap only 10.0.0.1/24 >/dev/null 2>&1
check "tern router with one TAP is a usage error (2)" [ $? -eq 2 ]

pcap_check "$tmp"/router-rta.pcap "$tmp"/router-rtb.pcap "$tmp"/tr_udp.pcap "$tmp"/tr_icmp.pcap
exit 0
