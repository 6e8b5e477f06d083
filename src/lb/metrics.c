/*
 * metrics.c — /metrics (Prometheus text) and /status (JSON) of the lb.
 * Per-backend figures are the sum of the workers' slots (struct
 * net_peer_local), read with relaxed loads while the workers run.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/util.h"
#include "net/admin.h"
#include "net/balance.h"
#include "lb/cache.h"
#include "lb/lb.h"
#include "net/peer.h"

/* Per-backend counters: name, help, field of struct net_peer_local. */
#define LB_PEER_COUNTERS(X) \
    X("scaleout_lb_backend_requests_total", "requests sent to the backend (tcp mode: connections)", requests) \
    X("scaleout_lb_backend_errors_total", "connect failures, timeouts, resets and bad responses", errors) \
    X("scaleout_lb_backend_retries_total", "requests retried on another backend after failing on this one", retries) \
    X("scaleout_lb_backend_connects_total", "connections opened to the backend", connects) \
    X("scaleout_lb_backend_received_bytes_total", "bytes received from the backend", bytes_in) \
    X("scaleout_lb_backend_sent_bytes_total", "bytes sent to the backend", bytes_out)

struct peer_sum {
    uint64_t requests, errors, retries, connects, bytes_in, bytes_out;
    uint64_t responses[6];
    uint64_t lat[NET_LAT_BUCKETS];
    uint64_t lat_sum_us;
    int nidle;
};

static void sum_peer(const struct net_peer *p, struct peer_sum *o)
{
    memset(o, 0, sizeof *o);
    for (int w = 0; w < p->nlocal; w++) {
        const struct net_peer_local *l = &p->local[w];
#define LB_X_SUM(name, help, field) o->field += net_read(&l->field);
        LB_PEER_COUNTERS(LB_X_SUM)
#undef LB_X_SUM
        for (int i = 0; i < 6; i++)
            o->responses[i] += net_read(&l->responses[i]);
        for (int i = 0; i < NET_LAT_BUCKETS; i++)
            o->lat[i] += net_read(&l->lat[i]);
        o->lat_sum_us += net_read(&l->lat_sum_us);
        o->nidle += __atomic_load_n(&l->nidle, __ATOMIC_RELAXED);
    }
}

static const char *peer_state(const struct net_peer *p)
{
    int a = atomic_load(&p->admin);
    if (a == NET_PEER_REMOVED)
        return "removed";
    if (a == NET_PEER_DRAIN)
        return "draining";
    if (!atomic_load(&p->check_up))
        return "down";
    if (atomic_load(&p->ejected_until))
        return "ejected";
    return "up";
}

/* Copies of a pool's peers (references), so that nothing is held locked
 * while formatting. */
static struct net_peer **pool_peers(struct net_pool *pool, int *n)
{
    pthread_mutex_lock(&pool->lock);
    *n = pool->npeers;
    struct net_peer **v = xmalloc((size_t)(*n ? *n : 1) * sizeof *v);
    for (int i = 0; i < *n; i++) {
        v[i] = pool->peers[i];
        net_peer_ref(v[i]);
    }
    pthread_mutex_unlock(&pool->lock);
    return v;
}

static void put_peers(struct net_peer **v, int n)
{
    for (int i = 0; i < n; i++)
        net_peer_unref(v[i]);
    xfree(v);
}

/* Process-wide figures: clients, memory, reloads. */
static void metrics_process(struct lb_server *s, struct buf *o)
{
    buf_printf(o, "# HELP scaleout_lb_clients client connections open\n# TYPE scaleout_lb_clients gauge\nscaleout_lb_clients %lld\n",
               (long long)atomic_load(&s->nclients));
    buf_printf(o, "# HELP scaleout_lb_memory_bytes memory allocated\n# TYPE scaleout_lb_memory_bytes gauge\nscaleout_lb_memory_bytes %zu\n",
               xalloc_used());
    buf_printf(o, "# HELP scaleout_lb_reloads_total configuration reloads\n# TYPE scaleout_lb_reloads_total counter\nscaleout_lb_reloads_total %llu\n",
               (unsigned long long)atomic_load(&s->reloads));
}

/* Per-listener counters: connections, requests, rejections, HTTP/2, TLS. */
static void metrics_listeners(struct lb_listener *const *ls, int nl, struct buf *o)
{
    static const char *const rej[] = {"bad_request", "no_route", "timeout", "rate_limited", "unavailable", "other"};
    buf_puts(o, "# HELP scaleout_lb_listener_connections_total client connections accepted\n"
                "# TYPE scaleout_lb_listener_connections_total counter\n");
    for (int i = 0; i < nl; i++)
        buf_printf(o, "scaleout_lb_listener_connections_total{listener=\"%s\"} %llu\n", ls[i]->name,
                   (unsigned long long)atomic_load(&ls[i]->accepted));
    buf_puts(o, "# HELP scaleout_lb_listener_requests_total requests received (tcp mode: connections)\n"
                "# TYPE scaleout_lb_listener_requests_total counter\n");
    for (int i = 0; i < nl; i++)
        buf_printf(o, "scaleout_lb_listener_requests_total{listener=\"%s\"} %llu\n", ls[i]->name,
                   (unsigned long long)atomic_load(&ls[i]->requests));
    buf_puts(o, "# HELP scaleout_lb_listener_rejected_total requests answered by the lb itself, by reason\n"
                "# TYPE scaleout_lb_listener_rejected_total counter\n");
    for (int i = 0; i < nl; i++)
        for (int r = 0; r < 6; r++)
            buf_printf(o, "scaleout_lb_listener_rejected_total{listener=\"%s\",reason=\"%s\"} %llu\n", ls[i]->name, rej[r],
                       (unsigned long long)atomic_load(&ls[i]->rejected[r]));
    static const struct { const char *name, *help; size_t off; } h2m[] = {
        {"scaleout_lb_listener_h2_connections_total", "HTTP/2 connections (ALPN h2 or h2c prior knowledge)",
         offsetof(struct lb_listener, h2_conns)},
        {"scaleout_lb_listener_h2_streams_total", "HTTP/2 streams (requests) opened", offsetof(struct lb_listener, h2_streams)},
        {"scaleout_lb_listener_h2_resets_total", "RST_STREAM frames received from HTTP/2 clients",
         offsetof(struct lb_listener, h2_resets)},
        {"scaleout_lb_listener_h2_goaways_total", "HTTP/2 connections ended by the lb with an error GOAWAY (floods, protocol errors)",
         offsetof(struct lb_listener, h2_goaways)},
    };
    for (size_t k = 0; k < sizeof h2m / sizeof h2m[0]; k++) {
        buf_printf(o, "# HELP %s %s\n# TYPE %s counter\n", h2m[k].name, h2m[k].help, h2m[k].name);
        for (int i = 0; i < nl; i++)
            buf_printf(o, "%s{listener=\"%s\"} %llu\n", h2m[k].name, ls[i]->name,
                       (unsigned long long)atomic_load((_Atomic uint64_t *)((char *)ls[i] + h2m[k].off)));
    }
    buf_puts(o, "# HELP scaleout_lb_listener_h2_connections HTTP/2 connections open\n# TYPE scaleout_lb_listener_h2_connections gauge\n");
    for (int i = 0; i < nl; i++)
        buf_printf(o, "scaleout_lb_listener_h2_connections{listener=\"%s\"} %lld\n", ls[i]->name,
                   (long long)atomic_load(&ls[i]->h2_active));
    buf_puts(o, "# HELP scaleout_lb_listener_tls_handshakes_total TLS handshakes completed (resumed: by ticket or session cache)\n"
                "# TYPE scaleout_lb_listener_tls_handshakes_total counter\n");
    for (int i = 0; i < nl; i++) {
        buf_printf(o, "scaleout_lb_listener_tls_handshakes_total{listener=\"%s\",kind=\"full\"} %llu\n", ls[i]->name,
                   (unsigned long long)atomic_load(&ls[i]->tls_full));
        buf_printf(o, "scaleout_lb_listener_tls_handshakes_total{listener=\"%s\",kind=\"resumed\"} %llu\n", ls[i]->name,
                   (unsigned long long)atomic_load(&ls[i]->tls_resumed));
    }
    buf_puts(o, "# HELP scaleout_lb_listener_tls_errors_total connections cut by TLS: failed handshake, garbage, renegotiation\n"
                "# TYPE scaleout_lb_listener_tls_errors_total counter\n");
    for (int i = 0; i < nl; i++)
        buf_printf(o, "scaleout_lb_listener_tls_errors_total{listener=\"%s\"} %llu\n", ls[i]->name,
                   (unsigned long long)atomic_load(&ls[i]->tls_errors));

}

/* Per-pool figures: the queue and the requests no backend could take. */
static void metrics_pools(struct net_pool *const *pools, int np, struct buf *o)
{
    buf_puts(o, "# HELP scaleout_lb_pool_queued requests waiting for a backend under maxconn\n# TYPE scaleout_lb_pool_queued gauge\n");
    for (int i = 0; i < np; i++)
        buf_printf(o, "scaleout_lb_pool_queued{pool=\"%s\"} %d\n", pools[i]->name, atomic_load(&pools[i]->nqueued));
    buf_puts(o, "# HELP scaleout_lb_pool_unavailable_total requests answered 503 because no backend was usable\n"
                "# TYPE scaleout_lb_pool_unavailable_total counter\n");
    for (int i = 0; i < np; i++) {
        uint64_t t = 0;
        for (int w = 0; w < pools[i]->nlocal; w++)
            t += net_read(&pools[i]->local[w].no_peer);
        buf_printf(o, "scaleout_lb_pool_unavailable_total{pool=\"%s\"} %llu\n", pools[i]->name, (unsigned long long)t);
    }
    buf_puts(o, "# HELP scaleout_lb_pool_queue_timeouts_total requests that waited too long in the queue\n"
                "# TYPE scaleout_lb_pool_queue_timeouts_total counter\n");
    for (int i = 0; i < np; i++) {
        uint64_t t = 0;
        for (int w = 0; w < pools[i]->nlocal; w++)
            t += net_read(&pools[i]->local[w].queue_timeouts) + net_read(&pools[i]->local[w].queue_overflows);
        buf_printf(o, "scaleout_lb_pool_queue_timeouts_total{pool=\"%s\"} %llu\n", pools[i]->name, (unsigned long long)t);
    }

}

/* Per-backend figures, one block per metric with every backend in it; the
 * workers' slots are summed once per backend first. */
static void metrics_backends(struct net_pool *const *pools, int np, struct buf *o)
{
    static const long long bounds[] = NET_LAT_BOUNDS_MS;
    static const char *const classes[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
    /* backends: one block per metric, every backend in it */
    struct net_peer ***all = xmalloc((size_t)(np ? np : 1) * sizeof *all);
    int *counts = xmalloc((size_t)(np ? np : 1) * sizeof *counts);
    struct peer_sum **sums = xmalloc((size_t)(np ? np : 1) * sizeof *sums);
    for (int i = 0; i < np; i++) {
        all[i] = pool_peers(pools[i], &counts[i]);
        sums[i] = xmalloc((size_t)(counts[i] ? counts[i] : 1) * sizeof **sums);
        for (int j = 0; j < counts[i]; j++)
            sum_peer(all[i][j], &sums[i][j]);
    }
#define FOR_PEERS for (int i = 0; i < np; i++) for (int j = 0; j < counts[i]; j++)
#define LABELS "pool=\"%s\",backend=\"%s\""
#define LARGS pools[i]->name, all[i][j]->name
#define LB_X_EMIT(name, help, field) \
    buf_printf(o, "# HELP %s %s\n# TYPE %s counter\n", name, help, name); \
    FOR_PEERS buf_printf(o, "%s{" LABELS "} %llu\n", name, LARGS, (unsigned long long)sums[i][j].field);
    LB_PEER_COUNTERS(LB_X_EMIT)
#undef LB_X_EMIT
    buf_puts(o, "# HELP scaleout_lb_backend_responses_total responses by status class\n# TYPE scaleout_lb_backend_responses_total counter\n");
    FOR_PEERS for (int c = 1; c < 6; c++)
        buf_printf(o, "scaleout_lb_backend_responses_total{" LABELS ",code=\"%s\"} %llu\n", LARGS, classes[c],
                   (unsigned long long)sums[i][j].responses[c]);
    buf_puts(o, "# HELP scaleout_lb_backend_active requests (tcp: tunnels) in flight\n# TYPE scaleout_lb_backend_active gauge\n");
    FOR_PEERS buf_printf(o, "scaleout_lb_backend_active{" LABELS "} %d\n", LARGS, atomic_load(&all[i][j]->active));
    buf_puts(o, "# HELP scaleout_lb_backend_idle_connections pooled keep-alive connections\n"
                "# TYPE scaleout_lb_backend_idle_connections gauge\n");
    FOR_PEERS buf_printf(o, "scaleout_lb_backend_idle_connections{" LABELS "} %d\n", LARGS, sums[i][j].nidle);
    buf_puts(o, "# HELP scaleout_lb_backend_up 1 when the backend takes new requests\n# TYPE scaleout_lb_backend_up gauge\n");
    FOR_PEERS buf_printf(o, "scaleout_lb_backend_up{" LABELS "} %d\n", LARGS, strcmp(peer_state(all[i][j]), "up") == 0);
    buf_puts(o, "# HELP scaleout_lb_backend_state state of the backend (up, down, ejected, draining)\n"
                "# TYPE scaleout_lb_backend_state gauge\n");
    FOR_PEERS buf_printf(o, "scaleout_lb_backend_state{" LABELS ",state=\"%s\"} 1\n", LARGS, peer_state(all[i][j]));
    buf_puts(o, "# HELP scaleout_lb_backend_weight configured weight\n# TYPE scaleout_lb_backend_weight gauge\n");
    FOR_PEERS buf_printf(o, "scaleout_lb_backend_weight{" LABELS "} %d\n", LARGS, atomic_load(&all[i][j]->weight));
    buf_puts(o, "# HELP scaleout_lb_backend_health_checks_total active health checks (and failures)\n"
                "# TYPE scaleout_lb_backend_health_checks_total counter\n");
    FOR_PEERS {
        buf_printf(o, "scaleout_lb_backend_health_checks_total{" LABELS ",result=\"ok\"} %llu\n", LARGS,
                   (unsigned long long)(atomic_load(&all[i][j]->health_checks) - atomic_load(&all[i][j]->health_failures)));
        buf_printf(o, "scaleout_lb_backend_health_checks_total{" LABELS ",result=\"failed\"} %llu\n", LARGS,
                   (unsigned long long)atomic_load(&all[i][j]->health_failures));
    }
    buf_puts(o, "# HELP scaleout_lb_backend_response_seconds time from request sent to response head\n"
                "# TYPE scaleout_lb_backend_response_seconds histogram\n");
    FOR_PEERS {
        uint64_t cum = 0;
        for (int b = 0; b < NET_LAT_BUCKETS; b++) {
            cum += sums[i][j].lat[b];
            if (b < NET_LAT_BUCKETS - 1)
                buf_printf(o, "scaleout_lb_backend_response_seconds_bucket{" LABELS ",le=\"%g\"} %llu\n", LARGS,
                           (double)bounds[b] / 1000.0, (unsigned long long)cum);
            else
                buf_printf(o, "scaleout_lb_backend_response_seconds_bucket{" LABELS ",le=\"+Inf\"} %llu\n", LARGS,
                           (unsigned long long)cum);
        }
        buf_printf(o, "scaleout_lb_backend_response_seconds_sum{" LABELS "} %.6f\n", LARGS, (double)sums[i][j].lat_sum_us / 1e6);
        buf_printf(o, "scaleout_lb_backend_response_seconds_count{" LABELS "} %llu\n", LARGS, (unsigned long long)cum);
    }
#undef FOR_PEERS
#undef LABELS
#undef LARGS
    for (int i = 0; i < np; i++) {
        put_peers(all[i], counts[i]);
        xfree(sums[i]);
    }
    xfree(all);
    xfree(counts);
    xfree(sums);
}

void lb_metrics(struct lb_server *s, struct buf *o)
{
    metrics_process(s, o);
    pthread_mutex_lock(&s->lock);
    int nl = s->nlisteners;
    struct lb_listener **ls = xmalloc((size_t)(nl ? nl : 1) * sizeof *ls);
    memcpy(ls, s->listeners, (size_t)nl * sizeof *ls);
    int np = s->npools;
    struct net_pool **pools = xmalloc((size_t)(np ? np : 1) * sizeof *pools);
    memcpy(pools, s->pools, (size_t)np * sizeof *pools);
    pthread_mutex_unlock(&s->lock);

    metrics_listeners(ls, nl, o);
    metrics_pools(pools, np, o);
    metrics_backends(pools, np, o);
    xfree(pools);
    xfree(ls);
    if (lb_cache_enabled(s->cache))
        lb_cache_metrics(s->cache, o);
}

void lb_status_json(struct lb_server *s, struct buf *o)
{
    static const char *const classes[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
    long long now = net_mono_ms();
    pthread_mutex_lock(&s->lock);
    int nl = s->nlisteners;
    struct lb_listener **ls = xmalloc((size_t)(nl ? nl : 1) * sizeof *ls);
    memcpy(ls, s->listeners, (size_t)nl * sizeof *ls);
    int np = s->npools;
    struct net_pool **pools = xmalloc((size_t)(np ? np : 1) * sizeof *pools);
    memcpy(pools, s->pools, (size_t)np * sizeof *pools);
    pthread_mutex_unlock(&s->lock);
    buf_printf(o, "{\"role\":\"lb\",\"pid\":%d,\"uptime_s\":%lld,\"threads\":%d,\"clients\":%lld,\"reloads\":%llu,"
                  "\"memory_bytes\":%zu,\"listeners\":[",
               (int)getpid(), (util_time_ms() - s->start_ms) / 1000, s->nworkers, (long long)atomic_load(&s->nclients),
               (unsigned long long)atomic_load(&s->reloads), xalloc_used());
    bool first = true;
    for (int i = 0; i < nl; i++) {
        if (atomic_load(&ls[i]->removed))
            continue;
        const struct lb_listener_conf *c = atomic_load(&ls[i]->conf);
        buf_printf(o, "%s{\"name\":", first ? "" : ",");
        first = false;
        admin_json_str(o, ls[i]->name);
        buf_printf(o, ",\"address\":\"%s:%d\",\"mode\":\"%s\",\"connections\":%llu,\"requests\":%llu}", c->host,
                   ls[i]->port, c->mode == LB_MODE_TCP ? "tcp" : "http",
                   (unsigned long long)atomic_load(&ls[i]->accepted), (unsigned long long)atomic_load(&ls[i]->requests));
    }
    buf_puts(o, "],\"pools\":[");
    first = true;
    for (int i = 0; i < np; i++) {
        struct net_pool *pool = pools[i];
        if (pool->removed)
            continue;
        const struct lb_pool_conf *pc = lb_pool_conf_of(pool);
        buf_printf(o, "%s{\"name\":", first ? "" : ",");
        first = false;
        admin_json_str(o, pool->name);
        buf_printf(o, ",\"balance\":\"%s\",\"queued\":%d,\"backends\":[", net_balancers[pc->base.balance]->name,
                   atomic_load(&pool->nqueued));
        int n;
        struct net_peer **v = pool_peers(pool, &n);
        int usable = 0;
        for (int j = 0; j < n; j++) {
            struct net_peer *p = v[j];
            struct peer_sum sm;
            sum_peer(p, &sm);
            if (net_peer_usable(p, now))
                usable++;
            buf_printf(o, "%s{\"name\":", j ? "," : "");
            admin_json_str(o, p->name);
            buf_puts(o, ",\"address\":");
            admin_json_str(o, p->addr);
            buf_printf(o, ",\"state\":\"%s\",\"weight\":%d,\"maxconn\":%lld,\"active\":%d,\"idle_connections\":%d,"
                          "\"requests\":%llu,\"errors\":%llu,\"retries\":%llu,\"responses\":{",
                       peer_state(p), atomic_load(&p->weight), (long long)atomic_load(&p->maxconn),
                       atomic_load(&p->active), sm.nidle, (unsigned long long)sm.requests,
                       (unsigned long long)sm.errors, (unsigned long long)sm.retries);
            for (int c = 1; c < 6; c++)
                buf_printf(o, "%s\"%s\":%llu", c > 1 ? "," : "", classes[c], (unsigned long long)sm.responses[c]);
            long long ej = atomic_load(&p->ejected_until);
            buf_printf(o, "},\"response_ms_avg\":%.3f,\"ejected_for_ms\":%lld,\"check\":",
                       (double)atomic_load(&p->ewma_us) / 1000.0, ej > now ? ej - now : 0);
            admin_json_str(o, p->last_check);
            buf_printf(o, ",\"cookie\":\"%s\"}", p->sticky_id);
        }
        buf_printf(o, "],\"usable\":%d}", usable);
        put_peers(v, n);
    }
    buf_puts(o, "]}\n");
    xfree(pools);
    xfree(ls);
}
