/*
 * peer.h — the shared peer list of a pool (nginx's "upstream peers"): every
 * backend with its weight, its admin and health state and its figures, and
 * per worker a snapshot of the peers that may take new work, on which the
 * balancing algorithm picks.
 *
 * A peer is usable when it is enabled (not draining, not removed), its
 * active check says up, and it is not ejected by passive checks. Any change
 * of usability, weight or membership bumps pool->gen; each worker notices the
 * new generation on its next pick and rebuilds its snapshot (under the pool
 * mutex, the only lock on this path) and its balancer state. Picks themselves
 * take no lock.
 *
 * Lifetime: peers are reference counted. The pool holds one reference; a
 * worker's snapshot, an in-flight request, an idle upstream connection and a
 * health probe each hold one. Removing a peer drops it from the pool at once;
 * whoever still holds it finishes normally, and the last unref frees it.
 * Pools live until the server exits.
 *
 * Threads: net_pool_pick / net_pool_snapshot run on a worker for its own slot;
 * membership and health changes may come from any thread.
 */
#ifndef SCALEOUT_NET_PEER_H
#define SCALEOUT_NET_PEER_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "core/list.h"

/* One backend as configured: `backend ADDR [weight N] [maxconn N] [name NAME]`. */
struct net_backend_conf {
    char *addr;                     /* as written: "127.0.0.1:8101" */
    char *name;                     /* defaults to addr; also the consistent-hash identity */
    struct sockaddr_storage sa;     /* resolved when parsed */
    socklen_t salen;
    long long weight;               /* 1..1000 */
    long long maxconn;              /* 0: the pool's maxconn */
};

/* The settings the pool itself reads. A role's pool settings embed it (the
 * lb's struct lb_pool_conf as member `base`) and hand the pool a pointer to it. */
struct net_pool_conf {
    int balance;                    /* index into net_balancers[] */
    /* active health checks */
    int health;                     /* -1 none, else index into net_health_kinds[] */
    char *health_path;
    long long health_expect;        /* 0: any 2xx or 3xx */
    long long health_interval_ms, health_timeout_ms, health_rise, health_fall;
    /* passive health */
    long long passive_fails;        /* consecutive errors that eject a peer (0: off) */
    long long eject_ms, eject_max_ms;
};

/* Latency histogram buckets (upper bounds in ms), Prometheus style; the last is +Inf. */
#define NET_LAT_BOUNDS_MS {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000}
#define NET_LAT_BUCKETS 14

enum net_admin_state { NET_PEER_READY, NET_PEER_DRAIN, NET_PEER_REMOVED };

/* The link of an idle upstream connection in its peer's list on one worker;
 * the role's connection object embeds it (net_peer_idle_* below). */
struct net_idle {
    struct net_idle *prev, *next;
};

/* Figures and the idle connection list of one peer on one worker: written by
 * that worker only, read (relaxed) by the admin endpoint. */
struct net_peer_local {
    struct net_idle *idle;          /* idle upstream connections, most recent first */
    int nidle;
    uint64_t requests;              /* requests sent (HTTP) / connections opened (TCP) */
    uint64_t responses[6];          /* 1xx..5xx, [0] other */
    uint64_t errors;                /* connect failures, timeouts, bad responses, resets */
    uint64_t retries;               /* requests retried elsewhere after failing here */
    uint64_t lat[NET_LAT_BUCKETS];   /* time to response head */
    uint64_t lat_sum_us;
    uint64_t bytes_in, bytes_out;   /* from / to the peer */
    uint64_t connects;              /* new upstream connections opened */
    char pad_[64];                  /* keeps workers' hot fields off each other's cache lines */
};

struct net_pool;
struct net_probe;

struct net_peer {
    _Atomic int refs;
    struct net_pool *pool;
    uint64_t id;                    /* unique for the life of the process */
    char *name;                     /* consistent-hash identity, shown in /status */
    char addr[80];                  /* "ip:port" as configured */
    struct sockaddr_storage sa;
    socklen_t salen;
    char sticky_id[17];             /* sticky-session value (the lb: its cookie): hex of a hash of the name */
    uint64_t hash;                  /* hash of the name */
    _Atomic int weight;
    _Atomic long long maxconn;      /* 0: unlimited */
    _Atomic int admin;              /* enum net_admin_state */
    _Atomic bool check_up;          /* active checks' verdict (true without checks) */
    _Atomic long long ejected_until; /* passive ejection: monotonic ms, 0 when not ejected */
    _Atomic int eject_level;        /* consecutive ejections: the back-off doubles */
    _Atomic int fails;              /* consecutive passive errors */
    _Atomic int active;             /* requests / tunnels in flight, all workers */
    _Atomic uint64_t ewma_us;       /* moving average of the response time */
    _Atomic long long ewma_at;      /* when it was last fed (monotonic ms) */
    _Atomic uint64_t health_checks, health_failures;
    /* health check state: worker 0 only */
    struct net_probe *probe;
    uv_timer_t *check_timer;
    int rise_run, fall_run;
    bool checked;
    char last_check[96];
    int nlocal;
    struct net_peer_local local[];   /* one per worker */
};

/* The usable peers as one worker sees them, and its balancer state. */
struct net_pool_local {
    unsigned gen;                   /* generation of the snapshot */
    bool valid;
    struct net_peer **snap;          /* usable peers (each holds a reference) */
    int nsnap, snapcap;
    int bal_index;                  /* algorithm the state below belongs to */
    void *bal;
    /* requests waiting for a peer under maxconn (the role's request, e.g. the lb's struct lb_session) */
    struct net_qnode {
        struct net_qnode *prev, *next;
    } queue;
    int nqueued;
    uint64_t queued_total, queue_timeouts, queue_overflows, no_peer;
    char pad_[64];
};

struct net_pool {
    char *name;
    _Atomic(struct net_pool_conf *) conf;
    pthread_mutex_t lock;           /* peers[] and the state changes */
    struct net_peer **peers;
    int npeers, cap;
    _Atomic unsigned gen;
    _Atomic int nqueued;            /* all workers */
    bool removed;                   /* by a reload: no listener routes here any more */
    struct net_pool_conf *own_conf; /* settings kept after a reload dropped the pool */
    void (*free_conf)(struct net_pool_conf *); /* frees own_conf (set by the role) */
    int nlocal;
    struct net_pool_local local[];
};

/* What an algorithm may look at to pick. */
struct net_pick_ctx {
    uint64_t key;                   /* hash of the request's key */
    bool has_key;                   /* false: key absent, hashing falls back to round robin */
    struct net_peer *const *exclude; /* already tried or full */
    int nexclude;
    long long now;                  /* monotonic ms */
};

static inline bool net_pick_excluded(const struct net_pick_ctx *c, const struct net_peer *p)
{
    for (int i = 0; i < c->nexclude; i++)
        if (c->exclude[i] == p)
            return true;
    return false;
}

/*
 * A balancing algorithm as the pool sees it (balance.h: the table of
 * algorithms, one file each). Declared here, below balance.h, so that the
 * pool calls algorithms through this interface without including the
 * algorithms' header (balance.h builds on this one, never the reverse).
 */
struct net_balance_ops {
    const char *name;
    unsigned flags;
    const char *help;
    /* New state for an empty peer list; destroy frees it. */
    void *(*create)(void);
    void (*destroy)(void *st);
    /* The usable peers are now peers[0..n) (n may be 0). */
    void (*update)(void *st, struct net_peer *const *peers, int n);
    /* One of peers[0..n) not excluded by ctx, or NULL. n == the last update's n. */
    struct net_peer *(*pick)(void *st, struct net_peer *const *peers, int n, const struct net_pick_ctx *ctx);
};

/* 64-bit hash of bytes (xxHash3): peer names (sticky ids), balancing keys. */
uint64_t net_hash(const void *p, size_t n, uint64_t seed);

/* The algorithms by index (net_pool_conf.balance); defined in balance.c. */
extern const struct net_balance_ops *const net_balancers[];

struct net_pool *net_pool_new(const char *name, struct net_pool_conf *conf, int nworkers);
/* Free a pool (exit only): drops the pool's peers and every snapshot, and
 * own_conf through free_conf. */
void net_pool_free(struct net_pool *p);

/* A peer for backend b (one reference, owned by the caller). */
struct net_peer *net_peer_new(struct net_pool *pool, const struct net_backend_conf *b, int nworkers);
static inline void net_peer_ref(struct net_peer *p) { atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed); }
void net_peer_unref(struct net_peer *p);

/* Membership (any thread). add takes over the caller's reference. */
void net_pool_add(struct net_pool *pool, struct net_peer *p);
/* Find by name or address (a new reference), NULL when absent. */
struct net_peer *net_pool_find(struct net_pool *pool, const char *name_or_addr);
/* Drop p from the pool (state REMOVED). Returns 0, or -1 when p was not in it. */
int net_pool_remove(struct net_pool *pool, struct net_peer *p);
void net_peer_set_admin(struct net_peer *p, int state);
void net_peer_set_weight(struct net_peer *p, int weight);
void net_peer_set_check(struct net_peer *p, bool up);
static inline void net_pool_changed(struct net_pool *pool) { atomic_fetch_add(&pool->gen, 1); }

/* Take a request slot on p (active + 1) unless p is at its maxconn; exact
 * across threads. false: full, nothing taken. */
static inline bool net_peer_try_take(struct net_peer *p)
{
    long long m = atomic_load_explicit(&p->maxconn, memory_order_relaxed);
    if (m <= 0) {
        atomic_fetch_add_explicit(&p->active, 1, memory_order_relaxed);
        return true;
    }
    int a = atomic_load_explicit(&p->active, memory_order_relaxed);
    do {
        if (a >= m)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(&p->active, &a, a + 1, memory_order_relaxed,
                                                    memory_order_relaxed));
    return true;
}

/* Usable now (now: monotonic ms). */
bool net_peer_usable(const struct net_peer *p, long long now);

/* Passive health: an exchange with p went well / failed. A failure may eject
 * p for eject_ms << level (capped at eject_max_ms). now: monotonic ms. */
void net_peer_success(struct net_peer *p);
void net_peer_failure(struct net_peer *p, long long now);
/* End ejections that expired (cron, main thread). */
void net_pool_expire_ejections(struct net_pool *pool, long long now);
/* Fold a response time into the peer's moving average. */
void net_peer_observe(struct net_peer *p, uint64_t us);

/* Rebuild worker wid's snapshot if the pool changed. Returns the number of
 * usable peers. */
int net_pool_snapshot(struct net_pool *pool, int wid, long long now);
/* Pick a usable peer for worker wid, NULL when none fits. */
struct net_peer *net_pool_pick(struct net_pool *pool, int wid, const struct net_pick_ctx *ctx, long long now);
/* Sticky sessions: the usable peer whose sticky_id is v, NULL if none. */
struct net_peer *net_pool_find_sticky(struct net_pool *pool, int wid, const char *v, size_t vlen, long long now);
/* Worker wid drops its snapshot and balancer state (exit). */
void net_pool_local_deinit(struct net_pool *pool, int wid);

/* Seconds a client should wait before retrying when nothing is usable. */
int net_pool_retry_after(struct net_pool *pool, long long now);

/* The idle upstream connections of a peer on one worker (the worker's thread
 * only): push puts n first (most recently used), pop takes the first,
 * oldest is the last one (NULL when none). */
static inline void net_peer_idle_push(struct net_peer_local *l, struct net_idle *n)
{
    LIST_PUSH(l->idle, n, prev, next);
    l->nidle++;
}
static inline void net_peer_idle_unlink(struct net_peer_local *l, struct net_idle *n)
{
    LIST_REMOVE(l->idle, n, prev, next);
    n->prev = n->next = NULL;
    l->nidle--;
}
static inline struct net_idle *net_peer_idle_oldest(const struct net_peer_local *l)
{
    struct net_idle *n = l->idle;
    while (n && n->next)
        n = n->next;
    return n;
}

/* Monotonic ms for the code that has no loop at hand. */
long long net_mono_ms(void);

static inline void net_count(uint64_t *x, uint64_t n)
{
    __atomic_store_n(x, *x + n, __ATOMIC_RELAXED);
}
static inline uint64_t net_read(const uint64_t *x) { return __atomic_load_n(x, __ATOMIC_RELAXED); }

#endif
