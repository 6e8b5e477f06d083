/*
 * pubsub.c — publish/subscribe, its commands and keyspace notifications (see
 * pubsub.h for the data and the flow between threads).
 */
#include "kv/pubsub.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/util.h"
#include "kv/dict.h"
#include "kv/reply.h"

/* A channel, pattern or shard channel with its subscribers, oldest first. */
struct ps_chan {
    struct dict_node dn;
    struct kv_client **subs;
    uint32_t n, cap;
    size_t pidx;  /* patterns: index in ps->patv */
    char name[];
};

/* One subscription of a client (its dicts point at the server's entry). */
struct ps_ref {
    struct dict_node dn;
    struct ps_chan *ch;
    char name[];
};

enum { KIND_CHAN, KIND_PAT, KIND_SHARD, KIND_N };

struct kv_psclient {
    struct dict subs[KIND_N];  /* struct ps_ref */
    struct buf pending;        /* messages for the client, not yet in c->out */
    bool queued;               /* in its worker's queue */
    bool over;                 /* passed the pubsub hard limit: its worker closes it */
};

struct ps_worker {
    struct kv_pubsub *ps;
    uv_async_t async;
    bool open;
    struct kv_client **q;      /* clients with pending messages (or over the limit) */
    size_t n, cap;
};

struct kv_pubsub {
    struct kv_server *s;
    struct kv_client **mon;    /* MONITOR clients, in the order they asked */
    size_t nmon, capmon;
    struct dict d[KIND_N];     /* struct ps_chan */
    struct ps_chan **patv;     /* every pattern, for PUBLISH */
    size_t npat, cappat;
    struct ps_worker *ws;
    int nworkers;
};

static void monitor_remove(struct kv_pubsub *ps, struct kv_client *c);

static const char *const sub_word[KIND_N] = {"subscribe", "psubscribe", "ssubscribe"};
static const char *const unsub_word[KIND_N] = {"unsubscribe", "punsubscribe", "sunsubscribe"};

/* ---- notify-keyspace-events flags ------------------------------------------ */

int kv_notify_parse(const char *s, size_t n)
{
    int f = 0;
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case 'A': f |= KV_NOTIFY_ALL; break;
        case 'g': f |= KV_NOTIFY_GENERIC; break;
        case '$': f |= KV_NOTIFY_STRING; break;
        case 'l': f |= KV_NOTIFY_LIST; break;
        case 's': f |= KV_NOTIFY_SET; break;
        case 'h': f |= KV_NOTIFY_HASH; break;
        case 'z': f |= KV_NOTIFY_ZSET; break;
        case 'x': f |= KV_NOTIFY_EXPIRED; break;
        case 'e': f |= KV_NOTIFY_EVICTED; break;
        case 'K': f |= KV_NOTIFY_KEYSPACE; break;
        case 'E': f |= KV_NOTIFY_KEYEVENT; break;
        case 't': f |= KV_NOTIFY_STREAM; break;
        case 'm': f |= KV_NOTIFY_KEY_MISS; break;
        case 'd': f |= KV_NOTIFY_MODULE; break;
        case 'n': f |= KV_NOTIFY_NEW; break;
        default: return -1;
        }
    }
    return f;
}

/* Redis keyspaceEventsFlagsToString: "A" hides the classes it covers (and,
 * as in 7.0, 'n'). */
void kv_notify_format(int flags, char out[16])
{
    size_t n = 0;
    if ((flags & KV_NOTIFY_ALL) == KV_NOTIFY_ALL) {
        out[n++] = 'A';
    } else {
        static const struct { int f; char ch; } order[] = {
            {KV_NOTIFY_GENERIC, 'g'}, {KV_NOTIFY_STRING, '$'}, {KV_NOTIFY_LIST, 'l'}, {KV_NOTIFY_SET, 's'},
            {KV_NOTIFY_HASH, 'h'}, {KV_NOTIFY_ZSET, 'z'}, {KV_NOTIFY_EXPIRED, 'x'}, {KV_NOTIFY_EVICTED, 'e'},
            {KV_NOTIFY_STREAM, 't'}, {KV_NOTIFY_MODULE, 'd'}, {KV_NOTIFY_NEW, 'n'},
        };
        for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
            if (flags & order[i].f)
                out[n++] = order[i].ch;
    }
    if (flags & KV_NOTIFY_KEYSPACE)
        out[n++] = 'K';
    if (flags & KV_NOTIFY_KEYEVENT)
        out[n++] = 'E';
    if (flags & KV_NOTIFY_KEY_MISS)
        out[n++] = 'm';
    out[n] = '\0';
}

/* ---- state ------------------------------------------------------------------ */

struct kv_pubsub *kv_pubsub_new(struct kv_server *s, int nworkers)
{
    struct kv_pubsub *ps = xcalloc(1, sizeof *ps);
    ps->s = s;
    for (int k = 0; k < KIND_N; k++)
        kv_dict_init(&ps->d[k], offsetof(struct ps_chan, name));
    ps->nworkers = nworkers;
    ps->ws = xcalloc((size_t)nworkers, sizeof *ps->ws);
    for (int i = 0; i < nworkers; i++)
        ps->ws[i].ps = ps;
    return ps;
}

static void free_chan(struct dict_node *n, void *arg)
{
    (void)arg;
    struct ps_chan *ch = (struct ps_chan *)n;
    xfree(ch->subs);
    xfree(ch);
}

void kv_pubsub_free(struct kv_pubsub *ps)
{
    if (!ps)
        return;
    for (int k = 0; k < KIND_N; k++)
        kv_dict_deinit(&ps->d[k], free_chan, NULL);
    for (int i = 0; i < ps->nworkers; i++)
        xfree(ps->ws[i].q);
    xfree(ps->ws);
    xfree(ps->patv);
    xfree(ps->mon);
    xfree(ps);
}

static struct kv_psclient *psclient(struct kv_client *c)
{
    if (!c->ps) {
        struct kv_psclient *pc = xcalloc(1, sizeof *pc);
        for (int k = 0; k < KIND_N; k++)
            kv_dict_init(&pc->subs[k], offsetof(struct ps_ref, name));
        buf_init(&pc->pending);
        c->ps = pc;
    }
    return c->ps;
}

static long long count_of(const struct kv_psclient *pc, int kind)
{
    return pc ? (long long)dict_size(&pc->subs[kind]) : 0;
}

struct subs_check {
    bool (*ok)(const char *name, size_t len, bool pattern, void *arg);
    void *arg;
    bool pattern;
    bool all;
};

static void check_sub(struct dict_node *n, void *arg)
{
    struct subs_check *k = arg;
    const struct ps_ref *r = (const struct ps_ref *)n;
    if (k->all && !k->ok(r->name, n->klen, k->pattern, k->arg))
        k->all = false;
}

bool kv_pubsub_all_subs(const struct kv_client *c, bool (*ok)(const char *name, size_t len, bool pattern, void *arg),
                        void *arg)
{
    if (!c->ps)
        return true;
    struct subs_check k = {ok, arg, false, true};
    for (int kind = 0; kind < KIND_N && k.all; kind++) {
        k.pattern = kind == KIND_PAT;
        kv_dict_foreach(&c->ps->subs[kind], check_sub, &k);
    }
    return k.all;
}

/* The count Redis replies with: channels + patterns, or shard channels. */
static long long reply_count(const struct kv_psclient *pc, int kind)
{
    if (kind == KIND_SHARD)
        return count_of(pc, KIND_SHARD);
    return count_of(pc, KIND_CHAN) + count_of(pc, KIND_PAT);
}

bool kv_pubsub_subscribed(const struct kv_client *c)
{
    const struct kv_psclient *pc = c->ps;
    return pc && (dict_size(&pc->subs[KIND_CHAN]) | dict_size(&pc->subs[KIND_PAT]) | dict_size(&pc->subs[KIND_SHARD]));
}

bool kv_pubsub_restricted(const struct kv_client *c) { return c->proto == 2 && kv_pubsub_subscribed(c); }

bool kv_pubsub_allowed(int id)
{
    switch (id) {
    case RESP_CMD_SUBSCRIBE:
    case RESP_CMD_UNSUBSCRIBE:
    case RESP_CMD_PSUBSCRIBE:
    case RESP_CMD_PUNSUBSCRIBE:
    case RESP_CMD_SSUBSCRIBE:
    case RESP_CMD_SUNSUBSCRIBE:
    case RESP_CMD_PING:
    case RESP_CMD_QUIT:
    case RESP_CMD_RESET:
        return true;
    default:
        return false;
    }
}

void kv_pubsub_counts(const struct kv_client *c, long long *sub, long long *psub, long long *ssub)
{
    *sub = count_of(c->ps, KIND_CHAN);
    *psub = count_of(c->ps, KIND_PAT);
    *ssub = count_of(c->ps, KIND_SHARD);
}

void kv_pubsub_totals(const struct kv_server *s, long long *chans, long long *pats, long long *schans)
{
    const struct kv_pubsub *ps = s->pubsub;
    *chans = ps ? (long long)dict_size(&ps->d[KIND_CHAN]) : 0;
    *pats = ps ? (long long)dict_size(&ps->d[KIND_PAT]) : 0;
    *schans = ps ? (long long)dict_size(&ps->d[KIND_SHARD]) : 0;
}

/* ---- subscribe / unsubscribe ------------------------------------------------ */

static void reply_sub(struct kv_client *c, const char *word, const char *name, size_t len, long long count)
{
    resp_add_push(&c->out, c->proto, 3);
    resp_add_bulk_cstr(&c->out, word);
    if (name)
        resp_add_bulk(&c->out, name, len);
    else
        resp_add_null(&c->out, c->proto);
    resp_add_int(&c->out, count);
}

static void subscribe(struct kv_client *c, int kind, const char *name, size_t len)
{
    struct kv_pubsub *ps = c->srv->pubsub;
    struct kv_psclient *pc = psclient(c);
    uint64_t h = kv_dict_hash(name, len);
    if (!dict_find(&pc->subs[kind], name, len, h)) {
        struct ps_chan *ch = (struct ps_chan *)dict_find(&ps->d[kind], name, len, h);
        if (!ch) {
            ch = xcalloc(1, offsetof(struct ps_chan, name) + len);
            ch->dn.klen = (uint32_t)len;
            memcpy(ch->name, name, len);
            kv_dict_insert(&ps->d[kind], &ch->dn, h);
            if (kind == KIND_PAT) {
                if (ps->npat == ps->cappat) {
                    ps->cappat = ps->cappat ? ps->cappat * 2 : 16;
                    ps->patv = xrealloc(ps->patv, ps->cappat * sizeof *ps->patv);
                }
                ch->pidx = ps->npat;
                ps->patv[ps->npat++] = ch;
            }
        }
        if (ch->n == ch->cap) {
            ch->cap = ch->cap ? ch->cap * 2 : 4;
            ch->subs = xrealloc(ch->subs, ch->cap * sizeof *ch->subs);
        }
        ch->subs[ch->n++] = c;
        struct ps_ref *r = xmalloc(offsetof(struct ps_ref, name) + len);
        r->dn.next = NULL;
        r->dn.klen = (uint32_t)len;
        r->dn.meta = 0;
        r->ch = ch;
        memcpy(r->name, name, len);
        kv_dict_insert(&pc->subs[kind], &r->dn, h);
    }
    reply_sub(c, sub_word[kind], name, len, reply_count(pc, kind));
}

/* Drop c from the subscription r (unlinked from c's dict by the caller). */
static void drop_ref(struct kv_pubsub *ps, struct kv_client *c, int kind, struct ps_ref *r)
{
    struct ps_chan *ch = r->ch;
    for (uint32_t i = 0; i < ch->n; i++) {
        if (ch->subs[i] == c) {
            memmove(&ch->subs[i], &ch->subs[i + 1], (ch->n - i - 1) * sizeof *ch->subs);
            ch->n--;
            break;
        }
    }
    if (ch->n == 0) {
        if (kind == KIND_PAT) {
            struct ps_chan *last = ps->patv[--ps->npat];
            ps->patv[ch->pidx] = last;
            last->pidx = ch->pidx;
        }
        kv_dict_remove(&ps->d[kind], ch->name, ch->dn.klen, kv_dict_hash(ch->name, ch->dn.klen));
        free_chan(&ch->dn, NULL);
    }
    xfree(r);
}

/* Unsubscribe c from name; reply when `reply`. */
static void unsubscribe(struct kv_client *c, int kind, const char *name, size_t len, bool reply)
{
    struct kv_psclient *pc = c->ps;
    if (pc) {
        struct dict_node *n = kv_dict_remove(&pc->subs[kind], name, len, kv_dict_hash(name, len));
        if (n)
            drop_ref(c->srv->pubsub, c, kind, (struct ps_ref *)n);
    }
    if (reply)
        reply_sub(c, unsub_word[kind], name, len, reply_count(pc, kind));
}

struct refvec {
    struct ps_ref **v;
    size_t n, cap;
};

static void collect(struct dict_node *n, void *arg)
{
    struct refvec *rv = arg;
    if (rv->n == rv->cap) {
        rv->cap = rv->cap ? rv->cap * 2 : 16;
        rv->v = xrealloc(rv->v, rv->cap * sizeof *rv->v);
    }
    rv->v[rv->n++] = (struct ps_ref *)n;
}

/* Unsubscribe from everything of one kind; with reply, Redis's replies (one
 * per subscription, or one with a null name when there was none). */
static void unsubscribe_all(struct kv_client *c, int kind, bool reply)
{
    struct kv_psclient *pc = c->ps;
    struct refvec rv = {0};
    if (pc)
        kv_dict_foreach(&pc->subs[kind], collect, &rv);
    for (size_t i = 0; i < rv.n; i++) {
        struct ps_ref *r = rv.v[i];
        kv_dict_remove(&pc->subs[kind], r->name, r->dn.klen, kv_dict_hash(r->name, r->dn.klen));
        if (reply)
            reply_sub(c, unsub_word[kind], r->name, r->dn.klen, reply_count(pc, kind));
        drop_ref(c->srv->pubsub, c, kind, r);
    }
    if (reply && rv.n == 0)
        reply_sub(c, unsub_word[kind], NULL, 0, reply_count(pc, kind));
    xfree(rv.v);
}

void kv_pubsub_reset(struct kv_client *c)
{
    if (c->monitor && c->srv->pubsub) /* RESET leaves MONITOR too, as Redis */
        monitor_remove(c->srv->pubsub, c);
    for (int k = 0; k < KIND_N; k++)
        unsubscribe_all(c, k, false);
}

static void dequeue(struct kv_pubsub *ps, struct kv_client *c)
{
    struct ps_worker *pw = &ps->ws[c->w->id];
    for (size_t i = 0; i < pw->n; i++) {
        if (pw->q[i] == c) {
            pw->q[i] = pw->q[--pw->n];
            break;
        }
    }
    c->ps->queued = false;
}

static void monitor_remove(struct kv_pubsub *ps, struct kv_client *c)
{
    for (size_t i = 0; i < ps->nmon; i++)
        if (ps->mon[i] == c) {
            memmove(&ps->mon[i], &ps->mon[i + 1], (ps->nmon - i - 1) * sizeof *ps->mon);
            ps->nmon--;
            break;
        }
    c->monitor = false;
    c->srv->nmonitors = ps->nmon;
}

void kv_pubsub_client_gone(struct kv_client *c)
{
    struct kv_psclient *pc = c->ps;
    if (c->monitor && c->srv->pubsub)
        monitor_remove(c->srv->pubsub, c);
    if (!pc)
        return;
    kv_pubsub_reset(c);
    if (pc->queued)
        dequeue(c->srv->pubsub, c);
    for (int k = 0; k < KIND_N; k++)
        kv_dict_deinit(&pc->subs[k], NULL, NULL);
    buf_deinit(&pc->pending);
    xfree(pc);
    c->ps = NULL;
}

/* ---- delivery --------------------------------------------------------------- */

void kv_pubsub_drain_slow(struct kv_client *c)
{
    struct kv_psclient *pc = c->ps;
    if (!buf_pending(&pc->pending))
        return;
    if (!buf_pending(&c->out)) {
        struct buf t = c->out;
        c->out = pc->pending;
        pc->pending = t;
        buf_consume(&pc->pending, buf_pending(&pc->pending));
    } else {
        buf_append(&c->out, buf_head(&pc->pending), buf_pending(&pc->pending));
        buf_consume(&pc->pending, buf_pending(&pc->pending));
    }
}

static void enqueue(struct kv_pubsub *ps, struct kv_client *c)
{
    struct kv_psclient *pc = c->ps;
    if (pc->queued)
        return;
    struct ps_worker *pw = &ps->ws[c->w->id];
    if (pw->n == pw->cap) {
        pw->cap = pw->cap ? pw->cap * 2 : 16;
        pw->q = xrealloc(pw->q, pw->cap * sizeof *pw->q);
    }
    pw->q[pw->n++] = c;
    pc->queued = true;
    if (pw->open)
        uv_async_send(&pw->async);
}

/* Hand one formatted message to subscriber c. */
static void push(struct kv_pubsub *ps, struct kv_client *from, struct kv_client *c, const struct buf *m)
{
    struct kv_psclient *pc = c->ps;
    size_t n = buf_pending(m);
    if (c == from) {
        /* the running client: in order with its reply, its own thread */
        buf_append(&c->out, buf_head(m), n);
        return;
    }
    if (pc->over)
        return;
    unsigned long long hard = ps->s->cfg.obl_pubsub.hard;
    size_t used = atomic_load_explicit(&c->out_bytes, memory_order_relaxed) + buf_pending(&pc->pending) + n;
    if (hard && used > hard) {
        /* never read: free what waits now, its worker closes it */
        pc->over = true;
        buf_deinit(&pc->pending);
        enqueue(ps, c);
        return;
    }
    buf_append(&pc->pending, buf_head(m), n);
    enqueue(ps, c);
}

/* ---- MONITOR ---------------------------------------------------------------------
 *
 * As Redis: after +OK the client gets one status line per command the server
 * runs, from any client, in the order they ran (under the keyspace lock):
 *   +<unix time>.<microseconds> [<db> <addr>|lua] "arg" "arg"...
 * each argument quoted as Redis's sdscatrepr does; AUTH's and HELLO AUTH's
 * secrets as "(redacted)". Admin commands (CONFIG, DEBUG, MONITOR...) are
 * not shown, nor commands refused before they ran. A monitor's lines travel
 * as pub/sub messages do (pending, woken worker); Redis puts monitors in the
 * unlimited normal output class, here they are bounded by the pubsub one. */

void kv_monitor_start(struct kv_client *c)
{
    struct kv_pubsub *ps = c->srv->pubsub;
    if (c->monitor || !ps)
        return; /* as Redis: a second MONITOR answers nothing */
    psclient(c);
    if (ps->nmon == ps->capmon) {
        ps->capmon = ps->capmon ? ps->capmon * 2 : 4;
        ps->mon = xrealloc(ps->mon, ps->capmon * sizeof *ps->mon);
    }
    ps->mon[ps->nmon++] = c;
    c->monitor = true;
    c->srv->nmonitors = ps->nmon;
    resp_add_ok(&c->out);
}

static void repr(struct buf *b, const char *p, size_t n)
{
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        switch (ch) {
        case '\\': buf_puts(b, "\\\\"); break;
        case '"': buf_puts(b, "\\\""); break;
        case '\n': buf_puts(b, "\\n"); break;
        case '\r': buf_puts(b, "\\r"); break;
        case '\t': buf_puts(b, "\\t"); break;
        case '\a': buf_puts(b, "\\a"); break;
        case '\b': buf_puts(b, "\\b"); break;
        default:
            if (ch >= 0x20 && ch < 0x7f)
                buf_putc(b, (char)ch);
            else
                buf_printf(b, "\\x%02x", ch);
        }
    }
    buf_putc(b, '"');
}

/* Which arguments Redis hides: AUTH's, and HELLO's after AUTH. */
static bool redacted(const struct resp_arg *argv, int i)
{
    if (i == 0)
        return false;
    if (argv[0].len == 4 && strncasecmp(argv[0].ptr, "auth", 4) == 0)
        return true;
    if (argv[0].len == 5 && strncasecmp(argv[0].ptr, "hello", 5) == 0)
        for (int j = 1; j < i; j++)
            if (argv[j].len == 4 && strncasecmp(argv[j].ptr, "auth", 4) == 0 && i <= j + 2)
                return true;
    return false;
}

void kv_monitor_feed_slow(struct kv_client *c, int argc, const struct resp_arg *argv)
{
    struct kv_pubsub *ps = c->srv->pubsub;
    if (!c->w && c->fd < 0 && !c->script_client)
        return; /* the AOF loader's commands, as Redis while loading */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "+%lld.%06ld [%d %s]", (long long)ts.tv_sec, ts.tv_nsec / 1000, c->db,
               c->script_client ? "lua" : c->addr);
    for (int i = 0; i < argc; i++) {
        buf_putc(&b, ' ');
        if (redacted(argv, i))
            buf_puts(&b, "\"(redacted)\"");
        else
            repr(&b, argv[i].ptr, argv[i].len);
    }
    buf_puts(&b, "\r\n");
    for (size_t i = 0; i < ps->nmon; i++)
        push(ps, c, ps->mon[i], &b);
    buf_deinit(&b);
}

/* A message in both RESP versions, formatted on first use. */
struct msg {
    struct buf b[2];
    bool made[2];
    const char *kind;
    const char *pat, *chan, *data;
    size_t plen, clen, dlen;
};

static const struct buf *msg_get(struct msg *m, int proto)
{
    int i = proto >= 3;
    if (!m->made[i]) {
        struct buf *b = &m->b[i];
        resp_add_push(b, proto, m->pat ? 4 : 3);
        resp_add_bulk_cstr(b, m->kind);
        if (m->pat)
            resp_add_bulk(b, m->pat, m->plen);
        resp_add_bulk(b, m->chan, m->clen);
        resp_add_bulk(b, m->data, m->dlen);
        m->made[i] = true;
    }
    return &m->b[i];
}

static long long send_to(struct kv_pubsub *ps, struct kv_client *from, struct ps_chan *ch, struct msg *m)
{
    for (uint32_t i = 0; i < ch->n; i++) {
        struct kv_client *c = ch->subs[i];
        push(ps, from, c, msg_get(m, c->proto));
    }
    return ch->n;
}

long long kv_pubsub_publish(struct kv_server *s, struct kv_client *from, const char *channel, size_t clen,
                            const char *data, size_t dlen, bool shard)
{
    struct kv_pubsub *ps = s->pubsub;
    long long receivers = 0;
    int kind = shard ? KIND_SHARD : KIND_CHAN;
    if (!ps)
        return 0;
    struct msg m = {.kind = shard ? "smessage" : "message", .chan = channel, .clen = clen, .data = data, .dlen = dlen};
    buf_init(&m.b[0]);
    buf_init(&m.b[1]);
    if (dict_size(&ps->d[kind])) {
        struct ps_chan *ch = (struct ps_chan *)dict_find(&ps->d[kind], channel, clen, kv_dict_hash(channel, clen));
        if (ch)
            receivers += send_to(ps, from, ch, &m);
    }
    if (!shard) {
        for (size_t i = 0; i < ps->npat; i++) {
            struct ps_chan *p = ps->patv[i];
            if (!util_glob_match(p->name, p->dn.klen, channel, clen, false))
                continue;
            struct msg pm = {.kind = "pmessage", .pat = p->name, .plen = p->dn.klen, .chan = channel, .clen = clen,
                             .data = data, .dlen = dlen};
            buf_init(&pm.b[0]);
            buf_init(&pm.b[1]);
            receivers += send_to(ps, from, p, &pm);
            buf_deinit(&pm.b[0]);
            buf_deinit(&pm.b[1]);
        }
    }
    buf_deinit(&m.b[0]);
    buf_deinit(&m.b[1]);
    return receivers;
}

/* Worker thread: move queued messages into their clients and write them. */
static void on_async(uv_async_t *a)
{
    struct ps_worker *pw = a->data;
    struct kv_server *s = pw->ps->s;
    pthread_mutex_lock(&s->lock);
    struct kv_client **q = pw->q;
    size_t n = pw->n;
    pw->q = NULL;
    pw->n = pw->cap = 0;
    bool *over = n ? xmalloc(n * sizeof *over) : NULL;
    for (size_t i = 0; i < n; i++) {
        struct kv_client *c = q[i];
        c->ps->queued = false;
        over[i] = c->ps->over;
        if (!over[i])
            kv_pubsub_drain_slow(c);
    }
    pthread_mutex_unlock(&s->lock);
    /* a client closed by one of these calls stays allocated until its
     * close callback, which runs after this one on this loop */
    for (size_t i = 0; i < n; i++)
        kv_client_pushed(q[i], over[i]);
    xfree(over);
    xfree(q);
}

void kv_pubsub_worker_init(struct kv_pubsub *ps, struct kv_worker *w)
{
    struct ps_worker *pw = &ps->ws[w->id];
    uv_async_init(&w->loop, &pw->async, on_async);
    pw->async.data = pw;
    pw->open = true;
}

void kv_pubsub_worker_close(struct kv_pubsub *ps, struct kv_worker *w)
{
    struct ps_worker *pw = &ps->ws[w->id];
    pthread_mutex_lock(&ps->s->lock);
    bool was = pw->open;
    pw->open = false;
    pthread_mutex_unlock(&ps->s->lock);
    if (was)
        uv_close((uv_handle_t *)&pw->async, NULL);
}

/* ---- keyspace notifications --------------------------------------------------- */

void kv_notify_emit(struct kv_server *s, struct kv_client *c, int dbid, int type, const char *event,
                    const char *key, size_t klen)
{
    struct kv_pubsub *ps = s->pubsub;
    int flags = s->cfg.notify_keyspace_events;
    (void)type;
    if (!ps || (!dict_size(&ps->d[KIND_CHAN]) && !ps->npat))
        return; /* nobody can hear it */
    char small[256];
    size_t elen = strlen(event);
    size_t need = 32 + (klen > elen ? klen : elen);
    char *chan = need <= sizeof small ? small : xmalloc(need);
    if (flags & KV_NOTIFY_KEYSPACE) {
        int h = snprintf(chan, 32, "__keyspace@%d__:", dbid);
        memcpy(chan + h, key, klen);
        kv_pubsub_publish(s, c, chan, (size_t)h + klen, event, elen, false);
    }
    if (flags & KV_NOTIFY_KEYEVENT) {
        int h = snprintf(chan, 32, "__keyevent@%d__:", dbid);
        memcpy(chan + h, event, elen);
        kv_pubsub_publish(s, c, chan, (size_t)h + elen, key, klen, false);
    }
    if (chan != small)
        xfree(chan);
}

void kv_pubsub_on_expire(void *arg, const char *key, size_t klen)
{
    kv_notify_db(arg, ((struct kv_server *)arg)->db.id, KV_NOTIFY_EXPIRED, "expired", key, klen);
}

void kv_pubsub_on_new(void *arg, const char *key, size_t klen)
{
    kv_notify_db(arg, ((struct kv_server *)arg)->db.id, KV_NOTIFY_NEW, "new", key, klen);
}

void kv_pubsub_on_miss(void *arg, const char *key, size_t klen)
{
    kv_notify_db(arg, ((struct kv_server *)arg)->db.id, KV_NOTIFY_KEY_MISS, "keymiss", key, klen);
}

void kv_pubsub_on_evict(void *arg, const char *key, size_t klen)
{
    kv_notify_db(arg, ((struct kv_server *)arg)->db.id, KV_NOTIFY_EVICTED, "evicted", key, klen);
}

/* ---- commands ----------------------------------------------------------------- */

static void subscribe_cmd(struct kv_client *c, int argc, struct resp_arg *argv, int kind)
{
    if (!c->srv->pubsub) { /* an embedded server without pub/sub (unit tests) */
        kv_reply_error(c, "ERR pub/sub is not available");
        return;
    }
    for (int i = 1; i < argc; i++)
        subscribe(c, kind, argv[i].ptr, argv[i].len);
}

static void unsubscribe_cmd(struct kv_client *c, int argc, struct resp_arg *argv, int kind)
{
    if (argc == 1) {
        unsubscribe_all(c, kind, true);
        return;
    }
    for (int i = 1; i < argc; i++)
        unsubscribe(c, kind, argv[i].ptr, argv[i].len, true);
}

void kv_cmd_SUBSCRIBE(struct kv_client *c, int argc, struct resp_arg *argv) { subscribe_cmd(c, argc, argv, KIND_CHAN); }
void kv_cmd_PSUBSCRIBE(struct kv_client *c, int argc, struct resp_arg *argv) { subscribe_cmd(c, argc, argv, KIND_PAT); }
void kv_cmd_SSUBSCRIBE(struct kv_client *c, int argc, struct resp_arg *argv) { subscribe_cmd(c, argc, argv, KIND_SHARD); }
void kv_cmd_UNSUBSCRIBE(struct kv_client *c, int argc, struct resp_arg *argv) { unsubscribe_cmd(c, argc, argv, KIND_CHAN); }
void kv_cmd_PUNSUBSCRIBE(struct kv_client *c, int argc, struct resp_arg *argv) { unsubscribe_cmd(c, argc, argv, KIND_PAT); }
void kv_cmd_SUNSUBSCRIBE(struct kv_client *c, int argc, struct resp_arg *argv) { unsubscribe_cmd(c, argc, argv, KIND_SHARD); }

void kv_cmd_PUBLISH(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    resp_add_int(&c->out, kv_pubsub_publish(c->srv, c, argv[1].ptr, argv[1].len, argv[2].ptr, argv[2].len, false));
}

void kv_cmd_SPUBLISH(struct kv_client *c, int argc, struct resp_arg *argv)
{
    (void)argc;
    resp_add_int(&c->out, kv_pubsub_publish(c->srv, c, argv[1].ptr, argv[1].len, argv[2].ptr, argv[2].len, true));
}

struct chans_arg {
    const struct resp_arg *pat;
    struct refvec names;   /* struct ps_chan *, cast */
};

static void chans_collect(struct dict_node *n, void *arg)
{
    struct chans_arg *ca = arg;
    struct ps_chan *ch = (struct ps_chan *)n;
    if (ca->pat && !util_glob_match(ca->pat->ptr, ca->pat->len, ch->name, ch->dn.klen, false))
        return;
    collect(n, &ca->names);
}

static void reply_channels(struct kv_client *c, int kind, const struct resp_arg *pat)
{
    struct chans_arg ca = {.pat = pat};
    kv_dict_foreach(&c->srv->pubsub->d[kind], chans_collect, &ca);
    resp_add_array(&c->out, (long long)ca.names.n);
    for (size_t i = 0; i < ca.names.n; i++) {
        struct ps_chan *ch = (struct ps_chan *)ca.names.v[i];
        resp_add_bulk(&c->out, ch->name, ch->dn.klen);
    }
    xfree(ca.names.v);
}

static void reply_numsub(struct kv_client *c, int kind, int argc, struct resp_arg *argv)
{
    struct dict *d = &c->srv->pubsub->d[kind];
    resp_add_array(&c->out, 2LL * (argc - 2));
    for (int i = 2; i < argc; i++) {
        struct ps_chan *ch = (struct ps_chan *)dict_find(d, argv[i].ptr, argv[i].len, kv_dict_hash(argv[i].ptr, argv[i].len));
        resp_add_bulk(&c->out, argv[i].ptr, argv[i].len);
        resp_add_int(&c->out, ch ? ch->n : 0);
    }
}

static const char *pubsub_help[] = {
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
};

void kv_cmd_PUBSUB(struct kv_client *c, int argc, struct resp_arg *argv)
{
    if (!c->srv->pubsub) {
        kv_reply_error(c, "ERR pub/sub is not available");
        return;
    }
    const struct resp_arg *sub = &argv[1];
    kv_set_subcommand(c, sub);
    const struct resp_arg *pat = argc == 3 ? &argv[2] : NULL;
    if (kv_arg_is(sub, "channels") && argc <= 3) {
        reply_channels(c, KIND_CHAN, pat);
    } else if (kv_arg_is(sub, "shardchannels") && argc <= 3) {
        reply_channels(c, KIND_SHARD, pat);
    } else if (kv_arg_is(sub, "numsub")) {
        reply_numsub(c, KIND_CHAN, argc, argv);
    } else if (kv_arg_is(sub, "shardnumsub")) {
        reply_numsub(c, KIND_SHARD, argc, argv);
    } else if (kv_arg_is(sub, "numpat")) {
        if (argc != 2)
            kv_reply_error(c, "ERR wrong number of arguments for 'pubsub|numpat' command");
        else
            resp_add_int(&c->out, (long long)dict_size(&c->srv->pubsub->d[KIND_PAT]));
    } else if (kv_arg_is(sub, "help")) {
        if (argc != 2) {
            kv_reply_error(c, "ERR wrong number of arguments for 'pubsub|help' command");
            return;
        }
        size_t n = sizeof pubsub_help / sizeof pubsub_help[0];
        resp_add_array(&c->out, (long long)n);
        for (size_t i = 0; i < n; i++)
            resp_add_simple(&c->out, pubsub_help[i], strlen(pubsub_help[i]));
    } else if (kv_arg_is(sub, "channels") || kv_arg_is(sub, "shardchannels")) {
        kv_reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try PUBSUB HELP.",
                        (int)sub->len, sub->ptr);
    } else {
        kv_reply_errorf(c, "ERR unknown subcommand '%.*s'. Try PUBSUB HELP.", (int)(sub->len > 128 ? 128 : sub->len),
                        sub->ptr);
    }
}
