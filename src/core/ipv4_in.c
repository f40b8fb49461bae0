/*
 * ipv4_in.c - IPv4 input: header checks, martian filtering, the
 * destination check, reassembly and delivery to ICMP or a registered
 * upper-layer protocol.
 * RFC 791 s3.2 (reassembly), RFC 1122 s3.2.1 (input checks: version,
 * checksum, addressing s3.2.1.3, options s3.2.1.8), s3.3.2 (reassembly
 * timeout), s3.3.4 weak end-system model (any of our addresses on any
 * interface), RFC 1812 s5.3.7 (martian addresses).
 * Not: forwarding (forward.c, with cfg.ip_forward; else datagrams not for
 * us are dropped), option
 * processing (options are validated by the codec and otherwise ignored).
 * Multicast: a datagram for a group is ours when the group is joined on
 * its interface (igmp.c), else dropped and counted (igmp.filtered).
 */
#include <string.h>

#include "core/mcast.h"
#include "core/nat.h"
#include "core/stack_impl.h"
#include "tern/wire/bytes.h"
#include "tern/wire/icmp.h"
#include "tern/wire/igmp.h"
#include "tern/wire/udp.h"

/* RFC 1122 s3.2.1.3 / RFC 1812 s5.3.7: sources that cannot identify one
 * host (ATTACKS 9). The exception is a DHCP client that has no address yet:
 * 0.0.0.0:68 -> 255.255.255.255:67 (RFC 2131 s4.1). */
static bool src_is_martian(const struct tern_stack *s, const struct tern_ipv4_repr *ip,
                           const uint8_t *payload)
{
    uint32_t a = ip->src;
    if (a == 0)
        return !(ip->proto == TERN_IPPROTO_UDP && ip->dst == 0xffffffffu && !ip->mf &&
                 ip->frag_off == 0 && ip->payload_len >= 4 && tern_get16(payload) == 68 &&
                 tern_get16(payload + 2) == 67);
    return (a >> 24) == 0 || ip_is_multicast(a) || ip_is_class_e(a) || ip_is_loopback(a) ||
           stack_is_bcast(s, a) || stack_is_our_addr(s, a);
}

static void sync_reasm_stats(struct tern_stack *s)
{
    const struct ip_reasm_stats *rs = ip_reasm_stats(s->reasm);
    s->stats.ip.reasm_timeout = rs->timeouts;
    s->stats.ip.reasm_evicted = rs->evicted;
}

static void reasm_expire(struct tern_stack *s, uint64_t now)
{
    struct reasm_cb_ctx ctx = {.s = s, .now = now};
    uint64_t next = ip_reasm_expire(s->reasm, now, icmp_reasm_expired, &ctx);
    sync_reasm_stats(s);
    if (next == UINT64_MAX) {
        if (tern_timer_armed(&s->reasm_timer))
            tern_timer_cancel(s->loop, &s->reasm_timer);
    } else if (!tern_timer_armed(&s->reasm_timer) || s->reasm_timer.when != next) {
        tern_timer_arm(s->loop, &s->reasm_timer, next);
    }
}

void reasm_timer_fn(struct tern_timer *t, void *arg)
{
    struct tern_stack *s = arg;
    (void)t;
    reasm_expire(s, tern_loop_now(s->loop));
}

static void ip_deliver(struct tern_stack *s, const struct ip_rx *rx, uint64_t now)
{
    uint8_t proto = rx->ip.proto;
    if (proto == TERN_IPPROTO_ICMP) {
        s->stats.ip.delivered++;
        icmp_input(s, rx, now);
        return;
    }
    if (proto == TERN_IPPROTO_IGMP && !s->proto[proto].input) {
        s->stats.ip.delivered++;
        igmp_input(s, rx, now);
        return;
    }
    const struct tern_proto_handler *h = &s->proto[proto];
    if (h->input) {
        s->stats.ip.delivered++;
        /* The handler may ask for an ICMP error about this datagram (UDP:
         * port unreachable) through ip_deliver_icmp_error(). */
        const struct ip_rx *saved = s->cur_rx;
        uint64_t saved_now = s->cur_now;
        s->cur_rx = rx;
        s->cur_now = now;
        h->input(h->ctx, &rx->ip, rx->payload, rx->len, rx->ifindex);
        s->cur_rx = saved;
        s->cur_now = saved_now;
        return;
    }
    s->stats.ip.drop_unknown_proto++;
    if (proto == TERN_IPPROTO_UDP) {
        /* RFC 1122 s4.1.3.1: no listener -> port unreachable, but only for
         * a well-formed datagram (ATTACKS 22 checks in the codec). The UDP
         * module replaces this when it registers. */
        struct tern_udp_repr u;
        if (tern_udp_parse(rx->payload, rx->len, rx->ip.src, rx->ip.dst, 0, &u) >= 0)
            icmp_send_error(s, rx, TERN_ICMP_UNREACH, TERN_ICMP_UNREACH_PORT, 0, now);
        return;
    }
    /* RFC 1122 s3.2.2.1: protocol unreachable (ATTACKS 9; rate-limited). */
    icmp_send_error(s, rx, TERN_ICMP_UNREACH, TERN_ICMP_UNREACH_PROTO, 0, now);
}

void ip_deliver_icmp_error(struct tern_stack *s, uint8_t type, uint8_t code)
{
    if (s->cur_rx)
        icmp_send_error(s, s->cur_rx, type, code, 0, s->cur_now);
}

static void ip_reassemble(struct tern_stack *s, struct ip_rx *rx, uint64_t now)
{
    const uint8_t *out;
    size_t out_len;
    struct tern_ipv4_repr oip;
    s->stats.ip.frag_rx++;
    int rc = ip_reasm_input(s->reasm, &rx->ip, rx->payload, rx->len, now, &out, &out_len, &oip);
    reasm_expire(s, now); /* keeps the timer at the next expiry */
    if (rc < 0) {
        s->stats.ip.reasm_drop++; /* ATTACKS 10-14 */
        return;
    }
    if (rc == 0)
        return;
    s->stats.ip.reasm_ok++;
    /* The original header with its options is gone; quotes for errors
     * about this datagram use a rebuilt 20-byte header. DEVIATION: options
     * of the first fragment are not quoted. */
    uint8_t hb[TERN_IPV4_HLEN_MIN];
    oip.opts = NULL;
    oip.opts_len = 0;
    oip.mf = false;
    oip.frag_off = 0;
    oip.payload_len = (uint16_t)out_len;
    int h = tern_ipv4_emit(&oip, hb, sizeof hb);
    oip.hdr_len = TERN_IPV4_HLEN_MIN;
    oip.total_len = (uint16_t)(TERN_IPV4_HLEN_MIN + out_len);
    struct ip_rx whole = *rx;
    whole.csum_ok = false; /* said of one fragment, not of the datagram */
    whole.ip = oip;
    whole.hdr = hb;
    whole.hdr_len = h > 0 ? (size_t)h : 0;
    whole.payload = out;
    whole.len = out_len;
    if (s->nat) {
        /* A datagram reassembled for the NAT or firewall (nat_stack.c):
         * translated and forwarded, forwarded, or ours. */
        if (nat_stack_input(s, &whole, now))
            return;
        uint32_t d = whole.ip.dst;
        if (!stack_is_our_addr(s, d) && !stack_is_bcast(s, d)) {
            ip_forward(s, &whole, now);
            return;
        }
    }
    ip_deliver(s, &whole, now);
}

void ipv4_input(struct tern_stack *s, struct tern_iface *ifc, const uint8_t *p, size_t len,
                bool link_bcast, bool local, uint64_t now)
{
    struct ip_rx rx;
    s->stats.ip.rx++;
    /* ATTACKS 5-8: the codec checks IHL, total length (padding trimmed
     * once: payload_len is used by every later layer), checksum and
     * options before anything is believed. */
    int h = tern_ipv4_parse(p, len, 0, &rx.ip);
    if (h < 0) {
        switch (h) {
        case TERN_E_SHORT: s->stats.ip.drop_short++; break;
        case TERN_E_BAD_VERSION: s->stats.ip.drop_version++; break;
        case TERN_E_BAD_CSUM: s->stats.ip.drop_csum++; break;
        case TERN_E_BAD_OPT: s->stats.ip.drop_opt++; break;
        default: s->stats.ip.drop_len++; break;
        }
        return;
    }
    rx.hdr = p;
    rx.hdr_len = (size_t)h;
    rx.payload = p + h;
    rx.len = rx.ip.payload_len;
    rx.ifindex = ifc->index;
    rx.link_bcast = link_bcast;
    rx.local = local;
    /* Offloads (docs/devices.md): a device that completed or checked the
     * transport checksum of this frame says so; TCP then skips its sum. */
    rx.csum_ok = !local && ifc->dev && (ifc->dev->rx_flags & TERN_RX_CSUM_OK) && !rx.ip.mf &&
                 rx.ip.frag_off == 0;
    /* Our own datagrams come back only through the loopback queue; from
     * the wire, our own address or 127/8 as a source is spoofed. */
    if (!local && src_is_martian(s, &rx.ip, rx.payload)) {
        s->stats.ip.drop_martian++;
        return;
    }
    /* A router with a NAT or firewall (nat_stack.c): what will meet them
     * is reassembled first (RFC 4787 REQ-14), and what is for a NAT
     * address may be a reply to translate back rather than ours. */
    if (s->nat && !local) {
        if ((rx.ip.mf || rx.ip.frag_off) && nat_stack_wants_whole(s, &rx)) {
            ip_reassemble(s, &rx, now);
            return;
        }
        if (nat_stack_input(s, &rx, now))
            return;
    }
    /* RFC 1122 s3.2.1.3: accept our addresses, our directed broadcasts and
     * the limited broadcast. */
    uint32_t d = rx.ip.dst;
    /* RFC 2131 s4.1 / RFC 1122 s3.3.2 note: an interface with no address
     * yet (a DHCP client) takes UDP for any address; udp.c hands it only
     * to a socket bound to that interface (TERN_SO_BINDTOIFACE). */
    bool unaddressed_udp = ifc->addr == 0 && rx.ip.proto == TERN_IPPROTO_UDP && !local &&
                           !ip_is_multicast(d) && !ip_is_class_e(d) && !ip_is_loopback(d);
    if (ip_is_multicast(d)) {
        /* RFC 1112 s7.2: a group joined on the arrival interface (a router
         * does not forward multicast, docs/routing.md), from a source its
         * filter state wants (RFC 3376 s3.2) - source filters are for the
         * group's data: IGMP about the group (a router's group-specific
         * query) always comes in. */
        if (rx.ip.proto == TERN_IPPROTO_IGMP ? !mcast_wanted(s, ifc->index, d)
                                             : !mcast_src_wanted(s, ifc->index, d, rx.ip.src)) {
            s->stats.igmp.filtered++;
            return;
        }
    } else if (!stack_is_our_addr(s, d) && !stack_is_bcast(s, d) &&
               !(local && ip_is_loopback(d)) && !unaddressed_udp) {
        /* A router forwards what came from the wire (forward.c). */
        if (s->cfg.ip_forward && !local)
            ip_forward(s, &rx, now);
        else
            s->stats.ip.drop_not_for_us++;
        return;
    }
    if (rx.ip.mf || rx.ip.frag_off) {
        ip_reassemble(s, &rx, now);
        return;
    }
    ip_deliver(s, &rx, now);
}
