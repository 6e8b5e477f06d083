/*
 * test_hist.c — unit tests for bench/hist (log-linear latency histogram).
 *
 * The promise under test: every percentile is within 1% of the exact value
 * (the value of the same rank in the sorted data) over the whole range the
 * generator uses, nanoseconds to over an hour, and histograms merge exactly.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"
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
    struct hist *h = hist_new();
    for (size_t i = 0; i < n; i++)
        hist_record(h, vals[i]);
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
        uint64_t got = hist_percentile(h, qs[i]);
        double tol = (double)ref * 0.01;
        cr_assert(fabs((double)got - (double)ref) <= tol,
                  "%s: p%g = %llu, exact %llu (error %.3f%%)", what, qs[i], (unsigned long long)got,
                  (unsigned long long)ref, ref ? 100.0 * fabs((double)got - (double)ref) / (double)ref : 0.0);
    }
    hist_free(h);
}

Test(hist, layout_is_contiguous_and_bounded)
{
    for (size_t i = 0; i + 1 < HIST_BUCKETS; i++) {
        uint64_t lo = hist_bucket_lo(i), hi = hist_bucket_hi(i);
        cr_assert_leq(lo, hi);
        cr_assert_eq(hi + 1, hist_bucket_lo(i + 1), "gap after bucket %zu", i);
        cr_assert_eq(hist_index(lo), i);
        cr_assert_eq(hist_index(hi), i);
        /* width at most 1/128 of the lower bound: midpoint within 1/256 */
        if (i >= 2 * HIST_SUB)
            cr_assert_leq((double)(hi - lo + 1), (double)lo / HIST_SUB, "bucket %zu too wide", i);
    }
    cr_assert_eq(hist_bucket_hi(HIST_BUCKETS - 1), HIST_MAX_VALUE);
    cr_assert_eq(hist_index(UINT64_MAX), HIST_BUCKETS - 1);
}

Test(hist, small_values_are_exact)
{
    struct hist *h = hist_new();
    for (uint64_t v = 0; v < 256; v++)
        hist_record(h, v);
    for (int q = 1; q <= 100; q++) {
        uint64_t rank = (uint64_t)ceil(q / 100.0 * 256);
        cr_assert_eq(hist_percentile(h, q), rank - 1, "p%d", q);
    }
    hist_free(h);
}

Test(hist, empty_and_single)
{
    struct hist *h = hist_new();
    cr_assert_eq(hist_percentile(h, 50), 0);
    cr_assert_eq(hist_mean(h), 0.0);
    struct hist_iter it = {0};
    cr_assert_not(hist_next(h, &it));
    hist_record(h, 123456789);
    for (int q = 0; q <= 100; q += 10)
        cr_assert_eq(hist_percentile(h, q), 123456789, "one value: every percentile is it");
    hist_free(h);
}

Test(hist, uniform_microseconds)
{
    rand_seed(1);
    uint64_t *v = malloc(N * sizeof *v);
    for (size_t i = 0; i < N; i++)
        v[i] = 1000 + rand_below(1000000); /* 1 us .. 1 ms in ns */
    check_against_sorted(v, N, "uniform 1us..1ms");
    free(v);
}

Test(hist, log_uniform_microseconds_to_minutes)
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

Test(hist, long_tail_and_outliers)
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

Test(hist, whole_range_including_tiny)
{
    rand_seed(4);
    uint64_t *v = malloc(N * sizeof *v);
    for (size_t i = 0; i < N; i++)
        v[i] = rand64() >> (22 + rand_below(42)); /* 0 .. 2^42 */
    check_against_sorted(v, N, "0..2^42");
    free(v);
}

Test(hist, beyond_range_clamps_but_keeps_max)
{
    struct hist *h = hist_new();
    hist_record(h, 10);
    hist_record(h, HIST_MAX_VALUE * 4);
    cr_assert_eq(h->max, HIST_MAX_VALUE * 4);
    cr_assert_eq(hist_percentile(h, 100), HIST_MAX_VALUE * 4);
    cr_assert_eq(h->counts[HIST_BUCKETS - 1], 1);
    hist_free(h);
}

Test(hist, merge_equals_single_histogram)
{
    rand_seed(5);
    struct hist *all = hist_new(), *a = hist_new(), *b = hist_new(),
                      *m = hist_new();
    for (int i = 0; i < 100000; i++) {
        uint64_t v = rand64() >> (24 + rand_below(30));
        hist_record(all, v);
        hist_record(i % 3 ? a : b, v);
    }
    hist_merge(m, a);
    hist_merge(m, b);
    cr_assert_eq(m->total, all->total);
    cr_assert_eq(m->min, all->min);
    cr_assert_eq(m->max, all->max);
    cr_assert_eq(memcmp(m->counts, all->counts, sizeof m->counts), 0);
    for (double q = 0; q <= 100; q += 0.5)
        cr_assert_eq(hist_percentile(m, q), hist_percentile(all, q));
    cr_assert_float_eq(hist_mean(m), hist_mean(all), 1e-6 * hist_mean(all));
    hist_free(all);
    hist_free(a);
    hist_free(b);
    hist_free(m);
}

Test(hist, batch_percentiles_match_single_calls)
{
    rand_seed(6);
    struct hist *h = hist_new();
    for (int i = 0; i < 50000; i++)
        hist_record(h, rand_below(100000000));
    double qs[] = {0, 10, 50, 90, 99, 99.9, 99.99, 100};
    uint64_t out[8];
    hist_percentiles(h, qs, 8, out);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(out[i], hist_percentile(h, qs[i]), "p%g", qs[i]);
    hist_free(h);
}

Test(hist, mean_and_stdev)
{
    struct hist *h = hist_new();
    for (int i = 0; i < 1000; i++) {
        hist_record(h, 1000);
        hist_record(h, 3000);
    }
    cr_assert_float_eq(hist_mean(h), 2000.0, 1e-9);
    cr_assert_float_eq(hist_stdev(h), 1000.0, 1e-6);
    hist_free(h);
}

Test(hist, iteration_covers_every_value_in_order)
{
    rand_seed(7);
    struct hist *h = hist_new();
    for (int i = 0; i < 10000; i++)
        hist_record(h, rand64() >> (30 + rand_below(30)));
    struct hist_iter it = {0};
    uint64_t sum = 0, prev_hi = 0;
    bool first = true;
    while (hist_next(h, &it)) {
        cr_assert(first || it.lo > prev_hi);
        cr_assert_gt(it.count, 0);
        sum += it.count;
        cr_assert_eq(it.cum, sum);
        prev_hi = it.hi;
        first = false;
    }
    cr_assert_eq(sum, h->total);
    hist_free(h);
}
