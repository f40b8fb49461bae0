/*
 * src/ctl/ctl.h - the control protocol between a stack daemon
 * (`tern serve --control PATH`) and the programs attached to it (the
 * preload shim, `tern ss`, `tern stats`). docs/run.md describes it.
 *
 * Two planes:
 *  - control: a SOCK_SEQPACKET Unix socket per attached process; one
 *    request (struct ctl_req, optional payload) gets one response (struct
 *    ctl_resp, optional payload, optional descriptors by SCM_RIGHTS), in
 *    order. CTL_OP_KICK and CTL_OP_CLOSE get no response. Every daemon
 *    call is non-blocking: a client that must wait (blocking accept,
 *    connect, read, write) waits on the socket's shared page (below).
 *  - data: per socket a shared memory file (memfd, passed at creation)
 *    holding struct ctl_shm and two byte rings: rx (daemon -> program) and
 *    tx (program -> daemon), single producer / single consumer each. TCP
 *    rings carry the byte stream; UDP rings carry records (struct
 *    ctl_dgram + payload, padded to 4 bytes). The socket's readiness is
 *    mirrored on an eventfd (also passed) whose counter the daemon sets:
 *    see ctl_mirror_value().
 *
 * Wake-ups: the daemon bumps shm->seq (a futex word) after every change a
 * client may wait for and FUTEX_WAKEs it when shm->waiters is non-zero.
 * The daemon sets shm->want bits when it stopped for lack of tx data
 * (CTL_WANT_TX) or rx space (CTL_WANT_RX); the client that changes that
 * clears the bit and sends one CTL_OP_KICK. Both sides use sequentially
 * consistent atomics, so a bit set just before the other side's change is
 * always seen by one of them (the daemon re-checks the ring after setting
 * it).
 *
 * Header only (static inline): the daemon (tools/) and the shim
 * (preload/, built without libtern) both include it.
 */
#ifndef TERN_CTL_CTL_H
#define TERN_CTL_CTL_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#define CTL_MAGIC 0x7465726eu /* "tern" */
#define CTL_VERSION 1

enum ctl_op {
    CTL_OP_HELLO = 1,   /* a = CTL_VERSION; resp.val = daemon's version */
    CTL_OP_SOCKET,      /* a = 1 UDP / 2 TCP; resp: id, fds [memfd, eventfd], val = shm size */
    CTL_OP_BIND,        /* id, addr, port */
    CTL_OP_LISTEN,      /* id, a = backlog */
    CTL_OP_CONNECT,     /* id, addr, port (addr 0 + port 0 + a = 1: UDP dissolve) */
    CTL_OP_ACCEPT,      /* id; resp: new id, peer addr/port, fds, val = shm size */
    CTL_OP_SHUTDOWN,    /* id, a = SHUT_RD/WR/RDWR (done once tx is drained) */
    CTL_OP_CLOSE,       /* id; no response; graceful once tx is drained */
    CTL_OP_GETNAME,     /* id, a = 0 local / 1 peer; resp addr/port */
    CTL_OP_SETOPT,      /* id, a = enum tern_sockopt, b = value */
    CTL_OP_GETOPT,      /* id, a = enum tern_sockopt (0 = SO_ERROR); resp.val */
    CTL_OP_ADOPT,       /* id: this client takes a reference (fork's child) */
    CTL_OP_KICK,        /* id; the daemon pumps the socket; a = 1: and responds once
                         * the eventfd mirrors the rings (no response if a = 0) */
    CTL_OP_SS,          /* a = TERN_NETSTAT_* flags; resp payload chunks, last one empty */
    CTL_OP_STATS,       /* resp payload chunks (text), last one empty */
    CTL_OP_RESOLVE,     /* payload = host name; resp: addr (0 = not found), ret -errno */
    CTL_OP_DUMP,        /* resp: val = pcap link type (ret -ENOSYS: no trace wrapper);
                         * then one message per frame the stack sends or receives,
                         * until the client closes: a ctl_resp with val = timestamp
                         * (us since the epoch), id = the frame's length, len = the
                         * bytes that follow (at most 65535); frames the client is
                         * too slow to take are dropped */
};

struct ctl_req {
    uint32_t magic;
    uint16_t op;
    uint16_t len; /* payload bytes after the header */
    uint32_t id;
    int32_t a, b;
    uint32_t addr; /* host order */
    uint16_t port; /* host order */
    uint16_t pad;
};

struct ctl_resp {
    int32_t ret; /* >= 0, or -errno */
    uint32_t id;
    uint32_t addr;
    uint16_t port;
    uint16_t len; /* payload bytes after the header */
    int64_t val;
};

#define CTL_MAX_MSG 65536 /* a response's payload chunk never exceeds this */

/* ---- the shared page and rings ---- */

struct ctl_ring {
    _Atomic uint32_t head; /* producer: bytes written (free-running) */
    _Atomic uint32_t tail; /* consumer: bytes read (free-running) */
    uint32_t size;         /* power of two */
    uint32_t off;          /* data offset from the start of struct ctl_shm */
};

enum ctl_state {
    CTL_ST_NEW = 0,
    CTL_ST_CONNECTING,
    CTL_ST_CONNECTED,
    CTL_ST_LISTEN,
    CTL_ST_CLOSED, /* reset, failed or closed by the daemon */
};

#define CTL_F_RX_EOF 0x1  /* the peer's FIN (after the rx ring's data) */
#define CTL_F_WR_SHUT 0x2 /* the program shut down writing */
#define CTL_F_ACCEPT 0x4  /* listener: a connection is waiting */
#define CTL_F_RD_SHUT 0x8 /* the program shut down reading */

#define CTL_WANT_TX 0x1 /* daemon: the tx ring ran empty, kick me when you write */
#define CTL_WANT_RX 0x2 /* daemon: the rx ring was full, or the eventfd shows it
                         * readable: kick me when you read it empty (or half) */

struct ctl_shm {
    uint32_t magic;
    uint32_t type;           /* 1 UDP, 2 TCP */
    _Atomic uint32_t seq;    /* futex word: bumped by the daemon on every change */
    _Atomic uint32_t waiters;
    _Atomic uint32_t state;  /* enum ctl_state */
    _Atomic int32_t err;     /* pending errno (connect failure, reset), 0 = none */
    _Atomic uint32_t flags;  /* CTL_F_* */
    _Atomic uint32_t want;   /* CTL_WANT_* */
    struct ctl_ring rx, tx;
};

/* One UDP datagram in a ring, followed by len bytes, padded to 4. */
struct ctl_dgram {
    uint32_t len;
    uint32_t addr; /* rx: source; tx: destination (0 + port 0: the connected peer) */
    uint16_t port;
    uint16_t pad;
};

#define CTL_RING_SIZE (256u * 1024u)
#define CTL_SHM_SIZE (4096u + 2u * CTL_RING_SIZE)

/* Lays out a zeroed area of CTL_SHM_SIZE bytes. */
static inline void ctl_shm_init(struct ctl_shm *s, uint32_t type)
{
    s->magic = CTL_MAGIC;
    s->type = type;
    s->rx.size = s->tx.size = CTL_RING_SIZE;
    s->rx.off = 4096u;
    s->tx.off = 4096u + CTL_RING_SIZE;
}

static inline uint8_t *ctl_ring_data(struct ctl_shm *s, struct ctl_ring *r)
{
    return (uint8_t *)s + r->off;
}
static inline uint32_t ctl_ring_used(struct ctl_ring *r)
{
    return atomic_load(&r->head) - atomic_load(&r->tail);
}
static inline uint32_t ctl_ring_free(struct ctl_ring *r) { return r->size - ctl_ring_used(r); }

/* Copies len bytes into the ring at position pos (free-running). */
static inline void ctl_ring_copy_in(struct ctl_shm *s, struct ctl_ring *r, uint32_t pos,
                                    const void *src, uint32_t len)
{
    uint8_t *d = ctl_ring_data(s, r);
    uint32_t at = pos & (r->size - 1), first = r->size - at;
    if (first > len)
        first = len;
    memcpy(d + at, src, first);
    memcpy(d, (const uint8_t *)src + first, len - first);
}
static inline void ctl_ring_copy_out(struct ctl_shm *s, struct ctl_ring *r, uint32_t pos,
                                     void *dst, uint32_t len)
{
    const uint8_t *d = ctl_ring_data(s, r);
    uint32_t at = pos & (r->size - 1), first = r->size - at;
    if (first > len)
        first = len;
    memcpy(dst, d + at, first);
    memcpy((uint8_t *)dst + first, d, len - first);
}

/* Producer: writes up to len bytes (stream); returns the count. */
static inline uint32_t ctl_ring_write(struct ctl_shm *s, struct ctl_ring *r, const void *src,
                                      uint32_t len)
{
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t room = r->size - (head - atomic_load_explicit(&r->tail, memory_order_acquire));
    if (len > room)
        len = room;
    ctl_ring_copy_in(s, r, head, src, len);
    atomic_store_explicit(&r->head, head + len, memory_order_release);
    return len;
}
/* Consumer: reads up to len bytes (stream), or peeks with peek; returns the count. */
static inline uint32_t ctl_ring_read(struct ctl_shm *s, struct ctl_ring *r, void *dst, uint32_t len,
                                     int peek)
{
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t avail = atomic_load_explicit(&r->head, memory_order_acquire) - tail;
    if (len > avail)
        len = avail;
    ctl_ring_copy_out(s, r, tail, dst, len);
    if (!peek)
        atomic_store_explicit(&r->tail, tail + len, memory_order_release);
    return len;
}

static inline uint32_t ctl_dgram_space(uint32_t len)
{
    return (uint32_t)sizeof(struct ctl_dgram) + ((len + 3u) & ~3u);
}
/* Producer: one whole datagram, or 0 (no room; nothing written). */
static inline int ctl_ring_put_dgram(struct ctl_shm *s, struct ctl_ring *r,
                                     const struct ctl_dgram *h, const void *data)
{
    uint32_t need = ctl_dgram_space(h->len);
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t room = r->size - (head - atomic_load_explicit(&r->tail, memory_order_acquire));
    if (need > room)
        return 0;
    ctl_ring_copy_in(s, r, head, h, sizeof *h);
    ctl_ring_copy_in(s, r, head + (uint32_t)sizeof *h, data, h->len);
    atomic_store_explicit(&r->head, head + need, memory_order_release);
    return 1;
}
/* Consumer: the next datagram's header (1), or 0 if none is queued. */
static inline int ctl_ring_peek_dgram(struct ctl_shm *s, struct ctl_ring *r, struct ctl_dgram *h)
{
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (atomic_load_explicit(&r->head, memory_order_acquire) == tail)
        return 0;
    ctl_ring_copy_out(s, r, tail, h, sizeof *h);
    return 1;
}
/* Consumer: copies up to cap bytes of the next datagram (whose header h
 * came from ctl_ring_peek_dgram) and, unless peek, drops it. */
static inline uint32_t ctl_ring_take_dgram(struct ctl_shm *s, struct ctl_ring *r,
                                           const struct ctl_dgram *h, void *dst, uint32_t cap,
                                           int peek)
{
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t n = h->len < cap ? h->len : cap;
    ctl_ring_copy_out(s, r, tail + (uint32_t)sizeof *h, dst, n);
    if (!peek)
        atomic_store_explicit(&r->tail, tail + ctl_dgram_space(h->len), memory_order_release);
    return n;
}

/* The eventfd counter that mirrors readiness. An eventfd is readable
 * (POLLIN) when its counter is > 0 and writable (POLLOUT) while it is
 * below 0xfffffffffffffffe, so three of the four states are exact:
 *   readable + writable: 1; readable only: MAX; writable only: 0.
 * Neither (a connecting socket, a full tx ring with nothing to read) is
 * shown as readable only (MAX): programs waiting for a connect ask POLLOUT
 * alone and keep sleeping; a program that also asks POLLIN sees a read
 * return EAGAIN (docs/run.md, limits). A listener is readable or neither,
 * shown as 1 or 0 (nobody asks a listener for POLLOUT). */
#define CTL_EVFD_MAX 0xfffffffffffffffeull
static inline uint64_t ctl_mirror_value(int readable, int writable, int listener)
{
    if (listener)
        return readable ? 1 : 0;
    if (readable && writable)
        return 1;
    if (!readable && writable)
        return 0;
    return CTL_EVFD_MAX;
}

#endif
