#!/usr/bin/python3
# Generates the IPv6, ICMPv6/ND/MLD and IGMP known answers in
# tests/wire/ipv6_vectors.h with scapy (run with Debian's /usr/bin/python3,
# which has python3-scapy): packets scapy builds, with the fields it was told
# to use, so tern's parsers are checked against an independent encoder and
# tern's emitters against its bytes. Address text comes from Python's
# ipaddress (RFC 5952 form).
import ipaddress
import random
from scapy.all import (IPv6, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting,
                       IPv6ExtHdrFragment, RouterAlert, PadN, UDP, TCP, Raw, raw,
                       ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6ND_RS, ICMPv6ND_RA,
                       ICMPv6NDOptSrcLLAddr, ICMPv6NDOptDstLLAddr, ICMPv6NDOptPrefixInfo,
                       ICMPv6NDOptMTU, ICMPv6NDOptRDNSS, ICMPv6MLQuery2, ICMPv6MLReport2,
                       ICMPv6MLDMultAddrRec, ICMPv6PacketTooBig, ICMPv6ParamProblem,
                       IP, Ether)
from scapy.contrib.igmp import IGMP
from scapy.contrib.igmpv3 import IGMPv3, IGMPv3mq, IGMPv3mr, IGMPv3gr

out = []
def arr(name, b, comment):
    out.append('/* %s */' % comment)
    out.append('static const uint8_t %s[%d] = {' % (name, len(b)))
    for i in range(0, len(b), 12):
        out.append('    ' + ', '.join('0x%02x' % x for x in b[i:i + 12]) + ',')
    out.append('};')

LL = 'fe80::200:ff:fe00:1'
LL2 = 'fe80::200:ff:fe00:2'
G1 = '2001:db8:1::10'
G2 = '2001:db8:1::20'

arr('v6_echo', raw(IPv6(src=G1, dst=G2, tc=0xb8, fl=0x12345, hlim=64) /
                  ICMPv6EchoRequest(id=0x4242, seq=7, data=b'tern ping6 data')),
    'IPv6 tc 0xb8 flow 0x12345 hlim 64, %s -> %s, ICMPv6 echo request id 0x4242 seq 7' % (G1, G2))
arr('v6_mld2_report', raw(IPv6(src=LL, dst='ff02::16', hlim=1) /
                          IPv6ExtHdrHopByHop(options=[RouterAlert(value=0), PadN(optdata=b'')]) /
                          ICMPv6MLReport2(records=[
                              ICMPv6MLDMultAddrRec(rtype=4, dst='ff02::1:ff00:1'),
                              ICMPv6MLDMultAddrRec(rtype=2, dst='ff15::abcd', sources=['2001:db8::5'])])),
    'MLDv2 report with a Hop-by-Hop Router Alert: CHANGE_TO_EXCLUDE ff02::1:ff00:1, MODE_IS_EXCLUDE ff15::abcd {2001:db8::5}')
arr('v6_mld2_query', raw(IPv6(src=LL2, dst='ff02::1', hlim=1) /
                         IPv6ExtHdrHopByHop(options=[RouterAlert(value=0), PadN(optdata=b'')]) /
                         ICMPv6MLQuery2(mrd=10000, mladdr='::', S=0, QRV=2, QQIC=125)),
    'MLDv2 general query, max response 10000 ms, QRV 2, QQIC 125')
arr('v6_ns', raw(IPv6(src=LL, dst='ff02::1:ff00:2', hlim=255) /
                 ICMPv6ND_NS(tgt=LL2) / ICMPv6NDOptSrcLLAddr(lladdr='02:00:00:00:00:01')),
    'NS for %s from %s with source link-layer 02:00:00:00:00:01' % (LL2, LL))
arr('v6_ns_dad', raw(IPv6(src='::', dst='ff02::1:ff00:2', hlim=255) / ICMPv6ND_NS(tgt=LL2)),
    'DAD NS for %s from ::' % LL2)
arr('v6_na', raw(IPv6(src=LL2, dst=LL, hlim=255) /
                 ICMPv6ND_NA(tgt=LL2, R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr='02:00:00:00:00:02')),
    'NA S=1 O=1 for %s with target link-layer 02:00:00:00:00:02' % LL2)
arr('v6_rs', raw(IPv6(src=LL, dst='ff02::2', hlim=255) / ICMPv6ND_RS() /
                 ICMPv6NDOptSrcLLAddr(lladdr='02:00:00:00:00:01')),
    'RS with source link-layer 02:00:00:00:00:01')
arr('v6_ra', raw(IPv6(src=LL2, dst='ff02::1', hlim=255) /
                 ICMPv6ND_RA(chlim=64, M=0, O=1, routerlifetime=1800, reachabletime=30000, retranstimer=1000) /
                 ICMPv6NDOptSrcLLAddr(lladdr='02:00:00:00:00:02') /
                 ICMPv6NDOptMTU(mtu=1480) /
                 ICMPv6NDOptPrefixInfo(prefixlen=64, L=1, A=1, validlifetime=86400,
                                       preferredlifetime=14400, prefix='2001:db8:1::') /
                 ICMPv6NDOptRDNSS(lifetime=600, dns=['2001:db8:1::53', '2001:db8:2::53'])),
    'RA hop limit 64 O=1 lifetime 1800 reachable 30000 retrans 1000; SLLA, MTU 1480, prefix 2001:db8:1::/64 L A 86400/14400, RDNSS 600 s two servers')
arr('v6_frag_udp', raw(IPv6(src=G1, dst=G2) / IPv6ExtHdrFragment(nh=17, offset=0, m=1, id=0xdeadbeef) /
                       UDP(sport=5000, dport=6000, chksum=0x1234) / Raw(b'A' * 24)),
    'first fragment (offset 0, M) id 0xdeadbeef of a UDP 5000 -> 6000')
arr('v6_frag_later', raw(IPv6(src=G1, dst=G2) / IPv6ExtHdrFragment(nh=17, offset=4, m=0, id=0xdeadbeef) /
                         Raw(b'B' * 16)),
    'a later fragment (offset 32 bytes) of the same datagram')
arr('v6_dst_tcp', raw(IPv6(src=G1, dst=G2) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b'\0\0\0\0')]) /
                      TCP(sport=1234, dport=80, flags='S', seq=1000)),
    'Destination Options (PadN of 4) then TCP SYN 1234 -> 80 seq 1000')
arr('v6_rh0', raw(IPv6(src=G1, dst=G2) / IPv6ExtHdrRouting(type=0, segleft=1, addresses=['2001:db8::99']) /
                  UDP(sport=1, dport=2)),
    'Routing header type 0 with Segments Left 1 (RFC 5095: refused)')
arr('v6_rh0_done', raw(IPv6(src=G1, dst=G2) / IPv6ExtHdrRouting(type=0, segleft=0, addresses=['2001:db8::99']) /
                       UDP(sport=1, dport=2)),
    'Routing header type 0 with Segments Left 0 (ignored)')
arr('v6_ptb', raw(IPv6(src=G2, dst=G1) / ICMPv6PacketTooBig(mtu=1400) /
                  IPv6(src=G1, dst=G2) / UDP(sport=5000, dport=6000) / Raw(b'x' * 8)),
    'Packet Too Big, MTU 1400, quoting a UDP datagram')
arr('igmp_v2_report', raw(IGMP(type=0x16, mrcode=0, gaddr='239.1.2.3')),
    'IGMPv2 report 239.1.2.3 (max resp time 0 as RFC 2236 s2.2 asks; scapy defaults to 20)')
arr('igmp_v2_query', raw(IGMP(type=0x11, mrcode=100, gaddr='0.0.0.0')), 'IGMPv2 general query, 10 s')
arr('igmp_v3_query', raw(IGMPv3(type=0x11, mrcode=0x8c) / IGMPv3mq(gaddr='239.1.2.3', qrv=2, qqic=125,
                                                                     srcaddrs=['10.0.0.1', '10.0.0.2'])),
    'IGMPv3 group-and-source query 239.1.2.3 {10.0.0.1, 10.0.0.2}, max resp code 0x8c, QRV 2, QQIC 125')
arr('igmp_v3_report', raw(IGMPv3(type=0x22) / IGMPv3mr(records=[
        IGMPv3gr(rtype=4, maddr='239.1.2.3'),
        IGMPv3gr(rtype=1, maddr='239.9.9.9', srcaddrs=['10.0.0.7'])])),
    'IGMPv3 report: CHANGE_TO_EXCLUDE 239.1.2.3 {}, MODE_IS_INCLUDE 239.9.9.9 {10.0.0.7}')

# address text: random addresses with runs of zero groups, RFC 5952 text
rnd = random.Random(5952)
out.append('/* address <-> RFC 5952 text (Python ipaddress.compressed) */')
out.append('static const struct { uint8_t b[16]; const char *text; } v6_text[] = {')
for k in range(64):
    g = [rnd.choice([0, 0, 0, 1, 0xffff, rnd.randrange(65536)]) for _ in range(8)]
    if g[0] == 0 and g[1] == 0 and g[2] == 0 and g[3] == 0 and g[4] == 0 and g[5] in (0, 0xffff):
        g[5] = 1  # v4-compatible/mapped forms are checked by hand
    a = ipaddress.IPv6Address(b''.join(x.to_bytes(2, 'big') for x in g))
    out.append('    {{%s}, "%s"},' % (', '.join('0x%02x' % x for x in a.packed), a.compressed))
out.append('};')

print('/* tests/wire/ipv6_vectors.h - IPv6, ICMPv6, ND, MLD and IGMP known answers')
print(' * from scapy 2.5 and Python ipaddress, printed by')
print(' * tests/scripts/gen_ipv6_vectors.py (run with /usr/bin/python3). */')
print('#include <stdint.h>')
print('\n'.join(out))
