/*
 * src/app/services_gen.c - what the classic services say, with no
 * transport: RFC 868's time value, RFC 867's daytime text, RFC 864's
 * chargen pattern and RFC 865's quote. Pure functions (but for reading
 * the loop's clock); the UDP servers (services.c) and the TCP ones
 * (services_tcp.c) call them.
 * Dates are computed here (proleptic Gregorian, UTC) rather than with
 * gmtime(3), so the text never depends on the host's time zone or libc.
 */
#include <stdio.h>
#include <string.h>

#include "app/services.h"

static const char *const names[TERN_SVC_COUNT] = {"echo", "discard", "daytime",
                                                   "qotd", "chargen", "time"};
static const uint16_t ports[TERN_SVC_COUNT] = {7, 9, 13, 17, 19, 37};

const char *classic_name(enum tern_svc svc)
{
    return (unsigned)svc < TERN_SVC_COUNT ? names[svc] : "?";
}

uint16_t classic_port(enum tern_svc svc)
{
    return (unsigned)svc < TERN_SVC_COUNT ? ports[svc] : 0;
}

/* RFC 865: "the quote may be just one or up to several lines, but it
 * should be less than 512 characters". */
const char classic_default_quote[] =
    "\"Be conservative in what you do, be liberal in what you accept from others.\"\r\n"
    "    Jon Postel, RFC 793\r\n";

uint32_t classic_time_value(int64_t unix_s)
{
    /* RFC 868: "the time in seconds since midnight on January first 1900";
     * 2208988800 = 70 years of which 17 are leap years, times 86400. The
     * 32-bit field wraps; unsigned arithmetic gives exactly that. */
    return (uint32_t)((uint64_t)unix_s + 2208988800u);
}

size_t classic_daytime(int64_t unix_s, char buf[TERN_SVC_DAYTIME_MAX])
{
    static const char *const wday[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};
    static const char *const month[12] = {"January", "February", "March",     "April",
                                          "May",     "June",     "July",      "August",
                                          "September", "October", "November", "December"};
    int64_t days = unix_s / 86400, secs = unix_s % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    int wd = (int)(((days % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    /* civil_from_days (H. Hinnant): days since 1970-01-01 -> y/m/d */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    int n = snprintf(buf, TERN_SVC_DAYTIME_MAX, "%s, %s %d, %lld %02d:%02d:%02d-UTC\r\n",
                     wday[wd], month[m - 1], (int)d, (long long)y, (int)(secs / 3600),
                     (int)(secs / 60 % 60), (int)(secs % 60));
    if (n < 0)
        n = 0;
    return (size_t)n < TERN_SVC_DAYTIME_MAX ? (size_t)n : TERN_SVC_DAYTIME_MAX - 1;
}

uint32_t classic_chargen(uint32_t offset, uint8_t *buf, size_t len)
{
    /* RFC 864: "one popular pattern is 72 chraracter lines of the ASCII
     * printing characters" (95 of them, codes 32..126), each line starting
     * with the character after the one that started the previous line. */
    uint32_t o = offset % TERN_SVC_CHARGEN_PERIOD;
    uint32_t line = o / 74, col = o % 74;
    for (size_t i = 0; i < len; i++) {
        if (col < TERN_SVC_CHARGEN_LINE)
            buf[i] = (uint8_t)(32 + (line + col) % 95);
        else
            buf[i] = col == TERN_SVC_CHARGEN_LINE ? '\r' : '\n';
        if (++col == 74) {
            col = 0;
            if (++line == 95)
                line = 0;
        }
    }
    return line * 74 + col;
}

size_t classic_answer(enum tern_svc svc, int64_t unix_s, const char *quote, size_t quote_len,
                       uint8_t *out)
{
    switch (svc) {
    case TERN_SVC_DAYTIME: {
        char t[TERN_SVC_DAYTIME_MAX];
        size_t n = classic_daytime(unix_s, t);
        memcpy(out, t, n);
        return n;
    }
    case TERN_SVC_QOTD:
        if (quote_len > TERN_SVC_QOTD_MAX)
            quote_len = TERN_SVC_QOTD_MAX;
        memcpy(out, quote, quote_len);
        return quote_len;
    case TERN_SVC_TIME: {
        /* RFC 868: "send the time as a 32 bit binary number", big-endian */
        uint32_t v = classic_time_value(unix_s);
        out[0] = (uint8_t)(v >> 24);
        out[1] = (uint8_t)(v >> 16);
        out[2] = (uint8_t)(v >> 8);
        out[3] = (uint8_t)v;
        return 4;
    }
    default:
        return 0;
    }
}

int64_t classic_unix_now(struct tern_loop *loop, int64_t epoch_offset_us)
{
    int64_t us = (int64_t)tern_loop_now(loop) + epoch_offset_us;
    int64_t s = us / 1000000;
    return (us % 1000000 < 0) ? s - 1 : s;
}
