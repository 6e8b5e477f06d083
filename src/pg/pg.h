/*
 * pg.h — the pg role: a PostgreSQL proxy with connection pooling (session and
 * transaction modes) and a read/write split over a primary and replicas.
 *
 * Where a client's bytes go, in transaction mode:
 *
 *   client ──▶ [client.c] startup, auth (trust/md5/SCRAM), then per message:
 *                 unlinked: route (route.c) ─▶ pool_request(target)
 *                             │ idle server? link now : open one or queue
 *                             ▼   (queue bounded by query-wait-timeout)
 *                 linked:   bytes pass through to the server, message by
 *                           message (Query/Sync/FunctionCall counted)
 *   server ──▶ [pool.c] login (trust/cleartext/md5/SCRAM), then while linked
 *              bytes pass through to the client; each ReadyForQuery is
 *              counted, and at 'I' with nothing pending the server goes back
 *              to the pool (transaction mode) and the client is unlinked.
 *
 * In session mode the client keeps its server until it leaves; the server
 * is then reset (server-reset-query, DISCARD ALL) and pooled, or closed if
 * the client left in a transaction. Everything runs on one libuv loop.
 * Layers: core and proto below; conn.c is the protocol-free connection.
 */
#ifndef SCALEOUT_PG_PG_H
#define SCALEOUT_PG_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "core/buf.h"
#include "core/config.h"
#include "net/server.h"
#include "pg/auth.h"
#include "pg/conn.h"
#include "pg/prepared.h"
#include "pg/vars.h"
#include "proto/pg.h"

/* ---- intrusive list ------------------------------------------------------ */

struct pg_list {
    struct pg_list *prev, *next;
};

static inline void pg_list_init(struct pg_list *l) { l->prev = l->next = l; }
static inline bool pg_list_empty(const struct pg_list *l) { return l->next == l; }
static inline void pg_list_push(struct pg_list *head, struct pg_list *e)
{
    e->prev = head->prev;
    e->next = head;
    head->prev->next = e;
    head->prev = e;
}
static inline void pg_list_del(struct pg_list *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
    e->prev = e->next = e;
}
#define pg_container_of(p, type, member) ((type *)(void *)((char *)(p) - offsetof(type, member)))

/* ---- configuration --------------------------------------------------------- */

enum pg_pool_mode { PG_POOL_SESSION, PG_POOL_TRANSACTION };
enum pg_auth_type { PG_AUTH_TRUST, PG_AUTH_TYPE_MD5, PG_AUTH_TYPE_SCRAM };
/* read-your-writes: off, a fixed window, or until a replica replayed the write's LSN */
enum pg_ryw { PG_RYW_OFF, PG_RYW_WINDOW, PG_RYW_LSN };

#define PG_MAX_REPLICAS 16
#define PG_MAX_SHARDS 16                /* per shard map */
#define PG_MAX_SHARD_MAPS 16
#define PG_MAX_SHARD_BACKENDS 32        /* distinct shard addresses, all maps */
#define PG_MAX_BACKENDS (1 + PG_MAX_REPLICAS + PG_MAX_SHARD_BACKENDS)
#define PG_SHARD_KEY_MAX 256
#define PG_MAX_DATABASES 64

struct pg_db_alias {
    char *name;     /* what clients ask for */
    char *dbname;   /* the database on the servers */
};

/* A database split over shards (each a primary, no replicas): which shard a
 * key goes to (shard.c). */
enum pg_shard_kind { PG_SHARD_HASH, PG_SHARD_RANGE, PG_SHARD_DIRECTORY };

struct pg_shard_dir {
    char *key;
    int shard;
};

struct pg_shard_map {
    char *database;                 /* the database name on the servers */
    int kind;
    int nshards;
    char *addrs[PG_MAX_SHARDS];
    long long bounds[PG_MAX_SHARDS];  /* range: shard i takes keys >= bounds[i] (i >= 1) */
    struct pg_shard_dir *dir;       /* directory: key -> shard */
    int ndir;
    int dir_default;                /* directory: shard of other keys (-1: refused) */
    int bi[PG_MAX_SHARDS];          /* runtime: backend index of each shard */
};

struct pg_config {
    char *listen;
    char *primary;
    char *replicas[PG_MAX_REPLICAS];
    long long replica_weights[PG_MAX_REPLICAS]; /* `weight=N` after an address (default 1) */
    int nreplicas;
    int balance;                    /* index into net_balancers[]: how reads spread over replicas */
    long long primary_read_weight;  /* > 0: the primary takes reads too, with this weight */
    struct pg_db_alias databases[PG_MAX_DATABASES];
    int ndatabases;
    struct pg_shard_map shard_maps[PG_MAX_SHARD_MAPS];
    int nshard_maps;
    bool fanout_reads;              /* a read without a shard key runs on every shard */
    int pool_mode;
    long long pool_size;
    long long reserve_pool_size;
    long long reserve_pool_timeout_ms;
    long long max_client_conn;
    long long query_wait_timeout_ms;
    long long client_idle_timeout_ms;
    long long client_login_timeout_ms;
    long long server_idle_timeout_ms;
    long long stats_period_ms;      /* SHOW STATS averages: over this period */
    long long server_connect_timeout_ms;
    long long replica_retry_ms;
    long long replica_max_lag_ms;
    int read_your_writes;           /* enum pg_ryw */
    long long read_your_writes_ms;  /* the window */
    long long replica_check_interval_ms;
    long long failover_timeout_ms;
    char *failover_user;            /* a user of the auth-file for pg_promote and ALTER SYSTEM (empty: a pool's) */
    char *failover_conninfo;        /* primary_conninfo of repointed replicas, sans host/port (empty: their own) */
    char *state_file;               /* the failover state, kept across restarts (empty: none) */
    long long shutdown_timeout_ms;
    int auth_type;
    char *auth_file;
    char *server_reset_query;
    char *ignore_startup_parameters; /* dropped from startup packets (comma-separated) */
    char *client_tls_cert, *client_tls_key; /* PEM files: SSLRequest answered 'S' (empty: 'N') */
    bool client_tls_required;       /* clients without TLS are refused */
    char *auth_user;                /* auth-query runs as this user of the auth-file (empty: no auth-query) */
    char *auth_query;
    char *admin_users;
    bool read_write_split;
    unsigned long long max_message_size;
    long long admin_port;
    char *admin_bind;
    int loglevel;
    char *logfile;
    char *pidfile;
};

extern const struct conf_table pg_conf_table;
void pg_config_free(struct pg_config *c);
/* `scaleout check` for pg: the directive table, then addresses and the auth file. */
int pg_config_check(const char *path, struct buf *errs);

/* shard.c: the shard of a key (>= 0), -1 when the map has none for it
 * (range: not an integer; directory: not listed and no default). */
int pg_shard_of(const struct pg_shard_map *m, const char *key, size_t len);
/* FNV-1a 64 of the key's bytes: hash maps take it modulo the shard count. */
uint64_t pg_shard_hash(const char *key, size_t len);
struct pg_shard_map *pg_shard_map_find(struct pg_config *c, const char *database);

/* ---- runtime ------------------------------------------------------------------ */

struct pg_backend {
    char name[128];                 /* host:port as configured */
    struct sockaddr_storage addr;
    bool replica;
    long long down_until_ms;        /* replicas: skipped until then after a failed connect */
    long long lag_ms;               /* replicas: replay lag at the last check (-1: not measured) */
    bool lagging;                   /* replicas: lag above replica-max-lag: no reads */
    long long checked_ms;
    bool dead;                      /* fenced: a primary that was failed over gets no traffic
                                     * until a check finds it in recovery (a standby again) */
    bool shard;                     /* a shard's primary (shard-map) */
    int in_recovery;                /* pg_is_in_recovery() at the last check: 1, 0, -1 unknown */
    bool fence_logged;
    uint64_t replay_lsn;            /* replicas: pg_last_wal_replay_lsn() at the last check (0: unknown) */
    bool repoint;                   /* replicas: primary_conninfo still names the old primary (after failover) */
    long long repoint_after_ms;     /* next try of the repoint */
    unsigned long long queries, connects, connect_failures;
};

struct pg_target {                  /* one backend of one pool */
    struct pg_list idle;            /* struct pg_srv.link */
    struct pg_list waiters;         /* struct pg_client.wlink */
    int nidle, nactive, nconnecting;
};

/* What SHOW STATS counts, per pool (PgBouncer's figures; times in us). */
struct pg_pool_stats {
    unsigned long long xact_count, query_count, recv, sent, xact_us, query_us, wait_us;
};

struct pg_pool {
    char *user, *database;          /* names on the servers */
    struct pg_pool_stats st;        /* totals since start */
    struct pg_pool_stats st_mark;   /* the totals when the current stats period began */
    struct pg_pool_stats avg;       /* the last whole period: counts and bytes per second, times per xact/query */
    struct pg_user *auth;           /* password for the servers (NULL: none) */
    struct pg_target t[PG_MAX_BACKENDS];
    struct pg_shard_map *smap;      /* the database is sharded (NULL: not) */
    int home;                       /* backend of logins that learn the parameters: primary or shard 0 */
    struct buf params;              /* ParameterStatus messages from the primary's login */
    bool have_params;
    struct pg_srv *params_by;       /* the server whose login fills params */
    struct pg_list link;
};

enum pg_srv_state { SRV_CONNECTING, SRV_LOGIN, SRV_IDLE, SRV_ACTIVE, SRV_RESET, SRV_CHECK, SRV_PROMOTE, SRV_LSN, SRV_AUTHQ, SRV_REPOINT, SRV_FAN };

struct pg_proxy;
struct pg_client;
struct net_peer;
struct net_tls_ctx;

struct pg_srv {
    struct pg_conn conn;
    struct pg_proxy *px;
    struct pg_pool *pool;
    int bi;                         /* backend index (0 = primary) */
    enum pg_srv_state state;
    struct pg_client *client;
    struct pg_list link;            /* target idle list */
    struct pg_list alink;           /* proxy list of every server connection */
    uint32_t be_pid, be_key;
    int pending;                    /* ReadyForQuery still expected */
    size_t fwd_left;                /* bytes of the current message still to pass through */
    size_t skip_left;               /* bytes of the current message to drop (answers to our own Parse) */
    struct pg_prep_server prep;     /* statements prepared here, responses owed (transaction mode) */
    struct pg_vars vars;            /* its session settings, as last reported or set */
    int swallow_q;                  /* our own SET queries whose answers are not passed on */
    char status;                    /* last ReadyForQuery status */
    long long q_start_us, x_start_us; /* the running query's and transaction's start (0: none), for SHOW STATS */
    bool closed;
    long long since_ms;             /* state change time (idle, connect timeouts) */
    struct pg_scram_client scram;
};

enum pg_client_state { CL_STARTUP, CL_AUTH, CL_READY, CL_WAIT, CL_LINKED, CL_CLOSING };

struct pg_client {
    struct pg_conn conn;
    struct pg_proxy *px;
    enum pg_client_state state;
    int auth_step;                  /* 0 md5/password, 1 SASL first, 2 SASL final */
    struct pg_pool *pool;
    struct pg_user *user;
    struct pg_srv *srv;
    int want;                       /* backend index waited for */
    bool logged_in;
    bool in_process;                /* client_process() is on the stack */
    bool console;                   /* logged in to the admin console, not a database */
    char *username;
    bool skip_to_sync;              /* an extended-protocol batch failed: drop up to its Sync */
    unsigned char salt[4];
    struct pg_scram_server *scram;
    uint32_t pid, key;
    size_t fwd_left;
    struct pg_prep_client prep;     /* named statements (transaction mode) */
    struct pg_vars vars;            /* the session settings the client asked for or was told */
    bool wrote;                     /* the linked transaction went to the primary as a write */
    unsigned ryw_epoch;             /* read-your-writes lsn: needs the primary's LSN of a sample >= this (0: none) */
    uint64_t ryw_lsn;               /* read-your-writes lsn: replicas must have replayed this (0: not known yet) */
    long long primary_until_ms;     /* read-your-writes: reads go to the primary until then */
    long long since_ms;             /* connect / wait start / last activity */
    long long wait_us;              /* when it began waiting for a server (SHOW STATS wait time) */
    struct pg_pool *wait_pool;      /* the pool it waits in */
    unsigned long long st_in, st_out; /* conn bytes already counted in its pool's SHOW STATS */
    char *shard_key;                /* SET scaleout.shard_key (NULL: none) */
    bool authq;                     /* waiting for the auth-query's answer */
    bool authq_failed;
    char *authq_secret;             /* its passwd column */
    struct pg_srv *authq_srv;       /* the server running it */
    /* a read fanned out to every shard, one after the other (fanout-reads) */
    bool fan;                       /* running */
    int fan_next;                   /* shard whose turn is next */
    struct buf fan_query;           /* the Query message, sent to each shard */
    bool fan_T, fan_err, fan_select;
    unsigned long long fan_rows;    /* SELECT n summed */
    char fan_tag[64];               /* the first shard's tag when it is not SELECT n */
    struct pg_srv *fan_side[PG_MAX_SHARDS]; /* shards running the query already, answers held (NULL: in turn) */
    struct pg_list link;            /* proxy client list */
    struct pg_list wlink;           /* target waiters */
};

#define PG_STATS(X)                                                                     \
    X(clients_accepted, "client connections accepted")                                   \
    X(clients_refused, "client connections refused (max-client-conn, shutdown)")         \
    X(auth_failures, "client logins refused (wrong password, unknown user or database)") \
    X(transactions, "server links released (transactions in transaction mode)")          \
    X(queries_primary, "statements routed to the primary")                               \
    X(queries_replica, "statements routed to a replica")                                 \
    X(wait_timeouts, "clients refused after query-wait-timeout in the queue")            \
    X(server_connects, "server connections opened")                                      \
    X(server_connect_failures, "server connections that failed to connect or log in")    \
    X(cancels, "cancel requests forwarded to a server")                                  \
    X(failovers, "replicas promoted to primary")                                         \
    X(repoints, "replicas repointed to a new primary (ALTER SYSTEM SET primary_conninfo)")

struct pg_stats {
#define PG_STAT_FIELD(name, help) unsigned long long name;
    PG_STATS(PG_STAT_FIELD)
#undef PG_STAT_FIELD
};

/* What the pool reports to a client (client.c's; pg_client_init sets
 * px->client_ops before the first client), so pool.c calls no client.c
 * function (issue 8: no two files that call each other). All on the loop. */
struct pg_pool_client_ops {
    /* a server of the requested backend is linked to c (maybe at once, from pg_pool_request) */
    void (*linked)(struct pg_client *c, struct pg_srv *s);
    /* no server for a waiting client (query-wait-timeout: 53300; the server
     * cannot be reached: 08006): a logged-in client gets an ERROR for the
     * statement that waited (up to its Sync) and may go on; a client still
     * logging in gets it as FATAL */
    void (*no_server)(struct pg_client *c, const char *sqlstate, const char *message);
    /* pass a whole server ErrorResponse to the client, then close it */
    void (*fail_raw)(struct pg_client *c, const char *msg, size_t len);
    /* the linked server finished the transaction (transaction mode): unlink */
    void (*unlinked)(struct pg_client *c);
    /* the auth-query ran (c->authq_secret, or c->authq_failed): go on with the login */
    void (*authq_done)(struct pg_client *c);
    /* the linked server vanished */
    void (*server_lost)(struct pg_client *c);
    /* the linked server's output was drained by the client socket: go on reading */
    void (*resume)(struct pg_client *c);
};

struct pg_proxy {
    uv_loop_t *loop;
    const struct pg_pool_client_ops *client_ops; /* client.c's, for pool.c */
    struct pg_config cfg;
    struct pg_userlist users;
    struct pg_userlist fetched;     /* users whose secret came from auth-query */
    struct net_tls_ctx *tls_ctx;     /* client TLS (NULL: none) */
    struct pg_backend backends[PG_MAX_BACKENDS];
    int nbackends;
    int primary;                    /* index of the primary in backends (changes at failover) */
    long long primary_down_since_ms; /* first failed login to the primary since the last good one (0: none) */
    long long stats_period_start_us; /* SHOW STATS: the current period's start (monotonic) */
    bool promoting;
    unsigned rr;                    /* replica round robin */
    /* reads over replicas: the balancer of src/net on one peer per backend */
    struct net_peer *peers[PG_MAX_BACKENDS];
    struct net_peer *usable[PG_MAX_BACKENDS];
    int nusable;
    uint64_t usable_mask;           /* backends in usable[] (bit per index), ~0: not built */
    void *bal;
    /* read-your-writes lsn: samples of pg_current_wal_insert_lsn() on the primary */
    unsigned lsn_sent;              /* samples sent (the epoch of the last one) */
    unsigned lsn_known;             /* epoch of the last sample answered */
    uint64_t primary_lsn;           /* its value */
    bool lsn_inflight, lsn_wanted;
    uv_tcp_t listener;
    uv_timer_t cron;
    struct net_signals sig;
    int argc;                       /* the command line, read again by a reload */
    char **argv;
    struct admin *admin;
    struct pg_list clients, pools, servers;
    int nclients, nservers;
    uint32_t next_pid;
    bool draining;
    bool paused;                    /* PAUSE from the console: no server is handed out */
    long long drain_deadline_ms;
    struct pg_stats stats;
};

int pg_main(int argc, char **argv);
/* Read the config (file and flags) and the auth file again and apply what
 * can change while clients stay connected; errors (nothing applied) go to
 * errs. Returns 0 or -1. */
extern const char *const pg_restart_only[];
int pg_reload(struct pg_proxy *px, struct buf *errs);

/* pool.c */
struct pg_pool *pg_pool_get(struct pg_proxy *px, const char *user, const char *database);
/* Ask for a server of backend bi for c: px->client_ops->linked runs (maybe
 * at once) when one is linked, ->no_server or ->fail_raw when none can be had. */
void pg_pool_request(struct pg_pool *p, int bi, struct pg_client *c);
/* Take c off the queue it waits in (no callback). */
void pg_pool_unwait(struct pg_client *c);
/* SHOW STATS: the client's bytes since the last count go to its pool. */
void pg_pool_count_bytes(struct pg_client *c);
/* The client is done with its linked server: pool it (after a reset in
 * session mode) or close it when it is not clean. */
void pg_pool_release(struct pg_srv *s, bool client_gone);
/* Forward a cancel request for the query running on s. */
void pg_pool_cancel(struct pg_srv *s);
/* Fan-out: send c->fan_query at once to every shard after the first that
 * has an idle pooled connection (c->fan_side[k]); the others run in turn. */
void pg_pool_fan_start(struct pg_client *c);
/* Shard c->fan_next's turn: link its side connection (its answer may be
 * there already). false: it has none, ask the pool. */
bool pg_pool_fan_link(struct pg_client *c);
/* The fan-out ended early (error, client gone): close the side connections. */
void pg_pool_fan_abort(struct pg_client *c);
/* Client bytes for a linked server were queued: flush, and push back. */
void pg_srv_flush(struct pg_srv *s);
void pg_pool_cron(struct pg_proxy *px, long long now_ms);
/* Close every idle server (shutdown). */
void pg_pool_close_idle(struct pg_proxy *px);
void pg_pool_free_all(struct pg_proxy *px);
/* Pick the backend for a read by the configured balancer: a replica that is
 * up, not lagging, and has replayed past lsn (0: any), or the primary. key:
 * for hashing balancers (the client's id: its reads stick to one replica). */
int pg_pool_pick_replica(struct pg_proxy *px, uint64_t lsn, uint64_t key);
void pg_pool_balancer_init(struct pg_proxy *px);

/* failover.c */
/* The conninfo string old (len bytes) with host, hostaddr and port replaced
 * by those of addr ("host:port"), appended to out. 0, or -1 when old is no
 * valid conninfo or addr has no port (out may hold part of it). */
int pg_conninfo_repoint(const char *old, size_t len, const char *addr, struct buf *out);
/* s as an E'' SQL string literal, appended to out. */
void pg_sql_literal(struct buf *out, const char *s, size_t len);
/* The state file (state-file): which backend is the primary, which are
 * fenced. save: written at each change (0, -1 logged); load: at start,
 * before the pools (0; a missing file is no error). */
int pg_state_save(struct pg_proxy *px);
int pg_state_load(struct pg_proxy *px);

/* console.c: the admin console, database "pgbouncer" or "scaleout" */
bool pg_console_wanted(struct pg_proxy *px, const char *database);
bool pg_console_allowed(struct pg_proxy *px, const char *user);
void pg_console_login(struct pg_client *c);
/* One whole message from a console client: the answer is queued on c. */
void pg_console_message(struct pg_client *c, const struct pg_msg *m);
/* RESUME: hand out servers to every queue again. */
void pg_pool_resume(struct pg_proxy *px);

/* client.c */
/* At start, before the first client: sets px->client_ops (the pool's
 * up-calls, struct pg_pool_client_ops). */
void pg_client_init(struct pg_proxy *px);
void pg_client_accept(struct pg_proxy *px, uv_stream_t *listener);
/* The request failed: send the message (an ErrorResponse) and close. */
void pg_client_fail(struct pg_client *c, const char *sqlstate, const char *message);
/* The user of that name: the auth-file's, else one fetched by auth-query, or NULL. */
static inline struct pg_user *pg_user_find(struct pg_proxy *px, const char *name)
{
    struct pg_user *u = pg_userlist_find(&px->users, name);
    return u ? u : pg_userlist_find(&px->fetched, name);
}
void pg_client_cron(struct pg_proxy *px, long long now_ms);
/* Close every client that is not inside a transaction (shutdown). */
void pg_client_drain(struct pg_proxy *px, bool all);

#define PG_BACKPRESSURE (512 * 1024) /* queued bytes at which the other side stops reading */

#endif
