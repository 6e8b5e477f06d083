/*
 * health.h — active health checks: every `health-interval` worker 0 probes
 * each backend of a pool that has `health` set, with one kind of check per
 * file behind struct lb_health_ops (health_http.c: GET PATH expecting a
 * status; health_tcp.c: a connect). `health-rise` consecutive good probes
 * bring a down backend up, `health-fall` consecutive failures take it down;
 * the very first probe decides at once. A probe that takes longer than
 * `health-timeout` failed.
 *
 * Passive checks (errors of real traffic) are in peer.c; both must agree for
 * a peer to take traffic.
 *
 * Everything here runs on worker 0's loop (the main thread).
 */
#ifndef SCALEOUT_LB_HEALTH_H
#define SCALEOUT_LB_HEALTH_H

#include <stdbool.h>
#include <uv.h>

#include "core/buf.h"
#include "lb/peer.h"

/* One probe in progress: a connection to the peer. */
struct lb_probe {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    struct lb_peer *peer;           /* a reference */
    struct buf in, out;
    bool finished;                  /* result reported; closing */
    char why[96];                   /* what failed */
};

struct lb_health_ops {
    const char *name;
    /* Connected: start the exchange (queue bytes in pr->out). Return 1 when
     * the connect alone proves health, 0 to wait for data, -1 failed. */
    int (*connected)(struct lb_probe *pr, const struct lb_pool_conf *c);
    /* Bytes arrived in pr->in: 1 healthy, 0 need more, -1 failed (set pr->why). */
    int (*data)(struct lb_probe *pr, const struct lb_pool_conf *c);
};

extern const struct lb_health_ops lb_health_http, lb_health_tcp;
extern const struct lb_health_ops *const lb_health_kinds[];
extern const int lb_health_nkinds;

/* Index of a kind by name, -1 if unknown. */
int lb_health_find(const char *name);

/* Start (or restart after a config change) the checks of p; stops them when
 * its pool has no `health`. Main loop only. */
void lb_health_start(uv_loop_t *loop, struct lb_peer *p);
/* For a peer not yet in its pool: when the pool has active checks, it starts
 * down and takes traffic only once its first probe passed (a backend added
 * at run time may still be booting). */
void lb_health_new_peer(struct lb_peer *p);
/* Stop p's checks (peer removed, shutdown); p is checked no more. */
void lb_health_stop(struct lb_peer *p);

#endif
