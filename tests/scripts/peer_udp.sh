#!/usr/bin/env bash
# slow: runs against the sanitizer build only (tests/run.sh)
# Real peers for UDP: the Linux kernel and Debian's netcat-openbsd talk to
# tern over a TAP device inside a network namespace this script creates (no
# route out; removed on exit).
#   - Linux `nc -u` to tern's echo service gets the same bytes back (a line,
#     1000 random bytes, 8000 random bytes fragmented both ways; service name
#     "echo" resolved by Linux from /etc/services);
#   - Linux `nc -u` gets daytime (equal to `date -u` while nc ran), time (32-bit
#     RFC 868 value: `date +%s` + 2208988800 while nc ran), qotd,
#     chargen (RFC 864 pattern, <= 512 bytes) and nothing from discard;
#   - a datagram to a closed tern port: Linux's connected UDP socket gets
#     ECONNREFUSED (python3 socket module) and tern's pcap holds the ICMP
#     port unreachable;
#   - SIGUSR1 and --netstat make tern serve print its socket table;
#   - `tern nc -u` sends to Linux `nc -u -l` (port given as a service name)
#     and gets the listener's reply; Linux `nc -u` talks to `tern nc -u -l`;
#   - `tern nc -u` to a closed Linux port prints "connection refused", exits 1;
#   - tshark reads every pcap tern wrote: no malformed packet, no bad checksum;
#     no tern run reported a sanitizer error (ASan/UBSan builds).
# KEEP=1 copies the temporary directory to /tmp/peer_udp_keep for a look.
set -u
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
. tests/scripts/lib/pcap_check.sh
. tests/scripts/lib/peer.sh
peer_setup peer_udp nc tshark od timeout /usr/bin/python3

ns=tern-udp-$$
# Debian's nc -u closes its socket as soon as stdin ends (even with -q), so
# keep stdin open a moment for the reply: lnc HOST PORT < input > output
lnc() { { cat; sleep 0.5; } | inns timeout 5 nc -u -w1 "$@"; }

peer_netns "$ns"
# Linux 10.79.0.1 <-> tern 10.79.0.2 (one MAC for every tern run, so
# Linux's neighbour entry stays right)
ip -n "$ns" tuntap add dev tudp0 mode tap
ip -n "$ns" addr add 10.79.0.1/24 dev tudp0
ip -n "$ns" link set tudp0 up
T=10.79.0.2 L=10.79.0.1 mac=02:7e:72:6e:00:79
topts=(--tap tudp0 --addr $T/24 --mac $mac)

# ---- tern serve with the classic services ----
ip netns exec "$ns" "$tern" serve "${topts[@]}" --all-classic --netstat --pcap "$tmp/serve.pcap" \
    --for 60 >"$tmp/serve.out" 2>"$tmp/serve.err" &
pids+=($!)
serve_pid=$!
sleep 0.5

printf 'hello tern echo\n' >"$tmp/line"
lnc $T 7 <"$tmp/line" >"$tmp/line.back"
check "linux nc -u to tern echo: the line comes back" cmp -s "$tmp/line" "$tmp/line.back"
head -c 1000 /dev/urandom >"$tmp/r1000"
lnc $T echo <"$tmp/r1000" >"$tmp/r1000.back"
check "linux nc -u to tern 'echo' (service name): 1000 random bytes back" cmp -s "$tmp/r1000" "$tmp/r1000.back"
head -c 8000 /dev/urandom >"$tmp/r8000"
lnc $T 7 <"$tmp/r8000" >"$tmp/r8000.back"
check "linux nc -u to tern echo: 8000 bytes (fragmented both ways) back" cmp -s "$tmp/r8000" "$tmp/r8000.back"

# daytime: RFC 867 text, compared with Linux's clock
t0=$(date +%s)
echo | lnc $T daytime >"$tmp/daytime"
t1=$(date +%s)
got=$(tr -d '\r\n' <"$tmp/daytime")
ok_day=1
for ((t = t0; t <= t1; t++)); do
    [ "$got" = "$(date -u -d "@$t" '+%A, %B %-d, %Y %H:%M:%S-UTC')" ] && ok_day=0
done
check "linux nc -u to tern daytime: '$got' is now (date -u while nc ran)" [ $ok_day -eq 0 ]
check "daytime ends with CR LF" [ "$(od -An -c "$tmp/daytime" | tr -d ' \n' | tail -c 4)" = '\r\n' ]
# time: RFC 868 32-bit big-endian seconds since 1900
t0=$(date +%s)
echo | lnc $T time >"$tmp/time"
t1=$(date +%s)
v=$(od -An -tu1 "$tmp/time" | awk '{ if (NF == 4) printf "%.0f\n", $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
time_ok() { [ -n "$v" ] && [ "$v" -ge $(( t0 + 2208988800 )) ] && [ "$v" -le $(( t1 + 2208988800 )) ]; }
check "linux nc -u to tern time: 4 bytes = now + 2208988800 (date +%s while nc ran)" time_ok
echo | lnc $T 17 >"$tmp/qotd" # Debian's /etc/services has no qotd/udp
qotd_ok() { grep -q 'Be conservative in what you do' "$tmp/qotd" && [ "$(wc -c <"$tmp/qotd")" -lt 512 ]; }
check "linux nc -u to tern qotd: the quote (< 512 bytes)" qotd_ok
for try in 1 2 3; do # 1 answer in 513 is empty (RFC 864: 0..512 characters)
    echo | lnc $T chargen >"$tmp/chargen"
    [ -s "$tmp/chargen" ] && break
done
/usr/bin/python3 - "$tmp/chargen" <<'EOF' >"$tmp/chargen.check"
import sys
d = open(sys.argv[1], 'rb').read()
ring = bytes(range(32, 127))
ok = len(d) <= 512
# which line does it start on? RFC 864: line N holds ring[N..N+71], CR LF
starts = [n for n in range(95) if all(
    d[i] == (13 if i % 74 == 72 else 10 if i % 74 == 73 else ring[(n + i // 74 + i % 74) % 95])
    for i in range(len(d)))]
print("ok" if ok and len(d) and starts else "bad len=%d" % len(d))
EOF
check "linux nc -u to tern chargen: $(wc -c <"$tmp/chargen") bytes of the RFC 864 pattern" grep -q '^ok$' "$tmp/chargen.check"
echo "into the void" | lnc $T discard >"$tmp/discard"
check "linux nc -u to tern discard: no reply" [ ! -s "$tmp/discard" ]

# a closed tern port: ICMP port unreachable -> ECONNREFUSED on Linux's connected socket
inns /usr/bin/python3 - $T >"$tmp/refused" 2>&1 <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((sys.argv[1], 9999))
s.send(b"anyone there?\n")
try:
    s.recv(100)
    print("got data")
except ConnectionRefusedError:
    print("ECONNREFUSED")
except socket.timeout:
    print("timeout")
EOF
check "linux connected UDP socket to a closed tern port gets ECONNREFUSED" grep -q '^ECONNREFUSED$' "$tmp/refused"

kill -USR1 $serve_pid
sleep 0.3
check "SIGUSR1: tern serve prints its socket table" \
    grep -q '^Proto Recv-Q Send-Q Local Address           Foreign Address         State      $' "$tmp/serve.out"
check "socket table: echo row as netstat -au prints it" \
    grep -q '^udp        0      0 0.0.0.0:echo            0.0.0.0:\*                          $' "$tmp/serve.out"
stop_bg
check "--netstat at exit: the table again, six services" \
    [ "$(grep -c '^udp ' "$tmp/serve.out")" -eq 12 ]
grep -q 'classic services: echo 3/3' "$tmp/serve.err" || sed 's/^/# /' "$tmp/serve.err"
check "tern pcap: ICMP port unreachable sent for port 9999" \
    [ "$(tshark -r "$tmp/serve.pcap" -Y 'icmp.type == 3 && icmp.code == 3 && udp.dstport == 9999' 2>/dev/null | wc -l)" -ge 1 ]

# ---- tern nc -u (client) <-> Linux nc -u -l ----
printf 'from linux\n' >"$tmp/linux.in"
ip netns exec "$ns" timeout 10 nc -u -l -q1 $L 13 <"$tmp/linux.in" >"$tmp/linux.got" 2>&1 &
lpid=$!
sleep 0.3
printf 'from tern\n' | inns timeout 10 "$tern" nc -u -q 2 "${topts[@]}" --pcap "$tmp/nc_client.pcap" \
    $L daytime >"$tmp/tern.got" 2>"$tmp/tern.err"
rc=$?
wait $lpid 2>/dev/null
check "tern nc -u to linux nc -u -l (port 'daytime'): exit 0" [ $rc -eq 0 ]
check "linux nc -u -l got tern's line" [ "$(cat "$tmp/linux.got")" = "from tern" ]
check "tern nc -u got linux's reply" [ "$(cat "$tmp/tern.got")" = "from linux" ]
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/tern.err"

# ---- Linux nc -u -> tern nc -u -l ----
printf 'reply from tern\n' >"$tmp/tl.in"
ip netns exec "$ns" timeout 10 "$tern" nc -u -l -q 1 "${topts[@]}" --pcap "$tmp/nc_listen.pcap" 6666 \
    <"$tmp/tl.in" >"$tmp/tl.got" 2>"$tmp/tl.err" &
tpid=$!
sleep 0.5
printf 'to tern\n' | lnc $T 6666 >"$tmp/lc.got"
wait $tpid
rc=$?
check "tern nc -u -l: got linux's datagram" [ "$(cat "$tmp/tl.got")" = "to tern" ]
check "linux nc -u got tern's reply from the listener" [ "$(cat "$tmp/lc.got")" = "reply from tern" ]
check "tern nc -u -l: exit 0" [ $rc -eq 0 ]

# ---- tern nc -u to a closed Linux port ----
printf 'anyone?\n' | inns timeout 10 "$tern" nc -u -q 3 "${topts[@]}" --pcap "$tmp/nc_refused.pcap" \
    $L 9999 >"$tmp/ref.out" 2>"$tmp/ref.err"
rc=$?
check "tern nc -u to a closed linux port: exit 1" [ $rc -eq 1 ]
check "tern nc -u to a closed linux port: 'connection refused'" \
    grep -q '^tern nc: 10.79.0.1 port 9999: connection refused (ICMP port unreachable)$' "$tmp/ref.err"
check "tern nc usage error: exit 2" [ "$("$tern" nc -u 2>/dev/null; echo $?)" -eq 2 ]

pcap_check "$tmp"/*.pcap
san=$(grep -l -E 'Sanitizer|runtime error' "$tmp"/*.err 2>/dev/null)
check "no sanitizer reports from tern" [ -z "$san" ]
for f in $san; do sed 's/^/# /' "$f" | head -20; done
exit 0
