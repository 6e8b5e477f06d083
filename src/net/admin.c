/*
 * admin.c — the admin HTTP endpoint (see admin.h).
 */
#include "net/admin.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/list.h"
#include "core/net.h"
#include "core/util.h"
#include "net/conn.h"
#include "proto/http1.h"

#define ADMIN_DEFAULT_MAX_REQ 8192
#define ADMIN_MAX_PARAMS 8192
#define ADMIN_MAX_CONNS 64
#define ADMIN_IDLE_MS 30000
#define ADMIN_MAX_HEADERS 32
#define ADMIN_PIPELINE_SLACK 4096

struct admin_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    struct admin *a;
    struct buf in, out, wbuf; /* wbuf: what a uv_write is sending (net/conn.h) */
    uv_write_t wreq;
    bool writing, close_after, closing;
    int handles;
    struct http1_header hdrs[ADMIN_MAX_HEADERS];
    struct http1_request req;
    struct admin_conn *prev, *next;
};

struct admin {
    uv_tcp_t listener;
    struct admin_opts opts;
    char *allow_hosts;      /* owned copy of opts.allow_hosts */
    char *bind;             /* the bind address, an allowed Host too */
    admin_handler_fn fn;
    void *arg;
    int port;
    int nconns;
    bool closing;
    bool listener_closed;
    struct admin_conn *conns;
};

static void admin_free(struct admin *a)
{
    xfree(a->allow_hosts);
    xfree(a->bind);
    xfree(a);
}

/* [h, n) without its port: "a:80" → "a", "[::1]:80" → "[::1]". */
static size_t host_part(const char *h, size_t n)
{
    if (n && h[0] == '[') {
        const char *e = memchr(h, ']', n);
        return e ? (size_t)(e - h) + 1 : n;
    }
    const char *c = memchr(h, ':', n);
    return c ? (size_t)(c - h) : n;
}

static bool is_loopback(const char *h, size_t n)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return false;
    if ((n == 9 && strncasecmp(h, "localhost", 9) == 0) || (n == 10 && strncasecmp(h, "localhost.", 10) == 0))
        return true;
    struct in_addr a4;
    struct in6_addr a6;
    if (h[0] == '[' && h[n - 1] == ']') {
        memcpy(tmp, h + 1, n - 2);
        tmp[n - 2] = '\0';
        if (inet_pton(AF_INET6, tmp, &a6) != 1)
            return false;
        if (IN6_IS_ADDR_LOOPBACK(&a6))
            return true;
        return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
    }
    memcpy(tmp, h, n);
    tmp[n] = '\0';
    return inet_pton(AF_INET, tmp, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

/* Whether name [h, n) is one of the words of list (spaces or commas). */
static bool in_list(const char *list, const char *h, size_t n)
{
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        const char *w = p;
        while (*p && *p != ' ' && *p != ',' && *p != '\t')
            p++;
        size_t wl = (size_t)(p - w);
        if (wl == 1 && *w == '*')
            return true;
        if (wl && wl == n && strncasecmp(w, h, n) == 0)
            return true;
    }
    return false;
}

bool admin_host_allowed(const char *h, size_t n, const char *bind, const char *allow)
{
    size_t hn = host_part(h, n);
    if (hn < n) {
        /* only ":PORT" may follow the host */
        if (h[hn] != ':' || n - hn < 2 || n - hn > 6)
            return false;
        for (size_t i = hn + 1; i < n; i++)
            if (h[i] < '0' || h[i] > '9')
                return false;
    }
    if (is_loopback(h, hn))
        return true;
    if (allow && in_list(allow, h, hn))
        return true;
    if (bind && *bind && strcmp(bind, "0.0.0.0") != 0 && strcmp(bind, "::") != 0) {
        size_t bl = strlen(bind);
        if (bl == hn && strncasecmp(bind, h, hn) == 0)
            return true;
        /* an IPv6 bind address appears in brackets */
        if (hn == bl + 2 && h[0] == '[' && strncasecmp(bind, h + 1, bl) == 0)
            return true;
    }
    return false;
}

static void conn_handle_closed(uv_handle_t *h)
{
    struct admin_conn *c = h->data;
    if (--c->handles > 0)
        return;
    struct admin *a = c->a;
    LIST_REMOVE(a->conns, c, prev, next);
    a->nconns--;
    buf_deinit(&c->in);
    buf_deinit(&c->out);
    buf_deinit(&c->wbuf);
    xfree(c);
    /* admin_close: the last of the listener and the connections frees a */
    if (a->closing && a->listener_closed && a->nconns == 0)
        admin_free(a);
}

static void conn_close(struct admin_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_close((uv_handle_t *)&c->tcp, conn_handle_closed);
    uv_close((uv_handle_t *)&c->timer, conn_handle_closed);
}

static void conn_process(struct admin_conn *c);

static void on_written(uv_write_t *w, int status)
{
    struct admin_conn *c = w->data;
    c->writing = false;
    net_conn_written(&c->wbuf, 0);
    if (status < 0 || c->close_after) {
        conn_close(c);
        return;
    }
    conn_process(c); /* a pipelined request may be waiting */
}

/* Send the response in out: at once when the socket takes it all, else by
 * one uv_write (on_written goes on). One response at a time: conn_process
 * waits while one is sent. Returns true when all of it went out and the
 * connection stays open (the next pipelined request may be looked at). */
static bool conn_send(struct admin_conn *c)
{
    size_t sent;
    int r = net_conn_write((uv_stream_t *)&c->tcp, &c->out, &c->wbuf, &c->wreq, c, on_written, &c->writing, &sent);
    if (r < 0 || (r == NET_WRITE_DONE && c->close_after)) {
        conn_close(c);
        return false;
    }
    return r == NET_WRITE_DONE;
}

static bool conn_fail(struct admin_conn *c, int status, const char *text)
{
    http1_write_response(&c->out, status, "text/plain", text, strlen(text), NULL, HTTP1_W_CLOSE);
    c->close_after = true;
    return conn_send(c);
}

/* Answer the first request in c->in, if it is all there. Returns true when
 * its response is sent and the next one may be looked at. */
static bool conn_process_one(struct admin_conn *c)
{
    if (c->closing || c->writing || buf_pending(&c->in) == 0)
        return false;
    const struct admin_opts *o = &c->a->opts;
    struct http1_limits lim = {.max_line = (uint32_t)(o->max_request / 4), .max_header_bytes = (uint32_t)o->max_request,
                               .max_headers = ADMIN_MAX_HEADERS, .max_chunk_ext = 256, .max_trailer_bytes = 1024};
    int n = http1_parse_request(buf_head(&c->in), buf_pending(&c->in), &c->req, &lim);
    if (n == HTTP1_INCOMPLETE) {
        if (buf_pending(&c->in) >= o->max_request)
            return conn_fail(c, 431, "request too large\n");
        return false;
    }
    if (n < 0) {
        http1_write_error(&c->out, n);
        c->close_after = true;
        return conn_send(c);
    }
    if (c->req.host && !admin_host_allowed(c->req.host, c->req.host_len, c->a->bind, c->a->allow_hosts)) {
        return conn_fail(c, 403, "Host not allowed: use a loopback address or name (or admin-allow-host)\n");
    }
    if (c->req.body == HTTP1_BODY_CHUNKED || (c->req.body == HTTP1_BODY_LENGTH && c->req.content_length > o->max_body)) {
        return conn_fail(c, 413, o->max_body ? "body too large\n" : "no body expected\n");
    }
    size_t blen = c->req.body == HTTP1_BODY_LENGTH ? (size_t)c->req.content_length : 0;
    if (buf_pending(&c->in) < (size_t)n + blen)
        return false; /* the body is still coming */

    char path[512], params[ADMIN_MAX_PARAMS + 1];
    size_t plen = c->req.target_len, qn = 0;
    const char *qm = memchr(c->req.target, '?', plen);
    if (qm) {
        size_t ql = plen - (size_t)(qm - c->req.target) - 1;
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

    unsigned flags = http1_request_write_flags(&c->req) | HTTP1_W_DATE;
    if (flags & HTTP1_W_CLOSE)
        c->close_after = true;
    struct admin_req req = {c->req.meth, path, params, qn, &c->req};
    struct admin_resp resp = {.status = 404, .ctype = "text/plain"};
    buf_init(&resp.body);
    c->a->fn(c->a->arg, &req, &resp);
    if (resp.status == 404 && buf_pending(&resp.body) == 0)
        buf_puts(&resp.body, "not found: try /metrics or /status\n");
    http1_write_response(&c->out, resp.status, resp.ctype, buf_head(&resp.body), buf_pending(&resp.body),
                         resp.extra_headers, flags);
    buf_deinit(&resp.body);
    buf_consume(&c->in, (size_t)n + blen);
    return conn_send(c);
}

/* Answer every whole request that waits, one response at a time. */
static void conn_process(struct admin_conn *c)
{
    while (conn_process_one(c))
        ;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    struct admin_conn *c = h->data;
    net_conn_read_room(&c->in, 4096, SIZE_MAX, b);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    struct admin_conn *c = s->data;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->in.len += (size_t)n;
    uv_timer_again(&c->timer);
    /* what may wait: one request and its body, plus a little of the next
     * ones; a client that keeps sending while its answers are not read
     * (a write pending) is closed instead of buffered */
    const struct admin_opts *o = &c->a->opts;
    if (buf_pending(&c->in) > o->max_request + o->max_body + ADMIN_PIPELINE_SLACK) {
        conn_close(c);
        return;
    }
    conn_process(c);
}

static void on_idle(uv_timer_t *t)
{
    struct admin_conn *c = t->data;
    conn_close(c);
}

static void on_conn(uv_stream_t *server, int status)
{
    struct admin *a = server->data;
    if (status < 0)
        return;
    struct admin_conn *c = xcalloc(1, sizeof *c);
    c->a = a;
    uv_tcp_init(server->loop, &c->tcp);
    uv_timer_init(server->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    buf_init(&c->in);
    buf_init(&c->out);
    buf_init(&c->wbuf);
    http1_request_init(&c->req, c->hdrs, ADMIN_MAX_HEADERS);
    LIST_PUSH(a->conns, c, prev, next);
    a->nconns++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 || a->nconns > ADMIN_MAX_CONNS) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_idle, ADMIN_IDLE_MS, ADMIN_IDLE_MS);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

struct admin *admin_open(uv_loop_t *loop, const char *host, int port, const struct admin_opts *opts,
                         admin_handler_fn fn, void *arg, char *err, size_t errlen)
{
    int fd = net_listen(host, port, 64, false, err, errlen);
    if (fd < 0)
        return NULL;
    struct admin *a = xcalloc(1, sizeof *a);
    a->fn = fn;
    a->arg = arg;
    if (opts)
        a->opts = *opts;
    a->allow_hosts = a->opts.allow_hosts ? xstrdup(a->opts.allow_hosts) : NULL;
    a->opts.allow_hosts = NULL;
    a->bind = host ? xstrdup(host) : NULL;
    if (a->opts.max_request == 0)
        a->opts.max_request = ADMIN_DEFAULT_MAX_REQ;
    if (a->opts.max_body > ADMIN_MAX_PARAMS / 2)
        a->opts.max_body = ADMIN_MAX_PARAMS / 2;
    a->port = port;
    uv_tcp_init(loop, &a->listener);
    a->listener.data = a;
    int r = uv_tcp_open(&a->listener, fd);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&a->listener, 64, on_conn);
    if (r != 0) {
        snprintf(err, errlen, "admin listen: %s", uv_strerror(r));
        xfree(a->allow_hosts);
        xfree(a->bind);
        uv_close((uv_handle_t *)&a->listener, (uv_close_cb)xfree);
        return NULL;
    }
    if (port == 0) {
        struct sockaddr_storage ss;
        int len = sizeof ss;
        uv_tcp_getsockname(&a->listener, (struct sockaddr *)&ss, &len);
        a->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    return a;
}

static void on_listener_closed(uv_handle_t *h)
{
    /* libuv runs close callbacks newest first: connections closed in the same
     * admin_close may still be pending and need a */
    struct admin *a = h->data;
    a->listener_closed = true;
    if (a->nconns == 0)
        admin_free(a);
}

void admin_close(struct admin *a)
{
    a->closing = true;
    for (struct admin_conn *c = a->conns; c; c = c->next)
        conn_close(c);
    uv_close((uv_handle_t *)&a->listener, on_listener_closed);
}

int admin_port(const struct admin *a) { return a->port; }

/* ---- helpers for handlers ------------------------------------------------ */

bool admin_pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '+')
            ch = ' ';
        else if (ch == '%' && i + 2 < n && util_hexval(s[i + 1]) >= 0 && util_hexval(s[i + 2]) >= 0) {
            ch = (char)(util_hexval(s[i + 1]) * 16 + util_hexval(s[i + 2]));
            i += 2;
        }
        if (k + 1 >= cap)
            return false;
        out[k++] = ch;
    }
    out[k] = '\0';
    return true;
}

bool admin_param(const struct admin_req *req, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    const char *p = req->params, *end = req->params + req->params_len;
    while (p && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *e = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        if (eq && (size_t)(eq - p) == kl && memcmp(p, key, kl) == 0)
            return admin_pct_decode(eq + 1, (size_t)(e - eq - 1), out, cap);
        p = e + 1;
    }
    return false;
}

bool admin_token_ok(const struct admin_req *req, const char *tok)
{
    size_t tl = tok ? strlen(tok) : 0;
    if (tl == 0)
        return false;
    const struct http1_request *r = req->http;
    const char *v = NULL;
    size_t vl = 0;
    const struct http1_header *h = http1_find_header(r->headers, r->num_headers, "authorization", 13);
    if (h && h->value_len > 7 && strncasecmp(h->value, "bearer ", 7) == 0) {
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

struct buf *admin_ok_metrics(struct admin_resp *r)
{
    r->status = 200;
    r->ctype = "text/plain; version=0.0.4";
    return &r->body;
}

struct buf *admin_ok_json(struct admin_resp *r)
{
    r->status = 200;
    r->ctype = "application/json";
    return &r->body;
}

#define ANSWER_MAX 1024 /* with the NUL: longer answers are cut */

void admin_answer_json(struct admin_resp *r, int status, const char *fmt, ...)
{
    r->status = status;
    r->ctype = "application/json";
    buf_reserve(&r->body, ANSWER_MAX);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf_tail(&r->body), ANSWER_MAX, fmt, ap); /* formatted in place */
    va_end(ap);
    if (n > 0)
        r->body.len += (size_t)n < ANSWER_MAX ? (size_t)n : ANSWER_MAX - 1;
}

void admin_json_str(struct buf *b, const char *s)
{
    buf_putc(b, '"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            buf_printf(b, "\\%c", ch);
        else if (ch < 0x20)
            buf_printf(b, "\\u%04x", ch);
        else
            buf_putc(b, (char)ch);
    }
    buf_putc(b, '"');
}

bool admin_require_token(const struct admin_req *req, struct admin_resp *resp, const char *token)
{
    if (admin_token_ok(req, token))
        return true;
    if (!token || !token[0])
        admin_answer_json(resp, 403, "{\"error\":\"changes are disabled: set admin-token\"}\n");
    else
        admin_answer_json(resp, 401, "{\"error\":\"Authorization: Bearer TOKEN required\"}\n");
    return false;
}
