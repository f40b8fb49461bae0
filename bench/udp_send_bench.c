/*
 * bench/udp_send_bench.c - the cost of building and sending one UDP
 * datagram and one ICMP echo (1472 bytes of payload by default) through a
 * tern stack to a device that discards frames: CPU ns per datagram, with
 * the application's data hot (one buffer sent again and again) and cold
 * (the source walks through 32 MiB, as an application streaming data
 * would). No peer: the figure is the send path's own cost (payload copy
 * and checksum, headers, route, IP ID, Ethernet), used to judge changes
 * to it (docs/performance.md). Not a test: nothing is asserted.
 *
 *     make bench BENCH=udp_send     [BENCH_DGRAMS=N, BENCH_PAYLOAD=bytes]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "tern/device.h"
#include "tern/loop.h"
#include "tern/socket.h"
#include "tern/stack.h"

#define COLD ((size_t)32 << 20)

static uint64_t frames;

static int discard(void *ctx, const uint8_t *f, size_t len)
{
    (void)ctx, (void)f, (void)len;
    frames++;
    return 0;
}

int main(void)
{
    int n = getenv("BENCH_DGRAMS") ? atoi(getenv("BENCH_DGRAMS")) : 500000;
    size_t plen = getenv("BENCH_PAYLOAD") ? (size_t)atoi(getenv("BENCH_PAYLOAD")) : 1472;
    if (n <= 0 || plen > 65000)
        return 2;
    struct tern_loop *l = tern_loop_virtual_new(0);
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    struct tern_device *d = tern_custom_device_new(TERN_LINK_ETHERNET, 65535, mac, discard, NULL);
    struct tern_config c;
    tern_config_defaults(&c);
    c.seed = 1;
    struct tern_stack *s = l && d ? tern_stack_new(&c, l) : NULL;
    struct tern_iface_config ic = {.addr = 0x0a000001, .prefix_len = 24, .up = true};
    int err;
    struct tern_sock *u = s && tern_stack_add_iface(s, d, &ic) >= 0
                              ? tern_sock_open(s, TERN_SOCK_DGRAM, &err) : NULL;
    uint8_t *buf = malloc(COLD + 65536);
    if (!u || !buf || tern_sock_setopt(u, TERN_SO_BROADCAST, 1) < 0) {
        printf("udp_send: setup failed\n");
        return 1;
    }
    for (size_t i = 0; i < COLD + 65536; i++)
        buf[i] = (uint8_t)(i * 7 + 1);
    /* The subnet's broadcast: no ARP, every datagram reaches the device. */
    struct tern_sockaddr to = {0x0a0000ff, 9};
    struct tern_ip_out o = {.dst = 0x0a0000ff};
    printf("UDP/ICMP send, %zu-byte payload, %d each; CPU ns per datagram\n", plen, n);
    for (int cold = 0; cold < 2; cold++) {
        double c0 = bench_cpu();
        for (int i = 0; i < n; i++)
            tern_sock_sendto(u, buf + (cold ? (size_t)i * plen % COLD : 0), plen, 0, &to);
        double c1 = bench_cpu();
        for (int i = 0; i < n; i++)
            tern_echo_send(s, &o, 1, (uint16_t)i, buf + (cold ? (size_t)i * plen % COLD : 0),
                           plen);
        double c2 = bench_cpu();
        printf("%-28s udp %8.1f   icmp echo %8.1f\n",
               cold ? "data cold (32 MiB walk)" : "data hot (one buffer)", (c1 - c0) * 1e9 / n,
               (c2 - c1) * 1e9 / n);
    }
    printf("    (%llu frames sent)\n", (unsigned long long)frames);
    tern_sock_close(u);
    tern_stack_free(s);
    tern_device_destroy(d);
    tern_loop_destroy(l);
    free(buf);
    return 0;
}
