/*
 * balance_lrt.c — least response time: the lowest moving average of response
 * time multiplied by the requests in flight plus one, per unit of weight.
 * The average (peer->ewma_us, updated by the proxy on every response head)
 * makes slow peers get less (it decays while a peer gets no traffic); counting in-flight requests keeps one fast peer
 * from taking everything under concurrency. Ties go round robin.
 */
#include "core/alloc.h"
#include "net/balance.h"

struct lrt {
    unsigned next;
};

static void *lrt_create(void) { return xcalloc(1, sizeof(struct lrt)); }
static void lrt_destroy(void *st) { xfree(st); }
static void lrt_update(void *st, struct net_peer *const *peers, int n) { (void)st, (void)peers, (void)n; }

static struct net_peer *lrt_pick(void *st, struct net_peer *const *peers, int n, const struct net_pick_ctx *ctx)
{
    struct lrt *l = st;
    struct net_peer *best = NULL;
    double bs = 0;
    unsigned start = l->next++;
    for (int i = 0; i < n; i++) {
        struct net_peer *p = peers[(start + (unsigned)i) % (unsigned)n];
        if (net_pick_excluded(ctx, p))
            continue;
        uint64_t e = atomic_load_explicit(&p->ewma_us, memory_order_relaxed);
        /* an average nobody fed for a while halves every second, so a peer
         * that was slow once gets tried again and can prove it recovered */
        long long idle = ctx->now - atomic_load_explicit(&p->ewma_at, memory_order_relaxed);
        if (idle > 1000)
            e >>= (idle / 1000 > 62 ? 62 : idle / 1000);
        double ewma = (double)e;
        double a = (double)atomic_load_explicit(&p->active, memory_order_relaxed);
        double w = (double)atomic_load_explicit(&p->weight, memory_order_relaxed);
        double score = (ewma + 100.0) * (a + 1.0) / w;
        if (!best || score < bs) {
            best = p;
            bs = score;
        }
    }
    return best;
}

const struct net_balance_ops net_balance_lrt = {
    "lrt", NET_BAL_L7, "least response time (moving average x requests in flight, per weight)",
    lrt_create, lrt_destroy, lrt_update, lrt_pick,
};
