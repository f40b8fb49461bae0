/*
 * fuzz/stack_fuzz.c - the whole stack over raw frames in virtual time.
 * Input: records [u16 time step ms][u16 frame length][frame bytes] (big
 * endian; a short last record is cut to what is there). One stack on a
 * virtual loop with a capture device and one Ethernet interface
 * 10.0.0.1/24 (02:00:00:00:00:01); the clock advances by each step before
 * its frame is delivered; then 120 s run so every timer fires. An echo
 * endpoint and UDP sockets are bound so those paths run too: two sharing
 * port 7000 (SO_REUSEADDR), one on port 68 bound to the interface (DHCP),
 * one connected to 10.0.0.2:53; their handlers drain them, and they send.
 * TCP: a listener on port 80 whose connections echo what they read and
 * close at end of stream, and a connect to 10.0.0.2:80 (SYN-SENT paths);
 * at the end everything is closed and the clock runs until every
 * connection is gone (TIME_WAIT, retries, the user timeout).
 * Router variant (odd input length): cfg.ip_forward with a second
 * interface 10.1.0.1/24 (MTU 576, so forwarding fragments and answers
 * "fragmentation needed"), two equal default routes (ECMP; per packet when
 * the length's bit 1 is set too) and a 2-entry PMTU cache; and a NAT
 * (src/core/nat.c) of 8 sessions, 4 per host, with short timers: on the
 * second interface (what arrives is translated out) or, when the length's
 * bit 2 is set, on the first (what arrives for 10.0.0.1 is looked up and
 * translated in), with the firewall and a port forward when bit 3 is set.
 * Live connections: a record whose time step has the top bit set (the
 * step is the low 15 bits) is fixed up before delivery when it is an
 * IPv4/TCP frame: IP total length = the frame's, and when its 4-tuple
 * belongs to a connection, SEG.SEQ and SEG.ACK are taken as offsets from
 * that connection's RCV.NXT and SND.UNA; then both checksums are
 * recomputed. So mutations reach the synchronized states instead of dying
 * at the checksum and sequence checks; fuzz/corpus/stack/handshake_* seeds
 * complete a handshake with the listener on port 80 and exchange data.
 * Checks: no crash, hang or leak (ASan), TERN_ASSERT, the bounded tables
 * stay bounded and are empty at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tcp_impl.h"
#include "core/nat.h"
#include "core/socket_impl.h"
#include "tern/device.h"
#include "tern/loop.h"
#include "tern/socket.h"
#include "tern/stack.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"

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

static void on_sock(struct tern_sock *sk, unsigned events, void *ctx)
{
    volatile size_t *sum = ctx;
    uint8_t buf[512];
    struct tern_sockaddr from;
    int fl;
    ssize_t n;
    if (events & TERN_POLLERR)
        *sum += (size_t)-tern_sock_error(sk);
    /* Bounded: the queue holds at most rcvbuf bytes. */
    while ((n = tern_sock_recvfrom(sk, buf, sizeof buf, 0, &from, &fl)) >= 0)
        for (ssize_t i = 0; i < n; i++)
            *sum += buf[i];
}

#define TCP_MAX_CONN 32
struct tcp_fz {
    struct tern_sock *conn[TCP_MAX_CONN];
    int n;
    volatile size_t *sum;
};

static void on_tcp_conn(struct tern_sock *sk, unsigned events, void *ctx)
{
    struct tcp_fz *z = ctx;
    uint8_t buf[512];
    ssize_t n;
    if (events & TERN_POLLERR)
        *z->sum += (size_t)-tern_sock_error(sk);
    while ((n = tern_sock_recv(sk, buf, sizeof buf, 0)) > 0)
        tern_sock_send(sk, buf, (size_t)n, 0); /* echo what fits */
    if (n == 0)
        tern_sock_shutdown(sk, TERN_SHUT_WR);
}

static void on_tcp_listen(struct tern_sock *sk, unsigned events, void *ctx)
{
    struct tcp_fz *z = ctx;
    struct tern_sock *c;
    (void)events;
    while ((c = tern_sock_accept(sk, NULL, NULL))) {
        if (z->n == TCP_MAX_CONN) {
            tern_sock_abort(c);
            continue;
        }
        z->conn[z->n++] = c;
        tern_sock_setopt(c, TERN_SO_KEEPALIVE, 1);
        tern_sock_setopt(c, TERN_TCP_KEEPIDLE, 5);
        tern_sock_set_handler(c, TERN_POLLIN | TERN_POLLOUT, on_tcp_conn, z);
    }
}

/* The fix-up of a live-connection record (see the top). f: an Ethernet
 * frame of len bytes, modified in place. */
static void fixup(struct tern_stack *s, uint8_t *f, size_t len)
{
    if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00 || (f[14] >> 4) != 4)
        return;
    uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    size_t iplen = len - 14;
    if (ihl < 20 || ihl + 20 > iplen || iplen > 65535 || ip[9] != TERN_IPPROTO_TCP)
        return;
    tern_put16(ip + 2, (uint16_t)iplen);
    tern_put16(ip + 6, 0); /* no fragments */
    uint8_t *t = ip + ihl;
    size_t tlen = iplen - ihl;
    uint32_t src = tern_get32(ip + 12), dst = tern_get32(ip + 16);
    struct tern_sock *sk = ports_find_conn(s, TERN_IPPROTO_TCP, dst, tern_get16(t + 2), src,
                                           tern_get16(t));
    if (sk && sk->pcb) {
        const struct tcp_cb *cb = tcp_cb_of(sk);
        tern_put32(t + 4, cb->rcv_nxt + tern_get32(t + 4));
        tern_put32(t + 8, cb->snd_una + tern_get32(t + 8));
    }
    /* TCP checksum over the pseudo-header (RFC 9293 s3.1), then IP's. */
    tern_put16(t + 16, 0);
    uint32_t sum = tern_csum_pseudo_ipv4(src, dst, TERN_IPPROTO_TCP, (uint16_t)tlen);
    tern_put16(t + 16, tern_csum_fold(tern_csum_add(sum, t, tlen)));
    tern_put16(ip + 10, 0);
    tern_put16(ip + 10, tern_csum(ip, ihl));
}

static void check_bounds(const struct tern_stack *s, const struct tern_config *c)
{
    struct tern_stack_mem m;
    stack_mem_usage(s, &m);
    if (m.arp_entries > c->arp_cache_max || m.arp_queued > c->arp_queue_total ||
        m.reasm_bytes > c->reasm_max_bytes || m.reasm_datagrams > c->reasm_max_datagrams ||
        m.loop_queued > TERN_LOOPQ_MAX || pmtu_count(s) > c->pmtu_max)
        abort();
    if (s->nat && nat_stats(s->nat)->entries > nat_config(s->nat)->max_entries)
        abort();
    for (uint32_t i = 0; i < s->sock_cap; i++) {
        const struct tern_sock *sk = sock_slot(s, i);
        if (sk->used && sk->type == TERN_SOCK_DGRAM && udp_of(sk)->rq.used > udp_of(sk)->rq.cap)
            abort();
    }
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
    bool router = size & 1;
    c.ip_forward = router;
    c.ecmp = (size & 2) ? TERN_ECMP_PACKET : TERN_ECMP_FLOW;
    c.pmtu_max = 2;
    struct tern_loop *loop = tern_loop_virtual_new(1000000);
    struct tern_stack *s = tern_stack_new(&c, loop);
    struct tern_device *dev = tern_custom_device_new(TERN_LINK_ETHERNET, 1500, mac, cap_send, &sent);
    if (!loop || !s || !dev)
        abort();
    struct tern_iface_config ic = {.addr = 0x0a000001u, .prefix_len = 24, .up = true};
    if (tern_stack_add_iface(s, dev, &ic) < 0)
        abort();
    tern_route_add(s, 0, 0, 0x0a0000feu, 0);
    static const uint8_t mac2[6] = {0x02, 0, 0, 0, 1, 0x01};
    struct tern_device *dev2 = NULL;
    if (router) {
        dev2 = tern_custom_device_new(TERN_LINK_ETHERNET, 576, mac2, cap_send, &sent);
        struct tern_iface_config ic2 = {.addr = 0x0a010001u, .prefix_len = 24, .up = true};
        if (!dev2 || tern_stack_add_iface(s, dev2, &ic2) < 0)
            abort();
        tern_route_add(s, 0, 0, 0x0a0100feu, 1); /* an ECMP pair of defaults */
        struct tern_nat_config nc;
        tern_nat_config_defaults(&nc);
        nc.max_entries = 8;
        nc.max_per_host = 4;
        nc.udp_timeout_us = 30000000;
        nc.icmp_timeout_us = 30000000;
        nc.tcp_trans_timeout_us = 30000000;
        nc.tcp_est_timeout_us = 600000000; /* gone before the final 800 s */
        nc.mapping = (enum tern_nat_behavior)(size / 16 % 3);
        nc.filtering = (enum tern_nat_behavior)(size / 48 % 3);
        if (tern_nat_enable(s, (size & 4) ? 0 : 1, &nc) < 0)
            abort();
        if (size & 8) {
            static const struct tern_fw_rule allow80 = {.allow = true, .proto = 6,
                                                        .dport_lo = 80, .dport_hi = 80};
            tern_nat_forward_add(s, 6, 8080, 0x0a010002u, 80);
            tern_fw_rule_add(s, 0, &allow80);
        }
    }
    int id = tern_echo_bind(s, 0x1234, on_echo, (void *)&sum);
    struct tern_sock *sk[4];
    for (int i = 0; i < 4; i++) {
        sk[i] = tern_sock_open(s, TERN_SOCK_DGRAM, NULL);
        if (!sk[i])
            abort();
        tern_sock_set_handler(sk[i], TERN_POLLIN, on_sock, (void *)&sum);
    }
    tern_sock_setopt(sk[0], TERN_SO_REUSEADDR, 1);
    tern_sock_setopt(sk[1], TERN_SO_REUSEADDR, 1);
    tern_sock_setopt(sk[1], TERN_SO_RCVBUF, 600); /* small: overflow paths run */
    tern_sock_bind(sk[0], &(struct tern_sockaddr){0, 7000});
    tern_sock_bind(sk[1], &(struct tern_sockaddr){0, 7000});
    tern_sock_setopt(sk[2], TERN_SO_BINDTOIFACE, 0);
    tern_sock_setopt(sk[2], TERN_SO_BROADCAST, 1);
    tern_sock_bind(sk[2], &(struct tern_sockaddr){0, 68});
    tern_sock_connect(sk[3], &(struct tern_sockaddr){0x0a000002u, 53});
    struct tcp_fz z = {.sum = &sum};
    struct tern_sock *tl = tern_sock_open(s, TERN_SOCK_STREAM, NULL);
    struct tern_sock *tc = tern_sock_open(s, TERN_SOCK_STREAM, NULL);
    if (!tl || !tc)
        abort();
    tern_sock_setopt(tl, TERN_SO_RCVBUF, 2048); /* small windows: edge cases run */
    tern_sock_bind(tl, &(struct tern_sockaddr){0, 80});
    tern_sock_listen(tl, 4);
    tern_sock_set_handler(tl, TERN_POLLIN, on_tcp_listen, &z);
    tern_sock_bind(tc, &(struct tern_sockaddr){0, 40000});
    tern_sock_connect(tc, &(struct tern_sockaddr){0x0a000002u, 80});
    tern_sock_set_handler(tc, TERN_POLLIN | TERN_POLLOUT, on_tcp_conn, &z);

    size_t pos = 0;
    uint16_t seq = 0;
    while (size - pos >= 4) {
        uint16_t step = (uint16_t)(data[pos] << 8 | data[pos + 1]);
        size_t len = (size_t)(data[pos + 2] << 8 | data[pos + 3]);
        bool live = step & 0x8000;
        step &= 0x7fff;
        pos += 4;
        if (len > size - pos)
            len = size - pos;
        tern_loop_advance(loop, tern_loop_now(loop) + (uint64_t)step * 1000);
        /* An exact-size copy so ASan catches any over-read. */
        uint8_t *f = malloc(len ? len : 1);
        if (len)
            memcpy(f, data + pos, len);
        if (live)
            fixup(s, f, len);
        tern_device_deliver(dev, f, len);
        free(f);
        pos += len;
        /* Every few frames, our own traffic: to the peer, the gateway, ourselves. */
        if ((step & 7) == 7) {
            static const uint32_t dsts[4] = {0x0a000002u, 0x08080808u, 0x0a000001u, 0x0a0000ffu};
            struct tern_ip_out o = {.dst = dsts[seq & 3]};
            tern_echo_send(s, &o, 0x1234, seq++, data, len < 2000 ? len : 2000);
        } else if ((step & 7) == 6) {
            /* UDP out: connected, broadcast from port 68, to ourselves. */
            static const struct tern_sockaddr to[3] = {
                {0, 0}, {0xffffffffu, 67}, {0x0a000001u, 7000}};
            int k = seq++ % 3;
            tern_sock_sendto(sk[k == 0 ? 3 : k == 1 ? 2 : 0], data, len < 3000 ? len : 3000, 0,
                             k == 0 ? NULL : &to[k]);
        }
        /* The address comes and goes (DHCP): unaddressed input paths. */
        if ((step & 0xff) == 0x55)
            tern_iface_set_addr(s, 0, (step & 0x100) ? 0 : 0x0a000001u, 24);
        check_bounds(s, &c);
    }
    tern_loop_run(loop, tern_loop_now(loop) + 120000000ull);
    check_bounds(s, &c);
    if (getenv("TERN_FUZZ_VERBOSE"))
        fprintf(stderr, "accepted %d connections, connect %s\n", z.n,
                tcp_state_name(tcp_cb_of(tc)->state));
    for (int i = 0; i < z.n; i++)
        tern_sock_close(z.conn[i]);
    tern_sock_close(tc);
    tern_sock_close(tl);
    /* Orphans finish: FIN retries end by the user timeout (300 s), then
     * TIME_WAIT (60 s). */
    tern_loop_run(loop, tern_loop_now(loop) + 800000000ull);
    struct tern_stack_mem m;
    stack_mem_usage(s, &m);
    if (m.arp_queued || m.reasm_bytes || m.reasm_datagrams || m.loop_queued)
        abort();
    if (s->nat && nat_stats(s->nat)->entries)
        abort(); /* every NAT session timed out */
    if (id > 0)
        tern_echo_unbind(s, (uint16_t)id);
    for (int i = 0; i < 4; i++)
        tern_sock_close(sk[i]);
    if (s->sock_count)
        abort();
    tern_stack_free(s);
    tern_device_destroy(dev);
    tern_device_destroy(dev2);
    tern_loop_destroy(loop);
    return 0;
}
