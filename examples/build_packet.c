/*
 * examples/build_packet.c - the smallest use of libtern: build an Ethernet +
 * IPv4 + UDP frame with the wire codecs, parse it back, check the checksums.
 *
 * Build against an installed tern:
 *     cc build_packet.c $(pkg-config --cflags --libs tern) -o build_packet
 */
#include <stdio.h>
#include <string.h>

#include <tern/wire/eth.h>
#include <tern/wire/ipv4.h>
#include <tern/wire/udp.h>

int main(void)
{
    uint8_t frame[128];
    const char msg[] = "hello, tern";
    uint32_t src, dst;
    if (tern_ipv4_aton("192.0.2.1", &src) || tern_ipv4_aton("192.0.2.2", &dst))
        return 1;

    struct tern_eth_repr eth = {.ethertype = TERN_ETHERTYPE_IPV4};
    tern_eth_aton("02:00:00:00:00:01", eth.src);
    tern_eth_aton("02:00:00:00:00:02", eth.dst);
    int off = tern_eth_emit(&eth, frame, sizeof frame);

    struct tern_udp_repr udp = {.sport = 40000, .dport = 7,
                                .payload = (const uint8_t *)msg, .payload_len = sizeof msg - 1};
    struct tern_ipv4_repr ip = {.ttl = 64, .proto = TERN_IPPROTO_UDP, .src = src, .dst = dst,
                                .df = true, .payload_len = TERN_UDP_HLEN + udp.payload_len};
    int ihl = tern_ipv4_emit(&ip, frame + off, sizeof frame - (size_t)off);
    if (off < 0 || ihl < 0)
        return 1;
    int ulen = tern_udp_emit(&udp, src, dst, frame + off + ihl, sizeof frame - (size_t)(off + ihl));
    if (ulen < 0)
        return 1;
    size_t total = (size_t)(off + ihl + ulen);

    /* Parse it back, verifying both checksums. */
    struct tern_eth_repr e2;
    struct tern_ipv4_repr i2;
    struct tern_udp_repr u2;
    int h = tern_eth_parse(frame, total, &e2);
    int ih = h < 0 ? h : tern_ipv4_parse(frame + h, total - (size_t)h, 0, &i2);
    int uh = ih < 0 ? ih : tern_udp_parse(frame + h + ih, i2.payload_len, i2.src, i2.dst, 0, &u2);
    if (uh < 0) {
        fprintf(stderr, "parse failed: %s\n", tern_strerror(uh));
        return 1;
    }
    char s[16], d[16];
    printf("%zu-byte frame: %s.%u > %s.%u UDP \"%.*s\"\n", total, tern_ipv4_ntoa(i2.src, s),
           u2.sport, tern_ipv4_ntoa(i2.dst, d), u2.dport, (int)u2.payload_len,
           (const char *)u2.payload);
    return memcmp(u2.payload, msg, sizeof msg - 1) != 0;
}
