/*
 * chash.h — a consistent-hash ring (Karger et al.), shared by the roles that
 * spread keys over members: the lb's chash balancer today, the kv router next.
 *
 * Each member puts `points_per_weight * weight` points (capped) on a 64-bit
 * ring at XXH3(name, seed = point number); a key belongs to the first point at
 * or after its hash. Adding or removing a member moves only the keys of that
 * member's arcs, about 1/N of them; since points depend only on member names,
 * every process with the same names builds the same ring. Caller-owned struct;
 * not thread-safe (build one per thread, or build then only read).
 */
#ifndef SCALEOUT_CORE_CHASH_H
#define SCALEOUT_CORE_CHASH_H

#include <stddef.h>
#include <stdint.h>

#define CHASH_POINTS_PER_WEIGHT 100
#define CHASH_MAX_POINTS 10000 /* per member */

struct chash_point {
    uint64_t h;
    int member;
};

struct chash {
    struct chash_point *ring;
    size_t npoints, cap;
    int nmembers;
    /* lookup index built with the ring: idx[b] is the first position whose
     * point has h >> idx_shift >= b, for b in 0..idx_n-1, so a lookup is a
     * table read plus a short forward scan instead of a binary search (whose
     * unpredictable branches cost a proxy routing many keys a request) */
    uint32_t *idx;
    size_t idx_n;
    unsigned idx_shift;
};

void chash_init(struct chash *c);
void chash_deinit(struct chash *c);

/* Rebuild for members 0..n-1 with these names and weights (weight <= 0: no points). */
void chash_build(struct chash *c, const char *const *names, const long long *weights, int n);

/* Rebuild from the caller's points (any layout: another proxy's, or more
 * points per weight), copied and sorted; members 0..nmembers-1. */
void chash_build_points(struct chash *c, const struct chash_point *pts, size_t n, int nmembers);

/* Hash of a key, the same function the ring uses for its points. */
uint64_t chash_hash(const void *key, size_t len);

/*
 * Position on the ring of the first point at or after h (0..npoints-1); walk
 * on with chash_member_at(c, pos + i) to find the next members in ring order.
 * Undefined on an empty ring (npoints == 0).
 */
size_t chash_find(const struct chash *c, uint64_t h);
/* The same answer by binary search, without the index (tests compare them). */
size_t chash_find_bsearch(const struct chash *c, uint64_t h);
static inline int chash_member_at(const struct chash *c, size_t pos) { return c->ring[pos % c->npoints].member; }

#endif
