/*
 * config.c — the `up` directive table: one topology per file (examples/up.conf);
 * every directive is also a --flag, and `scaleout check` validates a file.
 */
#include <stddef.h>
#include <stdlib.h>

#include "core/log.h"
#include "up/up.h"

#define OFF(f) offsetof(struct up_config, f)

#define DAY (86400LL * 1000)

static const struct conf_enum metrics[] = {
    {"inflight", UP_METRIC_INFLIGHT}, {"p99", UP_METRIC_P99}, {"cpu", UP_METRIC_CPU}, {NULL, 0}};

static const struct conf_enum queues[] = {{"kv-hash", 0}, {"kv-list", 1}, {NULL, 0}};

static const struct conf_directive up_dirs[] = {
    {"dir", CONF_STRING, OFF(dir), 0, 0, "./scaleout-data", NULL, 0, "state: PostgreSQL data, logs, pid file", 0, NULL, NULL},
    {"status-port", CONF_INT, OFF(status_port), 0, 65535, "8000", NULL, 0, "status page (HTML at /, JSON at /status; 0: off)", 0,
     NULL, NULL},
    {"lb-port", CONF_INT, OFF(lb_port), 1, 65535, "8080", NULL, 0, "where clients connect (the lb)", 0, NULL, NULL},
    {"lb-admin-port", CONF_INT, OFF(lb_admin_port), -1, 65535, "-1", NULL, 0, "lb admin port (-1: lb-port + 10000)", 0, NULL,
     NULL},
    {"lb-balance", CONF_STRING, OFF(lb_balance), 0, 0, "leastconn", NULL, 0, "lb balancing algorithm", 0, NULL, NULL},
    {"lb-retries", CONF_INT, OFF(lb_retries), 0, 10, "2", NULL, 0, "lb retries on another app instance", 0, NULL, NULL},
    {"kv-port", CONF_INT, OFF(kv_port), 0, 65535, "8379", NULL, 0, "kv port (0: a free port)", 0, NULL, NULL},
    {"kv-maxmemory", CONF_STRING, OFF(kv_maxmemory), 0, 0, "256mb", NULL, 0, "kv maxmemory", 0, NULL, NULL},
    {"kv-replicas", CONF_INT, OFF(kv_replicas), 0, 4, "1", NULL, 0,
     "kv replicas of the primary (ports kv-port + 1, ...; 0: a lone kv)", 0, NULL, NULL},
    {"sentinels", CONF_INT, OFF(sentinels), -1, 7, "-1", NULL, 0,
     "sentinels watching the kv primary (quorum: a majority; -1: 3 when kv-replicas >= 1); the apps find the primary "
     "through them", 0, NULL, NULL},
    {"sentinel-down-after", CONF_DURATION, OFF(sentinel_down_ms), 100, DAY, "2s", NULL, 0,
     "the sentinels' down-after-milliseconds: how long the kv primary may not answer before a failover", 1000, NULL,
     NULL},
    {"router-shards", CONF_INT, OFF(router_shards), 0, 8, "0", NULL, 0,
     "kv shards behind `scaleout router` (each a primary + kv-replicas, followed through the sentinels; the apps "
     "use the router; shard 1 holds the queue, sessions and cache spread over shards 2..N); 0: no router", 0, NULL,
     NULL},
    {"router-port", CONF_INT, OFF(router_port), 0, 65535, "8400", NULL, 0, "the router's port (its admin: + 10000; 0: free ports)",
     0, NULL, NULL},
    {"postgres", CONF_BOOL, OFF(postgres), 0, 0, "yes", NULL, 0,
     "start PostgreSQL (initdb on first start, as an unprivileged user when root); no: use pg-conninfo", 0, NULL, NULL},
    {"pg-port", CONF_INT, OFF(pg_port), 0, 65535, "8432", NULL, 0, "PostgreSQL port (0: a free port)", 0, NULL, NULL},
    {"pg-bin", CONF_STRING, OFF(pg_bin), 0, 0, "/usr/lib/postgresql/15/bin", NULL, 0, "where initdb and postgres are", 0, NULL,
     NULL},
    {"pg-conninfo", CONF_STRING, OFF(pg_conninfo), 0, 0, "", NULL, 0,
     "libpq conninfo the apps use when postgres is no (a server, or the pg proxy)", 0, NULL, NULL},
    {"pg-replicas", CONF_INT, OFF(pg_replicas), 0, 4, "1", NULL, 0,
     "streaming replicas of up's PostgreSQL (pg_basebackup on first start; ports pg-port + 1, ...)", 0, NULL, NULL},
    {"pg-proxy-args", CONF_STRING, OFF(pg_proxy_args), 0, 0, "", NULL, 0,
     "more flags for the pg proxy (e.g. \"--primary-read-weight 1\")", 0, NULL, NULL},
    {"pg-proxy", CONF_BOOL, OFF(pg_proxy), 0, 0, "yes", NULL, 0,
     "the apps reach up's PostgreSQL through `scaleout pg` (pooling; reads to the replicas)", 0, NULL, NULL},
    {"pg-proxy-port", CONF_INT, OFF(pg_proxy_port), 0, 65535, "8430", NULL, 0,
     "the pg proxy's port (its admin: + 10000; 0: free ports)", 0, NULL, NULL},
    {"app-min", CONF_INT, OFF(app_min), 1, 64, "2", NULL, 0, "app instances at least (started first)", 0, NULL, NULL},
    {"app-max", CONF_INT, OFF(app_max), 1, 64, "4", NULL, 0, "app instances at most (autoscaling)", 0, NULL, NULL},
    {"app-port", CONF_INT, OFF(app_port), 0, 65535, "8101", NULL, 0,
     "port of the first app instance, the next ones follow (0: free ports)", 0, NULL, NULL},
    {"app-concurrency", CONF_INT, OFF(app_concurrency), 1, 100000, "8", NULL, 0, "capacity of each app: slots", 0, NULL, NULL},
    {"app-service-time", CONF_DURATION, OFF(app_service_ms), 0, 60000, "2ms", NULL, 0, "capacity of each app: time per request",
     1, NULL, NULL},
    {"app-args", CONF_STRING, OFF(app_args), 0, 0, "", NULL, 0, "more flags for every app (e.g. \"--profile-cache none\")", 0,
     NULL, NULL},
    {"workers", CONF_INT, OFF(workers), 0, 64, "1", NULL, 0, "job workers", 0, NULL, NULL},
    {"worker-args", CONF_STRING, OFF(worker_args), 0, 0, "", NULL, 0, "more flags for every worker", 0, NULL, NULL},
    {"worker-max", CONF_INT, OFF(worker_max), 0, 64, "0", NULL, 0,
     "scale workers between `workers` and this on the job backlog (0: a fixed count)", 0, NULL, NULL},
    {"worker-scale-up-at", CONF_INT, OFF(worker_up_at), 1, 1000000, "20", NULL, 0,
     "add a worker when jobs waiting or running per worker stay at or above this", 0, NULL, NULL},
    {"worker-scale-down-at", CONF_INT, OFF(worker_down_at), 0, 1000000, "0", NULL, 0,
     "remove one when they stay at or below this", 0, NULL, NULL},
    {"queue", CONF_ENUM, OFF(queue), 0, 0, "kv-list", queues, 0,
     "job queue of the apps and workers: kv-list (blocking lists) or kv-hash (polled hashes)", 0, NULL, NULL},
    {"autoscale", CONF_BOOL, OFF(autoscale), 0, 0, "yes", NULL, 0, "scale app instances between app-min and app-max", 0, NULL,
     NULL},
    {"scale-metric", CONF_ENUM, OFF(scale_metric), 0, 0, "inflight", metrics, 0,
     "what the autoscaler watches: inflight (requests in flight + queued per instance, lb), p99 (the apps' "
     "p99 response time in ms, lb histograms) or cpu (% of one core per app process, /proc)", 0, NULL, NULL},
    {"scale-up-at", CONF_INT, OFF(scale_up_at), 1, 100000, "6", NULL, 0,
     "add an instance when the metric stays at or above this (in flight per instance, ms, or %)", 0, NULL, NULL},
    {"scale-down-at", CONF_INT, OFF(scale_down_at), 0, 100000, "1", NULL, 0,
     "remove one when it stays at or below this", 0, NULL, NULL},
    {"scale-up-after", CONF_DURATION, OFF(scale_up_after_ms), 0, DAY, "2s", NULL, 0, "how long load must stay high", 1000, NULL,
     NULL},
    {"scale-down-after", CONF_DURATION, OFF(scale_down_after_ms), 0, DAY, "10s", NULL, 0, "how long load must stay low", 1000,
     NULL, NULL},
    {"cooldown", CONF_DURATION, OFF(cooldown_ms), 0, DAY, "5s", NULL, 0, "no scaling this long after a change", 1000, NULL, NULL},
    {"scale-interval", CONF_DURATION, OFF(scale_interval_ms), 100, 60000, "500ms", NULL, 0, "how often the lb is sampled", 1000,
     NULL, NULL},
    {"drain-timeout", CONF_DURATION, OFF(drain_timeout_ms), 0, DAY, "10s", NULL, 0,
     "an instance being removed gets this long to finish its requests", 1000, NULL, NULL},
    {"ready-timeout", CONF_DURATION, OFF(ready_timeout_ms), 1000, DAY, "60s", NULL, 0,
     "a process not ready by then stops the start-up", 1000, NULL, NULL},
    {"restart-backoff", CONF_DURATION, OFF(restart_backoff_ms), 0, DAY, "200ms", NULL, 0,
     "first restart delay (doubles up to 10s; reset after 10s of life)", 1000, NULL, NULL},
    {"restart-limit", CONF_INT, OFF(restart_limit), 0, 1000, "10", NULL, 0,
     "consecutive quick deaths before up gives a process up", 0, NULL, NULL},
    {"loglevel", CONF_ENUM, OFF(loglevel), 0, 0, "notice", conf_loglevels, 0, "debug, verbose, notice, warning", 0, NULL, NULL},
    CONF_END,
};

const struct conf_table up_conf_table = {"up", up_dirs, sizeof(struct up_config), NULL};

int up_config_validate(const struct up_config *c, const char *where, struct buf *errs)
{
    int n = 0;
    if (c->app_max < c->app_min) {
        buf_printf(errs, "%s%sapp-max (%lld) is below app-min (%lld)\n", where ? where : "", where ? ": " : "",
                   c->app_max, c->app_min);
        n++;
    }
    if (!c->postgres && (!c->pg_conninfo || !*c->pg_conninfo)) {
        buf_printf(errs, "%s%s'postgres no' needs pg-conninfo (where the apps find PostgreSQL)\n", where ? where : "",
                   where ? ": " : "");
        n++;
    }
    if (c->worker_max && c->worker_max < c->workers) {
        buf_printf(errs, "%s%sworker-max (%lld) is below workers (%lld)\n", where ? where : "", where ? ": " : "",
                   c->worker_max, c->workers);
        n++;
    }
    if (c->worker_max && c->worker_down_at >= c->worker_up_at) {
        buf_printf(errs, "%s%sworker-scale-down-at (%lld) must be below worker-scale-up-at (%lld)\n",
                   where ? where : "", where ? ": " : "", c->worker_down_at, c->worker_up_at);
        n++;
    }
    if (c->sentinels > 0 && c->kv_replicas < 1) {
        buf_printf(errs, "%s%ssentinels need kv-replicas >= 1 (a replica to promote)\n", where ? where : "",
                   where ? ": " : "");
        n++;
    }
    if (c->router_shards == 1 || (c->router_shards >= 2 && (c->kv_replicas < 1 || c->sentinels == 0))) {
        buf_printf(errs, "%s%srouter-shards wants 2 or more shards, each with kv-replicas >= 1 and sentinels\n",
                   where ? where : "", where ? ": " : "");
        n++;
    }
    if (c->scale_down_at >= c->scale_up_at) {
        buf_printf(errs, "%s%sscale-down-at (%lld) must be below scale-up-at (%lld)\n", where ? where : "",
                   where ? ": " : "", c->scale_down_at, c->scale_up_at);
        n++;
    }
    return n;
}

int up_config_check(const char *path, struct buf *errs)
{
    struct up_config c;
    conf_defaults(&up_conf_table, &c);
    int n = conf_load_file(&up_conf_table, &c, path, errs);
    if (n == 0)
        n = up_config_validate(&c, path, errs);
    conf_free(&up_conf_table, &c);
    return n;
}
