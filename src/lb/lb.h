/*
 * lb.h — the lb role: an L7 HTTP/1.1 and L4 TCP load balancer.
 *
 * The pieces and where they live:
 *
 *   listeners (server.c)           one SO_REUSEPORT socket per listener per worker thread
 *      │ accept
 *      ├── mode http ─▶ proxy.c    client session state machine (diagram in proxy.c):
 *      │                            parse (proto/http1) ─▶ rate limit (ratelimit.c) ─▶ route
 *      │                            ─▶ pick a peer ─▶ upstream connection (upstream.c, pooled)
 *      │                            ─▶ stream the request / response bodies with backpressure
 *      └── mode tcp  ─▶ tcp.c      byte tunnel client ⇄ peer with backpressure and half-close
 *
 *   the backend pool (src/net, shared with other roles; it knows no HTTP beyond its http check):
 *     pools and peers (net/peer.c)   the shared peer list: address, weight, admin/health state,
 *                                    counters; per worker a snapshot of the usable peers
 *     balancing (net/balance*.c)     one file per algorithm behind struct net_balance_ops
 *     health (net/health*.c)         active checks on worker 0's loop, one file per kind;
 *                                    passive ejection is in net/peer.c
 *   pool settings                  struct lb_pool_conf embeds the pool's struct net_pool_conf
 *   config (config.c)              directive tables: global, listener sections, pool sections
 *   admin (admin.c, metrics.c)     loopback HTTP: /metrics, /status, runtime add/drain/remove
 *
 * Threads: `threads` workers, each with its own libuv loop, its own listening
 * sockets and its own sessions and idle upstream connections. Worker 0 runs in
 * the main thread and also owns signals, the cron (ejection expiry, reclaiming
 * retired configs), the health checks and the admin endpoint. What workers
 * share is in struct net_pool / struct net_peer: membership under a pool mutex
 * (taken only when membership or state changed), everything else atomics or
 * per-worker slots.
 */
#ifndef SCALEOUT_LB_LB_H
#define SCALEOUT_LB_LB_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "core/buf.h"
#include "core/config.h"
#include "lb/cache_policy.h"
#include "net/peer.h"
#include "net/server.h"
#include "net/tls.h"

#define LB_MAX_THREADS 64
#define LB_MAX_HEADERS 100
/* A connection idle this long frees the buffers it keeps between requests
 * (reused while it is busy: no malloc per request). */
#define LB_IDLE_TRIM_MS 1000

enum lb_mode { LB_MODE_HTTP, LB_MODE_TCP };

/* What a hashing algorithm hashes. */
enum lb_key { LB_KEY_NONE, LB_KEY_IP, LB_KEY_URI, LB_KEY_HEADER, LB_KEY_COOKIE };

enum lb_route_kind { LB_ROUTE_HOST, LB_ROUTE_PATH, LB_ROUTE_HEADER };

/* ---- configuration ------------------------------------------------------ */

/* One condition of a route. */
struct lb_route_cond {
    enum lb_route_kind kind;
    char *name;                     /* header name */
    char *value;                    /* host, path prefix or header value */
};

/* `route host H | path P | header N V ... pool NAME`: all conditions must hold. */
struct lb_route {
    struct lb_route_cond *conds;
    int nconds;
    char *pool_name;
    void *pool;                     /* struct net_pool *, resolved by the server */
    int line;
};

struct lb_pool_conf {
    struct net_pool_conf base;      /* what the backend pool reads: balance, health, ejection */
    char *name;
    enum lb_key key;
    char *key_name;                 /* header or cookie name */
    struct net_backend_conf *backends;
    int nbackends, backends_cap;
    /* proxying */
    long long connect_timeout_ms, server_timeout_ms, retries;
    long long maxconn, queue_size, queue_timeout_ms;
    char *sticky_cookie;            /* empty: no sticky sessions */
    long long idle_conns, idle_timeout_ms;
    /* edge cache (cache.c): on when the global cache size is set */
    bool caching, cache_set_cookie;
    struct lb_cache_ttl cache_ttl[16]; /* cache-ttl TYPE SECONDS */
    int ncache_ttl;
    bool backend_tls, backend_verify; /* TLS towards the backends, certificate checked */
    char *backend_ca;               /* CA file ("": the system's store) */
    struct net_tls_ctx *backend_tls_ctx; /* built by lb_config_validate; NULL: plain */
    int line;                       /* where the section starts (0: flags/default) */
};

struct lb_listener_conf {
    char *name;
    char *addr;                     /* "host:port" */
    char host[256];
    int port;
    int mode;                       /* enum lb_mode */
    char *default_pool;             /* empty: unrouted requests get 404 */
    void *default_pool_rt;          /* struct net_pool *, resolved by the server */
    struct lb_route *routes;
    int nroutes, routes_cap;
    long long header_timeout_ms, keepalive_timeout_ms, client_timeout_ms;
    long long rate, burst;          /* requests per second per client address (0: off) */
    unsigned long long max_header_size;
    bool forwarded_for, request_id;
    long long tunnel_timeout_ms;    /* idle WebSocket / Upgrade tunnel */
    /* TLS (lb/tls.c): certificates in order (SNI by name, the first is the default) */
    struct net_tls_cert_conf *tls_certs;
    int ntls_certs;
    char *tls_ciphers, *tls_ciphersuites;
    int tls_min_version;            /* 12 or 13 */
    long long tls_ticket_rotate_ms, tls_session_cache, tls_handshake_timeout_ms, tls_max_handshakes;
    struct net_tls_ctx *tls;        /* built by lb_config_validate; NULL: plain */
    bool h2, h2c;                   /* HTTP/2 by ALPN (TLS) / by prior knowledge (plain) */
    long long h2_max_streams, h2_max_resets;
    int line;
};

/* Sections of a configuration; kept in a registry so that a config struct
 * freed without lb_config_deinit (scaleout check) is not reported as leaked. */
struct lb_sections {
    struct lb_listener_conf **listeners;
    int nlisteners;
    struct lb_pool_conf **pools;
    int npools;
    struct lb_sections *rnext, *rprev;
};

enum lb_section { LB_SEC_NONE, LB_SEC_LISTENER, LB_SEC_POOL };

struct lb_config {
    long long threads;
    unsigned long long cache_size, cache_max_object; /* edge cache (0: off) */
    long long cache_waiters;
    long long admin_port;
    char *admin_bind;
    char *admin_token;
    char *admin_token_file;
    char *admin_allow_host;
    int loglevel;
    char *logfile;
    char *pidfile;
    long long maxclients;
    long long tcp_backlog;
    bool reuseport;
    long long drain_ms;
    /* sections */
    struct lb_sections *sec;
    int cur_kind;                   /* enum lb_section being parsed */
    void *cur;
    int lineno;                     /* line being parsed by lb_config_load (0: flags) */
};

extern const struct conf_table lb_conf_table;

/* Set defaults (conf_defaults) and prepare the sections. */
void lb_config_init(struct lb_config *c);
/* Free everything lb_config_init and loading allocated. */
void lb_config_deinit(struct lb_config *c);
/* Load a file (every error as file:line), then apply the flags, then
 * validate the whole (cross-section errors name the section's file:line).
 * argv excludes the role word. Returns the number of errors. */
int lb_config_load(struct lb_config *c, const char *path, int argc, char **argv, struct buf *errs);
/* Cross-section checks (listeners exist and have addresses, pools referenced
 * exist, algorithms fit the listener mode). Returns the number of errors. */
int lb_config_validate(struct lb_config *c, const char *path, struct buf *errs);
struct lb_pool_conf *lb_config_find_pool(const struct lb_config *c, const char *name);
/* Parse "ADDR [weight N] [maxconn N] [name NAME]" into b (heap strings). */
int lb_backend_parse(struct net_backend_conf *b, int argc, char **argv, char *err, size_t errlen);
void lb_backend_conf_deinit(struct net_backend_conf *b);
/* Resolve "host:port" (numeric or name) into sa. */
int lb_resolve(const char *addr, struct sockaddr_storage *sa, socklen_t *salen, char *err, size_t errlen);
/* `scaleout check`: load and validate a whole file without running it
 * (per-line and cross-section errors, each as file:line). Returns the number
 * of errors, -1 when the file cannot be read. */
int lb_config_check(const char *path, struct buf *errs);
/* --help text of every directive (global, listener, pool). */
void lb_config_help(struct buf *out);

/* ---- the running server ---------------------------------------------- */

struct lb_server;
struct lb_session;
struct lb_tunnel;
struct lb_upstream;
struct lb_ratelimit;
struct lb_cache;

/* A listener at run time; conf is swapped by a reload (old ones retired). */
struct lb_listener {
    char *name;
    char *addr;                     /* as bound (a changed address is a new listener) */
    int mode;
    int port;                       /* the port really bound (listen ...:0 picks one) */
    _Atomic(struct lb_listener_conf *) conf;
    struct lb_ratelimit *rl;
    _Atomic bool removed;
    int *fds;                       /* per worker: a bound socket for it to adopt, -1 none (srv->lock) */
    struct lb_listener_conf *own_conf; /* settings kept after a reload dropped the listener */
    /* figures (atomics: all workers) */
    _Atomic uint64_t accepted, requests, rejected[6]; /* by class: bad request, 404, 408, 429, 503, other */
    _Atomic uint64_t h2_conns, h2_streams, h2_resets, h2_goaways; /* HTTP/2 (h2.c): totals */
    _Atomic int64_t h2_active;      /* HTTP/2 connections open */
    _Atomic uint64_t tls_full, tls_resumed, tls_errors; /* handshakes done; connections cut by a TLS error */
};

enum { LB_REJ_BAD, LB_REJ_NOROUTE, LB_REJ_TIMEOUT, LB_REJ_RATE, LB_REJ_UNAVAIL, LB_REJ_OTHER };

/* A worker's listening socket for one listener. */
struct lb_lsock {
    uv_tcp_t tcp;
    struct lb_worker *w;
    struct lb_listener *ls;
};

struct lb_worker {
    int id;
    struct lb_server *srv;
    uv_loop_t loop;
    uv_async_t wake;
    uv_timer_t sweep;
    struct lb_lsock **lsocks;       /* per listener slot (srv->listeners); NULL: none */
    int nlsocks;
    struct lb_session *sessions;
    struct lb_session *sweep_cursor; /* lb_http_sweep's next session (NULL: the head) */
    struct lb_tunnel *tunnels;
    struct lb_upstream *upstreams;  /* every upstream connection of this worker */
    long long nsessions, ntunnels, nupstreams;
    struct lb_session *spare_streams; /* closed HTTP/2 stream sessions kept for the next streams */
    int nspare_streams;
    _Atomic uint64_t ticks;         /* sweeps done: retired configs are freed after every worker ticked */
    _Atomic bool need_sync;         /* listeners changed: open/close sockets */
    bool draining;
    long long drain_deadline;
    bool stopped;                   /* handles closed: the loop ends */
};

struct lb_retired {
    void *ptr;
    void (*free_fn)(void *);
    uint64_t ticks[LB_MAX_THREADS];
    struct lb_retired *next;
};

struct lb_server {
    struct lb_config cfg;
    char *config_file;
    char **argv;                    /* flags, re-applied on reload */
    int argc;
    struct lb_worker *workers;
    int nworkers;
    pthread_mutex_t lock;           /* listeners/pools arrays, retired list */
    struct lb_listener **listeners;
    int nlisteners;
    struct net_pool **pools;
    int npools;
    struct lb_retired *retired;
    _Atomic long long nclients;
    _Atomic bool shutting_down;
    struct net_signals sig;
    uv_timer_t cron;
    void *admin;
    int admin_port;
    long long start_ms;
    bool started;                   /* past start-up: new peers wait for their first probe */
    _Atomic uint64_t reloads;
    struct lb_cache *cache;         /* edge cache (cache.c); off while its size is 0 */
};

/* The lb settings around a pool's `base` settings, and those of a pool. */
static inline struct lb_pool_conf *lb_pool_conf_from(struct net_pool_conf *c)
{
    return (struct lb_pool_conf *)(void *)((char *)c - offsetof(struct lb_pool_conf, base));
}
static inline struct lb_pool_conf *lb_pool_conf_of(struct net_pool *p) { return lb_pool_conf_from(atomic_load(&p->conf)); }

/* Idle-loop time of the worker in ms (cheap: cached per loop iteration). */
static inline long long lb_now_ms(struct lb_worker *w) { return (long long)uv_now(&w->loop); }

/* Free ptr with free_fn once every worker has passed a sweep (no callback
 * can still hold it). Main thread only. */
void lb_retire(struct lb_server *s, void *ptr, void (*free_fn)(void *));
/* Apply the (re)loaded config: pools, peers, listeners. Main thread. */
int lb_server_apply(struct lb_server *s, struct lb_config *next, struct buf *errs);

int lb_main(int argc, char **argv);

/* proxy.c / tcp.c: a new client on a listener of worker w (the fd is accepted). */
void lb_http_accept(struct lb_worker *w, struct lb_listener *ls, uv_stream_t *server);
void lb_tcp_accept(struct lb_worker *w, struct lb_listener *ls, uv_stream_t *server);
/* Timeouts and queue checks of the worker's sessions / tunnels (sweep timer). */
void lb_http_sweep(struct lb_worker *w, long long now);
/* Dispatch requests queued on this worker when peers have room again. */
void lb_http_kick(struct lb_worker *w);
void lb_tcp_sweep(struct lb_worker *w, long long now);
/* Shutdown: stop taking requests; close idle sessions now, the rest after
 * their current exchange. */
void lb_http_drain(struct lb_worker *w);
void lb_tcp_drain(struct lb_worker *w);
/* Close everything at once (end of the drain period). */
void lb_http_close_all(struct lb_worker *w);
void lb_tcp_close_all(struct lb_worker *w);

/* metrics.c */
void lb_metrics(struct lb_server *s, struct buf *out);
void lb_status_json(struct lb_server *s, struct buf *out);

/* admin.c: the admin endpoint on worker 0's loop. */
void *lb_admin_open(struct lb_server *s, uv_loop_t *loop, const char *host, int port, char *err, size_t errlen);
void lb_admin_close(void *a);
int lb_admin_port(const void *a);

/* config.c: free sections (retired after a reload), one pool's or listener's settings. */
void lb_sections_free(void *sec);
void lb_pool_conf_free(struct lb_pool_conf *p);
void lb_listener_conf_free(struct lb_listener_conf *l);

#endif
