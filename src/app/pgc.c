/*
 * pgc.c — the app's PostgreSQL client: a pool of libpq connections driven on
 * the app's loop with libpq's asynchronous API (PQconnectStart/PQconnectPoll,
 * PQsendQueryParams, PQconsumeInput, PQgetResult) and one uv_poll per
 * connection socket, so no query ever blocks the loop and no thread pool is
 * needed. Each connection runs one query at a time; queries wait in one FIFO
 * for a free connection (bounded: beyond MAX_WAIT the query fails at once).
 * A broken connection fails its query and reconnects on the next one, at
 * most once per 200 ms.
 *
 * `pg` is a libpq conninfo string, so pointing the app at the pg proxy later
 * is a change of port, not of code.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "core/alloc.h"
#include "core/list.h"
#include "core/log.h"
#include "core/util.h"

#define MAX_CONNS 64
#define MAX_WAIT 10000
#define MAX_PARAMS 8
#define RECONNECT_MS 200

struct query {
    struct query *next;
    app_pg_cb cb;
    void *arg;
    char *sql;
    int nparams;
    char *params[MAX_PARAMS];
};

enum { P_DOWN, P_CONNECTING, P_IDLE, P_BUSY };

struct pconn {
    struct app_pg *pg;
    PGconn *conn;
    uv_poll_t *poll;      /* freed in its close callback */
    int fd;
    int state;
    struct query *q;      /* in progress */
    PGresult *res;        /* first result of the query in progress */
    long long last_fail_ms;
};

struct app_pg {
    uv_loop_t *loop;
    char *conninfo;
    int n;
    struct pconn c[MAX_CONNS];
    struct query *head, *tail;
    int nwait;
    unsigned long long queries;
};

static void dispatch(struct app_pg *pg);
static void conn_events(struct pconn *c);

static void query_free(struct query *q)
{
    for (int i = 0; i < q->nparams; i++)
        xfree(q->params[i]);
    xfree(q->sql);
    xfree(q);
}

static void poll_closed(uv_handle_t *h) { xfree(h); }

static void stop_poll(struct pconn *c)
{
    if (c->poll) {
        uv_close((uv_handle_t *)c->poll, poll_closed);
        c->poll = NULL;
    }
}

static void conn_fail(struct pconn *c)
{
    const char *msg = c->conn ? PQerrorMessage(c->conn) : "no connection";
    char err[256];
    snprintf(err, sizeof err, "%s", msg && *msg ? msg : "connection lost");
    size_t el = strlen(err);
    while (el && (err[el - 1] == '\n'))
        err[--el] = 0;
    for (size_t i = 0; i < el; i++) /* libpq's messages span lines: keep one log line */
        if (err[i] == '\n' || err[i] == '\t')
            err[i] = ' ';
    log_warn("postgres: %s", err);
    stop_poll(c);
    if (c->res)
        PQclear(c->res);
    c->res = NULL;
    if (c->conn)
        PQfinish(c->conn);
    c->conn = NULL;
    c->state = P_DOWN;
    c->last_fail_ms = util_time_ms();
    struct query *q = c->q;
    c->q = NULL;
    if (q) {
        q->cb(q->arg, NULL, err);
        query_free(q);
    }
}

static void on_poll(uv_poll_t *h, int status, int events);

static void want(struct pconn *c, int ev)
{
    if (!c->poll) {
        c->poll = xmalloc(sizeof *c->poll);
        if (uv_poll_init(c->pg->loop, c->poll, c->fd) != 0) {
            xfree(c->poll);
            c->poll = NULL;
            conn_fail(c);
            return;
        }
        c->poll->data = c;
    }
    uv_poll_start(c->poll, ev, on_poll);
}

static void connecting(struct pconn *c)
{
    switch (PQconnectPoll(c->conn)) {
    case PGRES_POLLING_READING:
        want(c, UV_READABLE);
        break;
    case PGRES_POLLING_WRITING:
        want(c, UV_WRITABLE);
        break;
    case PGRES_POLLING_OK:
        PQsetnonblocking(c->conn, 1);
        c->state = P_IDLE;
        want(c, UV_READABLE);
        dispatch(c->pg);
        break;
    default:
        conn_fail(c);
        dispatch(c->pg);
        break;
    }
}

static void finish_query(struct pconn *c)
{
    struct query *q = c->q;
    PGresult *res = c->res;
    c->q = NULL;
    c->res = NULL;
    c->state = P_IDLE;
    const char *err = NULL;
    if (!res)
        err = "no result";
    else if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        err = PQresultErrorMessage(res);
    q->cb(q->arg, res, err);
    if (res)
        PQclear(res);
    query_free(q);
}

static void conn_events(struct pconn *c)
{
    if (c->state == P_CONNECTING) {
        connecting(c);
        return;
    }
    if (!PQconsumeInput(c->conn)) {
        conn_fail(c);
        dispatch(c->pg);
        return;
    }
    if (c->state != P_BUSY) {
        /* notices or a server closing an idle connection */
        if (PQstatus(c->conn) == CONNECTION_BAD)
            conn_fail(c);
        return;
    }
    int f = PQflush(c->conn);
    if (f < 0) {
        conn_fail(c);
        dispatch(c->pg);
        return;
    }
    want(c, f == 1 ? UV_READABLE | UV_WRITABLE : UV_READABLE);
    while (!PQisBusy(c->conn)) {
        PGresult *r = PQgetResult(c->conn);
        if (!r) {
            finish_query(c);
            dispatch(c->pg);
            return;
        }
        if (!c->res)
            c->res = r;
        else
            PQclear(r);
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct pconn *c = h->data;
    (void)events;
    if (!c)
        return;
    if (status < 0) {
        conn_fail(c);
        dispatch(c->pg);
        return;
    }
    conn_events(c);
}

static void conn_open(struct pconn *c)
{
    if (util_time_ms() - c->last_fail_ms < RECONNECT_MS)
        return;
    c->conn = PQconnectStart(c->pg->conninfo);
    if (!c->conn || PQstatus(c->conn) == CONNECTION_BAD) {
        conn_fail(c);
        return;
    }
    c->fd = PQsocket(c->conn);
    c->state = P_CONNECTING;
    want(c, UV_WRITABLE);
}

static void start(struct pconn *c, struct query *q)
{
    c->q = q;
    c->state = P_BUSY;
    c->pg->queries++;
    if (!PQsendQueryParams(c->conn, q->sql, q->nparams, NULL, (const char *const *)q->params, NULL, NULL, 0)) {
        conn_fail(c);
        return;
    }
    int f = PQflush(c->conn);
    want(c, f == 1 ? UV_READABLE | UV_WRITABLE : UV_READABLE);
}

static void dispatch(struct app_pg *pg)
{
    bool any_live = false;
    for (int i = 0; i < pg->n && pg->head; i++) {
        struct pconn *c = &pg->c[i];
        if (c->state == P_DOWN)
            conn_open(c);
        if (c->state != P_DOWN)
            any_live = true;
        if (c->state != P_IDLE)
            continue;
        struct query *q = pg->head;
        QUEUE_SHIFT(pg->head, pg->tail, next);
        pg->nwait--;
        start(c, q);
    }
    if (!any_live) {
        for (int i = 0; i < pg->n; i++)
            if (pg->c[i].state != P_DOWN)
                any_live = true;
    }
    /* nothing can serve the waiting queries now: fail them */
    while (!any_live && pg->head) {
        struct query *q = pg->head;
        QUEUE_SHIFT(pg->head, pg->tail, next);
        pg->nwait--;
        q->cb(q->arg, NULL, "PostgreSQL unavailable");
        query_free(q);
    }
}

struct app_pg *app_pg_new(uv_loop_t *loop, const char *conninfo, int nconns)
{
    struct app_pg *pg = xcalloc(1, sizeof *pg);
    pg->loop = loop;
    pg->conninfo = xstrdup(conninfo);
    pg->n = nconns < 1 ? 1 : nconns > MAX_CONNS ? MAX_CONNS : nconns;
    for (int i = 0; i < pg->n; i++) {
        pg->c[i].pg = pg;
        pg->c[i].last_fail_ms = -RECONNECT_MS;
    }
    return pg;
}

void app_pg_free(struct app_pg *pg)
{
    if (!pg)
        return;
    for (int i = 0; i < pg->n; i++) {
        struct pconn *c = &pg->c[i];
        if (c->poll)
            c->poll->data = NULL;
        stop_poll(c);
        if (c->q) {
            c->q->cb(c->q->arg, NULL, "shutting down");
            query_free(c->q);
        }
        if (c->res)
            PQclear(c->res);
        if (c->conn)
            PQfinish(c->conn);
    }
    while (pg->head) {
        struct query *q = pg->head;
        pg->head = q->next;
        q->cb(q->arg, NULL, "shutting down");
        query_free(q);
    }
    xfree(pg->conninfo);
    xfree(pg);
}

struct failed {
    uv_timer_t t;
    app_pg_cb cb;
    void *arg;
};

static void failed_closed(uv_handle_t *h) { xfree(h); }

static void failed_fire(uv_timer_t *t)
{
    struct failed *f = (struct failed *)t;
    f->cb(f->arg, NULL, "too many queries waiting");
    uv_close((uv_handle_t *)t, failed_closed);
}

void app_pg_query(struct app_pg *pg, app_pg_cb cb, void *arg, const char *sql, int nparams,
                  const char *const *params)
{
    if (pg->nwait >= MAX_WAIT || nparams > MAX_PARAMS) {
        struct failed *f = xmalloc(sizeof *f);
        uv_timer_init(pg->loop, &f->t);
        f->cb = cb;
        f->arg = arg;
        uv_timer_start(&f->t, failed_fire, 0, 0);
        return;
    }
    struct query *q = xcalloc(1, sizeof *q);
    q->cb = cb;
    q->arg = arg;
    q->sql = xstrdup(sql);
    q->nparams = nparams;
    for (int i = 0; i < nparams; i++)
        q->params[i] = params[i] ? xstrdup(params[i]) : NULL; /* NULL: SQL NULL */
    QUEUE_PUSH(pg->head, pg->tail, q, next);
    pg->nwait++;
    dispatch(pg);
    /* dispatch may fail it at once when nothing is up; that callback then ran
     * inside this call. Handlers tolerate it (they only reply). */
}

unsigned long long app_pg_queries(const struct app_pg *pg) { return pg->queries; }

static const char schema_sql[] =
    "SET client_min_messages = warning;"
    "BEGIN;"
    "SELECT pg_advisory_xact_lock(726175);"  /* several instances start at once */
    "CREATE TABLE IF NOT EXISTS users (name text PRIMARY KEY, bio text NOT NULL DEFAULT '',"
    "  email text NOT NULL DEFAULT '', updated_at timestamptz NOT NULL DEFAULT now());"
    "CREATE TABLE IF NOT EXISTS follows (follower text NOT NULL, followee text NOT NULL,"
    "  PRIMARY KEY (follower, followee));"
    "CREATE INDEX IF NOT EXISTS follows_followee ON follows (followee);"
    "CREATE TABLE IF NOT EXISTS posts (id bigserial PRIMARY KEY, author text NOT NULL, body text NOT NULL,"
    "  created_at timestamptz NOT NULL DEFAULT now());"
    "CREATE INDEX IF NOT EXISTS posts_author ON posts (author, id DESC);"
    /* followers per user (the feed's fan-out threshold); counted once when
     * the column is added to a database from before it */
    "DO $$ BEGIN"
    "  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'users'"
    "                 AND column_name = 'followers') THEN"
    "    ALTER TABLE users ADD COLUMN followers bigint NOT NULL DEFAULT 0;"
    "    UPDATE users u SET followers = (SELECT count(*) FROM follows f WHERE f.followee = u.name);"
    "  END IF;"
    "END $$;"
    "CREATE TABLE IF NOT EXISTS products (id bigint PRIMARY KEY, name text NOT NULL, price_cents bigint NOT NULL);"
    "INSERT INTO products SELECT g, 'product ' || g, 100 + (g * 37) % 9900 FROM generate_series(1, 1000) g"
    "  ON CONFLICT DO NOTHING;"
    "COMMIT;";

int app_pg_schema(const char *conninfo, long long timeout_ms, char *err, size_t errlen)
{
    long long deadline = util_mono_us() / 1000 + timeout_ms;
    for (;;) {
        PGconn *c = PQconnectdb(conninfo);
        if (PQstatus(c) == CONNECTION_OK) {
            PGresult *r = PQexec(c, schema_sql);
            int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
            if (!ok)
                snprintf(err, errlen, "schema: %s", PQresultErrorMessage(r));
            PQclear(r);
            PQfinish(c);
            return ok ? 0 : -1;
        }
        snprintf(err, errlen, "cannot connect to PostgreSQL (%s): %s", conninfo, PQerrorMessage(c));
        PQfinish(c);
        if (util_mono_us() / 1000 >= deadline)
            return -1;
        usleep(200 * 1000);
    }
}
