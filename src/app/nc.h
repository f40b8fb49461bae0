/*
 * src/app/nc.h - netcat (`tern nc`), written once as an event-driven app:
 * it runs on a TAP/TUN device with the real loop and in virtual time in
 * tests. UDP (nc -u) in nc.c, TCP (the default of the command) in nc_tcp.c.
 *
 * The app owns one socket. The caller feeds it input chunks (nc_input)
 * and end of input (nc_input_eof); what arrives is written to io->out.
 * Behaviour follows OpenBSD netcat (Debian's netcat-openbsd).
 * UDP (-u): each chunk is one datagram, as OpenBSD nc sends each read(2)
 * of stdin.
 *  - client: the socket is connected to HOST PORT, so only its datagrams
 *    are taken and an ICMP port unreachable comes back as "connection
 *    refused" (exit status 1);
 *  - listen (-l): the first datagram's sender becomes the peer (the socket
 *    is connected to it, as nc does) and input is wanted only from then on.
 *  After end of input the app lingers quit_after_eof_us for replies, then
 *  finishes with status 0 (nc -q).
 * TCP: a byte stream.
 *  - client: connects; input is wanted once the connection is up. Errors
 *    end the run with status 1 and one line: "connection refused" (RST to
 *    our SYN), "connection timed out" (no answer within connect_timeout_us,
 *    nc -w, or the stack's SYN retries), "connection reset by peer".
 *  - listen (-l): accepts one connection, then closes the listener (as
 *    OpenBSD nc -l without -k).
 *  - back-pressure: what the send queue cannot take is held (one chunk at
 *    most) and input is turned off until POLLOUT has sent it.
 *  - end of input -> shutdown(TERN_SHUT_WR) (a half-close, as Debian's
 *    nc -N) once everything held is queued; reading goes on until the peer
 *    closes its side. The run ends (status 0) when both directions are
 *    finished, as Debian's nc does; the peer's FIN alone does not end it,
 *    since the peer may still be reading. quit_after_eof_us (nc -q) caps the
 *    wait after end of input.
 * Multicast (o->join, a group as peer_addr): see tern_nc_opts.join.
 * Not here: -z/-v scans, -k, proxies, names (the command resolves none).
 */
#ifndef TERN_APP_NC_H
#define TERN_APP_NC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tern/loop.h"
#include "tern/stack.h"

struct tern_nc_opts {
    bool listen;
    uint32_t local_addr;        /* bind address, 0 = any of ours */
    uint16_t local_port;        /* -p / the listen port; 0 = ephemeral (client) */
    uint32_t peer_addr;         /* client: where to send */
    uint16_t peer_port;
    uint64_t quit_after_eof_us; /* linger after end of input; TERN_TIME_NEVER = forever */
    bool tcp;                   /* TCP instead of UDP */
    uint64_t connect_timeout_us; /* TCP client: give up connecting after this (nc -w);
                                  * 0 = when the stack's SYN retries end */
    /* TCP: SO_KEEPALIVE with TCP_KEEPIDLE/KEEPINTVL/KEEPCNT (0 = the stack's
     * default for that one); a peer silent through all the probes ends the
     * run with "connection timed out" (status 1). */
    bool keepalive;
    uint32_t keepidle_s, keepintvl_s, keepcnt;
    /* UDP multicast (tern's --join): join this group (0 = none) on the
     * socket, bound to local_port (a client without one: peer_port) with
     * SO_REUSEADDR, and print every datagram from any sender - a listener
     * takes no peer (receive only), a client keeps sending to peer_addr.
     * A client whose peer_addr is a group (with or without join) sends with
     * sendto, unconnected, so the group's traffic from others comes in. */
    uint32_t join;
    uint8_t mcast_ttl;          /* 0 = the default, 1 */
};

struct tern_nc_io {
    FILE *out;                  /* received data (flushed after each datagram / read) */
    FILE *err;                  /* one-line messages ("tern nc: ...") */
    /* The app asks for input (on) or to stop it (off); may be NULL. */
    void (*want_input)(void *ctx, bool on);
    /* Runs once: status 0 (done), 1 (runtime error, e.g. connection refused). */
    void (*done)(void *ctx, int status);
    void *ctx;
};

struct tern_nc;

/* Opens, binds and (client) connects the socket, or (TCP -l) listens. NULL
 * on failure with *err a negative enum tern_err (the message is the
 * caller's to print). For a UDP client, want_input(ctx, true) runs before
 * this returns; for TCP, once the connection is up. */
struct tern_nc *nc_start(struct tern_stack *s, struct tern_loop *loop,
                              const struct tern_nc_opts *o, const struct tern_nc_io *io, int *err);
/* UDP: one datagram to the peer (buf is copied). When the stack cannot take
 * it yet (send or ARP queue full) the app holds it, asks for no more input
 * (want_input off) and retries every 10 ms for up to 5 s.
 * TCP: len <= 65536 bytes for the stream; what the send queue cannot take
 * is held (want_input off) until POLLOUT.
 * Returns 0, TERN_E_AGAIN (a chunk is already held: feed this one later),
 * TERN_E_DESTADDRREQ (UDP listener with no peer yet), TERN_E_NOTCONN (TCP,
 * not connected yet), TERN_E_MSGSIZE (TCP, len too big), or another
 * negative error, which is also reported and ends the run with status 1. */
int nc_input(struct tern_nc *nc, const void *buf, size_t len);
void nc_input_eof(struct tern_nc *nc);
/* Stops early (a signal): done(ctx, 0) unless already done. */
void nc_stop(struct tern_nc *nc);
void nc_free(struct tern_nc *nc);

#endif
