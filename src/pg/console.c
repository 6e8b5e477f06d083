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
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "pg/pg.h"
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

static void show_pools(struct pg_proxy *px, struct buf *o)
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
            const char *v[] = {p->database, p->user, px->backends[bi].name, bi == px->primary ? "primary" : px->backends[bi].dead ? "fenced" : px->backends[bi].shard ? "shard" : "replica", a, b, c, d,
                               mode_name(px)};
            row(&t, v);
        }
    }
    done(&t, "SHOW");
}

static void show_stats(struct pg_proxy *px, struct buf *o)
{
    static const char *const cols[] = {"name", "value", "description", NULL};
    struct table t;
    header(&t, o, cols);
    char v[32];
#define PG_STAT_ROW(name, help)                                        \
    do {                                                               \
        snprintf(v, sizeof v, "%llu", px->stats.name);                 \
        const char *r[] = {#name, v, help};                            \
        row(&t, r);                                                    \
    } while (0);
    PG_STATS(PG_STAT_ROW)
#undef PG_STAT_ROW
    done(&t, "SHOW");
}

static const char *srv_state_name(enum pg_srv_state s)
{
    switch (s) {
    case SRV_CONNECTING: return "connecting";
    case SRV_LOGIN: return "login";
    case SRV_IDLE: return "idle";
    case SRV_ACTIVE: return "active";
    case SRV_RESET: return "reset";
    case SRV_CHECK: return "lag-check";
    case SRV_PROMOTE: return "promoting";
    case SRV_LSN: return "lsn-sample";
    case SRV_AUTHQ: return "auth-query";
    case SRV_REPOINT: return "repointing";
    case SRV_FAN: return "fan-out";
    }
    return "?";
}

static void show_servers(struct pg_proxy *px, struct buf *o)
{
    static const char *const cols[] = {"user", "database", "backend", "state", "backend_pid", "client_pid", "prepared",
                                       NULL};
    struct table t;
    header(&t, o, cols);
    for (struct pg_list *l = px->servers.next; l != &px->servers; l = l->next) {
        struct pg_srv *s = pg_container_of(l, struct pg_srv, alink);
        if (s->closed)
            continue;
        char pid[16], cpid[16], np[16];
        snprintf(pid, sizeof pid, "%u", s->be_pid);
        snprintf(cpid, sizeof cpid, "%u", s->client ? s->client->pid : 0);
        snprintf(np, sizeof np, "%d", s->prep.n);
        const char *v[] = {s->pool->user, s->pool->database, px->backends[s->bi].name, srv_state_name(s->state), pid,
                           s->client ? cpid : "", np};
        row(&t, v);
    }
    done(&t, "SHOW");
}

static void show_clients(struct pg_proxy *px, struct buf *o)
{
    static const char *const cols[] = {"pid", "user", "database", "state", "backend", "prepared", NULL};
    static const char *const states[] = {"startup", "auth", "idle", "waiting", "active", "closing"};
    struct table t;
    header(&t, o, cols);
    for (struct pg_list *l = px->clients.next; l != &px->clients; l = l->next) {
        struct pg_client *c = pg_container_of(l, struct pg_client, link);
        char pid[16], np[16];
        snprintf(pid, sizeof pid, "%u", c->pid);
        snprintf(np, sizeof np, "%d", c->prep.n);
        const char *v[] = {pid, c->username ? c->username : "", c->console ? "(console)" : c->pool ? c->pool->database : "",
                           states[c->state], c->srv ? px->backends[c->srv->bi].name : "", np};
        row(&t, v);
    }
    done(&t, "SHOW");
}

static void show_databases(struct pg_proxy *px, struct buf *o)
{
    static const char *const cols[] = {"name", "dbname", NULL};
    struct table t;
    header(&t, o, cols);
    if (px->cfg.ndatabases == 0) {
        const char *v[] = {"*", "(as the client names it)"};
        row(&t, v);
    }
    for (int i = 0; i < px->cfg.ndatabases; i++) {
        const char *v[] = {px->cfg.databases[i].name, px->cfg.databases[i].dbname};
        row(&t, v);
    }
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
    } else if (is_cmd(sql, len, "show stats")) {
        show_stats(px, o);
    } else if (is_cmd(sql, len, "show servers")) {
        show_servers(px, o);
    } else if (is_cmd(sql, len, "show clients")) {
        show_clients(px, o);
    } else if (is_cmd(sql, len, "show databases")) {
        show_databases(px, o);
    } else if (is_cmd(sql, len, "show version")) {
        one_value(o, "version", SCALEOUT_PG_VERSION, "SHOW");
    } else if (is_cmd(sql, len, "show help") || is_cmd(sql, len, "help")) {
        one_value(o, "help", "SHOW POOLS|STATS|SERVERS|CLIENTS|DATABASES|VERSION; PAUSE; RESUME; RELOAD", "SHOW");
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
