/*
 * evict_ttl.c — volatile-ttl: among keys with a TTL, the one that would expire
 * soonest goes first.
 */
#include "kv/evict.h"

static uint64_t ttl_score(const struct kv_db *db, const struct kv_obj *o)
{
    (void)db;
    return UINT64_MAX - (uint64_t)obj_expire(o);
}

const struct kv_evict_policy kv_policy_volatile_ttl = {"volatile-ttl", true, false, ttl_score};
