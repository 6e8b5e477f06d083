/*
 * test_script.c — unit tests of kv/script.c and kv/function.c through
 * kv_call() on an in-memory server (no sockets, as test_multi.c): SHA1 hex,
 * the Lua ─▶ RESP conversions, redis.call through the fake client in the
 * caller's database, Redis's error texts, the read-only globals, SCRIPT
 * LOAD/EXISTS/FLUSH, FUNCTION LOAD and FCALL, and teardown of the Lua state
 * (leaks show under `make asan`).
 */
#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/util.h"
#include "kv/acl.h"
#include "kv/db.h"
#include "kv/multi.h"
#include "kv/script_int.h"
#include "kv/server.h"

static struct kv_server *srv;
static struct kv_client *cl;
static uv_loop_t loop;

static void server_up(void)
{
    srv = xcalloc(1, sizeof *srv);
    conf_defaults(&kv_conf_table, &srv->cfg);
    pthread_mutex_init(&srv->lock, NULL);
    kv_db_init(&srv->db);
    uv_loop_init(&loop);
    uv_timer_init(&loop, &srv->cron);
    srv->nworkers = 1;
    srv->workers = xcalloc(1, sizeof *srv->workers);
    srv->workers[0].srv = srv;
    kv_config_apply(srv);
    kv_db_set_now(&srv->db, util_time_ms());
    cl = xcalloc(1, sizeof *cl);
    cl->srv = srv;
    cl->w = &srv->workers[0];
    cl->proto = 2;
    cl->authed = true;
    cl->last_cmd = -1;
    cl->fd = -1;
    buf_init(&cl->in);
    buf_init(&cl->out);
    buf_init(&cl->wbuf);
}

static void server_down(void)
{
    buf_deinit(&cl->in);
    buf_deinit(&cl->out);
    buf_deinit(&cl->wbuf);
    xfree(cl);
    kv_script_free(srv->script);
    kv_db_deinit(&srv->db);
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

/* Run the command given as NULL-terminated strings; return the reply bytes. */
static const char *runv(const char *first, ...)
{
    static char out[4096];
    struct resp_arg argv[16];
    int argc = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 16; a = va_arg(ap, const char *))
        argv[argc++] = (struct resp_arg){a, strlen(a)};
    va_end(ap);
    buf_consume(&cl->out, buf_pending(&cl->out));
    kv_call(cl, argc, argv);
    snprintf(out, sizeof out, "%.*s", (int)buf_pending(&cl->out), buf_head(&cl->out));
    return out;
}

#define EVAL0(body) runv("EVAL", body, "0", NULL)

TestSuite(script, .init = server_up, .fini = server_down);

Test(script, sha1hex)
{
    char hex[41];
    kv_lua_sha1hex("", 0, hex);
    cr_expect_str_eq(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    kv_lua_sha1hex("abc", 3, hex);
    cr_expect_str_eq(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
}

Test(script, conversions)
{
    cr_expect_str_eq(EVAL0("return 3.99"), ":3\r\n");
    cr_expect_str_eq(EVAL0("return 1e20"), ":-9223372036854775808\r\n");
    cr_expect_str_eq(EVAL0("return {1,'x',nil,5}"), "*2\r\n:1\r\n$1\r\nx\r\n");
    cr_expect_str_eq(EVAL0("return {ok='FINE'}"), "+FINE\r\n");
    cr_expect_str_eq(EVAL0("return {err='MY bad'}"), "-MY bad\r\n");
    cr_expect_str_eq(EVAL0("return false"), "$-1\r\n");
    cr_expect_str_eq(EVAL0("return true"), ":1\r\n");
    cr_expect_str_eq(EVAL0("local t = {} t[1] = t return t"), EVAL0("local t = {} t[1] = t return t"));
}

Test(script, call_uses_the_callers_database)
{
    cr_expect_str_eq(runv("EVAL", "return redis.call('set', KEYS[1], ARGV[1])", "1", "k", "v", NULL), "+OK\r\n");
    cr_expect_str_eq(runv("GET", "k", NULL), "$1\r\nv\r\n");
    cr_expect_str_eq(EVAL0("return redis.call('get', 'k')"), "$1\r\nv\r\n");
    cr_expect_str_eq(EVAL0("local v = redis.call('get', 'none') return type(v)"), "$7\r\nboolean\r\n");
    cr_expect_str_eq(EVAL0("return redis.pcall('incr', 'k')['err']"),
                     "$43\r\nERR value is not an integer or out of range\r\n");
}

Test(script, errors_and_sandbox)
{
    cr_expect_str_eq(EVAL0("return x"), "-ERR user_script:1: Script attempted to access nonexistent global variable "
                                        "'x' script: 03c387736bb5cc009ff35151572cee04677aa374, on @user_script:1.\r\n");
    cr_expect_str_eq(EVAL0("x = 1"), "-ERR user_script:1: Attempt to modify a readonly table script: "
                                     "34bce5f775de97f557a34088509c8bfe1ea17e52, on @user_script:1.\r\n");
    cr_expect(strstr(EVAL0("return redis.call('multi')"), "This Redis command is not allowed from script"));
    cr_expect(strstr(EVAL0("retur"), "-ERR Error compiling script (new function): user_script:1:") != NULL);
    cr_expect_str_eq(runv("EVAL", "return 1", "2", "a", NULL),
                     "-ERR Number of keys can't be greater than number of args\r\n");
}

Test(script, script_cache)
{
    cr_expect_str_eq(runv("SCRIPT", "LOAD", "return 7", NULL), "$40\r\n59b6ab2fbe0ee4b25733de0f62e6cda4899ef8e9\r\n");
    cr_expect_str_eq(runv("EVALSHA", "59b6ab2fbe0ee4b25733de0f62e6cda4899ef8e9", "0", NULL), ":7\r\n");
    cr_expect_eq(kv_script_cached(srv, NULL), 1);
    cr_expect_str_eq(runv("SCRIPT", "FLUSH", NULL), "+OK\r\n");
    cr_expect_str_eq(runv("SCRIPT", "EXISTS", "59b6ab2fbe0ee4b25733de0f62e6cda4899ef8e9", NULL), "*1\r\n:0\r\n");
    cr_expect_str_eq(runv("EVALSHA", "59b6ab2fbe0ee4b25733de0f62e6cda4899ef8e9", "0", NULL),
                     "-NOSCRIPT No matching script. Please use EVAL.\r\n");
}

Test(script, functions)
{
    cr_expect_str_eq(runv("FUNCTION", "LOAD",
                          "#!lua name=l\nredis.register_function('f', function(k, a) return a[1] end)", NULL),
                     "$1\r\nl\r\n");
    cr_expect_str_eq(runv("FCALL", "f", "0", "hi", NULL), "$2\r\nhi\r\n");
    long long libs = 0;
    cr_expect_eq(kv_script_functions(srv, &libs, NULL), 1);
    cr_expect_eq(libs, 1);
    cr_expect_str_eq(runv("FCALL_RO", "f", "0", NULL),
                     "-ERR Can not execute a script with write flag using *_ro command.\r\n");
    cr_expect_str_eq(runv("FUNCTION", "DELETE", "l", NULL), "+OK\r\n");
    cr_expect_str_eq(runv("FCALL", "f", "0", NULL), "-ERR Function not found\r\n");
}
