/*
 * src/app/services.h - the classic services: echo (RFC 862), discard
 * (RFC 863), daytime (RFC 867), qotd (RFC 865), chargen (RFC 864) and
 * time (RFC 868).
 *
 * Two layers, so the TCP variants can reuse the first unchanged:
 *  - what each service says, transport-free (services_gen.c): the daytime
 *    text, the 32-bit time value, chargen's rotating pattern, the quote;
 *  - the UDP servers (services.c): one datagram socket per service on the
 *    stack's socket API, event-driven on any loop (real or virtual);
 *  - the TCP servers (services_tcp.c): one listener per service and a
 *    bounded set of connections each, on the same socket API.
 * Time: services read the loop's clock and add an epoch offset the caller
 * supplies (loop microseconds + offset = Unix time in microseconds), so a
 * test in virtual time gets a known date.
 * Not inetd: no fork/exec, no per-service config file.
 */
#ifndef TERN_APP_SERVICES_H
#define TERN_APP_SERVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/loop.h"
#include "tern/stack.h"

enum tern_svc {
    TERN_SVC_ECHO = 0, /* port 7,  RFC 862 */
    TERN_SVC_DISCARD,  /* port 9,  RFC 863 */
    TERN_SVC_DAYTIME,  /* port 13, RFC 867 */
    TERN_SVC_QOTD,     /* port 17, RFC 865 */
    TERN_SVC_CHARGEN,  /* port 19, RFC 864 */
    TERN_SVC_TIME,     /* port 37, RFC 868 */
    TERN_SVC_COUNT
};

/* "echo", "discard", ... and the well-known port of each. */
const char *classic_name(enum tern_svc svc);
uint16_t classic_port(enum tern_svc svc);

/* ---- What each service says (no transport) ---- */

/* RFC 868: seconds since 1900-01-01 00:00 UTC, modulo 2^32 (the value
 * wraps in 2036, as the RFC's 32-bit field does). unix_s may be negative. */
uint32_t classic_time_value(int64_t unix_s);

/* RFC 867 daytime: "Weekday, Month Day, Year HH:MM:SS-UTC\r\n", the RFC's
 * suggested syntax ("Tuesday, February 22, 1982 17:37:43-PST") in UTC,
 * ended with CR LF as inetd's daytime ends its line. Returns the length
 * (without the NUL; at most TERN_SVC_DAYTIME_MAX - 1). */
#define TERN_SVC_DAYTIME_MAX 64
size_t classic_daytime(int64_t unix_s, char buf[TERN_SVC_DAYTIME_MAX]);

/* RFC 864 chargen pattern: the 95 printable ASCII characters (32..126)
 * in lines of 72, each line starting one character further on, each
 * ended with CR LF (74 bytes a line, 95 distinct lines). Fills buf with
 * len bytes of that stream starting at byte `offset` of it; returns the
 * offset that follows (modulo the pattern's period, 95 * 74 bytes). */
#define TERN_SVC_CHARGEN_LINE 72
#define TERN_SVC_CHARGEN_PERIOD (95u * 74u)
uint32_t classic_chargen(uint32_t offset, uint8_t *buf, size_t len);

/* RFC 865: a quote shorter than 512 bytes. */
#define TERN_SVC_QOTD_MAX 511
extern const char classic_default_quote[];

/* The whole answer of a service that says one thing per request (daytime,
 * qotd, time) at Unix time unix_s into out (TERN_SVC_ANSWER_MAX bytes);
 * quote is qotd's text (quote_len <= TERN_SVC_QOTD_MAX). Returns the length;
 * 0 for the other services. Used by the UDP and TCP servers alike. */
#define TERN_SVC_ANSWER_MAX (TERN_SVC_QOTD_MAX + 1)
size_t classic_answer(enum tern_svc svc, int64_t unix_s, const char *quote, size_t quote_len,
                       uint8_t *out);

/* Unix time in whole seconds (floor) from the loop clock plus an offset in
 * microseconds (struct tern_services_opts.epoch_offset_us). */
int64_t classic_unix_now(struct tern_loop *loop, int64_t epoch_offset_us);

/* ---- The UDP servers ---- */

struct tern_services_opts {
    unsigned enable;                 /* bits 1u << enum tern_svc */
    uint16_t port[TERN_SVC_COUNT];   /* 0 = the well-known port */
    uint32_t addr;                   /* local address to bind, 0 = all of ours */
    int64_t epoch_offset_us;         /* loop time + this = Unix time (microseconds) */
    const char *quote;               /* qotd text, NULL = classic_default_quote;
                                      * cut to TERN_SVC_QOTD_MAX bytes */
    uint32_t tcp_max_conns;          /* TCP: connections per service at once,
                                      * 0 = TERN_SVC_TCP_MAX_CONNS (UDP ignores it) */
    uint64_t tcp_idle_us;            /* TCP: a connection that moves no byte either
                                      * way this long is closed, 0 = TERN_SVC_TCP_IDLE_US */
};

struct services_stats {
    uint64_t requests[TERN_SVC_COUNT]; /* datagrams received */
    uint64_t replies[TERN_SVC_COUNT];  /* datagrams sent */
    uint64_t send_errors;              /* sendto failed (no route, ARP queue full, ...) */
    uint64_t ignored;                  /* loop guard: see services.c */
};

struct tern_services;

/* Opens and binds one UDP socket per enabled service (as a privileged
 * caller: TERN_SO_PRIVILEGED). NULL on failure, with *err the error and
 * *failed the service whose socket failed (TERN_SVC_COUNT when none did,
 * e.g. no memory or nothing enabled). */
struct tern_services *services_start(struct tern_stack *s, struct tern_loop *loop,
                                          const struct tern_services_opts *o, int *err,
                                          enum tern_svc *failed);
void services_stats(const struct tern_services *sv, struct services_stats *out);
/* Closes the sockets and frees. NULL is fine. */
void services_free(struct tern_services *sv);

/* ---- The TCP servers (services_tcp.c) ----
 * RFC 862/863/864/865/867/868 "TCP Based ..." variants: echo echoes until
 * the client closes, discard reads until it closes, chargen streams its
 * pattern until it closes, daytime/qotd/time send their text and close.
 * At most tcp_max_conns connections per service at once; a newcomer to a
 * full service takes the place of the connection that has gone longest
 * without moving a byte (closed with a FIN), so silent connections cannot
 * lock clients out. A connection that moves no byte in either direction for
 * tcp_idle_us (a client that neither sends nor reads) is closed. Clients
 * waiting to be accepted: TERN_SVC_TCP_BACKLOG (beyond that the TCP layer's
 * SYN-queue/cookie rules apply). */
#define TERN_SVC_TCP_MAX_CONNS 32
#define TERN_SVC_TCP_BACKLOG 16
#define TERN_SVC_TCP_IDLE_US 60000000ull /* 60 s */

struct services_tcp_stats {
    uint64_t accepted[TERN_SVC_COUNT];  /* connections accepted */
    uint64_t bytes_in[TERN_SVC_COUNT];  /* bytes read from clients */
    uint64_t bytes_out[TERN_SVC_COUNT]; /* bytes queued to clients */
    uint32_t active[TERN_SVC_COUNT];    /* open now */
    uint64_t evicted;                   /* closed (longest idle) to make room for a newcomer */
    uint64_t idle_closed;               /* closed after tcp_idle_us without a byte moved */
    uint64_t errors;                    /* connections ended by an error (reset, timeout) */
};

struct tern_services_tcp;

/* Opens, binds (TERN_SO_PRIVILEGED, TERN_SO_REUSEADDR as inetd sets it)
 * and listens on one TCP socket per enabled service; same errors and
 * *failed convention as services_start. */
struct tern_services_tcp *services_tcp_start(struct tern_stack *s, struct tern_loop *loop,
                                                  const struct tern_services_opts *o, int *err,
                                                  enum tern_svc *failed);
void services_tcp_stats(const struct tern_services_tcp *sv,
                             struct services_tcp_stats *out);
/* Closes the listeners and every connection (gracefully: queued data and a
 * FIN go out; the stack finishes those closes), then frees. NULL is fine. */
void services_tcp_free(struct tern_services_tcp *sv);

#endif
