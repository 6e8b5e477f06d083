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
    {"bind", CONF_STRING, OFF(bind), 0, 0, "127.0.0.1", NULL, 0, "address to listen on", 0, NULL, NULL},
    {"port", CONF_INT, OFF(port), 1, 65535, "8101", NULL, 0, "HTTP port", 0, NULL, NULL},
    {"admin-port", CONF_INT, OFF(admin_port), -1, 65535, "-1", NULL, 0,
     "admin port for /metrics and /status (-1: port + 10000, 0: off)", 0, NULL, NULL},
    {"kv", CONF_STRING, OFF(kv), 0, 0, "127.0.0.1:7379", NULL, 0, "kv (or router) address: sessions, cache, jobs", 0, NULL, NULL},
    {"kv-sentinel", CONF_STRING, OFF(kv_sentinel), 0, 0, "", NULL, 0,
     "HOST:PORT[,HOST:PORT...] of sentinels: kv is the primary they report (re-asked on an error or -READONLY)", 0,
     NULL, NULL},
    {"kv-master-name", CONF_STRING, OFF(kv_master_name), 0, 0, "scaleout", NULL, 0, "the sentinels' name of the kv primary",
     0, NULL, NULL},
    {"kv-wait-replicas", CONF_INT, OFF(kv_wait_replicas), 0, 16, "0", NULL, 0,
     "a login answers after its session reached this many kv replicas (WAIT, 500 ms at most)", 0, NULL, NULL},
    {"kv-retry", CONF_DURATION, OFF(kv_retry_ms), 0, 60000, "5s", NULL, 0,
     "with kv-sentinel: a kv command that fails (kv down, -READONLY during a failover) is sent again, following "
     "the sentinels, for this long before the request fails (0: fail fast; without sentinels kv errors fail fast)", 1,
     NULL, NULL},
    {"kv-router", CONF_BOOL, OFF(kv_router), 0, 0, "no", NULL, 0,
     "kv is a scaleout router whose shards fail over through sentinels: kv-retry applies (also to its "
     "\"shard ... unavailable\" errors)", 0, NULL, NULL},
    {"kv-pool", CONF_INT, OFF(kv_pool), 1, 64, "2", NULL, 0, "pipelined connections to kv", 0, NULL, NULL},
    {"pg", CONF_STRING, OFF(pg), 0, 0, "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5", NULL, 0,
     "libpq conninfo of PostgreSQL (or of the pg proxy)", 0, NULL, NULL},
    {"pg-pool", CONF_INT, OFF(pg_pool), 1, 64, "4", NULL, 0, "connections to PostgreSQL (one query at a time each)", 0, NULL, NULL},
    {"concurrency", CONF_INT, OFF(concurrency), 1, 100000, "8", NULL, 0,
     "capacity: requests in service at once (like cores x threads)", 0, NULL, NULL},
    {"service-time", CONF_DURATION, OFF(service_time_ms), 0, 60000, "2ms", NULL, 0,
     "capacity: time each request holds a slot (bare number: ms)", 1, NULL, NULL},
    {"service-spin", CONF_BOOL, OFF(service_spin), 0, 0, "no", NULL, 0,
     "burn CPU for the service time instead of waiting on a timer", 0, NULL, NULL},
    {"max-queue", CONF_INT, OFF(max_queue), 0, 1000000, "1024", NULL, 0,
     "requests waiting for a slot; beyond, 503 with Retry-After", 0, NULL, NULL},
    {"session-ttl", CONF_DURATION, OFF(session_ttl_ms), 1000, 365LL * 86400000, "30m", NULL, 0,
     "session lifetime (sliding: renewed on use)", 0, NULL, NULL},
    {"cache-ttl", CONF_DURATION, OFF(cache_ttl_ms), 1000, 365LL * 86400000, "5m", NULL, 0, "TTL of cached values", 0, NULL, NULL},
    {"write-behind-interval", CONF_DURATION, OFF(wb_interval_ms), 10, 60000, "100ms", NULL, 0,
     "write-behind: how often each instance flushes dirty values to PostgreSQL", 1, NULL, NULL},
    {"write-behind-batch", CONF_INT, OFF(wb_batch), 1, 256, "64", NULL, 0,
     "write-behind: values written per flush (one statement)", 0, NULL, NULL},
    {"refresh-ahead", CONF_INT, OFF(refresh_ahead_pct), 1, 99, "80", NULL, 0,
     "refresh-ahead: a hit reloads the key in the background after this percent of cache-ttl", 0, NULL, NULL},
    {"profile-cache", CONF_ENUM, OFF(profile_cache), 0, 0, "cache-aside", app_cache_names, 0,
     "caching strategy of /me and /profile: none, cache-aside, write-through, read-through, refresh-ahead, write-behind", 0, NULL, NULL},
    {"product-cache", CONF_ENUM, OFF(product_cache), 0, 0, "cache-aside", app_cache_names, 0,
     "caching strategy of /products (as profile-cache)", 0, NULL, NULL},
    {"product-max-age", CONF_INT, OFF(product_max_age_s), 0, 86400 * 365, "60", NULL, 0,
     "Cache-Control max-age (seconds) of /products answers, for the edge", 0, NULL, NULL},
    {"product-read-time", CONF_DURATION, OFF(product_read_ms), 0, 10000, "0", NULL, 0,
     "a product read also waits this long in PostgreSQL (pg_sleep in the query), as a disk read would: a database "
     "server's read capacity is then its connections / this time, whatever the CPU (up --demo's replica claim; "
     "0 = off)", 1, NULL, NULL},
    {"max-body", CONF_MEMORY, OFF(max_body), 0, 64LL * 1024 * 1024, "1mb", NULL, 0, "largest request body (413 beyond)", 0,
     NULL, NULL},
    {"feed-limit", CONF_INT, OFF(feed_limit), 1, 1000, "50", NULL, 0, "posts in a feed page", 0, NULL, NULL},
    {"job-ttl", CONF_DURATION, OFF(job_ttl_ms), 1000, 365LL * 86400000, "1d", NULL, 0, "how long a job's record is kept", 0,
     NULL, NULL},
    {"queue", CONF_ENUM, OFF(queue), 0, 0, "kv-list", queue_names, 0,
     "job queue: kv-list (LPUSH queue:jobs), kv-stream (XADD queue:stream) or kv-hash (polled job hashes); the "
     "workers' queue must match", 0, NULL, NULL},
    {"fanout-threshold", CONF_INT, OFF(fanout_threshold), 0, 100000000, "1000", NULL, 0,
     "feed: posts of authors with fewer followers are pushed to followers' timelines; others are read at feed time", 0,
     NULL, NULL},
    {"timeline-length", CONF_INT, OFF(timeline_len), 1, 100000, "200", NULL, 0,
     "feed: post ids kept in each user's timeline list in kv (at least feed-limit)", 0, NULL, NULL},
    {"sync-job-time", CONF_DURATION, OFF(sync_job_ms), 0, 3600000, "20ms", NULL, 0,
     "POST /upload-sync: the work of a job done in the request (the worker's job-time)", 1, NULL, NULL},
    {"maxclients", CONF_INT, OFF(maxclients), 1, 1000000, "10000", NULL, 0, "client connections open at once", 0, NULL, NULL},
    CONF_PROCESS_ROWS(struct app_config, 0),
    CONF_END,
};

const struct conf_table app_conf_table = {"app", app_dirs, sizeof(struct app_config), NULL};
