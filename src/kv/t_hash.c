/*
 * t_hash.c — hash commands: HSET HSETNX HGET HMGET HMSET HGETALL HDEL HEXISTS
 * HLEN HKEYS HVALS HINCRBY HINCRBYFLOAT HSTRLEN HSCAN HRANDFIELD. Replies and
 * error texts are Redis 7.0's (src/t_hash.c). The encoding (packed or dict)
 * is hashobj.c's business; a hash whose last field goes is deleted, and a
 * hash key is created only when a field is about to be written, so no empty
 * hash is ever visible.
 *
 * Runs with the keyspace lock held (see server.h).
 */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rand.h"
#include "core/util.h"
#include "kv/hashobj.h"
#include "kv/pubsub.h"
#include "kv/reply.h"

#define HSCAN_DEFAULT_COUNT 10

static inline struct kv_db *DB(struct kv_client *c) { return &c->srv->db; }

/*
 * Look key up as a hash. Returns false after replying WRONGTYPE; otherwise
 * *h is the hash, NULL when the key is absent. *ref (if given) is the link
 * for deletion, valid until the next keyspace change.
 */
static bool lookup_hash(struct kv_client *c, const struct resp_arg *k, int flags, struct kv_hash **h,
                        struct kv_obj ***ref)
{
    struct kv_obj **r = kv_db_lookup_ref(DB(c), k->ptr, k->len, flags);
    *h = NULL;
    if (ref)
        *ref = r;
    if (!r)
        return true;
    if (obj_type(*r) != OBJ_HASH) {
        kv_reply_wrongtype(c);
        return false;
    }
    *h = obj_hash(*r);
    return true;
}

/* Add an empty hash under a key known to be absent (filled at once by the caller). */
static struct kv_hash *create_hash(struct kv_client *c, const struct resp_arg *k)
{
    struct kv_hash *h = kv_hash_new();
    kv_db_add(DB(c), kv_obj_new_hash(k->ptr, k->len, h, -1));
    return h;
}

/* ---- writes ----------------------------------------------------------------- */

/* HSET and HMSET: the same, but for the reply. */
static void hset_generic(struct kv_client *c, int argc, struct resp_arg *argv, bool hmset)
{
    if (argc % 2 == 1) {
        kv_reply_arity(c, hmset ? "hmset" : "hset");
        return;
    }
    struct kv_hash *h;
    if (!lookup_hash(c, &argv[1], LOOKUP_WRITE, &h, NULL))
        return;
    if (!h)
        h = create_hash(c, &argv[1]);
    long long created = 0;
    for (int i = 2; i < argc; i += 2)
        created += kv_hash_set(h, argv[i].ptr, argv[i].len, argv[i + 1].ptr, argv[i + 1].len);
    db_modified(DB(c), argv[1].ptr, argv[1].len);
    c->srv->dirty += (uint64_t)(argc - 2) / 2;
    kv_notify(c, KV_NOTIFY_HASH, "hset", argv[1].ptr, argv[1].len);
    if (hmset)
        resp_add_ok(&c->out);
    else
        resp_add_int(&c->out, created);
}

void kv_cmd_HSET(struct kv_client *c, int argc, struct resp_arg *argv) { hset_generic(c, argc, argv, false); }
void kv_cmd_HMSET(struct kv_client *c, int argc, struct resp_arg *argv) { hset_generic(c, argc, argv, true); }

void kv_cmd_HSETNX(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_hash *h;
    const char *v;
    size_t vlen;
    if (!lookup_hash(c, &argv[1], LOOKUP_WRITE, &h, NULL))
        return;
    if (h && kv_hash_get(h, argv[2].ptr, argv[2].len, &v, &vlen)) {
        resp_add_int(&c->out, 0);
        return;
    }
    if (!h)
        h = create_hash(c, &argv[1]);
    kv_hash_set(h, argv[2].ptr, argv[2].len, argv[3].ptr, argv[3].len);
    db_modified(DB(c), argv[1].ptr, argv[1].len);
    c->srv->dirty++;
    kv_notify(c, KV_NOTIFY_HASH, "hset", argv[1].ptr, argv[1].len);
    resp_add_int(&c->out, 1);
}

void kv_cmd_HDEL(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_hash *h;
    struct kv_obj **ref;
    if (!lookup_hash(c, &argv[1], LOOKUP_WRITE, &h, &ref))
        return;
    long long deleted = 0;
    bool removed = false;
    if (h) {
        for (int i = 2; i < argc; i++) {
            if (kv_hash_del(h, argv[i].ptr, argv[i].len))
                deleted++;
            if (kv_hash_len(h) == 0) {
                /* only the hash changed since the lookup: ref is still good */
                kv_db_delete_ref(DB(c), ref);
                removed = true;
                break;
            }
        }
    }
    if (deleted) {
        db_modified(DB(c), argv[1].ptr, argv[1].len);
        kv_notify(c, KV_NOTIFY_HASH, "hdel", argv[1].ptr, argv[1].len);
        if (removed)
            kv_notify(c, KV_NOTIFY_GENERIC, "del", argv[1].ptr, argv[1].len);
    }
    c->srv->dirty += (uint64_t)deleted;
    resp_add_int(&c->out, deleted);
}

void kv_cmd_HINCRBY(struct kv_client *c, int argc, struct resp_arg *argv)
{
    long long incr, value = 0;
    struct kv_hash *h;
    const char *v;
    size_t vlen;
    if (!kv_arg_ll(c, &argv[3], &incr) || !lookup_hash(c, &argv[1], LOOKUP_WRITE, &h, NULL))
        return;
    if (h && kv_hash_get(h, argv[2].ptr, argv[2].len, &v, &vlen) && !util_str2ll(v, vlen, &value)) {
        kv_reply_error(c, "ERR hash value is not an integer");
        return;
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) || (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
        kv_reply_error(c, "ERR increment or decrement would overflow");
        return;
    }
    value += incr;
    char buf[24];
    size_t n = util_ll2str(buf, value);
    if (!h)
        h = create_hash(c, &argv[1]);
    kv_hash_set(h, argv[2].ptr, argv[2].len, buf, n);
    db_modified(DB(c), argv[1].ptr, argv[1].len);
    c->srv->dirty++;
    kv_notify(c, KV_NOTIFY_HASH, "hincrby", argv[1].ptr, argv[1].len);
    resp_add_int(&c->out, value);
}

void kv_cmd_HINCRBYFLOAT(struct kv_client *c, int argc, struct resp_arg *argv)
{
    long double incr, value = 0;
    struct kv_hash *h;
    const char *v;
    size_t vlen;
    if (!kv_arg_ld(c, &argv[3], &incr))
        return;
    if (isnan(incr) || isinf(incr)) {
        kv_reply_error(c, "ERR value is NaN or Infinity");
        return;
    }
    if (!lookup_hash(c, &argv[1], LOOKUP_WRITE, &h, NULL))
        return;
    if (h && kv_hash_get(h, argv[2].ptr, argv[2].len, &v, &vlen) && !util_str2ld(v, vlen, &value)) {
        kv_reply_error(c, "ERR hash value is not a float");
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        kv_reply_error(c, "ERR increment would produce NaN or Infinity");
        return;
    }
    char buf[UTIL_LD_STR_MAX];
    size_t n = util_ld2str(buf, sizeof buf, value);
    if (!h)
        h = create_hash(c, &argv[1]);
    kv_hash_set(h, argv[2].ptr, argv[2].len, buf, n);
    db_modified(DB(c), argv[1].ptr, argv[1].len);
    c->srv->dirty++;
    kv_notify(c, KV_NOTIFY_HASH, "hincrbyfloat", argv[1].ptr, argv[1].len);
    resp_add_bulk(&c->out, buf, n);
}

/* ---- reads ------------------------------------------------------------------ */

/* Reply a field's value, or nil when the hash or the field is absent. */
static void reply_field(struct kv_client *c, struct kv_hash *h, const struct resp_arg *f)
{
    const char *v;
    size_t vlen;
    if (h && kv_hash_get(h, f->ptr, f->len, &v, &vlen))
        resp_add_bulk(&c->out, v, vlen);
    else
        resp_add_null(&c->out, c->proto);
}

void kv_cmd_HGET(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_hash *h;
    if (lookup_hash(c, &argv[1], 0, &h, NULL))
        reply_field(c, h, &argv[2]);
}

void kv_cmd_HMGET(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_hash *h;
    if (!lookup_hash(c, &argv[1], 0, &h, NULL))
        return;
    resp_add_array(&c->out, argc - 2);
    for (int i = 2; i < argc && !kv_reply_full(c); i++)
        reply_field(c, h, &argv[i]);
}

void kv_cmd_HEXISTS(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_hash *h;
    const char *v;
    size_t vlen;
    if (!lookup_hash(c, &argv[1], 0, &h, NULL))
        return;
    resp_add_int(&c->out, h && kv_hash_get(h, argv[2].ptr, argv[2].len, &v, &vlen));
}

void kv_cmd_HLEN(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_hash *h;
    if (!lookup_hash(c, &argv[1], 0, &h, NULL))
        return;
    resp_add_int(&c->out, h ? (long long)kv_hash_len(h) : 0);
}

void kv_cmd_HSTRLEN(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_hash *h;
    const char *v;
    size_t vlen;
    if (!lookup_hash(c, &argv[1], 0, &h, NULL))
        return;
    if (h && kv_hash_get(h, argv[2].ptr, argv[2].len, &v, &vlen))
        resp_add_int(&c->out, (long long)vlen);
    else
        resp_add_int(&c->out, 0);
}

enum { HG_KEYS = 1, HG_VALS = 2 };

struct hgetall_ctx {
    struct buf *out;
    int what;
};

static void hgetall_visit(const char *f, size_t flen, const char *v, size_t vlen, void *arg)
{
    struct hgetall_ctx *x = arg;
    if (x->what & HG_KEYS)
        resp_add_bulk(x->out, f, flen);
    if (x->what & HG_VALS)
        resp_add_bulk(x->out, v, vlen);
}

/* HGETALL (a map in RESP3), HKEYS, HVALS: the same field order for all three. */
static void hgetall_generic(struct kv_client *c, struct resp_arg *argv, int what)
{
    struct kv_hash *h;
    if (!lookup_hash(c, &argv[1], 0, &h, NULL))
        return;
    long long n = h ? (long long)kv_hash_len(h) : 0;
    if (what == (HG_KEYS | HG_VALS))
        resp_add_map(&c->out, c->proto, n);
    else
        resp_add_array(&c->out, n);
    if (h) {
        struct hgetall_ctx x = {&c->out, what};
        kv_hash_foreach(h, hgetall_visit, &x);
    }
}

void kv_cmd_HGETALL(struct kv_client *c, int argc, struct resp_arg *argv) { hgetall_generic(c, argv, HG_KEYS | HG_VALS); }
void kv_cmd_HKEYS(struct kv_client *c, int argc, struct resp_arg *argv) { hgetall_generic(c, argv, HG_KEYS); }
void kv_cmd_HVALS(struct kv_client *c, int argc, struct resp_arg *argv) { hgetall_generic(c, argv, HG_VALS); }

/* ---- field pairs collected from a hash (HSCAN, HRANDFIELD) ------------------ */

struct hpair {
    const char *f, *v;
    size_t flen, vlen;
};

struct pairvec {
    struct hpair *p;
    size_t n, cap;
};

/* kv_hash_foreach / kv_hash_scan callback; pointers stay valid while the hash is unchanged */
static void pair_collect(const char *f, size_t flen, const char *v, size_t vlen, void *arg)
{
    struct pairvec *pv = arg;
    if (pv->n == pv->cap) {
        pv->cap = pv->cap ? pv->cap * 2 : 16;
        pv->p = xrealloc(pv->p, pv->cap * sizeof *pv->p);
    }
    pv->p[pv->n++] = (struct hpair){f, v, flen, vlen};
}

/* ---- HSCAN ------------------------------------------------------------------ */

void kv_cmd_HSCAN(struct kv_client *c, int argc, struct resp_arg *argv)
{
    uint64_t cursor;
    struct kv_hash *h;
    if (!kv_arg_cursor(&argv[2], &cursor)) {
        kv_reply_error(c, "ERR invalid cursor");
        return;
    }
    if (!lookup_hash(c, &argv[1], 0, &h, NULL))
        return;
    if (!h) {
        kv_reply_empty_scan(c);
        return;
    }
    long long count = HSCAN_DEFAULT_COUNT;
    const struct resp_arg *pat;
    if (!kv_scan_opts(c, argc, argv, 3, &count, &pat))
        return;

    struct pairvec pv = {0};
    if (kv_hash_is_packed(h)) {
        /* small: everything at once, cursor 0 (Redis does the same for a listpack) */
        kv_hash_foreach(h, pair_collect, &pv);
        cursor = 0;
    } else {
        /* Redis counts a field and its value as two elements against COUNT */
        long long maxiter = count > LLONG_MAX / 10 ? LLONG_MAX : count * 10;
        do {
            cursor = kv_hash_scan(h, cursor, pair_collect, &pv);
        } while (cursor && maxiter-- && (unsigned long long)pv.n * 2 < (unsigned long long)count);
    }
    size_t kept = 0;
    for (size_t i = 0; i < pv.n; i++)
        if (!pat || util_glob_match(pat->ptr, pat->len, pv.p[i].f, pv.p[i].flen, false))
            pv.p[kept++] = pv.p[i];

    char cbuf[24];
    size_t cl = util_ull2str(cbuf, cursor);
    resp_add_array(&c->out, 2);
    resp_add_bulk(&c->out, cbuf, cl);
    resp_add_array(&c->out, (long long)kept * 2);
    for (size_t i = 0; i < kept; i++) {
        resp_add_bulk(&c->out, pv.p[i].f, pv.p[i].flen);
        resp_add_bulk(&c->out, pv.p[i].v, pv.p[i].vlen);
    }
    xfree(pv.p);
}

/* ---- HRANDFIELD ------------------------------------------------------------- */

static void reply_pair(struct kv_client *c, const struct hpair *p, bool withvalues)
{
    if (withvalues && c->proto > 2)
        resp_add_array(&c->out, 2);
    resp_add_bulk(&c->out, p->f, p->flen);
    if (withvalues)
        resp_add_bulk(&c->out, p->v, p->vlen);
}

/* Redis hrandfieldWithCountCommand. l < 0: |l| picks with repeats. */
static void hrandfield_count(struct kv_client *c, struct resp_arg *argv, long long l, bool withvalues)
{
    struct kv_hash *h;
    if (!lookup_hash(c, &argv[1], 0, &h, NULL))
        return;
    if (!h || l == 0) {
        resp_add_array(&c->out, 0);
        return;
    }
    uint64_t count = l < 0 ? (uint64_t)0 - (uint64_t)l : (uint64_t)l;
    uint64_t size = kv_hash_len(h);
    long long per = withvalues && c->proto == 2 ? 2 : 1;

    if (l < 0 || count == 1) {
        /* with repeats (or a single pick): independent random picks */
        resp_add_array(&c->out, (long long)count * per);
        for (uint64_t i = 0; i < count; i++) {
            struct hpair p;
            if (kv_reply_full(c)) /* the count is the client's: |l| may be 2^63 */
                return;
            kv_hash_random(h, &p.f, &p.flen, &p.v, &p.vlen);
            reply_pair(c, &p, withvalues);
        }
        return;
    }
    struct pairvec pv = {0};
    kv_hash_foreach(h, pair_collect, &pv);
    if (count >= size) {
        /* the whole hash */
        resp_add_array(&c->out, (long long)size * per);
        for (size_t i = 0; i < pv.n; i++)
            reply_pair(c, &pv.p[i], withvalues);
    } else {
        /* distinct fields: the first `count` slots of a partial Fisher-Yates shuffle */
        for (uint64_t i = 0; i < count; i++) {
            uint64_t j = i + rand_below(size - i);
            struct hpair t = pv.p[i];
            pv.p[i] = pv.p[j];
            pv.p[j] = t;
        }
        resp_add_array(&c->out, (long long)count * per);
        for (uint64_t i = 0; i < count; i++)
            reply_pair(c, &pv.p[i], withvalues);
    }
    xfree(pv.p);
}

void kv_cmd_HRANDFIELD(struct kv_client *c, int argc, struct resp_arg *argv)
{
    if (argc >= 3) {
        long long l;
        if (!kv_arg_range(c, &argv[2], -LLONG_MAX, LLONG_MAX, &l, NULL, NULL))
            return;
        if (argc > 4 || (argc == 4 && !kv_arg_is(&argv[3], "withvalues"))) {
            kv_reply_syntax(c);
            return;
        }
        bool withvalues = argc == 4;
        if (withvalues && (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2)) {
            kv_reply_error(c, "ERR value is out of range");
            return;
        }
        hrandfield_count(c, argv, l, withvalues);
        return;
    }
    struct kv_hash *h;
    struct hpair p;
    if (!lookup_hash(c, &argv[1], 0, &h, NULL))
        return;
    if (!h) {
        resp_add_null(&c->out, c->proto);
        return;
    }
    kv_hash_random(h, &p.f, &p.flen, &p.v, &p.vlen);
    resp_add_bulk(&c->out, p.f, p.flen);
}
