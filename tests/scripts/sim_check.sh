#!/usr/bin/env bash
# slow: runs against the sanitizer build only (tests/run.sh)
# tern sim and tern demo end to end (docs/scenarios.md):
#   - the demo finishes in a few seconds and prints the same bytes twice;
#   - a scenario run twice with the same seed prints the same bytes, and
#     another seed (the links lose frames) prints other bytes;
#   - for every link, the --trace lines of the link's first end equal
#     `tcpdump -n -r` on the link's pcap (the real tcpdump is the judge),
#     whole lines, DNS, DHCP and HTTP dissected included;
#   - tshark finds nothing malformed and no bad checksum in any pcap
#     (tests/scripts/lib/pcap_check.sh);
#   - every SVG plot is well-formed XML (xmllint).
set -u
b=${1:?build dir}
cd "$(dirname "$0")/../.."
root=$PWD
tern=$root/$b/tern
[ -x "$tern" ] || { echo "not ok - sim_check: $tern missing"; exit 0; }
. tests/scripts/lib/pcap_check.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. the demo: twice, same output, in a few seconds of CPU time (CPU, not
# wall-clock: the machine running the tests may be busy with other work)
TIMEFORMAT='%U %S'
cpu=$( { time (cd "$tmp" && "$tern" demo --dir d1 >demo1.txt 2>&1; echo $? >rc1); } 2>&1 )
rc=$(cat "$tmp/rc1" 2>/dev/null || echo 1)
ms=$(echo "$cpu" | awk '{printf "%d", ($1 + $2) * 1000}')
(cd "$tmp" && "$tern" demo --dir d1 >demo2.txt 2>&1)
if [ "$rc" -eq 0 ] && [ "$ms" -lt 5000 ] && grep -q '(identical)' "$tmp/demo1.txt"; then
    echo "ok - sim_check: tern demo completes in $ms ms of CPU with identical SHA-256 on both ends"
else
    echo "not ok - sim_check: tern demo (exit $rc, $ms ms of CPU)"
    tail -20 "$tmp/demo1.txt" | sed 's/^/#   /'
fi
if cmp -s "$tmp/demo1.txt" "$tmp/demo2.txt"; then
    echo "ok - sim_check: tern demo prints the same bytes twice"
else
    echo "not ok - sim_check: tern demo output differs between two runs"
fi

# 2. scenarios: determinism, --trace vs tcpdump, tshark, xmllint
for scn in examples/scenarios/demo.scn examples/scenarios/two-paths.scn examples/scenarios/forward.scn \
    examples/scenarios/multicast.scn; do
    name=$(basename "$scn" .scn)
    out=$tmp/$name
    mkdir -p "$out"
    "$tern" sim "$scn" --seed 5 >"$out/a.txt" 2>&1
    "$tern" sim "$scn" --seed 5 >"$out/b.txt" 2>&1
    "$tern" sim "$scn" --seed 6 >"$out/c.txt" 2>&1
    if cmp -s "$out/a.txt" "$out/b.txt"; then
        echo "ok - sim_check: $name: same seed, same output"
    else
        echo "not ok - sim_check: $name: same seed, different output"
    fi
    if ! cmp -s "$out/a.txt" "$out/c.txt"; then
        echo "ok - sim_check: $name: another seed, another output"
    else
        echo "not ok - sim_check: $name: seeds 5 and 6 print the same"
    fi
    "$tern" sim "$scn" --pcap "$out/pcap" --plot "$out/plot" --trace >"$out/trace.txt" 2>&1
    # Each link: "  DIR/LINK.pcap  at NODE.IFACE" in the summary names its first end.
    grep -E '^  .*\.pcap  at ' "$out/trace.txt" | while read -r pcap _ at; do
        link=$(basename "$pcap" .pcap)
        grep -F "[$at] " "$out/trace.txt" | sed "s/^\[$at\] //" >"$out/$link.sim"
        tcpdump -n -r "$pcap" 2>/dev/null >"$out/$link.tcpdump"
        n=$(wc -l <"$out/$link.tcpdump")
        if [ "$n" -gt 0 ] && cmp -s "$out/$link.sim" "$out/$link.tcpdump"; then
            echo "ok - sim_check: $name: --trace of link $link equals tcpdump -n -r ($n lines)"
        else
            echo "not ok - sim_check: $name: --trace of link $link differs from tcpdump -n -r"
            diff "$out/$link.sim" "$out/$link.tcpdump" | head -6 | sed 's/^/#   /'
        fi
    done
    if command -v tshark >/dev/null; then
        pcap_check "$out"/pcap/*.pcap | sed "s/^\(not \)\{0,1\}ok - /&sim_check: $name: /"
    else
        echo "skip - sim_check: $name: tshark missing"
    fi
    if command -v xmllint >/dev/null; then
        n=0
        for svg in "$out"/plot/*.svg; do
            [ -e "$svg" ] || continue
            n=$((n + 1))
            if xmllint --noout "$svg" 2>"$out/xml.err"; then
                echo "ok - sim_check: $name: $(basename "$svg") is well-formed"
            else
                echo "not ok - sim_check: $name: $(basename "$svg") is not well-formed"
                head -5 "$out/xml.err" | sed 's/^/#   /'
            fi
        done
        [ "$n" -gt 0 ] || echo "not ok - sim_check: $name: no SVG written"
    else
        echo "skip - sim_check: $name: xmllint missing (libxml2-utils)"
    fi
done

# 3. a malformed file: exit 2 and the line
printf 'host a\n  iface eth0 10.0.0.1/24\nlink l a.eth0 b.eth0 lose 1%%\n' >"$tmp/bad.scn"
msg=$("$tern" sim "$tmp/bad.scn" 2>&1 >/dev/null)
rc=$?
if [ $rc -eq 2 ] && [ "${msg#tern sim: bad.scn:3: }" != "$msg" ]; then
    echo "ok - sim_check: a malformed file exits 2 naming its line"
else
    echo "not ok - sim_check: malformed file: exit $rc, '$msg'"
fi

# 4. exit statuses: a failed or unstarted action exits 1 and is listed; a
# gateway off its subnets is a scenario error (2) naming its own line
printf 'host a\n  iface eth0 10.0.0.1/24\nhost b\n  iface eth0 10.0.0.2/24\nlink l a.eth0 b.eth0\nuntil 3\nat 0.1 a nc b 4444 10\nat 5 a ping b\n' >"$tmp/fail.scn"
"$tern" sim "$tmp/fail.scn" >"$tmp/fail.out" 2>"$tmp/fail.err"
rc=$?
if [ $rc -eq 1 ] && grep -q '^  fail.scn:7: a nc b: failed (exit 1)$' "$tmp/fail.out" &&
   grep -q '^  fail.scn:8: a ping b: not started' "$tmp/fail.out" &&
   grep -q '2 actions failed or did not finish' "$tmp/fail.err"; then
    echo "ok - sim_check: failed and unstarted actions exit 1, each listed with its line"
else
    echo "not ok - sim_check: failed actions: exit $rc"
    sed 's/^/#   /' "$tmp/fail.err"
fi
printf 'host a\n  iface eth0 10.0.0.1/24\n\n  gateway 10.9.9.9\nhost b\n  iface eth0 10.0.0.2/24\nlink l a.eth0 b.eth0\n' >"$tmp/gw.scn"
msg=$("$tern" sim "$tmp/gw.scn" 2>&1 >/dev/null)
rc=$?
if [ $rc -eq 2 ] && [ "$msg" = "tern sim: gw.scn:4: a: gateway 10.9.9.9 is on none of its subnets" ]; then
    echo "ok - sim_check: a gateway off its subnets exits 2 naming its own line"
else
    echo "not ok - sim_check: gateway error: exit $rc, '$msg'"
fi

# 5. tern demo forward: the mailbox's text is in the plain POP3 session's
# captured bytes and in none of the TLS tunnel's (judged by tcpdump's filter
# and grep, not by tern), and the client received exactly what RFC 1939 and
# the maildrop make, through the tunnel as in the clear
(cd "$tmp" && "$tern" demo forward --dir fwd >fwd.txt 2>&1; echo $? >fwd.rc)
text='Meet me at the old mill at midnight. Bring the map.'
plain=0 tunnel=0
for p in "$tmp"/fwd/*.pcap; do
    plain=$((plain + $(tcpdump -r "$p" -w - 'tcp port 110' 2>/dev/null | grep -a -c "$text")))
    tunnel=$((tunnel + $(tcpdump -r "$p" -w - 'tcp port 995' 2>/dev/null | grep -a -c "$text")))
done
npcap=$(ls "$tmp"/fwd/*.pcap 2>/dev/null | wc -l)
if [ "$(cat "$tmp/fwd.rc")" = 0 ] && [ "$npcap" -eq 3 ] && [ "$plain" -ge 3 ] && [ "$tunnel" -eq 0 ] &&
   grep -q ':110 <-> .*: TEXT FOUND$' "$tmp/fwd.txt" && grep -q ':995  on .*: text not found$' "$tmp/fwd.txt"; then
    echo "ok - sim_check: forward: the text is in $plain captured frames of the plain session, in none of the tunnel's"
else
    echo "not ok - sim_check: forward: exit $(cat "$tmp/fwd.rc"), $npcap pcaps, text in $plain plain / $tunnel tunnel frames"
    grep -A3 '^Sniffer' "$tmp/fwd.txt" | sed 's/^/#   /'
fi
msg="From: postmaster@example.test\r\nTo: alice@example.test\r\nSubject: for your eyes only\r\n\r\n$text\r\n"
len=$(printf "$msg" | wc -c)
want=$(printf "+OK tern POP3 server ready\r\n+OK send PASS\r\n+OK maildrop has 1 message ($len octets)\r\n+OK $len octets\r\n$msg.\r\n+OK tern POP3 server signing off (1 message left)\r\n" | sha256sum | cut -d' ' -f1)
n=$(grep -c "laptop: pop3: received sha256 $want$" "$tmp/fwd.txt")
if [ "$n" -eq 2 ]; then
    echo "ok - sim_check: forward: both POP3 sessions received the expected transcript byte for byte"
else
    echo "not ok - sim_check: forward: $n sessions received sha256 $want"
    grep 'pop3: received' "$tmp/fwd.txt" | sed 's/^/#   /'
fi

# 6. docs/plots.md names every kind of file the simulator writes
ok=1
for f in "$tmp"/demo/plot/*.svg "$tmp"/fwd/*.svg; do
    [ -e "$f" ] || continue
    pat=$(basename "$f" | sed -E 's/^flow[0-9]+-[^-]+-[^-]+-(tsg|cwnd)\.svg$/flowN-SENDER-RECEIVER-\1.svg/; s/^queue-.*\.svg$/queue-LINK.svg/')
    grep -qF "\`$pat\`" docs/plots.md || { ok=0; echo "#   docs/plots.md does not name $pat ($(basename "$f"))"; }
done
[ $ok = 1 ] && echo "ok - sim_check: docs/plots.md names the plot files as written" ||
    echo "not ok - sim_check: docs/plots.md misses plot file names"
