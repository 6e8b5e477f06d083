/*
 * output.c — what bench prints and writes: the text summary of a step and
 * the --json file (every figure, for scripts). The HTML report is report.c.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "core/alloc.h"
#include "core/util.h"

static const double summary_qs[] = {
#define BENCH_X_Q(q, name) q,
    BENCH_PCTS(BENCH_X_Q)
#undef BENCH_X_Q
};
static const char *const summary_names[] = {
#define BENCH_X_N(q, name) name,
    BENCH_PCTS(BENCH_X_N)
#undef BENCH_X_N
};
#define NSUMMARY (sizeof summary_qs / sizeof summary_qs[0])

void bench_format_ns(char *dst, size_t cap, uint64_t ns)
{
    double v = (double)ns;
    if (ns < 1000)
        snprintf(dst, cap, "%lluns", (unsigned long long)ns);
    else if (v < 1e4)
        snprintf(dst, cap, "%.2fus", v / 1e3);
    else if (v < 1e5)
        snprintf(dst, cap, "%.1fus", v / 1e3);
    else if (v < 1e6)
        snprintf(dst, cap, "%.0fus", v / 1e3);
    else if (v < 1e7)
        snprintf(dst, cap, "%.2fms", v / 1e6);
    else if (v < 1e8)
        snprintf(dst, cap, "%.1fms", v / 1e6);
    else if (v < 1e9)
        snprintf(dst, cap, "%.0fms", v / 1e6);
    else if (v < 1e10)
        snprintf(dst, cap, "%.2fs", v / 1e9);
    else
        snprintf(dst, cap, "%.1fs", v / 1e9);
}

size_t bench_curve(const struct hist *h, double *qs, uint64_t *vals, size_t cap)
{
    size_t n = 0;
    if (h->total == 0 || cap < 2)
        return 0;
    /* 10 points per decade of 1/(1-q): 0, 20.6, 36.9 ... 90, ... 99, ... 99.999 */
    for (int i = 0; i <= 60 && n + 1 < cap; i++) {
        double tail = pow(10.0, -i / 10.0);
        if (tail * (double)h->total < 1.0)
            break; /* finer than one value: only the max is left */
        qs[n++] = 100.0 * (1.0 - tail);
    }
    qs[n++] = 100.0;
    hist_percentiles(h, qs, n, vals);
    return n;
}

static void thousands(char *dst, size_t cap, unsigned long long v)
{
    char tmp[32];
    int len = snprintf(tmp, sizeof tmp, "%llu", v);
    size_t o = 0;
    for (int i = 0; i < len && o + 2 < cap; i++) {
        if (i && (len - i) % 3 == 0)
            dst[o++] = ',';
        dst[o++] = tmp[i];
    }
    dst[o] = '\0';
}

static void human_bytes(char *dst, size_t cap, uint64_t b)
{
    if (b < 10 * 1024)
        snprintf(dst, cap, "%llu B", (unsigned long long)b);
    else if (b < 10 * 1024 * 1024)
        snprintf(dst, cap, "%.1f KiB", (double)b / 1024);
    else if (b < 10ULL * 1024 * 1024 * 1024)
        snprintf(dst, cap, "%.1f MiB", (double)b / (1024.0 * 1024));
    else
        snprintf(dst, cap, "%.1f GiB", (double)b / (1024.0 * 1024 * 1024));
}

void bench_print_step(FILE *f, const struct bench_step *s)
{
    struct buf d;
    buf_init(&d);
    bench_config_describe(&s->cfg, &d);
    fprintf(f, "%s%s%s — %.*s\n", s->cfg.name && *s->cfg.name ? s->cfg.name : "",
            s->cfg.name && *s->cfg.name ? ": " : "", s->cfg.target, (int)buf_pending(&d), buf_head(&d));
    buf_deinit(&d);

    char a[32], b[32], in[32], out[32];
    thousands(a, sizeof a, s->c.done);
    thousands(b, sizeof b, s->c.sent);
    human_bytes(in, sizeof in, s->c.bytes_in);
    human_bytes(out, sizeof out, s->c.bytes_out);
    double rps = s->elapsed > 0 ? (double)s->c.done / s->elapsed : 0;
    fprintf(f, "  requests    %s in %.2fs = %.1f req/s (sent %s; %s in, %s out)\n", a, s->elapsed, rps, b, in, out);

    if (s->hist->total) {
        uint64_t v[NSUMMARY];
        hist_percentiles(s->hist, summary_qs, NSUMMARY, v);
        fprintf(f, "  latency    ");
        for (size_t i = 0; i < NSUMMARY; i++) {
            if (summary_qs[i] > 99.9 && s->hist->total < 10000)
                continue; /* p99.99 of fewer than 10k values is the max */
            char t[32];
            bench_format_ns(t, sizeof t, v[i]);
            fprintf(f, " %s %s", summary_names[i], t);
        }
        char mx[32], mean[32], sd[32];
        bench_format_ns(mx, sizeof mx, s->hist->max);
        bench_format_ns(mean, sizeof mean, (uint64_t)hist_mean(s->hist));
        bench_format_ns(sd, sizeof sd, (uint64_t)hist_stdev(s->hist));
        fprintf(f, "  max %s  (mean %s, stdev %s)%s\n", mx, mean, sd,
                s->cfg.rate > 0 ? " from the scheduled send times" : "");
    } else {
        fprintf(f, "  latency     no responses\n");
    }

    if (s->c.status[1] + s->c.status[2] + s->c.status[3] + s->c.status[4] + s->c.status[5]) {
        fprintf(f, "  status     ");
        for (int i = 1; i <= 5; i++)
            if (s->c.status[i])
                fprintf(f, " %dxx %llu", i, (unsigned long long)s->c.status[i]);
        fprintf(f, "\n");
    }
    uint64_t errs = bench_counts_errors(&s->c);
    if (errs) {
        fprintf(f, "  errors      %llu:", (unsigned long long)errs);
        const char *sep = " ";
        for (int i = 0; i < BENCH_ERR__COUNT; i++) {
            if (!s->c.errors[i])
                continue;
            fprintf(f, "%s%s %llu", sep, bench_err_keys[i], (unsigned long long)s->c.errors[i]);
            sep = ", ";
        }
        fprintf(f, "\n");
        if (s->first_error[0])
            fprintf(f, "  first error %s\n", s->first_error);
    } else {
        fprintf(f, "  errors      none\n");
    }
    if (s->c.retried)
        fprintf(f, "  retried     %llu (idempotent requests resent on a new connection after theirs closed "
                   "before any byte of the answer; not errors)\n", (unsigned long long)s->c.retried);
    fprintf(f, "  connections %llu opened", (unsigned long long)s->c.connects);
    if (s->c.reconnects)
        fprintf(f, " (%llu reconnects: the server closed a connection, or it was lost)",
                (unsigned long long)s->c.reconnects);
    fprintf(f, "\n");
    if (s->c.unsent)
        fprintf(f, "  note        %llu requests were due but never sent: the connections could not keep up with "
                   "the rate (add -c)\n", (unsigned long long)s->c.unsent);
    if (s->c.cancelled)
        fprintf(f, "  note        %llu requests were still in flight when the step ended (not counted)\n",
                (unsigned long long)s->c.cancelled);
    if (s->gave_up)
        fprintf(f, "  note        gave up: nothing answered or connected for the whole timeout\n");
    if (s->interrupted)
        fprintf(f, "  note        interrupted\n");
}

/* ---- JSON ------------------------------------------------------------------ */

static void json_str(struct buf *b, const char *s)
{
    if (!s) {
        buf_puts(b, "null");
        return;
    }
    buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, (char)*p);
        } else if (*p < 0x20 || *p >= 0x7f) {
            /* control bytes, and bytes of server text that may not be UTF-8 */
            buf_printf(b, "\\u%04x", *p);
        } else {
            buf_putc(b, (char)*p);
        }
    }
    buf_putc(b, '"');
}

static void json_us(struct buf *b, uint64_t ns) { buf_printf(b, "%.3f", (double)ns / 1e3); }

static void json_step(struct buf *b, const struct bench_step *s)
{
    const struct bench_config *c = &s->cfg;
    buf_puts(b, "{\"name\": ");
    json_str(b, c->name && *c->name ? c->name : NULL);
    buf_puts(b, ", \"target\": ");
    json_str(b, c->target);
    buf_puts(b, ", \"protocol\": ");
    json_str(b, s->proto_name);
    buf_printf(b, ", \"mode\": \"%s\", \"connections\": %lld, \"threads\": %lld, \"pipeline\": %lld, \"rate\": %lld",
               c->rate > 0 ? "open" : "closed", c->connections, c->threads, c->pipeline, c->rate);
    buf_printf(b, ", \"duration_s\": %.3f, \"requests_planned\": %lld, \"timeout_s\": %.3f",
               (double)(c->duration_ms ? c->duration_ms : (c->requests ? 0 : 10000)) / 1e3, c->requests,
               (double)c->timeout_ms / 1e3);
    buf_printf(b, ",\n   \"start_s\": %.6f, \"elapsed_s\": %.6f", s->start, s->elapsed);
    buf_printf(b, ", \"requests\": %llu, \"sent\": %llu, \"requests_per_s\": %.3f",
               (unsigned long long)s->c.done, (unsigned long long)s->c.sent,
               s->elapsed > 0 ? (double)s->c.done / s->elapsed : 0.0);
    buf_printf(b, ", \"bytes_in\": %llu, \"bytes_out\": %llu", (unsigned long long)s->c.bytes_in,
               (unsigned long long)s->c.bytes_out);

    buf_puts(b, ",\n   \"latency_us\": {");
    if (s->hist->total) {
        buf_puts(b, "\"min\": ");
        json_us(b, s->hist->min);
        buf_printf(b, ", \"mean\": %.3f, \"stdev\": %.3f", hist_mean(s->hist) / 1e3,
                   hist_stdev(s->hist) / 1e3);
        uint64_t v[NSUMMARY];
        hist_percentiles(s->hist, summary_qs, NSUMMARY, v);
        for (size_t i = 0; i < NSUMMARY; i++) {
            buf_printf(b, ", \"%s\": ", summary_names[i]);
            json_us(b, v[i]);
        }
        buf_puts(b, ", \"max\": ");
        json_us(b, s->hist->max);
    }
    buf_puts(b, "}");

    buf_printf(b, ",\n   \"errors\": {\"total\": %llu", (unsigned long long)bench_counts_errors(&s->c));
    for (int i = 0; i < BENCH_ERR__COUNT; i++)
        buf_printf(b, ", \"%s\": %llu", bench_err_keys[i], (unsigned long long)s->c.errors[i]);
    buf_printf(b, "}, \"retried\": %llu, \"status\": {", (unsigned long long)s->c.retried);
    for (int i = 1; i <= 5; i++)
        buf_printf(b, "%s\"%dxx\": %llu", i > 1 ? ", " : "", i, (unsigned long long)s->c.status[i]);
    buf_printf(b, "},\n   \"connects\": %llu, \"reconnects\": %llu, \"cancelled\": %llu, \"unsent\": %llu",
               (unsigned long long)s->c.connects, (unsigned long long)s->c.reconnects,
               (unsigned long long)s->c.cancelled, (unsigned long long)s->c.unsent);
    buf_printf(b, ", \"interrupted\": %s, \"gave_up\": %s, \"first_error\": ", s->interrupted ? "true" : "false",
               s->gave_up ? "true" : "false");
    json_str(b, s->first_error[0] ? s->first_error : NULL);

    buf_puts(b, ",\n   \"timeline\": [");
    for (size_t i = 0; i < s->npoints; i++) {
        const struct bench_point *p = &s->points[i];
        buf_printf(b, "%s\n    {\"t\": %.3f, \"dt\": %.3f, \"requests\": %llu, \"sent\": %llu, "
                      "\"requests_per_s\": %.1f, \"errors\": %llu, \"p50_us\": ",
                   i ? "," : "", p->t, p->dt, (unsigned long long)p->done, (unsigned long long)p->sent,
                   p->dt > 0 ? (double)p->done / p->dt : 0.0, (unsigned long long)p->errors);
        json_us(b, p->p50);
        buf_puts(b, ", \"p90_us\": ");
        json_us(b, p->p90);
        buf_puts(b, ", \"p99_us\": ");
        json_us(b, p->p99);
        buf_puts(b, ", \"max_us\": ");
        json_us(b, p->max);
        buf_puts(b, "}");
    }
    buf_puts(b, "],\n   \"percentile_curve\": [");
    double qs[80];
    uint64_t vals[80];
    size_t n = bench_curve(s->hist, qs, vals, 80);
    for (size_t i = 0; i < n; i++) {
        buf_printf(b, "%s{\"percentile\": %.6f, \"latency_us\": ", i ? ", " : "", qs[i]);
        json_us(b, vals[i]);
        buf_puts(b, "}");
    }
    buf_puts(b, "],\n   \"histogram_us\": [");
    struct hist_iter it = {0};
    bool first = true;
    while (hist_next(s->hist, &it)) {
        buf_printf(b, "%s[", first ? "" : ", ");
        json_us(b, it.lo);
        buf_puts(b, ", ");
        json_us(b, it.hi);
        buf_printf(b, ", %llu]", (unsigned long long)it.count);
        first = false;
    }
    buf_puts(b, "]}");
}

int bench_write_json(const struct bench_report *r, const char *path, char *err, size_t errlen)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "{\"tool\": \"" BENCH_VERSION_TAG "\", \"started\": ");
    json_str(&b, r->started);
    buf_puts(&b, ", \"scenario\": ");
    json_str(&b, r->scenario);
    buf_puts(&b, ",\n \"steps\": [");
    for (size_t i = 0; i < r->nsteps; i++) {
        buf_puts(&b, i ? ",\n  " : "\n  ");
        json_step(&b, &r->steps[i]);
    }
    buf_puts(&b, "],\n \"actions\": [");
    for (size_t i = 0; i < r->nactions; i++) {
        buf_printf(&b, "%s{\"t\": %.3f, \"action\": ", i ? ", " : "", r->actions[i].t);
        json_str(&b, r->actions[i].text);
        buf_printf(&b, ", \"status\": %d}", r->actions[i].status);
    }
    buf_puts(&b, "]}\n");

    int rc = util_write_file(path, buf_head(&b), buf_pending(&b), err, errlen);
    buf_deinit(&b);
    return rc;
}
