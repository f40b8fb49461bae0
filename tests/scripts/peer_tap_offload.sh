#!/usr/bin/env bash
# slow (tshark over two 40 MB pcaps: ~45 s)
# TAP/TUN offloads (docs/devices.md) against the Linux kernel, in a network
# namespace this script creates (no route out; removed on exit):
#   - offloads on (the default): `tern nc` <-> Linux `nc -l -N` over TAP,
#     20 MB each way at once, sha256 equal, both exit 0; tern's pcap shows
#     TCP super-segments both ways (frames above the 1514-byte MTU frame:
#     tern's own, which the kernel cut, and the kernel's unsplit ones);
#   - the same over TUN, and Linux `nc -N` -> `tern nc -l` over TAP, with
#     2 MB each way;
#   - --no-offload, on the same TAP right after: 20 MB each way, sha256
#     equal, and no frame above the MTU either way (so the offloads were
#     also switched off again when the first tern closed the TAP);
#   - tshark reads every pcap with nothing malformed and no bad checksum
#     (tern records a super-segment as it sent it, with its full TCP
#     checksum; a received partial checksum is completed before the
#     trace records it);
#   - no sanitizer reports.
# KEEP=1 copies the temporary directory to /tmp/peer_tap_offload_keep.
set -u
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
. tests/scripts/lib/pcap_check.sh
. tests/scripts/lib/peer.sh
name=peer_tap_offload
peer_setup peer_tap_offload nc tshark sha256sum timeout head

ns=tern-tapoff-$$
peer_cleanup_hook() { jobs -p | xargs -r kill 2>/dev/null; }
# The largest frame from IPv4 source address $2 in pcap $1 (0 if none):
# record headers read directly (tshark takes seconds per 20 MB pcap).
maxlen() {
    /usr/bin/python3 - "$1" "$2" <<'PY'
import socket, struct, sys
d = open(sys.argv[1], 'rb').read()
src = socket.inet_aton(sys.argv[2])
lt = struct.unpack('<I', d[20:24])[0]
at = 26 if lt == 1 else 12  # Ethernet, else raw IPv4
off, best = 24, 0
while off + 16 <= len(d):
    incl, orig = struct.unpack('<II', d[off + 8:off + 16])
    rec = d[off + 16:off + 16 + incl]
    if rec[at:at + 4] == src:
        best = max(best, orig)
    off += 16 + incl
print(best)
PY
}

peer_netns "$ns"
ip -n "$ns" tuntap add dev toff0 mode tap
ip -n "$ns" addr add 10.81.0.1/24 dev toff0
ip -n "$ns" link set toff0 up
ip -n "$ns" tuntap add dev toff1 mode tun
ip -n "$ns" addr add 10.81.1.1/24 dev toff1
ip -n "$ns" link set toff1 up
L=10.81.0.1 T=10.81.0.2
head -c 20000000 /dev/urandom >"$tmp/a"
head -c 20000000 /dev/urandom >"$tmp/b"
head -c 2000000 "$tmp/a" >"$tmp/a2"
head -c 2000000 "$tmp/b" >"$tmp/b2"

# tern nc (client) <-> Linux nc -l -N, both ways at once. label, listen
# address, tern address, port, size suffix ("" 20 MB, 2: 2 MB), device options...
xfer_client() {
    local label=$1 la=$2 ta=$3 port=$4 sz=$5 mb=20; shift 5
    [ -n "$sz" ] && mb=2
    inns timeout 60 nc -l -N "$la" "$port" <"$tmp/b$sz" >"$tmp/$label.l.got" 2>"$tmp/$label.l.err" &
    local lpid=$!
    sleep 0.3
    inns timeout 60 "$tern" nc "$@" --addr "$ta" --pcap "$tmp/$label.pcap" "$la" "$port" \
        <"$tmp/a$sz" >"$tmp/$label.t.got" 2>"$tmp/$label.err"
    local rc=$?
    wait $lpid
    local lrc=$?
    check "$label: tern nc exits 0" [ $rc -eq 0 ]
    check "$label: linux nc -l -N exits 0" [ $lrc -eq 0 ]
    check "$label: linux got tern's $mb MB (sha256 equal)" same "$tmp/a$sz" "$tmp/$label.l.got"
    check "$label: tern got linux's $mb MB (sha256 equal)" same "$tmp/b$sz" "$tmp/$label.t.got"
    [ $rc -eq 0 ] || sed 's/^/# /' "$tmp/$label.err" | head -5
}

xfer_client tap-offload $L $T/24 5001 "" --tap toff0
m_t=$(maxlen "$tmp/tap-offload.pcap" $T) m_l=$(maxlen "$tmp/tap-offload.pcap" $L)
check "tap-offload: tern sent super-segments (largest frame $m_t > 1514)" [ "$m_t" -gt 1514 ]
check "tap-offload: linux's unsplit segments reached tern (largest frame $m_l > 1514)" \
    [ "$m_l" -gt 1514 ]
check "tap-offload: no frame above 14 + 65535" [ "$m_t" -le 65549 -a "$m_l" -le 65549 ]

xfer_client tun-offload 10.81.1.1 10.81.1.2/24 5002 2 --tun toff1
m_t=$(maxlen "$tmp/tun-offload.pcap" 10.81.1.2)
check "tun-offload: tern sent super-segments (largest packet $m_t > 1500)" [ "$m_t" -gt 1500 ]

# Linux nc -N -> tern nc -l, offloads on.
inns timeout 60 "$tern" nc -l --tap toff0 --addr $T/24 --pcap "$tmp/tap-listen.pcap" 5003 \
    <"$tmp/b2" >"$tmp/listen.t.got" 2>"$tmp/tap-listen.err" &
tpid=$!
sleep 0.5
inns timeout 60 nc -N $T 5003 <"$tmp/a2" >"$tmp/listen.l.got"
lrc=$?
wait $tpid
rc=$?
check "tap-listen: tern nc -l exits 0, linux nc -N exits 0" [ $rc -eq 0 -a $lrc -eq 0 ]
check "tap-listen: both 2 MB arrived (sha256 equal)" \
    eval 'same "$tmp/a2" "$tmp/listen.t.got" && same "$tmp/b2" "$tmp/listen.l.got"'

xfer_client tap-plain $L $T/24 5004 "" --tap toff0 --no-offload
m_t=$(maxlen "$tmp/tap-plain.pcap" $T) m_l=$(maxlen "$tmp/tap-plain.pcap" $L)
check "tap-plain: no frame above the MTU either way (tern $m_t, linux $m_l)" \
    [ "$m_t" -le 1514 -a "$m_l" -le 1514 -a "$m_t" -gt 1000 ]

pcap_check "$tmp"/*.pcap
san=$(grep -l -E 'Sanitizer|runtime error' "$tmp"/*.err 2>/dev/null)
check "no sanitizer reports from tern" [ -z "$san" ]
for f in $san; do sed 's/^/# /' "$f" | head -20; done
exit 0
