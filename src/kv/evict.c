/*
 * evict.c — shared eviction machinery (see evict.h).
 *
 * Sampled approximation, as Redis: each round samples maxmemory-samples keys,
 * scores the eligible ones and merges them into a pool of the 16 best
 * candidates seen so far (kept sorted by score, ascending). The best entry
 * is deleted if it still exists. Keeping the pool across rounds is what makes
 * 5 samples behave close to exact LRU/LFU/FIFO.
 *
 * The pool is process-wide and only touched with the keyspace lock held. It
 * holds copies of keys (short keys inline), never object pointers, since
 * objects move (realloc) and die between rounds.
 */
#include "kv/evict.h"

#include <string.h>

#include "core/alloc.h"
#include "core/rand.h"

const struct kv_evict_policy *const kv_policies[KV_EVICT__COUNT] = {
#define KV_X_ROW(id, name, sym) &sym,
    KV_EVICT_POLICIES(KV_X_ROW)
#undef KV_X_ROW
};

const struct conf_enum kv_policy_names[KV_EVICT__COUNT + 1] = {
#define KV_X_NAME(id, name, sym) {name, KV_EVICT_##id},
    KV_EVICT_POLICIES(KV_X_NAME)
#undef KV_X_NAME
    {NULL, 0},
};

#define POOL_INLINE_KEY 48
#define MAX_SAMPLES 64

struct pool_entry {
    uint64_t score;
    int db;                         /* database number of the key */
    size_t klen;
    char *key;                      /* points to inline or to a heap copy */
    char inline_key[POOL_INLINE_KEY];
};

static struct pool_entry pool[KV_EVPOOL_SIZE];
static int pool_len;
static const struct kv_evict_policy *pool_policy;
static const struct kv_db *pool_db;

static void entry_clear(struct pool_entry *e)
{
    if (e->key && e->key != e->inline_key)
        xfree(e->key);
    e->key = NULL;
    e->klen = 0;
}

static void pool_reset(void)
{
    for (int i = 0; i < pool_len; i++)
        entry_clear(&pool[i]);
    pool_len = 0;
}

static void entry_set(struct pool_entry *e, int db, uint64_t score, const char *key, size_t klen)
{
    e->score = score;
    e->db = db;
    e->klen = klen;
    e->key = klen <= POOL_INLINE_KEY ? e->inline_key : xmalloc(klen);
    memcpy(e->key, key, klen);
}

static bool pool_has(int db, const char *key, size_t klen)
{
    for (int i = 0; i < pool_len; i++)
        if (pool[i].db == db && pool[i].klen == klen && memcmp(pool[i].key, key, klen) == 0)
            return true;
    return false;
}

/* Insert keeping ascending order; when full, only if better than the worst. */
static void pool_insert(int db, uint64_t score, const char *key, size_t klen)
{
    if (pool_has(db, key, klen))
        return;
    int i = 0;
    while (i < pool_len && pool[i].score < score)
        i++;
    if (pool_len == KV_EVPOOL_SIZE) {
        if (i == 0)
            return; /* worse than everything in a full pool */
        /* drop the lowest (index 0), shift left up to i */
        pool[0].key = pool[0].klen <= POOL_INLINE_KEY ? pool[0].inline_key : pool[0].key;
        entry_clear(&pool[0]);
        memmove(&pool[0], &pool[1], sizeof(pool[0]) * (size_t)(i - 1));
        i--;
    } else {
        memmove(&pool[i + 1], &pool[i], sizeof(pool[0]) * (size_t)(pool_len - i));
        pool_len++;
    }
    /* the slot at i holds a stale struct copy now: reinitialize */
    pool[i].key = NULL;
    entry_set(&pool[i], db, score, key, klen);
    /* inline keys moved by memmove point into the old slot: fix them */
    for (int j = 0; j < pool_len; j++)
        if (pool[j].klen <= POOL_INLINE_KEY && pool[j].key)
            pool[j].key = pool[j].inline_key;
}

static bool eligible(const struct kv_evict_policy *p, const struct kv_obj *o)
{
    return !p->volatile_only || obj_has_ttl(o);
}

/* Remove o for eviction, telling the db's on_evict hook first. */
static bool evict_key(struct kv_db *db, struct kv_obj *o)
{
    if (db->on_evict)
        db->on_evict(db->on_evict_arg, obj_key(o), obj_klen(o));
    return kv_db_delete(db, obj_key(o), obj_klen(o));
}

static bool evict_random(struct kv_db *db, const struct kv_evict_policy *p)
{
    if (!p->volatile_only) {
        struct kv_obj *o = (struct kv_obj *)kv_dict_random(&db->d);
        if (!o)
            return false;
        return evict_key(db, o);
    }
    if (db->volatile_keys == 0)
        return false;
    /* sample until a key with a TTL shows up, bounded */
    struct dict_node *s[MAX_SAMPLES];
    for (int round = 0; round < 1000; round++) {
        unsigned n = kv_dict_sample(&db->d, s, 16);
        unsigned start = (unsigned)rand_below(n ? n : 1);
        for (unsigned k = 0; k < n; k++) {
            struct kv_obj *o = (struct kv_obj *)s[(start + k) % n];
            if (obj_has_ttl(o))
                return evict_key(db, o);
        }
    }
    return false;
}

/* Sample db into the pool: rounds until `samples` eligible keys were seen
 * (volatile policies see as many TTL keys per round as allkeys ones see
 * keys; Redis samples its expires dict, TTL keys are mixed in here). */
static void pool_fill(struct kv_db *db, const struct kv_evict_policy *p, int samples)
{
    if (samples > MAX_SAMPLES)
        samples = MAX_SAMPLES;
    struct dict_node *s[MAX_SAMPLES];
    int rounds = 0, seen = 0;
    do {
        unsigned n = kv_dict_sample(&db->d, s, (unsigned)samples);
        for (unsigned k = 0; k < n; k++) {
            struct kv_obj *o = (struct kv_obj *)s[k];
            if (eligible(p, o)) {
                pool_insert(db->id, p->score(db, o), obj_key(o), obj_klen(o));
                seen++;
            }
        }
    } while ((pool_len == 0 || seen < samples) && ++rounds < 100);
}

void kv_evict_pool_fill(struct kv_db *db, const struct kv_evict_policy *p, int samples)
{
    if (pool_policy != p || pool_db) {
        pool_reset();
        pool_policy = p;
        pool_db = NULL;
    }
    if (db_size(db) && (!p->volatile_only || db->volatile_keys))
        pool_fill(db, p, samples);
}

int kv_evict_pool_best_db(void) { return pool_len ? pool[pool_len - 1].db : -1; }

bool kv_evict_pool_take(struct kv_db *db, const struct kv_evict_policy *p)
{
    if (pool_len == 0)
        return false;
    /* best candidate = highest score = last */
    struct pool_entry *e = &pool[pool_len - 1];
    struct kv_obj **ref = NULL;
    if (e->db == db->id)
        ref = (struct kv_obj **)kv_dict_find_ref(&db->d, e->key, e->klen, kv_dict_hash(e->key, e->klen));
    bool ok = ref && eligible(p, *ref);
    if (ok) {
        if (db->on_evict)
            db->on_evict(db->on_evict_arg, obj_key(*ref), obj_klen(*ref));
        kv_db_delete_ref(db, ref);
    }
    entry_clear(e);
    pool_len--;
    return ok;
}

bool kv_evict_one(struct kv_db *db, const struct kv_evict_policy *p, int samples)
{
    if (p->noevict || db_size(db) == 0)
        return false;
    if (!p->score)
        return evict_random(db, p);
    if (p->volatile_only && db->volatile_keys == 0)
        return false;
    if (pool_policy != p || pool_db != db) {
        pool_reset();
        pool_policy = p;
        pool_db = db;
    }
    for (int tries = 0; tries < 100; tries++) {
        /* refill: volatile policies may need several rounds to see TTL keys */
        pool_fill(db, p, samples);
        if (pool_len == 0)
            return false;
        if (kv_evict_pool_take(db, p))
            return true;
    }
    return false;
}
