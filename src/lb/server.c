/*
 * server.c — the lb process: start-up, worker threads and their listening
 * sockets, applying a configuration (at start and on SIGHUP), the cron,
 * signals and shutdown.
 *
 * Reload (SIGHUP): the file is loaded into a fresh struct lb_config and,
 * only if it has no error, applied: pools and listeners are matched by name;
 * a pool's settings are swapped in (pool->conf, an atomic pointer), its
 * backends added / removed / re-weighted; new listeners are bound (by the
 * main thread, adopted by each worker), removed ones stop accepting.
 * Established client connections and in-flight requests are never touched.
 * The old sections are freed once every worker has passed a sweep (no
 * callback can still hold a pointer into them). Backends added through the
 * admin endpoint and absent from the file are removed by a reload, as with
 * HAProxy's runtime API.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/net.h"
#include "core/util.h"
#include "net/health.h"
#include "net/server.h"
#include "lb/cache.h"
#include "lb/lb.h"
#include "net/peer.h"
#include "lb/ratelimit.h"

#define SWEEP_MS 50
#define CRON_MS 100

/* ---- retiring ----------------------------------------------------------- */

void lb_retire(struct lb_server *s, void *ptr, void (*free_fn)(void *))
{
    if (!ptr)
        return;
    struct lb_retired *r = xcalloc(1, sizeof *r);
    r->ptr = ptr;
    r->free_fn = free_fn;
    for (int i = 0; i < s->nworkers; i++)
        r->ticks[i] = atomic_load(&s->workers[i].ticks);
    pthread_mutex_lock(&s->lock);
    r->next = s->retired;
    s->retired = r;
    pthread_mutex_unlock(&s->lock);
}

static void reclaim(struct lb_server *s, bool all)
{
    pthread_mutex_lock(&s->lock);
    struct lb_retired **pp = &s->retired;
    while (*pp) {
        struct lb_retired *r = *pp;
        bool done = true;
        for (int i = 0; i < s->nworkers && !all; i++)
            if (atomic_load(&s->workers[i].ticks) < r->ticks[i] + 2)
                done = false;
        if (done) {
            *pp = r->next;
            r->free_fn(r->ptr);
            xfree(r);
        } else {
            pp = &r->next;
        }
    }
    pthread_mutex_unlock(&s->lock);
}

static void xfree_fn(void *p) { xfree(p); }

/* ---- listening sockets -------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status)
{
    struct lb_lsock *l = server->data;
    if (status < 0 || atomic_load(&l->ls->removed))
        return;
    if (l->ls->mode == LB_MODE_TCP)
        lb_tcp_accept(l->w, l->ls, server);
    else
        lb_http_accept(l->w, l->ls, server);
}

/* Bind one socket per worker for ls (main thread). */
static int bind_listener(struct lb_server *s, struct lb_listener *ls, const struct lb_listener_conf *c, char *err,
                         size_t errlen)
{
    int port = c->port;
    /* Without `reuseport yes` a port another process listens on is refused,
     * as kv does (SO_REUSEPORT would silently make us share its traffic):
     * one socket is bound without it and the workers share it (each loop
     * watches a dup of it; one accept wins). With `reuseport yes` each worker
     * has its own SO_REUSEPORT socket and the kernel spreads connections over
     * them and over other processes that asked for the same. */
    bool shared = !s->cfg.reuseport;
    ls->fds = xmalloc((size_t)s->nworkers * sizeof *ls->fds);
    int r = net_listen_fds(c->host, port, (int)s->cfg.tcp_backlog, !shared, false, s->nworkers, ls->fds, &port, err,
                           errlen);
    if (r == -EADDRINUSE && shared)
        snprintf(err, errlen, "cannot listen on %.64s:%d: Address already in use (set `reuseport yes` in "
                 "both processes to share a port)", c->host, port);
    if (r != 0) {
        xfree(ls->fds);
        ls->fds = NULL;
        return -1;
    }
    ls->port = port;
    return 0;
}

static void on_lsock_closed(uv_handle_t *h) { xfree(h->data); }

/* Worker side: adopt sockets bound for it, close those of removed listeners. */
static void sync_listeners(struct lb_worker *w)
{
    struct lb_server *s = w->srv;
    pthread_mutex_lock(&s->lock);
    if (w->nlsocks < s->nlisteners) {
        w->lsocks = xrealloc(w->lsocks, (size_t)s->nlisteners * sizeof *w->lsocks);
        for (int i = w->nlsocks; i < s->nlisteners; i++)
            w->lsocks[i] = NULL;
        w->nlsocks = s->nlisteners;
    }
    for (int i = 0; i < s->nlisteners; i++) {
        struct lb_listener *ls = s->listeners[i];
        struct lb_lsock *l = w->lsocks[i];
        bool removed = atomic_load(&ls->removed) || w->draining;
        if (removed && l) {
            uv_close((uv_handle_t *)&l->tcp, on_lsock_closed);
            w->lsocks[i] = NULL;
        } else if (!removed && !l && ls->fds && ls->fds[w->id] >= 0) {
            l = xcalloc(1, sizeof *l);
            l->w = w;
            l->ls = ls;
            int r = net_listen_start(&w->loop, &l->tcp, ls->fds[w->id], (int)s->cfg.tcp_backlog,
                                     !s->cfg.reuseport && s->nworkers > 1, on_connection, l);
            ls->fds[w->id] = -1;
            if (r != 0) {
                log_warn("listener %s: %s", ls->name, uv_strerror(r));
                uv_close((uv_handle_t *)&l->tcp, on_lsock_closed);
                continue;
            }
            w->lsocks[i] = l;
        }
    }
    pthread_mutex_unlock(&s->lock);
}

/* ---- applying a configuration -------------------------------------------- */

/* The pool frees the settings a reload left it with. */
static void free_pool_conf(struct net_pool_conf *c) { lb_pool_conf_free(lb_pool_conf_from(c)); }

static struct net_pool *find_pool(struct lb_server *s, const char *name)
{
    for (int i = 0; i < s->npools; i++)
        if (strcmp(s->pools[i]->name, name) == 0)
            return s->pools[i];
    return NULL;
}

static uv_loop_t *main_loop(struct lb_server *s) { return &s->workers[0].loop; }

/* Make pool's peers match its backend lines. */
static void sync_peers(struct lb_server *s, struct net_pool *pool, const struct lb_pool_conf *pc)
{
    /* removed: peers whose name is not in the file */
    for (;;) {
        struct net_peer *gone = NULL;
        pthread_mutex_lock(&pool->lock);
        for (int i = 0; i < pool->npeers && !gone; i++) {
            bool keep = false;
            for (int j = 0; j < pc->nbackends && !keep; j++)
                keep = strcmp(pool->peers[i]->name, pc->backends[j].name) == 0 &&
                       strcmp(pool->peers[i]->addr, pc->backends[j].addr) == 0;
            if (!keep) {
                gone = pool->peers[i];
                net_peer_ref(gone);
            }
        }
        pthread_mutex_unlock(&pool->lock);
        if (!gone)
            break;
        net_health_stop(gone);
        net_pool_remove(pool, gone);
        log_notice("pool %s: backend %s removed", pool->name, gone->name);
        net_peer_unref(gone);
    }
    for (int j = 0; j < pc->nbackends; j++) {
        const struct net_backend_conf *b = &pc->backends[j];
        struct net_peer *p = net_pool_find(pool, b->name);
        if (p) {
            net_peer_set_weight(p, (int)b->weight);
            atomic_store(&p->maxconn, b->maxconn ? b->maxconn : pc->maxconn);
            net_health_start(main_loop(s), p);
            net_peer_unref(p);
            continue;
        }
        p = net_peer_new(pool, b, s->nworkers);
        atomic_store(&p->maxconn, b->maxconn ? b->maxconn : pc->maxconn);
        if (s->started)
            net_health_new_peer(p); /* added by a reload: wait for its first probe */
        net_peer_ref(p);
        net_pool_add(pool, p);
        net_health_start(main_loop(s), p);
        net_peer_unref(p);
    }
}

int lb_server_apply(struct lb_server *s, struct lb_config *next, struct buf *errs)
{
    struct lb_sections *sec = next->sec;
    if (!s->cache)
        s->cache = lb_cache_new(); /* before the workers run; kept until exit (a reload only resizes it) */
    lb_cache_configure(s->cache, next->cache_size, next->cache_max_object, (int)next->cache_waiters);
    /* pools first: listeners' routes point at them */
    for (int i = 0; i < sec->npools; i++) {
        struct lb_pool_conf *pc = sec->pools[i];
        struct net_pool *pool = find_pool(s, pc->name);
        if (!pool) {
            pool = net_pool_new(pc->name, &pc->base, s->nworkers);
            pool->free_conf = free_pool_conf;
            pthread_mutex_lock(&s->lock);
            struct net_pool **old = s->pools;
            struct net_pool **arr = xmalloc((size_t)(s->npools + 1) * sizeof *arr);
            if (s->npools)
                memcpy(arr, old, (size_t)s->npools * sizeof *arr);
            arr[s->npools] = pool;
            s->pools = arr;
            s->npools++;
            pthread_mutex_unlock(&s->lock);
            lb_retire(s, old, xfree_fn);
        } else {
            atomic_store(&pool->conf, &pc->base);
            pool->removed = false;
            net_pool_changed(pool);
        }
        sync_peers(s, pool, pc);
    }
    for (int i = 0; i < s->npools; i++) {
        if (!lb_config_find_pool(next, s->pools[i]->name) && !s->pools[i]->removed) {
            s->pools[i]->removed = true;
            log_notice("pool %s removed from the configuration", s->pools[i]->name);
        }
    }
    /* resolve names to pools */
    for (int i = 0; i < sec->nlisteners; i++) {
        struct lb_listener_conf *lc = sec->listeners[i];
        lc->default_pool_rt = lc->default_pool[0] ? find_pool(s, lc->default_pool) : NULL;
        for (int r = 0; r < lc->nroutes; r++)
            lc->routes[r].pool = find_pool(s, lc->routes[r].pool_name);
    }
    int nerr = 0;
    bool bound = false;
    for (int i = 0; i < sec->nlisteners; i++) {
        struct lb_listener_conf *lc = sec->listeners[i];
        struct lb_listener *ls = NULL;
        for (int j = 0; j < s->nlisteners && !ls; j++)
            if (!atomic_load(&s->listeners[j]->removed) && strcmp(s->listeners[j]->name, lc->name) == 0)
                ls = s->listeners[j];
        if (ls && (strcmp(ls->addr, lc->addr) != 0 || ls->mode != lc->mode)) {
            atomic_store(&ls->removed, true); /* moved: a new listener takes the name */
            ls = NULL;
        }
        if (ls) {
            if (lc->port == 0)
                lc->port = ls->port;
            atomic_store(&ls->conf, lc);
            if (lc->rate > 0 && !ls->rl)
                ls->rl = lb_ratelimit_new(); /* freed at exit only: workers may hold it */
            continue;
        }
        ls = xcalloc(1, sizeof *ls);
        ls->name = xstrdup(lc->name);
        ls->addr = xstrdup(lc->addr);
        ls->mode = lc->mode;
        atomic_init(&ls->conf, lc);
        if (lc->rate > 0)
            ls->rl = lb_ratelimit_new();
        char err[256];
        if (bind_listener(s, ls, lc, err, sizeof err) != 0) {
            buf_printf(errs, "listener '%s': %s\n", lc->name, err);
            nerr++;
            lb_ratelimit_free(ls->rl);
            xfree(ls->name);
            xfree(ls->addr);
            xfree(ls);
            continue;
        }
        lc->port = ls->port;
        pthread_mutex_lock(&s->lock);
        struct lb_listener **old = s->listeners;
        struct lb_listener **arr = xmalloc((size_t)(s->nlisteners + 1) * sizeof *arr);
        if (s->nlisteners)
            memcpy(arr, old, (size_t)s->nlisteners * sizeof *arr);
        arr[s->nlisteners] = ls;
        s->listeners = arr;
        s->nlisteners++;
        pthread_mutex_unlock(&s->lock);
        lb_retire(s, old, xfree_fn);
        bound = true;
        log_notice("listener %s on %s:%d (%s)", ls->name, lc->host, ls->port, lc->mode == LB_MODE_TCP ? "tcp" : "http");
    }
    for (int j = 0; j < s->nlisteners; j++) {
        struct lb_listener *ls = s->listeners[j];
        bool found = false;
        for (int i = 0; i < sec->nlisteners && !found; i++)
            found = atomic_load(&ls->conf) == sec->listeners[i];
        if (!found && !atomic_load(&ls->removed)) {
            atomic_store(&ls->removed, true);
            log_notice("listener %s removed", ls->name);
            bound = true;
        }
    }
    (void)bound;
    for (int i = 0; i < s->nworkers; i++) {
        atomic_store(&s->workers[i].need_sync, true);
        uv_async_send(&s->workers[i].wake);
    }
    return nerr;
}

/* ---- workers -------------------------------------------------------------- */

static void stop_worker(struct lb_worker *w)
{
    if (w->stopped)
        return;
    w->stopped = true;
    lb_http_close_all(w);
    lb_tcp_close_all(w);
    for (int i = 0; i < w->nlsocks; i++) {
        if (w->lsocks[i])
            uv_close((uv_handle_t *)&w->lsocks[i]->tcp, on_lsock_closed);
        w->lsocks[i] = NULL;
    }
    uv_timer_stop(&w->sweep);
    uv_close((uv_handle_t *)&w->sweep, NULL);
    uv_close((uv_handle_t *)&w->wake, NULL);
}

static void on_sweep(uv_timer_t *t)
{
    struct lb_worker *w = t->data;
    long long now = lb_now_ms(w);
    lb_http_sweep(w, now);
    lb_tcp_sweep(w, now);
    atomic_fetch_add(&w->ticks, 1);
    if (w->draining && ((w->nsessions == 0 && w->ntunnels == 0) || now >= w->drain_deadline))
        stop_worker(w);
}

static void begin_drain(struct lb_worker *w)
{
    if (w->draining)
        return;
    w->draining = true;
    w->drain_deadline = lb_now_ms(w) + w->srv->cfg.drain_ms;
    sync_listeners(w); /* closes them all */
    lb_http_drain(w);
    lb_tcp_drain(w);
}

static void on_wake(uv_async_t *a)
{
    struct lb_worker *w = a->data;
    if (w->stopped)
        return;
    if (atomic_load(&w->srv->shutting_down)) {
        begin_drain(w);
        return;
    }
    if (atomic_exchange(&w->need_sync, false))
        sync_listeners(w);
    lb_http_kick(w);
}

static void worker_init(struct lb_server *s, struct lb_worker *w, int id)
{
    w->id = id;
    w->srv = s;
    net_worker_loop_init(&w->loop, &w->wake, on_wake, &w->sweep, on_sweep, SWEEP_MS, w);
}

/* ---- cron, signals ---------------------------------------------------------- */

static void on_cron(uv_timer_t *t)
{
    struct lb_server *s = t->data;
    long long now = net_mono_ms();
    for (int i = 0; i < s->npools; i++)
        net_pool_expire_ejections(s->pools[i], now);
    reclaim(s, false);
}

static void stop_health(struct lb_server *s)
{
    for (int i = 0; i < s->npools; i++) {
        struct net_pool *pool = s->pools[i];
        pthread_mutex_lock(&pool->lock);
        int n = pool->npeers;
        struct net_peer **copy = xmalloc((size_t)(n ? n : 1) * sizeof *copy);
        for (int j = 0; j < n; j++) {
            copy[j] = pool->peers[j];
            net_peer_ref(copy[j]);
        }
        pthread_mutex_unlock(&pool->lock);
        for (int j = 0; j < n; j++) {
            net_health_stop(copy[j]);
            net_peer_unref(copy[j]);
        }
        xfree(copy);
    }
}

static void begin_shutdown(struct lb_server *s, const char *why)
{
    if (atomic_exchange(&s->shutting_down, true))
        return;
    log_notice("%s received, shutting down: finishing in-flight requests (at most %lld ms)", why, s->cfg.drain_ms);
    net_cron_stop(&s->cron);
    net_signals_close(&s->sig);
    if (s->admin)
        lb_admin_close(s->admin);
    s->admin = NULL;
    stop_health(s);
    for (int i = 0; i < s->nworkers; i++)
        uv_async_send(&s->workers[i].wake);
}

/* SIGHUP: load the file again; apply it only when it is valid. */
static void reload(struct lb_server *s)
{
    if (!s->config_file) {
        log_notice("SIGHUP: no config file to reload (started without --config)");
        return;
    }
    struct lb_config *next = xcalloc(1, sizeof *next);
    lb_config_init(next);
    struct buf errs;
    buf_init(&errs);
    int n = lb_config_load(next, s->config_file, s->argc, s->argv, &errs);
    if (n != 0) {
        log_warn("SIGHUP: configuration not reloaded, %d error%s:\n%.*s", n, n == 1 ? "" : "s",
                 (int)buf_pending(&errs), buf_head(&errs));
        lb_config_deinit(next);
        xfree(next);
        buf_deinit(&errs);
        return;
    }
    if (lb_server_apply(s, next, &errs) != 0)
        log_warn("SIGHUP: %.*s", (int)buf_pending(&errs), buf_head(&errs));
    buf_deinit(&errs);
    /* runtime globals take the new values; the old sections go once unused,
     * except the settings of pools and listeners the new file dropped, which
     * their in-flight requests still read: those move to the object */
    struct lb_sections *old = s->cfg.sec;
    for (int i = 0; i < old->npools; i++)
        for (int j = 0; j < s->npools; j++)
            if (old->pools[i] && lb_pool_conf_of(s->pools[j]) == old->pools[i]) {
                s->pools[j]->own_conf = &old->pools[i]->base;
                old->pools[i] = NULL;
            }
    for (int i = 0; i < old->nlisteners; i++)
        for (int j = 0; j < s->nlisteners; j++)
            if (old->listeners[i] && atomic_load(&s->listeners[j]->conf) == old->listeners[i]) {
                s->listeners[j]->own_conf = old->listeners[i];
                old->listeners[i] = NULL;
            }
    s->cfg.sec = next->sec;
    next->sec = NULL;
    s->cfg.maxclients = next->maxclients;
    s->cfg.drain_ms = next->drain_ms;
    s->cfg.loglevel = next->loglevel;
    log_set_level(next->loglevel);
    char *tok = s->cfg.admin_token;
    s->cfg.admin_token = next->admin_token;
    next->admin_token = tok;
    lb_config_deinit(next);
    xfree(next);
    lb_retire(s, old, lb_sections_free);
    atomic_fetch_add(&s->reloads, 1);
    log_notice("SIGHUP: configuration reloaded from %s", s->config_file);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct lb_server *s = h->data;
    if (signum == SIGHUP) {
        reload(s);
        return;
    }
    begin_shutdown(s, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* ---- main ---------------------------------------------------------------- */

static void usage(FILE *f)
{
    struct buf b;
    buf_init(&b);
    lb_config_help(&b);
    fprintf(f,
            "usage: scaleout lb --listen HOST:PORT --backend HOST:PORT [--backend ...] [--balance ALG] [--health /PATH]\n"
            "                   [--mode http|tcp] [--directive value ...]\n"
            "       scaleout lb --config FILE [--directive value ...]\n\n"
            "An L7 HTTP/1.1 and L4 TCP load balancer. Every config file directive is also a flag;\n"
            "flags apply to the default listener and the pool named default.\n\n%.*s\n"
            "Example: scaleout lb --listen 127.0.0.1:8080 --backend 127.0.0.1:8101 --backend 127.0.0.1:8102 "
            "--balance leastconn --health /health\n",
            (int)buf_pending(&b), buf_head(&b));
    buf_deinit(&b);
}

static void free_listener_rt(struct lb_listener *ls)
{
    if (ls->own_conf)
        lb_listener_conf_free(ls->own_conf);
    lb_ratelimit_free(ls->rl);
    xfree(ls->fds);
    xfree(ls->name);
    xfree(ls->addr);
    xfree(ls);
}

/* The configuration from the file and flags; NULL (errors printed) when invalid. */
static struct lb_server *load_config(int argc, char **argv)
{
    const char *path = net_server_config_path(argc, argv);
    struct lb_server *s = xcalloc(1, sizeof *s);
    lb_config_init(&s->cfg);
    struct buf errs;
    buf_init(&errs);
    if (lb_config_load(&s->cfg, path, argc, argv, &errs) != 0) {
        fprintf(stderr, "%.*s", (int)buf_pending(&errs), buf_head(&errs));
        fprintf(stderr, "scaleout lb: invalid configuration (see scaleout lb --help)\n");
        buf_deinit(&errs);
        lb_config_deinit(&s->cfg);
        xfree(s);
        return NULL;
    }
    buf_deinit(&errs);
    if (path)
        s->config_file = xstrdup(path);
    s->argc = argc;
    s->argv = argv;
    return s;
}

/* Workers, pools and listeners as the configuration says. Returns 0, or 1
 * when a listener could not be bound (said on stderr and in the log). */
static int start_workers(struct lb_server *s)
{
    s->start_ms = util_time_ms();
    s->nworkers = (int)s->cfg.threads;
    s->workers = xcalloc((size_t)s->nworkers, sizeof *s->workers);
    for (int i = 0; i < s->nworkers; i++)
        worker_init(s, &s->workers[i], i);
    int rc = 0;
    struct buf errs;
    buf_init(&errs);
    if (lb_server_apply(s, &s->cfg, &errs) != 0) {
        fprintf(stderr, "scaleout lb: %.*s", (int)buf_pending(&errs), buf_head(&errs));
        log_warn("%.*s", (int)buf_pending(&errs), buf_head(&errs));
        rc = 1;
    }
    buf_deinit(&errs);
    for (int i = 0; i < s->nworkers; i++) {
        atomic_store(&s->workers[i].need_sync, false);
        sync_listeners(&s->workers[i]);
    }
    return rc;
}

/* Cron, signals, the admin endpoint, the pidfile, the other workers' threads. */
static void start_serving(struct lb_server *s, struct net_threads *th)
{
    uv_loop_t *loop = main_loop(s);
    net_cron_start(&s->cron, loop, on_cron, CRON_MS, s);
    net_signals_start(&s->sig, loop, on_signal, on_signal, s);
    long long aport = s->cfg.admin_port;
    if (aport < 0)
        aport = s->nlisteners > 0 && s->listeners[0]->port + 10000 <= 65535 ? s->listeners[0]->port + 10000 : 0;
    if (aport > 0) {
        char err[256];
        s->admin = lb_admin_open(s, loop, s->cfg.admin_bind, (int)aport, err, sizeof err);
        if (!s->admin)
            log_warn("admin endpoint disabled: %s", err);
    }
    net_pidfile_write(s->cfg.pidfile);
    log_notice("scaleout lb ready: %d listener%s, %d pool%s, %d thread%s, admin %s:%d", s->nlisteners,
               s->nlisteners == 1 ? "" : "s", s->npools, s->npools == 1 ? "" : "s", s->nworkers,
               s->nworkers == 1 ? "" : "s", s->cfg.admin_bind, s->admin ? lb_admin_port(s->admin) : 0);
    s->started = true;
    NET_THREADS_START(th, s->workers, s->nworkers);
}

/* A listener failed at start: stop every worker before its loop ever ran. */
static void abort_start(struct lb_server *s)
{
    atomic_store(&s->shutting_down, true);
    stop_health(s);
    for (int i = 1; i < s->nworkers; i++)
        stop_worker(&s->workers[i]);
    stop_worker(&s->workers[0]);
    for (int i = 1; i < s->nworkers; i++)
        uv_run(&s->workers[i].loop, UV_RUN_DEFAULT);
}

/* Every loop closed (each worker's idle upstream connections first), then
 * what the server holds. */
static void server_free(struct lb_server *s)
{
    for (int i = 0; i < s->nworkers; i++) {
        uv_run(&s->workers[i].loop, UV_RUN_DEFAULT);
        for (int j = 0; j < s->npools; j++)
            net_pool_local_deinit(s->pools[j], i);
        uv_run(&s->workers[i].loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&s->workers[i].loop) != 0)
            log_warn("worker %d: handles still open at exit", i);
        xfree(s->workers[i].lsocks);
    }
    reclaim(s, true);
    for (int i = 0; i < s->nlisteners; i++) {
        struct lb_listener *ls = s->listeners[i];
        for (int j = 0; ls->fds && j < s->nworkers; j++)
            if (ls->fds[j] >= 0)
                close(ls->fds[j]);
        free_listener_rt(ls);
    }
    xfree(s->listeners);
    for (int i = 0; i < s->npools; i++)
        net_pool_free(s->pools[i]);
    xfree(s->pools);
    lb_cache_free(s->cache);
}

int lb_main(int argc, char **argv)
{
    if (net_server_help_asked(argc, argv)) {
        usage(stdout);
        return 0;
    }
    struct lb_server *s = load_config(argc, argv);
    if (!s)
        return 2;
    net_server_process_init("lb", s->cfg.loglevel, s->cfg.logfile);
    pthread_mutex_init(&s->lock, NULL);
    int rc = start_workers(s);
    struct net_threads th = {0};
    if (rc == 0)
        start_serving(s, &th);
    else
        abort_start(s);
    uv_run(main_loop(s), UV_RUN_DEFAULT);
    net_threads_join(&th);
    if (rc == 0)
        net_pidfile_remove(s->cfg.pidfile);
    server_free(s);
    log_notice("scaleout lb stopped");
    lb_config_deinit(&s->cfg);
    xfree(s->workers);
    xfree(s->config_file);
    pthread_mutex_destroy(&s->lock);
    xfree(s);
    return rc;
}
