/*
 * db.c — the kv keyspace (see db.h): object allocation, lookups with lazy
 * expiry and access tracking (LRU clock, LFU counter), TTL changes.
 */
#include "kv/db.h"

#include <stdlib.h>

#include "core/alloc.h"
#include "core/rand.h"
#include "kv/hashobj.h"
#include "kv/zsetobj.h"
#include "kv/listobj.h"
#include "kv/setobj.h"
#include "kv/streamobj.h"

#define LFU_INIT_VAL 5

void kv_db_init(struct kv_db *db)
{
    memset(db, 0, sizeof *db);
    kv_dict_init(&db->d, KV_OBJ_HDR);
    db->lfu_log_factor = 10;
    db->lfu_decay_time = 1;
}

static void free_obj_node(struct dict_node *n, void *arg)
{
    (void)arg;
    kv_obj_free((struct kv_obj *)n);
}

void kv_db_deinit(struct kv_db *db)
{
    kv_dict_deinit(&db->d, free_obj_node, NULL);
}

void kv_db_flush(struct kv_db *db)
{
    kv_dict_deinit(&db->d, free_obj_node, NULL);
    kv_dict_init(&db->d, KV_OBJ_HDR);
    db->volatile_keys = 0;
    db->avg_ttl = 0;
    db->expire_cursor = 0;
}

void kv_db_exchange(struct kv_db *a, struct kv_db *b, bool with_id)
{
    struct dict d = a->d;
    a->d = b->d;
    b->d = d;
#define SWAP_FIELD(f)        \
    do {                     \
        __typeof__(a->f) t = a->f; \
        a->f = b->f;         \
        b->f = t;            \
    } while (0)
    SWAP_FIELD(volatile_keys);
    SWAP_FIELD(seq);
    SWAP_FIELD(avg_ttl);
    SWAP_FIELD(expire_cursor);
    if (with_id)
        SWAP_FIELD(id);
#undef SWAP_FIELD
}

void kv_db_set_now(struct kv_db *db, long long now_ms) { db->now_ms = now_ms; }
uint32_t kv_db_lru_clock(const struct kv_db *db) { return (uint32_t)(db->now_ms >> 4); }

static inline uint16_t minutes_clock(const struct kv_db *db) { return (uint16_t)((db->now_ms / 60000) & 0xffff); }

long long kv_db_idle_ms(const struct kv_db *db, const struct kv_obj *o)
{
    uint32_t now = kv_db_lru_clock(db);
    return (long long)(uint32_t)(now - o->lru) << 4;
}

unsigned kv_db_lfu_decayed(const struct kv_db *db, const struct kv_obj *o)
{
    if (db->lfu_decay_time <= 0)
        return o->lfu;
    uint16_t now = minutes_clock(db);
    unsigned elapsed = (uint16_t)(now - o->ldt);
    unsigned periods = elapsed / (unsigned)db->lfu_decay_time;
    return periods >= o->lfu ? 0 : o->lfu - periods;
}

/* Access tracking, kept for both LRU and LFU so the policy can change at run time. */
static inline void touch(struct kv_db *db, struct kv_obj *o)
{
    o->lru = kv_db_lru_clock(db);
    unsigned c = kv_db_lfu_decayed(db, o);
    if (c < 255) {
        /* logarithmic increment: p = 1 / ((c - init) * factor + 1) */
        double base = c > LFU_INIT_VAL ? (double)(c - LFU_INIT_VAL) : 0;
        double p = 1.0 / (base * db->lfu_log_factor + 1);
        if ((double)(rand64() >> 11) * (1.0 / 9007199254740992.0) < p)
            c++;
    }
    o->lfu = (uint8_t)c;
    o->ldt = minutes_clock(db);
}

static struct kv_obj *obj_alloc(const char *key, size_t klen, long long expire_ms, size_t vsize, int type)
{
    size_t ttl = expire_ms >= 0 ? 8 : 0;
    struct kv_obj *o = xmalloc(KV_OBJ_HDR + klen + ttl + vsize);
    o->dn.next = NULL;
    o->dn.klen = (uint32_t)klen;
    o->dn.meta = 0;
    o->tf = (uint8_t)type | (ttl ? OBJ_F_TTL : 0);
    o->lfu = LFU_INIT_VAL;
    o->ldt = 0;
    o->lru = 0;
    o->seq = 0;
    memcpy(o->data, key, klen);
    if (ttl)
        memcpy(o->data + klen, &expire_ms, 8);
    return o;
}

struct kv_obj *kv_obj_new_string(const char *key, size_t klen, const char *val, size_t vlen, long long expire_ms)
{
    struct kv_obj *o = obj_alloc(key, klen, expire_ms, vlen, OBJ_STRING);
    o->dn.meta = (uint32_t)vlen;
    if (vlen)
        memcpy(obj_val(o), val, vlen);
    return o;
}

struct kv_obj *kv_obj_new_hash(const char *key, size_t klen, struct kv_hash *h, long long expire_ms)
{
    struct kv_obj *o = obj_alloc(key, klen, expire_ms, sizeof h, OBJ_HASH);
    memcpy(obj_val(o), &h, sizeof h);
    return o;
}

struct kv_obj *kv_obj_new_zset(const char *key, size_t klen, struct kv_zset *z, long long expire_ms)
{
    return kv_obj_new_ptr(key, klen, OBJ_ZSET, z, expire_ms);
}

struct kv_obj *kv_obj_new_ptr(const char *key, size_t klen, int type, void *p, long long expire_ms)
{
    struct kv_obj *o = obj_alloc(key, klen, expire_ms, sizeof p, type);
    obj_set_ptr(o, p);
    return o;
}

void kv_obj_free(struct kv_obj *o)
{
    if (obj_type(o) == OBJ_HASH)
        kv_hash_free(obj_hash(o));
    else if (obj_type(o) == OBJ_ZSET)
        kv_zset_free(obj_zset(o));
    else if (obj_type(o) == OBJ_LIST)
        kv_list_free(obj_ptr(o));
    else if (obj_type(o) == OBJ_SET)
        kv_set_free(obj_ptr(o));
    else if (obj_type(o) == OBJ_STREAM)
        kv_stream_free(obj_ptr(o));
    xfree(o);
}

size_t kv_obj_string_capacity(const struct kv_obj *o)
{
    return xalloc_size(o) - (size_t)(obj_cval(o) - (const char *)o);
}

size_t kv_obj_memory(const struct kv_obj *o)
{
    size_t m = xalloc_size(o) + sizeof(void *);
    if (obj_type(o) == OBJ_HASH)
        m += kv_hash_memory(obj_hash(o));
    else if (obj_type(o) == OBJ_ZSET)
        m += kv_zset_memory(obj_zset(o));
    else if (obj_type(o) == OBJ_LIST)
        m += kv_list_memory(obj_ptr(o));
    else if (obj_type(o) == OBJ_SET)
        m += kv_set_memory(obj_ptr(o));
    else if (obj_type(o) == OBJ_STREAM)
        m += kv_stream_memory(obj_ptr(o));
    return m;
}

/* force: delete even in DB_EXPIRE_KEEP (a write replacing the key must not leave it twice).
 * As Redis, a key is expired once the clock is past its time: at exactly its
 * millisecond it still answers (PTTL 0). Setting a time that is not in the
 * future deletes at once (t_string.c, t_keys.c: Redis's checkAlreadyExpired). */
static bool expire_ref(struct kv_db *db, struct kv_obj **ref, bool force)
{
    struct kv_obj *o = *ref;
    if (!obj_has_ttl(o) || obj_expire(o) >= db->now_ms || db->expire_mode == DB_EXPIRE_NONE)
        return false;
    if (db->expire_mode == DB_EXPIRE_KEEP && !force)
        return true;
    if (db->on_expire)
        db->on_expire(db->on_expire_arg, obj_key(o), obj_klen(o));
    db->st.expired++;
    kv_db_delete_ref(db, ref);
    return true;
}

bool kv_db_expire_if_needed(struct kv_db *db, struct kv_obj **ref) { return expire_ref(db, ref, false); }

struct kv_obj **kv_db_lookup_ref(struct kv_db *db, const char *key, size_t klen, int flags)
{
    struct kv_obj **ref = (struct kv_obj **)kv_dict_find_ref(&db->d, key, klen, kv_dict_hash(key, klen));
    if (ref && kv_db_expire_if_needed(db, ref))
        ref = NULL;
    if (!ref) {
        if (!(flags & LOOKUP_WRITE)) {
            db->st.misses++;
            if (db->on_miss && !(flags & LOOKUP_NONOTIFY))
                db->on_miss(db->on_miss_arg, key, klen);
        }
        return NULL;
    }
    if (!(flags & LOOKUP_WRITE))
        db->st.hits++;
    if (!(flags & LOOKUP_NOTOUCH))
        touch(db, *ref);
    return ref;
}

void kv_db_add(struct kv_db *db, struct kv_obj *o)
{
    if (db->expire_mode == DB_EXPIRE_KEEP) {
        /* a lookup saw an expired key as absent but kept it: a write (a
         * writable path on a replica) replaces it, never a second copy */
        struct kv_obj **old = (struct kv_obj **)kv_dict_find_ref(&db->d, obj_key(o), obj_klen(o),
                                                              kv_dict_hash(obj_key(o), obj_klen(o)));
        if (old)
            expire_ref(db, old, true);
    }
    o->seq = db->seq++;
    /* a new key starts at the LFU initial value (5), not decayed from time 0 */
    o->lru = kv_db_lru_clock(db);
    o->ldt = minutes_clock(db);
    o->lfu = LFU_INIT_VAL;
    if (obj_has_ttl(o))
        db->volatile_keys++;
    kv_dict_insert(&db->d, &o->dn, kv_dict_hash(obj_key(o), obj_klen(o)));
    db_modified(db, obj_key(o), obj_klen(o));
    if (db->on_new)
        db->on_new(db->on_new_arg, obj_key(o), obj_klen(o));
    if (db->on_add)
        db->on_add(db->on_add_arg, o);
}

void kv_db_replace(struct kv_db *db, struct kv_obj **ref, struct kv_obj *o)
{
    struct kv_obj *old = *ref;
    o->dn.next = old->dn.next;
    o->seq = old->seq;
    o->lfu = old->lfu;
    o->ldt = old->ldt;
    o->lru = kv_db_lru_clock(db);
    if (obj_has_ttl(old))
        db->volatile_keys--;
    if (obj_has_ttl(o))
        db->volatile_keys++;
    *ref = o;
    kv_obj_free(old);
    db_modified(db, obj_key(o), obj_klen(o));
    if (db->on_add)
        db->on_add(db->on_add_arg, o);
}

struct kv_obj *kv_db_set(struct kv_db *db, struct kv_obj *o, bool keep_ttl)
{
    const char *key = obj_key(o);
    size_t klen = obj_klen(o);
    struct kv_obj **ref = (struct kv_obj **)kv_dict_find_ref(&db->d, key, klen, kv_dict_hash(key, klen));
    if (ref && expire_ref(db, ref, true))
        ref = NULL;
    if (!ref) {
        kv_db_add(db, o);
        return o;
    }
    if (keep_ttl && !obj_has_ttl(o) && obj_has_ttl(*ref)) {
        long long when = obj_expire(*ref);
        kv_db_replace(db, ref, o);
        return kv_db_set_expire(db, ref, when);
    }
    kv_db_replace(db, ref, o);
    return o;
}

struct kv_obj *kv_db_unlink_ref(struct kv_db *db, struct kv_obj **ref)
{
    struct kv_obj *o = (struct kv_obj *)kv_dict_unlink_ref(&db->d, (struct dict_node **)ref);
    if (obj_has_ttl(o))
        db->volatile_keys--;
    db_modified(db, obj_key(o), obj_klen(o));
    return o;
}

void kv_db_delete_ref(struct kv_db *db, struct kv_obj **ref)
{
    kv_obj_free(kv_db_unlink_ref(db, ref));
}

bool kv_db_delete(struct kv_db *db, const char *key, size_t klen)
{
    struct kv_obj **ref = kv_db_lookup_ref(db, key, klen, LOOKUP_WRITE | LOOKUP_NOTOUCH);
    if (!ref)
        return false;
    kv_db_delete_ref(db, ref);
    return true;
}

struct kv_obj *kv_db_set_expire(struct kv_db *db, struct kv_obj **ref, long long when_ms)
{
    struct kv_obj *o = *ref;
    size_t klen = obj_klen(o);
    if (when_ms < 0 && !obj_has_ttl(o))
        return o;
    db_modified(db, obj_key(o), klen);
    if (when_ms >= 0 && obj_has_ttl(o)) {
        memcpy(o->data + klen, &when_ms, 8);
        return o;
    }
    size_t vsize = obj_type(o) == OBJ_STRING ? obj_vlen(o) : sizeof(struct kv_hash *);
    size_t total = KV_OBJ_HDR + klen + vsize;
    if (when_ms >= 0) {
        /* grow by 8 and slide the value right */
        o = xrealloc(o, total + 8);
        memmove(o->data + klen + 8, o->data + klen, vsize);
        memcpy(o->data + klen, &when_ms, 8);
        o->tf |= OBJ_F_TTL;
        db->volatile_keys++;
    } else {
        memmove(o->data + klen, o->data + klen + 8, vsize);
        o->tf &= (uint8_t)~OBJ_F_TTL;
        o = xrealloc(o, total);
        db->volatile_keys--;
    }
    *ref = o;
    return o;
}

struct kv_obj *kv_db_string_try_resize(struct kv_db *db, struct kv_obj **ref, size_t vlen)
{
    struct kv_obj *o = *ref;
    if (vlen > obj_vlen(o) && vlen > kv_obj_string_capacity(o)) { /* no size query when it shrinks */
        size_t head = (size_t)(obj_val(o) - (char *)o);
        size_t want = vlen < 64 ? vlen : vlen + vlen / 2;
        if (want > (1u << 20) && vlen + (1u << 20) < want)
            want = vlen + (1u << 20);
        o = xtry_realloc(o, head + want);
        if (!o && want > vlen)
            o = xtry_realloc(*ref, head + vlen); /* no slack, then */
        if (!o)
            return NULL;
        *ref = o;
    }
    o->dn.meta = (uint32_t)vlen;
    db_modified(db, obj_key(o), obj_klen(o));
    return o;
}

bool kv_db_string_overwrite(struct kv_db *db, struct kv_obj **ref, const char *v, size_t vlen)
{
    struct kv_obj *o = *ref;
    /* only when the allocation stays about right: a value much shorter than
     * the old one gets a fresh object (its memory then matches its size) */
    if (obj_type(o) != OBJ_STRING || obj_has_ttl(o) || vlen > obj_vlen(o) || obj_vlen(o) - vlen >= 32)
        return false;
    memmove(obj_val(o), v, vlen);
    o->dn.meta = (uint32_t)vlen;
    o->lru = kv_db_lru_clock(db); /* what kv_db_replace gives the new object */
    db_modified(db, obj_key(o), obj_klen(o));
    if (db->on_add)
        db->on_add(db->on_add_arg, o);
    return true;
}

struct kv_obj *kv_db_string_resize(struct kv_db *db, struct kv_obj **ref, size_t vlen)
{
    struct kv_obj *o = *ref;
    if (vlen > obj_vlen(o) && vlen > kv_obj_string_capacity(o)) { /* no size query when it shrinks */
        size_t head = (size_t)(obj_val(o) - (char *)o);
        /* grow geometrically so repeated APPENDs are amortized O(1) */
        size_t want = vlen < 64 ? vlen : vlen + vlen / 2;
        if (want > (1u << 20) && vlen + (1u << 20) < want)
            want = vlen + (1u << 20);
        o = xrealloc(o, head + want);
        *ref = o;
    }
    o->dn.meta = (uint32_t)vlen;
    db_modified(db, obj_key(o), obj_klen(o));
    return o;
}
