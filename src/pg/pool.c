/*
 * pool.c — server connections of the pg role: opening and logging in to a
 * PostgreSQL server (trust, cleartext, md5, SCRAM-SHA-256), pools per
 * (user, database) with one target per backend (primary, replicas), the
 * queue of clients waiting for a server, passing server bytes to the linked
 * client, release at the end of a transaction, reset, timeouts, cancel.
 *
 * A server connection's life:
 *
 *   CONNECTING ─▶ LOGIN ─(ReadyForQuery)─▶ IDLE ◀──────────────┐
 *                                           │ linked to a client │ release
 *                                           ▼                    │ (clean)
 *                                         ACTIVE ──(session end)─▶ RESET
 * Anything unexpected (bytes while idle, an error at login, a client gone
 * inside a transaction, a dirty release) closes the connection: a server is
 * never pooled in an unknown state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/util.h"
#include "net/balance.h"
#include "net/peer.h"
#include "pg/pg.h"
#include "proto/pg.h"

#define LOGIN_MSG_MAX (64 * 1024)

static const struct pg_conn_ops srv_ops;
static void promote_msgs(struct pg_srv *s);
static void repoint_msgs(struct pg_srv *s);

static long long now_ms(void) { return util_mono_us() / 1000; }

/* ---- pools ---------------------------------------------------------------- */

struct pg_pool *pg_pool_get(struct pg_proxy *px, const char *user, const char *database)
{
    for (struct pg_list *l = px->pools.next; l != &px->pools; l = l->next) {
        struct pg_pool *p = pg_container_of(l, struct pg_pool, link);
        if (strcmp(p->user, user) == 0 && strcmp(p->database, database) == 0)
            return p;
    }
    struct pg_pool *p = xcalloc(1, sizeof *p);
    p->user = xstrdup(user);
    p->database = xstrdup(database);
    p->auth = pg_user_find(px, user);
    buf_init(&p->params);
    p->smap = pg_shard_map_find(&px->cfg, database);
    p->home = p->smap ? p->smap->bi[0] : px->primary;
    for (int i = 0; i < px->nbackends; i++) {
        pg_list_init(&p->t[i].idle);
        pg_list_init(&p->t[i].waiters);
    }
    pg_list_push(&px->pools, &p->link);
    return p;
}

/* ---- state bookkeeping --------------------------------------------------------- */

static int *counter(struct pg_srv *s, enum pg_srv_state st)
{
    struct pg_target *t = &s->pool->t[s->bi];
    switch (st) {
    case SRV_CONNECTING:
    case SRV_LOGIN: return &t->nconnecting;
    case SRV_IDLE: return &t->nidle;
    default: return &t->nactive;
    }
}

/* requests in flight on a backend, as the balancer reads them: linked servers */
static void peer_active(struct pg_srv *s, int delta)
{
    struct net_peer *p = s->px->peers[s->bi];
    if (p)
        atomic_fetch_add_explicit(&p->active, delta, memory_order_relaxed);
}

static void set_state(struct pg_srv *s, enum pg_srv_state st)
{
    if ((s->state == SRV_ACTIVE) != (st == SRV_ACTIVE))
        peer_active(s, st == SRV_ACTIVE ? 1 : -1);
    (*counter(s, s->state))--;
    (*counter(s, st))++;
    if (s->state == SRV_IDLE)
        pg_list_del(&s->link);
    if (st == SRV_IDLE) {
        pg_list_push(&s->pool->t[s->bi].idle, &s->link);
        s->client = NULL;
    }
    s->state = st;
    s->since_ms = now_ms();
}

static void dispatch(struct pg_pool *p, int bi);

/* Close a server connection. `why` is logged when not NULL. */
static void srv_close(struct pg_srv *s, const char *why)
{
    if (s->closed)
        return;
    s->closed = true;
    if (why)
        log_verbose("server %s (%s/%s): closing: %s", s->px->backends[s->bi].name, s->pool->user, s->pool->database, why);
    (*counter(s, s->state))--;
    if (s->state == SRV_ACTIVE)
        peer_active(s, -1);
    if (s->state == SRV_IDLE)
        pg_list_del(&s->link);
    if (s->state == SRV_LSN)
        s->px->lsn_inflight = false;
    if (s->pool->params_by == s) {
        s->pool->params_by = NULL;
        if (!s->pool->have_params)
            s->pool->params.off = s->pool->params.len = 0;
    }
    struct pg_client *c = s->client;
    s->client = NULL;
    if (c && s->state == SRV_ACTIVE)
        c->px->client_ops->server_lost(c);
    if (c && s->state == SRV_FAN)
        for (int k = 0; k < PG_MAX_SHARDS; k++)
            if (c->fan_side[k] == s)
                c->fan_side[k] = NULL; /* that shard runs in turn */
    if (c && s->state == SRV_AUTHQ) {
        c->authq_srv = NULL;
        c->authq_failed = true;
        c->px->client_ops->authq_done(c);
    }
    if (s->state == SRV_IDLE || s->state == SRV_RESET) {
        pg_write_terminate(&s->conn.out);
        pg_conn_close_after_write(&s->conn);
    } else {
        pg_conn_close(&s->conn);
    }
}

static void srv_on_close(struct pg_conn *conn)
{
    struct pg_srv *s = conn->owner;
    pg_list_del(&s->alink);
    s->px->nservers--;
    pg_prep_server_free(&s->prep);
    pg_vars_free(&s->vars);
    xfree(s);
}

/* A connection or login failed: waiting clients of a replica go to the
 * primary; on the primary the first waiter (and all of them when nothing
 * else can serve them) gets the error. errmsg: a whole ErrorResponse or NULL. */
static void login_failed(struct pg_srv *s, const char *errmsg, size_t errlen, const char *text)
{
    struct pg_proxy *px = s->px;
    struct pg_pool *p = s->pool;
    int bi = s->bi;
    px->stats.server_connect_failures++;
    px->backends[bi].connect_failures++;
    log_warn("server %s (%s/%s): %s", px->backends[bi].name, p->user, p->database, text);
    srv_close(s, NULL);
    struct pg_target *t = &p->t[bi];
    if (bi != px->primary && !px->backends[bi].shard) {
        px->backends[bi].down_until_ms = now_ms() + px->cfg.replica_retry_ms;
        while (!pg_list_empty(&t->waiters)) {
            struct pg_client *c = pg_container_of(t->waiters.next, struct pg_client, wlink);
            pg_pool_unwait(c);
            pg_pool_request(p, px->primary, c);
        }
        return;
    }
    if (bi == px->primary && px->primary_down_since_ms == 0)
        px->primary_down_since_ms = now_ms();
    bool all = t->nactive == 0 && t->nconnecting == 0 && t->nidle == 0;
    while (!pg_list_empty(&t->waiters)) {
        struct pg_client *c = pg_container_of(t->waiters.next, struct pg_client, wlink);
        pg_pool_unwait(c);
        if (errmsg)
            c->px->client_ops->fail_raw(c, errmsg, errlen);
        else
            c->px->client_ops->no_server(c, "08006", text);
        if (!all)
            break;
    }
}

/* ---- opening and login ------------------------------------------------------------ */

static struct pg_srv *srv_new(struct pg_proxy *px, struct pg_pool *p, int bi)
{
    struct pg_srv *s = xcalloc(1, sizeof *s);
    s->px = px;
    s->pool = p;
    s->bi = bi;
    s->state = SRV_CONNECTING;
    s->status = 'I';
    s->since_ms = now_ms();
    pg_list_init(&s->link);
    pg_list_push(&px->servers, &s->alink);
    p->t[bi].nconnecting++;
    px->nservers++;
    px->stats.server_connects++;
    px->backends[bi].connects++;
    return s;
}

static void open_server(struct pg_proxy *px, struct pg_pool *p, int bi)
{
    struct pg_srv *s = srv_new(px, p, bi);
    int rc = pg_conn_connect(px->loop, &s->conn, (const struct sockaddr *)&px->backends[bi].addr, &srv_ops, s);
    if (rc != 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "could not connect to server %s: %s", px->backends[bi].name, uv_strerror(rc));
        login_failed(s, NULL, 0, msg);
    }
}

static void srv_on_connect(struct pg_conn *conn, int status)
{
    struct pg_srv *s = conn->owner;
    if (status != 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "could not connect to server %s: %s", s->px->backends[s->bi].name, uv_strerror(status));
        login_failed(s, NULL, 0, msg);
        return;
    }
    set_state(s, SRV_LOGIN);
    pg_write_startup(&s->conn.out, s->pool->user, s->pool->database, NULL, NULL, 0);
    pg_conn_flush(&s->conn);
}

/* One login message from the server. Returns 0 to go on, -1 when s was closed. */
static int login_msg(struct pg_srv *s, const struct pg_msg *m, const char *raw)
{
    struct pg_pool *p = s->pool;
    struct pg_user *u = p->auth;
    char text[256];
    if (pg_msg_validate(m, false) != 0) {
        login_failed(s, NULL, 0, "malformed message from the server during login");
        return -1;
    }
    switch (m->type) {
    case 'R': {
        struct pg_rd r;
        pg_rd_init(&r, m);
        int32_t code = pg_rd_i32(&r);
        switch (code) {
        case PG_AUTH_OK:
            return 0;
        case PG_AUTH_CLEARTEXT:
            if (!u || !u->password)
                goto no_password;
            pg_write_password(&s->conn.out, u->password);
            break;
        case PG_AUTH_MD5: {
            if (!u || !u->has_md5)
                goto no_password;
            char ans[36];
            pg_md5_salted(u->md5, (const unsigned char *)pg_rd_bytes(&r, 4), ans);
            pg_write_password(&s->conn.out, ans);
            break;
        }
        case PG_AUTH_SASL: {
            bool scram = false;
            size_t l;
            const char *mech;
            while ((mech = pg_rd_str(&r, &l)) != NULL && l > 0)
                if (strcmp(mech, "SCRAM-SHA-256") == 0)
                    scram = true;
            if (!scram) {
                login_failed(s, NULL, 0, "the server offers no SASL mechanism we speak (SCRAM-SHA-256)");
                return -1;
            }
            if (!u || (!u->password && !u->has_client_key))
                goto no_password;
            struct buf first;
            buf_init(&first);
            pg_scram_client_first(&s->scram, &first);
            pg_write_sasl_initial(&s->conn.out, "SCRAM-SHA-256", buf_head(&first), buf_pending(&first));
            buf_deinit(&first);
            break;
        }
        case PG_AUTH_SASL_CONTINUE: {
            struct buf fin;
            buf_init(&fin);
            int rc = !u ? -1
                     : u->password ? pg_scram_client_final(&s->scram, u->password, r.p, pg_rd_left(&r), &fin)
                                   : pg_scram_client_final_keys(&s->scram, u, r.p, pg_rd_left(&r), &fin);
            if (rc == 0)
                pg_write_sasl_response(&s->conn.out, buf_head(&fin), buf_pending(&fin));
            buf_deinit(&fin);
            if (rc != 0) {
                login_failed(s, NULL, 0, "malformed SCRAM message from the server");
                return -1;
            }
            break;
        }
        case PG_AUTH_SASL_FINAL:
            if (pg_scram_client_verify(&s->scram, r.p, pg_rd_left(&r)) != 0) {
                login_failed(s, NULL, 0, "the server's SCRAM signature is wrong");
                return -1;
            }
            return 0;
        default:
            snprintf(text, sizeof text, "the server asks for authentication method %d, which the proxy does not speak",
                     (int)code);
            login_failed(s, NULL, 0, text);
            return -1;
        }
        pg_conn_flush(&s->conn);
        return 0;
    no_password:
        snprintf(text, sizeof text, "the server wants a password for user \"%s\" and the auth-file has none usable",
                 p->user);
        login_failed(s, NULL, 0, text);
        return -1;
    }
    case 'S': {
        struct pg_rd rd;
        pg_rd_init(&rd, m);
        const char *name = pg_rd_str(&rd, NULL), *value = pg_rd_str(&rd, NULL);
        if (name && value)
            pg_vars_set(&s->vars, name, value);
    }
        if (s->bi == p->home && !p->have_params && (!p->params_by || p->params_by == s)) {
            p->params_by = s;
            buf_append(&p->params, raw, m->len + 1);
        }
        return 0;
    case 'K': {
        struct pg_rd r;
        pg_rd_init(&r, m);
        s->be_pid = (uint32_t)pg_rd_i32(&r);
        s->be_key = (uint32_t)pg_rd_i32(&r);
        return 0;
    }
    case 'E': {
        size_t l = 0;
        const char *msg = pg_error_field(m, 'M', &l);
        snprintf(text, sizeof text, "login refused: %.*s", (int)(msg ? l : 0), msg ? msg : "");
        login_failed(s, raw, m->len + 1, text);
        return -1;
    }
    case 'Z':
        if (s->bi == s->px->primary)
            s->px->primary_down_since_ms = 0;
        if (p->params_by == s) {
            p->have_params = true;
            p->params_by = NULL;
        }
        s->status = 'I';
        set_state(s, SRV_IDLE);
        dispatch(p, s->bi);
        return 0;
    case 'N':
    case 'v':
        return 0;
    default:
        snprintf(text, sizeof text, "unexpected message '%c' from the server during login", m->type);
        login_failed(s, NULL, 0, text);
        return -1;
    }
}

/* ---- linking and dispatch ------------------------------------------------------------ */

void pg_pool_unwait(struct pg_client *c)
{
    pg_list_del(&c->wlink);
    if (c->wait_pool) { /* SHOW STATS: the time it waited, served or not */
        c->wait_pool->st.wait_us += (unsigned long long)(util_mono_us() - c->wait_us);
        c->wait_pool = NULL;
    }
}

/* SHOW STATS: the client's bytes since the last count go to its pool. */
void pg_pool_count_bytes(struct pg_client *c)
{
    if (!c->pool || c->console)
        return;
    c->pool->st.recv += c->conn.bytes_in - c->st_in;
    c->pool->st.sent += c->conn.bytes_out - c->st_out;
    c->st_in = c->conn.bytes_in;
    c->st_out = c->conn.bytes_out;
}

/* SHOW STATS averages: at the end of each stats-period, the period's
 * counts and bytes per second and mean times per transaction and query
 * (PgBouncer's avg_* columns). */
static void stats_period(struct pg_proxy *px)
{
    long long now = util_mono_us(), dur = now - px->stats_period_start_us;
    if (px->stats_period_start_us == 0) {
        px->stats_period_start_us = now;
        return;
    }
    if (dur < px->cfg.stats_period_ms * 1000)
        return;
    for (struct pg_list *l = px->pools.next; l != &px->pools; l = l->next) {
        struct pg_pool *p = pg_container_of(l, struct pg_pool, link);
        const struct pg_pool_stats *a = &p->st, *b = &p->st_mark;
        unsigned long long x = a->xact_count - b->xact_count, q = a->query_count - b->query_count;
        p->avg.xact_count = x * 1000000ULL / (unsigned long long)dur;
        p->avg.query_count = q * 1000000ULL / (unsigned long long)dur;
        p->avg.recv = (a->recv - b->recv) * 1000000ULL / (unsigned long long)dur;
        p->avg.sent = (a->sent - b->sent) * 1000000ULL / (unsigned long long)dur;
        p->avg.xact_us = x ? (a->xact_us - b->xact_us) / x : 0;
        p->avg.query_us = q ? (a->query_us - b->query_us) / q : 0;
        p->avg.wait_us = (a->wait_us - b->wait_us) * 1000000ULL / (unsigned long long)dur;
        p->st_mark = p->st;
    }
    px->stats_period_start_us = now;
}

/* One net_peer per backend (weights from `replica ADDR weight=N`); the
 * balancer sees the usable replicas, rebuilt when that set changes. */
void pg_pool_balancer_init(struct pg_proxy *px)
{
    for (int bi = 0; bi < px->nbackends; bi++) {
        struct net_backend_conf bc;
        memset(&bc, 0, sizeof bc);
        bc.addr = px->backends[bi].name;
        bc.weight = bi > 0 ? px->cfg.replica_weights[bi - 1]
                           : (px->cfg.primary_read_weight > 0 ? px->cfg.primary_read_weight : 1);
        memcpy(&bc.sa, &px->backends[bi].addr, sizeof bc.sa);
        bc.salen = sizeof bc.sa;
        px->peers[bi] = net_peer_new(NULL, &bc, 1);
    }
    px->bal = net_balancers[px->cfg.balance]->create();
    px->usable_mask = ~(uint64_t)0;
}

static void balancer_free(struct pg_proxy *px)
{
    if (px->bal)
        net_balancers[px->cfg.balance]->destroy(px->bal);
    px->bal = NULL;
    for (int bi = 0; bi < px->nbackends; bi++)
        if (px->peers[bi])
            net_peer_unref(px->peers[bi]);
    memset(px->peers, 0, sizeof px->peers);
}

int pg_pool_pick_replica(struct pg_proxy *px, uint64_t lsn, uint64_t key)
{
    if (!px->bal)
        return px->primary;
    long long now = now_ms();
    uint64_t mask = 0;
    for (int bi = 0; bi < px->nbackends; bi++) {
        const struct pg_backend *b = &px->backends[bi];
        if (bi == px->primary ? px->cfg.primary_read_weight > 0 && !b->dead && !b->shard
                              : !b->dead && !b->shard && b->down_until_ms <= now && !b->lagging)
            mask |= (uint64_t)1 << bi;
    }
    const struct net_balance_ops *ops = net_balancers[px->cfg.balance];
    if (mask != px->usable_mask) {
        px->nusable = 0;
        for (int bi = 0; bi < px->nbackends; bi++)
            if (mask & ((uint64_t)1 << bi))
                px->usable[px->nusable++] = px->peers[bi];
        ops->update(px->bal, px->usable, px->nusable);
        px->usable_mask = mask;
    }
    if (px->nusable == 0)
        return px->primary;
    /* read-your-writes lsn: replicas that have not replayed the write are excluded */
    struct net_peer *behind[PG_MAX_BACKENDS];
    int nbehind = 0;
    if (lsn)
        for (int bi = 0; bi < px->nbackends; bi++)
            if (bi != px->primary && (mask & ((uint64_t)1 << bi)) && px->backends[bi].replay_lsn < lsn)
                behind[nbehind++] = px->peers[bi];
    if (nbehind == px->nusable)
        return px->primary;
    struct net_pick_ctx ctx = {net_hash(&key, sizeof key, 0), true, behind, nbehind, now};
    struct net_peer *p = ops->pick(px->bal, px->usable, px->nusable, &ctx);
    for (int bi = 0; p && bi < px->nbackends; bi++)
        if (px->peers[bi] == p)
            return bi;
    return px->primary;
}

/* ---- replica lag -------------------------------------------------------------------- */

/* Milliseconds since the last replayed transaction, 0 when everything received
 * has been replayed (an idle primary is not lag). */
#define LAG_QUERY                                                                                       \
    "SELECT CASE WHEN pg_last_wal_receive_lsn() IS NULL OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() " \
    "THEN 0 ELSE COALESCE((EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000)::bigint, 0) END, " \
    "COALESCE(pg_last_wal_replay_lsn() - '0/0', 0)::bigint, pg_is_in_recovery()"
/* the primary's WAL insert position: past every commit that returned before it ran */
#define LSN_QUERY "SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint"

static bool lsn_mode(const struct pg_proxy *px) { return px->cfg.read_your_writes == PG_RYW_LSN; }

/* Borrow an idle pooled connection of each replica to measure its lag. A
 * replica with no idle connection keeps its last figure; one never used has
 * none and gets reads (the first ones open a connection the next check uses). */
/* A pool of a database that is not sharded (its database is on the primary
 * and the replicas), to open a connection for a check; NULL if none. */
static struct pg_pool *plain_pool(struct pg_proxy *px)
{
    for (struct pg_list *l = px->pools.next; l != &px->pools; l = l->next) {
        struct pg_pool *p = pg_container_of(l, struct pg_pool, link);
        if (!p->smap)
            return p;
    }
    return NULL;
}

static void check_lag(struct pg_proxy *px, long long now)
{
    for (int bi = 0; bi < px->nbackends; bi++) {
        struct pg_backend *b = &px->backends[bi];
        if (bi == px->primary || b->shard || now - b->checked_ms < px->cfg.replica_check_interval_ms)
            continue;
        int conns = 0;
        for (struct pg_list *l = px->pools.next; l != &px->pools; l = l->next) {
            struct pg_pool *p = pg_container_of(l, struct pg_pool, link);
            conns += p->t[bi].nidle + p->t[bi].nactive + p->t[bi].nconnecting;
        }
        if (b->dead && conns == 0) {
            /* fenced: try it again after replica-retry; it rejoins once it is in recovery */
            if (b->down_until_ms <= now) {
                b->down_until_ms = now + px->cfg.replica_retry_ms;
                if (plain_pool(px))
                    open_server(px, plain_pool(px), bi);
            }
            b->checked_ms = now;
            continue;
        }
        if (conns == 0 && lsn_mode(px) && plain_pool(px)) {
            /* read-your-writes lsn needs its replay position: open a connection to ask with */
            open_server(px, plain_pool(px), bi);
            b->checked_ms = now;
            continue;
        }
        if (conns == 0 && b->lagging) {
            /* nothing left to measure with (idle timeout): let reads open one */
            b->lagging = false;
            b->lag_ms = -1;
            log_notice("replica %s: no connection left to measure its lag: back in the read rotation", b->name);
        }
        for (struct pg_list *l = px->pools.next; l != &px->pools; l = l->next) {
            struct pg_pool *p = pg_container_of(l, struct pg_pool, link);
            if (p->t[bi].nidle == 0)
                continue;
            struct pg_srv *s = pg_container_of(p->t[bi].idle.next, struct pg_srv, link);
            set_state(s, SRV_CHECK);
            pg_write_query(&s->conn.out, LAG_QUERY);
            pg_conn_flush(&s->conn);
            b->checked_ms = now;
            break;
        }
    }
}

/* read-your-writes lsn: when a write ended since the last sample, borrow an
 * idle primary connection and ask its WAL insert position (one sample in
 * flight at a time: writes that end meanwhile wait for the next one). */
static void sample_lsn(struct pg_proxy *px)
{
    if (!px->lsn_wanted || px->lsn_inflight)
        return;
    for (struct pg_list *l = px->pools.next; l != &px->pools; l = l->next) {
        struct pg_pool *p = pg_container_of(l, struct pg_pool, link);
        if (p->t[px->primary].nidle == 0 || px->paused)
            continue;
        struct pg_srv *s = pg_container_of(p->t[px->primary].idle.next, struct pg_srv, link);
        set_state(s, SRV_LSN);
        pg_write_query(&s->conn.out, LSN_QUERY);
        pg_conn_flush(&s->conn);
        px->lsn_sent++;
        px->lsn_inflight = true;
        px->lsn_wanted = false;
        return;
    }
}

static void lsn_msgs(struct pg_srv *s)
{
    struct buf *in = &s->conn.in;
    struct pg_proxy *px = s->px;
    for (;;) {
        struct pg_msg m;
        ssize_t r = pg_parse_msg(buf_head(in), buf_pending(in), LOGIN_MSG_MAX, &m);
        if (r == 0)
            return;
        if (r < 0 || m.type == 'E') {
            srv_close(s, "the primary's LSN query failed");
            return;
        }
        buf_consume(in, (size_t)r);
        if (m.type == 'D') {
            struct pg_rd rd;
            pg_rd_init(&rd, &m);
            long long v;
            int16_t n = pg_rd_i16(&rd);
            int32_t l = pg_rd_i32(&rd);
            const char *val = l > 0 ? pg_rd_bytes(&rd, (size_t)l) : NULL;
            if (n == 1 && val && util_str2ll(val, (size_t)l, &v) && v >= 0 && (uint64_t)v >= px->primary_lsn) {
                px->primary_lsn = (uint64_t)v;
                px->lsn_known = px->lsn_sent;
            }
        } else if (m.type == 'Z') {
            px->lsn_inflight = false;
            if (pg_ready_status(&m) != 'I' || buf_pending(in)) {
                srv_close(s, "not idle after the LSN query");
                return;
            }
            set_state(s, SRV_IDLE);
            dispatch(s->pool, s->bi);
            return;
        }
    }
}

static void check_msgs(struct pg_srv *s)
{
    struct buf *in = &s->conn.in;
    struct pg_backend *b = &s->px->backends[s->bi];
    for (;;) {
        struct pg_msg m;
        ssize_t r = pg_parse_msg(buf_head(in), buf_pending(in), LOGIN_MSG_MAX, &m);
        if (r == 0)
            return;
        if (r < 0 || m.type == 'E') {
            srv_close(s, "the replica lag query failed");
            return;
        }
        buf_consume(in, (size_t)r);
        if (m.type == 'D') {
            struct pg_rd rd;
            pg_rd_init(&rd, &m);
            long long v;
            int16_t n = pg_rd_i16(&rd);
            int32_t l = pg_rd_i32(&rd);
            const char *val = l > 0 ? pg_rd_bytes(&rd, (size_t)l) : NULL;
            if (n >= 3) {
                long long lsn;
                int32_t l2 = pg_rd_i32(&rd);
                const char *v2 = l2 > 0 ? pg_rd_bytes(&rd, (size_t)l2) : NULL;
                if (v2 && util_str2ll(v2, (size_t)l2, &lsn) && lsn >= 0)
                    b->replay_lsn = (uint64_t)lsn;
                int32_t l3 = pg_rd_i32(&rd);
                const char *v3 = l3 == 1 ? pg_rd_bytes(&rd, 1) : NULL;
                b->in_recovery = v3 && *v3 == 't' ? 1 : 0;
                if (b->dead && b->in_recovery) {
                    /* the old primary came back as a standby: it rejoins as a replica */
                    b->dead = false;
                    b->replica = true;
                    b->lagging = false;
                    b->fence_logged = false;
                    log_notice("backend %s is in recovery now: no longer fenced, it serves reads as a replica", b->name);
                    pg_state_save(s->px);
                } else if (b->dead) {
                    if (!b->fence_logged)
                        log_warn("fenced backend %s is up and not in recovery (a second primary): it stays fenced; "
                                 "make it a standby of the new primary to rejoin",
                                 b->name);
                    b->fence_logged = true;
                    srv_close(s, "fenced");
                    return;
                }
            }
            if (n >= 1 && val && util_str2ll(val, (size_t)l, &v)) {
                bool was = b->lagging;
                b->lag_ms = v;
                b->lagging = s->px->cfg.replica_max_lag_ms > 0 && v > s->px->cfg.replica_max_lag_ms;
                if (b->lagging != was)
                    log_notice("replica %s: replay lag %lld ms: %s", b->name, v,
                               b->lagging ? "taken out of the read rotation" : "back in the read rotation");
            }
        } else if (m.type == 'Z') {
            if (pg_ready_status(&m) != 'I' || buf_pending(in)) {
                srv_close(s, "not idle after the lag query");
                return;
            }
            set_state(s, SRV_IDLE);
            dispatch(s->pool, s->bi);
            return;
        }
    }
}

/* Make the server's session settings the client's before its first message. */
static void sync_vars(struct pg_srv *s, struct pg_client *c)
{
    struct buf sql;
    buf_init(&sql);
    if (pg_vars_diff_sql(&c->vars, &s->vars, &sql) > 0) {
        buf_putc(&sql, '\0');
        pg_write_query(&s->conn.out, buf_head(&sql));
        s->swallow_q++;
        pg_vars_copy(&s->vars, &c->vars);
        pg_conn_flush(&s->conn);
    }
    buf_deinit(&sql);
}

static void link_pair(struct pg_srv *s, struct pg_client *c)
{
    set_state(s, SRV_ACTIVE);
    s->client = c;
    s->pending = 0;
    s->q_start_us = s->x_start_us = 0;
    s->fwd_left = s->skip_left = 0;
    sync_vars(s, c);
    pg_conn_read_start(&s->conn);
    c->px->client_ops->linked(c, s);
}

/* ---- auth-query: a client's secret fetched from the server ------------------------------ */

static void authq_start(struct pg_srv *s, struct pg_client *c)
{
    struct buf *o = &s->conn.out;
    set_state(s, SRV_AUTHQ);
    s->client = c;
    c->authq_srv = s;
    size_t b = pg_begin(o, 'P');
    pg_put_str(o, "");
    pg_put_str(o, s->px->cfg.auth_query);
    pg_put_i16(o, 0);
    pg_end(o, b);
    b = pg_begin(o, 'B');
    pg_put_str(o, "");
    pg_put_str(o, "");
    pg_put_i16(o, 0);
    pg_put_i16(o, 1);
    pg_put_i32(o, (int32_t)strlen(c->username));
    buf_append(o, c->username, strlen(c->username));
    pg_put_i16(o, 0);
    pg_end(o, b);
    b = pg_begin(o, 'E');
    pg_put_str(o, "");
    pg_put_i32(o, 2);
    pg_end(o, b);
    b = pg_begin(o, 'S');
    pg_end(o, b);
    pg_conn_flush(&s->conn);
    pg_conn_read_start(&s->conn);
}

static void authq_msgs(struct pg_srv *s)
{
    struct buf *in = &s->conn.in;
    for (;;) {
        struct pg_msg m;
        ssize_t r = pg_parse_msg(buf_head(in), buf_pending(in), LOGIN_MSG_MAX, &m);
        if (r == 0)
            return;
        if (r < 0) {
            srv_close(s, "malformed answer to the auth-query");
            return;
        }
        buf_consume(in, (size_t)r);
        struct pg_client *c = s->client;
        if (m.type == 'D' && c) {
            struct pg_rd rd;
            pg_rd_init(&rd, &m);
            int16_t n = pg_rd_i16(&rd);
            int32_t l1 = pg_rd_i32(&rd);
            if (l1 > 0)
                pg_rd_bytes(&rd, (size_t)l1);
            int32_t l2 = n >= 2 ? pg_rd_i32(&rd) : -1;
            const char *v = l2 > 0 && l2 < 4096 ? pg_rd_bytes(&rd, (size_t)l2) : NULL;
            if (v && !rd.err && !c->authq_secret) {
                c->authq_secret = xmalloc((size_t)l2 + 1);
                memcpy(c->authq_secret, v, (size_t)l2);
                c->authq_secret[l2] = '\0';
            }
        } else if (m.type == 'E') {
            size_t l = 0;
            const char *msg = pg_error_field(&m, 'M', &l);
            log_warn("auth-query for user \"%s\" failed: %.*s", c ? c->username : "?", (int)(msg ? l : 0), msg ? msg : "");
            if (c)
                c->authq_failed = true;
        } else if (m.type == 'Z') {
            if (pg_ready_status(&m) != 'I' || buf_pending(in)) {
                srv_close(s, "not idle after the auth-query");
                return;
            }
            s->client = NULL;
            if (c)
                c->authq_srv = NULL;
            set_state(s, SRV_IDLE);
            dispatch(s->pool, s->bi);
            if (c)
                c->px->client_ops->authq_done(c);
            return;
        }
    }
}

static void dispatch(struct pg_pool *p, int bi)
{
    struct pg_target *t = &p->t[bi];
    for (;;) {
        if (pg_list_empty(&t->waiters))
            return;
        if (pg_container_of(t->waiters.next, struct pg_client, wlink)->px->paused)
            return;
        if (t->nidle > 0) {
            /* LIFO: the connection that came back last (PgBouncer's default):
             * its backend and socket are the warmest, the others can idle out */
            struct pg_srv *s = pg_container_of(t->idle.prev, struct pg_srv, link);
            struct pg_client *c = pg_container_of(t->waiters.next, struct pg_client, wlink);
            pg_pool_unwait(c);
            if (c->authq)
                authq_start(s, c);
            else
                link_pair(s, c);
            continue;
        }
        /* count the waiters not yet covered by a connection being opened */
        int nwait = 0;
        for (struct pg_list *l = t->waiters.next; l != &t->waiters && nwait <= t->nconnecting; l = l->next)
            nwait++;
        struct pg_client *head = pg_container_of(t->waiters.next, struct pg_client, wlink);
        struct pg_proxy *px = head->px;
        long long limit = px->cfg.pool_size;
        if (px->cfg.reserve_pool_size > 0 && now_ms() - head->since_ms >= px->cfg.reserve_pool_timeout_ms)
            limit += px->cfg.reserve_pool_size; /* the queue has waited long enough: use the reserve */
        if (nwait > t->nconnecting && t->nidle + t->nactive + t->nconnecting < limit) {
            open_server(px, p, bi);
            continue; /* open_server may have failed at once and failed waiters */
        }
        return;
    }
}

void pg_pool_request(struct pg_pool *p, int bi, struct pg_client *c)
{
    c->want = bi;
    c->since_ms = now_ms();
    c->wait_us = util_mono_us();
    c->wait_pool = p;
    pg_list_push(&p->t[bi].waiters, &c->wlink);
    dispatch(p, bi);
}

/* ---- passing bytes ----------------------------------------------------------------------- */

void pg_srv_flush(struct pg_srv *s)
{
    pg_conn_flush(&s->conn);
    if (s->client && pg_conn_pending(&s->conn) > PG_BACKPRESSURE)
        pg_conn_read_stop(&s->client->conn);
}

/* SHOW STATS: a ReadyForQuery ends a query, and with status I a
 * transaction (the client's bytes are counted then too). */
static void count_ready(struct pg_srv *s, struct pg_client *c, char st)
{
    long long now = util_mono_us();
    struct pg_pool_stats *ps = &s->pool->st;
    if (s->q_start_us) {
        ps->query_count++;
        ps->query_us += (unsigned long long)(now - s->q_start_us);
        s->q_start_us = s->pending > 0 ? now : 0; /* the next of a pipeline runs from here */
    }
    if (st == 'I' && s->x_start_us) {
        ps->xact_count++;
        ps->xact_us += (unsigned long long)(now - s->x_start_us);
        s->x_start_us = 0;
    }
    pg_pool_count_bytes(c);
}

/* The transaction ended (transaction mode): unlink, pool, serve the queue,
 * then let the client go on with what it sent meanwhile. */
static void end_of_transaction(struct pg_srv *s)
{
    struct pg_client *c = s->client;
    c->srv = NULL;
    s->client = NULL;
    s->px->stats.transactions++;
    if (buf_pending(&s->conn.in) != 0) {
        srv_close(s, "bytes after ReadyForQuery");
    } else if (s->prep.retire || !pg_prep_idle(&s->prep)) {
        srv_close(s, "prepared statements in an unknown state (DISCARD, DEALLOCATE or too many)");
    } else {
        set_state(s, SRV_IDLE);
        dispatch(s->pool, s->bi);
    }
    c->px->client_ops->unlinked(c);
}

/* ---- fan-out (a read without a shard key, run on each shard in turn) ---------------------- */

/* One server message of a fan-out; true: drop it. The first RowDescription
 * is passed on, the others dropped; rows and errors pass; command tags are
 * summed (SELECT n) and sent once at the end. */
static bool fan_msg(struct pg_client *c, const struct pg_msg *h, const char *raw)
{
    if (h->type == 'T') {
        bool dup = c->fan_T;
        c->fan_T = true;
        return dup;
    }
    if (h->type == 'E') {
        c->fan_err = true;
        return false;
    }
    if (h->type != 'C')
        return false;
    struct pg_msg m;
    if (pg_parse_msg(raw, h->len + 1, 0, &m) <= 0)
        return true;
    struct pg_rd rd;
    pg_rd_init(&rd, &m);
    size_t l;
    const char *tag = pg_rd_str(&rd, &l);
    long long n;
    if (tag && l > 7 && memcmp(tag, "SELECT ", 7) == 0 && util_str2ll(tag + 7, l - 7, &n) && n >= 0)
        c->fan_rows += (unsigned long long)n;
    else if (tag && !c->fan_tag[0]) {
        snprintf(c->fan_tag, sizeof c->fan_tag, "%.*s", (int)l, tag);
        c->fan_select = false;
    }
    return true;
}

/* A shard's ReadyForQuery in a fan-out: true when it is the last one (the
 * summed tag is written first), false to drop it and go to the next shard. */
static bool fan_ready(struct pg_client *c, struct buf *out)
{
    if (!c->fan_err && c->fan_next + 1 < c->pool->smap->nshards) {
        c->fan_next++;
        return false;
    }
    if (!c->fan_err) {
        char tag[96];
        if (c->fan_select)
            snprintf(tag, sizeof tag, "SELECT %llu", c->fan_rows);
        else
            snprintf(tag, sizeof tag, "%s", c->fan_tag);
        size_t b = pg_begin(out, 'C');
        pg_put_str(out, tag);
        pg_end(out, b);
    }
    c->fan = false;
    pg_pool_fan_abort(c); /* an error ended it early: the other shards' answers are not wanted */
    return true;
}

void pg_pool_fan_start(struct pg_client *c)
{
    struct pg_pool *p = c->pool;
    for (int k = 1; k < p->smap->nshards; k++) {
        struct pg_target *t = &p->t[p->smap->bi[k]];
        c->fan_side[k] = NULL;
        if (t->nidle == 0 || c->px->paused)
            continue;
        struct pg_srv *s = pg_container_of(t->idle.next, struct pg_srv, link);
        set_state(s, SRV_FAN);
        s->client = c;
        s->fwd_left = s->skip_left = 0;
        sync_vars(s, c);
        buf_append(&s->conn.out, buf_head(&c->fan_query), buf_pending(&c->fan_query));
        s->pending = 1;
        s->px->backends[s->bi].queries++;
        pg_conn_flush(&s->conn);
        pg_conn_read_start(&s->conn);
        c->fan_side[k] = s;
    }
}

static void forward(struct pg_srv *s);

bool pg_pool_fan_link(struct pg_client *c)
{
    struct pg_srv *s = c->fan_side[c->fan_next];
    if (!s)
        return false;
    c->fan_side[c->fan_next] = NULL;
    set_state(s, SRV_ACTIVE);
    c->srv = s;
    c->state = CL_LINKED;
    c->fwd_left = 0;
    c->since_ms = now_ms();
    pg_conn_read_start(&s->conn);
    if (buf_pending(&s->conn.in))
        forward(s);
    return true;
}

void pg_pool_fan_abort(struct pg_client *c)
{
    for (int k = 0; k < PG_MAX_SHARDS; k++) {
        struct pg_srv *s = c->fan_side[k];
        if (!s)
            continue;
        c->fan_side[k] = NULL;
        s->client = NULL;
        srv_close(s, "fan-out ended before this shard's turn");
    }
}

static void forward(struct pg_srv *s)
{
    struct pg_client *c = s->client;
    struct buf *in = &s->conn.in, *out = &c->conn.out;
    bool tx = s->px->cfg.pool_mode == PG_POOL_TRANSACTION;
    while (buf_pending(in)) {
        if (s->fwd_left) {
            size_t n = buf_pending(in) < s->fwd_left ? buf_pending(in) : s->fwd_left;
            buf_append(out, buf_head(in), n);
            buf_consume(in, n);
            s->fwd_left -= n;
            continue;
        }
        if (s->skip_left) {
            size_t n = buf_pending(in) < s->skip_left ? buf_pending(in) : s->skip_left;
            buf_consume(in, n);
            s->skip_left -= n;
            continue;
        }
        if (tx)
            pg_prep_emit(&s->prep, out); /* our own answers due before this message */
        struct pg_msg m;
        ssize_t r = pg_msg_header(buf_head(in), buf_pending(in), 0, &m);
        if (r == 0)
            break;
        if (r < 0) {
            srv_close(s, "malformed message from the server");
            return;
        }
        if (s->swallow_q > 0 || m.type == 'S') {
            /* the answer to our SET (dropped, but for an error), or a
             * ParameterStatus: small, looked at whole */
            r = pg_parse_msg(buf_head(in), buf_pending(in), LOGIN_MSG_MAX, &m);
            if (r == 0)
                break;
            if (r < 0) {
                srv_close(s, "oversized message from the server");
                return;
            }
            if (m.type == 'S') {
                struct pg_rd rd;
                pg_rd_init(&rd, &m);
                const char *name = pg_rd_str(&rd, NULL), *value = pg_rd_str(&rd, NULL);
                if (name && value) {
                    pg_vars_set(&s->vars, name, value);
                    if (s->swallow_q == 0)
                        pg_vars_set(&c->vars, name, value);
                }
            }
            if (s->swallow_q == 0 || m.type == 'E')
                buf_append(out, buf_head(in), (size_t)r);
            if (s->swallow_q > 0 && m.type == 'Z')
                s->swallow_q--;
            buf_consume(in, (size_t)r);
            continue;
        }
        if (m.type != 'Z') {
            bool swallow = false;
            if (c->fan && m.type == 'C' && buf_pending(in) < (size_t)m.len + 1)
                break; /* a fan-out sums the tags: looked at whole */
            if (tx && pg_prep_server_msg(&s->prep, m.type, &swallow) != 0) {
                srv_close(s, "a response that nothing asked for");
                return;
            }
            if (c->fan && !swallow)
                swallow = fan_msg(c, &m, buf_head(in));
            if (swallow)
                s->skip_left = m.len + 1;
            else
                s->fwd_left = m.len + 1;
            continue;
        }
        if (buf_pending(in) < 6)
            break;
        r = pg_parse_msg(buf_head(in), buf_pending(in), 0, &m);
        char st = r > 0 ? pg_ready_status(&m) : 0;
        if (!st) {
            srv_close(s, "malformed ReadyForQuery");
            return;
        }
        if (!c->fan || fan_ready(c, out))
            buf_append(out, buf_head(in), (size_t)r);
        buf_consume(in, (size_t)r);
        if (tx) {
            bool swallow;
            pg_prep_server_msg(&s->prep, 'Z', &swallow);
            pg_prep_emit(&s->prep, out);
        }
        s->status = st;
        if (s->pending > 0)
            s->pending--;
        count_ready(s, c, st);
        if (s->pending == 0 && st == 'I' && s->px->cfg.pool_mode == PG_POOL_TRANSACTION) {
            pg_conn_flush(&c->conn);
            end_of_transaction(s);
            return;
        }
    }
    if (tx && s->fwd_left == 0 && s->skip_left == 0)
        pg_prep_emit(&s->prep, out);
    pg_conn_flush(&c->conn);
    if (pg_conn_pending(&c->conn) > PG_BACKPRESSURE)
        pg_conn_read_stop(&s->conn);
}

static void reset_msgs(struct pg_srv *s)
{
    struct buf *in = &s->conn.in;
    for (;;) {
        struct pg_msg m;
        ssize_t r = pg_parse_msg(buf_head(in), buf_pending(in), LOGIN_MSG_MAX, &m);
        if (r == 0)
            return;
        if (r < 0 || m.type == 'E') {
            srv_close(s, "the reset query failed");
            return;
        }
        buf_consume(in, (size_t)r);
        if (m.type == 'S') {
            struct pg_rd rd;
            pg_rd_init(&rd, &m);
            const char *name = pg_rd_str(&rd, NULL), *value = pg_rd_str(&rd, NULL);
            if (name && value)
                pg_vars_set(&s->vars, name, value);
        }
        if (m.type == 'Z') {
            if (pg_ready_status(&m) != 'I' || buf_pending(in)) {
                srv_close(s, "not idle after the reset query");
                return;
            }
            s->status = 'I';
            set_state(s, SRV_IDLE);
            dispatch(s->pool, s->bi);
            return;
        }
    }
}

static void srv_on_read(struct pg_conn *conn, bool eof)
{
    struct pg_srv *s = conn->owner;
    if (s->closed)
        return;
    if (eof) {
        if (s->state == SRV_CONNECTING || s->state == SRV_LOGIN)
            login_failed(s, NULL, 0, "the server closed the connection during login");
        else
            srv_close(s, "the server closed the connection");
        return;
    }
    switch (s->state) {
    case SRV_LOGIN:
        for (;;) {
            struct pg_msg m;
            ssize_t r = pg_parse_msg(buf_head(&conn->in), buf_pending(&conn->in), LOGIN_MSG_MAX, &m);
            if (r == 0)
                return;
            if (r < 0) {
                login_failed(s, NULL, 0, "malformed message from the server during login");
                return;
            }
            /* consumed first (the bytes stay in place until the next read), so
             * that a ReadyForQuery that links the server leaves it clean */
            const char *raw = buf_head(&conn->in);
            bool ready = m.type == 'Z';
            buf_consume(&conn->in, (size_t)r);
            if (ready && buf_pending(&conn->in)) {
                login_failed(s, NULL, 0, "bytes after ReadyForQuery at login");
                return;
            }
            if (login_msg(s, &m, raw) != 0 || ready)
                return;
        }
    case SRV_ACTIVE:
        forward(s);
        return;
    case SRV_RESET:
        reset_msgs(s);
        return;
    case SRV_CHECK:
        check_msgs(s);
        return;
    case SRV_PROMOTE:
        promote_msgs(s);
        return;
    case SRV_LSN:
        lsn_msgs(s);
        return;
    case SRV_AUTHQ:
        authq_msgs(s);
        return;
    case SRV_REPOINT:
        repoint_msgs(s);
        return;
    case SRV_FAN:
        /* a fanned-out shard's answer waits for its turn, bounded */
        if (buf_pending(&conn->in) > PG_BACKPRESSURE)
            pg_conn_read_stop(conn);
        return;
    default:
        srv_close(s, "unexpected bytes from an idle server");
        return;
    }
}

/* ---- failover --------------------------------------------------------------------------- */

/* The replica nbi is the primary now: the old one gets no traffic, its
 * queues move over, its pooled connections close. */
static void failed_over(struct pg_proxy *px, int nbi)
{
    int old = px->primary;
    px->backends[old].dead = true; /* fenced: see check_lag */
    px->backends[old].down_until_ms = now_ms() + px->cfg.replica_retry_ms;
    px->primary = nbi;
    px->backends[nbi].lagging = false;
    px->backends[nbi].down_until_ms = 0;
    px->backends[nbi].lag_ms = 0;
    px->primary_down_since_ms = 0;
    px->stats.failovers++;
    log_warn("failover: %s promoted; it is the primary now (%s is out)", px->backends[nbi].name, px->backends[old].name);
    for (int bi = 0; bi < px->nbackends; bi++) {
        struct pg_backend *b = &px->backends[bi];
        b->repoint = bi != nbi && !b->dead && !b->shard;
        b->repoint_after_ms = 0;
    }
    pg_state_save(px);
    for (struct pg_list *l = px->servers.next, *next; l != &px->servers; l = next) {
        next = l->next;
        struct pg_srv *s = pg_container_of(l, struct pg_srv, alink);
        if (!s->closed && s->bi == old && s->state != SRV_ACTIVE)
            srv_close(s, "failed over");
    }
    for (struct pg_list *l = px->pools.next; l != &px->pools; l = l->next) {
        struct pg_pool *p = pg_container_of(l, struct pg_pool, link);
        while (!pg_list_empty(&p->t[old].waiters)) {
            struct pg_client *c = pg_container_of(p->t[old].waiters.next, struct pg_client, wlink);
            pg_pool_unwait(c);
            pg_pool_request(p, nbi, c);
        }
    }
}

static void promote_msgs(struct pg_srv *s)
{
    struct buf *in = &s->conn.in;
    struct pg_proxy *px = s->px;
    for (;;) {
        struct pg_msg m;
        ssize_t r = pg_parse_msg(buf_head(in), buf_pending(in), LOGIN_MSG_MAX, &m);
        if (r == 0)
            return;
        if (r < 0 || m.type == 'E') {
            size_t l = 0;
            const char *msg = r > 0 ? pg_error_field(&m, 'M', &l) : NULL;
            log_warn("failover: pg_promote() on %s failed: %.*s", px->backends[s->bi].name, (int)(msg ? l : 0),
                     msg ? msg : "bad answer");
            px->promoting = false;
            px->primary_down_since_ms = now_ms(); /* try again after failover-timeout */
            srv_close(s, "pg_promote failed");
            return;
        }
        buf_consume(in, (size_t)r);
        if (m.type == 'D') {
            struct pg_rd rd;
            pg_rd_init(&rd, &m);
            int16_t n = pg_rd_i16(&rd);
            int32_t l = pg_rd_i32(&rd);
            const char *v = l == 1 ? pg_rd_bytes(&rd, 1) : NULL;
            s->status = (n == 1 && v && *v == 't') ? 'P' : 'F';
        } else if (m.type == 'Z') {
            bool ok = s->status == 'P';
            s->status = 'I';
            px->promoting = false;
            if (!ok) {
                log_warn("failover: pg_promote() on %s returned false", px->backends[s->bi].name);
                px->primary_down_since_ms = now_ms();
                srv_close(s, "pg_promote returned false");
                return;
            }
            set_state(s, SRV_IDLE);
            failed_over(px, s->bi);
            dispatch(s->pool, s->bi);
            return;
        }
    }
}

/* The pool whose connections promote and repoint: failover-user's on
 * database postgres, else any pool of an unsharded database (NULL: none yet). */
static struct pg_pool *failover_pool(struct pg_proxy *px)
{
    if (px->cfg.failover_user[0])
        return pg_pool_get(px, px->cfg.failover_user, "postgres");
    return plain_pool(px);
}

static int target_conns(const struct pg_target *t) { return t->nidle + t->nactive + t->nconnecting; }

/* The primary has refused logins for failover-timeout: promote the most
 * advanced replica (highest replay LSN at the last check, then smallest
 * lag) that has a pooled connection to ask with. With failover-user, its
 * pool's connections only (opened here when missing). */
static void maybe_failover(struct pg_proxy *px, long long now)
{
    if (px->cfg.failover_timeout_ms <= 0 || px->promoting || px->primary_down_since_ms == 0 ||
        now - px->primary_down_since_ms < px->cfg.failover_timeout_ms)
        return;
    struct pg_srv *best = NULL;
    struct pg_pool *only = px->cfg.failover_user[0] ? failover_pool(px) : NULL;
    for (struct pg_list *l = px->pools.next; l != &px->pools; l = l->next) {
        struct pg_pool *p = pg_container_of(l, struct pg_pool, link);
        if (p->smap || (only && p != only))
            continue;
        for (int bi = 0; bi < px->nbackends; bi++) {
            const struct pg_backend *b = &px->backends[bi];
            if (bi == px->primary || b->dead || b->shard)
                continue;
            if (p->t[bi].nidle == 0) {
                if (p == only && target_conns(&p->t[bi]) == 0 && b->down_until_ms <= now)
                    open_server(px, p, bi); /* the next tick promotes with it */
                continue;
            }
            struct pg_srv *s = pg_container_of(p->t[bi].idle.next, struct pg_srv, link);
            const struct pg_backend *bb = best ? &px->backends[best->bi] : NULL;
            long long lag = b->lag_ms < 0 ? 0 : b->lag_ms;
            if (!bb || b->replay_lsn > bb->replay_lsn ||
                (b->replay_lsn == bb->replay_lsn && lag < (bb->lag_ms < 0 ? 0 : bb->lag_ms)))
                best = s;
        }
    }
    if (!best)
        return; /* no replica connection to ask with yet: reads open one */
    log_warn("failover: primary %s down for %lld ms: promoting %s", px->backends[px->primary].name,
             now - px->primary_down_since_ms, px->backends[best->bi].name);
    px->promoting = true;
    set_state(best, SRV_PROMOTE);
    pg_write_query(&best->conn.out, "SELECT pg_promote(true, 60)");
    pg_conn_flush(&best->conn);
}

/* ---- repointing the other replicas -------------------------------------------------------- */

/* ALTER SYSTEM SET primary_conninfo (old with the new primary's host and
 * port), then pg_reload_conf(): two queries (ALTER SYSTEM refuses to run in
 * a multi-statement string); s->pending counts their ReadyForQuery. */
static int send_repoint(struct pg_srv *s, const char *old, size_t len)
{
    struct pg_proxy *px = s->px;
    struct buf ci, q;
    buf_init(&ci);
    buf_init(&q);
    int rc = pg_conninfo_repoint(old, len, px->backends[px->primary].name, &ci);
    if (rc == 0) {
        buf_puts(&q, "ALTER SYSTEM SET primary_conninfo = ");
        pg_sql_literal(&q, buf_head(&ci), buf_pending(&ci));
        buf_putc(&q, '\0');
        pg_write_query(&s->conn.out, buf_head(&q));
        pg_write_query(&s->conn.out, "SELECT pg_reload_conf()");
        pg_conn_flush(&s->conn);
        s->pending += 2;
    }
    buf_deinit(&ci);
    buf_deinit(&q);
    return rc;
}

static void repoint_failed(struct pg_srv *s, const char *why, size_t len)
{
    struct pg_backend *b = &s->px->backends[s->bi];
    log_warn("failover: repointing replica %s to %s failed: %.*s (retry in replica-retry)", b->name,
             s->px->backends[s->px->primary].name, (int)len, why);
    b->repoint_after_ms = now_ms() + s->px->cfg.replica_retry_ms;
    srv_close(s, "repoint failed");
}

static void repoint_msgs(struct pg_srv *s)
{
    struct buf *in = &s->conn.in;
    struct pg_proxy *px = s->px;
    struct pg_backend *b = &px->backends[s->bi];
    for (;;) {
        struct pg_msg m;
        ssize_t r = pg_parse_msg(buf_head(in), buf_pending(in), LOGIN_MSG_MAX, &m);
        if (r == 0)
            return;
        if (r < 0 || m.type == 'E') {
            size_t l = 0;
            const char *msg = r > 0 ? pg_error_field(&m, 'M', &l) : NULL;
            repoint_failed(s, msg ? msg : "bad answer", msg ? l : 10);
            return;
        }
        buf_consume(in, (size_t)r);
        if (m.type == 'D' && s->status == 'S') {
            /* SHOW primary_conninfo: the replica's own, host and port replaced */
            struct pg_rd rd;
            pg_rd_init(&rd, &m);
            int16_t n = pg_rd_i16(&rd);
            int32_t l = pg_rd_i32(&rd);
            const char *v = l > 0 ? pg_rd_bytes(&rd, (size_t)l) : NULL;
            if (n != 1 || send_repoint(s, v ? v : "", v ? (size_t)l : 0) != 0) {
                repoint_failed(s, "its primary_conninfo could not be parsed", 40);
                return;
            }
            s->status = 'A';
        } else if (m.type == 'Z') {
            if (--s->pending > 0)
                continue;
            if (s->status != 'A' || buf_pending(in)) {
                repoint_failed(s, "unexpected answer", 17);
                return;
            }
            s->status = 'I';
            b->repoint = false;
            px->stats.repoints++;
            log_warn("failover: replica %s repointed to the new primary %s", b->name, px->backends[px->primary].name);
            set_state(s, SRV_IDLE);
            dispatch(s->pool, s->bi);
            return;
        }
    }
}

/* After a failover, every remaining replica gets the new primary in its
 * primary_conninfo (a reload is enough since PostgreSQL 13; it follows the
 * new timeline with recovery_target_timeline 'latest', the default), on an
 * idle connection of the failover pool (opened here when it has none). */
static void repoint_replicas(struct pg_proxy *px, long long now)
{
    for (int bi = 0; bi < px->nbackends; bi++) {
        struct pg_backend *b = &px->backends[bi];
        if (!b->repoint)
            continue;
        if (bi == px->primary || b->dead || b->shard) {
            b->repoint = false;
            continue;
        }
        if (now < b->repoint_after_ms || px->promoting)
            continue;
        struct pg_pool *p = failover_pool(px);
        if (!p)
            continue; /* no pool yet: the first client makes one */
        struct pg_target *t = &p->t[bi];
        if (t->nidle == 0) {
            if (target_conns(t) == 0 && b->down_until_ms <= now)
                open_server(px, p, bi);
            continue;
        }
        struct pg_srv *s = pg_container_of(t->idle.next, struct pg_srv, link);
        set_state(s, SRV_REPOINT);
        s->pending = 0;
        if (px->cfg.failover_conninfo[0]) {
            s->status = 'A';
            if (send_repoint(s, px->cfg.failover_conninfo, strlen(px->cfg.failover_conninfo)) != 0) {
                repoint_failed(s, "failover-conninfo could not be parsed", 37);
                continue;
            }
        } else {
            s->status = 'S';
            s->pending = 1;
            pg_write_query(&s->conn.out, "SHOW primary_conninfo");
            pg_conn_flush(&s->conn);
        }
    }
}

static void srv_on_drain(struct pg_conn *conn)
{
    struct pg_srv *s = conn->owner;
    if (s->client)
        s->px->client_ops->resume(s->client);
}

static const struct pg_conn_ops srv_ops = {srv_on_read, srv_on_connect, srv_on_drain, srv_on_close};

/* ---- release ---------------------------------------------------------------------------- */

void pg_pool_release(struct pg_srv *s, bool client_gone)
{
    (void)client_gone;
    struct pg_client *c = s->client;
    if (c)
        c->srv = NULL;
    s->client = NULL;
    bool clean = s->state == SRV_ACTIVE && s->pending == 0 && s->status == 'I' && s->fwd_left == 0 &&
                 s->swallow_q == 0 &&
                 s->skip_left == 0 && buf_pending(&s->conn.in) == 0 && pg_conn_pending(&s->conn) == 0 &&
                 pg_prep_idle(&s->prep) && !s->prep.retire;
    if (!clean) {
        srv_close(s, "released inside a transaction or with a reply in flight");
        return;
    }
    const char *q = s->px->cfg.server_reset_query;
    if (s->px->cfg.pool_mode == PG_POOL_SESSION && q && q[0]) {
        struct pg_vars none;
        memset(&none, 0, sizeof none);
        pg_vars_copy(&s->vars, &none); /* DISCARD ALL resets the other settings SET for the client */
        set_state(s, SRV_RESET);
        pg_write_query(&s->conn.out, q);
        pg_conn_flush(&s->conn);
        pg_conn_read_start(&s->conn);
        return;
    }
    set_state(s, SRV_IDLE);
    dispatch(s->pool, s->bi);
}

/* ---- cancel ------------------------------------------------------------------------------ */

struct cancel_req {
    struct pg_conn conn;
    uint32_t pid, key;
};

static void cancel_on_read(struct pg_conn *conn, bool eof)
{
    (void)eof;
    pg_conn_close(conn);
}

static void cancel_on_connect(struct pg_conn *conn, int status)
{
    struct cancel_req *r = conn->owner;
    if (status != 0) {
        pg_conn_close(conn);
        return;
    }
    pg_write_cancel(&conn->out, r->pid, r->key);
    pg_conn_close_after_write(conn);
}

static void cancel_on_close(struct pg_conn *conn) { xfree(conn->owner); }

static const struct pg_conn_ops cancel_ops = {cancel_on_read, cancel_on_connect, NULL, cancel_on_close};

void pg_pool_cancel(struct pg_srv *s)
{
    struct cancel_req *r = xcalloc(1, sizeof *r);
    r->pid = s->be_pid;
    r->key = s->be_key;
    s->px->stats.cancels++;
    pg_conn_connect(s->px->loop, &r->conn, (const struct sockaddr *)&s->px->backends[s->bi].addr, &cancel_ops, r);
}

/* ---- timers and shutdown ------------------------------------------------------------------ */

void pg_pool_cron(struct pg_proxy *px, long long now)
{
    stats_period(px);
    const struct pg_config *cfg = &px->cfg;
    for (struct pg_list *l = px->servers.next, *next; l != &px->servers; l = next) {
        next = l->next;
        struct pg_srv *s = pg_container_of(l, struct pg_srv, alink);
        if (s->closed)
            continue;
        if ((s->state == SRV_CONNECTING || s->state == SRV_LOGIN) && now - s->since_ms > cfg->server_connect_timeout_ms)
            login_failed(s, NULL, 0, "server-connect-timeout: no login in time");
        else if ((s->state == SRV_CHECK || s->state == SRV_LSN || s->state == SRV_AUTHQ || s->state == SRV_REPOINT) && now - s->since_ms > cfg->server_connect_timeout_ms)
            srv_close(s, "no answer to the lag query in server-connect-timeout");
        else if (s->state == SRV_IDLE && cfg->server_idle_timeout_ms > 0 && now - s->since_ms > cfg->server_idle_timeout_ms)
            srv_close(s, "server-idle-timeout");
        /* login_failed may close other servers' clients, never other servers: next stays valid */
    }
    maybe_failover(px, now); /* first: the lag check may borrow the connection it needs */
    repoint_replicas(px, now);
    if (cfg->replica_max_lag_ms > 0 || lsn_mode(px) || px->stats.failovers > 0)
        check_lag(px, now);
    if (lsn_mode(px))
        sample_lsn(px);
    for (struct pg_list *l = px->pools.next; l != &px->pools; l = l->next) {
        struct pg_pool *p = pg_container_of(l, struct pg_pool, link);
        for (int bi = 0; bi < px->nbackends; bi++) {
            struct pg_target *t = &p->t[bi];
            if (cfg->reserve_pool_size > 0 && !pg_list_empty(&t->waiters))
                dispatch(p, bi); /* the reserve opens to a queue that waited reserve-pool-timeout */
            while (cfg->query_wait_timeout_ms > 0 && !pg_list_empty(&t->waiters)) {
                struct pg_client *c = pg_container_of(t->waiters.next, struct pg_client, wlink);
                if (now - c->since_ms <= cfg->query_wait_timeout_ms)
                    break;
                pg_pool_unwait(c);
                px->stats.wait_timeouts++;
                char msg[256];
                snprintf(msg, sizeof msg,
                         "query_wait_timeout: no server connection to %s within %lld ms (pool-size %lld for %s/%s)",
                         px->backends[bi].name, cfg->query_wait_timeout_ms, cfg->pool_size, p->user, p->database);
                c->px->client_ops->no_server(c, "53300", msg);
            }
        }
    }
}

void pg_pool_close_idle(struct pg_proxy *px)
{
    for (struct pg_list *l = px->servers.next, *next; l != &px->servers; l = next) {
        next = l->next;
        struct pg_srv *s = pg_container_of(l, struct pg_srv, alink);
        if (!s->closed && s->state != SRV_ACTIVE)
            srv_close(s, NULL);
    }
}

void pg_pool_free_all(struct pg_proxy *px)
{
    balancer_free(px);
    while (!pg_list_empty(&px->pools)) {
        struct pg_pool *p = pg_container_of(px->pools.next, struct pg_pool, link);
        pg_list_del(&p->link);
        xfree(p->user);
        xfree(p->database);
        buf_deinit(&p->params);
        xfree(p);
    }
}

void pg_pool_resume(struct pg_proxy *px)
{
    for (struct pg_list *l = px->pools.next; l != &px->pools; l = l->next) {
        struct pg_pool *p = pg_container_of(l, struct pg_pool, link);
        for (int bi = 0; bi < px->nbackends; bi++)
            dispatch(p, bi);
    }
}
