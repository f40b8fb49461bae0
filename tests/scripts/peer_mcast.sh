#!/usr/bin/env bash
# slow: runs against the sanitizer build only (tests/run.sh)
# Real peer for IPv4 multicast: the Linux kernel (python3's socket module)
# and tern over a TAP device inside a network namespace this script creates
# (no route out; removed on exit). A few seconds.
#   - Linux -> tern: `tern nc -u -l --join 239.1.2.3 5000` receives a stream
#     of 40 datagrams Linux sends to the group (IP_MULTICAST_IF, TTL 1),
#     byte-exact and in order;
#   - tern's IGMPv3 membership report reaches Linux: tcpdump in the namespace
#     captures it and tshark parses it cleanly (version 3, one
#     CHANGE_TO_EXCLUDE_MODE record for 239.1.2.3, Router Alert, TTL 1);
#   - tern -> Linux: a Linux socket that joined 239.1.2.4 (IP_ADD_MEMBERSHIP)
#     receives `tern nc -u 239.1.2.4 5001`'s stream byte-exact, a 16384-byte
#     datagram fragmented by tern among them, from tern's address;
#   - when tern nc exits, its leave (CHANGE_TO_INCLUDE_MODE) is on the wire;
#   - tshark reads every pcap cleanly (merged: one pass); no sanitizer report.
# KEEP=1 copies the temporary directory to /tmp/peer_mcast_keep for a look.
set -u
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
. tests/scripts/lib/pcap_check.sh
. tests/scripts/lib/peer.sh
peer_setup peer_mcast tshark tcpdump timeout cmp /usr/bin/python3

ns=tern-mc-$$

peer_netns "$ns" # (inns: foreground only, $! of a function is a subshell)
ip -n "$ns" tuntap add dev tmc0 mode tap
ip -n "$ns" addr add 10.81.0.1/24 dev tmc0
ip -n "$ns" link set tmc0 up
T=10.81.0.2 L=10.81.0.1 G1=239.1.2.3 G2=239.1.2.4
topts=(--tap tmc0 --addr $T/24 --mac 02:7e:72:6e:00:81)

# Linux's view of the link: tern's IGMP (reports and leaves).
ip netns exec "$ns" tcpdump -i tmc0 -U -s 0 -w "$tmp/linux.pcap" igmp 2>"$tmp/tcpdump.err" &
tcpdump_pid=$!
pids+=($tcpdump_pid)
for _ in $(seq 50); do grep -q listening "$tmp/tcpdump.err" && break; sleep 0.1; done

# ---- Linux -> tern: a group stream ----
head -c 40000 /dev/urandom >"$tmp/to_tern"
ip netns exec "$ns" timeout 20 "$tern" nc -u -l --join $G1 "${topts[@]}" --pcap "$tmp/member.pcap" 5000 \
    >"$tmp/member.out" 2>"$tmp/member.err" &
member=$!
pids+=($member)
sleep 0.5
inns /usr/bin/python3 - "$tmp/to_tern" $G1 $L <<'EOF'
import socket, sys, time
data = open(sys.argv[1], 'rb').read()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(sys.argv[3]))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
for i in range(0, len(data), 1000):
    s.sendto(data[i:i + 1000], (sys.argv[2], 5000))
    time.sleep(0.003)
EOF
for _ in $(seq 30); do [ "$(wc -c <"$tmp/member.out")" -ge 40000 ] && break; sleep 0.1; done
sleep 1 # the join's retransmission goes within 1 s (RFC 3376 s8.11), before the leave
kill -TERM $member 2>/dev/null
wait $member 2>/dev/null
check "linux -> tern: 40 datagrams to $G1 received by tern nc --join, byte-exact" \
    cmp -s "$tmp/to_tern" "$tmp/member.out"
[ -s "$tmp/member.err" ] && sed 's/^/# /' "$tmp/member.err" | head -5

# ---- tern -> Linux: a Linux member of G2 ----
head -c 30000 /dev/urandom >"$tmp/to_linux"
ip netns exec "$ns" timeout 20 /usr/bin/python3 - $G2 $L "$tmp/linux.got" "$tmp/linux.ready" 30000 \
    >"$tmp/linux_rx.out" 2>&1 <<'EOF' &
import socket, sys
g, ifaddr, out, ready, want = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('', 5001))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(g) + socket.inet_aton(ifaddr))
open(ready, 'w').close()
s.settimeout(10)
got, senders, sizes = b'', set(), []
while len(got) < want:
    d, a = s.recvfrom(65536)
    got += d
    senders.add(a[0])
    sizes.append(len(d))
open(out, 'wb').write(got)
print('senders', ' '.join(sorted(senders)))
print('largest', max(sizes))
EOF
lrx=$!
pids+=($lrx)
for _ in $(seq 50); do [ -e "$tmp/linux.ready" ] && break; sleep 0.1; done
inns timeout 20 "$tern" nc -u -q 1 "${topts[@]}" --pcap "$tmp/sender.pcap" $G2 5001 \
    <"$tmp/to_linux" >"$tmp/sender.out" 2>"$tmp/sender.err"
rc=$?
wait $lrx 2>/dev/null
check "tern nc -u $G2 5001: exit 0" [ $rc -eq 0 ]
check "tern -> linux: linux's member of $G2 got tern's stream byte-exact" \
    cmp -s "$tmp/to_linux" "$tmp/linux.got"
check "tern -> linux: from tern's address, a 16384-byte datagram (fragmented) among them" \
    grep -qx "senders $T" "$tmp/linux_rx.out"
grep -qx 'largest 16384' "$tmp/linux_rx.out" || sed 's/^/# /' "$tmp/linux_rx.out"
check "tern's multicast fragments left with the mapped MAC 01:00:5e:01:02:04" \
    [ "$(tshark -r "$tmp/sender.pcap" -Y "eth.dst == 01:00:5e:01:02:04 && ip.flags.mf == 1" 2>/dev/null | wc -l)" -ge 1 ]

sleep 0.3
kill -TERM $tcpdump_pid 2>/dev/null
wait $tcpdump_pid 2>/dev/null

# ---- tern's IGMPv3 reports as Linux captured them ----
fields() { tshark -r "$1" -Y "$2" -T fields -e ip.src -e ip.dst -e ip.ttl -e ip.opt.type \
    -e igmp.version -e igmp.type -e igmp.num_grp_recs -e igmp.record_type -e igmp.maddr 2>/dev/null; }
fields "$tmp/linux.pcap" "ip.src == $T" >"$tmp/tern_igmp.txt"
sed 's/^/# linux saw: /' "$tmp/tern_igmp.txt" | head -8
join_ok() { grep -qP "^$T\t224\.0\.0\.22\t1\t148\t3\t0x22\t1\t4\t$G1$" "$tmp/tern_igmp.txt"; }
leave_ok() { grep -qP "^$T\t224\.0\.0\.22\t1\t148\t3\t0x22\t1\t3\t$G1$" "$tmp/tern_igmp.txt"; }
check "linux saw tern's IGMPv3 report: TO_EX {} for $G1, TTL 1, Router Alert" join_ok
check "linux saw tern's IGMPv3 leave: TO_IN {} for $G1 when tern nc stopped" leave_ok
check "tern's join report went twice (robustness 2)" \
    [ "$(grep -cP "\t4\t$G1$" "$tmp/tern_igmp.txt")" -eq 2 ]

# tshark is slow to start: one pass over all three captures (mergecap comes
# with tshark's wireshark-common).
# The streams carry random bytes: dissected as plain data, or tshark's
# heuristics may take one for RTP/RTCP and call it malformed.
export PCAP_CHECK_OPTS="-d udp.port==5000,data -d udp.port==5001,data"
if command -v mergecap >/dev/null && mergecap -w "$tmp/all.pcapng" "$tmp"/*.pcap 2>/dev/null; then
    pcap_check "$tmp/all.pcapng"
else
    pcap_check "$tmp"/*.pcap
fi
san=$(grep -l -E 'Sanitizer|runtime error' "$tmp"/*.err 2>/dev/null)
check "no sanitizer reports from tern" [ -z "$san" ]
for f in $san; do sed 's/^/# /' "$f" | head -20; done
exit 0
