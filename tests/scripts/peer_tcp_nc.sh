#!/usr/bin/env bash
# Real peers for `tern nc` (TCP) and the classic services over TCP: the Linux
# kernel and Debian's netcat-openbsd talk to tern over a TAP device inside a
# network namespace this script creates (no route out; removed on exit).
#   - Linux `nc -N` to tern's TCP echo: 1 MB back (sha256sum equal), the
#     echo closing after Linux's half-close;
#   - Linux `nc` to tern's TCP daytime (= `date -u` while nc ran, then the
#     server closes), time (4 bytes), chargen (`head -c`: the RFC 864
#     pattern from line 0);
#   - `tern nc` <-> Linux `nc -l -N`, and Linux `nc -N` <-> `tern nc -l`:
#     1 MB each way at once, both sides half-close, sha256sum equal, exit 0;
#   - `tern nc` to a closed Linux port: "connection refused" (Linux's RST),
#     exit 1; to an address Linux does not forward: -w 2 -> "connection
#     timed out", exit 1, after about 2 s;
#   - tshark reads every pcap tern wrote: nothing malformed, no bad
#     checksum; no sanitizer reports.
# KEEP=1 copies the temporary directory to /tmp/peer_tcp_nc_keep.
set -u
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
. tests/scripts/lib/pcap_check.sh
. tests/scripts/lib/peer.sh
peer_setup peer_tcp_nc nc tshark sha256sum timeout head /usr/bin/python3

ns=tern-tcpnc-$$

peer_netns "$ns"
ip -n "$ns" tuntap add dev ttcp0 mode tap
ip -n "$ns" addr add 10.78.0.1/24 dev ttcp0
ip -n "$ns" link set ttcp0 up
T=10.78.0.2 L=10.78.0.1 mac=02:7e:72:6e:00:78
topts=(--tap ttcp0 --addr $T/24 --gw $L --mac $mac)
head -c 1000000 /dev/urandom >"$tmp/a"
head -c 1000000 /dev/urandom >"$tmp/b"

# ---- tern serve: the classic services over TCP ----
ip netns exec "$ns" "$tern" serve "${topts[@]}" --all-classic --pcap "$tmp/serve.pcap" \
    --for 60 >"$tmp/serve.out" 2>"$tmp/serve.err" &
pids+=($!)
sleep 0.5

inns timeout 20 nc -N $T 7 <"$tmp/a" >"$tmp/a.echo"
rc=$?
check "linux nc -N to tern tcp echo: 1 MB back, sha256 equal" same "$tmp/a" "$tmp/a.echo"
check "linux nc -N to tern tcp echo: the server closes after the half-close (nc exit 0)" [ $rc -eq 0 ]

t0=$(date +%s)
inns timeout 5 nc $T daytime </dev/null >"$tmp/daytime"
rc=$?
t1=$(date +%s)
got=$(tr -d '\r\n' <"$tmp/daytime")
ok_day=1
for ((t = t0; t <= t1; t++)); do
    [ "$got" = "$(date -u -d "@$t" '+%A, %B %-d, %Y %H:%M:%S-UTC')" ] && ok_day=0
done
check "linux nc to tern tcp daytime: '$got' is now (date -u while nc ran)" [ $ok_day -eq 0 ]
check "linux nc to tern tcp daytime: tern closes, nc ends by itself" [ $rc -eq 0 ]
t0=$(date +%s)
inns timeout 5 nc $T time </dev/null >"$tmp/time"
t1=$(date +%s)
v=$(od -An -tu1 "$tmp/time" | awk '{ if (NF == 4) printf "%.0f\n", $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
time_ok() { [ -n "$v" ] && [ "$v" -ge $(( t0 + 2208988800 )) ] && [ "$v" -le $(( t1 + 2208988800 )) ]; }
check "linux nc to tern tcp time: 4 bytes = now + 2208988800" time_ok
inns timeout 5 nc $T chargen </dev/null | head -c 100000 >"$tmp/chargen"
/usr/bin/python3 - "$tmp/chargen" <<'EOF' >"$tmp/chargen.check"
import sys
d = open(sys.argv[1], 'rb').read()
ring = bytes(range(32, 127))
want = bytes(13 if i % 74 == 72 else 10 if i % 74 == 73 else ring[(i // 74 + i % 74) % 95]
             for i in range(len(d)))
print("ok" if len(d) == 100000 and d == want else "bad len=%d" % len(d))
EOF
check "linux nc to tern tcp chargen | head -c 100000: the RFC 864 pattern from line 0" \
    grep -q '^ok$' "$tmp/chargen.check"
sleep 0.5
stop_bg
grep -q 'classic services over tcp: echo 1 ' "$tmp/serve.err" || sed 's/^/# /' "$tmp/serve.err"
check "tern serve counted the tcp connections" grep -q 'over tcp: echo 1 discard 0 daytime 1 qotd 0 chargen 1 time 1 ' "$tmp/serve.err"

# ---- tern nc -> Linux nc -l -N, 1 MB each way ----
ip netns exec "$ns" timeout 30 nc -l -N $L 5001 <"$tmp/b" >"$tmp/l1.got" 2>"$tmp/l1.err" &
lpid=$!
sleep 0.3
inns timeout 30 "$tern" nc "${topts[@]}" --pcap "$tmp/nc_client.pcap" $L 5001 \
    <"$tmp/a" >"$tmp/t1.got" 2>"$tmp/t1.err"
rc=$?
wait $lpid
lrc=$?
check "tern nc to linux nc -l -N: exit 0 (both sides half-closed)" [ $rc -eq 0 ]
check "linux nc -l -N: exit 0" [ $lrc -eq 0 ]
check "linux got tern's 1 MB (sha256 equal)" same "$tmp/a" "$tmp/l1.got"
check "tern got linux's 1 MB (sha256 equal)" same "$tmp/b" "$tmp/t1.got"
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/t1.err"

# ---- Linux nc -N -> tern nc -l, 1 MB each way ----
ip netns exec "$ns" timeout 30 "$tern" nc -l "${topts[@]}" --pcap "$tmp/nc_listen.pcap" 5002 \
    <"$tmp/b" >"$tmp/t2.got" 2>"$tmp/t2.err" &
tpid=$!
sleep 0.5
inns timeout 30 nc -N $T 5002 <"$tmp/a" >"$tmp/l2.got"
lrc=$?
wait $tpid
rc=$?
check "tern nc -l: exit 0" [ $rc -eq 0 ]
check "linux nc -N to tern nc -l: exit 0" [ $lrc -eq 0 ]
check "tern nc -l got linux's 1 MB (sha256 equal)" same "$tmp/a" "$tmp/t2.got"
check "linux got tern nc -l's 1 MB (sha256 equal)" same "$tmp/b" "$tmp/l2.got"
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/t2.err"

# ---- errors ----
inns timeout 10 "$tern" nc "${topts[@]}" --pcap "$tmp/nc_refused.pcap" $L 9999 \
    </dev/null >"$tmp/ref.out" 2>"$tmp/ref.err"
rc=$?
check "tern nc to a closed linux port: exit 1" [ $rc -eq 1 ]
check "tern nc to a closed linux port: 'connection refused'" \
    grep -qx 'tern nc: 10.78.0.1 port 9999: connection refused' "$tmp/ref.err"
# 192.0.2.1 goes to the gateway (Linux), which does not forward: no answer
s0=$(date +%s%N)
inns timeout 10 "$tern" nc -w 2 "${topts[@]}" 192.0.2.1 80 </dev/null >"$tmp/to.out" 2>"$tmp/to.err"
rc=$?
ms=$(( ($(date +%s%N) - s0) / 1000000 ))
check "tern nc -w 2 to a silent address: exit 1" [ $rc -eq 1 ]
check "tern nc -w 2: 'connection timed out' after ${ms} ms" \
    grep -qx 'tern nc: 192.0.2.1 port 80: connection timed out' "$tmp/to.err"
check "tern nc -w 2: gave up after 2 s (${ms} ms)" [ $ms -ge 1900 -a $ms -lt 5000 ]
check "tern nc -w 0: usage error, exit 2" [ "$("$tern" nc -w 0 1.2.3.4 5 2>/dev/null; echo $?)" -eq 2 ]

pcap_check "$tmp"/*.pcap
san=$(grep -l -E 'Sanitizer|runtime error' "$tmp"/*.err 2>/dev/null)
check "no sanitizer reports from tern" [ -z "$san" ]
for f in $san; do sed 's/^/# /' "$f" | head -20; done
exit 0
