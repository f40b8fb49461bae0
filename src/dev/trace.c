/*
 * src/dev/trace.c - a device wrapper that records every frame passing in
 * either direction: into a pcap file and/or as tcpdump-format lines.
 *
 * Sits in front of any device (TAP, TUN, memory link, custom, impairment).
 * Timestamps are the loop's time plus an offset the owner may set (real
 * loops run on CLOCK_MONOTONIC; a tool adds the wall-clock offset so pcaps
 * carry real dates; in virtual time the offset stays 0).
 * Not sans-IO core: writes to the caller's FILEs.
 */
#include <stdlib.h>
#include <string.h>

#include "dev/devpriv.h"
#include "tern/device.h"
#include "tern/pcap.h"
#include "tern/print.h"

struct trace_dev {
    struct tern_device dev; /* first: the public face */
    struct tern_device *inner;
    struct tern_loop *loop;
    struct tern_pcap_writer pw;
    bool have_pcap;
    FILE *trace;
    int64_t epoch_offset_us;
    long utc_offset_s;
    struct tern_printer printer;
    void (*tap)(void *ctx, uint64_t ts_us, const uint8_t *frame, size_t len);
    void *tap_ctx;
    char line[8192];
};

static void record(struct trace_dev *t, const uint8_t *frame, size_t len)
{
    uint64_t ts = (uint64_t)((int64_t)tern_loop_now(t->loop) + t->epoch_offset_us);
    uint32_t lt = t->dev.link == TERN_LINK_ETHERNET ? TERN_LINKTYPE_ETHERNET : TERN_LINKTYPE_RAW;
    if (t->have_pcap && tern_pcap_write(&t->pw, ts, frame, len, len) < 0)
        t->have_pcap = false; /* disk full or closed: stop recording, keep forwarding */
    if (t->trace) {
        size_t n = tern_print_ts(ts, t->utc_offset_s, t->line, sizeof t->line);
        tern_print_frame(&t->printer, lt, frame, len, len, t->line + n, sizeof t->line - n);
        fputs(t->line, t->trace);
        fputc('\n', t->trace);
    }
    if (t->tap)
        t->tap(t->tap_ctx, ts, frame, len);
}

static int trace_send(struct tern_device *d, const uint8_t *frame, size_t len)
{
    struct trace_dev *t = (struct trace_dev *)d;
    record(t, frame, len);
    int r = tern_device_send(t->inner, frame, len);
    if (r < 0) {
        d->stats.tx_dropped++;
    } else {
        d->stats.tx_frames++;
        d->stats.tx_bytes += len;
    }
    return r;
}

static void trace_rx(void *ctx, struct tern_device *inner, const uint8_t *frame, size_t len)
{
    struct trace_dev *t = ctx;
    record(t, frame, len);
    tern_device_deliver_flags(&t->dev, frame, len, inner->rx_flags);
}

static void trace_destroy(struct tern_device *d)
{
    struct trace_dev *t = (struct trace_dev *)d;
    if (t->have_pcap)
        tern_pcap_writer_flush(&t->pw);
    if (t->trace)
        fflush(t->trace);
    tern_device_destroy(t->inner);
    free(t);
}

static const struct tern_device_ops trace_ops = {.send = trace_send, .destroy = trace_destroy};

struct tern_device *tern_trace_wrap(struct tern_loop *loop, struct tern_device *inner, FILE *pcap,
                                    FILE *trace)
{
    if (!loop || !inner)
        return NULL;
    struct trace_dev *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->dev.ops = &trace_ops;
    t->dev.link = inner->link;
    t->dev.mtu = inner->mtu;
    t->dev.tso_max = inner->tso_max; /* super-segments pass, recorded as sent */
    memcpy(t->dev.mac, inner->mac, sizeof t->dev.mac);
    snprintf(t->dev.name, sizeof t->dev.name, "%.25s+trace", inner->name);
    t->inner = inner;
    t->loop = loop;
    t->trace = trace;
    tern_printer_init(&t->printer, NULL);
    if (pcap) {
        uint32_t lt = inner->link == TERN_LINK_ETHERNET ? TERN_LINKTYPE_ETHERNET : TERN_LINKTYPE_RAW;
        if (tern_pcap_writer_init(&t->pw, pcap, lt, 0) < 0) {
            free(t);
            return NULL;
        }
        t->have_pcap = true;
    }
    tern_device_set_rx(inner, trace_rx, t);
    tern_device_set_down(inner, dev_pass_down, &t->dev);
    return &t->dev;
}

void tern_trace_set_clock(struct tern_device *trace_dev, int64_t epoch_offset_us, long utc_offset_s)
{
    struct trace_dev *t = (struct trace_dev *)trace_dev;
    t->epoch_offset_us = epoch_offset_us;
    t->utc_offset_s = utc_offset_s;
}

uint32_t tern_trace_set_tap(struct tern_device *trace_dev,
                            void (*tap)(void *ctx, uint64_t ts_us, const uint8_t *frame, size_t len),
                            void *ctx)
{
    struct trace_dev *t = (struct trace_dev *)trace_dev;
    t->tap = tap;
    t->tap_ctx = ctx;
    return t->dev.link == TERN_LINK_ETHERNET ? TERN_LINKTYPE_ETHERNET : TERN_LINKTYPE_RAW;
}
