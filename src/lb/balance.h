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
 * To add an algorithm: one file with its ops, and one row in LB_BALANCERS.
 */
#ifndef SCALEOUT_LB_BALANCE_H
#define SCALEOUT_LB_BALANCE_H

#include "lb/peer.h"

enum {
    LB_BAL_HTTP = 1 << 0,      /* needs an HTTP request (not for mode tcp) */
    LB_BAL_KEY = 1 << 1,       /* hashes a key: `balance NAME ip|uri|header N|cookie N` */
};

struct lb_balance_ops {
    const char *name;
    unsigned flags;
    const char *help;
    /* New state for an empty peer list; destroy frees it. */
    void *(*create)(void);
    void (*destroy)(void *st);
    /* The usable peers are now peers[0..n) (n may be 0). */
    void (*update)(void *st, struct lb_peer *const *peers, int n);
    /* One of peers[0..n) not excluded by ctx, or NULL. n == the last update's n. */
    struct lb_peer *(*pick)(void *st, struct lb_peer *const *peers, int n, const struct lb_pick_ctx *ctx);
};

/*      id          ops symbol */
#define LB_BALANCERS(X) \
    X(ROUNDROBIN,   lb_balance_rr) \
    X(WRR,          lb_balance_wrr) \
    X(LEASTCONN,    lb_balance_leastconn) \
    X(IPHASH,       lb_balance_iphash) \
    X(HASH,         lb_balance_hash) \
    X(CHASH,        lb_balance_chash) \
    X(LRT,          lb_balance_lrt) \
    X(P2C,          lb_balance_p2c)

enum lb_balance_id {
#define LB_X_ID(id, sym) LB_BALANCE_##id,
    LB_BALANCERS(LB_X_ID)
#undef LB_X_ID
    LB_BALANCE__COUNT
};

#define LB_X_DECL(id, sym) extern const struct lb_balance_ops sym;
LB_BALANCERS(LB_X_DECL)
#undef LB_X_DECL

extern const struct lb_balance_ops *const lb_balancers[LB_BALANCE__COUNT];

/* Index of the algorithm called name, -1 if unknown. */
int lb_balance_find(const char *name);

/* Weighted pick helper shared by hash-style algorithms: the peer whose
 * cumulative weight range holds point (0 <= point < total), skipping excluded
 * peers by walking forward. cum[i] = w0 + ... + wi. */
struct lb_peer *lb_balance_walk(struct lb_peer *const *peers, int n, const uint64_t *cum, uint64_t point,
                                const struct lb_pick_ctx *ctx);

/* 64-bit hash of bytes (xxHash3), the one every algorithm uses. */
uint64_t lb_hash(const void *p, size_t n, uint64_t seed);

#endif
