/*
 * test_bench_dist.c — unit tests for bench/dist (Zipf key popularity).
 *
 * Frequencies of the most popular ranks must match 1/k^s normalised over the
 * keyspace, for exponents around 1 (where the closed forms switch from power
 * to logarithm) and away from it, and every sample must be a valid rank.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "bench/dist.h"
#include "core/rand.h"

static void check(uint64_t n, double s, int samples)
{
    struct bench_zipf z;
    bench_zipf_init(&z, n, s);
    uint64_t counts[11] = {0};
    for (int i = 0; i < samples; i++) {
        uint64_t k = bench_zipf_sample(&z);
        cr_assert(k >= 1 && k <= n, "rank %llu outside 1..%llu", (unsigned long long)k, (unsigned long long)n);
        if (k <= 10)
            counts[k]++;
    }
    double norm = 0;
    for (uint64_t k = 1; k <= n; k++)
        norm += pow((double)k, -s);
    for (uint64_t k = 1; k <= 10 && k <= n; k++) {
        double want = pow((double)k, -s) / norm * samples;
        double got = (double)counts[k];
        /* 5 standard deviations of a binomial count, plus 1% */
        double tol = 5 * sqrt(want) + 0.01 * want;
        cr_assert(fabs(got - want) <= tol, "n=%llu s=%g rank %llu: %g samples, want %g +- %g",
                  (unsigned long long)n, s, (unsigned long long)k, got, want, tol);
    }
}

Test(bench_dist, zipf_frequencies)
{
    rand_seed(21);
    check(1000, 0.99, 400000);
    check(1000, 1.0, 400000);
    check(100000, 0.99, 400000);
    check(50, 0.5, 200000);
    check(10000, 1.5, 200000);
}

Test(bench_dist, zipf_small_keyspaces)
{
    rand_seed(22);
    check(1, 0.99, 1000);
    check(2, 0.99, 100000);
}

Test(bench_dist, uniform_double_range)
{
    rand_seed(23);
    double lo = 1, hi = 0;
    for (int i = 0; i < 100000; i++) {
        double u = bench_rand01();
        cr_assert(u >= 0 && u < 1);
        if (u < lo)
            lo = u;
        if (u > hi)
            hi = u;
    }
    cr_assert_lt(lo, 0.001);
    cr_assert_gt(hi, 0.999);
}
