/*
 * test_bench_hist.c — unit tests for bench/hist (log-linear latency histogram).
 *
 * The promise under test: every percentile is within 1% of the exact value
 * (the value of the same rank in the sorted data) over the whole range the
 * generator uses, nanoseconds to over an hour, and histograms merge exactly.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/hist.h"
#include "core/rand.h"

#define N 200000

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* value of rank ceil(q/100 * n) (at least 1) in sorted data */
static uint64_t reference(const uint64_t *sorted, size_t n, double q)
{
    if (q <= 0)
        return sorted[0];
    double r = ceil(q / 100.0 * (double)n);
    size_t rank = r < 1 ? 1 : (r > (double)n ? n : (size_t)r);
    return sorted[rank - 1];
}

static void check_against_sorted(uint64_t *vals, size_t n, const char *what)
{
    struct bench_hist *h = bench_hist_new();
    for (size_t i = 0; i < n; i++)
        bench_hist_record(h, vals[i]);
    qsort(vals, n, sizeof *vals, cmp_u64);
    cr_assert_eq(h->total, n);
    cr_assert_eq(h->min, vals[0], "%s: min", what);
    cr_assert_eq(h->max, vals[n - 1], "%s: max", what);
    static const double fixed[] = {0, 0.1, 1, 5, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 99.999, 100};
    double qs[sizeof fixed / sizeof fixed[0] + 200];
    size_t nq = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        qs[nq++] = fixed[i];
    for (int i = 0; i < 200; i++)
        qs[nq++] = (double)rand_below(1000001) / 10000.0; /* 0..100 */
    for (size_t i = 0; i < nq; i++) {
        uint64_t ref = reference(vals, n, qs[i]);
        uint64_t got = bench_hist_percentile(h, qs[i]);
        double tol = (double)ref * 0.01;
        cr_assert(fabs((double)got - (double)ref) <= tol,
                  "%s: p%g = %llu, exact %llu (error %.3f%%)", what, qs[i], (unsigned long long)got,
                  (unsigned long long)ref, ref ? 100.0 * fabs((double)got - (double)ref) / (double)ref : 0.0);
    }
    bench_hist_free(h);
}

Test(bench_hist, layout_is_contiguous_and_bounded)
{
    for (size_t i = 0; i + 1 < BENCH_HIST_BUCKETS; i++) {
        uint64_t lo = bench_hist_bucket_lo(i), hi = bench_hist_bucket_hi(i);
        cr_assert_leq(lo, hi);
        cr_assert_eq(hi + 1, bench_hist_bucket_lo(i + 1), "gap after bucket %zu", i);
        cr_assert_eq(bench_hist_index(lo), i);
        cr_assert_eq(bench_hist_index(hi), i);
        /* width at most 1/128 of the lower bound: midpoint within 1/256 */
        if (i >= 2 * BENCH_HIST_SUB)
            cr_assert_leq((double)(hi - lo + 1), (double)lo / BENCH_HIST_SUB, "bucket %zu too wide", i);
    }
    cr_assert_eq(bench_hist_bucket_hi(BENCH_HIST_BUCKETS - 1), BENCH_HIST_MAX_VALUE);
    cr_assert_eq(bench_hist_index(UINT64_MAX), BENCH_HIST_BUCKETS - 1);
}

Test(bench_hist, small_values_are_exact)
{
    struct bench_hist *h = bench_hist_new();
    for (uint64_t v = 0; v < 256; v++)
        bench_hist_record(h, v);
    for (int q = 1; q <= 100; q++) {
        uint64_t rank = (uint64_t)ceil(q / 100.0 * 256);
        cr_assert_eq(bench_hist_percentile(h, q), rank - 1, "p%d", q);
    }
    bench_hist_free(h);
}

Test(bench_hist, empty_and_single)
{
    struct bench_hist *h = bench_hist_new();
    cr_assert_eq(bench_hist_percentile(h, 50), 0);
    cr_assert_eq(bench_hist_mean(h), 0.0);
    struct bench_hist_iter it = {0};
    cr_assert_not(bench_hist_next(h, &it));
    bench_hist_record(h, 123456789);
    for (int q = 0; q <= 100; q += 10)
        cr_assert_eq(bench_hist_percentile(h, q), 123456789, "one value: every percentile is it");
    bench_hist_free(h);
}

Test(bench_hist, uniform_microseconds)
{
    rand_seed(1);
    uint64_t *v = malloc(N * sizeof *v);
    for (size_t i = 0; i < N; i++)
        v[i] = 1000 + rand_below(1000000); /* 1 us .. 1 ms in ns */
    check_against_sorted(v, N, "uniform 1us..1ms");
    free(v);
}

Test(bench_hist, log_uniform_microseconds_to_minutes)
{
    rand_seed(2);
    uint64_t *v = malloc(N * sizeof *v);
    for (size_t i = 0; i < N; i++) {
        double e = 3.0 + 8.0 * (double)(rand64() >> 11) * 0x1p-53; /* 1e3 ns .. 1e11 ns (100 s) */
        v[i] = (uint64_t)pow(10, e);
    }
    check_against_sorted(v, N, "log-uniform 1us..100s");
    free(v);
}

Test(bench_hist, long_tail_and_outliers)
{
    rand_seed(3);
    uint64_t *v = malloc(N * sizeof *v);
    for (size_t i = 0; i < N; i++) {
        double u = (double)(rand64() >> 11) * 0x1p-53;
        v[i] = 50000 + (uint64_t)(-log(1 - u) * 200000.0); /* exponential around 250 us */
        if (rand_below(1000) == 0)
            v[i] = 500000000 + rand_below(600000000000ULL); /* stalls: 0.5 s .. 10 min */
    }
    check_against_sorted(v, N, "exponential + stalls");
    free(v);
}

Test(bench_hist, whole_range_including_tiny)
{
    rand_seed(4);
    uint64_t *v = malloc(N * sizeof *v);
    for (size_t i = 0; i < N; i++)
        v[i] = rand64() >> (22 + rand_below(42)); /* 0 .. 2^42 */
    check_against_sorted(v, N, "0..2^42");
    free(v);
}

Test(bench_hist, beyond_range_clamps_but_keeps_max)
{
    struct bench_hist *h = bench_hist_new();
    bench_hist_record(h, 10);
    bench_hist_record(h, BENCH_HIST_MAX_VALUE * 4);
    cr_assert_eq(h->max, BENCH_HIST_MAX_VALUE * 4);
    cr_assert_eq(bench_hist_percentile(h, 100), BENCH_HIST_MAX_VALUE * 4);
    cr_assert_eq(h->counts[BENCH_HIST_BUCKETS - 1], 1);
    bench_hist_free(h);
}

Test(bench_hist, merge_equals_single_histogram)
{
    rand_seed(5);
    struct bench_hist *all = bench_hist_new(), *a = bench_hist_new(), *b = bench_hist_new(),
                      *m = bench_hist_new();
    for (int i = 0; i < 100000; i++) {
        uint64_t v = rand64() >> (24 + rand_below(30));
        bench_hist_record(all, v);
        bench_hist_record(i % 3 ? a : b, v);
    }
    bench_hist_merge(m, a);
    bench_hist_merge(m, b);
    cr_assert_eq(m->total, all->total);
    cr_assert_eq(m->min, all->min);
    cr_assert_eq(m->max, all->max);
    cr_assert_eq(memcmp(m->counts, all->counts, sizeof m->counts), 0);
    for (double q = 0; q <= 100; q += 0.5)
        cr_assert_eq(bench_hist_percentile(m, q), bench_hist_percentile(all, q));
    cr_assert_float_eq(bench_hist_mean(m), bench_hist_mean(all), 1e-6 * bench_hist_mean(all));
    bench_hist_free(all);
    bench_hist_free(a);
    bench_hist_free(b);
    bench_hist_free(m);
}

Test(bench_hist, batch_percentiles_match_single_calls)
{
    rand_seed(6);
    struct bench_hist *h = bench_hist_new();
    for (int i = 0; i < 50000; i++)
        bench_hist_record(h, rand_below(100000000));
    double qs[] = {0, 10, 50, 90, 99, 99.9, 99.99, 100};
    uint64_t out[8];
    bench_hist_percentiles(h, qs, 8, out);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(out[i], bench_hist_percentile(h, qs[i]), "p%g", qs[i]);
    bench_hist_free(h);
}

Test(bench_hist, mean_and_stdev)
{
    struct bench_hist *h = bench_hist_new();
    for (int i = 0; i < 1000; i++) {
        bench_hist_record(h, 1000);
        bench_hist_record(h, 3000);
    }
    cr_assert_float_eq(bench_hist_mean(h), 2000.0, 1e-9);
    cr_assert_float_eq(bench_hist_stdev(h), 1000.0, 1e-6);
    bench_hist_free(h);
}

Test(bench_hist, iteration_covers_every_value_in_order)
{
    rand_seed(7);
    struct bench_hist *h = bench_hist_new();
    for (int i = 0; i < 10000; i++)
        bench_hist_record(h, rand64() >> (30 + rand_below(30)));
    struct bench_hist_iter it = {0};
    uint64_t sum = 0, prev_hi = 0;
    bool first = true;
    while (bench_hist_next(h, &it)) {
        cr_assert(first || it.lo > prev_hi);
        cr_assert_gt(it.count, 0);
        sum += it.count;
        cr_assert_eq(it.cum, sum);
        prev_hi = it.hi;
        first = false;
    }
    cr_assert_eq(sum, h->total);
    bench_hist_free(h);
}
