/*
 * up.h — `scaleout up`: runs a whole topology on one machine from one file.
 *
 *   up ──spawns──▶ postgres (optional) ─▶ pg-replica × R ─▶ pg-proxy ─▶ kv ─▶ kv-replica × K ─▶ sentinel × S
 *                  ─▶ app × N ─▶ worker × M ─▶ lb
 *      ◀─exit────  (supervised: restart with back-off, give up after a limit)
 *      ──GET /status, POST/DELETE backends──▶ lb admin   (autoscaler)
 *      ──serves──▶ status page (HTML + JSON) on status-port
 *
 * Files: config.c (directive table), proc.c (spawning, logs, restarts),
 * up.c (start-up stages, autoscaler, stop, main), page.c (status page),
 * util.c (a free port, a blocking HTTP call: up.c's and demo.c's).
 * Everything runs on one libuv loop; the small HTTP calls to the lb's admin
 * API are blocking on loopback with a 1 s timeout.
 */
#ifndef SCALEOUT_UP_UP_H
#define SCALEOUT_UP_UP_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <uv.h>

#include "core/buf.h"
#include "core/config.h"

struct up_config {
    char *dir;
    long long status_port;
    long long lb_port;
    long long lb_admin_port;     /* -1: lb-port + 10000 */
    char *lb_balance;
    long long lb_retries;
    long long kv_port;
    char *kv_maxmemory;
    long long kv_replicas;       /* `kv --replicaof` the primary, ports kv-port + 1, ... */
    long long sentinels;         /* -1: 3 when kv-replicas >= 1, else 0 */
    long long sentinel_down_ms;  /* their down-after-milliseconds */
    long long router_shards;     /* 0: no router; >= 2: kv shards (each a primary + kv-replicas) behind `scaleout router` */
    long long router_port;       /* 0: a free port */
    bool postgres;
    long long pg_port;
    char *pg_bin;
    char *pg_conninfo;           /* used when postgres is no */
    long long pg_replicas;       /* streaming replicas of up's PostgreSQL */
    bool pg_proxy;               /* apps reach PostgreSQL through `scaleout pg` */
    long long pg_proxy_port;     /* 0: a free port */
    long long app_min, app_max;
    long long app_port;          /* first instance; 0: free ports */
    long long app_concurrency;
    long long app_service_ms;
    char *app_args;
    char *pg_proxy_args;         /* more flags for the pg proxy */
    long long workers;
    char *worker_args;
    long long worker_max;        /* workers scaled between workers and this on the job backlog (0: fixed) */
    long long worker_up_at, worker_down_at; /* job backlog per worker */
    int queue;                   /* 0 kv-hash, 1 kv-list: passed to apps and workers */
    bool autoscale;
    int scale_metric;            /* enum up_metric */
    long long scale_up_at;       /* in the metric's unit: in flight per instance, p99 ms, CPU % */
    long long scale_down_at;
    long long scale_up_after_ms, scale_down_after_ms, cooldown_ms, scale_interval_ms;
    long long drain_timeout_ms;
    long long ready_timeout_ms;
    long long restart_backoff_ms;
    long long restart_limit;
    int loglevel;
};

extern const struct conf_table up_conf_table;
int up_main(int argc, char **argv);
/* Checks across directives; errors "WHERE: message" appended to errs. Returns their number. */
int up_config_validate(const struct up_config *c, const char *where, struct buf *errs);
/* `scaleout check` of a topology file: directives, then the checks above. */
int up_config_check(const char *path, struct buf *errs);
/* emit.c: write the topology as systemd units or Kubernetes manifests into dir. Exit status. */
int up_emit(const struct up_config *c, const char *kind, const char *dir, const char *bin);

/* what the autoscaler compares with scale-up-at / scale-down-at */
enum up_metric {
    UP_METRIC_INFLIGHT, /* (requests in flight + queued in the lb) per serving instance */
    UP_METRIC_P99,      /* the apps' p99 response time over the last interval, ms (lb histogram bound) */
    UP_METRIC_CPU,      /* CPU of the app processes, % of one core, averaged over the running ones */
};

/* util.c: a blocking TCP connection to 127.0.0.1:port with send/receive
 * timeouts, or -1 */
int up_tcp_loopback(int port, int timeout_ms);
/* a blocking HTTP/1.1 exchange with a loopback port (1 s timeout): the
 * status, the body in out when not NULL; -1 when nothing answered. */
int up_http_call(int port, const char *method, const char *path, const char *token, struct buf *out);
/* a port free on 127.0.0.1 now (-1 on failure) */
int up_free_port(void);
/* demo.c: `scaleout up --demo`: the claims measured, one HTML report. Exit status. */
int up_demo(int argc, char **argv, const char *self_exe);

/* ---- processes (proc.c) ---------------------------------------------------- */

/* in start-up order; stopped in the reverse order */
enum up_kind { UP_PG, UP_PGREP, UP_PGPROXY, UP_KV, UP_KVREP, UP_SENTINEL, UP_ROUTER, UP_APP, UP_WORKER, UP_LB,
               UP_KIND__COUNT };

#define UP_PROC_STATES(X) \
    X(STOPPED, "stopped") X(STARTING, "starting") X(RUNNING, "running") X(BACKOFF, "restarting") \
    X(DRAINING, "draining") X(STOPPING, "stopping") X(FAILED, "failed")

enum up_proc_state {
#define UP_X_ENUM(id, text) UP_P_##id,
    UP_PROC_STATES(UP_X_ENUM)
#undef UP_X_ENUM
};

struct up;

struct up_proc {
    struct up *up;
    char name[32];
    enum up_kind kind;
    char **argv;                 /* owned, NULL-terminated */
    int port;                    /* readiness: TCP connect here (0: none) */
    int admin_port;              /* app: its /status (0: none) */
    int slot;                    /* app: instance number - 1 (port offset) */
    int shard;                   /* kv nodes: the shard (0: the first, or the only kv) */
    uid_t uid;
    gid_t gid;
    bool setuid;
    int stop_signal;
    enum up_proc_state state;
    bool want;                   /* should be running */
    bool in_lb;                  /* registered as an lb backend */
    bool ready;
    uv_process_t *h;             /* freed in its close callback */
    int pid;
    int restarts;
    int fast_fails;
    long long started_ms, drain_until_ms, stop_ms;
    long long died_ms;             /* when it last exited unasked */
    unsigned long long cpu_ticks;  /* utime + stime at the last sample (/proc/PID/stat) */
    long long cpu_ms;              /* when it was taken; 0: none yet */
    int cpu_pid;
    double cpu_pct;                /* over the last interval, % of one core */
    uv_timer_t *backoff;
    uv_pipe_t *out, *err;
    struct buf line_out, line_err;
    int logfd;
    struct up_proc *next;
};

struct up_proc *up_proc_new(struct up *u, enum up_kind kind, const char *name, char **argv, int port);
int up_proc_start(struct up_proc *p);
void up_proc_signal(struct up_proc *p, int sig);
/* unlink from the list and free (the process must have exited) */
void up_proc_free(struct up_proc *p);
const char *up_proc_state_name(enum up_proc_state s);
void up_log(struct up *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the topology (up.c) ------------------------------------------------------ */

#define UP_LAT_BUCKETS 16

struct up {
    struct up_config cfg;
    uv_loop_t *loop;
    char dir[4096];               /* realpath: PATH_MAX */
    char token[40];
    struct up_proc *procs;
    /* proc.c calls it when a process exits (up.c sets it: proc.c does not
     * call up.c by name) */
    void (*on_proc_exit)(struct up *u, struct up_proc *p, long long status, int sig);
    int lb_admin_port;
    int stage;                   /* start-up stage in progress; UP_KIND__COUNT: running */
    bool stopping;
    long long stage_deadline_ms;
    /* autoscaler */
    long long high_since, low_since, last_scale_ms;
    double load;                 /* avg in flight per serving app */
    double cpu;                  /* avg CPU % of the running apps */
    double metric;               /* the autoscaler's metric now */
    double rps;
    double errors_ps;            /* failed or 5xx answers per second (lb, app backends) */
    unsigned long long last_errors;
    double resp_ms;              /* slowest app's average response time (lb's EWMA) */
    long long job_backlog;       /* kv-list: ids queued, delayed or held; kv-hash: jobs:seq - jobs:low + 1 */
    unsigned long long lat_prev[UP_LAT_BUCKETS]; /* lb histogram of the apps at the last sample */
    bool lat_have;
    double lat_ms[3];            /* p50, p95, p99 bucket bounds over the last interval; -1: none */
    unsigned long long last_requests;
    long long last_sample_ms;
    char last_action[160];
    int scale_ups, scale_downs;
    long long w_high_since, w_low_since, w_last_scale_ms;
    int w_scale_ups, w_scale_downs;
    char w_last_action[160];
    /* history for the page: instance count and req/s */
    int hist_n;
    int hist_apps[120];
    double hist_rps[120];
    double hist_load[120];
    struct admin *admin;
    int exit_code;
};

/* the status JSON (page.c serves it and the HTML) */
void up_status_json(struct up *u, struct buf *o);
extern const char up_page_html[];

#endif
