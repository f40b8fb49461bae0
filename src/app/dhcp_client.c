/*
 * src/app/dhcp_client.c - the DHCP client state machine (see dhcp_client.h).
 *
 * RFC 2131 s4.4 (client states), s4.1 (retransmission: 4 s doubling to 64 s,
 * +-1 s), s4.4.5 (T1/T2, retransmission in RENEWING/REBINDING), s3.1.5
 * (DECLINE, then restart after 10 s); RFC 5227 s2.1 (the probe, done by the
 * stack's tern_arp_probe).
 * DEVIATION: the first DISCOVER goes out at once instead of after RFC 2131
 * s4.4.1's random 1-10 s wait; tools start one client per host, and Linux
 * clients (dhclient, udhcpc) do the same.
 * DEVIATION: an ACK without a lease time (RFC 2131 table 3 makes it
 * mandatory) is ignored rather than guessed at.
 */
#include "app/dhcp_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/dhcp_lease.h"
#include "tern/socket.h"

#define INFINITE_LEASE 0xffffffffu
#define MSG_MAX 576 /* RFC 2131 s2: a client must accept 576-byte messages */

struct tern_dhcp_client {
    struct tern_stack *stack;
    struct tern_loop *loop;
    struct tern_dhcp_client_opts o;
    tern_dhcp_fn fn;
    void *ctx;
    struct tern_sock *sk;
    uint8_t mac[6];
    uint8_t cid[7];          /* option 61: type 1 (Ethernet) + MAC, RFC 2132 s9.14 */
    enum tern_dhcp_state st;
    uint32_t xid;
    uint64_t rto;            /* current retransmission delay */
    uint32_t tries;          /* REQUESTs sent in REQUESTING */
    uint64_t started;        /* start of this exchange, for 'secs' */
    struct tern_dhcp_lease offer; /* SELECTING/REQUESTING: the chosen offer */
    struct tern_dhcp_lease lease; /* BOUND and after */
    bool have_addr, have_route;
    uint64_t t_bound;        /* when the current lease started */
    bool probing;            /* a probe is outstanding (cancelled by free) */
    struct tern_timer retx, t1, t2, expire;
    struct dhcp_client_stats stats;
};

static const uint8_t prl[] = {TERN_DHCP_OPT_MASK, TERN_DHCP_OPT_ROUTER, TERN_DHCP_OPT_DNS,
                              TERN_DHCP_OPT_HOSTNAME, TERN_DHCP_OPT_LEASE, TERN_DHCP_OPT_T1,
                              TERN_DHCP_OPT_T2};

const char *dhcp_state_name(enum tern_dhcp_state st)
{
    static const char *const n[] = {"INIT", "SELECTING", "REQUESTING", "PROBING",
                                    "BOUND", "RENEWING", "REBINDING"};
    return (unsigned)st < sizeof n / sizeof n[0] ? n[st] : "?";
}

/* xids and jitter from the stack's keyed generator (ATTACKS G4) */
static uint64_t rnd(struct tern_dhcp_client *c) { return tern_stack_random(c->stack); }

static uint64_t now(struct tern_dhcp_client *c) { return tern_loop_now(c->loop); }

/* RFC 2131 s4.1: the delay randomised by +-jitter. */
static uint64_t jittered(struct tern_dhcp_client *c, uint64_t d)
{
    uint64_t j = c->o.jitter_us;
    if (!j)
        return d;
    uint64_t r = rnd(c) % (2 * j + 1);
    return d + r > j ? d + r - j : 1;
}

static void arm_backoff(struct tern_dhcp_client *c)
{
    tern_timer_arm(c->loop, &c->retx, now(c) + jittered(c, c->rto));
    c->rto = c->rto * 2 > c->o.rto_max_us ? c->o.rto_max_us : c->rto * 2;
}

/* Builds and sends one client message. to = 0: the limited broadcast. */
static void send_msg(struct tern_dhcp_client *c, uint8_t type, uint32_t to)
{
    struct tern_dhcp_repr r;
    memset(&r, 0, sizeof r);
    r.op = TERN_DHCP_BOOTREQUEST;
    r.htype = 1;
    r.hlen = 6;
    r.xid = c->xid;
    uint64_t secs = (now(c) - c->started) / 1000000;
    r.secs = (uint16_t)(secs > 0xffff ? 0xffff : secs);
    memcpy(r.chaddr, c->mac, 6);
    r.msg_type = type;
    r.client_id = c->cid;
    r.client_id_len = sizeof c->cid;
    bool bound = c->st == TERN_DHCPC_RENEWING || c->st == TERN_DHCPC_REBINDING ||
                 (type == TERN_DHCP_RELEASE);
    if (bound) {
        /* RFC 2131 table 5: ciaddr = our address in RENEWING, REBINDING, RELEASE */
        r.ciaddr = c->lease.addr;
    } else {
        /* s4.1: we cannot take unicast before we have an address */
        r.flags = TERN_DHCP_FLAG_BROADCAST;
    }
    if (type == TERN_DHCP_REQUEST && c->st == TERN_DHCPC_REQUESTING) {
        r.has_req_ip = r.has_server_id = true; /* s4.3.2 SELECTING-state REQUEST */
        r.req_ip = c->offer.addr;
        r.server_id = c->offer.server;
    }
    if (type == TERN_DHCP_DECLINE) {
        r.flags = 0;
        r.has_req_ip = r.has_server_id = true; /* table 5 */
        r.req_ip = c->offer.addr;
        r.server_id = c->offer.server;
    }
    if (type == TERN_DHCP_RELEASE) {
        r.has_server_id = true;
        r.server_id = c->lease.server;
    }
    if (type == TERN_DHCP_DISCOVER || type == TERN_DHCP_REQUEST) {
        r.prl = prl;
        r.prl_len = sizeof prl;
        if (c->o.hostname && *c->o.hostname) {
            size_t n = strlen(c->o.hostname);
            r.hostname = (const uint8_t *)c->o.hostname;
            r.hostname_len = (uint8_t)(n > 63 ? 63 : n);
        }
    }
    uint8_t buf[MSG_MAX];
    int n = tern_dhcp_emit(&r, buf, sizeof buf);
    if (n < 0)
        return;
    struct tern_sockaddr dst = {.addr = to ? to : 0xffffffffu, .port = TERN_DHCP_SERVER_PORT};
    (void)tern_sock_sendto(c->sk, buf, (size_t)n, 0, &dst);
    switch (type) {
    case TERN_DHCP_DISCOVER: c->stats.discovers++; break;
    case TERN_DHCP_REQUEST: c->stats.requests++; break;
    case TERN_DHCP_DECLINE: c->stats.declines++; break;
    default: break;
    }
}

static void cancel_lease_timers(struct tern_dhcp_client *c)
{
    tern_timer_cancel(c->loop, &c->t1);
    tern_timer_cancel(c->loop, &c->t2);
    tern_timer_cancel(c->loop, &c->expire);
}

static void drop_addr(struct tern_dhcp_client *c)
{
    if (c->have_route)
        tern_route_del(c->stack, 0, 0);
    if (c->have_addr)
        tern_iface_set_addr(c->stack, c->o.ifindex, 0, 0);
    c->have_addr = c->have_route = false;
}

/* INIT: a new transaction, DISCOVER now (RFC 2131 s4.4.1). */
static void start_init(struct tern_dhcp_client *c)
{
    cancel_lease_timers(c);
    c->st = TERN_DHCPC_SELECTING;
    c->xid = (uint32_t)rnd(c);
    c->started = now(c);
    c->rto = c->o.rto_initial_us;
    send_msg(c, TERN_DHCP_DISCOVER, 0);
    arm_backoff(c);
}

static void lost(struct tern_dhcp_client *c, enum tern_dhcp_event ev)
{
    drop_addr(c);
    cancel_lease_timers(c);
    struct tern_dhcp_lease l = c->lease;
    memset(&c->lease, 0, sizeof c->lease);
    if (c->fn)
        c->fn(c->ctx, ev, &l);
    start_init(c);
}

/* Retransmission timer: what it does depends on the state. */
static void on_retx(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tern_dhcp_client *c = arg;
    switch (c->st) {
    case TERN_DHCPC_INIT:
        start_init(c); /* after a DECLINE */
        break;
    case TERN_DHCPC_SELECTING:
        send_msg(c, TERN_DHCP_DISCOVER, 0);
        arm_backoff(c);
        break;
    case TERN_DHCPC_REQUESTING:
        /* s3.1 step 5: no ACK or NAK after the retransmissions -> INIT */
        if (c->tries >= c->o.request_tries) {
            start_init(c);
            break;
        }
        c->tries++;
        send_msg(c, TERN_DHCP_REQUEST, 0);
        arm_backoff(c);
        break;
    case TERN_DHCPC_RENEWING:
    case TERN_DHCPC_REBINDING: {
        /* s4.4.5: wait half the time left until T2 (RENEWING) or expiry
         * (REBINDING), at least renew_min; the T2/expiry timers take over */
        send_msg(c, TERN_DHCP_REQUEST, c->st == TERN_DHCPC_RENEWING ? c->lease.server : 0);
        uint64_t end = c->st == TERN_DHCPC_RENEWING ? c->t2.when : c->expire.when;
        uint64_t n = now(c), wait = end > n ? (end - n) / 2 : 0;
        if (wait < c->o.renew_min_us)
            wait = c->o.renew_min_us;
        tern_timer_arm(c->loop, &c->retx, n + wait);
        break;
    }
    default:
        break;
    }
}

static void on_t1(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tern_dhcp_client *c = arg;
    c->st = TERN_DHCPC_RENEWING; /* s4.4.5: unicast REQUEST to the server */
    c->xid = (uint32_t)rnd(c);
    c->started = now(c);
    on_retx(&c->retx, c);
}

static void on_t2(struct tern_timer *t, void *arg)
{
    (void)t;
    struct tern_dhcp_client *c = arg;
    c->st = TERN_DHCPC_REBINDING; /* s4.4.5: broadcast REQUEST to any server */
    c->xid = (uint32_t)rnd(c);
    on_retx(&c->retx, c);
}

static void on_expire(struct tern_timer *t, void *arg)
{
    (void)t;
    lost(arg, TERN_DHCP_EV_LOST); /* s4.4.5: lease expired -> INIT */
}

/* Applies c->lease: address, route, timers; BOUND. */
static void bind_lease(struct tern_dhcp_client *c, enum tern_dhcp_event ev)
{
    const struct tern_dhcp_lease *l = &c->lease;
    tern_timer_cancel(c->loop, &c->retx);
    cancel_lease_timers(c);
    if (!c->have_addr || ev == TERN_DHCP_EV_BOUND) {
        tern_iface_set_addr(c->stack, c->o.ifindex, l->addr, l->prefix_len);
        c->have_addr = true;
    }
    if (c->have_route)
        tern_route_del(c->stack, 0, 0);
    c->have_route = l->router && tern_route_add(c->stack, 0, 0, l->router, c->o.ifindex) == 0;
    c->st = TERN_DHCPC_BOUND;
    /* s4.4.5: T1, T2 and expiry count from the time the REQUEST was sent;
     * we count from the start of the exchange, a little earlier still */
    c->t_bound = c->started;
    if (l->lease_s != INFINITE_LEASE) {
        tern_timer_arm(c->loop, &c->t1, c->t_bound + (uint64_t)l->t1_s * 1000000);
        tern_timer_arm(c->loop, &c->t2, c->t_bound + (uint64_t)l->t2_s * 1000000);
        tern_timer_arm(c->loop, &c->expire, c->t_bound + (uint64_t)l->lease_s * 1000000);
    }
    if (c->fn)
        c->fn(c->ctx, ev, l);
}

static void on_probe(void *ctx, bool in_use)
{
    struct tern_dhcp_client *c = ctx;
    c->probing = false;
    if (c->st != TERN_DHCPC_PROBING)
        return;
    if (in_use) {
        /* s3.1.5 / s4.4.1: DECLINE, then INIT again after 10 s */
        send_msg(c, TERN_DHCP_DECLINE, 0);
        c->st = TERN_DHCPC_INIT;
        if (c->fn)
            c->fn(c->ctx, TERN_DHCP_EV_DECLINED, &c->offer);
        tern_timer_arm(c->loop, &c->retx, now(c) + c->o.decline_wait_us);
        return;
    }
    c->lease = c->offer;
    bind_lease(c, TERN_DHCP_EV_BOUND);
}

/* The prefix length of a contiguous mask, or -1. */
static int mask_len(uint32_t mask)
{
    int p = 0;
    while (p < 32 && (mask & (0x80000000u >> p)))
        p++;
    return p == 32 || (mask << p) == 0 ? p : -1;
}

/* 0/8 ("this network"), 127/8 (loopback), 224/4 (multicast) and 240/4
 * (class E, with 255.255.255.255): never a host's or a router's address,
 * RFC 1122 s3.2.1.3 (a), (b), (c), (g) and RFC 5771/1112. */
static bool special_addr(uint32_t a)
{
    uint8_t first = (uint8_t)(a >> 24);
    return first == 0 || first == 127 || first >= 224;
}

/*
 * Whether an OFFER's (or ACK's) address and options can be configured. A
 * rogue or broken server must not make us take 127.0.0.1, a multicast or
 * broadcast address, or a mask that puts the whole Internet (or nothing) on
 * the link: such a reply is ignored and the client keeps waiting for a
 * usable one. RFC 1122 s3.2.1.3: no address has 0 or -1 as its host number
 * (the network address and the directed broadcast of the offered subnet);
 * a /31 (RFC 3021) has neither. Mask 0.0.0.0, /32 or a non-contiguous mask
 * (RFC 4632 s2) and a router that is not a unicast address (e.g.
 * 255.255.255.255) are refused too.
 */
static bool reply_usable(const struct tern_dhcp_repr *r)
{
    uint32_t a = r->yiaddr;
    if (special_addr(a))
        return false;
    int p = r->has_mask ? mask_len(r->mask)
                        : a < 0x80000000u ? 8 : a < 0xc0000000u ? 16 : 24; /* classful */
    if (p < 1 || p > 31)
        return false;
    if (p <= 30) {
        uint32_t host = a & (0xffffffffu >> p);
        if (host == 0 || host == 0xffffffffu >> p)
            return false;
    }
    for (unsigned i = 0; i < r->n_routers; i++)
        if (special_addr(r->routers[i]))
            return false;
    return true;
}

static void on_reply(struct tern_dhcp_client *c, const struct tern_dhcp_repr *r)
{
    if ((r->msg_type == TERN_DHCP_OFFER || r->msg_type == TERN_DHCP_ACK) && r->yiaddr &&
        !reply_usable(r)) {
        c->stats.unusable++; /* keep waiting for a usable one */
        return;
    }
    switch (c->st) {
    case TERN_DHCPC_SELECTING:
        /* s4.4.1: collect OFFERs; we take the first usable one */
        if (r->msg_type != TERN_DHCP_OFFER || !r->yiaddr || !r->has_server_id ||
            r->yiaddr == 0xffffffffu)
            break;
        c->stats.offers++;
        dhcp_lease_from(&c->offer, r);
        c->st = TERN_DHCPC_REQUESTING; /* same xid as the OFFER, table 5 */
        c->rto = c->o.rto_initial_us;
        c->tries = 1;
        send_msg(c, TERN_DHCP_REQUEST, 0);
        arm_backoff(c);
        return;
    case TERN_DHCPC_REQUESTING:
        if (r->has_server_id && r->server_id != c->offer.server)
            break;
        if (r->msg_type == TERN_DHCP_NAK) {
            c->stats.naks++;
            if (c->fn)
                c->fn(c->ctx, TERN_DHCP_EV_NAK, &c->offer);
            start_init(c); /* s3.1 step 5 */
            return;
        }
        if (r->msg_type != TERN_DHCP_ACK || !r->yiaddr || !r->has_lease)
            break;
        c->stats.acks++;
        {
            uint32_t server = c->offer.server;
            dhcp_lease_from(&c->offer, r);
            c->offer.server = server; /* the one we requested from (checked above) */
        }
        tern_timer_cancel(c->loop, &c->retx);
        c->st = TERN_DHCPC_PROBING;
        /* s4.4.1: the client SHOULD check the address (RFC 5227 probe) */
        if (c->o.no_probe) {
            on_probe(c, false);
        } else if (!c->probing) {
            c->probing = true;
            if (tern_arp_probe(c->stack, c->o.ifindex, c->offer.addr, on_probe, c) < 0)
                on_probe(c, false); /* cannot probe: take the address */
        }
        return;
    case TERN_DHCPC_RENEWING:
    case TERN_DHCPC_REBINDING:
        if (r->msg_type == TERN_DHCP_NAK) {
            c->stats.naks++;
            lost(c, TERN_DHCP_EV_LOST);
            return;
        }
        if (r->msg_type != TERN_DHCP_ACK || !r->has_lease || r->yiaddr != c->lease.addr)
            break;
        c->stats.acks++;
        {
            uint32_t server = c->lease.server;
            dhcp_lease_from(&c->lease, r);
            if (!r->has_server_id)
                c->lease.server = server;
        }
        bind_lease(c, TERN_DHCP_EV_RENEWED);
        return;
    default:
        break;
    }
    c->stats.ignored++;
}

static void on_readable(struct tern_sock *sk, unsigned events, void *ctx)
{
    (void)events;
    struct tern_dhcp_client *c = ctx;
    uint8_t buf[1500];
    for (;;) {
        int fl = 0;
        ssize_t n = tern_sock_recvfrom(sk, buf, sizeof buf, 0, NULL, &fl);
        if (n < 0)
            break;
        struct tern_dhcp_repr r;
        /* ATTACKS 47: only well-formed replies to our own transaction, for
         * our own hardware address, move the state machine */
        if ((fl & TERN_MSG_TRUNC) || tern_dhcp_parse(buf, (size_t)n, &r) < 0 ||
            r.op != TERN_DHCP_BOOTREPLY || r.xid != c->xid || r.hlen != 6 ||
            memcmp(r.chaddr, c->mac, 6) != 0) {
            c->stats.ignored++;
            continue;
        }
        on_reply(c, &r);
    }
}

struct tern_dhcp_client *dhcp_client_start(struct tern_stack *s, struct tern_loop *loop,
                                                const struct tern_dhcp_client_opts *o,
                                                tern_dhcp_fn fn, void *ctx, int *err)
{
    int e;
    struct tern_iface_config ic;
    if ((e = tern_iface_get(s, o->ifindex, &ic)) < 0)
        goto fail;
    struct tern_dhcp_client *c = calloc(1, sizeof *c);
    if (!c) {
        e = TERN_E_NOMEM;
        goto fail;
    }
    c->stack = s;
    c->loop = loop;
    c->o = *o;
    c->fn = fn;
    c->ctx = ctx;
    if (!c->o.rto_initial_us) {
        c->o.rto_initial_us = 4000000;
        if (!c->o.jitter_us)
            c->o.jitter_us = 1000000;
    }
    if (!c->o.jitter_us)
        c->o.jitter_us = c->o.rto_initial_us / 4;
    if (!c->o.rto_max_us)
        c->o.rto_max_us = 64000000;
    if (!c->o.renew_min_us)
        c->o.renew_min_us = 60000000;
    if (!c->o.request_tries)
        c->o.request_tries = 4;
    if (!c->o.decline_wait_us)
        c->o.decline_wait_us = 10000000;
    memcpy(c->mac, ic.mac, 6);
    c->cid[0] = 1;
    memcpy(c->cid + 1, ic.mac, 6);
    tern_timer_init(&c->retx, on_retx, c);
    tern_timer_init(&c->t1, on_t1, c);
    tern_timer_init(&c->t2, on_t2, c);
    tern_timer_init(&c->expire, on_expire, c);
    c->sk = tern_sock_open(s, TERN_SOCK_DGRAM, &e);
    if (!c->sk) {
        free(c);
        goto fail;
    }
    struct tern_sockaddr any = {.addr = 0, .port = TERN_DHCP_CLIENT_PORT};
    if ((e = tern_sock_setopt(c->sk, TERN_SO_BROADCAST, 1)) < 0 ||
        (e = tern_sock_setopt(c->sk, TERN_SO_PRIVILEGED, 1)) < 0 ||
        (e = tern_sock_setopt(c->sk, TERN_SO_BINDTOIFACE, o->ifindex)) < 0 ||
        (e = tern_sock_bind(c->sk, &any)) < 0) {
        tern_sock_close(c->sk);
        free(c);
        goto fail;
    }
    tern_sock_set_handler(c->sk, TERN_POLLIN, on_readable, c);
    start_init(c);
    return c;
fail:
    if (err)
        *err = e;
    return NULL;
}

void dhcp_client_release(struct tern_dhcp_client *c)
{
    if (c->have_addr && c->lease.server) {
        c->xid = (uint32_t)rnd(c);
        send_msg(c, TERN_DHCP_RELEASE, c->lease.server); /* s4.4.6: unicast to the server */
    }
    drop_addr(c);
    cancel_lease_timers(c);
    tern_timer_cancel(c->loop, &c->retx);
    memset(&c->lease, 0, sizeof c->lease);
    c->st = TERN_DHCPC_INIT;
}

void dhcp_client_free(struct tern_dhcp_client *c)
{
    if (!c)
        return;
    cancel_lease_timers(c);
    tern_timer_cancel(c->loop, &c->retx);
    tern_sock_close(c->sk);
    c->sk = NULL;
    if (c->probing)
        tern_arp_probe_cancel(c->stack, c->o.ifindex, c);
    free(c);
}

enum tern_dhcp_state dhcp_client_state(const struct tern_dhcp_client *c) { return c->st; }
const struct tern_dhcp_lease *dhcp_client_lease(const struct tern_dhcp_client *c)
{
    return &c->lease;
}
const struct dhcp_client_stats *dhcp_client_stats(const struct tern_dhcp_client *c)
{
    return &c->stats;
}
