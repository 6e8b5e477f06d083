/*
 * proxy.h — the router at run time: pools, shards, worker threads and the
 * connections they hold (server.c builds them, proxy.c moves the bytes,
 * admin.c shows and changes them).
 *
 * Connection model: every worker thread runs a libuv loop, accepts clients
 * from the shared listening socket, and keeps `conns-per-shard` pipelined
 * connections to each shard (and its replica). A client's commands go to
 * one of those connections per shard (always the same one, so its commands
 * to a shard run in its order); each connection answers in FIFO order, so a queue of
 * fragments per connection matches replies to commands. A client's replies
 * leave in its request order: each client keeps its commands in a queue and
 * writes a reply only when every earlier one is written.
 */
#ifndef SCALEOUT_ROUTER_PROXY_H
#define SCALEOUT_ROUTER_PROXY_H

#include <pthread.h>
#include <stdatomic.h>
#include <uv.h>

#include "net/admin.h"
#include "net/conn.h"
#include "net/peer.h"
#include "net/server.h"
#include "proto/reply.h"
#include "router/router.h"

struct rt_pool;
struct rt_server;

struct rt_shard {
    int id;                         /* global, index into srv->shards */
    struct rt_pool *pool;
    struct net_peer *_Atomic peer;  /* the primary (its weight, health, figures); replaced by a manual failover */
    _Atomic unsigned peer_gen;      /* bumped when peer is replaced: older connections retire */
    struct rt_retired {             /* peers replaced so far: kept (a worker may hold one), freed with the process */
        struct net_peer *peer;
        struct rt_retired *next;
    } *retired;
    struct net_peer *_Atomic replica; /* NULL without one */
    char *name;                     /* distribution identity (name or host:port) */
    char *range_lo;
    char *master;                   /* sentinel master name (NULL: primary configured by hand) */
    _Atomic bool removed;
    _Atomic uint64_t replica_reads;
};

struct rt_pool {
    struct rt_pool_conf *conf;
    struct net_pool *np;            /* primaries */
    struct net_pool *rp;            /* replicas */
    struct net_pool_conf npc;       /* health settings both use */
    _Atomic(struct rt_dist *) dist;
    _Atomic(struct rt_dist *) from; /* resharding: the distribution keys are moving away from (NULL: none) */
    struct rt_dist *retired;        /* replaced distributions, freed 5 s later by the cron */
    int members[RT_MAX_SHARDS];     /* shard ids in configuration order (removed ones dropped) */
    int nmembers;
    unsigned built_gen;             /* np->gen the distribution was built at */
    int nlive;                      /* shards in the distribution */
    /* directory */
    pthread_t dir_thread;
    bool dir_started;
    pthread_mutex_t dir_lock;
    char *dir_reply;                /* last HGETALL reply (re-installed after a rebuild) */
    size_t dir_len;
    _Atomic long long dir_fetches, dir_errors;
};

struct rt_client;
struct rt_sconn;

struct rt_frag {
    struct rt_msg *m;
    struct rt_frag *next;           /* in its server connection's queue */
    struct buf reply;
    bool discard;                   /* MULTI/QUEUED of a transaction: dropped */
    bool done;
};

struct rt_msg {
    struct rt_client *c;            /* NULL once the client is gone */
    struct rt_worker *w;
    unsigned ep;                    /* epoch it was routed in (resharding barrier) */
    bool uncounted;                 /* parked: not part of the barrier */
    struct rt_msg *next;
    int pending;                    /* fragments still owed */
    int nfrag;
    bool done, quit;
    int keep;                       /* transaction: the fragment whose reply is the answer (-1 merge) */
    struct rt_frag *frags;
    struct rt_frag one;             /* nfrag == 1 */
    struct buf reply;
    /* merge of a split or fan-out */
    struct rt_route *route;         /* copy of what merging needs (NULL: pass through) */
    /* kept while the message waits on the worker's free list, so that a
     * recycled message allocates nothing: the fragment array of the last
     * split (fcap of them, their reply buffers emptied), a route copy, and
     * (above) the emptied reply buffers of `one` and `reply` */
    struct rt_frag *fbuf;
    int fcap;
    struct rt_route *rcache;
};

struct rt_wq {                      /* output of a stream: appended to `out`, written from `wout` */
    struct buf out, wout;
    bool writing;
    uv_write_t req;
};

struct rt_sconn {
    uv_tcp_t tcp;
    uv_connect_t creq;
    struct rt_worker *w;
    struct rt_shard *sh;
    struct net_peer *peer;
    int slot;
    unsigned peer_gen;              /* the shard's peer_gen when opened (primary connections) */
    bool retired;                   /* out of its slot: closes once it owes nothing */
    int state;                      /* SC_* in proxy.c */
    struct rt_wq wq;
    struct buf in;
    struct resp_reply rp;
    struct rt_frag *head, *tail;
    int nq;
    long long since_ms;             /* connect start, or when the head fragment was sent */
    bool dirty;
    struct rt_sconn *dnext;
    struct rt_sconn *rnext;         /* in the worker's retired list */
};

struct rt_client {
    uv_tcp_t tcp;
    struct rt_worker *w;
    struct buf in;
    struct resp_parser rp;
    struct rt_wq wq;
    struct rt_msg *head, *tail;
    int inflight;
    unsigned cslot;                 /* which of the shard connections this client uses */
    bool closing, close_after;
    bool dirty;
    bool held;                      /* on the worker's held list: ready replies wait for the rest (proxy.c) */
    long long hold_ms;              /* when they started waiting */
    struct rt_client *dnext, *hnext, *prev, *next;
    long long last_write_ms;
    /* MULTI block */
    bool in_multi, multi_bad, multi_cross, multi_moving;
    int multi_shard;                /* -1 none yet */
    int multi_count;
    unsigned multi_ep;              /* epoch at MULTI: a resharding since aborts the block */
    struct buf multi_cmds;
    int nparked;                    /* commands waiting for the migrator: later ones park behind them */
    struct rt_sub *sub;             /* pub/sub state, NULL until the first SUBSCRIBE */
};

/* A subscriber's dedicated connection to one shard (pub/sub, proxy.c). */
struct rt_psconn {
    uv_tcp_t tcp;
    uv_connect_t creq;
    struct rt_client *c;            /* NULL once the client is gone */
    struct rt_wq wq;
    struct buf in;
    struct resp_reply rp;
    bool up, failed;
};

/* A channel or pattern the client subscribed to, and the shard it lives on. */
struct rt_subname {
    char *name;
    size_t len;
    bool pattern;
    bool confirmed;                 /* the shard confirmed it: counted */
    int shard;
};

struct rt_sub {
    bool active;                    /* in subscribe mode: only (P)(UN)SUBSCRIBE, PING, QUIT */
    struct rt_psconn **conns;       /* [shard id] */
    struct rt_subname *names;
    int n, cap;
    int count;                      /* confirmed subscriptions: the count in confirmations */
    int pending;                    /* confirmations owed: the client's next commands wait for them */
};

/* A command on a moving key, waiting for the migrator (reshard.c). */
struct rt_park {
    struct rt_worker *w;
    struct rt_msg *m;               /* its place in the client's queue */
    struct buf cmd;                 /* the command, multibulk */
    struct buf keys;                /* its moving keys: (uint32 length, bytes)... */
    bool failed;                    /* a move failed: the client gets -TRYAGAIN */
    struct rt_park *next;
};

enum { RS_IDLE, RS_WAITING, RS_MOVING, RS_RETRYING, RS_DONE };

struct mconn;
struct rt_reshard {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct rt_pool *pool;           /* the pool resharding, NULL: none */
    struct rt_dist *from, *to;
    unsigned epoch;                 /* the switch's epoch: earlier commands are waited for */
    bool active;                    /* commands on moving keys are parked */
    struct rt_park *head, *tail;
    struct mconn **conns;           /* the migrator's connection per shard id */
    _Atomic int state;              /* RS_* */
    _Atomic uint64_t scanned, moved, failed, parked, runs; /* since start (metrics) */
    _Atomic uint64_t base[4];       /* scanned, moved, failed, parked when the last resharding began (/status: this one's) */
    long long started_ms, finished_ms;
};

/* What pubsub.c calls back in proxy.c, the client's side (worker thread);
 * rt_proxy_worker_init sets w->sub_ops, so pubsub.c calls no proxy.c
 * function (issue 8: no two files that call each other). */
struct rt_sub_ops {
    void (*close)(struct rt_client *c);
    /* queue c for the end-of-iteration flush */
    void (*mark)(struct rt_client *c);
    /* handle the complete commands in c's input (stops while a subscriber
     * waits for confirmations) */
    void (*process)(struct rt_client *c);
    /* key -> global shard id, following prefixes to a pool */
    int (*locate_key)(struct rt_server *s, const char *key, size_t len);
    /* a reply the router makes itself (quit: close once it is written) */
    void (*msg_local)(struct rt_client *c, const char *p, size_t n, bool quit);
    void (*msg_error)(struct rt_client *c, const char *fmt, const char *a);
};

struct rt_worker {
    int id;
    const struct rt_sub_ops *sub_ops; /* pubsub.c's up-calls (proxy.c) */
    struct rt_server *srv;
    uv_loop_t loop;
    uv_async_t wake;
    uv_timer_t sweep;
    uv_check_t flush;               /* writes what the iteration's callbacks queued */
    uv_timer_t hold_timer;          /* wakes the loop when held replies are due (proxy.c) */
    uv_tcp_t listener;
    bool listening;
    struct rt_sconn **sc;           /* [shard id * 2 * cps + replica * cps + i] */
    unsigned next_cslot;
    struct rt_sconn *dirty_s;
    struct rt_sconn *retired;       /* out of their slots, still owing replies */
    struct rt_client *dirty_c;
    struct rt_client *held_c;       /* clients whose ready replies wait for their commands in flight */
    struct rt_client *clients;
    struct rt_route route;          /* scratch */
    /* resharding */
    unsigned cur_ep;                /* epoch read before routing the current command */
    _Atomic long long ep_inflight[2]; /* messages alive per epoch parity */
    bool moving;                    /* the command just routed has a moving key */
    bool no_park;                   /* dispatching a released command */
    struct buf mkeys;               /* its moving keys */
    struct rt_msg *reuse;           /* msg_new fills this placeholder instead of a new message */
    struct rt_msg *free_msgs;       /* freed messages kept for reuse (no malloc per command) */
    int nfree_msgs;
    pthread_mutex_t rel_lock;
    struct rt_park *rel_head, *rel_tail; /* handed back by the migrator */
    /* figures (this worker writes, admin reads relaxed) */
    uint64_t commands, errors, splits, fanouts, refused, local, multis, clients_total, rejected;
    uint64_t unavailable, server_errors, timeouts;
    _Atomic int nclients;
    _Atomic long long inflight;     /* commands of connected clients not yet answered */
    char pad_[64];
};

struct rt_server {
    struct rt_config cfg;
    int nworkers;
    struct rt_worker *workers;
    int listen_fd;
    int port;
    int npools;
    struct rt_pool pools[RT_MAX_POOLS];
    int dflt_pool;
    pthread_mutex_t lock;           /* shard membership and distribution rebuilds */
    struct rt_shard *_Atomic shards[RT_MAX_SHARDS];
    _Atomic int nshards;
    uv_timer_t cron;
    struct net_signals sig;
    struct admin *admin;
    long long start_ms;
    _Atomic bool draining;          /* SIGTERM: no new clients; exit once nothing is in flight */
    long long drain_deadline;
    _Atomic bool stopping;
    bool running;                   /* past startup: shard changes reshard */
    bool batch;                     /* SIGHUP: changes wait for one rebuild */
    struct rt_shard *batch_removed[RT_MAX_SHARDS];
    int nbatch_removed;
    _Atomic unsigned epoch;         /* bumped at every resharding switch */
    struct rt_reshard rs;
    struct rt_sentinel *sent;       /* sentinel follower (sentinel.c), NULL without sentinels */
    const struct rt_server_ops *ops; /* server.c's, for admin.c and sentinel.c */
};

/* proxy.c */
void rt_proxy_accept(struct rt_worker *w, uv_stream_t *server);
void rt_proxy_sweep(struct rt_worker *w);
/* Sets up w's proxy state, and w->sub_ops (what pubsub.c calls back). */
void rt_proxy_worker_init(struct rt_worker *w);

/* Output queues, shared by proxy.c and pubsub.c (worker thread). */
static inline void rt_wq_init(struct rt_wq *q)
{
    buf_init(&q->out);
    buf_init(&q->wout);
    q->writing = false;
}

static inline void rt_wq_deinit(struct rt_wq *q)
{
    buf_deinit(&q->out);
    buf_deinit(&q->wout);
}

/* Write what is queued: try at once, the rest through uv_write. -1: the stream failed. */
static inline int rt_wq_flush(struct rt_wq *q, uv_stream_t *s, uv_write_cb cb)
{
    if (q->writing || buf_pending(&q->out) == 0)
        return 0;
    size_t n; /* the callbacks find their connection from the request (container_of) */
    int r = net_conn_write(s, &q->out, &q->wout, &q->req, q->req.data, cb, &q->writing, &n);
    if (r < 0)
        return -1;
    if (r == NET_WRITE_DONE)
        buf_shrink(&q->out, 64 * 1024);
    return 0;
}

/* Shard id -> shard (NULL: none, or out of range); any thread. */
static inline struct rt_shard *rt_shard_of(struct rt_server *s, int id)
{
    return id >= 0 && id < RT_MAX_SHARDS ? atomic_load_explicit(&s->shards[id], memory_order_acquire) : NULL;
}

/* Not removed, and its primary is up. */
static inline bool rt_shard_usable(struct rt_shard *sh, long long now)
{
    return !atomic_load_explicit(&sh->removed, memory_order_relaxed) &&
           net_peer_usable(atomic_load_explicit(&sh->peer, memory_order_acquire), now);
}

/* pubsub.c: (P)(UN)SUBSCRIBE and every command in subscribe mode (true: handled; cmd: argv[0]'s
 * resp_cmd_lookup); a closing client's subscriptions. */
bool rt_sub_handle(struct rt_client *c, int cmd, int argc, const struct resp_arg *argv, long long now);
void rt_sub_free(struct rt_client *c);

/* Dispatch the commands the migrator handed back (worker thread, on wake). */
void rt_proxy_released(struct rt_worker *w);
/* Key -> global shard id, following prefixes to a pool (any thread). */
int rt_locate_key(struct rt_server *s, const char *key, size_t len);

/* sentinel.c: shards with a master name follow the sentinels.
 * rt_sentinel_resolve: before the shards are added, their configured address
 * is replaced by the primary the first answering sentinel names (the old
 * address stays the shard's name, so placement does not depend on it).
 * rt_sentinel_start: after the loops exist; a thread per sentinel subscribes
 * to +switch-master, another asks get-master-addr-by-name every
 * sentinel-check-interval; switches run on the main loop through
 * s->ops->set_primary (the manual failover's path). */
void rt_sentinel_resolve(struct rt_config *cfg);
void rt_sentinel_start(struct rt_server *s);
/* A replica SENTINEL replicas lists as up (no s_down, o_down, disconnected). */
struct rt_sent_rep {
    char addr[300];                 /* "ip:port" */
    bool link_ok;                   /* master-link-status ok */
};
/* Which of reps[0..n) a shard reads from: those with link_ok first (the
 * others may lag far behind; but while the primary is down every replica's
 * link is down, and when-primary-down reads need one); within that order cur
 * (the replica it has, NULL: none) while it qualifies, else the first in
 * order; never primary (the sentinels' answer) or paddr (the shard's primary
 * now); only one is_replica accepts (it answers ROLE slave: a returning old
 * primary answers master until the sentinels convert it). Its index, or -1. */
int rt_sentinel_pick_replica(const struct rt_sent_rep *reps, int n, const char *cur, const char *primary,
                             const char *paddr, bool (*is_replica)(const char *addr));
/* Ask the sentinels (first that answers) for master's address ("ip:port"); 0 or -1. */
int rt_sentinel_ask(const struct rt_config *cfg, const char *master, char *out, size_t outlen);

/* server.c: what admin.c and sentinel.c change in the server, through
 * s->ops (server.c sets it before it starts them, so they do not call
 * server.c by name: server.c -> admin.c, sentinel.c -> s->ops). Main thread. */
struct rt_server_ops {
    struct rt_shard *(*add_shard)(struct rt_server *s, struct rt_pool *p, const struct rt_shard_conf *sc,
                                  char *err, size_t errlen);
    int (*remove_shard)(struct rt_server *s, struct rt_shard *sh, char *err, size_t errlen);
    /* Manual failover: sh's primary becomes addr (its distribution identity,
     * the name, stays, so no key moves); connections to the old primary
     * finish what they owe and close. When addr is sh's replica, the shard
     * has no replica any more. */
    int (*set_primary)(struct rt_server *s, struct rt_shard *sh, const char *addr, char *err, size_t errlen);
    /* The shard's read replica becomes addr (NULL: none); connections to the
     * old one finish what they owe and close (sentinel.c: the replicas the
     * sentinels list). */
    int (*set_replica)(struct rt_server *s, struct rt_shard *sh, const char *addr, char *err, size_t errlen);
    /* Rebuild after a membership or weight change: once running, keys whose
     * owner changed are moved online (reshard.c); -1 when a resharding runs. */
    int (*change)(struct rt_server *s, struct rt_pool *p, char *err, size_t errlen);
    struct rt_pool *(*find_pool)(struct rt_server *s, const char *name);
    struct rt_shard *(*find_shard)(struct rt_server *s, const char *name_or_addr);
};

/* reshard.c */
void rt_reshard_init(struct rt_server *s);
bool rt_reshard_busy(struct rt_server *s);
void rt_reshard_start(struct rt_server *s, struct rt_pool *p, struct rt_dist *from, struct rt_dist *to, unsigned ep);
/* Queue a parked command; false when parking is over (dispatch it at once). */
bool rt_reshard_park(struct rt_server *s, struct rt_park *pk);
const char *rt_reshard_state_name(int st);

/* admin.c */
struct admin *rt_admin_open(struct rt_server *s, uv_loop_t *loop, const char *host, int port, char *err,
                            size_t errlen);

#endif
