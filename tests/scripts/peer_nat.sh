#!/usr/bin/env bash
# slow: runs against the sanitizer build only (tests/run.sh)
# Real peers for issue 14: `tern router --nat` between Linux namespaces this
# script creates (no route out; removed on exit).
#
#   inside: C1 192.168.71.10 (namespace I, on bridge br0)
#           C2 192.168.71.11 (namespace C2, veth into br0)
#       --TAP nin-- [tern router 192.168.71.1 | 10.73.0.1, NAT on nout] --TAP nout--
#   outside: O 10.73.0.2, a Linux router (no route to 192.168.71.0/24)
#            --veth-- S 10.73.1.2, the Linux server (default via O)
#
# Run 1 (NAT, UDP timeout 4 s, tcp:8080 -> C1:8000):
#   - ping from C1 and C2 at once (same ICMP id mapped apart): all replies;
#   - traceroute -n and -I from C1 show tern, then O (beyond the NAT), then S;
#   - curl in C1 downloads 20 MB from S, byte-exact; S's log shows only the
#     router's outside address;
#   - UDP both ways within the mapping timeout, refused after it;
#   - port forwarding: curl in S to 10.73.0.1:8080 reaches C1's server;
#   - hairpinning: curl in C2 to 10.73.0.1:8080 reaches C1 the same way;
#   - SIGUSR1 prints the table as conntrack -L does.
# Run 2 (NAT + --firewall FILE): the rule file allows the forwarded port
#   8080 (C1:8000) and denies 8082 (C1:8001); pings out still work.
# Every pcap tern wrote is checked with tshark (checksums after translation).
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
peer_setup peer_nat ping traceroute curl tshark sha256sum timeout python3

p=tnat$$
nsR=$p-r nsI=$p-i nsC2=$p-c2 nsO=$p-o nsS=$p-s
all_ns="$nsR $nsI $nsC2 $nsO $nsS"
inn() { local n=$1; shift; ip netns exec "$n" "$@"; }

peer_netns $all_ns
# inside: bridge in I (C1 is I itself), C2 on a veth
ip -n "$nsI" link add br0 type bridge
ip -n "$nsI" addr add 192.168.71.10/24 dev br0
ip -n "$nsI" link set br0 up
ip link add "$p-v1" netns "$nsC2" type veth peer name "$p-v2" netns "$nsI"
ip -n "$nsI" link set "$p-v2" master br0
ip -n "$nsI" link set "$p-v2" up
ip -n "$nsC2" addr add 192.168.71.11/24 dev "$p-v1"
ip -n "$nsC2" link set "$p-v1" up
for n in $nsI $nsC2; do ip -n "$n" route add default via 192.168.71.1; done
# outside: O routes between the NAT's link and S; no route to the inside
ip link add "$p-v3" netns "$nsO" type veth peer name "$p-v4" netns "$nsS"
ip -n "$nsO" addr add 10.73.1.1/24 dev "$p-v3"
ip -n "$nsO" link set "$p-v3" up
ip -n "$nsS" addr add 10.73.1.2/24 dev "$p-v4"
ip -n "$nsS" link set "$p-v4" up
ip -n "$nsS" route add default via 10.73.1.1
inn "$nsO" sysctl -qw net.ipv4.ip_forward=1
for n in $nsO $nsS; do inn "$n" sysctl -qw net.ipv4.icmp_ratelimit=0; done

# Starts tern router with extra options; TAPs moved to I and O.
start_router() { # name, options...
    local name=$1; shift
    ip -n "$nsR" tuntap add dev nin mode tap
    ip -n "$nsR" tuntap add dev nout mode tap
    ip netns exec "$nsR" "$tern" router --tap nin 192.168.71.1/24 --tap nout 10.73.0.1/24 \
        --route 10.73.1.0/24,10.73.0.2 --nat nout --pcap "$tmp/$name.pcap" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    rpid=$!
    pids+=($rpid)
    for _ in $(seq 50); do grep -q forwarding "$tmp/$name.err" 2>/dev/null && break; sleep 0.1; done
    check "tern router --nat starts ($name)" grep -q 'forwarding' "$tmp/$name.err"
    ip -n "$nsR" link set nin netns "$nsI"
    ip -n "$nsR" link set nout netns "$nsO"
    ip -n "$nsI" link set nin master br0
    ip -n "$nsI" link set nin up
    ip -n "$nsO" addr add 10.73.0.2/24 dev nout
    ip -n "$nsO" link set nout up
}
stop_router() { # name
    kill -TERM $rpid
    wait $rpid
    local rc=$?
    pids=("${pids[@]/$rpid}")
    check "tern router exits 0 on SIGTERM ($1, rc $rc)" [ $rc -eq 0 ]
    sed 's/^/# /' "$tmp/$1.err"
    ip -n "$nsI" link del nin 2>/dev/null
    ip -n "$nsO" link del nout 2>/dev/null
}
start_http() { # ns, addr, port, dir, log
    (cd "$4" && exec ip netns exec "$1" python3 -m http.server "$3" --bind "$2" >"$5" 2>&1) &
    pids+=($!)
    for _ in $(seq 50); do inn "$1" ss -ltn 2>/dev/null | grep -q ":$3 " && break; sleep 0.1; done
}

# ---- Run 1: NAT ----
start_router nat --nat-timeout udp=4 --forward tcp:8080=192.168.71.10:8000

inn "$nsI" ping -c 5 -i 0.2 -W 2 10.73.1.2 >"$tmp/ping1" 2>&1 &
p1=$!
inn "$nsC2" ping -c 5 -i 0.2 -W 2 10.73.1.2 >"$tmp/ping2" 2>&1
wait $p1
check "ping C1 -> S through the NAT: 5 replies" grep -q '5 packets transmitted, 5 received' "$tmp/ping1"
check "ping C2 -> S at the same time: 5 replies" grep -q '5 packets transmitted, 5 received' "$tmp/ping2"
inn "$nsI" ping -c 2 -i 0.2 -W 2 -s 4000 10.73.1.2 >"$tmp/ping4000" 2>&1
check "ping -s 4000 through the NAT (fragments reassembled, translated, refragmented)" \
    grep -q '2 packets transmitted, 2 received' "$tmp/ping4000"

inn "$nsI" timeout 60 traceroute -w 5 -n 10.73.1.2 >"$tmp/ltr" 2>&1
sed 's/^/# /' "$tmp/ltr"
check "traceroute -n from inside: tern, then O beyond the NAT (10.73.0.2), then S" \
    [ "$(sed -E 's/  [0-9.]+ ms//g' "$tmp/ltr" | tail -n 3 | tr '\n' '|')" = \
      " 1  192.168.71.1| 2  10.73.0.2| 3  10.73.1.2|" ]
inn "$nsI" timeout 60 traceroute -w 5 -n -I 10.73.1.2 >"$tmp/ltrI" 2>&1
sed 's/^/# /' "$tmp/ltrI"
check "traceroute -n -I from inside: tern, O, S" \
    [ "$(sed -E 's/  [0-9.]+ ms//g' "$tmp/ltrI" | tail -n 3 | tr '\n' '|')" = \
      " 1  192.168.71.1| 2  10.73.0.2| 3  10.73.1.2|" ]

mkdir -p "$tmp/www" "$tmp/c1www"
head -c 20971520 /dev/urandom >"$tmp/www/big.bin"
echo "C1 says hello" >"$tmp/c1www/hello.txt"
start_http "$nsS" 10.73.1.2 8071 "$tmp/www" "$tmp/http.log"
inn "$nsI" timeout 120 curl -s -o "$tmp/got.bin" http://10.73.1.2:8071/big.bin
check "curl through the NAT exits 0" [ $? -eq 0 ]
want=$(sha256sum <"$tmp/www/big.bin" | cut -d' ' -f1)
got=$(sha256sum <"$tmp/got.bin" 2>/dev/null | cut -d' ' -f1)
check "curl downloaded 20 MB through the NAT byte-exact (sha256)" [ "$want" = "$got" ]
check "the server saw only the router's outside address" \
    [ "$(grep -c 'GET /big.bin' "$tmp/http.log")" -ge 1 -a "$(grep -v '^10\.73\.0\.1 ' "$tmp/http.log" | grep -c GET)" -eq 0 ]

# UDP: S echoes, pushes once within the timeout, once after it.
cat >"$tmp/udp_s.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.73.1.2", 9999))
s.settimeout(20)
data, peer = s.recvfrom(100)
print("peer", peer[0], peer[1], flush=True)
s.sendto(b"pong", peer)
time.sleep(1)
s.sendto(b"push-within", peer)
time.sleep(8)
s.sendto(b"push-after", peer)
EOF
cat >"$tmp/udp_c.py" <<'EOF'
import socket
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.bind(("0.0.0.0", 40000))
c.settimeout(5)
c.sendto(b"ping", ("10.73.1.2", 9999))
print(c.recvfrom(100)[0].decode(), flush=True)
print(c.recvfrom(100)[0].decode(), flush=True)
c.settimeout(12)
try:
    print(c.recvfrom(100)[0].decode(), flush=True)
except socket.timeout:
    print("timeout", flush=True)
EOF
inn "$nsS" python3 "$tmp/udp_s.py" >"$tmp/udp_s.out" 2>&1 &
us=$!
sleep 0.5
inn "$nsI" timeout 30 python3 "$tmp/udp_c.py" >"$tmp/udp_c.out" 2>&1
wait $us
sed 's/^/# udp client: /' "$tmp/udp_c.out"
sed 's/^/# udp server: /' "$tmp/udp_s.out"
check "UDP: the server saw the router's address and the preserved port 40000" \
    grep -q '^peer 10.73.0.1 40000$' "$tmp/udp_s.out"
check "UDP both ways within the mapping timeout (pong, then a server push)" \
    [ "$(head -n 2 "$tmp/udp_c.out" | tr '\n' ' ')" = "pong push-within " ]
check "UDP refused after the mapping timed out (4 s)" \
    [ "$(sed -n 3p "$tmp/udp_c.out")" = "timeout" ]

start_http "$nsI" 192.168.71.10 8000 "$tmp/c1www" "$tmp/c1http.log"
inn "$nsS" timeout 20 curl -s http://10.73.0.1:8080/hello.txt >"$tmp/fwd.txt" 2>&1
check "port forwarding: S reaches C1's server at 10.73.0.1:8080" grep -q 'C1 says hello' "$tmp/fwd.txt"
inn "$nsC2" timeout 20 curl -s http://10.73.0.1:8080/hello.txt >"$tmp/hairpin.txt" 2>&1
check "hairpinning: C2 reaches C1 through the outside address and port" \
    grep -q 'C1 says hello' "$tmp/hairpin.txt"
check "C1 saw S as itself (DNAT keeps the source), C2 as the router's outside address (RFC 4787 REQ-9)" \
    [ "$(grep -o '^[0-9.]* .*GET /hello.txt' "$tmp/c1http.log" | cut -d' ' -f1 | tr '\n' ' ')" = "10.73.1.2 10.73.0.1 " ]

kill -USR1 $rpid
sleep 0.5
sed 's/^/# conntrack: /' "$tmp/nat.out" | head -20
check "SIGUSR1: conntrack -L lines (TCP to S, through the NAT address)" \
    grep -qE '^tcp +6 [0-9]+ [A-Z_]+ src=192\.168\.71\.10 dst=10\.73\.1\.2 sport=[0-9]+ dport=8071 src=10\.73\.1\.2 dst=10\.73\.0\.1 sport=8071 dport=[0-9]+ ' "$tmp/nat.out"
check "SIGUSR1: the forwarded port's session" \
    grep -qE '^tcp +6 [0-9]+ [A-Z_]+ src=10\.73\.1\.2 dst=10\.73\.0\.1 sport=[0-9]+ dport=8080 src=192\.168\.71\.10 dst=10\.73\.1\.2 sport=8000 dport=[0-9]+ ' "$tmp/nat.out"
check "SIGUSR1: the ping sessions" grep -qE '^icmp +1 [0-9]+ src=192\.168\.71\.11 dst=10\.73\.1\.2 type=8' "$tmp/nat.out"
stop_router nat
check "NAT counters: translated both ways, ICMP errors translated, hairpinned" \
    grep -qE 'NAT: [1-9][0-9]* out, [1-9][0-9]* in, [1-9][0-9]* hairpinned, [1-9][0-9]* ICMP errors' "$tmp/nat.err"
check "NAT counters: the UDP session expired" grep -qE 'sessions [0-9]+ created, [1-9][0-9]* expired' "$tmp/nat.err"

# ---- Run 2: NAT + firewall rule file ----
cat >"$tmp/rules" <<'EOF'
# new inbound flows, after port forwarding (rules see the inside address)
allow tcp from any to 192.168.71.10 port 8000
deny all
EOF
mkdir -p "$tmp/c1www2"
echo "second server" >"$tmp/c1www2/two.txt"
start_http "$nsI" 192.168.71.10 8001 "$tmp/c1www2" "$tmp/c1http2.log"
start_router fw --forward tcp:8080=192.168.71.10:8000 --forward tcp:8082=192.168.71.10:8001 \
    --firewall "$tmp/rules"
inn "$nsS" timeout 20 curl -s http://10.73.0.1:8080/hello.txt >"$tmp/fw1.txt" 2>&1
check "firewall: the allowed forwarded port passes" grep -q 'C1 says hello' "$tmp/fw1.txt"
inn "$nsS" timeout 5 curl -s --connect-timeout 3 http://10.73.0.1:8082/two.txt >"$tmp/fw2.txt" 2>&1
check "firewall: the other forwarded port is denied" [ ! -s "$tmp/fw2.txt" ]
inn "$nsI" ping -c 2 -i 0.2 -W 2 10.73.1.2 >"$tmp/fwping" 2>&1
check "firewall: outbound flows and their replies pass" grep -q '2 packets transmitted, 2 received' "$tmp/fwping"
stop_router fw
check "firewall counters: allowed 1, denied >= 1" grep -qE 'firewall 1 allowed, [1-9][0-9]* denied' "$tmp/fw.err"

"$tern" router --tap a 10.0.0.1/24 --tap b 10.0.1.1/24 --nat c >/dev/null 2>&1
check "tern router --nat with an unknown TAP is a usage error (2)" [ $? -eq 2 ]
"$tern" router --tap a 10.0.0.1/24 --tap b 10.0.1.1/24 --nat b --nat-mapping xyz >/dev/null 2>&1
check "tern router --nat-mapping xyz is a usage error (2)" [ $? -eq 2 ]

pcap_check "$tmp"/nat-nin.pcap "$tmp"/nat-nout.pcap "$tmp"/fw-nin.pcap "$tmp"/fw-nout.pcap
exit 0
