/*
 * test_pubsub.c — unit tests of kv/pubsub.c:
 *
 *   flags     notify-keyspace-events letters to bits and back to Redis's
 *             normalised string ("KEA" -> "AKE"), a bad letter refused
 *   commands  through kv_call() on an in-memory server (no sockets, no
 *             threads): a message to another client waits in its pending
 *             buffer until drained, one to the publishing client goes
 *             straight into its output before the reply, patterns match with
 *             the glob matcher, the pubsub hard limit marks a subscriber,
 *             keyspace events reach a pattern subscriber, client teardown
 *             frees every subscription (leaks show under `make asan`).
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
#include "kv/pubsub.h"
#include "kv/server.h"

Test(notify_flags, parse_and_format_as_redis)
{
    char s[16];
    int f = kv_notify_parse("KEA", 3);
    cr_assert_eq(f, KV_NOTIFY_KEYSPACE | KV_NOTIFY_KEYEVENT | KV_NOTIFY_ALL);
    kv_notify_format(f, s);
    cr_expect_str_eq(s, "AKE");
    kv_notify_format(kv_notify_parse("Kgx$lshzetdnm", 13), s);
    cr_expect_str_eq(s, "AKm");
    kv_notify_format(kv_notify_parse("nE", 2), s);
    cr_expect_str_eq(s, "nE");
    kv_notify_format(kv_notify_parse("E$l", 3), s);
    cr_expect_str_eq(s, "$lE");
    kv_notify_format(0, s);
    cr_expect_str_eq(s, "");
    cr_expect_eq(kv_notify_parse("KEQ", 3), -1);
    cr_expect_eq(kv_notify_parse("", 0), 0);
}

static struct kv_server *srv;
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
    srv->pubsub = kv_pubsub_new(srv, 1);
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
    kv_pubsub_client_gone(c);
    buf_deinit(&c->in);
    buf_deinit(&c->out);
    buf_deinit(&c->wbuf);
    xfree(c);
}

static void server_down(void)
{
    kv_pubsub_free(srv->pubsub);
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

/* Run one space-separated command; return the bytes it added to c's output. */
static const char *run(struct kv_client *c, const char *line)
{
    static char out[8192];
    char scratch[512];
    struct resp_arg argv[16];
    int argc = 0;
    snprintf(scratch, sizeof scratch, "%s", line);
    for (char *p = strtok(scratch, " "); p && argc < 16; p = strtok(NULL, " "))
        argv[argc++] = (struct resp_arg){p, strlen(p)};
    buf_consume(&c->out, buf_pending(&c->out));
    kv_call(c, argc, argv);
    snprintf(out, sizeof out, "%.*s", (int)buf_pending(&c->out), buf_head(&c->out));
    return out;
}

/* What waits for c (moved into its output, as its worker would). */
static const char *pending(struct kv_client *c)
{
    static char out[8192];
    buf_consume(&c->out, buf_pending(&c->out));
    kv_pubsub_drain(c);
    snprintf(out, sizeof out, "%.*s", (int)buf_pending(&c->out), buf_head(&c->out));
    return out;
}

TestSuite(pubsub, .init = server_up, .fini = server_down);

Test(pubsub, publish_to_another_client_and_to_itself)
{
    struct kv_client *a = client_new(), *b = client_new();
    cr_expect_str_eq(run(b, "SUBSCRIBE ch"), "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    cr_expect_str_eq(run(b, "GET x"), "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
                                      "QUIT / RESET are allowed in this context\r\n");
    cr_expect_str_eq(run(a, "PUBLISH ch hi"), ":1\r\n");
    cr_expect_str_eq(pending(b), "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
    cr_expect_str_eq(pending(b), "");
    /* RESP3 self-publish: the push comes first, then the reply */
    b->proto = 3;
    cr_expect_str_eq(run(b, "PUBLISH ch me"), ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nme\r\n:1\r\n");
    /* messages published before b's next command come before its reply */
    run(a, "PUBLISH ch early");
    cr_expect_str_eq(run(b, "UNSUBSCRIBE ch"),
                     ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nearly\r\n>3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n");
    cr_expect_str_eq(run(a, "PUBLISH ch gone"), ":0\r\n");
    client_free(a);
    client_free(b);
}

Test(pubsub, patterns_counts_and_teardown)
{
    struct kv_client *a = client_new(), *b = client_new();
    run(b, "PSUBSCRIBE news.* n[aeiou]ws.x");
    cr_expect_str_eq(run(a, "PUBSUB NUMPAT"), ":2\r\n");
    cr_expect_str_eq(run(a, "PUBLISH news.x m"), ":2\r\n");
    cr_expect_str_eq(run(a, "PUBLISH nows.y m"), ":0\r\n");
    run(b, "SUBSCRIBE news.x");
    cr_expect_str_eq(run(a, "PUBSUB NUMSUB news.x other"), "*4\r\n$6\r\nnews.x\r\n:1\r\n$5\r\nother\r\n:0\r\n");
    cr_expect_str_eq(run(a, "PUBLISH news.x m"), ":3\r\n");
    client_free(b);
    cr_expect_str_eq(run(a, "PUBSUB NUMPAT"), ":0\r\n");
    cr_expect_str_eq(run(a, "PUBLISH news.x m"), ":0\r\n");
    cr_expect_str_eq(run(a, "PUBSUB CHANNELS"), "*0\r\n");
    client_free(a);
}

Test(pubsub, hard_limit_marks_subscriber)
{
    struct kv_client *a = client_new(), *b = client_new();
    srv->cfg.obl_pubsub.hard = 1000;
    run(b, "SUBSCRIBE ch");
    for (int i = 0; i < 100; i++) {
        const char *r = run(a, "PUBLISH ch 0123456789012345678901234567890123456789");
        cr_expect_str_eq(r, ":1\r\n"); /* still a receiver: it is closed by its worker */
    }
    /* what waits is bounded by the limit: the over-limit messages were dropped */
    cr_expect_leq(strlen(pending(b)), 1000);
    client_free(a);
    client_free(b);
}

Test(pubsub, keyspace_events_reach_pattern_subscribers)
{
    struct kv_client *a = client_new(), *b = client_new();
    srv->cfg.notify_keyspace_events = kv_notify_parse("KEA", 3);
    run(b, "PSUBSCRIBE __keyevent@0__:*");
    cr_expect_str_eq(run(a, "LPUSH l x"), ":1\r\n");
    cr_expect_str_eq(pending(b), "*4\r\n$8\r\npmessage\r\n$16\r\n__keyevent@0__:*\r\n$20\r\n__keyevent@0__:lpush\r\n"
                                 "$1\r\nl\r\n");
    run(a, "RPOP l");
    cr_expect_str_eq(pending(b), "*4\r\n$8\r\npmessage\r\n$16\r\n__keyevent@0__:*\r\n$19\r\n__keyevent@0__:rpop\r\n"
                                 "$1\r\nl\r\n*4\r\n$8\r\npmessage\r\n$16\r\n__keyevent@0__:*\r\n$18\r\n"
                                 "__keyevent@0__:del\r\n$1\r\nl\r\n");
    srv->cfg.notify_keyspace_events = 0;
    run(a, "LPUSH l x");
    cr_expect_str_eq(pending(b), "");
    client_free(a);
    client_free(b);
}
