/*
 * src/app/dhcp_server.c - the DHCP server (see dhcp_server.h).
 *
 * RFC 2131 s4.3 (server behaviour), s4.1 (where replies go), table 3
 * (fields and options of OFFER/ACK/NAK). The lease table is a fixed array
 * searched linearly: DHCP is a low-rate protocol and the table is capped
 * (at most 1024 entries), so every message costs a bounded amount of work.
 * DEVIATION: replies to a client without an address are broadcast even when
 * its BROADCAST flag is clear; RFC 2131 s4.1 prefers a unicast to
 * chaddr/yiaddr, which needs an ARP entry the socket API cannot install.
 * s4.1 allows the broadcast, and every client must accept it.
 * DEVIATION (from a stricter reading of "NAK on a wrong request"): a
 * SELECTING-state REQUEST naming another server is not NAKed; per s4.3.2 it
 * means the client chose that server, and our offer is withdrawn silently.
 */
#include "app/dhcp_server.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tern/socket.h"

#define KEY_MAX 64
#define MSG_MAX 576

enum { L_UNUSED, L_OFFERED, L_BOUND, L_BAD };

struct lease {
    uint8_t state;
    uint8_t key_len;
    uint8_t key[KEY_MAX]; /* kind byte (1 client id, 0 htype+chaddr) + bytes */
    uint8_t chaddr[6];
    uint32_t addr;
    uint64_t expires;     /* loop us; past = expired (address reusable, key kept) */
};

struct tern_dhcp_server {
    struct tern_stack *stack;
    struct tern_loop *loop;
    struct tern_dhcp_server_opts o;
    struct tern_sock *sk;
    uint32_t addr, mask;
    uint32_t cursor;      /* next pool address to try */
    uint32_t n;
    struct lease *t;
    struct dhcp_server_stats stats;
};

static uint64_t now(struct tern_dhcp_server *v) { return tern_loop_now(v->loop); }

static bool live(const struct tern_dhcp_server *v, const struct lease *l, uint64_t t)
{
    (void)v;
    return l->state != L_UNUSED && l->expires > t;
}

static bool in_pool(const struct tern_dhcp_server *v, uint32_t a)
{
    return a >= v->o.first && a <= v->o.last && a != v->addr;
}

/* The client's key: option 61 if it fits, else htype + chaddr (s4.2). */
static size_t make_key(const struct tern_dhcp_repr *r, uint8_t *key)
{
    if (r->client_id_len && r->client_id_len < KEY_MAX) {
        key[0] = 1;
        memcpy(key + 1, r->client_id, r->client_id_len);
        return 1 + (size_t)r->client_id_len;
    }
    key[0] = 0;
    key[1] = r->htype;
    memcpy(key + 2, r->chaddr, r->hlen); /* hlen <= 16 (parse) */
    return 2 + (size_t)r->hlen;
}

static struct lease *by_key(struct tern_dhcp_server *v, const uint8_t *key, size_t klen)
{
    for (uint32_t i = 0; i < v->n; i++) {
        struct lease *l = &v->t[i];
        if ((l->state == L_OFFERED || l->state == L_BOUND) && l->key_len == klen &&
            memcmp(l->key, key, klen) == 0)
            return l;
    }
    return NULL;
}

/* The entry holding addr (expired ones too, bad ones while resting). */
static struct lease *by_addr(struct tern_dhcp_server *v, uint32_t a)
{
    for (uint32_t i = 0; i < v->n; i++)
        if (v->t[i].state != L_UNUSED && v->t[i].addr == a)
            return &v->t[i];
    return NULL;
}

/* A slot for a new lease: unused first, else the longest-expired one. */
static struct lease *free_slot(struct tern_dhcp_server *v, uint64_t t)
{
    struct lease *best = NULL;
    for (uint32_t i = 0; i < v->n; i++) {
        struct lease *l = &v->t[i];
        if (l->state == L_UNUSED)
            return l;
        if (!live(v, l, t) && (!best || l->expires < best->expires))
            best = l;
    }
    return best;
}

/* s4.3.1: the client's current or previous address, else the requested
 * one if free, else a never-used pool address, else an expired one. */
static struct lease *allocate(struct tern_dhcp_server *v, const struct tern_dhcp_repr *r,
                              const uint8_t *key, size_t klen, uint64_t t)
{
    struct lease *l = by_key(v, key, klen);
    if (l)
        return l;
    for (uint32_t i = 0; i < v->n; i++) /* declined addresses that have rested */
        if (v->t[i].state == L_BAD && v->t[i].expires <= t)
            v->t[i].state = L_UNUSED;
    uint32_t pick = 0;
    if (r->has_req_ip && in_pool(v, r->req_ip)) {
        struct lease *o = by_addr(v, r->req_ip);
        if (!o || !live(v, o, t))
            pick = r->req_ip;
    }
    /* at most n + 1 owned addresses lie between cursor and a free one */
    uint64_t size = (uint64_t)v->o.last - v->o.first + 1;
    uint64_t tries = size < (uint64_t)v->n + 2 ? size : (uint64_t)v->n + 2;
    for (uint64_t i = 0; !pick && i < tries; i++) {
        uint32_t a = v->cursor;
        v->cursor = v->cursor >= v->o.last ? v->o.first : v->cursor + 1;
        if (in_pool(v, a) && !by_addr(v, a))
            pick = a;
    }
    l = free_slot(v, t);
    if (!l)
        return NULL;
    if (!pick) {
        if (l->state == L_UNUSED || l->state == L_BAD)
            return NULL; /* every address is owned by a live or resting lease */
        pick = l->addr; /* reuse the longest-expired lease's address */
    } else {
        struct lease *o = by_addr(v, pick); /* an expired holder of the requested address */
        if (o && o != l)
            o->state = L_UNUSED;
    }
    memset(l, 0, sizeof *l);
    l->state = L_OFFERED;
    l->addr = pick;
    l->key_len = (uint8_t)klen;
    memcpy(l->key, key, klen);
    memcpy(l->chaddr, r->chaddr, 6);
    return l;
}

static void changed(struct tern_dhcp_server *v)
{
    if (v->o.on_change)
        v->o.on_change(v->o.ctx);
}

/* Builds and sends a reply to request q (s4.1 for the destination). */
static void reply(struct tern_dhcp_server *v, const struct tern_dhcp_repr *q, uint8_t type,
                  uint32_t yiaddr, bool lease_opts)
{
    struct tern_dhcp_repr r;
    memset(&r, 0, sizeof r);
    r.op = TERN_DHCP_BOOTREPLY;
    r.htype = q->htype;
    r.hlen = q->hlen;
    r.xid = q->xid;
    r.flags = q->flags;
    r.giaddr = q->giaddr;
    memcpy(r.chaddr, q->chaddr, 16);
    r.msg_type = type;
    r.has_server_id = true;
    r.server_id = v->addr;
    if (type != TERN_DHCP_NAK) {
        r.yiaddr = yiaddr;
        r.ciaddr = q->ciaddr;
        r.has_mask = true;
        r.mask = v->mask;
        if (v->o.router) {
            r.n_routers = 1;
            r.routers[0] = v->o.router;
        }
        r.n_dns = v->o.n_dns;
        memcpy(r.dns, v->o.dns, sizeof r.dns);
        if (lease_opts) {
            r.has_lease = r.has_t1 = r.has_t2 = true;
            r.lease_s = v->o.lease_s;
            r.t1_s = v->o.lease_s / 2;                         /* s4.4.5 defaults */
            r.t2_s = (uint32_t)((uint64_t)v->o.lease_s * 7 / 8);
        }
    } else {
        static const char msg[] = "address not available";
        r.message = (const uint8_t *)msg;
        r.message_len = sizeof msg - 1;
    }
    uint8_t buf[MSG_MAX];
    int n = tern_dhcp_emit(&r, buf, sizeof buf);
    if (n < 0)
        return;
    struct tern_sockaddr to = {.addr = 0xffffffffu, .port = TERN_DHCP_CLIENT_PORT};
    if (q->giaddr) {
        to.addr = q->giaddr; /* s4.1: via the relay agent */
        to.port = TERN_DHCP_SERVER_PORT;
    } else if (type != TERN_DHCP_NAK && q->ciaddr) {
        to.addr = q->ciaddr; /* s4.1: a client with an address gets unicast */
    }
    (void)tern_sock_sendto(v->sk, buf, (size_t)n, 0, &to);
    if (type == TERN_DHCP_OFFER)
        v->stats.offers++;
    else if (type == TERN_DHCP_ACK)
        v->stats.acks++;
    else
        v->stats.naks++;
}

static void on_discover(struct tern_dhcp_server *v, const struct tern_dhcp_repr *q,
                        const uint8_t *key, size_t klen, uint64_t t)
{
    struct lease *l = allocate(v, q, key, klen, t);
    if (!l) {
        v->stats.exhausted++;
        return;
    }
    if (!(l->state == L_BOUND && live(v, l, t))) {
        l->state = L_OFFERED;
        l->expires = t + v->o.offer_hold_us;
    }
    reply(v, q, TERN_DHCP_OFFER, l->addr, true);
}

static void ack(struct tern_dhcp_server *v, const struct tern_dhcp_repr *q, struct lease *l,
                uint64_t t)
{
    l->state = L_BOUND;
    l->expires = t + (uint64_t)v->o.lease_s * 1000000;
    memcpy(l->chaddr, q->chaddr, 6);
    reply(v, q, TERN_DHCP_ACK, l->addr, true);
    changed(v);
}

/* s4.3.2: which state the client is in decides the checks. */
static void on_request(struct tern_dhcp_server *v, const struct tern_dhcp_repr *q,
                       const uint8_t *key, size_t klen, uint64_t t)
{
    struct lease *l = by_key(v, key, klen);
    if (q->has_server_id) {
        /* SELECTING: the client chose a server */
        if (q->server_id != v->addr) {
            if (l && l->state == L_OFFERED)
                l->expires = t; /* it declined our offer: withdraw it */
            return;
        }
        if (l && q->has_req_ip && q->req_ip == l->addr && !q->ciaddr)
            ack(v, q, l, t);
        else
            reply(v, q, TERN_DHCP_NAK, 0, false); /* not what we offered */
        return;
    }
    if (q->has_req_ip && !q->ciaddr) {
        /* INIT-REBOOT: NAK a wrong address (off the subnet, out of the pool,
         * or not this client's); silent when we know nothing of the client */
        if ((q->req_ip & v->mask) != (v->addr & v->mask) || !in_pool(v, q->req_ip) ||
            (l && l->addr != q->req_ip))
            reply(v, q, TERN_DHCP_NAK, 0, false);
        else if (l)
            ack(v, q, l, t);
        return;
    }
    if (q->ciaddr) {
        /* RENEWING (unicast) or REBINDING (broadcast) */
        if (l && l->addr == q->ciaddr)
            ack(v, q, l, t);
        else if (l || !in_pool(v, q->ciaddr))
            reply(v, q, TERN_DHCP_NAK, 0, false);
        return;
    }
    v->stats.ignored++;
}

static void handle(struct tern_dhcp_server *v, const uint8_t *buf, size_t len)
{
    struct tern_dhcp_repr q;
    if (tern_dhcp_parse(buf, len, &q) < 0 || q.op != TERN_DHCP_BOOTREQUEST || q.hlen != 6 ||
        q.htype != 1) {
        v->stats.ignored++;
        return;
    }
    uint8_t key[KEY_MAX + 2];
    size_t klen = make_key(&q, key);
    uint64_t t = now(v);
    struct lease *l;
    switch (q.msg_type) {
    case TERN_DHCP_DISCOVER:
        v->stats.discovers++;
        on_discover(v, &q, key, klen, t);
        break;
    case TERN_DHCP_REQUEST:
        v->stats.requests++;
        on_request(v, &q, key, klen, t);
        break;
    case TERN_DHCP_DECLINE:
        /* s4.3.3: the address is in use by someone else: rest it */
        v->stats.declines++;
        l = by_key(v, key, klen);
        if (l && q.has_req_ip && q.req_ip == l->addr &&
            (!q.has_server_id || q.server_id == v->addr)) {
            bool was_bound = l->state == L_BOUND;
            l->state = L_BAD;
            l->key_len = 0;
            l->expires = t + v->o.decline_hold_us;
            if (was_bound)
                changed(v);
        }
        break;
    case TERN_DHCP_RELEASE:
        /* s4.3.4: free it, but remember the client for next time */
        v->stats.releases++;
        l = by_key(v, key, klen);
        if (l && l->addr == q.ciaddr && l->state == L_BOUND) {
            l->expires = t;
            changed(v);
        }
        break;
    case TERN_DHCP_INFORM:
        /* s4.3.5: configuration only, no lease, unicast to ciaddr */
        v->stats.informs++;
        if (q.ciaddr)
            reply(v, &q, TERN_DHCP_ACK, 0, false);
        break;
    default:
        v->stats.ignored++;
        break;
    }
}

static void on_readable(struct tern_sock *sk, unsigned events, void *ctx)
{
    (void)events;
    struct tern_dhcp_server *v = ctx;
    uint8_t buf[1500];
    for (;;) {
        int fl = 0;
        ssize_t n = tern_sock_recvfrom(sk, buf, sizeof buf, 0, NULL, &fl);
        if (n < 0)
            break;
        if (fl & TERN_MSG_TRUNC) {
            v->stats.ignored++;
            continue;
        }
        handle(v, buf, (size_t)n);
    }
}

struct tern_dhcp_server *dhcp_server_start(struct tern_stack *s, struct tern_loop *loop,
                                                const struct tern_dhcp_server_opts *o, int *err)
{
    int e = TERN_E_INVAL;
    struct tern_iface_config ic;
    struct tern_dhcp_server *v = NULL;
    if (tern_iface_get(s, o->ifindex, &ic) < 0 || !ic.addr || ic.prefix_len > 30 ||
        o->first > o->last || o->first == 0 || o->n_dns > TERN_DHCP_MAX_ADDRS)
        goto fail;
    uint32_t mask = ic.prefix_len ? 0xffffffffu << (32 - ic.prefix_len) : 0;
    if ((o->first & mask) != (ic.addr & mask) || (o->last & mask) != (ic.addr & mask) ||
        (o->first & ~mask) == 0 || (o->last & ~mask) == ~mask)
        goto fail; /* the pool must lie in our subnet, without network/broadcast */
    e = TERN_E_NOMEM;
    if (!(v = calloc(1, sizeof *v)))
        goto fail;
    v->stack = s;
    v->loop = loop;
    v->o = *o;
    v->addr = ic.addr;
    v->mask = mask;
    if (!v->o.lease_s)
        v->o.lease_s = 3600;
    if (!v->o.offer_hold_us)
        v->o.offer_hold_us = 60000000;
    if (!v->o.decline_hold_us)
        v->o.decline_hold_us = 600000000;
    uint64_t size = (uint64_t)o->last - o->first + 1;
    v->n = v->o.max_leases ? v->o.max_leases : (uint32_t)(size < 1024 ? size : 1024);
    v->cursor = o->first;
    if (!(v->t = calloc(v->n, sizeof *v->t)))
        goto fail;
    if (!(v->sk = tern_sock_open(s, TERN_SOCK_DGRAM, &e)))
        goto fail;
    struct tern_sockaddr any = {.addr = 0, .port = TERN_DHCP_SERVER_PORT};
    if ((e = tern_sock_setopt(v->sk, TERN_SO_BROADCAST, 1)) < 0 ||
        (e = tern_sock_setopt(v->sk, TERN_SO_PRIVILEGED, 1)) < 0 ||
        (e = tern_sock_setopt(v->sk, TERN_SO_BINDTOIFACE, o->ifindex)) < 0 ||
        (e = tern_sock_bind(v->sk, &any)) < 0)
        goto fail;
    tern_sock_set_handler(v->sk, TERN_POLLIN, on_readable, v);
    return v;
fail:
    dhcp_server_free(v);
    if (err)
        *err = e;
    return NULL;
}

void dhcp_server_free(struct tern_dhcp_server *v)
{
    if (!v)
        return;
    if (v->sk)
        tern_sock_close(v->sk);
    free(v->t);
    free(v);
}

const struct dhcp_server_stats *dhcp_server_stats(const struct tern_dhcp_server *v)
{
    return &v->stats;
}

size_t dhcp_server_leases(const struct tern_dhcp_server *v,
                               struct tern_dhcp_server_lease *out, size_t cap)
{
    uint64_t t = tern_loop_now(v->loop);
    size_t k = 0;
    for (uint32_t i = 0; i < v->n; i++) {
        const struct lease *l = &v->t[i];
        if ((l->state != L_OFFERED && l->state != L_BOUND) || !live(v, l, t))
            continue;
        if (k < cap) {
            out[k].addr = l->addr;
            out[k].bound = l->state == L_BOUND;
            out[k].expires_us = l->expires;
            memcpy(out[k].chaddr, l->chaddr, 6);
        }
        k++;
    }
    return k;
}

int dhcp_server_save(const struct tern_dhcp_server *v, FILE *f, int64_t wall_now_s)
{
    uint64_t t = tern_loop_now(v->loop);
    fprintf(f, "# tern DHCP leases: ADDRESS EXPIRES(unix s) KEY(hex)\n");
    for (uint32_t i = 0; i < v->n; i++) {
        const struct lease *l = &v->t[i];
        if (l->state != L_BOUND || !live(v, l, t))
            continue;
        char a[16];
        fprintf(f, "%s %" PRId64 " ", tern_ipv4_ntoa(l->addr, a),
                wall_now_s + (int64_t)((l->expires - t) / 1000000));
        for (unsigned j = 0; j < l->key_len; j++)
            fprintf(f, "%02x", l->key[j]);
        fputc('\n', f);
    }
    return ferror(f) ? TERN_E_IO : 0;
}

int dhcp_server_load(struct tern_dhcp_server *v, FILE *f, int64_t wall_now_s)
{
    char line[512];
    int loaded = 0;
    uint64_t t = tern_loop_now(v->loop);
    while (fgets(line, sizeof line, f)) {
        char a[32], k[2 * KEY_MAX + 8];
        long long exp;
        if (line[0] == '#' || sscanf(line, "%31s %lld %135s", a, &exp, k) != 3)
            continue;
        uint32_t addr;
        size_t klen = strlen(k) / 2;
        if (tern_ipv4_aton(a, &addr) < 0 || !in_pool(v, addr) || exp <= wall_now_s ||
            strlen(k) % 2 || klen < 2 || klen > KEY_MAX || by_addr(v, addr))
            continue;
        uint8_t key[KEY_MAX];
        bool ok = true;
        for (size_t j = 0; j < klen && ok; j++) {
            unsigned x;
            ok = sscanf(k + 2 * j, "%2x", &x) == 1;
            key[j] = (uint8_t)x;
        }
        struct lease *l = ok ? free_slot(v, t) : NULL;
        if (!l || by_key(v, key, klen))
            continue;
        memset(l, 0, sizeof *l);
        l->state = L_BOUND;
        l->addr = addr;
        l->key_len = (uint8_t)klen;
        memcpy(l->key, key, klen);
        if (key[0] == 0 && klen >= 8)
            memcpy(l->chaddr, key + 2, 6);
        else if (key[0] == 1 && klen == 8 && key[1] == 1)
            memcpy(l->chaddr, key + 2, 6);
        l->expires = t + (uint64_t)(exp - wall_now_s) * 1000000;
        loaded++;
    }
    return loaded;
}
