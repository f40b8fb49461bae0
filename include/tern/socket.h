/*
 * tern/socket.h - the core socket API: non-blocking sockets on a stack,
 * with readiness delivered through the stack's event loop.
 *
 * Every tern app (nc, DNS, DHCP, services, HTTP) is written against this
 * API, in real and virtual time alike; TCP plugs into it unchanged, and the
 * BSD facade (tern/posix.h, a later module) is a thin blocking layer on top.
 *
 * Model:
 *  - Calls never block. A call that would wait returns TERN_E_AGAIN.
 *  - Readiness (TERN_POLL* bits, same values as poll(2)'s) is reported to
 *    the handler set with tern_sock_set_handler, edge-style as with
 *    EPOLLET: the handler runs on the loop, never inside another tern call,
 *    after any event that may have made the socket readable, writable or
 *    failed. The app then reads/writes until TERN_E_AGAIN.
 *    tern_sock_poll() gives the current mask at any time (level).
 *  - Addresses are struct tern_sockaddr in host order; addr 0 = INADDR_ANY.
 *  - Buffers: the caller's buffers are borrowed for the call only; data is
 *    copied once between the caller and the socket's bounded queues.
 *  - A socket handle stays valid until tern_sock_close() or
 *    tern_sock_abort(); after that the stack owns it (a TCP socket may
 *    linger to finish its close).
 * Thread safety: the stack's thread only (the POSIX facade adds locking).
 */
#ifndef TERN_SOCKET_H
#define TERN_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tern/api.h"
#include "tern/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

enum tern_sock_type {
    TERN_SOCK_DGRAM = 1,  /* UDP (RFC 768) */
    TERN_SOCK_STREAM = 2  /* TCP (RFC 9293) */
};

struct tern_sockaddr {
    uint32_t addr; /* host order, 0 = any */
    uint16_t port; /* host order, 0 = any / pick an ephemeral port */
};

/* Readiness bits: the values of poll(2)'s POLLIN, POLLOUT, POLLERR, POLLHUP. */
#define TERN_POLLIN 0x001   /* a datagram, data, EOF, or (listening) a connection is waiting */
#define TERN_POLLOUT 0x004  /* send would not block (TCP: connected with send space) */
#define TERN_POLLERR 0x008  /* an error is pending: tern_sock_error() */
#define TERN_POLLHUP 0x010  /* both directions are finished */

/* Flags for send/recv */
#define TERN_MSG_PEEK 0x02  /* recv: leave the data queued */
#define TERN_MSG_TRUNC 0x20 /* recv in: return the datagram's real length;
                             * recv out (*out_flags): the datagram was cut */

#define TERN_SHUT_RD 0
#define TERN_SHUT_WR 1
#define TERN_SHUT_RDWR 2

enum tern_sockopt {
    TERN_SO_REUSEADDR = 1, /* Linux semantics, see tern_sock_bind */
    TERN_SO_BROADCAST,     /* allow sending to broadcast addresses */
    TERN_SO_RCVBUF,        /* receive queue cap in bytes */
    TERN_SO_SNDBUF,        /* send queue cap in bytes (TCP) */
    TERN_SO_KEEPALIVE,     /* TCP */
    TERN_SO_BINDTOIFACE,   /* value = ifindex, -1 = none: send and receive on one
                            * interface only (DHCP on an interface with no address) */
    TERN_SO_PRIVILEGED,    /* 1 = this caller may bind ports below 1024 when the
                            * stack's privileged-port policy is on */
    TERN_IP_TTL,           /* 1..255, 0 = stack default */
    TERN_IP_TOS,
    TERN_TCP_NODELAY,      /* TCP */
    TERN_TCP_MAXSEG,       /* TCP */
    TERN_TCP_KEEPIDLE,     /* TCP, seconds */
    TERN_TCP_KEEPINTVL,    /* TCP, seconds */
    TERN_TCP_KEEPCNT,      /* TCP */
    /* UDP multicast (RFC 1112, src/core/igmp.c) */
    TERN_IP_MULTICAST_TTL,  /* 0..255 (-1: the default, 1); 0 = only our own stack */
    TERN_IP_MULTICAST_LOOP, /* 1 (default): our own stack receives what we send to a
                             * group joined here */
    TERN_IP_MULTICAST_IF,   /* ifindex to send to groups on; -1 (default): by route,
                             * else the first interface that is up */
    TERN_IP_MULTICAST_ALL   /* 1 (default, as Linux): a socket receives datagrams
                             * for every group joined on the stack that match its
                             * port and address; 0: only groups it joined itself */
};

struct tern_sock;

typedef void (*tern_sock_fn)(struct tern_sock *sk, unsigned events, void *ctx);

/* A new socket, or NULL with *err set (TERN_E_NOMEM when the stack's socket
 * table is full, TERN_E_UNSUPPORTED for a type not built yet). */
TERN_API struct tern_sock *tern_sock_open(struct tern_stack *s, enum tern_sock_type type, int *err);

/* fn(sk, ready & interest, ctx) runs on the loop after events that may have
 * changed readiness in `interest` (TERN_POLL* bits; ERR and HUP are always
 * reported). fn NULL = no notifications. */
TERN_API void tern_sock_set_handler(struct tern_sock *sk, unsigned interest, tern_sock_fn fn, void *ctx);
TERN_API unsigned tern_sock_poll(const struct tern_sock *sk);

/* Binds a local address (0 = any of ours) and port (0 = an ephemeral port,
 * chosen per RFC 6056 from the stack's range). Errors: TERN_E_ADDRINUSE
 * (Linux rules: two sockets may share a port only if both set
 * TERN_SO_REUSEADDR - and, for TCP, neither is listening), TERN_E_ADDRNOTAVAIL
 * (not one of our addresses), TERN_E_ACCES (port < 1024 under the privileged
 * policy without TERN_SO_PRIVILEGED), TERN_E_INVAL (already bound). */
TERN_API int tern_sock_bind(struct tern_sock *sk, const struct tern_sockaddr *local);

/* UDP: sets the default destination and accepts datagrams only from it
 * (binds an ephemeral port first if needed); peer NULL dissolves the
 * association (Linux: connect with AF_UNSPEC). TCP: starts the handshake and
 * returns TERN_E_INPROGRESS; POLLOUT (or POLLERR) reports the outcome. */
TERN_API int tern_sock_connect(struct tern_sock *sk, const struct tern_sockaddr *peer);

/* TCP only. */
TERN_API int tern_sock_listen(struct tern_sock *sk, int backlog);
TERN_API struct tern_sock *tern_sock_accept(struct tern_sock *sk, struct tern_sockaddr *peer, int *err);

/* Returns bytes accepted (UDP: the whole datagram or an error), or a negative
 * enum tern_err: TERN_E_AGAIN, TERN_E_MSGSIZE (UDP > 65507), TERN_E_ACCES
 * (broadcast without TERN_SO_BROADCAST), TERN_E_DESTADDRREQ, TERN_E_CONNREFUSED
 * (a pending ICMP port unreachable on a connected UDP socket), ... */
TERN_API ssize_t tern_sock_sendto(struct tern_sock *sk, const void *buf, size_t len, int flags,
                                  const struct tern_sockaddr *to);
TERN_API ssize_t tern_sock_send(struct tern_sock *sk, const void *buf, size_t len, int flags);

/* UDP: one datagram per call; a datagram longer than len is cut and
 * *out_flags gets TERN_MSG_TRUNC (with TERN_MSG_TRUNC in flags the return
 * value is the datagram's real length). TCP: bytes; 0 = end of stream.
 * from and out_flags may be NULL. */
TERN_API ssize_t tern_sock_recvfrom(struct tern_sock *sk, void *buf, size_t len, int flags,
                                    struct tern_sockaddr *from, int *out_flags);
TERN_API ssize_t tern_sock_recv(struct tern_sock *sk, void *buf, size_t len, int flags);
/* TCP: registers buf[0..len) as where the next reads land. While the
 * receive queue is empty, in-order data is copied straight into it (its
 * checksum verified in the same pass) instead of into the queue: the next
 * tern_sock_recv(sk, buf, ...) returns those bytes without copying them
 * again (a recv into another buffer gets them copied; bytes queued after
 * them follow in order). The buffer stays registered, and must stay valid,
 * until tern_sock_recv_post(sk, NULL, 0) or close; the advertised window
 * still counts only the queue's free space. Returns 0, TERN_E_INVAL (not
 * TCP, or len without buf) or TERN_E_AGAIN (bytes placed in the buffer
 * registered now have not been read yet: read them first). */
TERN_API int tern_sock_recv_post(struct tern_sock *sk, void *buf, size_t len);

TERN_API int tern_sock_shutdown(struct tern_sock *sk, int how);
/* Closes gracefully; the handle must not be used afterwards. */
TERN_API int tern_sock_close(struct tern_sock *sk);
/* Closes at once (TCP: sends RST). */
TERN_API void tern_sock_abort(struct tern_sock *sk);

TERN_API int tern_sock_getsockname(const struct tern_sock *sk, struct tern_sockaddr *local);
TERN_API int tern_sock_getpeername(const struct tern_sock *sk, struct tern_sockaddr *peer);
/* The pending error (SO_ERROR), cleared by the call; 0 if none. */
TERN_API int tern_sock_error(struct tern_sock *sk);
TERN_API int tern_sock_setopt(struct tern_sock *sk, enum tern_sockopt opt, int value);
TERN_API int tern_sock_getopt(const struct tern_sock *sk, enum tern_sockopt opt, int *value);

/* UDP multicast membership (IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP, RFC
 * 1112 s7.1): joins group (224.0.0.0/4) on interface ifindex (-1: the one
 * traffic to the group takes: by route, else the first that is up). The
 * stack reports the membership with IGMPv3 (or v1/v2 when an older querier
 * is heard) and receives the group's frames on that interface until the
 * last socket leaves (close leaves too). Errors: TERN_E_INVAL (not a
 * multicast group, no such interface), TERN_E_NETUNREACH (no interface up),
 * TERN_E_ADDRINUSE (joined there already), TERN_E_NOSPC (20 memberships on
 * this socket, or cfg.mcast_groups on the interface), TERN_E_OPNOTSUPP
 * (TCP). Leave: TERN_E_ADDRNOTAVAIL when not joined (ifindex -1: the
 * first membership of the group). */
TERN_API int tern_sock_join(struct tern_sock *sk, uint32_t group, int ifindex);
TERN_API int tern_sock_leave(struct tern_sock *sk, uint32_t group, int ifindex);

/* Source filters (RFC 3376 s3.1, Linux's IP_ADD_SOURCE_MEMBERSHIP,
 * IP_DROP_SOURCE_MEMBERSHIP, IP_BLOCK_SOURCE, IP_UNBLOCK_SOURCE): ADD
 * receives group only from source (a new membership, INCLUDE {source}, or
 * one more source of one), DROP takes a source back (the last leaves the
 * group); BLOCK / UNBLOCK exclude a source from an any-source membership
 * (tern_sock_join). At most 10 sources per membership. Errors as Linux:
 * TERN_E_INVAL (INCLUDE ops on an any-source membership or block ops on a
 * source-specific one), TERN_E_ADDRNOTAVAIL (no such membership or
 * source), TERN_E_NOSPC (too many sources or memberships, the table full). */
enum tern_mc_source_op {
    TERN_MC_ADD_SOURCE = 1,
    TERN_MC_DROP_SOURCE,
    TERN_MC_BLOCK_SOURCE,
    TERN_MC_UNBLOCK_SOURCE
};
TERN_API int tern_sock_source(struct tern_sock *sk, enum tern_mc_source_op op, uint32_t group,
                              uint32_t source, int ifindex);

/* One row of the socket table (netstat). */
struct tern_sock_info {
    enum tern_sock_type type;
    const char *state;       /* "LISTEN", "ESTABLISHED", ...; "" for UDP unless connected */
    uint32_t recv_q, send_q; /* bytes queued */
    struct tern_sockaddr local, peer;
    uint64_t rx_drops;       /* datagrams dropped because the queue was full */
    /* TCP details (ss -ti), zero for UDP and before SYN-SENT.
     * cwnd and ssthresh in bytes (ssthresh UINT32_MAX = not set yet);
     * rto_us includes the current backoff. */
    uint32_t rtt_us, rttvar_us, rto_us, cwnd, ssthresh, mss, retransmits;
    const char *cc;               /* congestion control: "cubic", "newreno"; NULL for UDP */
    bool ts, sack, wscale;        /* options agreed in the handshake (RFC 7323, 2018) */
    uint8_t snd_wscale, rcv_wscale; /* shift applied to the peer's window / to ours */
    uint32_t backoff;             /* RTO doublings since the last RTT sample */
    uint32_t advmss;              /* the MSS we advertised */
    uint32_t unacked;             /* bytes sent, not yet acknowledged (SND.NXT-SND.UNA) */
    uint32_t retrans_out;         /* bytes retransmitted and not yet acknowledged */
    uint32_t snd_wnd;             /* the peer's last window, bytes (scaled) */
    uint32_t notsent;             /* bytes queued but never sent */
};

/* Fills up to cap rows (sorted: type, local address, local port); returns the
 * number of rows: sockets and TIME_WAIT connections whose socket is gone
 * (may be > cap). */
TERN_API size_t tern_sock_list(struct tern_stack *s, struct tern_sock_info *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
