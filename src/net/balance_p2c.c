/*
 * balance_p2c.c — power of two random choices (Mitzenmacher): draw two
 * distinct peers at random, in proportion to their weights, and take the one
 * with fewer requests in flight per unit of weight. Nearly as good as
 * leastconn, with no herd on the single least-loaded peer when several
 * balancers (threads, processes) decide at once.
 */
#include "core/alloc.h"
#include "core/rand.h"
#include "net/balance.h"

struct p2c {
    uint64_t *cum;
    int n, cap;
    uint64_t total;
};

static void *p2c_create(void) { return xcalloc(1, sizeof(struct p2c)); }

static void p2c_destroy(void *st)
{
    struct p2c *c = st;
    xfree(c->cum);
    xfree(c);
}

static void p2c_update(void *st, struct net_peer *const *peers, int n)
{
    struct p2c *c = st;
    if (n > c->cap) {
        c->cum = xrealloc(c->cum, (size_t)n * sizeof *c->cum);
        c->cap = n;
    }
    uint64_t t = 0;
    for (int i = 0; i < n; i++) {
        t += (uint64_t)atomic_load_explicit(&peers[i]->weight, memory_order_relaxed);
        c->cum[i] = t;
    }
    c->total = t;
    c->n = n;
}

static struct net_peer *p2c_pick(void *st, struct net_peer *const *peers, int n, const struct net_pick_ctx *ctx)
{
    struct p2c *c = st;
    if (n == 0 || c->total == 0 || n != c->n)
        return NULL;
    struct net_peer *a = net_balance_walk(peers, n, c->cum, rand_below(c->total), ctx);
    if (!a)
        return NULL;
    /* the second choice must differ from the first */
    struct net_peer *ex[64];
    int nex = 0;
    for (int i = 0; i < ctx->nexclude && nex < 63; i++)
        ex[nex++] = ctx->exclude[i];
    ex[nex++] = a;
    struct net_pick_ctx c2 = *ctx;
    c2.exclude = ex;
    c2.nexclude = nex;
    struct net_peer *b = net_balance_walk(peers, n, c->cum, rand_below(c->total), &c2);
    if (!b)
        return a;
    long long aa = atomic_load_explicit(&a->active, memory_order_relaxed);
    long long ba = atomic_load_explicit(&b->active, memory_order_relaxed);
    long long aw = atomic_load_explicit(&a->weight, memory_order_relaxed);
    long long bw = atomic_load_explicit(&b->weight, memory_order_relaxed);
    /* a tie goes to the first draw, so idle peers share by weight */
    return ba * aw < aa * bw ? b : a;
}

const struct net_balance_ops net_balance_p2c = {
    "p2c", 0, "power of two random choices (weighted draw, fewer in flight wins)",
    p2c_create, p2c_destroy, p2c_update, p2c_pick,
};
