/*
 * src/trace/print_app.c - the application lines tcpdump 4.99.3 prints
 * without -v for BOOTP/DHCP (RFC 951 s3, RFC 2131 s2), NTP (RFC 5905
 * s7.3) and HTTP request/status lines (RFC 9112 s3, s4):
 *   "BOOTP/DHCP, Request from 02:00:00:00:00:01, length 300"
 *   "NTPv4, Client, length 48"
 *   "HTTP: GET / HTTP/1.1"   (after the TCP line's ": ")
 * learnt by running tcpdump -n -r on scapy-built packets
 * (tests/scripts/gen_apps.py); no tcpdump code is copied.
 */
#include <stdio.h>
#include <strings.h>

#include "trace/print_ctx.h"

/* RFC 951 s3: op (1 request, 2 reply), htype, hlen, ..., chaddr at 28.
 * tcpdump names the client only for an Ethernet (htype 1, hlen 6) request. */
void pc_bootp_print(struct pc *c, const uint8_t *bp, uint32_t length)
{
    c->proto = "bootp";
    uint8_t op = pc_u8(c, bp);
    if (op == 1)
        pc_printf(c, "BOOTP/DHCP, Request");
    else if (op == 2)
        pc_printf(c, "BOOTP/DHCP, Reply");
    else
        pc_printf(c, "BOOTP/DHCP, unknown (0x%02x)", op);
    uint8_t htype = pc_u8(c, bp + 1), hlen = pc_u8(c, bp + 2);
    if (htype == 1 && hlen == 6 && op == 1) {
        const uint8_t *ch = bp + 28;
        if (!pc_has(c, ch, 6)) {
            pc_fail(c);
            return;
        }
        pc_printf(c, " from %02x:%02x:%02x:%02x:%02x:%02x", ch[0], ch[1], ch[2], ch[3], ch[4],
                  ch[5]);
    }
    pc_printf(c, ", length %u", length);
}

/* RFC 5905 s7.3: LI (2 bits), VN (3), Mode (3) in the first octet. */
void pc_ntp_print(struct pc *c, const uint8_t *bp, uint32_t length)
{
    static const char *const modes[8] = {
        "unspecified", "symmetric active", "symmetric passive", "Client",
        "Server",      "Broadcast",        "Control Message",   "Reserved",
    };
    c->proto = "ntp";
    uint8_t s = pc_u8(c, bp);
    pc_printf(c, "NTPv%u, %s, length %u", (s >> 3) & 7, modes[s & 7], length);
}

/* Request methods tcpdump recognises as an HTTP request line's first token
 * (case-insensitively), learnt by trying each; any first token followed by
 * a 3-digit second token (a status line) is printed too. */
static const char *const http_methods[] = {
    "GET",        "PUT",         "COPY",       "HEAD",        "LOCK",
    "MOVE",       "POLL",        "POST",       "BCOPY",       "BMOVE",
    "MKCOL",      "TRACE",       "LABEL",      "MERGE",       "DELETE",
    "SEARCH",     "UNLOCK",      "REPORT",     "UPDATE",      "NOTIFY",
    "BDELETE",    "CONNECT",     "OPTIONS",    "CHECKIN",     "PROPFIND",
    "CHECKOUT",   "BPROPFIND",   "BPROPPATCH", "PROPPATCH",   "MKACTIVITY",
    "MKWORKSPACE", "UNCHECKOUT", "SUBSCRIBE",  "UNSUBSCRIBE", "VERSION-CONTROL",
    "BASELINE-CONTROL",
};

#define HTTP_TOKEN_MAX 128

/* Reads a token (printable ASCII up to SP, HT, CR or LF) starting at idx
 * into tok and skips the blanks after it; returns the index after them, or
 * 0 when there is no token (empty, too long, binary, or not captured). */
static uint32_t http_token(struct pc *c, const uint8_t *p, uint32_t idx, uint32_t len, char *tok)
{
    size_t n = 0;
    for (; idx < len; idx++) {
        if (!pc_has(c, p + idx, 1))
            return 0;
        uint8_t ch = p[idx];
        if (ch >= 0x80)
            return 0;
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
            break;
        if (ch < 0x20 || ch > 0x7e || n + 2 > HTTP_TOKEN_MAX + 1)
            return 0;
        tok[n++] = (char)ch;
    }
    if (n == 0)
        return 0;
    tok[n] = '\0';
    for (; idx < len; idx++) {
        if (!pc_has(c, p + idx, 1))
            break;
        uint8_t ch = p[idx];
        if (ch == '\r' || ch == '\n' || ch < 0x20 || ch > 0x7e || (ch != ' ' && ch != '\t'))
            break;
    }
    return idx;
}

/* tcpdump's rule for HTTP without -v: "HTTP", then ": " and the first line
 * if it is a request or status line that ends in CRLF or LF and holds only
 * printable ASCII and tabs; a line cut by the segment's end is printed with
 * " [|http]"; binary or a bare CR prints nothing more. */
void pc_http_print(struct pc *c, const uint8_t *p, uint32_t len)
{
    char tok[HTTP_TOKEN_MAX + 1];
    bool show = false;
    c->proto = "http";
    uint32_t idx = http_token(c, p, 0, len, tok);
    if (idx != 0) {
        for (size_t i = 0; i < sizeof http_methods / sizeof http_methods[0] && !show; i++)
            show = strcasecmp(tok, http_methods[i]) == 0;
        if (!show) {
            idx = http_token(c, p, idx, len, tok);
            show = idx != 0 && tok[0] >= '0' && tok[0] <= '9' && tok[1] >= '0' && tok[1] <= '9' &&
                   tok[2] >= '0' && tok[2] <= '9' && tok[3] == '\0';
        }
    }
    pc_printf(c, "HTTP");
    if (!show)
        return;
    uint32_t i;
    for (i = 0; i < len; i++) {
        uint8_t ch = pc_u8(c, p + i);
        if (c->trunc)
            return;
        if (ch == '\n')
            break;
        if (ch == '\r') {
            if (i + 1 >= len || pc_u8(c, p + i + 1) != '\n')
                return;
            break;
        }
        if ((ch < 0x20 || ch > 0x7e) && ch != '\t')
            return;
    }
    pc_printf(c, ": %.*s", (int)i, (const char *)p);
    if (i == len)
        pc_print_trunc(c);
}
