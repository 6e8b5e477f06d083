/*
 * sched.c — open-loop schedule arithmetic (see sched.h).
 */
#include "bench/sched.h"

#include <math.h>

void bench_sched_init(struct bench_sched *s, uint64_t start_ns, double rate, uint64_t limit)
{
    s->start = start_ns;
    s->rate = rate > 0 ? rate : 1;
    s->next = 0;
    s->limit = limit;
}

uint64_t bench_sched_at(const struct bench_sched *s, uint64_t i)
{
    double off = nearbyint((double)i * 1e9 / s->rate);
    if (off >= 1.8e19)
        return BENCH_SCHED_NEVER - 1;
    return s->start + (uint64_t)off;
}

uint64_t bench_sched_next_at(const struct bench_sched *s)
{
    if (s->next >= s->limit)
        return BENCH_SCHED_NEVER;
    return bench_sched_at(s, s->next);
}

uint64_t bench_sched_count_before(const struct bench_sched *s, uint64_t t)
{
    if (t <= s->start)
        return 0;
    /* estimate, then correct the rounding at the edge so that the answer
     * agrees exactly with bench_sched_at() */
    double est = floor((double)(t - s->start) * s->rate / 1e9);
    uint64_t n = est >= 1.8e19 ? UINT64_MAX - 1 : (uint64_t)est + 1;
    if (n > s->limit)
        n = s->limit;
    while (n > 0 && bench_sched_at(s, n - 1) >= t)
        n--;
    while (n < s->limit && bench_sched_at(s, n) < t)
        n++;
    return n;
}

uint64_t bench_sched_due(const struct bench_sched *s, uint64_t now)
{
    if (s->next >= s->limit || now < s->start)
        return 0;
    uint64_t n = now == UINT64_MAX ? s->limit : bench_sched_count_before(s, now + 1);
    return n > s->next ? n - s->next : 0;
}

uint64_t bench_sched_take(struct bench_sched *s)
{
    if (s->next >= s->limit)
        return BENCH_SCHED_NEVER;
    return bench_sched_at(s, s->next++);
}
