/*
 * src/app/http_text.c - the text side of HTTP that is not message parsing
 * (see http_msg.h): http:// URLs (RFC 3986 s3, RFC 9110 s4.2.1),
 * request-target to file path (RFC 3986 s2.1 percent-decoding, s5.2.4 dot
 * segments - but ".." above the root is an error, not clamped), response
 * heads (RFC 9112 s4, RFC 9110 s6.6.1 Date, s5.6.7 IMF-fixdate), media
 * types by extension, HTML escaping. Pure: no I/O.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app/http_msg.h"
#include "app/http_msg_impl.h"
#include "tern/wire/ipv4.h"

/* err = "URL: msg" */
static void seterr(char *err, size_t cap, const char *url, const char *msg)
{
    if (err && cap)
        snprintf(err, cap, "%s: %s", url, msg);
}

int http_parse_url(const char *url, struct tern_http_url *u, char *err, size_t errcap)
{
    memset(u, 0, sizeof *u);
    const char *sep = strstr(url, "://");
    if (!sep) {
        seterr(err, errcap, url, "not an http:// URL");
        return -1;
    }
    size_t slen = (size_t)(sep - url);
    if (slen == 5 && !strncasecmp(url, "https", 5)) {
        u->https = true; /* RFC 9110 s4.2.2: default port 443 */
    } else if (slen != 4 || strncasecmp(url, "http", 4)) {
        seterr(err, errcap, url, "unsupported scheme (only http:// and https:// URLs)");
        return -1;
    }
    const char *a = sep + 3;
    size_t alen = strcspn(a, "/?#");
    const char *rest = a + alen;
    if (memchr(a, '@', alen)) {
        seterr(err, errcap, url, "user names in URLs are not supported");
        return -1;
    }
    if (alen && a[0] == '[') {
        seterr(err, errcap, url, "IPv6 addresses are not supported");
        return -1;
    }
    const char *colon = memchr(a, ':', alen);
    size_t hlen = colon ? (size_t)(colon - a) : alen;
    if (hlen == 0) {
        seterr(err, errcap, url, "no host name");
        return -1;
    }
    if (hlen > TERN_HTTP_HOST_MAX) {
        seterr(err, errcap, url, "host name too long");
        return -1;
    }
    bool numeric = true;
    for (size_t i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char)a[i];
        if (!isalnum(c) && c != '-' && c != '.' && c != '_') {
            seterr(err, errcap, url, "bad character in the host name");
            return -1;
        }
        u->host[i] = (char)tolower(c);
        if (!isdigit(c) && c != '.')
            numeric = false;
    }
    u->host[hlen] = '\0';
    if (numeric) {
        if (tern_ipv4_aton(u->host, &u->addr) < 0) {
            seterr(err, errcap, url, "bad IPv4 address");
            return -1;
        }
        u->host_is_ipv4 = true;
    }
    u->port = u->https ? 443 : 80;
    if (colon && colon + 1 < a + alen) { /* port = *DIGIT; empty means the default */
        unsigned long p = 0;
        for (const char *q = colon + 1; q < a + alen; q++) {
            if (!isdigit((unsigned char)*q) || (p = p * 10 + (unsigned long)(*q - '0')) > 65535) {
                seterr(err, errcap, url, "bad port");
                return -1;
            }
        }
        if (p == 0) {
            seterr(err, errcap, url, "bad port");
            return -1;
        }
        u->port = (uint16_t)p;
    }
    size_t plen = strcspn(rest, "#"); /* the fragment stays with the client (RFC 9110 s4.2.1) */
    size_t o = 0;
    if (plen == 0 || rest[0] != '/')
        u->path[o++] = '/';
    if (o + plen >= sizeof u->path) {
        seterr(err, errcap, url, "path too long");
        return -1;
    }
    for (size_t i = 0; i < plen; i++) {
        unsigned char c = (unsigned char)rest[i];
        if (c <= 0x20 || c >= 0x7f) {
            seterr(err, errcap, url, "space or control character in the path (percent-encode it)");
            return -1;
        }
        u->path[o++] = (char)c;
    }
    u->path[o] = '\0';
    return 0;
}

int http_path_of_target(const char *target, char *out, size_t cap, bool *dir)
{
    if (!cap)
        return 414;
    out[0] = '\0';
    *dir = false;
    const char *p = target;
    if (!strncasecmp(p, "http://", 7)) { /* absolute-form (RFC 9112 s3.2.2) */
        p += 7;
        p += strcspn(p, "/?");
        if (*p != '/')
            p = "/";
    }
    if (*p != '/')
        return 400; /* "*" and authority-form are not for GET/HEAD */
    size_t end = strcspn(p, "?");
    if (memchr(p, '#', end))
        return 400;
    size_t o = 0;
    size_t i = 0;
    bool last_dir = true;
    while (i < end) {
        while (i < end && p[i] == '/')
            i++;
        if (i >= end) {
            last_dir = true;
            break;
        }
        size_t seg_start = o;
        if (o) {
            if (o + 1 >= cap)
                return 414;
            out[o++] = '/';
        }
        size_t name_start = o;
        while (i < end && p[i] != '/') {
            char c = p[i];
            if (c == '%') {
                int h1 = i + 1 < end ? http_hexval((unsigned char)p[i + 1]) : -1;
                int h2 = i + 2 < end ? http_hexval((unsigned char)p[i + 2]) : -1;
                if (h1 < 0 || h2 < 0)
                    return 400; /* malformed escape */
                c = (char)(h1 * 16 + h2);
                if (c == '\0' || c == '/')
                    return 400; /* NUL or an encoded slash */
                i += 3;
            } else {
                i++;
            }
            if (o + 1 >= cap)
                return 414;
            out[o++] = c;
        }
        size_t nlen = o - name_start;
        if (nlen == 1 && out[name_start] == '.') {
            o = seg_start; /* "." : drop */
            last_dir = true;
            continue;
        }
        if (nlen == 2 && out[name_start] == '.' && out[name_start + 1] == '.') {
            if (seg_start == 0)
                return 400; /* would leave the served directory */
            /* drop this segment and the one before it */
            o = seg_start;
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--; /* the separating slash */
            last_dir = true;
            continue;
        }
        last_dir = false;
    }
    if (end > 0 && p[end - 1] == '/')
        last_dir = true;
    out[o] = '\0';
    *dir = last_dir;
    return 0;
}

const char *http_reason(int status)
{
    switch (status) { /* RFC 9110 s15 */
    case 200: return "OK";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large"; /* RFC 6585 s5 */
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

void http_date(int64_t t, char out[30])
{
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t days = t / 86400, secs = t % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    int weekday = (int)(((days % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    /* civil_from_days (H. Hinnant's algorithm, proleptic Gregorian) */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    if (m <= 2)
        y++;
    if (y < 0 || y > 9999)
        y = y < 0 ? 0 : 9999;
    snprintf(out, 30, "%s, %02d %s %04d %02d:%02d:%02d GMT", wd[weekday], d, mo[m - 1], (int)y,
             (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

int http_write_head(char *buf, size_t cap, const struct tern_http_head_opts *o)
{
    size_t n = 0;
    int k;
#define PUT(...)                                                        \
    do {                                                                \
        k = snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__);      \
        if (k < 0 || (size_t)k >= (n < cap ? cap - n : 0))              \
            return -1;                                                  \
        n += (size_t)k;                                                 \
    } while (0)
    PUT("HTTP/1.1 %d %s\r\n", o->status, http_reason(o->status));
    char d[30];
    if (o->has_date) {
        http_date(o->date, d);
        PUT("Date: %s\r\n", d);
    }
    PUT("Server: tern\r\n");
    if (o->last_modified >= 0) {
        http_date(o->last_modified, d);
        PUT("Last-Modified: %s\r\n", d);
    }
    if (o->content_type)
        PUT("Content-Type: %s\r\n", o->content_type);
    if (o->content_length >= 0)
        PUT("Content-Length: %lld\r\n", (long long)o->content_length);
    if (o->location)
        PUT("Location: %s\r\n", o->location);
    if (o->allow)
        PUT("Allow: %s\r\n", o->allow);
    if (o->close)
        PUT("Connection: close\r\n");
    else if (o->keep_alive_token)
        PUT("Connection: keep-alive\r\n");
    PUT("\r\n");
#undef PUT
    return (int)n;
}

const char *http_content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {"html", "text/html; charset=utf-8"}, {"htm", "text/html; charset=utf-8"},
        {"txt", "text/plain; charset=utf-8"}, {"md", "text/markdown; charset=utf-8"},
        {"css", "text/css"}, {"csv", "text/csv"},
        {"js", "text/javascript"}, /* RFC 9239 */
        {"mjs", "text/javascript"}, {"json", "application/json"}, {"xml", "application/xml"},
        {"png", "image/png"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"}, {"gif", "image/gif"},
        {"svg", "image/svg+xml"}, {"webp", "image/webp"}, {"ico", "image/vnd.microsoft.icon"},
        {"pdf", "application/pdf"}, {"wasm", "application/wasm"}, {"zip", "application/zip"},
        {"gz", "application/gzip"}, {"tar", "application/x-tar"}, {"mp4", "video/mp4"},
        {"mp3", "audio/mpeg"}, {"woff2", "font/woff2"}, {"pcap", "application/vnd.tcpdump.pcap"},
    };
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    const char *dot = strrchr(base, '.');
    if (dot && dot != base)
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (!strcasecmp(dot + 1, types[i].ext))
                return types[i].type;
    return "application/octet-stream";
}

int http_html_escape(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (; *s; s++) {
        const char *rep = NULL;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: break;
        }
        size_t k = rep ? strlen(rep) : 1;
        if (o + k >= cap)
            return -1;
        if (rep)
            memcpy(out + o, rep, k);
        else
            out[o] = *s;
        o += k;
    }
    if (o >= cap)
        return -1;
    out[o] = '\0';
    return (int)o;
}

int http_path_escape(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = isalnum(c) || strchr("-._~!$&'()*+,;=:@", c); /* pchar, RFC 3986 s3.3 */
        size_t k = plain ? 1 : 3;
        if (o + k >= cap)
            return -1;
        if (plain) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (o >= cap)
        return -1;
    out[o] = '\0';
    return (int)o;
}
