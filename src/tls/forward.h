/*
 * src/tls/forward.h - the port forwarder of `tern forward` (stunnel's
 * client and server modes, and plain TCP), as an event-driven app on
 * tstreams: it runs on TAP/TUN with the real loop and in virtual time.
 *
 * Every connection accepted on the listening port gets a connection to
 * the destination; bytes are copied both ways, one 16 kB chunk in flight
 * per direction (back-pressure: a side is read only while the other can
 * take what was read). Modes:
 *  - accept_tls set: the accepted side speaks TLS (stunnel server mode);
 *  - connect_tls set: the outgoing side speaks TLS, checked against
 *    verify_name (stunnel client mode, "checkHost");
 *  - neither: plain TCP forwarding.
 * Half-close is passed through: the end of one side's input (TCP FIN, or
 * TLS close_notify) becomes the end of the other side's output
 * (close_notify + FIN, or FIN), and the other direction goes on. The
 * connection ends when both directions have ended.
 * Errors, as stunnel maps them: a reset, a TLS alert, a truncated TLS
 * stream, a handshake timeout or a failed connect to the destination
 * resets the other side (RST), as stunnel's "Connection reset" does.
 * Each connection ends with one log line:
 *   tern forward: 10.0.0.1:40000 -> 10.0.0.2:110 closed: 25 bytes sent, 310 bytes received (TLSv1.3 TLS_AES_256_GCM_SHA384)
 *   tern forward: 10.0.0.1:40001 -> 10.0.0.2:110 reset: destination: certificate verify failed: hostname mismatch; 0 bytes sent, 0 bytes received
 * "sent" counts bytes copied from the client to the destination,
 * "received" the other way (plaintext in both TLS modes).
 * At most max_conns connections at once (further ones are reset at once).
 */
#ifndef TERN_TLS_FORWARD_H
#define TERN_TLS_FORWARD_H

#include <stdint.h>
#include <stdio.h>

#include "tls/tls.h"

struct tfwd_opts {
    uint32_t bind_addr;      /* 0 = any of ours */
    uint16_t listen_port;
    uint32_t dst_addr;
    uint16_t dst_port;
    struct ttls_ctx *accept_tls, *connect_tls; /* borrowed */
    const char *verify_name; /* connect_tls: SNI and the name checked; NULL = dst_addr as text */
    uint64_t handshake_timeout_us; /* 0 = TSTREAM_HS_TIMEOUT_US */
    unsigned max_conns;      /* 0 = 256 */
    FILE *log;               /* one line per connection; NULL = none */
};

struct tfwd_stats {
    uint64_t accepted, closed, reset, refused_full;
    unsigned active;
};

struct tfwd;

/* Listens; NULL with *err (a negative enum tern_err) on failure. */
struct tfwd *tfwd_start(struct tern_stack *s, struct tern_loop *loop, const struct tfwd_opts *o,
                        int *err);
void tfwd_stats(const struct tfwd *f, struct tfwd_stats *out);
/* Closes the listener and resets every connection still open. */
void tfwd_free(struct tfwd *f);

#endif
