/*
 * fuzz/stack6_fuzz.c - the IPv6 core (src/core/ipv6_*.c, nd6.c, route6.c,
 * icmp6.c, ra6.c) over raw IPv6 packets in virtual time.
 * Input: records [u16 time step ms][u16 packet length][IPv6 packet] (big
 * endian; a short last record is cut to what is there). Each packet gets
 * an Ethernet header from 02:00:00:00:00:02 to us, or to the 33:33 MAC of
 * a multicast destination. A record whose step has the top bit set (the
 * step is the low 15 bits) is fixed up first: payload length = the bytes
 * given, and an ICMPv6 checksum when the Next Header is 58, so mutations
 * reach ND, RA and echo processing instead of dying at the checksum.
 * The stack: one Ethernet interface 02:00:00:00:00:01 with its EUI-64
 * link-local address fe80::ff:fe00:1 and fd00::1/64, DAD off (addresses
 * usable at once), a default route via fd00::2, an echo id bound, and
 * echo requests sent to fe80::2, to fd00::2 and (3000 bytes, fragmented)
 * to 2001:db8::1 as the clock advances, so resolutions, queues, PMTU and
 * fragmentation run too; then 300 s so every timer fires.
 * Checks: no crash, hang or leak (ASan), the bounded tables stay bounded,
 * and the queues and reassembly are empty at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "core/ip6_impl.h"
#include "tern/device.h"
#include "tern/loop.h"
#include "tern/stack.h"
#include "tern/stack6.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"
#include "tern/wire/eth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cap_send(void *ctx, const uint8_t *frame, size_t len)
{
    size_t *n = ctx;
    (void)frame;
    *n += len;
    return 0;
}

static void on_echo(void *ctx, const struct tern_echo_event *ev)
{
    volatile size_t *sum = ctx;
    for (size_t i = 0; i < ev->len; i++)
        *sum += ev->data[i];
}

static void check_bounds(struct tern_stack *s)
{
    if (s->v6->nd_count > s->cfg.arp_cache_max || nd6_queued(s) > s->cfg.arp_queue_total ||
        tern_addr6_list(s, 0, NULL, 0) > IP6_ADDRS_MAX)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t us[6] = {0x02, 0, 0, 0, 0, 0x01}, peer[6] = {0x02, 0, 0, 0, 0, 0x02};
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 7;
    c.ipv6 = true;
    c.ipv6_eui64 = true;
    c.ipv6_dad_transmits = 0;
    c.arp_cache_max = 16;
    c.arp_queue_total = 8;
    c.reasm_max_datagrams = 4;
    c.reasm_max_bytes = 16384;
    struct tern_loop *loop = tern_loop_virtual_new(1000000000ull);
    struct tern_stack *s = tern_stack_new(&c, loop);
    size_t sent = 0;
    struct tern_device *dev = tern_custom_device_new(TERN_LINK_ETHERNET, 1500, us, cap_send, &sent);
    struct tern_iface_config ic = {.addr = 0x0a000001u, .prefix_len = 24, .up = true};
    int ifindex = tern_stack_add_iface(s, dev, &ic);
    if (!s || !dev || ifindex < 0)
        abort();
    struct tern_ipv6_addr a, gw, any = {{0}}, far, ll_peer;
    tern_ipv6_aton("fd00::1", &a);
    tern_ipv6_aton("fd00::2", &gw);
    tern_ipv6_aton("2001:db8::1", &far);
    tern_ipv6_aton("fe80::2", &ll_peer);
    tern_stack_add_addr6(s, ifindex, &a, 64);
    tern_route6_add(s, &any, 0, &gw, ifindex);
    volatile size_t sum = 0;
    int id = tern_echo_bind(s, 0x7777, on_echo, (void *)&sum);
    tern_loop_advance(loop, tern_loop_now(loop) + 10000);
    static uint8_t frame[14 + 65535], big[3000];
    size_t pos = 0;
    unsigned k = 0;
    while (size - pos >= 4) {
        uint16_t step = tern_get16(data + pos), len = tern_get16(data + pos + 2);
        pos += 4;
        if (len > size - pos)
            len = (uint16_t)(size - pos);
        tern_loop_advance(loop, tern_loop_now(loop) + (uint64_t)(step & 0x7fff) * 1000u);
        uint8_t *p = frame + 14;
        memcpy(p, data + pos, len);
        pos += len;
        if ((step & 0x8000) && len >= 40) {
            tern_put16(p + 4, (uint16_t)(len - 40));
            if (p[6] == TERN_IPPROTO_ICMPV6 && len >= 44) {
                struct tern_ipv6_addr src, dst;
                memcpy(src.b, p + 8, 16);
                memcpy(dst.b, p + 24, 16);
                tern_put16(p + 42, 0);
                uint32_t sm = tern_ipv6_pseudo_sum(&src, &dst, (uint32_t)(len - 40), 58);
                tern_put16(p + 42, tern_csum_fold(tern_csum_add(sm, p + 40, len - 40u)));
            }
        }
        struct tern_eth_repr e = {.ethertype = TERN_ETHERTYPE_IPV6};
        memcpy(e.src, peer, 6);
        if (len >= 40 && p[24] == 0xff) {
            struct tern_ipv6_addr d;
            memcpy(d.b, p + 24, 16);
            tern_ipv6_mcast_mac(&d, e.dst);
        } else {
            memcpy(e.dst, us, 6);
        }
        tern_eth_emit(&e, frame, 14);
        tern_device_deliver(dev, frame, 14 + (size_t)len);
        check_bounds(s);
        /* our own traffic, now and then */
        struct tern_ip6_out o = {.oif = -1};
        switch (k++ % 4) {
        case 0:
            o.dst = ll_peer;
            o.oif = ifindex;
            tern_echo6_send(s, &o, (uint16_t)id, (uint16_t)k, big, 16);
            break;
        case 1:
            o.dst = gw;
            tern_echo6_send(s, &o, (uint16_t)id, (uint16_t)k, big, 64);
            break;
        case 2:
            o.dst = far;
            tern_echo6_send(s, &o, (uint16_t)id, (uint16_t)k, big, sizeof big);
            break;
        default:
            break;
        }
        check_bounds(s);
    }
    tern_loop_advance(loop, tern_loop_now(loop) + 300ull * 1000000u);
    struct tern_stack_mem m;
    stack_mem_usage(s, &m);
    if (m.arp_queued || m.reasm_bytes || m.reasm_datagrams || m.arp_entries)
        abort();
    tern_echo_unbind(s, (uint16_t)id);
    tern_stack_free(s);
    tern_device_destroy(dev);
    tern_loop_destroy(loop);
    return (int)(sum & 0) + (int)(sent & 0);
}
