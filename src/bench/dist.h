/*
 * dist.h — key popularity for the RESP driver (bench role): uniform, or Zipf
 * with exponent s (rank k drawn with probability proportional to 1/k^s).
 *
 * Zipf uses rejection-inversion (Hörmann and Derflinger, 1996): O(1) time and
 * memory whatever the number of keys, no table, about 1.1 uniform draws per
 * sample. Written from the paper's description.
 *
 * A sampler is read-only after init, so all workers share one; randomness
 * comes from core/rand's per-thread generator.
 */
#ifndef SCALEOUT_BENCH_DIST_H
#define SCALEOUT_BENCH_DIST_H

#include <stdint.h>

struct bench_zipf {
    uint64_t n;     /* ranks 1..n */
    double s;       /* exponent, > 0 */
    double hx1, hn, thresh;
};

/* n >= 1, s > 0. */
void bench_zipf_init(struct bench_zipf *z, uint64_t n, double s);
/* A rank in 1..n (1 the most popular). */
uint64_t bench_zipf_sample(const struct bench_zipf *z);

/* Uniform double in [0, 1) from core/rand. */
double bench_rand01(void);

#endif
