/*
 * balance_walk.c — the weighted pick helper the hash-style algorithms share
 * (balance_hash.c, balance_p2c.c; see balance.h). A file of its own so that
 * balance.c (the table, which names the algorithms) and the algorithms do not
 * call each other: balance.c -> balance_*.c -> balance_walk.c.
 */
#include "net/balance.h"

struct net_peer *net_balance_walk(struct net_peer *const *peers, int n, const uint64_t *cum, uint64_t point,
                                const struct net_pick_ctx *ctx)
{
    if (n == 0)
        return NULL;
    /* first i with cum[i] > point */
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (cum[mid] > point)
            hi = mid;
        else
            lo = mid + 1;
    }
    for (int i = 0; i < n; i++) {
        struct net_peer *p = peers[(lo + i) % n];
        if (!net_pick_excluded(ctx, p))
            return p;
    }
    return NULL;
}
