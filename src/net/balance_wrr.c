/*
 * balance_wrr.c — smooth weighted round robin (the nginx algorithm): every
 * pick adds each peer's weight to its running score, takes the highest score
 * and subtracts the total weight from it. Over any window of sum(weights)
 * picks each peer is chosen exactly weight times, evenly interleaved
 * (weights 5,1,1 give a a b a c a a, not a a a a a b c).
 */
#include "core/alloc.h"
#include "net/balance.h"

struct wrr {
    long long *cur;
    int n, cap;
};

static void *wrr_create(void) { return xcalloc(1, sizeof(struct wrr)); }

static void wrr_destroy(void *st)
{
    struct wrr *w = st;
    xfree(w->cur);
    xfree(w);
}

static void wrr_update(void *st, struct net_peer *const *peers, int n)
{
    (void)peers;
    struct wrr *w = st;
    if (n > w->cap) {
        w->cur = xrealloc(w->cur, (size_t)n * sizeof *w->cur);
        w->cap = n;
    }
    for (int i = 0; i < n; i++)
        w->cur[i] = 0;
    w->n = n;
}

static struct net_peer *wrr_pick(void *st, struct net_peer *const *peers, int n, const struct net_pick_ctx *ctx)
{
    struct wrr *w = st;
    long long total = 0;
    int best = -1;
    for (int i = 0; i < n && i < w->n; i++) {
        if (net_pick_excluded(ctx, peers[i]))
            continue;
        long long wt = atomic_load_explicit(&peers[i]->weight, memory_order_relaxed);
        w->cur[i] += wt;
        total += wt;
        if (best < 0 || w->cur[i] > w->cur[best])
            best = i;
    }
    if (best < 0)
        return NULL;
    w->cur[best] -= total;
    return peers[best];
}

const struct net_balance_ops net_balance_wrr = {
    "wrr", 0, "smooth weighted round robin", wrr_create, wrr_destroy, wrr_update, wrr_pick,
};
