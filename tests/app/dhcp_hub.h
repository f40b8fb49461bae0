/*
 * tests/app/dhcp_hub.h - a shared Ethernet segment for the DHCP tests: up
 * to 4 stacks on custom devices; every frame reaches every other port one
 * millisecond later (on the loop, never re-entrantly), optionally lost
 * with a seeded probability. A port can be cut (a server that is gone) and
 * the test can inject frames as a fake host. Every DHCP message crossing
 * the hub is logged (time, sender port, Ethernet/IP destination, type, xid).
 */
#ifndef TERN_TESTS_APP_DHCP_HUB_H
#define TERN_TESTS_APP_DHCP_HUB_H

#include <stdbool.h>
#include <stdint.h>

#include "tern/device.h"
#include "tern/loop.h"
#include "tern/stack.h"
#include "tern/wire/dhcp.h"

#define HUB_PORTS 4
#define HUB_Q 256
#define HUB_LOG 256
#define HUB_FAKE (-1) /* sender port of injected frames */

struct hub_msg {
    uint64_t t;
    int from;
    bool eth_bcast;
    uint32_t ip_src, ip_dst;
    uint8_t type;      /* DHCP message type */
    uint32_t xid, yiaddr, ciaddr, req_ip;
};

struct hub;
struct hub_port {
    struct hub *h;
    int idx;
};

struct hub {
    struct tern_loop *loop;
    int n;
    struct tern_device *dev[HUB_PORTS];
    struct tern_stack *st[HUB_PORTS];
    struct hub_port port[HUB_PORTS];
    bool cut[HUB_PORTS];
    double loss;
    uint64_t rng;
    struct { int from; size_t len; uint8_t data[1600]; } q[HUB_Q];
    size_t qn;
    struct tern_timer timer;
    struct hub_msg log[HUB_LOG];
    size_t nlog;
    uint32_t fake_src; /* source address of injected frames (default 0.0.0.0) */
};

/* A virtual loop at t=0 and a hub; loss applies to every frame sent. */
struct hub *hub_new(double loss, uint64_t seed);
/* Adds a stack (seed) with one Ethernet interface (addr 0 = none) on a new
 * port with MAC 02:00:00:00:00:(idx+1); returns the port index. */
int hub_add(struct hub *h, uint64_t seed, uint32_t addr);
void hub_free(struct hub *h);
/* Sends a DHCP message from a fake host: src_mac, fake_src -> 255.255.255.255. */
void hub_inject_dhcp(struct hub *h, const uint8_t src_mac[6], uint16_t sport, uint16_t dport,
                     const struct tern_dhcp_repr *r);
void hub_inject_raw_dhcp(struct hub *h, const uint8_t src_mac[6], uint16_t sport, uint16_t dport,
                         const uint8_t *msg, size_t len);
/* Index of the last logged message of type (from port from, or any if
 * from == -2), or -1. */
int hub_last(const struct hub *h, int from, uint8_t type);
int hub_count(const struct hub *h, int from, uint8_t type);

#endif
