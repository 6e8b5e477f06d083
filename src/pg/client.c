/*
 * client.c — client connections of the pg role: the startup packet
 * (SSLRequest and GSSENCRequest answered 'N', CancelRequest forwarded),
 * authentication (trust, md5, SCRAM-SHA-256 against the auth file), the
 * login answer (ParameterStatus replayed from the pool, our own
 * BackendKeyData), then routing each transaction to a server and passing
 * the client's bytes to it.
 *
 *   STARTUP ─▶ AUTH ─▶ READY ─(first message of a transaction)─▶ WAIT
 *                        ▲                                          │ linked
 *                        └──────(transaction mode: ReadyForQuery 'I')─ LINKED
 * In session mode a client stays LINKED from its first message (or from its
 * login, when the pool had no server parameters yet) until it leaves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/util.h"
#include "pg/pg.h"
#include "pg/route.h"
#include "proto/pg.h"

#define AUTH_MSG_MAX 8192

static const struct pg_conn_ops client_ops;

static long long now_ms(void) { return util_mono_us() / 1000; }

static void client_process(struct pg_client *c);

/* ---- errors and closing ------------------------------------------------------------ */

static void client_close(struct pg_client *c)
{
    if (c->state == CL_CLOSING && c->conn.closing)
        return;
    pg_pool_count_bytes(c);
    if (c->state == CL_WAIT)
        pg_pool_unwait(c);
    c->state = CL_CLOSING;
    if (c->srv)
        pg_pool_release(c->srv, true);
    c->srv = NULL;
    pg_conn_close(&c->conn);
}

/* Send a FATAL error and close once it is written. */
static void fatal(struct pg_client *c, const char *sqlstate, const char *message)
{
    if (c->state == CL_WAIT)
        pg_pool_unwait(c);
    if (c->srv)
        pg_pool_release(c->srv, true);
    c->srv = NULL;
    c->state = CL_CLOSING;
    pg_write_error(&c->conn.out, "FATAL", sqlstate, message);
    pg_conn_close_after_write(&c->conn);
}

void pg_client_fail(struct pg_client *c, const char *sqlstate, const char *message)
{
    if (c->state == CL_CLOSING)
        return;
    fatal(c, sqlstate, message);
}

static void pg_client_no_server(struct pg_client *c, const char *sqlstate, const char *message)
{
    if (c->state != CL_WAIT)
        return;
    pg_pool_unwait(c);
    if (!c->logged_in) {
        fatal(c, sqlstate, message);
        return;
    }
    c->state = CL_READY;
    pg_write_error(&c->conn.out, "ERROR", sqlstate, message);
    struct pg_msg m;
    if (c->fan) {
        c->fan = false; /* the fanned-out Query was taken off the input already */
        pg_pool_fan_abort(c);
        pg_write_ready(&c->conn.out, 'I');
    } else if (pg_parse_msg(buf_head(&c->conn.in), buf_pending(&c->conn.in), 0, &m) > 0 && m.type == 'Q') {
        buf_consume(&c->conn.in, m.len + 1);
        pg_write_ready(&c->conn.out, 'I');
    } else {
        c->skip_to_sync = true;
    }
    pg_conn_flush(&c->conn);
    pg_conn_read_start(&c->conn);
    client_process(c);
}

static void pg_client_fail_raw(struct pg_client *c, const char *msg, size_t len)
{
    if (c->state == CL_CLOSING)
        return;
    if (c->state == CL_WAIT)
        pg_pool_unwait(c);
    c->state = CL_CLOSING;
    buf_append(&c->conn.out, msg, len);
    pg_conn_close_after_write(&c->conn);
}

static void pg_client_server_lost(struct pg_client *c)
{
    c->srv = NULL;
    if (c->state == CL_CLOSING)
        return;
    fatal(c, "08006", "server conn crashed? the server closed the connection unexpectedly");
}

static void client_on_close(struct pg_conn *conn)
{
    struct pg_client *c = conn->owner;
    pg_list_del(&c->link);
    c->px->nclients--;
    xfree(c->scram);
    pg_prep_client_free(&c->prep);
    pg_vars_free(&c->vars);
    xfree(c->username);
    xfree(c->shard_key);
    xfree(c->authq_secret);
    if (c->authq_srv)
        c->authq_srv->client = NULL;
    pg_pool_fan_abort(c);
    buf_deinit(&c->fan_query);
    xfree(c);
}

/* ---- startup ------------------------------------------------------------------------- */

static const char *db_lookup(struct pg_proxy *px, const char *name)
{
    if (px->cfg.ndatabases == 0)
        return name;
    for (int i = 0; i < px->cfg.ndatabases; i++)
        if (strcmp(px->cfg.databases[i].name, name) == 0)
            return px->cfg.databases[i].dbname;
    return NULL;
}

static struct pg_client *find_by_key(struct pg_proxy *px, uint32_t pid, uint32_t key)
{
    for (struct pg_list *l = px->clients.next; l != &px->clients; l = l->next) {
        struct pg_client *c = pg_container_of(l, struct pg_client, link);
        if (c->pid == pid && c->key == key)
            return c;
    }
    return NULL;
}

static void login_done(struct pg_client *c);

static void send_challenge(struct pg_client *c);

static void start_auth(struct pg_client *c, const char *dbname)
{
    struct pg_proxy *px = c->px;
    c->user = pg_userlist_find(&px->users, c->username);
    if (!c->console)
        c->pool = pg_pool_get(px, c->username, dbname); /* per (user, database): found or made */
    if (!c->user && !c->console && px->cfg.auth_user[0] && px->cfg.auth_type != PG_AUTH_TRUST &&
        strcmp(c->username, px->cfg.auth_user) != 0) {
        /* not in the auth-file: ask the server (auth-query as auth-user), then challenge */
        struct pg_pool *ap = pg_pool_get(px, px->cfg.auth_user, dbname);
        c->authq = true;
        c->authq_failed = false;
        c->state = CL_WAIT;
        pg_pool_request(ap, ap->home, c);
        return;
    }
    send_challenge(c);
}

static void pg_client_authq_done(struct pg_client *c)
{
    struct pg_proxy *px = c->px;
    c->authq = false;
    char *secret = c->authq_secret;
    c->authq_secret = NULL;
    if (c->state != CL_WAIT) {
        xfree(secret);
        return;
    }
    if (secret && !c->authq_failed) {
        struct pg_user *u = pg_userlist_find(&px->fetched, c->username);
        bool fresh = !u;
        if (fresh) {
            u = xcalloc(1, sizeof *u);
            u->name = xstrdup(c->username);
        }
        if (pg_user_set_secret(u, secret) == 0) {
            if (fresh) {
                u->next = px->fetched.head;
                px->fetched.head = u;
            }
            c->user = u;
            if (c->pool)
                c->pool->auth = u;
        } else {
            log_warn("auth-query for user \"%s\": the secret is neither an md5 hash nor a SCRAM secret", c->username);
            if (fresh) {
                xfree(u->name);
                xfree(u);
            }
        }
    }
    xfree(secret);
    if (c->authq_failed) {
        px->stats.auth_failures++;
        fatal(c, "28000", "auth_query failed (see the proxy's log)");
        return;
    }
    send_challenge(c); /* an unknown user is challenged too, and fails with 28P01 */
    if (!c->in_process)
        client_process(c);
}

static void send_challenge(struct pg_client *c)
{
    struct pg_proxy *px = c->px;
    switch (px->cfg.auth_type) {
    case PG_AUTH_TRUST:
        login_done(c);
        return;
    case PG_AUTH_TYPE_MD5:
        pg_auth_random(c->salt, 4);
        pg_write_auth(&c->conn.out, PG_AUTH_MD5, c->salt, 4);
        c->auth_step = 0;
        break;
    default:
        pg_write_auth_sasl(&c->conn.out, "SCRAM-SHA-256");
        c->auth_step = 1;
        break;
    }
    c->state = CL_AUTH;
    pg_conn_flush(&c->conn);
}

/* A startup parameter listed in ignore-startup-parameters (comma-separated). */
static bool ignored_param(struct pg_proxy *px, const char *name)
{
    const char *l = px->cfg.ignore_startup_parameters;
    size_t n = strlen(name);
    while (l && *l) {
        while (*l == ',' || *l == ' ')
            l++;
        size_t k = strcspn(l, ", ");
        if (k == n && strncasecmp(l, name, n) == 0)
            return true;
        l += k;
    }
    return false;
}

/* Returns bytes consumed, 0 for more, -1 when the client was closed. */
static ssize_t on_startup(struct pg_client *c)
{
    struct pg_proxy *px = c->px;
    struct pg_startup st;
    ssize_t r = pg_parse_startup(buf_head(&c->conn.in), buf_pending(&c->conn.in), 0, &st);
    if (r == 0)
        return 0;
    if (r < 0) {
        char msg[160];
        if (r == PG_EPROTO) {
            snprintf(msg, sizeof msg, "unsupported frontend protocol %u.%u: server supports 3.0 to 3.0", st.code >> 16,
                     st.code & 0xffff);
            fatal(c, "0A000", msg);
        } else if (r == PG_ETOOBIG || r == PG_EFRAME) {
            fatal(c, "08P01", "invalid length of startup packet");
        } else {
            fatal(c, "08P01", "invalid startup packet layout: expected terminator as last byte");
        }
        return -1;
    }
    switch (st.kind) {
    case PG_SSL_REQUEST:
        buf_consume(&c->conn.in, (size_t)r);
        if (px->tls_ctx && !c->conn.tls) {
            if (buf_pending(&c->conn.in)) {
                /* bytes after the SSLRequest would have been sent in clear text */
                fatal(c, "08P01", "received unencrypted data after SSL request");
                return -1;
            }
            buf_putc(&c->conn.out, 'S');
            pg_conn_flush(&c->conn);
            if (pg_conn_tls_start(&c->conn, px->tls_ctx) != 0) {
                client_close(c);
                return -1;
            }
            return r;
        }
        buf_putc(&c->conn.out, 'N');
        pg_conn_flush(&c->conn);
        return r;
    case PG_GSSENC_REQUEST:
        buf_consume(&c->conn.in, (size_t)r);
        buf_putc(&c->conn.out, 'N');
        pg_conn_flush(&c->conn);
        return r;
    case PG_CANCEL_REQUEST: {
        struct pg_client *t = find_by_key(px, st.cancel_pid, st.cancel_key);
        if (t && t->srv)
            pg_pool_cancel(t->srv);
        client_close(c);
        return -1;
    }
    case PG_STARTUP:
        break;
    }
    if (!st.user || !st.user[0]) {
        fatal(c, "28000", "no PostgreSQL user name specified in startup packet");
        return -1;
    }
    if (px->cfg.client_tls_required && !c->conn.tls) {
        px->stats.auth_failures++;
        fatal(c, "28000", "SSL required: connect with sslmode=require (or stronger)");
        return -1;
    }
    const char *db = st.database && st.database[0] ? st.database : st.user;
    char msg[600], dbcopy[256];
    if (strlen(st.user) >= 256 || strlen(db) >= sizeof dbcopy) {
        fatal(c, "42622", "user or database name too long");
        return -1;
    }
    c->console = pg_console_wanted(px, db);
    const char *dbname = c->console ? db : db_lookup(px, db);
    if (!dbname) {
        snprintf(msg, sizeof msg, "database \"%s\" does not exist", db);
        px->stats.auth_failures++;
        fatal(c, "3D000", msg);
        return -1;
    }
    if ((st.code & 0xffff) != 0) {
        /* NegotiateProtocolVersion: we speak 3.0, and no _pq_ options */
        size_t b = pg_begin(&c->conn.out, 'v');
        pg_put_i32(&c->conn.out, 0);
        int nopt = 0;
        size_t pos = 0;
        const char *k, *v;
        while (pg_param_next(&st, &pos, &k, &v))
            if (strncmp(k, "_pq_.", 5) == 0)
                nopt++;
        pg_put_i32(&c->conn.out, nopt);
        pos = 0;
        while (pg_param_next(&st, &pos, &k, &v))
            if (strncmp(k, "_pq_.", 5) == 0)
                pg_put_str(&c->conn.out, k);
        pg_end(&c->conn.out, b);
    }
    size_t pos = 0;
    const char *k, *v;
    while (pg_param_next(&st, &pos, &k, &v)) {
        /* the six tracked settings, and every other parameter (each -c of
         * options too), are SET on the server the client is linked to */
        if (strcmp(k, "user") == 0 || strcmp(k, "database") == 0 || strncmp(k, "_pq_.", 5) == 0 ||
            ignored_param(px, k))
            continue;
        if (strcmp(k, "replication") == 0) {
            fatal(c, "0A000", "replication connections are not supported by the proxy");
            return -1;
        }
        int rc = strcmp(k, "options") == 0 ? pg_vars_parse_options(&c->vars, v) : pg_vars_set_extra(&c->vars, k, v);
        if (rc != 0) {
            snprintf(msg, sizeof msg,
                     rc == -1   ? "unrecognized configuration parameter \"%.200s\""
                     : rc == -2 ? "startup parameter \"%.200s\": value too long or too many parameters (at most 32)"
                                : "invalid command-line argument in startup parameter \"%.200s\"",
                     k);
            fatal(c, rc == -1 ? "42704" : rc == -2 ? "54000" : "22023", msg);
            return -1;
        }
    }
    c->username = xstrdup(st.user);
    snprintf(dbcopy, sizeof dbcopy, "%s", dbname);
    buf_consume(&c->conn.in, (size_t)r);
    if (c->console && !pg_console_allowed(px, c->username)) {
        snprintf(msg, sizeof msg, "not allowed: user \"%s\" is not in admin-users", c->username);
        px->stats.auth_failures++;
        fatal(c, "28000", msg);
        return -1;
    }
    start_auth(c, dbcopy);
    return c->state == CL_CLOSING ? -1 : r;
}

/* ---- authentication ---------------------------------------------------------------------- */

static void auth_failed(struct pg_client *c)
{
    char msg[400];
    snprintf(msg, sizeof msg, "password authentication failed for user \"%s\"", c->username);
    c->px->stats.auth_failures++;
    log_verbose("client %u: %s", c->pid, msg);
    fatal(c, "28P01", msg);
}

static ssize_t on_auth(struct pg_client *c)
{
    struct pg_msg m;
    ssize_t r = pg_parse_msg(buf_head(&c->conn.in), buf_pending(&c->conn.in), AUTH_MSG_MAX, &m);
    if (r == 0)
        return 0;
    if (r < 0 || m.type != 'p') {
        char msg[100];
        if (r < 0)
            snprintf(msg, sizeof msg, "invalid message length");
        else
            snprintf(msg, sizeof msg, "expected password response, got message type %d", (int)(unsigned char)m.type);
        fatal(c, "08P01", msg);
        return -1;
    }
    struct pg_rd rd;
    pg_rd_init(&rd, &m);
    struct pg_user *u = c->user;
    if (c->auth_step == 0) {
        size_t l;
        const char *pw = pg_rd_str(&rd, &l);
        char want[36];
        if (!pw || pg_rd_left(&rd) != 0) {
            fatal(c, "08P01", "invalid password packet size");
            return -1;
        }
        if (!u || !u->has_md5 || l != 35) {
            auth_failed(c);
            return -1;
        }
        pg_md5_salted(u->md5, c->salt, want);
        if (memcmp(want, pw, 35) != 0) {
            auth_failed(c);
            return -1;
        }
        buf_consume(&c->conn.in, (size_t)r);
        login_done(c);
        return c->state == CL_CLOSING ? -1 : r;
    }
    struct buf reply;
    buf_init(&reply);
    int rc;
    if (c->auth_step == 1) {
        const char *mech = pg_rd_str(&rd, NULL);
        int32_t len = pg_rd_i32(&rd);
        const char *data = len >= 0 ? pg_rd_bytes(&rd, (size_t)len) : NULL;
        if (!mech || rd.err || !data || pg_rd_left(&rd) != 0) {
            buf_deinit(&reply);
            fatal(c, "08P01", "malformed SASL message");
            return -1;
        }
        if (strcmp(mech, "SCRAM-SHA-256") != 0) {
            buf_deinit(&reply);
            fatal(c, "08P01", "client selected an invalid SASL authentication mechanism");
            return -1;
        }
        if (!c->scram)
            c->scram = xcalloc(1, sizeof *c->scram);
        rc = pg_scram_server_first(c->scram, u, data, (size_t)len, &reply);
        if (rc != 0) {
            buf_deinit(&reply);
            fatal(c, "08P01", "malformed SCRAM message");
            return -1;
        }
        pg_write_auth(&c->conn.out, PG_AUTH_SASL_CONTINUE, buf_head(&reply), buf_pending(&reply));
        c->auth_step = 2;
        buf_deinit(&reply);
        buf_consume(&c->conn.in, (size_t)r);
        pg_conn_flush(&c->conn);
        return r;
    }
    rc = pg_scram_server_final(c->scram, u, m.body, m.body_len, &reply);
    if (rc != 0) {
        buf_deinit(&reply);
        auth_failed(c);
        return -1;
    }
    pg_write_auth(&c->conn.out, PG_AUTH_SASL_FINAL, buf_head(&reply), buf_pending(&reply));
    buf_deinit(&reply);
    buf_consume(&c->conn.in, (size_t)r);
    login_done(c);
    return c->state == CL_CLOSING ? -1 : r;
}

/* AuthenticationOk, then the server's parameters, our key, ReadyForQuery. */
static void finish_login(struct pg_client *c)
{
    struct buf *o = &c->conn.out;
    /* the pool's parameters, but the client's own values of the settings it
     * asked for in its startup packet (servers are SET to them when linked) */
    const char *p = buf_head(&c->pool->params);
    size_t left = buf_pending(&c->pool->params);
    struct pg_msg m;
    ssize_t r;
    while (left && (r = pg_parse_msg(p, left, 0, &m)) > 0) {
        struct pg_rd rd;
        pg_rd_init(&rd, &m);
        const char *name = pg_rd_str(&rd, NULL), *value = pg_rd_str(&rd, NULL);
        int i = name && value ? pg_vars_index(name) : -1;
        if (i >= 0 && c->vars.v[i]) {
            pg_write_param_status(o, name, c->vars.v[i]);
        } else {
            buf_append(o, p, (size_t)r);
            if (i >= 0)
                pg_vars_set(&c->vars, name, value);
        }
        p += r;
        left -= (size_t)r;
    }
    pg_write_backend_key(o, c->pid, c->key);
    pg_write_ready(o, 'I');
    c->logged_in = true;
    c->since_ms = now_ms();
    pg_conn_flush(&c->conn);
}

static void login_done(struct pg_client *c)
{
    xfree(c->scram);
    c->scram = NULL;
    pg_write_auth(&c->conn.out, PG_AUTH_OK, NULL, 0);
    if (c->console) {
        pg_console_login(c);
        c->logged_in = true;
        c->state = CL_READY;
        pg_conn_flush(&c->conn);
        return;
    }
    if (c->pool->have_params) {
        finish_login(c);
        c->state = CL_READY;
        return;
    }
    /* the first client of a pool waits for a server login to learn the parameters */
    c->state = CL_WAIT;
    pg_conn_flush(&c->conn);
    pg_pool_request(c->pool, c->pool->home, c);
}

/* ---- linking ---------------------------------------------------------------------------- */

static void pg_client_linked(struct pg_client *c, struct pg_srv *s)
{
    c->srv = s;
    c->state = CL_LINKED;
    c->fwd_left = 0;
    c->since_ms = now_ms();
    if (c->fan) {
        /* the next shard of a fanned-out read */
        buf_append(&s->conn.out, buf_head(&c->fan_query), buf_pending(&c->fan_query));
        s->pending++;
        pg_srv_flush(s);
    }
    if (!c->logged_in) {
        finish_login(c);
        if (c->px->cfg.pool_mode == PG_POOL_TRANSACTION) {
            pg_pool_release(s, false);
            c->state = CL_READY;
        }
    }
    pg_conn_read_start(&c->conn);
    if (!c->in_process)
        client_process(c);
}

static void pg_client_unlinked(struct pg_client *c)
{
    c->srv = NULL;
    struct pg_proxy *px = c->px;
    if (c->wrote && px->cfg.read_your_writes == PG_RYW_WINDOW)
        c->primary_until_ms = now_ms() + px->cfg.read_your_writes_ms;
    if (c->wrote && px->cfg.read_your_writes == PG_RYW_LSN) {
        /* reads wait for the primary's LSN sampled after this commit, then for
         * a replica that replayed it */
        c->ryw_epoch = px->lsn_sent + 1;
        c->ryw_lsn = 0;
        px->lsn_wanted = true;
    }
    c->wrote = false;
    if (c->state == CL_CLOSING)
        return;
    if (c->fan) {
        if (pg_pool_fan_link(c))
            return;
        c->state = CL_WAIT;
        pg_pool_request(c->pool, c->pool->smap->bi[c->fan_next], c);
        return;
    }
    c->state = CL_READY;
    c->since_ms = now_ms();
    pg_conn_read_start(&c->conn);
    if (!c->in_process)
        client_process(c);
}

static void pg_client_resume(struct pg_client *c)
{
    if (c->state == CL_LINKED)
        pg_conn_read_start(&c->conn);
}

/* ---- the query phase ----------------------------------------------------------------------- */

/* Pass bytes to the linked server, message by message. Returns false when c closed. */
static bool pass_through(struct pg_client *c)
{
    struct pg_srv *s = c->srv;
    struct buf *in = &c->conn.in, *out = &s->conn.out;
    while (buf_pending(in)) {
        if (c->fwd_left) {
            size_t n = buf_pending(in) < c->fwd_left ? buf_pending(in) : c->fwd_left;
            buf_append(out, buf_head(in), n);
            buf_consume(in, n);
            c->fwd_left -= n;
            continue;
        }
        struct pg_msg m;
        ssize_t r = pg_msg_header(buf_head(in), buf_pending(in), 0, &m);
        if (r == 0)
            break;
        if (r < 0) {
            fatal(c, "08P01", "invalid message length");
            return false;
        }
        if (m.type == 'X') {
            pg_srv_flush(s);
            client_close(c);
            return false;
        }
        if (m.type == 'Q' || m.type == 'S' || m.type == 'F') {
            if (s->pending++ == 0) { /* SHOW STATS: a query, maybe a transaction, starts */
                long long now = util_mono_us();
                c->conn.request_ms = s->conn.request_ms = util_time_ms();
                s->q_start_us = now;
                if (!s->x_start_us)
                    s->x_start_us = now;
            }
        }
        if (c->px->cfg.pool_mode != PG_POOL_TRANSACTION) {
            c->fwd_left = m.len + 1;
            continue;
        }
        /* transaction mode: named statements are renamed, injected or answered here */
        if (!pg_prep_needs_whole(m.type)) {
            pg_prep_client_msg(&c->prep, &s->prep, &m, NULL, out);
            c->fwd_left = m.len + 1;
            continue;
        }
        if (m.len > c->px->cfg.max_message_size) {
            fatal(c, "54000", "message too long for the proxy (max-message-size)");
            return false;
        }
        r = pg_parse_msg(buf_head(in), buf_pending(in), 0, &m);
        if (r == 0) {
            if (m.type == 'Q' || m.type == 'S' || m.type == 'F')
                s->pending--; /* counted again when it is whole */
            break;
        }
        long k = pg_prep_client_msg(&c->prep, &s->prep, &m, buf_head(in), out);
        if (k < 0) {
            fatal(c, "53400", "too many prepared statements for one client (1000)");
            return false;
        }
        if (k > 0)
            buf_append(out, buf_head(in), (size_t)k);
        buf_consume(in, (size_t)r);
        if (s->fwd_left == 0 && s->skip_left == 0) {
            pg_prep_emit(&s->prep, &c->conn.out);
            pg_conn_flush(&c->conn);
        }
    }
    pg_srv_flush(s);
    return true;
}

/* ---- shard routing ---------------------------------------------------------------------- */

/* Answer the client's first message here: a command tag, or an ERROR (the
 * rest of an extended-protocol batch is then dropped up to its Sync). */
static void answer_here(struct pg_client *c, const struct pg_msg *m, const char *tag, const char *sqlstate,
                        const char *message)
{
    char type = m->type;
    buf_consume(&c->conn.in, m->len + 1);
    if (sqlstate) {
        pg_write_error(&c->conn.out, "ERROR", sqlstate, message);
    } else {
        size_t b = pg_begin(&c->conn.out, 'C');
        pg_put_str(&c->conn.out, tag);
        pg_end(&c->conn.out, b);
    }
    if (type == 'Q')
        pg_write_ready(&c->conn.out, 'I');
    else if (type != 'S')
        c->skip_to_sync = true;
    else
        pg_write_ready(&c->conn.out, 'I');
    pg_conn_flush(&c->conn);
}

/* The SQL of a Query or Parse, or of the named statement a Bind uses. */
static const char *msg_sql(struct pg_client *c, const struct pg_msg *m, size_t *len)
{
    struct pg_rd rd;
    pg_rd_init(&rd, m);
    *len = 0;
    if (m->type == 'Q')
        return pg_rd_str(&rd, len);
    if (m->type == 'P') {
        pg_rd_str(&rd, NULL);
        return pg_rd_str(&rd, len);
    }
    if (m->type == 'B') {
        pg_rd_str(&rd, NULL);
        size_t nl;
        const char *name = pg_rd_str(&rd, &nl);
        struct pg_stmt *st = name && nl ? pg_prep_find(&c->prep, name) : NULL;
        if (st) {
            *len = strnlen(st->body, st->len);
            return st->body;
        }
    }
    return NULL;
}

/* Statements that touch no table: without a shard key they run on shard 0. */
static bool session_statement(const char *sql, size_t len)
{
    static const char *const words[] = {"set", "reset", "discard", "show", "deallocate", "listen", "unlisten", NULL};
    size_t i = 0;
    while (i < len && (sql[i] == ' ' || sql[i] == '\t' || sql[i] == '\n' || sql[i] == '\r'))
        i++;
    size_t k = i;
    while (k < len && ((sql[k] | 0x20) >= 'a' && (sql[k] | 0x20) <= 'z'))
        k++;
    for (int w = 0; words[w]; w++)
        if (util_strieq(sql + i, k - i, words[w]))
            return true;
    return false;
}

/* A sharded database: the backend of the message's shard, or -1 when it
 * was answered here (SET scaleout.shard_key...), refused, or fanned out. */
static int shard_route(struct pg_client *c, const struct pg_msg *m)
{
    struct pg_proxy *px = c->px;
    struct pg_shard_map *sm = c->pool->smap;
    char keybuf[PG_SHARD_KEY_MAX], msg[600];
    const char *key = NULL;
    size_t klen = 0, len;
    const char *sql = msg_sql(c, m, &len);
    if (m->type == 'Q' && sql) {
        switch (pg_route_shard_set(sql, len, keybuf, sizeof keybuf, &klen)) {
        case PG_SET_KEY:
            xfree(c->shard_key);
            c->shard_key = xstrdup(keybuf);
            answer_here(c, m, "SET", NULL, NULL);
            return -1;
        case PG_SET_CLEAR:
            xfree(c->shard_key);
            c->shard_key = NULL;
            answer_here(c, m, session_statement(sql, len) && (sql[strspn(sql, " \t\r\n")] | 0x20) == 'r' ? "RESET" : "SET",
                        NULL, NULL);
            return -1;
        case PG_SET_CLEAR_PASS:
            xfree(c->shard_key);
            c->shard_key = NULL;
            break;
        case PG_SET_BAD:
            answer_here(c, m, NULL, "22023",
                        "invalid value for parameter \"scaleout.shard_key\": a number, a word or a 'string' of at most 255 bytes");
            return -1;
        case PG_SET_NONE:
            break;
        }
    }
    if (sql) {
        struct pg_hints h;
        pg_route_hints(sql, len, &h);
        if (h.shard_key) {
            size_t o = 0;
            for (size_t k = 0; k < h.shard_key_len && o + 1 < sizeof keybuf; k++) {
                keybuf[o++] = h.shard_key[k];
                if (h.shard_key_quoted && h.shard_key[k] == '\'')
                    k++;
            }
            keybuf[o] = '\0';
            key = keybuf;
            klen = o;
        }
    }
    if (!key && c->shard_key) {
        key = c->shard_key;
        klen = strlen(key);
    }
    if (key) {
        int sh = pg_shard_of(sm, key, klen);
        if (sh < 0) {
            snprintf(msg, sizeof msg, "shard key \"%.*s\" maps to no shard of database \"%s\"", (int)(klen > 200 ? 200 : klen),
                     key, sm->database);
            answer_here(c, m, NULL, "22023", msg);
            return -1;
        }
        return sm->bi[sh];
    }
    if (!sql ? m->type != 'F' : session_statement(sql, len))
        return sm->bi[0];
    int nst = 0;
    if (px->cfg.fanout_reads && m->type == 'Q' && pg_route_classify_n(sql, len, &nst) == PG_ROUTE_READ && nst == 1) {
        c->fan = true;
        c->fan_next = 0;
        c->fan_T = c->fan_err = false;
        c->fan_select = true;
        c->fan_rows = 0;
        c->fan_tag[0] = '\0';
        c->fan_query.off = c->fan_query.len = 0;
        buf_append(&c->fan_query, buf_head(&c->conn.in), m->len + 1);
        buf_consume(&c->conn.in, m->len + 1);
        px->stats.queries_primary++;
        pg_pool_fan_start(c); /* the other shards start at once where a connection is idle */
        c->state = CL_WAIT;
        pg_pool_request(c->pool, sm->bi[0], c);
        return -1;
    }
    snprintf(msg, sizeof msg,
             "no shard key: database \"%s\" is sharded; add /*+ shard_key=... */ to the statement or SET "
             "scaleout.shard_key%s",
             sm->database, px->cfg.fanout_reads ? " (only single read-only simple queries are fanned out)" : "");
    answer_here(c, m, NULL, "0A000", msg);
    return -1;
}

static void client_process(struct pg_client *c)
{
    struct pg_proxy *px = c->px;
    c->in_process = true;
    for (;;) {
        if (c->state == CL_STARTUP) {
            if (on_startup(c) <= 0)
                break;
            continue;
        }
        if (c->state == CL_AUTH) {
            if (on_auth(c) <= 0)
                break;
            continue;
        }
        if (c->state == CL_LINKED) {
            if (c->fan)
                break; /* the client's next messages wait for the fan-out to end */
            if (!pass_through(c))
                break;
            if (c->state == CL_LINKED)
                break; /* everything passed; a release re-enters through pg_client_unlinked */
            continue;
        }
        if (c->state != CL_READY || buf_pending(&c->conn.in) == 0)
            break;
        struct pg_msg m;
        ssize_t r = pg_msg_header(buf_head(&c->conn.in), buf_pending(&c->conn.in), px->cfg.max_message_size, &m);
        if (r == 0)
            break;
        if (r < 0) {
            fatal(c, r == PG_ETOOBIG ? "54000" : "08P01",
                  r == PG_ETOOBIG ? "message too long for the proxy (max-message-size)" : "invalid message length");
            break;
        }
        if (m.type == 'X') {
            client_close(c);
            break;
        }
        if (c->console) {
            r = pg_parse_msg(buf_head(&c->conn.in), buf_pending(&c->conn.in), px->cfg.max_message_size, &m);
            if (r == 0)
                break;
            pg_console_message(c, &m);
            buf_consume(&c->conn.in, (size_t)r);
            pg_conn_flush(&c->conn);
            continue;
        }
        if (c->skip_to_sync) {
            /* after an error in an extended-protocol batch, PostgreSQL drops
             * messages up to the Sync and answers it with ReadyForQuery */
            if (buf_pending(&c->conn.in) < (size_t)m.len + 1) {
                c->fwd_left = 0;
                break;
            }
            buf_consume(&c->conn.in, m.len + 1);
            if (m.type == 'S') {
                c->skip_to_sync = false;
                pg_write_ready(&c->conn.out, 'I');
                pg_conn_flush(&c->conn);
            }
            continue;
        }
        r = pg_parse_msg(buf_head(&c->conn.in), buf_pending(&c->conn.in), px->cfg.max_message_size, &m);
        if (r == 0)
            break; /* the whole first message is needed to route it */
        int bi = px->primary;
        if (c->pool->smap) {
            bi = shard_route(c, &m);
            if (bi < 0)
                continue; /* answered here, refused, or fanned out */
        } else if (px->cfg.pool_mode == PG_POOL_TRANSACTION && px->cfg.read_write_split && px->nbackends > 1) {
            const char *sql = NULL;
            size_t len = 0;
            struct pg_rd rd;
            pg_rd_init(&rd, &m);
            if (m.type == 'Q') {
                sql = pg_rd_str(&rd, &len);
            } else if (m.type == 'P') {
                pg_rd_str(&rd, NULL);
                sql = pg_rd_str(&rd, &len);
            } else if (m.type == 'B') {
                /* a Bind of a named statement: route by the statement's SQL */
                pg_rd_str(&rd, NULL);
                size_t nl;
                const char *name = pg_rd_str(&rd, &nl);
                struct pg_stmt *st = name && nl ? pg_prep_find(&c->prep, name) : NULL;
                if (st) {
                    sql = st->body;
                    len = strnlen(st->body, st->len);
                }
            }
            struct pg_hints hints;
            if (sql)
                pg_route_hints(sql, len, &hints);
            if (sql && ((hints.replica && !hints.primary) || pg_route_classify(sql, len) == PG_ROUTE_READ)) {
                if (c->ryw_epoch && !c->ryw_lsn && (int)(px->lsn_known - c->ryw_epoch) >= 0)
                    c->ryw_lsn = px->primary_lsn; /* a sample taken after the write's commit */
                if (c->ryw_epoch && px->cfg.read_your_writes == PG_RYW_LSN)
                    bi = c->ryw_lsn ? pg_pool_pick_replica(px, c->ryw_lsn, c->pid) : px->primary;
                else if (c->primary_until_ms <= now_ms())
                    bi = pg_pool_pick_replica(px, 0, c->pid);
            } else {
                c->wrote = true;
            }
        }
        px->backends[bi].queries++;
        if (bi == px->primary)
            px->stats.queries_primary++;
        else
            px->stats.queries_replica++;
        c->state = CL_WAIT;
        pg_pool_request(c->pool, bi, c);
    }
    c->in_process = false;
    if (c->state == CL_WAIT && buf_pending(&c->conn.in) > c->px->cfg.max_message_size + 65536)
        pg_conn_read_stop(&c->conn);
}

/* ---- socket callbacks ------------------------------------------------------------------------ */

static void client_on_read(struct pg_conn *conn, bool eof)
{
    struct pg_client *c = conn->owner;
    if (c->state == CL_CLOSING)
        return;
    if (eof) {
        client_close(c);
        return;
    }
    if (c->state == CL_READY || c->state == CL_LINKED)
        c->since_ms = now_ms();
    client_process(c);
}

static void client_on_drain(struct pg_conn *conn)
{
    struct pg_client *c = conn->owner;
    if (c->srv)
        pg_conn_read_start(&c->srv->conn);
}

static void client_on_connect(struct pg_conn *conn, int status) { (void)conn, (void)status; }

static const struct pg_conn_ops client_ops = {client_on_read, client_on_connect, client_on_drain, client_on_close};

void pg_client_init(struct pg_proxy *px)
{
    static const struct pg_pool_client_ops ops = {
        .linked = pg_client_linked,
        .no_server = pg_client_no_server,
        .fail_raw = pg_client_fail_raw,
        .unlinked = pg_client_unlinked,
        .authq_done = pg_client_authq_done,
        .server_lost = pg_client_server_lost,
        .resume = pg_client_resume,
    };
    px->client_ops = &ops;
}

void pg_client_accept(struct pg_proxy *px, uv_stream_t *listener)
{
    struct pg_client *c = xcalloc(1, sizeof *c);
    c->px = px;
    c->state = CL_STARTUP;
    c->since_ms = now_ms();
    c->pid = ++px->next_pid;
    pg_auth_random(&c->key, sizeof c->key);
    pg_list_init(&c->wlink);
    buf_init(&c->fan_query);
    pg_list_push(&px->clients, &c->link);
    px->nclients++;
    if (pg_conn_accept(px->loop, listener, &c->conn, &client_ops, c) != 0)
        return; /* closed: on_close frees it */
    px->stats.clients_accepted++;
    if (px->draining) {
        px->stats.clients_refused++;
        fatal(c, "57P03", "the proxy is shutting down");
    } else if (px->nclients > px->cfg.max_client_conn) {
        px->stats.clients_refused++;
        fatal(c, "53300", "no more connections allowed (max_client_conn)");
    }
}

/* ---- timers and shutdown ------------------------------------------------------------------------ */

void pg_client_cron(struct pg_proxy *px, long long now)
{
    const struct pg_config *cfg = &px->cfg;
    for (struct pg_list *l = px->clients.next; l != &px->clients; l = l->next) {
        struct pg_client *c = pg_container_of(l, struct pg_client, link);
        if ((c->state == CL_STARTUP || c->state == CL_AUTH) && now - c->since_ms > cfg->client_login_timeout_ms)
            fatal(c, "08P01", "client_login_timeout: no login in time");
        else if (c->state == CL_READY && cfg->client_idle_timeout_ms > 0 && now - c->since_ms > cfg->client_idle_timeout_ms)
            fatal(c, "57P05", "client_idle_timeout: terminating connection due to idle timeout");
        else if (c->state == CL_LINKED && cfg->pool_mode == PG_POOL_SESSION && cfg->client_idle_timeout_ms > 0 &&
                 c->srv && c->srv->pending == 0 && c->srv->status == 'I' && now - c->since_ms > cfg->client_idle_timeout_ms)
            fatal(c, "57P05", "client_idle_timeout: terminating connection due to idle timeout");
    }
}

void pg_client_drain(struct pg_proxy *px, bool all)
{
    for (struct pg_list *l = px->clients.next; l != &px->clients; l = l->next) {
        struct pg_client *c = pg_container_of(l, struct pg_client, link);
        if (c->state == CL_CLOSING)
            continue;
        bool idle = c->state != CL_LINKED ||
                    (c->srv && c->srv->pending == 0 && c->srv->status == 'I' && c->fwd_left == 0 && c->srv->fwd_left == 0);
        if (all || idle)
            fatal(c, "57P01", "terminating connection due to administrator command");
    }
}
