/*
 * tern/device.h - network devices: where frames leave and enter a stack.
 *
 * A device carries either Ethernet frames (TAP, memory links, custom
 * Ethernet devices) or raw IPv4 packets (TUN, custom raw-IP devices).
 * Sending: the stack calls tern_device_send(); the frame is borrowed for the
 * duration of the call (a device that keeps it, e.g. to delay it, copies it
 * into a bounded queue of its own). A device with a send_frame op (the
 * memory link) may instead be handed the stack's frame buffer itself,
 * ownership included (struct tern_frame below). Receiving: the device calls the rx
 * handler installed with tern_device_set_rx() once per frame, again lending
 * the bytes only for the call. Wrappers (pcap/trace tap, impairment) are
 * devices that sit in front of another device and pass frames both ways.
 *
 * Devices live outside the sans-IO core: they may use the OS (TAP/TUN fds
 * watched by a real loop) and may allocate, always within fixed caps.
 * Statistics: tx_* count frames handed on (to the peer, the kernel, the
 * inner device), tx_dropped frames refused or lost; rx_* count frames
 * delivered, rx_dropped those with no rx handler installed or lost to a
 * read error.
 * Do not destroy a device from inside its own rx handler.
 * A device that can carry no more frames (its TAP deleted under it) says so
 * once, through the handler installed with tern_device_set_down(), and
 * stops watching its fd; from then on its sends fail. Wrappers pass the
 * condition outward, so the outermost device is the one to watch.
 * Thread safety: a device belongs to the thread of its loop.
 */
#ifndef TERN_DEVICE_H
#define TERN_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tern/api.h"
#include "tern/loop.h"

#ifdef __cplusplus
extern "C" {
#endif

enum tern_link_type {
    TERN_LINK_ETHERNET = 1, /* frames start with a 14-byte Ethernet II header */
    TERN_LINK_RAW_IP = 2    /* frames are bare IPv4 packets */
};

struct tern_device;
typedef void (*tern_rx_fn)(void *ctx, struct tern_device *dev, const uint8_t *frame, size_t len);
/* err: the errno that ended the device (ENODEV: the interface was removed). */
typedef void (*tern_down_fn)(void *ctx, struct tern_device *dev, int err);

struct tern_dev_stats {
    uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
    uint64_t rx_dropped, tx_dropped; /* e.g. queue full, impairment loss, OS error */
};

/* A frame buffer whose ownership moves from layer to layer (and, on a
 * memory link, from one stack to the other, as a NIC's DMA would): whoever
 * holds it either passes it on or gives it back with tern_frame_free,
 * exactly once. Rules: docs/architecture.md, "Frame buffers". */
struct tern_frame_pool;
struct tern_frame {
    struct tern_frame_pool *pool; /* where tern_frame_free returns it */
    struct tern_frame *next;      /* free for the current owner's queue */
    size_t cap;                   /* bytes at data */
    uint8_t *data;
};
/* Gives f back to the pool it came from (NULL: nothing). */
TERN_API void tern_frame_free(struct tern_frame *f);

struct tern_device_ops {
    /* Returns 0, or a negative enum tern_err (the frame is dropped and counted). */
    int (*send)(struct tern_device *d, const uint8_t *frame, size_t len);
    void (*destroy)(struct tern_device *d);
    /* Optional: send f->data[off, off + len) by reference. The device takes
     * f whatever the result (it frees f on error). Devices without it get
     * the copying fallback of tern_device_send_frame. */
    int (*send_frame)(struct tern_device *d, struct tern_frame *f, size_t off, size_t len);
};

struct tern_device {
    const struct tern_device_ops *ops;
    enum tern_link_type link;
    uint16_t mtu;        /* largest IP packet the device carries (bytes, without link header) */
    uint8_t mac[6];      /* Ethernet devices: the address the stack should use */
    char name[32];
    tern_rx_fn rx;       /* set with tern_device_set_rx */
    void *rx_ctx;
    struct tern_dev_stats stats;
    tern_down_fn down;   /* set with tern_device_set_down */
    void *down_ctx;
    int down_err;        /* 0 while the device works; else why it stopped (errno) */
    /* Offloads (TAP/TUN with TERN_TUNTAP_OFFLOAD; 0 elsewhere, unless an
     * embedder's custom device sets it). tso_max: the largest IPv4 packet
     * the device takes when it is a TCP segment, which the device (the
     * kernel behind it) cuts into segments of mtu - IP and TCP headers;
     * 0 = every packet must fit mtu. rx_flags: TERN_RX_* of the frame being
     * delivered, valid only during the rx handler's call. */
    uint32_t tso_max;
    unsigned rx_flags;
};

/* rx_flags: the frame's transport checksum (TCP/UDP, an IPv4 datagram that
 * is not a fragment) is known to be right - the device completed it or the
 * kernel behind it checked it - so the stack need not sum it again. */
#define TERN_RX_CSUM_OK 0x1u

static inline void tern_device_set_rx(struct tern_device *d, tern_rx_fn fn, void *ctx)
{
    d->rx = fn;
    d->rx_ctx = ctx;
}
static inline int tern_device_send(struct tern_device *d, const uint8_t *frame, size_t len)
{
    return d->ops->send(d, frame, len);
}
/* Hands f (its bytes [off, off + len)) to d, giving up ownership: by
 * reference when the device can take it, else through send() (a copy, the
 * device borrowing the bytes) and then freed. */
static inline int tern_device_send_frame(struct tern_device *d, struct tern_frame *f, size_t off,
                                         size_t len)
{
    if (d->ops->send_frame)
        return d->ops->send_frame(d, f, off, len);
    int rc = d->ops->send(d, f->data + off, len);
    tern_frame_free(f);
    return rc;
}
/* Called by device implementations (and embedders' custom devices) for each
 * received frame: counts it and hands it to the rx handler (no handler: the
 * frame is also counted in rx_dropped). */
TERN_API void tern_device_deliver(struct tern_device *d, const uint8_t *frame, size_t len);
/* The same, with TERN_RX_* flags set in d->rx_flags for the call (a
 * wrapper passes its inner device's rx_flags on this way). */
TERN_API void tern_device_deliver_flags(struct tern_device *d, const uint8_t *frame, size_t len,
                                        unsigned flags);
/* The handler called (once, from the loop) when d stops for good, e.g. the
 * TAP interface was deleted; a loop blocked on nothing else would otherwise
 * wait forever. Installing it on a device already down calls it at once. */
TERN_API void tern_device_set_down(struct tern_device *d, tern_down_fn fn, void *ctx);
/* Called by device implementations (and embedders' custom devices) when the
 * device can carry no more frames: records err (errno-style, nonzero; the
 * first report wins) and calls the down handler. */
TERN_API void tern_device_report_down(struct tern_device *d, int err);
static inline void tern_device_destroy(struct tern_device *d)
{
    if (d)
        d->ops->destroy(d);
}

/* Linux TAP (Ethernet) and TUN (raw IPv4, IFF_NO_PI) on /dev/net/tun.
 * tern_tap_open/tern_tun_open attach to an EXISTING interface of that kind
 * (`ip tuntap add dev NAME mode tap`): a mistyped name fails instead of
 * quietly making a new, unconnected interface. tern_tuntap_open with
 * TERN_TUNTAP_CREATE also creates a missing one (non-persistent: the kernel
 * removes it when the device is destroyed). Needs CAP_NET_ADMIN unless the
 * interface is a persistent one owned by the caller. The fd is watched on
 * `loop` (a real loop; a virtual loop fails with EINVAL). mtu is the
 * interface's (SIOCGIFMTU, else 1500); a TAP device's mac is a fresh random
 * locally administered address for tern's side, not the kernel's.
 * NULL + errno on failure: ENODEV no such interface (and no CREATE),
 * EMEDIUMTYPE it exists but is not a TUN/TAP of the kind asked for (see
 * tern_tuntap_kind), EPERM not allowed, EBUSY attached by another program,
 * EINVAL a bad name. If the interface is deleted while open, the device
 * reports down with ENODEV (tern_device_set_down).
 * TERN_TUNTAP_OFFLOAD opens it with IFF_VNET_HDR and the kernel's checksum
 * and TCP segmentation offloads (docs/devices.md): tern sends TCP
 * super-segments up to 64 KiB (tso_max) that the kernel cuts, and receives
 * the kernel's unsplit ones (frames larger than mtu) and partial checksums
 * (completed by the device, TERN_RX_CSUM_OK). Not for a stack that
 * forwards: a received super-segment does not fit the next link. Without
 * the flag (and with tern_tap_open/tern_tun_open), plain frames. */
#define TERN_TUNTAP_CREATE 0x1u
#define TERN_TUNTAP_OFFLOAD 0x2u
TERN_API struct tern_device *tern_tuntap_open(struct tern_loop *loop, const char *ifname,
                                              enum tern_link_type link, unsigned flags);
TERN_API struct tern_device *tern_tap_open(struct tern_loop *loop, const char *ifname);
TERN_API struct tern_device *tern_tun_open(struct tern_loop *loop, const char *ifname);
/* What interface ifname is: TERN_LINK_ETHERNET (a TAP), TERN_LINK_RAW_IP
 * (a TUN), 0 no such interface, -1 an interface that is neither. */
TERN_API int tern_tuntap_kind(const char *ifname);

/* An Ethernet device on an EXISTING Linux interface (a veth end, a NIC)
 * through an AF_PACKET socket with a TPACKET_V3 receive ring, beside the
 * kernel's own stack: keep the kernel off tern's address (no IP address on
 * the interface, `ip link set IF arp off`; docs/packet.md). Receives every
 * frame on the interface except the kernel's own output; frames are
 * delivered straight from the ring, several per wakeup, and a partly
 * filled ring block is handed over after at most ~1 ms. mtu is the
 * interface's; mac is a fresh random locally administered address for
 * tern, not the interface's (pass the interface's in struct
 * tern_iface_config to use it instead). Flags:
 *   TERN_PACKET_PROMISC       promiscuous mode while the device is open
 *                             (undone by the kernel when it closes); a NIC
 *                             needs it for tern's own MAC, a veth does not
 *   TERN_PACKET_QDISC_BYPASS  send straight to the driver, past the qdisc
 *                             (and past packet taps such as tcpdump)
 * Needs CAP_NET_RAW. `loop` must be a real loop (a virtual one: EINVAL).
 * NULL + errno on failure: ENODEV no such interface, EMEDIUMTYPE not an
 * Ethernet interface, EPERM not allowed, EINVAL a bad name or flag. If the
 * interface is deleted (or moved to another namespace) while open, the
 * device reports down with ENODEV; it going down and up again is survived.
 * The device owns its socket and ring; tern_device_destroy frees them. */
#define TERN_PACKET_PROMISC 0x1u
#define TERN_PACKET_QDISC_BYPASS 0x2u
TERN_API struct tern_device *tern_packet_open(struct tern_loop *loop, const char *ifname, unsigned flags);

/* Two devices joined back to back in memory: what one sends, the other
 * receives, on the next turn of `loop` (never re-entrantly). The queue in
 * each direction holds at most qlen frames (drop-tail): send returns
 * TERN_E_NOMEM when full and TERN_E_BAD_LEN above mtu + link header.
 * Ethernet sides get MACs 02:00:00:00:00:01 (*a) and 02:00:00:00:00:02 (*b);
 * override them in struct tern_iface_config when several links share a
 * segment. Destroying one side leaves the other safe (its sends then fail
 * with TERN_E_IO); destroy both. Returns 0, TERN_E_INVAL or TERN_E_NOMEM. */
TERN_API int tern_memlink_pair(struct tern_loop *loop, enum tern_link_type link, uint16_t mtu,
                               size_t qlen, struct tern_device **a, struct tern_device **b);

/* A device an embedder supplies: tern calls send(ctx, frame, len) to
 * transmit; the embedder calls tern_device_deliver(dev, frame, len) for
 * each frame it receives. */
TERN_API struct tern_device *tern_custom_device_new(enum tern_link_type link, uint16_t mtu,
                                                    const uint8_t mac[6],
                                                    int (*send)(void *ctx, const uint8_t *frame, size_t len),
                                                    void *ctx);

/* A trace tap in front of `inner`: every frame in either direction is written to
 * `pcap` (may be NULL) and/or printed tcpdump-style to `trace` (may be NULL)
 * with the loop's time. Destroying the wrapper destroys `inner`; the FILEs stay
 * the caller's. */
TERN_API struct tern_device *tern_trace_wrap(struct tern_loop *loop, struct tern_device *inner, FILE *pcap,
                                             FILE *trace);
/* Timestamps of a trace wrapper = loop time + epoch_offset_us (a real loop's
 * CLOCK_MONOTONIC + this = wall clock); trace lines are printed in local time
 * = UTC + utc_offset_s. Both default to 0 (virtual time prints from 00:00). */
TERN_API void tern_trace_set_clock(struct tern_device *trace_dev, int64_t epoch_offset_us, long utc_offset_s);
/* A function the trace wrapper also calls with every frame it records, in
 * either direction, and its timestamp (that of the pcap record), e.g. to
 * stream the frames elsewhere (`tern dump --control`). NULL removes it.
 * Returns the frames' pcap link type (TERN_LINKTYPE_ETHERNET or _RAW). */
TERN_API uint32_t tern_trace_set_tap(struct tern_device *trace_dev,
                                 void (*tap)(void *ctx, uint64_t ts_us, const uint8_t *frame, size_t len),
                                 void *ctx);

/* Impairments applied to frames the wrapped device sends (egress); frames
 * it receives pass straight through. Rates are probabilities in [0, 1].
 * A frame's release time is: serialization end (rate_bps, after the frames
 * before it) + delay + jitter (+ reorder_delay_us if chosen for reorder);
 * jitter larger than the gap between frames reorders them too, as netem
 * does. A lost frame's send returns 0 (the wire ate it); a full queue
 * returns TERN_E_NOMEM. Both count in tx_dropped; tx_frames counts frames
 * handed to inner (a duplicate counts twice).
 * As a router's link queue (the simulator): rate_bps is the link, and
 * queue_bytes bounds the bytes waiting for the serializer (drop-tail);
 * queue_frames bounds the frames held in all (waiting, or in flight for
 * delay/jitter), so make it large enough for rate * delay. drop_at lists
 * frames to drop deterministically (scripted loss for tests/scenarios). */
struct tern_impair {
    double loss;          /* drop */
    double dup;           /* send twice */
    double reorder;       /* hold back by reorder_delay_us so later frames pass it */
    double corrupt;       /* flip one random bit */
    uint64_t delay_us;    /* fixed one-way delay */
    uint64_t jitter_us;   /* + uniform [0, jitter_us) */
    uint64_t reorder_delay_us;
    uint64_t rate_bps;    /* serialization rate, 0 = unlimited */
    size_t queue_frames;  /* frames held (delay/rate); beyond: drop-tail. 0 = 1000 */
    size_t queue_bytes;   /* bytes waiting for the serializer (with rate_bps: not yet
                           * sent at the link rate; without: all held); a frame that
                           * would exceed it is dropped (tail). 0 = unlimited */
    uint32_t drop_at[8];  /* 1-based numbers of frames to drop (counted as they are
                           * offered, before any other impairment); 0 = unused */
    uint64_t seed;        /* all randomness comes from here: same seed, same run */
    bool ingress;         /* impair the frames `inner` receives (on their way up
                           * to the stack) instead of those sent; wrap twice
                           * to impair both directions of a real device */
};
/* The wrapper takes over inner's rx handler (install yours on the wrapper)
 * and copies its link, mtu, mac and name. Destroying the wrapper destroys
 * `inner`. NULL (inner untouched and still the caller's) on a bad cfg or
 * no memory. */
TERN_API struct tern_device *tern_impair_wrap(struct tern_loop *loop, struct tern_device *inner,
                                              const struct tern_impair *cfg);

/* What an impairment wrapper did, each frame counted once per fate. */
struct tern_impair_stats {
    uint64_t frames;      /* offered to the wrapper */
    uint64_t lost;        /* random loss (cfg.loss) */
    uint64_t scripted;    /* dropped by cfg.drop_at */
    uint64_t queue_drops; /* queue overflow: queue_bytes, queue_frames, or too large */
    uint64_t duplicated;  /* extra copies made (cfg.dup) */
    uint64_t corrupted;   /* copies with a flipped bit */
    uint64_t reordered;   /* copies held back by reorder_delay_us */
};
/* Zeros for a device that is not an impairment wrapper. */
TERN_API void tern_impair_get_stats(const struct tern_device *d, struct tern_impair_stats *st);

#ifdef __cplusplus
}
#endif
#endif
