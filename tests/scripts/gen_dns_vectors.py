#!/usr/bin/python3
# Generates the DNS known answers in tests/wire/dns_vectors.h with scapy
# (run with Debian's /usr/bin/python3, which has scapy).
#
# scapy builds each message uncompressed; compress() below applies RFC 1035
# s4.1.4 the standard way (each name points at the longest suffix already
# written, the first occurrence of it), and scapy must decode the result to
# the same message: scapy is the oracle for both forms. (scapy 2.5's own
# DNS.compress() mangles the owner name after a compressed RDATA, so it is
# not used.)
from scapy.all import DNS, DNSQR, DNSRR, DNSRRSOA, raw
import struct

def labels(name):
    return [l.encode() for l in name.rstrip('.').split('.') if l]

class W:
    def __init__(self):
        self.b = bytearray()
        self.seen = {}  # lower-cased suffix tuple -> offset
    def name(self, n):
        ls = labels(n)
        for i in range(len(ls)):
            key = tuple(l.lower() for l in ls[i:])
            if key in self.seen:
                self.b += struct.pack('!H', 0xc000 | self.seen[key])
                return
            if len(self.b) < 0x4000:
                self.seen[key] = len(self.b)
            self.b += bytes([len(ls[i])]) + ls[i]
        self.b += b'\0'

def compress(msg):
    w = W()
    w.b += raw(msg)[:12]
    for q in (msg.qd if isinstance(msg.qd, list) else [msg.qd] if msg.qd else []):
        w.name(q.qname.decode()); w.b += struct.pack('!HH', q.qtype, q.qclass)
    for sec in ('an', 'ns', 'ar'):
        rrs = getattr(msg, sec)
        rrs = rrs if isinstance(rrs, list) else ([] if rrs is None else list(iter_rr(rrs)))
        for rr in rrs:
            w.name(rr.rrname.decode())
            w.b += struct.pack('!HHI', rr.type, rr.rclass, rr.ttl)
            at = len(w.b); w.b += b'\0\0'
            if rr.type in (2, 5, 12):
                w.name(rr.rdata.decode() if isinstance(rr.rdata, bytes) else rr.rdata)
            elif rr.type == 6:
                w.name(rr.mname.decode()); w.name(rr.rname.decode())
                w.b += struct.pack('!IIIII', rr.serial, rr.refresh, rr.retry, rr.expire, rr.minimum)
            else:
                full = raw(rr)
                w.b += full[-rr.rdlen:] if rr.rdlen else b''
            struct.pack_into('!H', w.b, at, len(w.b) - at - 2)
    return bytes(w.b)

def iter_rr(rrs):
    while rrs is not None and rrs.__class__.__name__ != 'NoPayload':
        yield rrs
        rrs = rrs.payload

def carr(name, b, expr):
    s = '/* scapy: %s */\nstatic const uint8_t %s[%d] = {' % (expr, name, len(b))
    for i, x in enumerate(b):
        s += ('\n    ' if i % 12 == 0 else ' ') + '0x%02x,' % x
    return s + '\n};\n'

def same(a, b):
    # rdlen differs by design (compressed RDATA is shorter); all else must match
    def fields(x):
        return [l for l in DNS(x).show(dump=True).splitlines() if 'rdlen' not in l]
    return fields(a) == fields(b)

msgs = {
  'q_www_a': "DNS(id=0x1234, rd=1, qd=DNSQR(qname='www.example.test', qtype='A'))",
  'r_cname_chain': "DNS(id=0x1234, qr=1, aa=1, rd=1, qd=DNSQR(qname='www.example.test', qtype='A'), "
     "an=DNSRR(rrname='www.example.test', type='CNAME', ttl=300, rdata='web.example.test')"
     "/DNSRR(rrname='web.example.test', type='A', ttl=300, rdata='10.0.0.5'), "
     "ns=DNSRR(rrname='example.test', type='NS', ttl=3600, rdata='ns1.example.test'), "
     "ar=DNSRR(rrname='ns1.example.test', type='A', ttl=3600, rdata='10.0.0.53'))",
  'r_nxdomain': "DNS(id=0xbeef, qr=1, aa=1, rd=1, rcode=3, qd=DNSQR(qname='nope.example.test', qtype='A'), "
     "ns=DNSRRSOA(rrname='example.test', ttl=300, mname='ns1.example.test', rname='hostmaster.example.test', "
     "serial=2024010101, refresh=3600, retry=900, expire=604800, minimum=300))",
  'r_aaaa': "DNS(id=7, qr=1, rd=1, ra=1, qd=DNSQR(qname='www.example.test', qtype='AAAA'), "
     "an=DNSRR(rrname='www.example.test', type='AAAA', ttl=60, rdata='2001:db8::5'))",
  'r_txt': "DNS(id=9, qr=1, ra=1, qd=DNSQR(qname='t.example.test', qtype='TXT'), "
     "an=DNSRR(rrname='t.example.test', type='TXT', ttl=5, rdata=['hi']))",
  # what tern's server must answer from examples/zones/example.test.zone
  'r_zone_web': "DNS(id=0x1234, qr=1, aa=1, rd=1, qd=DNSQR(qname='web.example.test', qtype='A'), "
     "an=DNSRR(rrname='web.example.test', type='CNAME', ttl=300, rdata='www.example.test')"
     "/DNSRR(rrname='www.example.test', type='A', ttl=300, rdata='10.0.0.5'))",
}
out = ''
for name, expr in msgs.items():
    m = eval(expr)
    u = raw(m)
    c = compress(DNS(u))
    assert same(u, c), name
    out += carr(name, u, 'raw(' + expr + ')')
    if c != u:
        out += carr(name + '_z', c, 'the same, compressed per RFC 1035 s4.1.4; DNS(bytes) decodes it identically')
print(out)
