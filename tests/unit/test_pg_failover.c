/* test_pg_failover.c — the primary_conninfo rewrite and the SQL literal of failover.c. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/buf.h"
#include "pg/pg.h"

static void expect_repoint(const char *old, const char *addr, const char *want)
{
    struct buf b;
    buf_init(&b);
    cr_assert_eq(pg_conninfo_repoint(old, strlen(old), addr, &b), 0, "%s", old);
    buf_putc(&b, '\0');
    cr_expect_str_eq(buf_head(&b), want);
    buf_deinit(&b);
}

static void expect_bad(const char *old, const char *addr)
{
    struct buf b;
    buf_init(&b);
    cr_expect_eq(pg_conninfo_repoint(old, strlen(old), addr, &b), -1, "%s", old);
    buf_deinit(&b);
}

Test(pg_failover, conninfo_host_and_port_replaced)
{
    /* what pg_basebackup -R writes */
    expect_repoint("user=postgres passfile='/var/lib/postgresql/.pgpass' channel_binding=prefer host=127.0.0.1 "
                   "port=5432 sslmode=prefer application_name=r1",
                   "10.0.0.2:5433",
                   "user=postgres passfile='/var/lib/postgresql/.pgpass' channel_binding=prefer sslmode=prefer "
                   "application_name=r1 host=10.0.0.2 port=5433");
    expect_repoint("", "db2:5432", "host=db2 port=5432");
    expect_repoint("  hostaddr = 1.2.3.4  port= 1 user = 'a b\\'c' ", "h:2", "user = 'a b\\'c' host=h port=2");
    expect_repoint("password=p\\ q host=x", "[::1]:5432", "password=p\\ q host=[::1] port=5432");
}

Test(pg_failover, conninfo_errors)
{
    expect_bad("user", "h:1");
    expect_bad("user='unterminated", "h:1");
    expect_bad("=x", "h:1");
    expect_bad("user=x", "noport");
    expect_bad("user=x", "h:");
}

Test(pg_failover, sql_literal)
{
    struct buf b;
    buf_init(&b);
    pg_sql_literal(&b, "a'b\\c", 5);
    buf_putc(&b, '\0');
    cr_expect_str_eq(buf_head(&b), "E'a\\'b\\\\c'");
    buf_deinit(&b);
}
