/*
 * admin.c — the lb's admin endpoint (loopback by default): what core/admin
 * serves (GET /metrics, GET /status) plus the runtime control API the
 * autoscaler uses. core/admin answers GET and HEAD only and passes no query
 * string or headers to its handler, so the lb has its own small server here;
 * it should move to core/ once core/admin grows POST, queries and a token.
 *
 *   GET    /metrics                                  Prometheus text
 *   GET    /status   (also /pools)                   JSON: listeners, pools, backends
 *   POST   /pools/P/backends?addr=H:P[&weight=N][&maxconn=N][&name=N]   add (201)
 *   POST   /pools/P/backends/B/drain                 no new requests; in-flight ones finish
 *   POST   /pools/P/backends/B/enable                back in rotation (undo drain)
 *   POST   /pools/P/backends/B/weight?value=N        change the weight
 *   DELETE /pools/P/backends/B                       remove (in-flight requests finish)
 *
 * B is a backend's name or address. Changes need `Authorization: Bearer
 * TOKEN` (or `X-Admin-Token: TOKEN`) matching admin-token; with no token
 * configured they are refused (403). Parameters may also come as an
 * application/x-www-form-urlencoded body (at most 4 KiB).
 *
 * Runs on worker 0's loop (the main thread), like the health checks: adding
 * a backend starts its checks here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/net.h"
#include "core/util.h"
#include "lb/health.h"
#include "lb/lb.h"
#include "lb/peer.h"
#include "proto/http1.h"

#define MAX_REQ (16 * 1024)
#define MAX_BODY 4096
#define MAX_CONNS 64
#define IDLE_MS 30000
#define NHDR 32

struct admin;

struct aconn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    struct admin *a;
    struct buf in, out;
    uv_write_t wreq;
    bool writing, close_after, closing;
    int handles;
    struct http1_header hdrs[NHDR];
    struct http1_request req;
    struct aconn *prev, *next;
};

struct admin {
    uv_tcp_t listener;
    struct lb_server *srv;
    int port;
    int nconns;
    bool closing, listener_closed;
    struct aconn *conns;
};

/* The endpoint is freed when its listener and its last connection are closed. */
static void admin_free_if_done(struct admin *a)
{
    if (a->closing && a->listener_closed && a->nconns == 0)
        xfree(a);
}

static void conn_closed(uv_handle_t *h)
{
    struct aconn *c = h->data;
    if (--c->handles > 0)
        return;
    struct admin *a = c->a;
    if (c->prev)
        c->prev->next = c->next;
    else
        a->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    a->nconns--;
    buf_deinit(&c->in);
    buf_deinit(&c->out);
    xfree(c);
    admin_free_if_done(a);
}

static void conn_close(struct aconn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_close((uv_handle_t *)&c->tcp, conn_closed);
    uv_close((uv_handle_t *)&c->timer, conn_closed);
}

static void conn_process(struct aconn *c);

static void on_written(uv_write_t *w, int status)
{
    struct aconn *c = w->data;
    c->writing = false;
    buf_consume(&c->out, buf_pending(&c->out));
    if (status < 0 || c->close_after) {
        conn_close(c);
        return;
    }
    conn_process(c);
}

static void conn_send(struct aconn *c)
{
    c->writing = true;
    c->wreq.data = c;
    uv_buf_t b = uv_buf_init(buf_head(&c->out), (unsigned)buf_pending(&c->out));
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        c->writing = false;
        conn_close(c);
    }
}

/* ---- parameters ----------------------------------------------------------- */

static int hexv(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Percent-decode [s, s+n) into out (NUL-terminated); false if it does not fit. */
static bool pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '+')
            ch = ' ';
        else if (ch == '%' && i + 2 < n && hexv(s[i + 1]) >= 0 && hexv(s[i + 2]) >= 0) {
            ch = (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
            i += 2;
        }
        if (k + 1 >= cap)
            return false;
        out[k++] = ch;
    }
    out[k] = '\0';
    return true;
}

/* Value of key in a query/form string, decoded; false when absent. */
static bool param(const char *q, size_t qn, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    const char *p = q, *end = q + qn;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *e = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        if (eq && (size_t)(eq - p) == kl && memcmp(p, key, kl) == 0)
            return pct_decode(eq + 1, (size_t)(e - eq - 1), out, cap);
        p = e + 1;
    }
    return false;
}

/* ---- answers -------------------------------------------------------------- */

static void answer(struct aconn *c, int status, const char *ctype, const char *body, size_t len)
{
    unsigned flags = http1_request_write_flags(&c->req) | HTTP1_W_DATE;
    if (flags & HTTP1_W_CLOSE)
        c->close_after = true;
    http1_write_response(&c->out, status, ctype, body, len, NULL, flags);
}

static void answer_json(struct aconn *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void answer_json(struct aconn *c, int status, const char *fmt, ...)
{
    char body[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof body)
        n = sizeof body - 1;
    answer(c, status, "application/json", body, (size_t)n);
}

static bool token_ok(struct aconn *c)
{
    const char *tok = c->a->srv->cfg.admin_token;
    size_t tl = tok ? strlen(tok) : 0;
    if (tl == 0)
        return false;
    const struct http1_request *r = &c->req;
    const char *v = NULL;
    size_t vl = 0;
    const struct http1_header *h = http1_find_header(r->headers, r->num_headers, "authorization", 13);
    if (h && h->value_len > 7 && util_strieq(h->value, 7, "bearer ")) {
        v = h->value + 7;
        vl = h->value_len - 7;
    } else if ((h = http1_find_header(r->headers, r->num_headers, "x-admin-token", 13)) != NULL) {
        v = h->value;
        vl = h->value_len;
    }
    if (!v || vl != tl)
        return false;
    unsigned char diff = 0; /* constant time */
    for (size_t i = 0; i < tl; i++)
        diff |= (unsigned char)(v[i] ^ tok[i]);
    return diff == 0;
}

static struct lb_pool *find_pool(struct lb_server *s, const char *name)
{
    for (int i = 0; i < s->npools; i++)
        if (!s->pools[i]->removed && strcmp(s->pools[i]->name, name) == 0)
            return s->pools[i];
    return NULL;
}

/* POST/DELETE under /pools/. path: after "/pools/". */
static void control(struct aconn *c, const char *path, const char *q, size_t qn)
{
    struct lb_server *s = c->a->srv;
    char pname[128], rest[512];
    const char *slash = strchr(path, '/');
    if (!slash || (size_t)(slash - path) >= sizeof pname) {
        answer_json(c, 404, "{\"error\":\"use /pools/POOL/backends[/BACKEND[/ACTION]]\"}\n");
        return;
    }
    memcpy(pname, path, (size_t)(slash - path));
    pname[slash - path] = '\0';
    snprintf(rest, sizeof rest, "%s", slash + 1);
    struct lb_pool *pool = find_pool(s, pname);
    if (!pool) {
        answer_json(c, 404, "{\"error\":\"no pool named %s\"}\n", pname);
        return;
    }
    enum http1_method m = c->req.meth;
    if (strcmp(rest, "backends") == 0 || strcmp(rest, "backends/") == 0) {
        if (m != HTTP1_METHOD_POST) {
            answer_json(c, 405, "{\"error\":\"POST to add a backend\"}\n");
            return;
        }
        char addr[256], weight[32], maxconn[32], name[128];
        if (!param(q, qn, "addr", addr, sizeof addr)) {
            answer_json(c, 400, "{\"error\":\"addr=HOST:PORT is required\"}\n");
            return;
        }
        char *argv[7];
        int argc = 0;
        argv[argc++] = addr;
        if (param(q, qn, "weight", weight, sizeof weight)) {
            argv[argc++] = "weight";
            argv[argc++] = weight;
        }
        if (param(q, qn, "maxconn", maxconn, sizeof maxconn)) {
            argv[argc++] = "maxconn";
            argv[argc++] = maxconn;
        }
        if (param(q, qn, "name", name, sizeof name)) {
            argv[argc++] = "name";
            argv[argc++] = name;
        }
        struct lb_backend_conf b;
        char err[256];
        if (lb_backend_parse(&b, argc, argv, err, sizeof err) != 0) {
            answer_json(c, 400, "{\"error\":\"%s\"}\n", err);
            return;
        }
        struct lb_peer *dup = lb_pool_find(pool, b.name);
        if (dup) {
            lb_peer_unref(dup);
            answer_json(c, 409, "{\"error\":\"backend %s is already in pool %s\"}\n", b.name, pool->name);
            lb_backend_conf_deinit(&b);
            return;
        }
        const struct lb_pool_conf *pc = atomic_load(&pool->conf);
        struct lb_peer *p = lb_peer_new(pool, &b, s->nworkers);
        atomic_store(&p->maxconn, b.maxconn ? b.maxconn : pc->maxconn);
        lb_health_new_peer(p);
        lb_peer_ref(p);
        lb_pool_add(pool, p);
        lb_health_start(c->tcp.loop, p);
        log_notice("admin: pool %s: backend %s added (weight %lld)", pool->name, p->name, b.weight);
        answer_json(c, 201, "{\"pool\":\"%s\",\"backend\":\"%s\",\"address\":\"%s\",\"weight\":%lld,\"state\":\"%s\"}\n",
                    pool->name, p->name, p->addr, b.weight, atomic_load(&p->check_up) ? "up" : "down");
        lb_peer_unref(p);
        lb_backend_conf_deinit(&b);
        return;
    }
    if (strncmp(rest, "backends/", 9) != 0) {
        answer_json(c, 404, "{\"error\":\"use /pools/%s/backends[/BACKEND[/ACTION]]\"}\n", pool->name);
        return;
    }
    char bname[256], action[32] = "";
    const char *b = rest + 9;
    const char *as = strchr(b, '/');
    size_t bl = as ? (size_t)(as - b) : strlen(b);
    if (!pct_decode(b, bl, bname, sizeof bname) || !bname[0]) {
        answer_json(c, 404, "{\"error\":\"backend name missing\"}\n");
        return;
    }
    if (as)
        snprintf(action, sizeof action, "%s", as + 1);
    struct lb_peer *p = lb_pool_find(pool, bname);
    if (!p) {
        answer_json(c, 404, "{\"error\":\"no backend %s in pool %s\"}\n", bname, pool->name);
        return;
    }
    if (!action[0] && m == HTTP1_METHOD_DELETE) {
        lb_health_stop(p);
        lb_pool_remove(pool, p);
        log_notice("admin: pool %s: backend %s removed (%d requests in flight finish)", pool->name, p->name,
                   atomic_load(&p->active));
        answer_json(c, 200, "{\"pool\":\"%s\",\"backend\":\"%s\",\"state\":\"removed\",\"active\":%d}\n", pool->name,
                    p->name, atomic_load(&p->active));
    } else if (m != HTTP1_METHOD_POST) {
        answer_json(c, 405, "{\"error\":\"POST .../drain|enable|weight, or DELETE the backend\"}\n");
    } else if (strcmp(action, "drain") == 0) {
        lb_peer_set_admin(p, LB_PEER_DRAIN);
        log_notice("admin: pool %s: backend %s draining", pool->name, p->name);
        answer_json(c, 200, "{\"pool\":\"%s\",\"backend\":\"%s\",\"state\":\"draining\",\"active\":%d}\n", pool->name,
                    p->name, atomic_load(&p->active));
    } else if (strcmp(action, "enable") == 0) {
        lb_peer_set_admin(p, LB_PEER_READY);
        log_notice("admin: pool %s: backend %s enabled", pool->name, p->name);
        answer_json(c, 200, "{\"pool\":\"%s\",\"backend\":\"%s\",\"state\":\"ready\"}\n", pool->name, p->name);
    } else if (strcmp(action, "weight") == 0) {
        char v[32];
        long long wt;
        if (!param(q, qn, "value", v, sizeof v) || !util_str2ll(v, strlen(v), &wt) || wt < 1 || wt > 1000) {
            answer_json(c, 400, "{\"error\":\"value=1..1000 is required\"}\n");
        } else {
            lb_peer_set_weight(p, (int)wt);
            answer_json(c, 200, "{\"pool\":\"%s\",\"backend\":\"%s\",\"weight\":%lld}\n", pool->name, p->name, wt);
        }
    } else {
        answer_json(c, 404, "{\"error\":\"unknown action '%s' (drain, enable, weight)\"}\n", action);
    }
    lb_peer_unref(p);
}

static void conn_process(struct aconn *c)
{
    if (c->closing || c->writing || buf_pending(&c->in) == 0)
        return;
    struct http1_limits lim = {.max_line = 4096, .max_header_bytes = 8192, .max_headers = NHDR, .max_chunk_ext = 256,
                               .max_trailer_bytes = 1024};
    int n = http1_parse_request(buf_head(&c->in), buf_pending(&c->in), &c->req, &lim);
    if (n == HTTP1_INCOMPLETE) {
        if (buf_pending(&c->in) >= MAX_REQ) {
            http1_write_response(&c->out, 431, "text/plain", "request too large\n", 18, NULL, HTTP1_W_CLOSE);
            c->close_after = true;
            conn_send(c);
        }
        return;
    }
    if (n < 0) {
        http1_write_error(&c->out, n);
        c->close_after = true;
        conn_send(c);
        return;
    }
    if (c->req.body == HTTP1_BODY_CHUNKED || (c->req.body == HTTP1_BODY_LENGTH && c->req.content_length > MAX_BODY)) {
        http1_write_response(&c->out, 413, "text/plain", "body too large (4 KiB, Content-Length)\n", 39, NULL,
                             HTTP1_W_CLOSE);
        c->close_after = true;
        conn_send(c);
        return;
    }
    size_t blen = c->req.body == HTTP1_BODY_LENGTH ? (size_t)c->req.content_length : 0;
    if (buf_pending(&c->in) < (size_t)n + blen)
        return; /* the body is still coming */
    char path[512], params[MAX_BODY + 1024];
    size_t plen = c->req.target_len, qn = 0;
    const char *qm = memchr(c->req.target, '?', plen);
    if (qm) {
        size_t ql = c->req.target_len - (size_t)(qm - c->req.target) - 1;
        if (ql < sizeof params - 1) {
            memcpy(params, qm + 1, ql);
            qn = ql;
        }
        plen = (size_t)(qm - c->req.target);
    }
    if (blen && qn + 1 + blen < sizeof params) {
        if (qn)
            params[qn++] = '&';
        memcpy(params + qn, buf_head(&c->in) + n, blen);
        qn += blen;
    }
    params[qn] = '\0';
    if (plen >= sizeof path)
        plen = sizeof path - 1;
    memcpy(path, c->req.target, plen);
    path[plen] = '\0';
    enum http1_method m = c->req.meth;
    struct lb_server *s = c->a->srv;
    if (m == HTTP1_METHOD_GET || m == HTTP1_METHOD_HEAD) {
        struct buf body;
        buf_init(&body);
        if (strcmp(path, "/metrics") == 0) {
            lb_metrics(s, &body);
            answer(c, 200, "text/plain; version=0.0.4", buf_head(&body), buf_pending(&body));
        } else if (strcmp(path, "/status") == 0 || strcmp(path, "/pools") == 0) {
            lb_status_json(s, &body);
            answer(c, 200, "application/json", buf_head(&body), buf_pending(&body));
        } else {
            answer_json(c, 404, "{\"error\":\"try /metrics, /status, or POST/DELETE /pools/POOL/backends...\"}\n");
        }
        buf_deinit(&body);
    } else if ((m == HTTP1_METHOD_POST || m == HTTP1_METHOD_DELETE) && strncmp(path, "/pools/", 7) == 0) {
        if (!token_ok(c)) {
            if (!s->cfg.admin_token || !s->cfg.admin_token[0])
                answer_json(c, 403, "{\"error\":\"changes are disabled: set admin-token\"}\n");
            else
                answer_json(c, 401, "{\"error\":\"Authorization: Bearer TOKEN required\"}\n");
        } else {
            control(c, path + 7, params, qn);
        }
    } else {
        answer_json(c, 405, "{\"error\":\"GET /metrics /status; POST or DELETE /pools/...\"}\n");
    }
    buf_consume(&c->in, (size_t)n + blen);
    conn_send(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    struct aconn *c = h->data;
    buf_reserve(&c->in, 4096);
    *b = uv_buf_init(buf_tail(&c->in), (unsigned)buf_room(&c->in));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    struct aconn *c = st->data;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->in.len += (size_t)n;
    if (buf_pending(&c->in) > MAX_REQ + MAX_BODY) {
        conn_close(c);
        return;
    }
    uv_timer_again(&c->timer);
    conn_process(c);
}

static void on_idle(uv_timer_t *t) { conn_close(t->data); }

static void on_conn(uv_stream_t *server, int status)
{
    struct admin *a = server->data;
    if (status < 0)
        return;
    struct aconn *c = xcalloc(1, sizeof *c);
    c->a = a;
    uv_tcp_init(server->loop, &c->tcp);
    uv_timer_init(server->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    buf_init(&c->in);
    buf_init(&c->out);
    http1_request_init(&c->req, c->hdrs, NHDR);
    c->next = a->conns;
    if (a->conns)
        a->conns->prev = c;
    a->conns = c;
    a->nconns++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 || a->nconns > MAX_CONNS) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_idle, IDLE_MS, IDLE_MS);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

void *lb_admin_open(struct lb_server *s, uv_loop_t *loop, const char *host, int port, char *err, size_t errlen)
{
    int fd = net_listen(host, port, 64, false, err, errlen);
    if (fd < 0)
        return NULL;
    struct admin *a = xcalloc(1, sizeof *a);
    a->srv = s;
    a->port = port;
    uv_tcp_init(loop, &a->listener);
    a->listener.data = a;
    int r = uv_tcp_open(&a->listener, fd);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&a->listener, 64, on_conn);
    if (r != 0) {
        snprintf(err, errlen, "admin listen: %s", uv_strerror(r));
        uv_close((uv_handle_t *)&a->listener, (uv_close_cb)xfree);
        return NULL;
    }
    return a;
}

static void on_listener_closed(uv_handle_t *h)
{
    struct admin *a = h->data;
    a->listener_closed = true;
    admin_free_if_done(a);
}

void lb_admin_close(void *p)
{
    struct admin *a = p;
    a->closing = true;
    for (struct aconn *c = a->conns; c; c = c->next)
        conn_close(c);
    uv_close((uv_handle_t *)&a->listener, on_listener_closed);
}

int lb_admin_port(const void *p) { return ((const struct admin *)p)->port; }
