/*
 * t_keys.c — generic key commands: DEL UNLINK EXISTS TYPE RENAME RENAMENX COPY,
 * the EXPIRE family (Redis 7's NX XX GT LT), TTL PTTL EXPIRETIME PEXPIRETIME
 * PERSIST, KEYS SCAN RANDOMKEY TOUCH OBJECT. Replies and error texts are
 * Redis 7.0's (src/db.c, src/expire.c, src/object.c).
 *
 * Iterations (KEYS, SCAN, RANDOMKEY) never modify the dict inside a dict
 * callback: they collect object pointers first (objects do not move while
 * nothing modifies the dict), reply from them, and only then delete the
 * expired keys they met.
 *
 * Runs with the keyspace lock held (see server.h).
 */
#include <ctype.h>
#include <limits.h>
#include <string.h>

#include "core/alloc.h"
#include "core/util.h"
#include "kv/evict.h"
#include "kv/hashobj.h"
#include "kv/listobj.h"
#include "kv/zsetobj.h"
#include "kv/pubsub.h"
#include "kv/reply.h"
#include "kv/setobj.h"
#include "kv/streamobj.h"

#define SCAN_DEFAULT_COUNT 10
#define RANDOMKEY_MAX_TRIES 1000  /* expired keys RANDOMKEY deletes before giving up */

static inline struct kv_db *DB(struct kv_client *c) { return &c->srv->db; }

static inline bool obj_is_expired(const struct kv_db *db, const struct kv_obj *o)
{
    return obj_has_ttl(o) && obj_expire(o) < db->now_ms; /* as lookups (db.c) */
}

static const char *type_name(const struct kv_obj *o)
{
    if (!o)
        return "none";
    switch (obj_type(o)) {
    case OBJ_STRING:
        return "string";
    case OBJ_HASH:
        return "hash";
    case OBJ_ZSET:
        return "zset";
    case OBJ_LIST:
        return "list";
    case OBJ_SET:
        return "set";
    case OBJ_STREAM:
        return "stream";
    default:
        return "unknown";
    }
}

/* Delete a key met expired during an iteration (lazy expiry: counted as
 * expired, reported through db->on_expire). o is freed. */
static void expire_met(struct kv_db *db, struct kv_obj *o)
{
    (void)kv_db_lookup_ref(db, obj_key(o), obj_klen(o), LOOKUP_WRITE | LOOKUP_NOTOUCH);
}

/* A growable array of object pointers. */
struct objvec {
    struct kv_obj **v;
    size_t n, cap;
};

static void objvec_push(struct objvec *ov, struct kv_obj *o)
{
    if (ov->n == ov->cap) {
        ov->cap = ov->cap ? ov->cap * 2 : 16;
        ov->v = xrealloc(ov->v, ov->cap * sizeof *ov->v);
    }
    ov->v[ov->n++] = o;
}

static void objvec_free(struct objvec *ov) { xfree(ov->v); }

/* ---- DEL UNLINK EXISTS TYPE TOUCH ----------------------------------------- */

static void del_generic(struct kv_client *c, int argc, struct resp_arg *argv)
{
    long long n = 0;
    for (int j = 1; j < argc; j++) {
        if (kv_db_delete(DB(c), argv[j].ptr, argv[j].len)) {
            n++;
            kv_notify(c, KV_NOTIFY_GENERIC, "del", argv[j].ptr, argv[j].len);
        }
    }
    c->srv->dirty += (uint64_t)n;
    resp_add_int(&c->out, n);
}

void kv_cmd_DEL(struct kv_client *c, int argc, struct resp_arg *argv) { del_generic(c, argc, argv); }

/* No background freeing here: UNLINK deletes synchronously like DEL. */
void kv_cmd_UNLINK(struct kv_client *c, int argc, struct resp_arg *argv) { del_generic(c, argc, argv); }

void kv_cmd_EXISTS(struct kv_client *c, int argc, struct resp_arg *argv)
{
    long long n = 0;
    for (int j = 1; j < argc; j++)
        if (db_lookup(DB(c), argv[j].ptr, argv[j].len, LOOKUP_NOTOUCH))
            n++;
    resp_add_int(&c->out, n);
}

void kv_cmd_TOUCH(struct kv_client *c, int argc, struct resp_arg *argv)
{
    long long n = 0;
    for (int j = 1; j < argc; j++)
        if (db_lookup(DB(c), argv[j].ptr, argv[j].len, 0))
            n++;
    resp_add_int(&c->out, n);
}

void kv_cmd_TYPE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    const char *t = type_name(db_lookup(DB(c), argv[1].ptr, argv[1].len, LOOKUP_NOTOUCH));
    resp_add_simple(&c->out, t, strlen(t));
}

/* ---- RENAME RENAMENX -------------------------------------------------------- */

/*
 * Move the value of src under dst. The object holds its key inline, so the
 * value moves into a new object: a string is copied, a hash moves by pointer
 * (the old object's pointer is cleared so kv_obj_free does not free it). The TTL
 * and the access metadata (LRU, LFU, insertion order) travel with the value.
 */
static void rename_generic(struct kv_client *c, struct resp_arg *argv, bool nx)
{
    struct kv_db *db = DB(c);
    const struct resp_arg *src = &argv[1], *dst = &argv[2];
    if (!db_lookup(db, src->ptr, src->len, LOOKUP_WRITE)) {
        kv_reply_error(c, "ERR no such key");
        return;
    }
    if (src->len == dst->len && memcmp(src->ptr, dst->ptr, src->len) == 0) {
        if (nx)
            resp_add_int(&c->out, 0);
        else
            resp_add_ok(&c->out);
        return;
    }
    struct kv_obj **dref = kv_db_lookup_ref(db, dst->ptr, dst->len, LOOKUP_WRITE);
    if (dref) {
        if (nx) {
            resp_add_int(&c->out, 0);
            return;
        }
        kv_db_delete_ref(db, dref);
    }
    /* fresh link: the lookups above may have moved buckets */
    struct kv_obj **sref = kv_db_lookup_ref(db, src->ptr, src->len, LOOKUP_WRITE | LOOKUP_NOTOUCH);
    struct kv_obj *o = kv_db_unlink_ref(db, sref);
    struct kv_obj *n;
    if (obj_type(o) == OBJ_HASH) {
        struct kv_hash *h = obj_hash(o), *none = NULL;
        n = kv_obj_new_hash(dst->ptr, dst->len, h, obj_expire(o));
        memcpy(obj_val(o), &none, sizeof none);
    } else if (obj_type(o) != OBJ_STRING) {
        /* lists, sets...: the value moves by pointer */
        n = kv_obj_new_ptr(dst->ptr, dst->len, obj_type(o), obj_ptr(o), obj_expire(o));
        obj_set_ptr(o, NULL);
    } else {
        n = kv_obj_new_string(dst->ptr, dst->len, obj_cval(o), obj_vlen(o), obj_expire(o));
    }
    kv_db_add(db, n);
    n->lru = o->lru;
    n->lfu = o->lfu;
    n->ldt = o->ldt;
    n->seq = o->seq;
    kv_obj_free(o);
    c->srv->dirty++;
    kv_notify(c, KV_NOTIFY_GENERIC, "rename_from", src->ptr, src->len);
    kv_notify(c, KV_NOTIFY_GENERIC, "rename_to", dst->ptr, dst->len);
    if (nx)
        resp_add_int(&c->out, 1);
    else
        resp_add_ok(&c->out);
}

void kv_cmd_RENAME(struct kv_client *c, int argc, struct resp_arg *argv) { rename_generic(c, argv, false); }
void kv_cmd_RENAMENX(struct kv_client *c, int argc, struct resp_arg *argv) { rename_generic(c, argv, true); }

/* ---- COPY ------------------------------------------------------------------ */

/* A deep copy of o's value under key: same type, same encoding, same TTL;
 * the access metadata starts fresh (kv_db_add), as Redis's COPY. */
static struct kv_obj *obj_copy(const struct kv_obj *o, const char *key, size_t klen)
{
    long long when = obj_expire(o);
    switch (obj_type(o)) {
    case OBJ_STRING:
        return kv_obj_new_string(key, klen, obj_cval(o), obj_vlen(o), when);
    case OBJ_HASH:
        return kv_obj_new_hash(key, klen, kv_hash_dup(obj_hash(o)), when);
    case OBJ_ZSET:
        return kv_obj_new_zset(key, klen, kv_zset_dup(obj_zset(o)), when);
    case OBJ_LIST:
        return kv_obj_new_ptr(key, klen, OBJ_LIST, kv_list_dup(obj_ptr(o)), when);
    case OBJ_SET:
        return kv_obj_new_ptr(key, klen, OBJ_SET, kv_set_dup(obj_ptr(o)), when);
    case OBJ_STREAM:
        return kv_obj_new_ptr(key, klen, OBJ_STREAM, kv_stream_dup(obj_ptr(o)), when);
    default:
        return NULL;
    }
}

/* COPY source destination [DB destination-db] [REPLACE]. */
void kv_cmd_COPY(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_server *s = c->srv;
    bool replace = false;
    int dstdb = c->db;
    for (int j = 3; j < argc; j++) {
        if (kv_arg_is(&argv[j], "replace")) {
            replace = true;
        } else if (kv_arg_is(&argv[j], "db") && j + 1 < argc) {
            long long dbid;
            if (!kv_arg_range(c, &argv[j + 1], INT_MIN, INT_MAX, &dbid, NULL, NULL)) /* getIntFromObject */
                return;
            if (dbid < 0 || dbid >= s->ndbs) {
                kv_reply_error(c, "ERR DB index is out of range");
                return;
            }
            dstdb = (int)dbid;
            j++;
        } else {
            kv_reply_syntax(c);
            return;
        }
    }
    const struct resp_arg *src = &argv[1], *dst = &argv[2];
    if (dstdb == c->db && src->len == dst->len && memcmp(src->ptr, dst->ptr, src->len) == 0) {
        kv_reply_error(c, "ERR source and destination objects are the same");
        return;
    }
    struct kv_obj *o = db_lookup(DB(c), src->ptr, src->len, 0);
    if (!o) {
        resp_add_int(&c->out, 0);
        return;
    }
    /* the copy is made in the source database, then stored in the target */
    struct kv_obj *n = obj_copy(o, dst->ptr, dst->len);
    if (!n) {
        kv_reply_error(c, "ERR unknown type object");
        return;
    }
    kv_db_select(s, dstdb);
    struct kv_db *db = DB(c);
    struct kv_obj **dref = kv_db_lookup_ref(db, dst->ptr, dst->len, LOOKUP_WRITE);
    if (dref && !replace) {
        kv_obj_free(n);
        kv_db_select(s, c->db);
        resp_add_int(&c->out, 0);
        return;
    }
    if (dref)
        kv_db_delete_ref(db, dref);
    kv_db_add(db, n);
    kv_notify_db(s, dstdb, KV_NOTIFY_GENERIC, "copy_to", dst->ptr, dst->len);
    kv_db_select(s, c->db);
    s->dirty++;
    resp_add_int(&c->out, 1);
}

/* ---- EXPIRE PEXPIRE EXPIREAT PEXPIREAT PERSIST ------------------------------ */

enum {
    EXP_NX = 1 << 0,
    EXP_XX = 1 << 1,
    EXP_GT = 1 << 2,
    EXP_LT = 1 << 3,
};

/* Redis parseExtendedExpireArgumentsOrReply: options from argv[3]. */
static bool parse_expire_flags(struct kv_client *c, int argc, struct resp_arg *argv, int *flags)
{
    *flags = 0;
    for (int j = 3; j < argc; j++) {
        if (kv_arg_is(&argv[j], "nx")) {
            *flags |= EXP_NX;
        } else if (kv_arg_is(&argv[j], "xx")) {
            *flags |= EXP_XX;
        } else if (kv_arg_is(&argv[j], "gt")) {
            *flags |= EXP_GT;
        } else if (kv_arg_is(&argv[j], "lt")) {
            *flags |= EXP_LT;
        } else {
            /* Redis prints the C string: it ends at a NUL byte */
            size_t l = strnlen(argv[j].ptr, argv[j].len);
            kv_reply_errorf(c, "ERR Unsupported option %.*s", (int)(l > 400 ? 400 : l), argv[j].ptr);
            return false;
        }
    }
    if ((*flags & EXP_NX) && (*flags & (EXP_XX | EXP_GT | EXP_LT))) {
        kv_reply_error(c, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return false;
    }
    if ((*flags & EXP_GT) && (*flags & EXP_LT)) {
        kv_reply_error(c, "ERR GT and LT options at the same time are not compatible");
        return false;
    }
    return true;
}

/*
 * Redis expireGenericCommand. basetime: now (relative forms) or 0 (the *AT
 * forms); unit_ms 1000 for seconds, 1 for milliseconds; id names the command
 * in the overflow error. A time not in the future deletes the key (a DEL,
 * not an expiration).
 */
static void expire_generic(struct kv_client *c, int argc, struct resp_arg *argv, long long basetime, long long unit_ms,
                           int id)
{
    struct kv_db *db = DB(c);
    int flags;
    long long when;
    if (!parse_expire_flags(c, argc, argv, &flags) || !kv_arg_ll(c, &argv[2], &when))
        return;
    if (unit_ms == 1000) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) {
            kv_reply_errorf(c, "ERR invalid expire time in '%s' command", resp_cmds[id].name);
            return;
        }
        when *= 1000;
    }
    if (when > LLONG_MAX - basetime) {
        kv_reply_errorf(c, "ERR invalid expire time in '%s' command", resp_cmds[id].name);
        return;
    }
    when += basetime;

    struct kv_obj **ref = kv_db_lookup_ref(db, argv[1].ptr, argv[1].len, LOOKUP_WRITE);
    if (!ref) {
        resp_add_int(&c->out, 0);
        return;
    }
    long long cur = obj_expire(*ref); /* -1: none, i.e. infinite */
    if (((flags & EXP_NX) && cur != -1) || ((flags & EXP_XX) && cur == -1) ||
        ((flags & EXP_GT) && (when <= cur || cur == -1)) || ((flags & EXP_LT) && cur != -1 && when >= cur)) {
        resp_add_int(&c->out, 0);
        return;
    }
    bool gone = when <= db->now_ms;
    if (gone)
        kv_db_delete_ref(db, ref);
    else
        kv_db_set_expire(db, ref, when);
    c->srv->dirty++;
    kv_notify(c, KV_NOTIFY_GENERIC, gone ? "del" : "expire", argv[1].ptr, argv[1].len);
    resp_add_int(&c->out, 1);
}

void kv_cmd_EXPIRE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    expire_generic(c, argc, argv, DB(c)->now_ms, 1000, RESP_CMD_EXPIRE);
}

void kv_cmd_PEXPIRE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    expire_generic(c, argc, argv, DB(c)->now_ms, 1, RESP_CMD_PEXPIRE);
}

void kv_cmd_EXPIREAT(struct kv_client *c, int argc, struct resp_arg *argv)
{
    expire_generic(c, argc, argv, 0, 1000, RESP_CMD_EXPIREAT);
}

void kv_cmd_PEXPIREAT(struct kv_client *c, int argc, struct resp_arg *argv)
{
    expire_generic(c, argc, argv, 0, 1, RESP_CMD_PEXPIREAT);
}

void kv_cmd_PERSIST(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_db *db = DB(c);
    struct kv_obj **ref = kv_db_lookup_ref(db, argv[1].ptr, argv[1].len, LOOKUP_WRITE);
    if (!ref || !obj_has_ttl(*ref)) {
        resp_add_int(&c->out, 0);
        return;
    }
    kv_db_set_expire(db, ref, -1);
    c->srv->dirty++;
    kv_notify(c, KV_NOTIFY_GENERIC, "persist", argv[1].ptr, argv[1].len);
    resp_add_int(&c->out, 1);
}

/* ---- TTL PTTL EXPIRETIME PEXPIRETIME ---------------------------------------- */

/* Redis ttlGenericCommand: -2 no key, -1 no TTL; seconds are rounded. */
static void ttl_generic(struct kv_client *c, struct resp_arg *argv, bool ms, bool absolute)
{
    struct kv_db *db = DB(c);
    struct kv_obj *o = db_lookup(db, argv[1].ptr, argv[1].len, LOOKUP_NOTOUCH);
    if (!o) {
        resp_add_int(&c->out, -2);
        return;
    }
    long long when = obj_expire(o);
    if (when == -1) {
        resp_add_int(&c->out, -1);
        return;
    }
    long long t = absolute ? when : when - db->now_ms;
    if (t < 0)
        t = 0;
    /* rounded to the nearest second without forming t + 500 (t may be LLONG_MAX) */
    resp_add_int(&c->out, ms ? t : t / 1000 + (t % 1000 >= 500));
}

void kv_cmd_TTL(struct kv_client *c, int argc, struct resp_arg *argv) { ttl_generic(c, argv, false, false); }
void kv_cmd_PTTL(struct kv_client *c, int argc, struct resp_arg *argv) { ttl_generic(c, argv, true, false); }
void kv_cmd_EXPIRETIME(struct kv_client *c, int argc, struct resp_arg *argv) { ttl_generic(c, argv, false, true); }
void kv_cmd_PEXPIRETIME(struct kv_client *c, int argc, struct resp_arg *argv) { ttl_generic(c, argv, true, true); }

/* ---- KEYS ------------------------------------------------------------------- */

struct keys_ctx {
    struct kv_db *db;
    const char *pat;
    size_t plen;
    bool all;
    struct objvec out;
};

static void keys_visit(struct dict_node *n, void *arg)
{
    struct keys_ctx *k = arg;
    struct kv_obj *o = (struct kv_obj *)n;
    if (!k->all && !util_glob_match(k->pat, k->plen, obj_key(o), obj_klen(o), false))
        return;
    if (obj_is_expired(k->db, o))
        return; /* skipped, as Redis: expiry is left to lookups and the cron */
    objvec_push(&k->out, o);
}

void kv_cmd_KEYS(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct keys_ctx k = {
        .db = DB(c),
        .pat = argv[1].ptr,
        .plen = argv[1].len,
        .all = argv[1].len == 1 && argv[1].ptr[0] == '*',
    };
    kv_dict_foreach(&k.db->d, keys_visit, &k);
    resp_add_array(&c->out, (long long)k.out.n);
    for (size_t i = 0; i < k.out.n; i++)
        resp_add_bulk(&c->out, obj_key(k.out.v[i]), obj_klen(k.out.v[i]));
    objvec_free(&k.out);
}

/* ---- SCAN ------------------------------------------------------------------- */

static void scan_collect(struct dict_node *n, void *arg) { objvec_push(arg, (struct kv_obj *)n); }

void kv_cmd_SCAN(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_db *db = DB(c);
    uint64_t cursor;
    if (!kv_arg_cursor(&argv[1], &cursor)) {
        kv_reply_error(c, "ERR invalid cursor");
        return;
    }
    long long count = SCAN_DEFAULT_COUNT;
    const struct resp_arg *pat = NULL, *type = NULL;
    for (int i = 2; i < argc; i += 2) {
        bool has_value = i + 1 < argc;
        if (has_value && kv_arg_is(&argv[i], "count")) {
            if (!kv_arg_range(c, &argv[i + 1], 1, LLONG_MAX, &count, NULL, "ERR syntax error"))
                return;
        } else if (has_value && kv_arg_is(&argv[i], "match")) {
            pat = &argv[i + 1];
            if (pat->len == 1 && pat->ptr[0] == '*')
                pat = NULL; /* matches everything */
        } else if (has_value && kv_arg_is(&argv[i], "type")) {
            type = &argv[i + 1];
        } else {
            kv_reply_syntax(c);
            return;
        }
    }

    struct objvec found = {0};
    long long maxiter = count > LLONG_MAX / 10 ? LLONG_MAX : count * 10;
    do {
        cursor = kv_dict_scan(&db->d, cursor, scan_collect, &found);
    } while (cursor && maxiter-- && found.n < (unsigned long long)count);

    /* filter in place; expired keys are set aside and deleted after the reply */
    struct objvec dead = {0};
    size_t kept = 0;
    for (size_t i = 0; i < found.n; i++) {
        struct kv_obj *o = found.v[i];
        if (pat && !util_glob_match(pat->ptr, pat->len, obj_key(o), obj_klen(o), false))
            continue;
        if (type && !util_strieq(type->ptr, type->len, type_name(o)))
            continue;
        if (obj_is_expired(db, o)) {
            objvec_push(&dead, o);
            continue;
        }
        found.v[kept++] = o;
    }

    char cbuf[24];
    size_t cl = util_ull2str(cbuf, cursor);
    resp_add_array(&c->out, 2);
    resp_add_bulk(&c->out, cbuf, cl);
    resp_add_array(&c->out, (long long)kept);
    for (size_t i = 0; i < kept; i++)
        resp_add_bulk(&c->out, obj_key(found.v[i]), obj_klen(found.v[i]));
    for (size_t i = 0; i < dead.n; i++)
        expire_met(db, dead.v[i]);
    objvec_free(&found);
    objvec_free(&dead);
}

/* ---- RANDOMKEY -------------------------------------------------------------- */

/*
 * A random live key; an expired pick is deleted and another tried (Redis
 * dbRandomKey). Bounded: after RANDOMKEY_MAX_TRIES expired picks in a row
 * the reply is nil, so one call never walks a huge all-expired keyspace.
 */
void kv_cmd_RANDOMKEY(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_db *db = DB(c);
    for (int tries = 0; tries < RANDOMKEY_MAX_TRIES; tries++) {
        struct kv_obj *o = (struct kv_obj *)kv_dict_random(&db->d);
        if (!o)
            break;
        if (obj_is_expired(db, o)) {
            expire_met(db, o);
            continue;
        }
        resp_add_bulk(&c->out, obj_key(o), obj_klen(o));
        return;
    }
    resp_add_null(&c->out, c->proto);
}

/* ---- OBJECT ----------------------------------------------------------------- */

static const char *const object_help[] = {
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
};

static const char *encoding_name(const struct kv_obj *o)
{
    if (obj_type(o) == OBJ_HASH)
        return kv_hash_is_packed(obj_hash(o)) ? "listpack" : "hashtable";
    if (obj_type(o) == OBJ_ZSET)
        return kv_zset_is_packed(obj_zset(o)) ? "listpack" : "skiplist";
    if (obj_type(o) == OBJ_LIST)
        return "quicklist"; /* Redis 7.0 has no other list encoding */
    if (obj_type(o) == OBJ_SET)
        return kv_set_is_intset(obj_ptr(o)) ? "intset" : "hashtable";
    if (obj_type(o) == OBJ_STREAM)
        return "stream";
    long long ll;
    if (obj_vlen(o) <= 20 && util_str2ll(obj_cval(o), obj_vlen(o), &ll))
        return "int";
    return obj_vlen(o) <= 44 ? "embstr" : "raw";
}

static bool policy_is_lru(const struct kv_server *s)
{
    return s->policy == &kv_policy_allkeys_lru || s->policy == &kv_policy_volatile_lru;
}

static bool policy_is_lfu(const struct kv_server *s)
{
    return s->policy == &kv_policy_allkeys_lfu || s->policy == &kv_policy_volatile_lfu;
}

enum { OBJ_SUB_HELP, OBJ_SUB_ENCODING, OBJ_SUB_FREQ, OBJ_SUB_IDLETIME, OBJ_SUB_REFCOUNT };

static const struct {
    const char *name;
    int arity;
} object_subs[] = {
    [OBJ_SUB_HELP] = {"help", 2},
    [OBJ_SUB_ENCODING] = {"encoding", 3},
    [OBJ_SUB_FREQ] = {"freq", 3},
    [OBJ_SUB_IDLETIME] = {"idletime", 3},
    [OBJ_SUB_REFCOUNT] = {"refcount", 3},
};

void kv_cmd_OBJECT(struct kv_client *c, int argc, struct resp_arg *argv)
{
    int sub = -1;
    for (int i = 0; i < (int)(sizeof object_subs / sizeof object_subs[0]); i++)
        if (kv_arg_is(&argv[1], object_subs[i].name))
            sub = i;
    if (sub < 0) {
        /* Redis's container-command check, before the subcommand runs */
        size_t l = strnlen(argv[1].ptr, argv[1].len);
        kv_reply_errorf(c, "ERR unknown subcommand '%.*s'. Try OBJECT HELP.", (int)(l > 128 ? 128 : l),
                        argv[1].ptr);
        return;
    }
    if (argc != object_subs[sub].arity) {
        kv_reply_errorf(c, "ERR wrong number of arguments for 'object|%s' command", object_subs[sub].name);
        return;
    }
    if (sub == OBJ_SUB_HELP) {
        size_t n = sizeof object_help / sizeof object_help[0];
        resp_add_array(&c->out, (long long)n);
        for (size_t i = 0; i < n; i++)
            resp_add_simple(&c->out, object_help[i], strlen(object_help[i]));
        return;
    }
    struct kv_db *db = DB(c);
    struct kv_obj *o = db_lookup(db, argv[2].ptr, argv[2].len, LOOKUP_NOTOUCH | LOOKUP_NONOTIFY);
    if (!o) {
        resp_add_null(&c->out, c->proto);
        return;
    }
    switch (sub) {
    case OBJ_SUB_ENCODING: {
        const char *e = encoding_name(o);
        resp_add_bulk(&c->out, e, strlen(e));
        break;
    }
    case OBJ_SUB_REFCOUNT: {
        /* Redis shares the integers 0..9999 (OBJ_SHARED_REFCOUNT) unless an
         * LRU/LFU policy needs per-key access data */
        long long v;
        bool shared = obj_type(o) == OBJ_STRING && strcmp(encoding_name(o), "int") == 0 &&
                      util_str2ll(obj_cval(o), obj_vlen(o), &v) && v >= 0 && v < 10000 &&
                      !policy_is_lfu(c->srv) && !policy_is_lru(c->srv);
        resp_add_int(&c->out, shared ? INT_MAX : 1);
        break;
    }
    case OBJ_SUB_IDLETIME:
        if (policy_is_lfu(c->srv)) {
            kv_reply_error(c, "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
                              "switching between policies at runtime LRU and LFU data will take some time to adjust.");
            return;
        }
        resp_add_int(&c->out, kv_db_idle_ms(db, o) / 1000);
        break;
    case OBJ_SUB_FREQ:
        if (!policy_is_lfu(c->srv)) {
            kv_reply_error(c, "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
                              "that when switching between policies at runtime LRU and LFU data will take some time "
                              "to adjust.");
            return;
        }
        resp_add_int(&c->out, kv_db_lfu_decayed(db, o));
        break;
    }
}
