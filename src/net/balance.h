/*
 * balance.h — balancing algorithms behind one small ops table (HAProxy's
 * lb_*.c): each algorithm is one file that replaces only the pick step on the
 * shared peer list (peer.h).
 *
 * An algorithm keeps private state per worker and per pool. `update` tells it
 * the usable peers changed (membership, health, weights); `pick` chooses among
 * the usable peers, skipping those in ctx->exclude (already tried, or full).
 * Peers' shared figures (active requests, response time) are read with
 * relaxed atomics. Everything runs on one worker's thread; no locks.
 *
 * To add an algorithm: one file with its ops, and one row in NET_BALANCERS
 * (with its aliases, if any).
 */
#ifndef SCALEOUT_NET_BALANCE_H
#define SCALEOUT_NET_BALANCE_H

#include "net/peer.h"

enum {
    NET_BAL_L7 = 1 << 0,        /* needs a request (an L7 proxy), not for a plain TCP tunnel */
    NET_BAL_KEY = 1 << 1,       /* hashes a key the role gives (ctx->key; the lb: ip, uri, header, cookie) */
};

/* struct net_balance_ops, the interface every algorithm implements, is in
 * peer.h: the pool calls it there, and this header builds on peer.h. */

/* One row per algorithm: id, ops symbol, other accepted spellings
 * (space-separated, matched without case after every algorithm's own name). */
#define NET_BALANCERS(X) \
    X(ROUNDROBIN,   net_balance_rr,         "rr") \
    X(WRR,          net_balance_wrr,        "weighted swrr") \
    X(LEASTCONN,    net_balance_leastconn,  "least_conn leastconns") \
    X(IPHASH,       net_balance_iphash,     "") \
    X(HASH,         net_balance_hash,       "") \
    X(CHASH,        net_balance_chash,      "consistent consistent-hash") \
    X(LRT,          net_balance_lrt,        "leasttime least-time") \
    X(P2C,          net_balance_p2c,        "random2 power-of-two")

enum net_balance_id {
#define NET_X_ID(id, sym, aliases) NET_BALANCE_##id,
    NET_BALANCERS(NET_X_ID)
#undef NET_X_ID
    NET_BALANCE__COUNT
};

#define NET_X_DECL(id, sym, aliases) extern const struct net_balance_ops sym;
NET_BALANCERS(NET_X_DECL)
#undef NET_X_DECL

extern const struct net_balance_ops *const net_balancers[NET_BALANCE__COUNT]; /* also in peer.h */
extern const char *const net_balance_aliases[NET_BALANCE__COUNT];

/* Index of the algorithm called name (or one of its aliases), -1 if unknown. */
int net_balance_find(const char *name);

/* Weighted pick helper shared by hash-style algorithms (balance_walk.c): the peer whose
 * cumulative weight range holds point (0 <= point < total), skipping excluded
 * peers by walking forward. cum[i] = w0 + ... + wi. */
struct net_peer *net_balance_walk(struct net_peer *const *peers, int n, const uint64_t *cum, uint64_t point,
                                const struct net_pick_ctx *ctx);

/* net_hash, the 64-bit hash every algorithm uses, is in peer.h (peers hash
 * their names with it). */

#endif
