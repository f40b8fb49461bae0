/*
 * bench/checksum_bench.c - Internet checksum throughput: tern_csum against
 * lwIP's inet_chksum (Debian liblwip-dev, measured in the same run) and a
 * naive RFC 1071 loop, on 40-, 64-, 576-, 1500- and 9000-byte buffers at an
 * odd alignment. Prints GB/s per routine; asserts nothing (speed is
 * measured, not asserted). Every result is cross-checked for equality first.
 * Then copy + checksum, what a transmitted segment costs: memcpy followed
 * by tern_csum_add (two passes) against tern_csum_copy (one), and memcpy
 * alone, at 1460 and 65495 bytes with the destination 0, 3, 34, 43 and 64
 * bytes past the source modulo 4 KiB (glibc's `rep movsb` path is reported
 * to be slow at 3-43 on some CPUs; here it is measured).
 *
 *     make bench
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tern/wire/checksum.h"

#ifdef HAVE_LWIP
/* From lwip/inet_chksum.h; returns the checksum in network byte order. */
uint16_t inet_chksum(const void *dataptr, uint16_t len);
#endif

static uint16_t naive(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint32_t s = 0;
    for (; len > 1; len -= 2, p += 2)
        s += (uint32_t)(p[0] << 8 | p[1]);
    if (len)
        s += (uint32_t)p[0] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static uint16_t tern(const void *b, size_t n) { return tern_csum(b, n); }
#ifdef HAVE_LWIP
static uint16_t lwip(const void *b, size_t n)
{
    uint16_t v = inet_chksum(b, (uint16_t)n);
    uint8_t x[2];
    memcpy(x, &v, 2); /* network order in memory -> host-order value */
    return (uint16_t)(x[0] << 8 | x[1]);
}
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile uint16_t sink;

static double gbps(uint16_t (*fn)(const void *, size_t), const uint8_t *buf, size_t len)
{
    size_t iters = (size_t)(2e8 / (double)len) + 1; /* ~200 MB per trial */
    double best = 0;
    for (int trial = 0; trial < 5; trial++) {
        double t0 = now();
        for (size_t i = 0; i < iters; i++)
            sink = fn(buf, len);
        double dt = now() - t0;
        double r = (double)len * (double)iters / dt / 1e9;
        if (r > best)
            best = r;
    }
    return best;
}

static uint8_t *csrc, *cdst;

static double copy_gbps(int how, size_t len)
{
    size_t iters = (size_t)(4e8 / (double)len) + 1;
    double best = 0;
    for (int trial = 0; trial < 5; trial++) {
        double t0 = now();
        for (size_t i = 0; i < iters; i++) {
            if (how == 0) {
                memcpy(cdst, csrc, len);
                sink = (uint16_t)tern_csum_add(0, cdst, len);
            } else if (how == 1) {
                sink = (uint16_t)tern_csum_copy(cdst, csrc, len, 0);
            } else {
                memcpy(cdst, csrc, len);
                __asm__ volatile("" ::"r"(cdst) : "memory");
            }
        }
        double r = (double)len * (double)iters / (now() - t0) / 1e9;
        if (r > best)
            best = r;
    }
    return best;
}

static void copy_table(void)
{
    static uint8_t src[8192 + 65536], dst[8192 + 65536 + 4096];
    uint8_t *s0 = src + (4096 - (uintptr_t)src % 4096), *d0 = dst + (4096 - (uintptr_t)dst % 4096);
    memset(src, 0x5a, sizeof src);
    memset(dst, 0, sizeof dst);
    const size_t lens[] = {1460, 65495};
    const int dist[] = {0, 3, 34, 43, 64};
    printf("\n%-8s %6s %14s %14s %12s\n", "bytes", "dst-src", "memcpy+csum", "csum_copy",
           "memcpy");
    printf("%-8s %6s %14s %14s %12s\n", "", "mod 4K", "GB/s", "GB/s", "GB/s");
    for (size_t k = 0; k < 2; k++)
        for (size_t j = 0; j < 5; j++) {
            csrc = s0 + 2; /* a payload's offset in a frame is even, not 8-aligned */
            cdst = d0 + 2 + dist[j];
            if (tern_csum_copy(cdst, csrc, lens[k], 0) != tern_csum_add(0, csrc, lens[k])) {
                fprintf(stderr, "csum_copy mismatch\n");
                return;
            }
            printf("%-8zu %6d %14.2f %14.2f %12.2f\n", lens[k], dist[j], copy_gbps(0, lens[k]),
                   copy_gbps(1, lens[k]), copy_gbps(2, lens[k]));
        }
}

int main(void)
{
    static uint8_t mem[9000 + 8];
    const uint8_t *buf = mem + 1; /* odd alignment: the hard case */
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof mem; i++) {
        x = x * 1103515245u + 12345u;
        mem[i] = (uint8_t)(x >> 16);
    }
    const size_t sizes[] = {40, 64, 576, 1500, 9000};
    printf("%-8s %12s %12s %12s\n", "bytes", "tern GB/s", "lwIP GB/s", "naive GB/s");
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        if (tern(buf, n) != naive(buf, n)) {
            fprintf(stderr, "mismatch at %zu bytes\n", n);
            return 1;
        }
#ifdef HAVE_LWIP
        if (lwip(buf, n) != naive(buf, n)) {
            fprintf(stderr, "lwIP mismatch at %zu bytes\n", n);
            return 1;
        }
        double l = gbps(lwip, buf, n);
#else
        double l = 0;
#endif
        printf("%-8zu %12.2f %12.2f %12.2f\n", n, gbps(tern, buf, n), l, gbps(naive, buf, n));
    }
#ifndef HAVE_LWIP
    printf("(lwIP column is 0: liblwip-dev was not installed)\n");
#endif
    copy_table();
    return 0;
}
