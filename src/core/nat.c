/*
 * nat.c - the NAPT session table and the translation of datagrams through
 * it: RFC 4787 (UDP), RFC 5382 (TCP), RFC 5508 (ICMP), RFC 7857 (updates),
 * quotas after RFC 6888, port choice after RFC 6056, checksums after
 * RFC 1624. Also the stateful firewall's rules (the same table tells what
 * is established). docs/nat.md describes the design.
 *
 * One entry per session (a conntrack entry): protocol, inside endpoint
 * (int), remote endpoint (rem), external endpoint (ext). A "mapping" in
 * RFC 4787's words is the set of sessions sharing (int -> ext); with
 * endpoint-independent mapping every session of one inside endpoint gets
 * the same external port. For ICMP queries the identifier plays the port
 * (RFC 5508 s3.1), rem_port is 0.
 *
 * Three hash chains index the entries (keyed SipHash, so a flood cannot
 * aim at one chain): by session (proto, int, rem) for outbound datagrams,
 * by external endpoint (proto, ext) for inbound ones and port allocation,
 * by inside endpoint (proto, int) for mapping reuse. A fourth table counts
 * entries per inside host (the RFC 6888 REQ-4 quota).
 *
 * Memory: everything is allocated in nat_new from max_entries; nothing per
 * packet.
 */
#include "core/nat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"
#include "tern/wire/icmp.h"
#include "tern/wire/ipv4.h"

#define NIL UINT32_MAX
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17

/* entry flags */
#define F_SEEN_OUT 0x01u  /* a datagram went out */
#define F_SEEN_IN 0x02u   /* a reply came in */
#define F_ASSURED 0x04u   /* replied and (TCP) established: conntrack's [ASSURED] */
#define F_SYN_OUT 0x08u
#define F_SYN_IN 0x10u
#define F_FIN_OUT 0x20u
#define F_FIN_IN 0x40u
#define F_INBOUND 0x80u   /* created by an inbound datagram (DNAT, EIF, firewall allow) */
#define F_RST 0x100u      /* a RST was seen: closed for good */

struct nat_entry {
    uint32_t int_addr, rem_addr, ext_addr;
    uint16_t int_port, rem_port, ext_port;
    uint8_t proto, tcp;
    uint16_t flags;
    bool used;
    uint64_t expires;
    uint32_t h_sess, h_ext, h_int; /* next in each chain */
    uint32_t free_next;
};

struct nat_host {
    uint32_t addr, count, next;
};

struct nat_fwd {
    uint8_t proto;
    uint16_t ext_port, port;
    uint32_t addr;
};

struct nat_rule {
    int ifindex;
    struct tern_fw_rule r;
    uint64_t hits;
};

struct nat {
    struct tern_nat_config cfg;
    struct tern_rng rng;
    struct nat_entry *e;
    uint32_t cap, nbuckets; /* nbuckets: power of two */
    uint32_t *b_sess, *b_ext, *b_int, *b_host;
    uint32_t free_head;
    struct nat_host *hosts; /* cap of them: every host holds >= 1 entry */
    uint32_t host_free;
    struct nat_fwd fwd[NAT_MAX_FORWARDS];
    int nfwd;
    struct nat_rule rules[NAT_MAX_FW_RULES];
    int nrules;
    uint64_t soonest; /* the earliest expiry set since nat_take_soonest */
    struct tern_nat_stats st;
};

void tern_nat_config_defaults(struct tern_nat_config *c)
{
    memset(c, 0, sizeof *c);
    c->mapping = TERN_NAT_EI;    /* RFC 4787 REQ-1, RFC 5382 REQ-1 */
    c->filtering = TERN_NAT_APD; /* RFC 4787 REQ-8: the stringent choice */
    c->port_lo = 1024;
    c->port_hi = 65535;
    c->udp_timeout_us = 300ull * 1000000;     /* RFC 4787 REQ-5: 5 min recommended */
    c->tcp_est_timeout_us = 7440ull * 1000000; /* RFC 5382 REQ-5: 2 h 4 min */
    c->tcp_trans_timeout_us = 240ull * 1000000; /* RFC 5382 REQ-5: 4 min */
    c->icmp_timeout_us = 60ull * 1000000;     /* RFC 5508 REQ-1: 60 s */
    c->max_entries = 16384;
    c->max_per_host = 2048;
}

struct nat *nat_new(const struct tern_nat_config *c, uint64_t seed)
{
    struct tern_nat_config d;
    if (!c) {
        tern_nat_config_defaults(&d);
        c = &d;
    }
    /* RFC 4787 REQ-5 and RFC 5382 REQ-5 are floors; tests may go lower
     * only through the engine (the CLI and scenarios enforce them). */
    if (c->mapping > TERN_NAT_APD || c->filtering > TERN_NAT_APD || c->max_entries == 0 ||
        c->max_entries > (1u << 22) || c->max_per_host == 0 || c->port_lo == 0 ||
        c->port_hi < c->port_lo)
        return NULL;
    struct nat *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->cfg = *c;
    tern_rng_init(&n->rng, seed ^ 0x6e6174u);
    n->cap = c->max_entries;
    n->nbuckets = 16;
    while (n->nbuckets < n->cap)
        n->nbuckets <<= 1;
    n->e = calloc(n->cap, sizeof *n->e);
    n->hosts = calloc(n->cap, sizeof *n->hosts);
    n->b_sess = malloc(n->nbuckets * sizeof(uint32_t));
    n->b_ext = malloc(n->nbuckets * sizeof(uint32_t));
    n->b_int = malloc(n->nbuckets * sizeof(uint32_t));
    n->b_host = malloc(n->nbuckets * sizeof(uint32_t));
    if (!n->e || !n->hosts || !n->b_sess || !n->b_ext || !n->b_int || !n->b_host) {
        nat_free(n);
        return NULL;
    }
    for (uint32_t i = 0; i < n->nbuckets; i++)
        n->b_sess[i] = n->b_ext[i] = n->b_int[i] = n->b_host[i] = NIL;
    for (uint32_t i = 0; i < n->cap; i++) {
        n->e[i].free_next = i + 1 < n->cap ? i + 1 : NIL;
        n->hosts[i].next = i + 1 < n->cap ? i + 1 : NIL;
    }
    n->free_head = 0;
    n->host_free = 0;
    n->soonest = UINT64_MAX;
    return n;
}

void nat_free(struct nat *n)
{
    if (!n)
        return;
    free(n->e);
    free(n->hosts);
    free(n->b_sess);
    free(n->b_ext);
    free(n->b_int);
    free(n->b_host);
    free(n);
}

struct tern_nat_stats *nat_stats(struct nat *n) { return &n->st; }
const struct tern_nat_config *nat_config(const struct nat *n) { return &n->cfg; }

/* ---- hashing ---- */

static uint32_t hkey(const struct nat *n, const uint32_t *w, size_t nw)
{
    return (uint32_t)tern_rng_hash(&n->rng, w, nw * sizeof *w) & (n->nbuckets - 1);
}

static uint32_t h_sess(const struct nat *n, uint8_t p, uint32_t ia, uint16_t ip, uint32_t ra,
                       uint16_t rp)
{
    uint32_t w[4] = {1u << 24 | (uint32_t)p << 16 | ip, ia, ra, rp};
    return hkey(n, w, 4);
}

static uint32_t h_ext(const struct nat *n, uint8_t p, uint32_t ea, uint16_t ep)
{
    uint32_t w[2] = {2u << 24 | (uint32_t)p << 16 | ep, ea};
    return hkey(n, w, 2);
}

static uint32_t h_int(const struct nat *n, uint8_t p, uint32_t ia, uint16_t ip)
{
    uint32_t w[2] = {3u << 24 | (uint32_t)p << 16 | ip, ia};
    return hkey(n, w, 2);
}

static uint32_t h_host(const struct nat *n, uint32_t a)
{
    uint32_t w[1] = {a};
    return hkey(n, w, 1);
}

/* ---- per-host counts (RFC 6888 REQ-4) ---- */

static struct nat_host *host_find(const struct nat *n, uint32_t a)
{
    for (uint32_t i = n->b_host[h_host(n, a)]; i != NIL; i = n->hosts[i].next)
        if (n->hosts[i].addr == a)
            return &n->hosts[i];
    return NULL;
}

uint32_t nat_host_count(const struct nat *n, uint32_t addr)
{
    const struct nat_host *h = host_find(n, addr);
    return h ? h->count : 0;
}

static void host_inc(struct nat *n, uint32_t a)
{
    struct nat_host *h = host_find(n, a);
    if (!h) {
        /* Never empty: there are as many host slots as entries. */
        uint32_t i = n->host_free;
        n->host_free = n->hosts[i].next;
        h = &n->hosts[i];
        h->addr = a;
        h->count = 0;
        uint32_t b = h_host(n, a);
        h->next = n->b_host[b];
        n->b_host[b] = i;
    }
    h->count++;
}

static void host_dec(struct nat *n, uint32_t a)
{
    uint32_t b = h_host(n, a);
    for (uint32_t *pp = &n->b_host[b]; *pp != NIL; pp = &n->hosts[*pp].next) {
        struct nat_host *h = &n->hosts[*pp];
        if (h->addr != a)
            continue;
        if (--h->count == 0) {
            uint32_t i = *pp;
            *pp = h->next;
            h->next = n->host_free;
            n->host_free = i;
        }
        return;
    }
}

/* ---- entries ---- */

static bool live(const struct nat_entry *x, uint64_t now) { return x->used && x->expires > now; }

static void unlink_chain(struct nat *n, uint32_t *head, uint32_t idx, size_t off)
{
    for (uint32_t *pp = head; *pp != NIL;) {
        uint32_t *next = (uint32_t *)((char *)&n->e[*pp] + off);
        if (*pp == idx) {
            *pp = *next;
            return;
        }
        pp = next;
    }
}

static void entry_del(struct nat *n, uint32_t i)
{
    struct nat_entry *x = &n->e[i];
    unlink_chain(n, &n->b_sess[h_sess(n, x->proto, x->int_addr, x->int_port, x->rem_addr,
                                      x->rem_port)],
                 i, offsetof(struct nat_entry, h_sess));
    unlink_chain(n, &n->b_ext[h_ext(n, x->proto, x->ext_addr, x->ext_port)], i,
                 offsetof(struct nat_entry, h_ext));
    unlink_chain(n, &n->b_int[h_int(n, x->proto, x->int_addr, x->int_port)], i,
                 offsetof(struct nat_entry, h_int));
    host_dec(n, x->int_addr);
    x->used = false;
    x->free_next = n->free_head;
    n->free_head = i;
    n->st.entries--;
}

static bool transitory(const struct nat_entry *x)
{
    /* RFC 5382 s5: transitory = not yet established both ways, or closing
     * (FIN both ways, or RST: RFC 7857 s2.2). */
    return x->proto == PROTO_TCP && x->tcp != NAT_TCP_ESTABLISHED && x->tcp != NAT_TCP_FIN_WAIT;
}

static uint64_t timeout_of(const struct nat *n, const struct nat_entry *x)
{
    switch (x->proto) {
    case PROTO_TCP:
        return transitory(x) ? n->cfg.tcp_trans_timeout_us : n->cfg.tcp_est_timeout_us;
    case PROTO_UDP:
        return n->cfg.udp_timeout_us;
    case PROTO_ICMP:
        return n->cfg.icmp_timeout_us;
    default:
        return n->cfg.udp_timeout_us; /* other protocols (firewall tracking) like UDP */
    }
}

uint64_t nat_next_expiry(const struct nat *n)
{
    uint64_t next = UINT64_MAX;
    for (uint32_t i = 0; i < n->cap; i++)
        if (n->e[i].used && n->e[i].expires < next)
            next = n->e[i].expires;
    return next;
}

uint64_t nat_expire(struct nat *n, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    for (uint32_t i = 0; i < n->cap; i++) {
        struct nat_entry *x = &n->e[i];
        if (!x->used)
            continue;
        if (x->expires <= now) {
            entry_del(n, i);
            n->st.expired++;
        } else if (x->expires < next) {
            next = x->expires;
        }
    }
    return next;
}

/* The oldest (soonest expiring) transitory TCP entry, of host `a` (or of
 * anyone when any), or NIL. ATTACKS 48: only these are ever evicted;
 * established TCP, UDP and ICMP sessions wait for their timers. */
static uint32_t oldest_transitory(const struct nat *n, bool any, uint32_t a, uint64_t now)
{
    uint32_t best = NIL;
    for (uint32_t i = 0; i < n->cap; i++) {
        const struct nat_entry *x = &n->e[i];
        if (!x->used || !transitory(x) || (!any && x->int_addr != a))
            continue;
        if (x->expires <= now)
            return i; /* already dead: free it first */
        if (best == NIL || x->expires < n->e[best].expires)
            best = i;
    }
    return best;
}

/* Makes room for one entry of host a: RFC 6888 REQ-4 (per-subscriber
 * limit) then the table's. A host at its quota may only replace its own
 * oldest transitory entry; a full table gives up the oldest transitory
 * entry of anyone (a SYN flood's own half-open entries, never another
 * host's established ones). False: no room (drop the new flow). */
static bool make_room(struct nat *n, uint32_t a, uint64_t now)
{
    if (nat_host_count(n, a) >= n->cfg.max_per_host) {
        uint32_t v = oldest_transitory(n, false, a, now);
        if (v == NIL)
            return false;
        bool dead = n->e[v].expires <= now;
        entry_del(n, v);
        if (dead)
            n->st.expired++;
        else
            n->st.evicted++;
    }
    if (n->free_head == NIL) {
        uint32_t v = oldest_transitory(n, true, 0, now);
        if (v == NIL) {
            (void)nat_expire(n, now);
            return n->free_head != NIL;
        }
        bool dead = n->e[v].expires <= now;
        entry_del(n, v);
        if (dead)
            n->st.expired++;
        else
            n->st.evicted++;
    }
    return true;
}

static uint32_t entry_new(struct nat *n, uint8_t p, uint32_t ia, uint16_t ip, uint32_t ra,
                          uint16_t rp, uint32_t ea, uint16_t ep, uint64_t now)
{
    uint32_t i = n->free_head;
    n->free_head = n->e[i].free_next;
    struct nat_entry *x = &n->e[i];
    memset(x, 0, sizeof *x);
    x->used = true;
    x->proto = p;
    x->int_addr = ia;
    x->int_port = ip;
    x->rem_addr = ra;
    x->rem_port = rp;
    x->ext_addr = ea;
    x->ext_port = ep;
    x->tcp = NAT_TCP_CLOSE;
    x->expires = now + 1;
    uint32_t b = h_sess(n, p, ia, ip, ra, rp);
    x->h_sess = n->b_sess[b];
    n->b_sess[b] = i;
    b = h_ext(n, p, ea, ep);
    x->h_ext = n->b_ext[b];
    n->b_ext[b] = i;
    b = h_int(n, p, ia, ip);
    x->h_int = n->b_int[b];
    n->b_int[b] = i;
    host_inc(n, ia);
    n->st.created++;
    n->st.entries++;
    return i;
}

static uint32_t find_sess(const struct nat *n, uint8_t p, uint32_t ia, uint16_t ip, uint32_t ra,
                          uint16_t rp, uint64_t now)
{
    for (uint32_t i = n->b_sess[h_sess(n, p, ia, ip, ra, rp)]; i != NIL; i = n->e[i].h_sess) {
        const struct nat_entry *x = &n->e[i];
        if (x->proto == p && x->int_addr == ia && x->int_port == ip && x->rem_addr == ra &&
            x->rem_port == rp && live(x, now))
            return i;
    }
    return NIL;
}

bool nat_lookup(const struct nat *n, uint8_t proto, uint32_t int_addr, uint16_t int_port,
                uint32_t rem_addr, uint16_t rem_port, uint64_t now, uint16_t *ext_port,
                int *tcp_state)
{
    uint32_t i = find_sess(n, proto, int_addr, int_port, rem_addr, rem_port, now);
    if (i == NIL)
        return false;
    if (ext_port)
        *ext_port = n->e[i].ext_port;
    if (tcp_state)
        *tcp_state = n->e[i].tcp;
    return true;
}

bool nat_inside_of(const struct nat *n, uint8_t proto, uint32_t ea, uint16_t ep, uint32_t ra,
                   uint16_t rp, uint64_t now, uint32_t *ia, uint16_t *ip)
{
    for (uint32_t i = n->b_ext[h_ext(n, proto, ea, ep)]; i != NIL; i = n->e[i].h_ext) {
        const struct nat_entry *x = &n->e[i];
        if (x->proto == proto && x->ext_addr == ea && x->ext_port == ep && x->rem_addr == ra &&
            x->rem_port == rp && live(x, now)) {
            *ia = x->int_addr;
            *ip = x->int_port;
            return true;
        }
    }
    return false;
}

static bool fwd_reserved(const struct nat *n, uint8_t p, uint16_t port)
{
    for (int k = 0; k < n->nfwd; k++)
        if (n->fwd[k].proto == p && n->fwd[k].ext_port == port)
            return true;
    return false;
}

/* No live session uses (p, ea, port) as its external endpoint. RFC 4787
 * REQ-3a: no "port overloading" - an external port belongs to one inside
 * endpoint at a time. */
static bool port_free(const struct nat *n, uint8_t p, uint32_t ea, uint16_t port, uint64_t now)
{
    if (fwd_reserved(n, p, port))
        return false;
    for (uint32_t i = n->b_ext[h_ext(n, p, ea, port)]; i != NIL; i = n->e[i].h_ext) {
        const struct nat_entry *x = &n->e[i];
        if (x->proto == p && x->ext_addr == ea && x->ext_port == port && live(x, now))
            return false;
    }
    return true;
}

/* The external port for a new session of inside endpoint (ia, ip). */
static bool pick_port(struct nat *n, uint8_t p, uint32_t ia, uint16_t ip, uint32_t ra,
                      uint32_t ea, uint64_t now, uint16_t *out)
{
    /* RFC 4787 s4.1 / REQ-1: endpoint-independent mapping reuses the port
     * of any session of this inside endpoint; address-dependent only of
     * one to the same remote address; address-and-port-dependent never. */
    if (n->cfg.mapping != TERN_NAT_APD) {
        for (uint32_t i = n->b_int[h_int(n, p, ia, ip)]; i != NIL; i = n->e[i].h_int) {
            const struct nat_entry *x = &n->e[i];
            if (x->proto == p && x->int_addr == ia && x->int_port == ip && x->ext_addr == ea &&
                live(x, now) && (n->cfg.mapping == TERN_NAT_EI || x->rem_addr == ra)) {
                *out = x->ext_port;
                return true;
            }
        }
    }
    /* Port preservation when the port is free (RFC 4787 s4.2.1 allows it;
     * it is not a requirement). Ports 0 are never preserved. */
    if (ip != 0 && port_free(n, p, ea, ip, now) &&
        (p == PROTO_ICMP || (ip >= n->cfg.port_lo && ip <= n->cfg.port_hi))) {
        *out = ip;
        return true;
    }
    /* RFC 6056 s3.3.1 (algorithm 1, simple port randomization; RFC 7857
     * s11 asks NATs to follow RFC 6056): a random start, then a walk of
     * the range, so the next port is not predictable from the last.
     * RFC 4787 REQ-4: with port_parity, keep the inside port's parity. */
    uint32_t lo = p == PROTO_ICMP ? 1 : n->cfg.port_lo;
    uint32_t hi = p == PROTO_ICMP ? 65535 : n->cfg.port_hi;
    uint32_t span = hi - lo + 1;
    uint32_t start = (uint32_t)tern_rng_below(&n->rng, span);
    for (uint32_t k = 0; k < span; k++) {
        uint16_t cand = (uint16_t)(lo + (start + k) % span);
        if (n->cfg.port_parity && p != PROTO_ICMP && (cand & 1) != (ip & 1))
            continue;
        if (port_free(n, p, ea, cand, now)) {
            *out = cand;
            return true;
        }
    }
    return false;
}

/* ---- checksum-keeping rewrites (RFC 1624 eqn. 3) ---- */

struct csloc {
    uint8_t *p;
    bool udp; /* RFC 768: 0 means "no checksum"; a computed 0 is sent as 0xffff */
};

static void cs_upd(struct csloc c, uint16_t old, uint16_t nw)
{
    if (!c.p)
        return;
    uint16_t v = tern_get16(c.p);
    if (c.udp && v == 0)
        return;
    v = tern_csum_update16(v, old, nw);
    if (c.udp && v == 0)
        v = 0xffff;
    tern_put16(c.p, v);
}

/* Sets the 16-bit word at p to v, keeping up to three checksums that
 * cover it (each NULL when not). The word must sit at an even offset of
 * each checksummed area. */
static void set16(uint8_t *p, uint16_t v, struct csloc a, struct csloc b, struct csloc c)
{
    uint16_t old = tern_get16(p);
    if (old == v)
        return;
    tern_put16(p, v);
    cs_upd(a, old, v);
    cs_upd(b, old, v);
    cs_upd(c, old, v);
}

static void set32(uint8_t *p, uint32_t v, struct csloc a, struct csloc b, struct csloc c)
{
    set16(p, (uint16_t)(v >> 16), a, b, c);
    set16(p + 2, (uint16_t)v, a, b, c);
}

/* Changes a checksum field itself (an inner checksum inside an ICMP error)
 * and keeps the outer checksum that covers it. */
static void set_csum(uint8_t *p, uint16_t v, struct csloc outer)
{
    set16(p, v, outer, (struct csloc){0}, (struct csloc){0});
}

static const struct csloc NOCS = {0};

/* ---- parsing what the engine needs ---- */

struct pkt {
    uint8_t *ip;   /* the IPv4 header */
    uint8_t *l4;
    size_t l4_len;
    uint8_t proto;
    uint32_t src, dst;
};

static bool pkt_parse(uint8_t *d, size_t len, struct pkt *k)
{
    if (len < TERN_IPV4_HLEN_MIN || (d[0] >> 4) != 4)
        return false;
    size_t hl = (size_t)(d[0] & 15) * 4;
    size_t tot = tern_get16(d + 2);
    if (hl < TERN_IPV4_HLEN_MIN || tot < hl || tot > len)
        return false;
    /* The stack hands the engine whole datagrams only. */
    if ((tern_get16(d + 6) & 0x3fff) != 0)
        return false;
    k->ip = d;
    k->l4 = d + hl;
    k->l4_len = tot - hl;
    k->proto = d[9];
    k->src = tern_get32(d + 12);
    k->dst = tern_get32(d + 16);
    size_t need = k->proto == PROTO_TCP ? 20 : k->proto == PROTO_UDP || k->proto == PROTO_ICMP ? 8 : 0;
    return k->l4_len >= need;
}

static struct csloc ipcs(const struct pkt *k) { return (struct csloc){k->ip + 10, false}; }

/* The transport checksum covering ports and (pseudo-header) addresses. */
static struct csloc l4cs(uint8_t proto, uint8_t *l4, size_t l4_len)
{
    if (proto == PROTO_TCP && l4_len >= 18)
        return (struct csloc){l4 + 16, false};
    if (proto == PROTO_UDP && l4_len >= 8)
        return (struct csloc){l4 + 6, true};
    if (proto == PROTO_ICMP && l4_len >= 4)
        return (struct csloc){l4 + 2, false};
    return NOCS;
}

static bool icmp_is_query(uint8_t t) { return t == TERN_ICMP_ECHO || t == TERN_ICMP_ECHOREPLY; }

/* The (source port, destination port) of a datagram; for ICMP queries the
 * identifier as both (RFC 5508 s3.1). */
static void ports_of(const struct pkt *k, uint16_t *sp, uint16_t *dp)
{
    if (k->proto == PROTO_TCP || k->proto == PROTO_UDP) {
        *sp = tern_get16(k->l4);
        *dp = tern_get16(k->l4 + 2);
    } else if (k->proto == PROTO_ICMP) {
        *sp = *dp = tern_get16(k->l4 + 4);
    } else {
        *sp = *dp = 0;
    }
}

/* Offset of the port (or ICMP id) fields in a transport header. */
static uint8_t *sport_at(uint8_t proto, uint8_t *l4) { return proto == PROTO_ICMP ? l4 + 4 : l4; }
static uint8_t *dport_at(uint8_t proto, uint8_t *l4) { return proto == PROTO_ICMP ? l4 + 4 : l4 + 2; }

/* ---- TCP tracking (RFC 5382 s5, RFC 7857 s2.2) ---- */

static void tcp_track(const struct nat *n, struct nat_entry *x, const uint8_t *tcp, bool out,
                      uint64_t now)
{
    uint8_t fl = tcp[13];
    bool syn = fl & 0x02, fin = fl & 0x01, rst = fl & 0x04;
    if (rst) {
        /* RFC 7857 s2.2: after a RST the session is kept for the 4-minute
         * transitory timeout (no instant removal, so a forged RST cannot
         * kill a mapping at once). */
        x->tcp = NAT_TCP_CLOSE;
        x->flags |= F_RST;
    } else if (!(x->flags & F_RST)) {
        if (syn)
            x->flags |= out ? F_SYN_OUT : F_SYN_IN;
        if (fin)
            x->flags |= out ? F_FIN_OUT : F_FIN_IN;
        if ((x->flags & (F_FIN_OUT | F_FIN_IN)) == (F_FIN_OUT | F_FIN_IN))
            x->tcp = NAT_TCP_TIME_WAIT; /* RFC 5382 s5: closing -> transitory */
        else if (x->flags & (F_FIN_OUT | F_FIN_IN))
            x->tcp = x->tcp == NAT_TCP_ESTABLISHED || x->tcp == NAT_TCP_FIN_WAIT
                         ? NAT_TCP_FIN_WAIT : x->tcp;
        else if ((x->flags & (F_SYN_OUT | F_SYN_IN)) == (F_SYN_OUT | F_SYN_IN) && !syn)
            /* SYN seen both ways (a handshake or RFC 5382 REQ-2's simultaneous
             * open) and now a segment without SYN: established. */
            x->tcp = NAT_TCP_ESTABLISHED;
        else if ((x->flags & (F_SYN_OUT | F_SYN_IN)) == (F_SYN_OUT | F_SYN_IN))
            x->tcp = NAT_TCP_SYN_RECV;
        else if (x->flags & (F_SYN_OUT | F_SYN_IN))
            x->tcp = NAT_TCP_SYN_SENT;
        else if ((x->flags & (F_SEEN_OUT | F_SEEN_IN)) == (F_SEEN_OUT | F_SEEN_IN))
            x->tcp = NAT_TCP_ESTABLISHED; /* picked up mid-stream, segments both ways */
    }
    if (x->tcp == NAT_TCP_ESTABLISHED && (x->flags & F_SEEN_IN) && (x->flags & F_SEEN_OUT))
        x->flags |= F_ASSURED;
    (void)n;
    (void)now;
}

/* Refresh: RFC 4787 REQ-6 (outbound refresh MUST), inbound refresh is
 * allowed (s4.3) and done too; RFC 5382 s5 for TCP; RFC 5508 REQ-1 for
 * ICMP queries. */
static void refresh(struct nat *n, struct nat_entry *x, uint64_t now)
{
    x->expires = now + timeout_of(n, x);
    if (x->expires < n->soonest)
        n->soonest = x->expires;
}

uint64_t nat_take_soonest(struct nat *n)
{
    uint64_t t = n->soonest;
    n->soonest = UINT64_MAX;
    return t;
}

static void saw(struct nat *n, struct nat_entry *x, const struct pkt *k, bool out,
                uint64_t now)
{
    x->flags |= out ? F_SEEN_OUT : F_SEEN_IN;
    if (x->proto == PROTO_TCP)
        tcp_track(n, x, k->l4, out, now);
    else if ((x->flags & (F_SEEN_OUT | F_SEEN_IN)) == (F_SEEN_OUT | F_SEEN_IN))
        x->flags |= F_ASSURED;
    refresh(n, x, now);
}

/* ---- ICMP errors (RFC 5508 s4) ---- */

/* The quoted datagram of an ICMP error at k->l4 + 8. */
struct quote {
    uint8_t *ip, *l4;
    size_t l4_len;
    uint8_t proto;
    uint32_t src, dst;
    uint16_t sport, dport;
};

static bool quote_parse(const struct pkt *k, struct quote *q)
{
    if (k->l4_len < 8 + TERN_IPV4_HLEN_MIN)
        return false;
    uint8_t *ip = k->l4 + 8;
    size_t avail = k->l4_len - 8;
    size_t hl = (size_t)(ip[0] & 15) * 4;
    if ((ip[0] >> 4) != 4 || hl < TERN_IPV4_HLEN_MIN || avail < hl + 8)
        return false;
    if ((tern_get16(ip + 6) & 0x1fff) != 0)
        return false; /* a later fragment quotes no transport header */
    q->ip = ip;
    q->l4 = ip + hl;
    q->l4_len = avail - hl;
    size_t inner_tot = tern_get16(ip + 2);
    if (inner_tot >= hl && inner_tot - hl < q->l4_len)
        q->l4_len = inner_tot - hl;
    if (q->l4_len < 8)
        return false;
    q->proto = ip[9];
    q->src = tern_get32(ip + 12);
    q->dst = tern_get32(ip + 16);
    if (q->proto == PROTO_TCP || q->proto == PROTO_UDP) {
        q->sport = tern_get16(q->l4);
        q->dport = tern_get16(q->l4 + 2);
    } else if (q->proto == PROTO_ICMP && icmp_is_query(q->l4[0])) {
        q->sport = q->dport = tern_get16(q->l4 + 4);
    } else {
        return false;
    }
    return true;
}

/* Rewrites a quoted address (at qa: inner src or dst) and port (qp) to
 * addr:port, keeping the inner IP header checksum, the inner transport
 * checksum (its pseudo-header holds the address; RFC 5508 REQ-3/4 "revert
 * the IP and transport headers of the embedded packet") and the outer ICMP
 * checksum, which covers all the inner bytes. */
static void quote_rewrite(const struct pkt *k, const struct quote *q, uint8_t *qa, uint32_t addr,
                          uint8_t *qp, uint16_t port)
{
    struct csloc outer = {k->l4 + 2, false};
    uint8_t *ipc = q->ip + 10;
    struct csloc l4 = l4cs(q->proto, q->l4, q->l4_len);
    uint16_t ipc_old = tern_get16(ipc);
    uint16_t l4_old = l4.p ? tern_get16(l4.p) : 0;
    /* First the fields, updating the inner checksums only; then the
     * inner checksums' own change is carried to the outer one. */
    struct csloc ipc_l = {ipc, false};
    /* The address is in the inner IP checksum and, except for ICMP, in the
     * inner transport pseudo-header. */
    set32(qa, addr, ipc_l, q->proto == PROTO_ICMP ? NOCS : l4, outer);
    set16(qp, port, l4, outer, NOCS);
    uint16_t ipc_new = tern_get16(ipc);
    if (ipc_new != ipc_old) {
        tern_put16(ipc, ipc_old);
        set_csum(ipc, ipc_new, outer);
    }
    if (l4.p) {
        uint16_t l4_new = tern_get16(l4.p);
        if (l4_new != l4_old) {
            tern_put16(l4.p, l4_old);
            set_csum(l4.p, l4_new, outer);
        }
    }
}

/* An ICMP error arriving from outside about a datagram the NAT sent out:
 * RFC 5508 REQ-4 (and RFC 4787 REQ-12 / RFC 5382 REQ-10: it never ends
 * the session). */
static int error_in(struct nat *n, struct pkt *k, bool fw_only)
{
    struct quote q;
    if (!quote_parse(k, &q)) {
        n->st.drop_nomatch++;
        return NAT_DROP;
    }
    /* The quoted datagram went from ext to rem. */
    uint32_t found = NIL;
    for (uint32_t i = n->b_ext[h_ext(n, q.proto, q.src, q.sport)]; i != NIL; i = n->e[i].h_ext) {
        const struct nat_entry *x = &n->e[i];
        if (x->proto == q.proto && x->ext_addr == q.src && x->ext_port == q.sport &&
            x->rem_addr == q.dst && x->rem_port == (q.proto == PROTO_ICMP ? 0 : q.dport) &&
            x->used) {
            found = i;
            break;
        }
    }
    if (found == NIL) {
        /* RFC 5508 REQ-4: no active mapping for the embedded payload ->
         * silently drop. */
        n->st.drop_nomatch++;
        return NAT_DROP;
    }
    const struct nat_entry *x = &n->e[found];
    if (!fw_only) {
        /* REQ-4 a) revert the embedded headers; c) the outer destination
         * becomes the embedded source after translation; b) type and code
         * unchanged. */
        quote_rewrite(k, &q, q.ip + 12, x->int_addr, sport_at(q.proto, q.l4), x->int_port);
        set32(k->ip + 16, x->int_addr, ipcs(k), NOCS, NOCS);
    }
    n->st.icmp_errors++;
    return NAT_PASS;
}

/* An ICMP error from inside about a datagram that came in through the NAT
 * (e.g. port unreachable from the inside host): RFC 5508 REQ-5. */
static int error_out(struct nat *n, struct pkt *k, uint32_t ext_addr, bool translate,
                     uint64_t now)
{
    struct quote q;
    if (!quote_parse(k, &q)) {
        n->st.drop_nomatch++;
        return NAT_DROP;
    }
    /* The quoted datagram went from rem to int. */
    uint32_t i = find_sess(n, q.proto, q.dst, q.dport, q.src, q.proto == PROTO_ICMP ? 0 : q.sport, now);
    if (i == NIL) {
        n->st.drop_nomatch++;
        return NAT_DROP; /* REQ-5: no mapping -> silently drop */
    }
    const struct nat_entry *x = &n->e[i];
    if (translate) {
        quote_rewrite(k, &q, q.ip + 16, x->ext_addr, dport_at(q.proto, q.l4), x->ext_port);
        set32(k->ip + 12, ext_addr, ipcs(k), NOCS, NOCS);
    }
    n->st.icmp_errors++;
    return NAT_PASS;
}

/* ---- the two directions ---- */

bool nat_has_mapping(const struct nat *n, uint8_t proto, uint32_t ext_addr, uint16_t ext_port,
                     uint64_t now)
{
    if (proto != PROTO_ICMP && fwd_reserved(n, proto, ext_port))
        return true;
    for (uint32_t i = n->b_ext[h_ext(n, proto, ext_addr, ext_port)]; i != NIL; i = n->e[i].h_ext) {
        const struct nat_entry *x = &n->e[i];
        if (x->proto == proto && x->ext_addr == ext_addr && x->ext_port == ext_port &&
            live(x, now))
            return true;
    }
    return false;
}

int nat_outbound(struct nat *n, uint8_t *d, size_t len, uint32_t ext_addr, bool translate,
                 uint64_t now)
{
    struct pkt k;
    if (!pkt_parse(d, len, &k))
        return NAT_DROP;
    if (k.proto == PROTO_ICMP && tern_icmp_is_error(k.l4[0]))
        return error_out(n, &k, ext_addr, translate, now);
    bool known = k.proto == PROTO_TCP || k.proto == PROTO_UDP ||
                 (k.proto == PROTO_ICMP && k.l4[0] == TERN_ICMP_ECHO);
    if (k.proto == PROTO_ICMP && !known) {
        /* An echo reply (or other query answer) from inside: only as the
         * answer to an inbound-created session. */
        if (k.l4[0] != TERN_ICMP_ECHOREPLY)
            return translate ? NAT_DROP : NAT_PASS;
    }
    if (!known && k.proto != PROTO_ICMP && translate) {
        n->st.drop_nomatch++;
        return NAT_DROP; /* nothing to map a port on */
    }
    uint16_t sp, dp;
    ports_of(&k, &sp, &dp);
    uint16_t rp = k.proto == PROTO_ICMP ? 0 : dp;
    uint32_t i = find_sess(n, k.proto, k.src, sp, k.dst, rp, now);
    if (i == NIL && k.proto == PROTO_ICMP && k.l4[0] == TERN_ICMP_ECHOREPLY)
        return translate ? NAT_DROP : NAT_PASS;
    if (i == NIL) {
        uint16_t ep = sp;
        uint32_t ea = translate ? ext_addr : k.src;
        if (translate && !pick_port(n, k.proto, k.src, sp, k.dst, ea, now, &ep)) {
            n->st.drop_quota++;
            return NAT_DROP;
        }
        if (!make_room(n, k.src, now)) {
            /* RFC 6888 REQ-4 / table full; RFC 5508 REQ-8 would have an
             * ICMP "administratively prohibited" sent: the stack does not
             * (DEVIATION, docs/nat.md: silence gives a flood no echo). */
            n->st.drop_quota++;
            return NAT_DROP;
        }
        i = entry_new(n, k.proto, k.src, sp, k.dst, rp, ea, ep, now);
    }
    struct nat_entry *x = &n->e[i];
    saw(n, x, &k, true, now);
    if (translate && (x->ext_addr != k.src || x->ext_port != sp)) {
        struct csloc l4 = l4cs(k.proto, k.l4, k.l4_len);
        set32(k.ip + 12, x->ext_addr, ipcs(&k), k.proto == PROTO_ICMP ? NOCS : l4, NOCS);
        set16(sport_at(k.proto, k.l4), x->ext_port, l4, NOCS, NOCS);
    }
    n->st.out++;
    return NAT_PASS;
}

static bool rule_match(const struct tern_fw_rule *r, const struct pkt *k, uint16_t dport)
{
    if (r->proto && r->proto != k->proto)
        return false;
    if ((k->src & r->src_mask) != (r->src & r->src_mask))
        return false;
    if ((k->dst & r->dst_mask) != (r->dst & r->dst_mask))
        return false;
    if (r->dport_hi && (k->proto == PROTO_TCP || k->proto == PROTO_UDP) &&
        (dport < r->dport_lo || dport > r->dport_hi))
        return false;
    if (r->dport_hi && k->proto != PROTO_TCP && k->proto != PROTO_UDP)
        return false;
    return true;
}

/* The firewall's verdict on a new inbound flow on ifindex (after DNAT, so
 * rules see the inside destination): the first matching rule, else deny. */
static bool fw_allows(struct nat *n, int ifindex, const struct pkt *k, uint16_t dport)
{
    for (int j = 0; j < n->nrules; j++) {
        struct nat_rule *r = &n->rules[j];
        if (r->ifindex != ifindex || !rule_match(&r->r, k, dport))
            continue;
        r->hits++;
        if (r->r.allow)
            n->st.fw_allow++;
        else
            n->st.fw_deny++;
        return r->r.allow;
    }
    n->st.fw_deny++;
    return false;
}

int nat_inbound(struct nat *n, uint8_t *d, size_t len, int ifindex, unsigned flags, uint64_t now)
{
    bool fw = flags & NAT_IN_FW, hairpin = flags & NAT_IN_HAIRPIN, routed = flags & NAT_IN_ROUTED;
    struct pkt k;
    if (!pkt_parse(d, len, &k))
        return NAT_DROP;
    /* fw_only: a firewall interface without NAT; the "external" address is
     * then the inside host's own. Detected by the table: a NAT interface's
     * inbound datagrams are addressed to the interface. */
    if (k.proto == PROTO_ICMP && tern_icmp_is_error(k.l4[0])) {
        struct quote q;
        if (quote_parse(&k, &q) && q.src == k.dst) {
            /* Quoting a datagram from the destination: ours, translated
             * or tracked. fw_only when the entry maps the host to itself. */
            for (uint32_t i = n->b_ext[h_ext(n, q.proto, q.src, q.sport)]; i != NIL;
                 i = n->e[i].h_ext) {
                const struct nat_entry *x = &n->e[i];
                if (x->used && x->proto == q.proto && x->ext_addr == q.src &&
                    x->ext_port == q.sport)
                    return error_in(n, &k, x->int_addr == x->ext_addr &&
                                               x->int_port == x->ext_port);
            }
        }
        n->st.drop_nomatch++;
        return NAT_DROP;
    }
    uint16_t sp, dp;
    ports_of(&k, &sp, &dp);
    uint16_t rp = k.proto == PROTO_ICMP ? 0 : sp;
    if (k.proto == PROTO_ICMP && k.l4[0] != TERN_ICMP_ECHOREPLY &&
        !(routed && k.l4[0] == TERN_ICMP_ECHO))
        return NAT_NOMATCH; /* echo requests etc.: for the router itself */
    /* Sessions using this external endpoint. */
    uint32_t exact = NIL, same_addr = NIL, any = NIL;
    for (uint32_t i = n->b_ext[h_ext(n, k.proto, k.dst, dp)]; i != NIL; i = n->e[i].h_ext) {
        const struct nat_entry *x = &n->e[i];
        if (!live(x, now) || x->proto != k.proto || x->ext_addr != k.dst || x->ext_port != dp)
            continue;
        if (x->rem_addr == k.src && x->rem_port == rp)
            exact = i;
        else if (x->rem_addr == k.src && same_addr == NIL)
            same_addr = i;
        else if (any == NIL)
            any = i;
    }
    uint32_t i = exact;
    const struct nat_fwd *f = NULL;
    for (int j = 0; j < n->nfwd && i == NIL; j++)
        if (n->fwd[j].proto == k.proto && n->fwd[j].ext_port == dp)
            f = &n->fwd[j];
    if (i == NIL) {
        /* A forwarded port: every new remote is a new flow for the rule. */
        uint32_t base = f ? NIL : same_addr != NIL ? same_addr : any;
        if (base != NIL) {
            /* RFC 4787 s5: endpoint-independent filtering passes anything
             * to the mapping, address-dependent what comes from an address
             * the inside endpoint has sent to, address-and-port-dependent
             * only the exact remote endpoint (REQ-8). RFC 5382 REQ-3 is the
             * same for TCP. Hairpinned traffic is filtered alike, the
             * "remote" being the other inside host's external endpoint. */
            bool pass = n->cfg.filtering == TERN_NAT_EI ||
                        (n->cfg.filtering == TERN_NAT_AD && same_addr != NIL);
            if (!pass) {
                /* RFC 5382 REQ-4: an unsolicited SYN gets no answer (silence,
                 * so a simultaneous open from inside can still follow). */
                n->st.drop_filter++;
                return NAT_DROP;
            }
            if (k.proto == PROTO_ICMP) {
                n->st.drop_filter++;
                return NAT_DROP; /* an echo reply from elsewhere: not an answer */
            }
            const struct nat_entry *b = &n->e[base];
            uint32_t ia = b->int_addr, ea = b->ext_addr;
            uint16_t ip = b->int_port, ep = b->ext_port;
            if (!make_room(n, ia, now)) {
                n->st.drop_quota++;
                return NAT_DROP;
            }
            i = entry_new(n, k.proto, ia, ip, k.src, rp, ea, ep, now);
            n->e[i].flags |= F_INBOUND;
        } else {
            /* No mapping at all: port forwarding (DNAT) makes one, when the
             * firewall (if on) allows it. */
            if (!f && !routed)
                return NAT_NOMATCH;
            /* Else a new flow: DNAT, or routed through a firewall-only
             * interface. */
            struct pkt v = k;
            uint16_t vdp = dp;
            if (f) {
                v.dst = f->addr;
                vdp = f->port;
            }
            if (fw && !fw_allows(n, ifindex, &v, vdp))
                return NAT_DROP;
            uint32_t ia = f ? f->addr : k.dst;
            uint16_t ip = f ? f->port : dp;
            if (!make_room(n, ia, now)) {
                n->st.drop_quota++;
                return NAT_DROP;
            }
            i = entry_new(n, k.proto, ia, ip, k.src, rp, k.dst, dp, now);
            n->e[i].flags |= F_INBOUND;
        }
    }
    struct nat_entry *x = &n->e[i];
    saw(n, x, &k, false, now);
    if (x->int_addr != k.dst || x->int_port != dp) {
        struct csloc l4 = l4cs(k.proto, k.l4, k.l4_len);
        set32(k.ip + 16, x->int_addr, ipcs(&k), k.proto == PROTO_ICMP ? NOCS : l4, NOCS);
        set16(dport_at(k.proto, k.l4), x->int_port, l4, NOCS, NOCS);
    }
    if (hairpin)
        n->st.hairpin++;
    n->st.in++;
    return NAT_PASS;
}

int nat_forward_add(struct nat *n, uint8_t proto, uint16_t ext_port, uint32_t addr, uint16_t port)
{
    if ((proto != PROTO_TCP && proto != PROTO_UDP) || ext_port == 0 || port == 0 || addr == 0)
        return -1;
    if (n->nfwd >= NAT_MAX_FORWARDS || fwd_reserved(n, proto, ext_port))
        return -1;
    n->fwd[n->nfwd++] = (struct nat_fwd){.proto = proto, .ext_port = ext_port, .addr = addr,
                                         .port = port};
    return 0;
}

int nat_fw_rule_add(struct nat *n, int ifindex, const struct tern_fw_rule *r)
{
    if (n->nrules >= NAT_MAX_FW_RULES)
        return -1;
    n->rules[n->nrules++] = (struct nat_rule){.ifindex = ifindex, .r = *r};
    return 0;
}

uint64_t nat_fw_rule_hits(const struct nat *n, int k)
{
    return k >= 0 && k < n->nrules ? n->rules[k].hits : 0;
}

/* ---- conntrack -L ---- */

static const char *tcp_name(uint8_t t)
{
    static const char *const names[] = {"SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT",
                                        "TIME_WAIT", "CLOSE"};
    return t < 6 ? names[t] : "NONE";
}

static void ip4s(uint32_t a, char *b)
{
    snprintf(b, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

size_t nat_list(const struct nat *n, char *buf, size_t cap, uint64_t now)
{
    size_t used = 0;
    if (cap)
        buf[0] = 0;
    for (uint32_t i = 0; i < n->cap; i++) {
        const struct nat_entry *x = &n->e[i];
        if (!live(x, now))
            continue;
        char ia[16], ra[16], ea[16], line[320];
        ip4s(x->int_addr, ia);
        ip4s(x->rem_addr, ra);
        ip4s(x->ext_addr, ea);
        unsigned long long secs = (unsigned long long)((x->expires - now) / 1000000);
        bool replied = x->flags & F_SEEN_IN;
        int m;
        /* The original tuple (as the inside host sent it), then the reply
         * tuple (as the remote host sends it back), as conntrack -L. An
         * inbound-created (DNAT) entry reads the same way from inside. */
        if (x->flags & F_INBOUND) {
            /* Started from outside (a port forward, endpoint-independent
             * filtering, a firewall rule): the original tuple is the
             * remote host's, as conntrack shows a DNAT entry. */
            char ra2[16];
            ip4s(x->int_addr, ra2);
            m = snprintf(line, sizeof line,
                         "%-8s %u %llu %s%ssrc=%s dst=%s sport=%u dport=%u %ssrc=%s dst=%s "
                         "sport=%u dport=%u %smark=0 use=1\n",
                         x->proto == PROTO_TCP ? "tcp" : x->proto == PROTO_UDP ? "udp" : "unknown",
                         x->proto, secs, x->proto == PROTO_TCP ? tcp_name(x->tcp) : "",
                         x->proto == PROTO_TCP ? " " : "", ra, ea, x->rem_port, x->ext_port,
                         (x->flags & F_SEEN_OUT) ? "" : "[UNREPLIED] ", ra2, ra, x->int_port,
                         x->rem_port, (x->flags & F_ASSURED) ? "[ASSURED] " : "");
        } else if (x->proto == PROTO_ICMP)
            m = snprintf(line, sizeof line,
                         "icmp     1 %llu src=%s dst=%s type=8 code=0 id=%u %s"
                         "src=%s dst=%s type=0 code=0 id=%u mark=0 use=1\n",
                         secs, ia, ra, x->int_port, replied ? "" : "[UNREPLIED] ", ra, ea,
                         x->ext_port);
        else if (x->proto == PROTO_TCP)
            m = snprintf(line, sizeof line,
                         "tcp      6 %llu %s src=%s dst=%s sport=%u dport=%u %ssrc=%s dst=%s "
                         "sport=%u dport=%u %smark=0 use=1\n",
                         secs, tcp_name(x->tcp), ia, ra, x->int_port, x->rem_port,
                         replied ? "" : "[UNREPLIED] ", ra, ea, x->rem_port, x->ext_port,
                         (x->flags & F_ASSURED) ? "[ASSURED] " : "");
        else
            m = snprintf(line, sizeof line,
                         "%-8s %u %llu src=%s dst=%s sport=%u dport=%u %ssrc=%s dst=%s "
                         "sport=%u dport=%u %smark=0 use=1\n",
                         x->proto == PROTO_UDP ? "udp" : "unknown", x->proto, secs, ia, ra,
                         x->int_port, x->rem_port, replied ? "" : "[UNREPLIED] ", ra, ea,
                         x->rem_port, x->ext_port, (x->flags & F_ASSURED) ? "[ASSURED] " : "");
        if (m < 0)
            continue;
        if (used + (size_t)m < cap)
            memcpy(buf + used, line, (size_t)m + 1);
        else if (used < cap)
            buf[used] = 0;
        used += (size_t)m;
    }
    return used;
}
