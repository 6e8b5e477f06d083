/*
 * config.c — the app's directive table (core/config): file, --flags,
 * `scaleout check` and --help from one list.
 */
#include <stddef.h>

#include "app/app.h"
#include "core/log.h"

#define OFF(f) offsetof(struct app_config, f)

const struct conf_enum app_cache_names[] = {
    {"none", APP_CACHE_NONE}, {"cache-aside", APP_CACHE_ASIDE}, {"write-through", APP_CACHE_WRITE_THROUGH},
    {"read-through", APP_CACHE_READ_THROUGH}, {"refresh-ahead", APP_CACHE_REFRESH_AHEAD},
    {"write-behind", APP_CACHE_WRITE_BEHIND}, {NULL, 0},
};

static const struct conf_enum queue_names[] = {{"kv-hash", APP_QUEUE_HASH}, {"kv-list", APP_QUEUE_LIST},
                                               {"kv-stream", APP_QUEUE_STREAM}, {NULL, 0}};

static const struct conf_directive app_dirs[] = {
    CONF_ROW_STRING("bind", OFF(bind), "127.0.0.1", 0, "address to listen on"),
    CONF_ROW_INT("port", OFF(port), 1, 65535, "8101", 0, "HTTP port"),
    CONF_ROW_INT("admin-port", OFF(admin_port), -1, 65535, "-1", 0,
        "admin port for /metrics and /status (-1: port + 10000, 0: off)"),
    CONF_ROW_STRING("kv", OFF(kv), "127.0.0.1:7379", 0, "kv (or router) address: sessions, cache, jobs"),
    CONF_ROW_STRING("kv-sentinel", OFF(kv_sentinel), "", 0,
        "HOST:PORT[,HOST:PORT...] of sentinels: kv is the primary they report (re-asked on an error or -READONLY)"),
    CONF_ROW_STRING("kv-master-name", OFF(kv_master_name), "scaleout", 0, "the sentinels' name of the kv primary"),
    CONF_ROW_INT("kv-wait-replicas", OFF(kv_wait_replicas), 0, 16, "0", 0,
        "a login answers after its session reached this many kv replicas (WAIT, 500 ms at most)"),
    CONF_ROW_DURATION("kv-retry", OFF(kv_retry_ms), 0, 60000, "5s", 1, 0,
        "with kv-sentinel: a kv command that fails (kv down, -READONLY during a failover) is sent again, following "
        "the sentinels, for this long before the request fails (0: fail fast; without sentinels kv errors fail fast)"),
    CONF_ROW_BOOL("kv-router", OFF(kv_router), "no", 0,
        "kv is a scaleout router whose shards fail over through sentinels: kv-retry applies (also to its \"shard ... "
        "unavailable\" errors)"),
    CONF_ROW_INT("kv-pool", OFF(kv_pool), 1, 64, "2", 0, "pipelined connections to kv"),
    CONF_ROW_STRING("pg", OFF(pg), "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5", 0,
        "libpq conninfo of PostgreSQL (or of the pg proxy)"),
    CONF_ROW_INT("pg-pool", OFF(pg_pool), 1, 64, "4", 0, "connections to PostgreSQL (one query at a time each)"),
    CONF_ROW_INT("concurrency", OFF(concurrency), 1, 100000, "8", 0,
        "capacity: requests in service at once (like cores x threads)"),
    CONF_ROW_DURATION("service-time", OFF(service_time_ms), 0, 60000, "2ms", 1, 0,
        "capacity: time each request holds a slot (bare number: ms)"),
    CONF_ROW_BOOL("service-spin", OFF(service_spin), "no", 0,
        "burn CPU for the service time instead of waiting on a timer"),
    CONF_ROW_INT("max-queue", OFF(max_queue), 0, 1000000, "1024", 0,
        "requests waiting for a slot; beyond, 503 with Retry-After"),
    CONF_ROW_DURATION("session-ttl", OFF(session_ttl_ms), 1000, 365LL * 86400000, "30m", 0, 0,
        "session lifetime (sliding: renewed on use)"),
    CONF_ROW_DURATION("cache-ttl", OFF(cache_ttl_ms), 1000, 365LL * 86400000, "5m", 0, 0, "TTL of cached values"),
    CONF_ROW_DURATION("write-behind-interval", OFF(wb_interval_ms), 10, 60000, "100ms", 1, 0,
        "write-behind: how often each instance flushes dirty values to PostgreSQL"),
    CONF_ROW_INT("write-behind-batch", OFF(wb_batch), 1, 256, "64", 0,
        "write-behind: values written per flush (one statement)"),
    CONF_ROW_INT("refresh-ahead", OFF(refresh_ahead_pct), 1, 99, "80", 0,
        "refresh-ahead: a hit reloads the key in the background after this percent of cache-ttl"),
    CONF_ROW_ENUM("profile-cache", OFF(profile_cache), "cache-aside", app_cache_names, 0,
        "caching strategy of /me and /profile: none, cache-aside, write-through, read-through, refresh-ahead, "
        "write-behind"),
    CONF_ROW_ENUM("product-cache", OFF(product_cache), "cache-aside", app_cache_names, 0,
        "caching strategy of /products (as profile-cache)"),
    CONF_ROW_INT("product-max-age", OFF(product_max_age_s), 0, 86400 * 365, "60", 0,
        "Cache-Control max-age (seconds) of /products answers, for the edge"),
    CONF_ROW_DURATION("product-read-time", OFF(product_read_ms), 0, 10000, "0", 1, 0,
        "a product read also waits this long in PostgreSQL (pg_sleep in the query), as a disk read would: a database "
        "server's read capacity is then its connections / this time, whatever the CPU (up --demo's replica claim; 0 "
        "= off)"),
    CONF_ROW_MEMORY("max-body", OFF(max_body), 0, 64LL * 1024 * 1024, "1mb", 0, "largest request body (413 beyond)"),
    CONF_ROW_INT("feed-limit", OFF(feed_limit), 1, 1000, "50", 0, "posts in a feed page"),
    CONF_ROW_DURATION("job-ttl", OFF(job_ttl_ms), 1000, 365LL * 86400000, "1d", 0, 0,
        "how long a job's record is kept"),
    CONF_ROW_ENUM("queue", OFF(queue), "kv-list", queue_names, 0,
        "job queue: kv-list (LPUSH queue:jobs), kv-stream (XADD queue:stream) or kv-hash (polled job hashes); the "
        "workers' queue must match"),
    CONF_ROW_INT("fanout-threshold", OFF(fanout_threshold), 0, 100000000, "1000", 0,
        "feed: posts of authors with fewer followers are pushed to followers' timelines; others are read at feed time"),
    CONF_ROW_INT("timeline-length", OFF(timeline_len), 1, 100000, "200", 0,
        "feed: post ids kept in each user's timeline list in kv (at least feed-limit)"),
    CONF_ROW_DURATION("sync-job-time", OFF(sync_job_ms), 0, 3600000, "20ms", 1, 0,
        "POST /upload-sync: the work of a job done in the request (the worker's job-time)"),
    CONF_ROW_INT("maxclients", OFF(maxclients), 1, 1000000, "10000", 0, "client connections open at once"),
    CONF_PROCESS_ROWS(struct app_config, 0),
    CONF_END,
};

const struct conf_table app_conf_table = {"app", app_dirs, sizeof(struct app_config), NULL};
