/*
 * kvc.c — the app's kv client: a small pool of RESP connections on the app's
 * loop. Commands are pipelined: each connection keeps a FIFO of callbacks,
 * and since a RESP server answers in order, the n-th reply belongs to the
 * n-th callback. A command goes to the connection with the fewest pending
 * replies. Connections open lazily; when one fails every pending callback
 * gets reply NULL (the command may or may not have run) and the next
 * command reconnects, at most once per 100 ms, failing fast in between, so a
 * kv outage costs an error per request, not a hang.
 *
 * With sentinels (app_kv_set_sentinels) the address is the kv primary's as
 * the sentinels report it (SENTINEL get-master-addr-by-name): asked at the
 * first command, and again, at most once per 100 ms, after a connection
 * fails or kv answers -READONLY (a demoted primary); a connection to an
 * address that is no longer the primary's is closed before it is used. The
 * question is a short blocking exchange (200 ms timeout per sentinel) on
 * the app's loop: it happens only around a failover.
 *
 * With sentinels or a router (app_kv_set_retry) a command that fails is not
 * reported at once: it is sent again every 100 ms for up to kv-retry (see
 * "Retries" below), so a request waits through a failover.
 *
 * Replies are framed with proto/reply (resp_reply_parse) and decoded one
 * level deep into struct resp_value.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "app/app.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/net.h"
#include "core/util.h"
#include "proto/reply.h"
#include "net/sentinel_ask.h"

#define MAX_CONNS 64
#define RECONNECT_MS 100
#define MAX_PENDING 100000

struct pend {
    app_kv_cb cb;
    void *arg;
};

enum { C_DOWN, C_CONNECTING, C_UP };

struct kconn {
    struct app_kv *kv;
    uv_tcp_t *tcp;           /* NULL when down; freed in its close callback */
    int state;
    struct buf out, in;
    struct pend *q;          /* ring of pending callbacks */
    size_t qcap, qhead, qlen;
    struct resp_reply rp;
    long long last_fail_ms;
    bool writing;
    bool drop;               /* kv said -READONLY: closed after this read */
    int port;                /* where it connected */
    long long progress_ms;   /* last reply, or when the queue became non-empty */
};

struct app_kv {
    uv_loop_t *loop;
    char host[128];
    int port;
    int n;
    struct kconn c[MAX_CONNS];
    unsigned long long commands;
    struct net_sentinels sent;
    char master_name[64];
    bool stale;              /* ask the sentinels before the next connection */
    long long last_ask_ms;
    long long retry_ms;      /* a failed command is sent again for this long (0: fail fast) */
    unsigned long long retries;
    bool closing;
    struct op *waiting;      /* commands waiting for their next attempt */
    uv_timer_t *watch;       /* with retries: cuts connections that owe replies too long */
};

static void conn_fail(struct kconn *c, const char *why);
struct op;
static void ops_fail_waiting(struct app_kv *kv);
static void watch_closed(uv_handle_t *h);

static void q_push(struct kconn *c, app_kv_cb cb, void *arg)
{
    if (c->qlen == c->qcap) {
        size_t ncap = c->qcap ? c->qcap * 2 : 16;
        struct pend *nq = xmalloc(ncap * sizeof *nq);
        for (size_t i = 0; i < c->qlen; i++)
            nq[i] = c->q[(c->qhead + i) % c->qcap];
        xfree(c->q);
        c->q = nq;
        c->qcap = ncap;
        c->qhead = 0;
    }
    c->q[(c->qhead + c->qlen) % c->qcap] = (struct pend){cb, arg};
    c->qlen++;
}

static struct pend q_pop(struct kconn *c)
{
    struct pend p = c->q[c->qhead];
    c->qhead = (c->qhead + 1) % c->qcap;
    c->qlen--;
    return p;
}

static void on_close(uv_handle_t *h) { xfree(h); }

struct wreq {
    uv_write_t req;
    struct kconn *c;
    char *data;
};

static void flush(struct kconn *c);

static void on_write(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    struct kconn *c = w->c;
    xfree(w->data);
    xfree(w);
    if (!c)
        return;
    c->writing = false;
    if (status < 0) {
        if (c->state == C_UP)
            conn_fail(c, uv_strerror(status));
        return;
    }
    flush(c);
}

/* One write in flight per connection; what accumulates meanwhile goes next. */
static void flush(struct kconn *c)
{
    if (c->state != C_UP || c->writing || buf_pending(&c->out) == 0)
        return;
    struct wreq *w = xmalloc(sizeof *w);
    w->c = c;
    size_t n = buf_pending(&c->out);
    w->data = xmalloc(n);
    memcpy(w->data, buf_head(&c->out), n);
    buf_consume(&c->out, n);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)n);
    c->writing = true;
    int rc = uv_write(&w->req, (uv_stream_t *)c->tcp, &b, 1, on_write);
    if (rc < 0) {
        xfree(w->data);
        xfree(w);
        c->writing = false;
        conn_fail(c, uv_strerror(rc));
    }
}

static const char *line_end(const char *p, const char *end)
{
    const char *q = memchr(p, '\r', (size_t)(end - p));
    return q ? q : end;
}

/* Decode one scalar at p (a complete reply); returns the byte after it. */
static const char *decode_scalar(const char *p, const char *end, struct resp_value *r)
{
    const char *next = resp_value_scalar(p, end, r);
    if (!next) {
        r->type = RESP_VALUE_ERROR;
        r->str = "unexpected reply type";
        r->len = strlen(r->str);
    }
    return next;
}

static void deliver(struct kconn *c, const char *p, size_t len)
{
    struct pend pd = q_pop(c);
    const char *end = p + len;
    struct resp_value r;
    if (*p == '*') {
        long long n = 0;
        const char *le = line_end(p + 1, end);
        util_str2ll(p + 1, (size_t)(le - p - 1), &n);
        memset(&r, 0, sizeof r);
        if (n < 0) {
            r.type = RESP_VALUE_NIL;
            pd.cb(pd.arg, &r);
            return;
        }
        r.type = RESP_VALUE_ARRAY;
        r.nelem = (size_t)n;
        r.elem = xcalloc(n ? (size_t)n : 1, sizeof *r.elem);
        const char *q = le + 2;
        for (long long i = 0; i < n && q && q < end; i++)
            q = decode_scalar(q, end, &r.elem[i]);
        pd.cb(pd.arg, &r);
        xfree(r.elem);
        return;
    }
    decode_scalar(p, end, &r);
    if (c->kv->sent.n && r.type == RESP_VALUE_ERROR && r.len >= 8 && memcmp(r.str, "READONLY", 8) == 0) {
        c->kv->stale = true;
        c->drop = true;
    }
    pd.cb(pd.arg, &r);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct kconn *c = h->data;
    (void)hint;
    buf_reserve(&c->in, 16384);
    *b = uv_buf_init(buf_tail(&c->in), (unsigned)buf_room(&c->in));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct kconn *c = s->data;
    (void)b;
    if (nread < 0) {
        conn_fail(c, nread == UV_EOF ? "connection closed by kv" : uv_strerror((int)nread));
        return;
    }
    c->in.len += (size_t)nread;
    while (buf_pending(&c->in) > 0) {
        ssize_t n = resp_reply_parse(&c->rp, buf_head(&c->in), buf_pending(&c->in));
        if (n == RESP_REPLY_INCOMPLETE)
            break;
        if (n < 0 || c->qlen == 0) {
            conn_fail(c, n < 0 ? "protocol error from kv" : "unexpected reply from kv");
            return;
        }
        deliver(c, buf_head(&c->in), (size_t)n);
        c->progress_ms = util_time_ms();
        buf_consume(&c->in, (size_t)n);
    }
    if (c->drop && c->state == C_UP)
        conn_fail(c, "kv is read-only (no longer the primary)");
}

static void on_connect(uv_connect_t *req, int status)
{
    struct kconn *c = req->data;
    xfree(req);
    if (!c)
        return;
    if (status < 0) {
        conn_fail(c, uv_strerror(status));
        return;
    }
    c->state = C_UP;
    uv_tcp_nodelay(c->tcp, 1);
    uv_read_start((uv_stream_t *)c->tcp, on_alloc, on_read);
    flush(c);
}

static void conn_fail(struct kconn *c, const char *why)
{
    if (c->state != C_DOWN) {
        log_warn("kv %s:%d: %s", c->kv->host, c->port, why);
        c->kv->stale = true;
    }
    c->drop = false;
    c->last_fail_ms = util_time_ms();
    if (c->tcp) {
        c->tcp->data = NULL;
        uv_close((uv_handle_t *)c->tcp, on_close);
        c->tcp = NULL;
    }
    c->state = C_DOWN;
    c->writing = false;   /* a write still in flight reports to nobody: see on_write */
    buf_consume(&c->out, buf_pending(&c->out));
    buf_consume(&c->in, buf_pending(&c->in));
    resp_reply_init(&c->rp);
    while (c->qlen) {
        struct pend p = q_pop(c);
        p.cb(p.arg, NULL);
    }
}

static bool conn_open(struct kconn *c)
{
    if (util_time_ms() - c->last_fail_ms < RECONNECT_MS)
        return false;
    struct sockaddr_storage sa;
    if (uv_ip4_addr(c->kv->host, c->kv->port, (struct sockaddr_in *)&sa) != 0 &&
        uv_ip6_addr(c->kv->host, c->kv->port, (struct sockaddr_in6 *)&sa) != 0)
        return false;
    c->port = c->kv->port;
    c->tcp = xmalloc(sizeof *c->tcp);
    uv_tcp_init(c->kv->loop, c->tcp);
    c->tcp->data = c;
    uv_connect_t *req = xmalloc(sizeof *req);
    req->data = c;
    c->state = C_CONNECTING;
    if (uv_tcp_connect(req, c->tcp, (struct sockaddr *)&sa, on_connect) != 0) {
        xfree(req);
        conn_fail(c, "connect failed");
        return false;
    }
    return true;
}

/* Ask the sentinels, in turn, where the primary is (rate-limited). */
static void rediscover(struct app_kv *kv)
{
    long long now = util_time_ms();
    if (!kv->sent.n || !kv->stale || now - kv->last_ask_ms < RECONNECT_MS)
        return;
    kv->last_ask_ms = now;
    if (net_sentinels_follow(&kv->sent, kv->master_name, 200, kv->host, sizeof kv->host, &kv->port))
        kv->stale = false;
}

bool app_kv_set_sentinels(struct app_kv *kv, const char *list, const char *master_name)
{
    if (!net_sentinels_parse(&kv->sent, list))
        return false;
    if (!master_name || !*master_name || strlen(master_name) >= sizeof kv->master_name)
        return false;
    snprintf(kv->master_name, sizeof kv->master_name, "%s", master_name);
    kv->stale = kv->sent.n > 0;
    kv->last_ask_ms = -RECONNECT_MS;
    return true;
}

struct app_kv *app_kv_new(uv_loop_t *loop, const char *hostport, int nconns)
{
    struct app_kv *kv = xcalloc(1, sizeof *kv);
    kv->loop = loop;
    if (!net_split_hostport(hostport, kv->host, sizeof kv->host, &kv->port)) {
        xfree(kv);
        return NULL;
    }
    kv->n = nconns < 1 ? 1 : nconns > MAX_CONNS ? MAX_CONNS : nconns;
    for (int i = 0; i < kv->n; i++) {
        kv->c[i].kv = kv;
        buf_init(&kv->c[i].out);
        buf_init(&kv->c[i].in);
        resp_reply_init(&kv->c[i].rp);
        kv->c[i].last_fail_ms = -RECONNECT_MS;
    }
    return kv;
}

void app_kv_free(struct app_kv *kv)
{
    if (!kv)
        return;
    kv->closing = true;
    if (kv->watch) {
        uv_close((uv_handle_t *)kv->watch, watch_closed);
        kv->watch = NULL;
    }
    ops_fail_waiting(kv);
    for (int i = 0; i < kv->n; i++) {
        struct kconn *c = &kv->c[i];
        c->state = C_DOWN; /* so conn_fail stays quiet about it */
        conn_fail(c, "shutting down");
        buf_deinit(&c->out);
        buf_deinit(&c->in);
        xfree(c->q);
    }
    xfree(kv);
}

struct failed {
    uv_timer_t t;
    app_kv_cb cb;
    void *arg;
};

static void failed_closed(uv_handle_t *h) { xfree(h); }

static void failed_fire(uv_timer_t *t)
{
    struct failed *f = (struct failed *)t;
    f->cb(f->arg, NULL);
    uv_close((uv_handle_t *)t, failed_closed);
}

/* Queue one encoded command (cmd, len bytes of RESP) on the connection its
 * routing key picks; cb gets NULL on the next loop turn when kv is down. */
static void send_encoded(struct app_kv *kv, const char *rkey, size_t rlen, app_kv_cb cb, void *arg, const char *cmd,
                         size_t len)
{
    /* the key picks the connection: commands on one key stay in order (a GET
     * sent after a SET sees it; replies to one key arrive in sending order),
     * which the caches' single-flight table relies on */
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < rlen; i++)
        h = (h ^ (unsigned char)rkey[i]) * 16777619u;
    struct kconn *best = &kv->c[h % (uint32_t)kv->n];
    if (kv->sent.n) {
        rediscover(kv);
        if (best->state != C_DOWN && best->port != kv->port) {
            conn_fail(best, "kv primary moved");
            best->last_fail_ms = -RECONNECT_MS; /* reconnect to the new one now */
        }
    }
    if (best->state == C_DOWN)
        conn_open(best);
    if (best->state == C_DOWN || best->qlen >= MAX_PENDING) {
        /* callbacks never run inside the call: report on the next loop turn */
        struct failed *f = xmalloc(sizeof *f);
        uv_timer_init(kv->loop, &f->t);
        f->cb = cb;
        f->arg = arg;
        uv_timer_start(&f->t, failed_fire, 0, 0);
        return;
    }
    kv->commands++;
    buf_append(&best->out, cmd, len);
    if (best->qlen == 0)
        best->progress_ms = util_time_ms();
    q_push(best, cb, arg);
    flush(best);
}

/*
 * Retries. A command whose connection failed (kv died, or is being
 * replaced: the reply is NULL) or that a node refused because it is not
 * (yet) a writable primary (-READONLY, -LOADING, -MASTERDOWN) is sent again
 * every RETRY_MS until retry_ms after its first send; each attempt asks the
 * sentinels again (rate-limited in rediscover), so during a failover the
 * command waits for the new primary instead of failing the request. Only
 * then does the caller see the failure. A command on a connection that died
 * after sending it may have run: retried, it may run twice (an INCR of a
 * job id skips a number, a job id may be pushed twice: at-least-once, as
 * the workers are anyway).
 */
#define RETRY_MS 100

struct op {
    struct app_kv *kv;
    app_kv_cb cb;
    void *arg;
    long long deadline_ms;
    uv_timer_t *timer;       /* created on the first retry */
    struct op *prev, *next;  /* in kv->waiting while the timer runs */
    size_t rlen, len;
    char *rkey;              /* rkey and the encoded command, one allocation */
    char *cmd;
};

static void op_reply(void *arg, const struct resp_value *r);

static void op_timer_closed(uv_handle_t *h) { xfree(h); }

static void op_free(struct op *o)
{
    if (o->timer)
        uv_close((uv_handle_t *)o->timer, op_timer_closed);
    xfree(o->rkey);
    xfree(o);
}

static void op_unlink(struct op *o)
{
    if (o->prev)
        o->prev->next = o->next;
    else if (o->kv->waiting == o)
        o->kv->waiting = o->next;
    if (o->next)
        o->next->prev = o->prev;
    o->prev = o->next = NULL;
}

static void op_fire(uv_timer_t *t)
{
    struct op *o = t->data;
    op_unlink(o);
    o->kv->retries++;
    send_encoded(o->kv, o->rkey, o->rlen, op_reply, o, o->cmd, o->len);
}

static bool retryable(const struct resp_value *r)
{
    if (!r)
        return true;
    if (r->type != RESP_VALUE_ERROR)
        return false;
    static const char *const codes[] = {"READONLY", "LOADING", "MASTERDOWN"};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        size_t n = strlen(codes[i]);
        if (r->len >= n && memcmp(r->str, codes[i], n) == 0)
            return true;
    }
    /* the router, while a shard's primary is down or being replaced:
     * "-ERR shard NAME unavailable (...)" */
    static const char shard[] = "ERR shard ", unavail[] = " unavailable";
    if (r->len > sizeof shard && memcmp(r->str, shard, sizeof shard - 1) == 0) {
        for (size_t i = sizeof shard - 1; i + sizeof unavail - 1 <= r->len; i++)
            if (memcmp(r->str + i, unavail, sizeof unavail - 1) == 0)
                return true;
    }
    return false;
}

static void op_reply(void *arg, const struct resp_value *r)
{
    struct op *o = arg;
    if (retryable(r) && util_time_ms() < o->deadline_ms && !o->kv->closing) {
        if (!o->timer) {
            o->timer = xmalloc(sizeof *o->timer);
            uv_timer_init(o->kv->loop, o->timer);
            o->timer->data = o;
        }
        o->kv->stale = o->kv->sent.n > 0;
        o->next = o->kv->waiting;
        if (o->next)
            o->next->prev = o;
        o->kv->waiting = o;
        uv_timer_start(o->timer, op_fire, RETRY_MS, 0);
        return;
    }
    o->cb(o->arg, r);
    op_free(o);
}

static void cmd_routed(struct app_kv *kv, const char *rkey, size_t rlen, app_kv_cb cb, void *arg, int argc,
                       const char **argv, const size_t *lens)
{
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        buf_printf(&b, "$%zu\r\n", lens[i]);
        buf_append(&b, argv[i], lens[i]);
        buf_append(&b, "\r\n", 2);
    }
    if (kv->retry_ms <= 0) {
        send_encoded(kv, rkey, rlen, cb, arg, buf_head(&b), buf_pending(&b));
        buf_deinit(&b);
        return;
    }
    struct op *o = xcalloc(1, sizeof *o);
    o->kv = kv;
    o->cb = cb;
    o->arg = arg;
    o->deadline_ms = util_time_ms() + kv->retry_ms;
    o->rlen = rlen;
    o->len = buf_pending(&b);
    o->rkey = xmalloc(rlen + o->len + 1);
    memcpy(o->rkey, rkey, rlen);
    o->cmd = o->rkey + rlen;
    memcpy(o->cmd, buf_head(&b), o->len);
    buf_deinit(&b);
    send_encoded(kv, o->rkey, o->rlen, op_reply, o, o->cmd, o->len);
}

/* shutting down: the commands waiting for a retry fail now */
static void ops_fail_waiting(struct app_kv *kv)
{
    while (kv->waiting) {
        struct op *o = kv->waiting;
        op_unlink(o);
        uv_timer_stop(o->timer);
        o->cb(o->arg, NULL);
        op_free(o);
    }
}

/*
 * A primary that hangs (SIGSTOP, a stalled host) keeps its connections open
 * and never answers: with retries on, a connection that owes a reply for
 * REPLY_TIMEOUT_MS is cut, which fails its commands into the retry path
 * (and the sentinels are asked again). The app sends no blocking command
 * (its WAIT is bounded at 500 ms).
 */
#define REPLY_TIMEOUT_MS 2000

static void watch_tick(uv_timer_t *t)
{
    struct app_kv *kv = t->data;
    long long now = util_time_ms();
    for (int i = 0; i < kv->n; i++) {
        struct kconn *c = &kv->c[i];
        if (c->state != C_DOWN && c->qlen > 0 && now - c->progress_ms > REPLY_TIMEOUT_MS)
            conn_fail(c, "no reply in 2 s");
    }
}

static void watch_closed(uv_handle_t *h) { xfree(h); }

void app_kv_set_retry(struct app_kv *kv, long long ms)
{
    kv->retry_ms = ms;
    if (ms > 0 && !kv->watch) {
        kv->watch = xmalloc(sizeof *kv->watch);
        uv_timer_init(kv->loop, kv->watch);
        kv->watch->data = kv;
        uv_timer_start(kv->watch, watch_tick, 250, 250);
        uv_unref((uv_handle_t *)kv->watch);
    }
}

unsigned long long app_kv_retries(const struct app_kv *kv) { return kv->retries; }

void app_kv_cmd(struct app_kv *kv, app_kv_cb cb, void *arg, int argc, const char **argv, const size_t *lens)
{
    cmd_routed(kv, argc >= 2 ? argv[1] : "", argc >= 2 ? lens[1] : 0, cb, arg, argc, argv, lens);
}

void app_kv_wait(struct app_kv *kv, const char *key, long long replicas, long long timeout_ms, app_kv_cb cb, void *arg)
{
    char n[24], t[24];
    snprintf(n, sizeof n, "%lld", replicas);
    snprintf(t, sizeof t, "%lld", timeout_ms);
    const char *argv[] = {"WAIT", n, t};
    size_t lens[] = {4, strlen(n), strlen(t)};
    cmd_routed(kv, key, strlen(key), cb, arg, 3, argv, lens);
}

void app_kv_cmdv(struct app_kv *kv, app_kv_cb cb, void *arg, int argc, const char **argv)
{
    size_t lens[16];
    for (int i = 0; i < argc && i < 16; i++)
        lens[i] = strlen(argv[i]);
    app_kv_cmd(kv, cb, arg, argc > 16 ? 16 : argc, argv, lens);
}

unsigned long long app_kv_commands(const struct app_kv *kv) { return kv->commands; }
