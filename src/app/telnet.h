/*
 * src/app/telnet.h - the protocol half of `tern telnet`: a filter for what
 * a TELNET server sends (RFC 854), sans-IO.
 *
 * tern telnet is a line-mode client for line protocols (POP3, SMTP, HTTP
 * by hand) that also works with real TELNET servers: every option the
 * server asks for is refused (RFC 854 "DO ... the receiver refuses with
 * WONT", "WILL ... DONT"; RFC 855), WONT and DONT are not answered (we are
 * already in the state they ask for, and RFC 854 says a request to enter a
 * mode one is already in is not acknowledged, which is what keeps
 * negotiation loops from starting), subnegotiation (SB ... SE) and the
 * other commands (NOP, GA, AYT, ...) are dropped, IAC IAC is a data byte
 * 255, and CR NUL is a bare CR.
 */
#ifndef TERN_APP_TELNET_H
#define TERN_APP_TELNET_H

#include <stddef.h>
#include <stdint.h>

#define TELNET_IAC 255
#define TELNET_DONT 254
#define TELNET_DO 253
#define TELNET_WONT 252
#define TELNET_WILL 251
#define TELNET_SB 250
#define TELNET_SE 240

struct tern_telnet {
    int state; /* internal */
    uint8_t verb;
    uint64_t refused; /* options refused so far */
};

/* Filters n bytes from the server: data bytes go to data (room for n),
 * our answers to reply (room for 3 * n). */
void telnet_rx(struct tern_telnet *t, const uint8_t *in, size_t n, uint8_t *data, size_t *dlen,
                    uint8_t *reply, size_t *rlen);
/* User input for the server: LF becomes CR LF (RFC 854: the NVT end of
 * line), IAC is doubled. out has room for 2 * n. Returns the length. */
size_t telnet_tx(const uint8_t *in, size_t n, uint8_t *out);

#endif
