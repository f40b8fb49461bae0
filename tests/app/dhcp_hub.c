/* tests/app/dhcp_hub.c - the shared segment of tests/app/dhcp_hub.h. */
#include "app/dhcp_hub.h"

#include <stdlib.h>
#include <string.h>

#include "tern/wire/bytes.h"
#include "tern/wire/eth.h"
#include "tern/wire/ipv4.h"
#include "tern/wire/udp.h"

static double unit(struct hub *h)
{
    h->rng ^= h->rng >> 12;
    h->rng ^= h->rng << 25;
    h->rng ^= h->rng >> 27;
    return (double)((h->rng * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

/* Logs a frame if it is IPv4/UDP carrying a DHCP message. */
static void log_frame(struct hub *h, int from, const uint8_t *f, size_t len)
{
    struct tern_eth_repr e;
    struct tern_ipv4_repr ip;
    struct tern_udp_repr u;
    struct tern_dhcp_repr d;
    if (h->nlog >= HUB_LOG || tern_eth_parse(f, len, &e) < 0 || e.ethertype != 0x0800)
        return;
    int hl = tern_ipv4_parse(f + 14, len - 14, 0, &ip);
    if (hl < 0 || ip.proto != TERN_IPPROTO_UDP)
        return;
    if (tern_udp_parse(f + 14 + hl, ip.payload_len, ip.src, ip.dst, 0, &u) < 0)
        return;
    if (tern_dhcp_parse(u.payload, u.payload_len, &d) < 0)
        return;
    struct hub_msg *m = &h->log[h->nlog++];
    m->t = tern_loop_now(h->loop);
    m->from = from;
    m->eth_bcast = tern_eth_is_broadcast(e.dst);
    m->ip_src = ip.src;
    m->ip_dst = ip.dst;
    m->type = d.msg_type;
    m->xid = d.xid;
    m->yiaddr = d.yiaddr;
    m->ciaddr = d.ciaddr;
    m->req_ip = d.has_req_ip ? d.req_ip : 0;
}

static void deliver(struct tern_timer *t, void *arg)
{
    (void)t;
    struct hub *h = arg;
    size_t n = h->qn;
    /* deliveries may queue more frames: take a snapshot */
    static uint8_t copy[HUB_Q][1600];
    static size_t clen[HUB_Q];
    static int cfrom[HUB_Q];
    for (size_t i = 0; i < n; i++) {
        memcpy(copy[i], h->q[i].data, h->q[i].len);
        clen[i] = h->q[i].len;
        cfrom[i] = h->q[i].from;
    }
    h->qn = 0;
    for (size_t i = 0; i < n; i++)
        for (int p = 0; p < h->n; p++)
            if (p != cfrom[i] && !h->cut[p])
                tern_device_deliver(h->dev[p], copy[i], clen[i]);
}

static void enqueue(struct hub *h, int from, const uint8_t *f, size_t len)
{
    if (len > 1600 || h->qn >= HUB_Q)
        return;
    log_frame(h, from, f, len);
    if (from >= 0 && h->cut[from])
        return;
    if (h->loss > 0 && unit(h) < h->loss)
        return;
    h->q[h->qn].from = from;
    h->q[h->qn].len = len;
    memcpy(h->q[h->qn].data, f, len);
    h->qn++;
    if (!tern_timer_armed(&h->timer))
        tern_timer_arm(h->loop, &h->timer, tern_loop_now(h->loop) + 1000);
}

static int port_send(void *ctx, const uint8_t *f, size_t len)
{
    struct hub_port *p = ctx;
    enqueue(p->h, p->idx, f, len);
    return 0;
}

struct hub *hub_new(double loss, uint64_t seed)
{
    struct hub *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->loop = tern_loop_virtual_new(0);
    h->loss = loss;
    h->rng = seed * 0x9e3779b97f4a7c15ull + 1;
    tern_timer_init(&h->timer, deliver, h);
    return h;
}

int hub_add(struct hub *h, uint64_t seed, uint32_t addr)
{
    int i = h->n;
    if (i >= HUB_PORTS)
        return -1;
    uint8_t mac[6] = {2, 0, 0, 0, 0, (uint8_t)(i + 1)};
    h->port[i].h = h;
    h->port[i].idx = i;
    h->dev[i] = tern_custom_device_new(TERN_LINK_ETHERNET, 1500, mac, port_send, &h->port[i]);
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.seed = seed;
    h->st[i] = tern_stack_new(&cfg, h->loop);
    if (!h->dev[i] || !h->st[i])
        return -1;
    struct tern_iface_config ic = {.addr = addr, .prefix_len = 24, .up = true};
    memcpy(ic.mac, mac, 6);
    if (tern_stack_add_iface(h->st[i], h->dev[i], &ic) < 0)
        return -1;
    h->n++;
    return i;
}

void hub_free(struct hub *h)
{
    if (tern_timer_armed(&h->timer))
        tern_timer_cancel(h->loop, &h->timer);
    for (int i = 0; i < h->n; i++) {
        tern_stack_free(h->st[i]);
        tern_device_destroy(h->dev[i]);
    }
    tern_loop_destroy(h->loop);
    free(h);
}

void hub_inject_raw_dhcp(struct hub *h, const uint8_t src_mac[6], uint16_t sport, uint16_t dport,
                         const uint8_t *msg, size_t len)
{
    uint8_t f[1600];
    static const uint8_t bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    struct tern_eth_repr e = {.ethertype = 0x0800};
    memcpy(e.dst, bc, 6);
    memcpy(e.src, src_mac, 6);
    tern_eth_emit(&e, f, sizeof f);
    struct tern_udp_repr u = {.sport = sport, .dport = dport, .payload = msg,
                              .payload_len = (uint16_t)len};
    uint32_t src = h->fake_src, dst = 0xffffffffu;
    int ul = tern_udp_emit(&u, src, dst, f + 34, sizeof f - 34);
    struct tern_ipv4_repr ip = {.ttl = 64, .proto = TERN_IPPROTO_UDP, .src = src, .dst = dst,
                                .payload_len = (uint16_t)ul};
    tern_ipv4_emit(&ip, f + 14, 20);
    enqueue(h, HUB_FAKE, f, 34 + (size_t)ul);
}

void hub_inject_dhcp(struct hub *h, const uint8_t src_mac[6], uint16_t sport, uint16_t dport,
                     const struct tern_dhcp_repr *r)
{
    uint8_t m[1024];
    int n = tern_dhcp_emit(r, m, sizeof m);
    if (n > 0)
        hub_inject_raw_dhcp(h, src_mac, sport, dport, m, (size_t)n);
}

int hub_last(const struct hub *h, int from, uint8_t type)
{
    for (size_t i = h->nlog; i-- > 0;)
        if ((from == -2 || h->log[i].from == from) && h->log[i].type == type)
            return (int)i;
    return -1;
}

int hub_count(const struct hub *h, int from, uint8_t type)
{
    int k = 0;
    for (size_t i = 0; i < h->nlog; i++)
        if ((from == -2 || h->log[i].from == from) && h->log[i].type == type)
            k++;
    return k;
}
