/*
 * cache.c — the caching strategies of the app, one ops row each, chosen per
 * endpoint (profile-cache, product-cache):
 *
 *   none           every read goes to PostgreSQL (the baseline).
 *   cache-aside    read: GET from kv; on a miss load from PostgreSQL and SET
 *                  with cache-ttl. Write: PostgreSQL, then DEL the key, so the
 *                  next read loads the new row (no stale window longer than
 *                  one read racing one write).
 *   write-through  read as cache-aside; write: PostgreSQL, then SET the new
 *                  value, so reads after a write hit at once.
 *
 * read-through and refresh-ahead share a table of loads in flight and live in
 * cache_flight.c; write-behind (acknowledged once kv has the value, flushed
 * to PostgreSQL in batches) in writebehind.c. A strategy is one more row and
 * two functions.
 *
 * A kv failure never fails a read: it counts as a miss and the database
 * answers (the cache is an optimisation, not a dependency). A failed DEL
 * after a write is logged: the old value lives at most cache-ttl.
 */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "core/alloc.h"
#include "core/log.h"

static void ignore(void *arg, const struct resp_value *rep) { (void)arg, (void)rep; }

/* ---- none ------------------------------------------------------------------ */

static void none_read(struct app_req *r, const char *key, app_cache_load load, app_cache_done done)
{
    (void)key;
    struct app_metrics *m = app_server_metrics(r->srv);
    m->cache_misses_total++;
    load(r, done);
}

static void none_written(struct app_req *r, const char *key, const char *val, size_t len, app_cache_done done)
{
    (void)key;
    done(r, 200, val, len);
}

/* ---- cache-aside ------------------------------------------------------------- */

static void fill(struct app_req *r, int status, const char *val, size_t len)
{
    if (status == 200) {
        const struct app_config *cf = app_server_conf(r->srv);
        char ttl[32];
        snprintf(ttl, sizeof ttl, "%lld", cf->cache_ttl_ms);
        const char *argv[] = {"SET", r->key, val, "PX", ttl};
        size_t lens[] = {3, strlen(r->key), len, 2, strlen(ttl)};
        app_kv_cmd(app_server_kv(r->srv), ignore, NULL, 5, argv, lens);
    }
    r->cache_done(r, status, val, len);
}

static void aside_got(void *arg, const struct resp_value *rep)
{
    struct app_req *r = arg;
    struct app_metrics *m = app_server_metrics(r->srv);
    if (rep && rep->type == RESP_VALUE_BULK) {
        m->cache_hits_total++;
        r->cache_done(r, 200, rep->str, rep->len);
        return;
    }
    m->cache_misses_total++;
    r->cache_load(r, fill);
}

static void aside_read(struct app_req *r, const char *key, app_cache_load load, app_cache_done done)
{
    snprintf(r->key, sizeof r->key, "%s", key);
    r->cache_done = done;
    r->cache_load = load;
    const char *argv[] = {"GET", r->key};
    app_kv_cmdv(app_server_kv(r->srv), aside_got, r, 2, argv);
}

static void deleted(void *arg, const struct resp_value *rep)
{
    struct app_req *r = arg;
    if (!rep || rep->type == RESP_VALUE_ERROR)
        log_warn("cache: could not invalidate %s; stale for at most cache-ttl", r->key);
    /* the value to answer with was parked in scratch by aside_written */
    char *val = r->scratch;
    r->cache_done(r, 200, val, strlen(val));
}

static void aside_written(struct app_req *r, const char *key, const char *val, size_t len, app_cache_done done)
{
    snprintf(r->key, sizeof r->key, "%s", key);
    r->cache_done = done;
    char *copy = xmalloc(len + 1);
    memcpy(copy, val, len);
    copy[len] = 0;
    xfree(r->scratch);
    r->scratch = copy;
    const char *argv[] = {"DEL", r->key};
    app_kv_cmdv(app_server_kv(r->srv), deleted, r, 2, argv);
}

/* ---- write-through --------------------------------------------------------- */

static void through_written(struct app_req *r, const char *key, const char *val, size_t len, app_cache_done done)
{
    snprintf(r->key, sizeof r->key, "%s", key);
    r->cache_done = done;
    char *copy = xmalloc(len + 1);
    memcpy(copy, val, len);
    copy[len] = 0;
    xfree(r->scratch);
    r->scratch = copy;
    const struct app_config *cf = app_server_conf(r->srv);
    char ttl[32];
    snprintf(ttl, sizeof ttl, "%lld", cf->cache_ttl_ms);
    const char *argv[] = {"SET", r->key, copy, "PX", ttl};
    app_kv_cmdv(app_server_kv(r->srv), deleted, r, 5, argv);
}

static const struct app_cache_ops none_ops = {"none", none_read, none_written};
static const struct app_cache_ops aside_ops = {"cache-aside", aside_read, aside_written};
static const struct app_cache_ops through_ops = {"write-through", aside_read, through_written};
/* write-behind reads as cache-aside; writes: writebehind.c */
static const struct app_cache_ops behind_ops = {"write-behind", aside_read, app_wb_written};

const struct app_cache_ops *const app_cache_strategies[APP_CACHE__COUNT] = {
    [APP_CACHE_NONE] = &none_ops,
    [APP_CACHE_ASIDE] = &aside_ops,
    [APP_CACHE_WRITE_THROUGH] = &through_ops,
    [APP_CACHE_READ_THROUGH] = &app_cache_read_through,
    [APP_CACHE_REFRESH_AHEAD] = &app_cache_refresh_ahead,
    [APP_CACHE_WRITE_BEHIND] = &behind_ops,
};
