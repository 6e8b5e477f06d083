/*
 * test_router_sentinel.c — which replica a shard followed through sentinels
 * reads from (rt_sentinel_pick_replica, src/router/sentinel.c): link-ok
 * replicas first, the current one kept, never the primary, only nodes that
 * answer ROLE slave.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "router/proxy.h"

static const char *not_slave; /* is_replica says no for this address */

static bool fake_role(const char *addr)
{
    return !not_slave || strcmp(addr, not_slave) != 0;
}

static int pick(const struct rt_sent_rep *r, int n, const char *cur, const char *primary)
{
    return rt_sentinel_pick_replica(r, n, cur, primary, primary, fake_role);
}

Test(router_sentinel, link_ok_first_current_kept)
{
    struct rt_sent_rep r[3] = {{"10.0.0.1:1", false}, {"10.0.0.2:1", true}, {"10.0.0.3:1", true}};
    not_slave = NULL;
    cr_assert_eq(pick(r, 3, NULL, "10.0.0.9:1"), 1, "the first with its link up");
    cr_assert_eq(pick(r, 3, "10.0.0.3:1", "10.0.0.9:1"), 2, "the current one stays");
    cr_assert_eq(pick(r, 3, "10.0.0.1:1", "10.0.0.9:1"), 1, "a lagging current one gives way to a linked one");
}

Test(router_sentinel, link_down_only_when_no_other)
{
    struct rt_sent_rep r[2] = {{"10.0.0.1:1", false}, {"10.0.0.2:1", false}};
    not_slave = NULL;
    cr_assert_eq(pick(r, 2, NULL, "10.0.0.9:1"), 0);
    cr_assert_eq(pick(r, 2, "10.0.0.2:1", "10.0.0.9:1"), 1);
    cr_assert_eq(pick(r, 0, "10.0.0.2:1", "10.0.0.9:1"), -1, "none listed: none");
}

Test(router_sentinel, never_the_primary_and_only_replicas)
{
    struct rt_sent_rep r[2] = {{"10.0.0.1:1", true}, {"10.0.0.2:1", true}};
    not_slave = NULL;
    cr_assert_eq(pick(r, 2, NULL, "10.0.0.1:1"), 1, "the promoted node is still listed: skipped");
    cr_assert_eq(rt_sentinel_pick_replica(r, 2, NULL, "10.0.0.9:1", "10.0.0.1:1", fake_role), 1,
                 "the shard's primary now is skipped too");
    not_slave = "10.0.0.1:1"; /* an old primary back, not converted yet */
    cr_assert_eq(pick(r, 2, "10.0.0.1:1", "10.0.0.9:1"), 1);
    not_slave = "10.0.0.2:1";
    cr_assert_eq(pick(r, 2, NULL, "10.0.0.1:1"), -1, "the only candidate answers master: none");
}
