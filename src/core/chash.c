/*
 * chash.c — consistent-hash ring (see chash.h).
 */
#include "core/chash.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "core/alloc.h"

void chash_init(struct chash *c) { memset(c, 0, sizeof *c); }

void chash_deinit(struct chash *c)
{
    xfree(c->ring);
    xfree(c->idx);
    chash_init(c);
}

uint64_t chash_hash(const void *key, size_t len) { return XXH3_64bits_withSeed(key, len, 0); }

static int cmp_point(const void *a, const void *b)
{
    const struct chash_point *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return x->member - y->member;
}

#define CHASH_IDX_MAX_BITS 16 /* at most 64K index entries (256 KB) */

/* Index the sorted ring: about two buckets per point over the span of the
 * points' hashes (a 32-bit ring such as nutcracker's uses the low 32 bits of
 * the space, so the span is taken from the largest point, not 2^64). */
static void build_index(struct chash *c)
{
    xfree(c->idx);
    c->idx = NULL;
    c->idx_n = 0;
    c->idx_shift = 0;
    if (c->npoints == 0)
        return;
    uint64_t top = c->ring[c->npoints - 1].h;
    unsigned span = top ? 64u - (unsigned)__builtin_clzll(top) : 1u; /* bits the points use */
    unsigned want = 1;
    while (want < CHASH_IDX_MAX_BITS && ((size_t)1 << want) < 2 * c->npoints)
        want++;
    unsigned shift = span > want ? span - want : 0;
    size_t n = (size_t)(top >> shift) + 1;
    c->idx = xmalloc(n * sizeof *c->idx);
    size_t pos = 0;
    for (size_t b = 0; b < n; b++) {
        while (pos < c->npoints && (c->ring[pos].h >> shift) < b)
            pos++;
        c->idx[b] = (uint32_t)pos;
    }
    c->idx_n = n;
    c->idx_shift = shift;
}

static size_t points_of(long long weight)
{
    if (weight <= 0)
        return 0;
    long long pts = weight * CHASH_POINTS_PER_WEIGHT;
    return (size_t)(pts > CHASH_MAX_POINTS ? CHASH_MAX_POINTS : pts);
}

void chash_build(struct chash *c, const char *const *names, const long long *weights, int n)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += points_of(weights[i]);
    if (total > c->cap) {
        c->ring = xrealloc(c->ring, total * sizeof *c->ring);
        c->cap = total;
    }
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        size_t pts = points_of(weights[i]);
        for (size_t v = 0; v < pts; v++) {
            c->ring[k].h = XXH3_64bits_withSeed(names[i], len, (uint64_t)v);
            c->ring[k].member = i;
            k++;
        }
    }
    qsort(c->ring, k, sizeof *c->ring, cmp_point);
    c->npoints = k;
    c->nmembers = n;
    build_index(c);
}

void chash_build_points(struct chash *c, const struct chash_point *pts, size_t n, int nmembers)
{
    if (n > c->cap) {
        c->ring = xrealloc(c->ring, n * sizeof *c->ring);
        c->cap = n;
    }
    if (n)
        memcpy(c->ring, pts, n * sizeof *pts);
    qsort(c->ring, n, sizeof *c->ring, cmp_point);
    c->npoints = n;
    c->nmembers = nmembers;
    build_index(c);
}

size_t chash_find(const struct chash *c, uint64_t h)
{
    if (c->idx) {
        if (h > c->ring[c->npoints - 1].h)
            return 0; /* past the last point: wraps to the first */
        size_t pos = c->idx[h >> c->idx_shift]; /* h <= top, so the bucket exists */
        while (c->ring[pos].h < h) /* stops at the last point at the latest */
            pos++;
        return pos;
    }
    return chash_find_bsearch(c, h);
}

size_t chash_find_bsearch(const struct chash *c, uint64_t h)
{
    size_t lo = 0, hi = c->npoints;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->ring[mid].h < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == c->npoints ? 0 : lo;
}
