/*
 * conn.c — a TCP connection on a libuv loop (see conn.h). Protocol-free.
 */
#include "pg/conn.h"

#include <sys/un.h>

#include "core/alloc.h"
#include "core/util.h"
#include "net/conn.h"
#include "pg/tls.h"

#define READ_CHUNK (64 * 1024)

static void on_closed(uv_handle_t *h)
{
    struct pg_conn *c = h->data;
    buf_deinit(&c->in);
    buf_deinit(&c->out);
    buf_deinit(&c->wbuf);
    buf_deinit(&c->raw);
    pg_tls_free(c->tls);
    c->tls = NULL;
    c->ops->on_close(c);
}

void pg_conn_close(struct pg_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    (void)suggested;
    struct pg_conn *c = h->data;
    struct buf *b = c->tls ? &c->raw : &c->in;
    buf_reserve(b, READ_CHUNK);
    out->base = buf_tail(b);
    out->len = buf_room(b);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    struct pg_conn *c = s->data;
    if (c->closing)
        return;
    if (n > 0 && c->tls) {
        c->raw.len += (size_t)n;
        c->bytes_in += (unsigned long long)n;
        int r = pg_tls_input(c->tls, &c->raw, &c->in);
        pg_conn_flush(c); /* handshake answers */
        if (r < 0)
            c->ops->on_read(c, true);
        else if (r > 0 && !c->closing)
            c->ops->on_read(c, false);
    } else if (n > 0) {
        c->in.len += (size_t)n;
        c->bytes_in += (unsigned long long)n;
        c->ops->on_read(c, false);
    } else if (n < 0) {
        c->ops->on_read(c, true);
    }
    if (!c->closing)
        buf_shrink(&c->in, 2 * READ_CHUNK);
}

void pg_conn_read_start(struct pg_conn *c)
{
    if (c->reading || c->closing)
        return;
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
        c->reading = true;
}

void pg_conn_read_stop(struct pg_conn *c)
{
    if (!c->reading || c->closing)
        return;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
}

static void init(uv_loop_t *loop, struct pg_conn *c, const struct pg_conn_ops *ops, void *owner, bool unix_socket)
{
    buf_init(&c->in);
    buf_init(&c->out);
    buf_init(&c->wbuf);
    buf_init(&c->raw);
    c->tls = NULL;
    c->ops = ops;
    c->owner = owner;
    c->reading = c->writing = c->closing = c->close_after_write = false;
    c->bytes_in = c->bytes_out = 0;
    if (unix_socket) {
        uv_pipe_init(loop, &c->pipe, 0);
        c->pipe.data = c;
    } else {
        uv_tcp_init(loop, &c->tcp);
        c->tcp.data = c;
    }
}

int pg_conn_accept(uv_loop_t *loop, uv_stream_t *server, struct pg_conn *c, const struct pg_conn_ops *ops, void *owner)
{
    init(loop, c, ops, owner, false);
    int rc = uv_accept(server, (uv_stream_t *)&c->tcp);
    if (rc != 0) {
        pg_conn_close(c);
        return rc;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    c->connect_ms = util_time_ms();
    pg_conn_read_start(c);
    return 0;
}

static void on_connected(uv_connect_t *req, int status)
{
    struct pg_conn *c = req->data;
    if (c->closing)
        return;
    if (status == 0) {
        c->connect_ms = util_time_ms();
        if (c->tcp.type == UV_TCP)
            uv_tcp_nodelay(&c->tcp, 1);
        pg_conn_read_start(c);
    }
    c->ops->on_connect(c, status);
}

int pg_conn_connect(uv_loop_t *loop, struct pg_conn *c, const struct sockaddr *addr, const struct pg_conn_ops *ops,
                    void *owner)
{
    bool unix_socket = addr->sa_family == AF_UNIX;
    init(loop, c, ops, owner, unix_socket);
    c->creq.data = c;
    if (unix_socket) {
        /* libuv reports every failure (a missing file, ECONNREFUSED) through on_connected */
        uv_pipe_connect(&c->creq, &c->pipe, ((const struct sockaddr_un *)(const void *)addr)->sun_path, on_connected);
        return 0;
    }
    int rc = uv_tcp_connect(&c->creq, &c->tcp, addr, on_connected);
    if (rc != 0)
        pg_conn_close(c);
    return rc;
}

static void on_written(uv_write_t *req, int status)
{
    struct pg_conn *c = req->data;
    c->writing = false;
    net_conn_written(&c->wbuf, 2 * READ_CHUNK);
    if (c->closing)
        return;
    if (status < 0) {
        pg_conn_close(c);
        return;
    }
    if (buf_pending(&c->out)) {
        pg_conn_flush(c);
        return;
    }
    if (c->close_after_write) {
        pg_conn_close(c);
        return;
    }
    if (c->ops->on_drain)
        c->ops->on_drain(c);
}

void pg_conn_flush(struct pg_conn *c)
{
    if (c->writing || c->closing)
        return;
    if (c->tls && pg_tls_output(c->tls, &c->out) != 0) {
        pg_conn_close(c);
        return;
    }
    if (buf_pending(&c->out) == 0)
        return;
    /* most replies fit the socket buffer: write them now, without a round
     * through the loop; only what is left waits for a uv_write */
    size_t n;
    int r = net_conn_write((uv_stream_t *)&c->tcp, &c->out, &c->wbuf, &c->wreq, c, on_written, &c->writing, &n);
    c->bytes_out += (unsigned long long)n;
    if (r < 0) {
        pg_conn_close(c);
    } else if (r == NET_WRITE_QUEUED) {
        c->bytes_out += buf_pending(&c->wbuf); /* counted when queued */
    } else if (c->close_after_write) {
        pg_conn_close(c);
    } else if (c->ops->on_drain) {
        c->ops->on_drain(c);
    }
}

int pg_conn_tls_start(struct pg_conn *c, struct net_tls_ctx *ctx)
{
    if (c->tls)
        return -1;
    c->tls = pg_tls_new(ctx);
    return c->tls ? 0 : -1;
}

void pg_conn_close_after_write(struct pg_conn *c)
{
    if (c->closing)
        return;
    if (!c->writing && buf_pending(&c->out) == 0) {
        pg_conn_close(c);
        return;
    }
    c->close_after_write = true;
    pg_conn_read_stop(c);
    pg_conn_flush(c);
}
