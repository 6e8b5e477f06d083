/*
 * worker.h — one load-generating thread of the bench role (worker.c), and
 * what it shares with the controller (run.c).
 *
 * A worker owns an epoll loop, its connections and, in open loop, its share
 * of the schedule. Phases:
 *
 *   CONNECT ──all connections opened or failed once (bounded by --timeout)──▶
 *   RUN ──duration over / requests sent / SIGINT / nothing reachable (-n)──▶
 *   DRAIN ──every answer in, or min(--timeout, 2 s) with -d──▶ DONE
 *
 * Results go to the worker's current interval. The controller collects
 * intervals with a two-buffer flip, so neither side ever locks:
 *   - the controller bumps run->epoch to E;
 *   - the worker, at the top of its next loop turn (<= 10 ms later), starts
 *     writing into ivl[E & 1] and stores acked = E (release);
 *   - the controller sees acked == E (acquire), reads and zeroes
 *     ivl[(E + 1) & 1], the buffer written before the flip, and only then
 *     bumps the epoch again (so the worker never writes a buffer being read).
 * A worker that has finished (done, release) writes nothing more: both of its
 * buffers may then be read.
 */
#ifndef SCALEOUT_BENCH_WORKER_H
#define SCALEOUT_BENCH_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bench/bench.h"
#include "bench/sched.h"

/* Settings of one step, read-only for the workers (except epoch). */
struct bench_run {
    const struct bench_config *cfg;
    const struct bench_target *target;
    const struct bench_proto *proto;
    const void *shared;            /* the driver's object */
    uint64_t timeout_ns;
    uint64_t duration_ns;          /* 0: until the requests are done */
    uint32_t pipeline;
    uint32_t retry_max;            /* resends per request (0 unless idempotent) */
    bool open_loop;
    atomic_uint epoch;
};

struct bench_conn;

struct bench_worker {
    int id;
    struct bench_run *run;
    pthread_t thread;
    bool started;                  /* thread created */

    /* assignment */
    int nconns;
    double rate;                   /* open loop: this worker's share, req/s */
    uint64_t quota;                /* requests to send (UINT64_MAX: no limit) */

    /* rotation (see above) */
    struct bench_interval *ivl[2];
    unsigned epoch;                /* worker's view of run->epoch */
    struct bench_interval *cur;
    atomic_uint acked;
    atomic_bool done;

    /* results read by the controller after done */
    uint64_t start_ns, stop_ns;    /* the sending period (0 if never reached) */
    char first_error[256];
    bool gave_up;

    /* private to the worker thread (worker.c) */
    int epfd;
    int phase;
    struct bench_conn *conns;
    struct bench_conn **ready;     /* open loop: ring of connections with a free slot */
    uint32_t ready_head, ready_len;
    struct bench_conn **dirty;     /* connections with output to flush this turn */
    uint32_t ndirty;
    struct bench_sched sched;
    uint64_t sent_total;
    uint64_t send_end, drain_end, next_hk, last_alive, connect_end;
    uint32_t nopen;
};

/* Prepare worker i of run (memory only; no thread yet). */
void bench_worker_init(struct bench_worker *w, int id, struct bench_run *run, int nconns, double rate,
                       uint64_t quota);
void bench_worker_deinit(struct bench_worker *w);
/* Thread body: runs the phases above, then sets done. */
void *bench_worker_main(void *arg);

#endif
