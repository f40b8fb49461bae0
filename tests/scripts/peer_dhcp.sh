#!/usr/bin/env bash
# slow: runs against the sanitizer build only (tests/run.sh)
# Real peers for DHCP (RFC 2131), over TAP devices inside a network
# namespace this script creates (no route out; removed on exit):
#   - tern's client (`tern serve --dhcp`) gets a lease from dnsmasq's DHCP
#     server, prints the lease line, and Linux can ping the leased address;
#   - Linux's DHCP client (busybox udhcpc) gets a lease from tern's server
#     (`tern serve --dhcp-server FIRST-LAST`), inside the pool, with the
#     router and DNS options; the lease file records it.
set -u
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
. tests/scripts/lib/peer.sh
peer_setup peer_dhcp ping dnsmasq busybox tcpdump

ns=tern-dhcp-$$
chmod 755 "$tmp"
# waits up to $2 seconds for a line matching $3 in file $1
wait_for() {
    for _ in $(seq 1 $(($2 * 10))); do grep -qE "$3" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

peer_netns "$ns"

# 1. dnsmasq (Linux side, 10.79.0.1) serves tern's client
ip -n "$ns" tuntap add dev tdh0 mode tap
ip -n "$ns" addr add 10.79.0.1/24 dev tdh0
ip -n "$ns" link set tdh0 up
ip netns exec "$ns" dnsmasq --no-daemon -C /dev/null --no-resolv --no-hosts --port=0 --user=root \
    --interface=tdh0 --bind-interfaces --dhcp-range=10.79.0.50,10.79.0.60,255.255.255.0,600 \
    --dhcp-option=6,10.79.0.1 --dhcp-leasefile="$tmp/dnsmasq.leases" --pid-file="$tmp/dnsmasq.pid" \
    2>"$tmp/dnsmasq.err" &
pids+=($!)
sleep 0.5
ip netns exec "$ns" "$tern" serve --tap tdh0 --dhcp --mac 02:7e:72:6e:00:05 --for 30 \
    2>"$tmp/client.err" &
tpid=$!
pids+=($tpid)
if wait_for "$tmp/client.err" 25 'running'; then
    ok "tern --dhcp got a lease from dnsmasq"
else
    nok "tern --dhcp got a lease from dnsmasq"
fi
check "lease line: address in dnsmasq's range, router and dns" \
    grep -qE '^tern: DHCP lease 10\.79\.0\.(5[0-9]|60)/24 from 10\.79\.0\.1, router 10\.79\.0\.1, dns 10\.79\.0\.1, 600 s$' "$tmp/client.err"
addr=$(sed -nE 's/^tern: DHCP lease ([0-9.]+)\/.*/\1/p' "$tmp/client.err" | head -1)
check "dnsmasq's lease file has tern's MAC and address" \
    grep -q "02:7e:72:6e:00:05 ${addr:-none} " "$tmp/dnsmasq.leases"
inns ping -c 2 -i 0.2 -W 2 "${addr:-10.79.0.254}" >"$tmp/ping" 2>&1
check "linux pings tern at its leased address" grep -q '2 packets transmitted, 2 received' "$tmp/ping"
kill -TERM "$tpid" 2>/dev/null
wait "$tpid" 2>/dev/null

# 1b. Without --mac, twice: the MAC (and so the client identifier) is the
# same for tdh0 each run, so dnsmasq gives the same lease back instead of
# a new address from its pool. --dhcp probes the offer with ARP (RFC 5227:
# sender address 0.0.0.0); --dhcp-fast does not.
lease_of() { sed -nE 's/^tern: DHCP lease ([0-9.]+)\/.*/\1/p' "$1" | head -1; }
for run in 1 2; do
    ip netns exec "$ns" "$tern" serve --tap tdh0 --dhcp --for 30 --pcap "$tmp/run$run.pcap" \
        2>"$tmp/run$run.err" &
    rp=$!
    wait_for "$tmp/run$run.err" 25 'running' || nok "run $run without --mac got no lease"
    kill -TERM $rp 2>/dev/null
    wait $rp 2>/dev/null
done
a1=$(lease_of "$tmp/run1.err"); a2=$(lease_of "$tmp/run2.err")
check "without --mac, a second run gets the same lease ($a1, $a2)" [ -n "$a1" ] && [ "$a1" = "$a2" ]
probes() { tcpdump -n -r "$1" 'arp and arp[14:4] = 0' 2>/dev/null | wc -l; }
check "--dhcp probes the offered address with ARP (RFC 5227)" [ "$(probes "$tmp/run1.pcap")" -ge 1 ]
ip netns exec "$ns" "$tern" serve --tap tdh0 --dhcp-fast --for 30 --pcap "$tmp/fast.pcap" \
    2>"$tmp/fast.err" &
rp=$!
wait_for "$tmp/fast.err" 25 'running' || nok "--dhcp-fast got no lease"
kill -TERM $rp 2>/dev/null
wait $rp 2>/dev/null
check "--dhcp-fast: the same lease ($(lease_of "$tmp/fast.err")), no ARP probe" \
    [ "$(lease_of "$tmp/fast.err")" = "$a1" ] && [ "$(probes "$tmp/fast.pcap")" -eq 0 ]

# 2. tern's server (10.80.0.1) serves busybox udhcpc on the Linux side
ip -n "$ns" tuntap add dev tdh1 mode tap
ip -n "$ns" link set tdh1 up
ip netns exec "$ns" "$tern" serve --tap tdh1 --addr 10.80.0.1/24 --dhcp-server 10.80.0.100-10.80.0.110 \
    --dhcp-router 10.80.0.1 --dhcp-dns 10.80.0.1 --lease-time 300 --lease-file "$tmp/tern.leases" \
    --for 30 2>"$tmp/server.err" &
spid=$!
pids+=($spid)
wait_for "$tmp/server.err" 5 'running'
cat >"$tmp/udhcpc.sh" <<'SCRIPT'
#!/bin/sh
[ "$1" = bound ] && echo "ip=$ip subnet=$subnet router=$router dns=$dns lease=$lease" >>"$(dirname "$0")/udhcpc.out"
exit 0
SCRIPT
chmod +x "$tmp/udhcpc.sh"
inns timeout 30 busybox udhcpc -i tdh1 -n -q -f -t 5 -T 2 -s "$tmp/udhcpc.sh" >"$tmp/udhcpc.log" 2>&1
rc=$?
check "busybox udhcpc got a lease from tern (exit 0)" [ $rc -eq 0 ]
check "udhcpc: address in tern's pool, mask, router, dns, lease" \
    grep -qE '^ip=10\.80\.0\.(10[0-9]|110) subnet=255\.255\.255\.0 router=10\.80\.0\.1 dns=10\.80\.0\.1 lease=300$' "$tmp/udhcpc.out"
uaddr=$(sed -nE 's/^ip=([0-9.]+) .*/\1/p' "$tmp/udhcpc.out" 2>/dev/null | head -1)
check "tern's lease file records the lease" grep -qE "^${uaddr:-none} [0-9]+ [0-9a-f]+$" "$tmp/tern.leases"
kill -TERM "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
check "tern serve reports one DHCP ack" grep -q 'acks 1,' "$tmp/server.err"
# show diagnostics for any failure
if [ $peer_failed -ne 0 ]; then
    for f in client.err server.err udhcpc.log dnsmasq.err; do
        if [ -s "$tmp/$f" ]; then sed "s/^/# $f: /" "$tmp/$f"; fi
    done
fi
exit 0
