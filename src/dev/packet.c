/*
 * packet.c - an Ethernet device on an existing Linux interface (a veth, a
 * NIC) through an AF_PACKET socket, beside the kernel's own stack.
 *
 * Receive: a PACKET_RX_RING with TPACKET_V3. The kernel packs frames into
 * blocks of RING_BLOCK bytes and hands a block over (TP_STATUS_USER, then
 * one wakeup) when it is full or when RING_TOV_MS has passed since its
 * first frame, so a busy link costs one wakeup per block instead of one
 * read() per frame; an idle one adds up to RING_TOV_MS of latency. Each
 * wakeup walks every block the kernel has handed over, delivers its frames
 * straight from the ring (no copy) and gives the block back.
 * Blocks are large enough for a 64 KiB frame: a veth peer (or a NIC with
 * GRO) may pass TCP super-segments up to 64 KiB and checksums the kernel
 * has not filled in yet (TP_STATUS_CSUMNOTREADY, CHECKSUM_PARTIAL); such
 * frames get their TCP/UDP checksum computed here, in place, before the
 * stack sees them. Frames the kernel truncated to fit a block are dropped.
 * Transmit: a PACKET_TX_RING of up to TX_SLOTS slots (TPACKET_V3 format,
 * one frame each, at most TX_RING_MAX bytes in all). A frame is copied into the next free slot and marked for
 * sending; a zero-delay timer makes one send() per loop turn hand every
 * queued frame to the kernel (a full ring is kicked at once). Measured
 * against one send() per frame: ~5x less CPU per byte sent (docs/packet.md).
 * The kernel frees a slot when it is done with the frame; a ring still
 * full after a kick drops the frame (counted). Destroying the device sends
 * what is queued first (a blocking send()). Without TPACKET_V3 transmit
 * rings (kernels before 4.11) it falls back to one send() per frame.
 * PACKET_QDISC_BYPASS on request.
 * The socket is bound to the interface's ifindex with ETH_P_ALL; frames the
 * kernel itself sends on the interface (PACKET_OUTGOING: its own ARP, IPv6
 * router solicitations...) are not delivered: PACKET_IGNORE_OUTGOING where
 * the kernel has it, else skipped here. Frames tern sends never come back
 * to the socket that sent them.
 * tern's MAC is its own (random, locally administered), not the
 * interface's: the kernel's stack then drops tern's unicast frames as
 * PACKET_OTHERHOST instead of processing them. A NIC filters foreign
 * unicast MACs, so TERN_PACKET_PROMISC asks the kernel for promiscuous
 * mode through a PACKET_MR_PROMISC membership, which the kernel drops
 * again when the socket closes (a veth passes every frame without it).
 * The interface going down makes the socket report ENETDOWN (the kernel
 * re-attaches it when it comes up again); the interface being removed (or
 * moved to another namespace) reports the device down with ENODEV, once.
 * MTU and link type come from the interface (SIOCGIFMTU, SIOCGIFHWADDR).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "dev/devpriv.h"

#ifndef TP_STATUS_CSUM_VALID
#define TP_STATUS_CSUM_VALID (1 << 7) /* linux/if_packet.h since 4.13 */
#endif
#include "tern/err.h"
#include "tern/wire/bytes.h"
#include "tern/wire/checksum.h"

#define RING_BLOCK (1u << 17) /* holds a 64 KiB frame and its headers */
#define RING_BLOCKS 32u       /* 4 MiB of ring */
#define RING_FRAME 2048u      /* TPACKET_V3 packs frames; only checked by the kernel */
#define RING_TOV_MS 1u        /* a partly filled block is handed over after this */
#define TX_SLOTS 256u          /* frames the transmit ring holds (at most) */
#define TX_SLOTS_PER_BLOCK 4u
#define TX_RING_MAX (4u << 20) /* bytes: fewer slots when frames are large */

struct packet_dev {
    struct tern_device dev;
    struct tern_loop *loop;
    int fd;
    int ifindex;
    uint8_t *ring;      /* RING_BLOCKS blocks of RING_BLOCK bytes, mmap()ed */
    size_t ring_len;
    unsigned next;      /* the block to look at next */
    /* The transmit ring (NULL: one send() per frame): tx_nslots slots of
     * tx_slot bytes, right after the receive ring in the same mapping. */
    uint8_t *tx;
    size_t tx_slot;
    unsigned tx_nslots;
    unsigned tx_next;   /* the slot the next frame goes into */
    unsigned tx_queued; /* frames put in the ring since the last kick */
    struct tern_timer kick; /* armed at `now` when a frame is queued: one
                             * send() per loop turn hands them all over */
    struct tern_timer recheck; /* while the interface is down: is it gone? */
};

int dev_complete_csum(uint8_t *frame, size_t len)
{
    if (len < TERN_ETH_HDR_LEN + 20 || tern_get16(frame + 12) != ETH_P_IP)
        return -1;
    uint8_t *ip = frame + TERN_ETH_HDR_LEN;
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4, tot = tern_get16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || tot > len - TERN_ETH_HDR_LEN ||
        (tern_get16(ip + 6) & 0x3fff) != 0) /* a fragment: no whole L4 segment here */
        return -1;
    uint8_t proto = ip[9];
    size_t l4len = tot - ihl, off;
    if (proto == 6 && l4len >= 20)
        off = 16; /* RFC 9293 s3.1: the TCP checksum field */
    else if (proto == 17 && l4len >= 8)
        off = 6; /* RFC 768: the UDP checksum field */
    else
        return -1;
    uint8_t *l4 = ip + ihl;
    /* RFC 1071 over the pseudo-header and the segment, field zeroed (the
     * kernel left a partial sum there; computing afresh does not depend on
     * its convention). */
    tern_put16(l4 + off, 0);
    uint32_t sum = tern_csum_pseudo_ipv4(tern_get32(ip + 12), tern_get32(ip + 16), proto,
                                         (uint16_t)l4len);
    uint16_t c = tern_csum_fold(tern_csum_add(sum, l4, l4len));
    if (proto == 17 && c == 0)
        c = 0xffff; /* RFC 768: a computed zero is sent as all ones */
    tern_put16(l4 + off, c);
    return 0;
}

/* The kernel's word on the transport checksum (docs/devices.md): one it
 * has not filled in (TP_STATUS_CSUMNOTREADY, CHECKSUM_PARTIAL) is completed
 * here and is then right by construction; one it (or the NIC) verified
 * comes with TP_STATUS_CSUM_VALID (skb_csum_unnecessary, Linux 4.13+).
 * Either way the stack need not sum the segment again (TERN_RX_CSUM_OK). */
unsigned dev_packet_rx_flags(uint32_t tp_status, uint8_t *frame, size_t len)
{
    if (tp_status & TP_STATUS_CSUMNOTREADY) /* not TCP/UDP over IPv4: left as is */
        return dev_complete_csum(frame, len) == 0 ? TERN_RX_CSUM_OK : 0;
    return (tp_status & TP_STATUS_CSUM_VALID) ? TERN_RX_CSUM_OK : 0;
}

/* Hands every frame waiting in the transmit ring to the kernel. */
static int pk_kick(struct packet_dev *p, int flags)
{
    p->tx_queued = 0;
    ssize_t n;
    do
        n = send(p->fd, NULL, 0, flags);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : 0;
}

static void pk_kick_timer(struct tern_timer *t, void *arg)
{
    (void)t;
    (void)pk_kick(arg, MSG_DONTWAIT);
}

/* TPACKET_V3 transmit slot: a struct tpacket3_hdr, the frame at TX_DATA
 * (the kernel's tp_hdrlen - sizeof(struct sockaddr_ll)). */
#define TX_DATA (TPACKET_ALIGN(sizeof(struct tpacket3_hdr)))

static int pk_send_ring(struct packet_dev *p, const uint8_t *frame, size_t len)
{
    struct tpacket3_hdr *h = (struct tpacket3_hdr *)(p->tx + (size_t)p->tx_next * p->tx_slot);
    uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
    if (st != TP_STATUS_AVAILABLE && p->tx_queued) {
        (void)pk_kick(p, MSG_DONTWAIT); /* full of our own frames: send them now */
        st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
    }
    if (st != TP_STATUS_AVAILABLE)
        return -1; /* the kernel still holds the slot: the ring is full */
    memcpy((uint8_t *)h + TX_DATA, frame, len);
    h->tp_len = (uint32_t)len;
    h->tp_next_offset = 0;
    __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
    p->tx_next = (p->tx_next + 1) % p->tx_nslots;
    if (p->tx_queued++ == 0)
        tern_timer_arm(p->loop, &p->kick, tern_loop_now(p->loop));
    return 0;
}

static int pk_send(struct tern_device *d, const uint8_t *frame, size_t len)
{
    struct packet_dev *p = (struct packet_dev *)d;
    if (d->down_err) {
        d->stats.tx_dropped++;
        return TERN_E_IO;
    }
    if (len > dev_max_frame(d) || len < TERN_ETH_HDR_LEN) {
        d->stats.tx_dropped++;
        return TERN_E_BAD_LEN;
    }
    ssize_t n = (ssize_t)len;
    if (p->tx) {
        if (pk_send_ring(p, frame, len) < 0)
            n = -1;
    } else {
        do
            n = send(p->fd, frame, len, MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
    }
    if (n != (ssize_t)len) {
        /* ENOBUFS/EAGAIN: the queue is full; ENETDOWN/ENXIO: the interface
         * is down or gone (the error callback tells which) */
        d->stats.tx_dropped++;
        return TERN_E_IO;
    }
    dev_count_tx(d, len);
    return 0;
}

/* Frames the kernel dropped because the ring was full: read (and reset) its
 * counter when a block says it lost some. */
static void pk_count_losses(struct packet_dev *p)
{
    struct tpacket_stats_v3 st;
    socklen_t sl = sizeof st;
    if (getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl) == 0)
        p->dev.stats.rx_dropped += st.tp_drops;
}

static void pk_frame(struct packet_dev *p, struct tpacket3_hdr *h)
{
    const struct sockaddr_ll *sll =
        (const struct sockaddr_ll *)((uint8_t *)h + TPACKET_ALIGN(sizeof *h));
    if (sll->sll_pkttype == PACKET_OUTGOING)
        return; /* the kernel's own output on this interface: not for tern */
    uint8_t *frame = (uint8_t *)h + h->tp_mac;
    size_t len = h->tp_snaplen;
    /* Truncated to fit a block; or tagged for a VLAN (the kernel moved the
     * tag out of the frame): tern sits on the untagged network only. */
    if (h->tp_snaplen != h->tp_len ||
        ((h->tp_status & TP_STATUS_VLAN_VALID) && h->hv1.tp_vlan_tci != 0)) {
        p->dev.stats.rx_dropped++;
        return;
    }
    tern_device_deliver_flags(&p->dev, frame, len, dev_packet_rx_flags(h->tp_status, frame, len));
}

#define RECHECK_US 200000 /* while down: look for the interface this often */

static void pk_gone(struct packet_dev *p, int err)
{
    tern_timer_cancel(p->loop, &p->recheck);
    tern_loop_fd_unwatch(p->loop, p->fd);
    tern_device_report_down(&p->dev, err == ENETDOWN || err == ENXIO || err == ENODEV ? ENODEV : err);
}

/* 1 the interface is still here but down, 0 here and up, -1 gone. */
static int pk_if_state(struct packet_dev *p)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    if (if_indextoname((unsigned)p->ifindex, ifr.ifr_name) == NULL)
        return -1;
    if (ioctl(p->fd, SIOCGIFFLAGS, &ifr) < 0)
        return errno == ENODEV ? -1 : 1;
    return (ifr.ifr_flags & IFF_UP) ? 0 : 1;
}

/* The kernel reports ENETDOWN once, when the interface goes down; its
 * removal, which follows a moment later, is not reported again. So while
 * the interface is down, look for it now and then. */
static void pk_recheck(struct tern_timer *t, void *arg)
{
    struct packet_dev *p = arg;
    (void)t;
    int st = pk_if_state(p);
    if (st < 0)
        pk_gone(p, ENODEV);
    else if (st > 0)
        tern_timer_arm(p->loop, &p->recheck, tern_loop_now(p->loop) + RECHECK_US);
}

/* The socket reported an error (it is readable with sk_err set): ENETDOWN
 * when the interface went down or away. Gone from this namespace: the
 * device is down for good. Merely down: the kernel re-attaches the socket
 * when the interface comes back up, so keep watching (and rechecking). */
static void pk_check_error(struct packet_dev *p)
{
    int err = 0;
    socklen_t sl = sizeof err;
    if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
        err = errno;
    if (err == 0)
        return;
    int st = err == ENETDOWN ? pk_if_state(p) : -1;
    if (st < 0)
        pk_gone(p, err);
    else if (st > 0 && !tern_timer_armed(&p->recheck))
        tern_timer_arm(p->loop, &p->recheck, tern_loop_now(p->loop) + RECHECK_US);
}

static void pk_readable(int fd, void *arg)
{
    struct packet_dev *p = arg;
    (void)fd;
    unsigned handed = 0;
    /* At most one pass over the ring: the kernel may keep filling blocks
     * behind us; epoll (level-triggered) brings us back for those. */
    for (unsigned i = 0; i < RING_BLOCKS && !p->dev.down_err; i++) {
        struct tpacket_block_desc *b =
            (struct tpacket_block_desc *)(p->ring + (size_t)p->next * RING_BLOCK);
        uint32_t st = __atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
        if (!(st & TP_STATUS_USER))
            break;
        if (st & TP_STATUS_LOSING)
            pk_count_losses(p);
        uint32_t n = b->hdr.bh1.num_pkts;
        uint8_t *at = (uint8_t *)b + b->hdr.bh1.offset_to_first_pkt;
        for (uint32_t k = 0; k < n; k++) {
            struct tpacket3_hdr *h = (struct tpacket3_hdr *)at;
            pk_frame(p, h);
            at += h->tp_next_offset;
        }
        __atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        p->next = (p->next + 1) % RING_BLOCKS;
        handed++;
    }
    if (handed == 0 && !p->dev.down_err)
        pk_check_error(p); /* woken with no block: an error, or spurious */
}

static void pk_destroy(struct tern_device *d)
{
    struct packet_dev *p = (struct packet_dev *)d;
    if (p->fd >= 0) {
        tern_timer_cancel(p->loop, &p->recheck);
        if (p->tx) {
            tern_timer_cancel(p->loop, &p->kick);
            if (p->tx_queued && !d->down_err) {
                /* wait until the ring's frames are sent, but not forever
                 * (a frame the kernel holds on to would block this) */
                struct timeval tv = {1, 0};
                (void)setsockopt(p->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
                (void)pk_kick(p, 0);
            }
        }
        if (!d->down_err)
            tern_loop_fd_unwatch(p->loop, p->fd);
        close(p->fd); /* also drops the promiscuous membership */
    }
    if (p->ring)
        munmap(p->ring, p->ring_len);
    free(p);
}

static const struct tern_device_ops pk_ops = {.send = pk_send, .destroy = pk_destroy};

static int pk_setup(struct packet_dev *p, const char *ifname, unsigned flags)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, ifname, strlen(ifname));
    if (ioctl(p->fd, SIOCGIFHWADDR, &ifr) < 0)
        return errno;
    if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
        return EMEDIUMTYPE; /* loopback, a TUN, InfiniBand...: no Ethernet frames */
    int mtu = 1500;
    if (ioctl(p->fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu >= 68)
        mtu = ifr.ifr_mtu > 65535 ? 65535 : ifr.ifr_mtu;
    p->dev.mtu = (uint16_t)mtu;

    int v = TPACKET_V3;
    if (setsockopt(p->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0)
        return errno;
    v = 1; /* best effort: older kernels lack it, pk_frame skips those frames */
    (void)setsockopt(p->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &v, sizeof v);
    /* PACKET_LOSS (only settable before any ring exists): a frame the kernel
     * refuses from the transmit ring (e.g. above an MTU lowered meanwhile)
     * is dropped and its slot freed, instead of stopping the ring */
    bool loss = setsockopt(p->fd, SOL_PACKET, PACKET_LOSS, &v, sizeof v) == 0;
    if ((flags & TERN_PACKET_QDISC_BYPASS) &&
        setsockopt(p->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &v, sizeof v) < 0)
        return errno;
    struct tpacket_req3 req;
    memset(&req, 0, sizeof req);
    req.tp_block_size = RING_BLOCK;
    req.tp_block_nr = RING_BLOCKS;
    req.tp_frame_size = RING_FRAME;
    req.tp_frame_nr = RING_BLOCKS * (RING_BLOCK / RING_FRAME);
    req.tp_retire_blk_tov = RING_TOV_MS;
    if (setsockopt(p->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0)
        return errno;
    /* The transmit ring: slots for the largest frame (and the header in
     * front), TX_SLOTS of them; a kernel without TPACKET_V3 transmit rings
     * (before 4.11) gets one send() per frame instead. */
    size_t slot = 4096;
    while (slot < TX_DATA + dev_max_frame(&p->dev))
        slot *= 2;
    unsigned nslots = TX_SLOTS; /* 1 MiB at MTU 1500; 32 slots at MTU 65535 */
    while (nslots > 4 * TX_SLOTS_PER_BLOCK && nslots * slot > TX_RING_MAX)
        nslots /= 2;
    struct tpacket_req3 treq;
    memset(&treq, 0, sizeof treq);
    treq.tp_block_size = (unsigned)(slot * TX_SLOTS_PER_BLOCK);
    treq.tp_block_nr = nslots / TX_SLOTS_PER_BLOCK;
    treq.tp_frame_size = (unsigned)slot;
    treq.tp_frame_nr = nslots;
    bool txring = loss && setsockopt(p->fd, SOL_PACKET, PACKET_TX_RING, &treq, sizeof treq) == 0;
    p->ring_len = (size_t)RING_BLOCK * RING_BLOCKS + (txring ? slot * nslots : 0);
    void *m = mmap(NULL, p->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, p->fd, 0);
    if (m == MAP_FAILED)
        return errno;
    p->ring = m;
    if (txring) {
        p->tx = p->ring + (size_t)RING_BLOCK * RING_BLOCKS;
        p->tx_slot = slot;
        p->tx_nslots = nslots;
    }

    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = p->ifindex;
    if (bind(p->fd, (struct sockaddr *)&sll, sizeof sll) < 0)
        return errno;
    if (flags & TERN_PACKET_PROMISC) {
        struct packet_mreq mr;
        memset(&mr, 0, sizeof mr);
        mr.mr_ifindex = p->ifindex;
        mr.mr_type = PACKET_MR_PROMISC;
        if (setsockopt(p->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0)
            return errno;
    }
    if (getrandom(p->dev.mac, 6, 0) != 6)
        return errno ? errno : EIO;
    p->dev.mac[0] = (uint8_t)((p->dev.mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
    errno = 0;
    if (tern_loop_fd_watch(p->loop, p->fd, pk_readable, p) < 0)
        return errno ? errno : EINVAL; /* e.g. a virtual loop: no fds there */
    return 0;
}

struct tern_device *tern_packet_open(struct tern_loop *loop, const char *ifname, unsigned flags)
{
    size_t nlen = ifname ? strlen(ifname) : 0;
    if (!loop || nlen == 0 || nlen >= IFNAMSIZ ||
        (flags & ~(unsigned)(TERN_PACKET_PROMISC | TERN_PACKET_QDISC_BYPASS))) {
        errno = EINVAL;
        return NULL;
    }
    unsigned idx = if_nametoindex(ifname);
    if (idx == 0) {
        errno = ENODEV;
        return NULL;
    }
    struct packet_dev *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->dev.ops = &pk_ops;
    p->dev.link = TERN_LINK_ETHERNET;
    p->loop = loop;
    p->ifindex = (int)idx;
    tern_timer_init(&p->recheck, pk_recheck, p);
    tern_timer_init(&p->kick, pk_kick_timer, p);
    memcpy(p->dev.name, ifname, nlen);
    /* protocol 0: nothing is received until bind() names ETH_P_ALL, after
     * the ring is in place */
    p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int e = p->fd < 0 ? errno : pk_setup(p, ifname, flags);
    if (e) {
        p->dev.down_err = e; /* the fd is not watched: pk_destroy skips the unwatch */
        pk_destroy(&p->dev);
        errno = e;
        return NULL;
    }
    return &p->dev;
}
