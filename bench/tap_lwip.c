/*
 * bench/tap_lwip.c - lwIP's side of the TAP benchmark: Debian's liblwip
 * (2.1.3, built for the Hurd: NO_SYS=0, a tcpip thread, the sockets API,
 * 64 KiB windows, MSS 1460) on a Linux TAP, sending or receiving one bulk
 * TCP connection timed like bench/tcpblast.c.
 * The netif is ours (a reader thread: read() -> one PBUF_RAM pbuf ->
 * tcpip_input; linkoutput: write()), not lwIP's unix tapif: Debian's
 * liblwip.so tapif copies each received frame into a PBUF_POOL pbuf whose
 * pool buffers were sized for a 536-byte MSS, and frames above ~600 bytes
 * overrun the heap (valgrind: invalid write in pbuf_take from tapif's
 * thread; glibc aborts within a few MB of receiving).
 * Not a benchmark by itself; bench/tap_bench.sh runs it in its namespace.
 *
 *   tap_lwip IFNAME ADDR PREFIX recv PORT BYTES
 *   tap_lwip IFNAME ADDR PREFIX send HOST PORT BYTES
 *
 * Prints "RESULT bytes=N sec=S gbps=G cpu=C" (C: CPU seconds of the whole
 * process, every lwIP thread, over the same interval). Exit 0, 1 on failure, 2 on usage.
 * Built only when liblwip-dev is installed (see the Makefile's bench rule).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sockets.h"
#include "lwip/tcpip.h"

static uint8_t buf[1 << 17];
static int tapfd = -1;

static err_t tap_linkoutput(struct netif *nif, struct pbuf *p)
{
    static uint8_t frame[2048];
    (void)nif;
    if (p->tot_len > sizeof frame)
        return ERR_BUF;
    u16_t n = pbuf_copy_partial(p, frame, p->tot_len, 0);
    return write(tapfd, frame, n) == (ssize_t)n ? ERR_OK : ERR_IF;
}

static err_t tap_netif_init(struct netif *nif)
{
    static const u8_t mac[6] = {0x02, 0x1e, 0x77, 0x00, 0x00, 0x02};
    nif->name[0] = 't';
    nif->name[1] = 'p';
    nif->output = etharp_output;
    nif->linkoutput = tap_linkoutput;
    nif->mtu = 1500;
    nif->hwaddr_len = 6;
    memcpy(nif->hwaddr, mac, 6);
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    return ERR_OK;
}

static void *tap_reader(void *arg)
{
    struct netif *nif = arg;
    uint8_t frame[2048];
    for (;;) {
        ssize_t n = read(tapfd, frame, sizeof frame);
        if (n <= 0)
            continue;
        struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
        if (!p)
            continue;
        pbuf_take(p, frame, (u16_t)n);
        if (nif->input(p, nif) != ERR_OK)
            pbuf_free(p);
    }
    return NULL;
}

static int tap_open(const char *name)
{
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR);
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
        perror("tap_lwip: tap");
        return -1;
    }
    return fd;
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of the whole process: every lwIP thread, user + system. */
static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
    fprintf(stderr, "usage: tap_lwip IFNAME ADDR PREFIX recv PORT BYTES\n"
                    "       tap_lwip IFNAME ADDR PREFIX send HOST PORT BYTES\n");
    return 2;
}

int main(int argc, char **argv)
{
    static struct netif nif;
    ip4_addr_t ip, mask, gw;
    if (argc < 7)
        return usage();
    int recv_mode = strcmp(argv[4], "recv") == 0;
    if ((recv_mode && argc != 7) || (!recv_mode && argc != 8) || !ip4addr_aton(argv[2], &ip))
        return usage();
    int plen = atoi(argv[3]);
    ip4_addr_set_u32(&mask, lwip_htonl(plen ? 0xffffffffu << (32 - plen) : 0));
    ip4_addr_set_zero(&gw);
    uint64_t want = strtoull(argv[recv_mode ? 6 : 7], NULL, 10), done = 0;
    int port = atoi(argv[recv_mode ? 5 : 6]);

    if ((tapfd = tap_open(argv[1])) < 0)
        return 1;
    tcpip_init(NULL, NULL);
    LOCK_TCPIP_CORE();
    if (!netif_add(&nif, &ip, &mask, &gw, NULL, tap_netif_init, tcpip_input)) {
        UNLOCK_TCPIP_CORE();
        fprintf(stderr, "tap_lwip: netif_add failed\n");
        return 1;
    }
    netif_set_default(&nif);
    netif_set_up(&nif);
    netif_set_link_up(&nif);
    UNLOCK_TCPIP_CORE();
    pthread_t reader;
    if (pthread_create(&reader, NULL, tap_reader, &nif) != 0)
        return 1;

    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = lwip_htons((uint16_t)port);
    double t0, t1, c0, c1;
    if (recv_mode) {
        int ls = lwip_socket(AF_INET, SOCK_STREAM, 0);
        if (ls < 0 || lwip_bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || lwip_listen(ls, 1) < 0) {
            fprintf(stderr, "tap_lwip: listen failed\n");
            return 1;
        }
        int c = lwip_accept(ls, NULL, NULL);
        if (c < 0)
            return 1;
        t0 = wall();
        c0 = cpu();
        ssize_t n;
        while (done < want && (n = lwip_recv(c, buf, sizeof buf, 0)) > 0)
            done += (uint64_t)n;
        t1 = wall();
        c1 = cpu();
        lwip_close(c);
        lwip_close(ls);
    } else {
        ip4_addr_t host;
        if (!ip4addr_aton(argv[5], &host))
            return usage();
        a.sin_addr.s_addr = ip4_addr_get_u32(&host);
        int c = -1;
        for (int i = 0; i < 100 && c < 0; i++) {
            c = lwip_socket(AF_INET, SOCK_STREAM, 0);
            if (lwip_connect(c, (struct sockaddr *)&a, sizeof a) < 0) {
                lwip_close(c);
                c = -1;
                struct timespec d = {0, 50000000};
                nanosleep(&d, NULL);
            }
        }
        if (c < 0) {
            fprintf(stderr, "tap_lwip: connect failed\n");
            return 1;
        }
        t0 = wall();
        c0 = cpu();
        while (done < want) {
            uint64_t left = want - done;
            ssize_t w = lwip_send(c, buf, left < sizeof buf ? (size_t)left : sizeof buf, 0);
            if (w <= 0) {
                fprintf(stderr, "tap_lwip: send failed\n");
                return 1;
            }
            done += (uint64_t)w;
        }
        lwip_shutdown(c, SHUT_WR);
        while (lwip_recv(c, buf, sizeof buf, 0) > 0)
            ;
        t1 = wall();
        c1 = cpu();
        lwip_close(c);
    }
    if (done < want) {
        fprintf(stderr, "tap_lwip: failed after %llu bytes\n", (unsigned long long)done);
        return 1;
    }
    printf("RESULT bytes=%llu sec=%.4f gbps=%.3f cpu=%.4f\n", (unsigned long long)done, t1 - t0,
           (double)done * 8 / (t1 - t0) / 1e9, c1 - c0);
    fflush(stdout);
    _exit(0); /* lwIP's threads never end */
}
