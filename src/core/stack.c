/*
 * stack.c - the tern stack object: configuration defaults and validation,
 * creation and teardown, statistics, interfaces, and the receive entry point
 * that dispatches frames by link type and Ethernet type.
 * Not: ARP, IP, ICMP processing (arp.c, ipv4_in.c, ipv4_out.c, icmp.c).
 * RFCs: 894 (IPv4 over Ethernet), 1122 s2.3 (link layer), 3021 (/31).
 */
#include <stdlib.h>
#include <string.h>

#include "core/ip6_impl.h"
#include "core/mcast.h"
#include "core/nat.h"
#include "dev/frame.h"
#include "core/stack_impl.h"
#include "core/tcp_cc.h"
#include "tern/wire/bytes.h"
#include "tern/wire/eth.h"

void tern_config_defaults(struct tern_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = 0;
    cfg->default_ttl = 64;             /* RFC 1700 / Linux ip_default_ttl */
    cfg->arp_cache_max = 256;
    cfg->arp_queue_per_entry = 4;      /* RFC 1122 s2.3.2.2: at least one */
    cfg->arp_queue_total = 64;
    cfg->arp_reachable_us = 30000000;  /* 30 s, Linux base_reachable_time */
    cfg->arp_stale_us = 60000000;      /* 60 s, Linux gc_stale_time */
    cfg->arp_retry_us = 1000000;       /* RFC 1122 s2.3.2.1: at most one request a second */
    cfg->arp_max_requests = 3;         /* Linux mcast_solicit */
    cfg->reasm_max_bytes = 256 * 1024;
    cfg->reasm_max_datagrams = 64;
    cfg->reasm_timeout_us = 30000000;  /* RFC 1122 s3.3.2: 60..120 s suggested; Linux 30 s */
    cfg->max_sockets = 1024;
    cfg->ephemeral_lo = 49152;         /* RFC 6335 s6 dynamic ports */
    cfg->ephemeral_hi = 65535;
    cfg->privileged_ports = false;
    cfg->udp_rcvbuf = 65536;           /* one maximal datagram + record header fits */
    cfg->icmp_rate_per_s = 100;        /* RFC 1812 s4.3.2.8 token bucket */
    cfg->icmp_burst = 50;
    cfg->tcp_sndbuf = 262144;
    cfg->tcp_rcvbuf = 262144;
    cfg->tcp_msl_us = 30000000;        /* 2*MSL = 60 s, Linux TCP_TIMEWAIT_LEN */
    cfg->tcp_tw_mem = 16u << 20; /* >= 128: one record and the first 16 buckets */
    cfg->tcp_mem_low = 192u << 20;
    cfg->tcp_mem_pressure = 256u << 20;
    cfg->tcp_mem_high = 384u << 20;
    cfg->tcp_syn_backlog = 128;
    cfg->tcp_user_timeout_us = 300000000; /* 5 min */
    /* DEVIATION: RFC 6298 s2.4 says the RTO SHOULD be at least 1 s; like
     * Linux we floor it at 200 ms. Without RACK-TLP (RFC 8985) a lost
     * retransmission is found only by the RTO, and a 1 s floor turned each
     * one into a 1 s stall (measured: 100 MB through 5% loss over TAP
     * stalled; 2 MB over a 4 ms RTT with 5% loss took 12.9 s). */
    cfg->tcp_rto_min_us = 200000;
    cfg->ip_forward = false;
    cfg->ecmp = TERN_ECMP_FLOW;
    cfg->pmtu_max = 64;
    cfg->pmtu_timeout_us = 600ull * 1000000;
    cfg->mcast_groups = 32;
    cfg->ipv6 = false;
    cfg->ipv6_eui64 = false;
    cfg->ipv6_dad_transmits = 1;
}

static bool config_valid(const struct tern_config *c)
{
    /* Caps keep every size computation far from overflow. */
    return c->default_ttl != 0 && c->arp_cache_max >= 1 && c->arp_cache_max <= (1u << 20) &&
           c->arp_queue_per_entry >= 1 && c->arp_queue_total >= 1 &&
           c->arp_queue_total <= 4096 && c->arp_reachable_us >= 1 &&
           c->arp_reachable_us <= (1ull << 40) && c->arp_stale_us <= (1ull << 40) &&
           c->arp_retry_us >= 1 && c->arp_retry_us <= (1ull << 36) && c->arp_max_requests >= 1 &&
           c->arp_max_requests <= 16 && c->reasm_timeout_us >= 1 &&
           c->reasm_timeout_us <= (1ull << 40) && c->icmp_rate_per_s <= 1000000 &&
           c->icmp_burst <= 1000000 && c->max_sockets >= 1 && c->max_sockets <= (1u << 20) &&
           c->ephemeral_lo >= 1 && c->ephemeral_lo <= c->ephemeral_hi &&
           c->udp_rcvbuf >= 256 && c->udp_rcvbuf <= (8u << 20) && c->tcp_sndbuf >= 1024 &&
           c->tcp_sndbuf <= (64u << 20) && c->tcp_rcvbuf >= 1024 &&
           c->tcp_rcvbuf <= (64u << 20) && c->tcp_msl_us >= 1 && c->tcp_msl_us <= (1ull << 36) &&
           c->tcp_tw_mem >= 128 && c->tcp_tw_mem <= (1ull << 40) &&
           c->tcp_mem_low <= c->tcp_mem_pressure && c->tcp_mem_pressure <= c->tcp_mem_high &&
           c->tcp_mem_high >= 65536 && c->tcp_mem_high <= (1ull << 48) && c->tcp_syn_backlog >= 1 &&
           c->tcp_syn_backlog <= 65535 &&
           c->tcp_user_timeout_us >= 1 && c->tcp_user_timeout_us <= (1ull << 40) &&
           c->tcp_rto_min_us >= 1000 && c->tcp_rto_min_us <= 60000000 &&
           (c->ecmp == TERN_ECMP_FLOW || c->ecmp == TERN_ECMP_PACKET) && c->pmtu_max <= 4096 &&
           c->pmtu_timeout_us >= 1 && c->pmtu_timeout_us <= (1ull << 40) &&
           c->mcast_groups >= 1 && c->mcast_groups <= 4096 &&
           memchr(c->tcp_cc, 0, sizeof c->tcp_cc) &&
           (!c->tcp_cc[0] || cc_by_name(c->tcp_cc));
}

struct tern_stack *tern_stack_new(const struct tern_config *cfg, struct tern_loop *loop)
{
    if (!cfg || !loop || !config_valid(cfg))
        return NULL;
    struct tern_stack *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    s->loop = loop;
    prng_init(&s->rng, cfg->seed);
    s->route_gen = 1; /* a zeroed route cache (gen 0) is empty */
    tern_timer_init(&s->reasm_timer, reasm_timer_fn, s);
    tern_timer_init(&s->lq.timer, loopq_timer_fn, s);
    tern_timer_init(&s->rxq_timer, rxq_timer_fn, s);
    tern_timer_init(&s->arp.timer, NULL, NULL); /* arp_init sets fn */
    /* RFC 7739 s5.3: each ID counter starts at a random value. */
    for (int i = 0; i < TERN_IPID_BUCKETS; i++)
        s->ip_id[i] = (uint16_t)prng_next(&s->rng);
    s->icmp_tokens = (uint64_t)cfg->icmp_burst * 1000000u;
    s->icmp_last = tern_loop_now(loop);
    struct tern_reasm_config rc = {.max_bytes = cfg->reasm_max_bytes,
                                   .max_datagrams = cfg->reasm_max_datagrams,
                                   .timeout_us = cfg->reasm_timeout_us};
    s->reasm = ip_reasm_new(&rc);
    /* Frame buffers: the one being built (txbuf) and those sent by
     * reference, at most TERN_TX_FRAMES out at once (then by copy). */
    s->fpool = frame_pool_new(TERN_ETH_HLEN + TERN_IPV4_MAX_LEN, TERN_TX_FRAMES, 1);
    s->txf = s->fpool ? frame_get(s->fpool) : NULL;
    s->txbuf = s->txf ? s->txf->data : NULL;
    s->icmpbuf = malloc(TERN_IPV4_MAX_LEN);
    s->lq.buf = malloc(TERN_LOOPQ_BYTES);
    if (!s->reasm || !s->txbuf || !s->icmpbuf || !s->lq.buf || pmtu_init(s) < 0 ||
        arp_init(s) < 0 || mcast_init(s) < 0 || sock_init(s) < 0 || udp_init(s) < 0 ||
        tcp_init(s) < 0 || (cfg->ipv6 && ip6_init(s) < 0)) {
        tern_stack_free(s);
        return NULL;
    }
    return s;
}

void tern_stack_free(struct tern_stack *s)
{
    if (!s)
        return;
    if (tern_timer_armed(&s->reasm_timer))
        tern_timer_cancel(s->loop, &s->reasm_timer);
    if (tern_timer_armed(&s->lq.timer))
        tern_timer_cancel(s->loop, &s->lq.timer);
    if (tern_timer_armed(&s->rxq_timer))
        tern_timer_cancel(s->loop, &s->rxq_timer);
    while (s->rxq_head) {
        struct tern_frame *f = s->rxq_head;
        s->rxq_head = f->next;
        tern_frame_free(f);
    }
    for (int i = 0; i < TERN_MAX_IFACES; i++) {
        struct tern_iface *ifc = &s->ifaces[i];
        /* The device outlives us: make sure it never calls back. */
        if (ifc->used && ifc->dev && ifc->dev->rx_ctx == ifc)
            tern_device_set_rx(ifc->dev, NULL, NULL);
    }
    arp_probe_fini(s);
    ip6_fini(s);
    nat_stack_free(s);
    arp_free(s);
    route_free(s);
    tcp_fini(s);
    sock_fini(s);
    mcast_fini(s);
    ip_reasm_free(s->reasm);
    pmtu_fini(s);
    tern_frame_free(s->txf);
    frame_pool_release(s->fpool); /* frames still queued on a link free it later */
    free(s->icmpbuf);
    free(s->lq.buf);
    free(s);
}

uint64_t tern_stack_random(struct tern_stack *s) { return prng_next(&s->rng); }

const struct tern_stats *tern_stack_stats(const struct tern_stack *s)
{
    return &s->stats;
}

void stack_mem_usage(const struct tern_stack *s, struct tern_stack_mem *m)
{
    m->arp_entries = s->arp.count;
    m->arp_queued = arp_queued(s);
    m->reasm_bytes = ip_reasm_bytes_held(s->reasm);
    m->reasm_datagrams = ip_reasm_datagrams_held(s->reasm);
    m->loop_queued = s->lq.count;
    m->sockets = s->sock_count;
    if (s->v6) { /* the IPv6 tables count with their IPv4 twins */
        m->arp_entries += s->v6->nd_count;
        m->arp_queued += nd6_queued(s);
        m->reasm_bytes += ip_reasm_bytes_held(s->v6->reasm);
        m->reasm_datagrams += ip_reasm_datagrams_held(s->v6->reasm);
    }
    tcp_mem_usage(s, m);
}

struct tern_iface *stack_iface(struct tern_stack *s, int ifindex)
{
    if (ifindex < 0 || ifindex >= TERN_MAX_IFACES || !s->ifaces[ifindex].used)
        return NULL;
    return &s->ifaces[ifindex];
}

struct tern_iface *stack_iface_by_addr(struct tern_stack *s, uint32_t addr)
{
    if (addr == 0)
        return NULL;
    for (int i = 0; i < s->n_ifaces; i++)
        if (s->ifaces[i].used && s->ifaces[i].addr == addr)
            return &s->ifaces[i];
    return NULL;
}

struct tern_iface *stack_first_up_iface(struct tern_stack *s)
{
    for (int i = 0; i < s->n_ifaces; i++)
        if (s->ifaces[i].used && s->ifaces[i].up)
            return &s->ifaces[i];
    return NULL;
}

bool stack_is_our_addr(const struct tern_stack *s, uint32_t addr)
{
    return stack_iface_by_addr((struct tern_stack *)s, addr) != NULL;
}

bool stack_is_bcast(const struct tern_stack *s, uint32_t addr)
{
    if (addr == 0xffffffffu)
        return true;
    for (int i = 0; i < s->n_ifaces; i++)
        if (s->ifaces[i].used && s->ifaces[i].bcast && s->ifaces[i].bcast == addr)
            return true;
    return false;
}

/* Ethernet receive: ATTACKS 1 (the length is checked before any field is
 * read), then RFC 894 demultiplexing by ethertype. */
static void eth_input(struct tern_stack *s, struct tern_iface *ifc, const uint8_t *frame,
                      size_t len, uint64_t now)
{
    struct tern_eth_repr eth;
    if (len < TERN_ETH_HLEN) {
        s->stats.eth.drop_short++;
        return;
    }
    if (tern_eth_parse(frame, len, &eth) < 0) {
        s->stats.eth.drop_unknown_type++; /* 802.3 length field: not ours */
        return;
    }
    bool bcast = tern_eth_is_broadcast(eth.dst);
    bool mcast = !bcast && tern_eth_is_multicast(eth.dst);
    /* Unicast to us, broadcast, a group joined on this interface (RFC 1112
     * s6.4 mapping; igmp.c) or, for IPv6, a group the NDP listens to
     * (ip6_mcast_mac_listening): other groups' frames are dropped. */
    if (mcast) {
        bool want = false;
        if (eth.ethertype == TERN_ETHERTYPE_IPV4)
            want = mcast_mac_wanted(s, ifc->index, eth.dst);
        else if (eth.ethertype == TERN_ETHERTYPE_IPV6)
            want = s->v6 && ip6_mcast_mac_listening(s, ifc->index, eth.dst);
        if (!want) {
            s->stats.eth.drop_not_for_us++;
            return;
        }
        bcast = true; /* a link-layer multicast: no ICMP errors about it */
    } else if (!bcast && memcmp(eth.dst, ifc->mac, 6) != 0) {
        s->stats.eth.drop_not_for_us++;
        return;
    }
    const uint8_t *p = frame + TERN_ETH_HLEN;
    size_t n = len - TERN_ETH_HLEN;
    switch (eth.ethertype) {
    case TERN_ETHERTYPE_IPV4:
        ipv4_input(s, ifc, p, n, bcast, false, now);
        break;
    case TERN_ETHERTYPE_ARP:
        arp_input(s, ifc, p, n, now);
        break;
    case TERN_ETHERTYPE_IPV6:
        if (!s->v6) {
            s->stats.eth.drop_unknown_type++;
            break;
        }
        ipv6_input(s, ifc, p, n, bcast, now);
        break;
    default:
        s->stats.eth.drop_unknown_type++;
        break;
    }
}

/* A frame a device delivered from inside its own send (dev_depth > 0,
 * ipv4_out.c): copied into a frame of the pool, behind a 16-byte record
 * [u32 len][u32 ifindex][u32 rx_flags], and received on the next turn.
 * None can be delivered while the pool is exhausted: dropped and counted. */
#define RXQ_HDR 16u

static void rxq_defer(struct tern_stack *s, struct tern_iface *ifc, struct tern_device *dev,
                      const uint8_t *frame, size_t len)
{
    struct tern_frame *f = s->fpool ? frame_get(s->fpool) : NULL;
    if (!f || len > f->cap - RXQ_HDR) {
        tern_frame_free(f);
        dev->stats.rx_dropped++;
        return;
    }
    tern_put32(f->data, (uint32_t)len);
    tern_put32(f->data + 4, (uint32_t)ifc->index);
    tern_put32(f->data + 8, dev->rx_flags);
    memcpy(f->data + RXQ_HDR, frame, len);
    f->next = NULL;
    if (s->rxq_tail)
        s->rxq_tail->next = f;
    else
        s->rxq_head = f;
    s->rxq_tail = f;
    if (!tern_timer_armed(&s->rxq_timer))
        tern_timer_arm(s->loop, &s->rxq_timer, tern_loop_now(s->loop));
}

static void iface_rx(void *ctx, struct tern_device *dev, const uint8_t *frame, size_t len);

void rxq_timer_fn(struct tern_timer *t, void *arg)
{
    struct tern_stack *s = arg;
    (void)t;
    /* Only what was queued before this turn: a frame delivered during a
     * send made below lands on a fresh list and waits for the next. */
    struct tern_frame *f = s->rxq_head;
    s->rxq_head = s->rxq_tail = NULL;
    while (f) {
        struct tern_frame *next = f->next;
        struct tern_iface *ifc = stack_iface(s, (int)tern_get32(f->data + 4));
        if (ifc && ifc->dev) {
            struct tern_device *dev = ifc->dev;
            unsigned saved = dev->rx_flags;
            dev->rx_flags = tern_get32(f->data + 8);
            iface_rx(ifc, dev, f->data + RXQ_HDR, tern_get32(f->data));
            dev->rx_flags = saved;
        }
        tern_frame_free(f);
        f = next;
    }
}

static void iface_rx(void *ctx, struct tern_device *dev, const uint8_t *frame, size_t len)
{
    struct tern_iface *ifc = ctx;
    struct tern_stack *s = ifc->s;
    if (s->dev_depth) {
        rxq_defer(s, ifc, dev, frame, len);
        return;
    }
    uint64_t now = tern_loop_now(s->loop);
    if (ifc->link == TERN_LINK_RAW_IP) {
        if (!ifc->up) {
            s->stats.ip.rx++;
            s->stats.ip.drop_not_for_us++;
            return;
        }
        ipv4_input(s, ifc, frame, len, false, false, now);
        return;
    }
    s->stats.eth.rx++;
    if (!ifc->up) {
        s->stats.eth.drop_not_for_us++;
        return;
    }
    eth_input(s, ifc, frame, len, now);
}

static void iface_set_addr(struct tern_iface *ifc, uint32_t addr, uint8_t prefix_len)
{
    ifc->addr = addr;
    ifc->prefix_len = prefix_len;
    ifc->mask = prefix_len ? 0xffffffffu << (32 - prefix_len) : 0;
    /* RFC 3021: /31 and /32 have no directed broadcast. */
    ifc->bcast = (addr && prefix_len < 31) ? (addr | ~ifc->mask) : 0;
}

int tern_stack_add_iface(struct tern_stack *s, struct tern_device *dev,
                         const struct tern_iface_config *cfg)
{
    if (!s || !dev || !cfg || cfg->prefix_len > 32)
        return TERN_E_INVAL;
    if (dev->link != TERN_LINK_ETHERNET && dev->link != TERN_LINK_RAW_IP)
        return TERN_E_INVAL;
    if (s->n_ifaces >= TERN_MAX_IFACES)
        return TERN_E_NOMEM;
    uint16_t mtu = cfg->mtu ? cfg->mtu : dev->mtu;
    /* RFC 791 s3.2: every host must handle 68-byte datagrams unfragmented. */
    if (mtu < 68 || (cfg->mtu && dev->mtu && cfg->mtu > dev->mtu))
        return TERN_E_INVAL;
    /* A usable host address: not 0 (unless unset), multicast, class E,
     * loopback, or the broadcast of its own subnet. */
    if (cfg->addr && (ip_is_multicast(cfg->addr) || ip_is_class_e(cfg->addr) ||
                      ip_is_loopback(cfg->addr) || (cfg->addr >> 24) == 0))
        return TERN_E_INVAL;
    int idx = s->n_ifaces;
    struct tern_iface *ifc = &s->ifaces[idx];
    memset(ifc, 0, sizeof *ifc);
    ifc->s = s;
    ifc->dev = dev;
    ifc->index = idx;
    ifc->link = dev->link;
    ifc->mtu = mtu;
    iface_set_addr(ifc, cfg->addr, cfg->prefix_len);
    if (ifc->bcast && ifc->bcast == cfg->addr)
        return TERN_E_INVAL;
    if (ifc->link == TERN_LINK_ETHERNET) {
        static const uint8_t zero[6];
        memcpy(ifc->mac, memcmp(cfg->mac, zero, 6) ? cfg->mac : dev->mac, 6);
        if (tern_eth_is_multicast(ifc->mac) || tern_eth_is_zero(ifc->mac))
            return TERN_E_INVAL;
        int rc = arp_grow_queue(s, mtu);
        if (rc == TERN_OK && s->v6)
            rc = nd6_grow_queue(s, mtu);
        if (rc < 0)
            return rc;
    }
    ifc->used = true;
    s->n_ifaces++;
    route_iface_changed(s, ifc);
    tern_device_set_rx(dev, iface_rx, ifc);
    if (cfg->up)
        tern_iface_set_up(s, idx, true);
    return idx;
}

int tern_iface_set_up(struct tern_stack *s, int ifindex, bool up)
{
    struct tern_iface *ifc = stack_iface(s, ifindex);
    if (!ifc)
        return TERN_E_INVAL;
    if (ifc->up == up)
        return TERN_OK;
    ifc->up = up;
    route_gen_bump(s); /* routes through ifc (un)usable: cached ones too */
    if (up) {
        /* RFC 5227 s3 / RFC 826: announce our address with a gratuitous
         * request so neighbours refresh stale entries. */
        if (ifc->link == TERN_LINK_ETHERNET && ifc->addr)
            arp_announce(s, ifc);
    } else {
        arp_flush_iface(s, ifc);
    }
    if (s->v6)
        ip6_iface_up(s, ifc, up, tern_loop_now(s->loop));
    return TERN_OK;
}

int tern_iface_set_addr(struct tern_stack *s, int ifindex, uint32_t addr, uint8_t prefix_len)
{
    struct tern_iface *ifc = s ? stack_iface(s, ifindex) : NULL;
    if (!ifc || prefix_len > 32)
        return TERN_E_INVAL;
    if (addr && (ip_is_multicast(addr) || ip_is_class_e(addr) || ip_is_loopback(addr) ||
                 (addr >> 24) == 0))
        return TERN_E_INVAL;
    uint32_t mask = prefix_len ? 0xffffffffu << (32 - prefix_len) : 0;
    if (addr && prefix_len < 31 && (addr | ~mask) == addr)
        return TERN_E_INVAL; /* the subnet's broadcast address */
    /* Drop the old connected route (it follows the old prefix), then set
     * the new address and its route. */
    uint32_t old_addr = ifc->addr;
    ifc->addr = 0;
    route_iface_changed(s, ifc);
    iface_set_addr(ifc, addr, prefix_len);
    route_iface_changed(s, ifc);
    /* RFC 5227 s2.3: announce a new address (gratuitous ARP). */
    if (addr && addr != old_addr && ifc->up && ifc->link == TERN_LINK_ETHERNET)
        arp_announce(s, ifc);
    return TERN_OK;
}

int tern_iface_get(struct tern_stack *s, int ifindex, struct tern_iface_config *out)
{
    struct tern_iface *ifc = stack_iface(s, ifindex);
    if (!ifc || !out)
        return TERN_E_INVAL;
    memset(out, 0, sizeof *out);
    out->addr = ifc->addr;
    out->prefix_len = ifc->prefix_len;
    out->mtu = ifc->mtu;
    memcpy(out->mac, ifc->mac, 6);
    out->up = ifc->up;
    return TERN_OK;
}

int tern_stack_register_proto(struct tern_stack *s, uint8_t proto,
                              const struct tern_proto_handler *h)
{
    if (!s || proto == TERN_IPPROTO_ICMP)
        return TERN_E_INVAL; /* ICMP is the stack's own */
    if (!h) {
        memset(&s->proto[proto], 0, sizeof s->proto[proto]);
        return TERN_OK;
    }
    if (!h->input)
        return TERN_E_INVAL;
    s->proto[proto] = *h;
    return TERN_OK;
}
