/*
 * app.h — `scaleout app`, the reference stateless service, and its internal
 * modules. Nothing a request needs lives in the process: sessions, cached
 * profiles and jobs are in kv, users, follows, posts and products in
 * PostgreSQL, so any instance serves any request and instances come and go.
 *
 *   client ─▶ lb ─▶ app (this process: one libuv loop)
 *                    │  server.c    HTTP/1.1 connections (proto/http1), the
 *                    │              capacity gate (concurrency × service time)
 *                    │  context.c   what the parts below reach of server.c
 *                    │  handlers.c  the endpoints
 *                    │  cache.c     caching strategies (ops table, per endpoint)
 *                    ├─ kvc.c ─▶ kv: a pool of pipelined RESP connections
 *                    └─ pgc.c ─▶ PostgreSQL: a pool of libpq connections driven
 *                                asynchronously on the loop (uv_poll on PQsocket)
 *
 * Every module runs on the one loop thread; nothing here blocks except the
 * schema set-up before the listener opens.
 */
#ifndef SCALEOUT_APP_APP_H
#define SCALEOUT_APP_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include <libpq-fe.h>

#include "core/buf.h"
#include "core/config.h"
#include "proto/reply.h"

/* ---- configuration ---------------------------------------------------- */

enum app_cache_strategy {
    APP_CACHE_NONE,
    APP_CACHE_ASIDE,        /* read: cache, else DB then fill; write: DB then delete */
    APP_CACHE_WRITE_THROUGH,/* read: as aside; write: DB then set the new value */
    APP_CACHE_READ_THROUGH, /* read: cache, else one load per key (single flight); write: DB then delete */
    APP_CACHE_REFRESH_AHEAD,/* read-through, and hot keys reloaded in the background before they expire */
    APP_CACHE_WRITE_BEHIND, /* read: as aside; write: kv now, PostgreSQL later in batches (writebehind.c) */
    APP_CACHE__COUNT
};

enum app_queue {
    APP_QUEUE_HASH,              /* kv-hash: the job hash only, workers scan ids */
    APP_QUEUE_LIST,              /* kv-list: and LPUSH the id onto queue:jobs */
    APP_QUEUE_STREAM,            /* kv-stream: and XADD queue:stream * job ID */
};

struct app_config {
    char *bind;
    long long port;
    long long admin_port;        /* -1: port + 10000; 0: off */
    char *kv;                    /* host:port */
    long long kv_pool;
    char *kv_sentinel;           /* "" or HOST:PORT[,...]: the primary found through them */
    char *kv_master_name;
    long long kv_wait_replicas;  /* a login's session waits for this many replicas (WAIT) */
    long long kv_retry_ms;       /* a failed kv command is retried this long (0: fail fast) */
    bool kv_router;              /* kv is a scaleout router: retry too (its shards fail over) */
    char *pg;                    /* libpq conninfo */
    long long pg_pool;
    long long concurrency;       /* capacity: requests served at once */
    long long service_time_ms;   /* capacity: time each request holds a slot */
    bool service_spin;           /* burn CPU for the service time instead of waiting */
    long long max_queue;         /* requests waiting for a slot; more get 503 */
    long long session_ttl_ms;
    long long cache_ttl_ms;
    long long refresh_ahead_pct;  /* refresh-ahead: reload after this % of cache-ttl */
    int profile_cache;           /* enum app_cache_strategy */
    int product_cache;
    long long product_max_age_s; /* Cache-Control max-age of /products */
    long long product_read_ms;   /* > 0: a product read waits this long in PostgreSQL (pg_sleep) */
    long long max_body;
    long long feed_limit;
    long long job_ttl_ms;
    int queue;                   /* enum app_queue: how uploads are enqueued */
    long long fanout_threshold;  /* feed: authors with this many followers are read, not pushed */
    long long timeline_len;      /* feed: ids kept per timeline list */
    long long sync_job_ms;       /* POST /upload-sync: the job's work done in the request */
    long long wb_interval_ms;    /* write-behind: flush period */
    long long wb_batch;          /* write-behind: values per flush */
    long long maxclients;
    int loglevel;
    char *logfile;
    char *pidfile;
};

extern const struct conf_table app_conf_table;
int app_main(int argc, char **argv);

/* ---- kv client (kvc.c) -------------------------------------------------- */

/* Replies are struct resp_value (proto/reply.h), valid during the callback
 * only. Arrays are one level deep (elements are scalars); that is all the
 * app's commands return. */

/* reply NULL: the connection failed (kv down); the command may not have run. */
typedef void (*app_kv_cb)(void *arg, const struct resp_value *reply);

struct app_kv;
struct app_kv *app_kv_new(uv_loop_t *loop, const char *hostport, int nconns);
void app_kv_free(struct app_kv *kv);
/* Send one command (argv/lens); cb runs exactly once, later, on the loop. */
void app_kv_cmd(struct app_kv *kv, app_kv_cb cb, void *arg, int argc, const char **argv, const size_t *lens);
/* Same, with NUL-terminated words. */
void app_kv_cmdv(struct app_kv *kv, app_kv_cb cb, void *arg, int argc, const char **argv);
unsigned long long app_kv_commands(const struct app_kv *kv);
/* A command that fails (connection lost, -READONLY, -LOADING, -MASTERDOWN)
 * is sent again, following the sentinels, for up to ms (0: fail fast). */
void app_kv_set_retry(struct app_kv *kv, long long ms);
unsigned long long app_kv_retries(const struct app_kv *kv);
/* Find the primary through these sentinels ("HOST:PORT[,HOST:PORT...]"). false: a bad list. */
bool app_kv_set_sentinels(struct app_kv *kv, const char *list, const char *master_name);
/* WAIT replicas timeout_ms on the connection that carries key's commands. */
void app_kv_wait(struct app_kv *kv, const char *key, long long replicas, long long timeout_ms, app_kv_cb cb, void *arg);

/* ---- PostgreSQL client (pgc.c) ------------------------------------------ */

/* res NULL: no connection (message in err). Otherwise the caller reads res
 * during the callback; it is cleared afterwards. */
typedef void (*app_pg_cb)(void *arg, PGresult *res, const char *err);

struct app_pg;
struct app_pg *app_pg_new(uv_loop_t *loop, const char *conninfo, int nconns);
void app_pg_free(struct app_pg *pg);
/* Queue a parameterised query; cb runs exactly once, later, on the loop. */
void app_pg_query(struct app_pg *pg, app_pg_cb cb, void *arg, const char *sql, int nparams,
                  const char *const *params);
unsigned long long app_pg_queries(const struct app_pg *pg);
/* Create the schema (blocking; before the listener opens). Retries until
 * timeout_ms. 0, or -1 with a message in err. */
int app_pg_schema(const char *conninfo, long long timeout_ms, char *err, size_t errlen);

/* ---- requests ----------------------------------------------------------- */

struct app_server;

/* One request being served; handlers answer with app_reply() exactly once. */
struct app_req {
    struct app_server *srv;
    struct app_conn *conn;
    int method;                  /* enum http1_method */
    char path[256];
    char sid[65];                /* the sid cookie, "" when absent */
    char *body;                  /* NUL-terminated copy (heap), may be NULL */
    size_t body_len;
    char user[65];               /* after a session lookup */
    long long t0_us;
    void *scratch;               /* handler state */
    char key[160];               /* handler's cache key */
    char arg[128];               /* handler's path argument */
    /* cache.c: where the value goes once read or written */
    void (*cache_done)(struct app_req *r, int status, const char *val, size_t len);
    void (*load_done)(struct app_req *r, int status, const char *val, size_t len); /* a load's answer */
    void (*cache_load)(struct app_req *r, void (*done)(struct app_req *r, int status, const char *val, size_t len));
    void (*next)(struct app_req *r); /* handlers.c: what runs after the session check */
};

/* context.c: answer r (exactly once), through the server's ctx.reply */
void app_reply(struct app_req *r, int status, const char *ctype, const char *body, size_t len,
               const char *extra_headers);
void app_reply_json(struct app_req *r, int status, struct buf *body, const char *extra_headers);
void app_reply_error(struct app_req *r, int status, const char *msg);

/* context.c: the server's clients and configuration, from its ctx */
struct app_kv *app_server_kv(struct app_server *s);
struct app_pg *app_server_pg(struct app_server *s);
const struct app_config *app_server_conf(struct app_server *s);

/* counters shown on /metrics and /status (X-macro: name, help) */
#define APP_METRICS(X) \
    X(requests_total, "requests answered") \
    X(errors_total, "requests answered 5xx") \
    X(rejected_total, "requests refused 503 because the capacity queue was full") \
    X(cache_hits_total, "cache lookups answered by kv") \
    X(cache_misses_total, "cache lookups that went to PostgreSQL") \
    X(db_queries_total, "queries sent to PostgreSQL") \
    X(sessions_created_total, "logins") \
    X(jobs_enqueued_total, "uploads queued") \
    X(timeline_pushes_total, "timelines a post was pushed to (fan-out on write)") \
    X(timeline_hits_total, "feeds read from a timeline in kv") \
    X(timeline_rebuilds_total, "timelines built from PostgreSQL") \
    X(writebehind_flushed_total, "write-behind values written to PostgreSQL") \
    X(writebehind_lost_total, "write-behind values gone from kv before their flush")

struct app_metrics {
#define APP_X_FIELD(name, help) unsigned long long name;
    APP_METRICS(APP_X_FIELD)
#undef APP_X_FIELD
};
struct app_metrics *app_server_metrics(struct app_server *s);

/* context.c: hold a capacity slot for ms more of "CPU work" (queued like any
 * request, 503 when the queue is full), then run then(r); ctx.work. */
void app_work(struct app_req *r, long long ms, void (*then)(struct app_req *r));

/*
 * What the parts (handlers.c, cache*.c, writebehind.c) reach of the server,
 * read by context.c's functions above. server.c fills it in; struct
 * app_server (opaque here) begins with it. The parts never call server.c by
 * name: server.c -> parts -> context.c.
 */
struct app_ctx {
    const struct app_config *cfg;
    struct app_kv *kv;
    struct app_pg *pg;
    struct app_metrics *metrics;
    void (*reply)(struct app_req *r, int status, const char *ctype, const char *body, size_t len,
                  const char *extra_headers);
    void (*work)(struct app_req *r, long long ms, void (*then)(struct app_req *r));
};

/* handlers.c: route and serve one request. */
void app_handle(struct app_req *r);

/* cache.c: read and write through the configured strategy.
 * load runs on a miss (or always without a cache) and answers through done. */
typedef void (*app_cache_done)(struct app_req *r, int status, const char *val, size_t len);
typedef void (*app_cache_load)(struct app_req *r, app_cache_done done);

struct app_cache_ops {
    const char *name;
    void (*read)(struct app_req *r, const char *key, app_cache_load load, app_cache_done done);
    /* after the DB write succeeded with the new value val: keep the cache right */
    void (*written)(struct app_req *r, const char *key, const char *val, size_t len, app_cache_done done);
};
extern const struct app_cache_ops *const app_cache_strategies[APP_CACHE__COUNT];
extern const struct app_cache_ops app_cache_read_through, app_cache_refresh_ahead; /* cache_flight.c */
extern const struct conf_enum app_cache_names[];

/* writebehind.c: the write-behind strategy's write and its flusher (every
 * instance runs one; id names its wb:flushing:ID set: use bind:port) */
struct app_wb;
void app_wb_written(struct app_req *r, const char *key, const char *val, size_t len, app_cache_done done);
struct app_wb *app_wb_start(struct app_server *srv, uv_loop_t *loop, const char *id, long long interval_ms, int batch);
void app_wb_stop(struct app_wb *w);
void app_wb_free(struct app_wb *w);

#endif
