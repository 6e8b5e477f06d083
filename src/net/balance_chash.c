/*
 * balance_chash.c — consistent hashing on a ring (Karger et al.): each peer
 * puts 100 points per unit of weight on a 64-bit ring, at hashes of its name,
 * and a key belongs to the first point at or after the key's hash. Adding or
 * removing a peer moves only the keys of that peer's arcs, about 1/N of them;
 * since the points depend only on peer names, every worker (and every lb
 * process with the same names) builds the same ring.
 *
 * The ring itself is core/chash (the router uses it too); this file adapts it
 * to the balancer ops.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/chash.h"
#include "net/balance.h"

struct chash_state {
    struct chash ring;
    unsigned next;
};

static void *chash_create(void)
{
    struct chash_state *c = xcalloc(1, sizeof *c);
    chash_init(&c->ring);
    return c;
}

static void chash_destroy(void *st)
{
    struct chash_state *c = st;
    chash_deinit(&c->ring);
    xfree(c);
}

static void chash_update(void *st, struct net_peer *const *peers, int n)
{
    struct chash_state *c = st;
    const char **names = xcalloc((size_t)(n ? n : 1), sizeof *names);
    long long *weights = xcalloc((size_t)(n ? n : 1), sizeof *weights);
    for (int i = 0; i < n; i++) {
        names[i] = peers[i]->name;
        weights[i] = atomic_load_explicit(&peers[i]->weight, memory_order_relaxed);
    }
    chash_build(&c->ring, names, weights, n);
    xfree(names);
    xfree(weights);
}

static struct net_peer *chash_pick(void *st, struct net_peer *const *peers, int n, const struct net_pick_ctx *ctx)
{
    struct chash_state *c = st;
    if (n == 0 || c->ring.npoints == 0 || n != c->ring.nmembers)
        return NULL;
    /* without a key: spread over the ring */
    uint64_t key = ctx->has_key ? ctx->key : net_hash(&c->next, sizeof c->next, 0x9e3779b9);
    c->next++;
    size_t pos = chash_find(&c->ring, key);
    for (size_t i = 0; i < c->ring.npoints; i++) {
        struct net_peer *p = peers[chash_member_at(&c->ring, pos + i)];
        if (!net_pick_excluded(ctx, p))
            return p;
    }
    return NULL;
}

const struct net_balance_ops net_balance_chash = {
    "chash", NET_BAL_KEY, "consistent hashing of a key (ip, uri, header NAME, cookie NAME)",
    chash_create, chash_destroy, chash_update, chash_pick,
};
