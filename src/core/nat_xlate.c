/*
 * nat_xlate.c - datagrams through the NAT: checksum-keeping rewrites (RFC
 * 1624), TCP session tracking (RFC 5382, RFC 7857), ICMP errors (RFC 5508),
 * the outbound and inbound directions and the stateful firewall's rules.
 * The session table itself is nat.c; docs/nat.md describes the design.
 */
#include "core/nat_impl.h"

#include <string.h>

#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"
#include "tern/wire/icmp.h"
#include "tern/wire/ipv4.h"

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
    x->expires = now + nat_timeout_of(n, x);
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
    for (uint32_t i = n->b_ext[nat_h_ext(n, q.proto, q.src, q.sport)]; i != NIL; i = n->e[i].h_ext) {
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
    uint32_t i = nat_find_sess(n, q.proto, q.dst, q.dport, q.src, q.proto == PROTO_ICMP ? 0 : q.sport, now);
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
    if (proto != PROTO_ICMP && nat_fwd_reserved(n, proto, ext_port))
        return true;
    for (uint32_t i = n->b_ext[nat_h_ext(n, proto, ext_addr, ext_port)]; i != NIL; i = n->e[i].h_ext) {
        const struct nat_entry *x = &n->e[i];
        if (x->proto == proto && x->ext_addr == ext_addr && x->ext_port == ext_port &&
            nat_live(x, now))
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
    uint32_t i = nat_find_sess(n, k.proto, k.src, sp, k.dst, rp, now);
    if (i == NIL && k.proto == PROTO_ICMP && k.l4[0] == TERN_ICMP_ECHOREPLY)
        return translate ? NAT_DROP : NAT_PASS;
    if (i == NIL) {
        uint16_t ep = sp;
        uint32_t ea = translate ? ext_addr : k.src;
        if (translate && !nat_pick_port(n, k.proto, k.src, sp, k.dst, ea, now, &ep)) {
            n->st.drop_quota++;
            return NAT_DROP;
        }
        if (!nat_make_room(n, k.src, now)) {
            /* RFC 6888 REQ-4 / table full; RFC 5508 REQ-8 would have an
             * ICMP "administratively prohibited" sent: the stack does not
             * (DEVIATION, docs/nat.md: silence gives a flood no echo). */
            n->st.drop_quota++;
            return NAT_DROP;
        }
        i = nat_entry_new(n, k.proto, k.src, sp, k.dst, rp, ea, ep, now);
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
            for (uint32_t i = n->b_ext[nat_h_ext(n, q.proto, q.src, q.sport)]; i != NIL;
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
    for (uint32_t i = n->b_ext[nat_h_ext(n, k.proto, k.dst, dp)]; i != NIL; i = n->e[i].h_ext) {
        const struct nat_entry *x = &n->e[i];
        if (!nat_live(x, now) || x->proto != k.proto || x->ext_addr != k.dst || x->ext_port != dp)
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
            if (!nat_make_room(n, ia, now)) {
                n->st.drop_quota++;
                return NAT_DROP;
            }
            i = nat_entry_new(n, k.proto, ia, ip, k.src, rp, ea, ep, now);
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
            if (!nat_make_room(n, ia, now)) {
                n->st.drop_quota++;
                return NAT_DROP;
            }
            i = nat_entry_new(n, k.proto, ia, ip, k.src, rp, k.dst, dp, now);
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

