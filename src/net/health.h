/*
 * health.h — active health checks: every `health-interval` worker 0 probes
 * each backend of a pool that has `health` set, with one kind of check per
 * file behind struct net_health_ops (health_http.c: GET PATH expecting a
 * status; health_tcp.c: a connect; health_resp.c: a RESP PING). `health-rise` consecutive good probes
 * bring a down backend up, `health-fall` consecutive failures take it down;
 * the very first probe decides at once. A probe that takes longer than
 * `health-timeout` failed.
 *
 * Passive checks (errors of real traffic) are in peer.c; both must agree for
 * a peer to take traffic.
 *
 * Everything here runs on the loop given to net_health_start (the lb's: worker
 * 0's, the main thread).
 */
#ifndef SCALEOUT_NET_HEALTH_H
#define SCALEOUT_NET_HEALTH_H

#include <stdbool.h>
#include <uv.h>

#include "core/buf.h"
#include "net/peer.h"

/* One probe in progress: a connection to the peer. */
struct net_probe {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    struct net_peer *peer;           /* a reference */
    struct buf in, out;
    bool finished;                  /* result reported; closing */
    char why[96];                   /* what failed */
};

struct net_health_ops {
    const char *name;
    /* Connected: start the exchange (queue bytes in pr->out). Return 1 when
     * the connect alone proves health, 0 to wait for data, -1 failed. */
    int (*connected)(struct net_probe *pr, const struct net_pool_conf *c);
    /* Bytes arrived in pr->in: 1 healthy, 0 need more, -1 failed (set pr->why). */
    int (*data)(struct net_probe *pr, const struct net_pool_conf *c);
};

/* One row per kind of check: id, ops symbol (one file each). Room for more
 * kinds that know nothing of HTTP: a RESP PING, a PostgreSQL startup. */
#define NET_HEALTH_KINDS(X) \
    X(HTTP, net_health_http) \
    X(TCP,  net_health_tcp) \
    X(RESP, net_health_resp)

enum net_health_id {
#define NET_X_ID(id, sym) NET_HEALTH_##id,
    NET_HEALTH_KINDS(NET_X_ID)
#undef NET_X_ID
    NET_HEALTH__COUNT
};

#define NET_X_DECL(id, sym) extern const struct net_health_ops sym;
NET_HEALTH_KINDS(NET_X_DECL)
#undef NET_X_DECL

extern const struct net_health_ops *const net_health_kinds[NET_HEALTH__COUNT];
extern const int net_health_nkinds;

/* Index of a kind by name, -1 if unknown. */
int net_health_find(const char *name);

/* Start (or restart after a config change) the checks of p; stops them when
 * its pool has no `health`. Main loop only. */
void net_health_start(uv_loop_t *loop, struct net_peer *p);
/* For a peer not yet in its pool: when the pool has active checks, it starts
 * down and takes traffic only once its first probe passed (a backend added
 * at run time may still be booting). */
void net_health_new_peer(struct net_peer *p);
/* Stop p's checks (peer removed, shutdown); p is checked no more. */
void net_health_stop(struct net_peer *p);

#endif
