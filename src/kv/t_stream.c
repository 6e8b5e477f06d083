/*
 * t_stream.c — stream commands: XADD XLEN XRANGE XREVRANGE XREAD XDEL XTRIM
 * XSETID XGROUP XREADGROUP XACK XPENDING XCLAIM XAUTOCLAIM XINFO. Replies,
 * option parsing order and error texts are Redis 7.0's (src/t_stream.c);
 * the data structure is streamobj.c's business.
 *
 * XREAD/XREADGROUP BLOCK wait through blocking.c: the serve callback runs
 * when the key is signalled (an XADD changes it in place: db_modified
 * signals; a DEL or a replacement too), under the keyspace lock, and writes
 * its reply into the waiter's buffer. A waiter of XREADGROUP whose key went
 * away, or whose group did, gets Redis's error at once.
 *
 * Runs with the keyspace lock held (see server.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/util.h"
#include "kv/blocking.h"
#include "kv/pubsub.h"
#include "kv/reply.h"
#include "kv/streamobj.h"


/* now - t for times a client or a payload chose (XCLAIM IDLE, TIME, RESTORE
 * of a stream): wraps like the two's-complement arithmetic Redis relies on,
 * without signed overflow; callers clamp the result where Redis does. */
static inline long long ms_since(long long now, long long t)
{
    return (long long)((unsigned long long)now - (unsigned long long)t);
}

static inline struct kv_db *DB(struct kv_client *c) { return &c->srv->db; }

static const char ERR_INVALID_ID[] = "ERR Invalid stream ID specified as stream command argument";

/* Redis's mstime(): ids and delivery times use the wall clock. */
static long long now_ms(void) { return util_time_ms(); }

/* ---- ids -------------------------------------------------------------------- */

/* Redis string2ull on a C string: string2ll, else strtoull (which takes
 * leading spaces and a sign, as Redis then accepts). */
static bool parse_u64(const char *s, uint64_t *out)
{
    long long ll;
    if (util_str2ll(s, strlen(s), &ll)) {
        if (ll < 0)
            return false;
        *out = (uint64_t)ll;
        return true;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long u = strtoull(s, &end, 10);
    if (errno == EINVAL || errno == ERANGE || !(*s != '\0' && *end == '\0'))
        return false;
    *out = u;
    return true;
}

/*
 * Redis streamGenericParseIDOrReply, on the argument as a C string (an
 * embedded NUL ends it, as there). strict: "-" and "+" are refused.
 * seq_given non-NULL: "<ms>-*" is accepted and sets *seq_given false.
 * Replies (when c) and returns false on error.
 */
static bool parse_id(struct kv_client *c, const struct resp_arg *a, struct stream_id *id, uint64_t missing_seq,
                     bool strict, bool *seq_given)
{
    char buf[128];
    if (seq_given)
        *seq_given = true;
    if (a->len > sizeof buf - 1)
        goto invalid;
    memcpy(buf, a->ptr, a->len);
    buf[a->len] = '\0';
    if (strict && (buf[0] == '-' || buf[0] == '+') && buf[1] == '\0')
        goto invalid;
    if (buf[0] == '-' && buf[1] == '\0') {
        *id = (struct stream_id){0, 0};
        return true;
    }
    if (buf[0] == '+' && buf[1] == '\0') {
        *id = (struct stream_id){UINT64_MAX, UINT64_MAX};
        return true;
    }
    char *dot = strchr(buf, '-');
    if (dot)
        *dot = '\0';
    uint64_t ms, seq;
    if (!parse_u64(buf, &ms))
        goto invalid;
    if (dot) {
        if (seq_given && dot[1] == '*' && dot[2] == '\0') {
            seq = 0;
            *seq_given = false;
        } else if (!parse_u64(dot + 1, &seq)) {
            goto invalid;
        }
    } else {
        seq = missing_seq;
    }
    id->ms = ms;
    id->seq = seq;
    return true;
invalid:
    if (c)
        kv_reply_error(c, ERR_INVALID_ID);
    return false;
}

static bool parse_strict(struct kv_client *c, const struct resp_arg *a, struct stream_id *id, bool *seq_given)
{
    return parse_id(c, a, id, 0, true, seq_given);
}

/* Redis streamParseIntervalIDOrReply: "(id" is exclusive. */
static bool parse_interval(struct kv_client *c, const struct resp_arg *a, struct stream_id *id, bool *ex,
                           uint64_t missing_seq)
{
    *ex = a->len > 1 && a->ptr[0] == '(';
    if (*ex) {
        struct resp_arg t = {.ptr = a->ptr + 1, .len = a->len - 1};
        return parse_id(c, &t, id, missing_seq, true, NULL);
    }
    return parse_id(c, a, id, missing_seq, false, NULL);
}

static void add_id(struct buf *o, const struct stream_id *id)
{
    char s[44];
    size_t n = kv_stream_id_fmt(s, id);
    resp_add_bulk(o, s, n);
}

/* ---- lookups ------------------------------------------------------------------ */

/* false after WRONGTYPE; *s NULL when absent. */
static bool lookup_stream(struct kv_client *c, const struct resp_arg *k, int flags, struct kv_stream **s)
{
    struct kv_obj *o = db_lookup(DB(c), k->ptr, k->len, flags);
    *s = NULL;
    if (!o)
        return true;
    if (obj_type(o) != OBJ_STREAM) {
        kv_reply_wrongtype(c);
        return false;
    }
    *s = obj_ptr(o);
    return true;
}

static struct kv_stream *create_stream(struct kv_client *c, const struct resp_arg *k)
{
    struct kv_stream *s = kv_stream_new();
    kv_db_add(DB(c), kv_obj_new_ptr(k->ptr, k->len, OBJ_STREAM, s, -1));
    return s;
}

/* ---- entry replies -------------------------------------------------------------- */

/* [id, [f, v, ...]] for the iterator's current entry. */
static void emit_entry(struct buf *o, struct stream_iter *it, const struct stream_id *id, uint64_t nf)
{
    resp_add_array(o, 2);
    add_id(o, id);
    resp_add_array(o, (long long)(nf * 2));
    for (uint64_t i = 0; i < nf; i++) {
        struct stream_str f, v;
        kv_stream_iter_field(it, &f, &v);
        resp_add_bulk(o, f.p, f.n);
        resp_add_bulk(o, v.p, v.n);
    }
}

/* Emit one entry by id; false (nothing written) when it is not in the stream. */
static bool emit_entry_by_id(struct buf *o, const struct kv_stream *s, const struct stream_id *id)
{
    struct stream_iter it;
    struct stream_id got;
    uint64_t nf;
    kv_stream_iter_init(&it, s, id, id, false);
    if (!kv_stream_iter_next(&it, &got, &nf))
        return false;
    emit_entry(o, &it, &got, nf);
    return true;
}

static bool entry_exists(const struct kv_stream *s, const struct stream_id *id)
{
    struct stream_iter it;
    struct stream_id got;
    uint64_t nf;
    kv_stream_iter_init(&it, s, id, id, false);
    return kv_stream_iter_next(&it, &got, &nf);
}

/*
 * Replies whose length is known only at the end are written in place, so
 * that kv_reply_full sees them grow (a huge XRANGE stops at the output
 * limit instead of doubling in a side buffer): remember buf_pending(o) as
 * the mark, write the items, then insert the header there.
 */
static void insert_header(struct buf *o, size_t mark, const struct buf *hdr)
{
    size_t hl = buf_pending(hdr);
    buf_reserve(o, hl);
    char *at = buf_head(o) + mark;
    memmove(at + hl, at, buf_pending(o) - mark);
    memcpy(at, buf_head(hdr), hl);
    o->len += hl;
}

static void insert_array_len(struct buf *o, size_t mark, long long n)
{
    struct buf h;
    buf_init(&h);
    resp_add_array(&h, n);
    insert_header(o, mark, &h);
    buf_deinit(&h);
}

struct range_ctx {
    struct kv_client *c; /* for kv_reply_full, may be NULL */
    struct kv_stream *s;
    struct stream_cg *g;
    struct stream_consumer *consumer;
    bool noack;
};

/*
 * Redis streamReplyWithRange: entries from start to end (count 0: all) as
 * an array into o. With a group: the group's last id and read counter
 * advance and NACKs are created (unless noack). Returns the entries emitted.
 */
static uint64_t reply_range(struct buf *o, struct range_ctx *x, const struct stream_id *start,
                            const struct stream_id *end, uint64_t count, bool rev)
{
    size_t mark = buf_pending(o);
    struct stream_iter it;
    struct stream_id id;
    uint64_t nf, n = 0;
    struct kv_stream *s = x->s;
    struct stream_cg *g = x->g;
    long long now = g ? now_ms() : 0;
    kv_stream_iter_init(&it, s, start, end, rev);
    while (kv_stream_iter_next(&it, &id, &nf)) {
        if (g && stream_id_cmp(&id, &g->last_id) > 0) {
            if (g->entries_read != STREAM_ENTRIES_READ_INVALID && !kv_stream_range_has_tombstones(s, &id, NULL))
                g->entries_read++;
            else if (s->entries_added)
                g->entries_read = kv_stream_estimate_distance(s, &id);
            g->last_id = id;
        }
        emit_entry(o, &it, &id, nf);
        if (g && !x->noack) {
            struct stream_nack *na = kv_stream_pel_find(g, &id);
            if (na) {
                kv_stream_nack_set_owner(na, x->consumer);
                na->delivery_time = now;
                na->delivery_count = 1;
            } else {
                kv_stream_pel_add(g, &id, x->consumer, now);
            }
        }
        n++;
        if (count && n == count)
            break;
        if (x->c && (n & 1023) == 0 && kv_reply_full(x->c))
            break;
    }
    insert_array_len(o, mark, (long long)n);
    return n;
}

/* Redis streamReplyWithRangeFromConsumerPEL: a consumer's history. */
static void reply_consumer_history(struct buf *o, struct kv_stream *s, struct stream_cg *g,
                                   struct stream_consumer *cons, const struct stream_id *start, uint64_t count)
{
    size_t mark = buf_pending(o);
    uint64_t n = 0;
    long long now = now_ms();
    for (size_t i = kv_stream_pel_lower_bound(g, start); i < g->npel && (!count || n < count); i++) {
        struct stream_nack *na = &g->pel[i];
        if (na->consumer != cons)
            continue;
        if (!emit_entry_by_id(o, s, &na->id)) {
            resp_add_array(o, 2);
            add_id(o, &na->id);
            resp_add_null_array(o, 2); /* Redis: *-1 in both protocols here */
        } else {
            na->delivery_time = now;
            na->delivery_count++;
        }
        n++;
    }
    insert_array_len(o, mark, (long long)n);
}

/* ---- XADD XTRIM ----------------------------------------------------------------- */

struct trim_args {
    int strategy; /* 0 none */
    bool approx;
    long long maxlen;
    struct stream_id minid;
    long long limit;
    bool nomkstream;
    bool id_given, seq_given;
    struct stream_id id;
};

/* Redis streamParseAddOrTrimArgsOrReply: returns the id position (XADD) or
 * argc (XTRIM), -1 after replying. */
static int parse_add_trim(struct kv_client *c, int argc, struct resp_arg *argv, struct trim_args *a, bool xadd)
{
    memset(a, 0, sizeof *a);
    bool limit_given = false;
    int i = 2;
    for (; i < argc; i++) {
        int more = argc - 1 - i;
        const struct resp_arg *opt = &argv[i];
        if (xadd && opt->len == 1 && opt->ptr[0] == '*') {
            break;
        } else if (kv_arg_is(opt, "maxlen") && more) {
            if (a->strategy) {
                kv_reply_error(c, "ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
                return -1;
            }
            a->approx = false;
            const struct resp_arg *next = &argv[i + 1];
            if (more >= 2 && next->len == 1 && next->ptr[0] == '~') {
                a->approx = true;
                i++;
            } else if (more >= 2 && next->len == 1 && next->ptr[0] == '=') {
                i++;
            }
            if (!kv_arg_ll(c, &argv[i + 1], &a->maxlen))
                return -1;
            if (a->maxlen < 0) {
                kv_reply_error(c, "ERR The MAXLEN argument must be >= 0.");
                return -1;
            }
            i++;
            a->strategy = STREAM_TRIM_MAXLEN;
        } else if (kv_arg_is(opt, "minid") && more) {
            if (a->strategy) {
                kv_reply_error(c, "ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
                return -1;
            }
            a->approx = false;
            const struct resp_arg *next = &argv[i + 1];
            if (more >= 2 && next->len == 1 && next->ptr[0] == '~') {
                a->approx = true;
                i++;
            } else if (more >= 2 && next->len == 1 && next->ptr[0] == '=') {
                i++;
            }
            if (!parse_strict(c, &argv[i + 1], &a->minid, NULL))
                return -1;
            i++;
            a->strategy = STREAM_TRIM_MINID;
        } else if (kv_arg_is(opt, "limit") && more) {
            if (!kv_arg_ll(c, &argv[i + 1], &a->limit))
                return -1;
            if (a->limit < 0) {
                kv_reply_error(c, "ERR The LIMIT argument must be >= 0.");
                return -1;
            }
            limit_given = true;
            i++;
        } else if (xadd && kv_arg_is(opt, "nomkstream")) {
            a->nomkstream = true;
        } else if (xadd) {
            if (!parse_strict(c, opt, &a->id, &a->seq_given))
                return -1;
            a->id_given = true;
            break;
        } else {
            kv_reply_syntax(c);
            return -1;
        }
    }
    if (a->limit && !a->strategy) {
        kv_reply_error(c, "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
        return -1;
    }
    if (!xadd && !a->strategy) {
        kv_reply_error(c, "ERR syntax error, XTRIM must be called with a trimming strategy");
        return -1;
    }
    if (limit_given) {
        if (!a->approx) {
            kv_reply_error(c, "ERR syntax error, LIMIT cannot be used without the special ~ option");
            return -1;
        }
    } else {
        a->limit = a->approx ? 100 * STREAM_NODE_MAX_ENTRIES : 0;
    }
    return i;
}

static uint64_t do_trim(struct kv_stream *s, const struct trim_args *a)
{
    if (!a->strategy)
        return 0;
    return kv_stream_trim(s, a->strategy, (uint64_t)a->maxlen, &a->minid, a->approx, (uint64_t)a->limit);
}

/* Most bytes one entry may hold (fields and values together). */
#define STREAM_ENTRY_MAX (512ULL * 1024 * 1024)

void kv_cmd_XADD(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct trim_args a;
    int idpos = parse_add_trim(c, argc, argv, &a, true);
    if (idpos < 0)
        return;
    int fpos = idpos + 1;
    if (argc - fpos < 2 || (argc - fpos) % 2 == 1) {
        kv_reply_arity(c, "xadd");
        return;
    }
    if (a.id_given && a.seq_given && stream_id_is_zero(&a.id)) {
        kv_reply_error(c, "ERR The ID specified in XADD must be greater than 0-0");
        return;
    }
    unsigned long long total = 0;
    for (int i = fpos; i < argc; i++)
        total += argv[i].len;
    if (total > STREAM_ENTRY_MAX) {
        kv_reply_error(c, "ERR Elements are too large to be stored");
        return;
    }
    struct kv_stream *s;
    if (!lookup_stream(c, &argv[1], LOOKUP_WRITE, &s))
        return;
    if (!s && a.nomkstream) {
        resp_add_null(&c->out, c->proto);
        return;
    }
    struct stream_id last = s ? s->last_id : (struct stream_id){0, 0};
    if (last.ms == UINT64_MAX && last.seq == UINT64_MAX) {
        kv_reply_error(c, "ERR The stream has exhausted the last possible ID, unable to add more items");
        return;
    }
    struct stream_id id;
    if (a.id_given) {
        if (a.seq_given) {
            id = a.id;
        } else if (last.ms == a.id.ms) {
            if (last.seq == UINT64_MAX) {
                kv_reply_error(c, "ERR The ID specified in XADD is equal or smaller than the target stream top item");
                return;
            }
            id = last;
            id.seq++;
        } else {
            id = a.id;
        }
    } else {
        uint64_t ms = (uint64_t)now_ms();
        if (ms > last.ms) {
            id = (struct stream_id){ms, 0};
        } else {
            id = last;
            kv_stream_id_incr(&id);
        }
    }
    if (stream_id_cmp(&id, &last) <= 0) {
        kv_reply_error(c, "ERR The ID specified in XADD is equal or smaller than the target stream top item");
        return;
    }
    if (!s)
        s = create_stream(c, &argv[1]);
    size_t nf = (size_t)(argc - fpos) / 2;
    struct stream_str stack[32];
    struct stream_str *kv = nf * 2 <= 32 ? stack : xmalloc(nf * 2 * sizeof *kv);
    for (size_t i = 0; i < nf * 2; i++)
        kv[i] = (struct stream_str){argv[fpos + (int)i].ptr, argv[fpos + (int)i].len};
    kv_stream_append(s, &id, kv, nf);
    if (kv != stack)
        xfree(kv);
    add_id(&c->out, &id);
    c->srv->dirty++;
    kv_notify(c, KV_NOTIFY_STREAM, "xadd", argv[1].ptr, argv[1].len);
    if (do_trim(s, &a))
        kv_notify(c, KV_NOTIFY_STREAM, "xtrim", argv[1].ptr, argv[1].len);
    db_modified(DB(c), argv[1].ptr, argv[1].len);
    kv_blocking_signal(c->srv, argv[1].ptr, argv[1].len);
}

void kv_cmd_XTRIM(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct trim_args a;
    if (parse_add_trim(c, argc, argv, &a, false) < 0)
        return;
    struct kv_stream *s;
    if (!lookup_stream(c, &argv[1], LOOKUP_WRITE, &s))
        return;
    uint64_t deleted = s ? do_trim(s, &a) : 0;
    if (deleted) {
        db_modified(DB(c), argv[1].ptr, argv[1].len);
        kv_notify(c, KV_NOTIFY_STREAM, "xtrim", argv[1].ptr, argv[1].len);
        c->srv->dirty += deleted;
    }
    resp_add_int(&c->out, (long long)deleted);
}

void kv_cmd_XLEN(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    struct kv_stream *s;
    if (!lookup_stream(c, &argv[1], 0, &s))
        return;
    resp_add_int(&c->out, s ? (long long)s->length : 0);
}

void kv_cmd_XDEL(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_stream *s;
    if (!lookup_stream(c, &argv[1], LOOKUP_WRITE, &s))
        return;
    if (!s) {
        resp_add_int(&c->out, 0);
        return;
    }
    int n = argc - 2;
    struct stream_id *ids = xmalloc((size_t)n * sizeof *ids);
    for (int j = 0; j < n; j++) {
        if (!parse_strict(c, &argv[j + 2], &ids[j], NULL)) {
            xfree(ids);
            return;
        }
    }
    long long deleted = 0;
    for (int j = 0; j < n; j++) {
        if (kv_stream_delete(s, &ids[j])) {
            if (stream_id_cmp(&ids[j], &s->max_deleted_id) > 0)
                s->max_deleted_id = ids[j];
            deleted++;
        }
    }
    xfree(ids);
    if (deleted) {
        db_modified(DB(c), argv[1].ptr, argv[1].len);
        kv_notify(c, KV_NOTIFY_STREAM, "xdel", argv[1].ptr, argv[1].len);
        c->srv->dirty += (uint64_t)deleted;
    }
    resp_add_int(&c->out, deleted);
}

/* ---- XRANGE XREVRANGE ------------------------------------------------------------- */

static void xrange_generic(struct kv_client *c, int argc, struct resp_arg *argv, bool rev)
{
    struct stream_id start, end;
    bool startex, endex;
    long long count = -1;
    if (!parse_interval(c, &argv[rev ? 3 : 2], &start, &startex, 0))
        return;
    if (startex && !kv_stream_id_incr(&start)) {
        kv_reply_error(c, "ERR invalid start ID for the interval");
        return;
    }
    if (!parse_interval(c, &argv[rev ? 2 : 3], &end, &endex, UINT64_MAX))
        return;
    if (endex && !kv_stream_id_decr(&end)) {
        kv_reply_error(c, "ERR invalid end ID for the interval");
        return;
    }
    for (int j = 4; j < argc; j++) {
        if (kv_arg_is(&argv[j], "count") && argc - j - 1 >= 1) {
            if (!kv_arg_ll(c, &argv[j + 1], &count))
                return;
            if (count < 0)
                count = 0;
            j++;
        } else {
            kv_reply_syntax(c);
            return;
        }
    }
    struct kv_stream *s;
    if (!lookup_stream(c, &argv[1], 0, &s))
        return;
    if (!s) {
        resp_add_array(&c->out, 0);
        return;
    }
    if (count == 0) {
        resp_add_null_array(&c->out, c->proto);
        return;
    }
    struct range_ctx x = {.c = c, .s = s};
    reply_range(&c->out, &x, &start, &end, count == -1 ? 0 : (uint64_t)count, rev);
}

void kv_cmd_XRANGE(struct kv_client *c, int argc, struct resp_arg *argv) { xrange_generic(c, argc, argv, false); }
void kv_cmd_XREVRANGE(struct kv_client *c, int argc, struct resp_arg *argv) { xrange_generic(c, argc, argv, true); }

/* ---- XREAD XREADGROUP ---------------------------------------------------------------- */

/* What a blocked XREAD/XREADGROUP waits for (kv_block_args.priv). */
struct xread_wait {
    int nkeys;
    struct resp_arg *keys;     /* copies (owned) */
    struct stream_id *ids;     /* per key: entries after this; UINT64_MAX-UINT64_MAX = ">" */
    uint64_t count;
    bool noack;
    char *group, *consumer;    /* NULL for XREAD */
    size_t glen, clen;
};

static void xread_wait_free(void *p)
{
    struct xread_wait *w = p;
    for (int i = 0; i < w->nkeys; i++)
        xfree((void *)w->keys[i].ptr);
    xfree(w->keys);
    xfree(w->ids);
    xfree(w->group);
    xfree(w->consumer);
    xfree(w);
}

/* blocking.c callback: serve waiter b from the stream now at key, if it has new entries. */
static bool serve_stream(struct kv_server *srv, struct kv_blocked *b, const char *key, size_t klen)
{
    struct xread_wait *w = b->a.priv;
    int k = 0;
    while (k < w->nkeys && !(w->keys[k].len == klen && memcmp(w->keys[k].ptr, key, klen) == 0))
        k++;
    if (k == w->nkeys)
        return false;
    struct kv_obj *o = db_lookup(&srv->db, key, klen, LOOKUP_WRITE | LOOKUP_NOTOUCH);
    if (!o || obj_type(o) != OBJ_STREAM) {
        if (w->group) {
            resp_add_errorf(&b->reply, "UNBLOCKED the stream key no longer exists");
            return true;
        }
        return false;
    }
    struct kv_stream *s = obj_ptr(o);
    struct stream_cg *g = NULL;
    struct stream_id gt = w->ids[k];
    if (w->group) {
        g = kv_stream_cg_find(s, w->group, w->glen);
        if (!g) {
            resp_add_errorf(&b->reply, "NOGROUP the consumer group this client was blocked on no longer exists");
            return true;
        }
        gt = g->last_id;
    }
    struct stream_id maxid;
    if (!kv_stream_last_valid_id(s, &maxid) || stream_id_cmp(&maxid, &gt) <= 0)
        return false;
    struct stream_consumer *cons = NULL;
    if (g) {
        long long now = now_ms();
        cons = kv_stream_consumer_find(g, w->consumer, w->clen);
        if (!cons) {
            cons = kv_stream_consumer_create(g, w->consumer, w->clen, now);
            kv_notify_db(srv, srv->db.id, KV_NOTIFY_STREAM, "xgroup-createconsumer", key, klen);
        }
        cons->seen_time = now;
    }
    struct stream_id start = gt;
    kv_stream_id_incr(&start);
    /* RESP2: [[key, entries]]; RESP3: {key: entries} */
    if (b->proto == 2) {
        resp_add_array(&b->reply, 1);
        resp_add_array(&b->reply, 2);
    } else {
        resp_add_map(&b->reply, 3, 1);
    }
    resp_add_bulk(&b->reply, key, klen);
    struct range_ctx x = {.s = s, .g = g, .consumer = cons, .noack = w->noack};
    reply_range(&b->reply, &x, &start, NULL, w->count, false);
    if (g)
        srv->dirty++;
    return true;
}

static void xread_generic(struct kv_client *c, int argc, struct resp_arg *argv, bool group_cmd)
{
    long long timeout = -1, deadline = 0, count = 0;
    int streams_arg = 0, nstreams = 0;
    bool noack = false;
    const struct resp_arg *gname = NULL, *cname = NULL;
    for (int i = 1; i < argc; i++) {
        int more = argc - i - 1;
        const struct resp_arg *o = &argv[i];
        if (kv_arg_is(o, "block") && more) {
            i++;
            /* Redis: milliseconds, getTimeoutFromObjectOrReply */
            long long ms;
            if (!kv_arg_ll_msg(c, &argv[i], &ms, "ERR timeout is not an integer or out of range"))
                return;
            if (ms < 0) {
                kv_reply_error(c, "ERR timeout is negative");
                return;
            }
            timeout = ms;
        } else if (kv_arg_is(o, "count") && more) {
            i++;
            if (!kv_arg_ll(c, &argv[i], &count))
                return;
            if (count < 0)
                count = 0;
        } else if (kv_arg_is(o, "streams") && more) {
            streams_arg = i + 1;
            nstreams = argc - streams_arg;
            if (nstreams % 2 != 0) {
                /* Redis 7.0 says XREAD and '$' for both commands */
                kv_reply_error(c, "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be "
                                  "specified.");
                return;
            }
            nstreams /= 2;
            break;
        } else if (kv_arg_is(o, "group") && more >= 2) {
            if (!group_cmd) {
                kv_reply_error(c, "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
                return;
            }
            gname = &argv[i + 1];
            cname = &argv[i + 2];
            i += 2;
        } else if (kv_arg_is(o, "noack")) {
            if (!group_cmd) {
                kv_reply_error(c, "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
                return;
            }
            noack = true;
        } else {
            kv_reply_syntax(c);
            return;
        }
    }
    if (streams_arg == 0) {
        kv_reply_syntax(c);
        return;
    }
    if (group_cmd && !gname) {
        kv_reply_error(c, "ERR Missing GROUP option for XREADGROUP");
        return;
    }
    struct stream_id *ids = xmalloc((size_t)nstreams * sizeof *ids);
    struct stream_cg **groups = gname ? xcalloc((size_t)nstreams, sizeof *groups) : NULL;
    for (int i = streams_arg + nstreams; i < argc; i++) {
        int idx = i - streams_arg - nstreams;
        const struct resp_arg *key = &argv[i - nstreams];
        struct kv_stream *s;
        if (!lookup_stream(c, key, 0, &s))
            goto cleanup;
        if (gname) {
            if (!s || !(groups[idx] = kv_stream_cg_find(s, gname->ptr, gname->len))) {
                kv_reply_errorf(c, "NOGROUP No such key '%.*s' or consumer group '%.*s' in XREADGROUP with GROUP option",
                                (int)key->len, key->ptr, (int)gname->len, gname->ptr);
                goto cleanup;
            }
        }
        const struct resp_arg *a = &argv[i];
        if (a->len == 1 && a->ptr[0] == '$') {
            if (group_cmd) {
                kv_reply_error(c, "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the "
                                  "history of this consumer by specifying a proper ID, or use the > ID to get new "
                                  "messages. The $ ID would just return an empty result set.");
                goto cleanup;
            }
            ids[idx] = s ? s->last_id : (struct stream_id){0, 0};
            continue;
        } else if (a->len == 1 && a->ptr[0] == '>') {
            if (!group_cmd) {
                kv_reply_error(c, "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
                                  "<consumer> option.");
                goto cleanup;
            }
            ids[idx] = (struct stream_id){UINT64_MAX, UINT64_MAX};
            continue;
        }
        if (!parse_strict(c, a, &ids[idx], NULL))
            goto cleanup;
    }
    /* serve what can be served now */
    int served = 0;
    size_t mark = buf_pending(&c->out);
    long long now = now_ms();
    for (int i = 0; i < nstreams; i++) {
        struct kv_stream *s;
        struct kv_obj *o = db_lookup(DB(c), argv[streams_arg + i].ptr, argv[streams_arg + i].len, LOOKUP_NOTOUCH);
        if (!o)
            continue;
        s = obj_ptr(o);
        struct stream_id gt = ids[i];
        bool sync = false, history = false;
        struct stream_consumer *cons = NULL;
        if (groups) {
            if (gt.ms != UINT64_MAX || gt.seq != UINT64_MAX) {
                sync = history = true;
            } else if (s->length) {
                struct stream_id maxid;
                kv_stream_last_valid_id(s, &maxid);
                if (stream_id_cmp(&maxid, &groups[i]->last_id) > 0) {
                    sync = true;
                    gt = groups[i]->last_id;
                }
            }
        } else if (s->length) {
            struct stream_id maxid;
            kv_stream_last_valid_id(s, &maxid);
            sync = stream_id_cmp(&maxid, &gt) > 0;
        }
        if (!sync)
            continue;
        if (groups) {
            /* Redis 7.0 makes the consumer only when it serves it */
            cons = kv_stream_consumer_find(groups[i], cname->ptr, cname->len);
            if (!cons) {
                cons = kv_stream_consumer_create(groups[i], cname->ptr, cname->len, now);
                kv_notify(c, KV_NOTIFY_STREAM, "xgroup-createconsumer", argv[streams_arg + i].ptr,
                          argv[streams_arg + i].len);
                c->srv->dirty++;
            }
            cons->seen_time = now;
        }
        served++;
        struct stream_id start = gt;
        kv_stream_id_incr(&start);
        if (c->proto == 2)
            resp_add_array(&c->out, 2);
        resp_add_bulk(&c->out, argv[streams_arg + i].ptr, argv[streams_arg + i].len);
        if (history) {
            reply_consumer_history(&c->out, s, groups[i], cons, &start, (uint64_t)count);
        } else {
            struct range_ctx x = {.c = c, .s = s, .g = groups ? groups[i] : NULL, .consumer = cons, .noack = noack};
            if (reply_range(&c->out, &x, &start, NULL, (uint64_t)count, false) && groups)
                c->srv->dirty++;
        }
    }
    if (served) {
        struct buf h;
        buf_init(&h);
        if (c->proto == 2)
            resp_add_array(&h, served);
        else
            resp_add_map(&h, 3, served);
        insert_header(&c->out, mark, &h);
        buf_deinit(&h);
        goto cleanup;
    }
    if (timeout != -1) {
        if (timeout > 0) {
            long long t = DB(c)->now_ms;
            deadline = timeout > LLONG_MAX - t ? 0 : t + timeout;
        }
        struct xread_wait *w = xcalloc(1, sizeof *w);
        w->nkeys = nstreams;
        w->keys = xmalloc((size_t)nstreams * sizeof *w->keys);
        for (int i = 0; i < nstreams; i++) {
            const struct resp_arg *k = &argv[streams_arg + i];
            w->keys[i] = (struct resp_arg){.ptr = memcpy(xmalloc(k->len ? k->len : 1), k->ptr, k->len), .len = k->len};
        }
        w->ids = ids;
        ids = NULL;
        w->count = (uint64_t)count;
        w->noack = noack;
        if (gname) {
            w->group = xstrndup(gname->ptr, gname->len);
            w->glen = gname->len;
            w->consumer = xstrndup(cname->ptr, cname->len);
            w->clen = cname->len;
        }
        struct kv_block_args ba = {.priv = w, .priv_free = xread_wait_free};
        kv_block(c, &argv[streams_arg], nstreams, deadline, serve_stream, &ba);
        goto cleanup;
    }
    resp_add_null_array(&c->out, c->proto);
cleanup:
    xfree(ids);
    xfree(groups);
}

void kv_cmd_XREAD(struct kv_client *c, int argc, struct resp_arg *argv) { xread_generic(c, argc, argv, false); }
void kv_cmd_XREADGROUP(struct kv_client *c, int argc, struct resp_arg *argv) { xread_generic(c, argc, argv, true); }

/* ---- XSETID ----------------------------------------------------------------------- */

void kv_cmd_XSETID(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct stream_id id, maxdel = {0, 0};
    long long entries_added = -1;
    if (!parse_strict(c, &argv[2], &id, NULL))
        return;
    for (int i = 3; i < argc;) {
        int more = argc - 1 - i;
        if (kv_arg_is(&argv[i], "entriesadded") && more) {
            if (!kv_arg_ll(c, &argv[i + 1], &entries_added))
                return;
            if (entries_added < 0) {
                kv_reply_error(c, "ERR entries_added must be positive");
                return;
            }
            i += 2;
        } else if (kv_arg_is(&argv[i], "maxdeletedid") && more) {
            if (!parse_strict(c, &argv[i + 1], &maxdel, NULL))
                return;
            if (stream_id_cmp(&id, &maxdel) < 0) {
                kv_reply_error(c, "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
                return;
            }
            i += 2;
        } else {
            kv_reply_syntax(c);
            return;
        }
    }
    struct kv_stream *s;
    if (!lookup_stream(c, &argv[1], LOOKUP_WRITE, &s))
        return;
    if (!s) {
        kv_reply_error(c, "ERR no such key");
        return;
    }
    if (s->length > 0) {
        struct stream_id maxid;
        kv_stream_last_valid_id(s, &maxid);
        if (stream_id_cmp(&id, &maxid) < 0) {
            kv_reply_error(c, "ERR The ID specified in XSETID is smaller than the target stream top item");
            return;
        }
        if (entries_added != -1 && s->length > (uint64_t)entries_added) {
            kv_reply_error(c, "ERR The entries_added specified in XSETID is smaller than the target stream length");
            return;
        }
    }
    s->last_id = id;
    if (entries_added != -1)
        s->entries_added = (uint64_t)entries_added;
    if (!stream_id_is_zero(&maxdel))
        s->max_deleted_id = maxdel;
    kv_notify(c, KV_NOTIFY_STREAM, "xsetid", argv[1].ptr, argv[1].len);
    resp_add_ok(&c->out);
    c->srv->dirty++; /* Redis 7.0 signals no WATCH here */
}

/* ---- XGROUP ---------------------------------------------------------------------------- */

struct subcmd {
    const char *name;
    int arity;
};

/* Container command arity (Redis 7.0 subcommand table); replies when it fails. */
static bool check_sub(struct kv_client *c, const char *cmd, const char *upcmd, const struct subcmd *subs, int argc,
                      struct resp_arg *argv)
{
    kv_set_subcommand(c, &argv[1]);
    for (const struct subcmd *s = subs; s->name; s++) {
        if (!kv_arg_is(&argv[1], s->name))
            continue;
        if ((s->arity > 0 && argc != s->arity) || (s->arity < 0 && argc < -s->arity)) {
            kv_reply_errorf(c, "ERR wrong number of arguments for '%s|%s' command", cmd, s->name);
            return false;
        }
        return true;
    }
    kv_reply_errorf(c, "ERR unknown subcommand '%.*s'. Try %s HELP.", (int)(argv[1].len > 128 ? 128 : argv[1].len),
                    argv[1].ptr, upcmd);
    return false;
}

static void reply_sub_syntax(struct kv_client *c, const struct resp_arg *sub, const char *upcmd)
{
    kv_reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try %s HELP.",
                    (int)(sub->len > 128 ? 128 : sub->len), sub->ptr, upcmd);
}

static const struct subcmd xgroup_subs[] = {
    {"create", -5}, {"setid", -5}, {"destroy", 4}, {"createconsumer", 5}, {"delconsumer", 5}, {"help", 2}, {NULL, 0},
};

static const char *const xgroup_help[] = {
    "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
    "HELP",
    "    Prints this help.",
};

static bool parse_entries_read(struct kv_client *c, const struct resp_arg *a, long long *v)
{
    if (!kv_arg_ll(c, a, v))
        return false;
    if (*v < 0 && *v != STREAM_ENTRIES_READ_INVALID) {
        kv_reply_error(c, "ERR value for ENTRIESREAD must be positive or -1");
        return false;
    }
    return true;
}

void kv_cmd_XGROUP(struct kv_client *c, int argc, struct resp_arg *argv)
{
    if (!check_sub(c, "xgroup", "XGROUP", xgroup_subs, argc, argv))
        return;
    const struct resp_arg *opt = &argv[1];
    struct kv_stream *s = NULL;
    struct stream_cg *cg = NULL;
    bool mkstream = false;
    long long entries_read = STREAM_ENTRIES_READ_INVALID;
    if (argc >= 4) {
        if (kv_arg_is(opt, "create")) {
            for (int i = 5; i < argc;) {
                if (kv_arg_is(&argv[i], "mkstream")) {
                    mkstream = true;
                    i++;
                } else if (kv_arg_is(&argv[i], "entriesread") && i + 1 < argc) {
                    if (!parse_entries_read(c, &argv[i + 1], &entries_read))
                        return;
                    i += 2;
                } else {
                    reply_sub_syntax(c, opt, "XGROUP");
                    return;
                }
            }
        } else if (kv_arg_is(opt, "setid")) {
            if (argc == 7) {
                if (!kv_arg_is(&argv[5], "entriesread")) {
                    reply_sub_syntax(c, opt, "XGROUP");
                    return;
                }
                if (!parse_entries_read(c, &argv[6], &entries_read))
                    return;
            } else if (argc != 5) {
                reply_sub_syntax(c, opt, "XGROUP");
                return;
            }
        }
        if (!lookup_stream(c, &argv[2], LOOKUP_WRITE, &s))
            return;
        if (!mkstream) {
            if (!s) {
                kv_reply_error(c, "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may "
                                  "want to use the MKSTREAM option to create an empty stream automatically.");
                return;
            }
            cg = kv_stream_cg_find(s, argv[3].ptr, argv[3].len);
            if (!cg && (kv_arg_is(opt, "setid") || kv_arg_is(opt, "createconsumer") || kv_arg_is(opt, "delconsumer"))) {
                kv_reply_errorf(c, "NOGROUP No such consumer group '%.*s' for key name '%.*s'", (int)argv[3].len,
                                argv[3].ptr, (int)argv[2].len, argv[2].ptr);
                return;
            }
        }
    }
    if (argc == 2 && kv_arg_is(opt, "help")) {
        kv_reply_help(c, xgroup_help, sizeof xgroup_help / sizeof xgroup_help[0]);
    } else if (kv_arg_is(opt, "create") && argc >= 5 && argc <= 8) {
        struct stream_id id;
        if (argv[4].len == 1 && argv[4].ptr[0] == '$')
            id = s ? s->last_id : (struct stream_id){0, 0};
        else if (!parse_strict(c, &argv[4], &id, NULL))
            return;
        if (!s)
            s = create_stream(c, &argv[2]);
        if (kv_stream_cg_create(s, argv[3].ptr, argv[3].len, &id, entries_read)) {
            kv_notify(c, KV_NOTIFY_STREAM, "xgroup-create", argv[2].ptr, argv[2].len);
            resp_add_ok(&c->out);
            c->srv->dirty++;
        } else {
            kv_reply_error(c, "BUSYGROUP Consumer Group name already exists");
        }
    } else if (kv_arg_is(opt, "setid") && (argc == 5 || argc == 7)) {
        struct stream_id id;
        if (argv[4].len == 1 && argv[4].ptr[0] == '$')
            id = s->last_id;
        else if (!parse_id(c, &argv[4], &id, 0, false, NULL))
            return;
        cg->last_id = id;
        cg->entries_read = entries_read;
        kv_notify(c, KV_NOTIFY_STREAM, "xgroup-setid", argv[2].ptr, argv[2].len);
        resp_add_ok(&c->out);
        c->srv->dirty++;
    } else if (kv_arg_is(opt, "destroy") && argc == 4) {
        if (cg) {
            kv_stream_cg_destroy(s, argv[3].ptr, argv[3].len);
            kv_notify(c, KV_NOTIFY_STREAM, "xgroup-destroy", argv[2].ptr, argv[2].len);
            resp_add_int(&c->out, 1);
            c->srv->dirty++;
            /* wakes XREADGROUP waiters of the group with -NOGROUP */
            kv_blocking_signal(c->srv, argv[2].ptr, argv[2].len);
        } else {
            resp_add_int(&c->out, 0);
        }
    } else if (kv_arg_is(opt, "createconsumer") && argc == 5) {
        bool made = kv_stream_consumer_create(cg, argv[4].ptr, argv[4].len, now_ms()) != NULL;
        if (made) {
            c->srv->dirty++; /* Redis 7.0 signals no WATCH here */
            kv_notify(c, KV_NOTIFY_STREAM, "xgroup-createconsumer", argv[2].ptr, argv[2].len);
        }
        resp_add_int(&c->out, made);
    } else if (kv_arg_is(opt, "delconsumer") && argc == 5) {
        long long pending = 0;
        struct stream_consumer *cons = kv_stream_consumer_find(cg, argv[4].ptr, argv[4].len);
        if (cons) {
            pending = (long long)kv_stream_consumer_delete(cg, cons);
            c->srv->dirty++;
            kv_notify(c, KV_NOTIFY_STREAM, "xgroup-delconsumer", argv[2].ptr, argv[2].len);
        }
        resp_add_int(&c->out, pending);
    } else {
        reply_sub_syntax(c, opt, "XGROUP");
    }
}

/* ---- XACK XPENDING ----------------------------------------------------------------------- */

void kv_cmd_XACK(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_stream *s;
    struct stream_cg *g = NULL;
    if (!lookup_stream(c, &argv[1], LOOKUP_WRITE, &s))
        return;
    if (s)
        g = kv_stream_cg_find(s, argv[2].ptr, argv[2].len);
    if (!g) {
        resp_add_int(&c->out, 0);
        return;
    }
    int n = argc - 3;
    struct stream_id *ids = xmalloc((size_t)n * sizeof *ids);
    for (int j = 0; j < n; j++) {
        if (!parse_strict(c, &argv[j + 3], &ids[j], NULL)) {
            xfree(ids);
            return;
        }
    }
    long long acked = 0;
    for (int j = 0; j < n; j++) {
        size_t i = kv_stream_pel_lower_bound(g, &ids[j]);
        if (i < g->npel && stream_id_cmp(&g->pel[i].id, &ids[j]) == 0) {
            kv_stream_pel_remove_at(g, i);
            acked++;
        }
    }
    xfree(ids);
    c->srv->dirty += (uint64_t)acked; /* group state: Redis 7.0 signals no WATCH */
    resp_add_int(&c->out, acked);
}

void kv_cmd_XPENDING(struct kv_client *c, int argc, struct resp_arg *argv)
{
    bool justinfo = argc == 3;
    struct stream_id start = {0, 0}, end = {0, 0};
    long long count = 0, minidle = 0;
    const struct resp_arg *cname = NULL;
    if (argc != 3 && (argc < 6 || argc > 9)) {
        kv_reply_syntax(c);
        return;
    }
    if (argc >= 6) {
        int si = 3;
        if (kv_arg_is(&argv[3], "idle")) {
            if (!kv_arg_ll(c, &argv[4], &minidle))
                return;
            if (argc < 8) {
                kv_reply_syntax(c);
                return;
            }
            si += 2;
        }
        if (!kv_arg_ll(c, &argv[si + 2], &count))
            return;
        if (count < 0)
            count = 0;
        bool ex;
        if (!parse_interval(c, &argv[si], &start, &ex, 0))
            return;
        if (ex && !kv_stream_id_incr(&start)) {
            kv_reply_error(c, "ERR invalid start ID for the interval");
            return;
        }
        if (!parse_interval(c, &argv[si + 1], &end, &ex, UINT64_MAX))
            return;
        if (ex && !kv_stream_id_decr(&end)) {
            kv_reply_error(c, "ERR invalid end ID for the interval");
            return;
        }
        if (si + 3 < argc)
            cname = &argv[si + 3];
    }
    struct kv_stream *s;
    struct stream_cg *g = NULL;
    if (!lookup_stream(c, &argv[1], 0, &s))
        return;
    if (!s || !(g = kv_stream_cg_find(s, argv[2].ptr, argv[2].len))) {
        kv_reply_errorf(c, "NOGROUP No such key '%.*s' or consumer group '%.*s'", (int)argv[1].len, argv[1].ptr,
                        (int)argv[2].len, argv[2].ptr);
        return;
    }
    struct buf *o = &c->out;
    if (justinfo) {
        resp_add_array(o, 4);
        resp_add_int(o, (long long)g->npel);
        if (g->npel == 0) {
            resp_add_null(o, c->proto);
            resp_add_null(o, c->proto);
            resp_add_null_array(o, c->proto);
            return;
        }
        add_id(o, &g->pel[0].id);
        add_id(o, &g->pel[g->npel - 1].id);
        long long n = 0;
        for (size_t i = 0; i < g->nconsumers; i++)
            n += g->consumers[i]->npel > 0;
        resp_add_array(o, n);
        for (size_t i = 0; i < g->nconsumers; i++) {
            struct stream_consumer *cs = g->consumers[i];
            if (!cs->npel)
                continue;
            resp_add_array(o, 2);
            resp_add_bulk(o, cs->name, cs->nlen);
            resp_add_bulk_ll(o, (long long)cs->npel);
        }
        return;
    }
    struct stream_consumer *cons = NULL;
    if (cname) {
        cons = kv_stream_consumer_find(g, cname->ptr, cname->len);
        if (!cons) {
            resp_add_array(o, 0);
            return;
        }
    }
    long long now = now_ms();
    struct buf tmp;
    buf_init(&tmp);
    long long n = 0;
    for (size_t i = kv_stream_pel_lower_bound(g, &start); count && i < g->npel; i++) {
        struct stream_nack *na = &g->pel[i];
        if (stream_id_cmp(&na->id, &end) > 0)
            break;
        if (cons && na->consumer != cons)
            continue;
        if (minidle && ms_since(now, na->delivery_time) < minidle)
            continue;
        n++;
        count--;
        resp_add_array(&tmp, 4);
        add_id(&tmp, &na->id);
        resp_add_bulk(&tmp, na->consumer->name, na->consumer->nlen);
        long long el = ms_since(now, na->delivery_time);
        resp_add_int(&tmp, el < 0 ? 0 : el);
        resp_add_int(&tmp, (long long)na->delivery_count);
    }
    resp_add_array(o, n);
    buf_append(o, buf_head(&tmp), buf_pending(&tmp));
    buf_deinit(&tmp);
}

/* ---- XCLAIM XAUTOCLAIM --------------------------------------------------------------------- */

static struct stream_consumer *get_consumer(struct kv_client *c, const struct resp_arg *key, struct stream_cg *g,
                                            const struct resp_arg *name, long long now)
{
    struct stream_consumer *cs = kv_stream_consumer_find(g, name->ptr, name->len);
    if (!cs) {
        cs = kv_stream_consumer_create(g, name->ptr, name->len, now);
        kv_notify(c, KV_NOTIFY_STREAM, "xgroup-createconsumer", key->ptr, key->len);
    }
    cs->seen_time = now;
    return cs;
}

void kv_cmd_XCLAIM(struct kv_client *c, int argc, struct resp_arg *argv)
{
    struct kv_stream *s;
    struct stream_cg *g = NULL;
    long long minidle, retrycount = -1, deliverytime = -1;
    bool force = false, justid = false;
    if (!lookup_stream(c, &argv[1], LOOKUP_WRITE, &s))
        return;
    if (s)
        g = kv_stream_cg_find(s, argv[2].ptr, argv[2].len);
    if (!g) {
        kv_reply_errorf(c, "NOGROUP No such key '%.*s' or consumer group '%.*s'", (int)argv[1].len, argv[1].ptr,
                        (int)argv[2].len, argv[2].ptr);
        return;
    }
    if (!kv_arg_ll_msg(c, &argv[4], &minidle, "ERR Invalid min-idle-time argument for XCLAIM"))
        return;
    if (minidle < 0)
        minidle = 0;
    int j;
    struct stream_id tmpid;
    for (j = 5; j < argc; j++)
        if (!parse_strict(NULL, &argv[j], &tmpid, NULL))
            break;
    int last_id_arg = j - 1;
    long long now = now_ms();
    struct stream_id last_id = {0, 0};
    for (; j < argc; j++) {
        int more = argc - 1 - j;
        const struct resp_arg *opt = &argv[j];
        if (kv_arg_is(opt, "force")) {
            force = true;
        } else if (kv_arg_is(opt, "justid")) {
            justid = true;
        } else if (kv_arg_is(opt, "idle") && more) {
            j++;
            if (!kv_arg_ll_msg(c, &argv[j], &deliverytime, "ERR Invalid IDLE option argument for XCLAIM"))
                return;
            deliverytime = ms_since(now, deliverytime);
        } else if (kv_arg_is(opt, "time") && more) {
            j++;
            if (!kv_arg_ll_msg(c, &argv[j], &deliverytime, "ERR Invalid TIME option argument for XCLAIM"))
                return;
        } else if (kv_arg_is(opt, "retrycount") && more) {
            j++;
            if (!kv_arg_ll_msg(c, &argv[j], &retrycount, "ERR Invalid RETRYCOUNT option argument for XCLAIM"))
                return;
        } else if (kv_arg_is(opt, "lastid") && more) {
            j++;
            if (!parse_strict(c, &argv[j], &last_id, NULL))
                return;
        } else {
            kv_reply_errorf(c, "ERR Unrecognized XCLAIM option '%.*s'", (int)(opt->len > 128 ? 128 : opt->len),
                            opt->ptr);
            return;
        }
    }
    bool changed = false;
    if (stream_id_cmp(&last_id, &g->last_id) > 0) {
        g->last_id = last_id;
        changed = true;
    }
    if (deliverytime != -1) {
        if (deliverytime < 0 || deliverytime > now)
            deliverytime = now;
    } else {
        deliverytime = now;
    }
    struct stream_consumer *cons = NULL;
    struct buf tmp;
    buf_init(&tmp);
    long long n = 0;
    for (j = 5; j <= last_id_arg; j++) {
        struct stream_id id;
        parse_strict(NULL, &argv[j], &id, NULL);
        size_t pi = kv_stream_pel_lower_bound(g, &id);
        struct stream_nack *na = pi < g->npel && stream_id_cmp(&g->pel[pi].id, &id) == 0 ? &g->pel[pi] : NULL;
        if (!entry_exists(s, &id)) {
            if (na) {
                kv_stream_pel_remove_at(g, pi);
                changed = true;
            }
            continue;
        }
        if (force && !na)
            na = kv_stream_pel_add(g, &id, NULL, now);
        if (!na)
            continue;
        if (na->consumer && minidle && ms_since(now, na->delivery_time) < minidle)
            continue;
        if (!cons)
            cons = get_consumer(c, &argv[1], g, &argv[3], now);
        kv_stream_nack_set_owner(na, cons);
        na->delivery_time = deliverytime;
        if (retrycount >= 0)
            na->delivery_count = (uint64_t)retrycount;
        else if (!justid)
            na->delivery_count++;
        if (justid)
            add_id(&tmp, &id);
        else if (!emit_entry_by_id(&tmp, s, &id))
            resp_add_null(&tmp, c->proto);
        n++;
        changed = true;
    }
    resp_add_array(&c->out, n);
    buf_append(&c->out, buf_head(&tmp), buf_pending(&tmp));
    buf_deinit(&tmp);
    if (changed)
        c->srv->dirty++; /* group state: Redis 7.0 signals no WATCH */
}

void kv_cmd_XAUTOCLAIM(struct kv_client *c, int argc, struct resp_arg *argv)
{
    long long minidle, count = 100;
    struct stream_id start;
    bool startex, justid = false;
    if (!kv_arg_ll_msg(c, &argv[4], &minidle, "ERR Invalid min-idle-time argument for XAUTOCLAIM"))
        return;
    if (minidle < 0)
        minidle = 0;
    if (!parse_interval(c, &argv[5], &start, &startex, 0))
        return;
    if (startex && !kv_stream_id_incr(&start)) {
        kv_reply_error(c, "ERR invalid start ID for the interval");
        return;
    }
    for (int j = 6; j < argc; j++) {
        int more = argc - 1 - j;
        if (kv_arg_is(&argv[j], "count") && more) {
            if (!kv_arg_range(c, &argv[j + 1], 1, LONG_MAX / 16, &count, "ERR COUNT must be > 0",
                              "ERR COUNT must be > 0"))
                return;
            j++;
        } else if (kv_arg_is(&argv[j], "justid")) {
            justid = true;
        } else {
            kv_reply_syntax(c);
            return;
        }
    }
    struct kv_stream *s;
    struct stream_cg *g = NULL;
    if (!lookup_stream(c, &argv[1], LOOKUP_WRITE, &s))
        return;
    if (s)
        g = kv_stream_cg_find(s, argv[2].ptr, argv[2].len);
    if (!g) {
        kv_reply_errorf(c, "NOGROUP No such key '%.*s' or consumer group '%.*s'", (int)argv[1].len, argv[1].ptr,
                        (int)argv[2].len, argv[2].ptr);
        return;
    }
    long long attempts = count * 10;
    long long now = now_ms();
    struct stream_consumer *cons = NULL;
    struct buf tmp, del;
    buf_init(&tmp);
    buf_init(&del);
    long long n = 0, ndel = 0;
    bool changed = false;
    size_t i = kv_stream_pel_lower_bound(g, &start);
    while (attempts-- && count && i < g->npel) {
        struct stream_nack *na = &g->pel[i];
        struct stream_id id = na->id;
        if (!entry_exists(s, &id)) {
            kv_stream_pel_remove_at(g, i);
            add_id(&del, &id);
            ndel++;
            count--;
            changed = true;
            continue;
        }
        if (minidle && ms_since(now, na->delivery_time) < minidle) {
            i++;
            continue;
        }
        if (!cons) {
            cons = get_consumer(c, &argv[1], g, &argv[3], now);
            na = &g->pel[i];
        }
        kv_stream_nack_set_owner(na, cons);
        na->delivery_time = now;
        if (!justid)
            na->delivery_count++;
        if (justid)
            add_id(&tmp, &id);
        else
            emit_entry_by_id(&tmp, s, &id);
        n++;
        count--;
        i++;
        changed = true;
    }
    struct stream_id next = i < g->npel ? g->pel[i].id : (struct stream_id){0, 0};
    resp_add_array(&c->out, 3);
    add_id(&c->out, &next);
    resp_add_array(&c->out, n);
    buf_append(&c->out, buf_head(&tmp), buf_pending(&tmp));
    resp_add_array(&c->out, ndel);
    buf_append(&c->out, buf_head(&del), buf_pending(&del));
    buf_deinit(&tmp);
    buf_deinit(&del);
    if (changed)
        c->srv->dirty++; /* group state: Redis 7.0 signals no WATCH */
}

/* ---- XINFO -------------------------------------------------------------------------------- */

static const struct subcmd xinfo_subs[] = {
    {"stream", -3}, {"groups", 3}, {"consumers", 4}, {"help", 2}, {NULL, 0},
};

static const char *const xinfo_help[] = {
    "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
    "HELP",
    "    Prints this help.",
};

static void add_str(struct buf *o, const char *s) { resp_add_bulk(o, s, strlen(s)); }

static void reply_lag(struct buf *o, int proto, const struct kv_stream *s, const struct stream_cg *g)
{
    long long lag;
    if (!s->entries_added) {
        lag = 0;
    } else if (g->entries_read != STREAM_ENTRIES_READ_INVALID && !kv_stream_range_has_tombstones(s, &g->last_id, NULL)) {
        lag = (long long)s->entries_added - g->entries_read;
    } else {
        long long er = kv_stream_estimate_distance(s, &g->last_id);
        if (er == STREAM_ENTRIES_READ_INVALID) {
            resp_add_null(o, proto);
            return;
        }
        lag = (long long)s->entries_added - er;
    }
    resp_add_int(o, lag);
}

static void reply_entries_read(struct buf *o, int proto, const struct stream_cg *g)
{
    if (g->entries_read != STREAM_ENTRIES_READ_INVALID)
        resp_add_int(o, g->entries_read);
    else
        resp_add_null(o, proto);
}

static void xinfo_stream(struct kv_client *c, int argc, struct resp_arg *argv, struct kv_stream *s)
{
    bool full = true;
    long long count = 10;
    int optc = argc - 3;
    const struct resp_arg *optv = argv + 3;
    struct buf *o = &c->out;
    if (optc == 0) {
        full = false;
    } else {
        if ((optc != 1 && optc != 3) || !kv_arg_is(&optv[0], "full")) {
            reply_sub_syntax(c, &argv[1], "XINFO");
            return;
        }
        if (optc == 3) {
            if (!kv_arg_is(&optv[1], "count")) {
                reply_sub_syntax(c, &argv[1], "XINFO");
                return;
            }
            if (!kv_arg_ll(c, &optv[2], &count))
                return;
            if (count < 0)
                count = 10;
        }
    }
    struct stream_id first;
    if (!kv_stream_first_id(s, &first))
        first = (struct stream_id){0, 0};
    resp_add_map(o, c->proto, full ? 9 : 10);
    add_str(o, "length");
    resp_add_int(o, (long long)s->length);
    add_str(o, "radix-tree-keys");
    resp_add_int(o, (long long)kv_stream_nodes(s));
    add_str(o, "radix-tree-nodes");
    resp_add_int(o, (long long)kv_stream_nodes(s) + 1);
    add_str(o, "last-generated-id");
    add_id(o, &s->last_id);
    add_str(o, "max-deleted-entry-id");
    add_id(o, &s->max_deleted_id);
    add_str(o, "entries-added");
    resp_add_int(o, (long long)s->entries_added);
    add_str(o, "recorded-first-entry-id");
    add_id(o, &first);
    if (!full) {
        add_str(o, "groups");
        resp_add_int(o, (long long)s->ngroups);
        for (int rev = 0; rev < 2; rev++) {
            add_str(o, rev ? "last-entry" : "first-entry");
            struct stream_iter it;
            struct stream_id id;
            uint64_t nf;
            kv_stream_iter_init(&it, s, NULL, NULL, rev);
            if (kv_stream_iter_next(&it, &id, &nf))
                emit_entry(o, &it, &id, nf);
            else
                resp_add_null(o, c->proto);
        }
        return;
    }
    add_str(o, "entries");
    struct range_ctx x = {.c = c, .s = s};
    reply_range(o, &x, NULL, NULL, (uint64_t)count, false);
    add_str(o, "groups");
    resp_add_array(o, (long long)s->ngroups);
    for (size_t gi = 0; gi < s->ngroups; gi++) {
        struct stream_cg *g = s->groups[gi];
        resp_add_map(o, c->proto, 7);
        add_str(o, "name");
        resp_add_bulk(o, g->name, g->nlen);
        add_str(o, "last-delivered-id");
        add_id(o, &g->last_id);
        add_str(o, "entries-read");
        reply_entries_read(o, c->proto, g);
        add_str(o, "lag");
        reply_lag(o, c->proto, s, g);
        add_str(o, "pel-count");
        resp_add_int(o, (long long)g->npel);
        add_str(o, "pending");
        size_t np = g->npel;
        if (count && (size_t)count < np)
            np = (size_t)count;
        resp_add_array(o, (long long)np);
        for (size_t i = 0; i < np; i++) {
            resp_add_array(o, 4);
            add_id(o, &g->pel[i].id);
            resp_add_bulk(o, g->pel[i].consumer->name, g->pel[i].consumer->nlen);
            resp_add_int(o, g->pel[i].delivery_time);
            resp_add_int(o, (long long)g->pel[i].delivery_count);
        }
        add_str(o, "consumers");
        resp_add_array(o, (long long)g->nconsumers);
        for (size_t ci = 0; ci < g->nconsumers; ci++) {
            struct stream_consumer *cs = g->consumers[ci];
            resp_add_map(o, c->proto, 4);
            add_str(o, "name");
            resp_add_bulk(o, cs->name, cs->nlen);
            add_str(o, "seen-time");
            resp_add_int(o, cs->seen_time);
            add_str(o, "pel-count");
            resp_add_int(o, (long long)cs->npel);
            add_str(o, "pending");
            uint64_t cn = cs->npel;
            if (count && (uint64_t)count < cn)
                cn = (uint64_t)count;
            resp_add_array(o, (long long)cn);
            uint64_t k = 0;
            for (size_t i = 0; i < g->npel && k < cn; i++) {
                if (g->pel[i].consumer != cs)
                    continue;
                resp_add_array(o, 3);
                add_id(o, &g->pel[i].id);
                resp_add_int(o, g->pel[i].delivery_time);
                resp_add_int(o, (long long)g->pel[i].delivery_count);
                k++;
            }
        }
    }
}

void kv_cmd_XINFO(struct kv_client *c, int argc, struct resp_arg *argv)
{
    if (!check_sub(c, "xinfo", "XINFO", xinfo_subs, argc, argv))
        return;
    if (kv_arg_is(&argv[1], "help")) {
        kv_reply_help(c, xinfo_help, sizeof xinfo_help / sizeof xinfo_help[0]);
        return;
    }
    struct kv_stream *s;
    if (!lookup_stream(c, &argv[2], 0, &s))
        return;
    if (!s) {
        kv_reply_error(c, "ERR no such key");
        return;
    }
    struct buf *o = &c->out;
    if (kv_arg_is(&argv[1], "consumers") && argc == 4) {
        struct stream_cg *g = kv_stream_cg_find(s, argv[3].ptr, argv[3].len);
        if (!g) {
            kv_reply_errorf(c, "NOGROUP No such consumer group '%.*s' for key name '%.*s'", (int)argv[3].len,
                            argv[3].ptr, (int)argv[2].len, argv[2].ptr);
            return;
        }
        long long now = now_ms();
        resp_add_array(o, (long long)g->nconsumers);
        for (size_t i = 0; i < g->nconsumers; i++) {
            struct stream_consumer *cs = g->consumers[i];
            long long idle = ms_since(now, cs->seen_time);
            resp_add_map(o, c->proto, 3);
            add_str(o, "name");
            resp_add_bulk(o, cs->name, cs->nlen);
            add_str(o, "pending");
            resp_add_int(o, (long long)cs->npel);
            add_str(o, "idle");
            resp_add_int(o, idle < 0 ? 0 : idle);
        }
    } else if (kv_arg_is(&argv[1], "groups") && argc == 3) {
        resp_add_array(o, (long long)s->ngroups);
        for (size_t i = 0; i < s->ngroups; i++) {
            struct stream_cg *g = s->groups[i];
            resp_add_map(o, c->proto, 6);
            add_str(o, "name");
            resp_add_bulk(o, g->name, g->nlen);
            add_str(o, "consumers");
            resp_add_int(o, (long long)g->nconsumers);
            add_str(o, "pending");
            resp_add_int(o, (long long)g->npel);
            add_str(o, "last-delivered-id");
            add_id(o, &g->last_id);
            add_str(o, "entries-read");
            reply_entries_read(o, c->proto, g);
            add_str(o, "lag");
            reply_lag(o, c->proto, s, g);
        }
    } else if (kv_arg_is(&argv[1], "stream")) {
        xinfo_stream(c, argc, argv, s);
    } else {
        reply_sub_syntax(c, &argv[1], "XINFO");
    }
}
