/*
 * examples/posix_udp_echo.c - a UDP echo server (RFC 862) written as an
 * ordinary BSD sockets program, running on tern instead of the kernel.
 *
 * The port from kernel sockets is mechanical: create a runtime (tern's
 * stack on a TAP device, driven by a thread of its own), then prefix each
 * socket call with tern_ and pass the runtime first:
 *     socket(AF_INET, SOCK_DGRAM, 0)   -> tern_socket(rt, AF_INET, SOCK_DGRAM, 0)
 *     bind(fd, ...)                    -> tern_bind(rt, fd, ...)
 *     poll(fds, 1, 1000)               -> tern_poll(rt, fds, 1, 1000)
 *     recvfrom / sendto / close        -> tern_recvfrom / tern_sendto / tern_close
 * Types, flags and errno values are the POSIX ones. Signals do not
 * interrupt tern calls (no EINTR), so the loop polls with a timeout and
 * checks a flag set by SIGINT/SIGTERM.
 *
 * Build against an installed tern:
 *     cc -std=c11 posix_udp_echo.c $(pkg-config --cflags --libs tern) -o posix_udp_echo
 * Run (needs CAP_NET_ADMIN for the TAP device):
 *     posix_udp_echo TAP ADDR/PREFIX [PORT [COUNT]]
 * Echoes datagrams on PORT (default 7) until COUNT were echoed (0 = until
 * SIGINT/SIGTERM), printing one line per datagram and a total at the end.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tern/posix.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: %s TAP ADDR/PREFIX [PORT [COUNT]]\n", argv[0]);
        return 2;
    }
    char addr_s[32];
    snprintf(addr_s, sizeof addr_s, "%s", argv[2]);
    char *slash = strchr(addr_s, '/');
    int prefix = slash ? atoi(slash + 1) : 24;
    if (slash)
        *slash = 0;
    struct in_addr ia;
    if (inet_pton(AF_INET, addr_s, &ia) != 1 || prefix < 0 || prefix > 32) {
        fprintf(stderr, "%s: bad address %s\n", argv[0], argv[2]);
        return 2;
    }
    int port = argc > 3 ? atoi(argv[3]) : 7;
    long count = argc > 4 ? atol(argv[4]) : 0;

    /* The only tern-specific part: a stack on the TAP device. */
    struct tern_runtime_cfg cfg = {.tap = argv[1], .addr = ntohl(ia.s_addr),
                                   .prefix_len = (uint8_t)prefix};
    struct tern_runtime *rt = tern_runtime_new(&cfg);
    if (!rt) {
        fprintf(stderr, "%s: cannot start tern on %s: %s\n", argv[0], argv[1], strerror(errno));
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* From here on: a normal sockets program. */
    int fd = tern_socket(rt, AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        perror("socket");
        tern_runtime_free(rt);
        return 1;
    }
    struct sockaddr_in local;
    memset(&local, 0, sizeof local);
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_ANY);
    local.sin_port = htons((uint16_t)port);
    if (tern_bind(rt, fd, (struct sockaddr *)&local, sizeof local) < 0) {
        perror("bind");
        tern_close(rt, fd);
        tern_runtime_free(rt);
        return 1;
    }
    printf("echo server on %s port %d\n", addr_s, port);
    fflush(stdout);

    long echoed = 0;
    while (!stop && (count == 0 || echoed < count)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = tern_poll(rt, &p, 1, 200);
        if (n < 0) {
            perror("poll");
            break;
        }
        if (n == 0)
            continue;
        char buf[65536];
        struct sockaddr_in peer;
        socklen_t plen = sizeof peer;
        ssize_t len = tern_recvfrom(rt, fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &plen);
        if (len < 0) {
            perror("recvfrom");
            break;
        }
        if (tern_sendto(rt, fd, buf, (size_t)len, 0, (struct sockaddr *)&peer, plen) < 0)
            perror("sendto");
        char who[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &peer.sin_addr, who, sizeof who);
        printf("%zd bytes from %s:%u echoed\n", len, who, ntohs(peer.sin_port));
        fflush(stdout);
        echoed++;
    }
    printf("%ld datagrams echoed\n", echoed);
    tern_close(rt, fd);
    tern_runtime_free(rt);
    return 0;
}
