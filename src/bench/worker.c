/*
 * worker.c — the load-generating loop of the bench role (see worker.h).
 *
 * A plain epoll loop rather than libuv: the generator must cost less than
 * the server it measures (within 10% of wrk with one thread), so each request
 * is exactly one send() and each batch of responses one recv(), buffers are
 * reused for the whole run, nothing is allocated per request, and the open
 * loop sleeps with epoll_pwait2's nanosecond timeout (timer slack lowered to
 * 1 us) instead of libuv's millisecond timers, so requests leave on time.
 *
 * Per connection, a ring of `pipeline` slots holds each request in flight:
 * its latency start (intended time in open loop, send time in closed loop)
 * and its send time (for the timeout). Responses arrive in order, so the
 * oldest slot is always the one answered.
 *
 * Errors: a failed connect counts once and the connection retries with a
 * backoff (10 ms doubling to 1 s); a timeout, a reset, a close or an
 * unparseable response costs every request in flight on that connection
 * (timeout, closed, protocol) and the connection reopens at once.
 *
 * --retry-idempotent N (HTTP, idempotent method): when the connection closes,
 * resets or fails to send, the requests in flight that got no byte of their
 * answer yet are not lost but kept at the front of the ring (`nretry`) and
 * resent first when the connection reopens (a new socket), each at most N
 * times; their latency still counts from their first start. A request whose
 * answer had begun, a timeout or a protocol error is never retried. A failed
 * reconnect costs each kept request an attempt (the connection retries with
 * its backoff, in the drain too); one with none left is lost (closed).
 */
#include "bench/worker.h"

#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"

#define READ_CHUNK (64 * 1024)
#define MAX_EVENTS 256
#define HK_NS (10 * 1000 * 1000ULL)          /* housekeeping: timeouts, reconnects */
#define DRAIN_CAP_NS (2000 * 1000 * 1000ULL) /* -d: wait this long at most for the last answers */
#define BACKOFF_MIN_NS (10 * 1000 * 1000ULL)
#define BACKOFF_MAX_NS (1000 * 1000 * 1000ULL)
#define NEVER UINT64_MAX

enum { PH_CONNECT, PH_RUN, PH_DRAIN, PH_DONE };
enum { C_IDLE, C_CONNECTING, C_OPEN };

struct slot {
    uint64_t start;   /* latency is measured from here */
    uint64_t sent;    /* timeout is measured from here */
    uint32_t attempts; /* resends so far (--retry-idempotent) */
};

struct bench_conn {
    int fd;
    uint32_t idx;
    uint32_t gen;        /* bumped per socket: events of an old socket are ignored */
    uint8_t state;
    bool want_out;       /* EPOLLOUT registered */
    bool in_ready;       /* in the ready ring */
    bool is_dirty;       /* in the dirty list */
    bool ever_open;
    uint32_t failures;   /* consecutive failed connects */
    uint32_t head, inflight;
    uint32_t nretry;     /* closed: ring[0..nretry) wait to be resent */
    bool head_partial;   /* bytes of the oldest request's answer arrived */
    struct slot *ring;   /* run->pipeline slots */
    uint64_t t_event;    /* CONNECTING: since; IDLE: reconnect at */
    struct buf in, out;
    void *ps;            /* driver state */
};

/* Here rather than in run.c, which starts the workers: the workers read it,
 * and run.c and main.c set it, so the workers do not call back into run.c. */
atomic_bool bench_interrupted;

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void note_error(struct bench_worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Keep the first error message of the step, for the summary. */
static void note_error(struct bench_worker *w, const char *fmt, ...)
{
    if (w->first_error[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->first_error, sizeof w->first_error, fmt, ap);
    va_end(ap);
}

/* ---- epoll ---------------------------------------------------------------- */

static void ep_set(struct bench_worker *w, struct bench_conn *c, int op, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u64 = ((uint64_t)c->gen << 32) | c->idx};
    epoll_ctl(w->epfd, op, c->fd, &ev);
}

static void want_out(struct bench_worker *w, struct bench_conn *c, bool on)
{
    if (c->want_out == on)
        return;
    c->want_out = on;
    ep_set(w, c, EPOLL_CTL_MOD, EPOLLIN | (on ? EPOLLOUT : 0));
}

/* ---- ready ring and dirty list ------------------------------------------- */

static void ready_push(struct bench_worker *w, struct bench_conn *c)
{
    if (c->in_ready)
        return;
    c->in_ready = true;
    w->ready[(w->ready_head + w->ready_len) % (uint32_t)w->nconns] = c;
    w->ready_len++;
}

/* A connection that can take one more request now, or NULL. */
static struct bench_conn *ready_pop(struct bench_worker *w)
{
    while (w->ready_len) {
        struct bench_conn *c = w->ready[w->ready_head];
        w->ready_head = (w->ready_head + 1) % (uint32_t)w->nconns;
        w->ready_len--;
        c->in_ready = false;
        if (c->state == C_OPEN && c->inflight < w->run->pipeline)
            return c;
    }
    return NULL;
}

static void mark_dirty(struct bench_worker *w, struct bench_conn *c)
{
    if (c->is_dirty)
        return;
    c->is_dirty = true;
    w->dirty[w->ndirty++] = c;
}

/* ---- connection lifecycle ------------------------------------------------- */

static void conn_connect(struct bench_worker *w, struct bench_conn *c, uint64_t now);

static void conn_close_fd(struct bench_worker *w, struct bench_conn *c)
{
    if (c->fd >= 0) {
        if (c->state == C_OPEN)
            w->nopen--;
        close(c->fd); /* also leaves the epoll set */
        c->fd = -1;
    }
    c->state = C_IDLE;
    c->want_out = false;
    c->inflight = 0;
    c->head = 0;
    c->head_partial = false;
    buf_consume(&c->in, buf_pending(&c->in));
    buf_consume(&c->out, buf_pending(&c->out));
    buf_shrink(&c->in, READ_CHUNK);
}

/* The reconnect meant to resend ring[0..nretry) failed: that costs each of
 * them an attempt; those with none left are lost (closed). */
static void retries_connect_failed(struct bench_worker *w, struct bench_conn *c)
{
    uint32_t keep = 0;
    for (uint32_t i = 0; i < c->nretry; i++) {
        if (++c->ring[i].attempts < w->run->retry_max)
            c->ring[keep++] = c->ring[i];
        else
            w->cur->c.errors[BENCH_ERR_CLOSED]++;
    }
    c->nretry = keep;
}

/* The connection is gone: every request in flight is lost (the first as
 * `first_kind`, the rest as `rest_kind`), except, when it closed or reset
 * (`first_kind` closed), those --retry-idempotent keeps for a resend.
 * Reopens at once while sending, or while requests wait for a resend. */
static void conn_lost(struct bench_worker *w, struct bench_conn *c, enum bench_err first_kind,
                      enum bench_err rest_kind, uint64_t now)
{
    uint32_t p = w->run->pipeline, keep = 0, lost = 0;
    bool can_retry = w->run->retry_max > 0 && first_kind == BENCH_ERR_CLOSED;
    if (can_retry && c->inflight) {
        struct slot kept[BENCH_MAX_PIPELINE];
        for (uint32_t i = 0; i < c->inflight; i++) {
            const struct slot *s = &c->ring[(c->head + i) % p];
            if (s->attempts < w->run->retry_max && !(i == 0 && c->head_partial))
                kept[keep++] = *s;
            else
                lost++;
        }
        memcpy(c->ring, kept, keep * sizeof kept[0]);
    } else {
        lost = c->inflight;
    }
    if (lost) {
        w->cur->c.errors[first_kind]++;
        w->cur->c.errors[rest_kind] += lost - 1;
    }
    conn_close_fd(w, c);
    c->nretry = keep;
    if (w->phase == PH_RUN || w->phase == PH_CONNECT || (w->phase == PH_DRAIN && keep))
        conn_connect(w, c, now);
}

static void connect_failed(struct bench_worker *w, struct bench_conn *c, int err, uint64_t now)
{
    w->cur->c.errors[BENCH_ERR_CONNECT]++;
    note_error(w, "connect to %s:%d: %s", w->run->target->host, w->run->target->port, strerror(err));
    retries_connect_failed(w, c);
    conn_close_fd(w, c);
    c->failures++;
    uint64_t b = BACKOFF_MIN_NS << (c->failures > 7 ? 7 : c->failures - 1);
    c->t_event = now + (b > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : b);
}

static void send_one(struct bench_worker *w, struct bench_conn *c, uint64_t start, uint64_t now)
{
    w->run->proto->write_request(w->run->shared, &c->out);
    struct slot *s = &c->ring[(c->head + c->inflight) % w->run->pipeline];
    s->start = start;
    s->sent = now;
    s->attempts = 0;
    c->inflight++;
    w->cur->c.sent++;
    w->sent_total++;
    mark_dirty(w, c);
}

/* Closed loop: keep `pipeline` requests in flight while the quota lasts. */
static void fill(struct bench_worker *w, struct bench_conn *c, uint64_t now)
{
    while (c->inflight < w->run->pipeline && w->sent_total < w->quota)
        send_one(w, c, now, now);
}

static void conn_opened(struct bench_worker *w, struct bench_conn *c, uint64_t now)
{
    c->state = C_OPEN;
    w->nopen++;
    c->failures = 0;
    w->cur->c.connects++;
    if (c->ever_open)
        w->cur->c.reconnects++;
    c->ever_open = true;
    w->last_alive = now;
    w->run->proto->conn_reset(w->run->shared, c->ps);
    c->want_out = true; /* force the MOD below */
    want_out(w, c, false);
    if (c->nretry) {
        /* resend what the lost connection held, oldest first (ring[0..nretry)) */
        for (uint32_t i = 0; i < c->nretry; i++) {
            w->run->proto->write_request(w->run->shared, &c->out);
            c->ring[i].sent = now;
            c->ring[i].attempts++;
        }
        c->head = 0;
        c->inflight = c->nretry;
        w->cur->c.retried += c->nretry;
        c->nretry = 0;
        mark_dirty(w, c);
    }
    if (w->phase == PH_RUN) {
        if (w->run->open_loop)
            ready_push(w, c);
        else
            fill(w, c, now);
    }
}

static void conn_connect(struct bench_worker *w, struct bench_conn *c, uint64_t now)
{
    const struct bench_target *t = w->run->target;
    int fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        connect_failed(w, c, errno, now);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->gen++;
    c->head = c->inflight = 0;
    if (connect(fd, (const struct sockaddr *)&t->addr, t->addrlen) == 0) {
        ep_set(w, c, EPOLL_CTL_ADD, EPOLLIN);
        c->want_out = false;
        conn_opened(w, c, now);
        return;
    }
    if (errno != EINPROGRESS) {
        int e = errno;
        connect_failed(w, c, e, now);
        return;
    }
    c->state = C_CONNECTING;
    c->t_event = now;
    c->want_out = true;
    ep_set(w, c, EPOLL_CTL_ADD, EPOLLOUT);
}

static void conn_flush(struct bench_worker *w, struct bench_conn *c, uint64_t now)
{
    while (buf_pending(&c->out)) {
        ssize_t n = send(c->fd, buf_head(&c->out), buf_pending(&c->out), MSG_NOSIGNAL);
        if (n > 0) {
            w->cur->c.bytes_out += (uint64_t)n;
            buf_consume(&c->out, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            want_out(w, c, true);
            return;
        }
        note_error(w, "send to %s:%d: %s", w->run->target->host, w->run->target->port,
                   strerror(n < 0 ? errno : EPIPE));
        conn_lost(w, c, BENCH_ERR_CLOSED, BENCH_ERR_CLOSED, now);
        return;
    }
    want_out(w, c, false);
}

static void flush_dirty(struct bench_worker *w, uint64_t now)
{
    /* pop from the end: a connection re-marked while flushing (reconnected
     * and refilled) goes back in, and the list never holds one twice */
    while (w->ndirty) {
        struct bench_conn *c = w->dirty[--w->ndirty];
        c->is_dirty = false;
        if (c->state == C_OPEN && !c->want_out)
            conn_flush(w, c, now);
    }
}

/* ---- responses -------------------------------------------------------------- */

static void complete(struct bench_worker *w, struct bench_conn *c, const struct bench_response *r, uint64_t now)
{
    struct slot *s = &c->ring[c->head];
    c->head = (c->head + 1) % w->run->pipeline;
    c->inflight--;
    c->head_partial = false;
    struct bench_interval *iv = w->cur;
    hist_record(&iv->hist, now > s->start ? now - s->start : 0);
    iv->c.done++;
    if (r->status >= 100 && r->status <= 599) {
        int cls = r->status / 100;
        iv->c.status[cls]++;
        if (cls == 4)
            iv->c.errors[BENCH_ERR_HTTP_4XX]++;
        else if (cls == 5)
            iv->c.errors[BENCH_ERR_HTTP_5XX]++;
        if (cls >= 4 && !w->first_error[0])
            snprintf(w->first_error, sizeof w->first_error, "HTTP status %d", r->status);
    }
    if (r->error) {
        iv->c.errors[BENCH_ERR_RESP]++;
        if (!w->first_error[0])
            snprintf(w->first_error, sizeof w->first_error, "RESP error: %.*s",
                     (int)(r->msg_len > 200 ? 200 : r->msg_len), r->msg ? r->msg : "");
    }
}

/* Parse what arrived. Returns false if the connection was closed. */
static bool process(struct bench_worker *w, struct bench_conn *c, uint64_t now)
{
    const struct bench_run *run = w->run;
    while (buf_pending(&c->in)) {
        size_t used = 0;
        struct bench_response r;
        int rc = run->proto->parse(run->shared, c->ps, buf_head(&c->in), buf_pending(&c->in), &used, &r);
        if (used)
            buf_consume(&c->in, used);
        if (rc == BENCH_PARSE_MORE) {
            /* part of the oldest request's answer is here (parsed or buffered) */
            c->head_partial = c->head_partial || used || buf_pending(&c->in);
            break;
        }
        if (rc == BENCH_PARSE_ERROR || c->inflight == 0) {
            /* garbage, or an answer nobody asked for */
            if (c->inflight == 0)
                w->cur->c.errors[BENCH_ERR_PROTOCOL]++;
            note_error(w, "bad %s response from %s:%d%s", run->proto->name, run->target->host,
                       run->target->port, rc == BENCH_PARSE_ERROR ? "" : " (unsolicited)");
            conn_lost(w, c, BENCH_ERR_PROTOCOL, BENCH_ERR_CLOSED, now);
            return false;
        }
        complete(w, c, &r, now);
        if (r.close) {
            /* the server closes after this answer: what is still in flight is lost */
            conn_lost(w, c, BENCH_ERR_CLOSED, BENCH_ERR_CLOSED, now);
            return false;
        }
        if (w->phase == PH_RUN) {
            if (run->open_loop)
                ready_push(w, c);
            else
                fill(w, c, now);
        }
    }
    return true;
}

static void conn_readable(struct bench_worker *w, struct bench_conn *c)
{
    for (;;) {
        buf_reserve(&c->in, READ_CHUNK);
        size_t room = buf_room(&c->in);
        ssize_t n = recv(c->fd, buf_tail(&c->in), room, 0);
        if (n > 0) {
            uint64_t now = bench_now_ns();
            c->in.len += (size_t)n;
            w->cur->c.bytes_in += (uint64_t)n;
            if (!process(w, c, now))
                return;
            if ((size_t)n < room)
                return;
            continue;
        }
        uint64_t now = bench_now_ns();
        if (n == 0) {
            struct bench_response r;
            if (c->inflight && w->run->proto->eof(w->run->shared, c->ps, &r) == BENCH_PARSE_DONE)
                complete(w, c, &r, now);
            if (c->inflight)
                note_error(w, "%s:%d: connection closed by the server", w->run->target->host,
                           w->run->target->port);
            conn_lost(w, c, BENCH_ERR_CLOSED, BENCH_ERR_CLOSED, now);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        note_error(w, "recv from %s:%d: %s", w->run->target->host, w->run->target->port, strerror(errno));
        conn_lost(w, c, BENCH_ERR_CLOSED, BENCH_ERR_CLOSED, now);
        return;
    }
}

static void on_event(struct bench_worker *w, const struct epoll_event *ev)
{
    uint32_t idx = (uint32_t)ev->data.u64;
    uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
    if (idx >= (uint32_t)w->nconns)
        return;
    struct bench_conn *c = &w->conns[idx];
    if (c->gen != gen || c->fd < 0)
        return; /* an event of a socket closed earlier in this batch */
    if (c->state == C_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        uint64_t now = bench_now_ns();
        if (err == 0 && !(ev->events & (EPOLLERR | EPOLLHUP)))
            conn_opened(w, c, now);
        else
            connect_failed(w, c, err ? err : ECONNREFUSED, now);
        return;
    }
    if (c->state != C_OPEN)
        return;
    if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        conn_readable(w, c);
        if (c->state != C_OPEN || c->gen != gen)
            return;
    }
    if ((ev->events & EPOLLOUT) && c->want_out)
        conn_flush(w, c, bench_now_ns());
}

/* ---- phases ------------------------------------------------------------------ */

static uint64_t inflight_total(const struct bench_worker *w)
{
    uint64_t n = 0;
    for (int i = 0; i < w->nconns; i++)
        n += w->conns[i].inflight + w->conns[i].nretry;
    return n;
}

static void enter_run(struct bench_worker *w, uint64_t now)
{
    const struct bench_run *run = w->run;
    w->phase = PH_RUN;
    w->start_ns = now;
    w->last_alive = now;
    w->send_end = run->duration_ns ? now + run->duration_ns : NEVER;
    if (run->open_loop)
        bench_sched_init(&w->sched, now, w->rate, w->quota);
    for (int i = 0; i < w->nconns; i++) {
        struct bench_conn *c = &w->conns[i];
        if (c->state != C_OPEN)
            continue;
        if (run->open_loop)
            ready_push(w, c);
        else
            fill(w, c, now);
    }
}

static void enter_drain(struct bench_worker *w, uint64_t now)
{
    const struct bench_run *run = w->run;
    w->phase = PH_DRAIN;
    w->stop_ns = now < w->send_end ? now : w->send_end;
    if (run->open_loop) {
        uint64_t due = bench_sched_count_before(&w->sched, w->stop_ns);
        if (due > w->sched.next)
            w->cur->c.unsent += due - w->sched.next;
    }
    /* -n: every request in flight gets its whole timeout (and the
     * housekeeping turn that notices it); -d: at most DRAIN_CAP_NS more */
    uint64_t cap = run->timeout_ns + 3 * HK_NS;
    if (run->duration_ns && cap > DRAIN_CAP_NS)
        cap = DRAIN_CAP_NS;
    w->drain_end = now + cap;
    /* connections that are not open will not be needed again */
    for (int i = 0; i < w->nconns; i++)
        if (w->conns[i].state != C_OPEN && !w->conns[i].nretry)
            conn_close_fd(w, &w->conns[i]);
}

static void housekeeping(struct bench_worker *w, uint64_t now)
{
    const struct bench_run *run = w->run;
    if (w->nopen)
        w->last_alive = now;
    for (int i = 0; i < w->nconns; i++) {
        struct bench_conn *c = &w->conns[i];
        switch (c->state) {
        case C_OPEN:
            if (c->inflight && now - c->ring[c->head].sent >= run->timeout_ns) {
                note_error(w, "%s:%d: no answer within the timeout", run->target->host, run->target->port);
                conn_lost(w, c, BENCH_ERR_TIMEOUT, BENCH_ERR_TIMEOUT, now);
            }
            break;
        case C_CONNECTING:
            if (now - c->t_event >= run->timeout_ns)
                connect_failed(w, c, ETIMEDOUT, now);
            break;
        default:
            if ((w->phase == PH_RUN || w->phase == PH_CONNECT || (w->phase == PH_DRAIN && c->nretry)) &&
                now >= c->t_event)
                conn_connect(w, c, now);
            break;
        }
    }
    /* -n without -d: stop when no connection could be opened for --timeout */
    if (w->phase == PH_RUN && !run->duration_ns && w->nopen == 0 && now - w->last_alive >= run->timeout_ns) {
        w->gave_up = true;
        note_error(w, "giving up: %s:%d unreachable for the whole timeout", run->target->host,
                   run->target->port);
    }
}

static void check_phase(struct bench_worker *w, uint64_t now)
{
    const struct bench_run *run = w->run;
    if (w->phase == PH_CONNECT) {
        bool ready = true;
        for (int i = 0; i < w->nconns && ready; i++)
            if (w->conns[i].state != C_OPEN && w->conns[i].failures == 0)
                ready = false;
        if (ready || now >= w->connect_end || atomic_load_explicit(&bench_interrupted, memory_order_relaxed))
            enter_run(w, now);
    }
    if (w->phase == PH_RUN) {
        bool stop = now >= w->send_end || w->gave_up ||
                    atomic_load_explicit(&bench_interrupted, memory_order_relaxed) ||
                    (run->open_loop ? w->sched.next >= w->sched.limit : w->sent_total >= w->quota);
        if (stop)
            enter_drain(w, now);
    }
    if (w->phase == PH_DRAIN) {
        uint64_t left = inflight_total(w);
        if (left == 0 || now >= w->drain_end) {
            w->cur->c.cancelled += left;
            /* -n: the run lasts until the last answer; -d: the sending period */
            if (!run->duration_ns)
                w->stop_ns = now;
            for (int i = 0; i < w->nconns; i++) {
                w->conns[i].nretry = 0; /* counted as cancelled above */
                conn_close_fd(w, &w->conns[i]);
            }
            w->phase = PH_DONE;
        }
    }
}

/* Open loop: send every due request on a connection with a free slot. */
static void dispatch(struct bench_worker *w, uint64_t now)
{
    uint64_t at;
    while ((at = bench_sched_next_at(&w->sched)) <= now && at < w->send_end) {
        struct bench_conn *c = ready_pop(w);
        if (!c)
            return;
        send_one(w, c, bench_sched_take(&w->sched), now);
        if (c->inflight < w->run->pipeline)
            ready_push(w, c);
    }
}

static void rotate_if_asked(struct bench_worker *w)
{
    unsigned e = atomic_load_explicit(&w->run->epoch, memory_order_acquire);
    if (e == w->epoch)
        return;
    w->epoch = e;
    w->cur = w->ivl[e & 1];
    atomic_store_explicit(&w->acked, e, memory_order_release);
}

static int wait_events(int epfd, struct epoll_event *evs, uint64_t timeout_ns)
{
    static atomic_bool no_pwait2;
    if (!atomic_load_explicit(&no_pwait2, memory_order_relaxed)) {
        struct timespec ts = {(time_t)(timeout_ns / 1000000000ULL), (long)(timeout_ns % 1000000000ULL)};
        int n = epoll_pwait2(epfd, evs, MAX_EVENTS, &ts, NULL);
        if (n >= 0 || errno != ENOSYS)
            return n;
        atomic_store(&no_pwait2, true);
    }
    return epoll_wait(epfd, evs, MAX_EVENTS, (int)((timeout_ns + 999999) / 1000000));
}

void *bench_worker_main(void *arg)
{
    struct bench_worker *w = arg;
    const struct bench_run *run = w->run;
    if (run->open_loop)
        prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    rotate_if_asked(w);
    struct epoll_event evs[MAX_EVENTS];
    uint64_t now = bench_now_ns();
    w->connect_end = now + run->timeout_ns;
    w->next_hk = now + HK_NS;
    if (w->quota == 0 || w->nconns == 0) {
        w->phase = PH_DONE;
    } else {
        for (int i = 0; i < w->nconns; i++)
            conn_connect(w, &w->conns[i], now);
    }
    while (w->phase != PH_DONE) {
        rotate_if_asked(w);
        now = bench_now_ns();
        if (now >= w->next_hk) {
            housekeeping(w, now);
            w->next_hk = now + HK_NS;
        }
        check_phase(w, now);
        if (w->phase == PH_DONE)
            break;
        if (w->phase == PH_RUN && run->open_loop)
            dispatch(w, now);
        flush_dirty(w, now);

        uint64_t until = w->next_hk;
        if (w->phase == PH_RUN) {
            if (w->send_end < until)
                until = w->send_end;
            if (run->open_loop && w->ready_len) {
                uint64_t at = bench_sched_next_at(&w->sched);
                if (at < until)
                    until = at;
            }
        } else if (w->phase == PH_DRAIN && w->drain_end < until) {
            until = w->drain_end;
        }
        now = bench_now_ns();
        int n = wait_events(w->epfd, evs, until > now ? until - now : 0);
        for (int i = 0; i < n; i++)
            on_event(w, &evs[i]);
        flush_dirty(w, bench_now_ns());
    }
    if (!w->stop_ns && w->start_ns)
        w->stop_ns = bench_now_ns();
    atomic_store_explicit(&w->done, true, memory_order_release);
    return NULL;
}

/* ---- setup --------------------------------------------------------------------- */

void bench_worker_init(struct bench_worker *w, int id, struct bench_run *run, int nconns, double rate,
                       uint64_t quota)
{
    memset(w, 0, sizeof *w);
    w->id = id;
    w->run = run;
    w->nconns = nconns;
    w->rate = rate;
    w->quota = quota;
    w->ivl[0] = xmalloc(sizeof *w->ivl[0]);
    w->ivl[1] = xmalloc(sizeof *w->ivl[1]);
    for (int i = 0; i < 2; i++) {
        memset(&w->ivl[i]->c, 0, sizeof w->ivl[i]->c);
        hist_init(&w->ivl[i]->hist);
    }
    w->epoch = atomic_load(&run->epoch);
    w->cur = w->ivl[w->epoch & 1];
    atomic_init(&w->acked, w->epoch);
    atomic_init(&w->done, false);
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->conns = xcalloc((size_t)(nconns ? nconns : 1), sizeof *w->conns);
    w->ready = xcalloc((size_t)(nconns ? nconns : 1), sizeof *w->ready);
    w->dirty = xcalloc((size_t)(nconns ? nconns : 1), sizeof *w->dirty);
    for (int i = 0; i < nconns; i++) {
        struct bench_conn *c = &w->conns[i];
        c->fd = -1;
        c->idx = (uint32_t)i;
        c->ring = xcalloc(run->pipeline, sizeof *c->ring);
        c->ps = xcalloc(1, run->proto->conn_size);
        buf_init(&c->in);
        buf_init(&c->out);
    }
}

void bench_worker_deinit(struct bench_worker *w)
{
    for (int i = 0; i < w->nconns; i++) {
        struct bench_conn *c = &w->conns[i];
        if (c->fd >= 0)
            close(c->fd);
        xfree(c->ring);
        xfree(c->ps);
        buf_deinit(&c->in);
        buf_deinit(&c->out);
    }
    if (w->epfd >= 0)
        close(w->epfd);
    xfree(w->conns);
    xfree(w->ready);
    xfree(w->dirty);
    xfree(w->ivl[0]);
    xfree(w->ivl[1]);
}
