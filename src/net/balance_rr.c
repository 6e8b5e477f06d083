/*
 * balance_rr.c — plain round robin: each usable peer in turn, weights
 * ignored (use wrr for weights).
 */
#include "core/alloc.h"
#include "net/balance.h"

struct rr {
    unsigned next;
};

static void *rr_create(void) { return xcalloc(1, sizeof(struct rr)); }
static void rr_destroy(void *st) { xfree(st); }
static void rr_update(void *st, struct net_peer *const *peers, int n) { (void)st, (void)peers, (void)n; }

static struct net_peer *rr_pick(void *st, struct net_peer *const *peers, int n, const struct net_pick_ctx *ctx)
{
    struct rr *r = st;
    for (int i = 0; i < n; i++) {
        unsigned idx = (r->next + (unsigned)i) % (unsigned)n;
        if (!net_pick_excluded(ctx, peers[idx])) {
            r->next = idx + 1;
            return peers[idx];
        }
    }
    return NULL;
}

const struct net_balance_ops net_balance_rr = {
    "roundrobin", 0, "each peer in turn (weights ignored)", rr_create, rr_destroy, rr_update, rr_pick,
};
