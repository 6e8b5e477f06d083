/*
 * health_tcp.c — TCP check: a completed connect is healthy.
 */
#include "lb/health.h"

static int tcp_connected(struct lb_probe *pr, const struct lb_pool_conf *c)
{
    (void)pr, (void)c;
    return 1;
}

static int tcp_data(struct lb_probe *pr, const struct lb_pool_conf *c)
{
    (void)pr, (void)c;
    return 1;
}

const struct lb_health_ops lb_health_tcp = {"tcp", tcp_connected, tcp_data};
