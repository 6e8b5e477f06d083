/*
 * tcp.c — L4 mode: each client connection is tunnelled to one peer of the
 * listener's pool, bytes forwarded unchanged both ways.
 *
 *   client ──read──▶ t->c2s ──write──▶ peer        (pause the client when
 *   client ◀──write── t->s2c ◀──read── peer         the other side is HIGH_WATER behind)
 *
 *   accept ─▶ pick (balancer; key = client address) ─▶ connect (timeout-connect;
 *   a failure tries another peer, `retries` times) ─▶ forward ─▶ an EOF on one
 *   side is passed on as a shutdown of the other once its bytes are written
 *   (half-close) ─▶ both directions done, an error, or timeout-client of
 *   silence: close both.
 *
 * Client bytes that arrive while connecting wait in t->c2s (bounded by the
 * same backpressure). The peer's `active` counts open tunnels, so leastconn
 * and maxconn work as in HTTP mode (a tunnel to a full peer is not opened:
 * with every peer full the client is closed; there is no queue in L4).
 */
#include <arpa/inet.h>
#include <string.h>

#include "core/alloc.h"
#include "net/conn.h"
#include "core/log.h"
#include "net/balance.h"
#include "lb/lb.h"
#include "net/peer.h"

#define T_HIGH (256 * 1024)
#define T_LOW (64 * 1024)
#define T_READ (16 * 1024)

struct lb_tunnel;

/* The connection to a peer; one per attempt, freed in its close callback. */
struct tconn {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wreq;
    uv_shutdown_t sreq;
    struct lb_tunnel *t;
    struct net_peer *peer;
};

struct lb_tunnel {
    uv_tcp_t cli;
    uv_write_t cwreq;
    uv_shutdown_t csreq;
    struct lb_worker *w;
    struct lb_listener *ls;
    struct net_pool *pool;
    struct tconn *srv;              /* current peer connection (NULL between attempts) */
    struct net_peer *peer;           /* a reference while the tunnel holds a slot */
    struct lb_tunnel *prev, *next;
    struct buf c2s, c2s_w, s2c, s2c_w; /* pending / being written */
    bool connected, closing, cwriting, swriting, cpaused, spaused;
    bool cli_eof, srv_eof, srv_shut, cli_shut;
    bool started;                   /* the first connect began (TLS: after the handshake) */
    bool tls_shut;                  /* close_notify queued */
    struct net_tls_conn *tls;       /* TLS listener: the client side's TLS state; NULL plain */
    int handles;                    /* open libuv handles: cli + srv */
    uint64_t key;
    struct net_peer *tried[4];
    int ntried;
    long long since, last;
};

static void tunnel_close(struct lb_tunnel *t);
static void connect_next(struct lb_tunnel *t);
static void flush_to_srv(struct lb_tunnel *t);
static void flush_to_cli(struct lb_tunnel *t);

static inline long long tnow(struct lb_tunnel *t) { return lb_now_ms(t->w); }

static void tunnel_free_if_done(struct lb_tunnel *t)
{
    if (t->handles > 0)
        return;
    struct lb_worker *w = t->w;
    LIST_REMOVE(w->tunnels, t, prev, next);
    w->ntunnels--;
    atomic_fetch_sub(&w->srv->nclients, 1);
    buf_deinit(&t->c2s);
    buf_deinit(&t->c2s_w);
    buf_deinit(&t->s2c);
    buf_deinit(&t->s2c_w);
    if (t->tls) {
        net_tls_conn_deinit(t->tls);
        xfree(t->tls);
    }
    xfree(t);
}

static void on_cli_closed(uv_handle_t *h)
{
    struct lb_tunnel *t = h->data;
    t->handles--;
    tunnel_free_if_done(t);
}

static void on_srv_closed(uv_handle_t *h)
{
    struct tconn *c = h->data;
    struct lb_tunnel *t = c->t;
    net_peer_unref(c->peer);
    xfree(c);
    t->handles--;
    tunnel_free_if_done(t);
}

static void release_peer(struct lb_tunnel *t)
{
    if (!t->peer)
        return;
    atomic_fetch_sub(&t->peer->active, 1);
    net_peer_unref(t->peer);
    t->peer = NULL;
}

static void srv_close(struct lb_tunnel *t)
{
    struct tconn *c = t->srv;
    if (!c)
        return;
    t->srv = NULL;
    t->connected = false;
    uv_close((uv_handle_t *)&c->tcp, on_srv_closed);
}

static void tunnel_close(struct lb_tunnel *t)
{
    if (t->closing)
        return;
    t->closing = true;
    srv_close(t);
    release_peer(t);
    uv_close((uv_handle_t *)&t->cli, on_cli_closed);
}

/* Both directions finished: close. */
static void maybe_done(struct lb_tunnel *t)
{
    if (t->cli_eof && t->srv_eof && !t->cwriting && !t->swriting && !buf_pending(&t->c2s) && !buf_pending(&t->s2c))
        tunnel_close(t);
}

/* ---- reading ------------------------------------------------------------ */

static void on_cli_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    (void)sz;
    struct lb_tunnel *t = h->data;
    if (t->tls) {
        buf_reserve(&t->tls->raw, T_READ);
        *b = uv_buf_init(buf_tail(&t->tls->raw), (unsigned)buf_room(&t->tls->raw));
        return;
    }
    buf_reserve(&t->c2s, T_READ);
    *b = uv_buf_init(buf_tail(&t->c2s), (unsigned)buf_room(&t->c2s));
}

static void on_srv_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    (void)sz;
    struct tconn *c = h->data;
    buf_reserve(&c->t->s2c, T_READ);
    *b = uv_buf_init(buf_tail(&c->t->s2c), (unsigned)buf_room(&c->t->s2c));
}

static void on_srv_shutdown(uv_shutdown_t *req, int status)
{
    struct tconn *c = req->data;
    (void)status;
    if (c->t && !c->t->closing)
        maybe_done(c->t);
}

static void on_cli_shutdown(uv_shutdown_t *req, int status)
{
    struct lb_tunnel *t = req->data;
    (void)status;
    if (!t->closing)
        maybe_done(t);
}

/* Pass an EOF on once the bytes before it are written. */
static void pass_eofs(struct lb_tunnel *t)
{
    if (t->closing)
        return;
    if (t->cli_eof && t->connected && !t->srv_shut && !t->swriting && !buf_pending(&t->c2s)) {
        t->srv_shut = true;
        t->srv->sreq.data = t->srv;
        if (uv_shutdown(&t->srv->sreq, (uv_stream_t *)&t->srv->tcp, on_srv_shutdown) != 0) {
            tunnel_close(t);
            return;
        }
    }
    if (t->srv_eof && t->tls && !t->tls_shut && !t->cwriting && !buf_pending(&t->s2c)) {
        t->tls_shut = true;
        net_tls_conn_shutdown(t->tls); /* close_notify before the TCP shutdown */
        flush_to_cli(t);
        if (t->closing)
            return;
    }
    if (t->srv_eof && !t->cli_shut && !t->cwriting && !buf_pending(&t->s2c)) {
        t->cli_shut = true;
        t->csreq.data = t;
        if (uv_shutdown(&t->csreq, (uv_stream_t *)&t->cli, on_cli_shutdown) != 0) {
            tunnel_close(t);
            return;
        }
    }
    maybe_done(t);
}

/* TLS: n ciphertext bytes arrived. Returns the plaintext bytes appended to
 * c2s, 0 for none (the handshake answer is sent here; the first connect to a
 * peer starts when it completes), UV_EOF on close_notify; an error closes. */
static ssize_t tls_input(struct lb_tunnel *t, size_t n)
{
    t->tls->raw.len += n;
    long r = net_tls_conn_input(t->tls, &t->c2s);
    if (r < 0 && r != NET_TLS_E_CLOSED) {
        atomic_fetch_add_explicit(&t->ls->rejected[LB_REJ_BAD], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&t->ls->tls_errors, 1, memory_order_relaxed);
        flush_to_cli(t); /* the alert OpenSSL queued, if the socket takes it now */
        tunnel_close(t);
        return 0;
    }
    flush_to_cli(t);
    if (t->closing)
        return 0;
    if (t->tls->established && !t->started) {
        t->started = true;
        atomic_fetch_add_explicit(t->tls->resumed ? &t->ls->tls_resumed : &t->ls->tls_full, 1, memory_order_relaxed);
        t->last = tnow(t);
        connect_next(t);
        if (t->closing)
            return 0;
    }
    return r == NET_TLS_E_CLOSED ? UV_EOF : (ssize_t)r;
}

static void on_cli_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    struct lb_tunnel *t = st->data;
    if (n == 0 || t->closing)
        return;
    if (n > 0 && t->tls) {
        n = tls_input(t, (size_t)n);
        if (n == 0 || t->closing)
            return;
    } else if (n > 0) {
        t->c2s.len += (size_t)n;
    }
    if (n < 0) {
        if (n != UV_EOF) {
            tunnel_close(t);
            return;
        }
        t->cli_eof = true;
        uv_read_stop(st);
        pass_eofs(t);
        return;
    }
    t->last = tnow(t);
    if (t->connected)
        flush_to_srv(t);
    if (!t->closing && net_conn_backlog(&t->c2s, &t->c2s_w) >= T_HIGH)
        net_conn_pause(st, &t->cpaused);
}

static void on_srv_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    struct tconn *c = st->data;
    struct lb_tunnel *t = c->t;
    if (n == 0 || t->closing || t->srv != c)
        return;
    if (n < 0) {
        if (n != UV_EOF) {
            if (t->peer)
                net_count(&t->peer->local[t->w->id].errors, 1);
            tunnel_close(t);
            return;
        }
        t->srv_eof = true;
        uv_read_stop(st);
        pass_eofs(t);
        return;
    }
    t->s2c.len += (size_t)n;
    t->last = tnow(t);
    if (t->peer)
        net_count(&t->peer->local[t->w->id].bytes_in, (uint64_t)n);
    flush_to_cli(t);
    if (!t->closing && net_conn_backlog(&t->s2c, &t->s2c_w) >= T_HIGH)
        net_conn_pause(st, &t->spaused);
}

/* ---- writing ------------------------------------------------------------ */

static void on_srv_written(uv_write_t *req, int status)
{
    struct tconn *c = req->data;
    struct lb_tunnel *t = c->t;
    t->swriting = false;
    if (t->closing || t->srv != c)
        return;
    if (status < 0) {
        tunnel_close(t);
        return;
    }
    if (t->peer)
        net_count(&t->peer->local[t->w->id].bytes_out, buf_pending(&t->c2s_w));
    buf_consume(&t->c2s_w, buf_pending(&t->c2s_w));
    t->last = tnow(t);
    flush_to_srv(t);
    if (t->closing)
        return;
    if (!t->cli_eof && net_conn_backlog(&t->c2s, &t->c2s_w) < T_LOW)
        net_conn_resume((uv_stream_t *)&t->cli, &t->cpaused, on_cli_alloc, on_cli_read);
    pass_eofs(t);
}

static void on_cli_written(uv_write_t *req, int status)
{
    struct lb_tunnel *t = req->data;
    t->cwriting = false;
    if (t->closing)
        return;
    if (status < 0) {
        tunnel_close(t);
        return;
    }
    buf_consume(&t->s2c_w, buf_pending(&t->s2c_w));
    t->last = tnow(t);
    flush_to_cli(t);
    if (t->closing)
        return;
    if (t->spaused && t->srv && !t->srv_eof && net_conn_backlog(&t->s2c, &t->s2c_w) < T_LOW)
        net_conn_resume((uv_stream_t *)&t->srv->tcp, &t->spaused, on_srv_alloc, on_srv_read);
    pass_eofs(t);
}

/* Write pending bytes: try at once, the rest asynchronously from the _w buffer.
 * Returns 0 or a negative libuv error. */
static int flush_buf(uv_stream_t *st, struct buf *pending, struct buf *inflight, uv_write_t *req, void *data,
                     uv_write_cb cb, bool *busy, size_t *written)
{
    *written = 0;
    if (*busy)
        return 0;
    int r = net_conn_write(st, pending, inflight, req, data, cb, busy, written);
    return r < 0 ? r : 0;
}

static void flush_to_srv(struct lb_tunnel *t)
{
    if (!t->connected || t->closing)
        return;
    size_t n;
    int r = flush_buf((uv_stream_t *)&t->srv->tcp, &t->c2s, &t->c2s_w, &t->srv->wreq, t->srv, on_srv_written,
                      &t->swriting, &n);
    if (n && t->peer)
        net_count(&t->peer->local[t->w->id].bytes_out, n);
    if (r != 0)
        tunnel_close(t);
}

static void flush_to_cli(struct lb_tunnel *t)
{
    if (t->closing)
        return;
    if (t->tls && !t->cwriting) {
        /* plaintext in s2c becomes ciphertext (s2c_w is empty while not writing) */
        if (net_tls_conn_output(t->tls, &t->s2c, &t->s2c_w) != 0) {
            tunnel_close(t);
            return;
        }
        struct buf tmp = t->s2c;
        t->s2c = t->s2c_w;
        t->s2c_w = tmp;
    }
    size_t n;
    int r = flush_buf((uv_stream_t *)&t->cli, &t->s2c, &t->s2c_w, &t->cwreq, t, on_cli_written, &t->cwriting, &n);
    if (r != 0)
        tunnel_close(t);
}

/* ---- connecting ----------------------------------------------------------- */

static void connect_failed(struct lb_tunnel *t, const char *why)
{
    if (t->peer) {
        net_count(&t->peer->local[t->w->id].errors, 1);
        net_peer_failure(t->peer, tnow(t));
        log_verbose("pool %s: backend %s: %s", t->pool->name, t->peer->name, why);
    }
    srv_close(t);
    const struct lb_pool_conf *c = lb_pool_conf_of(t->pool);
    if (t->ntried <= c->retries) {
        if (t->peer)
            net_count(&t->peer->local[t->w->id].retries, 1);
        release_peer(t);
        connect_next(t);
        return;
    }
    release_peer(t);
    tunnel_close(t);
}

static void on_srv_connect(uv_connect_t *req, int status)
{
    struct tconn *c = req->data;
    struct lb_tunnel *t = c->t;
    if (t->closing || t->srv != c)
        return;
    if (status < 0) {
        connect_failed(t, uv_strerror(status));
        return;
    }
    t->connected = true;
    t->last = tnow(t);
    net_peer_success(c->peer);
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_srv_alloc, on_srv_read);
    flush_to_srv(t);
    pass_eofs(t);
}

static void connect_next(struct lb_tunnel *t)
{
    struct lb_worker *w = t->w;
    long long now = tnow(t);
    struct net_peer *ex[64];
    int nex = 0;
    for (int i = 0; i < t->ntried; i++)
        ex[nex++] = t->tried[i];
    struct net_pick_ctx ctx = {t->key, true, ex, 0, now};
    struct net_peer *p = NULL;
    int n = net_pool_snapshot(t->pool, w->id, now);
    for (int i = 0; i < n && nex < 64; i++) {
        ctx.nexclude = nex;
        p = net_pool_pick(t->pool, w->id, &ctx, now);
        if (!p || net_peer_try_take(p))
            break;
        ex[nex++] = p;
        p = NULL;
    }
    if (!p) {
        if (n == 0)
            t->pool->local[w->id].no_peer++;
        atomic_fetch_add_explicit(&t->ls->rejected[LB_REJ_UNAVAIL], 1, memory_order_relaxed);
        tunnel_close(t);
        return;
    }
    net_peer_ref(p); /* its slot (active) was taken above */
    t->peer = p;
    if (t->ntried < 4)
        t->tried[t->ntried++] = p;
    net_count(&p->local[w->id].requests, 1);
    net_count(&p->local[w->id].connects, 1);
    struct tconn *c = xcalloc(1, sizeof *c);
    c->t = t;
    net_peer_ref(p);
    c->peer = p;
    uv_tcp_init(&w->loop, &c->tcp);
    c->tcp.data = c;
    c->creq.data = c;
    t->srv = c;
    t->handles++;
    t->since = now;
    int r = uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&p->sa, on_srv_connect);
    if (r != 0)
        connect_failed(t, uv_strerror(r));
}

void lb_tcp_accept(struct lb_worker *w, struct lb_listener *ls, uv_stream_t *server)
{
    struct lb_server *srv = w->srv;
    struct lb_tunnel *t = xcalloc(1, sizeof *t);
    uv_tcp_init(&w->loop, &t->cli);
    t->cli.data = t;
    if (uv_accept(server, (uv_stream_t *)&t->cli) != 0) {
        uv_close((uv_handle_t *)&t->cli, (uv_close_cb)xfree);
        return;
    }
    struct lb_listener_conf *lc = atomic_load(&ls->conf);
    if (atomic_fetch_add(&srv->nclients, 1) >= srv->cfg.maxclients || w->draining || !lc->default_pool_rt) {
        atomic_fetch_sub(&srv->nclients, 1);
        uv_close((uv_handle_t *)&t->cli, (uv_close_cb)xfree);
        return;
    }
    atomic_fetch_add_explicit(&ls->accepted, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&ls->requests, 1, memory_order_relaxed);
    t->w = w;
    t->ls = ls;
    t->pool = lc->default_pool_rt;
    t->handles = 1;
    buf_init(&t->c2s);
    buf_init(&t->c2s_w);
    buf_init(&t->s2c);
    buf_init(&t->s2c_w);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&t->cli, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET)
            t->key = net_hash(&((struct sockaddr_in *)&ss)->sin_addr, 4, 0);
        else if (ss.ss_family == AF_INET6)
            t->key = net_hash(&((struct sockaddr_in6 *)&ss)->sin6_addr, 16, 0);
    }
    if (lc->tls) {
        t->tls = xmalloc(sizeof *t->tls);
        if (net_tls_conn_init(t->tls, lc->tls) != 0) {
            xfree(t->tls);
            t->tls = NULL;
            atomic_fetch_add_explicit(&ls->rejected[LB_REJ_UNAVAIL], 1, memory_order_relaxed);
            atomic_fetch_sub(&srv->nclients, 1);
            uv_close((uv_handle_t *)&t->cli, (uv_close_cb)xfree);
            return;
        }
    }
    uv_tcp_nodelay(&t->cli, 1);
    LIST_PUSH(w->tunnels, t, prev, next);
    w->ntunnels++;
    t->since = t->last = lb_now_ms(w);
    uv_read_start((uv_stream_t *)&t->cli, on_cli_alloc, on_cli_read);
    if (!t->tls) {
        t->started = true;
        connect_next(t);
    }
}

void lb_tcp_sweep(struct lb_worker *w, long long now)
{
    for (struct lb_tunnel *t = w->tunnels, *next; t; t = next) {
        next = t->next;
        if (t->closing)
            continue;
        if (t->srv && !t->connected) {
            const struct lb_pool_conf *c = lb_pool_conf_of(t->pool);
            if (now - t->since > c->connect_timeout_ms)
                connect_failed(t, "connect timeout");
            continue;
        }
        const struct lb_listener_conf *lc = atomic_load(&t->ls->conf);
        if (t->tls && !t->tls->established) {
            if (now - t->since > lc->tls_handshake_timeout_ms) {
                atomic_fetch_add_explicit(&t->ls->rejected[LB_REJ_TIMEOUT], 1, memory_order_relaxed);
                tunnel_close(t);
            }
            continue;
        }
        if (now - t->last > lc->client_timeout_ms)
            tunnel_close(t);
        else if (t->tls && now - t->last > LB_IDLE_TRIM_MS)
            net_tls_conn_trim(t->tls); /* a quiet TLS tunnel keeps no record buffers */
    }
}

void lb_tcp_drain(struct lb_worker *w)
{
    (void)w; /* tunnels carry no requests to finish: they close at the end of the drain period */
}

void lb_tcp_close_all(struct lb_worker *w)
{
    for (struct lb_tunnel *t = w->tunnels; t; t = t->next)
        tunnel_close(t);
}
