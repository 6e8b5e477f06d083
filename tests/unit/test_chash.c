/*
 * test_chash.c — core/chash: determinism, ~1/N movement when members change
 * (and only to or from the changed member), weights, empty members, wrap-around.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "core/chash.h"

#define NKEYS 20000

static int owner(const struct chash *c, int key)
{
    char k[32];
    int n = snprintf(k, sizeof k, "user:%d", key);
    return chash_member_at(c, chash_find(c, chash_hash(k, (size_t)n)));
}

static const char *names[] = {"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80", "10.0.0.5:80"};
static const long long ones[] = {1, 1, 1, 1, 1};

Test(chash, deterministic)
{
    struct chash a, b;
    chash_init(&a);
    chash_init(&b);
    chash_build(&a, names, ones, 4);
    chash_build(&b, names, ones, 4);
    cr_assert_eq(a.npoints, 4 * CHASH_POINTS_PER_WEIGHT);
    for (int k = 0; k < 1000; k++)
        cr_assert_eq(owner(&a, k), owner(&b, k));
    chash_deinit(&a);
    chash_deinit(&b);
}

Test(chash, adding_a_member_moves_about_one_nth_and_only_to_it)
{
    struct chash four, five;
    chash_init(&four);
    chash_init(&five);
    chash_build(&four, names, ones, 4);
    chash_build(&five, names, ones, 5);
    int moved = 0;
    for (int k = 0; k < NKEYS; k++) {
        int a = owner(&four, k), b = owner(&five, k);
        if (a != b) {
            moved++;
            cr_assert_eq(b, 4, "key %d moved from %d to %d, not to the new member", k, a, b);
        }
    }
    /* ideal 1/5 = 20%; allow the ring's variance */
    cr_assert(moved > NKEYS * 0.15 && moved < NKEYS * 0.25, "moved %d of %d", moved, NKEYS);
    chash_deinit(&four);
    chash_deinit(&five);
}

Test(chash, weights_share_keys_proportionally)
{
    struct chash c;
    chash_init(&c);
    const long long w[] = {3, 1};
    chash_build(&c, names, w, 2);
    int first = 0;
    for (int k = 0; k < NKEYS; k++)
        first += owner(&c, k) == 0;
    cr_assert(first > NKEYS * 0.70 && first < NKEYS * 0.80, "weight 3:1 gave %d of %d", first, NKEYS);
    chash_deinit(&c);
}

Test(chash, zero_weight_members_get_nothing)
{
    struct chash c;
    chash_init(&c);
    const long long w[] = {1, 0, 1};
    chash_build(&c, names, w, 3);
    cr_assert_eq(c.npoints, 2 * CHASH_POINTS_PER_WEIGHT);
    for (int k = 0; k < 2000; k++)
        cr_assert_neq(owner(&c, k), 1);
    chash_deinit(&c);
}

Test(chash, find_wraps_past_the_last_point)
{
    struct chash c;
    chash_init(&c);
    chash_build(&c, names, ones, 2);
    cr_assert_eq(chash_find(&c, UINT64_MAX), c.ring[c.npoints - 1].h == UINT64_MAX ? c.npoints - 1 : 0);
    cr_assert_eq(chash_find(&c, 0), 0);
    size_t pos = chash_find(&c, c.ring[10].h);
    cr_assert_eq(c.ring[pos].h, c.ring[10].h);
    chash_deinit(&c);
}

/* The lookup index answers what the binary search answers: for points' own
 * hashes, their neighbours, the ends of the space and random hashes, on a
 * 64-bit ring and on a 32-bit one (nutcracker's layout uses only the low 32
 * bits of the space), of a few and of many points. */
static void index_matches(const struct chash *c)
{
    uint64_t x = 88172645463325252ull; /* xorshift */
    uint64_t top = c->ring[c->npoints - 1].h;
    for (size_t i = 0; i < c->npoints; i++) {
        uint64_t h = c->ring[i].h;
        cr_assert_eq(chash_find(c, h), chash_find_bsearch(c, h));
        cr_assert_eq(chash_find(c, h + 1), chash_find_bsearch(c, h + 1));
        cr_assert_eq(chash_find(c, h - 1), chash_find_bsearch(c, h - 1));
    }
    uint64_t edges[] = {0, 1, top, top + 1, UINT32_MAX, (uint64_t)UINT32_MAX + 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++)
        cr_assert_eq(chash_find(c, edges[i]), chash_find_bsearch(c, edges[i]));
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t h = (top >> 32) ? x : (x & UINT32_MAX);
        cr_assert_eq(chash_find(c, h), chash_find_bsearch(c, h));
    }
}

Test(chash, index_gives_the_binary_search_answer)
{
    struct chash c;
    chash_init(&c);
    chash_build(&c, names, ones, 5);
    cr_assert_not_null(c.idx);
    index_matches(&c);
    static const long long heavy[] = {100, 100, 100, 100, 100}; /* capped per member: many points */
    chash_build(&c, names, heavy, 5);
    index_matches(&c);
    /* 32-bit points, several on one value, and a ring of one point */
    struct chash_point pts[400];
    uint32_t y = 2463534242u;
    for (int i = 0; i < 400; i++) {
        y ^= y << 13, y ^= y >> 17, y ^= y << 5;
        pts[i].h = i % 50 == 7 ? pts[i - 1].h : y;
        pts[i].member = i % 3;
    }
    chash_build_points(&c, pts, 400, 3);
    index_matches(&c);
    chash_build_points(&c, pts, 1, 1);
    index_matches(&c);
    chash_deinit(&c);
}
