/*
 * The BSD facade's multicast options: IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP
 * with ip_mreq and ip_mreqn, IP_MULTICAST_TTL / LOOP / IF / ALL, SO_REUSEPORT
 * on UDP, and a group stream between two runtimes (each member gets a copy,
 * the sender's own member too).
 */
#include <netinet/in.h>

#include "posix/pxtest.h"

#define GROUP 0xef010203u /* 239.1.2.3 */

static int joined(struct tern_runtime *rt, uint16_t port, bool mreqn)
{
    int fd = tern_socket(rt, AF_INET, SOCK_DGRAM, 0);
    int one = 1;
    if (fd < 0 || tern_setsockopt(rt, fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
        return -1;
    struct sockaddr_in a = sin_of(0, port);
    if (tern_bind(rt, fd, SA(&a), sizeof a) < 0)
        return -1;
    int r;
    if (mreqn) {
        struct ip_mreqn m = {.imr_multiaddr.s_addr = htonl(GROUP), .imr_ifindex = 1};
        r = tern_setsockopt(rt, fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m);
    } else {
        struct ip_mreq m = {.imr_multiaddr.s_addr = htonl(GROUP),
                            .imr_interface.s_addr = htonl(INADDR_ANY)};
        r = tern_setsockopt(rt, fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m);
    }
    return r < 0 ? -1 : fd;
}

TEST(posix_multicast_options_and_stream)
{
    struct rtlink l;
    struct tern_runtime *ra, *rb;
    REQUIRE(rtlink_open(&l, &ra, &rb, 0) == 0);
    int m1 = joined(rb, 5000, true), m2 = joined(rb, 5000, false);
    int self = joined(ra, 5000, false);
    CHECK(m1 >= 0 && m2 >= 0 && self >= 0);

    /* Errors as Linux gives them. */
    struct ip_mreq mr = {.imr_multiaddr.s_addr = htonl(GROUP),
                         .imr_interface.s_addr = htonl(B_ADDR)};
    CHECK_ERRNO(tern_setsockopt(rb, m2, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr), EADDRINUSE);
    mr.imr_interface.s_addr = htonl(0x0a000063u);
    CHECK_ERRNO(tern_setsockopt(rb, m2, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr), ENODEV);
    mr.imr_interface.s_addr = 0;
    mr.imr_multiaddr.s_addr = htonl(0xef000009u);
    CHECK_ERRNO(tern_setsockopt(rb, m2, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof mr),
                EADDRNOTAVAIL);
    mr.imr_multiaddr.s_addr = htonl(B_ADDR);
    CHECK_ERRNO(tern_setsockopt(rb, m2, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr), EINVAL);
    CHECK_ERRNO(tern_setsockopt(rb, m2, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, 4), EINVAL);
    int tcp = tern_socket(ra, AF_INET, SOCK_STREAM, 0);
    int one = 1;
    CHECK_ERRNO(tern_setsockopt(ra, tcp, IPPROTO_IP, IP_MULTICAST_TTL, &one, sizeof one),
                ENOPROTOOPT);
    CHECK_ERRNO(tern_setsockopt(ra, tcp, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one), ENOPROTOOPT);
    tern_close(ra, tcp);

    /* The sender: defaults, then TTL 3 as one byte, IF by address. */
    int tx = tern_socket(ra, AF_INET, SOCK_DGRAM, 0);
    int v = 0;
    socklen_t vl = sizeof v;
    CHECK_EQ(tern_getsockopt(ra, tx, IPPROTO_IP, IP_MULTICAST_TTL, &v, &vl), 0);
    CHECK_EQ(v, 1);
    CHECK_EQ(tern_getsockopt(ra, tx, IPPROTO_IP, IP_MULTICAST_LOOP, &v, &vl), 0);
    CHECK_EQ(v, 1);
    unsigned char ttl = 3, b = 0;
    CHECK_EQ(tern_setsockopt(ra, tx, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, 1), 0);
    vl = 1;
    CHECK_EQ(tern_getsockopt(ra, tx, IPPROTO_IP, IP_MULTICAST_TTL, &b, &vl), 0);
    CHECK_EQ(vl, 1);
    CHECK_EQ(b, 3);
    struct in_addr ifa = {.s_addr = htonl(A_ADDR)}, got = {0};
    CHECK_EQ(tern_setsockopt(ra, tx, IPPROTO_IP, IP_MULTICAST_IF, &ifa, sizeof ifa), 0);
    vl = sizeof got;
    CHECK_EQ(tern_getsockopt(ra, tx, IPPROTO_IP, IP_MULTICAST_IF, &got, &vl), 0);
    CHECK_EQ(ntohl(got.s_addr), A_ADDR);
    ifa.s_addr = htonl(0x0a000063u);
    CHECK_ERRNO(tern_setsockopt(ra, tx, IPPROTO_IP, IP_MULTICAST_IF, &ifa, sizeof ifa),
                EADDRNOTAVAIL);

    struct sockaddr_in to = sin_of(GROUP, 5000);
    char buf[64];
    for (int i = 0; i < 5; i++) {
        int n = snprintf(buf, sizeof buf, "group datagram %d", i);
        CHECK_EQ(tern_sendto(ra, tx, buf, (size_t)n, 0, SA(&to), sizeof to), n);
        int fds[3] = {m1, m2, self};
        struct tern_runtime *rts[3] = {rb, rb, ra};
        for (int k = 0; k < 3; k++) {
            char in[64];
            struct sockaddr_in from;
            socklen_t fl = sizeof from;
            ssize_t r = tern_recvfrom(rts[k], fds[k], in, sizeof in, 0, SA(&from), &fl);
            CHECK_EQ(r, n);
            CHECK(r == n && memcmp(in, buf, (size_t)n) == 0);
            CHECK_EQ(ntohl(from.sin_addr.s_addr), A_ADDR);
        }
    }
    /* Dropped membership on one socket: the other still gets the group
     * (and, IP_MULTICAST_ALL on, so does the one that left: Linux). */
    mr.imr_multiaddr.s_addr = htonl(GROUP);
    mr.imr_interface.s_addr = 0;
    CHECK_EQ(tern_setsockopt(rb, m1, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof mr), 0);
    int zero = 0;
    CHECK_EQ(tern_setsockopt(rb, m1, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof zero), 0);
    CHECK_EQ(tern_sendto(ra, tx, "last", 4, 0, SA(&to), sizeof to), 4);
    CHECK_EQ(tern_recv(rb, m2, buf, sizeof buf, 0), 4);
    CHECK_ERRNO(tern_recv(rb, m1, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);

    /* Source-specific: m1 takes the group from B only (ra's address is A). */
    struct ip_mreq_source ms = {.imr_multiaddr.s_addr = htonl(GROUP),
                                .imr_sourceaddr.s_addr = htonl(B_ADDR)};
    CHECK_EQ(tern_setsockopt(rb, m1, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms, sizeof ms), 0);
    CHECK_ERRNO(tern_setsockopt(rb, m2, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms, sizeof ms),
                EINVAL); /* m2 is an any-source member */
    ms.imr_sourceaddr.s_addr = htonl(A_ADDR);
    CHECK_EQ(tern_setsockopt(rb, m2, IPPROTO_IP, IP_BLOCK_SOURCE, &ms, sizeof ms), 0);
    CHECK_EQ(tern_sendto(ra, tx, "blocked", 7, 0, SA(&to), sizeof to), 7);
    CHECK_EQ(tern_sendto(ra, self, "x", 1, 0, SA(&to), sizeof to), 1);
    sleep_ms(200);
    CHECK_ERRNO(tern_recv(rb, m1, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    CHECK_ERRNO(tern_recv(rb, m2, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    CHECK_EQ(tern_setsockopt(rb, m2, IPPROTO_IP, IP_UNBLOCK_SOURCE, &ms, sizeof ms), 0);
    CHECK_EQ(tern_sendto(ra, tx, "again", 5, 0, SA(&to), sizeof to), 5);
    CHECK_EQ(tern_recv(rb, m2, buf, sizeof buf, 0), 5);
    CHECK_ERRNO(tern_recv(rb, m1, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    tern_close(ra, tx);
    tern_close(ra, self);
    tern_close(rb, m1);
    tern_close(rb, m2);
    rtlink_close(&l);
}
