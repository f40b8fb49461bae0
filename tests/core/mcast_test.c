/*
 * Tests for src/core/igmp.c and the multicast paths of udp.c, ipv4_in.c
 * and stack.c in the state world: IGMPv3 state-change reports and their
 * retransmissions (RFC 3376 s5.1), answers to general and group-specific
 * queries (s5.2), IGMPv1/v2 compatibility (s7.2.1, RFC 2236 s3), the
 * receive filter (RFC 1112 s6.4), delivery to several sockets, the
 * socket options, and the group table cap (ATTACKS 64).
 */
#include <string.h>

#include "core/mcast.h"
#include "core/socket_impl.h"
#include "harness.h"
#include "tern/socket.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"
#include "tern/wire/eth.h"
#include "tern/wire/igmp.h"
#include "tern/wire/udp.h"
#include "world.h"

#define G1 0xef010203u /* 239.1.2.3 */
#define G2 0xef010204u
#define G1_ALIAS 0xef810203u /* 239.129.2.3: the same MAC as G1 */
#define ROUTER 0x0a0000feu
/* REQUIRE for helpers that return a value. */
#define NEED(c, ret)                                                                               \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            CHECK(c);                                                                              \
            return ret;                                                                            \
        }                                                                                          \
    } while (0)

static const struct tern_stats *st(const struct world *w) { return tern_stack_stats(w->s); }

static void map_mac(uint32_t g, uint8_t mac[6])
{
    mac[0] = 0x01, mac[1] = 0x00, mac[2] = 0x5e;
    mac[3] = (uint8_t)(g >> 16 & 0x7f), mac[4] = (uint8_t)(g >> 8), mac[5] = (uint8_t)g;
}

/* An IPv4 frame from src to a group (the mapped MAC) or to us. */
static size_t mc_frame(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl,
                       const uint8_t *payload, size_t len)
{
    struct tern_eth_repr e = {.ethertype = TERN_ETHERTYPE_IPV4};
    if (ip_is_multicast(dst))
        map_mac(dst, e.dst);
    else
        memcpy(e.dst, w_mac_us, 6);
    memcpy(e.src, w_mac_peer, 6);
    tern_eth_emit(&e, buf, TERN_ETH_HLEN);
    struct tern_ipv4_repr ip = w_ip(src, dst, proto, 7);
    ip.ttl = ttl;
    ip.payload_len = (uint16_t)len;
    int h = tern_ipv4_emit(&ip, buf + TERN_ETH_HLEN, 60);
    memcpy(buf + TERN_ETH_HLEN + h, payload, len);
    return TERN_ETH_HLEN + (size_t)h + len;
}

/* A query: v1 (8 bytes, code 0), v2 (8 bytes, code in tenths) or v3 (12). */
static size_t query(uint8_t *b, int version, uint8_t code, uint32_t group, uint8_t qrv)
{
    size_t n = version == 3 ? 12 : 8;
    memset(b, 0, n);
    b[0] = TERN_IGMP_QUERY;
    b[1] = version == 1 ? 0 : code;
    tern_put32(b + 4, group);
    if (version == 3) {
        b[8] = qrv & 7;
        b[9] = 125; /* QQIC: 125 s */
    }
    tern_put16(b + 2, tern_csum(b, n));
    return n;
}

static void inject_query(struct world *w, int version, uint8_t code, uint32_t group, uint32_t dst)
{
    uint8_t q[12], f[128];
    size_t n = query(q, version, code, group, 2);
    world_inject(w, f, mc_frame(f, ROUTER, dst, TERN_IPPROTO_IGMP, 1, q, n));
}

/* One IGMP message we sent: checks the framing every IGMP message shares
 * (RFC 3376 s4: TTL 1, TOS 0xc0, Router Alert; RFC 1112 s6.4 MAC). */
struct sent {
    struct tern_ipv4_repr ip;
    struct tern_igmp_repr r;
    uint64_t at;
    uint8_t buf[1600];
};

static bool pop_igmp(struct world *w, struct sent *out)
{
    size_t len;
    uint64_t at = w->count ? w->at[w->head] : 0;
    const uint8_t *f = world_pop_ip(w, &len);
    if (!f)
        return false;
    memcpy(out->buf, f, len);
    out->at = at;
    NEED(len > TERN_ETH_HLEN, false);
    NEED(tern_ipv4_parse(out->buf + TERN_ETH_HLEN, len - TERN_ETH_HLEN, 0, &out->ip) > 0, false);
    CHECK_EQ(out->ip.proto, TERN_IPPROTO_IGMP);
    CHECK_EQ(out->ip.ttl, 1);
    CHECK_EQ(out->ip.tos, 0xc0);
    CHECK_EQ(out->ip.src, W_US);
    NEED(out->ip.opts_len == 4, false);
    CHECK_EQ(out->ip.opts[0], 0x94); /* RFC 2113 Router Alert */
    uint8_t mac[6];
    map_mac(out->ip.dst, mac);
    CHECK_MEM(out->buf, mac, 6);
    CHECK_MEM(out->buf + 6, w_mac_us, 6);
    const uint8_t *p = out->buf + TERN_ETH_HLEN + out->ip.hdr_len;
    NEED(tern_igmp_parse(p, out->ip.payload_len, 0, &out->r) >= 0, false);
    return true;
}

/* The records of a v3 report: count, and the type of group g (0: absent). */
static int v3_record(const struct sent *m, uint32_t g, size_t *count)
{
    size_t pos = 0, idx = 0;
    struct tern_igmp3_record rec;
    int type = 0;
    *count = 0;
    while (tern_igmp3_record_next(&m->r, &pos, &idx, &rec) == 1) {
        (*count)++;
        CHECK_EQ(rec.nsources, 0);
        if (rec.group == g)
            type = rec.type;
    }
    return type;
}

static struct tern_sock *udp_bound(struct world *w, uint16_t port, bool reuse)
{
    struct tern_sock *sk = tern_sock_open(w->s, TERN_SOCK_DGRAM, NULL);
    NEED(sk, NULL);
    if (reuse)
        NEED(tern_sock_setopt(sk, TERN_SO_REUSEADDR, 1) == 0, sk);
    struct tern_sockaddr a = {0, port};
    NEED(tern_sock_bind(sk, &a) == 0, sk);
    return sk;
}

static void inject_udp(struct world *w, uint32_t dst, uint16_t dport, const char *text)
{
    uint8_t u[256], f[400];
    struct tern_udp_repr ur = {.sport = 4000, .dport = dport, .payload = (const uint8_t *)text,
                               .payload_len = (uint16_t)strlen(text)};
    int n = tern_udp_emit(&ur, W_PEER, dst, u, sizeof u);
    REQUIRE(n > 0);
    world_inject(w, f, mc_frame(f, W_PEER, dst, TERN_IPPROTO_UDP, 1, u, (size_t)n));
}

static ssize_t recv_text(struct tern_sock *sk, char *buf, size_t cap)
{
    ssize_t n = tern_sock_recv(sk, buf, cap - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    return n;
}

/* RFC 3376 s5.1: a join is reported at once with CHANGE_TO_EXCLUDE_MODE {}
 * and retransmitted Robustness - 1 (= 1) more time within the Unsolicited
 * Report Interval (1 s); a leave likewise with CHANGE_TO_INCLUDE_MODE {},
 * after which the group has no state. */
TEST(mcast_join_leave_state_change_reports)
{
    struct world *w = world_new(NULL);
    struct tern_sock *sk = udp_bound(w, 5000, false);
    uint64_t t0 = tern_loop_now(w->loop);
    REQUIRE_EQ(tern_sock_join(sk, G1, w->ifindex), 0);
    CHECK_EQ(tern_sock_join(sk, G1, w->ifindex), TERN_E_ADDRINUSE);
    struct sent m;
    size_t n;
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(m.at, t0);
    CHECK_EQ(m.ip.dst, MC_IGMP3_ROUTERS);
    CHECK_EQ(m.r.type, TERN_IGMP_V3_REPORT);
    CHECK_EQ(v3_record(&m, G1, &n), TERN_IGMP3_CHANGE_TO_EXCLUDE);
    CHECK_EQ(n, 1);
    CHECK_EQ(world_pending(w), 0);
    world_run(w, 1000000);
    REQUIRE(pop_igmp(w, &m));
    CHECK(m.at > t0 && m.at <= t0 + 1000000);
    CHECK_EQ(v3_record(&m, G1, &n), TERN_IGMP3_CHANGE_TO_EXCLUDE);
    world_run(w, 30000000);
    CHECK_EQ(world_pending(w), 0); /* robustness 2: two reports in all */
    CHECK_EQ(mcast_count(w->s, w->ifindex), 1);

    uint64_t t1 = tern_loop_now(w->loop);
    CHECK_EQ(tern_sock_leave(sk, G2, w->ifindex), TERN_E_ADDRNOTAVAIL);
    REQUIRE_EQ(tern_sock_leave(sk, G1, -1), 0);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(m.at, t1);
    CHECK_EQ(v3_record(&m, G1, &n), TERN_IGMP3_CHANGE_TO_INCLUDE);
    CHECK(!mcast_wanted(w->s, w->ifindex, G1)); /* filtered at once */
    CHECK_EQ(mcast_count(w->s, w->ifindex), 1); /* still reporting the leave */
    world_run(w, 1000000);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(v3_record(&m, G1, &n), TERN_IGMP3_CHANGE_TO_INCLUDE);
    CHECK_EQ(mcast_count(w->s, w->ifindex), 0);
    CHECK_EQ(st(w)->igmp.reports_tx, 4);
    tern_sock_close(sk);
    world_run(w, 10000000);
    CHECK_EQ(world_pending(w), 0);
    world_end(w);
}

/* Two sockets share one membership: the group is reported once, and left
 * only with the last (close leaves too). */
TEST(mcast_join_refcount_and_close_leaves)
{
    struct world *w = world_new(NULL);
    struct tern_sock *a = udp_bound(w, 5000, true), *b = udp_bound(w, 5000, true);
    REQUIRE_EQ(tern_sock_join(a, G1, -1), 0); /* by route: our only interface */
    REQUIRE_EQ(tern_sock_join(b, G1, w->ifindex), 0);
    world_run(w, 2000000);
    struct sent m;
    size_t n;
    CHECK(pop_igmp(w, &m) && pop_igmp(w, &m));
    CHECK_EQ(world_pending(w), 0);
    tern_sock_close(a);
    world_run(w, 2000000);
    CHECK_EQ(world_pending(w), 0);
    CHECK(mcast_wanted(w->s, w->ifindex, G1));
    tern_sock_close(b);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(v3_record(&m, G1, &n), TERN_IGMP3_CHANGE_TO_INCLUDE);
    world_run(w, 2000000);
    world_drain(w);
    CHECK_EQ(mcast_count(w->s, w->ifindex), 0);
    world_end(w);
}

/* RFC 3376 s5.2: a general query is answered after a random delay in
 * (0, Max Resp Time] with one report listing every group (IS_EX {}); a
 * group-specific query with that group alone; a query for a group we
 * are not in is ignored and leaves no state. */
TEST(mcast_query_answers)
{
    struct world *w = world_new(NULL);
    struct tern_sock *sk = udp_bound(w, 5000, false);
    REQUIRE_EQ(tern_sock_join(sk, G1, w->ifindex), 0);
    REQUIRE_EQ(tern_sock_join(sk, G2, w->ifindex), 0);
    world_run(w, 2000000);
    world_drain(w);

    uint64_t t0 = tern_loop_now(w->loop);
    inject_query(w, 3, 100, 0, MC_ALL_HOSTS); /* Max Resp Code 100: 10 s */
    CHECK_EQ(world_pending(w), 0);            /* not at once */
    world_run(w, 10000000);
    struct sent m;
    size_t n;
    REQUIRE(pop_igmp(w, &m));
    CHECK(m.at > t0 && m.at <= t0 + 10000000);
    CHECK_EQ(v3_record(&m, G1, &n), TERN_IGMP3_MODE_IS_EXCLUDE);
    CHECK_EQ(v3_record(&m, G2, &n), TERN_IGMP3_MODE_IS_EXCLUDE);
    CHECK_EQ(n, 2);
    CHECK_EQ(world_pending(w), 0);

    /* Group-specific, to the group (Max Resp 1 s). */
    t0 = tern_loop_now(w->loop);
    inject_query(w, 3, 10, G2, G2);
    world_run(w, 1000000);
    REQUIRE(pop_igmp(w, &m));
    CHECK(m.at > t0 && m.at <= t0 + 1000000);
    CHECK_EQ(v3_record(&m, G2, &n), TERN_IGMP3_MODE_IS_EXCLUDE);
    CHECK_EQ(n, 1);
    CHECK_EQ(world_pending(w), 0);

    /* Not ours: filtered by MAC and address (0xef090909 is not joined). */
    inject_query(w, 3, 10, 0xef090909u, 0xef090909u);
    /* Ours by address, but the query names another group: ignored. */
    inject_query(w, 3, 10, 0xef090909u, MC_ALL_HOSTS);
    /* A general query not sent to all-systems (RFC 3376 s9.1). */
    inject_query(w, 3, 10, 0, G1);
    world_run(w, 2000000);
    CHECK_EQ(world_pending(w), 0);
    CHECK_EQ(mcast_count(w->s, w->ifindex), 2);
    CHECK_EQ(st(w)->igmp.drop_bad, 1);

    /* Rule 1: a pending general answer due sooner covers a later
     * group-specific query: one report. */
    inject_query(w, 3, 1, 0, MC_ALL_HOSTS);  /* within 0.1 s */
    world_run(w, 0);
    uint64_t due = tern_timer_armed(&w->s->mc->timer) ? w->s->mc->timer.when : 0;
    CHECK(due > 0);
    inject_query(w, 3, 100, G1, G1);
    world_run(w, 12000000);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(m.at, due);
    CHECK_EQ(v3_record(&m, G1, &n), TERN_IGMP3_MODE_IS_EXCLUDE);
    CHECK_EQ(n, 2);
    /* The group query's own answer, if its delay came out later. */
    size_t extra = world_pending_ip(w);
    CHECK(extra <= 1);
    world_drain(w);
    tern_sock_close(sk);
    world_run(w, 2000000);
    world_drain(w);
    world_end(w);
}

/* RFC 3376 s7.2.1 / RFC 2236 s3: a v2 query puts the interface in IGMPv2
 * mode: v2 reports to the group, Leave Group to all-routers, and another
 * member's report suppresses ours; v3 again after the Older Version
 * Querier Present Timeout (2 * 125 s + 10 s). A v1 query: v1 reports, no
 * leave. */
TEST(mcast_v2_v1_compatibility)
{
    struct world *w = world_new(NULL);
    struct tern_sock *sk = udp_bound(w, 5000, false);
    REQUIRE_EQ(tern_sock_join(sk, G1, w->ifindex), 0);
    world_run(w, 2000000);
    world_drain(w);

    uint64_t t0 = tern_loop_now(w->loop);
    inject_query(w, 2, 100, 0, MC_ALL_HOSTS);
    world_run(w, 10000000);
    struct sent m;
    size_t n;
    REQUIRE(pop_igmp(w, &m));
    CHECK(m.at > t0 && m.at <= t0 + 10000000);
    CHECK_EQ(m.r.type, TERN_IGMP_V2_REPORT);
    CHECK_EQ(m.r.group, G1);
    CHECK_EQ(m.ip.dst, G1);
    CHECK_EQ(world_pending(w), 0);

    /* A join in v2 mode: v2 reports (and one repeat within 10 s). */
    REQUIRE_EQ(tern_sock_join(sk, G2, w->ifindex), 0);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(m.r.type, TERN_IGMP_V2_REPORT);
    CHECK_EQ(m.r.group, G2);
    world_run(w, 10000000);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(m.r.type, TERN_IGMP_V2_REPORT);
    CHECK_EQ(m.r.group, G2);

    /* Suppression: a query, then someone else's report for G1 - only G2
     * is reported. */
    inject_query(w, 2, 100, 0, MC_ALL_HOSTS);
    uint8_t rep[8], f[128];
    REQUIRE_EQ(tern_igmp_v2_emit(TERN_IGMP_V2_REPORT, G1, rep, sizeof rep), 8);
    world_inject(w, f, mc_frame(f, W_OTHER, G1, TERN_IPPROTO_IGMP, 1,
                                rep, 8));
    world_run(w, 10000000);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(m.r.group, G2);
    CHECK_EQ(world_pending(w), 0);

    /* Leave in v2 mode: a Leave Group to 224.0.0.2, no state left. */
    REQUIRE_EQ(tern_sock_leave(sk, G2, w->ifindex), 0);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(m.r.type, TERN_IGMP_V2_LEAVE);
    CHECK_EQ(m.r.group, G2);
    CHECK_EQ(m.ip.dst, MC_ALL_ROUTERS);
    CHECK(mcast_find(w->s, w->ifindex, G2) == NULL);
    CHECK_EQ(world_pending(w), 0);

    /* 260 s after the last v2 query: IGMPv3 again. */
    world_run(w, 260000000);
    REQUIRE_EQ(tern_sock_join(sk, G2, w->ifindex), 0);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(m.r.type, TERN_IGMP_V3_REPORT);
    CHECK_EQ(v3_record(&m, G2, &n), TERN_IGMP3_CHANGE_TO_EXCLUDE);
    world_run(w, 2000000);
    world_drain(w);

    /* v1: v1 reports (Max Resp 10 s), a leave says nothing. */
    inject_query(w, 1, 0, 0, MC_ALL_HOSTS);
    world_run(w, 10000000);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(m.r.type, TERN_IGMP_V1_REPORT);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(m.r.type, TERN_IGMP_V1_REPORT);
    CHECK_EQ(world_pending(w), 0);
    REQUIRE_EQ(tern_sock_leave(sk, G1, w->ifindex), 0);
    CHECK_EQ(world_pending(w), 0);
    CHECK(mcast_find(w->s, w->ifindex, G1) == NULL);
    tern_sock_close(sk);
    world_drain(w);
    world_end(w);
}

/* RFC 1112 s6.4 / s7.2: frames and datagrams for groups not joined on
 * the interface are dropped and counted - by MAC, and by address when
 * two groups share a MAC; the joined group reaches every socket bound to
 * its port (each gets a copy, Linux SO_REUSEADDR semantics), and with
 * IP_MULTICAST_ALL off only the sockets that joined. */
TEST(mcast_receive_filter_and_delivery)
{
    struct world *w = world_new(NULL);
    struct tern_sock *a = udp_bound(w, 5000, true), *b = udp_bound(w, 5000, true);
    struct tern_sock *c = udp_bound(w, 5000, true), *other = udp_bound(w, 5001, false);
    REQUIRE_EQ(tern_sock_setopt(c, TERN_IP_MULTICAST_ALL, 0), 0);
    int v = -1;
    CHECK_EQ(tern_sock_getopt(c, TERN_IP_MULTICAST_ALL, &v), 0);
    CHECK_EQ(v, 0);
    char buf[64];

    uint64_t eth_drops = st(w)->eth.drop_not_for_us;
    inject_udp(w, G1, 5000, "early"); /* before the join: filtered by MAC */
    CHECK_EQ(st(w)->eth.drop_not_for_us, eth_drops + 1);
    REQUIRE_EQ(tern_sock_join(a, G1, w->ifindex), 0);
    world_drain(w);
    inject_udp(w, G1, 5000, "one");
    inject_udp(w, G1_ALIAS, 5000, "alias"); /* passes the MAC filter only */
    inject_udp(w, G2, 5000, "two");         /* not joined */
    world_run(w, 0);
    CHECK_EQ(st(w)->igmp.filtered, 1);                  /* alias, by address */
    CHECK_EQ(st(w)->eth.drop_not_for_us, eth_drops + 2); /* two, by MAC */
    CHECK_EQ(recv_text(a, buf, sizeof buf), 3);
    CHECK_EQ(strcmp(buf, "one"), 0);
    CHECK_EQ(recv_text(b, buf, sizeof buf), 3); /* bound to 0.0.0.0:5000: a copy */
    CHECK_EQ(tern_sock_recv(c, buf, sizeof buf, 0), TERN_E_AGAIN); /* did not join */
    CHECK_EQ(tern_sock_recv(a, buf, sizeof buf, 0), TERN_E_AGAIN);
    CHECK_EQ(tern_sock_recv(other, buf, sizeof buf, 0), TERN_E_AGAIN);
    CHECK_EQ(st(w)->udp.no_port, 0);
    CHECK_EQ(world_pending(w), 0); /* never an ICMP error about multicast */

    REQUIRE_EQ(tern_sock_join(c, G1, w->ifindex), 0);
    inject_udp(w, G1, 5000, "three");
    inject_udp(w, G1, 5002, "noport"); /* nobody: no ICMP */
    CHECK_EQ(recv_text(c, buf, sizeof buf), 5);
    CHECK_EQ(strcmp(buf, "three"), 0);
    world_drain(w);
    CHECK_EQ(world_pending(w), 0);
    CHECK_EQ(st(w)->icmp.errors_tx, 0);

    /* Unicast MAC with a group address not joined: filtered by address. */
    uint8_t u[64], f[200];
    struct tern_udp_repr ur = {.sport = 1, .dport = 5000, .payload = (const uint8_t *)"x",
                               .payload_len = 1};
    int n = tern_udp_emit(&ur, W_PEER, G2, u, sizeof u);
    size_t fl = mc_frame(f, W_PEER, G2, TERN_IPPROTO_UDP, 1, u, (size_t)n);
    memcpy(f, w_mac_us, 6);
    uint64_t filtered = st(w)->igmp.filtered;
    world_inject(w, f, fl);
    CHECK_EQ(st(w)->igmp.filtered, filtered + 1);

    tern_sock_close(a);
    tern_sock_close(b);
    tern_sock_close(c);
    tern_sock_close(other);
    world_run(w, 3000000);
    world_drain(w);
    CHECK_EQ(mcast_count(w->s, w->ifindex), 0);
    inject_udp(w, G1, 5000, "late");
    CHECK_EQ(st(w)->eth.drop_not_for_us, eth_drops + 3);
    CHECK_EQ(st(w)->udp.rx, 3); /* one, three, noport */
    world_end(w);
}

/* Sending to a group: the MAC is mapped (no ARP), TTL 1 by default
 * (IP_MULTICAST_TTL), and with IP_MULTICAST_LOOP (default on) our own
 * member gets a copy; TTL 0 stays on this host. */
TEST(mcast_send_ttl_loop_and_mac)
{
    struct world *w = world_new(NULL);
    struct tern_sock *rx = udp_bound(w, 5000, false);
    struct tern_sock *tx = tern_sock_open(w->s, TERN_SOCK_DGRAM, NULL);
    REQUIRE(tx);
    int v = 0;
    CHECK_EQ(tern_sock_getopt(tx, TERN_IP_MULTICAST_TTL, &v), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(tern_sock_getopt(tx, TERN_IP_MULTICAST_LOOP, &v), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(tern_sock_getopt(tx, TERN_IP_MULTICAST_IF, &v), 0);
    CHECK_EQ(v, -1);
    CHECK_EQ(tern_sock_setopt(tx, TERN_IP_MULTICAST_IF, 7), TERN_E_INVAL);
    CHECK_EQ(tern_sock_setopt(tx, TERN_IP_MULTICAST_TTL, 256), TERN_E_INVAL);
    REQUIRE_EQ(tern_sock_join(rx, G1, w->ifindex), 0);
    world_drain(w);

    struct tern_sockaddr to = {G1, 5000};
    char buf[64];
    uint64_t arp_req = st(w)->arp.tx_request;
    CHECK_EQ(tern_sock_sendto(tx, "hi", 2, 0, &to), 2);
    size_t len;
    const uint8_t *f = world_pop(w, &len);
    REQUIRE(f);
    uint8_t mac[6];
    map_mac(G1, mac);
    CHECK_MEM(f, mac, 6);
    struct tern_ipv4_repr ip;
    REQUIRE(tern_ipv4_parse(f + TERN_ETH_HLEN, len - TERN_ETH_HLEN, 0, &ip) > 0);
    CHECK_EQ(ip.ttl, 1);
    CHECK_EQ(ip.dst, G1);
    CHECK_EQ(ip.src, W_US);
    CHECK_EQ(st(w)->arp.tx_request, arp_req);
    world_run(w, 0);
    CHECK_EQ(recv_text(rx, buf, sizeof buf), 2);
    CHECK_EQ(strcmp(buf, "hi"), 0);

    REQUIRE_EQ(tern_sock_setopt(tx, TERN_IP_MULTICAST_TTL, 5), 0);
    REQUIRE_EQ(tern_sock_setopt(tx, TERN_IP_MULTICAST_LOOP, 0), 0);
    CHECK_EQ(tern_sock_sendto(tx, "ho", 2, 0, &to), 2);
    f = world_pop(w, &len);
    REQUIRE(f);
    REQUIRE(tern_ipv4_parse(f + TERN_ETH_HLEN, len - TERN_ETH_HLEN, 0, &ip) > 0);
    CHECK_EQ(ip.ttl, 5);
    world_run(w, 0);
    CHECK_EQ(tern_sock_recv(rx, buf, sizeof buf, 0), TERN_E_AGAIN);

    REQUIRE_EQ(tern_sock_setopt(tx, TERN_IP_MULTICAST_TTL, 0), 0);
    REQUIRE_EQ(tern_sock_setopt(tx, TERN_IP_MULTICAST_LOOP, 1), 0);
    CHECK_EQ(tern_sock_sendto(tx, "local", 5, 0, &to), 5);
    CHECK_EQ(world_pending(w), 0);
    world_run(w, 0);
    CHECK_EQ(recv_text(rx, buf, sizeof buf), 5);
    /* A group nobody here joined: on the wire only. */
    REQUIRE_EQ(tern_sock_setopt(tx, TERN_IP_MULTICAST_TTL, 1), 0);
    struct tern_sockaddr to2 = {G2, 5000};
    CHECK_EQ(tern_sock_sendto(tx, "g2", 2, 0, &to2), 2);
    CHECK_EQ(world_pending(w), 1);
    world_drain(w);
    tern_sock_close(tx);
    tern_sock_close(rx);
    world_run(w, 3000000);
    world_drain(w);
    world_end(w);
}

/* ATTACKS 64: join floods leave the group table at its cap. A socket
 * holds at most 20 memberships; the interface at most cfg.mcast_groups
 * groups, joins past it fail with TERN_E_NOSPC and are counted; 10,000
 * queries for groups we are not in create nothing; existing members
 * still receive; everything is freed when the sockets close. */
TEST(attack_64_mcast_join_flood_table_capped)
{
    struct tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.seed = 1;
    cfg.mcast_groups = 32;
    struct world *w = world_new(&cfg);
    struct tern_sock *sk[4];
    for (int i = 0; i < 4; i++)
        sk[i] = udp_bound(w, 5000, true);
    uint32_t g = 0xef000001u;
    for (int i = 0; i < SOCK_MC_MAX; i++)
        REQUIRE_EQ(tern_sock_join(sk[0], g++, w->ifindex), 0);
    CHECK_EQ(tern_sock_join(sk[0], g, w->ifindex), TERN_E_NOSPC); /* per socket */
    int refused = 0;
    for (int i = 1; i < 4; i++)
        for (int j = 0; j < SOCK_MC_MAX; j++)
            if (tern_sock_join(sk[i], g++, w->ifindex) == TERN_E_NOSPC)
                refused++;
    CHECK_EQ(mcast_count(w->s, w->ifindex), 32);
    CHECK_EQ(refused, 3 * SOCK_MC_MAX - 12);
    CHECK_EQ(st(w)->igmp.groups_full, (uint64_t)refused);
    world_run(w, 2000000);
    world_drain(w);

    /* A flood of group-specific queries for groups we are not in, sent
     * to all-systems so they pass the filter. */
    for (uint32_t i = 0; i < 10000; i++)
        inject_query(w, 3, 10, 0xe8000000u + i, MC_ALL_HOSTS);
    world_run(w, 2000000);
    CHECK_EQ(world_pending(w), 0);
    CHECK_EQ(mcast_count(w->s, w->ifindex), 32);
    CHECK_EQ(st(w)->igmp.queries, 10000);
    /* Reports of other hosts for 1,000 groups, to all-systems: no state either. */
    for (uint32_t i = 0; i < 1000; i++) {
        uint8_t rep[8], f[128];
        REQUIRE_EQ(tern_igmp_v2_emit(TERN_IGMP_V2_REPORT, 0xe9000000u + i, rep, sizeof rep), 8);
        world_inject(w, f, mc_frame(f, W_OTHER, MC_ALL_HOSTS, TERN_IPPROTO_IGMP, 1, rep, 8));
    }
    CHECK_EQ(mcast_count(w->s, w->ifindex), 32);
    CHECK_EQ(world_pending(w), 0);

    /* The first group still works. */
    char buf[32];
    inject_udp(w, 0xef000001u, 5000, "still");
    CHECK_EQ(recv_text(sk[0], buf, sizeof buf), 5);
    for (int i = 0; i < 4; i++)
        tern_sock_close(sk[i]);
    world_run(w, 3000000);
    world_drain(w);
    CHECK_EQ(mcast_count(w->s, w->ifindex), 0);
    world_end(w);
}

/* The record of group g in a v3 report: its type (0: none) and sources. */
static int v3_sources(const struct sent *m, uint32_t g, uint32_t *src, unsigned *n)
{
    size_t pos = 0, idx = 0;
    struct tern_igmp3_record rec;
    *n = 0;
    while (tern_igmp3_record_next(&m->r, &pos, &idx, &rec) == 1) {
        if (rec.group != g)
            continue;
        for (unsigned i = 0; i < rec.nsources && i < 16; i++)
            src[i] = tern_get32(rec.sources + 4 * i);
        *n = rec.nsources;
        return rec.type;
    }
    return 0;
}

static bool same_set(const uint32_t *a, unsigned na, const uint32_t *b, unsigned nb)
{
    if (na != nb)
        return false;
    for (unsigned i = 0; i < na; i++) {
        bool hit = false;
        for (unsigned j = 0; j < nb; j++)
            hit |= a[i] == b[j];
        if (!hit)
            return false;
    }
    return true;
}

static void inject_udp_from(struct world *w, uint32_t src, uint32_t dst, uint16_t dport,
                            const char *text)
{
    uint8_t u[256], f[400];
    struct tern_udp_repr ur = {.sport = 4000, .dport = dport, .payload = (const uint8_t *)text,
                               .payload_len = (uint16_t)strlen(text)};
    int n = tern_udp_emit(&ur, src, dst, u, sizeof u);
    REQUIRE(n > 0);
    world_inject(w, f, mc_frame(f, src, dst, TERN_IPPROTO_UDP, 1, u, (size_t)n));
}

#define S1 0x0a000101u
#define S2 0x0a000102u
#define S3 0x0a000103u
#define S4 0x0a000104u

/* RFC 3376 s3 / s5.1: source-specific memberships. The interface state
 * merges the sockets' (s3.2) and each change is reported with the records
 * of s5.1's table: ALLOW for new INCLUDE sources, TO_EX when an any-source
 * member arrives, TO_IN {sources} when it leaves, TO_EX {blocked} for a
 * blocked source; the filter follows the state, per socket and per
 * interface; queries are answered with IS_EX / IS_IN. */
TEST(mcast_source_filters_and_records)
{
    struct world *w = world_new(NULL);
    struct tern_sock *ssm = udp_bound(w, 5000, true), *any = udp_bound(w, 5000, true);
    struct sent m;
    uint32_t src[16], want[4];
    unsigned n;
    char buf[64];

    REQUIRE_EQ(tern_sock_source(ssm, TERN_MC_ADD_SOURCE, G1, S1, w->ifindex), 0);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(v3_sources(&m, G1, src, &n), TERN_IGMP3_ALLOW_NEW_SOURCES);
    want[0] = S1;
    CHECK(same_set(src, n, want, 1));
    /* A second source before the retransmission: the net change, ALLOW {S1, S2}. */
    REQUIRE_EQ(tern_sock_source(ssm, TERN_MC_ADD_SOURCE, G1, S2, w->ifindex), 0);
    CHECK_EQ(tern_sock_source(ssm, TERN_MC_ADD_SOURCE, G1, S2, w->ifindex), 0); /* listed */
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(v3_sources(&m, G1, src, &n), TERN_IGMP3_ALLOW_NEW_SOURCES);
    want[1] = S2;
    CHECK(same_set(src, n, want, 2));
    world_run(w, 2000000);
    REQUIRE(pop_igmp(w, &m)); /* the one retransmission, the same records */
    CHECK_EQ(v3_sources(&m, G1, src, &n), TERN_IGMP3_ALLOW_NEW_SOURCES);
    CHECK(same_set(src, n, want, 2));
    CHECK_EQ(world_pending(w), 0);

    /* Only S1 and S2 get through the interface. */
    inject_udp_from(w, S1, G1, 5000, "s1");
    inject_udp_from(w, S3, G1, 5000, "s3");
    CHECK_EQ(st(w)->igmp.filtered, 1);
    CHECK_EQ(recv_text(ssm, buf, sizeof buf), 2);
    CHECK_EQ(recv_text(any, buf, sizeof buf), 2); /* IP_MULTICAST_ALL: joined by another */
    CHECK_EQ(tern_sock_recv(ssm, buf, sizeof buf, 0), TERN_E_AGAIN);

    /* An any-source member: EXCLUDE {} on the interface, TO_EX {}. */
    REQUIRE_EQ(tern_sock_join(any, G1, w->ifindex), 0);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(v3_sources(&m, G1, src, &n), TERN_IGMP3_CHANGE_TO_EXCLUDE);
    CHECK_EQ(n, 0);
    inject_udp_from(w, S3, G1, 5000, "s3");
    CHECK_EQ(recv_text(any, buf, sizeof buf), 2);
    CHECK_EQ(tern_sock_recv(ssm, buf, sizeof buf, 0), TERN_E_AGAIN); /* its own filter */
    CHECK_EQ(tern_sock_source(any, TERN_MC_ADD_SOURCE, G1, S3, w->ifindex), TERN_E_INVAL);
    CHECK_EQ(tern_sock_source(ssm, TERN_MC_BLOCK_SOURCE, G1, S3, w->ifindex), TERN_E_INVAL);
    CHECK_EQ(tern_sock_source(ssm, TERN_MC_DROP_SOURCE, G1, S4, w->ifindex),
             TERN_E_ADDRNOTAVAIL);

    /* Blocking S4 (not in the INCLUDE union): EXCLUDE {S4}; a blocked S1
     * stays out of the list (ssm wants it). Within the retransmission of
     * TO_EX, the mode change is still what is sent: TO_EX {S4}. */
    REQUIRE_EQ(tern_sock_source(any, TERN_MC_BLOCK_SOURCE, G1, S4, w->ifindex), 0);
    REQUIRE_EQ(tern_sock_source(any, TERN_MC_BLOCK_SOURCE, G1, S1, w->ifindex), 0);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(v3_sources(&m, G1, src, &n), TERN_IGMP3_CHANGE_TO_EXCLUDE);
    want[0] = S4;
    CHECK(same_set(src, n, want, 1));
    world_drain(w);
    world_run(w, 2000000);
    world_drain(w);
    uint64_t filtered = st(w)->igmp.filtered;
    inject_udp_from(w, S4, G1, 5000, "s4");
    CHECK_EQ(st(w)->igmp.filtered, filtered + 1);
    inject_udp_from(w, S1, G1, 5000, "s1");
    CHECK_EQ(recv_text(ssm, buf, sizeof buf), 2);
    CHECK_EQ(tern_sock_recv(any, buf, sizeof buf, 0), TERN_E_AGAIN); /* blocked there */

    /* The answer to a general query: IS_EX {S4}. */
    inject_query(w, 3, 10, 0, MC_ALL_HOSTS);
    world_run(w, 1000000);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(v3_sources(&m, G1, src, &n), TERN_IGMP3_MODE_IS_EXCLUDE);
    CHECK(same_set(src, n, want, 1));

    /* Unblock S4 in EXCLUDE mode: ALLOW {S4}. */
    REQUIRE_EQ(tern_sock_source(any, TERN_MC_UNBLOCK_SOURCE, G1, S4, w->ifindex), 0);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(v3_sources(&m, G1, src, &n), TERN_IGMP3_ALLOW_NEW_SOURCES);
    CHECK(same_set(src, n, want, 1));
    world_run(w, 2000000);
    world_drain(w);

    /* The any-source member leaves: INCLUDE {S1, S2}, TO_IN {S1, S2}. */
    REQUIRE_EQ(tern_sock_leave(any, G1, w->ifindex), 0);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(v3_sources(&m, G1, src, &n), TERN_IGMP3_CHANGE_TO_INCLUDE);
    want[0] = S1;
    CHECK(same_set(src, n, want, 2));
    world_run(w, 2000000);
    world_drain(w);
    /* Dropping both sources leaves the group: BLOCK {S2}, then TO_IN {}
     * is not needed - INCLUDE {} after INCLUDE {S1}: BLOCK {S1}. */
    REQUIRE_EQ(tern_sock_source(ssm, TERN_MC_DROP_SOURCE, G1, S2, w->ifindex), 0);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(v3_sources(&m, G1, src, &n), TERN_IGMP3_BLOCK_OLD_SOURCES);
    want[0] = S2;
    CHECK(same_set(src, n, want, 1));
    world_run(w, 2000000);
    world_drain(w);
    REQUIRE_EQ(tern_sock_source(ssm, TERN_MC_DROP_SOURCE, G1, S1, w->ifindex), 0);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(v3_sources(&m, G1, src, &n), TERN_IGMP3_BLOCK_OLD_SOURCES);
    want[0] = S1;
    CHECK(same_set(src, n, want, 1));
    CHECK(!mcast_wanted(w->s, w->ifindex, G1));
    CHECK_EQ(tern_sock_leave(ssm, G1, w->ifindex), TERN_E_ADDRNOTAVAIL); /* gone */
    world_run(w, 2000000);
    world_drain(w);
    CHECK_EQ(mcast_count(w->s, w->ifindex), 0);

    /* At most 10 sources per membership (Linux igmp_max_msf). */
    for (uint32_t i = 0; i < SOCK_MC_SRC_MAX; i++)
        REQUIRE_EQ(tern_sock_source(ssm, TERN_MC_ADD_SOURCE, G2, 0x0a000200u + i, w->ifindex), 0);
    CHECK_EQ(tern_sock_source(ssm, TERN_MC_ADD_SOURCE, G2, 0x0a0002ffu, w->ifindex),
             TERN_E_NOSPC);
    tern_sock_close(ssm);
    tern_sock_close(any);
    world_run(w, 3000000);
    world_drain(w);
    CHECK_EQ(mcast_count(w->s, w->ifindex), 0);
    world_end(w);
}

/* A group-and-source-specific v3 query for g naming src[0..n), Max Resp 1 s. */
static void inject_gss_query(struct world *w, uint32_t g, const uint32_t *src, unsigned n)
{
    uint8_t q[12 + 4 * 8], f[200];
    size_t len = query(q, 3, 10, g, 2);
    tern_put16(q + 10, (uint16_t)n);
    for (unsigned i = 0; i < n; i++)
        tern_put32(q + 12 + 4 * i, src[i]);
    len += 4 * n;
    tern_put16(q + 2, 0);
    tern_put16(q + 2, tern_csum(q, len));
    world_inject(w, f, mc_frame(f, ROUTER, g, TERN_IPPROTO_IGMP, 1, q, len));
}

/* RFC 3376 s5.2: a group-and-source-specific query is answered with IS_IN
 * of the queried sources the state wants - INCLUDE(A): A * Q, EXCLUDE(A):
 * Q - A - and nothing when none; a group-specific query pending with it
 * asks for the whole state. */
TEST(mcast_group_and_source_specific_query)
{
    struct world *w = world_new(NULL);
    struct tern_sock *ssm = udp_bound(w, 5000, true), *any = udp_bound(w, 5000, true);
    struct sent m;
    uint32_t src[16], want[2];
    unsigned n;
    REQUIRE_EQ(tern_sock_source(ssm, TERN_MC_ADD_SOURCE, G1, S1, w->ifindex), 0);
    REQUIRE_EQ(tern_sock_source(ssm, TERN_MC_ADD_SOURCE, G1, S2, w->ifindex), 0);
    world_run(w, 2000000);
    world_drain(w);

    uint32_t q1[2] = {S1, S3};
    inject_gss_query(w, G1, q1, 2);
    world_run(w, 1000000);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(v3_sources(&m, G1, src, &n), TERN_IGMP3_MODE_IS_INCLUDE);
    want[0] = S1;
    CHECK(same_set(src, n, want, 1));
    CHECK_EQ(world_pending(w), 0);
    uint32_t q2[1] = {S3};
    inject_gss_query(w, G1, q2, 1);
    world_run(w, 2000000);
    CHECK_EQ(world_pending(w), 0); /* none of the sources is wanted: no answer */

    REQUIRE_EQ(tern_sock_join(any, G1, w->ifindex), 0);
    REQUIRE_EQ(tern_sock_source(any, TERN_MC_BLOCK_SOURCE, G1, S4, w->ifindex), 0);
    world_run(w, 2000000);
    world_drain(w);
    uint32_t q3[2] = {S3, S4};
    inject_gss_query(w, G1, q3, 2);
    world_run(w, 1000000);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(v3_sources(&m, G1, src, &n), TERN_IGMP3_MODE_IS_INCLUDE);
    want[0] = S3;
    CHECK(same_set(src, n, want, 1));

    /* Source query, then a group-specific one before the answer: the whole
     * state, IS_EX {S4}. */
    inject_gss_query(w, G1, q3, 2);
    inject_query(w, 3, 10, G1, G1);
    world_run(w, 1000000);
    REQUIRE(pop_igmp(w, &m));
    CHECK_EQ(v3_sources(&m, G1, src, &n), TERN_IGMP3_MODE_IS_EXCLUDE);
    want[0] = S4;
    CHECK(same_set(src, n, want, 1));
    CHECK_EQ(world_pending(w), 0);
    tern_sock_close(ssm);
    tern_sock_close(any);
    world_run(w, 3000000);
    world_drain(w);
    world_end(w);
}
