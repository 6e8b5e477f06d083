/* test_pg_failover.c — failover.c: the primary_conninfo rewrite, the SQL literal, the state file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static struct pg_proxy *proxy3(char *path)
{
    struct pg_proxy *px = calloc(1, sizeof *px);
    px->nbackends = 3;
    snprintf(px->backends[0].name, sizeof px->backends[0].name, "10.0.0.1:5432");
    snprintf(px->backends[1].name, sizeof px->backends[1].name, "10.0.0.2:5432");
    snprintf(px->backends[2].name, sizeof px->backends[2].name, "10.0.0.3:5432");
    px->backends[1].replica = px->backends[2].replica = true;
    px->cfg.state_file = path;
    return px;
}

Test(pg_failover, state_file_round_trip)
{
    char path[] = "/tmp/test_pg_failover_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    struct pg_proxy *a = proxy3(path);
    a->primary = 2;
    a->backends[0].dead = true;
    cr_assert_eq(pg_state_save(a), 0);
    struct pg_proxy *b = proxy3(path);
    cr_assert_eq(pg_state_load(b), 0);
    cr_expect_eq(b->primary, 2);
    cr_expect(b->backends[0].dead);
    cr_expect(!b->backends[1].dead && !b->backends[2].dead);
    /* a state naming no backend of the config changes nothing */
    FILE *f = fopen(path, "w");
    fputs("primary 10.9.9.9:5432\nfenced 10.0.0.1:5432\n", f);
    fclose(f);
    struct pg_proxy *c = proxy3(path);
    cr_assert_eq(pg_state_load(c), 0);
    cr_expect_eq(c->primary, 0);
    cr_expect(!c->backends[0].dead);
    /* no file: nothing to restore */
    unlink(path);
    struct pg_proxy *d = proxy3(path);
    cr_expect_eq(pg_state_load(d), 0);
    cr_expect_eq(d->primary, 0);
    free(a), free(b), free(c), free(d);
}
