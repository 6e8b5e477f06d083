/*
 * test_multi.c — unit tests of kv/multi.c and the db's on_modify hook:
 *
 *   db.c      on_modify fires for every kind of change (add, replace, delete,
 *             TTL set/removed, string resize, lazy expiry) and db_modified()
 *   multi.c   through kv_call() on an in-memory server with two clients (no
 *             sockets, as fuzz/fuzz_kv.c): queued commands are copies (the
 *             input they came from may be gone), WATCH broken by another
 *             client's in-place change and not by a no-op, EXECABORT after a
 *             queue-time error, RESET and client teardown free everything
 *             (leaks show under `make asan`).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/util.h"
#include "kv/acl.h"
#include "kv/db.h"
#include "kv/multi.h"
#include "kv/server.h"

/* ---- the hook on the keyspace ------------------------------------------------ */

static int hook_calls;
static char hook_last[64];

static void count_hook(void *arg, const char *key, size_t klen)
{
    (void)arg;
    hook_calls++;
    snprintf(hook_last, sizeof hook_last, "%.*s", (int)klen, key);
}

Test(modify_hook, every_change_signals)
{
    struct kv_db db;
    kv_db_init(&db);
    kv_db_set_now(&db, 1000);
    db.on_modify = count_hook;
    kv_db_add(&db, kv_obj_new_string("a", 1, "v", 1, -1));
    cr_expect_eq(hook_calls, 1);
    cr_expect_str_eq(hook_last, "a");
    kv_db_set(&db, kv_obj_new_string("a", 1, "w", 1, -1), false);   /* replace */
    cr_expect_eq(hook_calls, 2);
    struct kv_obj **ref = kv_db_lookup_ref(&db, "a", 1, LOOKUP_WRITE);
    kv_db_set_expire(&db, ref, 5000);
    cr_expect_eq(hook_calls, 3);
    kv_db_set_expire(&db, ref, -1);
    cr_expect_eq(hook_calls, 4);
    kv_db_set_expire(&db, ref, -1);                                 /* no TTL: no change */
    cr_expect_eq(hook_calls, 4);
    kv_db_string_resize(&db, ref, 10);
    cr_expect_eq(hook_calls, 5);
    db_modified(&db, "b", 1);
    cr_expect_eq(hook_calls, 6);
    cr_expect_str_eq(hook_last, "b");
    cr_expect(kv_db_delete(&db, "a", 1));
    cr_expect_eq(hook_calls, 7);
    /* lazy expiry is a change too */
    kv_db_add(&db, kv_obj_new_string("t", 1, "v", 1, 1500));
    kv_db_set_now(&db, 2000);
    hook_calls = 0;
    cr_expect_null(db_lookup(&db, "t", 1, 0));
    cr_expect_eq(hook_calls, 1);
    cr_expect_str_eq(hook_last, "t");
    kv_db_deinit(&db);
}

/* ---- transactions through kv_call -------------------------------------------- */

static struct kv_server *srv;
static uv_loop_t loop;

static void server_up(void)
{
    srv = xcalloc(1, sizeof *srv);
    conf_defaults(&kv_conf_table, &srv->cfg);
    pthread_mutex_init(&srv->lock, NULL);
    kv_db_init(&srv->db);
    srv->db.on_modify = kv_watch_on_modify;
    srv->db.on_modify_arg = srv;
    uv_loop_init(&loop);
    uv_timer_init(&loop, &srv->cron);
    srv->nworkers = 1;
    srv->workers = xcalloc(1, sizeof *srv->workers);
    srv->workers[0].srv = srv;
    kv_config_apply(srv);
    kv_db_set_now(&srv->db, util_time_ms());
}

static struct kv_client *client_new(void)
{
    struct kv_client *c = xcalloc(1, sizeof *c);
    c->srv = srv;
    c->w = &srv->workers[0];
    c->proto = 2;
    c->authed = true;
    c->last_cmd = -1;
    c->fd = -1;
    buf_init(&c->in);
    buf_init(&c->out);
    buf_init(&c->wbuf);
    return c;
}

static void client_free(struct kv_client *c)
{
    kv_multi_reset(c);
    buf_deinit(&c->in);
    buf_deinit(&c->out);
    buf_deinit(&c->wbuf);
    xfree(c);
}

static void server_down(void)
{
    kv_db_deinit(&srv->db);
    kv_watch_free(srv->watch);
    conf_free(&kv_conf_table, &srv->cfg);
    uv_close((uv_handle_t *)&srv->cron, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    xfree(srv->workers);
    pthread_mutex_destroy(&srv->lock);
    kv_acl_free(srv->acl); /* made by kv_config_apply */
    xfree(srv->acl_requirepass);
    xfree(srv);
}

/* Run one space-separated command from a scratch buffer that is then wiped
 * (so queued commands must own copies); return the reply bytes. */
static const char *run(struct kv_client *c, const char *line)
{
    static char out[4096];
    char scratch[512];
    struct resp_arg argv[16];
    int argc = 0;
    snprintf(scratch, sizeof scratch, "%s", line);
    for (char *p = strtok(scratch, " "); p && argc < 16; p = strtok(NULL, " "))
        argv[argc++] = (struct resp_arg){p, strlen(p)};
    buf_consume(&c->out, buf_pending(&c->out));
    kv_call(c, argc, argv);
    memset(scratch, 'X', sizeof scratch);
    snprintf(out, sizeof out, "%.*s", (int)buf_pending(&c->out), buf_head(&c->out));
    return out;
}

TestSuite(multi, .init = server_up, .fini = server_down);

Test(multi, queued_commands_are_copies)
{
    struct kv_client *a = client_new();
    cr_expect_str_eq(run(a, "MULTI"), "+OK\r\n");
    cr_expect_str_eq(run(a, "SET key value"), "+QUEUED\r\n");
    cr_expect_str_eq(run(a, "GET key"), "+QUEUED\r\n");
    cr_expect_str_eq(run(a, "EXEC"), "*2\r\n+OK\r\n$5\r\nvalue\r\n");
    cr_expect_str_eq(run(a, "EXEC"), "-ERR EXEC without MULTI\r\n");
    client_free(a);
}

Test(multi, watch_in_place_change_and_noop)
{
    struct kv_client *a = client_new(), *b = client_new();
    run(a, "SADD s m");
    cr_expect_str_eq(run(a, "WATCH s"), "+OK\r\n");
    run(b, "SADD s m");                                 /* nothing added: no change */
    run(a, "MULTI");
    run(a, "SCARD s");
    cr_expect_str_eq(run(a, "EXEC"), "*1\r\n:1\r\n");
    run(a, "WATCH s");
    run(b, "SADD s n");                                 /* in place: a change */
    run(a, "MULTI");
    run(a, "SCARD s");
    cr_expect_str_eq(run(a, "EXEC"), "*-1\r\n");
    /* a client that goes away while watching leaves no watcher behind */
    run(b, "WATCH s");
    client_free(b);
    run(a, "SADD s o");
    client_free(a);
}

Test(multi, execabort_and_reset)
{
    struct kv_client *a = client_new();
    run(a, "MULTI");
    cr_expect_str_eq(run(a, "SET k"), "-ERR wrong number of arguments for 'set' command\r\n");
    run(a, "SET k v");
    cr_expect_str_eq(run(a, "EXEC"), "-EXECABORT Transaction discarded because of previous errors.\r\n");
    cr_expect_null(db_lookup(&srv->db, "k", 1, 0));
    run(a, "WATCH k");
    run(a, "MULTI");
    run(a, "SET k v");
    cr_expect_str_eq(run(a, "RESET"), "+RESET\r\n");
    cr_expect_null(a->mx);
    cr_expect_str_eq(run(a, "EXEC"), "-ERR EXEC without MULTI\r\n");
    client_free(a);
}
