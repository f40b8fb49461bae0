/*
 * Tests for src/app/dhcp_client.c and dhcp_server.c in virtual time: tern's
 * client and server on a shared segment (tests/app/dhcp_hub.h): a lease,
 * renewal at T1, rebinding at T2 and expiry when the server is gone, NAK,
 * DECLINE after an ARP conflict with a third host, 30% loss, the lease
 * file, and crafted replies/requests (ATTACKS 47). Expected values follow
 * from RFC 2131 (T1 = lease/2, T2 = lease*7/8, where replies go) and the
 * configuration, not from our own output.
 */
#include <stdlib.h>

#include "app/dhcp_client.h"
#include "app/dhcp_hub.h"
#include "app/dhcp_server.h"
#include "harness.h"

#define SRV 0x0a000001u
#define A50 0x0a000032u
#define A51 0x0a000033u
#define S 1000000ull

static const uint8_t fake_mac[6] = {2, 0, 0, 0, 0, 0xaa};

struct evlog {
    struct tern_loop *loop;
    bool stop_on_bound;
    int n[5];
    struct tern_dhcp_lease last;
    char text[4096];
    size_t len;
};

static void on_ev(void *ctx, enum tern_dhcp_event ev, const struct tern_dhcp_lease *l)
{
    static const char *names[] = {"bound", "renewed", "declined", "nak", "lost"};
    struct evlog *e = ctx;
    e->n[ev]++;
    e->last = *l;
    char b[160];
    dhcp_lease_format(l, b, sizeof b);
    uint64_t t = tern_loop_now(e->loop);
    if (e->len < sizeof e->text)
        e->len += (size_t)snprintf(e->text + e->len, sizeof e->text - e->len, "%llu.%06llu %s %s\n",
                                   (unsigned long long)(t / S), (unsigned long long)(t % S),
                                   names[ev], b);
    if (e->stop_on_bound && (ev == TERN_DHCP_EV_BOUND || ev == TERN_DHCP_EV_RENEWED))
        tern_loop_stop(e->loop);
}

struct net {
    struct hub *h;
    int srv, cli;
    struct tern_dhcp_server *server;
    struct tern_dhcp_client *client;
    struct evlog ev;
};

static struct tern_dhcp_server *server_on(struct net *n, uint32_t first, uint32_t last,
                                          uint32_t lease_s)
{
    struct tern_dhcp_server_opts so = {.ifindex = 0, .first = first, .last = last,
                                       .lease_s = lease_s, .router = SRV, .n_dns = 1,
                                       .dns = {SRV}};
    int e;
    return dhcp_server_start(n->h->st[n->srv], n->h->loop, &so, &e);
}

/* Server on port 0 (10.0.0.1, pool .50-.60), client stack on port 1. */
static int net_open(struct net *n, double loss, uint64_t seed, uint32_t lease_s)
{
    memset(n, 0, sizeof *n);
    if (!(n->h = hub_new(loss, seed)))
        return -1;
    n->ev.loop = n->h->loop;
    n->srv = hub_add(n->h, seed + 100, SRV);
    n->cli = hub_add(n->h, seed + 200, 0);
    if (n->srv < 0 || n->cli < 0)
        return -1;
    n->server = server_on(n, A50, 0x0a00003c, lease_s);
    if (!n->server)
        return -1;
    return 0;
}

static int client_on(struct net *n, int port, struct tern_dhcp_client_opts *co)
{
    int e;
    co->ifindex = 0;
    n->client = dhcp_client_start(n->h->st[port], n->h->loop, co, on_ev, &n->ev, &e);
    return n->client ? 0 : e;
}

static void net_close(struct net *n)
{
    dhcp_client_free(n->client);
    dhcp_server_free(n->server);
    hub_free(n->h);
}

static void run_until(struct net *n, uint64_t t) { tern_loop_run(n->h->loop, t); }

static uint32_t iface_addr(struct net *n, int port)
{
    struct tern_iface_config ic;
    tern_iface_get(n->h->st[port], 0, &ic);
    return ic.addr;
}

TEST(dhcp_client_gets_lease_from_server)
{
    struct net n;
    REQUIRE(net_open(&n, 0, 1, 3600) == 0);
    struct tern_dhcp_client_opts co = {.hostname = "laptop"};
    REQUIRE_EQ(client_on(&n, n.cli, &co), 0);
    n.ev.stop_on_bound = true;
    run_until(&n, 30 * S);
    REQUIRE_EQ(n.ev.n[TERN_DHCP_EV_BOUND], 1);
    CHECK_EQ(dhcp_client_state(n.client), TERN_DHCPC_BOUND);
    char b[160];
    dhcp_lease_format(&n.ev.last, b, sizeof b);
    CHECK_STR(b, "10.0.0.50/24 from 10.0.0.1, router 10.0.0.1, dns 10.0.0.1, 3600 s");
    CHECK_EQ(n.ev.last.t1_s, 1800); /* RFC 2131 s4.4.5: 0.5 and 0.875 of the lease */
    CHECK_EQ(n.ev.last.t2_s, 3150);
    CHECK_EQ(iface_addr(&n, n.cli), A50);
    uint32_t hop;
    int ifx;
    REQUIRE_EQ(tern_route_lookup(n.h->st[n.cli], 0xc0000201u, &hop, &ifx), 0);
    CHECK_EQ(hop, SRV); /* default route via option 3 */
    struct tern_dhcp_server_lease sl[4];
    REQUIRE_EQ(dhcp_server_leases(n.server, sl, 4), 1);
    CHECK_EQ(sl[0].addr, A50);
    CHECK(sl[0].bound);
    CHECK_EQ(sl[0].chaddr[5], 2);
    /* the exchange on the wire: s4.1 broadcasts while the client has no address */
    int d = hub_last(n.h, n.cli, TERN_DHCP_DISCOVER), o = hub_last(n.h, n.srv, TERN_DHCP_OFFER);
    int r = hub_last(n.h, n.cli, TERN_DHCP_REQUEST), a = hub_last(n.h, n.srv, TERN_DHCP_ACK);
    REQUIRE(d >= 0 && o > d && r > o && a > r);
    CHECK(n.h->log[d].eth_bcast && n.h->log[d].ip_src == 0 && n.h->log[d].ip_dst == 0xffffffffu);
    CHECK(n.h->log[o].eth_bcast && n.h->log[o].ip_src == SRV && n.h->log[o].yiaddr == A50);
    CHECK_EQ(n.h->log[r].req_ip, A50);
    CHECK_EQ(n.h->log[r].xid, n.h->log[o].xid);
    CHECK(n.h->log[a].eth_bcast && n.h->log[a].yiaddr == A50);
    /* RFC 5227: the ACKed address was probed before use (<= 1 + 2 + 2 + 2 s) */
    CHECK(tern_loop_now(n.h->loop) >= n.h->log[a].t && tern_loop_now(n.h->loop) < 8 * S);
    net_close(&n);
}

TEST(dhcp_client_renews_at_t1)
{
    struct net n;
    REQUIRE(net_open(&n, 0, 2, 100) == 0);
    struct tern_dhcp_client_opts co = {0};
    REQUIRE_EQ(client_on(&n, n.cli, &co), 0);
    run_until(&n, 49 * S);
    CHECK_EQ(n.ev.n[TERN_DHCP_EV_BOUND], 1);
    CHECK_EQ(hub_count(n.h, n.cli, TERN_DHCP_REQUEST), 1);
    run_until(&n, 51 * S); /* T1 = 50 s */
    CHECK_EQ(n.ev.n[TERN_DHCP_EV_RENEWED], 1);
    CHECK_EQ(dhcp_client_state(n.client), TERN_DHCPC_BOUND);
    int r = hub_last(n.h, n.cli, TERN_DHCP_REQUEST);
    REQUIRE(r >= 0);
    /* s4.4.5: RENEWING sends a unicast REQUEST to the server, ciaddr set */
    CHECK(!n.h->log[r].eth_bcast);
    CHECK_EQ(n.h->log[r].ip_dst, SRV);
    CHECK_EQ(n.h->log[r].ip_src, A50);
    CHECK_EQ(n.h->log[r].ciaddr, A50);
    CHECK_EQ(n.h->log[r].req_ip, 0);
    CHECK(n.h->log[r].t >= 50 * S);
    int a = hub_last(n.h, n.srv, TERN_DHCP_ACK);
    CHECK(a > r && !n.h->log[a].eth_bcast && n.h->log[a].ip_dst == A50); /* unicast to ciaddr */
    CHECK_EQ(dhcp_server_stats(n.server)->acks, 2);
    net_close(&n);
}

TEST(dhcp_client_rebinds_at_t2_then_expires)
{
    struct net n;
    REQUIRE(net_open(&n, 0, 3, 100) == 0);
    struct tern_dhcp_client_opts co = {.renew_min_us = 10 * S};
    REQUIRE_EQ(client_on(&n, n.cli, &co), 0);
    run_until(&n, 20 * S);
    REQUIRE_EQ(n.ev.n[TERN_DHCP_EV_BOUND], 1);
    /* the server is gone (its host still answers ARP, so the unicast
     * REQUESTs of RENEWING go out) */
    dhcp_server_free(n.server);
    n.server = NULL;
    run_until(&n, 86 * S);
    CHECK_EQ(dhcp_client_state(n.client), TERN_DHCPC_RENEWING);
    run_until(&n, 99 * S);
    CHECK_EQ(dhcp_client_state(n.client), TERN_DHCPC_REBINDING);
    int unicast = 0, bcast = 0;
    for (size_t i = 0; i < n.h->nlog; i++) {
        const struct hub_msg *m = &n.h->log[i];
        if (m->from != n.cli || m->type != TERN_DHCP_REQUEST || m->t < 50 * S)
            continue;
        if (m->ip_dst == SRV && m->t < 88 * S)
            unicast++; /* RENEWING: 50 s, then half the time to T2 (>= 10 s) */
        if (m->ip_dst == 0xffffffffu && m->t >= 87 * S && m->ciaddr == A50)
            bcast++; /* REBINDING: T2 = 100 * 7 / 8 = 87 s (whole seconds) */
    }
    CHECK_EQ(unicast, 3); /* 50, 68.5, 78.5 s */
    CHECK(bcast >= 1);
    CHECK_EQ(iface_addr(&n, n.cli), A50);
    run_until(&n, 101 * S);
    CHECK_EQ(n.ev.n[TERN_DHCP_EV_LOST], 1); /* expiry at 100 s: back to INIT */
    CHECK_EQ(iface_addr(&n, n.cli), 0);
    uint32_t hop;
    int ifx;
    CHECK(tern_route_lookup(n.h->st[n.cli], 0xc0000201u, &hop, &ifx) < 0);
    CHECK_EQ(dhcp_client_state(n.client), TERN_DHCPC_SELECTING);
    int d = hub_last(n.h, n.cli, TERN_DHCP_DISCOVER);
    CHECK(d >= 0 && n.h->log[d].t >= 100 * S);
    net_close(&n);
}

TEST(dhcp_client_nak_on_renew_restarts)
{
    /* The server comes back with another pool: the renewal of .50 is NAKed
     * (s4.3.2), the client drops the address and gets one from the new pool. */
    struct net n;
    REQUIRE(net_open(&n, 0, 4, 100) == 0);
    struct tern_dhcp_client_opts co = {0};
    REQUIRE_EQ(client_on(&n, n.cli, &co), 0);
    run_until(&n, 20 * S);
    REQUIRE_EQ(n.ev.n[TERN_DHCP_EV_BOUND], 1);
    dhcp_server_free(n.server);
    n.server = server_on(&n, 0x0a000064, 0x0a00006e, 100);
    REQUIRE(n.server != NULL);
    run_until(&n, 70 * S);
    CHECK_EQ(dhcp_server_stats(n.server)->naks, 1);
    CHECK_EQ(n.ev.n[TERN_DHCP_EV_LOST], 1);
    CHECK_EQ(n.ev.n[TERN_DHCP_EV_BOUND], 2);
    CHECK_EQ(n.ev.last.addr, 0x0a000064u);
    CHECK_EQ(iface_addr(&n, n.cli), 0x0a000064u);
    net_close(&n);
}

static struct tern_dhcp_repr fake_req(uint32_t xid, uint8_t type)
{
    struct tern_dhcp_repr r;
    memset(&r, 0, sizeof r);
    r.op = TERN_DHCP_BOOTREQUEST;
    r.htype = 1;
    r.hlen = 6;
    r.xid = xid;
    memcpy(r.chaddr, fake_mac, 6);
    r.msg_type = type;
    return r;
}

/* Sends q to the server and reports the reply type (0 = none). */
static uint8_t ask(struct net *n, const struct tern_dhcp_repr *q)
{
    size_t before = n->h->nlog;
    hub_inject_dhcp(n->h, fake_mac, 68, 67, q);
    run_until(n, tern_loop_now(n->h->loop) + S);
    for (size_t i = before; i < n->h->nlog; i++)
        if (n->h->log[i].from == n->srv && n->h->log[i].xid == q->xid)
            return n->h->log[i].type;
    return 0;
}

TEST(dhcp_server_nak_on_wrong_request)
{
    struct net n;
    REQUIRE(net_open(&n, 0, 5, 3600) == 0);
    struct tern_dhcp_repr q = fake_req(1, TERN_DHCP_REQUEST);
    q.has_server_id = q.has_req_ip = true;
    q.server_id = SRV;
    q.req_ip = 0x0a000037;
    CHECK_EQ(ask(&n, &q), TERN_DHCP_NAK); /* selecting an address never offered */
    q = fake_req(2, TERN_DHCP_REQUEST);
    q.has_req_ip = true;
    q.req_ip = 0x0a000105;
    CHECK_EQ(ask(&n, &q), TERN_DHCP_NAK); /* INIT-REBOOT: wrong network */
    q.xid = 3;
    q.req_ip = 0x0a0000c8;
    CHECK_EQ(ask(&n, &q), TERN_DHCP_NAK); /* INIT-REBOOT: our subnet, not our pool */
    q.xid = 4;
    q.req_ip = 0x0a000039;
    CHECK_EQ(ask(&n, &q), 0); /* INIT-REBOOT in the pool, no record: silent (s4.3.2) */
    /* DISCOVER, OFFER .50; REQUEST .51 is NAKed, REQUEST .50 ACKed */
    q = fake_req(5, TERN_DHCP_DISCOVER);
    CHECK_EQ(ask(&n, &q), TERN_DHCP_OFFER);
    q = fake_req(5, TERN_DHCP_REQUEST);
    q.has_server_id = q.has_req_ip = true;
    q.server_id = 0x0a000009; /* another server chosen: silent, offer withdrawn */
    q.req_ip = A50;
    CHECK_EQ(ask(&n, &q), 0);
    CHECK_EQ(dhcp_server_leases(n.server, NULL, 0), 0);
    q = fake_req(6, TERN_DHCP_DISCOVER);
    CHECK_EQ(ask(&n, &q), TERN_DHCP_OFFER);
    q = fake_req(6, TERN_DHCP_REQUEST);
    q.has_server_id = q.has_req_ip = true;
    q.server_id = SRV;
    q.req_ip = A51;
    CHECK_EQ(ask(&n, &q), TERN_DHCP_NAK);
    q.req_ip = A50;
    CHECK_EQ(ask(&n, &q), TERN_DHCP_ACK);
    /* RENEWING for another address than ours: NAK */
    q = fake_req(7, TERN_DHCP_REQUEST);
    q.ciaddr = A51;
    CHECK_EQ(ask(&n, &q), TERN_DHCP_NAK);
    /* RELEASE frees it */
    q = fake_req(8, TERN_DHCP_RELEASE);
    q.ciaddr = A50;
    q.has_server_id = true;
    q.server_id = SRV;
    CHECK_EQ(ask(&n, &q), 0);
    CHECK_EQ(dhcp_server_leases(n.server, NULL, 0), 0);
    CHECK_EQ(dhcp_server_stats(n.server)->naks, 5);
    net_close(&n);
}

TEST(dhcp_server_pool_exhaustion_bounded)
{
    struct net n;
    REQUIRE(net_open(&n, 0, 6, 3600) == 0);
    dhcp_server_free(n.server);
    n.server = server_on(&n, A50, A51, 3600); /* two addresses, two table slots */
    REQUIRE(n.server != NULL);
    uint8_t got[3];
    for (int i = 0; i < 3; i++) {
        struct tern_dhcp_repr q = fake_req(100 + (uint32_t)i, TERN_DHCP_DISCOVER);
        q.chaddr[5] = (uint8_t)(0x10 + i);
        got[i] = ask(&n, &q);
    }
    CHECK_EQ(got[0], TERN_DHCP_OFFER);
    CHECK_EQ(got[1], TERN_DHCP_OFFER);
    CHECK_EQ(got[2], 0);
    CHECK_EQ(dhcp_server_stats(n.server)->exhausted, 1);
    /* an unanswered offer is held 60 s, then the address is free again */
    run_until(&n, tern_loop_now(n.h->loop) + 61 * S);
    struct tern_dhcp_repr q = fake_req(103, TERN_DHCP_DISCOVER);
    q.chaddr[5] = 0x12;
    CHECK_EQ(ask(&n, &q), TERN_DHCP_OFFER);
    net_close(&n);
}

TEST(dhcp_client_declines_address_in_use)
{
    /* A third host already uses 10.0.0.50 (static, unknown to the server):
     * the client's RFC 5227 probe finds it, the client DECLINEs, waits 10 s
     * (s3.1.5) and gets .51; the server rests .50 (s4.3.3). */
    struct net n;
    REQUIRE(net_open(&n, 0, 7, 3600) == 0);
    REQUIRE(hub_add(n.h, 999, A50) == 2);
    struct tern_dhcp_client_opts co = {0};
    REQUIRE_EQ(client_on(&n, n.cli, &co), 0);
    run_until(&n, 60 * S);
    CHECK_EQ(n.ev.n[TERN_DHCP_EV_DECLINED], 1);
    REQUIRE_EQ(n.ev.n[TERN_DHCP_EV_BOUND], 1);
    CHECK_EQ(n.ev.last.addr, A51);
    CHECK_EQ(iface_addr(&n, n.cli), A51);
    int dec = hub_last(n.h, n.cli, TERN_DHCP_DECLINE);
    REQUIRE(dec >= 0);
    CHECK_EQ(n.h->log[dec].req_ip, A50);
    int d2 = hub_last(n.h, n.cli, TERN_DHCP_DISCOVER);
    CHECK(d2 > dec && n.h->log[d2].t >= n.h->log[dec].t + 10 * S);
    CHECK_EQ(dhcp_server_stats(n.server)->declines, 1);
    net_close(&n);
}

static void lossy(uint64_t seed, char *out, size_t cap, int *bound)
{
    struct net n;
    *bound = -1;
    if (net_open(&n, 0.3, seed, 3600) < 0)
        return;
    struct tern_dhcp_client_opts co = {0};
    if (client_on(&n, n.cli, &co) == 0) {
        n.ev.stop_on_bound = true;
        run_until(&n, 600 * S);
        *bound = n.ev.n[TERN_DHCP_EV_BOUND];
    }
    snprintf(out, cap, "%s", n.ev.text);
    net_close(&n);
}

TEST(dhcp_lease_under_30pct_loss_deterministic)
{
    for (uint64_t seed = 20; seed < 25; seed++) {
        char a[4096], b[4096];
        int ba, bb;
        lossy(seed, a, sizeof a, &ba);
        lossy(seed, b, sizeof b, &bb);
        CHECK_EQ(ba, 1);
        CHECK_STR(a, b); /* the same seed gives the same run */
        CHECK(strstr(a, " bound 10.0.0.5") != NULL);
    }
}

TEST(dhcp_server_lease_file_round_trip)
{
    struct net n;
    REQUIRE(net_open(&n, 0, 8, 3600) == 0);
    struct tern_dhcp_client_opts co = {0};
    REQUIRE_EQ(client_on(&n, n.cli, &co), 0);
    n.ev.stop_on_bound = true;
    run_until(&n, 30 * S);
    REQUIRE_EQ(n.ev.n[TERN_DHCP_EV_BOUND], 1);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    REQUIRE(f != NULL);
    CHECK_EQ(dhcp_server_save(n.server, f, 1700000000), 0);
    fclose(f);
    char addr[32], key[80];
    long long exp = 0;
    const char *line = strchr(buf, '\n');
    REQUIRE(line != NULL);
    REQUIRE_EQ(sscanf(line + 1, "%31s %lld %79s", addr, &exp, key), 3);
    CHECK_STR(addr, "10.0.0.50");
    CHECK(exp > 1700000000 + 3590 && exp <= 1700000000 + 3600);
    CHECK_STR(key, "0101020000000002"); /* kind 1 + option 61 (type 1 + MAC) */
    dhcp_server_free(n.server);
    n.server = server_on(&n, A50, 0x0a00003c, 3600);
    REQUIRE(n.server != NULL);
    f = fmemopen(buf, len, "r");
    CHECK_EQ(dhcp_server_load(n.server, f, 1700000000), 1);
    fclose(f);
    free(buf);
    struct tern_dhcp_server_lease sl[2];
    REQUIRE_EQ(dhcp_server_leases(n.server, sl, 2), 1);
    CHECK(sl[0].addr == A50 && sl[0].bound && sl[0].chaddr[5] == 2);
    net_close(&n);
}

/* ---- ATTACKS 47: spoofed and malformed messages ----------------------- */

static struct tern_dhcp_repr fake_reply(uint32_t xid, uint8_t type, uint32_t server)
{
    struct tern_dhcp_repr r;
    memset(&r, 0, sizeof r);
    r.op = TERN_DHCP_BOOTREPLY;
    r.htype = 1;
    r.hlen = 6;
    r.xid = xid;
    r.chaddr[0] = 2;
    r.chaddr[5] = 1; /* the client is on port 0 */
    r.yiaddr = 0x0a000063;
    r.msg_type = type;
    r.has_server_id = true;
    r.server_id = server;
    r.has_lease = true;
    r.lease_s = 600;
    r.has_mask = true;
    r.mask = 0xffffff00;
    return r;
}

TEST(attack_47_spoofed_replies_ignored)
{
    struct net n;
    memset(&n, 0, sizeof n);
    REQUIRE((n.h = hub_new(0, 30)) != NULL);
    n.ev.loop = n.h->loop;
    REQUIRE_EQ(hub_add(n.h, 31, 0), 0); /* the client alone; we play the server */
    struct tern_dhcp_client_opts co = {.no_probe = true};
    REQUIRE_EQ(client_on(&n, 0, &co), 0);
    run_until(&n, S / 2);
    int d = hub_last(n.h, 0, TERN_DHCP_DISCOVER);
    REQUIRE(d >= 0);
    uint32_t xid = n.h->log[d].xid;
    const uint32_t fake = 0x0a000009;
    n.h->fake_src = fake;
    struct tern_dhcp_repr r = fake_reply(xid ^ 1, TERN_DHCP_OFFER, fake); /* wrong xid */
    hub_inject_dhcp(n.h, fake_mac, 67, 68, &r);
    r = fake_reply(xid, TERN_DHCP_OFFER, fake);
    r.chaddr[5] = 9; /* someone else's offer */
    hub_inject_dhcp(n.h, fake_mac, 67, 68, &r);
    r = fake_reply(xid, TERN_DHCP_OFFER, fake);
    r.op = TERN_DHCP_BOOTREQUEST; /* not a reply */
    hub_inject_dhcp(n.h, fake_mac, 67, 68, &r);
    r = fake_reply(xid, TERN_DHCP_ACK, fake); /* an ACK while selecting */
    hub_inject_dhcp(n.h, fake_mac, 67, 68, &r);
    r = fake_reply(xid, TERN_DHCP_OFFER, fake);
    r.has_server_id = false; /* no server id */
    hub_inject_dhcp(n.h, fake_mac, 67, 68, &r);
    uint8_t m[600];
    r = fake_reply(xid, TERN_DHCP_OFFER, fake);
    int len = tern_dhcp_emit(&r, m, sizeof m);
    REQUIRE(len > 0);
    memset(m + 243, 0, (size_t)len - 243);
    hub_inject_raw_dhcp(n.h, fake_mac, 67, 68, m, (size_t)len);
    run_until(&n, S);
    CHECK_EQ(dhcp_client_state(n.client), TERN_DHCPC_SELECTING);
    CHECK_EQ(dhcp_client_stats(n.client)->ignored, 6);
    CHECK_EQ(dhcp_client_stats(n.client)->offers, 0);
    /* the genuine offer moves it on */
    r = fake_reply(xid, TERN_DHCP_OFFER, fake);
    hub_inject_dhcp(n.h, fake_mac, 67, 68, &r);
    run_until(&n, S + S / 2);
    CHECK_EQ(dhcp_client_state(n.client), TERN_DHCPC_REQUESTING);
    /* REQUESTING: ACK/NAK with the wrong xid, or from another server, ignored */
    r = fake_reply(xid + 7, TERN_DHCP_ACK, fake);
    hub_inject_dhcp(n.h, fake_mac, 67, 68, &r);
    r = fake_reply(xid, TERN_DHCP_ACK, 0x0a000008);
    hub_inject_dhcp(n.h, fake_mac, 67, 68, &r);
    r = fake_reply(xid ^ 0x100, TERN_DHCP_NAK, fake);
    hub_inject_dhcp(n.h, fake_mac, 67, 68, &r);
    run_until(&n, 2 * S);
    CHECK_EQ(dhcp_client_state(n.client), TERN_DHCPC_REQUESTING);
    CHECK_EQ(dhcp_client_stats(n.client)->ignored, 9);
    CHECK_EQ(iface_addr(&n, 0), 0);
    r = fake_reply(xid, TERN_DHCP_ACK, fake);
    hub_inject_dhcp(n.h, fake_mac, 67, 68, &r);
    run_until(&n, 3 * S);
    CHECK_EQ(dhcp_client_state(n.client), TERN_DHCPC_BOUND);
    CHECK_EQ(iface_addr(&n, 0), 0x0a000063u);
    net_close(&n);
}

TEST(attack_47_server_ignores_malformed)
{
    struct net n;
    REQUIRE(net_open(&n, 0, 9, 3600) == 0);
    uint8_t m[600];
    struct tern_dhcp_repr q = fake_req(50, TERN_DHCP_DISCOVER);
    int len = tern_dhcp_emit(&q, m, sizeof m);
    REQUIRE(len > 0);
    m[240 + 1] = 40; /* message type option claims 40 bytes: runs into padding, no END */
    memset(m + 243, 0, (size_t)len - 243);
    hub_inject_raw_dhcp(n.h, fake_mac, 68, 67, m, (size_t)len);
    hub_inject_raw_dhcp(n.h, fake_mac, 68, 67, m, 239); /* short */
    q = fake_req(51, TERN_DHCP_DISCOVER);
    q.op = TERN_DHCP_BOOTREPLY;
    hub_inject_dhcp(n.h, fake_mac, 68, 67, &q); /* a reply sent to the server */
    q = fake_req(52, TERN_DHCP_DISCOVER);
    q.hlen = 16;
    hub_inject_dhcp(n.h, fake_mac, 68, 67, &q); /* not Ethernet-sized chaddr */
    run_until(&n, 2 * S);
    CHECK_EQ(dhcp_server_stats(n.server)->ignored, 4);
    CHECK_EQ(dhcp_server_stats(n.server)->offers, 0);
    CHECK_EQ(dhcp_server_leases(n.server, NULL, 0), 0);
    net_close(&n);
}

/* A rogue OFFER whose address or options cannot be a host's on the offered
 * subnet (RFC 1122 s3.2.1.3) is refused, and the genuine OFFER that follows
 * is taken: the client used to configure 127.0.0.1 (or a multicast, or the
 * subnet's broadcast address) and ignore the real server. */
TEST(dhcp_client_refuses_unusable_offers)
{
    struct net n;
    memset(&n, 0, sizeof n);
    REQUIRE((n.h = hub_new(0, 40)) != NULL);
    n.ev.loop = n.h->loop;
    REQUIRE_EQ(hub_add(n.h, 41, 0), 0); /* the client alone; we play the servers */
    struct tern_dhcp_client_opts co = {.no_probe = true};
    REQUIRE_EQ(client_on(&n, 0, &co), 0);
    run_until(&n, S / 2);
    int d = hub_last(n.h, 0, TERN_DHCP_DISCOVER);
    REQUIRE(d >= 0);
    uint32_t xid = n.h->log[d].xid;
    const uint32_t fake = 0x0a000009;
    n.h->fake_src = fake;
    static const struct {
        uint32_t addr, mask, router;
    } bad[] = {
        {0x7f000001, 0xff000000, 0},          /* 127.0.0.1 */
        {0x0a000063, 0xffffff00, 0},          /* fine ... */
        {0xe0000001, 0xffffff00, 0},          /* 224.0.0.1 multicast */
        {0xef010203, 0xffffff00, 0},          /* 239.1.2.3 multicast */
        {0x0a0000ff, 0xffffff00, 0},          /* 10.0.0.255: the /24's broadcast */
        {0x0a000000, 0xffffff00, 0},          /* 10.0.0.0: the /24's network */
        {0x0a00007f, 0xffffff80, 0},          /* 10.0.0.127: broadcast of a /25 */
        {0xf0000001, 0xffffff00, 0},          /* 240.0.0.1 class E */
        {0x00000005, 0xffffff00, 0},          /* 0.0.0.5: "this network" */
        {0x0a000063, 0x00000000, 0},          /* mask 0.0.0.0 */
        {0x0a000063, 0xffffffff, 0},          /* mask /32 */
        {0x0a000063, 0xff00ff00, 0},          /* non-contiguous mask */
        {0x0a000063, 0xffffff00, 0xffffffff}, /* router 255.255.255.255 */
        {0x0a000063, 0xffffff00, 0x7f000001}, /* router 127.0.0.1 */
    };
    unsigned nbad = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (i == 1)
            continue; /* the fine one is the genuine offer below */
        struct tern_dhcp_repr r = fake_reply(xid, TERN_DHCP_OFFER, fake);
        r.yiaddr = bad[i].addr;
        r.mask = bad[i].mask;
        if (bad[i].router) {
            r.n_routers = 1;
            r.routers[0] = bad[i].router;
        }
        hub_inject_dhcp(n.h, fake_mac, 67, 68, &r);
        nbad++;
    }
    run_until(&n, S);
    CHECK_EQ(dhcp_client_state(n.client), TERN_DHCPC_SELECTING);
    CHECK_EQ(dhcp_client_stats(n.client)->unusable, nbad);
    CHECK_EQ(dhcp_client_stats(n.client)->offers, 0);
    CHECK_EQ(hub_count(n.h, 0, TERN_DHCP_REQUEST), 0);
    /* The genuine offer (10.0.0.99/24, router 10.0.0.9) is taken. */
    struct tern_dhcp_repr r = fake_reply(xid, TERN_DHCP_OFFER, fake);
    r.n_routers = 1;
    r.routers[0] = fake;
    hub_inject_dhcp(n.h, fake_mac, 67, 68, &r);
    run_until(&n, S + S / 2);
    CHECK_EQ(dhcp_client_state(n.client), TERN_DHCPC_REQUESTING);
    int q = hub_last(n.h, 0, TERN_DHCP_REQUEST);
    REQUIRE(q >= 0);
    CHECK_EQ(n.h->log[q].req_ip, 0x0a000063u);
    /* An ACK naming an unusable address is refused as well. */
    r = fake_reply(xid, TERN_DHCP_ACK, fake);
    r.yiaddr = 0x0a0000ff;
    hub_inject_dhcp(n.h, fake_mac, 67, 68, &r);
    run_until(&n, 2 * S);
    CHECK_EQ(dhcp_client_state(n.client), TERN_DHCPC_REQUESTING);
    CHECK_EQ(iface_addr(&n, 0), 0);
    r = fake_reply(xid, TERN_DHCP_ACK, fake);
    hub_inject_dhcp(n.h, fake_mac, 67, 68, &r);
    run_until(&n, 3 * S);
    CHECK_EQ(dhcp_client_state(n.client), TERN_DHCPC_BOUND);
    CHECK_EQ(iface_addr(&n, 0), 0x0a000063u);
    net_close(&n);
}

/* A /31 point-to-point offer (RFC 3021): both addresses are hosts. */
TEST(dhcp_client_takes_slash31_offer)
{
    struct net n;
    memset(&n, 0, sizeof n);
    REQUIRE((n.h = hub_new(0, 42)) != NULL);
    n.ev.loop = n.h->loop;
    REQUIRE_EQ(hub_add(n.h, 43, 0), 0);
    struct tern_dhcp_client_opts co = {.no_probe = true};
    REQUIRE_EQ(client_on(&n, 0, &co), 0);
    run_until(&n, S / 2);
    int d = hub_last(n.h, 0, TERN_DHCP_DISCOVER);
    REQUIRE(d >= 0);
    n.h->fake_src = 0x0a000062;
    struct tern_dhcp_repr r = fake_reply(n.h->log[d].xid, TERN_DHCP_OFFER, 0x0a000062);
    r.mask = 0xfffffffe;
    hub_inject_dhcp(n.h, fake_mac, 67, 68, &r);
    run_until(&n, S);
    CHECK_EQ(dhcp_client_state(n.client), TERN_DHCPC_REQUESTING);
    CHECK_EQ(dhcp_client_stats(n.client)->unusable, 0);
    net_close(&n);
}
