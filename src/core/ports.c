/*
 * ports.c - the per-stack port table shared by UDP and TCP: bind with the
 * Linux SO_REUSEADDR rules, ephemeral port selection (RFC 6056), the
 * privileged-port policy, and the lookups the input paths use.
 * Not: demultiplexing policy (udp.c / tcp decide which match wins).
 *
 * Two keyed hash tables over the socket pool (chains through tern_sock):
 *  - bind table, key (proto, local port): every bound socket;
 *  - connection table, key (proto, laddr, lport, raddr, rport): connected
 *    sockets, so a segment for one of 10,000 connections on port 80 costs
 *    one hash lookup (DESIGN.md principle 7), never a scan of all sockets.
 * Buckets: a power of two >= 2 * the socket slots allocated so far (at
 * least PORTS_MIN_BUCKETS), doubled as the socket pool grows (ports_grow);
 * SipHash under the stack key so no sender can aim every key at one chain.
 * Chain walks are bounded by max_sockets (G2).
 *
 * Bind conflicts (Linux inet_csk_bind_conflict / udp_lib_lport_inuse): two
 * sockets of one protocol on one port conflict when their local addresses
 * overlap (equal, or either is 0.0.0.0) and their bound interfaces overlap
 * (equal, or either unbound) - unless both set SO_REUSEADDR and, for TCP,
 * neither is listening. A UDP socket may thus share a port (even the exact
 * address) with others that all set SO_REUSEADDR; Linux's SO_REUSEPORT is
 * not implemented.
 */
#include <stdlib.h>
#include <string.h>

#include "core/socket_impl.h"
#include "tern/wire/bytes.h"

#define ALG4_TABLE 256    /* RFC 6056 s3.3.4 TABLE_LENGTH */
#define ALG5_N 500        /* RFC 6056 s3.3.5 default N */
#define PORTS_MIN_BUCKETS 128

struct ports {
    uint32_t nbuckets;    /* power of two */
    uint32_t *bind;       /* heads of bind chains */
    uint32_t *conn;       /* heads of 4-tuple chains */
    uint32_t last;        /* the socket ports_find_conn found last (SOCK_NIL: none) */
    uint16_t table[ALG4_TABLE];
};

int ports_init(struct tern_stack *s)
{
    struct ports *p = calloc(1, sizeof *p);
    if (!p)
        return TERN_E_NOMEM;
    s->ports = p;
    p->last = SOCK_NIL;
    p->nbuckets = PORTS_MIN_BUCKETS;
    while (p->nbuckets < 2 * s->sock_cap)
        p->nbuckets <<= 1;
    p->bind = malloc(p->nbuckets * sizeof *p->bind);
    p->conn = malloc(p->nbuckets * sizeof *p->conn);
    if (!p->bind || !p->conn)
        return TERN_E_NOMEM;
    for (uint32_t i = 0; i < p->nbuckets; i++)
        p->bind[i] = p->conn[i] = SOCK_NIL;
    /* RFC 6056 s3.3.4: the table starts at random values. */
    for (int i = 0; i < ALG4_TABLE; i++)
        p->table[i] = (uint16_t)prng_next(&s->rng);
    return TERN_OK;
}

void ports_free(struct tern_stack *s)
{
    if (!s->ports)
        return;
    free(s->ports->bind);
    free(s->ports->conn);
    free(s->ports);
    s->ports = NULL;
}

static uint32_t bind_hash(const struct tern_stack *s, uint8_t proto, uint16_t port)
{
    uint8_t k[4] = {'b', proto, (uint8_t)(port >> 8), (uint8_t)port};
    return (uint32_t)prng_hash(&s->rng, k, sizeof k) & (s->ports->nbuckets - 1);
}

static uint32_t conn_hash(const struct tern_stack *s, uint8_t proto, uint32_t laddr,
                          uint16_t lport, uint32_t raddr, uint16_t rport)
{
    uint8_t k[14];
    k[0] = 'c';
    k[1] = proto;
    tern_put32(k + 2, laddr);
    tern_put16(k + 6, lport);
    tern_put32(k + 8, raddr);
    tern_put16(k + 12, rport);
    return (uint32_t)prng_hash(&s->rng, k, sizeof k) & (s->ports->nbuckets - 1);
}

struct tern_sock *ports_first(struct tern_stack *s, uint8_t proto, uint16_t port)
{
    uint32_t i = s->ports->bind[bind_hash(s, proto, port)];
    for (uint32_t steps = 0; i != SOCK_NIL && steps < s->cfg.max_sockets; steps++) {
        struct tern_sock *sk = sock_slot(s, i);
        if (sk->proto == proto && sk->local.port == port)
            return sk;
        i = sk->bnext;
    }
    return NULL;
}

struct tern_sock *ports_next(struct tern_stack *s, const struct tern_sock *cur)
{
    uint32_t i = cur->bnext;
    for (uint32_t steps = 0; i != SOCK_NIL && steps < s->cfg.max_sockets; steps++) {
        struct tern_sock *sk = sock_slot(s, i);
        if (sk->proto == cur->proto && sk->local.port == cur->local.port)
            return sk;
        i = sk->bnext;
    }
    return NULL;
}

static bool conn_is(const struct tern_sock *sk, uint8_t proto, uint32_t laddr, uint16_t lport,
                    uint32_t raddr, uint16_t rport)
{
    return sk->proto == proto && sk->local.addr == laddr && sk->local.port == lport &&
           sk->peer.addr == raddr && sk->peer.port == rport;
}

struct tern_sock *ports_find_conn(struct tern_stack *s, uint8_t proto, uint32_t laddr,
                                  uint16_t lport, uint32_t raddr, uint16_t rport)
{
    /* The segments of a busy connection come in runs: the last match is
     * checked first, without the keyed hash. The table itself stays keyed
     * (a flood of other 4-tuples only misses this one-entry shortcut). */
    struct ports *p = s->ports;
    if (p->last != SOCK_NIL && sock_slot(s, p->last)->in_conn_table &&
        conn_is(sock_slot(s, p->last), proto, laddr, lport, raddr, rport))
        return sock_slot(s, p->last);
    uint32_t i = p->conn[conn_hash(s, proto, laddr, lport, raddr, rport)];
    for (uint32_t steps = 0; i != SOCK_NIL && steps < s->cfg.max_sockets; steps++) {
        struct tern_sock *sk = sock_slot(s, i);
        if (conn_is(sk, proto, laddr, lport, raddr, rport)) {
            p->last = i;
            return sk;
        }
        i = sk->cnext;
    }
    return NULL;
}

static void chain_remove(struct tern_stack *s, uint32_t *head, struct tern_sock *sk, bool conn)
{
    uint32_t *pp = head;
    for (uint32_t steps = 0; *pp != SOCK_NIL && steps < s->cfg.max_sockets; steps++) {
        struct tern_sock *c = sock_slot(s, *pp);
        if (c == sk) {
            *pp = conn ? sk->cnext : sk->bnext;
            return;
        }
        pp = conn ? &c->cnext : &c->bnext;
    }
}

void ports_conn_clear(struct tern_stack *s, struct tern_sock *sk)
{
    if (!sk->in_conn_table)
        return;
    chain_remove(s, &s->ports->conn[conn_hash(s, sk->proto, sk->local.addr, sk->local.port,
                                              sk->peer.addr, sk->peer.port)],
                 sk, true);
    if (s->ports->last == sk->idx)
        s->ports->last = SOCK_NIL;
    sk->in_conn_table = false;
    sk->cnext = SOCK_NIL;
}

/* The caller changes sk->local/peer only while sk is out of the table. */
void ports_conn_set(struct tern_stack *s, struct tern_sock *sk)
{
    ports_conn_clear(s, sk);
    uint32_t *head = &s->ports->conn[conn_hash(s, sk->proto, sk->local.addr, sk->local.port,
                                               sk->peer.addr, sk->peer.port)];
    sk->cnext = *head;
    *head = sk->idx;
    sk->in_conn_table = true;
}

void ports_unbind(struct tern_stack *s, struct tern_sock *sk)
{
    ports_conn_clear(s, sk);
    if (!sk->bound)
        return;
    chain_remove(s, &s->ports->bind[bind_hash(s, sk->proto, sk->local.port)], sk, false);
    sk->bound = false;
    sk->bnext = SOCK_NIL;
}

/* Moves one table's chains to new heads (nb buckets, p->nbuckets already
 * set): each new chain is a subsequence of one old chain (the old mask's
 * bits are a subset of the new one's), appended in order, so sockets of
 * one key keep their order (ports_first/next: newest bind first). */
static void rehash(struct tern_stack *s, uint32_t *old, uint32_t nold, uint32_t *heads,
                   uint32_t *tails, bool conn)
{
    uint32_t nb = s->ports->nbuckets;
    for (uint32_t b = 0; b < nb; b++)
        heads[b] = tails[b] = SOCK_NIL;
    for (uint32_t b = 0; b < nold; b++) {
        for (uint32_t i = old[b]; i != SOCK_NIL;) {
            struct tern_sock *sk = sock_slot(s, i);
            uint32_t next = conn ? sk->cnext : sk->bnext;
            uint32_t h = conn ? conn_hash(s, sk->proto, sk->local.addr, sk->local.port,
                                          sk->peer.addr, sk->peer.port)
                              : bind_hash(s, sk->proto, sk->local.port);
            if (tails[h] == SOCK_NIL)
                heads[h] = i;
            else if (conn)
                sock_slot(s, tails[h])->cnext = i;
            else
                sock_slot(s, tails[h])->bnext = i;
            tails[h] = i;
            if (conn)
                sk->cnext = SOCK_NIL;
            else
                sk->bnext = SOCK_NIL;
            i = next;
        }
    }
}

void ports_grow(struct tern_stack *s)
{
    struct ports *p = s->ports;
    uint32_t want = p->nbuckets;
    while (want < 2 * s->sock_cap)
        want <<= 1;
    if (want == p->nbuckets)
        return;
    uint32_t *bind = malloc(want * sizeof *bind), *conn = malloc(want * sizeof *conn);
    uint32_t *tails = malloc(want * sizeof *tails);
    if (!bind || !conn || !tails) { /* no memory: the old table stays, chains longer */
        free(bind);
        free(conn);
        free(tails);
        return;
    }
    uint32_t nold = p->nbuckets;
    p->nbuckets = want;
    rehash(s, p->bind, nold, bind, tails, false);
    rehash(s, p->conn, nold, conn, tails, true);
    free(tails);
    free(p->bind);
    free(p->conn);
    p->bind = bind;
    p->conn = conn;
}

static bool overlap(uint32_t a, uint32_t b)
{
    return a == 0 || b == 0 || a == b;
}

static bool iface_overlap(int a, int b)
{
    return a < 0 || b < 0 || a == b;
}

/* Would sk (about to take addr:port) conflict with o, already there? */
static bool conflicts(const struct tern_sock *sk, uint32_t addr, const struct tern_sock *o,
                      const struct tern_sockaddr *peer)
{
    if (o == sk || !overlap(addr, o->local.addr) || !iface_overlap(sk->bind_ifindex, o->bind_ifindex))
        return false;
    /* Both chose the port by connecting: distinct 4-tuples may share it
     * (Linux __inet_hash_connect). */
    if (peer && o->conn_autobound && o->connected &&
        (o->peer.addr != peer->addr || o->peer.port != peer->port))
        return false;
    if (sk->reuseaddr && o->reuseaddr && !(sk->listening || o->listening))
        return false;
    return true;
}

static bool port_usable(struct tern_stack *s, const struct tern_sock *sk, uint32_t addr,
                        uint16_t port, const struct tern_sockaddr *peer)
{
    for (struct tern_sock *o = ports_first(s, sk->proto, port); o; o = ports_next(s, o))
        if (conflicts(sk, addr, o, peer))
            return false;
    return true;
}

/* For an ephemeral port nobody else holds it (autobind never shares a
 * port through SO_REUSEADDR, as on Linux). */
static bool port_free(struct tern_stack *s, const struct tern_sock *sk, uint32_t addr,
                      uint16_t port, const struct tern_sockaddr *peer)
{
    /* a TIME_WAIT or SYN-queue record of that 4-tuple (tcp_tw.c, tcp_req.c) */
    if (peer && sk->proto == TERN_IPPROTO_TCP &&
        (tcp_tw_busy(s, addr, port, peer->addr, peer->port) ||
         tcp_req_busy(s, addr, port, peer->addr, peer->port)))
        return false;
    for (struct tern_sock *o = ports_first(s, sk->proto, port); o; o = ports_next(s, o)) {
        if (o == sk)
            continue;
        if (peer && o->conn_autobound && o->connected &&
            (o->peer.addr != peer->addr || o->peer.port != peer->port) &&
            overlap(addr, o->local.addr))
            continue;
        return false;
    }
    return true;
}

/* RFC 6056 s3.3.1 Algorithm 1 (no peer known: a plain bind or the first
 * sendto): a random start from the stack generator, then a linear search.
 * RFC 6056 s3.3.4 Algorithm 4 (double-hash; a peer is known): offset =
 * F(laddr, raddr, rport), table[G(laddr, raddr, rport)] as the per-bucket
 * counter - advanced by a random 1..N step (s3.3.5 Algorithm 5) instead of
 * 1, so that even successive ports to one peer are not predictable (G4,
 * ATTACKS 39; RFC 5452 for DNS). F and G are SipHash under the stack key
 * with distinct tags. Returns 0 if the range is exhausted. */
static uint16_t pick_ephemeral(struct tern_stack *s, const struct tern_sock *sk, uint32_t addr,
                               const struct tern_sockaddr *peer)
{
    uint32_t lo = s->cfg.ephemeral_lo, num = (uint32_t)s->cfg.ephemeral_hi - lo + 1;
    uint32_t offset;
    uint16_t *ctr = NULL;
    if (peer) {
        uint8_t k[12];
        k[0] = 'F';
        k[1] = sk->proto;
        tern_put32(k + 2, addr);
        tern_put32(k + 6, peer->addr);
        tern_put16(k + 10, peer->port);
        offset = (uint32_t)prng_hash(&s->rng, k, sizeof k);
        k[0] = 'G';
        ctr = &s->ports->table[prng_hash(&s->rng, k, sizeof k) % ALG4_TABLE];
        offset += *ctr;
    } else {
        offset = (uint32_t)prng_below(&s->rng, num);
    }
    for (uint32_t i = 0; i < num; i++) {
        uint16_t port = (uint16_t)(lo + (offset + i) % num);
        if (port_free(s, sk, addr, port, peer)) {
            if (ctr)
                *ctr = (uint16_t)(*ctr + i + 1 + prng_below(&s->rng, ALG5_N));
            return port;
        }
    }
    return 0;
}

static bool addr_bindable(struct tern_stack *s, uint32_t addr)
{
    return addr == 0 || stack_is_our_addr(s, addr) || ip_is_loopback(addr);
}

int ports_bind(struct tern_stack *s, struct tern_sock *sk, uint32_t addr, uint16_t port,
               const struct tern_sockaddr *peer)
{
    if (sk->bound)
        return TERN_E_INVAL;
    if (!addr_bindable(s, addr))
        return TERN_E_ADDRNOTAVAIL;
    if (port == 0) {
        port = pick_ephemeral(s, sk, addr, peer);
        if (port == 0)
            return TERN_E_ADDRINUSE; /* Linux: EADDRINUSE / EAGAIN when exhausted */
        sk->conn_autobound = peer != NULL;
    } else {
        /* The seeds' policy: ports below 1024 for privileged callers only. */
        if (s->cfg.privileged_ports && port < 1024 && !sk->privileged)
            return TERN_E_ACCES;
        if (!port_usable(s, sk, addr, port, NULL))
            return TERN_E_ADDRINUSE;
        sk->conn_autobound = false;
    }
    sk->local.addr = addr;
    sk->local.port = port;
    /* Newest first: among equal matches the latest bind wins, as on Linux. */
    uint32_t *head = &s->ports->bind[bind_hash(s, sk->proto, port)];
    sk->bnext = *head;
    *head = sk->idx;
    sk->bound = true;
    return TERN_OK;
}

int ports_check_listen(struct tern_stack *s, const struct tern_sock *sk)
{
    for (struct tern_sock *o = ports_first(s, sk->proto, sk->local.port); o; o = ports_next(s, o)) {
        if (o == sk || !overlap(sk->local.addr, o->local.addr) ||
            !iface_overlap(sk->bind_ifindex, o->bind_ifindex) || o->connected)
            continue;
        return TERN_E_ADDRINUSE; /* a listener shares its port with no unconnected socket */
    }
    return TERN_OK;
}
