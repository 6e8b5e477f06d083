/*
 * server.c — the pg process: configuration, backends, the listening socket,
 * the cron (timeouts), the admin endpoint (/metrics, /status), signals and
 * shutdown. SIGTERM/SIGINT drain: no new clients, clients outside a
 * transaction are closed at once, the others when their transaction ends or
 * at shutdown-timeout; then the server connections are closed and the
 * process exits 0.
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/admin.h"
#include "net/balance.h"
#include "net/server.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/net.h"
#include "core/util.h"
#include "pg/pg.h"
#include "pg/tls.h"

#define CRON_MS 100

static long long now_ms(void) { return util_mono_us() / 1000; }

/* "host:port", or "/dir:port": PostgreSQL's Unix-domain socket dir/.s.PGSQL.port
 * (libpq's host=/dir port=N), for a server on this machine: no TCP stack on
 * that side, about a fifth less CPU per transaction. */
static int resolve(const char *hostport, struct sockaddr_storage *out, char *err, size_t errlen)
{
    if (hostport[0] != '/')
        return net_resolve_hostport(hostport, "host:port", out, NULL, err, errlen);
    char dir[sizeof ((struct sockaddr_un *)0)->sun_path];
    int port;
    struct sockaddr_un *un = (struct sockaddr_un *)(void *)out;
    memset(out, 0, sizeof *out);
    un->sun_family = AF_UNIX;
    if (!net_split_hostport(hostport, dir, sizeof dir, &port) || port <= 0 || port > 65535 ||
        (size_t)snprintf(un->sun_path, sizeof un->sun_path, "%s/.s.PGSQL.%d", dir, port) >= sizeof un->sun_path) {
        snprintf(err, errlen, "'%s' is not host:port or /socket-dir:port (a path of at most %zu bytes)", hostport,
                 sizeof un->sun_path - 1);
        return -1;
    }
    return 0;
}

/* ---- admin ---------------------------------------------------------------------- */

static void count_servers(struct pg_proxy *px, int bi, int *idle, int *active, int *connecting, int *waiting)
{
    *idle = *active = *connecting = *waiting = 0;
    for (struct pg_list *l = px->pools.next; l != &px->pools; l = l->next) {
        struct pg_pool *p = pg_container_of(l, struct pg_pool, link);
        *idle += p->t[bi].nidle;
        *active += p->t[bi].nactive;
        *connecting += p->t[bi].nconnecting;
        for (struct pg_list *w = p->t[bi].waiters.next; w != &p->t[bi].waiters; w = w->next)
            (*waiting)++;
    }
}

static void metrics(struct pg_proxy *px, struct buf *b)
{
#define PG_STAT_OUT(name, help)                                                                  \
    buf_printf(b, "# HELP scaleout_pg_" #name "_total " help "\n# TYPE scaleout_pg_" #name "_total counter\n" \
                  "scaleout_pg_" #name "_total %llu\n", px->stats.name);
    PG_STATS(PG_STAT_OUT)
#undef PG_STAT_OUT
    buf_printf(b, "# HELP scaleout_pg_clients client connections open\n# TYPE scaleout_pg_clients gauge\n"
                  "scaleout_pg_clients %d\n", px->nclients);
    buf_printf(b, "# HELP scaleout_pg_servers server connections by backend and state\n# TYPE scaleout_pg_servers gauge\n");
    for (int bi = 0; bi < px->nbackends; bi++) {
        int idle, active, connecting, waiting;
        count_servers(px, bi, &idle, &active, &connecting, &waiting);
        const char *role = bi == px->primary ? "primary" : px->backends[bi].dead ? "fenced" : px->backends[bi].shard ? "shard" : "replica";
        buf_printf(b, "scaleout_pg_servers{backend=\"%s\",role=\"%s\",state=\"idle\"} %d\n", px->backends[bi].name, role, idle);
        buf_printf(b, "scaleout_pg_servers{backend=\"%s\",role=\"%s\",state=\"active\"} %d\n", px->backends[bi].name, role,
                   active);
        buf_printf(b, "scaleout_pg_servers{backend=\"%s\",role=\"%s\",state=\"connecting\"} %d\n", px->backends[bi].name,
                   role, connecting);
        buf_printf(b, "scaleout_pg_clients_waiting{backend=\"%s\"} %d\n", px->backends[bi].name, waiting);
        buf_printf(b, "scaleout_pg_backend_queries_total{backend=\"%s\",role=\"%s\"} %llu\n", px->backends[bi].name, role,
                   px->backends[bi].queries);
        if (bi != px->primary)
            buf_printf(b, "scaleout_pg_replica_lag_ms{backend=\"%s\"} %lld\n", px->backends[bi].name,
                       px->backends[bi].lag_ms);
    }
    buf_printf(b, "scaleout_pg_memory_bytes %zu\n", xalloc_used());
}

static void status(struct pg_proxy *px, struct buf *b)
{
    buf_printf(b, "{\"role\":\"pg\",\"pid\":%d,\"pool_mode\":\"%s\",\"clients\":%d,\"servers\":%d,\"draining\":%s,\"backends\":[",
               (int)getpid(), px->cfg.pool_mode == PG_POOL_SESSION ? "session" : "transaction", px->nclients, px->nservers,
               px->draining ? "true" : "false");
    long long now = now_ms();
    for (int bi = 0; bi < px->nbackends; bi++) {
        int idle, active, connecting, waiting;
        count_servers(px, bi, &idle, &active, &connecting, &waiting);
        buf_printf(b,
                   "%s{\"address\":\"%s\",\"role\":\"%s\",\"up\":%s,\"lagging\":%s,\"lag_ms\":%lld,\"idle\":%d,"
                   "\"active\":%d,\"connecting\":%d,\"waiting\":%d,\"queries\":%llu,\"connects\":%llu,"
                   "\"connect_failures\":%llu,\"replay_lsn\":%llu,\"in_recovery\":%s,\"repoint_pending\":%s}",
                   bi ? "," : "", px->backends[bi].name,
                   bi == px->primary         ? "primary"
                   : px->backends[bi].dead   ? "fenced"
                   : px->backends[bi].shard  ? "shard"
                                             : "replica",
                   px->backends[bi].down_until_ms > now ? "false" : "true", px->backends[bi].lagging ? "true" : "false",
                   px->backends[bi].lag_ms, idle, active, connecting, waiting, px->backends[bi].queries,
                   px->backends[bi].connects, px->backends[bi].connect_failures,
                   (unsigned long long)px->backends[bi].replay_lsn,
                   px->backends[bi].in_recovery < 0 ? "null" : px->backends[bi].in_recovery ? "true" : "false",
                   px->backends[bi].repoint ? "true" : "false");
    }
    buf_printf(b, "],\"primary_lsn\":%llu,\"lsn_samples\":%u,\"pools\":[", (unsigned long long)px->primary_lsn,
               px->lsn_known);
    bool first = true;
    for (struct pg_list *l = px->pools.next; l != &px->pools; l = l->next) {
        struct pg_pool *p = pg_container_of(l, struct pg_pool, link);
        buf_printf(b, "%s{\"user\":\"", first ? "" : ",");
        for (const char *s = p->user; *s; s++)
            buf_printf(b, *s == '"' || *s == '\\' ? "\\%c" : (unsigned char)*s < 0x20 ? "?" : "%c", *s);
        buf_puts(b, "\",\"database\":\"");
        for (const char *s = p->database; *s; s++)
            buf_printf(b, *s == '"' || *s == '\\' ? "\\%c" : (unsigned char)*s < 0x20 ? "?" : "%c", *s);
        buf_puts(b, "\"}");
        first = false;
    }
    buf_puts(b, "]}\n");
}

static void admin_metrics(void *arg, struct buf *out) { metrics(arg, out); }
static void admin_status(void *arg, struct buf *out) { status(arg, out); }

static void admin_handler(void *arg, const struct admin_req *req, struct admin_resp *resp)
{
    net_admin_pages(req, resp, admin_metrics, admin_status, arg);
}

/* ---- lifecycle ------------------------------------------------------------------------- */

static void on_connection(uv_stream_t *server, int st)
{
    struct pg_proxy *px = server->data;
    if (st < 0)
        return;
    pg_client_accept(px, server);
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void finish(struct pg_proxy *px)
{
    pg_client_drain(px, true);
    pg_pool_close_idle(px);
    net_cron_stop(&px->cron);
    net_signals_close(&px->sig);
    close_handle((uv_handle_t *)&px->listener);
    if (px->admin) {
        admin_close(px->admin);
        px->admin = NULL;
    }
}

static void on_cron(uv_timer_t *t)
{
    struct pg_proxy *px = t->data;
    long long now = now_ms();
    pg_pool_cron(px, now);
    pg_client_cron(px, now);
    if (px->draining) {
        pg_client_drain(px, false);
        if (px->nclients == 0 || now >= px->drain_deadline_ms) {
            log_notice("shutdown: %d client%s left, closing", px->nclients, px->nclients == 1 ? "" : "s");
            finish(px);
        }
    }
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct pg_proxy *px = h->data;
    if (px->draining) {
        if (signum == SIGINT)
            finish(px);
        return;
    }
    log_notice("received %s: draining (shutdown-timeout %lld ms)", signum == SIGTERM ? "SIGTERM" : "SIGINT",
               px->cfg.shutdown_timeout_ms);
    px->draining = true;
    px->drain_deadline_ms = now_ms() + px->cfg.shutdown_timeout_ms;
    uv_close((uv_handle_t *)&px->listener, NULL);
    pg_client_drain(px, false);
}

/* ---- reload (SIGHUP, console RELOAD) --------------------------------------------------------- */

#define SWAP(a, b)                                                                                      \
    do {                                                                                                \
        __typeof__(a) t_ = (a);                                                                         \
        (a) = (b);                                                                                      \
        (b) = t_;                                                                                       \
    } while (0)

/* The directives a reload keeps as they were (SHOW CONFIG: changeable no). */
const char *const pg_restart_only[] = {"listen", "primary", "replica", "shard-map", "pool-mode", "admin-port",
                                       "admin-bind", "logfile", "pidfile", "state-file", NULL};

int pg_reload(struct pg_proxy *px, struct buf *errs)
{
    struct pg_config n;
    struct pg_userlist ul = {NULL};
    conf_defaults(&pg_conf_table, &n);
    int nerr = conf_load_args(&pg_conf_table, &n, px->argc, px->argv, errs);
    if (nerr == 0 && n.auth_type != PG_AUTH_TRUST && !n.auth_file[0]) {
        buf_printf(errs, "auth-type md5 and scram-sha-256 need an auth-file\n");
        nerr++;
    }
    if (nerr == 0 && n.auth_file[0]) {
        int r = pg_userlist_load(n.auth_file, &ul, errs);
        nerr += r < 0 ? 1 : r;
    }
    if (nerr != 0) {
        pg_userlist_free(&ul);
        pg_config_free(&n);
        log_warn("reload: invalid configuration, nothing changed: %.*s", (int)buf_pending(errs), buf_head(errs));
        return -1;
    }
    /* what needs a restart keeps its running value (pg_restart_only) */
    struct pg_config *o = &px->cfg;
    bool fixed_changed = strcmp(n.listen, o->listen) != 0 || strcmp(n.primary, o->primary) != 0 ||
                         n.nreplicas != o->nreplicas || n.nshard_maps != o->nshard_maps || n.pool_mode != o->pool_mode ||
                         n.admin_port != o->admin_port;
    for (int i = 0; !fixed_changed && i < n.nreplicas; i++)
        fixed_changed = strcmp(n.replicas[i], o->replicas[i]) != 0;
    if (fixed_changed)
        log_warn("reload: listen, primary, replica, shard-map, pool-mode and admin-port need a restart: kept as they were");
    SWAP(n.listen, o->listen);
    SWAP(n.primary, o->primary);
    for (int i = 0; i < PG_MAX_REPLICAS; i++) {
        SWAP(n.replicas[i], o->replicas[i]);
        SWAP(n.replica_weights[i], o->replica_weights[i]);
    }
    SWAP(n.nreplicas, o->nreplicas);
    for (int i = 0; i < PG_MAX_SHARD_MAPS; i++)
        SWAP(n.shard_maps[i], o->shard_maps[i]);
    SWAP(n.nshard_maps, o->nshard_maps);
    SWAP(n.pool_mode, o->pool_mode);
    SWAP(n.admin_port, o->admin_port);
    SWAP(n.admin_bind, o->admin_bind);
    SWAP(n.logfile, o->logfile);
    SWAP(n.pidfile, o->pidfile);
    SWAP(n.state_file, o->state_file);
    SWAP(n.client_tls_cert, o->client_tls_cert);
    SWAP(n.client_tls_key, o->client_tls_key);
    if (n.balance != o->balance) {
        net_balancers[o->balance]->destroy(px->bal);
        px->bal = net_balancers[n.balance]->create();
        px->usable_mask = ~(uint64_t)0;
    }
    SWAP(n, *o); /* n holds the old settings now */
    pg_config_free(&n);
    /* users: keep the ClientKeys learnt for unchanged SCRAM secrets */
    for (struct pg_user *u = ul.head; u; u = u->next) {
        struct pg_user *old = pg_userlist_find(&px->users, u->name);
        if (old && old->has_client_key && u->has_scram && memcmp(old->stored_key, u->stored_key, sizeof u->stored_key) == 0) {
            memcpy(u->client_key, old->client_key, sizeof u->client_key);
            u->has_client_key = true;
        }
    }
    SWAP(ul, px->users);
    for (struct pg_list *l = px->pools.next; l != &px->pools; l = l->next) {
        struct pg_pool *p = pg_container_of(l, struct pg_pool, link);
        p->auth = pg_user_find(px, p->user);
    }
    for (struct pg_list *l = px->clients.next; l != &px->clients; l = l->next) {
        struct pg_client *c = pg_container_of(l, struct pg_client, link);
        if (c->username)
            c->user = pg_user_find(px, c->username);
    }
    pg_userlist_free(&ul);
    log_set_level(px->cfg.loglevel);
    if (!px->paused)
        pg_pool_resume(px); /* a larger pool-size serves the queues now */
    log_notice("reload: configuration and auth file read again (pool-size %lld, query-wait-timeout %lld ms)",
               px->cfg.pool_size, px->cfg.query_wait_timeout_ms);
    return 0;
}

static void on_sighup(uv_signal_t *h, int signum)
{
    (void)signum;
    struct pg_proxy *px = h->data;
    struct buf errs;
    buf_init(&errs);
    pg_reload(px, &errs);
    buf_deinit(&errs);
}

static void usage(FILE *f)
{
    net_server_usage(f, &pg_conf_table,
                     "usage: scaleout pg [--config FILE] [--directive value ...]\n\n"
                     "A PostgreSQL proxy: connection pooling (session, transaction) and a read/write split.\n"
                     "Every config file directive is also a flag:\n\n",
                     "\n"
                     "Example: scaleout pg --listen 127.0.0.1:6432 --primary 127.0.0.1:5432 --replica 127.0.0.1:5433 \\\n"
                     "             --auth-type scram-sha-256 --auth-file userlist.txt\n");
}

/* What the settings name beyond their own syntax: the auth file, and the
 * backends (primary, replicas, each distinct shard address) resolved.
 * Returns the number of errors, each a line in errs. */
static int load_backends(struct pg_proxy *px, struct buf *errs)
{
    char err[512];
    int nerr = 0;
    if (px->cfg.auth_type != PG_AUTH_TRUST && !px->cfg.auth_file[0]) {
        buf_printf(errs, "auth-type md5 and scram-sha-256 need an auth-file (or use --auth-type trust)\n");
        nerr++;
    }
    if (px->cfg.auth_file[0]) {
        int r = pg_userlist_load(px->cfg.auth_file, &px->users, errs);
        nerr += r < 0 ? 1 : r;
    }
    px->nbackends = 1 + px->cfg.nreplicas;
    for (int bi = 0; bi < px->nbackends; bi++) {
        const char *a = bi == 0 ? px->cfg.primary : px->cfg.replicas[bi - 1];
        snprintf(px->backends[bi].name, sizeof px->backends[bi].name, "%s", a);
        px->backends[bi].replica = bi > 0;
        px->backends[bi].lag_ms = bi > 0 ? -1 : 0;
        px->backends[bi].in_recovery = -1;
        if (resolve(a, &px->backends[bi].addr, err, sizeof err) != 0) {
            buf_printf(errs, "%s: %s\n", bi == 0 ? "primary" : "replica", err);
            nerr++;
        }
    }
    /* each distinct shard address is one more backend (a primary of its own) */
    for (int i = 0; i < px->cfg.nshard_maps; i++) {
        struct pg_shard_map *m = &px->cfg.shard_maps[i];
        if (px->cfg.pool_mode != PG_POOL_TRANSACTION) {
            buf_printf(errs, "shard-map %s: sharding needs pool-mode transaction\n", m->database);
            nerr++;
        }
        for (int k = 0; k < m->nshards; k++) {
            int bi = 1 + px->cfg.nreplicas;
            while (bi < px->nbackends && strcmp(px->backends[bi].name, m->addrs[k]) != 0)
                bi++;
            if (bi == px->nbackends) {
                if (px->nbackends >= PG_MAX_BACKENDS) {
                    buf_printf(errs, "shard-map %s: at most %d shard addresses\n", m->database,
                               PG_MAX_SHARD_BACKENDS);
                    nerr++;
                    break;
                }
                snprintf(px->backends[bi].name, sizeof px->backends[bi].name, "%s", m->addrs[k]);
                px->backends[bi].shard = true;
                px->backends[bi].in_recovery = -1;
                if (resolve(m->addrs[k], &px->backends[bi].addr, err, sizeof err) != 0) {
                    buf_printf(errs, "shard-map %s: %s\n", m->database, err);
                    nerr++;
                }
                px->nbackends++;
            }
            m->bi[k] = bi;
        }
    }
    return nerr;
}

int pg_main(int argc, char **argv)
{
    if (net_server_help_asked(argc, argv)) {
        usage(stdout);
        return 0;
    }
    struct pg_proxy *px = xcalloc(1, sizeof *px);
    conf_defaults(&pg_conf_table, &px->cfg);
    struct buf errs;
    buf_init(&errs);
    px->argc = argc;
    px->argv = argv;
    int nerr = conf_load_args(&pg_conf_table, &px->cfg, argc, argv, &errs);
    char err[512];
    if (nerr == 0)
        nerr = load_backends(px, &errs);
    if (nerr != 0) {
        fprintf(stderr, "%.*s", (int)buf_pending(&errs), buf_head(&errs));
        fprintf(stderr, "scaleout pg: invalid configuration (see scaleout pg --help)\n");
        buf_deinit(&errs);
        pg_userlist_free(&px->users);
        pg_config_free(&px->cfg);
        xfree(px);
        return 1;
    }
    if (px->cfg.client_tls_cert[0] || px->cfg.client_tls_key[0]) {
        px->tls_ctx = pg_tls_server_ctx(px->cfg.client_tls_cert, px->cfg.client_tls_key, err, sizeof err);
        if (!px->tls_ctx) {
            fprintf(stderr, "scaleout pg: client TLS: %s\n", err);
            buf_deinit(&errs);
            pg_userlist_free(&px->users);
            pg_config_free(&px->cfg);
            xfree(px);
            return 1;
        }
    } else if (px->cfg.client_tls_required) {
        fprintf(stderr, "scaleout pg: client-tls-required needs client-tls-cert and client-tls-key\n");
        buf_deinit(&errs);
        pg_userlist_free(&px->users);
        pg_config_free(&px->cfg);
        xfree(px);
        return 1;
    }
    buf_deinit(&errs);
    net_server_process_init("pg", px->cfg.loglevel, px->cfg.logfile[0] ? px->cfg.logfile : NULL);
    if (pg_state_load(px) != 0) {
        fprintf(stderr, "scaleout pg: state-file %s: %s\n", px->cfg.state_file, strerror(errno));
        pg_userlist_free(&px->users);
        pg_config_free(&px->cfg);
        xfree(px);
        return 1;
    }
    pg_pool_balancer_init(px);
    pg_client_init(px);

    uv_loop_t *loop = uv_default_loop();
    px->loop = loop;
    pg_list_init(&px->clients);
    pg_list_init(&px->pools);
    pg_list_init(&px->servers);

    char host[128];
    int port = 0;
    net_split_hostport(px->cfg.listen, host, sizeof host, &port);
    int rc = 1;
    int fd = net_listen(host, port, 511, false, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, "scaleout pg: cannot listen on %s: %s\n", px->cfg.listen, err);
        goto out;
    }
    if (net_listen_start(loop, &px->listener, fd, 511, false, on_connection, px) != 0) {
        fprintf(stderr, "scaleout pg: cannot listen on %s\n", px->cfg.listen);
        goto out;
    }
    long long aport = net_admin_port(px->cfg.admin_port, port);
    px->admin = net_admin_start(loop, px->cfg.admin_bind, aport, NULL, admin_handler, px);
    net_pidfile_write(px->cfg.pidfile);
    net_cron_start(&px->cron, loop, on_cron, CRON_MS, px);
    net_signals_start(&px->sig, loop, on_signal, on_sighup, px);
    log_notice("scaleout pg ready: %s, primary %s, %d replica%s, %s pooling, pool-size %lld, auth %s, admin %s:%lld",
               px->cfg.listen, px->cfg.primary, px->cfg.nreplicas, px->cfg.nreplicas == 1 ? "" : "s",
               px->cfg.pool_mode == PG_POOL_SESSION ? "session" : "transaction", px->cfg.pool_size,
               px->cfg.auth_type == PG_AUTH_TRUST ? "trust" : px->cfg.auth_type == PG_AUTH_TYPE_MD5 ? "md5" : "scram-sha-256",
               px->cfg.admin_bind, px->admin ? aport : 0);
    uv_run(loop, UV_RUN_DEFAULT);
    rc = 0;
    log_notice("scaleout pg stopped");
out:
    net_loop_close(loop);
    net_pidfile_remove(px->cfg.pidfile);
    pg_pool_free_all(px);
    pg_userlist_free(&px->users);
    pg_userlist_free(&px->fetched);
    pg_tls_ctx_free(px->tls_ctx);
    pg_config_free(&px->cfg);
    xfree(px);
    return rc;
}
