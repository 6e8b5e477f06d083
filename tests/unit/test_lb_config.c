/*
 * test_lb_config.c — the lb configuration (lb/config.c): the one-line flags,
 * sections, every error with file:line, cross-section validation, and that
 * `scaleout check`'s path (core conf_load_file on lb_conf_table) accepts a
 * good file and names the line of a bad directive.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "net/balance.h"
#include "lb/lb.h"

static char path[64];

static const char *write_tmp(const char *text)
{
    snprintf(path, sizeof path, "/tmp/scaleout-lbconf-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static int load(struct lb_config *c, const char *text, int argc, char **argv, struct buf *errs)
{
    lb_config_init(c);
    buf_init(errs);
    const char *p = text ? write_tmp(text) : NULL;
    int n = lb_config_load(c, p, argc, argv, errs);
    buf_putc(errs, '\0');
    if (p)
        unlink(p);
    return n;
}

Test(lb_config, one_line_form)
{
    char *argv[] = {"--listen", "127.0.0.1:8080", "--backend", "127.0.0.1:8101", "--backend", "127.0.0.1:8102 weight 3",
                    "--balance", "leastconn", "--health", "/health", "--threads", "2"};
    struct lb_config c;
    struct buf errs;
    cr_assert_eq(load(&c, NULL, 12, argv, &errs), 0, "%s", buf_head(&errs));
    cr_assert_eq(c.threads, 2);
    cr_assert_eq(c.sec->nlisteners, 1);
    struct lb_listener_conf *l = c.sec->listeners[0];
    cr_assert_eq(l->port, 8080);
    cr_assert_str_eq(l->default_pool, "default");
    struct lb_pool_conf *p = lb_config_find_pool(&c, "default");
    cr_assert_not_null(p);
    cr_assert_eq(p->nbackends, 2);
    cr_assert_eq(p->backends[1].weight, 3);
    cr_assert_eq(p->base.balance, NET_BALANCE_LEASTCONN);
    cr_assert_str_eq(p->base.health_path, "/health");
    buf_deinit(&errs);
    lb_config_deinit(&c);
}

Test(lb_config, sections_and_routes)
{
    const char *text = "role lb\n"
                       "threads 1\n"
                       "pool api\n"
                       "  balance chash header X-User\n"
                       "  backend 127.0.0.1:9001 weight 2 name api1\n"
                       "  backend 127.0.0.1:9002 maxconn 10\n"
                       "  health http /ready expect 204\n"
                       "  retries 0\n"
                       "pool web\n"
                       "  backend 127.0.0.1:9003\n"
                       "listener front 127.0.0.1:8080\n"
                       "  route host api.example.com path /v1/ pool api\n"
                       "  route header X-Canary yes pool api\n"
                       "  default-pool web\n"
                       "  rate-limit 100 200\n"
                       "listener raw 127.0.0.1:8081\n"
                       "  mode tcp\n"
                       "  default-pool web\n";
    struct lb_config c;
    struct buf errs;
    cr_assert_eq(load(&c, text, 0, NULL, &errs), 0, "%s", buf_head(&errs));
    cr_assert_eq(c.sec->npools, 2);
    struct lb_pool_conf *api = lb_config_find_pool(&c, "api");
    cr_assert_eq(api->key, LB_KEY_HEADER);
    cr_assert_str_eq(api->key_name, "X-User");
    cr_assert_str_eq(api->backends[0].name, "api1");
    cr_assert_eq(api->backends[1].maxconn, 10);
    cr_assert_eq(api->base.health_expect, 204);
    cr_assert_eq(api->retries, 0);
    struct lb_listener_conf *f = c.sec->listeners[0];
    cr_assert_eq(f->nroutes, 2);
    cr_assert_eq(f->routes[0].nconds, 2);
    cr_assert_eq(f->routes[0].line, 12);
    cr_assert_eq(f->rate, 100);
    cr_assert_eq(f->burst, 200);
    cr_assert_eq(c.sec->listeners[1]->mode, LB_MODE_TCP);
    buf_deinit(&errs);
    lb_config_deinit(&c);
}

Test(lb_config, every_error_with_its_line)
{
    const char *text = "role lb\n"
                       "balance nosuch\n"                       /* 2 */
                       "pool a\n"
                       "  backend nothing\n"                    /* 4 */
                       "  backend 127.0.0.1:1 weight 0\n"       /* 5 */
                       "  timeout-header 5s\n"                  /* 6: a listener directive */
                       "  balance hash\n"                       /* 7: no key */
                       "  health ftp\n"                         /* 8 */
                       "listener l 127.0.0.1:1\n"
                       "  route path nope pool a\n"             /* 10 */
                       "  backend 127.0.0.1:2\n"                /* 11: a pool directive */
                       "frobnicate 1\n";                        /* 12 */
    struct lb_config c;
    struct buf errs;
    int n = load(&c, text, 0, NULL, &errs);
    const char *e = buf_head(&errs);
    cr_assert_eq(n, 9, "%s", e);
    const char *lines[] = {":2: unknown algorithm", ":4: ", ":5: backend weight", ":6: 'timeout-header' is a listener",
                           ":7: 'balance hash' needs a key", ":8: ", ":10: a route path", ":11: 'backend' is a pool",
                           ":12: unknown directive"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        cr_assert(strstr(e, lines[i]), "missing %s in:\n%s", lines[i], e);
    buf_deinit(&errs);
    lb_config_deinit(&c);
}

Test(lb_config, cross_section_errors_name_the_section)
{
    const char *text = "pool a\n"
                       "  balance lrt\n"
                       "  backend 127.0.0.1:9001\n"
                       "listener l 127.0.0.1:8080\n"
                       "  route path /x pool missing\n"
                       "  default-pool a\n"
                       "listener t 127.0.0.1:8081\n"
                       "  mode tcp\n"
                       "  default-pool a\n";
    struct lb_config c;
    struct buf errs;
    int n = load(&c, text, 0, NULL, &errs);
    const char *e = buf_head(&errs);
    cr_assert_eq(n, 2, "%s", e);
    cr_assert(strstr(e, ":5: listener 'l': route to pool 'missing'"), "%s", e);
    cr_assert(strstr(e, ":1: pool 'a' is used by tcp listener 't' but needs HTTP"), "%s", e);
    buf_deinit(&errs);
    lb_config_deinit(&c);
}

Test(lb_config, no_listener_is_an_error)
{
    char *argv[] = {"--backend", "127.0.0.1:8101"};
    struct lb_config c;
    struct buf errs;
    cr_assert_eq(load(&c, NULL, 2, argv, &errs), 1);
    cr_assert(strstr(buf_head(&errs), "no listener"));
    buf_deinit(&errs);
    lb_config_deinit(&c);
}

Test(lb_config, check_path_through_core)
{
    /* what `scaleout check` does: core conf_load_file on the table */
    const char *p = write_tmp("role lb\nlisten 127.0.0.1:1\npool x\n  backend 127.0.0.1:2\n  balance bogus\n");
    struct lb_config *c = xcalloc(1, sizeof *c);
    conf_defaults(&lb_conf_table, c);
    struct buf errs;
    buf_init(&errs);
    int n = conf_load_file(&lb_conf_table, c, p, &errs);
    buf_putc(&errs, '\0');
    unlink(p);
    cr_assert_eq(n, 1);
    cr_assert(strstr(buf_head(&errs), ":5: unknown algorithm 'bogus'"), "%s", buf_head(&errs));
    buf_deinit(&errs);
    lb_config_deinit(c);
    xfree(c);
}
