#!/usr/bin/env bash
# slow: runs against the sanitizer build only (tests/run.sh)
# TCP recovery against Linux through loss, reordering and duplication, both
# directions, over a TAP device in a namespace this script creates (no route
# out; removed on exit). tern's --impair wraps the real device both ways
# (frames tern sends, then frames it receives), so Linux's segments are lost
# on their way into tern as much as tern's on their way out:
#   1. tern receives: Linux `nc -N` sends 8 MB to `tern nc -l -v --impair`;
#   2. tern sends: `tern nc -v --impair` sends 8 MB to Linux `nc -l -N`;
#   3. both at once: 4 MB each way between `tern nc -v --impair` and Linux
#      `nc -l -N`, both half-closing.
# Each case: SHA-256 of what was sent equals what arrived, both programs
# exit 0, the retransmission counts of BOTH sides are printed (Linux:
# RetransSegs of the namespace's /proc/net/snmp, before/after; tern: the
# "tcp ... retransmits N" line `tern nc -v` prints at exit) and the sending
# side's count must be > 0 (else the case did not exercise recovery), as
# must the impairment's own loss counts. tshark checks tern's pcaps; no
# sanitizer reports. The seed is fixed, so a run repeats the same
# impairment decisions (timing still varies with the machine).
# KEEP=1 copies the temporary directory to /tmp/peer_tcp_impair_keep.
set -u
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
. tests/scripts/lib/pcap_check.sh
. tests/scripts/lib/peer.sh
peer_setup peer_tcp_impair nc tshark sha256sum timeout head awk

ns=tern-tcpimp-$$
# Linux's retransmitted segments in the namespace (RFC 4022 tcpRetransSegs).
linux_retrans() {
    inns awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RetransSegs") c = i; h = 1 }
                        else print $c }' /proc/net/snmp
}
# A counter from the "tern nc: tcp ..." / "tern nc: impair ..." lines of -v.
tern_stat() { # file, line tag ("tcp" | "impair"), word after which the number follows [, nth]
    awk -v tag="$2" -v key="$3" -v nth="${4:-1}" '
        $1 == "tern" && $2 == "nc:" && $3 == tag {
            for (i = 4; i < NF; i++) if ($i == key && ++n == nth) { print $(i + 1); exit } }' "$1"
}
gt0() { [ -n "$1" ] && [ "$1" -gt 0 ]; }

peer_netns "$ns"
ip -n "$ns" tuntap add dev timp0 mode tap
ip -n "$ns" addr add 10.79.0.1/24 dev timp0
ip -n "$ns" link set timp0 up
T=10.79.0.2 L=10.79.0.1 mac=02:7e:72:6e:00:79
imp="loss=3%,reorder=3%,dup=1%,delay=1ms,seed=11"
topts=(--tap timp0 --addr $T/24 --gw $L --mac $mac --impair "$imp")
head -c 8000000 /dev/urandom >"$tmp/a8"
head -c 4000000 /dev/urandom >"$tmp/a4"
head -c 4000000 /dev/urandom >"$tmp/b4"

report() { # case, tern -v stderr, linux retrans before, after, ms
    local lr=$(($4 - $3))
    echo "# $1: ${5} ms; retransmitted segments: linux $lr, tern $(tern_stat "$2" tcp retransmits)" \
        "(tern rto $(tern_stat "$2" tcp timeouts), rack_lost $(tern_stat "$2" tcp rack_lost)," \
        "tlp $(tern_stat "$2" tcp tlp_probes), spurious undone $(tern_stat "$2" tcp spurious_undos));" \
        "impairment lost out $(tern_stat "$2" impair lost 1) in $(tern_stat "$2" impair lost 2)," \
        "duplicated out $(tern_stat "$2" impair duplicated 1) in $(tern_stat "$2" impair duplicated 2)," \
        "reordered out $(tern_stat "$2" impair reordered 1) in $(tern_stat "$2" impair reordered 2)"
}

# ---- 1. tern receives: Linux nc -N -> tern nc -l ----
inns timeout 60 "$tern" nc -l -v "${topts[@]}" --pcap "$tmp/recv.pcap" 5001 \
    </dev/null >"$tmp/r1.got" 2>"$tmp/r1.err" &
tpid=$!
pids+=($tpid)
sleep 0.5
r0=$(linux_retrans)
t0=$(date +%s%N)
inns timeout 60 nc -N $T 5001 <"$tmp/a8" >/dev/null
lrc=$?
wait $tpid
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
r1=$(linux_retrans)
pids=()
report "linux sends 8 MB, tern receives" "$tmp/r1.err" "$r0" "$r1" "$ms"
check "linux nc -N -> tern nc -l --impair: both exit 0 (tern $rc, linux $lrc)" [ $rc -eq 0 -a $lrc -eq 0 ]
check "tern received linux's 8 MB through loss, reordering, duplication (sha256 equal, $ms ms)" \
    same "$tmp/a8" "$tmp/r1.got"
check "linux retransmitted (the lossy sender): $((r1 - r0)) segments" gt0 $((r1 - r0))
check "the impairment dropped frames on their way into tern: $(tern_stat "$tmp/r1.err" impair lost 2)" \
    gt0 "$(tern_stat "$tmp/r1.err" impair lost 2)"
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/r1.err" | head -20

# ---- 2. tern sends: tern nc -> Linux nc -l -N ----
inns timeout 60 nc -l -N $L 5002 </dev/null >"$tmp/l2.got" 2>"$tmp/l2.err" &
lpid=$!
pids+=($lpid)
sleep 0.3
r0=$(linux_retrans)
t0=$(date +%s%N)
inns timeout 60 "$tern" nc -v "${topts[@]}" --pcap "$tmp/send.pcap" $L 5002 \
    <"$tmp/a8" >/dev/null 2>"$tmp/t2.err"
rc=$?
wait $lpid
lrc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
r1=$(linux_retrans)
pids=()
report "tern sends 8 MB, linux receives" "$tmp/t2.err" "$r0" "$r1" "$ms"
check "tern nc --impair -> linux nc -l -N: both exit 0 (tern $rc, linux $lrc)" [ $rc -eq 0 -a $lrc -eq 0 ]
check "linux received tern's 8 MB through loss, reordering, duplication (sha256 equal, $ms ms)" \
    same "$tmp/a8" "$tmp/l2.got"
t=$(tern_stat "$tmp/t2.err" tcp retransmits)
check "tern retransmitted (the lossy sender): $t segments" gt0 "$t"
check "the impairment dropped frames tern sent: $(tern_stat "$tmp/t2.err" impair lost 1)" \
    gt0 "$(tern_stat "$tmp/t2.err" impair lost 1)"
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/t2.err" | head -20

# ---- 3. both ways at once: 4 MB each ----
inns timeout 60 nc -l -N $L 5003 <"$tmp/b4" >"$tmp/l3.got" 2>"$tmp/l3.err" &
lpid=$!
pids+=($lpid)
sleep 0.3
r0=$(linux_retrans)
t0=$(date +%s%N)
inns timeout 60 "$tern" nc -v "${topts[@]}" --pcap "$tmp/both.pcap" $L 5003 \
    <"$tmp/a4" >"$tmp/t3.got" 2>"$tmp/t3.err"
rc=$?
wait $lpid
lrc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
r1=$(linux_retrans)
pids=()
report "4 MB each way at once" "$tmp/t3.err" "$r0" "$r1" "$ms"
check "tern nc --impair <-> linux nc -l -N, 4 MB each way: both exit 0 (tern $rc, linux $lrc)" \
    [ $rc -eq 0 -a $lrc -eq 0 ]
check "linux received tern's 4 MB (sha256 equal, $ms ms)" same "$tmp/a4" "$tmp/l3.got"
check "tern received linux's 4 MB (sha256 equal)" same "$tmp/b4" "$tmp/t3.got"
t=$(tern_stat "$tmp/t3.err" tcp retransmits)
check "two-way: linux retransmitted $((r1 - r0)) segments" gt0 $((r1 - r0))
check "two-way: tern retransmitted $t segments" gt0 "$t"
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/t3.err" | head -20

pcap_check "$tmp"/*.pcap
san=$(grep -l -E 'Sanitizer|runtime error' "$tmp"/*.err 2>/dev/null)
check "no sanitizer reports from tern" [ -z "$san" ]
for f in $san; do sed 's/^/# /' "$f" | head -20; done
exit 0
