/*
 * health_http.c — HTTP check: GET PATH, healthy when the status is the
 * expected one (health ... expect STATUS) or any 2xx/3xx.
 */
#include <stdio.h>

#include "net/health.h"
#include "proto/http1.h"

#define MAX_ANSWER_HEAD 16384

static int http_connected(struct net_probe *pr, const struct net_pool_conf *c)
{
    buf_printf(&pr->out,
               "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: scaleout-lb-health\r\nConnection: close\r\n\r\n",
               c->health_path ? c->health_path : "/", pr->peer->addr);
    return 0;
}

static int http_data(struct net_probe *pr, const struct net_pool_conf *c)
{
    struct http1_header h[64];
    struct http1_response res;
    http1_response_init(&res, h, 64);
    int n = http1_parse_response(buf_head(&pr->in), buf_pending(&pr->in), &res, NULL, false);
    if (n == HTTP1_INCOMPLETE) {
        if (buf_pending(&pr->in) > MAX_ANSWER_HEAD) {
            snprintf(pr->why, sizeof pr->why, "answer head too large");
            return -1;
        }
        return 0;
    }
    if (n < 0) {
        snprintf(pr->why, sizeof pr->why, "bad answer: %s", http1_strerror(n));
        return -1;
    }
    bool ok = c->health_expect ? res.status == c->health_expect : (res.status >= 200 && res.status < 400);
    if (!ok)
        snprintf(pr->why, sizeof pr->why, "status %d", res.status);
    return ok ? 1 : -1;
}

const struct net_health_ops net_health_http = {"http", http_connected, http_data};
