/*
 * types.h — the kv server's objects: struct kv_server (the keyspace, its
 * settings and statistics, the subsystems' state), struct kv_worker (one
 * thread with its loop) and struct kv_client (one connection), and the
 * up-calls a subsystem makes into the server (struct kv_server_ops).
 *
 * The subsystems (aof, blocking, multi, propagate, pubsub, repl, script,
 * slowlog ...) and the command files include this header (most through
 * reply.h), not server.h: they sit below server.c, which drives them, and
 * reach it only through s->ops (see the module map in docs/kv.md, "Source
 * layout"). server.h has the diagram of the command path.
 */
#ifndef SCALEOUT_KV_TYPES_H
#define SCALEOUT_KV_TYPES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "core/buf.h"
#include "proto/commands.h"
#include "proto/resp.h"
#include "net/server.h"
#include "kv/db.h"

/* The version INFO, /status and LOLWUT report. */
#define KV_VERSION "0.1.0"

struct kv_evict_policy;
struct kv_blocked;
struct kv_blocking;
struct kv_script;
struct kv_replica;
struct kv_repl;
struct kv_master_link;
struct kv_prop;
struct kv_aof;
struct kv_latency;
struct kv_acl;
struct kv_acl_user;
struct kv_migrate;

/* client-output-buffer-limit of one client class */
struct kv_obl {
    unsigned long long hard, soft;
    long long soft_seconds;
};

enum { KV_PAUSE_NONE, KV_PAUSE_WRITE, KV_PAUSE_ALL };

struct kv_config {
    long long port;
    char *bind;
    long long threads;
    long long tcp_backlog;
    unsigned long long maxmemory;
    int maxmemory_policy;
    long long maxmemory_samples;
    char *requirepass;
    long long timeout_ms;
    long long tcp_keepalive;
    long long maxclients;
    unsigned long long proto_max_bulk_len;
    unsigned long long client_query_buffer_limit;
    struct kv_obl obl;          /* normal clients */
    struct kv_obl obl_replica;  /* replicas (none yet: kept for CONFIG GET/SET) */
    struct kv_obl obl_pubsub;   /* clients with subscriptions */
    int notify_keyspace_events; /* KV_NOTIFY_* bits (pubsub.h) */
    long long admin_port;
    char *admin_bind;
    int loglevel;
    char *logfile;
    char *pidfile;
    long long hz;
    long long databases;
    long long active_expire_effort;
    long long lfu_log_factor;
    long long lfu_decay_time;
    long long hash_max_listpack_entries;
    long long hash_max_listpack_value;
    long long zset_max_listpack_entries;
    long long zset_max_listpack_value;
    long long list_max_listpack_size;
    long long set_max_intset_entries;
    long long hll_sparse_max_bytes;
    long long slowlog_log_slower_than;
    long long slowlog_max_len;
    long long acllog_max_len;
    char *aclfile;
    char *users;                     /* `user` directives: one "name rules..." line each */
    int acl_pubsub_default;          /* 1: new users and selectors start with allchannels */
    long long latency_monitor_threshold; /* ms; 0: the latency monitor is off (latency.h) */
    bool latency_tracking;               /* per-command latency histograms */
    int latency_npercentiles;            /* latency-tracking-info-percentiles */
    double latency_percentiles[16];
    /* persistence (persist.h) */
    char *dir;
    char *dbfilename;
    bool rdbcompression;
    bool rdbchecksum;
    bool stop_writes_on_bgsave_error;
    long long rdb_key_save_delay;    /* microseconds slept per key saved (tests, as Redis) */
    long long key_load_delay;        /* microseconds slept per key a full sync loads (tests, as Redis) */
    struct kv_save_sched {
        int n;                       /* save points; 0: no automatic saves */
        long long secs[16], changes[16];
    } save;
    long long busy_reply_threshold; /* ms a script runs before -BUSY (lua-time-limit) */
    /* append-only file (aof.h) */
    bool appendonly;
    char *appendfilename;
    char *appenddirname;
    int appendfsync;                 /* KV_FSYNC_* */
    bool aof_load_truncated;
    bool aof_use_rdb_preamble;
    long long auto_aof_rewrite_percentage;
    unsigned long long auto_aof_rewrite_min_size;
    /* replication (repl.h) */
    struct kv_replicaof { char host[256]; long long port; } replicaof;
    unsigned long long repl_backlog_size;
    long long repl_ping_replica_period;
    long long min_replicas_to_write;
    long long min_replicas_max_lag;
    bool replica_read_only;
    bool replica_serve_stale_data;   /* no: MASTERDOWN while the link to the primary is down */
    char *masterauth;                /* a replica AUTHs to its primary with these (empty: no AUTH) */
    char *masteruser;
    bool repl_diskless_sync;         /* full sync: the RDB goes to the replicas without a disk file */
    long long repl_diskless_sync_delay; /* seconds to wait for more replicas before the child starts */
    long long repl_timeout;          /* seconds a diskless full sync waits on a replica that takes nothing */
    int repl_diskless_load;          /* KV_DISKLESS_LOAD_* */
};

enum { KV_DISKLESS_LOAD_DISABLED, KV_DISKLESS_LOAD_ON_EMPTY_DB, KV_DISKLESS_LOAD_SWAPDB };

#define KV_LAT_BUCKETS 22 /* <=1us, <=2us ... <=2^20us, +Inf */

struct kv_cmd_stats {
    uint64_t calls;
    uint64_t usec;
    uint64_t failed;     /* replied with an error by the handler */
    uint64_t rejected;   /* refused before running (arity, auth, OOM) */
    uint64_t lat[KV_LAT_BUCKETS];
};

/* Figures updated under the keyspace lock. */
struct kv_stats {
    uint64_t commands;
    uint64_t conns_received;
    uint64_t conns_rejected;
    uint64_t unknown_commands;
    uint64_t proto_errors;
    uint64_t obl_disconnects;
    uint64_t timeouts;
    uint64_t closed_net_in, closed_net_out; /* bytes of clients gone (INFO's totals are cumulative) */
    struct kv_cmd_stats cmd[RESP_CMD_COUNT];
};

struct kv_worker;
struct kv_server;

struct kv_client {
    uv_tcp_t tcp;
    struct kv_worker *w;
    struct kv_server *srv;
    uint64_t id;
    struct buf in, out, wbuf;
    struct resp_parser parser;
    uv_write_t wreq;
    int proto;                 /* 2 or 3 */
    bool authed;
    struct kv_acl_user *user;  /* whose permissions apply (acl.h); NULL: none checked (internal clients) */
    bool writing;              /* a uv_write of wbuf is in flight */
    bool close_after_reply;    /* QUIT, protocol error */
    bool closing;              /* uv_close called */
    bool killed;               /* CLIENT KILL shut its socket: gone for CLIENT KILL/LIST (keyspace lock) */
    bool close_deferred;       /* to close once a busy script ends (server.c client_close) */
    bool reply_over;           /* the running command's reply passed the output limit */
    char *name;
    char addr[64], laddr[64];
    int fd;
    long long ctime_ms;
    long long last_ms;         /* last interaction (worker thread only) */
    long long obl_soft_since;  /* when the output passed the soft limit, 0 if below */
    int last_cmd;              /* last command id, -1 none */
    char last_sub[16];         /* its subcommand, lowercase (CLIENT LIST shows "client|list") */
    uint64_t net_in, net_out;
    struct kv_blocked *blk;    /* waiting in a blocking command (blocking.h), else NULL */
    struct kv_multi *mx;       /* MULTI queue and WATCHed keys (multi.h), else NULL */
    struct kv_psclient *ps;    /* subscriptions and pending messages (pubsub.h), else NULL */
    _Atomic size_t out_bytes;  /* unsent output after the last flush (read by publishers) */
    bool in_exec;              /* running EXEC's commands: blocking ones answer at once */
    bool monitor;              /* MONITOR: gets every command the server runs (pubsub.c) */
    bool script_client;        /* the scripts' own client: MONITOR shows it as "lua" */
    int db;                    /* selected database (SELECT) */
    bool paused;               /* CLIENT PAUSE holds its next command (worker thread) */
    bool no_evict;             /* CLIENT NO-EVICT on (CLIENT LIST flag e) */
    struct kv_replica *rl;     /* a replica's link state on the primary (repl.c), else NULL */
    uint64_t woff;             /* replication offset after its last propagated write (WAIT) */
    bool aof_held;             /* AOF on: replies wait for the worker's AOF write (and fsync) */
    bool batched;              /* read this loop turn, its input not run yet (server.c batch_run) */
    size_t batch_idx;          /* its slot in w->batch */
    uint64_t pf_hash;          /* batch_run: the hash of its first command's key */
    bool pf_ok;                /* pf_hash is set */
    struct kv_client *prev, *next;     /* worker's list (worker thread only) */
    struct kv_client *gprev, *gnext;   /* server registry (keyspace lock) */
};

struct kv_worker {
    int id;
    struct kv_server *srv;
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_async_t wake;
    uv_timer_t clients_timer;
    uv_check_t aof_check;      /* after each poll: one AOF fsync, then the held replies */
    bool aof_sync;             /* held replies wait for that fsync */
    struct kv_client **held;   /* the clients with aof_held set (on_aof_check walks only these) */
    size_t nheld, held_cap;
    struct kv_client **batch;  /* read this loop turn: their input runs after the poll (batch_run) */
    size_t nbatch, batch_cap;
    size_t batch_cur;          /* batch_run: the slot whose input runs (0: none) */
    bool batch_running;
    bool listening;
    long long drain_deadline;  /* shutting down: force-close clients after this */
    long long wall_off_ms;     /* wall clock - uv_now(loop), re-read every 100 ms (clients_timer) */
    struct kv_client *clients;
    uint64_t nclients;
    struct kv_client *clients_cursor; /* on_clients_timer's next client (NULL: the head) */
    bool pause_held;           /* a client was held by CLIENT PAUSE: check the pause each tick */
};

/*
 * The up-calls: what a subsystem below the server asks of server.c, which
 * drives the subsystems (a table, so that none of them includes server.h).
 * server.c's table is set by kv_config_apply; the inline kv_call ... below
 * are the way to call it.
 */
struct kv_server_ops {
    void (*call)(struct kv_client *c, int argc, struct resp_arg *argv);
    void (*call_queued)(struct kv_client *c, int id, int argc, struct resp_arg *argv);
    void (*client_resume)(struct kv_client *c);
    void (*client_pushed)(struct kv_client *c, bool over);
    void (*busy_poll)(struct kv_server *s);
    /* kv_repl_deny_write (repl.h): whether c may not write now (a read-only
     * replica, min-replicas), *msg the error. Here for the scripts and
     * functions, which replication sits above (a full sync loads their
     * libraries through rdb.c). */
    bool (*repl_deny_write)(struct kv_client *c, const char **msg);
    /* Begin a graceful shutdown (SHUTDOWN; server.c's signals call it
     * directly): drain clients, stop. */
    void (*begin_shutdown)(struct kv_server *s, const char *why);
    /* kv_client_info and kv_client_kill (server.h), for ACL LOG's client-info
     * and ACL DELUSER, which the command path sits above. */
    void (*client_info)(struct kv_client *me, struct kv_client *c, struct buf *b);
    bool (*client_kill)(struct kv_client *me, struct kv_client *c);
};

struct kv_server {
    struct kv_config cfg;
    char *config_file;
    pthread_mutex_t lock;      /* the keyspace lock */
    /* The selected database (SELECT): every key operation works on s->db.
     * The other databases' data wait in dbs[] (dbs[db.id] is an empty
     * placeholder); kv_db_select moves data in and out of the slot, so the
     * statistics, clock and hooks of s->db serve every database. */
    struct kv_db db;
    struct kv_db *dbs;
    int ndbs;
    int evict_next_db;         /* random eviction: the database to try first */
    struct kv_stats st;
    const struct kv_evict_policy *policy;
    struct kv_worker *workers;
    int nworkers;
    _Atomic uint64_t next_client_id;
    _Atomic long long nclients;
    struct kv_client *registry;
    uint64_t dirty;            /* write commands that changed something */
    uint64_t repl_offset;      /* bytes of the propagated command stream */
    long long start_ms;
    _Atomic bool shutting_down;
    size_t nmonitors;              /* MONITOR clients (pubsub.c; lock held) */
    struct net_signals sig;    /* SIGTERM, SIGINT, SIGHUP on worker 0's loop */
    uv_timer_t cron;
    long long cron_loops;
    /* instantaneous ops/sec samples */
    uint64_t ops_samples[16];
    int ops_idx;
    uint64_t ops_last;
    long long ops_last_ms;
    void *admin;
    struct kv_blocking *blocking;  /* clients blocked on keys (blocking.h) */
    struct kv_watch *watch;        /* WATCHed keys (multi.h), made by the first WATCH */
    struct kv_slowlog *slowlog;    /* SLOWLOG entries (slowlog.h) */
    struct kv_acl *acl;            /* users and ACL LOG (acl.h) */
    char *acl_requirepass;         /* the requirepass last given to the default user */
    struct kv_latency *latency;    /* latency events and command histograms (latency.h) */
    struct kv_migrate *migrate;    /* MIGRATE's cached connections (t_migrate.c), made at first use */
    /* CLIENT PAUSE: clients whose next command it holds wait, input unread */
    int pause_type;                /* KV_PAUSE_* */
    long long pause_end_ms;
    bool failover_pause;           /* FAILOVER holds write commands until it ends (repl.c) */
    struct kv_pubsub *pubsub;      /* channels and patterns (pubsub.h) */
    /* RDB snapshots (persist.h; keyspace lock) */
    long long lastsave;            /* unix seconds of the last successful save (or start) */
    long long last_bgsave_try;     /* unix seconds */
    int bgsave_pid;                /* child saving, -1 none */
    int bgsave_errfd;              /* read end of the child's error pipe, -1 none */
    bool bgsave_scheduled;         /* BGSAVE SCHEDULE while another ran */
    bool last_bgsave_ok;
    long long bgsave_start_ms;
    long long last_bgsave_secs;    /* duration of the last BGSAVE, -1 none */
    uint64_t dirty_at_bgsave;      /* dirty when the running BGSAVE forked */
    uint64_t rdb_saves;            /* successful saves since start */
    long long latest_fork_usec;    /* how long the last fork() blocked the server */
    struct kv_db **persist_dbs;    /* kv_persist_dbs's array (ndbs) */
    /* scripting (script.h): state made by the first EVAL/FUNCTION; the flags
     * are read without the lock by workers deciding to answer -BUSY */
    struct kv_script *script;
    _Atomic bool script_busy;      /* a script passed busy-reply-threshold */
    _Atomic bool script_wrote;     /* ... and it ran a write command (UNKILLABLE) */
    _Atomic bool script_kill;      /* SCRIPT KILL / FUNCTION KILL asked */
    _Atomic bool script_is_fn;     /* the busy one is a function (FCALL) */
    struct kv_worker *script_worker; /* the worker running it */
    struct kv_client *script_caller;
    struct kv_prop *prop;          /* the propagation point (propagate.h) */
    struct kv_aof *aof;            /* the append-only file (aof.h), NULL when off */
    struct kv_repl *repl;          /* replication, both sides (repl.h) */
    struct kv_master_link *ml;     /* its replica side (replica.c), NULL before kv_repl_init */
    _Atomic bool aof_hold;         /* AOF on: replies wait for the loop's AOF write (read by workers unlocked) */
    const struct kv_server_ops *ops; /* up-calls into server.c (above) */
};

/* ---- up-calls (through s->ops) ----------------------------------------------- */

/* Run one command (keyspace lock held): the AOF loader, a replica applying
 * its primary's stream, the unit tests. */
static inline void kv_call(struct kv_client *c, int argc, struct resp_arg *argv) { c->srv->ops->call(c, argc, argv); }
/* Run command id, already checked, as part of EXEC or a script (statistics
 * kept; no serving of blocked clients until the EXEC ends). */
static inline void kv_call_queued(struct kv_client *c, int id, int argc, struct resp_arg *argv)
{
    c->srv->ops->call_queued(c, id, argc, argv);
}
/* A blocked client got its reply (worker thread, lock not held): run the
 * input it has queued meanwhile and flush. */
static inline void kv_client_resume(struct kv_client *c) { c->srv->ops->client_resume(c); }
/* Pub/sub messages (or, on a primary, the stream to replica c) were moved
 * into c's output (worker thread, lock not held): check its output limits
 * and write; over: it passed the pubsub hard limit, close it. */
static inline void kv_client_pushed(struct kv_client *c, bool over) { c->srv->ops->client_pushed(c, over); }
/* A busy script's hook (script.c): serve the other clients of the script's
 * worker with -BUSY and friends. */
static inline void kv_busy_poll(struct kv_server *s) { s->ops->busy_poll(s); }
/* SHUTDOWN (t_persist.c), after its final save: drain clients and stop. */
static inline void kv_begin_shutdown(struct kv_server *s, const char *why) { s->ops->begin_shutdown(s, why); }

/* ---- databases (SELECT) --------------------------------------------------------- */

/* Make database id the one in s->db (lock held; 0 <= id < ndbs). Inline:
 * the command path does it before every command. */
static inline void kv_db_select(struct kv_server *s, int id)
{
    if (s->db.id == id)
        return;
    /* the slot's data goes home, database id's data comes in */
    kv_db_exchange(&s->db, &s->dbs[s->db.id], true);
    kv_db_exchange(&s->db, &s->dbs[id], true);
}

/* Database id, wherever its data is, for reading or dict-only work (no db_*
 * call that fires hooks: select it for those). */
static inline struct kv_db *kv_db_get(struct kv_server *s, int id) { return id == s->db.id ? &s->db : &s->dbs[id]; }

#endif
