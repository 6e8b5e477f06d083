/*
 * health_resp.c — RESP check: PING, healthy on +PONG (a kv, Redis, or a
 * router in front of them). An error reply (-LOADING, -NOAUTH...) or
 * anything that is not RESP fails the check.
 */
#include <stdio.h>
#include <string.h>

#include "net/health.h"
#include "proto/reply.h"

static int resp_connected(struct net_probe *pr, const struct net_pool_conf *c)
{
    (void)c;
    buf_puts(&pr->out, "*1\r\n$4\r\nPING\r\n");
    return 0;
}

static int resp_data(struct net_probe *pr, const struct net_pool_conf *c)
{
    (void)c;
    struct resp_reply r;
    resp_reply_init(&r);
    ssize_t n = resp_reply_parse(&r, buf_head(&pr->in), buf_pending(&pr->in));
    if (n == RESP_REPLY_INCOMPLETE) {
        if (buf_pending(&pr->in) > 4096) {
            snprintf(pr->why, sizeof pr->why, "answer too large for a PONG");
            return -1;
        }
        return 0;
    }
    if (n < 0) {
        snprintf(pr->why, sizeof pr->why, "not RESP");
        return -1;
    }
    if (r.is_error) {
        snprintf(pr->why, sizeof pr->why, "%.*s", (int)(r.err_len > 80 ? 80 : r.err_len), r.err);
        return -1;
    }
    if (n == 7 && memcmp(buf_head(&pr->in), "+PONG\r\n", 7) == 0)
        return 1;
    snprintf(pr->why, sizeof pr->why, "no PONG");
    return -1;
}

const struct net_health_ops net_health_resp = {"resp", resp_connected, resp_data};
