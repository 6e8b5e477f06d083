/*
 * blocking.c — clients blocked on keys, generic over value types (see
 * blocking.h for the flow between threads).
 *
 * Data, all under the keyspace lock:
 *
 *   bk->keys: dict key ─▶ struct kv_bkey { queue of kv_bwait, oldest first }
 *   kv_blocked (one per blocked client) ─▶ waits[nkeys], one kv_bwait per key
 *   bk->ready: keys signalled since the last serve, in signal order
 *   bk->ws[worker]: that worker's blocked clients, its timer and async handle
 *
 * A blocked client leaves every queue at once when served, timed out or
 * disconnected; an empty key queue is freed. The client's reply travels in
 * b->reply until its own worker thread moves it to the output buffer.
 */
#include "kv/blocking.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "net/conn.h"
#include "core/util.h"
#include "kv/dict.h"
#include "kv/multi.h"
#include "kv/reply.h"

struct kv_bwait {
    struct kv_blocked *b;
    struct kv_bkey *k;
    struct kv_bwait *prev, *next;
};

struct kv_bkey {
    struct dict_node dn;
    struct kv_bwait *head, *tail;
    bool ready;  /* in bk->ready for database ready_db */
    int ready_db;
    char key[];
};

struct wstate {
    struct kv_blocking *bk;
    uv_async_t async;
    uv_timer_t timer;
    bool open;                 /* handles usable (lock) */
    struct kv_blocked *head;   /* this worker's blocked clients (lock) */
    long long armed;           /* deadline the timer is set for, 0 none (worker thread) */
};

struct ready_key {
    char *key;
    size_t klen;
    int db;
};

struct kv_blocking {
    struct kv_server *s;
    struct dict keys;
    struct ready_key *ready;
    size_t nready, capready;
    struct wstate *ws;
    int nworkers;
    unsigned long long nblocked;
};

struct kv_blocking *kv_blocking_new(struct kv_server *s, int nworkers)
{
    struct kv_blocking *bk = xcalloc(1, sizeof *bk);
    bk->s = s;
    kv_dict_init(&bk->keys, offsetof(struct kv_bkey, key));
    bk->nworkers = nworkers;
    bk->ws = xcalloc((size_t)nworkers, sizeof *bk->ws);
    for (int i = 0; i < nworkers; i++)
        bk->ws[i].bk = bk;
    return bk;
}

static void free_bkey(struct dict_node *n, void *arg)
{
    (void)arg;
    xfree(n);
}

void kv_blocking_free(struct kv_blocking *bk)
{
    if (!bk)
        return;
    for (size_t i = 0; i < bk->nready; i++)
        xfree(bk->ready[i].key);
    xfree(bk->ready);
    kv_dict_deinit(&bk->keys, free_bkey, NULL);
    xfree(bk->ws);
    xfree(bk);
}

unsigned long long kv_blocking_count(const struct kv_blocking *bk) { return bk ? bk->nblocked : 0; }

/* ---- leaving the queues --------------------------------------------------- */

static void free_args(struct kv_block_args *a)
{
    xfree(a->dst);
    if (a->priv && a->priv_free)
        a->priv_free(a->priv);
    a->dst = NULL;
    a->priv = NULL;
}

/* Remove b from every key queue (freeing emptied keys). */
static void unlink_waits(struct kv_blocking *bk, struct kv_blocked *b)
{
    for (int i = 0; i < b->nkeys; i++) {
        struct kv_bwait *w = &b->waits[i];
        struct kv_bkey *k = w->k;
        if (!k)
            continue;
        LIST_TREMOVE(k->head, k->tail, w, prev, next);
        w->k = NULL;
        if (!k->head) {
            struct dict_node *n = kv_dict_remove(&bk->keys, k->key, k->dn.klen, kv_dict_hash(k->key, k->dn.klen));
            xfree(n);
        }
    }
    b->nkeys = 0;
}

static void worker_unlink(struct wstate *ws, struct kv_blocked *b)
{
    LIST_REMOVE(ws->head, b, wprev, wnext);
    b->wprev = b->wnext = NULL;
}

static void blocked_free(struct kv_blocked *b)
{
    free_args(&b->a);
    buf_deinit(&b->reply);
    xfree(b->waits);
    xfree(b);
}

/* b is done (reply complete): leave the queues, tell its worker. */
static void finish(struct kv_blocking *bk, struct kv_blocked *b)
{
    unlink_waits(bk, b);
    b->done = true;
    bk->nblocked--;
    struct wstate *ws = &bk->ws[b->c->w->id];
    if (ws->open)
        uv_async_send(&ws->async);
}

bool kv_blocking_unblock(struct kv_client *target, bool error)
{
    struct kv_blocked *b = target->blk;
    if (!b || b->done)
        return false;
    if (error) {
        static const char msg[] = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
        resp_add_error(&b->reply, msg, sizeof msg - 1);
    } else {
        resp_add_null_array(&b->reply, b->proto);
    }
    finish(target->srv->blocking, b);
    return true;
}

bool kv_block_finish(struct kv_client *c, const void *reply, size_t n)
{
    struct kv_blocked *b = c->blk;
    if (!b || b->done)
        return false;
    buf_append(&b->reply, reply, n);
    finish(c->srv->blocking, b);
    return true;
}

void kv_blocking_client_gone(struct kv_client *c)
{
    struct kv_blocked *b = c->blk;
    if (!b)
        return;
    struct kv_blocking *bk = c->srv->blocking;
    if (!b->done) {
        unlink_waits(bk, b);
        bk->nblocked--;
    }
    worker_unlink(&bk->ws[c->w->id], b);
    c->blk = NULL;
    blocked_free(b);
}

/* ---- delivery on the waiter's worker thread ------------------------------- */

struct cvec {
    struct kv_client **v;
    size_t n, cap;
};

/* Move the replies of done waiters into their clients (lock held). */
static void deliver(struct wstate *ws, struct cvec *out)
{
    for (struct kv_blocked *b = ws->head, *next; b; b = next) {
        next = b->wnext;
        if (!b->done)
            continue;
        struct kv_client *c = b->c;
        worker_unlink(ws, b);
        buf_append(&c->out, buf_head(&b->reply), buf_pending(&b->reply));
        c->blk = NULL;
        blocked_free(b);
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 8;
            out->v = xrealloc(out->v, out->cap * sizeof *out->v);
        }
        out->v[out->n++] = c;
    }
}

static void resume_all(struct cvec *cv)
{
    for (size_t i = 0; i < cv->n; i++)
        kv_client_resume(cv->v[i]);
    xfree(cv->v);
}

static void arm(struct wstate *ws, long long deadline);

static void on_async(uv_async_t *a)
{
    struct wstate *ws = a->data;
    struct kv_server *s = ws->bk->s;
    struct cvec cv = {0};
    pthread_mutex_lock(&s->lock);
    deliver(ws, &cv);
    pthread_mutex_unlock(&s->lock);
    resume_all(&cv);
}

static void on_timer(uv_timer_t *t)
{
    struct wstate *ws = t->data;
    struct kv_blocking *bk = ws->bk;
    struct kv_server *s = bk->s;
    struct cvec cv = {0};
    long long next = 0;
    ws->armed = 0;
    pthread_mutex_lock(&s->lock);
    long long now = util_time_ms();
    for (struct kv_blocked *b = ws->head; b; b = b->wnext) {
        if (b->done || !b->deadline_ms)
            continue;
        if (b->deadline_ms <= now) {
            resp_add_null_array(&b->reply, b->proto);
            finish(bk, b);
        } else if (!next || b->deadline_ms < next) {
            next = b->deadline_ms;
        }
    }
    deliver(ws, &cv);
    pthread_mutex_unlock(&s->lock);
    if (next)
        arm(ws, next);
    resume_all(&cv);
}

/* Worker thread: make the timer fire by `deadline` (wall clock ms). */
static void arm(struct wstate *ws, long long deadline)
{
    if (!ws->open || (ws->armed && ws->armed <= deadline))
        return;
    long long delay = deadline - util_time_ms();
    if (delay < 0)
        delay = 0;
    ws->armed = deadline;
    uv_timer_start(&ws->timer, on_timer, (uint64_t)delay, 0);
}

void kv_blocking_worker_init(struct kv_blocking *bk, struct kv_worker *w)
{
    struct wstate *ws = &bk->ws[w->id];
    uv_async_init(&w->loop, &ws->async, on_async);
    ws->async.data = ws;
    uv_timer_init(&w->loop, &ws->timer);
    ws->timer.data = ws;
    ws->open = true;
}

void kv_blocking_worker_close(struct kv_blocking *bk, struct kv_worker *w)
{
    struct wstate *ws = &bk->ws[w->id];
    pthread_mutex_lock(&bk->s->lock);
    bool was = ws->open;
    ws->open = false;
    pthread_mutex_unlock(&bk->s->lock);
    if (!was)
        return;
    uv_timer_stop(&ws->timer);
    uv_close((uv_handle_t *)&ws->timer, NULL);
    uv_close((uv_handle_t *)&ws->async, NULL);
}

/* ---- blocking ------------------------------------------------------------- */

bool kv_block_timeout(struct kv_client *c, const struct resp_arg *a, long long *deadline_ms)
{
    long double secs;
    if (!util_str2ld(a->ptr, a->len, &secs)) {
        kv_reply_error(c, "ERR timeout is not a float or out of range");
        return false;
    }
    /* Redis converts seconds * 1000 (rounded up) to a long long; a value out
     * of range comes out as LLONG_MIN there, hence "negative" */
    long double ms = ceill(secs * 1000.0L);
    long long t;
    if (isnan(ms) || ms >= 9223372036854775808.0L || ms < -9223372036854775808.0L)
        t = LLONG_MIN;
    else
        t = (long long)ms;
    if (t < 0) {
        kv_reply_error(c, "ERR timeout is negative");
        return false;
    }
    if (t == 0) {
        *deadline_ms = 0;
        return true;
    }
    long long now = c->srv->db.now_ms;
    *deadline_ms = t > LLONG_MAX - now ? 0 : now + t; /* past the end of time: forever */
    return true;
}

void kv_block(struct kv_client *c, const struct resp_arg *keys, int nkeys, long long deadline_ms,
              kv_block_serve_fn *serve, const struct kv_block_args *args)
{
    struct kv_blocking *bk = c->srv->blocking;
    if (c->in_exec) {
        /* inside EXEC nothing may wait: the answer is the timeout's (Redis) */
        struct kv_block_args a = *args;
        free_args(&a);
        resp_add_null_array(&c->out, c->proto);
        return;
    }
    struct kv_blocked *b = xcalloc(1, sizeof *b);
    b->c = c;
    b->proto = c->proto;
    b->serve = serve;
    b->a = *args;
    b->deadline_ms = deadline_ms;
    b->db = c->db;
    buf_init(&b->reply);
    b->waits = xcalloc((size_t)nkeys, sizeof *b->waits);
    for (int i = 0; i < nkeys; i++) {
        const struct resp_arg *k = &keys[i];
        uint64_t h = kv_dict_hash(k->ptr, k->len);
        struct kv_bkey *bkey = (struct kv_bkey *)dict_find(&bk->keys, k->ptr, k->len, h);
        if (bkey && bkey->tail->b == b)
            continue; /* the same key twice */
        if (!bkey) {
            bkey = xmalloc(offsetof(struct kv_bkey, key) + k->len);
            bkey->dn.next = NULL;
            bkey->dn.klen = (uint32_t)k->len;
            bkey->dn.meta = 0;
            bkey->head = bkey->tail = NULL;
            bkey->ready = false;
            memcpy(bkey->key, k->ptr, k->len);
            kv_dict_insert(&bk->keys, &bkey->dn, h);
        }
        struct kv_bwait *w = &b->waits[b->nkeys++];
        w->b = b;
        w->k = bkey;
        w->next = NULL;
        w->prev = bkey->tail;
        if (bkey->tail)
            bkey->tail->next = w;
        else
            bkey->head = w;
        bkey->tail = w;
    }
    struct wstate *ws = &bk->ws[c->w->id];
    b->wnext = ws->head;
    if (ws->head)
        ws->head->wprev = b;
    ws->head = b;
    c->blk = b;
    bk->nblocked++;
    if (deadline_ms)
        arm(ws, deadline_ms);
}

/* ---- readiness and serving ------------------------------------------------ */

static void signal_db(struct kv_blocking *bk, int db, const char *key, size_t klen)
{
    struct kv_bkey *k = (struct kv_bkey *)dict_find(&bk->keys, key, klen, kv_dict_hash(key, klen));
    if (!k || (k->ready && k->ready_db == db))
        return;
    k->ready = true;
    k->ready_db = db;
    if (bk->nready == bk->capready) {
        bk->capready = bk->capready ? bk->capready * 2 : 8;
        bk->ready = xrealloc(bk->ready, bk->capready * sizeof *bk->ready);
    }
    bk->ready[bk->nready++] = (struct ready_key){xstrndup(key, klen), klen, db};
}

void kv_blocking_signal(struct kv_server *s, const char *key, size_t klen)
{
    struct kv_blocking *bk = s->blocking;
    if (!bk || dict_size(&bk->keys) == 0)
        return;
    signal_db(bk, s->db.id, key, klen); /* the hooks fire on the selected database */
}

struct swap_walk {
    struct kv_blocking *bk;
    int a, b;
};

static void swap_one(struct dict_node *n, void *arg)
{
    struct swap_walk *sw = arg;
    struct kv_bkey *k = (struct kv_bkey *)n;
    signal_db(sw->bk, sw->a, k->key, k->dn.klen);
    signal_db(sw->bk, sw->b, k->key, k->dn.klen);
}

void kv_blocking_swapdb(struct kv_server *s, int a, int b)
{
    struct kv_blocking *bk = s->blocking;
    if (!bk || dict_size(&bk->keys) == 0)
        return;
    struct swap_walk sw = {bk, a, b};
    kv_dict_foreach(&bk->keys, swap_one, &sw);
}

void kv_blocking_on_add(void *arg, const struct kv_obj *o)
{
    struct kv_server *s = arg;
    kv_blocking_signal(s, obj_key(o), obj_klen(o));
}

void kv_blocking_on_modify(void *arg, const char *key, size_t klen)
{
    kv_watch_on_modify(arg, key, klen);
    kv_blocking_signal(arg, key, klen);
}

void kv_blocking_serve_ready(struct kv_server *s)
{
    struct kv_blocking *bk = s->blocking;
    if (!bk || bk->nready == 0)
        return;
    int was = s->db.id;
    /* serving may signal more keys (BLMOVE pushes): they join the end */
    for (size_t i = 0; i < bk->nready; i++) {
        char *key = bk->ready[i].key;
        size_t klen = bk->ready[i].klen;
        int db = bk->ready[i].db;
        struct kv_bkey *k = (struct kv_bkey *)dict_find(&bk->keys, key, klen, kv_dict_hash(key, klen));
        if (!k)
            continue;
        if (k->ready_db == db)
            k->ready = false;
        /* every waiter of this database in order: one that cannot be served
         * (an XREAD whose id is ahead of the stream) does not hold up the
         * rest; waiters on the same key name in other databases keep their turn */
        kv_db_select(s, db);
        struct kv_bwait *w = k->head;
        while (w) {
            struct kv_blocked *b = w->b;
            struct kv_bwait *next = w->next; /* another client's entry: survives finish(b) */
            bool last = w == k->tail;
            if (b->db == db && b->serve(s, b, key, klen))
                finish(bk, b); /* frees k when b was its last waiter */
            if (last)
                break;
            w = next;
        }
    }
    kv_db_select(s, was);
    for (size_t i = 0; i < bk->nready; i++)
        xfree(bk->ready[i].key);
    bk->nready = 0;
}
