/*
 * propagate.c — the one propagation point (see propagate.h).
 */
#include "kv/propagate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/util.h"
#include "kv/hashobj.h"
#include "kv/pubsub.h"
#include "kv/reply.h"
#include "kv/streamobj.h"

#define MAX_SINKS 4

struct kv_prop {
    struct kv_prop_frame *top;   /* running command, NULL between commands */
    int last_db;                 /* database of the last command emitted, -1 none */
    bool enabled;
    int nsinks;
    kv_prop_sink_fn *sink[MAX_SINKS];
    kv_prop_want_fn *want[MAX_SINKS];
    kv_prop_buf_fn *buf_of[MAX_SINKS]; /* a buffer sink (sink[i] NULL): kv_prop_add_buf */
    void *sink_arg[MAX_SINKS];
    struct buf scratch;
};

void kv_prop_init(struct kv_server *s)
{
    struct kv_prop *p = xcalloc(1, sizeof *p);
    p->last_db = -1;
    p->enabled = true;
    buf_init(&p->scratch);
    s->prop = p;
}

void kv_prop_free(struct kv_server *s)
{
    if (!s->prop)
        return;
    buf_deinit(&s->prop->scratch);
    xfree(s->prop);
    s->prop = NULL;
}

static void add_sink(struct kv_prop *p, kv_prop_sink_fn *fn, kv_prop_want_fn *want, kv_prop_buf_fn *buf_of,
                     void *arg)
{
    for (int i = 0; i < p->nsinks; i++)
        if (p->sink[i] == fn && p->buf_of[i] == buf_of && p->sink_arg[i] == arg)
            return;
    if (p->nsinks < MAX_SINKS) {
        p->sink[p->nsinks] = fn;
        p->want[p->nsinks] = want;
        p->buf_of[p->nsinks] = buf_of;
        p->sink_arg[p->nsinks++] = arg;
    }
}

void kv_prop_add_sink(struct kv_server *s, kv_prop_sink_fn *fn, kv_prop_want_fn *want, void *arg)
{
    add_sink(s->prop, fn, want, NULL, arg);
}

void kv_prop_add_buf(struct kv_server *s, kv_prop_buf_fn *buf_of, void *arg)
{
    add_sink(s->prop, NULL, NULL, buf_of, arg);
}

void kv_prop_reset_db(struct kv_server *s)
{
    if (s->prop)
        s->prop->last_db = -1;
}
void kv_prop_set_enabled(struct kv_server *s, bool on) { s->prop->enabled = on; }

/* Commands whose effects go out as the commands they ran, in one
 * MULTI/EXEC: a transaction, and scripts (each redis.call() propagates
 * itself, rewritten like a client's; the script never does, so math.random,
 * TIME or a SPOP inside it replay the same everywhere). */
bool kv_prop_wrapper(int id)
{
    return id == RESP_CMD_EXEC || id == RESP_CMD_EVAL || id == RESP_CMD_EVALSHA || id == RESP_CMD_FCALL;
}

/* ---- emission ------------------------------------------------------------- */

/* One command as a RESP array of bulk strings, with proto's writers (no
 * printf, one reservation and one copy per argument): this runs for every
 * write command. */
static void encode(struct buf *b, int argc, const char *const *argv, const size_t *lens)
{
    resp_add_array(b, argc);
    for (int i = 0; i < argc; i++)
        resp_add_bulk(b, argv[i], lens[i]);
}

static void feed(struct kv_prop *p, const char *data, size_t n)
{
    for (int i = 0; i < p->nsinks; i++) {
        if (p->sink[i]) {
            p->sink[i](p->sink_arg[i], data, n);
            continue;
        }
        struct buf *b = p->buf_of[i](p->sink_arg[i]);
        if (b)
            buf_append(b, data, n);
    }
}

static void encode1(struct buf *b, const char *word)
{
    size_t l = strlen(word);
    encode(b, 1, &word, &l);
}

/* The innermost wrapper frame (EXEC) running, if any. */
static struct kv_prop_frame *wrapper_of(struct kv_prop *p)
{
    for (struct kv_prop_frame *f = p->top; f; f = f->prev)
        if (f->wrapper)
            return f;
    return NULL;
}

/* Where the next commands are encoded: straight into the buffer of a
 * buffer sink (the AOF's) when it is the only consumer taking the stream,
 * so that a write costs one encoding and no copy, as Redis's
 * feedAppendOnlyFile (*direct = true); otherwise into p->scratch, which
 * feed() then hands to every sink. NULL: no consumer takes the stream. */
static struct buf *target(struct kv_prop *p, bool *direct)
{
    struct buf *only = NULL;
    int n = 0;
    *direct = false;
    if (!p || !p->enabled)
        return NULL;
    for (int i = 0; i < p->nsinks; i++) {
        if (p->buf_of[i]) {
            struct buf *b = p->buf_of[i](p->sink_arg[i]);
            if (b) {
                only = b;
                n++;
            }
        } else if (!p->want[i] || p->want[i](p->sink_arg[i])) {
            n += 2; /* a function sink: always through scratch */
        }
    }
    if (n == 0)
        return NULL;
    if (n == 1) {
        *direct = true;
        return only;
    }
    p->scratch.off = p->scratch.len = 0;
    return &p->scratch;
}

/* Start a batch in b (target()): SELECT first when the database changes,
 * MULTI first inside a wrapper. */
static void emit_begin(struct kv_prop *p, struct buf *b, int db)
{
    if (db != p->last_db) {
        char num[16];
        const char *av[2] = {"SELECT", num};
        size_t lens[2] = {6, (size_t)snprintf(num, sizeof num, "%d", db)};
        encode(b, 2, av, lens);
        p->last_db = db;
    }
    struct kv_prop_frame *w = wrapper_of(p);
    if (w && !w->multi_open) {
        encode1(b, "MULTI");
        w->multi_open = true;
    }
}

/* Whether any consumer takes the stream now. */
static bool emitting(const struct kv_prop *p)
{
    if (!p || !p->enabled)
        return false;
    for (int i = 0; i < p->nsinks; i++)
        if (p->buf_of[i] ? p->buf_of[i](p->sink_arg[i]) != NULL : !p->want[i] || p->want[i](p->sink_arg[i]))
            return true;
    return false;
}

/* Emit encoded commands (whole, of database db) to every sink. */
static void emit_encoded(struct kv_server *s, int db, const char *data, size_t n)
{
    struct kv_prop *p = s->prop;
    bool direct;
    struct buf *b = n ? target(p, &direct) : NULL;
    if (!b)
        return;
    emit_begin(p, b, db);
    buf_append(b, data, n);
    if (!direct)
        feed(p, buf_head(b), buf_pending(b));
}

/* One command, encoded straight into its consumer's buffer (or scratch). */
static void emitv(struct kv_server *s, int db, int argc, const char *const *argv, const size_t *lens)
{
    struct kv_prop *p = s->prop;
    bool direct;
    struct buf *b = argc > 0 ? target(p, &direct) : NULL;
    if (!b)
        return;
    emit_begin(p, b, db);
    encode(b, argc, argv, lens);
    if (!direct)
        feed(p, buf_head(b), buf_pending(b));
}

#define MAXV 64

static void emit_args(struct kv_server *s, int db, int argc, const struct resp_arg *argv)
{
    const char *av[MAXV] = {0}, **pv = av;
    size_t lv[MAXV] = {0}, *pl = lv;
    if (argc > MAXV) {
        pv = xmalloc(sizeof *pv * (size_t)argc);
        pl = xmalloc(sizeof *pl * (size_t)argc);
    }
    for (int i = 0; i < argc; i++) {
        pv[i] = argv[i].ptr;
        pl[i] = argv[i].len;
    }
    emitv(s, db, argc, pv, pl);
    if (pv != av) {
        xfree(pv);
        xfree(pl);
    }
}

void kv_prop_effectv(struct kv_server *s, int db, int argc, const char *const *argv, const size_t *lens)
{
    if (!s->prop)
        return;
    struct kv_prop_frame *f = s->prop->top;
    if (f && !f->wrapper) {
        if (!f->eff.data)
            buf_init(&f->eff);
        f->eff_db = db;
        encode(&f->eff, argc, argv, lens);
        return;
    }
    emitv(s, db, argc, argv, lens);
}

void kv_prop_effect(struct kv_server *s, int db, int argc, const struct resp_arg *argv)
{
    const char *av[MAXV] = {0};
    size_t lv[MAXV] = {0};
    if (argc > MAXV)
        argc = MAXV; /* effects are short commands */
    for (int i = 0; i < argc; i++) {
        av[i] = argv[i].ptr;
        lv[i] = argv[i].len;
    }
    kv_prop_effectv(s, db, argc, av, lv);
}

void kv_prop_pop(struct kv_server *s, int db, const char *cmd, const char *key, size_t klen, long long count)
{
    char num[32];
    const char *av[3] = {cmd, key, num};
    size_t lv[3] = {strlen(cmd), klen, (size_t)snprintf(num, sizeof num, "%lld", count)};
    kv_prop_effectv(s, db, count > 0 ? 3 : 2, av, lv);
}

void kv_prop_lmove(struct kv_server *s, int db, const char *src, size_t slen, const char *dst, size_t dlen, int from,
                   int to)
{
    const char *av[5] = {"LMOVE", src, dst, from ? "RIGHT" : "LEFT", to ? "RIGHT" : "LEFT"};
    size_t lv[5] = {5, slen, dlen, strlen(av[3]), strlen(av[4])};
    kv_prop_effectv(s, db, 5, av, lv);
}

static void emit_del(struct kv_server *s, const char *key, size_t klen)
{
    const char *av[2] = {"DEL", key};
    size_t lv[2] = {3, klen};
    emitv(s, s->db.id, 2, av, lv);
}

void kv_prop_on_expire(void *arg, const char *key, size_t klen)
{
    struct kv_server *s = arg;
    /* the deletion counts in dirty (on_modify): not the running command's change */
    if (s->prop && s->prop->top)
        s->prop->top->dirty0++;
    emit_del(s, key, klen);
    kv_pubsub_on_expire(arg, key, klen);
}

void kv_prop_on_evict(void *arg, const char *key, size_t klen)
{
    struct kv_server *s = arg;
    emit_del(s, key, klen);
    kv_pubsub_on_evict(arg, key, klen);
}

/* ---- reading a reply back (pops say what they took) ------------------------- */

struct rrd {
    const char *p, *end;
};

/* The next element's header: type char and number (length/count/int). */
static bool rd_hdr(struct rrd *r, char *type, long long *n, const char **line, size_t *linelen)
{
    if (r->p >= r->end)
        return false;
    const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    if (!nl || nl == r->p)
        return false;
    *type = r->p[0];
    *line = r->p + 1;
    *linelen = (size_t)(nl - 1 - (r->p + 1));
    *n = 0;
    if (*type == '*' || *type == '$' || *type == '%' || *type == '~' || *type == '>' || *type == ':')
        util_str2ll(*line, *linelen, n);
    r->p = nl + 1;
    return true;
}

/* A scalar element as a string (bulk, simple, integer, double). */
static bool rd_str(struct rrd *r, const char **s, size_t *len)
{
    char t;
    long long n;
    const char *line;
    size_t ll;
    if (!rd_hdr(r, &t, &n, &line, &ll))
        return false;
    if (t == '$') {
        if (n < 0 || r->end - r->p < n + 2)
            return false;
        *s = r->p;
        *len = (size_t)n;
        r->p += n + 2;
        return true;
    }
    if (t == '+' || t == ':' || t == ',') {
        *s = line;
        *len = ll;
        return true;
    }
    return false;
}

static bool rd_count(struct rrd *r, long long *n)
{
    char t;
    const char *line;
    size_t ll;
    return rd_hdr(r, &t, n, &line, &ll) && (t == '*' || t == '~') && *n >= 0;
}

/* ---- the rewrite table ---------------------------------------------------- */

struct rw_ctx {
    struct kv_server *s;
    struct kv_client *c;
    int argc;
    const struct resp_arg *argv;
    const char *reply;
    size_t reply_len;
};

typedef void rw_fn(struct rw_ctx *x);

static void out_args(struct rw_ctx *x, int argc, const char *const *av, const size_t *lv)
{
    emitv(x->s, x->s->db.id, argc, av, lv);
}

static struct kv_obj *peek(struct rw_ctx *x, const struct resp_arg *key)
{
    return db_lookup(&x->s->db, key->ptr, key->len, LOOKUP_WRITE | LOOKUP_NOTOUCH | LOOKUP_NONOTIFY);
}

/* The key's TTL as it is now: PEXPIREAT, PERSIST, or DEL when it is gone. */
static void rw_key_ttl(struct rw_ctx *x, const struct resp_arg *key)
{
    struct kv_obj *o = peek(x, key);
    char num[32];
    if (!o) {
        const char *av[2] = {"DEL", key->ptr};
        size_t lv[2] = {3, key->len};
        out_args(x, 2, av, lv);
    } else if (obj_has_ttl(o)) {
        const char *av[3] = {"PEXPIREAT", key->ptr, num};
        size_t lv[3] = {9, key->len, (size_t)snprintf(num, sizeof num, "%lld", obj_expire(o))};
        out_args(x, 3, av, lv);
    } else {
        const char *av[2] = {"PERSIST", key->ptr};
        size_t lv[2] = {7, key->len};
        out_args(x, 2, av, lv);
    }
}

static void rw_expire(struct rw_ctx *x) { rw_key_ttl(x, &x->argv[1]); }

/* SET key value PXAT <the key's expire time>: the value is what the key holds. */
static void set_abs(struct rw_ctx *x, const struct resp_arg *key, const struct resp_arg *val)
{
    struct kv_obj *o = peek(x, key);
    if (!o || obj_type(o) != OBJ_STRING) {
        rw_key_ttl(x, key);
        return;
    }
    char num[32];
    if (obj_has_ttl(o)) {
        const char *av[5] = {"SET", key->ptr, val->ptr, "PXAT", num};
        size_t lv[5] = {3, key->len, val->len, 4, (size_t)snprintf(num, sizeof num, "%lld", obj_expire(o))};
        out_args(x, 5, av, lv);
    } else {
        const char *av[3] = {"SET", key->ptr, val->ptr};
        size_t lv[3] = {3, key->len, val->len};
        out_args(x, 3, av, lv);
    }
}

static void rw_set(struct rw_ctx *x)
{
    bool ttl = false;
    for (int i = 3; i < x->argc; i++)
        if (kv_arg_is(&x->argv[i], "ex") || kv_arg_is(&x->argv[i], "px") || kv_arg_is(&x->argv[i], "exat") ||
            kv_arg_is(&x->argv[i], "pxat"))
            ttl = true;
    if (ttl) {
        set_abs(x, &x->argv[1], &x->argv[2]);
        return;
    }
    /* NX/XX/GET were decided here; KEEPTTL keeps its meaning */
    bool keepttl = false;
    for (int i = 3; i < x->argc; i++)
        keepttl |= kv_arg_is(&x->argv[i], "keepttl");
    const char *av[4] = {"SET", x->argv[1].ptr, x->argv[2].ptr, "KEEPTTL"};
    size_t lv[4] = {3, x->argv[1].len, x->argv[2].len, 7};
    out_args(x, keepttl ? 4 : 3, av, lv);
}

static void rw_setex(struct rw_ctx *x) { set_abs(x, &x->argv[1], &x->argv[3]); }

/* GETEX: only its TTL options change anything. */
static void rw_getex(struct rw_ctx *x) { rw_key_ttl(x, &x->argv[1]); }

static void rw_incrbyfloat(struct rw_ctx *x)
{
    struct kv_obj *o = peek(x, &x->argv[1]);
    if (!o || obj_type(o) != OBJ_STRING)
        return;
    const char *av[4] = {"SET", x->argv[1].ptr, obj_cval(o), "KEEPTTL"};
    size_t lv[4] = {3, x->argv[1].len, obj_vlen(o), 7};
    out_args(x, 4, av, lv);
}

static void rw_hincrbyfloat(struct rw_ctx *x)
{
    struct kv_obj *o = peek(x, &x->argv[1]);
    const char *v;
    size_t vl;
    if (!o || obj_type(o) != OBJ_HASH || !kv_hash_get(obj_hash(o), x->argv[2].ptr, x->argv[2].len, &v, &vl))
        return;
    const char *av[4] = {"HSET", x->argv[1].ptr, x->argv[2].ptr, v};
    size_t lv[4] = {4, x->argv[1].len, x->argv[2].len, vl};
    out_args(x, 4, av, lv);
}

/* Emit `cmd key members...` from a list of strings in the reply. */
static void emit_members(struct rw_ctx *x, const char *cmd, const struct resp_arg *key, struct rrd *r, long long n,
                         bool pairs)
{
    if (n <= 0 || n > (1 << 24))
        return;
    const char **av = xmalloc(sizeof *av * (size_t)(n + 2));
    size_t *lv = xmalloc(sizeof *lv * (size_t)(n + 2));
    av[0] = cmd;
    lv[0] = strlen(cmd);
    av[1] = key->ptr;
    lv[1] = key->len;
    long long k = 0;
    for (; k < n; k++) {
        if (pairs) { /* [member, score] */
            long long two;
            const char *sc;
            size_t scl;
            if (!rd_count(r, &two) || two != 2 || !rd_str(r, &av[k + 2], &lv[k + 2]) || !rd_str(r, &sc, &scl))
                break;
        } else if (!rd_str(r, &av[k + 2], &lv[k + 2])) {
            break;
        }
    }
    if (k == n)
        out_args(x, (int)n + 2, av, lv);
    xfree(av);
    xfree(lv);
}

/* SPOP key [count] → SREM key <the members in the reply>. */
static void rw_spop(struct rw_ctx *x)
{
    struct rrd r = {x->reply, x->reply + x->reply_len};
    if (x->argc == 2) {
        emit_members(x, "SREM", &x->argv[1], &r, 1, false);
        return;
    }
    long long n;
    if (rd_count(&r, &n))
        emit_members(x, "SREM", &x->argv[1], &r, n, false);
}

/* emit `cmd key [count]` */
static void emit_pop(struct rw_ctx *x, const char *cmd, const char *key, size_t klen, long long count)
{
    char num[32];
    const char *av[3] = {cmd, key, num};
    size_t lv[3] = {strlen(cmd), klen, (size_t)snprintf(num, sizeof num, "%lld", count)};
    out_args(x, count > 0 ? 3 : 2, av, lv);
}

/* BLPOP/BRPOP answered at once: [key, value] → LPOP/RPOP key. */
static void rw_bpop(struct rw_ctx *x, const char *cmd)
{
    struct rrd r = {x->reply, x->reply + x->reply_len};
    long long n;
    const char *k;
    size_t kl;
    if (rd_count(&r, &n) && n == 2 && rd_str(&r, &k, &kl))
        emit_pop(x, cmd, k, kl, 0);
}
static void rw_blpop(struct rw_ctx *x) { rw_bpop(x, "LPOP"); }
static void rw_brpop(struct rw_ctx *x) { rw_bpop(x, "RPOP"); }

/* BZPOPMIN/MAX: [key, member, score] → ZPOPMIN/MAX key. */
static void rw_bzpop(struct rw_ctx *x, const char *cmd)
{
    struct rrd r = {x->reply, x->reply + x->reply_len};
    long long n;
    const char *k;
    size_t kl;
    if (rd_count(&r, &n) && n == 3 && rd_str(&r, &k, &kl))
        emit_pop(x, cmd, k, kl, 0);
}
static void rw_bzpopmin(struct rw_ctx *x) { rw_bzpop(x, "ZPOPMIN"); }
static void rw_bzpopmax(struct rw_ctx *x) { rw_bzpop(x, "ZPOPMAX"); }

/* BLMPOP/BZMPOP: [key, [elements]] → LPOP/RPOP/ZPOPMIN/ZPOPMAX key count. */
static void rw_mpop(struct rw_ctx *x, bool zset)
{
    long long numkeys;
    if (!util_str2ll(x->argv[2].ptr, x->argv[2].len, &numkeys) || numkeys < 1 || 3 + numkeys >= x->argc)
        return;
    const struct resp_arg *dir = &x->argv[3 + numkeys];
    bool first = kv_arg_is(dir, zset ? "min" : "left");
    struct rrd r = {x->reply, x->reply + x->reply_len};
    long long n, m;
    const char *k;
    size_t kl;
    if (rd_count(&r, &n) && n == 2 && rd_str(&r, &k, &kl) && rd_count(&r, &m))
        emit_pop(x, zset ? (first ? "ZPOPMIN" : "ZPOPMAX") : (first ? "LPOP" : "RPOP"), k, kl, m);
}
static void rw_blmpop(struct rw_ctx *x) { rw_mpop(x, false); }
static void rw_bzmpop(struct rw_ctx *x) { rw_mpop(x, true); }

/* BLMOVE src dst from to timeout → LMOVE src dst from to. */
static void rw_blmove(struct rw_ctx *x)
{
    const char *av[5];
    size_t lv[5];
    av[0] = "LMOVE";
    lv[0] = 5;
    for (int i = 1; i < 5; i++) {
        av[i] = x->argv[i].ptr;
        lv[i] = x->argv[i].len;
    }
    out_args(x, 5, av, lv);
}

/* BRPOPLPUSH src dst timeout → RPOPLPUSH src dst. */
static void rw_brpoplpush(struct rw_ctx *x)
{
    const char *av[3] = {"RPOPLPUSH", x->argv[1].ptr, x->argv[2].ptr};
    size_t lv[3] = {9, x->argv[1].len, x->argv[2].len};
    out_args(x, 3, av, lv);
}

/* RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]: the TTL
 * as the key holds it, absolute. */
static void rw_restore(struct rw_ctx *x)
{
    struct kv_obj *o = peek(x, &x->argv[1]);
    if (!o) {
        rw_key_ttl(x, &x->argv[1]);
        return;
    }
    char num[32];
    const char *av[6] = {"RESTORE", x->argv[1].ptr, num, x->argv[3].ptr, "REPLACE", "ABSTTL"};
    size_t lv[6] = {7, x->argv[1].len, (size_t)snprintf(num, sizeof num, "%lld", obj_has_ttl(o) ? obj_expire(o) : 0),
                    x->argv[3].len, 7, 6};
    out_args(x, 6, av, lv);
}

/*
 * XADD and XTRIM: an automatic ID becomes the ID the reply gave; an
 * approximate trim (~) becomes exact (=) at what it left: MAXLEN the length,
 * MINID the first ID (LIMIT dropped), as Redis does.
 */
static void rw_stream(struct rw_ctx *x, bool xadd)
{
    int argc = x->argc, i = 2, id_idx = -1, approx = -1, thr = -1, limit = -1;
    bool maxlen = false;
    while (i < argc) {
        if (xadd && kv_arg_is(&x->argv[i], "nomkstream")) {
            i++;
        } else if (kv_arg_is(&x->argv[i], "maxlen") || kv_arg_is(&x->argv[i], "minid")) {
            maxlen = kv_arg_is(&x->argv[i], "maxlen");
            i++;
            if (i < argc && x->argv[i].len == 1 && (x->argv[i].ptr[0] == '~' || x->argv[i].ptr[0] == '=')) {
                if (x->argv[i].ptr[0] == '~')
                    approx = i;
                i++;
            }
            thr = i++;
        } else if (kv_arg_is(&x->argv[i], "limit")) {
            limit = i;
            i += 2;
        } else {
            break;
        }
    }
    if (xadd)
        id_idx = i;
    if (thr >= argc || (xadd && id_idx >= argc)) {
        emit_args(x->s, x->s->db.id, x->argc, x->argv);
        return;
    }
    const char **av = xmalloc(sizeof *av * (size_t)argc);
    size_t *lv = xmalloc(sizeof *lv * (size_t)argc);
    int n = 0;
    char idbuf[48], thrbuf[48];
    struct rrd r = {x->reply, x->reply + x->reply_len};
    const char *rid;
    size_t ridl;
    bool have_id = xadd && rd_str(&r, &rid, &ridl);
    struct kv_obj *o = approx >= 0 ? peek(x, &x->argv[1]) : NULL;
    struct kv_stream *st = o && obj_type(o) == OBJ_STREAM ? obj_ptr(o) : NULL;
    for (int k = 0; k < argc; k++) {
        av[n] = x->argv[k].ptr;
        lv[n] = x->argv[k].len;
        if (k == id_idx && have_id) {
            size_t l = ridl < sizeof idbuf ? ridl : sizeof idbuf - 1;
            memcpy(idbuf, rid, l);
            av[n] = idbuf;
            lv[n] = l;
        } else if (k == approx && st) {
            av[n] = "=";
            lv[n] = 1;
        } else if (k == thr && approx >= 0 && st) {
            struct stream_id first;
            if (maxlen) {
                lv[n] = (size_t)snprintf(thrbuf, sizeof thrbuf, "%llu", (unsigned long long)st->length);
            } else if (kv_stream_first_id(st, &first)) {
                lv[n] = kv_stream_id_fmt(thrbuf, &first);
            } else {
                lv[n] = (size_t)snprintf(thrbuf, sizeof thrbuf, "%.*s", (int)x->argv[k].len, x->argv[k].ptr);
            }
            av[n] = thrbuf;
        } else if ((k == limit || k == limit + 1) && limit >= 0 && approx >= 0 && st) {
            continue;
        }
        n++;
    }
    out_args(x, n, av, lv);
    xfree(av);
    xfree(lv);
}

static void rw_xadd(struct rw_ctx *x) { rw_stream(x, true); }
static void rw_xtrim(struct rw_ctx *x) { rw_stream(x, false); }

struct rw_entry {
    int id;
    rw_fn *fn;
};

static const struct rw_entry rewrites[] = {
    {RESP_CMD_SET, rw_set},
    {RESP_CMD_SETEX, rw_setex},
    {RESP_CMD_PSETEX, rw_setex},
    {RESP_CMD_GETEX, rw_getex},
    {RESP_CMD_EXPIRE, rw_expire},
    {RESP_CMD_PEXPIRE, rw_expire},
    {RESP_CMD_EXPIREAT, rw_expire},
    {RESP_CMD_PEXPIREAT, rw_expire},
    {RESP_CMD_INCRBYFLOAT, rw_incrbyfloat},
    {RESP_CMD_HINCRBYFLOAT, rw_hincrbyfloat},
    {RESP_CMD_SPOP, rw_spop},
    {RESP_CMD_BLPOP, rw_blpop},
    {RESP_CMD_BRPOP, rw_brpop},
    {RESP_CMD_BLMPOP, rw_blmpop},
    {RESP_CMD_BLMOVE, rw_blmove},
    {RESP_CMD_BRPOPLPUSH, rw_brpoplpush},
    {RESP_CMD_BZPOPMIN, rw_bzpopmin},
    {RESP_CMD_BZPOPMAX, rw_bzpopmax},
    {RESP_CMD_BZMPOP, rw_bzmpop},
    {RESP_CMD_RESTORE, rw_restore},
    {RESP_CMD_XADD, rw_xadd},
    {RESP_CMD_XTRIM, rw_xtrim},
};

static rw_fn *rw_table[RESP_CMD_COUNT];
static bool rw_ready;

static rw_fn *rewrite_of(int id)
{
    if (!rw_ready) {
        for (size_t i = 0; i < sizeof rewrites / sizeof rewrites[0]; i++)
            rw_table[rewrites[i].id] = rewrites[i].fn;
        rw_ready = true;
    }
    return rw_table[id];
}

/* ---- around every command -------------------------------------------------- */

void kv_prop_begin(struct kv_client *c, struct kv_prop_frame *f, int id)
{
    struct kv_prop *p = c->srv->prop;
    memset(f, 0, sizeof *f);
    if (!p)
        return; /* no propagation point (unit tests build bare servers) */
    f->prev = p->top;
    f->id = id;
    f->dirty0 = c->srv->dirty;
    f->reply0 = c->out.len;
    f->wrapper = kv_prop_wrapper(id);
    p->top = f;
}

void kv_prop_end(struct kv_client *c, struct kv_prop_frame *f, int argc, const struct resp_arg *argv)
{
    struct kv_server *s = c->srv;
    struct kv_prop *p = s->prop;
    if (!p)
        return;
    bool changed = s->dirty != f->dirty0;
    if (f->wrapper) {
        p->top = f->prev;
        if (f->multi_open) {
            struct buf b;
            buf_init(&b);
            encode1(&b, "EXEC");
            emit_encoded(s, p->last_db < 0 ? s->db.id : p->last_db, buf_head(&b), buf_pending(&b));
            buf_deinit(&b);
        }
        return;
    }
    if (f->eff.data) {
        /* effects replace the command; emitted as seen from the enclosing frame */
        p->top = f->prev;
        emit_encoded(s, f->eff_db, buf_head(&f->eff), buf_pending(&f->eff));
        buf_deinit(&f->eff);
        return;
    }
    p->top = f->prev;
    if (!changed || !(resp_cmds[f->id].flags & CMD_WRITE) || !emitting(p))
        return;
    rw_fn *fn = rewrite_of(f->id);
    if (!fn) {
        emit_args(s, s->db.id, argc, argv);
        return;
    }
    struct rw_ctx x = {s, c, argc, argv, c->out.data ? c->out.data + f->reply0 : "", c->out.len - f->reply0};
    fn(&x);
}
