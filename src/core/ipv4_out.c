/*
 * ipv4_out.c - IPv4 output: source selection, routing, IP IDs, DF and
 * fragmentation, link-layer framing (ARP or broadcast/multicast mapping on
 * Ethernet, bare on raw-IP devices) and the loopback queue.
 * RFC 791 s3.2, RFC 1122 s3.3.1 (routing outbound datagrams), s3.3.3
 * (fragmentation), RFC 1112 s6.4 (multicast MAC mapping), RFC 6864 and
 * RFC 7739 s5.3 (IP ID selection).
 * Not: forwarding (forward.c), path MTU discovery state (pmtu.c; the
 * transport sizes its segments from it).
 */
#include <string.h>

#include "core/stack_impl.h"
#include "dev/frame.h"
#include "tern/wire/bytes.h"
#include "tern/wire/eth.h"

/* RFC 7739 s5.3 (hash-based selection): a keyed hash of (src, dst, proto)
 * picks one of TERN_IPID_BUCKETS counters, each started at a random value,
 * and adds a keyed per-flow offset; no single global counter reveals our
 * traffic rate (ATTACKS 39). */
static uint64_t id_hash(const struct tern_stack *s, uint32_t src, uint32_t dst, uint8_t proto)
{
    uint8_t k[9];
    tern_put32(k, src);
    tern_put32(k + 4, dst);
    k[8] = proto;
    return prng_hash(&s->rng, k, sizeof k);
}

uint16_t ip_peek_id(const struct tern_stack *s, uint32_t src, uint32_t dst, uint8_t proto)
{
    uint64_t h = id_hash(s, src, dst, proto);
    return (uint16_t)((uint16_t)(h >> 32) + s->ip_id[h % TERN_IPID_BUCKETS]);
}

uint16_t ip_next_id(struct tern_stack *s, uint32_t src, uint32_t dst, uint8_t proto)
{
    uint64_t h = id_hash(s, src, dst, proto);
    return (uint16_t)((uint16_t)(h >> 32) + s->ip_id[h % TERN_IPID_BUCKETS]++);
}

/* dev_depth counts the device calls under way: a device that delivers a
 * frame to us from inside its send (a custom device looping back, a test
 * harness) finds it > 0, and stack.c queues the frame for the next loop
 * turn. So no output ever starts while txbuf is with a device, and no
 * input runs in the middle of an output: re-entrancy is ruled out by
 * construction rather than refused. */
int stack_dev_send(struct tern_stack *s, struct tern_device *d, uint8_t *frame, size_t len)
{
    struct tern_frame *f = s->txf;
    int rc;
    s->dev_depth++;
    if (d->ops->send_frame && !s->tx_pin && f && frame >= f->data && frame < f->data + f->cap) {
        struct tern_frame *nf = frame_get(s->fpool);
        if (nf) { /* ownership of f moves to the device; build on in nf */
            s->txf = nf;
            s->txbuf = nf->data;
            rc = tern_device_send_frame(d, f, (size_t)(frame - f->data), len);
            s->dev_depth--;
            return rc;
        }
    }
    rc = tern_device_send(d, frame, len);
    s->dev_depth--;
    return rc;
}

uint8_t *ip_tx_payload(struct tern_stack *s)
{
    return s->txbuf + TERN_ETH_HLEN + TERN_IPV4_HLEN_MIN;
}

int ip_link_output(struct tern_stack *s, struct tern_iface *ifc, uint32_t next_hop, uint32_t dst,
                   uint8_t *frame, size_t len, uint64_t now)
{
    if (ifc->link == TERN_LINK_RAW_IP)
        return stack_dev_send(s, ifc->dev, frame + TERN_ETH_HLEN, len - TERN_ETH_HLEN);
    uint8_t mac[6];
    if (dst == 0xffffffffu || (ifc->bcast && dst == ifc->bcast)) {
        memset(mac, 0xff, 6);
    } else if (ip_is_multicast(dst)) {
        /* RFC 1112 s6.4: 01:00:5e + the low 23 bits of the group. */
        mac[0] = 0x01, mac[1] = 0x00, mac[2] = 0x5e;
        mac[3] = (uint8_t)(dst >> 16 & 0x7f), mac[4] = (uint8_t)(dst >> 8), mac[5] = (uint8_t)dst;
    } else {
        return arp_output(s, ifc, next_hop, frame, len, now);
    }
    return eth_xmit(s, ifc, mac, TERN_ETHERTYPE_IPV4, frame, len);
}

/* tern_frag_emit_fn for ip_output and the forwarder: each fragment is
 * moved behind the Ethernet header room of txbuf and sent to the next hop.
 * The fragmenter builds the next fragment where it built this one, so
 * txbuf is pinned: fragments go to the device by copy. */
int ip_frag_emit(void *arg, const uint8_t *frag, size_t len)
{
    struct ip_frag_ctx *c = arg;
    uint8_t *at = c->s->txbuf + TERN_ETH_HLEN;
    if (frag != at)
        memmove(at, frag, len);
    c->s->stats.ip.frag_tx++;
    bool pin = c->s->tx_pin;
    c->s->tx_pin = true;
    int rc = ip_link_output(c->s, c->ifc, c->next_hop, c->dst, c->s->txbuf, TERN_ETH_HLEN + len,
                            c->now);
    c->s->tx_pin = pin;
    return rc;
}

/* Our own addresses (and 127/8) never reach a device: the datagram waits
 * on a small bounded queue and is received on the next loop turn, never
 * re-entrantly (so `ping <own address>` works). */
static int loop_output(struct tern_stack *s, const struct tern_ipv4_repr *ip, int ifindex,
                       const uint8_t *payload, size_t len, uint64_t now)
{
    struct loopq *q = &s->lq;
    size_t need = 8 + TERN_IPV4_HLEN_MIN + len;
    if (q->count >= TERN_LOOPQ_MAX || need > TERN_LOOPQ_BYTES - q->used) {
        s->stats.ip.drop_no_route++;
        return TERN_E_NOMEM;
    }
    uint8_t *r = q->buf + q->used;
    int h = tern_ipv4_emit(ip, r + 8, TERN_IPV4_HLEN_MIN);
    if (h < 0)
        return h;
    if (len)
        memcpy(r + 8 + h, payload, len);
    tern_put32(r, (uint32_t)(h + len));
    tern_put32(r + 4, (uint32_t)ifindex);
    q->used += 8 + (size_t)h + len;
    q->count++;
    s->stats.ip.tx++;
    if (!tern_timer_armed(&q->timer))
        tern_timer_arm(s->loop, &q->timer, now);
    return TERN_OK;
}

int ip_mcast_loop(struct tern_stack *s, const struct tern_ip_out *o, int ifindex,
                  const uint8_t *payload, size_t len, uint64_t now)
{
    struct tern_ipv4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.tos = o->tos;
    ip.ttl = o->ttl ? o->ttl : 1;
    ip.proto = o->proto;
    ip.src = o->src;
    ip.dst = o->dst;
    ip.payload_len = (uint16_t)len;
    ip.id = ip_peek_id(s, ip.src, ip.dst, ip.proto); /* the ID the wire copy gets */
    return loop_output(s, &ip, ifindex, payload, len, now);
}

void loopq_timer_fn(struct tern_timer *t, void *arg)
{
    struct tern_stack *s = arg;
    struct loopq *q = &s->lq;
    (void)t;
    uint64_t now = tern_loop_now(s->loop);
    /* Only what was queued before this turn; datagrams queued by the
     * receivers below are appended after `end` and wait for the next. */
    size_t end = q->used, off = 0;
    while (off + 8 <= end) {
        uint32_t len = tern_get32(q->buf + off);
        uint32_t ifindex = tern_get32(q->buf + off + 4);
        struct tern_iface *ifc = stack_iface(s, (int)ifindex);
        q->count--;
        if (ifc)
            ipv4_input(s, ifc, q->buf + off + 8, len, false, true, now);
        off += 8 + (size_t)len;
    }
    memmove(q->buf, q->buf + end, q->used - end);
    q->used -= end;
    if (q->count)
        tern_timer_arm(s->loop, &q->timer, now);
}

/* TCP segmentation offload (docs/devices.md): a TCP segment larger than
 * the MTU leaves whole when the interface's device cuts it into segments
 * (tso_max; tcp_out.c builds such super-segments only then): it is not an
 * IP fragment's business, each piece the device makes is a full datagram. */
static bool tso_fits(const struct tern_iface *ifc, const struct tern_ip_out *o, size_t len)
{
    return o->proto == TERN_IPPROTO_TCP && ifc->dev && ifc->dev->tso_max &&
           ifc->mtu == ifc->dev->mtu && TERN_IPV4_HLEN_MIN + len <= ifc->dev->tso_max;
}

static struct tern_iface *bcast_iface(struct tern_stack *s, uint32_t src)
{
    /* Limited broadcast: the interface owning src, else the first up one. */
    struct tern_iface *ifc = stack_iface_by_addr(s, src);
    if (ifc && ifc->up)
        return ifc;
    return stack_first_up_iface(s);
}

int ip_output(struct tern_stack *s, const struct tern_ip_out *o, const uint8_t *payload,
              size_t len, uint64_t now)
{
    return ip_output_oif(s, o, -1, payload, len, now);
}

static int output(struct tern_stack *s, const struct tern_ip_out *o, int oif,
                  struct route_cache *cache, const uint8_t *payload, size_t len, uint64_t now);

int ip_output_oif(struct tern_stack *s, const struct tern_ip_out *o, int oif,
                  const uint8_t *payload, size_t len, uint64_t now)
{
    return output(s, o, oif, NULL, payload, len, now);
}

int ip_output_rc(struct tern_stack *s, const struct tern_ip_out *o, struct route_cache *rc,
                 const uint8_t *payload, size_t len, uint64_t now)
{
    return output(s, o, -1, rc, payload, len, now);
}

/* cache (oif < 0 only): the caller's route cache, used on a hit, else
 * filled after the full lookup (route_cache.c). */
static int output(struct tern_stack *s, const struct tern_ip_out *o, int oif,
                  struct route_cache *cache, const uint8_t *payload, size_t len, uint64_t now)
{
    if (!s || !o || (len && !payload) || len > TERN_IPV4_MAX_LEN - TERN_IPV4_HLEN_MIN)
        return TERN_E_INVAL;
    struct tern_ipv4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.tos = o->tos;
    ip.ttl = o->ttl ? o->ttl : s->cfg.default_ttl;
    ip.proto = o->proto;
    ip.dst = o->dst;
    ip.df = o->df;
    ip.payload_len = (uint16_t)len;

    struct tern_iface *ifc;
    uint32_t next_hop = o->dst;
    bool hit = cache && route_cache_hit(s, cache, o);
    if (hit) {
        ifc = &s->ifaces[cache->ifindex];
        next_hop = cache->next_hop;
        goto routed;
    }
    struct tern_iface *own = stack_iface_by_addr(s, o->dst);
    if (own || ip_is_loopback(o->dst)) {
        if (!own)
            own = stack_iface(s, 0);
        if (!own) {
            s->stats.ip.drop_no_route++;
            return TERN_E_INVAL;
        }
        ip.src = o->src ? o->src : o->dst;
        ip.id = ip_next_id(s, ip.src, ip.dst, ip.proto);
        return loop_output(s, &ip, own->index, payload, len, now);
    }

    /* ECMP (route.c): the flow is what our source would be, the
     * destination, the protocol and its ports. */
    struct route_key key;
    route_key_make(&key, o->src, o->dst, o->proto, false, payload, len);
    if (oif >= 0) {
        /* Bound to an interface (TERN_SO_BINDTOIFACE): out there; through
         * its route's gateway when the route uses it, else on-link. */
        int ifindex;
        ifc = stack_iface(s, oif);
        if (o->dst != 0xffffffffu &&
            (route_lookup_key(s, &key, &next_hop, &ifindex) != TERN_OK || ifindex != oif))
            next_hop = o->dst;
    } else if (o->dst == 0xffffffffu) {
        ifc = bcast_iface(s, o->src);
    } else {
        int ifindex;
        ifc = route_lookup_key(s, &key, &next_hop, &ifindex) == TERN_OK ? stack_iface(s, ifindex)
                                                                       : NULL;
    }
    if (!ifc || !ifc->up) {
        s->stats.ip.drop_no_route++;
        return TERN_E_INVAL;
    }
routed:
    ip.src = o->src ? o->src : ifc->addr;
    if (cache && !hit)
        route_cache_fill(s, cache, o, ifc, next_hop, ip.src);
    ip.id = cache && cache->gen ? route_cache_next_id(s, cache)
                                : ip_next_id(s, ip.src, ip.dst, ip.proto);
    int rc;
    s->stats.ip.tx++;
    if (TERN_IPV4_HLEN_MIN + len <= ifc->mtu || tso_fits(ifc, o, len)) {
        uint8_t *at = s->txbuf + TERN_ETH_HLEN;
        int h = tern_ipv4_emit(&ip, at, TERN_IPV4_MAX_LEN);
        if (len && payload != at + h)
            memcpy(at + h, payload, len); /* the one copy, unless built in place */
        size_t flen = TERN_ETH_HLEN + (size_t)h + len;
        rc = cache && cache->gen ? route_cache_link_output(s, cache, ifc, s->txbuf, flen, now)
                                 : ip_link_output(s, ifc, next_hop, o->dst, s->txbuf, flen, now);
    } else if (o->df) {
        /* RFC 791 s3.2: DF set and too big - the caller learns it. */
        s->stats.ip.drop_df_too_big++;
        rc = TERN_E_BAD_LEN;
    } else {
        struct ip_frag_ctx c = {.s = s, .ifc = ifc, .next_hop = next_hop, .dst = o->dst, .now = now};
        if (payload == s->txbuf + TERN_ETH_HLEN + TERN_IPV4_HLEN_MIN) {
            /* Built in place, where the fragments go: fragmenting is the
             * one output step that may copy (today no transport builds in
             * place without DF, so this is a safeguard). */
            memcpy(s->icmpbuf, payload, len);
            payload = s->icmpbuf;
        }
        rc = ipv4_fragment(&ip, payload, len, ifc->mtu, s->txbuf + TERN_ETH_HLEN,
                                TERN_IPV4_MAX_LEN, ip_frag_emit, &c);
    }
    return rc < 0 ? rc : TERN_OK;
}

int tern_ip_output(struct tern_stack *s, const struct tern_ip_out *o, const uint8_t *payload,
                   size_t len)
{
    if (!s)
        return TERN_E_INVAL;
    return ip_output(s, o, payload, len, tern_loop_now(s->loop));
}
