/*
 * nat.c - the NAPT session table (nat_xlate.c translates datagrams through
 * it): RFC 4787 (UDP), RFC 5382 (TCP), RFC 5508 (ICMP), RFC 7857 (updates),
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
#include "core/nat_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/wire/bytes.h"
#include "tern/wire/ipv4.h"

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
    prng_init(&n->rng, seed ^ 0x6e6174u);
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
    return (uint32_t)prng_hash(&n->rng, w, nw * sizeof *w) & (n->nbuckets - 1);
}

static uint32_t h_sess(const struct nat *n, uint8_t p, uint32_t ia, uint16_t ip, uint32_t ra,
                       uint16_t rp)
{
    uint32_t w[4] = {1u << 24 | (uint32_t)p << 16 | ip, ia, ra, rp};
    return hkey(n, w, 4);
}

uint32_t nat_h_ext(const struct nat *n, uint8_t p, uint32_t ea, uint16_t ep)
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

bool nat_live(const struct nat_entry *x, uint64_t now) { return x->used && x->expires > now; }

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
    unlink_chain(n, &n->b_ext[nat_h_ext(n, x->proto, x->ext_addr, x->ext_port)], i,
                 offsetof(struct nat_entry, h_ext));
    unlink_chain(n, &n->b_int[h_int(n, x->proto, x->int_addr, x->int_port)], i,
                 offsetof(struct nat_entry, h_int));
    host_dec(n, x->int_addr);
    x->used = false;
    x->free_next = n->free_head;
    n->free_head = i;
    n->st.entries--;
}

bool nat_transitory(const struct nat_entry *x)
{
    /* RFC 5382 s5: transitory = not yet established both ways, or closing
     * (FIN both ways, or RST: RFC 7857 s2.2). */
    return x->proto == PROTO_TCP && x->tcp != NAT_TCP_ESTABLISHED && x->tcp != NAT_TCP_FIN_WAIT;
}

uint64_t nat_timeout_of(const struct nat *n, const struct nat_entry *x)
{
    switch (x->proto) {
    case PROTO_TCP:
        return nat_transitory(x) ? n->cfg.tcp_trans_timeout_us : n->cfg.tcp_est_timeout_us;
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
        if (!x->used || !nat_transitory(x) || (!any && x->int_addr != a))
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
bool nat_make_room(struct nat *n, uint32_t a, uint64_t now)
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

uint32_t nat_entry_new(struct nat *n, uint8_t p, uint32_t ia, uint16_t ip, uint32_t ra,
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
    b = nat_h_ext(n, p, ea, ep);
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

uint32_t nat_find_sess(const struct nat *n, uint8_t p, uint32_t ia, uint16_t ip, uint32_t ra,
                          uint16_t rp, uint64_t now)
{
    for (uint32_t i = n->b_sess[h_sess(n, p, ia, ip, ra, rp)]; i != NIL; i = n->e[i].h_sess) {
        const struct nat_entry *x = &n->e[i];
        if (x->proto == p && x->int_addr == ia && x->int_port == ip && x->rem_addr == ra &&
            x->rem_port == rp && nat_live(x, now))
            return i;
    }
    return NIL;
}

bool nat_lookup(const struct nat *n, uint8_t proto, uint32_t int_addr, uint16_t int_port,
                uint32_t rem_addr, uint16_t rem_port, uint64_t now, uint16_t *ext_port,
                int *tcp_state)
{
    uint32_t i = nat_find_sess(n, proto, int_addr, int_port, rem_addr, rem_port, now);
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
    for (uint32_t i = n->b_ext[nat_h_ext(n, proto, ea, ep)]; i != NIL; i = n->e[i].h_ext) {
        const struct nat_entry *x = &n->e[i];
        if (x->proto == proto && x->ext_addr == ea && x->ext_port == ep && x->rem_addr == ra &&
            x->rem_port == rp && nat_live(x, now)) {
            *ia = x->int_addr;
            *ip = x->int_port;
            return true;
        }
    }
    return false;
}

bool nat_fwd_reserved(const struct nat *n, uint8_t p, uint16_t port)
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
    if (nat_fwd_reserved(n, p, port))
        return false;
    for (uint32_t i = n->b_ext[nat_h_ext(n, p, ea, port)]; i != NIL; i = n->e[i].h_ext) {
        const struct nat_entry *x = &n->e[i];
        if (x->proto == p && x->ext_addr == ea && x->ext_port == port && nat_live(x, now))
            return false;
    }
    return true;
}

/* The external port for a new session of inside endpoint (ia, ip). */
bool nat_pick_port(struct nat *n, uint8_t p, uint32_t ia, uint16_t ip, uint32_t ra,
                      uint32_t ea, uint64_t now, uint16_t *out)
{
    /* RFC 4787 s4.1 / REQ-1: endpoint-independent mapping reuses the port
     * of any session of this inside endpoint; address-dependent only of
     * one to the same remote address; address-and-port-dependent never. */
    if (n->cfg.mapping != TERN_NAT_APD) {
        for (uint32_t i = n->b_int[h_int(n, p, ia, ip)]; i != NIL; i = n->e[i].h_int) {
            const struct nat_entry *x = &n->e[i];
            if (x->proto == p && x->int_addr == ia && x->int_port == ip && x->ext_addr == ea &&
                nat_live(x, now) && (n->cfg.mapping == TERN_NAT_EI || x->rem_addr == ra)) {
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
    uint32_t start = (uint32_t)prng_below(&n->rng, span);
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

int nat_forward_add(struct nat *n, uint8_t proto, uint16_t ext_port, uint32_t addr, uint16_t port)
{
    if ((proto != PROTO_TCP && proto != PROTO_UDP) || ext_port == 0 || port == 0 || addr == 0)
        return -1;
    if (n->nfwd >= NAT_MAX_FORWARDS || nat_fwd_reserved(n, proto, ext_port))
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
        if (!nat_live(x, now))
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
