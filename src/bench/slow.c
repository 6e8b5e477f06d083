/*
 * slow.c — `scaleout bench --slow N URL`: N clients that never finish a
 * request, to see what they cost a server's normal clients
 * (bench/slow-clients.sh).
 *
 * Each connection sends the opening of a request (the protocol's
 * slow_opening: an HTTP head without its end, or a RESP SET announcing a
 * 1 MB value) and then one more byte (slow_byte) per --slow-interval, never
 * the last one. What the server sends is read and dropped; when it closes
 * the connection (the lb's 408 at timeout-header, a kv `timeout`), the
 * client connects again at once, or at its next turn if its last connect
 * was less than an interval ago, so N stay open without a reconnect storm.
 *
 * Cost: one thread, one epoll loop and one timer. The timer ticks every
 * max(min(interval, 1 s) / N, --slow-tick) and visits the connections in turn, so
 * over each interval every connection is visited once and the visits are spread
 * evenly (N = 1,000, 1 s: one connection every 1 ms), not N timers and not a burst
 * once a second. The clients due in one tick send together: with
 * --slow-tick 10ms (the only pacing before 2026-11-30) ten every 10 ms, and a
 * server reads those ten in one turn of its loop, which a normal request
 * arriving then waits behind; independent clients would rarely line up so. A visit sends one byte (or starts a connect that is due).
 * The first connects are spread the same way over min(interval, 1 s).
 *
 * Output (stdout): "ready N" once all N are connected (or "only K of N
 * connected" if they are not after 30 s; it keeps trying), then at the end
 * "slow PROTO: N clients, opened A, reconnects B, connect failures C, closed
 * by the server D, open at the end E, bytes sent F, visits V in T ticks" (V
 * connection turns taken by T timer ticks: V / T clients send together). Runs for --duration (0: until
 * SIGINT/SIGTERM). Exit status 0, or 1 if the N were never all connected.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/alloc.h"
#include "core/buf.h"

#define SLOW_CONNECT_TIMEOUT_NS (5 * 1000 * 1000 * 1000ULL)
#define SLOW_READY_WAIT_NS (30 * 1000 * 1000 * 1000ULL)
#define SLOW_EVENTS 256
#define SLOW_RAMP_MAX_NS (1000 * 1000 * 1000ULL) /* the first connects take at most this long */

enum { SC_IDLE, SC_CONNECTING, SC_OPEN };

struct slow_conn {
    int fd;
    uint8_t state;
    bool ever_open;
    uint32_t gen;          /* bumped per socket: events of an old socket are ignored */
    uint64_t connect_at;   /* last connect attempt (ns) */
    long long sent;        /* slow bytes sent on this socket */
};

struct slow_run {
    const struct bench_proto *proto;
    const struct bench_target *t;
    struct slow_conn *c;
    size_t n;
    int epfd;
    uint64_t interval_ns;
    uint64_t tick_min_ns; /* --slow-tick */
    struct buf opening;
    size_t open;           /* connections in SC_OPEN */
    size_t ramp;           /* connections started for the first time so far */
    uint64_t opened, reconnects, connect_failures, server_closed, bytes_sent;
    uint64_t visits, visit_ticks; /* connection turns taken, and the ticks that took any */
};

static void conn_close(struct slow_run *r, struct slow_conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(r->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    if (c->state == SC_OPEN)
        r->open--;
    c->fd = -1;
    c->state = SC_IDLE;
}

static void ep_set(struct slow_run *r, struct slow_conn *c, int op, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u64 = ((uint64_t)c->gen << 32) | (uint64_t)(c - r->c)};
    epoll_ctl(r->epfd, op, c->fd, &ev);
}

static void conn_failed(struct slow_run *r, struct slow_conn *c)
{
    r->connect_failures++;
    conn_close(r, c);
}

/* The connect finished: send the opening. */
static void conn_opened(struct slow_run *r, struct slow_conn *c)
{
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
        conn_failed(r, c);
        return;
    }
    ssize_t w = send(c->fd, buf_head(&r->opening), buf_pending(&r->opening), MSG_NOSIGNAL);
    if (w != (ssize_t)buf_pending(&r->opening)) {
        conn_failed(r, c); /* a fresh socket takes a hundred bytes at once, or is broken */
        return;
    }
    c->state = SC_OPEN;
    c->sent = 0;
    r->bytes_sent += (uint64_t)w;
    r->open++;
    r->opened++;
    if (c->ever_open)
        r->reconnects++;
    c->ever_open = true;
    ep_set(r, c, EPOLL_CTL_MOD, EPOLLIN | EPOLLRDHUP);
}

static void conn_start(struct slow_run *r, struct slow_conn *c, uint64_t now)
{
    c->connect_at = now;
    c->gen++;
    c->fd = socket(r->t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        r->connect_failures++;
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* each byte leaves at once */
    int rc = connect(c->fd, (const struct sockaddr *)&r->t->addr, r->t->addrlen);
    if (rc != 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        r->connect_failures++;
        return;
    }
    c->state = SC_CONNECTING;
    ep_set(r, c, EPOLL_CTL_ADD, EPOLLOUT);
}

/* One turn of connection c: a byte, or a connect that is due. */
static void conn_visit(struct slow_run *r, struct slow_conn *c, uint64_t now)
{
    switch (c->state) {
    case SC_IDLE: /* turns come once per interval: that paces the reconnects */
        conn_start(r, c, now);
        break;
    case SC_CONNECTING:
        if (now - c->connect_at > SLOW_CONNECT_TIMEOUT_NS)
            conn_failed(r, c);
        break;
    case SC_OPEN:
        if (r->proto->slow_max > 0 && c->sent >= r->proto->slow_max)
            break; /* the request stays one byte short of complete */
        if (send(c->fd, &r->proto->slow_byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) {
            c->sent++;
            r->bytes_sent++;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            r->server_closed++;
            conn_close(r, c);
        }
        break;
    }
}

/* Input on an open connection: dropped; a close or reset ends it and the
 * client connects again (at once, unless its last connect is recent). */
static void conn_input(struct slow_run *r, struct slow_conn *c, uint32_t events, uint64_t now)
{
    char scratch[4096];
    bool gone = (events & (EPOLLERR | EPOLLHUP)) != 0;
    for (int i = 0; i < 16 && !gone; i++) {
        ssize_t got = recv(c->fd, scratch, sizeof scratch, MSG_DONTWAIT);
        if (got > 0)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (got < 0 && errno == EINTR)
            continue;
        gone = true;
    }
    if (!gone)
        return;
    r->server_closed++;
    conn_close(r, c);
    if (now - c->connect_at >= r->interval_ns)
        conn_start(r, c, now);
}

static int slow_loop(struct slow_run *r, uint64_t duration_ns)
{
    uint64_t t0 = bench_now_ns();
    uint64_t visits = 0; /* turns taken since t0 */
    uint64_t ramp_ns = r->interval_ns < SLOW_RAMP_MAX_NS ? r->interval_ns : SLOW_RAMP_MAX_NS;
    uint64_t tick = ramp_ns / r->n; /* interval / N, or finer for the first connects */
    if (tick < r->tick_min_ns)
        tick = r->tick_min_ns;
    uint64_t next_tick = t0;
    bool ready = false, warned = false;
    struct epoll_event evs[SLOW_EVENTS];
    for (;;) {
        uint64_t now = bench_now_ns();
        if (atomic_load(&bench_interrupted) || (duration_ns > 0 && now - t0 >= duration_ns))
            break;
        if (now >= next_tick) {
            /* the turns due by now: N per interval, in order, spread evenly */
            uint64_t due = (uint64_t)((unsigned __int128)(now - t0) * r->n / r->interval_ns) + 1;
            if (due > visits + r->n)
                visits = due - r->n; /* after a stall: one round at most, no burst */
            if (visits < due)
                r->visit_ticks++;
            r->visits += due > visits ? due - visits : 0;
            for (; visits < due; visits++)
                conn_visit(r, &r->c[visits % r->n], now);
            /* the first connects, spread over min(interval, 1 s) */
            size_t opened_due = (size_t)((unsigned __int128)(now - t0) * r->n / ramp_ns) + 1;
            for (; r->ramp < r->n && r->ramp < opened_due; r->ramp++)
                if (r->c[r->ramp].state == SC_IDLE && !r->c[r->ramp].ever_open && r->c[r->ramp].connect_at == 0)
                    conn_start(r, &r->c[r->ramp], now);
            next_tick += tick;
            if (next_tick <= now)
                next_tick = now + tick;
            if (!ready && r->open == r->n) {
                ready = true;
                printf("ready %zu\n", r->open);
                fflush(stdout);
            } else if (!ready && !warned && now - t0 > SLOW_READY_WAIT_NS) {
                warned = true;
                printf("only %zu of %zu connected\n", r->open, r->n);
                fflush(stdout);
            }
        }
        uint64_t wait_ns = next_tick > now ? next_tick - now : 0;
        int ms = (int)((wait_ns + 999999) / 1000000);
        int k = epoll_wait(r->epfd, evs, SLOW_EVENTS, ms);
        if (k < 0 && errno != EINTR)
            break;
        now = bench_now_ns();
        for (int i = 0; i < k; i++) {
            uint32_t idx = (uint32_t)evs[i].data.u64, gen = (uint32_t)(evs[i].data.u64 >> 32);
            if (idx >= r->n)
                continue;
            struct slow_conn *c = &r->c[idx];
            if (c->gen != gen || c->fd < 0)
                continue;
            if (c->state == SC_CONNECTING)
                conn_opened(r, c);
            else if (c->state == SC_OPEN)
                conn_input(r, c, evs[i].events, now);
        }
    }
    return ready ? 0 : 1;
}

int bench_slow_main(const struct bench_config *cfg, const struct bench_target *t)
{
    struct slow_run r;
    memset(&r, 0, sizeof r);
    r.proto = t->proto;
    r.t = t;
    r.n = (size_t)cfg->slow;
    r.interval_ns = (uint64_t)cfg->slow_interval_ms * 1000000ULL;
    r.tick_min_ns = (uint64_t)cfg->slow_tick_ms * 1000000ULL;
    r.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (r.epfd < 0) {
        fprintf(stderr, "scaleout bench: epoll_create1: %s\n", strerror(errno));
        return 1;
    }
    r.c = xcalloc(r.n, sizeof *r.c);
    for (size_t i = 0; i < r.n; i++)
        r.c[i].fd = -1;
    buf_init(&r.opening);
    r.proto->slow_opening(t, &r.opening);
    fprintf(stderr, "scaleout bench: %zu slow %s clients on %s:%d, one byte each per %lld ms, %s\n", r.n,
            r.proto->name, t->host, t->port, cfg->slow_interval_ms,
            cfg->duration_ms > 0 ? "for the duration" : "until stopped");
    int status = slow_loop(&r, (uint64_t)cfg->duration_ms * 1000000ULL);
    size_t open_end = r.open;
    for (size_t i = 0; i < r.n; i++)
        conn_close(&r, &r.c[i]);
    printf("slow %s: %zu clients, opened %llu, reconnects %llu, connect failures %llu, closed by the server %llu, "
           "open at the end %zu, bytes sent %llu, visits %llu in %llu ticks\n",
           r.proto->name, r.n, (unsigned long long)r.opened, (unsigned long long)r.reconnects,
           (unsigned long long)r.connect_failures, (unsigned long long)r.server_closed, open_end,
           (unsigned long long)r.bytes_sent, (unsigned long long)r.visits, (unsigned long long)r.visit_ticks);
    fflush(stdout);
    buf_deinit(&r.opening);
    xfree(r.c);
    close(r.epfd);
    if (atomic_load(&bench_interrupted) && status == 0)
        return 0;
    return status;
}
