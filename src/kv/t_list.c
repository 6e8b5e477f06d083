/*
 * t_list.c — list commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE
 * LINDEX LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP and the blocking
 * BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP. Replies, error texts and the order of
 * argument checks are Redis 7.0's (src/t_list.c). The encoding is
 * listobj.c's business; a list whose last element goes is deleted, so no
 * empty list is ever visible. Blocking goes through blocking.c: the serve
 * callback below pops for a waiter when its key receives a list.
 *
 * Every integer argument is taken as a long long and clamped before it
 * touches a length: LRANGE with LLONG_MIN..LLONG_MAX, LPOP with a count of
 * LLONG_MAX or LREM with LLONG_MIN reply within the list's own size.
 *
 * Runs with the keyspace lock held (see server.h).
 */
#include <limits.h>
#include <string.h>

#include "core/alloc.h"
#include "core/util.h"
#include "kv/blocking.h"
#include "kv/listobj.h"
#include "kv/propagate.h"
#include "kv/pubsub.h"
#include "kv/reply.h"

static inline struct kv_db *DB(struct kv_client *c) { return &c->srv->db; }

/* Reply shapes of a blocking pop. */
enum { BR_KEY_VALUE, BR_VALUE, BR_KEY_VALUES };

/*
 * Look key up as a list. Returns false after replying WRONGTYPE; otherwise
 * *l is the list, NULL when the key is absent. *ref (if given) is the link
 * for deletion, valid until the next keyspace change.
 */
static bool lookup_list(struct kv_client *c, const struct resp_arg *k, int flags, struct kv_list **l,
                        struct kv_obj ***ref)
{
    struct kv_obj **r = kv_db_lookup_ref(DB(c), k->ptr, k->len, flags);
    *l = NULL;
    if (ref)
        *ref = r;
    if (!r)
        return true;
    if (obj_type(*r) != OBJ_LIST) {
        kv_reply_wrongtype(c);
        return false;
    }
    *l = obj_ptr(*r);
    return true;
}

/* Add an empty list under a key known to be absent (filled at once by the caller). */
/* Keyspace events of list commands: from the client running the command, or
 * (c NULL: serving a blocked client) from the server. */
static void notify(struct kv_server *s, struct kv_client *c, int type, const char *event, const char *key, size_t klen)
{
    if (c)
        kv_notify(c, type, event, key, klen);
    else
        kv_notify_db(s, 0, type, event, key, klen);
}

static const char *pop_event(int where) { return where == LIST_HEAD ? "lpop" : "rpop"; }
static const char *push_event(int where) { return where == LIST_HEAD ? "lpush" : "rpush"; }

/* After elements left the list at key: the pop event, and "del" when emptied. */
static void notify_popped(struct kv_server *s, struct kv_client *c, int where, const char *key, size_t klen, bool gone)
{
    notify(s, c, KV_NOTIFY_LIST, pop_event(where), key, klen);
    if (gone)
        notify(s, c, KV_NOTIFY_GENERIC, "del", key, klen);
}

static struct kv_list *create_list(struct kv_db *db, const char *key, size_t klen)
{
    struct kv_list *l = kv_list_new();
    kv_db_add(db, kv_obj_new_ptr(key, klen, OBJ_LIST, l, -1));
    return l;
}

/* Delete the list at key when it became empty (a fresh lookup: the caller may have changed the keyspace). */
static void delete_if_empty(struct kv_db *db, const char *key, size_t klen, struct kv_list *l)
{
    if (kv_list_len(l) == 0)
        kv_db_delete(db, key, klen);
}

/* LEFT / RIGHT (Redis getListPositionFromObjectOrReply). */
static bool parse_where(const struct resp_arg *a, int *where)
{
    if (kv_arg_is(a, "left"))
        *where = LIST_HEAD;
    else if (kv_arg_is(a, "right"))
        *where = LIST_TAIL;
    else
        return false;
    return true;
}

/* A non-negative count: Redis's getPositiveLongFromObjectOrReply, whose
 * error (given or default) covers both "not a number" and "negative". */
static bool arg_positive(struct kv_client *c, const struct resp_arg *a, long long *out, const char *msg)
{
    if (util_str2ll(a->ptr, a->len, out) && *out >= 0)
        return true;
    kv_reply_error(c, msg ? msg : "ERR value is out of range, must be positive");
    return false;
}

/* Elements past LIST_MAX_ELEMENT (only possible with proto-max-bulk-len
 * raised to 4gb) are refused: false after the error reply. */
static bool elements_fit(struct kv_client *c, const struct resp_arg *argv, int from, int to)
{
    for (int i = from; i < to; i++) {
        if (argv[i].len > LIST_MAX_ELEMENT) {
            kv_reply_error(c, "ERR element too large for a list");
            return false;
        }
    }
    return true;
}

/* Pop up to count elements from one end into out as an array. */
static void pop_range_reply(struct buf *out, struct kv_list *l, int where, long long count)
{
    uint64_t n = kv_list_len(l) < (uint64_t)count ? kv_list_len(l) : (uint64_t)count;
    resp_add_array(out, (long long)n);
    for (uint64_t i = 0; i < n; i++) {
        const char *v;
        size_t vl;
        kv_list_peek(l, where, &v, &vl);
        resp_add_bulk(out, v, vl);
        kv_list_pop(l, where);
    }
}

/* ---- pushes ----------------------------------------------------------------- */

static void push_generic(struct kv_client *c, int argc, struct resp_arg *argv, int where, bool xx)
{
    struct kv_list *l;
    if (!elements_fit(c, argv, 2, argc))
        return;
    if (!lookup_list(c, &argv[1], LOOKUP_WRITE, &l, NULL))
        return;
    if (!l) {
        if (xx) {
            resp_add_int(&c->out, 0);
            return;
        }
        l = create_list(DB(c), argv[1].ptr, argv[1].len);
    }
    for (int i = 2; i < argc; i++)
        kv_list_push(l, where, argv[i].ptr, argv[i].len);
    db_modified(DB(c), argv[1].ptr, argv[1].len);
    c->srv->dirty += (uint64_t)(argc - 2);
    kv_notify(c, KV_NOTIFY_LIST, push_event(where), argv[1].ptr, argv[1].len);
    resp_add_int(&c->out, (long long)kv_list_len(l));
}

void kv_cmd_LPUSH(struct kv_client *c, int argc, struct resp_arg *argv) { push_generic(c, argc, argv, LIST_HEAD, false); }
void kv_cmd_RPUSH(struct kv_client *c, int argc, struct resp_arg *argv) { push_generic(c, argc, argv, LIST_TAIL, false); }
void kv_cmd_LPUSHX(struct kv_client *c, int argc, struct resp_arg *argv) { push_generic(c, argc, argv, LIST_HEAD, true); }
void kv_cmd_RPUSHX(struct kv_client *c, int argc, struct resp_arg *argv) { push_generic(c, argc, argv, LIST_TAIL, true); }

/* ---- pops ------------------------------------------------------------------- */

static void pop_generic(struct kv_client *c, int argc, struct resp_arg *argv, int where)
{
    long long count = 0;
    bool hascount = argc == 3;
    if (argc > 3) {
        kv_reply_arity(c, resp_cmds[c->last_cmd].name);
        return;
    }
    if (hascount && !arg_positive(c, &argv[2], &count, NULL))
        return;
    struct kv_list *l;
    struct kv_obj **ref;
    if (!lookup_list(c, &argv[1], LOOKUP_WRITE, &l, &ref))
        return;
    if (!l) {
        if (hascount)
            resp_add_null_array(&c->out, c->proto);
        else
            resp_add_null(&c->out, c->proto);
        return;
    }
    if (hascount && count == 0) {
        resp_add_array(&c->out, 0);
        return;
    }
    if (hascount) {
        pop_range_reply(&c->out, l, where, count);
    } else {
        const char *v;
        size_t vl;
        kv_list_peek(l, where, &v, &vl);
        resp_add_bulk(&c->out, v, vl);
        kv_list_pop(l, where);
    }
    db_modified(DB(c), argv[1].ptr, argv[1].len);
    c->srv->dirty++;
    bool gone = kv_list_len(l) == 0;
    if (gone)
        kv_db_delete_ref(DB(c), ref);
    notify_popped(c->srv, c, where, argv[1].ptr, argv[1].len, gone);
}

void kv_cmd_LPOP(struct kv_client *c, int argc, struct resp_arg *argv) { pop_generic(c, argc, argv, LIST_HEAD); }
void kv_cmd_RPOP(struct kv_client *c, int argc, struct resp_arg *argv) { pop_generic(c, argc, argv, LIST_TAIL); }

/* ---- reads ------------------------------------------------------------------ */

void kv_cmd_LLEN(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_list *l;
    if (lookup_list(c, &argv[1], 0, &l, NULL))
        resp_add_int(&c->out, l ? (long long)kv_list_len(l) : 0);
}

void kv_cmd_LRANGE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    long long start, end;
    struct kv_list *l;
    if (!kv_arg_ll(c, &argv[2], &start) || !kv_arg_ll(c, &argv[3], &end))
        return;
    if (!lookup_list(c, &argv[1], 0, &l, NULL))
        return;
    if (!l) {
        resp_add_array(&c->out, 0);
        return;
    }
    long long llen = (long long)kv_list_len(l);
    if (start < 0)
        start = llen + start; /* both negative terms: no overflow */
    if (end < 0)
        end = llen + end;
    if (start < 0)
        start = 0;
    if (start > end || start >= llen) {
        resp_add_array(&c->out, 0);
        return;
    }
    if (end >= llen)
        end = llen - 1;
    long long n = end - start + 1;
    resp_add_array(&c->out, n);
    struct list_iter it;
    kv_list_iter_init(&it, l, (uint64_t)start, true);
    for (long long i = 0; i < n; i++) {
        const char *v;
        size_t vl;
        kv_list_iter_get(&it, &v, &vl);
        resp_add_bulk(&c->out, v, vl);
        kv_list_iter_next(&it);
    }
}

void kv_cmd_LINDEX(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_list *l;
    long long idx;
    const char *v;
    size_t vl;
    if (!lookup_list(c, &argv[1], 0, &l, NULL))
        return;
    if (!l) {
        resp_add_null(&c->out, c->proto);
        return;
    }
    if (!kv_arg_ll(c, &argv[2], &idx))
        return;
    if (kv_list_index(l, idx, &v, &vl))
        resp_add_bulk(&c->out, v, vl);
    else
        resp_add_null(&c->out, c->proto);
}

/* LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] */
void kv_cmd_LPOS(struct kv_client *c, int argc, struct resp_arg *argv)
{
    long long rank = 1, count = -1, maxlen = 0;
    for (int j = 3; j < argc; j++) {
        bool more = j + 1 < argc;
        if (more && kv_arg_is(&argv[j], "rank")) {
            if (!kv_arg_ll(c, &argv[++j], &rank))
                return;
            if (rank == 0) {
                kv_reply_error(c, "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
                                  "or use negative to start from the end of the list");
                return;
            }
        } else if (more && kv_arg_is(&argv[j], "count")) {
            if (!arg_positive(c, &argv[++j], &count, "ERR COUNT can't be negative"))
                return;
        } else if (more && kv_arg_is(&argv[j], "maxlen")) {
            if (!arg_positive(c, &argv[++j], &maxlen, "ERR MAXLEN can't be negative"))
                return;
        } else {
            kv_reply_syntax(c);
            return;
        }
    }
    bool fwd = true;
    uint64_t urank;
    if (rank < 0) {
        fwd = false;
        /* Redis negates a long: LLONG_MIN stays negative there, so every
         * match qualifies, as with rank 1 */
        urank = rank == LLONG_MIN ? 1 : (uint64_t)-rank;
    } else {
        urank = (uint64_t)rank;
    }
    struct kv_list *l;
    if (!lookup_list(c, &argv[1], 0, &l, NULL))
        return;
    if (!l) {
        if (count != -1)
            resp_add_array(&c->out, 0);
        else
            resp_add_null(&c->out, c->proto);
        return;
    }
    const struct resp_arg *ele = &argv[2];
    uint64_t llen = kv_list_len(l), matches = 0, index = 0;
    long long found = -1;
    struct buf hits;
    long long nhits = 0;
    buf_init(&hits);
    struct list_iter it;
    kv_list_iter_init(&it, l, fwd ? 0 : llen - 1, fwd);
    const char *v;
    size_t vl;
    while (kv_list_iter_get(&it, &v, &vl) && (maxlen == 0 || index < (uint64_t)maxlen)) {
        if (vl == ele->len && memcmp(v, ele->ptr, vl) == 0) {
            matches++;
            long long pos = fwd ? (long long)index : (long long)(llen - index - 1);
            if (matches >= urank) {
                if (count != -1) {
                    resp_add_int(&hits, pos);
                    nhits++;
                    if (count && matches - urank + 1 >= (uint64_t)count)
                        break;
                } else {
                    found = pos;
                    break;
                }
            }
        }
        index++;
        kv_list_iter_next(&it);
    }
    if (count != -1) {
        resp_add_array(&c->out, nhits);
        buf_append(&c->out, buf_head(&hits), buf_pending(&hits));
    } else if (found >= 0) {
        resp_add_int(&c->out, found);
    } else {
        resp_add_null(&c->out, c->proto);
    }
    buf_deinit(&hits);
}

/* ---- in-place writes -------------------------------------------------------- */

void kv_cmd_LSET(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_list *l;
    long long idx;
    if (!lookup_list(c, &argv[1], LOOKUP_WRITE, &l, NULL))
        return;
    if (!l) {
        kv_reply_error(c, "ERR no such key");
        return;
    }
    if (!kv_arg_ll(c, &argv[2], &idx) || !elements_fit(c, argv, 3, 4))
        return;
    uint64_t len = kv_list_len(l), i;
    if (idx < 0) {
        uint64_t back = (uint64_t)(-(idx + 1)) + 1;
        if (back > len) {
            kv_reply_error(c, "ERR index out of range");
            return;
        }
        i = len - back;
    } else if ((uint64_t)idx >= len) {
        kv_reply_error(c, "ERR index out of range");
        return;
    } else {
        i = (uint64_t)idx;
    }
    kv_list_set(l, i, argv[3].ptr, argv[3].len);
    db_modified(DB(c), argv[1].ptr, argv[1].len);
    c->srv->dirty++;
    kv_notify(c, KV_NOTIFY_LIST, "lset", argv[1].ptr, argv[1].len);
    resp_add_ok(&c->out);
}

void kv_cmd_LINSERT(struct kv_client *c, int argc, struct resp_arg *argv)
{
    bool after;
    if (kv_arg_is(&argv[2], "after")) {
        after = true;
    } else if (kv_arg_is(&argv[2], "before")) {
        after = false;
    } else {
        kv_reply_syntax(c);
        return;
    }
    struct kv_list *l;
    if (!elements_fit(c, argv, 4, 5) || !lookup_list(c, &argv[1], LOOKUP_WRITE, &l, NULL))
        return;
    if (!l) {
        resp_add_int(&c->out, 0);
        return;
    }
    struct list_iter it;
    kv_list_iter_init(&it, l, 0, true);
    const char *v;
    size_t vl;
    while (kv_list_iter_get(&it, &v, &vl)) {
        if (vl == argv[3].len && memcmp(v, argv[3].ptr, vl) == 0) {
            kv_list_iter_insert(&it, after, argv[4].ptr, argv[4].len);
            db_modified(DB(c), argv[1].ptr, argv[1].len);
            c->srv->dirty++;
            kv_notify(c, KV_NOTIFY_LIST, "linsert", argv[1].ptr, argv[1].len);
            resp_add_int(&c->out, (long long)kv_list_len(l));
            return;
        }
        kv_list_iter_next(&it);
    }
    resp_add_int(&c->out, -1);
}

void kv_cmd_LREM(struct kv_client *c, int argc, struct resp_arg *argv)
{
    long long toremove;
    if (!kv_arg_ll(c, &argv[2], &toremove))
        return;
    struct kv_list *l;
    struct kv_obj **ref;
    if (!lookup_list(c, &argv[1], LOOKUP_WRITE, &l, &ref))
        return;
    if (!l) {
        resp_add_int(&c->out, 0);
        return;
    }
    bool fwd = toremove >= 0;
    uint64_t limit = toremove < 0 ? (uint64_t)(-(toremove + 1)) + 1 : (uint64_t)toremove;
    uint64_t removed = 0;
    struct list_iter it;
    kv_list_iter_init(&it, l, fwd ? 0 : kv_list_len(l) - 1, fwd);
    const char *v;
    size_t vl;
    while (kv_list_iter_get(&it, &v, &vl)) {
        if (vl == argv[3].len && memcmp(v, argv[3].ptr, vl) == 0) {
            kv_list_iter_del(&it);
            removed++;
            if (limit && removed == limit)
                break;
        } else {
            kv_list_iter_next(&it);
        }
    }
    if (removed) {
        db_modified(DB(c), argv[1].ptr, argv[1].len);
        kv_notify(c, KV_NOTIFY_LIST, "lrem", argv[1].ptr, argv[1].len);
    }
    c->srv->dirty += removed;
    if (kv_list_len(l) == 0) {
        kv_db_delete_ref(DB(c), ref);
        kv_notify(c, KV_NOTIFY_GENERIC, "del", argv[1].ptr, argv[1].len);
    }
    resp_add_int(&c->out, (long long)removed);
}

void kv_cmd_LTRIM(struct kv_client *c, int argc, struct resp_arg *argv)
{
    long long start, end;
    if (!kv_arg_ll(c, &argv[2], &start) || !kv_arg_ll(c, &argv[3], &end))
        return;
    struct kv_list *l;
    struct kv_obj **ref;
    if (!lookup_list(c, &argv[1], LOOKUP_WRITE, &l, &ref))
        return;
    if (!l) {
        resp_add_ok(&c->out);
        return;
    }
    long long llen = (long long)kv_list_len(l), ltrim, rtrim;
    if (start < 0)
        start = llen + start;
    if (end < 0)
        end = llen + end;
    if (start < 0)
        start = 0;
    if (start > end || start >= llen) {
        ltrim = llen;
        rtrim = 0;
    } else {
        if (end >= llen)
            end = llen - 1;
        ltrim = start;
        rtrim = llen - end - 1;
    }
    kv_list_del_range(l, 0, (uint64_t)ltrim);
    if (rtrim)
        kv_list_del_range(l, kv_list_len(l) - (uint64_t)rtrim, (uint64_t)rtrim);
    db_modified(DB(c), argv[1].ptr, argv[1].len);
    c->srv->dirty += (uint64_t)(ltrim + rtrim);
    kv_notify(c, KV_NOTIFY_LIST, "ltrim", argv[1].ptr, argv[1].len);
    if (kv_list_len(l) == 0) {
        kv_db_delete_ref(DB(c), ref);
        kv_notify(c, KV_NOTIFY_GENERIC, "del", argv[1].ptr, argv[1].len);
    }
    resp_add_ok(&c->out);
}

/* ---- LMOVE RPOPLPUSH -------------------------------------------------------- */

/*
 * Move one element from src (a non-empty list) to dst, whose type the
 * caller checked (NULL: absent). Returns the element copied (caller frees),
 * its length in *n. The empty source is deleted.
 */
static char *move_one(struct kv_server *s, struct kv_client *c, const struct resp_arg *src, struct kv_list *sl,
                      const struct resp_arg *dst, struct kv_list *dl, int wherefrom, int whereto, size_t *n)
{
    struct kv_db *db = &s->db;
    const char *v;
    kv_list_peek(sl, wherefrom, &v, n);
    char *copy = xmalloc(*n ? *n : 1);
    memcpy(copy, v, *n);
    kv_list_pop(sl, wherefrom);
    db_modified(db, src->ptr, src->len);
    if (!dl)
        dl = create_list(db, dst->ptr, dst->len);
    kv_list_push(dl, whereto, copy, *n);
    db_modified(db, dst->ptr, dst->len);
    notify(s, c, KV_NOTIFY_LIST, push_event(whereto), dst->ptr, dst->len);
    /* src == dst: the list got its element back and is never empty here */
    bool gone = kv_list_len(sl) == 0;
    delete_if_empty(db, src->ptr, src->len, sl);
    notify_popped(s, c, wherefrom, src->ptr, src->len, gone);
    return copy;
}

/* Look both lists up as LMOVE does; false after an error reply. *sl NULL: no source. */
static bool lmove_lookup(struct kv_client *c, const struct resp_arg *src, const struct resp_arg *dst,
                         struct kv_list **sl, struct kv_list **dl)
{
    if (!lookup_list(c, src, LOOKUP_WRITE, sl, NULL))
        return false;
    if (!*sl)
        return true;
    return lookup_list(c, dst, LOOKUP_WRITE, dl, NULL);
}

static void lmove_generic(struct kv_client *c, struct resp_arg *argv, int wherefrom, int whereto)
{
    struct kv_list *sl, *dl = NULL;
    if (!lmove_lookup(c, &argv[1], &argv[2], &sl, &dl))
        return;
    if (!sl) {
        resp_add_null(&c->out, c->proto);
        return;
    }
    size_t n;
    char *v = move_one(c->srv, c, &argv[1], sl, &argv[2], dl, wherefrom, whereto, &n);
    resp_add_bulk(&c->out, v, n);
    xfree(v);
    c->srv->dirty++;
}

void kv_cmd_LMOVE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    int from, to;
    if (!parse_where(&argv[3], &from) || !parse_where(&argv[4], &to)) {
        kv_reply_syntax(c);
        return;
    }
    lmove_generic(c, argv, from, to);
}

void kv_cmd_RPOPLPUSH(struct kv_client *c, int argc, struct resp_arg *argv)
{
    lmove_generic(c, argv, LIST_TAIL, LIST_HEAD);
}

/* ---- LMPOP ------------------------------------------------------------------ */

struct mpop_args {
    int numkeys_idx;
    long long numkeys;
    int where;
    long long count;
};

/* Redis lmpopGenericCommand's parsing: numkeys, the side, COUNT. */
static bool parse_mpop(struct kv_client *c, int argc, struct resp_arg *argv, struct mpop_args *m)
{
    if (!util_str2ll(argv[m->numkeys_idx].ptr, argv[m->numkeys_idx].len, &m->numkeys) || m->numkeys < 1) {
        kv_reply_error(c, "ERR numkeys should be greater than 0");
        return false;
    }
    /* where_idx = numkeys_idx + numkeys + 1, without overflow */
    if (m->numkeys >= argc - m->numkeys_idx - 1) {
        kv_reply_syntax(c);
        return false;
    }
    int where_idx = m->numkeys_idx + (int)m->numkeys + 1;
    if (!parse_where(&argv[where_idx], &m->where)) {
        kv_reply_syntax(c);
        return false;
    }
    m->count = -1;
    for (int j = where_idx + 1; j < argc; j++) {
        if (m->count == -1 && j + 1 < argc && kv_arg_is(&argv[j], "count")) {
            j++;
            if (!util_str2ll(argv[j].ptr, argv[j].len, &m->count) || m->count < 1) {
                kv_reply_error(c, "ERR count should be greater than 0");
                return false;
            }
        } else {
            kv_reply_syntax(c);
            return false;
        }
    }
    if (m->count == -1)
        m->count = 1;
    return true;
}

/* Pop from the first non-empty list of keys: [key, [elements]]. Returns
 * 1 when popped, 0 when every key is absent, -1 after an error reply. */
static int mpop_try(struct kv_client *c, const struct resp_arg *keys, long long numkeys, int where, long long count)
{
    for (long long j = 0; j < numkeys; j++) {
        struct kv_list *l;
        struct kv_obj **ref;
        if (!lookup_list(c, &keys[j], LOOKUP_WRITE, &l, &ref))
            return -1;
        if (!l)
            continue;
        resp_add_array(&c->out, 2);
        resp_add_bulk(&c->out, keys[j].ptr, keys[j].len);
        pop_range_reply(&c->out, l, where, count);
        db_modified(DB(c), keys[j].ptr, keys[j].len);
        c->srv->dirty++;
        bool gone = kv_list_len(l) == 0;
        if (gone)
            kv_db_delete_ref(DB(c), ref);
        notify_popped(c->srv, c, where, keys[j].ptr, keys[j].len, gone);
        return 1;
    }
    return 0;
}

void kv_cmd_LMPOP(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct mpop_args m = {.numkeys_idx = 1};
    if (!parse_mpop(c, argc, argv, &m))
        return;
    if (mpop_try(c, &argv[2], m.numkeys, m.where, m.count) == 0)
        resp_add_null_array(&c->out, c->proto);
}

/* ---- blocking --------------------------------------------------------------- */

/* blocking.c callback: serve waiter b from the list now at key, if any. */
static bool serve_list(struct kv_server *s, struct kv_blocked *b, const char *key, size_t klen)
{
    struct kv_db *db = &s->db;
    struct kv_obj **ref = kv_db_lookup_ref(db, key, klen, LOOKUP_WRITE);
    if (!ref || obj_type(*ref) != OBJ_LIST)
        return false;
    struct kv_list *l = obj_ptr(*ref);
    struct buf *out = &b->reply;
    if (b->a.reply == BR_VALUE) {
        /* BLMOVE: the destination must hold a list or nothing */
        struct kv_obj *d = db_lookup(db, b->a.dst, b->a.dstlen, LOOKUP_WRITE);
        if (d && obj_type(d) != OBJ_LIST) {
            const char *e = "WRONGTYPE Operation against a key holding the wrong kind of value";
            resp_add_error(out, e, strlen(e));
            return true;
        }
        struct resp_arg src = {.ptr = key, .len = klen};
        struct resp_arg dst = {.ptr = b->a.dst, .len = b->a.dstlen};
        size_t n;
        char *v = move_one(s, NULL, &src, l, &dst, d ? obj_ptr(d) : NULL, b->a.where, b->a.whereto, &n);
        kv_prop_lmove(s, b->db, key, klen, b->a.dst, b->a.dstlen, b->a.where, b->a.whereto);
        resp_add_bulk(out, v, n);
        xfree(v);
    } else {
        resp_add_array(out, 2);
        resp_add_bulk(out, key, klen);
        const char *pop = b->a.where == LIST_HEAD ? "LPOP" : "RPOP";
        if (b->a.reply == BR_KEY_VALUES) {
            uint64_t len = kv_list_len(l);
            kv_prop_pop(s, b->db, pop, key, klen, (long long)(len < (uint64_t)b->a.count ? len : (uint64_t)b->a.count));
            pop_range_reply(out, l, b->a.where, b->a.count);
        } else {
            const char *v;
            size_t vl;
            kv_list_peek(l, b->a.where, &v, &vl);
            resp_add_bulk(out, v, vl);
            kv_list_pop(l, b->a.where);
            kv_prop_pop(s, b->db, pop, key, klen, 0);
        }
        db_modified(db, key, klen);
        bool gone = kv_list_len(l) == 0;
        if (gone)
            kv_db_delete_ref(db, ref);
        notify_popped(s, NULL, b->a.where, key, klen, gone);
    }
    s->dirty++;
    return true;
}

static void bpop_generic(struct kv_client *c, int argc, struct resp_arg *argv, int where)
{
    long long deadline;
    if (!kv_block_timeout(c, &argv[argc - 1], &deadline))
        return;
    for (int j = 1; j < argc - 1; j++) {
        struct kv_list *l;
        struct kv_obj **ref;
        if (!lookup_list(c, &argv[j], LOOKUP_WRITE, &l, &ref))
            return;
        if (!l)
            continue;
        const char *v;
        size_t vl;
        kv_list_peek(l, where, &v, &vl);
        resp_add_array(&c->out, 2);
        resp_add_bulk(&c->out, argv[j].ptr, argv[j].len);
        resp_add_bulk(&c->out, v, vl);
        kv_list_pop(l, where);
        db_modified(DB(c), argv[j].ptr, argv[j].len);
        c->srv->dirty++;
        bool gone = kv_list_len(l) == 0;
        if (gone)
            kv_db_delete_ref(DB(c), ref);
        notify_popped(c->srv, c, where, argv[j].ptr, argv[j].len, gone);
        return;
    }
    struct kv_block_args a = {.where = where, .reply = BR_KEY_VALUE};
    kv_block(c, &argv[1], argc - 2, deadline, serve_list, &a);
}

void kv_cmd_BLPOP(struct kv_client *c, int argc, struct resp_arg *argv) { bpop_generic(c, argc, argv, LIST_HEAD); }
void kv_cmd_BRPOP(struct kv_client *c, int argc, struct resp_arg *argv) { bpop_generic(c, argc, argv, LIST_TAIL); }

static void blmove_generic(struct kv_client *c, struct resp_arg *argv, int from, int to, const struct resp_arg *tmo)
{
    long long deadline;
    if (!kv_block_timeout(c, tmo, &deadline))
        return;
    struct kv_list *sl;
    if (!lookup_list(c, &argv[1], LOOKUP_WRITE, &sl, NULL))
        return;
    if (sl) {
        lmove_generic(c, argv, from, to);
        return;
    }
    if (c->in_exec) { /* as Redis: a null bulk, not the null array of a timeout */
        resp_add_null(&c->out, c->proto);
        return;
    }
    struct kv_block_args a = {.where = from, .whereto = to, .reply = BR_VALUE};
    a.dst = xmalloc(argv[2].len ? argv[2].len : 1);
    memcpy(a.dst, argv[2].ptr, argv[2].len);
    a.dstlen = argv[2].len;
    kv_block(c, &argv[1], 1, deadline, serve_list, &a);
}

void kv_cmd_BLMOVE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    int from, to;
    if (!parse_where(&argv[3], &from) || !parse_where(&argv[4], &to)) {
        kv_reply_syntax(c);
        return;
    }
    blmove_generic(c, argv, from, to, &argv[5]);
}

void kv_cmd_BRPOPLPUSH(struct kv_client *c, int argc, struct resp_arg *argv)
{
    blmove_generic(c, argv, LIST_TAIL, LIST_HEAD, &argv[3]);
}

void kv_cmd_BLMPOP(struct kv_client *c, int argc, struct resp_arg *argv)
{
    /* as Redis: numkeys, keys and options are checked before the timeout */
    struct mpop_args m = {.numkeys_idx = 2};
    if (!parse_mpop(c, argc, argv, &m))
        return;
    long long deadline;
    if (!kv_block_timeout(c, &argv[1], &deadline))
        return;
    int r = mpop_try(c, &argv[3], m.numkeys, m.where, m.count);
    if (r != 0)
        return;
    struct kv_block_args a = {.where = m.where, .count = m.count, .reply = BR_KEY_VALUES};
    kv_block(c, &argv[3], (int)m.numkeys, deadline, serve_list, &a);
}
