/*
 * test_sentinel.c — sentinel/config (the `sentinel ...` directives, file and
 * flag forms, errors), sentinel/link's reply decoder (shapes, truncation,
 * garbage) and the per-epoch vote of sentinel/monitor (first request in an
 * epoch wins, a higher epoch votes again, an old epoch changes nothing).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "sentinel/sentinel.h"

static int load_args(struct snt_config *c, int argc, char **argv, struct buf *errs)
{
    memset(c, 0, sizeof *c);
    conf_defaults(&snt_conf_table, c);
    buf_init(errs);
    return conf_load_args(&snt_conf_table, c, argc, argv, errs);
}

Test(sentinel_config, monitor_and_settings_as_flags)
{
    char *argv[] = {"--port", "26380", "--sentinel", "monitor", "mymaster", "127.0.0.1", "6379", "2",
                    "--sentinel", "down-after-milliseconds", "mymaster", "1500",
                    "--sentinel", "failover-timeout", "mymaster", "9000",
                    "--sentinel", "parallel-syncs", "mymaster", "3",
                    "--sentinel", "announce-ip", "10.0.0.1", "--sentinel", "announce-port", "26999"};
    struct snt_config c;
    struct buf errs;
    cr_assert_eq(load_args(&c, (int)(sizeof argv / sizeof argv[0]), argv, &errs), 0, "%.*s",
                 (int)buf_pending(&errs), buf_head(&errs));
    cr_assert_eq(c.port, 26380);
    cr_assert_not_null(c.masters);
    cr_assert_str_eq(c.masters->name, "mymaster");
    cr_assert_str_eq(c.masters->host, "127.0.0.1");
    cr_assert_eq(c.masters->port, 6379);
    cr_assert_eq(c.masters->quorum, 2);
    cr_assert_eq(c.masters->down_after_ms, 1500);
    cr_assert_eq(c.masters->failover_timeout_ms, 9000);
    cr_assert_eq(c.masters->parallel_syncs, 3);
    cr_assert_str_eq(c.announce_ip, "10.0.0.1");
    cr_assert_eq(c.announce_port, 26999);
    buf_deinit(&errs);
    snt_config_free(&c);
}

Test(sentinel_config, errors_are_reported)
{
    char *argv[] = {"--sentinel", "down-after-milliseconds", "nope", "1000",
                    "--sentinel", "monitor", "m", "127.0.0.1", "6379", "0",
                    "--sentinel", "monitor", "m", "127.0.0.1", "99999", "1",
                    "--sentinel", "bogus", "x"};
    struct snt_config c;
    struct buf errs;
    cr_assert_eq(load_args(&c, (int)(sizeof argv / sizeof argv[0]), argv, &errs), 4);
    buf_putc(&errs, 0);
    const char *e = buf_head(&errs);
    cr_assert(strstr(e, "No such master with specified name."), "%s", e);
    cr_assert(strstr(e, "Quorum must be 1 or greater."), "%s", e);
    cr_assert(strstr(e, "bad port '99999'"), "%s", e);
    cr_assert(strstr(e, "Unrecognized sentinel configuration statement: 'bogus'"), "%s", e);
    cr_assert_null(c.masters);
    buf_deinit(&errs);
    snt_config_free(&c);
}

Test(sentinel_config, duplicate_master)
{
    char *argv[] = {"--sentinel", "monitor", "m", "127.0.0.1", "6379", "1", "--sentinel", "monitor", "m", "127.0.0.1", "6380", "1"};
    struct snt_config c;
    struct buf errs;
    cr_assert_eq(load_args(&c, 12, argv, &errs), 1);
    buf_putc(&errs, 0);
    cr_assert(strstr(buf_head(&errs), "Duplicated master name."));
    buf_deinit(&errs);
    snt_config_free(&c);
}

Test(sentinel_reply, decodes_nested_replies)
{
    const char *r = "*3\r\n:1\r\n$40\r\n0123456789012345678901234567890123456789\r\n*2\r\n+OK\r\n$-1\r\n";
    struct snt_val *v = snt_val_decode(r, strlen(r));
    cr_assert_not_null(v);
    cr_assert_eq(v->type, '*');
    cr_assert_eq(v->n, 3);
    cr_assert_eq(v->elems[0].i, 1);
    cr_assert_eq(v->elems[1].len, 40);
    cr_assert_eq(v->elems[2].n, 2);
    cr_assert(snt_val_is(&v->elems[2].elems[0], "OK"));
    cr_assert_eq(v->elems[2].elems[1].type, '_');
    snt_val_free(v);
}

Test(sentinel_reply, truncated_and_garbage_are_refused)
{
    const char *bad[] = {"*2\r\n:1\r\n", "$10\r\nabc\r\n", ":12x\r\n", "?what\r\n", "*99999999\r\n", "+OK"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_null(snt_val_decode(bad[i], strlen(bad[i])), "%s", bad[i]);
}

static struct snt_master *vote_master(void)
{
    struct snt_master *m = xcalloc(1, sizeof *m);
    m->name = "mymaster";
    m->self.kind = SNT_MASTER;
    snprintf(m->self.host, sizeof m->self.host, "127.0.0.1");
    m->self.port = 6379;
    snprintf(snt.myid, sizeof snt.myid, "%040d", 0);
    snt.current_epoch = 0;
    return m;
}

Test(sentinel_vote, first_request_in_an_epoch_wins)
{
    struct snt_master *m = vote_master();
    const char *a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", *b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    long long e;
    cr_assert_str_eq(snt_vote(m, 1, a, &e), a);
    cr_assert_eq(e, 1);
    cr_assert_eq(snt.current_epoch, 1);
    /* same epoch: the vote stays with a */
    cr_assert_str_eq(snt_vote(m, 1, b, &e), a);
    cr_assert_eq(e, 1);
    /* an older epoch changes nothing */
    cr_assert_str_eq(snt_vote(m, 0, b, &e), a);
    cr_assert_eq(e, 1);
    /* a newer epoch: a new vote */
    cr_assert_str_eq(snt_vote(m, 2, b, &e), b);
    cr_assert_eq(e, 2);
    cr_assert_eq(snt.current_epoch, 2);
    xfree(m);
}

Test(sentinel_config, written_back_lines_load)
{
    char *argv[] = {"--sentinel", "monitor", "m", "127.0.0.1", "6379", "2",
                    "--sentinel", "config-epoch", "m", "7",
                    "--sentinel", "known-replica", "m", "127.0.0.1", "6380",
                    "--sentinel", "known-sentinel", "m", "127.0.0.1", "26380", "0123456789012345678901234567890123456789",
                    "--sentinel", "known-sentinel", "m", "127.0.0.1", "26381", "short",
                    "--sentinel", "current-epoch", "9"};
    struct snt_config c;
    struct buf errs;
    cr_assert_eq(load_args(&c, (int)(sizeof argv / sizeof argv[0]), argv, &errs), 1);
    cr_assert_eq(c.masters->config_epoch, 7);
    cr_assert_eq(c.masters->nknown, 2);
    cr_assert_str_eq(c.masters->known[0], "r 127.0.0.1 6380");
    cr_assert_str_eq(c.masters->known[1], "s 127.0.0.1 26380 0123456789012345678901234567890123456789");
    cr_assert_eq(c.current_epoch, 9);
    buf_deinit(&errs);
    snt_config_free(&c);
}
