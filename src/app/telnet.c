/* src/app/telnet.c - see telnet.h. RFC 854, RFC 855. */
#include "app/telnet.h"

enum { T_DATA, T_IAC, T_OPT, T_SB, T_SB_IAC, T_CR };

void telnet_rx(struct tern_telnet *t, const uint8_t *in, size_t n, uint8_t *data, size_t *dlen,
                    uint8_t *reply, size_t *rlen)
{
    size_t d = 0, r = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        switch (t->state) {
        case T_CR:
            t->state = T_DATA;
            if (c == 0)
                break; /* CR NUL: a bare CR, already out */
            /* fall through */
        case T_DATA:
            if (c == TELNET_IAC) {
                t->state = T_IAC;
            } else {
                data[d++] = c;
                if (c == '\r')
                    t->state = T_CR;
            }
            break;
        case T_IAC:
            if (c == TELNET_IAC) {
                data[d++] = c; /* IAC IAC: data 255 */
                t->state = T_DATA;
            } else if (c >= TELNET_WILL && c <= TELNET_DONT) {
                t->verb = c;
                t->state = T_OPT;
            } else if (c == TELNET_SB) {
                t->state = T_SB;
            } else {
                t->state = T_DATA; /* NOP, DM, GA, AYT, ...: nothing to do in line mode */
            }
            break;
        case T_OPT:
            /* DO x -> WONT x; WILL x -> DONT x; WONT/DONT: already so */
            if (t->verb == TELNET_DO || t->verb == TELNET_WILL) {
                reply[r++] = TELNET_IAC;
                reply[r++] = t->verb == TELNET_DO ? TELNET_WONT : TELNET_DONT;
                reply[r++] = c;
                t->refused++;
            }
            t->state = T_DATA;
            break;
        case T_SB:
            if (c == TELNET_IAC)
                t->state = T_SB_IAC;
            break;
        case T_SB_IAC:
            t->state = c == TELNET_SE ? T_DATA : T_SB;
            break;
        }
    }
    *dlen = d;
    *rlen = r;
}

size_t telnet_tx(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
            out[o++] = '\r';
        if (in[i] == TELNET_IAC)
            out[o++] = TELNET_IAC;
        out[o++] = in[i];
    }
    return o;
}
