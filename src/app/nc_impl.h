/*
 * src/app/nc_impl.h - what nc.c (UDP and the public entry points) and
 * nc_tcp.c (TCP) share: the app's state and its common steps. Not a public
 * API.
 */
#ifndef TERN_APP_NC_IMPL_H
#define TERN_APP_NC_IMPL_H

#include "app/nc.h"
#include "tern/socket.h"

#define NC_BUF 65536

struct tern_nc {
    struct tern_stack *stack;
    struct tern_loop *loop;
    struct tern_nc_opts o;
    struct tern_nc_io io;
    struct tern_sock *sk;
    bool have_peer, eof, finished;
    struct tern_sockaddr peer;
    struct tern_timer quit_timer, retry_timer;
    uint8_t *buf;
    uint8_t *pending;      /* a chunk (UDP) or the rest of one (TCP) the stack could not take */
    size_t pending_len;
    uint64_t pending_since;
    /* TCP */
    struct tern_sock *lsk; /* -l: the listener, until a connection is accepted */
    size_t pending_off;    /* pending[pending_off..pending_len) still to send */
    bool connected, peer_eof, shut_wr;
    struct tern_timer connect_timer;
    struct tern_timer linger_timer; /* both ends closed: wait for our FIN's ACK */
};

/* Ends the run once: timers off, input off, done(status). */
void nc_finish(struct tern_nc *nc, int status);
/* "tern nc: WHAT: error" (or with the peer's address, see nc.c). */
void nc_report(struct tern_nc *nc, int err, const char *what);
/* After end of input: quit in quit_after_eof_us (unless NEVER). */
void nc_arm_quit(struct tern_nc *nc);

/* nc_tcp.c: opens the stream socket (connect or listen); 0 or an error. */
int nc_tcp_open(struct tern_nc *nc);
int nc_tcp_input(struct tern_nc *nc, const void *buf, size_t len);
void nc_tcp_input_eof(struct tern_nc *nc);
void nc_tcp_connect_timeout(struct tern_timer *t, void *arg);
void nc_tcp_linger(struct tern_timer *t, void *arg);

#endif
