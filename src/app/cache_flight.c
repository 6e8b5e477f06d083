/*
 * cache_flight.c — the two caching strategies that load on the cache's side
 * of the request, sharing one in-process table of loads in flight:
 *
 *   read-through   read: GET from kv; on a miss the cache layer loads from
 *                  PostgreSQL *once per key*: concurrent misses for the same
 *                  key wait for the load in flight instead of each querying
 *                  (single flight, no thundering herd on a cold or expired
 *                  key). Write: PostgreSQL, then DEL (as cache-aside).
 *   refresh-ahead  values are stored as "REFRESH_AT_MS\n" + value. A hit
 *                  answers at once; once REFRESH_AT (refresh-ahead percent of
 *                  cache-ttl after the fill) has passed, it also starts one
 *                  background reload for the key, so a popular key is renewed
 *                  before it expires and readers never wait on the database
 *                  for it. A miss loads as read-through. Write: PostgreSQL,
 *                  then SET the new value (as write-through).
 *
 * The flight table lives in the process (the app runs one loop thread); it
 * holds one entry per key being loaded, each with its waiting requests, so it
 * is bounded by the requests in flight. An entry stays until kv acknowledges
 * the fill: a GET sent on another kv connection meanwhile could still miss,
 * and such misses are answered from the entry's copy instead of loading again. A background refresh runs on a
 * detached copy of the request (no connection) that frees itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/util.h"

struct flight {
    struct flight *next;
    char key[160];
    struct app_req **waiters;     /* NULL entries: a background refresh */
    size_t n, cap;
    bool prefixed;                /* refresh-ahead: store with the refresh time */
    /* loaded, its SET not yet acknowledged: a GET on another kv connection
     * could still miss, so misses in this window are answered from here */
    char *val;
    size_t len;
};

static struct flight *flights;

static struct flight *flight_find(const char *key)
{
    for (struct flight *f = flights; f; f = f->next)
        if (strcmp(f->key, key) == 0)
            return f;
    return NULL;
}

static void flight_wait(struct flight *f, struct app_req *r)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 4;
        f->waiters = xrealloc(f->waiters, f->cap * sizeof *f->waiters);
    }
    f->waiters[f->n++] = r;
}

static struct flight *flight_new(const char *key, bool prefixed)
{
    struct flight *f = xcalloc(1, sizeof *f);
    snprintf(f->key, sizeof f->key, "%s", key);
    f->prefixed = prefixed;
    f->next = flights;
    flights = f;
    return f;
}

static void flight_remove(struct flight *f)
{
    struct flight **pp = &flights;
    while (*pp && *pp != f)
        pp = &(*pp)->next;
    if (*pp)
        *pp = f->next;
}

static void flight_free(struct flight *f)
{
    xfree(f->waiters);
    xfree(f->val);
    xfree(f);
}

/* The fill is acknowledged (or failed): kv answers for the key from now on. */
static void filled(void *arg, const struct resp_value *rep)
{
    struct flight *f = arg;
    (void)rep;
    flight_remove(f);
    flight_free(f);
}

/* Store val under f->key; f stays in the table (answering misses from its
 * copy) until kv acknowledges the SET. */
static void store(struct app_req *r, struct flight *f, const char *val, size_t len)
{
    const struct app_config *cf = app_server_conf(r->srv);
    char ttl[32];
    snprintf(ttl, sizeof ttl, "%lld", cf->cache_ttl_ms);
    struct buf v;
    buf_init(&v);
    if (f->prefixed)
        buf_printf(&v, "%lld\n", util_time_ms() + cf->cache_ttl_ms * cf->refresh_ahead_pct / 100);
    buf_append(&v, val, len);
    f->val = xmalloc(len ? len : 1);
    memcpy(f->val, val, len);
    f->len = len;
    f->n = 0;
    const char *argv[] = {"SET", f->key, buf_head(&v), "PX", ttl};
    size_t lens[] = {3, strlen(f->key), buf_pending(&v), 2, strlen(ttl)};
    app_kv_cmd(app_server_kv(r->srv), filled, f, 5, argv, lens);
    buf_deinit(&v);
}

/* The load for f finished: answer every waiter, then fill the cache (or
 * forget the flight when the load failed). */
static void finish(struct app_req *any, struct flight *f, int status, const char *val, size_t len)
{
    struct app_req **w = f->waiters;
    size_t n = f->n;
    f->waiters = NULL;
    f->n = f->cap = 0;
    if (status == 200)
        store(any, f, val, len); /* f lives on until filled() */
    else {
        flight_remove(f);
        flight_free(f);
    }
    for (size_t i = 0; i < n; i++)
        if (w[i])
            w[i]->cache_done(w[i], status, val, len); /* answers and frees w[i] */
    xfree(w);
}

/* The load for r->key finished (r is one of the waiters). */
static void loaded(struct app_req *r, int status, const char *val, size_t len)
{
    struct flight *f = flight_find(r->key);
    if (!f || f->val) { /* cannot happen: the loader registered it */
        r->cache_done(r, status, val, len);
        return;
    }
    finish(r, f, status, val, len);
}

/* A background refresh's detached request finished loading. */
static void refreshed(struct app_req *shadow, int status, const char *val, size_t len)
{
    struct flight *f = flight_find(shadow->key);
    if (f && !f->val)
        finish(shadow, f, status, val, len);
    xfree(shadow->scratch);
    xfree(shadow);
}

static void miss(struct app_req *r, bool prefixed)
{
    struct app_metrics *m = app_server_metrics(r->srv);
    m->cache_misses_total++;
    struct flight *f = flight_find(r->key);
    if (f && f->val) {
        /* just loaded, its SET not yet acknowledged: answer from the copy */
        r->cache_done(r, 200, f->val, f->len);
        return;
    }
    if (f) {
        flight_wait(f, r); /* one load per key: wait for the one in flight */
        return;
    }
    f = flight_new(r->key, prefixed);
    flight_wait(f, r);
    r->cache_load(r, loaded);
}

static void through_got(void *arg, const struct resp_value *rep)
{
    struct app_req *r = arg;
    if (rep && rep->type == RESP_VALUE_BULK) {
        app_server_metrics(r->srv)->cache_hits_total++;
        r->cache_done(r, 200, rep->str, rep->len);
        return;
    }
    miss(r, false);
}

static void through_read(struct app_req *r, const char *key, app_cache_load load, app_cache_done done)
{
    snprintf(r->key, sizeof r->key, "%s", key);
    r->cache_done = done;
    r->cache_load = load;
    const char *argv[] = {"GET", r->key};
    app_kv_cmdv(app_server_kv(r->srv), through_got, r, 2, argv);
}

static void start_refresh(struct app_req *r)
{
    if (flight_find(r->key))
        return; /* already being reloaded */
    struct app_req *shadow = xcalloc(1, sizeof *shadow);
    shadow->srv = r->srv;
    memcpy(shadow->arg, r->arg, sizeof shadow->arg);
    memcpy(shadow->key, r->key, sizeof shadow->key);
    shadow->t0_us = util_mono_us();
    struct flight *f = flight_new(r->key, true);
    flight_wait(f, NULL);
    r->cache_load(shadow, refreshed);
}

static void ahead_got(void *arg, const struct resp_value *rep)
{
    struct app_req *r = arg;
    if (rep && rep->type == RESP_VALUE_BULK) {
        const char *nl = memchr(rep->str, '\n', rep->len);
        long long at;
        if (nl && util_str2ll(rep->str, (size_t)(nl - rep->str), &at)) {
            app_server_metrics(r->srv)->cache_hits_total++;
            if (util_time_ms() >= at)
                start_refresh(r);
            size_t off = (size_t)(nl - rep->str) + 1;
            r->cache_done(r, 200, rep->str + off, rep->len - off);
            return;
        }
        /* a value without the prefix (another strategy wrote it): reload */
    }
    miss(r, true);
}

static void ahead_read(struct app_req *r, const char *key, app_cache_load load, app_cache_done done)
{
    snprintf(r->key, sizeof r->key, "%s", key);
    r->cache_done = done;
    r->cache_load = load;
    const char *argv[] = {"GET", r->key};
    app_kv_cmdv(app_server_kv(r->srv), ahead_got, r, 2, argv);
}

static void answered(void *arg, const struct resp_value *rep)
{
    struct app_req *r = arg;
    if (!rep || rep->type == RESP_VALUE_ERROR)
        log_warn("cache: could not update %s; stale for at most cache-ttl", r->key);
    char *val = r->scratch;
    r->cache_done(r, 200, val, strlen(val));
}

static void park(struct app_req *r, const char *key, const char *val, size_t len, app_cache_done done)
{
    snprintf(r->key, sizeof r->key, "%s", key);
    r->cache_done = done;
    char *copy = xmalloc(len + 1);
    memcpy(copy, val, len);
    copy[len] = 0;
    xfree(r->scratch);
    r->scratch = copy;
}

static void through_written(struct app_req *r, const char *key, const char *val, size_t len, app_cache_done done)
{
    park(r, key, val, len, done);
    const char *argv[] = {"DEL", r->key};
    app_kv_cmdv(app_server_kv(r->srv), answered, r, 2, argv);
}

static void ahead_written(struct app_req *r, const char *key, const char *val, size_t len, app_cache_done done)
{
    park(r, key, val, len, done);
    const struct app_config *cf = app_server_conf(r->srv);
    char ttl[32];
    snprintf(ttl, sizeof ttl, "%lld", cf->cache_ttl_ms);
    struct buf v;
    buf_init(&v);
    buf_printf(&v, "%lld\n%s", util_time_ms() + cf->cache_ttl_ms * cf->refresh_ahead_pct / 100, (char *)r->scratch);
    const char *argv[] = {"SET", r->key, buf_head(&v), "PX", ttl};
    size_t lens[] = {3, strlen(r->key), buf_pending(&v), 2, strlen(ttl)};
    app_kv_cmd(app_server_kv(r->srv), answered, r, 5, argv, lens);
    buf_deinit(&v);
}

const struct app_cache_ops app_cache_read_through = {"read-through", through_read, through_written};
const struct app_cache_ops app_cache_refresh_ahead = {"refresh-ahead", ahead_read, ahead_written};
