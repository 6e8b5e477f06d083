/*
 * proxy.c — clients in, shard connections out (see proxy.h).
 *
 *   client read ─▶ resp_parse ─▶ rt_route ─▶ local reply ──────────────┐
 *                                     │                                 ▼
 *                                     └─▶ fragment(s) ─▶ shard conn ─▶ reply ─▶ client queue
 *                                          (FIFO per connection)        (in request order)
 *
 * Every byte written is appended to a buffer and flushed once per loop
 * callback (the dirty lists), so a pipeline of N commands from one client
 * becomes one write per shard connection and one write back.
 *
 * Failures: a shard connection that fails (connect error, reset, EOF,
 * garbage, a reply owed longer than server-timeout) answers every fragment
 * it still owes with "-ERR shard NAME unavailable (...)" and is closed; a
 * shard that the health check or passive ejection marks down is not tried
 * at all: its keys get that error at once, other keys are served.
 *
 * Bounds: one command at most client-query-buffer-limit bytes; at most
 * max-pipeline commands in flight per client (more get an error reply);
 * unsent replies past client-output-limit close the client.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/list.h"
#include "core/log.h"
#include "core/util.h"
#include "net/conn.h"
#include "proto/commands.h"
#include "router/proxy.h"

enum { SC_CONNECTING, SC_UP, SC_CLOSED };

#define READ_CHUNK 16384
#define SCONN_READ_CHUNK 65536  /* shard replies: one read takes a whole iteration's replies */
#define MSG_FREE_MAX 4096       /* messages kept per worker for reuse */
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

static void sconn_fail(struct rt_sconn *sc, const char *why);
static void rt_client_close(struct rt_client *c);
static void rt_client_process(struct rt_client *c);

static size_t wq_pending(const struct rt_wq *q) { return buf_pending(&q->out) + buf_pending(&q->wout); }

/* ---- key location ------------------------------------------------------- */

static int locate_in(struct rt_server *s, const char *key, size_t len, struct rt_worker *w)
{
    struct rt_pool *p = &s->pools[s->dflt_pool];
    for (int i = 0; i < s->npools; i++) {
        const struct rt_pool_conf *pc = s->pools[i].conf;
        for (int j = 0; j < pc->nprefixes; j++) {
            size_t pl = strlen(pc->prefixes[j]);
            if (len >= pl && memcmp(key, pc->prefixes[j], pl) == 0) {
                p = &s->pools[i];
                goto found;
            }
        }
    }
found:;
    struct rt_dist *d = atomic_load_explicit(&p->dist, memory_order_acquire);
    if (!d)
        return -1;
    int id = rt_dist_locate(d, key, len); /* built with global shard ids (rt_server_rebuild) */
    struct rt_dist *f = atomic_load_explicit(&p->from, memory_order_acquire);
    if (f && w && !w->no_park && rt_dist_locate(f, key, len) != id) {
        /* resharding: a moving key (reshard.c) */
        w->moving = true;
        uint32_t l32 = (uint32_t)len;
        buf_append(&w->mkeys, (const char *)&l32, 4);
        buf_append(&w->mkeys, key, len);
    }
    return id;
}

int rt_locate_key(struct rt_server *s, const char *key, size_t len) { return locate_in(s, key, len, NULL); }

static int locate_cb(void *arg, const char *key, size_t len)
{
    struct rt_worker *w = arg;
    return locate_in(w->srv, key, len, w);
}

/* ---- messages ---------------------------------------------------------------- */

/* w->inflight: only its worker writes it (admin and the drain read it), so a
 * plain load and store do, not a locked read-modify-write per command. */
static inline void inflight_add(struct rt_worker *w, long long d)
{
    atomic_store_explicit(&w->inflight, atomic_load_explicit(&w->inflight, memory_order_relaxed) + d,
                          memory_order_relaxed);
}

#define MSG_KEEP_BUF 4096       /* reply buffers up to this size stay with a recycled message */

/* m's fragments: m->one, or the kept array (grown when too small). */
static void msg_frags(struct rt_msg *m, int nfrag)
{
    m->nfrag = nfrag;
    if (nfrag <= 1) {
        m->frags = &m->one;
        m->one.m = m;
        return;
    }
    if (m->fcap < nfrag) {
        for (int i = 0; i < m->fcap; i++)
            buf_deinit(&m->fbuf[i].reply);
        xfree(m->fbuf);
        m->fbuf = xcalloc((size_t)nfrag, sizeof *m->fbuf); /* zeroed: empty buffers */
        m->fcap = nfrag;
    }
    m->frags = m->fbuf;
    for (int i = 0; i < nfrag; i++) {
        struct rt_frag *f = &m->fbuf[i];
        f->m = m;
        f->next = NULL;
        f->discard = f->done = false;
    }
}

/* Empty a reply buffer, keeping a small allocation for the next message. */
static void reply_reset(struct buf *b)
{
    b->off = b->len = 0;
    buf_shrink(b, MSG_KEEP_BUF);
}

static struct rt_msg *msg_new(struct rt_client *c, int nfrag)
{
    struct rt_worker *w = c->w;
    if (w->reuse) {
        /* a released parked command: its place in the queue is kept */
        struct rt_msg *m = w->reuse;
        w->reuse = NULL;
        msg_frags(m, nfrag);
        return m;
    }
    struct rt_msg *m = w->free_msgs;
    if (m) {
        w->free_msgs = m->next;
        w->nfree_msgs--;
        /* everything but what a recycled message keeps (emptied in msg_free) */
        struct rt_frag *fbuf = m->fbuf;
        int fcap = m->fcap;
        struct rt_route *rcache = m->rcache;
        struct buf reply = m->reply, one = m->one.reply;
        memset(m, 0, sizeof *m);
        m->fbuf = fbuf;
        m->fcap = fcap;
        m->rcache = rcache;
        m->reply = reply;
        m->one.reply = one;
    } else {
        m = xcalloc(1, sizeof *m); /* zeroed: empty buffers */
    }
    m->c = c;
    m->w = w;
    m->ep = w->cur_ep;
    atomic_fetch_add_explicit(&w->ep_inflight[m->ep & 1], 1, memory_order_relaxed);
    m->keep = -1;
    msg_frags(m, nfrag);
    QUEUE_PUSH(c->head, c->tail, m, next);
    c->inflight++;
    inflight_add(w, 1);
    return m;
}

static void msg_free(struct rt_msg *m)
{
    if (!m->uncounted)
        atomic_fetch_sub_explicit(&m->w->ep_inflight[m->ep & 1], 1, memory_order_relaxed);
    for (int i = 0; i < m->nfrag; i++)
        reply_reset(&m->frags[i].reply);
    reply_reset(&m->reply);
    if (m->route) {
        if (m->rcache) {
            rt_route_deinit(m->route);
            xfree(m->route);
        } else {
            m->rcache = m->route; /* its arrays serve the next split's copy */
        }
        m->route = NULL;
    }
    struct rt_worker *w = m->w;
    if (w->nfree_msgs < MSG_FREE_MAX) {
        m->next = w->free_msgs;
        w->free_msgs = m;
        w->nfree_msgs++;
        return;
    }
    for (int i = 0; i < m->fcap; i++)
        buf_deinit(&m->fbuf[i].reply);
    xfree(m->fbuf);
    buf_deinit(&m->one.reply);
    buf_deinit(&m->reply);
    if (m->rcache) {
        rt_route_deinit(m->rcache);
        xfree(m->rcache);
    }
    xfree(m);
}

static void rt_client_mark(struct rt_client *c)
{
    if (!c->dirty) {
        c->dirty = true;
        c->dnext = c->w->dirty_c;
        c->w->dirty_c = c;
    }
}

/* Move finished replies at the head of the client's queue to its output. */
static void client_advance(struct rt_client *c)
{
    struct rt_msg *m;
    while ((m = c->head) && m->done) {
        buf_append(&c->wq.out, buf_head(&m->reply), buf_pending(&m->reply));
        QUEUE_SHIFT(c->head, c->tail, next);
        c->inflight--;
        inflight_add(c->w, -1);
        if (m->quit)
            c->close_after = true;
        msg_free(m);
    }
    rt_client_mark(c);
}

/* Every fragment answered: build the reply. */
static void msg_finish(struct rt_msg *m)
{
    if (m->route) {
        const char *rp[RT_MAX_SHARDS];
        size_t rl[RT_MAX_SHARDS];
        int n = m->nfrag < RT_MAX_SHARDS ? m->nfrag : RT_MAX_SHARDS;
        for (int i = 0; i < n; i++) {
            rp[i] = buf_head(&m->frags[i].reply);
            rl[i] = buf_pending(&m->frags[i].reply);
        }
        /* the client's oldest command: merged straight into its output (everything before it is there) */
        rt_merge(m->route, rp, rl, n, m->c && m->c->head == m ? &m->c->wq.out : &m->reply);
    } else if (m->nfrag > 0) {
        struct rt_frag *f = &m->frags[m->keep >= 0 ? m->keep : 0];
        struct buf t = m->reply;
        m->reply = f->reply;
        f->reply = t;
    }
    m->done = true;
    if (!m->c) {
        msg_free(m);
        return;
    }
    client_advance(m->c);
}

/* A fragment's reply arrived (bytes), or an error for it. */
static void frag_answer(struct rt_frag *f, const char *p, size_t n)
{
    struct rt_msg *m = f->m;
    f->done = true;
    if (!f->discard) {
        /* fast path: a single-shard reply for the client's oldest command goes straight out */
        if (m->nfrag == 1 && !m->route && m->c && m->c->head == m) {
            struct rt_client *c = m->c;
            buf_append(&c->wq.out, p, n);
            QUEUE_SHIFT(c->head, c->tail, next);
            c->inflight--;
            inflight_add(c->w, -1);
            msg_free(m);
            client_advance(c);
            return;
        }
        buf_append(&f->reply, p, n);
    }
    if (--m->pending == 0)
        msg_finish(m);
}

static void frag_error(struct rt_frag *f, const char *fmt, const char *a, const char *b)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, a, b);
    struct buf t;
    buf_init(&t);
    resp_add_error(&t, msg, strlen(msg));
    frag_answer(f, buf_head(&t), buf_pending(&t));
    buf_deinit(&t);
}

/* A reply made here (local answer or error). */
static void rt_msg_local(struct rt_client *c, const char *p, size_t n, bool quit)
{
    struct rt_msg *m = msg_new(c, 0);
    buf_append(&m->reply, p, n);
    m->quit = quit;
    m->done = true;
    client_advance(c);
}

static void rt_msg_error(struct rt_client *c, const char *fmt, const char *a)
{
    char msg[300];
    snprintf(msg, sizeof msg, fmt, a);
    struct buf t;
    buf_init(&t);
    resp_add_error(&t, msg, strlen(msg));
    rt_msg_local(c, buf_head(&t), buf_pending(&t), false);
    buf_deinit(&t);
    c->w->errors++;
}

/* ---- shard connections ------------------------------------------------------ */

static void sconn_mark(struct rt_sconn *sc)
{
    if (!sc->dirty) {
        sc->dirty = true;
        sc->dnext = sc->w->dirty_s;
        sc->w->dirty_s = sc;
    }
}

static void on_sconn_closed(uv_handle_t *h)
{
    struct rt_sconn *sc = h->data;
    rt_wq_deinit(&sc->wq);
    buf_deinit(&sc->in);
    net_peer_unref(sc->peer);
    xfree(sc);
}

static void sconn_close(struct rt_sconn *sc)
{
    if (sc->state == SC_CLOSED)
        return;
    sc->state = SC_CLOSED;
    struct rt_worker *w = sc->w;
    if (w->sc[sc->slot] == sc)
        w->sc[sc->slot] = NULL;
    for (struct rt_sconn **pp = &w->retired; *pp; pp = &(*pp)->rnext)
        if (*pp == sc) {
            *pp = sc->rnext;
            break;
        }
    /* unlink from the dirty list */
    for (struct rt_sconn **pp = &w->dirty_s; *pp; pp = &(*pp)->dnext)
        if (*pp == sc) {
            *pp = sc->dnext;
            break;
        }
    uv_close((uv_handle_t *)&sc->tcp, on_sconn_closed);
}

static void sconn_fail(struct rt_sconn *sc, const char *why)
{
    if (sc->state == SC_CLOSED)
        return;
    struct rt_worker *w = sc->w;
    /* an idle connection that closes (the shard restarted, or closed idle
     * clients) failed nobody: not a passive health failure */
    if (sc->head || sc->state == SC_CONNECTING) {
        net_count(&sc->peer->local[w->id].errors, 1);
        net_peer_failure(sc->peer, net_mono_ms());
        w->server_errors++;
    }
    struct rt_frag *f = sc->head;
    sc->head = sc->tail = NULL;
    sc->nq = 0;
    sconn_close(sc);
    if (f)
        log_verbose("shard %s (%s): %s", sc->sh->name, sc->peer->addr, why);
    while (f) {
        struct rt_frag *next = f->next;
        frag_error(f, "ERR shard %s unavailable (%s)", sc->sh->name, why);
        f = next;
    }
}

static void on_sconn_write(uv_write_t *req, int status)
{
    struct rt_sconn *sc = container_of(req, struct rt_sconn, wq.req);
    sc->wq.writing = false;
    if (sc->state == SC_CLOSED)
        return;
    if (status < 0) {
        sconn_fail(sc, uv_strerror(status));
        return;
    }
    buf_consume(&sc->wq.wout, buf_pending(&sc->wq.wout));
    buf_shrink(&sc->wq.wout, 64 * 1024);
    if (rt_wq_flush(&sc->wq, (uv_stream_t *)&sc->tcp, on_sconn_write) != 0)
        sconn_fail(sc, "write failed");
}

static void on_sconn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)hint;
    struct rt_sconn *sc = h->data;
    size_t want = SCONN_READ_CHUNK;
    if (sc->rp.need > buf_pending(&sc->in) && sc->rp.need - buf_pending(&sc->in) > want)
        want = sc->rp.need - buf_pending(&sc->in);
    buf_reserve(&sc->in, want);
    *b = uv_buf_init(buf_tail(&sc->in), (unsigned)buf_room(&sc->in));
}

static void on_sconn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    (void)b;
    struct rt_sconn *sc = s->data;
    struct rt_worker *w = sc->w;
    if (nread < 0) {
        sconn_fail(sc, nread == UV_EOF ? "connection closed" : uv_strerror((int)nread));
        return;
    }
    sc->in.len += (size_t)nread;
    net_count(&sc->peer->local[w->id].bytes_in, (uint64_t)nread);
    for (;;) {
        size_t avail = buf_pending(&sc->in);
        if (avail == 0 || (sc->rp.need && avail < sc->rp.need))
            break;
        ssize_t n = resp_reply_parse(&sc->rp, buf_head(&sc->in), avail);
        if (n == RESP_REPLY_INCOMPLETE)
            break;
        if (n < 0 || !sc->head) {
            sconn_fail(sc, n < 0 ? "the shard sent bytes that are not RESP" : "the shard sent a reply nobody asked for");
            return;
        }
        struct rt_frag *f = sc->head;
        QUEUE_SHIFT(sc->head, sc->tail, next);
        sc->nq--;
        sc->since_ms = (long long)uv_now(&w->loop);
        net_count(&sc->peer->local[w->id].responses[sc->rp.is_error ? 5 : 2], 1);
        frag_answer(f, buf_head(&sc->in), (size_t)n);
        buf_consume(&sc->in, (size_t)n);
    }
    if (buf_pending(&sc->in) == 0)
        buf_shrink(&sc->in, 4 * SCONN_READ_CHUNK);
    net_peer_success(sc->peer);
    if (sc->retired && !sc->head)
        sconn_close(sc);
}

static void on_sconn_connect(uv_connect_t *req, int status)
{
    struct rt_sconn *sc = req->data;
    if (sc->state == SC_CLOSED)
        return;
    if (status < 0) {
        sconn_fail(sc, uv_strerror(status));
        return;
    }
    sc->state = SC_UP;
    sc->since_ms = (long long)uv_now(&sc->w->loop);
    uv_tcp_nodelay(&sc->tcp, 1);
    uv_read_start((uv_stream_t *)&sc->tcp, on_sconn_alloc, on_sconn_read);
    sconn_mark(sc);
}

/* A connection to sh (primary or its replica) for client c, opened when
 * needed. A client always uses the same connection to a shard, so its
 * commands to one shard run in the order it sent them. */
static struct rt_sconn *sconn_get(struct rt_client *c, struct rt_shard *sh, struct net_peer *rpeer)
{
    bool replica = rpeer != NULL;
    struct rt_worker *w = c->w;
    int cps = (int)w->srv->cfg.conns_per_shard;
    int base = sh->id * 2 * cps + (replica ? cps : 0);
    int slot = base + (int)(c->cslot % (unsigned)cps);
    struct rt_sconn *sc = w->sc[slot];
    unsigned gen = atomic_load_explicit(&sh->peer_gen, memory_order_acquire);
    if (sc && (replica ? sc->peer != rpeer : sc->peer_gen != gen)) {
        /* the primary (manual or sentinel failover) or the replica changed: this one finishes what it owes, then closes */
        w->sc[slot] = NULL;
        sc->retired = true;
        if (!sc->head) {
            sconn_close(sc);
        } else {
            sc->rnext = w->retired;
            w->retired = sc;
        }
        sc = NULL;
    }
    if (sc)
        return sc;
    struct net_peer *peer = replica ? rpeer : atomic_load_explicit(&sh->peer, memory_order_acquire);
    sc = xcalloc(1, sizeof *sc);
    sc->w = w;
    sc->sh = sh;
    sc->peer = peer;
    net_peer_ref(peer);
    sc->slot = slot;
    sc->peer_gen = gen;
    rt_wq_init(&sc->wq);
    buf_init(&sc->in);
    resp_reply_init(&sc->rp);
    uv_tcp_init(&w->loop, &sc->tcp);
    sc->tcp.data = sc;
    sc->creq.data = sc;
    sc->state = SC_CONNECTING;
    sc->since_ms = (long long)uv_now(&w->loop);
    w->sc[slot] = sc;
    net_count(&peer->local[w->id].connects, 1);
    int r = uv_tcp_connect(&sc->creq, &sc->tcp, (const struct sockaddr *)&peer->sa, on_sconn_connect);
    if (r != 0) {
        /* report through the normal path once the caller queued its fragment */
        sc->state = SC_CONNECTING;
        sc->since_ms = -1;
    }
    return sc;
}

static void sconn_push(struct rt_sconn *sc, struct rt_frag *f)
{
    f->next = NULL;
    if (sc->tail)
        sc->tail->next = f;
    else {
        sc->head = f;
        if (sc->state == SC_UP)
            sc->since_ms = (long long)uv_now(&sc->w->loop);
    }
    sc->tail = f;
    sc->nq++;
    f->m->pending++;
    net_count(&sc->peer->local[sc->w->id].requests, 1);
    sconn_mark(sc);
}

/* ---- routing a command --------------------------------------------------------- */

/* The connection a command for sh goes to: NULL when the shard is down. */
static struct rt_sconn *pick_conn(struct rt_client *c, struct rt_shard *sh, bool read, long long now)
{
    const struct rt_pool_conf *pc = sh->pool->conf;
    bool primary_ok = rt_shard_usable(sh, now);
    struct net_peer *rep = atomic_load_explicit(&sh->replica, memory_order_acquire);
    if (read && rep && pc->read_policy != RT_READ_NEVER && net_peer_usable(rep, now)) {
        bool use = false;
        if (pc->read_policy == RT_READ_PREFER)
            use = c->last_write_ms == 0 || now - c->last_write_ms >= pc->ryw_ms || !primary_ok;
        else if (pc->read_policy == RT_READ_WHEN_DOWN)
            use = !primary_ok;
        if (use && !atomic_load_explicit(&sh->removed, memory_order_relaxed)) {
            atomic_fetch_add_explicit(&sh->replica_reads, 1, memory_order_relaxed);
            return sconn_get(c, sh, rep);
        }
    }
    if (!primary_ok)
        return NULL;
    return sconn_get(c, sh, NULL);
}

static void unavailable(struct rt_client *c, struct rt_shard *sh)
{
    c->w->unavailable++;
    rt_msg_error(c, "ERR shard %s unavailable", sh ? sh->name : "?");
}

/* Send a command (raw bytes, or argv re-encoded) to one shard. */
static void send_single(struct rt_client *c, struct rt_shard *sh, bool read, const char *raw, size_t rawlen,
                        int argc, const struct resp_arg *argv, long long now)
{
    struct rt_sconn *sc = pick_conn(c, sh, read, now);
    if (!sc) {
        unavailable(c, sh);
        return;
    }
    struct rt_msg *m = msg_new(c, 1);
    if (raw)
        buf_append(&sc->wq.out, raw, rawlen);
    else
        rt_write_command(&sc->wq.out, argc, argv);
    sconn_push(sc, &m->frags[0]);
}

/* What merging needs of r, in m's kept route copy (or a new one). */
static struct rt_route *route_copy(struct rt_msg *m, const struct rt_route *r)
{
    struct rt_route *k = m->rcache;
    if (k) {
        m->rcache = NULL;
    } else {
        k = xcalloc(1, sizeof *k);
        rt_route_init(k);
    }
    k->kind = r->kind;
    k->merge = r->merge;
    k->cmd = r->cmd;
    k->nkeys = r->nkeys;
    k->step = r->step;
    k->nparts = r->nparts;
    if (r->nparts) {
        rt_route_reserve(k, r->nparts > r->nkeys ? r->nparts : r->nkeys);
        memcpy(k->parts, r->parts, (size_t)r->nparts * sizeof *k->parts);
        memcpy(k->order, r->order, (size_t)r->nkeys * sizeof *k->order);
    }
    return k;
}

static void send_split(struct rt_client *c, struct rt_route *r, int argc, const struct resp_arg *argv, long long now)
{
    struct rt_server *s = c->w->srv;
    struct rt_sconn *conns[RT_MAX_SHARDS];
    bool read = !r->write;
    for (int p = 0; p < r->nparts; p++) {
        struct rt_shard *sh = rt_shard_of(s, r->parts[p].shard);
        conns[p] = sh ? pick_conn(c, sh, read, now) : NULL;
        if (!conns[p]) {
            unavailable(c, sh);
            return;
        }
    }
    struct rt_msg *m = msg_new(c, r->nparts);
    m->route = route_copy(m, r);
    for (int p = 0; p < r->nparts; p++) {
        rt_route_write_part(r, p, argc, argv, &conns[p]->wq.out);
        sconn_push(conns[p], &m->frags[p]);
    }
    c->w->splits++;
}

static void send_fanout(struct rt_client *c, struct rt_route *r, int argc, const struct resp_arg *argv, long long now)
{
    struct rt_server *s = c->w->srv;
    struct rt_sconn *conns[RT_MAX_SHARDS];
    int n = 0, total = atomic_load(&s->nshards);
    for (int id = 0; id < total; id++) {
        struct rt_shard *sh = rt_shard_of(s, id);
        if (!sh || atomic_load(&sh->removed))
            continue;
        conns[n] = pick_conn(c, sh, !r->write, now);
        if (!conns[n]) {
            unavailable(c, sh);
            return;
        }
        n++;
    }
    if (n == 0) {
        rt_msg_error(c, "ERR no shard%s", "");
        return;
    }
    struct rt_msg *m = msg_new(c, n);
    m->route = route_copy(m, r);
    m->route->nparts = n;
    for (int i = 0; i < n; i++) {
        rt_write_command(&conns[i]->wq.out, argc, argv);
        sconn_push(conns[i], &m->frags[i]);
    }
    c->w->fanouts++;
}

static void send_scan(struct rt_client *c, struct rt_route *r, int argc, const struct resp_arg *argv, long long now)
{
    struct rt_server *s = c->w->srv;
    int total = atomic_load(&s->nshards), live = 0;
    struct rt_shard *target = NULL;
    for (int id = 0; id < total; id++) {
        struct rt_shard *sh = rt_shard_of(s, id);
        if (!sh || atomic_load(&sh->removed))
            continue;
        if (live == r->scan_shard)
            target = sh;
        live++;
    }
    if (!target) {
        rt_msg_error(c, "ERR invalid cursor%s", "");
        return;
    }
    struct rt_sconn *sc = pick_conn(c, target, true, now);
    if (!sc) {
        unavailable(c, target);
        return;
    }
    struct rt_msg *m = msg_new(c, 1);
    m->route = route_copy(m, r);
    m->route->nparts = live;
    m->route->scan_shard = r->scan_shard;
    rt_route_write_scan(r, argc, argv, &sc->wq.out);
    sconn_push(sc, &m->frags[0]);
}

/* ---- MULTI blocks ------------------------------------------------------------------ */

static void multi_reset(struct rt_client *c)
{
    c->in_multi = c->multi_bad = c->multi_cross = c->multi_moving = false;
    c->multi_shard = -1;
    c->multi_count = 0;
    buf_consume(&c->multi_cmds, buf_pending(&c->multi_cmds));
    buf_shrink(&c->multi_cmds, 4096);
}

static void multi_exec(struct rt_client *c, long long now)
{
    struct rt_server *s = c->w->srv;
    c->w->multis++;
    if (c->multi_bad) {
        rt_msg_error(c, "EXECABORT Transaction discarded because of previous errors.%s", "");
        multi_reset(c);
        return;
    }
    if (c->multi_cross) {
        rt_msg_error(c, "EXECABORT Transaction discarded: its keys are on more than one shard (use a {hash tag})%s", "");
        multi_reset(c);
        return;
    }
    int id = c->multi_shard;
    if (id < 0) {
        struct rt_pool *p = &s->pools[s->dflt_pool];
        id = p->nmembers ? p->members[0] : -1;
    }
    struct rt_shard *sh = rt_shard_of(s, id);
    struct rt_sconn *sc = sh ? pick_conn(c, sh, false, now) : NULL;
    if (!sc) {
        unavailable(c, sh);
        multi_reset(c);
        return;
    }
    int nf = c->multi_count + 2;
    struct rt_msg *m = msg_new(c, nf);
    m->keep = nf - 1;
    buf_append(&sc->wq.out, "*1\r\n$5\r\nMULTI\r\n", 15);
    buf_append(&sc->wq.out, buf_head(&c->multi_cmds), buf_pending(&c->multi_cmds));
    buf_append(&sc->wq.out, "*1\r\n$4\r\nEXEC\r\n", 14);
    for (int i = 0; i < nf; i++) {
        m->frags[i].discard = i != nf - 1;
        sconn_push(sc, &m->frags[i]);
    }
    c->last_write_ms = now;
    multi_reset(c);
}

/* Inside MULTI: check and queue one command. */
static void multi_queue(struct rt_client *c, struct rt_route *r, int argc, const struct resp_arg *argv)
{
    struct rt_server *s = c->w->srv;
    if (r->kind == RT_REFUSE) {
        c->multi_bad = true;
        rt_msg_local(c, buf_head(&r->out), buf_pending(&r->out), false);
        return;
    }
    if (r->kind == RT_FANOUT || r->kind == RT_SPLIT || r->kind == RT_SCAN) {
        c->multi_cross = true;
    } else if (r->kind == RT_SINGLE) {
        if (c->multi_shard >= 0 && c->multi_shard != r->shard)
            c->multi_cross = true;
        c->multi_shard = r->shard;
    } else if (r->cmd == RESP_CMD_QUIT || r->cmd == RESP_CMD_SELECT || r->cmd == RESP_CMD_CLIENT) {
        c->multi_bad = true;
        rt_msg_error(c, "ERR %s inside MULTI is not supported by the router", resp_cmds[r->cmd].name);
        return;
    }
    if (c->multi_count >= s->cfg.max_pipeline ||
        buf_pending(&c->multi_cmds) > s->cfg.max_query) {
        c->multi_bad = true;
        rt_msg_error(c, "ERR router: MULTI block too long%s", "");
        return;
    }
    rt_write_command(&c->multi_cmds, argc, argv);
    c->multi_count++;
    rt_msg_local(c, "+QUEUED\r\n", 9, false);
}

/* ---- one command ------------------------------------------------------------------- */

/* Send a routed command on its way. */
static void dispatch(struct rt_client *c, struct rt_route *r, int argc, const struct resp_arg *argv, const char *raw,
                     size_t rawlen, long long now)
{
    struct rt_worker *w = c->w;
    struct rt_server *s = w->srv;
    switch (r->kind) {
    case RT_LOCAL:
        w->local++;
        rt_msg_local(c, buf_head(&r->out), buf_pending(&r->out), r->cmd == RESP_CMD_QUIT);
        return;
    case RT_REFUSE:
        w->refused++;
        w->errors++;
        rt_msg_local(c, buf_head(&r->out), buf_pending(&r->out), false);
        return;
    case RT_SINGLE: {
        struct rt_shard *sh = rt_shard_of(s, r->shard);
        if (!sh) {
            unavailable(c, NULL);
            return;
        }
        if (r->write)
            c->last_write_ms = now;
        bool inl = rawlen == 0 || raw[0] != '*';
        send_single(c, sh, !r->write, inl ? NULL : raw, rawlen, argc, argv, now);
        return;
    }
    case RT_SPLIT:
        if (r->write)
            c->last_write_ms = now;
        send_split(c, r, argc, argv, now);
        return;
    case RT_FANOUT:
        if (r->write)
            c->last_write_ms = now;
        send_fanout(c, r, argc, argv, now);
        return;
    case RT_SCAN:
        send_scan(c, r, argc, argv, now);
        return;
    }
}

/* Resharding: hand a command on a moving key (or behind one) to the
 * migrator. false: parking is over, dispatch it now. */
static bool park(struct rt_client *c, int argc, const struct resp_arg *argv)
{
    struct rt_worker *w = c->w;
    struct rt_park *pk = xcalloc(1, sizeof *pk);
    pk->w = w;
    buf_init(&pk->cmd);
    buf_init(&pk->keys);
    rt_write_command(&pk->cmd, argc, argv);
    buf_append(&pk->keys, buf_head(&w->mkeys), buf_pending(&w->mkeys));
    struct rt_msg *m = msg_new(c, 0);
    m->pending = 1; /* owed by the migrator: a client that closes orphans it */
    pk->m = m;
    /* not part of the barrier: it goes only to new owners, after the keys moved */
    atomic_fetch_sub_explicit(&w->ep_inflight[m->ep & 1], 1, memory_order_relaxed);
    m->uncounted = true;
    c->nparked++;
    if (rt_reshard_park(w->srv, pk))
        return true;
    if (c->nparked > 1) {
        /* parking just ended, but earlier commands of this client are on their way back: queue behind them */
        pthread_mutex_lock(&w->rel_lock);
        QUEUE_PUSH(w->rel_head, w->rel_tail, pk, next);
        pthread_mutex_unlock(&w->rel_lock);
        uv_async_send(&w->wake);
        return true;
    }
    /* undo: the placeholder is used by the dispatch */
    c->nparked--;
    m->pending = 0;
    w->reuse = m;
    buf_deinit(&pk->cmd);
    buf_deinit(&pk->keys);
    xfree(pk);
    return false;
}

void rt_proxy_released(struct rt_worker *w)
{
    pthread_mutex_lock(&w->rel_lock);
    struct rt_park *pk = w->rel_head;
    w->rel_head = w->rel_tail = NULL;
    pthread_mutex_unlock(&w->rel_lock);
    long long now = (long long)uv_now(&w->loop);
    while (pk) {
        struct rt_park *next = pk->next;
        struct rt_msg *m = pk->m;
        struct rt_client *c = m->c;
        if (!c) {
            msg_free(m); /* its client is gone */
        } else {
            c->nparked--;
            m->pending = 0;
            if (pk->failed) {
                static const char e[] = "TRYAGAIN the key is being moved to another shard and the move failed; retry";
                resp_add_error(&m->reply, e, sizeof e - 1);
                m->done = true;
                w->errors++;
                client_advance(c);
            } else {
                struct resp_parser rp;
                resp_parser_init(&rp);
                ssize_t n = resp_parse(&rp, buf_head(&pk->cmd), buf_pending(&pk->cmd));
                struct rt_route *r = &w->route;
                w->no_park = true;
                w->reuse = m;
                if (n > 0) {
                    rt_route(r, rp.argc, rp.argv, locate_cb, w);
                    dispatch(c, r, rp.argc, rp.argv, buf_head(&pk->cmd), (size_t)n, now);
                }
                w->no_park = false;
                if (w->reuse) { /* nothing answered (cannot happen): do not leave the client waiting */
                    w->reuse = NULL;
                    static const char e[] = "ERR router: internal error re-routing a command after resharding";
                    resp_add_error(&m->reply, e, sizeof e - 1);
                    m->done = true;
                    client_advance(c);
                }
                resp_parser_deinit(&rp);
            }
        }
        buf_deinit(&pk->cmd);
        buf_deinit(&pk->keys);
        xfree(pk);
        pk = next;
    }
    /* the loop's check phase writes what was queued */
}

static void handle(struct rt_client *c, int argc, const struct resp_arg *argv, const char *raw, size_t rawlen)
{
    struct rt_worker *w = c->w;
    struct rt_server *s = w->srv;
    w->commands++;
    w->cur_ep = atomic_load(&s->epoch); /* before routing: the barrier counts this command in it */
    long long now = (long long)uv_now(&w->loop); /* the loop's cached time: no clock read per command */
    if (c->inflight >= s->cfg.max_pipeline) {
        char n[32];
        snprintf(n, sizeof n, "%lld", s->cfg.max_pipeline);
        rt_msg_error(c, "ERR router: more than %s commands in flight on this connection (max-pipeline)", n);
        return;
    }
    int cmd = resp_cmd_lookup(argv[0].ptr, argv[0].len); /* once: pub/sub, transactions and routing use it */
    if (rt_sub_handle(c, cmd, argc, argv, now))
        return;
    /* transactions */
    if (cmd == RESP_CMD_MULTI && argc == 1) {
        if (c->in_multi)
            rt_msg_error(c, "ERR MULTI calls can not be nested%s", "");
        else {
            multi_reset(c);
            c->in_multi = true;
            c->multi_ep = w->cur_ep;
            rt_msg_local(c, "+OK\r\n", 5, false);
        }
        return;
    }
    if (c->in_multi && cmd == RESP_CMD_EXEC && argc == 1) {
        if (c->multi_ep != w->cur_ep || c->nparked > 0 || c->multi_moving) {
            rt_msg_error(c, "EXECABORT Transaction discarded: keys are being resharded; retry%s", "");
            multi_reset(c);
            return;
        }
        multi_exec(c, now);
        return;
    }
    if (c->in_multi && cmd == RESP_CMD_DISCARD && argc == 1) {
        multi_reset(c);
        rt_msg_local(c, "+OK\r\n", 5, false);
        return;
    }
    struct rt_route *r = &w->route;
    w->moving = false;
    buf_consume(&w->mkeys, buf_pending(&w->mkeys));
    rt_route_cmd(r, cmd, argc, argv, locate_cb, w);
    if (c->in_multi) {
        if (w->moving)
            c->multi_moving = true;
        multi_queue(c, r, argc, argv);
        return;
    }
    if ((w->moving || c->nparked > 0) && r->kind != RT_LOCAL && r->kind != RT_REFUSE && park(c, argc, argv))
        return;
    dispatch(c, r, argc, argv, raw, rawlen, now);
}

/* ---- clients -------------------------------------------------------------------------- */

static void on_client_closed(uv_handle_t *h)
{
    struct rt_client *c = h->data;
    resp_parser_deinit(&c->rp);
    buf_deinit(&c->in);
    buf_deinit(&c->multi_cmds);
    rt_wq_deinit(&c->wq);
    xfree(c);
}

static void rt_client_close(struct rt_client *c)
{
    if (c->closing)
        return;
    c->closing = true;
    struct rt_worker *w = c->w;
    /* orphan commands still owed by shards; free the finished ones */
    struct rt_msg *m = c->head;
    while (m) {
        struct rt_msg *next = m->next;
        if (m->done || m->pending == 0)
            msg_free(m);
        else
            m->c = NULL;
        m = next;
    }
    c->head = c->tail = NULL;
    inflight_add(w, -c->inflight);
    c->inflight = 0;
    for (struct rt_client **pp = &w->dirty_c; *pp; pp = &(*pp)->dnext)
        if (*pp == c) {
            *pp = c->dnext;
            break;
        }
    if (c->held)
        for (struct rt_client **pp = &w->held_c; *pp; pp = &(*pp)->hnext)
            if (*pp == c) {
                *pp = c->hnext;
                c->held = false;
                break;
            }
    LIST_REMOVE(w->clients, c, prev, next);
    atomic_fetch_sub(&w->nclients, 1);
    rt_sub_free(c);
    uv_close((uv_handle_t *)&c->tcp, on_client_closed);
}

static void on_client_write(uv_write_t *req, int status)
{
    struct rt_client *c = container_of(req, struct rt_client, wq.req);
    c->wq.writing = false;
    if (c->closing)
        return;
    if (status < 0) {
        rt_client_close(c);
        return;
    }
    buf_consume(&c->wq.wout, buf_pending(&c->wq.wout));
    buf_shrink(&c->wq.wout, 64 * 1024);
    rt_client_mark(c);
}

static void client_flush(struct rt_client *c)
{
    if (c->closing)
        return;
    struct rt_server *s = c->w->srv;
    if (wq_pending(&c->wq) > s->cfg.max_client_buffer) {
        log_verbose("client closed: %zu unsent reply bytes (client-output-limit)", wq_pending(&c->wq));
        rt_client_close(c);
        return;
    }
    if (rt_wq_flush(&c->wq, (uv_stream_t *)&c->tcp, on_client_write) != 0) {
        rt_client_close(c);
        return;
    }
    if (c->close_after && !c->wq.writing && buf_pending(&c->wq.out) == 0)
        rt_client_close(c);
}

static void on_client_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)hint;
    struct rt_client *c = h->data;
    size_t want = READ_CHUNK;
    if (c->rp.need > buf_pending(&c->in) && c->rp.need - buf_pending(&c->in) > want)
        want = c->rp.need - buf_pending(&c->in);
    buf_reserve(&c->in, want);
    *b = uv_buf_init(buf_tail(&c->in), (unsigned)buf_room(&c->in));
}

/* Handle the complete commands in c->in. */
static void rt_client_process(struct rt_client *c)
{
    struct rt_worker *w = c->w;
    for (;;) {
        size_t avail = buf_pending(&c->in);
        if (avail == 0 || c->close_after || c->closing)
            break;
        if (c->sub && c->sub->pending > 0)
            break; /* a (un)subscribe is being confirmed: what follows waits (its order holds) */
        ssize_t n = resp_parse(&c->rp, buf_head(&c->in), avail);
        if (n == RESP_INCOMPLETE) {
            size_t drop = resp_parser_drop_empty(&c->rp);
            if (drop)
                buf_consume(&c->in, drop);
            if (buf_pending(&c->in) > w->srv->cfg.max_query) {
                rt_msg_error(c, "ERR router: command larger than client-query-buffer-limit%s", "");
                c->close_after = true;
                client_advance(c);
            }
            break;
        }
        if (n < 0) {
            struct buf t;
            buf_init(&t);
            resp_add_error(&t, c->rp.err, strlen(c->rp.err));
            rt_msg_local(c, buf_head(&t), buf_pending(&t), true);
            buf_deinit(&t);
            break;
        }
        handle(c, c->rp.argc, c->rp.argv, buf_head(&c->in), (size_t)n);
        buf_consume(&c->in, (size_t)n);
        if (c->close_after)
            break;
    }
    if (buf_pending(&c->in) == 0)
        buf_shrink(&c->in, 64 * 1024);
}

static void on_client_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
    (void)b;
    struct rt_client *c = st->data;
    if (nread < 0) {
        rt_client_close(c);
        return;
    }
    if (c->close_after || c->closing)
        return;
    c->in.len += (size_t)nread;
    if (c->sub && c->sub->pending > 0 && buf_pending(&c->in) > c->w->srv->cfg.max_query) {
        rt_client_close(c); /* a subscriber sending without waiting, past the query limit */
        return;
    }
    rt_client_process(c);
}

void rt_proxy_accept(struct rt_worker *w, uv_stream_t *server)
{
    struct rt_client *c = xcalloc(1, sizeof *c);
    c->w = w;
    uv_tcp_init(&w->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)xfree);
        return;
    }
    buf_init(&c->in);
    buf_init(&c->multi_cmds);
    resp_parser_init(&c->rp);
    c->rp.max_bulk = (long long)w->srv->cfg.max_query;
    rt_wq_init(&c->wq);
    c->multi_shard = -1;
    c->cslot = w->next_cslot++;
    LIST_PUSH(w->clients, c, prev, next);
    w->clients_total++;
    atomic_fetch_add(&w->nclients, 1);
    int total = 0;
    for (int i = 0; i < w->srv->nworkers; i++)
        total += atomic_load_explicit(&w->srv->workers[i].nclients, memory_order_relaxed);
    if (total > w->srv->cfg.maxclients) {
        w->rejected++;
        static const char e[] = "-ERR max number of clients reached\r\n";
        buf_append(&c->wq.out, e, sizeof e - 1);
        c->close_after = true;
        rt_client_mark(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_client_alloc, on_client_read);
}

/* ---- the worker ------------------------------------------------------------------------ */

/* Replies that are ready while the same client still has commands in flight
 * (a pipeline spread over two shards whose replies come back in different
 * loop iterations) wait for the rest, so that the pipeline's replies leave
 * in one write instead of two or three: fewer writes on the client socket
 * (the router's costliest system call: the loopback peer's receive work
 * is charged to the writer) and fewer wake-ups of the client. They wait at
 * most HOLD_MS (the loop's millisecond clock, checked every iteration; a
 * timer wakes an otherwise idle loop for them) and
 * while fewer than HOLD_BYTES are ready, and never for a command parked by
 * a resharding, a subscriber, or a client that is closing. The last reply
 * of a pipeline leaves as soon as it arrives, as before. */
#define HOLD_BYTES (16 * 1024)
#define HOLD_MS 1

/* true: c's output waits (c is put on the held list); false: write it now. */
static bool client_hold(struct rt_client *c, long long now)
{
    size_t ready = buf_pending(&c->wq.out);
    if (!c->head || ready == 0 || ready >= HOLD_BYTES || c->close_after || c->closing || c->nparked > 0 || c->sub)
        return false;
    if (c->held)
        return now - c->hold_ms < HOLD_MS;
    c->held = true;
    c->hold_ms = now;
    c->hnext = c->w->held_c;
    c->w->held_c = c;
    return true;
}

/* Nothing to do: the check phase that follows the wake-up releases what is due. */
static void on_hold_timer(uv_timer_t *t) { (void)t; }

/* Writes are only queued by the callbacks (on the dirty lists); they go out
 * in the loop's check phase, after every I/O callback of this iteration ran,
 * so the commands many clients sent in one iteration leave in one write per
 * shard connection (nutcracker batches the same way, through its writable
 * events). */
static void worker_flush_now(struct rt_worker *w)
{
    while (w->dirty_s || w->dirty_c) {
        while (w->dirty_s) {
            struct rt_sconn *sc = w->dirty_s;
            w->dirty_s = sc->dnext;
            sc->dirty = false;
            if (sc->state == SC_CONNECTING && sc->since_ms == -1) {
                sconn_fail(sc, "cannot connect");
                continue;
            }
            if (sc->state != SC_UP)
                continue;
            size_t before = buf_pending(&sc->wq.out);
            if (rt_wq_flush(&sc->wq, (uv_stream_t *)&sc->tcp, on_sconn_write) != 0)
                sconn_fail(sc, "write failed");
            else
                net_count(&sc->peer->local[w->id].bytes_out, before);
        }
        long long now = (long long)uv_now(&w->loop);
        while (w->dirty_c) {
            struct rt_client *c = w->dirty_c;
            w->dirty_c = c->dnext;
            c->dirty = false;
            if (!client_hold(c, now))
                client_flush(c);
        }
    }
    /* held clients whose wait is over (the rest arrived, time, size); every
     * iteration, dirty or not: a client waiting only for time is on no other
     * list. A flush only writes (or closes): nothing becomes dirty here. */
    long long now = (long long)uv_now(&w->loop);
    for (struct rt_client **pp = &w->held_c; *pp;) {
        struct rt_client *c = *pp;
        if (client_hold(c, now)) {
            pp = &c->hnext;
            continue;
        }
        *pp = c->hnext;
        c->held = false;
        client_flush(c); /* may close c: already off the list */
    }
    /* replies still held: make sure the loop wakes when they are due, even
     * if nothing else happens (one timer per worker, not per client) */
    if (w->held_c && !uv_is_active((uv_handle_t *)&w->hold_timer))
        uv_timer_start(&w->hold_timer, on_hold_timer, HOLD_MS, 0);
}

static void on_check(uv_check_t *h) { worker_flush_now(h->data); }

void rt_proxy_worker_init(struct rt_worker *w)
{
    static const struct rt_sub_ops sub_ops = {
        .close = rt_client_close,
        .mark = rt_client_mark,
        .process = rt_client_process,
        .locate_key = rt_locate_key,
        .msg_local = rt_msg_local,
        .msg_error = rt_msg_error,
    };
    w->sub_ops = &sub_ops;
    uv_check_init(&w->loop, &w->flush);
    w->flush.data = w;
    uv_check_start(&w->flush, on_check);
    uv_unref((uv_handle_t *)&w->flush);
    uv_timer_init(&w->loop, &w->hold_timer);
    w->hold_timer.data = w;
    uv_unref((uv_handle_t *)&w->hold_timer);
    int cps = (int)w->srv->cfg.conns_per_shard;
    w->sc = xcalloc((size_t)RT_MAX_SHARDS * 2 * (size_t)cps, sizeof *w->sc);
    rt_route_init(&w->route);
    buf_init(&w->mkeys);
    pthread_mutex_init(&w->rel_lock, NULL);
}

/* Every 100 ms: connects and replies that take too long fail; connections to removed shards close. */
void rt_proxy_sweep(struct rt_worker *w)
{
    struct rt_server *s = w->srv;
    long long now = (long long)uv_now(&w->loop);
    int n = RT_MAX_SHARDS * 2 * (int)s->cfg.conns_per_shard;
    struct rt_sconn *ret[64];
    int nret = 0;
    for (struct rt_sconn *r = w->retired; r && nret < 64; r = r->rnext)
        ret[nret++] = r;
    for (int i = 0; i < n + nret; i++) {
        struct rt_sconn *sc = i < n ? w->sc[i] : ret[i - n];
        if (!sc)
            continue;
        if (sc->state == SC_CONNECTING && sc->since_ms >= 0 && now - sc->since_ms > s->cfg.connect_timeout_ms) {
            w->timeouts++;
            sconn_fail(sc, "connect timeout");
        } else if (sc->state == SC_UP && sc->head && s->cfg.server_timeout_ms > 0 &&
                   now - sc->since_ms > s->cfg.server_timeout_ms) {
            w->timeouts++;
            sconn_fail(sc, "reply timeout");
        } else if (sc->state != SC_CLOSED && !sc->head && (atomic_load(&sc->sh->removed) || sc->retired)) {
            sconn_close(sc);
        }
    }
}
