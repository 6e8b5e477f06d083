/*
 * hist.h — latency histogram with bounded relative error (bench role).
 *
 * Log-linear buckets in the manner of HdrHistogram: values below 2^8 have a
 * bucket each; above, every power of two [2^e, 2^(e+1)) is split into 128
 * equal sub-buckets. A bucket's width is then at most 1/128 of its lower
 * bound, so reporting a bucket's midpoint is within 1/256 (0.4%) of any value
 * that fell into it, and within 1/128 (0.8%) at worst for any representative.
 * bench records nanoseconds: 1 ns resolution up to 256 ns, better than 1%
 * from there up to 2^42 ns (73 minutes); larger values land in the last
 * bucket (max stays exact).
 *
 *   index:  0 ........ 255 | 256 ...... 383 | 384 ...... 511 | ...
 *   value:  0 ........ 255 | 256,258..510  | 512,516..1020  | ...  (width 1, 2, 4, ...)
 *
 * A histogram is a flat array (36 KiB): recording is one index computation
 * and one increment, merging is an element-wise sum, so per-thread and
 * per-second histograms merge exactly into the totals. Not thread-safe:
 * one writer; readers synchronise with it (see worker.c's rotation).
 */
#ifndef SCALEOUT_BENCH_HIST_H
#define SCALEOUT_BENCH_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_HIST_SUB_BITS 7                          /* 128 sub-buckets per power of two */
#define BENCH_HIST_SUB (1u << BENCH_HIST_SUB_BITS)
#define BENCH_HIST_MAX_BITS 42                         /* values < 2^42 get their own bucket */
#define BENCH_HIST_BUCKETS ((BENCH_HIST_MAX_BITS - BENCH_HIST_SUB_BITS + 1) * BENCH_HIST_SUB)
#define BENCH_HIST_MAX_VALUE ((UINT64_C(1) << BENCH_HIST_MAX_BITS) - 1)

struct bench_hist {
    uint64_t total;     /* values recorded */
    uint64_t min, max;  /* exact; min is UINT64_MAX while empty */
    double sum;         /* for the mean */
    double sumsq;       /* for the standard deviation */
    uint64_t counts[BENCH_HIST_BUCKETS];
};

/* Bucket index of v (values above BENCH_HIST_MAX_VALUE go to the last bucket). */
static inline size_t bench_hist_index(uint64_t v)
{
    if (v < 2 * BENCH_HIST_SUB)
        return (size_t)v;
    if (v > BENCH_HIST_MAX_VALUE)
        v = BENCH_HIST_MAX_VALUE;
    unsigned shift = (unsigned)(63 - __builtin_clzll(v)) - BENCH_HIST_SUB_BITS;
    return (size_t)shift * BENCH_HIST_SUB + (size_t)(v >> shift);
}

/* Lowest and highest value of bucket i. */
uint64_t bench_hist_bucket_lo(size_t i);
uint64_t bench_hist_bucket_hi(size_t i);

/* Empty the histogram (caller's memory, any alignment). */
void bench_hist_init(struct bench_hist *h);
static inline void bench_hist_reset(struct bench_hist *h) { bench_hist_init(h); }
/* Heap helpers (counted through core/alloc). */
struct bench_hist *bench_hist_new(void);
void bench_hist_free(struct bench_hist *h);

static inline void bench_hist_record(struct bench_hist *h, uint64_t v)
{
    h->counts[bench_hist_index(v)]++;
    h->total++;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    double d = (double)v;
    h->sum += d;
    h->sumsq += d * d;
}

/* Add every value of src to dst. */
void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src);

/*
 * Value at percentile q (0..100): the value of rank ceil(q/100 * total)
 * (at least 1) in sorted order, reported as its bucket's midpoint clamped to
 * [min, max]. q <= 0 gives min, q >= 100 gives max; 0 when empty.
 */
uint64_t bench_hist_percentile(const struct bench_hist *h, double q);
/* The same for n percentiles in one pass; qs must be ascending. */
void bench_hist_percentiles(const struct bench_hist *h, const double *qs, size_t n, uint64_t *out);

double bench_hist_mean(const struct bench_hist *h);
double bench_hist_stdev(const struct bench_hist *h);

/* Iteration over the non-empty buckets in ascending order:
 *     struct bench_hist_iter it = {0};
 *     while (bench_hist_next(h, &it)) use(it.lo, it.hi, it.count, it.cum);
 */
struct bench_hist_iter {
    size_t next;        /* bucket to look at next */
    uint64_t lo, hi;    /* value range of the bucket found */
    uint64_t count;     /* values in it */
    uint64_t cum;       /* values in it and in every bucket before */
};
bool bench_hist_next(const struct bench_hist *h, struct bench_hist_iter *it);

#endif
