/*
 * ratelimit.c — striped token-bucket table (see ratelimit.h).
 */
#include "lb/ratelimit.h"

#include <math.h>
#include <pthread.h>

#include "core/alloc.h"

#define STRIPES 16
#define SLOTS 1024
#define PROBES 8

struct slot {
    uint64_t key;       /* 0: empty */
    double tokens;
    long long at_us;
};

struct stripe {
    pthread_mutex_t lock;
    struct slot slots[SLOTS];
};

struct lb_ratelimit {
    struct stripe stripes[STRIPES];
};

struct lb_ratelimit *lb_ratelimit_new(void)
{
    struct lb_ratelimit *rl = xcalloc(1, sizeof *rl);
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&rl->stripes[i].lock, NULL);
    return rl;
}

void lb_ratelimit_free(struct lb_ratelimit *rl)
{
    if (!rl)
        return;
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&rl->stripes[i].lock);
    xfree(rl);
}

long long lb_ratelimit_take(struct lb_ratelimit *rl, uint64_t key, double rate, double burst, long long now_us)
{
    if (key == 0)
        key = 1;
    struct stripe *st = &rl->stripes[key % STRIPES];
    size_t base = (size_t)((key / STRIPES) % SLOTS);
    pthread_mutex_lock(&st->lock);
    struct slot *s = NULL, *victim = NULL;
    for (size_t i = 0; i < PROBES; i++) {
        struct slot *c = &st->slots[(base + i) % SLOTS];
        if (c->key == key) {
            s = c;
            break;
        }
        if (!victim || c->key == 0 || (victim->key != 0 && c->at_us < victim->at_us))
            victim = c;
    }
    if (!s) {
        s = victim;
        s->key = key;
        s->tokens = burst;
        s->at_us = now_us;
    }
    double t = s->tokens + (double)(now_us - s->at_us) * rate / 1e6;
    if (t > burst)
        t = burst;
    s->at_us = now_us;
    long long wait_ms = 0;
    if (t >= 1.0) {
        t -= 1.0;
    } else {
        wait_ms = (long long)ceil((1.0 - t) / rate * 1000.0);
        if (wait_ms < 1)
            wait_ms = 1;
    }
    s->tokens = t;
    pthread_mutex_unlock(&st->lock);
    return wait_ms;
}
