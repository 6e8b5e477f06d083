/*
 * t_set.c — set commands: SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS
 * SRANDMEMBER SPOP SMOVE SINTER SINTERCARD SUNION SDIFF SINTERSTORE
 * SUNIONSTORE SDIFFSTORE SSCAN. Replies, error texts and the order of
 * argument checks are Redis 7.0's (src/t_set.c): an intset replies in
 * ascending order as Redis's does, and results of SUNION, SDIFF and the STORE forms are
 * built as a new set (intset while every member is an integer) and replied
 * in that set's order, as Redis does. A set whose last member goes is
 * deleted.
 *
 * Replies whose size a client controls without memory behind them
 * (SRANDMEMBER with a huge negative count) stop at the client's output
 * limit: the client is disconnected, as Redis does past its hard limit.
 *
 * Runs with the keyspace lock held (see server.h).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/rand.h"
#include "core/util.h"
#include "kv/pubsub.h"
#include "kv/reply.h"
#include "kv/setobj.h"

#define SSCAN_DEFAULT_COUNT 10

static inline struct kv_db *DB(struct kv_client *c) { return &c->srv->db; }

static bool lookup_set(struct kv_client *c, const struct resp_arg *k, int flags, struct kv_set **s,
                       struct kv_obj ***ref)
{
    struct kv_obj **r = kv_db_lookup_ref(DB(c), k->ptr, k->len, flags);
    *s = NULL;
    if (ref)
        *ref = r;
    if (!r)
        return true;
    if (obj_type(*r) != OBJ_SET) {
        kv_reply_wrongtype(c);
        return false;
    }
    *s = obj_ptr(*r);
    return true;
}

static void add_cb(const char *m, size_t n, void *arg)
{
    struct kv_set **s = arg;
    kv_set_add(s, m, n);
}

static void reply_cb(const char *m, size_t n, void *arg) { resp_add_bulk(arg, m, n); }

/* ---- single-set commands ---------------------------------------------------- */

void kv_cmd_SADD(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_set *s;
    struct kv_obj **ref;
    if (!lookup_set(c, &argv[1], LOOKUP_WRITE, &s, &ref))
        return;
    struct kv_obj *o;
    if (!s) {
        s = kv_set_new();
        o = kv_obj_new_ptr(argv[1].ptr, argv[1].len, OBJ_SET, s, -1);
        kv_db_add(DB(c), o);
    } else {
        o = *ref;
    }
    long long added = 0;
    for (int i = 2; i < argc; i++)
        added += kv_set_add(&s, argv[i].ptr, argv[i].len);
    obj_set_ptr(o, s);
    if (added) {
        db_modified(DB(c), argv[1].ptr, argv[1].len);
        kv_notify(c, KV_NOTIFY_SET, "sadd", argv[1].ptr, argv[1].len);
    }
    c->srv->dirty += (uint64_t)added;
    resp_add_int(&c->out, added);
}

void kv_cmd_SREM(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_set *s;
    struct kv_obj **ref;
    if (!lookup_set(c, &argv[1], LOOKUP_WRITE, &s, &ref))
        return;
    long long deleted = 0;
    bool gone = false;
    if (s) {
        for (int i = 2; i < argc; i++) {
            deleted += kv_set_remove(&s, argv[i].ptr, argv[i].len);
            obj_set_ptr(*ref, s);
            if (kv_set_len(s) == 0) {
                kv_db_delete_ref(DB(c), ref);
                gone = true;
                break;
            }
        }
    }
    if (deleted) {
        db_modified(DB(c), argv[1].ptr, argv[1].len);
        kv_notify(c, KV_NOTIFY_SET, "srem", argv[1].ptr, argv[1].len);
        if (gone)
            kv_notify(c, KV_NOTIFY_GENERIC, "del", argv[1].ptr, argv[1].len);
    }
    c->srv->dirty += (uint64_t)deleted;
    resp_add_int(&c->out, deleted);
}

void kv_cmd_SCARD(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_set *s;
    if (lookup_set(c, &argv[1], 0, &s, NULL))
        resp_add_int(&c->out, s ? (long long)kv_set_len(s) : 0);
}

void kv_cmd_SISMEMBER(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_set *s;
    if (lookup_set(c, &argv[1], 0, &s, NULL))
        resp_add_int(&c->out, s && kv_set_has(s, argv[2].ptr, argv[2].len));
}

void kv_cmd_SMISMEMBER(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_set *s;
    if (!lookup_set(c, &argv[1], 0, &s, NULL))
        return;
    resp_add_array(&c->out, argc - 2);
    for (int i = 2; i < argc; i++)
        resp_add_int(&c->out, s && kv_set_has(s, argv[i].ptr, argv[i].len));
}

void kv_cmd_SMOVE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_db *db = DB(c);
    struct kv_obj *so = db_lookup(db, argv[1].ptr, argv[1].len, LOOKUP_WRITE);
    struct kv_obj *dobj = db_lookup(db, argv[2].ptr, argv[2].len, LOOKUP_WRITE);
    const struct resp_arg *m = &argv[3];
    if (!so) {
        resp_add_int(&c->out, 0);
        return;
    }
    if (obj_type(so) != OBJ_SET || (dobj && obj_type(dobj) != OBJ_SET)) {
        kv_reply_wrongtype(c);
        return;
    }
    if (so == dobj) {
        resp_add_int(&c->out, kv_set_has(obj_ptr(so), m->ptr, m->len));
        return;
    }
    struct kv_set *s = obj_ptr(so);
    if (!kv_set_remove(&s, m->ptr, m->len)) {
        resp_add_int(&c->out, 0);
        return;
    }
    obj_set_ptr(so, s);
    kv_notify(c, KV_NOTIFY_SET, "srem", argv[1].ptr, argv[1].len);
    if (kv_set_len(s) == 0) {
        kv_db_delete(db, argv[1].ptr, argv[1].len);
        kv_notify(c, KV_NOTIFY_GENERIC, "del", argv[1].ptr, argv[1].len);
    }
    dobj = db_lookup(db, argv[2].ptr, argv[2].len, LOOKUP_WRITE | LOOKUP_NOTOUCH);
    int added;
    if (!dobj) {
        struct kv_set *d = kv_set_new();
        added = kv_set_add(&d, m->ptr, m->len);
        kv_db_add(db, kv_obj_new_ptr(argv[2].ptr, argv[2].len, OBJ_SET, d, -1));
    } else {
        struct kv_set *d = obj_ptr(dobj);
        added = kv_set_add(&d, m->ptr, m->len);
        obj_set_ptr(dobj, d);
    }
    if (added)
        kv_notify(c, KV_NOTIFY_SET, "sadd", argv[2].ptr, argv[2].len);
    db_modified(DB(c), argv[1].ptr, argv[1].len);
    db_modified(db, argv[2].ptr, argv[2].len);
    c->srv->dirty++;
    resp_add_int(&c->out, 1);
}

/* ---- SRANDMEMBER SPOP -------------------------------------------------------- */

struct mem {
    char *p;
    size_t n;
};

struct memvec {
    struct mem *v;
    size_t n, cap;
};

static void memvec_push(struct memvec *mv, const char *m, size_t n)
{
    if (mv->n == mv->cap) {
        mv->cap = mv->cap ? mv->cap * 2 : 16;
        mv->v = xrealloc(mv->v, mv->cap * sizeof *mv->v);
    }
    mv->v[mv->n].p = xmalloc(n ? n : 1);
    memcpy(mv->v[mv->n].p, m, n);
    mv->v[mv->n].n = n;
    mv->n++;
}

static void memvec_cb(const char *m, size_t n, void *arg) { memvec_push(arg, m, n); }

static void memvec_free(struct memvec *mv)
{
    for (size_t i = 0; i < mv->n; i++)
        xfree(mv->v[i].p);
    xfree(mv->v);
}

/* Every member, copied (random picks without repeats shuffle this). */
static void collect_members(const struct kv_set *s, struct memvec *mv) { kv_set_foreach(s, memvec_cb, mv); }

/* The first k slots of a partial Fisher-Yates shuffle of mv. */
static void shuffle_prefix(struct memvec *mv, size_t k)
{
    for (size_t i = 0; i < k && i < mv->n; i++) {
        size_t j = i + (size_t)rand_below(mv->n - i);
        struct mem t = mv->v[i];
        mv->v[i] = mv->v[j];
        mv->v[j] = t;
    }
}

static void srandmember_count(struct kv_client *c, struct resp_arg *argv)
{
    long long l;
    if (!kv_arg_ll(c, &argv[2], &l))
        return;
    if (l < -LLONG_MAX) {
        kv_reply_errorf(c, "ERR value is out of range, value must between %lld and %lld", -LLONG_MAX, LLONG_MAX);
        return;
    }
    bool uniq = l >= 0;
    uint64_t count = l >= 0 ? (uint64_t)l : (uint64_t)-l;
    struct kv_set *s;
    if (!lookup_set(c, &argv[1], 0, &s, NULL))
        return;
    if (!s || count == 0) {
        resp_add_array(&c->out, 0);
        return;
    }
    uint64_t size = kv_set_len(s);
    char buf[SET_INT_STR];
    const char *m;
    size_t n;
    if (!uniq || count == 1) {
        resp_add_array(&c->out, (long long)count);
        for (uint64_t i = 0; i < count; i++) {
            kv_set_random(s, buf, &m, &n);
            resp_add_bulk(&c->out, m, n);
            if ((i & 4095) == 4095 && kv_reply_full(c))
                return;
        }
        return;
    }
    if (count >= size) {
        resp_add_array(&c->out, (long long)size);
        kv_set_foreach(s, reply_cb, &c->out);
        return;
    }
    struct memvec mv = {0};
    collect_members(s, &mv);
    shuffle_prefix(&mv, (size_t)count);
    resp_add_array(&c->out, (long long)count);
    for (uint64_t i = 0; i < count; i++)
        resp_add_bulk(&c->out, mv.v[i].p, mv.v[i].n);
    memvec_free(&mv);
}

void kv_cmd_SRANDMEMBER(struct kv_client *c, int argc, struct resp_arg *argv)
{
    if (argc == 3) {
        srandmember_count(c, argv);
        return;
    }
    if (argc > 3) {
        kv_reply_syntax(c);
        return;
    }
    struct kv_set *s;
    if (!lookup_set(c, &argv[1], 0, &s, NULL))
        return;
    if (!s) {
        resp_add_null(&c->out, c->proto);
        return;
    }
    char buf[SET_INT_STR];
    const char *m;
    size_t n;
    kv_set_random(s, buf, &m, &n);
    resp_add_bulk(&c->out, m, n);
}

static void spop_count(struct kv_client *c, struct resp_arg *argv)
{
    long long l;
    if (!util_str2ll(argv[2].ptr, argv[2].len, &l) || l < 0) {
        kv_reply_error(c, "ERR value is out of range, must be positive");
        return;
    }
    struct kv_set *s;
    struct kv_obj **ref;
    if (!lookup_set(c, &argv[1], LOOKUP_WRITE, &s, &ref))
        return;
    if (!s || l == 0) {
        resp_add_array(&c->out, 0);
        return;
    }
    uint64_t count = (uint64_t)l, size = kv_set_len(s);
    if (count >= size) {
        /* the whole set, in the order of a fresh copy (Redis replies through SUNION) */
        struct kv_set *u = kv_set_new();
        kv_set_foreach(s, add_cb, &u);
        resp_add_set(&c->out, c->proto, (long long)kv_set_len(u));
        kv_set_foreach(u, reply_cb, &c->out);
        kv_set_free(u);
        kv_db_delete_ref(DB(c), ref);
        c->srv->dirty++;
        kv_notify(c, KV_NOTIFY_SET, "spop", argv[1].ptr, argv[1].len);
        kv_notify(c, KV_NOTIFY_GENERIC, "del", argv[1].ptr, argv[1].len);
        return;
    }
    /* count < size: pick count distinct members, remove them */
    struct memvec mv = {0};
    collect_members(s, &mv);
    shuffle_prefix(&mv, (size_t)count);
    resp_add_set(&c->out, c->proto, (long long)count);
    for (uint64_t i = 0; i < count; i++) {
        resp_add_bulk(&c->out, mv.v[i].p, mv.v[i].n);
        kv_set_remove(&s, mv.v[i].p, mv.v[i].n);
    }
    obj_set_ptr(*ref, s);
    memvec_free(&mv);
    db_modified(DB(c), argv[1].ptr, argv[1].len);
    c->srv->dirty += count;
    kv_notify(c, KV_NOTIFY_SET, "spop", argv[1].ptr, argv[1].len);
}

void kv_cmd_SPOP(struct kv_client *c, int argc, struct resp_arg *argv)
{
    if (argc == 3) {
        spop_count(c, argv);
        return;
    }
    if (argc > 3) {
        kv_reply_syntax(c);
        return;
    }
    struct kv_set *s;
    struct kv_obj **ref;
    if (!lookup_set(c, &argv[1], LOOKUP_WRITE, &s, &ref))
        return;
    if (!s) {
        resp_add_null(&c->out, c->proto);
        return;
    }
    char buf[SET_INT_STR], *copy;
    const char *m;
    size_t n;
    kv_set_random(s, buf, &m, &n);
    resp_add_bulk(&c->out, m, n);
    copy = xmalloc(n ? n : 1);
    memcpy(copy, m, n);
    kv_set_remove(&s, copy, n);
    xfree(copy);
    obj_set_ptr(*ref, s);
    db_modified(DB(c), argv[1].ptr, argv[1].len);
    kv_notify(c, KV_NOTIFY_SET, "spop", argv[1].ptr, argv[1].len);
    if (kv_set_len(s) == 0) {
        kv_db_delete_ref(DB(c), ref);
        kv_notify(c, KV_NOTIFY_GENERIC, "del", argv[1].ptr, argv[1].len);
    }
    c->srv->dirty++;
}

/* ---- SSCAN ------------------------------------------------------------------ */

void kv_cmd_SSCAN(struct kv_client *c, int argc, struct resp_arg *argv)
{
    uint64_t cursor;
    struct kv_set *s;
    if (!kv_arg_cursor(&argv[2], &cursor)) {
        kv_reply_error(c, "ERR invalid cursor");
        return;
    }
    if (!lookup_set(c, &argv[1], 0, &s, NULL))
        return;
    if (!s) {
        kv_reply_empty_scan(c);
        return;
    }
    long long count = SSCAN_DEFAULT_COUNT;
    const struct resp_arg *pat;
    if (!kv_scan_opts(c, argc, argv, 3, &count, &pat))
        return;
    struct memvec mv = {0};
    if (kv_set_is_intset(s)) {
        kv_set_foreach(s, memvec_cb, &mv);
        cursor = 0;
    } else {
        long long maxiter = count > LLONG_MAX / 10 ? LLONG_MAX : count * 10;
        do {
            cursor = kv_set_scan(s, cursor, memvec_cb, &mv);
        } while (cursor && maxiter-- && mv.n < (unsigned long long)count);
    }
    size_t kept = 0;
    for (size_t i = 0; i < mv.n; i++) {
        if (!pat || util_glob_match(pat->ptr, pat->len, mv.v[i].p, mv.v[i].n, false)) {
            struct mem t = mv.v[kept];
            mv.v[kept++] = mv.v[i];
            mv.v[i] = t;
        }
    }
    char cbuf[24];
    size_t cl = util_ull2str(cbuf, cursor);
    resp_add_array(&c->out, 2);
    resp_add_bulk(&c->out, cbuf, cl);
    resp_add_array(&c->out, (long long)kept);
    for (size_t i = 0; i < kept; i++)
        resp_add_bulk(&c->out, mv.v[i].p, mv.v[i].n);
    memvec_free(&mv);
}

/* ---- multi-set operations ----------------------------------------------------- */

/*
 * Look up every key as a set: sets[j] NULL when absent. false after a
 * WRONGTYPE reply (every key is checked, as Redis does, before any work).
 */
static bool lookup_sets(struct kv_client *c, const struct resp_arg *keys, long long n, bool write,
                        struct kv_set **sets, long long *empty)
{
    *empty = 0;
    for (long long j = 0; j < n; j++) {
        if (!lookup_set(c, &keys[j], write ? LOOKUP_WRITE : 0, &sets[j], NULL))
            return false;
        if (!sets[j])
            (*empty)++;
    }
    return true;
}

/* Store result under dst (replacing it; deleted when empty); reply its size. */
static void store_result(struct kv_client *c, const struct resp_arg *dst, struct kv_set *r)
{
    struct kv_db *db = DB(c);
    long long n = (long long)kv_set_len(r);
    if (n > 0) {
        kv_db_set(db, kv_obj_new_ptr(dst->ptr, dst->len, OBJ_SET, r, -1), false);
        c->srv->dirty++;
        /* the event is the command's name: sinterstore, sunionstore, sdiffstore */
        kv_notify(c, KV_NOTIFY_SET, resp_cmds[c->last_cmd].name, dst->ptr, dst->len);
    } else {
        kv_set_free(r);
        if (kv_db_delete(db, dst->ptr, dst->len)) {
            c->srv->dirty++;
            kv_notify(c, KV_NOTIFY_GENERIC, "del", dst->ptr, dst->len);
        }
    }
    resp_add_int(&c->out, n);
}

struct inter_ctx {
    struct kv_set **sets;
    long long n;           /* sets[0] is the one iterated */
    struct buf *out;       /* reply members here, or */
    struct kv_set **dst;   /* add them here, or only count */
    long long found, limit;
};

static void inter_cb(const char *m, size_t len, void *arg)
{
    struct inter_ctx *x = arg;
    if (x->limit && x->found >= x->limit)
        return;
    for (long long j = 1; j < x->n; j++)
        if (x->sets[j] != x->sets[0] && !kv_set_has(x->sets[j], m, len))
            return;
    x->found++;
    if (x->out)
        resp_add_bulk(x->out, m, len);
    else if (x->dst)
        kv_set_add(x->dst, m, len);
}

static int cmp_card(const void *a, const void *b)
{
    uint64_t x = kv_set_len(*(struct kv_set *const *)a), y = kv_set_len(*(struct kv_set *const *)b);
    return x < y ? -1 : x > y;
}

/* Redis sinterGenericCommand: dst (STORE), cardinality only (SINTERCARD, with limit). */
static void sinter_generic(struct kv_client *c, const struct resp_arg *keys, long long n, const struct resp_arg *dst,
                           bool card, long long limit)
{
    struct kv_set **sets = xmalloc((size_t)n * sizeof *sets);
    long long empty;
    if (!lookup_sets(c, keys, n, dst != NULL, sets, &empty))
        goto done;
    if (empty > 0) {
        if (dst) {
            if (kv_db_delete(DB(c), dst->ptr, dst->len)) {
                c->srv->dirty++;
                kv_notify(c, KV_NOTIFY_GENERIC, "del", dst->ptr, dst->len);
            }
            resp_add_int(&c->out, 0);
        } else if (card) {
            resp_add_int(&c->out, 0);
        } else {
            resp_add_set(&c->out, c->proto, 0);
        }
        goto done;
    }
    qsort(sets, (size_t)n, sizeof *sets, cmp_card);
    struct inter_ctx x = {.sets = sets, .n = n, .limit = limit};
    if (dst) {
        struct kv_set *r = kv_set_new();
        x.dst = &r;
        kv_set_foreach(sets[0], inter_cb, &x);
        store_result(c, dst, r);
    } else if (card) {
        kv_set_foreach(sets[0], inter_cb, &x);
        resp_add_int(&c->out, x.found);
    } else {
        struct buf members;
        buf_init(&members);
        x.out = &members;
        kv_set_foreach(sets[0], inter_cb, &x);
        resp_add_set(&c->out, c->proto, x.found);
        buf_append(&c->out, buf_head(&members), buf_pending(&members));
        buf_deinit(&members);
    }
done:
    xfree(sets);
}

void kv_cmd_SINTER(struct kv_client *c, int argc, struct resp_arg *argv) { sinter_generic(c, &argv[1], argc - 1, NULL, false, 0); }
void kv_cmd_SMEMBERS(struct kv_client *c, int argc, struct resp_arg *argv) { sinter_generic(c, &argv[1], 1, NULL, false, 0); }

void kv_cmd_SINTERSTORE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    sinter_generic(c, &argv[2], argc - 2, &argv[1], false, 0);
}

void kv_cmd_SINTERCARD(struct kv_client *c, int argc, struct resp_arg *argv)
{
    long long numkeys, limit = 0;
    if (!util_str2ll(argv[1].ptr, argv[1].len, &numkeys) || numkeys < 1) {
        kv_reply_error(c, "ERR numkeys should be greater than 0");
        return;
    }
    if (numkeys > argc - 2) {
        kv_reply_error(c, "ERR Number of keys can't be greater than number of args");
        return;
    }
    for (long long j = 2 + numkeys; j < argc; j++) {
        if (kv_arg_is(&argv[j], "limit") && j + 1 < argc) {
            j++;
            if (!util_str2ll(argv[j].ptr, argv[j].len, &limit) || limit < 0) {
                kv_reply_error(c, "ERR LIMIT can't be negative");
                return;
            }
        } else {
            kv_reply_syntax(c);
            return;
        }
    }
    sinter_generic(c, &argv[2], numkeys, NULL, true, limit);
}

struct diff_ctx {
    struct kv_set **sets;
    long long n;
    struct kv_set **dst;
};

static void diff_cb(const char *m, size_t len, void *arg)
{
    struct diff_ctx *x = arg;
    for (long long j = 1; j < x->n; j++)
        if (x->sets[j] && kv_set_has(x->sets[j], m, len))
            return;
    kv_set_add(x->dst, m, len);
}

/* SUNION / SDIFF and their STORE forms (Redis sunionDiffGenericCommand). */
static void sunion_diff(struct kv_client *c, const struct resp_arg *keys, long long n, const struct resp_arg *dst,
                        bool diff)
{
    struct kv_set **sets = xmalloc((size_t)n * sizeof *sets);
    long long empty;
    if (!lookup_sets(c, keys, n, dst != NULL, sets, &empty))
        goto done;
    struct kv_set *r = kv_set_new();
    if (diff) {
        if (sets[0]) {
            struct diff_ctx x = {sets, n, &r};
            kv_set_foreach(sets[0], diff_cb, &x);
        }
    } else {
        for (long long j = 0; j < n; j++)
            if (sets[j])
                kv_set_foreach(sets[j], add_cb, &r);
    }
    if (dst) {
        store_result(c, dst, r);
    } else {
        resp_add_set(&c->out, c->proto, (long long)kv_set_len(r));
        kv_set_foreach(r, reply_cb, &c->out);
        kv_set_free(r);
    }
done:
    xfree(sets);
}

void kv_cmd_SUNION(struct kv_client *c, int argc, struct resp_arg *argv) { sunion_diff(c, &argv[1], argc - 1, NULL, false); }
void kv_cmd_SDIFF(struct kv_client *c, int argc, struct resp_arg *argv) { sunion_diff(c, &argv[1], argc - 1, NULL, true); }

void kv_cmd_SUNIONSTORE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    sunion_diff(c, &argv[2], argc - 2, &argv[1], false);
}

void kv_cmd_SDIFFSTORE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    sunion_diff(c, &argv[2], argc - 2, &argv[1], true);
}
