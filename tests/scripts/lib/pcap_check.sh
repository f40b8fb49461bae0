# tests/scripts/lib/pcap_check.sh - sourced by the peer tests.
#
# pcap_check FILE... prints one "ok - " / "not ok - " line per capture: tshark
# reads it with no malformed frame and no bad IPv4, ICMP, UDP or TCP checksum.
# One exemption, exact: a stored 0xffff where the checksum computes to 0x0000
# is the other ones' complement zero (RFC 1624 s3); both verify, and Linux
# writes 0xffff on purpose (skb_checksum_help's CSUM_MANGLED_0), about once in
# 65536 segments. tshark compares the literal values and would call it bad.
# TCP stream desegmentation is off: it reassembles application messages (HTTP
# bodies), and a retransmission repacketized after a message was complete -
# legal TCP - makes it report "New fragment overlaps old data"; the byte
# streams themselves are checked by the tests with SHA-256. With it off, the
# HTTP dissector reads each body segment on its own ("Continuation") and can
# call random body bytes malformed (tshark 4.0: "Leading CRLF previous message
# in the stream may have extra CRLF", about once in 70,000 random 1448-byte
# segments - a 20 MB transfer hits it one run in five): malformed verdicts on
# HTTP continuation frames are not judged; request and response heads still are.
# The TCP/UDP header quoted inside an ICMP error (unreachable, frag needed,
# time exceeded, ...) belongs to a datagram the router cut to 576 bytes (RFC
# 1812 s4.3.2.3); tshark computes its checksum over the cut bytes and calls it
# bad (Linux's quotes read the same), so quoted transport checksums are not
# judged - the ICMP checksum over the whole message still is.
pcap_check() {
    local f n bad
    local filter='(_ws.malformed && !(http && !http.request && !http.response))
        || (ip.checksum.status == "Bad" && !(ip.checksum == 0xffff && ip.checksum_calculated == 0x0000))
        || (tcp.checksum.status == "Bad" && !(tcp.checksum == 0xffff && tcp.checksum_calculated == 0x0000)
            && !(icmp.type in {3,4,5,11,12}))
        || (udp.checksum.status == "Bad" && !(icmp.type in {3,4,5,11,12}))
        || icmp.checksum.status == "Bad"'
    for f in "$@"; do
        n=$(tshark -r "$f" 2>/dev/null | wc -l)
        # shellcheck disable=SC2086 # PCAP_CHECK_OPTS: extra tshark words from the caller
        bad=$(tshark -r "$f" -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE \
            -o udp.check_checksum:TRUE -o tcp.desegment_tcp_streams:FALSE ${PCAP_CHECK_OPTS:-} \
            -Y "$filter" -T fields -E separator=' | ' -e frame.number -e ip.src -e ip.dst \
            -e _ws.col.Protocol -e _ws.col.Info -e _ws.expert.message 2>&1 |
            grep -v 'Running as user' | head -5)
        if [ "$n" -gt 0 ] && [ -z "$bad" ]; then
            echo "ok - tshark: $(basename "$f") has $n frames, none malformed or with a bad checksum"
        else
            [ -n "$bad" ] && printf '%s\n' "$bad" | sed 's/^/#   /' # before the verdict: run.sh shows what precedes it
            [ -n "$bad" ] && [ -n "${PCAP_KEEP_DIR:-}" ] && cp "$f" "$PCAP_KEEP_DIR/"
            echo "not ok - tshark: $(basename "$f") has $n frames, none malformed or with a bad checksum"
        fi
    done
}
