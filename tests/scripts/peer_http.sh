#!/usr/bin/env bash
# slow: runs against the sanitizer build only (tests/run.sh)
# HTTP over tern's TCP against Linux, over a TAP device in a namespace this
# script creates (no route out; removed on exit):
#   - Linux curl downloads 100 MB from `tern serve --http`, SHA-256 equal;
#   - `tern get` downloads 100 MB from Linux (python3 -m http.server), equal;
#   - the same with tern's impairment wrapper (--impair) at 5% loss, 5%
#     reordering, 1% duplication, both directions: tern get 100 MB and curl
#     from tern 100 MB, then 8 MB again with a pcap;
#   - every byte tern sent through loss had the same value each time its
#     sequence number went out (retransmissions never change the stream);
#   - tern get: connection refused -> exit 7, HTTP 404 with -f -> exit 22
#     (curl's; tests/scripts/peer_get.sh compares every case with curl);
#   - tshark finds no malformed frame or bad checksum in tern's pcaps (taken
#     of the smaller runs: tshark needs minutes for a 100 MB capture).
# curl through loss is the slow case (~60 s here): at ~4 ms RTT every frame
# the impairment holds back 10 ms looks lost to any detector (no reordering
# window waits 2.5 RTTs), so tern retransmits it and reduces cwnd; the D-SACK
# undo (RFC 3708/4015, tcp_recover.c) gives the window back once the
# receiver reports both copies. Before RACK-TLP and the undo: ~0.7 MB/s.
set -u
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
. tests/scripts/lib/pcap_check.sh
. tests/scripts/lib/peer.sh
peer_setup peer_http curl sha256sum tshark timeout /usr/bin/python3

ns=tern-http-$$

peer_netns "$ns"
ip -n "$ns" tuntap add dev ttap0 mode tap
ip -n "$ns" addr add 10.77.0.1/24 dev ttap0
ip -n "$ns" link set ttap0 up
mkdir -p "$tmp/www" "$tmp/linux"
head -c 100000000 /dev/urandom >"$tmp/www/big.bin"
head -c 8000000 /dev/urandom >"$tmp/www/mid.bin"
cp "$tmp/www/big.bin" "$tmp/linux/big.bin"
imp="loss=5%,reorder=5%,dup=1%,delay=1ms,seed=7"

# 1. curl <- tern serve --http (clean)
ip netns exec "$ns" "$tern" serve --tap ttap0 --addr 10.77.0.2/24 --http "$tmp/www:8080" \
    --for 300 >/dev/null 2>"$tmp/serve.err" &
pids+=($!)
sleep 0.5
ip netns exec "$ns" timeout 120 curl -s -o "$tmp/c1.bin" http://10.77.0.2:8080/big.bin
check "curl downloads 100 MB from tern serve --http, SHA-256 equal" same "$tmp/www/big.bin" "$tmp/c1.bin"
code=$(ip netns exec "$ns" curl -s -o /dev/null -w '%{http_code}' http://10.77.0.2:8080/nope)
check "curl: a missing file is 404" [ "$code" = 404 ]
stop_bg
rm -f "$tmp/c1.bin"

# 2. curl <- tern serve --http --impair: 100 MB, then 8 MB with a pcap
ip netns exec "$ns" "$tern" serve --tap ttap0 --addr 10.77.0.2/24 --http "$tmp/www:8080" \
    --impair "$imp" --for 400 >/dev/null 2>"$tmp/serve2.err" &
pids+=($!)
sleep 0.5
t0=$(date +%s%N)
ip netns exec "$ns" timeout 300 curl -s -o "$tmp/c100.bin" http://10.77.0.2:8080/big.bin
ms=$((($(date +%s%N) - t0) / 1000000))
check "curl downloads 100 MB from tern through 5% loss, reordering, duplication ($ms ms)" \
    same "$tmp/www/big.bin" "$tmp/c100.bin"
stop_bg
rm -f "$tmp/c100.bin"
ip netns exec "$ns" "$tern" serve --tap ttap0 --addr 10.77.0.2/24 --http "$tmp/www:8080" \
    --impair "$imp" --pcap "$tmp/serve_impaired.pcap" --for 300 >/dev/null 2>"$tmp/serve2.err" &
pids+=($!)
sleep 0.5
ip netns exec "$ns" timeout 120 curl -s -o "$tmp/c2.bin" http://10.77.0.2:8080/mid.bin
check "curl downloads 8 MB from tern through 5% loss, reordering, duplication" \
    same "$tmp/www/mid.bin" "$tmp/c2.bin"
stop_bg
line=$(/usr/bin/python3 tests/scripts/lib/tcp_stream_check.py "$tmp/serve_impaired.pcap" 10.77.0.2 2>/dev/null)
check "tern's retransmissions never change the stream: $line" \
    /usr/bin/python3 tests/scripts/lib/tcp_stream_check.py "$tmp/serve_impaired.pcap" 10.77.0.2

# 3. tern get <- python3 http.server (clean, then impaired), and errors
(cd "$tmp/linux" && exec ip netns exec "$ns" /usr/bin/python3 -m http.server 8000 \
    --bind 10.77.0.1 >/dev/null 2>&1) &
pids+=($!)
sleep 1
ip netns exec "$ns" timeout 120 "$tern" get -q --tap ttap0 --addr 10.77.0.2/24 \
    -o "$tmp/g1.bin" http://10.77.0.1:8000/big.bin 2>"$tmp/get.err"
rc=$?
check "tern get downloads 100 MB from Linux (exit 0), SHA-256 equal" \
    test $rc -eq 0 -a "$(sha256sum <"$tmp/linux/big.bin")" = "$(sha256sum <"$tmp/g1.bin" 2>/dev/null)"
rm -f "$tmp/g1.bin"
ip netns exec "$ns" timeout 200 "$tern" get -q --tap ttap0 --addr 10.77.0.2/24 --impair "$imp" \
    -o "$tmp/g2.bin" http://10.77.0.1:8000/big.bin 2>"$tmp/get2.err"
rc=$?
check "tern get downloads 100 MB through 5% loss, reordering, duplication" \
    test $rc -eq 0 -a "$(sha256sum <"$tmp/linux/big.bin")" = "$(sha256sum <"$tmp/g2.bin" 2>/dev/null)"
rm -f "$tmp/g2.bin"
ip netns exec "$ns" "$tern" get -q -f --tap ttap0 --addr 10.77.0.2/24 -o "$tmp/none.bin" \
    --pcap "$tmp/get404.pcap" http://10.77.0.1:8000/missing.bin 2>"$tmp/get404.err"
rc=$?
check "tern get -f: HTTP 404 exits 22 (curl's) and writes no file" test $rc -eq 22 -a ! -e "$tmp/none.bin"
ip netns exec "$ns" "$tern" get -q --tap ttap0 --addr 10.77.0.2/24 http://10.77.0.1:9/ \
    >/dev/null 2>"$tmp/refused.err"
rc=$?
check "tern get: a closed port exits 7 (curl's) with 'refused'" \
    test $rc -eq 7 -a -n "$(grep -i refused "$tmp/refused.err")"
stop_bg

pcap_check "$tmp"/*.pcap
exit 0
