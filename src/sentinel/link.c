/*
 * link.c — outbound RESP connections of the sentinel (to primaries, replicas
 * and other sentinels) and the small reply decoder the monitor reads them with.
 *
 * A link is a libuv TCP handle, an input buffer framed by proto/reply
 * (resp_reply_parse), and a FIFO of callbacks, one per command sent. A link in
 * pub/sub mode (on_push set) hands every reply that no queued command awaits
 * to on_push. A drop answers every queued callback with NULL at once, so the
 * monitor never waits on a dead connection. Single thread.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/util.h"
#include "proto/resp.h"
#include "sentinel/sentinel.h"

#define SNT_LINK_MAX_IN (64 * 1024 * 1024)   /* a reply larger than this drops the link */

/* ---- reply decoder ----------------------------------------------------- */

static bool read_line(const char **p, const char *end, const char **s, size_t *n)
{
    const char *cr = memchr(*p, '\r', (size_t)(end - *p));
    if (!cr || cr + 1 >= end)
        return false;
    *s = *p;
    *n = (size_t)(cr - *p);
    *p = cr + 2;
    return true;
}

static bool decode(struct snt_val *v, const char **p, const char *end, int depth)
{
    if (*p >= end || depth > RESP_REPLY_MAX_DEPTH)
        return false;
    char t = **p;
    (*p)++;
    const char *s;
    size_t n;
    if (!read_line(p, end, &s, &n))
        return false;
    memset(v, 0, sizeof *v);
    v->type = t;
    long long k;
    switch (t) {
    case '+': case '-':
        v->s = s, v->len = n;
        return true;
    case ':':
        return util_str2ll(s, n, &v->i);
    case '$':
        if (!util_str2ll(s, n, &k))
            return false;
        if (k < 0) {
            v->type = '_';
            return true;
        }
        if ((long long)(end - *p) < k + 2)
            return false;
        v->s = *p, v->len = (size_t)k;
        *p += k + 2;
        return true;
    case '*':
        if (!util_str2ll(s, n, &k))
            return false;
        if (k < 0) {
            v->type = '_';
            return true;
        }
        if (k > (long long)(end - *p))
            return false;
        v->n = (int)k;
        v->elems = k ? xcalloc((size_t)k, sizeof *v->elems) : NULL;
        for (int i = 0; i < v->n; i++)
            if (!decode(&v->elems[i], p, end, depth + 1)) {
                v->n = i + 1;
                return false;
            }
        return true;
    default:
        return false;
    }
}

static void val_deinit(struct snt_val *v)
{
    if (v->type == '*') {
        for (int i = 0; i < v->n; i++)
            val_deinit(&v->elems[i]);
        xfree(v->elems);
    }
}

struct snt_val *snt_val_decode(const char *buf, size_t len)
{
    struct snt_val *v = xcalloc(1, sizeof *v);
    const char *p = buf;
    if (!decode(v, &p, buf + len, 0)) {
        snt_val_free(v);
        return NULL;
    }
    return v;
}

void snt_val_free(struct snt_val *v)
{
    if (!v)
        return;
    val_deinit(v);
    xfree(v);
}

bool snt_val_is(const struct snt_val *v, const char *s)
{
    return v && (v->type == '+' || v->type == '$') && v->len == strlen(s) && memcmp(v->s, s, v->len) == 0;
}

/* ---- links ------------------------------------------------------------- */

struct snt_link *snt_link_new(uv_loop_t *loop, const char *host, int port)
{
    struct snt_link *l = xcalloc(1, sizeof *l);
    l->loop = loop;
    snprintf(l->host, sizeof l->host, "%s", host);
    l->port = port;
    buf_init(&l->in);
    net_out_init(&l->out);
    resp_reply_init(&l->rp);
    l->state = SNT_LINK_CLOSED;
    return l;
}

static void fail_queue(struct snt_link *l)
{
    /* callbacks may send on other links, never on this one (it is down) */
    struct snt_pending *q = l->q;
    int n = l->qn;
    l->q = NULL;
    l->qn = l->qcap = 0;
    for (int i = 0; i < n; i++)
        if (q[i].cb)
            q[i].cb(l, NULL, q[i].ctx);
    xfree(q);
}

static void on_closed(uv_handle_t *h)
{
    struct snt_link *l = h->data;
    l->state = SNT_LINK_CLOSED;
    if (l->free_on_close) {
        buf_deinit(&l->in);
        net_out_deinit(&l->out);
        xfree(l);
    }
}

void snt_link_drop(struct snt_link *l)
{
    if (l->state == SNT_LINK_CONNECTING || l->state == SNT_LINK_UP) {
        l->state = SNT_LINK_CLOSING;
        uv_close((uv_handle_t *)&l->tcp, on_closed);
    }
    buf_consume(&l->in, buf_pending(&l->in));
    buf_consume(&l->out.out, buf_pending(&l->out.out));
    resp_reply_init(&l->rp);
    fail_queue(l);
}

void snt_link_free(struct snt_link *l)
{
    if (!l)
        return;
    snt_link_drop(l);
    if (l->state == SNT_LINK_CLOSING) {
        l->free_on_close = true;   /* on_closed frees */
        return;
    }
    buf_deinit(&l->in);
    net_out_deinit(&l->out);
    xfree(l);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct snt_link *l = h->data;
    buf_reserve(&l->in, 16384);
    b->base = buf_tail(&l->in);
    b->len = buf_room(&l->in);
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct snt_link *l = s->data;
    if (nread < 0) {
        snt_link_drop(l);
        return;
    }
    l->in.len += (size_t)nread;
    while (l->state == SNT_LINK_UP && buf_pending(&l->in) > 0) {
        if (l->rp.need && buf_pending(&l->in) < l->rp.need)
            break;
        ssize_t n = resp_reply_parse(&l->rp, buf_head(&l->in), buf_pending(&l->in));
        if (n == RESP_REPLY_INCOMPLETE) {
            if (buf_pending(&l->in) > SNT_LINK_MAX_IN)
                snt_link_drop(l);
            break;
        }
        struct snt_val *v = n > 0 ? snt_val_decode(buf_head(&l->in), (size_t)n) : NULL;
        if (!v) {
            log_warn("sentinel: bad reply from %s:%d, dropping the link", l->host, l->port);
            snt_link_drop(l);
            break;
        }
        /* a pub/sub push is an array whose first word is message/pmessage/... */
        bool push = l->on_push && v->type == '*' && v->n >= 3 &&
                    (snt_val_is(&v->elems[0], "message") || snt_val_is(&v->elems[0], "pmessage"));
        if (push) {
            buf_consume(&l->in, (size_t)n);
            l->on_push(l, v, l->push_ctx);
        } else if (l->qn > 0) {
            struct snt_pending p = l->q[0];
            memmove(l->q, l->q + 1, (size_t)(l->qn - 1) * sizeof *l->q);
            l->qn--;
            buf_consume(&l->in, (size_t)n);
            if (p.cb)
                p.cb(l, v, p.ctx);
        } else {
            buf_consume(&l->in, (size_t)n);   /* subscribe confirmations, strays */
        }
        snt_val_free(v);
    }
    if (l->state == SNT_LINK_UP && buf_pending(&l->in) == 0)
        buf_consume(&l->in, 0);
}

static void connect_cb(uv_connect_t *req, int status)
{
    struct snt_link *l = req->data;
    if (l->state != SNT_LINK_CONNECTING)
        return;
    if (status < 0) {
        snt_link_drop(l);
        return;
    }
    l->state = SNT_LINK_UP;
    l->connected_ms = util_time_ms();
    uv_tcp_nodelay(&l->tcp, 1);
    uv_read_start((uv_stream_t *)&l->tcp, alloc_cb, read_cb);
}

void snt_link_connect(struct snt_link *l)
{
    if (l->state != SNT_LINK_CLOSED)
        return;
    struct sockaddr_storage sa;
    memset(&sa, 0, sizeof sa);
    if (uv_ip4_addr(l->host, l->port, (struct sockaddr_in *)&sa) != 0 &&
        uv_ip6_addr(l->host, l->port, (struct sockaddr_in6 *)&sa) != 0)
        return;
    uv_tcp_init(l->loop, &l->tcp);
    l->tcp.data = l;
    l->creq.data = l;
    l->state = SNT_LINK_CONNECTING;
    if (uv_tcp_connect(&l->creq, &l->tcp, (struct sockaddr *)&sa, connect_cb) != 0)
        snt_link_drop(l);
}

static void write_cb(uv_write_t *w, int status)
{
    struct snt_link *l = w->data;
    net_out_written(&l->out);
    if (status < 0 || l->state != SNT_LINK_UP)
        return; /* dropped: the read side or snt_link_drop says so */
    if (net_out_flush((uv_stream_t *)&l->tcp, &l->out, l, write_cb) < 0)
        snt_link_drop(l);
}

int snt_link_cmd(struct snt_link *l, snt_reply_cb cb, void *ctx, int argc, const char **argv)
{
    if (l->state != SNT_LINK_UP)
        return -1;
    resp_add_array(&l->out.out, argc);
    for (int i = 0; i < argc; i++)
        resp_add_bulk_cstr(&l->out.out, argv[i]);
    if (net_out_flush((uv_stream_t *)&l->tcp, &l->out, l, write_cb) < 0) {
        snt_link_drop(l);
        return -1;
    }
    if (l->qn == l->qcap) {
        l->qcap = l->qcap ? l->qcap * 2 : 8;
        l->q = xrealloc(l->q, (size_t)l->qcap * sizeof *l->q);
    }
    l->q[l->qn++] = (struct snt_pending){cb, ctx};
    return 0;
}
