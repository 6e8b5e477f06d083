/*
 * health_tcp.c — TCP check: a completed connect is healthy.
 */
#include "net/health.h"

static int tcp_connected(struct net_probe *pr, const struct net_pool_conf *c)
{
    (void)pr, (void)c;
    return 1;
}

static int tcp_data(struct net_probe *pr, const struct net_pool_conf *c)
{
    (void)pr, (void)c;
    return 1;
}

const struct net_health_ops net_health_tcp = {"tcp", tcp_connected, tcp_data};
