/*
 * icmp.c - ICMP for a host: echo replies, the errors we send (with the
 * RFC 1122 s3.2.2 "MUST NOT send" rules and an RFC 1812 s4.3.2.8 token
 * bucket), the errors we receive (checked, then handed to the protocol or
 * echo endpoint that owns the quoted datagram, then shown to the error
 * observers, tern_icmp_observe), and echo endpoints (ping).
 * RFC 792, RFC 1122 s3.2.2, RFC 1191 s4 (next-hop MTU), RFC 1812 s4.3.2.3
 * (quote size), RFC 6633 (source quench deprecated), RFC 5927 (checks on
 * quoted datagrams).
 * Not: the message codec (src/wire/icmp.c), PMTU state (transports), IP
 * options in echo replies (DEVIATION below), timestamp/address mask
 * replies (ignored, ATTACKS 21).
 */
#include <string.h>

#include "core/stack_impl.h"
#include "tern/wire/icmp.h"

static struct echo_ep *echo_find(struct tern_stack *s, uint16_t id)
{
    for (int i = 0; i < TERN_ECHO_MAX; i++)
        if (s->echo[i].used && s->echo[i].id == id)
            return &s->echo[i];
    return NULL;
}

/* RFC 1812 s4.3.2.8: a token bucket; tokens are kept in millionths so a
 * microsecond of elapsed time adds exactly icmp_rate_per_s of them. */
static bool rate_ok(struct tern_stack *s, uint64_t now)
{
    const uint64_t one = 1000000u, cap = (uint64_t)s->cfg.icmp_burst * one;
    uint64_t elapsed = now > s->icmp_last ? now - s->icmp_last : 0;
    s->icmp_last = now > s->icmp_last ? now : s->icmp_last;
    if (elapsed >= cap || elapsed * s->cfg.icmp_rate_per_s >= cap)
        s->icmp_tokens = cap; /* also keeps the product from overflowing */
    else
        s->icmp_tokens += elapsed * s->cfg.icmp_rate_per_s;
    if (s->icmp_tokens > cap)
        s->icmp_tokens = cap;
    if (s->icmp_tokens < one) {
        s->stats.icmp.errors_rate_limited++;
        return false;
    }
    s->icmp_tokens -= one;
    return true;
}

void icmp_send_error(struct tern_stack *s, const struct ip_rx *rx, uint8_t type, uint8_t code,
                     uint16_t extra, uint64_t now)
{
    const struct tern_ipv4_repr *ip = &rx->ip;
    /* RFC 1122 s3.2.2: "An ICMP error message MUST NOT be sent as the
     * result of receiving" (ATTACKS 20): */
    /* - a non-initial fragment; */
    if (ip->frag_off != 0)
        return;
    /* - an ICMP error message (an ICMP message too short to tell is
     *   treated as one); */
    if (ip->proto == TERN_IPPROTO_ICMP && (rx->len < 1 || tern_icmp_is_error(rx->payload[0])))
        return;
    /* - a datagram sent as a link-layer broadcast, or to an IP broadcast
     *   or multicast address; */
    if (rx->link_bcast || stack_is_bcast(s, ip->dst) || ip_is_multicast(ip->dst))
        return;
    /* - a datagram whose source does not define a single host. */
    uint32_t a = ip->src;
    if ((a >> 24) == 0 || ip_is_multicast(a) || ip_is_class_e(a) || stack_is_bcast(s, a) ||
        (!rx->local && ip_is_loopback(a)))
        return;
    if (rx->hdr_len < TERN_IPV4_HLEN_MIN || !rate_ok(s, now))
        return;
    /* RFC 1812 s4.3.2.3: quote as much of the datagram as fits in 576
     * bytes - but never more than we received (ATTACKS 20). The header is
     * quoted as received; its options were validated by the codec. */
    size_t room = TERN_ICMP_ERR_MAX - TERN_IPV4_HLEN_MIN - TERN_ICMP_HLEN;
    size_t hq = rx->hdr_len < room ? rx->hdr_len : room;
    size_t dq = rx->len < room - hq ? rx->len : room - hq;
    /* Built in place (ipv4_out.c); the quoted datagram is a received
     * one, never the frame buffer. */
    uint8_t *at = ip_tx_payload(s);
    const uint8_t *q = rx->hdr;
    if (dq && rx->payload != rx->hdr + hq) {
        /* Header and data apart (a reassembled datagram): gathered first. */
        memcpy(at + TERN_ICMP_HLEN, rx->hdr, hq);
        memcpy(at + TERN_ICMP_HLEN + hq, rx->payload, dq);
        q = at + TERN_ICMP_HLEN;
    } /* else tern_icmp_emit copies the quote in the pass that sums it */
    struct tern_icmp_repr m = {.type = type, .code = code, .data = q, .data_len = hq + dq};
    if (type == TERN_ICMP_UNREACH && code == TERN_ICMP_UNREACH_NEEDFRAG)
        m.next_mtu = extra;
    else if (type == TERN_ICMP_PARAMPROB)
        m.pointer = (uint8_t)extra;
    int n = tern_icmp_emit(&m, at, TERN_IPV4_MAX_LEN - TERN_IPV4_HLEN_MIN);
    if (n < 0)
        return;
    /* Source: the address the datagram was sent to when it is ours, else
     * the outgoing interface's. RFC 1812 s4.3.2.5: precedence 6 (0xc0). */
    struct tern_ip_out o = {.src = stack_is_our_addr(s, ip->dst) ? ip->dst : 0,
                            .dst = ip->src,
                            .proto = TERN_IPPROTO_ICMP,
                            .tos = 0xc0};
    if (ip_output(s, &o, at, (size_t)n, now) == TERN_OK) {
        s->stats.icmp.tx++;
        s->stats.icmp.errors_tx++;
    }
}

void icmp_reasm_expired(void *ctx, const uint8_t *quote, size_t quote_len)
{
    struct reasm_cb_ctx *c = ctx;
    struct ip_rx rx;
    memset(&rx, 0, sizeof rx);
    int h = tern_ipv4_parse(quote, quote_len, TERN_WIRE_TRUNC_OK | TERN_WIRE_NO_CSUM, &rx.ip);
    if (h < 0)
        return;
    rx.hdr = quote;
    rx.hdr_len = (size_t)h;
    rx.payload = quote + h;
    rx.len = rx.ip.payload_len;
    /* RFC 792 / RFC 1122 s3.3.2: time exceeded, code 1 (reassembly). Only
     * called for datagrams whose first fragment arrived (ATTACKS 15). */
    icmp_send_error(c->s, &rx, TERN_ICMP_TIMXCEED, TERN_ICMP_TIMXCEED_REASS, 0, c->now);
}

/* Shows a checked error to each observer (tern_icmp_observe). A slot is
 * read again before each call, so an observer may unobserve itself (or
 * another) from inside its callback. */
static void error_observe(struct tern_stack *s, uint32_t from, uint8_t ttl, uint8_t type,
                          uint8_t code, uint16_t next_mtu, const struct tern_icmp_quote *q)
{
    struct tern_icmp_event ev = {.from = from, .type = type, .code = code, .ttl = ttl,
                                 .next_mtu = next_mtu, .q = q};
    for (int i = 0; i < TERN_ICMP_OBSERVERS; i++) {
        tern_icmp_fn fn = s->icmp_obs[i].fn;
        if (fn)
            fn(s->icmp_obs[i].ctx, &ev);
    }
}

/* Destination Unreachable codes: RFC 792 (0-5), RFC 1122 3.2.2.1 (6-12),
 * RFC 1812 s5.2.7.1 (13-15). Hard/soft: RFC 1122 4.2.3.9 - codes 0, 1 and
 * 5 are soft ("TCP MUST NOT abort the connection"), 2-4 hard; 4 is PMTU
 * (RFC 1191). The later codes name a destination that is unknown,
 * isolated, or refused by policy (9/10/13 administratively prohibited,
 * 14/15 precedence), or unreachable for the requested TOS (11 network,
 * 12 host): nothing a retry would change, so hard, as Linux treats them.
 * The error follows what the code names: a network (ENETUNREACH) or a
 * host (EHOSTUNREACH). DEVIATION: protocol unreachable (2) is
 * ECONNREFUSED (Linux: ENOPROTOOPT, no tern code); source route failed
 * (5) is EHOSTUNREACH (Linux: EOPNOTSUPP). */
static const struct icmp_err_class unreach_class[16] = {
    [0] = {TERN_E_NETUNREACH, false, false},
    [1] = {TERN_E_HOSTUNREACH, false, false},
    [2] = {TERN_E_CONNREFUSED, true, false},
    [3] = {TERN_E_CONNREFUSED, true, false},
    [4] = {TERN_E_MSGSIZE, false, true},
    [5] = {TERN_E_HOSTUNREACH, false, false},
    [6] = {TERN_E_NETUNREACH, true, false},   /* destination network unknown */
    [7] = {TERN_E_HOSTUNREACH, true, false},  /* destination host unknown */
    [8] = {TERN_E_HOSTUNREACH, true, false},  /* source host isolated */
    [9] = {TERN_E_NETUNREACH, true, false},   /* network administratively prohibited */
    [10] = {TERN_E_HOSTUNREACH, true, false}, /* host administratively prohibited */
    [11] = {TERN_E_NETUNREACH, true, false},  /* network unreachable for TOS */
    [12] = {TERN_E_HOSTUNREACH, true, false}, /* host unreachable for TOS */
    [13] = {TERN_E_HOSTUNREACH, true, false}, /* communication administratively prohibited */
    [14] = {TERN_E_HOSTUNREACH, true, false}, /* host precedence violation */
    [15] = {TERN_E_HOSTUNREACH, true, false}, /* precedence cutoff in effect */
};

bool icmp_classify(uint8_t type, uint8_t code, struct icmp_err_class *out)
{
    switch (type) {
    case TERN_ICMP_UNREACH:
        /* An unknown code still says the datagram did not arrive: soft. */
        *out = code < 16 ? unreach_class[code]
                         : (struct icmp_err_class){TERN_E_HOSTUNREACH, false, false};
        return true;
    case TERN_ICMP_TIMXCEED:  /* RFC 1122 4.2.3.9: soft (a routing loop, reassembly) */
    case TERN_ICMP_PARAMPROB: /* RFC 1122 4.2.3.9: soft */
        *out = (struct icmp_err_class){TERN_E_HOSTUNREACH, false, false};
        return true;
    default:
        return false;
    }
}

/* Hands a checked error about one of our datagrams to its owner, then to
 * the observers (also when no owner took it: traceroute's UDP probes are
 * sent without a socket). */
static void error_dispatch(struct tern_stack *s, uint32_t from, uint8_t ttl, uint8_t type,
                           uint8_t code, uint16_t next_mtu, const struct tern_icmp_quote *q)
{
    if (q->ip.proto == TERN_IPPROTO_ICMP) {
        /* Only an echo request we could have sent, to a bound id (G4). */
        struct echo_ep *ep = q->ip.frag_off == 0 && q->l4[0] == TERN_ICMP_ECHO
                                 ? echo_find(s, q->sport)
                                 : NULL;
        if (!ep) {
            s->stats.icmp.errors_ignored++;
        } else {
            struct tern_echo_event ev = {.is_error = true, .from = from, .id = q->sport,
                                         .seq = q->dport, .ttl = ttl, .type = type,
                                         .code = code, .next_mtu = next_mtu};
            ep->fn(ep->ctx, &ev);
        }
    } else {
        const struct tern_proto_handler *h = &s->proto[q->ip.proto];
        if (!h->icmp_error)
            s->stats.icmp.errors_ignored++;
        else
            h->icmp_error(h->ctx, type, code, next_mtu, q);
    }
    error_observe(s, from, ttl, type, code, next_mtu, q);
}

static void error_input(struct tern_stack *s, const struct ip_rx *rx,
                        const struct tern_icmp_repr *m)
{
    struct tern_icmp_quote q;
    /* ATTACKS 17: a quote without a whole inner header + 8 bytes is
     * ignored; RFC 5927 s4.1: it must quote a datagram we could have sent. */
    if (rx->link_bcast || stack_is_bcast(s, rx->ip.dst) ||
        tern_icmp_parse_quote(m->data, m->data_len, &q) < 0 ||
        !(stack_is_our_addr(s, q.ip.src) || (rx->local && ip_is_loopback(q.ip.src)))) {
        s->stats.icmp.errors_ignored++;
        return;
    }
    uint16_t mtu = 0;
    uint32_t implied = 0;
    if (m->type == TERN_ICMP_UNREACH && m->code == TERN_ICMP_UNREACH_NEEDFRAG) {
        /* RFC 1191 s5: an old router's next-hop MTU of 0 is replaced by the
         * plateau estimate from the quoted datagram (pmtu.c), for the
         * transports as for the cache; never read as "68", which would
         * shrink TCP to 28-byte segments. ATTACKS 19: RFC 791's 68-byte
         * minimum is the floor; transports clamp further. */
        implied = pmtu_implied(s, m->next_mtu, &q);
        mtu = (uint16_t)(implied < 68 ? 68 : implied > 65535 ? 65535 : implied);
    }
    pmtu_icmp_error(s, m->type, m->code, implied, &q); /* RFC 1191 cache (pmtu.c) */
    error_dispatch(s, rx->ip.src, rx->ip.ttl, m->type, m->code, mtu, &q);
}

static void echo_reply(struct tern_stack *s, const struct ip_rx *rx,
                       const struct tern_icmp_repr *m, uint64_t now)
{
    /* RFC 1122 s3.2.2.6: an echo request to a broadcast or multicast
     * address MAY be silently discarded - Linux's default, and a smurf
     * amplifier otherwise. */
    if (rx->link_bcast || stack_is_bcast(s, rx->ip.dst) || ip_is_multicast(rx->ip.dst)) {
        s->stats.icmp.ignored_types++;
        return;
    }
    /* Same id, sequence and data (ATTACKS 16: only the checked length).
     * DEVIATION: RFC 1122 s3.2.2.6 says options SHOULD be echoed; we send
     * none. */
    struct tern_icmp_repr r = {.type = TERN_ICMP_ECHOREPLY, .id = m->id, .seq = m->seq,
                               .data = m->data, .data_len = m->data_len};
    uint8_t *at = ip_tx_payload(s); /* built in place (ipv4_out.c) */
    int n = tern_icmp_emit(&r, at, TERN_IPV4_MAX_LEN - TERN_IPV4_HLEN_MIN);
    if (n < 0)
        return;
    struct tern_ip_out o = {.src = rx->ip.dst, .dst = rx->ip.src, .proto = TERN_IPPROTO_ICMP,
                            .tos = rx->ip.tos};
    if (ip_output(s, &o, at, (size_t)n, now) == TERN_OK) {
        s->stats.icmp.tx++;
        s->stats.icmp.echo_replies_tx++;
    }
}

void icmp_input(struct tern_stack *s, const struct ip_rx *rx, uint64_t now)
{
    struct tern_icmp_repr m;
    s->stats.icmp.rx++;
    int rc = tern_icmp_parse(rx->payload, rx->len, 0, &m);
    if (rc == TERN_E_SHORT) {
        s->stats.icmp.drop_short++; /* ATTACKS 16 */
        return;
    }
    if (rc < 0) {
        s->stats.icmp.drop_csum++; /* RFC 1122 s3.2.2 */
        return;
    }
    switch (m.type) {
    case TERN_ICMP_ECHO:
        s->stats.icmp.echo_requests++;
        echo_reply(s, rx, &m, now);
        break;
    case TERN_ICMP_ECHOREPLY: {
        s->stats.icmp.echo_replies_rx++;
        struct echo_ep *ep = echo_find(s, m.id); /* G4: only a bound id */
        if (ep) {
            struct tern_echo_event ev = {.from = rx->ip.src, .id = m.id, .seq = m.seq,
                                         .ttl = rx->ip.ttl, .data = m.data, .len = m.data_len};
            ep->fn(ep->ctx, &ev);
        }
        break;
    }
    case TERN_ICMP_UNREACH:
    case TERN_ICMP_TIMXCEED:
    case TERN_ICMP_PARAMPROB:
        s->stats.icmp.errors_rx++;
        error_input(s, rx, &m);
        break;
    case TERN_ICMP_REDIRECT:
    case TERN_ICMP_SOURCEQUENCH:
        /* ATTACKS 21. DEVIATION: RFC 1122 s3.2.2.2 says a host SHOULD
         * update its route on a redirect; we ignore them (spoofable route
         * hijack). Source quench: RFC 6633 - ignore. */
        s->stats.icmp.errors_rx++;
        s->stats.icmp.ignored_types++;
        break;
    default:
        /* Timestamp (13), address mask (17), information and unknown
         * types: ignored and counted (ATTACKS 21; RFC 1122 s3.2.2.8/9
         * make both optional). */
        s->stats.icmp.ignored_types++;
        break;
    }
}

void icmp_local_unreach(struct tern_stack *s, const uint8_t *dgram, size_t len, uint8_t code)
{
    /* The datagram is our own; parse it as the quote of a "destination
     * unreachable" from ourselves, so ping prints "From <our address>
     * ... Destination Host Unreachable" like Linux. */
    struct tern_icmp_quote q;
    if (tern_icmp_parse_quote(dgram, len, &q) < 0)
        return;
    error_dispatch(s, q.ip.src, s->cfg.default_ttl, TERN_ICMP_UNREACH, code, 0, &q);
}

int tern_echo_bind(struct tern_stack *s, uint16_t id, tern_echo_fn fn, void *ctx)
{
    if (!s || !fn)
        return TERN_E_INVAL;
    if (id == 0) {
        /* G4: a random unused id from the stack's generator (bounded tries;
         * at most TERN_ECHO_MAX ids are taken of 65535). */
        for (int tries = 0; tries < 64 && id == 0; tries++) {
            uint16_t c = (uint16_t)(1 + prng_below(&s->rng, 65535));
            if (!echo_find(s, c))
                id = c;
        }
        if (id == 0)
            return TERN_E_NOMEM;
    } else if (echo_find(s, id)) {
        return TERN_E_INVAL;
    }
    for (int i = 0; i < TERN_ECHO_MAX; i++) {
        if (!s->echo[i].used) {
            s->echo[i] = (struct echo_ep){.used = true, .id = id, .fn = fn, .ctx = ctx};
            return id;
        }
    }
    return TERN_E_NOMEM;
}

void tern_echo_unbind(struct tern_stack *s, uint16_t id)
{
    struct echo_ep *ep = s ? echo_find(s, id) : NULL;
    if (ep)
        memset(ep, 0, sizeof *ep);
}

int tern_echo_send(struct tern_stack *s, const struct tern_ip_out *o, uint16_t id, uint16_t seq,
                   const uint8_t *data, size_t len)
{
    if (!s || !o || (len && !data) ||
        len > TERN_IPV4_MAX_LEN - TERN_IPV4_HLEN_MIN - TERN_ICMP_HLEN)
        return TERN_E_INVAL;
    uint64_t now = tern_loop_now(s->loop);
    struct tern_icmp_repr r = {.type = TERN_ICMP_ECHO, .id = id, .seq = seq, .data = data,
                               .data_len = len};
    uint8_t *at = ip_tx_payload(s); /* built in place (ipv4_out.c) */
    int n = tern_icmp_emit(&r, at, TERN_IPV4_MAX_LEN - TERN_IPV4_HLEN_MIN);
    if (n < 0)
        return n;
    struct tern_ip_out io = *o;
    io.proto = TERN_IPPROTO_ICMP;
    int rc = ip_output(s, &io, at, (size_t)n, now);
    if (rc == TERN_OK)
        s->stats.icmp.tx++;
    return rc;
}

int tern_icmp_observe(struct tern_stack *s, tern_icmp_fn fn, void *ctx)
{
    if (!s || !fn)
        return TERN_E_INVAL;
    for (int i = 0; i < TERN_ICMP_OBSERVERS; i++) {
        if (!s->icmp_obs[i].fn) {
            s->icmp_obs[i] = (struct icmp_obs){.fn = fn, .ctx = ctx};
            return i;
        }
    }
    return TERN_E_NOMEM;
}

void tern_icmp_unobserve(struct tern_stack *s, int handle)
{
    if (s && handle >= 0 && handle < TERN_ICMP_OBSERVERS)
        s->icmp_obs[handle] = (struct icmp_obs){0};
}
