/*
 * t_zset.c — sorted-set commands: ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK
 * ZREVRANK ZCOUNT ZLEXCOUNT ZRANGE ZRANGESTORE ZREVRANGE ZRANGEBYSCORE
 * ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZREMRANGEBYRANK
 * ZREMRANGEBYSCORE ZREMRANGEBYLEX ZPOPMIN ZPOPMAX ZMPOP ZRANDMEMBER ZUNION
 * ZINTER ZDIFF ZUNIONSTORE ZINTERSTORE ZDIFFSTORE ZINTERCARD ZSCAN.
 *
 * Replies, error texts and argument rules are Redis 7.0's (src/t_zset.c),
 * including its float parsing (strtod rules for scores, looser ones for
 * range ends) and reply shapes in RESP2 and RESP3. The encoding is
 * zsetobj.c's business. Every range is turned into ranks first, so a
 * reply's length is known before it is written and no client-given number
 * (offset, count, numkeys) sizes an allocation or a loop beyond the set.
 *
 * Runs with the keyspace lock held (see server.h).
 */
#include "kv/t_zset.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rand.h"
#include "core/util.h"
#include "kv/blocking.h"
#include "kv/propagate.h"
#include "kv/pubsub.h"
#include "kv/reply.h"
#include "kv/setobj.h"
#include "kv/zsetobj.h"

#define ZSCAN_DEFAULT_COUNT 10
#define NUMBUF 128 /* numbers longer than this are parsed from a heap copy */

static const char NOT_FLOAT[] = "ERR value is not a valid float";
static const char NAN_ERR[] = "ERR resulting score is not a number (NaN)";
static const char RANGE_ERR[] = "ERR min or max is not a float";
static const char LEX_ERR[] = "ERR min or max not valid string range item";

static inline struct kv_db *DB(struct kv_client *c) { return &c->srv->db; }

/* ---- argument parsing ----------------------------------------------------------- */

/* A NUL-terminated copy of an argument (sds semantics: the C string ends at
 * the first NUL byte, as strtod sees it in Redis). */
struct cstr {
    char small[NUMBUF];
    char *s;
};

static const char *cstr_of(struct cstr *t, const char *p, size_t n)
{
    t->s = n < sizeof t->small ? t->small : xmalloc(n + 1);
    memcpy(t->s, p, n);
    t->s[n] = '\0';
    return t->s;
}

static void cstr_done(struct cstr *t)
{
    if (t->s != t->small)
        xfree(t->s);
}

/* One end of a score range (Redis zslParseRange): "(x" exclusive; plain
 * strtod, so leading spaces and an empty number (0) pass, as in Redis. */
static bool parse_range_item(const struct resp_arg *a, double *v, bool *ex)
{
    struct cstr t;
    const char *s = cstr_of(&t, a->ptr, a->len);
    *ex = s[0] == '(';
    const char *p = *ex ? s + 1 : s;
    char *end;
    *v = strtod(p, &end);
    bool ok = end[0] == '\0' && !isnan(*v);
    cstr_done(&t);
    return ok;
}

static bool parse_srange(const struct resp_arg *min, const struct resp_arg *max, struct zset_srange *r)
{
    return parse_range_item(min, &r->min, &r->minex) && parse_range_item(max, &r->max, &r->maxex);
}

/* One end of a lex range (Redis zslParseLexRangeItem): "+", "-", "(x", "[x".
 * The member points into the argument. */
static bool parse_lex_item(const struct resp_arg *a, const char **m, size_t *ml, int *inf, bool *ex)
{
    size_t n = strnlen(a->ptr, a->len); /* C-string view of the sds */
    *inf = 0;
    *ex = false;
    if (n == 0)
        return false;
    switch (a->ptr[0]) {
    case '+':
    case '-':
        if (n != 1)
            return false;
        *inf = a->ptr[0] == '+' ? 1 : -1;
        *ex = true;
        *m = NULL;
        *ml = 0;
        return true;
    case '(':
    case '[':
        *ex = a->ptr[0] == '(';
        *m = a->ptr + 1;
        *ml = a->len - 1;
        return true;
    default:
        return false;
    }
}

static bool parse_lrange(const struct resp_arg *min, const struct resp_arg *max, struct zset_lrange *r)
{
    return parse_lex_item(min, &r->min, &r->minlen, &r->mininf, &r->minex) &&
           parse_lex_item(max, &r->max, &r->maxlen, &r->maxinf, &r->maxex);
}

/* ---- lookups -------------------------------------------------------------------- */

/*
 * Look key up as a sorted set. Returns false after replying WRONGTYPE;
 * otherwise *z is the set, NULL when the key is absent. *ref (if given) is
 * the link for deletion, valid until the next keyspace change.
 */
static bool lookup_zset(struct kv_client *c, const struct resp_arg *k, int flags, struct kv_zset **z,
                        struct kv_obj ***ref)
{
    struct kv_obj **r = kv_db_lookup_ref(DB(c), k->ptr, k->len, flags);
    *z = NULL;
    if (ref)
        *ref = r;
    if (!r)
        return true;
    if (obj_type(*r) != OBJ_ZSET) {
        kv_reply_wrongtype(c);
        return false;
    }
    *z = obj_zset(*r);
    return true;
}

/* Add an empty set under a key known to be absent; returns its object. */
static struct kv_obj *create_zset(struct kv_client *c, const struct resp_arg *k)
{
    struct kv_obj *o = kv_obj_new_zset(k->ptr, k->len, kv_zset_new(), -1);
    kv_db_add(DB(c), o);
    return o;
}

/* Store z under k (replacing any value and its TTL), or delete k when z is
 * empty. Takes ownership of z. Returns the stored length. */
static long long store_zset(struct kv_client *c, const struct resp_arg *k, struct kv_zset *z)
{
    long long n = (long long)kv_zset_len(z);
    if (n == 0) {
        kv_zset_free(z);
        if (kv_db_delete(DB(c), k->ptr, k->len)) {
            c->srv->dirty++;
            kv_notify(c, KV_NOTIFY_GENERIC, "del", k->ptr, k->len);
        }
        return 0;
    }
    kv_db_set(DB(c), kv_obj_new_zset(k->ptr, k->len, z, -1), false);
    c->srv->dirty++;
    /* the event is the command's name: zrangestore, zunionstore, zinterstore, zdiffstore */
    kv_notify(c, KV_NOTIFY_ZSET, resp_cmds[c->last_cmd].name, k->ptr, k->len);
    return n;
}

/* Delete the key at ref when its set became empty (event "del"). */
static void delete_if_empty(struct kv_client *c, struct kv_zset *z, struct kv_obj **ref, const struct resp_arg *k)
{
    if (kv_zset_len(z) == 0) {
        kv_db_delete_ref(DB(c), ref);
        kv_notify(c, KV_NOTIFY_GENERIC, "del", k->ptr, k->len);
    }
}

/* ---- replies -------------------------------------------------------------------- */

static void reply_elem(struct kv_client *c, const char *m, size_t ml, double s, bool withscores)
{
    if (withscores && c->proto > 2)
        resp_add_array(&c->out, 2);
    resp_add_bulk(&c->out, m, ml);
    if (withscores)
        resp_add_double(&c->out, c->proto, s);
}

static void reply_len(struct kv_client *c, uint64_t n, bool withscores)
{
    resp_add_array(&c->out, (long long)(withscores && c->proto == 2 ? n * 2 : n));
}

/* Reply (or, with dst, collect) n elements walking from rank `from`. */
static void emit_ranks(struct kv_client *c, struct kv_zset *z, uint64_t from, uint64_t n, bool reverse,
                       bool withscores, struct kv_zset **dst)
{
    if (!dst)
        reply_len(c, n, withscores);
    struct zset_iter it;
    kv_zset_iter_init(&it, z, from, reverse);
    const char *m;
    size_t ml;
    double s;
    for (uint64_t i = 0; i < n && kv_zset_iter_next(&it, &m, &ml, &s); i++) {
        if (dst) {
            int out;
            kv_zset_add(dst, s, m, ml, 0, &out, NULL);
        } else {
            reply_elem(c, m, ml, s, withscores);
        }
    }
    kv_zset_iter_done(&it);
}

/* ---- ZADD ZINCRBY ---------------------------------------------------------------- */

static void zadd_generic(struct kv_client *c, int argc, struct resp_arg *argv, int in)
{
    bool ch = false;
    int idx = 2;
    for (; idx < argc; idx++) {
        const struct resp_arg *o = &argv[idx];
        if (o->len < 2 || o->len > 4 || !isalpha((unsigned char)o->ptr[0]))
            break; /* a score, not an option word */
        if (kv_arg_is(o, "nx"))
            in |= ZSET_IN_NX;
        else if (kv_arg_is(o, "xx"))
            in |= ZSET_IN_XX;
        else if (kv_arg_is(o, "ch"))
            ch = true;
        else if (kv_arg_is(o, "incr"))
            in |= ZSET_IN_INCR;
        else if (kv_arg_is(o, "gt"))
            in |= ZSET_IN_GT;
        else if (kv_arg_is(o, "lt"))
            in |= ZSET_IN_LT;
        else
            break;
    }
    bool incr = in & ZSET_IN_INCR, nx = in & ZSET_IN_NX, xx = in & ZSET_IN_XX;
    bool gt = in & ZSET_IN_GT, lt = in & ZSET_IN_LT;
    int elements = argc - idx;
    if (elements % 2 || !elements) {
        kv_reply_syntax(c);
        return;
    }
    elements /= 2;
    if (nx && xx) {
        kv_reply_error(c, "ERR XX and NX options at the same time are not compatible");
        return;
    }
    if ((gt && nx) || (lt && nx) || (gt && lt)) {
        kv_reply_error(c, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if (incr && elements > 1) {
        kv_reply_error(c, "ERR INCR option supports a single increment-element pair");
        return;
    }
    /* every score first: the command runs fully or not at all */
    double one, *scores = elements == 1 ? &one : xmalloc((size_t)elements * sizeof *scores);
    for (int j = 0; j < elements; j++) {
        if (!kv_arg_double(c, &argv[idx + 2 * j], &scores[j], NOT_FLOAT))
            goto done;
    }
    struct kv_zset *z;
    struct kv_obj **ref, *o;
    if (!lookup_zset(c, &argv[1], LOOKUP_WRITE, &z, &ref))
        goto done;
    long long added = 0, updated = 0, processed = 0;
    double score = 0;
    if (z) {
        o = *ref;
    } else {
        if (xx)
            goto reply;
        o = create_zset(c, &argv[1]);
        z = obj_zset(o);
    }
    for (int j = 0; j < elements; j++) {
        const struct resp_arg *m = &argv[idx + 2 * j + 1];
        int out;
        double newscore = scores[j];
        bool ok = kv_zset_add(&z, scores[j], m->ptr, m->len, in, &out, &newscore);
        memcpy(obj_val(o), &z, sizeof z); /* the set may have moved */
        if (!ok) {
            kv_reply_error(c, NAN_ERR);
            goto done;
        }
        if (out & ZSET_OUT_ADDED)
            added++;
        if (out & ZSET_OUT_UPDATED)
            updated++;
        if (!(out & ZSET_OUT_NOP))
            processed++;
        score = newscore;
    }
    if (added + updated) {
        db_modified(DB(c), argv[1].ptr, argv[1].len);
        kv_notify(c, KV_NOTIFY_ZSET, incr ? "zincr" : "zadd", argv[1].ptr, argv[1].len);
    }
    c->srv->dirty += (uint64_t)(added + updated);
reply:
    if (incr) {
        if (processed)
            resp_add_double(&c->out, c->proto, score);
        else
            resp_add_null(&c->out, c->proto);
    } else {
        resp_add_int(&c->out, ch ? added + updated : added);
    }
done:
    if (scores != &one)
        xfree(scores);
}

void kv_cmd_ZADD(struct kv_client *c, int argc, struct resp_arg *argv) { zadd_generic(c, argc, argv, 0); }
void kv_cmd_ZINCRBY(struct kv_client *c, int argc, struct resp_arg *argv) { zadd_generic(c, argc, argv, ZSET_IN_INCR); }

/* ---- ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ------------------------------------ */

void kv_cmd_ZREM(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_zset *z;
    struct kv_obj **ref;
    if (!lookup_zset(c, &argv[1], LOOKUP_WRITE, &z, &ref))
        return;
    long long deleted = 0;
    bool gone = false;
    if (z) {
        for (int i = 2; i < argc; i++) {
            if (kv_zset_del(z, argv[i].ptr, argv[i].len))
                deleted++;
            if (kv_zset_len(z) == 0) {
                kv_db_delete_ref(DB(c), ref);
                gone = true;
                break;
            }
        }
    }
    if (deleted) {
        db_modified(DB(c), argv[1].ptr, argv[1].len);
        kv_notify(c, KV_NOTIFY_ZSET, "zrem", argv[1].ptr, argv[1].len);
        if (gone)
            kv_notify(c, KV_NOTIFY_GENERIC, "del", argv[1].ptr, argv[1].len);
    }
    c->srv->dirty += (uint64_t)deleted;
    resp_add_int(&c->out, deleted);
}

void kv_cmd_ZCARD(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_zset *z;
    if (lookup_zset(c, &argv[1], 0, &z, NULL))
        resp_add_int(&c->out, z ? (long long)kv_zset_len(z) : 0);
}

static void reply_score(struct kv_client *c, struct kv_zset *z, const struct resp_arg *m)
{
    double s;
    if (z && kv_zset_score(z, m->ptr, m->len, &s))
        resp_add_double(&c->out, c->proto, s);
    else
        resp_add_null(&c->out, c->proto);
}

void kv_cmd_ZSCORE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_zset *z;
    if (lookup_zset(c, &argv[1], 0, &z, NULL))
        reply_score(c, z, &argv[2]);
}

void kv_cmd_ZMSCORE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_zset *z;
    if (!lookup_zset(c, &argv[1], 0, &z, NULL))
        return;
    resp_add_array(&c->out, argc - 2);
    for (int i = 2; i < argc; i++)
        reply_score(c, z, &argv[i]);
}

static void zrank_generic(struct kv_client *c, struct resp_arg *argv, bool reverse)
{
    struct kv_zset *z;
    uint64_t rank;
    if (!lookup_zset(c, &argv[1], 0, &z, NULL))
        return;
    if (!z || !kv_zset_rank(z, argv[2].ptr, argv[2].len, &rank, NULL)) {
        resp_add_null(&c->out, c->proto);
        return;
    }
    resp_add_int(&c->out, (long long)(reverse ? kv_zset_len(z) - 1 - rank : rank));
}

void kv_cmd_ZRANK(struct kv_client *c, int argc, struct resp_arg *argv) { zrank_generic(c, argv, false); }
void kv_cmd_ZREVRANK(struct kv_client *c, int argc, struct resp_arg *argv) { zrank_generic(c, argv, true); }

/* ---- ZCOUNT ZLEXCOUNT -------------------------------------------------------------- */

static uint64_t span(uint64_t below, uint64_t upto) { return upto > below ? upto - below : 0; }

void kv_cmd_ZCOUNT(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct zset_srange r;
    struct kv_zset *z;
    if (!parse_srange(&argv[2], &argv[3], &r)) {
        kv_reply_error(c, RANGE_ERR);
        return;
    }
    if (!lookup_zset(c, &argv[1], 0, &z, NULL))
        return;
    resp_add_int(&c->out, z ? (long long)span(kv_zset_score_below(z, &r), kv_zset_score_upto(z, &r)) : 0);
}

void kv_cmd_ZLEXCOUNT(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct zset_lrange r;
    struct kv_zset *z;
    if (!parse_lrange(&argv[2], &argv[3], &r)) {
        kv_reply_error(c, LEX_ERR);
        return;
    }
    if (!lookup_zset(c, &argv[1], 0, &z, NULL))
        return;
    resp_add_int(&c->out, z ? (long long)span(kv_zset_lex_below(z, &r), kv_zset_lex_upto(z, &r)) : 0);
}

/* ---- ZRANGE and its older forms ------------------------------------------------------ */

enum rtype { RT_AUTO, RT_RANK, RT_SCORE, RT_LEX };
enum rdir { RD_AUTO, RD_FWD, RD_REV };

/* Redis's rank sanitizing: the [first, first+n) window of ranks, n 0 if empty. */
static uint64_t rank_window(long long start, long long end, uint64_t len, uint64_t *first)
{
    long long llen = (long long)len;
    if (start < 0)
        start = llen + start;
    if (end < 0)
        end = llen + end;
    if (start < 0)
        start = 0;
    if (start > end || start >= llen)
        return 0;
    if (end >= llen)
        end = llen - 1;
    *first = (uint64_t)start;
    return (uint64_t)(end - start) + 1;
}

/*
 * ZRANGE ZRANGESTORE ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX
 * ZREVRANGEBYLEX (Redis zrangeGenericCommand). argv[src] is the source key,
 * followed by the two range ends; dst (ZRANGESTORE) gets the result.
 */
static void zrange_generic(struct kv_client *c, int argc, struct resp_arg *argv, int src,
                           const struct resp_arg *dst, enum rtype type, enum rdir dir)
{
    int minidx = src + 1, maxidx = src + 2;
    long long start = 0, end = 0, offset = 0, limit = -1;
    bool withscores = false;
    for (int j = src + 3; j < argc; j++) {
        int left = argc - j - 1;
        if (!dst && kv_arg_is(&argv[j], "withscores")) {
            withscores = true;
        } else if (kv_arg_is(&argv[j], "limit") && left >= 2) {
            if (!kv_arg_ll(c, &argv[j + 1], &offset) || !kv_arg_ll(c, &argv[j + 2], &limit))
                return;
            j += 2;
        } else if (dir == RD_AUTO && kv_arg_is(&argv[j], "rev")) {
            dir = RD_REV;
        } else if (type == RT_AUTO && kv_arg_is(&argv[j], "bylex")) {
            type = RT_LEX;
        } else if (type == RT_AUTO && kv_arg_is(&argv[j], "byscore")) {
            type = RT_SCORE;
        } else {
            kv_reply_syntax(c);
            return;
        }
    }
    if (dir == RD_AUTO)
        dir = RD_FWD;
    if (type == RT_AUTO)
        type = RT_RANK;
    if (limit != -1 && type == RT_RANK) {
        kv_reply_error(c, "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
        return;
    }
    if (withscores && type == RT_LEX) {
        kv_reply_error(c, "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return;
    }
    bool reverse = dir == RD_REV;
    if (reverse && type != RT_RANK) {
        int t = minidx;
        minidx = maxidx;
        maxidx = t;
    }
    struct zset_srange sr;
    struct zset_lrange lr;
    switch (type) {
    case RT_SCORE:
        if (!parse_srange(&argv[minidx], &argv[maxidx], &sr)) {
            kv_reply_error(c, RANGE_ERR);
            return;
        }
        break;
    case RT_LEX:
        if (!parse_lrange(&argv[minidx], &argv[maxidx], &lr)) {
            kv_reply_error(c, LEX_ERR);
            return;
        }
        break;
    default:
        if (!kv_arg_ll(c, &argv[minidx], &start) || !kv_arg_ll(c, &argv[maxidx], &end))
            return;
        break;
    }
    struct kv_zset *z;
    if (!lookup_zset(c, &argv[src], 0, &z, NULL))
        return;

    /* the answer as a window of ranks, walked up (from first) or down (from first) */
    uint64_t first = 0, n = 0;
    if (z) {
        uint64_t len = kv_zset_len(z);
        if (type == RT_RANK) {
            n = rank_window(start, end, len, &first);
            if (reverse)
                first = len - 1 - first;
        } else {
            uint64_t lo, hi;
            if (type == RT_SCORE) {
                lo = kv_zset_score_below(z, &sr);
                hi = kv_zset_score_upto(z, &sr);
            } else {
                lo = kv_zset_lex_below(z, &lr);
                hi = kv_zset_lex_upto(z, &lr);
            }
            uint64_t inrange = span(lo, hi);
            /* a negative offset walks off the end in Redis: nothing */
            if (offset >= 0 && (uint64_t)offset < inrange) {
                n = inrange - (uint64_t)offset;
                if (limit >= 0 && (uint64_t)limit < n)
                    n = (uint64_t)limit;
                first = reverse ? hi - 1 - (uint64_t)offset : lo + (uint64_t)offset;
            }
        }
    }
    if (dst) {
        /* Redis sizes the result by the rank window (unknown for BYSCORE/BYLEX) */
        struct kv_zset *out = type == RT_RANK && n > kv_zset_max_entries ? kv_zset_new_skiplist() : kv_zset_new();
        if (n)
            emit_ranks(c, z, first, n, reverse, true, &out);
        resp_add_int(&c->out, store_zset(c, dst, out));
        return;
    }
    if (n == 0) {
        resp_add_array(&c->out, 0);
        return;
    }
    emit_ranks(c, z, first, n, reverse, withscores, NULL);
}

void kv_cmd_ZRANGE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    zrange_generic(c, argc, argv, 1, NULL, RT_AUTO, RD_AUTO);
}
void kv_cmd_ZRANGESTORE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    zrange_generic(c, argc, argv, 2, &argv[1], RT_AUTO, RD_AUTO);
}
void kv_cmd_ZREVRANGE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    zrange_generic(c, argc, argv, 1, NULL, RT_RANK, RD_REV);
}
void kv_cmd_ZRANGEBYSCORE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    zrange_generic(c, argc, argv, 1, NULL, RT_SCORE, RD_FWD);
}
void kv_cmd_ZREVRANGEBYSCORE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    zrange_generic(c, argc, argv, 1, NULL, RT_SCORE, RD_REV);
}
void kv_cmd_ZRANGEBYLEX(struct kv_client *c, int argc, struct resp_arg *argv)
{
    zrange_generic(c, argc, argv, 1, NULL, RT_LEX, RD_FWD);
}
void kv_cmd_ZREVRANGEBYLEX(struct kv_client *c, int argc, struct resp_arg *argv)
{
    zrange_generic(c, argc, argv, 1, NULL, RT_LEX, RD_REV);
}

/* ---- ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX ---------------------------------- */

static void zremrange_generic(struct kv_client *c, struct resp_arg *argv, enum rtype type)
{
    long long start = 0, end = 0;
    struct zset_srange sr;
    struct zset_lrange lr;
    if (type == RT_RANK) {
        if (!kv_arg_ll(c, &argv[2], &start) || !kv_arg_ll(c, &argv[3], &end))
            return;
    } else if (type == RT_SCORE) {
        if (!parse_srange(&argv[2], &argv[3], &sr)) {
            kv_reply_error(c, RANGE_ERR);
            return;
        }
    } else if (!parse_lrange(&argv[2], &argv[3], &lr)) {
        kv_reply_error(c, LEX_ERR);
        return;
    }
    struct kv_zset *z;
    struct kv_obj **ref;
    if (!lookup_zset(c, &argv[1], LOOKUP_WRITE, &z, &ref))
        return;
    if (!z) {
        resp_add_int(&c->out, 0);
        return;
    }
    uint64_t lo = 0, hi = 0;
    if (type == RT_RANK) {
        uint64_t n = rank_window(start, end, kv_zset_len(z), &lo);
        hi = lo + n;
    } else if (type == RT_SCORE) {
        lo = kv_zset_score_below(z, &sr);
        hi = kv_zset_score_upto(z, &sr);
    } else {
        lo = kv_zset_lex_below(z, &lr);
        hi = kv_zset_lex_upto(z, &lr);
    }
    uint64_t deleted = hi > lo ? kv_zset_delete_ranks(z, lo, hi) : 0;
    if (deleted) {
        db_modified(DB(c), argv[1].ptr, argv[1].len);
        kv_notify(c, KV_NOTIFY_ZSET, resp_cmds[c->last_cmd].name, argv[1].ptr, argv[1].len); /* zremrangeby* */
    }
    delete_if_empty(c, z, ref, &argv[1]);
    c->srv->dirty += deleted;
    resp_add_int(&c->out, (long long)deleted);
}

void kv_cmd_ZREMRANGEBYRANK(struct kv_client *c, int argc, struct resp_arg *argv) { zremrange_generic(c, argv, RT_RANK); }
void kv_cmd_ZREMRANGEBYSCORE(struct kv_client *c, int argc, struct resp_arg *argv) { zremrange_generic(c, argv, RT_SCORE); }
void kv_cmd_ZREMRANGEBYLEX(struct kv_client *c, int argc, struct resp_arg *argv) { zremrange_generic(c, argv, RT_LEX); }

/* ---- ZPOPMIN ZPOPMAX ZMPOP ------------------------------------------------------------- */

/* Pop up to count elements of z (at key, link ref) and write the reply into
 * o: the part shared by ZPOPMIN/ZMPOP and the blocking forms' serve step. */
static void zpop_emit(struct kv_server *s, struct kv_client *c, struct buf *o, int proto, const struct resp_arg *key,
                      struct kv_zset *z, struct kv_obj **ref, bool max, long long count, enum kv_zpop_reply shape)
{
    uint64_t len = kv_zset_len(z);
    uint64_t n = (uint64_t)count < len ? (uint64_t)count : len;
    switch (shape) {
    case KV_ZPOP_FLAT:
        resp_add_array(o, (long long)n * 2);
        break;
    case KV_ZPOP_NESTED:
        resp_add_array(o, (long long)n);
        break;
    case KV_ZPOP_KEY_FLAT:
        resp_add_array(o, (long long)n * 2 + 1);
        resp_add_bulk(o, key->ptr, key->len);
        break;
    case KV_ZPOP_KEY_NESTED:
        resp_add_array(o, 2);
        resp_add_bulk(o, key->ptr, key->len);
        resp_add_array(o, (long long)n);
        break;
    }
    bool nested = shape == KV_ZPOP_NESTED || shape == KV_ZPOP_KEY_NESTED;
    struct zset_iter it;
    kv_zset_iter_init(&it, z, max ? len - 1 : 0, max);
    const char *m;
    size_t ml;
    double sc;
    for (uint64_t i = 0; i < n && kv_zset_iter_next(&it, &m, &ml, &sc); i++) {
        if (nested)
            resp_add_array(o, 2);
        resp_add_bulk(o, m, ml);
        resp_add_double(o, proto, sc);
    }
    kv_zset_iter_done(&it);
    if (max)
        kv_zset_delete_ranks(z, len - n, len);
    else
        kv_zset_delete_ranks(z, 0, n);
    s->dirty += n;
    db_modified(&s->db, key->ptr, key->len);
    bool gone = kv_zset_len(z) == 0;
    if (gone)
        kv_db_delete_ref(&s->db, ref);
    /* c NULL: serving a blocked client, the server raises the events */
    const char *ev = max ? "zpopmax" : "zpopmin";
    if (c)
        kv_notify(c, KV_NOTIFY_ZSET, ev, key->ptr, key->len);
    else
        kv_notify_db(s, 0, KV_NOTIFY_ZSET, ev, key->ptr, key->len);
    if (gone && c)
        kv_notify(c, KV_NOTIFY_GENERIC, "del", key->ptr, key->len);
    else if (gone)
        kv_notify_db(s, 0, KV_NOTIFY_GENERIC, "del", key->ptr, key->len);
}

int kv_zset_pop(struct kv_client *c, const struct resp_arg *keys, int nkeys, bool max, long long count,
                enum kv_zpop_reply shape)
{
    struct kv_zset *z = NULL;
    struct kv_obj **ref = NULL;
    const struct resp_arg *key = NULL;
    for (int i = 0; i < nkeys && !z; i++) {
        key = &keys[i];
        if (!lookup_zset(c, key, LOOKUP_WRITE, &z, &ref))
            return -1;
    }
    if (!z)
        return 0;
    zpop_emit(c->srv, c, &c->out, c->proto, key, z, ref, max, count, shape);
    return 1;
}

static void zpop_command(struct kv_client *c, int argc, struct resp_arg *argv, bool max)
{
    if (argc > 3) {
        kv_reply_syntax(c);
        return;
    }
    long long count = -1;
    if (argc == 3) {
        if (!util_str2ll(argv[2].ptr, argv[2].len, &count) || count < 0) {
            kv_reply_error(c, "ERR value is out of range, must be positive");
            return;
        }
    }
    bool nested = c->proto > 2 && count != -1;
    if (count == 0) {
        /* Redis still checks the type first */
        struct kv_zset *z;
        if (lookup_zset(c, &argv[1], LOOKUP_WRITE, &z, NULL))
            resp_add_array(&c->out, 0);
        return;
    }
    if (kv_zset_pop(c, &argv[1], 1, max, count == -1 ? 1 : count, nested ? KV_ZPOP_NESTED : KV_ZPOP_FLAT) == 0)
        resp_add_array(&c->out, 0);
}

void kv_cmd_ZPOPMIN(struct kv_client *c, int argc, struct resp_arg *argv) { zpop_command(c, argc, argv, false); }
void kv_cmd_ZPOPMAX(struct kv_client *c, int argc, struct resp_arg *argv) { zpop_command(c, argc, argv, true); }

/* Parse a count-of-keys argument in 1..LLONG_MAX that must fit argv; replies on error. */
static bool arg_numkeys(struct kv_client *c, const struct resp_arg *a, long long *n, const char *msg)
{
    long long v;
    if (!util_str2ll(a->ptr, a->len, &v) || v < 1) {
        kv_reply_error(c, msg);
        return false;
    }
    *n = v;
    return true;
}

/* ZMPOP/BZMPOP arguments after the command (and BZMPOP's timeout): numkeys
 * at argv[idx], the keys, MIN|MAX, [COUNT n]. Replies and returns false on
 * error (Redis's order: numkeys, room for the keys, MIN|MAX, options). */
static bool parse_zmpop(struct kv_client *c, int argc, struct resp_arg *argv, int idx, long long *numkeys, bool *max,
                        long long *count)
{
    *count = -1;
    if (!arg_numkeys(c, &argv[idx], numkeys, "ERR numkeys should be greater than 0"))
        return false;
    if (*numkeys > argc - idx - 2) { /* the keys and the MIN|MAX word must all be there */
        kv_reply_syntax(c);
        return false;
    }
    int where = idx + 1 + (int)*numkeys;
    if (kv_arg_is(&argv[where], "min")) {
        *max = false;
    } else if (kv_arg_is(&argv[where], "max")) {
        *max = true;
    } else {
        kv_reply_syntax(c);
        return false;
    }
    for (int j = where + 1; j < argc; j++) {
        if (*count == -1 && kv_arg_is(&argv[j], "count") && j + 1 < argc) {
            j++;
            if (!arg_numkeys(c, &argv[j], count, "ERR count should be greater than 0"))
                return false;
        } else {
            kv_reply_syntax(c);
            return false;
        }
    }
    if (*count == -1)
        *count = 1;
    return true;
}

void kv_cmd_ZMPOP(struct kv_client *c, int argc, struct resp_arg *argv)
{
    long long numkeys, count;
    bool max;
    if (!parse_zmpop(c, argc, argv, 1, &numkeys, &max, &count))
        return;
    if (kv_zset_pop(c, &argv[2], (int)numkeys, max, count, KV_ZPOP_KEY_NESTED) == 0)
        resp_add_null_array(&c->out, c->proto);
}

/* ---- BZPOPMIN BZPOPMAX BZMPOP ---------------------------------------------------------- */

/* blocking.c callback: serve waiter b from the sorted set now at key, if any
 * (a value of another type keeps it waiting, as in Redis). */
static bool serve_zset(struct kv_server *s, struct kv_blocked *b, const char *key, size_t klen)
{
    struct kv_obj **ref = kv_db_lookup_ref(&s->db, key, klen, LOOKUP_WRITE);
    if (!ref || obj_type(*ref) != OBJ_ZSET)
        return false;
    struct resp_arg k = {.ptr = key, .len = klen};
    size_t len = kv_zset_len(obj_zset(*ref));
    long long cnt = b->a.count > 0 ? b->a.count : 1;
    kv_prop_pop(s, b->db, b->a.where != 0 ? "ZPOPMAX" : "ZPOPMIN", key, klen,
                (long long)((size_t)cnt < len ? (size_t)cnt : len));
    zpop_emit(s, NULL, &b->reply, b->proto, &k, obj_zset(*ref), ref, b->a.where != 0, b->a.count,
              (enum kv_zpop_reply)b->a.reply);
    return true;
}

/* Pop from the first non-empty key now, or block on all of them. */
static void bzpop_generic(struct kv_client *c, struct resp_arg *keys, int nkeys, long long deadline, bool max,
                          long long count, enum kv_zpop_reply shape)
{
    if (kv_zset_pop(c, keys, nkeys, max, count, shape) != 0)
        return;
    struct kv_block_args a = {.where = max, .count = count, .reply = shape};
    kv_block(c, keys, nkeys, deadline, serve_zset, &a);
}

static void bzpop_command(struct kv_client *c, int argc, struct resp_arg *argv, bool max)
{
    long long deadline;
    if (!kv_block_timeout(c, &argv[argc - 1], &deadline))
        return;
    bzpop_generic(c, &argv[1], argc - 2, deadline, max, 1, KV_ZPOP_KEY_FLAT);
}

void kv_cmd_BZPOPMIN(struct kv_client *c, int argc, struct resp_arg *argv) { bzpop_command(c, argc, argv, false); }
void kv_cmd_BZPOPMAX(struct kv_client *c, int argc, struct resp_arg *argv) { bzpop_command(c, argc, argv, true); }

void kv_cmd_BZMPOP(struct kv_client *c, int argc, struct resp_arg *argv)
{
    /* as Redis: numkeys, keys and options are checked before the timeout */
    long long numkeys, count, deadline;
    bool max;
    if (!parse_zmpop(c, argc, argv, 2, &numkeys, &max, &count))
        return;
    if (!kv_block_timeout(c, &argv[1], &deadline))
        return;
    bzpop_generic(c, &argv[3], (int)numkeys, deadline, max, count, KV_ZPOP_KEY_NESTED);
}

/* ---- ZRANDMEMBER -------------------------------------------------------------------------- */

/* Replies stop growing past this (the client is then dropped by the output
 * limits, as Redis would drop it): a count of 2^63 never loops 2^63 times. */
static void zrandmember_count(struct kv_client *c, struct resp_arg *argv, long long l, bool withscores)
{
    struct kv_zset *z;
    if (!lookup_zset(c, &argv[1], 0, &z, NULL))
        return;
    if (!z || l == 0) {
        resp_add_array(&c->out, 0);
        return;
    }
    uint64_t count = l < 0 ? (uint64_t)0 - (uint64_t)l : (uint64_t)l;
    uint64_t size = kv_zset_len(z);
    const char *m;
    size_t ml;
    double s;
    if (l < 0 || count == 1) {
        /* with repeats: independent picks */
        reply_len(c, count, withscores);
        for (uint64_t i = 0; i < count; i++) {
            if ((i & 1023) == 1023 && kv_reply_full(c))
                return;
            kv_zset_at(z, rand_below(size), &m, &ml, &s);
            reply_elem(c, m, ml, s, withscores);
        }
        return;
    }
    if (count >= size) {
        /* the whole set, highest first: Redis's set iterator walks from the tail */
        emit_ranks(c, z, size - 1, size, true, withscores, NULL);
        return;
    }
    /* distinct members: the first `count` slots of a partial Fisher-Yates
     * shuffle of the ranks (count < size, so bounded by the set) */
    uint64_t *r = xmalloc(size * sizeof *r);
    for (uint64_t i = 0; i < size; i++)
        r[i] = i;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t j = i + rand_below(size - i);
        uint64_t t = r[i];
        r[i] = r[j];
        r[j] = t;
    }
    reply_len(c, count, withscores);
    for (uint64_t i = 0; i < count; i++) {
        kv_zset_at(z, r[i], &m, &ml, &s);
        reply_elem(c, m, ml, s, withscores);
    }
    xfree(r);
}

void kv_cmd_ZRANDMEMBER(struct kv_client *c, int argc, struct resp_arg *argv)
{
    if (argc >= 3) {
        long long l;
        if (!kv_arg_ll(c, &argv[2], &l))
            return;
        if (l < -LLONG_MAX) {
            kv_reply_errorf(c, "ERR value is out of range, value must between %lld and %lld", -LLONG_MAX, LLONG_MAX);
            return;
        }
        if (argc > 4 || (argc == 4 && !kv_arg_is(&argv[3], "withscores"))) {
            kv_reply_syntax(c);
            return;
        }
        bool withscores = argc == 4;
        if (withscores && (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2)) {
            kv_reply_error(c, "ERR value is out of range");
            return;
        }
        zrandmember_count(c, argv, l, withscores);
        return;
    }
    struct kv_zset *z;
    if (!lookup_zset(c, &argv[1], 0, &z, NULL))
        return;
    if (!z) {
        resp_add_null(&c->out, c->proto);
        return;
    }
    const char *m;
    size_t ml;
    double s;
    kv_zset_at(z, rand_below(kv_zset_len(z)), &m, &ml, &s);
    resp_add_bulk(&c->out, m, ml);
}

/* ---- ZUNION ZINTER ZDIFF (and STORE) ZINTERCARD ---------------------------------------------- */

enum setop { OP_UNION, OP_INTER, OP_DIFF };
enum aggr { AGG_SUM, AGG_MIN, AGG_MAX };

struct zsrc {
    struct kv_zset *z; /* NULL: absent key (an empty input) */
    double weight;
    int idx;           /* argument order, the tie-break of the size sort */
    bool owned;        /* z is a copy made from a plain set: freed with the sources */
};

static void set_member_cb(const char *m, size_t n, void *arg)
{
    int out;
    kv_zset_add(arg, 1.0, m, n, 0, &out, NULL);
}

/*
 * One input of a set operation: a sorted set, or (as Redis) a plain set read
 * as members of score 1, copied into a temporary skiplist the size of the
 * set. Returns false after replying WRONGTYPE for any other type.
 */
static bool lookup_source(struct kv_client *c, const struct resp_arg *k, struct zsrc *out)
{
    struct kv_obj **r = kv_db_lookup_ref(DB(c), k->ptr, k->len, 0);
    out->z = NULL;
    out->owned = false;
    if (!r)
        return true;
    if (obj_type(*r) == OBJ_ZSET) {
        out->z = obj_zset(*r);
        return true;
    }
    if (obj_type(*r) == OBJ_SET) {
        struct kv_zset *z = kv_zset_new_skiplist();
        kv_set_foreach(obj_ptr(*r), set_member_cb, &z);
        out->z = z;
        out->owned = true;
        return true;
    }
    kv_reply_wrongtype(c);
    return false;
}

static void free_sources(struct zsrc *src, long long n)
{
    for (long long i = 0; i < n; i++)
        if (src[i].owned)
            kv_zset_free(src[i].z);
    xfree(src);
}

static inline uint64_t src_len(const struct zsrc *s) { return s->z ? kv_zset_len(s->z) : 0; }

static int src_cmp(const void *a, const void *b)
{
    const struct zsrc *x = a, *y = b;
    uint64_t lx = src_len(x), ly = src_len(y);
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return x->idx - y->idx;
}

/* Redis zunionInterAggregate */
static inline void aggregate(double *target, double val, enum aggr a)
{
    if (a == AGG_SUM) {
        *target = *target + val;
        if (isnan(*target))
            *target = 0.0;
    } else if (a == AGG_MIN) {
        *target = val < *target ? val : *target;
    } else {
        *target = val > *target ? val : *target;
    }
}

/*
 * Redis zunionInterDiffGenericCommand. argv[numkeys_idx] counts the keys
 * that follow it; dst (the *STORE forms) receives the result; card_only is
 * ZINTERCARD.
 */
static void zsetop_generic(struct kv_client *c, int argc, struct resp_arg *argv, const struct resp_arg *dst,
                           int numkeys_idx, enum setop op, bool card_only, const char *cmdname)
{
    long long setnum;
    if (!kv_arg_ll(c, &argv[numkeys_idx], &setnum))
        return;
    if (setnum < 1) {
        kv_reply_errorf(c, "ERR at least 1 input key is needed for '%s' command", cmdname);
        return;
    }
    if (setnum > argc - (numkeys_idx + 1)) {
        kv_reply_syntax(c);
        return;
    }
    struct zsrc *src = xmalloc((size_t)setnum * sizeof *src);
    int j = numkeys_idx + 1;
    for (long long i = 0; i < setnum; i++, j++) {
        if (!lookup_source(c, &argv[j], &src[i])) {
            free_sources(src, i);
            return;
        }
        src[i].weight = 1.0;
        src[i].idx = (int)i;
    }
    enum aggr agg = AGG_SUM;
    bool withscores = false;
    long long limit = 0;
    while (j < argc) {
        int remaining = argc - j;
        if (op != OP_DIFF && !card_only && remaining >= setnum + 1 && kv_arg_is(&argv[j], "weights")) {
            j++;
            for (long long i = 0; i < setnum; i++, j++) {
                if (!kv_arg_double(c, &argv[j], &src[i].weight, "ERR weight value is not a float")) {
                    free_sources(src, setnum);
                    return;
                }
            }
        } else if (op != OP_DIFF && !card_only && remaining >= 2 && kv_arg_is(&argv[j], "aggregate")) {
            j++;
            if (kv_arg_is(&argv[j], "sum")) {
                agg = AGG_SUM;
            } else if (kv_arg_is(&argv[j], "min")) {
                agg = AGG_MIN;
            } else if (kv_arg_is(&argv[j], "max")) {
                agg = AGG_MAX;
            } else {
                free_sources(src, setnum);
                kv_reply_syntax(c);
                return;
            }
            j++;
        } else if (!dst && !card_only && kv_arg_is(&argv[j], "withscores")) {
            j++;
            withscores = true;
        } else if (card_only && remaining >= 2 && kv_arg_is(&argv[j], "limit")) {
            j++;
            if (!util_str2ll(argv[j].ptr, argv[j].len, &limit) || limit < 0) {
                free_sources(src, setnum);
                kv_reply_error(c, "ERR LIMIT can't be negative");
                return;
            }
            j++;
        } else {
            free_sources(src, setnum);
            kv_reply_syntax(c);
            return;
        }
    }
    if (op != OP_DIFF)
        qsort(src, (size_t)setnum, sizeof *src, src_cmp);

    /* a skiplist, as Redis builds it (a reply shows its -0 scores), converted
     * at the end when it fits the packed limits and is stored */
    struct kv_zset *res = kv_zset_new_skiplist();
    uint64_t card = 0;
    struct zset_iter it;
    const char *m;
    size_t ml;
    double s;
    int out;

    if (op == OP_INTER) {
        if (src_len(&src[0]) > 0) {
            kv_zset_iter_init(&it, src[0].z, 0, false);
            while (kv_zset_iter_next(&it, &m, &ml, &s)) {
                double score = src[0].weight * s, value;
                if (isnan(score))
                    score = 0;
                long long k;
                for (k = 1; k < setnum; k++) {
                    if (src[k].z == src[0].z) {
                        value = s * src[k].weight;
                        aggregate(&score, value, agg);
                    } else if (kv_zset_score(src[k].z, m, ml, &value)) {
                        value *= src[k].weight;
                        aggregate(&score, value, agg);
                    } else {
                        break;
                    }
                }
                if (k == setnum) {
                    if (card_only) {
                        card++;
                        if (limit && card >= (uint64_t)limit)
                            break;
                    } else {
                        kv_zset_add(&res, score, m, ml, 0, &out, NULL);
                    }
                }
            }
            kv_zset_iter_done(&it);
        }
    } else if (op == OP_UNION) {
        for (long long i = 0; i < setnum; i++) {
            if (src_len(&src[i]) == 0)
                continue;
            kv_zset_iter_init(&it, src[i].z, 0, false);
            while (kv_zset_iter_next(&it, &m, &ml, &s)) {
                double score = src[i].weight * s, cur;
                if (isnan(score))
                    score = 0;
                if (kv_zset_score(res, m, ml, &cur)) {
                    aggregate(&cur, score, agg);
                    score = cur;
                }
                kv_zset_add(&res, score, m, ml, ZSET_IN_EXACT, &out, NULL);
            }
            kv_zset_iter_done(&it);
        }
    } else if (src_len(&src[0]) > 0) {
        /* DIFF: the members of the first set found in none of the others */
        kv_zset_iter_init(&it, src[0].z, 0, false);
        while (kv_zset_iter_next(&it, &m, &ml, &s)) {
            long long k;
            double v;
            for (k = 1; k < setnum; k++)
                if (src[k].z == src[0].z || (src[k].z && kv_zset_score(src[k].z, m, ml, &v)))
                    break;
            if (k == setnum)
                kv_zset_add(&res, s, m, ml, 0, &out, NULL);
        }
        kv_zset_iter_done(&it);
    }
    free_sources(src, setnum);

    if (card_only) {
        kv_zset_free(res);
        resp_add_int(&c->out, (long long)card);
    } else if (dst) {
        kv_zset_shrink_if_fits(&res);
        resp_add_int(&c->out, store_zset(c, dst, res));
    } else {
        emit_ranks(c, res, 0, kv_zset_len(res), false, withscores, NULL);
        kv_zset_free(res);
    }
}

void kv_cmd_ZUNION(struct kv_client *c, int argc, struct resp_arg *argv)
{
    zsetop_generic(c, argc, argv, NULL, 1, OP_UNION, false, "zunion");
}
void kv_cmd_ZINTER(struct kv_client *c, int argc, struct resp_arg *argv)
{
    zsetop_generic(c, argc, argv, NULL, 1, OP_INTER, false, "zinter");
}
void kv_cmd_ZDIFF(struct kv_client *c, int argc, struct resp_arg *argv)
{
    zsetop_generic(c, argc, argv, NULL, 1, OP_DIFF, false, "zdiff");
}
void kv_cmd_ZUNIONSTORE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    zsetop_generic(c, argc, argv, &argv[1], 2, OP_UNION, false, "zunionstore");
}
void kv_cmd_ZINTERSTORE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    zsetop_generic(c, argc, argv, &argv[1], 2, OP_INTER, false, "zinterstore");
}
void kv_cmd_ZDIFFSTORE(struct kv_client *c, int argc, struct resp_arg *argv)
{
    zsetop_generic(c, argc, argv, &argv[1], 2, OP_DIFF, false, "zdiffstore");
}
void kv_cmd_ZINTERCARD(struct kv_client *c, int argc, struct resp_arg *argv)
{
    zsetop_generic(c, argc, argv, NULL, 1, OP_INTER, true, "zintercard");
}

/* ---- ZSCAN ------------------------------------------------------------------------------------- */

struct scan_item {
    const char *m;
    size_t ml;
    double s;
};

struct scan_vec {
    struct scan_item *v;
    size_t n, cap;
};

static void scan_collect(const char *m, size_t ml, double s, void *arg)
{
    struct scan_vec *sv = arg;
    if (sv->n == sv->cap) {
        sv->cap = sv->cap ? sv->cap * 2 : 16;
        sv->v = xrealloc(sv->v, sv->cap * sizeof *sv->v);
    }
    sv->v[sv->n++] = (struct scan_item){m, ml, s};
}

void kv_cmd_ZSCAN(struct kv_client *c, int argc, struct resp_arg *argv)
{
    uint64_t cursor;
    struct kv_zset *z;
    if (!kv_arg_cursor(&argv[2], &cursor)) {
        kv_reply_error(c, "ERR invalid cursor");
        return;
    }
    if (!lookup_zset(c, &argv[1], 0, &z, NULL))
        return;
    if (!z) {
        kv_reply_empty_scan(c);
        return;
    }
    long long count = ZSCAN_DEFAULT_COUNT;
    const struct resp_arg *pat;
    if (!kv_scan_opts(c, argc, argv, 3, &count, &pat))
        return;
    struct scan_vec sv = {0};
    if (kv_zset_is_packed(z)) {
        cursor = kv_zset_scan(z, 0, scan_collect, &sv);
    } else {
        /* a member and its score count as two elements against COUNT, as in Redis */
        long long maxiter = count > LLONG_MAX / 10 ? LLONG_MAX : count * 10;
        do {
            cursor = kv_zset_scan(z, cursor, scan_collect, &sv);
        } while (cursor && maxiter-- && (unsigned long long)sv.n * 2 < (unsigned long long)count);
    }
    size_t kept = 0;
    for (size_t i = 0; i < sv.n; i++)
        if (!pat || util_glob_match(pat->ptr, pat->len, sv.v[i].m, sv.v[i].ml, false))
            sv.v[kept++] = sv.v[i];
    char cbuf[24];
    size_t cl = util_ull2str(cbuf, cursor);
    resp_add_array(&c->out, 2);
    resp_add_bulk(&c->out, cbuf, cl);
    resp_add_array(&c->out, (long long)kept * 2);
    for (size_t i = 0; i < kept; i++) {
        char sb[UTIL_D_STR_MAX];
        resp_add_bulk(&c->out, sv.v[i].m, sv.v[i].ml);
        resp_add_bulk(&c->out, sb, util_d2str(sb, sizeof sb, sv.v[i].s));
    }
    xfree(sv.v);
}
