/*
 * balance.c — the table of balancing algorithms and the helpers they share
 * (see balance.h). The algorithms themselves are in balance_*.c.
 */
#include "lb/balance.h"

#include <string.h>
#include <strings.h>
#include <xxhash.h>

const struct lb_balance_ops *const lb_balancers[LB_BALANCE__COUNT] = {
#define LB_X_ROW(id, sym) &sym,
    LB_BALANCERS(LB_X_ROW)
#undef LB_X_ROW
};

int lb_balance_find(const char *name)
{
    for (int i = 0; i < LB_BALANCE__COUNT; i++)
        if (strcasecmp(lb_balancers[i]->name, name) == 0)
            return i;
    /* common spellings of the same algorithms */
    if (strcasecmp(name, "rr") == 0)
        return LB_BALANCE_ROUNDROBIN;
    if (strcasecmp(name, "weighted") == 0 || strcasecmp(name, "swrr") == 0)
        return LB_BALANCE_WRR;
    if (strcasecmp(name, "least_conn") == 0 || strcasecmp(name, "leastconns") == 0)
        return LB_BALANCE_LEASTCONN;
    if (strcasecmp(name, "consistent") == 0 || strcasecmp(name, "consistent-hash") == 0)
        return LB_BALANCE_CHASH;
    if (strcasecmp(name, "leasttime") == 0 || strcasecmp(name, "least-time") == 0)
        return LB_BALANCE_LRT;
    if (strcasecmp(name, "random2") == 0 || strcasecmp(name, "power-of-two") == 0)
        return LB_BALANCE_P2C;
    return -1;
}

uint64_t lb_hash(const void *p, size_t n, uint64_t seed) { return XXH3_64bits_withSeed(p, n, seed); }

struct lb_peer *lb_balance_walk(struct lb_peer *const *peers, int n, const uint64_t *cum, uint64_t point,
                                const struct lb_pick_ctx *ctx)
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
        struct lb_peer *p = peers[(lo + i) % n];
        if (!lb_pick_excluded(ctx, p))
            return p;
    }
    return NULL;
}
