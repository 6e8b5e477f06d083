/*
 * proxy.c — the HTTP/1.1 reverse proxy: one session per client connection,
 * keep-alive on both sides, bodies streamed both ways with backpressure.
 *
 * Where a request lives at every moment:
 *
 *   client socket
 *     │ read (never more than LB_HIGH_WATER ahead of the other side)
 *     ▼
 *   s->in ──http1_parse_request──▶ IDLE/HEAD ─ timeout-header: 408 ─ bad: 400/414/431/501/505, close
 *     │                               │ head complete
 *     │                               ▼
 *     │                  rate limit (429) ─▶ route (404) ─▶ rewrite head into s->hold
 *     │                  (hop-by-hop out; X-Forwarded-For/-Proto, X-Request-Id in)
 *     │                               ▼
 *     │            dispatch: sticky cookie or balancer pick ─ none usable: 503 + Retry-After
 *     │                               │ all at maxconn: QUEUED (timeout-queue / full: 503)
 *     │                               ▼
 *     │                     CONNECT: idle pooled connection, or a new one (timeout-connect)
 *     │                               │ connect failed: retry elsewhere once, else 502 / 504
 *     │   body bytes                  ▼
 *     └───────────▶ s->hold ──▶ u->out ──▶ backend            PROXY
 *                 (until sent)  (Content-Length counted, chunked framing validated by
 *                                http1_chunked_scan and forwarded unchanged)
 *   backend ──▶ u->in ──http1_parse_response──▶ rewritten head ─▶ s->out ─▶ client
 *                  │ body: counted / chunk-scanned / until close (dechunked for HTTP/1.0)
 *                  │ EOF or reset before any byte: retry elsewhere (idempotent, or a
 *                  │ reused connection the backend had closed), else 502
 *                  │ silence past timeout-server: 504 (or cut, once the answer began)
 *                  ▼
 *   response and request both complete: the upstream connection goes back to the
 *   peer's idle pool, the session to IDLE for the next (maybe pipelined) request.
 *
 * Errors the lb answers itself are complete responses; when the client's
 * request body was not read the connection closes after them, so the next
 * request on it can never be mistaken for body bytes (no smuggling through
 * the lb: every message boundary is decided here, by one parser).
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "net/conn.h"
#include "core/log.h"
#include "core/net.h"
#include "core/rand.h"
#include "core/util.h"
#include "net/balance.h"
#include "lb/cache.h"
#include "lb/h2.h"
#include "lb/proxy.h"
#include "lb/ratelimit.h"

static void session_close(struct lb_session *s);
static void client_flush(struct lb_session *s);
static void process_head(struct lb_session *s);
static void dispatch(struct lb_session *s);
static void pump_request(struct lb_session *s);
static void pump_response(struct lb_session *s, struct lb_upstream *u);
static void request_end(struct lb_session *s);
static void forward_request(struct lb_session *s, size_t head_len);
static void cache_fill_end(struct lb_session *s, bool ok);
static void response_done(struct lb_session *s, struct lb_upstream *u, bool reusable);
static void cache_unwait(struct lb_session *s);
static bool cache_reply(struct lb_session *s, int status);
static void upstream_connected(struct lb_session *s, struct lb_upstream *u, int status);
static void upstream_read(struct lb_session *s, struct lb_upstream *u, ssize_t n);
static void upstream_drained(struct lb_session *s, struct lb_upstream *u);

static struct lb_session *stream_new(struct lb_session *c);
static void stream_request(struct lb_session *s, struct lb_h2_req *r, bool body);
static void stream_input(struct lb_session *s);
static void stream_drained(struct lb_session *s);

/* what upstream.c reports to a session (it calls none of this file by name) */
static const struct lb_upstream_events upstream_events = {
    .connected = upstream_connected,
    .read = upstream_read,
    .drained = upstream_drained,
};

/* what h2.c asks of the sessions of its streams (likewise) */
static const struct lb_h2_session_ops h2_ops = {
    .stream_new = stream_new,
    .stream_request = stream_request,
    .stream_input = stream_input,
    .stream_drained = stream_drained,
    .close = session_close,
    .flush = client_flush,
};

static inline struct lb_listener_conf *lconf(const struct lb_session *s) { return atomic_load(&s->ls->conf); }
static inline struct lb_pool_conf *pconf(const struct lb_session *s) { return lb_pool_conf_of(s->pool); }
static inline long long now_ms(const struct lb_session *s) { return lb_now_ms(s->w); }

/* A zeroed session but for its header array (3.2 KB, filled by the parser
 * up to num_headers): calloc's memset of it was 15 % of the user CPU of an
 * HTTP/2 request, which takes a session per stream. */
static struct lb_session *session_alloc(void)
{
    struct lb_session *s = xmalloc(sizeof *s);
    size_t a = offsetof(struct lb_session, hdrs), b = a + sizeof s->hdrs;
    memset(s, 0, a);
    memset((char *)s + b, 0, sizeof *s - b);
    return s;
}

/* ---- client I/O --------------------------------------------------------- */

static void on_client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    struct lb_session *s = h->data;
    if (s->tls) {
        /* ciphertext: net_tls_conn_input decrypts it into s->in */
        buf_reserve(&s->tls->raw, LB_READ_SIZE);
        *b = uv_buf_init(buf_tail(&s->tls->raw), (unsigned)buf_room(&s->tls->raw));
        return;
    }
    /* heads are small: a client sending one slowly holds 4 KiB, not 16 */
    buf_reserve(&s->in, s->state <= LB_S_HEAD && buf_pending(&s->in) < 4096 ? 4096 : LB_READ_SIZE);
    *b = uv_buf_init(buf_tail(&s->in), (unsigned)buf_room(&s->in));
}

static void on_client_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b);

static void client_pause(struct lb_session *s)
{
    if (!s->paused && !s->closing) {
        s->paused = true;
        if (!s->h2s)
            uv_read_stop((uv_stream_t *)&s->tcp);
    }
}

static void client_resume(struct lb_session *s)
{
    if (s->paused && !s->closing && !s->client_eof) {
        s->paused = false;
        if (s->h2s)
            lb_h2_stream_resume(s);
        else
            uv_read_start((uv_stream_t *)&s->tcp, on_client_alloc, on_client_read);
    }
}

#define LB_SPARE_STREAMS 64           /* closed stream sessions a worker keeps */
#define LB_SPARE_BUF_MAX (16 * 1024)  /* ... when none of their buffers grew past this */

/* A closed HTTP/2 stream session is kept (buffers emptied, not freed) for
 * the next stream of this worker: a stream's session malloc, its head
 * buffer's and their frees were 2 of the ~10 allocations of an h2 request. */
static bool stream_keep(struct lb_worker *w, struct lb_session *s)
{
    if (!s->h2_stream || w->stopped || w->nspare_streams >= LB_SPARE_STREAMS || s->in.cap > LB_SPARE_BUF_MAX ||
        s->out.cap > LB_SPARE_BUF_MAX || s->wbuf.cap > LB_SPARE_BUF_MAX || s->hold.cap > LB_SPARE_BUF_MAX)
        return false;
    s->next = w->spare_streams;
    w->spare_streams = s;
    w->nspare_streams++;
    return true;
}

static void on_session_closed(uv_handle_t *h)
{
    struct lb_session *s = h->data;
    struct lb_worker *w = s->w;
    if (w->sweep_cursor == s) /* lb_http_sweep resumes after s */
        w->sweep_cursor = s->next;
    LIST_REMOVE(w->sessions, s, prev, next);
    w->nsessions--;
    atomic_fetch_sub(&w->srv->nclients, 1);
    if (stream_keep(w, s))
        return;
    buf_deinit(&s->in);
    buf_deinit(&s->out);
    buf_deinit(&s->wbuf);
    buf_deinit(&s->hold);
    lb_h2_conn_free(s);
    if (s->tls) {
        net_tls_conn_deinit(s->tls);
        xfree(s->tls);
    }
    xfree(s);
}

static void on_client_written(uv_write_t *req, int status)
{
    struct lb_session *s = req->data;
    s->writing = false;
    if (s->closing)
        return;
    if (status < 0) {
        session_close(s);
        return;
    }
    net_conn_written(&s->wbuf, LB_HIGH_WATER);
    s->last_client = now_ms(s);
    client_flush(s);
    if (s->closing)
        return;
    if (s->h2c) {
        lb_h2_conn_written(s);
        return;
    }
    struct lb_upstream *u = s->up;
    if (u && u->paused && buf_pending(&s->out) + buf_pending(&s->wbuf) < LB_LOW_WATER)
        lb_upstream_resume(u);
}

/* TLS: turn the plaintext in s->out (and any handshake bytes or alert) into
 * ciphertext, which then takes its place in s->out. Runs only while nothing
 * is being written, so s->wbuf is empty and serves as the output. Returns 0,
 * or -1 when the session was closed. */
static int tls_encrypt(struct lb_session *s)
{
    struct net_tls_conn *t = s->tls;
    if (!t->established)
        buf_consume(&s->out, buf_pending(&s->out)); /* nothing can be said before the handshake */
    bool last = s->close_after && !s->up;
    if (net_tls_conn_output(t, &s->out, &s->wbuf) != 0) {
        session_close(s);
        return -1;
    }
    if (last && t->established && !t->closed) {
        net_tls_conn_shutdown(t); /* close_notify after the last answer */
        net_tls_conn_output(t, NULL, &s->wbuf);
    }
    struct buf tmp = s->out;
    s->out = s->wbuf;
    s->wbuf = tmp;
    return 0;
}

/* Write what s->out holds: at once when the socket takes it, else from wbuf
 * while new bytes collect in out. Closes when close_after and all is sent. */
static void client_flush(struct lb_session *s)
{
    if (s->closing || s->writing)
        return;
    if (s->h2s) {
        /* an HTTP/2 stream: h2.c takes the answer and frames it */
        lb_h2_stream_flush(s);
        if (!s->closing && s->close_after && !s->up && buf_pending(&s->out) == 0)
            session_close(s);
        return;
    }
    if (s->tls && tls_encrypt(s) != 0)
        return;
    if (buf_pending(&s->out) == 0) {
        if (s->close_after && !s->up)
            session_close(s);
        return;
    }
    size_t n;
    int r = net_conn_write((uv_stream_t *)&s->tcp, &s->out, &s->wbuf, &s->wreq, s, on_client_written, &s->writing, &n);
    if (r < 0) {
        session_close(s);
    } else if (r == NET_WRITE_DONE) {
        buf_shrink(&s->out, LB_HIGH_WATER);
        if (s->close_after && !s->up)
            session_close(s);
    }
}

/* ---- peers ------------------------------------------------------------ */

static void queue_remove(struct lb_session *s)
{
    if (s->state != LB_S_QUEUED || !s->qnode.next)
        return;
    s->qnode.prev->next = s->qnode.next;
    s->qnode.next->prev = s->qnode.prev;
    s->qnode.prev = s->qnode.next = NULL;
    s->pool->local[s->w->id].nqueued--;
    atomic_fetch_sub(&s->pool->nqueued, 1);
}

/* Dispatch queued requests of pool while peers have room. */
static void queue_kick(struct lb_worker *w, struct net_pool *pool)
{
    struct net_pool_local *l = &pool->local[w->id];
    int budget = l->nqueued;
    while (budget-- > 0 && l->queue.next != &l->queue) {
        struct net_qnode *q = l->queue.next;
        struct lb_session *s = (struct lb_session *)((char *)q - offsetof(struct lb_session, qnode));
        queue_remove(s);
        s->state = LB_S_CONNECT;
        dispatch(s);
        if (s->state == LB_S_QUEUED) /* went back at the tail: everyone is full again */
            break;
    }
}

/* The request gives back its slot on the peer. */
static void release_peer(struct lb_session *s)
{
    struct net_peer *p = s->peer;
    if (!p)
        return;
    s->peer = NULL;
    atomic_fetch_sub(&p->active, 1);
    struct net_pool *pool = p->pool;
    net_peer_unref(p);
    if (atomic_load(&pool->nqueued) > 0) {
        struct lb_worker *w = s->w;
        if (pool->local[w->id].nqueued > 0)
            queue_kick(w, pool);
        if (atomic_load(&pool->nqueued) > pool->local[w->id].nqueued)
            for (int i = 0; i < w->srv->nworkers; i++)
                if (i != w->id && pool->local[i].nqueued > 0)
                    uv_async_send(&w->srv->workers[i].wake);
    }
}

static void detach_upstream(struct lb_session *s, bool reuse)
{
    struct lb_upstream *u = s->up;
    if (!u)
        return;
    s->up = NULL;
    u->s = NULL;
    if (reuse)
        lb_upstream_park(u);
    else
        lb_upstream_close(u);
}

/* ---- session ------------------------------------------------------------ */

static void session_close(struct lb_session *s)
{
    if (s->closing)
        return;
    queue_remove(s);
    cache_unwait(s);
    if (s->cfill)
        cache_fill_end(s, false);
    detach_upstream(s, false);
    release_peer(s);
    s->closing = true;
    lb_h2_stream_detach(s);
    lb_h2_conn_close(s);
    uv_close((uv_handle_t *)&s->tcp, on_session_closed);
}

static void count_reject(struct lb_session *s, int which)
{
    atomic_fetch_add_explicit(&s->ls->rejected[which], 1, memory_order_relaxed);
}

/* Answer the current request from the lb itself (nothing went to the client
 * yet). The connection stays open only when the request is fully read. */
static void reply(struct lb_session *s, int status, const char *body, const char *extra, bool force_close)
{
    if ((s->cfill || s->cache_sink) && cache_reply(s, status))
        return;
    bool close = force_close || !s->req_done || !s->req_keepalive || s->client_eof;
    unsigned flags = HTTP1_W_DATE;
    if (close)
        flags |= HTTP1_W_CLOSE;
    else if (s->req_http10)
        flags |= HTTP1_W_KEEP_ALIVE;
    if (s->meth == HTTP1_METHOD_HEAD)
        flags |= HTTP1_W_HEAD;
    char hdrs[256];
    snprintf(hdrs, sizeof hdrs, "%s%s%s%s", extra ? extra : "", s->reqid[0] ? "X-Request-Id: " : "", s->reqid,
             s->reqid[0] ? "\r\n" : "");
    http1_write_response(&s->out, status, "text/plain", body, strlen(body), hdrs, flags);
    s->status = status;
    s->resp_done = true;
    if (close)
        s->close_after = true;
    detach_upstream(s, false);
    request_end(s);
}

/* ---- request head ------------------------------------------------------- */

static bool method_idempotent(enum http1_method m)
{
    switch (m) {
    case HTTP1_METHOD_GET: case HTTP1_METHOD_HEAD: case HTTP1_METHOD_PUT: case HTTP1_METHOD_DELETE:
    case HTTP1_METHOD_OPTIONS: case HTTP1_METHOD_TRACE:
        return true;
    default:
        return false;
    }
}

static void begin_request(struct lb_session *s, size_t head_len)
{
    struct http1_request *r = &s->req;
    struct lb_listener *ls = s->ls;
    struct lb_listener_conf *lc = lconf(s);
    atomic_fetch_add_explicit(&ls->requests, 1, memory_order_relaxed);
    s->nrequests++;
    s->meth = r->meth;
    s->req_keepalive = r->keep_alive;
    s->req_http10 = r->minor_version == 0;
    s->idempotent = method_idempotent(r->meth);
    s->upgrade = lb_http_is_upgrade(r);
    s->req_body = r->body;
    s->req_left = r->content_length;
    s->req_done = r->body == HTTP1_BODY_NONE || (r->body == HTTP1_BODY_LENGTH && r->content_length == 0);
    s->state = LB_S_CONNECT;
    s->since = now_ms(s);
    if (r->body == HTTP1_BODY_CHUNKED)
        http1_chunked_init(&s->req_ck, NULL);

    if (r->meth == HTTP1_METHOD_CONNECT) {
        count_reject(s, LB_REJ_BAD);
        buf_consume(&s->in, head_len);
        reply(s, 405, "CONNECT is not supported by this proxy\n", "Allow: GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH\r\n", true);
        return;
    }
    /* the target in origin form, its path normalised: routes, the uri key
     * and the backend all see the same path (or the request is refused) */
    char tbuf[8192 + 1];
    int trc = r->target_len < sizeof tbuf ? lb_http_target(r, tbuf, &s->tgt) : HTTP1_E_LINE_TOO_LONG;
    if (trc < 0) {
        count_reject(s, LB_REJ_BAD);
        log_verbose("client %s: bad request target: %s", s->ip, http1_strerror(trc));
        buf_consume(&s->in, head_len);
        reply(s, http1_err_status(trc), http1_strerror(trc), NULL, true);
        return;
    }
    if (lc->rate > 0 && ls->rl) {
        long long wait = lb_ratelimit_take(ls->rl, s->iphash, (double)lc->rate, (double)lc->burst,
                                           (long long)(uv_hrtime() / 1000));
        if (wait > 0) {
            count_reject(s, LB_REJ_RATE);
            buf_consume(&s->in, head_len);
            char hdr[64];
            snprintf(hdr, sizeof hdr, "Retry-After: %lld\r\n", (wait + 999) / 1000);
            reply(s, 429, "too many requests\n", hdr, false);
            return;
        }
    }
    s->pool = lb_http_route(lconf(s), &s->req, &s->tgt);
    if (!s->pool) {
        count_reject(s, LB_REJ_NOROUTE);
        buf_consume(&s->in, head_len);
        reply(s, 404, "no route for this request\n", NULL, false);
        return;
    }
    forward_request(s, head_len);
    s->tgt = (struct lb_target){0}; /* tbuf ends here */
}

/* ---- edge cache (cache.c) ------------------------------------------------ */

static void cache_fill_end(struct lb_session *s, bool ok);
static void response_done(struct lb_session *s, struct lb_upstream *u, bool reusable);

/* The request was answered from the cache (s->out holds the answer). */
static void cache_answered(struct lb_session *s, size_t head_len, int status, bool close)
{
    buf_consume(&s->in, head_len);
    s->status = status;
    s->resp_done = true;
    if (close)
        s->close_after = true;
    request_end(s);
}

static bool cache_close(const struct lb_session *s) { return !s->req_keepalive || s->client_eof || s->close_after; }

static void cache_wake(void *head, int mode);

/* The request head as text for a fill: its bytes in s->in, or for an
 * HTTP/2 stream (no text of its own) written into *tmp (deinit it after). */
static const char *request_text(const struct lb_session *s, size_t head_len, struct buf *tmp)
{
    buf_init(tmp);
    if (!s->h2s)
        return head_len ? buf_head(&s->in) : "";
    lb_http_request_text(&s->req, tmp);
    return buf_head(tmp);
}

/* Before the request goes up: answer it from the cache, park it behind the
 * fetch of the same URL, or make it that fetch (s->cfill). True when the
 * request needs nothing more now. */
static bool cache_request(struct lb_session *s, size_t head_len)
{
    struct lb_cache *c = s->w->srv->cache;
    const struct http1_request *r = &s->req;
    bool pass = s->cache_pass, stale_ok = s->cache_stale_ok;
    s->cache_pass = s->cache_stale_ok = false;
    if (!lb_cache_enabled(c) || !pconf(s)->caching || (r->meth != HTTP1_METHOD_GET && r->meth != HTTP1_METHOD_HEAD) ||
        r->body != HTTP1_BODY_NONE)
        return false;
    s->xcache = "MISS";
    if (pass) {
        lb_cache_count_pass(c);
        return false;
    }
    /* the key is scheme + host + target: an origin may answer http and
     * https differently (e.g. a redirect to https) */
    struct lb_cache_key k;
    lb_cache_key_init(&k, s->tgt.host, s->tgt.host_len, s->tgt.path, s->tgt.path_len, s->tls != NULL || s->h2_tls);
    bool close = cache_close(s);
    struct lb_cache_answer a = {&s->out, r, close, !close && s->req_http10, 0, 0};
    struct lb_cache_obj *stale = NULL;
    struct lb_cache_fill *f = NULL;
    enum lb_cache_result res;
    enum lb_cache_join j = LB_CACHE_JOIN_NONE;
    long long now = now_ms(s);
    for (int tries = 0;; tries++) {
        res = lb_cache_lookup(c, &k, now, &a, &stale);
        if (res == LB_CACHE_HIT) {
            cache_answered(s, head_len, a.status, close);
            return true;
        }
        if (res == LB_CACHE_STALE && stale_ok && lb_cache_obj_stale_on_error(stale, now)) {
            /* the fetch this request waited for failed: the stale object answers */
            lb_cache_write(c, stale, now, "STALE", &a);
            lb_cache_obj_unref(stale);
            lb_cache_note_stale(c);
            cache_answered(s, head_len, a.status, close);
            return true;
        }
        if (res == LB_CACHE_PASS)
            break;
        /* this request becomes the URL's fetch (the stale-while-revalidate
         * refresh rides on a kept connection: its next request waits) */
        bool claim = r->meth == HTTP1_METHOD_GET && (res != LB_CACHE_STALE_SERVED || !close);
        j = lb_cache_fill_join(c, s->w->id, &s->w->loop, &k, tries < 3 ? a.seen : UINT64_MAX, claim, &f);
        if (j != LB_CACHE_JOIN_AGAIN)
            break;
        /* stored since the lookup: a served stale answer needs no refresh
         * any more; otherwise look up again */
        lb_cache_obj_unref(stale);
        stale = NULL;
        if (res == LB_CACHE_STALE_SERVED) {
            cache_answered(s, head_len, a.status, close);
            return true;
        }
    }
    if (res == LB_CACHE_STALE_SERVED) {
        /* stale-while-revalidate: the client has its answer */
        if (j != LB_CACHE_JOIN_OWN) {
            lb_cache_obj_unref(stale);
            cache_answered(s, head_len, a.status, close);
            return true;
        }
        s->status = a.status;
        struct buf text;
        const char *rh = request_text(s, head_len, &text);
        lb_cache_fill_begin(f, rh, s->h2s ? buf_pending(&text) : head_len, stale, true);
        s->cfill = f;
        buf_deinit(&text);
        s->cache_sink = true;
        client_flush(s);
        return s->closing;
    }
    if (j == LB_CACHE_JOIN_WAIT) {
        lb_cache_obj_unref(stale);
        if (!lb_cache_fill_wait(f))
            return false; /* enough are waiting: straight to the origin */
        s->state = LB_S_CACHEWAIT;
        s->since = now;
        s->cwait = f;
        s->chead_len = head_len;
        void **head = lb_cache_fill_waiters(f);
        s->cwait_prev = NULL;
        s->cwait_next = *head;
        if (s->cwait_next)
            s->cwait_next->cwait_prev = s;
        *head = s;
        client_pause(s);
        return true;
    }
    if (j == LB_CACHE_JOIN_NONE && res != LB_CACHE_PASS) {
        lb_cache_obj_unref(stale); /* a HEAD: objects come from GETs */
        return false;
    }
    /* this request's fetch (after an uncacheable answer, LB_CACHE_PASS,
     * nobody waits for it, but a cacheable answer is still stored) */
    struct buf text;
    const char *rh = request_text(s, head_len, &text);
    size_t rl = s->h2s ? buf_pending(&text) : head_len;
    if (j == LB_CACHE_JOIN_OWN) {
        lb_cache_fill_begin(f, rh, rl, stale, false);
        s->cfill = f;
    } else {
        s->cfill = lb_cache_fill_start(c, s->w->id, &s->w->loop, &k, rh, rl, stale, false, false);
    }
    buf_deinit(&text);
    return false;
}

/* A parked request leaves the fill's waiters. */
static void cache_unwait(struct lb_session *s)
{
    struct lb_cache_fill *f = s->cwait;
    if (!f)
        return;
    LIST_REMOVE(*lb_cache_fill_waiters(f), s, cwait_prev, cwait_next);
    s->cwait_prev = s->cwait_next = NULL;
    s->cwait = NULL;
    lb_cache_fill_unwait(f);
}

/* A parked request goes on: look up again, or to the origin (pass). */
static void cache_resume(struct lb_session *s, int mode)
{
    if (s->closing)
        return;
    s->state = LB_S_CONNECT;
    s->since = now_ms(s);
    s->cache_pass = mode == LB_CACHE_WAKE_PASS;
    s->cache_stale_ok = mode == LB_CACHE_WAKE_STALE;
    char tbuf[8192 + 1];
    int trc = s->req.target_len < sizeof tbuf ? lb_http_target(&s->req, tbuf, &s->tgt) : HTTP1_E_LINE_TOO_LONG;
    if (trc < 0) {
        buf_consume(&s->in, s->chead_len);
        reply(s, http1_err_status(trc), http1_strerror(trc), NULL, true);
        return;
    }
    forward_request(s, s->chead_len);
    s->tgt = (struct lb_target){0};
}

static void cache_wake(void *head, int mode)
{
    for (struct lb_session *s = head, *next; s; s = next) {
        next = s->cwait_next;
        s->cwait = NULL;
        s->cwait_prev = s->cwait_next = NULL;
        cache_resume(s, mode);
    }
}

static void cache_fill_end(struct lb_session *s, bool ok)
{
    struct lb_cache_fill *f = s->cfill;
    if (!f)
        return;
    s->cfill = NULL;
    lb_cache_fill_finish(f, ok, now_ms(s), cache_wake);
}

/* The fetch failed (status: what the lb would answer). stale-if-error: the
 * stale object answers instead. True when the request is done. */
static bool cache_reply(struct lb_session *s, int status)
{
    struct lb_cache_fill *f = s->cfill;
    if (f && status >= 500 && !s->cache_sink && lb_cache_fill_stale_on_error(f, now_ms(s))) {
        bool close = cache_close(s);
        lb_cache_fill_answer(f, lb_cache_fill_stale(f), now_ms(s), "STALE", &s->out, close, !close && s->req_http10);
        lb_cache_note_stale(s->w->srv->cache);
        lb_cache_fill_failed(f, true);
        cache_fill_end(s, false);
        s->status = 200;
        s->resp_done = true;
        if (close)
            s->close_after = true;
        detach_upstream(s, false);
        release_peer(s);
        request_end(s);
        return true;
    }
    if (f && status >= 500)
        lb_cache_fill_failed(f, false);
    cache_fill_end(s, false);
    if (s->cache_sink) {
        /* a background refresh failed: the client was answered already */
        s->resp_done = true;
        detach_upstream(s, false);
        release_peer(s);
        request_end(s);
        return true;
    }
    return false;
}

/* The origin's final response head (n bytes in u->in) for a request that
 * feeds a fill. True when it was handled here (a 304 refreshed the object,
 * or a 5xx was replaced by the stale object). */
static bool cache_response_head(struct lb_session *s, struct lb_upstream *u, size_t n)
{
    struct lb_cache_fill *f = s->cfill;
    const struct http1_response *r = &u->res;
    long long now = now_ms(s);
    if (r->status >= 500 && lb_cache_fill_stale_on_error(f, now)) {
        if (s->peer)
            net_peer_success(s->peer);
        return cache_reply(s, r->status);
    }
    const struct lb_pool_conf *pc = pconf(s);
    struct lb_cache_rules rules = {pc->cache_ttl, pc->ncache_ttl, pc->cache_set_cookie};
    int rc = lb_cache_fill_head(f, r, &rules, now);
    if (rc == 2 && r->body == HTTP1_BODY_NONE) {
        /* 304 to our revalidation: the refreshed object answers */
        if (!s->cache_sink) {
            bool close = cache_close(s);
            s->xcache = NULL;
            lb_cache_fill_answer(f, lb_cache_fill_object(f), now, "REVALIDATED", &s->out, close,
                                 !close && s->req_http10);
            if (close)
                s->close_after = true;
        }
        buf_consume(&u->in, n);
        s->resp_head_done = true;
        s->resp_body = HTTP1_BODY_NONE;
        s->resp_keepalive = r->keep_alive;
        cache_fill_end(s, true);
        response_done(s, u, true);
        return true;
    }
    if (rc != 1)
        cache_fill_end(s, false); /* not stored: the waiters go to the origin now */
    return false;
}

/* After routing: the cache, then the head towards the backend. */
static void forward_request(struct lb_session *s, size_t head_len)
{
    const struct http1_request *r = &s->req;
    if (cache_request(s, head_len))
        return;
    lb_http_request_key(s);
    lb_http_request_head(s);
    if (s->cfill)
        lb_cache_upstream_head(s->cfill, &s->hold);
    buf_consume(&s->in, head_len);
    /* a chunked body's framing in what already arrived is checked before
     * anything goes up, so a broken one is never forwarded */
    if (r->body == HTTP1_BODY_CHUNKED && buf_pending(&s->in)) {
        struct http1_chunked probe = s->req_ck;
        size_t used;
        int rc = http1_chunked_scan(&probe, buf_head(&s->in), buf_pending(&s->in), &used);
        if (rc < 0) {
            count_reject(s, LB_REJ_BAD);
            reply(s, http1_err_status(rc), http1_strerror(rc), NULL, true);
            return;
        }
    }
    pump_request(s);
    if (s->closing || s->state != LB_S_CONNECT)
        return;
    dispatch(s);
}

/* The request head limits of s's listener (HTTP/1.1 heads and HTTP/2 header lists alike). */
static void request_limits(const struct lb_session *s, struct http1_limits *lim)
{
    *lim = (struct http1_limits)HTTP1_LIMITS_DEFAULT;
    lim->max_header_bytes = (uint32_t)lconf(s)->max_header_size;
    if (lim->max_line > lim->max_header_bytes)
        lim->max_line = lim->max_header_bytes;
}

/* A request head refused (err: HTTP1_E_*): its error answer, then close. */
static void bad_request(struct lb_session *s, int err)
{
    count_reject(s, LB_REJ_BAD);
    log_verbose("client %s: bad request: %s", s->ip, http1_strerror(err));
    s->req_keepalive = false;
    s->meth = HTTP1_METHOD_OTHER;
    s->reqid[0] = '\0';
    buf_consume(&s->in, buf_pending(&s->in));
    http1_write_error(&s->out, err);
    s->close_after = true;
    s->state = LB_S_IDLE;
    client_pause(s);
    client_flush(s);
}

static void process_head(struct lb_session *s)
{
    if (s->in_head)
        return; /* the loop below is already running further up the stack */
    s->in_head = true;
    while (!s->closing && (s->state == LB_S_IDLE || s->state == LB_S_HEAD) && buf_pending(&s->in) > 0 &&
           !s->close_after) {
        struct lb_listener_conf *lc = lconf(s);
        struct http1_limits lim;
        request_limits(s, &lim);
        if (s->state == LB_S_IDLE) {
            s->state = LB_S_HEAD;
            s->since = now_ms(s);
            http1_request_reset(&s->req);
        }
        bool whole;
        if (s->nrequests == 0 && lc->h2c && !s->tls && !s->h2s &&
            lb_h2_preface(buf_head(&s->in), buf_pending(&s->in), &whole)) {
            /* HTTP/2 with prior knowledge */
            if (!whole)
                break;
            if (lb_h2_conn_start(s, &h2_ops) != 0) {
                session_close(s);
                break;
            }
            lb_h2_conn_input(s);
            break;
        }
        int n = http1_parse_request(buf_head(&s->in), buf_pending(&s->in), &s->req, &lim);
        if (n == HTTP1_INCOMPLETE) {
            if (buf_pending(&s->in) <= lim.max_header_bytes + 64)
                break;
            n = HTTP1_E_HEADERS_TOO_LARGE; /* the parser reports it; belt and braces */
        }
        if (n < 0) {
            bad_request(s, n);
            break;
        }
        begin_request(s, (size_t)n);
    }
    s->in_head = false;
}

/* ---- request body ------------------------------------------------------- */

/* ---- tunnel (after a 101) --------------------------------------------------- */

/* Client bytes go up unchanged; pause the client when the backend is behind. */
static void tunnel_up(struct lb_session *s)
{
    struct lb_upstream *u = s->up;
    if (!u) {
        session_close(s);
        return;
    }
    if (buf_pending(&s->in))
        buf_move(&s->in, &u->out, buf_pending(&s->in));
    lb_upstream_flush(u);
    if (s->closing || s->up != u)
        return;
    if (buf_pending(&u->out) + buf_pending(&u->wbuf) >= LB_HIGH_WATER)
        client_pause(s);
}

/* Backend bytes go down unchanged; pause the backend when the client is behind. */
static void tunnel_down(struct lb_session *s, struct lb_upstream *u)
{
    if (buf_pending(&u->in))
        buf_move(&u->in, &s->out, buf_pending(&u->in));
    client_flush(s);
    if (!s->closing && s->up == u &&
        (s->h2s ? lb_h2_stream_queued(s) : buf_pending(&s->out) + buf_pending(&s->wbuf)) >= LB_HIGH_WATER)
        lb_upstream_pause(u);
}

/* The backend accepted the upgrade: relay the 101 and switch to a byte tunnel. */
static void tunnel_begin(struct lb_session *s, struct lb_upstream *u, size_t head_len)
{
    lb_http_response_head(&s->out, &u->res, false);
    buf_puts(&s->out, "Connection: Upgrade\r\n\r\n");
    buf_consume(&u->in, head_len);
    if (s->peer)
        net_peer_success(s->peer);
    s->state = LB_S_TUNNEL;
    s->status = 101;
    s->resp_head_done = true;
    s->since = s->last_client = s->last_up = now_ms(s);
    tunnel_down(s, u);
    if (s->closing || s->up != u)
        return;
    tunnel_up(s);
    if (s->closing)
        return;
    client_resume(s);
}

/* Move request body bytes from s->in toward the backend: into s->hold until
 * the head is sent, then straight into the upstream's output. */
static void pump_request(struct lb_session *s)
{
    if (s->state == LB_S_TUNNEL) {
        tunnel_up(s);
        return;
    }
    if (s->req_done || buf_pending(&s->in) == 0)
        goto backpressure;
    struct buf *dst = s->req_sent && s->up ? &s->up->out : &s->hold;
    size_t avail = buf_pending(&s->in);
    if (s->req_body == HTTP1_BODY_LENGTH) {
        size_t n = avail < s->req_left ? avail : (size_t)s->req_left;
        buf_move(&s->in, dst, n);
        s->req_left -= n;
        if (s->req_left == 0)
            s->req_done = true;
    } else if (s->req_body == HTTP1_BODY_CHUNKED) {
        size_t used;
        int rc = http1_chunked_scan(&s->req_ck, buf_head(&s->in), avail, &used);
        buf_move(&s->in, dst, used);
        if (rc == HTTP1_CHUNK_DONE) {
            s->req_done = true;
        } else if (rc < 0) {
            count_reject(s, LB_REJ_BAD);
            log_verbose("client %s: bad chunked body: %s", s->ip, http1_strerror(rc));
            if (!s->resp_head_done && !s->resp_started) {
                reply(s, http1_err_status(rc), http1_strerror(rc), NULL, true);
            } else {
                session_close(s);
            }
            return;
        }
    }
    if (s->req_sent && s->up)
        lb_upstream_flush(s->up);
backpressure:
    if (s->closing)
        return;
    if (!s->req_done) {
        size_t queued = s->req_sent && s->up ? buf_pending(&s->up->out) + buf_pending(&s->up->wbuf)
                                             : buf_pending(&s->hold);
        if (queued >= LB_HIGH_WATER)
            client_pause(s);
    } else if (buf_pending(&s->in) >= LB_HIGH_WATER) {
        /* pipelined requests: enough is waiting */
        client_pause(s);
    }
}

static void upstream_drained(struct lb_session *s, struct lb_upstream *u)
{
    (void)u;
    s->last_up = now_ms(s);
    if (s->paused && (!s->req_done || s->state == LB_S_TUNNEL)) {
        client_resume(s);
    }
}

/* ---- dispatch ----------------------------------------------------------- */

/* Hand the request to u (connected): the head and what body arrived go up. */
static void send_request(struct lb_session *s, struct lb_upstream *u)
{
    s->state = LB_S_PROXY;
    s->since = s->last_up = now_ms(s);
    s->req_sent = true;
    s->t_sent_us = (long long)(uv_hrtime() / 1000);
    u->nreq++;
    http1_response_reset(&u->res);
    /* keep a copy for a retry only when it is the whole request */
    s->replay = s->req_done && buf_pending(&s->hold) <= LB_HIGH_WATER;
    if (s->replay)
        buf_append(&u->out, buf_head(&s->hold), buf_pending(&s->hold));
    else
        buf_move(&s->hold, &u->out, buf_pending(&s->hold));
    lb_upstream_flush(u);
    if (s->closing || s->up != u)
        return;
    pump_request(s);
    if (s->closing || s->up != u)
        return;
    client_resume(s);
}

static void attach(struct lb_session *s, struct lb_upstream *u)
{
    s->up = u;
    u->s = s;
}

/* Answer when no peer can take the request. */
static void no_peer(struct lb_session *s)
{
    if (s->fail_status) {
        reply(s, s->fail_status, s->fail_status == 504 ? "backend timed out\n" : "bad gateway\n", NULL, false);
        return;
    }
    count_reject(s, LB_REJ_UNAVAIL);
    s->pool->local[s->w->id].no_peer++;
    char hdr[64];
    snprintf(hdr, sizeof hdr, "Retry-After: %d\r\n", net_pool_retry_after(s->pool, now_ms(s)));
    reply(s, 503, "no backend available\n", hdr, false);
}

static void dispatch(struct lb_session *s)
{
    struct net_pool *pool = s->pool;
    const struct lb_pool_conf *c = pconf(s);
    struct lb_worker *w = s->w;
    long long now = now_ms(s);
    struct net_peer *p = NULL;
    int n = net_pool_snapshot(pool, w->id, now);
    if (n == 0) {
        no_peer(s);
        return;
    }
    bool some_full = false;
    if (s->sticky[0]) {
        p = net_pool_find_sticky(pool, w->id, s->sticky, 16, now);
        for (int i = 0; p && i < s->ntried; i++)
            if (s->tried[i] == p)
                p = NULL;
        if (p && !net_peer_try_take(p)) {
            some_full = true;
            p = NULL;
        }
    }
    if (!p) {
        struct net_peer *ex[64];
        int nex = 0;
        for (int i = 0; i < s->ntried; i++)
            ex[nex++] = s->tried[i];
        struct net_pick_ctx ctx = {s->key, s->has_key, ex, 0, now};
        for (int i = 0; i < n && nex < 64; i++) {
            ctx.nexclude = nex;
            p = net_pool_pick(pool, w->id, &ctx, now);
            if (!p || net_peer_try_take(p))
                break;
            some_full = true;
            ex[nex++] = p;
            p = NULL;
        }
    }
    if (!p) {
        if (some_full) {
            struct net_pool_local *l = &pool->local[w->id];
            if (l->nqueued >= c->queue_size) {
                l->queue_overflows++;
                count_reject(s, LB_REJ_UNAVAIL);
                reply(s, 503, "all backends are busy and the queue is full\n", "Retry-After: 1\r\n", false);
                return;
            }
            s->state = LB_S_QUEUED;
            if (!s->queued_since)
                s->queued_since = now; /* a re-queue (queue_kick) keeps its place in time */
            s->since = now;
            s->qnode.prev = l->queue.prev;
            s->qnode.next = &l->queue;
            l->queue.prev->next = &s->qnode;
            l->queue.prev = &s->qnode;
            l->nqueued++;
            l->queued_total++;
            atomic_fetch_add(&pool->nqueued, 1);
            return;
        }
        no_peer(s);
        return;
    }
    net_peer_ref(p); /* its slot (active) was taken above */
    s->peer = p;
    if (s->ntried < (int)(sizeof s->tried / sizeof s->tried[0]))
        s->tried[s->ntried++] = p;
    net_count(&p->local[w->id].requests, 1);
    s->state = LB_S_CONNECT;
    s->since = now;
    struct lb_upstream *u = lb_upstream_take(w, p);
    if (u) {
        attach(s, u);
        send_request(s, u);
        return;
    }
    int err = 0;
    u = lb_upstream_connect(w, p, s, &upstream_events, &err);
    if (!u) {
        upstream_connected(s, NULL, err);
        return;
    }
    attach(s, u);
}

/* The exchange with the current peer failed before any response byte. */
static void upstream_failed(struct lb_session *s, int status, bool retryable, const char *why)
{
    struct net_peer *p = s->peer;
    long long now = now_ms(s);
    if (p) {
        net_count(&p->local[s->w->id].errors, 1);
        net_peer_failure(p, now);
        log_verbose("pool %s: backend %s: %s", s->pool->name, p->name, why);
    }
    detach_upstream(s, false);
    bool again = retryable && s->ntried <= pconf(s)->retries && (!s->req_sent || s->replay);
    if (again && p)
        net_count(&p->local[s->w->id].retries, 1);
    release_peer(s);
    s->fail_status = status;
    if (!again) {
        reply(s, status, status == 504 ? "backend timed out\n" : "bad gateway\n", NULL, false);
        return;
    }
    /* resend from hold: drop what a previous attempt sent */
    s->req_sent = false;
    s->resp_started = false;
    s->state = LB_S_CONNECT;
    dispatch(s);
}

static void upstream_connected(struct lb_session *s, struct lb_upstream *u, int status)
{
    if (status < 0) {
        char why[96];
        snprintf(why, sizeof why, "connect: %s", uv_strerror(status));
        upstream_failed(s, 502, true, why);
        return;
    }
    if (s->up != u)
        return;
    send_request(s, u);
}

/* ---- response ----------------------------------------------------------- */

static int lat_bucket(long long ms)
{
    static const long long bounds[] = NET_LAT_BOUNDS_MS;
    for (int i = 0; i < NET_LAT_BUCKETS - 1; i++)
        if (ms <= bounds[i])
            return i;
    return NET_LAT_BUCKETS - 1;
}

/* Decide how the response body travels to the client (as is, or dechunked
 * for HTTP/1.0), and whether the client connection stays open; write the
 * rewritten head into s->out. */
/* An HTTP/2 stream: the head goes to h2.c as fields, no HTTP/1.1 text. */
static void relay_head_h2(struct lb_session *s, const struct http1_response *r, const struct lb_pool_conf *pc)
{
    struct http1_header f[LB_MAX_HEADERS + 2];
    /* no Transfer-Encoding in HTTP/2, whatever the body (a HEAD's answer too) */
    size_t n = lb_http_response_fields(r, true, f, LB_MAX_HEADERS);
    if (r->status == 204) {
        /* RFC 9110 8.6: none on a 204; an HTTP/2 client resets a stream whose
         * content-length its (empty) DATA do not match */
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (!(f[i].name_len == 14 && http1_header_is(&f[i], "content-length")))
                f[k++] = f[i];
        n = k;
    }
    if (s->xcache)
        f[n++] = (struct http1_header){"X-Cache", 7, s->xcache, strlen(s->xcache)};
    char cookie[160];
    if (pc->sticky_cookie[0] && s->peer && strcmp(s->sticky, s->peer->sticky_id) != 0) {
        int l = snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly", pc->sticky_cookie, s->peer->sticky_id);
        if (l > 0 && (size_t)l < sizeof cookie)
            f[n++] = (struct http1_header){"Set-Cookie", 10, cookie, (size_t)l};
    }
    lb_h2_stream_head(s, r->status, f, n, r->body != HTTP1_BODY_NONE);
}

static void relay_head(struct lb_session *s, struct lb_upstream *u)
{
    const struct http1_response *r = &u->res;
    const struct lb_pool_conf *pc = pconf(s);
    struct buf *o = &s->out;
    s->resp_body = r->body;
    s->resp_left = r->content_length;
    s->dechunk = false;
    bool close = s->close_after || !s->req_keepalive || s->client_eof || !s->req_done;
    if (r->body == HTTP1_BODY_UNTIL_CLOSE)
        close = true;
    if (r->body == HTTP1_BODY_CHUNKED) {
        http1_chunked_init(&s->resp_ck, NULL);
        if (s->req_http10 || s->h2s) {
            /* an HTTP/1.0 client cannot read chunks: send the data, close at
             * the end; an HTTP/2 stream carries the data in DATA frames */
            s->dechunk = true;
            close = true;
        }
    }
    if (close)
        s->close_after = true;
    if (s->cache_sink)
        return; /* a background refresh: nothing goes to the client */
    if (s->h2s) {
        relay_head_h2(s, r, pc);
        return;
    }
    lb_http_response_head(o, r, s->dechunk);
    if (s->xcache) {
        buf_puts(o, "X-Cache: ");
        buf_puts(o, s->xcache);
        buf_puts(o, "\r\n");
    }
    if (close)
        buf_puts(o, "Connection: close\r\n");
    else if (s->req_http10)
        buf_puts(o, "Connection: keep-alive\r\n");
    if (pc->sticky_cookie[0] && s->peer && strcmp(s->sticky, s->peer->sticky_id) != 0)
        buf_printf(o, "Set-Cookie: %s=%s; Path=/; HttpOnly\r\n", pc->sticky_cookie, s->peer->sticky_id);
    buf_append(o, "\r\n", 2);
}

/* The response is complete. */
static void response_done(struct lb_session *s, struct lb_upstream *u, bool reusable)
{
    s->resp_done = true;
    if (s->h2s)
        lb_h2_stream_end(s);
    if (s->cfill)
        cache_fill_end(s, reusable);
    if (s->peer)
        net_peer_success(s->peer);
    bool reuse = reusable && s->req_done && s->resp_keepalive && buf_pending(&u->in) == 0;
    if (!s->req_done)
        s->close_after = true; /* the backend answered before the body ended */
    detach_upstream(s, reuse);
    release_peer(s);
    request_end(s);
}

/* n body bytes from the backend to the client (dropped for a background refresh). */
static void body_move(struct lb_session *s, struct lb_upstream *u, size_t n)
{
    if (s->cache_sink) {
        buf_consume(&u->in, n);
    } else if (s->h2s) {
        lb_h2_stream_body(s, buf_head(&u->in), n);
        buf_consume(&u->in, n);
    } else {
        buf_move(&u->in, &s->out, n);
    }
}

/* Parse and relay what the backend sent. */
/* The backend answered: its status and latency into the peer's figures. */
static void count_response(struct lb_session *s, struct lb_upstream *u)
{
    struct net_peer *p = s->peer;
    long long lat_us = (long long)(uv_hrtime() / 1000) - s->t_sent_us;
    if (lat_us < 0)
        lat_us = 0;
    if (p) {
        struct net_peer_local *l = &p->local[s->w->id];
        int cls = u->res.status / 100;
        net_count(&l->responses[cls >= 1 && cls <= 5 ? cls : 0], 1);
        net_count(&l->lat[lat_bucket(lat_us / 1000)], 1);
        net_count(&l->lat_sum_us, (uint64_t)lat_us);
        net_peer_observe(p, (uint64_t)lat_us);
    }
}

/* Parse the response head in u->in (relaying interim 1xx answers) and send
 * it on. Returns true once the final head went on and the body follows;
 * false when more bytes are needed or the exchange went elsewhere (failed,
 * tunnel, cache, closed). */
static bool response_head(struct lb_session *s, struct lb_upstream *u)
{
    while (!s->resp_head_done) {
        int n = http1_parse_response(buf_head(&u->in), buf_pending(&u->in), &u->res, NULL,
                                     s->meth == HTTP1_METHOD_HEAD);
        if (n == HTTP1_INCOMPLETE) {
            if (buf_pending(&u->in) > 65536) {
                upstream_failed(s, 502, false, "response head too large");
            }
            return false;
        }
        if (n < 0) {
            char why[96];
            snprintf(why, sizeof why, "bad response: %s", http1_strerror(n));
            upstream_failed(s, 502, false, why);
            return false;
        }
        if (u->res.status < 200) {
            if (u->res.status == 101 && s->upgrade && u->res.upgrade) {
                tunnel_begin(s, u, (size_t)n);
                return false;
            }
            if (u->res.status == 101) {
                upstream_failed(s, 502, false, "101 Switching Protocols without an upgrade request");
                return false;
            }
            /* interim: relay to HTTP/1.1 clients as is, then read the final answer */
            if (!s->req_http10 && !s->cache_sink && !s->h2s) /* HTTP/2: not relayed (no 1xx HEADERS) */
                buf_append(&s->out, buf_head(&u->in), (size_t)n);
            buf_consume(&u->in, (size_t)n);
            http1_response_reset(&u->res);
            client_flush(s);
            if (s->closing)
                return false;
            continue;
        }
        count_response(s, u);
        if (s->cfill && cache_response_head(s, u, (size_t)n))
            return false;
        s->status = u->res.status;
        s->resp_keepalive = u->res.keep_alive;
        relay_head(s, u);
        buf_consume(&u->in, (size_t)n);
        s->resp_head_done = true;
    }
    return true;
}

/* A chunked body: relayed as is, or de-chunked (HTTP/1.0 clients, HTTP/2
 * streams); the cache fill gets it too. Returns false when the session was
 * closed (a bad chunk after the answer began). */
static bool chunked_body(struct lb_session *s, struct lb_upstream *u, size_t avail)
{
    int rc;
    size_t used;
    if (s->dechunk) {
        size_t off = 0;
        for (;;) {
            const char *d;
            size_t dl, k;
            rc = http1_chunked_next(&s->resp_ck, buf_head(&u->in) + off, avail - off, &k, &d, &dl);
            off += k;
            if (rc != HTTP1_CHUNK_DATA)
                break;
            if (s->cfill && !lb_cache_fill_data(s->cfill, d, dl))
                cache_fill_end(s, false);
            if (s->cache_sink)
                continue;
            if (s->h2s)
                lb_h2_stream_body(s, d, dl);
            else
                buf_append(&s->out, d, dl);
        }
        used = off;
        buf_consume(&u->in, used);
    } else {
        rc = http1_chunked_scan(&s->resp_ck, buf_head(&u->in), avail, &used);
        if (s->cfill && !lb_cache_fill_chunked(s->cfill, buf_head(&u->in), used))
            cache_fill_end(s, false);
        body_move(s, u, used);
    }
    if (rc == HTTP1_CHUNK_DONE) {
        response_done(s, u, true);
    } else if (rc < 0) {
        /* the answer already began: all we can do is cut it */
        if (s->peer) {
            net_count(&s->peer->local[s->w->id].errors, 1);
            net_peer_failure(s->peer, now_ms(s));
        }
        log_verbose("pool %s: bad chunked response: %s", s->pool->name, http1_strerror(rc));
        client_flush(s);
        session_close(s);
        return false;
    }
    return true;
}

/* Move what u->in holds of the body to the client. Returns false when the
 * session was closed. */
static bool response_body(struct lb_session *s, struct lb_upstream *u)
{
    size_t avail = buf_pending(&u->in);
    switch (s->resp_body) {
    case HTTP1_BODY_NONE:
        response_done(s, u, true);
        break;
    case HTTP1_BODY_LENGTH: {
        size_t n = avail < s->resp_left ? avail : (size_t)s->resp_left;
        if (s->cfill && !lb_cache_fill_data(s->cfill, buf_head(&u->in), n))
            cache_fill_end(s, false); /* too large: streamed through only */
        body_move(s, u, n);
        s->resp_left -= n;
        if (s->resp_left == 0)
            response_done(s, u, true);
        break;
    }
    case HTTP1_BODY_CHUNKED:
        return chunked_body(s, u, avail);
    case HTTP1_BODY_UNTIL_CLOSE:
        body_move(s, u, avail);
        break;
    }
    return true;
}

static void pump_response(struct lb_session *s, struct lb_upstream *u)
{
    if (!response_head(s, u) || !response_body(s, u) || s->closing)
        return;
    client_flush(s);
    /* after the flush: had it written everything, no completion would resume us */
    if (!s->closing && s->up == u &&
        (s->h2s ? lb_h2_stream_queued(s) : buf_pending(&s->out) + buf_pending(&s->wbuf)) >= LB_HIGH_WATER)
        lb_upstream_pause(u);
}

static void upstream_read(struct lb_session *s, struct lb_upstream *u, ssize_t n)
{
    if (s->up != u || s->closing)
        return;
    s->last_up = now_ms(s);
    if (s->state == LB_S_TUNNEL) {
        if (n >= 0) {
            tunnel_down(s, u);
            return;
        }
        /* the backend ended the tunnel: the client gets what is left, then the close */
        detach_upstream(s, false);
        release_peer(s);
        s->close_after = true;
        client_pause(s);
        client_flush(s);
        return;
    }
    if (n >= 0) {
        if (buf_pending(&u->in) == 0)
            return;
        if (!s->req_sent) {
            /* the backend talks before it was asked */
            upstream_failed(s, 502, false, "data before the request");
            return;
        }
        s->resp_started = true;
        pump_response(s, u);
        return;
    }
    /* EOF or error, reading or writing */
    if (!s->resp_started) {
        bool stale = u->reused && (n == UV_EOF || n == UV_ECONNRESET || n == UV_EPIPE);
        char why[96];
        snprintf(why, sizeof why, "%s before responding", n == UV_EOF ? "closed" : uv_strerror((int)n));
        if (stale) {
            /* a pooled connection the backend had closed: not the peer's fault */
            detach_upstream(s, false);
            net_count(&s->peer->local[s->w->id].retries, 1);
            release_peer(s);
            s->ntried--; /* the same peer may be tried again on a fresh connection */
            if (s->replay) {
                s->req_sent = false;
                s->state = LB_S_CONNECT;
                dispatch(s);
            } else {
                reply(s, 502, "bad gateway\n", NULL, false);
            }
            return;
        }
        upstream_failed(s, 502, s->idempotent, why);
        return;
    }
    if (s->resp_head_done && s->resp_body == HTTP1_BODY_UNTIL_CLOSE && n == UV_EOF) {
        response_done(s, u, false);
        return;
    }
    /* cut in the middle of a response */
    if (s->peer) {
        net_count(&s->peer->local[s->w->id].errors, 1);
        net_peer_failure(s->peer, now_ms(s));
    }
    log_verbose("pool %s: backend closed in the middle of a response", s->pool->name);
    detach_upstream(s, false);
    release_peer(s);
    if (!s->resp_head_done) {
        reply(s, 502, "bad gateway\n", NULL, true);
        return;
    }
    s->close_after = true;
    client_flush(s);
    if (!s->writing && !s->closing)
        session_close(s);
}

/* The request is over (answered by the backend or by the lb): back to IDLE
 * for the next one, or close. */
static void request_end(struct lb_session *s)
{
    release_peer(s);
    queue_remove(s);
    s->pool = NULL;
    s->queued_since = 0;
    s->ntried = 0;
    s->fail_status = 0;
    s->req_sent = s->replay = false;
    s->resp_started = s->resp_head_done = s->resp_done = false;
    if (s->cfill)
        cache_fill_end(s, false);
    s->xcache = NULL;
    s->cache_sink = s->cache_pass = s->cache_stale_ok = false;
    s->reqid[0] = '\0';
    s->sticky[0] = '\0';
    s->tgt = (struct lb_target){0};
    buf_consume(&s->hold, buf_pending(&s->hold));
    buf_shrink(&s->hold, 4096);
    s->state = LB_S_IDLE;
    s->since = s->last_client = now_ms(s);
    if (s->close_after || !s->req_done) {
        s->close_after = true;
        client_pause(s);
        client_flush(s);
        return;
    }
    client_flush(s);
    if (s->closing)
        return;
    if (s->w->draining) {
        s->close_after = true;
        client_flush(s);
        return;
    }
    /* s->in keeps its buffer for the next request (lb_http_sweep frees it
     * once the connection has been idle for LB_IDLE_TRIM_MS) */
    client_resume(s);
    if (buf_pending(&s->in))
        process_head(s);
}

/* ---- client events ------------------------------------------------------ */

/* TLS: n ciphertext bytes arrived in s->tls->raw. Returns the plaintext
 * bytes appended to s->in, 0 for none (handshake going on; its answer is
 * sent here), UV_EOF when the client sent close_notify; a protocol error,
 * garbage or a renegotiation closes the session (0). */
static ssize_t tls_input(struct lb_session *s, size_t n)
{
    struct net_tls_conn *t = s->tls;
    t->raw.len += n;
    bool was = t->established;
    long r = net_tls_conn_input(t, &s->in);
    if (r < 0 && r != NET_TLS_E_CLOSED) {
        count_reject(s, LB_REJ_BAD);
        atomic_fetch_add_explicit(&s->ls->tls_errors, 1, memory_order_relaxed);
        log_verbose("client %s: %s", s->ip, r == NET_TLS_E_RENEG ? "TLS renegotiation refused" : "TLS error");
        client_flush(s); /* the alert OpenSSL queued, if the socket takes it now */
        session_close(s);
        return 0;
    }
    if (!was && t->established) {
        s->since = now_ms(s); /* timeout-header runs from the end of the handshake */
        atomic_fetch_add_explicit(t->resumed ? &s->ls->tls_resumed : &s->ls->tls_full, 1, memory_order_relaxed);
        char alpn[16];
        if (strcmp(net_tls_conn_alpn(t, alpn, sizeof alpn), "h2") == 0 && lb_h2_conn_start(s, &h2_ops) != 0) {
            session_close(s);
            return 0;
        }
    }
    client_flush(s);
    if (s->closing)
        return 0;
    if (r == NET_TLS_E_CLOSED)
        return UV_EOF;
    return (ssize_t)r;
}

static void on_client_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    struct lb_session *s = st->data;
    if (n == 0 || s->closing)
        return;
    s->trimmed = false;
    if (n > 0 && s->tls) {
        n = tls_input(s, (size_t)n);
        if (n == 0 || s->closing)
            return;
    } else if (n > 0) {
        s->in.len += (size_t)n;
    }
    if (s->state == LB_S_H2) {
        if (n < 0) {
            session_close(s);
            return;
        }
        s->last_client = now_ms(s);
        lb_h2_conn_input(s);
        return;
    }
    if (n < 0 && s->state == LB_S_TUNNEL) {
        session_close(s); /* either side ending ends the tunnel */
        return;
    }
    if (n < 0) {
        switch (s->state) {
        case LB_S_IDLE:
        case LB_S_HEAD:
            session_close(s);
            return;
        default:
            if (n == UV_EOF && s->req_done) {
                /* the client finished sending; the answer still goes out */
                s->client_eof = true;
                client_pause(s);
                return;
            }
            session_close(s);
            return;
        }
    }
    s->last_client = now_ms(s);
    switch (s->state) {
    case LB_S_IDLE:
    case LB_S_HEAD:
        process_head(s);
        break;
    default:
        pump_request(s);
        break;
    }
}

void lb_http_accept(struct lb_worker *w, struct lb_listener *ls, uv_stream_t *server)
{
    struct lb_server *srv = w->srv;
    struct lb_session *s = session_alloc();
    uv_tcp_init(&w->loop, &s->tcp);
    s->tcp.data = s;
    if (uv_accept(server, (uv_stream_t *)&s->tcp) != 0) {
        uv_close((uv_handle_t *)&s->tcp, (uv_close_cb)xfree);
        return;
    }
    if (atomic_fetch_add(&srv->nclients, 1) >= srv->cfg.maxclients || w->draining) {
        atomic_fetch_sub(&srv->nclients, 1);
        uv_close((uv_handle_t *)&s->tcp, (uv_close_cb)xfree);
        return;
    }
    atomic_fetch_add_explicit(&ls->accepted, 1, memory_order_relaxed);
    s->w = w;
    s->ls = ls;
    buf_init(&s->in);
    buf_init(&s->out);
    buf_init(&s->wbuf);
    buf_init(&s->hold);
    http1_request_init(&s->req, s->hdrs, LB_MAX_HEADERS);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&s->tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, s->ip, sizeof s->ip);
            s->iphash = net_hash(&a->sin_addr, sizeof a->sin_addr, 0);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, s->ip, sizeof s->ip);
            s->iphash = net_hash(&a->sin6_addr, sizeof a->sin6_addr, 0);
        }
    }
    if (!s->ip[0])
        snprintf(s->ip, sizeof s->ip, "unknown");
    struct lb_listener_conf *lc = lconf(s);
    if (lc->tls) {
        s->tls = xmalloc(sizeof *s->tls);
        if (net_tls_conn_init(s->tls, lc->tls) != 0) {
            /* max-handshakes in progress: a flood is shed at the door */
            count_reject(s, LB_REJ_UNAVAIL);
            xfree(s->tls);
            s->tls = NULL;
            atomic_fetch_sub(&srv->nclients, 1);
            uv_close((uv_handle_t *)&s->tcp, (uv_close_cb)xfree);
            return;
        }
    }
    uv_tcp_nodelay(&s->tcp, 1);
    /* timeout-header runs from the accept for the first request */
    s->state = LB_S_HEAD;
    s->since = s->last_client = now_ms(s);
    LIST_PUSH(w->sessions, s, prev, next);
    w->nsessions++;
    uv_read_start((uv_stream_t *)&s->tcp, on_client_alloc, on_client_read);
}

/* ---- HTTP/2 streams (h2.c) ---------------------------------------------------- */

static struct lb_session *stream_new(struct lb_session *c)
{
    struct lb_worker *w = c->w;
    struct lb_session *s = w->spare_streams;
    if (s) {
        /* a kept one: zeroed but for its header array, its buffers emptied */
        w->spare_streams = s->next;
        w->nspare_streams--;
        struct buf keep[4] = {s->in, s->out, s->wbuf, s->hold};
        size_t a = offsetof(struct lb_session, hdrs), b = a + sizeof s->hdrs;
        memset(s, 0, a);
        memset((char *)s + b, 0, sizeof *s - b);
        struct buf *bs[4] = {&s->in, &s->out, &s->wbuf, &s->hold};
        for (int i = 0; i < 4; i++) {
            *bs[i] = keep[i];
            bs[i]->off = bs[i]->len = 0;
        }
    } else {
        s = session_alloc();
        buf_init(&s->in);
        buf_init(&s->out);
        buf_init(&s->wbuf);
        buf_init(&s->hold);
    }
    uv_tcp_init(&w->loop, &s->tcp); /* no socket: the handle only defers the close to the loop */
    s->tcp.data = s;
    atomic_fetch_add(&w->srv->nclients, 1);
    s->w = w;
    s->ls = c->ls;
    s->h2_stream = true;
    http1_request_init(&s->req, s->hdrs, LB_MAX_HEADERS);
    memcpy(s->ip, c->ip, sizeof s->ip);
    s->iphash = c->iphash;
    s->h2_tls = c->tls != NULL;
    s->nrequests = 1; /* never an h2c preface */
    s->state = LB_S_HEAD;
    s->since = s->last_client = now_ms(s);
    LIST_PUSH(w->sessions, s, prev, next);
    w->nsessions++;
    return s;
}

/* An HTTP/2 stream's header list: the parsed request is built from it with
 * the checks and limits of an HTTP/1.1 head (no request text in between),
 * then the request goes the HTTP/1.1 way from begin_request on. */
static void stream_request(struct lb_session *s, struct lb_h2_req *r, bool body)
{
    if (s->closing)
        return;
    struct http1_limits lim;
    request_limits(s, &lim);
    s->state = LB_S_HEAD;
    s->since = now_ms(s);
    int rc = lb_h2_req_build(r, body, &lim, &s->req);
    if (rc < 0) {
        bad_request(s, rc);
        return;
    }
    s->req.keep_alive = false; /* one request per stream: the session ends with it */
    begin_request(s, 0);
}

static void stream_input(struct lb_session *s)
{
    if (s->closing)
        return;
    s->last_client = now_ms(s);
    if (s->state == LB_S_IDLE || s->state == LB_S_HEAD)
        process_head(s);
    else
        pump_request(s);
}

static void stream_drained(struct lb_session *s)
{
    struct lb_upstream *u = s->up;
    if (!s->closing && u && u->paused)
        lb_upstream_resume(u);
}



/* ---- timeouts ------------------------------------------------------------ */

/* An idle keep-alive connection gives back the buffers it keeps between
 * requests (taken again on its next read). */
static void session_trim(struct lb_session *s)
{
    s->trimmed = true;
    if (buf_pending(&s->in) == 0)
        buf_shrink(&s->in, 0);
    if (!s->writing) {
        buf_shrink(&s->out, 0);
        buf_shrink(&s->wbuf, 0);
    }
    buf_shrink(&s->hold, 0);
    if (s->tls)
        net_tls_conn_trim(s->tls);
}

/*
 * Every SWEEP_MS (server.c) a worker checks its sessions' timeouts. A tick
 * visits a slice of them, resuming where the last one stopped
 * (w->sweep_cursor), so no tick walks a large session set at once:
 * max(LB_SWEEP_SLICE_MIN, nsessions / LB_SWEEP_ROUND_TICKS) a tick. Up to
 * LB_SWEEP_SLICE_MIN sessions are all visited every tick (as before); with
 * more, each is visited at least once per round of LB_SWEEP_ROUND_TICKS
 * ticks (10 x 50 ms = 500 ms), so a header, client, keep-alive, tunnel,
 * queue, connect, server or TLS handshake timeout fires within 500 ms + one
 * tick of its deadline (a session opened during a round is visited in the
 * next one).
 */
#define LB_SWEEP_SLICE_MIN 64
#define LB_SWEEP_ROUND_TICKS 10

void lb_http_sweep(struct lb_worker *w, long long now)
{
    long long n = w->nsessions;
    long long slice = (n + LB_SWEEP_ROUND_TICKS - 1) / LB_SWEEP_ROUND_TICKS;
    if (slice < LB_SWEEP_SLICE_MIN)
        slice = LB_SWEEP_SLICE_MIN;
    if (slice > n)
        slice = n;
    /* from the cursor to the end of the list, then on from its head */
    struct lb_session *s = w->sweep_cursor ? w->sweep_cursor : w->sessions, *next = NULL;
    for (long long k = 0; s && k < slice; k++, s = next ? next : w->sessions) {
        next = s->next;
        w->sweep_cursor = next; /* on_session_closed moves it on if next goes */
        if (s->closing)
            continue;
        struct lb_listener_conf *lc = lconf(s);
        if (s->tls && !s->tls->established) {
            /* slow or stalled handshakes are cut (timeout-header waits for it) */
            if (now - s->since > lc->tls_handshake_timeout_ms) {
                count_reject(s, LB_REJ_TIMEOUT);
                log_verbose("client %s: TLS handshake not done after %lld ms", s->ip, lc->tls_handshake_timeout_ms);
                session_close(s);
            }
            continue;
        }
        switch (s->state) {
        case LB_S_H2:
            if (s->tls && !s->trimmed && now - s->last_client > LB_IDLE_TRIM_MS) {
                s->trimmed = true; /* no frame from the client for a while: give back the TLS buffers */
                net_tls_conn_trim(s->tls);
            }
            lb_h2_conn_sweep(s, now);
            break;
        case LB_S_TUNNEL: {
            long long last = s->last_client > s->last_up ? s->last_client : s->last_up;
            if (now - last > lc->tunnel_timeout_ms) {
                log_verbose("client %s: tunnel idle for %lld ms", s->ip, lc->tunnel_timeout_ms);
                session_close(s);
            }
            break;
        }
        case LB_S_IDLE:
            if (!s->close_after && !s->trimmed && now - s->since > LB_IDLE_TRIM_MS)
                session_trim(s);
            if (s->close_after) {
                /* waiting for the client to take its last answer */
                if (now - s->last_client > lc->client_timeout_ms)
                    session_close(s);
            } else if (now - s->since > lc->keepalive_timeout_ms) {
                session_close(s);
            }
            break;
        case LB_S_HEAD:
            if (now - s->since > lc->header_timeout_ms) {
                count_reject(s, LB_REJ_TIMEOUT);
                log_verbose("client %s: no complete request head after %lld ms", s->ip, lc->header_timeout_ms);
                buf_consume(&s->in, buf_pending(&s->in));
                s->req_keepalive = false;
                s->req_done = false;
                s->meth = HTTP1_METHOD_OTHER;
                s->reqid[0] = '\0';
                s->state = LB_S_IDLE;
                http1_write_response(&s->out, 408, "text/plain", "request head timeout\n", 21, NULL,
                                     HTTP1_W_CLOSE | HTTP1_W_DATE);
                s->close_after = true;
                client_pause(s);
                client_flush(s);
            }
            break;
        case LB_S_QUEUED:
            if (now - s->queued_since > pconf(s)->queue_timeout_ms) {
                s->pool->local[w->id].queue_timeouts++;
                count_reject(s, LB_REJ_UNAVAIL);
                queue_remove(s);
                reply(s, 503, "all backends are busy\n", "Retry-After: 1\r\n", false);
            }
            break;
        case LB_S_CACHEWAIT:
            if (now - s->since > pconf(s)->server_timeout_ms) {
                cache_unwait(s); /* the fetch takes too long: go to the origin */
                cache_resume(s, LB_CACHE_WAKE_PASS);
            }
            break;
        case LB_S_CONNECT:
            if (s->up && !s->up->connected && now - s->since > pconf(s)->connect_timeout_ms)
                upstream_failed(s, 504, true, "connect timeout");
            break;
        case LB_S_PROXY: {
            const struct lb_pool_conf *pc = pconf(s);
            bool waiting_client = !s->req_done && !s->paused;
            if (waiting_client && now - s->last_client > lc->client_timeout_ms) {
                count_reject(s, LB_REJ_TIMEOUT);
                if (!s->resp_started)
                    reply(s, 408, "request body timeout\n", NULL, true);
                else
                    session_close(s);
            } else if (!waiting_client && !s->resp_done && !(s->up && s->up->paused) &&
                       now - s->last_up > pc->server_timeout_ms) {
                if (!s->resp_started)
                    upstream_failed(s, 504, false, "no response in time");
                else
                    session_close(s);
            } else if (s->writing && now - s->last_client > lc->client_timeout_ms) {
                session_close(s); /* the client does not read its answer */
            }
            break;
        }
        }
    }
    lb_http_kick(w);
    lb_upstream_sweep(w, now);
}

void lb_http_kick(struct lb_worker *w)
{
    /* requests queued while another worker freed a slot */
    struct lb_server *srv = w->srv;
    pthread_mutex_lock(&srv->lock);
    int n = srv->npools;
    struct net_pool **pools = srv->pools;
    pthread_mutex_unlock(&srv->lock);
    for (int i = 0; i < n; i++)
        if (pools[i]->local[w->id].nqueued > 0)
            queue_kick(w, pools[i]);
}

void lb_http_drain(struct lb_worker *w)
{
    for (struct lb_session *s = w->sessions, *next; s; s = next) {
        next = s->next;
        if (s->closing || s->h2s)
            continue;
        if (s->state == LB_S_H2)
            lb_h2_conn_drain(s);
        else if (s->state == LB_S_IDLE && !s->writing)
            session_close(s);
        else
            s->close_after = true;
    }
}

void lb_http_close_all(struct lb_worker *w)
{
    for (struct lb_session *s = w->sessions; s; s = s->next)
        session_close(s);
    lb_upstream_close_all(w);
    while (w->spare_streams) {
        struct lb_session *s = w->spare_streams;
        w->spare_streams = s->next;
        buf_deinit(&s->in);
        buf_deinit(&s->out);
        buf_deinit(&s->wbuf);
        buf_deinit(&s->hold);
        xfree(s);
    }
    w->nspare_streams = 0;
}
