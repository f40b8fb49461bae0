/*
 * fuzz/stack_fuzz.c - the whole stack over raw frames in virtual time.
 * Input: records [u16 time step ms][u16 frame length][frame bytes] (big
 * endian; a short last record is cut to what is there). One stack on a
 * virtual loop with a capture device and one Ethernet interface
 * 10.0.0.1/24 (02:00:00:00:00:01); the clock advances by each step before
 * its frame is delivered; then 120 s run so every timer fires. An echo
 * endpoint and a recording UDP handler are bound so those paths run too.
 * Checks: no crash, hang or leak (ASan), the bounded tables stay bounded
 * and are empty at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "core/stack_impl.h"
#include "tern/device.h"
#include "tern/loop.h"
#include "tern/stack.h"

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

static void on_udp(void *ctx, const struct tern_ipv4_repr *ip, const uint8_t *p, size_t len,
                   int ifindex)
{
    volatile size_t *sum = ctx;
    (void)ip, (void)ifindex;
    for (size_t i = 0; i < len; i++)
        *sum += p[i];
}

static void on_udp_err(void *ctx, uint8_t type, uint8_t code, uint16_t mtu,
                       const struct tern_icmp_quote *q)
{
    volatile size_t *sum = ctx;
    (void)type, (void)code, (void)mtu;
    for (size_t i = 0; i < q->l4_len; i++)
        *sum += q->l4[i];
}

static void check_bounds(const struct tern_stack *s, const struct tern_config *c)
{
    struct tern_stack_mem m;
    tern_stack_mem_usage(s, &m);
    if (m.arp_entries > c->arp_cache_max || m.arp_queued > c->arp_queue_total ||
        m.reasm_bytes > c->reasm_max_bytes || m.reasm_datagrams > c->reasm_max_datagrams ||
        m.loop_queued > TERN_LOOPQ_MAX)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x01};
    size_t sent = 0;
    volatile size_t sum = 0;
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 1;
    c.arp_cache_max = 8; /* small tables so eviction paths run */
    c.arp_queue_total = 8;
    c.reasm_max_datagrams = 4;
    c.reasm_max_bytes = 8192;
    struct tern_loop *loop = tern_loop_virtual_new(1000000);
    struct tern_stack *s = tern_stack_new(&c, loop);
    struct tern_device *dev = tern_custom_device_new(TERN_LINK_ETHERNET, 1500, mac, cap_send, &sent);
    if (!loop || !s || !dev)
        abort();
    struct tern_iface_config ic = {.addr = 0x0a000001u, .prefix_len = 24, .up = true};
    if (tern_stack_add_iface(s, dev, &ic) < 0)
        abort();
    tern_route_add(s, 0, 0, 0x0a0000feu, 0);
    int id = tern_echo_bind(s, 0x1234, on_echo, (void *)&sum);
    struct tern_proto_handler h = {.input = on_udp, .icmp_error = on_udp_err, .ctx = (void *)&sum};
    tern_stack_register_proto(s, 17, &h);

    size_t pos = 0;
    uint16_t seq = 0;
    while (size - pos >= 4) {
        uint16_t step = (uint16_t)(data[pos] << 8 | data[pos + 1]);
        size_t len = (size_t)(data[pos + 2] << 8 | data[pos + 3]);
        pos += 4;
        if (len > size - pos)
            len = size - pos;
        tern_loop_advance(loop, tern_loop_now(loop) + (uint64_t)step * 1000);
        /* An exact-size copy so ASan catches any over-read. */
        uint8_t *f = malloc(len ? len : 1);
        if (len)
            memcpy(f, data + pos, len);
        tern_device_deliver(dev, f, len);
        free(f);
        pos += len;
        /* Every few frames, our own traffic: to the peer, the gateway, ourselves. */
        if ((step & 7) == 7) {
            static const uint32_t dsts[4] = {0x0a000002u, 0x08080808u, 0x0a000001u, 0x0a0000ffu};
            struct tern_ip_out o = {.dst = dsts[seq & 3]};
            tern_echo_send(s, &o, 0x1234, seq++, data, len < 2000 ? len : 2000);
        }
        check_bounds(s, &c);
    }
    tern_loop_run(loop, tern_loop_now(loop) + 120000000ull);
    check_bounds(s, &c);
    struct tern_stack_mem m;
    tern_stack_mem_usage(s, &m);
    if (m.arp_queued || m.reasm_bytes || m.reasm_datagrams || m.loop_queued)
        abort();
    if (id > 0)
        tern_echo_unbind(s, (uint16_t)id);
    tern_stack_free(s);
    tern_device_destroy(dev);
    tern_loop_destroy(loop);
    return 0;
}
