/*
 * evict_fifo.c — first in, first out: the key inserted earliest goes first
 * (overwriting a key keeps its place, as a cache entry refreshed in place).
 * Insertion numbers are 32-bit and compared by distance from the newest, so
 * wrap-around after 4 billion inserts is harmless.
 */
#include "kv/evict.h"

static uint64_t fifo_score(const struct kv_db *db, const struct kv_obj *o)
{
    return (uint32_t)(db->seq - o->seq);
}

const struct kv_evict_policy kv_policy_allkeys_fifo = {"allkeys-fifo", false, false, fifo_score};
const struct kv_evict_policy kv_policy_volatile_fifo = {"volatile-fifo", true, false, fifo_score};
