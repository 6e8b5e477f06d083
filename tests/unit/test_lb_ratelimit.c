/*
 * test_lb_ratelimit.c — the token buckets of lb/ratelimit.c.
 */
#include <criterion/criterion.h>
#include <stdint.h>

#include "lb/ratelimit.h"

Test(lb_ratelimit, bucket_bursts_then_refills)
{
    struct lb_ratelimit *rl = lb_ratelimit_new();
    long long t = 1000000;
    for (int i = 0; i < 5; i++)
        cr_assert_eq(lb_ratelimit_take(rl, 42, 10.0, 5.0, t), 0);
    long long wait = lb_ratelimit_take(rl, 42, 10.0, 5.0, t);
    cr_assert(wait >= 90 && wait <= 100, "wait %lld", wait);
    cr_assert_eq(lb_ratelimit_take(rl, 43, 10.0, 5.0, t), 0, "other clients have their own bucket");
    t += 100000; /* 100 ms: one token */
    cr_assert_eq(lb_ratelimit_take(rl, 42, 10.0, 5.0, t), 0);
    cr_assert_neq(lb_ratelimit_take(rl, 42, 10.0, 5.0, t), 0);
    /* many clients: the table stays bounded and keeps working */
    for (uint64_t k = 1; k < 200000; k++)
        lb_ratelimit_take(rl, k * 7919, 10.0, 5.0, t);
    lb_ratelimit_free(rl);
}
