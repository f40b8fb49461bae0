/*
 * tests/core/world.c - the state world for core tests (see world.h).
 * Test code: may allocate and print freely.
 */
#include "world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tern/wire/arp.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"
#include "tern/wire/eth.h"
#include "tern/wire/icmp.h"

const uint8_t w_mac_us[6] = {0x02, 0, 0, 0, 0, 0x01};
const uint8_t w_mac_peer[6] = {0x02, 0, 0, 0, 0, 0x02};
const uint8_t w_mac_other[6] = {0x02, 0, 0, 0, 0, 0x03};
const uint8_t w_mac_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static int cap_send(void *ctx, const uint8_t *frame, size_t len)
{
    struct world *w = ctx;
    w->total_sent++;
    if (w->count == W_MAXF)
        return TERN_E_NOMEM;
    size_t i = (w->head + w->count) % W_MAXF;
    w->f[i] = malloc(len ? len : 1);
    memcpy(w->f[i], frame, len);
    w->flen[i] = len;
    w->at[i] = tern_loop_now(w->loop);
    w->count++;
    return 0;
}

struct world *world_new_link(const struct tern_config *cfg, enum tern_link_type link,
                             uint16_t mtu)
{
    struct world *w = calloc(1, sizeof *w);
    struct tern_config c;
    if (cfg) {
        c = *cfg;
    } else {
        tern_config_defaults(&c);
        c.seed = 1;
    }
    w->loop = tern_loop_virtual_new(W_T0);
    w->s = tern_stack_new(&c, w->loop);
    w->dev = tern_custom_device_new(link, mtu, w_mac_us, cap_send, w);
    struct tern_iface_config ic = {.addr = W_US, .prefix_len = 24, .up = true};
    w->ifindex = tern_stack_add_iface(w->s, w->dev, &ic);
    return w;
}

struct world *world_new(const struct tern_config *cfg)
{
    struct world *w = world_new_link(cfg, TERN_LINK_ETHERNET, 1500);
    world_drain(w); /* the gratuitous ARP; arp_test checks it */
    return w;
}

void world_inject(struct world *w, const uint8_t *frame, size_t len)
{
    /* An exact-size heap copy so ASan sees any read past the frame. */
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, frame, len);
    tern_device_deliver(w->dev, copy, len);
    free(copy);
}

static uint8_t *last_popped;

const uint8_t *world_pop(struct world *w, size_t *len)
{
    free(last_popped);
    last_popped = NULL;
    if (!w->count)
        return NULL;
    last_popped = w->f[w->head];
    *len = w->flen[w->head];
    w->head = (w->head + 1) % W_MAXF;
    w->count--;
    return last_popped;
}

size_t world_pending(const struct world *w)
{
    return w->count;
}

static bool is_arp(const struct world *w, size_t i)
{
    return w->flen[i] >= 14 && w->f[i][12] == 0x08 && w->f[i][13] == 0x06;
}

const uint8_t *world_pop_ip(struct world *w, size_t *len)
{
    const uint8_t *f;
    while ((f = world_pop(w, len)) != NULL)
        if (!(*len >= 14 && f[12] == 0x08 && f[13] == 0x06))
            return f;
    return NULL;
}

size_t world_pending_ip(struct world *w)
{
    size_t keep = 0, n = w->count;
    for (size_t k = 0; k < n; k++) {
        size_t i = (w->head + k) % W_MAXF;
        if (is_arp(w, i)) {
            free(w->f[i]);
        } else {
            size_t j = (w->head + keep) % W_MAXF;
            w->f[j] = w->f[i];
            w->flen[j] = w->flen[i];
            w->at[j] = w->at[i];
            keep++;
        }
    }
    w->count = keep;
    return keep;
}

void world_drain(struct world *w)
{
    size_t n;
    while (world_pop(w, &n))
        ;
    free(last_popped);
    last_popped = NULL;
}

void world_run(struct world *w, uint64_t us)
{
    tern_loop_run(w->loop, tern_loop_now(w->loop) + us);
}

void world_end(struct world *w)
{
    world_run(w, 200ull * 1000000u);
    struct tern_stack_mem m;
    stack_mem_usage(w->s, &m);
    CHECK_EQ(m.arp_queued, 0);
    CHECK_EQ(m.arp_entries, 0);
    CHECK_EQ(m.reasm_bytes, 0);
    CHECK_EQ(m.reasm_datagrams, 0);
    CHECK_EQ(m.loop_queued, 0);
    /* No TCP connection outlives its test (TIME_WAIT is over after 200 s). */
    CHECK_EQ(m.tcp_conns, 0);
    CHECK_EQ(m.tcp_ring_bytes, 0);
    CHECK_EQ(m.tcp_time_wait, 0);
    CHECK_EQ(m.tcp_syn_reqs, 0); /* SYN-queue records give up after 3 minutes (R2) */
    CHECK_EQ(m.tcp_cold, 0);     /* cold blocks go with their connections (tcp_cold.c) */
    world_drain(w);
    tern_stack_free(w->s);
    tern_device_destroy(w->dev);
    tern_loop_destroy(w->loop);
    free(w);
}

void world_learn_peer(struct world *w)
{
    uint8_t f[64];
    static const uint8_t zero[6];
    size_t n = w_arp_frame(f, TERN_ARP_REQUEST, w_mac_bcast, w_mac_peer, W_PEER, zero, W_US);
    world_inject(w, f, n);
    size_t len;
    const uint8_t *r = world_pop(w, &len);
    CHECK(r != NULL);
}

size_t w_eth(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], uint16_t type,
             const uint8_t *payload, size_t len)
{
    struct tern_eth_repr e = {.ethertype = type};
    memcpy(e.dst, dst, 6);
    memcpy(e.src, src, 6);
    tern_eth_emit(&e, buf, TERN_ETH_HLEN);
    if (len)
        memmove(buf + TERN_ETH_HLEN, payload, len);
    return TERN_ETH_HLEN + len;
}

size_t w_ip_frame(uint8_t *buf, const struct tern_ipv4_repr *ip, const uint8_t *payload,
                  size_t len)
{
    struct tern_ipv4_repr r = *ip;
    r.payload_len = (uint16_t)len;
    struct tern_eth_repr e = {.ethertype = TERN_ETHERTYPE_IPV4};
    memcpy(e.dst, w_mac_us, 6);
    memcpy(e.src, w_mac_peer, 6);
    tern_eth_emit(&e, buf, TERN_ETH_HLEN);
    int h = tern_ipv4_emit(&r, buf + TERN_ETH_HLEN, 100);
    if (len)
        memcpy(buf + TERN_ETH_HLEN + h, payload, len);
    return TERN_ETH_HLEN + (size_t)h + len;
}

struct tern_ipv4_repr w_ip(uint32_t src, uint32_t dst, uint8_t proto, uint16_t id)
{
    struct tern_ipv4_repr r;
    memset(&r, 0, sizeof r);
    r.ttl = 64;
    r.src = src;
    r.dst = dst;
    r.proto = proto;
    r.id = id;
    return r;
}

size_t w_icmp(uint8_t *buf, uint8_t type, uint8_t code, uint32_t rest, const uint8_t *data,
              size_t len)
{
    buf[0] = type;
    buf[1] = code;
    tern_put16(buf + 2, 0);
    tern_put32(buf + 4, rest);
    if (len)
        memmove(buf + 8, data, len);
    tern_put16(buf + 2, tern_csum(buf, 8 + len));
    return 8 + len;
}

size_t w_arp_frame(uint8_t *buf, uint16_t op, const uint8_t eth_dst[6], const uint8_t sha[6],
                   uint32_t spa, const uint8_t tha[6], uint32_t tpa)
{
    struct tern_arp_repr a = {.op = op, .spa = spa, .tpa = tpa};
    memcpy(a.sha, sha, 6);
    memcpy(a.tha, tha, 6);
    uint8_t p[TERN_ARP_LEN];
    tern_arp_emit(&a, p, sizeof p);
    return w_eth(buf, eth_dst, sha, TERN_ETHERTYPE_ARP, p, sizeof p);
}

void w_echo_cb(void *ctx, const struct tern_echo_event *ev)
{
    struct w_echo_log *l = ctx;
    l->n++;
    l->last = *ev;
    size_t n = ev->len < sizeof l->data ? ev->len : sizeof l->data;
    if (n)
        memcpy(l->data, ev->data, n);
    l->last.data = l->data;
}

static void rec_input(void *ctx, const struct tern_ipv4_repr *ip, const uint8_t *payload,
                      size_t len, int ifindex)
{
    struct w_proto_log *l = ctx;
    l->n_input++;
    l->ip = *ip;
    l->len = len;
    memcpy(l->payload, payload, len);
    l->ifindex = ifindex;
}

static void rec_err(void *ctx, uint8_t type, uint8_t code, uint16_t next_mtu,
                    const struct tern_icmp_quote *q)
{
    struct w_proto_log *l = ctx;
    l->n_err++;
    l->type = type;
    l->code = code;
    l->next_mtu = next_mtu;
    l->q = *q;
    size_t n = q->l4_len < sizeof l->quote_l4 ? q->l4_len : sizeof l->quote_l4;
    memcpy(l->quote_l4, q->l4, n);
    l->q.l4 = l->quote_l4;
}

void w_proto_record(struct world *w, uint8_t proto, struct w_proto_log *log)
{
    memset(log, 0, sizeof *log);
    struct tern_proto_handler h = {.input = rec_input, .icmp_error = rec_err, .ctx = log};
    CHECK_EQ(tern_stack_register_proto(w->s, proto, &h), 0);
}

static void dump(const char *what, const uint8_t *p, size_t n)
{
    fprintf(stderr, "    %s (%zu):", what, n);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s%02x", i % 16 ? " " : "\n      ", p[i]);
    fprintf(stderr, "\n");
}

bool w_frame_eq(const uint8_t *got, size_t glen, const uint8_t *want, size_t wlen)
{
    if (got && glen == wlen && memcmp(got, want, wlen) == 0)
        return true;
    if (got)
        dump("got", got, glen);
    else
        fprintf(stderr, "    got no frame\n");
    dump("want", want, wlen);
    return false;
}

bool w_frame_eq_id(const uint8_t *got, size_t glen, const uint8_t *want, size_t wlen,
                   uint16_t id)
{
    uint8_t *copy = malloc(wlen);
    memcpy(copy, want, wlen);
    if (wlen >= 34) {
        uint8_t *ip = copy + 14;
        size_t hl = (size_t)(ip[0] & 15) * 4;
        tern_put16(ip + 4, id);
        tern_put16(ip + 10, 0);
        tern_put16(ip + 10, tern_csum(ip, hl));
    }
    bool ok = w_frame_eq(got, glen, copy, wlen);
    free(copy);
    return ok;
}
