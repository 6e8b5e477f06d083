/*
 * evict_lfu.c — least frequently used: the key with the lowest (decayed)
 * logarithmic access counter goes first; ties go to the one idle longest.
 */
#include "kv/evict.h"

static uint64_t lfu_score(const struct kv_db *db, const struct kv_obj *o)
{
    uint64_t freq = kv_db_lfu_decayed(db, o);
    uint64_t idle = (uint64_t)kv_db_idle_ms(db, o);
    if (idle > 0xffffffffULL)
        idle = 0xffffffffULL;
    return ((255 - freq) << 32) | idle;
}

const struct kv_evict_policy kv_policy_allkeys_lfu = {"allkeys-lfu", false, false, lfu_score};
const struct kv_evict_policy kv_policy_volatile_lfu = {"volatile-lfu", true, false, lfu_score};
