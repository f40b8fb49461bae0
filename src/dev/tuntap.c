/*
 * tuntap.c - Linux TAP (Ethernet frames) and TUN (bare IPv4 packets)
 * devices on /dev/net/tun, both with IFF_NO_PI (no packet-info prefix).
 *
 * The fd is non-blocking and watched on a real loop; each wakeup reads at
 * most READ_BURST frames (epoll is level-triggered, the rest come on the
 * next turn) and hands each to tern_device_deliver(). Sending is one
 * write() (a writev() with offloads); a full kernel queue or any error
 * drops the frame (counted).
 * TUNSETIFF attaches to an existing interface or creates a non-persistent
 * one, which the kernel removes when the fd closes: either way the system
 * is left as it was found. Creating is asked for (TERN_TUNTAP_CREATE): by
 * default the name must be an existing interface of the right kind, checked
 * first (if_nametoindex, then /sys/class/net/NAME/tun_flags), since
 * TUNSETIFF alone would quietly create a mistyped one. Deleting the
 * interface under us makes read() fail (EBADFD) while epoll keeps reporting
 * the fd: the device then unwatches it and reports down (ENODEV) once.
 * MTU comes from SIOCGIFMTU (1500 if unknown).
 * A TAP device's `mac` is tern's own address, a random locally
 * administered unicast MAC from getrandom(), not the kernel side's.
 * Offloads (TERN_TUNTAP_OFFLOAD, docs/devices.md): IFF_VNET_HDR, and
 * TUNSETOFFLOAD with TUN_F_CSUM | TUN_F_TSO4. Every frame read or written
 * then starts with a 10-byte struct virtio_net_hdr (vnet.c). Received:
 * partial checksums are completed here (TERN_RX_CSUM_OK tells the stack
 * not to sum them again), the kernel's unsplit TCP segments (up to 64 KiB,
 * gso_type TCPV4) are delivered as they are. Sent: a frame above the MTU
 * is a TCP super-segment (dev.tso_max = 65535) written with GSO TCPV4 and
 * a partial checksum, which the kernel cuts into MTU-sized segments. The
 * offloads are switched off again (TUNSETOFFLOAD 0) before the fd closes,
 * so a plain reader of a persistent interface gets plain frames after us.
 * Not here: multiqueue, IPv6 (TSO6), UDP segmentation.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <linux/virtio_net.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dev/devpriv.h"
#include "dev/vnet.h"
#include "tern/err.h"

#define READ_BURST 64
/* The largest IPv4 packet + an Ethernet header, after a virtio-net header
 * (and a little room so that a longer frame shows as one that filled the
 * buffer: dropped, never delivered cut short). */
#define RX_BUF_SIZE (VNET_HDR_LEN + 65550 + 64)

_Static_assert(sizeof(struct virtio_net_hdr) == VNET_HDR_LEN, "virtio_net_hdr layout");
_Static_assert(VIRTIO_NET_HDR_F_NEEDS_CSUM == VNET_F_NEEDS_CSUM &&
                   VIRTIO_NET_HDR_F_DATA_VALID == VNET_F_DATA_VALID &&
                   VIRTIO_NET_HDR_GSO_TCPV4 == VNET_GSO_TCPV4 &&
                   VIRTIO_NET_HDR_GSO_ECN == VNET_GSO_ECN,
               "virtio_net_hdr constants");

struct tuntap_dev {
    struct tern_device dev;
    struct tern_loop *loop;
    int fd;
    bool vnet;      /* frames carry a virtio-net header (offloads on) */
    uint8_t *rxbuf; /* RX_BUF_SIZE bytes, allocated once */
};

/* With offloads: the header, then the frame, with the TCP checksum of a
 * super-segment replaced on the way by its pseudo-header sum (the frame is
 * the caller's and stays untouched). */
static ssize_t vnet_write(struct tuntap_dev *t, const uint8_t *frame, size_t len)
{
    struct vnet_hdr h;
    uint16_t pseudo;
    size_t at;
    if (vnet_tx_prepare(frame, len, t->dev.link, t->dev.mtu, &h, &pseudo, &at) < 0) {
        errno = EMSGSIZE;
        return -1;
    }
    uint8_t hb[VNET_HDR_LEN], pb[2] = {(uint8_t)(pseudo >> 8), (uint8_t)pseudo};
    vnet_hdr_encode(&h, hb);
    struct iovec iov[4] = {{hb, sizeof hb}, {(void *)frame, len}};
    int n = 2;
    if (at) {
        iov[1].iov_len = at;
        iov[2] = (struct iovec){pb, 2};
        iov[3] = (struct iovec){(void *)(frame + at + 2), len - at - 2};
        n = 4;
    }
    ssize_t w;
    do
        w = writev(t->fd, iov, n);
    while (w < 0 && errno == EINTR);
    return w < 0 ? w : w - VNET_HDR_LEN;
}

static int tt_send(struct tern_device *d, const uint8_t *frame, size_t len)
{
    struct tuntap_dev *t = (struct tuntap_dev *)d;
    if (d->down_err) {
        d->stats.tx_dropped++;
        return TERN_E_IO;
    }
    if (len > dev_max_tx(d)) {
        d->stats.tx_dropped++;
        return TERN_E_BAD_LEN;
    }
    ssize_t n;
    if (t->vnet)
        n = vnet_write(t, frame, len);
    else
        do
            n = write(t->fd, frame, len);
        while (n < 0 && errno == EINTR);
    if (n != (ssize_t)len) {
        d->stats.tx_dropped++;
        return TERN_E_IO;
    }
    dev_count_tx(d, len);
    return 0;
}

/* A read error other than EAGAIN is not transient on a tun fd: the
 * interface is gone (EBADFD) or the fd is broken, and epoll would report it
 * readable forever. Stop watching it and say so, once. */
static void tt_down(struct tuntap_dev *t, int err)
{
    t->dev.stats.rx_dropped++;
    tern_loop_fd_unwatch(t->loop, t->fd);
    tern_device_report_down(&t->dev, err == EBADFD || err == ENXIO || err == ENODEV ? ENODEV : err);
}

static void tt_readable(int fd, void *arg)
{
    struct tuntap_dev *t = arg;
    for (int i = 0; i < READ_BURST; i++) {
        ssize_t n = read(fd, t->rxbuf, RX_BUF_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            tt_down(t, errno);
            return;
        }
        if (n <= 0)
            return;
        if (!t->vnet) {
            tern_device_deliver(&t->dev, t->rxbuf, (size_t)n);
            continue;
        }
        struct vnet_hdr h;
        int fl = -1;
        if (n > VNET_HDR_LEN && n < RX_BUF_SIZE) {
            vnet_hdr_decode(t->rxbuf, &h);
            fl = vnet_rx_fixup(t->rxbuf + VNET_HDR_LEN, (size_t)n - VNET_HDR_LEN, t->dev.link, &h);
        }
        if (fl < 0) {
            t->dev.stats.rx_dropped++; /* cut short, or a header that does not fit */
            continue;
        }
        tern_device_deliver_flags(&t->dev, t->rxbuf + VNET_HDR_LEN, (size_t)n - VNET_HDR_LEN,
                                  (unsigned)fl);
    }
}

static void tt_destroy(struct tern_device *d)
{
    struct tuntap_dev *t = (struct tuntap_dev *)d;
    if (t->fd >= 0) {
        tern_loop_fd_unwatch(t->loop, t->fd);
        if (t->dev.tso_max)
            (void)ioctl(t->fd, TUNSETOFFLOAD, 0ul); /* leave the interface as found */
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

int tern_tuntap_kind(const char *ifname)
{
    size_t nlen = ifname ? strlen(ifname) : 0;
    if (nlen == 0 || nlen >= IFNAMSIZ || strchr(ifname, '/') || !strcmp(ifname, ".") ||
        !strcmp(ifname, ".."))
        return 0;
    if (if_nametoindex(ifname) == 0)
        return 0;
    char path[64], buf[32];
    snprintf(path, sizeof path, "/sys/class/net/%s/tun_flags", ifname);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1; /* an interface, but no TUN/TAP (or no sysfs to tell) */
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    unsigned long fl = strtoul(buf, NULL, 0); /* "0x1002" */
    if ((fl & (IFF_TUN | IFF_TAP)) == IFF_TAP)
        return TERN_LINK_ETHERNET;
    if ((fl & (IFF_TUN | IFF_TAP)) == IFF_TUN)
        return TERN_LINK_RAW_IP;
    return -1;
}

static struct tern_device *tt_open(struct tern_loop *loop, const char *ifname, short flags,
                                   unsigned oflags)
{
    size_t nlen = ifname ? strlen(ifname) : 0;
    if (!loop || nlen == 0 || nlen >= IFNAMSIZ) {
        errno = EINVAL;
        return NULL;
    }
    int kind = tern_tuntap_kind(ifname);
    int want = flags == IFF_TAP ? TERN_LINK_ETHERNET : TERN_LINK_RAW_IP;
    if (kind == 0 && !(oflags & TERN_TUNTAP_CREATE)) {
        errno = ENODEV;
        return NULL;
    }
    if (kind != 0 && kind != want) {
        errno = EMEDIUMTYPE;
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
    bool offload = oflags & TERN_TUNTAP_OFFLOAD;
    ifr.ifr_flags = (short)(flags | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0));
    int e = 0, hsz = VNET_HDR_LEN;
    if (!t->rxbuf)
        e = ENOMEM;
    else if (t->fd < 0 || ioctl(t->fd, TUNSETIFF, &ifr) < 0)
        e = errno;
    else if (offload && ioctl(t->fd, TUNSETVNETHDRSZ, &hsz) < 0)
        e = errno;
    else if (flags == IFF_TAP && random_mac(t->dev.mac) < 0)
        e = errno;
    if (!e && offload) {
        t->vnet = true;
        /* Checksum and TCP/IPv4 segmentation offload: the kernel may then
         * hand us partial checksums and unsplit TCP segments, and takes
         * ours. A kernel that refuses keeps the header but no offload. */
        if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) == 0)
            t->dev.tso_max = 65535;
    }
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

struct tern_device *tern_tuntap_open(struct tern_loop *loop, const char *ifname,
                                     enum tern_link_type link, unsigned flags)
{
    if (link != TERN_LINK_ETHERNET && link != TERN_LINK_RAW_IP) {
        errno = EINVAL;
        return NULL;
    }
    return tt_open(loop, ifname, link == TERN_LINK_ETHERNET ? IFF_TAP : IFF_TUN, flags);
}

struct tern_device *tern_tap_open(struct tern_loop *loop, const char *ifname)
{
    return tt_open(loop, ifname, IFF_TAP, 0);
}

struct tern_device *tern_tun_open(struct tern_loop *loop, const char *ifname)
{
    return tt_open(loop, ifname, IFF_TUN, 0);
}
