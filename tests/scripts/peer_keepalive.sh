#!/usr/bin/env bash
# Keep-alive probes seen by Linux (RFC 1122 s4.2.3.6): `tern nc --keepalive
# 1,1,3` connects over a TAP device to Linux `nc -l` in a network namespace
# this script creates (no route out; removed on exit), and stays idle.
#   - tcpdump in the namespace: at least 2 probes from tern (tshark flags
#     them tcp.analysis.keep_alive), each a segment with seq = SND.UNA - 1
#     and no data, each answered by a Linux ACK of seq + 1;
#   - then Linux goes silent (its interface down): tern nc sends its 3
#     unanswered probes 1 s apart and exits 1 with "connection timed out"
#     at most 1 s idle + 3 x 1 s later, not at once and not never.
# KEEP=1 copies the temporary directory to /tmp/peer_keepalive_keep.
set -u
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
. tests/scripts/lib/peer.sh
peer_setup peer_keepalive nc tshark tcpdump timeout

ns=tern-ka-$$
[ -n "${KEEP:-}" ] && echo "tmp: $tmp"

peer_netns "$ns"
ip -n "$ns" tuntap add dev tka0 mode tap
ip -n "$ns" addr add 10.83.0.1/24 dev tka0
ip -n "$ns" link set tka0 up
T=10.83.0.2 L=10.83.0.1

ip netns exec "$ns" timeout 30 nc -l 5000 >"$tmp/linux.out" 2>&1 &
pids+=($!)
# not through inns: $! must be tcpdump itself (ip netns exec execs it)
ip netns exec "$ns" timeout 20 tcpdump -i tka0 -n -U -w "$tmp/ka.pcap" tcp port 5000 2>"$tmp/tcpdump.err" &
tcpd=$!
pids+=($tcpd)
sleep 0.7
# stdin stays open (no half-close): the connection idles in ESTABLISHED
mkfifo "$tmp/in"
sleep 40 >"$tmp/in" &
pids+=($!)
ip netns exec "$ns" timeout 30 "$tern" nc --tap tka0 --addr $T/24 --keepalive 1,1,3 $L 5000 \
    <"$tmp/in" >"$tmp/nc.out" 2>"$tmp/nc.err" &
ncpid=$!
sleep 3.6
kill -INT $tcpd 2>/dev/null
sleep 0.3
t0=$(date +%s.%N)
ip -n "$ns" link set tka0 down
wait $ncpid
rc=$?
t1=$(date +%s.%N)

# Per frame: number|time|src|seq|ack|len|keep_alive. A probe is tern's
# segment tshark flags as keep-alive; it must carry seq = SND.UNA - 1 (the
# ack Linux last sent, minus one) and no data, and Linux must answer it
# with an ACK of seq + 1 (only a probe whose answer came after the capture
# stopped may lack one).
read -r probes acked unacked bad < <(tshark -r "$tmp/ka.pcap" -T fields -e frame.number \
      -e frame.time_relative -e ip.src -e tcp.seq_raw -e tcp.ack_raw -e tcp.len \
      -e tcp.analysis.keep_alive -E separator='|' 2>/dev/null |
    awk -F'|' -v T=$T -v L=$L '
        $3 == L { lastack = $5; if (pend != "" && $5 == (pend + 1) % 4294967296 && $6 == 0) { acked++; pend = "" }; next }
        $3 == T && $7 != "" { probes++
            if ($4 != (lastack + 4294967295) % 4294967296 || $6 != 0) bad++
            if (pend != "") unacked++
            pend = $4 }
        END { print probes + 0, acked + 0, unacked + 0 + (pend != "" ? 1 : 0), bad + 0 }')
check "tern nc --keepalive 1,1,3: Linux sees 2-5 keep-alive probes in 3.6 s idle (got $probes)" \
    test "$probes" -ge 2 -a "$probes" -le 5
check "probes carry seq = SND.UNA-1 and no data (RFC 1122 s4.2.3.6; $bad wrong)" test "$bad" -eq 0
check "each probe ACKed by Linux with ack = seq+1 ($acked of $probes; at most the last unanswered in the capture)" \
    test "$acked" -ge 2 -a "$unacked" -le 1 -a $((acked + unacked)) -eq "$probes"
dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
check "Linux silent: tern nc exits 1 (got $rc)" [ "$rc" -eq 1 ]
check "... with 'connection timed out'" grep -q "^tern nc: $L port 5000: connection timed out$" "$tmp/nc.err"
check "... after its 3 unanswered probes, at most 1 s idle + 3 x 1 s (got ${dt} s)" \
    awk -v d="$dt" 'BEGIN { exit !(d >= 2.5 && d <= 8) }'
if [ "$rc" -ne 1 ] || ! grep -q "timed out" "$tmp/nc.err"; then cat "$tmp/nc.err"; fi
check "no sanitizer report" bash -c "! grep -q 'Sanitizer' '$tmp/nc.err'"
