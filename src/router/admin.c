/*
 * admin.c — the router's admin endpoint (net/admin serves the connections):
 *
 *   GET    /metrics                          Prometheus text, scaleout_router_*
 *   GET    /status                           JSON: pools, distributions, shards, health
 *   POST   /shards?pool=P&addr=H:P[&weight=N][&name=S][&replica=H:P][&range=LO]   add (201)
 *   POST   /shards/S/weight?value=N          change a weight (the distribution is rebuilt)
 *   POST   /shards/S/primary?addr=H:P        manual failover: H:P is S's primary from now on
 *                                            (same name: no key moves; H:P = its replica: promoted)
 *   DELETE /shards/S                         remove (the distribution is rebuilt)
 *
 * S is a shard's name or address. Changes need `Authorization: Bearer TOKEN`
 * (admin-token); without a token configured they are refused (403).
 *
 * Changes move data: after a shard joins, leaves or changes weight, the keys
 * whose owner changed move in the background (reshard.c; not in auto-eject or
 * directory pools); progress in /status and /metrics. While one resharding
 * runs, further changes are refused (409).
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/util.h"
#include "net/admin.h"
#include "net/health.h"
#include "router/proxy.h"

static uint64_t peer_sum(const struct net_peer *p, size_t off)
{
    uint64_t t = 0;
    for (int i = 0; i < p->nlocal; i++)
        t += net_read((const uint64_t *)(const void *)((const char *)&p->local[i] + off));
    return t;
}
#define PSUM(p, f) peer_sum(p, offsetof(struct net_peer_local, f))

static uint64_t worker_sum(const struct rt_server *s, size_t off)
{
    uint64_t t = 0;
    for (int i = 0; i < s->nworkers; i++)
        t += net_read((const uint64_t *)(const void *)((const char *)&s->workers[i] + off));
    return t;
}
#define WSUM(s, f) worker_sum(s, offsetof(struct rt_worker, f))

static const char *state_of(const struct net_peer *p, long long now)
{
    if (atomic_load(&p->admin) == NET_PEER_REMOVED)
        return "removed";
    if (!atomic_load(&p->check_up))
        return "down";
    if (atomic_load(&p->ejected_until))
        return "ejected";
    (void)now;
    return "up";
}

static void metrics(struct rt_server *s, struct buf *b)
{
    int nc = 0;
    for (int i = 0; i < s->nworkers; i++)
        nc += atomic_load(&s->workers[i].nclients);
    buf_printf(b, "# TYPE scaleout_router_clients gauge\nscaleout_router_clients %d\n", nc);
    static const struct {
        const char *name, *help;
        size_t off;
    } ctr[] = {
        {"commands_total", "commands received", offsetof(struct rt_worker, commands)},
        {"errors_total", "error replies made by the router", offsetof(struct rt_worker, errors)},
        {"split_total", "multi-key commands split over shards", offsetof(struct rt_worker, splits)},
        {"fanout_total", "commands sent to every shard", offsetof(struct rt_worker, fanouts)},
        {"refused_total", "commands refused (unknown, cross-shard, unsupported)", offsetof(struct rt_worker, refused)},
        {"local_total", "commands answered by the router", offsetof(struct rt_worker, local)},
        {"transactions_total", "MULTI blocks executed or discarded at EXEC", offsetof(struct rt_worker, multis)},
        {"connections_total", "client connections accepted", offsetof(struct rt_worker, clients_total)},
        {"rejected_total", "clients refused over maxclients", offsetof(struct rt_worker, rejected)},
        {"unavailable_total", "commands refused because their shard was down", offsetof(struct rt_worker, unavailable)},
        {"server_errors_total", "shard connections that failed", offsetof(struct rt_worker, server_errors)},
        {"timeouts_total", "shard connects or replies that timed out", offsetof(struct rt_worker, timeouts)},
    };
    for (size_t i = 0; i < sizeof ctr / sizeof ctr[0]; i++)
        buf_printf(b, "# HELP scaleout_router_%s %s\n# TYPE scaleout_router_%s counter\nscaleout_router_%s %llu\n",
                   ctr[i].name, ctr[i].help, ctr[i].name, ctr[i].name,
                   (unsigned long long)worker_sum(s, ctr[i].off));
    const struct rt_reshard *rs = &s->rs;
    buf_printf(b,
               "# HELP scaleout_router_reshard_state online resharding: 0 idle, 1 waiting for older commands, 2 moving, "
               "3 retrying, 4 done\n# TYPE scaleout_router_reshard_state gauge\nscaleout_router_reshard_state %d\n",
               atomic_load(&rs->state));
    static const char *const rsn[] = {"scanned", "moved", "failed", "parked"};
    const _Atomic uint64_t *rsv[] = {&rs->scanned, &rs->moved, &rs->failed, &rs->parked};
    for (int i = 0; i < 4; i++)
        buf_printf(b, "# TYPE scaleout_router_reshard_keys_%s_total counter\nscaleout_router_reshard_keys_%s_total %llu\n",
                   rsn[i], rsn[i], (unsigned long long)atomic_load(rsv[i]));
    buf_printf(b, "# TYPE scaleout_router_reshard_runs_total counter\nscaleout_router_reshard_runs_total %llu\n",
               (unsigned long long)atomic_load(&rs->runs));
    long long now = net_mono_ms();
    buf_puts(b, "# TYPE scaleout_router_shard_up gauge\n# TYPE scaleout_router_shard_requests_total counter\n"
                "# TYPE scaleout_router_shard_errors_total counter\n# TYPE scaleout_router_shard_weight gauge\n"
                "# TYPE scaleout_router_shard_replica_reads_total counter\n");
    int n = atomic_load(&s->nshards);
    for (int i = 0; i < n; i++) {
        struct rt_shard *sh = atomic_load(&s->shards[i]);
        if (!sh || atomic_load(&sh->removed))
            continue;
        const char *pool = sh->pool->conf->name;
        buf_printf(b, "scaleout_router_shard_up{pool=\"%s\",shard=\"%s\"} %d\n", pool, sh->name,
                   net_peer_usable(sh->peer, now) ? 1 : 0);
        buf_printf(b, "scaleout_router_shard_requests_total{pool=\"%s\",shard=\"%s\"} %llu\n", pool, sh->name,
                   (unsigned long long)PSUM(sh->peer, requests));
        buf_printf(b, "scaleout_router_shard_errors_total{pool=\"%s\",shard=\"%s\"} %llu\n", pool, sh->name,
                   (unsigned long long)PSUM(sh->peer, errors));
        buf_printf(b, "scaleout_router_shard_weight{pool=\"%s\",shard=\"%s\"} %d\n", pool, sh->name,
                   atomic_load(&sh->peer->weight));
        buf_printf(b, "scaleout_router_shard_replica_reads_total{pool=\"%s\",shard=\"%s\"} %llu\n", pool, sh->name,
                   (unsigned long long)atomic_load(&sh->replica_reads));
    }
}

static void status(struct rt_server *s, struct buf *b)
{
    long long now = net_mono_ms();
    int nc = 0;
    for (int i = 0; i < s->nworkers; i++)
        nc += atomic_load(&s->workers[i].nclients);
    buf_printf(b, "{\"role\":\"router\",\"listen\":");
    admin_json_str(b, s->cfg.listen);
    buf_printf(b, ",\"port\":%d,\"threads\":%d,\"clients\":%d,\"uptime_ms\":%lld,\"commands\":%llu,\"pools\":[",
               s->port, s->nworkers, nc, util_time_ms() - s->start_ms, (unsigned long long)WSUM(s, commands));
    static const char *const rp[] = {"never", "prefer", "when-primary-down"};
    for (int i = 0; i < s->npools; i++) {
        struct rt_pool *p = &s->pools[i];
        const struct rt_pool_conf *c = p->conf;
        buf_printf(b, "%s{\"name\":", i ? "," : "");
        admin_json_str(b, c->name);
        buf_printf(b, ",\"distribution\":\"%s\",\"hash\":\"%s\",\"ketama_compat\":\"%s\",\"hash_tag\":",
                   rt_dists[c->dist]->name, rt_hash_fns[c->hash].name, c->twemproxy ? "twemproxy" : "native");
        admin_json_str(b, c->hash_tag);
        buf_printf(b, ",\"auto_eject\":%s,\"read_replicas\":\"%s\",\"in_distribution\":%d,\"prefixes\":[",
                   c->auto_eject ? "true" : "false", rp[c->read_policy], p->nlive);
        for (int j = 0; j < c->nprefixes; j++) {
            if (j)
                buf_putc(b, ',');
            admin_json_str(b, c->prefixes[j]);
        }
        buf_puts(b, "]");
        if (c->dist == RT_DIST_DIRECTORY) {
            struct rt_dist *d = atomic_load(&p->dist);
            buf_printf(b, ",\"directory\":{\"entries\":%lld,\"fetches\":%lld,\"errors\":%lld}",
                       d ? rt_dir_entries(d) : 0, atomic_load(&p->dir_fetches), atomic_load(&p->dir_errors));
        }
        buf_puts(b, ",\"shards\":[");
        for (int j = 0; j < p->nmembers; j++) {
            struct rt_shard *sh = atomic_load(&s->shards[p->members[j]]);
            buf_printf(b, "%s{\"name\":", j ? "," : "");
            admin_json_str(b, sh->name);
            buf_printf(b, ",\"addr\":\"%s\",\"weight\":%d,\"state\":\"%s\",\"last_check\":", sh->peer->addr,
                       atomic_load(&sh->peer->weight), state_of(sh->peer, now));
            admin_json_str(b, sh->peer->last_check);
            buf_printf(b, ",\"requests\":%llu,\"errors\":%llu,\"connects\":%llu", (unsigned long long)PSUM(sh->peer, requests),
                       (unsigned long long)PSUM(sh->peer, errors), (unsigned long long)PSUM(sh->peer, connects));
            if (sh->master) {
                buf_puts(b, ",\"sentinel_master\":");
                admin_json_str(b, sh->master);
            }
            if (sh->range_lo) {
                buf_puts(b, ",\"range\":");
                admin_json_str(b, sh->range_lo);
            }
            if (sh->replica)
                buf_printf(b, ",\"replica\":{\"addr\":\"%s\",\"state\":\"%s\",\"reads\":%llu}", sh->replica->addr,
                           state_of(sh->replica, now), (unsigned long long)atomic_load(&sh->replica_reads));
            buf_putc(b, '}');
        }
        buf_puts(b, "]}");
    }
    const struct rt_reshard *rs = &s->rs;
    buf_printf(b,
               "],\"reshard\":{\"state\":\"%s\",\"keys_scanned\":%llu,\"keys_moved\":%llu,\"keys_failed\":%llu,"
               "\"commands_parked\":%llu,\"runs\":%llu,\"batch\":%lld,\"pause_ms\":%lld}}\n",
               rt_reshard_state_name(atomic_load(&rs->state)),
               (unsigned long long)(atomic_load(&rs->scanned) - atomic_load(&rs->base[0])),
               (unsigned long long)(atomic_load(&rs->moved) - atomic_load(&rs->base[1])),
               (unsigned long long)(atomic_load(&rs->failed) - atomic_load(&rs->base[2])),
               (unsigned long long)(atomic_load(&rs->parked) - atomic_load(&rs->base[3])),
               (unsigned long long)atomic_load(&rs->runs),
               s->cfg.reshard_batch, s->cfg.reshard_pause_ms);
}

/* whether a change in pool p moves keys (online resharding, reshard.c) */
#define MOVES(p) (!(p)->conf->auto_eject && (p)->conf->dist != RT_DIST_DIRECTORY ? "true" : "false")

static void control(struct rt_server *s, const struct admin_req *req, struct admin_resp *resp)
{
    char err[512];
    const char *path = req->path + 7; /* after "/shards" */
    if (req->method == HTTP1_METHOD_POST && (strcmp(req->path, "/shards") == 0 || strcmp(req->path, "/shards/") == 0)) {
        char pool[80] = "default", addr[256], weight[16] = "1", name[210] = "", replica[256] = "", range[256] = "";
        admin_param(req, "pool", pool, sizeof pool);
        if (!admin_param(req, "addr", addr, sizeof addr)) {
            admin_answer_json(resp, 400, "{\"error\":\"addr=HOST:PORT is required\"}\n");
            return;
        }
        admin_param(req, "weight", weight, sizeof weight);
        admin_param(req, "name", name, sizeof name);
        admin_param(req, "replica", replica, sizeof replica);
        admin_param(req, "range", range, sizeof range);
        struct rt_pool *p = s->ops->find_pool(s, pool);
        if (!p) {
            admin_answer_json(resp, 404, "{\"error\":\"no pool named '%s'\"}\n", pool);
            return;
        }
        char *words[10];
        int n = 0;
        words[n++] = addr;
        words[n++] = "weight", words[n++] = weight;
        if (*name)
            words[n++] = "name", words[n++] = name;
        if (*replica)
            words[n++] = "replica", words[n++] = replica;
        if (*range)
            words[n++] = "range", words[n++] = range;
        struct rt_shard_conf sc;
        if (rt_shard_parse(&sc, n, words, err, sizeof err) != 0) {
            admin_answer_json(resp, 400, "{\"error\":\"%s\"}\n", err);
            return;
        }
        struct rt_shard *sh = s->ops->add_shard(s, p, &sc, err, sizeof err);
        rt_shard_conf_deinit(&sc);
        if (!sh) {
            admin_answer_json(resp, 409, "{\"error\":\"%s\"}\n", err);
            return;
        }
        admin_answer_json(resp, 201, "{\"added\":\"%s\",\"pool\":\"%s\",\"moved_data\":%s}\n", sh->name, p->conf->name, MOVES(p));
        return;
    }
    if (*path != '/') {
        admin_answer_json(resp, 404, "{\"error\":\"POST /shards, POST /shards/S/weight, DELETE /shards/S\"}\n");
        return;
    }
    path++;
    char sname[256];
    const char *slash = strchr(path, '/');
    size_t nl = slash ? (size_t)(slash - path) : strlen(path);
    if (nl == 0 || nl >= sizeof sname) {
        admin_answer_json(resp, 404, "{\"error\":\"no shard named\"}\n");
        return;
    }
    memcpy(sname, path, nl);
    sname[nl] = 0;
    struct rt_shard *sh = s->ops->find_shard(s, sname);
    if (!sh) {
        admin_answer_json(resp, 404, "{\"error\":\"no shard named '%s'\"}\n", sname);
        return;
    }
    if (req->method == HTTP1_METHOD_DELETE && !slash) {
        if (s->ops->remove_shard(s, sh, err, sizeof err) != 0) {
            admin_answer_json(resp, 409, "{\"error\":\"%s\"}\n", err);
            return;
        }
        admin_answer_json(resp, 200, "{\"removed\":\"%s\",\"moved_data\":%s}\n", sname, MOVES(sh->pool));
        return;
    }
    if (req->method == HTTP1_METHOD_POST && slash && strcmp(slash, "/weight") == 0) {
        char v[16];
        long long w;
        if (!admin_param(req, "value", v, sizeof v) || !util_str2ll(v, strlen(v), &w) || w < 1 || w > 1000) {
            admin_answer_json(resp, 400, "{\"error\":\"value=N (1..1000) is required\"}\n");
            return;
        }
        if (rt_reshard_busy(s)) {
            admin_answer_json(resp, 409, "{\"error\":\"a resharding is in progress (see /status); try again when it is done\"}\n");
            return;
        }
        net_peer_set_weight(sh->peer, (int)w);
        if (s->ops->change(s, sh->pool, err, sizeof err) != 0) {
            admin_answer_json(resp, 409, "{\"error\":\"%s\"}\n", err);
            return;
        }
        admin_answer_json(resp, 200, "{\"shard\":\"%s\",\"weight\":%lld,\"moved_data\":%s}\n", sname, w, MOVES(sh->pool));
        return;
    }
    if (req->method == HTTP1_METHOD_POST && slash && strcmp(slash, "/primary") == 0) {
        char addr[256];
        if (!admin_param(req, "addr", addr, sizeof addr)) {
            admin_answer_json(resp, 400, "{\"error\":\"addr=HOST:PORT is required\"}\n");
            return;
        }
        if (s->ops->set_primary(s, sh, addr, err, sizeof err) != 0) {
            admin_answer_json(resp, 409, "{\"error\":\"%s\"}\n", err);
            return;
        }
        admin_answer_json(resp, 200, "{\"shard\":\"%s\",\"primary\":\"%s\",\"moved_data\":false}\n", sh->name, addr);
        return;
    }
    admin_answer_json(resp, 405, "{\"error\":\"POST /shards, POST /shards/S/weight, POST /shards/S/primary, DELETE /shards/S\"}\n");
}

static void handler(void *arg, const struct admin_req *req, struct admin_resp *resp)
{
    struct rt_server *s = arg;
    if (req->method == HTTP1_METHOD_GET || req->method == HTTP1_METHOD_HEAD) {
        if (strcmp(req->path, "/metrics") == 0)
            metrics(s, admin_ok_metrics(resp));
        else if (strcmp(req->path, "/status") == 0)
            status(s, admin_ok_json(resp));
        else
            admin_answer_json(resp, 404, "{\"error\":\"try /metrics, /status, or POST/DELETE /shards...\"}\n");
        return;
    }
    if ((req->method == HTTP1_METHOD_POST || req->method == HTTP1_METHOD_DELETE) &&
        strncmp(req->path, "/shards", 7) == 0) {
        if (admin_require_token(req, resp, s->cfg.admin_token))
            control(s, req, resp);
        return;
    }
    admin_answer_json(resp, 405, "{\"error\":\"GET /metrics /status; POST or DELETE /shards...\"}\n");
}

struct admin *rt_admin_open(struct rt_server *s, uv_loop_t *loop, const char *host, int port, char *err,
                            size_t errlen)
{
    struct admin_opts opts = {.max_request = 16 * 1024, .max_body = 4096, .allow_hosts = NULL};
    return admin_open(loop, host, port, &opts, handler, s, err, errlen);
}
