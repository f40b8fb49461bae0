/*
 * src/core/socket_impl.h - the inside of a tern socket, the protocol ops
 * vtable, and the port table (ports.c) shared by UDP and TCP.
 * Not a public API: socket.c, ports.c, udp.c (and later tcp_*.c) include it.
 *
 * A protocol plugs in by filling a struct sock_proto_ops and setting
 * s->sock_ops[type] at stack creation; the generic code (socket.c) owns the
 * socket pool, common options, readiness notifications and the netstat
 * table, and calls the ops for everything protocol-specific.
 */
#ifndef TERN_CORE_SOCKET_IMPL_H
#define TERN_CORE_SOCKET_IMPL_H

#include "core/stack_impl.h"
#include "tern/socket.h"

#define SOCK_NIL UINT32_MAX
#define SOCK_RCVBUF_MIN 256u
#define SOCK_RCVBUF_MAX (8u << 20)
#define UDP_MAX_PAYLOAD 65507u /* 65535 - 20 (IPv4 header) - 8 (UDP header) */

/* A byte ring (UDP: records [u32 addr][u16 port][u16 len][data]). */
struct sock_ring {
    uint8_t *buf;
    size_t cap, head, used; /* bytes */
    uint32_t count;         /* records */
    size_t data_bytes;      /* payload bytes (recv_q) */
};

struct sock_proto_ops {
    uint8_t proto; /* IP protocol number: 17, 6 */
    /* Called once the generic part is set up; allocate per-socket state. */
    int (*open)(struct tern_sock *sk);
    int (*bind)(struct tern_sock *sk, const struct tern_sockaddr *local);
    int (*connect)(struct tern_sock *sk, const struct tern_sockaddr *peer);
    int (*listen)(struct tern_sock *sk, int backlog);
    struct tern_sock *(*accept)(struct tern_sock *sk, struct tern_sockaddr *peer, int *err);
    ssize_t (*sendto)(struct tern_sock *sk, const void *buf, size_t len, int flags,
                      const struct tern_sockaddr *to);
    ssize_t (*recvfrom)(struct tern_sock *sk, void *buf, size_t len, int flags,
                        struct tern_sockaddr *from, int *out_flags);
    int (*shutdown)(struct tern_sock *sk, int how);
    /* close/abort: the app lets go of the handle. The protocol calls
     * sock_release(sk) when it is done with the object (UDP: at once). */
    int (*close)(struct tern_sock *sk);
    void (*abort)(struct tern_sock *sk);
    unsigned (*poll)(const struct tern_sock *sk); /* TERN_POLL* (level) */
    void (*info)(const struct tern_sock *sk, struct tern_sock_info *out);
    /* Protocol-specific options, called after the generic code stored the
     * common ones; TERN_E_OPNOTSUPP if not for this protocol. */
    int (*setopt)(struct tern_sock *sk, enum tern_sockopt opt, int value);
    /* Protocol-specific options the generic code does not keep; NULL or
     * TERN_E_OPNOTSUPP if not for this protocol. */
    int (*getopt)(const struct tern_sock *sk, enum tern_sockopt opt, int *value);
    /* Sends what a handler's calls left deferred (sock_defer_tx). */
    void (*flush)(struct tern_sock *sk);
};

struct tern_sock {
    /* Pointers and sizes first, then 32-bit fields, then bytes and flags:
     * no padding holes (168 -> 160 bytes with the flags as bits). */
    struct tern_stack *s;
    const struct sock_proto_ops *ops;
    void *pcb;         /* the protocol's part: TCP's TCB, UDP's struct udp_sock */
    /* multicast (igmp.c): memberships (NULL until the first join); the
     * options are below (mc_ifindex, mc_ttl, mc_loop, mc_all, n_mc) */
    struct sock_mc *mc;
    /* notifications (with interest, nlist, tx_deferred, nprev, nnext) */
    tern_sock_fn fn;
    void *ctx;
    /* A read waiting in the application's buffer (tern_sock_recv_post):
     * rd_got bytes of it hold in-order data not yet returned by a recv;
     * rd_placed is the current segment's share, in place until the
     * segment is accepted (tcp_in.c). */
    uint8_t *rd_buf;
    size_t rd_len, rd_got;
    enum tern_sock_type type;
    uint32_t idx;
    struct tern_sockaddr local, peer;
    /* port table chains (ports.c) */
    uint32_t bnext, cnext;
    /* options */
    int bind_ifindex;  /* -1: any */
    uint32_t rcvbuf, sndbuf;
    int mc_ifindex;    /* IP_MULTICAST_IF; -1: by route */
    int so_error;      /* pending error (negative enum tern_err) or 0 */
    unsigned interest;
    uint32_t nprev, nnext;
    uint32_t rd_placed;
    uint32_t free_next;
    uint8_t proto;
    uint8_t ttl, tos;  /* 0: stack default */
    uint8_t mc_ttl;
    uint8_t n_mc;
    uint8_t nlist;     /* 0 none, 1 notify list, 2 run list */
    bool used : 1;
    bool app_closed : 1; /* the app called close/abort: no more notifications */
    bool bound : 1, connected : 1, listening : 1;
    bool conn_autobound : 1; /* port chosen by connect: may share it by 4-tuple */
    bool shut_rd : 1, shut_wr : 1;
    bool in_conn_table : 1;
    bool autoaddr : 1; /* local.addr was filled in by connect, not by bind */
    bool reuseaddr : 1, broadcast : 1, privileged : 1, keepalive : 1;
    bool mc_loop : 1, mc_all : 1;
    bool tx_deferred : 1; /* on the stack's tx_defer list (sock_defer_tx) */
};
_Static_assert(sizeof(struct tern_sock) <= 160, "struct tern_sock grew: mind the holes");

/* UDP's part of a socket (udp.c), at sk->pcb: a TCP socket carries none. */
struct udp_sock {
    struct sock_ring rq;
    uint64_t rx_drops;
};
static inline struct udp_sock *udp_of(const struct tern_sock *sk) { return sk->pcb; }

/* The socket pool grows with use, by chunks of SOCK_CHUNK slots (never
 * moved: a socket's address is the app's handle), up to cfg.max_sockets. */
#define SOCK_CHUNK_SHIFT 10
#define SOCK_CHUNK (1u << SOCK_CHUNK_SHIFT)
static inline struct tern_sock *sock_slot(const struct tern_stack *s, uint32_t idx)
{
    return &s->sock_chunks[idx >> SOCK_CHUNK_SHIFT][idx & (SOCK_CHUNK - 1)];
}

/* socket.c */
struct tern_sock *sock_at(struct tern_stack *s, uint32_t idx); /* NULL for SOCK_NIL */
/* Schedules a readiness notification on the loop (never calls the handler
 * from here). */
void sock_notify(struct tern_sock *sk);
/* Inside a handler (the notification turn): true when sk's output is left
 * for the end of the turn (ops->flush), so what the handler sends, closes
 * and ACKs goes out together; false (send now) outside a handler or when
 * the stack's deferral list is full. */
bool sock_defer_tx(struct tern_sock *sk);
/* Returns the socket to the pool (unbinds it first). */
void sock_release(struct tern_sock *sk);
/* Sets the pending error and notifies. */
void sock_set_error(struct tern_sock *sk, int err);
/* Takes the pending error (0 if none). */
int sock_take_error(struct tern_sock *sk);

/* Byte ring helpers (socket.c) */
int ring_alloc(struct sock_ring *r, size_t cap);
void ring_free(struct sock_ring *r);
size_t ring_space(const struct sock_ring *r);
void ring_write(struct sock_ring *r, const void *p, size_t n);      /* n <= space */
void ring_peek(const struct sock_ring *r, size_t off, void *p, size_t n); /* from head+off */
void ring_skip(struct sock_ring *r, size_t n);
int ring_resize(struct sock_ring *r, size_t cap); /* keeps content; cap >= used */

/* ports.c - the port table. Key (proto, port): every bound socket sits on
 * one chain (bind table); connected sockets also sit in a 4-tuple table. */
int ports_init(struct tern_stack *s);
void ports_free(struct tern_stack *s);
/* Binds sk to (addr, port): addr 0/ours/127.x (else ADDRNOTAVAIL), port 0 =
 * ephemeral. peer != NULL: the port is for a connection to peer (RFC 6056
 * Algorithm 4 with random increments; the port may be shared with other
 * connected sockets of different 4-tuples). Applies the Linux
 * SO_REUSEADDR rules and the privileged-port policy. */
int ports_bind(struct tern_stack *s, struct tern_sock *sk, uint32_t addr, uint16_t port,
               const struct tern_sockaddr *peer);
void ports_unbind(struct tern_stack *s, struct tern_sock *sk);
/* The socket pool grew (s->sock_cap): the hash tables follow (>= 2 buckets
 * per slot). Without memory they stay as they are (longer chains). */
void ports_grow(struct tern_stack *s);
/* TCP listen(): EADDRINUSE if another socket shares the port in a way
 * Linux forbids for a listener. */
int ports_check_listen(struct tern_stack *s, const struct tern_sock *sk);
/* (Re)inserts sk in the 4-tuple table from sk->local/peer; clear removes. */
void ports_conn_set(struct tern_stack *s, struct tern_sock *sk);
void ports_conn_clear(struct tern_stack *s, struct tern_sock *sk);
struct tern_sock *ports_find_conn(struct tern_stack *s, uint8_t proto, uint32_t laddr,
                                  uint16_t lport, uint32_t raddr, uint16_t rport);
/* Sockets bound to (proto, port): first / next on the same key. */
struct tern_sock *ports_first(struct tern_stack *s, uint8_t proto, uint16_t port);
struct tern_sock *ports_next(struct tern_stack *s, const struct tern_sock *sk);

/* udp.c */
extern const struct sock_proto_ops udp_sock_ops;
void udp_sock_free(struct tern_sock *sk); /* its struct udp_sock (sock_release) */

#endif
