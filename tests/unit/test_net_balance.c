/*
 * test_net_balance.c — net/balance.c's table: every algorithm found by its
 * name and by each alias of its row (without case), nothing else; the
 * health-check table finds its kinds.
 */
#include <criterion/criterion.h>

#include "net/balance.h"
#include "net/health.h"

Test(net_balance, aliases_from_the_table)
{
    static const struct {
        const char *name;
        int id;
    } cases[] = {
        {"rr", NET_BALANCE_ROUNDROBIN},      {"RR", NET_BALANCE_ROUNDROBIN},
        {"weighted", NET_BALANCE_WRR},       {"swrr", NET_BALANCE_WRR},
        {"least_conn", NET_BALANCE_LEASTCONN}, {"leastconns", NET_BALANCE_LEASTCONN},
        {"consistent", NET_BALANCE_CHASH},   {"Consistent-Hash", NET_BALANCE_CHASH},
        {"leasttime", NET_BALANCE_LRT},      {"least-time", NET_BALANCE_LRT},
        {"random2", NET_BALANCE_P2C},        {"power-of-two", NET_BALANCE_P2C},
        {"iphash", NET_BALANCE_IPHASH},      {"hash", NET_BALANCE_HASH},
        {"", -1},                            {"least", -1},
        {"rr ", -1},                         {"weighted swrr", -1},
        {"consistent-hashx", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_eq(net_balance_find(cases[i].name), cases[i].id, "%s", cases[i].name);
    for (int i = 0; i < NET_BALANCE__COUNT; i++)
        cr_expect_eq(net_balance_find(net_balancers[i]->name), i);
}

Test(net_balance, health_kinds_table)
{
    cr_assert_eq(net_health_nkinds, NET_HEALTH__COUNT);
    cr_expect_eq(net_health_find("http"), NET_HEALTH_HTTP);
    cr_expect_eq(net_health_find("TCP"), NET_HEALTH_TCP);
    cr_expect_eq(net_health_find("ping"), -1);
}
