/*
 * bench/tcpblast.c - the Linux side of the TAP and veth benchmarks: a plain
 * kernel-socket TCP bulk sender or receiver (what iperf3 does, minus
 * everything else). Not a benchmark by itself; bench/tap_bench.sh runs it.
 *
 *   tcpblast recv PORT BYTES         listen on PORT, accept one connection,
 *                                    read BYTES (or to EOF), close
 *   tcpblast send HOST PORT BYTES    connect (retrying for 10 s), write
 *                                    BYTES, shut down, wait for the peer's
 *                                    close
 * Both print "RESULT bytes=N sec=S gbps=G cpu=C", timed from the
 * connection's start (accept / connect) to its last byte; C is this
 * process's CPU seconds over the same interval (the kernel's TCP work done
 * in its system calls included; softirq work the kernel does elsewhere not). Exit 0, 1 on a failure, 2 on
 * usage errors.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"

static uint8_t buf[1 << 17];

static void result(uint64_t bytes, double sec, double cpu)
{
    printf("RESULT bytes=%llu sec=%.4f gbps=%.3f cpu=%.4f\n", (unsigned long long)bytes, sec,
           (double)bytes * 8 / sec / 1e9, cpu);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "recv") == 0) {
        uint64_t want = strtoull(argv[3], NULL, 10), got = 0;
        int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
        if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 1) < 0) {
            perror("tcpblast: listen");
            return 1;
        }
        int c = accept(ls, NULL, NULL);
        if (c < 0) {
            perror("tcpblast: accept");
            return 1;
        }
        double t0 = bench_wall(), c0 = bench_cpu();
        ssize_t n;
        while (got < want && (n = read(c, buf, sizeof buf)) > 0)
            got += (uint64_t)n;
        double sec = bench_wall() - t0, cpu = bench_cpu() - c0;
        close(c);
        close(ls);
        result(got, sec, cpu);
        return got == want ? 0 : 1;
    }
    if (argc == 5 && strcmp(argv[1], "send") == 0) {
        uint64_t want = strtoull(argv[4], NULL, 10), sent = 0;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
        if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1) {
            fprintf(stderr, "tcpblast: bad address %s\n", argv[2]);
            return 2;
        }
        int c = -1;
        for (int i = 0; i < 200; i++) { /* the receiver may not be listening yet */
            c = socket(AF_INET, SOCK_STREAM, 0);
            if (connect(c, (struct sockaddr *)&a, sizeof a) == 0)
                break;
            close(c);
            c = -1;
            usleep(50000);
        }
        if (c < 0) {
            perror("tcpblast: connect");
            return 1;
        }
        double t0 = bench_wall(), c0 = bench_cpu();
        while (sent < want) {
            uint64_t left = want - sent;
            ssize_t w = write(c, buf, left < sizeof buf ? (size_t)left : sizeof buf);
            if (w <= 0) {
                perror("tcpblast: write");
                return 1;
            }
            sent += (uint64_t)w;
        }
        shutdown(c, SHUT_WR);
        while (read(c, buf, sizeof buf) > 0)
            ;
        double sec = bench_wall() - t0, cpu = bench_cpu() - c0;
        close(c);
        result(sent, sec, cpu);
        return 0;
    }
    fprintf(stderr, "usage: tcpblast recv PORT BYTES | tcpblast send HOST PORT BYTES\n");
    return 2;
}
