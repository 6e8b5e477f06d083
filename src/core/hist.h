/*
 * hist.h — latency histogram with bounded relative error (bench, kv LATENCY).
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
#ifndef SCALEOUT_HIST_H
#define SCALEOUT_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HIST_SUB_BITS 7                          /* 128 sub-buckets per power of two */
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_BITS 42                         /* values < 2^42 get their own bucket */
#define HIST_BUCKETS ((HIST_MAX_BITS - HIST_SUB_BITS + 1) * HIST_SUB)
#define HIST_MAX_VALUE ((UINT64_C(1) << HIST_MAX_BITS) - 1)

struct hist {
    uint64_t total;     /* values recorded */
    uint64_t min, max;  /* exact; min is UINT64_MAX while empty */
    double sum;         /* for the mean */
    double sumsq;       /* for the standard deviation */
    uint64_t counts[HIST_BUCKETS];
};

/* Bucket index of v (values above HIST_MAX_VALUE go to the last bucket). */
static inline size_t hist_index(uint64_t v)
{
    if (v < 2 * HIST_SUB)
        return (size_t)v;
    if (v > HIST_MAX_VALUE)
        v = HIST_MAX_VALUE;
    unsigned shift = (unsigned)(63 - __builtin_clzll(v)) - HIST_SUB_BITS;
    return (size_t)shift * HIST_SUB + (size_t)(v >> shift);
}

/* Lowest and highest value of bucket i. */
uint64_t hist_bucket_lo(size_t i);
uint64_t hist_bucket_hi(size_t i);

/* Empty the histogram (caller's memory, any alignment). */
void hist_init(struct hist *h);
static inline void hist_reset(struct hist *h) { hist_init(h); }
/* Heap helpers (counted through core/alloc). */
struct hist *hist_new(void);
void hist_free(struct hist *h);

static inline void hist_record(struct hist *h, uint64_t v)
{
    h->counts[hist_index(v)]++;
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
void hist_merge(struct hist *dst, const struct hist *src);

/*
 * Value at percentile q (0..100): the value of rank ceil(q/100 * total)
 * (at least 1) in sorted order, reported as its bucket's midpoint clamped to
 * [min, max]. q <= 0 gives min, q >= 100 gives max; 0 when empty.
 */
uint64_t hist_percentile(const struct hist *h, double q);
/* The same for n percentiles in one pass; qs must be ascending. */
void hist_percentiles(const struct hist *h, const double *qs, size_t n, uint64_t *out);

double hist_mean(const struct hist *h);
double hist_stdev(const struct hist *h);

/* Iteration over the non-empty buckets in ascending order:
 *     struct hist_iter it = {0};
 *     while (hist_next(h, &it)) use(it.lo, it.hi, it.count, it.cum);
 */
struct hist_iter {
    size_t next;        /* bucket to look at next */
    uint64_t lo, hi;    /* value range of the bucket found */
    uint64_t count;     /* values in it */
    uint64_t cum;       /* values in it and in every bucket before */
};
bool hist_next(const struct hist *h, struct hist_iter *it);

#endif
