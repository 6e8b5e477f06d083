/*
 * rand.h — fast non-cryptographic per-thread PRNG (xoshiro256**), seeded from
 * getrandom() on first use in each thread. For sampling (eviction, expiry,
 * RANDOMKEY, load balancing), never for secrets.
 */
#ifndef SCALEOUT_CORE_RAND_H
#define SCALEOUT_CORE_RAND_H

#include <stdint.h>

uint64_t rand64(void);
/* Uniform in [0, n) (n > 0), without modulo bias worth noting for n << 2^64. */
static inline uint64_t rand_below(uint64_t n) { return (uint64_t)(((unsigned __int128)rand64() * n) >> 64); }
/* Seed this thread's generator (tests use it for repeatable runs). */
void rand_seed(uint64_t seed);
/* 64 random bits from the kernel (for hash seeds). */
uint64_t rand_secure64(void);

#endif
