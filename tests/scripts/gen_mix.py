#!/usr/bin/python3
# tests/scripts/gen_mix.py OUTDIR - writes the pcaps that tcpdump_compare.sh
# feeds to both `tcpdump -n -r` and `tern dump`:
#   OUTDIR/mix_eth.pcap   LINKTYPE_ETHERNET (1): everything below, in Ethernet
#   OUTDIR/mix_raw.pcap   LINKTYPE_RAW (101): the IPv4 part, without Ethernet
#   OUTDIR/mix_ns.pcap    LINKTYPE_ETHERNET, nanosecond magic (a1b23c4d)
#   OUTDIR/mix_rand.pcap  LINKTYPE_ETHERNET: seeded random mutations of the mix
#   OUTDIR/mix_rand_raw.pcap  the same (IPv4 version only) as LINKTYPE_RAW
# gen_mix.py OUTDIR [N] sets the number of random frames (default 6000).
# Frames are built with scapy (independent of tern's codecs); the pcap files
# are written by hand here so caplen < wirelen (snaplen-cut frames) is exact.
#
# Ports: tcpdump dissects many well-known ports as application protocols
# (53 DNS, 67/68 BOOTP, 69 TFTP, 80 HTTP, 123 NTP, 161 SNMP, 500 ISAKMP,
# 4789 VXLAN, 5353 mDNS, ...). tern's printer does not (yet), so the mix
# uses only ports tcpdump prints generically (e.g. 40000-60000, 7777).
# Not IPv6, VLAN or other ethertypes either: the printer renders IPv4 + ARP
# (others as tcpdump's hex dump); not ATM ARP (hrd 19), not UDP 7000-7009 (RX).
import random
import struct
import sys

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Ether, IPOption_NOP,
                       IPOption_RR, IPOption_Router_Alert, IPOption_EOL,
                       Raw, fragment)

A, B, C = "10.0.0.1", "10.0.0.2", "192.168.7.9"
MA, MB = "02:00:00:00:00:01", "02:00:00:00:00:02"


def pl(n, seed=0):
    return bytes((i * 7 + seed) & 0xFF for i in range(n))


def tcp_conv(src, dst, sport, dport, isn_c, isn_s, extra_opts=True):
    """A whole TCP conversation: handshake, data both ways, SACK, FIN."""
    out = []
    o_syn = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000, 0)),
             ("NOP", None), ("WScale", 7)] if extra_opts else [("MSS", 536)]
    c, s = isn_c, isn_s
    M = 0xFFFFFFFF
    out.append(IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags="S", seq=c, window=64240, options=o_syn))
    out.append(IP(src=dst, dst=src) / TCP(sport=dport, dport=sport, flags="SA", seq=s, ack=(c + 1) & M, window=65160, options=o_syn))
    c = (c + 1) & M
    s = (s + 1) & M
    ts = [("NOP", None), ("NOP", None), ("Timestamp", (1001, 2001))] if extra_opts else []
    out.append(IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags="A", seq=c, ack=s, window=502, options=ts))
    out.append(IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags="PA", seq=c, ack=s, window=502, options=ts) / Raw(pl(100)))
    out.append(IP(src=dst, dst=src) / TCP(sport=dport, dport=sport, flags="A", seq=s, ack=(c + 100) & M, window=509, options=ts))
    out.append(IP(src=dst, dst=src) / TCP(sport=dport, dport=sport, flags="PA", seq=s, ack=(c + 100) & M, window=509, options=ts) / Raw(pl(300, 3)))
    c = (c + 100) & M
    # out-of-order data and a SACK for it
    out.append(IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags="A", seq=(c + 100) & M, ack=(s + 300) & M, window=502) / Raw(pl(100, 5)))
    sack = [("NOP", None), ("NOP", None), ("SAck", ((c + 100) & M, (c + 200) & M))]
    out.append(IP(src=dst, dst=src) / TCP(sport=dport, dport=sport, flags="A", seq=(s + 300) & M, ack=c, window=509, options=sack))
    sack2 = [("NOP", None), ("NOP", None), ("SAck", ((c + 100) & M, (c + 200) & M, (c + 300) & M, (c + 400) & M))]
    out.append(IP(src=dst, dst=src) / TCP(sport=dport, dport=sport, flags="A", seq=(s + 300) & M, ack=c, window=509, options=sack2))
    out.append(IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags="A", seq=c, ack=(s + 300) & M, window=502) / Raw(pl(100, 9)))
    c = (c + 200) & M
    s = (s + 300) & M
    out.append(IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags="FA", seq=c, ack=s, window=502))
    out.append(IP(src=dst, dst=src) / TCP(sport=dport, dport=sport, flags="FA", seq=s, ack=(c + 1) & M, window=509))
    out.append(IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags="A", seq=(c + 1) & M, ack=(s + 1) & M, window=502))
    return out


def ip_part():
    """IPv4 packets (scapy objects or raw IPv4 bytes)."""
    p = []
    # ICMP echo
    p.append(IP(src=A, dst=B, id=1) / ICMP(type=8, id=1, seq=1) / Raw(pl(56)))
    p.append(IP(src=B, dst=A, id=2) / ICMP(type=0, id=1, seq=1) / Raw(pl(56)))
    p.append(IP(src=A, dst=B) / ICMP(type=8, id=0x1234, seq=65535) / Raw(b""))
    # unreachables quoting UDP / TCP / ICMP
    qu = IP(src=A, dst=B, ttl=1) / UDP(sport=40000, dport=40001) / Raw(pl(20))
    qt = IP(src=A, dst=B, ttl=1) / TCP(sport=40002, dport=7777, flags="S", seq=42)
    qi = IP(src=A, dst=B, ttl=1) / ICMP(type=8, id=7, seq=9) / Raw(pl(8))
    for code in range(0, 16):
        p.append(IP(src=B, dst=A) / ICMP(type=3, code=code) / bytes(qu)[:28])
    p.append(IP(src=B, dst=A) / ICMP(type=3, code=3) / bytes(qt)[:28])
    p.append(IP(src=B, dst=A) / ICMP(type=3, code=3) / bytes(qi)[:28])
    p.append(IP(src=B, dst=A) / ICMP(type=3, code=2) / bytes(IP(src=A, dst=B, proto=99) / Raw(pl(8)))[:28])
    p.append(IP(src=C, dst=A) / ICMP(type=3, code=4, nexthopmtu=1280) / bytes(qt)[:28])
    p.append(IP(src=C, dst=A) / ICMP(type=3, code=4, nexthopmtu=0) / bytes(qt)[:28])
    # time exceeded (TTL, reassembly) quoting UDP and TCP
    p.append(IP(src=C, dst=A) / ICMP(type=11, code=0) / bytes(qu)[:28])
    p.append(IP(src=C, dst=A) / ICMP(type=11, code=0) / bytes(qt))
    p.append(IP(src=C, dst=A) / ICMP(type=11, code=1) / bytes(qu)[:28])
    p.append(IP(src=C, dst=A) / ICMP(type=11, code=5) / bytes(qu)[:28])
    # other ICMP types
    p.append(IP(src=C, dst=A) / ICMP(type=4, code=0) / bytes(qu)[:28])
    p.append(IP(src=C, dst=A) / ICMP(type=5, code=1, gw="10.0.0.254") / bytes(qu)[:28])
    p.append(IP(src=C, dst=A) / ICMP(type=12, code=0, ptr=20) / bytes(qu)[:28])
    p.append(IP(src=A, dst=B) / ICMP(type=13, id=5, seq=6))
    p.append(IP(src=A, dst=B) / ICMP(type=17, id=5, seq=6) / Raw(b"\0\0\0\0"))
    p.append(IP(src=A, dst=B) / ICMP(type=42, code=3) / Raw(pl(4)))
    p.append(IP(src=B, dst=A) / ICMP(type=14, id=5, seq=6, ts_ori=1000, ts_rx=3723004, ts_tx=86399999))
    p.append(IP(src=B, dst=A) / ICMP(type=18, id=5, seq=6, addr_mask="255.255.255.0"))
    for t in (10, 15, 16, 1, 2, 7, 19, 30, 37, 40, 255):
        p.append(IP(src=B, dst=A) / ICMP(type=t, code=0) / Raw(pl(8)))
    p.append(IP(src=C, dst=A) / ICMP(type=5, code=3, gw="10.0.0.254") / bytes(qu)[:28])
    p.append(IP(src=C, dst=A) / ICMP(type=5, code=9, gw="10.0.0.254") / bytes(qu)[:28])
    p.append(IP(src=C, dst=A) / ICMP(type=12, code=1) / bytes(qu)[:28])
    # UDP on generic ports
    p.append(IP(src=A, dst=B) / UDP(sport=40000, dport=40001) / Raw(pl(10)))
    p.append(IP(src=B, dst=A) / UDP(sport=40001, dport=40000) / Raw(b""))
    p.append(IP(src=A, dst=C, tos=0xb8, ttl=3) / UDP(sport=51234, dport=7777) / Raw(pl(1000)))
    p.append(IP(src=A, dst=B) / UDP(sport=40000, dport=40001, len=4) / Raw(pl(10)))    # udp len < 8
    p.append(IP(src=A, dst=B) / UDP(sport=40000, dport=40001, len=200) / Raw(pl(10)))  # udp len > ip
    p.append(IP(src=A, dst=B) / UDP(sport=40000, dport=40001, len=12) / Raw(pl(10)))   # udp len < ip
    # IPv4 options
    p.append(IP(src=A, dst=B, options=[IPOption_RR(routers=["1.2.3.4"])]) / UDP(sport=40000, dport=40001) / Raw(pl(4)))
    p.append(IP(src=A, dst=B, options=[IPOption_Router_Alert()]) / ICMP(type=8, id=2, seq=3))
    p.append(IP(src=A, dst=B, options=[IPOption_NOP(), IPOption_NOP(), IPOption_NOP(), IPOption_EOL()]) / TCP(sport=40005, dport=7777, flags="S", seq=5))
    # unknown protocols
    p.append(IP(src=A, dst=B, proto=99) / Raw(pl(12)))
    p.append(IP(src=A, dst=B, proto=253) / Raw(pl(4)))
    p.append(IP(src=A, dst=B, proto=0) / Raw(pl(4)))
    # fragments: UDP and ICMP split in three, DF, MF-only, reserved bit
    big = IP(src=A, dst=B, id=0x4321) / UDP(sport=40000, dport=40001) / Raw(pl(3000))
    p += fragment(big, fragsize=1480)
    bigi = IP(src=A, dst=B, id=0x777) / ICMP(type=8, id=3, seq=4) / Raw(pl(2000))
    p += fragment(bigi, fragsize=800)
    bigt = IP(src=A, dst=B, id=99) / TCP(sport=40010, dport=7777, flags="PA", seq=1, ack=1) / Raw(pl(100))
    p += fragment(bigt, fragsize=64)
    p.append(IP(src=A, dst=B, flags="DF") / UDP(sport=40000, dport=40001) / Raw(pl(16)))
    p.append(IP(src=A, dst=B, flags="evil") / UDP(sport=40000, dport=40001) / Raw(pl(16)))
    p.append(IP(src=A, dst=B, flags="MF", frag=0, id=5) / UDP(sport=40000, dport=40001) / Raw(pl(16)))
    p.append(IP(src=A, dst=B, flags="DF", frag=10, id=5) / Raw(pl(16)))
    # TCP conversations
    p += tcp_conv(A, B, 40100, 7777, 1000, 5000000)
    p += tcp_conv(C, A, 55555, 8888, 0xFFFFFF00, 0xFFFFFFF0)          # wrap
    p += tcp_conv(B, C, 40200, 47000, 123456789, 987654321, extra_opts=False)
    # flags: RST, URG, ECE/CWR, no flags, all flags, RST+ACK, SYN ECN
    p.append(IP(src=A, dst=B) / TCP(sport=40300, dport=7777, flags="R", seq=77))
    p.append(IP(src=B, dst=A) / TCP(sport=7777, dport=40301, flags="RA", seq=0, ack=78))
    p.append(IP(src=A, dst=B) / TCP(sport=40302, dport=7777, flags="SEC", seq=100))
    p.append(IP(src=B, dst=A) / TCP(sport=7777, dport=40302, flags="SAE", seq=200, ack=101))
    p.append(IP(src=A, dst=B) / TCP(sport=40302, dport=7777, flags="PAUC", seq=101, ack=201, urgptr=3) / Raw(pl(10)))
    p.append(IP(src=A, dst=B) / TCP(sport=40303, dport=7777, flags="", seq=1))
    p.append(IP(src=A, dst=B) / TCP(sport=40304, dport=7777, flags="FSRPAUECN", seq=1, ack=2, urgptr=9))
    p.append(IP(src=A, dst=B) / TCP(sport=40305, dport=7777, flags="U", seq=1, urgptr=0))
    # more TCP options
    p.append(IP(src=A, dst=B) / TCP(sport=40306, dport=7777, flags="S", seq=1, options=[("MSS", 1), ("WScale", 14), ("SAckOK", b""), ("EOL", None)]))
    p.append(IP(src=A, dst=B) / TCP(sport=40306, dport=7777, flags="S", seq=1, options=[(34, b"\x01\x02\x03\x04"), (28, b"\x00\x03"), (19, bytes(16))]))
    p.append(IP(src=A, dst=B) / TCP(sport=40306, dport=7777, flags="S", seq=1, options=[(254, b"\xf9\x89abcd"), (253, b"\x00\x00"), (99, b"")]))
    # malformed TCP options (raw bytes)
    bad_opts = [
        b"\x02\x04\x05",                       # mss running past header -> padded below
        b"\x02\x00\x05\xb4",                   # length 0
        b"\x02\x01\x05\xb4",                   # length 1
        b"\x02\x03\x05\xb4",                   # mss len 3
        b"\x03\x04\x07\x00",                   # wscale len 4
        b"\x05\x06\x00\x00\x00\x01",           # sack len 6
        b"\x08\x06\x00\x00\x00\x01",           # ts len 6
        b"\x04\x03\x00\x00",                   # sackOK len 3
        b"\x02\x08\x05\xb4\x00\x00\x00\x00",   # mss len 8
        b"\x01\x01\x01\x02",                   # nops then kind 2 no len
        b"\x13\x12" + bytes(16),               # md5
        b"\x22\x02\x22\x03\x00",               # tfo cookiereq, tfo invalid
        b"\xfe\x04\x12\x34",                   # exp with another magic
        b"\x06\x06\x00\x00\x00\x01",           # echo
        b"\x1c\x04\x00\x05",                   # uto in minutes
        b"\x0f\x04\x00\x00",                   # unknown 15
        b"\x00\x01\x02\x04",                   # EOL then junk
    ]
    for bo in bad_opts:
        bo = bo + b"\x00" * ((-len(bo)) % 4)
        t = TCP(sport=40400, dport=7777, flags="S", seq=1, dataofs=5 + len(bo) // 4)
        p.append(IP(src=A, dst=B, proto=6) / Raw(bytes(t)[:20] + bo))
    # a TCP data offset past the segment, data offset < 5
    t = bytes(TCP(sport=40401, dport=7777, flags="A", seq=1, ack=1))
    p.append(IP(src=A, dst=B, proto=6) / Raw(t[:12] + b"\xf0" + t[13:]))
    p.append(IP(src=A, dst=B, proto=6) / Raw(t[:12] + b"\x30" + t[13:]))
    p.append(IP(src=A, dst=B, proto=6) / Raw(t[:12] + b"\x80" + t[13:] + bytes(12)))
    # truncated headers inside a consistent IP total length
    p.append(IP(src=A, dst=B, proto=6) / Raw(t[:10]))
    p.append(IP(src=A, dst=B, proto=17) / Raw(b"\x9c\x40\x9c"))
    p.append(IP(src=A, dst=B, proto=1) / Raw(b"\x08\x00\x00"))
    p.append(IP(src=A, dst=B, proto=1) / Raw(b"\x08\x00\x00\x00\x00\x01"))
    p.append(IP(src=A, dst=B, proto=1) / Raw(b"\x03\x03\x00\x00\x00\x00\x00\x00\x45"))
    return p


def bad_ip_raw():
    """Broken IPv4 headers, as bytes (valid-looking otherwise)."""
    good = bytes(IP(src=A, dst=B, id=9) / UDP(sport=40000, dport=40001) / Raw(pl(12)))
    r = []
    r.append(good[:15])                          # shorter than an IP header
    r.append(b"\x44" + good[1:])                 # IHL 4
    r.append(b"\x40" + good[1:])                 # IHL 0
    r.append(b"\x65" + good[1:])                 # version 6 in an IPv4 frame
    r.append(b"\x4f" + good[1:])                 # IHL 15 > frame
    r.append(good[:2] + b"\x00\x10" + good[4:])  # total length < header
    r.append(good[:2] + b"\x01\x00" + good[4:])  # total length > frame
    r.append(good[:2] + b"\x00\x00" + good[4:])  # total length 0 (TSO)
    r.append(good[:2] + b"\x00\x1e" + good[4:])  # total length cuts UDP
    r.append(good[:-4])                          # truncated payload
    return r


def eth_only():
    f = []
    bc = "ff:ff:ff:ff:ff:ff"
    f.append(Ether(src=MA, dst=bc) / ARP(op=1, hwsrc=MA, psrc=A, pdst=B))
    f.append(Ether(src=MB, dst=MA) / ARP(op=2, hwsrc=MB, psrc=B, hwdst=MA, pdst=A))
    f.append(Ether(src=MA, dst=bc) / ARP(op=1, hwsrc=MA, psrc=A, pdst=A))          # gratuitous
    f.append(Ether(src=MA, dst=bc) / ARP(op=3, hwsrc=MA, psrc=A, pdst=B))          # RARP req
    f.append(Ether(src=MA, dst=bc) / ARP(op=4, hwsrc=MA, psrc=A, pdst=B))
    f.append(Ether(src=MA, dst=bc) / ARP(op=9, hwsrc=MA, psrc=A, pdst=B))
    f.append(Ether(src=MA, dst=bc) / ARP(op=1, hwtype=6, hwsrc=MA, psrc=A, pdst=B))
    f.append(Ether(src=MA, dst=bc) / ARP(op=1, ptype=0x86dd, plen=4, hwsrc=MA, psrc=A, pdst=B))
    f.append(bytes(Ether(src=MA, dst=bc) / ARP(op=1, hwsrc=MA, psrc=A, pdst=B))[:14 + 20])  # short ARP
    f.append(bytes(Ether(src=MA, dst=bc) / ARP(op=1, hwsrc=MA, psrc=A, pdst=B))[:14 + 7])
    f.append(bytes(Ether(src=MA, dst=bc, type=0x806)))
    f.append(Ether(src=MA, dst=bc) / ARP(op=5, hwsrc=MA, psrc=A, pdst=B))
    f.append(Ether(src=MA, dst=bc) / ARP(op=1, hwsrc=MA, psrc=A, hwdst=MB, pdst=B))
    f.append(Ether(src=MA, dst=MB, type=0x88b5) / Raw(pl(37)))
    f.append(Ether(src=MA, dst=MB, type=0x9999) / Raw(pl(4)))
    f.append(Ether(src=MA, dst=MB, type=0x0800))
    f.append(bytes(Ether(src=MA, dst=MB, type=0x0800)) + b"\x45")
    f.append(bytes(Ether(src=MA, dst=bc))[:10])                                   # short Ethernet
    return f


def write_pcap(path, linktype, frames, nsec=False, snaplen=262144):
    magic = 0xA1B23C4D if nsec else 0xA1B2C3D4
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))
        t = 1700000000 * 1000000 + 123456
        for data, wirelen in frames:
            t += 1013 + (len(data) * 17) % 977
            sec, usec = divmod(t, 1000000)
            frac = usec * 1000 + (t % 7) if nsec else usec
            fh.write(struct.pack("<IIII", sec, frac, len(data), wirelen))
            fh.write(data)


def as_frames(pkts, eth):
    out = []
    for x in pkts:
        b = bytes(x)
        if eth:
            b = bytes(Ether(src=MA, dst=MB, type=0x800)) + b
        out.append((b, len(b)))
    return out


def main():
    outdir = sys.argv[1]
    ipp = ip_part()
    bad = bad_ip_raw()
    eth = as_frames(ipp, True) + as_frames(bad, True)
    eth += [(bytes(f), len(bytes(f))) for f in eth_only()]
    # Ethernet padding after short IP datagrams (tcpdump trims to IP length)
    pad = bytes(Ether(src=MA, dst=MB) / IP(src=A, dst=B) / TCP(sport=40500, dport=7777, flags="A", seq=1, ack=1))
    eth.append((pad + bytes(6), 60))
    # snaplen-cut frames: caplen < wirelen
    cut = []
    for x in ipp[::7]:
        b = bytes(Ether(src=MA, dst=MB, type=0x800)) + bytes(x)
        for n in (14 + 20 + 4, 14 + 20 + 13, 14 + 24, 14 + 10, 14 + 20 + 30):
            if n < len(b):
                cut.append((b[:n], len(b)))
    eth += cut
    # (not the version-6 header: on a raw link tcpdump hands it to its IPv6 printer)
    raw = as_frames(ipp, False) + as_frames([x for i, x in enumerate(bad) if i != 3], False)
    raw += [(b[14:], w - 14) for b, w in cut]
    # raw-link oddities: empty record, unknown version, 1-byte header, a
    # header without payload
    raw += [(b"", 5), (b"\x50" + bytes(25), 26), (b"\x45", 20), (bytes(3), 3),
            (b"\x45\x00\x00\x14" + bytes(16), 20)]
    eth += [(b"", 60)]
    write_pcap(outdir + "/mix_eth.pcap", 1, eth)
    write_pcap(outdir + "/mix_raw.pcap", 101, raw)
    write_pcap(outdir + "/mix_ns.pcap", 1, eth[:60], nsec=True)
    # seeded random mutations of the IPv4 and ARP frames: a few header bytes
    # changed (never the IP protocol field, except to another of TCP, UDP,
    # ICMP), sometimes cut short with caplen < wirelen
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1234)
    arp = [(bytes(f), len(bytes(f))) for f in eth_only()[:8]]
    pool = eth[:len(ipp)] + arp
    rnd, rraw = [], []
    for i in range(int(sys.argv[2]) if len(sys.argv) > 2 else 6000):
        b, w = pool[rng.randrange(len(pool))]
        b = bytearray(b)
        for _ in range(rng.randrange(1, 5)):
            pos = rng.randrange(14, min(len(b), 14 + 80))
            if pos != 14 + 9 or b[12:14] != b"\x08\x00":
                b[pos] = rng.randrange(256)
            elif rng.random() < 0.5:
                b[pos] = rng.choice((1, 6, 17))
        if b[12:14] == b"\x08\x06" and b[14:16] == b"\x00\x13":
            b[15] = 1  # ATM ARP (hrd 19): tcpdump uses another layout, tern does not
        w = max(w, len(b))
        if rng.random() < 0.3:
            b = b[:rng.randrange(14, len(b) + 1)]
        rnd.append((bytes(b), w))
        if b[12:14] == b"\x08\x00" and len(b) > 14 and b[14] >> 4 == 4:
            rraw.append((bytes(b[14:]), w - 14))
    write_pcap(outdir + "/mix_rand.pcap", 1, rnd)
    write_pcap(outdir + "/mix_rand_raw.pcap", 101, rraw)


if __name__ == "__main__":
    main()
