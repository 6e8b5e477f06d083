/*
 * balance_chash.c — consistent hashing on a ring (Karger et al.): each peer
 * puts 100 points per unit of weight on a 64-bit ring, at hashes of its name,
 * and a key belongs to the first point at or after the key's hash. Adding or
 * removing a peer moves only the keys of that peer's arcs, about 1/N of them;
 * since the points depend only on peer names, every worker (and every lb
 * process with the same names) builds the same ring.
 *
 * The ring is generic and should move to core/ when the router role needs it.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "lb/balance.h"

#define POINTS_PER_WEIGHT 100
#define MAX_POINTS_PER_PEER 10000

struct point {
    uint64_t h;
    int idx;
};

struct chash {
    struct point *ring;
    size_t npoints, cap;
    int n;
    unsigned next;
};

static void *chash_create(void) { return xcalloc(1, sizeof(struct chash)); }

static void chash_destroy(void *st)
{
    struct chash *c = st;
    xfree(c->ring);
    xfree(c);
}

static int cmp_point(const void *a, const void *b)
{
    const struct point *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return x->idx - y->idx;
}

static void chash_update(void *st, struct lb_peer *const *peers, int n)
{
    struct chash *c = st;
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        long long w = atomic_load_explicit(&peers[i]->weight, memory_order_relaxed);
        long long pts = w * POINTS_PER_WEIGHT;
        total += (size_t)(pts > MAX_POINTS_PER_PEER ? MAX_POINTS_PER_PEER : pts);
    }
    if (total > c->cap) {
        c->ring = xrealloc(c->ring, total * sizeof *c->ring);
        c->cap = total;
    }
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        long long w = atomic_load_explicit(&peers[i]->weight, memory_order_relaxed);
        long long pts = w * POINTS_PER_WEIGHT;
        if (pts > MAX_POINTS_PER_PEER)
            pts = MAX_POINTS_PER_PEER;
        const char *name = peers[i]->name;
        size_t len = strlen(name);
        for (long long v = 0; v < pts; v++) {
            c->ring[k].h = lb_hash(name, len, (uint64_t)v);
            c->ring[k].idx = i;
            k++;
        }
    }
    qsort(c->ring, k, sizeof *c->ring, cmp_point);
    c->npoints = k;
    c->n = n;
}

static struct lb_peer *chash_pick(void *st, struct lb_peer *const *peers, int n, const struct lb_pick_ctx *ctx)
{
    struct chash *c = st;
    if (n == 0 || c->npoints == 0 || n != c->n)
        return NULL;
    /* without a key: spread over the ring */
    uint64_t key = ctx->has_key ? ctx->key : lb_hash(&c->next, sizeof c->next, 0x9e3779b9);
    c->next++;
    size_t lo = 0, hi = c->npoints;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->ring[mid].h < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = 0; i < c->npoints; i++) {
        struct lb_peer *p = peers[c->ring[(lo + i) % c->npoints].idx];
        if (!lb_pick_excluded(ctx, p))
            return p;
    }
    return NULL;
}

const struct lb_balance_ops lb_balance_chash = {
    "chash", LB_BAL_KEY, "consistent hashing of a key (ip, uri, header NAME, cookie NAME)",
    chash_create, chash_destroy, chash_update, chash_pick,
};
