/*
 * admin.c — the admin HTTP endpoint (see admin.h).
 */
#include "core/admin.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/net.h"
#include "proto/http1.h"

#define ADMIN_MAX_REQ 8192
#define ADMIN_MAX_CONNS 64
#define ADMIN_IDLE_MS 30000
#define ADMIN_MAX_HEADERS 32

struct admin_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    struct admin *a;
    struct buf in, out;
    uv_write_t wreq;
    bool writing, close_after, closing;
    int handles;
    struct http1_header hdrs[ADMIN_MAX_HEADERS];
    struct http1_request req;
    struct admin_conn *prev, *next;
};

struct admin {
    uv_tcp_t listener;
    admin_handler_fn fn;
    void *arg;
    int port;
    int nconns;
    bool closing;
    bool listener_closed;
    struct admin_conn *conns;
};

static void conn_handle_closed(uv_handle_t *h)
{
    struct admin_conn *c = h->data;
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
    /* admin_close: the last of the listener and the connections frees a */
    if (a->closing && a->listener_closed && a->nconns == 0)
        xfree(a);
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
    buf_consume(&c->out, buf_pending(&c->out));
    if (status < 0 || c->close_after) {
        conn_close(c);
        return;
    }
    conn_process(c); /* a pipelined request may be waiting */
}

static void conn_send(struct admin_conn *c)
{
    c->writing = true;
    c->wreq.data = c;
    uv_buf_t b = uv_buf_init(buf_head(&c->out), (unsigned)buf_pending(&c->out));
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        c->writing = false;
        conn_close(c);
    }
}

static void conn_process(struct admin_conn *c)
{
    if (c->closing || c->writing || buf_pending(&c->in) == 0)
        return;
    struct http1_limits lim = {.max_line = 2048, .max_header_bytes = ADMIN_MAX_REQ,
                               .max_headers = ADMIN_MAX_HEADERS, .max_chunk_ext = 256, .max_trailer_bytes = 1024};
    int n = http1_parse_request(buf_head(&c->in), buf_pending(&c->in), &c->req, &lim);
    if (n == HTTP1_INCOMPLETE) {
        if (buf_pending(&c->in) >= ADMIN_MAX_REQ) {
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
    unsigned flags = http1_request_write_flags(&c->req);
    if (c->req.body == HTTP1_BODY_CHUNKED || (c->req.body == HTTP1_BODY_LENGTH && c->req.content_length > 0)) {
        /* the admin endpoint takes no bodies: answer and close rather than skip it */
        http1_write_response(&c->out, 413, "text/plain", "no body expected\n", 17, NULL, HTTP1_W_CLOSE);
        c->close_after = true;
        conn_send(c);
        return;
    }
    char path[512];
    size_t plen = c->req.target_len;
    const char *q = memchr(c->req.target, '?', plen);
    if (q)
        plen = (size_t)(q - c->req.target);
    if (plen >= sizeof path)
        plen = sizeof path - 1;
    memcpy(path, c->req.target, plen);
    path[plen] = '\0';
    if (!(flags & HTTP1_W_KEEP_ALIVE) && !c->req.keep_alive)
        c->close_after = true;
    buf_consume(&c->in, (size_t)n);
    if (c->req.meth != HTTP1_METHOD_GET && c->req.meth != HTTP1_METHOD_HEAD) {
        http1_write_response(&c->out, 405, "text/plain", "only GET and HEAD\n", 18, "Allow: GET, HEAD\r\n", flags);
        conn_send(c);
        return;
    }
    struct buf body;
    buf_init(&body);
    const char *ctype = "text/plain";
    int status = c->a->fn(c->a->arg, path, &body, &ctype);
    if (status == 404 && buf_pending(&body) == 0)
        buf_puts(&body, "not found: try /metrics or /status\n");
    http1_write_response(&c->out, status, ctype, buf_head(&body), buf_pending(&body), NULL, flags | HTTP1_W_DATE);
    buf_deinit(&body);
    conn_send(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    struct admin_conn *c = h->data;
    buf_reserve(&c->in, 4096);
    *b = uv_buf_init(buf_tail(&c->in), (unsigned)buf_room(&c->in));
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
    http1_request_init(&c->req, c->hdrs, ADMIN_MAX_HEADERS);
    c->next = a->conns;
    if (a->conns)
        a->conns->prev = c;
    a->conns = c;
    a->nconns++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 || a->nconns > ADMIN_MAX_CONNS) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_idle, ADMIN_IDLE_MS, ADMIN_IDLE_MS);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

struct admin *admin_open(uv_loop_t *loop, const char *host, int port, admin_handler_fn fn, void *arg,
                         char *err, size_t errlen)
{
    int fd = net_listen(host, port, 64, false, err, errlen);
    if (fd < 0)
        return NULL;
    struct admin *a = xcalloc(1, sizeof *a);
    a->fn = fn;
    a->arg = arg;
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
        xfree(a);
}

void admin_close(struct admin *a)
{
    a->closing = true;
    for (struct admin_conn *c = a->conns; c; c = c->next)
        conn_close(c);
    uv_close((uv_handle_t *)&a->listener, on_listener_closed);
}

int admin_port(const struct admin *a) { return a->port; }
