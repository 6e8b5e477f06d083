/*
 * balance_leastconn.c — the peer with the fewest requests in flight relative
 * to its weight (active / weight, across all workers); ties are broken in
 * round-robin order so that idle peers share the load evenly.
 */
#include "core/alloc.h"
#include "net/balance.h"

struct lc {
    unsigned next;
};

static void *lc_create(void) { return xcalloc(1, sizeof(struct lc)); }
static void lc_destroy(void *st) { xfree(st); }
static void lc_update(void *st, struct net_peer *const *peers, int n) { (void)st, (void)peers, (void)n; }

static struct net_peer *lc_pick(void *st, struct net_peer *const *peers, int n, const struct net_pick_ctx *ctx)
{
    struct lc *l = st;
    struct net_peer *best = NULL;
    long long ba = 0, bw = 1;
    unsigned start = l->next++;
    for (int i = 0; i < n; i++) {
        struct net_peer *p = peers[(start + (unsigned)i) % (unsigned)n];
        if (net_pick_excluded(ctx, p))
            continue;
        long long a = atomic_load_explicit(&p->active, memory_order_relaxed);
        long long wt = atomic_load_explicit(&p->weight, memory_order_relaxed);
        /* a / wt < ba / bw without division */
        if (!best || a * bw < ba * wt) {
            best = p;
            ba = a;
            bw = wt;
        }
    }
    return best;
}

const struct net_balance_ops net_balance_leastconn = {
    "leastconn", 0, "fewest requests in flight per unit of weight", lc_create, lc_destroy, lc_update, lc_pick,
};
