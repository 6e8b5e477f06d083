/*
 * run.c — the controller of one bench step (main thread).
 *
 * Splits connections, rate and request count over the workers, starts them,
 * and then once a second flips every worker's interval (see worker.h),
 * merges the finished intervals into one timeline point and into the step's
 * totals, and prints the progress line. It never touches a socket: a slow
 * terminal cannot slow the load.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/worker.h"
#include "core/alloc.h"

#define SEC_NS 1000000000ULL
#define POLL_NS (10 * 1000 * 1000ULL)
#define ACK_WAIT_NS (500 * 1000 * 1000ULL)

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / SEC_NS), (long)(ns % SEC_NS)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !atomic_load(&bench_interrupted))
        ;
}

void bench_step_free(struct bench_step *s)
{
    conf_free(&bench_conf_table, &s->cfg);
    hist_free(s->hist);
    xfree(s->points);
    memset(s, 0, sizeof *s);
}

void bench_report_free(struct bench_report *r)
{
    for (size_t i = 0; i < r->nsteps; i++)
        bench_step_free(&r->steps[i]);
    xfree(r->steps);
    for (size_t i = 0; i < r->nactions; i++)
        xfree(r->actions[i].text);
    xfree(r->actions);
    xfree(r->scenario);
    memset(r, 0, sizeof *r);
}

static void interval_reset(struct bench_interval *iv)
{
    memset(&iv->c, 0, sizeof iv->c);
    hist_init(&iv->hist);
}

static void interval_take(struct bench_interval *dst, struct bench_interval *src)
{
    bench_counts_add(&dst->c, &src->c);
    hist_merge(&dst->hist, &src->hist);
    interval_reset(src);
}

/* Collect what the workers recorded since the last flip into acc. */
static void collect(struct bench_run *run, struct bench_worker *ws, int n, struct bench_interval *acc)
{
    unsigned e = atomic_fetch_add(&run->epoch, 1) + 1;
    uint64_t deadline = bench_now_ns() + ACK_WAIT_NS;
    for (int i = 0; i < n; i++) {
        struct bench_worker *w = &ws[i];
        for (;;) {
            if (atomic_load_explicit(&w->done, memory_order_acquire)) {
                interval_take(acc, w->ivl[0]);
                interval_take(acc, w->ivl[1]);
                break;
            }
            if (atomic_load_explicit(&w->acked, memory_order_acquire) == e) {
                interval_take(acc, w->ivl[(e + 1) & 1]);
                break;
            }
            if (bench_now_ns() >= deadline)
                break; /* busy worker: its figures move to the next point */
            sleep_ns(100 * 1000);
        }
    }
}

static void add_point(struct bench_step *s, const struct bench_interval *acc, double t, double dt)
{
    if (s->npoints == s->cap_points) {
        s->cap_points = s->cap_points ? s->cap_points * 2 : 64;
        s->points = xrealloc(s->points, s->cap_points * sizeof *s->points);
    }
    struct bench_point *p = &s->points[s->npoints++];
    memset(p, 0, sizeof *p);
    p->t = t;
    p->dt = dt;
    p->done = acc->c.done;
    p->sent = acc->c.sent;
    p->errors = bench_counts_errors(&acc->c);
    static const double qs[] = {50, 90, 99, 100};
    uint64_t v[4];
    hist_percentiles(&acc->hist, qs, 4, v);
    p->p50 = v[0];
    p->p90 = v[1];
    p->p99 = v[2];
    p->max = v[3];
}

/* ---- progress -------------------------------------------------------------- */

struct progress {
    int mode;          /* BENCH_PROGRESS_TTY, _PLAIN or _OFF */
    bool shown;        /* a TTY line is on screen */
};

static void progress_line(struct progress *pg, const struct bench_step *s, double elapsed,
                          const struct bench_point *p)
{
    if (pg->mode == BENCH_PROGRESS_OFF)
        return;
    char p99[32];
    bench_format_ns(p99, sizeof p99, hist_percentile(s->hist, 99));
    uint64_t errs = bench_counts_errors(&s->c);
    char line[512];
    int n = snprintf(line, sizeof line, "%s%s%6.1fs  %10.0f req/s  p99 %-9s errors %llu",
                     s->cfg.name && *s->cfg.name ? s->cfg.name : "", s->cfg.name && *s->cfg.name ? "  " : "",
                     elapsed, p->dt > 0 ? (double)p->done / p->dt : 0.0, p99, (unsigned long long)errs);
    if (errs) {
        const char *sep = " (";
        for (int i = 0; i < BENCH_ERR__COUNT && n > 0 && (size_t)n < sizeof line; i++) {
            if (!s->c.errors[i])
                continue;
            n += snprintf(line + n, sizeof line - (size_t)n, "%s%s %llu", sep, bench_err_keys[i],
                          (unsigned long long)s->c.errors[i]);
            sep = ", ";
        }
        if (n > 0 && (size_t)n < sizeof line)
            snprintf(line + n, sizeof line - (size_t)n, ")");
    }
    if (pg->mode == BENCH_PROGRESS_TTY) {
        fprintf(stderr, "\r\033[K%s", line);
        pg->shown = true;
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
}

static void progress_clear(struct progress *pg)
{
    if (pg->shown) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
        pg->shown = false;
    }
}

/* ---- one step ---------------------------------------------------------------- */

/* The workers of one step: threads, each with its share of the
 * connections, the request quota and the rate. *nw gets their number. */
static struct bench_worker *workers_new(const struct bench_config *cfg, struct bench_run *run, int *nw)
{
    int n = (int)cfg->threads;
    if (n > cfg->connections)
        n = (int)cfg->connections;
    if (cfg->requests > 0 && n > cfg->requests)
        n = (int)cfg->requests;
    struct bench_worker *ws = xcalloc((size_t)n, sizeof *ws);
    for (int i = 0; i < n; i++) {
        int conns = (int)(cfg->connections / n + (i < cfg->connections % n));
        uint64_t quota = cfg->requests > 0 ? (uint64_t)(cfg->requests / n + (i < cfg->requests % n)) : UINT64_MAX;
        /* the rate follows the connections, so every connection has the same share */
        double rate = (double)cfg->rate * conns / (double)cfg->connections;
        bench_worker_init(&ws[i], i, run, conns, rate, quota);
    }
    *nw = n;
    return ws;
}

/* Start the worker threads; a thread that cannot start ends the step
 * (interrupted, reason in err). */
static void workers_start(struct bench_worker *ws, int nw, char *err, size_t errlen)
{
    for (int i = 0; i < nw; i++) {
        if (pthread_create(&ws[i].thread, NULL, bench_worker_main, &ws[i]) != 0) {
            snprintf(err, errlen, "cannot start a worker thread: %s", strerror(errno));
            atomic_store(&bench_interrupted, true);
            break;
        }
        ws[i].started = true;
    }
}

static bool workers_done(struct bench_worker *ws, int nw)
{
    for (int i = 0; i < nw; i++)
        if (ws[i].started && !atomic_load_explicit(&ws[i].done, memory_order_acquire))
            return false;
    return true;
}

/* The step's sampling: once a second, the workers' figures become a point
 * (and the progress line) until every worker is done. *acc and *prev are
 * swapped as points are taken (prev: the last point's figures); returns the
 * time of the last point. */
static uint64_t sample_points(struct bench_run *run, struct bench_worker *ws, int nw, struct bench_step *s,
                              struct progress *pg, uint64_t t0, uint64_t begin, struct bench_interval **acc,
                              struct bench_interval **prev)
{
    uint64_t last = begin, next = begin + SEC_NS;
    while (!workers_done(ws, nw)) {
        uint64_t now = bench_now_ns();
        if (now < next) {
            sleep_ns(next - now < POLL_NS ? next - now : POLL_NS);
            continue;
        }
        collect(run, ws, nw, *acc);
        now = bench_now_ns();
        add_point(s, *acc, (double)(last - t0) / 1e9, (double)(now - last) / 1e9);
        bench_counts_add(&s->c, &(*acc)->c);
        hist_merge(s->hist, &(*acc)->hist);
        progress_line(pg, s, (double)(now - begin) / 1e9, &s->points[s->npoints - 1]);
        /* keep this point's figures in case the tail gets folded into it */
        struct bench_interval *tmp = *prev;
        *prev = *acc;
        *acc = tmp;
        interval_reset(*acc);
        last = now;
        next += SEC_NS;
        if (next < now)
            next = now + SEC_NS;
    }
    return last;
}

/* What came in since the last point, once the workers are joined (read both
 * halves of their intervals): a last point, or folded into the previous. */
static void last_point(struct bench_worker *ws, int nw, struct bench_step *s, uint64_t t0, uint64_t last,
                       struct bench_interval *acc, struct bench_interval *prev)
{
    uint64_t end = bench_now_ns();
    for (int i = 0; i < nw; i++) {
        interval_take(acc, ws[i].ivl[0]);
        interval_take(acc, ws[i].ivl[1]);
    }
    bench_counts_add(&s->c, &acc->c);
    hist_merge(s->hist, &acc->hist);
    if (s->npoints > 0 && end - last < SEC_NS / 2) {
        /* a short tail (the drain): fold it into the last point rather than
         * plot a sliver whose rate means nothing */
        struct bench_point *p = &s->points[--s->npoints];
        double t = p->t, dt = p->dt + (double)(end - last) / 1e9;
        bench_counts_add(&acc->c, &prev->c);
        hist_merge(&acc->hist, &prev->hist);
        add_point(s, acc, t, dt);
    } else {
        add_point(s, acc, (double)(last - t0) / 1e9, (double)(end - last) / 1e9);
    }
}

/* The step's span (first start to last stop of any worker), its first error
 * and whether it gave up; the workers are freed. */
static void workers_finish(struct bench_worker *ws, int nw, struct bench_step *s, uint64_t t0, uint64_t begin)
{
    uint64_t start = 0, stop = 0;
    for (int i = 0; i < nw; i++) {
        struct bench_worker *w = &ws[i];
        if (w->start_ns && (!start || w->start_ns < start))
            start = w->start_ns;
        if (w->stop_ns > stop)
            stop = w->stop_ns;
        if (!s->first_error[0] && w->first_error[0])
            snprintf(s->first_error, sizeof s->first_error, "%s", w->first_error);
        s->gave_up |= w->gave_up;
        bench_worker_deinit(w);
    }
    if (!start)
        start = stop = begin;
    s->start = (double)(start - t0) / 1e9;
    s->elapsed = (double)(stop - start) / 1e9;
    s->interrupted = atomic_load(&bench_interrupted);
    xfree(ws);
}

int bench_run_step(const struct bench_config *cfg, uint64_t t0, struct bench_step *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    bench_config_copy(&s->cfg, cfg);
    s->hist = hist_new();
    struct bench_target target;
    if (bench_target_parse(&target, cfg->target, err, errlen) != 0)
        return -1;
    s->proto_name = target.proto->name;
    void *shared = target.proto->setup(cfg, &target, err, errlen);
    if (!shared)
        return -1;

    struct bench_run run = {
        .cfg = cfg,
        .target = &target,
        .proto = target.proto,
        .shared = shared,
        .timeout_ns = (uint64_t)cfg->timeout_ms * 1000000ULL,
        .pipeline = (uint32_t)cfg->pipeline,
        .open_loop = cfg->rate > 0,
    };
    if (target.proto->idempotent && target.proto->idempotent(shared))
        run.retry_max = (uint32_t)cfg->retry_idempotent;
    long long dur = cfg->duration_ms;
    if (dur == 0 && cfg->requests == 0)
        dur = 10000;
    run.duration_ns = (uint64_t)dur * 1000000ULL;
    atomic_init(&run.epoch, 0);

    int nw;
    struct bench_worker *ws = workers_new(cfg, &run, &nw);
    struct progress pg = {.mode = cfg->progress};
    if (pg.mode == BENCH_PROGRESS_AUTO)
        pg.mode = isatty(STDERR_FILENO) ? BENCH_PROGRESS_TTY : BENCH_PROGRESS_PLAIN;

    uint64_t begin = bench_now_ns();
    workers_start(ws, nw, err, errlen);
    struct bench_interval *acc = xmalloc(sizeof *acc), *prev = xmalloc(sizeof *prev);
    interval_reset(acc);
    interval_reset(prev);
    uint64_t last = sample_points(&run, ws, nw, s, &pg, t0, begin, &acc, &prev);
    for (int i = 0; i < nw; i++)
        if (ws[i].started)
            pthread_join(ws[i].thread, NULL);
    last_point(ws, nw, s, t0, last, acc, prev);
    progress_clear(&pg);
    xfree(acc);
    xfree(prev);
    workers_finish(ws, nw, s, t0, begin);
    target.proto->teardown(shared);
    return 0;
}
