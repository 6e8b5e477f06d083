/*
 * rdb.c — kv objects and whole keyspaces in the RDB format (see rdb.h).
 *
 * Writing picks the type Redis 7.0 would write for the same encoding, so
 * redis-server loads our files and DUMP payloads into the same encodings.
 * Reading accepts every type Redis 7.0 writes plus the older list, hash and
 * zset encodings of versions <= 9 (ziplists, zipmap, quicklist of ziplists);
 * values are rebuilt through the normal type APIs, so kv's own encoding
 * thresholds decide the encoding after a load, as in Redis. Duplicated
 * members, NaN scores and unknown types are errors; empty collections are
 * skipped (counted) as Redis does.
 */
#include "kv/rdb.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/crc64.h"
#include "core/util.h"
#include "kv/hashobj.h"
#include "kv/listobj.h"
#include "kv/setobj.h"
#include "kv/streamobj.h"
#include "kv/zsetobj.h"

#define MAX_STRING ((size_t)UINT32_MAX - 64) /* kv string values are 32-bit sized */

/* ---- writing ---------------------------------------------------------------- */

/* The type byte, then the key when writing a file entry (DUMP has none). */
struct head {
    const char *key;
    size_t klen;
};

static void put_head(struct rdb_writer *w, int type, const struct head *h)
{
    rdb_put_byte(w, (uint8_t)type);
    if (h->key)
        rdb_put_string(w, h->key, h->klen);
}

/* List nodes: cut where Redis's quicklist would (quicklistNodeExceedsLimit):
 * with a negative list-max-listpack-size, a node takes an element while its
 * listpack bytes + the element's length + 8 stay within 4 KB << (-fill - 1);
 * with a positive one, up to that many elements within 8 KB. So redis-server
 * loads the same nodes it would have built. */
static bool node_full(size_t bytes, size_t count, size_t elen)
{
    size_t next = bytes + elen + 8;
    if (count == 0)
        return false;
    if (kv_list_fill < 0) {
        long f = kv_list_fill < -5 ? -5 : kv_list_fill;
        return next > ((size_t)4096 << (-f - 1));
    }
    return next > 8192 || count + 1 > (size_t)kv_list_fill;
}

static void put_list(struct rdb_writer *w, struct kv_list *l, const struct head *hd)
{
    uint64_t len = kv_list_len(l);
    struct list_iter it;
    const char *v;
    size_t n;
    /* pass 1: how many nodes (bytes: the node's listpack size so far) */
    uint64_t nodes = 0;
    size_t bytes = 7, count = 0;
    if (len) {
        kv_list_iter_init(&it, l, 0, true);
        for (; kv_list_iter_get(&it, &v, &n); kv_list_iter_next(&it)) {
            if (count == 0 || node_full(bytes, count, n)) {
                nodes++;
                bytes = 7, count = 0;
            }
            bytes += rdb_lp_entry_size(v, n);
            count++;
        }
    }
    put_head(w, RDB_TYPE_LIST_QUICKLIST_2, hd);
    rdb_put_len(w, nodes);
    if (!len)
        return;
    /* pass 2: the same cuts, written */
    struct rdb_lp lp;
    rdb_lp_init(&lp);
    count = 0;
    kv_list_iter_init(&it, l, 0, true);
    for (; kv_list_iter_get(&it, &v, &n); kv_list_iter_next(&it)) {
        if (count && node_full(buf_pending(&lp.b) + 1, count, n)) {
            rdb_lp_finish(&lp);
            rdb_put_len(w, RDB_QL_PACKED);
            rdb_put_string(w, buf_head(&lp.b), buf_pending(&lp.b));
            rdb_lp_deinit(&lp);
            rdb_lp_init(&lp);
            count = 0;
        }
        rdb_lp_append(&lp, v, n);
        count++;
    }
    rdb_lp_finish(&lp);
    rdb_put_len(w, RDB_QL_PACKED);
    rdb_put_string(w, buf_head(&lp.b), buf_pending(&lp.b));
    rdb_lp_deinit(&lp);
}

struct ints {
    int64_t *v;
    size_t n, cap;
};

static void collect_int(const char *m, size_t n, void *arg)
{
    struct ints *a = arg;
    long long v = 0;
    util_str2ll(m, n, &v);
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 64;
        a->v = xrealloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n++] = v;
}

static void put_member(const char *m, size_t n, void *arg) { rdb_put_string(arg, m, n); }

static void put_set(struct rdb_writer *w, const struct kv_set *s, const struct head *hd)
{
    if (kv_set_is_intset(s)) {
        struct ints a = {0};
        kv_set_foreach(s, collect_int, &a);
        struct buf b;
        buf_init(&b);
        rdb_intset_build(&b, a.v, a.n);
        put_head(w, RDB_TYPE_SET_INTSET, hd);
        rdb_put_string(w, buf_head(&b), buf_pending(&b));
        buf_deinit(&b);
        xfree(a.v);
        return;
    }
    put_head(w, RDB_TYPE_SET, hd);
    rdb_put_len(w, kv_set_len(s));
    kv_set_foreach(s, put_member, w);
}

static void lp_pair(const char *f, size_t flen, const char *v, size_t vlen, void *arg)
{
    rdb_lp_append(arg, f, flen);
    rdb_lp_append(arg, v, vlen);
}

static void put_pair(const char *f, size_t flen, const char *v, size_t vlen, void *arg)
{
    rdb_put_string(arg, f, flen);
    rdb_put_string(arg, v, vlen);
}

static void put_hash(struct rdb_writer *w, struct kv_hash *h, const struct head *hd)
{
    if (kv_hash_is_packed(h)) {
        struct rdb_lp lp;
        rdb_lp_init(&lp);
        kv_hash_foreach(h, lp_pair, &lp);
        rdb_lp_finish(&lp);
        if (buf_pending(&lp.b) < UINT32_MAX) {
            put_head(w, RDB_TYPE_HASH_LISTPACK, hd);
            rdb_put_string(w, buf_head(&lp.b), buf_pending(&lp.b));
            rdb_lp_deinit(&lp);
            return;
        }
        rdb_lp_deinit(&lp);
    }
    put_head(w, RDB_TYPE_HASH, hd);
    rdb_put_len(w, kv_hash_len(h));
    kv_hash_foreach(h, put_pair, w);
}

static void put_zset(struct rdb_writer *w, struct kv_zset *z, const struct head *hd)
{
    struct zset_iter it;
    const char *m;
    size_t mlen;
    double score;
    if (kv_zset_is_packed(z)) {
        struct rdb_lp lp;
        char num[64];
        rdb_lp_init(&lp);
        kv_zset_iter_init(&it, z, 0, false);
        while (kv_zset_iter_next(&it, &m, &mlen, &score)) {
            rdb_lp_append(&lp, m, mlen);
            rdb_lp_append(&lp, num, util_d2str(num, sizeof num, score));
        }
        kv_zset_iter_done(&it);
        rdb_lp_finish(&lp);
        if (buf_pending(&lp.b) < UINT32_MAX) {
            put_head(w, RDB_TYPE_ZSET_LISTPACK, hd);
            rdb_put_string(w, buf_head(&lp.b), buf_pending(&lp.b));
            rdb_lp_deinit(&lp);
            return;
        }
        rdb_lp_deinit(&lp);
    }
    /* from the highest score down, as Redis writes (its loader inserts at the head) */
    put_head(w, RDB_TYPE_ZSET_2, hd);
    rdb_put_len(w, kv_zset_len(z));
    if (kv_zset_len(z) == 0)
        return;
    kv_zset_iter_init(&it, z, kv_zset_len(z) - 1, true);
    while (kv_zset_iter_next(&it, &m, &mlen, &score)) {
        rdb_put_string(w, m, mlen);
        rdb_put_double(w, score);
    }
    kv_zset_iter_done(&it);
}

/* Streams as RDB_TYPE_STREAM_LISTPACKS_2 (Redis 7.0's rdbSaveObject): the
 * nodes as (master id, 16 bytes big-endian; listpack) pairs, each listpack a
 * master entry (count, deleted, nfields, fields..., 0) and per entry flags,
 * ms-diff, seq-diff, [nfields, fields...] values, lp-count; then length,
 * last id, first id, max deleted id, entries added; then the groups, each
 * with its PEL (raw ids, delivery time, count) and consumers (name, seen
 * time, raw ids of their NACKs). */
static void put_raw_id(struct rdb_writer *w, const struct stream_id *id)
{
    uint8_t k[16];
    for (int i = 0; i < 8; i++) {
        k[i] = (uint8_t)(id->ms >> (56 - 8 * i));
        k[8 + i] = (uint8_t)(id->seq >> (56 - 8 * i));
    }
    rdb_put_raw(w, k, 16);
}

static void put_id_key(struct rdb_writer *w, const struct stream_id *id)
{
    rdb_put_len(w, 16);
    put_raw_id(w, id);
}

static void put_stream_node(struct rdb_writer *w, const struct kv_stream *s, size_t i)
{
    struct kv_stream_node_view v;
    struct kv_stream_raw_rec r;
    struct stream_str f, val;
    struct rdb_lp lp;
    kv_stream_node_view(s, i, &v);
    put_id_key(w, &v.master);
    rdb_lp_init(&lp);
    rdb_lp_append_int(&lp, (long long)(v.count - v.deleted));
    rdb_lp_append_int(&lp, (long long)v.deleted);
    rdb_lp_append_int(&lp, (long long)v.nmaster);
    const unsigned char *p = v.mfields;
    for (uint64_t k = 0; k < v.nmaster; k++) {
        p = kv_stream_raw_str(p, &f);
        rdb_lp_append(&lp, f.p, f.n);
    }
    rdb_lp_append_int(&lp, 0);
    p = v.recs;
    for (uint32_t j = 0; j < v.count; j++) {
        p = kv_stream_raw_rec(&v, p, &r);
        rdb_lp_append_int(&lp, (r.deleted ? 1 : 0) | (r.same ? 2 : 0));
        rdb_lp_append_int(&lp, (long long)(r.id.ms - v.master.ms));
        rdb_lp_append_int(&lp, (long long)(r.id.seq - v.master.seq));
        const unsigned char *q = r.fields;
        if (!r.same)
            rdb_lp_append_int(&lp, (long long)r.nfields);
        for (uint64_t k = 0; k < r.nfields; k++) {
            if (!r.same) {
                q = kv_stream_raw_str(q, &f);
                rdb_lp_append(&lp, f.p, f.n);
            }
            q = kv_stream_raw_str(q, &val);
            rdb_lp_append(&lp, val.p, val.n);
        }
        rdb_lp_append_int(&lp, (long long)(r.nfields + 3 + (r.same ? 0 : r.nfields + 1)));
    }
    rdb_lp_finish(&lp);
    rdb_put_string(w, buf_head(&lp.b), buf_pending(&lp.b));
    rdb_lp_deinit(&lp);
}

struct owned {
    const struct stream_consumer *c;
    size_t i;
};

static int owned_cmp(const void *a, const void *b)
{
    const struct owned *x = a, *y = b;
    if (x->c != y->c)
        return (uintptr_t)x->c < (uintptr_t)y->c ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static void put_stream_group(struct rdb_writer *w, const struct stream_cg *g)
{
    rdb_put_string(w, g->name, g->nlen);
    rdb_put_len(w, g->last_id.ms);
    rdb_put_len(w, g->last_id.seq);
    rdb_put_len(w, (uint64_t)g->entries_read);
    rdb_put_len(w, g->npel);
    for (size_t i = 0; i < g->npel; i++) {
        put_raw_id(w, &g->pel[i].id);
        rdb_put_u64le(w, (uint64_t)g->pel[i].delivery_time);
        rdb_put_len(w, g->pel[i].delivery_count);
    }
    /* each consumer's NACKs in id order: the PEL sorted by (owner, index) */
    struct owned *o = xmalloc((g->npel ? g->npel : 1) * sizeof *o);
    for (size_t i = 0; i < g->npel; i++) {
        o[i].c = g->pel[i].consumer;
        o[i].i = i;
    }
    qsort(o, g->npel, sizeof *o, owned_cmp);
    rdb_put_len(w, g->nconsumers);
    for (size_t k = 0; k < g->nconsumers; k++) {
        const struct stream_consumer *c = g->consumers[k];
        rdb_put_string(w, c->name, c->nlen);
        rdb_put_u64le(w, (uint64_t)c->seen_time);
        size_t lo = 0, hi = g->npel;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if ((uintptr_t)o[mid].c < (uintptr_t)c)
                lo = mid + 1;
            else
                hi = mid;
        }
        size_t end = lo;
        while (end < g->npel && o[end].c == c)
            end++;
        rdb_put_len(w, end - lo);
        for (size_t j = lo; j < end; j++)
            put_raw_id(w, &g->pel[o[j].i].id);
    }
    xfree(o);
}

static void put_stream(struct rdb_writer *w, const struct kv_stream *s, const struct head *hd)
{
    struct stream_id first = {0, 0};
    put_head(w, RDB_TYPE_STREAM_LISTPACKS_2, hd);
    rdb_put_len(w, kv_stream_nodes(s));
    for (size_t i = 0; i < kv_stream_nodes(s); i++)
        put_stream_node(w, s, i);
    rdb_put_len(w, s->length);
    rdb_put_len(w, s->last_id.ms);
    rdb_put_len(w, s->last_id.seq);
    if (!kv_stream_first_id(s, &first))
        first.ms = first.seq = 0;
    rdb_put_len(w, first.ms);
    rdb_put_len(w, first.seq);
    rdb_put_len(w, s->max_deleted_id.ms);
    rdb_put_len(w, s->max_deleted_id.seq);
    rdb_put_len(w, s->entries_added);
    rdb_put_len(w, s->ngroups);
    for (size_t i = 0; i < s->ngroups; i++)
        put_stream_group(w, s->groups[i]);
}

static void put_entry(struct rdb_writer *w, const struct kv_obj *o, const struct head *hd)
{
    switch (obj_type(o)) {
    case OBJ_STRING:
        put_head(w, RDB_TYPE_STRING, hd);
        rdb_put_string(w, obj_cval(o), obj_vlen(o));
        break;
    case OBJ_LIST:
        put_list(w, obj_ptr(o), hd);
        break;
    case OBJ_SET:
        put_set(w, obj_ptr(o), hd);
        break;
    case OBJ_HASH:
        put_hash(w, obj_hash(o), hd);
        break;
    case OBJ_ZSET:
        put_zset(w, obj_zset(o), hd);
        break;
    case OBJ_STREAM:
        put_stream(w, obj_ptr(o), hd);
        break;
    default:
        break;
    }
}

void kv_rdb_put_value(struct rdb_writer *w, const struct kv_obj *o)
{
    struct head hd = {NULL, 0};
    put_entry(w, o, &hd);
}

/* ---- reading ---------------------------------------------------------------- */

static bool parse_score(const char *s, size_t n, double *d)
{
    char tmp[128];
    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    *d = strtod(tmp, &end);
    return end == tmp + n && !isnan(*d);
}

/* Reading a packed blob of elements: the string, then an iterator over it. */
struct blob {
    char *s;
    size_t n;
    struct rdb_blob_iter it;
};

static bool blob_open(struct rdb_reader *r, struct blob *b, int kind)
{
    b->s = NULL;
    if (!rdb_get_string(r, &b->s, &b->n))
        return false;
    if (!rdb_blob_begin(&b->it, kind, b->s, b->n, r)) {
        xfree(b->s);
        b->s = NULL;
        return false;
    }
    return true;
}

static void blob_close(struct blob *b) { xfree(b->s); }

static struct kv_obj *load_list(struct rdb_reader *r, int type, const char *key, size_t klen, long long exp)
{
    struct kv_list *l = kv_list_new();
    uint64_t n = 1;
    const char *s;
    size_t len;
    if (type == RDB_TYPE_LIST || type == RDB_TYPE_LIST_QUICKLIST || type == RDB_TYPE_LIST_QUICKLIST_2)
        if (!rdb_get_len(r, &n, NULL))
            goto fail;
    for (uint64_t i = 0; i < n; i++) {
        if (type == RDB_TYPE_LIST) {
            char *v;
            if (!rdb_get_string(r, &v, &len))
                goto fail;
            kv_list_push(l, LIST_TAIL, v, len);
            xfree(v);
            continue;
        }
        int kind = RDB_BLOB_ZIPLIST;
        if (type == RDB_TYPE_LIST_QUICKLIST_2) {
            uint64_t container;
            if (!rdb_get_len(r, &container, NULL))
                goto fail;
            if (container == RDB_QL_PLAIN) {
                char *v;
                if (!rdb_get_string(r, &v, &len))
                    goto fail;
                kv_list_push(l, LIST_TAIL, v, len);
                xfree(v);
                continue;
            }
            if (container != RDB_QL_PACKED) {
                rdb_fail(r, "unknown quicklist container %llu", (unsigned long long)container);
                goto fail;
            }
            kind = RDB_BLOB_LISTPACK;
        }
        struct blob b;
        if (!blob_open(r, &b, kind))
            goto fail;
        int k;
        while ((k = rdb_blob_next(&b.it, &s, &len, r)) == 1)
            kv_list_push(l, LIST_TAIL, s, len);
        blob_close(&b);
        if (k < 0)
            goto fail;
    }
    if (kv_list_len(l) == 0) {
        kv_list_free(l);
        return NULL;
    }
    return kv_obj_new_ptr(key, klen, OBJ_LIST, l, exp);
fail:
    kv_list_free(l);
    return NULL;
}

static struct kv_obj *load_set(struct rdb_reader *r, int type, const char *key, size_t klen, long long exp)
{
    struct kv_set *set = kv_set_new();
    if (type == RDB_TYPE_SET) {
        uint64_t n;
        if (!rdb_get_len(r, &n, NULL))
            goto fail;
        for (uint64_t i = 0; i < n; i++) {
            char *m;
            size_t len;
            if (!rdb_get_string(r, &m, &len))
                goto fail;
            bool added = kv_set_add(&set, m, len);
            xfree(m);
            if (!added) {
                rdb_fail(r, "duplicate set member");
                goto fail;
            }
        }
    } else {
        struct blob b;
        const char *s;
        size_t len;
        int k;
        if (!blob_open(r, &b, RDB_BLOB_INTSET))
            goto fail;
        while ((k = rdb_blob_next(&b.it, &s, &len, r)) == 1)
            kv_set_add(&set, s, len); /* ascending order was checked: no duplicates */
        blob_close(&b);
        if (k < 0)
            goto fail;
    }
    if (kv_set_len(set) == 0) {
        kv_set_free(set);
        return NULL;
    }
    return kv_obj_new_ptr(key, klen, OBJ_SET, set, exp);
fail:
    kv_set_free(set);
    return NULL;
}

static struct kv_obj *load_hash(struct rdb_reader *r, int type, const char *key, size_t klen, long long exp)
{
    struct kv_hash *h = kv_hash_new();
    if (type == RDB_TYPE_HASH) {
        uint64_t n;
        if (!rdb_get_len(r, &n, NULL))
            goto fail;
        for (uint64_t i = 0; i < n; i++) {
            char *f, *v;
            size_t flen, vlen;
            if (!rdb_get_string(r, &f, &flen))
                goto fail;
            if (!rdb_get_string(r, &v, &vlen)) {
                xfree(f);
                goto fail;
            }
            int isnew = kv_hash_set(h, f, flen, v, vlen);
            xfree(f);
            xfree(v);
            if (!isnew) {
                rdb_fail(r, "duplicate hash field");
                goto fail;
            }
        }
    } else {
        int kind = type == RDB_TYPE_HASH_ZIPMAP ? RDB_BLOB_ZIPMAP
                   : type == RDB_TYPE_HASH_ZIPLIST ? RDB_BLOB_ZIPLIST : RDB_BLOB_LISTPACK;
        struct blob b;
        const char *f, *v;
        size_t flen, vlen;
        int k;
        if (!blob_open(r, &b, kind))
            goto fail;
        while ((k = rdb_blob_next(&b.it, &f, &flen, r)) == 1) {
            /* the field may live in the iterator's scratch buffer: copy it */
            char fb[24];
            if (f == b.it.num) {
                memcpy(fb, f, flen);
                f = fb;
            }
            if ((k = rdb_blob_next(&b.it, &v, &vlen, r)) != 1) {
                if (k == 0)
                    rdb_fail(r, "hash with an odd number of elements");
                k = -1;
                break;
            }
            if (!kv_hash_set(h, f, flen, v, vlen)) {
                rdb_fail(r, "duplicate hash field");
                k = -1;
                break;
            }
        }
        blob_close(&b);
        if (k < 0)
            goto fail;
    }
    if (kv_hash_len(h) == 0) {
        kv_hash_free(h);
        return NULL;
    }
    return kv_obj_new_hash(key, klen, h, exp);
fail:
    kv_hash_free(h);
    return NULL;
}

static bool zadd_one(struct rdb_reader *r, struct kv_zset **z, const char *m, size_t mlen, double score)
{
    int out = 0;
    if (isnan(score))
        return rdb_fail(r, "sorted set score is NaN");
    kv_zset_add(z, score, m, mlen, 0, &out, NULL);
    if (!(out & ZSET_OUT_ADDED))
        return rdb_fail(r, "duplicate sorted set member");
    return true;
}

static struct kv_obj *load_zset(struct rdb_reader *r, int type, const char *key, size_t klen, long long exp)
{
    struct kv_zset *z = kv_zset_new();
    if (type == RDB_TYPE_ZSET || type == RDB_TYPE_ZSET_2) {
        uint64_t n;
        if (!rdb_get_len(r, &n, NULL))
            goto fail;
        for (uint64_t i = 0; i < n; i++) {
            char *m;
            size_t mlen;
            double score;
            if (!rdb_get_string(r, &m, &mlen))
                goto fail;
            bool ok = type == RDB_TYPE_ZSET_2 ? rdb_get_double_bin(r, &score) : rdb_get_double_text(r, &score);
            ok = ok && zadd_one(r, &z, m, mlen, score);
            xfree(m);
            if (!ok)
                goto fail;
        }
    } else {
        struct blob b;
        const char *m, *sc;
        size_t mlen, sclen;
        int k;
        if (!blob_open(r, &b, type == RDB_TYPE_ZSET_ZIPLIST ? RDB_BLOB_ZIPLIST : RDB_BLOB_LISTPACK))
            goto fail;
        while ((k = rdb_blob_next(&b.it, &m, &mlen, r)) == 1) {
            char mb[24];
            double score;
            if (m == b.it.num) {
                memcpy(mb, m, mlen);
                m = mb;
            }
            if ((k = rdb_blob_next(&b.it, &sc, &sclen, r)) != 1) {
                if (k == 0)
                    rdb_fail(r, "sorted set with an odd number of elements");
                k = -1;
                break;
            }
            if (!parse_score(sc, sclen, &score)) {
                rdb_fail(r, "bad sorted set score '%.*s'", (int)(sclen > 40 ? 40 : sclen), sc);
                k = -1;
                break;
            }
            if (!zadd_one(r, &z, m, mlen, score)) {
                k = -1;
                break;
            }
        }
        blob_close(&b);
        if (k < 0)
            goto fail;
    }
    if (kv_zset_len(z) == 0) {
        kv_zset_free(z);
        return NULL;
    }
    return kv_obj_new_zset(key, klen, z, exp);
fail:
    kv_zset_free(z);
    return NULL;
}

/* ---- streams ---- */

static bool get_raw_id(struct rdb_reader *r, struct stream_id *id)
{
    uint8_t k[16];
    if (!rdb_get_raw(r, k, 16))
        return false;
    id->ms = id->seq = 0;
    for (int i = 0; i < 8; i++) {
        id->ms = id->ms << 8 | k[i];
        id->seq = id->seq << 8 | k[8 + i];
    }
    return true;
}

static bool get_len_id(struct rdb_reader *r, struct stream_id *id)
{
    return rdb_get_len(r, &id->ms, NULL) && rdb_get_len(r, &id->seq, NULL);
}

/* The next listpack element as an integer; 0 at the end (when allowed). */
static int lp_int(struct rdb_reader *r, struct blob *b, long long *v, bool end_ok)
{
    const char *s;
    size_t n;
    int k = rdb_blob_next(&b->it, &s, &n, r);
    if (k == 0 && end_ok)
        return 0;
    if (k != 1)
        return k == 0 ? (rdb_fail(r, "stream listpack ends inside an entry"), -1) : -1;
    if (!util_str2ll(s, n, v))
        return rdb_fail(r, "stream listpack: integer expected"), -1;
    return 1;
}

/* The next element as a string; integer ones copied to num (24 bytes). */
static bool lp_str(struct rdb_reader *r, struct blob *b, struct stream_str *out, char *num)
{
    const char *s;
    size_t n;
    int k = rdb_blob_next(&b->it, &s, &n, r);
    if (k != 1)
        return k == 0 ? rdb_fail(r, "stream listpack ends inside an entry") : false;
    if (s == b->it.num) {
        memcpy(num, s, n);
        s = num;
    }
    out->p = s;
    out->n = n;
    return true;
}

/* One listpack node; prev and any track the greatest id so far. */
static bool load_stream_node(struct rdb_reader *r, struct kv_stream *s, struct stream_id *prev, bool *any,
                             uint64_t *live)
{
    char *key;
    size_t kn;
    struct stream_id master;
    if (!rdb_get_string(r, &key, &kn))
        return false;
    bool ok = kn == 16;
    if (ok) {
        master.ms = master.seq = 0;
        for (int i = 0; i < 8; i++) {
            master.ms = master.ms << 8 | (uint8_t)key[i];
            master.seq = master.seq << 8 | (uint8_t)key[8 + i];
        }
    }
    xfree(key);
    if (!ok)
        return rdb_fail(r, "stream node key is not a 16-byte id");
    if (*any && stream_id_cmp(&master, prev) <= 0)
        return rdb_fail(r, "stream nodes out of order");
    struct blob b;
    if (!blob_open(r, &b, RDB_BLOB_LISTPACK))
        return false;
    long long count, deleted, nmaster, zero;
    struct stream_str *kv = NULL;
    char *nums = NULL;
    ok = false;
    if (lp_int(r, &b, &count, true) != 1) {
        if (!r->failed)
            rdb_fail(r, "empty listpack inside stream");
        goto out;
    }
    if (lp_int(r, &b, &deleted, false) != 1 || lp_int(r, &b, &nmaster, false) != 1)
        goto out;
    /* every element costs at least 2 bytes: bounds what the counts may claim */
    size_t maxel = b.n / 2 + 1;
    if (count < 0 || deleted < 0 || nmaster < 0 || (uint64_t)nmaster > maxel) {
        rdb_fail(r, "bad stream master entry");
        goto out;
    }
    struct stream_str *mf = xmalloc((size_t)(nmaster + 1) * sizeof *mf);
    char *mnums = xmalloc((size_t)(nmaster + 1) * 24);
    bool mok = true;
    for (long long i = 0; i < nmaster && mok; i++)
        mok = lp_str(r, &b, &mf[i], mnums + 24 * i);
    mok = mok && lp_int(r, &b, &zero, false) == 1;
    if (mok && zero != 0)
        mok = rdb_fail(r, "stream master entry not terminated by 0");
    if (!mok) {
        xfree(mf);
        xfree(mnums);
        goto out;
    }
    kv_stream_load_node(s, &master, mf, (size_t)nmaster);
    size_t cap = 0;
    long long nlive = 0, ndel = 0;
    for (;;) {
        long long flags, msd, seqd, nf, lpc;
        struct stream_id id;
        int k = lp_int(r, &b, &flags, true);
        if (k == 0)
            break;
        if (k < 0 || lp_int(r, &b, &msd, false) != 1 || lp_int(r, &b, &seqd, false) != 1)
            break;
        if (flags & ~3LL) {
            rdb_fail(r, "bad stream entry flags %lld", flags);
            break;
        }
        id.ms = master.ms + (uint64_t)msd;
        id.seq = master.seq + (uint64_t)seqd;
        if (stream_id_cmp(&id, &master) < 0 || (*any && stream_id_cmp(&id, prev) <= 0)) {
            rdb_fail(r, "stream entry ids out of order");
            break;
        }
        if (flags & 2)
            nf = nmaster;
        else if (lp_int(r, &b, &nf, false) != 1)
            break;
        if (nf < 0 || (uint64_t)nf > maxel) {
            rdb_fail(r, "bad stream entry field count");
            break;
        }
        if ((size_t)nf * 2 + 1 > cap) {
            cap = (size_t)nf * 2 + 1;
            kv = xrealloc(kv, cap * sizeof *kv);
            nums = xrealloc(nums, cap * 24);
        }
        bool eok = true;
        for (long long i = 0; i < nf && eok; i++) {
            if (flags & 2)
                kv[2 * i] = mf[i];
            else
                eok = lp_str(r, &b, &kv[2 * i], nums + 48 * i);
            eok = eok && lp_str(r, &b, &kv[2 * i + 1], nums + 48 * i + 24);
        }
        if (!eok || lp_int(r, &b, &lpc, false) != 1)
            break;
        if (lpc != nf + 3 + ((flags & 2) ? 0 : nf + 1)) {
            rdb_fail(r, "bad stream entry lp-count");
            break;
        }
        if (!kv_stream_load_rec(s, flags & 1, &id, kv, (size_t)nf)) {
            /* more entries than a kv node holds: continue in a new node */
            kv_stream_load_node_end(s);
            kv_stream_load_node(s, &id, mf, (size_t)nmaster);
            kv_stream_load_rec(s, flags & 1, &id, kv, (size_t)nf);
        }
        if (flags & 1)
            ndel++;
        else
            nlive++;
        *prev = id;
        *any = true;
    }
    xfree(mf);
    xfree(mnums);
    kv_stream_load_node_end(s);
    if (r->failed)
        goto out;
    if (nlive != count || ndel != deleted) {
        rdb_fail(r, "stream master entry counts do not match its entries");
        goto out;
    }
    if (nlive + ndel == 0) {
        rdb_fail(r, "empty listpack inside stream");
        goto out;
    }
    *live += (uint64_t)nlive;
    ok = true;
out:
    xfree(kv);
    xfree(nums);
    blob_close(&b);
    return ok;
}

static bool load_stream_group(struct rdb_reader *r, struct kv_stream *s, int type)
{
    char *name;
    size_t nlen;
    struct stream_id last;
    uint64_t er, n;
    if (!rdb_get_string(r, &name, &nlen))
        return false;
    if (!get_len_id(r, &last) || (type >= RDB_TYPE_STREAM_LISTPACKS_2 && !rdb_get_len(r, &er, NULL))) {
        xfree(name);
        return false;
    }
    long long entries_read = type >= RDB_TYPE_STREAM_LISTPACKS_2 ? (long long)er : kv_stream_estimate_distance(s, &last);
    struct stream_cg *g = kv_stream_cg_create(s, name, nlen, &last, entries_read);
    xfree(name);
    if (!g)
        return rdb_fail(r, "duplicated consumer group name");
    if (!rdb_get_len(r, &n, NULL))
        return false;
    for (uint64_t i = 0; i < n; i++) {
        struct stream_id id;
        uint64_t t, cnt;
        if (!get_raw_id(r, &id) || !rdb_get_u64le(r, &t) || !rdb_get_len(r, &cnt, NULL))
            return false;
        if (kv_stream_pel_find(g, &id))
            return rdb_fail(r, "duplicated global PEL entry");
        struct stream_nack *nk = kv_stream_pel_add(g, &id, NULL, (long long)t);
        nk->delivery_count = cnt;
    }
    if (!rdb_get_len(r, &n, NULL))
        return false;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t seen, active, np;
        if (!rdb_get_string(r, &name, &nlen))
            return false;
        if (!rdb_get_u64le(r, &seen) || (type >= RDB_TYPE_STREAM_LISTPACKS_3 && !rdb_get_u64le(r, &active))) {
            xfree(name);
            return false;
        }
        struct stream_consumer *c = kv_stream_consumer_create(g, name, nlen, (long long)seen);
        xfree(name);
        if (!c)
            return rdb_fail(r, "duplicated consumer name");
        if (!rdb_get_len(r, &np, NULL))
            return false;
        for (uint64_t j = 0; j < np; j++) {
            struct stream_id id;
            if (!get_raw_id(r, &id))
                return false;
            struct stream_nack *nk = kv_stream_pel_find(g, &id);
            if (!nk)
                return rdb_fail(r, "consumer PEL entry not found in the group PEL");
            if (nk->consumer)
                return rdb_fail(r, "PEL entry owned by two consumers");
            kv_stream_nack_set_owner(nk, c);
        }
    }
    for (size_t i = 0; i < g->npel; i++)
        if (!g->pel[i].consumer)
            return rdb_fail(r, "group PEL entry without a consumer");
    return true;
}

static struct kv_obj *load_stream(struct rdb_reader *r, int type, const char *key, size_t klen, long long exp)
{
    struct kv_stream *s = kv_stream_new();
    struct stream_id prev = {0, 0}, first;
    bool any = false;
    uint64_t n, live = 0, length;
    if (!rdb_get_len(r, &n, NULL))
        goto fail;
    for (uint64_t i = 0; i < n; i++)
        if (!load_stream_node(r, s, &prev, &any, &live))
            goto fail;
    if (!rdb_get_len(r, &length, NULL) || !get_len_id(r, &s->last_id))
        goto fail;
    if (length != live) {
        rdb_fail(r, "stream length inconsistent with its entries");
        goto fail;
    }
    if (any && stream_id_cmp(&s->last_id, &prev) < 0) {
        rdb_fail(r, "stream last id smaller than its last entry");
        goto fail;
    }
    s->length = live;
    if (type >= RDB_TYPE_STREAM_LISTPACKS_2) {
        if (!get_len_id(r, &first) || !get_len_id(r, &s->max_deleted_id) ||
            !rdb_get_len(r, &s->entries_added, NULL))
            goto fail;
    } else {
        s->entries_added = live;
    }
    if (!rdb_get_len(r, &n, NULL))
        goto fail;
    for (uint64_t i = 0; i < n; i++)
        if (!load_stream_group(r, s, type))
            goto fail;
    return kv_obj_new_ptr(key, klen, OBJ_STREAM, s, exp);
fail:
    kv_stream_free(s);
    return NULL;
}

struct kv_obj *kv_rdb_get_value(struct rdb_reader *r, int type, const char *key, size_t klen, long long expire_ms,
                                bool *empty)
{
    struct kv_obj *o = NULL;
    size_t start = r->off;
    *empty = false;
    switch (type) {
    case RDB_TYPE_STRING: {
        char *v;
        size_t n;
        if (!rdb_get_string(r, &v, &n))
            return NULL;
        if (n > MAX_STRING) {
            xfree(v);
            rdb_fail(r, "string too long for kv");
            return NULL;
        }
        o = kv_obj_new_string(key, klen, v, n, expire_ms);
        xfree(v);
        return o;
    }
    case RDB_TYPE_LIST:
    case RDB_TYPE_LIST_ZIPLIST:
    case RDB_TYPE_LIST_QUICKLIST:
    case RDB_TYPE_LIST_QUICKLIST_2:
        o = load_list(r, type, key, klen, expire_ms);
        break;
    case RDB_TYPE_SET:
    case RDB_TYPE_SET_INTSET:
        o = load_set(r, type, key, klen, expire_ms);
        break;
    case RDB_TYPE_HASH:
    case RDB_TYPE_HASH_ZIPMAP:
    case RDB_TYPE_HASH_ZIPLIST:
    case RDB_TYPE_HASH_LISTPACK:
        o = load_hash(r, type, key, klen, expire_ms);
        break;
    case RDB_TYPE_ZSET:
    case RDB_TYPE_ZSET_2:
    case RDB_TYPE_ZSET_ZIPLIST:
    case RDB_TYPE_ZSET_LISTPACK:
        o = load_zset(r, type, key, klen, expire_ms);
        break;
    case RDB_TYPE_STREAM_LISTPACKS:
    case RDB_TYPE_STREAM_LISTPACKS_2:
    case RDB_TYPE_STREAM_LISTPACKS_3:
        o = load_stream(r, type, key, klen, expire_ms);
        break;
    case RDB_TYPE_MODULE:
    case RDB_TYPE_MODULE_2:
        rdb_fail(r, "module values are not supported by kv");
        return NULL;
    default:
        r->off = start > 0 ? start - 1 : 0;
        rdb_fail(r, "unknown value type %d", type);
        return NULL;
    }
    if (!o && !r->failed)
        *empty = true;
    return o;
}

/* ---- DUMP / RESTORE ------------------------------------------------------------ */

void kv_rdb_dump(const struct kv_obj *o, struct buf *out, bool compress)
{
    struct rdb_writer w;
    rdb_writer_init(&w, -1, compress);
    kv_rdb_put_value(&w, o);
    rdb_dump_footer(&w);
    buf_append(out, buf_head(&w.b), buf_pending(&w.b));
    rdb_writer_deinit(&w);
}

struct kv_obj *kv_rdb_restore(const void *p, size_t len, const char *key, size_t klen, long long expire_ms)
{
    struct rdb_reader r;
    uint8_t type;
    bool empty;
    rdb_reader_init(&r, p, len);
    if (!rdb_get_byte(&r, &type))
        return NULL;
    struct kv_obj *o = kv_rdb_get_value(&r, type, key, klen, expire_ms, &empty);
    if (o && r.off != len) {
        kv_obj_free(o);
        return NULL;
    }
    return o;
}

/* ---- files -------------------------------------------------------------------- */

static void put_aux(struct rdb_writer *w, const char *k, const char *v)
{
    rdb_put_byte(w, RDB_OPCODE_AUX);
    rdb_put_string(w, k, strlen(k));
    rdb_put_string(w, v, strlen(v));
}

static void put_aux_ll(struct rdb_writer *w, const char *k, long long v)
{
    rdb_put_byte(w, RDB_OPCODE_AUX);
    rdb_put_string(w, k, strlen(k));
    rdb_put_ll_string(w, v);
}

struct save_ctx {
    struct rdb_writer *w;
    struct kv_db *db;
    long long key_delay_us;
    int hints;
};

static void save_key(struct dict_node *n, void *arg)
{
    struct save_ctx *sc = arg;
    const struct kv_obj *o = (const struct kv_obj *)n;
    if (sc->w->err)
        return;
    if (sc->key_delay_us > 0)
        usleep((useconds_t)sc->key_delay_us);
    if (obj_has_ttl(o)) {
        rdb_put_byte(sc->w, RDB_OPCODE_EXPIRETIME_MS);
        rdb_put_u64le(sc->w, (uint64_t)obj_expire(o));
    }
    if (sc->hints == KV_RDB_HINT_LRU) {
        rdb_put_byte(sc->w, RDB_OPCODE_IDLE);
        rdb_put_len(sc->w, (uint64_t)(kv_db_idle_ms(sc->db, o) / 1000));
    } else if (sc->hints == KV_RDB_HINT_LFU) {
        rdb_put_byte(sc->w, RDB_OPCODE_FREQ);
        rdb_put_byte(sc->w, (uint8_t)kv_db_lfu_decayed(sc->db, o));
    }
    struct head hd = {obj_key(o), obj_klen(o)};
    put_entry(sc->w, o, &hd);
}

/* a library as Redis 7.0 writes it: FUNCTION2, its code as a string */
static void put_function(void *arg, const char *code, size_t len)
{
    struct rdb_writer *w = arg;
    rdb_put_byte(w, RDB_OPCODE_FUNCTION2);
    rdb_put_string(w, code, len);
}

int kv_rdb_save_fd(int fd, struct kv_db *const *dbs, int ndbs, const struct kv_rdb_save_opts *o)
{
    struct rdb_writer w;
    char magic[10];
    rdb_writer_init(&w, fd, o->compress);
    snprintf(magic, sizeof magic, "REDIS%04d", RDB_VERSION);
    rdb_put_raw(&w, magic, 9);
    put_aux(&w, "redis-ver", "7.0.0");
    put_aux_ll(&w, "redis-bits", (long long)(sizeof(void *) * 8));
    put_aux_ll(&w, "ctime", o->now_ms / 1000);
    put_aux_ll(&w, "used-mem", (long long)o->used_mem);
    if (o->repl_info) {
        put_aux_ll(&w, "repl-stream-db", o->repl_stream_db);
        put_aux(&w, "repl-id", o->repl_id ? o->repl_id : "");
        put_aux_ll(&w, "repl-offset", o->repl_offset);
    }
    put_aux_ll(&w, "aof-base", 0);
    if (o->fn_each)
        o->fn_each(o->fn_arg, put_function, &w);
    for (int i = 0; i < ndbs; i++) {
        struct kv_db *db = dbs[i];
        if (!db || db_size(db) == 0)
            continue;
        rdb_put_byte(&w, RDB_OPCODE_SELECTDB);
        rdb_put_len(&w, (uint64_t)i);
        rdb_put_byte(&w, RDB_OPCODE_RESIZEDB);
        rdb_put_len(&w, db_size(db));
        rdb_put_len(&w, db->volatile_keys);
        struct save_ctx sc = {&w, db, o->key_delay_us, o->hints};
        kv_dict_foreach(&db->d, save_key, &sc);
    }
    rdb_put_byte(&w, RDB_OPCODE_EOF);
    rdb_put_u64le(&w, o->checksum ? rdb_writer_crc(&w) : 0);
    int rc = rdb_writer_flush(&w);
    rdb_writer_deinit(&w);
    return rc;
}

int kv_rdb_save_file(const char *dir, const char *file, struct kv_db *const *dbs, int ndbs,
                     const struct kv_rdb_save_opts *o, char *err, size_t errlen)
{
    char tmp[4096], dst[4096];
    const char *d = dir && *dir ? dir : ".";
    snprintf(tmp, sizeof tmp, "%s/temp-%d.rdb", d, (int)getpid());
    snprintf(dst, sizeof dst, "%s/%s", d, file);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "Failed opening the temp RDB file %s (in server root dir %s) for saving: %s", tmp, d,
                 strerror(errno));
        return -1;
    }
    int rc = kv_rdb_save_fd(fd, dbs, ndbs, o);
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc != 0) {
        snprintf(err, errlen, "Write error saving DB on disk: %s", strerror(-rc));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, dst) != 0) {
        snprintf(err, errlen, "Error moving temp DB file %s on the final destination %s: %s", tmp, dst,
                 strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int load_fail(struct rdb_reader *r, char *err, size_t errlen)
{
    snprintf(err, errlen, "offset %zu: %s", r->err_off, r->err);
    return -1;
}

int kv_rdb_load_mem(const void *p, size_t len, struct kv_db *const *dbs, int ndbs, long long now_ms,
                    struct kv_rdb_load_stats *st, char *err, size_t errlen)
{
    return kv_rdb_load_mem_ex(p, len, dbs, ndbs, now_ms, NULL, st, err, errlen);
}

int kv_rdb_load_mem_ex(const void *p, size_t len, struct kv_db *const *dbs, int ndbs, long long now_ms,
                       const struct kv_rdb_load_opts *lo, struct kv_rdb_load_stats *st, char *err, size_t errlen)
{
    struct rdb_reader r;
    rdb_reader_init(&r, p, len);
    return kv_rdb_load_reader(&r, dbs, ndbs, now_ms, lo, st, err, errlen);
}

/* A streaming reader drops what was parsed once this much piled up. */
#define LOAD_DROP_BYTES (256u << 10)

int kv_rdb_load_reader(struct rdb_reader *r, struct kv_db *const *dbs, int ndbs, long long now_ms,
                       const struct kv_rdb_load_opts *lo, struct kv_rdb_load_stats *st, char *err, size_t errlen)
{
    char magic[10];
    uint64_t crc = 0; /* of the bytes dropped so far */
    size_t drop_at = lo && lo->drop_bytes ? lo->drop_bytes : LOAD_DROP_BYTES;
    memset(st, 0, sizeof *st);
    st->ctime = -1;
    st->repl_stream_db = -1;
    st->repl_offset = -1;
    if (!rdb_get_raw(r, magic, 9))
        return load_fail(r, err, errlen);
    magic[9] = '\0';
    if (memcmp(magic, "REDIS", 5) != 0) {
        r->off = 0;
        rdb_fail(r, "not an RDB file (wrong signature)");
        return load_fail(r, err, errlen);
    }
    int ver = 0;
    for (int i = 5; i < 9; i++) {
        if (magic[i] < '0' || magic[i] > '9')
            ver = -1000;
        ver = ver * 10 + magic[i] - '0';
    }
    if (ver < 1 || ver > RDB_VERSION) {
        r->off = 5;
        rdb_fail(r, "can't handle RDB format version %.4s", magic + 5);
        return load_fail(r, err, errlen);
    }
    st->version = ver;
    struct kv_db *db = ndbs > 0 ? dbs[0] : NULL;
    long long expire = -1, idle = -1;
    int freq = -1;
    for (int i = 0; i < ndbs && now_ms > 0; i++)
        kv_db_set_now(dbs[i], now_ms); /* clocks for the IDLE hints */
    for (;;) {
        uint8_t type;
        if (r->drop && r->off >= drop_at) {
            crc = crc64_update(crc, r->p, r->off);
            r->drop(r);
        }
        size_t at = r->off;
        if (!rdb_get_byte(r, &type))
            return load_fail(r, err, errlen);
        if (type == RDB_OPCODE_EXPIRETIME) {
            uint32_t s;
            if (!rdb_get_u32le(r, &s))
                return load_fail(r, err, errlen);
            expire = (long long)s * 1000;
            continue;
        }
        if (type == RDB_OPCODE_EXPIRETIME_MS) {
            uint64_t ms;
            if (!rdb_get_u64le(r, &ms))
                return load_fail(r, err, errlen);
            expire = (long long)ms;
            continue;
        }
        if (type == RDB_OPCODE_FREQ) {
            uint8_t f;
            if (!rdb_get_byte(r, &f))
                return load_fail(r, err, errlen);
            freq = f;
            continue;
        }
        if (type == RDB_OPCODE_IDLE) {
            uint64_t secs;
            if (!rdb_get_len(r, &secs, NULL))
                return load_fail(r, err, errlen);
            idle = secs > (uint64_t)(UINT32_MAX / 1000 * 16) ? UINT32_MAX / 1000 * 16 : (long long)secs;
            continue;
        }
        if (type == RDB_OPCODE_EOF)
            break;
        if (type == RDB_OPCODE_SELECTDB) {
            uint64_t id;
            if (!rdb_get_len(r, &id, NULL))
                return load_fail(r, err, errlen);
            if (id >= (uint64_t)ndbs) {
                r->off = at;
                rdb_fail(r, "database %llu out of range (this server has %d)", (unsigned long long)id, ndbs);
                return load_fail(r, err, errlen);
            }
            db = dbs[id];
            continue;
        }
        if (type == RDB_OPCODE_RESIZEDB) {
            uint64_t a, b;
            if (!rdb_get_len(r, &a, NULL) || !rdb_get_len(r, &b, NULL))
                return load_fail(r, err, errlen);
            continue;
        }
        if (type == RDB_OPCODE_AUX) {
            char *k, *v;
            size_t kl, vl;
            if (!rdb_get_string(r, &k, &kl))
                return load_fail(r, err, errlen);
            if (!rdb_get_string(r, &v, &vl)) {
                xfree(k);
                return load_fail(r, err, errlen);
            }
            long long t;
            if (lo && lo->aux)
                lo->aux(lo->arg, k, kl, v, vl);
            if (strcmp(k, "ctime") == 0 && util_str2ll(v, vl, &t))
                st->ctime = t;
            else if (strcmp(k, "repl-stream-db") == 0 && util_str2ll(v, vl, &t) && t >= 0 && t < ndbs)
                st->repl_stream_db = (int)t;
            else if (strcmp(k, "repl-offset") == 0 && util_str2ll(v, vl, &t) && t >= 0)
                st->repl_offset = t;
            else if (strcmp(k, "repl-id") == 0 && vl == sizeof st->repl_id - 1)
                memcpy(st->repl_id, v, vl + 1);
            xfree(k);
            xfree(v);
            continue;
        }
        if (type == RDB_OPCODE_FUNCTION2) {
            char *code;
            size_t cl;
            if (!rdb_get_string(r, &code, &cl))
                return load_fail(r, err, errlen);
            st->functions++;
            char fe[400];
            int frc = lo && lo->fn_load ? lo->fn_load(lo->fn_arg, code, cl, fe, sizeof fe) : 0;
            if (lo && !lo->fn_load && lo->fn_code)
                lo->fn_code(lo->arg, code, cl);
            xfree(code);
            if (frc != 0) {
                r->off = at;
                rdb_fail(r, "failed loading a library: %s", fe);
                return load_fail(r, err, errlen);
            }
            continue;
        }
        if (type == RDB_OPCODE_MODULE_AUX || type == RDB_OPCODE_FUNCTION) {
            r->off = at;
            rdb_fail(r, "%s are not supported by kv",
                     type == RDB_OPCODE_MODULE_AUX ? "module aux data" : "pre-GA functions (Redis 7.0 RC)");
            return load_fail(r, err, errlen);
        }
        /* a key: type, key, value */
        char *key;
        size_t klen;
        if (!rdb_get_string(r, &key, &klen))
            return load_fail(r, err, errlen);
        if (!db) {
            xfree(key);
            r->off = at;
            rdb_fail(r, "a key but no database");
            return load_fail(r, err, errlen);
        }
        bool empty;
        struct kv_obj *o = kv_rdb_get_value(r, type, key, klen, expire, &empty);
        if (!o) {
            xfree(key);
            if (!empty)
                return load_fail(r, err, errlen);
            st->empty++;
            expire = idle = -1;
            freq = -1;
            continue;
        }
        if (expire >= 0 && expire < now_ms) {
            st->expired++;
            kv_obj_free(o);
        } else if (dict_find(&db->d, key, klen, kv_dict_hash(key, klen))) {
            kv_obj_free(o);
            xfree(key);
            r->off = at;
            rdb_fail(r, "duplicated key");
            return load_fail(r, err, errlen);
        } else {
            kv_db_add(db, o);
            if (idle >= 0)
                o->lru = kv_db_lru_clock(db) - (uint32_t)((unsigned long long)idle * 1000 / 16);
            if (freq >= 0)
                o->lfu = (uint8_t)freq;
            st->keys++;
        }
        xfree(key);
        expire = idle = -1;
        freq = -1;
        if (lo && lo->key_delay_us > 0)
            usleep((useconds_t)lo->key_delay_us);
    }
    if (ver >= 5) {
        size_t body = r->off;
        uint64_t want;
        if (!rdb_get_u64le(r, &want))
            return load_fail(r, err, errlen);
        if (want != 0 && want != crc64_update(crc, r->p, body)) {
            r->off = body;
            rdb_fail(r, "wrong RDB checksum");
            return load_fail(r, err, errlen);
        }
    }
    st->consumed = r->base + r->off;
    return 0;
}

int kv_rdb_load_file(const char *path, struct kv_db *const *dbs, int ndbs, long long now_ms,
                     struct kv_rdb_load_stats *st, char *err, size_t errlen)
{
    return kv_rdb_load_file_ex(path, dbs, ndbs, now_ms, NULL, st, err, errlen);
}

int kv_rdb_load_file_ex(const char *path, struct kv_db *const *dbs, int ndbs, long long now_ms,
                        const struct kv_rdb_load_opts *lo, struct kv_rdb_load_stats *st, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    size_t len = (size_t)sb.st_size, got = 0;
    char *p = xmalloc(len ? len : 1);
    while (got < len) {
        ssize_t k = read(fd, p + got, len - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            snprintf(err, errlen, "cannot read %s: %s", path, k < 0 ? strerror(errno) : "short read");
            close(fd);
            xfree(p);
            return -1;
        }
        got += (size_t)k;
    }
    close(fd);
    char e[300];
    int rc = kv_rdb_load_mem_ex(p, len, dbs, ndbs, now_ms, lo, st, e, sizeof e);
    if (rc != 0)
        snprintf(err, errlen, "%s: %s", path, e);
    xfree(p);
    return rc;
}
