/*
 * tuntap.c - Linux TAP (Ethernet frames) and TUN (bare IPv4 packets)
 * devices on /dev/net/tun, both with IFF_NO_PI (no packet-info prefix).
 *
 * The fd is non-blocking and watched on a real loop; each wakeup reads at
 * most READ_BURST frames (epoll is level-triggered, the rest come on the
 * next turn) and hands each to tern_device_deliver(). Sending is one
 * write(); a full kernel queue or any error drops the frame (counted).
 * TUNSETIFF attaches to an existing interface or creates a non-persistent
 * one, which the kernel removes when the fd closes: either way the system
 * is left as it was found. MTU comes from SIOCGIFMTU (1500 if unknown).
 * A TAP device's `mac` is tern's own address, a random locally
 * administered unicast MAC from getrandom(), not the kernel side's.
 * Not here: IFF_VNET_HDR offloads, multiqueue, IPv6.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dev/devpriv.h"
#include "tern/err.h"

#define READ_BURST 64
#define RX_BUF_SIZE 65550 /* the largest IPv4 packet + an Ethernet header */

struct tuntap_dev {
    struct tern_device dev;
    struct tern_loop *loop;
    int fd;
    uint8_t *rxbuf; /* RX_BUF_SIZE bytes, allocated once */
};

static int tt_send(struct tern_device *d, const uint8_t *frame, size_t len)
{
    struct tuntap_dev *t = (struct tuntap_dev *)d;
    if (len > tern_dev_max_frame(d)) {
        d->stats.tx_dropped++;
        return TERN_E_BAD_LEN;
    }
    ssize_t n;
    do
        n = write(t->fd, frame, len);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)len) {
        d->stats.tx_dropped++;
        return TERN_E_IO;
    }
    tern_dev_count_tx(d, len);
    return 0;
}

static void tt_readable(int fd, void *arg)
{
    struct tuntap_dev *t = arg;
    for (int i = 0; i < READ_BURST; i++) {
        ssize_t n = read(fd, t->rxbuf, RX_BUF_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            t->dev.stats.rx_dropped++;
        if (n <= 0)
            return;
        tern_device_deliver(&t->dev, t->rxbuf, (size_t)n);
    }
}

static void tt_destroy(struct tern_device *d)
{
    struct tuntap_dev *t = (struct tuntap_dev *)d;
    if (t->fd >= 0) {
        tern_loop_fd_unwatch(t->loop, t->fd);
        close(t->fd);
    }
    free(t->rxbuf);
    free(t);
}

static const struct tern_device_ops tt_ops = {.send = tt_send, .destroy = tt_destroy};

static uint16_t read_mtu(const char *ifname)
{
    struct ifreq ifr;
    int mtu = 1500;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (s >= 0 && ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu >= 68)
        mtu = ifr.ifr_mtu > 65535 ? 65535 : ifr.ifr_mtu;
    if (s >= 0)
        close(s);
    return (uint16_t)mtu;
}

/*
 * Attaching the first file descriptor turns the interface's carrier on, but
 * the kernel re-activates its transmit queue asynchronously (linkwatch work);
 * until then whatever the kernel sends us (an echo reply, an ARP reply) is
 * dropped. If the interface is administratively up, wait - at most 2 s, in
 * 5 ms steps - until it reports IFF_RUNNING, so the first frames of a run are
 * not lost. An interface that is down is not waited for.
 */
static void wait_running(const char *ifname)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return;
    for (int i = 0; i < 400; i++) {
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        memcpy(ifr.ifr_name, ifname, strlen(ifname));
        if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 || !(ifr.ifr_flags & IFF_UP) ||
            (ifr.ifr_flags & IFF_RUNNING))
            break;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    close(s);
}

static int random_mac(uint8_t mac[6])
{
    if (getrandom(mac, 6, 0) != 6)
        return -1;
    mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
    return 0;
}

static struct tern_device *tt_open(struct tern_loop *loop, const char *ifname, short flags)
{
    size_t nlen = ifname ? strlen(ifname) : 0;
    if (!loop || nlen == 0 || nlen >= IFNAMSIZ) {
        errno = EINVAL;
        return NULL;
    }
    struct tuntap_dev *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->dev.ops = &tt_ops;
    t->loop = loop;
    t->rxbuf = malloc(RX_BUF_SIZE);
    t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, ifname, nlen);
    ifr.ifr_flags = (short)(flags | IFF_NO_PI);
    int e = 0;
    if (!t->rxbuf)
        e = ENOMEM;
    else if (t->fd < 0 || ioctl(t->fd, TUNSETIFF, &ifr) < 0)
        e = errno;
    else if (flags == IFF_TAP && random_mac(t->dev.mac) < 0)
        e = errno;
    if (!e) {
        errno = 0;
        if (tern_loop_fd_watch(loop, t->fd, tt_readable, t) < 0)
            e = errno ? errno : EINVAL; /* e.g. a virtual loop: no fds there */
    }
    if (e) {
        if (t->fd >= 0)
            close(t->fd);
        t->fd = -1;
        tt_destroy(&t->dev);
        errno = e;
        return NULL;
    }
    t->dev.link = flags == IFF_TAP ? TERN_LINK_ETHERNET : TERN_LINK_RAW_IP;
    memcpy(t->dev.name, ifr.ifr_name, IFNAMSIZ); /* the kernel's name for it */
    t->dev.name[IFNAMSIZ] = '\0';
    t->dev.mtu = read_mtu(t->dev.name);
    wait_running(t->dev.name);
    return &t->dev;
}

struct tern_device *tern_tap_open(struct tern_loop *loop, const char *ifname)
{
    return tt_open(loop, ifname, IFF_TAP);
}

struct tern_device *tern_tun_open(struct tern_loop *loop, const char *ifname)
{
    return tt_open(loop, ifname, IFF_TUN);
}
