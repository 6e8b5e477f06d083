/*
 * health.c — the active check scheduler: one timer per checked peer, one
 * probe connection at a time, rise/fall accounting (see health.h).
 *
 *   timer ──interval──▶ probe: connect ──▶ ops->connected ──▶ write ──▶ ops->data
 *     ▲                  │ error/EOF          │ 1/-1                    │ 1/-1
 *     │                  ▼                    ▼                         ▼
 *     └──── rearm ◀── result(ok, why): rise/fall ─▶ net_peer_set_check (pool gen++)
 *   The same timer fires `health-timeout` after the probe started: a probe
 *   still running then has failed.
 */
#include "net/health.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/log.h"

const struct net_health_ops *const net_health_kinds[NET_HEALTH__COUNT] = {
#define NET_X_ROW(id, sym) &sym,
    NET_HEALTH_KINDS(NET_X_ROW)
#undef NET_X_ROW
};
const int net_health_nkinds = NET_HEALTH__COUNT;

int net_health_find(const char *name)
{
    for (int i = 0; i < net_health_nkinds; i++)
        if (strcasecmp(net_health_kinds[i]->name, name) == 0)
            return i;
    return -1;
}

static long long probe_timeout(const struct net_pool_conf *c)
{
    return c->health_timeout_ms < c->health_interval_ms ? c->health_timeout_ms : c->health_interval_ms;
}

/* The timer's data: the peer and what the timer waits for. */
struct check {
    uv_timer_t timer;
    struct net_peer *peer;           /* a reference */
    bool running;                   /* a probe is out; the timer is its timeout */
    bool stopped;
    long long started;              /* loop time the probe started */
};

static void on_probe_closed(uv_handle_t *h)
{
    struct net_probe *pr = h->data;
    buf_deinit(&pr->in);
    buf_deinit(&pr->out);
    net_peer_unref(pr->peer);
    xfree(pr);
}

static void schedule(struct check *ck, long long delay);

/* Rise/fall accounting; the first probe of a peer decides at once. */
static void result(struct net_peer *p, bool ok, const char *why)
{
    const struct net_pool_conf *c = atomic_load(&p->pool->conf);
    atomic_fetch_add(&p->health_checks, 1);
    snprintf(p->last_check, sizeof p->last_check, "%s", ok ? "ok" : why);
    if (ok) {
        p->fall_run = 0;
        p->rise_run++;
        if (!atomic_load(&p->check_up) && (p->rise_run >= c->health_rise || !p->checked))
            net_peer_set_check(p, true);
    } else {
        atomic_fetch_add(&p->health_failures, 1);
        p->rise_run = 0;
        p->fall_run++;
        if (atomic_load(&p->check_up) && (p->fall_run >= c->health_fall || !p->checked))
            net_peer_set_check(p, false);
    }
    p->checked = true;
}

/* Report the probe's outcome once and close it. */
static void finish(struct net_probe *pr, bool ok)
{
    if (pr->finished)
        return;
    pr->finished = true;
    struct net_peer *p = pr->peer;
    if (p->probe == pr) {
        p->probe = NULL;
        result(p, ok, pr->why);
        struct check *ck = p->check_timer ? p->check_timer->data : NULL;
        if (ck && ck->running) {
            ck->running = false;
            const struct net_pool_conf *c = atomic_load(&p->pool->conf);
            schedule(ck, c->health_interval_ms - ((long long)uv_now(ck->timer.loop) - ck->started));
        }
    }
    uv_close((uv_handle_t *)&pr->tcp, on_probe_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    struct net_probe *pr = h->data;
    buf_reserve(&pr->in, 4096);
    *b = uv_buf_init(buf_tail(&pr->in), (unsigned)buf_room(&pr->in));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    struct net_probe *pr = s->data;
    if (pr->finished)
        return;
    if (n < 0) {
        snprintf(pr->why, sizeof pr->why, "%s before a complete answer",
                 n == UV_EOF ? "connection closed" : uv_strerror((int)n));
        finish(pr, false);
        return;
    }
    pr->in.len += (size_t)n;
    const struct net_pool_conf *c = atomic_load(&pr->peer->pool->conf);
    int rc = net_health_kinds[c->health]->data(pr, c);
    if (rc != 0)
        finish(pr, rc > 0);
}

static void on_written(uv_write_t *w, int status)
{
    struct net_probe *pr = w->data;
    if (status < 0 && !pr->finished) {
        snprintf(pr->why, sizeof pr->why, "write: %s", uv_strerror(status));
        finish(pr, false);
    }
}

static void on_connect(uv_connect_t *req, int status)
{
    struct net_probe *pr = req->data;
    if (pr->finished)
        return;
    if (status < 0) {
        snprintf(pr->why, sizeof pr->why, "connect: %s", uv_strerror(status));
        finish(pr, false);
        return;
    }
    const struct net_pool_conf *c = atomic_load(&pr->peer->pool->conf);
    if (c->health < 0) {
        finish(pr, true);
        return;
    }
    int rc = net_health_kinds[c->health]->connected(pr, c);
    if (rc != 0) {
        finish(pr, rc > 0);
        return;
    }
    if (buf_pending(&pr->out)) {
        pr->wreq.data = pr;
        uv_buf_t b = uv_buf_init(buf_head(&pr->out), (unsigned)buf_pending(&pr->out));
        if (uv_write(&pr->wreq, (uv_stream_t *)&pr->tcp, &b, 1, on_written) != 0) {
            snprintf(pr->why, sizeof pr->why, "write failed");
            finish(pr, false);
            return;
        }
    }
    uv_read_start((uv_stream_t *)&pr->tcp, on_alloc, on_read);
}

static void start_probe(struct check *ck)
{
    struct net_peer *p = ck->peer;
    struct net_probe *pr = xcalloc(1, sizeof *pr);
    net_peer_ref(p);
    pr->peer = p;
    buf_init(&pr->in);
    buf_init(&pr->out);
    uv_tcp_init(ck->timer.loop, &pr->tcp);
    pr->tcp.data = pr;
    pr->creq.data = pr;
    p->probe = pr;
    int r = uv_tcp_connect(&pr->creq, &pr->tcp, (const struct sockaddr *)&p->sa, on_connect);
    if (r != 0) {
        snprintf(pr->why, sizeof pr->why, "connect: %s", uv_strerror(r));
        finish(pr, false);
        return;
    }
    uv_tcp_nodelay(&pr->tcp, 1);
}

static void on_timer(uv_timer_t *t)
{
    struct check *ck = t->data;
    struct net_peer *p = ck->peer;
    const struct net_pool_conf *c = atomic_load(&p->pool->conf);
    if (ck->running) {
        /* the probe outlived health-timeout */
        ck->running = false;
        struct net_probe *pr = p->probe;
        if (pr) {
            snprintf(pr->why, sizeof pr->why, "timeout after %lld ms", probe_timeout(c));
            finish(pr, false);
        }
        schedule(ck, c->health_interval_ms - probe_timeout(c));
        return;
    }
    if (c->health < 0 || atomic_load(&p->admin) == NET_PEER_REMOVED)
        return;
    ck->running = true;
    ck->started = (long long)uv_now(t->loop);
    schedule(ck, probe_timeout(c));
    start_probe(ck);
}

static void schedule(struct check *ck, long long delay)
{
    if (ck->stopped)
        return;
    uv_timer_start(&ck->timer, on_timer, (uint64_t)(delay > 0 ? delay : 0), 0);
}

static void on_check_closed(uv_handle_t *h)
{
    struct check *ck = h->data;
    net_peer_unref(ck->peer);
    xfree(ck);
}

void net_health_stop(struct net_peer *p)
{
    if (p->probe) {
        struct net_probe *pr = p->probe;
        p->probe = NULL;
        pr->finished = true;
        uv_close((uv_handle_t *)&pr->tcp, on_probe_closed);
    }
    if (p->check_timer) {
        struct check *ck = p->check_timer->data;
        ck->stopped = true;
        uv_timer_stop(&ck->timer);
        uv_close((uv_handle_t *)&ck->timer, on_check_closed);
        p->check_timer = NULL;
    }
}

void net_health_start(uv_loop_t *loop, struct net_peer *p)
{
    net_health_stop(p);
    const struct net_pool_conf *c = atomic_load(&p->pool->conf);
    if (c->health < 0) {
        p->checked = false;
        p->rise_run = p->fall_run = 0;
        snprintf(p->last_check, sizeof p->last_check, "none");
        net_peer_set_check(p, true);
        return;
    }
    struct check *ck = xcalloc(1, sizeof *ck);
    net_peer_ref(p);
    ck->peer = p;
    uv_timer_init(loop, &ck->timer);
    ck->timer.data = ck;
    p->check_timer = &ck->timer;
    /* first probe at once, spread a little so that many peers do not probe together */
    schedule(ck, (long long)(p->id % 16));
}

void net_health_new_peer(struct net_peer *p)
{
    const struct net_pool_conf *c = atomic_load(&p->pool->conf);
    if (c->health >= 0) {
        atomic_store(&p->check_up, false);
        snprintf(p->last_check, sizeof p->last_check, "not checked yet");
    }
}
