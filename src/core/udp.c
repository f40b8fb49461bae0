/*
 * udp.c - UDP (RFC 768, RFC 1122 s4.1): input with checksum and length
 * checks, demultiplexing to sockets, per-socket bounded receive queues,
 * output through IP, ICMP errors in both directions; the UDP socket ops.
 * Not: the header codec (src/wire/udp.c), the port table (ports.c),
 * generic socket code (socket.c), group membership (igmp.c).
 *
 * Demultiplexing (Linux udp4_lib_lookup order): a connected socket with the
 * exact 4-tuple, else the best bound socket (specific address beats
 * 0.0.0.0, a socket bound to the arrival interface beats an unbound one;
 * among equals the latest bind). Broadcasts go to every matching socket
 * (SO_REUSEADDR sharing), unicast to one; so do datagrams to a group
 * (joined on the arrival interface, ipv4_in.c): every socket bound to the
 * port and to 0.0.0.0 or the group gets a copy, filtered by the socket's
 * membership (its sources); a socket without one takes it only with
 * IP_MULTICAST_ALL on, the default (Linux).
 * Sending to a group: IP_MULTICAST_IF (or the route) picks the interface,
 * IP_MULTICAST_TTL the TTL (1 by default), and IP_MULTICAST_LOOP gives
 * our own stack a copy when the group is joined there. An interface with
 * no address (DHCP) hands unicast for any address to sockets bound to it.
 *
 * Receive queue: a byte ring of rcvbuf bytes allocated when the socket is
 * opened, records [u32 from addr][u16 from port][u16 len][data]; a record
 * costs its payload + 8 bytes. Full -> the datagram is dropped and counted
 * (per socket rx_drops, stats.udp.rcvbuf_errors).
 */
#include <stdlib.h>
#include <string.h>

#include "core/mcast.h"
#include "core/socket_impl.h"
#include "tern/wire/bytes.h"
#include "tern/wire/udp.h"

#define REC_HDR 8

static void enqueue(struct tern_sock *sk, uint32_t from, uint16_t sport, const uint8_t *p,
                    size_t len)
{
    struct sock_ring *r = &udp_of(sk)->rq;
    if (REC_HDR + len > ring_space(r)) {
        udp_of(sk)->rx_drops++;
        sk->s->stats.udp.rcvbuf_errors++;
        return;
    }
    uint8_t h[REC_HDR];
    tern_put32(h, from);
    tern_put16(h + 4, sport);
    tern_put16(h + 6, (uint16_t)len);
    ring_write(r, h, REC_HDR);
    ring_write(r, p, len);
    r->count++;
    r->data_bytes += len;
    sock_notify(sk);
}

static bool peer_ok(const struct tern_sock *sk, uint32_t src, uint16_t sport)
{
    return !sk->connected || (sk->peer.addr == src && sk->peer.port == sport);
}

static bool iface_ok(const struct tern_sock *sk, int ifindex)
{
    return sk->bind_ifindex < 0 || sk->bind_ifindex == ifindex;
}

/* RFC 1122 s4.1.3.1 / RFC 919: a broadcast goes to every socket that would
 * take it. Linux __udp_is_mcast_sock: bound to 0.0.0.0 or the destination. */
static unsigned deliver_all(struct tern_stack *s, const struct tern_ipv4_repr *ip,
                            const struct tern_udp_repr *u, int ifindex)
{
    unsigned n = 0;
    for (struct tern_sock *sk = ports_first(s, TERN_IPPROTO_UDP, u->dport); sk;
         sk = ports_next(s, sk)) {
        if ((sk->local.addr && sk->local.addr != ip->dst) || !iface_ok(sk, ifindex) ||
            !peer_ok(sk, ip->src, u->sport))
            continue;
        if (ip_is_multicast(ip->dst) && !mcast_sock_allow(sk, ip->dst, ifindex, ip->src))
            continue;
        enqueue(sk, ip->src, u->sport, u->payload, u->payload_len);
        n++;
    }
    return n;
}

static struct tern_sock *lookup_unicast(struct tern_stack *s, const struct tern_ipv4_repr *ip,
                                        const struct tern_udp_repr *u, int ifindex, bool ours)
{
    struct tern_sock *sk;
    if (ours) {
        sk = ports_find_conn(s, TERN_IPPROTO_UDP, ip->dst, u->dport, ip->src, u->sport);
        if (!sk)
            sk = ports_find_conn(s, TERN_IPPROTO_UDP, 0, u->dport, ip->src, u->sport);
        if (sk && iface_ok(sk, ifindex))
            return sk;
    }
    struct tern_sock *best = NULL;
    int best_score = -1;
    for (sk = ports_first(s, TERN_IPPROTO_UDP, u->dport); sk; sk = ports_next(s, sk)) {
        if (sk->connected || !iface_ok(sk, ifindex))
            continue;
        if (!ours) {
            /* Not one of our addresses: only the interface has none yet. */
            if (sk->local.addr == 0 && sk->bind_ifindex == ifindex)
                return sk;
            continue;
        }
        if (sk->local.addr && sk->local.addr != ip->dst)
            continue;
        int score = (sk->local.addr ? 2 : 0) + (sk->bind_ifindex >= 0 ? 1 : 0);
        if (score > best_score) {
            best = sk;
            best_score = score;
        }
    }
    return best;
}

static void udp_input(void *ctx, const struct tern_ipv4_repr *ip, const uint8_t *p, size_t len,
                      int ifindex)
{
    struct tern_stack *s = ctx;
    struct tern_udp_repr u;
    s->stats.udp.rx++;
    /* ATTACKS 22: length < 8 or beyond the IP payload dropped, shorter
     * trimmed, checksum verified (0 = none, RFC 768 / RFC 1122 s4.1.3.4). */
    int rc = tern_udp_parse(p, len, ip->src, ip->dst, 0, &u);
    if (rc == TERN_E_BAD_CSUM) {
        s->stats.udp.drop_csum++;
        return;
    }
    if (rc < 0) {
        s->stats.udp.drop_len++;
        return;
    }
    bool bcast = stack_is_bcast(s, ip->dst) || ip_is_multicast(ip->dst);
    bool ours = stack_is_our_addr(s, ip->dst) || ip_is_loopback(ip->dst);
    if (bcast) {
        if (deliver_all(s, ip, &u, ifindex) == 0)
            s->stats.udp.no_port++; /* RFC 1122 s4.1.3.1: no ICMP for broadcasts */
        return;
    }
    struct tern_sock *sk = lookup_unicast(s, ip, &u, ifindex, ours);
    if (!sk) {
        s->stats.udp.no_port++;
        /* RFC 1122 s4.1.3.1: port unreachable (icmp_send_error applies
         * the s3.2.2 rules: never for link broadcasts, rate-limited). */
        if (ours)
            ip_deliver_icmp_error(s, TERN_ICMP_UNREACH, TERN_ICMP_UNREACH_PORT);
        return;
    }
    enqueue(sk, ip->src, u.sport, u.payload, u.payload_len);
}

/* An ICMP error quoting one of our datagrams. Linux semantics (udp_err
 * without IP_RECVERR): only a connected socket with the exact 4-tuple
 * learns of it, and only of "hard" errors (RFC 1122 s4.1.3.3 passes them
 * up), as icmp_classify calls them. Soft ones - net/host unreachable
 * (codes 0, 1), fragmentation needed, source route failed, time exceeded,
 * parameter problem - are ignored, as on Linux. */
static void udp_icmp_error(void *ctx, uint8_t type, uint8_t code, uint16_t next_mtu,
                           const struct tern_icmp_quote *q)
{
    struct tern_stack *s = ctx;
    (void)next_mtu;
    if (q->ip.frag_off != 0)
        return; /* the ports are not in a non-first fragment */
    struct tern_sock *sk =
        ports_find_conn(s, TERN_IPPROTO_UDP, q->ip.src, q->sport, q->ip.dst, q->dport);
    if (!sk)
        sk = ports_find_conn(s, TERN_IPPROTO_UDP, 0, q->sport, q->ip.dst, q->dport);
    struct icmp_err_class c; /* the table TCP uses too (icmp.c) */
    if (!sk || !icmp_classify(type, code, &c) || !c.hard) {
        s->stats.icmp.errors_ignored++;
        return;
    }
    sock_set_error(sk, c.err);
}

/* ---- socket ops --------------------------------------------------------- */

static int udp_open(struct tern_sock *sk)
{
    struct udp_sock *u = calloc(1, sizeof *u);
    if (!u)
        return TERN_E_NOMEM;
    sk->pcb = u;
    return ring_alloc(&u->rq, sk->rcvbuf);
}

void udp_sock_free(struct tern_sock *sk)
{
    struct udp_sock *u = udp_of(sk);
    if (!u)
        return;
    ring_free(&u->rq);
    free(u);
    sk->pcb = NULL;
}

static int udp_bind(struct tern_sock *sk, const struct tern_sockaddr *local)
{
    return ports_bind(sk->s, sk, local->addr, local->port, NULL);
}

static bool is_bcast(const struct tern_stack *s, uint32_t a)
{
    return stack_is_bcast(s, a);
}

/* Source address and interface for dst (RFC 1122 s3.3.4.3: the bound
 * address, else the outgoing interface's). *oif >= 0 when the socket is
 * bound to an interface. */
static int udp_route(struct tern_sock *sk, uint32_t dst, uint32_t *src, int *oif)
{
    struct tern_stack *s = sk->s;
    struct tern_iface *ifc;
    *oif = -1;
    if (stack_is_our_addr(s, dst) || ip_is_loopback(dst)) {
        *src = sk->local.addr ? sk->local.addr : dst;
        return TERN_OK;
    }
    if (sk->bind_ifindex >= 0) {
        ifc = stack_iface(s, sk->bind_ifindex);
        *oif = sk->bind_ifindex;
    } else if (ip_is_multicast(dst)) {
        /* RFC 1112 s6.1: IP_MULTICAST_IF, else by route (igmp.c). */
        ifc = mcast_out_iface(s, sk->mc_ifindex, dst);
        if (ifc)
            *oif = ifc->index;
    } else if (dst == 0xffffffffu) {
        ifc = sk->local.addr ? stack_iface_by_addr(s, sk->local.addr) : NULL;
        if (!ifc)
            ifc = stack_first_up_iface(s);
    } else {
        int ifindex;
        ifc = tern_route_lookup(s, dst, NULL, &ifindex) == TERN_OK ? stack_iface(s, ifindex) : NULL;
    }
    if (!ifc || !ifc->up)
        return TERN_E_NETUNREACH;
    *src = sk->local.addr ? sk->local.addr : ifc->addr;
    return TERN_OK;
}

static int udp_connect(struct tern_sock *sk, const struct tern_sockaddr *peer)
{
    struct tern_stack *s = sk->s;
    ports_conn_clear(s, sk);
    if (!peer) {
        /* Dissolve the association (Linux: connect with AF_UNSPEC). */
        sk->connected = false;
        memset(&sk->peer, 0, sizeof sk->peer);
        if (sk->autoaddr)
            sk->local.addr = 0;
        sk->autoaddr = false;
        return TERN_OK;
    }
    if (peer->addr == 0 || peer->port == 0)
        return TERN_E_INVAL;
    if (is_bcast(s, peer->addr) && !sk->broadcast)
        return TERN_E_ACCES;
    uint32_t src;
    int oif;
    int rc = udp_route(sk, peer->addr, &src, &oif);
    if (rc < 0)
        return rc;
    if (!sk->bound) {
        rc = ports_bind(s, sk, 0, 0, peer);
        if (rc < 0)
            return rc;
    }
    if (sk->local.addr == 0 && src != 0) {
        sk->local.addr = src; /* getsockname shows the source, as on Linux */
        sk->autoaddr = true;
    }
    sk->peer = *peer;
    sk->connected = true;
    sk->so_error = 0;
    ports_conn_set(s, sk);
    return TERN_OK;
}

static int udp_listen(struct tern_sock *sk, int backlog)
{
    (void)sk, (void)backlog;
    return TERN_E_OPNOTSUPP;
}

static struct tern_sock *udp_accept(struct tern_sock *sk, struct tern_sockaddr *peer, int *err)
{
    (void)sk, (void)peer;
    if (err)
        *err = TERN_E_OPNOTSUPP;
    return NULL;
}

static ssize_t udp_sendto(struct tern_sock *sk, const void *buf, size_t len, int flags,
                          const struct tern_sockaddr *to)
{
    struct tern_stack *s = sk->s;
    (void)flags;
    if (sk->shut_wr)
        return TERN_E_PIPE;
    int e = sock_take_error(sk); /* Linux: a pending ICMP error fails the next call */
    if (e)
        return e;
    if (len > UDP_MAX_PAYLOAD)
        return TERN_E_MSGSIZE;
    struct tern_sockaddr dst;
    if (to)
        dst = *to;
    else if (sk->connected)
        dst = sk->peer;
    else
        return TERN_E_DESTADDRREQ;
    if (dst.addr == 0 || dst.port == 0)
        return TERN_E_INVAL;
    if (is_bcast(s, dst.addr) && !sk->broadcast)
        return TERN_E_ACCES;
    uint32_t src;
    int oif;
    int rc = udp_route(sk, dst.addr, &src, &oif);
    if (rc < 0)
        return rc;
    if (!sk->bound) {
        rc = ports_bind(s, sk, 0, 0, NULL);
        if (rc < 0)
            return rc;
    }
    /* The datagram is built in place, where IP sends it from. */
    struct tern_udp_repr u = {.sport = sk->local.port, .dport = dst.port,
                              .payload = buf, .payload_len = (uint16_t)len};
    uint8_t *at = ip_tx_payload(s);
    int n = tern_udp_emit(&u, src, dst.addr, at, TERN_IPV4_MAX_LEN - TERN_IPV4_HLEN_MIN);
    if (n < 0)
        return n;
    struct tern_ip_out o = {.src = src, .dst = dst.addr, .proto = TERN_IPPROTO_UDP,
                            .ttl = sk->ttl, .tos = sk->tos};
    uint64_t now = tern_loop_now(s->loop);
    if (ip_is_multicast(dst.addr)) {
        o.ttl = sk->mc_ttl;
        /* IP_MULTICAST_LOOP: our own members get a copy (before the wire
         * send, which may take the buffer at is in). */
        if (sk->mc_loop && mcast_wanted(s, oif, dst.addr))
            (void)ip_mcast_loop(s, &o, oif, at, (size_t)n, now);
        if (o.ttl == 0) { /* for this host only (RFC 1112 s6.1) */
            s->stats.udp.tx++;
            return (ssize_t)len;
        }
    }
    rc = ip_output_oif(s, &o, oif, at, (size_t)n, now);
    if (rc == TERN_E_INVAL)
        return TERN_E_NETUNREACH;
    /* A full ARP or loopback queue drops the datagram, as a full device
     * queue does on Linux: UDP is unreliable, and an edge-triggered app
     * waiting for POLLOUT after TERN_E_AGAIN would wait forever. */
    if (rc < 0 && rc != TERN_E_NOMEM)
        return rc;
    s->stats.udp.tx++;
    return (ssize_t)len;
}

static ssize_t udp_recvfrom(struct tern_sock *sk, void *buf, size_t len, int flags,
                            struct tern_sockaddr *from, int *out_flags)
{
    struct sock_ring *r = &udp_of(sk)->rq;
    int e = sock_take_error(sk);
    if (e)
        return e;
    if (r->count == 0)
        return sk->shut_rd ? 0 : TERN_E_AGAIN;
    uint8_t h[REC_HDR];
    ring_peek(r, 0, h, REC_HDR);
    size_t dlen = tern_get16(h + 6);
    size_t n = dlen < len ? dlen : len;
    ring_peek(r, REC_HDR, buf, n);
    if (from) {
        from->addr = tern_get32(h);
        from->port = tern_get16(h + 4);
    }
    if (dlen > len && out_flags)
        *out_flags |= TERN_MSG_TRUNC;
    if (!(flags & TERN_MSG_PEEK)) {
        ring_skip(r, REC_HDR + dlen);
        r->count--;
        r->data_bytes -= dlen;
    }
    return (ssize_t)((flags & TERN_MSG_TRUNC) ? dlen : n);
}

static int udp_shutdown(struct tern_sock *sk, int how)
{
    /* Notified on a change only (see tcp_shutdown: no self-re-arming). */
    bool changed = (how != TERN_SHUT_WR && !sk->shut_rd) || (how != TERN_SHUT_RD && !sk->shut_wr);
    if (how != TERN_SHUT_WR)
        sk->shut_rd = true;
    if (how != TERN_SHUT_RD)
        sk->shut_wr = true;
    if (changed)
        sock_notify(sk);
    /* Linux inet_shutdown: the flags are set, but ENOTCONN if unconnected. */
    return sk->connected ? TERN_OK : TERN_E_NOTCONN;
}

static int udp_close(struct tern_sock *sk)
{
    sock_release(sk);
    return TERN_OK;
}

static void udp_abort(struct tern_sock *sk)
{
    sock_release(sk);
}

static unsigned udp_poll(const struct tern_sock *sk)
{
    unsigned m = 0;
    if (udp_of(sk)->rq.count || sk->shut_rd)
        m |= TERN_POLLIN;
    if (!sk->shut_wr)
        m |= TERN_POLLOUT;
    if (sk->so_error)
        m |= TERN_POLLERR;
    if (sk->shut_rd && sk->shut_wr)
        m |= TERN_POLLHUP;
    return m;
}

static void udp_info(const struct tern_sock *sk, struct tern_sock_info *out)
{
    out->type = TERN_SOCK_DGRAM;
    out->state = sk->connected ? "ESTABLISHED" : "";
    out->recv_q = (uint32_t)udp_of(sk)->rq.data_bytes;
    out->send_q = 0;
    out->local = sk->local;
    if (sk->connected)
        out->peer = sk->peer;
    out->rx_drops = udp_of(sk)->rx_drops;
}

static int udp_setopt(struct tern_sock *sk, enum tern_sockopt opt, int value)
{
    switch (opt) {
    case TERN_SO_RCVBUF: {
        size_t cap = (size_t)value;
        if (cap < SOCK_RCVBUF_MIN)
            cap = SOCK_RCVBUF_MIN;
        if (cap > SOCK_RCVBUF_MAX)
            cap = SOCK_RCVBUF_MAX;
        if (cap < udp_of(sk)->rq.used)
            cap = udp_of(sk)->rq.used; /* never drop what is queued */
        int rc = ring_resize(&udp_of(sk)->rq, cap);
        if (rc < 0)
            return rc;
        sk->rcvbuf = (uint32_t)cap;
        return TERN_OK;
    }
    case TERN_SO_SNDBUF:
        sk->sndbuf = (uint32_t)value; /* UDP has no send queue */
        return TERN_OK;
    case TERN_SO_KEEPALIVE:
        return TERN_OK; /* accepted and ignored, as on Linux */
    default:
        return TERN_E_OPNOTSUPP;
    }
}

const struct sock_proto_ops udp_sock_ops = {
    .proto = TERN_IPPROTO_UDP,
    .open = udp_open,
    .bind = udp_bind,
    .connect = udp_connect,
    .listen = udp_listen,
    .accept = udp_accept,
    .sendto = udp_sendto,
    .recvfrom = udp_recvfrom,
    .shutdown = udp_shutdown,
    .close = udp_close,
    .abort = udp_abort,
    .poll = udp_poll,
    .info = udp_info,
    .setopt = udp_setopt,
};

int udp_init(struct tern_stack *s)
{
    s->sock_ops[TERN_SOCK_DGRAM] = &udp_sock_ops;
    struct tern_proto_handler h = {.input = udp_input, .icmp_error = udp_icmp_error, .ctx = s};
    return tern_stack_register_proto(s, TERN_IPPROTO_UDP, &h);
}
