/*
 * t_string.c — string commands: GET SET (and every variant), MGET/MSET,
 * APPEND, STRLEN, the INCR family, GETRANGE, SETRANGE, LCS. Replies and errors as
 * Redis 7 gives them. Runs with the keyspace lock held.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/util.h"
#include "kv/pubsub.h"
#include "kv/reply.h"

#define STRING_MAX (512LL * 1024 * 1024)

static inline struct kv_db *DB(struct kv_client *c) { return &c->srv->db; }

/* Reply the value of a string object, or nil. */
static void reply_string(struct kv_client *c, const struct kv_obj *o)
{
    if (!o)
        resp_add_null(&c->out, c->proto);
    else
        resp_add_bulk(&c->out, obj_cval(o), obj_vlen(o));
}

/* Look a key up for reading; replies WRONGTYPE and returns false on a non-string. */
static bool lookup_string(struct kv_client *c, const struct resp_arg *k, int flags, struct kv_obj ***ref)
{
    *ref = kv_db_lookup_ref(DB(c), k->ptr, k->len, flags);
    if (*ref && obj_type(**ref) != OBJ_STRING) {
        kv_reply_wrongtype(c);
        return false;
    }
    return true;
}

/*
 * Expiry arguments shared by SET and GETEX. unit_ms: 1000 for EX/EXAT, 1 for
 * PX/PXAT; absolute for the *AT forms. Returns false after replying.
 */
static bool expire_from_arg(struct kv_client *c, const struct resp_arg *a, long long unit_ms, bool absolute,
                            const char *cmd, long long *when)
{
    long long v;
    if (!kv_arg_ll(c, a, &v))
        return false;
    if (v <= 0 || (unit_ms == 1000 && v > LLONG_MAX / 1000)) {
        kv_reply_errorf(c, "ERR invalid expire time in '%s' command", cmd);
        return false;
    }
    v *= unit_ms;
    if (!absolute) {
        if (v > LLONG_MAX - DB(c)->now_ms) {
            kv_reply_errorf(c, "ERR invalid expire time in '%s' command", cmd);
            return false;
        }
        v += DB(c)->now_ms;
    }
    *when = v;
    return true;
}

enum {
    SET_NX = 1 << 0,
    SET_XX = 1 << 1,
    SET_GET = 1 << 2,
    SET_KEEPTTL = 1 << 3,
    SET_EX = 1 << 4,
    SET_PX = 1 << 5,
    SET_EXAT = 1 << 6,
    SET_PXAT = 1 << 7,
    SET_PERSIST = 1 << 8,
};
#define SET_ANY_EXPIRE (SET_EX | SET_PX | SET_EXAT | SET_PXAT)

/* The SET_EX.. flag of an EX/PX/EXAT/PXAT word. */
static unsigned expire_kind(const struct resp_arg *a)
{
    if (kv_arg_is(a, "ex"))
        return SET_EX;
    if (kv_arg_is(a, "px"))
        return SET_PX;
    return kv_arg_is(a, "exat") ? SET_EXAT : SET_PXAT;
}

/*
 * Parse SET / GETEX options from argv[first..]. For GETEX (getex = true) only
 * the expire forms and PERSIST are allowed. Returns false after replying.
 */
static bool parse_set_options(struct kv_client *c, int argc, struct resp_arg *argv, int first, bool getex,
                              unsigned *flags, long long *when)
{
    const char *cmd = getex ? "getex" : "set";
    *flags = 0;
    *when = -1;
    for (int j = first; j < argc; j++) {
        struct resp_arg *a = &argv[j];
        bool has_next = j + 1 < argc;
        if (!getex && kv_arg_is(a, "nx") && !(*flags & (SET_XX))) {
            *flags |= SET_NX;
        } else if (!getex && kv_arg_is(a, "xx") && !(*flags & SET_NX)) {
            *flags |= SET_XX;
        } else if (!getex && kv_arg_is(a, "get")) {
            *flags |= SET_GET;
        } else if (!getex && kv_arg_is(a, "keepttl") && !(*flags & (SET_ANY_EXPIRE | SET_PERSIST))) {
            *flags |= SET_KEEPTTL;
        } else if (getex && kv_arg_is(a, "persist") && !(*flags & (SET_ANY_EXPIRE | SET_KEEPTTL))) {
            *flags |= SET_PERSIST;
        } else if (has_next && (kv_arg_is(a, "ex") || kv_arg_is(a, "px") || kv_arg_is(a, "exat") ||
                                kv_arg_is(a, "pxat")) &&
                   !(*flags & (SET_ANY_EXPIRE & ~expire_kind(a))) && !(*flags & (SET_KEEPTTL | SET_PERSIST))) {
            /* the same form again replaces the time (Redis: the last one counts) */
            *flags |= expire_kind(a);
            /* Redis validates the number only after all options parsed; keep the index */
            *when = j + 1;
            j++;
        } else {
            kv_reply_syntax(c);
            return false;
        }
    }
    if ((*flags & SET_ANY_EXPIRE) && !getex) {
        int j = (int)*when;
        bool sec = *flags & (SET_EX | SET_EXAT);
        bool abs_ = *flags & (SET_EXAT | SET_PXAT);
        return expire_from_arg(c, &argv[j], sec ? 1000 : 1, abs_, cmd, when);
    }
    return true;
}

/* Store a string value under key with the given TTL policy. Returns the object. */
static struct kv_obj *store_string(struct kv_client *c, const struct resp_arg *k, const char *v, size_t vlen,
                                   long long when, bool keepttl)
{
    struct kv_obj *o = kv_obj_new_string(k->ptr, k->len, v, vlen, when);
    o = kv_db_set(DB(c), o, keepttl);
    c->srv->dirty++;
    return o;
}

/* The events of a string stored by SET and its variants. */
static void notify_set(struct kv_client *c, const struct resp_arg *k, long long when)
{
    kv_notify(c, KV_NOTIFY_STRING, "set", k->ptr, k->len);
    if (when >= 0)
        kv_notify(c, KV_NOTIFY_GENERIC, "expire", k->ptr, k->len);
}

void kv_cmd_SET(struct kv_client *c, int argc, struct resp_arg *argv)
{
    unsigned flags;
    long long when;
    if (!parse_set_options(c, argc, argv, 3, false, &flags, &when))
        return;
    struct kv_obj **ref;
    if (flags & SET_GET) {
        if (!lookup_string(c, &argv[1], 0, &ref))
            return;
    } else {
        ref = kv_db_lookup_ref(DB(c), argv[1].ptr, argv[1].len, LOOKUP_WRITE | LOOKUP_NOTOUCH);
    }
    bool exists = ref != NULL;
    if ((flags & SET_NX && exists) || (flags & SET_XX && !exists)) {
        if (flags & SET_GET)
            reply_string(c, exists ? *ref : NULL);
        else
            resp_add_null(&c->out, c->proto);
        return;
    }
    if (flags & SET_GET)
        reply_string(c, exists ? *ref : NULL); /* before the old value is freed */
    if (when >= 0 && when <= DB(c)->now_ms) {
        /* already expired: the net effect is a delete */
        if (exists) {
            kv_db_delete_ref(DB(c), ref);
            c->srv->dirty++;
        }
        /* Redis 7.0 stores the key with its past time and expires it at once:
         * the same events ("expired" after the reply) and the same count */
        notify_set(c, &argv[1], when);
        kv_notify_db(c->srv, 0, KV_NOTIFY_EXPIRED, "expired", argv[1].ptr, argv[1].len);
        DB(c)->st.expired++;
    } else if (exists && when < 0 && kv_db_string_overwrite(DB(c), ref, argv[2].ptr, argv[2].len)) {
        c->srv->dirty++; /* the common overwrite: in place, one lookup */
        notify_set(c, &argv[1], when);
    } else if (!exists) {
        kv_db_add(DB(c), kv_obj_new_string(argv[1].ptr, argv[1].len, argv[2].ptr, argv[2].len, when));
        c->srv->dirty++; /* absent a moment ago: no second lookup */
        notify_set(c, &argv[1], when);
    } else {
        store_string(c, &argv[1], argv[2].ptr, argv[2].len, when, flags & SET_KEEPTTL);
        notify_set(c, &argv[1], when);
    }
    if (!(flags & SET_GET))
        resp_add_ok(&c->out);
}

void kv_cmd_SETNX(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    if (kv_db_lookup_ref(DB(c), argv[1].ptr, argv[1].len, LOOKUP_WRITE | LOOKUP_NOTOUCH)) {
        resp_add_int(&c->out, 0);
        return;
    }
    store_string(c, &argv[1], argv[2].ptr, argv[2].len, -1, false);
    notify_set(c, &argv[1], -1);
    resp_add_int(&c->out, 1);
}

static void setex_generic(struct kv_client *c, struct resp_arg *argv, long long unit, const char *cmd)
{
    long long when;
    if (!expire_from_arg(c, &argv[2], unit, false, cmd, &when))
        return;
    store_string(c, &argv[1], argv[3].ptr, argv[3].len, when, false);
    notify_set(c, &argv[1], when);
    resp_add_ok(&c->out);
}

void kv_cmd_SETEX(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    setex_generic(c, argv, 1000, "setex");
}

void kv_cmd_PSETEX(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    setex_generic(c, argv, 1, "psetex");
}

void kv_cmd_GET(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    struct kv_obj **ref;
    if (lookup_string(c, &argv[1], 0, &ref))
        reply_string(c, ref ? *ref : NULL);
}

void kv_cmd_GETSET(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    struct kv_obj **ref;
    if (!lookup_string(c, &argv[1], 0, &ref))
        return;
    reply_string(c, ref ? *ref : NULL);
    store_string(c, &argv[1], argv[2].ptr, argv[2].len, -1, false);
    notify_set(c, &argv[1], -1);
}

void kv_cmd_GETDEL(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    struct kv_obj **ref;
    if (!lookup_string(c, &argv[1], 0, &ref))
        return;
    reply_string(c, ref ? *ref : NULL);
    if (ref) {
        kv_db_delete_ref(DB(c), ref);
        c->srv->dirty++;
        kv_notify(c, KV_NOTIFY_GENERIC, "del", argv[1].ptr, argv[1].len);
    }
}

void kv_cmd_GETEX(struct kv_client *c, int argc, struct resp_arg *argv)
{
    unsigned flags;
    long long when;
    if (!parse_set_options(c, argc, argv, 2, true, &flags, &when))
        return;
    struct kv_obj **ref;
    if (!lookup_string(c, &argv[1], 0, &ref))
        return;
    if (!ref) {
        resp_add_null(&c->out, c->proto);
        return;
    }
    /* Redis getexCommand validates the time only now (after nil and WRONGTYPE);
     * parse_set_options left the argument's index in `when` */
    if (flags & SET_ANY_EXPIRE) {
        bool sec = flags & (SET_EX | SET_EXAT), abs_ = flags & (SET_EXAT | SET_PXAT);
        if (!expire_from_arg(c, &argv[when], sec ? 1000 : 1, abs_, "getex", &when))
            return;
        ref = kv_db_lookup_ref(DB(c), argv[1].ptr, argv[1].len, LOOKUP_WRITE | LOOKUP_NOTOUCH);
    }
    reply_string(c, *ref);
    if (flags & SET_ANY_EXPIRE) {
        bool gone = when <= DB(c)->now_ms;
        if (gone)
            kv_db_delete_ref(DB(c), ref);
        else
            kv_db_set_expire(DB(c), ref, when);
        c->srv->dirty++;
        kv_notify(c, KV_NOTIFY_GENERIC, gone ? "del" : "expire", argv[1].ptr, argv[1].len);
    } else if (flags & SET_PERSIST && obj_has_ttl(*ref)) {
        kv_db_set_expire(DB(c), ref, -1);
        c->srv->dirty++;
        kv_notify(c, KV_NOTIFY_GENERIC, "persist", argv[1].ptr, argv[1].len);
    }
}

void kv_cmd_MGET(struct kv_client *c, int argc, struct resp_arg *argv)
{
    resp_add_array(&c->out, argc - 1);
    for (int j = 1; j < argc; j++) {
        if (kv_reply_full(c)) /* MGET k k k ... repeats one value */
            return;
        struct kv_obj *o = db_lookup(DB(c), argv[j].ptr, argv[j].len, 0);
        reply_string(c, o && obj_type(o) == OBJ_STRING ? o : NULL);
    }
}

static void mset_generic(struct kv_client *c, int argc, struct resp_arg *argv, bool nx)
{
    if ((argc - 1) % 2 != 0) {
        kv_reply_arity(c, nx ? "msetnx" : "mset");
        return;
    }
    if (nx) {
        for (int j = 1; j < argc; j += 2) {
            if (kv_db_lookup_ref(DB(c), argv[j].ptr, argv[j].len, LOOKUP_WRITE | LOOKUP_NOTOUCH)) {
                resp_add_int(&c->out, 0);
                return;
            }
        }
    }
    for (int j = 1; j < argc; j += 2) {
        store_string(c, &argv[j], argv[j + 1].ptr, argv[j + 1].len, -1, false);
        notify_set(c, &argv[j], -1);
    }
    if (nx)
        resp_add_int(&c->out, 1);
    else
        resp_add_ok(&c->out);
}

void kv_cmd_MSET(struct kv_client *c, int argc, struct resp_arg *argv) { mset_generic(c, argc, argv, false); }
void kv_cmd_MSETNX(struct kv_client *c, int argc, struct resp_arg *argv) { mset_generic(c, argc, argv, true); }

/* Redis checkStringLength: a string of size + append bytes must fit the
 * limits; the sum is checked before it is formed (size may be any offset). */
static bool check_size(struct kv_client *c, long long size, size_t append)
{
    long long max = (long long)c->srv->cfg.proto_max_bulk_len;
    if (max > STRING_MAX)
        max = STRING_MAX;
    if (size < 0 || size > max || append > (size_t)(max - size)) {
        kv_reply_error(c, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return false;
    }
    return true;
}

/* A string of a size the client chose could not be allocated: the command
 * fails, nothing changed, the server goes on (Redis would abort). */
static void reply_alloc_failed(struct kv_client *c, size_t size)
{
    kv_reply_errorf(c, "OOM cannot allocate a string of %zu bytes", size);
}

void kv_cmd_APPEND(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    struct kv_obj **ref;
    if (!lookup_string(c, &argv[1], LOOKUP_WRITE, &ref))
        return;
    if (!ref) {
        struct kv_obj *o = store_string(c, &argv[1], argv[2].ptr, argv[2].len, -1, false);
        kv_notify(c, KV_NOTIFY_STRING, "append", argv[1].ptr, argv[1].len);
        resp_add_int(&c->out, obj_vlen(o));
        return;
    }
    size_t old = obj_vlen(*ref);
    if (!check_size(c, (long long)old, argv[2].len))
        return;
    struct kv_obj *o = kv_db_string_try_resize(DB(c), ref, old + argv[2].len);
    if (!o) {
        reply_alloc_failed(c, old + argv[2].len);
        return;
    }
    memcpy(obj_val(o) + old, argv[2].ptr, argv[2].len);
    c->srv->dirty++;
    kv_notify(c, KV_NOTIFY_STRING, "append", argv[1].ptr, argv[1].len);
    resp_add_int(&c->out, obj_vlen(o));
}

void kv_cmd_STRLEN(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    struct kv_obj **ref;
    if (lookup_string(c, &argv[1], 0, &ref))
        resp_add_int(&c->out, ref ? obj_vlen(*ref) : 0);
}

/* Replace a string value in place (same key, TTL kept). */
static struct kv_obj *overwrite_value(struct kv_client *c, struct kv_obj **ref, const char *v, size_t vlen)
{
    struct kv_obj *o = kv_db_string_resize(DB(c), ref, vlen);
    memcpy(obj_val(o), v, vlen);
    c->srv->dirty++;
    return o;
}

static void incr_generic(struct kv_client *c, const struct resp_arg *key, long long incr)
{
    struct kv_obj **ref;
    if (!lookup_string(c, key, LOOKUP_WRITE, &ref))
        return;
    long long v = 0;
    if (ref && !util_str2ll(obj_cval(*ref), obj_vlen(*ref), &v)) {
        kv_reply_error(c, "ERR value is not an integer or out of range");
        return;
    }
    if ((incr < 0 && v < 0 && incr < LLONG_MIN - v) || (incr > 0 && v > 0 && incr > LLONG_MAX - v)) {
        kv_reply_error(c, "ERR increment or decrement would overflow");
        return;
    }
    v += incr;
    char num[24];
    size_t n = util_ll2str(num, v);
    if (ref)
        overwrite_value(c, ref, num, n);
    else
        store_string(c, key, num, n, -1, false);
    kv_notify(c, KV_NOTIFY_STRING, "incrby", key->ptr, key->len);
    resp_add_int(&c->out, v);
}

void kv_cmd_INCR(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    incr_generic(c, &argv[1], 1);
}

void kv_cmd_DECR(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    incr_generic(c, &argv[1], -1);
}

void kv_cmd_INCRBY(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    long long by;
    if (kv_arg_ll(c, &argv[2], &by))
        incr_generic(c, &argv[1], by);
}

void kv_cmd_DECRBY(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    long long by;
    if (!kv_arg_ll(c, &argv[2], &by))
        return;
    if (by == LLONG_MIN) {
        kv_reply_error(c, "ERR decrement would overflow");
        return;
    }
    incr_generic(c, &argv[1], -by);
}

void kv_cmd_INCRBYFLOAT(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    struct kv_obj **ref;
    if (!lookup_string(c, &argv[1], LOOKUP_WRITE, &ref))
        return;
    long double v = 0, by;
    if (ref && !util_str2ld(obj_cval(*ref), obj_vlen(*ref), &v)) {
        kv_reply_error(c, "ERR value is not a valid float");
        return;
    }
    if (!kv_arg_ld(c, &argv[2], &by))
        return;
    v += by;
    if (isnan(v) || isinf(v)) {
        kv_reply_error(c, "ERR increment would produce NaN or Infinity");
        return;
    }
    char num[5 * 1024];
    size_t n = util_ld2str(num, sizeof num, v);
    if (ref)
        overwrite_value(c, ref, num, n);
    else
        store_string(c, &argv[1], num, n, -1, false);
    kv_notify(c, KV_NOTIFY_STRING, "incrbyfloat", argv[1].ptr, argv[1].len);
    resp_add_bulk(&c->out, num, n);
}

void kv_cmd_GETRANGE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    long long start, end;
    if (!kv_arg_ll(c, &argv[2], &start) || !kv_arg_ll(c, &argv[3], &end))
        return;
    struct kv_obj **ref;
    if (!lookup_string(c, &argv[1], 0, &ref))
        return;
    long long len = ref ? obj_vlen(*ref) : 0;
    /* Redis 7.0 semantics */
    if (start < 0 && end < 0 && start > end) {
        resp_add_bulk(&c->out, "", 0);
        return;
    }
    if (start < 0)
        start = len + start;
    if (end < 0)
        end = len + end;
    if (start < 0)
        start = 0;
    if (end < 0)
        end = 0;
    if (end >= len)
        end = len - 1;
    if (len == 0 || start > end) {
        resp_add_bulk(&c->out, "", 0);
        return;
    }
    resp_add_bulk(&c->out, obj_cval(*ref) + start, (size_t)(end - start + 1));
}

void kv_cmd_SUBSTR(struct kv_client *c, int argc, struct resp_arg *argv) { kv_cmd_GETRANGE(c, argc, argv); }

void kv_cmd_SETRANGE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    long long off;
    if (!kv_arg_range(c, &argv[2], 0, LLONG_MAX, &off, NULL, "ERR offset is out of range"))
        return;
    struct kv_obj **ref;
    if (!lookup_string(c, &argv[1], LOOKUP_WRITE, &ref))
        return;
    size_t vlen = argv[3].len;
    bool created = false;
    if (!ref) {
        created = true;
        if (vlen == 0) {
            resp_add_int(&c->out, 0);
            return;
        }
        if (!check_size(c, off, vlen))
            return;
        struct kv_obj *o = kv_obj_new_string(argv[1].ptr, argv[1].len, NULL, 0, -1);
        kv_db_add(DB(c), o);
        ref = kv_db_lookup_ref(DB(c), argv[1].ptr, argv[1].len, LOOKUP_WRITE | LOOKUP_NOTOUCH);
    }
    size_t old = obj_vlen(*ref);
    if (vlen == 0) {
        resp_add_int(&c->out, (long long)old);
        return;
    }
    if (!check_size(c, off, vlen))
        return;
    struct kv_obj *o = *ref;
    if ((size_t)off + vlen > old) {
        o = kv_db_string_try_resize(DB(c), ref, (size_t)off + vlen);
        if (!o) {
            if (created) /* the empty key made for this command goes again */
                kv_db_delete_ref(DB(c), ref);
            reply_alloc_failed(c, (size_t)off + vlen);
            return;
        }
        if ((size_t)off > old)
            memset(obj_val(o) + old, 0, (size_t)off - old);
    }
    memcpy(obj_val(o) + off, argv[3].ptr, vlen);
    db_modified(DB(c), argv[1].ptr, argv[1].len);
    c->srv->dirty++;
    kv_notify(c, KV_NOTIFY_STRING, "setrange", argv[1].ptr, argv[1].len);
    resp_add_int(&c->out, obj_vlen(o));
}

/* ---- LCS ---------------------------------------------------------------- */

/* The dynamic-programming table is (len(a)+1) * (len(b)+1) 32-bit cells: a
 * pair of strings whose table would pass this answers Redis's allocation
 * error instead of committing gigabytes (Redis tries the allocation). */
#define LCS_MAX_TABLE ((unsigned long long)512 * 1024 * 1024)

struct lcs_range {
    uint32_t a0, a1, b0, b1;
};

void kv_cmd_LCS(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_obj *oa = db_lookup(DB(c), argv[1].ptr, argv[1].len, 0);
    struct kv_obj *ob = db_lookup(DB(c), argv[2].ptr, argv[2].len, 0);
    if ((oa && obj_type(oa) != OBJ_STRING) || (ob && obj_type(ob) != OBJ_STRING)) {
        kv_reply_error(c, "ERR The specified keys must contain string values");
        return;
    }
    /* a second lookup only deletes its own key when expired: oa stays valid */
    oa = db_lookup(DB(c), argv[1].ptr, argv[1].len, LOOKUP_NOTOUCH);
    const char *a = oa ? obj_cval(oa) : "", *b = ob ? obj_cval(ob) : "";
    uint32_t alen = oa ? obj_vlen(oa) : 0, blen = ob ? obj_vlen(ob) : 0;
    bool getlen = false, getidx = false;
    int withmatchlen = 0;
    long long minmatchlen = 0;
    for (int j = 3; j < argc; j++) {
        if (kv_arg_is(&argv[j], "idx")) {
            getidx = true;
        } else if (kv_arg_is(&argv[j], "len")) {
            getlen = true;
        } else if (kv_arg_is(&argv[j], "withmatchlen")) {
            withmatchlen = 1;
        } else if (kv_arg_is(&argv[j], "minmatchlen") && j + 1 < argc) {
            if (!kv_arg_ll(c, &argv[j + 1], &minmatchlen))
                return;
            if (minmatchlen < 0)
                minmatchlen = 0;
            j++;
        } else {
            kv_reply_syntax(c);
            return;
        }
    }
    if (getidx && getlen) {
        kv_reply_error(c, "ERR If you want both the length and indexes, please just use IDX.");
        return;
    }
    unsigned long long cells = (unsigned long long)(alen + 1ULL) * (blen + 1ULL);
    uint32_t *dp = NULL;
    if (cells * sizeof(uint32_t) <= LCS_MAX_TABLE)
        dp = xtry_realloc(NULL, (size_t)cells * sizeof(uint32_t));
    if (!dp) {
        kv_reply_error(c, "ERR Insufficient memory, failed allocating transient memory for LCS");
        return;
    }
#define LCS(A, B) dp[(size_t)(B) + (size_t)(A) * (blen + 1)]
    for (uint32_t i = 0; i <= alen; i++) {
        for (uint32_t j = 0; j <= blen; j++) {
            if (i == 0 || j == 0) {
                LCS(i, j) = 0;
            } else if (a[i - 1] == b[j - 1]) {
                LCS(i, j) = LCS(i - 1, j - 1) + 1;
            } else {
                uint32_t l1 = LCS(i - 1, j), l2 = LCS(i, j - 1);
                LCS(i, j) = l1 > l2 ? l1 : l2;
            }
        }
    }
    /* Walk back from the end, as Redis: the LCS string from its last byte,
     * and the matching ranges from the last one. */
    uint32_t idx = LCS(alen, blen), total = idx;
    bool compute = getidx || !getlen;
    char *result = compute && idx ? xmalloc(idx) : NULL;
    struct lcs_range *ranges = NULL;
    size_t nranges = 0, cap = 0;
    uint32_t as = alen, ae = 0, bs = 0, be = 0; /* as == alen: no range open */
    uint32_t i = alen, j = blen;
    while (compute && i > 0 && j > 0) {
        bool emit = false;
        if (a[i - 1] == b[j - 1]) {
            result[idx - 1] = a[i - 1];
            if (as == alen) {
                as = ae = i - 1;
                bs = be = j - 1;
            } else if (as == i && bs == j) {
                as--;
                bs--;
            } else {
                emit = true;
            }
            if (as == 0 || bs == 0)
                emit = true;
            idx--, i--, j--;
        } else {
            if (LCS(i - 1, j) > LCS(i, j - 1))
                i--;
            else
                j--;
            if (as != alen)
                emit = true;
        }
        uint32_t match_len = ae - as + 1;
        if (emit) {
            if (getidx && (minmatchlen == 0 || match_len >= (unsigned long long)minmatchlen)) {
                if (nranges == cap) {
                    cap = cap ? cap * 2 : 16;
                    ranges = xrealloc(ranges, cap * sizeof *ranges);
                }
                ranges[nranges++] = (struct lcs_range){as, ae, bs, be};
            }
            as = alen;
        }
    }
#undef LCS
    xfree(dp);
    if (getidx) {
        resp_add_map(&c->out, c->proto, 2);
        resp_add_bulk_cstr(&c->out, "matches");
        resp_add_array(&c->out, (long long)nranges);
        for (size_t k = 0; k < nranges; k++) {
            resp_add_array(&c->out, 2 + withmatchlen);
            resp_add_array(&c->out, 2);
            resp_add_int(&c->out, ranges[k].a0);
            resp_add_int(&c->out, ranges[k].a1);
            resp_add_array(&c->out, 2);
            resp_add_int(&c->out, ranges[k].b0);
            resp_add_int(&c->out, ranges[k].b1);
            if (withmatchlen)
                resp_add_int(&c->out, (long long)ranges[k].a1 - ranges[k].a0 + 1);
            if (kv_reply_full(c))
                break;
        }
        resp_add_bulk_cstr(&c->out, "len");
        resp_add_int(&c->out, total);
    } else if (getlen) {
        resp_add_int(&c->out, total);
    } else {
        resp_add_bulk(&c->out, result ? result : "", total);
    }
    xfree(ranges);
    xfree(result);
}
