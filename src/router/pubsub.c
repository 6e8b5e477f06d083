/*
 * pubsub.c — pub/sub through the router.
 *
 * A client that SUBSCRIBEs gets its own connection to each shard it needs
 * (not the shared pipelined ones): a channel (or pattern) is subscribed on
 * the shard its name hashes to, like a key, and PUBLISH goes to every shard
 * (route.c), so every subscription receives each message once and PUBLISH
 * answers the sum of receivers. The shards' (un)subscribe confirmations get
 * the count of the client's subscriptions over all shards; messages pass
 * through. While an (un)subscribe is being confirmed the client's next
 * commands wait (proxy.c's rt_client_process, reached through
 * c->w->sub_ops like every call back into proxy.c), so replies keep Redis's order.
 * A subscriber connection that fails closes the client (its subscriptions on
 * that shard are gone; clients reconnect and subscribe again).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/util.h"
#include "proto/commands.h"
#include "router/proxy.h"

#define READ_CHUNK 16384
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define SUB_MAX 10000

static void ps_closed(uv_handle_t *h)
{
    struct rt_psconn *ps = h->data;
    rt_wq_deinit(&ps->wq);
    buf_deinit(&ps->in);
    xfree(ps);
}

static void ps_close(struct rt_psconn *ps)
{
    if (!uv_is_closing((uv_handle_t *)&ps->tcp))
        uv_close((uv_handle_t *)&ps->tcp, ps_closed);
}

static void ps_fail(struct rt_psconn *ps, const char *why)
{
    struct rt_client *c = ps->c;
    ps->failed = true;
    if (c) {
        log_verbose("subscriber closed: its shard connection failed (%s)", why);
        c->w->sub_ops->close(c); /* closes ps too */
    } else {
        ps_close(ps);
    }
}

void rt_sub_free(struct rt_client *c)
{
    struct rt_sub *sub = c->sub;
    if (!sub)
        return;
    for (int i = 0; i < RT_MAX_SHARDS; i++)
        if (sub->conns[i]) {
            sub->conns[i]->c = NULL;
            ps_close(sub->conns[i]);
        }
    for (int i = 0; i < sub->n; i++)
        xfree(sub->names[i].name);
    xfree(sub->names);
    xfree(sub->conns);
    xfree(sub);
    c->sub = NULL;
}

static void on_ps_write(uv_write_t *req, int status)
{
    struct rt_psconn *ps = container_of(req, struct rt_psconn, wq.req);
    ps->wq.writing = false;
    if (uv_is_closing((uv_handle_t *)&ps->tcp))
        return;
    if (status < 0) {
        ps_fail(ps, uv_strerror(status));
        return;
    }
    buf_consume(&ps->wq.wout, buf_pending(&ps->wq.wout));
    if (rt_wq_flush(&ps->wq, (uv_stream_t *)&ps->tcp, on_ps_write) != 0)
        ps_fail(ps, "write failed");
}

static void ps_send(struct rt_psconn *ps)
{
    if (ps->up && rt_wq_flush(&ps->wq, (uv_stream_t *)&ps->tcp, on_ps_write) != 0)
        ps_fail(ps, "write failed");
}

static int sub_find(const struct rt_sub *sub, const char *name, size_t len, bool pattern)
{
    for (int i = 0; i < sub->n; i++)
        if (sub->names[i].pattern == pattern && sub->names[i].len == len && memcmp(sub->names[i].name, name, len) == 0)
            return i;
    return -1;
}

/* *3 $kind $name :count, the count being the client's over all shards. */
static void sub_confirm(struct buf *out, const char *kind, const char *name, size_t len, int count)
{
    resp_add_array(out, 3);
    resp_add_bulk(out, kind, strlen(kind));
    if (name)
        resp_add_bulk(out, name, len);
    else
        resp_add_null(out, 2);
    resp_add_int(out, count);
}

/* A bulk at *p (nil: *s = NULL); false when it is none. */
static bool bulk_at(const char **p, const char *end, const char **s, size_t *n)
{
    long long bl;
    const char *q = *p;
    const char *e = q < end ? memchr(q, '\r', (size_t)(end - q)) : NULL;
    if (!e || *q != '$' || !util_str2ll(q + 1, (size_t)(e - q - 1), &bl))
        return false;
    if (bl < 0) {
        *s = NULL;
        *n = 0;
        *p = e + 2;
        return true;
    }
    if (e + 2 + bl + 2 > end)
        return false;
    *s = e + 2;
    *n = (size_t)bl;
    *p = e + 2 + bl + 2;
    return true;
}

/* One push from a shard: confirmations recounted, the rest passed through. */
static void sub_forward(struct rt_client *c, const char *p, size_t n)
{
    struct rt_sub *sub = c->sub;
    const char *end = p + n, *q = p + 4, *kind, *name;
    size_t kl, nl;
    if (n > 4 && memcmp(p, "*3\r\n", 4) == 0 && bulk_at(&q, end, &kind, &kl) && kind && q < end && *q == '$' &&
        bulk_at(&q, end, &name, &nl) && q < end && *q == ':') {
        bool pat = kl > 0 && kind[0] == 'p';
        bool unsub = (kl == 11 && memcmp(kind, "unsubscribe", 11) == 0) || (kl == 12 && memcmp(kind, "punsubscribe", 12) == 0);
        bool subs = (kl == 9 && memcmp(kind, "subscribe", 9) == 0) || (kl == 10 && memcmp(kind, "psubscribe", 10) == 0);
        if (subs || unsub) {
            if (!name)
                return; /* an unsubscribe-all of a shard with nothing: the router answers those itself */
            /* names are listed when sent, counted when confirmed, dropped when their unsubscribe is confirmed */
            int i = sub_find(sub, name, nl, pat);
            if (subs && i >= 0 && !sub->names[i].confirmed) {
                sub->names[i].confirmed = true;
                sub->count++;
            } else if (unsub && i >= 0) {
                if (sub->names[i].confirmed)
                    sub->count--;
                xfree(sub->names[i].name);
                sub->names[i] = sub->names[--sub->n];
            }
            char k[16];
            memcpy(k, kind, kl);
            k[kl] = 0;
            sub_confirm(&c->wq.out, k, name, nl, sub->count);
            if (sub->n == 0 && unsub)
                sub->active = false;
            if (sub->pending > 0 && --sub->pending == 0)
                c->w->sub_ops->process(c); /* the commands that waited */
            return;
        }
    }
    buf_append(&c->wq.out, p, n);
}

static void on_ps_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)hint;
    struct rt_psconn *ps = h->data;
    buf_reserve(&ps->in, READ_CHUNK);
    *b = uv_buf_init(buf_tail(&ps->in), (unsigned)buf_room(&ps->in));
}

static void on_ps_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
    (void)b;
    struct rt_psconn *ps = st->data;
    if (nread < 0) {
        ps_fail(ps, nread == UV_EOF ? "connection closed" : uv_strerror((int)nread));
        return;
    }
    ps->in.len += (size_t)nread;
    struct rt_client *c = ps->c;
    for (;;) {
        size_t avail = buf_pending(&ps->in);
        if (avail == 0 || (ps->rp.need && avail < ps->rp.need))
            break;
        ssize_t n = resp_reply_parse(&ps->rp, buf_head(&ps->in), avail);
        if (n == RESP_REPLY_INCOMPLETE)
            break;
        if (n < 0) {
            ps_fail(ps, "the shard sent bytes that are not RESP");
            return;
        }
        if (ps->c && c->sub)
            sub_forward(c, buf_head(&ps->in), (size_t)n);
        buf_consume(&ps->in, (size_t)n);
        if (!ps->c || uv_is_closing((uv_handle_t *)&ps->tcp))
            return; /* the client went away meanwhile */
    }
    if (buf_pending(&ps->in) == 0)
        buf_shrink(&ps->in, 64 * 1024);
    if (c && !c->closing)
        c->w->sub_ops->mark(c);
}

static void on_ps_connect(uv_connect_t *req, int status)
{
    struct rt_psconn *ps = req->data;
    if (uv_is_closing((uv_handle_t *)&ps->tcp))
        return;
    if (status < 0) {
        ps_fail(ps, uv_strerror(status));
        return;
    }
    ps->up = true;
    uv_tcp_nodelay(&ps->tcp, 1);
    uv_read_start((uv_stream_t *)&ps->tcp, on_ps_alloc, on_ps_read);
    ps_send(ps);
}

static struct rt_psconn *ps_get(struct rt_client *c, int id, long long now)
{
    struct rt_sub *sub = c->sub;
    if (sub->conns[id])
        return sub->conns[id];
    struct rt_shard *sh = rt_shard_of(c->w->srv, id);
    if (!sh || !rt_shard_usable(sh, now))
        return NULL;
    struct rt_psconn *ps = xcalloc(1, sizeof *ps);
    rt_wq_init(&ps->wq);
    buf_init(&ps->in);
    resp_reply_init(&ps->rp);
    uv_tcp_init(&c->w->loop, &ps->tcp);
    ps->tcp.data = ps;
    ps->creq.data = ps;
    ps->c = c;
    struct net_peer *peer = atomic_load_explicit(&sh->peer, memory_order_acquire);
    if (uv_tcp_connect(&ps->creq, &ps->tcp, (const struct sockaddr *)&peer->sa, on_ps_connect) != 0) {
        ps_close(ps);
        return NULL;
    }
    sub->conns[id] = ps;
    return ps;
}

/* Pub/sub commands, and every command in subscribe mode: true when handled. */
bool rt_sub_handle(struct rt_client *c, int cmd, int argc, const struct resp_arg *argv, long long now)
{
    bool subc = cmd == RESP_CMD_SUBSCRIBE || cmd == RESP_CMD_PSUBSCRIBE;
    bool unsubc = cmd == RESP_CMD_UNSUBSCRIBE || cmd == RESP_CMD_PUNSUBSCRIBE;
    bool pat = cmd == RESP_CMD_PSUBSCRIBE || cmd == RESP_CMD_PUNSUBSCRIBE;
    bool active = c->sub && c->sub->active;
    if (c->in_multi || (!active && !subc && !unsubc))
        return false;
    if (active && !subc && !unsubc) {
        if (cmd == RESP_CMD_PING) {
            struct buf t;
            buf_init(&t);
            resp_add_array(&t, 2);
            resp_add_bulk(&t, "pong", 4);
            if (argc > 1)
                resp_add_bulk(&t, argv[1].ptr, argv[1].len);
            else
                resp_add_bulk(&t, "", 0);
            c->w->sub_ops->msg_local(c, buf_head(&t), buf_pending(&t), false);
            buf_deinit(&t);
        } else if (cmd == RESP_CMD_QUIT) {
            c->w->sub_ops->msg_local(c, "+OK\r\n", 5, true);
        } else {
            char name[40];
            size_t n = argv[0].len < sizeof name - 1 ? argv[0].len : sizeof name - 1;
            for (size_t i = 0; i < n; i++)
                name[i] = (char)(argv[0].ptr[i] >= 'A' && argv[0].ptr[i] <= 'Z' ? argv[0].ptr[i] + 32 : argv[0].ptr[i]);
            name[n] = 0;
            c->w->sub_ops->msg_error(c, "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are "
                         "allowed in this context", name);
        }
        return true;
    }
    const char *kind = cmd == RESP_CMD_SUBSCRIBE ? "subscribe" : cmd == RESP_CMD_PSUBSCRIBE ? "psubscribe"
                     : cmd == RESP_CMD_UNSUBSCRIBE ? "unsubscribe" : "punsubscribe";
    if (subc && argc < 2) {
        c->w->sub_ops->msg_error(c, "ERR wrong number of arguments for '%s' command", kind);
        return true;
    }
    struct buf t;
    buf_init(&t);
    if (!active && unsubc) {
        /* not subscribed: answered here, as Redis does */
        if (argc == 1)
            sub_confirm(&t, kind, NULL, 0, 0);
        for (int i = 1; i < argc; i++)
            sub_confirm(&t, kind, argv[i].ptr, argv[i].len, 0);
        c->w->sub_ops->msg_local(c, buf_head(&t), buf_pending(&t), false);
        buf_deinit(&t);
        return true;
    }
    if (!active && (c->head || c->nparked)) {
        buf_deinit(&t);
        c->w->sub_ops->msg_error(c, "ERR router: %s with commands still in flight on this connection is not supported", kind);
        return true;
    }
    if (!c->sub) {
        c->sub = xcalloc(1, sizeof *c->sub);
        c->sub->conns = xcalloc(RT_MAX_SHARDS, sizeof *c->sub->conns);
    }
    struct rt_sub *sub = c->sub;
    sub->active = true;
    struct resp_arg cmdarg[2] = {{kind, strlen(kind)}, {NULL, 0}};
    if (unsubc && argc == 1) {
        /* every name of that kind, each on its shard */
        bool any = false;
        for (int i = 0; i < sub->n; i++) {
            if (sub->names[i].pattern != pat || !sub->conns[sub->names[i].shard])
                continue;
            cmdarg[1] = (struct resp_arg){sub->names[i].name, sub->names[i].len};
            rt_write_command(&sub->conns[sub->names[i].shard]->wq.out, 2, cmdarg);
            sub->pending++;
            ps_send(sub->conns[sub->names[i].shard]);
            any = true;
        }
        if (!any) {
            sub_confirm(&t, kind, NULL, 0, sub->count);
            if (sub->n == 0)
                sub->active = false;
        }
    }
    for (int i = 1; i < argc; i++) {
        int k = sub_find(sub, argv[i].ptr, argv[i].len, pat);
        int id = k >= 0 ? sub->names[k].shard : c->w->sub_ops->locate_key(c->w->srv, argv[i].ptr, argv[i].len);
        struct rt_psconn *ps = id >= 0 && (unsubc ? k >= 0 : true) ? ps_get(c, id, now) : NULL;
        if (unsubc && k < 0) {
            sub_confirm(&t, kind, argv[i].ptr, argv[i].len, sub->count); /* not subscribed: nothing to tell a shard */
            continue;
        }
        if (!ps) {
            struct rt_shard *sh = rt_shard_of(c->w->srv, id);
            char e[300];
            snprintf(e, sizeof e, "ERR shard %s unavailable", sh ? sh->name : "?");
            resp_add_error(&t, e, strlen(e));
            continue;
        }
        if (subc && k < 0) {
            if (sub->n >= SUB_MAX) {
                resp_add_error(&t, "ERR router: too many subscriptions on this connection", 53);
                continue;
            }
            if (sub->n == sub->cap) {
                sub->cap = sub->cap ? sub->cap * 2 : 8;
                sub->names = xrealloc(sub->names, (size_t)sub->cap * sizeof *sub->names);
            }
            struct rt_subname *sn = &sub->names[sub->n++];
            sn->name = xmalloc(argv[i].len + 1);
            memcpy(sn->name, argv[i].ptr, argv[i].len);
            sn->name[argv[i].len] = 0;
            sn->len = argv[i].len;
            sn->pattern = pat;
            sn->confirmed = false;
            sn->shard = id;
        }
        cmdarg[1] = argv[i];
        rt_write_command(&ps->wq.out, 2, cmdarg);
        sub->pending++;
        ps_send(ps);
    }
    if (buf_pending(&t))
        c->w->sub_ops->msg_local(c, buf_head(&t), buf_pending(&t), false);
    if (sub->n == 0 && !unsubc)
        sub->active = false; /* every SUBSCRIBE failed */
    buf_deinit(&t);
    return true;
}

