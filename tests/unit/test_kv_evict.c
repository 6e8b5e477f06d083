/*
 * test_kv_evict.c — kv/evict.c's policy table: one row per policy gives the
 * policy, its maxmemory-policy name and value; names in CONFIG SET's order.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kv/evict.h"

Test(kv_evict, one_row_per_policy)
{
    static const char *const order[] = {"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
                                        "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction",
                                        "allkeys-fifo", "volatile-fifo"};
    cr_assert_eq(KV_EVICT__COUNT, (int)(sizeof order / sizeof order[0]));
    for (int i = 0; i < KV_EVICT__COUNT; i++) {
        cr_expect_str_eq(kv_policy_names[i].name, order[i]);
        cr_expect_str_eq(kv_policies[kv_policy_names[i].value]->name, kv_policy_names[i].name);
    }
    cr_expect_null(kv_policy_names[KV_EVICT__COUNT].name);
    cr_expect(kv_policies[KV_EVICT_NOEVICTION]->noevict);
    cr_expect(kv_policies[KV_EVICT_VOLATILE_TTL]->volatile_only);
}
