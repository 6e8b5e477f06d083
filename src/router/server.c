/*
 * server.c — the router process: configuration, pools and shards, worker
 * threads, the cron (ejections expire, auto-eject rebuilds), the directory
 * fetcher, signals.
 *
 * Threads: `threads` workers, each a libuv loop; worker 0 is the main thread
 * and also runs the health checks, the admin endpoint and the cron. Workers
 * share one listening socket (each loop watches a dup of it; one accept
 * wins), as the lb does without reuseport. A worker's client and shard
 * connections never leave it; the only shared state is the shard table, the
 * distributions (replaced whole, read through an atomic pointer) and the
 * peers' atomics.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/net.h"
#include "core/util.h"
#include "net/health.h"
#include "net/server.h"
#include "router/proxy.h"

#define CRON_MS 100
#define SWEEP_MS 100
#define DIR_MAX_REPLY (64u * 1024 * 1024)

static struct rt_server *g_srv; /* keeps everything reachable until exit */

static int resolve(const char *addr, struct sockaddr_storage *sa, socklen_t *salen, char *err, size_t errlen)
{
    return net_resolve_hostport(addr, "HOST:PORT", sa, salen, err, errlen);
}

static struct rt_pool *rt_server_find_pool(struct rt_server *s, const char *name)
{
    for (int i = 0; i < s->npools; i++)
        if (strcmp(s->pools[i].conf->name, name) == 0)
            return &s->pools[i];
    return NULL;
}

static struct rt_shard *rt_server_find_shard(struct rt_server *s, const char *key)
{
    int n = atomic_load(&s->nshards);
    for (int i = 0; i < n; i++) {
        struct rt_shard *sh = atomic_load(&s->shards[i]);
        if (sh && !atomic_load(&sh->removed) && (strcmp(sh->name, key) == 0 || strcmp(sh->peer->addr, key) == 0))
            return sh;
    }
    return NULL;
}

/* Install the last fetched directory table into d (s->lock held). */
static void dir_reinstall(struct rt_pool *p, struct rt_dist *d);

static int rebuild(struct rt_server *s, struct rt_pool *p, bool migrate, char *err, size_t errlen);

static int rt_server_rebuild(struct rt_server *s, struct rt_pool *p, char *err, size_t errlen)
{
    return rebuild(s, p, false, err, errlen);
}

/* Pools whose keys move when membership changes: not auto-eject (a cache
 * that rehashes on failures), not directory (the table says where keys are). */
static bool migrates(struct rt_server *s, struct rt_pool *p)
{
    return s->running && !p->conf->auto_eject && p->conf->dist != RT_DIST_DIRECTORY;
}

static int rt_server_change(struct rt_server *s, struct rt_pool *p, char *err, size_t errlen)
{
    if (s->batch)
        return 0; /* SIGHUP reload: one rebuild after every change of the pool */
    return rebuild(s, p, migrates(s, p), err, errlen);
}

static int rebuild(struct rt_server *s, struct rt_pool *p, bool migrate, char *err, size_t errlen)
{
    struct rt_dist_in in[RT_MAX_SHARDS];
    int n = 0;
    long long now = net_mono_ms();
    pthread_mutex_lock(&s->lock);
    unsigned gen = atomic_load(&p->np->gen);
    for (int i = 0; i < p->nmembers; i++) {
        struct rt_shard *sh = atomic_load(&s->shards[p->members[i]]);
        if (p->conf->auto_eject && !net_peer_usable(sh->peer, now))
            continue;
        in[n].name = sh->name;
        in[n].weight = atomic_load(&sh->peer->weight);
        in[n].index = sh->id; /* the distribution answers global shard ids */
        in[n].range_lo = sh->range_lo;
        n++;
    }
    struct rt_dist *d = rt_dist_new(p->conf, in, n, err, errlen);
    if (!d) {
        pthread_mutex_unlock(&s->lock);
        return -1;
    }
    dir_reinstall(p, d);
    if (migrate && atomic_load(&p->dist)) {
        /* online resharding: from and to are both visible before the epoch
         * moves on, so a command counted in the new epoch sees the move */
        struct rt_dist *old = atomic_load(&p->dist);
        atomic_store(&p->from, old);
        atomic_store(&p->dist, d);
        unsigned ep = atomic_fetch_add(&s->epoch, 1) + 1;
        rt_reshard_start(s, p, old, d, ep);
        p->built_gen = gen;
        p->nlive = n;
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    struct rt_dist *old = atomic_exchange_explicit(&p->dist, d, memory_order_acq_rel);
    if (old) {
        old->retired_at = net_mono_ms();
        old->retired_next = p->retired;
        p->retired = old;
    }
    p->built_gen = gen;
    p->nlive = n;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

/* PING addr on a blocking connection (a shard that is to receive keys must answer first). */
static bool ping_ok(const char *addr, long long timeout_ms)
{
    struct sockaddr_storage sa;
    socklen_t salen;
    char err[256];
    if (resolve(addr, &sa, &salen, err, sizeof err) != 0)
        return false;
    int fd = net_socket_timeout(sa.ss_family, timeout_ms);
    if (fd < 0)
        return false;
    char rep[8];
    bool ok = connect(fd, (struct sockaddr *)&sa, salen) == 0 && write(fd, "PING\r\n", 6) == 6 &&
              read(fd, rep, sizeof rep) >= 5 && memcmp(rep, "+PONG", 5) == 0;
    close(fd);
    return ok;
}

static void init_npc(struct rt_server *s, struct net_pool_conf *c)
{
    memset(c, 0, sizeof *c);
    c->balance = 0;
    c->health = NET_HEALTH_RESP;
    c->health_interval_ms = s->cfg.health_interval_ms;
    c->health_timeout_ms = s->cfg.health_interval_ms;
    c->health_rise = s->cfg.health_rise;
    c->health_fall = s->cfg.health_fall;
    c->passive_fails = 3;
    c->eject_ms = s->cfg.health_interval_ms;
    c->eject_max_ms = 8 * s->cfg.health_interval_ms;
}

static struct net_peer *make_peer(struct rt_server *s, struct net_pool *np, const char *addr, const char *name,
                                  long long weight, bool runtime, char *err, size_t errlen)
{
    struct net_backend_conf b = {0};
    b.addr = (char *)addr;
    b.name = (char *)name;
    b.weight = weight;
    if (resolve(addr, &b.sa, &b.salen, err, errlen) != 0)
        return NULL;
    struct net_peer *peer = net_peer_new(np, &b, s->nworkers);
    if (runtime)
        net_health_new_peer(peer);
    net_peer_ref(peer); /* ours; the pool takes the first */
    net_pool_add(np, peer);
    net_health_start(&s->workers[0].loop, peer);
    return peer;
}

static struct rt_shard *rt_server_add_shard(struct rt_server *s, struct rt_pool *p, const struct rt_shard_conf *sc,
                                     char *err, size_t errlen)
{
    const char *name = sc->name ? sc->name : sc->addr;
    if (s->running && !s->batch && rt_reshard_busy(s)) {
        snprintf(err, errlen, "a resharding is in progress (see /status); try again when it is done");
        return NULL;
    }
    if (rt_server_find_shard(s, name) || rt_server_find_shard(s, sc->addr)) {
        snprintf(err, errlen, "shard '%s' exists", name);
        return NULL;
    }
    int id = atomic_load(&s->nshards);
    if (id >= RT_MAX_SHARDS || p->nmembers >= RT_MAX_SHARDS) {
        snprintf(err, errlen, "at most %d shards over the router's life", RT_MAX_SHARDS);
        return NULL;
    }
    bool runtime = s->workers[0].loop.time > 0 && atomic_load(&s->nshards) > 0 && s->admin;
    bool reshard = migrates(s, p);
    if (reshard && !ping_ok(sc->addr, s->cfg.connect_timeout_ms)) {
        snprintf(err, errlen, "shard %s does not answer PING: keys cannot move there", sc->addr);
        return NULL;
    }
    struct rt_shard *sh = xcalloc(1, sizeof *sh);
    sh->id = id;
    sh->pool = p;
    sh->name = xstrdup(name);
    sh->range_lo = sc->range_lo ? xstrdup(sc->range_lo) : NULL;
    sh->master = sc->master ? xstrdup(sc->master) : NULL;
    sh->peer = make_peer(s, p->np, sc->addr, name, sc->weight, runtime, err, errlen);
    if (!sh->peer) {
        xfree(sh->name);
        xfree(sh->range_lo);
        xfree(sh->master);
        xfree(sh);
        return NULL;
    }
    if (sc->replica) {
        char rname[300];
        snprintf(rname, sizeof rname, "%s/replica", name);
        sh->replica = make_peer(s, p->rp, sc->replica, rname, 1, runtime, err, errlen);
        if (!sh->replica) {
            net_health_stop(sh->peer);
            net_pool_remove(p->np, sh->peer);
            net_peer_unref(sh->peer);
            xfree(sh->name);
            xfree(sh->range_lo);
            xfree(sh->master);
            xfree(sh);
            return NULL;
        }
    }
    if (reshard)
        net_peer_set_check(sh->peer, true); /* it answered: keys go there from the switch on */
    atomic_store_explicit(&s->shards[id], sh, memory_order_release);
    atomic_store(&s->nshards, id + 1);
    pthread_mutex_lock(&s->lock);
    p->members[p->nmembers++] = id;
    pthread_mutex_unlock(&s->lock);
    if (rt_server_change(s, p, err, errlen) != 0) {
        /* the layout does not take it (a range without LO): undo */
        pthread_mutex_lock(&s->lock);
        p->nmembers--;
        pthread_mutex_unlock(&s->lock);
        atomic_store(&sh->removed, true);
        net_peer_set_admin(sh->peer, NET_PEER_REMOVED);
        return NULL;
    }
    return sh;
}

static void finish_remove(struct rt_server *s, struct rt_shard *sh)
{
    struct rt_pool *p = sh->pool;
    (void)s;
    atomic_store(&sh->removed, true);
    net_health_stop(sh->peer);
    net_pool_remove(p->np, sh->peer);
    if (sh->replica) {
        net_health_stop(sh->replica);
        net_pool_remove(p->rp, sh->replica);
    }
}

static int rt_server_remove_shard(struct rt_server *s, struct rt_shard *sh, char *err, size_t errlen)
{
    struct rt_pool *p = sh->pool;
    if (p->nmembers <= 1) {
        snprintf(err, errlen, "shard '%s' is the last of pool '%s'", sh->name, p->conf->name);
        return -1;
    }
    if (s->running && !s->batch && rt_reshard_busy(s)) {
        snprintf(err, errlen, "a resharding is in progress (see /status); try again when it is done");
        return -1;
    }
    pthread_mutex_lock(&s->lock);
    int k = 0;
    for (int i = 0; i < p->nmembers; i++)
        if (p->members[i] != sh->id)
            p->members[k++] = p->members[i];
    p->nmembers = k;
    pthread_mutex_unlock(&s->lock);
    /* resharding: commands routed by the old distribution may still go to it until the switch */
    bool reshard = migrates(s, p);
    if (!reshard)
        atomic_store(&sh->removed, true);
    if (s->batch) {
        s->batch_removed[s->nbatch_removed++] = sh;
        return 0;
    }
    if (rt_server_change(s, p, err, errlen) != 0)
        return -1;
    finish_remove(s, sh);
    return 0;
}

static int rt_server_set_primary(struct rt_server *s, struct rt_shard *sh, const char *addr, char *err, size_t errlen)
{
    struct rt_pool *p = sh->pool;
    struct net_peer *old = atomic_load(&sh->peer);
    if (strcmp(old->addr, addr) == 0) {
        snprintf(err, errlen, "%s is already the primary of '%s'", addr, sh->name);
        return -1;
    }
    struct rt_shard *other = rt_server_find_shard(s, addr);
    if (other && other != sh) {
        snprintf(err, errlen, "%s is shard '%s': two shards cannot share a primary", addr, other->name);
        return -1;
    }
    /* a primary that does not answer would turn the shard's keys into errors: keep the old one */
    if (!ping_ok(addr, s->cfg.connect_timeout_ms)) {
        snprintf(err, errlen, "%s does not answer PING: the primary of '%s' stays %s", addr, sh->name, old->addr);
        return -1;
    }
    struct net_peer *np = make_peer(s, p->np, addr, sh->name, atomic_load(&old->weight), true, err, errlen);
    if (!np)
        return -1;
    /* a peer that was just promoted answered its checks as a replica: trust it at once */
    net_peer_set_check(np, true);
    net_health_stop(old);
    net_pool_remove(p->np, old);
    pthread_mutex_lock(&s->lock);
    struct rt_retired *r = xcalloc(1, sizeof *r);
    r->peer = old; /* kept with our reference: a worker may still hold the pointer it loaded */
    r->next = sh->retired;
    sh->retired = r;
    struct net_peer *rep = atomic_load(&sh->replica);
    if (rep && strcmp(rep->addr, addr) == 0) {
        net_health_stop(rep);
        net_pool_remove(p->rp, rep);
        atomic_store(&sh->replica, NULL);
        r = xcalloc(1, sizeof *r);
        r->peer = rep;
        r->next = sh->retired;
        sh->retired = r;
    }
    pthread_mutex_unlock(&s->lock);
    atomic_store_explicit(&sh->peer, np, memory_order_release);
    atomic_fetch_add_explicit(&sh->peer_gen, 1, memory_order_acq_rel);
    log_notice("shard %s: primary is now %s (was %s)", sh->name, addr, old->addr);
    return 0;
}

static int rt_server_set_replica(struct rt_server *s, struct rt_shard *sh, const char *addr, char *err, size_t errlen)
{
    struct rt_pool *p = sh->pool;
    struct net_peer *old = atomic_load(&sh->replica);
    if ((!old && !addr) || (old && addr && strcmp(old->addr, addr) == 0))
        return 0;
    if (addr && strcmp(atomic_load(&sh->peer)->addr, addr) == 0) {
        snprintf(err, errlen, "%s is the primary of '%s'", addr, sh->name);
        return -1;
    }
    struct net_peer *np = NULL;
    if (addr) {
        char rname[300];
        snprintf(rname, sizeof rname, "%s/replica", sh->name);
        np = make_peer(s, p->rp, addr, rname, 1, true, err, errlen);
        if (!np)
            return -1;
        snprintf(np->last_check, sizeof np->last_check, "answered ROLE slave (named by the sentinels)");
        net_peer_set_check(np, true); /* the caller saw it answer ROLE as a replica */
    }
    if (old) {
        net_health_stop(old);
        net_pool_remove(p->rp, old);
        pthread_mutex_lock(&s->lock);
        struct rt_retired *r = xcalloc(1, sizeof *r);
        r->peer = old; /* kept with our reference: a worker may still hold the pointer it loaded */
        r->next = sh->retired;
        sh->retired = r;
        pthread_mutex_unlock(&s->lock);
    }
    atomic_store_explicit(&sh->replica, np, memory_order_release);
    log_notice("shard %s: read replica is now %s (was %s)", sh->name, addr ? addr : "none", old ? old->addr : "none");
    return 0;
}

/* ---- directory fetcher -------------------------------------------------------- */

/* The bulk strings of an array reply as args; false if it is no array of bulks. */
static bool split_bulks(const char *p, size_t len, struct resp_arg **out, size_t *n)
{
    long long cnt;
    const char *e = memchr(p, '\r', len);
    if (len < 4 || p[0] != '*' || !e || !util_str2ll(p + 1, (size_t)(e - p - 1), &cnt) || cnt < 0 || cnt % 2)
        return false;
    struct resp_arg *a = xmalloc((size_t)(cnt ? cnt : 1) * sizeof *a);
    size_t off = (size_t)(e - p) + 2;
    for (long long i = 0; i < cnt; i++) {
        long long bl;
        const char *q = p + off;
        const char *qe = memchr(q, '\r', len - off);
        if (!qe || q[0] != '$' || !util_str2ll(q + 1, (size_t)(qe - q - 1), &bl) || bl < 0 ||
            (size_t)(qe - p) + 2 + (size_t)bl + 2 > len) {
            xfree(a);
            return false;
        }
        a[i].ptr = qe + 2;
        a[i].len = (size_t)bl;
        off = (size_t)(qe - p) + 2 + (size_t)bl + 2;
    }
    *out = a;
    *n = (size_t)cnt / 2;
    return true;
}

static void dir_reinstall(struct rt_pool *p, struct rt_dist *d)
{
    if (!p->dir_reply)
        return;
    struct resp_arg *a;
    size_t n;
    if (split_bulks(p->dir_reply, p->dir_len, &a, &n)) {
        rt_dir_install(d, a, n);
        xfree(a);
    }
}

static int dir_fetch(struct rt_server *s, struct rt_pool *p)
{
    struct sockaddr_storage sa;
    socklen_t salen;
    char err[256];
    if (resolve(p->conf->dir_addr, &sa, &salen, err, sizeof err) != 0)
        return -1;
    int fd = net_socket_timeout(sa.ss_family, 1000);
    if (fd < 0)
        return -1;
    int rc = -1;
    struct buf in, out;
    buf_init(&in);
    buf_init(&out);
    struct resp_arg cmd[2] = {{"HGETALL", 7}, {p->conf->dir_hash, strlen(p->conf->dir_hash)}};
    rt_write_command(&out, 2, cmd);
    if (connect(fd, (struct sockaddr *)&sa, salen) != 0 ||
        net_write_all(fd, buf_head(&out), buf_pending(&out)) != 0)
        goto done;
    struct resp_reply rr;
    resp_reply_init(&rr);
    for (;;) {
        if (net_read_buf(fd, &in, 65536) <= 0)
            goto done;
        ssize_t m = resp_reply_parse(&rr, buf_head(&in), buf_pending(&in));
        if (m < 0 || buf_pending(&in) > DIR_MAX_REPLY)
            goto done;
        if (m > 0) {
            struct resp_arg *a;
            size_t np;
            if (!split_bulks(buf_head(&in), (size_t)m, &a, &np))
                goto done;
            xfree(a);
            pthread_mutex_lock(&s->lock);
            xfree(p->dir_reply);
            p->dir_reply = xmalloc((size_t)m);
            memcpy(p->dir_reply, buf_head(&in), (size_t)m);
            p->dir_len = (size_t)m;
            dir_reinstall(p, atomic_load(&p->dist));
            pthread_mutex_unlock(&s->lock);
            rc = 0;
            goto done;
        }
    }
done:
    close(fd);
    buf_deinit(&in);
    buf_deinit(&out);
    return rc;
}

static void *dir_thread(void *arg)
{
    struct rt_pool *p = arg;
    struct rt_server *s = g_srv;
    bool warned = false;
    while (!atomic_load(&s->stopping)) {
        if (dir_fetch(s, p) == 0) {
            atomic_fetch_add(&p->dir_fetches, 1);
            warned = false;
        } else {
            atomic_fetch_add(&p->dir_errors, 1);
            if (!warned)
                log_warn("pool %s: cannot read the directory at %s (HGETALL %s); keeping the last table",
                         p->conf->name, p->conf->dir_addr, p->conf->dir_hash);
            warned = true;
        }
        usleep((useconds_t)(p->conf->dir_ttl_ms * 1000));
    }
    return NULL;
}

/* ---- workers, cron, signals ---------------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status)
{
    struct rt_worker *w = server->data;
    if (status < 0)
        return;
    rt_proxy_accept(w, server);
}

static void on_sweep(uv_timer_t *t) { rt_proxy_sweep(t->data); }

static void on_wake(uv_async_t *a)
{
    struct rt_worker *w = a->data;
    rt_proxy_released(w);
    if (atomic_load(&w->srv->draining) && !uv_is_closing((uv_handle_t *)&w->listener))
        uv_close((uv_handle_t *)&w->listener, NULL);
    if (atomic_load(&w->srv->stopping))
        uv_stop(&w->loop);
}

/* Distributions replaced more than RETIRE_MS ago: no worker still reads them
 * (a lookup holds one for microseconds). Cron, main thread. */
#define RETIRE_MS 5000
static void free_retired(struct rt_server *s, struct rt_pool *p, long long now)
{
    pthread_mutex_lock(&s->lock);
    struct rt_dist **pp = &p->retired;
    while (*pp) {
        struct rt_dist *d = *pp;
        if (now - d->retired_at >= RETIRE_MS) {
            *pp = d->retired_next;
            rt_dist_free(d);
        } else {
            pp = &d->retired_next;
        }
    }
    pthread_mutex_unlock(&s->lock);
}

static void on_cron(uv_timer_t *t)
{
    struct rt_server *s = t->data;
    long long now = net_mono_ms();
    for (int i = 0; i < s->npools; i++)
        if (s->pools[i].retired)
            free_retired(s, &s->pools[i], now);
    if (atomic_load(&s->draining) && !atomic_load(&s->stopping)) {
        long long left = 0;
        for (int i = 0; i < s->nworkers; i++)
            left += atomic_load(&s->workers[i].inflight);
        if (left <= 0 || now >= s->drain_deadline) {
            if (left > 0)
                log_warn("drain: %lld commands still in flight after %lld ms; exiting", left,
                         s->cfg.server_timeout_ms);
            atomic_store(&s->stopping, true);
            for (int i = 0; i < s->nworkers; i++)
                uv_async_send(&s->workers[i].wake);
        }
    }
    for (int i = 0; i < s->npools; i++) {
        struct rt_pool *p = &s->pools[i];
        net_pool_expire_ejections(p->np, now);
        net_pool_expire_ejections(p->rp, now);
        if (p->conf->auto_eject && atomic_load(&p->np->gen) != p->built_gen) {
            char err[256];
            if (rt_server_rebuild(s, p, err, sizeof err) != 0)
                log_warn("pool %s: %s", p->conf->name, err);
            else
                log_notice("pool %s: %d of %d shards in the distribution (auto-eject)", p->conf->name, p->nlive,
                           p->nmembers);
        }
    }
}

/* ---- SIGHUP: the configuration read again; shard lists and weights applied ---------- */

static int g_argc;
static char **g_argv;

static const char *conf_name(const struct rt_shard_conf *sc) { return sc->name ? sc->name : sc->addr; }

/* Does pool p differ from pc in its shards or weights? */
static bool pool_differs(struct rt_server *s, struct rt_pool *p, const struct rt_pool_conf *pc)
{
    if (pc->nshards != p->nmembers)
        return true;
    for (int j = 0; j < pc->nshards; j++) {
        struct rt_shard *sh = rt_server_find_shard(s, conf_name(&pc->shards[j]));
        if (!sh || sh->pool != p || atomic_load(&sh->peer->weight) != pc->shards[j].weight)
            return true;
    }
    return false;
}

/* Apply pc's shard list and weights to p with one rebuild (one resharding). */
static void apply_pool(struct rt_server *s, struct rt_pool *p, const struct rt_pool_conf *pc)
{
    char err[512];
    s->batch = true;
    s->nbatch_removed = 0;
    int added = 0, removed = 0, reweighted = 0;
    for (int j = 0; j < pc->nshards; j++) {
        const struct rt_shard_conf *sc = &pc->shards[j];
        struct rt_shard *sh = rt_server_find_shard(s, conf_name(sc));
        if (sh && sh->pool == p) {
            if (atomic_load(&sh->peer->weight) != sc->weight) {
                net_peer_set_weight(sh->peer, (int)sc->weight);
                reweighted++;
            }
        } else if (!sh) {
            if (rt_server_add_shard(s, p, sc, err, sizeof err))
                added++;
            else
                log_warn("SIGHUP: pool %s: shard %s not added: %s", p->conf->name, conf_name(sc), err);
        } else {
            log_warn("SIGHUP: shard %s belongs to pool %s: not moved to pool %s", conf_name(sc), sh->pool->conf->name,
                     p->conf->name);
        }
    }
    int ids[RT_MAX_SHARDS], n = p->nmembers;
    memcpy(ids, p->members, (size_t)n * sizeof *ids);
    for (int i = 0; i < n; i++) {
        struct rt_shard *sh = atomic_load(&s->shards[ids[i]]);
        bool keep = false;
        for (int j = 0; j < pc->nshards && !keep; j++)
            keep = strcmp(conf_name(&pc->shards[j]), sh->name) == 0;
        if (!keep) {
            if (rt_server_remove_shard(s, sh, err, sizeof err) == 0)
                removed++;
            else
                log_warn("SIGHUP: pool %s: shard %s not removed: %s", p->conf->name, sh->name, err);
        }
    }
    s->batch = false;
    if (rt_server_change(s, p, err, sizeof err) != 0)
        log_warn("SIGHUP: pool %s: %s", p->conf->name, err);
    for (int i = 0; i < s->nbatch_removed; i++)
        finish_remove(s, s->batch_removed[i]);
    s->nbatch_removed = 0;
    log_notice("SIGHUP: pool %s: %d shard%s added, %d removed, %d weight%s changed%s", p->conf->name, added,
               added == 1 ? "" : "s", removed, reweighted, reweighted == 1 ? "" : "s",
               migrates(s, p) ? "; keys move in the background (see /status)" : "");
}

static void reload(struct rt_server *s)
{
    struct rt_config *nc = xcalloc(1, sizeof *nc);
    rt_config_init(nc);
    struct buf errs;
    buf_init(&errs);
    int nerr = conf_load_args(&rt_conf_table, nc, g_argc, g_argv, &errs);
    if (nerr == 0)
        nerr = rt_config_validate(nc, &errs);
    if (nerr) {
        log_warn("SIGHUP: configuration not reloaded: %.*s", (int)buf_pending(&errs), buf_head(&errs));
        goto out;
    }
    if (rt_reshard_busy(s)) {
        log_warn("SIGHUP: a resharding is in progress; send SIGHUP again once /status shows it done");
        goto out;
    }
    bool started = false;
    for (int i = 0; i < nc->npools; i++) {
        const struct rt_pool_conf *pc = nc->pools[i];
        struct rt_pool *p = rt_server_find_pool(s, pc->name);
        if (!p) {
            log_warn("SIGHUP: pool %s is new: pools are read at start only", pc->name);
            continue;
        }
        if (!pool_differs(s, p, pc))
            continue;
        if (started && migrates(s, p)) {
            log_warn("SIGHUP: pool %s changed too: one resharding at a time; send SIGHUP again once /status "
                     "shows it done", pc->name);
            continue;
        }
        apply_pool(s, p, pc);
        started = started || migrates(s, p);
    }
out:
    buf_deinit(&errs);
    rt_config_deinit(nc);
    xfree(nc);
}

static void on_sighup(uv_signal_t *h, int sig)
{
    (void)sig;
    log_notice("SIGHUP received: reading the configuration again (shard lists and weights)");
    reload(h->data);
}

static void on_signal(uv_signal_t *h, int sig)
{
    struct rt_server *s = h->data;
    if (atomic_exchange(&s->draining, true))
        return;
    log_notice("%s received: no new clients; exiting once the commands in flight are answered",
               sig == SIGTERM ? "SIGTERM" : "SIGINT");
    s->drain_deadline = net_mono_ms() + (s->cfg.server_timeout_ms > 0 ? s->cfg.server_timeout_ms : 5000);
    for (int i = 0; i < s->nworkers; i++)
        uv_async_send(&s->workers[i].wake);
}

static void usage(void)
{
    net_server_usage(stdout, &rt_conf_table, "usage: scaleout router [--config FILE] [--directive value ...]\n\n", "");
}

static int validate(void *cfg, struct buf *errs) { return rt_config_validate(cfg, errs); }

/* What admin.c and sentinel.c change in the server (s->ops, proxy.h). */
static const struct rt_server_ops server_ops = {
    .add_shard = rt_server_add_shard,
    .remove_shard = rt_server_remove_shard,
    .set_primary = rt_server_set_primary,
    .set_replica = rt_server_set_replica,
    .change = rt_server_change,
    .find_pool = rt_server_find_pool,
    .find_shard = rt_server_find_shard,
};

int router_main(int argc, char **argv)
{
    if (net_server_help_asked(argc, argv)) {
        usage();
        return 0;
    }
    struct rt_server *s = xcalloc(1, sizeof *s);
    s->ops = &server_ops;
    g_srv = s;
    g_argc = argc;
    g_argv = argv;
    rt_config_init(&s->cfg);
    if (net_server_conf_args(&rt_conf_table, &s->cfg, "router", argc, argv, validate) != 0) {
        rt_config_deinit(&s->cfg);
        xfree(s);
        g_srv = NULL;
        return 2;
    }
    net_server_process_init("router", s->cfg.loglevel, s->cfg.logfile);
    pthread_mutex_init(&s->lock, NULL);
    s->start_ms = util_time_ms();
    s->nworkers = (int)s->cfg.threads;
    s->workers = xcalloc((size_t)s->nworkers, sizeof *s->workers);
    for (int i = 0; i < s->nworkers; i++) {
        struct rt_worker *w = &s->workers[i];
        w->id = i;
        w->srv = s;
        net_worker_loop_init(&w->loop, &w->wake, on_wake, &w->sweep, on_sweep, SWEEP_MS, w);
        rt_proxy_worker_init(w);
    }
    /* pools and shards (those with a sentinel master name: at the address the sentinels give) */
    rt_sentinel_resolve(&s->cfg);
    char err[512];
    s->npools = s->cfg.npools;
    s->dflt_pool = 0;
    for (int i = 0; i < s->npools; i++) {
        struct rt_pool *p = &s->pools[i];
        p->conf = s->cfg.pools[i];
        if (strcmp(p->conf->name, "default") == 0)
            s->dflt_pool = i;
        init_npc(s, &p->npc);
        p->np = net_pool_new(p->conf->name, &p->npc, s->nworkers);
        p->rp = net_pool_new(p->conf->name, &p->npc, s->nworkers);
        pthread_mutex_init(&p->dir_lock, NULL);
        for (int j = 0; j < p->conf->nshards; j++)
            if (!rt_server_add_shard(s, p, &p->conf->shards[j], err, sizeof err)) {
                fprintf(stderr, "scaleout router: pool %s: %s\n", p->conf->name, err);
                return 1;
            }
    }
    /* listener */
    char host[256];
    int port;
    net_split_hostport(s->cfg.listen, host, sizeof host, &port);
    /* one socket, every worker's loop watching a dup of it */
    int *fds = xcalloc((size_t)s->nworkers, sizeof *fds);
    if (net_listen_fds(host, port, (int)s->cfg.tcp_backlog, false, false, s->nworkers, fds, &s->port, err,
                       sizeof err) != 0) {
        fprintf(stderr, "scaleout router: %s\n", err);
        xfree(fds);
        return 1;
    }
    for (int i = 0; i < s->nworkers; i++) {
        struct rt_worker *w = &s->workers[i];
        int r = net_listen_start(&w->loop, &w->listener, fds[i], (int)s->cfg.tcp_backlog, s->nworkers > 1,
                                 on_connection, w);
        if (r != 0) {
            fprintf(stderr, "scaleout router: listen: %s\n", uv_strerror(r));
            xfree(fds);
            return 1;
        }
    }
    xfree(fds);
    uv_loop_t *loop = &s->workers[0].loop;
    net_cron_start(&s->cron, loop, on_cron, CRON_MS, s);
    net_signals_start(&s->sig, loop, on_signal, on_sighup, s);
    long long aport = net_admin_port(s->cfg.admin_port, s->port);
    if (aport > 0) {
        s->admin = rt_admin_open(s, loop, s->cfg.admin_bind, (int)aport, err, sizeof err);
        if (!s->admin)
            log_warn("admin endpoint disabled: %s", err);
    }
    for (int i = 0; i < s->npools; i++) {
        struct rt_pool *p = &s->pools[i];
        if (p->conf->dist == RT_DIST_DIRECTORY) {
            dir_fetch(s, p); /* the first table before clients come */
            p->dir_started = pthread_create(&p->dir_thread, NULL, dir_thread, p) == 0;
            if (p->dir_started)
                pthread_detach(p->dir_thread);
        }
    }
    net_pidfile_write(s->cfg.pidfile);
    int nsh = atomic_load(&s->nshards);
    log_notice("scaleout router ready on %s:%d: %d pool%s, %d shard%s, %d thread%s, admin %s:%d", host, s->port,
               s->npools, s->npools == 1 ? "" : "s", nsh, nsh == 1 ? "" : "s", s->nworkers,
               s->nworkers == 1 ? "" : "s", s->cfg.admin_bind, s->admin ? admin_port(s->admin) : 0);
    rt_reshard_init(s);
    rt_sentinel_start(s);
    s->running = true;
    struct net_threads th;
    NET_THREADS_START(&th, s->workers, s->nworkers);
    uv_run(loop, UV_RUN_DEFAULT);
    net_threads_join(&th);
    net_pidfile_remove(s->cfg.pidfile);
    log_notice("scaleout router stopped");
    /* open connections and shard state are dropped with the process (g_srv keeps them reachable) */
    return 0;
}
