/*
 * async_load.c — an RDB image loaded on its own thread while the server
 * serves its current data (see async_load.h).
 *
 * The loader reads the image through a streaming rdb_reader: its window
 * holds what the thread took from the queue and has not parsed; the loader
 * drops the parsed bytes between keys, so the memory beyond the new
 * databases is the queue (at most QUEUE_HIGH plus one socket read) and the
 * value being parsed. Worker 0 stops reading the socket while the queue is
 * full and the thread wakes it when it took the bytes.
 */
#include "kv/async_load.h"

#include <pthread.h>
#include <stdatomic.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"

#define QUEUE_HIGH (8u << 20)           /* worker 0 stops reading the socket past this */
#define MAX_CLAIM (16ULL << 30)         /* the most one read of the image may ask for */
#define LAZY_FREE_KEYS 64               /* Redis's LAZYFREE_THRESHOLD, counted in keys here */

struct kv_async_load {
    int ndbs;
    struct kv_db *dbs;                  /* the new databases (the thread's until done) */
    bool strict_end;
    int fd;                             /* >= 0: the image is read from this file */
    long long key_delay_us;
    pthread_t th;
    bool started;                       /* th runs (joined by kv_async_load_free) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu */
    struct buf q;                       /* fed, not taken by the thread yet */
    bool end, cancel, done, want_wake;
    /* the thread's */
    struct buf win;
    struct rdb_reader r;
    /* the result, read after done */
    int rc;
    char err[600];
    struct kv_rdb_load_stats st;
    char **code;
    size_t *code_len;
    int ncode, capcode;
    /* progress */
    _Atomic uint64_t loaded;
    _Atomic uint64_t used_mem;
    long long start_ms;
    /* worker 0 */
    uv_async_t wake;
    void (*on_event)(void *arg);
    void *arg;
};

/* ---- the thread ---------------------------------------------------------------------- */

static void win_sync(struct kv_async_load *l)
{
    l->r.p = (const uint8_t *)buf_head(&l->win);
    l->r.len = buf_pending(&l->win);
}

static bool cancelled(struct kv_async_load *l)
{
    pthread_mutex_lock(&l->mu);
    bool c = l->cancel;
    pthread_mutex_unlock(&l->mu);
    return c;
}

/* rdb_reader fill from the file: read until n bytes are past off. */
static bool fill_from_file(struct kv_async_load *l, struct rdb_reader *r, size_t n)
{
    while (r->len - r->off < n) {
        if (cancelled(l))
            return false;
        buf_reserve(&l->win, 1u << 20);
        ssize_t k = read(l->fd, buf_tail(&l->win), buf_room(&l->win));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        l->win.len += (size_t)k;
        win_sync(l);
    }
    return true;
}

/* rdb_reader fill: wait for bytes from worker 0 until n are past off. */
static bool on_fill(struct rdb_reader *r, size_t n)
{
    struct kv_async_load *l = r->fill_arg;
    if (n > MAX_CLAIM)
        return false;
    if (l->fd >= 0)
        return fill_from_file(l, r, n);
    while (r->len - r->off < n) {
        bool wake = false;
        pthread_mutex_lock(&l->mu);
        while (buf_pending(&l->q) == 0 && !l->end && !l->cancel)
            pthread_cond_wait(&l->cv, &l->mu);
        if (l->cancel || buf_pending(&l->q) == 0) {
            pthread_mutex_unlock(&l->mu);
            return false;
        }
        buf_move(&l->q, &l->win, buf_pending(&l->q));
        if (l->want_wake) {
            l->want_wake = false;
            wake = true;
        }
        pthread_mutex_unlock(&l->mu);
        if (wake)
            uv_async_send(&l->wake);
        win_sync(l);
    }
    return true;
}

/* rdb_reader drop: forget the parsed bytes. */
static void on_drop(struct rdb_reader *r)
{
    struct kv_async_load *l = r->fill_arg;
    buf_consume(&l->win, r->off);
    r->base += r->off;
    r->off = 0;
    win_sync(l);
    atomic_store_explicit(&l->loaded, r->base, memory_order_relaxed);
}

static void on_code(void *arg, const char *code, size_t len)
{
    struct kv_async_load *l = arg;
    if (l->ncode == l->capcode) {
        l->capcode = l->capcode ? l->capcode * 2 : 8;
        l->code = xrealloc(l->code, (size_t)l->capcode * sizeof *l->code);
        l->code_len = xrealloc(l->code_len, (size_t)l->capcode * sizeof *l->code_len);
    }
    l->code[l->ncode] = xmalloc(len ? len : 1);
    memcpy(l->code[l->ncode], code, len);
    l->code_len[l->ncode++] = len;
}

static void on_aux(void *arg, const char *k, size_t klen, const char *v, size_t vlen)
{
    struct kv_async_load *l = arg;
    long long m;
    if (klen == 8 && memcmp(k, "used-mem", 8) == 0 && util_str2ll(v, vlen, &m) && m > 0)
        atomic_store_explicit(&l->used_mem, (uint64_t)m, memory_order_relaxed);
}

static void *loader_main(void *arg)
{
    struct kv_async_load *l = arg;
    struct kv_db **tp = xcalloc((size_t)l->ndbs, sizeof *tp);
    for (int i = 0; i < l->ndbs; i++)
        tp[i] = &l->dbs[i];
    rdb_reader_init(&l->r, NULL, 0);
    l->r.fill = on_fill;
    l->r.drop = on_drop;
    l->r.fill_arg = l;
    win_sync(l);
    struct kv_rdb_load_opts lo = {.fn_code = on_code, .aux = on_aux, .arg = l, .key_delay_us = l->key_delay_us};
    l->rc = kv_rdb_load_reader(&l->r, tp, l->ndbs, util_time_ms(), &lo, &l->st, l->err, sizeof l->err);
    xfree(tp);
    if (l->rc == 0 && l->strict_end && l->fd < 0) {
        /* the image must end where the mark said the payload ends */
        size_t left = l->r.len - l->r.off;
        pthread_mutex_lock(&l->mu);
        while (!l->end && !l->cancel && left + buf_pending(&l->q) == 0)
            pthread_cond_wait(&l->cv, &l->mu);
        left += buf_pending(&l->q);
        bool cancelled = l->cancel;
        pthread_mutex_unlock(&l->mu);
        if (cancelled || left) {
            snprintf(l->err, sizeof l->err, "offset %zu: %s", l->st.consumed,
                     cancelled ? "loading stopped" : "bytes after the end of the RDB image");
            l->rc = -1;
        }
    }
    atomic_store_explicit(&l->loaded, l->r.base + l->r.off, memory_order_relaxed);
    pthread_mutex_lock(&l->mu);
    l->done = true;
    pthread_mutex_unlock(&l->mu);
    uv_async_send(&l->wake);
    return NULL;
}

/* ---- worker 0 -------------------------------------------------------------------------- */

static void on_wake(uv_async_t *a)
{
    struct kv_async_load *l = a->data;
    if (l->on_event)
        l->on_event(l->arg);
}

struct kv_async_load *kv_async_load_start(struct kv_db *const *like, int ndbs, bool strict_end, uv_loop_t *loop,
                                          void (*on_event)(void *arg), void *arg)
{
    struct kv_async_load_src src = {.strict_end = strict_end, .fd = -1};
    return kv_async_load_start_src(like, ndbs, &src, loop, on_event, arg);
}

struct kv_async_load *kv_async_load_start_src(struct kv_db *const *like, int ndbs, const struct kv_async_load_src *src,
                                              uv_loop_t *loop, void (*on_event)(void *arg), void *arg)
{
    struct kv_async_load *l = xcalloc(1, sizeof *l);
    l->ndbs = ndbs;
    l->strict_end = src->strict_end;
    l->fd = src->fd;
    l->key_delay_us = src->key_delay_us;
    l->dbs = xcalloc((size_t)ndbs, sizeof *l->dbs);
    for (int i = 0; i < ndbs; i++) {
        kv_db_init(&l->dbs[i]);
        l->dbs[i].id = i;
        l->dbs[i].lfu_log_factor = like[i]->lfu_log_factor;
        l->dbs[i].lfu_decay_time = like[i]->lfu_decay_time;
    }
    buf_init(&l->q);
    buf_init(&l->win);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->on_event = on_event;
    l->arg = arg;
    l->start_ms = util_time_ms();
    uv_async_init(loop, &l->wake, on_wake);
    l->wake.data = l;
    if (pthread_create(&l->th, NULL, loader_main, l) != 0) {
        log_warn("Can't start the thread of an async load");
        l->on_event = NULL;
        l->done = true;
        l->rc = -1;
        kv_async_load_free(l, false);
        return NULL;
    }
    l->started = true;
    return l;
}

bool kv_async_load_feed(struct kv_async_load *l, const void *p, size_t n)
{
    pthread_mutex_lock(&l->mu);
    buf_append(&l->q, p, n);
    bool room = buf_pending(&l->q) < QUEUE_HIGH;
    if (!room)
        l->want_wake = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    return room;
}

void kv_async_load_end(struct kv_async_load *l)
{
    pthread_mutex_lock(&l->mu);
    l->end = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

bool kv_async_load_has_room(struct kv_async_load *l)
{
    pthread_mutex_lock(&l->mu);
    bool room = buf_pending(&l->q) < QUEUE_HIGH;
    if (!room)
        l->want_wake = true;
    pthread_mutex_unlock(&l->mu);
    return room;
}

bool kv_async_load_done(struct kv_async_load *l)
{
    pthread_mutex_lock(&l->mu);
    bool d = l->done;
    pthread_mutex_unlock(&l->mu);
    return d;
}

void kv_async_load_result(struct kv_async_load *l, struct kv_async_load_result *out)
{
    out->rc = l->rc;
    out->err = l->err;
    out->st = &l->st;
    out->dbs = l->dbs;
    out->ndbs = l->ndbs;
}

void kv_async_load_foreach_code(struct kv_async_load *l, void (*cb)(void *arg, const char *code, size_t len),
                                void *arg)
{
    for (int i = 0; i < l->ncode; i++)
        cb(arg, l->code[i], l->code_len[i]);
}

void kv_async_load_progress(struct kv_async_load *l, uint64_t *loaded, uint64_t *used_mem, long long *start_ms)
{
    *loaded = atomic_load_explicit(&l->loaded, memory_order_relaxed);
    *used_mem = atomic_load_explicit(&l->used_mem, memory_order_relaxed);
    *start_ms = l->start_ms;
}

struct lazy_free {
    struct kv_db *dbs;
    int n;
};

static void free_dbs_now(struct kv_db *dbs, int n)
{
    for (int i = 0; i < n; i++)
        kv_db_deinit(&dbs[i]);
    xfree(dbs);
}

static void *lazy_free_main(void *arg)
{
    struct lazy_free *f = arg;
    free_dbs_now(f->dbs, f->n);
    xfree(f);
    return NULL;
}

void kv_async_load_free_dbs(struct kv_db *dbs, int n, bool lazy)
{
    uint64_t keys = 0;
    for (int i = 0; i < n; i++)
        keys += db_size(&dbs[i]);
    if (lazy && keys > LAZY_FREE_KEYS) {
        struct lazy_free *f = xmalloc(sizeof *f);
        f->dbs = dbs;
        f->n = n;
        pthread_attr_t at;
        pthread_t th;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&th, &at, lazy_free_main, f);
        pthread_attr_destroy(&at);
        if (rc == 0)
            return;
        xfree(f);
    }
    free_dbs_now(dbs, n);
}

static void on_closed(uv_handle_t *h)
{
    struct kv_async_load *l = h->data;
    xfree(l);
}

void kv_async_load_free(struct kv_async_load *l, bool lazy)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->cancel = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    if (l->started)
        pthread_join(l->th, NULL);
    kv_async_load_free_dbs(l->dbs, l->ndbs, lazy);
    l->dbs = NULL;
    for (int i = 0; i < l->ncode; i++)
        xfree(l->code[i]);
    xfree(l->code);
    xfree(l->code_len);
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    buf_deinit(&l->q);
    buf_deinit(&l->win);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    l->on_event = NULL;
    uv_close((uv_handle_t *)&l->wake, on_closed);
}
