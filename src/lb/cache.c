/*
 * cache.c — the edge cache store, its fills (one origin fetch per key and
 * worker) and its answers; the overview is in cache.h, the rules in
 * cache_policy.c.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <xxhash.h>

#include "core/alloc.h"
#include "core/list.h"
#include "core/log.h"
#include "lb/cache.h"
#include "lb/lb.h"

#define MAX_VARY 8
/* An uncacheable answer leaves a marker this long: requests for the URL then
 * go to the origin at once instead of waiting behind each other's fetch
 * (Varnish's hit-for-miss); a cacheable answer replaces it. */
#define PASS_MARK_MS 120000
#define HDRS_MAX 100

struct lb_cache_obj {
    struct lb_cache_obj *hnext;             /* bucket chain */
    struct lb_cache_obj *prev, *next;       /* LRU: head is the most recent */
    _Atomic int refs;                       /* the table's one, fills' */
    bool linked;
    uint64_t seq;                           /* when it was inserted (c->seq) */
    uint64_t hash;
    char *key;                              /* host '\0' path */
    size_t host_len, path_len;
    char *vary;                             /* nvary x (present byte, name NUL, value NUL) */
    size_t vary_len;
    int nvary;
    int status;
    char *head;                             /* header lines, each CRLF; no Content-Length/Age/hop-by-hop */
    size_t head_len;
    char *body;
    size_t body_len;
    char *etag, *last_mod;                  /* NUL-terminated copies, or NULL */
    time_t last_mod_t;
    bool has_last_mod_t;
    long long recv_ms;                      /* loop clock when received */
    long long age0;                         /* age then, seconds */
    long long lifetime, swr, sie;           /* seconds */
    bool no_stale;
    bool marker;                            /* hit-for-miss marker: no answer in it */
    size_t size;                            /* bytes charged to the limit */
};

struct lb_cache_fill {
    struct lb_cache *c;
    int worker;
    struct lb_cache_fill *next;             /* the store's fills in progress (c->lock) */
    /* another worker's requests wait on a shadow of the fill, on their own
     * loop: the fill signals it (uv_async_send) when it finishes */
    bool shadow;
    struct lb_cache_fill *shadows, *snext;  /* a fill's shadows (c->lock) */
    uv_async_t async;                       /* shadow: the fill finished */
    _Atomic int amode;
    uint64_t hash;
    char *key;
    size_t host_len, path_len;
    char *reqhead;
    size_t reqhead_len;
    struct lb_cache_obj *stale;             /* reference, or NULL */
    struct lb_cache_obj *fresh;             /* reference: what a 304 refreshed */
    bool bg, collecting, finished;
    bool failed, stale_served;              /* the origin failed; the stale object answered */
    int mode;                               /* enum lb_cache_wake for the waiters */
    bool uncacheable;                       /* decided from the response: waiters go to the origin */
    struct lb_cache_obj *obj;               /* being built (head known) */
    struct buf body;
    struct http1_chunked ck;
    void *waiters;
    int nwaiters;
    uv_timer_t timer;
    void (*wake)(void *head, int mode);
};

struct lb_cache {
    pthread_mutex_t lock;
    struct lb_cache_obj **buckets;
    size_t nbuckets;
    struct lb_cache_obj *lru_head, *lru_tail;
    uint64_t bytes;
    _Atomic uint64_t max_bytes, max_object; /* written by a reload, read by workers */
    _Atomic int max_waiters;
    long long nobjects;
    struct lb_cache_fill *fills;            /* fetches in progress, every worker's */
    uint64_t seq;                           /* objects inserted so far */
    void (*wake)(void *head, int mode);
    _Atomic uint64_t hits, misses, stale, revalidated, evictions, stores, passes, purged;
};

/* ---- store ---------------------------------------------------------------- */

struct lb_cache *lb_cache_new(void)
{
    struct lb_cache *c = xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    c->nbuckets = 1024;
    c->buckets = xcalloc(c->nbuckets, sizeof *c->buckets);
    c->max_object = 1 << 20;
    c->max_waiters = 1024;
    return c;
}

static void obj_free(struct lb_cache_obj *o)
{
    xfree(o->key);
    xfree(o->vary);
    xfree(o->head);
    xfree(o->body);
    xfree(o->etag);
    xfree(o->last_mod);
    xfree(o);
}

void lb_cache_obj_unref(struct lb_cache_obj *o)
{
    if (o && atomic_fetch_sub(&o->refs, 1) == 1)
        obj_free(o);
}

/* Take o out of the table and the LRU list (lock held). */
static void unlink_obj(struct lb_cache *c, struct lb_cache_obj *o)
{
    struct lb_cache_obj **pp = &c->buckets[o->hash & (c->nbuckets - 1)];
    while (*pp && *pp != o)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = o->hnext;
    LIST_TREMOVE(c->lru_head, c->lru_tail, o, prev, next);
    o->prev = o->next = o->hnext = NULL;
    o->linked = false;
    c->bytes -= o->size;
    c->nobjects--;
    lb_cache_obj_unref(o);
}

static void evict(struct lb_cache *c)
{
    while (c->bytes > c->max_bytes && c->lru_tail) {
        unlink_obj(c, c->lru_tail);
        atomic_fetch_add_explicit(&c->evictions, 1, memory_order_relaxed);
    }
}

void lb_cache_configure(struct lb_cache *c, uint64_t max_bytes, uint64_t max_object, int max_waiters)
{
    pthread_mutex_lock(&c->lock);
    c->max_bytes = max_bytes;
    c->max_object = max_object;
    c->max_waiters = max_waiters;
    evict(c);
    pthread_mutex_unlock(&c->lock);
}

bool lb_cache_enabled(const struct lb_cache *c) { return c && atomic_load_explicit(&c->max_bytes, memory_order_relaxed) > 0; }

void lb_cache_free(struct lb_cache *c)
{
    if (!c)
        return;
    while (c->lru_head)
        unlink_obj(c, c->lru_head);
    xfree(c->buckets);
    pthread_mutex_destroy(&c->lock);
    xfree(c);
}

/* A stored key is host, a separator byte and the path; the separator is
 * the scheme ('\0' http, '\1' https), so both compare as one string. */
static char key_sep(bool https) { return https ? '\1' : '\0'; }

void lb_cache_key_init(struct lb_cache_key *k, const char *host, size_t hl, const char *path, size_t pl, bool https)
{
    k->host = host;
    k->host_len = host ? hl : 0;
    k->path = path;
    k->path_len = pl;
    char low[256];
    size_t n = k->host_len < sizeof low ? k->host_len : sizeof low;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)((host[i] >= 'A' && host[i] <= 'Z') ? host[i] + 32 : host[i]);
    k->https = https;
    k->hash = XXH3_64bits_withSeed(path, pl, XXH3_64bits(low, n) ^ (https ? 0x9e3779b97f4a7c15ull : 0));
}

static bool key_eq(const char *key, size_t hl, size_t pl, uint64_t hash, const struct lb_cache_key *k, uint64_t kh)
{
    return hash == kh && hl == k->host_len && pl == k->path_len && key[hl] == key_sep(k->https) &&
           (hl == 0 || strncasecmp(key, k->host, hl) == 0) && memcmp(key + hl + 1, k->path, pl) == 0;
}

/* The request's value of field name: first occurrence. */
static const struct http1_header *req_field(const struct http1_request *r, const char *name)
{
    return http1_find_header(r->headers, r->num_headers, name, strlen(name));
}

static bool vary_match(const struct lb_cache_obj *o, const struct http1_request *r)
{
    const char *p = o->vary;
    for (int i = 0; i < o->nvary; i++) {
        bool present = *p++ == 1;
        const char *name = p;
        p += strlen(p) + 1;
        const char *val = p;
        size_t vl = strlen(p);
        p += vl + 1;
        const struct http1_header *h = req_field(r, name);
        if (!h != !present)
            return false;
        if (h && (h->value_len != vl || memcmp(h->value, val, vl) != 0))
            return false;
    }
    return true;
}

static void lru_touch(struct lb_cache *c, struct lb_cache_obj *o)
{
    if (c->lru_head == o)
        return;
    LIST_TREMOVE(c->lru_head, c->lru_tail, o, prev, next);
    LIST_TPUSH(c->lru_head, c->lru_tail, o, prev, next);
}

/* The object for the request (an answer before a marker). */
static struct lb_cache_obj *find(struct lb_cache *c, const struct lb_cache_key *k, const struct http1_request *r)
{
    struct lb_cache_obj *mark = NULL;
    for (struct lb_cache_obj *o = c->buckets[k->hash & (c->nbuckets - 1)]; o; o = o->hnext) {
        if (key_eq(o->key, o->host_len, o->path_len, o->hash, k, k->hash) && (!r || vary_match(o, r))) {
            if (!o->marker)
                return o;
            mark = o;
        }
    }
    return mark;
}

static void grow(struct lb_cache *c)
{
    size_t nb = c->nbuckets * 2;
    struct lb_cache_obj **b = xcalloc(nb, sizeof *b);
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (struct lb_cache_obj *o = c->buckets[i], *next; o; o = next) {
            next = o->hnext;
            o->hnext = b[o->hash & (nb - 1)];
            b[o->hash & (nb - 1)] = o;
        }
    }
    xfree(c->buckets);
    c->buckets = b;
    c->nbuckets = nb;
}

static bool same_variant(const struct lb_cache_obj *a, const struct lb_cache_obj *b)
{
    return a->hash == b->hash && a->host_len == b->host_len && a->path_len == b->path_len &&
           memcmp(a->key, b->key, a->host_len + 1 + a->path_len) == 0 && a->vary_len == b->vary_len &&
           (a->vary_len == 0 || memcmp(a->vary, b->vary, a->vary_len) == 0);
}

/* Insert o (its reference goes to the table), replacing the same variant. */
static void insert(struct lb_cache *c, struct lb_cache_obj *o)
{
    pthread_mutex_lock(&c->lock);
    if (o->size > c->max_bytes || o->size > c->max_object + 65536) {
        pthread_mutex_unlock(&c->lock);
        lb_cache_obj_unref(o);
        return;
    }
    for (struct lb_cache_obj *x = c->buckets[o->hash & (c->nbuckets - 1)], *next; x; x = next) {
        next = x->hnext;
        /* the same variant, and a marker of the URL once it gave an answer to keep */
        if (same_variant(x, o) || (x->marker && !o->marker && x->hash == o->hash && x->host_len == o->host_len &&
                                   x->path_len == o->path_len &&
                                   memcmp(x->key, o->key, o->host_len + 1 + o->path_len) == 0))
            unlink_obj(c, x);
    }
    if ((size_t)c->nobjects >= c->nbuckets)
        grow(c);
    struct lb_cache_obj **b = &c->buckets[o->hash & (c->nbuckets - 1)];
    o->seq = ++c->seq;
    o->hnext = *b;
    *b = o;
    LIST_TPUSH(c->lru_head, c->lru_tail, o, prev, next);
    o->linked = true;
    c->bytes += o->size;
    c->nobjects++;
    if (!o->marker)
        atomic_fetch_add_explicit(&c->stores, 1, memory_order_relaxed);
    evict(c);
    pthread_mutex_unlock(&c->lock);
}

/* ---- answers ------------------------------------------------------------- */

static long long age_of(const struct lb_cache_obj *o, long long now_ms)
{
    long long d = now_ms - o->recv_ms;
    return o->age0 + (d > 0 ? d / 1000 : 0);
}

static bool not_modified(const struct lb_cache_obj *o, const struct http1_request *r)
{
    if (o->status < 200 || o->status >= 300)
        return false;
    const struct http1_header *h = req_field(r, "if-none-match");
    if (h)
        return o->etag && lb_cache_etag_match(h->value, h->value_len, o->etag, strlen(o->etag));
    h = req_field(r, "if-modified-since");
    time_t ims;
    if (h && o->has_last_mod_t && http1_parse_date(h->value, h->value_len, &ims))
        return o->last_mod_t <= ims;
    return false;
}

static void put_num(struct buf *b, const char *name, unsigned long long v)
{
    char tmp[24];
    int i = (int)sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    buf_puts(b, name);
    buf_append(b, tmp + i, sizeof tmp - (size_t)i);
    buf_append(b, "\r\n", 2);
}

void lb_cache_write(struct lb_cache *c, const struct lb_cache_obj *o, long long now_ms, const char *xcache,
                    struct lb_cache_answer *a)
{
    (void)c;
    const struct http1_request *r = a->req;
    struct buf *out = a->out;
    bool head = r->meth == HTTP1_METHOD_HEAD;
    int status = o->status;
    uint64_t first = 0, last = o->body_len ? o->body_len - 1 : 0;
    int range = 0;
    if (not_modified(o, r)) {
        status = 304;
    } else if (o->status == 200) {
        const struct http1_header *h = req_field(r, "range");
        const struct http1_header *ir = req_field(r, "if-range");
        bool ir_ok = !ir || (o->etag && ir->value_len == strlen(o->etag) && o->etag[0] == '"' &&
                             memcmp(ir->value, o->etag, ir->value_len) == 0);
        if (h && ir_ok) {
            range = lb_cache_range(h->value, h->value_len, o->body_len, &first, &last);
            if (range == 1)
                status = 206;
            else if (range == -1)
                status = 416;
        }
    }
    buf_reserve(out, o->head_len + (head || status == 304 ? 0 : o->body_len) + 256);
    http1_write_status_line(out, status);
    buf_append(out, o->head, o->head_len);
    put_num(out, "Age: ", (unsigned long long)age_of(o, now_ms));
    buf_puts(out, "X-Cache: ");
    buf_puts(out, xcache);
    buf_append(out, "\r\n", 2);
    const char *body = NULL;
    size_t blen = 0;
    if (status == 206) {
        char cr[96];
        int n = snprintf(cr, sizeof cr, "Content-Range: bytes %llu-%llu/%zu\r\n", (unsigned long long)first,
                         (unsigned long long)last, o->body_len);
        buf_append(out, cr, (size_t)n);
        body = o->body + first;
        blen = (size_t)(last - first + 1);
        put_num(out, "Content-Length: ", blen);
    } else if (status == 416) {
        char cr[64];
        int n = snprintf(cr, sizeof cr, "Content-Range: bytes */%zu\r\n", o->body_len);
        buf_append(out, cr, (size_t)n);
        put_num(out, "Content-Length: ", 0);
    } else if (status != 304 && status != 204) {
        body = o->body;
        blen = o->body_len;
        put_num(out, "Content-Length: ", blen);
    }
    if (a->close)
        buf_puts(out, "Connection: close\r\n");
    else if (a->keepalive_hdr)
        buf_puts(out, "Connection: keep-alive\r\n");
    buf_append(out, "\r\n", 2);
    if (!head && blen)
        buf_append(out, body, blen);
    a->status = status;
}

enum lb_cache_result lb_cache_lookup(struct lb_cache *c, const struct lb_cache_key *k, long long now_ms,
                                     struct lb_cache_answer *a, struct lb_cache_obj **stale)
{
    *stale = NULL;
    pthread_mutex_lock(&c->lock);
    a->seen = c->seq;
    struct lb_cache_obj *o = find(c, k, a->req);
    if (!o) {
        pthread_mutex_unlock(&c->lock);
        atomic_fetch_add_explicit(&c->misses, 1, memory_order_relaxed);
        return LB_CACHE_MISS;
    }
    lru_touch(c, o);
    if (o->marker) {
        bool live = now_ms - o->recv_ms < PASS_MARK_MS;
        pthread_mutex_unlock(&c->lock);
        atomic_fetch_add_explicit(&c->misses, 1, memory_order_relaxed);
        return live ? LB_CACHE_PASS : LB_CACHE_MISS;
    }
    long long age = age_of(o, now_ms);
    if (age < o->lifetime) {
        lb_cache_write(c, o, now_ms, "HIT", a);
        pthread_mutex_unlock(&c->lock);
        atomic_fetch_add_explicit(&c->hits, 1, memory_order_relaxed);
        return LB_CACHE_HIT;
    }
    if (!o->no_stale && o->swr > 0 && age < o->lifetime + o->swr) {
        lb_cache_write(c, o, now_ms, "STALE", a);
        atomic_fetch_add(&o->refs, 1);
        *stale = o;
        pthread_mutex_unlock(&c->lock);
        atomic_fetch_add_explicit(&c->stale, 1, memory_order_relaxed);
        return LB_CACHE_STALE_SERVED;
    }
    atomic_fetch_add(&o->refs, 1);
    *stale = o;
    pthread_mutex_unlock(&c->lock);
    atomic_fetch_add_explicit(&c->misses, 1, memory_order_relaxed);
    return LB_CACHE_STALE;
}

/* ---- fills ------------------------------------------------------------------ */

static void on_shadow_closed(uv_handle_t *h) { xfree(h->data); }

/* The fill a shadow stands for finished: wake its waiters (this worker's). */
static void on_shadow_async(uv_async_t *a)
{
    struct lb_cache_fill *sh = a->data;
    struct lb_cache *c = sh->c;
    pthread_mutex_lock(&c->lock);
    void (*wake)(void *, int) = c->wake;
    pthread_mutex_unlock(&c->lock);
    void *w = sh->waiters;
    sh->waiters = NULL;
    if (w && wake)
        wake(w, atomic_load(&sh->amode));
    uv_close((uv_handle_t *)&sh->async, on_shadow_closed);
}

/* A fill's shadow on worker's loop (made on first use). c->lock held. */
static struct lb_cache_fill *shadow_of(struct lb_cache_fill *f, int worker, uv_loop_t *loop)
{
    struct lb_cache_fill *sh = f->shadows;
    while (sh && sh->worker != worker)
        sh = sh->snext;
    if (!sh) {
        sh = xcalloc(1, sizeof *sh);
        sh->c = f->c;
        sh->worker = worker;
        sh->shadow = true;
        uv_async_init(loop, &sh->async, on_shadow_async);
        sh->async.data = sh;
        sh->snext = f->shadows;
        f->shadows = sh;
    }
    return sh;
}

/* An object of k's URL (any variant, or a marker) was inserted after the
 * lookup that saw c->seq == seen. c->lock held. */
static bool stored_since(struct lb_cache *c, const struct lb_cache_key *k, uint64_t seen)
{
    for (struct lb_cache_obj *o = c->buckets[k->hash & (c->nbuckets - 1)]; o; o = o->hnext)
        if (o->seq > seen && key_eq(o->key, o->host_len, o->path_len, o->hash, k, k->hash))
            return true;
    return false;
}

static struct lb_cache_fill *fill_new(struct lb_cache *c, int worker, uv_loop_t *loop, const struct lb_cache_key *k)
{
    struct lb_cache_fill *f = xcalloc(1, sizeof *f);
    f->c = c;
    f->worker = worker;
    f->hash = k->hash;
    f->host_len = k->host_len;
    f->path_len = k->path_len;
    f->key = xmalloc(k->host_len + k->path_len + 2);
    for (size_t i = 0; i < k->host_len; i++) {
        char ch = k->host[i];
        f->key[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    f->key[k->host_len] = key_sep(k->https);
    memcpy(f->key + k->host_len + 1, k->path, k->path_len);
    f->key[k->host_len + 1 + k->path_len] = '\0';
    buf_init(&f->body);
    uv_timer_init(loop, &f->timer);
    f->timer.data = f;
    return f;
}

enum lb_cache_join lb_cache_fill_join(struct lb_cache *c, int worker, uv_loop_t *loop, const struct lb_cache_key *k,
                                      uint64_t seen, bool claim, struct lb_cache_fill **out)
{
    enum lb_cache_join j;
    *out = NULL;
    pthread_mutex_lock(&c->lock);
    struct lb_cache_fill *f = c->fills;
    while (f && !key_eq(f->key, f->host_len, f->path_len, f->hash, k, k->hash))
        f = f->next;
    if (f) {
        *out = f->worker == worker ? f : shadow_of(f, worker, loop);
        j = LB_CACHE_JOIN_WAIT;
    } else if (stored_since(c, k, seen)) {
        j = LB_CACHE_JOIN_AGAIN; /* a fill finished between the lookup and now */
    } else if (!claim) {
        j = LB_CACHE_JOIN_NONE;
    } else {
        /* registered before the lock is let go: a request of the same URL
         * on another worker finds it and waits, never fetches too */
        f = fill_new(c, worker, loop, k);
        f->next = c->fills;
        c->fills = f;
        *out = f;
        j = LB_CACHE_JOIN_OWN;
    }
    pthread_mutex_unlock(&c->lock);
    return j;
}

void lb_cache_fill_begin(struct lb_cache_fill *f, const char *reqhead, size_t reqhead_len, struct lb_cache_obj *stale,
                         bool bg)
{
    f->reqhead = xmalloc(reqhead_len + 1);
    memcpy(f->reqhead, reqhead, reqhead_len);
    f->reqhead[reqhead_len] = '\0';
    f->reqhead_len = reqhead_len;
    f->stale = stale;
    f->bg = bg;
}

struct lb_cache_fill *lb_cache_fill_start(struct lb_cache *c, int worker, uv_loop_t *loop,
                                          const struct lb_cache_key *k, const char *reqhead, size_t reqhead_len,
                                          struct lb_cache_obj *stale, bool bg, bool coalesce)
{
    struct lb_cache_fill *f = fill_new(c, worker, loop, k);
    lb_cache_fill_begin(f, reqhead, reqhead_len, stale, bg);
    if (coalesce) {
        pthread_mutex_lock(&c->lock);
        f->next = c->fills;
        c->fills = f;
        pthread_mutex_unlock(&c->lock);
    }
    return f;
}

bool lb_cache_fill_wait(struct lb_cache_fill *f)
{
    if (f->nwaiters >= f->c->max_waiters)
        return false;
    f->nwaiters++;
    return true;
}

void lb_cache_fill_unwait(struct lb_cache_fill *f) { f->nwaiters--; }
void **lb_cache_fill_waiters(struct lb_cache_fill *f) { return &f->waiters; }
bool lb_cache_fill_bg(const struct lb_cache_fill *f) { return f->bg; }
const struct lb_cache_obj *lb_cache_fill_stale(const struct lb_cache_fill *f) { return f->stale; }
const struct lb_cache_obj *lb_cache_fill_object(const struct lb_cache_fill *f) { return f->fresh; }

static bool name_eq(const char *a, size_t an, const char *lit)
{
    size_t l = strlen(lit);
    return an == l && strncasecmp(a, lit, l) == 0;
}

/* Request fields the cache manages itself towards the origin. */
static bool conditional_field(const char *n, size_t l)
{
    return name_eq(n, l, "if-none-match") || name_eq(n, l, "if-modified-since") || name_eq(n, l, "if-range") ||
           name_eq(n, l, "range") || name_eq(n, l, "if-match") || name_eq(n, l, "if-unmodified-since");
}

void lb_cache_upstream_head(const struct lb_cache_fill *f, struct buf *hold)
{
    const char *h = buf_head(hold);
    size_t n = buf_pending(hold);
    const char *end = memmem(h, n, "\r\n\r\n", 4);
    if (!end)
        return;
    size_t head_len = (size_t)(end - h) + 2; /* through the last field's CRLF */
    struct buf o;
    buf_init(&o);
    buf_reserve(&o, n + 256);
    const char *p = h, *stop = h + head_len;
    bool first = true;
    while (p < stop) {
        const char *eol = memmem(p, (size_t)(stop - p), "\r\n", 2);
        if (!eol)
            break;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (first || !colon || !conditional_field(p, (size_t)(colon - p)))
            buf_append(&o, p, (size_t)(eol - p) + 2);
        first = false;
        p = eol + 2;
    }
    if (f->stale && f->stale->etag) {
        buf_puts(&o, "If-None-Match: ");
        buf_puts(&o, f->stale->etag);
        buf_append(&o, "\r\n", 2);
    }
    if (f->stale && f->stale->last_mod) {
        buf_puts(&o, "If-Modified-Since: ");
        buf_puts(&o, f->stale->last_mod);
        buf_append(&o, "\r\n", 2);
    }
    buf_append(&o, h + head_len, n - head_len); /* the blank line (and any body) */
    struct buf t = *hold;
    *hold = o;
    buf_deinit(&t);
}

/* Hop-by-hop and cache-managed response fields: not stored. */
static bool skip_stored(const struct http1_header *h, const struct http1_response *r)
{
    static const char *const names[] = {"connection", "keep-alive", "transfer-encoding", "content-length", "age",
                                        "x-cache", "proxy-connection", "te", "trailer", "upgrade", "set-cookie",
                                        "proxy-authenticate"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (name_eq(h->name, h->name_len, names[i]))
            return true;
    /* fields named in Connection */
    for (size_t i = 0; i < r->num_headers; i++) {
        const struct http1_header *c = &r->headers[i];
        if (name_eq(c->name, c->name_len, "connection")) {
            char tok[64];
            if (h->name_len < sizeof tok) {
                memcpy(tok, h->name, h->name_len);
                tok[h->name_len] = '\0';
                if (http1_list_has(c->value, c->value_len, tok))
                    return true;
            }
        }
    }
    return false;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* What the rules need from a response (its fields) and the fill's request. */
static void describe(const struct http1_header *hs, size_t nh, int status, bool auth, struct lb_cache_resp *d)
{
    memset(d, 0, sizeof *d);
    d->status = status;
    d->authorization = auth;
    for (size_t i = 0; i < nh; i++) {
        const struct http1_header *h = &hs[i];
        if (name_eq(h->name, h->name_len, "cache-control")) {
            lb_cc_parse(h->value, h->value_len, &d->cc);
        } else if (name_eq(h->name, h->name_len, "expires")) {
            d->has_expires = true;
            d->expires_ok = http1_parse_date(h->value, h->value_len, &d->expires);
        } else if (name_eq(h->name, h->name_len, "date")) {
            d->has_date = http1_parse_date(h->value, h->value_len, &d->date);
        } else if (name_eq(h->name, h->name_len, "age")) {
            long long a = 0;
            size_t k = 0;
            while (k < h->value_len && h->value[k] >= '0' && h->value[k] <= '9' && a < LB_CC_MAX_SECONDS)
                a = a * 10 + (h->value[k++] - '0');
            d->age = a;
        } else if (name_eq(h->name, h->name_len, "set-cookie")) {
            d->set_cookie = true;
        } else if (name_eq(h->name, h->name_len, "vary")) {
            if (http1_list_has(h->value, h->value_len, "*"))
                d->vary_star = true;
        } else if (name_eq(h->name, h->name_len, "etag") || name_eq(h->name, h->name_len, "last-modified")) {
            d->has_validator = true;
        } else if (name_eq(h->name, h->name_len, "content-type")) {
            d->ctype = h->value;
            d->ctype_len = h->value_len;
        }
    }
}

/* Secondary key: the fill's request values of the fields r's Vary names. */
static bool build_vary(struct lb_cache_fill *f, const struct http1_response *r, struct lb_cache_obj *o)
{
    struct http1_header rh[HDRS_MAX];
    struct http1_request rq;
    http1_request_init(&rq, rh, HDRS_MAX);
    if (http1_parse_request(f->reqhead, f->reqhead_len, &rq, NULL) <= 0)
        return false;
    struct buf v;
    buf_init(&v);
    int nv = 0;
    for (size_t i = 0; i < r->num_headers; i++) {
        const struct http1_header *h = &r->headers[i];
        if (!name_eq(h->name, h->name_len, "vary"))
            continue;
        const char *p = h->value, *end = h->value + h->value_len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
                p++;
            const char *s = p;
            while (p < end && *p != ',' && *p != ' ' && *p != '\t')
                p++;
            size_t l = (size_t)(p - s);
            if (l == 0)
                continue;
            if (l > 64 || ++nv > MAX_VARY) { /* a key we would not keep whole: not stored */
                buf_deinit(&v);
                return false;
            }
            char name[65];
            for (size_t k = 0; k < l; k++)
                name[k] = (char)(s[k] >= 'A' && s[k] <= 'Z' ? s[k] + 32 : s[k]);
            name[l] = '\0';
            const struct http1_header *q = http1_find_header(rq.headers, rq.num_headers, name, l);
            buf_putc(&v, q ? 1 : 2);
            buf_append(&v, name, l + 1);
            if (q)
                buf_append(&v, q->value, q->value_len);
            buf_putc(&v, '\0');
        }
    }
    o->nvary = nv;
    o->vary_len = buf_pending(&v);
    o->vary = o->vary_len ? dup_n(buf_head(&v), o->vary_len) : NULL;
    buf_deinit(&v);
    return true;
}

static bool request_has_auth(const struct lb_cache_fill *f)
{
    return strcasestr(f->reqhead, "\nauthorization:") != NULL;
}

static void set_validators(struct lb_cache_obj *o, const struct http1_header *hs, size_t nh)
{
    for (size_t i = 0; i < nh; i++) {
        const struct http1_header *h = &hs[i];
        if (name_eq(h->name, h->name_len, "etag") && !o->etag) {
            o->etag = dup_n(h->value, h->value_len);
        } else if (name_eq(h->name, h->name_len, "last-modified") && !o->last_mod) {
            o->last_mod = dup_n(h->value, h->value_len);
            o->has_last_mod_t = http1_parse_date(h->value, h->value_len, &o->last_mod_t);
        }
    }
}

static void apply_decision(struct lb_cache_obj *o, const struct lb_cache_decision *d, long long now_ms)
{
    o->recv_ms = now_ms;
    o->age0 = d->age;
    o->lifetime = d->lifetime;
    o->swr = d->swr;
    o->sie = d->sie;
    o->no_stale = d->no_stale;
}

/* A 304 to a revalidation: a new object from the stale one, its fields
 * updated by the 304's (RFC 9111 4.3.4), freshness recomputed. */
static int refresh(struct lb_cache_fill *f, const struct http1_response *r, const struct lb_cache_rules *rules,
                   long long now_ms)
{
    const struct lb_cache_obj *s = f->stale;
    struct buf h;
    buf_init(&h);
    /* the stored fields the 304 does not replace, then the 304's */
    const char *p = s->head, *end = s->head + s->head_len;
    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol)
            break;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        bool replaced = false;
        for (size_t i = 0; colon && i < r->num_headers && !replaced; i++)
            replaced = (r->headers[i].name_len == (size_t)(colon - p) &&
                        strncasecmp(r->headers[i].name, p, r->headers[i].name_len) == 0 &&
                        !skip_stored(&r->headers[i], r));
        if (!replaced)
            buf_append(&h, p, (size_t)(eol - p) + 2);
        p = eol + 2;
    }
    for (size_t i = 0; i < r->num_headers; i++) {
        const struct http1_header *x = &r->headers[i];
        if (skip_stored(x, r) || name_eq(x->name, x->name_len, "content-type") ||
            name_eq(x->name, x->name_len, "content-encoding") || name_eq(x->name, x->name_len, "content-range"))
            continue;
        buf_append(&h, x->name, x->name_len);
        buf_append(&h, ": ", 2);
        buf_append(&h, x->value, x->value_len);
        buf_append(&h, "\r\n", 2);
    }
    /* decide on the merged fields */
    struct http1_response mr;
    struct http1_header mh[HDRS_MAX];
    http1_response_init(&mr, mh, HDRS_MAX);
    struct buf full;
    buf_init(&full);
    buf_puts(&full, "HTTP/1.1 200 OK\r\n");
    buf_append(&full, buf_head(&h), buf_pending(&h));
    buf_puts(&full, "Content-Length: 0\r\n\r\n");
    struct lb_cache_resp desc;
    struct lb_cache_decision d;
    int ok = http1_parse_response(buf_head(&full), buf_pending(&full), &mr, NULL, true) > 0;
    if (ok) {
        describe(mr.headers, mr.num_headers, s->status, request_has_auth(f), &desc);
        lb_cache_decide(&desc, rules, time(NULL), &d);
    }
    if (!ok || !d.store) {
        buf_deinit(&full);
        buf_deinit(&h);
        return 0;
    }
    struct lb_cache_obj *o = xcalloc(1, sizeof *o);
    atomic_init(&o->refs, 2); /* the table's and the fill's */
    o->hash = s->hash;
    o->host_len = s->host_len;
    o->path_len = s->path_len;
    o->key = dup_n(s->key, s->host_len + 1 + s->path_len);
    o->nvary = s->nvary;
    o->vary_len = s->vary_len;
    o->vary = s->vary_len ? dup_n(s->vary, s->vary_len) : NULL;
    o->status = s->status;
    o->head_len = buf_pending(&h);
    o->head = dup_n(buf_head(&h), o->head_len);
    o->body_len = s->body_len;
    o->body = dup_n(s->body ? s->body : "", s->body_len);
    set_validators(o, mr.headers, mr.num_headers);
    apply_decision(o, &d, now_ms);
    o->size = sizeof *o + o->host_len + o->path_len + o->vary_len + o->head_len + o->body_len + 2;
    buf_deinit(&full);
    buf_deinit(&h);
    f->fresh = o;
    insert(f->c, o);
    atomic_fetch_add_explicit(&f->c->revalidated, 1, memory_order_relaxed);
    return 2;
}

int lb_cache_fill_head(struct lb_cache_fill *f, const struct http1_response *r, const struct lb_cache_rules *rules,
                       long long now_ms)
{
    if (r->status == 304 && f->stale)
        return refresh(f, r, rules, now_ms);
    struct lb_cache_resp desc;
    struct lb_cache_decision d;
    describe(r->headers, r->num_headers, r->status, request_has_auth(f), &desc);
    lb_cache_decide(&desc, rules, time(NULL), &d);
    if (!d.store) {
        log_debug("cache: %s not stored: %s", f->key + f->host_len + 1, d.why);
        f->uncacheable = true;
        return 0;
    }
    if ((r->body == HTTP1_BODY_LENGTH && r->content_length > f->c->max_object) ||
        r->body == HTTP1_BODY_UNTIL_CLOSE) { /* too large, or no framing to prove it complete */
        f->uncacheable = true;
        return 0;
    }
    struct lb_cache_obj *o = xcalloc(1, sizeof *o);
    atomic_init(&o->refs, 1);
    o->hash = f->hash;
    o->host_len = f->host_len;
    o->path_len = f->path_len;
    o->key = dup_n(f->key, f->host_len + 1 + f->path_len);
    if (!build_vary(f, r, o)) {
        obj_free(o);
        f->uncacheable = true;
        return 0;
    }
    o->status = r->status;
    struct buf h;
    buf_init(&h);
    for (size_t i = 0; i < r->num_headers; i++) {
        const struct http1_header *x = &r->headers[i];
        if (skip_stored(x, r))
            continue;
        buf_append(&h, x->name, x->name_len);
        buf_append(&h, ": ", 2);
        buf_append(&h, x->value, x->value_len);
        buf_append(&h, "\r\n", 2);
    }
    o->head_len = buf_pending(&h);
    o->head = dup_n(buf_head(&h), o->head_len);
    buf_deinit(&h);
    set_validators(o, r->headers, r->num_headers);
    apply_decision(o, &d, now_ms);
    f->obj = o;
    f->collecting = true;
    if (r->body == HTTP1_BODY_CHUNKED)
        http1_chunked_init(&f->ck, NULL);
    return 1;
}

void lb_cache_fill_answer(struct lb_cache_fill *f, const struct lb_cache_obj *o, long long now_ms, const char *xcache,
                          struct buf *out, bool close, bool keepalive_hdr)
{
    struct http1_header rh[HDRS_MAX];
    struct http1_request rq;
    http1_request_init(&rq, rh, HDRS_MAX);
    if (http1_parse_request(f->reqhead, f->reqhead_len, &rq, NULL) <= 0) {
        rq.num_headers = 0;
        rq.meth = HTTP1_METHOD_GET;
    }
    struct lb_cache_answer a = {out, &rq, close, keepalive_hdr, 0, 0};
    lb_cache_write(f->c, o, now_ms, xcache, &a);
}

bool lb_cache_fill_data(struct lb_cache_fill *f, const char *d, size_t n)
{
    if (!f->collecting)
        return false;
    if (buf_pending(&f->body) + n > f->c->max_object) {
        f->collecting = false;
        f->uncacheable = true;
        return false;
    }
    buf_append(&f->body, d, n);
    return true;
}

bool lb_cache_fill_chunked(struct lb_cache_fill *f, const char *d, size_t n)
{
    size_t off = 0;
    while (f->collecting) {
        const char *data;
        size_t dl, k;
        int rc = http1_chunked_next(&f->ck, d + off, n - off, &k, &data, &dl);
        off += k;
        if (rc != HTTP1_CHUNK_DATA) {
            if (rc < 0)
                f->collecting = false;
            break;
        }
        if (!lb_cache_fill_data(f, data, dl))
            return false;
    }
    return f->collecting;
}

bool lb_cache_obj_stale_on_error(const struct lb_cache_obj *o, long long now_ms)
{
    return o && !o->marker && !o->no_stale && o->sie > 0 && age_of(o, now_ms) < o->lifetime + o->sie;
}

bool lb_cache_fill_stale_on_error(const struct lb_cache_fill *f, long long now_ms)
{
    return lb_cache_obj_stale_on_error(f->stale, now_ms);
}

static void on_fill_closed(uv_handle_t *h)
{
    struct lb_cache_fill *f = h->data;
    xfree(f);
}

static void on_fill_timer(uv_timer_t *t)
{
    struct lb_cache_fill *f = t->data;
    void *w = f->waiters;
    f->waiters = NULL;
    if (w && f->wake)
        f->wake(w, f->mode);
    uv_close((uv_handle_t *)&f->timer, on_fill_closed);
}

void lb_cache_fill_failed(struct lb_cache_fill *f, bool stale_served)
{
    f->failed = true;
    f->stale_served = stale_served;
}

void lb_cache_fill_finish(struct lb_cache_fill *f, bool ok, long long now_ms, void (*wake)(void *head, int mode))
{
    struct lb_cache *c = f->c;
    f->finished = true;
    bool stored = false;
    if (f->fresh) {
        stored = true; /* a 304 refreshed the object */
    } else if (ok && f->obj && f->collecting) {
        struct lb_cache_obj *o = f->obj;
        f->obj = NULL;
        o->body_len = buf_pending(&f->body);
        o->body = dup_n(buf_head(&f->body), o->body_len);
        o->size = sizeof *o + o->host_len + o->path_len + o->vary_len + o->head_len + o->body_len + 2;
        insert(c, o);
        stored = true;
    }
    if (!stored)
        atomic_fetch_add_explicit(&c->passes, 1, memory_order_relaxed);
    if (!stored && f->uncacheable) {
        struct lb_cache_obj *m = xcalloc(1, sizeof *m);
        atomic_init(&m->refs, 1);
        m->marker = true;
        m->hash = f->hash;
        m->host_len = f->host_len;
        m->path_len = f->path_len;
        m->key = dup_n(f->key, f->host_len + 1 + f->path_len);
        m->head = dup_n("", 0);
        m->body = dup_n("", 0);
        m->recv_ms = now_ms;
        m->size = sizeof *m + m->host_len + m->path_len + 3;
        insert(c, m);
    }
    /* only now, with the object in the store, does the fill leave the list:
     * a request that misses from here on finds the object (or sees it was
     * stored since its lookup: lb_cache_fill_join), one that missed before
     * joins this fill; no moment where it finds neither and fetches again */
    pthread_mutex_lock(&c->lock);
    for (struct lb_cache_fill **pp = &c->fills; *pp; pp = &(*pp)->next) {
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    }
    struct lb_cache_fill *shadows = f->shadows;
    f->shadows = NULL;
    c->wake = wake;
    pthread_mutex_unlock(&c->lock);
    if (f->obj)
        obj_free(f->obj);
    f->obj = NULL;
    buf_deinit(&f->body);
    lb_cache_obj_unref(f->stale);
    lb_cache_obj_unref(f->fresh);
    f->stale = f->fresh = NULL;
    xfree(f->key);
    xfree(f->reqhead);
    f->key = f->reqhead = NULL;
    /* what the waiters do: look up again after a store or when the fetch
     * was merely abandoned; go to the origin themselves (all at once, not
     * one failed fetch after another) when the answer was uncacheable or the
     * origin failed; take the stale object when it stood in for the error */
    f->mode = stored ? LB_CACHE_WAKE_LOOKUP
            : f->uncacheable ? LB_CACHE_WAKE_PASS
            : f->failed ? (f->stale_served ? LB_CACHE_WAKE_STALE : LB_CACHE_WAKE_PASS)
            : LB_CACHE_WAKE_LOOKUP;
    f->wake = wake;
    /* other workers' waiters: after the object is in the store */
    for (struct lb_cache_fill *sh = shadows, *next; sh; sh = next) {
        next = sh->snext;
        atomic_store(&sh->amode, f->mode);
        uv_async_send(&sh->async); /* sh is its worker's from here on */
    }
    uv_timer_start(&f->timer, on_fill_timer, 0, 0);
}

/* ---- admin, metrics ------------------------------------------------------------ */

long long lb_cache_purge(struct lb_cache *c, const char *host, const char *path, bool prefix)
{
    size_t hl = host ? strlen(host) : 0, pl = strlen(path);
    long long n = 0;
    pthread_mutex_lock(&c->lock);
    for (struct lb_cache_obj *o = c->lru_head, *next; o; o = next) {
        next = o->next;
        if (hl && (o->host_len != hl || strncasecmp(o->key, host, hl) != 0))
            continue;
        const char *op = o->key + o->host_len + 1;
        bool hit = prefix ? (o->path_len >= pl && memcmp(op, path, pl) == 0)
                          : (o->path_len == pl && memcmp(op, path, pl) == 0);
        if (hit) {
            unlink_obj(c, o);
            n++;
        }
    }
    pthread_mutex_unlock(&c->lock);
    atomic_fetch_add(&c->purged, (uint64_t)n);
    return n;
}

void lb_cache_count_pass(struct lb_cache *c) { atomic_fetch_add_explicit(&c->passes, 1, memory_order_relaxed); }

void lb_cache_metrics(struct lb_cache *c, struct buf *o)
{
    pthread_mutex_lock(&c->lock);
    unsigned long long bytes = c->bytes, maxb = atomic_load(&c->max_bytes);
    long long nobj = c->nobjects;
    pthread_mutex_unlock(&c->lock);
    unsigned long long hits = atomic_load(&c->hits), misses = atomic_load(&c->misses),
                       stale = atomic_load(&c->stale);
#define CTR(name, help, v) \
    buf_printf(o, "# HELP scaleout_lb_cache_" name " " help "\n# TYPE scaleout_lb_cache_" name " counter\n" \
                  "scaleout_lb_cache_" name " %llu\n", (unsigned long long)(v))
#define GAUGE(name, help, fmt, v) \
    buf_printf(o, "# HELP scaleout_lb_cache_" name " " help "\n# TYPE scaleout_lb_cache_" name " gauge\n" \
                  "scaleout_lb_cache_" name " " fmt "\n", v)
    CTR("hits_total", "requests answered from a fresh object", hits);
    CTR("misses_total", "requests that found no usable object", misses);
    CTR("stale_total", "requests answered with a stale object (stale-while-revalidate, stale-if-error)", stale);
    CTR("revalidated_total", "stale objects refreshed by a 304 from the origin", atomic_load(&c->revalidated));
    CTR("stores_total", "objects stored", atomic_load(&c->stores));
    CTR("passes_total", "origin responses not stored", atomic_load(&c->passes));
    CTR("evictions_total", "objects evicted (LRU) to stay under the memory limit", atomic_load(&c->evictions));
    CTR("purged_total", "objects dropped through the admin API", atomic_load(&c->purged));
    GAUGE("bytes", "bytes held by stored objects", "%llu", bytes);
    GAUGE("max_bytes", "memory limit", "%llu", maxb);
    GAUGE("objects", "objects stored", "%lld", nobj);
    GAUGE("hit_ratio", "hits / (hits + stale + misses)", "%.4f",
          hits + misses + stale ? (double)hits / (double)(hits + misses + stale) : 0.0);
#undef CTR
#undef GAUGE
}

void lb_cache_note_stale(struct lb_cache *c) { atomic_fetch_add_explicit(&c->stale, 1, memory_order_relaxed); }
