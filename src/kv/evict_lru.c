/*
 * evict_lru.c — least recently used: the key idle longest goes first.
 * Approximated by sampling (maxmemory-samples) into a pool, as Redis does.
 */
#include "kv/evict.h"

static uint64_t lru_score(const struct kv_db *db, const struct kv_obj *o) { return (uint64_t)kv_db_idle_ms(db, o); }

const struct kv_evict_policy kv_policy_allkeys_lru = {"allkeys-lru", false, false, lru_score};
const struct kv_evict_policy kv_policy_volatile_lru = {"volatile-lru", true, false, lru_score};
