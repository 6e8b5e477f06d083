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
    CONF_ROW_STRING("dir", OFF(dir), "./scaleout-data", 0, "state: PostgreSQL data, logs, pid file"),
    CONF_ROW_INT("status-port", OFF(status_port), 0, 65535, "8000", 0,
        "status page (HTML at /, JSON at /status; 0: off)"),
    CONF_ROW_INT("lb-port", OFF(lb_port), 1, 65535, "8080", 0, "where clients connect (the lb)"),
    CONF_ROW_INT("lb-admin-port", OFF(lb_admin_port), -1, 65535, "-1", 0, "lb admin port (-1: lb-port + 10000)"),
    CONF_ROW_STRING("lb-balance", OFF(lb_balance), "leastconn", 0, "lb balancing algorithm"),
    CONF_ROW_INT("lb-retries", OFF(lb_retries), 0, 10, "2", 0, "lb retries on another app instance"),
    CONF_ROW_INT("kv-port", OFF(kv_port), 0, 65535, "8379", 0, "kv port (0: a free port)"),
    CONF_ROW_STRING("kv-maxmemory", OFF(kv_maxmemory), "256mb", 0, "kv maxmemory"),
    CONF_ROW_INT("kv-replicas", OFF(kv_replicas), 0, 4, "1", 0,
        "kv replicas of the primary (ports kv-port + 1, ...; 0: a lone kv)"),
    CONF_ROW_INT("sentinels", OFF(sentinels), -1, 7, "-1", 0,
        "sentinels watching the kv primary (quorum: a majority; -1: 3 when kv-replicas >= 1); the apps find the "
        "primary through them"),
    CONF_ROW_DURATION("sentinel-down-after", OFF(sentinel_down_ms), 100, DAY, "2s", 1000, 0,
        "the sentinels' down-after-milliseconds: how long the kv primary may not answer before a failover"),
    CONF_ROW_INT("router-shards", OFF(router_shards), 0, 8, "0", 0,
        "kv shards behind `scaleout router` (each a primary + kv-replicas, followed through the sentinels; the apps "
        "use the router; shard 1 holds the queue, sessions and cache spread over shards 2..N); 0: no router"),
    CONF_ROW_INT("router-port", OFF(router_port), 0, 65535, "8400", 0,
        "the router's port (its admin: + 10000; 0: free ports)"),
    CONF_ROW_BOOL("postgres", OFF(postgres), "yes", 0,
        "start PostgreSQL (initdb on first start, as an unprivileged user when root); no: use pg-conninfo"),
    CONF_ROW_INT("pg-port", OFF(pg_port), 0, 65535, "8432", 0, "PostgreSQL port (0: a free port)"),
    CONF_ROW_STRING("pg-bin", OFF(pg_bin), "/usr/lib/postgresql/15/bin", 0, "where initdb and postgres are"),
    CONF_ROW_STRING("pg-conninfo", OFF(pg_conninfo), "", 0,
        "libpq conninfo the apps use when postgres is no (a server, or the pg proxy)"),
    CONF_ROW_INT("pg-replicas", OFF(pg_replicas), 0, 4, "1", 0,
        "streaming replicas of up's PostgreSQL (pg_basebackup on first start; ports pg-port + 1, ...)"),
    CONF_ROW_STRING("pg-proxy-args", OFF(pg_proxy_args), "", 0,
        "more flags for the pg proxy (e.g. \"--primary-read-weight 1\")"),
    CONF_ROW_BOOL("pg-proxy", OFF(pg_proxy), "yes", 0,
        "the apps reach up's PostgreSQL through `scaleout pg` (pooling; reads to the replicas)"),
    CONF_ROW_INT("pg-proxy-port", OFF(pg_proxy_port), 0, 65535, "8430", 0,
        "the pg proxy's port (its admin: + 10000; 0: free ports)"),
    CONF_ROW_INT("app-min", OFF(app_min), 1, 64, "2", 0, "app instances at least (started first)"),
    CONF_ROW_INT("app-max", OFF(app_max), 1, 64, "4", 0, "app instances at most (autoscaling)"),
    CONF_ROW_INT("app-port", OFF(app_port), 0, 65535, "8101", 0,
        "port of the first app instance, the next ones follow (0: free ports)"),
    CONF_ROW_INT("app-concurrency", OFF(app_concurrency), 1, 100000, "8", 0, "capacity of each app: slots"),
    CONF_ROW_DURATION("app-service-time", OFF(app_service_ms), 0, 60000, "2ms", 1, 0,
        "capacity of each app: time per request"),
    CONF_ROW_STRING("app-args", OFF(app_args), "", 0, "more flags for every app (e.g. \"--profile-cache none\")"),
    CONF_ROW_INT("workers", OFF(workers), 0, 64, "1", 0, "job workers"),
    CONF_ROW_STRING("worker-args", OFF(worker_args), "", 0, "more flags for every worker"),
    CONF_ROW_INT("worker-max", OFF(worker_max), 0, 64, "0", 0,
        "scale workers between `workers` and this on the job backlog (0: a fixed count)"),
    CONF_ROW_INT("worker-scale-up-at", OFF(worker_up_at), 1, 1000000, "20", 0,
        "add a worker when jobs waiting or running per worker stay at or above this"),
    CONF_ROW_INT("worker-scale-down-at", OFF(worker_down_at), 0, 1000000, "0", 0,
        "remove one when they stay at or below this"),
    CONF_ROW_ENUM("queue", OFF(queue), "kv-list", queues, 0,
        "job queue of the apps and workers: kv-list (blocking lists) or kv-hash (polled hashes)"),
    CONF_ROW_BOOL("autoscale", OFF(autoscale), "yes", 0, "scale app instances between app-min and app-max"),
    CONF_ROW_ENUM("scale-metric", OFF(scale_metric), "inflight", metrics, 0,
        "what the autoscaler watches: inflight (requests in flight + queued per instance, lb), p99 (the apps' p99 "
        "response time in ms, lb histograms) or cpu (% of one core per app process, /proc)"),
    CONF_ROW_INT("scale-up-at", OFF(scale_up_at), 1, 100000, "6", 0,
        "add an instance when the metric stays at or above this (in flight per instance, ms, or %)"),
    CONF_ROW_INT("scale-down-at", OFF(scale_down_at), 0, 100000, "1", 0, "remove one when it stays at or below this"),
    CONF_ROW_DURATION("scale-up-after", OFF(scale_up_after_ms), 0, DAY, "2s", 1000, 0, "how long load must stay high"),
    CONF_ROW_DURATION("scale-down-after", OFF(scale_down_after_ms), 0, DAY, "10s", 1000, 0,
        "how long load must stay low"),
    CONF_ROW_DURATION("cooldown", OFF(cooldown_ms), 0, DAY, "5s", 1000, 0, "no scaling this long after a change"),
    CONF_ROW_DURATION("scale-interval", OFF(scale_interval_ms), 100, 60000, "500ms", 1000, 0,
        "how often the lb is sampled"),
    CONF_ROW_DURATION("drain-timeout", OFF(drain_timeout_ms), 0, DAY, "10s", 1000, 0,
        "an instance being removed gets this long to finish its requests"),
    CONF_ROW_DURATION("ready-timeout", OFF(ready_timeout_ms), 1000, DAY, "60s", 1000, 0,
        "a process not ready by then stops the start-up"),
    CONF_ROW_DURATION("restart-backoff", OFF(restart_backoff_ms), 0, DAY, "200ms", 1000, 0,
        "first restart delay (doubles up to 10s; reset after 10s of life)"),
    CONF_ROW_INT("restart-limit", OFF(restart_limit), 0, 1000, "10", 0,
        "consecutive quick deaths before up gives a process up"),
    CONF_ROW_ENUM("loglevel", OFF(loglevel), "notice", conf_loglevels, 0, "debug, verbose, notice, warning"),
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
