/* tests/common/chain.c - see chain.h. */
#include "common/chain.h"

#include <stdlib.h>
#include <string.h>

#include "core/stack_impl.h"

/* A pass-through device that counts what the stack sends into the link. */
struct meter_dev {
    struct tern_device dev;
    struct tern_device *inner;
    struct chain_meter m;
};

static int meter_send(struct tern_device *d, const uint8_t *frame, size_t len)
{
    struct meter_dev *md = (struct meter_dev *)d;
    md->m.frames++;
    md->m.bytes += len;
    if (len >= 14 && frame[12] == 0x08 && frame[13] == 0x00)
        md->m.ip_frames++;
    if (len > md->m.max_len)
        md->m.max_len = len;
    return tern_device_send(md->inner, frame, len);
}

static void meter_destroy(struct tern_device *d)
{
    struct meter_dev *md = (struct meter_dev *)d;
    tern_device_destroy(md->inner);
    free(md);
}

static const struct tern_device_ops meter_ops = {.send = meter_send, .destroy = meter_destroy};

static void meter_rx(void *ctx, struct tern_device *inner, const uint8_t *frame, size_t len)
{
    (void)inner;
    tern_device_deliver(ctx, frame, len);
}

static struct tern_device *meter_wrap(struct tern_device *inner)
{
    struct meter_dev *md = calloc(1, sizeof *md);
    if (!md)
        return NULL;
    md->dev = *inner;
    md->dev.ops = &meter_ops;
    md->dev.rx = NULL;
    md->dev.rx_ctx = NULL;
    memset(&md->dev.stats, 0, sizeof md->dev.stats);
    md->inner = inner;
    tern_device_set_rx(inner, meter_rx, &md->dev);
    return &md->dev;
}

int chain_init(struct chain *c, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    c->seed = seed;
    c->loop = tern_loop_virtual_new(0);
    return c->loop ? 0 : -1;
}

int chain_node_new(struct chain *c, const struct tern_config *cfg, bool forward)
{
    if (c->n_nodes >= CHAIN_MAX_NODES)
        return -1;
    struct tern_config k;
    if (cfg) {
        k = *cfg;
    } else {
        tern_config_defaults(&k);
        k.seed = c->seed + 1000u * (uint64_t)c->n_nodes;
    }
    if (forward)
        k.ip_forward = true;
    struct tern_stack *s = tern_stack_new(&k, c->loop);
    if (!s)
        return -1;
    c->node[c->n_nodes] = s;
    return c->n_nodes++;
}

int chain_link_add(struct chain *c, int l, uint32_t laddr, int r, uint32_t raddr,
                   const struct chain_link_opts *o)
{
    if (c->n_links >= CHAIN_MAX_LINKS || l < 0 || r < 0 || l >= c->n_nodes || r >= c->n_nodes)
        return -1;
    int li = c->n_links;
    struct chain_link *k = &c->link[li];
    memset(k, 0, sizeof *k);
    uint16_t mtu = o && o->mtu ? o->mtu : 1500;
    struct tern_device *d[2];
    if (tern_memlink_pair(c->loop, TERN_LINK_ETHERNET, mtu, 1024, &d[0], &d[1]) < 0)
        return -1;
    c->n_links++;
    const struct tern_impair *imp[2] = {o ? o->imp : NULL, o ? o->rimp : NULL};
    int node[2] = {l, r};
    uint32_t addr[2] = {laddr, raddr};
    for (int e = 0; e < 2; e++) {
        k->dev[e] = d[e];
        if (imp[e]) {
            struct tern_impair ic = *imp[e];
            ic.seed = imp[e]->seed ? imp[e]->seed : c->seed * 97 + (uint64_t)li * 2 + (uint64_t)e + 1;
            struct tern_device *w = tern_impair_wrap(c->loop, d[e], &ic);
            if (!w)
                return -1;
            k->dev[e] = k->imp[e] = w;
        }
        struct tern_device *m = meter_wrap(k->dev[e]);
        if (!m)
            return -1;
        k->dev[e] = m;
        k->meter[e] = &((struct meter_dev *)m)->m;
        struct tern_iface_config ic = {.addr = addr[e], .prefix_len = 24, .up = true,
                                       .mac = {2, 0, 0, 0, (uint8_t)li, (uint8_t)(e + 1)}};
        k->node[e] = node[e];
        k->addr[e] = addr[e];
        k->ifindex[e] = tern_stack_add_iface(c->node[node[e]], m, &ic);
        if (k->ifindex[e] < 0)
            return -1;
    }
    return li;
}

int chain_open(struct chain *c, int n_routers, const struct chain_opts *o)
{
    if (n_routers < 0 || n_routers > CHAIN_MAX_NODES - 2 || chain_init(c, o ? o->seed : 1) < 0)
        return -1;
    c->n_routers = n_routers;
    for (int i = 0; i < n_routers + 2; i++) {
        bool router = i > 0 && i <= n_routers;
        const struct tern_config *cfg = o ? (router ? o->router_cfg : o->host_cfg) : NULL;
        struct tern_config k;
        if (cfg) {
            k = *cfg;
            k.seed = c->seed + 1000u * (uint64_t)i;
            cfg = &k;
        }
        if (chain_node_new(c, cfg, router) != i)
            return -1;
    }
    for (int i = 0; i <= n_routers; i++)
        if (chain_link_add(c, i, CHAIN_ADDR(i, 1), i + 1, CHAIN_ADDR(i, 2),
                           o ? &o->link[i] : NULL) != i)
            return -1;
    /* Hosts: a default route through their router (none without one). */
    if (n_routers > 0 &&
        (tern_route_add(c->node[0], 0, 0, CHAIN_ADDR(0, 2), c->link[0].ifindex[0]) < 0 ||
         tern_route_add(c->node[n_routers + 1], 0, 0, CHAIN_ADDR(n_routers, 1),
                        c->link[n_routers].ifindex[1]) < 0))
        return -1;
    /* Router k (links k-1 on its left, k on its right): every other subnet. */
    for (int k = 1; k <= n_routers; k++) {
        for (int j = 0; j <= n_routers; j++) {
            if (j == k - 1 || j == k)
                continue;
            bool left = j < k - 1;
            int link = left ? k - 1 : k;
            uint32_t gw = left ? CHAIN_ADDR(k - 1, 1) : CHAIN_ADDR(k, 2);
            if (tern_route_add(c->node[k], CHAIN_ADDR(j, 0), 24, gw,
                               c->link[link].ifindex[left ? 1 : 0]) < 0)
                return -1;
        }
    }
    return 0;
}

void chain_run(struct chain *c, uint64_t us)
{
    tern_loop_run(c->loop, tern_loop_now(c->loop) + us);
}

bool chain_settled(struct chain *c)
{
    chain_run(c, 400000000ull);
    bool ok = true;
    for (int i = 0; i < c->n_nodes; i++) {
        struct tern_stack_mem m;
        stack_mem_usage(c->node[i], &m);
        ok = ok && m.arp_queued == 0 && m.reasm_bytes == 0 && m.reasm_datagrams == 0 &&
             m.loop_queued == 0 && c->node[i]->sock_count == 0;
    }
    return ok;
}

void chain_close(struct chain *c)
{
    for (int i = 0; i < c->n_nodes; i++)
        tern_stack_free(c->node[i]);
    for (int i = 0; i < c->n_links; i++)
        for (int e = 0; e < 2; e++)
            tern_device_destroy(c->link[i].dev[e]);
    tern_loop_destroy(c->loop);
    memset(c, 0, sizeof *c);
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void sender_info(struct tern_stack *s, uint32_t to, uint16_t port, struct chain_xfer *x)
{
    struct tern_sock_info info[16];
    size_t n = tern_sock_list(s, info, 16);
    for (size_t i = 0; i < n && i < 16; i++) {
        if (info[i].peer.addr == to && info[i].peer.port == port) {
            x->mss = (uint16_t)info[i].mss;
            x->retransmits = info[i].retransmits;
        }
    }
}

int chain_tcp_transfer(struct chain *c, struct tern_stack *from, struct tern_stack *to,
                       uint32_t to_addr, uint16_t port, size_t len, uint64_t max_us,
                       struct chain_xfer *x)
{
    static uint8_t out[16384], in[65536];
    memset(x, 0, sizeof *x);
    int err;
    struct tern_sock *l = tern_sock_open(to, TERN_SOCK_STREAM, &err);
    struct tern_sockaddr la = {0, port}, pa = {to_addr, port};
    if (!l || tern_sock_bind(l, &la) < 0 || tern_sock_listen(l, 4) < 0)
        return -1;
    struct tern_sock *a = tern_sock_open(from, TERN_SOCK_STREAM, &err), *b = NULL;
    if (!a || tern_sock_connect(a, &pa) != TERN_E_INPROGRESS)
        return -1;
    uint64_t start = tern_loop_now(c->loop), end = start + max_us, last = start;
    uint64_t hi = 0xcbf29ce484222325ull, ho = hi, xs = c->seed + port;
    size_t have = 0, off = 0;
    while (x->got < len && tern_loop_now(c->loop) < end) {
        if (!b)
            b = tern_sock_accept(l, NULL, &err);
        for (;;) {
            if (off == have && x->sent < len) {
                size_t k = len - x->sent < sizeof out ? len - x->sent : sizeof out;
                for (size_t i = 0; i < k; i++) {
                    xs = xs * 6364136223846793005ull + 1442695040888963407ull;
                    out[i] = (uint8_t)(xs >> 56);
                }
                hi = fnv(hi, out, k);
                x->sent += k;
                have = k;
                off = 0;
            }
            if (off == have)
                break;
            ssize_t w = tern_sock_send(a, out + off, have - off, 0);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        chain_run(c, 1000);
        ssize_t r;
        while (b && (r = tern_sock_recv(b, in, sizeof in, 0)) > 0) {
            ho = fnv(ho, in, (size_t)r);
            x->got += (size_t)r;
            last = tern_loop_now(c->loop);
        }
    }
    x->hash_ok = x->got == len && hi == ho;
    x->elapsed_us = last - start;
    sender_info(from, to_addr, port, x);
    /* Orderly close from both ends; TIME_WAIT then takes them away. */
    tern_sock_close(a);
    for (int i = 0; b && i < 3000; i++) {
        chain_run(c, 100000);
        uint8_t ch;
        if (tern_sock_recv(b, &ch, 1, 0) == 0)
            break;
    }
    if (b)
        tern_sock_close(b);
    tern_sock_close(l);
    return x->hash_ok ? 0 : -1;
}
