/*
 * rand.c — xoshiro256** per thread (see rand.h). Algorithm by Blackman and
 * Vigna (public domain description); written here from the paper.
 */
#include "core/rand.h"

#include <stdbool.h>
#include <sys/random.h>
#include <time.h>

static _Thread_local uint64_t s[4];
static _Thread_local bool seeded;

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rand_seed(uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        s[i] = splitmix(&seed);
    seeded = true;
}

uint64_t rand_secure64(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        v = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)&v;
    }
    return v;
}

uint64_t rand64(void)
{
    if (!seeded)
        rand_seed(rand_secure64());
    uint64_t r = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}
