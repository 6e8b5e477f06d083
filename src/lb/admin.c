/*
 * admin.c — the lb's admin endpoint (loopback by default): what net/admin
 * serves (GET /metrics, GET /status) plus the runtime control API the
 * autoscaler uses. net/admin serves the connections (parsing, limits,
 * keep-alive, form bodies); this file is the handler: routes, token, changes.
 *
 *   GET    /metrics                                  Prometheus text
 *   GET    /status   (also /pools)                   JSON: listeners, pools, backends
 *   POST   /pools/P/backends?addr=H:P[&weight=N][&maxconn=N][&name=N]   add (201)
 *   POST   /pools/P/backends/B/drain                 no new requests; in-flight ones finish
 *   POST   /pools/P/backends/B/enable                back in rotation (undo drain)
 *   POST   /pools/P/backends/B/weight?value=N        change the weight
 *   DELETE /pools/P/backends/B                       remove (in-flight requests finish)
 *   POST   /cache/purge?url=/PATH[&host=H]           drop one URL from the edge cache
 *   POST   /cache/purge?prefix=/PATH[&host=H]        drop every URL under a prefix
 *
 * B is a backend's name or address. Changes need `Authorization: Bearer
 * TOKEN` (or `X-Admin-Token: TOKEN`) matching admin-token; with no token
 * configured they are refused (403). Parameters may also come as an
 * application/x-www-form-urlencoded body (at most 4 KiB).
 *
 * Runs on worker 0's loop (the main thread), like the health checks: adding
 * a backend starts its checks here.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/admin.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/util.h"
#include "net/health.h"
#include "lb/cache.h"
#include "lb/lb.h"
#include "net/peer.h"
#include "proto/http1.h"

#define MAX_BODY 4096

struct lb_admin {
    struct lb_server *srv;
    uv_loop_t *loop;
    struct admin *core;
};

static struct net_pool *find_pool(struct lb_server *s, const char *name)
{
    for (int i = 0; i < s->npools; i++)
        if (!s->pools[i]->removed && strcmp(s->pools[i]->name, name) == 0)
            return s->pools[i];
    return NULL;
}


/* POST /pools/P/backends?addr=H:P[&weight=N][&maxconn=N][&name=N]: add a
 * backend (201), its health checks started on this loop. */
static void add_backend(struct lb_admin *ctx, const struct admin_req *req, struct admin_resp *c, struct net_pool *pool)
{
    struct lb_server *s = ctx->srv;
    char addr[256], weight[32], maxconn[32], name[128];
    if (!admin_param(req, "addr", addr, sizeof addr)) {
        admin_answer_json(c, 400, "{\"error\":\"addr=HOST:PORT is required\"}\n");
        return;
    }
    char *argv[7];
    int argc = 0;
    argv[argc++] = addr;
    if (admin_param(req, "weight", weight, sizeof weight)) {
        argv[argc++] = "weight";
        argv[argc++] = weight;
    }
    if (admin_param(req, "maxconn", maxconn, sizeof maxconn)) {
        argv[argc++] = "maxconn";
        argv[argc++] = maxconn;
    }
    if (admin_param(req, "name", name, sizeof name)) {
        argv[argc++] = "name";
        argv[argc++] = name;
    }
    struct net_backend_conf b;
    char err[256];
    if (lb_backend_parse(&b, argc, argv, err, sizeof err) != 0) {
        admin_answer_json(c, 400, "{\"error\":\"%s\"}\n", err);
        return;
    }
    struct net_peer *dup = net_pool_find(pool, b.name);
    if (dup) {
        net_peer_unref(dup);
        admin_answer_json(c, 409, "{\"error\":\"backend %s is already in pool %s\"}\n", b.name, pool->name);
        lb_backend_conf_deinit(&b);
        return;
    }
    const struct lb_pool_conf *pc = lb_pool_conf_of(pool);
    struct net_peer *p = net_peer_new(pool, &b, s->nworkers);
    atomic_store(&p->maxconn, b.maxconn ? b.maxconn : pc->maxconn);
    net_health_new_peer(p);
    net_peer_ref(p);
    net_pool_add(pool, p);
    net_health_start(ctx->loop, p);
    log_notice("admin: pool %s: backend %s added (weight %lld)", pool->name, p->name, b.weight);
    admin_answer_json(c, 201, "{\"pool\":\"%s\",\"backend\":\"%s\",\"address\":\"%s\",\"weight\":%lld,\"state\":\"%s\"}\n",
                      pool->name, p->name, p->addr, b.weight, atomic_load(&p->check_up) ? "up" : "down");
    net_peer_unref(p);
    lb_backend_conf_deinit(&b);
}

/* POST .../drain|enable|weight or DELETE on backend p of pool. */
static void backend_action(const struct admin_req *req, struct admin_resp *c, struct net_pool *pool,
                           struct net_peer *p, const char *action)
{
    enum http1_method m = req->method;
    if (!action[0] && m == HTTP1_METHOD_DELETE) {
        net_health_stop(p);
        net_pool_remove(pool, p);
        log_notice("admin: pool %s: backend %s removed (%d requests in flight finish)", pool->name, p->name,
                   atomic_load(&p->active));
        admin_answer_json(c, 200, "{\"pool\":\"%s\",\"backend\":\"%s\",\"state\":\"removed\",\"active\":%d}\n", pool->name,
                          p->name, atomic_load(&p->active));
    } else if (m != HTTP1_METHOD_POST) {
        admin_answer_json(c, 405, "{\"error\":\"POST .../drain|enable|weight, or DELETE the backend\"}\n");
    } else if (strcmp(action, "drain") == 0) {
        net_peer_set_admin(p, NET_PEER_DRAIN);
        log_notice("admin: pool %s: backend %s draining", pool->name, p->name);
        admin_answer_json(c, 200, "{\"pool\":\"%s\",\"backend\":\"%s\",\"state\":\"draining\",\"active\":%d}\n", pool->name,
                          p->name, atomic_load(&p->active));
    } else if (strcmp(action, "enable") == 0) {
        net_peer_set_admin(p, NET_PEER_READY);
        log_notice("admin: pool %s: backend %s enabled", pool->name, p->name);
        admin_answer_json(c, 200, "{\"pool\":\"%s\",\"backend\":\"%s\",\"state\":\"ready\"}\n", pool->name, p->name);
    } else if (strcmp(action, "weight") == 0) {
        char v[32];
        long long wt;
        if (!admin_param(req, "value", v, sizeof v) || !util_str2ll(v, strlen(v), &wt) || wt < 1 || wt > 1000) {
            admin_answer_json(c, 400, "{\"error\":\"value=1..1000 is required\"}\n");
        } else {
            net_peer_set_weight(p, (int)wt);
            admin_answer_json(c, 200, "{\"pool\":\"%s\",\"backend\":\"%s\",\"weight\":%lld}\n", pool->name, p->name, wt);
        }
    } else {
        admin_answer_json(c, 404, "{\"error\":\"unknown action '%s' (drain, enable, weight)\"}\n", action);
    }
}

/* POST/DELETE under /pools/. path: after "/pools/". */
static void control(struct lb_admin *ctx, const struct admin_req *req, struct admin_resp *c, const char *path)
{
    struct lb_server *s = ctx->srv;
    char pname[128], rest[512];
    const char *slash = strchr(path, '/');
    if (!slash || (size_t)(slash - path) >= sizeof pname) {
        admin_answer_json(c, 404, "{\"error\":\"use /pools/POOL/backends[/BACKEND[/ACTION]]\"}\n");
        return;
    }
    memcpy(pname, path, (size_t)(slash - path));
    pname[slash - path] = '\0';
    snprintf(rest, sizeof rest, "%s", slash + 1);
    struct net_pool *pool = find_pool(s, pname);
    if (!pool) {
        admin_answer_json(c, 404, "{\"error\":\"no pool named %s\"}\n", pname);
        return;
    }
    if (strcmp(rest, "backends") == 0 || strcmp(rest, "backends/") == 0) {
        if (req->method != HTTP1_METHOD_POST)
            admin_answer_json(c, 405, "{\"error\":\"POST to add a backend\"}\n");
        else
            add_backend(ctx, req, c, pool);
        return;
    }
    if (strncmp(rest, "backends/", 9) != 0) {
        admin_answer_json(c, 404, "{\"error\":\"use /pools/%s/backends[/BACKEND[/ACTION]]\"}\n", pool->name);
        return;
    }
    char bname[256], action[32] = "";
    const char *b = rest + 9;
    const char *as = strchr(b, '/');
    size_t bl = as ? (size_t)(as - b) : strlen(b);
    if (!admin_pct_decode(b, bl, bname, sizeof bname) || !bname[0]) {
        admin_answer_json(c, 404, "{\"error\":\"backend name missing\"}\n");
        return;
    }
    if (as)
        snprintf(action, sizeof action, "%s", as + 1);
    struct net_peer *p = net_pool_find(pool, bname);
    if (!p) {
        admin_answer_json(c, 404, "{\"error\":\"no backend %s in pool %s\"}\n", bname, pool->name);
        return;
    }
    backend_action(req, c, pool, p, action);
    net_peer_unref(p);
}

/* POST /cache/purge?url=/PATH[&host=H]  or  ?prefix=/PATH[&host=H]; a full
 * url=http://H/PATH names the host too. */
static void cache_purge(struct lb_server *s, const struct admin_req *req, struct admin_resp *c)
{
    if (strcmp(req->path, "/cache/purge") != 0) {
        admin_answer_json(c, 404, "{\"error\":\"use POST /cache/purge?url=/PATH or ?prefix=/PATH [&host=H]\"}\n");
        return;
    }
    if (!lb_cache_enabled(s->cache)) {
        admin_answer_json(c, 409, "{\"error\":\"the cache is off (cache SIZE)\"}\n");
        return;
    }
    char url[2048], host[256] = "";
    bool prefix = false;
    if (admin_param(req, "prefix", url, sizeof url)) {
        prefix = true;
    } else if (!admin_param(req, "url", url, sizeof url)) {
        admin_answer_json(c, 400, "{\"error\":\"url=/PATH or prefix=/PATH is required\"}\n");
        return;
    }
    admin_param(req, "host", host, sizeof host);
    const char *path = url;
    if (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0) {
        const char *a = url + (url[4] == ':' ? 7 : 8);
        const char *sl = strchr(a, '/');
        size_t hl = sl ? (size_t)(sl - a) : strlen(a);
        if (hl >= sizeof host) {
            admin_answer_json(c, 400, "{\"error\":\"host too long\"}\n");
            return;
        }
        memcpy(host, a, hl);
        host[hl] = '\0';
        path = sl ? sl : "/";
    }
    if (path[0] != '/') {
        admin_answer_json(c, 400, "{\"error\":\"the path starts with /\"}\n");
        return;
    }
    long long n = lb_cache_purge(s->cache, host[0] ? host : NULL, path, prefix);
    log_notice("admin: cache purge %s%s%s: %lld objects", prefix ? "prefix " : "", host, path, n);
    admin_answer_json(c, 200, "{\"purged\":%lld}\n", n);
}

static void handler(void *arg, const struct admin_req *req, struct admin_resp *resp)
{
    struct lb_admin *ctx = arg;
    struct lb_server *s = ctx->srv;
    enum http1_method m = req->method;
    if (m == HTTP1_METHOD_GET || m == HTTP1_METHOD_HEAD) {
        if (strcmp(req->path, "/metrics") == 0)
            lb_metrics(s, admin_ok_metrics(resp));
        else if (strcmp(req->path, "/status") == 0 || strcmp(req->path, "/pools") == 0)
            lb_status_json(s, admin_ok_json(resp));
        else
            admin_answer_json(resp, 404, "{\"error\":\"try /metrics, /status, or POST/DELETE /pools/POOL/backends...\"}\n");
    } else if ((m == HTTP1_METHOD_POST || m == HTTP1_METHOD_DELETE) && strncmp(req->path, "/pools/", 7) == 0) {
        if (admin_require_token(req, resp, s->cfg.admin_token))
            control(ctx, req, resp, req->path + 7);
    } else if ((m == HTTP1_METHOD_POST || m == HTTP1_METHOD_DELETE) && strncmp(req->path, "/cache/", 7) == 0) {
        if (admin_require_token(req, resp, s->cfg.admin_token))
            cache_purge(s, req, resp);
    } else {
        admin_answer_json(resp, 405, "{\"error\":\"GET /metrics /status; POST or DELETE /pools/...\"}\n");
    }
}

void *lb_admin_open(struct lb_server *s, uv_loop_t *loop, const char *host, int port, char *err, size_t errlen)
{
    struct lb_admin *ctx = xcalloc(1, sizeof *ctx);
    ctx->srv = s;
    ctx->loop = loop;
    struct admin_opts opts = {.max_request = 16 * 1024, .max_body = MAX_BODY, .allow_hosts = s->cfg.admin_allow_host};
    ctx->core = admin_open(loop, host, port, &opts, handler, ctx, err, errlen);
    if (!ctx->core) {
        xfree(ctx);
        return NULL;
    }
    return ctx;
}

/* net/admin frees its own state once its connections are closed; the context
 * holds no handles, so it goes now (the handler is not called after close). */
void lb_admin_close(void *p)
{
    struct lb_admin *ctx = p;
    admin_close(ctx->core);
    xfree(ctx);
}

int lb_admin_port(const void *p) { return admin_port(((const struct lb_admin *)p)->core); }
