/*
 * hist.c — log-linear latency histogram (see hist.h).
 */
#include "bench/hist.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"

uint64_t bench_hist_bucket_lo(size_t i)
{
    if (i < 2 * BENCH_HIST_SUB)
        return (uint64_t)i;
    unsigned shift = (unsigned)(i / BENCH_HIST_SUB) - 1;
    uint64_t m = (uint64_t)(i - (size_t)shift * BENCH_HIST_SUB);
    return m << shift;
}

uint64_t bench_hist_bucket_hi(size_t i)
{
    if (i < 2 * BENCH_HIST_SUB)
        return (uint64_t)i;
    unsigned shift = (unsigned)(i / BENCH_HIST_SUB) - 1;
    uint64_t m = (uint64_t)(i - (size_t)shift * BENCH_HIST_SUB);
    return ((m + 1) << shift) - 1;
}

void bench_hist_init(struct bench_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

struct bench_hist *bench_hist_new(void)
{
    struct bench_hist *h = xmalloc(sizeof *h);
    bench_hist_init(h);
    return h;
}

void bench_hist_free(struct bench_hist *h) { xfree(h); }

void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src)
{
    if (src->total == 0)
        return;
    for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->sum += src->sum;
    dst->sumsq += src->sumsq;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

static uint64_t representative(const struct bench_hist *h, size_t i)
{
    uint64_t lo = bench_hist_bucket_lo(i), hi = bench_hist_bucket_hi(i);
    uint64_t v = lo + (hi - lo) / 2;
    if (v < h->min)
        v = h->min;
    if (v > h->max)
        v = h->max;
    return v;
}

static uint64_t rank_of(const struct bench_hist *h, double q)
{
    double r = ceil(q / 100.0 * (double)h->total);
    if (r < 1)
        r = 1;
    if (r > (double)h->total)
        return h->total;
    return (uint64_t)r;
}

void bench_hist_percentiles(const struct bench_hist *h, const double *qs, size_t n, uint64_t *out)
{
    size_t k = 0;
    if (h->total == 0) {
        for (; k < n; k++)
            out[k] = 0;
        return;
    }
    /* q <= 0 and q >= 100 are exact */
    uint64_t cum = 0;
    size_t i = 0;
    for (; k < n; k++) {
        if (qs[k] <= 0) {
            out[k] = h->min;
            continue;
        }
        if (qs[k] >= 100) {
            out[k] = h->max;
            continue;
        }
        uint64_t rank = rank_of(h, qs[k]);
        while (i < BENCH_HIST_BUCKETS && cum + h->counts[i] < rank)
            cum += h->counts[i++];
        out[k] = i < BENCH_HIST_BUCKETS ? representative(h, i) : h->max;
    }
}

uint64_t bench_hist_percentile(const struct bench_hist *h, double q)
{
    uint64_t v;
    bench_hist_percentiles(h, &q, 1, &v);
    return v;
}

double bench_hist_mean(const struct bench_hist *h)
{
    return h->total ? h->sum / (double)h->total : 0.0;
}

double bench_hist_stdev(const struct bench_hist *h)
{
    if (h->total < 2)
        return 0.0;
    double m = bench_hist_mean(h);
    double var = h->sumsq / (double)h->total - m * m;
    return var > 0 ? sqrt(var) : 0.0;
}

bool bench_hist_next(const struct bench_hist *h, struct bench_hist_iter *it)
{
    while (it->next < BENCH_HIST_BUCKETS) {
        size_t i = it->next++;
        if (h->counts[i] == 0)
            continue;
        it->lo = bench_hist_bucket_lo(i);
        it->hi = bench_hist_bucket_hi(i);
        it->count = h->counts[i];
        it->cum += h->counts[i];
        return true;
    }
    return false;
}
