/*
 * src/app/nc.h - netcat over UDP (`tern nc -u`), written once as an
 * event-driven app: it runs on a TAP/TUN device with the real loop and in
 * virtual time in tests.
 *
 * The app owns one datagram socket. The caller feeds it input chunks
 * (tern_nc_input: each chunk is one datagram, as OpenBSD nc sends each
 * read(2) of stdin) and end of input (tern_nc_input_eof); datagrams
 * received are written to io->out. Behaviour follows OpenBSD netcat
 * (Debian's netcat-openbsd) with -u:
 *  - client: the socket is connected to HOST PORT, so only its datagrams
 *    are taken and an ICMP port unreachable comes back as "connection
 *    refused" (exit status 1);
 *  - listen (-l): the first datagram's sender becomes the peer (the socket
 *    is connected to it, as nc does) and input is wanted only from then on.
 * After end of input the app lingers quit_after_eof_us for replies, then
 * finishes with status 0 (nc -q).
 * Not TCP yet (the TCP issue extends this app), no -z/-v scans, no proxy.
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
};

struct tern_nc_io {
    FILE *out;                  /* received data (flushed after each datagram) */
    FILE *err;                  /* one-line messages ("tern nc: ...") */
    /* The app asks for input (on) or to stop it (off); may be NULL. */
    void (*want_input)(void *ctx, bool on);
    /* Runs once: status 0 (done), 1 (runtime error, e.g. connection refused). */
    void (*done)(void *ctx, int status);
    void *ctx;
};

struct tern_nc;

/* Opens, binds and (client) connects the socket. NULL on failure with *err
 * a negative enum tern_err (the message is the caller's to print). For a
 * client, want_input(ctx, true) runs before this returns. */
struct tern_nc *tern_nc_start(struct tern_stack *s, struct tern_loop *loop,
                              const struct tern_nc_opts *o, const struct tern_nc_io *io, int *err);
/* One datagram to the peer (buf is copied). When the stack cannot take it
 * yet (send or ARP queue full) the app holds it, asks for no more input
 * (want_input off) and retries every 10 ms for up to 5 s. Returns 0,
 * TERN_E_AGAIN (a chunk is already held: feed this one later),
 * TERN_E_DESTADDRREQ (listener with no peer yet), or another negative
 * error, which is also reported and ends the run with status 1. */
int tern_nc_input(struct tern_nc *nc, const void *buf, size_t len);
void tern_nc_input_eof(struct tern_nc *nc);
/* Stops early (a signal): done(ctx, 0) unless already done. */
void tern_nc_stop(struct tern_nc *nc);
void tern_nc_free(struct tern_nc *nc);

#endif
