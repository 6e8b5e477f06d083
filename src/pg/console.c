/*
 * console.c — the admin console of the pg role, as PgBouncer has one: a
 * client that logs in to the database "pgbouncer" (so existing scripts work)
 * or "scaleout" as one of `admin-users` (with the usual authentication)
 * talks to the proxy itself with simple queries:
 *
 *   SHOW POOLS | STATS | SERVERS | CLIENTS | DATABASES | VERSION | HELP
 *   PAUSE      no server connection is handed out any more (transactions in
 *              flight finish; new ones wait, up to query-wait-timeout)
 *   RESUME     hand them out again
 *
 * Every answer is text columns (RowDescription, DataRow..., CommandComplete,
 * ReadyForQuery), so psql shows them as tables.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/util.h"
#include "pg/pg.h"
#include "pg/tls.h"
#include "pg/vars.h"
#include "proto/pg.h"

#define SCALEOUT_PG_VERSION "scaleout pg 0.1.0"

bool pg_console_wanted(struct pg_proxy *px, const char *database)
{
    (void)px;
    return strcmp(database, "pgbouncer") == 0 || strcmp(database, "scaleout") == 0;
}

bool pg_console_allowed(struct pg_proxy *px, const char *user)
{
    const char *s = px->cfg.admin_users;
    size_t ul = strlen(user);
    while (s && *s) {
        while (*s == ' ' || *s == ',')
            s++;
        const char *e = s;
        while (*e && *e != ',' && *e != ' ')
            e++;
        if ((size_t)(e - s) == ul && memcmp(s, user, ul) == 0)
            return true;
        s = e;
    }
    return false;
}

void pg_console_login(struct pg_client *c)
{
    struct buf *o = &c->conn.out;
    pg_write_param_status(o, "server_version", "15.0 (" SCALEOUT_PG_VERSION ")");
    pg_write_param_status(o, "server_encoding", "UTF8");
    pg_write_param_status(o, "client_encoding", "UTF8");
    pg_write_param_status(o, "DateStyle", "ISO, MDY");
    pg_write_param_status(o, "integer_datetimes", "on");
    pg_write_param_status(o, "standard_conforming_strings", "on");
    pg_write_backend_key(o, c->pid, c->key);
    pg_write_ready(o, 'I');
}

/* ---- result sets --------------------------------------------------------------- */

struct table {
    struct buf *o;
    int ncols;
    long rows;
};

static void header(struct table *t, struct buf *o, const char *const *cols)
{
    t->o = o;
    t->rows = 0;
    t->ncols = 0;
    while (cols[t->ncols])
        t->ncols++;
    size_t st = pg_begin(o, 'T');
    pg_put_i16(o, (int16_t)t->ncols);
    for (int i = 0; i < t->ncols; i++) {
        pg_put_str(o, cols[i]);
        pg_put_i32(o, 0);       /* table oid */
        pg_put_i16(o, 0);       /* column */
        pg_put_i32(o, 25);      /* text */
        pg_put_i16(o, -1);
        pg_put_i32(o, -1);
        pg_put_i16(o, 0);       /* text format */
    }
    pg_end(o, st);
}

/* One row of ncols C strings. */
static void row(struct table *t, const char *const *vals)
{
    size_t st = pg_begin(t->o, 'D');
    pg_put_i16(t->o, (int16_t)t->ncols);
    for (int i = 0; i < t->ncols; i++) {
        size_t n = strlen(vals[i]);
        pg_put_i32(t->o, (int32_t)n);
        buf_append(t->o, vals[i], n);
    }
    pg_end(t->o, st);
    t->rows++;
}

static void done(struct table *t, const char *tag)
{
    char cc[64];
    snprintf(cc, sizeof cc, "%s", tag);
    size_t st = pg_begin(t->o, 'C');
    pg_put_str(t->o, cc);
    pg_end(t->o, st);
}

static const char *mode_name(struct pg_proxy *px) { return px->cfg.pool_mode == PG_POOL_SESSION ? "session" : "transaction"; }

static const char *role_name(struct pg_proxy *px, int bi)
{
    return bi == px->primary ? "primary" : px->backends[bi].dead ? "fenced" : px->backends[bi].shard ? "shard" : "replica";
}

static void put_ull(char *out, size_t n, unsigned long long v) { snprintf(out, n, "%llu", v); }

/* SHOW POOLS: one row per pool (database, user), PgBouncer 1.18's columns
 * in its order; the server counts are summed over the backends (SHOW
 * BACKENDS has them one by one). Cancel requests are forwarded at once, never
 * queued, so the cancel columns are 0; sv_used is 0 (no server waits for a
 * check before reuse here), sv_tested counts servers running their reset or
 * lag check, sv_login those connecting or logging in. maxwait: how long the
 * oldest waiting client has waited. */
static void show_pools(struct pg_proxy *px, struct buf *o)
{
    static const char *const cols[] = {"database", "user", "cl_active", "cl_waiting", "cl_active_cancel_req",
                                       "cl_waiting_cancel_req", "sv_active", "sv_active_cancel", "sv_being_canceled",
                                       "sv_idle", "sv_used", "sv_tested", "sv_login", "maxwait", "maxwait_us",
                                       "pool_mode", NULL};
    struct table t;
    header(&t, o, cols);
    long long now = util_mono_us();
    for (struct pg_list *l = px->pools.next; l != &px->pools; l = l->next) {
        struct pg_pool *p = pg_container_of(l, struct pg_pool, link);
        unsigned long long active = 0, waiting = 0, sv_active = 0, sv_idle = 0, tested = 0, login = 0;
        long long oldest = 0;
        for (struct pg_list *x = px->clients.next; x != &px->clients; x = x->next) {
            struct pg_client *c = pg_container_of(x, struct pg_client, link);
            if (c->console || (c->pool != p && c->wait_pool != p))
                continue;
            if (c->state == CL_WAIT) {
                waiting++;
                if (c->wait_pool == p && (!oldest || c->wait_us < oldest))
                    oldest = c->wait_us;
            } else if (c->state == CL_READY || c->state == CL_LINKED) {
                active++;
            }
        }
        for (int bi = 0; bi < px->nbackends; bi++) {
            sv_active += (unsigned long long)p->t[bi].nactive;
            sv_idle += (unsigned long long)p->t[bi].nidle;
        }
        for (struct pg_list *x = px->servers.next; x != &px->servers; x = x->next) {
            struct pg_srv *s = pg_container_of(x, struct pg_srv, alink);
            if (s->closed || s->pool != p)
                continue;
            if (s->state == SRV_RESET || s->state == SRV_CHECK)
                tested++;
            else if (s->state == SRV_CONNECTING || s->state == SRV_LOGIN)
                login++;
        }
        long long waited = oldest ? now - oldest : 0;
        char v[12][24];
        put_ull(v[0], sizeof v[0], active);
        put_ull(v[1], sizeof v[1], waiting);
        put_ull(v[2], sizeof v[2], sv_active);
        put_ull(v[3], sizeof v[3], sv_idle);
        put_ull(v[4], sizeof v[4], tested);
        put_ull(v[5], sizeof v[5], login);
        put_ull(v[6], sizeof v[6], (unsigned long long)(waited / 1000000));
        put_ull(v[7], sizeof v[7], (unsigned long long)(waited % 1000000));
        const char *r[] = {p->database, p->user, v[0], v[1], "0", "0", v[2], "0", "0", v[3], "0", v[4], v[5], v[6], v[7],
                           mode_name(px)};
        row(&t, r);
    }
    done(&t, "SHOW");
}

/* SHOW BACKENDS (scaleout's own): each pool's counts per backend, with the
 * backend's address and role. */
static void show_backends(struct pg_proxy *px, struct buf *o)
{
    static const char *const cols[] = {"database", "user", "backend", "role", "cl_waiting", "sv_active", "sv_idle",
                                       "sv_connecting", "pool_mode", NULL};
    struct table t;
    header(&t, o, cols);
    for (struct pg_list *l = px->pools.next; l != &px->pools; l = l->next) {
        struct pg_pool *p = pg_container_of(l, struct pg_pool, link);
        for (int bi = 0; bi < px->nbackends; bi++) {
            int w = 0;
            for (struct pg_list *x = p->t[bi].waiters.next; x != &p->t[bi].waiters; x = x->next)
                w++;
            char a[16], b[16], c[16], d[16];
            snprintf(a, sizeof a, "%d", w);
            snprintf(b, sizeof b, "%d", p->t[bi].nactive);
            snprintf(c, sizeof c, "%d", p->t[bi].nidle);
            snprintf(d, sizeof d, "%d", p->t[bi].nconnecting);
            const char *v[] = {p->database, p->user, px->backends[bi].name, role_name(px, bi), a, b, c, d,
                               mode_name(px)};
            row(&t, v);
        }
    }
    done(&t, "SHOW");
}

/* The pools' figures summed per database (or over all of them: db NULL). */
static void sum_stats(struct pg_proxy *px, const char *db, struct pg_pool_stats *tot, struct pg_pool_stats *avg)
{
    memset(tot, 0, sizeof *tot);
    memset(avg, 0, sizeof *avg);
    unsigned long long xw = 0, qw = 0; /* the averages of times, weighted by the period's counts */
    for (struct pg_list *l = px->pools.next; l != &px->pools; l = l->next) {
        struct pg_pool *p = pg_container_of(l, struct pg_pool, link);
        if (db && strcmp(p->database, db) != 0)
            continue;
        const struct pg_pool_stats *s = &p->st, *a = &p->avg;
        tot->xact_count += s->xact_count, tot->query_count += s->query_count, tot->recv += s->recv;
        tot->sent += s->sent, tot->xact_us += s->xact_us, tot->query_us += s->query_us, tot->wait_us += s->wait_us;
        avg->xact_count += a->xact_count, avg->query_count += a->query_count, avg->recv += a->recv;
        avg->sent += a->sent, avg->wait_us += a->wait_us;
        avg->xact_us += a->xact_us * a->xact_count, avg->query_us += a->query_us * a->query_count;
        xw += a->xact_count, qw += a->query_count;
    }
    avg->xact_us = xw ? avg->xact_us / xw : 0;
    avg->query_us = qw ? avg->query_us / qw : 0;
}

/* The databases of the pools, once each, in pool order: calls fn per name. */
static void each_database(struct pg_proxy *px, void (*fn)(struct pg_proxy *, struct table *, const char *, int),
                          struct table *t, int kind)
{
    for (struct pg_list *l = px->pools.next; l != &px->pools; l = l->next) {
        struct pg_pool *p = pg_container_of(l, struct pg_pool, link);
        bool seen = false;
        for (struct pg_list *e = px->pools.next; e != l && !seen; e = e->next)
            seen = strcmp(pg_container_of(e, struct pg_pool, link)->database, p->database) == 0;
        if (!seen)
            fn(px, t, p->database, kind);
    }
}

enum { ST_BOTH, ST_TOTALS, ST_AVERAGES };

static void stats_row(struct pg_proxy *px, struct table *t, const char *db, int kind)
{
    struct pg_pool_stats tot, avg;
    sum_stats(px, db, &tot, &avg);
    const struct pg_pool_stats *v[2] = {&tot, &avg};
    char f[14][24];
    int n = 0;
    for (int k = 0; k < 2; k++) {
        if ((kind == ST_TOTALS && k == 1) || (kind == ST_AVERAGES && k == 0))
            continue;
        put_ull(f[n++], sizeof f[0], v[k]->xact_count);
        put_ull(f[n++], sizeof f[0], v[k]->query_count);
        put_ull(f[n++], sizeof f[0], v[k]->recv);
        put_ull(f[n++], sizeof f[0], v[k]->sent);
        put_ull(f[n++], sizeof f[0], v[k]->xact_us);
        put_ull(f[n++], sizeof f[0], v[k]->query_us);
        put_ull(f[n++], sizeof f[0], v[k]->wait_us);
    }
    const char *r[15] = {db};
    for (int i = 0; i < n; i++)
        r[i + 1] = f[i];
    row(t, r);
}

/* SHOW STATS / STATS_TOTALS / STATS_AVERAGES: PgBouncer 1.18's per-database
 * rows. Totals since start; averages over the last whole stats-period:
 * counts and bytes per second, times (us) per transaction and per query,
 * wait time (us) per second. received = from clients, sent = to clients. */
static void show_stats(struct pg_proxy *px, struct buf *o, int kind)
{
    static const char *const both[] = {"database", "total_xact_count", "total_query_count", "total_received",
                                       "total_sent", "total_xact_time", "total_query_time", "total_wait_time",
                                       "avg_xact_count", "avg_query_count", "avg_recv", "avg_sent", "avg_xact_time",
                                       "avg_query_time", "avg_wait_time", NULL};
    static const char *const one[] = {"database", "xact_count", "query_count", "bytes_received", "bytes_sent",
                                      "xact_time", "query_time", "wait_time", NULL};
    struct table t;
    header(&t, o, kind == ST_BOTH ? both : one);
    each_database(px, stats_row, &t, kind);
    done(&t, "SHOW");
}

/* SHOW TOTALS: PgBouncer's rows (all databases), then scaleout's own counters. */
static void show_totals(struct pg_proxy *px, struct buf *o)
{
    static const char *const cols[] = {"name", "value", NULL};
    static const char *const names[14] = {"total_xact_count", "total_query_count", "total_client_bytes",
                                          "total_server_bytes", "total_xact_time", "total_query_time",
                                          "total_wait_time", "avg_xact_count", "avg_query_count", "avg_client_bytes",
                                          "avg_server_bytes", "avg_xact_time", "avg_query_time", "avg_wait_time"};
    struct table t;
    header(&t, o, cols);
    struct pg_pool_stats tot, avg;
    sum_stats(px, NULL, &tot, &avg);
    const struct pg_pool_stats *v[2] = {&tot, &avg};
    char val[24];
    for (int k = 0; k < 2; k++) {
        unsigned long long f[7] = {v[k]->xact_count, v[k]->query_count, v[k]->recv, v[k]->sent,
                                   v[k]->xact_us, v[k]->query_us, v[k]->wait_us};
        for (int i = 0; i < 7; i++) {
            put_ull(val, sizeof val, f[i]);
            const char *r[] = {names[k * 7 + i], val};
            row(&t, r);
        }
    }
#define PG_STAT_ROW(name, help)                                        \
    do {                                                               \
        put_ull(val, sizeof val, px->stats.name);                      \
        const char *r[] = {#name, val};                                \
        row(&t, r);                                                    \
    } while (0);
    PG_STATS(PG_STAT_ROW)
#undef PG_STAT_ROW
    done(&t, "SHOW");
}

/* SHOW LISTS: PgBouncer's rows. Nothing is kept on a free list here and no
 * DNS cache exists, so those rows are 0. */
static void show_lists(struct pg_proxy *px, struct buf *o)
{
    static const char *const cols[] = {"list", "items", NULL};
    unsigned long long dbs = 0, users = 0, pools = 0, clients = 0, login = 0, servers = 0;
    for (struct pg_list *l = px->pools.next; l != &px->pools; l = l->next) {
        struct pg_pool *p = pg_container_of(l, struct pg_pool, link);
        bool db_seen = false, user_seen = false;
        for (struct pg_list *e = px->pools.next; e != l; e = e->next) {
            struct pg_pool *q = pg_container_of(e, struct pg_pool, link);
            db_seen = db_seen || strcmp(q->database, p->database) == 0;
            user_seen = user_seen || strcmp(q->user, p->user) == 0;
        }
        dbs += !db_seen;
        users += !user_seen;
        pools++;
    }
    for (struct pg_list *l = px->clients.next; l != &px->clients; l = l->next) {
        struct pg_client *c = pg_container_of(l, struct pg_client, link);
        clients++;
        login += c->state == CL_STARTUP || c->state == CL_AUTH;
    }
    for (struct pg_list *l = px->servers.next; l != &px->servers; l = l->next)
        servers += !pg_container_of(l, struct pg_srv, alink)->closed;
    struct table t;
    header(&t, o, cols);
    const char *names[] = {"databases", "users", "pools", "free_clients", "used_clients", "login_clients",
                           "free_servers", "used_servers", "dns_names", "dns_zones", "dns_queries", "dns_pending"};
    unsigned long long vals[] = {dbs, users, pools, 0, clients, login, 0, servers, 0, 0, 0, 0};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char v[24];
        put_ull(v, sizeof v, vals[i]);
        const char *r[] = {names[i], v};
        row(&t, r);
    }
    done(&t, "SHOW");
}

/* SHOW USERS: the users that have a pool, with PgBouncer's columns (an
 * empty pool_mode: the global one applies). */
static void show_users(struct pg_proxy *px, struct buf *o)
{
    static const char *const cols[] = {"name", "pool_mode", NULL};
    struct table t;
    header(&t, o, cols);
    for (struct pg_list *l = px->pools.next; l != &px->pools; l = l->next) {
        struct pg_pool *p = pg_container_of(l, struct pg_pool, link);
        bool seen = false;
        for (struct pg_list *e = px->pools.next; e != l && !seen; e = e->next)
            seen = strcmp(pg_container_of(e, struct pg_pool, link)->user, p->user) == 0;
        if (!seen) {
            const char *r[] = {p->user, ""};
            row(&t, r);
        }
    }
    done(&t, "SHOW");
}


/* ---- SHOW CLIENTS / SERVERS: PgBouncer's socket columns, then scaleout's --------------- */

static const char *const sock_cols[] = {"type", "user", "database", "state", "addr", "port", "local_addr",
                                        "local_port", "connect_time", "request_time", "wait", "wait_us",
                                        "close_needed", "ptr", "link", "remote_pid", "tls", "application_name"};
#define SOCK_NCOLS (sizeof sock_cols / sizeof sock_cols[0])

struct sock_row {
    char addr[64], port[8], laddr[64], lport[8], connect[32], request[32], wait[24], wait_us[24], ptr[24], link[24],
        pid[16], tls[96];
};

/* "2026-11-30 17:09:38 UTC", as PgBouncer prints times. */
static void wall_time(long long ms, char *out, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

static void split_addr(const struct sockaddr_storage *ss, int ok, char *addr, size_t alen, char *port, size_t plen)
{
    addr[0] = port[0] = '\0';
    if (!ok)
        return;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, addr, (socklen_t)alen);
        snprintf(port, plen, "%u", ntohs(a->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, addr, (socklen_t)alen);
        snprintf(port, plen, "%u", ntohs(a->sin6_port));
    }
}

static void sock_fill(struct sock_row *r, const struct pg_conn *conn, const void *self, const void *peer, uint32_t pid,
                      long long waited_us)
{
    struct sockaddr_storage ss;
    int n = sizeof ss;
    if (conn->tcp.type == UV_TCP) {
        int ok = uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&ss, &n) == 0;
        split_addr(&ss, ok, r->addr, sizeof r->addr, r->port, sizeof r->port);
        n = sizeof ss;
        ok = uv_tcp_getsockname(&conn->tcp, (struct sockaddr *)&ss, &n) == 0;
        split_addr(&ss, ok, r->laddr, sizeof r->laddr, r->lport, sizeof r->lport);
    } else {
        size_t pl = sizeof r->addr; /* a server's Unix-domain socket: its path, as PgBouncer */
        if (uv_pipe_getpeername(&conn->pipe, r->addr, &pl) != 0)
            r->addr[0] = '\0';
        r->port[0] = r->laddr[0] = r->lport[0] = '\0';
    }
    wall_time(conn->connect_ms, r->connect, sizeof r->connect);
    wall_time(conn->request_ms ? conn->request_ms : conn->connect_ms, r->request, sizeof r->request);
    put_ull(r->wait, sizeof r->wait, (unsigned long long)(waited_us / 1000000));
    put_ull(r->wait_us, sizeof r->wait_us, (unsigned long long)(waited_us % 1000000));
    snprintf(r->ptr, sizeof r->ptr, "%p", self);
    if (peer)
        snprintf(r->link, sizeof r->link, "%p", peer);
    else
        r->link[0] = '\0';
    put_ull(r->pid, sizeof r->pid, pid);
    pg_tls_describe(conn->tls, r->tls, sizeof r->tls);
}

static const char *app_name(const struct pg_vars *vs)
{
    int i = pg_vars_index("application_name");
    return i >= 0 && vs->v[i] ? vs->v[i] : "";
}

/* PgBouncer's state names where they mean the same; scaleout's own else. */
static const char *srv_state_name(enum pg_srv_state s)
{
    switch (s) {
    case SRV_CONNECTING: return "login";
    case SRV_LOGIN: return "login";
    case SRV_IDLE: return "idle";
    case SRV_ACTIVE: return "active";
    case SRV_RESET: return "tested";
    case SRV_CHECK: return "tested";
    case SRV_PROMOTE: return "promoting";
    case SRV_LSN: return "lsn-sample";
    case SRV_AUTHQ: return "auth-query";
    case SRV_REPOINT: return "repointing";
    case SRV_FAN: return "fan-out";
    }
    return "?";
}

/* SHOW SERVERS: PgBouncer's columns, then backend (address as configured),
 * client_pid and prepared (scaleout's). */
static void show_servers(struct pg_proxy *px, struct buf *o)
{
    const char *cols[SOCK_NCOLS + 4];
    for (size_t i = 0; i < SOCK_NCOLS; i++)
        cols[i] = sock_cols[i];
    cols[SOCK_NCOLS] = "backend", cols[SOCK_NCOLS + 1] = "client_pid", cols[SOCK_NCOLS + 2] = "prepared";
    cols[SOCK_NCOLS + 3] = NULL;
    struct table t;
    header(&t, o, cols);
    for (struct pg_list *l = px->servers.next; l != &px->servers; l = l->next) {
        struct pg_srv *s = pg_container_of(l, struct pg_srv, alink);
        if (s->closed)
            continue;
        struct sock_row r;
        sock_fill(&r, &s->conn, s, s->client, s->be_pid, 0);
        char cpid[16], np[16];
        snprintf(cpid, sizeof cpid, "%u", s->client ? s->client->pid : 0);
        snprintf(np, sizeof np, "%d", s->prep.n);
        const char *v[] = {"S", s->pool->user, s->pool->database, srv_state_name(s->state), r.addr, r.port, r.laddr,
                           r.lport, r.connect, r.request, r.wait, r.wait_us, s->prep.retire ? "1" : "0", r.ptr,
                           r.link, r.pid, r.tls, app_name(&s->vars), px->backends[s->bi].name, s->client ? cpid : "", np};
        row(&t, v);
    }
    done(&t, "SHOW");
}

/* SHOW CLIENTS: PgBouncer's columns (remote_pid 0, as PgBouncer's for
 * clients), then pid (the one this proxy gave the client for cancels),
 * prepared and backend (scaleout's). */
static void show_clients(struct pg_proxy *px, struct buf *o)
{
    static const char *const states[] = {"login", "login", "active", "waiting", "active", "closing"};
    const char *cols[SOCK_NCOLS + 4];
    for (size_t i = 0; i < SOCK_NCOLS; i++)
        cols[i] = sock_cols[i];
    cols[SOCK_NCOLS] = "pid", cols[SOCK_NCOLS + 1] = "prepared", cols[SOCK_NCOLS + 2] = "backend";
    cols[SOCK_NCOLS + 3] = NULL;
    struct table t;
    header(&t, o, cols);
    long long now = util_mono_us();
    for (struct pg_list *l = px->clients.next; l != &px->clients; l = l->next) {
        struct pg_client *c = pg_container_of(l, struct pg_client, link);
        struct sock_row r;
        sock_fill(&r, &c->conn, c, c->srv, 0, c->state == CL_WAIT ? now - c->wait_us : 0);
        char pid[16], np[16];
        snprintf(pid, sizeof pid, "%u", c->pid);
        snprintf(np, sizeof np, "%d", c->prep.n);
        const char *v[] = {"C", c->username ? c->username : "",
                           c->console ? "pgbouncer" : c->pool ? c->pool->database : "", states[c->state], r.addr, r.port,
                           r.laddr, r.lport, r.connect, r.request, r.wait, r.wait_us, "0", r.ptr, r.link, r.pid, r.tls,
                           app_name(&c->vars), pid, np, c->srv ? px->backends[c->srv->bi].name : ""};
        row(&t, v);
    }
    done(&t, "SHOW");
}

static void database_row(struct pg_proxy *px, struct table *t, const char *name, const char *dbname)
{
    char host[128], port[16] = "", size[24], reserve[24], cur[24];
    snprintf(host, sizeof host, "%s", px->backends[px->primary].name);
    char *colon = strrchr(host, ':');
    if (colon) {
        snprintf(port, sizeof port, "%s", colon + 1);
        *colon = '\0';
    }
    unsigned long long n = 0;
    for (struct pg_list *l = px->servers.next; l != &px->servers; l = l->next) {
        struct pg_srv *s = pg_container_of(l, struct pg_srv, alink);
        n += !s->closed && strcmp(s->pool->database, dbname) == 0;
    }
    put_ull(size, sizeof size, (unsigned long long)px->cfg.pool_size);
    put_ull(reserve, sizeof reserve, (unsigned long long)px->cfg.reserve_pool_size);
    put_ull(cur, sizeof cur, n);
    /* no minimum pool, no per-database connection limit: PgBouncer's 0 */
    const char *v[] = {name, host, port, dbname, "", size, "0", reserve, mode_name(px), "0", cur,
                       px->paused ? "1" : "0", "0"};
    row(t, v);
}

/* SHOW DATABASES: PgBouncer's columns; the `database` aliases, then the
 * databases clients reached by their own name (PgBouncer's automatic ones).
 * host and port are the primary's. */
static void show_databases(struct pg_proxy *px, struct buf *o)
{
    static const char *const cols[] = {"name", "host", "port", "database", "force_user", "pool_size",
                                       "min_pool_size", "reserve_pool", "pool_mode", "max_connections",
                                       "current_connections", "paused", "disabled", NULL};
    struct table t;
    header(&t, o, cols);
    for (int i = 0; i < px->cfg.ndatabases; i++)
        database_row(px, &t, px->cfg.databases[i].name, px->cfg.databases[i].dbname);
    for (struct pg_list *l = px->pools.next; l != &px->pools; l = l->next) {
        struct pg_pool *p = pg_container_of(l, struct pg_pool, link);
        bool seen = false;
        for (int i = 0; i < px->cfg.ndatabases && !seen; i++)
            seen = strcmp(px->cfg.databases[i].dbname, p->database) == 0;
        for (struct pg_list *e = px->pools.next; e != l && !seen; e = e->next)
            seen = strcmp(pg_container_of(e, struct pg_pool, link)->database, p->database) == 0;
        if (!seen)
            database_row(px, &t, p->database, p->database);
    }
    done(&t, "SHOW");
}

/* SHOW CONFIG: every directive with PgBouncer's columns (scaleout's names);
 * changeable: whether RELOAD applies it. Secrets are not shown. */
static void show_config(struct pg_proxy *px, struct buf *o)
{
    static const char *const cols[] = {"key", "value", "default", "changeable", NULL};
    struct table t;
    header(&t, o, cols);
    struct buf v;
    buf_init(&v);
    for (const struct conf_directive *d = pg_conf_table.dirs; d->name; d++) {
        buf_consume(&v, buf_pending(&v));
        if (!(d->flags & CONF_SECRET))
            conf_format(d, &px->cfg, &v);
        buf_putc(&v, '\0');
        bool fixed = false;
        for (int i = 0; pg_restart_only[i] && !fixed; i++)
            fixed = strcmp(pg_restart_only[i], d->name) == 0;
        const char *r[] = {d->name, buf_head(&v), d->def ? d->def : "", fixed ? "no" : "yes"};
        row(&t, r);
    }
    buf_deinit(&v);
    done(&t, "SHOW");
}

static void one_value(struct buf *o, const char *col, const char *val, const char *tag)
{
    const char *const cols[] = {col, NULL};
    struct table t;
    header(&t, o, cols);
    const char *v[] = {val};
    row(&t, v);
    done(&t, tag);
}

/* The command's words, lower-cased, without a trailing ';' or spaces. */
static bool is_cmd(const char *sql, size_t len, const char *cmd)
{
    while (len && (sql[len - 1] == ';' || sql[len - 1] == ' ' || sql[len - 1] == '\n' || sql[len - 1] == '\t'))
        len--;
    while (len && (*sql == ' ' || *sql == '\n' || *sql == '\t'))
        sql++, len--;
    size_t cl = strlen(cmd);
    if (len < cl || strncasecmp(sql, cmd, cl) != 0)
        return false;
    /* the rest may only be single spaces between the same words */
    return len == cl;
}

void pg_console_message(struct pg_client *c, const struct pg_msg *m)
{
    struct pg_proxy *px = c->px;
    struct buf *o = &c->conn.out;
    if (m->type != 'Q') {
        if (m->type == 'S') {
            pg_write_ready(o, 'I');
            return;
        }
        if (m->type == 'H')
            return;
        pg_write_error(o, "ERROR", "0A000", "the admin console speaks the simple query protocol only");
        return; /* the Sync that follows gets its ReadyForQuery */
    }
    size_t len;
    struct pg_rd r;
    pg_rd_init(&r, m);
    const char *sql = pg_rd_str(&r, &len);
    if (!sql) {
        pg_write_error(o, "ERROR", "08P01", "malformed Query message");
    } else if (is_cmd(sql, len, "show pools")) {
        show_pools(px, o);
    } else if (is_cmd(sql, len, "show backends")) {
        show_backends(px, o);
    } else if (is_cmd(sql, len, "show stats")) {
        show_stats(px, o, ST_BOTH);
    } else if (is_cmd(sql, len, "show stats_totals")) {
        show_stats(px, o, ST_TOTALS);
    } else if (is_cmd(sql, len, "show stats_averages")) {
        show_stats(px, o, ST_AVERAGES);
    } else if (is_cmd(sql, len, "show totals")) {
        show_totals(px, o);
    } else if (is_cmd(sql, len, "show lists")) {
        show_lists(px, o);
    } else if (is_cmd(sql, len, "show users")) {
        show_users(px, o);
    } else if (is_cmd(sql, len, "show config")) {
        show_config(px, o);
    } else if (is_cmd(sql, len, "show servers")) {
        show_servers(px, o);
    } else if (is_cmd(sql, len, "show clients")) {
        show_clients(px, o);
    } else if (is_cmd(sql, len, "show databases")) {
        show_databases(px, o);
    } else if (is_cmd(sql, len, "show version")) {
        one_value(o, "version", SCALEOUT_PG_VERSION, "SHOW");
    } else if (is_cmd(sql, len, "show help") || is_cmd(sql, len, "help")) {
        one_value(o, "help",
                  "SHOW POOLS|BACKENDS|STATS|STATS_TOTALS|STATS_AVERAGES|TOTALS|LISTS|USERS|CONFIG|SERVERS|CLIENTS|"
                  "DATABASES|VERSION; PAUSE; RESUME; RELOAD",
                  "SHOW");
    } else if (is_cmd(sql, len, "pause")) {
        px->paused = true;
        size_t st = pg_begin(o, 'C');
        pg_put_str(o, "PAUSE");
        pg_end(o, st);
    } else if (is_cmd(sql, len, "reload")) {
        struct buf errs;
        buf_init(&errs);
        if (pg_reload(px, &errs) == 0) {
            size_t st = pg_begin(o, 'C');
            pg_put_str(o, "RELOAD");
            pg_end(o, st);
        } else {
            char msg[600];
            snprintf(msg, sizeof msg, "reload failed, nothing changed: %.*s", (int)(buf_pending(&errs) > 500 ? 500 : buf_pending(&errs)),
                     buf_head(&errs));
            pg_write_error(o, "ERROR", "F0000", msg);
        }
        buf_deinit(&errs);
    } else if (is_cmd(sql, len, "resume")) {
        px->paused = false;
        size_t st = pg_begin(o, 'C');
        pg_put_str(o, "RESUME");
        pg_end(o, st);
        pg_pool_resume(px);
    } else if (len == 0) {
        size_t st = pg_begin(o, 'I');
        pg_end(o, st);
    } else {
        char msg[200];
        snprintf(msg, sizeof msg, "unknown admin console command: %.*s (try SHOW HELP)", (int)(len > 100 ? 100 : len), sql);
        pg_write_error(o, "ERROR", "42601", msg);
    }
    pg_write_ready(o, 'I');
}
