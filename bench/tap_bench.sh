#!/usr/bin/env bash
# bench/tap_bench.sh - TCP bulk throughput over a Linux TAP device, MTU
# 1500, both directions, tern against the Linux kernel, next to Linux to
# Linux over a veth pair between two namespaces and next to Debian's lwIP
# on the same kind of TAP, all in one run:
#   tern  <-> Linux: bench/tap_tern.c on TAP tbN0 in namespace tb-tap-$$,
#                    Linux's address on the TAP, bench/tcpblast.c in the ns;
#                    with offloads (virtio-net header, TSO both ways) and
#                    with --no-offload (plain frames)
#   lwIP  <-> Linux: bench/tap_lwip.c the same way (liblwip-dev)
#   tern  <-> Linux: tap_tern on AF_PACKET (packet:tbpa0), one end of a veth
#                    pair (namespace tb-pa-$$, no kernel address, ARP off),
#                    Linux and tcpblast on the other end (tb-pb-$$)
#   Linux <-> Linux: tcpblast in namespaces tb-va-$$ and tb-vb-$$ over veth,
#                    offloads as the kernel sets them, then all off (ethtool -K)
# Each figure is the receiver's: bytes / (accept .. last byte), the median
# and range of BENCH_TAP_RUNS (3) runs; beside it the user-space stack's
# process CPU cycles per byte (CPU seconds x cpu MHz / bytes; its TAP
# system calls included), "-" for Linux to Linux, and Gb/s per CPU second
# of both processes (see xfer). Traffic
# stays inside the namespaces this script creates (no route out); a trap
# deletes them. Needs root; prints "n/a: reason" for what cannot run.
#
#   bash bench/tap_bench.sh BUILD/bench     (make bench BENCH=tap)
#   BENCH_TAP_BYTES=N overrides 256 MiB per run.
set -u
bin=${1:?usage: tap_bench.sh BENCH_BIN_DIR}
bytes=${BENCH_TAP_BYTES:-268435456}
ns=tb-tap-$$ va=tb-va-$$ vb=tb-vb-$$ pa=tb-pa-$$ pb=tb-pb-$$
cleanup() {
    jobs -p | xargs -r kill 2>/dev/null
    wait 2>/dev/null
    for n in "$ns" "$va" "$vb" "$pa" "$pb"; do ip netns del "$n" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 1' INT TERM
row() { printf '%-40s %s\n' "$1" "$2"; }

runs=${BENCH_TAP_RUNS:-3}
echo "TCP bulk over TAP / veth, MTU 1500, $bytes bytes per run, $runs runs: median [min-max]"
printf '%-40s %20s %10s %12s\n' "" "Gb/s (receiver)" "stack" "Gb/s per" \
    "" "median [min-max]" "cyc/byte" "CPU second"
if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/net/tun ] || ! command -v ip >/dev/null; then
    row "all" "n/a: needs root, /dev/net/tun and iproute2"
    exit 0
fi

mhz=$(sed -n 's/^cpu MHz[[:space:]]*: //p' /proc/cpuinfo | head -1)
# median of the numbers on stdin, one a line
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
# One pairing, run $runs times. Prints the receiver's Gb/s (median and
# range), the user-space stack's CPU cycles per byte (its process's CPU
# seconds x cpu MHz / bytes; "-" for Linux to Linux) and Gb/s per CPU
# second: bytes / (sender's + receiver's process CPU seconds) - the kernel
# work done in their system calls included, softirq work the kernel does
# on other CPUs' time not (so Linux-to-Linux figures flatter the kernel).
xfer() { # label, namespace-of-receiver, rx command..., --, namespace-of-sender, tx command...
    local label=$1 rns=$2; shift 2
    local rx=() tx=()
    while [ "$1" != -- ]; do rx+=("$1"); shift; done
    shift
    local tns=$1; shift
    tx=("$@")
    local out err="" i g crx ctx stack
    out=$(mktemp)
    : >"$out.g"; : >"$out.cyc"; : >"$out.eff"
    stack=none # which side is the user-space stack: rx, tx or none
    case "${rx[0]}" in */tap_tern|*/tap_lwip) stack=rx ;; esac
    case "${tx[0]}" in */tap_tern|*/tap_lwip) stack=tx ;; esac
    for ((i = 0; i < runs; i++)); do
        ip netns exec "$rns" timeout 90 "${rx[@]}" >"$out.rx" 2>&1 &
        local rpid=$!
        sleep 0.3
        ip netns exec "$tns" timeout 90 "${tx[@]}" >"$out.tx" 2>&1
        wait $rpid
        g=$(sed -n 's/^RESULT .*gbps=\([0-9.]*\).*$/\1/p' "$out.rx")
        crx=$(sed -n 's/^RESULT .*cpu=\([0-9.]*\)$/\1/p' "$out.rx")
        ctx=$(sed -n 's/^RESULT .*cpu=\([0-9.]*\)$/\1/p' "$out.tx")
        if [ -z "$g" ] || [ -z "$crx" ] || [ -z "$ctx" ]; then
            err=$(cat "$out.rx" "$out.tx" | grep -v '^RESULT' | head -c 160 | tr '\n' ' '); continue
        fi
        echo "$g" >>"$out.g"
        awk "BEGIN{printf \"%.3f\\n\", $bytes * 8 / 1e9 / ($crx + $ctx)}" >>"$out.eff"
        [ $stack = rx ] && awk "BEGIN{printf \"%.2f\\n\", $crx * $mhz * 1e6 / $bytes}" >>"$out.cyc"
        [ $stack = tx ] && awk "BEGIN{printf \"%.2f\\n\", $ctx * $mhz * 1e6 / $bytes}" >>"$out.cyc"
    done
    if [ -s "$out.g" ]; then
        local med lo hi cyc eff
        med=$(median <"$out.g"); lo=$(sort -g "$out.g" | head -1); hi=$(sort -g "$out.g" | tail -1)
        cyc=$(median <"$out.cyc"); eff=$(median <"$out.eff")
        printf '%-40s %20s %10s %12s\n' "$label" "$med [$lo-$hi]" "${cyc:--}" "$eff"
    else
        row "$label" "n/a: ${err:-no result}"
    fi
    rm -f "$out" "$out.rx" "$out.tx" "$out.g" "$out.cyc" "$out.eff"
}

# The TAP namespace: Linux 10.79.0.1 on tbt0, the user-space stack 10.79.0.2.
ip netns add "$ns" && ip -n "$ns" link set lo up &&
    ip -n "$ns" tuntap add dev tbt0 mode tap && ip -n "$ns" link set tbt0 mtu 1500 &&
    ip -n "$ns" addr add 10.79.0.1/24 dev tbt0 && ip -n "$ns" link set tbt0 up ||
    { row "TAP" "n/a: could not create the namespace/TAP"; exit 0; }
L=10.79.0.1 U=10.79.0.2

xfer "tern  -> Linux (TAP, offload)" "$ns" "$bin/tcpblast" recv 5001 "$bytes" -- \
    "$ns" "$bin/tap_tern" tbt0 $U/24 send $L 5001 "$bytes"
xfer "Linux -> tern  (TAP, offload)" "$ns" "$bin/tap_tern" tbt0 $U/24 recv 5002 "$bytes" -- \
    "$ns" "$bin/tcpblast" send $U 5002 "$bytes"
xfer "tern  -> Linux (TAP, --no-offload)" "$ns" "$bin/tcpblast" recv 5011 "$bytes" -- \
    "$ns" "$bin/tap_tern" --no-offload tbt0 $U/24 send $L 5011 "$bytes"
xfer "Linux -> tern  (TAP, --no-offload)" "$ns" "$bin/tap_tern" --no-offload tbt0 $U/24 recv 5012 \
    "$bytes" -- "$ns" "$bin/tcpblast" send $U 5012 "$bytes"
if [ -x "$bin/tap_lwip" ]; then
    # A fresh ARP entry for lwIP's MAC (the kernel still caches tern's).
    ip -n "$ns" neigh flush dev tbt0 2>/dev/null
    xfer "lwIP  -> Linux (TAP)" "$ns" "$bin/tcpblast" recv 5003 "$bytes" -- \
        "$ns" "$bin/tap_lwip" tbt0 $U 24 send $L 5003 "$bytes"
    xfer "Linux -> lwIP  (TAP)" "$ns" "$bin/tap_lwip" tbt0 $U 24 recv 5004 "$bytes" -- \
        "$ns" "$bin/tcpblast" send $U 5004 "$bytes"
else
    row "lwIP  <-> Linux (TAP)" "n/a: liblwip-dev not installed (apt-get install liblwip-dev)"
fi

# tern on AF_PACKET: one end of a veth pair, Linux on the other (its veth
# offloads as the kernel sets them: tern receives TSO super-segments).
if ip netns add "$pa" && ip netns add "$pb" &&
    ip link add tbpa0 netns "$pa" type veth peer name tbpb0 netns "$pb" &&
    ip netns exec "$pa" sysctl -qw net.ipv6.conf.tbpa0.disable_ipv6=1 &&
    ip -n "$pa" link set tbpa0 mtu 1500 arp off up && ip -n "$pb" link set tbpb0 mtu 1500 up &&
    ip -n "$pb" addr add 10.79.2.1/24 dev tbpb0; then
    xfer "tern  -> Linux (AF_PACKET veth)" "$pb" "$bin/tcpblast" recv 5021 "$bytes" -- \
        "$pa" "$bin/tap_tern" packet:tbpa0 10.79.2.2/24 send 10.79.2.1 5021 "$bytes"
    xfer "Linux -> tern  (AF_PACKET veth)" "$pa" "$bin/tap_tern" packet:tbpa0 10.79.2.2/24 recv 5022 "$bytes" -- \
        "$pb" "$bin/tcpblast" send 10.79.2.2 5022 "$bytes"
else
    row "tern  <-> Linux (AF_PACKET veth)" "n/a: could not create the veth pair"
fi

# Linux to Linux over veth, MTU 1500, offloads as the kernel sets them.
ip netns add "$va" && ip netns add "$vb" &&
    ip link add tbva0 netns "$va" type veth peer name tbvb0 netns "$vb" &&
    ip -n "$va" link set tbva0 mtu 1500 up && ip -n "$vb" link set tbvb0 mtu 1500 up &&
    ip -n "$va" addr add 10.79.1.1/24 dev tbva0 && ip -n "$vb" addr add 10.79.1.2/24 dev tbvb0 ||
    { row "Linux <-> Linux (veth)" "n/a: could not create the veth pair"; exit 0; }
xfer "Linux -> Linux (veth offloads on, a->b)" "$vb" "$bin/tcpblast" recv 5005 "$bytes" -- \
    "$va" "$bin/tcpblast" send 10.79.1.2 5005 "$bytes"
xfer "Linux -> Linux (veth offloads on, b->a)" "$va" "$bin/tcpblast" recv 5006 "$bytes" -- \
    "$vb" "$bin/tcpblast" send 10.79.1.1 5006 "$bytes"
# The same pair with every offload ethtool can turn off on a veth: no
# checksum offload, scatter-gather, TSO, GSO or GRO - each 1500-byte
# frame is built, sent and taken in on its own.
if command -v ethtool >/dev/null; then
    for d in "$va tbva0" "$vb tbvb0"; do
        set -- $d
        ip netns exec "$1" ethtool -K "$2" rx off tx off sg off tso off gso off gro off >/dev/null 2>&1
    done
    xfer "Linux -> Linux (veth offloads off, a->b)" "$vb" "$bin/tcpblast" recv 5007 "$bytes" -- \
        "$va" "$bin/tcpblast" send 10.79.1.2 5007 "$bytes"
    xfer "Linux -> Linux (veth offloads off, b->a)" "$va" "$bin/tcpblast" recv 5008 "$bytes" -- \
        "$vb" "$bin/tcpblast" send 10.79.1.1 5008 "$bytes"
else
    row "Linux <-> Linux (veth offloads off)" "n/a: ethtool missing (apt-get install ethtool)"
fi
