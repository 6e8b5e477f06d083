/*
 * evict.h — maxmemory eviction policies behind one small ops table.
 *
 * A policy says which keys it may evict (all, or only those with a TTL) and
 * how to score a sampled key (higher = evict sooner); the sampling, the pool
 * of best candidates and the deletion are shared (evict.c). Adding a policy is
 * one file with its struct kv_evict_policy and one row in KV_EVICT_POLICIES.
 */
#ifndef SCALEOUT_KV_EVICT_H
#define SCALEOUT_KV_EVICT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "kv/db.h"

struct kv_evict_policy {
    const char *name;
    bool volatile_only;   /* only keys with a TTL are candidates */
    bool noevict;         /* never evict: writes fail when over the limit */
    /* score a candidate, higher = evict first; NULL = random choice */
    uint64_t (*score)(const struct kv_db *db, const struct kv_obj *o);
};

/* One row per policy: id, its maxmemory-policy name, its ops (one file).
 * The order is the one CONFIG SET's error lists them in (Redis's first, then
 * ours); a row's position is its maxmemory-policy value. */
#define KV_EVICT_POLICIES(X) \
    X(VOLATILE_LRU,    "volatile-lru",    kv_policy_volatile_lru) \
    X(VOLATILE_LFU,    "volatile-lfu",    kv_policy_volatile_lfu) \
    X(VOLATILE_RANDOM, "volatile-random", kv_policy_volatile_random) \
    X(VOLATILE_TTL,    "volatile-ttl",    kv_policy_volatile_ttl) \
    X(ALLKEYS_LRU,     "allkeys-lru",     kv_policy_allkeys_lru) \
    X(ALLKEYS_LFU,     "allkeys-lfu",     kv_policy_allkeys_lfu) \
    X(ALLKEYS_RANDOM,  "allkeys-random",  kv_policy_allkeys_random) \
    X(NOEVICTION,      "noeviction",      kv_policy_noeviction) \
    X(ALLKEYS_FIFO,    "allkeys-fifo",    kv_policy_allkeys_fifo) \
    X(VOLATILE_FIFO,   "volatile-fifo",   kv_policy_volatile_fifo)

enum kv_evict_id {
#define KV_X_ID(id, name, sym) KV_EVICT_##id,
    KV_EVICT_POLICIES(KV_X_ID)
#undef KV_X_ID
    KV_EVICT__COUNT
};

#define KV_X_DECL(id, name, sym) extern const struct kv_evict_policy sym;
KV_EVICT_POLICIES(KV_X_DECL)
#undef KV_X_DECL

/* Indexed by the maxmemory-policy value (enum kv_evict_id). */
extern const struct kv_evict_policy *const kv_policies[KV_EVICT__COUNT];
/* The maxmemory-policy names and values, from the same rows. */
extern const struct conf_enum kv_policy_names[KV_EVICT__COUNT + 1];

#define KV_EVPOOL_SIZE 16

/*
 * Pick and delete one key by policy p; true if a key was evicted (its key
 * reported through db->on_expire-like hook is the caller's business).
 * Used by kv_evict and by the unit tests.
 */
bool kv_evict_one(struct kv_db *db, const struct kv_evict_policy *p, int samples);

/*
 * Eviction across databases (kv_evict with `databases` > 1), with one pool
 * for all of them as Redis: fill samples db (the selected one; its entries
 * remember db->id), best_db names the database of the best candidate (-1:
 * pool empty), take deletes that candidate from db if it still exists and
 * is eligible (true) and drops it from the pool either way.
 */
void kv_evict_pool_fill(struct kv_db *db, const struct kv_evict_policy *p, int samples);
int kv_evict_pool_best_db(void);
bool kv_evict_pool_take(struct kv_db *db, const struct kv_evict_policy *p);

#endif
