/*
 * igmp.c - IPv4 multicast, host side: the per-interface group table,
 * IGMPv3 membership reports (RFC 3376 s5) with IGMPv1/v2 compatibility
 * (RFC 3376 s7.2, RFC 2236 s3), the receive filter (RFC 1112 s6.4 MAC
 * mapping), and the socket joins behind IP_ADD_MEMBERSHIP and the
 * source-specific options.
 * Not: the message codec (src/wire/igmp.c), multicast forwarding (a router
 * never forwards multicast: docs/routing.md), MLD (IPv6).
 *
 * Filter state (RFC 3376 s3): a socket membership is any-source (EXCLUDE
 * {}), source-specific (INCLUDE {S...}, IP_ADD_SOURCE_MEMBERSHIP) or
 * any-source with blocked sources (EXCLUDE {S...}, IP_BLOCK_SOURCE). A
 * group's interface state merges its sockets' (s3.2): EXCLUDE of the
 * intersection of the EXCLUDE lists minus the INCLUDE sources if any
 * socket excludes, else INCLUDE of the union; a union past MC_SRC_MAX
 * becomes EXCLUDE {} (receive all: a superset). State changes are reported
 * with the records of s5.1's table (TO_EX, TO_IN, ALLOW, BLOCK); while
 * their retransmissions are pending, a further change sends the records of
 * the net change since the first (s5.1's merge, simplified). Queries are
 * answered with IS_EX / IS_IN of the current state, a group-and-source-
 * specific query with IS_IN of the queried sources we want (s5.2); one
 * naming more than MC_SRC_MAX sources is answered like a group-specific one
 * (the whole state: a superset).
 *
 * One timer for the stack, armed at the earliest pending event of any
 * interface (answers to queries, state-change retransmissions).
 */
#include <stdlib.h>
#include <string.h>

#include "core/mcast.h"
#include "core/socket_impl.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"
#include "tern/wire/eth.h"
#include "tern/wire/igmp.h"

#define URI_V3_US 1000000ull   /* RFC 3376 s8.11 Unsolicited Report Interval: 1 s */
#define URI_V2_US 10000000ull  /* RFC 2236 s8.10: 10 s */
#define QRV_DEFAULT 2          /* RFC 3376 s8.1 */
#define QI_DEFAULT_S 125       /* RFC 3376 s8.2 */
#define QRI_DEFAULT_US 10000000ull /* RFC 3376 s8.3: 10 s */

static struct mc_iface *mif(struct tern_stack *s, int ifindex)
{
    return s->mc && ifindex >= 0 && ifindex < TERN_MAX_IFACES ? &s->mc->ifs[ifindex] : NULL;
}

static struct mc_group *find(struct mc_iface *m, uint32_t cap, uint32_t group)
{
    for (uint32_t i = 0; i < cap; i++)
        if (m->g[i].group == group)
            return &m->g[i];
    return NULL;
}

const struct mc_group *mcast_find(const struct tern_stack *s, int ifindex, uint32_t group)
{
    struct mc_iface *m = mif((struct tern_stack *)s, ifindex);
    return m ? find(m, s->mc->cap, group) : NULL;
}

uint32_t mcast_count(const struct tern_stack *s, int ifindex)
{
    struct mc_iface *m = mif((struct tern_stack *)s, ifindex);
    return m ? m->count : 0;
}

bool mcast_wanted(const struct tern_stack *s, int ifindex, uint32_t group)
{
    if (group == MC_ALL_HOSTS)
        return true; /* RFC 1112 s4: every multicast host is a member */
    const struct mc_group *g = mcast_find(s, ifindex, group);
    return g && (g->cur.n || g->cur.mode == TERN_IGMP3_MODE_IS_EXCLUDE);
}

static bool has(const uint32_t *v, unsigned n, uint32_t x)
{
    for (unsigned i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

/* RFC 3376 s3.2: a source passes an INCLUDE list if in it, an EXCLUDE list
 * if not. */
static bool state_allows(uint8_t mode, const uint32_t *src, unsigned n, uint32_t x)
{
    return mode == TERN_IGMP3_MODE_IS_EXCLUDE ? !has(src, n, x) : has(src, n, x);
}

bool mcast_src_wanted(const struct tern_stack *s, int ifindex, uint32_t group, uint32_t src)
{
    if (group == MC_ALL_HOSTS)
        return true;
    const struct mc_group *g = mcast_find(s, ifindex, group);
    return g && state_allows(g->cur.mode, g->cur.src, g->cur.n, src);
}

bool mcast_mac_wanted(const struct tern_stack *s, int ifindex, const uint8_t mac[6])
{
    /* RFC 1112 s6.4: 01:00:5e plus the low 23 bits of the group. */
    if (mac[0] != 0x01 || mac[1] != 0x00 || mac[2] != 0x5e || (mac[3] & 0x80))
        return false;
    uint32_t low = (uint32_t)mac[3] << 16 | (uint32_t)mac[4] << 8 | mac[5];
    if (low == (MC_ALL_HOSTS & 0x7fffff))
        return true;
    struct mc_iface *m = mif((struct tern_stack *)s, ifindex);
    if (!m)
        return false;
    for (uint32_t i = 0; i < s->mc->cap; i++)
        if (m->g[i].group && (m->g[i].cur.n || m->g[i].cur.mode == TERN_IGMP3_MODE_IS_EXCLUDE) &&
            (m->g[i].group & 0x7fffff) == low)
            return true;
    return false;
}

/* RFC 3376 s7.2.1: the host compatibility mode of an interface, from the
 * older-version querier present timers. */
static int iface_version(const struct mc_iface *m, uint64_t now)
{
    if (m->v1_until > now)
        return 1;
    if (m->v2_until > now)
        return 2;
    return 3;
}

/* A delay chosen at random from (0, max_us]. */
static uint64_t rand_delay(struct tern_stack *s, uint64_t max_us)
{
    return max_us ? 1 + prng_below(&s->rng, max_us) : 0;
}

static void rearm(struct tern_stack *s)
{
    struct mcast *mc = s->mc;
    uint64_t next = UINT64_MAX;
    for (int i = 0; i < TERN_MAX_IFACES; i++) {
        struct mc_iface *m = &mc->ifs[i];
        if (!m->count && !m->general_at)
            continue;
        if (m->general_at && m->general_at < next)
            next = m->general_at;
        for (uint32_t j = 0; j < mc->cap; j++) {
            struct mc_group *g = &m->g[j];
            if (!g->group)
                continue;
            if (g->resp_at && g->resp_at < next)
                next = g->resp_at;
            if (g->rexmit && g->rexmit_at < next)
                next = g->rexmit_at;
        }
    }
    if (next == UINT64_MAX) {
        if (tern_timer_armed(&mc->timer))
            tern_timer_cancel(s->loop, &mc->timer);
    } else if (!tern_timer_armed(&mc->timer) || mc->timer.when != next) {
        tern_timer_arm(s->loop, &mc->timer, next);
    }
}

/* RFC 3376 s4 / RFC 2236 s2: IGMP goes out with TTL 1, precedence
 * Internetwork Control (TOS 0xc0) and the Router Alert option (RFC 2113). */
static void igmp_xmit(struct tern_stack *s, struct tern_iface *ifc, uint32_t dst,
                      const uint8_t *msg, size_t len)
{
    static const uint8_t ra[4] = {0x94, 0x04, 0x00, 0x00};
    uint8_t f[TERN_ETH_HLEN + 24 + 1500];
    if (!ifc->up || 24 + len > ifc->mtu || 24 + len > sizeof f - TERN_ETH_HLEN)
        return;
    struct tern_ipv4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.tos = 0xc0;
    ip.ttl = 1;
    ip.proto = TERN_IPPROTO_IGMP;
    ip.df = true;
    ip.src = ifc->addr; /* 0.0.0.0 without an address (RFC 3376 s4.2.13) */
    ip.dst = dst;
    ip.opts = ra;
    ip.opts_len = sizeof ra;
    ip.payload_len = (uint16_t)len;
    ip.id = ip_next_id(s, ip.src, dst, TERN_IPPROTO_IGMP);
    int h = tern_ipv4_emit(&ip, f + TERN_ETH_HLEN, sizeof f - TERN_ETH_HLEN);
    if (h < 0)
        return;
    memcpy(f + TERN_ETH_HLEN + h, msg, len);
    s->stats.ip.tx++;
    s->stats.igmp.tx++;
    (void)ip_link_output(s, ifc, dst, dst, f, TERN_ETH_HLEN + (size_t)h + len,
                         tern_loop_now(s->loop));
}

/* An IGMPv1/v2 report for group, or a v2 leave (RFC 2236 s3: to
 * all-routers). */
static void send_v12(struct tern_stack *s, struct tern_iface *ifc, int version, uint8_t type,
                     uint32_t group)
{
    uint8_t msg[8];
    if (type != TERN_IGMP_V2_LEAVE)
        type = version == 1 ? TERN_IGMP_V1_REPORT : TERN_IGMP_V2_REPORT;
    if (tern_igmp_v2_emit(type, group, msg, sizeof msg) != 8)
        return;
    if (type == TERN_IGMP_V2_LEAVE)
        s->stats.igmp.leaves_tx++;
    else
        s->stats.igmp.reports_tx++;
    igmp_xmit(s, ifc, type == TERN_IGMP_V2_LEAVE ? MC_ALL_ROUTERS : group, msg, sizeof msg);
}

/* A v3 report being filled with records (RFC 3376 s4.2.4: type, aux 0,
 * source count, group, sources); sent when the next record would not fit
 * the MTU (s4.2.16: the rest go in further reports) and at the end. */
struct v3_batch {
    uint8_t msg[1500];
    size_t len, max;
    uint16_t nrec;
};

static void v3_init(const struct tern_iface *ifc, struct v3_batch *b)
{
    /* 24 bytes of IP header with Router Alert */
    size_t fit = ifc->mtu > 24 ? ifc->mtu - 24u : 0;
    b->max = fit < sizeof b->msg ? fit : sizeof b->msg;
    b->len = 8;
    b->nrec = 0;
}

static void v3_flush(struct tern_stack *s, struct tern_iface *ifc, struct v3_batch *b)
{
    if (!b->nrec)
        return;
    uint8_t *m = b->msg;
    m[0] = TERN_IGMP_V3_REPORT;
    m[1] = 0;
    tern_put16(m + 2, 0);
    tern_put16(m + 4, 0);
    tern_put16(m + 6, b->nrec);
    tern_put16(m + 2, tern_csum(m, b->len));
    s->stats.igmp.reports_tx++;
    igmp_xmit(s, ifc, MC_IGMP3_ROUTERS, m, b->len);
    b->len = 8;
    b->nrec = 0;
}

static void v3_add(struct tern_stack *s, struct tern_iface *ifc, struct v3_batch *b, uint8_t type,
                   uint32_t group, const uint32_t *src, unsigned n)
{
    size_t need = 8 + 4u * n;
    if (b->len + need > b->max)
        v3_flush(s, ifc, b);
    if (b->len + need > b->max)
        return; /* an MTU below 24 + 8 + 8 + 4 * MC_SRC_MAX: not sent */
    uint8_t *r = b->msg + b->len;
    r[0] = type;
    r[1] = 0;
    tern_put16(r + 2, (uint16_t)n);
    tern_put32(r + 4, group);
    for (unsigned i = 0; i < n; i++)
        tern_put32(r + 8 + 4 * i, src[i]);
    b->len += need;
    b->nrec++;
}

/* out = a - b; returns its size. */
static unsigned set_minus(const uint32_t *a, unsigned na, const uint32_t *b, unsigned nb,
                          uint32_t *out)
{
    unsigned n = 0;
    for (unsigned i = 0; i < na; i++)
        if (!has(b, nb, a[i]))
            out[n++] = a[i];
    return n;
}

static bool is_empty(const struct mc_state *st)
{
    return st->mode != TERN_IGMP3_MODE_IS_EXCLUDE && st->n == 0;
}

static bool state_eq(const struct mc_state *a, const struct mc_state *b)
{
    if (is_empty(a) || is_empty(b))
        return is_empty(a) && is_empty(b);
    if (a->mode != b->mode || a->n != b->n)
        return false;
    for (unsigned i = 0; i < a->n; i++)
        if (!has(b->src, b->n, a->src[i]))
            return false;
    return true;
}

/* RFC 3376 s5.1's table: the records that take a router from old to new.
 * INCLUDE(A) -> INCLUDE(B): ALLOW(B-A), BLOCK(A-B); INCLUDE(A) ->
 * EXCLUDE(B): TO_EX(B); EXCLUDE(A) -> INCLUDE(B): TO_IN(B); EXCLUDE(A) ->
 * EXCLUDE(B): ALLOW(A-B), BLOCK(B-A). */
static void change_records(struct tern_stack *s, struct tern_iface *ifc, struct v3_batch *b,
                           uint32_t group, const struct mc_state *old, const struct mc_state *cur,
                           bool mode_chg)
{
    bool oex = old->mode == TERN_IGMP3_MODE_IS_EXCLUDE;
    bool nex = cur->mode == TERN_IGMP3_MODE_IS_EXCLUDE;
    uint32_t d[MC_SRC_MAX];
    unsigned n;
    /* A mode change still being retransmitted stays a mode change (s5.1:
     * the filter-mode record is kept until its retransmissions are done). */
    if (oex != nex || mode_chg) {
        v3_add(s, ifc, b, nex ? TERN_IGMP3_CHANGE_TO_EXCLUDE : TERN_IGMP3_CHANGE_TO_INCLUDE, group,
               cur->src, cur->n);
        return;
    }
    const struct mc_state *in = nex ? old : cur, *out = nex ? cur : old;
    if ((n = set_minus(in->src, in->n, out->src, out->n, d)) != 0)
        v3_add(s, ifc, b, TERN_IGMP3_ALLOW_NEW_SOURCES, group, d, n);
    if ((n = set_minus(out->src, out->n, in->src, in->n, d)) != 0)
        v3_add(s, ifc, b, TERN_IGMP3_BLOCK_OLD_SOURCES, group, d, n);
}

/* The current-state record of g (s5.2): IS_EX / IS_IN; none when empty. */
static void current_record(struct tern_stack *s, struct tern_iface *ifc, struct v3_batch *b,
                           const struct mc_group *g)
{
    if (is_empty(&g->cur))
        return;
    v3_add(s, ifc, b,
           g->cur.mode == TERN_IGMP3_MODE_IS_EXCLUDE ? TERN_IGMP3_MODE_IS_EXCLUDE
                                                     : TERN_IGMP3_MODE_IS_INCLUDE,
           g->group, g->cur.src, g->cur.n);
}

static void slot_free(struct mc_iface *m, struct mc_group *g)
{
    memset(g, 0, sizeof *g);
    m->count--;
}

/* The interface state of group on ifindex from every socket's membership
 * (RFC 3376 s3.2). */
static void merge_state(struct tern_stack *s, int ifindex, uint32_t group, struct mc_state *st)
{
    bool excl = false, full = false;
    uint32_t ex[SOCK_MC_SRC_MAX], in[MC_SRC_MAX];
    unsigned nex = 0, nin = 0;
    for (uint32_t i = 0; i < s->sock_cap; i++) {
        const struct tern_sock *sk = sock_slot(s, i);
        if (!sk->used || !sk->n_mc)
            continue;
        for (unsigned k = 0; k < sk->n_mc; k++) {
            const struct sock_mc *mm = &sk->mc[k];
            if (mm->group != group || mm->ifindex != ifindex)
                continue;
            if (mm->mode == TERN_IGMP3_MODE_IS_EXCLUDE) {
                if (!excl) {
                    memcpy(ex, mm->src, mm->n * sizeof *ex);
                    nex = mm->n;
                    excl = true;
                } else {
                    uint32_t keep[SOCK_MC_SRC_MAX];
                    unsigned nk = 0;
                    for (unsigned j = 0; j < nex; j++)
                        if (has(mm->src, mm->n, ex[j]))
                            keep[nk++] = ex[j];
                    memcpy(ex, keep, nk * sizeof *ex);
                    nex = nk;
                }
            } else {
                for (unsigned j = 0; j < mm->n; j++) {
                    if (has(in, nin, mm->src[j]))
                        continue;
                    if (nin == MC_SRC_MAX)
                        full = true;
                    else
                        in[nin++] = mm->src[j];
                }
            }
        }
    }
    memset(st, 0, sizeof *st);
    if (excl) {
        st->mode = TERN_IGMP3_MODE_IS_EXCLUDE;
        st->n = (uint8_t)set_minus(ex, nex, in, nin, st->src);
    } else if (full) {
        st->mode = TERN_IGMP3_MODE_IS_EXCLUDE; /* too many sources: all of them */
    } else {
        st->mode = nin ? TERN_IGMP3_MODE_IS_INCLUDE : 0;
        st->n = (uint8_t)nin;
        memcpy(st->src, in, nin * sizeof *in);
    }
}

/* A state change of group on ifc (RFC 3376 s5.1): the records from the
 * state before the pending changes to now go out at once and are
 * retransmitted [Robustness Variable] - 1 more times at random intervals in
 * (0, [Unsolicited Report Interval]). In v1/v2 compatibility mode only
 * membership counts (s7.3.2): a join is an unsolicited v1/v2 report
 * (repeated likewise, RFC 2236 s3), a leave a v2 Leave Group (none in v1
 * mode); source changes send nothing. */
static void state_change(struct tern_stack *s, struct tern_iface *ifc, struct mc_iface *m,
                         struct mc_group *g, bool was_member, uint64_t now)
{
    int v = iface_version(m, now);
    bool member = !is_empty(&g->cur);
    if (g->group == MC_ALL_HOSTS) {
        g->rexmit = 0;
        if (!member)
            slot_free(m, g); /* never reported (RFC 3376 s5) */
        return;
    }
    if (v == 3) {
        struct v3_batch b;
        v3_init(ifc, &b);
        change_records(s, ifc, &b, g->group, &g->prev, &g->cur, g->mode_chg);
        v3_flush(s, ifc, &b);
        g->rexmit = (uint8_t)(m->qrv - 1);
        g->rexmit_at = now + rand_delay(s, URI_V3_US);
    } else if (member && !was_member) {
        send_v12(s, ifc, v, TERN_IGMP_V2_REPORT, g->group);
        g->rexmit = (uint8_t)(m->qrv - 1);
        g->rexmit_at = now + rand_delay(s, URI_V2_US);
    } else if (!member && was_member) {
        if (v == 2)
            send_v12(s, ifc, v, TERN_IGMP_V2_LEAVE, g->group);
        g->rexmit = 0;
    }
    if (!g->rexmit)
        g->prev = g->cur;
    if (!g->rexmit && !member)
        slot_free(m, g);
}

/* The slot of group on m, taken if new; NULL when the table is full
 * (G3 / ATTACKS 64: a join past the cap fails). */
static struct mc_group *slot_get(struct tern_stack *s, struct mc_iface *m, uint32_t group)
{
    struct mc_group *g = find(m, s->mc->cap, group);
    if (g)
        return g;
    g = find(m, s->mc->cap, 0);
    if (!g) {
        s->stats.igmp.groups_full++;
        return NULL;
    }
    memset(g, 0, sizeof *g);
    g->group = group;
    m->count++;
    return g;
}

/* After a socket's membership of group on ifc changed (users_delta: one
 * membership more or less): the interface state again, reported when it
 * changed. */
static void group_update(struct tern_stack *s, struct tern_iface *ifc, uint32_t group,
                         int users_delta, uint64_t now)
{
    struct mc_iface *m = mif(s, ifc->index);
    struct mc_group *g = find(m, s->mc->cap, group);
    if (!g)
        return;
    g->users = (uint16_t)(g->users + users_delta);
    struct mc_state ns;
    merge_state(s, ifc->index, group, &ns);
    if (state_eq(&ns, &g->cur)) {
        if (!g->users && !g->rexmit && is_empty(&g->cur))
            slot_free(m, g); /* a slot taken by a join that changed nothing */
        return;
    }
    bool was_member = !is_empty(&g->cur);
    if (!g->rexmit) {
        g->prev = g->cur;
        g->mode_chg = false;
    }
    g->mode_chg |=
        (g->cur.mode == TERN_IGMP3_MODE_IS_EXCLUDE) != (ns.mode == TERN_IGMP3_MODE_IS_EXCLUDE);
    g->cur = ns;
    if (is_empty(&ns))
        g->resp_at = 0;
    state_change(s, ifc, m, g, was_member, now);
    rearm(s);
}

/* RFC 3376 s5.2 (and RFC 2236 s3 in compatibility mode): a query schedules
 * an answer after a random delay in (0, Max Resp Time]. */
static void on_query(struct tern_stack *s, struct mc_iface *m,
                     const struct ip_rx *rx, const struct tern_igmp_repr *q, uint64_t now)
{
    uint32_t cap = s->mc->cap;
    s->stats.igmp.queries++;
    /* RFC 3376 s9.1: a general query not sent to all-systems is ignored;
     * a group-specific one goes to its group. */
    if (q->group == 0 ? rx->ip.dst != MC_ALL_HOSTS
                      : (rx->ip.dst != q->group && rx->ip.dst != MC_ALL_HOSTS)) {
        s->stats.igmp.drop_bad++;
        return;
    }
    if (q->group && !ip_is_multicast(q->group)) {
        s->stats.igmp.drop_bad++;
        return;
    }
    int before = iface_version(m, now);
    uint64_t max_us = (uint64_t)q->max_resp_ms * 1000u;
    if (q->version == 3) {
        /* RFC 3376 s4.1.6-7: adopt the querier's robustness and interval. */
        m->qrv = q->qrv ? q->qrv : QRV_DEFAULT;
        m->qqi_s = q->qqi_s ? (uint16_t)(q->qqi_s > 65535 ? 65535 : q->qqi_s) : QI_DEFAULT_S;
    } else {
        /* RFC 3376 s7.2.1 / s8.12: an older querier is present for
         * Robustness * Query Interval + one Query Response Interval. */
        uint64_t until = now + (uint64_t)m->qrv * m->qqi_s * 1000000u + QRI_DEFAULT_US;
        if (q->version == 1)
            m->v1_until = until;
        else
            m->v2_until = until;
    }
    int v = iface_version(m, now);
    if (v != before) {
        /* The mode changed: pending answers and retransmissions of the old
         * mode are cancelled (RFC 3376 s7.2.1); leaves still being
         * reported in v3 are forgotten. */
        m->general_at = 0;
        for (uint32_t i = 0; i < cap; i++) {
            struct mc_group *g = &m->g[i];
            if (!g->group)
                continue;
            g->resp_at = 0;
            g->rexmit = 0;
            g->prev = g->cur;
            g->mode_chg = false;
            if (is_empty(&g->cur))
                slot_free(m, g);
        }
    }
    uint64_t at = now + rand_delay(s, max_us);
    if (v == 3 && q->version == 3) {
        /* Rule 1: an earlier answer to a general query covers this one. */
        if (m->general_at && m->general_at <= at)
            return;
        if (q->group == 0) {
            m->general_at = at; /* rule 2 */
        } else {
            struct mc_group *g = find(m, cap, q->group);
            if (!g || is_empty(&g->cur))
                return; /* no state: nothing to say, nothing kept */
            /* Rules 3-5: a first query records its sources (none: the
             * whole state); a group-specific one, or one after a pending
             * group-specific one, asks for the whole state; sources of
             * another group-and-source query are added. */
            bool whole = q->nsources == 0 || (g->resp_at && g->qn == 0);
            if (!whole) {
                if (!g->resp_at)
                    g->qn = 0;
                for (unsigned i = 0; i < q->nsources && !whole; i++) {
                    uint32_t a = tern_get32(q->sources + 4 * i);
                    if (has(g->qsrc, g->qn, a))
                        continue;
                    if (g->qn == MC_SRC_MAX)
                        whole = true; /* too many to keep: answer with everything */
                    else
                        g->qsrc[g->qn++] = a;
                }
            }
            if (whole)
                g->qn = 0;
            if (!g->resp_at || g->resp_at > at)
                g->resp_at = at;
        }
        rearm(s);
        return;
    }
    if (v == 3)
        return; /* a v1/v2 query heard in v3 mode is impossible after the switch */
    /* RFC 2236 s3: each group gets its own delay; a pending one is reset
     * only when the new delay is shorter. */
    for (uint32_t i = 0; i < cap; i++) {
        struct mc_group *g = &m->g[i];
        if (!g->group || is_empty(&g->cur) || g->group == MC_ALL_HOSTS)
            continue;
        if (q->group && g->group != q->group)
            continue;
        uint64_t t = now + rand_delay(s, max_us);
        if (!g->resp_at || g->resp_at > t)
            g->resp_at = t;
    }
    rearm(s);
}

void igmp_input(struct tern_stack *s, const struct ip_rx *rx, uint64_t now)
{
    struct tern_igmp_repr r;
    struct tern_iface *ifc = stack_iface(s, rx->ifindex);
    struct mc_iface *m = mif(s, rx->ifindex);
    s->stats.igmp.rx++;
    if (!ifc || !m || rx->local || tern_igmp_parse(rx->payload, rx->len, 0, &r) < 0) {
        s->stats.igmp.drop_bad++;
        return;
    }
    if (r.type == TERN_IGMP_QUERY) {
        on_query(s, m, rx, &r, now);
        return;
    }
    /* RFC 2236 s3: in v1/v2 mode another member's report for a group we
     * were about to report makes ours redundant (v3 hosts never suppress,
     * RFC 3376 s5.2, and v3 reports go to 224.0.0.22, which we do not
     * receive). */
    if ((r.type == TERN_IGMP_V1_REPORT || r.type == TERN_IGMP_V2_REPORT) &&
        iface_version(m, now) < 3) {
        struct mc_group *g = find(m, s->mc->cap, r.group);
        if (g && g->resp_at) {
            g->resp_at = 0;
            rearm(s);
        }
    }
}

static void timer_fn(struct tern_timer *t, void *arg)
{
    struct tern_stack *s = arg;
    (void)t;
    uint64_t now = tern_loop_now(s->loop);
    uint32_t cap = s->mc->cap;
    for (int i = 0; i < TERN_MAX_IFACES; i++) {
        struct mc_iface *m = &s->mc->ifs[i];
        struct tern_iface *ifc = stack_iface(s, i);
        if (!ifc || (!m->count && !m->general_at))
            continue;
        int v = iface_version(m, now);
        struct v3_batch b;
        v3_init(ifc, &b);
        bool general = m->general_at && m->general_at <= now;
        if (general)
            m->general_at = 0;
        for (uint32_t j = 0; j < cap; j++) {
            struct mc_group *g = &m->g[j];
            if (!g->group)
                continue;
            bool member = !is_empty(&g->cur);
            if (g->rexmit && g->rexmit_at <= now) {
                g->rexmit--;
                if (v == 3)
                    change_records(s, ifc, &b, g->group, &g->prev, &g->cur, g->mode_chg);
                else if (member)
                    send_v12(s, ifc, v, TERN_IGMP_V2_REPORT, g->group);
                if (g->rexmit) {
                    g->rexmit_at = now + rand_delay(s, v == 3 ? URI_V3_US : URI_V2_US);
                } else {
                    g->prev = g->cur;
                    g->mode_chg = false;
                    if (!member) {
                        slot_free(m, g);
                        continue;
                    }
                }
            }
            bool due = g->resp_at && g->resp_at <= now;
            if (due)
                g->resp_at = 0;
            uint8_t qn = g->qn;
            if (due)
                g->qn = 0;
            if (!member || g->group == MC_ALL_HOSTS)
                continue;
            /* RFC 3376 s5.2: the answer to a general query lists every
             * group; a group timer's answer, its group - or IS_IN of the
             * queried sources it wants: INCLUDE(A): A * Q, EXCLUDE(A): Q - A. */
            if (v == 3 && !general && due && qn) {
                uint32_t d[MC_SRC_MAX];
                unsigned n = 0;
                for (unsigned k = 0; k < qn; k++)
                    if (state_allows(g->cur.mode, g->cur.src, g->cur.n, g->qsrc[k]))
                        d[n++] = g->qsrc[k];
                if (n)
                    v3_add(s, ifc, &b, TERN_IGMP3_MODE_IS_INCLUDE, g->group, d, n);
            } else if (v == 3 && (general || due)) {
                current_record(s, ifc, &b, g);
            }
            else if (v < 3 && due)
                send_v12(s, ifc, v, TERN_IGMP_V2_REPORT, g->group);
        }
        v3_flush(s, ifc, &b);
    }
    rearm(s);
}

int mcast_init(struct tern_stack *s)
{
    struct mcast *mc = calloc(1, sizeof *mc);
    if (!mc)
        return TERN_E_NOMEM;
    s->mc = mc;
    mc->cap = s->cfg.mcast_groups;
    tern_timer_init(&mc->timer, timer_fn, s);
    for (int i = 0; i < TERN_MAX_IFACES; i++) {
        mc->ifs[i].qrv = QRV_DEFAULT;
        mc->ifs[i].qqi_s = QI_DEFAULT_S;
        mc->ifs[i].g = calloc(mc->cap, sizeof *mc->ifs[i].g);
        if (!mc->ifs[i].g)
            return TERN_E_NOMEM;
    }
    return TERN_OK;
}

void mcast_fini(struct tern_stack *s)
{
    struct mcast *mc = s->mc;
    if (!mc)
        return;
    if (tern_timer_armed(&mc->timer))
        tern_timer_cancel(s->loop, &mc->timer);
    for (int i = 0; i < TERN_MAX_IFACES; i++)
        free(mc->ifs[i].g);
    free(mc);
    s->mc = NULL;
}

struct tern_iface *mcast_out_iface(struct tern_stack *s, int mc_ifindex, uint32_t group)
{
    struct tern_iface *ifc;
    int ifindex;
    if (mc_ifindex >= 0) {
        ifc = stack_iface(s, mc_ifindex);
        return ifc && ifc->up ? ifc : NULL;
    }
    if (tern_route_lookup(s, group, NULL, &ifindex) == TERN_OK) {
        ifc = stack_iface(s, ifindex);
        if (ifc && ifc->up)
            return ifc;
    }
    /* DEVIATION: Linux needs a route (or IP_MULTICAST_IF); without one we
     * take the first interface that is up. */
    return stack_first_up_iface(s);
}

/* ---- sockets -------------------------------------------------------------- */

static int sock_mc_find(const struct tern_sock *sk, uint32_t group, int ifindex)
{
    for (int i = 0; i < sk->n_mc; i++)
        if (sk->mc[i].group == group && sk->mc[i].ifindex == ifindex)
            return i;
    return -1;
}

bool mcast_sock_allow(const struct tern_sock *sk, uint32_t group, int ifindex, uint32_t src)
{
    int i = sock_mc_find(sk, group, ifindex);
    if (i < 0)
        return sk->mc_all; /* Linux IP_MULTICAST_ALL: a group joined by another socket */
    return state_allows(sk->mc[i].mode, sk->mc[i].src, sk->mc[i].n, src);
}

/* The interface of a join: ifindex, or the one traffic to group takes. */
static struct tern_iface *join_iface(struct tern_sock *sk, uint32_t group, int ifindex)
{
    if (ifindex >= 0)
        return stack_iface(sk->s, ifindex);
    return mcast_out_iface(sk->s, -1, group);
}

/* A new membership of sk (mode, one source or none), its group slot taken
 * first so that a full table changes nothing. */
static int sock_mc_add(struct tern_sock *sk, struct tern_iface *ifc, uint32_t group, uint8_t mode,
                       const uint32_t *src)
{
    struct tern_stack *s = sk->s;
    if (sk->n_mc >= SOCK_MC_MAX)
        return TERN_E_NOSPC; /* Linux: ENOBUFS past IP_MAX_MEMBERSHIPS */
    if (!sk->mc) {
        sk->mc = malloc(SOCK_MC_MAX * sizeof *sk->mc);
        if (!sk->mc)
            return TERN_E_NOMEM;
    }
    if (!slot_get(s, mif(s, ifc->index), group))
        return TERN_E_NOSPC;
    struct sock_mc *mm = &sk->mc[sk->n_mc++];
    memset(mm, 0, sizeof *mm);
    mm->group = group;
    mm->ifindex = ifc->index;
    mm->mode = mode;
    if (src)
        mm->src[mm->n++] = *src;
    group_update(s, ifc, group, 1, tern_loop_now(s->loop));
    return TERN_OK;
}

/* Removes membership i of sk and reports what that changes. */
static void sock_mc_del(struct tern_sock *sk, int i)
{
    struct tern_iface *ifc = stack_iface(sk->s, sk->mc[i].ifindex);
    uint32_t group = sk->mc[i].group;
    sk->mc[i] = sk->mc[--sk->n_mc];
    if (ifc)
        group_update(sk->s, ifc, group, -1, tern_loop_now(sk->s->loop));
}

int tern_sock_join(struct tern_sock *sk, uint32_t group, int ifindex)
{
    if (!sk || !ip_is_multicast(group))
        return TERN_E_INVAL;
    if (sk->type != TERN_SOCK_DGRAM)
        return TERN_E_OPNOTSUPP;
    struct tern_iface *ifc = join_iface(sk, group, ifindex);
    if (!ifc)
        return ifindex >= 0 ? TERN_E_INVAL : TERN_E_NETUNREACH;
    if (sock_mc_find(sk, group, ifc->index) >= 0)
        return TERN_E_ADDRINUSE; /* Linux: EADDRINUSE */
    return sock_mc_add(sk, ifc, group, TERN_IGMP3_MODE_IS_EXCLUDE, NULL);
}

/* Linux: without an interface, the first membership of the group. */
static int sock_mc_lookup(const struct tern_sock *sk, uint32_t group, int ifindex)
{
    if (ifindex >= 0)
        return sock_mc_find(sk, group, ifindex);
    for (int j = 0; j < sk->n_mc; j++)
        if (sk->mc[j].group == group)
            return j;
    return -1;
}

int tern_sock_leave(struct tern_sock *sk, uint32_t group, int ifindex)
{
    if (!sk || !ip_is_multicast(group))
        return TERN_E_INVAL;
    if (sk->type != TERN_SOCK_DGRAM)
        return TERN_E_OPNOTSUPP;
    int i = sock_mc_lookup(sk, group, ifindex);
    if (i < 0)
        return TERN_E_ADDRNOTAVAIL; /* Linux: EADDRNOTAVAIL */
    sock_mc_del(sk, i);
    return TERN_OK;
}

int tern_sock_source(struct tern_sock *sk, enum tern_mc_source_op op, uint32_t group,
                     uint32_t source, int ifindex)
{
    if (!sk || !ip_is_multicast(group) || op < TERN_MC_ADD_SOURCE || op > TERN_MC_UNBLOCK_SOURCE)
        return TERN_E_INVAL;
    if (sk->type != TERN_SOCK_DGRAM)
        return TERN_E_OPNOTSUPP;
    bool incl = op == TERN_MC_ADD_SOURCE || op == TERN_MC_DROP_SOURCE;
    bool add = op == TERN_MC_ADD_SOURCE || op == TERN_MC_BLOCK_SOURCE;
    int i = sock_mc_lookup(sk, group, ifindex);
    if (i < 0) {
        if (op != TERN_MC_ADD_SOURCE)
            return TERN_E_ADDRNOTAVAIL;
        /* RFC 3376 s3.1 IPMulticastListen(INCLUDE, {source}): a new
         * source-specific membership. */
        struct tern_iface *ifc = join_iface(sk, group, ifindex);
        if (!ifc)
            return ifindex >= 0 ? TERN_E_INVAL : TERN_E_NETUNREACH;
        return sock_mc_add(sk, ifc, group, TERN_IGMP3_MODE_IS_INCLUDE, &source);
    }
    struct sock_mc *mm = &sk->mc[i];
    /* Linux: INCLUDE ops on an any-source membership and block ops on a
     * source-specific one are EINVAL. */
    if ((mm->mode == TERN_IGMP3_MODE_IS_INCLUDE) != incl)
        return TERN_E_INVAL;
    int at = -1;
    for (int k = 0; k < mm->n; k++)
        if (mm->src[k] == source)
            at = k;
    if (add) {
        if (at >= 0)
            return TERN_OK; /* already listed: Linux says nothing */
        if (mm->n >= SOCK_MC_SRC_MAX)
            return TERN_E_NOSPC; /* Linux: ENOBUFS past igmp_max_msf */
        mm->src[mm->n++] = source;
    } else {
        if (at < 0)
            return TERN_E_ADDRNOTAVAIL;
        mm->src[at] = mm->src[--mm->n];
        if (incl && mm->n == 0) {
            sock_mc_del(sk, i); /* the last source: the group is left */
            return TERN_OK;
        }
    }
    struct tern_iface *ifc = stack_iface(sk->s, mm->ifindex);
    if (ifc)
        group_update(sk->s, ifc, group, 0, tern_loop_now(sk->s->loop));
    return TERN_OK;
}

void mcast_sock_release(struct tern_sock *sk)
{
    while (sk->n_mc)
        sock_mc_del(sk, sk->n_mc - 1);
    free(sk->mc);
    sk->mc = NULL;
}
