#!/usr/bin/python3
"""tcp_stream_check.py PCAP SRC_ADDR: every byte of TCP data that SRC_ADDR
sent in the capture (one connection) has the same value each time its
sequence number was sent: retransmissions and repacketizations never change
the stream. Prints one summary line; exit 1 on a conflict, 2 with no data."""
import sys

from scapy.all import IP, TCP, PcapReader  # Debian python3-scapy


def main(path, src):
    base = None
    stream = {}  # stream offset -> byte value
    segs = resent = conflicts = 0
    for p in PcapReader(path):
        if IP not in p or TCP not in p or p[IP].src != src:
            continue
        payload = bytes(p[TCP].payload)
        if not payload:
            continue
        if base is None:
            base = p[TCP].seq
        off = (p[TCP].seq - base) & 0xFFFFFFFF
        segs += 1
        if off in stream:
            resent += 1
        for i, b in enumerate(payload):
            if stream.setdefault(off + i, b) != b:
                conflicts += 1
    print(f"{segs} data segments from {src} ({resent} sent again), "
          f"{len(stream)} stream bytes, {conflicts} conflicting")
    if not segs:
        return 2
    return 1 if conflicts else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
