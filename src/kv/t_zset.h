/*
 * t_zset.h — what the sorted-set commands offer to other kv files: the pop
 * step that ZPOPMIN/ZPOPMAX/ZMPOP run, shaped so that a blocking layer
 * (BZPOPMIN, BZPOPMAX, BZMPOP) can call it when one of its keys may have
 * been filled.
 */
#ifndef SCALEOUT_KV_T_ZSET_H
#define SCALEOUT_KV_T_ZSET_H

#include <stdbool.h>

#include "kv/types.h"

/* Reply shapes of Redis's genericZpopCommand. */
enum kv_zpop_reply {
    KV_ZPOP_FLAT,       /* m1 s1 m2 s2 ... (ZPOPMIN/ZPOPMAX in RESP2, or without COUNT) */
    KV_ZPOP_NESTED,     /* [m1 s1] [m2 s2] ... (ZPOPMIN/ZPOPMAX with COUNT in RESP3) */
    KV_ZPOP_KEY_FLAT,   /* key m1 s1 ... (BZPOPMIN/BZPOPMAX) */
    KV_ZPOP_KEY_NESTED, /* key [[m1 s1] ...] (ZMPOP/BZMPOP) */
};

/*
 * Pop up to `count` (>= 1) elements, lowest scores first (highest with
 * max), from the first of keys[0..nkeys) that holds a sorted set, and reply
 * them in the given shape. A key that becomes empty is deleted.
 * Returns 1 when it popped and replied, 0 when every key is absent (nothing
 * replied: the caller answers empty, or blocks), -1 after replying WRONGTYPE
 * for the first existing key of another type. Keyspace lock held.
 */
int kv_zset_pop(struct kv_client *c, const struct resp_arg *keys, int nkeys, bool max, long long count,
                enum kv_zpop_reply shape);

/* ZADD, which GEOADD runs with the coordinates turned into scores. */
void kv_cmd_ZADD(struct kv_client *c, int argc, struct resp_arg *argv);

#endif
