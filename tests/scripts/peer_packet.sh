#!/usr/bin/env bash
# slow (20-30 s, mostly tshark and three namespaces): runs once, against the sanitizer build
# Real peers over AF_PACKET (--packet): tern on one end of a veth pair in
# namespace A (no kernel address on that end, ARP off there), Linux on the
# other end in namespace B; both namespaces are made here and removed on exit.
# Linux keeps its veth offloads (TSO, partial checksums), so tern also gets
# 64 KiB super-segments and unfinished checksums the device must complete.
#   - Linux `ping -c 5` to tern gets 5 replies, `ping -s 8000` (fragmented)
#     gets its replies; `tern ping` to Linux gets 3;
#   - Linux `nc -N` to tern's TCP echo: 2 MB back, sha256 equal; again
#     with Linux's transmit checksumming off (frames marked verified);
#   - `tern nc` <-> Linux `nc -l -N`: 2 MB each way at once, sha256 equal;
#     (with strace: fewer than 1 sendto per 4 frames sent - the transmit ring);
#   - Linux `nc -u` to tern's UDP echo: a line and 8000 bytes back;
#   - tern's end set down and up again: tern goes on answering;
#   - the kernel on tern's end answered no ARP and sent no RST for tern's
#     address (nothing from its MAC in tern's pcap but nothing at all);
#   - `tern router --packet` between two veths forwards Linux's ping;
#   - `ip link del` of the veth under a running `tern serve`: it exits 1
#     within 2 s saying "tern: IF: device removed"; also when the interface
#     was set down first (the kernel then reports no error for the removal);
#   - tshark reads every pcap tern wrote with no malformed packet and no
#     checksum error.
set -u
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
. tests/scripts/lib/pcap_check.sh
. tests/scripts/lib/peer.sh
peer_setup peer_packet --no-tun ping nc tshark sha256sum timeout

na=tern-pka-$$ nb=tern-pkb-$$ nc=tern-pkc-$$
ina() { ip netns exec "$na" "$@"; }
inb() { ip netns exec "$nb" "$@"; }
# Debian's nc -u closes its socket as soon as stdin ends: keep it open a moment
lnc() { { cat; sleep 0.5; } | inb timeout 5 nc -u -w1 "$@"; }

peer_netns "$na" "$nb" "$nc"
# tern's end tpk0: no address, no ARP, no IPv6 (the kernel stays silent on
# it); Linux 10.81.0.1 on tpk1
ip link add tpk0 netns "$na" type veth peer name tpk1 netns "$nb" || { nok "create veth"; exit 1; }
ip netns exec "$na" sysctl -qw net.ipv6.conf.tpk0.disable_ipv6=1
ip -n "$na" link set tpk0 arp off up
ip -n "$nb" addr add 10.81.0.1/24 dev tpk1
ip -n "$nb" link set tpk1 up
T=10.81.0.2 L=10.81.0.1 mac=02:7e:72:6e:00:81
topts=(--packet tpk0 --addr $T/24 --mac $mac)
head -c 2000000 /dev/urandom >"$tmp/a"
head -c 2000000 /dev/urandom >"$tmp/b"

# ---- tern serve: ping, TCP echo, UDP echo ----
ip netns exec "$na" "$tern" serve "${topts[@]}" --all-classic --pcap "$tmp/serve.pcap" \
    --for 60 >"$tmp/serve.out" 2>"$tmp/serve.err" &
pids+=($!)
for _ in $(seq 50); do grep -q running "$tmp/serve.err" 2>/dev/null && break; sleep 0.1; done

inb ping -c 5 -i 0.2 -W 2 $T >"$tmp/ping5" 2>&1
check "linux ping -c 5 to tern over AF_PACKET: 5 replies" grep -q '5 packets transmitted, 5 received' "$tmp/ping5"
inb ping -c 3 -i 0.2 -W 2 -s 8000 $T >"$tmp/ping8000" 2>&1
check "linux ping -s 8000 to tern (fragmented both ways): 3 replies" grep -q '3 packets transmitted, 3 received' "$tmp/ping8000"
inb ip neigh show $T dev tpk1 >"$tmp/neigh"
check "linux neighbour table learned tern's MAC" grep -qi "lladdr $mac" "$tmp/neigh"

inb timeout 20 nc -N $T 7 <"$tmp/a" >"$tmp/a.echo"
check "linux nc -N to tern tcp echo: 2 MB back, sha256 equal" same "$tmp/a" "$tmp/a.echo"

printf 'hello tern over AF_PACKET\n' >"$tmp/line"
lnc $T 7 <"$tmp/line" >"$tmp/line.back"
check "linux nc -u to tern udp echo: the line comes back" cmp -s "$tmp/line" "$tmp/line.back"
head -c 8000 /dev/urandom >"$tmp/r8000"
lnc $T 7 <"$tmp/r8000" >"$tmp/r8000.back"
check "linux nc -u to tern udp echo: 8000 bytes (fragmented both ways) back" cmp -s "$tmp/r8000" "$tmp/r8000.back"
# Linux's end without transmit checksumming and GRO (threaded NAPI) on
# tern's end: the kernel checks the segments as it merges them and hands
# them over marked verified (TP_STATUS_CSUM_VALID; seen on Linux 6.18 for
# about half the frames of this run), which tern takes instead of summing
# them again (TERN_RX_CSUM_OK; the flag logic is unit-tested in
# tests/dev/packet_test.c): the echo must still come back intact.
if command -v ethtool >/dev/null; then
    gro=$(ip netns exec "$na" ethtool -k tpk0 2>/dev/null | awk '/^generic-receive-offload:/ {print $2}')
    inb ethtool -K tpk1 tx off >/dev/null 2>&1
    ip netns exec "$na" ethtool -K tpk0 gro on >/dev/null 2>&1
    ip netns exec "$na" sh -c 'echo 1 >/sys/class/net/tpk0/threaded' 2>/dev/null
    inb timeout 20 nc -N $T 7 <"$tmp/a" >"$tmp/a.echo2"
    check "linux (tx checksum off, GRO on tern's end) nc -N to tern tcp echo: 2 MB back, sha256 equal" \
        same "$tmp/a" "$tmp/a.echo2"
    ip netns exec "$na" sh -c 'echo 0 >/sys/class/net/tpk0/threaded' 2>/dev/null
    ip netns exec "$na" ethtool -K tpk0 gro "${gro:-off}" >/dev/null 2>&1
    inb ethtool -K tpk1 tx on >/dev/null 2>&1
else
    echo "skip - verified checksums from the kernel: ethtool missing (bench/deps.sh installs it)"
fi
# Down and up again is not removal: the kernel re-attaches the socket.
ip -n "$na" link set tpk0 down
sleep 0.3
ip -n "$na" link set tpk0 up
inb ping -c 2 -i 0.2 -W 2 $T >"$tmp/ping_updown" 2>&1
check "tpk0 down and up again under tern serve: it goes on (linux ping: 2 replies)" \
    grep -q '2 packets transmitted, 2 received' "$tmp/ping_updown"
stop_bg

# ---- tern nc <-> Linux nc -l -N, 2 MB each way at once ----
ip netns exec "$nb" timeout 30 nc -l -N $L 5001 <"$tmp/b" >"$tmp/l1.got" 2>"$tmp/l1.err" &
lpid=$!
sleep 0.3
# (under strace when there is one: the transmit ring's batching is counted;
# LeakSanitizer cannot run under ptrace, so a sanitizer build skips it here)
st=()
command -v strace >/dev/null &&
    st=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
        strace -f -qq -e trace=sendto,sendmsg -c -o "$tmp/strace.txt")
ina timeout 30 "${st[@]}" "$tern" nc "${topts[@]}" --pcap "$tmp/nc.pcap" $L 5001 \
    <"$tmp/a" >"$tmp/t1.got" 2>"$tmp/t1.err"
rc=$?
wait $lpid
if [ ${#st[@]} -gt 0 ]; then
    calls=$(awk '$NF == "sendto" { print $4 }' "$tmp/strace.txt")
    frames=$(tshark -r "$tmp/nc.pcap" -Y "eth.src == $mac" 2>/dev/null | wc -l)
    check "tern nc sent $frames frames with ${calls:-?} sendto calls (the transmit ring: < 1 per 4 frames)" \
        awk -v c="${calls:-999999}" -v f="$frames" 'BEGIN { exit !(f > 1000 && c * 4 < f) }'
else
    echo "skip - the transmit ring's batching: strace missing (tests/deps.sh installs it)"
fi
check "tern nc to linux nc -l -N: exit 0" [ $rc -eq 0 ]
check "linux got tern's 2 MB (sha256 equal)" same "$tmp/a" "$tmp/l1.got"
check "tern got linux's 2 MB (sha256 equal)" same "$tmp/b" "$tmp/t1.got"
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/t1.err"

# ---- tern ping -> Linux ----
ina timeout 10 "$tern" ping -c 3 -i 0.2 "${topts[@]}" $L >"$tmp/ternping" 2>&1
rc=$?
check "tern ping over AF_PACKET exits 0" [ $rc -eq 0 ]
check "tern ping over AF_PACKET: 3 replies" \
    grep -qE '^3 packets transmitted, 3 received, 0% packet loss' "$tmp/ternping"

# ---- the kernel on tern's end kept out of tern's address ----
# Every frame in tern serve's capture comes from tern's MAC or from Linux's end
# (tpk1); none from the kernel on tpk0 (no ARP answer, no RST, no IPv6).
lmac=$(inb cat /sys/class/net/tpk1/address)
tshark -r "$tmp/serve.pcap" -T fields -e eth.src 2>/dev/null >"$tmp/srcs"
kmac=$(ina cat /sys/class/net/tpk0/address)
check "tern serve's pcap holds frames from tern and linux only (not the kernel's $kmac)" \
    awk -v t="$mac" -v l="$lmac" 'BEGIN { n = 0 } { n++; if ($1 != t && $1 != l) bad++ }
        END { exit !(n > 100 && !bad) }' "$tmp/srcs"

# ---- tern router between two veths: Linux in B <-> tern router <-> Linux in C ----
ip link add tpk2 netns "$na" type veth peer name tpk3 netns "$nc"
ip netns exec "$na" sysctl -qw net.ipv6.conf.tpk2.disable_ipv6=1
ip -n "$na" link set tpk2 arp off up
ip -n "$nc" addr add 10.82.0.1/24 dev tpk3
ip -n "$nc" link set tpk3 up
ip -n "$nb" route add 10.82.0.0/24 via 10.81.0.254
ip -n "$nc" route add 10.81.0.0/24 via 10.82.0.254
ip netns exec "$na" "$tern" router --packet tpk0 10.81.0.254/24 --packet tpk2 10.82.0.254/24 \
    >/dev/null 2>"$tmp/router.err" &
pids+=($!)
sleep 0.5
inb ping -c 3 -i 0.2 -W 2 10.82.0.1 >"$tmp/ping_routed" 2>&1
check "linux ping through tern router on two AF_PACKET veths: 3 replies" \
    grep -q '3 packets transmitted, 3 received' "$tmp/ping_routed"
check "... the replies crossed one router (ttl=63)" grep -q 'ttl=63' "$tmp/ping_routed"
stop_bg

# ---- the veth deleted under a running tern ----
ip netns exec "$na" "$tern" serve "${topts[@]}" --for 60 >/dev/null 2>"$tmp/gone.err" &
spid=$!
pids+=($spid)
for _ in $(seq 50); do grep -q running "$tmp/gone.err" 2>/dev/null && break; sleep 0.1; done
t0=$(date +%s.%N)
ip -n "$nb" link del tpk1
rc=124
for _ in $(seq 40); do
    if ! kill -0 $spid 2>/dev/null; then wait $spid; rc=$?; break; fi
    sleep 0.05
done
t1=$(date +%s.%N)
check "tern serve exits within 2 s of the veth's deletion" \
    awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 2.0) }'
check "... with status 1" [ $rc -eq 1 ]
check "... saying 'tern: tpk0: device removed'" grep -qx 'tern: tpk0: device removed' "$tmp/gone.err"
stop_bg

# ---- set down first, deleted a moment later: the kernel reports only the
# down (the removal then finds the socket detached), so tern must look ----
ip link add tpk0 netns "$na" type veth peer name tpk1 netns "$nb"
ip -n "$na" link set tpk0 arp off up
ip netns exec "$na" "$tern" serve "${topts[@]}" --for 60 >/dev/null 2>"$tmp/gone2.err" &
spid=$!
pids+=($spid)
for _ in $(seq 50); do grep -q running "$tmp/gone2.err" 2>/dev/null && break; sleep 0.1; done
ip -n "$na" link set tpk0 down
sleep 0.5
t0=$(date +%s.%N)
ip -n "$na" link del tpk0
rc=124
for _ in $(seq 40); do
    if ! kill -0 $spid 2>/dev/null; then wait $spid; rc=$?; break; fi
    sleep 0.05
done
t1=$(date +%s.%N)
check "tpk0 set down, then deleted 0.5 s later: tern serve exits within 2 s" \
    awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 2.0) }'
check "... with status 1, saying 'device removed'" \
    eval '[ $rc -eq 1 ] && grep -qx "tern: tpk0: device removed" "$tmp/gone2.err"'
stop_bg

check "no sanitizer report from any tern run" \
    eval '! grep -l "Sanitizer\|runtime error" "$tmp"/*.err "$tmp"/ternping'
pcap_check "$tmp"/*.pcap
if [ $peer_failed -ne 0 ]; then sed 's/^/# /' "$tmp"/serve.err; fi
exit 0
