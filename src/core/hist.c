/*
 * hist.c — log-linear latency histogram (see hist.h).
 */
#include "core/hist.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"

uint64_t hist_bucket_lo(size_t i)
{
    if (i < 2 * HIST_SUB)
        return (uint64_t)i;
    unsigned shift = (unsigned)(i / HIST_SUB) - 1;
    uint64_t m = (uint64_t)(i - (size_t)shift * HIST_SUB);
    return m << shift;
}

uint64_t hist_bucket_hi(size_t i)
{
    if (i < 2 * HIST_SUB)
        return (uint64_t)i;
    unsigned shift = (unsigned)(i / HIST_SUB) - 1;
    uint64_t m = (uint64_t)(i - (size_t)shift * HIST_SUB);
    return ((m + 1) << shift) - 1;
}

void hist_init(struct hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

struct hist *hist_new(void)
{
    struct hist *h = xmalloc(sizeof *h);
    hist_init(h);
    return h;
}

void hist_free(struct hist *h) { xfree(h); }

void hist_merge(struct hist *dst, const struct hist *src)
{
    if (src->total == 0)
        return;
    for (size_t i = 0; i < HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->sum += src->sum;
    dst->sumsq += src->sumsq;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

static uint64_t representative(const struct hist *h, size_t i)
{
    uint64_t lo = hist_bucket_lo(i), hi = hist_bucket_hi(i);
    uint64_t v = lo + (hi - lo) / 2;
    if (v < h->min)
        v = h->min;
    if (v > h->max)
        v = h->max;
    return v;
}

static uint64_t rank_of(const struct hist *h, double q)
{
    double r = ceil(q / 100.0 * (double)h->total);
    if (r < 1)
        r = 1;
    if (r > (double)h->total)
        return h->total;
    return (uint64_t)r;
}

void hist_percentiles(const struct hist *h, const double *qs, size_t n, uint64_t *out)
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
        while (i < HIST_BUCKETS && cum + h->counts[i] < rank)
            cum += h->counts[i++];
        out[k] = i < HIST_BUCKETS ? representative(h, i) : h->max;
    }
}

uint64_t hist_percentile(const struct hist *h, double q)
{
    uint64_t v;
    hist_percentiles(h, &q, 1, &v);
    return v;
}

double hist_mean(const struct hist *h)
{
    return h->total ? h->sum / (double)h->total : 0.0;
}

double hist_stdev(const struct hist *h)
{
    if (h->total < 2)
        return 0.0;
    double m = hist_mean(h);
    double var = h->sumsq / (double)h->total - m * m;
    return var > 0 ? sqrt(var) : 0.0;
}

bool hist_next(const struct hist *h, struct hist_iter *it)
{
    while (it->next < HIST_BUCKETS) {
        size_t i = it->next++;
        if (h->counts[i] == 0)
            continue;
        it->lo = hist_bucket_lo(i);
        it->hi = hist_bucket_hi(i);
        it->count = h->counts[i];
        it->cum += h->counts[i];
        return true;
    }
    return false;
}
