/*
 * test_bench_sched.c — unit tests for bench/sched (the open-loop schedule).
 *
 * The schedule must hold the rate exactly (no drift, no rounding loss over
 * long runs), agree with itself (due / count_before / at), respect the limit,
 * and — the reason it exists — make a stalled server visible: a simulated
 * server that stops for 500 ms shows in p99 when latency is measured from
 * the intended send times, and hides when it is measured the closed-loop way.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "core/hist.h"
#include "bench/sched.h"
#include "core/rand.h"

#define SEC 1000000000ULL

static uint64_t brute_due(const struct bench_sched *s, uint64_t now)
{
    uint64_t n = 0;
    for (uint64_t i = s->next; i < s->limit && bench_sched_at(s, i) <= now; i++)
        n++;
    return n;
}

Test(bench_sched, exact_count_per_duration)
{
    static const double rates[] = {1, 3, 7, 100, 999, 1000, 33333.33, 123457, 1e6};
    for (size_t k = 0; k < sizeof rates / sizeof rates[0]; k++) {
        struct bench_sched s;
        uint64_t start = 5 * SEC + 17;
        bench_sched_init(&s, start, rates[k], UINT64_MAX);
        for (uint64_t d = 1; d <= 10; d++) {
            uint64_t n = bench_sched_count_before(&s, start + d * SEC);
            uint64_t want = (uint64_t)ceil(rates[k] * (double)d - 1e-9);
            cr_assert(n == want || n == want + 1, "rate %g over %llus: %llu requests, want %llu", rates[k],
                      (unsigned long long)d, (unsigned long long)n, (unsigned long long)want);
            /* within 0.01% (or one request) of rate * duration */
            cr_assert_leq(fabs((double)n - rates[k] * (double)d), fmax(1.0, rates[k] * (double)d * 1e-4));
        }
    }
}

Test(bench_sched, even_spacing_without_drift)
{
    struct bench_sched s;
    bench_sched_init(&s, 0, 3, UINT64_MAX);
    /* 1e9 requests at 3/s: the last is exactly where arithmetic says */
    cr_assert_eq(bench_sched_at(&s, 3000000000ULL), 1000000000ULL * SEC);
    bench_sched_init(&s, 1000, 7777.0, UINT64_MAX);
    double iv = 1e9 / 7777.0;
    for (uint64_t i = 1; i < 100000; i++) {
        double d = (double)(bench_sched_at(&s, i) - bench_sched_at(&s, i - 1));
        cr_assert_leq(fabs(d - iv), 1.0, "gap %llu: %g ns, want %g", (unsigned long long)i, d, iv);
    }
}

Test(bench_sched, due_agrees_with_brute_force)
{
    rand_seed(11);
    struct bench_sched s;
    bench_sched_init(&s, 1000000, 2500.5, 50000);
    uint64_t now = 0;
    for (int step = 0; step < 3000; step++) {
        now += rand_below(3 * 1000000);  /* advance up to 3 ms */
        uint64_t due = bench_sched_due(&s, now);
        cr_assert_eq(due, brute_due(&s, now), "now %llu", (unsigned long long)now);
        /* take some of them, as a worker with few free connections would */
        uint64_t take = due ? rand_below(due + 1) : 0;
        for (uint64_t i = 0; i < take; i++) {
            uint64_t at = bench_sched_take(&s);
            cr_assert_leq(at, now, "took a request that was not due");
        }
    }
}

Test(bench_sched, count_before_is_strict)
{
    struct bench_sched s;
    bench_sched_init(&s, 100, 1000, UINT64_MAX);
    for (uint64_t i = 0; i < 5000; i++) {
        uint64_t t = bench_sched_at(&s, i);
        cr_assert_eq(bench_sched_count_before(&s, t), i);
        cr_assert_eq(bench_sched_count_before(&s, t + 1), i + 1);
    }
    cr_assert_eq(bench_sched_count_before(&s, 0), 0);
    cr_assert_eq(bench_sched_count_before(&s, 100), 0);
}

Test(bench_sched, limit_is_respected)
{
    struct bench_sched s;
    bench_sched_init(&s, 0, 1000, 10);
    cr_assert_eq(bench_sched_due(&s, 1000 * SEC), 10);
    cr_assert_eq(bench_sched_count_before(&s, 1000 * SEC), 10);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(bench_sched_take(&s), (uint64_t)i * 1000000ULL);
    cr_assert_eq(bench_sched_next_at(&s), BENCH_SCHED_NEVER);
    cr_assert_eq(bench_sched_take(&s), BENCH_SCHED_NEVER);
    cr_assert_eq(bench_sched_due(&s, UINT64_MAX - 1), 0);
}

Test(bench_sched, nothing_due_before_start)
{
    struct bench_sched s;
    bench_sched_init(&s, 10 * SEC, 100, UINT64_MAX);
    cr_assert_eq(bench_sched_due(&s, 0), 0);
    cr_assert_eq(bench_sched_due(&s, 10 * SEC - 1), 0);
    cr_assert_eq(bench_sched_due(&s, 10 * SEC), 1);
    cr_assert_eq(bench_sched_next_at(&s), 10 * SEC);
}

/*
 * One connection, a server answering in 100 us, stalled for 500 ms at t = 5 s.
 * Open loop at 1000/s for 10 s, latency from the intended time: about 500 of
 * the 10,000 requests wait behind the stall, so p99 is hundreds of ms.
 * Closed loop over the same 10 s (latency from the actual send): only one
 * request sees the stall, and p99 stays at the service time.
 */
Test(bench_sched, stall_shows_in_open_loop_p99_only)
{
    const uint64_t service = 100000, stall_at = 5 * SEC, stall_end = stall_at + 500000000ULL;
    struct hist *open = hist_new(), *closed = hist_new();

    struct bench_sched s;
    bench_sched_init(&s, 0, 1000, 10000);
    uint64_t free_at = 0;
    while (bench_sched_next_at(&s) != BENCH_SCHED_NEVER) {
        uint64_t intended = bench_sched_take(&s);
        uint64_t sent = intended > free_at ? intended : free_at;
        uint64_t begin = sent >= stall_at && sent < stall_end ? stall_end : sent;
        uint64_t done = begin + service;
        free_at = done;
        hist_record(open, done - intended);
    }

    uint64_t t = 0;
    while (t < 10 * SEC) {
        uint64_t begin = t >= stall_at && t < stall_end ? stall_end : t;
        uint64_t done = begin + service;
        hist_record(closed, done - t);
        t = done;
    }

    uint64_t p99_open = hist_percentile(open, 99);
    uint64_t p99_closed = hist_percentile(closed, 99);
    cr_assert_geq(p99_open, 400000000ULL, "open loop p99 %llu ns should show the 500 ms stall",
                  (unsigned long long)p99_open);
    cr_assert_leq(p99_closed, 2 * service, "closed loop p99 %llu ns hides the stall", (unsigned long long)p99_closed);
    cr_assert_geq(closed->max, 400000000ULL, "the closed loop sees the stall once, in max");
    hist_free(open);
    hist_free(closed);
}
