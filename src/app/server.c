/*
 * server.c — the app's HTTP/1.1 server on one libuv loop, its capacity gate,
 * admin endpoint and main.
 *
 * A connection reads a request (proto/http1, Content-Length bodies up to
 * max-body; chunked bodies get 411), stops reading, and hands an app_req to
 * the gate. The gate models a CPU-bound server: `concurrency` slots, each
 * request holds one for `service-time` (waiting on a timer, or burning CPU
 * with `service-spin yes`), then runs its handler, whose kv and PostgreSQL
 * calls do not hold a slot. So one instance serves at most
 * concurrency / service-time requests per second, queues beyond that (up to
 * max-queue, then 503 + Retry-After), and N instances serve N times as many:
 * what the seeds' "N servers ≈ N× capacity" claim needs on a 2-core machine
 * where real CPU-bound work would compete for the same cores.
 *
 * Lifetime: a connection is freed when it is closed and no request of it is
 * in flight (a handler may still be waiting on PostgreSQL when the client
 * leaves; its reply is then dropped).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "net/admin.h"
#include "net/conn.h"
#include "net/server.h"
#include "core/alloc.h"
#include "core/list.h"
#include "core/log.h"
#include "core/net.h"
#include "core/util.h"
#include "proto/http1.h"
#include "proto/json.h"

#define MAX_HEADERS 64
#define DRAIN_MS 5000

struct app_conn {
    struct app_server *srv;
    uv_tcp_t tcp;
    struct buf in;
    struct http1_request req;
    struct http1_header hdr[MAX_HEADERS];
    size_t head_len;        /* header block parsed, waiting for the body */
    bool closing;
    bool busy;              /* a request in flight */
    bool keep_alive;
    unsigned wflags;
    struct net_out out;     /* responses on their way (net/conn.h) */
};

struct gate_item {
    struct app_req *r;
    long long ms;
    void (*then)(struct app_req *r);
    struct gate_item *next;
};

struct app_server {
    struct app_ctx ctx;      /* first: context.c reads it (app.h) */
    struct app_config cfg;
    uv_loop_t *loop;
    uv_tcp_t listener;
    bool listening;
    struct admin *admin;
    struct app_kv *kv;
    struct app_pg *pg;
    struct app_wb *wb;       /* write-behind flusher (profile-cache write-behind) */
    struct net_signals sig;
    uv_timer_t drain_timer;
    bool draining;
    long long nconns;
    long long inflight;      /* requests not yet answered */
    long long busy_slots;
    struct gate_item *qhead, *qtail;
    long long qlen;
    long long start_ms;
    struct app_metrics m;
    unsigned long long lat_us_sum;
};

static void conn_read_start(struct app_conn *c);
static void server_reply(struct app_req *r, int status, const char *ctype, const char *body, size_t len,
                         const char *extra_headers);
static void maybe_finish_drain(struct app_server *s);

/* ---- connections --------------------------------------------------------- */

static void conn_closed(uv_handle_t *h)
{
    struct app_conn *c = h->data;
    c->srv->nconns--;
    buf_deinit(&c->in);
    net_out_deinit(&c->out);
    xfree(c);
}

/* A closing connection goes once no request is in flight and all is sent. */
static void conn_close_if_idle(struct app_conn *c)
{
    if (c->closing && !c->busy && !c->out.busy && !uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void conn_close(struct app_conn *c)
{
    c->closing = true;
    conn_close_if_idle(c);
}

static void conn_flush(struct app_conn *c);

static void on_write(uv_write_t *w, int status)
{
    struct app_conn *c = w->data;
    net_out_written(&c->out);
    if (status < 0)
        c->closing = true;
    else
        conn_flush(c); /* what was queued meanwhile */
    conn_close_if_idle(c);
}

static void conn_flush(struct app_conn *c)
{
    if (net_out_flush((uv_stream_t *)&c->tcp, &c->out, c, on_write) < 0)
        c->closing = true;
}

/* Queue b's bytes (b is emptied) and send what the socket takes now. */
static void conn_send(struct app_conn *c, struct buf *b)
{
    buf_append(&c->out.out, buf_head(b), buf_pending(b));
    buf_deinit(b);
    buf_init(b);
    conn_flush(c);
}

static void send_error_close(struct app_conn *c, int status, const char *msg)
{
    struct buf b;
    buf_init(&b);
    struct buf body;
    buf_init(&body);
    buf_printf(&body, "{\"error\":\"%s\"}\n", msg);
    http1_write_response(&b, status, "application/json", buf_head(&body), buf_pending(&body), NULL,
                         HTTP1_W_CLOSE | HTTP1_W_DATE);
    buf_deinit(&body);
    conn_send(c, &b);
    conn_close(c);
}

/* ---- the capacity gate ------------------------------------------------------ */

struct slot {
    uv_timer_t t;
    struct app_req *r;
    long long ms;                     /* time the slot is held */
    void (*then)(struct app_req *r);  /* what runs once it is released */
};

static void slot_closed(uv_handle_t *h) { xfree(h); }

static void gate_admit(struct app_server *s, struct app_req *r, long long ms, void (*then)(struct app_req *r));

static void slot_done(uv_timer_t *t)
{
    struct slot *sl = (struct slot *)t;
    struct app_server *s = sl->r->srv;
    struct app_req *r = sl->r;
    void (*then)(struct app_req *r) = sl->then;
    if (s->cfg.service_spin && sl->ms > 0) {
        /* burn the time on this core: really CPU-bound work */
        long long until = util_mono_us() + sl->ms * 1000;
        volatile unsigned long long x = 0;
        while (util_mono_us() < until)
            for (int i = 0; i < 1000; i++)
                x += (unsigned long long)i * 2654435761u;
    }
    uv_close((uv_handle_t *)t, slot_closed);
    s->busy_slots--;
    if (s->qhead) {
        struct gate_item *it = s->qhead;
        QUEUE_SHIFT(s->qhead, s->qtail, next);
        s->qlen--;
        gate_admit(s, it->r, it->ms, it->then);
        xfree(it);
    }
    then(r);
}

static void gate_admit(struct app_server *s, struct app_req *r, long long ms, void (*then)(struct app_req *r))
{
    s->busy_slots++;
    struct slot *sl = xmalloc(sizeof *sl);
    sl->r = r;
    sl->ms = ms;
    sl->then = then;
    uv_timer_init(s->loop, &sl->t);
    uv_timer_start(&sl->t, slot_done, s->cfg.service_spin ? 0 : (uint64_t)ms, 0);
}

static void gate_enter(struct app_server *s, struct app_req *r, long long ms, void (*then)(struct app_req *r))
{
    if (s->busy_slots < s->cfg.concurrency) {
        gate_admit(s, r, ms, then);
        return;
    }
    if (s->qlen >= s->cfg.max_queue) {
        s->m.rejected_total++;
        server_reply(r, 503, "application/json", "{\"error\":\"over capacity\"}\n", 26, "Retry-After: 1\r\n");
        return;
    }
    struct gate_item *it = xmalloc(sizeof *it);
    it->r = r;
    it->ms = ms;
    it->then = then;
    QUEUE_PUSH(s->qhead, s->qtail, it, next);
    s->qlen++;
}

/* ctx.work: app_work (context.c) */
static void server_work(struct app_req *r, long long ms, void (*then)(struct app_req *r))
{
    gate_enter(r->srv, r, ms, then);
}

/* ---- requests -------------------------------------------------------------- */

static void find_cookie(const struct http1_request *req, char *sid, size_t cap)
{
    sid[0] = 0;
    for (size_t i = 0; i < req->num_headers; i++) {
        const struct http1_header *h = &req->headers[i];
        if (!util_strieq(h->name, h->name_len, "cookie"))
            continue;
        const char *p = h->value, *end = h->value + h->value_len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == ';'))
                p++;
            const char *e = memchr(p, ';', (size_t)(end - p));
            if (!e)
                e = end;
            if (e - p > 4 && memcmp(p, "sid=", 4) == 0) {
                size_t n = (size_t)(e - p - 4);
                if (n < cap) {
                    memcpy(sid, p + 4, n);
                    sid[n] = 0;
                }
                return;
            }
            p = e;
        }
    }
}

static void start_request(struct app_conn *c, const char *body, size_t body_len)
{
    struct app_server *s = c->srv;
    struct app_req *r = xcalloc(1, sizeof *r);
    r->srv = s;
    r->conn = c;
    r->method = c->req.meth;
    r->t0_us = util_mono_us();
    size_t tl = c->req.target_len;
    const char *q = memchr(c->req.target, '?', tl);
    if (q)
        tl = (size_t)(q - c->req.target);
    if (tl >= sizeof r->path)
        tl = sizeof r->path - 1;
    memcpy(r->path, c->req.target, tl);
    r->path[tl] = 0;
    find_cookie(&c->req, r->sid, sizeof r->sid);
    if (body_len) {
        r->body = xmalloc(body_len + 1);
        memcpy(r->body, body, body_len);
        r->body[body_len] = 0;
        r->body_len = body_len;
    }
    c->busy = true;
    c->keep_alive = c->req.keep_alive;
    c->wflags = http1_request_write_flags(&c->req);
    s->inflight++;
    if (s->draining)
        c->wflags |= HTTP1_W_CLOSE;
    gate_enter(s, r, s->cfg.service_time_ms, app_handle);
}

/* Parse what has arrived; start at most one request. */
static void conn_process(struct app_conn *c)
{
    struct app_server *s = c->srv;
    if (c->busy || c->closing)
        return;
    if (c->head_len == 0) {
        int n = http1_parse_request(buf_head(&c->in), buf_pending(&c->in), &c->req, NULL);
        if (n == HTTP1_INCOMPLETE)
            return;
        if (n < 0) {
            struct buf b;
            buf_init(&b);
            http1_write_error(&b, n);
            conn_send(c, &b);
            conn_close(c);
            return;
        }
        c->head_len = (size_t)n;
        if (c->req.body == HTTP1_BODY_CHUNKED) {
            send_error_close(c, 411, "chunked bodies are not accepted: send Content-Length");
            return;
        }
        if (c->req.body == HTTP1_BODY_LENGTH && c->req.content_length > (uint64_t)s->cfg.max_body) {
            send_error_close(c, 413, "body too large");
            return;
        }
        if (c->req.expect_continue && c->req.body == HTTP1_BODY_LENGTH && c->req.content_length > 0) {
            struct buf b;
            buf_init(&b);
            buf_puts(&b, "HTTP/1.1 100 Continue\r\n\r\n");
            conn_send(c, &b);
        }
    }
    size_t blen = c->req.body == HTTP1_BODY_LENGTH ? (size_t)c->req.content_length : 0;
    if (buf_pending(&c->in) < c->head_len + blen)
        return;
    /* the buffer may have moved while the body arrived: parse the head again
     * so the target and header slices point into it (a final result reset
     * the parser, so this is a fresh, same-result parse) */
    if (http1_parse_request(buf_head(&c->in), c->head_len, &c->req, NULL) != (int)c->head_len) {
        send_error_close(c, 400, "bad request");
        return;
    }
    uv_read_stop((uv_stream_t *)&c->tcp);
    start_request(c, buf_head(&c->in) + c->head_len, blen);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct app_conn *c = h->data;
    (void)hint;
    buf_reserve(&c->in, 16384);
    *b = uv_buf_init(buf_tail(&c->in), (unsigned)buf_room(&c->in));
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
    struct app_conn *c = st->data;
    (void)b;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    c->in.len += (size_t)nread;
    if (c->head_len == 0 && buf_pending(&c->in) > 65536) {
        send_error_close(c, 431, "request head too large");
        return;
    }
    conn_process(c);
}

static void conn_read_start(struct app_conn *c)
{
    if (c->closing)
        return;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void free_req(struct app_req *r)
{
    xfree(r->body);
    xfree(r->scratch);
    xfree(r);
}

/* ctx.reply: app_reply (context.c) */
static void server_reply(struct app_req *r, int status, const char *ctype, const char *body, size_t len,
                         const char *extra_headers)
{
    struct app_server *s = r->srv;
    struct app_conn *c = r->conn;
    s->m.requests_total++;
    if (status >= 500)
        s->m.errors_total++;
    s->lat_us_sum += (unsigned long long)(util_mono_us() - r->t0_us);
    s->inflight--;
    c->busy = false;
    if (!c->closing) {
        struct buf b;
        buf_init(&b);
        http1_write_response(&b, status, ctype, body, len, extra_headers, c->wflags | HTTP1_W_DATE);
        conn_send(c, &b);
        size_t blen = c->req.body == HTTP1_BODY_LENGTH ? (size_t)c->req.content_length : 0;
        buf_consume(&c->in, c->head_len + blen);
        c->head_len = 0;
        if (c->closing || !c->keep_alive || (c->wflags & HTTP1_W_CLOSE)) {
            conn_close(c);
        } else {
            conn_read_start(c);
            conn_process(c);
        }
    } else {
        conn_close_if_idle(c);
    }
    free_req(r);
    maybe_finish_drain(s);
}


static void on_connection(uv_stream_t *l, int status)
{
    struct app_server *s = l->data;
    if (status < 0)
        return;
    struct app_conn *c = xcalloc(1, sizeof *c);
    c->srv = s;
    uv_tcp_init(s->loop, &c->tcp);
    c->tcp.data = c;
    buf_init(&c->in);
    net_out_init(&c->out);
    http1_request_init(&c->req, c->hdr, MAX_HEADERS);
    s->nconns++;
    if (uv_accept(l, (uv_stream_t *)&c->tcp) != 0 || s->nconns > s->cfg.maxclients) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, conn_closed);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    conn_read_start(c);
}

/* ---- admin: /metrics and /status ----------------------------------------- */

static void admin_handler(void *arg, const struct admin_req *req, struct admin_resp *resp)
{
    struct app_server *s = arg;
    if (req->method != HTTP1_METHOD_GET)
        return;
    if (strcmp(req->path, "/metrics") == 0) {
        resp->status = 200;
        resp->ctype = "text/plain; version=0.0.4";
#define APP_X_PROM(name, help)                                                                                 \
        buf_printf(&resp->body, "# HELP scaleout_app_" #name " " help "\n# TYPE scaleout_app_" #name " counter\n"   \
                                "scaleout_app_" #name " %llu\n", s->m.name);
        APP_METRICS(APP_X_PROM)
#undef APP_X_PROM
        buf_printf(&resp->body, "# HELP scaleout_app_inflight requests not yet answered\n# TYPE scaleout_app_inflight gauge\n"
                                "scaleout_app_inflight %lld\n", s->inflight);
        buf_printf(&resp->body, "# HELP scaleout_app_queued requests waiting for a capacity slot\n"
                                "# TYPE scaleout_app_queued gauge\nscaleout_app_queued %lld\n", s->qlen);
        buf_printf(&resp->body, "# HELP scaleout_app_kv_commands_total commands sent to kv\n"
                                "# TYPE scaleout_app_kv_commands_total counter\nscaleout_app_kv_commands_total %llu\n",
                   app_kv_commands(s->kv));
        buf_printf(&resp->body, "# HELP scaleout_app_kv_retries_total kv commands sent again (failover)\n"
                                "# TYPE scaleout_app_kv_retries_total counter\nscaleout_app_kv_retries_total %llu\n",
                   app_kv_retries(s->kv));
        return;
    }
    if (strcmp(req->path, "/status") == 0) {
        resp->status = 200;
        resp->ctype = "application/json";
        buf_printf(&resp->body, "{\"role\":\"app\",\"pid\":%d,\"port\":%lld,\"uptime_s\":%lld,\"connections\":%lld,"
                                "\"inflight\":%lld,\"queued\":%lld,\"busy_slots\":%lld,\"concurrency\":%lld,"
                                "\"service_time_ms\":%lld,\"profile_cache\":\"%s\",\"product_cache\":\"%s\"",
                   (int)getpid(), s->cfg.port, (util_time_ms() - s->start_ms) / 1000, s->nconns, s->inflight, s->qlen,
                   s->busy_slots, s->cfg.concurrency, s->cfg.service_time_ms,
                   app_cache_strategies[s->cfg.profile_cache]->name, app_cache_strategies[s->cfg.product_cache]->name);
#define APP_X_JSON(name, help) buf_printf(&resp->body, ",\"" #name "\":%llu", s->m.name);
        APP_METRICS(APP_X_JSON)
#undef APP_X_JSON
        buf_printf(&resp->body, ",\"kv_retries_total\":%llu", app_kv_retries(s->kv));
        buf_printf(&resp->body, ",\"kv_commands_total\":%llu,\"latency_ms_avg\":%.3f}\n", app_kv_commands(s->kv),
                   s->m.requests_total ? (double)s->lat_us_sum / 1000.0 / (double)s->m.requests_total : 0.0);
    }
}

/* ---- shutdown -------------------------------------------------------------- */

static void walk_close(uv_handle_t *h, void *arg)
{
    if (uv_is_closing(h))
        return;
    /* open client connections are the TCP handles that are not the listener */
    if (h->type == UV_TCP && h->data && h->data != arg) {
        ((struct app_conn *)h->data)->closing = true;
        uv_close(h, conn_closed);
    } else {
        uv_close(h, NULL);
    }
}

static void maybe_finish_drain(struct app_server *s)
{
    if (s->draining && s->inflight == 0)
        uv_stop(s->loop);
}

static void drain_timeout(uv_timer_t *t)
{
    struct app_server *s = t->data;
    log_warn("shutdown: %lld requests still in flight after %d ms", s->inflight, DRAIN_MS);
    uv_stop(s->loop);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct app_server *s = h->data;
    if (s->draining)
        return;
    log_notice("received %s, draining %lld requests", signum == SIGTERM ? "SIGTERM" : "SIGINT", s->inflight);
    s->draining = true;
    if (s->listening) {
        uv_close((uv_handle_t *)&s->listener, NULL);
        s->listening = false;
    }
    s->drain_timer.data = s;
    uv_timer_start(&s->drain_timer, drain_timeout, DRAIN_MS, 0);
    maybe_finish_drain(s);
}

static void usage(FILE *f)
{
    net_server_usage(f, &app_conf_table,
                     "usage: scaleout app [--config FILE] [--directive value ...]\n\n"
                     "The reference stateless service: sessions, cache and jobs in kv, data in PostgreSQL.\n\n"
                     "directives:\n",
                     "");
}

int app_main(int argc, char **argv)
{
    struct app_server *s = xcalloc(1, sizeof *s);
    s->ctx.cfg = &s->cfg;
    s->ctx.metrics = &s->m;
    s->ctx.reply = server_reply;
    s->ctx.work = server_work;
    int code = net_server_args(&app_conf_table, &s->cfg, "app", argc, argv, NULL, usage);
    if (code >= 0) {
        xfree(s);
        return code;
    }
    net_server_process_init("app", s->cfg.loglevel, s->cfg.logfile);
    s->start_ms = util_time_ms();
    int rc = 0;
    char err[512];
    net_pidfile_write(s->cfg.pidfile);

    /* schema first: once the port answers, every endpoint works */
    if (app_pg_schema(s->cfg.pg, 30000, err, sizeof err) != 0) {
        log_warn("%s", err);
        fprintf(stderr, "scaleout app: %s\n", err);
        conf_free(&app_conf_table, &s->cfg);
        xfree(s);
        return 1;
    }
    s->loop = xmalloc(sizeof *s->loop);
    uv_loop_init(s->loop);
    s->kv = s->ctx.kv = app_kv_new(s->loop, s->cfg.kv, (int)s->cfg.kv_pool);
    if (s->kv && s->cfg.kv_sentinel && *s->cfg.kv_sentinel &&
        !app_kv_set_sentinels(s->kv, s->cfg.kv_sentinel, s->cfg.kv_master_name)) {
        fprintf(stderr, "scaleout app: bad kv-sentinel '%s' (want HOST:PORT[,HOST:PORT...], IPv4)\n", s->cfg.kv_sentinel);
        rc = 2;
        goto out;
    }
    if (s->kv && ((s->cfg.kv_sentinel && *s->cfg.kv_sentinel) || s->cfg.kv_router))
        app_kv_set_retry(s->kv, s->cfg.kv_retry_ms); /* a failover ends; a lone kv's outage may not */
    if (!s->kv) {
        fprintf(stderr, "scaleout app: bad kv address '%s' (want host:port)\n", s->cfg.kv);
        rc = 2;
        goto out;
    }
    s->pg = s->ctx.pg = app_pg_new(s->loop, s->cfg.pg, (int)s->cfg.pg_pool);

    int fd = net_listen(s->cfg.bind, (int)s->cfg.port, 511, false, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, "scaleout app: %s\n", err);
        log_warn("%s", err);
        rc = 1;
        goto out;
    }
    if (net_listen_start(s->loop, &s->listener, fd, 511, false, on_connection, s) != 0) {
        fprintf(stderr, "scaleout app: listen failed\n");
        rc = 1;
        goto out;
    }
    s->listening = true;
    s->admin = net_admin_start(s->loop, s->cfg.bind, net_admin_port(s->cfg.admin_port, s->cfg.port), NULL,
                               admin_handler, s);
    net_signals_start(&s->sig, s->loop, on_signal, NULL, s);
    uv_timer_init(s->loop, &s->drain_timer);
    if (s->cfg.profile_cache == APP_CACHE_WRITE_BEHIND || s->cfg.product_cache == APP_CACHE_WRITE_BEHIND) {
        char id[96];
        snprintf(id, sizeof id, "%s:%lld", s->cfg.bind, s->cfg.port);
        s->wb = app_wb_start(s, s->loop, id, s->cfg.wb_interval_ms, (int)s->cfg.wb_batch);
    }
    log_notice("app listening on %s:%lld (kv %s, concurrency %lld x %lld ms, profile cache %s)", s->cfg.bind,
               s->cfg.port, s->cfg.kv, s->cfg.concurrency, s->cfg.service_time_ms,
               app_cache_strategies[s->cfg.profile_cache]->name);
    uv_run(s->loop, UV_RUN_DEFAULT);
    log_notice("app stopped");

out:
    app_wb_stop(s->wb);
    if (s->admin)
        admin_close(s->admin);
    app_kv_free(s->kv);
    app_pg_free(s->pg);
    if (s->loop) {
        uv_walk(s->loop, walk_close, s);
        uv_run(s->loop, UV_RUN_DEFAULT);
        uv_loop_close(s->loop);
        xfree(s->loop);
    }
    app_wb_free(s->wb);
    while (s->qhead) {
        struct gate_item *it = s->qhead;
        s->qhead = it->next;
        xfree(it);
    }
    conf_free(&app_conf_table, &s->cfg);
    xfree(s);
    return rc;
}
