/*
 * shard.c — which shard of a shard map a key goes to.
 *
 *   hash       FNV-1a 64 of the key's bytes (as the client wrote them:
 *              "42" and "042" differ), modulo the number of shards;
 *   range      the key as a 64-bit integer: shard i takes keys from
 *              bounds[i] (inclusive) to bounds[i + 1]; shard 0 everything
 *              below bounds[1];
 *   directory  the key looked up as a string in the config's table, else
 *              the default shard if there is one.
 */
#include <string.h>

#include "core/util.h"
#include "pg/pg.h"

uint64_t pg_shard_hash(const char *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

int pg_shard_of(const struct pg_shard_map *m, const char *key, size_t len)
{
    if (m->nshards <= 0)
        return -1;
    switch (m->kind) {
    case PG_SHARD_HASH:
        return (int)(pg_shard_hash(key, len) % (uint64_t)m->nshards);
    case PG_SHARD_RANGE: {
        long long v;
        if (!util_str2ll(key, len, &v))
            return -1;
        int s = 0;
        for (int i = 1; i < m->nshards; i++)
            if (v >= m->bounds[i])
                s = i;
        return s;
    }
    default:
        for (int i = 0; i < m->ndir; i++)
            if (strlen(m->dir[i].key) == len && memcmp(m->dir[i].key, key, len) == 0)
                return m->dir[i].shard;
        return m->dir_default;
    }
}

struct pg_shard_map *pg_shard_map_find(struct pg_config *c, const char *database)
{
    for (int i = 0; i < c->nshard_maps; i++)
        if (strcmp(c->shard_maps[i].database, database) == 0)
            return &c->shard_maps[i];
    return NULL;
}
