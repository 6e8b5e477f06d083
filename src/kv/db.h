/*
 * db.h — the kv keyspace: objects, lookups with lazy expiry, TTLs, and the
 * hooks that eviction, expiry, replication and persistence hang on.
 *
 * One object is one allocation:
 *
 *   struct kv_obj (28 bytes)        data[]
 *   +------+----+----+--+--+----+----+------------+-------------+---------------+
 *   | next |klen|vlen|tf|lf|ldt |lru |seq | key bytes | [expire ms] | value           |
 *   +------+----+----+--+--+----+----+------------+-------------+---------------+
 *                                                   8 bytes, only   string: vlen bytes
 *                                                   with OBJ_F_TTL  hash: struct kv_hash *
 *
 * so a 10-byte key with a 64-byte value costs one 112-byte malloc chunk plus
 * its bucket pointer (Redis: dictEntry + robj + two sds + bucket ≈ 150 bytes).
 * Strings grow in place up to the allocator's usable size (APPEND, SETRANGE).
 * Any call that may reallocate an object returns the new pointer; pointers
 * taken before such a call are stale.
 *
 * Everything here runs with the keyspace lock held (see server.h).
 */
#ifndef SCALEOUT_KV_DB_H
#define SCALEOUT_KV_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kv/dict.h"

enum kv_type {
    OBJ_STRING = 0,
    OBJ_HASH = 1,
    OBJ_ZSET = 4,
    OBJ_LIST = 2,          /* struct kv_list * (listobj.h) */
    OBJ_SET = 3,           /* struct kv_set * (setobj.h) */
    OBJ_STREAM = 5,        /* struct kv_stream * (streamobj.h) */
};

enum {
    OBJ_F_TTL = 1 << 4,    /* an expire time follows the key */
};

struct kv_hash;
struct kv_zset;

struct kv_obj {
    struct dict_node dn;   /* dn.klen: key length, dn.meta: string value length */
    uint8_t tf;            /* type (low 4 bits) | flags */
    uint8_t lfu;           /* LFU logarithmic access counter */
    uint16_t ldt;          /* LFU: minutes clock of the last decrement */
    uint32_t lru;          /* LRU clock (16 ms units) of the last access */
    uint32_t seq;          /* insertion order, for FIFO eviction */
    char data[];
};

#define KV_OBJ_HDR offsetof(struct kv_obj, data)

static inline int obj_type(const struct kv_obj *o) { return o->tf & 0x0f; }
static inline bool obj_has_ttl(const struct kv_obj *o) { return (o->tf & OBJ_F_TTL) != 0; }
static inline const char *obj_key(const struct kv_obj *o) { return o->data; }
static inline uint32_t obj_klen(const struct kv_obj *o) { return o->dn.klen; }
static inline char *obj_val(struct kv_obj *o) { return o->data + o->dn.klen + (obj_has_ttl(o) ? 8 : 0); }
static inline const char *obj_cval(const struct kv_obj *o) { return o->data + o->dn.klen + (obj_has_ttl(o) ? 8 : 0); }
static inline uint32_t obj_vlen(const struct kv_obj *o) { return o->dn.meta; }
static inline long long obj_expire(const struct kv_obj *o)
{
    long long t;
    if (!obj_has_ttl(o))
        return -1;
    memcpy(&t, o->data + o->dn.klen, 8);
    return t;
}
static inline struct kv_hash *obj_hash(const struct kv_obj *o)
{
    struct kv_hash *h;
    memcpy(&h, obj_cval(o), sizeof h);
    return h;
}

static inline struct kv_zset *obj_zset(const struct kv_obj *o)
{
    struct kv_zset *z;
    memcpy(&z, obj_cval(o), sizeof z);
    return z;
}
/* The value of a container type (hash, list, set...): a pointer. */
static inline void *obj_ptr(const struct kv_obj *o)
{
    void *p;
    memcpy(&p, obj_cval(o), sizeof p);
    return p;
}
static inline void obj_set_ptr(struct kv_obj *o, void *p) { memcpy(obj_val(o), &p, sizeof p); }

/* Keyspace statistics (INFO stats / keyspace, /metrics). */
struct kv_db_stats {
    uint64_t hits, misses;
    uint64_t expired;        /* keys removed because their TTL passed */
    uint64_t evicted;        /* keys removed by maxmemory eviction */
    uint64_t expire_cycles;  /* active expiry cycles run */
};

struct kv_db {
    /* the data of one database: kv_db_exchange moves these fields */
    struct dict d;
    uint64_t volatile_keys;  /* keys with a TTL */
    uint32_t seq;            /* next insertion number */
    int id;                  /* database number (SELECT) */
    long long avg_ttl;       /* estimated mean TTL left of volatile keys, ms (INFO keyspace) */
    uint64_t expire_cursor;  /* active expiry's scan position */
    /* the context (statistics, clock, settings, hooks) stays in place */
    struct kv_db_stats st;
    long long now_ms;        /* cached clock for the current command batch */
    int lfu_log_factor;      /* LFU counter growth (Redis lfu-log-factor, 10) */
    int lfu_decay_time;      /* minutes per counter decrement (lfu-decay-time, 1) */
    int expire_mode;         /* DB_EXPIRE_*: what a passed TTL means (replicas) */
    /* called for each key removed by expiry (for propagation: DEL); may be NULL */
    void (*on_expire)(void *arg, const char *key, size_t klen);
    void *on_expire_arg;
    /* called for each key removed by maxmemory eviction, before it goes; may be NULL */
    void (*on_evict)(void *arg, const char *key, size_t klen);
    void *on_evict_arg;
    /* called for each key created (kv_db_add: not a replacement); may be NULL */
    void (*on_new)(void *arg, const char *key, size_t klen);
    void *on_new_arg;
    /* called for each read lookup that finds no key (a keyspace miss); may be NULL */
    void (*on_miss)(void *arg, const char *key, size_t klen);
    void *on_miss_arg;
    /* called for each object added or replacing a value (blocking pops wake on it); may be NULL */
    void (*on_add)(void *arg, const struct kv_obj *o);
    void *on_add_arg;
    /* called for every change of a key: added, replaced, deleted (also by
     * expiry and eviction), its TTL set or removed, its value changed in
     * place (db_modified); WATCH hangs here. May be NULL */
    void (*on_modify)(void *arg, const char *key, size_t klen);
    void *on_modify_arg;
};

/* A command changed the value of key in place (a push, an increment...):
 * the calls that add, replace or delete objects signal by themselves. */
static inline void db_modified(struct kv_db *db, const char *key, size_t klen)
{
    if (db->on_modify)
        db->on_modify(db->on_modify_arg, key, klen);
}

/* What a key whose TTL passed is, as Redis's expireIfNeeded on replicas. */
enum {
    DB_EXPIRE_NORMAL = 0, /* deleted when met (lazy) and by the active cycle */
    DB_EXPIRE_KEEP = 1,   /* a read-only replica: absent to lookups but kept (the primary's DEL removes it) */
    DB_EXPIRE_NONE = 2,   /* the primary's stream is applied: not expired at all */
};

void kv_db_init(struct kv_db *db);
void kv_db_deinit(struct kv_db *db);
void kv_db_flush(struct kv_db *db);
/*
 * Exchange the data of two databases (keys, TTL count, expiry cursor...;
 * with_id: their numbers too), leaving statistics, clock, settings and hooks
 * where they are. The server keeps the selected database in one slot and
 * the others beside it (server.h: kv_db_select); SWAPDB exchanges data only.
 */
void kv_db_exchange(struct kv_db *a, struct kv_db *b, bool with_id);
static inline uint64_t db_size(const struct kv_db *db) { return dict_size(&db->d); }

/* Clocks used for LRU/LFU (set from now_ms by kv_db_set_now). */
void kv_db_set_now(struct kv_db *db, long long now_ms);
uint32_t kv_db_lru_clock(const struct kv_db *db);

enum {
    LOOKUP_WRITE = 1 << 0,   /* a write lookup: no hit/miss statistics */
    LOOKUP_NOTOUCH = 1 << 1, /* do not update LRU/LFU (TYPE, OBJECT, TTL...) */
    LOOKUP_NOEXPIRE = 1 << 2,/* see an expired key as absent but leave it (none yet) */
    LOOKUP_NONOTIFY = 1 << 3,/* a miss raises no "keymiss" event (OBJECT, as Redis) */
};

/*
 * Look a key up; an expired key is deleted (lazy expiry) and reported absent.
 * Returns a link to the object (for replacement or deletion), NULL if absent.
 */
struct kv_obj **kv_db_lookup_ref(struct kv_db *db, const char *key, size_t klen, int flags);
static inline struct kv_obj *db_lookup(struct kv_db *db, const char *key, size_t klen, int flags)
{
    struct kv_obj **r = kv_db_lookup_ref(db, key, klen, flags);
    return r ? *r : NULL;
}

/* Create a string object (not yet in the db). expire_ms < 0: no TTL. */
struct kv_obj *kv_obj_new_string(const char *key, size_t klen, const char *val, size_t vlen, long long expire_ms);
struct kv_obj *kv_obj_new_hash(const char *key, size_t klen, struct kv_hash *h, long long expire_ms);
struct kv_obj *kv_obj_new_zset(const char *key, size_t klen, struct kv_zset *z, long long expire_ms);
/* A container object (OBJ_LIST, OBJ_SET...) holding p; kv_obj_free frees p by type. */
struct kv_obj *kv_obj_new_ptr(const char *key, size_t klen, int type, void *p, long long expire_ms);
void kv_obj_free(struct kv_obj *o);
/* Usable bytes for a string value of o without reallocation. */
size_t kv_obj_string_capacity(const struct kv_obj *o);

/*
 * Store o under its key, replacing (and freeing) any previous value.
 * keep_ttl: carry the old TTL over (SET KEEPTTL) when o has none.
 * Returns the stored object (it may have been reallocated to add the TTL).
 */
struct kv_obj *kv_db_set(struct kv_db *db, struct kv_obj *o, bool keep_ttl);
/* Add o under a key known to be absent. */
void kv_db_add(struct kv_db *db, struct kv_obj *o);
/* Replace the object *ref points to with o (same key), freeing the old one. */
void kv_db_replace(struct kv_db *db, struct kv_obj **ref, struct kv_obj *o);
/* Delete a key; true if it existed (and was not expired). */
bool kv_db_delete(struct kv_db *db, const char *key, size_t klen);
/* Delete the object *ref points to (ref from the latest kv_db_lookup_ref). */
void kv_db_delete_ref(struct kv_db *db, struct kv_obj **ref);
/* Unlink without freeing (RENAME moves the value). */
struct kv_obj *kv_db_unlink_ref(struct kv_db *db, struct kv_obj **ref);

/*
 * Set (when_ms >= 0) or remove (when_ms < 0) the TTL of the object at *ref.
 * May reallocate: *ref is updated and the new object returned.
 */
struct kv_obj *kv_db_set_expire(struct kv_db *db, struct kv_obj **ref, long long when_ms);

/* Resize a string value to vlen bytes (content up to min(old, new) kept). */
/* SET over an existing string without TTL whose value is as long or a little
 * longer: the new value is written in place (no allocation, no second
 * lookup), as kv_db_replace would leave it. false: nothing done, replace it. */
bool kv_db_string_overwrite(struct kv_db *db, struct kv_obj **ref, const char *v, size_t vlen);
struct kv_obj *kv_db_string_resize(struct kv_db *db, struct kv_obj **ref, size_t vlen);
/* The same for a size a request chose: NULL (nothing changed) when the
 * allocation fails, instead of aborting. */
struct kv_obj *kv_db_string_try_resize(struct kv_db *db, struct kv_obj **ref, size_t vlen);

/* Delete o if it is expired at now_ms; true if it was. */
bool kv_db_expire_if_needed(struct kv_db *db, struct kv_obj **ref);

/* Memory the object holds (for MEMORY USAGE and eviction accounting). */
size_t kv_obj_memory(const struct kv_obj *o);

/* LFU: the counter after decay for the time since o->ldt (read-only). */
unsigned kv_db_lfu_decayed(const struct kv_db *db, const struct kv_obj *o);
/* LRU: milliseconds since o was last accessed. */
long long kv_db_idle_ms(const struct kv_db *db, const struct kv_obj *o);

#endif
