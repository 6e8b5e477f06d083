/*
 * test_admin.c — net/admin.c: which Host values the admin endpoint answers
 * (DNS-rebinding defence). The endpoint itself is exercised end to end by
 * tests/integration/test_admin_endpoint.py.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "net/admin.h"

static bool ok(const char *h, const char *bind, const char *allow)
{
    return admin_host_allowed(h, strlen(h), bind, allow);
}

Test(admin, loopback_names_and_addresses)
{
    static const char *yes[] = {"localhost", "LocalHost:18080", "localhost.", "127.0.0.1", "127.0.0.1:80",
                                "127.255.0.9", "[::1]", "[::1]:9", "[::ffff:127.0.0.1]:1"};
    static const char *no[] = {"", "evil.example", "localhost.evil", "127.0.0.1.nip.io", "127.1", "0x7f000001",
                               "10.0.0.1", "[::2]", "[::1", "[::ffff:10.0.0.1]", "::1", "localhost:80:90x"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        cr_assert(ok(yes[i], "127.0.0.1", NULL), "%s", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        cr_assert_not(ok(no[i], "127.0.0.1", NULL), "%s", no[i]);
}

Test(admin, bind_address_and_allow_list)
{
    cr_assert(ok("10.1.2.3:18080", "10.1.2.3", NULL));
    cr_assert(ok("[fd00::5]:1", "fd00::5", NULL));
    cr_assert_not(ok("0.0.0.0", "0.0.0.0", NULL), "a wildcard bind allows nothing by itself");
    cr_assert(ok("lb.internal:80", "127.0.0.1", "ops.example, lb.internal"));
    cr_assert(ok("OPS.EXAMPLE", "127.0.0.1", "ops.example lb.internal"));
    cr_assert_not(ok("lb.internal.evil", "127.0.0.1", "lb.internal"));
    cr_assert_not(ok("internal", "127.0.0.1", "lb.internal"));
    cr_assert(ok("anything", "127.0.0.1", "*"));
}
