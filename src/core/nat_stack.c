/*
 * nat_stack.c - where a forwarding stack meets its NAT and firewall
 * (nat.c): the public API of tern/nat.h, the hooks ipv4_input and
 * ip_forward call, the expiry timer.
 *
 * Paths (docs/nat.md):
 *  - out: a datagram routed from an inside interface out of a NAT
 *    interface gets its source translated (nat_outbound) after the
 *    RFC 1812 checks, so ICMP errors the router itself sends (time
 *    exceeded, fragmentation needed) quote what the inside host sent;
 *  - in: a datagram arriving on a NAT interface for its address is
 *    translated back (nat_inbound) and forwarded; one the table does not
 *    know is the router's own (ping, its sockets);
 *  - hairpin (RFC 4787 REQ-9, RFC 5382 REQ-8): from inside to a NAT
 *    address with a live mapping: out, then in, then routed back inside;
 *  - firewall-only interface: outbound flows are tracked (an entry
 *    mapping the host to itself), inbound ones not in the table meet the
 *    rules.
 * Fragments that will meet the NAT or firewall are reassembled first
 * (RFC 4787 REQ-14: out-of-order fragments work), then forwarded and
 * refragmented for the next hop as any datagram.
 */
#include <stdlib.h>
#include <string.h>

#include "core/nat.h"
#include "core/stack_impl.h"
#include "tern/wire/bytes.h"
#include "tern/wire/ipv4.h"

#define NAT_SWEEP_US 1000000u /* expiry is batched to once a second at most */

static bool if_nat(const struct tern_stack *s, int i) { return i >= 0 && (s->nat_ifs >> i) & 1u; }
static bool if_fw(const struct tern_stack *s, int i) { return i >= 0 && (s->fw_ifs >> i) & 1u; }

/* The address datagrams leaving through NAT interface ifc get. */
static uint32_t ext_of(const struct tern_stack *s, const struct tern_iface *ifc)
{
    return s->nat_ext[ifc->index] ? s->nat_ext[ifc->index] : ifc->addr;
}

static struct tern_iface *nat_iface_of(struct tern_stack *s, uint32_t addr)
{
    for (int i = 0; i < TERN_MAX_IFACES; i++) {
        struct tern_iface *ifc = &s->ifaces[i];
        if (ifc->used && if_nat(s, i) && ifc->addr && ext_of(s, ifc) == addr)
            return ifc;
    }
    return NULL;
}

static void nat_timer_fn(struct tern_timer *t, void *arg)
{
    struct tern_stack *s = arg;
    (void)t;
    uint64_t now = tern_loop_now(s->loop);
    uint64_t next = nat_expire(s->nat, now);
    if (next != UINT64_MAX)
        tern_timer_arm(s->loop, &s->nat_timer, next > now + NAT_SWEEP_US ? next : now + NAT_SWEEP_US);
}

/* Keeps the timer at the earliest expiry (no sooner than a sweep period
 * from now): a new short-lived entry pulls it earlier. */
static void arm(struct tern_stack *s, uint64_t now)
{
    uint64_t soon = nat_take_soonest(s->nat);
    if (soon == UINT64_MAX)
        return;
    uint64_t when = soon > now + NAT_SWEEP_US ? soon : now + NAT_SWEEP_US;
    if (!tern_timer_armed(&s->nat_timer) || s->nat_timer.when > when)
        tern_timer_arm(s->loop, &s->nat_timer, when);
}

static int ensure(struct tern_stack *s, const struct tern_nat_config *c)
{
    if (s->nat)
        return 0;
    s->nat = nat_new(c, prng_next(&s->rng));
    s->natbuf = malloc(TERN_IPV4_MAX_LEN);
    if (!s->nat || !s->natbuf) {
        nat_free(s->nat);
        free(s->natbuf);
        s->nat = NULL;
        s->natbuf = NULL;
        return c ? TERN_E_INVAL : TERN_E_NOMEM;
    }
    tern_timer_init(&s->nat_timer, nat_timer_fn, s);
    return 0;
}

void nat_stack_free(struct tern_stack *s)
{
    if (!s->nat)
        return;
    if (tern_timer_armed(&s->nat_timer))
        tern_timer_cancel(s->loop, &s->nat_timer);
    nat_free(s->nat);
    free(s->natbuf);
    s->nat = NULL;
    s->natbuf = NULL;
}

int tern_nat_enable(struct tern_stack *s, int ifindex, const struct tern_nat_config *c)
{
    if (!stack_iface(s, ifindex))
        return TERN_E_INVAL;
    int rc = ensure(s, c);
    if (rc < 0)
        return rc;
    s->nat_ifs |= 1u << ifindex;
    return 0;
}

int tern_nat_set_external(struct tern_stack *s, int ifindex, uint32_t addr)
{
    if (!stack_iface(s, ifindex) || (addr && !stack_is_our_addr(s, addr)))
        return TERN_E_INVAL;
    s->nat_ext[ifindex] = addr;
    return 0;
}

int tern_nat_forward_add(struct tern_stack *s, uint8_t proto, uint16_t ext_port, uint32_t addr,
                         uint16_t port)
{
    int rc = ensure(s, NULL);
    if (rc < 0)
        return rc;
    return nat_forward_add(s->nat, proto, ext_port, addr, port) < 0 ? TERN_E_INVAL : 0;
}

int tern_fw_rule_add(struct tern_stack *s, int ifindex, const struct tern_fw_rule *r)
{
    if (!stack_iface(s, ifindex))
        return TERN_E_INVAL;
    int rc = ensure(s, NULL);
    if (rc < 0)
        return rc;
    s->fw_ifs |= 1u << ifindex;
    if (r && nat_fw_rule_add(s->nat, ifindex, r) < 0)
        return TERN_E_NOSPC;
    return 0;
}

uint64_t tern_fw_rule_hits(const struct tern_stack *s, int k)
{
    return s->nat ? nat_fw_rule_hits(s->nat, k) : 0;
}

const struct tern_nat_stats *tern_nat_stats(struct tern_stack *s)
{
    return s->nat ? nat_stats(s->nat) : NULL;
}

size_t tern_nat_list(struct tern_stack *s, char *buf, size_t cap)
{
    if (!s->nat) {
        if (cap)
            buf[0] = 0;
        return 0;
    }
    return nat_list(s->nat, buf, cap, tern_loop_now(s->loop));
}

/* rx copied into the NAT's buffer; *tmp describes the copy. */
static uint8_t *copy_in(struct tern_stack *s, const struct ip_rx *rx, struct ip_rx *tmp)
{
    memcpy(s->natbuf, rx->hdr, rx->hdr_len);
    memcpy(s->natbuf + rx->hdr_len, rx->payload, rx->len);
    *tmp = *rx;
    tmp->hdr = s->natbuf;
    tmp->payload = s->natbuf + rx->hdr_len;
    return s->natbuf;
}

/* The rebuilt repr after a translation changed addresses. */
static void reparse(struct ip_rx *tmp)
{
    tmp->ip.src = tern_get32(tmp->hdr + 12);
    tmp->ip.dst = tern_get32(tmp->hdr + 16);
}

/* An ICMP query or TCP/UDP datagram's destination port (ICMP: the id). */
static uint16_t dport_of(const struct ip_rx *rx)
{
    if ((rx->ip.proto == 6 || rx->ip.proto == 17) && rx->len >= 4)
        return tern_get16(rx->payload + 2);
    if (rx->ip.proto == 1 && rx->len >= 8)
        return tern_get16(rx->payload + 4);
    return 0;
}

bool nat_stack_wants_whole(struct tern_stack *s, const struct ip_rx *rx)
{
    if (nat_iface_of(s, rx->ip.dst))
        return true; /* inbound to a NAT address, or hairpin */
    if (stack_is_our_addr(s, rx->ip.dst) || stack_is_bcast(s, rx->ip.dst))
        return false;
    if (if_nat(s, rx->ifindex) || if_fw(s, rx->ifindex))
        return true;
    uint32_t nh;
    int oif;
    if (tern_route_lookup(s, rx->ip.dst, &nh, &oif) < 0)
        return false;
    return if_nat(s, oif) || if_fw(s, oif);
}

bool nat_stack_input(struct tern_stack *s, struct ip_rx *rx, uint64_t now)
{
    struct tern_iface *nif = nat_iface_of(s, rx->ip.dst);
    if (!nif || rx->link_bcast)
        return false;
    struct ip_rx tmp;
    uint8_t *d;
    int v;
    if (if_nat(s, rx->ifindex)) {
        /* Arrived on an outside interface for a NAT address. */
        d = copy_in(s, rx, &tmp);
        unsigned fl = if_fw(s, rx->ifindex) ? NAT_IN_FW : 0;
        v = nat_inbound(s->nat, d, rx->hdr_len + rx->len, rx->ifindex, fl, now);
    } else {
        /* From inside to the NAT's outside address: hairpinning (RFC 4787
         * REQ-9, RFC 5382 REQ-8, RFC 5508 s7 for ICMP) when a mapping
         * exists; else it is for the router itself. */
        if (!nat_has_mapping(s->nat, rx->ip.proto, rx->ip.dst, dport_of(rx), now))
            return false;
        d = copy_in(s, rx, &tmp);
        v = nat_outbound(s->nat, d, rx->hdr_len + rx->len, ext_of(s, nif), true, now);
        if (v == NAT_PASS)
            v = nat_inbound(s->nat, d, rx->hdr_len + rx->len, nif->index, NAT_IN_HAIRPIN, now);
    }
    arm(s, now);
    if (v == NAT_NOMATCH)
        return false;
    if (v == NAT_PASS) {
        reparse(&tmp);
        ip_forward(s, &tmp, now);
    } else {
        s->stats.ip.fwd_nat_drop++;
    }
    return true;
}

const struct ip_rx *nat_stack_forward(struct tern_stack *s, const struct ip_rx *rx,
                                      struct tern_iface *oif, struct ip_rx *tmp, uint64_t now)
{
    if (rx->hdr == s->natbuf)
        return rx; /* translated on the way in */
    int in = rx->ifindex, out = oif->index;
    int v = NAT_PASS;
    bool touched = false;
    if (if_fw(s, in) && in != out) {
        /* Routed in through a firewall interface (not to a NAT address). */
        uint8_t *d = copy_in(s, rx, tmp);
        touched = true;
        v = nat_inbound(s->nat, d, rx->hdr_len + rx->len, in, NAT_IN_FW | NAT_IN_ROUTED, now);
        if (v == NAT_NOMATCH)
            v = NAT_DROP; /* default deny */
    } else if ((if_nat(s, out) || if_fw(s, out)) && !if_nat(s, in) && in != out) {
        uint8_t *d = copy_in(s, rx, tmp);
        touched = true;
        v = nat_outbound(s->nat, d, rx->hdr_len + rx->len, ext_of(s, oif), if_nat(s, out), now);
    }
    if (touched)
        arm(s, now);
    if (v != NAT_PASS) {
        s->stats.ip.fwd_nat_drop++;
        return NULL;
    }
    if (touched) {
        reparse(tmp);
        return tmp;
    }
    return rx;
}

bool tern_nat_inside_of(struct tern_stack *s, uint8_t proto, uint32_t ext_addr,
                        uint16_t ext_port, uint32_t rem_addr, uint16_t rem_port,
                        uint32_t *int_addr, uint16_t *int_port)
{
    return s->nat && nat_inside_of(s->nat, proto, ext_addr, ext_port, rem_addr, rem_port,
                                   tern_loop_now(s->loop), int_addr, int_port);
}
