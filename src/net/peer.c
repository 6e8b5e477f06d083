/*
 * peer.c — pools and peers: membership, usability, passive health, the
 * per-worker snapshots the balancers pick from (see peer.h).
 */
#include "net/peer.h"

#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "core/alloc.h"
#include "core/log.h"

uint64_t net_hash(const void *p, size_t n, uint64_t seed) { return XXH3_64bits_withSeed(p, n, seed); }

long long net_mono_ms(void) { return (long long)(uv_hrtime() / 1000000); }

static _Atomic uint64_t next_peer_id = 1;

struct net_pool *net_pool_new(const char *name, struct net_pool_conf *conf, int nworkers)
{
    struct net_pool *p = xcalloc(1, sizeof *p + (size_t)nworkers * sizeof(struct net_pool_local));
    p->name = xstrdup(name);
    atomic_init(&p->conf, conf);
    pthread_mutex_init(&p->lock, NULL);
    p->nlocal = nworkers;
    for (int i = 0; i < nworkers; i++) {
        p->local[i].queue.prev = p->local[i].queue.next = &p->local[i].queue;
        p->local[i].bal_index = -1;
    }
    return p;
}

void net_pool_local_deinit(struct net_pool *pool, int wid)
{
    struct net_pool_local *l = &pool->local[wid];
    for (int i = 0; i < l->nsnap; i++)
        net_peer_unref(l->snap[i]);
    xfree(l->snap);
    l->snap = NULL;
    l->nsnap = l->snapcap = 0;
    if (l->bal)
        net_balancers[l->bal_index]->destroy(l->bal);
    l->bal = NULL;
    l->bal_index = -1;
    l->valid = false;
}

void net_pool_free(struct net_pool *p)
{
    for (int i = 0; i < p->nlocal; i++)
        net_pool_local_deinit(p, i);
    for (int i = 0; i < p->npeers; i++) {
        atomic_store(&p->peers[i]->admin, NET_PEER_REMOVED);
        net_peer_unref(p->peers[i]);
    }
    xfree(p->peers);
    if (p->own_conf && p->free_conf)
        p->free_conf(p->own_conf);
    pthread_mutex_destroy(&p->lock);
    xfree(p->name);
    xfree(p);
}

struct net_peer *net_peer_new(struct net_pool *pool, const struct net_backend_conf *b, int nworkers)
{
    struct net_peer *p = xcalloc(1, sizeof *p + (size_t)nworkers * sizeof(struct net_peer_local));
    atomic_init(&p->refs, 1);
    p->pool = pool;
    p->id = atomic_fetch_add(&next_peer_id, 1);
    p->name = xstrdup(b->name ? b->name : b->addr);
    snprintf(p->addr, sizeof p->addr, "%s", b->addr);
    memcpy(&p->sa, &b->sa, sizeof p->sa);
    p->salen = b->salen;
    p->hash = net_hash(p->name, strlen(p->name), 0);
    snprintf(p->sticky_id, sizeof p->sticky_id, "%016llx", (unsigned long long)p->hash);
    atomic_init(&p->weight, (int)b->weight);
    atomic_init(&p->maxconn, b->maxconn);
    atomic_init(&p->admin, NET_PEER_READY);
    atomic_init(&p->check_up, true);
    p->nlocal = nworkers;
    snprintf(p->last_check, sizeof p->last_check, "none");
    return p;
}

void net_peer_unref(struct net_peer *p)
{
    if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
        return;
    xfree(p->name);
    xfree(p);
}

void net_pool_add(struct net_pool *pool, struct net_peer *p)
{
    pthread_mutex_lock(&pool->lock);
    if (pool->npeers == pool->cap) {
        pool->cap = pool->cap ? pool->cap * 2 : 8;
        pool->peers = xrealloc(pool->peers, (size_t)pool->cap * sizeof *pool->peers);
    }
    p->pool = pool;
    pool->peers[pool->npeers++] = p;
    pthread_mutex_unlock(&pool->lock);
    net_pool_changed(pool);
}

struct net_peer *net_pool_find(struct net_pool *pool, const char *key)
{
    struct net_peer *found = NULL;
    pthread_mutex_lock(&pool->lock);
    for (int i = 0; i < pool->npeers && !found; i++) {
        struct net_peer *p = pool->peers[i];
        if (strcmp(p->name, key) == 0 || strcmp(p->addr, key) == 0) {
            net_peer_ref(p);
            found = p;
        }
    }
    pthread_mutex_unlock(&pool->lock);
    return found;
}

int net_pool_remove(struct net_pool *pool, struct net_peer *p)
{
    int idx = -1;
    pthread_mutex_lock(&pool->lock);
    for (int i = 0; i < pool->npeers; i++)
        if (pool->peers[i] == p)
            idx = i;
    if (idx >= 0) {
        memmove(pool->peers + idx, pool->peers + idx + 1, (size_t)(pool->npeers - idx - 1) * sizeof *pool->peers);
        pool->npeers--;
        atomic_store(&p->admin, NET_PEER_REMOVED);
    }
    pthread_mutex_unlock(&pool->lock);
    if (idx < 0)
        return -1;
    net_pool_changed(pool);
    net_peer_unref(p); /* the pool's reference */
    return 0;
}

void net_peer_set_admin(struct net_peer *p, int state)
{
    if (atomic_exchange(&p->admin, state) != state)
        net_pool_changed(p->pool);
}

void net_peer_set_weight(struct net_peer *p, int weight)
{
    if (atomic_exchange(&p->weight, weight) != weight)
        net_pool_changed(p->pool);
}

void net_peer_set_check(struct net_peer *p, bool up)
{
    if (atomic_exchange(&p->check_up, up) != up) {
        net_pool_changed(p->pool);
        log_notice("pool %s: backend %s is %s (%s)", p->pool->name, p->name, up ? "up" : "down", p->last_check);
    }
}

bool net_peer_usable(const struct net_peer *p, long long now)
{
    (void)now;
    return atomic_load_explicit(&p->admin, memory_order_relaxed) == NET_PEER_READY &&
           atomic_load_explicit(&p->check_up, memory_order_relaxed) &&
           atomic_load_explicit(&p->ejected_until, memory_order_relaxed) == 0;
}

void net_peer_success(struct net_peer *p)
{
    if (atomic_load_explicit(&p->fails, memory_order_relaxed) != 0)
        atomic_store_explicit(&p->fails, 0, memory_order_relaxed);
    if (atomic_load_explicit(&p->eject_level, memory_order_relaxed) != 0 &&
        atomic_load_explicit(&p->ejected_until, memory_order_relaxed) == 0)
        atomic_store_explicit(&p->eject_level, 0, memory_order_relaxed);
}

void net_peer_failure(struct net_peer *p, long long now)
{
    const struct net_pool_conf *c = atomic_load(&p->pool->conf);
    if (c->passive_fails <= 0)
        return;
    int f = atomic_fetch_add(&p->fails, 1) + 1;
    if (f < c->passive_fails)
        return;
    int level = atomic_load(&p->eject_level);
    long long ms = c->eject_ms;
    for (int i = 0; i < level && ms < c->eject_max_ms; i++)
        ms *= 2;
    if (ms > c->eject_max_ms)
        ms = c->eject_max_ms;
    long long zero = 0;
    if (!atomic_compare_exchange_strong(&p->ejected_until, &zero, now + ms))
        return; /* already ejected */
    atomic_store(&p->fails, 0);
    atomic_store(&p->eject_level, level + 1);
    net_pool_changed(p->pool);
    log_notice("pool %s: backend %s ejected for %lld ms after %d consecutive errors", p->pool->name, p->name, ms, f);
}

void net_pool_expire_ejections(struct net_pool *pool, long long now)
{
    bool changed = false;
    pthread_mutex_lock(&pool->lock);
    for (int i = 0; i < pool->npeers; i++) {
        struct net_peer *p = pool->peers[i];
        long long until = atomic_load(&p->ejected_until);
        if (until && until <= now && atomic_compare_exchange_strong(&p->ejected_until, &until, 0)) {
            changed = true;
            log_notice("pool %s: backend %s back in service after ejection", pool->name, p->name);
        }
    }
    pthread_mutex_unlock(&pool->lock);
    if (changed)
        net_pool_changed(pool);
}

void net_peer_observe(struct net_peer *p, uint64_t us)
{
    uint64_t e = atomic_load_explicit(&p->ewma_us, memory_order_relaxed);
    /* alpha = 1/8; racing updates from two workers may lose one sample */
    e = e == 0 ? us : (e * 7 + us) / 8;
    if (e == 0)
        e = 1;
    atomic_store_explicit(&p->ewma_us, e, memory_order_relaxed);
    atomic_store_explicit(&p->ewma_at, net_mono_ms(), memory_order_relaxed);
}

int net_pool_snapshot(struct net_pool *pool, int wid, long long now)
{
    struct net_pool_local *l = &pool->local[wid];
    unsigned g = atomic_load(&pool->gen);
    const struct net_pool_conf *conf = atomic_load(&pool->conf);
    if (l->valid && l->gen == g && l->bal_index == conf->balance)
        return l->nsnap;
    struct net_peer **old = l->snap;
    int nold = l->nsnap;
    l->snap = NULL;
    l->nsnap = l->snapcap = 0;
    pthread_mutex_lock(&pool->lock);
    if (pool->npeers > 0) {
        l->snap = xmalloc((size_t)pool->npeers * sizeof *l->snap);
        l->snapcap = pool->npeers;
    }
    for (int i = 0; i < pool->npeers; i++) {
        struct net_peer *p = pool->peers[i];
        if (net_peer_usable(p, now)) {
            net_peer_ref(p);
            l->snap[l->nsnap++] = p;
        }
    }
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < nold; i++)
        net_peer_unref(old[i]);
    xfree(old);
    if (l->bal_index != conf->balance) {
        if (l->bal)
            net_balancers[l->bal_index]->destroy(l->bal);
        l->bal_index = conf->balance;
        l->bal = net_balancers[l->bal_index]->create();
    }
    net_balancers[l->bal_index]->update(l->bal, l->snap, l->nsnap);
    l->gen = g;
    l->valid = true;
    return l->nsnap;
}

struct net_peer *net_pool_pick(struct net_pool *pool, int wid, const struct net_pick_ctx *ctx, long long now)
{
    int n = net_pool_snapshot(pool, wid, now);
    if (n == 0)
        return NULL;
    struct net_pool_local *l = &pool->local[wid];
    return net_balancers[l->bal_index]->pick(l->bal, l->snap, n, ctx);
}

struct net_peer *net_pool_find_sticky(struct net_pool *pool, int wid, const char *v, size_t vlen, long long now)
{
    int n = net_pool_snapshot(pool, wid, now);
    struct net_pool_local *l = &pool->local[wid];
    if (vlen != 16)
        return NULL;
    for (int i = 0; i < n; i++)
        if (memcmp(l->snap[i]->sticky_id, v, 16) == 0)
            return l->snap[i];
    return NULL;
}

int net_pool_retry_after(struct net_pool *pool, long long now)
{
    const struct net_pool_conf *c = atomic_load(&pool->conf);
    long long best = -1;
    pthread_mutex_lock(&pool->lock);
    for (int i = 0; i < pool->npeers; i++) {
        long long until = atomic_load(&pool->peers[i]->ejected_until);
        if (until > now && (best < 0 || until - now < best))
            best = until - now;
    }
    pthread_mutex_unlock(&pool->lock);
    if (best < 0)
        best = c->health >= 0 ? c->health_interval_ms : 1000;
    int secs = (int)((best + 999) / 1000);
    return secs < 1 ? 1 : secs;
}
