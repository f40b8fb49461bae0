#!/usr/bin/python3
# tests/scripts/gen_apps.py OUTDIR [N] [SEED] - writes the captures that
# tcpdump_compare.sh feeds to both `tcpdump -n -r` and `tern dump` for the
# application dissectors and IPv6:
#   OUTDIR/apps.pcap       DNS (UDP, TCP, mDNS), BOOTP/DHCP, NTP, HTTP,
#                          IPv6 (UDP, TCP, ICMPv6 echo and ND, no next header)
#   OUTDIR/apps.pcapng     the same frames as pcapng (SHB, IDB, EPBs)
#   OUTDIR/apps_raw.pcap   the same without Ethernet (LINKTYPE_RAW)
#   OUTDIR/apps_rand.pcap  N (default 4000) seeded random mutations of them
#                          (bytes changed in the application payload, some
#                          frames cut short with caplen < wirelen)
# Frames are built with scapy, independent of tern's codecs; nothing here
# is tcpdump output. The captures are written by hand (write_pcap, and
# write_pcapng after the pcapng draft's block layout) so caplen < wirelen is
# exact.
import random
import struct
import sys

from scapy.contrib.igmp import IGMP
from scapy.contrib.igmpv3 import IGMPv3, IGMPv3gr, IGMPv3mq, IGMPv3mr
from scapy.all import (BOOTP, DHCP, DNS, DNSQR, DNSRR, DNSRROPT, EDNS0TLV, IP, IPv6, NTP,
                       TCP, UDP, Ether, ICMPv6EchoReply, ICMPv6EchoRequest,
                       ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6ND_RA, ICMPv6ND_RS, Raw,
                       ICMPv6DestUnreach, ICMPv6TimeExceeded, ICMPv6ParamProblem, ICMPv6PacketTooBig,
                       ICMPv6MLReport, ICMPv6MLDone, ICMPv6MLQuery, ICMPv6MLQuery2, ICMPv6MLReport2,
                       ICMPv6MLDMultAddrRec, ICMPv6ND_Redirect, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrFragment, IPv6ExtHdrRouting, RouterAlert, PadN)

A, B = "10.0.0.1", "10.0.0.2"
MA, MB = "02:00:00:00:00:01", "02:00:00:00:00:02"
E = Ether(src=MA, dst=MB)


def udp(sport, dport, payload, src=A, dst=B):
    return E / IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(bytes(payload))


def tcp(sport, dport, payload, seq=1000, ack=2000, flags="PA"):
    p = E / IP(src=A, dst=B) / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=502)
    return p / Raw(bytes(payload)) if payload else p


def dns_msgs():
    q = DNSQR(qname="www.example.com", qtype="A")
    m = []
    m.append(DNS(id=0x1234, rd=1, qd=q))
    m.append(DNS(id=0x1234, rd=1, qd=DNSQR(qname="example.com", qtype="AAAA"), ar=DNSRROPT(rclass=1232)))
    m.append(DNS(id=7, rd=1, cd=1, qd=DNSQR(qname="4.3.2.1.in-addr.arpa", qtype="PTR")))
    m.append(DNS(id=8, opcode=4, qd=DNSQR(qname="z.test", qtype="SOA", qclass=255)))
    m.append(DNS(id=9, qd=DNSQR(qname=".", qtype="NS", qclass=3)))
    an = (DNSRR(rrname="www.example.com", type="CNAME", rdata="web.example.com") /
          DNSRR(rrname="web.example.com", type="A", rdata="192.0.2.10") /
          DNSRR(rrname="web.example.com", type="AAAA", rdata="2001:db8::10") /
          DNSRR(rrname="web.example.com", type="AAAA", rdata="::ffff:192.0.2.1") /
          DNSRR(rrname="example.com", type="MX", rdata=b"\x00\x0a\xc0\x10") /
          DNSRR(rrname="example.com", type="TXT", rdata=[b"v=spf1 -all", b"\x01\x7f\x80\xff \""]) /
          DNSRR(rrname="example.com", type="NS", rdata="ns1.example.com") /
          DNSRR(rrname="_x._tcp.example.com", type="SRV", rdata=b"\x00\x01\x00\x02\x00\x50\x01a\x00") /
          DNSRR(rrname="example.com", type="SOA", rdata=b"\x02ns\x00\x02hm\x00" + bytes(20)) /
          DNSRR(rrname="example.com", type="HINFO", rdata=b"\x01a\x01b") /
          DNSRR(rrname="example.com", type="A", rclass=3, rdata="1.2.3.4"))
    m.append(DNS(id=0x1234, qr=1, aa=1, rd=1, ra=1, qd=q, an=an))
    m.append(DNS(id=11, qr=1, rd=1, rcode=3, qd=DNSQR(qname="nope.test"),
                 ns=DNSRR(rrname="test", type="SOA", rdata=b"\x00\x00" + bytes(20))))
    m.append(DNS(id=12, qr=1, tc=1, ad=1, qd=q, an=DNSRR(rrname="www.example.com", rdata="1.1.1.1")))
    m.append(DNS(id=13, qr=1, rcode=2, qd=q, ar=DNSRROPT(rclass=512, extrcode=1)))
    m.append(DNS(id=14, qr=1, opcode=5, rcode=5, qd=None, qdcount=0))
    m.append(DNS(id=15, qr=1, qd=q, an=DNSRROPT(rclass=4096, z=0x8000)))
    m.append(DNS(id=16, qr=1, qd=[q, DNSQR(qname="b.test")]))
    # EDNS options (RFC 6891 s6.1.2) in an answer-section OPT, where tcpdump
    # shows them: valid and invalid lengths of each decoded option
    for code, data in ((10, b"12345678"), (10, b"1234567890abcdef"), (10, b"12345"),
                       (8, b"\x00\x01\x18\x00\x01\x02\x03"), (8, b"\x00\x02\x40\x00" + bytes(8)),
                       (8, b"\x00\x03\x00\x00"), (8, b"\x00\x01"), (11, b"\x00\x64"), (11, b"\x01"),
                       (9, b"\x00\x00\x00\x10"), (9, b"\x01"), (12, b"\0\0\0"), (14, b"\x00\x01\x00\x02"),
                       (14, b"\x01"), (5, bytes(range(0, 20))), (6, b"\x01\x02\x05"), (7, b"\x01\x02"),
                       (3, b"ab"), (65001, b"xy"), (13, b"\x01a\x00"), (13, b"\xc0\x00"), (1, b"")):
        m.append(DNS(id=17, qr=1, qd=q, an=DNSRROPT(rclass=512, rdata=[EDNS0TLV(optcode=code, optdata=data)])))
    for typ, rd in ((256, b"\x00\x01\x00\x02http://x"), (256, b"\x00\x01"),
                    (38, b"\x40" + bytes(range(1, 9)) + b"\x01x\x00"), (38, b"\x81"),
                    (38, b"\x00" + bytes(range(16))), (38, b"\x80\x01x\x00"), (250, b"\x01x\x00")):
        m.append(DNS(id=18, qr=1, qd=q, an=DNSRR(rrname="a.b", type=typ, rdata=rd)))
    # hand-made: pointer loop, forward pointer, bit label, reserved label,
    # name over 255 octets, short header, cut question
    h = b"\x00\x01\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x01a\x00\x00\x01\x00\x01"
    m.append(h + b"\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x01\x00\x02\xc0\x1f")
    m.append(h + b"\xc0\x30\x00\x01\x00\x01\x00\x00\x00\x01\x00\x04\x01\x02\x03\x04")
    m.append(b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x41\x0c\xab\xc0\x00\x00\x01\x00\x01")
    m.append(b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x41\x00" + bytes(32) + b"\x00\x00\x01\x00\x01")
    m.append(b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x81\x08\xab\x00\x00\x01\x00\x01")
    m.append(b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + (b"\x3f" + b"a" * 63) * 5 + b"\x00\x00\x01\x00\x01")
    m.append(b"\x00\x01\x01\x00\x00")
    m.append(b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03ab")
    m.append(b"\x00\x01\x01\x4f\x00\x02\x00\x03\x00\x04\x00\x05\x01a\x00\x00\x01\x00\x01")
    m.append(b"\x00\x02\x80\x00\x00\x00\x00\x02\x00\x00\x00\x00" + b"\x00\x00\x01\x00\x01\x00\x00\x00\x00\x00\x04\x01\x02\x03")
    return [bytes(x) for x in m]


def app_frames():
    f = []
    for i, d in enumerate(dns_msgs()):
        f.append(udp(33000 + i, 53, d))
        f.append(udp(53, 33000 + i, d))
        f.append(tcp(40000 + i, 53, struct.pack(">H", len(d)) + d))
    f.append(tcp(40100, 53, b"\x00"))
    f.append(tcp(40100, 53, b"\x00\x05abc"))
    f.append(tcp(40100, 53, b""))
    # mDNS (RFC 6762): QU question, cache-flush answer
    f.append(udp(5353, 5353, DNS(id=0, qd=DNSQR(qname="host.local", qclass=0x8001)), "10.0.0.1", "224.0.0.251"))
    f.append(udp(5353, 5353, DNS(id=0, qr=1, aa=1, an=DNSRR(rrname="host.local", rclass=0x8001, rdata="10.0.0.1"))))
    # BOOTP/DHCP
    mac = b"\x02\x00\x00\x00\x00\x01"
    f.append(udp(68, 67, BOOTP(chaddr=mac, xid=0x1234) / DHCP(options=[("message-type", "discover"), "end"]), "0.0.0.0", "255.255.255.255"))
    f.append(udp(67, 68, BOOTP(op=2, yiaddr="10.0.0.5", chaddr=mac, xid=0x1234) / DHCP(options=[("message-type", "offer"), "end"])))
    f.append(udp(68, 67, BOOTP(op=3, chaddr=mac)))
    f.append(udp(68, 67, BOOTP(htype=6, chaddr=mac)))
    f.append(udp(68, 67, bytes(BOOTP(chaddr=mac))[:30]))
    f.append(udp(68, 67, b"\x01"))
    f.append(udp(68, 67, b""))
    # NTP (RFC 5905): every mode, versions 3 and 4, empty
    for v in (3, 4):
        for mode in range(8):
            f.append(udp(123, 123, NTP(version=v, mode=mode)))
    f.append(udp(123, 123, b""))
    # HTTP request and status lines (and what is not one)
    http = [b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            b"POST /form HTTP/1.0\nX: y\n\n", b"get / HTTP/1.0\r\n", b"HTTP/1.1 404 Not Found\n",
            b"HTTP/1.1 200 OK", b"GET / HTTP/1.1\r", b"GET /\xff HTTP/1.1\r\n", b"  GET / HTTP/1.1\r\n",
            b"FOO / HTTP/1.0\r\n", b"HTTP/1.0\r\n", b"x", b"PROPFIND /a\tb HTTP/1.1\r\n",
            b"GET " + b"a" * 300 + b" HTTP/1.1\r\n", b"X" * 200 + b" 200 OK\r\n", b"\x00\x01\x02"]
    for i, h in enumerate(http):
        f.append(tcp(41000 + i, 80, h))
        f.append(tcp(8080, 41000 + i, h))
    f.append(tcp(41100, 80, b"", flags="S"))
    # IPv6 (RFC 8200)
    S, D = "2001:db8::1", "2001:db8::2"
    f.append(E / IPv6(src=S, dst=D) / UDP(sport=1000, dport=2000) / Raw(b"abc"))
    f.append(E / IPv6(src=S, dst=D) / UDP(sport=1000, dport=53) / DNS(id=3, rd=1, qd=DNSQR(qname="v6.test", qtype="AAAA")))
    f.append(E / IPv6(src="fe80::1", dst="ff02::1:ff00:2") / ICMPv6ND_NS(tgt="fe80::2"))
    f.append(E / IPv6(src="fe80::2", dst="fe80::1") / ICMPv6ND_NA(tgt="fe80::2"))
    f.append(E / IPv6(src="fe80::1", dst="ff02::2") / ICMPv6ND_RS())
    f.append(E / IPv6(src="fe80::2", dst="ff02::1") / ICMPv6ND_RA())
    f.append(E / IPv6(src=S, dst=D) / ICMPv6EchoRequest(id=1, seq=2) / Raw(b"x" * 56))
    f.append(E / IPv6(src=D, dst=S) / ICMPv6EchoReply(id=1, seq=2) / Raw(b"x" * 56))
    f.append(E / IPv6(src="::ffff:10.0.0.1", dst="::") / UDP(sport=1, dport=2))
    f.append(E / IPv6(src="1:0:0:1:0:0:0:1", dst="1::") / UDP(sport=1, dport=2))
    f.append(E / IPv6(src="0:1:0:0:0:1:0:0", dst="1:2:3:4:5:6:7:8") / UDP(sport=1, dport=2))
    for a in ("::1", "::", "::ffff:0:0", "::1:0:0", "::2:3:4", "::ffff:0:1.2.3.4", "1:2:3:4:5:6:7::",
              "1:0:0:1:1:0:0:1", "::0.0.0.2", "::1.2.3.4", "::fffe:1.2.3.4", "0:0:0:0:1:ffff:1.2.3.4"):
        f.append(E / IPv6(src=a, dst="fe80::200:5eff:fe00:101") / UDP(sport=1, dport=2))
    f.append(E / IPv6(src=S, dst=D, nh=59))
    f.append(E / IPv6(src=S, dst=D, nh=99) / Raw(b"abcd"))
    f.append(E / IPv6(src=S, dst=D, plen=100) / UDP(sport=1, dport=2))
    f.append(E / IPv6(src=S, dst=D, version=4) / UDP(sport=1, dport=2))
    conv = [(S, D, 40000, 80, 100, 200), (D, S, 80, 40000, 200, 101)]
    f.append(E / IPv6(src=S, dst=D) / TCP(sport=40000, dport=80, flags="S", seq=100))
    f.append(E / IPv6(src=D, dst=S) / TCP(sport=80, dport=40000, flags="SA", seq=200, ack=101))
    f.append(E / IPv6(src=S, dst=D) / TCP(sport=40000, dport=80, flags="PA", seq=101, ack=201) / Raw(b"GET / HTTP/1.1\r\n\r\n"))
    f.append(E / IPv6(src=D, dst=S) / TCP(sport=80, dport=40000, flags="PA", seq=201, ack=119) / Raw(b"HTTP/1.1 204 No Content\r\n\r\n"))
    del conv
    # ICMPv6 errors, MLD, redirect, extension headers (RFC 4443, 2710, 3810,
    # 4861 s4.5, 8200 s4) and IGMP (RFC 2236, 3376)
    q6 = IPv6(src=D, dst=S) / UDP(sport=5000, dport=53) / Raw(b"x" * 10)
    for code in range(5):
        f.append(E / IPv6(src=S, dst=D) / ICMPv6DestUnreach(code=code) / q6)
    f.append(E / IPv6(src=S, dst=D) / ICMPv6DestUnreach(code=4) / IPv6(src=D, dst=S) / TCP(sport=80, dport=3333))
    for code in range(3):
        f.append(E / IPv6(src=S, dst=D) / ICMPv6TimeExceeded(code=code) / q6)
    for code in range(4):
        f.append(E / IPv6(src=S, dst=D) / ICMPv6ParamProblem(code=code, ptr=40 + code) / q6)
    f.append(E / IPv6(src=S, dst=D) / ICMPv6PacketTooBig(mtu=1280) / q6)
    RA6 = IPv6ExtHdrHopByHop(options=[RouterAlert()])
    f.append(E / IPv6(src="fe80::1", dst="ff02::1:3", hlim=1) / RA6 / ICMPv6MLReport(mladdr="ff02::1:3"))
    f.append(E / IPv6(src="fe80::1", dst="ff02::2", hlim=1) / RA6 / ICMPv6MLDone(mladdr="ff02::1:3"))
    f.append(E / IPv6(src="fe80::1", dst="ff02::1", hlim=1) / RA6 / ICMPv6MLQuery(mladdr="::", mrd=10000))
    f.append(E / IPv6(src="fe80::1", dst="ff02::1", hlim=1) / RA6 / ICMPv6MLQuery2(mladdr="::"))
    f.append(E / IPv6(src="fe80::1", dst="ff02::1", hlim=1) / RA6 /
             ICMPv6MLQuery2(mladdr="ff15::1", sources=["2001:db8::7", "2001:db8::8"]))
    f.append(E / IPv6(src="fe80::1", dst="ff02::16", hlim=1) / RA6 / ICMPv6MLReport2(records=[
        ICMPv6MLDMultAddrRec(rtype=4, dst="ff02::1:ff00:1"), ICMPv6MLDMultAddrRec(rtype=3, dst="ff15::abcd")]))
    f.append(E / IPv6(src="fe80::1", dst="fe80::2", hlim=255) / ICMPv6ND_Redirect(tgt="fe80::3", dst="2001:db8::9"))
    f.append(E / IPv6(src=S, dst=D) / IPv6ExtHdrHopByHop() / UDP(sport=1, dport=2) / Raw(b"hi"))
    f.append(E / IPv6(src=S, dst=D) / IPv6ExtHdrHopByHop() / IPv6ExtHdrHopByHop() / UDP())
    f.append(E / IPv6(src=S, dst=D) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0\0\0\0")]) /
             TCP(sport=1234, dport=80, flags="S", seq=1000))
    f.append(E / IPv6(src=S, dst=D) / IPv6ExtHdrDestOpt() / IPv6ExtHdrFragment(nh=58, m=1, id=5) /
             ICMPv6EchoRequest(id=9, seq=9, data=b"z" * 40))
    f.append(E / IPv6(src=S, dst=D) / IPv6ExtHdrFragment(nh=17, offset=0, m=1, id=6) /
             UDP(sport=5000, dport=6000, len=200) / Raw(b"A" * 24))
    f.append(E / IPv6(src=S, dst=D) / IPv6ExtHdrFragment(nh=17, offset=4, m=0, id=6) / Raw(b"B" * 16))
    f.append(E / IPv6(src=S, dst=D) / IPv6ExtHdrRouting(type=0, segleft=1, addresses=["2001:db8::99", "2001:db8::98"]) /
             UDP(sport=1, dport=2))
    f.append(E / IPv6(src=S, dst=D) / IPv6ExtHdrRouting(type=2, segleft=0, addresses=["2001:db8::5"]) /
             ICMPv6EchoRequest())
    f.append(E / IPv6(src=S, dst=D) / IPv6ExtHdrDestOpt(nh=59))
    E4 = Ether(src="02:00:00:00:00:01", dst="01:00:5e:01:02:03")
    for g in (IGMP(type=0x11, mrcode=0, gaddr="0.0.0.0"), IGMP(type=0x11, mrcode=100, gaddr="0.0.0.0"),
              IGMP(type=0x11, mrcode=50, gaddr="239.1.2.3"), IGMP(type=0x12, mrcode=0, gaddr="239.1.2.3"),
              IGMP(type=0x16, mrcode=0, gaddr="239.1.2.3"), IGMP(type=0x17, mrcode=0, gaddr="239.1.2.3"),
              IGMP(type=0x30, gaddr="0.0.0.0"),
              IGMPv3(type=0x11, mrcode=100) / IGMPv3mq(gaddr="0.0.0.0"),
              IGMPv3(type=0x11, mrcode=0x8c) / IGMPv3mq(gaddr="239.1.2.3", srcaddrs=["10.0.0.1", "10.0.0.2"]),
              IGMPv3(type=0x11, mrcode=25) / IGMPv3mq(gaddr="239.1.2.3"),
              IGMPv3(type=0x22) / IGMPv3mr(records=[IGMPv3gr(rtype=2, maddr="239.1.1.1"),
                                                    IGMPv3gr(rtype=1, maddr="239.9.9.9", srcaddrs=["10.0.0.7"])])):
        f.append(E4 / IP(src="10.0.0.1", dst="224.0.0.1", ttl=1) / g)
    return [bytes(x) for x in f]


def write_pcap(path, frames, linktype=1):
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        t = 1700000000 * 1000000 + 500000
        for data, wirelen in frames:
            t += 997
            sec, usec = divmod(t, 1000000)
            fh.write(struct.pack("<IIII", sec, usec, len(data), wirelen))
            fh.write(data)


def write_pcapng(path, frames):
    """Section header, one Ethernet interface (microseconds), enhanced
    packet blocks: the pcapng block layout, little-endian."""
    def block(btype, body):
        body += bytes(-len(body) % 4)
        n = len(body) + 12
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)
    with open(path, "wb") as fh:
        fh.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        fh.write(block(0x00000001, struct.pack("<HHI", 1, 0, 262144)))
        t = 1700000000 * 1000000 + 500000
        for data, wirelen in frames:
            t += 997
            fh.write(block(0x00000006, struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, len(data), wirelen) + data))


def main():
    outdir = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 4000
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 4321)
    frames = app_frames()
    whole = [(b, len(b)) for b in frames]
    # snaplen-cut copies of every frame at a few lengths
    cut = [(b[:k], len(b)) for b in frames for k in (54, 60, 70, 90) if k < len(b)]
    write_pcap(outdir + "/apps.pcap", whole + cut)
    write_pcapng(outdir + "/apps.pcapng", whole + cut)
    # LINKTYPE_RAW (101): the IP part of every frame, IPv4 and IPv6
    write_pcap(outdir + "/apps_raw.pcap", [(b[14:], w - 14) for b, w in whole + cut], 101)
    rnd = []
    for _ in range(n):
        b = bytearray(frames[rng.randrange(len(frames))])
        hdr = 14 + (40 if b[12:14] == b"\x86\xdd" else 20)
        ports = hdr  # the transport header's ports: kept (tern dissects few)
        hdr += 20 if b[hdr - 40 + 6 if hdr == 54 else 23] == 6 else 8
        if hdr >= len(b):
            hdr = 14
        for _ in range(rng.randrange(1, 6)):
            v4 = b[12:14] == b"\x08\x00"
            pos = rng.randrange(14 if v4 and rng.random() < 0.1 else hdr, len(b))
            if pos == 23 or ports <= pos < ports + 4:  # protocol, ports
                continue
            if not v4 and (14 <= pos < 18 or 20 <= pos < 22 or (pos == 54 and b[20] == 58)):
                continue  # IPv6 next header, ICMPv6 type: tern prints few
            b[pos] = rng.choice((0, 1, 0x3f, 0x40, 0x41, 0x7f, 0x80, 0xc0, 0xff, rng.randrange(256)))
        w = len(b)
        if rng.random() < 0.25:
            b = b[:rng.randrange(14, len(b) + 1)]
        rnd.append((bytes(b), w))
    write_pcap(outdir + "/apps_rand.pcap", rnd)


if __name__ == "__main__":
    main()
