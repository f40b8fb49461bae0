/*
 * src/sim/tcpplot_svg.c - writes the TCP plots (tcpplot.h) as standalone
 * SVG 1.1 documents: the time-sequence graph in tcptrace's style and the
 * cwnd / ssthresh / smoothed-RTT graph. Plain stdio, no library; every
 * text from the caller is XML-escaped, so the output is well-formed XML.
 * Not: the recorder (tcpplot.c). Byte labels are decimal (1 KB = 1000 B).
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "sim/lineplot.h"
#include "sim/tcpplot_impl.h"
#include "tern/err.h"
#include "tern/wire/ipv4.h"

#define W 1000.0
#define X0 90.0
#define X1 (W - 30.0)

struct axis {
    double lo, hi;  /* data range */
    double p0, p1;  /* pixel range (p0 <-> lo) */
};

static double ax_map(const struct axis *a, double v)
{
    return a->p0 + (v - a->lo) / (a->hi - a->lo) * (a->p1 - a->p0);
}

/* Widens an empty or inverted range so mapping never divides by zero. */
static void ax_fix(struct axis *a, double min_span)
{
    if (!(a->hi - a->lo >= min_span)) {
        double mid = (a->hi + a->lo) / 2;
        a->lo = mid - min_span / 2;
        a->hi = mid + min_span / 2;
    }
}

/* A 1-2-5 step giving about n ticks over span. */
static double nice_step(double span, int n)
{
    double raw = span / n, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

static int decimals_for(double step)
{
    int d = (int)ceil(-log10(step) - 1e-9);
    return d < 0 ? 0 : d > 6 ? 6 : d;
}

/* Writes s as XML character data: markup characters escaped, control
 * characters (not allowed in XML 1.0) and bytes that are not well-formed
 * UTF-8 replaced by '?'. */
static void xml_text(FILE *f, const char *s)
{
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    while (*u) {
        unsigned c = *u;
        int n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 && c >= 0xc2 ? 1 : (c & 0xf0) == 0xe0 ? 2
                : (c & 0xf8) == 0xf0 && c <= 0xf4 ? 3 : -1;
        bool ok = n >= 0;
        for (int i = 1; ok && i <= n; i++)
            ok = (u[i] & 0xc0) == 0x80;
        if (ok && n == 2) /* no overlong forms, no surrogates */
            ok = !(c == 0xe0 && u[1] < 0xa0) && !(c == 0xed && u[1] >= 0xa0);
        if (ok && n == 3)
            ok = !(c == 0xf0 && u[1] < 0x90) && !(c == 0xf4 && u[1] >= 0x90);
        if (!ok) {
            fputc('?', f);
            u++;
        } else if (n > 0) {
            fwrite(u, 1, (size_t)n + 1, f);
            u += n + 1;
        } else {
            if (c == '<')
                fputs("&lt;", f);
            else if (c == '>')
                fputs("&gt;", f);
            else if (c == '&')
                fputs("&amp;", f);
            else if (c == '"')
                fputs("&quot;", f);
            else if (c == '\'')
                fputs("&apos;", f);
            else if (c < 0x20 && c != '\t' && c != '\n')
                fputc('?', f);
            else
                fputc((int)c, f);
            u++;
        }
    }
}

static void svg_open(FILE *f, double h, const char *title, const char *what)
{
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" "
               "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n<title>",
            W, h, W, h);
    xml_text(f, title && *title ? title : what);
    fputs("</title>\n<style>\n"
          "text{font-family:sans-serif;font-size:11px;fill:#000}\n"
          ".title{font-size:15px;font-weight:bold}\n"
          ".grid{stroke:#e4e4e4;stroke-width:1}\n"
          ".axis{stroke:#000;fill:none}\n"
          ".seg{stroke:#000;fill:none;stroke-width:1}\n"
          ".rtx,.rtx-key{stroke:#d00;fill:#d00;stroke-width:1.5}\n"
          ".ack{stroke:#080;fill:none;stroke-width:1.2}\n"
          ".win{stroke:#c80;fill:none;stroke-width:1}\n"
          ".sack{stroke:#90c;fill:none;stroke-width:1.2;stroke-opacity:0.7}\n"
          ".cwnd{stroke:#00c;fill:none;stroke-width:1.2}\n"
          ".ssthresh{stroke:#c60;fill:none;stroke-width:1.2}\n"
          ".ssthresh-clip{stroke:#c60;fill:none;stroke-dasharray:4 3}\n"
          ".rtt{stroke:#080;fill:none;stroke-width:1.2}\n"
          "</style>\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n"
          "<text class=\"title\" x=\"90\" y=\"20\">",
          f);
    xml_text(f, title && *title ? title : what);
    fputs("</text>\n", f);
}

static void flow_line(FILE *f, const struct tern_tcpplot *p, const char *extra)
{
    char a[16], b[16];
    fprintf(f, "<text x=\"90\" y=\"36\">%s:%u &gt; %s:%u%s</text>\n", tern_ipv4_ntoa(p->src, a),
            p->sport, tern_ipv4_ntoa(p->dst, b), p->dport, extra);
}

static void fmt_time(char *buf, size_t cap, double s, double step)
{
    snprintf(buf, cap, "%.*f", decimals_for(step), s);
}

/* Bytes with a unit chosen by the axis maximum: B, KB or MB (decimal). */
static void fmt_bytes(char *buf, size_t cap, double v, double step, double maxabs)
{
    double unit = maxabs >= 1e6 ? 1e6 : maxabs >= 1e3 ? 1e3 : 1;
    const char *name = unit == 1e6 ? "MB" : unit == 1e3 ? "KB" : "B";
    snprintf(buf, cap, "%.*f %s", decimals_for(step / unit), v / unit, name);
}

enum ax_kind { AX_SECONDS, AX_BYTES, AX_MS };

/* Grid, ticks and labels of one axis; vertical for y axes. */
static void draw_axis(FILE *f, const struct axis *a, bool vertical, enum ax_kind kind,
                      double other0, double other1)
{
    double span = a->hi - a->lo, step = nice_step(span, vertical ? 6 : 8);
    double maxabs = fmax(fabs(a->lo), fabs(a->hi));
    for (double v = ceil(a->lo / step) * step; v <= a->hi + step * 1e-9; v += step) {
        double px = ax_map(a, v);
        char lab[40];
        if (kind == AX_SECONDS)
            fmt_time(lab, sizeof lab, v, step);
        else if (kind == AX_MS)
            snprintf(lab, sizeof lab, "%.*f", decimals_for(step), v);
        else
            fmt_bytes(lab, sizeof lab, fabs(v) < step * 1e-6 ? 0 : v, step, maxabs);
        if (vertical)
            fprintf(f, "<path class=\"grid\" d=\"M%.1f %.1fH%.1f\"/>\n"
                       "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                    other0, px, other1, other0 - 5, px + 4, lab);
        else
            fprintf(f, "<path class=\"grid\" d=\"M%.1f %.1fV%.1f\"/>\n"
                       "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                    px, other0, other1, px, other1 + 15, lab);
    }
}

static void frame(FILE *f, const struct axis *x, const struct axis *y, const char *ylabel,
                  bool xlabel)
{
    fprintf(f, "<path class=\"axis\" d=\"M%.1f %.1fH%.1fV%.1fH%.1fZ\"/>\n", x->p0, y->p1, x->p1,
            y->p0, x->p0);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 %.1f "
               "%.1f)\">%s</text>\n",
            20.0, (y->p0 + y->p1) / 2, 20.0, (y->p0 + y->p1) / 2, ylabel);
    if (xlabel)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">time (s)</text>\n",
                (x->p0 + x->p1) / 2, y->p0 + 35);
}

static void legend(FILE *f, double x, double y, const char *cls, const char *label)
{
    fprintf(f, "<path class=\"%s\" d=\"M%.1f %.1fh18\"/><text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
            cls, x, y - 4, x + 22, y, label);
}

static int finish(FILE *f)
{
    fputs("</svg>\n", f);
    return ferror(f) ? TERN_E_IO : TERN_OK;
}

/* Time range (seconds) of the TSG's stored points. */
static void tsg_ranges(const struct tern_tcpplot *p, struct axis *x, struct axis *y)
{
    bool any = false;
    double t0 = 0, t1 = 0, lo = 0, hi = 0;
#define TP_SEE(t, a, b)                                                                        \
    do {                                                                                       \
        double t_ = (double)(t) / 1e6, a_ = (double)(a), b_ = (double)(b);                     \
        if (!any) {                                                                            \
            t0 = t1 = t_;                                                                      \
            lo = hi = a_;                                                                      \
            any = true;                                                                        \
        }                                                                                      \
        t0 = fmin(t0, t_), t1 = fmax(t1, t_), lo = fmin(lo, fmin(a_, b_)), hi = fmax(hi, fmax(a_, b_)); \
    } while (0)
    for (int k = TP_SEG; k <= TP_RTX; k++)
        for (size_t i = 0; i < p->s[k].n; i++) {
            struct tp_seg s = TP_AT(&p->s[k], struct tp_seg, i);
            TP_SEE(s.t, s.seq, s.seq + s.len);
        }
    for (size_t i = 0; i < p->s[TP_ACK].n; i++) {
        struct tp_ack a = TP_AT(&p->s[TP_ACK], struct tp_ack, i);
        TP_SEE(a.t, a.ack, (double)a.ack + (double)a.win);
    }
    for (size_t i = 0; i < p->s[TP_SACK].n; i++) {
        struct tp_sack s = TP_AT(&p->s[TP_SACK], struct tp_sack, i);
        TP_SEE(s.t, s.left, s.right);
    }
#undef TP_SEE
    x->lo = t0, x->hi = t1, y->lo = fmin(lo, 0), y->hi = hi;
    ax_fix(x, 1e-3);
    x->hi += (x->hi - x->lo) * 0.02;
    ax_fix(y, 1000);
    y->hi += (y->hi - y->lo) * 0.03;
}

/* A step line through the ACK points: value(i) = ack or ack + window. */
static void ack_path(FILE *f, const struct tern_tcpplot *p, const struct axis *x,
                     const struct axis *y, bool window, const char *cls)
{
    const struct tp_series *s = &p->s[TP_ACK];
    if (s->n == 0)
        return;
    fprintf(f, "<path class=\"%s\" d=\"", cls);
    for (size_t i = 0; i < s->n; i++) {
        struct tp_ack a = TP_AT(s, struct tp_ack, i);
        double v = window ? (double)a.ack + (double)a.win : (double)a.ack;
        double px = ax_map(x, (double)a.t / 1e6), py = ax_map(y, v);
        if (i == 0)
            fprintf(f, "M%.1f %.1f", px, py);
        else
            fprintf(f, "H%.1fV%.1f", px, py);
    }
    fprintf(f, "H%.1f\"/>\n", x->p1);
}

int tcpplot_write_tsg(const struct tern_tcpplot *p, FILE *out, const char *title)
{
    if (!p || !out)
        return TERN_E_INVAL;
    const double H = 650, Y0 = 70, Y1 = H - 60;
    struct axis x = {.p0 = X0, .p1 = X1}, y = {.p0 = Y1, .p1 = Y0};
    tsg_ranges(p, &x, &y);
    svg_open(out, H, title, "time-sequence graph");
    char extra[200];
    const struct tp_series *seg = &p->s[TP_SEG], *rtx = &p->s[TP_RTX];
    int n = snprintf(extra, sizeof extra, " - %" PRIu64 " segments, %zu retransmitted",
                     seg->seen + rtx->seen, p->rtx);
    if (seg->n + rtx->n < seg->seen + rtx->seen)
        n += snprintf(extra + n, sizeof extra - (size_t)n, " (%zu drawn)", seg->n + rtx->n);
    if (!(p->syn_seen && p->synack_seen))
        snprintf(extra + n, sizeof extra - (size_t)n, "; handshake not seen: window unscaled");
    else if (p->snd_ws && p->rcv_ws_ok)
        snprintf(extra + n, sizeof extra - (size_t)n, "; window scale %u", p->rcv_ws);
    flow_line(out, p, extra);
    draw_axis(out, &x, false, AX_SECONDS, Y0, Y1);
    draw_axis(out, &y, true, AX_BYTES, X0, X1);
    frame(out, &x, &y, "relative sequence number", true);
    legend(out, 90, 54, "seg", "data");
    legend(out, 150, 54, "rtx-key", "retransmission");
    legend(out, 270, 54, "ack", "ACK");
    legend(out, 325, 54, "win", "window");
    legend(out, 400, 54, "sack", "SACK");
    ack_path(out, p, &x, &y, true, "win");
    /* SACK blocks first, beside their ACK and thin: the data bars drawn
     * after them stay visible where the two meet (a segment sent the
     * moment a SACK arrives sits at the same x). */
    if (p->s[TP_SACK].n) {
        fputs("<path class=\"sack\" d=\"", out);
        for (size_t i = 0; i < p->s[TP_SACK].n; i++) {
            struct tp_sack s = TP_AT(&p->s[TP_SACK], struct tp_sack, i);
            double px = ax_map(&x, (double)s.t / 1e6) + 3.5, yb = ax_map(&y, (double)s.left);
            fprintf(out, "M%.1f %.1fV%.1f", px, fmin(ax_map(&y, (double)s.right), yb - 1), yb);
        }
        fputs("\"/>\n", out);
    }
    if (seg->n) {
        fputs("<path class=\"seg\" d=\"", out);
        for (size_t i = 0; i < seg->n; i++) {
            struct tp_seg s = TP_AT(seg, struct tp_seg, i);
            double px = ax_map(&x, (double)s.t / 1e6), yb = ax_map(&y, (double)s.seq);
            double yt = fmin(ax_map(&y, (double)(s.seq + s.len)), yb - 1);
            fprintf(out, "M%.1f %.1fV%.1fm-2 0h4", px, yt, yb);
        }
        fputs("\"/>\n", out);
    }
    ack_path(out, p, &x, &y, false, "ack");
    /* Each retransmission: its bar and a diamond at its top, one element. */
    for (size_t i = 0; i < rtx->n; i++) {
        struct tp_seg s = TP_AT(rtx, struct tp_seg, i);
        double px = ax_map(&x, (double)s.t / 1e6), yb = ax_map(&y, (double)s.seq);
        double yt = fmin(ax_map(&y, (double)(s.seq + s.len)), yb - 1);
        fprintf(out, "<path class=\"rtx\" d=\"M%.1f %.1fV%.1fM%.1f %.1fl4 4l-4 4l-4 -4z\">"
                     "<title>retransmission at %.6f s: bytes %" PRId64 "-%" PRId64 "</title></path>\n",
                px, yt, yb, px, yt - 8, (double)s.t / 1e6, s.seq, s.seq + (int64_t)s.len);
    }
    if (!seg->n && !rtx->n && !p->s[TP_ACK].n)
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">no packets of this flow "
                     "seen</text>\n", (X0 + X1) / 2, (Y0 + Y1) / 2);
    return finish(out);
}

/* ssthresh above this many times the largest cwnd is drawn at the top edge
 * (dashed): "infinite" before the first loss (UINT32_MAX in tern). */
#define SSTHRESH_CLIP 4.0

int tcpplot_write_cwnd(const struct tern_tcpplot *p, FILE *out, const char *title)
{
    if (!p || !out)
        return TERN_E_INVAL;
    const double H = 720;
    const struct tp_series *s = &p->s[TP_SAMPLE];
    struct axis x = {.p0 = X0, .p1 = X1}, yc = {.p0 = 440, .p1 = 70}, yr = {.p0 = 660, .p1 = 480};
    double cmax = 0, smax = 0, rmax = 0;
    for (size_t i = 0; i < s->n; i++) {
        struct tp_sample m = TP_AT(s, struct tp_sample, i);
        double t = (double)m.t / 1e6;
        x.lo = i ? fmin(x.lo, t) : t;
        x.hi = i ? fmax(x.hi, t) : t;
        cmax = fmax(cmax, m.cwnd);
        rmax = fmax(rmax, m.rtt_us / 1000.0);
    }
    /* The time axis covers the retransmissions too: each one is marked. */
    for (size_t i = 0; i < p->s[TP_RTX].n; i++) {
        double t = (double)TP_AT(&p->s[TP_RTX], struct tp_seg, i).t / 1e6;
        bool first = i == 0 && s->n == 0;
        x.lo = first ? t : fmin(x.lo, t);
        x.hi = first ? t : fmax(x.hi, t);
    }
    double clip = fmax(cmax, 1000) * SSTHRESH_CLIP;
    for (size_t i = 0; i < s->n; i++) {
        double v = TP_AT(s, struct tp_sample, i).ssthresh;
        if (v < clip)
            smax = fmax(smax, v);
    }
    yc.lo = 0, yc.hi = fmax(cmax, smax) * 1.08;
    yr.lo = 0, yr.hi = rmax * 1.1;
    ax_fix(&x, 1e-3);
    x.hi += (x.hi - x.lo) * 0.02;
    ax_fix(&yc, 1000);
    if (yr.hi < 1)
        yr.hi = 1;
    svg_open(out, H, title, "congestion window, ssthresh and RTT");
    char extra[120];
    snprintf(extra, sizeof extra, " - %" PRIu64 " samples%s", s->seen,
             s->n < s->seen ? " (decimated)" : "");
    flow_line(out, p, extra);
    draw_axis(out, &x, false, AX_SECONDS, yc.p1, yc.p0);
    draw_axis(out, &yc, true, AX_BYTES, X0, X1);
    frame(out, &x, &yc, "bytes", false);
    draw_axis(out, &x, false, AX_SECONDS, yr.p1, yr.p0);
    draw_axis(out, &yr, true, AX_MS, X0, X1);
    frame(out, &x, &yr, "smoothed RTT (ms)", true);
    legend(out, 90, 54, "cwnd", "cwnd");
    legend(out, 150, 54, "ssthresh", "ssthresh");
    legend(out, 230, 54, "ssthresh-clip", "ssthresh infinite / off scale");
    legend(out, 410, 54, "rtt", "SRTT");
    legend(out, 470, 54, "rtx-key", "retransmission");
    /* Each retransmission the recorder kept: a red tick down from the top
     * of the window panel at its time, one element each (as in the TSG). */
    const struct tp_series *rx = &p->s[TP_RTX];
    for (size_t i = 0; i < rx->n; i++) {
        struct tp_seg g = TP_AT(rx, struct tp_seg, i);
        double t = (double)g.t / 1e6;
        double px = ax_map(&x, t);
        fprintf(out, "<path class=\"rtx\" d=\"M%.1f %.1fV%.1fM%.1f %.1fl4 -6h-8z\">"
                     "<title>retransmission at %.6f s: bytes %" PRId64 "-%" PRId64 "</title></path>\n",
                px, yc.p1, yc.p1 + 14, px, yc.p1 + 14, t, g.seq, g.seq + (int64_t)g.len);
    }
    if (s->n == 0) {
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">no samples</text>\n",
                (X0 + X1) / 2, 250.0);
        return finish(out);
    }
    /* Step lines; ssthresh splits into a finite path and a clipped one. */
    for (int pass = 0; pass < 4; pass++) {
        static const char *const cls[] = {"cwnd", "ssthresh", "ssthresh-clip", "rtt"};
        fprintf(out, "<path class=\"%s\" d=\"", cls[pass]);
        bool pen = false;
        for (size_t i = 0; i < s->n; i++) {
            struct tp_sample m = TP_AT(s, struct tp_sample, i);
            double px = ax_map(&x, (double)m.t / 1e6), v;
            bool on = true;
            if (pass == 0)
                v = ax_map(&yc, m.cwnd);
            else if (pass == 3)
                v = ax_map(&yr, m.rtt_us / 1000.0), on = m.rtt_us != 0;
            else
                on = (pass == 2) == (m.ssthresh >= clip),
                v = pass == 2 ? yc.p1 + 2 : ax_map(&yc, m.ssthresh);
            if (on && pen)
                fprintf(out, "H%.1fV%.1f", px, v);
            else if (on)
                fprintf(out, "M%.1f %.1f", px, v);
            else if (pen)
                fprintf(out, "H%.1f", px);
            pen = on;
        }
        fputs("\"/>\n", out);
    }
    return finish(out);
}

/* ---- line plots of several series (lineplot.h) ---- */

static const char *const palette[] = {"#00c", "#d00", "#080", "#c80", "#90c", "#0aa", "#666",
                                      "#a50"};

int sim_plot_write(FILE *out, const char *title, const char *subtitle,
                   const struct sim_plot_panel *panels, size_t npanels)
{
    if (!out || !panels || npanels == 0 || npanels > 4)
        return TERN_E_INVAL;
    const double ph = 260, gap = 60, top = 70 + 16.0 * 2;
    size_t nlegend = 0;
    for (size_t k = 0; k < npanels; k++)
        nlegend = panels[k].ns > nlegend ? panels[k].ns : nlegend;
    double ltop = top + (double)(nlegend > 2 ? nlegend - 2 : 0) * 16;
    const double H = ltop + (double)npanels * (ph + gap) + 10;
    struct axis x = {.p0 = X0, .p1 = X1};
    bool any = false;
    for (size_t k = 0; k < npanels; k++)
        for (size_t j = 0; j < panels[k].ns; j++)
            for (size_t i = 0; i < panels[k].s[j].n; i++) {
                double t = panels[k].s[j].t[i];
                x.lo = any ? fmin(x.lo, t) : t;
                x.hi = any ? fmax(x.hi, t) : t;
                any = true;
            }
    ax_fix(&x, 1e-3);
    x.hi += (x.hi - x.lo) * 0.02;
    svg_open(out, H, title, "plot");
    fputs("<text x=\"90\" y=\"36\">", out);
    xml_text(out, subtitle);
    fputs("</text>\n", out);
    /* Legend: one line per series of the first panel that has the most. */
    for (size_t k = 0; k < npanels; k++) {
        if (panels[k].ns != nlegend)
            continue;
        for (size_t j = 0; j < nlegend; j++) {
            double ly = 56 + 16.0 * (double)j;
            fprintf(out, "<path d=\"M90 %.1fh18\" stroke=\"%s\" stroke-width=\"2\"/>"
                         "<text x=\"112\" y=\"%.1f\">",
                    ly - 4, palette[j % 8], ly);
            xml_text(out, panels[k].s[j].label);
            fputs("</text>\n", out);
        }
        break;
    }
    for (size_t k = 0; k < npanels; k++) {
        const struct sim_plot_panel *pn = &panels[k];
        double p1 = ltop + (double)k * (ph + gap), p0 = p1 + ph;
        struct axis y = {.p0 = p0, .p1 = p1, .lo = 0, .hi = 0};
        for (size_t j = 0; j < pn->ns; j++)
            for (size_t i = 0; i < pn->s[j].n; i++)
                y.hi = fmax(y.hi, pn->s[j].v[i]);
        y.hi *= 1.08;
        ax_fix(&y, pn->unit == SIM_PLOT_BYTES ? 1000 : 1e-3);
        if (y.lo < 0) {
            y.hi -= y.lo;
            y.lo = 0;
        }
        draw_axis(out, &x, false, AX_SECONDS, y.p1, y.p0);
        draw_axis(out, &y, true, pn->unit == SIM_PLOT_BYTES ? AX_BYTES : AX_MS, X0, X1);
        frame(out, &x, &y, pn->ylabel, k + 1 == npanels);
        for (size_t j = 0; j < pn->ns; j++) {
            const struct sim_plot_series *s = &pn->s[j];
            if (!s->n)
                continue;
            fprintf(out, "<path class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.2\" d=\"",
                    s->cls ? s->cls : "series", palette[j % 8]);
            for (size_t i = 0; i < s->n; i++)
                fprintf(out, "%c%.1f %.1f", i ? 'L' : 'M', ax_map(&x, s->t[i]),
                        ax_map(&y, s->v[i]));
            fputs("\"/>\n", out);
        }
    }
    return finish(out);
}
