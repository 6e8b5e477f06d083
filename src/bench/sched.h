/*
 * sched.h — the open-loop schedule of one worker (bench role).
 *
 * With --rate R, request i of a worker is due at
 *
 *     at(i) = start + i * 1e9 / R   (nanoseconds, rounded to the nearest)
 *
 * whatever happened to the requests before it. Each worker owns one schedule
 * (its share of the rate) and sends a due request on any of its connections
 * that has a free slot; when none has, due requests wait in a backlog. The
 * latency of a request is measured from at(i), not from when it was written,
 * so a server that stalls is charged for every request that should have been
 * sent during the stall (coordinated omission corrected, as in wrk2).
 *
 * Each time is computed from i, never accumulated, so the schedule does not
 * drift: over [start, start + D) exactly ceil(R * D) requests are due (fewer
 * when limit is reached first). Pure arithmetic: no clock, no allocation, one
 * thread.
 */
#ifndef SCALEOUT_BENCH_SCHED_H
#define SCALEOUT_BENCH_SCHED_H

#include <stdint.h>

struct bench_sched {
    uint64_t start;   /* time of request 0, ns */
    double rate;      /* requests per second, > 0 */
    uint64_t next;    /* index of the next request to take */
    uint64_t limit;   /* requests in the schedule (UINT64_MAX: unbounded) */
};

#define BENCH_SCHED_NEVER UINT64_MAX

/* Start a schedule of `limit` requests (UINT64_MAX: unbounded) at `rate`/s. */
void bench_sched_init(struct bench_sched *s, uint64_t start_ns, double rate, uint64_t limit);
/* Intended time of request i, ns. */
uint64_t bench_sched_at(const struct bench_sched *s, uint64_t i);
/* Intended time of the next request, or BENCH_SCHED_NEVER once limit were taken. */
uint64_t bench_sched_next_at(const struct bench_sched *s);
/* Number of requests from `next` on whose intended time is <= now. */
uint64_t bench_sched_due(const struct bench_sched *s, uint64_t now_ns);
/* Take the next request: returns its intended time and advances (the caller
 * checked that one is due, or wants it early). BENCH_SCHED_NEVER when the
 * schedule is exhausted. */
uint64_t bench_sched_take(struct bench_sched *s);
/* Number of requests (from 0, capped by limit) whose intended time is < t. */
uint64_t bench_sched_count_before(const struct bench_sched *s, uint64_t t_ns);

#endif
