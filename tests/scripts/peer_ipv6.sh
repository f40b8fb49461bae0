#!/usr/bin/env bash
# slow: runs against the sanitizer build only (tests/run.sh); ~25 s
# IPv6 against the Linux kernel over a TAP device in a network namespace
# this script creates (no route out; removed on exit):
#   - radvd in the namespace advertises 2001:db8:77::/64: tern configures a
#     SLAAC address (RFC 4862) and Linux pings it;
#   - Linux `ping -6` to tern's static global and link-local addresses, and
#     an 8000-byte ping (fragmented both ways);
#   - Linux's `ip -6 neigh` learns tern's MAC;
#   - `tern ping -6` to Linux's global and link-local addresses, and an
#     8000-byte one;
#   - `tern router` forwards IPv6 between two namespaces: ping -6 with the
#     hop limit one lower, an 8000-byte ping's fragments (never
#     refragmented), traceroute -6 sees the router as the first hop;
#   - tshark reads every pcap tern wrote with no malformed packet.
set -u
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
. tests/scripts/lib/pcap_check.sh
. tests/scripts/lib/peer.sh
peer_setup peer_ipv6 ping tshark radvd traceroute

ns=tern-v6-$$
nsA=$ns-a nsB=$ns-b nsR=$ns-r

peer_netns "$ns"
# Linux's own addresses without DAD (the test's seconds go to tern's);
# forwarding on, as radvd requires of a router.
inns sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.forwarding=1
ip -n "$ns" tuntap add dev t6tap0 mode tap
ip -n "$ns" addr add fd00:77::1/64 dev t6tap0
ip -n "$ns" addr add 2001:db8:77::1/64 dev t6tap0
ip -n "$ns" link set t6tap0 up
cat >"$tmp/radvd.conf" <<EOF
interface t6tap0 {
    AdvSendAdvert on;
    MinRtrAdvInterval 3;
    MaxRtrAdvInterval 4;
    prefix 2001:db8:77::/64 { AdvOnLink on; AdvAutonomous on; };
    RDNSS fd00:77::1 { };
};
EOF
ip netns exec "$ns" radvd -n -C "$tmp/radvd.conf" -p "$tmp/radvd.pid" -m stderr 2>"$tmp/radvd.err" &
pids+=($!)

mac=02:7e:72:6e:06:02
ip netns exec "$ns" "$tern" serve --tap t6tap0 --addr 10.76.0.2/24 --addr fd00:77::2/64 --mac $mac \
    --pcap "$tmp/serve.pcap" --for 40 2>"$tmp/serve.err" &
pids+=($!)
# tern reports each address that finished DAD; the SLAAC one needs an RA
slaac=
for _ in $(seq 100); do
    slaac=$(sed -n 's/^tern: IPv6 \(2001:db8:77:[0-9a-f:]*\)\/64 (slaac) preferred$/\1/p' "$tmp/serve.err")
    [ -n "$slaac" ] && break
    sleep 0.1
done
# Linux's link-local address appears once the TAP has a carrier (tern on it)
lll=$(ip -n "$ns" -6 addr show dev t6tap0 scope link | sed -n 's/.*inet6 \(fe80::[0-9a-f:]*\)\/64.*/\1/p')
check "tern configured a SLAAC address from radvd's RA ($slaac)" test -n "$slaac"
# tern's link-local address: it answers an echo request to all-nodes
inns ping -6 -c 2 -i 0.3 -W 2 -I t6tap0 ff02::1 >"$tmp/ping_mc" 2>&1
tll=$(sed -n 's/^64 bytes from \(fe80::[0-9a-f:]*\)%t6tap0: .*/\1/p' "$tmp/ping_mc" | grep -vx "$lll" | head -1)
check "tern answers ping -6 ff02::1 from its link-local address ($tll)" test -n "$tll"
check "tern's static address passed DAD" grep -q '^tern: IPv6 fd00:77::2/64 (static) preferred$' "$tmp/serve.err"

inns ping -6 -c 3 -i 0.2 -W 2 fd00:77::2 >"$tmp/ping_g" 2>&1
check "linux ping -6 to tern's global address: 3 replies" grep -q '3 packets transmitted, 3 received' "$tmp/ping_g"
inns ping -6 -c 3 -i 0.2 -W 2 "$tll%t6tap0" >"$tmp/ping_ll" 2>&1
check "linux ping -6 to tern's link-local address: 3 replies" grep -q '3 packets transmitted, 3 received' "$tmp/ping_ll"
if [ -n "$slaac" ]; then
    inns ping -6 -c 2 -i 0.2 -W 2 "$slaac" >"$tmp/ping_s" 2>&1
    check "linux ping -6 to tern's SLAAC address: 2 replies" grep -q '2 packets transmitted, 2 received' "$tmp/ping_s"
fi
inns ping -6 -c 2 -i 0.2 -W 2 -s 8000 fd00:77::2 >"$tmp/ping8000" 2>&1
check "linux ping -6 -s 8000 to tern (fragmented both ways)" grep -q '^8008 bytes from fd00:77::2' "$tmp/ping8000"
inns ip -6 neigh show fd00:77::2 dev t6tap0 >"$tmp/neigh"
check "linux ip -6 neigh learned tern's MAC" grep -qi "lladdr $mac" "$tmp/neigh"

for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
wait 2>/dev/null

# tern's own ping -6: global, link-local (%IF), 8000 bytes
tp() { # name, pcap, ping args...
    local name=$1 pc=$2; shift 2
    ip netns exec "$ns" timeout 20 "$tern" ping --tap t6tap0 --addr fd00:77::2/64 --mac $mac \
        --pcap "$tmp/$pc" -c 2 -i 0.2 "$@" >"$tmp/$pc.out" 2>"$tmp/$pc.err"
}
tp g tping_g.pcap fd00:77::1
check "tern ping -6 to linux's global address: 2 replies" grep -q '2 packets transmitted, 2 received' "$tmp/tping_g.pcap.out"
check "tern ping -6 prints iputils' header" grep -q '^PING fd00:77::1(fd00:77::1) 56 data bytes$' "$tmp/tping_g.pcap.out"
check "tern ping -6 prints iputils' reply lines" grep -Eq '^64 bytes from fd00:77::1: icmp_seq=1 ttl=64 time=[0-9.]+ ms$' "$tmp/tping_g.pcap.out"
tp ll tping_ll.pcap "$lll%t6tap0"
check "tern ping -6 to linux's link-local address: 2 replies" grep -q '2 packets transmitted, 2 received' "$tmp/tping_ll.pcap.out"
tp big tping_big.pcap -s 8000 fd00:77::1
check "tern ping -6 -s 8000 to linux (fragmented both ways)" grep -q '^8008 bytes from fd00:77::1' "$tmp/tping_big.pcap.out"

# tern router between two namespaces, IPv6 beside IPv4
peer_netns "$nsA" "$nsB" "$nsR"
for n in "$nsA" "$nsB" "$nsR"; do
    ip netns exec "$n" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
done
ip -n "$nsR" tuntap add dev r6a mode tap
ip -n "$nsR" tuntap add dev r6b mode tap
ip netns exec "$nsR" "$tern" router --tap r6a 10.75.1.1/24,fd00:a::1/64 --tap r6b 10.75.2.1/24,fd00:b::1/64 \
    --pcap "$tmp/router.pcap" 2>"$tmp/router.err" &
rpid=$!
pids+=($rpid)
for _ in $(seq 50); do grep -q forwarding "$tmp/router.err" 2>/dev/null && break; sleep 0.1; done
ip -n "$nsR" link set r6a netns "$nsA"
ip -n "$nsR" link set r6b netns "$nsB"
ip -n "$nsA" addr add fd00:a::2/64 dev r6a nodad
ip -n "$nsA" link set r6a up
ip -n "$nsA" -6 route add default via fd00:a::1
ip -n "$nsB" addr add fd00:b::2/64 dev r6b nodad
ip -n "$nsB" link set r6b up
ip -n "$nsB" -6 route add default via fd00:b::1
sleep 1 # the router's DAD
ip netns exec "$nsA" ping -6 -c 3 -i 0.2 -w 6 fd00:b::2 >"$tmp/rping" 2>&1
check "linux ping -6 A -> B through tern router: replies" grep -q '3 received' "$tmp/rping"
check "replies crossed one router (ttl=63)" grep -q 'from fd00:b::2: icmp_seq=[0-9]* ttl=63 ' "$tmp/rping"
ip netns exec "$nsA" ping -6 -c 2 -i 0.2 -W 2 -s 8000 fd00:b::2 >"$tmp/rping8000" 2>&1
check "linux ping -6 -s 8000 through tern router (fragments forwarded)" grep -q '2 received' "$tmp/rping8000"
ip netns exec "$nsA" timeout 20 traceroute -6 -n -q 1 -w 1 -m 4 fd00:b::2 >"$tmp/trace" 2>&1
check "traceroute -6 through tern router: hop 1 is the router" grep -Eq '^ 1  fd00:a::1 ' "$tmp/trace"
check "traceroute -6 through tern router: hop 2 is B" grep -Eq '^ 2  fd00:b::2 ' "$tmp/trace"
kill -TERM $rpid 2>/dev/null
wait $rpid 2>/dev/null
check "tern router counts IPv6 forwarded" grep -Eq 'IPv6: [0-9]+ received, [1-9][0-9]* forwarded' "$tmp/router.err"

pcap_check "$tmp/serve.pcap" "$tmp/tping_g.pcap" "$tmp/tping_ll.pcap" "$tmp/tping_big.pcap" \
    "$tmp/router-r6a.pcap" "$tmp/router-r6b.pcap"
# ICMPv6 checksums (pcap_check judges IPv4's): none bad, and some checked
for f in serve.pcap tping_g.pcap tping_big.pcap; do
    st=$(tshark -r "$tmp/$f" -Y icmpv6 -T fields -e icmpv6.checksum.status 2>/dev/null)
    good=$(grep -c '^1$' <<<"$st")
    bad=$(grep -vc '^1$' <<<"$st")
    check "tshark: $f: $good ICMPv6 checksums good, none bad" test "$good" -gt 0 -a "$bad" -eq 0
done
