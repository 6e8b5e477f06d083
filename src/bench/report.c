/*
 * report.c — the HTML report of a bench run or scenario: one self-contained
 * file (inline CSS and SVG, no script, no font, no network), so it opens in
 * any browser offline and can be attached to a ticket.
 *
 * Contents: a table per step (settings, throughput, percentiles, errors by
 * kind), then three plots drawn here as SVG:
 *   - throughput over time, 1 s buckets, one colour per step, errors/s in
 *     red, actions between steps as dashed vertical lines;
 *   - p50 and p99 latency over time (log scale);
 *   - latency by percentile for each step (x: 0, 90, 99, 99.9 ... % on the
 *     usual 1/(1-q) log scale; y: log latency), the HdrHistogram plot.
 * Every point carries a <title>, so hovering shows its exact value.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "core/alloc.h"
#include "core/util.h"

#define W 900
#define H 320
#define ML 70   /* margins: left, right, top (legend rows above it), bottom */
#define MR 45
#define MB 45

static int plot_top = 30; /* set per plot by legend_rows(): the legend sits above the frame */

static void legend_rows(size_t items)
{
    plot_top = 14 + 16 * (int)((items + 3) / 4);
}

static const char *const colors[] = {"#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};
#define NCOLORS (sizeof colors / sizeof colors[0])

static void esc(struct buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': buf_puts(b, "&lt;"); break;
        case '>': buf_puts(b, "&gt;"); break;
        case '&': buf_puts(b, "&amp;"); break;
        case '"': buf_puts(b, "&quot;"); break;
        default: buf_putc(b, *s);
        }
    }
}

static const char *step_name(const struct bench_step *s, size_t i, char *tmp, size_t cap)
{
    if (s->cfg.name && *s->cfg.name)
        return s->cfg.name;
    snprintf(tmp, cap, "step %zu", i + 1);
    return tmp;
}

/* ---- axes ------------------------------------------------------------------- */

struct axis {
    double lo, hi;
    bool log;
    int a, b;      /* pixel range */
};

static double ax_px(const struct axis *ax, double v)
{
    double f;
    if (ax->log) {
        if (v < ax->lo)
            v = ax->lo;
        f = (log10(v) - log10(ax->lo)) / (log10(ax->hi) - log10(ax->lo));
    } else {
        f = (v - ax->lo) / (ax->hi - ax->lo);
    }
    return ax->a + f * (ax->b - ax->a);
}

static double nice_step(double range, int target)
{
    double raw = range / target;
    double p = pow(10, floor(log10(raw)));
    double m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void fmt_num(char *dst, size_t cap, double v)
{
    if (v >= 1e6)
        snprintf(dst, cap, "%gM", v / 1e6);
    else if (v >= 1e4)
        snprintf(dst, cap, "%gk", v / 1e3);
    else
        snprintf(dst, cap, "%g", v);
}

/* Frame, grid and labels of a plot; y values in ns when ns_axis. */
static void frame(struct buf *b, const struct axis *x, const struct axis *y, const char *xlabel,
                  const char *ylabel, bool x_pct, bool ns_axis)
{
    buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
                  "font-family=\"sans-serif\" font-size=\"11\">\n", W, H, W, H);
    buf_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fff\" stroke=\"#999\"/>\n", ML, plot_top,
               W - ML - MR, H - plot_top - MB);
    /* y grid */
    if (y->log) {
        for (double v = pow(10, ceil(log10(y->lo))); v <= y->hi * 1.0001; v *= 10) {
            double py = ax_px(y, v);
            char t[32];
            if (ns_axis)
                bench_format_ns(t, sizeof t, (uint64_t)v);
            else
                fmt_num(t, sizeof t, v);
            buf_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>"
                          "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                       ML, W - MR, py, py, ML - 5, py + 4, t);
        }
    } else {
        double st = nice_step(y->hi - y->lo, 5);
        for (double v = ceil(y->lo / st) * st; v <= y->hi * 1.0001; v += st) {
            double py = ax_px(y, v);
            char t[32];
            fmt_num(t, sizeof t, v);
            buf_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>"
                          "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                       ML, W - MR, py, py, ML - 5, py + 4, t);
        }
    }
    /* x grid */
    if (x_pct) {
        static const double ticks[] = {0, 90, 99, 99.9, 99.99, 99.999, 99.9999};
        static const char *const labels[] = {"0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"};
        for (size_t i = 0; i < sizeof ticks / sizeof ticks[0]; i++) {
            double v = 1.0 / (1.0 - ticks[i] / 100.0);
            if (v > x->hi * 1.0001)
                break;
            double px = ax_px(x, v);
            buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#e4e4e4\"/>"
                          "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                       px, px, plot_top, H - MB, px, H - MB + 15, labels[i]);
        }
    } else {
        double st = nice_step(x->hi - x->lo, 10);
        for (double v = ceil(x->lo / st) * st; v <= x->hi * 1.0001; v += st) {
            double px = ax_px(x, v);
            buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#e4e4e4\"/>"
                          "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n",
                       px, px, plot_top, H - MB, px, H - MB + 15, v);
        }
    }
    buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", (ML + W - MR) / 2, H - 8, xlabel);
    buf_printf(b, "<text transform=\"translate(14 %d) rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
               (plot_top + H - MB) / 2, ylabel);
}

static void legend(struct buf *b, int i, const char *color, const char *text, bool dashed)
{
    int x = ML + (i % 4) * 200, y = 14 + (i / 4) * 16;
    buf_printf(b, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>"
                  "<text x=\"%d\" y=\"%d\">",
               x, x + 20, y - 4, y - 4, color, dashed ? " stroke-dasharray=\"5 3\"" : "", x + 25, y);
    esc(b, text);
    buf_puts(b, "</text>\n");
}

/* ---- plots ------------------------------------------------------------------- */

static double time_end(const struct bench_report *r)
{
    double end = 1;
    for (size_t i = 0; i < r->nsteps; i++)
        for (size_t k = 0; k < r->steps[i].npoints; k++) {
            const struct bench_point *p = &r->steps[i].points[k];
            if (p->t + p->dt > end)
                end = p->t + p->dt;
        }
    for (size_t i = 0; i < r->nactions; i++)
        if (r->actions[i].t > end)
            end = r->actions[i].t;
    return end;
}

static void actions_marks(struct buf *b, const struct bench_report *r, const struct axis *x)
{
    for (size_t i = 0; i < r->nactions; i++) {
        double px = ax_px(x, r->actions[i].t);
        buf_printf(b, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#d62728\" stroke-dasharray=\"4 3\">"
                      "<title>", px, px, plot_top, H - MB);
        esc(b, r->actions[i].text);
        buf_puts(b, "</title></line>\n");
    }
}

static void plot_throughput(struct buf *b, const struct bench_report *r)
{
    double ymax = 1;
    for (size_t i = 0; i < r->nsteps; i++)
        for (size_t k = 0; k < r->steps[i].npoints; k++) {
            const struct bench_point *p = &r->steps[i].points[k];
            if (p->dt <= 0)
                continue;
            double v = (double)(p->done > p->errors ? p->done : p->errors) / p->dt;
            if (v > ymax)
                ymax = v;
        }
    bool any_err = false;
    for (size_t i = 0; i < r->nsteps; i++)
        for (size_t k = 0; k < r->steps[i].npoints; k++)
            if (r->steps[i].points[k].errors)
                any_err = true;
    legend_rows(r->nsteps + any_err);
    struct axis x = {0, time_end(r), false, ML, W - MR};
    struct axis y = {0, ymax * 1.1, false, H - MB, plot_top};
    frame(b, &x, &y, "time (s)", "requests/s", false, false);
    actions_marks(b, r, &x);
    for (size_t i = 0; i < r->nsteps; i++) {
        const struct bench_step *s = &r->steps[i];
        const char *col = colors[i % NCOLORS];
        buf_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", col);
        for (size_t k = 0; k < s->npoints; k++) {
            const struct bench_point *p = &s->points[k];
            double v = p->dt > 0 ? (double)p->done / p->dt : 0;
            buf_printf(b, "%.1f,%.1f ", ax_px(&x, p->t + p->dt / 2), ax_px(&y, v));
        }
        buf_puts(b, "\"/>\n");
        for (size_t k = 0; k < s->npoints; k++) {
            const struct bench_point *p = &s->points[k];
            double v = p->dt > 0 ? (double)p->done / p->dt : 0;
            buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"><title>t=%.1fs: %.0f req/s, "
                          "%llu errors</title></circle>\n",
                       ax_px(&x, p->t + p->dt / 2), ax_px(&y, v), col, p->t, v, (unsigned long long)p->errors);
        }
    }
    if (any_err) {
        for (size_t i = 0; i < r->nsteps; i++) {
            const struct bench_step *s = &r->steps[i];
            buf_puts(b, "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\" points=\"");
            for (size_t k = 0; k < s->npoints; k++) {
                const struct bench_point *p = &s->points[k];
                double v = p->dt > 0 ? (double)p->errors / p->dt : 0;
                buf_printf(b, "%.1f,%.1f ", ax_px(&x, p->t + p->dt / 2), ax_px(&y, v));
            }
            buf_puts(b, "\"/>\n");
        }
    }
    int li = 0;
    char tmp[32];
    for (size_t i = 0; i < r->nsteps; i++)
        legend(b, li++, colors[i % NCOLORS], step_name(&r->steps[i], i, tmp, sizeof tmp), false);
    if (any_err)
        legend(b, li++, "#d62728", "errors/s", false);
    buf_puts(b, "</svg>\n");
}

static void latency_range(const struct bench_report *r, double *lo, double *hi, bool curve)
{
    double mn = 1e300, mx = 0;
    for (size_t i = 0; i < r->nsteps; i++) {
        const struct bench_step *s = &r->steps[i];
        if (curve) {
            if (s->hist->total) {
                if ((double)s->hist->min < mn)
                    mn = (double)s->hist->min;
                if ((double)s->hist->max > mx)
                    mx = (double)s->hist->max;
            }
            continue;
        }
        for (size_t k = 0; k < s->npoints; k++) {
            const struct bench_point *p = &s->points[k];
            if (!p->done)
                continue;
            if ((double)p->p50 < mn)
                mn = (double)p->p50;
            if ((double)p->p99 > mx)
                mx = (double)p->p99;
        }
    }
    if (mx <= 0) {
        mn = 1e3;
        mx = 1e6;
    }
    if (mn < 1)
        mn = 1;
    *lo = pow(10, floor(log10(mn)));
    *hi = pow(10, ceil(log10(mx * 1.0001)));
    if (*hi <= *lo)
        *hi = *lo * 10;
}

static void plot_latency(struct buf *b, const struct bench_report *r)
{
    double lo, hi;
    latency_range(r, &lo, &hi, false);
    legend_rows(2);
    struct axis x = {0, time_end(r), false, ML, W - MR};
    struct axis y = {lo, hi, true, H - MB, plot_top};
    frame(b, &x, &y, "time (s)", "latency", false, true);
    actions_marks(b, r, &x);
    static const char *const series_color[2] = {"#1f77b4", "#ff7f0e"};
    for (int which = 0; which < 2; which++) {
        for (size_t i = 0; i < r->nsteps; i++) {
            const struct bench_step *s = &r->steps[i];
            buf_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", series_color[which]);
            for (size_t k = 0; k < s->npoints; k++) {
                const struct bench_point *p = &s->points[k];
                if (!p->done)
                    continue;
                buf_printf(b, "%.1f,%.1f ", ax_px(&x, p->t + p->dt / 2),
                           ax_px(&y, (double)(which ? p->p99 : p->p50)));
            }
            buf_puts(b, "\"/>\n");
            for (size_t k = 0; k < s->npoints; k++) {
                const struct bench_point *p = &s->points[k];
                if (!p->done)
                    continue;
                char t[32];
                bench_format_ns(t, sizeof t, which ? p->p99 : p->p50);
                buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"><title>t=%.1fs: %s %s"
                              "</title></circle>\n",
                           ax_px(&x, p->t + p->dt / 2), ax_px(&y, (double)(which ? p->p99 : p->p50)),
                           series_color[which], p->t, which ? "p99" : "p50", t);
            }
        }
    }
    legend(b, 0, series_color[0], "p50", false);
    legend(b, 1, series_color[1], "p99", false);
    buf_puts(b, "</svg>\n");
}

static void plot_curve(struct buf *b, const struct bench_report *r)
{
    double lo, hi;
    latency_range(r, &lo, &hi, true);
    legend_rows(r->nsteps);
    double xmax = 10;
    for (size_t i = 0; i < r->nsteps; i++) {
        double n = (double)r->steps[i].hist->total;
        if (n > xmax)
            xmax = n;
    }
    xmax = pow(10, ceil(log10(xmax)));
    if (xmax > 1e6)
        xmax = 1e6;
    struct axis x = {1, xmax, true, ML, W - MR};
    struct axis y = {lo, hi, true, H - MB, plot_top};
    frame(b, &x, &y, "percentile", "latency", true, true);
    char tmp[32];
    for (size_t i = 0; i < r->nsteps; i++) {
        const struct bench_step *s = &r->steps[i];
        double qs[80];
        uint64_t vals[80];
        size_t n = bench_curve(s->hist, qs, vals, 80);
        const char *col = colors[i % NCOLORS];
        buf_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", col);
        for (size_t k = 0; k < n; k++) {
            double xv = qs[k] >= 100 ? xmax : 1.0 / (1.0 - qs[k] / 100.0);
            if (xv > xmax)
                xv = xmax;
            buf_printf(b, "%.1f,%.1f ", ax_px(&x, xv), ax_px(&y, (double)vals[k]));
        }
        buf_puts(b, "\"/>\n");
        for (size_t k = 0; k < n; k++) {
            double xv = qs[k] >= 100 ? xmax : 1.0 / (1.0 - qs[k] / 100.0);
            if (xv > xmax)
                xv = xmax;
            char t[32];
            bench_format_ns(t, sizeof t, vals[k]);
            buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" fill=\"%s\"><title>", ax_px(&x, xv),
                       ax_px(&y, (double)vals[k]), col);
            esc(b, step_name(s, i, tmp, sizeof tmp));
            buf_printf(b, ": p%g = %s</title></circle>\n", qs[k], t);
        }
        legend(b, (int)i, col, step_name(s, i, tmp, sizeof tmp), false);
    }
    buf_puts(b, "</svg>\n");
}

/* ---- tables ------------------------------------------------------------------- */

static void td_ns(struct buf *b, uint64_t ns)
{
    char t[32];
    bench_format_ns(t, sizeof t, ns);
    buf_printf(b, "<td>%s</td>", t);
}

static void step_table(struct buf *b, const struct bench_report *r)
{
    buf_puts(b, "<table><tr><th>step</th><th>target</th><th>settings</th><th>requests</th><th>req/s</th>"
                "<th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>errors</th></tr>\n");
    char tmp[32];
    for (size_t i = 0; i < r->nsteps; i++) {
        const struct bench_step *s = &r->steps[i];
        buf_printf(b, "<tr><td><span class=\"sw\" style=\"background:%s\"></span>", colors[i % NCOLORS]);
        esc(b, step_name(s, i, tmp, sizeof tmp));
        buf_puts(b, "</td><td>");
        esc(b, s->cfg.target);
        buf_puts(b, "</td><td>");
        struct buf d;
        buf_init(&d);
        bench_config_describe(&s->cfg, &d);
        buf_putc(&d, '\0');
        esc(b, buf_head(&d));
        buf_deinit(&d);
        buf_printf(b, "</td><td>%llu</td><td>%.1f</td>", (unsigned long long)s->c.done,
                   s->elapsed > 0 ? (double)s->c.done / s->elapsed : 0.0);
        static const double qs[] = {50, 90, 99, 99.9, 100};
        uint64_t v[5];
        hist_percentiles(s->hist, qs, 5, v);
        for (int k = 0; k < 5; k++)
            td_ns(b, v[k]);
        uint64_t errs = bench_counts_errors(&s->c);
        buf_printf(b, "<td%s>%llu", errs ? " class=\"bad\"" : "", (unsigned long long)errs);
        if (errs) {
            const char *sep = " (";
            for (int k = 0; k < BENCH_ERR__COUNT; k++) {
                if (!s->c.errors[k])
                    continue;
                buf_printf(b, "%s%s %llu", sep, bench_err_keys[k], (unsigned long long)s->c.errors[k]);
                sep = ", ";
            }
            buf_puts(b, ")");
        }
        if (s->c.retried)
            buf_printf(b, "; %llu retried", (unsigned long long)s->c.retried);
        buf_puts(b, "</td></tr>\n");
    }
    buf_puts(b, "</table>\n");
    for (size_t i = 0; i < r->nsteps; i++) {
        const struct bench_step *s = &r->steps[i];
        if (!s->first_error[0] && !s->c.unsent && !s->interrupted)
            continue;
        buf_puts(b, "<p class=\"note\">");
        esc(b, step_name(s, i, tmp, sizeof tmp));
        buf_puts(b, ":");
        if (s->first_error[0]) {
            buf_puts(b, " first error: ");
            esc(b, s->first_error);
            buf_puts(b, ".");
        }
        if (s->c.unsent)
            buf_printf(b, " %llu requests were due but never sent (too few connections for the rate).",
                       (unsigned long long)s->c.unsent);
        if (s->interrupted)
            buf_puts(b, " Interrupted.");
        buf_puts(b, "</p>\n");
    }
}

void bench_report_html(const struct bench_report *r, struct buf *b)
{
    buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>");
    esc(b, r->scenario ? r->scenario : "scaleout bench");
    buf_puts(b, " — scaleout bench</title>\n<style>\n"
                "body{font-family:sans-serif;margin:24px;color:#222;max-width:960px}\n"
                "h1{font-size:20px}h2{font-size:16px;margin-top:28px}\n"
                "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:3px 6px;"
                "text-align:right}td:first-child,td:nth-child(2),td:nth-child(3),th{text-align:left}\n"
                ".sw{display:inline-block;width:10px;height:10px;margin-right:5px}.bad{color:#b00}\n"
                ".note{font-size:12px;color:#555}svg{display:block;margin:8px 0}\n"
                "</style></head><body>\n<h1>scaleout bench");
    if (r->scenario) {
        buf_puts(b, " — ");
        esc(b, r->scenario);
    }
    buf_puts(b, "</h1>\n<p class=\"note\">Started ");
    esc(b, r->started);
    buf_printf(b, "; %zu step%s", r->nsteps, r->nsteps == 1 ? "" : "s");
    if (r->nactions)
        buf_printf(b, ", %zu action%s", r->nactions, r->nactions == 1 ? "" : "s");
    buf_puts(b, ". Open-loop steps measure latency from each request's scheduled send time "
                "(coordinated omission corrected).</p>\n<h2>Steps</h2>\n");
    step_table(b, r);
    if (r->nactions) {
        buf_puts(b, "<h2>Actions</h2>\n<table><tr><th>at</th><th>action</th><th>exit status</th></tr>\n");
        for (size_t i = 0; i < r->nactions; i++) {
            buf_printf(b, "<tr><td>%.1fs</td><td>", r->actions[i].t);
            esc(b, r->actions[i].text);
            if (r->actions[i].status < 0)
                buf_puts(b, "</td><td>-</td></tr>\n");
            else
                buf_printf(b, "</td><td>%d</td></tr>\n", r->actions[i].status);
        }
        buf_puts(b, "</table>\n");
    }
    buf_puts(b, "<h2>Throughput (1 s buckets)</h2>\n");
    plot_throughput(b, r);
    buf_puts(b, "<h2>Latency over time: p50 and p99 (1 s buckets)</h2>\n");
    plot_latency(b, r);
    buf_puts(b, "<h2>Latency by percentile</h2>\n");
    plot_curve(b, r);
    buf_puts(b, "<p class=\"note\">Generated by scaleout bench. Percentiles come from a log-linear histogram "
                "with under 1% relative error.</p>\n</body></html>\n");
}

int bench_write_html(const struct bench_report *r, const char *path, char *err, size_t errlen)
{
    struct buf b;
    buf_init(&b);
    bench_report_html(r, &b);
    int rc = util_write_file(path, buf_head(&b), buf_pending(&b), err, errlen);
    buf_deinit(&b);
    return rc;
}
