/*
 * evict.h — maxmemory eviction policies behind one small ops table.
 *
 * A policy says which keys it may evict (all, or only those with a TTL) and
 * how to score a sampled key (higher = evict sooner); the sampling, the pool
 * of best candidates and the deletion are shared (evict.c). Adding a policy is
 * one file with its struct kv_evict_policy and one row in kv_policies[].
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

extern const struct kv_evict_policy kv_policy_noeviction;
extern const struct kv_evict_policy kv_policy_allkeys_lru, kv_policy_volatile_lru;
extern const struct kv_evict_policy kv_policy_allkeys_lfu, kv_policy_volatile_lfu;
extern const struct kv_evict_policy kv_policy_volatile_ttl;
extern const struct kv_evict_policy kv_policy_allkeys_random, kv_policy_volatile_random;
extern const struct kv_evict_policy kv_policy_allkeys_fifo, kv_policy_volatile_fifo;

/* Indexed by the maxmemory-policy enum value. */
extern const struct kv_evict_policy *const kv_policies[];
extern const struct conf_enum kv_policy_names[];

#define KV_EVPOOL_SIZE 16

/*
 * Pick and delete one key by policy p; true if a key was evicted (its key
 * reported through db->on_expire-like hook is the caller's business).
 * Used by kv_evict and by the unit tests.
 */
bool kv_evict_one(struct kv_db *db, const struct kv_evict_policy *p, int samples);

#endif
