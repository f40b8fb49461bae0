// tests/cxx/api_test.cpp - the public API from C++ (tests/scripts/cxx_api.sh
// builds it with g++ -Wall -Wextra -Werror against libtern.so and runs it).
//
// It includes every public header (the list is checked against include/tern/
// by the script), so a header that C++ cannot parse, or one without its
// extern "C" block (the program would not link: C++ names are mangled),
// fails here. Then it uses the library as an embedder would: two stacks on
// a virtual loop joined by an in-memory Ethernet link; a UDP datagram and a
// TCP exchange go from one to the other. Prints TAP-like lines.
#include <cstdio>
#include <cstring>
#include <string>

#include <tern/api.h>
#include <tern/device.h>
#include <tern/err.h>
#include <tern/loop.h>
#include <tern/nat.h>
#include <tern/pcap.h>
#include <tern/posix.h>
#include <tern/print.h>
#include <tern/socket.h>
#include <tern/stack.h>
#include <tern/stack6.h>
#include <tern/version.h>
#include <tern/wire/arp.h>
#include <tern/wire/bytes.h>
#include <tern/wire/checksum.h>
#include <tern/wire/dhcp.h>
#include <tern/wire/dns.h>
#include <tern/wire/eth.h>
#include <tern/wire/icmp.h>
#include <tern/wire/icmpv6.h>
#include <tern/wire/igmp.h>
#include <tern/wire/ipv4.h>
#include <tern/wire/ipv6.h>
#include <tern/wire/seq.h>
#include <tern/wire/tcp.h>
#include <tern/wire/udp.h>
#include <tern/wire/wire.h>

namespace {

int failures = 0;

void check(bool ok, const std::string &what)
{
    std::printf("%s - cxx_api: %s\n", ok ? "ok" : "not ok", what.c_str());
    if (!ok)
        failures++;
}

const uint32_t addr_a = 0xc0000201u; // 192.0.2.1
const uint32_t addr_b = 0xc0000202u; // 192.0.2.2

} // namespace

int main()
{
    check(std::strcmp(tern_version(), TERN_VERSION) == 0,
          std::string("tern_version() \"") + tern_version() + "\" == TERN_VERSION \"" TERN_VERSION "\"");
    char expect[32];
    std::snprintf(expect, sizeof expect, "%d.%d.%d", TERN_VERSION_MAJOR, TERN_VERSION_MINOR,
                  TERN_VERSION_PATCH);
    check(std::strcmp(expect, TERN_VERSION) == 0, "TERN_VERSION is MAJOR.MINOR.PATCH");

    char text[16];
    uint32_t parsed = 0;
    check(tern_ipv4_aton("192.0.2.1", &parsed) == 0 && parsed == addr_a &&
              std::strcmp(tern_ipv4_ntoa(parsed, text), "192.0.2.1") == 0,
          "tern_ipv4_aton / tern_ipv4_ntoa");
    check(tern_strerror(TERN_E_AGAIN) != nullptr, "tern_strerror");

    tern_loop *loop = tern_loop_virtual_new(0);
    tern_config cfg;
    tern_config_defaults(&cfg);
    cfg.seed = 42;
    tern_stack *sa = tern_stack_new(&cfg, loop);
    cfg.seed = 43;
    tern_stack *sb = tern_stack_new(&cfg, loop);
    tern_device *da = nullptr, *db = nullptr;
    bool made = loop && sa && sb && tern_memlink_pair(loop, TERN_LINK_ETHERNET, 1500, 64, &da, &db) == 0;
    check(made, "two stacks on a virtual loop, joined by a memlink");
    if (!made)
        return 1;
    tern_iface_config ia = {};
    ia.addr = addr_a;
    ia.prefix_len = 24;
    ia.up = true;
    tern_iface_config ib = ia;
    ib.addr = addr_b;
    check(tern_stack_add_iface(sa, da, &ia) >= 0 && tern_stack_add_iface(sb, db, &ib) >= 0,
          "tern_stack_add_iface");

    // UDP: a datagram from A to B's port 7.
    int err = 0;
    tern_sock *ub = tern_sock_open(sb, TERN_SOCK_DGRAM, &err);
    tern_sock *ua = tern_sock_open(sa, TERN_SOCK_DGRAM, &err);
    tern_sockaddr b7 = {addr_b, 7};
    check(ua && ub && tern_sock_bind(ub, &b7) == 0, "UDP sockets opened, B bound to port 7");
    const char msg[] = "hello from C++";
    check(tern_sock_sendto(ua, msg, sizeof msg, 0, &b7) == (ssize_t)sizeof msg, "tern_sock_sendto");
    tern_loop_run(loop, tern_loop_now(loop) + 1000000);
    char buf[64] = {};
    tern_sockaddr from = {};
    ssize_t n = tern_sock_recvfrom(ub, buf, sizeof buf, 0, &from, nullptr);
    check(n == (ssize_t)sizeof msg && std::memcmp(buf, msg, sizeof msg) == 0 && from.addr == addr_a,
          "the datagram arrived at B, from A, unchanged");
    tern_sock_close(ua);
    tern_sock_close(ub);

    // TCP: A connects to B's listener on port 80 and sends 3 bytes.
    tern_sock *lb = tern_sock_open(sb, TERN_SOCK_STREAM, &err);
    tern_sockaddr b80 = {addr_b, 80};
    check(lb && tern_sock_bind(lb, &b80) == 0 && tern_sock_listen(lb, 4) == 0, "TCP listener on B");
    tern_sock *ca = tern_sock_open(sa, TERN_SOCK_STREAM, &err);
    check(ca && tern_sock_connect(ca, &b80) == TERN_E_INPROGRESS, "tern_sock_connect in progress");
    tern_loop_run(loop, tern_loop_now(loop) + 1000000);
    check((tern_sock_poll(ca) & TERN_POLLOUT) != 0, "connection established (POLLOUT)");
    tern_sock *cb = tern_sock_accept(lb, &from, &err);
    check(cb != nullptr && from.addr == addr_a, "tern_sock_accept from A");
    check(tern_sock_send(ca, "abc", 3, 0) == 3, "tern_sock_send");
    tern_loop_run(loop, tern_loop_now(loop) + 1000000);
    std::memset(buf, 0, sizeof buf);
    check(cb && tern_sock_recv(cb, buf, sizeof buf, 0) == 3 && std::string(buf) == "abc",
          "B received the 3 bytes");
    tern_sock_info info[4];
    check(tern_sock_list(sb, info, 4) == 2, "tern_sock_list: B has the listener and the connection");
    if (cb)
        tern_sock_abort(cb);
    tern_sock_abort(ca);
    tern_sock_close(lb);
    tern_loop_run(loop, tern_loop_now(loop) + 1000000);

    tern_stack_free(sa);
    tern_stack_free(sb);
    tern_device_destroy(da);
    tern_device_destroy(db);
    tern_loop_destroy(loop);
    std::printf("%d failed\n", failures);
    return failures ? 1 : 0;
}
