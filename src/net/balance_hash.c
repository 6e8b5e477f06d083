/*
 * balance_hash.c — map-based hashing: the key's hash, modulo the total
 * weight, lands in one peer's share (each peer owns a range as wide as its
 * weight). `iphash` hashes the client address; `hash` hashes the key named in
 * the config (uri, header NAME, cookie NAME or ip). A request without the key
 * falls back to weighted round robin. Adding or removing a peer remaps most
 * keys: use chash when that matters.
 */
#include "core/alloc.h"
#include "net/balance.h"

struct hash {
    uint64_t *cum;
    int n, cap;
    uint64_t total;
    unsigned next;      /* fallback without a key */
};

static void *hash_create(void) { return xcalloc(1, sizeof(struct hash)); }

static void hash_destroy(void *st)
{
    struct hash *h = st;
    xfree(h->cum);
    xfree(h);
}

static void hash_update(void *st, struct net_peer *const *peers, int n)
{
    struct hash *h = st;
    if (n > h->cap) {
        h->cum = xrealloc(h->cum, (size_t)n * sizeof *h->cum);
        h->cap = n;
    }
    uint64_t t = 0;
    for (int i = 0; i < n; i++) {
        t += (uint64_t)atomic_load_explicit(&peers[i]->weight, memory_order_relaxed);
        h->cum[i] = t;
    }
    h->total = t;
    h->n = n;
}

static struct net_peer *hash_pick(void *st, struct net_peer *const *peers, int n, const struct net_pick_ctx *ctx)
{
    struct hash *h = st;
    if (n == 0 || h->total == 0 || n != h->n)
        return NULL;
    uint64_t point = ctx->has_key ? ctx->key % h->total : (uint64_t)(h->next++) % h->total;
    return net_balance_walk(peers, n, h->cum, point, ctx);
}

const struct net_balance_ops net_balance_hash = {
    "hash", NET_BAL_KEY, "hash of a key (uri, header NAME, cookie NAME, ip) over the weights",
    hash_create, hash_destroy, hash_update, hash_pick,
};

const struct net_balance_ops net_balance_iphash = {
    "iphash", NET_BAL_KEY, "hash of the client address over the weights",
    hash_create, hash_destroy, hash_update, hash_pick,
};
