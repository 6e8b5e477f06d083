/*
 * evict_random.c — a random key (among all, or among those with a TTL).
 * No score: the shared code deletes the first eligible sampled key.
 */
#include "kv/evict.h"

const struct kv_evict_policy kv_policy_allkeys_random = {"allkeys-random", false, false, NULL};
const struct kv_evict_policy kv_policy_volatile_random = {"volatile-random", true, false, NULL};
const struct kv_evict_policy kv_policy_noeviction = {"noeviction", false, true, NULL};
