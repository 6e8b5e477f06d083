/*
 * upstream.c — connections to backends and the per-peer idle pools
 * (see proxy.h).
 *
 * A connection is either attached to one session (u->s) or idle in its
 * peer's list for this worker, most recently used first. Idle connections
 * keep reading so that a backend closing one is noticed at once (any byte or
 * EOF while idle closes it); they are closed after timeout-idle, when the
 * list is over idle-conns (those idle for LB_IDLE_EXCESS_MS, at the next
 * sweep; at once past LB_IDLE_EXCESS_FACTOR x idle-conns), and when the
 * peer stops taking work (drain, removal, down, ejected).
 *
 * backend-tls: the connection is a TLS client (net/tls.h) started once TCP
 * is up; the request written meanwhile waits in u->out as plaintext until the
 * handshake is done, then goes out encrypted through u->cout. What the
 * session sees (u->in, u->out) stays plaintext. TLS records that carry no
 * data (session tickets) do not count as bytes on an idle connection.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "net/conn.h"
#include "lb/proxy.h"

/* Idle connections above idle-conns live this long (the next burst takes
 * them), and never more than this many times idle-conns. */
#define LB_IDLE_EXCESS_MS 1000
#define LB_IDLE_EXCESS_FACTOR 4

static void on_closed(uv_handle_t *h)
{
    struct lb_upstream *u = h->data;
    struct lb_worker *w = u->w;
    LIST_REMOVE(w->upstreams, u, prev, next);
    w->nupstreams--;
    buf_deinit(&u->in);
    buf_deinit(&u->out);
    buf_deinit(&u->wbuf);
    buf_deinit(&u->cout);
    if (u->tls) {
        net_tls_conn_deinit(u->tls);
        xfree(u->tls);
    }
    net_peer_unref(u->peer);
    xfree(u);
}

static struct lb_upstream *of_inode(struct net_idle *n)
{
    return n ? (struct lb_upstream *)(void *)((char *)n - offsetof(struct lb_upstream, inode)) : NULL;
}

static void idle_unlink(struct lb_upstream *u)
{
    net_peer_idle_unlink(&u->peer->local[u->w->id], &u->inode);
    u->idle = false;
}

void lb_upstream_close(struct lb_upstream *u)
{
    if (u->closing)
        return;
    u->closing = true;
    if (u->idle)
        idle_unlink(u);
    u->s = NULL;
    uv_close((uv_handle_t *)&u->tcp, on_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    struct lb_upstream *u = h->data;
    if (u->tls) {
        buf_reserve(&u->tls->raw, LB_READ_SIZE);
        *b = uv_buf_init(buf_tail(&u->tls->raw), (unsigned)buf_room(&u->tls->raw));
        return;
    }
    buf_reserve(&u->in, LB_READ_SIZE);
    *b = uv_buf_init(buf_tail(&u->in), (unsigned)buf_room(&u->in));
}

/* backend-tls: n ciphertext bytes arrived. Returns the plaintext bytes
 * appended to u->in, 0 for none (handshake records are answered here), or a
 * negative libuv error (UV_EPROTO: a failed handshake, a certificate that
 * does not verify, garbage; UV_EOF: close_notify). */
static ssize_t tls_in(struct lb_upstream *u, size_t n)
{
    u->tls->raw.len += n;
    long r = net_tls_conn_input(u->tls, &u->in);
    if (r >= 0 || r == NET_TLS_E_CLOSED) {
        lb_upstream_flush(u); /* the handshake's next flight, or the request waiting for it */
        if (u->closing)
            return 0;
    }
    if (r < 0)
        return r == NET_TLS_E_CLOSED ? UV_EOF : UV_EPROTO;
    return (ssize_t)r;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    struct lb_upstream *u = st->data;
    if (n == 0 || u->closing)
        return;
    if (n > 0 && u->tls) {
        n = tls_in(u, (size_t)n);
        if (n == 0 || u->closing)
            return;
        if (n > 0) {
            if (!u->s) {
                lb_upstream_close(u);
                return;
            }
            net_count(&u->peer->local[u->w->id].bytes_in, (uint64_t)n);
            u->ev->read(u->s, u, n);
            return;
        }
    }
    if (!u->s) {
        /* idle: the backend closed it, or sent what nobody asked for */
        lb_upstream_close(u);
        return;
    }
    if (n > 0) {
        u->in.len += (size_t)n;
        net_count(&u->peer->local[u->w->id].bytes_in, (uint64_t)n);
    }
    u->ev->read(u->s, u, n);
}

void lb_upstream_pause(struct lb_upstream *u)
{
    if (!u->paused && !u->closing) {
        u->paused = true;
        uv_read_stop((uv_stream_t *)&u->tcp);
    }
}

void lb_upstream_resume(struct lb_upstream *u)
{
    if (u->paused && !u->closing) {
        u->paused = false;
        uv_read_start((uv_stream_t *)&u->tcp, on_alloc, on_read);
    }
}

/* The TLS client on a connected socket: SNI and the certificate name are the
 * host of the backend's address as configured (a name or an IP). */
static int start_tls(struct lb_upstream *u, struct net_tls_ctx *tx)
{
    char host[sizeof u->peer->addr];
    snprintf(host, sizeof host, "%s", u->peer->addr);
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0';
    char *h = host;
    if (h[0] == '[') {
        h++;
        char *e = strchr(h, ']');
        if (e)
            *e = '\0';
    }
    u->tls = xmalloc(sizeof *u->tls);
    if (net_tls_conn_init_client(u->tls, tx, h) != 0) {
        xfree(u->tls);
        u->tls = NULL;
        return -1;
    }
    return 0;
}

static void on_connect(uv_connect_t *req, int status)
{
    struct lb_upstream *u = req->data;
    if (u->closing)
        return;
    if (status == 0) {
        u->connected = true;
        uv_tcp_nodelay(&u->tcp, 1);
        struct net_tls_ctx *tx = lb_pool_conf_of(u->peer->pool)->backend_tls_ctx;
        if (tx && start_tls(u, tx) != 0)
            status = UV_EPROTO;
        else
            uv_read_start((uv_stream_t *)&u->tcp, on_alloc, on_read);
    }
    if (u->s)
        u->ev->connected(u->s, u, status);
    else
        lb_upstream_close(u);
}

struct lb_upstream *lb_upstream_connect(struct lb_worker *w, struct net_peer *p, struct lb_session *s,
                                        const struct lb_upstream_events *ev, int *err)
{
    struct lb_upstream *u = xcalloc(1, sizeof *u);
    u->w = w;
    net_peer_ref(p);
    u->peer = p;
    u->s = s;
    u->ev = ev;
    buf_init(&u->in);
    buf_init(&u->out);
    buf_init(&u->wbuf);
    http1_response_init(&u->res, u->hdrs, LB_MAX_HEADERS);
    uv_tcp_init(&w->loop, &u->tcp);
    u->tcp.data = u;
    u->creq.data = u;
    LIST_PUSH(w->upstreams, u, prev, next);
    w->nupstreams++;
    net_count(&p->local[w->id].connects, 1);
    int r = uv_tcp_connect(&u->creq, &u->tcp, (const struct sockaddr *)&p->sa, on_connect);
    if (r != 0) {
        u->s = NULL;
        lb_upstream_close(u);
        *err = r;
        return NULL;
    }
    return u;
}

struct lb_upstream *lb_upstream_take(struct lb_worker *w, struct net_peer *p)
{
    struct net_peer_local *l = &p->local[w->id];
    struct lb_upstream *u = of_inode(l->idle);
    if (!u)
        return NULL;
    idle_unlink(u);
    u->reused = true;
    return u;
}

void lb_upstream_park(struct lb_upstream *u)
{
    struct net_peer *p = u->peer;
    const struct lb_pool_conf *c = lb_pool_conf_of(p->pool);
    struct net_peer_local *l = &p->local[u->w->id];
    u->s = NULL;
    if (u->closing || !u->connected || c->idle_conns == 0 || !net_peer_usable(p, lb_now_ms(u->w)) ||
        buf_pending(&u->in) || buf_pending(&u->out) || buf_pending(&u->cout) || u->writing ||
        (u->tls && !u->tls->established)) {
        lb_upstream_close(u);
        return;
    }
    lb_upstream_resume(u);
    buf_shrink(&u->in, LB_READ_SIZE * 2);
    u->idle = true;
    u->idle_since = lb_now_ms(u->w);
    net_peer_idle_push(l, &u->inode);
    /* Over idle-conns, the least recently used go once idle for
     * LB_IDLE_EXCESS_MS (lb_upstream_sweep), not at once: after a burst of
     * more concurrent requests than idle-conns, closing the surplus only to
     * connect again for the next burst cost 40 % of the lb's CPU under
     * h2load -c 10 -m 10 (a connect and a close for one request in six).
     * Past LB_IDLE_EXCESS_FACTOR x idle-conns the oldest closes at once. */
    if (l->nidle > c->idle_conns * LB_IDLE_EXCESS_FACTOR)
        lb_upstream_close(of_inode(net_peer_idle_oldest(l)));
}

static void on_written(uv_write_t *req, int status)
{
    struct lb_upstream *u = req->data;
    u->writing = false;
    if (u->closing)
        return;
    if (status < 0) {
        if (u->s)
            u->ev->read(u->s, u, status);
        else
            lb_upstream_close(u);
        return;
    }
    net_count(&u->peer->local[u->w->id].bytes_out, net_conn_written(&u->wbuf, LB_HIGH_WATER));
    lb_upstream_flush(u);
    if (!u->closing && u->s && buf_pending(&u->out) + buf_pending(&u->wbuf) < LB_LOW_WATER)
        u->ev->drained(u->s, u);
}

void lb_upstream_flush(struct lb_upstream *u)
{
    if (u->closing || u->writing || !u->connected)
        return;
    struct buf *src = &u->out;
    if (u->tls) {
        /* plaintext stays in out until the handshake is done */
        if (net_tls_conn_output(u->tls, &u->out, &u->cout) != 0) {
            if (u->s)
                u->ev->read(u->s, u, UV_EPROTO);
            else
                lb_upstream_close(u);
            return;
        }
        src = &u->cout;
    }
    size_t n;
    int r = net_conn_write((uv_stream_t *)&u->tcp, src, &u->wbuf, &u->wreq, u, on_written, &u->writing, &n);
    if (n)
        net_count(&u->peer->local[u->w->id].bytes_out, (uint64_t)n);
    if (r < 0) {
        if (u->s)
            u->ev->read(u->s, u, r);
        else
            lb_upstream_close(u);
    }
}

void lb_upstream_sweep(struct lb_worker *w, long long now)
{
    for (struct lb_upstream *u = w->upstreams, *next; u; u = next) {
        next = u->next;
        if (!u->idle || u->closing)
            continue;
        const struct lb_pool_conf *c = lb_pool_conf_of(u->peer->pool);
        const struct net_peer_local *l = &u->peer->local[w->id];
        if (now - u->idle_since > c->idle_timeout_ms || !net_peer_usable(u->peer, now) ||
            (l->nidle > c->idle_conns && now - u->idle_since > LB_IDLE_EXCESS_MS))
            lb_upstream_close(u);
        else if (u->tls && now - u->idle_since > LB_IDLE_TRIM_MS)
            net_tls_conn_trim(u->tls); /* backend-tls: an idle pooled connection keeps no buffers */
    }
}

void lb_upstream_close_all(struct lb_worker *w)
{
    for (struct lb_upstream *u = w->upstreams; u; u = u->next)
        lb_upstream_close(u);
}
