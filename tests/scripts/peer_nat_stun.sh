#!/usr/bin/env bash
# slow: runs against the sanitizer build only (tests/run.sh)
# Issue 14: the NAT's behaviour measured by independent tools, in
# namespaces this script creates (removed on exit):
#
#   C 192.168.72.10 --TAP sin-- [tern router --nat sout] --TAP sout-- S 10.74.0.2 + 10.74.0.3
#
# S runs Debian's coturn as a STUN server on two addresses (RFC 5780
# needs them: CHANGE-REQUEST answers from the other address and port).
# For each of the nine mapping x filtering combinations tern is started with, coturn's
# turnutils_natdiscovery (RFC 5780 s4.3 mapping and s4.4 filtering
# discovery) run in C must report exactly that combination, and Debian's
# `stun` client (RFC 3489) the matching classic NAT type:
#   EIM + EIF: full cone ("Independent Mapping, Independent Filter")
#   EIM + ADF: restricted cone ("Independent Mapping, Address Dependent Filter")
#   EIM + APDF: port restricted cone ("Independent Mapping, Port Dependent Filter")
#   APDM (any filtering): symmetric ("Dependent Mapping")
set -u
b=${1:?build dir}
tern=$(cd "$(dirname "$b")" && pwd)/$(basename "$b")/tern
cd "$(dirname "$0")/../.."
. tests/scripts/lib/pcap_check.sh
. tests/scripts/lib/peer.sh
peer_setup peer_nat_stun tshark timeout turnserver turnutils_natdiscovery stun

p=tstn$$
nsR=$p-r nsC=$p-c nsS=$p-s
all_ns="$nsR $nsC $nsS"
inn() { local n=$1; shift; ip netns exec "$n" "$@"; }

peer_netns $all_ns

start_router() { # name, options...
    local name=$1; shift
    ip -n "$nsR" tuntap add dev sin mode tap
    ip -n "$nsR" tuntap add dev sout mode tap
    ip netns exec "$nsR" "$tern" router --tap sin 192.168.72.1/24 --tap sout 10.74.0.1/24 \
        --nat sout --pcap "$tmp/$name.pcap" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    rpid=$!
    pids+=($rpid)
    for _ in $(seq 50); do grep -q forwarding "$tmp/$name.err" 2>/dev/null && break; sleep 0.1; done
    ip -n "$nsR" link set sin netns "$nsC"
    ip -n "$nsR" link set sout netns "$nsS"
    ip -n "$nsC" addr add 192.168.72.10/24 dev sin
    ip -n "$nsC" link set sin up
    ip -n "$nsC" route add default via 192.168.72.1
    ip -n "$nsS" addr add 10.74.0.2/24 dev sout
    ip -n "$nsS" addr add 10.74.0.3/24 dev sout
    ip -n "$nsS" link set sout up
    for _ in $(seq 30); do ip -n "$nsS" -br addr show sout | grep -q tentative || break; sleep 0.1; done
}
stop_router() {
    kill -TERM $rpid
    wait $rpid
    pids=("${pids[@]/$rpid}")
    ip -n "$nsC" link del sin 2>/dev/null
    ip -n "$nsS" link del sout 2>/dev/null
}

# mapping filtering natdiscovery-mapping natdiscovery-filtering stun-words
combos="eim eif Endpoint.Independent.Mapping Endpoint.Independent.Filtering Independent.Mapping,.Independent.Filter
eim adf Endpoint.Independent.Mapping Address.Dependent.Filtering Independent.Mapping,.Address.Dependent.Filter
eim apdf Endpoint.Independent.Mapping Address.and.Port.Dependent.Filtering Independent.Mapping,.Port.Dependent.Filter
adm apdf Address.Dependent.Mapping Address.and.Port.Dependent.Filtering Dependent.Mapping
apdm apdf Address.and.Port.Dependent.Mapping Address.and.Port.Dependent.Filtering Dependent.Mapping
adm adf Address.Dependent.Mapping Address.Dependent.Filtering Dependent.Mapping
adm eif Address.Dependent.Mapping Endpoint.Independent.Filtering Dependent.Mapping
apdm eif Address.and.Port.Dependent.Mapping Endpoint.Independent.Filtering Dependent.Mapping
apdm adf Address.and.Port.Dependent.Mapping Address.Dependent.Filtering Dependent.Mapping"
pcaps=()
while read -r map filt want_m want_f want_s; do
    name="$map-$filt"
    start_router "$name" --nat-mapping "$map" --nat-filtering "$filt"
    ip netns exec "$nsS" turnserver -n --stun-only --no-cli --no-tls --no-dtls \
        --listening-ip 10.74.0.2 --listening-ip 10.74.0.3 --listening-port 3478 \
        --log-file stdout --simple-log >"$tmp/turn-$name.log" 2>&1 &
    tpid=$!
    pids+=($tpid)
    for _ in $(seq 50); do inn "$nsS" ss -lun 2>/dev/null | grep -q '10.74.0.3:3479 ' && break; sleep 0.1; done
    inn "$nsC" timeout 60 turnutils_natdiscovery -m -f 10.74.0.2 >"$tmp/nd-$name" 2>&1
    sed 's/^/# natdiscovery: /' "$tmp/nd-$name" | grep -iE 'mapping!|filtering!|NAT' | head -4
    check "natdiscovery ($name): $(echo $want_m | tr . ' ')" grep -qE "NAT with ${want_m}!" "$tmp/nd-$name"
    check "natdiscovery ($name): $(echo $want_f | tr . ' ')" grep -qE "NAT with ${want_f}!" "$tmp/nd-$name"
    inn "$nsC" timeout 60 stun 10.74.0.2 -v >"$tmp/stun-$name" 2>&1
    grep -E '^Primary' "$tmp/stun-$name" | sed 's/^/# stun: /'
    check "stun (RFC 3489) ($name): $(echo $want_s | tr . ' ')" grep -qE "^Primary: ${want_s}" "$tmp/stun-$name"
    kill $tpid 2>/dev/null
    wait $tpid 2>/dev/null
    pids=("${pids[@]/$tpid}")
    stop_router
    pcaps+=("$tmp/$name-sin.pcap" "$tmp/$name-sout.pcap")
done <<<"$combos"

# The NAT picks random outside ports; tshark guesses an application from a
# port number (3671 is KNXnet/IP) and calls the STUN payload malformed. The
# check is about IP/UDP/ICMP and their checksums: those guesses are off.
PCAP_CHECK_OPTS="--disable-protocol knxnetip" pcap_check "${pcaps[@]}"
exit 0
