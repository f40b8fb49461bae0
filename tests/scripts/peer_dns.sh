#!/usr/bin/env bash
# Real peers for DNS, over a TAP device inside a network namespace this
# script creates (no route out; removed on exit):
#   - `dig @TERN www.example.test` is answered by `tern serve --dns
#     examples/zones/example.test.zone`: the address, the aa flag, NXDOMAIN
#     with the SOA, a CNAME chain, AAAA, REFUSED outside the zone;
#   - DNS over TCP (RFC 1035 s4.2.2, RFC 7766): the zone plus 40 A records
#     at many.example.test (12 + 23 + 40 * 16 = 675 octets of answer): `dig
#     +tcp` gets all 40 over TCP; plain dig gets a UDP answer cut at 512
#     octets with TC (29 records: (512 - 35) / 16), says "Truncated,
#     retrying in TCP mode" and gets all 40 over TCP;
#   - `tern resolve` asks dnsmasq (running in the namespace, on its own
#     config only: -C /dev/null, --no-resolv, --no-hosts, pid file in a temp
#     dir) and prints what host(1) prints for the same questions; for a name
#     with 40 A records dnsmasq's UDP answer is truncated and tern retries
#     over TCP (its pcap shows the TCP exchange on port 53).
set -u
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
. tests/scripts/lib/peer.sh
zone=$(pwd)/examples/zones/example.test.zone
peer_setup peer_dns dig host dnsmasq

ns=tern-dns-$$

peer_netns "$ns"
# Linux 10.79.0.1 <-> tern 10.79.0.2
ip -n "$ns" tuntap add dev tdns0 mode tap
ip -n "$ns" addr add 10.79.0.1/24 dev tdns0
ip -n "$ns" link set tdns0 up

# ---- dig against tern's server ----
# the example zone plus 40 A records at one name (an answer > 512 octets)
cp "$zone" "$tmp/zone"
for i in $(seq 1 40); do echo "many.example.test. 300 IN A 10.1.0.$i" >>"$tmp/zone"; done
ip netns exec "$ns" "$tern" serve --tap tdns0 --addr 10.79.0.2/24 --dns "$tmp/zone" --for 60 \
    2>"$tmp/serve.err" &
pids+=($!)
sleep 0.5
d() { inns dig @10.79.0.2 +time=2 +tries=2 "$@" 2>&1; }
d www.example.test >"$tmp/www"
check "dig www.example.test: NOERROR" grep -q 'status: NOERROR' "$tmp/www"
check "dig www.example.test: aa flag set" grep -qE '^;; flags: qr aa rd;' "$tmp/www"
check "dig www.example.test: A 10.0.0.5" grep -qE '^www\.example\.test\.\s+300\s+IN\s+A\s+10\.0\.0\.5$' "$tmp/www"
d nope.example.test >"$tmp/nope"
check "dig nope.example.test: NXDOMAIN" grep -q 'status: NXDOMAIN' "$tmp/nope"
check "dig nope.example.test: aa, SOA in authority" grep -qE \
    '^example\.test\.\s+300\s+IN\s+SOA\s+ns1\.example\.test\. hostmaster\.example\.test\. 2024010101 3600 900 604800 300$' \
    "$tmp/nope"
d alias.example.test >"$tmp/alias"
check "dig alias.example.test: CNAME chain to 10.0.0.5" \
    bash -c "grep -qE '^alias\.example\.test\.\s+3600\s+IN\s+CNAME\s+web\.example\.test\.$' '$tmp/alias' &&
             grep -qE '^web\.example\.test\.\s+300\s+IN\s+CNAME\s+www\.example\.test\.$' '$tmp/alias' &&
             grep -qE '^www\.example\.test\.\s+300\s+IN\s+A\s+10\.0\.0\.5$' '$tmp/alias'"
d AAAA www.example.test >"$tmp/aaaa"
check "dig AAAA www.example.test: 2001:db8::5" grep -qE '^www\.example\.test\.\s+300\s+IN\s+AAAA\s+2001:db8::5$' "$tmp/aaaa"
d mail.example.test AAAA >"$tmp/nodata"
check "dig AAAA mail.example.test: NODATA (NOERROR, no answer, SOA)" \
    bash -c "grep -q 'status: NOERROR' '$tmp/nodata' && grep -q 'ANSWER: 0, AUTHORITY: 1' '$tmp/nodata'"
d www.example.org >"$tmp/refused"
check "dig www.example.org: REFUSED" grep -q 'status: REFUSED' "$tmp/refused"
inns host -t A web.example.test 10.79.0.2 >"$tmp/host_tern" 2>&1
check "host(1) against tern: alias and address" \
    bash -c "grep -qx 'web.example.test is an alias for www.example.test.' '$tmp/host_tern' &&
             grep -qx 'www.example.test has address 10.0.0.5' '$tmp/host_tern'"
# DNS over TCP
many_ok() { # file: NOERROR, aa, 40 answers, each 10.1.0.1..40 once
    grep -q 'status: NOERROR' "$1" && grep -q 'ANSWER: 40,' "$1" &&
        [ "$(grep -cE '^many\.example\.test\.\s+300\s+IN\s+A\s+10\.1\.0\.([1-9]|[1-3][0-9]|40)$' "$1")" -eq 40 ] &&
        [ "$(grep -E '^many\.example\.test\.' "$1" | awk '{print $5}' | sort -u | wc -l)" -eq 40 ]
}
d +tcp many.example.test >"$tmp/many_tcp"
check "dig +tcp many.example.test: 40 A records over TCP" many_ok "$tmp/many_tcp"
check "dig +tcp: the answer came over TCP" grep -q '^;; SERVER: 10.79.0.2#53(10.79.0.2) (TCP)$' "$tmp/many_tcp"
d +notcp +ignore many.example.test >"$tmp/many_tc"
check "dig +ignore many.example.test: UDP answer cut at 512 octets, TC set, 29 records" \
    bash -c "grep -qE '^;; flags: qr aa tc rd;' '$tmp/many_tc' && grep -q 'ANSWER: 29,' '$tmp/many_tc' &&
             grep -q '^;; MSG SIZE  rcvd: 499$' '$tmp/many_tc'"
d many.example.test >"$tmp/many_retry"
check "dig many.example.test: TC, then dig's own retry over TCP" \
    grep -q '^;; Truncated, retrying in TCP mode.$' "$tmp/many_retry"
check "dig many.example.test: all 40 records after the retry" many_ok "$tmp/many_retry"
check "dig +tcp: a pipelined second query on one connection (+keepopen)" \
    bash -c "d() { ip netns exec '$ns' dig @10.79.0.2 +time=2 +tries=1 +tcp +keepopen \"\$@\" 2>&1; };
             out=\$(d www.example.test mail.example.test); [ \$(grep -c 'status: NOERROR' <<<\"\$out\") -eq 2 ]"
stop_bg
check "tern serve counted the dig queries" grep -qE 'dns queries [0-9]+, answers [0-9]+, nxdomain [1-9]' "$tmp/serve.err"
check "tern serve: TCP queries counted, truncated UDP answers counted" \
    grep -qE 'truncated [1-9][0-9]*, tcp queries [1-9]' "$tmp/serve.err"

# ---- tern resolve against dnsmasq ----
ip netns exec "$ns" dnsmasq --no-daemon -C /dev/null --no-resolv --no-hosts --bind-interfaces \
    --listen-address=10.79.0.1 --port=53 --pid-file="$tmp/dnsmasq.pid" --user=root \
    --local=/example.test/ --host-record=www.example.test,10.9.8.7,2001:db8::77 \
    --cname=alias.example.test,www.example.test --host-record=mail.example.test,10.9.8.25 \
    --cname=smtp.example.test,mail.example.test \
    --mx-host=example.test,mail.example.test,10 --mx-host=example.test,backup.example.test,20 \
    --txt-record=example.test,"v=spf1 -all","second string" --txt-record=q.example.test,'say "hi"' \
    --ptr-record=7.8.9.10.in-addr.arpa,www.example.test $(for i in $(seq 1 40); do printf ' --host-record=big.example.test,10.2.0.%d' "$i"; done) \
    --log-queries --log-facility="$tmp/dnsmasq.log" \
    2>"$tmp/dnsmasq.err" &
pids+=($!)
sleep 0.5
r() { inns "$tern" resolve --tap tdns0 --addr 10.79.0.2/24 --dns 10.79.0.1 "$@" 2>&1; }
# host(1) on the Linux side asks dnsmasq the same question: the lines must match.
hostlines() { inns host "$@" 10.79.0.1 2>&1 | grep -vE '^(Using domain server:|Name: .*|Address: .*|Aliases: .*|)$'; }
for q in "-t A www.example.test" "-t A alias.example.test" "-t AAAA www.example.test" "-t AAAA alias.example.test" \
    "-t AAAA mail.example.test" "-t AAAA smtp.example.test" "-t MX example.test" \
    "-t TXT example.test" "-t TXT q.example.test" "-t CNAME alias.example.test" \
    "-t PTR 7.8.9.10.in-addr.arpa" "10.9.8.7" "-t MX www.example.test" "-t NS example.test" \
    "-t SOA example.test"; do
    # shellcheck disable=SC2086
    got=$(r $q); rc=$?
    # shellcheck disable=SC2086
    want=$(hostlines $q)
    check "tern resolve $q: exit 0" [ $rc -eq 0 ]
    check "tern resolve $q prints what host(1) prints" [ "$got" = "$want" ]
    [ "$got" = "$want" ] || printf '# tern:\n%s\n# host:\n%s\n' "$got" "$want" | sed 's/^/#   /'
done
got=$(r alias.example.test)
check "tern resolve alias.example.test: alias then 10.9.8.7" [ "$got" = "alias.example.test is an alias for www.example.test.
www.example.test has address 10.9.8.7" ]
got=$(r nope.example.test); rc=$?
check "tern resolve nope.example.test: exit 1" [ $rc -eq 1 ]
check "tern resolve nope.example.test: NXDOMAIN line" [ "$got" = "Host nope.example.test not found: 3(NXDOMAIN)" ]
check "tern resolve nope.example.test prints what host(1) prints" [ "$got" = "$(hostlines -t A nope.example.test)" ]
got=$(inns "$tern" resolve --tap tdns0 --addr 10.79.0.2/24 --dns 10.79.0.99 -W 0.2 -R 2 www.example.test 2>&1); rc=$?
check "tern resolve with a silent server: exit 1, timed out" \
    bash -c "[ $rc -eq 1 ] && [ '$got' = ';; connection timed out; no servers could be reached' ]"
got=$(inns "$tern" resolve --tap tdns0 --addr 10.79.0.2/24 --dns 10.79.0.99,10.79.0.1 -W 0.3 www.example.test 2>&1)
check "tern resolve: a silent first server, then dnsmasq" [ "$got" = "www.example.test has address 10.9.8.7" ]
# 40 A records from dnsmasq: > 512 octets, so TC over UDP and tern asks again over TCP
got=$(inns "$tern" resolve --tap tdns0 --addr 10.79.0.2/24 --dns 10.79.0.1 --pcap "$tmp/big.pcap" \
      big.example.test 2>&1); rc=$?
check "tern resolve big.example.test (40 A records via dnsmasq): exit 0" [ $rc -eq 0 ]
want=$(for i in $(seq 1 40); do echo "big.example.test has address 10.2.0.$i"; done | sort)
check "tern resolve big.example.test: all 40 addresses" [ "$(sort <<<"$got")" = "$want" ]
check "tern resolve big.example.test: the same lines as host(1)" \
    [ "$(sort <<<"$got")" = "$(hostlines -t A big.example.test | sort)" ]
if command -v tshark >/dev/null; then
    tc_udp=$(tshark -r "$tmp/big.pcap" -Y 'udp.srcport == 53 && dns.flags.truncated == 1' 2>/dev/null | wc -l)
    tcp_ans=$(tshark -r "$tmp/big.pcap" -Y 'tcp.srcport == 53 && dns.count.answers == 40' 2>/dev/null | wc -l)
    check "tern resolve's pcap: a truncated UDP answer, then the whole answer over TCP" \
        test "$tc_udp" -eq 1 -a "$tcp_ans" -ge 1
else
    echo "skip - tern resolve's pcap (truncated UDP, then TCP): tshark missing"
fi
check "dnsmasq saw tern's queries" grep -q 'query\[A\] www.example.test from 10.79.0.2' "$tmp/dnsmasq.log"
check "dnsmasq was still running" kill -0 "${pids[0]}"
exit 0
