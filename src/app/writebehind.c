/*
 * writebehind.c — the write-behind caching strategy (profile-cache
 * write-behind): a write is acknowledged once kv has the new value; every
 * app instance's flusher writes dirty values to PostgreSQL in batches.
 *
 *   PUT /me        the current profile (kv, else PostgreSQL) merged with the
 *                  change, then   SET profile:NAME VALUE PX cache-ttl
 *                                 SADD wb:dirty profile:NAME        → 200
 *   flusher        every write-behind-interval, on each instance:
 *                  SRANDMEMBER wb:dirty BATCH, SMOVE each to
 *                  wb:flushing:ID (a member moved by one instance only),
 *                  GET the values, one INSERT ... SELECT FROM unnest(...)
 *                  ON CONFLICT DO UPDATE for the batch, then SREM them from
 *                  wb:flushing:ID. A failed query moves them back to
 *                  wb:dirty (retried on the next tick).
 *   crash          an instance that died mid-flush left its keys in
 *                  wb:flushing:ID; the instance restarted with the same ID
 *                  (the same bind:port, as up restarts it) moves them back to
 *                  wb:dirty before its first flush.
 *
 * A write racing a flush lands again in wb:dirty (SADD after SET) and is
 * flushed on the next tick: the last value wins, written at least once.
 * What can be lost (the trade-off, docs/app.md): dirty values kv loses
 * (kv keeps them in memory only; a restart, or allkeys-lru eviction of a
 * profile key before its flush) — PostgreSQL then keeps the previous value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/alloc.h"
#include "core/log.h"
#include "proto/json.h"

#define WB_MAX_BATCH 256
#define WB_DIRTY "wb:dirty"
#define WB_PREFIX "profile:"

struct wb_slot {
    struct app_wb *w;
    int i;
};

struct app_wb {
    struct app_server *srv;
    uv_timer_t timer;
    bool busy, recovered, stopped, failed;
    char flushing[96];
    int n, pending, batch;
    char *keys[WB_MAX_BATCH];
    char *vals[WB_MAX_BATCH];
    bool mine[WB_MAX_BATCH];
    struct wb_slot slots[WB_MAX_BATCH];
};

static void clear_batch(struct app_wb *w)
{
    for (int i = 0; i < w->n; i++) {
        xfree(w->keys[i]);
        xfree(w->vals[i]);
        w->keys[i] = w->vals[i] = NULL;
        w->mine[i] = false;
    }
    w->n = 0;
    w->busy = false;
}

static void ignore(void *arg, const struct resp_value *rep) { (void)arg, (void)rep; }

/* Keys of this batch that this instance holds go back to wb:dirty. */
static void give_back(struct app_wb *w)
{
    for (int i = 0; i < w->n; i++)
        if (w->mine[i]) {
            const char *argv[] = {"SMOVE", w->flushing, WB_DIRTY, w->keys[i]};
            app_kv_cmdv(app_server_kv(w->srv), ignore, NULL, 4, argv);
        }
    clear_batch(w);
}

/* text[] literal: {"a","b"} with " and \ escaped */
static void array_add(struct buf *b, const char *s, size_t n, bool first)
{
    buf_puts(b, first ? "{\"" : ",\"");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            buf_putc(b, '\\');
        buf_putc(b, s[i]);
    }
    buf_putc(b, '"');
}

static void flushed(void *arg, PGresult *res, const char *err)
{
    struct app_wb *w = arg;
    (void)res;
    if (w->stopped)
        return;
    if (err) {
        log_warn("write-behind: flush of %d values failed, retried: %s", w->n, err);
        give_back(w);
        return;
    }
    struct app_metrics *m = app_server_metrics(w->srv);
    const char *argv[2 + WB_MAX_BATCH];
    int argc = 0;
    argv[argc++] = "SREM";
    argv[argc++] = w->flushing;
    for (int i = 0; i < w->n; i++)
        if (w->mine[i]) {
            argv[argc++] = w->keys[i];
            if (w->vals[i])
                m->writebehind_flushed_total++;
        }
    if (argc > 2)
        app_kv_cmdv(app_server_kv(w->srv), ignore, NULL, argc, argv);
    clear_batch(w);
}

static void write_batch(struct app_wb *w)
{
    struct buf names, bios, emails;
    buf_init(&names);
    buf_init(&bios);
    buf_init(&emails);
    int k = 0;
    struct app_metrics *m = app_server_metrics(w->srv);
    for (int i = 0; i < w->n; i++) {
        if (!w->mine[i])
            continue;
        if (!w->vals[i]) {
            /* expired or evicted before its flush: PostgreSQL keeps the old value */
            m->writebehind_lost_total++;
            log_warn("write-behind: %s left kv before its flush; its last write is lost", w->keys[i]);
            continue;
        }
        char bio[4096], email[256];
        const char *v = w->vals[i];
        size_t vl = strlen(v);
        int nb = json_get_str(v, vl, "bio", bio, sizeof bio);
        int ne = json_get_str(v, vl, "email", email, sizeof email);
        if (nb < 0 || ne < 0) {
            m->writebehind_lost_total++;
            log_warn("write-behind: %s holds no profile; skipped", w->keys[i]);
            continue;
        }
        const char *name = w->keys[i] + strlen(WB_PREFIX);
        array_add(&names, name, strlen(name), k == 0);
        array_add(&bios, bio, (size_t)nb, k == 0);
        array_add(&emails, email, (size_t)ne, k == 0);
        k++;
    }
    if (k == 0) {
        buf_deinit(&names);
        buf_deinit(&bios);
        buf_deinit(&emails);
        flushed(w, NULL, NULL);
        return;
    }
    buf_puts(&names, "}");
    buf_puts(&bios, "}");
    buf_puts(&emails, "}");
    buf_putc(&names, 0);
    buf_putc(&bios, 0);
    buf_putc(&emails, 0);
    const char *p[] = {buf_head(&names), buf_head(&bios), buf_head(&emails)};
    m->db_queries_total++;
    app_pg_query(app_server_pg(w->srv), flushed, w,
                 "INSERT INTO users (name, bio, email) SELECT n, b, e FROM unnest($1::text[], $2::text[], $3::text[])"
                 " AS t(n, b, e) ON CONFLICT (name) DO UPDATE SET bio = excluded.bio, email = excluded.email,"
                 " updated_at = now()",
                 3, p);
    buf_deinit(&names);
    buf_deinit(&bios);
    buf_deinit(&emails);
}

static void got_value(void *arg, const struct resp_value *rep)
{
    struct wb_slot *sl = arg;
    struct app_wb *w = sl->w;
    if (w->stopped)
        return;
    if (!rep) {
        w->failed = true; /* kv went away: the batch goes back when kv answers again */
    } else if (rep->type == RESP_VALUE_BULK) {
        char *v = xmalloc(rep->len + 1);
        memcpy(v, rep->str, rep->len);
        v[rep->len] = 0;
        w->vals[sl->i] = v;
    }
    if (--w->pending > 0)
        return;
    if (w->failed) {
        w->failed = false;
        w->recovered = false; /* the next tick moves wb:flushing:ID back first */
        clear_batch(w);
        return;
    }
    write_batch(w);
}

static void moved(void *arg, const struct resp_value *rep)
{
    struct wb_slot *sl = arg;
    struct app_wb *w = sl->w;
    if (w->stopped)
        return;
    w->mine[sl->i] = rep && rep->type == RESP_VALUE_INT && rep->integer == 1;
    if (--w->pending > 0)
        return;
    int mine = 0;
    for (int i = 0; i < w->n; i++)
        mine += w->mine[i];
    if (mine == 0) {
        clear_batch(w);
        return;
    }
    w->pending = mine;
    for (int i = 0; i < w->n; i++)
        if (w->mine[i]) {
            const char *argv[] = {"GET", w->keys[i]};
            app_kv_cmdv(app_server_kv(w->srv), got_value, &w->slots[i], 2, argv);
        }
}

static void picked(void *arg, const struct resp_value *rep)
{
    struct app_wb *w = arg;
    if (w->stopped)
        return;
    if (!rep || rep->type != RESP_VALUE_ARRAY || rep->nelem == 0) {
        w->busy = false;
        return;
    }
    w->n = 0;
    for (size_t i = 0; i < rep->nelem && w->n < w->batch; i++) {
        const struct resp_value *e = &rep->elem[i];
        if (e->type != RESP_VALUE_BULK)
            continue;
        if (e->len <= strlen(WB_PREFIX) || e->len > 150 || memcmp(e->str, WB_PREFIX, strlen(WB_PREFIX)) != 0) {
            /* not a profile key: dropped, so it cannot crowd out real ones */
            const char *argv[] = {"SREM", WB_DIRTY, e->str};
            size_t lens[] = {4, strlen(WB_DIRTY), e->len};
            app_kv_cmd(app_server_kv(w->srv), ignore, NULL, 3, argv, lens);
            continue;
        }
        char *k = xmalloc(e->len + 1);
        memcpy(k, e->str, e->len);
        k[e->len] = 0;
        w->keys[w->n] = k;
        w->vals[w->n] = NULL;
        w->mine[w->n] = false;
        w->slots[w->n] = (struct wb_slot){w, w->n};
        w->n++;
    }
    if (w->n == 0) {
        w->busy = false;
        return;
    }
    w->pending = w->n;
    for (int i = 0; i < w->n; i++) {
        const char *argv[] = {"SMOVE", WB_DIRTY, w->flushing, w->keys[i]};
        app_kv_cmdv(app_server_kv(w->srv), moved, &w->slots[i], 4, argv);
    }
}

static void pick(struct app_wb *w)
{
    char count[16];
    snprintf(count, sizeof count, "%d", w->batch);
    const char *argv[] = {"SRANDMEMBER", WB_DIRTY, count};
    app_kv_cmdv(app_server_kv(w->srv), picked, w, 3, argv);
}

static void recovered(void *arg, const struct resp_value *rep)
{
    struct app_wb *w = arg;
    if (w->stopped)
        return;
    if (!rep || rep->type == RESP_VALUE_ERROR) {
        w->busy = false; /* kv not there yet: again on the next tick */
        return;
    }
    w->recovered = true;
    pick(w);
}

static void tick(uv_timer_t *t)
{
    struct app_wb *w = t->data;
    if (w->busy || w->stopped)
        return;
    w->busy = true;
    if (!w->recovered) {
        /* what a previous life of this instance held goes back to wb:dirty */
        const char *u[] = {"SUNIONSTORE", WB_DIRTY, WB_DIRTY, w->flushing};
        app_kv_cmdv(app_server_kv(w->srv), ignore, NULL, 4, u);
        const char *d[] = {"DEL", w->flushing};
        app_kv_cmdv(app_server_kv(w->srv), recovered, w, 2, d);
        return;
    }
    pick(w);
}

struct app_wb *app_wb_start(struct app_server *srv, uv_loop_t *loop, const char *id, long long interval_ms, int batch)
{
    struct app_wb *w = xcalloc(1, sizeof *w);
    w->srv = srv;
    w->batch = batch < 1 ? 1 : batch > WB_MAX_BATCH ? WB_MAX_BATCH : batch;
    snprintf(w->flushing, sizeof w->flushing, "wb:flushing:%s", id);
    uv_timer_init(loop, &w->timer);
    w->timer.data = w;
    uv_timer_start(&w->timer, tick, (uint64_t)interval_ms, (uint64_t)interval_ms);
    return w;
}

void app_wb_stop(struct app_wb *w)
{
    if (!w)
        return;
    w->stopped = true;
    uv_timer_stop(&w->timer);
}

void app_wb_free(struct app_wb *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->n; i++) {
        xfree(w->keys[i]);
        xfree(w->vals[i]);
    }
    xfree(w);
}

/* ---- the write: SET the merged value, then mark it dirty ---------------------- */

static void marked(void *arg, const struct resp_value *rep)
{
    struct app_req *r = arg;
    if (!rep || rep->type == RESP_VALUE_ERROR) {
        r->cache_done(r, 503, NULL, 0);
        return;
    }
    char *val = r->scratch;
    r->cache_done(r, 200, val, strlen(val));
}

static void stored(void *arg, const struct resp_value *rep)
{
    struct app_req *r = arg;
    if (!rep || rep->type == RESP_VALUE_ERROR) {
        /* not acknowledged: nothing was promised */
        r->cache_done(r, 503, NULL, 0);
        return;
    }
    const char *argv[] = {"SADD", WB_DIRTY, r->key};
    app_kv_cmdv(app_server_kv(r->srv), marked, r, 3, argv);
}

void app_wb_written(struct app_req *r, const char *key, const char *val, size_t len, app_cache_done done)
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
    app_kv_cmdv(app_server_kv(r->srv), stored, r, 5, argv);
}

