/*
 * dist.c — Zipf sampling by rejection-inversion (see dist.h).
 *
 * With h(x) = x^-s and H its antiderivative, ranks are drawn by inverting H
 * over [1.5 - 1, n + 0.5] and accepting k = round(x) when x falls inside the
 * part of k's cell that lies under the histogram of the true probabilities.
 * H and its inverse are written with expm1/log1p so that s near 1 (where
 * H(x) -> ln x) loses no precision.
 */
#include "bench/dist.h"

#include <math.h>

#include "core/rand.h"

double bench_rand01(void) { return (double)(rand64() >> 11) * 0x1p-53; }

/* expm1(t)/t and log1p(t)/t, continuous at 0 */
static double expm1_over(double t) { return fabs(t) > 1e-8 ? expm1(t) / t : 1.0 + t / 2.0 * (1.0 + t / 3.0); }
static double log1p_over(double t) { return fabs(t) > 1e-8 ? log1p(t) / t : 1.0 - t * (0.5 - t / 3.0); }

static double h(const struct bench_zipf *z, double x) { return exp(-z->s * log(x)); }

static double big_h(const struct bench_zipf *z, double x)
{
    double lx = log(x);
    return expm1_over((1.0 - z->s) * lx) * lx;
}

static double big_h_inv(const struct bench_zipf *z, double y)
{
    double t = y * (1.0 - z->s);
    if (t < -1.0)
        t = -1.0; /* rounding at the far end */
    return exp(log1p_over(t) * y);
}

void bench_zipf_init(struct bench_zipf *z, uint64_t n, double s)
{
    z->n = n ? n : 1;
    z->s = s > 0 ? s : 1e-9;
    z->hx1 = big_h(z, 1.5) - 1.0;
    z->hn = big_h(z, (double)z->n + 0.5);
    z->thresh = 2.0 - big_h_inv(z, big_h(z, 2.5) - h(z, 2.0));
}

uint64_t bench_zipf_sample(const struct bench_zipf *z)
{
    for (;;) {
        double u = z->hn + bench_rand01() * (z->hx1 - z->hn);
        double x = big_h_inv(z, u);
        double kf = floor(x + 0.5);
        if (kf < 1)
            kf = 1;
        if (kf > (double)z->n)
            kf = (double)z->n;
        if (kf - x <= z->thresh || u >= big_h(z, kf + 0.5) - h(z, kf))
            return (uint64_t)kf;
    }
}
